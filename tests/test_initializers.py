"""Initializers: the statistics of what they draw, seeding, and their Keras names."""

import numpy as np
import pytest

import tinynet
from tinynet import initializers
from tinynet.initializers import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    Ones,
    RandomNormal,
    RandomUniform,
    Zeros,
)

SHAPE = (400, 300)  # 120,000 draws: sample statistics within ~1% of the population's
FAN_IN, FAN_OUT = SHAPE


def draw(initializer, shape=SHAPE, seed=0, dtype="float64"):
    tinynet.set_seed(seed)
    return initializer(shape, dtype)


def test_glorot_uniform_is_uniform_within_the_glorot_limit():
    limit = np.sqrt(6 / (FAN_IN + FAN_OUT))
    w = draw(GlorotUniform())
    assert np.abs(w).max() <= limit
    assert np.abs(w).max() > 0.99 * limit
    assert w.var() == pytest.approx(limit ** 2 / 3, rel=0.02)  # variance of U(-a, a)
    assert abs(w.mean()) < 0.01 * limit


def test_he_uniform_is_uniform_within_the_he_limit():
    limit = np.sqrt(6 / FAN_IN)
    w = draw(HeUniform())
    assert np.abs(w).max() <= limit
    assert w.var() == pytest.approx(2 / FAN_IN, rel=0.02)


@pytest.mark.parametrize("initializer, variance", [
    (GlorotNormal(), 2 / (FAN_IN + FAN_OUT)),
    (HeNormal(), 2 / FAN_IN),
])
def test_truncated_normals_have_the_intended_variance_and_no_tails(initializer, variance):
    w = draw(initializer)
    assert w.var() == pytest.approx(variance, rel=0.02)
    # truncated at 2 standard deviations of the underlying (stretched) normal
    stretched_std = np.sqrt(variance) / initializers.TRUNCATED_STD_OF_UNIT_NORMAL
    assert np.abs(w).max() <= 2 * stretched_std
    assert abs(w.mean()) < 0.01 * np.sqrt(variance)


def test_random_normal_has_keras_default_mean_and_stddev():
    w = draw(RandomNormal())
    assert abs(w.mean()) < 0.001
    assert w.std() == pytest.approx(0.05, rel=0.01)
    w = draw(RandomNormal(mean=3.0, stddev=0.5))
    assert w.mean() == pytest.approx(3.0, abs=0.01)
    assert w.std() == pytest.approx(0.5, rel=0.01)


def test_random_uniform_stays_in_its_bounds():
    w = draw(RandomUniform())
    assert w.min() >= -0.05 and w.max() <= 0.05
    w = draw(RandomUniform(minval=2.0, maxval=3.0))
    assert w.min() >= 2.0 and w.max() <= 3.0
    assert w.mean() == pytest.approx(2.5, abs=0.01)


def test_zeros_and_ones():
    np.testing.assert_array_equal(draw(Zeros(), (3, 2)), np.zeros((3, 2)))
    np.testing.assert_array_equal(draw(Ones(), (4,)), np.ones(4))


@pytest.mark.parametrize("cls", [GlorotUniform, GlorotNormal, HeUniform, HeNormal,
                                 RandomNormal, RandomUniform])
def test_the_same_seed_gives_the_same_weights_and_another_seed_other_weights(cls):
    first = draw(cls(), (20, 10), seed=5)
    again = draw(cls(), (20, 10), seed=5)
    other = draw(cls(), (20, 10), seed=6)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_initializers_return_the_requested_dtype(dtype):
    assert draw(GlorotUniform(), (3, 3), dtype=dtype).dtype == np.dtype(dtype)
    assert draw(Zeros(), (3,), dtype=dtype).dtype == np.dtype(dtype)


@pytest.mark.parametrize("name, cls", [
    ("glorot_uniform", GlorotUniform), ("glorot_normal", GlorotNormal),
    ("he_uniform", HeUniform), ("he_normal", HeNormal), ("random_normal", RandomNormal),
    ("random_uniform", RandomUniform), ("zeros", Zeros), ("ones", Ones),
])
def test_keras_string_names_give_the_initializer(name, cls):
    assert isinstance(initializers.get(name), cls)


def test_unknown_initializer_name_suggests_the_closest():
    with pytest.raises(ValueError, match="glorot_uniform"):
        initializers.get("glorot_unifrom")


def test_dense_uses_glorot_uniform_by_default_and_accepts_names():
    from tinynet.layers import Dense

    tinynet.set_seed(3)
    layer = Dense(30, dtype="float64")
    layer.build((None, 40))
    tinynet.set_seed(3)
    np.testing.assert_array_equal(layer.params["kernel"], GlorotUniform()((40, 30), "float64"))
    np.testing.assert_array_equal(layer.params["bias"], np.zeros(30))
    dense = Dense(5, kernel_initializer="ones", bias_initializer="ones")
    dense.build((None, 2))
    np.testing.assert_array_equal(dense.params["kernel"], np.ones((2, 5)))
    np.testing.assert_array_equal(dense.params["bias"], np.ones(5))
