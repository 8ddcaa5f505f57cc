"""Callbacks: code that fit, evaluate and predict call at fixed moments, with Keras 3's hooks.

    on_train_begin(logs)              on_train_end(logs)           logs: the last epoch's
    on_epoch_begin(epoch, logs)       on_epoch_end(epoch, logs)    logs: the epoch's means
    on_train_batch_begin(batch, logs) on_train_batch_end(batch, logs)   the running means
    on_test_begin / on_test_end, on_test_batch_begin / _end   (evaluate, and fit's validation)
    on_predict_begin / on_predict_end, on_predict_batch_begin / _end          (predict)

`epoch` and `batch` count from 0. `logs` is always a dict (maybe empty), with its keys sorted
by name and its values Python floats, as Keras passes them. A callback sees the model as
`self.model` and fit's settings as `self.params` ({'verbose': 'auto', 'epochs': 10,
'steps': 32}: verbose as fit was given it, as in Keras); it may stop training by setting
`self.model.stop_training = True`, and change the learning rate by assigning
`self.model.optimizer.learning_rate` a float.

Here: Callback (the base class), CallbackList (what fit calls), History (what fit returns),
ProgbarLogger (what fit prints), LambdaCallback, TerminateOnNaN, EarlyStopping,
ReduceLROnPlateau, LearningRateScheduler, CSVLogger, ModelCheckpoint, BackupAndRestore. The
Recorder, which records what happens inside each layer while the network trains, has a file of
its own (tinynet/recorder.py) and is importable from here too.

Arguments, defaults and printed messages are Keras 3's, checked in two places: the Keras 3 API
reference (keras.io/api/callbacks/) and Keras 3.15.1's source (keras/src/callbacks/); the
decisions on a given sequence of logs are compared with Keras itself by the tests (fixture made
by tests/data/make_keras_callbacks_reference.py).
"""

import csv
import difflib
import inspect
import io
import numbers
import os
import shutil
import warnings

import numpy as np

from tinynet.files import write_atomically
from tinynet.progress import ProgressBar
from tinynet.validation import (
    check_bool,
    check_float,
    check_int,
    missing_attribute,
    warn_user,
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
        self.on_batch_begin(batch, logs=logs)  # the older name, still used in Keras code

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

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


BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_begin",
               "on_test_batch_end", "on_predict_batch_begin", "on_predict_batch_end")
# Callback's own training-batch hooks call these older names, which Keras code still uses
OLDER_NAMES = {"on_train_batch_begin": ("on_batch_begin",),
               "on_train_batch_end": ("on_batch_end",)}


def implements_hooks(callback, names):
    """True unless every hook in `names` is Callback's own (which does nothing); a hook set on
    the instance, as LambdaCallback does, counts."""
    return any(getattr(getattr(callback, name), "__func__", None) is not getattr(Callback, name)
               for name in names)


def plain_logs(logs):
    """The logs as Keras hands them to callbacks: a new dict (never None), keys sorted by
    name, each number a Python float (other values, e.g. predict's outputs, as they are)."""
    result = {}
    for key, value in sorted((logs or {}).items()):
        if type(value) is not float:  # a float, the common case, stays as it is
            # a number, or a 0-d array; an array of one value stays an array (predict's
            # outputs for a batch of one sample: NumPy before 2.3 would make it a float)
            number = isinstance(value, numbers.Real) or (isinstance(value, np.ndarray)
                                                         and value.ndim == 0)
            value = float(value) if number else value
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
        self.find_batch_hooks()
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
        self.find_batch_hooks()

    def find_batch_hooks(self):
        """The callbacks that act on each batch hook, found once: a batch hook calls only
        those (Callback's own hooks do nothing), and none at all when no callback acts on
        it, as in Keras: the hooks run at every step, where a few microseconds count."""
        self.batch_callbacks = {
            hook: [callback for callback in self.callbacks
                   if implements_hooks(callback, (hook, *OLDER_NAMES.get(hook, ())))]
            for hook in BATCH_HOOKS}
        listening = {hook for hook, callbacks in self.batch_callbacks.items() if callbacks}
        self.train_batch_hooks = bool(listening & {"on_train_batch_begin", "on_train_batch_end"})
        self.test_batch_hooks = bool(listening & {"on_test_batch_begin", "on_test_batch_end"})

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
        """Call one hook that is not a batch hook (those go through call_batch_hook) of every
        callback; its last argument is the logs, passed by position as Keras 3 passes them:
        callback.on_epoch_end(epoch, logs)."""
        *position, logs = args
        logs = plain_logs(logs)  # one dict shared by all: a callback may add to it
        for callback in self.callbacks:
            getattr(callback, hook)(*position, logs)

    def call_batch_hook(self, hook, batch, logs):
        """Call one batch hook of the callbacks that act on it, with the logs by name, as
        Keras 3 passes them: callback.on_train_batch_end(batch, logs=logs)."""
        callbacks = self.batch_callbacks[hook]
        if callbacks:
            logs = plain_logs(logs)  # one dict shared by all: a callback may add to it
            for callback in callbacks:
                getattr(callback, hook)(batch, logs=logs)

    def on_train_begin(self, logs=None):
        self.call("on_train_begin", logs)
        self.find_batch_hooks()  # a callback may have set a batch hook of its own just now

    def on_train_end(self, logs=None):
        self.call("on_train_end", logs)

    def on_epoch_begin(self, epoch, logs=None):
        self.call("on_epoch_begin", epoch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self.call("on_epoch_end", epoch, logs)

    def on_train_batch_begin(self, batch, logs=None):
        if self.train_batch_hooks:  # a step without listeners pays one test
            self.call_batch_hook("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        if self.train_batch_hooks:  # a step without listeners pays one test
            self.call_batch_hook("on_train_batch_end", batch, logs)

    def on_test_begin(self, logs=None):
        self.call("on_test_begin", logs)
        self.find_batch_hooks()

    def on_test_end(self, logs=None):
        self.call("on_test_end", logs)

    def on_test_batch_begin(self, batch, logs=None):
        if self.test_batch_hooks:  # a step without listeners pays one test
            self.call_batch_hook("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch, logs=None):
        if self.test_batch_hooks:  # a step without listeners pays one test
            self.call_batch_hook("on_test_batch_end", batch, logs)

    def on_predict_begin(self, logs=None):
        self.call("on_predict_begin", logs)
        self.find_batch_hooks()

    def on_predict_end(self, logs=None):
        self.call("on_predict_end", logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self.call_batch_hook("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch, logs=None):
        self.call_batch_hook("on_predict_batch_end", batch, logs)


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
    and `history.params` fit's settings ({'verbose': 'auto', 'epochs': 10, 'steps': 32}).

    If training stopped because the loss became NaN or infinite, `diverged` is True and
    `stop_message` says where it happened.

    tinynet adds `validation_epochs`: the epochs (counted from 0, as `epoch`) after which the
    validation pass ran, so that history.history['val_loss'][i] belongs to epoch
    validation_epochs[i] when fit(validation_freq=...) skipped some (plot.loss_curves reads
    it). Keras's History does not keep it.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []
        self.validation_epochs = []
        self.diverged = False
        self.stop_message = None

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.validation_epochs = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        if any(key.startswith("val_") for key in (logs or {})):
            self.validation_epochs.append(epoch)
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

def check_mode(mode, where):
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"{where}(mode=...) must be 'auto', 'min' or 'max', got {mode!r}")
    return mode


def monitor_direction(monitor, mode, where, model):
    """'min' or 'max': is a smaller or a larger `monitor` better? mode 'auto' decides as Keras
    3 does (MonitorCallback._set_monitor_op): the loss goes down, and a compiled metric whose
    name is the monitor's (without 'val_') goes the way its class says (Metric.direction:
    accuracies up, errors down). Anything else is an error, as in Keras."""
    if mode != "auto":
        return mode
    name = monitor.removeprefix("val_")
    direction = "min" if name == "loss" else None
    for metric, _ in getattr(model, "metric_weighting", []):
        # Keras's own attribute too, for a metric written for Keras (self._direction = "up")
        way = getattr(metric, "direction", None) or getattr(metric, "_direction", None)
        if metric.name == name and way is not None:
            direction = "max" if way == "up" else "min"
    if direction is None:
        raise ValueError(f"{where} callback received monitor={monitor}, but it cannot tell "
                         f"whether that value should be maximized or minimized (it is not "
                         f"the loss or a compiled metric whose direction is known). Pass "
                         f"mode='max' to keep the highest value, or mode='min' to keep the "
                         f"lowest.")
    return direction


def is_improvement(value, best, direction, min_delta):
    """Better than `best` by more than min_delta (always, when there is no best yet)."""
    if best is None:
        return True
    if direction == "min":
        return value + min_delta < best
    return value - min_delta > best


def monitored_value(logs, monitor, where, skipped):
    """logs[monitor]; or, when it was not logged (no validation data, a typo), None and a
    warning that lists what was logged and says what the callback skips. Keras 3 warns too,
    and goes on training."""
    if monitor not in logs:
        validation = monitor.startswith("val_")
        # Keras 2 logged 'acc' where Keras 3 logs 'accuracy'; else the nearest logged name of
        # the same kind (training or validation), for a typo
        keras_3_name = monitor.replace("acc", "accuracy") if monitor.endswith("acc") else None
        prefix = "val_" if validation else ""
        same_kind = [name.removeprefix(prefix) for name in logs
                     if name.startswith("val_") == validation]  # compared without val_
        close = ([keras_3_name] if keras_3_name in logs else
                 [prefix + name for name in difflib.get_close_matches(
                     monitor.removeprefix(prefix), same_kind, n=1, cutoff=0.6)])
        if validation and not any(name.startswith("val_") for name in logs):
            hint = ("; pass validation data (validation_split= or validation_data=) to log "
                    "'val_' names")
        elif close:
            hint = f"; the closest logged name is '{close[0]}'"
        else:
            hint = ""
        warn_user(f"{where}: monitor '{monitor}' is not among the logged values "
                  f"{', '.join(logs) or '(none)'}, so {skipped}{hint}")
        return None
    if getattr(logs[monitor], "ndim", 0) > 0:
        raise TypeError(f"{where}: monitor '{monitor}' holds one value per threshold "
                        f"({logs[monitor]}), not one number to compare; monitor a metric "
                        f"with a single threshold (e.g. Precision(thresholds=0.5, "
                        f"name='precision_at_half'))")
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
    mode 'auto' minimizes the loss and asks a compiled metric of the monitor's name which way
    is better (errors down, accuracies up: see monitor_direction). baseline: the wait only restarts
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
        direction = monitor_direction(self.monitor, self.mode, "EarlyStopping", self.model)
        current = monitored_value(logs or {}, self.monitor, "EarlyStopping",
                                  "this epoch does not count towards stopping")
        if current is None or epoch < self.start_from_epoch:
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
    optimizer's rate at the epoch's end (with a schedule, that of the next step), as Keras
    logs it.
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
        direction = monitor_direction(self.monitor, self.mode, "ReduceLROnPlateau", self.model)
        current = monitored_value(logs, self.monitor, "ReduceLROnPlateau",
                                  "the learning rate is left as it is this epoch")
        if current is None:
            return
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

def csv_value(value):
    """A log value as CSVLogger writes it: a number as it is; one number per threshold as
    Keras writes it, '"[4.0, 0.0]"' (its own quotes inside the field)."""
    if np.ndim(value) > 0:
        return f'"[{", ".join(str(float(v)) for v in np.ravel(value))}]"'
    return value


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
        writer.writerow([epoch, *[csv_value(logs.get(key, "NA")) for key in self.keys]])
        self.text += buffer.getvalue()
        write_atomically(self.filename, self.text, "CSVLogger")


class ModelCheckpoint(Callback):
    """Save the model (or its weights) during training.

    ModelCheckpoint(filepath, monitor='val_loss', verbose=0, save_best_only=False,
                    save_weights_only=False, mode='auto', save_freq='epoch',
                    initial_value_threshold=None)

    filepath may hold fields filled from the epoch (counted from 1) and the logs:
    'ckpt/model-{epoch:02d}-{val_loss:.2f}.keras'. It must end in '.keras' or '.h5' (Keras's
    legacy HDF5 format, as ModelCheckpoint('best_model.h5', ...) in older tutorials; the
    legacy-format warning is given once, at the first save) for model.save, or, with
    save_weights_only=True, in '.weights.h5' or '.npz' (model.save_weights). As in Keras 3,
    '.hdf5' is refused: name the file '.h5'.
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
        self.legacy_warned = False
        endings = (".weights.h5", ".npz") if self.save_weights_only else (".keras", ".h5")
        if not self.filepath.endswith(endings) or (
                not self.save_weights_only and self.filepath.endswith(".weights.h5")):
            what = "weights" if self.save_weights_only else "whole-model"
            hint = ""
            if self.filepath.endswith(".hdf5") and not self.save_weights_only:
                hint = (" (Keras 3's ModelCheckpoint refuses .hdf5 too: name the file .h5 "
                        "for the legacy HDF5 format, or .keras)")
            elif self.filepath.endswith(".weights.h5"):
                hint = " (a weights file: pass save_weights_only=True)"
            raise ValueError(f"ModelCheckpoint(filepath=...): a {what} file name must end in "
                             f"{' or '.join(endings)}, got {self.filepath!r}{hint}")

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
        # which way the monitor goes is settled even when it is not used, as Keras settles
        # it at every epoch's end: a monitor mode='auto' cannot read is refused either way
        direction = monitor_direction(self.monitor, self.mode, "ModelCheckpoint", self.model)
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {path}")
            return True
        if getattr(logs.get(self.monitor), "ndim", 0) > 0:  # one value per threshold
            warn_user(f"ModelCheckpoint: monitor '{self.monitor}' holds several values "
                      f"({logs[self.monitor]}), which cannot be compared with the best one, "
                      f"so the model is saved without comparing (save_best_only=False), as "
                      f"Keras does")
            return True
        current = monitored_value(logs, self.monitor, "ModelCheckpoint",
                                  "the model is saved without comparing (as Keras does)")
        if current is None:
            return True
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
        elif path.endswith(".h5"):
            with warnings.catch_warnings():
                if self.legacy_warned:  # the legacy-format warning once, not every epoch
                    warnings.filterwarnings("ignore", message=".*legacy HDF5 format")
                self.model.save(path)
            self.legacy_warned = True
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


# The Recorder lives in tinynet/recorder.py; it is also reachable here, as one of the
# callbacks (from tinynet.callbacks import Recorder). Imported last: recorder.py needs Callback.
from tinynet import recorder  # noqa: E402

PERCENTILES = recorder.PERCENTILES
RecordTable = recorder.RecordTable
Recorder = recorder.Recorder
activation_summary = recorder.activation_summary
dead_fraction = recorder.dead_fraction
grad_norm = recorder.grad_norm
histogram_shares = recorder.histogram_shares
percentiles = recorder.percentiles
saturated_fraction = recorder.saturated_fraction
unit_percentiles = recorder.unit_percentiles
update_ratio = recorder.update_ratio


# Keras callbacks tinynet does not have, and what to use instead.
INSTEAD = {
    "TensorBoard": "the History that fit returns holds every logged number: plot it with "
    "tinynet.plot, or write it to a file with CSVLogger",
    "RemoteMonitor": "log to a file with CSVLogger",
    "SwapEMAWeights": "tinynet's optimizers keep no moving average of the weights",
}


def __getattr__(name):
    """A Keras callback tinynet does not have gets an error that says so and lists the
    callbacks tinynet has."""
    has = [n for n, v in globals().items() if isinstance(v, type) and issubclass(v, Callback)]
    raise missing_attribute("tinynet.callbacks", name, has + ["CallbackList"], INSTEAD)
