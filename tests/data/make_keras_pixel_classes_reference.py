"""Make tests/data/keras_pixel_classes_reference.npz: Keras 3 on a model that gives one class
per pixel (a 3x3 Conv2D, padding "same", with a softmax over 3 classes on 5x5 images), the
shape of a segmentation network's output, with the cross-entropies and accuracies taken per
pixel.

    x, labels                  fixed images (6, 5, 5, 2) and integer labels (6, 5, 5)
    weights                    fixed sample weights (6,)
    kernel, bias               the model's starting weights (Keras's kernel, a set bias)
    <case>_evaluate            evaluate's [loss, metric] before training, for every case
    <case>_loss, <case>_metric fit's history over 3 epochs (batch 4, shuffle=False, SGD 0.5)
    <case>_kernel, <case>_bias the weights after fit (one-hot cases only, see below)
with the cases
    sparse         sparse_categorical_crossentropy, labels (6, 5, 5), metrics=['accuracy']
    sparse_ones    the same labels as (6, 5, 5, 1)
    onehot         categorical_crossentropy on one-hot targets (6, 5, 5, 3), 'accuracy'
    logits         a linear output, SparseCategoricalCrossentropy(from_logits=True), labels,
                   metrics=['sparse_categorical_accuracy'] (logits_onehot: the one-hot
                   version, CategoricalCrossentropy(from_logits=True), categorical_accuracy)
    topk           labels, metrics=[SparseTopKCategoricalAccuracy(k=2)] (topk_onehot: one-hot
                   targets, TopKCategoricalAccuracy(k=2))
The logits cases use the sample weights in evaluate and fit.

Only the one-hot cases are trained: Keras 3.15.1's torch backend cannot train a sparse
cross-entropy on outputs of more than two axes (its backward stops with torch's "grad_input
must be contiguous"), while its evaluate works. The sparse loss is by definition the one-hot
loss of the labels' one-hot rows, so tinynet's sparse training is compared with Keras's
one-hot training.

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_pixel_classes_reference.py
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "keras_pixel_classes_reference.npz")


def model_for(activation, kernel=None, bias=None):
    model = keras.Sequential([keras.Input(shape=(5, 5, 2)),
                              keras.layers.Conv2D(3, 3, padding="same", activation=activation)])
    if kernel is not None:
        model.set_weights([kernel, bias])
    return model


def main():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(6, 5, 5, 2)).astype(np.float32)
    labels = rng.integers(0, 3, size=(6, 5, 5))
    weights = rng.uniform(0.5, 2.0, size=6).astype(np.float32)
    # Keras 3.15 (torch) refuses weights (6,) against per-pixel losses (6, 5, 5): it does not
    # broadcast them; (6, 1, 1) it does, one weight per image
    pixel_weights = weights[:, None, None]
    kernel, bias = model_for("softmax").get_weights()
    bias = rng.normal(scale=0.1, size=3).astype(np.float32)  # not zero, so that it shows
    onehot = np.eye(3, dtype=np.float32)[labels]
    cases = {
        "sparse": ("softmax", "sparse_categorical_crossentropy", ["accuracy"], labels, None),
        "sparse_ones": ("softmax", "sparse_categorical_crossentropy", ["accuracy"],
                        labels[..., None], None),
        "onehot": ("softmax", "categorical_crossentropy", ["accuracy"], onehot, None),
        "logits": ("linear", keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                   ["sparse_categorical_accuracy"], labels, pixel_weights),
        "logits_onehot": ("linear", keras.losses.CategoricalCrossentropy(from_logits=True),
                          ["categorical_accuracy"], onehot, pixel_weights),
        "topk": ("softmax", "sparse_categorical_crossentropy",
                 [keras.metrics.SparseTopKCategoricalAccuracy(k=2)], labels, None),
        "topk_onehot": ("softmax", "categorical_crossentropy",
                        [keras.metrics.TopKCategoricalAccuracy(k=2)], onehot, None),
    }
    out = {"x": x, "labels": labels, "weights": weights, "kernel": kernel, "bias": bias}
    for name, (activation, loss, metrics, y, sample_weight) in cases.items():
        model = model_for(activation, kernel, bias)
        model.compile(optimizer=keras.optimizers.SGD(0.5), loss=loss, metrics=metrics)
        out[f"{name}_evaluate"] = np.array(model.evaluate(x, y, verbose=0,
                                                          sample_weight=sample_weight))
        if not name.endswith("onehot"):
            continue  # see the docstring: Keras's torch backend cannot train these
        history = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0,
                            sample_weight=sample_weight)
        metric_key = [key for key in history.history if key != "loss"][0]
        out[f"{name}_loss"] = np.array(history.history["loss"])
        out[f"{name}_metric"] = np.array(history.history[metric_key])
        out[f"{name}_kernel"], out[f"{name}_bias"] = model.get_weights()
    np.savez(OUT, **out)
    print(f"wrote {OUT} (Keras {keras.__version__})")


if __name__ == "__main__":
    main()
