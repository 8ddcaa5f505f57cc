"""What must survive a .keras file: AMSGrad's setting and its v_hat, Constant initializers
holding arrays, Keras's null initializer, a loss object's settings (label_smoothing, delta,
from_logits), and a GlobalMaxPooling2D layer; and what a wrong file name is told."""

import json
import zipfile

import numpy as np
import pytest

import tinynet
from tinynet import initializers, losses, optimizers, saving
from tinynet.layers import Conv2D, Dense, GlobalMaxPooling2D
from tinynet.models import Sequential


def trained(tmp_path, optimizer, **dense):
    tinynet.set_seed(0)
    x = np.random.default_rng(0).normal(size=(32, 4)).astype(np.float32)
    model = Sequential([Dense(2, input_shape=(4,), **dense), Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    model.fit(x, x[:, :1], batch_size=8, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    return model, path


def test_amsgrad_and_its_v_hat_survive_a_keras_file(tmp_path):
    model, path = trained(tmp_path, optimizers.AdamW(0.01, amsgrad=True))
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    assert config["compile_config"]["optimizer"]["config"]["amsgrad"] is True
    loaded = saving.load_model(path)
    assert loaded.optimizer.amsgrad and loaded.optimizer.iterations == 4
    for name in ("m", "v", "v_hat"):
        for a, b in zip(model.optimizer_state()[name], loaded.optimizer_state()[name],
                        strict=True):
            np.testing.assert_array_equal(a, b)


def test_a_constant_array_survives_a_keras_file_in_keras_numpy_wrapper(tmp_path):
    _, path = trained(tmp_path, "adam", bias_initializer=initializers.Constant([0.1, 0.2]))
    config = json.loads(zipfile.ZipFile(path).read("config.json"))
    written = config["config"]["layers"][1]["config"]["bias_initializer"]["config"]["value"]
    assert written == {"class_name": "__numpy__",
                       "config": {"value": [0.1, 0.2], "dtype": "float64"}}
    loaded = saving.load_model(path)
    np.testing.assert_array_equal(loaded.layers[0].bias_initializer((2,)),
                                  np.float32([0.1, 0.2]))


def test_an_initializer_written_as_null_by_keras_is_glorot_uniform():
    assert isinstance(saving.initializer_from_keras(None, "test"), initializers.GlorotUniform)


@pytest.mark.parametrize("loss", [losses.BinaryCrossentropy(label_smoothing=0.1),
                                  losses.BinaryCrossentropy(from_logits=True),
                                  losses.Huber(delta=2.0),
                                  losses.MeanSquaredError(reduction="sum")])
def test_a_loss_object_keeps_its_settings_in_a_keras_file(tmp_path, loss):
    tinynet.set_seed(0)
    x = np.random.default_rng(0).normal(size=(16, 4)).astype(np.float32)
    probabilities = isinstance(loss, losses.BinaryCrossentropy) and not loss.from_logits
    model = Sequential([Dense(1, input_shape=(4,),
                              activation="sigmoid" if probabilities else None)])
    model.compile(optimizer="adam", loss=loss)
    path = tmp_path / "model.keras"
    model.save(path)
    written = json.loads(zipfile.ZipFile(path).read("config.json"))["compile_config"]["loss"]
    assert written["class_name"] == type(loss).__name__
    loaded = saving.load_model(path)
    assert type(loaded.loss) is type(loss) and loaded.loss.get_config() == loss.get_config()
    y = (x[:, :1] > 0).astype(np.float32)
    assert loaded.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))


def test_a_loss_with_its_default_settings_is_written_by_name(tmp_path):
    tinynet.set_seed(0)
    model = Sequential([Dense(1, input_shape=(4,), activation="sigmoid")])
    model.compile(optimizer="adam", loss=losses.BinaryCrossentropy())
    path = tmp_path / "model.keras"
    model.save(path)
    written = json.loads(zipfile.ZipFile(path).read("config.json"))["compile_config"]["loss"]
    assert written == "binary_crossentropy"


def test_global_max_pooling_survives_a_keras_file(tmp_path):
    tinynet.set_seed(0)
    x = np.random.default_rng(0).normal(size=(4, 6, 6, 1)).astype(np.float32)
    model = Sequential([Conv2D(3, 3, input_shape=(6, 6, 1)), GlobalMaxPooling2D(), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = saving.load_model(path)
    assert type(loaded.layers[1]).__name__ == "GlobalMaxPooling2D"
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_wrong_file_name_is_told_what_tinynet_writes(tmp_path):
    model = Sequential([Dense(1, input_shape=(4,))])
    with pytest.raises(ValueError, match=r"tinynet writes \.keras files \(and Keras's legacy "
                                         r"\.h5 files\)"):
        saving.save_model(model, tmp_path / "model.hdf")
