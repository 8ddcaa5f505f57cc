"""The Recorder and its one-record functions with awkward data and wrong use: NaN and inf in
the activations, sums that overflow float32, a loaded or outgrown recorder passed to fit,
names that were not recorded, and arguments that are not what they should be."""

import warnings

import numpy as np
import pytest

import tinynet
from tinynet import recorder as statistics
from tinynet.callbacks import Callback, Recorder
from tinynet.layers import Activation, Dense, Layer
from tinynet.models import Sequential

SUMMARY = ("mean", "std", "p15", "p50", "p85")


class Replace(Layer):
    """Passes its input on, with some values replaced: `values` (a scalar or an array of the
    output's shape) where `mask` is True. Its gradient passes through unchanged."""

    def __init__(self, values, mask=None, **kwargs):
        super().__init__(**kwargs)
        self.values, self.mask = values, mask

    def forward(self, x, training=False):
        self.check_input(x)
        y = x.copy()
        mask = np.ones(y.shape, bool) if self.mask is None else self.mask
        y[mask] = np.broadcast_to(self.values, y.shape)[mask]
        return y

    def backward(self, grad):
        return grad.copy()


class KeepTrace(Callback):
    """Before the Recorder: a copy of every layer's input and output of each step."""

    def __init__(self):
        super().__init__()
        self.steps = []

    def on_train_batch_end(self, batch, logs=None):
        trace = self.model.trace
        self.steps.append({kind: [a.copy() for a in trace[kind]]
                           for kind in ("inputs", "outputs")})


def record(model_layers, n=16, **options):
    """Train `model_layers` (4 inputs) for one step of n samples with a Recorder(every=1);
    return the model, the recorder and the arrays that step saw. (A loss that becomes NaN or
    inf is not the subject here: fit's warning about it is silenced.)"""
    tinynet.set_seed(0)
    x = np.random.default_rng(0).normal(size=(n, 4)).astype(np.float32)
    y = (x[:, :1] > 0).astype(np.float32)
    model = Sequential(model_layers)
    model.compile(optimizer="sgd", loss="mse")
    keep, recorder = KeepTrace(), Recorder(every=1, **options)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        model.fit(x, y, batch_size=n, epochs=1, shuffle=False, verbose=0,
                  callbacks=[keep, recorder])
    return model, recorder, keep.steps[0]


def assert_same(got, want, what):
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6, equal_nan=True, err_msg=what)


def assert_like_the_one_record_functions(model, recorder, step):
    for i, layer in enumerate(model.layers):
        for which, arrays in (("input", step["inputs"]), ("output", step["outputs"])):
            with np.errstate(all="ignore"):
                want = statistics.activation_summary(arrays[i])
            for key in SUMMARY:
                assert_same(recorder.get(layer.name, f"{which}_{key}")[0], want[key],
                            f"{layer.name} {which}_{key}")
            if recorder.histograms:
                edges = recorder.hist_edges(layer.name, which)
                assert np.all(np.isfinite(edges))
                assert_same(recorder.get(layer.name, f"{which}_hist")[0],
                            statistics.histogram_shares(arrays[i], edges),
                            f"{layer.name} {which}_hist")
        if recorder.per_unit:
            with np.errstate(all="ignore"):
                want = statistics.unit_percentiles(step["inputs"][i])
            assert_same(recorder.get(layer.name, "input_unit_percentiles")[0], want,
                        f"{layer.name} unit percentiles")


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_activations_give_what_the_one_record_functions_give(value):
    # one bad value in the first sample: the layers after it see NaN or inf too; relu and
    # tanh keep a NaN (and the relu layer's sorted output is derived from its sorted input)
    mask = np.zeros((16, 6), bool)
    mask[0, 0] = True
    model, recorder, step = record(
        [Dense(6, input_shape=(4,)), Replace(value, mask), Activation("relu"),
         Activation("tanh"), Dense(1)], histograms=True, per_unit=True)
    if np.isnan(value):  # the layers after the NaN: every statistic of the values is NaN
        assert np.isnan(recorder.get("activation", "output_p15")[0])
        assert np.isnan(recorder.get("activation_1", "input_p85")[0])
        shares = recorder.get("activation_1", "input_hist")[0]
        assert shares.sum() == pytest.approx(1 - 1 / 96)  # the NaN is in no bin
    assert_like_the_one_record_functions(model, recorder, step)


def test_the_first_record_with_a_nan_still_gets_finite_histogram_bins():
    mask = np.zeros((16, 6), bool)
    mask[:2] = True
    model, recorder, step = record([Dense(6, input_shape=(4,)), Replace(np.nan, mask),
                                    Dense(1)], histograms=True)
    assert_like_the_one_record_functions(model, recorder, step)


def test_a_mean_whose_sum_overflows_is_the_one_np_mean_gives():
    # NumPy adds float32 values in 8 running sums (value k into sum k % 8). In this order
    # each running sum alternates 3e38, -3e38 and never overflows: the mean is 0. Sorted, the
    # negative values come first and every running sum overflows float32 to -inf.
    k = np.arange(96)
    signs = np.where((k % 2 == 0) ^ (k // 8 % 2 == 1), 1, -1)
    huge = np.float32(3e38 * signs).reshape(16, 6)
    model, recorder, step = record([Dense(6, input_shape=(4,)), Replace(huge), Dense(1)])
    assert np.mean(step["outputs"][1]) == 0
    assert recorder.get("replace", "output_mean")[0] == 0
    with np.errstate(over="ignore"):
        assert recorder.get("replace", "output_std")[0] == np.std(step["outputs"][1]) == np.inf


def test_a_loaded_recorder_cannot_record_more(tmp_path):
    _, recorder, _ = record([Dense(3, input_shape=(4,)), Dense(1)])
    recorder.save(tmp_path / "run.npz")
    loaded = Recorder.load(tmp_path / "run.npz")
    model = Sequential([Dense(3, input_shape=(4,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"loaded from .*run.npz.*new Recorder\(\)"):
        model.fit(np.zeros((4, 4)), np.zeros((4, 1)), verbose=0, callbacks=[loaded])
    assert list(loaded.steps) == [0]


def test_a_recorder_refuses_a_model_whose_layers_changed():
    model, recorder, _ = record([Dense(3, input_shape=(4,)), Activation("relu"), Dense(1)])
    model.pop()
    model.add(Dense(1, name="new_output"))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"layers have changed.*dense_1; now: .*new_output"
                                         r".*new Recorder\(\)"):
        model.fit(np.zeros((4, 4)), np.zeros((4, 1)), verbose=0, callbacks=[recorder])
    # compiling again without changing the layers is fine: the records go on
    model.pop()
    model.add(recorder.model_layers[-1])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((4, 4)), np.zeros((4, 1)), verbose=0, callbacks=[recorder])
    assert list(recorder.steps) == [0, 1]


def test_the_recorder_knows_the_model_output_layer_even_when_not_recording_it(tmp_path):
    _, recorder, _ = record([Dense(3, input_shape=(4,)), Activation("tanh"), Dense(1)],
                            layers=["activation"])
    assert recorder.output_layer == "dense_1"
    recorder.save(tmp_path / "run.npz")
    assert Recorder.load(tmp_path / "run.npz").output_layer == "dense_1"


def test_an_empty_recorder_cannot_be_saved_or_flattened(tmp_path):
    for call in (lambda: Recorder().save(tmp_path / "run.npz"), lambda: Recorder().as_dict()):
        with pytest.raises(ValueError, match="nothing recorded yet"):
            call()
    assert list(tmp_path.iterdir()) == []


def test_hist_edges_gives_a_copy():
    _, recorder, _ = record([Dense(3, input_shape=(4,)), Dense(1)], histograms=True)
    edges = recorder.hist_edges("dense", "output")
    edges[:] = 0
    assert recorder.hist_edges("dense", "output")[-1] > 0


def test_unknown_names_raise_value_errors_naming_the_method_and_the_choices():
    _, recorder, _ = record([Dense(3, input_shape=(4,)), Dense(1)])
    for call, words in ((lambda: recorder.get("dense_9", "input_mean"), "Recorder.get.*dense_1"),
                        (lambda: recorder.keys("dense_9"), "Recorder.keys.*dense_1"),
                        (lambda: recorder.get("dense", "input_average"),
                         "Recorder.get.*input_mean"),
                        (lambda: recorder.hist_edges("dense"), "histograms=True")):
        with pytest.raises(ValueError, match=words) as error:
            call()
        assert isinstance(error.value, KeyError)  # what these errors were before
        assert not str(error.value).startswith("'")  # not quoted, as KeyError would print
    with pytest.raises(TypeError, match=r"layer's name.*got 0.*dense, dense_1"):
        recorder.get(0, "input_mean")
    with pytest.raises(TypeError, match=r"key=.*\['a'\]"):
        recorder.get("dense", ["a"])


def test_bins_are_capped_and_load_wants_a_path():
    with pytest.raises(ValueError, match=r"bins.*at most 10,000"):
        Recorder(bins=10_001)
    Recorder(bins=10_000)
    with pytest.raises(TypeError, match=r"Recorder.load\(path=...\).*got 5"):
        Recorder.load(5)


def test_the_one_record_functions_take_lists():
    assert statistics.grad_norm([3, 4]) == 5
    assert statistics.dead_fraction([[0, 1], [-1, 2]]) == 0.5
    assert statistics.saturated_fraction([0.0, 0.5], "sigmoid") == 0.5
    assert statistics.update_ratio([3, 4], [3, 5]) == pytest.approx(0.2)
    np.testing.assert_allclose(statistics.histogram_shares([0.5, 1.5, 9], [0, 1, 2]),
                               [1 / 3, 2 / 3])
    assert statistics.activation_summary([1, 2, 3])["p50"] == 2
    assert statistics.unit_percentiles([[1, 2], [3, 4]]).shape == (3, 2)


@pytest.mark.parametrize("call, error, words", [
    (lambda: statistics.activation_summary(np.zeros(0)), ValueError,
     r"activation_summary\(values=...\) is empty"),
    (lambda: statistics.grad_norm("big"), TypeError, r"grad_norm\(grad=...\).*numbers"),
    (lambda: statistics.grad_norm(None), TypeError, "grad_norm"),
    (lambda: statistics.dead_fraction(3.0), ValueError, r"dead_fraction\(y=...\).*batch"),
    (lambda: statistics.unit_percentiles([[1], [1, 2]]), TypeError, "unit_percentiles"),
    (lambda: statistics.update_ratio(np.ones(3), np.ones(4)), ValueError,
     r"update_ratio.*\(3,\) and \(4,\)"),
    (lambda: statistics.histogram_shares(np.ones(3), [1.0]), ValueError,
     r"edges=.*at least 2.*increasing"),
    (lambda: statistics.histogram_shares(np.ones(3), [1.0, 0.0]), ValueError, "increasing"),
    (lambda: statistics.histogram_shares(np.ones(3), [0.0, np.nan]), ValueError, "finite"),
    (lambda: statistics.saturated_fraction(np.ones(3), "sigmiod"), ValueError,
     r"activation=.*'sigmoid', 'tanh'.*'sigmiod'"),
    (lambda: statistics.saturated_fraction(np.ones(3), "relu"), ValueError, "relu"),
])
def test_the_one_record_functions_refuse_what_they_cannot_measure(call, error, words):
    with pytest.raises(error, match=words):
        call()
