"""Learning-rate schedules give Keras 3's rate at every step (tests/data: recorded from Keras)."""

import json
import math
import os

import numpy as np
import pytest

from tinynet.optimizers import schedules
from tinynet.optimizers.schedules import (
    CosineDecay,
    ExponentialDecay,
    InverseTimeDecay,
    PiecewiseConstantDecay,
    PolynomialDecay,
)

REFERENCE = os.path.join(os.path.dirname(__file__), "data", "keras_callbacks_reference.json")

with open(REFERENCE) as file:
    KERAS = json.load(file)


def case_id(case):
    return case["class"] + "-" + "-".join(f"{k}={v}" for k, v in case["kwargs"].items())


@pytest.mark.parametrize("case", KERAS["schedules"], ids=case_id)
def test_every_step_gives_the_rate_keras_gives(case):
    schedule = schedules.SCHEDULES[case["class"]](**case["kwargs"])
    ours = [schedule(step) for step in range(KERAS["steps"])]
    # Keras computes in float32, these in float64: equal to float32 round-off, relative to
    # the schedule's largest rate (float32's 6e-8 of 0.1; a cosine near 0 keeps that error)
    scale = max(case["values"])
    assert ours == pytest.approx(case["values"], rel=1e-6, abs=1e-7 * scale)


@pytest.mark.parametrize("case", KERAS["schedules"], ids=case_id)
def test_an_array_of_steps_gives_keras_rates_for_a_plot(case):
    # the "Overfit and underfit" tutorial plots lr_schedule(np.linspace(0, 100000)): Keras's
    # schedules take an array of steps; each rate is the one schedule(step) gives
    schedule = schedules.SCHEDULES[case["class"]](**case["kwargs"])
    steps = np.arange(KERAS["steps"])
    rates = schedule(steps)
    assert isinstance(rates, np.ndarray) and rates.shape == steps.shape
    scale = max(case["values"])
    assert rates == pytest.approx(case["values"], rel=1e-6, abs=1e-7 * scale)
    assert rates.tolist() == [schedule(int(step)) for step in steps]
    grid = schedule(np.linspace(0, 9, 8).reshape(2, 4))  # float steps, any shape
    assert grid.shape == (2, 4) and grid[1, 3] == schedule(9.0)
    assert schedule([0, 1]).tolist() == [schedule(0), schedule(1)]
    assert schedule(np.array(3)) == schedule(3) and isinstance(schedule(np.array(3)), float)


def test_an_array_of_steps_is_checked_like_one_step():
    schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    with pytest.raises(ValueError, match=r"ExponentialDecay\(step\)"):
        schedule(np.array([0.0, -1.0]))
    for bad in (np.array(["a"]), [[0, 1], [2]]):
        with pytest.raises(TypeError, match="steps must be a number or an array of numbers"):
            schedule(bad)


@pytest.mark.parametrize("case", KERAS["schedules"], ids=case_id)
def test_get_config_is_the_dict_keras_writes_and_rebuilds_the_schedule(case):
    cls = schedules.SCHEDULES[case["class"]]
    schedule = cls(**case["kwargs"])
    assert schedule.get_config() == case["config"]
    rebuilt = cls.from_config(schedule.get_config())
    assert [rebuilt(step) for step in range(5)] == [schedule(step) for step in range(5)]


def test_keras_uses_schedule_of_t_minus_1_on_update_t():
    # read back from a real Keras fit: plain SGD on (w - 1)^2, one update per epoch
    recorded = KERAS["schedule_in_sgd"]
    schedule = ExponentialDecay(**recorded["schedule"])
    expected = [schedule(t - 1) for t in range(1, len(recorded["learning_rate_of_update"]) + 1)]
    assert recorded["learning_rate_of_update"] == pytest.approx(expected, rel=1e-5)


def test_exponential_decay_halves_every_decay_steps():
    schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    assert schedule(0) == 0.1
    assert schedule(10) == pytest.approx(0.05)
    assert schedule(5) == pytest.approx(0.1 * math.sqrt(0.5))


def test_staircase_drops_only_at_whole_multiples():
    schedule = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5, staircase=True)
    assert [schedule(s) for s in (0, 9, 10, 19, 20)] == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.025])


def test_inverse_time_decay_is_one_over_a_growing_count():
    schedule = InverseTimeDecay(1.0, decay_steps=1, decay_rate=1.0)
    assert [schedule(s) for s in (0, 1, 3)] == pytest.approx([1.0, 0.5, 0.25])


def test_piecewise_boundary_step_keeps_the_rate_before_it():
    schedule = PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001])
    assert [schedule(s) for s in (0, 10, 11, 20, 21)] == [0.1, 0.1, 0.01, 0.01, 0.001]


def test_polynomial_decay_reaches_the_end_rate_and_stays():
    schedule = PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.01)
    assert schedule(5) == pytest.approx(0.055)
    assert schedule(10) == schedule(50) == pytest.approx(0.01)


def test_cosine_decay_warms_up_linearly_then_follows_half_a_cosine():
    schedule = CosineDecay(0.0, decay_steps=10, warmup_target=0.1, warmup_steps=5)
    assert [schedule(s) for s in (0, 1, 5)] == pytest.approx([0.0, 0.02, 0.1])
    assert schedule(10) == pytest.approx(0.05)  # half-way down the cosine
    assert schedule(15) == schedule(100) == pytest.approx(0.0)


@pytest.mark.parametrize("make, error, words", [
    (lambda: ExponentialDecay(0.1, decay_steps=0, decay_rate=0.5), ValueError, "decay_steps"),
    (lambda: ExponentialDecay("0.1", 10, 0.5), TypeError, "initial_learning_rate"),
    (lambda: PiecewiseConstantDecay([10], [0.1]), ValueError, "one entry fewer"),
    (lambda: PiecewiseConstantDecay([20, 10], [0.1, 0.01, 0.001]), ValueError, "increase"),
    (lambda: CosineDecay(0.1, 10, alpha=2.0), ValueError, "alpha"),
    (lambda: ExponentialDecay(0.1, 10, 0.5)(-1), ValueError, "step"),
])
def test_bad_arguments_are_named(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_tinynet_optimizers_use_schedule_of_t_minus_1_on_update_t():
    from tinynet.optimizers import SGD

    schedule = ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    optimizer = SGD(learning_rate=schedule)
    weight = np.zeros(1)
    moves = []
    for _ in range(4):
        before = weight.copy()
        optimizer.apply(weight, np.ones(1))  # gradient 1: the weight moves by -lr
        moves.append(float(before[0] - weight[0]))
    assert moves == pytest.approx([schedule(0), schedule(1), schedule(2), schedule(3)])


def test_an_optimizer_with_a_schedule_reports_its_current_rate_as_keras_does():
    from tinynet.optimizers import SGD
    from tinynet.optimizers.schedules import ExponentialDecay

    schedule = ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    optimizer = SGD(learning_rate=schedule)
    assert optimizer.schedule is schedule
    assert float(optimizer.learning_rate) == pytest.approx(0.1)
    optimizer.iterations = 2
    assert float(optimizer.learning_rate) == pytest.approx(0.025)
    with pytest.raises(TypeError, match="schedule"):
        optimizer.learning_rate = 0.01  # Keras refuses this too
    assert SGD(0.01).schedule is None


# CosineDecayRestarts(0.1, 10, **settings)(step) printed by Keras 3.15.1 (torch backend,
# float32) at these steps
SGDR_STEPS = [0, 1, 5, 9, 10, 11, 25, 29, 30, 31, 69, 70, 100, 1000]
SGDR_KERAS = {
    (): [0.1, 0.097552828, 0.049999997, 0.002447176, 0.1, 0.09938442, 0.014644662,
         0.00061558187, 0.1, 0.099845864, 0.00015413463, 0.1, 0.069134168, 0.037850991],
    (("t_mul", 1.0),): [0.1, 0.097552828, 0.049999997, 0.002447176, 0.1, 0.097552828,
                        0.049999997, 0.0024471672, 0.1, 0.097552828, 0.0024471672, 0.1, 0.1,
                        0.1],
    (("t_mul", 1.5), ("m_mul", 0.8), ("alpha", 0.1)): [
        0.1, 0.097797543, 0.054999996, 0.012202458, 0.082000002, 0.08121331, None,
        0.063223787, 0.060862083, 0.058070969, 0.023424525, 0.02152, 0.035732545,
        0.013242917],
    (("t_mul", 3.0), ("m_mul", 0.5)): [
        0.1, 0.097552828, 0.049999997, 0.002447176, 0.050000001, 0.049863048, 0.024999999,
        0.01483158, 0.012499998, 0.01030537, 0.01912399, 0.018750001, 0.0062499992,
        0.00098049478],
}


@pytest.mark.parametrize("settings", SGDR_KERAS)
def test_cosine_decay_restarts_equals_keras(settings):
    schedule = schedules.CosineDecayRestarts(0.1, 10, **dict(settings))
    for step, expected in zip(SGDR_STEPS, SGDR_KERAS[settings], strict=True):
        if expected is not None:
            assert schedule(step) == pytest.approx(expected, abs=2e-8)


def test_cosine_decay_restarts_restarts_at_the_start_of_each_period():
    # t_mul=1.5 from 10 steps: periods start at 0, 10, 25, 47.5; Keras 3.15.1 (float32) gives
    # 0.01 at step 25, the end of period 1, because its logarithms round down
    schedule = schedules.CosineDecayRestarts(0.1, 10, t_mul=1.5, m_mul=0.8, alpha=0.1)
    assert schedule(25) == pytest.approx(0.1 * (0.9 * 0.8 ** 2 + 0.1))
    assert schedule(24.999) == pytest.approx(0.01, abs=1e-6)
    assert schedule(47.5) == pytest.approx(0.1 * (0.9 * 0.8 ** 3 + 0.1))
    again = schedules.deserialize(schedules.serialize(schedule))
    assert isinstance(again, schedules.CosineDecayRestarts) and again(31) == schedule(31)
    assert schedule.get_config() == {"initial_learning_rate": 0.1, "first_decay_steps": 10,
                                     "t_mul": 1.5, "m_mul": 0.8, "alpha": 0.1,
                                     "name": "SGDRDecay"}
    with pytest.raises(ValueError, match="first_decay_steps"):
        schedules.CosineDecayRestarts(0.1, 0)


def test_cosine_decay_restarts_with_shrinking_periods_says_where_they_end():
    schedule = schedules.CosineDecayRestarts(0.1, 10, t_mul=0.5)  # 10 + 5 + 2.5 + ... = 20
    assert schedule(19) > 0
    with pytest.raises(ValueError, match="end after 20 steps in all; step 20 is beyond"):
        schedule(20)  # Keras 3.15.1 gives NaN here
