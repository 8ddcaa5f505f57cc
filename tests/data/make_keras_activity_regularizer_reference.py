"""Make tests/data/keras_activity_regularizer_reference.npz: Keras 3's activity regularizers
(a penalty on a layer's OUTPUT, divided by the batch size, added to the loss in fit and in
evaluate), on small models trained from fixed weights.

    x, y                        fixed data: x (30, 6), y (30, 1) of 0/1 (batches of 12: the
                                last batch has 6 samples, so the division by the batch size
                                shows)
    images, labels              fixed data for the convolution case: (10, 5, 5, 2), (10,)
    <case>_start_<i>            the model's weights before training, in get_weights() order
    <case>_end_<i>              its weights after fit (2 epochs, batch 12, shuffle=False, SGD
                                with learning rate 0.1 and momentum 0.9)
    <case>_loss                 fit's loss per epoch
    <case>_evaluate             evaluate's loss after training (batch 12)
    <case>_train_on_batch       train_on_batch's loss on the first 7 samples, after evaluate
    <case>_configs              each layer's get_config() as JSON

with the cases
    dense   Dense(8, relu, activity_regularizer=L1(0.01)),
            BatchNormalization(activity_regularizer=L2(0.02)),
            Dense(1, sigmoid, activity_regularizer=L1L2(0.01, 0.03))
    conv    Conv2D(3, 3, relu, activity_regularizer='l2'), Flatten(),
            Activation('tanh', activity_regularizer=L1(0.005)), Dense(2, softmax) on sparse
            labels
    frozen  Dense(4, tanh), Dense(5, activity_regularizer=L2(0.05), trainable=False),
            Dense(1, sigmoid): the frozen layer's penalty still counts, and its gradient
            reaches the layer before it

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python \
        tests/data/make_keras_activity_regularizer_reference.py
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "keras_activity_regularizer_reference.npz")
R = keras.regularizers
L = keras.layers


def models():
    """case -> (model, loss, data names)."""
    dense = keras.Sequential([
        keras.Input(shape=(6,)),
        L.Dense(8, activation="relu", activity_regularizer=R.L1(0.01)),
        L.BatchNormalization(activity_regularizer=R.L2(0.02)),
        L.Dense(1, activation="sigmoid", activity_regularizer=R.L1L2(0.01, 0.03))])
    conv = keras.Sequential([
        keras.Input(shape=(5, 5, 2)),
        L.Conv2D(3, 3, activation="relu", activity_regularizer="l2"),
        L.Flatten(),
        L.Activation("tanh", activity_regularizer=R.L1(0.005)),
        L.Dense(2, activation="softmax")])
    frozen = keras.Sequential([
        keras.Input(shape=(6,)),
        L.Dense(4, activation="tanh"),
        L.Dense(5, activity_regularizer=R.L2(0.05), trainable=False),
        L.Dense(1, activation="sigmoid")])
    return {"dense": (dense, "binary_crossentropy", ("x", "y")),
            "conv": (conv, "sparse_categorical_crossentropy", ("images", "labels")),
            "frozen": (frozen, "binary_crossentropy", ("x", "y"))}


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(7)
    data = {"x": rng.normal(size=(30, 6)).astype(np.float32),
            "images": rng.normal(size=(10, 5, 5, 2)).astype(np.float32),
            "labels": rng.integers(0, 2, size=10)}
    data["y"] = (data["x"][:, :1] - data["x"][:, 2:3] > 0).astype(np.float32)
    out = dict(data)
    for case, (model, loss, (x, y)) in models().items():
        start = model.get_weights()
        model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9), loss=loss)
        history = model.fit(data[x], data[y], batch_size=12, epochs=2, shuffle=False,
                            verbose=0)
        for i, w in enumerate(start):
            out[f"{case}_start_{i}"] = w
        for i, w in enumerate(model.get_weights()):
            out[f"{case}_end_{i}"] = w
        out[f"{case}_loss"] = np.array(history.history["loss"])
        out[f"{case}_evaluate"] = np.array(model.evaluate(data[x], data[y], batch_size=12,
                                                          verbose=0))
        out[f"{case}_train_on_batch"] = np.array(model.train_on_batch(data[x][:7],
                                                                      data[y][:7]))
        out[f"{case}_configs"] = np.array(json.dumps([layer.get_config()
                                                      for layer in model.layers]))
    np.savez(OUT, **out)
    print(f"wrote {OUT} (Keras {keras.__version__})")


if __name__ == "__main__":
    main()
