"""The synthetic data sets and the helpers of hand-written training loops."""

import numpy as np
import pytest

import tinynet
from tinynet.datasets import (
    batches,
    make_classification,
    make_moons,
    make_regression,
    make_spirals,
    standardize,
    train_test_split,
)

GENERATORS = {
    "classification": lambda seed: make_classification(n_samples=200, seed=seed),
    "moons": lambda seed: make_moons(n_samples=200, seed=seed),
    "spirals": lambda seed: make_spirals(n_samples=200, seed=seed),
    "regression": lambda seed: make_regression(n_samples=200, seed=seed),
}


def logistic_regression_accuracy(x_train, y_train, x_test, y_test, steps=300, lr=0.5):
    """Full-batch gradient descent on the logistic loss: a baseline independent of tinynet."""
    w = np.zeros(x_train.shape[1])
    b = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x_train @ w + b)))
        w -= lr * x_train.T @ (p - y_train) / len(x_train)
        b -= lr * np.mean(p - y_train)
    return np.mean(((x_test @ w + b) > 0) == y_test)


# ------------------------------------------------------------------ shapes, dtypes, labels


def test_make_classification_shapes_dtypes_and_labels():
    x, y = make_classification(n_samples=300, n_features=12, n_informative=4, n_redundant=3,
                               seed=0)
    assert x.shape == (300, 12) and x.dtype == np.float32
    assert y.shape == (300,) and y.dtype == np.float32
    assert set(np.unique(y)) == {0.0, 1.0}


def test_make_moons_shapes_dtypes_and_labels():
    x, y = make_moons(n_samples=101, seed=0)
    assert x.shape == (101, 2) and x.dtype == np.float32
    assert y.shape == (101,) and y.dtype == np.float32
    assert set(np.unique(y)) == {0.0, 1.0}


def test_make_spirals_gives_int_labels_for_every_class():
    x, y = make_spirals(n_samples=200, n_classes=4, seed=0)
    assert x.shape == (200, 2) and x.dtype == np.float32
    assert y.shape == (200,) and y.dtype == np.int64
    assert sorted(np.unique(y)) == [0, 1, 2, 3]
    assert np.all(np.linalg.norm(x, axis=1) <= 1.0 + 1e-6)  # radius in [0, 1]


def test_make_regression_shapes_and_a_real_target_scale():
    x, y = make_regression(n_samples=2000, n_features=7, seed=0)
    assert x.shape == (2000, 7) and x.dtype == np.float32
    assert y.shape == (2000, 1) and y.dtype == np.float32
    # not already standardized: a BN output layer could not reach these targets
    assert y.std() > 10
    assert 30 < y.mean() < 70  # around target_offset=50


def test_make_regression_noise_is_relative_to_the_target_scale():
    clean = make_regression(n_samples=500, noise=0.0, seed=1)[1]
    noisy = make_regression(n_samples=500, noise=0.5, seed=1)[1]
    # same x and directions (same seed), so the difference is the noise: 100 * 0.5 * N(0, 1)
    assert 40 < np.std(noisy - clean) < 60


@pytest.mark.parametrize("make", [make_classification, make_moons, make_spirals])
def test_classes_are_balanced(make):
    _, y = make(n_samples=600, seed=2)
    counts = np.bincount(y.astype(np.int64))
    assert counts.max() - counts.min() <= 0.1 * counts.mean()


# ------------------------------------------------------------------ determinism


@pytest.mark.parametrize("name", GENERATORS)
def test_same_seed_gives_identical_data(name):
    x1, y1 = GENERATORS[name](seed=11)
    x2, y2 = GENERATORS[name](seed=11)
    assert np.array_equal(x1, x2) and np.array_equal(y1, y2)


@pytest.mark.parametrize("name", GENERATORS)
def test_different_seeds_give_different_data(name):
    x1, _ = GENERATORS[name](seed=1)
    x2, _ = GENERATORS[name](seed=2)
    assert not np.array_equal(x1, x2)


@pytest.mark.parametrize("name", GENERATORS)
def test_generators_leave_the_global_generator_alone(name):
    tinynet.set_seed(5)
    expected = tinynet.get_rng().random(3)
    tinynet.set_seed(5)
    GENERATORS[name](seed=0)
    assert np.array_equal(tinynet.get_rng().random(3), expected)


# ------------------------------------------------------------------ make_classification


def test_make_classification_is_learnable_by_logistic_regression():
    x, y = make_classification(n_samples=1000, seed=0)
    x_train, x_test, y_train, y_test = train_test_split(x, y, seed=0)
    x_train, x_test = standardize(x_train, x_test)
    assert logistic_regression_accuracy(x_train, y_train, x_test, y_test) > 0.8


def test_make_classification_with_few_informative_features_is_still_learnable():
    # With 2 informative dimensions there are only 4 hypercube corners for 4 clusters: they
    # must all differ, or a class 0 and a class 1 cluster would sit on the same spot.
    accuracies = []
    for seed in range(5):
        x, y = make_classification(n_samples=600, n_features=2, n_informative=2,
                                   n_redundant=0, class_sep=2.0, flip_y=0.0, seed=seed)
        x_train, x_test, y_train, y_test = train_test_split(x, y, seed=0)
        # the two classes are diagonal corners (XOR-like), so add the product feature
        features = [np.column_stack([a, a[:, 0] * a[:, 1]]) for a in (x_train, x_test)]
        accuracies.append(logistic_regression_accuracy(features[0], y_train,
                                                       features[1], y_test))
    assert min(accuracies) > 0.75


def test_make_classification_redundant_features_are_combinations_of_informative_ones():
    x, _ = make_classification(n_samples=400, n_features=10, n_informative=3, n_redundant=4,
                               seed=0)
    # 3 informative + 4 combinations of them + 3 noise columns: rank 6, not 10
    assert np.linalg.matrix_rank(x.astype(np.float64), tol=1e-3) == 6


def test_flip_y_adds_label_noise():
    x, clean = make_classification(n_samples=2000, flip_y=0.0, seed=3)
    _, noisy = make_classification(n_samples=2000, flip_y=0.4, seed=3)
    # about half of the 40% re-drawn labels change: 20% of the labels differ
    assert 0.15 < np.mean(clean != noisy) < 0.25


# ------------------------------------------------------------------ train_test_split


def test_train_test_split_sizes_and_no_overlap():
    x = np.arange(100).reshape(50, 2)
    y = np.arange(50)
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.2, seed=0)
    assert len(x_train) == len(y_train) == 40 and len(x_test) == len(y_test) == 10
    assert set(y_train).isdisjoint(y_test)
    assert sorted(np.concatenate([y_train, y_test])) == list(range(50))
    assert np.array_equal(x_train[:, 0] // 2, y_train)  # rows stay with their labels


def test_train_test_split_takes_an_int_count_and_keeps_order_without_shuffle():
    x, y = np.zeros((10, 3)), np.arange(10)
    _, _, y_train, y_test = train_test_split(x, y, test_size=3, shuffle=False)
    assert list(y_train) == list(range(7)) and list(y_test) == [7, 8, 9]


def test_train_test_split_is_seeded():
    x, y = np.zeros((30, 1)), np.arange(30)
    first = train_test_split(x, y, seed=4)[3]
    assert np.array_equal(first, train_test_split(x, y, seed=4)[3])
    assert not np.array_equal(first, train_test_split(x, y, seed=5)[3])


# ------------------------------------------------------------------ standardize


def test_standardize_uses_the_training_statistics_only():
    rng = np.random.default_rng(0)
    x_train = rng.normal(5.0, 3.0, size=(200, 4))
    x_test = rng.normal(-2.0, 0.5, size=(50, 4))
    train_out, test_out = standardize(x_train, x_test)
    np.testing.assert_allclose(train_out.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(train_out.std(axis=0), 1.0, atol=1e-5)
    expected = (x_test - x_train.mean(axis=0)) / x_train.std(axis=0)
    np.testing.assert_allclose(test_out, expected, rtol=1e-5, atol=1e-5)
    assert abs(test_out.mean()) > 1.0  # the test set's own mean was not subtracted


def test_standardize_only_centres_a_constant_feature():
    x = np.column_stack([np.full(10, 7.0), np.arange(10.0)])
    out = standardize(x)
    assert np.all(out[:, 0] == 0.0) and np.all(np.isfinite(out))


# ------------------------------------------------------------------ batches


def test_batches_cover_every_sample_once_and_the_last_batch_is_smaller():
    x = np.arange(23).reshape(23, 1)
    y = np.arange(23)
    pairs = list(batches(x, y, batch_size=5, seed=0))
    assert [len(yb) for _, yb in pairs] == [5, 5, 5, 5, 3]
    seen = np.concatenate([yb for _, yb in pairs])
    assert sorted(seen) == list(range(23))
    assert not np.array_equal(seen, np.arange(23))  # shuffled
    assert all(np.array_equal(xb[:, 0], yb) for xb, yb in pairs)


def test_batches_without_shuffle_keep_the_order():
    y = np.arange(10)
    seen = np.concatenate([yb for _, yb in batches(y[:, None], y, batch_size=4, shuffle=False)])
    assert np.array_equal(seen, y)


def test_batches_without_seed_follow_tinynet_set_seed():
    y = np.arange(50)
    orders = []
    for _ in range(2):
        tinynet.set_seed(3)
        orders.append(np.concatenate([yb for _, yb in batches(y[:, None], y, batch_size=8)]))
    assert np.array_equal(*orders)


# ------------------------------------------------------------------ bad arguments


@pytest.mark.parametrize(
    "call, error, name",
    [
        (lambda: make_classification(n_samples=1.5), TypeError, "n_samples"),
        (lambda: make_classification(n_samples=1), ValueError, "n_samples"),
        (lambda: make_classification(n_features=5, n_informative=4, n_redundant=2),
         ValueError, "n_informative"),
        (lambda: make_classification(flip_y=1.5), ValueError, "flip_y"),
        (lambda: make_classification(seed=-1), ValueError, "seed"),
        (lambda: make_classification(seed="0"), TypeError, "seed"),
        (lambda: make_moons(noise=-0.1), ValueError, "noise"),
        (lambda: make_spirals(n_classes=1), ValueError, "n_classes"),
        (lambda: make_spirals(n_samples=3, n_classes=5), ValueError, "n_classes"),
        (lambda: make_spirals(turns=0), ValueError, "turns"),
        (lambda: make_regression(target_scale=0), ValueError, "target_scale"),
        (lambda: make_regression(n_features=True), TypeError, "n_features"),
        (lambda: train_test_split(np.zeros((5, 2)), np.zeros(4)), ValueError, "same number"),
        (lambda: train_test_split(np.zeros((5, 2)), np.zeros(5), test_size=1.0),
         ValueError, "test_size"),
        (lambda: train_test_split(np.zeros((5, 2)), np.zeros(5), test_size=5),
         ValueError, "test_size"),
        (lambda: standardize(np.zeros(5)), ValueError, "x_train"),
        (lambda: standardize(np.zeros((5, 2)), np.zeros((5, 3))), ValueError, "array 2"),
        (lambda: batches(np.zeros((5, 2)), np.zeros(5), batch_size=0), ValueError,
         "batch_size"),
        (lambda: batches(np.zeros((5, 2)), np.zeros(4)), ValueError, "same number"),
    ],
)
def test_bad_arguments_raise_errors_naming_the_argument(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_both_image_loaders_and_the_fashion_class_names_are_in_datasets():
    from tinynet import datasets, mnist
    assert datasets.load_mnist is mnist.load_mnist
    assert datasets.load_fashion_mnist is mnist.load_fashion_mnist
    assert len(datasets.FASHION_MNIST_CLASSES) == 10
    assert datasets.FASHION_MNIST_CLASSES[0] == "T-shirt/top"
    assert datasets.FASHION_MNIST_CLASSES[9] == "Ankle boot"


def test_make_strokes_is_seeded_and_shaped_like_images():
    from tinynet.datasets import make_strokes

    x, y = make_strokes(50, seed=3)
    again, _ = make_strokes(50, seed=3)
    assert x.shape == (50, 16, 16, 1) and x.dtype == np.float32 and y.dtype == np.int64
    assert np.array_equal(x, again) and 0.0 <= x.min() and x.max() <= 1.0
    assert not np.array_equal(x, make_strokes(50, seed=4)[0])
    assert set(y) <= set(range(10))


def test_make_strokes_classes_are_the_same_shapes_in_every_call():
    from tinynet.datasets import make_strokes

    x1, y1 = make_strokes(400, noise=0.0, max_shift=0, seed=1)
    x2, y2 = make_strokes(400, noise=0.0, max_shift=0, seed=2)
    for label in range(10):  # without noise or shifts, a class's images differ only in ink
        a, b = x1[y1 == label][0], x2[y2 == label][0]
        np.testing.assert_allclose(a / a.max(), b / b.max(), atol=1e-6)
