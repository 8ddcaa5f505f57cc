"""Metrics: numbers reported during training that are not optimized.

A metric is an object with a running state, as in Keras:

    metric.reset_state()                                  start of an epoch
    metric.update_state(y_true, y_pred, sample_weight)    after every batch
    metric.result()                                       the value so far, a float

Two kinds of state:

  * Means (accuracies, mae, mse, a function of your own): a weighted total and a count,
        total += sum_n w_n v_n,  count += sum_n w_n,  result = total / count,
    where v_n is the metric's value for sample n (its mean over the last axis if it has
    one per output). Weighted by samples, so batches of different sizes count fairly.
  * Confusion counts (Precision, Recall, AUC): true/false positives/negatives added up over
    the whole epoch, and the ratio taken at the end. Averaging a per-batch precision would
    give another (wrong) number: precision is a ratio of sums, not a mean.

What each value is, with p the prediction and y the target (Keras 3's definitions):

    binary_accuracy              v = mean_k (y_k == (p_k > threshold)),  threshold = 0.5
    categorical_accuracy         v = (argmax p == argmax y)
    sparse_categorical_accuracy  v = (argmax p == y)             (y an integer label)
    accuracy                     v = (p == y)                    (exact equality)
    mean_absolute_error          v = mean_k |p_k - y_k|
    mean_squared_error           v = mean_k (p_k - y_k)^2
    precision                    TP / (TP + FP), a prediction counts as positive if p > 0.5
    recall                       TP / (TP + FN)
    auc                          area under the ROC curve, see AUC

The string 'accuracy' (or 'acc') means different things for different losses, as in Keras:
binary_accuracy with binary cross-entropy, categorical_accuracy with categorical
cross-entropy, sparse_categorical_accuracy with the sparse one.
"""

import copy

import numpy as np

from tinynet import losses
from tinynet.validation import (
    check_bool,
    check_float,
    check_int,
    missing_attribute,
    unknown_name_error,
)

# Keras's backend epsilon, 1e-7 (keras/src/backend/config.py in Keras 3.15's source, and the
# tf.keras.backend.epsilon API page): AUC's outer thresholds sit this far outside [0, 1].
EPSILON = 1e-7
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


def match_shapes(y_true, y_pred):
    """Targets (N,) and predictions (N, 1) (or the reverse) mean the same thing."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape and y_true.size == y_pred.size:
        y_true = y_true.reshape(y_pred.shape)
    return y_true, y_pred


# -- per-sample functions, as keras.metrics.binary_accuracy etc.: one value per sample -------

def accuracy(y_true, y_pred):
    """1.0 where the prediction equals the target exactly, else 0.0; shape of y_pred."""
    y_true, y_pred = match_shapes(y_true, y_pred)
    return (y_true == y_pred).astype(np.float64)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """(N, K): 1.0 where (p > threshold) equals the target (a 0/1 label), else 0.0."""
    y_true, y_pred = match_shapes(y_true, y_pred)  # in fit, y has y_pred's shape already
    return (y_true == (y_pred > threshold)).astype(np.float64)


def categorical_accuracy(y_true, y_pred):
    """(N,): 1.0 where the most probable class is the one-hot target's class."""
    return (np.argmax(y_pred, axis=-1) == np.argmax(y_true, axis=-1)).astype(np.float64)


def sparse_categorical_accuracy(y_true, y_pred):
    """(N,): 1.0 where the most probable class is the integer label."""
    labels = np.asarray(y_true).reshape(len(y_pred), -1)[:, 0]
    return (np.argmax(y_pred, axis=-1) == labels).astype(np.float64)


def mean_absolute_error(y_true, y_pred):
    """(N,): mean_k |p_k - y_k| for each sample."""
    y_true, y_pred = match_shapes(y_true, y_pred)
    return np.mean(np.abs(y_pred - y_true), axis=-1)


def mean_squared_error(y_true, y_pred):
    """(N,): mean_k (p_k - y_k)^2 for each sample."""
    y_true, y_pred = match_shapes(y_true, y_pred)
    return np.mean((y_pred - y_true) ** 2, axis=-1)


mae = mean_absolute_error
mse = mean_squared_error


# -- the base class and the means ------------------------------------------------------------

class Metric:
    """Base class: a name and a running state (`reset_state`, `update_state`, `result`).
    Calling a metric, metric(y_true, y_pred), updates it and returns the result, as in Keras."""

    name = "metric"

    def __init__(self, name=None):
        if name is not None:
            if not isinstance(name, str):
                raise TypeError(f"{type(self).__name__}(name=...) must be a string, "
                                f"got {name!r}")
            self.name = name
        self.reset_state()

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

    def __call__(self, y_true, y_pred, sample_weight=None):
        self.update_state(y_true, y_pred, sample_weight)
        return self.result()

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
        values = values.reshape(len(values), -1)  # (N, K): one row per sample
        if sample_weight is not None:
            return self.add_weighted(values, sample_weight)
        self.total += float(values.sum()) / values.shape[1]  # each sample's mean, summed
        self.count += len(values)

    def add_weighted(self, values, sample_weight):
        """values (N, K): total += sum_n w_n * mean_k values[n, k], count += sum_n w_n."""
        weights = np.asarray(sample_weight, dtype=np.float64).reshape(-1)
        if weights.size != len(values):
            raise ValueError(f"{type(self).__name__}.update_state: sample_weight needs one "
                             f"weight per sample ({len(values)}), got {weights.size}")
        self.total += float(values.mean(axis=1) @ weights)
        self.count += float(weights.sum())

    def result(self):
        return self.total / self.count if self.count else 0.0  # Keras's divide_no_nan


class MeanMetricWrapper(Mean):
    """The weighted mean of fn(y_true, y_pred, **kwargs), a function that returns one value
    per sample (or per output of each sample). Plain metric functions get wrapped in this."""

    def __init__(self, fn, name=None, **kwargs):
        if not callable(fn):
            raise TypeError(f"MeanMetricWrapper(fn=...) must be a function, got {fn!r}")
        self.fn = fn
        self.fn_kwargs = kwargs
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"))

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(self.fn(y_true, y_pred, **self.fn_kwargs), sample_weight)


class Accuracy(MeanMetricWrapper):
    """How often the prediction equals the target exactly."""

    def __init__(self, name="accuracy"):
        super().__init__(accuracy, name=name)


class BinaryAccuracy(MeanMetricWrapper):
    """How often (p > threshold) equals the 0/1 target. Default threshold 0.5."""

    def __init__(self, name="binary_accuracy", threshold=0.5):
        self.threshold = check_float(threshold, "BinaryAccuracy(threshold=...)")
        super().__init__(binary_accuracy, name=name, threshold=self.threshold)


class CategoricalAccuracy(MeanMetricWrapper):
    """How often the most probable class is the one-hot target's class."""

    def __init__(self, name="categorical_accuracy"):
        super().__init__(categorical_accuracy, name=name)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """How often the most probable class is the integer label."""

    def __init__(self, name="sparse_categorical_accuracy"):
        super().__init__(sparse_categorical_accuracy, name=name)


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean over samples of mean_k |p_k - y_k|."""

    def __init__(self, name="mean_absolute_error"):
        super().__init__(mean_absolute_error, name=name)


class MeanSquaredError(MeanMetricWrapper):
    """The mean over samples of mean_k (p_k - y_k)^2."""

    def __init__(self, name="mean_squared_error"):
        super().__init__(mean_squared_error, name=name)


# -- confusion counts: precision, recall, AUC ------------------------------------------------

def confusion_counts(y_true, y_pred, thresholds, sample_weight=None):
    """Weighted (TP, FP, TN, FN) at each threshold t: a prediction is positive if p > t.

    Inputs: y_true, y_pred of the same size (every output of every sample counts: they are
    flattened), thresholds (T,), sample_weight (N,) or None. Returns: four arrays (T,).
    A target counts as positive if it is not 0.
    """
    y_true, y_pred = match_shapes(y_true, y_pred)
    weights = np.ones(y_pred.shape) if sample_weight is None else np.broadcast_to(
        np.asarray(sample_weight, dtype=np.float64).reshape(len(y_pred), *[1] * (
            y_pred.ndim - 1)), y_pred.shape)
    positive = (y_true != 0).reshape(1, -1)                                # (1, N*K)
    predicted = y_pred.reshape(1, -1) > np.reshape(thresholds, (-1, 1))    # (T, N*K)
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

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None):
        where = f"{type(self).__name__}(...)"
        if top_k is not None:
            raise ValueError(f"{where}: top_k is not supported in tinynet; leave it None")
        self.thresholds = check_thresholds(thresholds, where)
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = None if class_id is None else check_int(class_id, f"{where}: "
                                                                            f"class_id", 0)
        super().__init__(name=name)

    def reset_state(self):
        zeros = np.zeros(len(self.thresholds))
        self.true_positives, self.false_positives = zeros.copy(), zeros.copy()
        self.false_negatives = zeros.copy()

    def update_state(self, y_true, y_pred, sample_weight=None):
        if self.class_id is not None:  # only that class's column counts
            y_true = np.asarray(y_true)[:, self.class_id]
            y_pred = np.asarray(y_pred)[:, self.class_id]
        tp, fp, _, fn = confusion_counts(y_true, y_pred, self.thresholds, sample_weight)
        self.true_positives += tp
        self.false_positives += fp
        self.false_negatives += fn

    def single_or_all(self, values):
        """A float for one threshold (the usual case), else an array, one per threshold."""
        return float(values[0]) if len(self.thresholds) == 1 else values


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


class AUC(Metric):
    """Area under the ROC curve, computed as Keras 3 computes it.

    Thresholds: t_0 = -eps, t_i = i / (T - 1) for i = 1 .. T-2, t_{T-1} = 1 + eps, with
    T = num_thresholds = 200 by default. At each threshold the counts give a point
        x_i = FP_i / (FP_i + TN_i)   (false positive rate),  y_i = TP_i / (TP_i + FN_i) (recall).
    The curve is summed as trapezoids:  AUC = sum_i (x_i - x_{i+1}) * (y_i + y_{i+1}) / 2
    ('interpolation'; 'minoring' and 'majoring' use min and max of y_i, y_{i+1} instead).

    Counting p > t_i for 200 thresholds would compare every prediction 200 times; like Keras,
    this puts each p (clipped to [0, 1]) into the bucket b = max(ceil(p (T - 1)) - 1, 0), the
    index of the last threshold below it, and adds the buckets up from the top: TP_i is the
    weight of the positives in buckets >= i. Float32 arithmetic, as in Keras.
    """

    name = "auc"

    def __init__(self, num_thresholds=AUC_NUM_THRESHOLDS, curve="ROC",
                 summation_method="interpolation", name=None, thresholds=None,
                 multi_label=False, num_labels=None, label_weights=None, from_logits=False):
        where = "AUC(...)"
        if curve != "ROC" or multi_label or label_weights is not None or num_labels:
            raise ValueError(f"{where}: tinynet computes the single-label ROC curve only "
                             f"(curve='ROC', multi_label=False), got curve={curve!r}, "
                             f"multi_label={multi_label!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"{where}: summation_method must be 'interpolation', 'minoring' "
                             f"or 'majoring', got {summation_method!r}")
        self.curve = curve
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
        super().__init__(name=name)

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
            counts = confusion_counts(y_true, y_pred, self.thresholds, sample_weight)
        for total, count in zip((self.true_positives, self.false_positives,
                                 self.true_negatives, self.false_negatives), counts,
                                strict=True):
            total += count

    def bucket_counts(self, y_true, y_pred, sample_weight):
        """(TP, FP, TN, FN) at the evenly spaced thresholds, through buckets (see above)."""
        y_true, y_pred = match_shapes(y_true, y_pred)
        weights = np.ones(y_pred.shape) if sample_weight is None else np.broadcast_to(
            np.asarray(sample_weight, dtype=np.float64).reshape(len(y_pred), *[1] * (
                y_pred.ndim - 1)), y_pred.shape)
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
        recall = divide_no_nan(self.true_positives, self.true_positives + self.false_negatives)
        fp_rate = divide_no_nan(self.false_positives,
                                self.false_positives + self.true_negatives)
        if self.summation_method == "interpolation":
            heights = (recall[:-1] + recall[1:]) / 2
        elif self.summation_method == "minoring":
            heights = np.minimum(recall[:-1], recall[1:])
        else:
            heights = np.maximum(recall[:-1], recall[1:])
        return float(np.sum((fp_rate[:-1] - fp_rate[1:]) * heights))


# -- lookup ----------------------------------------------------------------------------------

# Every spelling Keras's metrics.get() accepts for these metrics (class names, their
# snake_case, and the short aliases).
METRICS = {
    "BinaryAccuracy": BinaryAccuracy, "binary_accuracy": BinaryAccuracy,
    "CategoricalAccuracy": CategoricalAccuracy, "categorical_accuracy": CategoricalAccuracy,
    "SparseCategoricalAccuracy": SparseCategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "Accuracy": Accuracy,
    "Precision": Precision, "precision": Precision,
    "Recall": Recall, "recall": Recall,
    "AUC": AUC, "auc": AUC,
    "MeanAbsoluteError": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "MeanSquaredError": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
}

ACCURACY_FOR_LOSS = {
    "binary_crossentropy": BinaryAccuracy,
    "categorical_crossentropy": CategoricalAccuracy,
    "sparse_categorical_crossentropy": SparseCategoricalAccuracy,
}


def accuracy_for_loss(identifier, loss_name):
    """The accuracy metric that goes with the loss, named as written ('accuracy' or 'acc')."""
    if loss_name not in ACCURACY_FOR_LOSS:
        raise ValueError(f"compile(metrics=[{identifier!r}]): accuracy needs a classification "
                         f"loss (binary, categorical or sparse categorical cross-entropy), "
                         f"got loss '{loss_name}'; use 'mae' or 'mse' for regression")
    return ACCURACY_FOR_LOSS[loss_name](name=identifier)


def get(identifier, loss_name=None):
    """A NEW metric object from a name ('accuracy', 'binary_accuracy', 'AUC', 'mae', ...), a
    Metric class or instance (a fresh copy, reset), or a function f(y_true, y_pred) that
    returns one value per sample (wrapped in a MeanMetricWrapper). `loss_name` (the model's
    loss) decides what 'accuracy' means. A name given as a string is the metric's name in
    the logs, as in Keras: metrics=['acc'] logs 'acc'."""
    if isinstance(identifier, Metric):
        fresh = copy.deepcopy(identifier)
        fresh.reset_state()
        return fresh
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, str):
        if identifier.lower() in ("accuracy", "acc"):
            return accuracy_for_loss(identifier, loss_name)
        cls = METRICS.get(identifier) or METRICS.get(identifier.lower())
        if cls is None:
            raise unknown_name_error("metric", identifier, [
                key for key in METRICS if key.islower()] + ["accuracy"])
        return cls(name=identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"compile(metrics=...): each metric must be a name like 'accuracy', a "
                    f"Metric or a function, got {identifier!r}")


# The loss functions are metrics too (their per-sample values, averaged), as in Keras.
binary_crossentropy = losses.binary_crossentropy
categorical_crossentropy = losses.categorical_crossentropy
sparse_categorical_crossentropy = losses.sparse_categorical_crossentropy


def __getattr__(name):
    """A Keras metric tinynet does not have gets an error that says so and lists the metrics
    tinynet has."""
    has = {name for name in ("Metric", "Mean", "MeanMetricWrapper", "accuracy", *METRICS)
           if name in globals()}  # METRICS also holds names that are only strings for get()
    raise missing_attribute("tinynet.metrics", name, has, {})
