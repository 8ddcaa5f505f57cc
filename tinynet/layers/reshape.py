"""Flatten and Reshape: the same numbers, arranged in a different shape.

Neither layer computes anything, so backward only puts the gradient back into the input's
shape: dL/dx = reshape(dL/dy, x.shape). Values keep their row-major (C) order, as in Keras, so
Flatten turns an image (H, W, C) into the vector [x[0, 0, :], x[0, 1, :], ...]: channels vary
fastest. (PyTorch's images are (C, H, W), so its flattened vector has another order: weights
of a Dense layer after Flatten cannot be copied between the two without reordering.)
"""

import numpy as np

from tinynet.layers.base import Layer
from tinynet.validation import check_int


class Flatten(Layer):
    """Flatten(data_format=None): each sample becomes a vector (data_format: None or
    'channels_last', Keras's first argument). Shapes: x (N, d1, d2, ...) -> y (N, d1*d2*...).
    """

    keras_only_arguments = (*Layer.keras_only_arguments, "data_format")

    def __init__(self, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)  # Layer checks it: channels last
        self.x_shape = None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], int(np.prod(input_shape[1:])))

    def forward(self, x, training=False):
        """Inputs: x (N, ...). Returns: y (N, size of one sample)."""
        self.check_input(x)
        self.x_shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, grad_output):
        """Inputs: grad_output (N, size of one sample). Returns: dL/dx, the shape of x."""
        self.check_grad_output(grad_output, self.x_shape)
        return grad_output.reshape(self.x_shape)


class Reshape(Layer):
    """Reshape(target_shape): each sample gets the shape target_shape, e.g. (28, 28, 1); one
    entry may be -1, meaning "whatever size makes the numbers fit" (as in NumPy and Keras).

    Shapes: x (N, ...) -> y (N, *target_shape).
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, (int, np.integer)) and not isinstance(target_shape, bool):
            target_shape = (target_shape,)
        if not isinstance(target_shape, (tuple, list)) or not target_shape:
            raise TypeError(f"Reshape(target_shape=...) must be a tuple of ints such as "
                            f"(28, 28, 1), got {target_shape!r}")
        sizes = tuple(check_int(size, "Reshape(target_shape=...) entries", minimum=-1)
                      for size in target_shape)
        if 0 in sizes or sizes.count(-1) > 1:
            raise ValueError(f"Reshape(target_shape={tuple(target_shape)}): the sizes must be "
                             f"positive, with at most one -1, got {tuple(target_shape)}")
        self.target_shape = sizes
        self.x_shape = None

    def compute_output_shape(self, input_shape):
        size = int(np.prod(input_shape[1:]))
        known = int(np.prod([s for s in self.target_shape if s != -1]))
        fits = size % known == 0 if -1 in self.target_shape else size == known
        if not fits:
            raise ValueError(f"{self.where}: samples of shape {tuple(input_shape[1:])} hold "
                             f"{size} numbers, which cannot be arranged as "
                             f"{self.target_shape}")
        shape = tuple(size // known if s == -1 else s for s in self.target_shape)
        return (input_shape[0], *shape)

    def forward(self, x, training=False):
        """Inputs: x (N, ...). Returns: y (N, *target_shape)."""
        self.check_input(x)
        self.x_shape = x.shape
        return x.reshape(x.shape[0], *self.output_shape[1:])

    def backward(self, grad_output):
        """Inputs: grad_output (N, *target_shape). Returns: dL/dx, the shape of x."""
        self.check_grad_output(grad_output, self.x_shape)
        return grad_output.reshape(self.x_shape)
