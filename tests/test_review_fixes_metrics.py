"""The review's fixes to metrics, losses, pooling and the shared helpers.

  1. one formula per loss: the metric functions ARE tinynet.losses' per-sample functions (as
     keras.metrics.mean_squared_error is keras.losses.mean_squared_error), one EPSILON;
  2. a loss function given as a metric is saved and loaded (by tinynet, and by Keras);
  3. metrics.get('huber') says it is a loss's name, which Keras refuses as a metric string too;
  4. a loss's from_config with a Keras-only setting (axis=1) says what tinynet does instead;
  5. the confusion metrics take Keras's per-value weights and refuse others clearly;
  6. GlobalMaxPooling2D shares the gradient among tied maxima, as Keras does;
  7. one snake_case (tinynet.validation), used by saving and optimizers;
  8. metrics' axis check is check_metric_axis (batchnorm's check_last_axis is another one).

The Keras numbers written here were printed by Keras 3.15.1 on its torch backend (torch
2.13); the live tests recompute them when Keras can be imported, and skip otherwise.
"""

import json
import math
import warnings
import zipfile

import numpy as np
import pytest

import tinynet
from tinynet import losses, metrics, optimizers, saving, validation
from tinynet.layers import Dense, GlobalMaxPooling2D, MaxPooling2D
from tinynet.models import Sequential
from tinynet.stats import Comparison

SHARED = ("mean_absolute_error", "mean_squared_error", "mean_absolute_percentage_error",
          "mean_squared_logarithmic_error", "log_cosh", "kl_divergence", "poisson", "hinge",
          "squared_hinge", "huber", "binary_crossentropy", "categorical_crossentropy",
          "sparse_categorical_crossentropy")


def regression_data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(16, 3)).astype(np.float32)
    y = rng.uniform(0.1, 2.0, size=(16, 2)).astype(np.float32)
    return x, y


# -- 1. one formula per loss -------------------------------------------------------------------

@pytest.mark.parametrize("name", SHARED)
def test_a_metric_function_that_is_a_loss_is_the_loss_function_itself(name):
    assert getattr(metrics, name) is getattr(losses, name)
    assert metrics.FUNCTIONS[name] is getattr(losses, name)


def test_one_epsilon_and_one_hinge_target_conversion():
    assert metrics.EPSILON is losses.EPSILON
    assert not hasattr(metrics, "hinge_targets")
    # the conversion (0/1 -> -1/+1) is Hinge.prepare_targets's, and the metric uses it
    y, p = np.array([[0.0], [1.0]]), np.array([[0.5], [0.5]])
    np.testing.assert_allclose(metrics.Hinge()(y, p), 1.0)  # mean of 1.5 and 0.5


def test_metric_classes_give_the_losses_numbers():
    rng = np.random.default_rng(3)
    y = rng.uniform(0.0, 1.0, size=(6, 3))
    p = rng.uniform(0.01, 1.0, size=(6, 3))
    pairs = [(metrics.MeanSquaredLogarithmicError(), losses.MeanSquaredLogarithmicError()),
             (metrics.MeanAbsolutePercentageError(), losses.MeanAbsolutePercentageError()),
             (metrics.LogCoshError(), losses.LogCosh()), (metrics.KLDivergence(),
                                                          losses.KLDivergence()),
             (metrics.Poisson(), losses.Poisson()), (metrics.Hinge(), losses.Hinge()),
             (metrics.SquaredHinge(), losses.SquaredHinge())]
    for metric, loss in pairs:
        # the metric reports its float64 mean rounded to float32, as Keras's result reads
        assert metric(y, p) == float(np.float32(loss(y, p))), type(metric).__name__


def test_a_metric_of_nan_predictions_is_nan_not_an_error():
    """A model whose weights blew up predicts NaN: its metrics report NaN (as in Keras)."""
    y = np.array([[1.0], [0.0]], np.float32)
    p = np.array([[np.nan], [0.5]], np.float32)
    for metric in (metrics.MeanSquaredError(), metrics.BinaryCrossentropy(),
                   metrics.MeanSquaredLogarithmicError()):
        assert math.isnan(metric(y, p)), type(metric).__name__
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile("sgd", "mse", metrics=["mse", "binary_crossentropy"])
    weights = model.get_weights()
    weights[0][:] = np.nan
    model.set_weights(weights)
    x = np.ones((4, 3), np.float32)
    logs = model.evaluate(x, np.ones((4, 1), np.float32), verbose=0, return_dict=True)
    assert all(math.isnan(value) for value in logs.values())


def test_targets_that_do_not_go_with_the_predictions_are_still_refused():
    with pytest.raises(ValueError, match="same number of samples"):
        metrics.mean_squared_error(np.ones((3, 2)), np.ones((4, 2)))


@pytest.mark.parametrize("name", ["mean_absolute_percentage_error",
                                  "mean_squared_logarithmic_error", "log_cosh",
                                  "kl_divergence", "poisson", "hinge", "squared_hinge", "huber"])
def test_the_shared_functions_give_keras_numbers(name):
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(7)
    y = rng.uniform(0.0, 1.5, size=(5, 3)).astype(np.float32)
    if name in ("hinge", "squared_hinge"):
        y = (y > 0.7).astype(np.float32)  # 0/1 targets, converted to -1/+1
    p = rng.uniform(0.05, 1.5, size=(5, 3)).astype(np.float32)
    expected = np.asarray(keras.ops.convert_to_numpy(getattr(keras.metrics, name)(y, p)))
    np.testing.assert_allclose(getattr(metrics, name)(y, p), expected, rtol=1e-5, atol=1e-6)


# -- 2. a loss function as a metric is saved --------------------------------------------------

def compiled_with_loss_functions():
    tinynet.set_seed(0)
    model = Sequential([Dense(2, input_shape=(3,))])
    model.compile("sgd", "mse", metrics=[losses.mean_squared_error, losses.huber,
                                         losses.log_cosh])
    return model


def test_a_loss_function_as_a_metric_is_saved_and_loaded(tmp_path):
    pytest.importorskip("h5py")
    x, y = regression_data()
    model = compiled_with_loss_functions()
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "loss_functions.keras"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "left out of the saved compile settings"
        model.save(path)
    with zipfile.ZipFile(path) as archive:
        saved = json.loads(archive.read("config.json"))["compile_config"]["metrics"]
    # what Keras 3.15.1 writes for keras.losses.mean_squared_error given as a metric
    assert saved[0] == {"module": "builtins", "class_name": "function",
                        "config": "mean_squared_error", "registered_name": "function"}
    assert [entry["config"] for entry in saved] == ["mean_squared_error", "huber", "log_cosh"]
    loaded = tinynet.models.load_model(path)
    assert [metric.fn for metric in loaded.metrics] == [losses.mean_squared_error, losses.huber,
                                                        losses.log_cosh]
    before = model.evaluate(x, y, verbose=0, return_dict=True)
    after = loaded.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(after) == ["huber", "log_cosh", "loss", "mean_squared_error"]
    for key, value in before.items():
        assert after[key] == pytest.approx(value, rel=1e-6), key


def test_keras_loads_a_loss_function_metric_tinynet_saved(tmp_path):
    pytest.importorskip("h5py")
    keras = pytest.importorskip("keras")
    x, y = regression_data()
    model = compiled_with_loss_functions()
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "loss_functions.keras"
    model.save(path)
    keras_model = keras.saving.load_model(path)
    keras_logs = keras_model.evaluate(x, y, verbose=0, return_dict=True)
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(keras_logs) == sorted(logs)
    for key, value in logs.items():
        assert keras_logs[key] == pytest.approx(value, rel=1e-5), key


# -- 3. 'huber' is a loss's name, not a metric string -----------------------------------------

@pytest.mark.parametrize("name", ["huber", "binary_focal_crossentropy",
                                  "categorical_focal_crossentropy"])
def test_a_loss_name_as_a_metric_string_is_called_what_it_is(name):
    with pytest.raises(ValueError, match="not a metric string") as caught:
        metrics.get(name, "mse")
    assert "Keras metric tinynet does not have" not in str(caught.value)
    assert "Could not interpret metric identifier" in str(caught.value)


def test_huber_as_a_metric_is_the_loss_function():
    metric = metrics.get(losses.huber)
    y, p = np.array([[0.0], [0.0]]), np.array([[0.5], [3.0]])
    assert metric(y, p) == pytest.approx((0.125 + 2.5) / 2)


@pytest.mark.parametrize("name", ["huber", "binary_focal_crossentropy"])
def test_keras_refuses_a_loss_name_as_a_metric_string_too(name):
    keras = pytest.importorskip("keras")
    with pytest.raises(ValueError, match="Could not interpret metric identifier"):
        keras.metrics.get(name)


# -- 4. Keras-only settings of a loss ---------------------------------------------------------

def test_from_config_with_another_axis_says_tinynet_uses_the_last_axis():
    with pytest.raises(TypeError, match=r"tinynet's CategoricalCrossentropy has no axis=1 "
                                        r"\(Keras's axis .*tinynet uses the last axis"):
        losses.CategoricalCrossentropy.from_config({"axis": 1})
    with pytest.raises(TypeError, match="ignore_class=0"):
        losses.SparseCategoricalCrossentropy.from_config({"ignore_class": 0})
    # at Keras's defaults they are dropped
    loss = losses.CategoricalCrossentropy.from_config({"axis": -1, "label_smoothing": 0.1})
    assert loss.label_smoothing == 0.1


def test_the_loss_functions_take_keras_axis_at_its_default_only():
    y, p = np.eye(3), np.full((3, 3), 1 / 3)
    np.testing.assert_allclose(losses.categorical_crossentropy(y, p, axis=-1), np.log(3))
    with pytest.raises(TypeError, match="has no axis=0"):
        losses.categorical_crossentropy(y, p, axis=0)
    with pytest.raises(TypeError, match="ignore_class"):
        metrics.sparse_categorical_crossentropy(np.arange(3), p, ignore_class=1)


# -- 5. sample weights of the confusion metrics -------------------------------------------------

Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], np.float32)
P = np.array([[0.9, 0.2], [0.6, 0.7], [0.3, 0.8], [0.1, 0.95]], np.float32)
W = np.array([[1, 2], [3, 4], [0.5, 1], [2, 0]], np.float32)  # one weight per value
# Keras 3.15.1 (torch): metric.update_state(Y, P, sample_weight=W); metric.result()
KERAS_WEIGHTED = {
    "Precision": 0.6666666865348816, "Recall": 0.9230769276618958, "TruePositives": 6.0,
    "FalsePositives": 3.0, "TrueNegatives": 4.0, "FalseNegatives": 0.5,
    "AUC": 0.9670329689979553,
}


@pytest.mark.parametrize("class_name", KERAS_WEIGHTED)
def test_confusion_metrics_take_one_weight_per_value_as_keras_does(class_name):
    metric = getattr(metrics, class_name)()
    metric.update_state(Y, P, sample_weight=W)
    assert metric.result() == pytest.approx(KERAS_WEIGHTED[class_name], rel=1e-6)


def test_more_confusion_settings_with_weights_per_value():
    pr = metrics.AUC(curve="PR")
    pr.update_state(Y, P, sample_weight=W)
    assert pr.result() == pytest.approx(0.975045919418335, rel=1e-6)
    listed = metrics.AUC(thresholds=[0.25, 0.5, 0.75])
    listed.update_state(Y, P, sample_weight=W)
    assert listed.result() == pytest.approx(0.8351647853851318, rel=1e-6)
    precision = metrics.Precision(thresholds=[0.25, 0.5, 0.75])
    precision.update_state(Y, P, sample_weight=W)
    np.testing.assert_allclose(precision.result(), [0.6842105388641357, 0.6666666865348816,
                                                    1.0], rtol=1e-6)
    ones = metrics.Precision()
    ones.update_state(Y, P, sample_weight=np.ones((4, 2)))  # Keras: 0.6
    assert ones.result() == pytest.approx(0.6)


@pytest.mark.parametrize("class_name", KERAS_WEIGHTED)
@pytest.mark.parametrize("shape", [(8,), (3,), (4, 3), (2, 4)])
def test_confusion_metrics_refuse_weights_of_another_shape_clearly(class_name, shape):
    metric = getattr(metrics, class_name)()
    with pytest.raises(ValueError, match=rf"{class_name}.update_state: sample_weight needs one "
                                         rf"weight per sample \(4\), one per value"):
        metric.update_state(Y, P, sample_weight=np.ones(shape))


def test_per_sample_weights_still_work():
    by_rows = metrics.Precision()
    by_rows.update_state(Y, P, sample_weight=np.array([1, 2, 3, 4.0]))
    column = metrics.Precision()
    column.update_state(Y, P, sample_weight=np.array([[1], [2], [3], [4.0]]))
    assert by_rows.result() == column.result() == pytest.approx(0.5)  # Keras: 0.5


@pytest.mark.parametrize("class_name", KERAS_WEIGHTED)
def test_confusion_metrics_weighted_per_value_match_live_keras(class_name):
    keras = pytest.importorskip("keras")
    theirs = getattr(keras.metrics, class_name)()
    theirs.update_state(Y, P, sample_weight=W)
    ours = getattr(metrics, class_name)()
    ours.update_state(Y, P, sample_weight=W)
    assert ours.result() == pytest.approx(float(theirs.result()), rel=1e-6)


# -- 6. GlobalMaxPooling2D's gradient on ties ---------------------------------------------------

def global_max_gradient(x, g):
    layer = GlobalMaxPooling2D(dtype=str(x.dtype))
    layer.forward(x, training=True)
    return layer.backward(g)


def test_global_max_pooling_shares_a_tie_as_keras_does():
    x = np.array([[1, 1], [0, 1]], np.float32).reshape(1, 2, 2, 1)
    dx = global_max_gradient(x, np.ones((1, 1), np.float32))
    # Keras 3.15.1 (torch): GlobalMaxPooling2D()(x).sum().backward() -> x.grad
    np.testing.assert_allclose(dx.reshape(-1), [1 / 3, 1 / 3, 0, 1 / 3], rtol=1e-6)
    assert dx.dtype == np.float32


def test_global_max_pooling_shares_ties_per_channel_and_scales_by_g():
    x = np.array([[[3, 3], [1, 2]], [[3, 0], [3, 5]]], np.float64).reshape(1, 2, 2, 2)
    dx = global_max_gradient(x, np.array([[1.0, 2.0]]))
    # Keras 3.15.1 (torch), float64, loss sum(y * [1, 2]): channel 0 has three 3s, channel
    # 1 one 5
    expected = [[[[1 / 3, 0], [0, 0]], [[1 / 3, 0], [1 / 3, 2]]]]
    np.testing.assert_allclose(dx, expected, rtol=1e-12)
    x = np.array([[2, 2, 2], [0, 2, 1], [2, 2, 0]], np.float32).reshape(1, 3, 3, 1)
    dx = global_max_gradient(x, np.ones((1, 1), np.float32))
    np.testing.assert_allclose(dx.reshape(3, 3), [[1 / 6, 1 / 6, 1 / 6], [0, 1 / 6, 0],
                                                  [1 / 6, 1 / 6, 0]], rtol=1e-6)


@pytest.mark.parametrize("keepdims", [False, True])
def test_global_max_pooling_gradient_matches_finite_differences_without_ties(keepdims):
    rng = np.random.default_rng(5)
    x = rng.normal(size=(2, 3, 4, 3))  # float64, no ties
    g = rng.normal(size=(2, 1, 1, 3) if keepdims else (2, 3))
    layer = GlobalMaxPooling2D(keepdims=keepdims, dtype="float64")

    def loss(values):
        return float(np.sum(layer.forward(values) * g))

    layer.forward(x, training=True)
    dx = layer.backward(g)
    numeric = np.zeros_like(x)
    h = 1e-6
    for index in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[index] = h
        numeric[index] = (loss(x + step) - loss(x - step)) / (2 * h)
    np.testing.assert_allclose(dx, numeric, atol=1e-8)


def test_global_max_pooling_with_a_nan_channel_gives_no_warning():
    x = np.full((1, 2, 2, 1), np.nan, np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dx = global_max_gradient(x, np.ones((1, 1), np.float32))
    assert np.all(dx == 0)


def test_max_pooling_still_sends_a_tie_to_the_first_pixel_as_keras_does():
    x = np.array([[1, 1], [0, 1]], np.float32).reshape(1, 2, 2, 1)
    layer = MaxPooling2D(2)
    layer.forward(x, training=True)
    dx = layer.backward(np.ones((1, 1, 1, 1), np.float32))
    # Keras 3.15.1 (torch): MaxPooling2D(2)(x).sum().backward() -> [1, 0, 0, 0]
    np.testing.assert_array_equal(dx.reshape(-1), [1, 0, 0, 0])


def test_pooling_gradients_on_ties_match_live_keras():
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("autograd through torch needs KERAS_BACKEND=torch")
    import torch

    rng = np.random.default_rng(2)
    x = rng.integers(0, 3, size=(3, 4, 4, 2)).astype(np.float32)  # many ties
    g = rng.normal(size=(3, 2)).astype(np.float32)
    tensor = torch.tensor(x, requires_grad=True)
    (keras.layers.GlobalMaxPooling2D()(tensor) * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(global_max_gradient(x, g), tensor.grad.numpy(), rtol=1e-6)

    g4 = rng.normal(size=(3, 2, 2, 2)).astype(np.float32)
    tensor = torch.tensor(x, requires_grad=True)
    (keras.layers.MaxPooling2D(2)(tensor) * torch.tensor(g4)).sum().backward()
    layer = MaxPooling2D(2)
    layer.forward(x, training=True)
    np.testing.assert_allclose(layer.backward(g4), tensor.grad.numpy(), rtol=1e-6)


# -- 7. one snake_case ----------------------------------------------------------------------

def test_one_snake_case_shared_by_saving_and_optimizers():
    assert saving.snake_case is validation.snake_case
    assert optimizers.snake_case is validation.snake_case
    assert not hasattr(saving, "keras_snake_case")
    examples = {"BatchNormalization": "batch_normalization", "Conv2D": "conv2d",
                "MaxPooling2D": "max_pooling2d", "ReLU": "re_lu", "RMSprop": "rm_sprop",
                "AdamW": "adam_w"}
    for class_name, expected in examples.items():
        assert validation.snake_case(class_name) == expected
    assert optimizers.RMSprop().name == "rm_sprop"


# -- 8. the metrics' axis check has its own name --------------------------------------------

def test_the_metrics_axis_check_is_check_metric_axis():
    assert metrics.check_metric_axis(-1, "here") == -1
    with pytest.raises(ValueError, match="last axis"):
        metrics.check_metric_axis(1, "CategoricalCrossentropy(axis=...)")
    assert not hasattr(metrics, "check_last_axis")


# -- 9. the docstring's example of Comparison.shown --------------------------------------------

def test_comparison_shown_prints_the_docstrings_example():
    def shown(a, b, fmt):
        return Comparison("x", ("a", "b"), a, b, a - b, 0.01, 5, False, fmt).shown()

    assert shown(0.80957, 0.79220, "{:.3f}") == ("0.8096", "0.7922", "+0.017")
    assert shown(0.10157, 0.13612, "{:.1%}") == ("10.16", "13.61", "-3.5")


@pytest.mark.parametrize("function", ["sparse_categorical_accuracy",
                                      "sparse_top_k_categorical_accuracy"])
def test_sparse_metrics_refuse_one_hot_targets_instead_of_reading_their_first_column(function):
    one_hot = np.eye(3)[[0, 1, 2, 1]]
    with pytest.raises(ValueError, match=r"one integer label per row of y_pred.*\(4, 3\).*sparse_"):
        getattr(metrics, function)(one_hot, np.random.default_rng(0).random((4, 3)))
