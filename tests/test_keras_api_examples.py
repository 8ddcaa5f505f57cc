"""What a trial of the Keras 3.15 API pages' loss and metric examples found, now agreeing
with Keras. Every expected number below was printed by Keras 3.15.1 (torch backend) for the
same code."""

import json

import numpy as np
import pytest

import tinynet
from tinynet import losses, metrics


def test_a_prediction_equal_to_a_threshold_is_not_positive_as_in_keras():
    # float32 0.3 is 0.30000001: above the float64 threshold 0.3, equal to the float32 one,
    # which is what Keras compares with
    auc = metrics.AUC(thresholds=[0.3, 0.5, 0.7])
    auc.update_state([0, 1, 1, 0, 1, 0, 1, 1], [0.1, 0.8, 0.4, 0.55, 0.9, 0.2, 0.65, 0.3])
    assert auc.result() == pytest.approx(0.7666667, abs=1e-6)  # Keras; 0.8333 before
    precision = metrics.Precision(thresholds=0.3)
    precision.update_state([1, 0, 1, 1], np.array([0.3, 0.3, 0.7, 0.1], np.float32))
    assert precision.result() == 1.0  # Keras; 0.667 before
    counts = metrics.TruePositives(thresholds=0.3)
    counts.update_state([1, 1], np.array([0.3, 0.31], np.float32))
    assert counts.result() == 1.0


@pytest.mark.parametrize("make", [
    lambda: losses.BinaryCrossentropy(axis=-1),
    lambda: losses.CategoricalCrossentropy(axis=-1, dtype=None),
    lambda: losses.SparseCategoricalCrossentropy(ignore_class=None),
    lambda: losses.MeanSquaredError(dtype="float32"),
    lambda: losses.Huber(delta=2.0, dtype=None),
])
def test_loss_classes_take_keras_settings_at_their_defaults(make):
    assert isinstance(make(), losses.Loss)


@pytest.mark.parametrize("make, words", [
    (lambda: losses.CategoricalCrossentropy(axis=1), "no axis=1"),
    (lambda: losses.SparseCategoricalCrossentropy(ignore_class=0), "no ignore_class=0"),
    (lambda: losses.MeanSquaredError(dtype="float16"), "no dtype='float16'"),
    (lambda: losses.BinaryCrossentropy(axsi=-1), "Did you mean 'axis'"),
])
def test_loss_classes_refuse_other_values_of_keras_settings_by_name(make, words):
    with pytest.raises(TypeError, match=words):
        make()


def test_keras_reductions_mean_and_mean_with_sample_weight():
    y, p = np.array([[0.0], [1.0], [1.0]]), np.array([[0.2], [0.7], [0.4]])
    w = np.array([1.0, 2.0, 0.5])
    # Keras: mean 0.13333334 (weighted) and 0.16333334; mean_with_sample_weight 0.11428572
    assert losses.MeanSquaredError(reduction="mean")(y, p, sample_weight=w) == \
        pytest.approx(0.1333333, abs=1e-6)
    assert losses.MeanSquaredError(reduction="mean")(y, p) == pytest.approx(0.1633333, abs=1e-6)
    assert losses.MeanSquaredError(reduction="mean_with_sample_weight")(
        y, p, sample_weight=w) == pytest.approx(0.1142857, abs=1e-6)
    assert losses.MeanSquaredError(reduction="mean_with_sample_weight")(y, p) == \
        pytest.approx(0.1633333, abs=1e-6)
    loss = losses.MeanSquaredError(reduction="mean_with_sample_weight")
    value, grad = loss.loss_and_gradient(y, p, w)
    assert value == pytest.approx(0.1142857, abs=1e-6)
    np.testing.assert_allclose(grad, w[:, None] * 2 * (p - y) / w.sum())


def test_one_sample_weight_for_all_samples_as_keras_broadcasts_it():
    bce = losses.BinaryCrossentropy()
    y, p = [[0.0], [1.0]], [[0.2], [0.7]]
    assert bce(y, p, sample_weight=2.0) == pytest.approx(0.5798185, abs=1e-6)  # Keras
    assert bce(y, p, sample_weight=[2.0]) == pytest.approx(0.5798185, abs=1e-6)
    mean = metrics.Mean()
    mean.update_state([1, 2, 3], sample_weight=0.5)
    assert mean.result() == 2.0


def test_one_weight_per_value_in_a_metric_as_keras_allows():
    y, p = [[1, 0], [1, 1]], [[0.9, 0.2], [0.3, 0.8]]
    w = [[1, 0], [0.5, 2]]
    accuracy = metrics.BinaryAccuracy()
    accuracy.update_state(y, p, sample_weight=w)
    assert accuracy.result() == pytest.approx(0.8571429, abs=1e-6)  # Keras
    rmse = metrics.RootMeanSquaredError()
    rmse.update_state(y, p, sample_weight=w)
    assert rmse.result() == pytest.approx(0.3093773, abs=1e-6)  # Keras
    with pytest.raises(ValueError, match="one weight per sample"):
        metrics.BinaryAccuracy().update_state(y, p, sample_weight=[1, 2, 3])


def test_one_weight_for_all_in_threshold_metrics_and_no_silent_reshape():
    precision = metrics.Precision()
    precision.update_state([1, 0, 1, 1], [0.9, 0.6, 0.4, 0.8], sample_weight=2.0)
    assert precision.result() == pytest.approx(2 / 3)  # Keras 3.15.1: 0.6666667
    with pytest.raises(ValueError, match=r"one per value \(shape \(2, 3\)\)"):
        metrics.Mean().update_state(np.ones((2, 3)), sample_weight=np.ones((3, 2)))


def test_root_mean_squared_error_checks_its_inputs_as_the_loss_does():
    rmse = metrics.RootMeanSquaredError()
    with pytest.raises(ValueError, match="expected y of shape"):
        rmse.update_state([0, 1, 2], np.ones((3, 3)))  # was a silent 1.1547
    with pytest.raises(TypeError, match="y_true must be numeric"):
        rmse.update_state(["a", "b"], [[1.0], [2.0]])
    rmse.update_state([1, 0, 1], [[0.9], [0.2], [0.3]])  # (N,) targets for (N, 1) outputs
    assert rmse.result() == pytest.approx(np.sqrt((0.01 + 0.04 + 0.49) / 3))


def test_sequential_takes_keras_s_positional_order():
    # Keras 3: Sequential(layers=None, trainable=True, name=None)
    model = tinynet.models.Sequential([tinynet.layers.Dense(2, input_shape=(3,))], False, "m")
    assert model.trainable is False and model.name == "m"
    with pytest.raises(TypeError, match=r"Sequential\(trainable=...\).*give the model's name "
                                        r"as name='a name where trainable goes'"):
        tinynet.models.Sequential([], "a name where trainable goes")


def test_an_initializer_called_without_dtype_follows_floatx_as_in_keras():
    # Keras 3: initializer(shape, dtype=None), None meaning floatx()
    tinynet.set_floatx("float64")
    try:
        for name in ("glorot_uniform", "he_normal", "zeros", "ones", "orthogonal"):
            assert tinynet.initializers.get(name)((2, 2)).dtype == np.float64, name
    finally:
        tinynet.set_floatx("float32")
    assert tinynet.initializers.get("glorot_uniform")((2, 2)).dtype == np.float32


def test_an_input_layer_rebuilds_from_its_config_batch_size_included():
    # Keras 3.15.1: InputLayer(shape=(4, 2), batch_size=8).get_config()["batch_shape"] is
    # (8, 4, 2); tinynet wrote None for the batch, and from_config refused its own config
    layer = tinynet.layers.InputLayer(shape=(4, 2), batch_size=8, name="pixels")
    config = layer.get_config()
    assert config["batch_shape"] == [8, 4, 2]
    again = tinynet.layers.InputLayer.from_config(config)
    assert (again.shape, again.name, again.get_config()) == ((8, 4, 2), "pixels", config)
    with pytest.raises(ValueError, match="sparse=True"):
        tinynet.layers.InputLayer.from_config({**config, "sparse": True})


def test_a_compile_config_without_an_optimizer_compiles_with_keras_s_default():
    # Keras writes no optimizer in compile_config after a legacy .h5 save; its load_model
    # then compiles with compile()'s default, RMSprop
    model = tinynet.models.Sequential([tinynet.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer="sgd", loss="mse")
    config = json.loads(model.to_json())
    del config["compile_config"]["optimizer"]
    again = tinynet.models.model_from_json(json.dumps(config))
    assert again.compiled and type(again.optimizer).__name__ == "RMSprop"
