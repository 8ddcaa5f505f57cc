"""Activation functions as plain functions on arrays, as in Keras 3's `keras.activations`.

    import tinynet as keras
    keras.activations.relu([-2.0, 3.0])            # array([0., 3.], dtype=float32)
    keras.activations.softmax(logits, axis=-1)     # each row sums to 1
    keras.activations.get("relu")                  # the function relu
    keras.activations.serialize(keras.activations.relu)    # 'relu', as a .keras file saves it

Shapes: every function takes x of any shape and returns a NumPy array of the same shape
(softmax and log_softmax work along `axis`, the others entry by entry). A float array keeps
its dtype (float32 stays float32, float64 stays float64); anything else (a list, a Python
number, an integer or bool array) becomes an array of floatx() floats, float32 unless
set_floatx changed it. Keras also makes float32 from a list of floats, but keeps integers as
integers in relu (and refuses them in elu, gelu, softmax, ...). NaN and inf pass through.

At Keras's default arguments each function is the one tinynet's layers use
(tinynet/layers/activation.py: the formulas, their derivatives and their sources), so a
formula is written in one place; this module adds Keras's other arguments and functions.

Which functions the layers take too: relu, sigmoid, tanh, softmax, linear, elu, selu,
leaky_relu, gelu, softplus, silu (= swish) and hard_sigmoid, by name (Dense(64,
activation='relu'), Activation('gelu')), with Keras's default arguments. The others here
(relu6, exponential, softsign, log_sigmoid, log_softmax, mish, hard_silu (= hard_swish),
hard_tanh) are functions only: tinynet's layers have no derivative for them.

Signatures and defaults, as Keras 3.15.1's source has them
(keras/src/activations/activations.py), checked against a second source, the reference pages
of R's keras3 package, which calls Keras 3: activation_relu(x, negative_slope = 0, max_value =
NULL, threshold = 0), activation_leaky_relu(x, negative_slope = 0.2), activation_elu(x, alpha
= 1), activation_gelu(x, approximate = FALSE), activation_softmax and activation_log_softmax
(x, axis = -1L). Note gelu's default is the exact formula: approximate=False here, while
keras.ops.gelu's default is approximate=True.
"""

import functools
import inspect
import math
import numbers
import warnings

import numpy as np

from tinynet.config import floatx
from tinynet.layers import activation as layer_functions
from tinynet.tensors import as_tensor
from tinynet.validation import (
    check_bool,
    check_float,
    missing_attribute,
    unknown_argument_error,
    unknown_name_error,
)

# Keras 2 called relu's negative_slope `alpha` (tf.keras.activations.relu(x, alpha=0.0, ...))
# and so did tf.nn.leaky_relu; Keras 3 renamed it.
RENAMED = {"alpha": "negative_slope"}


def as_float_array(x, where):
    """x (an array, a list, a number) -> a float array; see the module docstring."""
    if isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind == "f":
        return np.asarray(x)
    try:
        array = np.asarray(x)
    except (ValueError, TypeError):  # most often a list of rows of different lengths
        raise TypeError(f"{where}: x must be a rectangular array of numbers (every row the "
                        f"same length), got a {type(x).__name__} that NumPy cannot turn into "
                        f"one") from None
    # dtype kinds: b bool, i int, u unsigned int, f float (c complex, O object, U text, ...)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"{where}: x must hold real numbers (a NumPy array, a list or a "
                        f"number), got {type(x).__name__} of dtype {array.dtype}")
    return array.astype(floatx())


def keras_function(function):
    """What every function below shares, so that its body is only its formula:

    - its arguments are checked first: a missing x or an argument it does not take is a
      TypeError that names the function (and says that Keras 3 renamed alpha);
    - x becomes a float array (as_float_array), of at least one dimension: a number is
      handled as an array of shape (1,), and the result given back with shape ();
    - the result is always an np.ndarray of x's shape (one that also answers .numpy())."""
    signature = inspect.signature(function)
    name = function.__name__

    @functools.wraps(function)
    def call(*args, **kwargs):
        unknown = {key: value for key, value in kwargs.items()
                   if key not in signature.parameters}
        for key in unknown:
            if key in RENAMED and RENAMED[key] in signature.parameters:
                raise TypeError(f"{name}() has no argument {key!r}: Keras 3 renamed Keras 2's "
                                f"{key} to {RENAMED[key]}, e.g. {name}(x, {RENAMED[key]}=0.1)")
        if unknown:
            raise unknown_argument_error(f"{name}()", unknown, signature.parameters)
        try:
            bound = signature.bind(*args, **kwargs)
        except TypeError as error:  # e.g. "missing a required argument: 'x'"
            raise TypeError(f"{name}{signature}: {error}") from None
        x = as_float_array(bound.arguments.pop("x"), f"{name}()")
        y = function(x.reshape(1) if x.ndim == 0 else x, **bound.arguments)
        # an array that also answers .numpy(), as Keras's tensors do (tinynet.tensors)
        return as_tensor(np.asarray(y).reshape(x.shape))

    return call


# -- the functions tinynet's layers have too -------------------------------------------------

@keras_function
def relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    """Rectified linear unit: y = max(x, 0) at the defaults.

    The arguments, as Keras 3.15.1 computes them (keras/src/activations/activations.py):

        y = clip(x if x > threshold else 0, 0, max_value) - negative_slope * max(threshold - x, 0)

    (no clip when max_value is None): below the threshold y = negative_slope * (x - threshold),
    and no value goes above max_value. At x == threshold exactly y is 0: Keras's code tests
    x > threshold, where the formula on keras.io's ReLU page writes threshold <= x.
    relu(x, max_value=6) is relu6; relu(x, negative_slope=a) is leaky_relu(x, a). max_value
    must be >= 0 (Keras's ReLU layer refuses a negative one too; its function would return
    max_value everywhere).
    """
    negative_slope = check_float(negative_slope, "relu(negative_slope=...)")
    threshold = check_float(threshold, "relu(threshold=...)")
    if max_value is not None:
        max_value = check_float(max_value, "relu(max_value=...)", low=0)
    if negative_slope == 0 and max_value is None and threshold == 0:
        return layer_functions.relu(x)
    y = np.where(x > threshold, x, 0)
    if max_value is not None:
        y = np.clip(y, 0, max_value)
    if negative_slope != 0:
        y = y - negative_slope * np.maximum(threshold - x, 0)
    return y


@keras_function
def leaky_relu(x, negative_slope=0.2):
    """y = x if x >= 0, else negative_slope * x. The default slope is 0.2 (the LeakyReLU
    layer's is 0.3)."""
    negative_slope = check_float(negative_slope, "leaky_relu(negative_slope=...)")
    if negative_slope == layer_functions.LEAKY_RELU_SLOPE:
        return layer_functions.leaky_relu(x)
    return np.where(x >= 0, x, negative_slope * x)


@keras_function
def sigmoid(x):
    """y = 1 / (1 + exp(-x)), computed without overflow for very negative x."""
    return layer_functions.sigmoid(x)


@keras_function
def tanh(x):
    """y = tanh(x) = (exp(x) - exp(-x)) / (exp(x) + exp(-x))."""
    return layer_functions.tanh(x)


@keras_function
def linear(x):
    """y = x (no activation). Keras gives back x itself; tinynet gives it as an array."""
    return layer_functions.linear(x)


def over_axes(function, x, axis, where):
    """Apply `function`, which works along the last axis of an array, along `axis` (an int, a
    tuple of ints, or None for all the axes) instead: move those axes to the end, merge them
    into one, apply it, and undo both steps. Keras's torch backend does the same."""
    if axis is None:
        axes = tuple(range(x.ndim))
    else:
        given = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
        if not given or any(isinstance(a, bool) or not isinstance(a, numbers.Integral)
                            for a in given):
            raise TypeError(f"{where}: axis must be an integer, a tuple of integers or None "
                            f"(all axes), got {axis!r}")
        bad = [a for a in given if not -x.ndim <= a < x.ndim]
        if bad:
            raise ValueError(f"{where}: axis {bad[0]} does not exist for x of shape {x.shape}; "
                             f"it has {x.ndim} axes, numbered 0 to {x.ndim - 1} (or -1 for "
                             f"the last)")
        axes = tuple(int(a) % x.ndim for a in given)
        if len(set(axes)) < len(axes):
            raise ValueError(f"{where}: axis {axis!r} names an axis twice")
    if x.size == 0:
        return x.copy()
    last = tuple(range(x.ndim - len(axes), x.ndim))
    moved = np.moveaxis(x, axes, last)
    merged = moved.reshape(*moved.shape[:x.ndim - len(axes)], -1)
    return np.moveaxis(function(merged).reshape(moved.shape), last, axes)


@keras_function
def softmax(x, axis=-1):
    """y_i = exp(x_i) / sum_j exp(x_j), the sum over `axis` (the last axis by default; a
    tuple of axes, or None for all, normalizes over all of them together). Each y is in (0, 1)
    and they sum to 1 along `axis`. As Keras does, it warns when x's rows have one value each
    along `axis` (x of shape (N, 1)): their softmax is always 1."""
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool) and x.ndim > 1 \
            and -x.ndim <= axis < x.ndim and x.shape[axis] == 1:
        warnings.warn(f"softmax over axis {axis} of x of shape {x.shape}: that axis has size 1, "
                      f"so every value is 1. Did you mean sigmoid?", stacklevel=3)
    return over_axes(layer_functions.softmax, x, axis, "softmax()")


@keras_function
def elu(x, alpha=1.0):
    """Exponential linear unit: y = x if x > 0, else alpha * (exp(x) - 1)."""
    alpha = check_float(alpha, "elu(alpha=...)")
    if alpha == 1:
        return layer_functions.elu(x)
    # elu with alpha = 1 is exp(x) - 1 below 0: alpha times it is this elu's negative part
    return np.where(x > 0, x, alpha * layer_functions.elu(x))


@keras_function
def selu(x):
    """Scaled ELU: y = scale * x if x > 0, else scale * alpha * (exp(x) - 1), with Klambauer
    et al.'s (2017) alpha = 1.6732632... and scale = 1.0507009... (no arguments in Keras)."""
    return layer_functions.selu(x)


# sqrt(2 / pi) and 0.044715: the tanh approximation of GELU in Hendrycks and Gimpel (2016),
# as keras.ops.gelu's docstring writes it
GELU_C = math.sqrt(2 / math.pi)


@keras_function
def gelu(x, approximate=False):
    """Gaussian error linear unit: y = x * Phi(x) = x (1 + erf(x / sqrt 2)) / 2, Phi the
    standard normal CDF. approximate=True uses the tanh formula instead:
    y = x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3))) / 2."""
    if not check_bool(approximate, "gelu(approximate=...)"):
        return layer_functions.gelu(x)
    return 0.5 * x * (1 + np.tanh(GELU_C * (x + 0.044715 * x ** 3)))


@keras_function
def softplus(x):
    """y = log(1 + exp(x)), computed without overflow."""
    return layer_functions.softplus(x)


@keras_function
def silu(x):
    """Swish / SiLU: y = x * sigmoid(x). `swish` is the same function (Keras saves it as
    'silu')."""
    return layer_functions.silu(x)


swish = silu


@keras_function
def hard_sigmoid(x):
    """A piecewise linear sigmoid: y = 0 if x <= -3, 1 if x >= 3, else x / 6 + 1/2."""
    return layer_functions.hard_sigmoid(x)


# -- Keras functions tinynet's layers do not take (no derivative there) ----------------------

@keras_function
def relu6(x):
    """y = min(max(x, 0), 6), relu(x, max_value=6)."""
    return relu(x, max_value=6)


@keras_function
def exponential(x):
    """y = exp(x)."""
    return np.exp(x)


@keras_function
def softsign(x):
    """y = x / (|x| + 1)."""
    return x / (np.abs(x) + 1)


@keras_function
def log_sigmoid(x):
    """y = log(sigmoid(x)) = -softplus(-x), computed without overflow."""
    return -layer_functions.softplus(-x)


def log_softmax_last_axis(x):
    # log(exp(x_i) / sum_j exp(x_j)) = x_i - log(sum_j exp(x_j)); subtracting the max m first
    # keeps exp from overflowing: x_i - m - log(sum_j exp(x_j - m))
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


@keras_function
def log_softmax(x, axis=-1):
    """y = log(softmax(x)) = x_i - log(sum_j exp(x_j)) along `axis`, without the round-off of
    taking the log of a tiny softmax."""
    return over_axes(log_softmax_last_axis, x, axis, "log_softmax()")


@keras_function
def mish(x):
    """y = x * tanh(softplus(x)) (Misra 2019)."""
    return x * np.tanh(layer_functions.softplus(x))


@keras_function
def hard_silu(x):
    """Hard SiLU / hard swish: y = x * hard_sigmoid(x), that is 0 if x <= -3, x if x >= 3,
    else x (x + 3) / 6. `hard_swish` is the same function."""
    return x * layer_functions.hard_sigmoid(x)


hard_swish = hard_silu


@keras_function
def hard_tanh(x):
    """y = -1 if x < -1, 1 if x > 1, else x."""
    return np.clip(x, -1, 1)


# -- names -----------------------------------------------------------------------------------

# name -> function: what get() and deserialize() accept, with Keras's two aliases
FUNCTIONS = {function.__name__: function for function in (
    relu, leaky_relu, sigmoid, tanh, linear, softmax, elu, selu, gelu, softplus, silu,
    hard_sigmoid, relu6, exponential, softsign, log_sigmoid, log_softmax, mish, hard_silu,
    hard_tanh)}
FUNCTIONS["swish"] = silu
FUNCTIONS["hard_swish"] = hard_silu

# Keras 3.15.1's other activations (keras/src/activations/__init__.py), with their formulas
# from its docstrings, to write them with NumPy
KERAS_ONLY = {
    "celu": "celu(x, alpha=1.0) is x for x >= 0, else alpha * (exp(x / alpha) - 1)",
    "glu": "glu(x, axis=-1) splits x in two halves a, b along axis and gives a * sigmoid(b)",
    "hard_shrink": "hard_shrink(x, threshold=0.5) is x where |x| > threshold, else 0",
    "soft_shrink": "soft_shrink(x, threshold=0.5) is x - threshold above threshold, "
                   "x + threshold below -threshold, else 0",
    "sparse_plus": "sparse_plus(x) is 0 for x <= -1, x for x >= 1, else (x + 1)^2 / 4",
    "sparse_sigmoid": "sparse_sigmoid(x) is clip((x + 1) / 2, 0, 1)",
    "sparsemax": "sparsemax(x, axis=-1) projects x onto the probability simplex "
                 "(Martins and Astudillo 2016)",
    "squareplus": "squareplus(x, b=4) is (x + sqrt(x^2 + b)) / 2",
    "tanh_shrink": "tanh_shrink(x) is x - tanh(x)",
    "threshold": "threshold(x, threshold, default_value) is x where x > threshold, else "
                 "default_value",
}


def function_named(name, where):
    """'relu' (or 'ReLU', as tinynet's layers accept) -> relu; a clear ValueError otherwise."""
    key = name if name in FUNCTIONS else name.lower()
    if key in FUNCTIONS:
        return FUNCTIONS[key]
    if key in KERAS_ONLY:
        raise ValueError(f"{where}: tinynet has no activation {name!r}. Keras's "
                         f"{KERAS_ONLY[key]}; write it with NumPy. tinynet has: "
                         f"{', '.join(sorted(FUNCTIONS))}")
    raise unknown_name_error(f"activation in {where}", name, FUNCTIONS)


def name_in_config(config, where):
    """Keras's saved form of an activation, {'module': 'keras.activations', 'class_name':
    'function', 'config': 'relu', 'registered_name': 'relu'} -> 'relu'."""
    name = config.get("config")
    if config.get("class_name") != "function" or not isinstance(name, str):
        raise ValueError(f"{where}: expected an activation as Keras saves it, {{'module': "
                         f"'keras.activations', 'class_name': 'function', 'config': 'relu', "
                         f"'registered_name': 'relu'}}, got {config!r}")
    return name


def get(identifier):
    """The activation function for `identifier`: a name ('relu', 'swish', ...), Keras's saved
    form of one (a dict, see deserialize), a function (given back as it is, as Keras does), or
    None, which means linear."""
    if identifier is None:
        return linear
    if isinstance(identifier, dict):
        identifier = name_in_config(identifier, "activations.get()")
    if isinstance(identifier, str):
        return function_named(identifier, "activations.get()")
    if callable(identifier):
        return identifier
    raise TypeError(f"activations.get(): expected a name like 'relu', a function or None, "
                    f"got {identifier!r} ({type(identifier).__name__})")


def serialize(activation):
    """The name a .keras file saves for one of this module's functions: serialize(relu) ->
    'relu', serialize(swish) -> 'silu' (Keras's name for it)."""
    if isinstance(activation, str):
        raise TypeError(f"activations.serialize() takes a function such as "
                        f"activations.relu and gives its name; got the string "
                        f"{activation!r}, which is a name already "
                        f"(activations.get({activation!r}) gives the function)")
    if any(activation is function for function in FUNCTIONS.values()):
        return activation.__name__
    name = getattr(activation, "__name__", repr(activation))
    if name in FUNCTIONS and getattr(activation, "__module__", "").startswith("tinynet."):
        # LeakyReLU(0.1).activation: the layer's own leaky_relu, with its slope
        raise ValueError(f"activations.serialize(): this {name} is not "
                         f"tinynet.activations.{name} but a layer's own (with the layer's "
                         f"settings, such as LeakyReLU's slope), which a name cannot hold; a "
                         f"file stores the layer itself")
    raise ValueError(f"activations.serialize(): {name} is not one of tinynet.activations' "
                     f"functions, so it has no name a file could store; tinynet can save: "
                     f"{', '.join(sorted(FUNCTIONS))}")


def deserialize(config, custom_objects=None):
    """The function for a name ('relu') or for Keras's saved form of one ({'module':
    'keras.activations', 'class_name': 'function', 'config': 'relu', ...}), looked up
    first in `custom_objects` (a dict name -> function) if given. None gives None, as in
    Keras."""
    if config is None:
        return None
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"activations.deserialize(custom_objects=...) must be a dict "
                        f"{{name: function}}, got {custom_objects!r}")
    name = name_in_config(config, "activations.deserialize()") \
        if isinstance(config, dict) else config
    if not isinstance(name, str):
        raise TypeError(f"activations.deserialize(): expected a name like 'relu' or Keras's "
                        f"saved form of one, got {config!r} ({type(config).__name__})")
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    return function_named(name, "activations.deserialize()")


__all__ = sorted([*FUNCTIONS, "deserialize", "get", "serialize"])


def __getattr__(name):
    """A Keras activation tinynet lacks (activations.celu) gets an error with its formula."""
    hints = {key: f"Keras's {text}; write it with NumPy" for key, text in KERAS_ONLY.items()}
    raise missing_attribute("tinynet.activations", name, __all__, hints)
