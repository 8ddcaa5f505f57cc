"""model.summary() prints, character for character, what Keras 3.15 prints for the same
Sequential model when its output is not a terminal: the box-drawn table of rich, names that
wrap inside their column, the totals indented by a space.

tests/data/keras_summary_reference.json holds Keras's texts (made by
tests/data/make_keras_summary_reference.py); each test builds the same model in tinynet, with
the same COLUMNS (Keras's table is min(88, columns - 4) wide, 100 with show_trainable), and
compares the whole text. The test named *_live runs Keras itself on more widths, when the
venv at /tmp/kvenv exists.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from helpers import KERAS_VENV_PYTHON, run_in_keras_venv

from tinynet import layers, summary
from tinynet.models import Sequential

DATA = Path(__file__).resolve().parent / "data"
REF = json.loads((DATA / "keras_summary_reference.json").read_text(encoding="utf-8"))
ROOT = Path(__file__).resolve().parent.parent
NOT_BUILT = ("The model is not built yet: give the first layer an input_shape, e.g. "
             "Dense(64, input_shape=(20,)), or call fit or build.")


# -- the models of the fixture, built in tinynet ------------------------------------------------

def article(dtype=None):
    extra = {} if dtype is None else {"dtype": dtype}
    return Sequential([
        layers.Dense(64, input_shape=(20,), **extra), layers.BatchNormalization(**extra),
        layers.Activation("relu", **extra), layers.Dense(32, **extra),
        layers.BatchNormalization(**extra), layers.ReLU(**extra),
        layers.Dense(1, activation="sigmoid", **extra)])


def compiled_article():
    model = article()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def trained_article():
    model = compiled_article()
    rng = np.random.default_rng(0)
    model.train_on_batch(rng.normal(size=(8, 20)).astype("float32"),
                         (rng.random((8, 1)) > 0.5).astype("float32"))
    return model


def convnet():
    return Sequential([
        layers.Input(shape=(28, 28, 1)), layers.Conv2D(8, 3, activation="relu"),
        layers.MaxPooling2D(), layers.BatchNormalization(), layers.Flatten(),
        layers.Dense(10, activation="softmax")])


def frozen():
    model = Sequential([layers.Input(shape=(4,)), layers.Dense(3), layers.Dropout(0.1),
                        layers.Dense(1)])
    model.layers[0].trainable = False
    return model


def unbuilt():
    return Sequential([layers.Dense(4), layers.Dense(1)])


def long_names():
    return Sequential([
        layers.Input(shape=(6,)), layers.Dense(8, name="hidden_layer_with_a_long_name"),
        layers.Dense(8, name="a_name_of_thirty_one_characters"),
        layers.Dense(8, name="a_really_quite_long_layer_name_that_cannot_fit"),
        layers.LayerNormalization(), layers.LayerNormalization(),
        layers.Dense(1, name="out")])


def empty():
    return Sequential(name="a_model_whose_name_is_" + "very_" * 14 + "long")


MAKERS = {
    "article": compiled_article, "article_trained": trained_article, "convnet": convnet,
    "frozen_trainable": frozen, "convnet_trainable": convnet, "unbuilt": unbuilt,
    "long_names": long_names, "float64": lambda: article("float64"), "empty": empty,
    "article_wide": compiled_article, "trainable_wide": frozen,
    "article_narrow": compiled_article, "convnet_narrow": convnet,
    "long_names_narrow": long_names, "article_tiny": compiled_article,
    "cropped": compiled_article,
}


def printed(model, monkeypatch, columns, terminal=None, show_trainable=False):
    """What print_fn receives from model.summary(), each call one item, with COLUMNS set
    and, if `terminal` is given, shutil reporting that many columns."""
    monkeypatch.setenv("COLUMNS", str(columns))
    if terminal is not None:
        monkeypatch.setattr(shutil, "get_terminal_size",
                            lambda *args: os.terminal_size((terminal, 24)))
    received = []
    model.summary(show_trainable=show_trainable, print_fn=received.append)
    return received


# -- Keras's texts ------------------------------------------------------------------------------

def test_the_fixture_was_made_by_keras_3_15_and_holds_every_case():
    assert REF["keras_version"].startswith("3.15")
    assert set(REF["cases"]) == set(MAKERS)


@pytest.mark.parametrize("name", sorted(REF["cases"]))
def test_summary_text_equals_keras(name, monkeypatch):
    case = REF["cases"][name]
    received = printed(MAKERS[name](), monkeypatch, case["columns"], case["terminal"],
                       case["show_trainable"])
    assert received[0] == case["text"]


def test_the_article_summary_reads_as_in_the_trial(monkeypatch):
    # the layout the trials saw in Keras 3.15: rich's box drawing, a class name wrapped onto
    # a second line inside its column, Param # on the right, totals indented by one space
    lines = printed(compiled_article(), monkeypatch, 80)[0].splitlines()
    assert lines[1].startswith("┏━") and lines[1].endswith("━┓") and len(lines[1]) == 76
    assert lines[2] == "┃ Layer (type)" + " " * 20 + "┃ Output Shape" + " " * 11 + "┃" + \
        " " * 7 + "Param # ┃"
    assert lines[3].startswith("┡━") and "╇" in lines[3]
    assert lines[6:8] == ["│ batch_normalization             │ (None, 64)             │"
                          "           256 │",
                          "│ (BatchNormalization)            │                        │"
                          "               │"]
    assert lines[-3:] == [" Total params: 3,841 (15.00 KB)", " Trainable params: 3,649 (14.25 KB)",
                          " Non-trainable params: 192 (768.00 B)"]


def test_an_unbuilt_model_prints_keras_text_then_tinynet_advice(monkeypatch):
    received = printed(unbuilt(), monkeypatch, 80)
    assert received == [REF["cases"]["unbuilt"]["text"], NOT_BUILT]
    assert printed(Sequential(), monkeypatch, 80)[1] == \
        "The model has no layers yet: add some with model.add(layer)."


def test_summary_prints_the_text_once_without_a_blank_line(monkeypatch, capsys):
    # Keras's console writes the text, which ends in a newline; print_fn gets it as a whole
    monkeypatch.setenv("COLUMNS", "80")
    compiled_article().summary()
    assert capsys.readouterr().out == REF["cases"]["article"]["text"]
    unbuilt().summary()
    assert capsys.readouterr().out == REF["cases"]["unbuilt"]["text"] + NOT_BUILT + "\n"


def test_summary_to_a_pipe_equals_keras_to_a_pipe():
    # no COLUMNS, no terminal: Keras makes the table 80 - 4 = 76 characters wide
    program = ("import sys; sys.path.insert(0, sys.argv[1]); import test_summary_layout as t; "
               "t.compiled_article().summary()")
    env = {key: value for key, value in os.environ.items() if key not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-c", program, str(Path(__file__).parent)],
                          capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL,
                          timeout=120, check=True)
    assert done.stdout == REF["pipe"] == REF["cases"]["article"]["text"]


def test_a_console_narrower_than_keras_table_width_crops_it(monkeypatch):
    text = printed(compiled_article(), monkeypatch, 50, terminal=80)[0]
    assert max(len(line) for line in text.splitlines()) == 50


def test_too_narrow_a_terminal_raises_keras_error(monkeypatch):
    # Keras refuses a column narrower than 4 characters: below 20 columns (35 with Trainable)
    printed(compiled_article(), monkeypatch, 20)
    with pytest.raises(ValueError, match="Insufficient console width to print summary."):
        printed(compiled_article(), monkeypatch, 19)
    printed(frozen(), monkeypatch, 35, show_trainable=True)
    with pytest.raises(ValueError, match="Insufficient console width"):
        printed(frozen(), monkeypatch, 34, show_trainable=True)


# -- the renderer's pieces ----------------------------------------------------------------------

def test_column_widths_share_out_the_borders_and_padding_as_rich_does():
    # Keras's shares of 76: 34, 26, 16; rich takes 10 for padding and borders as 3, 4, 3
    assert summary.column_widths(76, False) == [31, 22, 13]
    assert summary.column_widths(88, False) == [36, 27, 15]
    # 0.405, 0.72, 0.9 of 76: 30, 24, 14, 8; then 13 taken as 3, 3, 4, 3
    assert summary.column_widths(76, True) == [27, 21, 10, 5]


def test_fit_cell_wraps_at_spaces_and_cuts_a_word_longer_than_the_column():
    assert summary.fit_cell("batch_normalization (BatchNormalization)", 31, "left") == [
        "batch_normalization" + " " * 12, "(BatchNormalization)" + " " * 11]
    assert summary.fit_cell("a_really_quite_long_layer_name_that_cannot_fit (Dense)", 31,
                            "left") == ["a_really_quite_long_layer_name…", "(Dense)" + " " * 24]
    assert summary.fit_cell("1,344", 8, "right") == ["   1,344"]
    assert summary.fit_cell("Y", 5, "center") == ["  Y  "]
    assert summary.fit_cell("Trainable", 5, "center") == ["Trai…"]


def test_plain_lines_wrap_at_the_console_width_keeping_a_space_before_the_break():
    assert summary.wrap_plain(" Trainable params: 3,649 (14.25 KB)", 20) == [
        " Trainable params: ", "3,649 (14.25 KB)"]
    assert summary.wrap_plain('Model: "' + "x" * 12 + '"', 10) == [
        "Model: ", '"xxxxxxxxx', 'xxx"']
    assert summary.words(" Total params: 3") == [" Total ", "params: ", "3"]


def test_memory_is_written_in_keras_units():
    assert summary.format_bytes(768) == "768.00 B"
    assert summary.format_bytes(15360) == "15.00 KB"
    assert summary.format_bytes(3 * 1024 ** 3) == "3.00 GB"
    assert summary.format_bytes(1024 ** 5) == "1.00 PB"


# -- Keras itself -------------------------------------------------------------------------------

KERAS_SWEEP = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
import keras
import make_keras_summary_reference as ref
out = {}
for name in ("long_names", "convnet", "unbuilt"):
    for trainable in (False, True):
        for columns in range(17, 125, 11):
            try:
                text = ref.summary_text(getattr(ref, name), columns, None, trainable)
            except ValueError as error:
                text = f"ValueError: {error}"
            out[f"{name} {trainable} {columns}"] = text
json.dump(out, open(sys.argv[2], "w", encoding="utf-8"))
"""


@pytest.mark.skipif(not KERAS_VENV_PYTHON.exists(), reason="no Keras venv at /tmp/kvenv")
def test_summary_equals_keras_at_many_widths_live(tmp_path, monkeypatch):
    run_in_keras_venv(KERAS_SWEEP, DATA, tmp_path / "texts.json")
    texts = json.loads((tmp_path / "texts.json").read_text(encoding="utf-8"))
    assert len(texts) == 60 and sum(text.startswith("ValueError") for text in texts.values())
    for key, text in texts.items():
        name, trainable, columns = key.split()
        try:
            received = printed(globals()[name](), monkeypatch, columns,
                               show_trainable=trainable == "True")[0]
        except ValueError as error:
            received = f"ValueError: {error}"
        assert received == text, key


def test_line_length_sets_the_tables_width_and_expand_nested_is_accepted(monkeypatch):
    # checked live against Keras 3.15 (line_length 40, 60 and 100, with and without
    # show_trainable): the same text; expand_nested changes nothing, a model inside another
    # being taken apart into its layers
    import tinynet

    monkeypatch.setenv("COLUMNS", "120")
    model = tinynet.Sequential([tinynet.Input((20,)), tinynet.layers.Dense(64),
                                tinynet.layers.BatchNormalization(), tinynet.layers.Dense(1)])
    for width in (40, 60, 100):
        texts = []
        model.summary(line_length=width, print_fn=texts.append)
        table = [line for line in texts[0].splitlines() if line[:1] in "┏┃┡│├└"]
        assert {len(line) for line in table} == {width}
    plain, nested = [], []
    model.summary(print_fn=plain.append)
    model.summary(expand_nested=True, print_fn=nested.append)
    assert plain == nested
    with pytest.raises(TypeError, match="positions"):
        model.summary(positions=[0.3, 0.6, 1.0])
