"""Metric objects in .keras files, both ways.

Keras 3 writes a metric given as an object with its class and settings in config.json's
compile_config ({"class_name": "AUC", "config": {"name": "auc_1", "num_thresholds": 50,
...}}). Claims tested here:
  * the files Keras 3.15.1 saved (tests/data/keras_metrics_*.keras, made by
    make_keras_metrics_more_reference.py) load in tinynet compiled, with each metric's
    settings and the optimizer's state: evaluate gives Keras's logs, and one more epoch of
    training gives Keras's losses and weights;
  * a metric tinynet does not have (F1Score) is left out with a warning, and only it;
  * tinynet writes what Keras writes (a string stays a string, an object becomes its dict),
    so saving a loaded Keras file gives back Keras's compile_config;
  * Keras 3 opens a file tinynet saved with metric objects compiled, with the same metrics
    and the same numbers (live, when Keras can be run: in this Python or in /tmp/kvenv).
"""

import json
import sys
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from helpers import KERAS_VENV_PYTHON, run_in_keras_venv

import tinynet
from tinynet import layers, metrics, saving
from tinynet.models import Sequential
from tinynet.optimizers import SGD

pytest.importorskip("h5py")

DATA = Path(__file__).resolve().parent / "data"
REF = json.loads((DATA / "keras_metrics_more_reference.json").read_text())["files"]
FILES = sorted(REF)


def array(values, key=""):
    return np.asarray(values, dtype=np.int64 if key == "labels" else np.float32)


def load(name):
    """The Keras file loaded by tinynet, and the warnings it gave."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = tinynet.models.load_model(DATA / f"{name}.keras")
    return model, [str(w.message) for w in caught]


def saved_compile_config(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))["compile_config"]


def y_of(entry, key):
    values = np.asarray(entry[key])
    return values.astype(np.int64) if values.ndim == 1 else values.astype(np.float32)


# -- files saved by Keras 3 ------------------------------------------------------------------

@pytest.mark.parametrize("name", FILES)
def test_keras_file_with_metric_objects_loads_compiled_with_keras_logs(name):
    entry = REF[name]
    model, _ = load(name)
    assert model.compiled
    assert model.optimizer.iterations == entry["iterations"]  # the state came with it
    logs = model.evaluate(array(entry["x_eval"]), y_of(entry, "y_eval"), batch_size=8,
                          verbose=0, return_dict=True)
    expected = {key: value for key, value in entry["evaluate"].items() if key != "f1"}
    assert sorted(logs) == sorted(expected)
    for key, value in expected.items():
        assert logs[key] == pytest.approx(value, rel=1e-5, abs=1e-6), key


@pytest.mark.parametrize("name", FILES)
def test_training_continues_from_a_keras_file_as_in_keras(name):
    entry = REF[name]
    model, _ = load(name)
    history = model.fit(array(entry["x_train"]), y_of(entry, "y_train"), batch_size=16,
                        epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], entry["continued_loss"], rtol=1e-5)
    for got, expected in zip(model.get_weights(), entry["continued_weights"], strict=True):
        np.testing.assert_allclose(got, expected, rtol=0, atol=2e-6)


def test_each_metric_comes_back_with_its_settings():
    binary, _ = load("keras_metrics_binary")
    found = {metric.name: metric for metric in binary.metrics}
    # the string: decided by the first data's shapes, as in Keras (one output: binary)
    assert isinstance(found["accuracy"], metrics.AccuracyByShape)
    assert found["accuracy"].choose((4, 1), binary.output_shape) is metrics.BinaryAccuracy
    assert found["auc_1"].num_thresholds == 50 and found["auc_1"].curve == "ROC"
    assert found["pr_auc"].curve == "PR" and found["pr_auc"].num_thresholds == 200
    assert found["auc_3"].thresholds[1:-1].tolist() == [0.25, 0.5, 0.75]
    assert found["p3"].thresholds.tolist() == [0.3]
    assert isinstance(found["tp"], metrics.TruePositives)
    assert found["fn7"].thresholds.tolist() == [0.7]
    assert found["acc7"].threshold == 0.7
    assert found["bce_ls"].label_smoothing == pytest.approx(0.1)
    assert found["ba6"].fn is metrics.binary_accuracy
    assert found["ba6"].fn_kwargs == {"threshold": 0.6}
    sparse, _ = load("keras_metrics_sparse")
    found = {metric.name: metric for metric in sparse.metrics}
    assert isinstance(found["sparse_categorical_accuracy"], metrics.SparseCategoricalAccuracy)
    assert found["top2"].k == 2
    assert isinstance(found["xent"], metrics.SparseCategoricalCrossentropy)
    assert found["sparse_top_k_categorical_accuracy"].fn is \
        metrics.sparse_top_k_categorical_accuracy


def test_a_metric_tinynet_lacks_is_left_out_with_a_warning_and_the_model_stays_compiled():
    model, caught = load("keras_metrics_binary")
    left_out = [text for text in caught if "left out" in text]
    assert len(left_out) == 1
    assert "'f1' (F1Score)" in left_out[0] and "tinynet does not have" in left_out[0]
    assert model.compiled and "f1" not in model.metrics_names
    assert not [text for text in caught if "uncompiled" in text]
    for name in ("keras_metrics_sparse", "keras_metrics_regression"):
        assert not load(name)[1]  # nothing else is left out


def test_weighted_metrics_in_a_keras_file_are_restored_and_written_again():
    compile_config = dict(REF["keras_metrics_regression"]["compile_config"],
                          weighted_metrics=["mae", {"class_name": "AUC", "config": {
                              "name": "wauc"}}])
    model = Sequential([layers.Dense(1, input_shape=(6,))])
    assert saving.compile_from_config(model, compile_config, "load_model: m.keras")
    # 'mae' is an unweighted metric's name already: Keras logs the weighted one as
    # weighted_mae
    assert model.metrics_names == ["loss", "root_mean_squared_error", "mape", "msle",
                                   "cosine_similarity", "logcosh", "mae", "weighted_mae", "wauc"]
    written = saving.get_compile_config(model)["weighted_metrics"]
    assert written[0] == "mae" and written[1]["class_name"] == "AUC"
    assert written[1]["config"]["name"] == "wauc"


@pytest.mark.parametrize("name", FILES)
def test_saving_a_loaded_keras_file_writes_keras_compile_config(name, tmp_path):
    model, _ = load(name)
    model.save(tmp_path / "again.keras")
    written = saved_compile_config(tmp_path / "again.keras")
    keras_wrote = REF[name]["compile_config"]
    expected = [entry for entry in keras_wrote["metrics"]
                if not (isinstance(entry, dict) and entry["class_name"] == "F1Score")]
    assert written["metrics"] == expected
    assert written["optimizer"]["class_name"] == keras_wrote["optimizer"]["class_name"]


# -- files saved by tinynet ------------------------------------------------------------------

def own_metric(y_true, y_pred):
    return np.abs(y_true - y_pred).max(axis=-1)


def binary_model():
    tinynet.set_seed(5)
    model = Sequential([layers.Dense(4, activation="relu", input_shape=(6,)),
                        layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=SGD(learning_rate=0.05, momentum=0.9), loss="binary_crossentropy",
                  metrics=["accuracy", "mape",
                           metrics.AUC(num_thresholds=7, curve="PR", name="pr7"),
                           metrics.AUC(thresholds=[0.3, 0.6], name="auc_2"),
                           metrics.BinaryAccuracy(threshold=0.7, name="acc7"),
                           metrics.Precision(thresholds=0.3, name="p3"),
                           metrics.TruePositives(thresholds=0.6),
                           metrics.RootMeanSquaredError(),
                           metrics.BinaryCrossentropy(label_smoothing=0.1, name="bce_ls"),
                           metrics.binary_accuracy,
                           metrics.MeanMetricWrapper(metrics.binary_accuracy, name="ba6",
                                                     threshold=0.6)])
    return model


def sparse_model():
    tinynet.set_seed(6)
    model = Sequential([layers.Dense(5, activation="softmax", input_shape=(6,))])
    model.compile(optimizer="adam", loss=tinynet.losses.SparseCategoricalCrossentropy(),
                  metrics=["accuracy", "sparse_top_k_categorical_accuracy",
                           metrics.SparseTopKCategoricalAccuracy(k=2, name="top2"),
                           metrics.SparseCategoricalCrossentropy(name="xent")])
    return model


def data(kind):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(24, 6)).astype(np.float32)
    if kind == "binary":
        return x, rng.integers(0, 2, size=(24, 1)).astype(np.float32)
    return x, rng.integers(0, 5, size=24)


def trained(kind):
    model = binary_model() if kind == "binary" else sparse_model()
    x, y = data(kind)
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    return model, x, y


def test_tinynet_writes_strings_as_strings_and_objects_with_their_settings(tmp_path):
    model, _, _ = trained("binary")
    model.save(tmp_path / "m.keras")
    entries = saved_compile_config(tmp_path / "m.keras")["metrics"]
    assert entries[:2] == ["accuracy", "mape"]
    by_name = {entry["config"]["name"]: entry for entry in entries[2:] if "module" in entry
               and entry["class_name"] != "function"}
    assert by_name["pr7"] == {
        "module": "keras.metrics", "class_name": "AUC", "registered_name": None,
        "config": {"name": "pr7", "dtype": "float32", "num_thresholds": 7, "curve": "PR",
                   "summation_method": "interpolation", "multi_label": False,
                   "num_labels": None, "label_weights": None, "from_logits": False}}
    assert by_name["auc_2"]["config"]["thresholds"] == [0.3, 0.6]
    assert by_name["acc7"]["config"] == {"name": "acc7", "dtype": "float32", "threshold": 0.7}
    assert by_name["true_positives"]["config"]["thresholds"] == 0.6
    assert {"module": "builtins", "class_name": "function", "config": "binary_accuracy",
            "registered_name": "function"} in entries
    assert by_name["ba6"]["config"]["fn"]["config"] == "binary_accuracy"


@pytest.mark.parametrize("kind", ["binary", "sparse"])
def test_a_tinynet_file_comes_back_with_the_same_metrics_and_numbers(kind, tmp_path):
    model, x, y = trained(kind)
    model.save(tmp_path / "m.keras")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing is left out
        loaded = tinynet.models.load_model(tmp_path / "m.keras")
    assert loaded.metrics_names == model.metrics_names
    assert loaded.optimizer.iterations == model.optimizer.iterations
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == pytest.approx(
        model.evaluate(x, y, verbose=0, return_dict=True))
    for original, again in zip(model.metrics, loaded.metrics, strict=True):
        assert metrics.serialize(original) == metrics.serialize(again)


def test_a_metric_function_of_your_own_is_saved_by_name_and_loaded_from_custom_objects(
        tmp_path):
    # as Keras 3 writes it; only custom_objects can turn the name back into the function
    model = Sequential([layers.Dense(1, input_shape=(3,))])
    model.compile(optimizer="adam", loss="mse", metrics=["mae", own_metric])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.save(tmp_path / "m.keras")
    assert saved_compile_config(tmp_path / "m.keras")["metrics"] == ["mae", {
        "module": "builtins", "class_name": "function", "config": "own_metric",
        "registered_name": "function"}]
    with pytest.warns(UserWarning, match=r"'own_metric' \(function\) is left out.*"
                                         r"custom_objects=\{'own_metric': own_metric\}"):
        loaded = tinynet.models.load_model(tmp_path / "m.keras")
    assert loaded.compiled and loaded.metrics_names == ["loss", "mae"]
    loaded = tinynet.models.load_model(tmp_path / "m.keras",
                                       custom_objects={"own_metric": own_metric})
    assert loaded.metrics_names == ["loss", "mae", "own_metric"]
    assert loaded.metrics[1].fn is own_metric


# -- live: Keras 3 opens what tinynet saved ----------------------------------------------------

KERAS_CHECK = """
import json, sys, zipfile, numpy as np, keras
out = {}
for model_path, x_path, y_path, again_path in zip(*[iter(sys.argv[1:])] * 4):
    model = keras.models.load_model(model_path)
    logs = model.evaluate(np.load(x_path), np.load(y_path), verbose=0, return_dict=True)
    model.save(again_path)
    with zipfile.ZipFile(again_path) as archive:
        compile_config = json.loads(archive.read("config.json"))["compile_config"]
    out[model_path] = {"compiled": bool(model.compiled),
                       "iterations": int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
                       "logs": {k: float(np.ravel(keras.ops.convert_to_numpy(v))[0])
                                for k, v in logs.items()},
                       "metrics": compile_config["metrics"]}
print("RESULT" + json.dumps(out))
"""


def without_shared_ids(value):
    """Keras marks an object it serializes twice (binary_accuracy, bare and inside 'ba6')
    with a "shared_object_id"; the rest must be what tinynet wrote."""
    if isinstance(value, dict):
        return {key: without_shared_ids(v) for key, v in value.items()
                if key != "shared_object_id"}
    if isinstance(value, list):
        return [without_shared_ids(v) for v in value]
    return value


def check_keras_reads_tinynet_metrics(run_keras, tmp_path):
    """Save both models; Keras loads them compiled, evaluates with tinynet's numbers, and
    writes back exactly the compile_config metrics tinynet wrote."""
    arguments, models = [], {}
    for kind in ("binary", "sparse"):
        model, x, y = trained(kind)
        path = tmp_path / f"{kind}.keras"
        model.save(path)
        np.save(tmp_path / f"x_{kind}.npy", x)
        np.save(tmp_path / f"y_{kind}.npy", y)
        arguments += [path, tmp_path / f"x_{kind}.npy", tmp_path / f"y_{kind}.npy",
                      tmp_path / f"again_{kind}.keras"]
        models[str(path)] = (model, x, y)
    results = run_keras(*arguments)
    for path, (model, x, y) in models.items():
        result = results[path]
        assert result["compiled"]
        assert result["iterations"] == model.optimizer.iterations
        assert without_shared_ids(result["metrics"]) == saved_compile_config(path)["metrics"]
        logs = model.evaluate(x, y, verbose=0, return_dict=True)
        assert sorted(result["logs"]) == sorted(logs)
        for key, value in logs.items():
            assert result["logs"][key] == pytest.approx(value, rel=1e-5, abs=1e-6), key


def test_keras_loads_tinynet_metric_objects_compiled(tmp_path):
    pytest.importorskip("keras")

    def run_keras(*paths):
        printed = []
        namespace = {"print": printed.append}  # the script's print, read back here
        sys.argv, saved_argv = ["check", *map(str, paths)], sys.argv
        try:
            exec(KERAS_CHECK, namespace)
        finally:
            sys.argv = saved_argv
        return json.loads(printed[-1][len("RESULT"):])

    check_keras_reads_tinynet_metrics(run_keras, tmp_path)


@pytest.mark.skipif(not KERAS_VENV_PYTHON.exists(), reason="no Keras venv at /tmp/kvenv")
def test_keras_in_its_own_venv_loads_tinynet_metric_objects_compiled(tmp_path):
    def run_keras(*paths):
        done = run_in_keras_venv(KERAS_CHECK, *paths)
        line = [text for text in done.stdout.splitlines() if text.startswith("RESULT")][-1]
        return json.loads(line[len("RESULT"):])

    check_keras_reads_tinynet_metrics(run_keras, tmp_path)
