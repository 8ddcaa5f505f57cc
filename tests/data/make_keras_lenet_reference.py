"""Make tests/data/keras_lenet_reference.npz: what Keras 3 computes for LeNet with BN.

The network is d2l's LeNet with batch normalization (its chapter "Batch Normalization"):

    Conv2D(6, 5) - BN - sigmoid - AveragePooling2D(2, 2)
    Conv2D(16, 5) - BN - sigmoid - AveragePooling2D(2, 2) - Flatten
    Dense(120) - BN - sigmoid - Dense(84) - BN - sigmoid - Dense(10)  (logits)

trained with Adam on sparse categorical cross-entropy from logits. Keras runs it once here, on
a small seeded synthetic image set, from fixed starting weights, for two epochs without
shuffling, and saves what tests/test_lenet_parity.py needs to replay the run in tinynet:

    pixels, pixels_val, y, y_val 28x28x1 images of 10 classes of strokes as uint8 (the model
                                 sees pixels / 255 in float32: see to_float), labels 0..9
    initial_NN                   starting weights (NumPy draws), in get_weights() order
    weight_names, weight_shapes  Keras's names and shapes of those weights
    layer_names, output_shapes   from the built model (summary's columns)
    total/trainable/non_trainable_params
    loss, accuracy, val_loss, val_accuracy   the two epochs' history
    final_NN                     the weights after training
    predict, evaluate            model.predict(x_val), model.evaluate(x, y) after training

How to run it (Keras 3 on its PyTorch backend, in a venv outside the repo):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_lenet_reference.py
"""

import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras_lenet_reference.npz")
DATA_SEED = 1998
WEIGHT_SEED = 5
N_TRAIN = 150   # not a multiple of 32: the last batch has 22 images, so weighting matters
N_VAL = 40
CLASSES = 10


def stroke_images(n, seed):
    """n uint8 images (n, 28, 28, 1) and labels (n,): each class is a fixed set of three
    straight strokes, drawn at a random shift of up to 3 pixels, with pixel noise. Telling
    them apart needs local shape detectors, which is what convolutions learn. (uint8 keeps
    the fixture small.)"""
    rng = np.random.default_rng(seed)
    class_strokes = rng.uniform(4, 24, size=(CLASSES, 3, 4))  # (x0, y0, x1, y1) per stroke
    labels = rng.integers(0, CLASSES, size=n)
    images = np.zeros((n, 28, 28), dtype=np.float32)
    t = np.linspace(0.0, 1.0, 40)
    for i, label in enumerate(labels):
        shift = rng.integers(-3, 4, size=2)
        for x0, y0, x1, y1 in class_strokes[label]:
            cols = np.clip(np.round(x0 + (x1 - x0) * t + shift[0]), 0, 27).astype(int)
            rows = np.clip(np.round(y0 + (y1 - y0) * t + shift[1]), 0, 27).astype(int)
            images[i, rows, cols] = 1.0
    images += rng.normal(0.0, 0.1, size=images.shape).astype(np.float32)
    pixels = np.round(np.clip(images, 0.0, 1.0) * 255).astype(np.uint8)
    return pixels[..., None], labels.astype(np.int64)


def to_float(pixels):
    """uint8 pixels -> float32 in [0, 1], the same numbers in Keras and in the test."""
    return pixels.astype(np.float32) / np.float32(255)


def lenet():
    """d2l's LeNet with BN, in Keras."""
    layers = keras.layers
    model = keras.models.Sequential([
        keras.Input(shape=(28, 28, 1)),
        layers.Conv2D(6, 5), layers.BatchNormalization(), layers.Activation("sigmoid"),
        layers.AveragePooling2D(pool_size=2, strides=2),
        layers.Conv2D(16, 5), layers.BatchNormalization(), layers.Activation("sigmoid"),
        layers.AveragePooling2D(pool_size=2, strides=2),
        layers.Flatten(),
        layers.Dense(120), layers.BatchNormalization(), layers.Activation("sigmoid"),
        layers.Dense(84), layers.BatchNormalization(), layers.Activation("sigmoid"),
        layers.Dense(10),
    ])
    model.compile(optimizer=keras.optimizers.Adam(),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def starting_weights(model, rng):
    """Random values for EVERY weight (see make_keras_reference.py): kernels Glorot-uniform
    with Keras's fans (a conv kernel's receptive field kh*kw multiplies both), biases and
    beta small, gamma near 1, moving statistics away from (0, 1)."""
    weights = []
    for variable in model.weights:
        shape = tuple(variable.shape)
        name = variable.path.split("/")[-1]
        if name == "kernel":
            receptive_field = int(np.prod(shape[:-2]))
            limit = np.sqrt(6.0 / ((shape[-2] + shape[-1]) * receptive_field))
            value = rng.uniform(-limit, limit, size=shape)
        elif name == "gamma":
            value = rng.uniform(0.5, 1.5, size=shape)
        elif name == "moving_variance":
            value = rng.uniform(0.5, 2.0, size=shape)
        else:  # bias, beta, moving_mean
            value = rng.normal(0.0, 0.1, size=shape)
        weights.append(value.astype(np.float32))
    return weights


def train(initial, x, y, x_val, y_val):
    """Two epochs, in order, from `initial`; returns (model, history dict)."""
    keras.utils.set_random_seed(0)
    model = lenet()
    model.set_weights(initial)
    history = model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0,
                        validation_data=(x_val, y_val))
    return model, history.history


def main():
    pixels, y_all = stroke_images(N_TRAIN + N_VAL, DATA_SEED)
    x, y = to_float(pixels[:N_TRAIN]), y_all[:N_TRAIN]
    x_val, y_val = to_float(pixels[N_TRAIN:]), y_all[N_TRAIN:]

    model = lenet()
    initial = starting_weights(model, np.random.default_rng(WEIGHT_SEED))
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    model, history = train(initial, x, y, x_val, y_val)
    evaluate = model.evaluate(x, y, batch_size=32, verbose=0)
    predict = model.predict(x_val, batch_size=32, verbose=0)

    arrays = {
        "pixels": pixels[:N_TRAIN], "pixels_val": pixels[N_TRAIN:], "y": y, "y_val": y_val,
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
    for i, (start, end) in enumerate(zip(initial, model.get_weights(), strict=True)):
        arrays[f"initial_{i:02d}"] = start
        arrays[f"final_{i:02d}"] = end

    np.savez_compressed(OUT, **arrays)
    print(f"Keras {keras.__version__} ({keras.backend.backend()} backend) -> "
          f"{os.path.normpath(OUT)} ({os.path.getsize(OUT) / 1024:.0f} KB)")
    print("loss", history["loss"], "val_loss", history["val_loss"])
    print("accuracy", history["accuracy"], "val_accuracy", history["val_accuracy"])


if __name__ == "__main__":
    sys.exit(main())
