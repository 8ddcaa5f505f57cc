"""Data to train on: seeded synthetic sets (offline), helpers for hand-written loops.

Every generator takes its own `seed` and draws from its own NumPy generator, so the data set
does not depend on (or disturb) tinynet's global generator: the same seed gives the same data
on every machine, and `tinynet.set_seed` still controls the model's initial weights.

Inputs come back as float32 arrays of shape (n_samples, n_features); labels as float32 0/1
for binary tasks and int64 class indices for multi-class ones.

MNIST and Fashion-MNIST live in their own file, `tinynet/mnist.py`; `load_mnist` and
`load_fashion_mnist` are re-exported here so that `from tinynet.datasets import load_mnist`
works like the synthetic sets. Keras's IMDB, Reuters and Boston housing (`imdb`, `reuters`,
`boston_housing`, read from the files Keras reads) live in `tinynet/keras_datasets.py`.
"""

import numpy as np

from tinynet.config import get_rng
from tinynet.keras_datasets import boston_housing, fashion_mnist, imdb, mnist, reuters
from tinynet.mnist import (
    FASHION_MNIST_CLASSES,
    DownloadError,
    load_fashion_mnist,
    load_mnist,
    read_idx,
)
from tinynet.validation import (
    check_bool,
    check_float,
    check_int,
    missing_attribute,
    to_float_array,
)

__all__ = [
    "FASHION_MNIST_CLASSES",
    "DownloadError",
    "batches",
    "boston_housing",
    "imdb",
    "load_fashion_mnist",
    "load_mnist",
    "make_classification",
    "make_moons",
    "make_regression",
    "make_spirals",
    "make_strokes",
    "mnist",
    "fashion_mnist",
    "read_idx",
    "reuters",
    "standardize",
    "train_test_split",
]


def _check_seed(seed, where):
    if seed is None:
        return None
    return check_int(seed, f"{where}(seed=...)", minimum=0)


def _samples(data, name):
    """data as an array whose first axis is the samples (of any dtype: labels may be text).
    Refused: None, a single number, an empty array, and a ragged list (rows of different
    lengths), which NumPy cannot turn into an array."""
    if data is None:
        raise TypeError(f"{name} is required, got None")
    try:
        array = np.asarray(data)
    except ValueError:
        raise TypeError(f"{name} must be a rectangular array (every sample the same shape), "
                        f"got a {type(data).__name__} that NumPy cannot turn into one") from None
    if array.ndim == 0:
        raise ValueError(f"{name} must be an array of samples, got a single value {data!r}")
    if len(array) == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); it needs at least one sample")
    return array


def make_classification(n_samples=1000, n_features=20, n_informative=10, n_redundant=5,
                        class_sep=1.0, flip_y=0.01, seed=None):
    """A binary classification task like the article's: numeric features, a 0/1 label.

    How the points are made (the recipe of scikit-learn's generator, written from scratch):
      - each class gets two Gaussian clusters whose centres sit on corners of a hypercube of
        side 2 * class_sep in the `n_informative` dimensions; each cluster is stretched and
        rotated by its own random matrix, so the classes are not linearly separable;
      - `n_redundant` features are random linear combinations of the informative ones;
      - the remaining features are pure N(0, 1) noise;
      - a fraction `flip_y` of the labels is replaced by random ones (label noise);
      - finally the columns are shuffled, so the informative ones are not simply first.

    Returns x: float32 (n_samples, n_features), y: float32 (n_samples,) of 0.0 and 1.0.
    """
    where = "make_classification"
    n_samples = check_int(n_samples, f"{where}(n_samples=...)", minimum=2)
    n_features = check_int(n_features, f"{where}(n_features=...)", minimum=1)
    n_informative = check_int(n_informative, f"{where}(n_informative=...)", minimum=1)
    n_redundant = check_int(n_redundant, f"{where}(n_redundant=...)", minimum=0)
    class_sep = check_float(class_sep, f"{where}(class_sep=...)", low=0.0)
    flip_y = check_float(flip_y, f"{where}(flip_y=...)", low=0.0, high=1.0)
    if n_informative + n_redundant > n_features:
        raise ValueError(
            f"{where}: n_informative + n_redundant must be <= n_features, got "
            f"{n_informative} + {n_redundant} > {n_features}"
        )
    rng = np.random.default_rng(_check_seed(seed, where))

    # Two clusters per class, unless one informative dimension offers only 2 corners.
    n_clusters = 4 if n_informative >= 2 else 2
    corners = _distinct_corners(rng, n_clusters, n_informative) * class_sep
    labels = np.arange(n_samples) % 2  # balanced classes
    # cluster k belongs to class k % 2: clusters 0, 2 -> class 0; 1, 3 -> class 1
    cluster = np.arange(n_samples) % n_clusters

    informative = rng.standard_normal((n_samples, n_informative))
    for k in range(n_clusters):
        rows = cluster == k
        mixing = rng.uniform(-1.0, 1.0, size=(n_informative, n_informative))
        informative[rows] = informative[rows] @ mixing + corners[k]

    redundant = informative @ rng.uniform(-1.0, 1.0, size=(n_informative, n_redundant))
    n_noise = n_features - n_informative - n_redundant
    noise = rng.standard_normal((n_samples, n_noise))
    x = np.hstack([informative, redundant, noise])

    flip = rng.random(n_samples) < flip_y
    labels = np.where(flip, rng.integers(0, 2, size=n_samples), labels)

    x = x[:, rng.permutation(n_features)]  # hide which columns are informative
    order = rng.permutation(n_samples)  # mix the classes
    return x[order].astype(np.float32), labels[order].astype(np.float32)


def _distinct_corners(rng, n_corners, n_dims):
    """`n_corners` different vertices of the hypercube {-1, +1}^n_dims, shape (n_corners, n_dims).

    Drawing each coordinate at random would often give two clusters the same corner (with
    2 informative dimensions, 4 random corners collide 9 times out of 10), and a class 0 and
    a class 1 cluster on the same corner cannot be told apart. So the first (at most 16)
    coordinates are the bits of distinct integers; any further ones are random signs.
    """
    n_bits = min(n_dims, 16)
    index = rng.choice(2 ** n_bits, size=n_corners, replace=False)
    bits = (index[:, None] >> np.arange(n_bits)) & 1
    rest = rng.choice([-1.0, 1.0], size=(n_corners, n_dims - n_bits))
    return np.hstack([2.0 * bits - 1.0, rest])


def make_moons(n_samples=500, noise=0.1, seed=None):
    """Two interleaving half circles in 2-D: a small task for decision-boundary pictures.

    Class 0 lies on the upper half circle of radius 1 around (0, 0); class 1 on the lower
    half circle around (1, 0.5). Gaussian noise of std `noise` is added to every point.

    Returns x: float32 (n_samples, 2), y: float32 (n_samples,) of 0.0 and 1.0.
    """
    where = "make_moons"
    n_samples = check_int(n_samples, f"{where}(n_samples=...)", minimum=2)
    noise = check_float(noise, f"{where}(noise=...)", low=0.0)
    rng = np.random.default_rng(_check_seed(seed, where))
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    upper = np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1)
    lower = np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1)
    x = np.vstack([upper, lower]) + noise * rng.standard_normal((n_samples, 2))
    y = np.concatenate([np.zeros(n_upper), np.ones(n_lower)])
    order = rng.permutation(n_samples)
    return x[order].astype(np.float32), y[order].astype(np.float32)


def make_spirals(n_samples=600, n_classes=3, noise=0.2, turns=1.0, seed=None):
    """`n_classes` interleaved spiral arms in 2-D (the CS231n toy set).

    Arm k: radius r in [0, 1], angle = 2*pi*turns*r + 2*pi*k/n_classes, plus Gaussian noise
    of std `noise` on the angle. Not linearly separable: a network must bend its boundary.

    Returns x: float32 (n_samples, 2), y: int64 (n_samples,) class indices in [0, n_classes).
    """
    where = "make_spirals"
    n_samples = check_int(n_samples, f"{where}(n_samples=...)", minimum=2)
    n_classes = check_int(n_classes, f"{where}(n_classes=...)", minimum=2)
    noise = check_float(noise, f"{where}(noise=...)", low=0.0)
    turns = check_float(turns, f"{where}(turns=...)", low=0.0, low_open=True)
    if n_samples < n_classes:
        raise ValueError(f"{where}: n_samples must be >= n_classes so every class gets a "
                         f"sample, got n_samples={n_samples}, n_classes={n_classes}")
    rng = np.random.default_rng(_check_seed(seed, where))
    y = np.arange(n_samples) % n_classes
    radius = rng.random(n_samples)
    angle = 2 * np.pi * (turns * radius + y / n_classes)
    angle = angle + noise * rng.standard_normal(n_samples)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], axis=1)
    order = rng.permutation(n_samples)
    return x[order].astype(np.float32), y[order].astype(np.int64)


def make_strokes(n_samples=1000, side=16, max_shift=2, noise=0.15, seed=None):
    """Small images that need a convolution: 10 classes, each a shape of two connected pen
    strokes (the same shapes in every call), drawn anywhere within `max_shift` pixels of the
    middle, dimmed by a random factor in [0.7, 1] and overlaid with Gaussian pixel noise of std
    `noise`, then clipped to [0, 1]. A class is a shape that may sit anywhere: what a
    convolution, which slides one small filter over every position, is made for.

    Returns x: float32 (n_samples, side, side, 1) in [0, 1] (channels last), y: int64
    (n_samples,) class indices 0..9.
    max_shift: 0, 1 or 2. The strokes end as close as 2 pixels to the edges, and np.roll
    brings what a larger shift pushes over one edge back in at the opposite one.
    """
    where = "make_strokes"
    n_samples = check_int(n_samples, f"{where}(n_samples=...)", minimum=1)
    side = check_int(side, f"{where}(side=...)", minimum=8)
    max_shift = check_int(max_shift, f"{where}(max_shift=...)", minimum=0)
    if max_shift > 2:
        raise ValueError(f"{where}(max_shift=...) must be at most 2, got {max_shift}: the "
                         f"strokes come as close as 2 pixels to the edges, and a larger shift "
                         f"would wrap them round to the opposite edge")
    noise = check_float(noise, f"{where}(noise=...)", low=0.0)
    rng = np.random.default_rng(_check_seed(seed, where))
    templates = stroke_templates(side)
    y = rng.integers(0, 10, n_samples)
    shifts = rng.integers(-max_shift, max_shift + 1, size=(n_samples, 2))
    images = np.empty((n_samples, side, side))
    for d_row in range(-max_shift, max_shift + 1):   # one np.roll per shift, not per image
        for d_col in range(-max_shift, max_shift + 1):
            chosen = (shifts[:, 0] == d_row) & (shifts[:, 1] == d_col)
            images[chosen] = np.roll(templates[y[chosen]], (d_row, d_col), axis=(1, 2))
    images = images * rng.uniform(0.7, 1.0, (n_samples, 1, 1)) \
        + noise * rng.normal(size=images.shape)
    return np.clip(images, 0.0, 1.0)[..., None].astype(np.float32), y.astype(np.int64)


def stroke_templates(side=16, classes=10, seed=2024):
    """One picture per class, (classes, side, side) in [0, 1]: two connected strokes, each at
    least side/3 long. The seed is fixed: the classes are the same in every run."""
    rng = np.random.default_rng(seed)
    rows, cols = np.mgrid[0:side, 0:side]
    templates = np.zeros((classes, side, side))
    for c in range(classes):
        corners = rng.uniform(2, side - 2, size=(3, 2))
        while np.linalg.norm(np.diff(corners, axis=0), axis=1).min() < side / 3:
            corners = rng.uniform(2, side - 2, size=(3, 2))
        for start, end in zip(corners[:-1], corners[1:], strict=True):
            templates[c] = np.maximum(templates[c], segment_ink(rows, cols, start, end, 0.7))
    return templates


def segment_ink(rows, cols, start, end, width):
    """How much ink a straight pen stroke from `start` to `end` (row, col) leaves on each pixel:
    exp(-d^2 / (2 width^2)), d = the pixel's distance to the segment. rows, cols: (S, S)."""
    direction = end - start
    # the point of the segment nearest each pixel is start + t * direction, t in [0, 1]
    t = ((rows - start[0]) * direction[0] + (cols - start[1]) * direction[1]) \
        / (direction @ direction)
    t = np.clip(t, 0.0, 1.0)
    d2 = (rows - start[0] - t * direction[0]) ** 2 + (cols - start[1] - t * direction[1]) ** 2
    return np.exp(-d2 / (2 * width ** 2))


def make_regression(n_samples=1000, n_features=10, noise=0.1, target_scale=100.0,
                    target_offset=50.0, seed=None):
    """A nonlinear regression task whose targets have a real scale (not mean 0, std 1).

    y = target_offset + target_scale * (signal + noise * e),
    signal = (sin(x @ w1) + 0.5 * tanh(x @ w2)) / 1.2,
    with x ~ N(0, 1), e ~ N(0, 1) and random unit directions w1, w2, so `noise` is relative
    to the signal's scale. With the defaults y has mean about 50 and std about 60, and lives
    roughly in [-50, 150]: a network whose last layer is BatchNormalization would have to undo the
    normalization to reach that range (lesson 07).

    Returns x: float32 (n_samples, n_features), y: float32 (n_samples, 1).
    """
    where = "make_regression"
    n_samples = check_int(n_samples, f"{where}(n_samples=...)", minimum=2)
    n_features = check_int(n_features, f"{where}(n_features=...)", minimum=1)
    noise = check_float(noise, f"{where}(noise=...)", low=0.0)
    target_scale = check_float(target_scale, f"{where}(target_scale=...)", low=0.0,
                               low_open=True)
    target_offset = check_float(target_offset, f"{where}(target_offset=...)")
    rng = np.random.default_rng(_check_seed(seed, where))
    x = rng.standard_normal((n_samples, n_features))
    w1 = rng.standard_normal(n_features)
    w2 = rng.standard_normal(n_features)
    w1 /= np.linalg.norm(w1)
    w2 /= np.linalg.norm(w2)
    signal = (np.sin(x @ w1) + 0.5 * np.tanh(x @ w2)) / 1.2
    y = target_offset + target_scale * (signal + noise * rng.standard_normal(n_samples))
    return x.astype(np.float32), y.reshape(-1, 1).astype(np.float32)


def train_test_split(x, y, test_size=0.2, shuffle=True, seed=None):
    """Split (x, y) into (x_train, x_test, y_train, y_test), like scikit-learn's function.

    test_size: a fraction in (0, 1) (the test set gets round(test_size * n) samples, at least
    one) or an int count. With shuffle=False the last samples become the test set.
    """
    where = "train_test_split"
    x, y = _samples(x, f"{where}: x"), _samples(y, f"{where}: y")
    shuffle = check_bool(shuffle, f"{where}(shuffle=...)")  # 'False' would shuffle
    n = len(x)
    if len(y) != n:
        raise ValueError(f"{where}: x and y must have the same number of samples, got "
                         f"{n} and {len(y)}")
    if isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool):
        n_test = check_int(test_size, f"{where}(test_size=...)", minimum=1)
    else:
        fraction = check_float(test_size, f"{where}(test_size=...)", low=0.0, high=1.0,
                               low_open=True, high_open=True)
        n_test = max(1, int(round(fraction * n)))
    if n_test >= n:
        raise ValueError(f"{where}: test_size leaves no training samples ({n_test} of {n} "
                         "would go to the test set)")
    index = np.arange(n)
    if shuffle:
        index = np.random.default_rng(_check_seed(seed, where)).permutation(n)
    train, test = index[: n - n_test], index[n - n_test:]
    return x[train], x[test], y[train], y[test]


def standardize(x_train, *others):
    """Scale every feature to mean 0 and std 1, with statistics from `x_train` only.

    The same shift and scale are applied to the other arrays (validation, test), as they
    must be: the test set's own statistics are not known at training time. Constant features
    (std 0) are only centred. Returns the standardized arrays (a tuple when `others` given).
    """
    x_train = to_float_array(x_train, "standardize(x_train)", dtype=np.float64, min_ndim=2)
    mean = x_train.mean(axis=0)
    std = x_train.std(axis=0)
    std[std == 0] = 1.0
    dtype = np.float32
    out = [((x_train - mean) / std).astype(dtype)]
    for i, other in enumerate(others):
        other = to_float_array(other, f"standardize(array {i + 2})", dtype=np.float64,
                               min_ndim=2)
        if other.shape[1:] != x_train.shape[1:]:
            raise ValueError(f"standardize: array {i + 2} has feature shape {other.shape[1:]},"
                             f" expected {x_train.shape[1:]} like x_train")
        out.append(((other - mean) / std).astype(dtype))
    return out[0] if not others else tuple(out)


def batches(x, y, batch_size=32, shuffle=True, seed=None):
    """Yield (x_batch, y_batch) pairs covering the data once: one epoch of a hand-written loop.

        for x_batch, y_batch in batches(x, y, batch_size=32, seed=0):
            ...

    The last batch is smaller when batch_size does not divide the number of samples.
    With shuffle=True the order is a permutation drawn from `seed` (or, when seed is None,
    from tinynet's global generator, so `tinynet.set_seed` makes it reproducible).
    Empty data is refused (as fit refuses it): a loop over no batch would silently not train.
    """
    where = "batches"
    x, y = _samples(x, f"{where}: x"), _samples(y, f"{where}: y")
    shuffle = check_bool(shuffle, f"{where}(shuffle=...)")  # 'False' would shuffle
    n = len(x)
    if len(y) != n:
        raise ValueError(f"{where}: x and y must have the same number of samples, got "
                         f"{n} and {len(y)}")
    batch_size = check_int(batch_size, f"{where}(batch_size=...)", minimum=1)
    if shuffle:
        if seed is None:
            index = get_rng().permutation(n)
        else:
            index = np.random.default_rng(_check_seed(seed, where)).permutation(n)
    else:
        index = np.arange(n)
    # Checks above run at the call; the generator below only slices.
    return _iterate_batches(x, y, index, batch_size)


def _iterate_batches(x, y, index, batch_size):
    for start in range(0, len(index), batch_size):
        rows = index[start:start + batch_size]
        yield x[rows], y[rows]


# keras.datasets.mnist and keras.datasets.fashion_mnist (`mnist.load_data()`, in Keras's
# uint8 format) live in tinynet/keras_datasets.py beside imdb: they read Keras's cached files
# first ($KERAS_HOME/datasets/mnist.npz, .../fashion-mnist/*.gz), then the same IDX files as
# load_mnist / load_fashion_mnist.



# Keras's other data sets, and what tinynet offers instead.
KERAS_ONLY_DATASETS = ("cifar10", "cifar100", "california_housing")
INSTEAD = ("tinynet downloads only MNIST and Fashion-MNIST (datasets.mnist.load_data(), "
           "datasets.fashion_mnist.load_data()) and Keras's imdb, reuters and "
           "boston_housing, and makes small data sets itself "
           "(make_classification, make_moons, make_spirals, make_strokes, make_regression)")


def __getattr__(name):
    """A Keras data set tinynet does not have (cifar10, cifar100, ...) gets an error that says
    which data sets tinynet has: MNIST, Fashion-MNIST and small generated ones."""
    raise missing_attribute("tinynet.datasets", name, __all__,
                            dict.fromkeys(KERAS_ONLY_DATASETS, INSTEAD))
