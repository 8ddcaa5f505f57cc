"""The built-in optimizers run their (elementwise) rules over a model's parameter vector in
pieces of at most optimizers.CHUNK numbers, so that their temporaries stay small. The pieces
must change no result, and a student's own rule must still see the whole vector once a step."""

import numpy as np
import pytest

import tinynet
from tinynet import optimizers
from tinynet.layers import Activation, BatchNormalization, Dense
from tinynet.models import Sequential, load_model
from tinynet.optimizers import SGD, Adam

BUILT_IN = [Adam, lambda: SGD(0.05, momentum=0.9), lambda: SGD(0.05), optimizers.RMSprop,
            lambda: optimizers.RMSprop(centered=True, momentum=0.5), optimizers.AdamW,
            optimizers.Adagrad]


def big_model(optimizer):
    """About 2.6 CHUNKs of trainable numbers, so the vector is updated in three pieces."""
    tinynet.set_seed(0)
    model = Sequential([Dense(200, input_shape=(150,)), BatchNormalization(),
                        Activation("relu"), Dense(60), Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    return model


def data(n=96, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 150)).astype(np.float32)
    return x, (x[:, :3].sum(axis=1) > 0).astype(np.float32).reshape(-1, 1)


def test_the_big_models_vector_is_cut_into_three_pieces():
    model = big_model(Adam())
    assert 2 * optimizers.CHUNK < model.parameters.size < 3 * optimizers.CHUNK
    assert len(optimizers.pieces(model.parameters)) == 3
    assert optimizers.pieces(np.zeros((300, 300))) == [...]  # arrays passed by hand: whole


@pytest.mark.parametrize("make", BUILT_IN)
def test_training_in_pieces_is_bit_identical_to_one_whole_vector_update(make, monkeypatch):
    x, y = data()
    cut = big_model(make())
    cut.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
    monkeypatch.setattr(optimizers, "CHUNK", 10 ** 9)  # one piece: the whole vector
    whole = big_model(make())
    whole.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
    assert len(optimizers.pieces(whole.parameters)) == 1
    for a, b in zip(cut.get_weights(), whole.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_freezing_keeps_the_adam_state_of_the_weights_that_stay():
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


def test_a_weight_unfrozen_later_starts_from_the_optimizers_fresh_state():
    """Adagrad's fresh accumulator is initial_accumulator_value (0.1), not zero."""
    x, y = data()
    model = big_model(optimizers.Adagrad())
    model.layers[0].trainable = False
    model.train_on_batch(x[:32], y[:32])
    model.layers[0].trainable = True
    model.sync_parameters()
    accumulator = model.optimizer_state()["accumulator"]
    np.testing.assert_array_equal(accumulator[0], np.float32(0.1))  # Dense 0's kernel: fresh
    assert np.all(accumulator[-2] > np.float32(0.1))                # the output kernel: trained


def test_saving_and_loading_the_optimizer_state_then_training_on(tmp_path):
    x, y = data()
    model = big_model(Adam())
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False)
    path = tmp_path / "big.keras"
    model.save(path)
    again = load_model(path)
    for name, arrays in model.optimizer_state().items():
        for a, b in zip(arrays, again.optimizer_state()[name], strict=True):
            np.testing.assert_array_equal(a, b)
    model.train_on_batch(x[:32], y[:32])
    again.train_on_batch(x[:32], y[:32])
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_model_with_every_layer_frozen_saves_and_loads(tmp_path):
    x, y = data()
    model = big_model(Adam())
    model.train_on_batch(x[:32], y[:32])
    for layer in model.layers:
        layer.trainable = False
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    assert model.optimizer.iterations == 1  # nothing to train: no step counted, as in Keras
    model.save(tmp_path / "frozen.keras")
    again = load_model(tmp_path / "frozen.keras")
    for a, b in zip(model.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_a_hand_written_step_may_pass_the_vector_alone_or_in_a_list():
    x, y = data()
    model = big_model(Adam())
    model.train_on_batch(x[:32], y[:32])
    y_pred = model.forward(x[:32], training=True)
    model.backward(model.loss.gradient(y[:32], y_pred))
    model.optimizer.apply([model.parameters], [model.gather_gradients()])
    model.optimizer.apply(model.parameters, model.gather_gradients())
    assert model.optimizer.iterations == 3


class TextbookMomentum(optimizers.Optimizer):
    """A student's SGD with momentum that assigns its state instead of writing into it, and
    counts its own calls: it must be called once per step, with the whole vector."""

    calls = 0

    def create_slots(self, param):
        return {"velocity": np.zeros_like(param)}

    def update(self, param, grad, slots, learning_rate):
        self.calls += 1
        slots["velocity"] = 0.9 * slots["velocity"] - learning_rate * grad
        param += slots["velocity"]


def trained_like_sgd_with_momentum(optimizer):
    """Fit the big model with `optimizer` and with SGD(0.05, momentum=0.9), assert that they
    end with the same weights, and return the first model."""
    x, y = data()
    mine, builtin = big_model(optimizer), big_model(SGD(0.05, momentum=0.9))
    for model in (mine, builtin):
        model.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(mine.get_weights(), builtin.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    return mine


def test_a_students_own_rule_sees_the_whole_vector_once_a_step_and_trains_like_sgd():
    model = trained_like_sgd_with_momentum(TextbookMomentum(0.05))
    assert model.optimizer.calls == model.optimizer.iterations == 6


class ClippedSGD(optimizers.SGD):
    """A student's rule that is not elementwise: SGD on the gradient clipped to norm 1 (as
    Keras's clipnorm), computed over the whole vector."""

    def update(self, param, grad, slots, learning_rate):
        norm = np.sqrt(np.sum(grad.astype(np.float64) ** 2))
        param -= learning_rate * grad * min(1.0, 1.0 / norm)


def test_a_subclass_that_overrides_update_is_not_cut_into_pieces():
    x, y = data()
    model = big_model(ClippedSGD(0.1))
    seen = []
    original = ClippedSGD.update

    def spy(self, param, grad, slots, learning_rate):
        seen.append(param.size)
        original(self, param, grad, slots, learning_rate)

    ClippedSGD.update = spy
    try:
        model.train_on_batch(x[:32], y[:32])
    finally:
        ClippedSGD.update = original
    assert seen == [model.parameters.size]


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
    np.testing.assert_array_equal(vector, matrix.reshape(-1))


class CountingInSlots(optimizers.Optimizer):
    """A student's rule that keeps a step counter among its slots (not shaped like param)."""

    def create_slots(self, param):
        return {"t": 0}

    def update(self, param, grad, slots, learning_rate):
        slots["t"] += 1
        param -= learning_rate * grad


def test_state_not_shaped_like_the_parameter_is_refused_at_the_first_step_with_the_way_out():
    x, y = data()
    model = big_model(CountingInSlots(0.01))
    with pytest.raises(TypeError, match=r"create_slots must return arrays shaped like .*"
                                        r"slot 't' is int.*self.iterations"):
        model.train_on_batch(x[:32], y[:32])


class AssigningElementwise(TextbookMomentum):
    """The same rule marked @elementwise: it assigns its state anew in every piece."""

    update = optimizers.elementwise(TextbookMomentum.update)


def test_an_elementwise_rule_that_assigns_its_state_keeps_it_in_every_piece():
    model = trained_like_sgd_with_momentum(AssigningElementwise(0.05))
    assert model.optimizer.calls == 3 * model.optimizer.iterations  # once per piece


class LazySlot(optimizers.Optimizer):
    """A student's rule that creates its slot inside update, not in create_slots."""

    def update(self, param, grad, slots, learning_rate):
        slots.setdefault("velocity", np.zeros_like(param))
        slots["velocity"] = 0.9 * slots["velocity"] - learning_rate * grad
        param += slots["velocity"]


def test_a_slot_created_inside_update_survives_freezing():
    x, y = data()
    model = big_model(LazySlot(0.01))
    model.train_on_batch(x[:32], y[:32])
    model.layers[0].trainable = False
    model.train_on_batch(x[:32], y[:32])  # the state is carried over to the smaller vector
    assert model.optimizer.slots[0]["velocity"].shape == model.parameters.shape


def test_an_elementwise_rule_may_not_create_a_slot_of_its_own():
    class Lazy(LazySlot):
        update = optimizers.elementwise(LazySlot.update)

    with pytest.raises(TypeError, match="created the slot 'velocity'.*create_slots"):
        Lazy(0.01).apply(np.zeros(5), np.ones(5))


def test_a_gradient_of_another_shape_is_refused_even_when_it_would_broadcast_or_be_cut():
    for size, grad_size in ((optimizers.CHUNK, optimizers.CHUNK + 5), (optimizers.CHUNK + 1, 1)):
        with pytest.raises(ValueError, match="each gradient needs the shape of its parameter"):
            SGD(0.1).apply(np.zeros(size, np.float32), np.ones(grad_size, np.float32))
