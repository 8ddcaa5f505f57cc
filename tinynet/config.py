"""Global settings: the random generator behind every draw, and the default float type.

Every random number tinynet draws (initial weights, shuffling, dropout masks) comes from ONE
NumPy generator. `set_seed(seed)` replaces it, so the same seed gives bit-identical runs:
every student in a room gets the same plot.
"""

import numpy as np

_rng = np.random.default_rng()
_floatx = "float32"

_FLOAT_TYPES = ("float32", "float64")


def set_seed(seed):
    """Reset tinynet's random generator. Call it before building a model.

    seed: a non-negative int.
    """
    global _rng
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise TypeError(f"set_seed: seed must be a non-negative int, got {seed!r}")
    _rng = np.random.default_rng(int(seed))


def get_rng():
    """The generator every tinynet draw uses (initializers, shuffling, dropout)."""
    return _rng


def floatx():
    """The default float type of new layers: 'float32' unless changed by `set_floatx`."""
    return _floatx


def set_floatx(dtype):
    """Set the default float type for layers created from now on ('float32' or 'float64').

    float64 is what gradient checks need: finite differences in float32 are too noisy.
    """
    global _floatx
    _floatx = standardize_dtype(dtype, "set_floatx")


def standardize_dtype(dtype, where="dtype"):
    """Turn 'float32', np.float32 or np.dtype('float32') into the string 'float32'.

    Raises a ValueError naming `where` for anything that is not float32 or float64.
    """
    if dtype is None:
        return _floatx
    try:
        name = np.dtype(dtype).name
    except TypeError:
        name = None
    if name not in _FLOAT_TYPES:
        raise ValueError(f"{where}: dtype must be 'float32' or 'float64', got {dtype!r}")
    return name


# -- Keras's keras.config / keras.backend queries, with the one answer tinynet has -----------

def epsilon():
    """The fuzz factor Keras's losses clip probabilities with: 1e-7, Keras's default
    (tinynet.losses.EPSILON, whose comment gives the sources). tinynet has no set_epsilon."""
    from tinynet.losses import EPSILON  # here: losses imports this module

    return EPSILON


def image_data_format():
    """'channels_last': images are (batch, height, width, channels), Keras's default, the only
    layout tinynet's Conv2D and pooling take."""
    return "channels_last"


def backend():
    """'numpy': what tinynet computes with (Keras answers 'tensorflow', 'jax' or 'torch')."""
    return "numpy"


def clear_session(free_memory=True):
    """Keras's clear_session() resets its global state: layer names numbered across models,
    and the graph. tinynet has neither (it numbers names within each model), so there is
    nothing to clear; it is here so that Keras code that calls it runs. It does not reset
    the random generator (tinynet.set_seed does)."""
    return None
