"""Whole models that Keras 2 (TensorFlow 2.x, tf.keras) saved with model.save('model.h5'),
loaded by tinynet's load_model (tinynet/legacy_h5.py, "Files of Keras 2").

Claims tested here: files TensorFlow 2.15.1 (Keras 2.15) saved (tests/data/keras2_*.h5, made
by make_keras2_h5_reference.py) load with the predictions of Keras 2 and of Keras 3.15.1; the
compile settings are the file's (where Keras 3 loses them or cannot read them, the test says
so); the optimizer's state of Keras 2.11-2.15 is restored, so training goes on exactly as the
saved Keras 2 model went on; an older optimizer layout starts its slots from zero with a
warning, as Keras 3 does; fit runs after loading; older spellings (a first layer's
batch_input_shape, lr and decay, rules without a module, LeakyReLU's alpha) are read; a Keras
2.2 file (its config a bare list of layers) gets a clear error naming its version.
"""

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from tinynet.models import load_model

h5py = pytest.importorskip("h5py")

DATA = Path(__file__).resolve().parent / "data"
REFERENCE = np.load(DATA / "keras2_h5_reference.npz")
NAMES = ["anchor", "conv", "uncompiled", "input", "rules"]


def quietly(call):
    """call() with the warnings it gives, as a list of their messages."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call()
    return result, [str(w.message) for w in caught]


def load(name, **kwargs):
    return quietly(lambda: load_model(DATA / f"keras2_{name}.h5", **kwargs))


def keras3(name):
    """What Keras 3.15.1 restored from the same file (see make_keras2_h5_reference.py)."""
    return json.loads(str(REFERENCE[f"k3_{name}"]))


def rewritten(tmp_path, name, change):
    """A copy of a fixture whose model_config and training_config `change(h5_file, model,
    training)` has rewritten (dicts, or None for no training_config)."""
    path = tmp_path / f"{name}.h5"
    shutil.copy(DATA / f"keras2_{name}.h5", path)
    with h5py.File(path, "r+") as h5_file:
        model = json.loads(h5_file.attrs["model_config"])
        training = h5_file.attrs.get("training_config")
        training = json.loads(training) if training is not None else None
        change(h5_file, model, training)
        h5_file.attrs["model_config"] = json.dumps(model).encode()
        if training is not None:
            h5_file.attrs["training_config"] = json.dumps(training).encode()
    return path


# -- 1. files TensorFlow 2.15 wrote -------------------------------------------------------------

def test_the_fixtures_were_written_by_keras_2():
    assert str(REFERENCE["keras2_version"]).startswith("2.15")
    assert str(REFERENCE["keras3_version"]) == "3.15.1"
    for name in NAMES:
        with h5py.File(DATA / f"keras2_{name}.h5", "r") as h5_file:
            assert h5_file.attrs["keras_version"] == "2.15.0"


@pytest.mark.parametrize("name", NAMES)
def test_a_keras2_file_predicts_as_keras_2_and_keras_3(name):
    model, messages = load(name)
    found = model.predict(REFERENCE[f"x_{name}"], verbose=0)
    np.testing.assert_allclose(found, REFERENCE[f"p_{name}"], rtol=0, atol=2e-6)
    np.testing.assert_allclose(found, REFERENCE[f"k3p_{name}"], rtol=0, atol=2e-6)
    # only the file of Keras 2.10's optimizer layout warns (see test 3)
    assert len(messages) == (1 if name == "input" else 0), messages


def test_the_compile_settings_are_the_files():
    anchor, _ = load("anchor")
    assert type(anchor.optimizer).__name__ == "Adam" == keras3("anchor")["optimizer"]
    assert anchor.optimizer.learning_rate == pytest.approx(0.001)
    assert type(anchor.loss).__name__ == "BinaryCrossentropy"
    assert [m.name for m in anchor.metrics] == ["accuracy"]  # [[MeanMetricWrapper]] in the file
    assert anchor.optimizer.iterations == int(REFERENCE["iterations_anchor"]) \
        == keras3("anchor")["iterations"]
    conv, _ = load("conv")
    assert type(conv.optimizer).__name__ == "SGD"
    assert conv.optimizer.learning_rate == pytest.approx(0.05)
    assert conv.optimizer.momentum == pytest.approx(0.9)
    # Keras 3.15.1 finds no class "Custom>SGD" and makes a default SGD: the file's settings
    # are lost there. tinynet keeps them (the next test shows Keras 2 going on with them)
    assert keras3("conv")["optimizer_config"]["learning_rate"] == pytest.approx(0.01)
    assert keras3("conv")["optimizer_config"]["momentum"] == 0.0
    assert type(conv.loss).__name__ == "SparseCategoricalCrossentropy"
    assert [m.name for m in conv.metrics] == ["accuracy"]
    assert conv.layers[3].rate == pytest.approx(0.3)
    uncompiled, messages = load("uncompiled")
    assert not getattr(uncompiled, "compiled", False) and messages == []
    assert not keras3("uncompiled")["compiled"]


def test_what_keras_3_cannot_compile_tinynet_does():
    """Keras 3.15.1 refuses the loss "mse" and a Keras 2 loss object ({"fn", "reduction":
    "auto"}) of a legacy file (it loads these two only with compile=False); tinynet reads
    them."""
    assert "keras.metrics.mse" in keras3("input")["error"]
    assert "unexpected keyword argument 'fn'" in keras3("rules")["error"]
    explicit, _ = load("input")
    assert type(explicit.optimizer).__name__ == "RMSprop"
    assert explicit.optimizer.learning_rate == pytest.approx(0.01)
    assert explicit.optimizer.rho == pytest.approx(0.9)
    assert type(explicit.loss).__name__ == "MeanSquaredError"
    assert [m.name for m in explicit.metrics] == ["mae", "mean_squared_error"]
    assert [type(layer).__name__ for layer in explicit.layers] == [
        "Dense", "LayerNormalization", "Dense"]
    rules, _ = load("rules")
    assert type(rules.loss).__name__ == "MeanSquaredError"
    assert rules.loss.reduction == "sum_over_batch_size"  # Keras 2's "auto"
    assert rules.optimizer.learning_rate == pytest.approx(0.01)
    first, last = rules.layers
    assert first.kernel_regularizer.get_config() == {"l2": pytest.approx(0.01)}
    assert first.bias_regularizer.get_config() == {"l1": pytest.approx(0.001)}
    assert first.kernel_constraint.get_config() == {"max_value": 2.0, "axis": 0}
    assert type(last.kernel_constraint).__name__ == "NonNeg"
    assert type(last.kernel_initializer).__name__ == "HeNormal"


# -- 2. training goes on ------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["anchor", "conv", "rules"])
def test_a_keras2_file_trains_on_as_the_saved_keras2_model(name):
    """The saved Keras 2 model took three more steps after model.save (the conv model with
    its Dropout's rate set to 0, in both); tinynet's loaded model gives the same losses and
    weights: Adam's m and v and SGD's momentum went on from the file's, the regularizers
    and constraints are applied."""
    model, _ = load(name)
    for layer in model.layers:
        if type(layer).__name__ == "Dropout":
            layer.rate = 0.0
    xs, ys = REFERENCE[f"xc_{name}"], REFERENCE[f"yc_{name}"]
    found = [np.ravel(model.train_on_batch(xs[i:i + 8], ys[i:i + 8]))[0] for i in (0, 8, 0)]
    np.testing.assert_allclose(found, REFERENCE[f"loss_{name}"], rtol=1e-5, atol=1e-6)
    for i, array in enumerate(model.get_weights()):
        np.testing.assert_allclose(array, REFERENCE[f"w_{name}_{i}"], rtol=0, atol=5e-5)


def test_the_restored_slots_are_the_files():
    model, _ = load("anchor")
    state = model.optimizer_state()
    with h5py.File(DATA / "keras2_anchor.h5", "r") as h5_file:
        group = h5_file["optimizer_weights"]
        np.testing.assert_array_equal(state["m"][0], group["Adam/m/dense/kernel:0"][()])
        np.testing.assert_array_equal(state["v"][-1], group["Adam/v/dense_2/bias:0"][()])


@pytest.mark.parametrize("name", ["anchor", "conv", "input", "rules"])
def test_fit_runs_after_loading(name):
    model, _ = load(name)
    x, y = REFERENCE[f"xc_{name}"], REFERENCE[f"yc_{name}"]
    history = model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


# -- 3. Keras 2.10 and older ----------------------------------------------------------------------

def test_an_older_optimizer_layout_starts_again_from_zero_with_a_warning():
    """tf.keras.optimizers.legacy.RMSprop (Keras 2.10 and older): "RMSprop/iter:0",
    "RMSprop/dense_6/kernel/rms:0", ...; Keras 3 takes the step count only, so does tinynet."""
    model, messages = load("input")
    assert len(messages) == 1 and "Keras 2.10 or older" in messages[0]
    assert "start again from zero" in messages[0]
    assert model.optimizer.iterations == int(REFERENCE["iterations_input"])
    assert all(not np.any(array) for arrays in model.optimizer_state().values()
               for array in arrays)


def keras_224_style(h5_file, model, training):
    """What standalone Keras 2.2.4 wrote: no InputLayer (the first layer's batch_input_shape
    gives the input), initializers without a module, an optimizer with lr and decay, and its
    variables as "Adam/iterations:0" and "training/Adam/Variable:0", ..."""
    layers = model["config"]["layers"][1:]
    for layer in layers:
        layer["config"]["kernel_initializer"].pop("module")
    layers.insert(1, {"class_name": "LeakyReLU",
                      "config": {"name": "leaky_re_lu", "trainable": True, "alpha": 0.2}})
    model["config"]["layers"] = layers
    h5_file.attrs["keras_version"] = "2.2.4"
    h5_file.attrs["training_config"] = json.dumps({
        "optimizer_config": {"class_name": "Adam", "config": {
            "lr": 0.002, "beta_1": 0.9, "beta_2": 0.999, "decay": 0.01, "epsilon": 1e-7,
            "amsgrad": False}},
        "loss": "categorical_crossentropy", "metrics": ["accuracy"],
        "sample_weight_mode": None, "loss_weights": None}).encode()
    group = h5_file.create_group("optimizer_weights")
    names = ["Adam/iterations:0"] + [f"training/Adam/Variable_{i}:0" for i in range(8)]
    group.attrs["weight_names"] = [name.encode() for name in names]
    group.create_dataset(names[0], data=np.array(40, dtype=np.int64))
    for name, shape in zip(names[1:], [(5, 8), (8,), (8, 3), (3,)] * 2, strict=True):
        group.create_dataset(name, data=np.full(shape, 0.5, dtype=np.float32))


def test_a_keras_224_style_file_loads(tmp_path):
    model, messages = quietly(lambda: load_model(rewritten(tmp_path, "uncompiled",
                                                           keras_224_style)))
    assert model.input_shape == (None, 5)
    assert type(model.layers[1]).__name__ == "LeakyReLU"
    assert model.layers[1].negative_slope == pytest.approx(0.2)
    x = REFERENCE["x_uncompiled"]
    dense = model.layers[0].get_weights()
    hidden = np.maximum(x @ dense[0] + dense[1], 0)  # relu, then LeakyReLU changes nothing
    logits = hidden @ model.layers[2].get_weights()[0] + model.layers[2].get_weights()[1]
    expected = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=0, atol=1e-6)
    assert model.optimizer.learning_rate == pytest.approx(0.002)  # from "lr"
    assert model.optimizer.iterations == 40
    assert any("decay=0.01" in message for message in messages)
    assert any("Keras 2.10 or older" in message for message in messages)
    model.fit(x, np.eye(3)[[0, 1, 2, 0, 1, 2]], epochs=1, verbose=0)


def test_rules_without_a_module_are_kerass_own(tmp_path):
    """Keras 2.4-2.12 wrote {"class_name": "L2", "config": ...} without "module"."""
    def strip_modules(h5_file, model, training):
        for layer in model["config"]["layers"]:
            for value in layer["config"].values():
                if isinstance(value, dict):
                    value.pop("module", None)

    model, messages = quietly(lambda: load_model(rewritten(tmp_path, "rules", strip_modules)))
    assert messages == []
    assert model.layers[0].kernel_regularizer.get_config() == {"l2": pytest.approx(0.01)}
    np.testing.assert_allclose(model.predict(REFERENCE["x_rules"], verbose=0),
                               REFERENCE["p_rules"], rtol=0, atol=2e-6)


def test_a_keras_22_file_gets_a_clear_error(tmp_path):
    """Keras 2.2 and older wrote the Sequential's config as a bare list of layers, which
    Keras 3 cannot read either."""
    path = tmp_path / "old.h5"
    layer = {"class_name": "Dense", "config": {"name": "dense_1", "batch_input_shape": [None, 6],
                                              "units": 3, "activation": "softmax"}}
    with h5py.File(path, "w") as h5_file:
        h5_file.attrs["keras_version"] = b"2.2.2"
        h5_file.attrs["backend"] = b"tensorflow"
        h5_file.attrs["model_config"] = json.dumps(
            {"class_name": "Sequential", "config": [layer]}).encode()
        h5_file.create_group("model_weights").attrs["layer_names"] = [b"dense_1"]
    with pytest.raises(ValueError, match=r"Keras 2\.2\.2.*bare list of layers.*Keras 2\.2 and "
                                         r"older"):
        load_model(path)


def test_a_loaded_keras2_model_saves_as_keras_3_writes(tmp_path):
    """Loaded from a Keras 2 file, saved again: a Keras 3 layout, which loads with the same
    predictions and step count."""
    model, _ = load("anchor")
    path = tmp_path / "again.h5"
    quietly(lambda: model.save(path))
    with h5py.File(path, "r") as h5_file:
        assert h5_file.attrs["keras_version"].startswith("3.")
    again, messages = quietly(lambda: load_model(path))
    np.testing.assert_array_equal(again.predict(REFERENCE["x_anchor"], verbose=0),
                                  model.predict(REFERENCE["x_anchor"], verbose=0))
    assert again.optimizer.iterations == model.optimizer.iterations
