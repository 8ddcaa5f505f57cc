"""Make the legacy .h5 fixtures of tests/test_legacy_h5.py with Keras 3 itself.

tinynet promises that a whole model Keras 3 saves with model.save('model.h5') (the legacy
HDF5 format of Machine Learning Mastery's tutorials) loads in tinynet with Keras's
predictions, and goes on training as Keras's model would. Keras is not installed where the
tests run, so this script saves a few small models once, with Keras 3.15.1:

    keras_legacy_anchor.h5        Dense(64, input_shape=(20,))-BN-Activation('relu')-Dense(32)-
                                  BN-ReLU-Dense(1, sigmoid), Adam, binary cross-entropy and
                                  accuracy, trained 6 steps (BN statistics, Adam's m and v move)
    keras_legacy_uncompiled.h5    Dense(8, relu)-Dense(3, softmax), never compiled
    keras_legacy_dropout_l2.h5    Dense(16, relu, kernel_regularizer=l2(0.01))-Dropout(0.5)-
                                  Dense(1), SGD(0.01, momentum=0.9), mse and mae, trained
    keras_legacy_conv.h5          Conv2D(4, 3, relu)-MaxPooling2D-Flatten-Dense(3, softmax),
                                  RMSprop, SparseCategoricalCrossentropy() and
                                  SparseCategoricalAccuracy(name='acc'), trained
    keras_legacy_fresh.h5         the anchor's layers compiled with Adam but never trained
                                  (its file holds the optimizer's step count and learning rate
                                  only)
    keras_legacy_nested.h5        a Sequential inside a Sequential: Input(4)-[Dense(6)-BN]-
                                  Dense(2), Adam, mse, trained (Keras keeps the inner model's
                                  weights in one group, its trainable weights first)
    keras_legacy_h5_reference.npz for each model <name>: inputs x_<name>, Keras's predictions
                                  p_<name> (inference mode); for the compiled models trained
                                  on: the batches xc_<name>, yc_<name> given to train_on_batch
                                  after saving, the original Keras model's weights after them
                                  (w_<name>_<i>, in get_weights order) and its losses
                                  (loss_<name>), and the step count in the file
                                  (iterations_<name>); keras_version

"Trained on" is the ORIGINAL Keras model's training after model.save: Keras 3.15.1 cannot
train a compiled model it loads from .h5 (its fit raises "Unknown variable ... This optimizer
can only be called for the variables it was originally built with"; see tinynet/legacy_h5.py),
so what tinynet is compared with is the model that was saved, going on.

How to run it (Keras and PyTorch in a venv outside the repo; no TensorFlow needed); it can be
run again at any time, and rewrites the same files:

    python -m venv /tmp/kvenv
    /tmp/kvenv/bin/pip install "keras==3.15.1" torch h5py
    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_legacy_h5_reference.py
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 2026
layers = keras.layers


def anchor_layers():
    return [layers.Dense(64, input_shape=(20,)), layers.BatchNormalization(),
            layers.Activation("relu"), layers.Dense(32), layers.BatchNormalization(),
            layers.ReLU(), layers.Dense(1, activation="sigmoid")]


def anchor(rng):
    model = keras.Sequential(anchor_layers())
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    x = rng.normal(size=(48, 20)).astype("float32")
    y = (x[:, :5].sum(axis=1) > 0).astype("float32")
    return model, x, y


def uncompiled(rng):
    model = keras.Sequential([keras.Input(shape=(5,)), layers.Dense(8, activation="relu"),
                              layers.Dense(3, activation="softmax")])
    return model, rng.normal(size=(6, 5)).astype("float32"), None


def dropout_l2(rng):
    model = keras.Sequential([
        keras.Input(shape=(6,)),
        layers.Dense(16, activation="relu", kernel_regularizer=keras.regularizers.l2(0.01)),
        layers.Dropout(0.5), layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9), loss="mse",
                  metrics=["mae"])
    x = rng.normal(size=(32, 6)).astype("float32")
    return model, x, x[:, :2].sum(axis=1, keepdims=True)


def conv(rng):
    model = keras.Sequential([
        keras.Input(shape=(8, 8, 1)), layers.Conv2D(4, 3, activation="relu"),
        layers.MaxPooling2D(), layers.Flatten(), layers.Dense(3, activation="softmax")])
    model.compile(optimizer=keras.optimizers.RMSprop(0.01),
                  loss=keras.losses.SparseCategoricalCrossentropy(),
                  metrics=[keras.metrics.SparseCategoricalAccuracy(name="acc")])
    x = rng.normal(size=(24, 8, 8, 1)).astype("float32")
    return model, x, rng.integers(0, 3, size=24)


def fresh(rng):
    model = keras.Sequential(anchor_layers())
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    x = rng.normal(size=(16, 20)).astype("float32")
    return model, x, (x[:, :5].sum(axis=1) > 0).astype("float32")


def nested(rng):
    inner = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(6),
                              layers.BatchNormalization()], name="block")
    model = keras.Sequential([keras.Input(shape=(4,)), inner, layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    x = rng.normal(size=(24, 4)).astype("float32")
    return model, x, x[:, :2] * 2


# (maker, train before saving, train on after saving): Dropout's random masks differ between
# Keras and tinynet, so the dropout model is not trained on
MODELS = {"anchor": (anchor, True, True), "uncompiled": (uncompiled, False, False),
          "dropout_l2": (dropout_l2, True, False), "conv": (conv, True, True),
          "fresh": (fresh, False, False), "nested": (nested, True, True)}


def main():
    keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    reference = {"keras_version": np.array(keras.__version__)}
    for name, (make, train, train_on) in MODELS.items():
        model, x, y = make(rng)
        if train:
            model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        path = os.path.join(HERE, f"keras_legacy_{name}.h5")
        if os.path.exists(path):
            os.remove(path)
        model.save(path)
        reference[f"x_{name}"] = x
        reference[f"p_{name}"] = model.predict(x, verbose=0)
        if model.compiled:
            reference[f"iterations_{name}"] = np.array(int(model.optimizer.iterations))
        if train_on:
            xs, ys = x[:16], y[:16]
            losses = [model.train_on_batch(xs[i:i + 8], ys[i:i + 8], return_dict=True)["loss"]
                      for i in (0, 8, 0)]
            reference[f"xc_{name}"], reference[f"yc_{name}"] = xs, ys
            reference[f"loss_{name}"] = np.array(losses)
            for i, array in enumerate(model.get_weights()):
                reference[f"w_{name}_{i}"] = array
    np.savez(os.path.join(HERE, "keras_legacy_h5_reference.npz"), **reference)
    print("wrote", ", ".join(f"keras_legacy_{name}.h5" for name in MODELS),
          "and keras_legacy_h5_reference.npz")


if __name__ == "__main__":
    main()
