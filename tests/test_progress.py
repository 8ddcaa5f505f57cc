"""What fit, evaluate and predict print has Keras 3's shape (tests/data: Keras's own output),
and stays free of control characters when it does not go to a terminal."""

import io
import json
import os
import re

import pytest

from tinynet.callbacks import CallbackList
from tinynet.progress import ProgressBar, format_eta, format_step_time, format_value

REFERENCE = os.path.join(os.path.dirname(__file__), "data", "keras_callbacks_reference.json")

with open(REFERENCE) as file:
    KERAS_PRINTED = json.load(file)["progress"]


def finished_lines(text):
    """What a terminal would show at the end: ANSI colours and backspaces dropped, and of
    each line only what was written after its last carriage return."""
    text = re.sub(r"\x1b\[\d+m", "", text).replace("\b", "")
    return [line.split("\r")[-1].rstrip() for line in text.split("\n") if line.strip()]


def masked(lines):
    """Times and values vary from run to run: keep the shape of each line."""
    lines = [re.sub(r"\d+(s|ms|us)/step", "T/step", line) for line in lines]
    lines = [re.sub(r" \d+s ", " Ts ", line) for line in lines]
    return [re.sub(r"-?\d+\.\d{4}(e-\d+)?", "V", line) for line in lines]


def run_fit(verbose, epochs, steps, validation, stream):
    """Drive the callbacks as fit does, with a progress printer writing to `stream`."""
    callbacks = CallbackList([], add_history=True, add_progbar=True, verbose=verbose,
                             epochs=epochs, steps=steps)
    callbacks.callbacks[-1].stream = stream
    callbacks.on_train_begin()
    for epoch in range(epochs):
        callbacks.on_epoch_begin(epoch)
        for batch in range(steps):
            callbacks.on_train_batch_begin(batch)
            callbacks.on_train_batch_end(batch, {"loss": 0.5, "accuracy": 0.75})
        logs = {"loss": 0.5, "accuracy": 0.75}
        if validation:
            logs.update(val_loss=0.6, val_accuracy=0.7)
        callbacks.on_epoch_end(epoch, logs)
    callbacks.on_train_end(logs)


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("name, verbose, epochs, steps, validation", [
    ("fit_verbose_1", 1, 2, 3, True),
    ("fit_verbose_2", 2, 2, 4, False),
    ("fit_one_epoch", 2, 1, 4, False),
])
def test_fit_prints_the_lines_keras_prints(name, verbose, epochs, steps, validation):
    stream = io.StringIO()
    run_fit(verbose, epochs, steps, validation, stream)
    assert masked(finished_lines(stream.getvalue())) == masked(
        finished_lines(KERAS_PRINTED[name]))


@pytest.mark.parametrize("name", ["evaluate", "predict"])
def test_evaluate_and_predict_bars_look_like_keras(name):
    stream = io.StringIO()
    callbacks = CallbackList([], add_progbar=True, verbose=1, epochs=1, steps=4)
    callbacks.callbacks[-1].stream = stream
    begin, batch_end, end = (f"on_{name.replace('evaluate', 'test')}_{hook}"
                             for hook in ("begin", "batch_end", "end"))
    logs = {"loss": 0.5, "accuracy": 0.75} if name == "evaluate" else {}
    getattr(callbacks, begin)()
    for batch in range(4):
        getattr(callbacks, batch_end)(batch, logs)
    getattr(callbacks, end)(logs)
    assert masked(finished_lines(stream.getvalue())) == masked(
        finished_lines(KERAS_PRINTED[name]))


def test_output_that_is_not_a_terminal_has_no_control_characters():
    stream = io.StringIO()
    run_fit(1, 2, 50, True, stream)
    text = stream.getvalue()
    assert not re.search(r"[\x00-\x09\x0b-\x1f]", text)  # nothing but newlines
    assert len(text.splitlines()) == 4  # 'Epoch n/2' and one finished line per epoch


def test_a_terminal_gets_the_bar_redrawn_in_place():
    stream = Terminal()
    bar = ProgressBar(10, verbose=1, stream=stream, interval=0)
    for step in range(1, 11):
        bar.update(step, {"loss": 1.0})
    bar.finish({"loss": 1.0})
    text = stream.getvalue()
    assert text.count("\r") == 11 and text.endswith("\n") and text.count("\n") == 1
    assert "\x1b[32m" in text  # the done part of the bar in green


def test_the_bar_fills_with_the_steps_done():
    stream = Terminal()
    ProgressBar(4, verbose=1, stream=stream, interval=0).update(1, {})
    line = finished_lines(stream.getvalue())[0]
    assert line.startswith("1/4 " + "\u2501" * 20)  # 5 of 20 cells green, the rest grey
    assert stream.getvalue().count("\u2501") == 20


def test_a_stream_that_cannot_write_the_bar_cell_gets_equals_signs():
    stream = io.TextIOWrapper(io.BytesIO(), encoding="ascii")
    bar = ProgressBar(2, verbose=1, stream=stream)
    bar.finish({"loss": 0.25})
    stream.seek(0)
    assert stream.read().startswith("2/2 " + "=" * 20 + " ")


def test_verbose_0_prints_nothing():
    stream = io.StringIO()
    run_fit(0, 2, 3, True, stream)
    assert stream.getvalue() == ""


def test_values_use_four_decimals_or_an_exponent_below_1e_3():
    assert format_value(0.46259) == "0.4626"
    assert format_value(0.00012) == "1.2000e-04"
    assert format_value(-0.5) == "-0.5000"
    assert format_value(-0.5, keep_sign=False) == "-5.0000e-01"  # Keras's verbose=2 rule


def test_step_times_and_remaining_times_are_written_as_keras_writes_them():
    assert format_step_time(0.00025) == "250us/step"
    assert format_step_time(0.0021) == "2ms/step"
    assert format_step_time(1.6) == "2s/step"
    assert [format_eta(s) for s in (7.2, 65, 3665)] == ["7s", "1:05", "1:01:05"]


def test_the_step_time_leaves_out_the_first_step():
    bar = ProgressBar(3, verbose=1, stream=io.StringIO())
    bar.start = 0.0
    assert bar.step_time(1, now=10.0) == 10.0  # the first step: all there is
    assert bar.step_time(3, now=12.0) == 1.0   # then only the steps after it


def test_a_bar_without_a_known_target_counts_the_steps_it_saw():
    stream = io.StringIO()
    bar = ProgressBar(None, verbose=1, stream=stream)
    for step in range(1, 8):
        bar.update(step)
    bar.finish()
    assert finished_lines(stream.getvalue())[0].startswith("7/7 ")
