"""Make tests/data/keras_model_reference.npz: what Keras 3 does with the model-level options
Keras users write (freezing, sample and class weights, regularizers, initial_epoch,
validation_freq, stateful metrics in fit). tests/test_keras_model_features.py replays each case
in tinynet from the same data and starting weights.

Every case trains with shuffle=False, so both libraries see the same batches. Keys are
'<case>_<what>': initial_NN / final_NN weights in get_weights() order, history_<metric>
lists, and the case's own numbers (see each function).

How to run it (Keras and PyTorch in a venv outside the repo; no TensorFlow needed):

    python -m venv /tmp/kvenv
    /tmp/kvenv/bin/pip install "keras>=3" torch
    /tmp/kvenv/bin/pip install -e . --no-deps
    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_model_reference.py
"""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras_model_reference.npz")
RESULTS = {}


def data(n, features, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] - 0.3 * x[:, 2] + rng.normal(0, 0.5, n) > 0)
    return x, y.astype(np.float32).reshape(-1, 1)


def random_weights(model, seed):
    """Random values for every weight (moving statistics too, so that they matter)."""
    rng = np.random.default_rng(seed)
    weights = []
    for variable in model.weights:
        shape, name = tuple(variable.shape), variable.path.split("/")[-1]
        if name == "kernel":
            value = rng.uniform(-1, 1, size=shape) * np.sqrt(6.0 / sum(shape))
        elif name in ("gamma", "moving_variance"):
            value = rng.uniform(0.5, 1.5, size=shape)
        else:
            value = rng.normal(0.0, 0.1, size=shape)
        weights.append(value.astype(np.float32))
    return weights


def small_model(features, use_bias=True, **bn_args):
    return keras.models.Sequential([
        keras.Input(shape=(features,)),
        keras.layers.Dense(4, use_bias=use_bias),
        keras.layers.BatchNormalization(**bn_args),
        keras.layers.Activation("relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])


def record(case, model, initial, history=None):
    for i, w in enumerate(initial):
        RESULTS[f"{case}_initial_{i:02d}"] = w
    for i, w in enumerate(model.get_weights()):
        RESULTS[f"{case}_final_{i:02d}"] = w
    if history is not None:
        for key, values in history.history.items():
            RESULTS[f"{case}_history_{key}"] = np.array(values, dtype=np.float64)
        RESULTS[f"{case}_epochs"] = np.array(history.epoch)


def frozen():
    """The issue's minimal case: freeze the first Dense and the BN, SGD(0.1), two epochs."""
    x, y = data(64, 5, seed=1)
    model = small_model(5)
    initial = random_weights(model, seed=2)
    model.set_weights(initial)
    model.layers[0].trainable = False
    model.layers[1].trainable = False
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    record("frozen", model, initial, history)
    trainable = sum(int(np.prod(v.shape)) for v in model.trainable_weights)
    RESULTS["frozen_trainable_params"] = np.array(trainable)
    RESULTS["frozen_total_params"] = np.array(model.count_params())


def frozen_after_compile():
    """trainable=False set AFTER compile, then fit without compiling again."""
    x, y = data(64, 5, seed=3)
    model = small_model(5)
    initial = random_weights(model, seed=4)
    model.set_weights(initial)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    model.layers[0].trainable = False
    model.layers[1].trainable = False
    history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    record("late_freeze", model, initial, history)


def weighted(case, **fit_args):
    x, y = data(80, 6, seed=5)
    # no bias before BN (the paper's choice): its exact gradient is 0, and Adam would move it
    # by steps of about the learning rate driven by round-off, which no two libraries share
    model = small_model(6, use_bias=False)
    initial = random_weights(model, seed=6)
    model.set_weights(initial)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    if fit_args.get("sample_weight") == "random":
        fit_args["sample_weight"] = np.random.default_rng(7).uniform(0, 2, 80).astype("f4")
        RESULTS[f"{case}_sample_weight"] = fit_args["sample_weight"]
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, **fit_args)
    record(case, model, initial, history)
    w = np.linspace(0.5, 1.5, 80).astype(np.float32)
    result = model.evaluate(x, y, sample_weight=w, batch_size=32, verbose=0,
                            return_dict=True)
    RESULTS[f"{case}_evaluate_weighted"] = np.array([result["loss"], result["accuracy"]])


def regularized():
    x, y = data(64, 5, seed=8)
    model = keras.models.Sequential([
        keras.Input(shape=(5,)),
        keras.layers.Dense(4, kernel_regularizer=keras.regularizers.l2(0.01),
                           bias_regularizer=keras.regularizers.l1(0.02)),
        keras.layers.BatchNormalization(gamma_regularizer=keras.regularizers.l2(0.005),
                                        beta_regularizer=keras.regularizers.l1_l2(0.01, 0.01)),
        keras.layers.Activation("relu"),
        keras.layers.Dense(1, activation="sigmoid",
                           kernel_regularizer=keras.regularizers.l1(0.01)),
    ])
    initial = random_weights(model, seed=9)
    model.set_weights(initial)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    record("regularized", model, initial, history)
    RESULTS["regularized_evaluate"] = np.array(model.evaluate(x, y, verbose=0))


def schedule_of_epochs():
    """initial_epoch=1, epochs=4, validation every 2nd epoch."""
    x, y = data(64, 5, seed=10)
    model = small_model(5)
    initial = random_weights(model, seed=11)
    model.set_weights(initial)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="binary_crossentropy")
    history = model.fit(x[:48], y[:48], batch_size=16, epochs=4, initial_epoch=1,
                        validation_data=(x[48:], y[48:]), validation_freq=2, shuffle=False,
                        verbose=0)
    record("epochs", model, initial, history)
    RESULTS["epochs_val_loss_count"] = np.array(len(history.history.get("val_loss", [])))


def stateful_metrics():
    """Precision, recall and AUC accumulate over an epoch; they are not batch means."""
    x, y = data(96, 5, seed=12)
    model = small_model(5)
    initial = random_weights(model, seed=13)
    model.set_weights(initial)
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="binary_crossentropy",
                  metrics=["accuracy", "precision", "recall", "auc", "mae"])
    history = model.fit(x, y, batch_size=20, epochs=2, shuffle=False, verbose=0)
    record("metrics", model, initial, history)
    result = model.evaluate(x, y, batch_size=20, verbose=0, return_dict=True)
    RESULTS["metrics_evaluate_names"] = np.array(sorted(result))
    RESULTS["metrics_evaluate_values"] = np.array([result[k] for k in sorted(result)])


def main():
    keras.utils.set_random_seed(0)
    frozen()
    frozen_after_compile()
    weighted("sample_weight", sample_weight="random")
    weighted("class_weight", class_weight={0: 1.0, 1: 3.0})
    regularized()
    schedule_of_epochs()
    stateful_metrics()
    RESULTS["keras_version"] = np.array(keras.__version__)
    np.savez(OUT, **RESULTS)
    print(f"wrote {OUT} ({len(RESULTS)} arrays) with Keras {keras.__version__}")


if __name__ == "__main__":
    main()
