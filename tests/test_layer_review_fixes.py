"""Fixes from a review of the layers, the initializers, the regularizers and gradcheck: each
test fails without its fix."""

import numpy as np
import pytest

from tinynet import initializers, regularizers
from tinynet.gradcheck import numerical_gradient
from tinynet.layers import (
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    GroupNormalization,
    InputLayer,
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


# -- set_weights takes real numbers only, and names the weight ----------------------------------


def built_dense():
    layer = Dense(2)
    layer.build((None, 3))
    return layer


@pytest.mark.parametrize("kernel, error, words", [
    (np.ones((3, 2), dtype=complex), TypeError, "complex numbers"),
    ([[1.0, 2.0], [3.0], [4.0, 5.0]], ValueError, "ragged list"),
    (np.ones((3, 2), dtype=bool), TypeError, "bool"),
], ids=["complex", "ragged", "bool"])
def test_set_weights_refuses_what_is_not_real_numbers_and_changes_nothing(kernel, error,
                                                                         words):
    layer = built_dense()
    before = layer.get_weights()
    with pytest.raises(error, match="Dense.set_weights: weight 'kernel'") as caught:
        layer.set_weights([kernel, np.zeros(2)])
    assert words in str(caught.value)
    assert all(np.array_equal(a, b) for a, b in zip(before, layer.get_weights(), strict=True))


def test_set_weights_takes_integers():
    layer = built_dense()
    layer.set_weights([np.ones((3, 2), dtype=int), [1, 2]])
    assert np.array_equal(layer.bias, [1.0, 2.0]) and layer.kernel.dtype == np.float32


# -- the regularizers measure integer arrays and lists as floats ---------------------------------


def test_regularizer_gradients_of_integer_arrays_are_not_rounded_to_zero():
    np.testing.assert_allclose(regularizers.L2(0.01).gradient(np.array([1, 2])), [0.02, 0.04])
    np.testing.assert_allclose(regularizers.L1(0.01).gradient(np.array([1, -2])), [0.01, -0.01])
    np.testing.assert_allclose(regularizers.L1L2(0.1, 0.2).gradient(np.array([1, 2])),
                               [0.5, 0.9])


def test_regularizers_take_lists_in_both_the_penalty_and_the_gradient():
    reg = regularizers.L1L2(0.1, 0.2)
    assert reg([1.0, -2.0]) == pytest.approx(0.1 * 3 + 0.2 * 5)
    np.testing.assert_allclose(reg.gradient([1.0, -2.0]), [0.1 + 0.4, -0.1 - 0.8])


def test_regularizer_gradient_keeps_a_float_weights_dtype():
    weight = np.array([1.0, 2.0], dtype=np.float32)
    assert regularizers.L2().gradient(weight).dtype == np.float32
    assert regularizers.L1().gradient(weight).dtype == np.float32


@pytest.mark.parametrize("weight", [np.array([1 + 1j]), ["a"], np.array([True])],
                         ids=["complex", "text", "bool"])
@pytest.mark.parametrize("reg", [regularizers.L1(), regularizers.L2()], ids=["L1", "L2"])
def test_regularizers_refuse_what_is_not_real_numbers(reg, weight):
    name = type(reg).__name__
    with pytest.raises(TypeError, match=f"{name}.gradient: the weight must hold real numbers"):
        reg.gradient(weight)
    with pytest.raises(TypeError, match=f"{name}: the weight must hold real numbers"):
        reg(weight)


# -- InputLayer takes its arguments in Keras 3's order -------------------------------------------


def test_input_layer_third_positional_argument_is_dtype_as_in_keras():
    assert InputLayer((20,), None, "float64").dtype == "float64"


def test_input_layer_keeps_input_shape_and_name_as_keywords():
    layer = InputLayer(input_shape=(3,), name="pixels")
    assert layer.shape == (None, 3) and layer.name == "pixels"
    with pytest.raises(TypeError):
        InputLayer((20,), None, None, False)  # Keras's sparse: not taken, not misread
