"""GaussianDropout: in training, multiply every input by Gaussian noise of mean 1; in
inference, do nothing. Dropout's Gaussian cousin ("Multiplicative Gaussian Noise" in
Srivastava et al. 2014, "Dropout: A Simple Way to Prevent Neural Networks from Overfitting";
as Deeplearning4j's GaussianDropout docs cite it): the noise has the variance
of Dropout's multiplier, so the expected output equals the input, as in (inverted) Dropout.

    training:  m ~ N(1, rate / (1 - rate)), the shape of x;  y = x * m
    inference: y = x
    backward:  dx = g * m   (or g in inference)

As in Keras 3 (keras.layers.GaussianDropout, checked against Keras 3.15.1's source): the
standard deviation is sqrt(rate / (1 - rate)), Dropout(rate)'s multiplier's.
"""

import math

import numpy as np

from tinynet.config import get_rng
from tinynet.layers.base import Layer
from tinynet.validation import check_float, check_int


class GaussianDropout(Layer):
    """GaussianDropout(rate, seed=None): multiplies each input by N(1, rate / (1 - rate))
    noise in training only.

    rate: in [0, 1), the dropout rate whose variance the noise has (Keras 3 also takes 1,
          which gives an infinite variance; tinynet refuses it).
    seed: None draws the noise from tinynet's global generator; an int gives this layer a
          generator of its own, as Keras's seed= does.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = check_float(rate, "GaussianDropout(rate=...)", 0.0, 1.0, high_open=True)
        self.seed = None if seed is None else check_int(seed, "GaussianDropout(seed=...)",
                                                          minimum=0)
        self.rng = None if seed is None else np.random.default_rng(self.seed)
        self.multiplier = None
        self.ran_forward = None

    def forward(self, x, training=False):
        """Inputs: x (N, ...); training, a bool. Returns: y, the same shape."""
        self.check_input(x, training)
        self.ran_forward = True
        if not training or self.rate == 0.0:
            self.multiplier = None
            return x
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        self.multiplier = (self.rng or get_rng()).normal(1.0, stddev, size=x.shape).astype(x.dtype)
        return x * self.multiplier

    def backward(self, grad_output):
        """Inputs: grad_output = dL/dy. Returns: dL/dx = grad_output * m, the same noise."""
        self.check_grad_output(grad_output, self.ran_forward)
        if self.multiplier is None:
            return grad_output
        return grad_output * self.multiplier
