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

    def forward(self, x, training=False):
        self.x_seen = x
        return super().forward(x, training)

    def backward(self, grad_output):
        super().backward(grad_output)   # the parameter gradients stay right
        std = np.sqrt(self.x_seen.var(axis=0) + self.epsilon)
        return grad_output * self.params["gamma"] / std


class DenseWithMeanBiasGradient(Dense):
    """Another mistake: the bias gradient is a mean instead of a sum over the batch."""

    def backward(self, grad_output):
        grad_input = super().backward(grad_output)
        self.grads["bias"] = grad_output.mean(axis=0)
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
        if isinstance(layer, Activation) and layer.activation.__name__ == "relu":
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
    model.backward(model.loss.gradient(y, model.forward(x, training=True)))
    assert np.max(np.abs(model.layers[0].grads["bias"])) < 1e-15
    assert np.max(np.abs(model.layers[0].grads["kernel"])) > 1e-3


def test_compare_reports_one_line_with_the_place_of_the_largest_difference():
    result = gradcheck.compare("dx", np.array([[1.0, 2.0], [3.0, 4.0]]),
                               np.array([[1.0, 2.0], [3.0, 4.5]]))
    assert result.where == (1, 1)
    assert result.max_diff == pytest.approx(0.5)
    assert not result.exact and not result.approx
    assert "dx" in str(result) and "maxdiff" in str(result)


# -- a check leaves what it checks exactly as it found it -----------------------------------------

def small_model(*middle):
    tinynet.set_seed(1)
    model = Sequential([Dense(4, input_shape=(3,), dtype="float64"), *middle,
                        Dense(1, activation="sigmoid", dtype="float64")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def everything_of(model):
    """Copies of every weight (moving statistics included) and gradient of a model."""
    return ([w.copy() for w in model.get_weights()],
            {(layer.name, key): np.array(grad) for layer in model.layers
             for key, grad in layer.grads.items()})


def test_check_model_leaves_a_trained_model_exactly_as_it_found_it():
    model = small_model(BatchNormalization(dtype="float64"), Activation("tanh", dtype="float64"))
    x = random_x((32, 3), seed=3)
    y = (x[:, :1] > 1).astype(np.float64)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    tinynet.set_seed(9)
    before_rng = tinynet.get_rng().bit_generator.state
    predictions, (weights, grads) = model.predict(x, verbose=0), everything_of(model)
    x_given = x[:10].copy()

    errors = gradcheck.check_model(model, x_given, y[:10])

    assert max(errors.values()) < 1e-6
    np.testing.assert_array_equal(model.predict(x, verbose=0), predictions)  # bit for bit
    after_weights, after_grads = everything_of(model)
    for before, after in zip(weights, after_weights, strict=True):
        np.testing.assert_array_equal(after, before)
    assert after_grads.keys() == grads.keys()
    for key, grad in grads.items():
        np.testing.assert_array_equal(after_grads[key], grad)
    assert tinynet.get_rng().bit_generator.state == before_rng
    np.testing.assert_array_equal(x_given, x[:10])   # the caller's x is not touched
    # the layers still look into the model's one parameter vector: training goes on
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert not np.array_equal(model.predict(x, verbose=0), predictions)


def test_check_layer_leaves_batchnorm_exactly_as_it_found_it():
    layer = BatchNormalization(dtype="float64")
    layer.build((None, 3))
    rng = np.random.default_rng(0)
    layer.set_weights([rng.uniform(0.5, 2, 3), rng.normal(size=3), rng.normal(size=3),
                       rng.uniform(0.5, 2, 3)])
    layer.forward(random_x((5, 3)), training=True)   # something kept for backward
    attributes = dict(vars(layer))
    weights = layer.get_weights()

    gradcheck.check_layer(layer, random_x((6, 3), seed=4))

    for before, after in zip(weights, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(after, before)   # the moving statistics included
    assert vars(layer).keys() == attributes.keys()
    assert all(vars(layer)[name] is value for name, value in attributes.items()
               if name not in ("params", "state", "grads"))


def test_a_dropout_layer_with_its_own_seed_gets_one_mask_and_its_generator_back():
    model = small_model(Dropout(0.5, seed=3, dtype="float64"))
    dropout = model.layers[1]
    before = dropout.rng.bit_generator.state
    x = random_x((8, 3))
    y = (x[:, :1] > 1).astype(np.float64)
    errors = gradcheck.check_model(model, x, y)
    assert max(errors.values()) < 1e-7
    assert dropout.rng.bit_generator.state == before


def test_check_model_checks_only_the_trainable_layers():
    model = small_model(Activation("tanh", dtype="float64"))
    model.layers[0].trainable = False
    model.compile(optimizer="adam", loss="binary_crossentropy")
    x = random_x((6, 3))
    errors = gradcheck.check_model(model, x, (x[:, :1] > 1).astype(np.float64))
    assert set(errors) == {"input", "dense_1/kernel", "dense_1/bias"}
    assert max(errors.values()) < 1e-7


# -- bad input gets a clear error ---------------------------------------------------------------

def test_check_layer_given_x_of_the_wrong_width_names_the_layer_and_both_widths():
    layer = Dense(3, dtype="float64", name="hidden")
    layer.build((None, 8))
    with pytest.raises(ValueError) as info:
        gradcheck.check_layer(layer, random_x((4, 5)))
    message = str(info.value)
    assert "Dense 'hidden'" in message
    assert "8 features" in message and "5 features" in message


def test_check_model_given_x_of_the_wrong_width_says_what_the_model_expects():
    model = small_model()
    with pytest.raises(ValueError, match=r"expects samples of shape \(3,\)"):
        gradcheck.check_model(model, random_x((4, 5)), np.zeros((4, 1)))


def test_check_model_of_an_uncompiled_model_says_to_compile():
    model = Sequential([Dense(1, input_shape=(3,), dtype="float64")])
    with pytest.raises(RuntimeError, match="compile"):
        gradcheck.check_model(model, random_x((4, 3)), np.zeros((4, 1)))


def test_check_layer_refuses_a_one_dimensional_x():
    with pytest.raises((TypeError, ValueError), match="check_layer: x"):
        gradcheck.check_layer(Dense(2, dtype="float64"), np.ones(3))


def test_a_regularized_layer_passes_its_check():
    pytest.importorskip("tinynet.regularizers")
    tinynet.set_seed(0)
    layer = Dense(3, kernel_regularizer="l2", dtype="float64")
    errors = gradcheck.check_layer(layer, random_x((5, 4)))
    assert max(errors.values()) < 1e-6


def test_check_layer_given_images_of_the_wrong_shape_names_both_shapes():
    layer = BatchNormalization(dtype="float64")
    layer.build((None, 4, 4, 2))
    with pytest.raises(ValueError) as info:
        gradcheck.check_layer(layer, random_x((2, 4, 4, 3)))
    assert "(4, 4, 2)" in str(info.value) and "(2, 4, 4, 3)" in str(info.value)


def test_check_layer_on_a_layer_told_to_skip_its_input_gradient_checks_it_too():
    model = small_model()
    x = random_x((16, 3))
    model.fit(x, (x[:, :1] > 1).astype(np.float64), epochs=1, verbose=0)
    first = model.layers[0]
    first.needs_input_grad = False   # what a training step asks of a model's first layer
    errors = gradcheck.check_layer(first, x[:5])
    assert set(errors) == {"input", "kernel", "bias"} and max(errors.values()) < 1e-7
    assert first.needs_input_grad is False  # put back
