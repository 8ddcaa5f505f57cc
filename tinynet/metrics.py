"""Metrics: numbers reported during training that are not optimized.

A metric is an object with a running state, as in Keras:

    metric.reset_state()                                  start of an epoch
    metric.update_state(y_true, y_pred, sample_weight)    after every batch
    metric.result()                                       the value so far, a float

Two kinds of state:

  * Means (accuracies, errors, cross-entropies, a function of your own): a weighted total and
    a count,
        total += sum_n w_n v_n,  count += sum_n w_n,  result = total / count,
    where v_n is the metric's value for sample n (its mean over the last axis if it has
    one per output). Weighted by samples, so batches of different sizes count fairly.
  * Confusion counts (Precision, Recall, AUC, TruePositives, ...): true/false
    positives/negatives added up over the whole epoch, and the ratio taken at the end.
    Averaging a per-batch precision would give another (wrong) number: precision is a ratio
    of sums, not a mean.

What each value is, with p the prediction, y the target and eps = 1e-7 (Keras 3's
definitions, read in Keras 3.15.1's source, keras/src/metrics/ and keras/src/losses/):

    accuracy                     v = (p == y)                    (exact equality)
    binary_accuracy              v = mean_k (y_k == (p_k > threshold)),  threshold = 0.5
    categorical_accuracy         v = (argmax p == argmax y)
    sparse_categorical_accuracy  v = (argmax p == y)             (y an integer label)
    top_k_categorical_accuracy   v = 1 if the target class is among the k largest p (k = 5)
    sparse_top_k_categorical_accuracy   the same with an integer label
    binary_crossentropy          v = the loss's value for the sample (tinynet.losses), and
    categorical_crossentropy         so for the two others: a cross-entropy metric reports
    sparse_categorical_crossentropy  the same number as the loss of that name
    (these three, and below the per-sample ones from kl_divergence to squared_hinge except
    root_mean_squared_error and cosine_similarity, ARE tinynet.losses' per-sample functions,
    as in Keras; categorical_hinge is a Keras loss too, which tinynet has as a metric only)
    kl_divergence                v = sum_k y_k log(y_k / p_k),  y and p clipped to [eps, 1]
    poisson                      v = mean_k (p_k - y_k log(p_k + eps))
    mean_absolute_error          v = mean_k |p_k - y_k|
    mean_squared_error           v = mean_k (p_k - y_k)^2
    root_mean_squared_error      sqrt(the mean over samples of mean_k (p_k - y_k)^2)
    mean_absolute_percentage_error   v = 100 mean_k |y_k - p_k| / max(|y_k|, eps)
    mean_squared_logarithmic_error   v = mean_k (log(1 + max(p_k, eps)) - log(1 + max(y_k, eps)))^2
    cosine_similarity            v = sum_k y_k p_k / (|y| |p|)
    log_cosh_error               v = mean_k log(cosh(p_k - y_k))
    hinge                        v = mean_k max(1 - y_k p_k, 0)     (0/1 targets become -1/1)
    squared_hinge                v = mean_k max(1 - y_k p_k, 0)^2
    categorical_hinge            v = max(max_k (1 - y_k) p_k - sum_k y_k p_k + 1, 0)
    precision                    TP / (TP + FP), a prediction counts as positive if p > 0.5
    recall                       TP / (TP + FN)
    true_positives, false_positives, true_negatives, false_negatives    the counts themselves
    auc                          area under the ROC curve (or the precision-recall curve), see AUC

The string 'accuracy' (or 'acc') means different things for different data, as in Keras 3,
which decides by the shapes of the first targets and outputs it sees (AccuracyByShape):
binary_accuracy for outputs of one column (binary cross-entropy's sigmoid),
sparse_categorical_accuracy for integer labels against several outputs (the sparse
cross-entropy's), categorical_accuracy otherwise (one-hot targets; also binary cross-entropy
over several outputs, where Keras 3 takes the arg-max, not each output).

Each metric has Keras's get_config() (its constructor arguments by Keras's names), and
`serialize` / `deserialize` turn a metric into the dict Keras writes in a .keras file and back.
"""

import json

import numpy as np

from tinynet import losses
from tinynet.config import standardize_dtype
from tinynet.losses import match_shapes, same_but_for_ones
from tinynet.tensors import Scalar, Tensor, as_tensor  # the rules the losses use too
from tinynet.validation import (
    check_bool,
    check_float,
    check_int,
    missing_attribute,
    snake_case,
    unknown_name_error,
)

# Keras's backend epsilon, 1e-7, the losses' own (tinynet.losses.EPSILON): AUC's outer
# thresholds sit this far outside [0, 1], and cosine_similarity's normalization divides by
# no less. (The losses used as metrics clip with it inside tinynet.losses.)
EPSILON = losses.EPSILON
# AUC's default number of thresholds, 200: Keras 3.15's source (keras/src/metrics/
# confusion_metrics.py) and the tf.keras.metrics.AUC API page.
AUC_NUM_THRESHOLDS = 200


def divide_no_nan(numerator, denominator):
    """numerator / denominator, and 0 where the denominator is 0 (Keras's divide_no_nan):
    a precision with no positive prediction yet is reported as 0, not NaN."""
    numerator = np.asarray(numerator, dtype=np.float64)
    denominator = np.asarray(denominator, dtype=np.float64)
    safe = np.where(denominator == 0, 1.0, denominator)
    return np.where(denominator == 0, 0.0, numerator / safe)


def as_floats(y_true, y_pred, where):
    """Both as float arrays of the same shape (matched_shapes), in y_pred's float type."""
    y_true, y_pred = match_shapes(y_true, y_pred, where)
    dtype = y_pred.dtype if y_pred.dtype in (np.float32, np.float64) else np.float64
    return y_true.astype(dtype), y_pred.astype(dtype)


def check_metric_axis(axis, where):
    """Keras's axis argument of the cross-entropy metrics: tinynet's work along the last axis
    only. Returns axis (-1); a ValueError for any other."""
    if axis != -1:
        raise ValueError(f"{where}: tinynet computes along the last axis only (axis=-1), "
                         f"got axis={axis!r}")
    return axis


# -- per-sample functions, as keras.metrics.binary_accuracy etc.: one value per sample -------

def accuracy(y_true, y_pred):
    """1.0 where the prediction equals the target exactly, else 0.0; shape of y_pred."""
    y_true, y_pred = match_shapes(y_true, y_pred, "accuracy")
    return (y_true == y_pred).astype(np.float64)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """(N, K): 1.0 where (p > threshold) equals the target (a 0/1 label), else 0.0."""
    # in fit, y has y_pred's shape already
    y_true, y_pred = match_shapes(y_true, y_pred, "binary_accuracy")
    return (y_true == (y_pred > threshold)).astype(np.float64)


def categorical_accuracy(y_true, y_pred):
    """(N,): 1.0 where the most probable class is the one-hot target's class ((N, H, W) for
    outputs (N, H, W, K))."""
    y_true, y_pred = match_shapes(y_true, y_pred, "categorical_accuracy")
    return (np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)).astype(np.float64)


def sparse_labels(y_true, y_pred, where):
    """The integer labels of y_true, one per row of y_pred: (N,) from (N,) or (N, 1) for
    outputs (N, K); (N, H, W) from (N, H, W) or (N, H, W, 1) for (N, H, W, K). One-hot
    targets or any other shape get a clear error (taking their first column would be a
    wrong answer)."""
    labels, rows = np.asarray(y_true), np.shape(y_pred)[:-1]
    if not same_but_for_ones(labels.shape, rows):
        raise ValueError(f"{where}: needs one integer label per row of y_pred, shape {rows} "
                         f"or {(*rows, 1)}, got y_true of shape {labels.shape}; for one-hot "
                         f"targets use the metric without 'sparse_'")
    return labels.reshape(rows)


def sparse_categorical_accuracy(y_true, y_pred):
    """(N,): 1.0 where the most probable class is the integer label ((N, H, W) for outputs
    (N, H, W, K), one per pixel)."""
    labels = sparse_labels(y_true, y_pred, "sparse_categorical_accuracy")
    return (np.argmax(y_pred, axis=-1) == labels).astype(np.float64)


def in_top_k(labels, y_pred, k):
    """(N,): 1.0 where the label's score is among the k largest of its row, ties included:
    fewer than k scores are strictly larger than it (Keras's ops.in_top_k: the label's score
    >= the k-th largest score)."""
    y_pred = np.asarray(y_pred)                                             # (N, K)
    labels = np.asarray(labels).reshape(y_pred.shape[:-1]).astype(np.int64)  # (N,)
    label_score = np.take_along_axis(y_pred, labels[..., None], axis=-1)    # (N, 1)
    larger = np.sum(y_pred > label_score, axis=-1)                          # (N,)
    return (larger < k).astype(np.float64)


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """(N,): 1.0 where the one-hot target's class is among the k most probable classes."""
    return in_top_k(np.argmax(y_true, axis=-1), y_pred, k)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """(N,): 1.0 where the integer label is among the k most probable classes. With
    from_sorted_ids=True, y_pred (N, M) already holds class ids, best first: 1.0 where the
    label is one of the first k."""
    labels = sparse_labels(y_true, y_pred, "sparse_top_k_categorical_accuracy")
    if from_sorted_ids:
        return np.any(np.asarray(y_pred)[..., :k] == labels[..., None],
                      axis=-1).astype(np.float64)
    return in_top_k(labels, y_pred, k)


# The metric functions that are losses too ARE the losses' per-sample functions, as in Keras
# (keras.metrics.mean_squared_error is keras.losses.mean_squared_error): one formula each,
# written once in tinynet.losses, checked there (y_true must go with y_pred) and giving one
# value per sample (N,). A prediction of NaN gives NaN, as in Keras.
mean_absolute_error = losses.mean_absolute_error                # mean_k |p_k - y_k|
mean_squared_error = losses.mean_squared_error                  # mean_k (p_k - y_k)^2
mean_absolute_percentage_error = losses.mean_absolute_percentage_error
mean_squared_logarithmic_error = losses.mean_squared_logarithmic_error
log_cosh = losses.log_cosh
kl_divergence = losses.kl_divergence
poisson = losses.poisson
hinge = losses.hinge                                            # 0/1 targets become -1/1
squared_hinge = losses.squared_hinge
huber = losses.huber        # keras.metrics.huber exists, but not the metric string 'huber'
binary_crossentropy = losses.binary_crossentropy
categorical_crossentropy = losses.categorical_crossentropy
sparse_categorical_crossentropy = losses.sparse_categorical_crossentropy
mae = mean_absolute_error
mse = mean_squared_error


def l2_normalize(x, axis=-1):
    """x / max(|x|, eps) along `axis` (Keras's ops.normalize): a zero row stays zero."""
    norm = np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
    return x / np.maximum(norm, EPSILON)


def cosine_similarity(y_true, y_pred, axis=-1):
    """(N,): sum_k y_k p_k / (|y| |p|), the cosine of the angle between target and
    prediction: 1 for the same direction, 0 at right angles, -1 opposite. (This is the
    metric, keras.metrics.CosineSimilarity's function; keras.losses.cosine_similarity is its
    negative.)"""
    y_true, y_pred = as_floats(y_true, y_pred, "cosine_similarity")
    return np.sum(l2_normalize(y_true, axis) * l2_normalize(y_pred, axis), axis=axis)


def categorical_hinge(y_true, y_pred):
    """(N,): max(neg - pos + 1, 0) for one-hot y, with pos = sum_k y_k p_k (the target's
    score) and neg = max_k (1 - y_k) p_k (the best other score)."""
    y_true, y_pred = as_floats(y_true, y_pred, "categorical_hinge")
    pos = np.sum(y_true * y_pred, axis=-1)
    neg = np.max((1.0 - y_true) * y_pred, axis=-1)
    return np.maximum(neg - pos + 1.0, 0.0)


# -- the base class and the means ------------------------------------------------------------

class Metric:
    """Base class: a name and a running state (`reset_state`, `update_state`, `result`).
    Calling a metric, metric(y_true, y_pred), updates it and returns the result, as in Keras.

    A metric of your own defines all three. Its state is plain attributes (numbers or NumPy
    arrays), set in reset_state, which __init__ calls, so it is not created in __init__
    (Keras's self.add_variable(...) and .assign(...) become self.total = 0.0 and
    self.total += ...):

        class TruePositiveCount(Metric):
            def reset_state(self):
                self.count = 0.0
            def update_state(self, y_true, y_pred, sample_weight=None):
                self.count += float(np.sum((np.asarray(y_pred) > 0.5) & (np.asarray(y_true) == 1)))
            def result(self):
                return self.count

    dtype is Keras's argument, kept for get_config: tinynet adds up in float64 whatever it
    is, and the built-in metrics' result() returns that number rounded to float32 (a Python
    float holding a float32 value, as Keras's float32 result reads: 0.5199999809265137 for
    0.52), so that result(), the logs and History agree with Keras's to the last digit in
    most cases (the logs round any metric's result so)."""

    name = "metric"
    # Which way is better: "up" (accuracy), "down" (an error), or None (not known), as
    # Keras 3 marks its metrics (their _direction); EarlyStopping, ReduceLROnPlateau and
    # ModelCheckpoint with mode='auto' read it. Set below the classes (DIRECTIONS).
    direction = None
    # What compile(metrics=[...]) was given, when that was a string ('acc') or a function
    # (set by `get`); None for a metric object. A saved file keeps it as it was given, as
    # Keras does: "acc" stays "acc", an object is written with its settings.
    identifier = None

    def __init__(self, name=None, dtype=None):
        if name is not None:
            if not isinstance(name, str):
                raise TypeError(f"{type(self).__name__}(name=...) must be a string, "
                                f"got {name!r}")
            self.name = name
        elif type(self).name == Metric.name:  # a metric of your own: its class name, as
            self.name = snake_case(type(self).__name__)  # Keras names it (true_positive_count)
        self.dtype = standardize_dtype(dtype, f"{type(self).__name__}(dtype=...)")
        try:
            self.reset_state()
        except AttributeError as error:  # Keras's way: state made in __init__, reset_state
            # assigns into it (self.total.assign(0.0)); here reset_state runs first
            # only a missing attribute of the metric itself; add_variable's own advice and
            # any other error (a typo in reset_state) speak for themselves
            if getattr(error, "obj", None) is not self or "add_variable" in str(error):
                raise
            raise AttributeError(
                f"{type(self).__name__}.reset_state() failed ({error}). tinynet calls it "
                f"from Metric.__init__, before the rest of your __init__, so reset_state must "
                f"create the state itself as plain attributes (self.total = 0.0), not assign "
                f"into variables that Keras's add_variable or add_weight made in __init__; "
                f"a setting it "
                f"reads (self.k = k) is set before super().__init__() (see "
                f"help(tinynet.metrics.Metric))") from error

    def reset_state(self):
        raise NotImplementedError(f"{type(self).__name__} must define reset_state(), which "
                                  f"sets its running state (e.g. self.total = 0.0); tinynet "
                                  f"calls it from __init__, so it creates the state too")

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError(f"{type(self).__name__} must define update_state(y_true, "
                                  f"y_pred, sample_weight=None), adding one batch")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must define result(), the value "
                                  f"so far as a float")

    def __call__(self, *args, **kwargs):
        """metric(y_true, y_pred, sample_weight=None): update_state with the same arguments
        (for Mean, metric(values, sample_weight=None), as Keras's guides call
        train_loss(loss)), then the result so far."""
        self.update_state(*args, **kwargs)
        return as_tensor(self.result())  # it answers .numpy() too, as Keras's does

    @property
    def add_variable(self):
        # a property that raises, so that Keras's way of making a metric's state stops with
        # what to write instead (a __getattr__ would slow every attribute of every metric)
        raise AttributeError(f"{type(self).__name__}: tinynet metrics have no add_variable "
                             f"or add_weight (Keras's ways of making a metric's state). Keep "
                             f"the state in plain attributes set in reset_state(), which "
                             f"__init__ calls: self.total = 0.0 there, self.total += ... in "
                             f"update_state, where Keras writes self.total.assign_add(...) "
                             f"(see help(tinynet.metrics.Metric))")

    add_weight = add_variable  # Keras 3 metrics have both names

    def get_config(self):
        """The constructor arguments, by Keras's names: cls(**metric.get_config()) makes the
        same metric (Keras writes this dict in a .keras file)."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r})"


class Mean(Metric):
    """The weighted mean of values: update_state(values, sample_weight=None).

    values (N,) or (N, ...): a value per sample (with more axes, each sample's mean).
    total += sum_n w_n v_n, count += sum_n w_n (count += N without weights).
    """

    name = "mean"

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        values = np.atleast_1d(np.asarray(values, dtype=np.float64))
        if sample_weight is not None:
            return self.add_weighted(values, sample_weight)
        values = values.reshape(len(values), -1)  # (N, K): one row per sample
        self.total += float(values.sum()) / values.shape[1]  # each sample's mean, summed
        self.count += len(values)

    def add_weighted(self, values, sample_weight):
        """values (N, ...), K per sample. With w the weight of every value (value_weights:
        one per sample, one per value, or one number for all): total += sum w v / K and
        count += sum w / K. For one weight per sample that is sum_n w_n mean_k v_nk and
        sum_n w_n; for one per value, the result is Keras's sum w v / sum w."""
        weights = value_weights(sample_weight, values.shape,
                                f"{type(self).__name__}.update_state")
        k = values.size // len(values)
        self.total += float((weights * values).sum()) / k
        self.count += float(weights.sum()) / k
        return None

    def result(self):
        # a float that also answers .numpy(), as Keras's result does (tinynet.tensors)
        # divide_no_nan; rounded to float32, what Keras's float32 result holds
        return Scalar(np.float32(self.total / self.count) if self.count else 0.0)


class MeanMetricWrapper(Mean):
    """The weighted mean of fn(y_true, y_pred, **kwargs), a function that returns one value
    per sample (or per output of each sample). Plain metric functions get wrapped in this."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper(fn=...) must be a function, got {fn!r}")
        self.fn = fn
        self.fn_kwargs = kwargs
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"),
                         dtype=dtype)
        if fn in losses.FUNCTIONS or isinstance(fn, losses.Loss):  # a loss: lower is better,
            self.direction = "down"                                # as Keras decides

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self.fn(y_true, y_pred, **self.fn_kwargs), sample_weight)

    def get_config(self):
        """Keras's: name and dtype; for a MeanMetricWrapper itself also the function (as
        Keras writes a function) and its keyword arguments. (Its subclasses, BinaryAccuracy
        and the others, fix the function: they write their own arguments instead.)"""
        config = super().get_config()
        if type(self) is MeanMetricWrapper:
            config.update({"fn": serialize(self.fn), **self.fn_kwargs})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if "fn" in config:  # a MeanMetricWrapper's own config
            config["fn"] = deserialize_function(config["fn"])
        return cls(**config)


class Accuracy(MeanMetricWrapper):
    """How often the prediction equals the target exactly."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)


class BinaryAccuracy(MeanMetricWrapper):
    """How often (p > threshold) equals the 0/1 target. Default threshold 0.5."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        self.threshold = check_float(threshold, "BinaryAccuracy(threshold=...)")
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=self.threshold)

    def get_config(self):
        return {**super().get_config(), "threshold": self.threshold}


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the most probable class is the one-hot target's class."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the most probable class is the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the one-hot target's class is among the k most probable classes (k=5)."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        self.k = check_int(k, "TopKCategoricalAccuracy(k=...)", 1)
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=self.k)

    def get_config(self):
        return {**super().get_config(), "k": self.k}


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """How often the integer label is among the k most probable classes (k=5)."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        self.k = check_int(k, "SparseTopKCategoricalAccuracy(k=...)", 1)
        self.from_sorted_ids = check_bool(from_sorted_ids, "SparseTopKCategoricalAccuracy("
                                                           "from_sorted_ids=...)")
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=self.k,
                         from_sorted_ids=self.from_sorted_ids)

    def get_config(self):
        config = {**super().get_config(), "k": self.k}
        if self.from_sorted_ids:  # Keras writes it only when it is on
            config["from_sorted_ids"] = True
        return config


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean over samples of mean_k |p_k - y_k|."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)


class MeanSquaredError(MeanMetricWrapper):
    """The mean over samples of mean_k (p_k - y_k)^2."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)


class RootMeanSquaredError(Mean):
    """sqrt(the mean over samples of mean_k (p_k - y_k)^2): the square root is taken at the
    end, of the mean over everything seen, not per batch."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        # each squared error (N, K), not each sample's mean: sample_weight may then give a
        # weight to every value, as Keras allows
        y_true, y_pred = losses.MeanSquaredError().checked_arrays(
            y_true, y_pred, f"{type(self).__name__}.update_state", finite_pred=False)
        y_true = y_true.reshape(y_pred.shape)  # (N,) targets for (N, 1) outputs
        super().update_state(np.square(y_pred - y_true), sample_weight)

    def result(self):
        return Scalar(np.float32(np.sqrt(super().result())))


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """The mean over samples of 100 mean_k |y_k - p_k| / max(|y_k|, eps)."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name, dtype=dtype)


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """The mean over samples of mean_k (log(1 + max(p_k, eps)) - log(1 + max(y_k, eps)))^2
    (negative values count as eps)."""

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name, dtype=dtype)


class CosineSimilarity(MeanMetricWrapper):
    """The mean over samples of the cosine between target and prediction."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        self.axis = check_int(axis, "CosineSimilarity(axis=...)")
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=self.axis)

    def get_config(self):
        config = super().get_config()
        if self.axis != -1:  # Keras 3.15 leaves axis out (and so loses it); written if set
            config["axis"] = self.axis
        return config


class LogCoshError(MeanMetricWrapper):
    """The mean over samples of mean_k log(cosh(p_k - y_k)). Keras names it 'logcosh'."""

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name=name, dtype=dtype)


class KLDivergence(MeanMetricWrapper):
    """The mean over samples of sum_k y_k log(y_k / p_k)."""

    def __init__(self, name="kl_divergence", dtype=None):
        super().__init__(kl_divergence, name=name, dtype=dtype)


class Poisson(MeanMetricWrapper):
    """The mean over samples of mean_k (p_k - y_k log(p_k + eps))."""

    def __init__(self, name="poisson", dtype=None):
        super().__init__(poisson, name=name, dtype=dtype)


class Hinge(MeanMetricWrapper):
    """The mean over samples of mean_k max(1 - y_k p_k, 0), targets -1/1 (or 0/1)."""

    def __init__(self, name="hinge", dtype=None):
        super().__init__(hinge, name=name, dtype=dtype)


class SquaredHinge(MeanMetricWrapper):
    """The mean over samples of mean_k max(1 - y_k p_k, 0)^2."""

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(squared_hinge, name=name, dtype=dtype)


class CategoricalHinge(MeanMetricWrapper):
    """The mean over samples of max(best other score - target's score + 1, 0)."""

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(categorical_hinge, name=name, dtype=dtype)


class BinaryCrossentropy(MeanMetricWrapper):
    """The mean over samples of the binary cross-entropy (the loss's own values)."""

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0):
        self.from_logits = check_bool(from_logits, "BinaryCrossentropy(from_logits=...)")
        self.label_smoothing = check_float(label_smoothing, "BinaryCrossentropy("
                                                            "label_smoothing=...)", 0.0, 1.0)
        self.init_label_smoothing = label_smoothing  # written back as given (0 stays 0)
        super().__init__(binary_crossentropy, name=name, dtype=dtype,
                         from_logits=self.from_logits, label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.init_label_smoothing}


class CategoricalCrossentropy(MeanMetricWrapper):
    """The mean over samples of the categorical cross-entropy, for one-hot targets."""

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False,
                 label_smoothing=0, axis=-1):
        where = "CategoricalCrossentropy"
        self.from_logits = check_bool(from_logits, f"{where}(from_logits=...)")
        self.label_smoothing = check_float(label_smoothing, f"{where}(label_smoothing=...)",
                                           0.0, 1.0)
        self.init_label_smoothing = label_smoothing
        self.axis = check_metric_axis(axis, f"{where}(axis=...)")
        super().__init__(categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=self.from_logits, label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "label_smoothing": self.init_label_smoothing, "axis": self.axis}


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The mean over samples of the categorical cross-entropy, for integer labels."""

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False,
                 ignore_class=None, axis=-1):
        where = "SparseCategoricalCrossentropy"
        self.from_logits = check_bool(from_logits, f"{where}(from_logits=...)")
        if ignore_class is not None:
            raise ValueError(f"{where}(ignore_class={ignore_class!r}): tinynet does not "
                             f"support ignore_class; leave it None")
        self.ignore_class = None
        self.axis = check_metric_axis(axis, f"{where}(axis=...)")
        super().__init__(sparse_categorical_crossentropy, name=name, dtype=dtype,
                         from_logits=self.from_logits)

    def get_config(self):
        return {**super().get_config(), "from_logits": self.from_logits,
                "ignore_class": self.ignore_class, "axis": self.axis}


# -- confusion counts: precision, recall, true/false positives/negatives, AUC ----------------

def value_weights(sample_weight, shape, where):
    """The weight of every value of an array of `shape` (N, ...): an array of that shape.

    sample_weight None: all 1. A single number (or [w]): w for every value. (N,) or (N, 1):
    one weight per sample, given to each of its values. `shape` itself: one weight per value
    (Keras takes this too). (N, H, W) or (N, H, W, 1) for (N, H, W, K): one weight per pixel,
    given to each of its K values (the sample weights of fit for outputs per pixel), and
    (N, 1, 1) one per image. In general, weights whose axes are the first axes of `shape`,
    each of the same length or 1. Raises: ValueError for any other shape, e.g. 8 weights for
    4 samples (never a silent reshape of, say, transposed weights)."""
    if sample_weight is None:
        return np.ones(shape)
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.shape == tuple(shape):
        return weights
    if weights.size == 1:
        return np.full(shape, weights.item())
    if weights.ndim > len(shape) and set(weights.shape[len(shape):]) == {1}:
        weights = weights.reshape(weights.shape[:len(shape)])  # (N, H, W, 1) for (N, H, W)
    # otherwise the weights' axes are the first axes of `shape`, each of its length or 1:
    # (N,) or (N, 1) one per sample, (N, 1, 1) or (N, H, W) or (N, H, W, 1) for (N, H, W, K)
    # one per sample or per pixel, as fit and the losses take them
    if weights.ndim and len(weights) == shape[0] and weights.ndim <= len(shape) and all(
            w in (1, s) for w, s in zip(weights.shape, shape, strict=False)):
        return np.broadcast_to(weights.reshape(*weights.shape,
                                               *[1] * (len(shape) - weights.ndim)), shape)
    raise ValueError(f"{where}: sample_weight needs one weight per sample ({shape[0]}), one "
                     f"per value (shape {tuple(shape)}) or a single number, got shape "
                     f"{weights.shape}")


def confusion_counts(y_true, y_pred, thresholds, sample_weight=None,
                     where="confusion_counts"):
    """Weighted (TP, FP, TN, FN) at each threshold t: a prediction is positive if p > t.

    Inputs: y_true, y_pred of the same size (every output of every sample counts: they are
    flattened), thresholds (T,), sample_weight (N,), (N, 1), y_pred's shape, or None (see
    value_weights); `where` names the caller in errors. Returns: four arrays (T,).
    A target counts as positive if it is not 0.
    """
    y_true, y_pred = match_shapes(y_true, y_pred, where)
    weights = value_weights(sample_weight, y_pred.shape, where)
    positive = (y_true != 0).reshape(1, -1)                                # (1, N*K)
    # compared in float32, as Keras 3 does (metrics_utils casts both to the metric's float32):
    # a float32 prediction of 0.3 is 0.30000001, above the float64 threshold 0.3 but equal
    # to the float32 one, so it is not counted as positive
    p, t = np.float32(y_pred).reshape(1, -1), np.float32(thresholds).reshape(-1, 1)
    predicted = p > t                                                      # (T, N*K)
    weights = weights.reshape(1, -1)
    tp = np.sum(weights * (predicted & positive), axis=1)
    fp = np.sum(weights * (predicted & ~positive), axis=1)
    tn = np.sum(weights * (~predicted & ~positive), axis=1)
    fn = np.sum(weights * (~predicted & positive), axis=1)
    return tp, fp, tn, fn


def check_thresholds(thresholds, where):
    """thresholds=None -> [0.5]; a number or a list of numbers in [0, 1] -> an array."""
    if thresholds is None:
        return np.array([0.5])
    values = np.atleast_1d(np.asarray(thresholds, dtype=np.float64))
    if values.ndim != 1 or np.any((values < 0) | (values > 1)):
        raise ValueError(f"{where}: thresholds must be numbers in [0, 1], got {thresholds!r}")
    return values


class ConfusionMetric(Metric):
    """What Precision and Recall share: thresholds, an optional class_id, and the counts."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        where = f"{type(self).__name__}(...)"
        if top_k is not None:
            raise ValueError(f"{where}: top_k is not supported in tinynet; leave it None")
        self.thresholds = check_thresholds(thresholds, where)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = None if class_id is None else check_int(class_id, f"{where}: "
                                                                            f"class_id", 0)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        zeros = np.zeros(len(self.thresholds))
        self.true_positives, self.false_positives = zeros.copy(), zeros.copy()
        self.false_negatives = zeros.copy()

    def class_column(self, y):
        """y[..., class_id], the one class that counts, for y of shape (N, K) (or (N, H, W,
        K): one class per pixel, as Keras reads it too)."""
        y = np.asarray(y)
        if y.ndim < 2 or not self.class_id < y.shape[-1]:
            raise ValueError(f"{type(self).__name__}(class_id={self.class_id}) counts one "
                             f"class of outputs (N, K) with K > {self.class_id}, got an "
                             f"array of shape {y.shape}")
        return y[..., self.class_id]

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.class_id is not None:  # only that class's column counts
            y_true, y_pred = self.class_column(y_true), self.class_column(y_pred)
        tp, fp, _, fn = confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                         f"{type(self).__name__}.update_state")
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += fn

    def single_or_all(self, values):
        """A float for one threshold (the usual case), else an array, one per threshold."""
        return Scalar(np.float32(values[0])) if len(self.thresholds) == 1 else values.view(Tensor)

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(ConfusionMetric):
    """Of the predictions called positive (p > threshold), the fraction that are:
    TP / (TP + FP), over everything seen since reset_state."""

    name = "precision"

    def result(self):
        return self.single_or_all(divide_no_nan(self.true_positives,
                                                self.true_positives + self.false_positives))


class Recall(ConfusionMetric):
    """Of the positive targets, the fraction predicted positive: TP / (TP + FN)."""

    name = "recall"

    def result(self):
        return self.single_or_all(divide_no_nan(self.true_positives,
                                                self.true_positives + self.false_negatives))


class ConfusionCount(Metric):
    """One count of the confusion matrix, added up since reset_state (weighted by
    sample_weight): a float for one threshold (default 0.5), an array for several.
    A prediction counts as positive if p > threshold, a target if it is not 0."""

    condition = "tp"  # which of confusion_counts' four: "tp", "fp", "tn" or "fn"

    def __init__(self, thresholds=None, name=None, dtype=None):
        self.thresholds = check_thresholds(thresholds, f"{type(self).__name__}(...)")
        self.init_thresholds = thresholds
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self.accumulator = np.zeros(len(self.thresholds))

    def update_state(self, y_true, y_pred, sample_weight=None):
        tp, fp, tn, fn = confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                          f"{type(self).__name__}.update_state")
        self.accumulator += {"tp": tp, "fp": fp, "tn": tn, "fn": fn}[self.condition]

    def result(self):
        return (Scalar(np.float32(self.accumulator[0])) if len(self.thresholds) == 1
                else self.accumulator.copy().view(Tensor))

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(ConfusionCount):
    """How many positive targets are predicted positive."""

    name = "true_positives"
    condition = "tp"


class FalsePositives(ConfusionCount):
    """How many negative targets (0) are predicted positive."""

    name = "false_positives"
    condition = "fp"


class TrueNegatives(ConfusionCount):
    """How many negative targets are predicted negative."""

    name = "true_negatives"
    condition = "tn"


class FalseNegatives(ConfusionCount):
    """How many positive targets are predicted negative."""

    name = "false_negatives"
    condition = "fn"


class AUC(Metric):
    """Area under the ROC curve (curve='ROC') or the precision-recall curve (curve='PR'),
    computed as Keras 3 computes it.

    Thresholds: t_0 = -eps, t_i = i / (T - 1) for i = 1 .. T-2, t_{T-1} = 1 + eps, with
    T = num_thresholds = 200 by default. At each threshold the counts give a point:
        ROC:  x_i = FP_i / (FP_i + TN_i) (false positive rate),  y_i = TP_i / (TP_i + FN_i)
        PR:   x_i = TP_i / (TP_i + FN_i) (recall),               y_i = TP_i / (TP_i + FP_i)
    and the curve is summed as trapezoids:  AUC = sum_i (x_i - x_{i+1}) * (y_i + y_{i+1}) / 2
    ('interpolation'; 'minoring' and 'majoring' use min and max of y_i, y_{i+1} instead).

    The PR curve with 'interpolation' is summed differently, by Davis and Goadrich's
    interpolation (see interpolate_pr_auc): precision is not linear between two thresholds,
    but TP and P = TP + FP are.

    Counting p > t_i for 200 thresholds would compare every prediction 200 times; like Keras,
    this puts each p (clipped to [0, 1]) into the bucket b = max(ceil(p (T - 1)) - 1, 0), the
    index of the last threshold below it, and adds the buckets up from the top: TP_i is the
    weight of the positives in buckets >= i. Float32 arithmetic, as in Keras.
    """

    name = "auc"

    def __init__(self, num_thresholds=AUC_NUM_THRESHOLDS, curve="ROC",
                 summation_method="interpolation", name=None, dtype=None, thresholds=None,
                 multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        where = "AUC(...)"
        # Keras accepts 'ROC'/'roc', 'PR'/'pr' (and 'PRGAIN', which tinynet lacks)
        self.curve = {"roc": "ROC", "pr": "PR"}.get(str(curve).lower())
        if self.curve is None:
            raise ValueError(f"{where}: curve must be 'ROC' or 'PR' (tinynet lacks Keras's "
                             f"'PRGAIN'), got curve={curve!r}")
        for key, value in (("multi_label", multi_label), ("num_labels", num_labels),
                           ("label_weights", label_weights)):
            if value is not None and value is not False:
                raise ValueError(f"{where}: {key}={value!r} is Keras's, for several labels "
                                 f"per sample (one curve each); tinynet computes one curve "
                                 f"over every output, as Keras does with multi_label=False, "
                                 f"num_labels=None and label_weights=None")
        summation_method = str(summation_method).lower()
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"{where}: summation_method must be 'interpolation', 'minoring' "
                             f"or 'majoring', got {summation_method!r}")
        self.summation_method = summation_method
        self.from_logits = check_bool(from_logits, f"{where}: from_logits")
        self.multi_label, self.num_labels, self.label_weights = False, None, None
        if thresholds is None:
            self.num_thresholds = check_int(num_thresholds, f"{where}: num_thresholds", 2)
            inner = [(i + 1) / (self.num_thresholds - 1) for i in range(self.num_thresholds - 2)]
        else:
            inner = sorted(check_thresholds(thresholds, where).tolist())
            self.num_thresholds = len(inner) + 2
        self.evenly_spaced = thresholds is None
        self.thresholds = np.array([0.0 - EPSILON, *inner, 1.0 + EPSILON])
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        zeros = np.zeros(self.num_thresholds)
        self.true_positives, self.false_positives = zeros.copy(), zeros.copy()
        self.true_negatives, self.false_negatives = zeros.copy(), zeros.copy()

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred, dtype=np.float32)
        if self.from_logits:
            y_pred = 1 / (1 + np.exp(-y_pred))
        if self.evenly_spaced:
            counts = self.bucket_counts(y_true, y_pred, sample_weight)
        else:
            counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                      "AUC.update_state")
        for total, count in zip((self.true_positives, self.false_positives,
                                 self.true_negatives, self.false_negatives), counts,
                                strict=True):
            total += count

    def bucket_counts(self, y_true, y_pred, sample_weight):
        """(TP, FP, TN, FN) at the evenly spaced thresholds, through buckets (see above)."""
        y_true, y_pred = match_shapes(y_true, y_pred, "AUC.update_state")
        weights = value_weights(sample_weight, y_pred.shape, "AUC.update_state")
        positive = (np.asarray(y_true) != 0).reshape(-1)
        p = np.clip(y_pred, 0.0, 1.0).reshape(-1)
        bucket = np.ceil(p * np.float32(self.num_thresholds - 1)) - 1
        bucket = np.maximum(bucket, 0).astype(np.int64)
        weights = weights.reshape(-1)
        per_bucket_pos = np.bincount(bucket, weights * positive, self.num_thresholds)
        per_bucket_neg = np.bincount(bucket, weights * ~positive, self.num_thresholds)
        tp = np.cumsum(per_bucket_pos[::-1])[::-1]   # weight of positives in buckets >= i
        fp = np.cumsum(per_bucket_neg[::-1])[::-1]
        return tp, fp, per_bucket_neg.sum() - fp, per_bucket_pos.sum() - tp

    def result(self):
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self.interpolate_pr_auc()
        recall = divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)
        if self.curve == "ROC":
            x = divide_no_nan(self.false_positives,                 # false positive rate
                              self.false_positives + self.true_negatives)
            y = recall
        else:
            x = recall
            y = divide_no_nan(self.true_positives,                  # precision
                              self.true_positives + self.false_positives)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return Scalar(np.float32(np.sum((x[:-1] - x[1:]) * heights)))

    def interpolate_pr_auc(self):
        """The area under the precision-recall curve, interpolated as Davis and Goadrich
        (2006, section 4) propose, in the closed form of Keras's AUC.interpolate_pr_auc.

        Between two neighbouring thresholds A and B (A the lower one: more predicted
        positives), TP and P = TP + FP (the predicted positives) change linearly together,
        with slope s = dTP / dP = (TP_A - TP_B) / (P_A - P_B). Precision TP / P is then not
        linear in P, and its integral over recall (dR = dTP / (TP_B + FN_B)) is

            area_i = s * (dTP + c * log(P_A / P_B)) / (TP_B + FN_B),   c = TP_B - s * P_B

        (the log term is left out where P_A or P_B is 0). AUC = sum_i area_i.
        """
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        d_tp = tp[:-1] - tp[1:]                                   # TP_A - TP_B   (T-1,)
        p = tp + fp                                               # predicted positives
        d_p = p[:-1] - p[1:]
        slope = divide_no_nan(d_tp, np.maximum(d_p, 0))
        intercept = tp[1:] - slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        p_ratio = np.where(both_positive, divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        area = divide_no_nan(slope * (d_tp + intercept * np.log(p_ratio)),
                             np.maximum(tp[1:] + fn[1:], 0))
        return Scalar(np.float32(np.sum(area)))

    def get_config(self):
        config = {**super().get_config(), "num_thresholds": self.num_thresholds,
                  "curve": self.curve, "summation_method": self.summation_method,
                  "multi_label": False, "num_labels": None, "label_weights": None,
                  "from_logits": self.from_logits}
        if not self.evenly_spaced:  # thresholds given: Keras writes them, without t_0, t_T-1
            config["thresholds"] = self.thresholds[1:-1].tolist()
        return config


# -- lookup ----------------------------------------------------------------------------------

# Every spelling Keras's metrics.get() accepts for tinynet's metrics: the class name, its
# snake_case, and the short aliases (Keras 3.15.1's keras.metrics.ALL_OBJECTS_DICT).
# Keras 3.15's _direction of each metric class (keras/src/metrics/*.py: "up" for the
# accuracies, precision, recall, AUC and cosine similarity, "down" for the errors, hinges and
# cross-entropies; none for the confusion counts); a MeanMetricWrapper of a loss function is
# "down" too (set in its __init__, as Keras's MeanMetricWrapper does).
DIRECTIONS = {
    "up": (Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
           TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, Precision, Recall, AUC,
           CosineSimilarity),
    "down": (MeanAbsoluteError, MeanSquaredError, RootMeanSquaredError,
             MeanAbsolutePercentageError, MeanSquaredLogarithmicError, LogCoshError, Hinge,
             SquaredHinge, CategoricalHinge, BinaryCrossentropy, CategoricalCrossentropy,
             SparseCategoricalCrossentropy),
}
for direction, classes in DIRECTIONS.items():
    for cls in classes:
        cls.direction = direction

METRICS = {
    "Accuracy": Accuracy,
    "BinaryAccuracy": BinaryAccuracy, "binary_accuracy": BinaryAccuracy,
    "CategoricalAccuracy": CategoricalAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "SparseCategoricalAccuracy": SparseCategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "TopKCategoricalAccuracy": TopKCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "SparseTopKCategoricalAccuracy": SparseTopKCategoricalAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "BinaryCrossentropy": BinaryCrossentropy, "binary_crossentropy": BinaryCrossentropy,
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "CategoricalCrossentropy": CategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "SparseCategoricalCrossentropy": SparseCategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "KLDivergence": KLDivergence, "kl_divergence": KLDivergence,
    "Poisson": Poisson, "poisson": Poisson,
    "MeanAbsoluteError": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "MeanSquaredError": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "RootMeanSquaredError": RootMeanSquaredError,
    "root_mean_squared_error": RootMeanSquaredError,
    "MeanAbsolutePercentageError": MeanAbsolutePercentageError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "MeanSquaredLogarithmicError": MeanSquaredLogarithmicError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
    "CosineSimilarity": CosineSimilarity, "cosine_similarity": CosineSimilarity,
    "LogCoshError": LogCoshError, "log_cosh_error": LogCoshError,
    "Hinge": Hinge, "hinge": Hinge,
    "SquaredHinge": SquaredHinge, "squared_hinge": SquaredHinge,
    "CategoricalHinge": CategoricalHinge, "categorical_hinge": CategoricalHinge,
    "Precision": Precision, "precision": Precision,
    "Recall": Recall, "recall": Recall,
    "TruePositives": TruePositives, "true_positives": TruePositives,
    "FalsePositives": FalsePositives, "false_positives": FalsePositives,
    "TrueNegatives": TrueNegatives, "true_negatives": TrueNegatives,
    "FalseNegatives": FalseNegatives, "false_negatives": FalseNegatives,
    "AUC": AUC, "auc": AUC,
}

# The metric functions of keras.metrics that tinynet has, by the name Keras writes for them
# in a .keras file (keras.metrics has no accuracy, mae, mse or cosine_similarity function:
# those stay tinynet's). The losses among them are tinynet.losses' functions themselves, so
# compile(metrics=[tinynet.losses.mean_squared_error]) is saved as Keras saves
# keras.losses.mean_squared_error, the same object as keras.metrics.mean_squared_error.
FUNCTIONS = {fn.__name__: fn for fn in (
    binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
    top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, binary_crossentropy,
    categorical_crossentropy, sparse_categorical_crossentropy, kl_divergence, poisson,
    mean_absolute_error, mean_squared_error, mean_absolute_percentage_error,
    mean_squared_logarithmic_error, log_cosh, hinge, squared_hinge, categorical_hinge, huber)}

# Keras 3.15's metrics that tinynet does not have (class names and the strings for them):
# asking for one says so, instead of suggesting a name that is something else.
KERAS_ONLY = (
    "F1Score", "FBetaScore", "R2Score", "IoU", "BinaryIoU", "MeanIoU", "OneHotIoU",
    "OneHotMeanIoU", "PearsonCorrelation", "ConcordanceCorrelation", "PrecisionAtRecall",
    "RecallAtPrecision", "SensitivityAtSpecificity", "SpecificityAtSensitivity", "Sum",
    "f1_score", "f_beta_score", "r2_score", "io_u", "binary_io_u", "mean_io_u",
    "one_hot_io_u", "one_hot_mean_io_u", "pearson_correlation", "concordance_correlation",
    "precision_at_recall", "recall_at_precision", "sensitivity_at_specificity",
    "specificity_at_sensitivity", "sum",
)
KERAS_ONLY_HINT = ("a Keras metric tinynet does not have; write it as a subclass of "
                   "tinynet.metrics.Metric (reset_state, update_state and result, in NumPy), "
                   "or use one tinynet has")

# Keras losses whose names are not metric strings: Keras 3.15's compile(metrics=["huber"])
# fails in fit with "Could not interpret metric identifier: huber" (keras.metrics.get has no
# such string, though keras.metrics.huber is a function). Asking tinynet for one says so.
LOSS_NOT_METRIC_STRINGS = ("huber", "binary_focal_crossentropy",
                           "categorical_focal_crossentropy")


def loss_string_error(identifier):
    """The error for metrics=['huber']: a loss's name, not a metric string, in Keras too."""
    if identifier == "huber":
        instead = ("to report the Huber loss as a metric, pass the function itself: "
                   "metrics=[tinynet.losses.huber] (Keras: keras.losses.huber)")
    else:
        instead = "and tinynet does not have that loss at all"
    return ValueError(f"compile(metrics=[{identifier!r}]): {identifier!r} is the name of a "
                      f"Keras loss, not a metric string (Keras refuses it too: \"Could not "
                      f"interpret metric identifier: {identifier}\"); {instead}. Metric "
                      f"strings tinynet takes: {', '.join(string_names())}")


class AccuracyByShape(Metric):
    """What compile(metrics=['accuracy']) means, decided as Keras 3 decides it, by the shapes
    of the targets y_true and the outputs y_pred (keras/src/trainers/compile_utils.py,
    is_binary_or_sparse_categorical in Keras 3.15.1):

        y_pred (..., 1)                                        binary_accuracy
        y_true of fewer axes than y_pred, or (..., 1) against (..., K > 1)
                                                               sparse_categorical_accuracy
        otherwise                                              categorical_accuracy

    A stand-in: with the first data's shapes it turns itself into the metric they call for
    (settle), keeping the object, so that a reference taken after compile (model.metrics[0])
    is the metric fit updates. The model settles it before its first batch; called by hand,
    it settles on its first update_state. Its name is the string given ('accuracy' or
    'acc')."""

    direction = "up"  # whichever accuracy it becomes

    def reset_state(self):
        pass  # no state until it becomes the metric the data call for

    @staticmethod
    def choose(y_true_shape, y_pred_shape):
        """The accuracy class for targets and outputs of these shapes (the table above)."""
        binary = y_pred_shape[-1] == 1
        sparse = len(y_true_shape) < len(y_pred_shape) or (y_true_shape[-1] == 1
                                                            and y_pred_shape[-1] > 1)
        return BinaryAccuracy if binary else SparseCategoricalAccuracy if sparse else \
            CategoricalAccuracy

    def settle(self, y_true_shape, y_pred_shape):
        """Become, in place, the accuracy metric these shapes call for (this object's class
        changes to it and its state starts afresh): whoever holds this object holds the
        model's metric, and a training step pays nothing for the stand-in."""
        cls = self.choose(y_true_shape, y_pred_shape)
        name, identifier = self.name, self.identifier
        vars(self).clear()
        self.__class__ = cls
        cls.__init__(self, name=name)
        self.identifier = identifier

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.settle(np.shape(y_true), np.shape(y_pred))
        self.update_state(y_true, y_pred, sample_weight)  # now the chosen class's

    def result(self):
        return 0.0  # nothing seen yet


def get(identifier, loss_name=None):
    """The metric object for a name ('accuracy', 'binary_accuracy', 'AUC', 'mae', ...: a new
    one), a Metric class (a new instance), a Metric instance (that very object, as in Keras:
    after compile(metrics=[auc]) and fit, auc.result() is the value fit logged last), a
    function f(y_true, y_pred) that returns one value per sample (wrapped in a
    MeanMetricWrapper), or Keras's dict
    {"class_name": "AUC", "config": {...}} (see deserialize). 'accuracy' gives an
    AccuracyByShape, which the data's shapes decide, as in Keras 3 (`loss_name` is no longer
    used: tinynet used to decide by the loss). A name given as a string is the metric's name
    in the logs, as in Keras: metrics=['acc'] logs 'acc'."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            metric = AccuracyByShape(name=identifier)
        else:
            metric = metric_named(identifier)
    elif callable(identifier):
        # named as Keras 3's compile names it (get_object_name): a loss object by its name
        # (Huber() -> 'huber_loss'), a function by its name in snake case
        name = getattr(identifier, "name", None) or snake_case(
            getattr(identifier, "__name__", type(identifier).__name__))
        metric = MeanMetricWrapper(identifier, name=name)
    else:
        raise TypeError(f"compile(metrics=...): each metric must be a name like 'accuracy', "
                        f"a Metric or a function, got {identifier!r}")
    metric.identifier = identifier
    return metric


def metric_named(identifier):
    """The metric a string other than 'accuracy' names, named as written: 'mae' ->
    MeanAbsoluteError(name='mae')."""
    cls = METRICS.get(identifier) or METRICS.get(identifier.lower())
    if cls is None and identifier in LOSS_NOT_METRIC_STRINGS:
        raise loss_string_error(identifier)
    if cls is None and identifier in KERAS_ONLY:
        raise ValueError(f"compile(metrics=[{identifier!r}]): {identifier} is "
                         f"{KERAS_ONLY_HINT}: {', '.join(string_names())}")
    if cls is None:
        raise unknown_name_error("metric", identifier, string_names())
    return cls(name=identifier)


def string_names():
    """The lower-case metric strings tinynet accepts, for error messages."""
    return sorted([key for key in METRICS if key.islower()] + ["accuracy", "acc"])


# -- Keras's serialized form (what a .keras file holds) --------------------------------------

def serialize(metric):
    """The dict Keras 3 writes for a metric object or metric function:

        {"module": "keras.metrics", "class_name": "AUC", "config": metric.get_config(),
         "registered_name": None}
        {"module": "builtins", "class_name": "function", "config": "binary_accuracy",
         "registered_name": "function"}                  (a function, as Keras 3.15 writes it)

    A class or function of your own is written as Keras 3 writes it (module None and its
    class name as registered_name; a function by its name, as above): loading rebuilds it
    only from custom_objects={name: class or function}. A ValueError for anything else (a
    lambda, which has no name to find it by)."""
    if callable(metric) and not isinstance(metric, Metric):
        name = getattr(metric, "__name__", None)
        if not name or name == "<lambda>":
            raise ValueError(f"the metric function {metric!r} has no name to be found by "
                             f"when the file is loaded; write it with def")
        return {"module": "builtins", "class_name": "function", "config": name,
                "registered_name": "function"}
    if not isinstance(metric, Metric):
        raise ValueError(f"{metric!r} is not a metric")
    class_name = type(metric).__name__
    keras_has_it = METRICS.get(class_name) is type(metric) or type(metric) is MeanMetricWrapper
    config = json.loads(json.dumps(metric.get_config(), default=lambda v: v.tolist()))
    return {"module": "keras.metrics" if keras_has_it else None, "class_name": class_name,
            "config": config, "registered_name": None if keras_has_it else class_name}


def deserialize(config):
    """A new tinynet metric from Keras's serialized form (see serialize) or a name; a
    function's dict gives that function wrapped in a MeanMetricWrapper, as compile wraps it
    (Keras's deserialize gives the bare function)."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"a serialized metric is a dict with a 'class_name', got {config!r}")
    class_name = config["class_name"]
    if class_name == "function":  # as if compile got the function itself
        return get(deserialize_function(config))
    cls = MeanMetricWrapper if class_name == "MeanMetricWrapper" else METRICS.get(class_name)
    if cls is None:
        hint = KERAS_ONLY_HINT if class_name in KERAS_ONLY else "not a metric tinynet has"
        raise ValueError(f"metric class {class_name!r}: {hint}")
    try:
        return cls.from_config(dict(config.get("config") or {}))
    except TypeError as err:  # a Keras argument tinynet's class does not take
        raise ValueError(f"{class_name}: {err}") from None


def deserialize_function(config):
    """Keras's {"class_name": "function", "config": "binary_accuracy", ...} (or the bare
    name) -> tinynet's function of that name."""
    name = config.get("config") if isinstance(config, dict) else config
    if name not in FUNCTIONS:
        raise ValueError(f"metric function {name!r}: tinynet has {', '.join(sorted(FUNCTIONS))}")
    return FUNCTIONS[name]


def __getattr__(name):
    """A Keras metric tinynet does not have gets an error that says so and lists the metrics
    tinynet has."""
    has = {name for name in ("Metric", "Mean", "MeanMetricWrapper", "accuracy", "serialize",
                             "deserialize", *METRICS, *FUNCTIONS)
           if name in globals()}  # METRICS also holds names that are only strings for get()
    hints = dict.fromkeys(KERAS_ONLY, KERAS_ONLY_HINT)
    hints.update(dict.fromkeys(LOSS_NOT_METRIC_STRINGS, "a Keras loss function (keras.metrics "
                                                        "has it too) that tinynet does not have"))
    error = missing_attribute("tinynet.metrics", name, has, hints)
    if name in hints and isinstance(error, AttributeError):
        # Python would add "Did you mean ...?" with the closest name tinynet has, which is
        # another metric; with the name already set on the error, it does not.
        error.name = name
    raise error
