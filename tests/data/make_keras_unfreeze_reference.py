"""Make tests/data/keras_unfreeze_reference.npz: Keras 3's weights after training with some
layers frozen for a while and then unfrozen, without compiling again, for three optimizers.
Keras keeps each weight's optimizer state (momentum, Adam's m and v) while it is frozen and
uses it again when it is unfrozen.

The model, from fixed weights: Dense(4, use_bias=False) -> BatchNormalization -> ReLU ->
Dense(1), mse loss. (A bias before BN has a true gradient of 0, so Adam and RMSprop would
turn each library's round-off in it into whole steps, which differ.)
Steps (train_on_batch on one fixed batch): 2 with everything trainable, 2 with the Dense(4)
and BatchNormalization layers frozen (trainable = False), 2 with them unfrozen again.

    x, y                      the batch (8, 3) and its targets (8, 1)
    w0_<i>                    the starting weights, in get_weights() order
    <optimizer>_losses        the 6 losses train_on_batch returned
    <optimizer>_w_<i>         the weights after the 6 steps
    keras_version

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_unfreeze_reference.py
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras_unfreeze_reference.npz")
OPTIMIZERS = {
    "sgd_momentum": lambda: keras.optimizers.SGD(0.1, momentum=0.9),
    "adam": lambda: keras.optimizers.Adam(0.01),
    "rmsprop": lambda: keras.optimizers.RMSprop(0.01, momentum=0.5),
}


def main():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(8, 3)).astype(np.float32)
    y = rng.normal(size=(8, 1)).astype(np.float32)
    start = None
    out = {"x": x, "y": y, "keras_version": keras.__version__}
    for name, make in OPTIMIZERS.items():
        model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4, use_bias=False),
                                  keras.layers.BatchNormalization(),
                                  keras.layers.Activation("relu"), keras.layers.Dense(1)])
        if start is None:
            start = [rng.normal(scale=0.5, size=w.shape).astype(np.float32)
                     if i != 4 else np.abs(rng.normal(size=w.shape)).astype(np.float32)
                     for i, w in enumerate(model.get_weights())]
            out.update({f"w0_{i}": w for i, w in enumerate(start)})
        model.set_weights(start)
        model.compile(optimizer=make(), loss="mse")
        losses = []
        for trainable in (True, True, False, False, True, True):
            model.layers[0].trainable = model.layers[1].trainable = trainable
            losses.append(float(model.train_on_batch(x, y)))
        out[f"{name}_losses"] = np.array(losses)
        out.update({f"{name}_w_{i}": w for i, w in enumerate(model.get_weights())})
    np.savez(OUT, **out)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
