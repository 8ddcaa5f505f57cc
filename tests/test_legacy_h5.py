"""Whole models in Keras's legacy HDF5 format (tinynet/legacy_h5.py): model.save('model.h5')
and load_model('model.h5').

Claims tested here, through legacy_h5's own save_model and load_model (and, in the last
section, through model.save, save_model, load_model and ModelCheckpoint): files Keras 3.15.1
saved (tests/data/keras_legacy_*.h5, made by make_keras_legacy_h5_reference.py) load with
Keras's predictions and compile settings and train on as the saved Keras model did; a file
tinynet saves has the layout of Keras's own and loads in Keras 3 with tinynet's predictions,
compile settings and step count (live, when the Keras venv exists); a round trip through a
.h5 file trains on bit for bit like the original; save warns that the format is legacy; bad
files get errors that say what is wrong.
"""

import json
import os
import shutil
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from helpers import KERAS_VENV_PYTHON, raises, run_in_keras_venv

import tinynet
from tinynet import layers, legacy_h5, losses, metrics, regularizers, saving
from tinynet.callbacks import ModelCheckpoint
from tinynet.models import Sequential, load_model, save_model
from tinynet.optimizers import SGD, Adam, RMSprop
from tinynet.optimizers.schedules import ExponentialDecay

h5py = pytest.importorskip("h5py")

DATA = Path(__file__).resolve().parent / "data"
REFERENCE = np.load(DATA / "keras_legacy_h5_reference.npz")
KERAS_FILES = ["anchor", "uncompiled", "dropout_l2", "conv", "fresh", "nested"]


def save(model, path, **kwargs):
    """legacy_h5.save_model, quietly (model.save(path) with a .h5 name comes here: see the
    last section)."""
    quietly(lambda: legacy_h5.save_model(model, path, **kwargs))


def load(path, **kwargs):
    return legacy_h5.load_model(path, **kwargs)


def quietly(call):
    """call() with the warnings it gives, as a list of their messages."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught]


def anchor_model(seed=0):
    """The anchor model, trained a few steps with Adam."""
    tinynet.set_seed(seed)
    model = Sequential([
        layers.Dense(64, input_shape=(20,)), layers.BatchNormalization(),
        layers.Activation("relu"), layers.Dense(32), layers.BatchNormalization(),
        layers.ReLU(), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(32, 20)).astype("float32")
    y = (x[:, :5].sum(axis=1) > 0).astype("float32")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    return model, x, y


def conv_model(seed=0):
    """Conv2D-MaxPooling2D-Flatten-Dropout-Dense(L2), SGD with momentum, a loss object and a
    metric object, trained."""
    tinynet.set_seed(seed)
    model = Sequential([
        layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dropout(0.3),
        layers.Dense(3, activation="softmax", kernel_regularizer=regularizers.l2(0.01))])
    model.compile(optimizer=SGD(0.01, momentum=0.9),
                  loss=losses.SparseCategoricalCrossentropy(from_logits=False),
                  metrics=[metrics.SparseCategoricalAccuracy(name="acc"), "accuracy"])
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(16, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, size=16)
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    return model, x, y


def schedule_model(seed=0):
    """RMSprop (centered, momentum) on a learning-rate schedule: no learning_rate variable."""
    tinynet.set_seed(seed)
    model = Sequential([layers.Dense(5, input_shape=(3,), activation="tanh"),
                        layers.LayerNormalization(), layers.Dense(2)])
    model.compile(optimizer=RMSprop(ExponentialDecay(0.01, 10, 0.9), momentum=0.5,
                                    centered=True), loss="mse")
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(16, 3)).astype("float32")
    y = rng.normal(size=(16, 2)).astype("float32")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    return model, x, y


# -- 1. files Keras 3.15.1 wrote --------------------------------------------------------------

@pytest.mark.parametrize("name", KERAS_FILES)
def test_a_keras_file_loads_with_keras_predictions(name):
    model, messages = quietly(lambda: load(DATA / f"keras_legacy_{name}.h5"))
    assert messages == []
    np.testing.assert_allclose(model.predict(REFERENCE[f"x_{name}"], verbose=0),
                               REFERENCE[f"p_{name}"], rtol=0, atol=2e-6)
    if f"iterations_{name}" in REFERENCE:
        assert model.compiled
        assert model.optimizer.iterations == int(REFERENCE[f"iterations_{name}"])
    else:
        assert not getattr(model, "compiled", False)


def test_a_keras_file_keeps_its_compile_settings_and_layer_arguments():
    anchor = load(DATA / "keras_legacy_anchor.h5")
    assert type(anchor.optimizer).__name__ == "Adam"
    assert anchor.optimizer.learning_rate == pytest.approx(0.001)
    assert type(anchor.loss).__name__ == "BinaryCrossentropy"
    assert [m.name for m in anchor.metrics] == ["accuracy"]
    assert anchor.optimizer.slots is not None  # Adam's m and v came from the file
    dropout = load(DATA / "keras_legacy_dropout_l2.h5")
    assert dropout.layers[0].kernel_regularizer.get_config() == {"l2": 0.01}
    assert dropout.layers[1].rate == 0.5
    assert type(dropout.optimizer).__name__ == "SGD" and dropout.optimizer.momentum == 0.9
    assert [m.name for m in dropout.metrics] == ["mae"]
    conv = load(DATA / "keras_legacy_conv.h5")
    assert [type(layer).__name__ for layer in conv.layers] == [
        "Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    assert type(conv.loss).__name__ == "SparseCategoricalCrossentropy"
    assert [m.name for m in conv.metrics] == ["acc"]
    assert type(conv.optimizer).__name__ == "RMSprop"
    uncompiled = load(DATA / "keras_legacy_anchor.h5", compile=False)
    assert not getattr(uncompiled, "compiled", False)


@pytest.mark.parametrize("name", ["anchor", "conv", "nested"])
def test_a_keras_file_trains_on_as_the_saved_keras_model(name):
    """The saved Keras model trained on after model.save (Keras's own loaded model cannot:
    see tinynet/legacy_h5.py); tinynet's loaded one gives the same losses and weights."""
    model = load(DATA / f"keras_legacy_{name}.h5")
    xs, ys = REFERENCE[f"xc_{name}"], REFERENCE[f"yc_{name}"]
    found = [model.train_on_batch(xs[i:i + 8], ys[i:i + 8]) for i in (0, 8, 0)]
    found = [np.ravel(loss)[0] for loss in found]
    np.testing.assert_allclose(found, REFERENCE[f"loss_{name}"], rtol=1e-5, atol=1e-6)
    for i, array in enumerate(model.get_weights()):
        np.testing.assert_allclose(array, REFERENCE[f"w_{name}_{i}"], rtol=0, atol=1e-4)


def test_tinynet_writes_the_layout_keras_writes(tmp_path):
    """Loading Keras's file and saving it again gives the same groups, datasets, attribute
    names and attribute types, the same model_config, and the same training_config up to the
    float32 rounding of the learning rate."""
    keras_path = DATA / "keras_legacy_anchor.h5"
    save(load(keras_path), tmp_path / "again.h5")

    def layout(path):
        found = {}
        with h5py.File(path, "r") as h5_file:
            def visit(name, obj):
                kind = obj.dtype.str if hasattr(obj, "dtype") else "group"
                found[name] = (kind, getattr(obj, "shape", None), sorted(obj.attrs))
            h5_file.visititems(visit)
            attributes = {}
            for group in ("/", "model_weights", "model_weights/dense",
                          "model_weights/activation", "optimizer_weights"):
                for key in h5_file[group].attrs:
                    attributes[group, key] = h5_file[group].attrs.get_id(key).dtype.str
            configs = {key: json.loads(h5_file.attrs[key])
                       for key in ("model_config", "training_config")}
            names = {group: list(h5_file[group].attrs["weight_names"])
                     for group in ("model_weights/batch_normalization", "optimizer_weights")}
        return found, sorted(h5_file_attrs(path)), attributes, configs, names

    keras_layout, mine = layout(keras_path), layout(tmp_path / "again.h5")
    assert mine[:3] == keras_layout[:3]
    assert mine[3]["model_config"] == keras_layout[3]["model_config"]
    assert mine[4] == keras_layout[4]
    keras_training, my_training = keras_layout[3]["training_config"], mine[3]["training_config"]
    for config in (keras_training, my_training):
        rate = config["optimizer_config"]["config"].pop("learning_rate")
        assert np.float32(rate) == np.float32(0.001)
    assert my_training == keras_training


def h5_file_attrs(path):
    with h5py.File(path, "r") as h5_file:
        return list(h5_file.attrs)


# -- 2. tinynet's files, back into tinynet ----------------------------------------------------

@pytest.mark.parametrize("make", [anchor_model, conv_model, schedule_model])
def test_a_round_trip_predicts_and_trains_on_bit_for_bit(tmp_path, make):
    model, x, y = make()
    path = tmp_path / "model.h5"
    save(model, path)
    loaded, messages = quietly(lambda: load(path))
    assert messages == []
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert loaded.optimizer.iterations == model.optimizer.iterations
    if make is not conv_model:  # Dropout's masks come from tinynet's generator: reseed both
        for trained in (model, loaded):
            tinynet.set_seed(5)
            for i in (0, 8, 0):
                trained.train_on_batch(x[i:i + 8], y[i:i + 8])
        for mine, theirs in zip(loaded.get_weights(), model.get_weights(), strict=True):
            np.testing.assert_array_equal(mine, theirs)
    else:
        for trained in (model, loaded):
            tinynet.set_seed(5)
            trained.train_on_batch(x[:8], y[:8])
        for mine, theirs in zip(loaded.get_weights(), model.get_weights(), strict=True):
            np.testing.assert_array_equal(mine, theirs)


def test_an_untrained_model_writes_the_step_count_and_rate_only_as_keras_does(tmp_path):
    model = Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile(optimizer=Adam(0.01), loss="mse")
    save(model, tmp_path / "fresh.h5")
    with h5py.File(tmp_path / "fresh.h5", "r") as h5_file:
        assert [name for name in h5_file["optimizer_weights"].attrs["weight_names"]] == [
            "adam/iteration", "adam/learning_rate"]
    loaded, messages = quietly(lambda: load(tmp_path / "fresh.h5"))
    assert messages == [] and loaded.optimizer.iterations == 0
    assert loaded.optimizer.learning_rate == pytest.approx(0.01)


def test_an_optimizer_state_that_does_not_fit_loads_its_step_count_only(tmp_path):
    model, _, _ = anchor_model()
    path = tmp_path / "m.h5"
    save(model, path)
    with h5py.File(path, "r+") as h5_file:
        group = h5_file["optimizer_weights"]
        group.attrs["weight_names"] = list(group.attrs["weight_names"])[:-2]
    loaded, messages = quietly(lambda: load(path))
    assert loaded.optimizer.iterations == model.optimizer.iterations
    assert len(messages) == 1 and "only its step count and learning rate" in messages[0]
    assert not np.any(loaded.optimizer_state()["m"][0])


# -- 3. the legacy-format warning ---------------------------------------------------------------

def test_save_warns_once_that_the_format_is_legacy(tmp_path):
    model, _, _ = anchor_model()
    _, messages = quietly(lambda: legacy_h5.save_model(model, tmp_path / "m.h5"))
    legacy = [m for m in messages if "legacy" in m]
    assert len(legacy) == 1 and "model.save('my_model.keras')" in legacy[0]


# -- 4. bad input --------------------------------------------------------------------------------

def test_a_damaged_file_gets_a_clear_error(tmp_path):
    model, _, _ = anchor_model()
    path = tmp_path / "m.h5"
    save(model, path)
    data = path.read_bytes()
    (tmp_path / "cut.h5").write_bytes(data[: len(data) // 3])
    raises(ValueError, lambda: load(tmp_path / "cut.h5"), "cut.h5", "not an HDF5 file")
    (tmp_path / "text.h5").write_text("hello")
    raises(ValueError, lambda: load(tmp_path / "text.h5"), "not an HDF5 file")
    shutil.copy(DATA / "keras_mixed.keras", tmp_path / "zip.h5")
    raises(ValueError, lambda: load(tmp_path / "zip.h5"), "rename it", ".keras")
    raises(FileNotFoundError, lambda: load(tmp_path / "missing.h5"), "missing.h5")
    with h5py.File(path, "r+") as h5_file:
        h5_file.attrs["model_config"] = b"{not json"
    raises(ValueError, lambda: load(path), "model_config", "not valid JSON")
    save(model, path)
    with h5py.File(path, "r+") as h5_file:
        del h5_file["model_weights/dense/sequential/dense/kernel"]
    raises(ValueError, lambda: load(path), "kernel", "damaged")
    with h5py.File(tmp_path / "empty.h5", "w"):
        pass
    raises(ValueError, lambda: load(tmp_path / "empty.h5"), "holds no Keras model")


def test_a_weights_file_given_to_load_model_says_what_to_do(tmp_path):
    model, _, _ = anchor_model()
    model.save_weights(tmp_path / "w.weights.h5")
    shutil.copy(tmp_path / "w.weights.h5", tmp_path / "w.h5")
    raises(ValueError, lambda: load(tmp_path / "w.h5"), "weights only",
           "load_weights")
    with h5py.File(tmp_path / "keras2.h5", "w") as h5_file:  # Keras 2's save_weights layout
        h5_file.attrs["layer_names"] = [b"dense"]
    raises(ValueError, lambda: load(tmp_path / "keras2.h5"), "weights only")


def test_a_layer_tinynet_lacks_is_named(tmp_path):
    path = tmp_path / "lstm.h5"
    shutil.copy(DATA / "keras_legacy_uncompiled.h5", path)
    with h5py.File(path, "r+") as h5_file:
        config = json.loads(h5_file.attrs["model_config"])
        config["config"]["layers"][1]["class_name"] = "LSTM"
        h5_file.attrs["model_config"] = json.dumps(config).encode()
    raises(ValueError, lambda: load(path), "lstm.h5", "LSTM")
    with h5py.File(path, "r+") as h5_file:
        config["class_name"] = "Functional"
        h5_file.attrs["model_config"] = json.dumps(config).encode()
    raises(ValueError, lambda: load(path), "functional model")


def test_saving_is_atomic_and_checks_its_arguments(tmp_path, monkeypatch):
    model, _, _ = anchor_model()
    path = tmp_path / "m.h5"
    path.write_bytes(b"old")
    other = tmp_path / "x.h5"
    raises(FileExistsError, lambda: legacy_h5.save_model(model, path, overwrite=False),
           "overwrite=False")
    raises(TypeError, lambda: legacy_h5.save_model(model, other, options=1), "options")
    raises(ValueError, lambda: legacy_h5.save_model(model, other, zipped=False),
           "zipped=False")
    raises(ValueError, lambda: legacy_h5.save_model(Sequential([layers.Dense(1)]), other),
           "not built")

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        save(model, path)
    assert path.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.h5"]
    monkeypatch.undo()
    save(model, tmp_path / "new" / "folder" / "m.h5")  # made, as in Keras
    assert load(tmp_path / "new" / "folder" / "m.h5").built


def test_missing_h5py_names_the_extra(tmp_path, monkeypatch):
    model, _, _ = anchor_model()
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r'pip install "tinynet\[keras\]"'):
        save(model, tmp_path / "m.h5")
    assert not (tmp_path / "m.h5").exists()


def test_the_module_docstring_names_the_keras_version_and_the_layout():
    doc = legacy_h5.__doc__
    for words in ("3.15.1", "model_config", "training_config", "model_weights",
                  "layer_names", "weight_names", "optimizer_weights", "top_level_model_weights"):
        assert words in doc


# -- 5. live: Keras 3 opens what tinynet saved -------------------------------------------------

KERAS_CHECK = """
import json, sys, numpy as np, keras
report = {}
for model_path, x_path in zip(*[iter(sys.argv[2:])] * 2):
    model = keras.models.load_model(model_path)
    entry = {"p": model.predict(np.load(x_path), verbose=0).tolist(),
             "compiled": bool(getattr(model, "compiled", False))}
    if entry["compiled"]:
        config = model._compile_config.config
        entry.update(optimizer=type(model.optimizer).__name__,
                     optimizer_config={k: v for k, v in model.optimizer.get_config().items()
                                       if k in ("momentum", "centered", "amsgrad")},
                     iterations=int(model.optimizer.iterations.numpy()),
                     loss=getattr(model.loss, "__name__", type(model.loss).__name__),
                     metrics=[m if isinstance(m, str) else m.name
                              for m in config["metrics"] or []])
    report[model_path] = entry
try:
    keras.callbacks.ModelCheckpoint("best.hdf5")
    report["hdf5"] = "accepted"
except ValueError as err:
    report["hdf5"] = str(err)
json.dump(report, open(sys.argv[1], "w"))
"""


@pytest.mark.skipif(not KERAS_VENV_PYTHON.exists(), reason="no Keras venv at /tmp/kvenv")
def test_keras_loads_tinynet_h5_files(tmp_path):
    models = {"anchor": anchor_model(), "conv": conv_model(), "schedule": schedule_model()}
    uncompiled = Sequential([layers.Dense(3, input_shape=(4,), activation="relu"),
                             layers.BatchNormalization(), layers.Dense(1)])
    models["uncompiled"] = (uncompiled, np.ones((2, 4), "float32"), None)
    arguments = []
    for name, (model, x, _) in models.items():
        save(model, tmp_path / f"{name}.h5")
        np.save(tmp_path / f"x_{name}.npy", x)
        arguments += [tmp_path / f"{name}.h5", tmp_path / f"x_{name}.npy"]
    run_in_keras_venv(KERAS_CHECK, tmp_path / "report.json", *arguments)
    report = json.loads((tmp_path / "report.json").read_text())
    for name, (model, x, _) in models.items():
        entry = report[str(tmp_path / f"{name}.h5")]
        np.testing.assert_allclose(entry["p"], model.predict(x, verbose=0), rtol=0,
                                   atol=2e-6, err_msg=name)
        assert entry["compiled"] == (name != "uncompiled")
    assert report[str(tmp_path / "anchor.h5")]["optimizer"] == "Adam"
    assert report[str(tmp_path / "anchor.h5")]["iterations"] == 4
    assert report[str(tmp_path / "anchor.h5")]["loss"] == "binary_crossentropy"
    assert report[str(tmp_path / "anchor.h5")]["metrics"] == ["accuracy"]
    conv = report[str(tmp_path / "conv.h5")]
    assert conv["optimizer"] == "SGD" and conv["optimizer_config"] == {"momentum": 0.9}
    assert conv["iterations"] == 2 and conv["metrics"] == ["acc", "accuracy"]
    schedule = report[str(tmp_path / "schedule.h5")]
    assert schedule["optimizer"] == "RMSprop" and schedule["iterations"] == 2
    assert schedule["optimizer_config"] == {"momentum": 0.5, "centered": True}
    assert "must end in `.keras`" in report["hdf5"]  # Keras 3 refuses .hdf5 checkpoints


# -- 6. model.save, save_model, load_model and ModelCheckpoint hand .h5 names to legacy_h5 ----

def test_model_save_warns_once_that_the_format_is_legacy(tmp_path):
    model, _, _ = anchor_model()
    _, messages = quietly(lambda: model.save(tmp_path / "m.h5"))
    legacy = [m for m in messages if "legacy" in m]
    assert len(legacy) == 1 and "model.save('my_model.keras')" in legacy[0]
    _, messages = quietly(lambda: model.save(tmp_path / "m.keras"))
    assert not [m for m in messages if "legacy" in m]


def test_model_checkpoint_writes_the_best_model_as_h5(tmp_path):
    model, x, y = anchor_model()
    path = tmp_path / "best_model.h5"
    checkpoint = ModelCheckpoint(str(path), monitor="val_accuracy", mode="max",
                                 save_best_only=True)
    _, messages = quietly(lambda: model.fit(x, y, validation_split=0.25, epochs=4,
                                            verbose=0, callbacks=[checkpoint]))
    assert len([m for m in messages if "legacy" in m]) == 1  # once, not at every save
    best = load_model(path)
    assert best.compiled
    every = tmp_path / "every-{epoch:02d}.h5"
    quietly(lambda: model.fit(x, y, epochs=2, verbose=0,
                              callbacks=[ModelCheckpoint(str(every), monitor="loss")]))
    assert sorted(p.name for p in tmp_path.glob("every-*")) == ["every-01.h5", "every-02.h5"]


def test_model_checkpoint_refuses_hdf5_as_keras_3_does(tmp_path):
    raises(ValueError, lambda: ModelCheckpoint(str(tmp_path / "w.best.hdf5")),
           ".keras or .h5", "refuses .hdf5 too")
    raises(ValueError, lambda: ModelCheckpoint(str(tmp_path / "w.weights.h5")),
           "save_weights_only=True")


def test_save_model_and_hdf5_names_and_include_optimizer(tmp_path):
    model, x, _ = anchor_model()
    quietly(lambda: save_model(model, tmp_path / "a.hdf5"))
    quietly(lambda: saving.save_model(model, str(tmp_path / "b.h5"),
                                      include_optimizer=False))
    loaded = load_model(tmp_path / "a.hdf5")
    assert loaded.compiled and loaded.optimizer.iterations == model.optimizer.iterations
    bare = load_model(tmp_path / "b.h5")
    assert not getattr(bare, "compiled", False)
    with h5py.File(tmp_path / "b.h5", "r") as h5_file:
        assert "training_config" not in h5_file.attrs and "optimizer_weights" not in h5_file
    np.testing.assert_array_equal(bare.predict(x, verbose=0), model.predict(x, verbose=0))


def test_load_model_refuses_a_weights_h5_file(tmp_path):
    model, _, _ = anchor_model()
    model.save_weights(tmp_path / "w.weights.h5")
    raises(ValueError, lambda: load_model(tmp_path / "w.weights.h5"), "weights only")


def test_a_model_checkpoint_h5_file_loads_in_keras(tmp_path):
    model, x, y = anchor_model(seed=3)
    quietly(lambda: model.fit(x, y, validation_split=0.25, epochs=2, verbose=0,
                              callbacks=[ModelCheckpoint(str(tmp_path / "best_model.h5"),
                                                         monitor="val_accuracy", mode="max",
                                                         save_best_only=True)]))
    if not KERAS_VENV_PYTHON.exists():
        pytest.skip("no Keras venv at /tmp/kvenv")
    np.save(tmp_path / "x.npy", x)
    run_in_keras_venv(KERAS_CHECK, tmp_path / "report.json", tmp_path / "best_model.h5",
                      tmp_path / "x.npy")
    report = json.loads((tmp_path / "report.json").read_text())
    assert report[str(tmp_path / "best_model.h5")]["compiled"]
    assert "must end in `.keras`" in report["hdf5"]  # Keras 3 refuses .hdf5 checkpoints
