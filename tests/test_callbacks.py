"""History, EarlyStopping and TerminateOnNaN: the hooks fit calls, driven by hand or by fit."""

import numpy as np
import pytest

import tinynet
from tinynet.callbacks import Callback, EarlyStopping, History, TerminateOnNaN
from tinynet.layers import Dense
from tinynet.models import Sequential
from tinynet.optimizers import SGD


class FakeModel:
    """Just what the callbacks touch: stop_training and the weights."""

    def __init__(self):
        self.stop_training = False
        self.weights = [np.zeros(2)]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]


def drive(callback, values, monitor="val_loss"):
    """Run the epoch hooks over a list of monitored values; the model's weight is the epoch
    number, so restored weights tell which epoch they came from. Returns the epochs run."""
    model = FakeModel()
    callback.set_model(model)
    callback.on_train_begin()
    epochs = 0
    for epoch, value in enumerate(values):
        model.weights = [np.full(2, float(epoch))]
        callback.on_epoch_end(epoch, {monitor: value})
        epochs += 1
        if model.stop_training:
            break
    callback.on_train_end()
    return epochs, model


def test_history_keeps_each_epoch_value_in_order():
    history = History()
    history.on_train_begin()
    for epoch, loss in enumerate([0.9, 0.5, 0.4]):
        history.on_epoch_end(epoch, {"loss": loss, "val_loss": loss + 0.1})
    assert history.history["loss"] == [0.9, 0.5, 0.4]
    assert history.history["val_loss"] == pytest.approx([1.0, 0.6, 0.5])
    assert history.epoch == [0, 1, 2]


def test_early_stopping_waits_patience_epochs_without_improvement():
    epochs, _ = drive(EarlyStopping(patience=2), [1.0, 0.8, 0.85, 0.9, 0.5, 0.4])
    assert epochs == 4  # best at epoch 1, then two epochs without improvement


def test_early_stopping_with_patience_zero_stops_at_the_first_bad_epoch():
    epochs, _ = drive(EarlyStopping(patience=0), [1.0, 0.8, 0.9, 0.5])
    assert epochs == 3


def test_an_improvement_smaller_than_min_delta_does_not_count():
    epochs, _ = drive(EarlyStopping(patience=1, min_delta=0.1), [1.0, 0.95, 0.92, 0.5])
    assert epochs == 2


def test_early_stopping_restores_the_weights_of_the_best_epoch():
    callback = EarlyStopping(patience=2, restore_best_weights=True)
    epochs, model = drive(callback, [1.0, 0.7, 0.8, 0.9, 0.1])
    assert epochs == 4
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])  # epoch 1 was best
    assert callback.best == 0.7 and callback.best_epoch == 1


def test_without_restore_the_last_weights_stay():
    _, model = drive(EarlyStopping(patience=1), [1.0, 0.7, 0.8])
    np.testing.assert_array_equal(model.weights[0], [2.0, 2.0])


def test_auto_mode_maximizes_accuracy():
    epochs, _ = drive(EarlyStopping(monitor="val_accuracy", patience=1),
                      [0.5, 0.6, 0.7, 0.65, 0.9], monitor="val_accuracy")
    assert epochs == 4


def test_a_monitor_that_is_not_logged_is_an_error_naming_the_logged_values():
    callback = EarlyStopping(monitor="val_loss")
    callback.set_model(FakeModel())
    callback.on_train_begin()
    with pytest.raises(ValueError, match="'loss'"):
        callback.on_epoch_end(0, {"loss": 0.5})


@pytest.mark.parametrize("kwargs, error", [
    ({"monitor": 3}, TypeError),
    ({"patience": -1}, ValueError),
    ({"patience": 1.5}, TypeError),
    ({"mode": "lowest"}, ValueError),
])
def test_early_stopping_refuses_bad_arguments(kwargs, error):
    with pytest.raises(error, match=list(kwargs)[0]):
        EarlyStopping(**kwargs)


def test_early_stopping_ends_fit_early():
    tinynet.set_seed(0)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(3,))])
    # a learning rate so small that the loss cannot improve by min_delta
    model.compile(optimizer=SGD(learning_rate=1e-9), loss="binary_crossentropy")
    history = model.fit(x, y, epochs=10, verbose=0, validation_split=0.25,
                        callbacks=[EarlyStopping(patience=1, min_delta=1e-3)])
    assert len(history.epoch) == 2


def test_terminate_on_nan_stops_on_a_nan_or_infinite_batch_loss(capsys):
    for bad in (float("nan"), float("inf")):
        callback = TerminateOnNaN()
        model = FakeModel()
        callback.set_model(model)
        callback.on_train_batch_end(0, {"loss": 0.3})
        assert not model.stop_training
        callback.on_train_batch_end(1, {"loss": bad})
        assert model.stop_training
    assert "invalid loss" in capsys.readouterr().out


def test_fit_calls_every_hook_in_order():
    calls = []

    class Spy(Callback):
        def on_train_begin(self, logs=None):
            calls.append("train_begin")

        def on_epoch_begin(self, epoch, logs=None):
            calls.append(f"epoch_begin {epoch}")

        def on_train_batch_begin(self, step, logs=None):
            calls.append(f"batch_begin {step}")

        def on_train_batch_end(self, step, logs=None):
            calls.append(f"batch_end {step}")

        def on_epoch_end(self, epoch, logs=None):
            calls.append(f"epoch_end {epoch}")

        def on_train_end(self, logs=None):
            calls.append("train_end")

    model = Sequential([Dense(1, activation="sigmoid", input_shape=(2,))])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x, y = np.zeros((4, 2)), np.zeros(4)
    model.fit(x, y, batch_size=2, epochs=1, verbose=0, callbacks=[Spy()])
    assert calls == ["train_begin", "epoch_begin 0", "batch_begin 0", "batch_end 0",
                     "batch_begin 1", "batch_end 1", "epoch_end 0", "train_end"]
