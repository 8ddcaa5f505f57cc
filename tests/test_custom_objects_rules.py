"""Regularizers, initializers, constraints and learning-rate schedules of your own in saved
models: written as Keras writes an object of its user's (class name and get_config()), and
rebuilt by load_model(path, custom_objects={...}) (also model_from_json, from_config, .h5
files, clone_model); a clear error naming what to pass without them. Keras 3.15.1 reads
tinynet's file with its own versions of the classes, and tinynet reads Keras's (live, when the
Keras venv exists)."""

import numpy as np
import pytest
from helpers import KERAS_VENV_PYTHON, run_in_keras_venv

import tinynet
from tinynet.constraints import Constraint
from tinynet.initializers import Initializer
from tinynet.layers import Dense
from tinynet.models import Sequential, clone_model, load_model, model_from_json
from tinynet.optimizers import SGD
from tinynet.optimizers.schedules import LearningRateSchedule
from tinynet.regularizers import Regularizer


class MyL2(Regularizer):
    def __init__(self, strength=0.01):
        self.strength = strength

    def __call__(self, weight):
        return float(self.strength * np.sum(weight ** 2))

    def gradient(self, weight):
        return 2 * self.strength * weight

    def get_config(self):
        return {"strength": self.strength}


class Halves(Initializer):
    def __init__(self, value=0.5):
        self.value = value

    def __call__(self, shape, dtype=None):
        return np.full(shape, self.value, dtype or "float32")

    def get_config(self):
        return {"value": self.value}


class ClipTo(Constraint):
    def __init__(self, bound=1.0):
        self.bound = bound

    def __call__(self, weight):
        return np.clip(weight, -self.bound, self.bound)

    def get_config(self):
        return {"bound": self.bound}


class InverseTime(LearningRateSchedule):
    def __init__(self, rate=0.1):
        self.rate = rate

    def __call__(self, step):
        return self.rate / (1 + step)

    def get_config(self):
        return {"rate": self.rate}


OWN = {"MyL2": MyL2, "Halves": Halves, "ClipTo": ClipTo, "InverseTime": InverseTime}
X = np.linspace(-1, 1, 12, dtype=np.float32).reshape(6, 2)
Y = X[:, :1] * 3.0


def trained_model():
    model = Sequential([Dense(3, input_shape=(2,), kernel_regularizer=MyL2(0.5),
                              kernel_initializer=Halves(0.25), kernel_constraint=ClipTo(0.8)),
                        Dense(1)])
    model.compile(optimizer=SGD(InverseTime(0.2)), loss="mse")
    model.fit(X, Y, epochs=2, batch_size=3, verbose=0)
    return model


def check_rebuilt(model, again, compiled=True):
    dense = again.layers[0]
    assert isinstance(dense.kernel_regularizer, MyL2) and dense.kernel_regularizer.strength == 0.5
    assert isinstance(dense.kernel_initializer, Halves) and dense.kernel_initializer.value == 0.25
    assert isinstance(dense.kernel_constraint, ClipTo) and dense.kernel_constraint.bound == 0.8
    assert again.compiled is compiled
    if compiled:
        assert isinstance(again.optimizer.schedule, InverseTime)


@pytest.mark.parametrize("ending", [".keras", ".h5"])
def test_a_file_round_trips_with_custom_objects(tmp_path, ending, recwarn):
    pytest.importorskip("h5py")
    model = trained_model()
    model.save(str(tmp_path / f"m{ending}"))
    again = load_model(str(tmp_path / f"m{ending}"), custom_objects=OWN)
    check_rebuilt(model, again)
    np.testing.assert_array_equal(again.predict(X, verbose=0), model.predict(X, verbose=0))
    # training goes on the same way: the penalty, the constraint and the schedule's step
    model.fit(X, Y, epochs=1, batch_size=3, verbose=0, shuffle=False)
    again.fit(X, Y, epochs=1, batch_size=3, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_without_custom_objects_the_error_says_what_to_pass(tmp_path):
    pytest.importorskip("h5py")
    trained_model().save(str(tmp_path / "m.keras"))
    with pytest.raises(ValueError, match=r"kernel_\w+ is '\w+', one of your own: give it as "
                                         r"custom_objects=\{'\w+': \w+\}"):
        load_model(str(tmp_path / "m.keras"))


def test_json_from_config_and_clone_model_rebuild_them():
    model = trained_model()
    check_rebuilt(model, model_from_json(model.to_json(), custom_objects=OWN))
    check_rebuilt(model, Sequential.from_config(model.get_config(), custom_objects=OWN),
                  compiled=False)
    check_rebuilt(model, clone_model(model))  # from the model's own classes


def test_the_file_holds_keras_s_entry_for_an_object_of_one_s_own():
    config = trained_model().get_config()["layers"][1]["config"]  # [0] is the InputLayer
    assert config["kernel_regularizer"] == {"module": None, "class_name": "MyL2",
                                            "config": {"strength": 0.5},
                                            "registered_name": "MyL2"}
    assert config["kernel_constraint"]["class_name"] == "ClipTo"


KERAS_ROUND_TRIP = """
import sys, numpy as np, keras

class MyL2(keras.regularizers.Regularizer):
    def __init__(self, strength=0.01):
        self.strength = strength
    def __call__(self, w):
        return self.strength * keras.ops.sum(w ** 2)
    def get_config(self):
        return {"strength": self.strength}

class Halves(keras.initializers.Initializer):
    def __init__(self, value=0.5):
        self.value = value
    def __call__(self, shape, dtype=None):
        return keras.ops.full(shape, self.value, dtype=dtype)
    def get_config(self):
        return {"value": self.value}

class ClipTo(keras.constraints.Constraint):
    def __init__(self, bound=1.0):
        self.bound = bound
    def __call__(self, w):
        return keras.ops.clip(w, -self.bound, self.bound)
    def get_config(self):
        return {"bound": self.bound}

class InverseTime(keras.optimizers.schedules.LearningRateSchedule):
    def __init__(self, rate=0.1):
        self.rate = rate
    def __call__(self, step):
        return self.rate / (1 + keras.ops.cast(step, "float32"))
    def get_config(self):
        return {"rate": self.rate}

own = {"MyL2": MyL2, "Halves": Halves, "ClipTo": ClipTo, "InverseTime": InverseTime}
tiny_file, x_file, out_file, keras_file = sys.argv[1:5]
model = keras.models.load_model(tiny_file, custom_objects=own)
layer = model.layers[0]
assert isinstance(layer.kernel_regularizer, MyL2) and isinstance(layer.kernel_constraint, ClipTo)
assert isinstance(model.optimizer.learning_rate_schedule if hasattr(
    model.optimizer, "learning_rate_schedule") else model.optimizer._learning_rate, InverseTime)
np.save(out_file, model.predict(np.load(x_file), verbose=0))
model.save(keras_file)
"""


@pytest.mark.skipif(not KERAS_VENV_PYTHON.exists(), reason="no Keras venv at /tmp/kvenv")
def test_keras_reads_the_file_with_its_classes_and_tinynet_reads_keras_s(tmp_path):
    pytest.importorskip("h5py")
    model = trained_model()
    model.save(str(tmp_path / "tiny.keras"))
    np.save(tmp_path / "x.npy", X)
    run_in_keras_venv(KERAS_ROUND_TRIP, tmp_path / "tiny.keras", tmp_path / "x.npy",
                      tmp_path / "p.npy", tmp_path / "keras.keras")
    np.testing.assert_allclose(np.load(tmp_path / "p.npy"), model.predict(X, verbose=0),
                               rtol=1e-6)
    again = load_model(str(tmp_path / "keras.keras"), custom_objects=OWN)  # Keras's file
    check_rebuilt(model, again)
    np.testing.assert_allclose(again.predict(X, verbose=0), model.predict(X, verbose=0),
                               rtol=1e-6)


class L2(Regularizer):
    """A class of one's own that shares its name with tinynet's L2 (half its penalty)."""

    def __init__(self, strength=0.01):
        self.strength = strength

    def __call__(self, weight):
        return float(0.5 * self.strength * np.sum(weight ** 2))

    def gradient(self, weight):
        return self.strength * weight

    def get_config(self):
        return {"strength": self.strength}


def test_a_class_of_one_s_own_named_like_a_built_in_is_not_swapped(tmp_path):
    pytest.importorskip("h5py")
    model = Sequential([Dense(2, input_shape=(2,), kernel_initializer="ones",
                              kernel_regularizer=L2(1.0),
                              bias_initializer="ones",
                              bias_regularizer=tinynet.regularizers.L2(1.0))])
    assert model.regularization_loss() == 2.0 + 2.0  # 0.5 * 4 ones, then 2 ones
    entry = model.get_config()["layers"][1]["config"]["kernel_regularizer"]
    assert (entry["module"], entry["registered_name"]) == (None, "L2")  # as Keras writes it
    model.save(str(tmp_path / "m.keras"))
    with pytest.raises(ValueError, match="one of your own"):
        load_model(str(tmp_path / "m.keras"))  # not tinynet's L2 in silence
    again = load_model(str(tmp_path / "m.keras"), custom_objects={"L2": L2})
    assert type(again.layers[0].kernel_regularizer) is L2
    assert type(again.layers[0].bias_regularizer) is tinynet.regularizers.L2
    assert again.regularization_loss() == 4.0
