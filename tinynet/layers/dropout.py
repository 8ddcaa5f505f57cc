"""Dropout (inverted): in training, zero each unit with probability `rate` and scale the
survivors by 1 / (1 - rate), so the expected output equals the input; in inference, do nothing.

    training:  mask ~ Bernoulli(1 - rate), the shape of x;  y = x * mask / (1 - rate)
    inference: y = x
    backward:  dx = g * mask / (1 - rate)   (or g in inference)
"""

import numpy as np

from tinynet.config import get_rng
from tinynet.layers.base import Layer
from tinynet.validation import check_float, check_int


class Dropout(Layer):
    """Dropout(rate, noise_shape=None, seed=None): rate in [0, 1) is the fraction of units
    dropped in training.

    noise_shape: Keras's (the same mask along some axes); only None, its default, here.
    seed: None draws the masks from tinynet's global generator (tinynet.set_seed makes them
    repeat); an int gives this layer a generator of its own, as Keras's seed= does.
    """

    keras_only_arguments = (*Layer.keras_only_arguments, "noise_shape")

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        # noise_shape is second, as in Keras (Dropout(0.5, None, 42)); anything but None is
        # refused with what it does in Keras
        super().__init__(**({"noise_shape": noise_shape} if noise_shape is not None else {}),
                         **kwargs)
        self.rate = check_float(rate, "Dropout(rate=...)", 0.0, 1.0, high_open=True)
        self.seed = None if seed is None else check_int(seed, "Dropout(seed=...)", minimum=0)
        self.rng = None if seed is None else np.random.default_rng(self.seed)
        self.scaled_mask = None
        self.ran_forward = None

    def forward(self, x, training=False):
        """Inputs: x (N, ...); training, a bool. Returns: y, the same shape."""
        self.check_input(x, training)
        self.ran_forward = True
        if not training or self.rate == 0.0:
            self.scaled_mask = None
            return x
        keep = 1.0 - self.rate
        mask = (self.rng or get_rng()).random(x.shape) < keep
        self.scaled_mask = mask.astype(x.dtype) / x.dtype.type(keep)
        return x * self.scaled_mask

    def backward(self, grad_output):
        """Inputs: grad_output = dL/dy. Returns: dL/dx = grad_output * mask / (1 - rate)."""
        self.check_grad_output(grad_output, self.ran_forward)
        if self.scaled_mask is None:
            return grad_output
        return grad_output * self.scaled_mask
