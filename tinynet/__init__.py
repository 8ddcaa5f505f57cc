"""tinynet: a from-scratch neural-network framework in NumPy that teaches batch normalization.

    from tinynet.models import Sequential
    from tinynet.layers import Dense, BatchNormalization, Activation
    from tinynet.optimizers import Adam

The package is laid out like Keras 3, so Keras code runs with `import tinynet as keras`:
tinynet.Input, tinynet.Sequential, tinynet.layers, tinynet.activations (relu, softmax, ...,
get, serialize), tinynet.optimizers (and .schedules), tinynet.losses, tinynet.metrics,
tinynet.callbacks, tinynet.regularizers, tinynet.initializers, tinynet.utils, tinynet.models
(load_model, model_from_json, clone_model, save_model), tinynet.saving (load_model,
save_model: Keras's .keras files).

Importing tinynet never imports matplotlib; plotting lives in `tinynet.plot`.
"""

import importlib
import importlib.util

from tinynet import (
    activations,
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
from tinynet.validation import missing_attribute

__version__ = "0.1.0"

# Keras names tinynet does not have, and what to use instead.
INSTEAD = {
    "ops": "tinynet has no tensor operations of its own: write NumPy (import numpy as np); "
           "keras.ops.softmax(x) (or tf.nn.softmax) is tinynet.activations.softmax(x), and "
           "keras.ops.convert_to_numpy(t) is t.numpy() or np.asarray(t)",
    "Model": "tinynet has Sequential models only (no functional API, no subclassed models "
             "with a call method): write the layers in order, tinynet.Sequential([Conv2D(32, "
             "3, activation='relu'), Flatten(), Dense(10)])",
    "GradientTape": "tinynet has no automatic differentiation: the model computes its "
                    "gradients by hand. In a loop of your own: y_pred = model(x, "
                    "training=True); loss, grad = loss_fn.loss_and_gradient(y, y_pred); "
                    "model.backward(grad); then optimizer.apply_gradients(zip([w.layer.grads"
                    "[w.key] for w in model.trainable_weights], model.trainable_weights)) "
                    "(README: Coming from Keras, By hand)",
    "newaxis": "use NumPy's: x[..., np.newaxis]",
    "Layer": "the base class of layers is tinynet.layers.Layer",
    "applications": "tinynet has no pretrained models",
    "preprocessing": "prepare the arrays with NumPy (tinynet.datasets.standardize)",
}

__all__ = [
    "Input",
    "Sequential",
    "activations",
    "backend",
    "callbacks",
    "config",
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


def __getattr__(name):
    """tinynet's other modules (plot, gradcheck, stats, ...) load when first used, so that
    `import tinynet` stays light (it never imports matplotlib); a Keras name tinynet lacks
    gets an error that says what to use instead."""
    if name.isidentifier() and not name.startswith("_") and \
            importlib.util.find_spec(f"tinynet.{name}") is not None:
        return importlib.import_module(f"tinynet.{name}")
    raise missing_attribute("tinynet", name, __all__, INSTEAD)
