"""Constraints: a rule applied to a weight right after each optimizer update, outside the
gradient step, as in Keras 3.

    Dense(64, kernel_constraint=constraints.MaxNorm(3))

After every update the kernel is projected back into the set the constraint allows. A
constraint is not a penalty (regularizers.py): it adds nothing to the loss or the gradient,
it moves the weight itself. For a weight W, with norms over `axis` (axis=0: for Dense's
kernel (D_in, D_out), the norm of each unit's incoming weights, a column), eps = 1e-7
(Keras's backend.epsilon()):

    MaxNorm(max_value=2, axis=0)    W * clip(norm, 0, max_value) / (eps + norm)
    MinMaxNorm(min_value=0.0, max_value=1.0, rate=1.0, axis=0)
                                    W * (rate * clip(norm, min, max) + (1 - rate) * norm)
                                        / (eps + norm)
    UnitNorm(axis=0)                W / (eps + norm)
    NonNeg()                        max(W, 0)

The formulas and defaults are Keras 3.15.1's (keras/src/constraints/constraints.py; the
Keras API pages list the same defaults). Max-norm is the constraint the dropout paper found
helpful together with dropout (Srivastava et al. 2014, "Dropout: A Simple Way to Prevent
Neural Networks from Overfitting": the norm of each hidden unit's incoming weights bounded by
a constant c, ||w||_2 <= c, a hyperparameter). For a Conv2D kernel (kh, kw,
C_in, C_out) Keras's docs advise axis=[0, 1, 2]: one norm per filter.

Where it happens: a model's training step applies each trainable weight's constraint after
the optimizer's update (Sequential.apply_constraints), and so does
optimizer.apply_gradients with a model's weights (each Variable carries its constraint), as
Keras's optimizer does. A frozen weight is not updated, so its constraint is not applied.

Keras's names: the classes and the lower-case aliases max_norm, min_max_norm, non_neg,
unit_norm (the same classes, the same defaults); the strings 'max_norm', 'MaxNorm', ...
"""

import numpy as np

from tinynet.validation import check_float, check_int, missing_attribute, unknown_name_error

EPSILON = 1e-7  # Keras's backend.epsilon(), which its norm constraints add to the norm


class Constraint:
    """Base class: constraint(W) -> the new W (an array of W's shape and dtype); get_config()
    -> the arguments, as in Keras. A constraint of your own defines __call__; Keras's own
    base class has the same method."""

    def __call__(self, weight):
        return weight

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        arguments = ", ".join(f"{key}={value!r}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


def check_axis(axis, where):
    """An int or a list/tuple of ints (Keras's axis for the norms), kept as given."""
    axes = axis if isinstance(axis, (list, tuple)) else [axis]
    for item in axes:
        check_int(item, where)
    return list(axis) if isinstance(axis, tuple) else axis


def norms(weight, axis):
    """sqrt(sum(W^2)) over `axis`, kept as axes of length 1 so that it broadcasts against W."""
    return np.sqrt(np.sum(np.square(weight), axis=tuple(np.atleast_1d(axis)), keepdims=True))


class MaxNorm(Constraint):
    """MaxNorm(max_value=2, axis=0): each norm over `axis` at most max_value (weights inside
    the ball are left as they are, up to the eps in the division)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = check_float(max_value, "MaxNorm(max_value=...)", low=0.0)
        self.axis = check_axis(axis, "MaxNorm(axis=...)")

    def __call__(self, weight):
        norm = norms(weight, self.axis)
        desired = np.clip(norm, 0, self.max_value)
        return (weight * (desired / (EPSILON + norm))).astype(weight.dtype, copy=False)

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """MinMaxNorm(min_value=0.0, max_value=1.0, rate=1.0, axis=0): each norm moved into
    [min_value, max_value]; rate < 1 moves it only part of the way at each step."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = check_float(min_value, "MinMaxNorm(min_value=...)", low=0.0)
        self.max_value = check_float(max_value, "MinMaxNorm(max_value=...)", low=0.0)
        if self.min_value > self.max_value:
            raise ValueError(f"MinMaxNorm: min_value ({min_value}) must be <= max_value "
                             f"({max_value})")
        self.rate = check_float(rate, "MinMaxNorm(rate=...)", 0.0, 1.0)
        self.axis = check_axis(axis, "MinMaxNorm(axis=...)")

    def __call__(self, weight):
        norm = norms(weight, self.axis)
        desired = (self.rate * np.clip(norm, self.min_value, self.max_value)
                   + (1 - self.rate) * norm)
        return (weight * (desired / (EPSILON + norm))).astype(weight.dtype, copy=False)

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


class UnitNorm(Constraint):
    """UnitNorm(axis=0): each norm over `axis` made 1."""

    def __init__(self, axis=0):
        self.axis = check_axis(axis, "UnitNorm(axis=...)")

    def __call__(self, weight):
        return (weight / (EPSILON + norms(weight, self.axis))).astype(weight.dtype, copy=False)

    def get_config(self):
        return {"axis": self.axis}


class NonNeg(Constraint):
    """NonNeg(): negative weights set to 0."""

    def __call__(self, weight):
        return np.maximum(weight, 0).astype(weight.dtype, copy=False)


# Keras's lower-case spellings are the same classes
max_norm = MaxNorm
min_max_norm = MinMaxNorm
non_neg = NonNeg
unit_norm = UnitNorm

CONSTRAINTS = {"MaxNorm": MaxNorm, "MinMaxNorm": MinMaxNorm, "NonNeg": NonNeg,
               "UnitNorm": UnitNorm, "max_norm": MaxNorm, "min_max_norm": MinMaxNorm,
               "non_neg": NonNeg, "unit_norm": UnitNorm}


def get(identifier, name="constraint"):
    """A Constraint from None (none), a name ('max_norm', 'MaxNorm', ...), a class, an
    instance, a function of the weight, or a config dict {'class_name': 'MaxNorm', 'config':
    {'max_value': 3, 'axis': 0}} as a .keras file stores it. TypeError or ValueError naming
    the argument (e.g. 'kernel_constraint') otherwise."""
    if identifier is None:
        return None
    if isinstance(identifier, type) and issubclass(identifier, Constraint):
        return identifier()
    if isinstance(identifier, str):
        if identifier not in CONSTRAINTS:
            raise unknown_name_error(name, identifier, list(CONSTRAINTS))
        return CONSTRAINTS[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in CONSTRAINTS:
        return CONSTRAINTS[identifier["class_name"]](**identifier.get("config", {}))
    if isinstance(identifier, Constraint) or (callable(identifier) and
                                              not isinstance(identifier, type)):
        return identifier  # a function of the weight works too, as in Keras
    raise TypeError(f"{name} must be None, a name like 'max_norm' or a constraint such as "
                    f"constraints.MaxNorm(3), got {identifier!r}")


def serialize(constraint):
    """Keras's dict for a constraint: {'module': 'keras.constraints', 'class_name':
    'MaxNorm', 'config': {'max_value': 3.0, 'axis': 0}, 'registered_name': None}."""
    constraint = get(constraint, "constraints.serialize")
    if type(constraint).__name__ not in CONSTRAINTS:
        raise ValueError(f"constraints.serialize: {constraint!r} is a constraint of your own, "
                         f"which Keras cannot read; tinynet writes MaxNorm, MinMaxNorm, "
                         f"NonNeg and UnitNorm")
    return {"module": "keras.constraints", "class_name": type(constraint).__name__,
            "config": constraint.get_config(), "registered_name": None}


def deserialize(config):
    """The constraint a serialize() dict describes (Keras's or tinynet's)."""
    return get(config, "constraints.deserialize")


def __getattr__(name):
    """A Keras name tinynet lacks gets an error that lists what there is."""
    raise missing_attribute("tinynet.constraints", name,
                            [*CONSTRAINTS, "Constraint", "get", "serialize", "deserialize"])
