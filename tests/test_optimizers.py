"""Optimizers: first steps worked out by hand, and Keras 3's numbers for RMSprop, Adagrad, AdamW."""

import math
import os

import numpy as np
import pytest
from helpers import fixture_steps

from tinynet import optimizers
from tinynet.optimizers import SGD, Adam

GRADIENTS = [np.array([0.1, -0.5, 2.0]), np.array([0.2, 0.3, -1.0]),
             np.array([-0.05, 0.4, 0.5])]
START = np.array([1.0, -2.0, 0.5])


def run(optimizer, gradients=GRADIENTS, start=START):
    """Apply `optimizer` to one parameter array; return its value after each step."""
    param = start.copy()
    values = []
    for g in gradients:
        optimizer.apply([param], [g.copy()])
        values.append(param.copy())
    return values


def keras_adam_by_hand(gradients, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Keras 3's Adam written out scalar by scalar with Python floats: t counts from 1;
    m += (1 - beta_1) * (g - m); v += (1 - beta_2) * (g * g - v); param -= learning_rate *
    sqrt(1 - beta_2**t) / (1 - beta_1**t) * m / (sqrt(v) + epsilon), with epsilon outside the
    bias correction (PyTorch puts it after correcting v)."""
    values = []
    param = [float(p) for p in START]
    m = [0.0] * len(param)
    v = [0.0] * len(param)
    for t, g in enumerate(gradients, start=1):
        alpha = lr * math.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        for i, gi in enumerate(g):
            m[i] = m[i] + (1 - beta_1) * (gi - m[i])
            v[i] = v[i] + (1 - beta_2) * (gi * gi - v[i])
            param[i] = param[i] - alpha * m[i] / (math.sqrt(v[i]) + epsilon)
        values.append(np.array(param))
    return values


def test_adam_first_three_steps_follow_keras_rule():
    for mine, by_hand in zip(run(Adam()), keras_adam_by_hand(GRADIENTS), strict=True):
        np.testing.assert_allclose(mine, by_hand, rtol=1e-13, atol=1e-15)


def test_adam_with_other_hyperparameters_follows_keras_rule():
    settings = dict(learning_rate=0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-3)
    expected = keras_adam_by_hand(GRADIENTS, lr=0.01, beta_1=0.5, beta_2=0.9, epsilon=1e-3)
    for mine, by_hand in zip(run(Adam(**settings)), expected, strict=True):
        np.testing.assert_allclose(mine, by_hand, rtol=1e-13, atol=1e-15)


def test_adam_first_step_is_about_learning_rate_times_the_gradient_sign():
    # step 1: m = 0.1 g, v = 0.001 g^2, alpha = lr sqrt(0.001) / 0.1, so the step is
    # lr * g / (|g| + epsilon / sqrt(0.001)): almost lr * sign(g) for |g| >> 3e-6
    (after,) = run(Adam(), [GRADIENTS[0]])
    g = GRADIENTS[0]
    np.testing.assert_allclose(START - after, 0.001 * g / (np.abs(g) + 1e-7 / math.sqrt(1e-3)),
                               rtol=1e-12)


def test_adam_puts_epsilon_where_keras_does_not_where_pytorch_does():
    # For a tiny gradient the placement of epsilon shows: Keras (epsilon added to the
    # uncorrected sqrt(v)) takes a step of lr * g / (g + 1e-7 / sqrt(1 - beta_2)), about a
    # quarter of lr here, where PyTorch's rule would take almost exactly lr.
    g = np.array([1e-6])
    (after,) = run(Adam(), [g], start=np.array([0.0]))
    keras_step = 0.001 * 1e-6 / (1e-6 + 1e-7 / math.sqrt(1e-3))
    pytorch_step = 0.001 * 1e-6 / (1e-6 + 1e-8)
    assert -after[0] == pytest.approx(keras_step, rel=1e-9)
    assert abs(-after[0] - pytorch_step) > 0.5 * pytorch_step


def test_adam_counts_iterations_from_one():
    adam = Adam()
    run(adam)
    assert adam.iterations == len(GRADIENTS)


def test_adam_keeps_float32_parameters_float32():
    param = START.astype(np.float32)
    Adam().apply([param], [GRADIENTS[0].astype(np.float32)])
    assert param.dtype == np.float32


def test_adam_defaults_are_keras_defaults():
    adam = Adam()
    assert (adam.current_learning_rate(), adam.beta_1, adam.beta_2, adam.epsilon) == (
        0.001, 0.9, 0.999, 1e-7)
    # read as Keras reads it: its float32 variable
    assert adam.learning_rate == float(np.float32(0.001)) == 0.0010000000474974513


def test_plain_sgd_steps_against_the_gradient():
    values = run(SGD(learning_rate=0.1))
    np.testing.assert_allclose(values[0], START - 0.1 * GRADIENTS[0], rtol=1e-15)
    np.testing.assert_allclose(values[1], START - 0.1 * (GRADIENTS[0] + GRADIENTS[1]),
                               rtol=1e-15)


def test_sgd_momentum_two_steps_by_hand():
    g1, g2, _ = GRADIENTS
    values = run(SGD(learning_rate=0.1, momentum=0.9), [g1, g2])
    velocity_1 = -0.1 * g1
    velocity_2 = 0.9 * velocity_1 - 0.1 * g2
    np.testing.assert_allclose(values[0], START + velocity_1, rtol=1e-15)
    np.testing.assert_allclose(values[1], START + velocity_1 + velocity_2, rtol=1e-14)


def test_sgd_nesterov_two_steps_by_hand():
    g1, g2, _ = GRADIENTS
    values = run(SGD(learning_rate=0.1, momentum=0.9, nesterov=True), [g1, g2])
    velocity_1 = -0.1 * g1
    step_1 = 0.9 * velocity_1 - 0.1 * g1
    velocity_2 = 0.9 * velocity_1 - 0.1 * g2
    step_2 = 0.9 * velocity_2 - 0.1 * g2
    np.testing.assert_allclose(values[0], START + step_1, rtol=1e-15)
    np.testing.assert_allclose(values[1], START + step_1 + step_2, rtol=1e-14)


def test_sgd_defaults_are_keras_defaults():
    sgd = SGD()
    assert (sgd.current_learning_rate(), sgd.momentum, sgd.nesterov) == (0.01, 0.0, False)


def test_optimizer_updates_every_parameter_in_place():
    a, b = np.ones(2), np.ones((2, 2))
    SGD(learning_rate=0.5).apply([a, b], [np.ones(2), np.full((2, 2), 2.0)])
    np.testing.assert_array_equal(a, [0.5, 0.5])
    np.testing.assert_array_equal(b, np.zeros((2, 2)))


def test_optimizer_refuses_a_different_number_of_parameters_later():
    adam = Adam()
    adam.apply([np.ones(2)], [np.ones(2)])
    with pytest.raises(ValueError, match="new optimizer"):
        adam.apply([np.ones(2), np.ones(2)], [np.ones(2), np.ones(2)])


@pytest.mark.parametrize("name, cls", [("adam", Adam), ("Adam", Adam), ("sgd", SGD)])
def test_optimizers_by_string(name, cls):
    assert isinstance(optimizers.get(name), cls)


def test_unknown_optimizer_name_suggests_the_closest():
    with pytest.raises(ValueError, match="adam"):
        optimizers.get("adma")


@pytest.mark.parametrize("make", [
    lambda: Adam(learning_rate=-1.0),
    lambda: Adam(beta_1=1.0),
    lambda: SGD(momentum=1.5),
])
def test_bad_hyperparameters_raise_value_errors(make):
    with pytest.raises(ValueError):
        make()


# -- RMSprop, Adagrad, AdamW: Keras 3's numbers (tests/data/keras_issue12_reference.npz) ------

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "keras_issue12_reference.npz"))

KERAS_CASES = {
    "rmsprop": lambda: optimizers.RMSprop(),
    "rmsprop_momentum": lambda: optimizers.RMSprop(0.01, momentum=0.9),
    "rmsprop_centered": lambda: optimizers.RMSprop(0.01, centered=True),
    "adagrad": lambda: optimizers.Adagrad(),
    "adagrad_0.1": lambda: optimizers.Adagrad(0.1, initial_accumulator_value=0.5),
    "adamw": lambda: optimizers.AdamW(),
    "adamw_0.1": lambda: optimizers.AdamW(learning_rate=0.01, weight_decay=0.1),
    "adam": lambda: optimizers.Adam(),
    "sgd_momentum": lambda: optimizers.SGD(0.1, momentum=0.9),
}


@pytest.mark.parametrize("flat", [False, True])
@pytest.mark.parametrize("case", KERAS_CASES)
def test_five_steps_equal_keras_in_float32(case, flat):
    w, b = fixture_steps(KERAS_CASES[case](), REF, 5, flat)
    assert w.dtype == np.float32
    np.testing.assert_allclose(w, REF[f"opt_{case}_w"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(b, REF[f"opt_{case}_b"], rtol=1e-5, atol=1e-6)


def test_rmsprop_first_step_by_hand():
    # v = 0.1 g^2, step = lr g / sqrt(0.1 g^2 + eps) ~ lr sign(g) / sqrt(0.1)
    (value,) = run(optimizers.RMSprop(learning_rate=0.01, epsilon=0.0), GRADIENTS[:1])
    np.testing.assert_allclose(value, START - 0.01 * np.sign(GRADIENTS[0]) / math.sqrt(0.1))


def test_adagrad_first_step_by_hand():
    (value,) = run(optimizers.Adagrad(learning_rate=0.1), GRADIENTS[:1])
    g = GRADIENTS[0]
    np.testing.assert_allclose(value, START - 0.1 * g / np.sqrt(0.1 + g * g + 1e-7))


def test_adamw_with_zero_gradient_only_shrinks_the_weights():
    (value,) = run(optimizers.AdamW(learning_rate=0.1, weight_decay=0.5), [np.zeros(3)])
    np.testing.assert_allclose(value, START * (1 - 0.1 * 0.5))


def test_adamw_without_decay_is_adam():
    adamw = run(optimizers.AdamW(weight_decay=0.0))
    adam = run(optimizers.Adam())
    np.testing.assert_array_equal(adamw[-1], adam[-1])


@pytest.mark.parametrize("name, cls, defaults", [
    ("rmsprop", optimizers.RMSprop, {"learning_rate": 0.001, "rho": 0.9, "momentum": 0.0,
                                     "epsilon": 1e-7, "centered": False}),
    ("RMSprop", optimizers.RMSprop, {}),
    ("adagrad", optimizers.Adagrad, {"learning_rate": 0.001,
                                     "initial_accumulator_value": 0.1, "epsilon": 1e-7}),
    ("adamw", optimizers.AdamW, {"learning_rate": 0.001, "weight_decay": 0.004,
                                 "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-7}),
    ("AdamW", optimizers.AdamW, {}),
])
def test_new_optimizers_by_name_with_keras_defaults(name, cls, defaults):
    optimizer = optimizers.get(name)
    assert isinstance(optimizer, cls)
    settings = {key: getattr(optimizer, key) for key in defaults}
    if defaults:  # the rate as Keras's float32 variable holds it
        assert settings.pop("learning_rate") == float(np.float32(defaults["learning_rate"]))
    assert settings == {key: value for key, value in defaults.items() if key != "learning_rate"}


@pytest.mark.parametrize("cls", [optimizers.RMSprop, optimizers.Adagrad, optimizers.AdamW,
                                 optimizers.Adam, optimizers.SGD])
def test_lr_gets_an_error_that_points_to_learning_rate(cls):
    with pytest.raises(TypeError, match="learning_rate"):
        cls(lr=0.01)


@pytest.mark.parametrize("make", [
    lambda: optimizers.RMSprop(rho=1.5), lambda: optimizers.RMSprop(momentum=-0.1),
    lambda: optimizers.Adagrad(initial_accumulator_value=-1.0),
    lambda: optimizers.AdamW(weight_decay=-0.1),
])
def test_bad_new_hyperparameters_are_refused(make):
    with pytest.raises(ValueError):
        make()
