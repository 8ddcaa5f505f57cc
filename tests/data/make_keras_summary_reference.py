"""Make tests/data/keras_summary_reference.json: the exact text Keras 3's model.summary()
prints for Sequential models, when its output is not a terminal (a pipe, a file, a test's
capture, or print_fn).

Keras draws the table with the `rich` package: box-drawing rules, each column a fixed share
of the line (Layer 45%, Output Shape 35%, Param # 20%; with show_trainable the shares scaled
by 0.9 and a last column Trainable), the line min(88, columns - 4) characters wide (100 with
show_trainable), where columns is shutil.get_terminal_size().columns: 80 without a terminal
unless the environment sets COLUMNS. So the cases below pin COLUMNS. The lines outside the
table wrap at rich's console width, and the table is cropped to it: COLUMNS too, else the
width of the first of stdin, stdout, stderr that is a terminal. The case "cropped" has
shutil report 80 columns (stdout a pipe) while the console has 50 (stdin a 50-column
terminal).

Each case is one model (built after keras.backend.clear_session(), so names restart at
dense, dense_1, ...), how it was built, and the text print_fn received ("text", which ends
in a newline: Keras passes print_fn the whole captured text at once). "pipe" is the same
article model's summary() printed to a pipe by a separate Python process (no print_fn): what
a student sees when output is redirected.

    keras_version
    cases: {name: {"columns": COLUMNS, "terminal": what shutil.get_terminal_size() reported
                   (null: COLUMNS, unpatched), "show_trainable": bool, "text": str}}
    pipe: stdout of `model.summary()` for the "article" model, COLUMNS unset

How to run it (Keras and PyTorch in a venv outside the repo, see tests/data/README.md):

    KERAS_BACKEND=torch /tmp/kvenv/bin/python tests/data/make_keras_summary_reference.py
"""

import json
import os
import shutil
import subprocess
import sys

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras import layers  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "keras_summary_reference.json")


def article(dtype=None):
    """The article's model: Dense(64) -> BN -> relu -> Dense(32) -> BN -> ReLU -> sigmoid."""
    return keras.Sequential([
        layers.Dense(64, input_shape=(20,), dtype=dtype), layers.BatchNormalization(dtype=dtype),
        layers.Activation("relu", dtype=dtype), layers.Dense(32, dtype=dtype),
        layers.BatchNormalization(dtype=dtype), layers.ReLU(dtype=dtype),
        layers.Dense(1, activation="sigmoid", dtype=dtype)])


def compiled_article():
    model = article()
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def trained_article():
    """The article's model after one train_on_batch: Keras adds "Optimizer params"."""
    model = compiled_article()
    rng = np.random.default_rng(0)
    model.train_on_batch(rng.normal(size=(8, 20)).astype("float32"),
                         (rng.random((8, 1)) > 0.5).astype("float32"))
    return model


def convnet():
    return keras.Sequential([
        keras.Input(shape=(28, 28, 1)), layers.Conv2D(8, 3, activation="relu"),
        layers.MaxPooling2D(), layers.BatchNormalization(), layers.Flatten(),
        layers.Dense(10, activation="softmax")])


def frozen():
    """A frozen Dense, a layer without weights, a trainable Dense: N, -, Y."""
    model = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(3), layers.Dropout(0.1),
                              layers.Dense(1)])
    model.layers[0].trainable = False
    return model


def unbuilt():
    return keras.Sequential([layers.Dense(4), layers.Dense(1)])


def long_names():
    """Names that wrap onto a second line, one that fills its column exactly, one longer
    than the column (cut with an ellipsis), and a long class name."""
    return keras.Sequential([
        keras.Input(shape=(6,)), layers.Dense(8, name="hidden_layer_with_a_long_name"),
        layers.Dense(8, name="a_name_of_thirty_one_characters"),
        layers.Dense(8, name="a_really_quite_long_layer_name_that_cannot_fit"),
        layers.LayerNormalization(), layers.LayerNormalization(),
        layers.Dense(1, name="out")])


def float64():
    return article(dtype="float64")


def empty():
    """No layers, and a model name too long for one line."""
    return keras.Sequential(name="a_model_whose_name_is_" + "very_" * 14 + "long")


# (case name, model maker, COLUMNS, terminal width shutil reports or None, show_trainable)
CASES = [
    ("article", compiled_article, 80, None, False),
    ("article_trained", trained_article, 80, None, False),
    ("convnet", convnet, 80, None, False),
    ("frozen_trainable", frozen, 80, None, True),
    ("convnet_trainable", convnet, 80, None, True),
    ("unbuilt", unbuilt, 80, None, False),
    ("long_names", long_names, 80, None, False),
    ("float64", float64, 80, None, False),
    ("empty", empty, 80, None, False),
    ("article_wide", compiled_article, 120, None, False),
    ("trainable_wide", frozen, 200, None, True),
    ("article_narrow", compiled_article, 60, None, False),
    ("convnet_narrow", convnet, 44, None, True),
    ("long_names_narrow", long_names, 36, None, False),
    ("article_tiny", compiled_article, 20, None, False),
    ("cropped", compiled_article, 50, 80, False),
]

PIPE_PROGRAM = """
import sys
sys.path.insert(0, {here!r})
import make_keras_summary_reference as ref
ref.compiled_article().summary()
"""


def summary_text(make, columns, terminal, show_trainable):
    """What print_fn receives, with COLUMNS set and shutil's answer replaced by `terminal`
    columns if given (Keras's table width reads shutil, rich's console reads COLUMNS)."""
    os.environ["COLUMNS"] = str(columns)
    asked = shutil.get_terminal_size
    if terminal is not None:
        shutil.get_terminal_size = lambda *args: os.terminal_size((terminal, 24))
    try:
        keras.backend.clear_session()
        model = make()
        received = []
        model.summary(show_trainable=show_trainable, print_fn=received.append)
    finally:
        del os.environ["COLUMNS"]
        shutil.get_terminal_size = asked
    assert len(received) == 1, received
    return received[0]


def piped_summary():
    """summary() without print_fn, in a fresh process whose stdout is a pipe."""
    env = {key: value for key, value in os.environ.items() if key != "COLUMNS"}
    program = PIPE_PROGRAM.format(here=os.path.dirname(os.path.abspath(__file__)))
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                          env=env, check=True, stdin=subprocess.DEVNULL)
    return done.stdout


def main():
    cases = {name: {"columns": columns, "terminal": terminal, "show_trainable": trainable,
                    "text": summary_text(make, columns, terminal, trainable)}
             for name, make, columns, terminal, trainable in CASES}
    out = {"keras_version": keras.__version__, "cases": cases, "pipe": piped_summary()}
    with open(OUT, "w", encoding="utf-8") as file:
        json.dump(out, file, indent=1, ensure_ascii=False)
        file.write("\n")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
