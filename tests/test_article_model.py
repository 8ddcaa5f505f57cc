"""The article's listing, run with only its imports changed (the anchor of tinynet), and the
README's main job, examples/article_model.py, which runs it."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import tinynet
from tinynet.datasets import make_classification
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential
from tinynet.optimizers import Adam


def article_model():
    model = Sequential()
    model.add(Dense(64, input_shape=(20,)))
    model.add(BatchNormalization())
    model.add(Activation("relu"))
    model.add(Dense(32))
    model.add(BatchNormalization())
    model.add(Activation("relu"))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(optimizer=Adam(), loss="binary_crossentropy", metrics=["accuracy"])
    return model


def test_summary_prints_the_keras_totals(capsys):
    article_model().summary()
    printed = capsys.readouterr().out
    assert "Total params: 3,841" in printed
    assert "Trainable params: 3,649" in printed
    assert "Non-trainable params: 192" in printed


def test_fit_drives_the_loss_down_on_the_synthetic_task():
    x, y = make_classification(n_samples=1000, seed=0)
    tinynet.set_seed(0)
    history = article_model().fit(x, y, epochs=5, batch_size=32, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.7 * losses[0]
    assert history.history["accuracy"][-1] > 0.8


def test_two_seeded_runs_are_bit_identical():
    x, y = make_classification(n_samples=300, seed=3)
    weights = []
    for _ in range(2):
        tinynet.set_seed(7)
        model = article_model()
        model.fit(x, y, epochs=2, batch_size=32, verbose=0)
        weights.append(model.get_weights())
    for a, b in zip(*weights, strict=True):
        assert np.array_equal(a, b)


def run_main_job(*options):
    """examples/article_model.py as the README runs it, with `options`; returns its printout."""
    script = Path(__file__).resolve().parent.parent / "examples" / "article_model.py"
    completed = subprocess.run([sys.executable, str(script), *options], capture_output=True,
                               text=True, timeout=120,
                               env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-2000:]
    return completed.stdout


def test_the_main_job_shows_one_run_and_compares_over_seeds_with_their_noise():
    printout = run_main_job("--epochs", "3", "--seed", "1", "--seeds", "3")
    assert printout.count("Total params: 3,841") == 1  # the article's summary, once
    assert "Epoch 3/3" in printout
    assert "One run of each (seed 1 only: an illustration, not a comparison)" in printout
    compared = [line for line in printout.splitlines() if " vs " in line]
    assert len(compared) == 2  # validation accuracy and validation loss
    for line in compared:
        assert "± " in line and "s.e. over 3 seeds" in line
        assert ("beyond the noise" in line) or ("no clear difference at this scale" in line)
        assert ", 95 % interval " in line
    assert "Lesson 01" in printout


def test_the_main_job_with_one_seed_gives_no_verdict():
    printout = run_main_job("--epochs", "1", "--seeds", "1")
    compared = [line for line in printout.splitlines() if " vs " in line]
    assert compared and all("no noise estimate, so no verdict" in line for line in compared)
