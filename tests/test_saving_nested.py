"""Keras files of a model with a model inside (tinynet/saving.py, "a model inside a model"),
optimizer settings tinynet lacks, and variable image sizes.

Claims tested here, on files Keras 3.15.1 saved (tests/data/make_keras_nested_reference.py):
load_model takes an inner Sequential apart, as Sequential([inner_model, ...]) does in code,
with its weights, trainable flags and optimizer state, so that predictions and continued
training equal Keras's (one and two levels, a frozen base); load_weights reads such a file
into a model built in code; saving writes a flat model that Keras loads with the same
predictions and training; a functional model inside is refused by name; an optimizer setting
tinynet lacks leaves the model uncompiled with a warning that says what to do; a variable
image size gets one clear error naming the layer.
"""

import io
import json
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from helpers import KERAS_VENV_PYTHON, raises, run_in_keras_venv

import tinynet
from tinynet import layers, saving
from tinynet.models import Sequential, load_model, model_from_json

h5py = pytest.importorskip("h5py")

DATA = Path(__file__).resolve().parent / "data"
REFERENCE = np.load(DATA / "keras_nested_reference.npz")
NESTED = DATA / "keras_nested.keras"
FROZEN = DATA / "keras_nested_frozen.keras"
HAS_CONV = hasattr(layers, "Conv2D")
needs_conv = pytest.mark.skipif(not HAS_CONV, reason="tinynet has no convolutional layers")


def flat_weights(model):
    return np.concatenate([w.ravel() for w in model.get_weights()])


def members(path):
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def check_continued_training(model, case):
    """3 more train_on_batch steps from the loaded model give Keras's losses and weights."""
    x, y = REFERENCE[f"{case}_x"], REFERENCE[f"{case}_y"]
    np.testing.assert_allclose(model.predict(x, verbose=0), REFERENCE[f"{case}_saved_predict"],
                               rtol=0, atol=1e-6)
    losses = [float(model.train_on_batch(x, y)) for _ in range(3)]
    np.testing.assert_allclose(losses, REFERENCE[f"{case}_losses"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(flat_weights(model), REFERENCE[f"{case}_after"], rtol=0,
                               atol=2e-6)
    np.testing.assert_allclose(model.predict(x, verbose=0), REFERENCE[f"{case}_after_predict"],
                               rtol=0, atol=1e-5)


# -- load_model takes the inner model apart -----------------------------------------------------

@needs_conv
def test_a_keras_model_with_a_sequential_inside_loads_and_trains_as_in_keras():
    model = load_model(NESTED)
    assert [layer.name for layer in model.layers] == [
        "conv2d", "batch_normalization", "max_pooling2d", "global_average_pooling2d", "dense"]
    assert model.taken_apart == {"base": ["conv2d", "batch_normalization", "max_pooling2d"]}
    assert model.input_shape == (None, 10, 10, 3) and model.compiled
    assert model.optimizer.iterations == 3  # the file's Adam state, m and v in Keras's order
    raises(ValueError, lambda: model.get_layer("base"), "taken apart")
    check_continued_training(model, "nested")


def test_two_levels_and_a_frozen_base_load_with_their_flags_and_train_as_in_keras():
    model = load_model(FROZEN)
    # top = [Dense(6), b1 = [b0 = [Dense(5), BN] (frozen), Dense(4)], Dense(3)]
    assert [type(layer).__name__ for layer in model.layers] == [
        "Dense", "Dense", "BatchNormalization", "Dense", "Dense"]
    assert [layer.trainable for layer in model.layers] == [True, False, False, True, True]
    assert set(model.taken_apart) == {"b0", "b1"}
    assert len(model.taken_apart["b1"]) == 3 and len(model.taken_apart["b0"]) == 2
    check_continued_training(model, "frozen")  # SGD's momentum for the trainable weights only


def test_the_optimizer_state_is_in_keras_order_across_the_inner_model():
    # Keras's optimizer variables: the trainable weights of all layers in model order, the
    # inner models' where they stand, frozen ones left out: SGD's momentum of top's first
    # Dense, of b1's Dense, of top's last Dense (b0 is frozen)
    assert [str(path) for path in REFERENCE["frozen_optimizer_paths"]] == [
        "sgd/iteration", "sgd/learning_rate", "sgd/top_dense_3_kernel_momentum",
        "sgd/top_dense_3_bias_momentum", "sgd/b1_dense_2_kernel_momentum",
        "sgd/b1_dense_2_bias_momentum", "sgd/top_dense_4_kernel_momentum",
        "sgd/top_dense_4_bias_momentum"]
    model = load_model(FROZEN)
    trained = [model.layers[i] for i in (0, 3, 4)]
    expected = [(), ()] + [w.shape for layer in trained for w in layer.get_weights()]
    variables = saving.optimizer_variables(model)
    assert [v.shape for v in variables] == expected
    with h5py.File(io.BytesIO(members(FROZEN)["model.weights.h5"]), "r") as h5_file:
        for i, variable in enumerate(variables):
            np.testing.assert_array_equal(variable, h5_file[f"optimizer/vars/{i}"][()])
    assert np.any(variables[2] != 0)  # momentum, after 3 steps


def test_the_file_layout_is_keras_s():
    # the paths tinynet reads are the groups Keras wrote (make_keras_nested_reference.py
    # checked that save_weights writes the same groups as the .keras file's weights)
    model = load_model(FROZEN)
    with zipfile.ZipFile(FROZEN) as archive:
        config = json.loads(archive.read("config.json"))
    paths = [path for _, path in saving.layer_paths(saving.nested_layers(model, config, "t"))]
    assert paths == ["layers/dense", "layers/sequential/layers/sequential/layers/dense",
                     "layers/sequential/layers/sequential/layers/batch_normalization",
                     "layers/sequential/layers/dense", "layers/dense_1"]
    assert all(f"{path}/vars/0" in REFERENCE["frozen_h5_groups"] for path in paths)
    # from the record of the models taken apart, the same
    assert saving.layer_paths(saving.recorded_nesting(model)) == \
        saving.layer_paths(saving.nested_layers(model, config, "t"))


def test_two_models_side_by_side_are_numbered_as_keras_numbers_them():
    # Keras 3.15.1 writes [Input, s1 = [Dense], s2 = [Dense]] as layers/sequential/layers/dense
    # and layers/sequential_1/layers/dense
    s1 = Sequential([layers.Input(shape=(4,)), layers.Dense(3, name="a")], name="s1")
    s2 = Sequential([layers.Dense(3, name="b")], name="s2")
    model = Sequential([layers.Input(shape=(4,)), s1, s2])
    assert [path for _, path in saving.layer_paths(saving.recorded_nesting(model))] == [
        "layers/sequential/layers/dense", "layers/sequential_1/layers/dense"]


def test_from_config_and_model_from_json_take_the_inner_model_apart_too():
    text = members(FROZEN)["config.json"].decode()
    model = model_from_json(text)
    assert len(model.layers) == 5 and model.compiled and model.optimizer.iterations == 0
    rebuilt = Sequential.from_config(json.loads(text)["config"])
    assert [layer.trainable for layer in rebuilt.layers] == [True, False, False, True, True]
    assert not rebuilt.compiled


# -- load_weights of such a file -----------------------------------------------------------------

def frozen_in_code(nested=True):
    """The fixture's frozen model built in tinynet code, with tinynet's own layer names."""
    tinynet.set_seed(0)
    b0 = Sequential([layers.Input(shape=(6,)), layers.Dense(5, name="inner_dense"),
                     layers.BatchNormalization()], name="b0")
    b0.trainable = False
    b1 = Sequential([layers.Input(shape=(6,)), b0, layers.Dense(4, activation="relu",
                                                                name="middle")], name="b1")
    if nested:
        return Sequential([layers.Input(shape=(4,)), layers.Dense(6), b1, layers.Dense(3,
                                                                                name="out")])
    return Sequential([layers.Input(shape=(4,)), layers.Dense(6), *b1.layers,
                       layers.Dense(3, name="out")])


def test_load_weights_reads_a_nested_keras_file_into_a_model_built_in_code(tmp_path):
    x = REFERENCE["frozen_x"]
    for nested in (True, False):  # the .keras file's config says which layers were inside
        model = frozen_in_code(nested)
        model.load_weights(FROZEN)
        np.testing.assert_allclose(model.predict(x, verbose=0),
                                   REFERENCE["frozen_saved_predict"], rtol=0, atol=1e-6)
    weights = tmp_path / "keras.weights.h5"  # the same bytes Keras's save_weights writes
    weights.write_bytes(members(FROZEN)["model.weights.h5"])
    model = frozen_in_code(nested=True)  # the record of its inner models says
    model.load_weights(weights)
    np.testing.assert_allclose(model.predict(x, verbose=0), REFERENCE["frozen_saved_predict"],
                               rtol=0, atol=1e-6)
    flat = frozen_in_code(nested=False)
    raises(ValueError, lambda: flat.load_weights(weights), "a model inside it",
           "layers/sequential", "Sequential([Input(...), inner_model, ...])")


def test_load_weights_resumes_keras_s_training_in_a_model_that_has_trained():
    # as in Keras, the optimizer state loads into a built optimizer (one that has stepped)
    model = frozen_in_code()
    model.compile(optimizer=tinynet.optimizers.SGD(0.05, momentum=0.9), loss="mse")
    model.train_on_batch(REFERENCE["frozen_x"], REFERENCE["frozen_y"])
    model.load_weights(FROZEN)
    assert model.optimizer.iterations == 3
    check_continued_training(model, "frozen")


def test_a_model_with_other_layers_gets_an_error_that_says_so():
    model = Sequential([layers.Input(shape=(4,)), layers.Dense(6), layers.Dense(3)])
    raises(ValueError, lambda: model.load_weights(FROZEN), "the file's model has 5 layers",
           "this model has 2")


# -- saving a model that was taken apart --------------------------------------------------------

def test_saving_a_loaded_nested_model_writes_a_flat_model(tmp_path):
    model = load_model(FROZEN)
    model.save(tmp_path / "flat.keras")
    saved = members(tmp_path / "flat.keras")
    config = json.loads(saved["config.json"])
    assert [entry["class_name"] for entry in config["config"]["layers"]] == [
        "InputLayer", "Dense", "Dense", "BatchNormalization", "Dense", "Dense"]
    with h5py.File(io.BytesIO(saved["model.weights.h5"]), "r") as h5_file:
        assert sorted(h5_file["layers"]) == ["batch_normalization", "dense", "dense_1",
                                             "dense_2", "dense_3"]
    again = load_model(tmp_path / "flat.keras")
    assert [layer.trainable for layer in again.layers] == [True, False, False, True, True]
    check_continued_training(again, "frozen")


KERAS_CONTINUES = """
import sys, numpy as np, keras
model = keras.models.load_model(sys.argv[1])
data = np.load(sys.argv[2])
x, y = data["frozen_x"], data["frozen_y"]
prediction = model.predict(x, verbose=0)
losses = [float(model.train_on_batch(x, y)) for _ in range(3)]
weights = np.concatenate([w.ravel() for w in model.get_weights()])
np.savez(sys.argv[3], prediction=prediction, losses=losses, weights=weights)
"""


@pytest.mark.skipif(not KERAS_VENV_PYTHON.exists(), reason="no Keras venv at /tmp/kvenv")
def test_keras_loads_the_flat_file_and_trains_on_as_it_would_have(tmp_path):
    load_model(FROZEN).save(tmp_path / "flat.keras")
    done = run_in_keras_venv(KERAS_CONTINUES, tmp_path / "flat.keras",
                             DATA / "keras_nested_reference.npz", tmp_path / "out.npz")
    assert "Skipping variable loading" not in done.stderr, done.stderr[-3000:]
    out = np.load(tmp_path / "out.npz")
    np.testing.assert_allclose(out["prediction"], REFERENCE["frozen_saved_predict"], atol=1e-6)
    np.testing.assert_allclose(out["losses"], REFERENCE["frozen_losses"], rtol=1e-5)
    np.testing.assert_allclose(out["weights"], REFERENCE["frozen_after"], atol=1e-6)


# -- what tinynet cannot load ---------------------------------------------------------------------

def test_a_functional_model_inside_is_refused_by_name():
    raises(ValueError, lambda: load_model(DATA / "keras_nested_functional.keras"),
           "layer 'block' (Functional)", "functional model", "keras.Sequential")


@needs_conv
def test_a_variable_image_size_gets_one_clear_error_naming_the_layer():
    message = raises(ValueError, lambda: load_model(DATA / "keras_nested_variable.keras"),
                     "(InputLayer)", "(None, None, 3)", "fixed image sizes",
                     "Input(shape=(H, W, C))")
    assert "NoneType" not in message
    raises(TypeError, lambda: layers.Input(shape=(None, None, 3)), "fixed image sizes",
           "Input(shape=(32, 32, 3))")


@needs_conv
def test_a_variable_size_base_inside_a_fixed_size_model_loads(tmp_path):
    # keras.Sequential([Input((10, 10, 3)), base, ...]) with base made with
    # Input((None, None, 3)): Keras 3.15.1 writes the base's batch_shape, build_input_shape
    # and build_config as [null, null, null, 3]; the outer model's size builds its layers
    saved = members(NESTED)
    config = json.loads(saved["config.json"])
    base = config["config"]["layers"][1]
    base["config"]["layers"][0]["config"]["batch_shape"] = [None, None, None, 3]
    base["config"]["build_input_shape"] = base["build_config"]["input_shape"] = \
        [None, None, None, 3]
    saved["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(tmp_path / "variable_base.keras", "w") as archive:
        for name, data in saved.items():
            archive.writestr(name, data)
    model = load_model(tmp_path / "variable_base.keras")
    assert model.input_shape == (None, 10, 10, 3)
    check_continued_training(model, "nested")


@needs_conv
def test_the_weights_of_a_variable_size_model_load_into_a_fixed_size_one():
    features = Sequential([layers.Input(shape=(8, 8, 3)),
                           layers.Conv2D(4, 3, activation="relu")], name="features")
    model = Sequential([layers.Input(shape=(8, 8, 3)), features,
                        layers.GlobalAveragePooling2D(), layers.Dense(2)])
    model.load_weights(DATA / "keras_nested_variable.keras")
    np.testing.assert_allclose(model.predict(REFERENCE["variable_x"], verbose=0),
                               REFERENCE["variable_predict"], rtol=0, atol=1e-6)


# -- optimizer settings tinynet lacks -------------------------------------------------------------

KERAS_OPTIMIZERS = json.loads(str(REFERENCE["optimizer_configs"]))
ON = {"adam_use_ema": "use_ema=True", "sgd_weight_decay": "weight_decay=0.0001",
      "adam_weight_decay": "weight_decay=0.0001",
      "adam_accumulation": "gradient_accumulation_steps=2"}
# gradient clipping, which tinynet's optimizers have (tests/test_gradient_clipping.py)
CLIPPING = {"adam_clipnorm": ("clipnorm", 1.0), "adam_clipvalue": ("clipvalue", 0.5),
            "rmsprop_global_clipnorm": ("global_clipnorm", 1.0)}


@pytest.mark.parametrize("label", sorted(ON))
def test_an_optimizer_setting_tinynet_lacks_is_refused(label):
    raises(ValueError, lambda: saving.optimizer_from_keras(KERAS_OPTIMIZERS[label], "f"),
           ON[label], "tinynet's optimizers do not have")


@pytest.mark.parametrize("label", sorted(CLIPPING))
def test_keras_s_gradient_clipping_is_read(label):
    optimizer = saving.optimizer_from_keras(KERAS_OPTIMIZERS[label], "f")
    key, value = CLIPPING[label]
    assert getattr(optimizer, key) == value
    assert type(optimizer).__name__ == KERAS_OPTIMIZERS[label]["class_name"]


@pytest.mark.parametrize("label", ["sgd_off", "adam_weight_decay_0", "adamw"])
def test_settings_at_their_off_values_are_accepted(label):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        optimizer = saving.optimizer_from_keras(KERAS_OPTIMIZERS[label], "f")
    assert type(optimizer).__name__ == KERAS_OPTIMIZERS[label]["class_name"]


def test_a_file_with_clipnorm_loads_compiled_with_it():
    path = DATA / "keras_nested_clipnorm.keras"
    model = load_model(path)
    assert model.compiled and model.optimizer.clipnorm == 1.0
    assert model.predict(np.ones((2, 3)), verbose=0).shape == (2, 2)
    again = model_from_json(members(path)["config.json"].decode())
    assert again.compiled and again.optimizer.clipnorm == 1.0


def test_a_file_with_an_optimizer_setting_tinynet_lacks_loads_uncompiled_with_what_to_do():
    config = json.loads(members(DATA / "keras_nested_clipnorm.keras")["config.json"])
    config["compile_config"]["optimizer"]["config"].update(clipnorm=None, use_ema=True)
    with pytest.warns(UserWarning) as caught:
        model = model_from_json(json.dumps(config))
    message = " ".join(str(w.message) for w in caught)
    for words in ("uncompiled", "use_ema=True", "tinynet.optimizers.Adam(learning_rate=0.001)",
                  "training then differs from Keras's"):
        assert words in message, message
    assert not model.compiled


def test_load_model_with_compile_false_says_nothing_about_the_optimizer(tmp_path):
    config = json.loads(members(DATA / "keras_nested_clipnorm.keras")["config.json"])
    config["compile_config"]["optimizer"]["config"].update(clipnorm=None, use_ema=True)
    original = members(DATA / "keras_nested_clipnorm.keras")
    with zipfile.ZipFile(tmp_path / "ema.keras", "w") as archive:
        for name, data in original.items():
            archive.writestr(name, json.dumps(config) if name == "config.json" else data)
    with pytest.warns(UserWarning, match="use_ema=True.*compile=False"):
        assert not load_model(tmp_path / "ema.keras").compiled
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # compile=False: the user knows, no warning
        assert not load_model(tmp_path / "ema.keras", compile=False).compiled


def test_two_inner_models_of_one_default_name_load_keras_s_weights_file():
    # both inner models are named 'sequential' when tinynet makes them (it numbers names
    # within each model); each keeps its own record of the layers it held, so Keras's
    # layers/sequential and layers/sequential_1 groups are matched to them in order
    dense, keras_input = layers.Dense, layers.Input
    first = tinynet.Sequential([keras_input((3,)), dense(4, name="a")])
    second = tinynet.Sequential([keras_input((4,)), dense(2, name="b")])
    model = tinynet.Sequential([keras_input((3,)), first, second, dense(1, name="c")])
    assert list(model.taken_apart) == ["sequential", "sequential#2"]
    model.load_weights(DATA / "keras_nested_two.weights.h5")
    np.testing.assert_allclose(model.predict(REFERENCE["two_x"], verbose=0),
                               REFERENCE["two_predict"], rtol=1e-5, atol=1e-6)
