"""GaussianNoise: in training, add zero-centred Gaussian noise to every input; in inference,
do nothing. A regularizer, like Dropout: the next layer cannot rely on exact input values.

    training:  eps ~ N(0, stddev^2), the shape of x;  y = x + eps
    inference: y = x
    backward:  dx = g   (the noise does not depend on x)

As in Keras 3 (keras.layers.GaussianNoise, checked against Keras 3.15.1's source): stddev
must lie in [0, 1], and the noise is drawn anew at every training call.
"""

import numpy as np

from tinynet.config import get_rng
from tinynet.layers.base import Layer
from tinynet.validation import check_float, check_int


class GaussianNoise(Layer):
    """GaussianNoise(stddev, seed=None): adds N(0, stddev^2) noise in training only.

    stddev: the noise's standard deviation, in the units of the inputs, in [0, 1] (Keras 3
            refuses other values; standardize inputs first, so that 1 is a large noise).
    seed:   None draws the noise from tinynet's global generator (tinynet.set_seed makes it
            repeat); an int gives this layer a generator of its own, as Keras's seed= does.
    The noise is tinynet's random numbers, not Keras's: the same model trains to other
    numbers in the two libraries, as with Dropout.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stddev = check_float(stddev, "GaussianNoise(stddev=...)", 0.0, 1.0)
        self.seed = None if seed is None else check_int(seed, "GaussianNoise(seed=...)",
                                                          minimum=0)
        self.rng = None if seed is None else np.random.default_rng(self.seed)
        self.ran_forward = None

    def forward(self, x, training=False):
        """Inputs: x (N, ...); training, a bool. Returns: y, the same shape."""
        self.check_input(x, training)
        self.ran_forward = True
        if not training or self.stddev == 0.0:
            return x
        noise = (self.rng or get_rng()).normal(0.0, self.stddev, size=x.shape)
        return x + noise.astype(x.dtype)

    def backward(self, grad_output):
        """Inputs: grad_output = dL/dy. Returns: dL/dx = grad_output (y = x + a constant)."""
        self.check_grad_output(grad_output, self.ran_forward)
        return grad_output
