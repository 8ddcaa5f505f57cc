"""Metrics: Keras 3's results (fixture), the stateful API, names, and whole-epoch counting."""

import os

import numpy as np
import pytest
from helpers import feed

from tinynet import metrics
from tinynet.layers import Dense
from tinynet.models import Sequential

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "keras_issue12_reference.npz"))
BATCHES = ((0, 5), (5, 9), (9, 12))  # the three update_state calls the fixture made


KERAS_CASES = {
    "binary_accuracy": (lambda: metrics.BinaryAccuracy(), "y_bin", "p_bin"),
    "binary_accuracy_0.7": (lambda: metrics.BinaryAccuracy(threshold=0.7), "y_bin", "p_bin"),
    "categorical_accuracy": (lambda: metrics.CategoricalAccuracy(), "one_hot", "p_soft"),
    "sparse_categorical_accuracy": (lambda: metrics.SparseCategoricalAccuracy(), "labels",
                                    "p_soft"),
    "precision": (lambda: metrics.Precision(), "y_bin", "p_bin"),
    "recall": (lambda: metrics.Recall(), "y_bin", "p_bin"),
    "precision_0.3": (lambda: metrics.Precision(thresholds=0.3), "y_bin", "p_bin"),
    "auc": (lambda: metrics.AUC(), "y_bin", "p_bin"),
    "auc_logits": (lambda: metrics.AUC(from_logits=True), "y_bin", "z_bin"),
    "auc_minoring": (lambda: metrics.AUC(summation_method="minoring", num_thresholds=50),
                     "y_bin", "p_bin"),
    "mae": (lambda: metrics.MeanAbsoluteError(), "y_reg", "p_reg"),
    "mse": (lambda: metrics.MeanSquaredError(), "y_reg", "p_reg"),
}


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case", KERAS_CASES)
def test_metric_results_over_three_batches_equal_keras(case, weighted):
    make, y_key, p_key = KERAS_CASES[case]
    weights = REF["input_sample_weight"] if weighted else None
    result = feed(make(), REF["input_" + y_key], REF["input_" + p_key], BATCHES, weights)
    expected = float(REF[f"metric_{case}" + ("_weighted" if weighted else "")])
    assert result == pytest.approx(expected, rel=1e-5, abs=1e-6)


def test_auc_equals_keras_on_many_samples_with_ties_at_thresholds_and_values_outside_0_1():
    auc = metrics.AUC()
    auc.update_state(REF["auc_many_y"], REF["auc_many_p"])
    assert auc.result() == pytest.approx(float(REF["metric_auc_many"]), rel=1e-5)


def test_auc_is_close_to_the_exact_rank_statistic():
    """With 200 thresholds the trapezoids approximate the probability that a positive scores
    above a negative (the Mann-Whitney statistic), computed here by counting pairs."""
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, size=400)
    p = np.clip(rng.normal(0.4 + 0.2 * y, 0.2), 0, 1)
    pairs = p[y == 1][:, None] - p[y == 0][None, :]
    exact = np.mean(pairs > 0) + 0.5 * np.mean(pairs == 0)
    assert metrics.AUC()(y, p) == pytest.approx(exact, abs=0.01)


def test_precision_is_a_ratio_of_epoch_counts_not_a_mean_of_batch_precisions():
    y = np.array([1, 0, 0, 0, 1, 1])
    p = np.array([0.9, 0.8, 0.7, 0.6, 0.9, 0.9])  # batch 1: 1 of 4 right; batch 2: 2 of 2
    precision = metrics.Precision()
    precision.update_state(y[:4], p[:4])
    precision.update_state(y[4:], p[4:])
    assert precision.result() == pytest.approx(3 / 6)   # not (1/4 + 2/2) / 2
    precision.reset_state()
    assert precision.result() == 0.0  # no positive prediction yet: 0, not NaN


def test_recall_with_several_thresholds_returns_one_value_each():
    recall = metrics.Recall(thresholds=[0.2, 0.5, 0.95])
    result = recall(np.array([1, 1, 1, 0]), np.array([0.3, 0.6, 0.99, 0.9]))
    np.testing.assert_allclose(result, [1.0, 2 / 3, 1 / 3])


def test_means_are_weighted_by_samples_across_batches_of_different_sizes():
    accuracy = metrics.BinaryAccuracy()
    accuracy.update_state(np.ones((3, 1)), np.full((3, 1), 0.9))  # 3 right
    accuracy.update_state(np.ones((1, 1)), np.full((1, 1), 0.1))  # 1 wrong
    assert accuracy.result() == pytest.approx(3 / 4)
    mean = metrics.Mean()
    mean.update_state([1.0, 2.0], sample_weight=[3.0, 1.0])
    assert mean.result() == pytest.approx(5 / 4)


def test_a_plain_function_returning_one_value_per_sample_is_averaged_like_keras():
    def squared_error(y_true, y_pred):
        return (y_true - y_pred).reshape(len(y_pred), -1).sum(axis=1) ** 2

    metric = metrics.get(squared_error, "mean_squared_error")
    assert metric.name == "squared_error"
    metric.update_state(np.zeros((2, 1)), np.array([[1.0], [3.0]]))
    metric.update_state(np.zeros((1, 1)), np.array([[2.0]]))
    assert metric.result() == pytest.approx((1 + 9 + 4) / 3)


def test_calling_a_metric_updates_it_and_returns_the_result():
    accuracy = metrics.CategoricalAccuracy()
    assert accuracy(np.eye(2), np.array([[0.9, 0.1], [0.8, 0.2]])) == pytest.approx(0.5)
    assert accuracy(np.eye(2), np.eye(2)) == pytest.approx(3 / 4)


def test_binary_accuracy_compares_the_target_itself_like_keras_3():
    """Keras 3 thresholds the prediction only: a soft target 0.8 never counts as right."""
    assert metrics.binary_accuracy(np.array([0.8, 1.0]), np.array([0.9, 0.9])).tolist() == [
        0.0, 1.0]


# -- names -----------------------------------------------------------------------------------

@pytest.mark.parametrize("identifier, cls, name", [
    ("binary_accuracy", metrics.BinaryAccuracy, "binary_accuracy"),
    ("BinaryAccuracy", metrics.BinaryAccuracy, "BinaryAccuracy"),
    ("categorical_accuracy", metrics.CategoricalAccuracy, "categorical_accuracy"),
    ("sparse_categorical_accuracy", metrics.SparseCategoricalAccuracy,
     "sparse_categorical_accuracy"),
    ("AUC", metrics.AUC, "AUC"), ("auc", metrics.AUC, "auc"),
    ("precision", metrics.Precision, "precision"), ("Recall", metrics.Recall, "Recall"),
    ("mae", metrics.MeanAbsoluteError, "mae"),
    ("mean_absolute_error", metrics.MeanAbsoluteError, "mean_absolute_error"),
    ("mse", metrics.MeanSquaredError, "mse"),
    ("mean_squared_error", metrics.MeanSquaredError, "mean_squared_error"),
])
def test_metric_strings_give_keras_classes_named_as_written(identifier, cls, name):
    metric = metrics.get(identifier, "binary_crossentropy")
    assert isinstance(metric, cls)
    assert metric.name == name


@pytest.mark.parametrize("y_true_shape, y_pred_shape, cls", [
    ((8, 1), (8, 1), metrics.BinaryAccuracy),          # binary cross-entropy, one output
    ((8,), (8, 1), metrics.BinaryAccuracy),
    ((8, 3), (8, 3), metrics.CategoricalAccuracy),     # one-hot; also BCE over 3 outputs
    ((8,), (8, 3), metrics.SparseCategoricalAccuracy),  # integer labels
    ((8, 1), (8, 3), metrics.SparseCategoricalAccuracy),
])
@pytest.mark.parametrize("word", ["accuracy", "acc"])
def test_accuracy_is_decided_by_the_shapes_as_keras_decides(y_true_shape, y_pred_shape, cls,
                                                           word):
    # keras/src/trainers/compile_utils.py, is_binary_or_sparse_categorical (Keras 3.15.1)
    stand_in = metrics.get(word, "binary_crossentropy")
    assert isinstance(stand_in, metrics.AccuracyByShape)
    assert stand_in.choose(y_true_shape, y_pred_shape) is cls
    stand_in.settle(y_true_shape, y_pred_shape)
    assert type(stand_in) is cls and stand_in.name == word


def test_a_model_decides_accuracy_with_its_first_data_and_keras_numbers():
    # binary cross-entropy over 3 outputs with 'accuracy': Keras 3 takes categorical accuracy
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4)).astype(np.float32)
    y = (rng.random((8, 3)) > 0.5).astype(np.float32)
    model = Sequential([Dense(3, activation="sigmoid", input_shape=(4,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert isinstance(model.metrics[0], metrics.CategoricalAccuracy)
    p = model.predict(x, verbose=0)
    assert logs["accuracy"] == pytest.approx(np.mean(y.argmax(axis=1) == p.argmax(axis=1)))


def test_default_names_are_keras_names():
    assert [m.name for m in (metrics.AUC(), metrics.Precision(), metrics.Recall(),
                             metrics.BinaryAccuracy(), metrics.MeanAbsoluteError())] == [
        "auc", "precision", "recall", "binary_accuracy", "mean_absolute_error"]


def test_get_returns_a_metric_object_itself_and_new_ones_for_names_and_classes():
    original = metrics.AUC(name="my_auc")
    assert metrics.get(original) is original  # as Keras's compile uses the object given
    assert metrics.get("auc") is not metrics.get("auc")
    assert isinstance(metrics.get(metrics.Precision), metrics.Precision)


def test_a_metric_object_given_to_compile_is_the_one_fit_updates_as_in_keras():
    # Keras 3.15 (checked live): after fit, auc.result() is the last value fit logged (the
    # validation pass's, when there is one); an object given twice gets a copy for its second
    # place, so that each log keeps its own state
    x = np.random.default_rng(0).normal(size=(40, 3)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    auc = metrics.AUC()
    model = Sequential([Dense(1, input_shape=(3,), activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[auc],
                  weighted_metrics=[auc])
    history = model.fit(x, y, verbose=0)
    assert model.metrics[0] is auc and model.weighted_metrics[0] is not auc
    assert float(auc.result()) == history.history["auc"][-1]
    history = model.fit(x, y, verbose=0, validation_split=0.25)
    assert float(auc.result()) == history.history["val_auc"][-1]


def test_accuracy_with_a_regression_loss_works_as_in_keras_and_says_what_says_more():
    model = Sequential([Dense(1, input_shape=(2,))])
    with pytest.warns(UserWarning, match="'mae' or 'mse' say how far off"):
        model.compile(optimizer="sgd", loss="mse", metrics=["accuracy"])
    model.evaluate(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    assert isinstance(model.metrics[0], metrics.BinaryAccuracy)  # Keras 3: one output


def test_unknown_metric_name_suggests_the_closest():
    with pytest.raises(ValueError, match="Did you mean 'precision'"):
        metrics.get("precison", "binary_crossentropy")


@pytest.mark.parametrize("make, words", [
    (lambda: metrics.AUC(curve="PRGAIN"), "ROC"),
    (lambda: metrics.AUC(num_thresholds=1), "num_thresholds"),
    (lambda: metrics.AUC(summation_method="simpson"), "summation_method"),
    (lambda: metrics.Precision(thresholds=1.5), "thresholds"),
    (lambda: metrics.Precision(top_k=2), "top_k"),
    (lambda: metrics.BinaryAccuracy(threshold="half"), "threshold"),
    (lambda: metrics.get(3, "mse"), "metric"),
])
def test_bad_metric_arguments_are_refused_by_name(make, words):
    with pytest.raises((TypeError, ValueError), match=words):
        make()


def test_accuracy_used_by_hand_becomes_the_metric_its_first_data_call_for():
    metric = metrics.get("accuracy")
    assert metric.result() == 0.0
    metric.update_state([[0], [1]], [[0.2], [0.4]])
    assert type(metric) is metrics.BinaryAccuracy and metric.result() == 0.5


def test_metrics_called_by_hand_refuse_targets_of_another_shape_naming_themselves():
    cases = [(lambda: metrics.Precision()(np.ones(4), np.ones(5)), "Precision.update_state"),
             (lambda: metrics.AUC()(np.ones(3), np.ones(4)), "AUC.update_state"),
             (lambda: metrics.binary_accuracy(np.ones((3, 2)), np.ones((2, 3))),
              "binary_accuracy"),
             (lambda: metrics.categorical_accuracy(np.eye(3), np.eye(4)[:3]),
              "categorical_accuracy"),
             (lambda: metrics.cosine_similarity(np.ones(3), np.ones(4)), "cosine_similarity"),
             (lambda: metrics.Precision(class_id=1)(np.ones((4, 1)), np.ones((4, 1))),
              r"class_id=1.*K > 1.*\(4, 1\)"),
             (lambda: metrics.Precision(class_id=0)(np.ones(4), np.ones(4)), r"\(4,\)"),
             (lambda: metrics.Recall(class_id=5)(np.eye(3), np.eye(3)), r"class_id=5.*\(3, 3\)")]
    for call, words in cases:
        with pytest.raises(ValueError, match=words):
            call()
    # (N,) and (N, 1) still go together
    assert metrics.Precision()(np.ones(4), np.ones((4, 1))) == 1.0


def test_precision_and_recall_of_one_class_count_it_at_every_pixel():
    # outputs (N, H, W, K): class_id counts that class at every pixel, as Keras 3.15 does
    # (checked live on the same kind of data)
    rng = np.random.default_rng(3)
    y = np.eye(3)[rng.integers(0, 3, (4, 5, 5))]
    p = rng.random((4, 5, 5, 3))
    for metric_class in (metrics.Precision, metrics.Recall):
        per_pixel = metric_class(class_id=1)(y, p)
        flat = metric_class(class_id=1)(y.reshape(-1, 3), p.reshape(-1, 3))
        assert per_pixel == flat
