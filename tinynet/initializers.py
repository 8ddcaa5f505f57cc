"""Initializers: how a layer's weights start.

Each initializer is called as `init(shape, dtype)` and returns a new array. All random ones
draw from tinynet's seeded generator (`tinynet.set_seed`), so runs are reproducible.

For a Dense kernel of shape (fan_in, fan_out):
    GlorotUniform  U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))   (Keras's default)
    GlorotNormal   truncated N(0, 2 / (fan_in + fan_out))
    HeUniform      U(-limit, limit), limit = sqrt(6 / fan_in)
    HeNormal       truncated N(0, 2 / fan_in)   (good for ReLU)
Glorot keeps the variance of activations and gradients roughly equal across layers for
tanh-like units; He doubles it to make up for ReLU zeroing half of its inputs.
"""

import numpy as np

from tinynet.config import get_rng, standardize_dtype
from tinynet.validation import check_float, unknown_name_error

# A normal truncated at 2 standard deviations has a smaller spread than the untruncated one;
# dividing the wanted stddev by this constant (the truncated spread of a unit normal) makes up
# for it, as Keras's VarianceScaling does.
TRUNCATED_STD_OF_UNIT_NORMAL = 0.87962566103423978


def compute_fans(shape):
    """fan_in and fan_out of a weight shape: (in, out) for a Dense kernel."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    return int(np.prod(shape[:-1])), shape[-1]


def truncated_normal(shape, stddev, rng):
    """N(0, stddev^2) samples, redrawing any that fall beyond 2 standard deviations."""
    values = rng.normal(0.0, stddev, size=shape)
    outside = np.abs(values) > 2 * stddev
    while np.any(outside):
        values[outside] = rng.normal(0.0, stddev, size=int(outside.sum()))
        outside = np.abs(values) > 2 * stddev
    return values


class Initializer:
    """Base class: subclasses implement `__call__(shape, dtype)`."""

    def __call__(self, shape, dtype="float32"):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class Zeros(Initializer):
    def __call__(self, shape, dtype="float32"):
        return np.zeros(shape, dtype=standardize_dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype="float32"):
        return np.ones(shape, dtype=standardize_dtype(dtype))


class Constant(Initializer):
    def __init__(self, value=0.0):
        self.value = check_float(value, "Constant(value=...)")

    def __call__(self, shape, dtype="float32"):
        return np.full(shape, self.value, dtype=standardize_dtype(dtype))


class RandomNormal(Initializer):
    """N(mean, stddev^2), Keras's defaults mean=0.0, stddev=0.05."""

    def __init__(self, mean=0.0, stddev=0.05):
        self.mean = check_float(mean, "RandomNormal(mean=...)")
        self.stddev = check_float(stddev, "RandomNormal(stddev=...)", low=0.0)

    def __call__(self, shape, dtype="float32"):
        values = get_rng().normal(self.mean, self.stddev, size=shape)
        return values.astype(standardize_dtype(dtype))


class RandomUniform(Initializer):
    """U(minval, maxval), Keras's defaults -0.05 and 0.05."""

    def __init__(self, minval=-0.05, maxval=0.05):
        self.minval = check_float(minval, "RandomUniform(minval=...)")
        self.maxval = check_float(maxval, "RandomUniform(maxval=...)")
        if self.maxval < self.minval:
            raise ValueError(f"RandomUniform: maxval ({maxval}) must be >= minval ({minval})")

    def __call__(self, shape, dtype="float32"):
        values = get_rng().uniform(self.minval, self.maxval, size=shape)
        return values.astype(standardize_dtype(dtype))


class GlorotUniform(Initializer):
    """U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out))."""

    def __call__(self, shape, dtype="float32"):
        fan_in, fan_out = compute_fans(shape)
        limit = np.sqrt(6.0 / (fan_in + fan_out))
        return get_rng().uniform(-limit, limit, size=shape).astype(standardize_dtype(dtype))


class GlorotNormal(Initializer):
    """Truncated normal with variance 2 / (fan_in + fan_out)."""

    def __call__(self, shape, dtype="float32"):
        fan_in, fan_out = compute_fans(shape)
        stddev = np.sqrt(2.0 / (fan_in + fan_out)) / TRUNCATED_STD_OF_UNIT_NORMAL
        return truncated_normal(shape, stddev, get_rng()).astype(standardize_dtype(dtype))


class HeUniform(Initializer):
    """U(-limit, limit) with limit = sqrt(6 / fan_in)."""

    def __call__(self, shape, dtype="float32"):
        fan_in, _ = compute_fans(shape)
        limit = np.sqrt(6.0 / fan_in)
        return get_rng().uniform(-limit, limit, size=shape).astype(standardize_dtype(dtype))


class HeNormal(Initializer):
    """Truncated normal with variance 2 / fan_in."""

    def __call__(self, shape, dtype="float32"):
        fan_in, _ = compute_fans(shape)
        stddev = np.sqrt(2.0 / fan_in) / TRUNCATED_STD_OF_UNIT_NORMAL
        return truncated_normal(shape, stddev, get_rng()).astype(standardize_dtype(dtype))


INITIALIZERS = {
    "zeros": Zeros,
    "ones": Ones,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
}


def get(identifier, name="initializer"):
    """An Initializer from a Keras string name, an Initializer instance or a callable."""
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in INITIALIZERS:
            raise unknown_name_error(name, identifier, INITIALIZERS)
        return INITIALIZERS[key]()
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if callable(identifier):
        return identifier
    raise TypeError(f"{name} must be a name like 'glorot_uniform' or an initializer, "
                    f"got {identifier!r}")
