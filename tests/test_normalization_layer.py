"""Normalization (the preprocessing layer with adapt): its backward by finite differences,
and everything else against Keras 3.15.1: what adapt measures, the outputs (invert,
axis=None, several axes), get_config, training the "Basic regression" tutorial's model, and
.keras files both ways.

The fixture tests/data/keras_preprocessing_reference.npz and the keras_preprocessing_*.keras
files were made by tests/data/make_keras_preprocessing_reference.py. Keras computes in
float32: the numbers agree to float32 round-off (a relative 1e-6).
"""

import json
import pathlib
import warnings

import numpy as np
import pytest
from helpers import KERAS_VENV_PYTHON, raises, run_in_keras_venv

import tinynet as keras
from tinynet import layers
from tinynet.gradcheck import check_layer, check_model

DATA = pathlib.Path(__file__).parent / "data"
REF = np.load(DATA / "keras_preprocessing_reference.npz")
CONFIGS = json.loads(str(REF["configs"]))
AXES = {"axis_none": None, "pixels": (1, 2)}  # the adapt cases' axis; the others: -1
GRADIENT_TOLERANCE = 1e-6


def close(actual, expected, rtol=1e-6):
    """Equal to float32 round-off: a relative error of rtol, for values near 0 an absolute
    one (Keras's output of (x - mean) / std is 0 where tinynet's may be 1e-8)."""
    expected = np.asarray(expected)
    scale = np.maximum(np.abs(expected), 1.0)
    assert np.max(np.abs(np.asarray(actual) - expected) / scale) <= rtol


def adapted(data, **kwargs):
    layer = layers.Normalization(**kwargs)
    layer.adapt(data)
    return layer


def features(n=30, seed=0):
    """Columns of very different scales, like the tutorial's auto-mpg features."""
    return np.random.default_rng(seed).normal(size=(n, 4)) * [1.0, 50.0, 1000.0, 0.01] + \
        [5.0, 100.0, 3000.0, 0.0]


# -- backward: finite differences, in float64 ---------------------------------------------

@pytest.mark.parametrize("kwargs, shape", [
    ({}, (6, 4)),
    ({"invert": True}, (6, 4)),
    ({"axis": None}, (6, 4)),
    ({"axis": (1, 2)}, (5, 2, 3)),
    ({"axis": -1}, (3, 4, 4, 2)),
])
def test_normalization_gradients_match_finite_differences(kwargs, shape):
    data = np.random.default_rng(1).normal(2.0, 3.0, size=(20, *shape[1:]))
    layer = adapted(data, dtype="float64", **kwargs)
    errors = check_layer(layer, np.random.default_rng(2).normal(size=shape))
    assert set(errors) == {"input"}  # no trainable weights
    assert errors["input"] < GRADIENT_TOLERANCE


def test_given_statistics_and_a_constant_feature_have_correct_gradients():
    layer = layers.Normalization(mean=[1.0, -2.0, 0.5], variance=[4.0, 0.0, 0.25],
                                 dtype="float64")
    # the feature of variance 0 is divided by eps = 1e-7: a large but exact derivative
    assert check_layer(layer, np.random.default_rng(3).normal(size=(4, 3)))["input"] < \
        GRADIENT_TOLERANCE


def test_a_model_trains_through_a_normalization_in_its_middle():
    model = keras.Sequential([
        layers.Dense(4, input_shape=(3,), dtype="float64"),
        layers.Normalization(mean=[0.5, -1.0, 2.0, 0.0], variance=[4.0, 0.25, 9.0, 1.0],
                             invert=False, dtype="float64"),
        layers.Dense(1, dtype="float64")])
    model.compile(loss="mse", optimizer="sgd")
    rng = np.random.default_rng(4)
    errors = check_model(model, rng.normal(size=(8, 3)), rng.normal(size=(8, 1)))
    assert max(errors.values()) < GRADIENT_TOLERANCE


# -- against Keras: adapt, outputs, get_config ---------------------------------------------

@pytest.mark.parametrize("case", ["features", "float32", "axis_none", "images", "pixels",
                                  "constant", "again"])
def test_adapt_measures_and_normalizes_as_keras_does(case):
    axis = AXES.get(case, -1)
    layer = adapted(REF[f"adapt_{case}_x"], axis=axis)
    mean, variance, count = layer.get_weights()
    close(mean, REF[f"adapt_{case}_weights_0"])
    close(variance, REF[f"adapt_{case}_weights_1"])
    assert count.dtype == np.int32 and count == REF[f"adapt_{case}_weights_2"] == 0
    close(layer(REF[f"adapt_{case}_input"]), REF[f"adapt_{case}_output"])
    # layer.mean is shaped to broadcast against the inputs, as Keras's is (tinynet builds
    # an axis=None layer adapted on a 1-D column for inputs (N, 1), Keras for (N,))
    assert layer.mean.numpy().size == REF[f"adapt_{case}_mean"].size
    close(layer.mean.numpy().ravel(), REF[f"adapt_{case}_mean"].ravel())
    if case != "again":
        inverted = adapted(REF[f"adapt_{case}_x"], axis=axis, invert=True)
        close(inverted(REF[f"adapt_{case}_input"]), REF[f"adapt_{case}_inverted"])


def test_adapt_again_replaces_the_statistics():
    layer = adapted(features())
    layer.adapt(features()[:10] * 2.0)
    np.testing.assert_allclose(layer.get_weights()[0], (features()[:10] * 2.0).mean(axis=0),
                               rtol=1e-6)


@pytest.mark.parametrize("case, layer", [
    ("given_scalar", lambda: layers.Normalization(mean=3.0, variance=2.0)),
    ("given_row", lambda: layers.Normalization(mean=[1.0, 2.0, 3.0],
                                               variance=[1.0, 4.0, 0.0])),
])
def test_given_statistics_normalize_as_in_keras(case, layer):
    layer = layer()
    close(layer(REF[f"{case}_input"]), REF[f"{case}_output"])
    assert layer.get_weights() == []  # the statistics are its config, not weights


@pytest.mark.parametrize("case, make", [
    ("adapted", lambda: adapted(features(), name="norm")),
    ("axis_none_invert", lambda: layers.Normalization(axis=None, invert=True,
                                                      name="norm_none")),
    ("pixels", lambda: layers.Normalization(axis=(1, 2), name="norm_pixels")),
    ("given", lambda: layers.Normalization(mean=[1.0, 2.0], variance=[3.0, 4.0],
                                           name="given")),
    ("given_scalar", lambda: layers.Normalization(mean=3, variance=2.5, name="given_scalar")),
])
def test_get_config_and_weights_are_keras_s(case, make):
    layer = make()
    config = layer.get_config()
    assert config.pop("dtype")["config"]["name"] == "float32"
    assert config == CONFIGS[case]["config"]
    if not layer.built:
        layer.build((None, 2, 3) if case == "pixels" else (None, 2))
    assert len(layer.weights) == CONFIGS[case]["weights"]
    assert all(not w.trainable for w in layer.weights)
    copy = layers.Normalization.from_config(layer.get_config())
    assert copy.get_config() == layer.get_config()


# -- the "Basic regression" tutorial -------------------------------------------------------

def test_the_tutorial_s_model_trains_as_in_keras():
    x, y = REF["regression_x"], REF["regression_y"]
    normalizer = layers.Normalization(axis=-1)
    normalizer.adapt(np.array(x))
    model = keras.Sequential([normalizer, layers.Dense(8, activation="relu"),
                              layers.Dense(8, activation="relu"), layers.Dense(1)])
    model.build((None, x.shape[1]))
    model.set_weights([REF[f"regression_initial_{i}"] for i in range(9)])
    model.compile(loss="mean_absolute_error", optimizer=keras.optimizers.Adam(0.001))
    history = model.fit(x, y, validation_split=0.2, epochs=4, batch_size=16, shuffle=False,
                        verbose=0)
    np.testing.assert_allclose(history.history["loss"], REF["regression_loss"], rtol=1e-6)
    np.testing.assert_allclose(history.history["val_loss"], REF["regression_val_loss"],
                               rtol=1e-6)
    for i, weight in enumerate(model.get_weights()):
        np.testing.assert_allclose(weight, REF[f"regression_final_{i}"], rtol=1e-5,
                                   atol=1e-6, err_msg=f"weight {i}")


def test_normalization_between_dense_layers_trains_as_in_keras():
    model = keras.Sequential([
        keras.Input((3,)), layers.Dense(4),
        layers.Normalization(mean=[0.5, -1.0, 2.0, 0.0], variance=[4.0, 0.25, 9.0, 1.0]),
        layers.Dense(1)])
    model.set_weights([REF[f"middle_initial_{i}"] for i in range(4)])
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(0.05))
    history = model.fit(REF["middle_x"], REF["middle_y"], epochs=3, batch_size=8,
                        shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], REF["middle_loss"], rtol=1e-6)
    for i, weight in enumerate(model.get_weights()):  # the first Dense learned through it
        np.testing.assert_allclose(weight, REF[f"middle_final_{i}"], rtol=1e-5, atol=1e-6)


def test_the_tutorial_s_one_feature_normalizer():
    horsepower = REF["regression_x"][:, 2]
    normalizer = layers.Normalization(input_shape=[1], axis=None)
    normalizer.adapt(horsepower)
    np.testing.assert_allclose(normalizer.mean.numpy(), [[horsepower.mean()]], rtol=1e-6)
    model = keras.Sequential([normalizer, layers.Dense(units=1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1),
                  loss="mean_absolute_error")
    model.fit(horsepower, REF["regression_y"], epochs=2, verbose=0, validation_split=0.2)
    assert model.predict(np.linspace(0.0, 250.0, 5), verbose=0).shape == (5, 1)


def test_the_tutorial_s_mean_and_first_example():
    x = REF["regression_x"]
    normalizer = adapted(np.array(x), axis=-1)
    assert normalizer.mean.numpy().shape == (1, 9)  # Keras prints [[...]]
    first = np.array(x[:1])
    out = normalizer(first)
    np.testing.assert_allclose(out, (first - x.mean(0)) / x.std(0), rtol=1e-5)


# -- .keras files --------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["regression", "tutorial"])
def test_a_keras_file_with_a_normalization_predicts_as_in_keras(name):
    pytest.importorskip("h5py")
    model = keras.models.load_model(str(DATA / f"keras_preprocessing_{name}.keras"))
    assert isinstance(model.layers[0], layers.Normalization)
    close(model.predict(REF[f"file_{name}_x"], verbose=0), REF[f"file_{name}_predictions"])


def tinynet_models():
    """A trained model with an adapted Normalization first, and one with given statistics
    and invert=True in the middle (no weights of its own), with inputs. Seeded, so that the
    weights do not depend on which tests ran before."""
    keras.utils.set_random_seed(5)
    rng = np.random.default_rng(5)
    x = features(40)
    first = keras.Sequential([adapted(x), layers.Dense(3, activation="relu"),
                              layers.Dense(1)])
    first.compile(loss="mae", optimizer="adam")
    first.fit(x, rng.normal(size=40), epochs=2, verbose=0)
    middle = keras.Sequential([keras.Input((4,)), layers.Dense(2),
                               layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0],
                                                    invert=True),
                               layers.Dense(1)])
    return {"first": (first, x[:6]), "middle": (middle, x[:6])}


KERAS_PREDICTS = """
import sys, numpy as np, keras
for model_path, x_path, out_path in zip(*[iter(sys.argv[1:])] * 3):
    model = keras.models.load_model(model_path)
    np.save(out_path, model.predict(np.load(x_path), verbose=0))
"""


def test_a_tinynet_file_round_trips_with_its_statistics(tmp_path):
    pytest.importorskip("h5py")
    for name, (model, x) in tinynet_models().items():
        model.save(str(tmp_path / f"{name}.keras"))
        loaded = keras.models.load_model(str(tmp_path / f"{name}.keras"))
        np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
        assert loaded.layers[0].get_config() == model.layers[0].get_config()


@pytest.mark.skipif(not KERAS_VENV_PYTHON.exists(), reason="no Keras venv at /tmp/kvenv")
def test_keras_loads_a_tinynet_file_with_a_normalization(tmp_path):
    pytest.importorskip("h5py")
    arguments, models = [], tinynet_models()
    for name, (model, x) in models.items():
        model.save(str(tmp_path / f"{name}.keras"))
        np.save(tmp_path / f"x_{name}.npy", x)
        arguments += [tmp_path / f"{name}.keras", tmp_path / f"x_{name}.npy",
                      tmp_path / f"p_{name}.npy"]
    run_in_keras_venv(KERAS_PREDICTS, *arguments)
    for name, (model, x) in models.items():
        # 'middle' feeds raw features of up to 3000 to a Dense layer: its sums of large
        # terms come out a few hundred, and Keras's backend adds them in another order, so
        # the two differ by a few float32 steps of the terms (2e-4 seen on 73, 3e-6 of it)
        close(np.load(tmp_path / f"p_{name}.npy"), model.predict(x, verbose=0), rtol=1e-5)


# -- adapt's data, and mistakes --------------------------------------------------------------

def test_adapt_takes_a_list_of_batches_and_of_x_y_batches():
    x = features(30)
    whole = adapted(x).get_weights()
    for batches in ([x[:10], x[10:]], [(x[:10], None), (x[10:], None)], iter([x[:5], x[5:]])):
        for got, expected in zip(adapted(batches).get_weights(), whole, strict=True):
            np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_adapt_builds_an_unbuilt_layer_and_checks_a_declared_shape():
    layer = layers.Normalization(input_shape=(4,))
    raises(ValueError, lambda: layer.adapt(np.ones((5, 3))), "Normalization.adapt",
           "(5, 3)", "(None, 4)")
    assert not layer.built
    layer.adapt(features())
    assert layer.built and layer.input_shape == (None, 4)


@pytest.mark.parametrize("call, error, words", [
    (lambda: adapted(features()).adapt(np.ones((5, 3))), ValueError,
     ["Normalization.adapt", "(5, 3)", "axis=(-1,)"]),
    (lambda: adapted(np.arange(5.0)), ValueError,
     ["Normalization.adapt", "no feature axis", "reshape(-1, 1)", "axis=None"]),
    (lambda: adapted([[1.0, 2.0], [3.0, 4.0]]), TypeError, ["list of batches", "np.array"]),
    (lambda: adapted("data"), TypeError, ["Normalization.adapt: data", "str"]),
    (lambda: adapted(np.array([["a", "b"]])), TypeError, ["Normalization.adapt", "numeric"]),
    (lambda: adapted(np.array([[1.0, np.nan], [2.0, 3.0]])), ValueError,
     ["Normalization.adapt", "NaN"]),
    (lambda: adapted(np.ones((0, 3))), ValueError, ["Normalization.adapt", "empty"]),
    (lambda: adapted(features(), axis=3), ValueError, ["Normalization", "axis=(3,)",
                                                       "out of range"]),
    (lambda: adapted(features(), axis=-2), ValueError, ["batch axis"]),
    (lambda: layers.Normalization(axis=0), ValueError, ["axis=0", "batch axis"]),
    (lambda: layers.Normalization(axis="last"), TypeError, ["axis='last'"]),
    (lambda: layers.Normalization(axis=(1, 1)), ValueError, ["repeated"]),
    (lambda: layers.Normalization(mean=1.0), ValueError, ["mean and variance together"]),
    (lambda: layers.Normalization(mean=[1.0, 2.0], variance=[1.0]), ValueError,
     ["same shape", "(2,)", "(1,)"]),
    (lambda: layers.Normalization(mean=[[1.0]], variance=[[1.0]]), ValueError,
     ["more dimensions"]),
    (lambda: layers.Normalization(mean=0.0, variance=-1.0), ValueError, ["variance", ">= 0"]),
    (lambda: layers.Normalization(mean=[1.0, 2.0], variance=[1.0, 1.0])(np.ones((2, 3))),
     ValueError, ["Normalization", "mean of shape (2,)", "(3,)"]),
    (lambda: layers.Normalization(mean=1.0, variance=1.0).adapt(features()), ValueError,
     ["Normalization.adapt", "given mean and variance"]),
    (lambda: layers.Normalization(invert="yes"), TypeError, ["invert"]),
])
def test_mistakes_are_named(call, error, words):
    raises(error, call, *words)


def test_calling_before_adapt_passes_x_through_with_a_warning():
    # Keras builds the layer with mean 0 and variance 1 and says nothing
    x = features(3)
    layer = layers.Normalization()
    with pytest.warns(UserWarning, match="has not been adapted"):
        out = layer(x)
    np.testing.assert_allclose(out, x.astype(np.float32))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # once is enough
        layer(x)
        adapted(x)(x)  # an adapted layer never warns


def test_mean_and_variance_are_none_before_build_and_copies_after():
    layer = layers.Normalization()
    assert layer.mean is None and layer.variance is None
    layer.adapt(features())
    mean = layer.mean
    mean[...] = 0.0  # a copy: the layer keeps its statistics
    assert layer.get_weights()[0].any()
    assert layer.variance.shape == (1, 4)
