"""Make tests/data/keras_weighted_metrics_reference.npz: what Keras 3 logs for
compile(weighted_metrics=[...]), metrics that take the sample weights (sample_weight=, or the
weights class_weight gives) where `metrics` ignore them.

Three cases, each a small model trained from weights stored here (so tinynet starts from the
same ones), without shuffling:

    binary   Dense(4, relu) -> Dense(1, sigmoid), binary cross-entropy, SGD(0.1);
             metrics=['accuracy'], weighted_metrics=['accuracy', 'mse', AUC(name='auc')]:
             fit with sample_weight and weighted validation data, then evaluate,
             train_on_batch and test_on_batch with and without weights
    classes  Dense(3, softmax) on 3 classes, sparse categorical cross-entropy, SGD(0.1);
             metrics=['accuracy'], weighted_metrics=['accuracy'], fit with class_weight
    names    the same metric asked for twice in each list: the names Keras gives them

Keys: <case>_weights_<i> (the start weights), <case>_x, _y, _w and the validation arrays;
'logs' is JSON: {case: {"history": ..., "evaluate": ..., ...}} with every number as Keras
gives it.

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_weighted_metrics_reference.py
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "keras_weighted_metrics_reference.npz")


def floats(logs):
    return {key: (float(value) if np.ndim(value) == 0 else np.asarray(value).tolist())
            for key, value in logs.items()}


def data(rng, n, d, classes=None):
    x = rng.normal(size=(n, d)).astype(np.float32)
    if classes is None:
        y = (x[:, :1] + 0.5 * rng.normal(size=(n, 1)) > 0).astype(np.float32)
    else:
        y = rng.integers(0, classes, n).astype(np.int64)
    w = rng.uniform(0.2, 2.0, n).astype(np.float32)
    return x, y, w


def binary_case(arrays):
    rng = np.random.default_rng(0)
    x, y, w = data(rng, 40, 5)
    xv, yv, wv = data(rng, 16, 5)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy",
                  metrics=["accuracy"],
                  weighted_metrics=["accuracy", "mse", keras.metrics.AUC(name="auc")])
    for i, weight in enumerate(model.get_weights()):
        arrays[f"binary_weights_{i}"] = weight
    arrays.update(binary_x=x, binary_y=y, binary_w=w, binary_xv=xv, binary_yv=yv,
                  binary_wv=wv)
    history = model.fit(x, y, sample_weight=w, batch_size=8, epochs=2, shuffle=False,
                        validation_data=(xv, yv, wv), verbose=0)
    return {
        "history": history.history,
        "evaluate_weighted": floats(model.evaluate(x, y, sample_weight=w, batch_size=8,
                                                   verbose=0, return_dict=True)),
        "evaluate": floats(model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)),
        "evaluate_list": [float(v) for v in model.evaluate(x, y, sample_weight=w,
                                                           batch_size=8, verbose=0)],
        "train_on_batch": floats(model.train_on_batch(x[:8], y[:8], sample_weight=w[:8],
                                                      return_dict=True)),
        "test_on_batch": floats(model.test_on_batch(x[:8], y[:8], sample_weight=w[:8],
                                                    return_dict=True)),
    }


def classes_case(arrays):
    rng = np.random.default_rng(1)
    x, y, _ = data(rng, 30, 4, classes=3)
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], weighted_metrics=["accuracy"])
    for i, weight in enumerate(model.get_weights()):
        arrays[f"classes_weights_{i}"] = weight
    arrays.update(classes_x=x, classes_y=y)
    history = model.fit(x, y, class_weight={0: 1.0, 1: 3.0, 2: 0.5}, batch_size=10,
                        epochs=2, shuffle=False, verbose=0)
    return {"history": history.history}


def names_case(arrays):
    rng = np.random.default_rng(2)
    x, y, w = data(rng, 12, 3)
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["mse", "mse"],
                  weighted_metrics=["mse", "mse", "accuracy"])
    for i, weight in enumerate(model.get_weights()):
        arrays[f"names_weights_{i}"] = weight
    arrays.update(names_x=x, names_y=y, names_w=w)
    return {"evaluate": floats(model.evaluate(x, y, sample_weight=w, verbose=0,
                                              return_dict=True))}


def main():
    arrays = {}
    logs = {"binary": binary_case(arrays), "classes": classes_case(arrays),
            "names": names_case(arrays), "keras_version": keras.__version__}
    np.savez(OUT, logs=np.array(json.dumps(logs)), **arrays)
    print(f"wrote {OUT}")
    print(json.dumps(logs, indent=1)[:3000])


if __name__ == "__main__":
    main()
