"""More of Keras's metrics: the cross-entropies, top-k, regression and hinge metrics, the
confusion counts and the precision-recall AUC, and every string compile(metrics=[...])
accepts in Keras 3.

The numbers come from tests/data/keras_metrics_more_reference.json, made by Keras 3.15.1
(tests/data/make_keras_metrics_more_reference.py); Keras itself is not needed here.
"""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import feed

import tinynet
from tinynet import layers, metrics
from tinynet.models import Sequential

REF = json.loads((Path(__file__).resolve().parent / "data" /
                  "keras_metrics_more_reference.json").read_text())
BATCHES = ((0, 5), (5, 9), (9, 12))  # the three update_state calls the fixture made


def inputs(key):
    return np.asarray(REF["inputs"][key], dtype=np.int64 if key == "labels" else np.float32)


def make(case):
    entry = REF["metrics"][case]
    return getattr(metrics, entry["class_name"])(name=f"m_{case}", **entry["kwargs"])


# -- the numbers -----------------------------------------------------------------------------

@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("case", sorted(REF["metrics"]))
def test_metric_results_over_three_batches_equal_keras(case, weighted):
    entry = REF["metrics"][case]
    weights = inputs("sample_weight") if weighted else None
    result = feed(make(case), inputs(entry["y"]), inputs(entry["p"]), BATCHES, weights)
    expected = entry["result_weighted" if weighted else "result"]
    np.testing.assert_allclose(result, expected, rtol=1e-5, atol=1e-6, err_msg=case)


@pytest.mark.parametrize("name", sorted(REF["functions"]))
def test_per_sample_functions_equal_keras(name):
    y_key, p_key = {
        "binary_crossentropy": ("y_bin", "p_bin"),
        "categorical_crossentropy": ("one_hot", "p_soft"),
        "sparse_categorical_crossentropy": ("labels", "p_soft"),
        "kl_divergence": ("one_hot", "p_soft"), "poisson": ("y_count", "p_rate"),
        "hinge": ("y_bin", "z_bin"), "squared_hinge": ("y_pm", "z_bin"),
        "categorical_hinge": ("one_hot", "p_soft"),
        "mean_absolute_percentage_error": ("y_reg", "p_reg"),
        "mean_squared_logarithmic_error": ("y_count", "p_rate"),
        "log_cosh": ("y_reg", "p_reg"),
        "top_k_categorical_accuracy": ("one_hot", "p_soft"),
        "sparse_top_k_categorical_accuracy": ("labels", "p_soft"),
    }[name]
    values = getattr(metrics, name)(inputs(y_key), inputs(p_key))
    np.testing.assert_allclose(values, REF["functions"][name], rtol=1e-5, atol=1e-6)


def test_ties_count_as_in_the_top_k_like_keras():
    """Row 0 has five equal scores, row 1 three equal best ones: every tied class is in the
    top 1, because no score is strictly larger."""
    p = inputs("p_soft")[:2]
    assert metrics.sparse_top_k_categorical_accuracy([4, 2], p, k=1).tolist() == [1.0, 1.0]
    assert metrics.sparse_top_k_categorical_accuracy([3, 3], p, k=1).tolist() == [1.0, 0.0]
    assert metrics.sparse_top_k_categorical_accuracy(
        [[3], [0]], np.array([[3, 1, 0], [2, 1, 0]]), k=2, from_sorted_ids=True).tolist() == [
        1.0, 0.0]


def test_root_mean_squared_error_takes_the_root_of_the_epoch_mean_not_of_each_batch():
    rmse = metrics.RootMeanSquaredError()
    rmse.update_state(np.zeros((1, 1)), np.array([[3.0]]))           # squared error 9
    rmse.update_state(np.zeros((3, 1)), np.array([[1.0], [1.0], [1.0]]))  # 1, 1, 1
    assert rmse.result() == pytest.approx(np.sqrt((9 + 3) / 4))      # not (3 + 1) / 2


def test_the_cross_entropy_metrics_report_the_loss_values():
    y, p = inputs("y_bin"), inputs("p_bin")
    loss = tinynet.losses.BinaryCrossentropy(label_smoothing=0.1)
    metric = metrics.BinaryCrossentropy(label_smoothing=0.1)
    assert metric(y, p) == pytest.approx(loss(y, p), rel=1e-6)
    labels, p_soft = inputs("labels"), inputs("p_soft")
    assert metrics.SparseCategoricalCrossentropy()(labels, p_soft) == pytest.approx(
        tinynet.losses.SparseCategoricalCrossentropy()(labels, p_soft), rel=1e-6)


def test_precision_recall_auc_interpolation_is_not_the_trapezoid_rule():
    """Keras sums the PR curve by Davis and Goadrich's interpolation; the trapezoids
    ('minoring'/'majoring' bound them) give another number on the same counts."""
    y, p = inputs("y_bin"), inputs("p_bin")
    interpolated = metrics.AUC(curve="PR")(y, p)
    low = metrics.AUC(curve="PR", summation_method="minoring")(y, p)
    high = metrics.AUC(curve="PR", summation_method="majoring")(y, p)
    assert low < high
    assert interpolated != pytest.approx((low + high) / 2, abs=1e-4)


# -- get_config, serialize, deserialize: Keras's own dicts -----------------------------------

@pytest.mark.parametrize("case", sorted(REF["metrics"]))
def test_serialize_writes_the_dict_keras_writes(case):
    assert metrics.serialize(make(case)) == REF["metrics"][case]["config"]


@pytest.mark.parametrize("case", sorted(REF["metrics"]))
def test_deserialize_reads_keras_dicts_back_with_their_settings(case):
    entry = REF["metrics"][case]
    metric = metrics.deserialize(entry["config"])
    assert type(metric).__name__ == entry["class_name"]
    assert metric.name == f"m_{case}"
    assert metrics.serialize(metric) == entry["config"]
    result = feed(metric, inputs(entry["y"]), inputs(entry["p"]), BATCHES)
    np.testing.assert_allclose(result, entry["result"], rtol=1e-5, atol=1e-6)


def test_a_function_and_a_wrapped_function_serialize_as_keras_writes_them():
    assert metrics.serialize(metrics.binary_accuracy) == {
        "module": "builtins", "class_name": "function", "config": "binary_accuracy",
        "registered_name": "function"}
    wrapper = metrics.MeanMetricWrapper(metrics.binary_accuracy, name="ba6", threshold=0.6)
    config = metrics.serialize(wrapper)["config"]
    assert config == {"name": "ba6", "dtype": "float32", "fn": metrics.serialize(
        metrics.binary_accuracy), "threshold": 0.6}
    again = metrics.deserialize(metrics.serialize(wrapper))
    assert again.fn is metrics.binary_accuracy and again.fn_kwargs == {"threshold": 0.6}


def test_a_metric_of_your_own_is_serialized_as_keras_writes_it():
    # by its name, which only load_model(custom_objects=...) can turn back into it
    def squared_error(y_true, y_pred):
        return (y_true - y_pred) ** 2

    assert metrics.serialize(squared_error) == {
        "module": "builtins", "class_name": "function", "config": "squared_error",
        "registered_name": "function"}
    config = metrics.serialize(metrics.MeanMetricWrapper(squared_error, name="se"))
    assert config["module"] == "keras.metrics" and config["config"]["fn"]["config"] == \
        "squared_error"
    with pytest.raises(ValueError, match="metric function 'squared_error': tinynet has"):
        metrics.deserialize(config)
    with pytest.raises(ValueError, match="no name to be found by"):
        metrics.serialize(lambda y_true, y_pred: y_true)
    with pytest.raises(ValueError, match="'F1Score'.*tinynet does not have"):
        metrics.deserialize({"class_name": "F1Score", "config": {"name": "f1"}})


# -- the strings compile(metrics=[...]) accepts ----------------------------------------------

# Keras's strings for its base classes: accepted by keras.metrics.get, but compile cannot use
# them (Mean would read y_pred as sample weights).
BASE_CLASSES = {"Metric", "Mean", "MeanMetricWrapper"}


# compile resolves 'accuracy' and 'acc' (in any case: 'Accuracy' too) by the loss, as Keras
# does by the shapes (tests/test_metrics.py); every other string names one class.
NAMING_STRINGS = sorted(s for s in REF["strings"] if s.lower() not in ("accuracy", "acc"))


@pytest.mark.parametrize("string", NAMING_STRINGS)
def test_every_string_keras_accepts_gives_its_class_or_says_tinynet_lacks_it(string):
    class_name = REF["strings"][string]
    if class_name in BASE_CLASSES:
        with pytest.raises(ValueError, match="Unknown metric"):
            metrics.get(string, "binary_crossentropy")
    elif class_name in metrics.KERAS_ONLY:
        with pytest.raises(ValueError, match="a Keras metric tinynet does not have"):
            metrics.get(string, "binary_crossentropy")
    else:
        metric = metrics.get(string, "binary_crossentropy")
        assert type(metric).__name__ == class_name
        assert metric.name == string  # Keras names a metric given as a string by the string


def test_the_keras_only_list_holds_exactly_the_keras_metrics_tinynet_lacks():
    keras_classes = set(REF["strings"].values()) - BASE_CLASSES
    lacking = {name for name in keras_classes if not hasattr(metrics, name)}
    assert lacking == {name for name in metrics.KERAS_ONLY if name[0].isupper()}
    lacking_strings = {s for s, c in REF["strings"].items() if c in lacking}
    assert lacking_strings <= set(metrics.KERAS_ONLY)


def keras_metric_lists(keras):
    """The metrics the fixture's models were compiled with, written against `keras`."""
    return {
        "binary": [
            "accuracy", "binary_crossentropy", "bce", "poisson", "kl_divergence", "hinge",
            "squared_hinge", "mape", "msle", "cosine_similarity", "root_mean_squared_error",
            "log_cosh_error", "true_positives", "false_positives", "true_negatives",
            "false_negatives", "auc", keras.metrics.AUC(curve="PR", name="pr_auc"),
            keras.metrics.BinaryCrossentropy(label_smoothing=0.1, name="bce_smooth")],
        "categorical": [
            "acc", "categorical_crossentropy", "top_k_categorical_accuracy",
            "categorical_hinge", "kl_divergence",
            keras.metrics.TopKCategoricalAccuracy(k=2, name="top2")],
        "sparse": [
            "accuracy", "sparse_categorical_crossentropy", "sparse_top_k_categorical_accuracy",
            keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")],
    }


@pytest.mark.parametrize("case", ["binary", "categorical", "sparse"])
def test_evaluate_with_keras_metric_strings_and_objects_gives_keras_logs(case):
    entry = REF["evaluate"][case]
    weights = [np.asarray(w, dtype=np.float32) for w in entry["weights"]]
    if case == "binary":
        model = Sequential([layers.Dense(4, activation="relu", input_shape=(6,)),
                            layers.Dense(1, activation="sigmoid")])
    else:
        model = Sequential([layers.Dense(5, activation="softmax", input_shape=(6,))])
    model.set_weights(weights)
    model.compile(optimizer="sgd", loss=entry["loss"],
                  metrics=keras_metric_lists(tinynet)[case])
    logs = model.evaluate(np.asarray(entry["x"], dtype=np.float32), np.asarray(entry["y"]),
                          batch_size=16, verbose=0, return_dict=True)
    assert sorted(logs) == sorted(entry["logs"])
    for key, expected in entry["logs"].items():
        assert logs[key] == pytest.approx(expected, rel=1e-5, abs=1e-6), key


# -- errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("make_metric, words", [
    (lambda: metrics.AUC(curve="PRGAIN"), "curve must be 'ROC' or 'PR'"),
    (lambda: metrics.AUC(label_weights=[1, 2]), "label_weights=\\[1, 2\\] is Keras's"),
    (lambda: metrics.AUC(num_labels=2), "num_labels=2 is Keras's"),
    (lambda: metrics.AUC(multi_label=True), "multi_label=False"),
    (lambda: metrics.SparseCategoricalCrossentropy(ignore_class=0), "ignore_class"),
    (lambda: metrics.CategoricalCrossentropy(axis=1), "last axis"),
    (lambda: metrics.TopKCategoricalAccuracy(k=0), ">= 1"),
    (lambda: metrics.TruePositives(thresholds=2.0), "thresholds"),
    (lambda: metrics.BinaryCrossentropy(label_smoothing=1.5), "label_smoothing"),
    (lambda: metrics.Accuracy(dtype="int32"), "dtype must be 'float32' or 'float64'"),
])
def test_settings_tinynet_lacks_are_refused_by_name(make_metric, words):
    with pytest.raises((TypeError, ValueError), match=words):
        make_metric()


def test_a_keras_metric_string_tinynet_lacks_is_named_as_such():
    with pytest.raises(ValueError, match="f1_score is a Keras metric tinynet does not have"):
        metrics.get("f1_score", "binary_crossentropy")


def test_a_keras_metric_class_tinynet_lacks_says_so_without_a_misleading_suggestion():
    """Python adds "Did you mean: '<closest name>'?" to an AttributeError from a module,
    which pointed keras.metrics.BinaryCrossentropy at the function binary_crossentropy."""
    code = "import tinynet.metrics as m; m.F1Score"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "tinynet.metrics has no F1Score: a Keras metric tinynet does not have" in \
        done.stderr
    assert "Did you mean" not in done.stderr
    assert isinstance(metrics.BinaryCrossentropy(), metrics.Metric)


def test_a_mistyped_name_still_gets_pythons_suggestion():
    code = "import tinynet.metrics as m; m.Precison"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "tinynet.metrics has no Precison" in done.stderr
    assert "Did you mean: 'Precision'?" in done.stderr
