"""Small helpers Keras users reach for: `to_categorical`, `set_random_seed`, `normalize`.

    to_categorical([0, 2, 1])          ->  [[1, 0, 0], [0, 0, 1], [0, 1, 0]]   (one-hot rows)
    set_random_seed(42)                ->  every random draw reproducible
    normalize([[3, 4]])                ->  [[0.6, 0.8]]   (each row divided by its L2 norm)

As in keras.utils: labels of shape (N,) or (N, 1) give one-hot rows (N, num_classes), with
num_classes = max(label) + 1 when it is not given; the result is float64, as Keras returns it.
"""

import random

import numpy as np

from tinynet.config import clear_session, set_seed  # noqa: F401 (keras.utils.clear_session)
from tinynet.validation import check_float, check_int, missing_attribute, to_float_array


def to_categorical(x, num_classes=None):
    """One-hot rows for integer class labels.

    Inputs: x, integer labels of shape (N,) (or (N, 1), or any shape (..., 1)).
    Returns: float64 array of shape (N, num_classes) ((..., num_classes) in general), with a 1
    in column x[n] of row n and 0 elsewhere.
    """
    try:
        labels = np.asarray(x)
    except ValueError:  # a list of rows of different lengths
        raise TypeError(f"to_categorical: x must be a rectangular array of class labels (every "
                        f"row the same length), got a {type(x).__name__} that NumPy cannot "
                        f"turn into one") from None
    if labels.dtype == bool:  # False, True are classes 0, 1, as in Keras
        labels = labels.astype(np.int64)
    if not np.issubdtype(labels.dtype, np.number):
        raise ValueError(f"to_categorical: x must hold integer class labels (0, 1, 2, ...), "
                         f"got an array of dtype {labels.dtype} and shape {labels.shape}")
    if labels.size == 0 and num_classes is None:
        raise ValueError(f"to_categorical: x holds no labels (shape {labels.shape}), so the "
                         f"number of classes cannot be read from them; give num_classes")
    if labels.dtype.kind == "f":
        # inf, NaN and values beyond int64 would turn into nonsense integers below
        bad = labels[~(np.abs(labels) < 2.0 ** 63)]
        if bad.size:
            raise ValueError(f"to_categorical: x must hold integer class labels (0, 1, 2, ...), "
                             f"got {bad.size} inf, NaN or value too large to be a class label, "
                             f"such as {bad[0]:g}")
    fractions = labels[labels != np.round(labels)]
    if fractions.size:
        raise ValueError(f"to_categorical: x must hold integer class labels (0, 1, 2, ...), "
                         f"got {fractions.size} non-integer value(s) such as {fractions[0]:g}")
    labels = labels.astype(np.int64)
    shape = labels.shape[:-1] if labels.ndim > 1 and labels.shape[-1] == 1 else labels.shape
    labels = labels.reshape(-1)
    if num_classes is None:
        num_classes = int(labels.max()) + 1
    num_classes = check_int(num_classes, "to_categorical(num_classes=...)", minimum=1)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"to_categorical: labels must be in [0, {num_classes}) for "
                         f"num_classes={num_classes}, got values from {labels.min()} to "
                         f"{labels.max()}")
    one_hot = np.zeros((len(labels), num_classes))
    one_hot[np.arange(len(labels)), labels] = 1
    return one_hot.reshape(*shape, num_classes)


def set_random_seed(seed):
    """Seed every generator a Keras program may use: tinynet's (weights, shuffling, dropout:
    the same as tinynet.set_seed), NumPy's global one (np.random.rand ...) and Python's
    `random`, as keras.utils.set_random_seed does.

    seed: an int from 0 to 2**32 - 1 (what np.random.seed takes), checked before any generator
    is seeded.
    """
    if isinstance(seed, (int, np.integer)) and seed > 2 ** 32 - 1:
        raise ValueError(f"set_random_seed(seed=...) must be at most 2**32 - 1 = {2 ** 32 - 1} "
                         f"(np.random.seed's limit), got {seed}")
    set_seed(seed)  # it refuses anything but an int >= 0, before seeding
    np.random.seed(int(seed))
    random.seed(int(seed))


def normalize(x, axis=-1, order=2):
    """x divided by its norm along `axis` (keras.utils.normalize): each row a unit vector by
    default. A zero vector stays zero (its norm counts as 1, as in Keras 3.15.1's code).

    Inputs: x, an array of any shape; axis, an int; order, the norm's order (2: Euclidean,
    1: sum of absolute values, np.inf: the largest absolute value, or any other p >= 1, the
    p-norm). Orders below 1 (0, -1, -np.inf), which Keras passes on to NumPy, are refused:
    they give no norm (0 counts the nonzero values, -np.inf takes the smallest one).
    Returns: a float array of x's shape (float32 stays float32; integers become float64).

    Two differences: Keras 3.15.1's NumPy path replaces axis=0 by -1 (`axis = axis or -1`),
    so normalize(x, axis=0) there divides each ROW by the norms of the columns; here axis=0
    normalizes each column, as the argument says. And a 1-D x keeps its shape (n,) here,
    where that path returns (1, n) (its list path returns (n,))."""
    array = np.asarray(x)
    dtype = array.dtype if array.dtype.kind == "f" else np.float64
    array = to_float_array(array, "normalize: x", dtype=dtype)
    axis = check_int(axis, "normalize(axis=...)", minimum=-array.ndim)
    # a norm's order is a number p >= 1 or np.inf; below 1 (0, -1, -np.inf) there is no norm
    if order == -np.inf or (order != np.inf and check_float(order, "normalize(order=...)") < 1):
        raise ValueError(f"normalize(order=...) must be 1, 2, np.inf or another p >= 1 (the "
                         f"order of a norm), got {order}")
    if axis >= array.ndim:
        raise ValueError(f"normalize(axis={axis}): x has only {array.ndim} axes")
    norm = np.linalg.norm(array, ord=order, axis=axis, keepdims=True)
    norm[norm == 0] = 1
    return (array / norm).astype(dtype, copy=False)


# keras.utils' other helpers, which tinynet does not have: what to use instead
MISSING = {
    "pad_sequences": "tinynet has no text or sequence layers",
    "get_file": "tinynet.datasets.load_mnist downloads MNIST; other files: urllib.request",
    "plot_model": "model.summary() prints the layers; tinynet.plot draws training curves",
    "model_to_dot": "model.summary() prints the layers",
    "image_dataset_from_directory": "tinynet trains on NumPy arrays held in memory",
    "text_dataset_from_directory": "tinynet has no text layers",
    "timeseries_dataset_from_array": "tinynet has no sequence layers",
    "split_dataset": "tinynet.datasets.train_test_split, or fit(validation_split=...)",
    "Progbar": "fit(verbose=1) shows Keras's progress bar",
    "PyDataset": "tinynet trains on NumPy arrays: fit(x, y, batch_size=...)",
    "Sequence": "tinynet trains on NumPy arrays: fit(x, y, batch_size=...)",
}


def __getattr__(name):
    """A keras.utils helper tinynet lacks gets an error that says what to use instead (for
    keras.utils' saving helpers, custom_object_scope and the like, what tinynet.saving says)."""
    from tinynet import saving  # saving is heavier; only an error needs it

    hints = {**saving.INSTEAD, **MISSING}
    raise missing_attribute("tinynet.utils", name,
                            ["clear_session", "normalize", "set_random_seed", "to_categorical"],
                            hints)
