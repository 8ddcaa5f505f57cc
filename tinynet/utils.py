"""Small helpers Keras users reach for: `to_categorical` and `set_random_seed`.

    to_categorical([0, 2, 1])          ->  [[1, 0, 0], [0, 0, 1], [0, 1, 0]]   (one-hot rows)
    set_random_seed(42)                ->  every random draw reproducible

As in keras.utils: labels of shape (N,) or (N, 1) give one-hot rows (N, num_classes), with
num_classes = max(label) + 1 when it is not given; the result is float64, as Keras returns it.
"""

import random

import numpy as np

from tinynet.config import set_seed
from tinynet.validation import check_int


def to_categorical(x, num_classes=None):
    """One-hot rows for integer class labels.

    Inputs: x, integer labels of shape (N,) (or (N, 1), or any shape (..., 1)).
    Returns: float64 array of shape (N, num_classes) ((..., num_classes) in general), with a 1
    in column x[n] of row n and 0 elsewhere.
    """
    labels = np.asarray(x)
    if labels.size == 0 or not np.issubdtype(labels.dtype, np.number):
        raise ValueError(f"to_categorical: x must hold integer class labels (0, 1, 2, ...), "
                         f"got an array of dtype {labels.dtype} and shape {labels.shape}")
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
    if labels.min() < 0 or labels.max() >= num_classes:
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

    seed: a non-negative int.
    """
    set_seed(seed)
    np.random.seed(int(seed))
    random.seed(int(seed))
