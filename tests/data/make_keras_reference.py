"""Make tests/data/keras_article_reference.npz: what Keras 3 computes for the article's model.

tinynet promises the same numbers as Keras 3. Keras is not installed where the tests run, so
this script runs Keras once, on fixed data and fixed starting weights, and saves everything a
test needs to replay the same training in tinynet (tests/test_keras_parity.py):

    x, y, x_val, y_val           the data (tinynet.datasets.make_classification, seeded)
    initial_NN                   starting weights, drawn with NumPy, in get_weights() order
    weight_names, weight_shapes  Keras's names and shapes of those weights, in that order
    loss, accuracy,              per-epoch history of fit(..., epochs=2, batch_size=32,
    val_loss, val_accuracy       shuffle=False, validation_data=(x_val, y_val))
    final_NN                     the weights after training
    predict                      model.predict(x_val) after training (inference mode)
    evaluate                     model.evaluate(x, y) after training: [loss, accuracy]
    total/trainable/non_trainable_params, layer_names, output_shapes   from summary()
    sgd_*                        the same two epochs with SGD(0.05, momentum=0.9, nesterov=True)
    loss_cases_*                 Keras's loss values on hand-picked inputs (clipping, logits)

How to run it (Keras and PyTorch in a venv outside the repo; no TensorFlow needed):

    python -m venv /tmp/kvenv
    /tmp/kvenv/bin/pip install "keras>=3" torch
    /tmp/kvenv/bin/pip install -e . --no-deps
    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_reference.py
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from tinynet.datasets import make_classification  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "keras_article_reference.npz")
DATA_SEED = 2024
WEIGHT_SEED = 7
N_TRAIN = 250  # not a multiple of 32: the last batch has 26 samples, so weighting matters
N_VAL = 64


def article_model(optimizer):
    """The article's listing, exactly as written for Keras."""
    model = keras.models.Sequential([
        keras.Input(shape=(20,)),
        keras.layers.Dense(64),
        keras.layers.BatchNormalization(),
        keras.layers.Activation("relu"),
        keras.layers.Dense(32),
        keras.layers.BatchNormalization(),
        keras.layers.Activation("relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    return model


def starting_weights(model, rng):
    """Random values for EVERY weight, so that no weight's treatment goes untested:
    kernels like Glorot, biases and beta small, gamma near 1, moving statistics away from
    their (0, 1) defaults (they decide the inference output and get updated in training)."""
    weights = []
    for variable in model.weights:
        shape = tuple(variable.shape)
        name = variable.path.split("/")[-1]
        if name == "kernel":
            limit = np.sqrt(6.0 / sum(shape))
            value = rng.uniform(-limit, limit, size=shape)
        elif name == "gamma":
            value = rng.uniform(0.5, 1.5, size=shape)
        elif name == "moving_variance":
            value = rng.uniform(0.5, 2.0, size=shape)
        else:  # bias, beta, moving_mean
            value = rng.normal(0.0, 0.1, size=shape)
        weights.append(value.astype(np.float32))
    return weights


def train(optimizer, initial, x, y, x_val, y_val):
    """Two epochs, in order, from `initial`; returns (model, history dict)."""
    keras.utils.set_random_seed(0)
    model = article_model(optimizer)
    model.set_weights(initial)
    history = model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0,
                        validation_data=(x_val, y_val))
    return model, history.history


def loss_cases():
    """Keras's loss values where clipping and logits matter: p of exactly 0 and 1."""
    y_bin = np.array([[0.0], [1.0], [1.0], [0.0], [1.0]], dtype=np.float32)
    p_bin = np.array([[0.0], [1.0], [0.0], [1.0], [0.3]], dtype=np.float32)
    z_bin = np.array([[-30.0], [30.0], [-2.0], [0.5], [100.0]], dtype=np.float32)
    y_cat = np.eye(3, dtype=np.float32)[[0, 2, 1]]
    p_cat = np.array([[1.0, 0.0, 0.0], [0.2, 0.8, 0.0], [0.1, 0.6, 0.3]], dtype=np.float32)
    z_cat = np.array([[5.0, -5.0, 0.0], [50.0, 0.0, -50.0], [0.1, 0.2, 0.3]],
                     dtype=np.float32)
    labels = np.array([0, 2, 1])
    losses = keras.losses
    values = [
        losses.BinaryCrossentropy()(y_bin, p_bin),
        losses.BinaryCrossentropy(from_logits=True)(y_bin, z_bin),
        losses.CategoricalCrossentropy()(y_cat, p_cat),
        losses.CategoricalCrossentropy(from_logits=True)(y_cat, z_cat),
        losses.SparseCategoricalCrossentropy()(labels, p_cat),
        losses.SparseCategoricalCrossentropy(from_logits=True)(labels, z_cat),
        losses.MeanSquaredError()(y_cat, p_cat),
    ]
    return {
        "loss_cases_y_bin": y_bin, "loss_cases_p_bin": p_bin, "loss_cases_z_bin": z_bin,
        "loss_cases_y_cat": y_cat, "loss_cases_p_cat": p_cat, "loss_cases_z_cat": z_cat,
        "loss_cases_labels": labels,
        "loss_cases_values": np.array([float(keras.ops.convert_to_numpy(v)) for v in values]),
    }


def main():
    x_all, y_all = make_classification(n_samples=N_TRAIN + N_VAL, seed=DATA_SEED)
    x, y = x_all[:N_TRAIN], y_all[:N_TRAIN]
    x_val, y_val = x_all[N_TRAIN:], y_all[N_TRAIN:]

    model = article_model(keras.optimizers.Adam())
    initial = starting_weights(model, np.random.default_rng(WEIGHT_SEED))
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)

    model, history = train(keras.optimizers.Adam(), initial, x, y, x_val, y_val)
    evaluate = model.evaluate(x, y, batch_size=32, verbose=0)
    predict = model.predict(x_val, batch_size=32, verbose=0)
    sgd = keras.optimizers.SGD(learning_rate=0.05, momentum=0.9, nesterov=True)
    sgd_model, sgd_history = train(sgd, initial, x, y, x_val, y_val)

    arrays = {
        "x": x, "y": y, "x_val": x_val, "y_val": y_val,
        "weight_names": np.array([v.path for v in model.weights]),
        "weight_shapes": np.array([str(tuple(v.shape)) for v in model.weights]),
        "layer_names": np.array([layer.name for layer in model.layers]),
        "output_shapes": np.array([str(layer.output.shape) for layer in model.layers]),
        "total_params": model.count_params(),
        "trainable_params": trainable,
        "non_trainable_params": model.count_params() - trainable,
        "evaluate": np.array(evaluate), "predict": predict,
        "keras_version": np.array(keras.__version__),
        "backend": np.array(keras.backend.backend()),
    }
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        arrays[key] = np.array(history[key])
        arrays["sgd_" + key] = np.array(sgd_history[key])
    for i, (start, end, end_sgd) in enumerate(zip(initial, model.get_weights(),
                                                  sgd_model.get_weights(), strict=True)):
        arrays[f"initial_{i:02d}"] = start
        arrays[f"final_{i:02d}"] = end
        arrays[f"sgd_final_{i:02d}"] = end_sgd
    arrays.update(loss_cases())

    np.savez_compressed(OUT, **arrays)
    print(f"Keras {keras.__version__} ({keras.backend.backend()} backend) -> "
          f"{os.path.normpath(OUT)} ({os.path.getsize(OUT) / 1024:.0f} KB)")
    print("loss", history["loss"], "val_loss", history["val_loss"])
    print("sgd loss", sgd_history["loss"])


if __name__ == "__main__":
    sys.exit(main())
