"""Rescaling: its backward by finite differences, and against Keras 3.15.1 its outputs (on
uint8 images), get_config, training the image-classification tutorial's kind of model, and
.keras files both ways.

The fixture tests/data/keras_preprocessing_reference.npz and
tests/data/keras_preprocessing_images.keras were made by
tests/data/make_keras_preprocessing_reference.py.
"""

import json
import pathlib

import numpy as np
import pytest
from helpers import KERAS_VENV_PYTHON, raises, run_in_keras_venv

import tinynet as keras
from tinynet import layers
from tinynet.gradcheck import check_layer, check_model

DATA = pathlib.Path(__file__).parent / "data"
REF = np.load(DATA / "keras_preprocessing_reference.npz")
CONFIGS = json.loads(str(REF["configs"]))


@pytest.mark.parametrize("kwargs", [
    {"scale": 1.0 / 255}, {"scale": 1 / 127.5, "offset": -1},
    {"scale": [0.5, -1.0, 2.0], "offset": np.array([0.0, 1.0, -1.0])},
])
def test_rescaling_gradients_match_finite_differences(kwargs):
    layer = layers.Rescaling(dtype="float64", **kwargs)
    # small values: with pixels up to 255 the loss is large, and finite differences of
    # it lose digits to round-off
    x = np.random.default_rng(0).uniform(0.0, 3.0, size=(2, 3, 3, 3))
    errors = check_layer(layer, x)
    assert set(errors) == {"input"} and errors["input"] < 1e-6


def test_a_model_trains_through_a_rescaling_in_its_middle():
    model = keras.Sequential([layers.Dense(3, input_shape=(2,), dtype="float64"),
                              layers.Rescaling(0.5, offset=2.0, dtype="float64"),
                              layers.Dense(1, dtype="float64")])
    model.compile(loss="mse", optimizer="sgd")
    rng = np.random.default_rng(1)
    assert max(check_model(model, rng.normal(size=(5, 2)),
                           rng.normal(size=(5, 1))).values()) < 1e-6


@pytest.mark.parametrize("case, layer", [
    ("unit", lambda: layers.Rescaling(1.0 / 255)),
    ("signed", lambda: layers.Rescaling(scale=1 / 127.5, offset=-1)),
    ("channels", lambda: layers.Rescaling(scale=np.array([0.5, 1.0, 2.0]),
                                          offset=[0.0, 1.0, -1.0])),
])
def test_rescaling_uint8_images_gives_keras_s_floats(case, layer):
    out = layer()(REF[f"rescaling_{case}_input"])  # uint8 images in, floats out
    expected = REF[f"rescaling_{case}_output"]
    assert out.dtype == np.float32 == expected.dtype
    np.testing.assert_array_equal(out, expected)  # the same float32 operations, bit for bit


@pytest.mark.parametrize("case, make", [
    ("rescaling", lambda: layers.Rescaling(1.0 / 255, name="rescaling")),
    ("rescaling_signed", lambda: layers.Rescaling(scale=1 / 127.5, offset=-1, name="signed")),
    ("rescaling_array", lambda: layers.Rescaling(scale=np.array([0.5, 1.0, 2.0]),
                                                 name="array")),
])
def test_get_config_is_keras_s(case, make):
    layer = make()
    config = layer.get_config()
    config.pop("dtype")
    assert config == CONFIGS[case]["config"]
    copy = layers.Rescaling.from_config(layer.get_config())
    np.testing.assert_array_equal(copy.scale, layer.scale)
    assert copy.get_config() == layer.get_config() and copy.weights == []


def test_the_image_tutorial_s_first_layer_trains_as_in_keras():
    model = keras.Sequential([keras.Input((6, 6, 3)), layers.Rescaling(1 / 127.5, offset=-1),
                              layers.Conv2D(2, 3, activation="relu"), layers.Flatten(),
                              layers.Dense(3)])
    model.set_weights([REF[f"images_initial_{i}"] for i in range(4)])
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(REF["images_x"], REF["images_y"], epochs=2, batch_size=8,
                        shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], REF["images_loss"], rtol=1e-6)
    for i, weight in enumerate(model.get_weights()):
        np.testing.assert_allclose(weight, REF[f"images_final_{i}"], rtol=1e-5, atol=1e-6)


def test_the_image_tutorial_s_input_shape_spelling():
    model = keras.Sequential([layers.Rescaling(1. / 255, input_shape=(8, 8, 3)),
                              layers.Flatten(), layers.Dense(2)])
    assert model.layers[0].input_shape == (None, 8, 8, 3)
    assert model.predict(np.zeros((2, 8, 8, 3), np.uint8), verbose=0).shape == (2, 2)


def test_a_keras_file_with_a_rescaling_predicts_as_in_keras():
    pytest.importorskip("h5py")
    model = keras.models.load_model(str(DATA / "keras_preprocessing_images.keras"))
    assert model.layers[0].get_config()["offset"] == -1
    np.testing.assert_allclose(model.predict(REF["file_images_x"], verbose=0),
                               REF["file_images_predictions"], rtol=1e-6, atol=1e-6)


def tinynet_model():
    model = keras.Sequential([keras.Input((4, 4, 3)),
                              layers.Rescaling(scale=np.array([0.5, 1.0, 2.0]) / 255,
                                               offset=-0.5),
                              layers.Flatten(), layers.Dense(2)])
    x = np.random.default_rng(2).integers(0, 256, (3, 4, 4, 3)).astype(np.uint8)
    return model, x


def test_a_tinynet_file_round_trips(tmp_path):
    pytest.importorskip("h5py")
    model, x = tinynet_model()
    model.save(str(tmp_path / "rescaling.keras"))
    loaded = keras.models.load_model(str(tmp_path / "rescaling.keras"))
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.skipif(not KERAS_VENV_PYTHON.exists(), reason="no Keras venv at /tmp/kvenv")
def test_keras_loads_a_tinynet_file_with_a_rescaling(tmp_path):
    pytest.importorskip("h5py")
    model, x = tinynet_model()
    model.save(str(tmp_path / "rescaling.keras"))
    np.save(tmp_path / "x.npy", x)
    run_in_keras_venv("import sys, numpy as np, keras\n"
                      "model = keras.models.load_model(sys.argv[1])\n"
                      "np.save(sys.argv[3], model.predict(np.load(sys.argv[2]), verbose=0))",
                      tmp_path / "rescaling.keras", tmp_path / "x.npy", tmp_path / "p.npy")
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), model.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("call, error, words", [
    (lambda: layers.Rescaling(), TypeError, ["scale"]),
    (lambda: layers.Rescaling("1/255"), TypeError, ["Rescaling(scale=...)", "number"]),
    (lambda: layers.Rescaling(True), TypeError, ["Rescaling(scale=...)"]),
    (lambda: layers.Rescaling(float("nan")), ValueError, ["Rescaling(scale=...)", "finite"]),
    (lambda: layers.Rescaling(1.0, offset=None), TypeError, ["Rescaling(offset=...)"]),
    (lambda: layers.Rescaling([1.0, 2.0])(np.ones((2, 3))), ValueError,
     ["Rescaling", "scale of shape (2,)", "(3,)"]),
])
def test_mistakes_are_named(call, error, words):
    raises(error, call, *words)
