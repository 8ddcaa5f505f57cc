"""The optimizer updates a model's parameter vector in pieces of at most optimizers.CHUNK
numbers (so that its temporaries stay small). The pieces must change no result: training,
freezing, saving and a student's own optimizer give what one whole-vector update gives."""

import numpy as np
import pytest

import tinynet
from tinynet import optimizers
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential, load_model
from tinynet.optimizers import SGD, Adam


def big_model(optimizer):
    """About 2.6 CHUNKs of trainable numbers, so the vector is cut into three pieces."""
    tinynet.set_seed(0)
    model = Sequential([Dense(200, input_shape=(150,)), BatchNormalization(),
                        Activation("relu"), Dense(60), Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    return model


def data(n=96, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 150)).astype(np.float32)
    return x, (x[:, :3].sum(axis=1) > 0).astype(np.float32).reshape(-1, 1)


def test_the_big_model_is_updated_in_several_pieces():
    model = big_model(Adam())
    x, y = data()
    model.train_on_batch(x[:32], y[:32])
    assert model.parameters.size > 2 * optimizers.CHUNK
    assert len(model.optimizer.slots) == len(optimizers.in_pieces(model.parameters)) == 3
    assert all(piece["m"].size <= optimizers.CHUNK for piece in model.optimizer.slots)


@pytest.mark.parametrize("make", [Adam, lambda: SGD(0.05, momentum=0.9), optimizers.RMSprop,
                                  optimizers.AdamW, optimizers.Adagrad])
def test_training_in_pieces_is_bit_identical_to_one_whole_vector_update(make, monkeypatch):
    x, y = data()
    cut = big_model(make())
    cut.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
    monkeypatch.setattr(optimizers, "CHUNK", 10 ** 9)  # one piece: the whole vector
    whole = big_model(make())
    whole.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
    assert len(whole.optimizer.slots) == 1
    for a, b in zip(cut.get_weights(), whole.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_freezing_keeps_the_adam_state_of_weights_in_later_pieces():
    x, y = data()
    model = big_model(Adam(0.01))
    model.train_on_batch(x[:32], y[:32])
    m_before = model.optimizer_state()["m"]
    model.layers[0].trainable = False  # the first 30,200 numbers leave the vector
    model.sync_parameters()
    m_after = model.optimizer_state()["m"]
    assert len(m_after) == len(m_before) - 2
    for before, after in zip(m_before[2:], m_after, strict=True):
        np.testing.assert_array_equal(before, after)
    assert np.any(m_after[-2] != 0)


def test_saving_and_loading_the_optimizer_state_across_pieces(tmp_path):
    x, y = data()
    model = big_model(Adam())
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    model.save(tmp_path / "big.keras")
    again = load_model(tmp_path / "big.keras")
    for name, arrays in model.optimizer_state().items():
        for a, b in zip(arrays, again.optimizer_state()[name], strict=True):
            np.testing.assert_array_equal(a, b)
    model.train_on_batch(x[:32], y[:32])
    again.train_on_batch(x[:32], y[:32])
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


class AssigningMomentum(optimizers.Optimizer):
    """A student's SGD with momentum that assigns its state instead of writing into it."""

    def create_slots(self, param):
        return {"velocity": np.zeros_like(param)}

    def update(self, param, grad, slots, learning_rate):
        slots["velocity"] = 0.9 * slots["velocity"] - learning_rate * grad
        param += slots["velocity"]


def test_a_students_optimizer_that_assigns_its_state_trains_like_the_builtin_one():
    x, y = data()
    mine, builtin = big_model(AssigningMomentum(0.05)), big_model(SGD(0.05, momentum=0.9))
    for model in (mine, builtin):
        model.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(mine.get_weights(), builtin.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_a_long_vector_passed_by_hand_gives_what_a_matrix_of_its_numbers_gives():
    rng = np.random.default_rng(2)
    n = int(2.5 * optimizers.CHUNK)
    vector = rng.standard_normal(n).astype(np.float32)
    matrix = vector.reshape(-1, 32).copy()  # a 2-D array is never cut
    by_vector, by_matrix = Adam(), Adam()
    for _ in range(3):
        g = rng.standard_normal(n).astype(np.float32)
        by_vector.apply(vector, g)
        by_matrix.apply([matrix], [g.reshape(matrix.shape)])
    assert len(by_vector.slots) == 3 and len(by_matrix.slots) == 1
    assert len(optimizers.in_pieces([vector])) == 1  # arrays in a list are never cut
    np.testing.assert_array_equal(vector, matrix.reshape(-1))
