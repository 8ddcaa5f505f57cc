"""Activation layers: an elementwise (or, for softmax, row-wise) nonlinearity.

Each activation is a pair of functions on arrays of any shape, (N, D) or (N, H, W, C):

    relu     y = max(x, 0)                  dL/dx = dL/dy * (y > 0)
    sigmoid  y = 1 / (1 + exp(-x))          dL/dx = dL/dy * y * (1 - y)
    tanh     y = tanh(x)                    dL/dx = dL/dy * (1 - y^2)
    linear   y = x                          dL/dx = dL/dy
    softmax  y_i = exp(x_i) / sum_j exp(x_j)
             dL/dx_i = y_i * (dL/dy_i - sum_j dL/dy_j * y_j)

Each derivative takes dL/dy, the input x and the output y, and uses whichever is simpler
(for the five above, y alone): derivative(grad_output, x, y) -> dL/dx.
"""

import numpy as np

from tinynet.layers.base import Layer
from tinynet.validation import unknown_name_error


def relu(x):
    return np.maximum(x, 0)


def relu_backward(grad_output, x, y):
    return grad_output * (y > 0)


def sigmoid(x):
    # exp(-x) overflows for very negative x; exp(-|x|) never does, and
    # sigmoid(x) = e / (1 + e) with e = exp(x) for x < 0 gives the same value.
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


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


ACTIVATIONS = {
    "relu": (relu, relu_backward),
    "sigmoid": (sigmoid, sigmoid_backward),
    "tanh": (tanh, tanh_backward),
    "linear": (linear, linear_backward),
    "softmax": (softmax, softmax_backward),
}


def check_activation_name(name, where):
    """'ReLU' -> 'relu'; None -> 'linear'; unknown names get the list of valid ones."""
    if name is None:
        return "linear"
    if not isinstance(name, str):
        raise TypeError(f"{where}: activation must be a name like 'relu', got {name!r}")
    key = name.lower()
    if key not in ACTIVATIONS:
        raise unknown_name_error(f"activation in {where}", name, ACTIVATIONS)
    return key


class Activation(Layer):
    """Applies a named nonlinearity: Activation('relu'), 'sigmoid', 'tanh', 'linear', 'softmax'.

    Shapes: x (N, ...) -> y of the same shape. No parameters.
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = check_activation_name(activation, type(self).__name__)
        self.function, self.derivative = ACTIVATIONS[self.activation]
        self.x = None
        self.y = None

    def forward(self, x, training=False):
        """Inputs: x, any shape (N, ...). Returns: y = activation(x), the same shape."""
        self.x = x
        self.y = self.function(x)
        return self.y

    def backward(self, grad_output):
        """Inputs: grad_output = dL/dy, the shape of y. Returns: dL/dx, the same shape."""
        if self.y is None:
            raise RuntimeError(f"{self.where}.backward was called before forward: call "
                               f"forward(x, training=True) first")
        if getattr(grad_output, "shape", None) != self.y.shape:
            raise ValueError(f"{self.where}.backward: grad_output must have the shape of the "
                             f"last output, {self.y.shape}, got "
                             f"{getattr(grad_output, 'shape', type(grad_output).__name__)}")
        return self.derivative(grad_output, self.x, self.y)


class ReLU(Activation):
    """y = max(x, 0)."""

    def __init__(self, **kwargs):
        super().__init__("relu", **kwargs)


class Sigmoid(Activation):
    """y = 1 / (1 + exp(-x))."""

    def __init__(self, **kwargs):
        super().__init__("sigmoid", **kwargs)


class Tanh(Activation):
    """y = tanh(x)."""

    def __init__(self, **kwargs):
        super().__init__("tanh", **kwargs)


class Softmax(Activation):
    """y_i = exp(x_i) / sum_j exp(x_j), over the last axis."""

    def __init__(self, **kwargs):
        super().__init__("softmax", **kwargs)
