"""Layers: hand-written backward passes against finite differences, and forward passes
against values worked out by hand."""

import numpy as np
import pytest

import tinynet
from tinynet.gradcheck import check_layer
from tinynet.layers import (
    Activation,
    BatchNorm,
    BatchNormalization,
    Dense,
    Dropout,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
)

ACTIVATION_NAMES = ["relu", "sigmoid", "tanh", "linear", "softmax"]
GRADIENT_TOLERANCE = 1e-6  # the bar, float64


def random_x(shape=(8, 5), seed=42, loc=0.0, scale=1.0):
    # not seed 0: check_layer draws its projection R with seed 0, and x = 2 + 3 R would make
    # R a multiple of x_hat, whose part BN's backward removes (dx ~ 0: a meaningless check)
    return np.random.default_rng(seed).normal(loc, scale, size=shape)


def assert_gradients_ok(errors, expected_keys):
    assert set(errors) == set(expected_keys)
    for key, error in errors.items():
        assert error < GRADIENT_TOLERANCE, f"{key}: relative error {error:.2e}"


def built(layer, features):
    layer.build((None, features))
    return layer


# -- gradient checks ------------------------------------------------------------------------

@pytest.mark.parametrize("activation", [None, *ACTIVATION_NAMES])
def test_dense_gradients_match_finite_differences(activation):
    tinynet.set_seed(1)
    layer = Dense(4, activation=activation, bias_initializer="random_normal", dtype="float64")
    errors = check_layer(layer, random_x((7, 3)))
    assert_gradients_ok(errors, ["input", "kernel", "bias"])


def test_dense_without_bias_gradients_match_finite_differences():
    tinynet.set_seed(2)
    errors = check_layer(Dense(3, use_bias=False, dtype="float64"), random_x((5, 4)))
    assert_gradients_ok(errors, ["input", "kernel"])


def nonstandard_batchnorm(features=5, **kwargs):
    """A float64 BN whose gamma, beta and moving statistics are all away from their defaults,
    so a formula that forgets one of them gives a wrong answer."""
    layer = built(BatchNormalization(dtype="float64", **kwargs), features)
    rng = np.random.default_rng(3)
    values = {"gamma": rng.uniform(0.5, 2.0, features), "beta": rng.normal(size=features),
              "moving_mean": rng.normal(size=features),
              "moving_variance": rng.uniform(0.5, 3.0, features)}
    layer.set_weights([values[key] for key in layer.weight_keys()])
    return layer


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_batchnorm_gradients_match_finite_differences(training):
    errors = check_layer(nonstandard_batchnorm(), random_x(loc=2.0, scale=3.0),
                         training=training)
    assert_gradients_ok(errors, ["input", "gamma", "beta"])


@pytest.mark.parametrize("center, scale, keys", [
    (False, True, ["input", "gamma"]),
    (True, False, ["input", "beta"]),
    (False, False, ["input"]),
])
@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_batchnorm_without_center_or_scale_gradients_match(center, scale, keys, training):
    layer = nonstandard_batchnorm(center=center, scale=scale)
    errors = check_layer(layer, random_x(seed=4, loc=-1.0, scale=2.0), training=training)
    assert_gradients_ok(errors, keys)


def test_batchnorm_grad_input_is_right_when_it_feeds_a_dense_layer():
    # BN's grad_input decides the Dense gradients: check the pair as one function
    from tinynet.models import Sequential

    tinynet.set_seed(5)
    model = Sequential([Dense(6, input_shape=(4,), bias_initializer="random_normal",
                              dtype="float64"),
                        BatchNormalization(dtype="float64")])
    x = random_x((9, 4), seed=6)
    out = model.forward(x, training=True)
    projection = np.random.default_rng(7).normal(size=out.shape)

    def loss():
        return float(np.sum(model.forward(x, training=True) * projection))

    model.forward(x, training=True)
    model.backward(projection.copy())
    kernel = model.layers[0].params["kernel"]
    analytic = model.layers[0].grads["kernel"].copy()
    numeric = tinynet.gradcheck.numerical_gradient(loss, kernel)
    assert tinynet.gradcheck.relative_error(analytic, numeric) < GRADIENT_TOLERANCE


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_gradients_match_finite_differences(name):
    errors = check_layer(Activation(name, dtype="float64"), random_x(seed=8))
    assert_gradients_ok(errors, ["input"])


@pytest.mark.parametrize("layer_class", [ReLU, Sigmoid, Tanh, Softmax])
def test_standalone_activation_gradients_match_finite_differences(layer_class):
    errors = check_layer(layer_class(dtype="float64"), random_x(seed=9))
    assert_gradients_ok(errors, ["input"])


def test_dropout_gradient_matches_finite_differences_with_a_fixed_mask():
    tinynet.set_seed(10)
    errors = check_layer(Dropout(0.4, dtype="float64"), random_x((10, 6), seed=11))
    assert_gradients_ok(errors, ["input"])


# -- Dense forward ---------------------------------------------------------------------------

def test_dense_forward_is_x_times_kernel_plus_bias_then_activation():
    layer = built(Dense(2, activation="relu", dtype="float64"), 3)
    kernel = np.array([[1.0, -1.0], [2.0, 0.5], [0.0, 1.0]])
    layer.set_weights([kernel, np.array([0.5, -4.0])])
    x = np.array([[1.0, 1.0, 1.0], [2.0, 0.0, -1.0]])
    # row 1: [1+2+0+0.5, -1+0.5+1-4] = [3.5, -3.5] -> relu [3.5, 0]
    # row 2: [2+0+0+0.5, -2+0-1-4] = [2.5, -7]     -> relu [2.5, 0]
    np.testing.assert_array_equal(layer.forward(x), [[3.5, 0.0], [2.5, 0.0]])


def test_dense_counts_kernel_and_bias_parameters():
    assert built(Dense(64), 20).count_params() == 20 * 64 + 64
    assert built(Dense(64, use_bias=False), 20).count_params() == 20 * 64


def test_count_params_before_building_is_an_error_where_keras_raises_one():
    # Keras 3.15 (checked live): ValueError for a layer whose weights come at build and for an
    # unbuilt model; 0 for a layer without weights (Activation, pooling, Dropout)
    for layer in (Dense(3), tinynet.layers.BatchNormalization(), tinynet.layers.Conv2D(2, 3)):
        with pytest.raises(ValueError, match=rf"{type(layer).__name__}.*not built"):
            layer.count_params()
    for layer in (tinynet.layers.Activation("relu"), tinynet.layers.MaxPooling2D(),
                  tinynet.layers.GlobalAveragePooling2D(), tinynet.layers.Dropout(0.5)):
        assert layer.count_params() == 0
    model = tinynet.Sequential([Dense(3)])
    with pytest.raises(ValueError, match="Sequential .*not built.*input_shape"):
        model.count_params()
    model.build((None, 4))
    assert model.count_params() == 4 * 3 + 3


def test_dense_weights_are_kernel_then_bias_in_keras_shapes():
    shapes = [w.shape for w in built(Dense(5), 3).get_weights()]
    assert shapes == [(3, 5), (5,)]


def test_layers_keep_the_requested_dtype():
    assert built(Dense(3), 2).params["kernel"].dtype == np.float32
    layer = built(Dense(3, dtype="float64"), 2)
    assert layer.params["kernel"].dtype == np.float64
    assert layer.forward(np.ones((4, 2))).dtype == np.float64


# -- BatchNormalization forward --------------------------------------------------------------

# A small batch whose statistics are easy by hand: column means 3 and 6, biased variances
# ((-2)^2 + 0^2 + 2^2) / 3 = 8/3 and ((-4)^2 + 0^2 + 4^2) / 3 = 32/3.
SMALL_X = np.array([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]])
SMALL_MU = np.array([3.0, 6.0])
SMALL_VAR = np.array([8.0 / 3.0, 32.0 / 3.0])
SMALL_CENTRED = np.array([[-2.0, -4.0], [0.0, 0.0], [2.0, 4.0]])


def small_batchnorm(**kwargs):
    return built(BatchNormalization(dtype="float64", **kwargs), 2)


def test_batchnorm_training_forward_uses_batch_mean_and_biased_variance():
    layer = small_batchnorm()
    layer.set_weights([np.array([2.0, 0.5]), np.array([1.0, -1.0]),
                       np.zeros(2), np.ones(2)])
    expected = np.array([2.0, 0.5]) * SMALL_CENTRED / np.sqrt(SMALL_VAR + 1e-3) + [1.0, -1.0]
    np.testing.assert_allclose(layer.forward(SMALL_X, training=True), expected, rtol=1e-12)


def test_batchnorm_training_output_has_zero_mean_and_unit_variance_per_feature():
    x = random_x((64, 4), seed=12, loc=5.0, scale=10.0)
    y = small_batchnorm(epsilon=1e-9).forward(x[:, :2], training=True)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(y.var(axis=0), 1.0, rtol=1e-8)


def test_batchnorm_inference_forward_uses_the_moving_statistics():
    layer = small_batchnorm()
    gamma, beta = np.array([2.0, 0.5]), np.array([1.0, -1.0])
    moving_mean, moving_variance = np.array([1.0, -2.0]), np.array([4.0, 0.25])
    layer.set_weights([gamma, beta, moving_mean, moving_variance])
    expected = gamma * (SMALL_X - moving_mean) / np.sqrt(moving_variance + 1e-3) + beta
    np.testing.assert_allclose(layer.forward(SMALL_X, training=False), expected, rtol=1e-12)


def test_batchnorm_inference_does_not_change_the_moving_statistics():
    layer = small_batchnorm()
    before = layer.get_weights()
    layer.forward(SMALL_X, training=False)
    for a, b in zip(before, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_batchnorm_inference_output_of_a_sample_does_not_depend_on_its_batch():
    layer = nonstandard_batchnorm(features=3)
    x = random_x((6, 3), seed=13)
    np.testing.assert_array_equal(layer.forward(x, training=False)[2:],
                                  layer.forward(x[2:], training=False))


def test_moving_statistics_after_one_step_follow_keras_momentum():
    layer = small_batchnorm(momentum=0.9)
    layer.forward(SMALL_X, training=True)
    np.testing.assert_allclose(layer.state["moving_mean"], 0.1 * SMALL_MU, rtol=1e-12)
    np.testing.assert_allclose(layer.state["moving_variance"], 0.9 + 0.1 * SMALL_VAR,
                               rtol=1e-12)


def test_moving_statistics_after_several_steps_on_one_batch_approach_its_statistics():
    # with the same batch k times: moving = m^k * start + (1 - m^k) * batch_stat
    layer = small_batchnorm(momentum=0.8)
    steps = 7
    for _ in range(steps):
        layer.forward(SMALL_X, training=True)
    kept = 0.8 ** steps
    np.testing.assert_allclose(layer.state["moving_mean"], (1 - kept) * SMALL_MU, rtol=1e-12)
    np.testing.assert_allclose(layer.state["moving_variance"],
                               kept * 1.0 + (1 - kept) * SMALL_VAR, rtol=1e-12)


def test_moving_statistics_after_several_different_batches():
    layer = small_batchnorm()  # Keras default momentum 0.99
    moving_mean, moving_variance = np.zeros(2), np.ones(2)
    for seed in range(5):
        x = random_x((10, 2), seed=20 + seed, loc=seed, scale=1 + seed)
        layer.forward(x, training=True)
        batch_mean = x.sum(axis=0) / len(x)
        batch_var = ((x - batch_mean) ** 2).sum(axis=0) / len(x)  # biased: divide by N
        moving_mean = 0.99 * moving_mean + 0.01 * batch_mean
        moving_variance = 0.99 * moving_variance + 0.01 * batch_var
    np.testing.assert_allclose(layer.state["moving_mean"], moving_mean, rtol=1e-12)
    np.testing.assert_allclose(layer.state["moving_variance"], moving_variance, rtol=1e-12)


def test_batchnorm_of_one_sample_in_training_outputs_beta_and_passes_no_gradient():
    layer = nonstandard_batchnorm(features=3)
    y = layer.forward(np.array([[1.0, -2.0, 7.0]]), training=True)
    np.testing.assert_allclose(y[0], layer.params["beta"], rtol=1e-12)
    grad_input = layer.backward(np.array([[0.3, -1.0, 2.0]]))
    assert np.all(grad_input == 0)
    assert np.all(layer.grads["gamma"] == 0)


def test_batchnorm_weights_are_gamma_beta_moving_mean_moving_variance():
    layer = built(BatchNormalization(), 4)
    gamma, beta, moving_mean, moving_variance = layer.get_weights()
    np.testing.assert_array_equal(gamma, np.ones(4))
    np.testing.assert_array_equal(beta, np.zeros(4))
    np.testing.assert_array_equal(moving_mean, np.zeros(4))
    np.testing.assert_array_equal(moving_variance, np.ones(4))
    assert layer.count_params() == 16
    assert layer.count_trainable_params() == 8
    assert layer.count_non_trainable_params() == 8


def test_batchnorm_without_center_and_scale_has_only_moving_statistics():
    layer = built(BatchNormalization(center=False, scale=False), 3)
    assert layer.weight_keys() == ["moving_mean", "moving_variance"]
    assert layer.count_trainable_params() == 0


def test_batchnorm_defaults_are_keras_defaults_and_batchnorm_is_an_alias():
    layer = BatchNorm()
    assert isinstance(layer, BatchNormalization)
    assert (layer.momentum, layer.epsilon, layer.center, layer.scale) == (0.99, 1e-3, True,
                                                                          True)


# -- activations -----------------------------------------------------------------------------

def test_activation_values_at_known_points():
    x = np.array([[-1.0, 0.0, 2.0]])
    np.testing.assert_array_equal(Activation("relu")(x), [[0.0, 0.0, 2.0]])
    np.testing.assert_allclose(Activation("sigmoid", dtype="float64")(x),
                               [[1 / (1 + np.e), 0.5, 1 / (1 + np.e ** -2)]], rtol=1e-12)
    np.testing.assert_allclose(Activation("tanh", dtype="float64")(x), np.tanh(x), rtol=1e-12)
    np.testing.assert_array_equal(Activation("linear")(x), x)


def test_sigmoid_of_huge_inputs_is_exact_zero_or_one_without_warnings():
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        y = Sigmoid(dtype="float64")(np.array([[-1000.0, 1000.0]]))
    np.testing.assert_array_equal(y, [[0.0, 1.0]])


def test_softmax_rows_sum_to_one_and_ignore_a_shift_of_the_row():
    x = random_x((4, 6), seed=14)
    y = Softmax(dtype="float64")(x)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(Softmax(dtype="float64")(x + 1000.0), y, rtol=1e-12)


def test_activation_names_are_case_insensitive_and_typos_get_a_suggestion():
    assert Activation("ReLU").activation.__name__ == "relu"
    with pytest.raises(ValueError, match="relu"):
        Activation("rleu")


def test_dense_activation_accepts_the_same_names_as_activation():
    x = random_x((3, 4), seed=15)
    for name in ACTIVATION_NAMES:
        tinynet.set_seed(0)
        dense = Dense(5, activation=name, dtype="float64")
        y = dense(x)
        tinynet.set_seed(0)
        plain = Dense(5, dtype="float64")
        np.testing.assert_allclose(y, Activation(name, dtype="float64")(plain(x)), rtol=1e-12)


# -- dropout ---------------------------------------------------------------------------------

def test_dropout_does_nothing_in_inference():
    x = random_x(seed=16)
    np.testing.assert_array_equal(Dropout(0.5, dtype="float64")(x, training=False), x)


def test_dropout_zeroes_about_rate_of_the_units_and_scales_the_rest():
    tinynet.set_seed(17)
    x = np.ones((200, 100))
    y = Dropout(0.3, dtype="float64")(x, training=True)
    assert set(np.unique(y)) == {0.0, 1.0 / 0.7}
    assert abs(np.mean(y == 0) - 0.3) < 0.01
    assert abs(y.mean() - 1.0) < 0.02  # inverted dropout keeps the expected value


def test_dropout_backward_uses_the_forward_mask():
    tinynet.set_seed(18)
    layer = Dropout(0.5, dtype="float64")
    y = layer(np.ones((10, 10)), training=True)
    np.testing.assert_array_equal(layer.backward(np.ones((10, 10))), y)


def test_dropout_masks_repeat_with_the_same_seed():
    masks = []
    for _ in range(2):
        tinynet.set_seed(19)
        masks.append(Dropout(0.5)(np.ones((5, 8)), training=True))
    np.testing.assert_array_equal(*masks)
