"""A layer of your own in a .keras or .h5 file, as Keras saves its users' layers: by class name
and get_config(), loaded with custom_objects={name: class}. Keras 3.15.1 reads tinynet's file
with a Keras twin of the layer (the same weights, made in the same order), and tinynet reads
Keras's (live, when the Keras venv exists)."""

import warnings

import numpy as np
import pytest
from helpers import KERAS_VENV_PYTHON, run_in_keras_venv

import tinynet
from tinynet.layers import Dense, Input, Layer
from tinynet.models import Sequential, load_model


class Scale(Layer):
    """y = x * gamma, gamma per feature, starting at `init`."""

    def __init__(self, init=1.0, **kwargs):
        super().__init__(**kwargs)
        self.init = init

    def build(self, input_shape):
        self.params["gamma"] = np.full(input_shape[-1], self.init, self.dtype)
        super().build(input_shape)

    def forward(self, x, training=False):
        self.check_input(x)
        self.x = x
        return x * self.params["gamma"]

    def backward(self, grad_output):
        self.check_grad_output(grad_output, self.x)
        self.grads["gamma"] = (grad_output * self.x).sum(axis=0)
        return grad_output * self.params["gamma"]

    def get_config(self):
        return {**super().get_config(), "init": self.init}


X = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)


def trained_model():
    tinynet.set_seed(0)
    model = Sequential([Input(shape=(3,)), Dense(3), Scale(2.0), Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, X[:, :1], epochs=2, batch_size=8, verbose=0)
    return model


@pytest.mark.parametrize("ending", [".keras", ".h5"])
def test_the_file_round_trips_and_trains_on(tmp_path, ending):
    pytest.importorskip("h5py")
    model = trained_model()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # .h5: the legacy format's warning
        model.save(str(tmp_path / f"m{ending}"))
    again = load_model(str(tmp_path / f"m{ending}"), custom_objects={"Scale": Scale})
    assert type(again.layers[1]) is Scale and again.layers[1].init == 2.0
    for model_ in (model, again):
        model_.fit(X, X[:, :1], epochs=1, batch_size=8, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_the_entry_is_keras_s_for_a_layer_of_its_user():
    entry = trained_model().get_config()["layers"][2]
    assert (entry["module"], entry["class_name"], entry["registered_name"]) == \
        (None, "Scale", "Scale")
    assert entry["config"]["init"] == 2.0 and entry["build_config"] == {"input_shape": [None, 3]}


KERAS_TWIN = """
import sys, numpy as np, keras

class Scale(keras.layers.Layer):
    def __init__(self, init=1.0, **kwargs):
        super().__init__(**kwargs)
        self.init = init
    def build(self, input_shape):
        self.gamma = self.add_weight(shape=(input_shape[-1],), name="gamma",
                                     initializer=keras.initializers.Constant(self.init))
    def call(self, x):
        return x * self.gamma
    def get_config(self):
        return {**super().get_config(), "init": self.init}

tiny_file, x_file, out_file, keras_file = sys.argv[1:5]
model = keras.models.load_model(tiny_file, custom_objects={"Scale": Scale})
np.save(out_file, model.predict(np.load(x_file), verbose=0))
model.save(keras_file)
"""


@pytest.mark.skipif(not KERAS_VENV_PYTHON.exists(), reason="no Keras venv at /tmp/kvenv")
def test_keras_reads_the_file_with_its_twin_and_tinynet_reads_keras_s(tmp_path):
    pytest.importorskip("h5py")
    model = trained_model()
    model.save(str(tmp_path / "tiny.keras"))
    np.save(tmp_path / "x.npy", X)
    run_in_keras_venv(KERAS_TWIN, tmp_path / "tiny.keras", tmp_path / "x.npy",
                      tmp_path / "p.npy", tmp_path / "keras.keras")
    expected = model.predict(X, verbose=0)
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), expected, rtol=1e-5, atol=1e-6)
    again = load_model(str(tmp_path / "keras.keras"), custom_objects={"Scale": Scale})
    assert type(again.layers[1]) is Scale and again.compiled
    np.testing.assert_allclose(again.predict(X, verbose=0), expected, rtol=1e-5, atol=1e-6)
