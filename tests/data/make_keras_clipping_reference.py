"""Make tests/data/keras_clipping_reference.npz: Keras 3's gradient clipping (clipnorm,
clipvalue, global_clipnorm) in fit, on a regression whose unscaled targets give large
gradients (the exploding-gradients setting of Machine Learning Mastery's tutorial).

    x, y                   fixed data: x (40, 5), y (40, 1) of scale 100
    start_<i>              the model's weights before training (get_weights() order)
    <case>_end_<i>         the weights after fit (2 epochs, batch 10, shuffle=False)
    <case>_loss            fit's loss per epoch
    <case>_config          the optimizer's get_config() as JSON
    by_hand_<i>            the weights after one optimizer.apply_gradients(zip(grads,
                           weights)) by SGD(0.1, clipnorm=1.0) from start, with the fixed
                           gradients by_hand_grad_<i> (one clipped per weight)

with the cases (optimizer)
    clipnorm        SGD(0.01, momentum=0.9, clipnorm=1.0)
    clipvalue       Adam(0.05, clipvalue=0.5)
    global_clipnorm RMSprop(0.01, global_clipnorm=1.0)
on Dense(8, relu, input 5) -> Dense(1) with mean squared error.

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_clipping_reference.py
"""

import json
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras_clipping_reference.npz")

CASES = {
    "clipnorm": lambda: keras.optimizers.SGD(0.01, momentum=0.9, clipnorm=1.0),
    "clipvalue": lambda: keras.optimizers.Adam(0.05, clipvalue=0.5),
    "global_clipnorm": lambda: keras.optimizers.RMSprop(0.01, global_clipnorm=1.0),
}


def model():
    return keras.Sequential([keras.Input(shape=(5,)), keras.layers.Dense(8, activation="relu"),
                             keras.layers.Dense(1)])


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(40, 5)).astype(np.float32)
    y = (100.0 * (x @ rng.normal(size=(5, 1)))).astype(np.float32)
    start = model().get_weights()
    out = {"x": x, "y": y, **{f"start_{i}": w for i, w in enumerate(start)}}
    for case, make in CASES.items():
        net = model()
        net.set_weights(start)
        net.compile(optimizer=make(), loss="mse")
        history = net.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0)
        out[f"{case}_loss"] = np.array(history.history["loss"])
        out[f"{case}_config"] = np.array(json.dumps(net.optimizer.get_config(),
                                                    default=float))
        for i, w in enumerate(net.get_weights()):
            out[f"{case}_end_{i}"] = w
    net = model()
    net.set_weights(start)
    grads = [rng.normal(scale=s, size=w.shape).astype(np.float32)
             for s, w in zip([5.0, 0.1, 3.0, 0.2], start, strict=True)]
    optimizer = keras.optimizers.SGD(0.1, clipnorm=1.0)
    optimizer.apply_gradients(zip(grads, net.trainable_weights, strict=True))
    for i, (grad, w) in enumerate(zip(grads, net.get_weights(), strict=True)):
        out[f"by_hand_grad_{i}"], out[f"by_hand_{i}"] = grad, w
    np.savez(OUT, **out)
    print(f"wrote {OUT} (Keras {keras.__version__})")


if __name__ == "__main__":
    main()
