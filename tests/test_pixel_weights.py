"""One sample weight per pixel, (N, H, W), for outputs per pixel (N, H, W, K): the loss and the
weighted metrics weigh each pixel, as in Keras 3 (the reference numbers come from
tests/data/make_keras_pixel_weights_reference.py)."""

import pathlib

import numpy as np
import pytest

import tinynet as keras

REFERENCE = np.load(pathlib.Path(__file__).parent / "data" / "keras_pixel_weights_reference.npz")
X, WEIGHTS = REFERENCE["x"], REFERENCE["weights"]
CASES = {  # as in the script
    "binary": (1, "sigmoid", "binary_crossentropy",
               ["accuracy", "precision", "recall", "auc", "binary_crossentropy"], "binary"),
    "onehot": (2, "softmax", "categorical_crossentropy",
               ["accuracy", "precision", "recall", "auc", "categorical_crossentropy"],
               "onehot"),
    "values": (2, "linear", "mean_squared_error",
               ["mae", "root_mean_squared_error", "mse"], "values"),
}


def compiled(case):
    k, activation, loss, metrics, _ = CASES[case]
    model = keras.Sequential([keras.Input(shape=(4, 4, 3)),
                              keras.layers.Conv2D(k, 1, activation=activation)])
    model.set_weights([REFERENCE["kernel"][..., :k], np.zeros(k, np.float32)])
    model.compile(optimizer=keras.optimizers.SGD(0.5), loss=loss, weighted_metrics=metrics)
    return model


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("shape", ["(N, H, W)", "(N, H, W, 1)"])
def test_evaluate_weighs_each_pixel_as_keras_does(case, shape):
    weights = WEIGHTS if shape == "(N, H, W)" else WEIGHTS[..., None]
    logs = compiled(case).evaluate(X, REFERENCE[CASES[case][4]], sample_weight=weights,
                                   verbose=0, return_dict=True)
    expected = dict(zip(REFERENCE[f"{case}_names"], REFERENCE[f"{case}_evaluate"],
                        strict=True))
    assert set(logs) == set(expected)
    for name, value in expected.items():
        assert logs[name] == pytest.approx(value, rel=2e-6, abs=1e-7), name


@pytest.mark.parametrize("case", CASES)
def test_fit_trains_on_weights_per_pixel_as_keras_does(case):
    model = compiled(case)
    history = model.fit(X, REFERENCE[CASES[case][4]], sample_weight=WEIGHTS, batch_size=4,
                        epochs=2, shuffle=False, validation_split=0.25, verbose=0).history
    names = list(REFERENCE[f"{case}_history_names"])
    assert sorted(history) == sorted(names)
    for name, values in zip(names, REFERENCE[f"{case}_history"], strict=True):
        np.testing.assert_allclose(history[name], values, rtol=1e-5, atol=1e-6, err_msg=name)
    kernel, bias = model.get_weights()
    np.testing.assert_allclose(kernel, REFERENCE[f"{case}_kernel"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bias, REFERENCE[f"{case}_bias"], rtol=1e-5, atol=1e-6)


def test_the_loss_divides_by_the_pixels_and_the_metrics_by_the_weights():
    # by hand, from the predictions: the two divisors Keras uses
    model = compiled("binary")
    y = REFERENCE["binary"]
    p = np.clip(model.predict(X, verbose=0)[..., 0].astype(np.float64), 1e-7, 1 - 1e-7)
    pixel_losses = -(y[..., 0] * np.log(p) + (1 - y[..., 0]) * np.log(1 - p))
    logs = model.evaluate(X, y, sample_weight=WEIGHTS, verbose=0, return_dict=True)
    assert logs["loss"] == pytest.approx((WEIGHTS * pixel_losses).sum() / pixel_losses.size,
                                         rel=1e-5)
    assert logs["binary_crossentropy"] == pytest.approx(
        (WEIGHTS * pixel_losses).sum() / WEIGHTS.sum(), rel=1e-5)
    correct = (p > 0.5) == (y[..., 0] == 1)
    assert logs["accuracy"] == pytest.approx((WEIGHTS * correct).sum() / WEIGHTS.sum(),
                                             rel=1e-6)


def test_a_weight_of_zero_leaves_a_pixel_out_of_the_gradient():
    # the pixels of weight 0 may hold any target: training must not see them
    model, twin = compiled("values"), compiled("values")
    weights = np.ones((8, 4, 4), np.float32)
    weights[:, :2] = 0.0
    y = REFERENCE["values"].copy()
    changed = y.copy()
    changed[:, :2] = 100.0
    model.train_on_batch(X, y, sample_weight=weights)
    twin.train_on_batch(X, changed, sample_weight=weights)
    for mine, other in zip(model.get_weights(), twin.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, other)


def test_the_losses_called_by_hand_take_weights_per_pixel():
    rng = np.random.default_rng(0)
    y = REFERENCE["onehot"]
    p = keras.activations.softmax(rng.normal(size=(8, 4, 4, 2)))
    loss = keras.losses.CategoricalCrossentropy()
    per_pixel = keras.losses.CategoricalCrossentropy(reduction="none")(y, p)
    assert per_pixel.shape == (8, 4, 4)
    assert float(loss(y, p, sample_weight=WEIGHTS)) == pytest.approx(
        float((WEIGHTS * per_pixel).sum() / per_pixel.size), rel=1e-6)
    weighted = keras.losses.CategoricalCrossentropy(reduction="none")(
        y, p, sample_weight=WEIGHTS)
    np.testing.assert_allclose(weighted, WEIGHTS * per_pixel, rtol=1e-6)
    mean = keras.losses.CategoricalCrossentropy(reduction="mean_with_sample_weight")
    assert float(mean(y, p, sample_weight=WEIGHTS)) == pytest.approx(
        float((WEIGHTS * per_pixel).sum() / WEIGHTS.sum()), rel=1e-6)
    # and the gradient: the weights scale each pixel's row
    _, grad = loss.loss_and_gradient(y.astype(np.float64), p.astype(np.float64), WEIGHTS)
    _, plain = loss.loss_and_gradient(y.astype(np.float64), p.astype(np.float64))
    np.testing.assert_allclose(grad, plain * WEIGHTS[..., None], rtol=1e-6)


@pytest.mark.parametrize("weights", [np.ones((8, 4)), np.ones((8, 4, 4, 2)), np.ones((8, 16)),
                                     np.ones((8, 4, 3))])
def test_weights_of_another_shape_are_refused_with_the_shapes_that_fit(weights):
    with pytest.raises(ValueError, match=r"sample_weight must hold one weight per sample, "
                                         r"shape \(8,\), or one per value of the loss, "
                                         r"shape \(8, 4, 4\)"):
        compiled("values").fit(X, REFERENCE["values"], sample_weight=weights, verbose=0)
    loss = keras.losses.MeanSquaredError()
    with pytest.raises(ValueError, match=r"one per value of the loss, shape \(8, 4, 4\)"):
        loss(REFERENCE["values"], REFERENCE["values"], sample_weight=weights)


def test_dense_outputs_still_take_one_weight_per_sample_only():
    # for outputs (N, K) each loss value is a whole sample's: Keras fails inside on (N, K)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"one weight per sample, shape \(8,\); got \(8, 2\)"):
        model.fit(np.ones((8, 3)), np.ones((8, 2)), sample_weight=np.ones((8, 2)), verbose=0)
