"""Loss functions: a number that says how wrong the predictions are, and its gradient.

Every loss is computed in two steps, as in Keras 3:

  1. `call(y_true, y_pred)`: one value per sample, l_n (an average over the last axis for
     the losses that work elementwise). Shapes: y_pred (N, K) -> l (N,).
  2. The reduction 'sum_over_batch_size': L = sum_n w_n * l_n / N, with sample weights w_n
     (all 1 when none are given). Note the divisor is N, not sum_n w_n: a weight of 2 counts a
     sample twice, a weight of 0 drops it, and the loss of a batch shrinks with its weights.
     (For per-pixel outputs, l has shape (N, H, W) and the divisor is N * H * W, the number
     of values, as in Keras; the weights may then be one per pixel, w of shape (N, H, W).)

`gradient(y_true, y_pred, sample_weight)` returns dL/dy_pred, shape (N, K), of that same L,
and `loss_and_gradient` returns both from one pass (what a training step calls: the two share
the clipped probabilities). The model backpropagates the gradient through the output
activation, as Keras does.

The losses, per sample (K outputs, y the target, p the prediction):

    binary_crossentropy       l = -mean_k (y log p + (1 - y) log(1 - p)),  p clipped to
                              [eps, 1 - eps], eps = 1e-7 (Keras's backend.epsilon())
    categorical_crossentropy  l = -sum_k y_k log q_k, with q = clip(p / sum_k p_k): Keras
                              rescales each row to sum 1 before clipping (a softmax output
                              already does, up to round-off)
    sparse_categorical_...    the same with an integer label per sample instead of one-hot y
    mean_squared_error        l = mean_k (p - y)^2
    mean_absolute_error       l = mean_k |p - y|
    huber                     l = mean_k h(p - y),  h(e) = e^2 / 2 if |e| <= delta,
                                                    else delta * (|e| - delta / 2)
    mean_squared_logarithmic_error  l = mean_k (log(1 + max(p, eps)) - log(1 + max(y, eps)))^2
    mean_absolute_percentage_error  l = 100 mean_k |p - y| / max(|y|, eps)
    log_cosh                  l = mean_k log(cosh(p - y))
    poisson                   l = mean_k (p - y log(p + eps))
    kl_divergence             l = sum_k y log(y / p),  y and p clipped to [eps, 1]
    hinge                     l = mean_k max(1 - y p, 0),    targets 0/1 taken as -1/+1
    squared_hinge             l = mean_k max(1 - y p, 0)^2,  targets 0/1 taken as -1/+1

Clipping keeps p = 0 or p = 1 finite, and passes no gradient where it clipped (a clipped p
is a constant). With from_logits=True the cross-entropies take z, the input of the sigmoid
or softmax, and apply it inside in a numerically stable form:

    binary, logits:  l = mean_k (max(z, 0) - z y + log(1 + exp(-|z|))),  dl/dz = (s(z) - y) / K
    softmax, logits: l = -sum_k y_k log_softmax(z)_k,                      dl/dz = softmax(z) - y
"""

import math

import numpy as np

from tinynet.config import floatx
from tinynet.layers.activation import sigmoid, softmax
from tinynet.tensors import as_tensor
from tinynet.validation import (
    check_bool,
    check_float,
    constructor_arguments,
    missing_attribute,
    to_float_array,
    unknown_argument_error,
    unknown_name_error,
)

# Keras's clipping constant for probabilities, its backend epsilon 1e-7 (keras/src/backend/
# config.py in Keras 3.15's source, and the tf.keras.backend.epsilon API page).
EPSILON = 1e-7

# Keras 3.15's reductions (keras/src/losses/loss.py, standardize_reduction and reduce_values):
# 'mean' is 'sum_over_batch_size' by another name; 'mean_with_sample_weight' divides by the sum
# of the sample weights instead of N (by N when there are none)
REDUCTIONS = ("sum_over_batch_size", "sum", "none", "mean", "mean_with_sample_weight")

# Settings of Keras 3.15's losses that tinynet's do not have, with their Keras defaults (the
# get_config of keras.losses.CategoricalCrossentropy() and SparseCategoricalCrossentropy()),
# and what tinynet does instead: what Keras does at the default.
KERAS_ONLY_SETTINGS = {"axis": -1, "ignore_class": None, "dtype": None}
TINYNET_INSTEAD = {
    "axis": "Keras's axis is the axis of the classes; tinynet uses the last axis",
    "ignore_class": "Keras leaves that label out of the loss; tinynet counts every label",
    "dtype": "tinynet computes a loss in y_pred's float type",
}


def check_keras_only_settings(settings, where):
    """Refuse a Keras setting tinynet lacks (axis, ignore_class, dtype) at any value but its
    Keras default, which is what tinynet does anyway; return the other settings.

    Inputs: settings, a dict such as a get_config(); where, e.g. "CategoricalCrossentropy".
    Raises: TypeError, e.g. "tinynet's CategoricalCrossentropy has no axis=1 (Keras's axis
    is the axis of the classes; tinynet uses the last axis)"."""
    for key, default in KERAS_ONLY_SETTINGS.items():
        # dtype may also name the float type the model computes in ('float32'), Keras's
        # default policy, which is what tinynet does with it
        if key == "dtype" and settings.get(key) == floatx():
            continue
        if key in settings and settings[key] != default:
            raise TypeError(f"tinynet's {where} has no {key}={settings[key]!r} "
                            f"({TINYNET_INSTEAD[key]})")
    return {key: value for key, value in settings.items() if key not in KERAS_ONLY_SETTINGS}


class Loss:
    """Base class. A subclass defines `call` (per-sample values) and `sample_gradient`
    (d l_n / d y_pred, the same shape as y_pred), or the two at once in `call_and_gradient`;
    this class reduces both the same way.

    Arguments (Keras's): reduction='sum_over_batch_size' (or its other name 'mean'; 'sum';
    'mean_with_sample_weight', which divides by the sum of the sample weights instead of N;
    or 'none' for the per-sample values when called), name (the class's Keras name by
    default). Keras's axis=-1, ignore_class=None and dtype=None are accepted at those values,
    which are what tinynet does. A single sample weight (sample_weight=2.0) is given to every
    sample; with 'mean_with_sample_weight' Keras 3.15 then divides by that one number instead
    of the sum of the weights (it sums the weight as given), tinynet by their sum.
    """

    name = "loss"

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None,
                 **keras_settings):
        # Keras's axis=-1, ignore_class=None, dtype=None are what tinynet does: accepted
        # there (Keras code spells them out), refused at any other value, or misspelt.
        # (reduction, name, dtype) is the order of Keras's built-in losses; Keras's base
        # class puts name first, which a subclass of one's own may pass by position
        unknown = check_keras_only_settings({**keras_settings, "dtype": dtype},
                                            type(self).__name__)
        if unknown:
            raise unknown_argument_error(f"{type(self).__name__}()", unknown, [
                *constructor_arguments(type(self)), *KERAS_ONLY_SETTINGS])
        where = f"{type(self).__name__}(reduction=...)"
        if reduction is None:
            reduction = "none"
        if reduction not in REDUCTIONS:
            name_first = (" (Keras's Loss base class takes name first, Loss(name, "
                          "reduction): pass them by keyword, name=..., reduction=...)"
                          if isinstance(reduction, str) and name is None else "")
            raise ValueError(f"{where} must be one of {', '.join(map(repr, REDUCTIONS))}, "
                             f"got {reduction!r}{name_first}")
        self.reduction = reduction
        if name is not None:
            if not isinstance(name, str):
                raise TypeError(f"{type(self).__name__}(name=...) must be a string, "
                                f"got {name!r}")
            self.name = name

    def __repr__(self):
        return f"{type(self).__name__}()"

    # -- what a subclass writes --------------------------------------------------------------

    def call(self, y_true, y_pred):
        """Inputs: y_true, y_pred (N, K). Returns: l, one value per sample, (N,)."""
        raise NotImplementedError(f"{type(self).__name__} must define call(y_true, y_pred), "
                                  f"returning the loss of each sample, shape (N,)")

    def sample_gradient(self, y_true, y_pred):
        """Inputs: y_true, y_pred (N, K). Returns: d l_n / d y_pred[n], shape (N, K)."""
        raise NotImplementedError(
            f"{type(self).__name__} must define sample_gradient(y_true, y_pred), returning "
            f"d l_n / d y_pred, the same shape as y_pred: tinynet has no automatic "
            f"differentiation, so a loss of your own writes its gradient by hand (e.g. for "
            f"l = mean_k (p - y)^2 it is 2 (p - y) / K)")

    def call_and_gradient(self, y_true, y_pred):
        """Inputs: y_true, y_pred (N, K). Returns: (l (N,), d l_n / d y_pred[n] (N, K)).
        A loss whose two share work (the cross-entropies' clipping) computes them together.
        What a loss of your own returns is checked here (see per_sample_values)."""
        values = per_sample_values(self, self.call(y_true, y_pred), y_pred)
        grad = self.sample_gradient(y_true, y_pred)
        if np.shape(grad) != y_pred.shape:  # NumPy would broadcast it into a wrong step
            raise ValueError(f"{type(self).__name__}.sample_gradient returned shape "
                             f"{np.shape(grad)}; it must return d l_n / d y_pred, the shape of "
                             f"y_pred {y_pred.shape}")
        return values, grad

    # -- the reduction -----------------------------------------------------------------------

    def loss(self, y_true, y_pred, sample_weight=None):
        """Inputs: y_true, y_pred (N, K), sample_weight (N,) or None.
        Returns: L = sum_n w_n l_n / N (or the plain sum for reduction='sum' and 'none';
        a model refuses 'none' at compile, and the loss object called by hand with it gives
        the per-sample values), a float."""
        check_loss_arguments(self, y_true, y_pred, sample_weight, "loss")
        values = per_sample_values(self, self.call(self.prepare_targets(y_true, y_pred), y_pred),
                                   y_pred)  # l_n: (N,)
        if sample_weight is not None:
            values = values * self.weights_for(values.shape, values.dtype, sample_weight)
        return float(values.sum() / self.divisor(values.shape))

    def gradient(self, y_true, y_pred, sample_weight=None):
        """Inputs: as `loss`. Returns: dL/dy_pred = w_n * dl_n/dy_pred / N, shape (N, K)."""
        return self.loss_and_gradient(y_true, y_pred, sample_weight)[1]

    def loss_and_gradient(self, y_true, y_pred, sample_weight=None):
        """`loss` and `gradient` from one pass, what a training step needs.
        Inputs: as `loss`. Returns: (L, a float; dL/dy_pred, shape (N, K))."""
        if self.reduction == "none":
            raise ValueError(f"{type(self).__name__}: reduction='none' gives one loss per "
                             f"sample, not one number to differentiate; use "
                             f"'sum_over_batch_size' for training")
        check_loss_arguments(self, y_true, y_pred, sample_weight, "loss_and_gradient")
        # in fit, y_true has y_pred's shape already (Sequential.shape_targets did it once):
        # prepare_targets then only casts it to y_pred's dtype and applies label_smoothing
        values, grad = self.call_and_gradient(self.prepare_targets(y_true, y_pred), y_pred)
        if sample_weight is not None:
            weights = self.weights_for(values.shape, values.dtype, sample_weight)  # w_n
            values, grad = values * weights, grad * per_row(weights, grad.ndim)
        n = self.divisor(values.shape)  # N (1 for reduction='sum')
        # n as a number of grad's own type, so that a float32 gradient stays float32
        return float(values.sum() / n), grad / grad.dtype.type(n)

    def divisor(self, values_shape):
        """N, the number of per-sample values, for 'sum_over_batch_size' and 'mean'; 1 for
        'sum' ('mean_with_sample_weight' divides by N too, after weights_for rescaled the
        weights)."""
        return 1 if self.reduction in ("sum", "none") else max(math.prod(values_shape), 1)

    def weights_for(self, values_shape, dtype, sample_weight):
        """The sample weights, shaped to broadcast against per-sample values of `values_shape`
        ((N,), or (N, H, W) for image outputs): one weight per sample (N,) (or one number for
        all), or for image outputs one per value, (N, H, W) or (N, H, W, 1), as in Keras.

        For reduction='mean_with_sample_weight' they are rescaled by N / sum(w), so that the
        mean over N that follows, sum_n w_n l_n / N, is Keras's sum_n w_n l_n / sum_n w_n
        (0 when the weights add up to 0, as Keras's divide_no_nan gives)."""
        if not values_shape:  # see per_sample_values
            raise ValueError(f"{type(self).__name__}: call returned one number for the whole "
                             f"batch, which sample weights (and class_weight) cannot weigh: "
                             f"return one loss per sample, shape (N,) (a mean over the last "
                             f"axis only, axis=-1), and from sample_gradient d l_n / d y_pred")
        weights = np.asarray(sample_weight, dtype=dtype)
        if weights.size in (1, values_shape[0]):  # one per sample: each of its values gets it
            weights = weights.reshape(weights.size, *[1] * (len(values_shape) - 1))
        elif weights.size == math.prod(values_shape):  # one per value (N, H, W)
            weights = weights.reshape(values_shape)
        else:  # per-pixel weights, but a loss of your own gave one value per image
            raise ValueError(f"{type(self).__name__}: sample_weight of shape {weights.shape} "
                             f"has one weight per pixel, but call returned one loss per "
                             f"sample, shape {tuple(values_shape)}; give one weight per "
                             f"sample, or return one loss per pixel from call")
        if self.reduction == "mean_with_sample_weight":
            total = float(np.broadcast_to(weights, values_shape).sum())
            weights = weights * dtype.type(math.prod(values_shape) / total if total else 0.0)
        return weights

    # -- called by hand, with checks ---------------------------------------------------------

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The loss of y_pred against y_true, checked first: called by hand, a shape mismatch
        would otherwise broadcast silently into a wrong number. With reduction='none' it
        returns the per-sample values (N,)."""
        where = f"{type(self).__name__}()(y_true, y_pred)"
        y_true, y_pred = self.checked_arrays(y_true, y_pred, where)
        if sample_weight is not None:
            sample_weight = to_float_array(sample_weight, f"{where}: sample_weight",
                                           dtype=y_pred.dtype, min_ndim=0)
            if sample_weight.size == 1:  # one weight for every sample, as Keras broadcasts it
                sample_weight = np.full(len(y_pred), sample_weight.item(), y_pred.dtype)
            if sample_weight.size != len(y_pred) and not \
                    per_value_weights(sample_weight, y_pred.shape):
                raise ValueError(f"{where}: sample_weight needs one weight per sample "
                                 f"({len(y_pred)}) or a single number{per_value_hint(y_pred)}"
                                 f", got shape {sample_weight.shape}")
        # values that also answer .numpy(), as Keras's tensors do (tinynet.tensors)
        if self.reduction == "none":
            values = per_sample_values(
                self, self.call(self.prepare_targets(y_true, y_pred), y_pred), y_pred)
            if sample_weight is not None:
                values = values * self.weights_for(values.shape, values.dtype, sample_weight)
            return as_tensor(values)
        return as_tensor(self.loss(y_true, y_pred, sample_weight), y_pred.dtype)

    def checked_arrays(self, y_true, y_pred, where, finite_pred=True):
        """y_true and y_pred as float arrays of y_pred's float type, checked to go together;
        a 1-D y_pred (N,) is read as N samples of one output, (N, 1). NaN and inf are
        refused, in y_pred only while finite_pred is True."""
        pred_dtype = np.asarray(y_pred).dtype
        dtype = pred_dtype if pred_dtype in (np.float32, np.float64) else np.float64
        y_pred = to_float_array(y_pred, f"{where}: y_pred", dtype=dtype, finite=finite_pred)
        y_true = to_float_array(y_true, f"{where}: y_true", dtype=dtype)
        if len(y_true) != len(y_pred):
            raise ValueError(f"{where}: y_true and y_pred must have the same number of "
                             f"samples, got {len(y_true)} and {len(y_pred)}")
        if y_pred.ndim == 1:
            y_pred = y_pred.reshape(-1, 1)
        self.check_targets(y_true, (None, *y_pred.shape[1:]), where)
        return y_true, y_pred

    def prepare_targets(self, y_true, y_pred):
        """Reshape y_true to y_pred's shape when the two differ only by trailing axes of
        length 1: targets (N,) and (N, 1) mean the same thing. Any other mismatch (even of
        the same size, such as (K, N) for (N, K)) is an error here, where it would otherwise
        give a wrong loss silently."""
        y_true, y_pred = match_shapes(y_true, y_pred, type(self).__name__)
        return y_true.astype(y_pred.dtype, copy=False)

    def check_targets(self, y, output_shape, where):
        """Raise a clear error if the targets `y` cannot go with outputs of `output_shape`."""
        expected = (len(y), *output_shape[1:])
        if not same_but_for_ones(y.shape, expected):
            raise ValueError(f"{where}: y has shape {y.shape} but the model outputs "
                             f"{tuple(output_shape)}; expected y of shape {expected}"
                             + one_target_hint(y, expected))

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        """The loss a get_config() dict describes, tinynet's or Keras's (a .keras file's
        compile_config). Keras's settings tinynet lacks are dropped at their Keras default
        (axis=-1, ignore_class=None, dtype=None); at any other value they are refused with
        a TypeError that says what tinynet does instead (check_keras_only_settings)."""
        return cls(**check_keras_only_settings(config, cls.__name__))


def per_sample_values(loss, values, y_pred):
    """What a loss's call returned, checked: one value per sample and position,
    y_pred.shape[:-1] ((N,) for outputs (N, K), (N, H, W) for (N, H, W, K)), or for outputs
    with more axes one value per sample, (N,) (a loss of your own over each whole image). A
    call written with keepdims, (N, 1) or (N, H, W, 1), is read without the last axis, as
    Keras reads it. One number for the whole batch (a mean over every axis) is kept as it
    is: without sample weights the step is the same as Keras's (weights_for refuses to weigh
    it). Raises ValueError for any other shape, naming the loss's call."""
    values = np.asarray(values)
    expected = y_pred.shape[:-1]
    if values.shape in (expected, expected[:1]) or values.ndim == 0:
        return values
    if values.shape[:-1] in (expected, expected[:1]) and values.shape[-1] == 1:
        return values.reshape(values.shape[:-1])
    raise ValueError(f"{type(loss).__name__}.call returned shape {values.shape}; it must "
                     f"return one loss per sample, shape {expected} for y_pred {y_pred.shape} "
                     f"(a mean over the last axis, axis=-1)")


def per_row(weights, ndim):
    """weights (N,) or (N, H, W) with axes of length 1 added at the end up to `ndim`, so that
    they multiply the gradient (N, ..., K) row by row."""
    return weights.reshape(*weights.shape, *[1] * (ndim - weights.ndim))


def match_shapes(y_true, y_pred, where):
    """Targets (N,) and predictions (N, 1) (or the reverse) mean the same thing: y_true is
    reshaped to y_pred's shape when the two differ only by trailing axes of length 1 (the
    losses and the metrics share this rule; Keras's squeeze_or_expand_to_same_rank is the
    same idea). Any other mismatch, even of the same size, such as (K, N) for (N, K), is a
    ValueError that starts with `where` (the loss or metric): NumPy would broadcast the two
    into a wrong number, or fail inside."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape and same_but_for_ones(y_true.shape, y_pred.shape):
        y_true = y_true.reshape(y_pred.shape)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"{where}: y_true of shape {y_true.shape} does not match y_pred of "
                         f"shape {y_pred.shape} (the order is y_true, y_pred)")
    return y_true, y_pred


def same_but_for_ones(shape, other):
    """Whether two shapes are the same but for trailing axes of length 1, which hold no
    more values: (32,) and (32, 1), or (32, 28, 28) and (32, 28, 28, 1)."""
    return without_trailing_ones(shape) == without_trailing_ones(other)


def without_trailing_ones(shape):
    """(32, 1) -> (32,); (32, 28, 28, 1) -> (32, 28, 28)."""
    shape = tuple(shape)
    while shape and shape[-1] == 1:
        shape = shape[:-1]
    return shape


def check_loss_arguments(loss, y_true, y_pred, sample_weight, method):
    """What loss, gradient and loss_and_gradient need, tested cheaply since they run at
    every step (the loss object called as loss(y_true, y_pred) converts lists and checks
    more): NumPy arrays, y_pred of a float type with a batch axis and its outputs, (N, K) or
    (N, H, W, C), as many targets as samples, and one sample weight per sample (or one
    number for all; or, for outputs (N, H, W, C), one per pixel: per_value_weights)."""
    if not (isinstance(y_true, np.ndarray) and isinstance(y_pred, np.ndarray)
            and y_pred.dtype.kind == "f" and y_pred.ndim >= 2 and len(y_pred)
            and len(y_true) == len(y_pred)):
        raise loss_argument_error(loss, y_true, y_pred, method)
    if sample_weight is not None and np.size(sample_weight) not in (1, len(y_pred)) and \
            not per_value_weights(sample_weight, y_pred.shape):
        raise ValueError(f"{type(loss).__name__}.{method}: sample_weight needs one weight per "
                         f"sample ({len(y_pred)}) or a single number{per_value_hint(y_pred)}, "
                         f"got shape {np.shape(sample_weight)}")


def per_value_weights(sample_weight, pred_shape):
    """Whether sample_weight holds one weight per value of the loss for outputs of
    `pred_shape` (N, H, W, K): (N, H, W) or (N, H, W, 1), one per pixel, as Keras takes
    them (every loss averages over the last axis, so its values are (N, H, W))."""
    per_value = tuple(pred_shape[:-1])
    return len(pred_shape) > 2 and np.shape(sample_weight) in (per_value, (*per_value, 1))


def per_value_hint(y_pred):
    """', or one per value of the loss, shape (N, H, W)' for outputs with more axes."""
    return (f", or one per value of the loss, shape {tuple(y_pred.shape[:-1])}"
            if y_pred.ndim > 2 else "")


def loss_argument_error(loss, y_true, y_pred, method):
    """The error check_loss_arguments raises, worked out only when it fails."""
    where = f"{type(loss).__name__}.{method}(y_true, y_pred)"
    by_hand = f"call the loss object, {type(loss).__name__}()(y_true, y_pred), which converts"
    for name, value in (("y_true", y_true), ("y_pred", y_pred)):
        if not isinstance(value, np.ndarray):
            return TypeError(f"{where}: {name} must be a NumPy array, got a "
                             f"{type(value).__name__}; {by_hand} lists")
    if y_pred.dtype.kind != "f":
        return TypeError(f"{where}: y_pred must be an array of floats (float32 or float64), "
                         f"got {y_pred.dtype}")
    if y_pred.ndim < 2:
        return ValueError(f"{where}: y_pred must have a batch axis and an axis of outputs, "
                          f"(N, K); got shape {y_pred.shape}. For N predictions of one output "
                          f"use y_pred.reshape(-1, 1), or {by_hand} (N,) to (N, 1)")
    if not len(y_pred):
        return ValueError(f"{where}: the batch is empty (y_pred of shape {y_pred.shape}); a "
                          f"loss needs at least one sample")
    return ValueError(f"{where}: y_true and y_pred must have the same number of samples, got "
                      f"{len(y_true)} and {len(y_pred)}")


def one_target_hint(y, expected):
    """For one target per sample against K > 1 outputs: Keras 3 broadcasts it to every
    output; tinynet refuses it, as it is most often class labels given to a loss that wants
    one column per class."""
    if len(expected) != 2 or expected[1] < 2 or y.size != len(y):
        return ""
    k = expected[1]
    return (f". One target per sample for {k} outputs: Keras would compare it with every "
            f"output; tinynet refuses, because it is most often class labels given to a loss "
            f"that wants {k} columns (use loss='sparse_categorical_crossentropy' for labels "
            f"0..{k - 1}, or tinynet.utils.to_categorical(y, {k})). To compare one target "
            f"with every output on purpose: np.repeat(y.reshape(-1, 1), {k}, axis=1)")


class CrossentropyLoss(Loss):
    """What the cross-entropies share: from_logits, and label_smoothing (Keras's): targets
    are pulled towards the uniform guess, y <- y (1 - label_smoothing) + label_smoothing / K
    (K = 2 for binary targets), so the model is not pushed towards probabilities of exactly
    0 and 1."""

    uniform_target = None  # 1/2 for binary targets, 1/K for K classes

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name=None, dtype=None, **keras_settings):
        # Keras 3's order, axis (accepted at -1 only) included, so that arguments given by
        # position land where Keras puts them
        super().__init__(reduction=reduction, name=name, dtype=dtype, axis=axis,
                         **keras_settings)
        where = type(self).__name__
        self.from_logits = check_bool(from_logits, f"{where}(from_logits=...)")
        self.label_smoothing = check_float(label_smoothing, f"{where}(label_smoothing=...)",
                                           0.0, 1.0)

    def __repr__(self):
        return f"{type(self).__name__}(from_logits={self.from_logits})"

    def prepare_targets(self, y_true, y_pred):
        y_true = super().prepare_targets(y_true, y_pred)
        if self.label_smoothing:
            uniform = self.uniform_target or 1 / y_pred.shape[-1]
            y_true = y_true * (1 - self.label_smoothing) + self.label_smoothing * uniform
        return y_true

    def get_config(self):
        # axis=-1 as Keras 3 writes it (tinynet always uses the last axis)
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": -1}


class BinaryCrossentropy(CrossentropyLoss):
    """Binary cross-entropy: targets in [0, 1], one probability (or logit) per output."""

    name = "binary_crossentropy"
    uniform_target = 0.5

    def call_and_gradient(self, y_true, y_pred):
        """l_n = mean_k of the cross-entropy (N,), and dl_n/dy_pred (N, K):

            probabilities p:  dl/dp = (p - y) / (p (1 - p)) / K, and 0 where p was clipped
                              (a clipped p is a constant, as in Keras)
            logits z:         dl/dz = (s(z) - y) / K

        The clip has a price: a sample the model gets confidently wrong (in float32, a sigmoid
        of z = 20 is exactly 1.0, and p = 1 for a target 0) gives no gradient at all, so it
        stops teaching the model. from_logits=True (a linear output layer) has no clip and
        keeps the gradient s(z) - y.
        """
        if self.from_logits:
            z = y_pred
            # -(y log s(z) + (1-y) log(1-s(z))) = max(z, 0) - z y + log(1 + exp(-|z|))
            values = np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))
            grad = sigmoid(z) - y_true
        else:
            p = y_pred.clip(EPSILON, 1 - EPSILON)
            values = -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
            inside = (y_pred == p)  # the clip passes no gradient where it clipped
            # a sigmoid output's backward multiplies this by p (1 - p) (sigmoid_backward), so
            # the model's dL/dz is the familiar (p - y) / K wherever p was not clipped
            grad = inside * (p - y_true) / (p * (1 - p))
        k = y_pred.shape[-1]  # the mean over the last axis
        return values.sum(axis=-1) / k, grad / k

    def call(self, y_true, y_pred):
        return self.call_and_gradient(y_true, y_pred)[0]

    def sample_gradient(self, y_true, y_pred):
        return self.call_and_gradient(y_true, y_pred)[1]

    def check_targets(self, y, output_shape, where):
        super().check_targets(y, output_shape, where)
        if y.min() < 0 or y.max() > 1:
            raise ValueError(f"{where}: binary_crossentropy needs targets in [0, 1], got values "
                             f"from {y.min():g} to {y.max():g}")


class CategoricalCrossentropy(CrossentropyLoss):
    """Categorical cross-entropy: one-hot targets (N, K), a probability (or logit) per class.
    Outputs with more axes, such as one class per pixel (N, H, W, K), take targets of the
    same shape; the cross-entropy is taken along the last axis and the reduction averages
    over every pixel of every sample, as in Keras."""

    name = "categorical_crossentropy"

    def call_and_gradient(self, y_true, y_pred):
        """l_n = -sum_k y_k log q_k (N,), and dl_n/dy_pred (N, K).

        The gradient from logits: softmax(z) * sum_k y_k - y. From probabilities, with
        S = sum_k p_k, q = p / S and m = 1 where the clip left q alone:
            dl/dp_j = (-m_j y_j / q_j + sum_k m_k y_k) / S
        (the second term comes from the rescaling; a softmax backward cancels it)."""
        if self.from_logits:
            shifted = y_pred - y_pred.max(axis=-1, keepdims=True)  # exp cannot overflow
            log_q = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
            grad = softmax(y_pred) * y_true.sum(axis=-1, keepdims=True) - y_true
        else:
            total = y_pred.sum(axis=-1, keepdims=True)
            q = y_pred / total
            clipped = q.clip(EPSILON, 1 - EPSILON)
            log_q = np.log(clipped)
            kept = (q == clipped) * y_true
            grad = (-kept / clipped + kept.sum(axis=-1, keepdims=True)) / total
        return -np.sum(y_true * log_q, axis=-1), grad

    def call(self, y_true, y_pred):
        return self.call_and_gradient(y_true, y_pred)[0]

    def sample_gradient(self, y_true, y_pred):
        return self.call_and_gradient(y_true, y_pred)[1]

    def check_targets(self, y, output_shape, where):
        expected = (len(y), *output_shape[1:])
        if y.shape != expected:
            raise ValueError(f"{where}: categorical_crossentropy needs one-hot targets of "
                             f"shape {expected}, got {y.shape}; for integer labels of shape "
                             f"{expected[:-1]} use 'sparse_categorical_crossentropy'")


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    """Categorical cross-entropy with integer labels y of shape (N,) or (N, 1): the same
    numbers as CategoricalCrossentropy with the one-hot rows of those labels. For outputs
    with more axes, one class per pixel (N, H, W, K), the labels are (N, H, W) or
    (N, H, W, 1), one per pixel."""

    name = "sparse_categorical_crossentropy"

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name=None, dtype=None, **keras_settings):
        # Keras 3's order (ignore_class accepted at None only, axis at -1), so that
        # SparseCategoricalCrossentropy(False, None) does not set reduction=None ('none')
        super().__init__(from_logits=from_logits, reduction=reduction, name=name, dtype=dtype,
                         axis=axis, ignore_class=ignore_class, **keras_settings)

    def get_config(self):
        # ignore_class=None as Keras 3 writes it (tinynet counts every label)
        return {"name": self.name, "reduction": self.reduction, "from_logits": self.from_logits,
                "ignore_class": None}

    def prepare_targets(self, y_true, y_pred):
        """The one-hot targets (y_pred's shape) of integer labels y_true, one per row of
        y_pred: (N,) or (N, 1) for outputs (N, K); (N, H, W) or (N, H, W, 1) for (N, H, W, K)."""
        given = np.asarray(y_true)
        if given.size != math.prod(y_pred.shape[:-1]):
            raise ValueError(f"{type(self).__name__}: one integer label per row of y_pred is "
                             f"needed, shape {y_pred.shape[:-1]}, got y_true of shape "
                             f"{given.shape} (the order is y_true, y_pred)")
        given = given.reshape(y_pred.shape[:-1])
        labels = given.astype(np.int64)
        if given.dtype != labels.dtype and np.any(labels != given):  # 1.7 is not class 1
            raise ValueError(f"{type(self).__name__}: labels must be whole numbers (class "
                             f"indices 0 to {y_pred.shape[-1] - 1}), got values such as "
                             f"{given[labels != given].flat[0]:g}")
        if labels.min() < 0 or labels.max() >= y_pred.shape[-1]:
            raise ValueError(f"{type(self).__name__}: labels must be in [0, "
                             f"{y_pred.shape[-1]}), got values from {labels.min()} to "
                             f"{labels.max()}")
        # one_hot[..., k] = 1 where the label is k
        return (labels[..., None] == np.arange(y_pred.shape[-1])).astype(y_pred.dtype)

    def check_targets(self, y, output_shape, where):
        classes = output_shape[-1]
        expected = (len(y), *output_shape[1:-1])  # one label per row of outputs
        if not same_but_for_ones(y.shape, expected):
            raise ValueError(f"{where}: sparse_categorical_crossentropy needs integer labels "
                             f"of shape {expected}, got {y.shape}; for one-hot targets of "
                             f"shape {(len(y), *output_shape[1:])} use "
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
    """l = mean_k (p - y)^2;  dl/dp = 2 (p - y) / K."""

    name = "mean_squared_error"

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None, *,
                 from_logits=False, **keras_settings):
        # from_logits=False is accepted (and True refused) only so that code written for
        # tinynet 0.1, where every loss took it, keeps running; Keras has no such argument.
        if check_bool(from_logits, "MeanSquaredError(from_logits=...)"):
            raise ValueError("MeanSquaredError(from_logits=True): from_logits applies to the "
                             "cross-entropies; mean squared error compares values directly")
        super().__init__(reduction=reduction, name=name, dtype=dtype, **keras_settings)

    def call(self, y_true, y_pred):
        return np.mean((y_pred - y_true) ** 2, axis=-1)

    def sample_gradient(self, y_true, y_pred):
        return 2 * (y_pred - y_true) / y_pred.shape[-1]


class MeanAbsoluteError(Loss):
    """l = mean_k |p - y|;  dl/dp = sign(p - y) / K (0 where p = y)."""

    name = "mean_absolute_error"

    def call(self, y_true, y_pred):
        return np.mean(np.abs(y_pred - y_true), axis=-1)

    def sample_gradient(self, y_true, y_pred):
        return np.sign(y_pred - y_true) / y_pred.shape[-1]


class Huber(Loss):
    """Huber(delta=1.0): squared error for small errors, absolute error for large ones.

    With e = p - y:  h(e) = e^2 / 2 if |e| <= delta, else delta * |e| - delta^2 / 2;
    l = mean_k h(e);  dl/dp = (e if |e| <= delta, else delta * sign(e)) / K.
    """

    name = "huber_loss"

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name=None, dtype=None,
                 **keras_settings):
        super().__init__(reduction=reduction, name=name, dtype=dtype, **keras_settings)
        self.delta = check_float(delta, "Huber(delta=...)", low=0.0, low_open=True)

    def __repr__(self):
        return f"Huber(delta={self.delta})"

    def call(self, y_true, y_pred):
        error = np.abs(y_pred - y_true)
        quadratic = 0.5 * error ** 2
        linear = self.delta * error - 0.5 * self.delta ** 2
        return np.mean(np.where(error <= self.delta, quadratic, linear), axis=-1)

    def sample_gradient(self, y_true, y_pred):
        error = y_pred - y_true
        slope = np.where(np.abs(error) <= self.delta, error, self.delta * np.sign(error))
        return slope / y_pred.shape[-1]

    def get_config(self):
        return {**super().get_config(), "delta": self.delta}


# The losses below are Keras 3's too, with its formulas and its eps (keras/src/losses/losses.py
# in Keras 3.15.1); tests/test_losses_more.py compares them with Keras's numbers. Each works
# elementwise, so each gradient is one line: d l_n / d p_k = (the derivative of the term) / K.

class MeanSquaredLogarithmicError(Loss):
    """l = mean_k (log(1 + p') - log(1 + y'))^2, with p' = max(p, eps), y' = max(y, eps):
    the squared error of log(1 + .), so it weighs relative errors (2 against 1 as 200 against
    100). dl/dp = 2 (log(1 + p') - log(1 + y')) / (1 + p') / K, and 0 where p < eps."""

    name = "mean_squared_logarithmic_error"

    def log_error(self, y_true, y_pred):
        return np.log1p(np.maximum(y_pred, EPSILON)) - np.log1p(np.maximum(y_true, EPSILON))

    def call(self, y_true, y_pred):
        return np.mean(self.log_error(y_true, y_pred) ** 2, axis=-1)

    def sample_gradient(self, y_true, y_pred):
        slope = 2 * self.log_error(y_true, y_pred) / (1 + np.maximum(y_pred, EPSILON))
        return (y_pred >= EPSILON) * slope / y_pred.shape[-1]


class MeanAbsolutePercentageError(Loss):
    """l = 100 mean_k |p - y| / max(|y|, eps), the error in percent of the target;
    dl/dp = 100 sign(p - y) / max(|y|, eps) / K."""

    name = "mean_absolute_percentage_error"

    def call(self, y_true, y_pred):
        return 100 * np.mean(np.abs(y_pred - y_true) / np.maximum(np.abs(y_true), EPSILON),
                             axis=-1)

    def sample_gradient(self, y_true, y_pred):
        scale = np.maximum(np.abs(y_true), EPSILON)
        return 100 * np.sign(y_pred - y_true) / scale / y_pred.shape[-1]


class LogCosh(Loss):
    """l = mean_k log(cosh(e)), e = p - y: about e^2 / 2 for small errors and |e| - log 2 for
    large ones (a smooth Huber). Computed as e + softplus(-2e) - log 2, which cannot overflow
    (Keras's form); dl/dp = tanh(e) / K."""

    name = "log_cosh"

    def call(self, y_true, y_pred):
        error = y_pred - y_true
        # softplus(x) = log(1 + exp(x)) = np.logaddexp(0, x), stable for any x
        return np.mean(error + np.logaddexp(0.0, -2.0 * error) - math.log(2.0), axis=-1)

    def sample_gradient(self, y_true, y_pred):
        return np.tanh(y_pred - y_true) / y_pred.shape[-1]


class Poisson(Loss):
    """l = mean_k (p - y log(p + eps)): the negative log-likelihood of counts y under a
    Poisson of mean p (without its constant log y!); dl/dp = (1 - y / (p + eps)) / K."""

    name = "poisson"

    def call(self, y_true, y_pred):
        return np.mean(y_pred - y_true * np.log(y_pred + EPSILON), axis=-1)

    def sample_gradient(self, y_true, y_pred):
        return (1 - y_true / (y_pred + EPSILON)) / y_pred.shape[-1]


class KLDivergence(Loss):
    """l = sum_k y' log(y' / p'), with y' and p' clipped to [eps, 1]: how far the predicted
    distribution p is from the target distribution y (a sum over the last axis, not a mean);
    dl/dp = -y' / p', and 0 where p was clipped (the clip passes no gradient)."""

    name = "kl_divergence"

    def call(self, y_true, y_pred):
        y, p = y_true.clip(EPSILON, 1), y_pred.clip(EPSILON, 1)
        return np.sum(y * np.log(y / p), axis=-1)

    def sample_gradient(self, y_true, y_pred):
        y, p = y_true.clip(EPSILON, 1), y_pred.clip(EPSILON, 1)
        return (y_pred == p) * -y / p


class Hinge(Loss):
    """l = mean_k max(1 - y p, 0), for targets y of -1 and +1 (a batch whose targets are all 0
    or 1 is read as -1 and +1, as Keras does); dl/dp = -y / K where 1 - y p > 0, else 0."""

    name = "hinge"

    def prepare_targets(self, y_true, y_pred):
        y_true = super().prepare_targets(y_true, y_pred)
        if np.all((y_true == 0) | (y_true == 1)):  # Keras's convert_binary_labels_to_hinge
            y_true = 2 * y_true - 1
        return y_true

    def call(self, y_true, y_pred):
        return np.mean(np.maximum(1 - y_true * y_pred, 0), axis=-1)

    def sample_gradient(self, y_true, y_pred):
        return -y_true * (1 - y_true * y_pred > 0) / y_pred.shape[-1]


class SquaredHinge(Hinge):
    """l = mean_k max(1 - y p, 0)^2, targets as Hinge's; dl/dp = -2 y max(1 - y p, 0) / K."""

    name = "squared_hinge"

    def call(self, y_true, y_pred):
        return np.mean(np.maximum(1 - y_true * y_pred, 0) ** 2, axis=-1)

    def sample_gradient(self, y_true, y_pred):
        return -2 * y_true * np.maximum(1 - y_true * y_pred, 0) / y_pred.shape[-1]


# -- function-style access, as in Keras: one value per sample --------------------------------

# These are also tinynet's metric functions (tinynet.metrics.mean_squared_error is
# tinynet.losses.mean_squared_error, as in Keras): one formula for a loss and its metric.

def per_sample(loss, y_true, y_pred):
    """The per-sample values l_n of `loss`, what Keras's loss functions return.

    Inputs: y_true, y_pred (N, K) (or (N,), read as (N, 1)). Returns: l (N,).
    Raises: ValueError for targets that do not go with y_pred (checked_arrays). A NaN or
    infinite prediction is not refused: it gives NaN or inf, as in Keras, so that a metric
    of a model whose weights blew up reports NaN instead of failing."""
    where = f"{type(loss).__name__}()(y_true, y_pred)"
    y_true, y_pred = loss.checked_arrays(y_true, y_pred, where, finite_pred=False)
    with np.errstate(invalid="ignore", over="ignore"):  # NaN in, NaN out, quietly
        values = loss.call(loss.prepare_targets(y_true, y_pred), y_pred)
    return as_tensor(values)  # it answers .numpy() too, as Keras's does (tinynet.tensors)


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0):
    """Per-sample binary cross-entropy (N,), the mean over the last axis."""
    return per_sample(BinaryCrossentropy(from_logits, label_smoothing), y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0,
                             axis=-1):
    """Per-sample categorical cross-entropy (N,) for one-hot targets. axis is Keras's
    argument: tinynet takes only -1, the last axis (a TypeError for another)."""
    check_keras_only_settings({"axis": axis}, "categorical_crossentropy")
    return per_sample(CategoricalCrossentropy(from_logits, label_smoothing), y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    """Per-sample categorical cross-entropy (N,) for integer labels. ignore_class and axis
    are Keras's arguments: tinynet takes only None and -1 (a TypeError for others)."""
    check_keras_only_settings({"ignore_class": ignore_class, "axis": axis},
                              "sparse_categorical_crossentropy")
    return per_sample(SparseCategoricalCrossentropy(from_logits), y_true, y_pred)


def mean_squared_error(y_true, y_pred):
    """Per-sample mean squared error (N,)."""
    return per_sample(MeanSquaredError(), y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    """Per-sample mean absolute error (N,)."""
    return per_sample(MeanAbsoluteError(), y_true, y_pred)


def huber(y_true, y_pred, delta=1.0):
    """Per-sample Huber loss (N,)."""
    return per_sample(Huber(delta), y_true, y_pred)


def mean_squared_logarithmic_error(y_true, y_pred):
    """Per-sample mean squared logarithmic error (N,)."""
    return per_sample(MeanSquaredLogarithmicError(), y_true, y_pred)


def mean_absolute_percentage_error(y_true, y_pred):
    """Per-sample mean absolute percentage error (N,)."""
    return per_sample(MeanAbsolutePercentageError(), y_true, y_pred)


def log_cosh(y_true, y_pred):
    """Per-sample log-cosh loss (N,)."""
    return per_sample(LogCosh(), y_true, y_pred)


def poisson(y_true, y_pred):
    """Per-sample Poisson loss (N,)."""
    return per_sample(Poisson(), y_true, y_pred)


def kl_divergence(y_true, y_pred):
    """Per-sample Kullback-Leibler divergence (N,)."""
    return per_sample(KLDivergence(), y_true, y_pred)


def hinge(y_true, y_pred):
    """Per-sample hinge loss (N,)."""
    return per_sample(Hinge(), y_true, y_pred)


def squared_hinge(y_true, y_pred):
    """Per-sample squared hinge loss (N,)."""
    return per_sample(SquaredHinge(), y_true, y_pred)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
bce = BCE = binary_crossentropy


# Every spelling Keras's losses.get() accepts for these losses: class names, function names
# and the short aliases. Function names give the class with its default arguments.
LOSSES = {
    "binary_crossentropy": BinaryCrossentropy,
    "bce": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "huber": Huber,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "msle": MeanSquaredLogarithmicError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError,
    "log_cosh": LogCosh,
    "poisson": Poisson,
    "kl_divergence": KLDivergence,
    "kld": KLDivergence,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
}
CLASS_NAMES = {cls.__name__: cls for cls in set(LOSSES.values())}
FUNCTIONS = {binary_crossentropy: BinaryCrossentropy,
             categorical_crossentropy: CategoricalCrossentropy,
             sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
             mean_squared_error: MeanSquaredError, mean_absolute_error: MeanAbsoluteError,
             huber: Huber, mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
             mean_absolute_percentage_error: MeanAbsolutePercentageError, log_cosh: LogCosh,
             poisson: Poisson, kl_divergence: KLDivergence, hinge: Hinge,
             squared_hinge: SquaredHinge}
# Keras 3.15's other losses (the names keras.losses.get accepts for them), which tinynet
# does not have: they are not elementwise, or need more than one output per sample.
KERAS_ONLY_LOSSES = ("BinaryFocalCrossentropy", "binary_focal_crossentropy",
                     "CategoricalFocalCrossentropy", "categorical_focal_crossentropy",
                     "CategoricalHinge", "categorical_hinge", "CosineSimilarity",
                     "cosine_similarity", "Dice", "dice", "Tversky", "tversky", "Circle",
                     "circle", "CTC", "ctc")


def keras_only_loss_error(name):
    """The error for a Keras loss tinynet lacks: it says so and lists tinynet's losses."""
    has = ", ".join(sorted(cls.__name__ for cls in CLASS_NAMES.values()))
    return ValueError(f"{name!r} is a Keras loss that tinynet does not have; tinynet has "
                      f"{has} (and their names such as 'mse', 'binary_crossentropy')")


def check_complete(loss):
    """A loss of your own must give its gradient too (sample_gradient, or call_and_gradient):
    without it, compile would succeed and fit fail at its first step."""
    cls = type(loss)
    if cls.sample_gradient is Loss.sample_gradient and \
            cls.call_and_gradient is Loss.call_and_gradient:
        raise TypeError(f"loss={cls.__name__}(): {cls.__name__} defines the loss but not its "
                        f"gradient: tinynet has no automatic differentiation, so a loss of "
                        f"your own also writes sample_gradient(self, y_true, y_pred), "
                        f"returning d l_n / d y_pred, the shape of y_pred (for l = mean_k "
                        f"(p - y)^2 it is 2 (p - y) / K)")
    return loss


class CrossentropyByShape(Loss):
    """What compile(loss='crossentropy') (or 'ce') means, decided as Keras 3 decides it, by
    the shapes of the targets y and the outputs (keras/src/trainers/compile_utils.py,
    get_loss and is_binary_or_sparse_categorical, in Keras 3.15.1):

        outputs (..., 1)                                          binary_crossentropy
        y of fewer axes than the outputs, or (..., 1) against (..., K > 1)
                                                                  sparse_categorical_crossentropy
        otherwise                                                 categorical_crossentropy

    A stand-in, as metrics.AccuracyByShape is: the model checks the first targets it is
    given (check_targets), and this object then becomes, in place, the loss they call for,
    so that the training step pays nothing for the choice."""

    name = "crossentropy"

    def settle(self, y_shape, output_shape):
        """Become the cross-entropy these shapes call for (this object's class changes)."""
        binary = output_shape[-1] == 1
        sparse = len(y_shape) < len(output_shape) or (y_shape[-1] == 1 and
                                                      output_shape[-1] > 1)
        cls = (BinaryCrossentropy if binary else SparseCategoricalCrossentropy if sparse
               else CategoricalCrossentropy)
        self.__class__ = cls
        cls.__init__(self, reduction=self.reduction)
        self.given_as = "crossentropy"  # a .keras file records what compile was given

    def check_targets(self, y, output_shape, where):
        self.settle(y.shape, output_shape)
        self.check_targets(y, output_shape, where)  # the chosen loss's own check

    # Called by hand before any model checked targets (a loop of your own): each settles on
    # these shapes first, then runs the chosen loss's own method. (Settling inside a method
    # the base class calls would be too late: Python has looked that method up already.)
    def loss(self, y_true, y_pred, sample_weight=None):
        self.settle(np.shape(y_true), np.shape(y_pred))
        return self.loss(y_true, y_pred, sample_weight)

    def loss_and_gradient(self, y_true, y_pred, sample_weight=None):
        self.settle(np.shape(y_true), np.shape(y_pred))
        return self.loss_and_gradient(y_true, y_pred, sample_weight)

    def call(self, y_true, y_pred):
        self.settle(np.shape(y_true), np.shape(y_pred))
        return self.call(y_true, y_pred)

    def sample_gradient(self, y_true, y_pred):
        self.settle(np.shape(y_true), np.shape(y_pred))
        return self.sample_gradient(y_true, y_pred)

    def call_and_gradient(self, y_true, y_pred):
        self.settle(np.shape(y_true), np.shape(y_pred))
        return self.call_and_gradient(y_true, y_pred)

    def prepare_targets(self, y_true, y_pred):
        self.settle(np.shape(y_true), np.shape(y_pred))
        return self.prepare_targets(y_true, y_pred)


def get(identifier):
    """A Loss from a name ('binary_crossentropy', 'BinaryCrossentropy', 'mae', 'huber', ...),
    a Loss class or instance, or one of this module's loss functions. Keras's 'crossentropy'
    (or 'ce') gives a CrossentropyByShape, which the data's shapes decide."""
    if isinstance(identifier, Loss):
        return check_complete(identifier)
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return check_complete(identifier())
    if isinstance(identifier, str) and identifier.lower() in ("crossentropy", "ce"):
        return CrossentropyByShape()
    if isinstance(identifier, str):
        cls = CLASS_NAMES.get(identifier) or LOSSES.get(identifier.lower())
        if cls is None and identifier in KERAS_ONLY_LOSSES:
            raise keras_only_loss_error(identifier)
        if cls is None:
            raise unknown_name_error("loss", identifier, LOSSES)
        return cls()
    if callable(identifier) and identifier in FUNCTIONS:
        return FUNCTIONS[identifier]()
    if callable(identifier):
        raise TypeError(f"loss={getattr(identifier, '__name__', identifier)!r}: tinynet "
                        f"needs the loss's gradient too, so a plain function cannot be a "
                        f"loss; subclass tinynet.losses.Loss and write call() and "
                        f"sample_gradient(), or use a name like 'binary_crossentropy'")
    raise TypeError(f"loss must be a name like 'binary_crossentropy' or a Loss, "
                    f"got {identifier!r}")


def __getattr__(name):
    """A Keras loss tinynet lacks (losses.CosineSimilarity) gets an error that says so."""
    hints = dict.fromkeys(KERAS_ONLY_LOSSES, "a Keras loss tinynet does not have")
    has = [n for n in (*CLASS_NAMES, *LOSSES, "Loss", "get") if n in globals()]
    raise missing_attribute("tinynet.losses", name, has, hints)
