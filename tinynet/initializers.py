"""Initializers: how a layer's weights start.

Each initializer is called as `init(shape, dtype)` and returns a new array. All random ones
draw from tinynet's seeded generator (`tinynet.set_seed`), so runs are reproducible; given
`seed=` (an int), an initializer draws from its own generator instead and, as in Keras, gives
the same values on every call.

For a Dense kernel of shape (fan_in, fan_out) (a Conv2D kernel (kh, kw, C_in, C_out) has
fan_in = kh * kw * C_in and fan_out = kh * kw * C_out):
    GlorotUniform  U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out))   (Keras's default)
    GlorotNormal   truncated normal, kept std sqrt(2 / (fan_in + fan_out))
    HeUniform      U(-limit, limit), limit = sqrt(6 / fan_in)
    HeNormal       truncated normal, kept std sqrt(2 / fan_in)   (good for ReLU)
    LecunUniform   U(-limit, limit), limit = sqrt(3 / fan_in)
    LecunNormal    truncated normal, kept std sqrt(1 / fan_in)   (the one SELU networks need)
"Truncated normal, kept std s": drawn from N(0, (s / 0.8796...)^2) and redrawn beyond 2 of
that normal's standard deviations; cutting the tails shrinks the spread by 0.8796..., so
what is kept has std s (TRUNCATED_STD_OF_UNIT_NORMAL below).
Glorot keeps the variance of activations and gradients roughly equal across layers for
tanh-like units; He doubles it to make up for ReLU zeroing half of its inputs. All six are
VarianceScaling(scale, mode, distribution): variance = scale / n, with n = fan_in, fan_out or
their mean, drawn from a truncated normal or a uniform of that variance.

    TruncatedNormal(mean=0.0, stddev=0.05)   N(mean, stddev^2), redrawn beyond 2 stddev
                                             (what is kept has std 0.88 * stddev)
    Orthogonal(gain=1.0)                     gain * an orthogonal matrix (rows or columns)
"""

import numpy as np

from tinynet.config import get_rng, standardize_dtype
from tinynet.validation import (
    check_float,
    check_int,
    missing_attribute,
    to_float_array,
    unknown_name_error,
)

# A normal truncated at 2 standard deviations has a smaller spread than the untruncated one;
# dividing the wanted stddev by this constant (the truncated spread of a unit normal) makes up
# for it, as Keras's VarianceScaling does. The value is Keras 3's (keras-team/keras,
# keras/src/initializers/random_initializers.py) and scipy.stats.truncnorm.std(-2, 2), as
# DeepMind's Haiku and timm use it; tests/test_initializers.py derives it from erf.
TRUNCATED_STD_OF_UNIT_NORMAL = 0.87962566103423978


def compute_fans(shape):
    """fan_in and fan_out of a weight shape, Keras's rule: (in, out) for a Dense kernel
    (in, out); for a kernel (k1, ..., in, out) both are multiplied by k1 * ... (the receptive
    field): each output sees in * k1 * ... inputs."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = int(np.prod(shape[:-2]))
    return shape[-2] * receptive_field, shape[-1] * receptive_field


def draw_truncated_normal(shape, stddev, rng, mean=0.0):
    """N(mean, stddev^2) samples, redrawing any that fall beyond 2 standard deviations."""
    values = rng.normal(mean, stddev, size=shape)
    outside = np.abs(values - mean) > 2 * stddev
    while np.any(outside):
        values[outside] = rng.normal(mean, stddev, size=int(outside.sum()))
        outside = np.abs(values - mean) > 2 * stddev
    return values


class Initializer:
    """Base class: subclasses implement `__call__(shape, dtype)`."""

    config_keys = ()  # the arguments get_config gives, in Keras 3.15's order

    def __call__(self, shape, dtype=None):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"

    def get_config(self):
        """The arguments, as Keras's get_config gives them: the same keys in the same order
        (Keras 3.15.1: GlorotUniform() -> {'seed': None, 'input_axes': None, 'output_axes':
        None}; the axes are Keras's, always None in tinynet)."""
        return {key: getattr(self, key, None) for key in self.config_keys}

    @classmethod
    def from_config(cls, config):
        """The initializer a get_config() dict describes (tinynet's or Keras's)."""
        config = dict(config)
        for key in ("input_axes", "output_axes"):
            if config.pop(key, None) is not None:
                raise TypeError(f"{cls.__name__}.from_config: {key} is a Keras setting that "
                                f"tinynet does not have (fans come from the last two axes)")
        return cls(**config)


class RandomInitializer(Initializer):
    """An initializer that draws random numbers. seed=None: from tinynet's generator
    (tinynet.set_seed); an int: from a generator of its own, the same values every call.

    One difference from Keras 3: an unseeded initializer OBJECT used twice (`init =
    HeNormal()`, then two layers with kernel_initializer=init) draws new values each time in
    tinynet, while Keras 3 gives the same values again (it fixes the object's seed when it is
    made). tinynet keeps drawing, so that a loop over seeds that reuses one initializer
    object still gets a different start for every seed. For repeated values, give seed=."""

    config_keys = ("seed",)

    def __init__(self, seed=None):
        if seed is not None:
            seed = check_int(seed, f"{type(self).__name__}(seed=...)", minimum=0)
        self.seed = seed

    def rng(self):
        return get_rng() if self.seed is None else np.random.default_rng(self.seed)


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return np.zeros(shape, dtype=standardize_dtype(dtype))


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return np.ones(shape, dtype=standardize_dtype(dtype))


class Constant(Initializer):
    """Constant(value=0.0): every entry is `value`, a number, or an array that NumPy
    broadcasts to the weight's shape, as in Keras: Constant(np.array([1., 2.])) fills a (3, 2)
    kernel with three rows [1, 2], and the imbalanced-data tutorial's output bias is
    Constant(np.log([pos / neg])), one value for a (1,) bias. Whether an array fits is checked
    when the initializer is called, the first time the shape is known."""

    def __init__(self, value=0.0):
        where = "Constant(value=...)"
        if np.ndim(value) == 0:  # a number (or a NumPy scalar, or a 0-d array)
            self.value = check_float(np.asarray(value).item(), where)
        else:  # an array (or list) of numbers, kept in its own float type
            dtype = value.dtype if getattr(value, "dtype", None) in (np.float32, np.float64) \
                else np.float64
            self.value = to_float_array(value, where, dtype=dtype)

    def __call__(self, shape, dtype=None):
        """Returns: an array of `shape` and `dtype`, every row (along the axes `value` lacks)
        a copy of `value`. A ValueError if `value` cannot be broadcast to `shape`."""
        try:
            values = np.broadcast_to(self.value, shape)
        except ValueError:
            raise ValueError(f"Constant: a value of shape {np.shape(self.value)} cannot fill a "
                             f"weight of shape {tuple(shape)}; its shape must broadcast to "
                             f"the weight's (e.g. shape {tuple(shape)[-1:]} or (1,))") from None
        return values.astype(standardize_dtype(dtype))  # astype copies: a writable array

    def __repr__(self):
        return f"Constant(value={self.value!r})"

    def get_config(self):
        """Keras's config: {'value': the number}, or for an array Keras's NumPy wrapper,
        {'value': {'class_name': '__numpy__', 'config': {'value': [...], 'dtype': ...}}}."""
        if isinstance(self.value, float):
            return {"value": self.value}
        return {"value": {"class_name": "__numpy__",
                          "config": {"value": self.value.tolist(),
                                     "dtype": str(self.value.dtype)}}}

    @classmethod
    def from_config(cls, config):
        """The Constant a get_config() dict (tinynet's or Keras's) describes."""
        value = config.get("value", 0.0)
        if isinstance(value, dict) and value.get("class_name") == "__numpy__":
            value = np.asarray(value["config"]["value"], dtype=value["config"]["dtype"])
        return cls(value)


class RandomNormal(RandomInitializer):
    """N(mean, stddev^2), Keras's defaults mean=0.0, stddev=0.05."""

    config_keys = ("seed", "mean", "stddev")

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = check_float(mean, "RandomNormal(mean=...)")
        self.stddev = check_float(stddev, "RandomNormal(stddev=...)", low=0.0)

    def __call__(self, shape, dtype=None):
        values = self.rng().normal(self.mean, self.stddev, size=shape)
        return values.astype(standardize_dtype(dtype))


class RandomUniform(RandomInitializer):
    """U(minval, maxval), Keras's defaults -0.05 and 0.05."""

    config_keys = ("seed", "minval", "maxval")

    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        super().__init__(seed)
        self.minval = check_float(minval, "RandomUniform(minval=...)")
        self.maxval = check_float(maxval, "RandomUniform(maxval=...)")
        if self.maxval < self.minval:
            raise ValueError(f"RandomUniform: maxval ({maxval}) must be >= minval ({minval})")

    def __call__(self, shape, dtype=None):
        values = self.rng().uniform(self.minval, self.maxval, size=shape)
        return values.astype(standardize_dtype(dtype))


# The defaults of TruncatedNormal (mean 0.0, stddev 0.05), VarianceScaling (1.0, 'fan_in',
# 'truncated_normal') and Orthogonal (gain 1.0) are Keras 3.15's: its source (keras/src/
# initializers/random_initializers.py) and keras.io's "Layer weight initializers" page.


class TruncatedNormal(RandomInitializer):
    """N(mean, stddev^2) with every draw beyond 2 stddev of the mean redrawn; Keras's defaults
    mean=0.0, stddev=0.05. (The spread of what is kept is 0.88 * stddev.)"""

    config_keys = ("seed", "mean", "stddev")

    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        super().__init__(seed)
        self.mean = check_float(mean, "TruncatedNormal(mean=...)")
        self.stddev = check_float(stddev, "TruncatedNormal(stddev=...)", low=0.0)

    def __call__(self, shape, dtype=None):
        values = draw_truncated_normal(shape, self.stddev, self.rng(), self.mean)
        return values.astype(standardize_dtype(dtype))


class GlorotUniform(RandomInitializer):
    """U(-limit, limit) with limit = sqrt(6 / (fan_in + fan_out))."""

    config_keys = ("seed", "input_axes", "output_axes")

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        limit = np.sqrt(6.0 / max(1, fan_in + fan_out))  # max: see VarianceScaling
        return self.rng().uniform(-limit, limit, size=shape).astype(standardize_dtype(dtype))


class GlorotNormal(RandomInitializer):
    """Truncated normal with variance 2 / (fan_in + fan_out)."""

    config_keys = ("seed", "input_axes", "output_axes")

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        stddev = np.sqrt(2.0 / max(1, fan_in + fan_out)) / TRUNCATED_STD_OF_UNIT_NORMAL
        return draw_truncated_normal(shape, stddev, self.rng()).astype(standardize_dtype(dtype))


class HeUniform(RandomInitializer):
    """U(-limit, limit) with limit = sqrt(6 / fan_in)."""

    config_keys = ("seed", "input_axes", "output_axes")

    def __call__(self, shape, dtype=None):
        fan_in, _ = compute_fans(shape)
        limit = np.sqrt(6.0 / max(1, fan_in))
        return self.rng().uniform(-limit, limit, size=shape).astype(standardize_dtype(dtype))


class HeNormal(RandomInitializer):
    """Truncated normal with variance 2 / fan_in."""

    config_keys = ("seed", "input_axes", "output_axes")

    def __call__(self, shape, dtype=None):
        fan_in, _ = compute_fans(shape)
        stddev = np.sqrt(2.0 / max(1, fan_in)) / TRUNCATED_STD_OF_UNIT_NORMAL
        return draw_truncated_normal(shape, stddev, self.rng()).astype(standardize_dtype(dtype))


class LecunUniform(RandomInitializer):
    """U(-limit, limit) with limit = sqrt(3 / fan_in): variance 1 / fan_in."""

    config_keys = ("seed", "input_axes", "output_axes")

    def __call__(self, shape, dtype=None):
        fan_in, _ = compute_fans(shape)
        limit = np.sqrt(3.0 / max(1, fan_in))
        return self.rng().uniform(-limit, limit, size=shape).astype(standardize_dtype(dtype))


class LecunNormal(RandomInitializer):
    """Truncated normal with variance 1 / fan_in."""

    config_keys = ("seed", "input_axes", "output_axes")

    def __call__(self, shape, dtype=None):
        fan_in, _ = compute_fans(shape)
        stddev = np.sqrt(1.0 / max(1, fan_in)) / TRUNCATED_STD_OF_UNIT_NORMAL
        return draw_truncated_normal(shape, stddev, self.rng()).astype(standardize_dtype(dtype))


VARIANCE_SCALING_MODES = ("fan_in", "fan_out", "fan_avg")
VARIANCE_SCALING_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")


class VarianceScaling(RandomInitializer):
    """VarianceScaling(scale=1.0, mode='fan_in', distribution='truncated_normal'), as Keras:

        variance = scale / n,  n = fan_in, fan_out or (fan_in + fan_out) / 2 (mode='fan_avg')
        'truncated_normal'   N(0, variance / 0.8796^2) truncated at 2 stddev ('normal' too)
        'untruncated_normal' N(0, variance)
        'uniform'            U(-limit, limit), limit = sqrt(3 * variance)

    GlorotUniform is VarianceScaling(1.0, 'fan_avg', 'uniform'); HeNormal is
    VarianceScaling(2.0, 'fan_in', 'truncated_normal'); LecunNormal is VarianceScaling().
    """

    config_keys = ("seed", "scale", "mode", "distribution", "input_axes", "output_axes")

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        super().__init__(seed)
        where = "VarianceScaling"
        self.scale = check_float(scale, f"{where}(scale=...)", low=0.0, low_open=True)
        if mode not in VARIANCE_SCALING_MODES:
            raise unknown_name_error(f"mode in {where}", mode, VARIANCE_SCALING_MODES)
        distribution = "truncated_normal" if distribution == "normal" else distribution
        if distribution not in VARIANCE_SCALING_DISTRIBUTIONS:
            raise unknown_name_error(f"distribution in {where}", distribution,
                                     VARIANCE_SCALING_DISTRIBUTIONS)
        self.mode = mode
        self.distribution = distribution

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape)
        n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        # max(1, n), as Keras: a weight with a 0 in its shape has no entries to draw, and
        # its fan of 0 must not divide by zero on the way (the same in the six above)
        variance = self.scale / max(1.0, n)
        if self.distribution == "truncated_normal":
            stddev = np.sqrt(variance) / TRUNCATED_STD_OF_UNIT_NORMAL
            values = draw_truncated_normal(shape, stddev, self.rng())
        elif self.distribution == "untruncated_normal":
            values = self.rng().normal(0.0, np.sqrt(variance), size=shape)
        else:
            limit = np.sqrt(3.0 * variance)
            values = self.rng().uniform(-limit, limit, size=shape)
        return values.astype(standardize_dtype(dtype))


class Orthogonal(RandomInitializer):
    """Orthogonal(gain=1.0): gain times a random orthogonal matrix, as Keras draws it.

    For a shape (..., cols), with rows = the product of the other axes: draw A ~ N(0, 1) of
    shape (max, min) of (rows, cols), factor A = QR, flip each column of Q by the sign of R's
    diagonal (so Q is uniformly distributed over orthogonal matrices), and transpose if
    rows < cols. Then W^T W = gain^2 I (columns orthonormal) or W W^T = gain^2 I (rows).
    Saxe et al. 2014: orthogonal weights keep every direction's norm through a linear layer.
    """

    config_keys = ("seed", "gain")

    def __init__(self, gain=1.0, seed=None):
        super().__init__(seed)
        self.gain = check_float(gain, "Orthogonal(gain=...)")

    def __call__(self, shape, dtype=None):
        if len(shape) < 2:
            raise ValueError(f"Orthogonal: the weight must have at least 2 dimensions, got "
                             f"shape {tuple(shape)}")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = self.rng().normal(0.0, 1.0, size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q).reshape(shape).astype(standardize_dtype(dtype))


INITIALIZERS = {
    "zeros": Zeros,
    "ones": Ones,
    "random_normal": RandomNormal,
    "random_uniform": RandomUniform,
    "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal,
    "he_uniform": HeUniform,
    "he_normal": HeNormal,
    "lecun_uniform": LecunUniform,
    "lecun_normal": LecunNormal,
    "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling,
    "orthogonal": Orthogonal,
    "constant": Constant,
}
# Keras's class names work too: initializers.get('GlorotUniform')
CLASS_NAMES = {cls.__name__: cls for cls in INITIALIZERS.values()}


def get(identifier, name="initializer"):
    """An Initializer from a Keras string name, an Initializer instance or a callable.

    None means GlorotUniform, for every *_initializer argument (a bias's and BN's gamma, beta
    and moving statistics too), as in Keras 3: its initializers.get(None) returns None and
    Layer.add_weight then uses 'glorot_uniform' for any float weight (keras/src/layers/
    layer.py). So Dense(3, bias_initializer=None) starts with a random bias, not zeros."""
    if identifier is None:
        return GlorotUniform()
    if isinstance(identifier, str):
        cls = CLASS_NAMES.get(identifier) or INITIALIZERS.get(identifier.lower())
        if cls is None:
            raise unknown_name_error(name, identifier, INITIALIZERS)
        return cls()
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise TypeError(f"{name} must be a name like 'glorot_uniform' or an initializer, "
                    f"got {identifier!r}")


def serialize(initializer):
    """Keras's dict for an initializer: {'module': 'keras.initializers', 'class_name':
    'GlorotUniform', 'config': {...}, 'registered_name': None}, as a .keras file holds it."""
    from tinynet import saving  # saving imports this module

    return saving.initializer_to_keras(initializer, "initializers.serialize")


def deserialize(config):
    """The initializer a serialize() dict describes (Keras's or tinynet's)."""
    from tinynet import saving

    return saving.initializer_from_keras(config, "initializers.deserialize")


# Keras's lower-case names are the same classes (keras.initializers.glorot_uniform, ...)
zeros, ones, constant = Zeros, Ones, Constant
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
glorot_uniform, glorot_normal, he_uniform, he_normal = (GlorotUniform, GlorotNormal,
                                                        HeUniform, HeNormal)
lecun_uniform, lecun_normal = LecunUniform, LecunNormal
variance_scaling, orthogonal = VarianceScaling, Orthogonal
OrthogonalInitializer = Orthogonal

# Keras 3.15's initializers that tinynet does not have
MISSING = {
    "Identity": "use np.eye(n) and model.set_weights, or Orthogonal()",
    "IdentityInitializer": "use np.eye(n) and model.set_weights, or Orthogonal()",
    "identity": "use np.eye(n) and model.set_weights, or Orthogonal()",
    "STFT": "tinynet has no signal-processing layers",
    "STFTInitializer": "tinynet has no signal-processing layers",
    "stft": "tinynet has no signal-processing layers",
}


def __getattr__(name):
    """A Keras initializer tinynet lacks gets an error that says so and lists what it has."""
    raise missing_attribute("tinynet.initializers", name,
                            [*CLASS_NAMES, *INITIALIZERS, "Initializer", "get", "serialize",
                             "deserialize"], MISSING)
