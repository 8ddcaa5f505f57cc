"""fit's validation pass and the checks around it, compared with Keras 3:

- the validation pass calls the callbacks' on_test_* hooks, in Keras's order, with its logs;
- class_weight weighs the training data only, while the held-out part of sample_weight weighs
  val_loss;
- class_weight's values are checked where they enter;
- Sequential.forward / backward check their arguments, evaluate says what shape x needs, save
  tells the truth about .h5, model.inputs / outputs / export say what tinynet has instead, and
  clone_model gives new layers with fresh weights, as Keras's does.

The Keras answers come from tests/data/make_keras_fit_validation_reference.py (Keras 3.15.1,
torch backend), run on the same data from the same starting weights with shuffle=False.
"""

import json
import os

import numpy as np
import pytest

import tinynet
from tinynet.callbacks import Callback, CallbackList, LambdaCallback
from tinynet.layers import BatchNormalization, Conv2D, Dense, Flatten, Layer
from tinynet.models import Sequential, clone_model
from tinynet.optimizers import SGD, Adam

with open(os.path.join(os.path.dirname(__file__), "data",
                       "keras_fit_validation_reference.json")) as file:
    KERAS = json.load(file)

X = np.array(KERAS["x"], dtype=np.float32)
Y = np.array(KERAS["y"], dtype=np.float32)


def small_model():
    """The script's model: Dense(1, sigmoid) on 4 features, from Keras's starting weights."""
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(4,))])
    model.compile(optimizer=SGD(0.1), loss="binary_crossentropy",
                  metrics=["mean_absolute_error"])
    model.set_weights([np.array(w, dtype=np.float32) for w in KERAS["weights"]])
    return model


class EventRecorder(Callback):
    """Writes down every hook call as [hook, batch or epoch or None, logs], as the script."""

    def __init__(self):
        super().__init__()
        self.events = []

    def record(self, hook, index, logs):
        self.events.append([hook, index, dict(logs or {})])


for _name in ("on_train_begin", "on_train_end", "on_test_begin", "on_test_end"):
    setattr(EventRecorder, _name,
            lambda self, logs=None, _name=_name: self.record(_name, None, logs))
for _name in ("on_epoch_begin", "on_epoch_end", "on_train_batch_begin", "on_train_batch_end",
              "on_test_batch_begin", "on_test_batch_end"):
    setattr(EventRecorder, _name,
            lambda self, index, logs=None, _name=_name: self.record(_name, index, logs))


# -- the validation pass calls on_test_* -----------------------------------------------------

def test_fit_validation_calls_the_test_hooks_in_keras_order_with_keras_logs():
    recorder = EventRecorder()
    small_model().fit(X, Y, batch_size=8, epochs=3, verbose=0, shuffle=False,
                      validation_split=0.25, validation_freq=2, callbacks=[recorder])
    ours = [(hook, index, sorted(logs)) for hook, index, logs in recorder.events]
    theirs = [(hook, index, sorted(logs)) for hook, index, logs in KERAS["events"]]
    assert ours == theirs
    for (hook, index, logs), (_, _, keras_logs) in zip(recorder.events, KERAS["events"],
                                                       strict=True):
        for key, value in keras_logs.items():
            assert logs[key] == pytest.approx(value, rel=1e-4, abs=1e-6), (hook, index, key)


def test_fit_validation_skips_the_test_batch_hooks_when_no_callback_has_them(monkeypatch):
    called = []
    original, original_batch = CallbackList.call, CallbackList.call_batch_hook

    def counting_call(self, hook, *args):
        called.append(hook)
        return original(self, hook, *args)

    def counting_batch_call(self, hook, batch, logs):
        if self.batch_callbacks[hook]:  # some callback is called
            called.append(hook)
        return original_batch(self, hook, batch, logs)

    monkeypatch.setattr(CallbackList, "call", counting_call)
    monkeypatch.setattr(CallbackList, "call_batch_hook", counting_batch_call)
    small_model().fit(X, Y, batch_size=8, epochs=2, verbose=0, validation_split=0.25)
    assert "on_test_begin" in called and "on_test_end" in called
    assert "on_test_batch_begin" not in called and "on_test_batch_end" not in called


def test_callback_list_knows_who_listens_to_test_batches():
    class OnTestBatchEnd(Callback):
        def on_test_batch_end(self, batch, logs=None):
            pass

    assert not CallbackList([Callback()]).test_batch_hooks
    assert CallbackList([OnTestBatchEnd()]).test_batch_hooks
    assert CallbackList([LambdaCallback(on_test_batch_begin=lambda batch, logs: None)]) \
        .test_batch_hooks
    callbacks = CallbackList([])
    callbacks.append(OnTestBatchEnd())
    assert callbacks.test_batch_hooks


# -- class_weight and sample_weight with validation ------------------------------------------

@pytest.mark.parametrize("case", ["class_weight+validation_split",
                                  "class_weight+validation_data",
                                  "sample_weight+validation_split"])
def test_weights_give_keras_loss_and_val_loss(case):
    sample_weight = np.where(Y[:, 0] == 1, 4.0, 1.0)
    kwargs = {"class_weight+validation_split": dict(validation_split=0.25,
                                                    class_weight={0: 1.0, 1: 4.0}),
              "class_weight+validation_data": dict(validation_data=(X[30:], Y[30:]),
                                                   class_weight={0: 1.0, 1: 4.0}),
              "sample_weight+validation_split": dict(validation_split=0.25,
                                                     sample_weight=sample_weight)}[case]
    x, y = (X[:30], Y[:30]) if "validation_data" in kwargs else (X, Y)
    history = small_model().fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False,
                                **kwargs)
    expected = KERAS["weighted"][case]
    assert history.history["loss"][0] == pytest.approx(expected["loss"], rel=1e-5)
    assert history.history["val_loss"][0] == pytest.approx(expected["val_loss"], rel=1e-5)


def test_class_weight_val_loss_is_the_unweighted_evaluate_of_the_held_out_part():
    """With a learning rate of ~0 the model does not change, so val_loss must be exactly what
    evaluate gives on the last quarter of the data, without weights."""
    model = small_model()
    model.compile(optimizer=SGD(1e-12), loss="binary_crossentropy")
    model.set_weights([np.array(w, dtype=np.float32) for w in KERAS["weights"]])
    unweighted = model.evaluate(X[30:], Y[30:], verbose=0)
    assert unweighted == pytest.approx(KERAS["weighted"]["evaluate_last_10_unweighted"],
                                       rel=1e-5)
    history = model.fit(X, Y, epochs=1, verbose=0, shuffle=False, validation_split=0.25,
                        class_weight={0: 1.0, 1: 4.0})
    assert history.history["val_loss"][0] == pytest.approx(unweighted, rel=1e-5)


# -- class_weight's values ---------------------------------------------------------------------

@pytest.mark.parametrize(("weight", "error", "words"), [
    ("x", TypeError, "must be a number"),
    (None, TypeError, "must be a number"),
    (True, TypeError, "must be a number"),
    (float("nan"), ValueError, "finite"),
    (float("inf"), ValueError, "finite"),
    (-1.0, ValueError, "must be >= 0, got -1"),
])
@pytest.mark.parametrize("where", ["fit", "train_on_batch"])
def test_class_weight_values_are_refused_where_they_enter(weight, error, words, where):
    model = small_model()
    with pytest.raises(error) as caught:
        getattr(model, where)(X, Y, class_weight={0: 1.0, 1: weight},
                              **({"verbose": 0} if where == "fit" else {}))
    message = str(caught.value)
    assert f"{where}(class_weight=...)" in message and "class 1" in message
    assert words in message


def test_class_weight_accepts_numpy_numbers_and_zero():
    history = small_model().fit(X, Y, epochs=1, verbose=0,
                                class_weight={0: np.float32(0.0), 1: np.int64(2)})
    assert np.isfinite(history.history["loss"][0])


# -- Sequential.forward and backward ----------------------------------------------------------

def test_forward_with_a_list_names_itself_and_suggests_model_x():
    model = small_model()
    with pytest.raises(TypeError, match=r"Sequential\.forward: x must be a NumPy array, got "
                                        r"list; call model\(x\)"):
        model.forward(X.tolist())
    np.testing.assert_array_equal(model(X.tolist()), model.forward(X))


def test_forward_of_an_empty_model_is_an_error_not_its_input():
    with pytest.raises(ValueError, match="Sequential.forward: this Sequential model has no "
                                         "layers"):
        Sequential().forward(X)


@pytest.mark.parametrize("training", ["False", 0])
def test_forward_refuses_a_training_that_is_not_a_bool(training):
    with pytest.raises(TypeError, match=r"Sequential\.forward\(training=\.\.\.\) must be True, "
                                        r"False or None"):
        small_model().forward(X, training=training)


def test_model_call_refuses_a_string_training_too():
    with pytest.raises(TypeError, match=r"training=\.\.\.\) must be True, False or None"):
        small_model()(X, training="False")


def test_model_call_with_training_none_is_inference_as_in_keras():
    model = small_model()
    np.testing.assert_array_equal(model(X, training=None), model(X, training=False))


@pytest.mark.parametrize("input_grad", ["no", 0, None])
def test_backward_refuses_an_input_grad_that_is_not_a_bool(input_grad):
    model = small_model()
    grad = np.ones_like(model.forward(X, training=True))
    with pytest.raises(TypeError, match=r"Sequential\.backward\(input_grad=\.\.\.\) must be "
                                        r"True or False"):
        model.backward(grad, input_grad=input_grad)


def test_forward_and_backward_take_numpy_bools():
    model = small_model()
    y = model.forward(X, training=np.bool_(True))
    assert model.backward(np.ones_like(y), input_grad=np.False_) is None
    assert model.backward(np.ones_like(y), input_grad=np.True_).shape == X.shape


# -- evaluate's message for x without a samples axis ----------------------------------------

def test_evaluate_of_a_number_says_what_shape_the_model_needs():
    with pytest.raises(ValueError) as caught:
        small_model().evaluate(3.0, Y[:1])
    message = str(caught.value)
    assert "needs x of shape (samples, 4), 2 dimensions" in message
    assert "single number 3.0" in message


def test_predict_of_a_flat_image_says_the_image_shape_and_the_reshape():
    model = Sequential([Conv2D(2, 3, input_shape=(5, 5, 1)), Flatten(), Dense(1)])
    with pytest.raises(ValueError) as caught:
        model.predict(np.ones(25))
    message = str(caught.value)
    assert "(samples, 5, 5, 1), 4 dimensions" in message
    assert "x.reshape(1, 5, 5, 1)" in message


# -- save's file name ------------------------------------------------------------------------

def test_save_h5_writes_keras_s_legacy_format_with_a_warning(tmp_path):
    pytest.importorskip("h5py")
    assert KERAS["save_h5"]["h5_written"]  # Keras 3 does write .h5 (legacy HDF5)
    model = small_model()
    with pytest.warns(UserWarning, match="legacy HDF5 format"):
        model.save(tmp_path / "model.h5")
    assert os.listdir(tmp_path) == ["model.h5"]  # tests/test_legacy_h5.py: what it holds
    # another ending is refused, naming the two tinynet writes
    with pytest.raises(ValueError, match=r"writes .keras files \(and Keras's legacy .h5 "
                                         r"files\).*save_weights\('model.weights.h5'\)"):
        model.save(tmp_path / "model.hdf")


# -- Keras names tinynet does not have ------------------------------------------------------

@pytest.mark.parametrize(("name", "instead"), [("inputs", "model.input_shape"),
                                               ("outputs", "model.output_shape"),
                                               ("export", "model.save('model.keras')")])
def test_keras_only_attributes_say_what_tinynet_has(name, instead):
    model = small_model()
    with pytest.raises(AttributeError) as caught:
        getattr(model, name)
    assert instead in str(caught.value)
    assert not hasattr(model, name)


# -- clone_model -----------------------------------------------------------------------------

def original_for_clone():
    """The script's model: Dense(3, relu), BatchNormalization, Dense(1, sigmoid), Adam(0.01),
    its first layer frozen."""
    model = Sequential([Dense(3, activation="relu", input_shape=(4,)), BatchNormalization(),
                        Dense(1, activation="sigmoid")], name="original")
    model.compile(optimizer=Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    model.layers[0].trainable = False
    return model


def test_clone_model_makes_new_layers_with_fresh_weights_as_keras():
    model = original_for_clone()
    clone = clone_model(model)
    keras = KERAS["clone"]
    assert clone.name == keras["name"]
    assert ([layer.name for layer in clone.layers] ==
            [layer.name for layer in model.layers]) == keras["layer_names_equal"]
    assert all(a is not b for a, b in zip(model.layers, clone.layers, strict=True))
    # kernels are drawn anew; biases and BN's ones and zeros start the same
    assert [bool(np.array_equal(a, b)) for a, b in zip(model.get_weights(),
                                                       clone.get_weights(), strict=True)] \
        == keras["weights_equal"]
    assert [layer.trainable for layer in clone.layers] == keras["trainable"]
    assert clone.built == keras["built"] and clone.compiled == keras["compiled"]
    assert clone.optimizer is not model.optimizer
    assert clone.optimizer.learning_rate == pytest.approx(keras["optimizer_learning_rate"])
    assert clone.metrics_names == model.metrics_names
    clone.fit(X, Y, epochs=1, verbose=0)  # trains on its own optimizer


def test_clone_model_of_an_unbuilt_uncompiled_model():
    clone = clone_model(Sequential([Dense(2), Dense(1)]))
    assert not clone.built and not clone.compiled and len(clone.layers) == 2


def test_clone_model_makes_a_layer_of_your_own_from_its_config_and_refuses_keras_arguments():
    class Double(Layer):
        def build(self, input_shape):
            super().build(input_shape)

        def forward(self, x, training=False):
            return 2 * x

        def backward(self, grad_output):
            return 2 * grad_output

    class Times(Double):  # an argument its get_config does not give
        def __init__(self, factor, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

    model = Sequential([Dense(2, input_shape=(4,)), Double()])
    clone = clone_model(model)
    assert type(clone.layers[1]) is Double and clone.layers[1] is not model.layers[1]
    with pytest.raises(ValueError, match=r"its get_config\(\) must return a dict with the "
                                         r"arguments of its __init__ \(factor\)"):
        clone_model(Sequential([Dense(2, input_shape=(4,)), Times(3)]))
    with pytest.raises(TypeError, match=r"clone_model\(clone_function=\.\.\.\)"):
        clone_model(small_model(), clone_function=lambda layer: layer)
    with pytest.raises(TypeError, match="expected a Sequential model, got Dense"):
        clone_model(Dense(2))


# -- metrics in the logs, as Keras writes them -------------------------------------------------

def test_a_metric_given_twice_is_numbered_in_the_logs_as_in_keras():
    # Keras 3.15: compile(metrics=["mae", "mae"]) logs 'mae' and 'mae_1'
    model = small_model()
    model.compile(optimizer="sgd", loss="mse", metrics=["mae", "mae", "mse"])
    assert model.metrics_names == ["loss", "mae", "mae_1", "mse"]
    logs = model.evaluate(X, np.zeros((len(X), 1)), verbose=0, return_dict=True)
    assert list(logs) == ["loss", "mae", "mae_1", "mse"] and logs["mae"] == logs["mae_1"]
    history = model.fit(X, np.zeros((len(X), 1)), epochs=1, verbose=0)
    assert set(history.history) == {"loss", "mae", "mae_1", "mse"}


def test_a_metric_with_several_thresholds_logs_one_number_per_threshold():
    # Keras 3.15 logs an array here: {'true_positives': array([12., 2.])}
    model = small_model()
    model.compile(optimizer="sgd", loss="mse",
                  metrics=[tinynet.metrics.TruePositives(thresholds=[0.0, 1.0])])
    y = np.ones((len(X), 1))
    history = model.fit(X, y, epochs=2, verbose=0)
    counts = history.history["true_positives"][-1]
    assert isinstance(counts, np.ndarray) and counts.shape == (2,)
    assert counts[0] == len(X) and counts[1] == 0  # every sigmoid output is in (0, 1)
    logs = model.evaluate(X, y, verbose=0, return_dict=True)
    assert logs["true_positives"].shape == (2,)


def test_training_confusion_counts_count_the_training_samples_not_the_validation_ones():
    # Keras 3.15.1 on its torch backend logs the VALIDATION counts under 'true_positives' and
    # the like too (seen with validation_split=0.25: the training tp+fp+tn+fn added up to the
    # 50 held-out samples, not the 150 trained on): a single-threshold count's result is a
    # view of its accumulator, which the validation pass then resets and refills. tinynet
    # logs each pass's own counts.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 4)).astype(np.float32)
    y = (x[:, :1] > 0.3).astype(np.float32)
    model = Sequential([Dense(1, activation="sigmoid", input_shape=(4,))])
    names = ["true_positives", "false_positives", "true_negatives", "false_negatives"]
    model.compile(optimizer="adam", loss="binary_crossentropy",
                  metrics=[tinynet.metrics.TruePositives(), tinynet.metrics.FalsePositives(),
                           tinynet.metrics.TrueNegatives(), tinynet.metrics.FalseNegatives()])
    logs = model.fit(x, y, epochs=2, validation_split=0.25, verbose=0).history
    for epoch in range(2):
        assert sum(logs[name][epoch] for name in names) == 150
        assert sum(logs["val_" + name][epoch] for name in names) == 50
    assert logs["true_positives"][-1] + logs["false_negatives"][-1] == y[:150].sum()


def test_an_array_metric_is_shown_and_written_as_keras_does(tmp_path, capsys):
    # Keras 3.15: the bar shows the mean of the numbers, CSVLogger writes '"[4.0, 0.0]"'
    from tinynet.callbacks import CSVLogger

    model = small_model()
    model.compile(optimizer="sgd", loss="mse",
                  metrics=[tinynet.metrics.TruePositives(thresholds=[0.0, 1.0])])
    y = np.ones((len(X), 1))
    model.fit(X, y, epochs=1, verbose=1, callbacks=[CSVLogger(tmp_path / "log.csv")])
    assert f"true_positives: {len(X) / 2:.4f}" in capsys.readouterr().out  # mean of [n, 0]
    row = (tmp_path / "log.csv").read_text().splitlines()[1]
    assert f'"""[{float(len(X))}, 0.0]"""' in row


def test_keras_only_arguments_at_their_keras_default_are_accepted():
    # Keras code often spells out the defaults: fit(..., steps_per_epoch=None)
    model = small_model()
    model.compile(optimizer="sgd", loss="mse", run_eagerly=False, jit_compile="auto",
                  steps_per_execution=1)
    model.fit(X, np.zeros((len(X), 1)), steps_per_epoch=None, validation_steps=None,
              verbose=0)
    model.evaluate(X, np.zeros((len(X), 1)), steps=None, verbose=0)
    with pytest.raises(TypeError, match=r"evaluate\(steps=\.\.\.\) is a Keras argument for a "
                                        r"fixed number of batches"):
        model.evaluate(X, np.zeros((len(X), 1)), steps=2, verbose=0)
    # how Keras runs (eagerly, compiled) changes nothing tinynet computes: any value passes
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True, jit_compile=False)
    with pytest.raises(TypeError, match=r"compile\(steps_per_execution=\.\.\.\)"):
        model.compile(optimizer="sgd", loss="mse", steps_per_execution=4)


def test_keras_models_save_model_saves_as_model_save_does(tmp_path):
    from tinynet.models import load_model, save_model

    model = small_model()
    path = tmp_path / "model.keras"
    save_model(model, path)
    np.testing.assert_array_equal(load_model(path).predict(X, verbose=0),
                                  model.predict(X, verbose=0))
    with pytest.raises(FileExistsError, match="overwrite=False"):
        save_model(model, path, overwrite=False)


def test_validation_freq_may_list_the_epochs_as_in_keras():
    # Keras 3: validation_freq=[1, 3] validates after epochs 1 and 3 (counted from 1)
    model = small_model()
    history = model.fit(X, Y, epochs=4, validation_split=0.25, validation_freq=[1, 3], verbose=0)
    assert len(history.history["val_loss"]) == 2 and len(history.history["loss"]) == 4
    with pytest.raises(ValueError, match=r"validation_freq=\.\.\.\): each epoch"):
        model.fit(X, Y, validation_split=0.25, validation_freq=[0, 2], verbose=0)
