"""Callbacks do what Keras 3's do: the same hooks, the same decisions on the same logs, the same
printed messages and files (tests/data/keras_callbacks_reference.json, recorded from Keras by
tests/data/make_keras_callbacks_reference.py).

Most callbacks only react to the logs of each epoch, so they are driven here the way fit calls
them, with the same fixed sequence of logs the Keras script used, on a fake model holding just
what a callback touches.
"""

import json
import os
import re

import numpy as np
import pytest

import tinynet
from tinynet.callbacks import (
    BackupAndRestore,
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LambdaCallback,
    LearningRateScheduler,
    ModelCheckpoint,
    ProgbarLogger,
    ReduceLROnPlateau,
    TerminateOnNaN,
    monitor_direction,
    plain_logs,
)
from tinynet.layers import Dense
from tinynet.models import Sequential
from tinynet.optimizers import SGD
from tinynet.optimizers.schedules import ExponentialDecay

REFERENCE = os.path.join(os.path.dirname(__file__), "data", "keras_callbacks_reference.json")

with open(REFERENCE) as file:
    KERAS = json.load(file)


class FakeOptimizer:
    def __init__(self, learning_rate):
        self.learning_rate = learning_rate


class FakeModel:
    """What callbacks touch: stop_training, the weights, the optimizer's learning rate, and
    save / save_weights (which write a small file, so checkpoints can be counted)."""

    def __init__(self, learning_rate=0.1):
        self.stop_training = False
        self.built = True
        self.weights = [np.zeros((1, 1))]
        self.optimizer = FakeOptimizer(learning_rate)
        self.optimizer_variables = [np.array(0), np.array(learning_rate)]
        self.history = None
        self._initial_epoch = None
        # compiled with metrics=['accuracy'], as the Keras script's model is: mode='auto'
        # finds 'accuracy' goes up from the metric itself
        self.metric_weighting = [(tinynet.metrics.get("accuracy", "mse"), False)]

    def get_optimizer_variables(self):
        return [v.copy() for v in self.optimizer_variables]

    def set_optimizer_variables(self, variables):
        self.optimizer_variables = [v.copy() for v in variables]

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]

    def save(self, path):
        with open(path, "w") as file:
            file.write("model")

    def save_weights(self, path):
        with open(path, "w") as file:
            file.write("weights")


def epoch_logs(epoch, with_validation=True):
    """The logs of the Keras script's epoch `epoch` (its epoch_logs)."""
    logs = {"loss": 1.2 - 0.05 * epoch, "accuracy": 0.4 + 0.03 * epoch}
    if with_validation:
        logs.update(val_loss=KERAS["val_loss"][epoch], val_accuracy=KERAS["val_accuracy"][epoch])
    return logs


def drive(callbacks, model, epochs=None, with_validation=True):
    """Call the hooks as fit does, with the Keras script's logs; the model's weight is set
    to the epoch number, so restored weights tell which epoch they came from. Returns the
    number of epochs run and the learning rate at the start of each."""
    epochs = len(KERAS["val_loss"]) if epochs is None else epochs
    callbacks = CallbackList(callbacks, add_history=True, model=model, epochs=epochs, steps=1,
                             verbose=0)
    callbacks.on_train_begin()
    learning_rates, last = [], {}
    for epoch in range(epochs):
        callbacks.on_epoch_begin(epoch)
        learning_rates.append(model.optimizer.learning_rate)
        model.weights = [np.full((1, 1), float(epoch))]
        logs = epoch_logs(epoch, with_validation)
        callbacks.on_train_batch_begin(0)
        callbacks.on_train_batch_end(0, logs)
        callbacks.on_epoch_end(epoch, logs)
        last = logs
        if model.stop_training:
            break
    callbacks.on_train_end(last)
    return epoch + 1, learning_rates


def numbers_in(text):
    return [float(n) for n in re.findall(r"\d+\.\d+(?:e-?\d+)?", text)]


# -- CallbackList and History -----------------------------------------------------------------

class Spy(Callback):
    """Writes down every hook call and the logs it got."""

    def __init__(self, calls):
        super().__init__()
        self.calls = calls

    def __getattribute__(self, name):
        if name.startswith("on_"):  # the logs by position or, for batch hooks, by name
            return lambda *args, **logs: self.calls.append((name, *args, *logs.values()))
        return super().__getattribute__(name)


def test_callback_list_calls_each_callback_in_order_with_the_same_logs():
    calls = []
    callbacks = CallbackList([Spy(calls), Spy(calls)])
    callbacks.on_epoch_end(3, {"loss": np.float32(0.5), "accuracy": 1})
    assert [c[:2] for c in calls] == [("on_epoch_end", 3)] * 2
    assert calls[0][2] is calls[1][2]  # one dict: what a callback adds, the next one sees
    assert list(calls[0][2]) == ["accuracy", "loss"]  # sorted by name, as Keras passes them
    assert all(type(v) is float for v in calls[0][2].values())


def test_callback_list_passes_an_empty_dict_never_none():
    calls = []
    callbacks = CallbackList([Spy(calls)])
    for hook in ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end",
                 "on_predict_begin", "on_predict_end"):
        getattr(callbacks, hook)()
    for hook in ("on_epoch_begin", "on_epoch_end", "on_train_batch_begin",
                 "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
                 "on_predict_batch_begin", "on_predict_batch_end"):
        getattr(callbacks, hook)(0)
    assert len(calls) == 14
    assert all(call[-1] == {} for call in calls)


def test_history_goes_after_the_users_callbacks_and_gets_the_model_and_params():
    model, user = FakeModel(), Callback()
    callbacks = CallbackList([user], add_history=True, model=model, verbose=1, epochs=3,
                             steps=10)
    assert callbacks.callbacks[0] is user and isinstance(callbacks.callbacks[1], History)
    assert model.history is callbacks.history
    assert callbacks.history.params == {"verbose": 1, "epochs": 3, "steps": 10}
    assert user.model is model and user.params == callbacks.history.params


def test_a_history_given_by_the_user_is_used_not_doubled():
    history = History()
    callbacks = CallbackList([history], add_history=True)
    assert callbacks.history is history and len(callbacks) == 1


def test_add_progbar_appends_a_progress_printer_last():
    callbacks = CallbackList([Callback()], add_history=True, add_progbar=True)
    assert isinstance(callbacks.callbacks[-1], ProgbarLogger)


def test_callback_list_refuses_what_is_not_a_callback():
    with pytest.raises(TypeError, match="not a tinynet Callback"):
        CallbackList([print])
    with pytest.raises(TypeError, match="list of Callback"):
        CallbackList(EarlyStopping())


def test_history_keeps_each_epoch_value_in_order():
    history = History()
    history.on_train_begin()
    for epoch, loss in enumerate([0.9, 0.5, 0.4]):
        history.on_epoch_end(epoch, {"loss": loss, "val_loss": loss + 0.1})
    assert history.history["loss"] == [0.9, 0.5, 0.4]
    assert history.history["val_loss"] == pytest.approx([1.0, 0.6, 0.5])
    assert history.epoch == [0, 1, 2]


def test_old_style_on_batch_end_is_called_for_training_batches():
    seen = []

    class OldStyle(Callback):
        def on_batch_end(self, batch, logs=None):
            seen.append(batch)

    CallbackList([OldStyle()]).on_train_batch_end(4, {})
    assert seen == [4]


# -- LambdaCallback, TerminateOnNaN --------------------------------------------------------------

def test_lambda_callback_calls_the_given_functions():
    seen = []
    callback = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((epoch, logs)),
                              on_train_end=lambda logs: seen.append("end"))
    callbacks = CallbackList([callback])
    callbacks.on_epoch_end(0, {"loss": 1.0})
    callbacks.on_epoch_begin(1)  # not given: does nothing
    callbacks.on_train_end()
    assert seen == [(0, {"loss": 1.0}), "end"]


def test_lambda_callback_refuses_a_name_that_is_not_a_hook():
    with pytest.raises(TypeError, match="on_epoch_ended"):
        LambdaCallback(on_epoch_ended=print)


def test_terminate_on_nan_stops_on_a_nan_or_infinite_batch_loss(capsys):
    for bad in (float("nan"), float("inf")):
        callback = TerminateOnNaN()
        model = FakeModel()
        callback.set_model(model)
        callback.on_train_batch_end(0, {"loss": 0.3})
        assert not model.stop_training
        callback.on_train_batch_end(1, {"loss": bad})
        assert model.stop_training
    assert capsys.readouterr().out == "Batch 1: Invalid loss, terminating training\n" * 2
    with pytest.raises(RuntimeError, match="NaN or Inf loss encountered at batch 2"):
        TerminateOnNaN(raise_error=True).on_train_batch_end(2, {"loss": float("nan")})


# -- EarlyStopping ------------------------------------------------------------------------------

@pytest.mark.parametrize("case", KERAS["early_stopping"], ids=lambda c: str(c["kwargs"]))
def test_early_stopping_stops_restores_and_prints_as_keras(case, capsys):
    model = FakeModel()
    epochs_run, _ = drive([EarlyStopping(**case["kwargs"])], model)
    assert epochs_run == case["epochs_run"]
    assert model.weights[0][0, 0] == case["final_weight"]  # the epoch whose weights stayed
    assert capsys.readouterr().out == case["printed"]


def test_an_improvement_smaller_than_min_delta_does_not_count():
    epochs_run, _ = drive([EarlyStopping(patience=1, min_delta=0.15)], FakeModel())
    assert epochs_run == 3  # 1.0 -> 0.8 counts, 0.8 -> 0.7 does not (0.1 < 0.15)


def test_a_monitor_that_is_not_logged_warns_naming_the_logged_values():
    callback = EarlyStopping(monitor="val_loss")
    callback.set_model(FakeModel())
    callback.on_train_begin()
    with pytest.warns(UserWarning, match="values loss, accuracy.*validation"):
        callback.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.7})
    assert callback.wait == 0 and callback.best is None  # the epoch did not count


def test_auto_mode_cannot_guess_an_unknown_metric_and_says_to_pass_mode():
    callback = EarlyStopping(monitor="val_my_score")
    callback.set_model(FakeModel())
    with pytest.raises(ValueError, match="mode='max'"):
        callback.on_epoch_end(0, {"val_my_score": 1.0})


@pytest.mark.parametrize("kwargs, error", [
    ({"monitor": 3}, TypeError),
    ({"patience": -1}, ValueError),
    ({"patience": 1.5}, TypeError),
    ({"mode": "lowest"}, ValueError),
])
def test_early_stopping_refuses_bad_arguments(kwargs, error):
    with pytest.raises(error, match=list(kwargs)[0]):
        EarlyStopping(**kwargs)


# -- the learning rate: ReduceLROnPlateau, LearningRateScheduler -------------------------------

@pytest.mark.parametrize("case", KERAS["reduce_lr"], ids=lambda c: str(c["kwargs"]))
def test_reduce_lr_on_plateau_logs_the_rate_of_every_epoch_as_keras(case, capsys):
    model = FakeModel(learning_rate=0.1)
    drive([ReduceLROnPlateau(**case["kwargs"])], model)
    history = model.history.history
    assert list(history) == case["history_keys"]  # 'learning_rate' last, after the logs
    # Keras keeps the rate in float32: equal to float32 round-off
    assert history["learning_rate"] == pytest.approx(case["history_learning_rate"], rel=1e-6)
    printed = capsys.readouterr().out
    assert re.sub(r"to \S+\.\n", "", printed) == re.sub(r"to \S+\.\n", "", case["printed"])
    assert numbers_in(printed) == pytest.approx(numbers_in(case["printed"]), rel=1e-6)


def test_reduce_lr_on_plateau_refuses_a_factor_that_does_not_reduce():
    with pytest.raises(ValueError, match="factor"):
        ReduceLROnPlateau(factor=1.0)


@pytest.mark.parametrize("case", KERAS["lr_scheduler"], ids=lambda c: c["name"])
def test_learning_rate_scheduler_sets_each_epochs_rate_as_keras(case, capsys):
    schedules = {"halve_from_epoch_3": lambda epoch, lr: lr if epoch < 3 else lr * 0.5,
                 "by_epoch": lambda epoch: 0.1 / (1 + epoch)}
    model = FakeModel(learning_rate=0.1)
    drive([LearningRateScheduler(schedules[case["name"]], verbose=1)], model)
    assert model.history.history["learning_rate"] == pytest.approx(
        case["history_learning_rate"], rel=1e-6)
    printed = capsys.readouterr().out
    assert numbers_in(printed) == pytest.approx(numbers_in(case["printed"]), rel=1e-6)
    assert printed.splitlines()[:2] == ["", "Epoch 1: LearningRateScheduler setting learning "
                                            f"rate to {numbers_in(printed)[0]}."]


def test_learning_rate_scheduler_wants_a_float_back():
    callback = LearningRateScheduler(lambda epoch: "fast")
    callback.set_model(FakeModel())
    with pytest.raises(ValueError, match="float"):
        callback.on_epoch_begin(0)


# -- files: CSVLogger, ModelCheckpoint ----------------------------------------------------------

@pytest.mark.parametrize("case", KERAS["csv_logger"], ids=lambda c: c["name"])
def test_csv_logger_writes_the_file_keras_writes(case, tmp_path):
    path = tmp_path / "log.csv"
    for _ in range(case["runs"]):
        drive([CSVLogger(path, **case["kwargs"])], FakeModel(), epochs=3,
              with_validation=case["with_validation"])
    with open(path, newline="") as file:
        assert file.read() == case["text"]
    assert os.listdir(tmp_path) == ["log.csv"]  # no temporary file left behind


@pytest.mark.parametrize("case", KERAS["checkpoint"], ids=lambda c: c["template"])
def test_model_checkpoint_leaves_the_files_keras_leaves(case, tmp_path, capsys):
    callback = ModelCheckpoint(os.path.join(tmp_path, case["template"]), **case["kwargs"])
    drive([callback], FakeModel(), epochs=6)
    assert sorted(os.listdir(tmp_path)) == case["files"]
    assert capsys.readouterr().out.replace(str(tmp_path), "<dir>") == case["printed"]


def test_model_checkpoint_calls_save_or_save_weights(tmp_path):
    for weights_only, name, content in ((False, "m.keras", "model"),
                                        (True, "w.weights.h5", "weights")):
        drive([ModelCheckpoint(tmp_path / name, save_weights_only=weights_only)], FakeModel(),
              epochs=1)
        assert (tmp_path / name).read_text() == content


def test_model_checkpoint_makes_missing_folders_and_saves_every_n_batches(tmp_path):
    path = tmp_path / "new" / "b{epoch}-{batch}.keras"
    callback = ModelCheckpoint(path, save_freq=2)
    callback.set_model(FakeModel())
    callback.on_epoch_begin(0)
    for batch in range(5):
        callback.on_train_batch_end(batch, {"loss": 1.0})
    assert sorted(os.listdir(tmp_path / "new")) == ["b1-2.keras", "b1-4.keras"]


@pytest.mark.parametrize("kwargs, words", [
    ({"filepath": "model.h5x"}, "end in .keras"),
    ({"filepath": "w.keras", "save_weights_only": True}, ".weights.h5 or .npz"),
    ({"filepath": "m.keras", "save_freq": 0}, "save_freq"),
    ({"filepath": "m.keras", "mode": "best"}, "mode"),
])
def test_model_checkpoint_refuses_bad_arguments(kwargs, words):
    with pytest.raises(ValueError, match=re.escape(words)):
        ModelCheckpoint(**kwargs)


def test_a_template_field_that_is_not_logged_is_named(tmp_path):
    callback = ModelCheckpoint(tmp_path / "m-{val_auc:.2f}.keras")
    callback.set_model(FakeModel())
    with pytest.raises(KeyError, match="val_auc"):
        callback.on_epoch_end(0, {"loss": 1.0})


# -- BackupAndRestore ----------------------------------------------------------------------------

class Interrupt(Callback):
    """Stands for the laptop going to sleep: an exception in the middle of epoch `epoch`."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_backup_holds_weights_optimizer_state_and_finished_epochs(tmp_path):
    model = FakeModel()
    model.optimizer_variables = [np.array(7), np.array(0.1), np.arange(3.0)]
    with pytest.raises(KeyboardInterrupt):
        drive([BackupAndRestore(tmp_path / "backup"), Interrupt(3)], model)
    assert os.listdir(tmp_path / "backup") == ["backup.npz"]  # no temporary file left
    resumed = FakeModel()
    callback = BackupAndRestore(tmp_path / "backup")
    callback.set_model(resumed)
    callback.on_train_begin()
    assert resumed._initial_epoch == 3  # epochs 0, 1, 2 finished: fit goes on at 3
    assert resumed.weights[0][0, 0] == 2.0  # the weights at the end of epoch 2
    np.testing.assert_array_equal(resumed.optimizer_variables[2], [0.0, 1.0, 2.0])


def test_a_finished_training_removes_its_backup_but_nothing_else(tmp_path):
    folder = tmp_path / "backup"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    drive([BackupAndRestore(folder)], FakeModel(), epochs=2)
    assert os.listdir(folder) == ["notes.txt"]
    drive([BackupAndRestore(tmp_path / "empty")], FakeModel(), epochs=2)
    assert not (tmp_path / "empty").exists()


def test_a_damaged_backup_falls_back_to_the_previous_one(tmp_path):
    folder = tmp_path / "backup"
    with pytest.raises(KeyboardInterrupt):
        drive([BackupAndRestore(folder, double_checkpoint=True), Interrupt(3)], FakeModel())
    data = (folder / "backup.npz").read_bytes()
    (folder / "backup.npz").write_bytes(data[:len(data) // 2])  # cut off mid-write
    resumed = FakeModel()
    callback = BackupAndRestore(folder)
    callback.set_model(resumed)
    callback.on_train_begin()
    assert resumed._initial_epoch == 2 and resumed.weights[0][0, 0] == 1.0


def test_without_a_backup_fit_starts_where_it_was_asked_to(tmp_path):
    model = FakeModel()
    model._initial_epoch = 5  # left from an earlier resumed fit
    callback = BackupAndRestore(tmp_path / "none")
    callback.set_model(model)
    callback.on_train_begin()
    assert model._initial_epoch is None


# -- with a real model ----------------------------------------------------------------------------

def small_model(optimizer):
    tinynet.set_seed(0)
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer=optimizer, loss="binary_crossentropy")
    return model


def small_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.float32)


def test_early_stopping_ends_fit_early():
    # a learning rate so small that the loss cannot improve by min_delta
    model = small_model(SGD(learning_rate=1e-9))
    history = model.fit(*small_data(), epochs=10, verbose=0, validation_split=0.25,
                        callbacks=[EarlyStopping(patience=1, min_delta=1e-3)])
    assert len(history.epoch) == 2


def test_fit_calls_every_hook_in_order():
    calls = []
    model = small_model("sgd")
    model.fit(np.zeros((4, 3)), np.zeros(4), batch_size=2, epochs=1, verbose=0,
              callbacks=[Spy(calls)])
    assert [c[0] for c in calls] == [
        "on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_train_batch_end",
        "on_train_batch_begin", "on_train_batch_end", "on_epoch_end", "on_train_end"]
    assert calls[-1][-1] == calls[-2][-1]  # on_train_end gets the last epoch's logs


def test_a_learning_rate_callback_changes_the_rate_fit_trains_with():
    model = small_model(SGD(learning_rate=0.1))
    model.fit(*small_data(), epochs=3, verbose=0,
              callbacks=[LearningRateScheduler(lambda epoch: 0.1 * 0.5 ** epoch)])
    assert model.optimizer.learning_rate == pytest.approx(0.025)


def test_a_callback_cannot_set_the_rate_of_an_optimizer_that_follows_a_schedule():
    model = small_model(SGD(learning_rate=ExponentialDecay(0.1, 10, 0.5)))
    with pytest.raises(TypeError, match="schedule"):
        model.fit(*small_data(), epochs=1, verbose=0,
                  callbacks=[LearningRateScheduler(lambda epoch: 0.01)])


@pytest.mark.skipif(not hasattr(Sequential, "get_optimizer_variables"),
                    reason="Sequential.get/set_optimizer_variables are not there yet")
def test_an_interrupted_fit_resumed_with_backup_ends_where_an_uninterrupted_one_ends(
        tmp_path):
    x, y = small_data()
    straight = small_model("adam")
    straight.fit(x, y, epochs=4, shuffle=False, verbose=0)
    model = small_model("adam")
    with pytest.raises(KeyboardInterrupt):
        model.fit(x, y, epochs=4, shuffle=False, verbose=0,
                  callbacks=[BackupAndRestore(tmp_path), Interrupt(2)])
    model = small_model("adam")  # a new process: the same model, before any training
    history = model.fit(x, y, epochs=4, shuffle=False, verbose=0,
                        callbacks=[BackupAndRestore(tmp_path)])
    assert history.epoch == [2, 3]
    for ours, theirs in zip(model.get_weights(), straight.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)


def test_model_checkpoint_saves_a_real_models_best_weights(tmp_path):
    x, y = small_data()
    model = small_model(SGD(learning_rate=0.5))
    seen = []
    model.fit(x, y, epochs=3, verbose=0, validation_split=0.25, callbacks=[
        ModelCheckpoint(tmp_path / "w-{epoch:02d}.npz", save_weights_only=True),
        LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(model.get_weights()))])
    assert sorted(os.listdir(tmp_path)) == ["w-01.npz", "w-02.npz", "w-03.npz"]
    model.load_weights(tmp_path / "w-02.npz")
    for ours, saved in zip(model.get_weights(), seen[1], strict=True):
        np.testing.assert_array_equal(ours, saved)


def test_model_checkpoint_writes_keras_files_a_model_loads_again(tmp_path):
    pytest.importorskip("h5py")
    pytest.importorskip("tinynet.saving")
    from tinynet.models import load_model

    x, y = small_data()
    model = small_model("adam")
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[
        ModelCheckpoint(tmp_path / "m-{epoch:02d}.keras"),
        ModelCheckpoint(tmp_path / "w.weights.h5", save_weights_only=True)])
    assert sorted(os.listdir(tmp_path)) == ["m-01.keras", "m-02.keras", "w.weights.h5"]
    np.testing.assert_allclose(load_model(tmp_path / "m-02.keras").predict(x, verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)


@pytest.mark.parametrize("make, what", [
    (lambda path: tinynet.callbacks.EarlyStopping(patience=0), "does not count"),
    (lambda path: tinynet.callbacks.ReduceLROnPlateau(patience=0), "learning rate is left"),
    (lambda path: tinynet.callbacks.ModelCheckpoint(str(path / "m.keras"), save_best_only=True),
     "saved without comparing"),
])
def test_a_monitor_that_was_not_logged_warns_and_training_goes_on_as_in_keras(tmp_path, make,
                                                                              what):
    # Keras 3.15 warns ("... conditioned on metric `val_loss` which is not available") and
    # trains every epoch; ModelCheckpoint then saves at every epoch
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 1))
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    callback = make(tmp_path)
    with pytest.warns(UserWarning, match=rf"monitor 'val_loss' is not among the logged values "
                                         rf"loss.*{what}.*validation_split=") as record:
        history = model.fit(x, y, epochs=3, verbose=0, callbacks=[callback])
    assert record[0].filename == __file__  # the warning points at the user's call to fit
    assert len(history.history["loss"]) == 3
    if isinstance(callback, tinynet.callbacks.ModelCheckpoint):
        assert (tmp_path / "m.keras").exists()
    if isinstance(callback, tinynet.callbacks.ReduceLROnPlateau):
        assert model.optimizer.current_learning_rate() == pytest.approx(0.01)


@pytest.mark.parametrize("monitor, hint", [
    ("val_acc", "the closest logged name is 'val_accuracy'"),  # the Keras 2 names
    ("acc", "the closest logged name is 'accuracy'"),
    ("val_acuracy", "the closest logged name is 'val_accuracy'"),
    ("binary_accuracy", "the closest logged name is 'accuracy'"),  # not a val_ name
    ("val_auc", r"not among the logged values [^;]*$"),  # nothing close: no hint
])
def test_a_monitor_near_a_logged_name_is_pointed_at_it(monitor, hint):
    # validation data was given: the 'pass validation data' advice would be wrong here
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3)), (rng.normal(size=(40, 1)) > 0).astype(float)
    model = Sequential([Dense(1, input_shape=(3,), activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy"])
    callback = tinynet.callbacks.EarlyStopping(monitor=monitor, mode="max", patience=0)
    with pytest.warns(UserWarning, match=hint) as record:
        model.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[callback])
    assert not any("validation_split=" in str(w.message) for w in record)



# Which way each metric compile accepts goes in Keras 3.15.1: the _direction of the metric
# compile makes from the name (keras/src/trainers/compile_utils.py get_metric, then
# ._direction; None: Keras cannot tell, so mode='auto' refuses it)
KERAS_DIRECTIONS = {
    "AUC": "up", "Accuracy": "up", "BCE": "down", "BinaryAccuracy": "up",
    "BinaryCrossentropy": "down", "CategoricalAccuracy": "up", "CategoricalCrossentropy":
    "down", "CategoricalHinge": "down", "CosineSimilarity": "up", "FalseNegatives": None,
    "FalsePositives": None, "Hinge": "down", "KLDivergence": "down", "LogCoshError": "down",
    "MAE": "down", "MAPE": "down", "MSE": "down", "MSLE": "down", "MeanAbsoluteError": "down",
    "MeanAbsolutePercentageError": "down", "MeanSquaredError": "down",
    "MeanSquaredLogarithmicError": "down", "Poisson": "down", "Precision": "up", "Recall":
    "up", "RootMeanSquaredError": "down", "SparseCategoricalAccuracy": "up",
    "SparseCategoricalCrossentropy": "down", "SparseTopKCategoricalAccuracy": "up",
    "SquaredHinge": "down", "TopKCategoricalAccuracy": "up", "TrueNegatives": None,
    "TruePositives": None, "auc": "up", "bce": "down", "binary_accuracy": "up",
    "binary_crossentropy": "down", "categorical_accuracy": "up", "categorical_crossentropy":
    "down", "categorical_hinge": "down", "cosine_similarity": "up", "false_negatives": None,
    "false_positives": None, "hinge": "down", "kl_divergence": "down", "log_cosh_error":
    "down", "mae": "down", "mape": "down", "mean_absolute_error": "down",
    "mean_absolute_percentage_error": "down", "mean_squared_error": "down",
    "mean_squared_logarithmic_error": "down", "mse": "down", "msle": "down", "poisson":
    "down", "precision": "up", "recall": "up", "root_mean_squared_error": "down",
    "sparse_categorical_accuracy": "up", "sparse_categorical_crossentropy": "down",
    "sparse_top_k_categorical_accuracy": "up", "squared_hinge": "down",
    "top_k_categorical_accuracy": "up", "true_negatives": None, "true_positives": None
}


@pytest.mark.parametrize("name, direction", KERAS_DIRECTIONS.items())
def test_each_metric_goes_the_way_keras_says(name, direction):
    assert tinynet.metrics.get(name, "mse").direction == direction


@pytest.mark.parametrize("monitor, metric, stops_on", [
    ("val_msle", "msle", "min"),
    ("val_rmse", tinynet.metrics.RootMeanSquaredError(name="rmse"), "min"),
    ("val_cosine_similarity", "cosine_similarity", "max"),
    ("val_AUC", "AUC", "max"),
])
def test_auto_mode_reads_the_direction_of_the_compiled_metric(monitor, metric, stops_on):
    # Keras 3 finds the compiled metric of that name and asks it; a list of names could not
    # know 'rmse' or 'AUC'
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3)), (rng.normal(size=(40, 1)) > 0).astype(float)
    model = Sequential([Dense(1, input_shape=(3,), activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=[metric])
    callback = EarlyStopping(monitor=monitor, patience=50)
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[callback])
    assert monitor_direction(monitor, "auto", "EarlyStopping", model) == stops_on


def test_auto_mode_refuses_what_keras_cannot_tell_either():
    def my_score(y_true, y_pred):  # a function of one's own: no direction, as in Keras
        return np.abs(y_true - y_pred).mean(axis=-1)

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 1))
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse", metrics=[my_score, "true_positives"])
    for monitor in ("val_my_score", "val_true_positives", "val_accuracy"):
        callback = EarlyStopping(monitor=monitor)
        with pytest.raises(ValueError, match=f"monitor={monitor}.*mode='max'"):
            model.fit(x, y, epochs=1, verbose=0, validation_split=0.25, callbacks=[callback])


def test_batch_hooks_get_the_logs_by_name_as_in_keras():
    # Keras 3 calls callback.on_train_batch_end(batch, logs=logs) (and the other batch hooks
    # the same way), the epoch and begin/end hooks with the logs by position
    calls = []

    class ByName(Callback):
        def on_train_batch_end(self, batch, **kwargs):
            calls.append(("train", batch, sorted(kwargs)))

        def on_test_batch_end(self, batch, **kwargs):
            calls.append(("test", batch, sorted(kwargs)))

        def on_batch_begin(self, batch, **kwargs):  # the older name, through the base class
            calls.append(("old", batch, sorted(kwargs)))

        def on_epoch_end(self, epoch, logs):
            calls.append(("epoch", epoch, sorted(logs)))

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(8, 3)), rng.normal(size=(8, 1))
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, validation_data=(x, y),
              callbacks=[ByName()])
    assert calls == [("old", 0, ["logs"]), ("train", 0, ["logs"]), ("test", 0, ["logs"]),
                     ("epoch", 0, ["loss", "val_loss"])]


def test_predict_outputs_of_one_sample_stay_an_array_in_the_logs():
    # float() of a (1, 1) array is a number in NumPy before 2.3 (with a warning), an error
    # after: the callback must get the outputs as an array either way
    seen = []

    class Outputs(Callback):
        def on_predict_batch_end(self, batch, logs=None):
            seen.append(logs["outputs"])

    model = Sequential([Dense(1, input_shape=(3,))])
    model.predict(np.ones((1, 3)), verbose=0, callbacks=[Outputs()])
    assert isinstance(seen[0], np.ndarray) and seen[0].shape == (1, 1)
    # numbers and 0-d arrays become floats; one value per threshold stays an array
    logs = plain_logs({"loss": np.float32(0.5), "n": np.array(2.0), "auc": np.ones(3)})
    assert logs["loss"] == 0.5 and type(logs["loss"]) is float and type(logs["n"]) is float
    assert isinstance(logs["auc"], np.ndarray)


def test_a_loss_object_as_a_metric_is_named_and_directed_as_in_keras():
    # Keras 3.15 logs compile(metrics=[MeanSquaredError(), Huber()]) (loss objects) as
    # 'mean_squared_error' and 'huber_loss', and mode='auto' minimizes them
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 1))
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse", metrics=[tinynet.losses.MeanSquaredError(),
                                                        tinynet.losses.Huber(delta=2.0)])
    callback = EarlyStopping(monitor="val_huber_loss", patience=5)
    history = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[callback])
    assert sorted(history.history) == ["huber_loss", "loss", "mean_squared_error",
                                       "val_huber_loss", "val_loss", "val_mean_squared_error"]
    assert monitor_direction("val_mean_squared_error", "auto", "EarlyStopping", model) == "min"


def test_a_metric_written_for_keras_gives_its_direction_by_keras_attribute():
    class Score(tinynet.metrics.MeanMetricWrapper):
        def __init__(self, name="score"):
            super().__init__(lambda y_true, y_pred: -np.abs(y_true - y_pred).mean(axis=-1),
                             name=name)
            self._direction = "up"  # Keras's spelling

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 1))
    model = Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer="sgd", loss="mse", metrics=[Score()])
    callback = EarlyStopping(monitor="val_score", patience=5)
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.25, callbacks=[callback])
    assert monitor_direction("val_score", "auto", "EarlyStopping", model) == "max"


def test_model_checkpoint_refuses_a_monitor_it_cannot_direct_even_saving_every_epoch(tmp_path):
    # Keras settles the direction at each epoch's end whatever save_best_only is
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 3)), (rng.normal(size=(16, 1)) > 0).astype(float)
    model = Sequential([Dense(1, input_shape=(3,), activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["true_positives"])
    checkpoint = ModelCheckpoint(str(tmp_path / "m.keras"), monitor="true_positives")
    with pytest.raises(ValueError, match="monitor=true_positives.*mode='max'"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[checkpoint])


def test_a_monitor_with_one_value_per_threshold_is_saved_uncompared_or_refused(tmp_path):
    # Keras 3.15's ModelCheckpoint warns and saves as if save_best_only=False; tinynet's
    # EarlyStopping and ReduceLROnPlateau say what to monitor instead of failing inside
    x, y = small_data()
    model = small_model(SGD(learning_rate=0.1))
    model.compile(optimizer=SGD(learning_rate=0.1), loss="binary_crossentropy",
                  metrics=[tinynet.metrics.Precision(thresholds=[0.3, 0.6])])
    checkpoint = ModelCheckpoint(tmp_path / "w-{epoch}.npz", monitor="precision", mode="max",
                                 save_best_only=True, save_weights_only=True)
    with pytest.warns(UserWarning, match="several values.*save_best_only=False"):
        model.fit(x, y, epochs=2, verbose=0, callbacks=[checkpoint])
    assert sorted(os.listdir(tmp_path)) == ["w-1.npz", "w-2.npz"]
    with pytest.raises(TypeError, match="EarlyStopping: monitor 'precision' holds one value "
                                        "per threshold"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[EarlyStopping(monitor="precision", mode="max")])


def test_a_batch_hook_a_callback_sets_on_itself_when_training_begins_is_called():
    # as Keras calls every callback's batch hooks (a callback made its hook in on_train_begin)
    calls = []

    class LateHook(tinynet.callbacks.Callback):
        def on_train_begin(self, logs=None):
            self.on_train_batch_end = lambda batch, logs=None: calls.append(batch)

    x, y = small_data()
    small_model(SGD(learning_rate=0.1)).fit(x, y, batch_size=16, verbose=0,
                                             callbacks=[LateHook()])
    assert calls == [0, 1, 2, 3]
