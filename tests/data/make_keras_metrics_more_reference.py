"""Make tests/data/keras_metrics_more_reference.json and three .keras files: Keras 3's metrics
beyond the first set (cross-entropies, top-k, regression and hinge metrics, confusion counts,
the precision-recall AUC), the strings compile(metrics=[...]) accepts, and files compiled with
metric objects.

keras_metrics_more_reference.json holds

    keras_version, backend
    inputs                   fixed targets and predictions (float32, as lists)
    metrics[case]            {"class_name", "kwargs", "y", "p", "result", "result_weighted",
                              "config"}: result() after three update_state calls (without and
                             with sample weights), and serialize_keras_object(metric)
    functions[name]          keras.metrics.<name>(y, p), one value per sample
    strings[s]               keras.metrics.get(s): the class it gives (every string Keras 3
                             accepts, from keras.metrics.ALL_OBJECTS_DICT)
    evaluate[case]           a model with fixed weights compiled with metric strings and
                             objects: its weights, x, y and evaluate(return_dict=True)
    files[name]              for each .keras file: the compile_config Keras wrote, the
                             optimizer's iterations, evaluate(return_dict=True) on x_eval,
                             and the losses and weights of one more epoch (shuffle=False)

and the files are

    keras_metrics_sparse.keras   the training guide's compile: RMSprop, the loss object
                                 SparseCategoricalCrossentropy(), metrics=[SparseCategorical-
                                 Accuracy(), SparseTopKCategoricalAccuracy(k=2, name="top2"),
                                 SparseCategoricalCrossentropy(name="xent"), and the function
                                 keras.metrics.sparse_top_k_categorical_accuracy]
    keras_metrics_binary.keras   SGD with momentum and 'binary_crossentropy', metrics=
                                 ['accuracy', AUC(name='auc_1', num_thresholds=50),
                                 AUC(curve='PR'), Precision(thresholds=0.3), TruePositives(),
                                 BinaryCrossentropy(label_smoothing=0.1), ...] with a metric
                                 tinynet lacks (F1Score) and a MeanMetricWrapper
    keras_metrics_regression.keras   Adam and 'mse', metrics=[RootMeanSquaredError(), 'mape',
                                 'msle', CosineSimilarity(), LogCoshError(), 'mae']

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_metrics_more_reference.py
"""

import json
import os
import zipfile

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "keras_metrics_more_reference.json")
RNG = np.random.default_rng(2024)
N, K = 12, 5
BATCHES = ((0, 5), (5, 9), (9, 12))  # the three update_state calls


def float32(a):
    return np.asarray(a, dtype=np.float32)


def listed(a):
    return np.asarray(a).tolist()


def make_inputs():
    labels = RNG.integers(0, K, size=N)
    one_hot = np.eye(K, dtype=np.float32)[labels]
    p_soft = float32(keras.ops.softmax(float32(RNG.normal(0.0, 2.0, size=(N, K)))).numpy())
    p_soft[0] = 0.2                                    # a row of ties, for top-k
    p_soft[1] = [0.3, 0.3, 0.3, 0.05, 0.05]            # three tied at the top
    labels[1], one_hot[1] = 2, np.eye(K)[2]
    z_bin = float32(RNG.normal(0.0, 2.0, size=(N, 3)))
    p_bin = float32(1 / (1 + np.exp(-z_bin)))
    p_bin[0, 0], p_bin[1, 1], p_bin[2, 2] = 0.0, 1.0, 0.5   # at the ends, and on 0.5
    y_bin = float32(RNG.integers(0, 2, size=(N, 3)))
    y_pm = 2 * y_bin - 1                                # -1/1 targets, for hinge
    y_reg = float32(RNG.normal(size=(N, 3)))
    y_reg[3, 0] = 0.0                                   # mape divides by eps there
    p_reg = float32(y_reg + RNG.normal(0.0, 1.0, size=(N, 3)))
    y_count = float32(RNG.poisson(2.0, size=(N, 3)))
    p_rate = float32(RNG.uniform(0.5, 4.0, size=(N, 3)))
    weights = float32(RNG.uniform(0.0, 2.0, size=N))
    return {"labels": labels, "one_hot": one_hot, "p_soft": p_soft, "z_bin": z_bin,
            "p_bin": p_bin, "y_bin": y_bin, "y_pm": y_pm, "y_reg": y_reg, "p_reg": p_reg,
            "y_count": y_count, "p_rate": p_rate, "sample_weight": weights}


# case: (Keras class, keyword arguments, y key, prediction key)
METRIC_CASES = {
    "binary_crossentropy": ("BinaryCrossentropy", {}, "y_bin", "p_bin"),
    "binary_crossentropy_logits_smoothed": (
        "BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "y_bin", "z_bin"),
    "categorical_crossentropy": ("CategoricalCrossentropy", {}, "one_hot", "p_soft"),
    "categorical_crossentropy_smoothed": (
        "CategoricalCrossentropy", {"label_smoothing": 0.2}, "one_hot", "p_soft"),
    "sparse_categorical_crossentropy": (
        "SparseCategoricalCrossentropy", {}, "labels", "p_soft"),
    "kl_divergence": ("KLDivergence", {}, "one_hot", "p_soft"),
    "poisson": ("Poisson", {}, "y_count", "p_rate"),
    "hinge_01": ("Hinge", {}, "y_bin", "z_bin"),
    "hinge_pm": ("Hinge", {}, "y_pm", "z_bin"),
    "squared_hinge": ("SquaredHinge", {}, "y_pm", "z_bin"),
    "categorical_hinge": ("CategoricalHinge", {}, "one_hot", "p_soft"),
    "mape": ("MeanAbsolutePercentageError", {}, "y_reg", "p_reg"),
    "msle": ("MeanSquaredLogarithmicError", {}, "y_count", "p_rate"),
    "cosine_similarity": ("CosineSimilarity", {}, "y_reg", "p_reg"),
    "root_mean_squared_error": ("RootMeanSquaredError", {}, "y_reg", "p_reg"),
    "log_cosh_error": ("LogCoshError", {}, "y_reg", "p_reg"),
    "top_k": ("TopKCategoricalAccuracy", {}, "one_hot", "p_soft"),
    "top_2": ("TopKCategoricalAccuracy", {"k": 2}, "one_hot", "p_soft"),
    "sparse_top_k": ("SparseTopKCategoricalAccuracy", {}, "labels", "p_soft"),
    "sparse_top_1": ("SparseTopKCategoricalAccuracy", {"k": 1}, "labels", "p_soft"),
    "true_positives": ("TruePositives", {}, "y_bin", "p_bin"),
    "false_positives": ("FalsePositives", {}, "y_bin", "p_bin"),
    "true_negatives": ("TrueNegatives", {}, "y_bin", "p_bin"),
    "false_negatives": ("FalseNegatives", {}, "y_bin", "p_bin"),
    "false_positives_2": ("FalsePositives", {"thresholds": [0.2, 0.7]}, "y_bin", "p_bin"),
    "true_negatives_0.5": ("TrueNegatives", {"thresholds": 0.5}, "y_bin", "p_bin"),
    "pr_auc": ("AUC", {"curve": "PR"}, "y_bin", "p_bin"),
    "pr_auc_50": ("AUC", {"curve": "PR", "num_thresholds": 50}, "y_bin", "p_bin"),
    "pr_auc_logits": ("AUC", {"curve": "PR", "from_logits": True}, "y_bin", "z_bin"),
    "pr_auc_minoring": ("AUC", {"curve": "PR", "summation_method": "minoring",
                                "num_thresholds": 20}, "y_bin", "p_bin"),
    "pr_auc_majoring": ("AUC", {"curve": "PR", "summation_method": "majoring"}, "y_bin",
                        "p_bin"),
    "pr_auc_thresholds": ("AUC", {"curve": "PR", "thresholds": [0.1, 0.4, 0.8]}, "y_bin",
                          "p_bin"),
    "roc_auc_thresholds": ("AUC", {"thresholds": [0.3, 0.6]}, "y_bin", "p_bin"),
}

# per-sample functions of keras.metrics: name -> (y key, prediction key)
FUNCTION_CASES = {
    "binary_crossentropy": ("y_bin", "p_bin"),
    "categorical_crossentropy": ("one_hot", "p_soft"),
    "sparse_categorical_crossentropy": ("labels", "p_soft"),
    "kl_divergence": ("one_hot", "p_soft"),
    "poisson": ("y_count", "p_rate"),
    "hinge": ("y_bin", "z_bin"),
    "squared_hinge": ("y_pm", "z_bin"),
    "categorical_hinge": ("one_hot", "p_soft"),
    "mean_absolute_percentage_error": ("y_reg", "p_reg"),
    "mean_squared_logarithmic_error": ("y_count", "p_rate"),
    "log_cosh": ("y_reg", "p_reg"),
    "top_k_categorical_accuracy": ("one_hot", "p_soft"),
    "sparse_top_k_categorical_accuracy": ("labels", "p_soft"),
}


def metric_results(inputs):
    results = {}
    for case, (class_name, kwargs, y_key, p_key) in METRIC_CASES.items():
        entry = {"class_name": class_name, "kwargs": kwargs, "y": y_key, "p": p_key}
        for suffix, weighted in (("", False), ("_weighted", True)):
            metric = getattr(keras.metrics, class_name)(name=f"m_{case}", **kwargs)
            for start, stop in BATCHES:
                weights = inputs["sample_weight"][start:stop] if weighted else None
                metric.update_state(inputs[y_key][start:stop], inputs[p_key][start:stop],
                                    sample_weight=weights)
            entry["result" + suffix] = listed(keras.ops.convert_to_numpy(metric.result()))
        entry["config"] = json.loads(json.dumps(keras.saving.serialize_keras_object(metric)))
        results[case] = entry
    return results


def function_results(inputs):
    return {name: listed(keras.ops.convert_to_numpy(getattr(keras.metrics, name)(
        inputs[y_key], inputs[p_key]))) for name, (y_key, p_key) in FUNCTION_CASES.items()}


def string_classes():
    """Every string keras.metrics.get accepts, and the class it gives."""
    from keras.src.metrics import ALL_OBJECTS_DICT

    return {name: cls.__name__ for name, cls in sorted(ALL_OBJECTS_DICT.items())}


# -- compile(metrics=[...]) with strings and objects, evaluated on a model with fixed weights --

def binary_model():
    return keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(4, activation="relu"),
                             keras.layers.Dense(1, activation="sigmoid")])


def softmax_model():
    return keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(K,
                                                                         activation="softmax")])


EVALUATE_CASES = {
    # case: (model, loss, metrics, y kind)
    "binary": (binary_model, "binary_crossentropy", lambda: [
        "accuracy", "binary_crossentropy", "bce", "poisson", "kl_divergence", "hinge",
        "squared_hinge", "mape", "msle", "cosine_similarity", "root_mean_squared_error",
        "log_cosh_error", "true_positives", "false_positives", "true_negatives",
        "false_negatives", "auc", keras.metrics.AUC(curve="PR", name="pr_auc"),
        keras.metrics.BinaryCrossentropy(label_smoothing=0.1, name="bce_smooth")], "binary"),
    "categorical": (softmax_model, "categorical_crossentropy", lambda: [
        "acc", "categorical_crossentropy", "top_k_categorical_accuracy", "categorical_hinge",
        "kl_divergence", keras.metrics.TopKCategoricalAccuracy(k=2, name="top2")],
        "one_hot"),
    "sparse": (softmax_model, "sparse_categorical_crossentropy", lambda: [
        "accuracy", "sparse_categorical_crossentropy", "sparse_top_k_categorical_accuracy",
        keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")], "labels"),
}


def evaluate_results():
    rng = np.random.default_rng(7)
    x = float32(rng.normal(size=(40, 6)))
    labels = rng.integers(0, K, size=40)
    targets = {"binary": float32(rng.integers(0, 2, size=(40, 1))),
               "one_hot": np.eye(K, dtype=np.float32)[labels], "labels": labels}
    results = {}
    for case, (make_model, loss, make_metrics, y_kind) in EVALUATE_CASES.items():
        keras.utils.set_random_seed(1)
        model = make_model()
        model.compile(optimizer="sgd", loss=loss, metrics=make_metrics())
        y = targets[y_kind]
        logs = model.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
        results[case] = {"loss": loss, "weights": [listed(w) for w in model.get_weights()],
                         "x": listed(x), "y": listed(y),
                         "logs": {key: float(value) for key, value in logs.items()}}
    return results


# -- .keras files compiled with metric objects ----------------------------------------------

FILE_CASES = {
    "keras_metrics_sparse": (
        softmax_model, lambda: keras.optimizers.RMSprop(),
        lambda: keras.losses.SparseCategoricalCrossentropy(),
        lambda: [keras.metrics.SparseCategoricalAccuracy(),
                 keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2"),
                 keras.metrics.SparseCategoricalCrossentropy(name="xent"),
                 keras.metrics.sparse_top_k_categorical_accuracy], "labels"),
    "keras_metrics_binary": (
        binary_model, lambda: keras.optimizers.SGD(learning_rate=0.05, momentum=0.9),
        lambda: "binary_crossentropy",
        lambda: ["accuracy", keras.metrics.AUC(name="auc_1", num_thresholds=50),
                 keras.metrics.AUC(curve="PR", name="pr_auc"),
                 keras.metrics.AUC(thresholds=[0.25, 0.5, 0.75], name="auc_3"),
                 keras.metrics.Precision(thresholds=0.3, name="p3"),
                 keras.metrics.Recall(name="r"), keras.metrics.TruePositives(name="tp"),
                 keras.metrics.FalseNegatives(thresholds=0.7, name="fn7"),
                 keras.metrics.BinaryAccuracy(threshold=0.7, name="acc7"),
                 keras.metrics.BinaryCrossentropy(label_smoothing=0.1, name="bce_ls"),
                 keras.metrics.MeanMetricWrapper(keras.metrics.binary_accuracy, name="ba6",
                                                 threshold=0.6),
                 keras.metrics.F1Score(threshold=0.5, name="f1")], "binary"),
    "keras_metrics_regression": (
        binary_model, lambda: keras.optimizers.Adam(learning_rate=0.01), lambda: "mse",
        lambda: [keras.metrics.RootMeanSquaredError(), "mape", "msle",
                 keras.metrics.CosineSimilarity(), keras.metrics.LogCoshError(), "mae"],
        "binary"),
}


def file_results():
    rng = np.random.default_rng(11)
    x_train = float32(rng.normal(size=(32, 6)))
    x_eval = float32(rng.normal(size=(20, 6)))
    labels = rng.integers(0, K, size=52)
    targets = {"labels": labels, "binary": float32(rng.integers(0, 2, size=(52, 1)))}
    results = {}
    for name, (make_model, make_optimizer, make_loss, make_metrics, y_kind) in \
            FILE_CASES.items():
        keras.utils.set_random_seed(3)
        y_train, y_eval = targets[y_kind][:32], targets[y_kind][32:]
        model = make_model()
        model.compile(optimizer=make_optimizer(), loss=make_loss(), metrics=make_metrics())
        model.fit(x_train, y_train, batch_size=16, epochs=1, shuffle=False, verbose=0)
        path = os.path.join(HERE, f"{name}.keras")
        model.save(path)
        with zipfile.ZipFile(path) as archive:
            compile_config = json.loads(archive.read("config.json"))["compile_config"]
        loaded = keras.models.load_model(path)
        logs = loaded.evaluate(x_eval, y_eval, batch_size=8, verbose=0, return_dict=True)
        history = loaded.fit(x_train, y_train, batch_size=16, epochs=1, shuffle=False,
                             verbose=0)
        results[name] = {
            "compile_config": compile_config,
            "iterations": int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
            "x_train": listed(x_train), "y_train": listed(y_train),
            "x_eval": listed(x_eval), "y_eval": listed(y_eval),
            "evaluate": {key: listed(keras.ops.convert_to_numpy(value))
                         for key, value in logs.items()},
            "continued_loss": [float(v) for v in history.history["loss"]],
            "continued_weights": [listed(w) for w in loaded.get_weights()],
        }
    return results


def main():
    inputs = make_inputs()
    reference = {
        "keras_version": keras.__version__, "backend": keras.backend.backend(),
        "inputs": {key: listed(value) for key, value in inputs.items()},
        "metrics": metric_results(inputs),
        "functions": function_results(inputs),
        "strings": string_classes(),
        "evaluate": evaluate_results(),
        "files": file_results(),
    }
    with open(OUT, "w") as file:
        json.dump(reference, file, indent=1)
    print(f"wrote {OUT} and {', '.join(FILE_CASES)} (.keras) with Keras {keras.__version__}")


if __name__ == "__main__":
    main()
