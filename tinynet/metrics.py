"""Metrics: numbers reported during training that are not optimized.

'accuracy' means different things for different losses (as in Keras):
    binary_crossentropy                -> binary_accuracy:      mean((p > 0.5) == (y > 0.5))
    categorical_crossentropy           -> categorical_accuracy: mean(argmax p == argmax y)
    sparse_categorical_crossentropy    -> sparse_categorical_accuracy: mean(argmax p == y)
Each function returns the mean over the batch.
"""

import numpy as np

from tinynet.validation import unknown_name_error


def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_true = y_true.reshape(y_pred.shape) if y_true.size == y_pred.size else y_true
    return float(np.mean((y_pred > threshold) == (y_true > threshold)))


def categorical_accuracy(y_true, y_pred):
    return float(np.mean(np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)))


def sparse_categorical_accuracy(y_true, y_pred):
    return float(np.mean(np.argmax(y_pred, axis=-1) == y_true.reshape(-1)))


def mean_absolute_error(y_true, y_pred):
    y_true = y_true.reshape(y_pred.shape) if y_true.size == y_pred.size else y_true
    return float(np.mean(np.abs(y_pred - y_true)))


def mean_squared_error(y_true, y_pred):
    y_true = y_true.reshape(y_pred.shape) if y_true.size == y_pred.size else y_true
    return float(np.mean((y_pred - y_true) ** 2))


METRICS = {
    "binary_accuracy": binary_accuracy,
    "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "mae": mean_absolute_error,
    "mse": mean_squared_error,
}

ACCURACY_FOR_LOSS = {
    "binary_crossentropy": binary_accuracy,
    "categorical_crossentropy": categorical_accuracy,
    "sparse_categorical_crossentropy": sparse_categorical_accuracy,
}


def get(identifier, loss_name):
    """(name shown in the history, function) for a metric name, given the model's loss."""
    if callable(identifier) and not isinstance(identifier, str):
        return getattr(identifier, "__name__", "metric"), identifier
    if not isinstance(identifier, str):
        raise TypeError(f"compile(metrics=...): each metric must be a name like 'accuracy', "
                        f"got {identifier!r}")
    key = identifier.lower()
    if key in ("accuracy", "acc"):
        if loss_name not in ACCURACY_FOR_LOSS:
            raise ValueError(f"compile(metrics=['accuracy']): accuracy needs a classification "
                             f"loss, got loss '{loss_name}'; use 'mae' or 'mse' for regression")
        return "accuracy", ACCURACY_FOR_LOSS[loss_name]
    if key not in METRICS:
        raise unknown_name_error("metric", identifier, [*METRICS, "accuracy"])
    return key, METRICS[key]
