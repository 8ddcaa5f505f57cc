"""Losses: values by hand, gradients against finite differences, the fused p - y gradient."""

import numpy as np
import pytest

from tinynet import losses
from tinynet.gradcheck import check_loss, relative_error
from tinynet.layers.activation import sigmoid, sigmoid_backward, softmax, softmax_backward

GRADIENT_TOLERANCE = 1e-6


def rng(seed):
    return np.random.default_rng(seed)


def binary_case(n=6, seed=0):
    """Targets (n, 1) of 0/1, probabilities in (0.05, 0.95), logits."""
    y = rng(seed).integers(0, 2, size=(n, 1)).astype(np.float64)
    z = rng(seed + 1).normal(0.0, 1.5, size=(n, 1))
    return y, sigmoid(z), z


def categorical_case(n=5, k=4, seed=0):
    """Integer labels (n,), one-hot targets (n, k), probabilities and logits."""
    labels = rng(seed).integers(0, k, size=n)
    z = rng(seed + 1).normal(0.0, 1.5, size=(n, k))
    return labels, np.eye(k)[labels], softmax(z), z


# -- gradient checks, float64 ----------------------------------------------------------------

@pytest.mark.parametrize("from_logits", [False, True])
def test_binary_crossentropy_gradient_matches_finite_differences(from_logits):
    y, p, z = binary_case()
    loss = losses.BinaryCrossentropy(from_logits=from_logits)
    assert check_loss(loss, y, z if from_logits else p) < GRADIENT_TOLERANCE


@pytest.mark.parametrize("from_logits", [False, True])
def test_categorical_crossentropy_gradient_matches_finite_differences(from_logits):
    _, one_hot, p, z = categorical_case()
    loss = losses.CategoricalCrossentropy(from_logits=from_logits)
    assert check_loss(loss, one_hot, z if from_logits else p) < GRADIENT_TOLERANCE


@pytest.mark.parametrize("from_logits", [False, True])
def test_sparse_categorical_crossentropy_gradient_matches_finite_differences(from_logits):
    labels, _, p, z = categorical_case(seed=3)
    loss = losses.SparseCategoricalCrossentropy(from_logits=from_logits)
    assert check_loss(loss, labels, z if from_logits else p) < GRADIENT_TOLERANCE


def test_mse_gradient_matches_finite_differences():
    y = rng(4).normal(size=(6, 3))
    assert check_loss(losses.MeanSquaredError(), y, rng(5).normal(size=(6, 3))) < 1e-6


def test_binary_crossentropy_gradient_with_soft_targets_matches_finite_differences():
    y = rng(6).uniform(size=(7, 2))
    _, p, _ = binary_case(n=14, seed=7)
    assert check_loss(losses.BinaryCrossentropy(), y, p.reshape(7, 2)) < GRADIENT_TOLERANCE


# -- the fused gradient ----------------------------------------------------------------------

def test_fused_sigmoid_bce_gradient_equals_the_unfused_chain_rule():
    y, p, _ = binary_case(n=8, seed=8)
    loss = losses.BinaryCrossentropy()
    unfused = sigmoid_backward(loss.gradient(y, p), p)  # dL/dp * dp/dz
    fused = loss.gradient_from_logits(y, p)               # (p - y) / N
    assert relative_error(fused, unfused) < 1e-10


def test_fused_softmax_crossentropy_gradient_equals_the_unfused_chain_rule():
    _, one_hot, p, _ = categorical_case(n=6, k=3, seed=9)
    loss = losses.CategoricalCrossentropy()
    unfused = softmax_backward(loss.gradient(one_hot, p), p)
    fused = loss.gradient_from_logits(one_hot, p)
    assert relative_error(fused, unfused) < 1e-10


def test_fused_sparse_gradient_equals_the_one_hot_gradient():
    labels, one_hot, p, _ = categorical_case(seed=10)
    sparse = losses.SparseCategoricalCrossentropy().gradient_from_logits(labels, p)
    dense = losses.CategoricalCrossentropy().gradient_from_logits(one_hot, p)
    np.testing.assert_array_equal(sparse, dense)


def test_fused_gradient_equals_the_from_logits_gradient():
    y, p, z = binary_case(seed=11)
    fused = losses.BinaryCrossentropy().gradient_from_logits(y, p)
    from_logits = losses.BinaryCrossentropy(from_logits=True).gradient(y, z)
    np.testing.assert_allclose(fused, from_logits, rtol=1e-12)


# -- values ----------------------------------------------------------------------------------

def test_binary_crossentropy_value_by_hand():
    y = np.array([[1.0], [0.0]])
    p = np.array([[0.8], [0.4]])
    expected = -(np.log(0.8) + np.log(0.6)) / 2
    assert losses.binary_crossentropy(y, p) == pytest.approx(expected, rel=1e-12)


def test_binary_crossentropy_targets_n_and_n_by_1_mean_the_same():
    y, p, _ = binary_case(seed=12)
    loss = losses.BinaryCrossentropy()
    assert loss.loss(y.ravel(), p) == loss.loss(y, p)
    np.testing.assert_array_equal(loss.gradient(y.ravel(), p), loss.gradient(y, p))


def test_categorical_crossentropy_value_by_hand():
    y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    p = np.array([[0.2, 0.7, 0.1], [0.5, 0.25, 0.25]])
    expected = -(np.log(0.7) + np.log(0.5)) / 2
    assert losses.categorical_crossentropy(y, p) == pytest.approx(expected, rel=1e-12)
    assert losses.sparse_categorical_crossentropy(np.array([1, 0]), p) == pytest.approx(
        expected, rel=1e-12)


def test_mse_value_by_hand():
    assert losses.mse(np.array([[1.0, 2.0]]), np.array([[2.0, 0.0]])) == pytest.approx(2.5)


def test_from_logits_values_equal_the_loss_of_the_activated_outputs():
    y, p, z = binary_case(seed=13)
    assert losses.binary_crossentropy(y, z, from_logits=True) == pytest.approx(
        losses.binary_crossentropy(y, p), rel=1e-12)
    labels, one_hot, p, z = categorical_case(seed=14)
    assert losses.categorical_crossentropy(one_hot, z, from_logits=True) == pytest.approx(
        losses.categorical_crossentropy(one_hot, p), rel=1e-12)


def test_probabilities_of_exactly_0_and_1_are_clipped_like_keras():
    y = np.array([[1.0], [0.0]])
    p = np.array([[0.0], [1.0]])  # both completely wrong
    value = losses.binary_crossentropy(y, p)
    assert value == pytest.approx(-np.log(1e-7), rel=1e-9)  # -log of the clip bound
    gradient = losses.BinaryCrossentropy().gradient(y, p)
    assert np.all(np.isfinite(gradient))


def test_huge_logits_give_finite_losses_and_gradients():
    y = np.array([[1.0], [0.0], [1.0]])
    z = np.array([[-1000.0], [1000.0], [1000.0]])
    loss = losses.BinaryCrossentropy(from_logits=True)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        value = loss.loss(y, z)
        gradient = loss.gradient(y, z)
    assert value == pytest.approx(2000.0 / 3, rel=1e-9)  # |z| for the two wrong ones
    np.testing.assert_allclose(gradient, [[-1 / 3], [1 / 3], [0.0]], atol=1e-12)


def test_huge_softmax_logits_give_finite_losses():
    one_hot = np.array([[1.0, 0.0]])
    value = losses.categorical_crossentropy(one_hot, np.array([[0.0, 800.0]]), from_logits=True)
    assert value == pytest.approx(800.0, rel=1e-9)


# -- lookup ----------------------------------------------------------------------------------

@pytest.mark.parametrize("name, cls", [
    ("binary_crossentropy", losses.BinaryCrossentropy),
    ("categorical_crossentropy", losses.CategoricalCrossentropy),
    ("sparse_categorical_crossentropy", losses.SparseCategoricalCrossentropy),
    ("mse", losses.MeanSquaredError),
    ("mean_squared_error", losses.MeanSquaredError),
])
def test_losses_by_string_and_by_class(name, cls):
    assert isinstance(losses.get(name), cls)
    assert isinstance(losses.get(cls), cls)
    instance = cls()
    assert losses.get(instance) is instance


def test_unknown_loss_name_suggests_the_closest():
    with pytest.raises(ValueError, match="binary_crossentropy"):
        losses.get("binary_crossentropyy")
