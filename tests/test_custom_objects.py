"""Losses and metrics of your own in .keras files: written as Keras 3 writes them (class name
and get_config) and rebuilt by load_model(path, custom_objects={name: class}), as in Keras.
tests/data/make_keras_custom_objects_reference.py made the Keras file and its numbers."""

import pathlib
import warnings

import numpy as np
import pytest

import tinynet
from tinynet.layers import Dense
from tinynet.losses import Loss
from tinynet.metrics import Metric
from tinynet.models import Sequential, load_model

DATA = pathlib.Path(__file__).parent / "data"
REFERENCE = np.load(DATA / "keras_custom_objects_reference.npz")


class CustomMSE(Loss):
    """The guide's loss, with the gradient tinynet needs written by hand."""

    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = np.mean((y_true - y_pred) ** 2, axis=-1)
        return mse + self.regularization_factor * np.mean((0.5 - y_pred) ** 2, axis=-1)

    def sample_gradient(self, y_true, y_pred):
        k = y_pred.shape[-1]
        return (2 * (y_pred - y_true) + 2 * self.regularization_factor * (y_pred - 0.5)) / k

    def get_config(self):
        return {"regularization_factor": self.regularization_factor, "name": self.name}


class Positives(Metric):
    """How many predictions are above 0.5, over the epoch."""

    def __init__(self, name="positives", **kwargs):
        super().__init__(name=name, **kwargs)

    def reset_state(self):
        self.count = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.count += float(np.sum(np.asarray(y_pred) > 0.5))

    def result(self):
        return self.count


def my_mae(y_true, y_pred):
    return np.mean(np.abs(y_true - y_pred), axis=-1)


OWN = {"CustomMSE": CustomMSE, "Positives": Positives, "my_mae": my_mae}


def test_a_keras_file_with_a_loss_and_metrics_of_your_own_loads_with_custom_objects():
    model = load_model(DATA / "keras_custom_objects.keras", custom_objects=OWN)
    assert model.compiled and isinstance(model.loss, CustomMSE)
    assert model.loss.regularization_factor == 0.3  # from the file's config, not the default
    logs = model.evaluate(REFERENCE["x"], REFERENCE["y"], batch_size=16, verbose=0,
                          return_dict=True)
    expected = dict(zip(REFERENCE["names"], REFERENCE["evaluate"], strict=True))
    assert set(logs) == set(expected)
    for name, value in expected.items():
        assert logs[name] == pytest.approx(value, rel=1e-6), name


def test_without_custom_objects_the_file_loads_uncompiled_and_says_what_to_pass():
    with pytest.warns(UserWarning, match=r"uncompiled.*custom_objects=\{'CustomMSE': "
                                         r"CustomMSE\}"):
        model = load_model(DATA / "keras_custom_objects.keras")
    assert not model.compiled


def test_a_model_with_objects_of_your_own_goes_through_a_file_and_back(tmp_path):
    tinynet.set_seed(0)
    model = Sequential([Dense(4, activation="relu", input_shape=(3,)), Dense(1)])
    model.compile(optimizer="adam", loss=CustomMSE(0.25), metrics=[Positives(), my_mae])
    x, y = REFERENCE["x"], REFERENCE["y"]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    with pytest.warns(UserWarning, match="custom_objects"):  # said when saving, too
        model.save(tmp_path / "own.keras")
    loaded = load_model(tmp_path / "own.keras", custom_objects=OWN)
    assert loaded.loss.regularization_factor == 0.25
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx(
        model.evaluate(x, y, verbose=0, return_dict=True))
    assert loaded.optimizer.iterations == model.optimizer.iterations
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = loaded.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False).history
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    np.testing.assert_allclose(loaded.get_weights()[0], model.get_weights()[0], rtol=1e-6)
    assert set(again) == {"loss", "positives", "my_mae"}


def test_custom_objects_refuses_what_is_not_a_class_or_function():
    with pytest.raises(TypeError, match=r"'A' must be a class or a function, got 1"):
        load_model(DATA / "keras_custom_objects.keras", custom_objects={"A": 1})
    with pytest.raises(TypeError, match=r"must be a dict"):
        load_model(DATA / "keras_custom_objects.keras", custom_objects=[CustomMSE])


def test_a_wrapped_metric_function_of_your_own_comes_back_from_custom_objects(tmp_path):
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer="adam", loss="mse",
                  metrics=[tinynet.metrics.MeanMetricWrapper(my_mae, name="wrapped")])
    model.save(tmp_path / "w.keras")
    with pytest.warns(UserWarning, match=r"custom_objects=\{'my_mae': my_mae\} to load_model "
                                         r"or model_from_json"):
        assert load_model(tmp_path / "w.keras").metrics_names == ["loss"]
    loaded = load_model(tmp_path / "w.keras", custom_objects={"my_mae": my_mae})
    assert loaded.metrics_names == ["loss", "wrapped"] and loaded.metrics[0].fn is my_mae


def test_a_clone_of_a_model_with_objects_of_your_own_is_compiled_with_them():
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer="adam", loss=CustomMSE(0.25), metrics=[Positives(), my_mae])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        clone = tinynet.models.clone_model(model)
    assert isinstance(clone.loss, CustomMSE) and clone.loss is not model.loss
    assert clone.loss.regularization_factor == 0.25
    assert clone.metrics_names == model.metrics_names
