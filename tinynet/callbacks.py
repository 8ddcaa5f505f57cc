"""Callbacks: code that `fit` calls at fixed moments of training, with Keras's hooks.

    on_train_begin(logs)            on_train_end(logs)
    on_epoch_begin(epoch, logs)     on_epoch_end(epoch, logs)      logs: the epoch's means
    on_train_batch_begin(step, logs) on_train_batch_end(step, logs) logs: this batch's values

A callback sees the model as `self.model` (set by fit) and may stop training by setting
`self.model.stop_training = True`.
"""

import numpy as np


class Callback:
    """Base class: override the hooks you need; the others do nothing."""

    def __init__(self):
        self.model = None

    def set_model(self, model):
        self.model = model

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, step, logs=None):
        pass

    def on_train_batch_end(self, step, logs=None):
        pass


class History(Callback):
    """What `fit` returns: `history.history['loss']` is the list of epoch losses, and so on
    for every metric and its 'val_' twin. `history.epoch` lists the epoch numbers.

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


class TerminateOnNaN(Callback):
    """Stops training as soon as a batch loss is NaN or infinite.

    (fit already does this on its own and says why; the callback exists for Keras code.)
    """

    def on_train_batch_end(self, step, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not np.isfinite(loss):
            print(f"Batch {step}: invalid loss {loss}, terminating training")
            self.model.stop_training = True


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved for `patience` epochs.

    EarlyStopping(monitor='val_loss', patience=0, min_delta=0.0, mode='auto',
                  restore_best_weights=False)

    mode 'auto' minimizes losses and maximizes anything with 'acc' in its name.
    With restore_best_weights=True the model ends with the weights of its best epoch.
    """

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, mode="auto",
                 restore_best_weights=False, verbose=0):
        super().__init__()
        from tinynet.validation import check_float, check_int

        if not isinstance(monitor, str):
            raise TypeError(f"EarlyStopping(monitor=...) must be a name like 'val_loss', "
                            f"got {monitor!r}")
        self.monitor = monitor
        self.patience = check_int(patience, "EarlyStopping(patience=...)", minimum=0)
        self.min_delta = abs(check_float(min_delta, "EarlyStopping(min_delta=...)"))
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping(mode=...) must be 'auto', 'min' or 'max', "
                             f"got {mode!r}")
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.mode = mode
        self.restore_best_weights = bool(restore_best_weights)
        self.verbose = verbose
        self.best = None
        self.best_weights = None
        self.best_epoch = None
        self.wait = 0
        self.stopped_epoch = None

    def on_train_begin(self, logs=None):
        self.best, self.best_weights, self.best_epoch = None, None, None
        self.wait = 0
        self.stopped_epoch = None

    def improved(self, value):
        if self.best is None:
            return True
        if self.mode == "min":
            return value < self.best - self.min_delta
        return value > self.best + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping: monitor '{self.monitor}' is not among the logged "
                             f"values {sorted(logs)}; pass validation data for 'val_' names")
        value = logs[self.monitor]
        if self.improved(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            return
        self.wait += 1
        if self.wait >= self.patience:  # Keras's rule: patience 0 and 1 both stop at once
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
        if self.verbose and self.stopped_epoch is not None:
            print(f"Early stopping at epoch {self.stopped_epoch + 1}; best {self.monitor} "
                  f"{self.best:.4f} at epoch {self.best_epoch + 1}")
