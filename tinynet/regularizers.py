"""Regularizers: a penalty on a weight's size, added to the loss, and its gradient.

    Dense(64, kernel_regularizer=regularizers.l2(0.01))

adds 0.01 * sum(kernel^2) to the loss the model minimizes (and to the loss it logs, as Keras
does), and 0.02 * kernel to the kernel's gradient in the layer's backward. The penalties, for
a weight array W:

    L1(l1=0.01)          penalty = l1 * sum |W|               gradient = l1 * sign(W)
    L2(l2=0.01)          penalty = l2 * sum W^2               gradient = 2 * l2 * W
    L1L2(l1=0.0, l2=0.0) penalty = l1 * sum |W| + l2 * sum W^2

The penalty is a SUM over the weight's entries, not a mean, and it is not divided by the batch
size: with Keras's default l2 = 0.01 on a 64 x 32 kernel it can easily outweigh the data's
loss. sign(0) = 0: the absolute value has no slope at 0 and, as in PyTorch and Keras, none is
used there.

A fact worth knowing (van Laarhoven 2017, lesson 10): a weight that feeds BatchNormalization
does not change the output when it is scaled, so L2 on it cannot make the network "simpler";
it only shrinks the weight, which makes the same gradient step larger relative to it: an
effective learning rate, not a regularizer.

Keras's names: the classes L1, L2, L1L2, and the lower-case aliases l1, l2, l1_l2 (the same
classes, the same defaults).
"""

import numpy as np

from tinynet.validation import check_float, missing_attribute, unknown_name_error


class Regularizer:
    """Base class: `regularizer(W)` -> the penalty (a float), `gradient(W)` -> d penalty / dW,
    an array of W's shape and dtype; `get_config()` -> the arguments, as in Keras. (The
    built-in ones also take a list or an integer array, measured as float64: see as_weight.)

    A regularizer of your own defines both (Keras's own only define `__call__`, because Keras
    differentiates it automatically; tinynet has no automatic differentiation):

        class L2Regularizer(Regularizer):
            def __init__(self, strength):
                self.strength = strength
            def __call__(self, weight):
                return float(self.strength * np.sum(weight ** 2))
            def gradient(self, weight):
                return 2 * self.strength * weight

    A layer given one that lacks `gradient` refuses it (see `get`)."""

    def __call__(self, weight):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(self, weight), "
                                  f"returning the penalty, a float")

    def gradient(self, weight):
        raise NotImplementedError(missing_gradient_message(type(self)))

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        """The regularizer a get_config() dict describes: L2.from_config({'l2': 0.01})."""
        return cls(**config)

    def __repr__(self):
        arguments = ", ".join(f"{key}={value}" for key, value in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


def missing_gradient_message(cls):
    return (f"{cls.__name__} defines the penalty (__call__) but not its gradient: tinynet has "
            f"no automatic differentiation, so a regularizer of your own also defines "
            f"gradient(self, weight), returning d penalty / d weight as an array of the "
            f"weight's shape (for penalty = c * sum(weight ** 2) it is 2 * c * weight)")


def check_complete(regularizer, name):
    """A regularizer of your own must define both the penalty and its gradient: without the
    gradient, training would fail only at the first backward pass."""
    cls = type(regularizer)
    if cls.__call__ is Regularizer.__call__:
        raise TypeError(f"{name}: {cls.__name__} must define __call__(self, weight), returning "
                        f"the penalty, a float")
    if cls.gradient is Regularizer.gradient:
        raise TypeError(f"{name}: " + missing_gradient_message(cls))
    return regularizer


def as_weight(weight, where):
    """The weight a built-in regularizer measures, as an array of floats: a float array as
    it is (the gradient keeps its dtype: float32 for a float32 weight), and integers or a
    list of numbers as float64. Converted rather than refused: the penalty and its gradient
    are defined at any real point, and in an integer array the gradient would be silently
    wrong (int64(0.01) is 0). Anything else (complex numbers, booleans, text, a ragged
    list) gets a TypeError naming `where`."""
    if type(weight) is np.ndarray and weight.dtype.kind == "f":  # the usual case, in training
        return weight
    try:
        array = np.asarray(weight)
    except ValueError:  # a list of rows of different lengths
        raise TypeError(f"{where}: the weight must be an array of real numbers, got a ragged "
                        f"{type(weight).__name__} (rows of different lengths)") from None
    if array.dtype.kind not in "iuf":
        raise TypeError(f"{where}: the weight must hold real numbers (integers or floats), "
                        f"got an array of {array.dtype}")
    return array if array.dtype.kind == "f" else array.astype(np.float64)


def check_factor(value, where):
    """A regularization factor: a finite number >= 0 (None means 0, as in Keras)."""
    return 0.0 if value is None else check_float(value, where, low=0.0)


# The defaults below (L1: l1=0.01, L2: l2=0.01, L1L2: l1=l2=0.0) were checked against Keras
# 3.15's source (keras-team/keras, keras/src/regularizers/regularizers.py) and the TensorFlow
# API pages for tf.keras.regularizers.L1L2 (l1=0.0, l2=0.0) and l1/l2 (0.01).


class L1(Regularizer):
    """penalty = l1 * sum |W|;  gradient = l1 * sign(W). Keras's default l1 = 0.01."""

    def __init__(self, l1=0.01):
        self.l1 = check_factor(l1, "L1(l1=...)")

    def __call__(self, weight):
        return float(self.l1 * np.sum(np.abs(as_weight(weight, "L1"))))

    def gradient(self, weight):
        weight = as_weight(weight, "L1.gradient")
        return weight.dtype.type(self.l1) * np.sign(weight)

    def get_config(self):
        return {"l1": self.l1}


class L2(Regularizer):
    """penalty = l2 * sum W^2;  gradient = 2 * l2 * W. Keras's default l2 = 0.01."""

    def __init__(self, l2=0.01):
        self.l2 = check_factor(l2, "L2(l2=...)")

    def __call__(self, weight):
        return float(self.l2 * np.sum(np.square(as_weight(weight, "L2"))))

    def gradient(self, weight):
        weight = as_weight(weight, "L2.gradient")
        return weight.dtype.type(2 * self.l2) * weight

    def get_config(self):
        return {"l2": self.l2}


class L1L2(Regularizer):
    """Both penalties: l1 * sum |W| + l2 * sum W^2. Keras's defaults are l1 = l2 = 0.0 (so
    L1L2(l2=0.1) is a pure L2 penalty)."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = check_factor(l1, "L1L2(l1=...)")
        self.l2 = check_factor(l2, "L1L2(l2=...)")

    def __call__(self, weight):
        return L1(self.l1)(weight) + L2(self.l2)(weight)

    def gradient(self, weight):
        return L1(self.l1).gradient(weight) + L2(self.l2).gradient(weight)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


# Keras's lower-case spellings are the same classes
l1 = L1
l2 = L2
l1_l2 = L1L2

REGULARIZERS = {"l1": L1, "l2": L2, "l1l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier, name="regularizer"):
    """A Regularizer from None (none), a name ('l1', 'l2', 'L1L2', ...), a class, an instance,
    or a config dict {'class_name': 'L2', 'config': {'l2': 0.01}} as a .keras file stores it.

    The string 'l1_l2' means L1L2(l1=0.01, l2=0.01), as Keras's documentation says (Keras 3.15
    itself does not accept that string)."""
    if identifier is None:
        return None
    if isinstance(identifier, Regularizer):
        return check_complete(identifier, name)
    if isinstance(identifier, type) and issubclass(identifier, Regularizer):
        return check_complete(identifier(), name)
    if isinstance(identifier, str):
        if identifier == "l1_l2":
            return L1L2(l1=0.01, l2=0.01)
        if identifier not in REGULARIZERS:
            raise unknown_name_error(name, identifier, [*REGULARIZERS, "l1_l2"])
        return REGULARIZERS[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in REGULARIZERS:
        return REGULARIZERS[identifier["class_name"]](**identifier.get("config", {}))
    raise TypeError(f"{name} must be None, a name like 'l2' or a regularizer such as "
                    f"regularizers.l2(0.01), got {identifier!r}; a plain function cannot be "
                    f"used, because tinynet also needs its gradient")


def serialize(regularizer):
    """Keras's dict for a regularizer: {'module': 'keras.regularizers', 'class_name': 'L2',
    'config': {'l2': 0.01}, 'registered_name': None}."""
    regularizer = get(regularizer, "regularizers.serialize")
    if type(regularizer).__name__ not in REGULARIZERS:
        raise ValueError(f"regularizers.serialize: {type(regularizer).__name__} is a "
                         f"regularizer of your own, which Keras cannot read; tinynet writes "
                         f"{', '.join(sorted(set(REGULARIZERS) - {'l1', 'l2', 'l1l2'}))}")
    return {"module": "keras.regularizers", "class_name": type(regularizer).__name__,
            "config": regularizer.get_config(), "registered_name": None}


def deserialize(config):
    """The regularizer a serialize() dict describes (Keras's or tinynet's)."""
    return get(config, "regularizers.deserialize")


def __getattr__(name):
    """A Keras regularizer tinynet lacks gets an error that says so."""
    hint = "tinynet has the L1 and L2 penalties (a Regularizer of your own needs a gradient)"
    raise missing_attribute("tinynet.regularizers", name,
                            [*REGULARIZERS, "l1_l2", "Regularizer", "get", "serialize",
                             "deserialize"],
                            {"OrthogonalRegularizer": hint, "orthogonal_regularizer": hint})
