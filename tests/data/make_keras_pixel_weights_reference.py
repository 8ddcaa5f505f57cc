"""Make tests/data/keras_pixel_weights_reference.npz: Keras 3 with one sample weight per pixel,
(N, H, W), on models whose outputs are per pixel (N, H, W, K) (a 1x1 Conv2D on 4x4 images),
the weighting a segmentation network uses against rare classes.

    x                          fixed images (8, 4, 4, 3)
    binary, onehot, values     targets: 0/1 (8, 4, 4, 1), one-hot (8, 4, 4, 2), real (8, 4, 4, 2)
    weights                    one weight per pixel (8, 4, 4)
    kernel                     the starting kernel (1, 1, 3, 2); the bias starts at 0
    <case>_evaluate            evaluate's logs before training, in the order of <case>_names
    <case>_history             fit's history (2 epochs, batch 4, shuffle=False, SGD 0.5,
                               validation_split=0.25), shape (len(names), 2), same order
    <case>_kernel, <case>_bias the weights after fit
with the cases (each with weighted_metrics, so that the metrics see the weights too)
    binary     sigmoid output (K=1), binary_crossentropy; accuracy, precision, recall, auc,
               the binary cross-entropy as a metric
    onehot     softmax output (K=2), categorical_crossentropy; accuracy, precision, recall,
               auc, the categorical cross-entropy as a metric
    values     linear output (K=2), mean_squared_error; mae, root_mean_squared_error, mse

The loss divides the weighted sum by the number of values (N * H * W), the metrics by the sum
of the weights. Keras 3.15 takes the weights as (N, H, W) and as (N, H, W, 1) alike (checked
when this was written); this script gives them as (N, H, W).

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_pixel_weights_reference.py
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "keras_pixel_weights_reference.npz")

CASES = {  # case -> (outputs, activation, loss, weighted_metrics, targets)
    "binary": (1, "sigmoid", "binary_crossentropy",
               ["accuracy", "precision", "recall", "auc", "binary_crossentropy"], "binary"),
    "onehot": (2, "softmax", "categorical_crossentropy",
               ["accuracy", "precision", "recall", "auc", "categorical_crossentropy"],
               "onehot"),
    "values": (2, "linear", "mean_squared_error",
               ["mae", "root_mean_squared_error", "mse"], "values"),
}


def main():
    rng = np.random.default_rng(3)
    data = {
        "x": rng.normal(size=(8, 4, 4, 3)).astype(np.float32),
        "binary": (rng.random((8, 4, 4, 1)) > 0.5).astype(np.float32),
        "onehot": np.eye(2, dtype=np.float32)[rng.integers(0, 2, size=(8, 4, 4))],
        "values": rng.normal(size=(8, 4, 4, 2)).astype(np.float32),
        "weights": rng.uniform(0.0, 3.0, size=(8, 4, 4)).astype(np.float32),
        "kernel": rng.normal(scale=0.5, size=(1, 1, 3, 2)).astype(np.float32),
    }
    out = dict(data)
    for case, (k, activation, loss, metrics, targets) in CASES.items():
        model = keras.Sequential([keras.Input(shape=(4, 4, 3)),
                                  keras.layers.Conv2D(k, 1, activation=activation)])
        model.set_weights([data["kernel"][..., :k], np.zeros(k, np.float32)])
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss=loss, weighted_metrics=metrics)
        x, y, w = data["x"], data[targets], data["weights"]
        logs = model.evaluate(x, y, sample_weight=w, verbose=0, return_dict=True)
        history = model.fit(x, y, sample_weight=w, batch_size=4, epochs=2, shuffle=False,
                            validation_split=0.25, verbose=0).history
        out[f"{case}_names"] = np.array(list(logs))
        out[f"{case}_evaluate"] = np.array([float(logs[name]) for name in logs])
        out[f"{case}_history_names"] = np.array(list(history))
        out[f"{case}_history"] = np.array([history[name] for name in history], dtype=float)
        out[f"{case}_kernel"], out[f"{case}_bias"] = model.get_weights()
    np.savez(OUT, **out)
    print(f"wrote {OUT} (Keras {keras.__version__})")


if __name__ == "__main__":
    main()
