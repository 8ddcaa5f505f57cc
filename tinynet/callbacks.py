"""Callbacks: code that fit, evaluate and predict call at fixed moments, with Keras 3's hooks.

    on_train_begin(logs)              on_train_end(logs)           logs: the last epoch's
    on_epoch_begin(epoch, logs)       on_epoch_end(epoch, logs)    logs: the epoch's means
    on_train_batch_begin(batch, logs) on_train_batch_end(batch, logs)   the running means
    on_test_begin / on_test_end, on_test_batch_begin / _end         (evaluate, validation)
    on_predict_begin / on_predict_end, on_predict_batch_begin / _end          (predict)

`epoch` and `batch` count from 0. `logs` is always a dict (maybe empty), with its keys sorted
by name and its values Python floats, as Keras passes them. A callback sees the model as
`self.model` and fit's settings as `self.params` ({'verbose': 1, 'epochs': 10, 'steps': 32});
it may stop training by setting `self.model.stop_training = True`, and change the learning
rate by assigning `self.model.optimizer.learning_rate` a float.

Here: Callback (the base class), CallbackList (what fit calls), History (what fit returns),
ProgbarLogger (what fit prints), LambdaCallback, TerminateOnNaN, EarlyStopping,
ReduceLROnPlateau, LearningRateScheduler, CSVLogger, ModelCheckpoint, BackupAndRestore, and
Recorder, which records what happens inside each layer while the network trains.

Arguments, defaults and printed messages are Keras 3's, checked in two places: the Keras 3 API
reference (keras.io/api/callbacks/) and Keras 3.15.1's source (keras/src/callbacks/); the
decisions on a given sequence of logs are compared with Keras itself by the tests (fixture made
by tests/data/make_keras_callbacks_reference.py).
"""

import csv
import functools
import inspect
import io
import os
import shutil
import tempfile

import numpy as np

from tinynet.config import get_rng
from tinynet.progress import ProgressBar
from tinynet.validation import (
    check_bool,
    check_float,
    check_int,
    to_float_array,
    unknown_name_error,
)

HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
         "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
         "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
         "on_predict_batch_begin", "on_predict_batch_end", "on_batch_begin", "on_batch_end")


class Callback:
    """Base class: override the hooks you need; the others do nothing."""

    def __init__(self):
        self.model = None
        self.params = None

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)  # the older name, still used in Keras code

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass


def plain_logs(logs):
    """The logs as Keras hands them to callbacks: a new dict (never None), keys sorted by
    name, each number a Python float (other values, e.g. predict's outputs, as they are)."""
    result = {}
    for key, value in sorted((logs or {}).items()):
        try:
            result[key] = float(value)
        except (TypeError, ValueError):
            result[key] = value
    return result


class CallbackList:
    """Several callbacks called as one: `callbacks.on_epoch_end(epoch, logs)` calls
    `on_epoch_end` of each, in order, with the same logs dict.

    CallbackList(callbacks=None, add_history=False, add_progbar=False, model=None, **params)

    add_history appends a History (unless the list has one), add_progbar a ProgbarLogger:
    both go AFTER the user's callbacks, as in Keras, so that what a callback adds to the
    epoch's logs (ReduceLROnPlateau's 'learning_rate') reaches the history and the printed
    line. params (verbose, epochs, steps) are handed to every callback's set_params.
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        self.callbacks = check_callback_list(callbacks)
        self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        has_progbar = any(isinstance(c, ProgbarLogger) for c in self.callbacks)
        if add_progbar and not has_progbar:
            self.callbacks.append(ProgbarLogger())
        self.model = None
        self.params = {}
        self.set_model(model)
        self.set_params(params)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)

    def append(self, callback):
        self.callbacks.append(check_callback_list([callback])[0])

    def set_model(self, model):
        if model is None:
            return
        self.model = model
        if self.history is not None:
            model.history = self.history
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params):
        self.params = params
        if params:
            for callback in self.callbacks:
                callback.set_params(params)

    def call(self, hook, *args):
        """Call one hook of every callback; its last argument is the logs."""
        *position, logs = args
        logs = plain_logs(logs)  # one dict shared by all: a callback may add to it
        for callback in self.callbacks:
            getattr(callback, hook)(*position, logs)

    def on_train_begin(self, logs=None):
        self.call("on_train_begin", logs)

    def on_train_end(self, logs=None):
        self.call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self.call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self.call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        self.call("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.call("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs=None):
        self.call("on_test_begin", logs)

    def on_test_end(self, logs=None):
        self.call("on_test_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        self.call("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        self.call("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs=None):
        self.call("on_predict_begin", logs)

    def on_predict_end(self, logs=None):
        self.call("on_predict_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self.call("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self.call("on_predict_batch_end", batch, logs)


def check_callback_list(callbacks):
    """A new list of the callbacks (None -> []), each checked to be a Callback."""
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"callbacks must be a list of Callback objects, e.g. "
                        f"[EarlyStopping()], got {type(callbacks).__name__}")
    for callback in callbacks:
        if not isinstance(callback, Callback):
            raise TypeError(f"callbacks: {callback!r} is not a tinynet Callback (subclass "
                            f"tinynet.callbacks.Callback)")
    return list(callbacks)


class History(Callback):
    """What `fit` returns: `history.history['loss']` is the list of epoch losses, and so on
    for every logged value ('val_' ones included); `history.epoch` lists the epoch numbers
    and `history.params` fit's settings ({'verbose': 1, 'epochs': 10, 'steps': 32}).

    If training stopped because the loss became NaN or infinite, `diverged` is True and
    `stop_message` says where it happened.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []
        self.diverged = False
        self.stop_message = None

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            self.model.history = self


class ProgbarLogger(Callback):
    """Prints fit's progress (see tinynet.progress): 'Epoch 3/10' when there is more than
    one epoch, then a bar (verbose=1) or one line (verbose=2) per epoch. Validation inside
    fit is silent; evaluate and predict called on their own get a bar of their own."""

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream  # None: sys.stdout at the time of printing
        self.bar = None
        self.verbose, self.epochs, self.target = 1, 1, None
        self.in_fit = False

    def new_bar(self):
        self.bar = ProgressBar(self.target, self.verbose, stream=self.stream)

    def set_params(self, params):
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def on_train_begin(self, logs=None):
        self.in_fit = True

    def on_epoch_begin(self, epoch, logs=None):
        self.new_bar()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}", file=self.stream)

    def on_train_batch_end(self, batch, logs=None):
        self.bar.update(batch + 1, logs)

    def on_epoch_end(self, epoch, logs=None):
        self.bar.finish(logs)

    def on_test_begin(self, logs=None):
        if not self.in_fit:
            self.new_bar()

    def on_test_batch_end(self, batch, logs=None):
        if not self.in_fit:
            self.bar.update(batch + 1, logs)

    def on_test_end(self, logs=None):
        if not self.in_fit:
            self.bar.finish(logs)

    def on_predict_begin(self, logs=None):
        self.new_bar()

    def on_predict_batch_end(self, batch, logs=None):
        self.bar.update(batch + 1)  # predict's logs hold the outputs: nothing to print

    def on_predict_end(self, logs=None):
        self.bar.finish()


class LambdaCallback(Callback):
    """A callback made of functions, without writing a class:

        LambdaCallback(on_epoch_end=lambda epoch, logs: print(epoch, logs['loss']))

    Each argument is a hook's name (on_epoch_begin, on_epoch_end, on_train_begin, on_train_end,
    on_train_batch_begin, on_train_batch_end, or any other hook of Callback) and takes the
    hook's arguments: (epoch, logs), (batch, logs) or (logs).
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **other_hooks):
        super().__init__()
        unknown = sorted(set(other_hooks) - set(HOOKS))
        if unknown:
            raise TypeError(f"LambdaCallback(): {unknown[0]!r} is not a callback hook; the "
                            f"hooks are {', '.join(HOOKS)}")
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end, **other_hooks}
        for name, function in hooks.items():
            if function is None:
                continue
            if not callable(function):
                raise TypeError(f"LambdaCallback({name}=...) must be a function, "
                                f"got {function!r}")
            setattr(self, name, function)  # this instance's hook is the function itself


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch's loss is NaN or infinite (raise_error=True: raises
    a RuntimeError instead). fit already stops on its own and says why; this callback is
    there for Keras code."""

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = check_bool(raise_error, "TerminateOnNaN(raise_error=...)")

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or np.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(f"NaN or Inf loss encountered at batch {batch}. Loss value: "
                               f"{loss}. Terminating training immediately.")
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True


# -- callbacks that watch one logged value ---------------------------------------------------

MAXIMIZED = ("accuracy", "acc", "binary_accuracy", "categorical_accuracy",
             "sparse_categorical_accuracy", "auc", "precision", "recall")
MINIMIZED = ("loss", "mae", "mse", "mean_absolute_error", "mean_squared_error",
             "binary_crossentropy", "categorical_crossentropy",
             "sparse_categorical_crossentropy")


def check_mode(mode, where):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{where}(mode=...) must be 'auto', 'min' or 'max', got {mode!r}")
    return mode


def monitor_direction(monitor, mode, where):
    """'min' or 'max': is a smaller or a larger `monitor` better? mode 'auto' decides from
    the name, as Keras does: losses and errors go down, accuracies go up."""
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_")
    if name in MINIMIZED:
        return "min"
    if name in MAXIMIZED:
        return "max"
    raise ValueError(f"{where} callback received monitor={monitor}, but it cannot tell "
                     f"whether that value should be maximized or minimized. Pass mode='max' "
                     f"to keep the highest value, or mode='min' to keep the lowest.")


def is_improvement(value, best, direction, min_delta):
    """Better than `best` by more than min_delta (always, when there is no best yet)."""
    if best is None:
        return True
    if direction == "min":
        return value + min_delta < best
    return value - min_delta > best


def monitored_value(logs, monitor, where):
    """logs[monitor], or an error listing what was logged (no validation data, a typo)."""
    if monitor not in logs:
        raise ValueError(f"{where}: monitor '{monitor}' is not among the logged values "
                         f"{sorted(logs)}; pass validation data (validation_split= or "
                         f"validation_data=) for 'val_' names")
    return logs[monitor]


def check_monitor(monitor, where):
    if not isinstance(monitor, str):
        raise TypeError(f"{where}(monitor=...) must be a logged name like 'val_loss', "
                        f"got {monitor!r}")
    return monitor


class EarlyStopping(Callback):
    """Stop training when `monitor` has stopped improving.

    EarlyStopping(monitor='val_loss', min_delta=0, patience=0, verbose=0, mode='auto',
                  baseline=None, restore_best_weights=False, start_from_epoch=0)

    Each epoch counts as waiting unless `monitor` beats the best so far by more than
    min_delta; after `patience` epochs of waiting (epoch 0 never stops) training stops.
    mode 'auto' minimizes losses and maximizes accuracies. baseline: the wait only restarts
    once the value also beats it. restore_best_weights: at the end of training the model gets
    the weights of its best epoch. start_from_epoch: epochs of warm-up not watched.
    verbose=1 prints 'Epoch 7: early stopping' and 'Restoring model weights ...'.
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = check_monitor(monitor, "EarlyStopping")
        self.min_delta = abs(check_float(min_delta, "EarlyStopping(min_delta=...)"))
        self.patience = check_int(patience, "EarlyStopping(patience=...)", minimum=0)
        self.verbose = verbose
        self.mode = check_mode(mode, "EarlyStopping")
        self.baseline = baseline
        self.restore_best_weights = check_bool(restore_best_weights,
                                               "EarlyStopping(restore_best_weights=...)")
        self.start_from_epoch = check_int(start_from_epoch,
                                          "EarlyStopping(start_from_epoch=...)", minimum=0)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        # reset, so one instance can serve several calls to fit
        self.wait, self.stopped_epoch = 0, 0
        self.best, self.best_weights, self.best_epoch = None, None, 0

    def on_epoch_end(self, epoch, logs=None):
        direction = monitor_direction(self.monitor, self.mode, "EarlyStopping")
        current = monitored_value(logs or {}, self.monitor, "EarlyStopping")
        if epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if is_improvement(current, self.best, direction, self.min_delta):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or is_improvement(current, self.baseline, direction,
                                                       self.min_delta):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


def current_learning_rate(model):
    """The learning rate of the optimizer's next update, as a float (a schedule's value at
    the optimizer's step count, when it has one)."""
    learning_rate = model.optimizer.learning_rate
    if callable(learning_rate):
        return float(learning_rate(model.optimizer.iterations))
    return float(learning_rate)


def set_learning_rate(model, learning_rate, where):
    """Give the optimizer a new (float) learning rate; refused, as in Keras, when the
    optimizer follows a schedule: the callback and the schedule would fight over it."""
    rate = model.optimizer.learning_rate
    schedule = getattr(model.optimizer, "schedule", None) or (rate if callable(rate) else None)
    if schedule is not None:
        raise TypeError(f"{where}: this optimizer was created with a learning-rate schedule "
                        f"({type(schedule).__name__}), so its learning rate cannot be set; "
                        f"create the optimizer with a float learning_rate to use {where}")
    model.optimizer.learning_rate = learning_rate


class ReduceLROnPlateau(Callback):
    """Divide the learning rate when `monitor` stops improving.

    ReduceLROnPlateau(monitor='val_loss', factor=0.1, patience=10, verbose=0, mode='auto',
                      min_delta=1e-4, cooldown=0, min_lr=0.0)

    After `patience` epochs without an improvement larger than min_delta, the learning rate
    becomes max(learning_rate * factor, min_lr); then `cooldown` epochs pass before the
    waiting starts again. Every epoch's logs (and so the history) get 'learning_rate': the
    rate that epoch trained with.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0):
        super().__init__()
        self.monitor = check_monitor(monitor, "ReduceLROnPlateau")
        self.factor = check_float(factor, "ReduceLROnPlateau(factor=...)", low=0.0,
                                  high=1.0, high_open=True)
        self.patience = check_int(patience, "ReduceLROnPlateau(patience=...)", minimum=0)
        self.verbose = verbose
        self.mode = check_mode(mode, "ReduceLROnPlateau")
        self.min_delta = abs(check_float(min_delta, "ReduceLROnPlateau(min_delta=...)"))
        self.cooldown = check_int(cooldown, "ReduceLROnPlateau(cooldown=...)", minimum=0)
        self.min_lr = check_float(min_lr, "ReduceLROnPlateau(min_lr=...)", low=0.0)
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = current_learning_rate(self.model)
        direction = monitor_direction(self.monitor, self.mode, "ReduceLROnPlateau")
        current = monitored_value(logs, self.monitor, "ReduceLROnPlateau")
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if is_improvement(current, self.best, direction, self.min_delta):
            self.best, self.wait = current, 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience and self.reduce(epoch):
                self.cooldown_counter, self.wait = self.cooldown, 0

    def reduce(self, epoch):
        """Lower the learning rate (unless it is already at min_lr); True if it changed."""
        old_lr = current_learning_rate(self.model)
        if old_lr <= np.float32(self.min_lr):  # Keras compares in float32
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        set_learning_rate(self.model, new_lr, "ReduceLROnPlateau")
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch from a function of the epoch:

        LearningRateScheduler(lambda epoch, lr: lr if epoch < 10 else lr * 0.9)

    schedule(epoch, lr) -> new learning rate (a float), or schedule(epoch) -> new rate.
    Every epoch's logs get 'learning_rate'. verbose=1 prints each new rate.
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler(schedule=...) must be a function "
                            f"schedule(epoch, lr) -> lr, got {schedule!r}")
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        lr = current_learning_rate(self.model)
        if takes_two_arguments(self.schedule):
            new_lr = self.schedule(epoch, lr)
        else:
            new_lr = self.schedule(epoch)
        if not isinstance(new_lr, (float, np.floating)):
            raise ValueError(f"LearningRateScheduler: the schedule must return a float, got "
                             f"{new_lr!r} for epoch {epoch}")
        set_learning_rate(self.model, float(new_lr), "LearningRateScheduler")
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{float(new_lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = current_learning_rate(self.model)


def takes_two_arguments(function):
    """True for schedule(epoch, lr), False for schedule(epoch) (Keras accepts both)."""
    try:
        inspect.signature(function).bind(0, 0.0)
    except TypeError:
        return False
    except ValueError:  # a builtin without a signature: assume the two-argument form
        return True
    return True


# -- callbacks that write files ----------------------------------------------------------------

def write_atomically(path, data, where):
    """Write `data` (str or bytes) to `path` through a temporary file in the same folder and
    one rename: whoever reads `path` sees the old file or the new one, never half of one."""
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"{where}: the folder {folder} does not exist")
    handle, temp_path = tempfile.mkstemp(dir=folder, prefix=".tinynet-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data.encode("utf-8") if isinstance(data, str) else data)
        os.replace(temp_path, path)
    except BaseException:
        if os.path.exists(temp_path):
            os.remove(temp_path)
        raise


class CSVLogger(Callback):
    """Write each epoch's logs as a row of a CSV file: CSVLogger('training.log').

    CSVLogger(filename, separator=',', append=False)

    The columns are 'epoch' (from 0) and the logged names in sorted order; without
    validation data, 'val_' columns are still there, filled with 'NA' (as Keras writes them).
    append=True adds to an existing file. The file is rewritten as a whole after each epoch
    (temporary file, then rename), so it is complete even if training is interrupted.
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(f"CSVLogger(separator=...) must be one character, "
                             f"got {separator!r}")
        self.sep = separator
        self.append = check_bool(append, "CSVLogger(append=...)")
        self.keys = None
        self.text = ""

    def on_train_begin(self, logs=None):
        self.keys = None
        self.text = ""
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="") as file:
                self.text = file.read()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        buffer = io.StringIO()
        writer = csv.writer(buffer, delimiter=self.sep)  # Excel's dialect, as Keras's
        if self.keys is None:
            self.keys = sorted(logs)
            if not any(key.startswith("val_") for key in self.keys):
                self.keys += [f"val_{key}" for key in self.keys]
            if not self.text:
                writer.writerow(["epoch", *self.keys])
        writer.writerow([epoch, *[logs.get(key, "NA") for key in self.keys]])
        self.text += buffer.getvalue()
        write_atomically(self.filename, self.text, "CSVLogger")


class ModelCheckpoint(Callback):
    """Save the model (or its weights) during training.

    ModelCheckpoint(filepath, monitor='val_loss', verbose=0, save_best_only=False,
                    save_weights_only=False, mode='auto', save_freq='epoch',
                    initial_value_threshold=None)

    filepath may hold fields filled from the epoch (counted from 1) and the logs:
    'ckpt/model-{epoch:02d}-{val_loss:.2f}.keras'. It must end in '.keras' (model.save), or,
    with save_weights_only=True, in '.weights.h5' or '.npz' (model.save_weights).
    save_best_only: save only when `monitor` beats the best so far (mode as in
    EarlyStopping); initial_value_threshold: the value to beat at first.
    save_freq: 'epoch', or a number of batches between saves.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor = check_monitor(monitor, "ModelCheckpoint")
        self.verbose = verbose
        self.save_best_only = check_bool(save_best_only, "ModelCheckpoint(save_best_only=...)")
        self.save_weights_only = check_bool(save_weights_only,
                                            "ModelCheckpoint(save_weights_only=...)")
        self.mode = check_mode(mode, "ModelCheckpoint")
        self.save_freq = check_save_freq(save_freq, "ModelCheckpoint")
        self.best = initial_value_threshold
        self.batches_since_save = 0
        self.epoch = 0
        endings = (".weights.h5", ".npz") if self.save_weights_only else (".keras",)
        if not self.filepath.endswith(endings):
            what = "weights" if self.save_weights_only else "whole-model"
            raise ValueError(f"ModelCheckpoint(filepath=...): a {what} file name must end in "
                             f"{' or '.join(endings)}, got {self.filepath!r}")

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self.batches_since_save += 1
        if self.batches_since_save >= self.save_freq:
            self.batches_since_save = 0
            self.save(self.epoch, logs or {}, batch)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self.save(epoch, logs or {})

    def file_path(self, epoch, logs, batch=None):
        """The file name with its fields filled: {epoch} counts from 1, as Keras prints it."""
        fields = dict(logs, epoch=epoch + 1)
        if batch is not None:
            fields.setdefault("batch", batch + 1)
        try:
            return self.filepath.format(**fields)
        except KeyError as err:
            raise KeyError(f'ModelCheckpoint: cannot fill the file name "{self.filepath}": '
                           f"{err} is not among the logged values {sorted(logs)}") from None

    def should_save(self, epoch, logs, path):
        """Always, unless save_best_only; then only on an improvement (and say so)."""
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {path}")
            return True
        direction = monitor_direction(self.monitor, self.mode, "ModelCheckpoint")
        current = monitored_value(logs, self.monitor, "ModelCheckpoint")
        best_text = "None" if self.best is None else f"{self.best:.5f}"
        if is_improvement(current, self.best, direction, 0.0):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best_text} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
            return True
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {best_text}")
        return False

    def save(self, epoch, logs, batch=None):
        path = self.file_path(epoch, logs, batch)
        if os.path.isdir(path):
            raise IsADirectoryError(f"ModelCheckpoint: {path} is a folder; give a file name "
                                    f"such as {os.path.join(path, 'model.keras')}")
        if not self.should_save(epoch, logs, path):
            return
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: finished saving model to {path}")


class BackupAndRestore(Callback):
    """Resume a fit that was interrupted (a laptop that went to sleep, a killed job) from the
    last finished epoch, as if it had never stopped:

        model.fit(x, y, epochs=50, callbacks=[BackupAndRestore("backup")])   # interrupted
        model.fit(x, y, epochs=50, callbacks=[BackupAndRestore("backup")])   # goes on

    BackupAndRestore(backup_dir, save_freq='epoch', double_checkpoint=False,
                     delete_checkpoint=True)

    After every epoch (or every save_freq batches) one file, backup_dir/backup.npz, gets the
    three things training carries on with: the weights (BN's moving statistics included), the
    optimizer's state (its step count, learning rate and e.g. Adam's m and v), and the number
    of finished epochs. It is written atomically (a temporary file, then a rename), so a crash
    while saving leaves the previous backup whole. When fit starts and finds a backup, it
    loads it and fit starts at the epoch after the last finished one. double_checkpoint keeps
    the previous backup too (backup.npz.bkp), used if the latest cannot be read.
    delete_checkpoint: remove the backup when training ends normally.
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore(backup_dir=...) must name a folder, got an "
                             "empty value")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = check_save_freq(save_freq, "BackupAndRestore")
        self.double_checkpoint = check_bool(double_checkpoint,
                                            "BackupAndRestore(double_checkpoint=...)")
        self.delete_checkpoint = check_bool(delete_checkpoint,
                                            "BackupAndRestore(delete_checkpoint=...)")
        self.path = os.path.join(self.backup_dir, "backup.npz")
        self.previous_path = self.path + ".bkp"
        self.finished_epochs = 0
        self.batches_since_save = 0

    def on_train_begin(self, logs=None):
        if not self.model.built:
            raise ValueError("BackupAndRestore: the model must be built before fit, so there "
                             "are weights to restore; give the first layer an input_shape")
        self.model._initial_epoch = None  # fit's own initial_epoch, unless a backup says
        for path in (self.path, self.previous_path):
            if os.path.exists(path):
                try:
                    backup = read_backup(path)
                except ValueError:
                    continue  # damaged: try the previous backup
                self.restore(backup)
                return

    def restore(self, backup):
        self.model.set_weights(backup["weights"])
        self.model.set_optimizer_variables(backup["optimizer"])
        self.finished_epochs = backup["epoch"]
        self.model._initial_epoch = backup["epoch"]  # fit starts at this epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        self.batches_since_save += 1
        if self.batches_since_save >= self.save_freq:
            self.batches_since_save = 0
            self.save()

    def on_epoch_end(self, epoch, logs=None):
        self.finished_epochs = epoch + 1
        if self.save_freq == "epoch":
            self.save()

    def save(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self.path):
            shutil.copyfile(self.path, self.previous_path)
        arrays = {"epoch": np.array(self.finished_epochs)}
        arrays.update({f"weight_{i:04d}": w for i, w in enumerate(self.model.get_weights())})
        arrays.update({f"optimizer_{i:04d}": np.asarray(v) for i, v in
                       enumerate(self.model.get_optimizer_variables())})
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        write_atomically(self.path, buffer.getvalue(), "BackupAndRestore")

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint:
            return
        for path in (self.path, self.previous_path):
            if os.path.exists(path):
                os.remove(path)
        if os.path.isdir(self.backup_dir) and not os.listdir(self.backup_dir):
            os.rmdir(self.backup_dir)  # only our own files: never a folder holding others


def read_backup(path):
    """{'epoch': int, 'weights': [...], 'optimizer': [...]} from a backup file, or a
    ValueError saying it is damaged."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in stored.files}
    except Exception as err:  # a truncated zip, a damaged entry
        raise ValueError(f"BackupAndRestore: {path} is damaged ({type(err).__name__})") from None
    if "epoch" not in arrays:
        raise ValueError(f"BackupAndRestore: {path} was not written by BackupAndRestore")
    return {"epoch": int(arrays["epoch"]),
            "weights": [arrays[k] for k in sorted(arrays) if k.startswith("weight_")],
            "optimizer": [arrays[k] for k in sorted(arrays) if k.startswith("optimizer_")]}


def check_save_freq(save_freq, where):
    if save_freq == "epoch":
        return save_freq
    if isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1:
        raise ValueError(f"{where}(save_freq=...) must be 'epoch' or a number of batches "
                         f">= 1, got {save_freq!r}")
    return save_freq
# -- Recorder: what happens inside the network while it trains -------------------------------

PERCENTILES = (15, 50, 85)  # the three curves of Ioffe & Szegedy (2015), Fig. 1(b, c)
# raw records are kept until there are this many (or they take this much memory); then their
# statistics are computed together
FLUSH_RECORDS = 32
FLUSH_BYTES = 16 * 2**20


# The statistics, one record at a time: what each number the Recorder reports means. The
# Recorder computes the same numbers for many records at once (see "How it stays cheap" in its
# docstring); tests/test_recorder.py checks that it gives what these functions give.

def activation_summary(values):
    """mean, std (biased, as np.std) and the 15/50/85th percentiles of all the values."""
    p15, p50, p85 = np.percentile(values, PERCENTILES)
    return {"mean": np.mean(values), "std": np.std(values), "p15": p15, "p50": p50, "p85": p85}


def grad_norm(grad):
    """||dL/dW||: the Frobenius norm sqrt(sum(g^2)) of a gradient (or of dL/dx)."""
    return np.linalg.norm(grad.ravel())


def update_ratio(before, after):
    """||W_after - W_before|| / ||W_before||: how far one step moved a weight, relative to its
    size (makemore's rule of thumb: about 1e-3). NaN while the weight is all zeros."""
    size = np.linalg.norm(before.ravel())
    return np.linalg.norm((after - before).ravel()) / size if size > 0 else np.nan


def dead_fraction(y):
    """Share of ReLU units that output 0 for every sample of the batch: they pass back no
    gradient. y: (batch, units...)."""
    return np.mean(np.all(y.reshape(len(y), -1) <= 0, axis=0))


def saturated_fraction(y, activation):
    """Share of outputs in the flat tails, where the derivative is almost 0: sigmoid below
    0.01 or above 0.99; tanh beyond +-0.99."""
    if activation == "sigmoid":
        return np.mean((y < 0.01) | (y > 0.99))
    return np.mean(np.abs(y) > 0.99)


def unit_percentiles(x):
    """(3, units): the 15/50/85th percentiles over the batch of each unit. x: (batch, ...)."""
    return np.percentile(x.reshape(len(x), -1), PERCENTILES, axis=0)


def histogram_shares(values, edges):
    """Share of the values in each bin [edge_k, edge_k+1) (the last bin closed); values
    outside the edges count in the end bins, so the shares sum to 1."""
    counts, _ = np.histogram(np.clip(values, edges[0], edges[-1]), bins=edges)
    return counts / values.size


class Recorder(Callback):
    """Every `every` training steps, record what each layer sees, outputs and passes back.

    Recorder(every=10, layers=None, histograms=False, bins=40, hist_range=None,
             x_probe=None, probe_training=False, per_unit=False)

    On a recorded step the model keeps every layer's input x, output y and dL/dx (see
    Sequential.trace), and the recorder stores, per layer (each number is what the function
    named on the right, defined above, gives for that step's arrays):

        input_mean, input_std, input_p15, input_p50, input_p85     activation_summary(x)
        output_mean, ..., output_p85                               activation_summary(y)
        grad_input_norm       ||dL/dx|| over the whole batch       grad_norm(dL/dx)
        grad_norm/<param>     ||dL/dparam||, e.g. grad_norm/kernel grad_norm(grads[param])
        update_ratio/<param>  ||W_after - W_before|| / ||W_before||  update_ratio(...)
                              (NaN while the weight is all zeros, e.g. a bias at step 0)
        saturated_fraction    sigmoid and tanh outputs             saturated_fraction(y, ...)
        dead_fraction         relu: share of UNITS dead on the batch   dead_fraction(y)
        input_hist, output_hist    if histograms=True              histogram_shares(x, edges)
        input_unit_percentiles     if per_unit=True: (3, units)    unit_percentiles(x)

    Arguments:
        every:       record global steps 0, every, 2*every, ... (counted across epochs and
                     across calls to fit, as long as the model is the same).
        layers:      None for all layers, or a list of layer names / indices.
        histograms:  also store histograms, with `bins` bins over `hist_range` (lo, hi). Without
                     a range, each layer's range is fixed at the first record (from the
                     activation's bounds, or the first batch's spread, widened); values outside
                     fall into the end bins.
        x_probe:     a fixed batch (N, features). When given, activation statistics come from a
                     forward pass on it (inference mode, or training mode if probe_training)
                     made with the same weights as the recorded step, so every record looks at
                     the same samples. Gradients always come from the training step.

    Read the results with .steps (the recorded global steps), .layer_names, .get(layer, key)
    (an array indexed by record) and .keys(layer); keep them with .save(path) and
    Recorder.load(path). Recording never changes the training itself: the same seed gives the
    same weights with or without a recorder.

    How it stays cheap (and why it is not simply a loop over those functions): on the
    article's small model a training step takes about a quarter of a millisecond, and calling
    the functions above for every layer of a recorded step makes about a hundred NumPy calls,
    each with microseconds of overhead whatever the size of its arrays: recording every 10
    steps would cost a large part of the training time. So a recorded step only copies its raw
    numbers into a row of a table allocated once (see RecordTable); the statistics are
    computed later for many records at once (every 32 records, at the end of training, or when
    read), where one NumPy call serves every record. Sorting, for the percentiles, is the
    largest cost; a ReLU layer's output is not sorted again (see sort_activations). Recording
    every 10 steps costs about 8-9% of the training time on that model; on bigger ones, less.
    """

    def __init__(self, every=10, layers=None, histograms=False, bins=40, hist_range=None,
                 x_probe=None, probe_training=False, per_unit=False):
        super().__init__()
        self.every = check_int(every, "Recorder(every=...)", minimum=1)
        self.layers = check_layer_choice(layers)
        for flag, value in (("histograms", histograms), ("probe_training", probe_training),
                            ("per_unit", per_unit)):
            check_bool(value, f"Recorder({flag}=...)")
        self.histograms = histograms
        self.bins = check_int(bins, "Recorder(bins=...)", minimum=1)
        self.hist_range = check_hist_range(hist_range)
        self.x_probe = None
        if x_probe is not None:
            self.x_probe = to_float_array(x_probe, "Recorder(x_probe=...)", dtype="float64",
                                          min_ndim=2)
        self.probe_training = probe_training
        self.per_unit = per_unit

        self.global_step = 0       # training steps seen so far (the next step's number)
        self.step_list = []        # the global steps recorded
        self.layer_names = []      # recorded layers, in model order
        self.layer_types = {}      # name -> 'Dense', 'Activation', ...
        self.activations = {}      # name -> 'relu', 'sigmoid', ... (layers that have one)
        self.columns = {}          # name -> {statistic: list of arrays, one per flush}
        self.edges = {}            # (name, 'input' | 'output') -> histogram bin edges
        self.indices = []          # positions of the recorded layers in model.layers
        self.recorded_model = None
        self.recording = False
        self.params_before = None
        self.probe = None
        self.tables = {}           # layout -> RecordTable: raw records not summarized yet

    def __repr__(self):
        return (f"Recorder(every={self.every}, {len(self.step_list)} records of "
                f"{len(self.layer_names)} layers)")

    @property
    def steps(self):
        """The global training steps recorded, as an int array (one entry per record)."""
        return np.array(self.step_list, dtype=np.int64)

    # -- the hooks ------------------------------------------------------------------------

    def on_train_begin(self, logs=None):
        model = self.model
        if self.recorded_model is not None and self.recorded_model is not model:
            raise ValueError("Recorder: this recorder already holds records of another model; "
                             "use a new Recorder() for each model")
        if self.recorded_model is None:
            self.choose_layers(model)
            self.recorded_model = model
        if self.x_probe is not None:
            expected = tuple(model.layers[0].input_shape[1:])
            if self.x_probe.shape[1:] != expected:
                raise ValueError(f"Recorder(x_probe=...) must hold samples of shape {expected} "
                                 f"like the model's input, got shape {self.x_probe.shape}")
            self.x_probe = self.x_probe.astype(model.layers[0].dtype)

    def choose_layers(self, model):
        """Turn the `layers` argument into positions in model.layers and fill the names."""
        names = [layer.name for layer in model.layers]
        if self.layers is None:
            indices = list(range(len(names)))
        else:
            indices = []
            for choice in self.layers:
                if isinstance(choice, str):
                    if choice not in names:
                        raise unknown_name_error("layer in Recorder(layers=...)", choice, names)
                    indices.append(names.index(choice))
                else:
                    if not -len(names) <= choice < len(names):
                        raise ValueError(f"Recorder(layers=...): index {choice} is out of range "
                                         f"for a model of {len(names)} layers")
                    indices.append(choice % len(names))
            indices = sorted(set(indices))  # model order, each layer once
        self.indices = indices
        self.layer_names = [names[i] for i in indices]
        for i in indices:
            layer = model.layers[i]
            self.layer_types[layer.name] = type(layer).__name__
            activation = activation_name(layer)
            if activation is not None:
                self.activations[layer.name] = activation
            self.columns[layer.name] = {}

    def on_train_batch_begin(self, step, logs=None):
        self.recording = self.global_step % self.every == 0
        if not self.recording:
            return
        self.model.trace_next_step = True
        # a copy of the weights before the step, to measure how far the step moves them
        self.params_before = flatten_all(self.recorded_arrays("params"))
        if self.x_probe is not None:
            self.probe = self.run_probe()

    def on_train_batch_end(self, step, logs=None):
        if self.recording and self.model.trace is not None:
            self.keep(self.model.trace)
            self.model.trace = None  # the arrays of a whole step: free them now
        self.recording = False
        self.global_step += 1

    def on_train_end(self, logs=None):
        self.flush()
        self.tables = {}  # let the raw numbers' memory go: only the statistics are kept

    def recorded_arrays(self, kind):
        """The 'params' or 'grads' arrays of the recorded layers, in order, read afresh from
        each layer (a step may put new gradient arrays in layer.grads; layer.params are views
        into the model's parameter vector, whose values change in place)."""
        layers = [self.model.layers[i] for i in self.indices]
        return [getattr(layer, kind)[key] for layer in layers for key in layer.params]

    def run_probe(self):
        """Forward x_probe through the model; return its inputs and outputs per layer.

        In training mode BatchNormalization would update its moving statistics and Dropout
        would draw from tinynet's generator: both are put back afterwards, so probing never
        changes the training run."""
        model = self.model
        if self.probe_training:
            saved_state = [{key: value.copy() for key, value in layer.state.items()}
                           for layer in model.layers]
            saved_rng = get_rng().bit_generator.state
        inputs, outputs = [], []
        x = self.x_probe
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            for layer in model.layers:
                inputs.append(x)
                x = layer.forward(x, training=self.probe_training)
                outputs.append(x)
        if self.probe_training:
            for layer, state in zip(model.layers, saved_state, strict=True):
                for key, value in state.items():
                    layer.state[key][...] = value
            get_rng().bit_generator.state = saved_rng
        return {"inputs": inputs, "outputs": outputs}

    # -- recording: keep the raw numbers of one step --------------------------------------

    def keep(self, trace):
        """Keep the raw numbers of this step: one row of the table of its layout.

        Nothing is computed here, not even a norm: on a small model a NumPy call costs more
        in overhead than in arithmetic, so all the work waits for the flush, where one call
        serves every record of a table."""
        activations = self.probe if self.x_probe is not None else trace
        inputs, outputs = activations["inputs"], activations["outputs"]
        # layer i's output is layer i+1's input (the same array): keep each array once
        arrays, slots, slot_of = [], [], {}  # slot_of: id(array) -> its position in arrays
        for i in self.indices:
            pair = []
            for values in (inputs[i], outputs[i]):
                if id(values) not in slot_of:
                    slot_of[id(values)] = len(arrays)
                    arrays.append(values)
                pair.append(slot_of[id(values)])
            slots.append(tuple(pair))
        # dL/dx of each recorded layer, then dL/dparam of each of their parameters
        gradients = [trace["grad_inputs"][i] for i in self.indices]
        gradients += self.recorded_arrays("grads")
        parts = {"activations": arrays, "gradients": gradients,
                 "weights_before": [self.params_before],
                 "weights_after": self.recorded_arrays("params")}
        # what the table's rows hold (the smaller last batch of an epoch has a layout, and
        # so a table, of its own): the activations' shapes and the training batch's size (it
        # sets the gradients' shapes; with x_probe, the activations do not show it)
        layout = (tuple([a.shape for a in arrays]), tuple(slots), len(trace["inputs"][0]))
        if layout not in self.tables:
            self.tables[layout] = RecordTable(parts)
        table = self.tables[layout]
        table.add(len(self.step_list), parts)
        self.step_list.append(self.global_step)
        self.params_before = None
        self.probe = None
        if table.full:
            self.flush()

    # -- the statistics, computed for many records at once --------------------------------

    def flush(self):
        """Compute the statistics of the records in the tables and add them to the columns.

        Each table (layout) is summarized on its own; the results are put back in the order
        the records were taken. The tables are emptied, but their memory is kept for the
        next records (a table that got no record since the last flush is let go)."""
        tables = [(layout, table) for layout, table in self.tables.items() if table.positions]
        if not tables:
            return
        results = [self.statistics(layout, table) for layout, table in tables]
        positions = np.concatenate([table.positions for _, table in tables])
        order = np.argsort(positions)  # back to record order
        for name in self.layer_names:
            for key in results[0][name]:
                values = np.concatenate([result[name][key] for result in results])
                self.columns[name].setdefault(key, []).append(values[order])
        self.tables = {layout: table for layout, table in tables}
        for table in self.tables.values():
            table.positions = []

    def statistics(self, layout, table):
        """The statistics of the records of one table: {layer name: {key: array (records,
        ...)}}."""
        shapes, slots, _ = layout
        sizes = table.sizes["gradients"]
        n_layers = len(self.indices)
        rows = table.filled  # (records, values) for each kind

        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            gradient_norms = segment_norms(rows("gradients"), sizes)  # (records, segments)
            grad_input_norms = gradient_norms[:, :n_layers]            # (records, layers)
            grad_norms = gradient_norms[:, n_layers:]                  # (records, params)
            ratios = update_ratios(rows("weights_before"), rows("weights_after"),
                                   sizes[n_layers:])                   # (records, params)
            blocks = split(rows("activations"), shapes)  # each (records, *array shape)
            out, param_column = {}, 0
            for j, i in enumerate(self.indices):
                layer = self.model.layers[i]
                new = out[layer.name] = {}
                if self.histograms:
                    for which, slot in zip(("input", "output"), slots[j], strict=True):
                        new[f"{which}_hist"] = self.histogram(layer, which, blocks[slot])
                if self.per_unit:
                    x = blocks[slots[j][0]]
                    unit_values = x.reshape(len(x), x.shape[1], -1)  # (records, batch, units)
                    new["input_unit_percentiles"] = np.moveaxis(
                        percentiles(unit_values, axis=1), 0, 1)      # (records, 3, units)
                new["grad_input_norm"] = grad_input_norms[:, j]
                for key in layer.params:
                    new[f"grad_norm/{key}"] = grad_norms[:, param_column]
                    new[f"update_ratio/{key}"] = ratios[:, param_column]
                    param_column += 1
                activation = self.activations.get(layer.name)
                y = blocks[slots[j][1]]
                if activation in ("sigmoid", "tanh"):
                    new["saturated_fraction"] = saturated_fractions(y, activation)
                elif activation == "relu":
                    new["dead_fraction"] = dead_fractions(y)
            # last, as the table's activations are sorted in place: the statistics of the
            # values themselves
            self.sort_activations(rows("activations"), table.sizes["activations"], slots)
            summaries = sorted_summaries(rows("activations"), table.sizes["activations"])
            for j, name in enumerate(self.layer_names):
                values = {f"{which}_{key}": column[:, slot]
                          for which, slot in zip(("input", "output"), slots[j], strict=True)
                          for key, column in summaries.items()}
                out[name] = {**values, **out[name]}  # these first in .keys()
        return out

    def sort_activations(self, rows, sizes, slots):
        """Sort the values of each activation array of each record, in place in `rows`
        (records, total), where the arrays lie end to end with these sizes. (The table is
        the recorder's own copy, refilled after the flush anyway, so the flush uses it as
        scratch space: working where the numbers lie needs no new memory.)

        Sorting is the costly part of the statistics, and a ReLU layer's output needs none of
        its own: max(., 0) keeps the order (a <= b gives max(a, 0) <= max(b, 0)), so

            sorted(relu(x)) = relu(sorted(x))      value for value, exactly

        and an Activation('relu') layer's sorted output is its sorted input, clipped at 0.
        """
        relu_input = {}  # output slot -> input slot, for the Activation('relu') layers
        for name, (x_slot, y_slot) in zip(self.layer_names, slots, strict=True):
            if (self.layer_types[name] == "Activation" and self.activations.get(name) == "relu"
                    and x_slot < y_slot):  # the input is sorted first
                relu_input[y_slot] = x_slot
        starts = np.cumsum((0, *sizes))
        arrays = [rows[:, start:stop] for start, stop in zip(starts[:-1], starts[1:], strict=True)]
        for slot, values in enumerate(arrays):
            if slot in relu_input:
                np.maximum(arrays[relu_input[slot]], 0, out=values)
            else:
                values.sort(axis=1)

    def histogram(self, layer, which, block):
        """Share of the values of each record in each bin: (records, bins). A layer's bins
        are fixed at its first record, so that histograms of different steps compare."""
        edges = self.edges.get((layer.name, which))
        if edges is None:
            edges = self.choose_edges(layer, which, block[0])
            self.edges[(layer.name, which)] = edges
        # values outside the range go to the end bins, so every histogram sums to 1
        values = np.clip(block.reshape(len(block), -1), edges[0], edges[-1])
        # the bin of each value, as np.histogram counts: [edge_k, edge_k+1), the last closed
        bins = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, self.bins - 1)
        # one count for all records at once: record r's bins are numbered from r * self.bins
        bins += np.arange(len(block))[:, None] * self.bins
        counts = np.bincount(bins.ravel(), minlength=len(block) * self.bins)
        return counts.reshape(len(block), self.bins) / values.shape[1]

    def choose_edges(self, layer, which, values):
        if self.hist_range is not None:
            low, high = self.hist_range
        elif which == "output" and activation_name(layer) in ("sigmoid", "softmax"):
            low, high = 0.0, 1.0
        elif which == "output" and activation_name(layer) == "tanh":
            low, high = -1.0, 1.0
        elif which == "output" and activation_name(layer) == "relu":
            low, high = 0.0, 1.5 * float(np.max(values)) or 1.0  # room to grow; never < 0
        else:
            # the first record's spread, widened by half of it on each side: room for drift
            low, high = float(np.min(values)), float(np.max(values))
            pad = 0.5 * (high - low) if high > low else 1.0
            low, high = low - pad, high + pad
        return np.linspace(low, high, self.bins + 1)

    # -- reading the records --------------------------------------------------------------

    def check_layer(self, layer_name):
        self.flush()
        if not self.step_list:
            raise ValueError("Recorder: nothing recorded yet. A recorder records during "
                             "training: pass it to fit (model.fit(x, y, callbacks=[recorder])) "
                             f"for at least one step (it records steps 0, {self.every}, "
                             f"{2 * self.every}, ...)")
        if not isinstance(layer_name, str) or layer_name not in self.columns:
            raise KeyError(f"Recorder: no layer named {layer_name!r} was recorded; recorded "
                           f"layers: {', '.join(self.layer_names) or '(none yet)'}")
        return self.columns[layer_name]

    def keys(self, layer_name):
        """The names of the statistics recorded for one layer."""
        return list(self.check_layer(layer_name))

    def get(self, layer_name, key):
        """One statistic of one layer as an array whose first axis is the record
        (aligned with .steps), e.g. get('dense', 'grad_norm/kernel')."""
        columns = self.check_layer(layer_name)
        if key not in columns:
            raise KeyError(f"Recorder: layer {layer_name!r} has no statistic {key!r}; it has: "
                           f"{', '.join(columns) or '(no records yet)'}")
        return np.concatenate(columns[key])

    def hist_edges(self, layer_name, which="output"):
        """The bin edges (bins + 1,) of the 'input' or 'output' histograms of a layer."""
        self.check_layer(layer_name)
        if which not in ("input", "output"):
            raise ValueError(f"Recorder.hist_edges: which must be 'input' or 'output', "
                             f"got {which!r}")
        if (layer_name, which) not in self.edges:
            raise KeyError(f"Recorder: no {which} histograms for layer {layer_name!r}; "
                           f"record with Recorder(histograms=True)")
        return self.edges[(layer_name, which)]

    def as_dict(self):
        """Everything as one flat dict of arrays: {'steps': ..., '<layer>/<key>': ...,
        '<layer>/<which>_hist_edges': ...}."""
        out = {"steps": self.steps}
        for name in self.layer_names:
            for key in self.keys(name):
                out[f"{name}/{key}"] = self.get(name, key)
        for (name, which), edges in self.edges.items():
            out[f"{name}/{which}_hist_edges"] = edges
        return out

    def save(self, path):
        """Write the records to a .npz file, atomically (a temporary file renamed over
        `path`), so an interrupted save never leaves half a file behind."""
        path = os.fspath(path)
        folder = os.path.dirname(os.path.abspath(path))
        if not os.path.isdir(folder):
            raise FileNotFoundError(f"Recorder.save: the folder {folder} does not exist; "
                                    f"create it first, e.g. os.makedirs(folder)")
        arrays = self.as_dict()
        arrays["__meta__/layer_names"] = np.array(self.layer_names, dtype=str)
        arrays["__meta__/layer_types"] = np.array(
            [self.layer_types[name] for name in self.layer_names], dtype=str)
        arrays["__meta__/activations"] = np.array(
            [self.activations.get(name, "") for name in self.layer_names], dtype=str)
        arrays["__meta__/every"] = np.array(self.every)
        handle, temp_path = tempfile.mkstemp(dir=folder, prefix=".recorder-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as file:
                np.savez(file, **arrays)
            os.replace(temp_path, path)
        except BaseException:
            if os.path.exists(temp_path):
                os.remove(temp_path)
            raise

    @classmethod
    def load(cls, path):
        """A Recorder holding the records of a file written by Recorder.save (it can be read
        and plotted, but not attached to a model)."""
        path = os.fspath(path)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"Recorder.load: no such file: {path}")
        try:
            with np.load(path, allow_pickle=False) as stored:
                arrays = {key: stored[key] for key in stored.files}
        except Exception as err:  # a truncated or damaged archive, or not an archive at all
            raise ValueError(f"Recorder.load: {path} is corrupt or not a file written by "
                             f"Recorder.save (it cannot be read as a .npz archive: "
                             f"{type(err).__name__}); save the records again") from None
        if "__meta__/layer_names" not in arrays:
            raise ValueError(f"Recorder.load: {path} was not written by Recorder.save")
        recorder = cls(every=int(arrays.pop("__meta__/every")))
        names = [str(name) for name in arrays.pop("__meta__/layer_names")]
        types = arrays.pop("__meta__/layer_types")
        activations = arrays.pop("__meta__/activations")
        recorder.layer_names = names
        recorder.layer_types = {name: str(t) for name, t in zip(names, types, strict=True)}
        recorder.activations = {name: str(a) for name, a in zip(names, activations,
                                                                strict=True) if str(a)}
        recorder.step_list = [int(step) for step in arrays.pop("steps")]
        recorder.columns = {name: {} for name in names}
        # the longest matching name first, in case one layer's name starts another's
        by_length = sorted(names, key=len, reverse=True)
        for full_key, value in arrays.items():
            name = next(n for n in by_length if full_key.startswith(n + "/"))
            key = full_key[len(name) + 1:]
            if key.endswith("_hist_edges"):
                recorder.edges[(name, key[:-len("_hist_edges")])] = value
            else:
                recorder.columns[name][key] = [value]
        return recorder


class RecordTable:
    """The raw numbers of up to `capacity` records of one layout, one row per record: its
    activations, gradients, weights before and weights after the step, each kind's arrays
    laid end to end, and the kinds one after the other.

    The table is allocated once and reused after each flush. Memory the program has not
    used yet is slow to write the first time (the system maps it in, 4 KB page by 4 KB page):
    a new array for each record would pay that again and again, and on a small model it
    would cost more than the copy itself.
    """

    def __init__(self, parts):
        """parts: {kind: list of arrays} of a first record, for the sizes and the dtype."""
        self.columns, start = {}, 0  # kind -> its slice of a row
        self.sizes = {}              # kind -> the sizes of its arrays
        for kind, arrays in parts.items():
            self.sizes[kind] = tuple(array.size for array in arrays)
            self.columns[kind] = slice(start, start + sum(self.sizes[kind]))
            start = self.columns[kind].stop
        sized = [array for arrays in parts.values() for array in arrays if array.size]
        dtype = np.result_type(*sized) if sized else np.dtype(np.float64)
        self.capacity = max(1, min(FLUSH_RECORDS, FLUSH_BYTES // max(start * dtype.itemsize, 1)))
        self.rows = np.empty((self.capacity, start), dtype=dtype)
        self.positions = []  # the record number of each filled row

    @property
    def full(self):
        return len(self.positions) == self.capacity

    def add(self, position, parts):
        """Copy the arrays of one record into the next free row (a single NumPy call:
        with axis=None, concatenate flattens the arrays itself)."""
        arrays = [array for kind_arrays in parts.values() for array in kind_arrays]
        np.concatenate(arrays, axis=None, out=self.rows[len(self.positions)])
        self.positions.append(position)

    def filled(self, kind):
        """One kind of numbers of the filled rows: (records, values)."""
        return self.rows[:len(self.positions), self.columns[kind]]


# -- the statistics: each takes a block of records, (records, ...) -> one value per record ----

def sorted_summaries(rows, sizes):
    """mean, std and the 15/50/85th percentiles of every array of every record.

    rows: (records, total), each row a record's arrays laid end to end (`sizes` values each),
    every array's values SORTED. For the n values x of one array:

        mean = sum(x) / n        std = sqrt(sum((x - mean)^2) / n)    (biased, like np.std)

    Returns {'mean', 'std', 'p15', 'p50', 'p85'}, each (records, len(sizes)). The
    percentiles of all the arrays are picked from their columns in one go (see
    sorted_percentiles for the formula). `rows` is used as scratch space: it holds the
    squares (x - mean)^2 afterwards.
    """
    starts = np.cumsum((0, *sizes[:-1]))
    n = np.asarray(sizes)
    low, high, fraction = sorted_positions(tuple(sizes))  # (arrays * 3,) each
    v_low, v_high = rows[:, low], rows[:, high]
    percentile = (v_low + fraction * (v_high - v_low)).reshape(len(rows), len(sizes), 3)
    mean = segment_sums(rows, sizes) / n  # (records, arrays), in float64
    for k, (start, size) in enumerate(zip(starts, sizes, strict=True)):
        rows[:, start:start + size] -= mean[:, k:k + 1].astype(rows.dtype)
    np.square(rows, out=rows)
    std = np.sqrt(segment_sums(rows, sizes) / n)
    return {"mean": mean, "std": std, "p15": percentile[..., 0].astype(np.float64),
            "p50": percentile[..., 1].astype(np.float64),
            "p85": percentile[..., 2].astype(np.float64)}


@functools.lru_cache(maxsize=64)
def sorted_positions(sizes, q=PERCENTILES):
    """For arrays of these sizes laid end to end, each sorted: the columns floor(t) and
    floor(t) + 1 of each array's q-th percentiles, and t - floor(t) (see sorted_percentiles),
    array after array. (Cached: a recorder asks for the same few layouts again and again.)"""
    low, high, fraction, start = [], [], [], 0
    for size in sizes:
        lows, highs, fractions = percentile_positions(size, tuple(q))
        low += [start + i for i in lows]
        high += [start + i for i in highs]
        fraction += list(fractions)
        start += size
    return np.array(low, dtype=np.intp), np.array(high, dtype=np.intp), np.array(fraction)


def segment_sums(rows, sizes):
    """(records, len(sizes)): the sum of each array of each row (the arrays laid end to end,
    with these sizes), with NumPy's pairwise summation in the rows' precision, as np.mean and
    np.std do."""
    sums = np.empty((len(rows), len(sizes)))
    start = 0
    for k, size in enumerate(sizes):
        sums[:, k] = rows[:, start:start + size].sum(axis=1)
        start += size
    return sums


def percentiles(values, axis=0, q=PERCENTILES):
    """np.percentile(values, q, axis) with its default linear interpolation.

    The result has the q's on its first axis: (len(q), rest of the shape).
    (np.sort is used rather than np.partition: on these small rows NumPy's vectorized sort is
    the faster of the two, and it is the obvious algorithm.)
    """
    values = np.moveaxis(values, axis, -1)  # sort along the last, contiguous axis
    return sorted_percentiles(np.sort(values, axis=-1), q)


def sorted_percentiles(ordered, q=PERCENTILES):
    """The q-th percentiles of values already sorted along the last axis: (len(q), ...).

    With the n values sorted into v, the q-th percentile sits at position t = q/100 * (n - 1),
    between v[floor(t)] and v[floor(t) + 1] (np.percentile's default, linear interpolation):

        p = v[floor(t)] + (t - floor(t)) * (v[floor(t) + 1] - v[floor(t)])
    """
    low, high, fraction = percentile_positions(ordered.shape[-1], tuple(q))
    v_low, v_high = ordered[..., low], ordered[..., high]  # (..., len(q))
    return np.moveaxis(v_low + fraction * (v_high - v_low), -1, 0)


@functools.lru_cache(maxsize=64)
def percentile_positions(n, q):
    """floor(t), floor(t) + 1 and t - floor(t) for t = q/100 * (n - 1); cached, since a
    recorder asks for the same few n again and again."""
    position = [percent / 100 * (n - 1) for percent in q]
    low = [int(t) for t in position]  # floor, as t >= 0
    high = [min(i + 1, n - 1) for i in low]
    fraction = np.array([t - i for t, i in zip(position, low, strict=True)])
    return low, high, fraction


def segment_norms(rows, sizes):
    """The Euclidean (Frobenius) norm sqrt(sum(a^2)) of every array a of every record.

    rows: (records, total), each row the arrays of one record laid end to end, `sizes` their
    sizes. Returns (records, len(sizes)). Each sum of squares is the dot product of a row's
    segment with itself, np.einsum('ij,ij->i', a, a), in the arrays' own precision (as
    np.linalg.norm does) and with no temporary array of squares.
    """
    squares = np.empty((len(rows), len(sizes)))
    start = 0
    for k, size in enumerate(sizes):
        segment = rows[:, start:start + size]
        squares[:, k] = np.einsum("ij,ij->i", segment, segment)
        start += size
    return np.sqrt(squares)


def update_ratios(before, after, sizes):
    """||w_after - w_before|| / ||w_before|| for each weight w of each record, from the rows
    (records, total) of all weights laid end to end before and after the step: how far one
    step moved each weight, relative to its size (makemore's rule of thumb: around 1e-3).
    Returns (records, len(sizes)); NaN for a weight that is all zeros (a bias at step 0).
    `after` is used as scratch space: it holds the change afterwards."""
    change = after
    change -= before  # in place; a small step is exact in w's own precision (Sterbenz)
    step, weight = segment_norms(change, sizes), segment_norms(before, sizes)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(weight > 0, step / weight, np.nan)


def saturated_fractions(y, activation):
    """saturated_fraction of each record: y (records, ...) -> (records,)."""
    flat = y.reshape(len(y), -1)
    if activation == "sigmoid":
        saturated = (flat < 0.01) | (flat > 0.99)
    else:
        saturated = np.abs(flat) > 0.99
    return saturated.mean(axis=1)


def dead_fractions(y):
    """dead_fraction of each record: y (records, batch, ...) -> (records,). A unit is dead on
    a batch when its largest output over the batch is 0."""
    largest = y.reshape(y.shape[0], y.shape[1], -1).max(axis=1)  # (records, units)
    return (largest <= 0).mean(axis=1)


def flatten_all(arrays):
    """The arrays flattened and laid end to end in one new vector (a copy)."""
    if not arrays:
        return np.zeros(0)
    return np.concatenate([array.reshape(-1) for array in arrays])


def split(rows, shapes):
    """Undo flatten_all for a stack of records: rows (records, total) -> one block
    (records, *shape) per shape."""
    blocks, start = [], 0
    for shape in shapes:
        size = int(np.prod(shape))
        blocks.append(rows[:, start:start + size].reshape(len(rows), *shape))
        start += size
    return blocks


def activation_name(layer):
    """'relu', 'sigmoid', ... for an Activation layer or a Dense layer's activation; else None."""
    activation = getattr(layer, "activation", None)
    if isinstance(activation, str):
        return activation
    return getattr(activation, "activation", None)


def check_layer_choice(layers):
    """None, or a list of layer names (str) / indices (int)."""
    if layers is None:
        return None
    if isinstance(layers, (str, int)) or not isinstance(layers, (list, tuple)):
        raise TypeError(f"Recorder(layers=...) must be None or a list of layer names or indices "
                        f"such as ['dense', 'batch_normalization'], got {layers!r}")
    for choice in layers:
        if isinstance(choice, bool) or not isinstance(choice, (str, int, np.integer)):
            raise TypeError(f"Recorder(layers=...): each entry must be a layer name or an index, "
                            f"got {choice!r}")
    if not layers:
        raise ValueError("Recorder(layers=...) is an empty list; pass None to record all layers")
    return [c if isinstance(c, str) else int(c) for c in layers]


def check_hist_range(hist_range):
    if hist_range is None:
        return None
    try:
        low, high = (float(v) for v in hist_range)
    except (TypeError, ValueError):
        raise TypeError(f"Recorder(hist_range=...) must be a pair (low, high) of numbers, "
                        f"got {hist_range!r}") from None
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"Recorder(hist_range=...) must have finite low < high, "
                         f"got {hist_range!r}")
    return low, high
