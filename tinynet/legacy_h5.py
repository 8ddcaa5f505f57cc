"""Whole models in Keras's legacy HDF5 format: model.save('model.h5') and
load_model('model.h5'), as Keras 2 tutorials write them and Keras 3 still reads and writes
them (with a warning that the format is legacy).

Which files load_model reads:
  - Keras 3's (checked against the files Keras 3.15.1 writes,
    tests/data/make_keras_legacy_h5_reference.py, and its reader,
    keras/src/legacy/saving/legacy_h5_format.py);
  - Keras 2's: tf.keras in TensorFlow 2.x (checked against the files TensorFlow 2.15.1
    writes, tests/data/make_keras2_h5_reference.py, and a Keras 2.11 file of an MNIST
    convnet), with the spellings of older Keras 2 files that Keras 3.15.1's reader converts
    (see "Files of Keras 2" below; checked on files the tests build in those layouts, not on
    files older Keras wrote). Their predictions are Keras 3's; their compile settings are the
    file's, and so is the optimizer state of Keras 2.11-2.15, so training goes on as it would
    have in Keras 2.
  - Not Keras 2.2's and older, whose model config is a bare list of layers: Keras 3 does not
    read them either, and the error says how to convert them.

tinynet writes the layout of Keras 3. A .h5 model file is one HDF5 file, which h5py opens
like nested folders of arrays (groups and datasets), each of which can carry small named
values (attributes). Its layout:

    /                          the file itself; its attributes:
        keras_version          "3.15.1": the Keras release that wrote it (tinynet writes the
                               release it was checked against)
        backend                "torch", "tensorflow", ...: the backend that wrote it
                               ("tinynet" when tinynet wrote it; Keras does not read it)
        model_config           JSON text: {"class_name": "Sequential", "config": {...}},
                               the model's config with its layers, an InputLayer first. Each
                               layer is {"class_name": "Dense", "config": {...}}: the same
                               config as in a .keras file (see tinynet/saving.py), without
                               the "module", "registered_name" and "build_config" keys
        training_config        JSON text, only for a compiled model: the compile settings
                               {"loss", "metrics", "weighted_metrics", "loss_weights", ...,
                               "optimizer_config": {"class_name": "Adam", "config": {...}}}.
                               A loss or metric object is {"class_name", "config"}, a metric
                               function just its name ("binary_accuracy")
    /model_weights             the weights; attributes layer_names (the name of every layer,
                               in model order, those without weights too), backend and
                               keras_version
        /dense                 one group per layer, named after the LAYER's name (not its
                               class, unlike .keras files); its attribute weight_names lists
                               the layer's weights, trainable ones first, by their paths:
                                   ["sequential/dense/kernel", "sequential/dense/bias"]
            /sequential/dense/kernel   each weight is the dataset at that path, inside the
            /sequential/dense/bias     layer's group
        /activation            a layer without weights: weight_names is empty
        /top_level_model_weights   weights of the model itself (none in a Sequential)
    /optimizer_weights         only for a compiled model; attribute weight_names:
                                   ["adam/iteration", "adam/learning_rate",
                                    "adam/sequential_dense_kernel_momentum",
                                    "adam/sequential_dense_kernel_velocity", ...]
                               the optimizer's variables in the order of a .keras file (step
                               count, learning rate unless it is a schedule, then the slots:
                               Adam's m and v weight by weight, ...), each a dataset at that
                               path. An optimizer that has not taken a step has only the
                               first two.

Names inside the file are only labels: Keras (and tinynet) load weights by ORDER. The layers
that have weights are matched in model order with the file's layers that have weights, and
each layer's weights in the order of its weight_names. So a model built with the same layers
in the same order loads the file whatever its layers are called.

What Keras 3.15.1 restores from such a file, and what tinynet does:
  - the layers and their weights, and (compile=True) the loss, metrics and optimizer
    settings: both.
  - the optimizer's state: Keras builds the loaded optimizer without the model's weights,
    so it takes only the step count and the learning rate from the file; its m and v (and
    other slots) start again from zero. And after that, Keras's fit on the loaded model
    fails with "Unknown variable: ... This optimizer can only be called for the variables it
    was originally built with" (checked with Keras 3.15.1 on the torch backend): to go on
    training in Keras, compile the loaded model again. tinynet restores the whole state when
    it fits the model (the same number of variables), so training goes on exactly where it
    stopped, as after a .keras file; else it takes the step count and learning rate only, as
    Keras does, with a warning.
  - a file of Keras 2: see "Files of Keras 2" below (Keras 3.15.1 loses or refuses some of
    its compile settings; tinynet keeps them, and Keras 2.11-2.15's optimizer state too).
  - a model inside the model (Sequential([base_model, ...])): Keras keeps its weights in
    one group, all its trainable weights first, then the others. tinynet reads such a file
    (taking the inner model apart) and writes a flat model.

h5py is an optional dependency: pip install "tinynet[keras]".
"""

import io
import json
import os

import numpy as np

from tinynet import saving
from tinynet.files import check_path, write_atomically
from tinynet.validation import check_bool, warn_user

ENDINGS = (".h5", ".hdf5")

# HDF5 keeps attributes in the object header, which holds at most this many bytes; a longer
# list (the names of a model with thousands of layers) is split over name0, name1, ...
HEADER_LIMIT = 64512

# What Keras calls tinynet's optimizer slots in the variables' paths (keras/src/optimizers/)
KERAS_SLOT_NAMES = {
    "Adam": {"m": "momentum", "v": "velocity", "v_hat": "velocity_hat"},
    "AdamW": {"m": "momentum", "v": "velocity", "v_hat": "velocity_hat"},
    "SGD": {"velocity": "momentum"},
    "RMSprop": {"v": "velocity", "velocity": "momentum", "mg": "average_gradient"},
    "Adagrad": {"accumulator": "accumulator"},
}

LEGACY_WARNING = ("{where}: {path!r} is written in Keras's legacy HDF5 format (.h5), which "
                  "Keras 3 still reads but calls legacy. Prefer the .keras format, e.g. "
                  "model.save('my_model.keras'), which also keeps the optimizer's state for "
                  "Keras")


def is_legacy_name(path):
    """True for a file name ending in .h5 or .hdf5 that is not a .weights.h5 file."""
    try:
        path = check_path(path, "")
    except TypeError:
        return False
    return path.endswith(ENDINGS) and not path.endswith(".weights.h5")


# -- writing ----------------------------------------------------------------------------------

def legacy_entry(entry):
    """A .keras config entry {"module", "class_name", "config", "registered_name",
    "build_config"} as the legacy format writes it: {"class_name", "config"}."""
    return {"class_name": entry["class_name"], "config": entry["config"]}


def model_config(model):
    """The model_config attribute: the Sequential's config, its layers in legacy form."""
    config = saving.model_get_config(model)
    config["layers"] = [legacy_entry(entry) for entry in config["layers"]]
    return {"class_name": "Sequential", "config": config}


def legacy_compile_entry(entry):
    """A loss or metric of a .keras compile_config as the legacy format writes it: a name
    stays a name, a function becomes its name, an object {"class_name", "config"} (an object
    of your own under its registered name, as Keras writes it)."""
    if not isinstance(entry, dict):
        return entry
    if entry.get("class_name") == "function":
        return entry.get("config")
    name = entry.get("registered_name") if entry.get("module") is None else None
    return {"class_name": name or entry["class_name"], "config": entry.get("config")}


def training_config(model):
    """The training_config attribute of a compiled model (None when there is none to write:
    not compiled, or an optimizer Keras does not have)."""
    compile_config = saving.get_compile_config(model)
    if compile_config is None:
        return None
    optimizer = compile_config.pop("optimizer")
    config = dict(compile_config)
    config["loss"] = legacy_compile_entry(config["loss"])
    for key in ("metrics", "weighted_metrics"):
        if config[key] is not None:
            config[key] = [legacy_compile_entry(entry) for entry in config[key]]
    config["optimizer_config"] = {"class_name": optimizer["class_name"],
                                  "config": optimizer["config"]}
    return config


def legacy_keys(model, layers):
    """(layer, weight key) of the given layers in the legacy order: every trainable weight
    (layer by layer), then every other one (moving statistics, frozen layers' weights)."""
    pairs = [(layer, key) for layer in layers for key in layer.weight_keys()]
    trainable = [(layer, key) for layer, key in pairs
                 if key in layer.params and model.trains(layer)]
    return trainable + [pair for pair in pairs if pair not in trainable]


def weight_path(model, layer, key):
    """Keras's path of a weight: 'sequential/dense/kernel'."""
    return f"{model.name}/{layer.name}/{key}"


def write_names(group, name, names):
    """Set a list-of-names attribute as Keras does: bytes, split into name0, name1, ...
    when the list is larger than an HDF5 object header can hold."""
    names = [text.encode("utf8") for text in names]
    too_long = [text for text in names if len(text) > HEADER_LIMIT]
    if too_long:
        raise ValueError(f"a name longer than {HEADER_LIMIT} bytes cannot be stored in an "
                         f"HDF5 attribute: {too_long[0][:80]!r}...")
    array = np.asarray(names)
    chunks = 1
    while any(part.nbytes > HEADER_LIMIT for part in np.array_split(array, chunks)):
        chunks += 1
    if chunks == 1:
        group.attrs[name] = names
    else:
        for i, part in enumerate(np.array_split(array, chunks)):
            group.attrs[f"{name}{i}"] = part


def write_arrays(group, names, arrays):
    write_names(group, "weight_names", names)
    for name, array in zip(names, arrays, strict=True):
        group.create_dataset(name, data=np.asarray(array))


def optimizer_names(model):
    """The paths Keras gives the optimizer's variables, in saving.optimizer_variables'
    order: 'adam/iteration', 'adam/learning_rate', 'adam/sequential_dense_kernel_momentum'."""
    optimizer = model.optimizer
    prefix = saving.snake_case(type(optimizer).__name__)
    names = [f"{prefix}/iteration"]
    if optimizer.schedule is None:
        names.append(f"{prefix}/learning_rate")
    interleaved, listed = saving.keras_slot_order(optimizer)
    slot_names = KERAS_SLOT_NAMES[type(optimizer).__name__]
    weights = [weight_path(model, layer, key).replace("/", "_")
               for layer in model.layers for key in layer.weight_keys()
               if key in layer.params and model.trains(layer)]
    names += [f"{prefix}/{weight}_{slot_names[slot]}" for weight in weights
              for slot in interleaved]
    names += [f"{prefix}/{weight}_{slot_names[slot]}" for slot in listed for weight in weights]
    return names


def optimizer_arrays(model):
    """(names, arrays) of the optimizer's variables, as Keras writes them: the step count and
    learning rate only while the optimizer has not been built (taken a step, or been loaded),
    else with its slots; None when the file gets no optimizer (not compiled, or an optimizer
    Keras lacks)."""
    if saving.get_compile_config(model) is None:
        return None
    arrays = saving.optimizer_variables(model)
    names = optimizer_names(model)
    head = saving.scalar_variable_count(model.optimizer)
    if not saving.optimizer_built(model) or len(arrays) == head:
        return names[:head], arrays[:head]
    return names, arrays


def write_model(h5_file, model, include_optimizer=True):
    """The whole model into an open h5py file, in the legacy layout (see above)."""
    version = saving.KERAS_FORMAT_VERSION
    h5_file.attrs["keras_version"] = version
    h5_file.attrs["backend"] = "tinynet"
    h5_file.attrs["model_config"] = json.dumps(model_config(model)).encode("utf8")
    config = training_config(model) if include_optimizer else None
    if config is not None:
        h5_file.attrs["training_config"] = json.dumps(saving.as_json_value(config)).encode()
    weights = h5_file.create_group("model_weights")
    write_names(weights, "layer_names", [layer.name for layer in model.layers])
    weights.attrs["backend"] = b"tinynet"
    weights.attrs["keras_version"] = version.encode("utf8")
    for layer in sorted(model.layers, key=lambda layer: layer.name):
        pairs = legacy_keys(model, [layer])
        write_arrays(weights.create_group(layer.name),
                     [weight_path(model, layer, key) for layer, key in pairs],
                     [layer.weight(key) for layer, key in pairs])
    write_arrays(weights.create_group("top_level_model_weights"), [], [])
    optimizer = optimizer_arrays(model) if config is not None else None
    if optimizer is not None:
        write_arrays(h5_file.create_group("optimizer_weights"), *optimizer)


def check_keras_arguments(keras_only, path):
    """include_optimizer (Keras's, for .h5 files) as a bool; save_format is accepted with a
    warning, as Keras 3 does; any other argument is refused, as Keras refuses it."""
    include_optimizer = check_bool(keras_only.pop("include_optimizer", True),
                                   "save(include_optimizer=...)")
    save_format = keras_only.pop("save_format", None)
    if save_format:
        warn_user(f"save(save_format={save_format!r}): Keras 3 no longer takes save_format "
                  f"and ignores it, as tinynet does: the name {path!r} says the format")
    if keras_only:
        raise TypeError(f"save({sorted(keras_only)[0]}=...): save takes the file name, "
                        f"overwrite, zipped and, for .h5 files, include_optimizer")
    return include_optimizer


def save_model(model, path, overwrite=True, zipped=None, **keras_only):
    """Save the whole model as a legacy Keras .h5 file (see the module docstring), which
    Keras 3's load_model reads. overwrite=False refuses to replace a file (Keras asks);
    include_optimizer=False leaves the compile settings and the optimizer out, as in Keras.
    A folder in the name that does not exist yet is made, as Keras does for .h5 files."""
    path = check_path(path, "save")
    include_optimizer = check_keras_arguments(keras_only, path)
    if zipped is not None and not check_bool(zipped, "save(zipped=...)"):
        raise ValueError("save(zipped=False): Keras writes an unzipped .keras folder then, "
                         "not an .h5 file; leave zipped out")
    saving.check_overwrite(path, overwrite, "save")
    if not model.built:
        raise ValueError("save: the model is not built yet; give the first layer an "
                         "input_shape or call the model on data first")
    for layer in model.layers:  # a layer of your own is refused before the format's warning
        saving.keras_class_name(layer)
    warn_user(LEGACY_WARNING.format(where="save", path=path))
    if include_optimizer:
        saving.warn_if_it_loads_uncompiled(model, "save")
    h5py = saving.import_h5py("save")
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5_file:
        write_model(h5_file, model, include_optimizer)
    folder = os.path.dirname(path)
    if folder and not os.path.exists(folder):
        os.makedirs(folder, exist_ok=True)
    write_atomically(path, buffer.getvalue(), "save", example_name="model.h5")


# -- reading ----------------------------------------------------------------------------------

def read_names(group, name):
    """A list-of-names attribute (joined again when it was split), as str."""
    if name in group.attrs:
        parts = [group.attrs[name]]
    else:
        parts, i = [], 0
        while f"{name}{i}" in group.attrs:
            parts.append(group.attrs[f"{name}{i}"])
            i += 1
    return [text.decode("utf8") if isinstance(text, bytes) else str(text)
            for part in parts for text in np.atleast_1d(part)]


def read_arrays(group, where):
    """The arrays a group's weight_names lists, in that order."""
    arrays = []
    for name in read_names(group, "weight_names"):
        if name not in group or not hasattr(group[name], "shape"):
            raise ValueError(f"{where}: the group {group.name} lists the weight {name!r}, "
                             f"which is not in the file; the file is damaged")
        arrays.append(np.asarray(group[name][()]))
    return arrays


def json_attribute(h5_file, name, where):
    """A JSON attribute of the file (model_config, training_config), or None."""
    text = h5_file.attrs.get(name)
    if text is None:
        return None
    if isinstance(text, bytes):
        text = text.decode("utf8")
    try:
        return json.loads(str(text))
    except json.JSONDecodeError as err:
        raise ValueError(f"{where}: the file's {name} is not valid JSON ({err}); the file "
                         f"is damaged") from None


def not_a_model_file(h5_file, where):
    """The error for an HDF5 file without a model config: a weights file, or another kind."""
    if "layer_names" in h5_file.attrs or "model_weights" in h5_file or "layers" in h5_file \
            or "vars" in h5_file:
        return ValueError(f"{where}: this file holds weights only, no model (it was written "
                          f"by save_weights). Build the model in code, then "
                          f"model.load_weights(...); a file of Keras 3's save_weights is "
                          f"named 'model.weights.h5'")
    return ValueError(f"{where}: this HDF5 file holds no Keras model (no model_config "
                      f"attribute): it was not written by model.save('model.h5')")


def top_level_items(model, config, where):
    """The model's layers grouped as the file's layer groups hold them: a layer, or a list of
    the layers of a model that was inside the saved model (one group in the file)."""
    return saving.nested_layers(model, config, where)


def read_weights(h5_file, model, config, where):
    """Check the file's weights against the model, then load them all (or nothing)."""
    if "model_weights" not in h5_file:
        raise ValueError(f"{where}: the file has no model_weights group; it is damaged")
    group = h5_file["model_weights"]
    saved = []
    for name in read_names(group, "layer_names"):
        if name not in group:
            raise ValueError(f"{where}: model_weights lists the layer {name!r}, which has no "
                             f"group in the file; the file is damaged")
        arrays = read_arrays(group[name], where)
        if arrays:
            saved.append((name, arrays))
    plan = []
    for item in top_level_items(model, config, where):
        layers = saving.flatten_items(item) if isinstance(item, list) else [item]
        pairs = legacy_keys(model, layers)
        if pairs:
            plan.append((layers, pairs))
    if len(saved) != len(plan):
        raise ValueError(f"{where}: the file has weights for {len(saved)} layers, the model "
                         f"built from its config has {len(plan)} layers with weights; the "
                         f"file is damaged")
    for (name, arrays), (layers, pairs) in zip(saved, plan, strict=True):
        names = ", ".join(layer.name for layer in layers)
        if len(arrays) != len(pairs):
            raise ValueError(f"{where}: the file's group {name!r} holds {len(arrays)} weights, "
                             f"layer {names} has {len(pairs)}")
        for array, (layer, key) in zip(arrays, pairs, strict=True):
            if array.shape != layer.weight(key).shape:
                raise ValueError(f"{where}: weight '{key}' of layer '{layer.name}' has shape "
                                 f"{layer.weight(key).shape} in the model but {array.shape} "
                                 f"in the file (group {name!r})")
    for (_, arrays), (_, pairs) in zip(saved, plan, strict=True):
        for layer in {layer for layer, _ in pairs}:
            values = dict(zip(pairs, arrays, strict=True))
            layer.set_weights([values[(layer, key)] for key in layer.weight_keys()])


def compile_config_of(training):
    """A .keras compile_config from a legacy training_config."""
    config = dict(training)
    config["optimizer"] = config.pop("optimizer_config", None)
    return config


def restore_optimizer(model, arrays, where):
    """The file's optimizer variables into the loaded model's optimizer: all of them when
    they fit (see saving.restore_optimizer), else the step count and learning rate only, as
    Keras 3.15 takes them, with a warning when slots were left out."""
    optimizer = model.optimizer
    if not arrays or saving.keras_slot_order(optimizer)[0] is None:
        return
    if len(arrays) == saving.optimizer_variable_count(model):
        saving.restore_optimizer(model, arrays, where, build=False)
        return
    head = saving.scalar_variable_count(optimizer)
    if len(arrays) < head:
        return  # nothing to take (Keras takes what there is; a schedule's count only)
    saving.check_step_count_and_rate(arrays[:head], where)
    if head == 2 and np.float32(optimizer.learning_rate) != np.float32(arrays[1]):
        optimizer.learning_rate = float(arrays[1])
    if optimizer.slots is None:
        optimizer.iterations = int(arrays[0])
    else:
        model.set_optimizer_state(int(arrays[0]), model.optimizer_state())
    if len(arrays) > head:
        warn_user(f"{where}: the optimizer's state in the file ({len(arrays)} variables) does "
                  f"not fit this model's optimizer ({saving.optimizer_variable_count(model)}), "
                  f"so only its step count and learning rate are loaded, as Keras 3 loads "
                  f"them from .h5 files; its slots (Adam's m and v, ...) start again from "
                  f"zero. Predictions are unaffected")


def load_model(path, custom_objects=None, compile=True, safe_mode=True):
    """A Sequential from a legacy .h5 model file written by Keras (model.save('model.h5'))
    or by tinynet, with its weights; compile=True compiles it as the file says when tinynet
    has that optimizer, loss and metrics (else a warning says why not) and restores the
    optimizer's state (see the module docstring). custom_objects: losses and metrics of your
    own, as for .keras files; safe_mode is accepted for Keras code and changes nothing."""
    custom_objects = saving.check_custom_objects(custom_objects, "load_model")
    path = check_path(path, "load_model")
    where = f"load_model: {path}"
    data = saving.read_file(path, "load_model")
    if data[:4] == b"PK\x03\x04":
        raise ValueError(f"{where}: this is a .keras file (a zip archive) named .h5: rename "
                         f"it to end in .keras and load that")
    h5py = saving.import_h5py("load_model")
    try:
        h5_file = h5py.File(io.BytesIO(data), "r")
    except OSError:
        raise ValueError(f"{where}: not an HDF5 file (corrupt, truncated or of another "
                         f"format)") from None
    with h5_file:
        try:
            return read_model(h5_file, where, custom_objects, compile)
        except (KeyError, OSError, RuntimeError) as err:  # h5py's, for a damaged file
            raise ValueError(f"{where}: the file is damaged ({err})") from None


def read_model(h5_file, where, custom_objects, compile):
    config = json_attribute(h5_file, "model_config", where)
    if config is None:
        raise not_a_model_file(h5_file, where)
    version = keras_version(h5_file)
    keras2 = not version.startswith("3.")  # Keras 2 (or older): see "Files of Keras 2"
    if keras2:
        config = keras2_model_config(config, version, where)
    try:
        model = saving.model_from_config(config, custom_objects=custom_objects)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{where}: {err}") from None
    read_weights(h5_file, model, config, where)
    training = json_attribute(h5_file, "training_config", where) if compile else None
    if isinstance(training, dict):
        if keras2:
            training = keras2_training_config(training, where)
        if saving.compile_from_config(model, compile_config_of(training), where,
                                      custom_objects) and "optimizer_weights" in h5_file:
            group = h5_file["optimizer_weights"]
            arrays = read_arrays(group, where)
            if keras2:
                arrays = keras2_optimizer_arrays(model, read_names(group, "weight_names"),
                                                 arrays, where)
            restore_optimizer(model, arrays, where)
    return model


# -- files of Keras 2 (tf.keras, TensorFlow 2.x) ------------------------------------------------
#
# Keras 2 wrote the same layout (see the top of this module) with older spellings inside, which
# Keras 3.15.1's reader (keras/src/legacy/saving/saving_utils.py) turns into its own, and so does
# tinynet, before anything else reads the file:
#
#   keras_version "2.15.0" (any 2.x, or none)      the file is read as Keras 2's
#   "config": [layer, layer, ...]                  Keras 2.2 and older: refused, as Keras 3
#                                                  refuses it (a clear error; see below)
#   {"class_name": "InputLayer", "config": {"batch_input_shape": [null, 20], ...}}
#                                                  -> "batch_shape"
#   {"class_name": "Dense", "config": {"batch_input_shape": [null, 20], ...}}
#                                                  the input shape given to the first layer:
#                                                  dropped when an InputLayer comes first (as
#                                                  Keras 2.4+ writes it), else it becomes one
#   "axis": [1]                                    BatchNormalization's, LayerNormalization's:
#                                                  one axis in a list -> 1
#   "alpha": 0.3                                   LeakyReLU's -> "negative_slope"
#   "dtype": "float32"                             kept: tinynet reads a plain dtype as well
#   initializers, regularizers, constraints        {"class_name", "config"}: Keras's own
#                                                  class even without a "module" (older
#                                                  Keras 2 wrote none)
#   "metrics": [["accuracy", {...}]]               one list per output -> one list
#       {"class_name": "MeanMetricWrapper", "config": {"name": "accuracy",
#        "fn": "binary_accuracy"}}                 read as it is (tinynet's MeanMetricWrapper)
#   "loss": {"class_name": "MeanSquaredError",
#            "config": {"reduction": "auto", "fn": "mean_squared_error", ...}}
#                                                  "fn" dropped, "auto" -> "sum_over_batch_size"
#                                                  (Keras 3.15.1 fails on both: it refuses the
#                                                  file; tinynet loads it)
#   "optimizer_config": {"class_name": "Custom>Adam", "config": {"is_legacy_optimizer": false,
#                        "jit_compile": false, "learning_rate": 0.01, ...}}
#                                                  Keras 2.11-2.15's optimizers -> "Adam" with
#                                                  the file's settings. (Keras 3.15.1 rebuilds
#                                                  them with their DEFAULT settings: it finds no
#                                                  class "Custom>SGD" and falls back on
#                                                  keras.optimizers.get("SGD"), so SGD(0.05,
#                                                  momentum=0.9) comes back as SGD(0.01). tinynet
#                                                  keeps what the file says, as Keras 2 does.)
#   "lr": 0.001, "decay": 0.0                      older optimizers' keys -> "learning_rate";
#                                                  a decay other than 0 is ignored with a
#                                                  warning, as Keras 3 ignores it
#
# The optimizer's variables come in one of three layouts (/optimizer_weights, weight_names):
#
#   ["iteration:0", "Adam/m/dense/kernel:0", "Adam/v/dense/kernel:0", ...]
#       Keras 2.11-2.15: the step count, then the slots in Keras 3's order (no learning rate).
#       Restored whole (the learning rate comes from the settings): training goes on exactly
#       as in Keras 2 (checked: tests/test_legacy_h5_keras2.py against TensorFlow 2.15's next
#       steps). Keras 3.15.1 takes only the step count and starts the slots from zero.
#   ["Adam/iter:0", "Adam/dense/kernel/m:0", ..., "Adam/dense/kernel/v:0", ...]
#   ["Adam/iterations:0", "training/Adam/Variable:0", ...]
#       Keras 2.10 and older (tf.keras.optimizers.legacy, standalone Keras 2.x): the step
#       count is taken, the slots start again from zero, with a warning, as Keras 3.15.1 does.
#
# Weights are named "dense/kernel:0" instead of "sequential/dense/kernel"; they are read by
# order, so the names do not matter.

KERAS2_ONLY_OPTIMIZER_KEYS = ("is_legacy_optimizer", "jit_compile", "decay")


def keras_version(h5_file):
    """The keras_version the file records ("2.15.0"), or "" when it records none."""
    version = h5_file.attrs.get("keras_version", "")
    return version.decode("utf8") if isinstance(version, bytes) else str(version)


def keras2_model_config(config, version, where):
    """A Keras 2 model_config in Keras 3's spelling (see above), or a clear error for the bare
    list of layers of Keras 2.2 and older."""
    inner = config.get("config") if isinstance(config, dict) else None
    if isinstance(inner, list):
        written = f"Keras {version}" if version else "an old Keras"
        raise ValueError(f"{where}: this file was written by {written}: its model config is a "
                         f"bare list of layers, as Keras 2.2 and older wrote it, which neither "
                         f"Keras 3 nor tinynet reads. Open it with TensorFlow 2.x "
                         f"(tf.keras.models.load_model) and save it again with "
                         f"model.save('model.h5'), or rebuild the model in tinynet and load "
                         f"its weights")
    if not isinstance(inner, dict) or not isinstance(inner.get("layers"), list):
        return config  # saving.model_from_config says what is wrong
    layers = [keras2_layer(entry, version, where) for entry in inner["layers"]]
    # a layer's batch_input_shape: the input shape given to the first layer, which Keras 2.4+
    # also writes as an InputLayer before it; else it becomes that InputLayer
    shapes = [entry["config"].pop("batch_input_shape", None) if is_entry(entry) else None
              for entry in layers]
    if layers and shapes[0] is not None:
        layers.insert(0, {"class_name": "InputLayer",
                          "config": {"batch_shape": shapes[0], "name": "input_layer"}})
    inner = dict(inner, layers=layers)
    return dict(config, config=inner)


def is_entry(entry):
    return isinstance(entry, dict) and isinstance(entry.get("config"), dict)


def keras2_layer(entry, version, where):
    """One layer's entry in Keras 3's spelling: an InputLayer's batch_shape, axis,
    negative_slope (see above); an inner Sequential's layers too."""
    if not is_entry(entry):
        return entry
    if entry.get("class_name") == "Sequential":
        return keras2_model_config(entry, version, where)
    config = dict(entry["config"])
    if entry.get("class_name") == "InputLayer" and "batch_input_shape" in config:
        config["batch_shape"] = config.pop("batch_input_shape")
    for key, value in config.items():
        if key.endswith(saving.RULE_SUFFIXES) and isinstance(value, dict) \
                and "module" not in value and ">" not in str(value.get("class_name")):
            # older Keras 2 (2.11 does) wrote Keras's own {"class_name": "L2", "config": ...}
            # without a module, which in a Keras 3 file marks a class of your own
            config[key] = {"module": "keras." + key.split("_")[-1] + "s", **value}
    axis = config.get("axis")
    if isinstance(axis, list) and len(axis) == 1:
        config["axis"] = int(axis[0])
    if entry.get("class_name") == "LeakyReLU" and "alpha" in config:
        config["negative_slope"] = config.pop("alpha")
    return dict(entry, config=config)



def keras2_training_config(training, where):
    """A Keras 2 training_config in Keras 3's spelling: its optimizer, loss and metrics."""
    training = dict(training)
    training["optimizer_config"] = keras2_optimizer(training.get("optimizer_config"), where)
    training["loss"] = keras2_loss(training.get("loss"))
    for key in ("metrics", "weighted_metrics"):
        if isinstance(training.get(key), list):  # one list per output; tinynet has one output
            training[key] = [metric for entry in training[key]
                             for metric in (entry if isinstance(entry, list) else [entry])]
    return training


def keras2_optimizer(optimizer, where):
    """{"class_name": "Custom>Adam", "config": {"lr": ..., "decay": ...}} -> {"class_name":
    "Adam", "config": {"learning_rate": ...}}; a decay other than 0 is warned about."""
    if not is_entry(optimizer):
        return optimizer
    class_name = str(optimizer.get("class_name", "")).split(">")[-1]
    config = dict(optimizer["config"])
    if "lr" in config:
        config.setdefault("learning_rate", config.pop("lr"))
    decay = config.get("decay")
    if isinstance(decay, (int, float)) and decay != 0:
        warn_user(f"{where}: the optimizer was saved with decay={decay!r} (Keras 2's learning "
                  f"rate decay), which Keras 3 no longer has and ignores, as tinynet does: "
                  f"the learning rate stays {config.get('learning_rate')!r}. Give a schedule "
                  f"(tinynet.optimizers.schedules.InverseTimeDecay) to decay it")
    for key in KERAS2_ONLY_OPTIMIZER_KEYS:
        config.pop(key, None)
    return {"class_name": class_name, "config": config}


def keras2_loss(loss):
    """A Keras 2 loss object's config: without "fn", and its reduction "auto" is Keras 3's
    "sum_over_batch_size" (what "auto" meant in fit)."""
    if not is_entry(loss):
        return loss
    config = {key: value for key, value in loss["config"].items() if key != "fn"}
    if config.get("reduction") == "auto":
        config["reduction"] = "sum_over_batch_size"
    return dict(loss, config=config)


def keras2_optimizer_arrays(model, names, arrays, where):
    """The optimizer's variables of a Keras 2 file in Keras 3's order (see above): Keras
    2.11-2.15's with the learning rate put in after the step count; for an older layout the
    step count only, with a warning that the slots start again from zero."""
    if not names or not arrays:
        return arrays
    optimizer = model.optimizer
    rate = [np.float32(optimizer.learning_rate)] if optimizer.schedule is None else []
    if names[0] == "iteration:0":
        return [arrays[0], *rate, *arrays[1:]]
    if len(arrays) > 1:
        warn_user(f"{where}: the optimizer's state was saved by Keras 2.10 or older "
                  f"({names[0]!r}, ...), in a layout Keras 3 does not read: only its step "
                  f"count is loaded, as Keras 3 loads it, and its slots (Adam's m and v, "
                  f"...) start again from zero. Predictions are unaffected")
    return [arrays[0], *rate]
