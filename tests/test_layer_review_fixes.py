"""Fixes from a review of the layers, the initializers, the regularizers and gradcheck: each
test fails without its fix."""

import numpy as np
import pytest

from tinynet import initializers
from tinynet.gradcheck import numerical_gradient
from tinynet.layers import (
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    GroupNormalization,
    LayerNormalization,
    MaxPooling2D,
)
from tinynet.models import Sequential

# -- LayerNormalization and GroupNormalization take their mean in float64, as BN does ---------


@pytest.mark.parametrize("features", [3, 64, 100, 1000])
def test_layer_norm_of_a_constant_float32_sample_is_exactly_beta(features):
    # a float32 mean of equal large values is off in its last bits; epsilon = 1e-3 turned
    # that into outputs up to 0.06 away from beta = 0
    x = np.full((2, features), 12345.678, dtype=np.float32)
    y = LayerNormalization()(x)
    assert y.dtype == np.float32
    assert np.array_equal(y, np.zeros_like(x))


@pytest.mark.parametrize("shape, groups", [((2, 7, 7, 16), 4), ((2, 14, 14, 16), 16),
                                           ((2, 3, 3, 32), 1), ((2, 100), 1)])
def test_group_norm_of_a_constant_float32_sample_is_exactly_beta(shape, groups):
    x = np.full(shape, 12345.678, dtype=np.float32)
    y = GroupNormalization(groups=groups)(x)
    assert y.dtype == np.float32
    assert np.array_equal(y, np.zeros_like(x))


# -- numerical_gradient refuses what it would get wrong ---------------------------------------


@pytest.mark.parametrize("w", [np.array([1, 2]), np.array([1.0, 2.0], dtype=np.float32),
                               [1.0, 2.0]], ids=["int", "float32", "list"])
def test_numerical_gradient_needs_a_float64_array(w):
    with pytest.raises(TypeError, match=r"numerical_gradient: w must be a float64 NumPy array"):
        numerical_gradient(lambda: float(np.sum(np.square(w))), w)


@pytest.mark.parametrize("h", [0, 0.0, -1e-5])
def test_numerical_gradient_needs_a_positive_step(h):
    with pytest.raises(ValueError, match=r"numerical_gradient: h"):
        numerical_gradient(lambda: 0.0, np.array([1.0, 2.0]), h)


def test_numerical_gradient_still_differentiates():
    w = np.array([1.0, -2.0, 3.0])
    np.testing.assert_allclose(numerical_gradient(lambda: float(np.sum(w ** 2)), w), 2 * w,
                               rtol=1e-8)


# -- build checks its input_shape where it starts -----------------------------------------------

BAD_SHAPES = [
    (lambda: Dense(3), (None, 0), ValueError, "sizes >= 1"),
    (lambda: Dense(3), (None, -2), ValueError, "sizes >= 1"),
    (lambda: Dense(3), (None, 2.5), TypeError, "integer sizes"),
    (lambda: Dense(3), (None, None), TypeError, "size None"),
    (lambda: Dense(3), 20, TypeError, "must be a tuple"),
    (lambda: Conv2D(3, 3), (None, 5, 5, 0), ValueError, "sizes >= 1"),
    (lambda: BatchNormalization(), (None, 0), ValueError, "sizes >= 1"),
    (lambda: BatchNormalization(), (None,), ValueError, "at least one axis after it"),
    (lambda: LayerNormalization(), (), ValueError, "at least one axis after it"),
    (lambda: GroupNormalization(groups=1), (None, 4, 4, 0), ValueError, "sizes >= 1"),
    (lambda: MaxPooling2D(2), (None, 4, 4, 0), ValueError, "sizes >= 1"),
    (lambda: Dropout(0.5), (None, 0), ValueError, "sizes >= 1"),
]


@pytest.mark.parametrize("make, shape, error, words", BAD_SHAPES,
                         ids=[f"{make().__class__.__name__}-{shape}"
                              for make, shape, _, _ in BAD_SHAPES])
def test_build_refuses_a_bad_input_shape_naming_the_layer(make, shape, error, words):
    layer = make()
    with pytest.raises(error, match=r"\.build: input_shape") as caught:
        layer.build(shape)
    assert type(layer).__name__ in str(caught.value) and words in str(caught.value)
    assert not layer.built


def test_a_model_built_for_a_bad_shape_is_refused_and_left_unbuilt():
    model = Sequential([Dense(4), Dense(1)])
    with pytest.raises(ValueError, match="Dense.*sizes >= 1"):
        model.build((None, 0))
    assert not any(layer.built for layer in model.layers)
    model.build((None, 3))  # the same model, given a good shape
    assert model.layers[0].params["kernel"].shape == (3, 4)


def test_build_keeps_a_good_shape_as_a_tuple_of_ints():
    layer = Dense(3)
    layer.build([None, np.int64(4)])
    assert layer.input_shape == (None, 4) and type(layer.input_shape[1]) is int


@pytest.mark.parametrize("name", ["glorot_uniform", "glorot_normal", "he_uniform",
                                  "he_normal", "lecun_uniform", "lecun_normal",
                                  "variance_scaling"])
@pytest.mark.parametrize("shape", [(0, 3), (3, 0), (0,), (0, 3, 3, 4)])
def test_fan_based_initializers_give_an_empty_array_for_a_shape_with_a_zero(name, shape):
    # as Keras (max(1, fan)): nothing to draw, and no division by a fan of 0 on the way
    values = initializers.get(name)(shape)
    assert values.shape == shape
