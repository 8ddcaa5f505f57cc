"""The Recorder's numbers are the statistics of the arrays a training step really used.

Each comparison redoes the step by hand: a twin model with the same weights runs forward layer
by layer on the same batch, the gradients are back-propagated through its layers, and NumPy's
own mean / std / percentile / norm give the expected values.
"""

import os

import numpy as np
import pytest

import tinynet
from tinynet import recorder as statistics
from tinynet.callbacks import Callback, Recorder, percentiles
from tinynet.layers import Activation, BatchNormalization, Dense, Dropout
from tinynet.models import Sequential
from tinynet.optimizers import SGD

LEARNING_RATE = 0.1
Q = [15, 50, 85]


def small_model(dropout=False):
    """Dense -> BN -> tanh -> Dense(relu) -> Dense(sigmoid): every kind of statistic."""
    layers = [Dense(8, input_shape=(5,)), BatchNormalization(), Activation("tanh"),
              Dense(6, activation="relu")]
    if dropout:
        layers.append(Dropout(0.3))
    layers.append(Dense(1, activation="sigmoid"))
    model = Sequential(layers)
    model.compile(optimizer=SGD(learning_rate=LEARNING_RATE), loss="binary_crossentropy")
    return model


def data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5)).astype(np.float32)
    y = (x[:, 0] + x[:, 1] > 0).astype(np.float32).reshape(-1, 1)
    return x, y


def by_hand(model, x, y):
    """One training step done by hand on a copy of `model`: every layer's input and output
    and dL/d(input), and every parameter gradient, before any update."""
    twin = small_model()
    twin.set_weights(model.get_weights())
    inputs, outputs = [], []
    values = x
    for layer in twin.layers:
        inputs.append(values)
        values = layer.forward(values, training=True)
        outputs.append(values)
    grad = twin.loss.gradient(y, values)  # dL/dy_pred, then the chain rule layer by layer
    grad_inputs = [None] * len(twin.layers)
    for i in range(len(twin.layers) - 1, -1, -1):
        grad = twin.layers[i].backward(grad)
        grad_inputs[i] = grad
    return twin, inputs, outputs, grad_inputs


@pytest.fixture
def first_step():
    """A model, the recorder of its first step (a single batch of 40), and that step by hand."""
    tinynet.set_seed(3)
    model = small_model()
    x, y = data()
    expected = by_hand(model, x, y)
    weights_before = [layer.get_weights() for layer in model.layers]
    recorder = Recorder(every=1, per_unit=True, histograms=True)
    model.fit(x, y, batch_size=40, epochs=1, shuffle=False, verbose=0, callbacks=[recorder])
    return model, recorder, expected, weights_before


def test_activation_statistics_equal_numpy_on_the_layer_inputs_and_outputs(first_step):
    model, recorder, (twin, inputs, outputs, _), _ = first_step
    for i, layer in enumerate(model.layers):
        for which, arrays in (("input", inputs), ("output", outputs)):
            values = arrays[i]
            got = [recorder.get(layer.name, f"{which}_{key}")[0]
                   for key in ("mean", "std", "p15", "p50", "p85")]
            want = [np.mean(values), np.std(values), *np.percentile(values, Q)]
            np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6,
                                       err_msg=f"{layer.name} {which}")


def test_gradient_norms_equal_numpy_norms_of_the_hand_computed_gradients(first_step):
    model, recorder, (twin, _, _, grad_inputs), _ = first_step
    for i, layer in enumerate(model.layers):
        np.testing.assert_allclose(recorder.get(layer.name, "grad_input_norm")[0],
                                   np.linalg.norm(grad_inputs[i]), rtol=1e-5)
        for key in layer.params:
            np.testing.assert_allclose(recorder.get(layer.name, f"grad_norm/{key}")[0],
                                       np.linalg.norm(twin.layers[i].grads[key]), rtol=1e-5)


def test_update_ratio_is_the_sgd_step_over_the_weight(first_step):
    # plain SGD moves w by lr * g, so the ratio is lr * ||g|| / ||w||
    model, recorder, (twin, _, _, _), weights_before = first_step
    for i, layer in enumerate(model.layers):
        for key, before in zip(layer.weight_keys(), weights_before[i], strict=True):
            if key not in layer.params:
                continue
            ratio = recorder.get(layer.name, f"update_ratio/{key}")[0]
            if np.linalg.norm(before) == 0:
                assert np.isnan(ratio)  # a bias that starts at zero has no size to compare to
            else:
                want = LEARNING_RATE * np.linalg.norm(twin.layers[i].grads[key]) / \
                    np.linalg.norm(before)
                np.testing.assert_allclose(ratio, want, rtol=1e-4)


def test_saturated_and_dead_fractions_follow_their_definitions(first_step):
    model, recorder, (_, _, outputs, _), _ = first_step
    tanh_out, relu_out, sigmoid_out = outputs[2], outputs[3], outputs[4]
    assert recorder.get("activation", "saturated_fraction")[0] == pytest.approx(
        np.mean(np.abs(tanh_out) > 0.99))
    assert recorder.get("dense_1", "dead_fraction")[0] == pytest.approx(
        np.mean(np.all(relu_out <= 0, axis=0)))
    assert recorder.get("dense_2", "saturated_fraction")[0] == pytest.approx(
        np.mean((sigmoid_out < 0.01) | (sigmoid_out > 0.99)))
    assert "dead_fraction" not in recorder.keys("activation")
    assert "saturated_fraction" not in recorder.keys("batch_normalization")


def test_per_unit_percentiles_are_taken_over_the_batch_for_each_unit(first_step):
    model, recorder, (_, inputs, _, _), _ = first_step
    got = recorder.get("batch_normalization", "input_unit_percentiles")
    assert got.shape == (1, 3, 8)
    np.testing.assert_allclose(got[0], np.percentile(inputs[1], Q, axis=0), rtol=1e-5,
                               atol=1e-6)


def test_histograms_count_every_value_once(first_step):
    model, recorder, (_, _, outputs, _), _ = first_step
    hist = recorder.get("activation", "output_hist")
    edges = recorder.hist_edges("activation", "output")
    assert hist.shape == (1, 40) and edges.shape == (41,)
    assert edges[0] == -1 and edges[-1] == 1  # tanh's range
    np.testing.assert_allclose(hist.sum(axis=1), 1.0)
    counts, _ = np.histogram(outputs[2], bins=edges)
    np.testing.assert_allclose(hist[0], counts / outputs[2].size)


def test_steps_are_counted_across_epochs_and_across_fits():
    tinynet.set_seed(0)
    model = small_model()
    x, y = data(n=40)
    recorder = Recorder(every=3)
    model.fit(x, y, batch_size=10, epochs=2, verbose=0, callbacks=[recorder])  # steps 0..7
    model.fit(x, y, batch_size=10, epochs=1, verbose=0, callbacks=[recorder])  # steps 8..11
    np.testing.assert_array_equal(recorder.steps, [0, 3, 6, 9])
    for name in recorder.layer_names:
        for key in recorder.keys(name):
            assert len(recorder.get(name, key)) == 4


def test_a_smaller_last_batch_is_recorded_with_its_own_size():
    tinynet.set_seed(0)
    model = small_model()
    x, y = data(n=10)
    recorder = Recorder(every=1)
    model.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0, callbacks=[recorder])
    assert list(recorder.steps) == [0, 1, 2, 3, 4, 5]  # batches of 4, 4, 2 each epoch
    assert recorder.get("dense", "grad_input_norm").shape == (6,)
    # the first layer's input is the data itself: step 2 saw the last two samples
    assert recorder.get("dense", "input_std")[2] == pytest.approx(np.std(x[8:]), rel=1e-5)
    assert recorder.get("dense", "input_std")[1] == pytest.approx(np.std(x[4:8]), rel=1e-5)


def test_recording_does_not_change_the_training_run():
    x, y = data(n=64)

    def train(callbacks):
        tinynet.set_seed(5)
        model = small_model(dropout=True)
        model.fit(x, y, batch_size=16, epochs=3, verbose=0, callbacks=callbacks)
        return model.get_weights()

    plain = train([])
    probe = Recorder(every=2, x_probe=x[:20], probe_training=True, histograms=True)
    recorded = train([probe])
    for a, b in zip(plain, recorded, strict=True):
        np.testing.assert_array_equal(a, b)


def test_x_probe_statistics_come_from_an_inference_pass_on_the_probe():
    tinynet.set_seed(2)
    model = small_model()
    x, y = data()
    probe = np.random.default_rng(9).normal(size=(25, 5)).astype(np.float32)
    twin = small_model()
    twin.set_weights(model.get_weights())  # the weights of step 0, before its update
    expected = []
    values = probe
    for layer in twin.layers:
        values = layer.forward(values, training=False)
        expected.append(values)
    recorder = Recorder(every=1, x_probe=probe)
    model.fit(x, y, batch_size=40, epochs=1, verbose=0, callbacks=[recorder])
    for layer, values in zip(model.layers, expected, strict=True):
        assert recorder.get(layer.name, "output_mean")[0] == pytest.approx(np.mean(values),
                                                                         rel=1e-5, abs=1e-6)
        assert recorder.get(layer.name, "output_p85")[0] == pytest.approx(
            np.percentile(values, 85), rel=1e-5, abs=1e-6)


def test_layers_can_be_chosen_by_name_or_index():
    tinynet.set_seed(0)
    model = small_model()
    x, y = data()
    recorder = Recorder(every=1, layers=["dense_2", 1])
    model.fit(x, y, batch_size=40, epochs=1, verbose=0, callbacks=[recorder])
    assert recorder.layer_names == ["batch_normalization", "dense_2"]  # model order
    assert recorder.layer_types == {"batch_normalization": "BatchNormalization",
                                    "dense_2": "Dense"}
    assert recorder.activations == {"dense_2": "sigmoid"}


def test_save_and_load_give_back_the_same_records(tmp_path, first_step):
    _, recorder, _, _ = first_step
    path = tmp_path / "run.npz"
    recorder.save(path)
    assert os.listdir(tmp_path) == ["run.npz"]  # no temporary file left behind
    loaded = Recorder.load(path)
    np.testing.assert_array_equal(loaded.steps, recorder.steps)
    assert loaded.layer_names == recorder.layer_names
    assert loaded.layer_types == recorder.layer_types
    assert loaded.activations == recorder.activations
    for name in recorder.layer_names:
        assert loaded.keys(name) == recorder.keys(name)
        for key in recorder.keys(name):
            np.testing.assert_array_equal(loaded.get(name, key), recorder.get(name, key))
    np.testing.assert_array_equal(loaded.hist_edges("dense", "input"),
                                  recorder.hist_edges("dense", "input"))
    flat = recorder.as_dict()
    assert set(flat) >= {"steps", "dense/grad_norm/kernel", "activation/output_hist"}


def test_save_refuses_a_missing_folder_and_load_a_foreign_file(tmp_path, first_step):
    _, recorder, _, _ = first_step
    with pytest.raises(FileNotFoundError, match="does not exist"):
        recorder.save(tmp_path / "nowhere" / "run.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not written by Recorder.save"):
        Recorder.load(tmp_path / "other.npz")


def test_unknown_layers_and_keys_raise_key_errors_that_list_the_choices(first_step):
    _, recorder, _, _ = first_step
    with pytest.raises(KeyError, match="batch_normalization"):
        recorder.get("dense_9", "input_mean")
    with pytest.raises(KeyError, match="input_mean"):
        recorder.get("dense", "input_average")
    with pytest.raises(ValueError, match="'input' or 'output'"):
        recorder.hist_edges("dense", "outputs")


def test_hist_edges_say_how_to_get_histograms_when_there_are_none():
    x, y = data()
    recorder = Recorder(every=1)
    small_model().fit(x, y, batch_size=40, verbose=0, callbacks=[recorder])
    with pytest.raises(KeyError, match="histograms=True"):
        recorder.hist_edges("dense", "output")


@pytest.mark.parametrize("kwargs, error", [
    ({"every": 0}, ValueError),
    ({"every": "10"}, TypeError),
    ({"layers": "dense"}, TypeError),
    ({"layers": []}, ValueError),
    ({"histograms": 1}, TypeError),
    ({"bins": 0}, ValueError),
    ({"hist_range": (1, 0)}, ValueError),
    ({"hist_range": "wide"}, TypeError),
    ({"x_probe": [[1.0, float("nan")]]}, ValueError),
])
def test_bad_arguments_are_refused_with_the_argument_named(kwargs, error):
    with pytest.raises(error, match=list(kwargs)[0]):
        Recorder(**kwargs)


def test_a_probe_of_the_wrong_shape_or_an_unknown_layer_is_refused_at_fit():
    model = small_model()
    x, y = data()
    with pytest.raises(ValueError, match="x_probe"):
        model.fit(x, y, verbose=0, callbacks=[Recorder(x_probe=np.zeros((3, 4)))])
    with pytest.raises(ValueError, match="dense_1"):
        model.fit(x, y, verbose=0, callbacks=[Recorder(layers=["dense_l"])])


def test_one_recorder_records_one_model():
    x, y = data()
    recorder = Recorder()
    small_model().fit(x, y, verbose=0, callbacks=[recorder])
    with pytest.raises(ValueError, match="new Recorder"):
        small_model().fit(x, y, verbose=0, callbacks=[recorder])


@pytest.mark.parametrize("shape", [(1,), (2,), (7,), (40, 3), (5, 1)])
def test_percentiles_match_numpy(shape):
    values = np.random.default_rng(len(shape)).normal(size=shape)
    np.testing.assert_allclose(percentiles(values), np.percentile(values, Q, axis=0))
    if len(shape) == 2:
        np.testing.assert_allclose(percentiles(values, axis=1),
                                   np.percentile(values, Q, axis=1))



def relu_model():
    """Dense -> BN -> Activation('relu') -> Dense(sigmoid): a ReLU layer of its own, whose
    sorted output the recorder derives from its sorted input."""
    model = Sequential([Dense(8, input_shape=(5,)), BatchNormalization(), Activation("relu"),
                        Dense(1, activation="sigmoid")])
    model.compile(optimizer=SGD(learning_rate=LEARNING_RATE), loss="binary_crossentropy")
    return model


def test_a_relu_layer_output_percentiles_equal_numpy():
    tinynet.set_seed(4)
    model = relu_model()
    x, y = data()
    twin = relu_model()
    twin.set_weights(model.get_weights())
    relu_in = twin.layers[1].forward(twin.layers[0].forward(x, training=True), training=True)
    relu_out = np.maximum(relu_in, 0)
    assert np.mean(relu_out == 0) > 0.2  # enough zeros for p15 to be one of them
    recorder = Recorder(every=1)
    model.fit(x, y, batch_size=40, epochs=1, shuffle=False, verbose=0, callbacks=[recorder])
    for which, values in (("input", relu_in), ("output", relu_out)):
        got = [recorder.get("activation", f"{which}_p{q}")[0] for q in Q]
        np.testing.assert_allclose(got, np.percentile(values, Q), rtol=1e-6, atol=1e-7)
        assert recorder.get("activation", f"{which}_std")[0] == pytest.approx(np.std(values),
                                                                            rel=1e-5)


def test_statistics_do_not_depend_on_when_they_are_computed(monkeypatch):
    """Records are summarized in groups (one table per batch size, flushed when full):
    flushing after every record or after every 5 gives the same arrays, in step order."""
    x, y = data(n=50)

    def record(flush_records):
        monkeypatch.setattr(statistics, "FLUSH_RECORDS", flush_records)
        tinynet.set_seed(6)
        recorder = Recorder(every=1, histograms=True, per_unit=True)
        # batches of 16, 16, 16 and 2: steps 3, 7 and 11 have a table of their own
        relu_model().fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0,
                         callbacks=[recorder])
        return recorder

    one, five = record(1), record(5)
    np.testing.assert_array_equal(five.steps, np.arange(12))
    for name in one.layer_names:
        assert one.keys(name) == five.keys(name)
        for key in one.keys(name):
            np.testing.assert_array_equal(one.get(name, key), five.get(name, key))
    # the data is the first layer's input: each record saw its own batch
    stds = five.get("dense", "input_std")
    assert stds[3] == pytest.approx(np.std(x[48:]), rel=1e-5)
    assert stds[4] == pytest.approx(np.std(x[:16]), rel=1e-5)


def test_a_recorder_of_layers_without_weights_works():
    tinynet.set_seed(0)
    model = relu_model()
    x, y = data()
    recorder = Recorder(every=1, layers=["activation"])
    model.fit(x, y, batch_size=20, epochs=1, verbose=0, callbacks=[recorder])
    assert recorder.layer_names == ["activation"]
    assert recorder.keys("activation")[:2] == ["input_mean", "input_std"]
    assert not any(key.startswith("update_ratio") for key in recorder.keys("activation"))
    assert recorder.get("activation", "output_p50").shape == (2,)


def test_a_probe_recorder_handles_a_smaller_last_batch():
    """With x_probe every record's activations have the probe's shape, but the gradients
    still have the batch's: the 2-sample last batch must be told apart."""
    tinynet.set_seed(1)
    model = relu_model()
    x, y = data(n=50)
    recorder = Recorder(every=1, x_probe=x[:7])
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0, callbacks=[recorder])
    norms = recorder.get("dense", "grad_input_norm")
    assert norms.shape == (4,) and np.all(np.isfinite(norms)) and np.all(norms > 0)
    assert recorder.get("dense", "input_std")[3] == pytest.approx(np.std(x[:7]), rel=1e-5)


class CopyStep(Callback):
    """Placed before a Recorder: copies what the recorder reads of each step (the trace, the
    weights before and after), so the plain one-record functions can be applied to it."""

    def __init__(self):
        super().__init__()
        self.steps = []

    def on_train_batch_begin(self, batch, logs=None):
        self.before = [{k: v.copy() for k, v in layer.params.items()}
                       for layer in self.model.layers]

    def on_train_batch_end(self, batch, logs=None):
        trace = self.model.trace
        self.steps.append({
            "trace": {kind: [a.copy() for a in arrays] for kind, arrays in trace.items()},
            "grads": [{k: layer.grads[k].copy() for k in layer.params}
                      for layer in self.model.layers],
            "before": self.before,
            "after": [{k: v.copy() for k, v in layer.params.items()}
                      for layer in self.model.layers]})


def test_every_recorded_number_is_what_the_plain_function_gives():
    # 40 samples in batches of 16: two layouts (16 and the last 8), several flushes
    tinynet.set_seed(5)
    model = small_model(dropout=True)
    copy, recorder = CopyStep(), Recorder(every=1, histograms=True, per_unit=True)
    model.fit(*data(), batch_size=16, epochs=2, verbose=0, callbacks=[copy, recorder])
    assert len(recorder.steps) == len(copy.steps) == 6
    for r, step in enumerate(copy.steps):
        trace = step["trace"]
        for i, layer in enumerate(model.layers):
            name, got = layer.name, {key: recorder.get(layer.name, key)[r]
                                     for key in recorder.keys(layer.name)}
            want = {}
            for which, values in (("input", trace["inputs"][i]), ("output", trace["outputs"][i])):
                for key, value in statistics.activation_summary(values).items():
                    want[f"{which}_{key}"] = value
                edges = recorder.hist_edges(name, which)
                want[f"{which}_hist"] = statistics.histogram_shares(values, edges)
            want["input_unit_percentiles"] = statistics.unit_percentiles(trace["inputs"][i])
            want["grad_input_norm"] = statistics.grad_norm(trace["grad_inputs"][i])
            for key in layer.params:
                want[f"grad_norm/{key}"] = statistics.grad_norm(step["grads"][i][key])
                want[f"update_ratio/{key}"] = statistics.update_ratio(step["before"][i][key],
                                                                      step["after"][i][key])
            activation = statistics.activation_name(layer)
            if activation in ("sigmoid", "tanh"):
                want["saturated_fraction"] = statistics.saturated_fraction(
                    trace["outputs"][i], activation)
            elif activation == "relu":
                want["dead_fraction"] = statistics.dead_fraction(trace["outputs"][i])
            assert sorted(got) == sorted(want), name
            for key in want:
                np.testing.assert_allclose(got[key], want[key], rtol=2e-5, atol=1e-6,
                                           err_msg=f"record {r}, {name}, {key}")


def test_reading_an_empty_recorder_says_nothing_was_recorded_yet():
    recorder = Recorder()
    with pytest.raises(ValueError, match=r"nothing recorded yet.*callbacks=\[recorder\]"):
        recorder.get("dense", "grad_norm/kernel")
    with pytest.raises(ValueError, match="nothing recorded yet"):
        recorder.keys("dense")


@pytest.mark.parametrize("content", ["truncated", "text"])
def test_loading_a_corrupt_file_says_it_is_corrupt(tmp_path, first_step, content):
    _, recorder, _, _ = first_step
    path = tmp_path / "records.npz"
    recorder.save(path)
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2] if content == "truncated" else b"not an archive")
    with pytest.raises(ValueError, match="corrupt"):
        Recorder.load(path)
    with pytest.raises(FileNotFoundError, match="no such file"):
        Recorder.load(tmp_path / "missing.npz")
