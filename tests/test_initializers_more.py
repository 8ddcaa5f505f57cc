"""Constant initializers holding arrays, and what None means for an *_initializer argument,
against Keras 3 (tests/data/keras_small_fixes_reference.npz, made by
tests/data/make_keras_small_fixes_reference.py)."""

import json
import os

import numpy as np
import pytest

import tinynet
from tinynet import initializers
from tinynet.initializers import Constant, GlorotUniform
from tinynet.layers import BatchNormalization, Conv2D, Dense

REF = np.load(os.path.join(os.path.dirname(__file__), "data",
                           "keras_small_fixes_reference.npz"))
KERAS_CONFIGS = json.loads(str(REF["constant_configs"]))

# the values of the script's CONSTANT_CASES, as tinynet is given them
CASES = {
    "number": (0.5, (2, 3)),
    "tutorial_bias": (np.log([0.11]), (1,)),
    "row": (np.array([1.0, 2.0]), (3, 2)),
    "float32_row": (np.array([1.0, 2.0, 3.0], dtype=np.float32), (2, 3)),
    "column": (np.array([[1.0], [2.0]]), (2, 4)),
}


@pytest.mark.parametrize("case", CASES)
def test_constant_fills_the_weight_as_keras_does(case):
    value, shape = CASES[case]
    filled = Constant(value)(shape, "float32")
    assert filled.dtype == np.float32 and filled.shape == shape
    np.testing.assert_array_equal(filled, REF[f"constant_{case}"])


@pytest.mark.parametrize("case", CASES)
def test_constant_config_is_keras_config_and_round_trips(case):
    value, shape = CASES[case]
    config = Constant(value).get_config()
    assert config == KERAS_CONFIGS[case]
    assert json.loads(json.dumps(config)) == config  # it is plain JSON, as a .keras file needs
    again = Constant.from_config(KERAS_CONFIGS[case])
    np.testing.assert_array_equal(again(shape), Constant(value)(shape))


def test_a_constant_that_cannot_fill_the_weight_names_both_shapes_when_called():
    initializer = Constant(np.array([1.0, 2.0]))  # the shape is not known yet: no error
    with pytest.raises(ValueError, match=r"shape \(2,\).*shape \(3,\)"):
        initializer((3,))
    with pytest.raises(ValueError, match=r"\(2, 3\)"):
        initializer((2, 3))


@pytest.mark.parametrize("value, error", [
    (np.array([1.0, np.nan]), ValueError), (["a", "b"], TypeError), ("0.5", TypeError),
    (float("inf"), ValueError),
])
def test_bad_constant_values_are_refused_by_name(value, error):
    with pytest.raises(error, match=r"Constant\(value=...\)"):
        Constant(value)


def test_the_imbalanced_data_tutorials_output_bias():
    pos, neg = 11, 100
    tinynet.set_seed(0)
    layer = Dense(1, activation="sigmoid",
                  bias_initializer=initializers.Constant(np.log([pos / neg])))
    layer.build((None, 3))
    assert layer.params["bias"].dtype == np.float32
    np.testing.assert_allclose(layer.params["bias"], [np.log(pos / neg)], rtol=1e-7)


# -- None: Keras's add_weight uses glorot_uniform for a float weight ---------------------------

def glorot_limit(shape):
    fan_in, fan_out = initializers.compute_fans(shape)
    return np.sqrt(6 / (fan_in + fan_out))


def assert_glorot_uniform(values):
    """Drawn from U(-limit, limit) of the weight's own shape: not the default's constant."""
    limit = glorot_limit(values.shape)
    assert np.abs(values).max() <= limit
    assert np.abs(values).max() > 0.8 * limit
    assert values.std() == pytest.approx(limit / np.sqrt(3), rel=0.15)  # U(-a, a): a / sqrt 3


def test_get_none_is_glorot_uniform():
    assert isinstance(initializers.get(None), GlorotUniform)


def test_dense_with_none_initializers_draws_glorot_uniform_bias_and_kernel():
    tinynet.set_seed(0)
    layer = Dense(200, kernel_initializer=None, bias_initializer=None)
    layer.build((None, 300))
    assert_glorot_uniform(layer.params["kernel"])
    assert_glorot_uniform(layer.params["bias"])  # (200,): limit sqrt(6 / 400)


def test_batchnorm_with_none_initializers_draws_every_weight_from_glorot_uniform():
    tinynet.set_seed(0)
    layer = BatchNormalization(beta_initializer=None, gamma_initializer=None,
                               moving_mean_initializer=None, moving_variance_initializer=None)
    layer.build((None, 300))
    for name in ("gamma", "beta"):
        assert_glorot_uniform(layer.params[name])
    for name in ("moving_mean", "moving_variance"):  # Keras's too, even a negative variance
        assert_glorot_uniform(layer.state[name])


def test_conv2d_with_a_none_bias_initializer_draws_a_glorot_uniform_bias():
    tinynet.set_seed(0)
    layer = Conv2D(300, 3, bias_initializer=None)
    layer.build((None, 8, 8, 2))
    assert_glorot_uniform(layer.params["bias"])
