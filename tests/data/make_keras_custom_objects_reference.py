"""Make tests/data/keras_custom_objects.keras and keras_custom_objects_reference.npz: a model
compiled by Keras 3 with a loss and a metric of your own (the shapes of the guide "Training &
evaluation with the built-in methods": a CustomMSE with a regularization_factor in its config,
a metric class counting true positives, and a metric function), trained one epoch and saved.

    x, y            fixed data (16, 3) and targets (16, 1)
    evaluate        evaluate's logs after loading, in the order of `names`
    names           ['loss', 'positives', 'my_mae'] as Keras logs them (see the script)

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_custom_objects_reference.py
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import ops  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


class CustomMSE(keras.losses.Loss):
    def __init__(self, regularization_factor=0.1, name="custom_mse"):
        super().__init__(name=name)
        self.regularization_factor = regularization_factor

    def call(self, y_true, y_pred):
        mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
        reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
        return mse + reg * self.regularization_factor

    def get_config(self):
        return {"regularization_factor": self.regularization_factor, "name": self.name}


class Positives(keras.metrics.Metric):
    """How many predictions are above 0.5, over the epoch."""

    def __init__(self, name="positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.count = self.add_variable(shape=(), name="count", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.count.assign_add(ops.sum(ops.cast(y_pred > 0.5, "float32")))

    def result(self):
        return self.count + 0.0

    def reset_state(self):
        self.count.assign(0.0)


def my_mae(y_true, y_pred):
    return ops.mean(ops.abs(y_true - y_pred), axis=-1)


def main():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(16, 3)).astype(np.float32)
    y = rng.uniform(size=(16, 1)).astype(np.float32)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss=CustomMSE(regularization_factor=0.3),
                  metrics=[Positives(), my_mae])
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    path = os.path.join(HERE, "keras_custom_objects.keras")
    model.save(path)
    loaded = keras.saving.load_model(path, custom_objects={
        "CustomMSE": CustomMSE, "Positives": Positives, "my_mae": my_mae})
    logs = loaded.evaluate(x, y, batch_size=16, verbose=0, return_dict=True)
    np.savez(os.path.join(HERE, "keras_custom_objects_reference.npz"), x=x, y=y,
             names=np.array(list(logs)), evaluate=np.array([float(v) for v in logs.values()]))
    print(f"wrote {path} and its reference (Keras {keras.__version__}): {logs}")


if __name__ == "__main__":
    main()
