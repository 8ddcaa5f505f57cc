"""tinynet: a from-scratch neural-network framework in NumPy that teaches batch normalization.

    from tinynet.models import Sequential
    from tinynet.layers import Dense, BatchNormalization, Activation
    from tinynet.optimizers import Adam

The package is laid out like Keras 3, so Keras code runs with `import tinynet as keras`:
tinynet.Input, tinynet.Sequential, tinynet.layers, tinynet.optimizers (and .schedules),
tinynet.losses, tinynet.metrics, tinynet.callbacks, tinynet.regularizers,
tinynet.initializers, tinynet.utils, tinynet.models (load_model, model_from_json),
tinynet.saving (load_model, save_model: Keras's .keras files).

Importing tinynet never imports matplotlib; plotting lives in `tinynet.plot`.
"""

from tinynet import (
    callbacks,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    regularizers,
    saving,
    utils,
)
from tinynet.config import floatx, get_rng, set_floatx, set_seed
from tinynet.layers import Input
from tinynet.models import Sequential

__version__ = "0.1.0"

__all__ = [
    "Input",
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
    "regularizers",
    "saving",
    "set_floatx",
    "set_seed",
    "utils",
]
