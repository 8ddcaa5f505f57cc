"""Dropout (inverted): in training, zero each unit with probability `rate` and scale the
survivors by 1 / (1 - rate), so the expected output equals the input; in inference, do nothing.

    training:  mask ~ Bernoulli(1 - rate), shape (N, D);  y = x * mask / (1 - rate)
    inference: y = x
    backward:  dx = g * mask / (1 - rate)   (or g in inference)
"""

from tinynet.config import get_rng
from tinynet.layers.base import Layer
from tinynet.validation import check_float


class Dropout(Layer):
    """Dropout(rate): rate in [0, 1) is the fraction of units dropped during training."""

    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_float(rate, "Dropout(rate=...)", 0.0, 1.0, high_open=True)
        self.scaled_mask = None

    def forward(self, x, training=False):
        if not training or self.rate == 0.0:
            self.scaled_mask = None
            return x
        keep = 1.0 - self.rate
        mask = get_rng().random(x.shape) < keep
        self.scaled_mask = mask.astype(x.dtype) / x.dtype.type(keep)
        return x * self.scaled_mask

    def backward(self, grad_output):
        if self.scaled_mask is None:
            return grad_output
        return grad_output * self.scaled_mask
