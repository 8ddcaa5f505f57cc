"""The article's listing, run with only its imports changed (the anchor of tinynet)."""

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
