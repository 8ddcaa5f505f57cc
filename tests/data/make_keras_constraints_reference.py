"""Make tests/data/keras_constraints_reference.npz: Keras 3's weight constraints, applied after
each optimizer update, on small models trained from fixed weights.

    x, y                        fixed data: x (32, 6), y (32, 1) of 0/1
    images, labels              fixed data for the convolution case: (16, 5, 5, 2), (16,)
    <case>_start_<i>            the model's weights before training, in get_weights() order
    <case>_end_<i>              its weights after fit (2 epochs, batch 8, shuffle=False, SGD
                                with learning rate 0.5 and momentum 0.9: large steps, so that
                                the constraints are active)
    <case>_loss                 fit's loss per epoch
    <case>_configs              each layer's get_config() as JSON (the constraints' entries)
    direct_<name>_in/_out       each constraint called on a fixed (4, 3) array

with the cases
    dense   Dense(8, relu, kernel_constraint=MaxNorm(1.5), bias_constraint=NonNeg()),
            BatchNormalization(gamma_constraint=MinMaxNorm(0.5, 1.0, rate=0.5),
            beta_constraint=UnitNorm()), Dense(1, sigmoid, kernel_constraint=UnitNorm())
    conv    Conv2D(3, 3, relu, kernel_constraint=MaxNorm(0.8, axis=[0, 1, 2])),
            GroupNormalization(groups=3, gamma_constraint=NonNeg()), Flatten(),
            Dense(2, softmax, kernel_constraint=max_norm(2.0)) on sparse labels
    layer   LayerNormalization(gamma_constraint=MaxNorm(1.0), beta_constraint=NonNeg())
            before a Dense(1, sigmoid)

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_constraints_reference.py
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "keras_constraints_reference.npz")
C = keras.constraints


def models():
    """case -> (model, loss, data names)."""
    dense = keras.Sequential([
        keras.Input(shape=(6,)),
        keras.layers.Dense(8, activation="relu", kernel_constraint=C.MaxNorm(1.5),
                           bias_constraint=C.NonNeg()),
        keras.layers.BatchNormalization(gamma_constraint=C.MinMaxNorm(0.5, 1.0, rate=0.5),
                                        beta_constraint=C.UnitNorm()),
        keras.layers.Dense(1, activation="sigmoid", kernel_constraint=C.UnitNorm())])
    conv = keras.Sequential([
        keras.Input(shape=(5, 5, 2)),
        keras.layers.Conv2D(3, 3, activation="relu",
                            kernel_constraint=C.MaxNorm(0.8, axis=[0, 1, 2])),
        keras.layers.GroupNormalization(groups=3, gamma_constraint=C.NonNeg()),
        keras.layers.Flatten(),
        keras.layers.Dense(2, activation="softmax", kernel_constraint=C.max_norm(2.0))])
    layer = keras.Sequential([
        keras.Input(shape=(6,)),
        keras.layers.LayerNormalization(gamma_constraint=C.MaxNorm(1.0),
                                        beta_constraint=C.NonNeg()),
        keras.layers.Dense(1, activation="sigmoid")])
    return {"dense": (dense, "binary_crossentropy", ("x", "y")),
            "conv": (conv, "sparse_categorical_crossentropy", ("images", "labels")),
            "layer": (layer, "binary_crossentropy", ("x", "y"))}


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(5)
    data = {"x": rng.normal(size=(32, 6)).astype(np.float32),
            "images": rng.normal(size=(16, 5, 5, 2)).astype(np.float32),
            "labels": rng.integers(0, 2, size=16)}
    data["y"] = (data["x"][:, :1] + data["x"][:, 1:2] > 0).astype(np.float32)
    out = dict(data)
    for case, (model, loss, (x, y)) in models().items():
        start = [w * 2.0 for w in model.get_weights()]  # large: the constraints bite at once
        model.set_weights(start)
        model.compile(optimizer=keras.optimizers.SGD(0.5, momentum=0.9), loss=loss)
        history = model.fit(data[x], data[y], batch_size=8, epochs=2, shuffle=False, verbose=0)
        for i, w in enumerate(start):
            out[f"{case}_start_{i}"] = w
        for i, w in enumerate(model.get_weights()):
            out[f"{case}_end_{i}"] = w
        out[f"{case}_loss"] = np.array(history.history["loss"])
        out[f"{case}_configs"] = np.array(json.dumps([layer.get_config()
                                                      for layer in model.layers]))
    w = np.linspace(-1.5, 2.0, 12, dtype=np.float32).reshape(4, 3)
    direct = {"max_norm": C.MaxNorm(1.0), "max_norm_axis1": C.MaxNorm(2.0, axis=1),
              "min_max_norm": C.MinMaxNorm(1.0, 1.5, rate=0.7), "unit_norm": C.UnitNorm(),
              "non_neg": C.NonNeg()}
    out["direct_in"] = w
    for name, constraint in direct.items():
        out[f"direct_{name}"] = keras.ops.convert_to_numpy(constraint(w))
    np.savez(OUT, **out)
    print(f"wrote {OUT} (Keras {keras.__version__})")


if __name__ == "__main__":
    main()
