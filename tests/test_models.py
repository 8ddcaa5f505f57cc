"""Sequential: summary, fit's bookkeeping, evaluate/predict, seeding, weights and files."""

import os

import numpy as np
import pytest

import tinynet
from tinynet.datasets import make_classification
from tinynet.layers import Activation, BatchNormalization, Dense, Dropout
from tinynet.models import Sequential
from tinynet.optimizers import SGD, Adam


def article_model(seed=0, optimizer=None):
    tinynet.set_seed(seed)
    model = Sequential([
        Dense(64, input_shape=(20,)), BatchNormalization(), Activation("relu"),
        Dense(32), BatchNormalization(), Activation("relu"),
        Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=optimizer or Adam(), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


@pytest.fixture(scope="module")
def data():
    return make_classification(n_samples=100, seed=11)


def summary_lines(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines).splitlines()


def table_rows(lines):
    """The cells of the summary's table rows (Keras 3's box drawing: │ name │ shape │ count │),
    a name wrapped onto a second line of its row joined back with a space."""
    rows = []
    for line in lines:
        if line.startswith("│"):
            cells = [cell.strip() for cell in line.strip("│").split("│")]
            if rows and not any(cells[1:]):
                rows[-1][0] += " " + cells[0]
            else:
                rows.append(cells)
    return rows


# -- summary ---------------------------------------------------------------------------------

def test_summary_totals_are_keras_totals():
    text = "\n".join(summary_lines(article_model()))
    assert "Total params: 3,841" in text
    assert "Trainable params: 3,649" in text
    assert "Non-trainable params: 192" in text


def test_summary_has_one_row_per_layer_with_name_type_shape_and_count(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")  # Keras's table is as wide as the terminal allows
    lines = summary_lines(article_model())
    expected = [
        ("dense (Dense)", "(None, 64)", "1,344"),
        ("batch_normalization (BatchNormalization)", "(None, 64)", "256"),
        ("activation (Activation)", "(None, 64)", "0"),
        ("dense_1 (Dense)", "(None, 32)", "2,080"),
        ("batch_normalization_1 (BatchNormalization)", "(None, 32)", "128"),
        ("activation_1 (Activation)", "(None, 32)", "0"),
        ("dense_2 (Dense)", "(None, 1)", "33"),
    ]
    assert [tuple(row) for row in table_rows(lines)] == expected


def test_a_model_built_with_add_equals_one_built_from_a_list():
    tinynet.set_seed(0)
    model = Sequential()
    model.add(Dense(8, input_shape=(3,)))
    model.add(BatchNormalization())
    assert model.built
    assert model.count_params() == 3 * 8 + 8 + 4 * 8
    assert [layer.name for layer in model.layers] == ["dense", "batch_normalization"]


def test_a_model_without_input_shape_builds_on_its_first_data(data):
    x, y = data
    model = Sequential([Dense(4), Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy")
    assert not model.built
    model.fit(x, y, epochs=1, verbose=0)
    assert model.layers[0].params["kernel"].shape == (20, 4)


# -- fit's bookkeeping -----------------------------------------------------------------------

def test_epoch_loss_is_the_size_weighted_mean_of_batch_losses_before_each_update(data):
    x, y = data  # 100 samples in batches of 32: sizes 32, 32, 32, 4
    history = article_model(seed=1).fit(x, y, batch_size=32, epochs=2, shuffle=False,
                                        verbose=0).history

    by_hand = article_model(seed=1)
    sizes = [32, 32, 32, 4]
    for epoch in range(2):
        batch_logs = [by_hand.train_on_batch(x[start:start + 32], y[start:start + 32])
                      for start in range(0, 100, 32)]
        losses = [logs[0] for logs in batch_logs]
        accuracies = [logs[1] for logs in batch_logs]
        assert history["loss"][epoch] == pytest.approx(np.dot(losses, sizes) / 100, rel=1e-6)
        assert history["accuracy"][epoch] == pytest.approx(np.dot(accuracies, sizes) / 100,
                                                           rel=1e-6)
        # an unweighted mean would differ: the last batch counts 4 / 100, not 1 / 4
        assert np.mean(losses) != pytest.approx(np.dot(losses, sizes) / 100, rel=1e-6)


def test_fit_and_a_train_on_batch_loop_end_with_the_same_weights(data):
    x, y = data
    fitted = article_model(seed=2)
    fitted.fit(x, y, batch_size=25, epochs=2, shuffle=False, verbose=0)
    looped = article_model(seed=2)
    for _ in range(2):
        for start in range(0, 100, 25):
            looped.train_on_batch(x[start:start + 25], y[start:start + 25])
    for a, b in zip(fitted.get_weights(), looped.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_batch_loss_is_measured_before_that_batch_updates_the_weights(data):
    x, y = data
    model = article_model(seed=3)
    before = model.loss.loss(y.reshape(-1, 1), model.forward(x, training=True))
    model = article_model(seed=3)
    history = model.fit(x, y, batch_size=100, epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx(before, rel=1e-6)


def test_validation_split_holds_out_the_last_samples_before_shuffling(data):
    x, y = data
    split = 75  # validation_split=0.25 of 100 samples: the last 25 are held out
    with_split = article_model(seed=4)
    history = with_split.fit(x, y, validation_split=0.25, epochs=2, batch_size=16, verbose=0)
    # training on only the first 75 samples, with the same shuffles, gives the same model
    by_hand = article_model(seed=4)
    by_hand.fit(x[:split], y[:split], epochs=2, batch_size=16, verbose=0)
    for a, b in zip(with_split.get_weights(), by_hand.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    # and the validation numbers are evaluate() on the last 25
    val_loss, val_accuracy = with_split.evaluate(x[split:], y[split:], verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(val_loss, rel=1e-6)
    assert history.history["val_accuracy"][-1] == pytest.approx(val_accuracy, rel=1e-6)


def test_history_holds_loss_metrics_and_their_validation_twins(data):
    x, y = data
    history = article_model().fit(x, y, epochs=3, verbose=0,
                                  validation_data=(x[:20], y[:20]))
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(values) == 3 for values in history.history.values())
    assert history.epoch == [0, 1, 2]


def test_fit_drives_the_loss_down_with_sgd_too(data):
    x, y = data
    history = article_model(optimizer=SGD(learning_rate=0.1, momentum=0.9)).fit(
        x, y, epochs=8, verbose=0)
    assert history.history["loss"][-1] < 0.8 * history.history["loss"][0]


def test_compile_accepts_optimizer_names():
    model = Sequential([Dense(1, input_shape=(2,), activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    assert isinstance(model.optimizer, SGD)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    assert isinstance(model.optimizer, Adam)


# -- evaluate and predict --------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(data):
    x, y = data
    model = article_model(seed=5)
    model.fit(x, y, epochs=2, verbose=0)
    return model


def test_evaluate_equals_the_loss_and_accuracy_of_predict(trained, data):
    x, y = data
    p = trained.predict(x).ravel().astype(np.float64)
    p_clipped = np.clip(p, 1e-7, 1 - 1e-7)
    loss = -np.mean(y * np.log(p_clipped) + (1 - y) * np.log(1 - p_clipped))
    accuracy = np.mean((p > 0.5) == (y > 0.5))
    got_loss, got_accuracy = trained.evaluate(x, y, verbose=0)
    assert got_loss == pytest.approx(loss, rel=1e-5)
    assert got_accuracy == pytest.approx(accuracy)


def test_evaluate_does_not_depend_on_the_batch_size(trained, data):
    x, y = data
    small = trained.evaluate(x, y, batch_size=7, verbose=0)
    whole = trained.evaluate(x, y, batch_size=100, verbose=0)
    np.testing.assert_allclose(small, whole, rtol=1e-5)


def test_predict_uses_inference_mode_so_a_sample_ignores_its_batch(trained, data):
    x, _ = data
    np.testing.assert_allclose(trained.predict(x)[1:], trained.predict(x[1:]), rtol=1e-6,
                               atol=1e-7)
    np.testing.assert_allclose(trained.predict(x[:5], batch_size=1), trained.predict(x[:5]),
                               rtol=1e-6, atol=1e-7)


def test_predict_and_evaluate_leave_the_weights_alone(trained, data):
    x, y = data
    before = trained.get_weights()
    trained.predict(x)
    trained.evaluate(x, y, verbose=0)
    for a, b in zip(before, trained.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_predict_differs_from_the_training_mode_forward(trained, data):
    x, _ = data
    inference = trained.predict(x[:10])
    training = trained.forward(x[:10], training=True)
    assert not np.allclose(inference, training)


def test_accuracy_with_categorical_crossentropy_compares_argmax():
    tinynet.set_seed(6)
    x = np.random.default_rng(6).normal(size=(40, 5)).astype(np.float32)
    labels = np.random.default_rng(7).integers(0, 3, size=40)
    model = Sequential([Dense(3, input_shape=(5,), activation="softmax")])
    model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    _, accuracy = model.evaluate(x, np.eye(3)[labels], verbose=0)
    assert accuracy == pytest.approx(np.mean(model.predict(x).argmax(axis=1) == labels))
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    _, sparse_accuracy = model.evaluate(x, labels, verbose=0)
    assert sparse_accuracy == pytest.approx(accuracy)


# -- reproducibility -------------------------------------------------------------------------

def test_two_seeded_runs_with_shuffling_and_dropout_are_bit_identical(data):
    x, y = data
    runs = []
    for _ in range(2):
        tinynet.set_seed(8)
        model = Sequential([Dense(16, input_shape=(20,)), BatchNormalization(),
                            Activation("relu"), Dropout(0.3), Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        history = model.fit(x, y, epochs=2, batch_size=16, verbose=0, validation_split=0.2)
        runs.append((history.history, model.get_weights()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1], strict=True):
        np.testing.assert_array_equal(a, b)


def test_another_seed_gives_another_run(data):
    x, y = data
    first = article_model(seed=9).fit(x, y, epochs=1, verbose=0).history["loss"]
    other = article_model(seed=10).fit(x, y, epochs=1, verbose=0).history["loss"]
    assert first != other


# -- weights and files -----------------------------------------------------------------------

def test_get_weights_lists_each_layer_in_keras_order():
    model = article_model()
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(20, 64), (64,), (64,), (64,), (64,), (64,),
                      (64, 32), (32,), (32,), (32,), (32,), (32,), (32, 1), (1,)]
    gamma, beta, moving_mean, moving_variance = model.get_weights()[2:6]
    assert np.all(gamma == 1) and np.all(beta == 0)
    assert np.all(moving_mean == 0) and np.all(moving_variance == 1)


def test_set_weights_then_get_weights_round_trips(data):
    source = article_model(seed=11)
    source.fit(*data, epochs=1, verbose=0)
    target = article_model(seed=12)
    target.set_weights(source.get_weights())
    for a, b in zip(source.get_weights(), target.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_set_weights_refuses_a_wrong_shape_and_changes_nothing():
    model = article_model()
    before = model.get_weights()
    wrong = [w.copy() + 1 for w in before]
    wrong[-2] = np.zeros((32, 2))
    with pytest.raises(ValueError, match="shape"):
        model.set_weights(wrong)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_save_and_load_weights_round_trip_exactly(tmp_path, data):
    x, y = data
    model = article_model(seed=13)
    model.fit(x, y, epochs=1, verbose=0)
    path = tmp_path / "weights.npz"
    model.save_weights(path)
    fresh = article_model(seed=14)
    fresh.load_weights(path)
    for a, b in zip(model.get_weights(), fresh.get_weights(), strict=True):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict(x), fresh.predict(x))
    assert os.listdir(tmp_path) == ["weights.npz"]  # no temporary file left behind


def test_load_weights_refuses_a_file_of_another_architecture(tmp_path):
    path = tmp_path / "small.npz"
    small = Sequential([Dense(2, input_shape=(20,))])
    small.save_weights(path)
    model = article_model()
    before = model.get_weights()
    with pytest.raises(ValueError):
        model.load_weights(path)
    for a, b in zip(before, model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


# -- the two passes for students who write their own loop ------------------------------------

def test_forward_and_backward_over_the_stack_give_every_gradient():
    model = article_model(seed=15)
    x = np.random.default_rng(15).normal(size=(8, 20)).astype(np.float32)
    out = model.forward(x, training=True)
    assert out.shape == (8, 1)
    grad_input = model.backward(np.ones_like(out))
    assert grad_input.shape == x.shape
    assert np.any(model.layers[0].grads["kernel"] != 0)


def test_trace_next_step_keeps_what_each_layer_saw_for_one_step():
    tinynet.set_seed(0)
    model = Sequential([Dense(3, input_shape=(4,), activation="relu"),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    y = np.array([0, 1, 1, 0, 1], dtype="float32")
    hidden = model.layers[0].forward(x, training=True).copy()  # before the step's update
    model.trace_next_step = True
    model.train_on_batch(x, y)
    assert model.trace_next_step is False  # one step only
    assert model.trace["inputs"][0] is not None
    np.testing.assert_array_equal(model.trace["inputs"][0], x)
    np.testing.assert_array_equal(model.trace["inputs"][1], hidden)
    assert [g.shape for g in model.trace["grad_inputs"]] == [(5, 4), (5, 3)]
    model.trace = None
    model.train_on_batch(x, y)
    assert model.trace is None  # an ordinary step keeps nothing


def test_the_progress_line_shows_step_time_even_for_sub_millisecond_steps():
    from tinynet.progress import format_step_time

    assert format_step_time(0.00025) == "250us/step"
    assert format_step_time(0.0021) == "2ms/step"


def small_fit_model():
    tinynet.set_seed(0)
    model = Sequential([Dense(8, input_shape=(20,), activation="relu"),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("verbose", [0, 1, 2])
def test_fit_verbose_levels_print_what_keras_prints(capsys, verbose):
    x, y = make_classification(n_samples=100, seed=0)
    small_fit_model().fit(x, y, epochs=2, batch_size=32, verbose=verbose)
    printed = capsys.readouterr().out
    if verbose == 0:
        assert printed == ""
        return
    lines = [line for line in printed.splitlines() if line.strip()]
    assert sum("loss: " in line and "accuracy: " in line for line in lines) == 2  # per epoch
    assert lines[0] == "Epoch 1/2" and "s/step" in printed
    if verbose == 1:  # Keras 3's bar: step count, bar, time, time per step, running logs
        assert lines[1].startswith("4/4 \u2501")
    else:  # one line per epoch: steps, time, time per step, logs
        assert lines[1].startswith("4/4 - ")


def test_summary_of_an_unbuilt_model_prints_as_keras_3_does():
    model = Sequential([Dense(4), Dense(1)])
    lines = summary_lines(model)
    assert any("dense (Dense)" in line and "?" in line and "0 (unbuilt)" in line
               for line in lines)
    assert any(line.startswith(" Total params: 0 ") for line in lines)
    assert "input_shape" in lines[-1]
    assert "no layers yet" in "\n".join(summary_lines(Sequential()))


def test_after_fit_the_first_layer_called_by_hand_returns_its_input_gradient(data):
    # a training step lets the first layer skip dL/dx; the flag must not outlive the step
    x, y = data
    model = Sequential([Dense(4, input_shape=(x.shape[1],)), Dense(1, activation="sigmoid")])
    model.compile(optimizer=Adam(), loss="binary_crossentropy")
    model.fit(x[:32], y[:32], batch_size=16, verbose=0)
    first = model.layers[0]
    first.forward(x[:5], training=True)
    dx = first.backward(np.ones((5, 4), dtype=x.dtype))
    assert isinstance(dx, np.ndarray) and dx.shape == (5, x.shape[1])
    np.testing.assert_allclose(dx, np.ones((5, 4)) @ first.params["kernel"].T, rtol=1e-5,
                               atol=1e-6)  # float32 sums


def test_the_first_layer_gets_its_flag_back_when_a_backward_fails_midway(data):
    x, y = data
    model = Sequential([Dense(4, input_shape=(x.shape[1],)), Dense(1)])
    model.compile(optimizer=Adam(), loss="mse")
    model.forward(x[:5], training=True)
    with pytest.raises(ValueError, match="grad_output"):
        model.backward(np.ones((5, 3)), input_grad=False)  # the wrong shape: Dense(1) raises
    assert model.layers[0].needs_input_grad is True
