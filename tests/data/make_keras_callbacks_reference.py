"""Make tests/data/keras_callbacks_reference.json: what Keras 3's callbacks and schedules do.

tests/test_callbacks.py, tests/test_schedules.py and tests/test_progress.py replay these
answers against tinynet. Most callbacks only react to the logs of each epoch, so instead of a
whole training run, Keras's own callbacks are driven here with a fixed sequence of logs (the
way fit would call them) on a one-weight Keras model, and what they did is written down:

    early_stopping    per case: the epochs run, the epoch restored, what was printed
    reduce_lr         per case: the learning rate logged at each epoch, what was printed
    lr_scheduler      the learning rate set at each epoch, what was printed
    checkpoint        per case: the files ModelCheckpoint left behind, what was printed
    csv_logger        per case: the CSV file's text
    schedules         per schedule: its config and its value at steps 0..STEPS-1
    schedule_in_sgd   a real fit with SGD and a schedule: the learning rate each update used
    progress          fit's printed output at verbose=1 and verbose=2, and evaluate's

How to run it (Keras and PyTorch in a venv outside the repo; no TensorFlow needed):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_callbacks_reference.py
"""

import contextlib
import io
import json
import os
import tempfile
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                   "keras_callbacks_reference.json")
STEPS = 25

# the values a callback watches, epoch after epoch: a fall, a plateau with noise, a fall
VAL_LOSS = [1.0, 0.8, 0.7, 0.69995, 0.71, 0.70, 0.72, 0.65, 0.66, 0.66, 0.67, 0.64, 0.65,
            0.66]
VAL_ACCURACY = [0.50, 0.60, 0.70, 0.70, 0.69, 0.72, 0.72, 0.71, 0.75, 0.74, 0.74, 0.73, 0.76,
                0.75]


def epoch_logs(epoch, with_validation=True):
    logs = {"loss": 1.2 - 0.05 * epoch, "accuracy": 0.4 + 0.03 * epoch}
    if with_validation:
        logs.update(val_loss=VAL_LOSS[epoch], val_accuracy=VAL_ACCURACY[epoch])
    return logs


def one_weight_model(learning_rate=0.1):
    """A Keras model with one weight; drive() sets it to the epoch number at each epoch, so
    the weights EarlyStopping restores tell which epoch they came from."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate), loss="mse",
                  metrics=["accuracy"])
    # one evaluation builds the metrics, which is how Keras's mode 'auto' finds whether
    # 'val_accuracy' goes up or down
    model.evaluate(np.zeros((2, 1)), np.zeros((2, 1)), verbose=0)
    return model


def drive(callback, model, epochs=None, with_validation=True):
    """Call the hooks as fit does, with the fixed logs; return what happened."""
    epochs = len(VAL_LOSS) if epochs is None else epochs
    callbacks = keras.callbacks.CallbackList([callback], model=model, epochs=epochs,
                                             steps=1, verbose=0)
    printed = io.StringIO()
    learning_rates, logged = [], []
    model.stop_training = False
    with contextlib.redirect_stdout(printed), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        callbacks.on_train_begin()
        epochs_run = 0
        last = {}
        for epoch in range(epochs):
            callbacks.on_epoch_begin(epoch)
            learning_rates.append(float(model.optimizer.learning_rate))
            model.set_weights([np.full((1, 1), float(epoch), dtype="float32")])
            logs = epoch_logs(epoch, with_validation)
            callbacks.on_train_batch_begin(0)
            callbacks.on_train_batch_end(0, logs)
            last = dict(logs)
            callbacks.on_epoch_end(epoch, logs)  # Keras passes a copy; read it back:
            logged.append(float(model.optimizer.learning_rate))
            epochs_run += 1
            if model.stop_training:
                break
        callbacks.on_train_end(last)
    return {"epochs_run": epochs_run, "printed": printed.getvalue(),
            "learning_rate_at_epoch_begin": learning_rates,
            "learning_rate_after_epoch_end": logged,
            "final_weight": float(model.get_weights()[0][0, 0])}


def early_stopping_cases():
    cases = [
        {"patience": 0},
        {"patience": 2},
        {"patience": 2, "min_delta": 0.02},
        {"patience": 3, "restore_best_weights": True, "verbose": 1},
        {"patience": 1, "baseline": 0.68, "verbose": 1},
        {"patience": 2, "start_from_epoch": 5, "restore_best_weights": True, "verbose": 1},
        {"monitor": "val_accuracy", "patience": 2, "verbose": 1},
        {"monitor": "val_accuracy", "patience": 1, "mode": "min"},
    ]
    return [dict(kwargs=kwargs, **drive(keras.callbacks.EarlyStopping(**kwargs),
                                         one_weight_model())) for kwargs in cases]


def reduce_lr_cases():
    cases = [
        {"patience": 1, "verbose": 1},
        {"patience": 2, "factor": 0.5, "cooldown": 1, "verbose": 1},
        {"patience": 1, "factor": 0.2, "min_lr": 0.005, "verbose": 1},
        {"patience": 1, "min_delta": 0.02},
        {"monitor": "val_accuracy", "patience": 1, "factor": 0.5},
        {"monitor": "loss", "patience": 0, "factor": 0.5},
    ]
    out = []
    for kwargs in cases:
        callback = keras.callbacks.ReduceLROnPlateau(**kwargs)
        history = keras.callbacks.History()
        model = one_weight_model()
        result = drive_with_history(callback, history, model)
        out.append(dict(kwargs=kwargs, history_learning_rate=history.history["learning_rate"],
                        history_keys=list(history.history), **result))
    return out


def drive_with_history(callback, history, model):
    """drive(), with Keras's History after the callback (as fit's CallbackList places it),
    so that what the callback adds to the logs is in the history."""
    callbacks = keras.callbacks.CallbackList([callback, history], model=model,
                                             epochs=len(VAL_LOSS), steps=1, verbose=0)
    printed = io.StringIO()
    model.stop_training = False
    with contextlib.redirect_stdout(printed):
        callbacks.on_train_begin()
        for epoch in range(len(VAL_LOSS)):
            callbacks.on_epoch_begin(epoch)
            callbacks.on_epoch_end(epoch, epoch_logs(epoch))
        callbacks.on_train_end()
    return {"printed": printed.getvalue()}


def lr_scheduler_cases():
    def halve_from_epoch_3(epoch, lr):
        return lr if epoch < 3 else lr * 0.5

    def by_epoch(epoch):
        return 0.1 / (1 + epoch)

    out = []
    for name, schedule in (("halve_from_epoch_3", halve_from_epoch_3), ("by_epoch", by_epoch)):
        callback = keras.callbacks.LearningRateScheduler(schedule, verbose=1)
        history = keras.callbacks.History()
        model = one_weight_model(learning_rate=0.1)
        result = drive_with_history(callback, history, model)
        out.append(dict(name=name, history_learning_rate=history.history["learning_rate"],
                        **result))
    return out


def checkpoint_cases():
    cases = [
        ("model-{epoch:02d}.keras", {}),
        ("best.keras", {"save_best_only": True, "verbose": 1}),
        ("best-{epoch:02d}-{val_loss:.2f}.weights.h5",
         {"save_best_only": True, "save_weights_only": True}),
        ("acc-{epoch:02d}-{val_accuracy:.3f}.weights.h5",
         {"monitor": "val_accuracy", "save_best_only": True, "save_weights_only": True,
          "verbose": 1}),
        ("every-{epoch:02d}.weights.h5", {"save_weights_only": True, "verbose": 1}),
    ]
    out = []
    for template, kwargs in cases:
        with tempfile.TemporaryDirectory() as folder:
            callback = keras.callbacks.ModelCheckpoint(os.path.join(folder, template), **kwargs)
            result = drive(callback, one_weight_model(), epochs=6)
            files = sorted(os.listdir(folder))
            result["printed"] = result["printed"].replace(folder, "<dir>")
        out.append(dict(template=template, kwargs=kwargs, files=files, **result))
    return out


def csv_logger_cases():
    out = []
    for name, kwargs, with_validation, runs in (
            ("with_validation", {}, True, 1),
            ("without_validation", {}, False, 1),
            ("append_twice", {"append": True}, True, 2),
            ("semicolon", {"separator": ";"}, True, 1)):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "log.csv")
            for _ in range(runs):
                drive(keras.callbacks.CSVLogger(path, **kwargs), one_weight_model(), epochs=3,
                      with_validation=with_validation)
            with open(path, newline="") as file:
                text = file.read()
        out.append(dict(name=name, kwargs=kwargs, with_validation=with_validation, runs=runs,
                        text=text))
    return out


SCHEDULES = [
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 4, "decay_rate": 0.5}),
    ("ExponentialDecay", {"initial_learning_rate": 0.1, "decay_steps": 4, "decay_rate": 0.5,
                          "staircase": True}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5}),
    ("InverseTimeDecay", {"initial_learning_rate": 0.1, "decay_steps": 3, "decay_rate": 0.5,
                          "staircase": True}),
    ("PiecewiseConstantDecay", {"boundaries": [5, 12], "values": [0.1, 0.01, 0.001]}),
    ("PiecewiseConstantDecay", {"boundaries": [3], "values": [1.0, 0.5]}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 10,
                         "end_learning_rate": 0.01, "power": 2.0}),
    ("PolynomialDecay", {"initial_learning_rate": 0.1, "decay_steps": 6,
                         "end_learning_rate": 0.01, "power": 0.5, "cycle": True}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 10}),
    ("CosineDecay", {"initial_learning_rate": 0.1, "decay_steps": 10, "alpha": 0.1}),
    ("CosineDecay", {"initial_learning_rate": 0.0, "decay_steps": 12, "warmup_target": 0.1,
                     "warmup_steps": 5}),
    ("CosineDecay", {"initial_learning_rate": 0.01, "decay_steps": 10, "alpha": 0.2,
                     "warmup_target": 0.1, "warmup_steps": 4}),
]


def schedule_values():
    out = []
    for name, kwargs in SCHEDULES:
        schedule = getattr(keras.optimizers.schedules, name)(**kwargs)
        values = [float(schedule(step)) for step in range(STEPS)]
        out.append({"class": name, "kwargs": kwargs, "config": schedule.get_config(),
                    "values": values})
    return out


def schedule_in_sgd():
    """Which step does the schedule see on update t? A one-weight model, loss (w - 1)^2 on
    one sample, plain SGD: update t moves w by -lr_t * 2 (w - 1), so lr_t can be read back."""
    schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1, decay_rate=0.5)
    model = keras.Sequential([keras.Input((1,)),
                              keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")])
    model.compile(optimizer=keras.optimizers.SGD(schedule), loss="mse")
    weights = [0.0]
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: weights.append(
            float(model.get_weights()[0][0, 0])))
    model.fit(np.ones((1, 1)), np.ones((1, 1)), epochs=6, batch_size=1, verbose=0,
              callbacks=[record])
    pairs = zip(weights[:-1], weights[1:], strict=True)
    used = [(w - w_next) / (2 * (w - 1)) for w, w_next in pairs]
    return {"schedule": schedule.get_config(), "weights": weights,
            "learning_rate_of_update": used,
            "iterations_after": int(model.optimizer.iterations.numpy())}


def progress_output():
    """What fit / evaluate / predict print, captured as text (Keras writes its control
    characters even when the output is not a terminal; the test strips them)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100, 4)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    out = {}
    for name, call in (
            ("fit_verbose_1", lambda: model.fit(x, y, epochs=2, batch_size=32, verbose=1,
                                                validation_split=0.2)),
            ("fit_verbose_2", lambda: model.fit(x, y, epochs=2, batch_size=32, verbose=2)),
            ("fit_one_epoch", lambda: model.fit(x, y, epochs=1, batch_size=32, verbose=2)),
            ("evaluate", lambda: model.evaluate(x, y, batch_size=32)),
            ("predict", lambda: model.predict(x, batch_size=32))):
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            call()
        out[name] = printed.getvalue()
    return out


def main():
    reference = {
        "keras_version": keras.__version__, "backend": keras.backend.backend(),
        "val_loss": VAL_LOSS, "val_accuracy": VAL_ACCURACY, "steps": STEPS,
        "early_stopping": early_stopping_cases(), "reduce_lr": reduce_lr_cases(),
        "lr_scheduler": lr_scheduler_cases(), "checkpoint": checkpoint_cases(),
        "csv_logger": csv_logger_cases(), "schedules": schedule_values(),
        "schedule_in_sgd": schedule_in_sgd(), "progress": progress_output(),
    }
    with open(OUT, "w") as file:
        json.dump(reference, file, indent=1)
        file.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
