"""Make the .keras and .weights.h5 fixtures of tests/test_saving_keras.py with Keras 3 itself.

tinynet promises that a file Keras 3 saves loads in tinynet with the same predictions. Keras is
not installed where the tests run, so this script saves a few small models once, with Keras:

    keras_article.keras           the article's model (Dense-BN-ReLU x2, sigmoid), trained a
                                  few steps with Adam so that the BN statistics and Adam's
                                  moments are not their starting values
    keras_article.weights.h5      the same model's model.save_weights(...)
    keras_mixed.keras             Dense(he_normal)-LayerNorm-Dropout-tanh-BN(momentum 0.9,
                                  epsilon 1e-5, center=False)-ReLU-Dense-Softmax, SGD with
                                  momentum, categorical cross-entropy, float64
    keras_conv.keras              Conv2D-GroupNorm-MaxPool-AvgPool-Conv2D-GlobalAvgPool and
                                  Conv2D-Flatten-Reshape-Flatten-Dense, untrained (random weights)
    keras_saving_reference.npz    for each model: inputs x_<name> and Keras's predictions
                                  p_<name> (inference mode); keras_version

How to run it (Keras and PyTorch in a venv outside the repo; no TensorFlow needed):

    python -m venv /tmp/kvenv
    /tmp/kvenv/bin/pip install "keras>=3" torch h5py
    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_saving_reference.py
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SEED = 2025
layers = keras.layers


def article_model():
    """The article's model, trained 3 steps on random data (BN statistics move)."""
    model = keras.Sequential([
        keras.Input(shape=(20,)),
        layers.Dense(64), layers.BatchNormalization(), layers.Activation("relu"),
        layers.Dense(32), layers.BatchNormalization(), layers.Activation("relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.Adam(), loss="binary_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(96, 20)).astype("float32")
    y = (x[:, :3].sum(axis=1) > 0).astype("float32")
    model.fit(x, y, batch_size=32, epochs=1, shuffle=False, verbose=0)
    return model, rng.normal(size=(16, 20)).astype("float32")


def mixed_model():
    """Every other layer kind tinynet has, with non-default arguments, in float64."""
    f64 = {"dtype": "float64"}
    model = keras.Sequential([
        keras.Input(shape=(6,), dtype="float64"),
        layers.Dense(8, activation="relu", kernel_initializer="he_normal", **f64),
        layers.LayerNormalization(epsilon=1e-4, **f64),
        layers.Dropout(0.25, **f64),
        layers.Activation("tanh", **f64),
        layers.BatchNormalization(momentum=0.9, epsilon=1e-5, center=False, **f64),
        layers.ReLU(**f64),
        layers.Dense(4, use_bias=False, **f64),
        layers.Softmax(**f64),
    ], name="mixed")
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                  loss="categorical_crossentropy", metrics=["accuracy"])
    rng = np.random.default_rng(SEED + 1)
    x = rng.normal(size=(64, 6))
    y = np.eye(4)[rng.integers(0, 4, size=64)]
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    return model, rng.normal(size=(12, 6))


def conv_model():
    """The convolutional layers, channels_last; not trained, not compiled."""
    model = keras.Sequential([
        keras.Input(shape=(8, 8, 3)),
        layers.Conv2D(4, 3, padding="same", activation="relu"),
        layers.GroupNormalization(groups=2),
        layers.MaxPooling2D(),
        layers.AveragePooling2D(pool_size=2, strides=1),
        layers.Conv2D(6, (2, 2), strides=(1, 1)),
        layers.Flatten(),
        layers.Reshape((4, 6)),
        layers.Flatten(),
        layers.Dense(2),
    ], name="conv")
    rng = np.random.default_rng(SEED + 2)
    return model, rng.normal(size=(5, 8, 8, 3)).astype("float32")


def main():
    keras.utils.set_random_seed(SEED)
    arrays = {"keras_version": np.array(keras.__version__)}
    for name, make in [("article", article_model), ("mixed", mixed_model),
                       ("conv", conv_model)]:
        model, x = make()
        model.save(os.path.join(HERE, f"keras_{name}.keras"))
        arrays[f"x_{name}"] = x
        arrays[f"p_{name}"] = model.predict(x, verbose=0)
        if name == "article":
            model.save_weights(os.path.join(HERE, "keras_article.weights.h5"))
    np.savez(os.path.join(HERE, "keras_saving_reference.npz"), **arrays)
    print("wrote", ", ".join(sorted(arrays)))


if __name__ == "__main__":
    main()
