"""Make tests/data/keras_guides_reference.npz: Keras 3 on three patterns of the Keras guides
("Transfer learning & fine-tuning", "Training & evaluation with the built-in methods") that
tinynet once got wrong.

    x, y, labels, weights      fixed data (64, 5), regression targets (64, 1), class labels
                               (64,), sample weights (64,)
    start                      the starting weights of the classifier (get_weights order)
    recompile_loss             fit's loss, 1 epoch before and 1 after compiling again with the
                               same Adam object (and a metric added), then 1 more epoch after
                               compiling with model.optimizer and freezing the first layer
    recompile_iterations       the optimizer's step count at the end (12)
    recompile_weights_<i>      the weights at the end
    after_<how>_iterations     a new classifier, after `how` (evaluate or predict), given the
    after_<how>_loss           weights file of one trained 2 epochs (Adam 0.01): its step
                               count, and the loss of 1 more epoch (evaluate builds the
                               optimizer, so the file's optimizer state is restored)
    keepdims_loss              2 epochs of fit with a loss of your own whose call returns
                               (N, 1) (a mean with keepdims=True), with sample weights
    keepdims_weights_<i>       the weights after it
    scalar_loss                2 epochs of fit with a loss whose call returns one number for
                               the batch (the older guide's CustomMSE), without weights
    loop_*                     a training loop of your own (Dense(4, tanh), Dense(1), MSE,
                               its own Adam(0.05)): data, starting and final weights, step
                               count, with the first layer frozen for steps 2 and 3 of 6
    per_image[_weighted]_loss  2 epochs of a 1x1 Conv2D (kernel of ones) on images (8, 4, 4, 2),
    per_image[_weighted]_kernel targets (8, 4, 4, 3), with a loss whose call returns one value
                               per image (N,), without and with sample weights 0..7 (SGD 0.01,
                               batch 4); and the kernel after it
The classifier: Dense(8, relu), BatchNormalization, Dense(3, softmax); the regression model:
Dense(4, relu), Dense(1). Batches of 16, shuffle=False.

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_guides_reference.py
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras_guides_reference.npz")


class KeepdimsMSE(keras.losses.Loss):
    def call(self, y_true, y_pred):
        return ops.mean(ops.square(y_true - y_pred), axis=-1, keepdims=True)


class PerImageMSE(keras.losses.Loss):  # one value per image, for outputs (N, H, W, K)
    def call(self, y_true, y_pred):
        return ops.mean(ops.square(y_true - y_pred), axis=(1, 2, 3))


class ScalarMSE(keras.losses.Loss):  # the older guide's CustomMSE: reduce_mean, no axis
    def call(self, y_true, y_pred):
        return ops.mean(ops.square(y_true - y_pred)) + 0.1 * ops.mean(ops.square(0.5 - y_pred))


def start_of(out, prefix):
    return [out[f"{prefix}_{i}"] for i in range(8)]


def classifier(start):
    model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.BatchNormalization(),
                              keras.layers.Dense(3, activation="softmax")])
    model.set_weights(start)
    return model


def regression(start):
    model = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1)])
    model.set_weights(start)
    return model


def main():
    rng = np.random.default_rng(11)
    out = {"x": rng.normal(size=(64, 5)).astype(np.float32),
           "y": rng.normal(size=(64, 1)).astype(np.float32),
           "labels": rng.integers(0, 3, size=64),
           "weights": rng.uniform(0.2, 2.0, size=64).astype(np.float32)}
    x, fit = out["x"], {"batch_size": 16, "shuffle": False, "verbose": 0}
    keras.utils.set_random_seed(0)
    start = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(8),
                              keras.layers.BatchNormalization(),
                              keras.layers.Dense(3)]).get_weights()
    out.update({f"start_{i}": w for i, w in enumerate(start)})

    model = classifier(start)
    adam = keras.optimizers.Adam(0.01)
    model.compile(optimizer=adam, loss="sparse_categorical_crossentropy")
    losses = model.fit(x, out["labels"], epochs=1, **fit).history["loss"]
    model.compile(optimizer=adam, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    losses += model.fit(x, out["labels"], epochs=1, **fit).history["loss"]
    model.layers[0].trainable = False
    model.compile(optimizer=model.optimizer, loss="sparse_categorical_crossentropy")
    losses += model.fit(x, out["labels"], epochs=1, **fit).history["loss"]
    out["recompile_loss"] = np.array(losses)
    out["recompile_iterations"] = np.array(int(model.optimizer.iterations))
    out.update({f"recompile_weights_{i}": w for i, w in enumerate(model.get_weights())})

    keras.utils.set_random_seed(1)
    start = keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(4),
                              keras.layers.Dense(1)]).get_weights()
    out.update({f"regression_start_{i}": w for i, w in enumerate(start)})
    model = regression(start)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss=KeepdimsMSE())
    out["keepdims_loss"] = np.array(model.fit(x, out["y"], sample_weight=out["weights"],
                                              epochs=2, **fit).history["loss"])
    out.update({f"keepdims_weights_{i}": w for i, w in enumerate(model.get_weights())})
    model = regression(start)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss=ScalarMSE())
    out["scalar_loss"] = np.array(model.fit(x, out["y"], epochs=2, **fit).history["loss"])
    out.update({f"scalar_weights_{i}": w for i, w in enumerate(model.get_weights())})

    # TensorFlow's "Save and load models": a new model evaluated, then given the weights file
    # of a trained one; Keras's evaluate builds the optimizer, so load_weights restores its
    # state too, and training goes on as the trained model would
    import tempfile

    path = os.path.join(tempfile.mkdtemp(), "trained.weights.h5")
    model = classifier(start_of(out, "start"))
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    model.fit(x, out["labels"], epochs=2, **fit)
    model.save_weights(path)
    for how in ("evaluate", "predict"):
        again = classifier(start_of(out, "start"))
        again.compile(optimizer=keras.optimizers.Adam(0.01),
                      loss="sparse_categorical_crossentropy")
        getattr(again, how)(x, **({"y": out["labels"]} if how == "evaluate" else {}),
                            verbose=0)
        again.load_weights(path)
        out[f"after_{how}_iterations"] = np.array(int(again.optimizer.iterations))
        out[f"after_{how}_loss"] = np.array(again.fit(x, out["labels"], epochs=1,
                                                      **fit).history["loss"])

    # a loss of your own that gives one value per image, for outputs per pixel (a Dice-like
    # loss): fit without and with one weight per image
    rng_images = np.random.default_rng(0)
    out["images"] = rng_images.normal(size=(8, 4, 4, 2)).astype(np.float32)
    out["image_targets"] = rng_images.normal(size=(8, 4, 4, 3)).astype(np.float32)
    out["image_weights"] = np.arange(8, dtype=np.float32)
    for weighted in (False, True):
        model = keras.Sequential([keras.Input(shape=(4, 4, 2)),
                                  keras.layers.Conv2D(3, 1, kernel_initializer="ones")])
        model.compile(optimizer=keras.optimizers.SGD(0.01), loss=PerImageMSE())
        history = model.fit(out["images"], out["image_targets"], epochs=2, verbose=0,
                            shuffle=False, batch_size=4,
                            sample_weight=out["image_weights"] if weighted else None)
        key = "per_image_weighted" if weighted else "per_image"
        out[f"{key}_loss"] = np.array(history.history["loss"])
        out[f"{key}_kernel"] = model.get_weights()[0]

    # "Writing a training loop from scratch": an optimizer of its own, a layer frozen at step
    # 2 and unfrozen at step 4; Keras keeps the optimizer's state per weight through it
    import torch

    rng_loop = np.random.default_rng(21)
    out["loop_x"] = rng_loop.normal(size=(16, 3)).astype(np.float32)
    out["loop_y"] = rng_loop.normal(size=(16, 1)).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(1)])
    out.update({f"loop_start_{i}": w for i, w in enumerate(model.get_weights())})
    optimizer, loss_fn = keras.optimizers.Adam(0.05), keras.losses.MeanSquaredError()
    for step in range(6):
        model.layers[0].trainable = not 2 <= step < 4
        loss = loss_fn(out["loop_y"], model(out["loop_x"], training=True))
        model.zero_grad()
        loss.backward()
        with torch.no_grad():
            optimizer.apply([w.value.grad for w in model.trainable_weights],
                            model.trainable_weights)
    out.update({f"loop_final_{i}": w for i, w in enumerate(model.get_weights())})
    out["loop_iterations"] = np.array(int(optimizer.iterations))
    np.savez(OUT, **out)
    print(f"wrote {OUT} (Keras {keras.__version__})")


if __name__ == "__main__":
    main()
