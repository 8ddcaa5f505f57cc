"""Activation layers: an elementwise (or, for softmax, row-wise) nonlinearity.

Each activation is a pair of functions on arrays of any shape, (N, D) or (N, H, W, C):

    relu     y = max(x, 0)                  dL/dx = dL/dy * (y > 0)
    sigmoid  y = 1 / (1 + exp(-x))          dL/dx = dL/dy * y * (1 - y)
    tanh     y = tanh(x)                    dL/dx = dL/dy * (1 - y^2)
    linear   y = x                          dL/dx = dL/dy
    softmax  y_i = exp(x_i) / sum_j exp(x_j)
             dL/dx_i = y_i * (dL/dy_i - sum_j dL/dy_j * y_j)

More, as Keras 3 defines them (s(x) is the sigmoid, Phi the standard normal CDF):

    elu           y = x if x > 0, else exp(x) - 1                 dy/dx = 1, or y + 1
    selu          y = lam * (x if x > 0, else alpha (exp(x) - 1))  dy/dx = lam, or y + lam alpha
                  with alpha = 1.67326..., lam = 1.05070...
    leaky_relu    y = x if x >= 0, else 0.2 x                     dy/dx = 1, or 0.2
    gelu          y = x * Phi(x) = x (1 + erf(x / sqrt 2)) / 2    dy/dx = Phi(x) + x * phi(x)
    softplus      y = log(1 + exp(x))                             dy/dx = s(x)
    swish, silu   y = x * s(x)                                    dy/dx = s(x) (1 + x (1 - s(x)))
    hard_sigmoid  y = clip(x / 6 + 1/2, 0, 1)                     dy/dx = 1/6 on (-3, 3), else 0

Each derivative takes dL/dy, the input x and the output y, and uses whichever is simpler
(for the first five, y alone): derivative(grad_output, x, y) -> dL/dx.
"""

import math
import warnings

import numpy as np

from tinynet.layers.base import (
    Layer,
    check_input_shape,
    check_last_axis_at_build,
    grad_output_error,
    same_value,
)
from tinynet.validation import (
    check_float,
    constructor_arguments,
    unknown_argument_error,
    unknown_name_error,
)


def relu(x):
    return np.maximum(x, 0)


def relu_backward(grad_output, x, y):
    return grad_output * (y > 0)


def sigmoid(x):
    # exp(-x) overflows for very negative x; e = exp(-|x|) never does. For x >= 0,
    # sigmoid(x) = 1 / (1 + e); for x < 0, e = exp(x) and sigmoid(x) = e / (1 + e), the same
    # value written without overflow. One division serves both: 1 or e over 1 + e.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1, e) / (1 + e)


def sigmoid_backward(grad_output, x, y):
    return grad_output * y * (1 - y)


def tanh(x):
    return np.tanh(x)


def tanh_backward(grad_output, x, y):
    return grad_output * (1 - y * y)


def linear(x):
    return x


def linear_backward(grad_output, x, y):
    return grad_output


def softmax(x):
    # subtracting the row max leaves softmax unchanged and keeps exp from overflowing
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def softmax_backward(grad_output, x, y):
    return y * (grad_output - np.sum(grad_output * y, axis=-1, keepdims=True))


def elu(x):
    # expm1(x) = exp(x) - 1 without the round-off of subtracting 1 near x = 0
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


def elu_backward(grad_output, x, y):
    return grad_output * np.where(x > 0, 1, y + 1)


# SELU's constants (Klambauer et al. 2017), as Keras 3's source (keras/src/backend/numpy/nn.py)
# and PyTorch's torch.nn.SELU documentation give them.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(x):
    return SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0)))


def selu_backward(grad_output, x, y):
    return grad_output * np.where(x > 0, SELU_SCALE, y + SELU_SCALE * SELU_ALPHA)


# keras.activations.leaky_relu's default negative_slope (the LeakyReLU layer's is 0.3): Keras
# 3.15's source (keras/src/activations/activations.py) and the keras.io activations page.
LEAKY_RELU_SLOPE = 0.2


def leaky_relu(x):
    return np.where(x >= 0, x, LEAKY_RELU_SLOPE * x)


def leaky_relu_backward(grad_output, x, y):
    # at x = 0 exactly, the slope 0.2 (as torch's autograd, which Keras trains with, takes it)
    return np.where(x > 0, grad_output, LEAKY_RELU_SLOPE * grad_output)


# NumPy has no erf; math.erf applied to every entry is exact, if slower than NumPy's own
# functions. Keras's default is this exact GELU (approximate=False), not the tanh formula.
_erf = np.frompyfunc(math.erf, 1, 1)


def normal_cdf(x):
    """Phi(x) = (1 + erf(x / sqrt(2))) / 2, the probability that N(0, 1) is below x."""
    return (0.5 * (1 + _erf(x / math.sqrt(2)))).astype(x.dtype)


def gelu(x):
    return x * normal_cdf(x)


def gelu_backward(grad_output, x, y):
    density = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)  # phi(x), the N(0, 1) density
    return grad_output * (normal_cdf(x) + x * density)


def softplus(x):
    return np.logaddexp(x, 0)  # log(exp(x) + exp(0)), computed without overflow


def softplus_backward(grad_output, x, y):
    return grad_output * sigmoid(x)


def silu(x):
    return x * sigmoid(x)


def silu_backward(grad_output, x, y):
    s = sigmoid(x)
    return grad_output * s * (1 + x * (1 - s))


def hard_sigmoid(x):
    return np.clip(x / 6 + 0.5, 0, 1)


def hard_sigmoid_backward(grad_output, x, y):
    return grad_output * ((x > -3) & (x < 3)) / 6


ACTIVATIONS = {
    "relu": (relu, relu_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "tanh": (tanh, tanh_backward),
    "linear": (linear, linear_backward),
    "softmax": (softmax, softmax_backward),
    "elu": (elu, elu_backward),
    "selu": (selu, selu_backward),
    "leaky_relu": (leaky_relu, leaky_relu_backward),
    "gelu": (gelu, gelu_backward),
    "softplus": (softplus, softplus_backward),
    "silu": (silu, silu_backward),
    "swish": (silu, silu_backward),  # Keras: the same function under two names
    "hard_sigmoid": (hard_sigmoid, hard_sigmoid_backward),
}


def check_activation_name(name, where):
    """'ReLU' -> 'relu'; None -> 'linear'; a function of tinynet.activations (Keras code
    passes keras.activations.relu) -> its name; unknown names get the list of valid ones."""
    if name is None:
        return "linear"
    if isinstance(name, Activation):  # ReLU(), Activation('tanh'): the function it applies
        if isinstance(name, LeakyReLU):  # (its slope would be lost in a name)
            raise TypeError(f"{where}: activation=LeakyReLU(...) is a layer with its own slope; "
                            f"in tinynet put it after this layer as a layer of its own, e.g. "
                            f"Dense(64), LeakyReLU(negative_slope={name.negative_slope:g})")
        return name._activation_name
    if callable(name) and getattr(name, "__module__", None) == "tinynet.activations":
        if name.__name__ not in ACTIVATIONS:  # relu6, mish, ...: no derivative here
            raise ValueError(f"{where}: activations.{name.__name__} works on arrays only; "
                             f"tinynet's layers have no derivative for it. They take "
                             f"{', '.join(sorted(ACTIVATIONS))}")
        name = name.__name__  # swish is silu, whose name is 'silu'
    if not isinstance(name, str):
        raise TypeError(f"{where}: activation must be a name like 'relu' or a function of "
                        f"tinynet.activations, got {name!r}; a function of your own cannot be "
                        f"used, because tinynet also needs its derivative (write a layer with "
                        f"forward and backward instead, see tinynet.layers.Layer)")
    key = name.lower()
    if key not in ACTIVATIONS:
        from tinynet import activations  # here: that module imports this one

        if callable(getattr(activations, key, None)):  # 'relu6', 'mish': arrays only
            raise ValueError(f"{where}: activation '{name}' is a function of "
                             f"tinynet.activations that works on arrays only; tinynet's layers "
                             f"have no derivative for it. They take "
                             f"{', '.join(sorted(ACTIVATIONS))}")
        raise unknown_name_error(f"activation in {where}", name, ACTIVATIONS)
    return key


class Activation(Layer):
    """Applies a named nonlinearity: Activation('relu'), 'sigmoid', 'tanh', 'linear', 'softmax',
    'elu', 'selu', 'leaky_relu', 'gelu', 'softplus', 'swish' (= 'silu'), 'hard_sigmoid'.

    Shapes: x (N, ...) -> y of the same shape. No parameters.
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activation  # sets function and derivative too (see below)
        self.x = None
        self.y = None

    @property
    def activation(self):
        """The function, as Keras gives it: tinynet.activations.relu for Activation('relu'),
        which works on arrays of any shape (its __name__ is 'relu'; get_config()['activation']
        gives the name too). May be set, as Keras code does (layer.activation = 'linear', or a
        function of tinynet.activations): the layer then applies the new function."""
        from tinynet import activations  # here: that module imports this one

        return activations.get(self._activation_name)

    @activation.setter
    def activation(self, value):
        name = check_activation_name(value, type(self).__name__)
        if type(self) is not Activation and hasattr(self, "_activation_name"):
            # ReLU(), LeakyReLU(0.1), ...: the class is the function (and its settings)
            if name != self._activation_name:
                raise TypeError(f"{type(self).__name__} is the {self._activation_name} "
                                f"activation; for another function use Activation({name!r})")
            return
        self._activation_name = name
        self.function, self.derivative = ACTIVATIONS[name]

    def forward(self, x, training=False):
        """Inputs: x, a float array of any shape (N, ...), N > 0. Returns: y = activation(x),
        the same shape."""
        self.check_input(x)
        self.x = x
        self.y = self.function(x)
        return self.y

    def backward(self, grad_output):
        """Inputs: grad_output = dL/dy, the shape of y. Returns: dL/dx, the same shape."""
        # check_grad_output's test, made cheaper by comparing with the output y itself (it
        # runs at every step: as a layer, and inside every Conv2D backward; Dense calls its
        # activation's derivative directly, after its own check). grad_output_error returns
        # None when a closer look finds nothing wrong (an ndarray subclass such as np.memmap)
        if (self.y is None or type(grad_output) is not np.ndarray
                or grad_output.dtype.kind != "f" or grad_output.shape != self.y.shape) \
                and (error := grad_output_error(self, grad_output, self.y)) is not None:
            raise error
        return self.derivative(grad_output, self.x, self.y)


def activation_attribute():
    """The `activation` of a layer that applies one after its own step (Dense, Conv2D), as
    Keras has it: the function (tinynet.activations.relu; layer.activation(x) works on an
    array, layer.activation.__name__ is 'relu'). Keras code may set it as Keras allows:
    layer.activation = None (linear; Grad-CAM's model.layers[-1].activation = None gives the
    logits), a name such as 'relu', or a function of tinynet.activations. The layer applies
    it through an Activation layer of its own, `activation_layer`, whose function and
    derivative its forward and backward call."""

    def get_activation(layer):
        return layer.activation_layer.activation

    def set_activation(layer, value):
        where = f"{type(layer).__name__}.activation"
        if isinstance(value, LeakyReLU):  # its slope would be lost: only a name is kept
            raise TypeError(f"{where}: a LeakyReLU layer has a slope that an activation set "
                            f"this way would lose; add it to the model as a layer instead")
        if isinstance(value, Activation):  # by its name: the layer keeps one of its own,
            value = value.activation       # never shared with another layer
        layer.activation_layer = Activation(check_activation_name(value, where),
                                            dtype=layer.dtype)
        # a backward after this would pair the new derivative with the old function's
        # outputs: the layer forgets its last forward, so that backward asks for a new one
        if hasattr(layer, "forget_forward"):
            layer.forget_forward()

    return property(get_activation, set_activation)


class NamedActivation(Activation):
    """An activation layer whose class is its function: ReLU(), Sigmoid(), Tanh(), Softmax().
    It takes the common arguments (name, dtype, ...) and no `activation`."""

    function_name = None
    # arguments of Keras's class of the same name that tinynet's lacks: what they do in Keras,
    # and their Keras default, at which they change nothing and are accepted
    keras_arguments = {}

    def __init__(self, **kwargs):
        check_named_activation_arguments(type(self), kwargs)
        super().__init__(self.function_name, **kwargs)


def check_named_activation_arguments(cls, kwargs):
    """ReLU(activation='tanh'), ReLU(max_value=6), Softmax(axis=1): a TypeError that says
    what the argument would mean and what to do instead. A Keras argument at its Keras
    default (ReLU(max_value=None)) is taken out of kwargs."""
    where = f"{cls.__name__}()"
    valid = constructor_arguments(cls) - {"activation"}
    for key in list(kwargs):
        if key == "activation":
            raise TypeError(f"{where} is the {cls.function_name} activation and takes no "
                            f"activation argument; for another function use "
                            f"Activation({kwargs[key]!r})")
        if key in cls.keras_arguments:
            text, default = cls.keras_arguments[key]
            if same_value(kwargs[key], default):
                del kwargs[key]  # Keras's default: changes nothing, so it is dropped
                continue
            raise TypeError(f"{where}: tinynet's {cls.__name__} has no {key} argument. "
                            f"{text} Valid arguments: {', '.join(sorted(valid))}")
    # Layer's own Keras-only arguments (autocast) are left to Layer.__init__
    unknown = {key: value for key, value in kwargs.items()
               if key not in valid and key not in cls.keras_only_arguments}
    if unknown:
        raise unknown_argument_error(where, unknown, valid)


# What Keras's ReLU(max_value=None, negative_slope=0.0, threshold=0.0) and Softmax(axis=-1)
# arguments do: keras.io/api/layers/activation_layers/relu (f(x) = max_value if x >= max_value,
# x if threshold <= x < max_value, negative_slope * (x - threshold) otherwise) and
# tensorflow.org/api_docs/python/tf/keras/layers/Softmax ("axis along which the softmax
# normalization is applied").
class ReLU(NamedActivation):
    """y = max(x, 0)."""

    function_name = "relu"
    keras_arguments = {
        "max_value": ("Keras's ReLU(max_value=m) caps the output at m (max_value=6 is ReLU6); "
                      "tinynet's ReLU is max(x, 0), without a cap.", None),
        "negative_slope": ("Keras's ReLU(negative_slope=a) is a leaky ReLU, a * x below 0; "
                           "use LeakyReLU(negative_slope=a) for one.", 0.0),
        "threshold": ("Keras's ReLU(threshold=t) sets the values below t to 0; tinynet's "
                      "ReLU thresholds at 0.", 0.0),
    }


class LeakyReLU(Activation):
    """y = x for x >= 0, negative_slope * x below 0; Keras's LeakyReLU(negative_slope=0.3).

    Its default slope is the layer's in Keras, 0.3 (keras.io/api/layers/activation_layers/
    leaky_relu, tensorflow.org's tf.keras.layers.LeakyReLU page, where Keras 2 called it
    alpha, and Keras 3.15's inspect.signature); Activation('leaky_relu') uses the
    function keras.activations.leaky_relu, whose default slope is 0.2.
    Backward: dL/dx = dL/dy for x > 0, negative_slope * dL/dy otherwise (at x = 0 exactly the
    slope, as torch's autograd, which Keras trains with, takes it).
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:  # Keras 2's name, which Keras 3 still takes, with this warning
            negative_slope = kwargs.pop("alpha")
            warnings.warn("LeakyReLU: argument `alpha` is deprecated. Use `negative_slope` "
                          "instead.", stacklevel=2)
        if "activation" in kwargs:
            raise TypeError(f"LeakyReLU() is the leaky ReLU and takes no activation argument; "
                            f"for another function use Activation({kwargs['activation']!r})")
        where = "LeakyReLU(negative_slope=...)"
        self.negative_slope = check_float(negative_slope, where, low=0.0)  # Keras: >= 0
        super().__init__("leaky_relu", **kwargs)
        self.function, self.derivative = self.leaky_relu, self.leaky_relu_backward

    @property
    def activation(self):
        """keras.activations.leaky_relu with this layer's slope (the function's own default
        is 0.2): what the layer computes, as a function of an array."""
        from tinynet import activations  # here: that module imports this one

        slope = self.negative_slope

        def leaky_relu(x):
            return activations.leaky_relu(x, negative_slope=slope)

        return leaky_relu

    @activation.setter
    def activation(self, value):
        Activation.activation.fset(self, value)  # only its own function is accepted

    def leaky_relu(self, x):
        return np.where(x >= 0, x, self.negative_slope * x)

    def leaky_relu_backward(self, grad_output, x, y):
        return np.where(x > 0, grad_output, self.negative_slope * grad_output)


class Sigmoid(NamedActivation):
    """y = 1 / (1 + exp(-x))."""

    function_name = "sigmoid"


class Tanh(NamedActivation):
    """y = tanh(x)."""

    function_name = "tanh"


class Softmax(NamedActivation):
    """y_i = exp(x_i) / sum_j exp(x_j), over the last axis.

    axis: -1 (Keras's default), or the index of the last axis (1 for outputs (N, K), as a
    Keras file may hold it), checked when the layer is built. Keras's Softmax(axis=k)
    normalizes along any axis k; tinynet's only along the last (transpose another axis to
    the end)."""

    function_name = "softmax"

    def __init__(self, axis=-1, **kwargs):
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) or axis < -1:
            raise TypeError(f"Softmax(axis=...) must be -1 or the index of the last axis (an "
                            f"int), got {axis!r}")
        self.axis = int(axis)
        super().__init__(**kwargs)

    def build(self, input_shape):
        input_shape = check_input_shape(self, input_shape)
        check_last_axis_at_build(self, self.axis, input_shape,
                                 "tinynet's Softmax normalizes over the last axis only "
                                 "(axis=-1): transpose that axis to the end")
        super().build(input_shape)
