"""Make tests/data/keras_fit_validation_reference.json: what Keras 3 does around fit's
validation pass. tests/test_fit_validation_more.py replays these answers against tinynet.

    events          every callback hook fit calls, in order, with its logs (3 epochs,
                    validation_split=0.25, validation_freq=2): the validation pass of fit
                    calls on_test_begin, on_test_batch_begin/_end and on_test_end
    weighted        val_loss and loss after one epoch with class_weight or sample_weight, with
                    validation_split or validation_data: class_weight weighs the training
                    data only; the held-out part of sample_weight weighs val_loss
    negative_class_weight   Keras trains with a class weight of -1 without a word (tinynet
                    refuses it)
    clone           keras.models.clone_model of a compiled Sequential: new layers with the
                    same names and settings, NEW weights (freshly initialized), compiled
    save_h5         model.save('x.h5') writes a (legacy HDF5) file; Keras refuses other names

The data and the starting weights are in the file, so tinynet starts from the same point.

How to run it (Keras and PyTorch in a venv outside the repo; no TensorFlow needed):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_fit_validation_reference.py
"""

import json
import os
import shutil
import tempfile
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "keras_fit_validation_reference.json")


def data():
    """40 samples of 4 features; about a third of the targets are 1."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = (x[:, :1] + 0.5 * rng.normal(size=(40, 1)) > 0.4).astype("float32")
    return x, y


def small_model(weights=None):
    """Dense(1, sigmoid) on 4 features, SGD(0.1), binary cross-entropy and MAE as a metric."""
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy",
                  metrics=["mean_absolute_error"])
    if weights is not None:
        model.set_weights([np.asarray(w, dtype="float32") for w in weights])
    return model


class EventRecorder(keras.callbacks.Callback):
    """Writes down every hook call: [hook, batch or epoch or None, {key: value}]."""

    def __init__(self):
        super().__init__()
        self.events = []

    def record(self, hook, index, logs):
        self.events.append([hook, index, {k: float(v) for k, v in sorted((logs or {}).items())}])


for name in ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end"):
    setattr(EventRecorder, name,
            lambda self, logs=None, _name=name: self.record(_name, None, logs))
for name in ("on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end",
             "on_test_batch_begin", "on_test_batch_end"):
    setattr(EventRecorder, name,
            lambda self, index, logs=None, _name=name: self.record(_name, index, logs))


def events(weights, x, y):
    recorder = EventRecorder()
    small_model(weights).fit(x, y, batch_size=8, epochs=3, verbose=0, shuffle=False,
                             validation_split=0.25, validation_freq=2, callbacks=[recorder])
    return recorder.events


def weighted(weights, x, y):
    class_weight = {0: 1.0, 1: 4.0}
    sample_weight = np.where(y[:, 0] == 1, 4.0, 1.0).astype("float32")
    cases = {
        "class_weight+validation_split": dict(validation_split=0.25, class_weight=class_weight),
        "class_weight+validation_data": dict(validation_data=(x[30:], y[30:]),
                                             class_weight=class_weight),
        "sample_weight+validation_split": dict(validation_split=0.25,
                                               sample_weight=sample_weight),
    }
    results = {}
    for case, kwargs in cases.items():
        fit_x, fit_y = (x[:30], y[:30]) if "validation_data" in kwargs else (x, y)
        history = small_model(weights).fit(fit_x, fit_y, batch_size=8, epochs=1, verbose=0,
                                           shuffle=False, **kwargs)
        results[case] = {"loss": history.history["loss"][0],
                         "val_loss": history.history["val_loss"][0]}
    model = small_model(weights)
    results["evaluate_last_10_unweighted"] = model.evaluate(x[30:], y[30:], verbose=0)[0]
    results["evaluate_last_10_weighted"] = model.evaluate(
        x[30:], y[30:], sample_weight=sample_weight[30:], verbose=0)[0]
    return results


def negative_class_weight(weights, x, y):
    history = small_model(weights).fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False,
                                       class_weight={0: 1.0, 1: -1.0})
    return {"accepted": True, "loss": history.history["loss"][0]}


def clone():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.BatchNormalization(),
                              keras.layers.Dense(1, activation="sigmoid")], name="original")
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    model.layers[0].trainable = False
    copy = keras.models.clone_model(model)
    return {
        "name": copy.name,
        "layer_names_equal": [a.name for a in model.layers] == [b.name for b in copy.layers],
        "new_layer_objects": all(a is not b
                                 for a, b in zip(model.layers, copy.layers, strict=True)),
        "weights_equal": [bool(np.array_equal(a, b))
                          for a, b in zip(model.get_weights(), copy.get_weights(),
                                          strict=True)],
        "trainable": [layer.trainable for layer in copy.layers],
        "built": copy.built,
        "compiled": copy.compiled,
        "same_optimizer_object": copy.optimizer is model.optimizer,
        "optimizer_learning_rate": float(np.asarray(copy.optimizer.learning_rate)),
    }


def save_h5():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "model.h5")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(path)
    try:
        model.save(os.path.join(folder, "model.txt"))
        other = "saved"
    except ValueError as err:
        other = str(err)
    written = os.path.isfile(path)
    shutil.rmtree(folder)
    return {"h5_written": written, "txt_error": other}


def main():
    keras.utils.set_random_seed(0)
    x, y = data()
    weights = [w.tolist() for w in small_model().get_weights()]
    reference = {
        "keras_version": keras.__version__,
        "backend": keras.backend.backend(),
        "x": x.tolist(), "y": y.tolist(), "weights": weights,
        "events": events(weights, x, y),
        "weighted": weighted(weights, x, y),
        "negative_class_weight": negative_class_weight(weights, x, y),
        "clone": clone(),
        "save_h5": save_h5(),
    }
    with open(OUT, "w") as file:
        json.dump(reference, file, indent=1)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
