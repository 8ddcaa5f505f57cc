"""More of what goes between tinynet and Keras 3 as .keras files, from a trial of the round
trip: Keras's loss functions, Softmax(axis=1), Flatten's build_config, Rescaling's lists, and
damaged files that get an error naming what is wrong (not one of Python's from inside)."""

import io
import json
import warnings
import zipfile

import h5py
import numpy as np
import pytest

import tinynet as keras
from tinynet.saving import layer_get_config, load_model


def saved(tmp_path, model, name="m.keras"):
    path = tmp_path / name
    model.save(path)
    return path


def small(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2),
                              keras.layers.Softmax(axis=1)])
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(np.ones((4, 3)), np.eye(2)[[0, 1, 0, 1]], verbose=0)
    return saved(tmp_path, model)


def rewrite(path, out, change_config=None, change_weights=None):
    """A copy of the .keras file at path with its config.json or weights changed."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    if change_config:
        config = json.loads(members["config.json"])
        change_config(config)
        members["config.json"] = json.dumps(config).encode()
    if change_weights:
        buffer = io.BytesIO(members["model.weights.h5"])
        with h5py.File(buffer, "a") as h5:
            change_weights(h5)
        members["model.weights.h5"] = buffer.getvalue()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out


def test_a_loss_function_in_keras_s_compile_settings_loads_compiled(tmp_path):
    # compile(loss=keras.losses.mean_squared_error): Keras writes the function's name in a
    # wrapper; tinynet had said it had no such loss and loaded the model uncompiled
    def as_function(config):
        config["compile_config"]["loss"] = {"module": "builtins", "class_name": "function",
                                            "config": "mean_squared_error",
                                            "registered_name": "function"}
    path = rewrite(small(tmp_path), tmp_path / "f.keras", as_function)
    model = load_model(path)
    assert model.compiled and model.loss.name == "mean_squared_error"
    assert model.optimizer.iterations == 1


def test_softmax_over_the_last_axis_may_name_it(tmp_path):
    model = load_model(small(tmp_path))
    assert model.layers[1].axis == 1 and layer_get_config(model.layers[1])["axis"] == 1
    np.testing.assert_allclose(model.predict(np.ones((2, 3)), verbose=0).sum(axis=1), 1.0,
                               rtol=1e-6)
    with pytest.raises(ValueError, match=r"axis=1 is not the last axis of inputs of shape "
                                         r"\(None, 3, 4\)"):
        keras.Sequential([keras.Input((3, 4)), keras.layers.Softmax(axis=1)])
    with pytest.raises(TypeError, match=r"Softmax\(axis=...\) must be -1 or the index"):
        keras.layers.Softmax(axis=-2)


def test_flatten_and_rescaling_are_written_as_keras_writes_them(tmp_path):
    # Keras 3.15 writes a build_config for Flatten, and Rescaling's scale as a list
    model = keras.Sequential([keras.Input((2, 2, 3)), keras.layers.Rescaling((0.1, 0.2, 0.3)),
                              keras.layers.Flatten()])
    with zipfile.ZipFile(saved(tmp_path, model)) as archive:
        layers = json.loads(archive.read("config.json"))["config"]["layers"]
    assert layers[1]["config"]["scale"] == [0.1, 0.2, 0.3]
    assert layers[2]["build_config"] == {"input_shape": [None, 2, 2, 3]}


@pytest.mark.parametrize("damage, words", [
    (lambda c: c.update(config="nonsense"), r"the config has no 'layers' list"),
    (lambda c: c["config"]["layers"][1].update(config="nonsense"),
     r"the config of a Dense must be a dict"),
    (lambda c: c["config"]["layers"][0].update(config="nonsense"),
     r"the InputLayer's config must be a dict"),
    (lambda c: c["config"]["layers"][1]["config"].update(dtype={"config": "x"}),
     r"float32 or float64, got dtype 'x'"),
])
def test_a_damaged_config_gets_an_error_that_names_the_part(tmp_path, damage, words):
    path = rewrite(small(tmp_path), tmp_path / "bad.keras", damage)
    with pytest.raises(ValueError, match=words):
        load_model(path)


def test_a_damaged_optimizer_setting_or_step_count_is_named(tmp_path):
    path = rewrite(small(tmp_path), tmp_path / "opt.keras",
                   lambda c: c["compile_config"].update(optimizer=True))
    with pytest.warns(UserWarning, match=r"uncompiled.*the optimizer must be a name"):
        assert not load_model(path).compiled

    def nan_steps(h5):
        del h5["optimizer/vars/0"]
        h5["optimizer/vars/0"] = np.array(np.nan)
    path = rewrite(small(tmp_path), tmp_path / "nan.keras", change_weights=nan_steps)
    with pytest.raises(ValueError, match=r"the step count \(optimizer/vars/0\) must be one "
                                         r"number >= 0, got nan; the file is damaged"):
        load_model(path)


def test_saving_over_a_file_keeps_its_permissions_and_writes_through_a_link(tmp_path):
    import os

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = saved(tmp_path, model)
    os.chmod(path, 0o600)
    model.save(path)
    assert os.stat(path).st_mode & 0o777 == 0o600
    link = tmp_path / "link.keras"
    link.symlink_to(path)
    model.save(link)
    assert link.is_symlink() and os.path.realpath(link) == os.path.realpath(path)
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".tinynet-")]


def test_an_activity_regularizer_in_a_keras_file_is_kept(tmp_path):
    # it was dropped with a warning until tinynet had activity regularizers
    def regularize(config):
        config["config"]["layers"][1]["config"]["activity_regularizer"] = {
            "module": "keras.regularizers", "class_name": "L2", "config": {"l2": 0.01},
            "registered_name": None}
    path = rewrite(small(tmp_path), tmp_path / "act.keras", regularize)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model = load_model(path)
    assert model.layers[0].units == 2
    assert repr(model.layers[0].activity_regularizer) == "L2(l2=0.01)"


def test_an_input_with_a_fixed_batch_size_shows_it_as_keras_does(tmp_path):
    # Keras 3.15 builds the layers for (16, 6): summary and output_shape show 16, and each
    # layer's build_config holds it
    model = keras.Sequential([keras.Input((6,), batch_size=16), keras.layers.Dense(4),
                              keras.layers.Dense(1)])
    assert model.input_shape == (16, 6) and model.output_shape == (16, 1)
    lines = []
    model.summary(print_fn=lines.append)
    assert "(16, 4)" in "\n".join(lines)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((40, 6)), np.ones((40, 1)), batch_size=8, verbose=0)  # other batches
    with zipfile.ZipFile(saved(tmp_path, model)) as archive:
        config = json.loads(archive.read("config.json"))["config"]
    assert config["layers"][1]["build_config"] == {"input_shape": [16, 6]}
    assert load_model(tmp_path / "m.keras").output_shape == (16, 1)


@pytest.mark.parametrize("build, expected", [
    (lambda m: m(np.ones((3, 6))), (3, 6)),
    (lambda m: m.predict(np.ones((40, 6)), batch_size=8, verbose=0), (8, 6)),
    (lambda m: m.fit(np.ones((40, 6)), np.ones((40, 1)), batch_size=8, verbose=0), (8, 6)),
    (lambda m: m.evaluate(np.ones((5, 6)), np.ones((5, 1)), verbose=0), (5, 6)),
    (lambda m: m.build((None, 6)), (None, 6)),
])
def test_a_model_built_from_data_is_built_for_its_first_batch_as_in_keras(tmp_path, build,
                                                                          expected):
    # Keras 3.15 (checked live): model(x), predict, fit and evaluate build an unbuilt model
    # for the first batch, so summary() shows its size; the file keeps it both ways
    model = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    build(model)
    assert model.input_shape == expected and model.output_shape == (expected[0], 1)
    assert load_model(saved(tmp_path, model)).input_shape == expected
    assert model.predict(np.ones((7, 6)), verbose=0).shape == (7, 1)  # any batch size runs


@pytest.mark.parametrize("batch_size, split, expected", [(128, 0.2, 80), (32, 0.9, 9)])
def test_with_validation_split_the_first_batch_is_of_the_training_part(batch_size, split,
                                                                       expected):
    # Keras 3.15 (checked live): (80, 3) and (9, 3) for 100 samples
    model = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((100, 3)), np.ones((100, 1)), batch_size=batch_size,
              validation_split=split, verbose=0)
    assert model.input_shape == (expected, 3)


def test_a_nested_model_loads_with_the_batch_size_it_was_built_for(tmp_path):
    inner = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(2)])
    model = keras.Sequential([keras.Input((3,), batch_size=16), inner, keras.layers.Dense(1)])
    loaded = load_model(saved(tmp_path, model))
    assert loaded.input_shape == (16, 3)
    assert [layer.output_shape for layer in loaded.layers] == [(16, 4), (16, 2), (16, 1)]
