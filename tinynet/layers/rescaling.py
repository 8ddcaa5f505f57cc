"""Rescaling: multiply every input value by a fixed `scale` and add a fixed `offset`.

    forward:   y  = x * scale + offset
    backward:  dx = g * scale          (offset is a constant: its derivative is 0)

The usual use is a model's first layer that turns pixel values into small numbers: 0..255 to
0..1 with Rescaling(1./255) (TensorFlow's image-classification tutorial), or to -1..1 with
Rescaling(scale=1/127.5, offset=-1) (Keras's guides). Doing it inside the model means the
model takes raw images at prediction time too, and a saved model remembers it.

Nothing is learned: the layer has no weights. scale and offset may also be arrays that
broadcast against one sample (e.g. one scale per channel, shape (3,) for RGB images).
The formula, the argument names and defaults, and what a .keras file holds are those of
Keras 3.15.1's keras.layers.Rescaling (keras/src/layers/preprocessing/rescaling.py), checked
by running it: tests/data/make_keras_preprocessing_reference.py.
"""

import numbers

import numpy as np

from tinynet.layers.base import Layer, check_input_shape
from tinynet.validation import to_float_array


class Rescaling(Layer):
    """Rescaling(scale, offset=0.0): y = x * scale + offset, in training and inference alike.

    scale, offset: numbers, or arrays (lists) that broadcast against one sample, e.g. shape
    (3,) for one value per channel of RGB images. They are kept as given (layer.scale,
    layer.offset), which is what get_config and a saved .keras file hold.
    plus name, dtype, input_shape (see Layer). No weights.

    Integer inputs (uint8 images) are fine: the layer computes in its float type, as Keras's
    does, so Rescaling(1./255) of a pixel of 255 is 1.0.
    """

    weightless = True  # nothing to create: build only checks that scale and offset fit

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = check_factor(scale, "Rescaling(scale=...)")
        self.offset = check_factor(offset, "Rescaling(offset=...)")
        # in the layer's float type once, so forward does not convert them at every step
        with np.errstate(over="ignore"):  # an overflow is refused just below, in words
            self.scale_array = np.asarray(self.scale, dtype=self.dtype)
            self.offset_array = np.asarray(self.offset, dtype=self.dtype)
        for name in ("scale", "offset"):  # 1e40 is finite, and 1e-50 not 0, but not in float32
            given, kept = np.asarray(getattr(self, name), float), getattr(self, f"{name}_array")
            if not np.all(np.isfinite(kept)) or np.any((kept == 0) & (given != 0)):
                raise ValueError(f"Rescaling({name}=...) must be finite and, if not 0, not "
                                 f"round to 0 in the layer's type {self.dtype}, got "
                                 f"{getattr(self, name)!r}")
        self.ran_forward = None

    def build(self, input_shape):
        input_shape = check_input_shape(self, input_shape)
        for name in ("scale", "offset"):
            check_broadcasts(self, name, getattr(self, f"{name}_array"), input_shape)
        super().build(input_shape)

    def forward(self, x, training=False):
        """Inputs: x (N, ...). Returns: y = x * scale + offset, the same shape. `training`
        changes nothing."""
        self.check_input(x)
        self.ran_forward = True
        return x * self.scale_array + self.offset_array

    def backward(self, grad_output):
        """Inputs: grad_output = dL/dy (N, ...). Returns: dL/dx = grad_output * scale, the
        same shape."""
        self.check_grad_output(grad_output, self.ran_forward)
        return grad_output * self.scale_array


def check_factor(value, name):
    """scale or offset: a real number (kept as given, int or float, as Keras writes it in a
    config), or an array-like of finite real numbers (a list or tuple is kept as a list and
    an array as a copy of itself, as Keras keeps and writes them). TypeError or ValueError
    naming the argument otherwise."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        if not np.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value}")
        return value
    if isinstance(value, (bool, np.bool_, str)) or value is None:
        raise TypeError(f"{name} must be a number or an array of numbers, got {value!r}")
    # refuses text, NaN, ragged lists; a 0-d array is one number, as Keras takes it
    array = to_float_array(value, name, dtype="float64", min_ndim=0)
    if isinstance(value, (list, tuple)):  # a list, as Keras writes it in a config
        return list(value)
    return np.array(value) if isinstance(value, np.ndarray) else array


def check_broadcasts(layer, name, factor, input_shape):
    """scale (or offset) must broadcast against one sample without changing the output's
    shape: (3,) fits images (N, H, W, 3); (5,) does not fit samples of 3 features."""
    sample = (1, *input_shape[1:])
    try:
        fits = np.broadcast_shapes(sample, factor.shape) == sample
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(f"{layer.where}: {name} of shape {factor.shape} does not broadcast "
                         f"against samples of shape {tuple(input_shape[1:])}; give a number, "
                         f"or an array of shape {tuple(input_shape[-1:])} (one value per "
                         f"feature or channel)")
