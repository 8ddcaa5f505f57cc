"""Loss functions: a number that says how wrong the predictions are, and its gradient.

All losses average over the batch (and, for binary cross-entropy and MSE, over the last axis),
as Keras does. Shapes: y_pred (N, K); y_true (N, K), or (N,) where that is unambiguous.

    binary_crossentropy       L = -mean(y log p + (1 - y) log(1 - p)),  p clipped to [1e-7, 1-1e-7]
    categorical_crossentropy  L = -mean_n sum_k y_nk log p_nk            (one-hot y)
    sparse_categorical_...    the same with integer labels y_n in [0, K)
    mse                       L = mean((y_pred - y)^2)

Probabilities are clipped, as in Keras, so p = 0 or p = 1 gives a finite loss and gradient.

The fused gradient: when a sigmoid (softmax) output feeds binary (categorical) cross-entropy,
dL/dz with respect to the activation's INPUT z is simply (p - y) / N: the 1 / (p (1 - p)) of the
loss cancels the p (1 - p) of the sigmoid. The model uses it: it is faster and never divides by
a tiny p. With from_logits=True the model outputs z itself and the loss applies the sigmoid or
softmax inside, in a numerically stable form.
"""

import numpy as np

from tinynet.layers.activation import sigmoid, softmax
from tinynet.validation import check_bool, to_float_array, unknown_name_error

EPSILON = 1e-7  # Keras's clipping constant for probabilities


class Loss:
    """Base class: `loss(y_true, y_pred)` -> float, `gradient(y_true, y_pred)` -> dL/dy_pred.

    `fused_activation` names the output activation whose gradient combines with this loss
    into (p - y) / N; `gradient_from_logits` returns that combined gradient.
    """

    name = "loss"
    fused_activation = None

    def __init__(self, from_logits=False):
        self.from_logits = check_bool(from_logits, f"{type(self).__name__}(from_logits=...)")

    def __call__(self, y_true, y_pred):
        """The loss of y_pred against y_true, checked first: called by hand, a shape mismatch
        would otherwise broadcast silently into a wrong number."""
        where = f"{type(self).__name__}()(y_true, y_pred)"
        pred_dtype = np.asarray(y_pred).dtype
        dtype = pred_dtype if pred_dtype in (np.float32, np.float64) else np.float64
        y_pred = to_float_array(y_pred, f"{where}: y_pred", dtype=dtype)
        y_true = to_float_array(y_true, f"{where}: y_true", dtype=dtype)
        if len(y_true) != len(y_pred):
            raise ValueError(f"{where}: y_true and y_pred must have the same number of "
                             f"samples, got {len(y_true)} and {len(y_pred)}")
        self.check_targets(y_true, (None, *y_pred.shape[1:]), where)
        return self.loss(y_true, y_pred)

    def __repr__(self):
        return f"{type(self).__name__}(from_logits={self.from_logits})"

    def prepare_targets(self, y_true, y_pred):
        """Reshape y_true to y_pred's shape when they hold the same number of values."""
        if y_true.shape != y_pred.shape and y_true.size == y_pred.size:
            y_true = y_true.reshape(y_pred.shape)
        return y_true

    def check_targets(self, y, output_shape, where):
        """Raise a clear error if the targets `y` cannot go with outputs of `output_shape`."""
        expected = (len(y), *output_shape[1:])
        if y.shape != expected and y.size != int(np.prod(expected)):
            raise ValueError(f"{where}: y has shape {y.shape} but the model outputs "
                             f"{tuple(output_shape)}; expected y of shape {expected}")


class BinaryCrossentropy(Loss):
    name = "binary_crossentropy"
    fused_activation = "sigmoid"

    def loss(self, y_true, y_pred):
        y = self.prepare_targets(y_true, y_pred)
        if self.from_logits:
            z = y_pred
            # -(y log s(z) + (1-y) log(1-s(z))) = max(z, 0) - z y + log(1 + exp(-|z|))
            losses = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
        else:
            p = np.clip(y_pred, EPSILON, 1 - EPSILON)
            losses = -(y * np.log(p) + (1 - y) * np.log(1 - p))
        return float(np.mean(losses))

    def gradient(self, y_true, y_pred):
        y = self.prepare_targets(y_true, y_pred)
        if self.from_logits:
            return (sigmoid(y_pred) - y) / y_pred.size
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        inside = (y_pred == p)  # the clip passes no gradient where it clipped
        return inside * (p - y) / (p * (1 - p)) / y_pred.size

    def gradient_from_logits(self, y_true, p):
        return (p - self.prepare_targets(y_true, p)) / p.size

    def check_targets(self, y, output_shape, where):
        super().check_targets(y, output_shape, where)
        if np.any((y < 0) | (y > 1)):
            raise ValueError(f"{where}: binary_crossentropy needs targets in [0, 1], got values "
                             f"from {y.min():g} to {y.max():g}")


class CategoricalCrossentropy(Loss):
    name = "categorical_crossentropy"
    fused_activation = "softmax"

    def loss(self, y_true, y_pred):
        y = self.prepare_targets(y_true, y_pred)
        if self.from_logits:
            shifted = y_pred - y_pred.max(axis=-1, keepdims=True)
            log_p = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
        else:
            log_p = np.log(np.clip(y_pred, EPSILON, 1 - EPSILON))
        return float(-np.mean(np.sum(y * log_p, axis=-1)))

    def gradient(self, y_true, y_pred):
        y = self.prepare_targets(y_true, y_pred)
        n = y_pred.shape[0]
        if self.from_logits:
            return (softmax(y_pred) - y) / n
        p = np.clip(y_pred, EPSILON, 1 - EPSILON)
        return (y_pred == p) * (-y / p) / n

    def gradient_from_logits(self, y_true, p):
        return (p - self.prepare_targets(y_true, p)) / p.shape[0]

    def check_targets(self, y, output_shape, where):
        if y.ndim != 2 or y.shape[1] != output_shape[-1]:
            raise ValueError(f"{where}: categorical_crossentropy needs one-hot targets of "
                             f"shape ({len(y)}, {output_shape[-1]}), got {y.shape}; for "
                             f"integer labels use 'sparse_categorical_crossentropy'")


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy with integer labels y of shape (N,) or (N, 1)."""

    name = "sparse_categorical_crossentropy"

    def prepare_targets(self, y_true, y_pred):
        labels = y_true.reshape(-1).astype(np.int64, copy=False)
        one_hot = np.zeros(y_pred.shape, dtype=y_pred.dtype)
        one_hot[np.arange(len(labels)), labels] = 1
        return one_hot

    # With probabilities (the usual case), only p[n, y_n] enters the loss, so the two methods
    # below pick it out instead of building the one-hot matrix: the same numbers, less work.

    def loss(self, y_true, y_pred):
        if self.from_logits:
            return super().loss(y_true, y_pred)
        labels = y_true.reshape(-1).astype(np.int64, copy=False)
        p_true = y_pred[np.arange(len(labels)), labels]  # probability of the right class
        return float(-np.mean(np.log(np.clip(p_true, EPSILON, 1 - EPSILON))))

    def gradient_from_logits(self, y_true, p):
        """(p - one_hot(y)) / N, written as: copy p, subtract 1 at each sample's label."""
        labels = y_true.reshape(-1).astype(np.int64, copy=False)
        grad = p.copy()
        grad[np.arange(len(labels)), labels] -= 1
        grad /= p.shape[0]
        return grad

    def check_targets(self, y, output_shape, where):
        classes = output_shape[-1]
        if y.ndim > 2 or (y.ndim == 2 and y.shape[1] != 1):
            raise ValueError(f"{where}: sparse_categorical_crossentropy needs integer labels "
                             f"of shape ({len(y)},), got {y.shape}; for one-hot targets use "
                             f"'categorical_crossentropy'")
        fractions = y[y != np.round(y)]
        if fractions.size:
            raise ValueError(f"{where}: sparse labels must be whole numbers (class indices "
                             f"0 to {classes - 1}), got {fractions.size} non-integer value(s) "
                             f"such as {fractions.flat[0]:g}")
        if np.any((y < 0) | (y >= classes)):
            raise ValueError(f"{where}: sparse labels must be integers in [0, {classes}) for a "
                             f"model with {classes} outputs, got values from {y.min():g} to "
                             f"{y.max():g}")


class MeanSquaredError(Loss):
    name = "mse"

    def loss(self, y_true, y_pred):
        y = self.prepare_targets(y_true, y_pred)
        return float(np.mean((y_pred - y) ** 2))

    def gradient(self, y_true, y_pred):
        y = self.prepare_targets(y_true, y_pred)
        return 2 * (y_pred - y) / y_pred.size


LOSSES = {
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "mse": MeanSquaredError,
    "mean_squared_error": MeanSquaredError,
}


def get(identifier):
    """A Loss from a name ('binary_crossentropy', 'mse', ...), a Loss class or instance."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in LOSSES:
            raise unknown_name_error("loss", identifier, LOSSES)
        return LOSSES[key]()
    raise TypeError(f"loss must be a name like 'binary_crossentropy' or a Loss, "
                    f"got {identifier!r}")


# Function-style access, as in Keras: losses.binary_crossentropy(y_true, y_pred)
def binary_crossentropy(y_true, y_pred, from_logits=False):
    return BinaryCrossentropy(from_logits)(np.asarray(y_true), np.asarray(y_pred))


def categorical_crossentropy(y_true, y_pred, from_logits=False):
    return CategoricalCrossentropy(from_logits)(np.asarray(y_true), np.asarray(y_pred))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False):
    return SparseCategoricalCrossentropy(from_logits)(np.asarray(y_true), np.asarray(y_pred))


def mse(y_true, y_pred):
    return MeanSquaredError()(np.asarray(y_true), np.asarray(y_pred))
