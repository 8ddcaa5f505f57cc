"""Make the Keras 2 .h5 fixtures of tests/test_legacy_h5_keras2.py with TensorFlow 2.15 itself.

Thousands of tutorials, student repositories and Kaggle notebooks saved their models with
Keras 2 (TensorFlow 2.x, tf.keras): model.save('model.h5'). tinynet promises that such a file
loads as Keras 3.15.1 loads it: the same layers, weights and predictions, the compile
settings Keras 3 restores, and a model that trains on. Neither TensorFlow nor Keras is
installed where the tests run, so this script saves a few small tf.keras models once, with
TensorFlow 2.15.1 (Keras 2.15), and then asks Keras 3.15.1 what it makes of the same files:

    keras2_anchor.h5        Dense(64, input_shape=(20,))-BN-Activation('relu')-Dense(32)-BN-
                            ReLU-Dense(1, sigmoid), Adam, binary cross-entropy and accuracy,
                            trained 6 steps (BN statistics, Adam's m and v move)
    keras2_conv.h5          Conv2D(4, 3, relu, input_shape=(8, 8, 1))-MaxPooling2D-Flatten-
                            Dropout(0.3)-Dense(3, softmax), SGD(0.05, momentum=0.9), sparse
                            categorical cross-entropy and accuracy, trained
    keras2_uncompiled.h5    Dense(8, relu, input_shape=(5,))-Dense(3, softmax), never compiled
    keras2_input.h5         an explicit tf.keras.Input(shape=(6,))-Dense(5, tanh)-
                            LayerNormalization-Dense(2), the optimizer of Keras 2.10 and older
                            (tf.keras.optimizers.legacy.RMSprop, with its "decay" key and its
                            own layout of variables), mse, mae and a MeanSquaredError() object,
                            trained
    keras2_rules.h5         Dense(16, relu) with l2 kernel and l1 bias regularizers and a
                            MaxNorm(2) kernel constraint, Dense(1) with a NonNeg kernel
                            constraint and a HeNormal initializer, Adam(0.01), a
                            MeanSquaredError() loss object, trained
    keras2_h5_reference.npz for each model <name>: inputs x_<name>, Keras 2's predictions
                            p_<name> (inference mode); for the trained models: the batches
                            xc_<name>, yc_<name> the original Keras 2 model was given
                            (train_on_batch) after saving, its weights after them (w_<name>_<i>,
                            in get_weights order) and its losses (loss_<name>); the step count
                            in the file (iterations_<name>); keras2_version. Then, from
                            Keras 3.15.1 loading each file: its predictions k3p_<name>, and
                            k3_<name>, a JSON text of what it restored (optimizer class and
                            config, step count, loss, metrics); keras3_version

How to run it (two venvs outside the repo; each step can be run again at any time):

    python3.11 -m venv /tmp/tf2venv
    /tmp/tf2venv/bin/pip install "tensorflow-cpu==2.15.1" h5py
    /tmp/tf2venv/bin/python tests/data/make_keras2_h5_reference.py            # Keras 2 part
    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras2_h5_reference.py --keras3

(/tmp/kvenv is the Keras 3.15.1 venv of tests/data/README.md.) The first step writes the .h5
files and the npz; the second loads every .h5 file in Keras 3 and adds its answers to the npz.
"""

import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
NAMES = ("anchor", "conv", "uncompiled", "input", "rules")
REFERENCE = os.path.join(HERE, "keras2_h5_reference.npz")
SEED = 2026


def path_of(name):
    return os.path.join(HERE, f"keras2_{name}.h5")


# -- Keras 2 (TensorFlow 2.15) -----------------------------------------------------------------

def keras2_models(tf, rng):
    """{name: (model, x, y or None, train)}: the models above, compiled (or not)."""
    keras, layers = tf.keras, tf.keras.layers
    anchor = keras.Sequential([
        layers.Dense(64, input_shape=(20,)), layers.BatchNormalization(),
        layers.Activation("relu"), layers.Dense(32), layers.BatchNormalization(),
        layers.ReLU(), layers.Dense(1, activation="sigmoid")])
    anchor.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    x_anchor = rng.normal(size=(48, 20)).astype("float32")
    conv = keras.Sequential([
        layers.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)), layers.MaxPooling2D(),
        layers.Flatten(), layers.Dropout(0.3), layers.Dense(3, activation="softmax")])
    conv.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                 loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    uncompiled = keras.Sequential([layers.Dense(8, activation="relu", input_shape=(5,)),
                                   layers.Dense(3, activation="softmax")])
    explicit = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(5, activation="tanh"),
                                 layers.LayerNormalization(), layers.Dense(2)])
    explicit.compile(optimizer=keras.optimizers.legacy.RMSprop(0.01), loss="mse",
                     metrics=["mae", keras.metrics.MeanSquaredError()])
    rules = keras.Sequential([
        layers.Dense(16, activation="relu", input_shape=(6,),
                     kernel_regularizer=keras.regularizers.l2(0.01),
                     bias_regularizer=keras.regularizers.l1(0.001),
                     kernel_constraint=keras.constraints.MaxNorm(2.0)),
        layers.Dense(1, kernel_initializer="he_normal",
                     kernel_constraint=keras.constraints.NonNeg())])
    rules.compile(optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.MeanSquaredError())
    x_conv = rng.normal(size=(24, 8, 8, 1)).astype("float32")
    x_input = rng.normal(size=(32, 6)).astype("float32")
    x_rules = rng.normal(size=(32, 6)).astype("float32")
    return {
        "anchor": (anchor, x_anchor, (x_anchor[:, :5].sum(axis=1) > 0).astype("float32"), True),
        "conv": (conv, x_conv, rng.integers(0, 3, size=24), True),
        "uncompiled": (uncompiled, rng.normal(size=(6, 5)).astype("float32"), None, False),
        "input": (explicit, x_input, x_input[:, :2] * 2, True),
        "rules": (rules, x_rules, x_rules[:, :2].sum(axis=1, keepdims=True), True),
    }


def train_on(model, x, y, name, reference):
    """Three more steps of the saved model. Dropout's random masks differ between Keras and
    tinynet, so the conv model takes them with its Dropout's rate set to 0 (the tests do the
    same in tinynet): what they check is that SGD's momentum goes on from the file's."""
    for layer in model.layers:
        if type(layer).__name__ == "Dropout":
            layer.rate = 0.0
            model.train_function = None  # traced with the old rate: trace it again
    xs, ys = x[:16], y[:16]
    losses = [float(model.train_on_batch(xs[i:i + 8], ys[i:i + 8], return_dict=True)["loss"])
              for i in (0, 8, 0)]
    reference[f"xc_{name}"], reference[f"yc_{name}"] = xs, ys
    reference[f"loss_{name}"] = np.array(losses)
    for i, array in enumerate(model.get_weights()):
        reference[f"w_{name}_{i}"] = array


def make_keras2_files():
    import tensorflow as tf

    tf.keras.utils.set_random_seed(SEED)
    rng = np.random.default_rng(SEED)
    reference = {"keras2_version": np.array(tf.__version__)}
    for name, (model, x, y, train) in keras2_models(tf, rng).items():
        if train:
            model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        if os.path.exists(path_of(name)):
            os.remove(path_of(name))
        model.save(path_of(name))
        reference[f"x_{name}"] = x
        reference[f"p_{name}"] = model.predict(x, verbose=0)
        if train:
            reference[f"iterations_{name}"] = np.array(int(model.optimizer.iterations))
            train_on(model, x, y, name, reference)
    np.savez(REFERENCE, **reference)
    print("wrote", ", ".join(os.path.basename(path_of(name)) for name in NAMES),
          "and", os.path.basename(REFERENCE))


# -- Keras 3.15.1 loading the same files ---------------------------------------------------------

def describe(entry):
    """A loss or metric Keras 3 restored, as a name."""
    if isinstance(entry, (list, tuple)):
        return [describe(item) for item in entry]
    if isinstance(entry, str) or entry is None:
        return entry
    return f"{type(entry).__name__}:{getattr(entry, 'name', getattr(entry, '__name__', ''))}"


def keras3_answers():
    import keras

    reference = dict(np.load(REFERENCE))
    reference["keras3_version"] = np.array(keras.__version__)
    for name in NAMES:
        try:
            model = keras.models.load_model(path_of(name))
            answer = {"compiled": bool(model.compiled and model.optimizer is not None)}
        except Exception as err:  # noqa: BLE001 (what Keras 3 says is the answer)
            # Keras 3.15.1 cannot restore the compile settings: its predictions uncompiled
            model = keras.models.load_model(path_of(name), compile=False)
            answer = {"compiled": False, "error": f"{type(err).__name__}: {err}"}
        reference[f"k3p_{name}"] = model.predict(reference[f"x_{name}"], verbose=0)
        if answer["compiled"]:
            config = model._compile_config.config
            answer.update(optimizer=type(model.optimizer).__name__,
                          optimizer_config=keras.saving.serialize_keras_object(
                              model.optimizer)["config"],
                          iterations=int(model.optimizer.iterations),
                          loss=describe(config["loss"]), metrics=describe(config["metrics"]))
        reference[f"k3_{name}"] = np.array(json.dumps(answer))
        print(name, json.dumps(answer))
    np.savez(REFERENCE, **reference)


if __name__ == "__main__":
    if "--keras3" in sys.argv:
        keras3_answers()
    else:
        make_keras2_files()
