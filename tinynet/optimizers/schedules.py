"""Learning-rate schedules: the learning rate as a function of the training step.

    schedule = ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.5)
    optimizer = SGD(learning_rate=schedule)

A schedule is a callable, schedule(step) -> float (an array of steps gives an array of rates,
for a plot of the schedule). The optimizer asks it for the rate before every update, with
step = the number of updates done so far: the first update uses schedule(0), update t uses
schedule(t - 1), as Keras 3 does. (Adam's bias correction counts
from 1 in the same updates; the two counts differ by one.)

Why schedule with batch normalization: BN lets a network train at a learning rate that would
make it diverge without BN, and the fast start it gives is worth most when the rate is then
lowered, so the weights settle instead of bouncing around the minimum.

The formulas, arguments and defaults are Keras 3's (keras.optimizers.schedules), checked in
the Keras 3 API reference (keras.io/api/optimizers/learning_rate_schedules/) and in Keras
3.15.1's source (keras/src/optimizers/schedules/learning_rate_schedule.py), and compared step by
step with Keras itself by tests/test_schedules.py. A schedule's get_config() is the dict Keras
writes for it and `Class(**config)` rebuilds it. Keras computes in float32; these compute in
float64, so the two agree to float32 round-off (about 1e-7 of the largest rate).
"""

import functools
import math

import numpy as np

from tinynet.validation import check_bool, check_float, check_int, missing_attribute


class LearningRateSchedule:
    """Base class: a schedule is called with the step and returns the learning rate."""

    def __call__(self, step):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(self, step)")

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} must define get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


def steps_may_be_an_array(call):
    """Lets schedule(steps) take an array (or list) of steps, as Keras's schedules do, e.g. to
    plot the rate: schedule(np.arange(1000)) is an array of rates (float64), each computed as
    schedule(step) computes one; a 0-d array gives a float."""

    @functools.wraps(call)
    def call_on_each(self, step):
        if not isinstance(step, (np.ndarray, list, tuple)):
            return call(self, step)
        try:
            steps = np.asarray(step)
        except ValueError:  # rows of different lengths
            steps = np.asarray(None)
        if steps.dtype.kind not in "iuf":
            raise TypeError(f"{type(self).__name__}(step): steps must be a number or an array "
                            f"of numbers, got {step!r}")
        rates = [call(self, float(one)) for one in steps.reshape(-1)]
        return rates[0] if steps.ndim == 0 else np.array(rates).reshape(steps.shape)

    return call_on_each


def check_step(step, where):
    """The step as a float (the number of updates done so far, >= 0)."""
    return check_float(step, f"{where}(step)", low=0.0)


def check_decay_steps(decay_steps, where):
    """decay_steps > 0; Keras takes an int, and a float such as 1e3 works as well."""
    return check_float(decay_steps, f"{where}(decay_steps=...)", low=0.0, low_open=True)


class ExponentialDecay(LearningRateSchedule):
    """The rate multiplied by decay_rate every decay_steps steps, smoothly or in stairs:

        lr(step) = initial_learning_rate * decay_rate ^ (step / decay_steps)

    staircase=True uses floor(step / decay_steps): the rate drops at whole multiples only.
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        self.initial_learning_rate = check_float(
            initial_learning_rate, "ExponentialDecay(initial_learning_rate=...)", low=0.0)
        self.decay_steps = check_decay_steps(decay_steps, "ExponentialDecay")
        self.decay_rate = check_float(decay_rate, "ExponentialDecay(decay_rate=...)", low=0.0)
        self.staircase = check_bool(staircase, "ExponentialDecay(staircase=...)")
        self.name = name
        self.config_decay_steps = decay_steps  # as given, for get_config

    @steps_may_be_an_array
    def __call__(self, step):
        p = check_step(step, "ExponentialDecay") / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate * self.decay_rate ** p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.config_decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """The rate divided by a count that grows with the step (the 1/t of classic SGD theory):

        lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps)

    staircase=True uses floor(step / decay_steps).
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        self.initial_learning_rate = check_float(
            initial_learning_rate, "InverseTimeDecay(initial_learning_rate=...)", low=0.0)
        self.decay_steps = check_decay_steps(decay_steps, "InverseTimeDecay")
        self.decay_rate = check_float(decay_rate, "InverseTimeDecay(decay_rate=...)", low=0.0)
        self.staircase = check_bool(staircase, "InverseTimeDecay(staircase=...)")
        self.name = name
        self.config_decay_steps = decay_steps

    @steps_may_be_an_array
    def __call__(self, step):
        p = check_step(step, "InverseTimeDecay") / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self.initial_learning_rate / (1 + self.decay_rate * p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.config_decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """A constant rate between boundaries:

        PiecewiseConstantDecay(boundaries=[1000, 2000], values=[0.1, 0.01, 0.001])

    gives 0.1 for step <= 1000, 0.01 for 1000 < step <= 2000, and 0.001 after. A boundary
    step still has the rate before it (the intervals are closed on the right, as in Keras).
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if not isinstance(boundaries, (list, tuple)) or not isinstance(values, (list, tuple)):
            raise TypeError(f"PiecewiseConstantDecay(boundaries=..., values=...) must be lists, "
                            f"got {boundaries!r} and {values!r}")
        if len(boundaries) != len(values) - 1:
            raise ValueError(f"PiecewiseConstantDecay: boundaries must have one entry fewer "
                             f"than values, got {len(boundaries)} boundaries and "
                             f"{len(values)} values")
        for boundary in boundaries:
            check_float(boundary, "PiecewiseConstantDecay(boundaries=...)")
        if list(boundaries) != sorted(boundaries):
            raise ValueError(f"PiecewiseConstantDecay(boundaries=...) must increase, "
                             f"got {boundaries}")
        for value in values:
            check_float(value, "PiecewiseConstantDecay(values=...)", low=0.0)
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name

    @steps_may_be_an_array
    def __call__(self, step):
        step = check_step(step, "PiecewiseConstantDecay")
        for boundary, value in zip(self.boundaries, self.values, strict=False):
            if step <= boundary:
                return float(value)
        return float(self.values[-1])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """From initial_learning_rate down to end_learning_rate in decay_steps steps, along a
    power curve (power=1: a straight line), then flat:

        p       = min(step, decay_steps) / decay_steps
        lr(step) = (initial_learning_rate - end_learning_rate) * (1 - p) ^ power
                   + end_learning_rate

    cycle=True starts again instead of staying flat: decay_steps is stretched to the first
    multiple of it that is >= step (and to decay_steps itself at step 0).
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        self.initial_learning_rate = check_float(
            initial_learning_rate, "PolynomialDecay(initial_learning_rate=...)", low=0.0)
        self.decay_steps = check_decay_steps(decay_steps, "PolynomialDecay")
        self.end_learning_rate = check_float(
            end_learning_rate, "PolynomialDecay(end_learning_rate=...)", low=0.0)
        self.power = check_float(power, "PolynomialDecay(power=...)", low=0.0)
        self.cycle = check_bool(cycle, "PolynomialDecay(cycle=...)")
        self.name = name
        self.config_decay_steps = decay_steps

    @steps_may_be_an_array
    def __call__(self, step):
        step = check_step(step, "PolynomialDecay")
        decay_steps = self.decay_steps
        if self.cycle:
            decay_steps *= max(math.ceil(step / decay_steps), 1)
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        return ((self.initial_learning_rate - self.end_learning_rate) * (1 - p) ** self.power
                + self.end_learning_rate)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.config_decay_steps,
                "end_learning_rate": self.end_learning_rate, "power": self.power,
                "cycle": self.cycle, "name": self.name}


class CosineDecay(LearningRateSchedule):
    """Half a cosine from the rate down to alpha times it, optionally after a linear warm-up.

    Without warm-up (warmup_target=None), with s = min(step, decay_steps):

        lr(step) = initial_learning_rate * ((1 - alpha) * 0.5 * (1 + cos(pi * s / decay_steps))
                                            + alpha)

    With warm-up: for step < warmup_steps the rate climbs on a straight line from
    initial_learning_rate to warmup_target,

        lr(step) = initial_learning_rate + (warmup_target - initial_learning_rate)
                                           * step / warmup_steps

    then the cosine above runs from warmup_target over the next decay_steps steps (with
    s = min(step, warmup_steps + decay_steps) - warmup_steps). A warm-up keeps the first,
    noisy steps small, the usual companion of the high rates BN allows.
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = check_float(
            initial_learning_rate, "CosineDecay(initial_learning_rate=...)", low=0.0)
        self.decay_steps = check_decay_steps(decay_steps, "CosineDecay")
        self.alpha = check_float(alpha, "CosineDecay(alpha=...)", 0.0, 1.0)
        self.name = name
        if warmup_target is not None:
            check_float(warmup_target, "CosineDecay(warmup_target=...)", low=0.0)
        self.warmup_target = warmup_target
        self.warmup_steps = check_int(warmup_steps, "CosineDecay(warmup_steps=...)", minimum=0)
        self.config_decay_steps = decay_steps

    def cosine(self, step, start_learning_rate):
        """The cosine part, `step` steps into it (step <= decay_steps)."""
        cosine_decayed = 0.5 * (1 + math.cos(math.pi * step / self.decay_steps))
        return start_learning_rate * ((1 - self.alpha) * cosine_decayed + self.alpha)

    @steps_may_be_an_array
    def __call__(self, step):
        step = check_step(step, "CosineDecay")
        if self.warmup_target is None:
            return self.cosine(min(step, self.decay_steps), self.initial_learning_rate)
        step = min(step, self.warmup_steps + self.decay_steps)
        if step < self.warmup_steps:
            climb = self.warmup_target - self.initial_learning_rate
            return self.initial_learning_rate + climb * step / self.warmup_steps
        return self.cosine(step - self.warmup_steps, self.warmup_target)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.config_decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR: Loshchilov & Hutter, "SGDR: Stochastic Gradient
    Descent with Warm Restarts", ICLR 2017): the cosine of CosineDecay over first_decay_steps,
    then back up to the top and down again, each period t_mul times longer than the last and
    starting m_mul times lower.

    Period i (i = 0, 1, ...) starts at step T_0 (1 + t_mul + ... + t_mul^(i-1)), with
    T_0 = first_decay_steps, and lasts T_0 t_mul^i steps; f in [0, 1) is how far into its
    period the step is. Then

        lr(step) = initial_learning_rate * ((1 - alpha) * m_mul^i * 0.5 * (1 + cos(pi f))
                                            + alpha)

    (alpha, the floor, is not multiplied by m_mul^i: Keras's formula). Arguments and
    defaults: initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
    name='SGDRDecay', as Keras 3.15.1's source has them and the tf.keras and R keras3 API
    pages list them.
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        where = "CosineDecayRestarts"
        self.initial_learning_rate = check_float(
            initial_learning_rate, f"{where}(initial_learning_rate=...)", low=0.0)
        self.first_decay_steps = check_float(first_decay_steps, f"{where}(first_decay_steps=...)",
                                             low=0.0, low_open=True)
        self.t_mul = check_float(t_mul, f"{where}(t_mul=...)", low=0.0, low_open=True)
        self.m_mul = check_float(m_mul, f"{where}(m_mul=...)", low=0.0)
        self.alpha = check_float(alpha, f"{where}(alpha=...)", 0.0, 1.0)
        self.name = name
        self.config_first_decay_steps = first_decay_steps

    def period(self, step):
        """(i, f): the period `step` falls in, and how far into it (0 <= f < 1)."""
        done = step / self.first_decay_steps  # in units of the first period
        if self.t_mul == 1.0:
            i = math.floor(done)
            return i, done - i
        if self.t_mul < 1 and done >= 1 / (1 - self.t_mul):
            # shrinking periods add up to first_decay_steps / (1 - t_mul) steps in all; Keras
            # gives NaN beyond, which would ruin every weight
            raise ValueError(f"CosineDecayRestarts: with t_mul={self.t_mul:g} < 1 the periods "
                             f"shrink and end after {self.first_decay_steps / (1 - self.t_mul):g} "
                             f"steps in all; step {step:g} is beyond them. Use t_mul >= 1, or "
                             f"stop training before then")
        # periods 0 .. i-1 add up to (t_mul^i - 1) / (t_mul - 1) first periods: solve for i
        i = math.floor(math.log(1.0 - done * (1.0 - self.t_mul)) / math.log(self.t_mul))

        def start(j):  # where period j starts, in first periods
            return (1.0 - self.t_mul ** j) / (1.0 - self.t_mul)

        # the logarithms may round a step that starts a period to just below it; Keras,
        # computing in float32, does (its step 25 of CosineDecayRestarts(0.1, 10, t_mul=1.5)
        # is the end of period 1, not the restart)
        i += (start(i + 1) <= done) - (start(i) > done)
        return i, (done - start(i)) / self.t_mul ** i

    @steps_may_be_an_array
    def __call__(self, step):
        i, f = self.period(check_step(step, "CosineDecayRestarts"))
        cosine_decayed = self.m_mul ** i * 0.5 * (1.0 + math.cos(math.pi * f))
        return self.initial_learning_rate * ((1 - self.alpha) * cosine_decayed + self.alpha)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.config_first_decay_steps, "t_mul": self.t_mul,
                "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


SCHEDULES = {cls.__name__: cls for cls in (ExponentialDecay, InverseTimeDecay,
                                           PiecewiseConstantDecay, PolynomialDecay,
                                           CosineDecay, CosineDecayRestarts)}


def serialize(schedule):
    """Keras's dict of a schedule, what an optimizer's get_config holds as its learning_rate:
    {'module': 'keras.optimizers.schedules', 'class_name': 'ExponentialDecay',
     'config': schedule.get_config(), 'registered_name': None} (keras.optimizers.schedules.
    serialize in Keras 3.15.1 gives the same dict). A schedule of your own is written as
    Keras writes its user's objects, {'module': None, 'class_name': 'MySchedule', 'config':
    ..., 'registered_name': 'MySchedule'}, for load_model(..., custom_objects={...})."""
    name = type(schedule).__name__
    if not type(schedule).__module__.startswith("tinynet."):  # by module, not by name
        return {"module": None, "class_name": name, "config": schedule.get_config(),
                "registered_name": name}
    return {"module": "keras.optimizers.schedules", "class_name": name,
            "config": schedule.get_config(), "registered_name": None}


def deserialize(config):
    """The schedule a serialize() dict describes (Keras's too)."""
    class_name = config.get("class_name") if isinstance(config, dict) else None
    if class_name not in SCHEDULES:
        raise ValueError(f"Unknown learning-rate schedule {class_name!r}: tinynet has "
                         f"{', '.join(SCHEDULES)}")
    return SCHEDULES[class_name].from_config(config.get("config") or {})


def __getattr__(name):
    """A schedule tinynet lacks gets an error that lists the ones it has (all of Keras 3.15's),
    and says how to write one's own."""
    hint = "a schedule of your own is any callable step -> rate (subclass LearningRateSchedule)"
    raise missing_attribute("tinynet.optimizers.schedules", name,
                            [*SCHEDULES, "LearningRateSchedule", "serialize", "deserialize"],
                            {name: hint})
