"""Saving a whole model in Keras 3's own formats, so that Keras can open what tinynet saves and
tinynet can open what Keras saves.

A `.keras` file is a zip archive with three members (as the API pages of
tf.keras.models.save_model on tensorflow.org and of save_model in the keras3 R package
describe it, and as Keras 3.15.1 writes it):

    metadata.json      {"keras_version": ..., "date_saved": ...}
    config.json        the model's config: which layers, with which arguments (see below)
    model.weights.h5   the weights, in an HDF5 file (read and written with h5py)

The config of a layer is a dict of its constructor arguments, wrapped with its class name:

    {"module": "keras.layers", "class_name": "Dense", "registered_name": null,
     "config": {"name": "dense", "trainable": true, "dtype": {...}, "units": 64, ...},
     "build_config": {"input_shape": [null, 20]}}

so `layer_from_config` is `Dense(**config)`. tinynet layers follow one convention that makes
this a table lookup: every Keras constructor argument is kept on the layer under the same
attribute name (Dense.units, BatchNormalization.momentum, ...). Arguments Keras has and
tinynet does not (BatchNormalization's `axis`, regularizers, ...) are written with Keras's
default, and on loading only that default is accepted.

Inside model.weights.h5 (and a `.weights.h5` file) each layer's weights sit in a group named
after the layer's CLASS, numbered in order of appearance, not after the layer's name:

    layers/dense/vars/0           kernel (20, 64)      the first Dense layer
    layers/dense/vars/1           bias (64,)
    layers/batch_normalization/vars/0 .. 3   gamma, beta, moving_mean, moving_variance
    layers/dense_1/vars/0         kernel of the second Dense layer
    optimizer/vars/0, 1           the optimizer's step count and learning rate
    optimizer/vars/2, 3, ...      Adam: m then v of every trainable weight, in model order
                                  (with amsgrad=True, then v_hat of every weight)

Each `vars` group carries the layer's name as an attribute, for people reading the file.
Loading matches weights by that class-and-position path, as Keras does, so a model with the
same layers in the same order loads the file whatever its layers are called.

The optimizer: Keras 3 saves its state too (the step count, the learning rate, and e.g. Adam's
m and v for every trainable weight), so that training can resume. tinynet does the same: the
state comes from `model.optimizer_state()` (an optimizer that has not stepped yet has its
starting slots) and goes back through `model.set_optimizer_state(...)` after `load_model` has
compiled a fresh optimizer with the saved settings and built it (given it its slots, as
Keras's compile_from_config does). As in Keras, a file's optimizer state is loaded only into
an optimizer with as many variables; otherwise a warning says that it is skipped (see "when
Keras loads an optimizer's state" below): load_weights into a model that has not trained yet
skips it, and so does a model whose frozen layers changed. Predictions never depend on the
optimizer.

A model inside the model (keras.Sequential([Input, base_model, ...])) is taken apart on
loading, as Sequential([base_model, ...]) is in code: see "a model inside a model" below.
Saving such a model writes a flat model, its layers one after another.

The compile settings (config.json's "compile_config") hold the optimizer, the loss and the
metrics as Keras writes them: a metric given as a string stays that string ("accuracy"), a
metric object is written with its class and settings,

    {"module": "keras.metrics", "class_name": "AUC", "registered_name": null,
     "config": {"name": "auc_1", "dtype": "float32", "num_thresholds": 50, "curve": "PR", ...}}

(its get_config(), see tinynet.metrics.serialize), and loading turns each back into
tinynet's metric with those settings. A metric tinynet does not have (F1Score, ...) is left
out with a warning, and the model is still compiled. An optimizer setting tinynet lacks
(clipnorm, clipvalue, global_clipnorm, use_ema, weight_decay outside AdamW, ...) leaves the
model uncompiled, with a warning: tinynet would train it differently from Keras.

Keras's legacy HDF5 model files (model.save('model.h5')) are read and written by
tinynet/legacy_h5.py, which save_model and load_model hand .h5 and .hdf5 names to.

h5py is an optional dependency: pip install "tinynet[keras]".
"""

import datetime
import inspect
import io
import json
import os
import warnings
import zipfile

import numpy as np

from tinynet import (
    activations,
    constraints,
    initializers,
    layers,
    losses,
    metrics,
    optimizers,
    regularizers,
)
from tinynet.config import standardize_dtype
from tinynet.files import check_path, write_atomically
from tinynet.validation import (
    check_bool,
    constructor_arguments,
    missing_attribute,
    snake_case,
    warn_user,
)

# The Keras release whose .keras and .weights.h5 files this module was checked against, by
# saving and loading files with it (tests/data/make_keras_saving_reference.py).
KERAS_FORMAT_VERSION = "3.15.1"

METADATA_FILE = "metadata.json"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "model.weights.h5"

REQUIRED = object()  # marks a constructor argument that has no default (Dense's units)

# -- what Keras 3 writes for each layer ------------------------------------------------------
#
# For each Keras layer class: the config keys Keras 3.15 writes after name/trainable/dtype,
# with Keras's defaults, in Keras's order. The keys were read from the config.json of files
# Keras 3.15.1 saved (tests/data/make_keras_saving_reference.py) and from the get_config
# methods in the Keras source (github.com/keras-team/keras, keras/src/layers/). The defaults
# were checked against two public API references: keras.io/api/layers/ (e.g.
# normalization_layers/layer_normalization, normalization_layers/group_normalization) and
# tensorflow.org/api_docs/python/tf/keras/layers/ (BatchNormalization, Conv2D,
# GroupNormalization, LayerNormalization), which list the same signatures.

INITIALIZER_KEYS = ("kernel_initializer", "bias_initializer", "beta_initializer",
                    "gamma_initializer", "moving_mean_initializer",
                    "moving_variance_initializer")
PAIR_KEYS = ("kernel_size", "strides", "pool_size", "dilation_rate")  # 3 -> [3, 3]

DENSE_KEYS = {
    "units": REQUIRED, "activation": "linear", "use_bias": True,
    "kernel_initializer": "glorot_uniform", "bias_initializer": "zeros",
    "kernel_regularizer": None, "bias_regularizer": None, "kernel_constraint": None,
    "bias_constraint": None, "quantization_config": None,
}
BATCH_NORMALIZATION_KEYS = {
    "axis": -1, "momentum": 0.99, "epsilon": 0.001, "center": True, "scale": True,
    "beta_initializer": "zeros", "gamma_initializer": "ones",
    "moving_mean_initializer": "zeros", "moving_variance_initializer": "ones",
    "beta_regularizer": None, "gamma_regularizer": None, "beta_constraint": None,
    "gamma_constraint": None, "synchronized": False, "renorm": False,
    "renorm_clipping": None, "renorm_momentum": 0.99,
}
LAYER_NORMALIZATION_KEYS = {
    "axis": [-1], "epsilon": 0.001, "center": True, "scale": True, "rms_scaling": False,
    "beta_initializer": "zeros", "gamma_initializer": "ones", "beta_regularizer": None,
    "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None,
}
GROUP_NORMALIZATION_KEYS = {
    "groups": 32, "axis": -1, "epsilon": 0.001, "center": True, "scale": True,
    "beta_initializer": "zeros", "gamma_initializer": "ones", "beta_regularizer": None,
    "gamma_regularizer": None, "beta_constraint": None, "gamma_constraint": None,
}
CONV2D_KEYS = {
    "filters": REQUIRED, "kernel_size": REQUIRED, "strides": [1, 1], "padding": "valid",
    "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
    "activation": "linear", "use_bias": True, "kernel_initializer": "glorot_uniform",
    "bias_initializer": "zeros", "kernel_regularizer": None, "bias_regularizer": None,
    "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None,
}
POOLING2D_KEYS = {"pool_size": [2, 2], "padding": "valid", "strides": None,
                  "data_format": "channels_last"}
# the preprocessing layers (keras/src/layers/preprocessing/): Normalization writes its
# constructor's mean and variance (None after adapt, whose statistics are weights)
NORMALIZATION_KEYS = {"axis": [-1], "invert": False, "mean": None, "variance": None}
RESCALING_KEYS = {"scale": REQUIRED, "offset": 0.0}

# Keras class name -> (tinynet class name in tinynet.layers, config keys, has build_config).
# Keras writes a build_config only for layers with a build step of their own (with weights).
LAYER_TABLE = {
    "InputLayer": ("InputLayer", {}, False),
    "Dense": ("Dense", DENSE_KEYS, True),
    "BatchNormalization": ("BatchNormalization", BATCH_NORMALIZATION_KEYS, True),
    "LayerNormalization": ("LayerNormalization", LAYER_NORMALIZATION_KEYS, True),
    "GroupNormalization": ("GroupNormalization", GROUP_NORMALIZATION_KEYS, True),
    "Activation": ("Activation", {"activation": REQUIRED}, False),
    "ReLU": ("ReLU", {"max_value": None, "negative_slope": 0.0, "threshold": 0.0}, False),
    "LeakyReLU": ("LeakyReLU", {"negative_slope": 0.3}, False),
    "Softmax": ("Softmax", {"axis": -1}, False),
    "Dropout": ("Dropout", {"rate": REQUIRED, "seed": None, "noise_shape": None}, False),
    "GaussianNoise": ("GaussianNoise", {"stddev": REQUIRED, "seed": None}, False),
    "GaussianDropout": ("GaussianDropout", {"rate": REQUIRED, "seed": None}, False),
    "Conv2D": ("Conv2D", CONV2D_KEYS, True),
    "MaxPooling2D": ("MaxPooling2D", POOLING2D_KEYS, False),
    "AveragePooling2D": ("AveragePooling2D", {**POOLING2D_KEYS, "pool_size": REQUIRED}, False),
    "GlobalAveragePooling2D": ("GlobalAveragePooling2D",
                               {"data_format": "channels_last", "keepdims": False}, False),
    "GlobalMaxPooling2D": ("GlobalMaxPooling2D",
                           {"data_format": "channels_last", "keepdims": False}, False),
    "Flatten": ("Flatten", {"data_format": "channels_last"}, True),
    "Reshape": ("Reshape", {"target_shape": REQUIRED}, False),
    "Normalization": ("Normalization", NORMALIZATION_KEYS, True),
    "Rescaling": ("Rescaling", RESCALING_KEYS, True),
}
# Config keys a layer keeps under another attribute name: Normalization's layer.mean is the
# statistics in use (adapt's, or the given ones), its config's "mean" the constructor argument.
CONFIG_ATTRIBUTES = {"Normalization": {"mean": "input_mean", "variance": "input_variance"}}
# tinynet layer classes Keras has no class for: saved as the Keras class that computes the same
# (and other spellings of the same classes, as Keras accepts them in a config)
KERAS_CLASS_OF = {"Sigmoid": "Activation", "Tanh": "Activation", "BatchNorm": "BatchNormalization",
                  "LayerNorm": "LayerNormalization", "MaxPool2D": "MaxPooling2D",
                  "AvgPool2D": "AveragePooling2D", "GlobalAvgPool2D": "GlobalAveragePooling2D",
                  "GlobalMaxPool2D": "GlobalMaxPooling2D"}

# Initializer class name -> the config keys Keras 3.15 writes, with Keras's defaults.
VARIANCE_SCALING_CONFIG = {"seed": None, "input_axes": None, "output_axes": None}
INITIALIZER_CONFIGS = {
    "Zeros": {}, "Ones": {}, "Constant": {"value": 0.0},
    "RandomNormal": {"seed": None, "mean": 0.0, "stddev": 0.05},
    "RandomUniform": {"seed": None, "minval": -0.05, "maxval": 0.05},
    "TruncatedNormal": {"seed": None, "mean": 0.0, "stddev": 0.05},
    "GlorotUniform": VARIANCE_SCALING_CONFIG, "GlorotNormal": VARIANCE_SCALING_CONFIG,
    "HeUniform": VARIANCE_SCALING_CONFIG, "HeNormal": VARIANCE_SCALING_CONFIG,
    "LecunUniform": VARIANCE_SCALING_CONFIG, "LecunNormal": VARIANCE_SCALING_CONFIG,
    "VarianceScaling": {"seed": None, "scale": 1.0, "mode": "fan_in",
                        "distribution": "truncated_normal", "input_axes": None,
                        "output_axes": None},
    "Orthogonal": {"seed": None, "gain": 1.0},
}

# Optimizer settings Keras 3.15 writes for every optimizer, with the value that means "off"
# (tinynet's optimizers have none of them, except AdamW's weight_decay); then, per optimizer,
# its own settings (named as in tinynet and Keras) and Keras-only ones with their "off" value.
OPTIMIZER_COMMON = {
    "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
    "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None,
    "loss_scale_factor": None, "gradient_accumulation_steps": None,
}
OPTIMIZER_KEYS = {
    "Adam": (("beta_1", "beta_2", "epsilon", "amsgrad"), {}),
    "AdamW": (("weight_decay", "beta_1", "beta_2", "epsilon", "amsgrad"), {}),
    "SGD": (("momentum", "nesterov"), {}),
    "RMSprop": (("rho", "momentum", "epsilon", "centered"), {}),
    "Adagrad": (("initial_accumulator_value", "epsilon"), {}),
}


# -- small conversions -----------------------------------------------------------------------

def as_json_value(value):
    """Tuples become lists and NumPy scalars Python numbers: what JSON gives back."""
    return json.loads(json.dumps(value, default=lambda v: v.item()))


def keras_object(module, class_name, config):
    """The wrapper Keras puts around every serialized object."""
    return {"module": module, "class_name": class_name, "config": config,
            "registered_name": None}


def dtype_policy(dtype):
    return keras_object("keras", "DTypePolicy", {"name": dtype})


def dtype_from_keras(value, where):
    """A DTypePolicy dict or a plain 'float32' -> 'float32'; mixed precision is refused."""
    if isinstance(value, dict):
        inner = value.get("config")
        value = inner.get("name") if isinstance(inner, dict) else inner
    try:
        return standardize_dtype(value, where)
    except ValueError:
        raise ValueError(f"{where}: tinynet computes in float32 or float64, got dtype "
                         f"{value!r}") from None


def layer_description(class_name, config):
    return f"layer '{config.get('name', '?')}' ({class_name})"


# -- initializers and activations ------------------------------------------------------------

def initializer_to_keras(initializer, where):
    """A tinynet initializer -> Keras's {"module": "keras.initializers", ...} dict."""
    if isinstance(initializer, str):
        initializer = initializers.get(initializer)
    class_name = type(initializer).__name__
    if isinstance(initializer, initializers.Initializer) and is_own_class(type(initializer)):
        return own_object_entry(initializer)  # one of your own: load it with custom_objects
    if class_name not in INITIALIZER_CONFIGS:
        raise ValueError(f"{where}: the initializer {initializer!r} has no Keras equivalent; "
                         f"use one of {', '.join(INITIALIZER_CONFIGS)}, or a subclass of "
                         f"tinynet.initializers.Initializer with get_config()")
    if class_name == "Constant":  # a number, or an array in Keras's '__numpy__' wrapper
        return keras_object("keras.initializers", class_name, initializer.get_config())
    config = {key: as_json_value(getattr(initializer, key, default))
              for key, default in INITIALIZER_CONFIGS[class_name].items()}
    return keras_object("keras.initializers", class_name, config)


def initializer_from_keras(value, where):
    """Keras's initializer dict (or a plain name like 'zeros', or None, which Keras writes for
    an *_initializer=None and reads as glorot_uniform) -> a tinynet initializer."""
    if value is None or isinstance(value, str):
        return initializers.get(value, where)
    if not isinstance(value, dict) or "class_name" not in value:
        raise ValueError(f"{where}: expected an initializer like {{'class_name': "
                         f"'GlorotUniform', 'config': {{}}}}, got {value!r}")
    class_name = value["class_name"]
    cls = getattr(initializers, class_name, None)
    if class_name not in INITIALIZER_CONFIGS or cls is None:
        raise ValueError(f"{where}: tinynet has no initializer {class_name!r}; it has "
                         f"{', '.join(INITIALIZER_CONFIGS)}")
    config = dict(value.get("config") or {})
    accepted = constructor_arguments(cls)
    if "seed" not in accepted:
        config.pop("seed", None)  # this tinynet draws from its one generator (set_seed)
    extra = {key: v for key, v in config.items() if key not in accepted and v is not None}
    if extra:
        raise ValueError(f"{where}: tinynet's {class_name} does not support {extra}")
    if class_name == "Constant":  # its value may be Keras's '__numpy__' wrapper of an array
        return cls.from_config(config)
    return cls(**{key: v for key, v in config.items() if key in accepted})


def activation_from_keras(value, where):
    """'relu' or Keras's serialized activation function -> its name."""
    if isinstance(value, dict):
        value = value.get("config")
    if not isinstance(value, str):
        raise ValueError(f"{where}: tinynet supports activations given by name ('relu', "
                         f"'sigmoid', ...), got {value!r}")
    return value


# -- one layer -------------------------------------------------------------------------------

def is_own_class(layer_or_class):
    """A class of your own (defined outside tinynet), or an object of one: a layer,
    regularizer, initializer, constraint or schedule, saved as Keras saves its users'
    objects, by class name and get_config(), and loaded with custom_objects. Decided by the
    class's module, not its name (a class of your own may be called L2)."""
    cls = layer_or_class if isinstance(layer_or_class, type) else type(layer_or_class)
    return not cls.__module__.startswith("tinynet.")


def keras_class_name(layer):
    """The Keras class a tinynet layer is saved as (a layer of your own: its class's name);
    an error for a built-in layer Keras lacks."""
    name = type(layer).__name__
    if is_own_class(layer):
        return name
    name = KERAS_CLASS_OF.get(name, name)
    if name not in LAYER_TABLE:
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) cannot be saved in "
                         f"Keras's formats (.keras, .h5): Keras 3 has no such layer. Save "
                         f"the weights instead (model.save_weights('model.weights.npz'), or "
                         f"ModelCheckpoint('model.weights.npz', save_weights_only=True)) and "
                         f"build the model in code to load them. Layers that can be saved "
                         f"as .keras: {', '.join(sorted(LAYER_TABLE))}")
    return name


def own_layer_config(layer):
    """Keras's config of a layer of your own: what its get_config() returns, which starts
    from super().get_config() ({"name", "trainable", "dtype"}), as in Keras. A class whose
    __init__ takes arguments must say them in get_config (Keras refuses it too)."""
    required = [p.name for p in inspect.signature(type(layer).__init__).parameters.values()
                if p.name != "self" and p.default is p.empty
                and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)]
    config = layer.get_config()
    if not isinstance(config, dict) or [name for name in required if name not in config]:
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) cannot be saved: "
                         f"its get_config() must return a dict with the arguments of its "
                         f"__init__ ({', '.join(required)}), as in Keras: def get_config("
                         f"self): return {{**super().get_config(), "
                         f"{', '.join(f'{n!r}: self.{n}' for n in required)}}}")
    return as_json_value(config)


def value_to_keras(key, value, where):
    """A layer attribute -> the value Keras writes in the config under `key`."""
    if key in INITIALIZER_KEYS:
        return initializer_to_keras(value, f"{where}: {key}")
    if key.endswith("_regularizer") and value is not None:
        if is_own_class(type(value)):  # one of your own (by its module, not its name)
            return own_object_entry(value)
        return keras_object("keras.regularizers", type(value).__name__,
                            as_json_value(value.get_config()))
    if key.endswith("_constraint") and value is not None:  # MaxNorm(3), as Keras writes it
        if isinstance(value, constraints.Constraint) and is_own_class(type(value)):
            return own_object_entry(value)  # a Constraint class of your own, as above
        return constraints.serialize(value)
    if key == "activation" and callable(value):  # Keras writes the function's name
        return activations.serialize(value)
    if key in PAIR_KEYS and isinstance(value, (int, np.integer)):
        return [int(value), int(value)]
    if callable(value):
        raise ValueError(f"{where}: {key}={value!r} is a Python function, which Keras's "
                         f"config cannot hold; use a name such as 'relu'")
    if isinstance(value, np.ndarray):  # Rescaling(scale=np.array([...])): Keras's wrapper
        return {"class_name": "__numpy__",
                "config": {"value": value.tolist(), "dtype": str(value.dtype)}}
    return as_json_value(value)


def layer_get_config(layer):
    """Keras's config of one layer: {"name", "trainable", "dtype", <its arguments>}. For a
    layer of your own, what Layer.get_config gives it: the first three, to which its own
    get_config adds its arguments."""
    where = f"layer '{layer.name}' ({type(layer).__name__})"
    if not is_own_class(layer) and keras_class_name(layer) == "InputLayer":
        return {"batch_shape": as_json_value(layer.shape), "dtype": layer.dtype,
                "sparse": False, "ragged": False, "name": layer.name, "optional": False}
    config = {"name": layer.name, "trainable": bool(getattr(layer, "trainable", True)),
              "dtype": dtype_policy(layer.dtype)}
    if getattr(layer, "activity_regularizer", None) is not None:  # where Keras's Layer puts it
        config["activity_regularizer"] = value_to_keras("activity_regularizer",
                                                        layer.activity_regularizer, where)
    if is_own_class(layer):
        return config
    class_name = keras_class_name(layer)
    attributes = CONFIG_ATTRIBUTES.get(class_name, {})
    for key, default in LAYER_TABLE[class_name][1].items():
        value = getattr(layer, attributes.get(key, key), default)
        if key == "strides" and value is None and class_name.endswith("Pooling2D"):
            value = getattr(layer, "pool_size", None)  # Keras writes strides = pool_size
        config[key] = value_to_keras(key, value, where)
    return config


def value_from_keras(key, value, where, custom_objects=None):
    """A config value -> the constructor argument tinynet's layer takes. A regularizer,
    initializer or constraint of your own is made from custom_objects (see own_object)."""
    if key.endswith(RULE_SUFFIXES) and isinstance(value, dict):
        # only an entry written for a class of its user (module None, a registered_name):
        # a Keras built-in of the same name as a class in custom_objects stays the built-in
        own = own_object(value, custom_objects) if is_users_entry(value) else None
        if own is not None:
            return own
        check_known_rule(key, value, where)
    if key in INITIALIZER_KEYS:
        return initializer_from_keras(value, f"{where}: {key}")
    if key == "activation":
        return activation_from_keras(value, where)
    if isinstance(value, dict) and value.get("class_name") == "__numpy__":  # an array
        return np.asarray(value["config"]["value"], dtype=value["config"]["dtype"])
    if isinstance(value, list):
        return tuple(value)
    return value


def is_keras_default(key, value, default):
    """True when a config value is Keras's default (an initializer: of the default class)."""
    if default is REQUIRED:
        return False
    if key in INITIALIZER_KEYS:
        name = value.get("class_name") if isinstance(value, dict) else value
        return snake_case(str(name)) == default
    return as_json_value(value) == as_json_value(default)


def check_keras_only_value(key, value, default, where):
    """A config key tinynet's layer has no argument for: only Keras's default is accepted.

    Regularizers and constraints change training, never predictions: they are dropped with a
    warning, so that a Keras model that used them still loads for inference."""
    if is_keras_default(key, value, default):
        return
    if key.endswith(("_regularizer", "_constraint")):
        warnings.warn(f"{where}: {key}={value!r} is ignored (this tinynet layer takes no "
                      f"such argument); predictions are unaffected, further training is not "
                      f"the same as in Keras", UserWarning, stacklevel=4)
        return
    expected = "" if default is REQUIRED else f"; tinynet supports only {default!r}"
    raise ValueError(f"{where}: tinynet's layer does not support {key}={value!r}{expected}")


def tinynet_layer_class(class_name, config):
    """The tinynet class for a Keras class name, or an error naming the layer."""
    where = layer_description(class_name, config)
    if class_name not in LAYER_TABLE:
        raise ValueError(f"{where}: tinynet has no {class_name} layer (if it is a layer of "
                         f"your own, written for tinynet, give custom_objects={{"
                         f"{class_name!r}: {class_name}}}). It can load: "
                         f"{', '.join(sorted(LAYER_TABLE))}")
    cls = getattr(layers, LAYER_TABLE[class_name][0], None)
    if cls is None:
        raise ValueError(f"{where}: this version of tinynet has no {class_name} layer yet")
    return cls


def layer_from_config(class_name, config, custom_objects=None):
    """A new tinynet layer from Keras's class name and config (the inverse of
    layer_get_config): Dense + {"units": 64, ...} -> Dense(64, ...). custom_objects: {name:
    class} of regularizers, initializers and constraints of your own (see own_object)."""
    if not isinstance(config, dict):
        raise TypeError(f"layer_from_config: config must be a dict, got {config!r}")
    own = (custom_objects or {}).get(class_name)
    if isinstance(own, type) and issubclass(own, layers.Layer):  # a layer of your own
        return own.from_config(config)
    class_name = KERAS_CLASS_OF.get(class_name, class_name)  # Sigmoid -> Activation('sigmoid')
    cls = tinynet_layer_class(class_name, config)
    where = layer_description(class_name, config)
    table = LAYER_TABLE[class_name][1]
    accepted = constructor_arguments(cls)
    kwargs = {"name": config.get("name"), "dtype": dtype_from_keras(config.get("dtype"), where)}
    trainable = config.get("trainable", True)
    if "trainable" in accepted:
        kwargs["trainable"] = trainable
    elif trainable is False:
        raise ValueError(f"{where}: the layer is frozen (trainable=False), which this "
                         f"version of tinynet cannot represent")
    for key, value in config.items():
        if key in ("name", "trainable", "dtype"):
            continue
        if key in accepted:
            kwargs[key] = value_from_keras(key, value, where, custom_objects)
        elif key in table or value is None or key.endswith(("_regularizer", "_constraint")):
            # None: a newer Keras's key left at its default
            check_keras_only_value(key, value, table.get(key, None), where)
        else:
            raise ValueError(f"{where}: tinynet knows no argument {key!r} of {class_name} "
                             f"(given {key}={value!r}); the arguments it knows: "
                             f"{', '.join(sorted(set(accepted) | set(table)))}")
    try:
        return cls(**kwargs)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{where}: {err}") from None


# -- the model -------------------------------------------------------------------------------

def layer_entry(layer):
    """One element of the model config's "layers" list (a layer of your own as Keras writes
    one: module None and its class name as registered_name, with a build_config)."""
    class_name = keras_class_name(layer)
    if is_own_class(layer):
        entry = {"module": None, "class_name": class_name, "config": own_layer_config(layer),
                 "registered_name": class_name}
        if layer.built:
            entry["build_config"] = {"input_shape": as_json_value(layer.input_shape)}
        return entry
    entry = keras_object("keras.layers", class_name, layer_get_config(layer))
    if layer.built and LAYER_TABLE[class_name][2]:
        entry["build_config"] = {"input_shape": as_json_value(layer.input_shape)}
    return entry


def model_get_config(model):
    """Keras's config of a Sequential model: {"name", "trainable", "dtype", "layers",
    "build_input_shape"}. A built model starts its layers with an InputLayer, as Keras's
    does when the first layer was given input_shape."""
    entries = [layer_entry(layer) for layer in model.layers]
    config = {"name": model.name, "trainable": bool(getattr(model, "trainable", True)),
              "dtype": dtype_policy(model.layers[0].dtype if model.layers else "float32"),
              "layers": entries}
    if model.built:
        # the batch size the model was built for, as Keras keeps it: an Input's fixed one,
        # or the first batch's when it was built from data (None when it was declared)
        shape = as_json_value(model.input_shape)
        if not entries or entries[0]["class_name"] != "InputLayer":
            # the name an Input(shape, name=...) was given, as Keras keeps it
            name = getattr(model.input_layer, "name", None) or "input_layer"
            input_layer = {"batch_shape": shape, "dtype": model.layers[0].dtype,
                           "sparse": False, "ragged": False, "name": name,
                           "optional": False}
            entries.insert(0, keras_object("keras.layers", "InputLayer", input_layer))
        config["build_input_shape"] = shape
    return config


def model_to_dict(model):
    """The whole object Keras writes as config.json (and model.to_json())."""
    config = keras_object("keras", "Sequential", model_get_config(model))
    if model.built:
        config["build_config"] = {"input_shape": config["config"]["build_input_shape"]}
    compile_config = get_compile_config(model)
    if compile_config is not None:
        config["compile_config"] = compile_config
    return config


def unwrap_model_config(config, where):
    """Accept Keras's full {"class_name": "Sequential", "config": {...}} or the inner config."""
    if not isinstance(config, dict):
        raise TypeError(f"{where}: expected a dict, got {type(config).__name__}")
    if "class_name" in config:
        if config["class_name"] in FUNCTIONAL_CLASSES:
            raise ValueError(f"{where}: tinynet builds Sequential models only, this is a "
                             f"functional model (keras.Model(inputs, outputs)); rebuild it "
                             f"in Keras as a keras.Sequential if its layers form one chain")
        if config["class_name"] != "Sequential":
            raise ValueError(f"{where}: tinynet builds Sequential models only, this is a "
                             f"{config['class_name']} model")
        config = config.get("config", {})
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise ValueError(f"{where}: the config has no 'layers' list")
    return config


# -- a model inside a model --------------------------------------------------------------------
#
# Keras keeps a Sequential inside a Sequential (a transfer-learning base, a block of layers)
# as one layer: in config.json its entry is a whole model config,
#
#     {"module": "keras", "class_name": "Sequential",
#      "config": {"name": "base", "trainable": true, "layers": [InputLayer, Conv2D, ...],
#                 "build_input_shape": [...]}, "build_config": {...}, "compile_config": {}}
#
# and in model.weights.h5 its layers' weights sit one level down, numbered within the inner
# model, the inner model itself counted among the outer model's layers as "sequential":
#
#     layers/sequential/layers/conv2d/vars/0, 1          the inner model's Conv2D
#     layers/sequential/layers/batch_normalization/vars/0 .. 3
#     layers/dense/vars/0, 1                             the outer model's first Dense
#
# (two levels: layers/sequential/layers/sequential/layers/dense/...). The optimizer's
# variables follow the trainable weights of all the layers in model order, the inner model's
# where it stands (Adam: m and v of the inner Conv2D's kernel, ..., then the outer Dense's).
# Keras writes each inner layer's own trainable flag (freezing the inner model sets them all
# to false) and, loading, goes by those flags only, not by the inner model's own "trainable".
# Checked on files saved by Keras 3.15.1 (tests/data/make_keras_nested_reference.py).
#
# tinynet takes an inner model apart, as Sequential([inner_model, ...]) does in code
# (Sequential.add_model): its layers, with their weights and trainable flags, join the outer
# model. Saving such a model writes a flat model (its layers one after another), which Keras
# loads as a flat Sequential with the same predictions. A functional model inside is refused.

FUNCTIONAL_CLASSES = ("Functional", "Model")


def item_from_config(entry, where, custom_objects=None):
    """A layer from one entry of a config's "layers" list, or a tinynet Sequential for an
    inner Sequential (which the outer model then takes apart)."""
    if not isinstance(entry, dict) or "class_name" not in entry:
        raise ValueError(f"{where}: each layer must be a dict with a 'class_name', got "
                         f"{entry!r}")
    class_name, config = entry["class_name"], entry.get("config") or {}
    if not isinstance(config, dict):
        raise ValueError(f"{where}: the config of a {class_name} must be a dict, got "
                         f"{config!r}")
    if class_name in FUNCTIONAL_CLASSES:
        raise ValueError(f"{layer_description(class_name, config)}: a Keras functional model "
                         f"(keras.Model(inputs, outputs)) inside this model. tinynet has no "
                         f"functional API: it takes an inner Sequential apart into its layers, "
                         f"but cannot load a functional one. In Keras, rebuild the inner model "
                         f"as keras.Sequential([...]) (if its layers form one chain) and save "
                         f"again")
    if class_name == "Sequential":
        return model_from_config(entry, where, inner=True, custom_objects=custom_objects)
    return layer_from_config(class_name, config, custom_objects)


def input_layer_shape(config):
    """The batch shape an InputLayer's config gives: batch_shape (Keras 3),
    batch_input_shape (older files) or shape."""
    return (config.get("batch_shape") or config.get("batch_input_shape")
            or [None, *config.get("shape", [])])


def is_fixed(shape):
    """True unless a size past the batch axis is None (or there is no shape)."""
    return shape is None or all(size is not None for size in shape[1:])


def check_fixed_shape(shape, name, class_name):
    """tinynet builds every layer for one input shape: a size None (Keras's variable image
    size, Input(shape=(None, None, 3))) gets one clear error naming the layer."""
    if is_fixed(shape):
        return
    raise ValueError(f"layer '{name}' ({class_name}) takes inputs of shape "
                     f"{tuple(shape[1:])}, with a size None (Keras's variable size, as in "
                     f"Input(shape=(None, None, 3)) for images of any size): tinynet needs "
                     f"fixed image sizes. Save the model from Keras with "
                     f"Input(shape=(H, W, C)), e.g. Input(shape=(32, 32, 3)); or build the "
                     f"same layers in tinynet with a fixed size and load this file's weights "
                     f"with model.load_weights(path) (a convolution's weights do not depend "
                     f"on the image size)")


def model_from_config(config, where="model_from_config", inner=False, custom_objects=None):
    """A new, built Sequential from Keras's Sequential config (inner or wrapped). An inner
    Sequential is taken apart: its layers join this model (see "a model inside a model").
    inner=True, for such an inner model: one with a variable input size (a base model made
    with Input(shape=(None, None, 3)) inside a model of fixed size) is left unbuilt, and the
    outer model builds its layers for its own input size. custom_objects: {name: class} of
    the regularizers, initializers and constraints of your own its layers use."""
    config = unwrap_model_config(config, where)
    items, input_shape = [], config.get("build_input_shape")
    input_name = (config.get("name", "sequential"), "Sequential")
    for entry in config["layers"]:
        if isinstance(entry, dict) and entry.get("class_name") == "InputLayer":
            # Keras keeps the input shape as a pseudo-layer; tinynet builds from it instead
            layer_config = entry.get("config") or {}
            if not isinstance(layer_config, dict):
                raise ValueError(f"{where}: the InputLayer's config must be a dict, got "
                                 f"{layer_config!r}")
            input_shape = input_shape or input_layer_shape(layer_config)
            input_name = (layer_config.get("name", "input_layer"), "InputLayer")
            if not inner:
                check_fixed_shape(input_shape, *input_name)
            continue
        if input_shape is None and not items and isinstance(entry, dict):
            input_shape = (entry.get("build_config") or {}).get("input_shape")
        items.append(item_from_config(entry, where, custom_objects))
    if inner and not is_fixed(input_shape):
        input_shape = None  # the outer model's input decides
    check_fixed_shape(input_shape, *input_name)
    from tinynet.models import Sequential  # here: models.py imports this module

    if input_name[1] == "InputLayer" and input_shape is not None and not inner and (
            input_name[0] != "input_layer" or input_shape[0] is not None):
        # an Input given a name, or a fixed batch size, keeps it
        from tinynet.layers.input import Input

        items.insert(0, Input(shape=tuple(input_shape[1:]), batch_size=input_shape[0],
                              name=input_name[0]))
    model = Sequential(items, name=config.get("name", "sequential"))
    if input_shape is not None and model.layers:
        model.build(tuple(input_shape))  # the batch size Keras built it for, or None
    return model


def model_to_json(model):
    """The model's config as a JSON string, as Keras's model.to_json() writes it: with the
    compile settings ("compile_config") of a compiled model."""
    warn_if_it_loads_uncompiled(model, "to_json")
    return json.dumps(model_to_dict(model))


def model_from_json(text, custom_objects=None):
    """A new Sequential (new weights) from the JSON text of model_to_json (or Keras's
    to_json), compiled as its "compile_config" says, as Keras 3's model_from_json does
    (a model's get_config() has no compile settings: from_config leaves it uncompiled)."""
    custom_objects = check_custom_objects(custom_objects, "model_from_json")
    if not isinstance(text, (str, bytes)):
        raise TypeError(f"model_from_json: expected a JSON string, got {type(text).__name__}")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"model_from_json: the text is not valid JSON ({err})") from None
    model = model_from_config(config, custom_objects=custom_objects)
    compile_config = config.get("compile_config") if isinstance(config, dict) else None
    if compile_config:
        compile_from_config(model, compile_config, "model_from_json", custom_objects)
    return model


# -- compile config --------------------------------------------------------------------------

def optimizer_to_keras(optimizer):
    """Keras's serialized optimizer: its settings, with Keras's "off" for the ones tinynet
    lacks; None for an optimizer Keras does not have."""
    class_name = type(optimizer).__name__
    if class_name not in OPTIMIZER_KEYS:
        return None
    own, extra = OPTIMIZER_KEYS[class_name]
    learning_rate = optimizer.schedule or optimizer.current_learning_rate()  # as given
    if hasattr(learning_rate, "get_config"):  # a schedule (one of your own: see serialize)
        from tinynet.optimizers import schedules

        learning_rate = schedules.serialize(learning_rate)
    config = {"name": snake_case(class_name), "learning_rate": learning_rate,
              **OPTIMIZER_COMMON}
    # gradient clipping, which tinynet's optimizers have too, as set
    config.update({key: getattr(optimizer, key) for key in (*optimizers.CLIPPING, *own)})
    config.update(extra)
    return keras_object("keras.optimizers", class_name, as_json_value(config))


# The name keras.losses.get knows each tinynet loss class by: the name of its function
# (Huber -> "huber"), which is what Keras 3.15 writes for compile(loss="huber"). A loss's own
# name can differ: Huber().name is "huber_loss", which keras.losses.get does not know (Keras
# loads such a file, then fit fails: "Could not interpret loss identifier: huber_loss").
KERAS_LOSS_NAME = {cls: function.__name__ for function, cls in losses.FUNCTIONS.items()}
# compile(loss='crossentropy') before any data decided which one: Keras writes the string
KERAS_LOSS_NAME[losses.CrossentropyByShape] = "crossentropy"


def loss_to_keras(loss):
    """What Keras writes in compile_config["loss"]: a name keras.losses.get knows ("huber")
    when every setting is its default, else the loss object with its settings (from_logits,
    label_smoothing, delta, reduction...), which keras.losses rebuilds. A loss of your own is
    written as Keras writes one, {"module": None, "class_name": its class, "config": its
    get_config(), "registered_name": its class}: load_model rebuilds it only when given
    custom_objects={name: class} (save_model warns)."""
    if getattr(loss, "given_as", None) == "crossentropy":  # decided by the data, as in Keras
        return "crossentropy"
    if type(loss) not in KERAS_LOSS_NAME:
        # by its class name, as Keras writes an object of your own (load_model rebuilds it
        # from custom_objects={name: class}): not by its .name, which a subclass of a
        # built-in loss inherits ('mean_squared_error') and which would load as that
        # built-in loss, silently without the subclass's own formula
        return own_object_entry(loss)
    config = loss.get_config()
    if config == type(loss)().get_config():
        return KERAS_LOSS_NAME[type(loss)]
    return keras_object("keras.losses", type(loss).__name__, config)


def metric_to_keras(metric):
    """What Keras 3 writes in compile_config["metrics"] for one of the model's metrics, which
    is what compile was given (metric.identifier, see tinynet.metrics.Metric):

        "acc"                                     a string stays that string
        {"module": "builtins", "class_name": "function", "config": "binary_accuracy", ...}
                                                  a function of keras.metrics
        {"module": "keras.metrics", "class_name": "AUC", "config": {"name": "auc_1", ...}}
                                                  a metric object, with its settings

    A ValueError for a metric Keras could not rebuild (a class or function of your own)."""
    given = getattr(metric, "identifier", None)
    if isinstance(given, str):
        return given
    if callable(given):
        return metrics.serialize(given)
    return metrics.serialize(metric)


def get_compile_config(model):
    """Keras's compile_config of a compiled model, or None (not compiled, or with an
    optimizer Keras does not have). A metric Keras could not rebuild is left out, with a
    warning, so that Keras can still open the file compiled."""
    if not getattr(model, "compiled", False):
        return None
    optimizer = optimizer_to_keras(model.optimizer)
    if optimizer is None:
        return None
    entries = {"metrics": [], "weighted_metrics": []}
    for argument, entry_list in entries.items():
        for metric in getattr(model, argument, []):
            try:
                entry_list.append(metric_to_keras(metric))
            except ValueError as err:
                warnings.warn(f"the metric {getattr(metric, 'name', metric)!r} is left out of "
                              f"the saved compile settings: {err}", UserWarning, stacklevel=5)
    return {"optimizer": optimizer, "loss": loss_to_keras(model.loss), "loss_weights": None,
            "metrics": entries["metrics"] or None,
            "weighted_metrics": entries["weighted_metrics"] or None, "run_eagerly": False,
            "steps_per_execution": 1, "jit_compile": False}


def optimizer_from_keras(value, where, custom_objects=None):
    """Keras's serialized optimizer (or 'adam') -> a tinynet optimizer with its settings.
    A Keras-only setting that is on (clipnorm, use_ema, ...) raises a ValueError (see
    keras_only_settings): compile_from_config then leaves the model uncompiled, with a
    warning, rather than train it with another optimizer than Keras's."""
    if isinstance(value, str):
        return optimizers.get(value)
    if not isinstance(value, dict):
        raise ValueError(f"{where}: the optimizer must be a name or Keras's dict, got "
                         f"{value!r}")
    class_name = next((name for name in OPTIMIZER_KEYS
                       if name.lower() == str(value.get("class_name")).lower()), None)
    if class_name is None:
        raise ValueError(f"{where}: tinynet has no optimizer {value.get('class_name')!r}")
    config = dict(value.get("config") or {})
    own, extra = OPTIMIZER_KEYS[class_name]
    kwargs = {key: config[key] for key in own if key in config}
    # gradient clipping: Keras applies a setting only when it is positive
    kwargs.update({key: config[key] for key in optimizers.CLIPPING
                   if isinstance(config.get(key), (int, float)) and config[key] > 0})
    own = (*own, *optimizers.CLIPPING)
    learning_rate = config.get("learning_rate", None)
    if isinstance(learning_rate, dict):
        users = own_object(learning_rate, custom_objects) if is_users_entry(learning_rate) \
            else None
        learning_rate = users or schedule_from_keras(learning_rate, where)
    if learning_rate is not None:
        kwargs["learning_rate"] = learning_rate
    unsupported = keras_only_settings(config, own, extra)
    if unsupported:
        raise unsupported_optimizer_error(class_name, kwargs, unsupported, where)
    return getattr(optimizers, class_name)(**kwargs)


# What each optimizer setting tinynet lacks does in Keras 3.15 (BaseOptimizer), for the
# warning of a model loaded uncompiled because of it.
KERAS_ONLY_SETTINGS = {
    "weight_decay": "Keras shrinks every weight by learning_rate * weight_decay at each step "
                    "(tinynet has weight decay in AdamW only)",
    "clipnorm": "Keras scales each gradient whose norm is larger down to this norm",
    "global_clipnorm": "Keras scales all gradients together down to this global norm",
    "clipvalue": "Keras clips each gradient's values to [-clipvalue, clipvalue]",
    "use_ema": "Keras keeps a moving average of the weights and writes it into them",
    "loss_scale_factor": "Keras scales the loss and unscales the gradients",
    "gradient_accumulation_steps": "Keras averages the gradients of that many batches into "
                                   "one update",
}


def keras_only_settings(config, own, extra):
    """{setting: value} of a Keras optimizer config's settings that tinynet's optimizer lacks
    and that are on. Off, as Keras's BaseOptimizer reads them: None and Keras's default;
    clipnorm, global_clipnorm and clipvalue at 0 or below and gradient_accumulation_steps
    at 0 (Keras applies them only when they are positive); weight_decay=0 and
    loss_scale_factor=1, which change nothing; ema_momentum and ema_overwrite_frequency
    unless use_ema is on."""
    found = {}
    for key, off in {**OPTIMIZER_COMMON, **extra}.items():
        value = config.get(key, off)
        if key in own or value is None or value == off:
            continue
        if key.startswith("ema_") and not config.get("use_ema"):
            continue
        if key in ("clipnorm", "global_clipnorm", "clipvalue") and value <= 0:
            continue
        if (key, value) in (("weight_decay", 0), ("gradient_accumulation_steps", 0),
                            ("loss_scale_factor", 1)):
            continue
        found[key] = value
    return found


def unsupported_optimizer_error(class_name, kwargs, unsupported, where):
    """The ValueError for an optimizer saved with settings tinynet lacks, with what to do
    (its .advice ends compile_from_config's warning)."""
    settings = ", ".join(f"{key}={value!r}" for key, value in unsupported.items())
    meanings = "; ".join(f"{key}: {KERAS_ONLY_SETTINGS[key]}"
                         for key in unsupported if key in KERAS_ONLY_SETTINGS)
    error = ValueError(f"its optimizer {class_name} was saved with {settings}, which "
                       f"tinynet's optimizers do not have ({meanings}), so tinynet would "
                       f"train it differently from Keras")
    rate = kwargs.get("learning_rate")
    rate = f"{rate:.6g}" if isinstance(rate, (int, float)) else "..."
    error.advice = (f"the weights are loaded and predict works. To train it, compile it again "
                    f"with tinynet's optimizer, e.g. model.compile(optimizer="
                    f"tinynet.optimizers.{class_name}(learning_rate={rate}), loss=...), "
                    f"knowing that training then differs from Keras's")
    if where.startswith("load_model"):
        error.advice += ("; or load it with load_model(..., compile=False) to say you know "
                         "(no warning then)")
    return error


def schedule_from_keras(value, where):
    """A serialized learning-rate schedule -> tinynet's schedule of the same class."""
    from tinynet.optimizers import schedules

    cls = getattr(schedules, str(value.get("class_name")), None)
    if is_users_entry(value) or not isinstance(cls, type) or \
            not issubclass(cls, schedules.LearningRateSchedule):
        raise ValueError(f"{where}: tinynet has no learning-rate schedule "
                         f"{value.get('class_name')!r}{own_object_hint(value)}")
    accepted = constructor_arguments(cls)
    config = value.get("config") or {}
    return cls(**{key: v for key, v in config.items() if key in accepted})


def loss_from_keras(value, where, custom_objects=None):
    """'binary_crossentropy' or {"class_name": "BinaryCrossentropy", "config": {...}}, or a
    loss of your own that custom_objects names (see own_object)."""
    own = own_object(value, custom_objects)
    if own is not None:
        return losses.get(own)  # a class of your own must be a tinynet Loss (its gradient)
    if isinstance(value, dict) and value.get("class_name") == "function":
        # compile(loss=keras.losses.mean_squared_error): Keras writes the function's name
        value = value.get("config")
    if isinstance(value, str):
        # "huber_loss" (Huber's own name) is what earlier versions of tinynet wrote for Huber
        return losses.get("huber" if value == "huber_loss" else value)
    cls = getattr(losses, str(value.get("class_name")), None) if isinstance(value, dict) else None
    if cls is None or not (isinstance(cls, type) and issubclass(cls, losses.Loss)):
        raise ValueError(f"{where}: tinynet has no loss {value!r}{own_object_hint(value)}")
    return cls.from_config(value.get("config") or {})  # Keras's settings, as the loss takes them


def describe_metric(entry):
    """'auc_1' (AUC) for Keras's dict of a metric object, the string itself for a name."""
    if not isinstance(entry, dict):
        return repr(entry)
    config = entry.get("config")
    name = config.get("name") if isinstance(config, dict) else config
    return f"{name!r} ({entry.get('class_name')})"


def as_list(entries):
    """Keras's metrics setting: None, one metric, or a list of them -> a list."""
    if entries is None:
        return []
    return [entries] if isinstance(entries, (str, dict)) else list(entries)


def metrics_from_keras(compile_config, loss_name, where, argument="metrics",
                       custom_objects=None):
    """compile_config["metrics"] (or [argument], "weighted_metrics") -> tinynet metrics:
    names stay names (built as compile builds them), Keras's dicts of metric objects become
    tinynet's metric objects with their settings (name, thresholds, num_thresholds, curve,
    k, ...), and a metric of your own that custom_objects names is made from it (see
    own_object). A metric tinynet does not have is left out with a warning: the model is
    still compiled, and so keeps the optimizer's state."""
    restored = []
    for entry in as_list(compile_config.get(argument)):
        try:
            own = own_object(entry, custom_objects)
            restored.append(metrics.get(entry if own is None else own, loss_name))
        except (TypeError, ValueError) as err:
            warnings.warn(f"{where}: the metric {describe_metric(entry)} is left out, the "
                          f"model is compiled without it ({err}{own_object_hint(entry)})",
                          UserWarning, stacklevel=5)
    return restored


def compile_from_config(model, compile_config, where, custom_objects=None):
    """Compile `model` as the compile_config says, and build its optimizer (give it its
    slots) as Keras's compile_from_config does; warn and leave it uncompiled when tinynet
    cannot (a Keras-only loss or optimizer; a Keras-only metric is only left out). Returns
    True if compiled."""
    try:
        # no optimizer (Keras writes none after a legacy .h5 save): Keras's compile default
        optimizer = optimizer_from_keras(compile_config.get("optimizer") or "rmsprop", where,
                                         custom_objects)
        loss = loss_from_keras(compile_config["loss"], where, custom_objects)
        with warnings.catch_warnings():  # compile's advice on 'accuracy' was given when the
            warnings.filterwarnings(      # model was compiled; loading is not the place
                "ignore", message=r"compile: metrics=\['accuracy'\] with loss")
            model.compile(optimizer=optimizer, loss=loss,
                          metrics=metrics_from_keras(compile_config, loss.name, where,
                                                     custom_objects=custom_objects),
                          weighted_metrics=metrics_from_keras(compile_config, loss.name,
                                                              where, "weighted_metrics",
                                                              custom_objects))
    except (KeyError, TypeError, ValueError) as err:
        advice = getattr(err, "advice", "call model.compile(...) yourself")
        warn_user(f"{where}: the model is returned uncompiled, because its compile settings "
                  f"cannot be restored in tinynet ({err}); {advice}")
        return False
    build_optimizer(model)  # as Keras's compile_from_config does
    return True


# -- the weights file (.weights.h5, and model.weights.h5 inside a .keras file) -----------------

def import_h5py(where):
    """h5py, imported only when an .h5 file is read or written (an optional dependency)."""
    try:
        import h5py
    except ImportError:
        raise ImportError(f'{where} needs h5py to read and write Keras\'s .h5 weights; '
                          f'install it with: pip install "tinynet[keras]"') from None
    return h5py


def layer_paths(items, prefix="layers"):
    """(layer, 'layers/dense_1') for every layer of a model (or of a list of items): Keras's
    group names, made from the layer's CLASS and its rank among layers of that class (not
    from the layer's own name). An item that is a list stands for a model inside the model
    (see nested_layers): it is counted as a "sequential", and its layers are numbered within
    it, under layers/sequential/layers/..."""
    counts, paths = {}, []
    for item in getattr(items, "layers", items):
        base = "sequential" if isinstance(item, list) else snake_case(keras_class_name(item))
        if base == "input_layer":
            continue  # Keras stores nothing for it
        count = counts.get(base, -1) + 1
        counts[base] = count
        path = f"{prefix}/{base}" if count == 0 else f"{prefix}/{base}_{count}"
        if isinstance(item, list):
            paths += layer_paths(item, f"{path}/layers")
        else:
            paths.append((item, path))
    return paths


def nested_groups(h5_file, prefix="layers"):
    """The groups of a weights file that hold a model inside the model (Keras's
    layers/sequential/layers/...), outermost first."""
    found = []
    for name in h5_file.get(prefix, {}):
        if f"{prefix}/{name}/layers" in h5_file:
            found += [f"{prefix}/{name}", *nested_groups(h5_file, f"{prefix}/{name}/layers")]
    return found


def file_layer_groups(h5_file, prefix="layers"):
    """Every layer group of a weights file, those inside an inner model's group included."""
    found = []
    for name in h5_file.get(prefix, {}):
        path = f"{prefix}/{name}"
        found += (file_layer_groups(h5_file, f"{path}/layers") if f"{path}/layers" in h5_file
                  else [path])
    return found


def nested_layers(model, config, where):
    """The model's layers as Keras nested them when it saved the file: a list with, for each
    inner Sequential, a list of its layers in its place. Read from the file's config.json
    when there is one (the model's layers are matched in order); else from the models that
    were taken apart to make this model (model.taken_apart, see Sequential.add_model)."""
    if config is None:
        return recorded_nesting(model)
    remaining = list(model.layers)

    def items_of(model_config):
        items = []
        for entry in unwrap_model_config(model_config, where)["layers"]:
            class_name = entry.get("class_name") if isinstance(entry, dict) else None
            if class_name in FUNCTIONAL_CLASSES:
                item_from_config(entry, where)  # refused, with the reason
            if class_name == "Sequential":
                items.append(items_of(entry))
            elif class_name != "InputLayer" and remaining:
                items.append(remaining.pop(0))
            elif class_name != "InputLayer":
                items.append(None)  # the file has more layers than the model
        return items

    items = items_of(config)
    count = len(flatten_items(items))
    if remaining or None in flatten_items(items):
        raise ValueError(f"{where}: the file's model has {count} layers (its inner models "
                         f"taken apart), this model has {len(model.layers)}: build it with "
                         f"the same layers in the same order, as tinynet.models.load_model "
                         f"does")
    return items


def flatten_items(items):
    """The layers of nested_layers' list, in order."""
    return [leaf for item in items
            for leaf in (flatten_items(item) if isinstance(item, list) else [item])]


def recorded_nesting(model):
    """nested_layers from model.taken_apart: each model taken apart to make this one left
    the names of its layers, a run of consecutive layers here; runs inside runs are models
    inside models. A record that no longer fits (a layer popped since) is left out."""
    names = [layer.name for layer in model.layers]
    runs = []
    for members in getattr(model, "taken_apart", {}).values():
        starts = [i for i in range(len(names)) if names[i:i + len(members)] == members]
        runs += [(starts[0], starts[0] + len(members))] if starts and members else []
    return group_runs(model.layers, 0, len(names), sorted(runs, key=lambda r: (r[0], -r[1])))


def group_runs(layers, start, stop, runs):
    """layers[start:stop] as a list in which each run (first, end) is a list of its own
    (the longest first, so that a run inside a run is nested in it)."""
    items, i = [], start
    while i < stop:
        run = next((r for r in runs if r[0] == i and r[1] <= stop), None)
        if run is None:
            items.append(layers[i])
            i += 1
            continue
        rest = list(runs)
        rest.remove(run)
        inside = [r for r in rest if run[0] <= r[0] and r[1] <= run[1]]
        items.append(group_runs(layers, run[0], run[1], inside))
        i = run[1]
    return items


def weight_paths(h5_file, model, config, where):
    """(layer, path) of every layer of `model` in the file: Keras's flat layout, or, for a
    file saved from a model with a model inside, the nesting its config (or the model's
    record of the models it took apart) gives."""
    groups = nested_groups(h5_file)
    if not groups:
        return layer_paths(model)
    items = nested_layers(model, config, where)
    if config is None and not any(isinstance(item, list) for item in items):
        raise ValueError(f"{where}: the file holds the weights of a model with a model "
                         f"inside it ({', '.join(groups)}), and this model was built without "
                         f"one, so tinynet cannot tell which of its layers were inside: build "
                         f"it as the Keras model was, with the inner model as one item "
                         f"(Sequential([Input(...), inner_model, ...])), or load the whole "
                         f".keras file, whose config says")
    return layer_paths(items)


def write_weights(h5_file, model):
    """Every layer's weights into an open h5py file, in Keras 3's layout."""
    h5_file.create_group("vars").attrs["name"] = model.name
    for layer, path in layer_paths(model):
        group = h5_file.create_group(path).create_group("vars")
        group.attrs["name"] = layer.name
        for i, array in enumerate(layer.get_weights()):
            group[str(i)] = array
    variables = optimizer_variables(model)
    if variables is not None:
        group = h5_file.create_group("optimizer").create_group("vars")
        group.attrs["name"] = snake_case(type(model.optimizer).__name__)
        for i, array in enumerate(variables):
            group[str(i)] = array


def stored_arrays(h5_file, path, where):
    """The arrays under path/vars, in order 0, 1, 2, ... ([] when the group is absent)."""
    group = h5_file.get(f"{path}/vars")
    if group is None:
        return []
    names = sorted(group.keys(), key=lambda name: int(name) if name.isdigit() else -1)
    if names != [str(i) for i in range(len(names))]:
        raise ValueError(f"{where}: {path}/vars holds {names}, expected datasets 0, 1, 2, ...")
    return [np.asarray(group[name][()]) for name in names]


def weights_mismatch(layer, path, arrays):
    """Why a layer cannot take the arrays stored under `path`, or None when it can."""
    keys = layer.weight_keys()
    if len(arrays) != len(keys):
        return (f"layer '{layer.name}' ({type(layer).__name__}) has {len(keys)} weights "
                f"({', '.join(keys) or 'none'}), but the file's group {path} holds "
                f"{len(arrays)}")
    for key, array in zip(keys, arrays, strict=True):
        if array.shape != layer.weight(key).shape:
            return (f"weight '{key}' of layer '{layer.name}' has shape "
                    f"{layer.weight(key).shape} in the model but {array.shape} in the file "
                    f"({path})")
    return None


def read_weights(h5_file, model, where, skip_mismatch=False, config=None):
    """Check the file's arrays against the model, then load them all (or nothing).
    config: the .keras file's config.json, which says how a model inside was nested.

    skip_mismatch=True (Keras's load_weights argument): a layer whose weights do not fit
    keeps its own, and one warning names them all, as in Keras; the others are loaded."""
    plan, skipped = [], []
    paths = weight_paths(h5_file, model, config, where)
    for layer, path in paths:
        arrays = stored_arrays(h5_file, path, where)
        problem = weights_mismatch(layer, path, arrays)
        if problem is None:
            plan.append((layer, arrays))
        elif skip_mismatch:
            skipped.append(problem)
        else:
            raise ValueError(f"{where}: {problem}")
    expected = {path for _, path in paths}
    extra = sorted(path for path in file_layer_groups(h5_file)
                   if path not in expected and stored_arrays(h5_file, path, where))
    if extra and not skip_mismatch:
        raise ValueError(f"{where}: the file has weights for layers this model lacks: "
                         f"{', '.join(extra)}; was it saved from a different model? (To load "
                         f"what fits and skip the rest: load_weights(..., "
                         f"skip_mismatch=True))")
    for layer, arrays in plan:
        if arrays:
            layer.set_weights(arrays)
    if skipped:
        warn_user(f"{where}: a total of {len(skipped)} layers could not be loaded and keep "
                  f"their own weights (skip_mismatch=True): {'; '.join(skipped)}")
    restore_optimizer(model, stored_arrays(h5_file, "optimizer", where), where, build=False)


def h5_bytes(model, where):
    """The bytes of a Keras weights file for `model` (h5py writes into memory)."""
    h5py = import_h5py(where)
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5_file:
        write_weights(h5_file, model)
    return buffer.getvalue()


def load_h5_bytes(model, data, where, skip_mismatch=False, config=None):
    """Load a weights file's bytes into the model (config: see read_weights)."""
    h5py = import_h5py(where)
    try:
        h5_file = h5py.File(io.BytesIO(data), "r")
    except OSError:
        raise ValueError(f"{where}: not an HDF5 weights file (corrupt, truncated or of "
                         f"another format)") from None
    with h5_file:
        read_weights(h5_file, model, where, skip_mismatch, config)


# -- the optimizer's variables ---------------------------------------------------------------
#
# Keras 3 saves an optimizer as a flat list: iterations, learning_rate, then the slots of the
# trainable weights (in model order). Adam and AdamW interleave m and v per weight (m then v
# of the first weight, m then v of the second, ...), then, with amsgrad=True, list v_hat
# ("velocity_hat") of every weight; the others list one kind for all weights, then the next
# kind: RMSprop's v ("velocity"), then its momentum buffer (if momentum > 0), then its mean
# gradient (if centered); SGD's velocity (if momentum > 0); Adagrad's accumulator. Checked on
# the variable paths of Keras 3.15.1's built optimizers.

def keras_slot_order(optimizer):
    """(slot names interleaved per weight, slot names listed one kind after the other): the
    tinynet slot names of an optimizer in Keras's order; (None, None) for one Keras lacks."""
    class_name = type(optimizer).__name__
    if class_name in ("Adam", "AdamW"):
        return ("m", "v"), (("v_hat",) if optimizer.amsgrad else ())
    if class_name == "RMSprop":
        names = ("v",) + (("velocity",) if optimizer.momentum > 0 else ())
        return (), names + (("mg",) if optimizer.centered else ())
    if class_name == "SGD":
        return (), (("velocity",) if optimizer.momentum > 0 else ())
    if class_name == "Adagrad":
        return (), ("accumulator",)
    return None, None


def trainable_weights(model):
    """The trainable arrays in Keras's order: layer by layer, each layer's weight order."""
    return [layer.params[key] for layer in model.layers for key in layer.weight_keys()
            if key in layer.params and model.trains(layer)]


def optimizer_variables(model):
    """[iterations, learning_rate, slots...] as Keras stores them (without learning_rate when
    it is a schedule: Keras then has no such variable), or None when the model is not
    compiled. Only the head is returned when the slots cannot be read. The step count is an
    int32, the learning rate a float32, as in Keras 3.15's files."""
    optimizer = getattr(model, "optimizer", None)
    if not getattr(model, "compiled", False) or optimizer is None:
        return None
    head = [np.array(optimizer.iterations, dtype=np.int32)]
    if optimizer.schedule is None:
        head.append(np.array(optimizer.learning_rate, dtype=np.float32))
    slots = optimizer_slots(model)
    return head if slots is None else head + slots


def optimizer_slots(model):
    """The slot arrays in Keras's order (see above); None when they cannot be read.

    An optimizer that has taken no step has the slots create_slots makes (zeros, or Adagrad's
    initial accumulator), so they are written exactly. After training they come from
    model.optimizer_state(): {slot name: [one array per trainable weight, in model order]},
    when the model offers it."""
    optimizer = model.optimizer
    interleaved, listed = keras_slot_order(optimizer)
    if interleaved is None:
        return None
    weights = trainable_weights(model)
    if optimizer.iterations == 0:
        state = fresh_optimizer_state(model)
    elif hasattr(model, "optimizer_state"):
        state = model.optimizer_state()
    else:
        return None
    return ([state[name][i] for i in range(len(weights)) for name in interleaved]
            + [array for name in listed for array in state[name]])


def fresh_optimizer_state(model):
    """{slot name: [one array per trainable weight]} of an optimizer that has taken no step:
    what its create_slots makes (zeros; Adagrad's initial accumulator)."""
    interleaved, listed = keras_slot_order(model.optimizer)
    fresh = [model.optimizer.create_slots(weight) for weight in trainable_weights(model)]
    return {name: [slots[name] for slots in fresh] for name in interleaved + listed}


# -- when Keras loads an optimizer's state, and when it skips it --------------------------------
#
# A Keras optimizer has two variables from the start, iterations and learning_rate (one with a
# schedule: iterations), and gets its slots (m, v, ... of every trainable weight) when it is
# BUILT: at the first training step, or when load_model / model_from_json / clone_model
# compile a built model (Model.compile_from_config calls optimizer.build). Loading a file
# (load_model, load_weights) gives it the file's variables only when the counts agree;
# otherwise it keeps its own and warns (BaseOptimizer.load_own_variables in Keras 3.15.1):
#
#     Skipping variable loading for optimizer 'adam', because it has 2 variables whereas the
#     saved optimizer has 10 variables.
#
# So load_weights into a freshly compiled model skips a trained file's optimizer state, and
# training starts again from step 0. tinynet's optimizer is built when it has its slots
# (optimizer.slots is not None), from the same moments, and follows the same rule.

def optimizer_built(model):
    """True when the model is compiled and its optimizer has its slots (Keras: is built)."""
    return (getattr(model, "compiled", False)
            and getattr(model.optimizer, "slots", None) is not None)


def build_optimizer(model):
    """Give the optimizer of a compiled, built model its slots, fresh, as Keras's
    compile_from_config does when it compiles a loaded model: load_model then loads the
    file's optimizer state into them, and summary() counts them."""
    interleaved, _ = keras_slot_order(model.optimizer)
    if model.built and interleaved is not None and model.optimizer.slots is None:
        model.set_optimizer_state(0, fresh_optimizer_state(model))


def scalar_variable_count(optimizer):
    """Keras's optimizer variables before its slots: iterations, and the learning rate
    unless it is a schedule (a schedule is code, not a variable)."""
    return 1 if optimizer.schedule is not None else 2


def optimizer_variable_count(model):
    """How many variables Keras's optimizer has for this model: iterations (and the learning
    rate, unless it is a schedule), then its slots once it is built."""
    optimizer = model.optimizer
    head = scalar_variable_count(optimizer)
    if optimizer.slots is None:
        return head
    interleaved, listed = keras_slot_order(optimizer)
    return head + len(interleaved + listed) * len(trainable_weights(model))


def optimizer_params(model):
    """(count, bytes) of the optimizer's variables, as Keras's summary() counts them once the
    optimizer is built: iterations (an int32) and the learning rate (a float32, none with a
    schedule), and every slot array (Adam: m and v of every trainable weight), those of
    weights frozen since included (Keras keeps their variables; tinynet parks them)."""
    optimizer = model.optimizer
    head = scalar_variable_count(optimizer)
    arrays = [array for slots in optimizer.slots for array in slots.values()]
    arrays += [array for _, slots in getattr(model, "parked_slots", {}).values()
               for array in slots.values()]
    return (head + sum(array.size for array in arrays),
            4 * head + sum(array.nbytes for array in arrays))


def restore_optimizer(model, arrays, where="set_optimizer_variables", build=True):
    """Give the model's optimizer the state a file holds (step count, learning rate, slots),
    when the file holds as many variables as the optimizer has (see above); otherwise warn as
    Keras does and leave the optimizer as it is, which changes nothing for predictions. An
    uncompiled model, or an optimizer of your own, ignores the optimizer's part of the file.

    build=False: load_weights and load_model, which load into the optimizer as it is.
    build=True: model.set_optimizer_variables (BackupAndRestore), which builds the optimizer
    first, as Keras's BackupAndRestore does before it loads its backup."""
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not getattr(model, "compiled", False):
        return
    interleaved, listed = keras_slot_order(optimizer)
    if interleaved is None:
        return
    if build:
        build_optimizer(model)
    expected = optimizer_variable_count(model)
    if len(arrays) != expected:
        warn_user(f"{where}: Skipping variable loading for optimizer '{optimizer.name}', "
                  f"because it has {expected} variables whereas the saved optimizer has "
                  f"{len(arrays)} variables (Keras 3 skips it too). "
                  f"{skipped_optimizer_reason(model, len(arrays), expected)}")
        return
    head = scalar_variable_count(optimizer)  # iterations (, learning_rate)
    check_step_count_and_rate(arrays[:head], where)
    state = None
    if optimizer.slots is not None:  # built: the slots follow, in Keras's order
        state = slots_from_keras_order(arrays[head:], interleaved, listed,
                                       trainable_weights(model))
        if state is None:
            warn_user(f"{where}: Skipping variable loading for optimizer "
                      f"'{optimizer.name}', because the shapes of the saved variables differ "
                      f"from its own. {skipped_optimizer_reason(model, len(arrays), expected)}")
            return
    # Keras takes the file's learning rate too (changed by ReduceLROnPlateau, say); a rate
    # that is only the float32 rounding of this optimizer's is not a change
    if head == 2 and np.float32(optimizer.learning_rate) != np.float32(arrays[1]):
        optimizer.learning_rate = float(arrays[1])
    if state is None:
        optimizer.iterations = int(arrays[0])
    else:
        model.set_optimizer_state(int(arrays[0]), state)


def check_step_count_and_rate(head, where):
    """A file's optimizer/vars/0 (the step count, an int >= 0) and vars/1 (the learning rate,
    a finite number >= 0) checked, so that a damaged file gets an error naming them, not one
    of NumPy's from deep inside."""
    names = ("the step count (optimizer/vars/0)", "the learning rate (optimizer/vars/1)")
    for name, value in zip(names, head, strict=False):
        value = np.asarray(value)
        if value.shape != () or value.dtype.kind not in "iuf" or not np.isfinite(value) \
                or value < 0 or (name.startswith("the step") and value != int(value)):
            raise ValueError(f"{where}: {name} must be one number >= 0, got "
                             f"{value.tolist()!r}; the file is damaged")


def slots_from_keras_order(arrays, interleaved, listed, weights):
    """{slot name: [one array per weight]} from the slot arrays of a Keras file, in Keras's
    order: the `interleaved` kinds weight by weight (m0, v0, m1, v1, ...), then the `listed`
    kinds one after another (AMSGrad's v_hat). None if a shape does not fit its weight."""
    mixed = arrays[:len(interleaved) * len(weights)]
    rest = arrays[len(interleaved) * len(weights):]
    state = {name: mixed[k::len(interleaved)] for k, name in enumerate(interleaved)}
    state.update({name: rest[k * len(weights):(k + 1) * len(weights)]
                  for k, name in enumerate(listed)})
    if any(np.shape(array) != weight.shape for slot in state.values()
           for array, weight in zip(slot, weights, strict=True)):
        return None
    return state


def skipped_optimizer_reason(model, saved, expected):
    """Why a file's optimizer state did not fit, and what to do, for the warning above."""
    if saved == 0:
        return ("The file holds no optimizer state (it was saved from an uncompiled model); "
                "the optimizer keeps its own")
    if model.optimizer.slots is None and saved > expected:
        return ("This optimizer has not taken a step yet, so it has no slots (Adam's m and "
                "v, ...) to load the file's into: training starts again from step 0, as in "
                "Keras. To resume training where the file left off, save and load the whole "
                "model: model.save('model.keras'), then tinynet.models.load_model")
    if saved <= 2:
        why = ("The file holds only a step count and a learning rate: it was saved before "
               "its optimizer took a step (Keras then saves no slots), or from an optimizer "
               "without slots (SGD without momentum)")
    else:
        why = ("The file comes from a model with other trainable weights (layers frozen or "
               "unfrozen since) or another optimizer")
    return f"{why}. Predictions are unaffected; the optimizer keeps its own state"


# -- files -----------------------------------------------------------------------------------

def check_filename(path, where, suffix):
    """path as a str ending in `suffix` ('.keras', '.weights.h5')."""
    try:
        path = os.fspath(path)
    except TypeError:
        raise TypeError(f"{where}: path must be a file name (str or pathlib.Path), "
                        f"got {path!r}") from None
    if not str(path).endswith(suffix):
        verb = "writes" if where.startswith("save") else "reads"
        if suffix == ".keras":  # whole models: .keras, or Keras's legacy .h5 (legacy_h5.py)
            kinds, endings = ".keras files (and Keras's legacy .h5 files)", ".keras or .h5"
            hint = "; for the weights alone use save_weights('model.weights.h5')"
        else:
            kinds, endings = f"{suffix} files only", suffix
            hint = " (Keras's save_weights refuses other names too)"
        if where == "load_model" and str(path).endswith((".weights.h5", ".npz")):
            hint = ("; this file holds weights only: build the model in code, then "
                    "model.load_weights(path)")
        raise ValueError(f"{where}: tinynet {verb} {kinds}, so the name must end in "
                         f"{endings}, got {path!r}{hint}")
    return path


def read_file(path, where):
    if os.path.isdir(path):
        raise IsADirectoryError(f"{where}: {path} is a folder, not a file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{where}: no such file: {path}")
    with open(path, "rb") as file:
        return file.read()


def check_overwrite(path, overwrite, where):
    """Keras's overwrite=False asks before replacing a file; tinynet cannot ask, so it
    refuses."""
    if not check_bool(overwrite, f"{where}(overwrite=...)") and os.path.exists(path):
        raise FileExistsError(f"{where}: {path!r} exists and overwrite=False (Keras would ask "
                              f"whether to replace it; tinynet cannot ask): delete it, choose "
                              f"another name, or pass overwrite=True")


# The two names save_weights takes, for the error messages that suggest them.
WEIGHTS_NAMES = ("'model.weights.h5' (Keras's format, which Keras's load_weights reads) or "
                 "'model.weights.npz' (tinynet's own archive, for a model with a layer of "
                 "your own)")


def weights_format(path, where):
    """'.weights.h5', '.keras' or '.npz': the format a weights file's name says; a clear error
    for a folder or for any other name."""
    if os.path.isdir(path):
        raise IsADirectoryError(f"{where}: {path} is a folder; give a file name such as "
                                f"{os.path.join(path, 'model.weights.h5')} or "
                                f"{os.path.join(path, 'model.weights.npz')}")
    for ending in (".weights.h5", ".keras", ".npz"):
        if path.endswith(ending):
            return ending
    if path.endswith((".h5", ".hdf5")):
        raise ValueError(f"{where}: {path!r} names Keras's legacy .h5 format, in which "
                         f"tinynet saves and loads whole models only (model.save('model.h5'), "
                         f"load_model('model.h5')); for the weights alone, name the file "
                         f"{WEIGHTS_NAMES}")
    if where == "save_weights":
        raise ValueError(f"{where}: the file name must end in .weights.h5 or .npz, got "
                         f"{path!r}; e.g. {WEIGHTS_NAMES}")
    raise ValueError(f"{where}: {path} is not a tinynet weights file: load_weights reads "
                     f".weights.h5 files (Keras's weights), .keras files (the weights of a "
                     f"whole saved model, as in Keras 3) and .npz files (tinynet's own "
                     f"save_weights archive)")


def check_save_weights(path, overwrite, max_shard_size):
    """The format to write for save_weights(path, overwrite, max_shard_size), after Keras's
    checks: '.weights.h5' (Keras's) or '.npz' (tinynet's)."""
    path = check_path(path, "save_weights")
    if max_shard_size is not None:
        raise ValueError(f"save_weights(max_shard_size={max_shard_size!r}): tinynet writes "
                         f"one file, never shards (Keras splits very large models into "
                         f"several); leave max_shard_size out")
    if path.endswith(".keras"):
        raise ValueError(f"save_weights: {path!r} names a whole-model file: save the whole "
                         f"model with model.save({path!r}), or the weights alone as "
                         f"{WEIGHTS_NAMES} (Keras's save_weights refuses .keras names too)")
    kind = weights_format(path, "save_weights")
    check_overwrite(path, overwrite, "save_weights")
    return kind


def check_load_weights(path, skip_mismatch):
    """The format load_weights(path, skip_mismatch) reads: '.weights.h5', '.keras' or
    '.npz'."""
    path = check_path(path, "load_weights")
    kind = weights_format(path, "load_weights")
    if check_bool(skip_mismatch, "load_weights(skip_mismatch=...)") and kind == ".npz":
        raise ValueError(f"load_weights({path!r}, skip_mismatch=True): a tinynet .npz "
                         f"archive loads all its weights or none; skip_mismatch works for "
                         f"Keras's formats, .weights.h5 and .keras")
    return kind


def save_weights_h5(model, path):
    """Save the weights (and optimizer variables) in Keras 3's .weights.h5 layout."""
    path = check_filename(path, "save_weights", ".weights.h5")
    if not model.built:
        raise ValueError("save_weights: the model is not built yet, it has no weights")
    write_atomically(path, h5_bytes(model, f"save_weights({path!r})"), "save_weights")


def load_weights_h5(model, path, skip_mismatch=False):
    """Load a .weights.h5 file written by Keras 3 or save_weights_h5 into a built model with
    the same layers; everything is checked before anything is written. A Keras file of a
    model with a model inside (layers/sequential/layers/...) loads into a model built the
    same way in code, Sequential([Input(...), inner_model, ...]), which remembers which of
    its layers were inside (model.taken_apart)."""
    path = check_filename(path, "load_weights", ".weights.h5")
    if not model.built:
        raise ValueError("load_weights: build the model first (give the first layer an "
                         "input_shape), so there are weights to load into")
    load_h5_bytes(model, read_file(path, "load_weights"), f"load_weights: {path}",
                  skip_mismatch)


def load_weights_keras(model, path, skip_mismatch=False):
    """Load the weights (and optimizer variables) of a .keras file into a built model with
    the same layers, as Keras 3's model.load_weights('model.keras') does: the file's
    architecture and compile settings are not used, except to tell which layers were inside
    a model inside the model (see "a model inside a model"): the file's layers, taken
    apart, load into this model's in order."""
    path = check_filename(path, "load_weights", ".keras")
    if not model.built:
        raise ValueError("load_weights: build the model first (give the first layer an "
                         "input_shape), so there are weights to load into")
    where = f"load_weights: {path}"
    members = read_members(path, where, "load_weights")
    try:
        config = json.loads(members[CONFIG_FILE])
    except (json.JSONDecodeError, UnicodeDecodeError):
        config = None  # the weights may still load; a model inside would be named then
    load_h5_bytes(model, members[WEIGHTS_FILE], where, skip_mismatch, config)


def save_weights(model, filepath, overwrite=True, max_shard_size=None):
    """Keras's keras.saving.save_weights(model, filepath): model.save_weights(filepath)."""
    check_model(model, "save_weights")
    return model.save_weights(filepath, overwrite=overwrite, max_shard_size=max_shard_size)


def load_weights(model, filepath, skip_mismatch=False):
    """Keras's keras.saving.load_weights(model, filepath): model.load_weights(filepath)."""
    check_model(model, "load_weights")
    return model.load_weights(filepath, skip_mismatch=skip_mismatch)


def check_model(model, where):
    from tinynet.models import Sequential  # here: models.py imports this module

    if not isinstance(model, Sequential):
        raise TypeError(f"saving.{where}(model, filepath): the first argument is the model, "
                        f"got {type(model).__name__}")


def warn_if_it_loads_uncompiled(model, where):
    """A compiled model whose file will load uncompiled (with an optimizer or a loss of your
    own, which the file cannot describe) is worth a warning now, not only when loading."""
    if not getattr(model, "compiled", False):
        return
    if optimizer_to_keras(model.optimizer) is None:
        what = (f"its optimizer {type(model.optimizer).__name__} is not one of Keras's "
                f"({', '.join(OPTIMIZER_KEYS)}), so no compile settings are saved")
    elif type(model.loss) not in KERAS_LOSS_NAME:
        name = type(model.loss).__name__
        what = (f"its loss {name} is a loss of your own, which the file records by its class "
                f"name and get_config(), unless it is given as custom_objects={{{name!r}: "
                f"{name}}} when loading")
    else:
        return
    if where == "to_json":
        warn_user(f"to_json: model_from_json will return the model uncompiled: {what}. Call "
                  f"model.compile(...) on it again")
    else:
        warn_user(f"{where}: the model will load uncompiled: {what}. After load_model, call "
                  f"model.compile(...) again (the weights are all saved)")


def save_model(model, path, overwrite=True, zipped=None, **keras_only):
    """Save a whole model as a Keras 3 .keras file: config, weights and compile settings.
    A model with a model taken apart inside it (Sequential([base_model, ...]), or loaded
    from a Keras file that had one) is saved as the flat model it is, its layers one after
    another: Keras loads it as a flat Sequential, with the same predictions and training.
    overwrite=False refuses to replace a file that exists (Keras asks; tinynet raises
    FileExistsError). zipped: Keras's; tinynet writes the zipped file only (zipped=None or
    True). A name ending in .h5 or .hdf5 writes Keras's legacy HDF5 format instead (see
    tinynet.legacy_h5), which also takes Keras's include_optimizer; for a .keras file
    Keras's other arguments (include_optimizer, save_format) are refused."""
    from tinynet import legacy_h5  # here: it imports this module

    if legacy_h5.is_legacy_name(path):
        return legacy_h5.save_model(model, path, overwrite, zipped, **keras_only)
    if keras_only:
        raise TypeError(f"save({sorted(keras_only)[0]}=...): tinynet's save takes the file "
                        f"name, overwrite and zipped; Keras's other arguments "
                        f"(include_optimizer, save_format) are for its legacy .h5 format: "
                        f"model.save('model.h5', include_optimizer=False)")
    if zipped is not None and not check_bool(zipped, "save(zipped=...)"):
        raise ValueError("save(zipped=False): tinynet writes the zipped .keras file only "
                         "(Keras writes an unzipped folder instead, e.g. for the Hugging Face "
                         "Hub); leave zipped out")
    path = check_filename(path, "save", ".keras")
    check_overwrite(path, overwrite, "save")
    if not model.built:
        raise ValueError("save: the model is not built yet; give the first layer an "
                         "input_shape or call the model on data first")
    warn_if_it_loads_uncompiled(model, "save")
    metadata = {"keras_version": KERAS_FORMAT_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
                "saved_by": f"tinynet {tinynet_version()}"}
    members = {METADATA_FILE: json.dumps(metadata).encode(),
               CONFIG_FILE: json.dumps(model_to_dict(model)).encode(),
               WEIGHTS_FILE: h5_bytes(model, f"save({path!r})")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:  # stored, not compressed: as Keras does
        for name, data in members.items():
            archive.writestr(name, data)
    write_atomically(path, buffer.getvalue(), "save")


def tinynet_version():
    import tinynet  # here: this module is imported while tinynet is being imported

    return tinynet.__version__


def read_members(path, where, caller="load_model"):
    """{member name: bytes} of a .keras archive, or an error saying what is wrong."""
    data = read_file(path, caller)
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise ValueError(f"{where} is not a .keras file: it is not a zip archive (it may be "
                         f"truncated, corrupt, or another format)") from None
    with archive:
        missing = [name for name in (CONFIG_FILE, WEIGHTS_FILE)
                   if name not in archive.namelist()]
        if missing:
            raise ValueError(f"{where} is not a complete .keras file: it lacks "
                             f"{', '.join(missing)} (it has {', '.join(archive.namelist())})")
        try:
            return {name: archive.read(name) for name in (CONFIG_FILE, WEIGHTS_FILE)}
        except (zipfile.BadZipFile, EOFError, OSError) as err:
            raise ValueError(f"{where} is damaged or truncated: {err}") from None


def load_model(path, custom_objects=None, compile=True, safe_mode=True):
    """A Sequential from a .keras file saved by Keras 3 or by tinynet, with its weights;
    compiled as it was saved when tinynet has that optimizer, loss and metrics (else a
    warning says why not), with the optimizer's saved state when it fits the model (see
    restore_optimizer). compile=False skips that. custom_objects={name: class or function}
    gives the layers, losses, metrics and other objects of your own that the file names, as
    in Keras (load_model(path, custom_objects={"CustomMSE": CustomMSE})); see
    check_custom_objects. safe_mode is accepted for Keras code
    and changes nothing (nothing in these files runs code).

    A Sequential inside the saved model is taken apart, as Sequential([inner_model, ...])
    does in code: its layers, with their weights and trainable flags, join the model
    (model.taken_apart names them), at any depth; the optimizer's state, which Keras keeps
    for all the trainable weights in that order, loads as for a flat model. A functional
    model inside, or an input with a size None (a variable image size), is refused with a
    ValueError naming the layer. An optimizer setting tinynet lacks (clipnorm, use_ema, ...)
    leaves the model uncompiled with a warning that says what to do; compile=False says you
    know. A name ending in .h5 or .hdf5 is read as Keras's legacy HDF5 model file (see
    tinynet.legacy_h5)."""
    from tinynet import legacy_h5  # here: it imports this module

    if legacy_h5.is_legacy_name(path):
        return legacy_h5.load_model(path, custom_objects, compile, safe_mode)
    custom_objects = check_custom_objects(custom_objects, "load_model")
    path = check_filename(path, "load_model", ".keras")
    where = f"load_model: {path}"
    members = read_members(path, where)
    try:
        config = json.loads(members[CONFIG_FILE])
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ValueError(f"{where}: config.json is not valid JSON ({err})") from None
    try:
        model = model_from_config(config, custom_objects=custom_objects)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{where}: {err}") from None
    compile_config = config.get("compile_config") if isinstance(config, dict) else None
    if compile and compile_config:
        compile_from_config(model, compile_config, where, custom_objects)
    load_h5_bytes(model, members[WEIGHTS_FILE], where, config=config)
    return model


# -- objects of your own: custom_objects ---------------------------------------------------------
#
# Keras saves a layer, loss or metric of your own in a .keras file by its class name and its
# get_config(), and load_model rebuilds it from custom_objects={name: class}. tinynet does the
# same for layers (layer_entry), losses, metrics, regularizers, initializers, constraints and
# learning-rate schedules.

RULE_SUFFIXES = ("_regularizer", "_initializer", "_constraint")


def is_users_entry(entry):
    """Whether a serialized object is one its user wrote (Keras writes module None or the
    user's module, and a registered_name), not one of Keras's own classes."""
    return not str(entry.get("module") or "").startswith("keras") or \
        bool(entry.get("registered_name"))


def check_known_rule(key, value, where):
    """A layer's regularizer, initializer or constraint that is none of tinynet's and not in
    custom_objects: say what to pass, rather than the layer's own complaint about it."""
    known = {"_regularizer": regularizers.REGULARIZERS, "_constraint": constraints.CONSTRAINTS,
             "_initializer": INITIALIZER_CONFIGS}[next(s for s in RULE_SUFFIXES
                                                        if key.endswith(s))]
    name = value.get("class_name")
    if is_users_entry(value) or name not in known:
        raise ValueError(f"{where}: {key} is {name!r}, one of your own: give it as "
                         f"custom_objects={{{name!r}: {name}}} to load_model (or "
                         f"model_from_json, from_config)")

def check_custom_objects(custom_objects, where):
    """custom_objects: None or {name: a class or function of your own}: a layer, loss,
    metric, regularizer, initializer, constraint or learning-rate schedule."""
    if custom_objects is None:
        return {}
    if not isinstance(custom_objects, dict):
        raise TypeError(f"{where}(custom_objects=...) must be a dict {{name: class}}, got "
                        f"{type(custom_objects).__name__}")
    for name, value in custom_objects.items():
        if not callable(value):
            raise TypeError(f"{where}(custom_objects=...): {name!r} must be a class or a "
                            f"function, got {value!r}")
    return custom_objects


def own_object_entry(obj):
    """How Keras 3 writes an object of your own in compile_config (checked on Keras 3.15):
    {"module": None, "class_name": "CustomMSE", "config": obj.get_config(),
    "registered_name": "CustomMSE"}."""
    name = type(obj).__name__
    return {"module": None, "class_name": name, "config": as_json_value(obj.get_config()),
            "registered_name": name}


def own_object(entry, custom_objects):
    """The loss or metric of your own that a compile_config entry names, made from
    custom_objects as Keras's load_model makes it; None when it names none of them.
        {"class_name": "CustomMSE", "config": {...}}  ->  CustomMSE.from_config(config)
        {"class_name": "function", "config": "my_metric"}  ->  my_metric itself
        {"class_name": "MeanMetricWrapper", "config": {"fn": <my_metric>, "name": ...}}
                                                 ->  MeanMetricWrapper(my_metric, name=...)
        "CustomMSE" (how older tinynet files name a loss)  ->  CustomMSE()"""
    if not custom_objects:
        return None
    if isinstance(entry, str):
        name, config = entry, {}
    elif isinstance(entry, dict) and entry.get("class_name") == "function":
        return custom_objects.get(entry.get("config"))
    elif isinstance(entry, dict) and entry.get("class_name") == "MeanMetricWrapper":
        # MeanMetricWrapper(my_function, name=...): the function is named inside its config
        config = dict(entry.get("config") or {})
        fn = config.get("fn")
        name = fn.get("config") if isinstance(fn, dict) else fn
        if not isinstance(name, str) or name not in custom_objects:
            return None
        return metrics.MeanMetricWrapper(**{**config, "fn": custom_objects[name]})
    elif isinstance(entry, dict):
        # Keras's registered names may carry a package: "my_package>CustomMSE"
        registered = str(entry.get("registered_name") or "").split(">")[-1]
        name = next((n for n in (entry.get("class_name"), registered) if n in custom_objects),
                    None)
        config = dict(entry.get("config") or {})
    else:
        return None
    found = custom_objects.get(name)
    if isinstance(found, type):
        return found.from_config(config) if hasattr(found, "from_config") else found(**config)
    return found


def own_object_hint(entry):
    """'; if it is a class of your own, ...' for a compile_config entry Keras wrote for an
    object of your own (module None, or a function), else ''."""
    if not isinstance(entry, dict):
        return ""
    config = entry.get("config")
    if entry.get("class_name") == "MeanMetricWrapper" and isinstance(config, dict):
        entry = config.get("fn")  # the function inside
        if not isinstance(entry, dict):
            return ""
    if entry.get("module") is None or entry.get("class_name") == "function":
        name = entry.get("config") if entry.get("class_name") == "function" else \
            entry.get("class_name")
        return (f"; if {name!r} is one of your own, give it as custom_objects="
                f"{{{name!r}: {name}}} to load_model or model_from_json")
    return ""


# -- Keras's registry of objects of your own, which tinynet does not have ----------------------

OWN_OBJECTS = ("tinynet has no registry of objects of your own: give your layers, losses, "
               "metrics and other classes to load_model(path, custom_objects={name: class})")
INSTEAD = {
    "register_keras_serializable": OWN_OBJECTS,
    "get_custom_objects": OWN_OBJECTS,
    "custom_object_scope": OWN_OBJECTS,
    "CustomObjectScope": OWN_OBJECTS,
    "get_registered_name": OWN_OBJECTS,
    "get_registered_object": OWN_OBJECTS,
    "serialize_keras_object": "a layer's config is layer.get_config(), a model's "
                              "model.get_config() or model.to_json(); initializers, "
                              "regularizers, metrics and schedules have serialize() in their "
                              "modules",
    "deserialize_keras_object": "a layer comes back with its class's from_config(config), a "
                                "model with Sequential.from_config(config) or "
                                "tinynet.models.model_from_json(text); initializers and "
                                "schedules have deserialize() in their modules",
    "KerasFileEditor": "tinynet has no editor for .keras files; load the model with "
                       "load_model, change it, and save it again",
}


def __getattr__(name):
    """A name of keras.saving tinynet lacks gets an error that says what to do instead."""
    raise missing_attribute("tinynet.saving", name,
                            ["load_model", "save_model", "load_weights", "save_weights"], INSTEAD)
