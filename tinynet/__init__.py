"""tinynet: a from-scratch neural-network framework in NumPy that teaches batch normalization.

    from tinynet.models import Sequential
    from tinynet.layers import Dense, BatchNormalization, Activation
    from tinynet.optimizers import Adam

Importing tinynet never imports matplotlib; plotting lives in `tinynet.plot`.
"""

from tinynet import callbacks, datasets, initializers, layers, losses, metrics, models, optimizers
from tinynet.config import floatx, get_rng, set_floatx, set_seed
from tinynet.models import Sequential

__version__ = "0.1.0"

__all__ = [
    "Sequential",
    "callbacks",
    "datasets",
    "floatx",
    "get_rng",
    "initializers",
    "layers",
    "losses",
    "metrics",
    "models",
    "optimizers",
    "set_floatx",
    "set_seed",
]
