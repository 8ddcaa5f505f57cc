"""Make the Keras 3 files of models with a model inside (tests/test_saving_nested.py):

    keras_nested.keras             the transfer-learning shape: base = Sequential([Input,
                                   Conv2D(6, 3, use_bias=False), BatchNormalization,
                                   MaxPooling2D], name='base') inside Sequential([Input,
                                   base, GlobalAveragePooling2D, Dense(5)]), Adam, trained
                                   3 steps
    keras_nested_frozen.keras      two levels and a frozen base: Dense(6), then
                                   b1 = [b0 = [Dense(5), BatchNormalization] (frozen),
                                   Dense(4, relu)], then Dense(3); SGD with momentum, trained
                                   3 steps
    keras_nested_clipnorm.keras    [Dense(4, relu)] inside [.., Dense(2)], Adam(clipnorm=1.0)
    keras_nested_variable.keras    Input(shape=(None, None, 3)): [Conv2D(4, 3, relu)] inside
                                   [.., GlobalAveragePooling2D, Dense(2)], not trained
    keras_nested_functional.keras  a functional model (keras.Model(inputs, outputs)) inside
    keras_nested_reference.npz     what Keras computes with them:
        <case>_x, <case>_y          a batch and its targets (case: nested, frozen)
        <case>_saved_predict       predictions of the saved model on <case>_x
        <case>_losses              the losses of 3 more train_on_batch steps after saving
        <case>_after               the weights after them, in get_weights() order, each
                                   flattened, one after another
        <case>_after_predict       predictions after them
        <case>_optimizer_paths     Keras's optimizer variables, in order (their paths)
        <case>_h5_groups           the groups of model.save_weights('x.weights.h5'), which
                                   are the groups of the .keras file's model.weights.h5
        variable_x, variable_predict   8x8 images and Keras's predictions for them
        optimizer_configs          JSON: {label: keras.optimizers.serialize(optimizer)} for
                                   settings tinynet lacks, on and off
        keras_version

The .keras files are stored by Keras uncompressed (HDF5 pads its file with zeros); the
script deflates the zip members, which keeps each file a few KB, and checks that Keras loads
the deflated file with the same predictions.

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_nested_reference.py
"""

import io
import json
import os
import tempfile
import zipfile

os.environ.setdefault("KERAS_BACKEND", "torch")

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "keras_nested_reference.npz")


def deflate(path):
    """Rewrite a .keras file with its members deflated (Keras stores them)."""
    with zipfile.ZipFile(path) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def h5_groups(data):
    with h5py.File(io.BytesIO(data), "r") as h5_file:
        names = []
        h5_file.visit(names.append)
    return sorted(names)


def save(model, name, x, out):
    """Save as tests/data/<name>.keras (deflated); check that Keras loads it with the same
    predictions and that save_weights writes the same groups as the file's weights."""
    path = os.path.join(HERE, f"{name}.keras")
    model.save(path)
    deflate(path)
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with tempfile.TemporaryDirectory() as folder:
        weights_path = os.path.join(folder, "x.weights.h5")
        model.save_weights(weights_path)
        with open(weights_path, "rb") as file:
            saved_weights = h5_groups(file.read())
    with zipfile.ZipFile(path) as archive:
        assert h5_groups(archive.read("model.weights.h5")) == saved_weights
    print("wrote", path, os.path.getsize(path), "bytes")
    return saved_weights


def quarters(rng, shape):
    """Normal numbers rounded to quarters: exact in float32, and they compress well."""
    return (np.round(rng.normal(size=shape) * 4) / 4).astype(np.float32)


def train_save_train(case, model, optimizer, rng, out):
    """3 steps, save, 3 more steps: what continued training after loading must give."""
    x, y = quarters(rng, (8, *model.input_shape[1:])), quarters(rng, (8, model.output_shape[-1]))
    model.compile(optimizer=optimizer, loss="mse")
    for _ in range(3):
        model.train_on_batch(x, y)
    out[f"{case}_x"], out[f"{case}_y"] = x, y
    out[f"{case}_saved_predict"] = model.predict(x, verbose=0)
    out[f"{case}_h5_groups"] = np.array(save(model, f"keras_{case}" if case == "nested"
                                             else f"keras_nested_{case}", x, out))
    out[f"{case}_optimizer_paths"] = np.array([v.path for v in model.optimizer.variables])
    out[f"{case}_losses"] = np.array([float(model.train_on_batch(x, y)) for _ in range(3)])
    out[f"{case}_after"] = np.concatenate([w.ravel() for w in model.get_weights()])
    out[f"{case}_after_predict"] = model.predict(x, verbose=0)


def nested_case(rng, out):
    # no bias before BatchNormalization: its true gradient is 0, and Adam would turn each
    # library's round-off in it into whole steps, which differ
    base = keras.Sequential([keras.Input((10, 10, 3)), layers.Conv2D(6, 3, use_bias=False),
                             layers.BatchNormalization(), layers.MaxPooling2D()], name="base")
    model = keras.Sequential([keras.Input((10, 10, 3)), base,
                              layers.GlobalAveragePooling2D(), layers.Dense(5)])
    train_save_train("nested", model, keras.optimizers.Adam(0.01), rng, out)


def frozen_case(rng, out):
    b0 = keras.Sequential([keras.Input((6,)), layers.Dense(5), layers.BatchNormalization()],
                          name="b0")
    b0.trainable = False
    b1 = keras.Sequential([keras.Input((6,)), b0, layers.Dense(4, activation="relu")],
                          name="b1")
    model = keras.Sequential([keras.Input((4,)), layers.Dense(6), b1, layers.Dense(3)],
                             name="top")
    train_save_train("frozen", model, keras.optimizers.SGD(0.05, momentum=0.9), rng, out)


def other_files(rng, out):
    inner = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="relu")],
                             name="inner")
    clipped = keras.Sequential([keras.Input((3,)), inner, layers.Dense(2)])
    clipped.compile(optimizer=keras.optimizers.Adam(1e-3, clipnorm=1.0), loss="mse")
    x = quarters(rng, (4, 3))
    clipped.train_on_batch(x, np.zeros((4, 2), np.float32))
    save(clipped, "keras_nested_clipnorm", x, out)

    features = keras.Sequential([keras.Input((None, None, 3)),
                                 layers.Conv2D(4, 3, activation="relu")], name="features")
    variable = keras.Sequential([keras.Input((None, None, 3)), features,
                                 layers.GlobalAveragePooling2D(), layers.Dense(2)])
    out["variable_x"] = quarters(rng, (2, 8, 8, 3))
    out["variable_predict"] = variable.predict(out["variable_x"], verbose=0)
    save(variable, "keras_nested_variable", out["variable_x"], out)

    inputs = keras.Input((3,))
    functional = keras.Model(inputs, layers.Dense(4)(inputs), name="block")
    outer = keras.Sequential([keras.Input((3,)), functional, layers.Dense(1)])
    save(outer, "keras_nested_functional", x, out)

    # two inner models left with their default names, side by side, weights file only
    first = keras.Sequential([keras.Input((3,)), layers.Dense(4, name="a")])
    second = keras.Sequential([keras.Input((4,)), layers.Dense(2, name="b")])
    two = keras.Sequential([keras.Input((3,)), first, second, layers.Dense(1, name="c")])
    two.save_weights(os.path.join(HERE, "keras_nested_two.weights.h5"))
    out["two_x"] = x
    out["two_predict"] = two.predict(x, verbose=0)


OPTIMIZERS = {
    "adam_clipnorm": lambda: keras.optimizers.Adam(1e-3, clipnorm=1.0),
    "adam_clipvalue": lambda: keras.optimizers.Adam(1e-3, clipvalue=0.5),
    "rmsprop_global_clipnorm": lambda: keras.optimizers.RMSprop(1e-3, global_clipnorm=1.0),
    "adam_use_ema": lambda: keras.optimizers.Adam(1e-3, use_ema=True),
    "sgd_weight_decay": lambda: keras.optimizers.SGD(0.01, weight_decay=1e-4),
    "adam_weight_decay": lambda: keras.optimizers.Adam(1e-3, weight_decay=1e-4),
    "adam_accumulation": lambda: keras.optimizers.Adam(1e-3, gradient_accumulation_steps=2),
    "sgd_off": lambda: keras.optimizers.SGD(0.01, clipnorm=None, use_ema=False,
                                           ema_momentum=0.5, weight_decay=None),
    "adam_weight_decay_0": lambda: keras.optimizers.Adam(1e-3, weight_decay=0.0),
    "adamw": lambda: keras.optimizers.AdamW(1e-3, weight_decay=0.01),
}


def main():
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    out = {"keras_version": keras.__version__}
    nested_case(rng, out)
    frozen_case(rng, out)
    other_files(rng, out)
    configs = {label: keras.optimizers.serialize(make()) for label, make in OPTIMIZERS.items()}
    out["optimizer_configs"] = np.array(json.dumps(configs))
    np.savez_compressed(OUT, **out)
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
