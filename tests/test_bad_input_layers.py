"""Bad input to the layers and to the plain BN functions is refused where it enters, with an
error that names the argument, instead of broadcasting into a wrong answer."""

import numpy as np
import pytest

import tinynet
from tinynet.layers import BatchNormalization, Dense, GroupNormalization, Rescaling
from tinynet.layers.batchnorm import (
    batchnorm_backward,
    batchnorm_inference,
    batchnorm_train,
)
from tinynet.models import Sequential
from tinynet.regularizers import Regularizer

X = np.random.default_rng(0).normal(size=(4, 3))
GAMMA, BETA = np.ones(3), np.zeros(3)


@pytest.mark.parametrize("args, error, words", [
    ((X[0], GAMMA, BETA, 1e-3), ValueError, r"x must be \(N, D\).*got shape \(3,\)"),
    ((X, np.ones((4, 1)), BETA, 1e-3), ValueError, r"gamma must be an.*got shape \(4, 1\)"),
    ((X, GAMMA, np.zeros(2), 1e-3), ValueError, r"beta must be an array of shape \(3,\).*\(2,\)"),
    ((X, GAMMA, BETA, -1.0), ValueError, r"epsilon must be > 0"),
    ((X.tolist(), GAMMA, BETA, 1e-3), TypeError, r"x must be a float array.*a list"),
    ((X.astype(int), GAMMA, BETA, 1e-3), TypeError, r"x must be a float array.*int"),
    ((X, [1.0], BETA, 1e-3), ValueError, r"gamma must be an array of shape \(3,\).*a list"),
])
def test_batchnorm_train_refuses_arguments_that_do_not_go_together(args, error, words):
    with pytest.raises(error, match=words):
        batchnorm_train(*args)


def test_batchnorm_train_still_takes_plain_numbers_for_gamma_and_beta():
    y, _ = batchnorm_train(X, 1.0, 0.0, 1e-3)
    np.testing.assert_allclose(y.mean(axis=0), 0.0, atol=1e-12)


def test_batchnorm_inference_refuses_moving_statistics_of_another_size():
    with pytest.raises(ValueError, match=r"moving_mean must be an array of shape \(3,\).*\(2,\)"):
        batchnorm_inference(X, GAMMA, BETA, np.zeros(2), np.ones(3), 1e-3)


@pytest.mark.parametrize("g, error, words", [
    (np.ones(3), ValueError, r"g must have the shape of the forward pass's x and y, "
                             r"\(4, 3\), got \(3,\)"),
    (np.ones((1, 3)), ValueError, r"\(4, 3\), got \(1, 3\)"),
    ([[1.0] * 3] * 4, TypeError, r"g must be an array"),
])
def test_batchnorm_backward_refuses_a_gradient_of_another_shape(g, error, words):
    # NumPy would broadcast (3,) or (1, 3) against (4, 3) into a wrong dx
    _, cache = batchnorm_train(X, GAMMA, BETA, 1e-3)
    with pytest.raises(error, match=words):
        batchnorm_backward(g, cache)
    with pytest.raises(TypeError, match=r"cache must be what batchnorm_train"):
        batchnorm_backward(np.ones((4, 3)), (1, 2))


def test_an_initializer_of_your_own_must_return_the_shape_it_was_asked_for():
    layer = BatchNormalization(gamma_initializer=lambda shape, dtype: np.ones(1, dtype))
    with pytest.raises(ValueError, match=r"gamma_initializer returned shape \(1,\); "
                                         r"expected an array of numbers of shape \(3,\)"):
        layer.build((None, 3))
    dense = Dense(2, kernel_initializer=lambda shape, dtype: 2.0)
    with pytest.raises(ValueError, match=r"kernel_initializer returned shape \(\)"):
        dense.build((None, 3))
    with pytest.raises(ValueError, match=r"bias_initializer returned values of type <U1"):
        Dense(2, bias_initializer=lambda shape, dtype: np.full(shape, "a")).build((None, 3))


def test_an_initializer_of_another_float_type_gives_weights_of_the_layers_type():
    # as Keras casts it; a float64 kernel in a float32 layer made float64 outputs
    dense = Dense(2, kernel_initializer=lambda shape, dtype: np.ones(shape))
    dense.build((None, 3))
    assert dense.params["kernel"].dtype == np.float32
    assert dense.forward(np.ones((1, 3), np.float32)).dtype == np.float32


def test_two_layers_never_share_an_array_an_initializer_returned():
    shared = np.ones((3, 2), np.float32)
    first = Dense(2, kernel_initializer=lambda shape, dtype: shared)
    second = Dense(2, kernel_initializer=lambda shape, dtype: shared)
    first.build((None, 3))
    second.build((None, 3))
    first.params["kernel"][...] = 5.0
    assert second.params["kernel"][0, 0] == 1.0 and shared[0, 0] == 1.0


class ScalarGradient(Regularizer):
    def __call__(self, weight):
        return float(np.sum(weight))

    def gradient(self, weight):
        return 1.0  # should be np.ones_like(weight)


def test_a_regularizer_whose_gradient_is_not_one_per_weight_is_refused():
    tinynet.set_seed(0)
    model = Sequential([Dense(2, input_shape=(3,), kernel_regularizer=ScalarGradient())])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"ScalarGradient of 'kernel' returned a gradient of "
                                         r"shape \(\); .*shape \(3, 2\)"):
        model.train_on_batch(np.ones((4, 3)), np.ones((4, 2)))


def test_epsilon_given_where_axis_goes_is_named():
    with pytest.raises(TypeError, match=r"BatchNormalization\(axis=1e-05\): axis is an int.*"
                                        r"BatchNormalization\(momentum=1e-05\) or "
                                        r"BatchNormalization\(epsilon=1e-05\)"):
        BatchNormalization(1e-5)
    with pytest.raises(TypeError, match=r"GroupNormalization\(epsilon=1e-05\)"):
        GroupNormalization(2, 1e-5)
    assert BatchNormalization(np.int64(1)).axis == 1  # a NumPy int is an int, as in Keras


def test_rescaling_takes_a_0d_array_and_refuses_what_float32_cannot_hold():
    np.testing.assert_array_equal(Rescaling(np.array(2.0))(np.ones((2, 2))), 2.0)
    with pytest.raises(ValueError, match=r"Rescaling\(scale=...\) must be finite and, if not "
                                         r"0, not round to 0 in the layer's type float32"):
        Rescaling(1e40)
    with pytest.raises(ValueError, match=r"not round to 0"):
        Rescaling(1e-50)


def test_an_unknown_config_key_is_called_unknown():
    with pytest.raises(ValueError, match=r"tinynet knows no argument 'foo' of Dense \(given "
                                         r"foo=1\); the arguments it knows: .*units"):
        Dense.from_config({"units": 3, "foo": 1})
    assert Dense.from_config({"units": 3, "some_newer_key": None}).units == 3
