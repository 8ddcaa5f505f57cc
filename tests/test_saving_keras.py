"""Whole-model saving in Keras 3's formats (tinynet/saving.py).

Claims tested here: every layer kind survives a round trip through a .keras file; files that
Keras 3 saved (tests/data/keras_*.keras, made by make_keras_saving_reference.py) load in
tinynet with Keras's predictions; a .keras file tinynet saves loads in Keras 3 with tinynet's
predictions (live, when Keras can be run); bad files get errors that name the file and the
problem.
"""

import json
import os
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from helpers import KERAS_VENV_PYTHON, run_in_keras_venv

import tinynet
from tinynet import initializers, layers, regularizers, saving
from tinynet.models import Sequential
from tinynet.optimizers import SGD, Adagrad, Adam, RMSprop
from tinynet.optimizers.schedules import ExponentialDecay

h5py = pytest.importorskip("h5py")

DATA = Path(__file__).resolve().parent / "data"
REFERENCE = np.load(DATA / "keras_saving_reference.npz")
HAS_CONV = hasattr(layers, "Conv2D")


def dense_model(seed=0):
    """Every dense-network layer kind, with non-default arguments, trained one step."""
    tinynet.set_seed(seed)
    model = Sequential([
        layers.Dense(8, input_shape=(5,), activation="relu", kernel_initializer="he_normal"),
        layers.BatchNormalization(momentum=0.9, epsilon=1e-5, center=False),
        layers.Activation("tanh"),
        layers.Dropout(0.25),
        layers.LayerNormalization(epsilon=1e-4),
        layers.ReLU(),
        layers.Dense(6, use_bias=False, kernel_regularizer="l2"),
        layers.Sigmoid(),
        layers.Dense(4),
        layers.Tanh(),
        layers.Dense(3),
        layers.Softmax(),
    ], name="every_layer")
    model.compile(optimizer=Adam(learning_rate=0.01), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(16, 5)).astype("float32")
    model.train_on_batch(x, np.eye(3)[rng.integers(0, 3, size=16)])
    return model, x


def conv_model(seed=0):
    tinynet.set_seed(seed)
    model = Sequential([
        layers.Conv2D(4, 3, padding="same", activation="relu", input_shape=(8, 8, 3)),
        layers.GroupNormalization(groups=2),
        layers.MaxPooling2D(),
        layers.AveragePooling2D(pool_size=2, strides=1),
        layers.Conv2D(6, (2, 2)),
        layers.GlobalAveragePooling2D(),
        layers.Reshape((2, 3)),
        layers.Flatten(),
        layers.Dense(2),
    ], name="conv")
    return model, np.random.default_rng(seed).normal(size=(3, 8, 8, 3)).astype("float32")


# -- round trips inside tinynet ----------------------------------------------------------------

def test_every_dense_layer_kind_round_trips_through_a_keras_file(tmp_path):
    model, x = dense_model()
    saving.save_model(model, tmp_path / "m.keras")
    loaded = saving.load_model(tmp_path / "m.keras")
    # Sigmoid and Tanh come back as Activation('sigmoid'), Activation('tanh'): Keras has no
    # classes of their own for them
    assert [saving.keras_class_name(layer) for layer in loaded.layers] == \
        [saving.keras_class_name(layer) for layer in model.layers]
    assert saving.model_get_config(loaded) == saving.model_get_config(model)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.compiled and isinstance(loaded.optimizer, Adam)
    assert loaded.optimizer.learning_rate == pytest.approx(0.01)


def test_a_frozen_layer_stays_frozen_and_has_no_optimizer_slots(tmp_path):
    model = Sequential([layers.Dense(4, input_shape=(3,)),
                        layers.BatchNormalization(trainable=False), layers.Dense(1)])
    model.compile(optimizer=Adam(), loss="mse")
    assert saving.layer_get_config(model.layers[1])["trainable"] is False
    saving.save_model(model, tmp_path / "f.keras")
    loaded = saving.load_model(tmp_path / "f.keras")
    assert [layer.trainable for layer in loaded.layers] == [True, False, True]
    with zipfile.ZipFile(tmp_path / "f.keras") as archive, \
            archive.open("model.weights.h5") as raw, h5py.File(raw, "r") as h5:
        # iterations, learning rate, m and v of the two Dense layers' kernels and biases
        assert len(h5["optimizer/vars"]) == 2 + 2 * 4


def test_the_keras_spellings_reach_these_functions(tmp_path):
    """model.save / load_model / to_json / model_from_json / save_weights('.weights.h5')."""
    from tinynet.models import load_model, model_from_json

    model, x = dense_model()
    model.save(tmp_path / "m.keras")
    np.testing.assert_array_equal(load_model(tmp_path / "m.keras").predict(x, verbose=0),
                                  model.predict(x, verbose=0))
    assert model_from_json(model.to_json()).get_config() == model.get_config()
    model.save_weights(tmp_path / "m.weights.h5")
    other, _ = dense_model(seed=2)
    other.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.skipif(not HAS_CONV, reason="tinynet has no convolutional layers yet")
def test_every_convolutional_layer_kind_round_trips_through_a_keras_file(tmp_path):
    model, x = conv_model()
    saving.save_model(model, tmp_path / "c.keras")
    loaded = saving.load_model(tmp_path / "c.keras")
    assert saving.model_get_config(loaded) == saving.model_get_config(model)
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert not loaded.compiled


def test_layer_config_round_trips_for_every_layer():
    model, _ = dense_model()
    for layer in model.layers:
        config = saving.layer_get_config(layer)
        class_name = saving.keras_class_name(layer)
        again = saving.layer_from_config(class_name, json.loads(json.dumps(config)))
        assert saving.layer_get_config(again) == config, layer.name
        # the public spelling: Dense.from_config(layer.get_config())
        assert type(layer).from_config(layer.get_config()).get_config() == config, layer.name


def test_regularizers_and_seeded_initializers_round_trip():
    layer = layers.Dense(4, kernel_initializer=initializers.GlorotUniform(seed=3),
                         bias_initializer=initializers.Constant(0.5),
                         kernel_regularizer=regularizers.L1L2(l1=0.01, l2=0.02), name="d")
    config = saving.layer_get_config(layer)
    assert config["kernel_regularizer"] == {"module": "keras.regularizers",
                                            "class_name": "L1L2",
                                            "config": {"l1": 0.01, "l2": 0.02},
                                            "registered_name": None}
    assert config["kernel_initializer"]["config"]["seed"] == 3
    assert config["bias_initializer"]["config"] == {"value": 0.5}
    again = saving.layer_from_config("Dense", json.loads(json.dumps(config)))
    assert saving.layer_get_config(again) == config


def test_layer_config_has_the_keys_keras_writes():
    model, _ = dense_model()
    config = saving.layer_get_config(model.layers[0])
    assert list(config) == ["name", "trainable", "dtype", "units", "activation", "use_bias",
                            "kernel_initializer", "bias_initializer", "kernel_regularizer",
                            "bias_regularizer", "kernel_constraint", "bias_constraint",
                            "quantization_config"]
    assert config["activation"] == "relu"
    assert config["kernel_initializer"]["class_name"] == "HeNormal"
    assert config["dtype"]["config"] == {"name": "float32"}
    bn = saving.layer_get_config(model.layers[1])
    assert (bn["momentum"], bn["epsilon"], bn["center"], bn["axis"]) == (0.9, 1e-5, False, -1)


def test_model_config_starts_with_an_input_layer_like_keras():
    model, _ = dense_model()
    config = saving.model_get_config(model)
    assert config["layers"][0]["class_name"] == "InputLayer"
    assert config["layers"][0]["config"]["batch_shape"] == [None, 5]
    assert config["build_input_shape"] == [None, 5]
    assert config["layers"][1]["build_config"] == {"input_shape": [None, 5]}
    assert "build_config" not in config["layers"][3]  # Activation: Keras writes none


def test_json_round_trip_gives_the_same_architecture():
    model, x = dense_model()
    text = saving.model_to_json(model)
    wrapper = json.loads(text)
    assert (wrapper["module"], wrapper["class_name"]) == ("keras", "Sequential")
    assert wrapper["compile_config"]["loss"] == "categorical_crossentropy"
    again = saving.model_from_json(text)
    assert saving.model_get_config(again) == saving.model_get_config(model)
    assert again.built and again.predict(x).shape == (len(x), 3)


def test_config_of_an_unbuilt_model_has_no_input_layer():
    model = Sequential([layers.Dense(3), layers.Activation("relu")])
    config = saving.model_get_config(model)
    assert [entry["class_name"] for entry in config["layers"]] == ["Dense", "Activation"]
    assert not saving.model_from_config(config).built


def test_weights_h5_round_trip_and_keras_layout(tmp_path):
    model, x = dense_model()
    path = tmp_path / "w.weights.h5"
    saving.save_weights_h5(model, path)
    with h5py.File(path, "r") as h5:
        assert h5["layers/dense/vars"].attrs["name"] == "dense"
        assert h5["layers/dense_2/vars/0"].shape == (6, 4)  # groups are numbered per class
        assert h5["layers/batch_normalization/vars/2"].shape == (8,)  # no beta: 3 arrays
        assert "layers/activation_1" in h5  # Sigmoid is saved as Keras's Activation
        assert int(h5["optimizer/vars/0"][()]) == 1  # one step taken
    other, _ = dense_model(seed=1)
    saving.load_weights_h5(other, path)
    np.testing.assert_array_equal(other.predict(x), model.predict(x))


def fresh_optimizer_variables(tmp_path, optimizer):
    """Shapes (and arrays) of the optimizer variables saved for an untrained Dense -> BN."""
    model = Sequential([layers.Dense(2, input_shape=(3,)), layers.BatchNormalization()])
    model.compile(optimizer=optimizer, loss="mse")
    saving.save_weights_h5(model, tmp_path / "w.weights.h5")
    with h5py.File(tmp_path / "w.weights.h5", "r") as h5:
        group = h5["optimizer/vars"]
        return [group[str(i)][()] for i in range(len(group))]


def test_a_fresh_optimizer_is_saved_complete_in_keras_order(tmp_path):
    # iterations, learning rate, then per trainable weight (kernel, bias, gamma, beta):
    # SGD with momentum one velocity each
    sgd = fresh_optimizer_variables(tmp_path, SGD(0.1, momentum=0.5))
    assert [a.shape for a in sgd] == [(), (), (3, 2), (2,), (2,), (2,)]
    # Adam: m and v interleaved, weight by weight
    adam = fresh_optimizer_variables(tmp_path, Adam())
    assert [a.shape for a in adam] == [(), (), (3, 2), (3, 2), (2,), (2,), (2,), (2,), (2,), (2,)]
    # RMSprop: all v, then all momentum buffers, then all mean gradients
    rms = fresh_optimizer_variables(tmp_path, RMSprop(momentum=0.5, centered=True))
    assert [a.shape for a in rms] == [(), (), *[(3, 2), (2,), (2,), (2,)] * 3]
    # Adagrad's accumulators start at initial_accumulator_value, not at zero
    adagrad = fresh_optimizer_variables(tmp_path, Adagrad(initial_accumulator_value=0.3))
    assert all(np.all(np.isclose(a, 0.3)) for a in adagrad[2:])


def test_a_trained_optimizer_state_goes_through_the_model_hooks(tmp_path):
    """After training, the slots come from model.optimizer_state() and go back through
    model.set_optimizer_state(iterations, state), in Keras's order in the file."""
    model, _ = dense_model()  # Adam, one step taken
    weights = saving.trainable_weights(model)
    state = {"m": [np.full_like(w, 1.0) for w in weights],
             "v": [np.full_like(w, 2.0) for w in weights]}
    model.optimizer_state = lambda: state
    path = tmp_path / "w.weights.h5"
    saving.save_weights_h5(model, path)
    with h5py.File(path, "r") as h5:
        group = h5["optimizer/vars"]
        assert len(group) == 2 + 2 * len(weights)
        assert np.all(group["2"][()] == 1.0) and np.all(group["3"][()] == 2.0)  # m, v of kernel
        assert group["3"].shape == weights[0].shape and group["4"].shape == weights[1].shape
    received = {}
    other, _ = dense_model(seed=1)
    other.set_optimizer_state = lambda iterations, state: received.update(
        iterations=iterations, state=state)
    saving.load_weights_h5(other, path)
    assert received["iterations"] == 1
    assert [a.shape for a in received["state"]["v"]] == [w.shape for w in weights]
    assert all(np.all(a == 1.0) for a in received["state"]["m"])


def test_training_resumes_exactly_after_save_and_load(tmp_path):
    """The optimizer's state (Adam's step count, m and v) travels in the file: one more step
    from the loaded model is the step the original takes."""
    model, x = dense_model()
    saving.save_model(model, tmp_path / "m.keras")
    loaded = saving.load_model(tmp_path / "m.keras")
    assert loaded.optimizer.iterations == model.optimizer.iterations == 1
    y = np.eye(3)[np.arange(len(x)) % 3]
    for each in (model, loaded):
        tinynet.set_seed(5)  # the same dropout mask for both
        each.train_on_batch(x, y)
    for before, after in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(before, after)


def test_a_schedule_is_saved_as_keras_writes_it(tmp_path):
    model = Sequential([layers.Dense(2, input_shape=(3,))])
    model.compile(optimizer=Adam(ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)),
                  loss="mse")
    compile_config = json.loads(saving.model_to_json(model))["compile_config"]
    learning_rate = compile_config["optimizer"]["config"]["learning_rate"]
    assert learning_rate["class_name"] == "ExponentialDecay"
    assert learning_rate["config"]["decay_rate"] == 0.5
    saving.save_model(model, tmp_path / "s.keras")
    loaded = saving.load_model(tmp_path / "s.keras")
    assert isinstance(loaded.optimizer.schedule, ExponentialDecay)
    assert loaded.optimizer.current_learning_rate() == pytest.approx(0.1)
    # with a schedule Keras keeps no learning-rate variable: iterations, then m and v
    again = Adam(ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5))
    assert [a.shape for a in fresh_optimizer_variables(tmp_path, again)][:3] == \
        [(), (3, 2), (3, 2)]


# -- files saved by Keras 3 --------------------------------------------------------------------

@pytest.mark.parametrize("name", ["article", "mixed", "conv"])
def test_keras_saved_file_loads_with_keras_predictions(name):
    if name == "conv" and not HAS_CONV:
        pytest.skip("tinynet has no convolutional layers yet")
    model = saving.load_model(DATA / f"keras_{name}.keras")
    x = REFERENCE[f"x_{name}"]
    np.testing.assert_allclose(model.predict(x), REFERENCE[f"p_{name}"], rtol=0, atol=1e-6)


def test_keras_saved_file_comes_back_compiled_with_its_settings():
    article = saving.load_model(DATA / "keras_article.keras")
    assert isinstance(article.optimizer, Adam) and article.loss.name == "binary_crossentropy"
    mixed = saving.load_model(DATA / "keras_mixed.keras")
    assert isinstance(mixed.optimizer, SGD) and mixed.optimizer.momentum == pytest.approx(0.9)
    assert mixed.layers[0].dtype == "float64"
    assert mixed.layers[4].center is False


def test_keras_saved_optimizer_state_is_restored():
    model = saving.load_model(DATA / "keras_article.keras")
    assert model.optimizer.iterations == 3  # 96 samples in batches of 32
    state = model.optimizer_state()
    assert all(np.all(v >= 0) for v in state["v"])  # v, a mean of squares, came second
    assert any(np.any(m < 0) for m in state["m"])


def test_keras_weights_h5_loads_into_the_same_architecture():
    model = saving.load_model(DATA / "keras_article.keras")
    fresh = saving.model_from_config(saving.model_get_config(model))
    saving.load_weights_h5(fresh, DATA / "keras_article.weights.h5")
    x = REFERENCE["x_article"]
    np.testing.assert_allclose(fresh.predict(x), REFERENCE["p_article"], rtol=0, atol=1e-6)


# -- errors that name the file and the problem ------------------------------------------------

def saved_file(tmp_path):
    model, _ = dense_model()
    path = tmp_path / "m.keras"
    saving.save_model(model, path)
    return path


def rewrite_member(path, name, change):
    """Copy a .keras file with one member changed by `change(bytes) -> bytes`."""
    with zipfile.ZipFile(path) as archive:
        members = {member: archive.read(member) for member in archive.namelist()}
    members[name] = change(members[name])
    with zipfile.ZipFile(path, "w") as archive:
        for member, data in members.items():
            archive.writestr(member, data)


def test_a_file_that_is_not_a_zip_is_refused_by_name(tmp_path):
    path = tmp_path / "notes.keras"
    path.write_text("not a model")
    with pytest.raises(ValueError, match=r"notes\.keras is not a \.keras file"):
        saving.load_model(path)


def test_a_truncated_file_is_refused(tmp_path):
    path = saved_file(tmp_path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ValueError, match=r"m\.keras.*(truncated|not a zip)"):
        saving.load_model(path)


def test_a_file_without_weights_says_which_member_is_missing(tmp_path):
    path = tmp_path / "m.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", "{}")
    with pytest.raises(ValueError, match="lacks model.weights.h5"):
        saving.load_model(path)


def test_a_layer_tinynet_lacks_is_named_with_its_class(tmp_path):
    path = saved_file(tmp_path)

    def rename(data):
        config = json.loads(data)
        config["config"]["layers"][2]["class_name"] = "UnitNormalization"
        return json.dumps(config).encode()

    rewrite_member(path, "config.json", rename)
    with pytest.raises(ValueError, match=r"m\.keras.*'batch_normalization' "
                                         r"\(UnitNormalization\): tinynet has no"):
        saving.load_model(path)


def test_an_unsupported_argument_is_named(tmp_path):
    config = saving.layer_get_config(layers.BatchNormalization(name="bn"))
    config["renorm"] = True
    with pytest.raises(ValueError, match=r"'bn' \(BatchNormalization\).*renorm=True"):
        saving.layer_from_config("BatchNormalization", config)


def test_weights_of_the_wrong_shape_are_refused_and_nothing_changes(tmp_path):
    model, x = dense_model()
    path = tmp_path / "w.weights.h5"
    saving.save_weights_h5(model, path)
    other = Sequential([layers.Dense(8, input_shape=(7,)), *dense_model()[0].layers[1:]])
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"w\.weights\.h5.*'kernel' of layer 'dense'.*"
                                         r"\(7, 8\).*\(5, 8\)"):
        saving.load_weights_h5(other, path)
    for old, new in zip(before, other.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_a_weights_file_that_is_not_hdf5_is_refused_by_name(tmp_path):
    model, _ = dense_model()
    path = tmp_path / "notes.weights.h5"
    path.write_text("not weights")
    with pytest.raises(ValueError, match=r"notes\.weights\.h5: not an HDF5 weights file"):
        saving.load_weights_h5(model, path)


def test_a_file_name_must_end_in_keras(tmp_path):
    model, _ = dense_model()
    with pytest.raises(ValueError, match=r"must end in \.keras or \.h5"):
        saving.save_model(model, tmp_path / "m.txt")


def test_missing_h5py_names_the_extra(tmp_path, monkeypatch):
    model, _ = dense_model()
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r'pip install "tinynet\[keras\]"'):
        saving.save_model(model, tmp_path / "m.keras")


def test_a_failed_save_leaves_the_old_file_and_no_temporary_file(tmp_path, monkeypatch):
    path = saved_file(tmp_path)
    old = path.read_bytes()
    model, _ = dense_model(seed=3)

    def broken_replace(source, target):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        saving.save_model(model, path)
    assert path.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.keras"]


# -- live: Keras 3 opens what tinynet saved ----------------------------------------------------

KERAS_CHECK = """
import sys, numpy as np, keras
for model_path, x_path, out_path in zip(*[iter(sys.argv[1:])] * 3):
    model = keras.models.load_model(model_path)
    np.save(out_path, model.predict(np.load(x_path), verbose=0))
"""


def check_keras_predictions(run_keras, tmp_path):
    """Save the dense model (and the convolutional one, when tinynet has it) and compare
    Keras's predictions from the saved files with tinynet's."""
    models = [("dense", *dense_model())]
    fresh, x = dense_model()
    fresh = saving.model_from_config(saving.model_get_config(fresh))
    schedule = ExponentialDecay(0.01, decay_steps=100, decay_rate=0.9)
    fresh.compile(optimizer=RMSprop(schedule, momentum=0.5, centered=True), loss="mse")
    models.append(("fresh", fresh, x))  # an untrained optimizer is saved complete
    frozen, _ = dense_model()
    frozen.layers[1].trainable = False  # its gamma gets no optimizer slots, in Keras too
    frozen.compile(optimizer=SGD(momentum=0.9), loss="mse")
    models.append(("frozen", frozen, x))
    if HAS_CONV:
        models.append(("conv", *conv_model()))
    arguments = []
    for name, model, x in models:
        saving.save_model(model, tmp_path / f"{name}.keras")
        np.save(tmp_path / f"x_{name}.npy", x)
        arguments += [tmp_path / f"{name}.keras", tmp_path / f"x_{name}.npy",
                      tmp_path / f"p_{name}.npy"]
    run_keras(*arguments)
    for name, model, x in models:
        np.testing.assert_allclose(np.load(tmp_path / f"p_{name}.npy"), model.predict(x),
                                   rtol=0, atol=1e-6, err_msg=name)


def test_keras_loads_a_tinynet_file_with_the_same_predictions(tmp_path):
    pytest.importorskip("keras")

    def run_keras(*paths):
        namespace = {}
        sys.argv, saved_argv = ["check", *map(str, paths)], sys.argv
        try:
            exec(KERAS_CHECK, namespace)
        finally:
            sys.argv = saved_argv

    check_keras_predictions(run_keras, tmp_path)


@pytest.mark.skipif(not KERAS_VENV_PYTHON.exists(), reason="no Keras venv at /tmp/kvenv")
def test_keras_in_its_own_venv_loads_a_tinynet_file_with_the_same_predictions(tmp_path):
    def run_keras(*paths):
        done = run_in_keras_venv(KERAS_CHECK, *paths)
        # Keras takes the complete optimizer state of every model without complaint
        assert "Skipping variable loading" not in done.stderr, done.stderr[-3000:]

    check_keras_predictions(run_keras, tmp_path)


def test_regularizers_round_trip_through_a_keras_file(tmp_path):
    import warnings

    from tinynet.models import load_model

    model = Sequential([
        layers.Dense(3, input_shape=(4,), kernel_regularizer=regularizers.l2(0.02)),
        layers.BatchNormalization(gamma_regularizer="l1"), layers.Dense(1)])
    model.compile(loss="mse")
    path = str(tmp_path / "regularized.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is dropped
        model.save(path)
        loaded = load_model(path)
    assert loaded.layers[0].kernel_regularizer.get_config() == {"l2": 0.02}
    assert loaded.layers[1].gamma_regularizer.get_config() == {"l1": 0.01}
