"""tinynet.gradcheck: it passes correct gradients, catches wrong ones, and checks whole models."""

import numpy as np
import pytest

import tinynet
from tinynet import gradcheck
from tinynet.layers import Activation, BatchNormalization, Dense, Dropout
from tinynet.models import Sequential


class BatchNormWithoutMeanPath(BatchNormalization):
    """A classic student mistake: dx = gamma * g / sqrt(var + eps), forgetting that every
    sample also moves the batch mean and variance."""

    def backward(self, grad_output, *args, **kwargs):
        super().backward(grad_output, *args, **kwargs)
        return grad_output * self.params["gamma"] * self.inv_std


class DenseWithMeanBiasGradient(Dense):
    """Another mistake: the bias gradient is a mean instead of a sum over the batch."""

    def backward_from_logits(self, grad_z, *args, **kwargs):
        grad_input = super().backward_from_logits(grad_z, *args, **kwargs)
        self.grads["bias"][...] = grad_z.mean(axis=0)
        return grad_input


def random_x(shape, seed=1):
    return np.random.default_rng(seed).normal(1.0, 2.0, size=shape)


def test_relative_error_is_zero_for_equal_arrays_and_scale_free():
    a = np.array([1.0, -2.0, 3.0])
    assert gradcheck.relative_error(a, a) == 0.0
    assert gradcheck.relative_error(a, 1.01 * a) == pytest.approx(
        gradcheck.relative_error(1e6 * a, 1.01e6 * a))


def test_relative_error_calls_two_round_off_sized_gradients_equal():
    # a Dense bias right before BN: both gradients are round-off, the check must not fail
    assert gradcheck.relative_error(np.array([1e-12]), np.array([-3e-11])) == 0.0


def test_numerical_gradient_of_a_known_function():
    w = np.array([1.0, -2.0, 0.5])
    grad = gradcheck.numerical_gradient(lambda: float(np.sum(w ** 3)), w)
    np.testing.assert_allclose(grad, 3 * w ** 2, rtol=1e-8)
    np.testing.assert_array_equal(w, [1.0, -2.0, 0.5])  # restored


def test_a_batchnorm_backward_without_the_mean_path_is_caught():
    layer = BatchNormWithoutMeanPath(dtype="float64")
    errors = gradcheck.check_layer(layer, random_x((8, 3)))
    assert errors["input"] > 1e-2
    assert errors["gamma"] < 1e-6  # the parameter gradients are still right


def test_the_mean_path_mistake_is_caught_through_a_dense_layer_too():
    tinynet.set_seed(0)
    model = Sequential([Dense(4, input_shape=(3,), dtype="float64"),
                        BatchNormWithoutMeanPath(dtype="float64"),
                        Dense(1, activation="sigmoid", dtype="float64")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    y = (random_x((10, 1), seed=2) > 1).astype(np.float64)
    errors = gradcheck.check_model(model, random_x((10, 3)), y)
    assert errors["dense/kernel"] > 1e-2


def test_a_wrong_bias_gradient_is_caught():
    tinynet.set_seed(0)
    errors = gradcheck.check_layer(DenseWithMeanBiasGradient(3, dtype="float64"),
                                   random_x((6, 2)))
    assert errors["bias"] > 1e-2
    assert errors["kernel"] < 1e-6


def test_check_layer_keeps_the_dropout_mask_fixed_and_restores_the_generator():
    tinynet.set_seed(4)
    before = tinynet.get_rng().bit_generator.state
    errors = gradcheck.check_layer(Dropout(0.5, dtype="float64"), random_x((5, 4)))
    assert errors["input"] < 1e-9
    assert tinynet.get_rng().bit_generator.state == before


def test_gradient_checks_refuse_float32():
    with pytest.raises(TypeError, match="float64"):
        gradcheck.check_layer(Dense(2), random_x((3, 2)))


def article_model_float64(**dense_kwargs):
    tinynet.set_seed(0)
    model = Sequential([
        Dense(64, input_shape=(20,), dtype="float64", **dense_kwargs),
        BatchNormalization(dtype="float64"), Activation("relu", dtype="float64"),
        Dense(32, dtype="float64", **dense_kwargs), BatchNormalization(dtype="float64"),
        Activation("relu", dtype="float64"),
        Dense(1, activation="sigmoid", dtype="float64", **dense_kwargs),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def smallest_relu_input(model, x):
    """How close any ReLU input comes to the kink at 0 (training mode)."""
    closest = np.inf
    for layer in model.layers:
        if isinstance(layer, Activation) and layer.activation == "relu":
            closest = min(closest, float(np.min(np.abs(x))))
        x = layer.forward(x, training=True)
    return closest


def test_the_whole_article_model_passes_a_gradient_check():
    # small batch so that the check stays quick: 12 samples, every weight of the model
    x = random_x((12, 20), seed=5)
    y = (np.random.default_rng(6).random((12, 1)) > 0.5).astype(np.float64)
    model = article_model_float64(bias_initializer="random_normal")
    # a finite difference that straddles max(z, 0) at z = 0 measures the wrong slope: the
    # check is only meaningful when no ReLU input sits within ~1e-3 of the kink
    assert smallest_relu_input(model, x) > 1e-3
    errors = gradcheck.check_model(model, x, y)
    assert set(errors) == {"input", "dense/kernel", "dense/bias", "batch_normalization/gamma",
                           "batch_normalization/beta", "dense_1/kernel", "dense_1/bias",
                           "batch_normalization_1/gamma", "batch_normalization_1/beta",
                           "dense_2/kernel", "dense_2/bias"}
    for name, error in errors.items():
        assert error < 1e-6, f"{name}: {error:.2e}"


def test_a_dense_bias_right_before_batchnorm_gets_a_zero_gradient():
    model = article_model_float64(bias_initializer="random_normal")
    x = random_x((16, 20), seed=7)
    y = (np.random.default_rng(8).random((16, 1)) > 0.5).astype(np.float64)
    model.backward_from_loss(y, model.forward(x, training=True))
    assert np.max(np.abs(model.layers[0].grads["bias"])) < 1e-15
    assert np.max(np.abs(model.layers[0].grads["kernel"])) > 1e-3


def test_compare_reports_one_line_with_the_place_of_the_largest_difference():
    result = gradcheck.compare("dx", np.array([[1.0, 2.0], [3.0, 4.0]]),
                               np.array([[1.0, 2.0], [3.0, 4.5]]))
    assert result.where == (1, 1)
    assert result.max_diff == pytest.approx(0.5)
    assert not result.exact and not result.approx
    assert "dx" in str(result) and "maxdiff" in str(result)
