"""Activations: Keras 3's values and derivatives (fixture), float64 gradient checks, names."""

import os

import numpy as np
import pytest

import tinynet
from tinynet import gradcheck
from tinynet.layers import Activation, Dense
from tinynet.layers.activation import ACTIVATIONS, SELU_ALPHA, SELU_SCALE

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "keras_issue12_reference.npz"))
NEW = ["elu", "selu", "leaky_relu", "gelu", "softplus", "swish", "silu", "hard_sigmoid"]


@pytest.mark.parametrize("name", [*NEW, "relu", "sigmoid", "tanh"])
def test_values_and_derivatives_equal_keras_in_float32(name):
    """The fixture's gradient is d(sum(y * R))/dx from torch's autograd through Keras."""
    function, derivative = ACTIVATIONS[name]
    x, r = REF["act_x"], REF["act_r"]
    y = function(x)
    grad = derivative(r, x, y)
    assert y.dtype == grad.dtype == np.float32
    np.testing.assert_allclose(y, REF[f"act_{name}_value"], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(grad, REF[f"act_{name}_grad"], rtol=1e-5, atol=1e-6)


def points_off_the_kinks(seed=0):
    """float64 inputs from -5 to 5, none within 0.01 of a kink (0 and +-3)."""
    x = np.random.default_rng(seed).uniform(-5, 5, size=(6, 7))
    for kink in (0.0, 3.0, -3.0):
        x[np.abs(x - kink) < 0.01] += 0.05
    return x


@pytest.mark.parametrize("name", NEW)
def test_derivatives_pass_a_float64_gradient_check(name):
    layer = Activation(name, dtype="float64")
    errors = gradcheck.check_layer(layer, points_off_the_kinks())
    assert errors["input"] < 1e-7


@pytest.mark.parametrize("name", NEW)
def test_a_dense_layer_takes_each_activation_by_name(name):
    # the kernel's random start is seeded: left to whatever the tests before had drawn, a
    # pre-activation once fell on selu's kink at 0, where finite differences are meaningless
    tinynet.set_seed(0)
    layer = Dense(3, activation=name, dtype="float64")
    errors = gradcheck.check_layer(layer, points_off_the_kinks(1)[:, :4])
    assert max(errors.values()) < 1e-6


def test_values_by_hand():
    x = np.array([-3.0, -1.0, 0.5, 4.0])
    np.testing.assert_allclose(ACTIVATIONS["elu"][0](x), [np.exp(-3) - 1, np.exp(-1) - 1, 0.5, 4])
    np.testing.assert_allclose(ACTIVATIONS["leaky_relu"][0](x), [-0.6, -0.2, 0.5, 4.0])
    np.testing.assert_allclose(ACTIVATIONS["hard_sigmoid"][0](x), [0.0, 1 / 3, 7 / 12, 1.0])
    np.testing.assert_allclose(ACTIVATIONS["softplus"][0](x), np.log1p(np.exp(x)))
    np.testing.assert_allclose(ACTIVATIONS["swish"][0](x), x / (1 + np.exp(-x)))
    np.testing.assert_allclose(ACTIVATIONS["selu"][0](np.array([1.0, -50.0])),
                               [SELU_SCALE, -SELU_SCALE * SELU_ALPHA])


def test_gelu_is_x_times_the_normal_cdf():
    # Phi(1) and Phi(-1) from a table of the standard normal
    np.testing.assert_allclose(ACTIVATIONS["gelu"][0](np.array([1.0, -1.0, 0.0])),
                               [0.8413447460685429, -0.15865525393145707, 0.0], rtol=1e-12)


def test_selu_keeps_a_standard_normal_standard():
    """The point of SELU's two constants: N(0, 1) in, mean 0 and variance 1 out."""
    x = np.random.default_rng(0).normal(size=400_000)
    y = ACTIVATIONS["selu"][0](x)
    assert abs(y.mean()) < 0.01 and y.var() == pytest.approx(1.0, abs=0.01)


def test_huge_inputs_give_finite_values_and_derivatives():
    x = np.array([-1000.0, 1000.0])
    with np.errstate(over="raise", invalid="raise"):
        for name in NEW:
            function, derivative = ACTIVATIONS[name]
            y = function(x)
            assert np.all(np.isfinite(y)) and np.all(np.isfinite(derivative(np.ones(2), x, y)))


def test_swish_and_silu_are_one_function_and_names_ignore_case():
    assert ACTIVATIONS["swish"] == ACTIVATIONS["silu"]
    assert Activation("GELU").activation.__name__ == "gelu"


def test_an_unknown_activation_lists_the_new_names():
    with pytest.raises(ValueError, match="Did you mean 'softplus'"):
        Activation("sotfplus")


def test_at_the_kinks_the_derivative_is_the_one_torch_autograd_takes():
    """Keras trains with torch's autograd, which takes these slopes at exactly 0 and +-3."""
    zero, threes = np.zeros(1), np.array([3.0, -3.0])
    function, derivative = ACTIVATIONS["leaky_relu"]
    assert derivative(np.ones(1), zero, function(zero)) == pytest.approx(0.2)
    function, derivative = ACTIVATIONS["hard_sigmoid"]
    np.testing.assert_array_equal(derivative(np.ones(2), threes, function(threes)), 0.0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_the_two_branch_stable_formula_bit_for_bit(dtype):
    # sigmoid divides once (1 or e over 1 + e); written as two divisions it is the textbook
    # stable form, and the two must agree exactly, also at 0, +-inf and nan
    from tinynet.layers.activation import sigmoid

    x = (np.random.default_rng(0).standard_normal(5000) * 30).astype(dtype)
    x[:6] = [0.0, -0.0, np.inf, -np.inf, np.nan, 1e30]
    e = np.exp(-np.abs(x))
    np.testing.assert_array_equal(sigmoid(x), np.where(x >= 0, 1 / (1 + e), e / (1 + e)))
    assert sigmoid(x).dtype == dtype
