"""Initializers: the statistics of what they draw, seeding, and their Keras names."""

import math

import numpy as np
import pytest

import tinynet
from tinynet import initializers
from tinynet.initializers import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Ones,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
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
    (LecunNormal(), 1 / FAN_IN),
    (VarianceScaling(), 1 / FAN_IN),
    (VarianceScaling(3.0, "fan_out", "normal"), 3 / FAN_OUT),
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
                                 RandomNormal, RandomUniform, LecunNormal, LecunUniform,
                                 TruncatedNormal, VarianceScaling, Orthogonal])
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
    ("truncated_normal", TruncatedNormal), ("orthogonal", Orthogonal),
    ("lecun_normal", LecunNormal), ("lecun_uniform", LecunUniform),
    ("variance_scaling", VarianceScaling), ("GlorotUniform", GlorotUniform),
    ("TruncatedNormal", TruncatedNormal), ("Orthogonal", Orthogonal),
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


# -- the initializers of issue 12 ------------------------------------------------------------

def test_the_truncation_constant_is_the_spread_of_a_unit_normal_cut_at_2():
    """Var of N(0, 1) truncated to [-2, 2] is 1 - 2 * 2 phi(2) / (Phi(2) - Phi(-2))."""
    phi = np.exp(-2.0) / np.sqrt(2 * np.pi)          # the normal density at 2
    mass = math.erf(2 / np.sqrt(2))                   # Phi(2) - Phi(-2)
    assert np.sqrt(1 - 4 * phi / mass) == pytest.approx(
        initializers.TRUNCATED_STD_OF_UNIT_NORMAL, rel=1e-12)


def test_lecun_uniform_has_variance_one_over_fan_in():
    limit = np.sqrt(3 / FAN_IN)
    w = draw(LecunUniform())
    assert np.abs(w).max() <= limit
    assert w.var() == pytest.approx(1 / FAN_IN, rel=0.02)


def test_truncated_normal_keeps_draws_within_two_stddev_of_the_mean():
    w = draw(TruncatedNormal(mean=1.0, stddev=0.5))
    assert np.abs(w - 1.0).max() <= 1.0
    assert w.mean() == pytest.approx(1.0, abs=0.01)
    assert w.std() == pytest.approx(0.5 * initializers.TRUNCATED_STD_OF_UNIT_NORMAL, rel=0.01)


@pytest.mark.parametrize("mode, n", [("fan_in", FAN_IN), ("fan_out", FAN_OUT),
                                     ("fan_avg", (FAN_IN + FAN_OUT) / 2)])
def test_variance_scaling_uniform_and_untruncated_have_variance_scale_over_n(mode, n):
    assert draw(VarianceScaling(2.0, mode, "uniform")).var() == pytest.approx(2 / n, rel=0.02)
    assert draw(VarianceScaling(2.0, mode, "untruncated_normal")).var() == pytest.approx(
        2 / n, rel=0.02)


@pytest.mark.parametrize("named, general", [
    (GlorotUniform(), VarianceScaling(1.0, "fan_avg", "uniform")),
    (HeNormal(), VarianceScaling(2.0, "fan_in", "truncated_normal")),
    (LecunNormal(), VarianceScaling(1.0, "fan_in", "truncated_normal")),
    (HeUniform(), VarianceScaling(2.0, "fan_in", "uniform")),
])
def test_named_initializers_are_special_cases_of_variance_scaling(named, general):
    np.testing.assert_allclose(draw(named, (30, 20)), draw(general, (30, 20)), rtol=1e-12)


@pytest.mark.parametrize("shape", [(50, 20), (20, 50), (3, 3, 4, 8)])
def test_orthogonal_gives_orthonormal_columns_or_rows_times_the_gain(shape):
    w = draw(Orthogonal(gain=2.0), shape).reshape(-1, shape[-1])
    gram = w.T @ w if w.shape[0] >= w.shape[1] else w @ w.T
    np.testing.assert_allclose(gram, 4.0 * np.eye(len(gram)), atol=1e-10)


def test_orthogonal_refuses_a_vector():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        Orthogonal()((5,))


def test_a_seeded_initializer_gives_the_same_values_every_call_like_keras():
    init = GlorotUniform(seed=3)
    np.testing.assert_array_equal(init((4, 3)), init((4, 3)))
    assert not np.array_equal(GlorotUniform()((4, 3)), GlorotUniform()((4, 3)))


def test_kernel_fans_follow_keras_for_convolution_kernels():
    assert initializers.compute_fans((20, 30)) == (20, 30)
    assert initializers.compute_fans((3, 3, 4, 8)) == (36, 72)
    assert initializers.compute_fans((7,)) == (7, 7)


@pytest.mark.parametrize("init, keys", [
    (TruncatedNormal(), {"mean": 0.0, "stddev": 0.05, "seed": None}),
    (Orthogonal(), {"gain": 1.0, "seed": None}),
    (VarianceScaling(), {"scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal",
                         "seed": None}),
    (LecunNormal(), {"seed": None}), (LecunUniform(), {"seed": None}),
    (GlorotUniform(), {"seed": None}),
    (RandomNormal(), {"mean": 0.0, "stddev": 0.05, "seed": None}),
])
def test_attributes_carry_keras_config_names_and_defaults(init, keys):
    assert {key: getattr(init, key) for key in keys} == keys


@pytest.mark.parametrize("make, words", [
    (lambda: VarianceScaling(scale=0), "scale"),
    (lambda: VarianceScaling(mode="fan_inn"), "Did you mean 'fan_in'"),
    (lambda: VarianceScaling(distribution="gaussian"), "distribution"),
    (lambda: TruncatedNormal(stddev=-1), "stddev"),
    (lambda: GlorotUniform(seed=1.5), "seed"),
])
def test_bad_initializer_arguments_are_refused_by_name(make, words):
    with pytest.raises((TypeError, ValueError), match=words):
        make()
