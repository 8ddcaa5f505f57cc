"""Make tests/data/keras_preprocessing_reference.npz and three .keras files: Keras 3's
Normalization (with adapt) and Rescaling, the preprocessing layers of TensorFlow's "Basic
regression" and "Image classification" tutorials.

The data imitate the regression tutorial's auto-mpg features (9 columns of very different
scales: cylinders, displacement, horsepower, weight, acceleration, model year, and 3 one-hot
origin columns), in float64 as pandas gives them. Everything Keras computes is float32.

    adapt_<case>_x                the data adapt measured (cases: features, float32, axis_none,
                                  images, pixels, constant, again)
    adapt_<case>_weights_<i>      get_weights() after adapt: mean, variance, count
    adapt_<case>_mean             layer.mean (shaped to broadcast against the inputs)
    adapt_<case>_input, _output   layer(input) after adapt
    adapt_<case>_inverted         the same statistics with invert=True: layer(input)
    given_<case>_input, _output   Normalization(mean=..., variance=...) (cases: scalar, row)
    rescaling_<case>_input, _output
                                  Rescaling (cases: unit: 1/255 of uint8 images; signed:
                                  1/127.5 with offset -1; channels: one scale per channel)
    configs                       JSON: get_config() of named layers (without the dtype),
                                  and the number of weights each has
    regression_*                  the tutorial's model (Normalization, Dense(8, relu) twice,
                                  Dense(1)), from initial weights stored here: fit with
                                  validation_split=0.2, 4 epochs, batch 16, shuffle=False,
                                  Adam(0.001), mean absolute error: the history (loss,
                                  val_loss), the final weights, predictions
    middle_*                      Normalization (mean and variance given) between two Dense
                                  layers, trained 3 epochs by SGD: its backward matters
    images_*                      Rescaling(1/127.5, offset=-1) before Conv2D, Flatten, Dense,
                                  trained 2 epochs: history, weights
    file_<name>_x, file_<name>_predictions
                                  inputs and Keras's predictions for the saved files:
        keras_preprocessing_regression.keras  the trained regression model (built with
                                  model.build((None, 9)), as tinynet builds it)
        keras_preprocessing_tutorial.keras    the horsepower model written as the tutorial
                                  does (no Input; Keras builds it at fit's first batch, so
                                  its InputLayer's batch_shape is [32, 1])
        keras_preprocessing_images.keras      the trained images model, with an Input

The other way, tinynet saves and Keras loads, is checked live by
tests/test_normalization_layer.py and tests/test_rescaling.py (they run Keras in the venv
below, and skip without it).

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_preprocessing_reference.py
"""

import json
import os
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
from keras import layers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "keras_preprocessing_reference.npz")
FILES = {name: os.path.join(HERE, f"keras_preprocessing_{name}.keras")
         for name in ("regression", "tutorial", "images")}


def auto_mpg_like(n, seed=0):
    """n rows of 9 features at the scales of the auto-mpg data, and an mpg-like target."""
    rng = np.random.default_rng(seed)
    cylinders = rng.choice([4.0, 6.0, 8.0], size=n)
    displacement = cylinders * 40.0 + rng.normal(0.0, 20.0, n)
    horsepower = displacement * 0.45 + rng.normal(0.0, 12.0, n)
    weight = 1500.0 + displacement * 8.0 + rng.normal(0.0, 250.0, n)
    acceleration = 20.0 - horsepower * 0.04 + rng.normal(0.0, 1.5, n)
    year = rng.integers(70, 83, n).astype(np.float64)
    origin = np.eye(3)[rng.integers(0, 3, n)]
    x = np.column_stack([cylinders, displacement, horsepower, weight, acceleration, year,
                         origin])
    y = 45.0 - weight * 0.006 + (year - 76.0) * 0.8 + rng.normal(0.0, 2.0, n)
    return x, y


def numpy(tensor):
    return keras.ops.convert_to_numpy(tensor)


def adapt_cases():
    """adapt on each kind of data, then the layer's weights, mean and outputs."""
    rng = np.random.default_rng(1)
    features, _ = auto_mpg_like(40)
    constant = features.copy()
    constant[:, 0] = 4.0  # a feature that never varies: divided by eps
    cases = {
        # case: (axis, adapt data, input)
        "features": (-1, features, auto_mpg_like(5, seed=9)[0]),
        "float32": (-1, features.astype(np.float32), auto_mpg_like(5, seed=9)[0]),
        "axis_none": (None, features[:, 2], features[:6, 2:3]),
        "images": (-1, rng.uniform(0, 255, (6, 4, 4, 3)), rng.uniform(0, 255, (2, 4, 4, 3))),
        "pixels": ((1, 2), rng.normal(3.0, 2.0, (10, 2, 3)), rng.normal(3.0, 2.0, (4, 2, 3))),
        "constant": (-1, constant, constant[:3] + 1.0),
    }
    out = {}
    for case, (axis, data, inputs) in cases.items():
        layer = layers.Normalization(axis=axis)
        layer.adapt(data)
        inverted = layers.Normalization(axis=axis, invert=True)
        inverted.adapt(data)
        out.update(adapt_arrays(case, layer, data, inputs))
        out[f"adapt_{case}_inverted"] = numpy(inverted(inputs))
    layer = layers.Normalization()
    layer.adapt(features)
    layer.adapt(features[:10] * 2.0)  # adapt again: the second data's statistics only
    out.update(adapt_arrays("again", layer, features[:10] * 2.0, features[:3]))
    return out


def adapt_arrays(case, layer, data, inputs):
    out = {f"adapt_{case}_x": data, f"adapt_{case}_input": inputs,
           f"adapt_{case}_output": numpy(layer(inputs)),
           f"adapt_{case}_mean": numpy(layer.mean)}
    for i, weight in enumerate(layer.get_weights()):
        out[f"adapt_{case}_weights_{i}"] = weight
    return out


def given_and_rescaling_cases():
    """Normalization given its statistics, and Rescaling, on fixed inputs."""
    rng = np.random.default_rng(2)
    images = rng.integers(0, 256, (2, 3, 3, 3)).astype(np.uint8)
    cases = {
        "given_scalar": (layers.Normalization(mean=3.0, variance=2.0),
                         np.array([[1.0], [2.0], [3.0]])),
        "given_row": (layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 0.0]),
                      rng.normal(size=(4, 3))),
        "rescaling_unit": (layers.Rescaling(1.0 / 255), images),
        "rescaling_signed": (layers.Rescaling(scale=1 / 127.5, offset=-1), images),
        "rescaling_channels": (layers.Rescaling(scale=np.array([0.5, 1.0, 2.0]),
                                                offset=[0.0, 1.0, -1.0]), images),
    }
    return {key: value for case, (layer, inputs) in cases.items()
            for key, value in ((f"{case}_input", inputs),
                               (f"{case}_output", numpy(layer(inputs))))}


def configs():
    """get_config() of named layers, without the dtype policy, and how many weights each
    has once built."""
    features, _ = auto_mpg_like(40)
    adapted = layers.Normalization(name="norm")
    adapted.adapt(features)
    cases = {
        "adapted": adapted,
        "axis_none_invert": layers.Normalization(axis=None, invert=True, name="norm_none"),
        "pixels": layers.Normalization(axis=(1, 2), name="norm_pixels"),
        "given": layers.Normalization(mean=[1.0, 2.0], variance=[3.0, 4.0], name="given"),
        "given_scalar": layers.Normalization(mean=3, variance=2.5, name="given_scalar"),
        "rescaling": layers.Rescaling(1.0 / 255, name="rescaling"),
        "rescaling_signed": layers.Rescaling(scale=1 / 127.5, offset=-1, name="signed"),
        "rescaling_array": layers.Rescaling(scale=np.array([0.5, 1.0, 2.0]), name="array"),
    }
    result = {}
    for case, layer in cases.items():
        config = layer.get_config()
        config.pop("dtype")
        if not layer.built:
            layer.build((None, 2, 3) if case == "pixels" else (None, 2))
        result[case] = {"config": config, "weights": len(layer.weights)}
    return {"configs": np.array(json.dumps(result))}


def regression_case():
    """The tutorial's model from stored initial weights, trained 4 epochs without
    shuffling; then saved."""
    keras.utils.set_random_seed(3)
    x, y = auto_mpg_like(100, seed=4)
    normalizer = layers.Normalization(axis=-1)
    normalizer.adapt(np.array(x))
    model = keras.Sequential([normalizer, layers.Dense(8, activation="relu"),
                              layers.Dense(8, activation="relu"), layers.Dense(1)])
    model.build((None, x.shape[1]))
    initial = model.get_weights()
    model.compile(loss="mean_absolute_error", optimizer=keras.optimizers.Adam(0.001))
    history = model.fit(x, y, validation_split=0.2, epochs=4, batch_size=16, shuffle=False,
                        verbose=0)
    model.save(FILES["regression"])
    out = {"regression_x": x, "regression_y": y,
           "regression_loss": np.array(history.history["loss"]),
           "regression_val_loss": np.array(history.history["val_loss"]),
           "file_regression_x": x[:7],
           "file_regression_predictions": model.predict(x[:7], verbose=0)}
    for i, (start, end) in enumerate(zip(initial, model.get_weights(), strict=True)):
        out[f"regression_initial_{i}"], out[f"regression_final_{i}"] = start, end
    return out


def tutorial_file():
    """The horsepower model as the tutorial writes it: Normalization(input_shape=[1,],
    axis=None) adapted on a 1-D column, no Input, fit on the 1-D column."""
    keras.utils.set_random_seed(5)
    x, y = auto_mpg_like(64, seed=6)
    horsepower = np.array(x[:, 2])
    normalizer = layers.Normalization(input_shape=[1], axis=None)
    normalizer.adapt(horsepower)
    model = keras.Sequential([normalizer, layers.Dense(units=1)])
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.1),
                  loss="mean_absolute_error")
    model.fit(horsepower, y, epochs=2, verbose=0, validation_split=0.2)
    model.save(FILES["tutorial"])
    test = np.linspace(0.0, 250.0, 11).reshape(-1, 1)
    return {"file_tutorial_x": test,
            "file_tutorial_predictions": model.predict(test, verbose=0)}


def middle_case():
    """Normalization (given statistics) between two Dense layers, trained by SGD: the
    first Dense learns through the layer's backward."""
    keras.utils.set_random_seed(7)
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(32, 3)), rng.normal(size=(32, 1))
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4),
                              layers.Normalization(mean=[0.5, -1.0, 2.0, 0.0],
                                                   variance=[4.0, 0.25, 9.0, 1.0]),
                              layers.Dense(1)])
    initial = model.get_weights()
    model.compile(loss="mse", optimizer=keras.optimizers.SGD(0.05))
    history = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0)
    out = {"middle_x": x, "middle_y": y, "middle_loss": np.array(history.history["loss"])}
    for i, (start, end) in enumerate(zip(initial, model.get_weights(), strict=True)):
        out[f"middle_initial_{i}"], out[f"middle_final_{i}"] = start, end
    return out


def images_case():
    """Rescaling(1/127.5, offset=-1) first, on uint8 images, trained 2 epochs; saved."""
    keras.utils.set_random_seed(9)
    rng = np.random.default_rng(10)
    x = rng.integers(0, 256, (24, 6, 6, 3)).astype(np.uint8)
    y = rng.integers(0, 3, 24)
    model = keras.Sequential([keras.Input((6, 6, 3)), layers.Rescaling(1 / 127.5, offset=-1),
                              layers.Conv2D(2, 3, activation="relu"), layers.Flatten(),
                              layers.Dense(3)])
    initial = model.get_weights()
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    model.save(FILES["images"])
    out = {"images_x": x, "images_y": y, "images_loss": np.array(history.history["loss"]),
           "file_images_x": x[:5], "file_images_predictions": model.predict(x[:5], verbose=0)}
    for i, (start, end) in enumerate(zip(initial, model.get_weights(), strict=True)):
        out[f"images_initial_{i}"], out[f"images_final_{i}"] = start, end
    return out


def main():
    arrays = {}
    for part in (adapt_cases(), given_and_rescaling_cases(), configs(), regression_case(),
                 tutorial_file(), middle_case(), images_case()):
        arrays.update(part)
    arrays["keras_version"] = np.array(keras.__version__)
    arrays["torch_version"] = np.array(torch.__version__)
    tmp = OUT + ".tmp.npz"
    np.savez_compressed(tmp, **arrays)
    os.replace(tmp, OUT)
    print(f"Keras {keras.__version__} ({keras.backend.backend()}) -> {os.path.normpath(OUT)} "
          f"({len(arrays)} arrays, {os.path.getsize(OUT) / 1024:.0f} KB) and "
          f"{', '.join(os.path.basename(path) for path in FILES.values())}")


if __name__ == "__main__":
    sys.exit(main())
