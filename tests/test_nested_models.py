"""A model inside a model, as Keras tutorials write it: Sequential([model, Softmax()]) (the
TensorFlow classification tutorial's probability model) and a frozen base inside a new model
(the transfer-learning guide). tinynet takes the inner model apart: its layers, the same
objects, join the outer model, so the two share them and their weights."""

import numpy as np
import pytest

import tinynet
from tinynet.layers import BatchNormalization, Dense, Flatten, Input, Softmax
from tinynet.models import Sequential


def trained_classifier():
    tinynet.set_seed(0)
    model = Sequential([Flatten(input_shape=(4, 4)), Dense(8, activation="relu"), Dense(3)])
    model.compile(optimizer="adam", metrics=["accuracy"],
                  loss=tinynet.losses.SparseCategoricalCrossentropy(from_logits=True))
    rng = np.random.default_rng(0)
    x = rng.random((40, 4, 4)).astype(np.float32)
    model.fit(x, rng.integers(0, 3, 40), epochs=2, verbose=0)
    return model, x


def test_the_probability_model_of_the_classification_tutorial():
    model, x = trained_classifier()
    probability_model = Sequential([model, Softmax()])
    logits = model.predict(x, verbose=0)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(probability_model.predict(x, verbose=0),
                               e / e.sum(axis=1, keepdims=True), rtol=1e-6)
    assert probability_model.layers[:3] == model.layers  # the same layer objects
    assert [layer.name for layer in probability_model.layers] == \
        ["flatten", "dense", "dense_1", "softmax"]
    assert probability_model.input_shape == (None, 4, 4)
    assert probability_model.count_params() == model.count_params()


def test_freezing_the_inner_model_freezes_its_layers_in_the_outer_one():
    # the transfer-learning guide: trainable is passed down to the inner model's layers
    inner = Sequential([Input(shape=(3,)), Dense(3), Dense(3)])
    model = Sequential([Input(shape=(3,)), inner, Dense(3)])
    model.trainable = False
    assert inner.trainable is False and inner.layers[0].trainable is False
    inner.trainable = True
    # as in Keras 3: the outer model's own flag stays False, and with it nothing trains
    assert model.layers[2].trainable is False and model.trainable is False
    assert model.trainable_weights == [] and len(inner.trainable_weights) == 4


def test_a_frozen_base_stays_fixed_and_unfreezing_it_trains_it():
    tinynet.set_seed(1)
    base = Sequential([Input(shape=(3,)), Dense(4), BatchNormalization()])
    base.trainable = False
    model = Sequential([Input(shape=(3,)), base, Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(32, 3)), rng.normal(size=(32, 2))
    start = [w.copy() for w in base.get_weights()]
    model.fit(x, y, epochs=2, verbose=0)
    assert all(np.array_equal(a, b) for a, b in zip(start, base.get_weights(), strict=True))
    base.trainable = True
    model.fit(x, y, epochs=1, verbose=0)
    assert not any(np.array_equal(a, b) for a, b in zip(start, base.get_weights(),
                                                         strict=True))


def test_two_compiled_models_sharing_layers_train_in_turn_as_copies_would():
    # each compiled model keeps the trainable weights in its own vector; training one after
    # the other must give what two separate models, copying the shared weights across before
    # each fit, give
    rng = np.random.default_rng(2)
    x, y_inner, y_outer = rng.normal(size=(16, 3)), rng.normal(size=(16, 2)), \
        rng.normal(size=(16, 1))

    def make():
        tinynet.set_seed(2)
        inner = Sequential([Dense(4, input_shape=(3,)), Dense(2)])
        inner.compile(optimizer="adam", loss="mse")
        outer = Sequential([inner, Dense(1)])
        outer.compile(optimizer="adam", loss="mse")
        return inner, outer

    inner, outer = make()
    for _ in range(2):
        inner.fit(x, y_inner, batch_size=8, verbose=0, shuffle=False)
        outer.fit(x, y_outer, batch_size=8, verbose=0, shuffle=False)
    shared_result = [w.copy() for w in outer.get_weights()]

    # the same, with separate layers and the shared weights copied by hand
    tinynet.set_seed(2)
    inner_copy = Sequential([Dense(4, input_shape=(3,)), Dense(2)])
    inner_copy.compile(optimizer="adam", loss="mse")
    outer_copy = Sequential([Dense(4, input_shape=(3,)), Dense(2), Dense(1)])
    outer_copy.compile(optimizer="adam", loss="mse")
    outer_copy.set_weights(make()[1].get_weights())  # the same start as the shared pair
    inner_copy.set_weights(outer_copy.get_weights()[:4])
    for _ in range(2):
        inner_copy.fit(x, y_inner, batch_size=8, verbose=0, shuffle=False)
        outer_copy.set_weights(inner_copy.get_weights() + outer_copy.get_weights()[4:])
        outer_copy.fit(x, y_outer, batch_size=8, verbose=0, shuffle=False)
        inner_copy.set_weights(outer_copy.get_weights()[:4])
    for ours, copied in zip(shared_result, outer_copy.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, copied)
    assert inner.optimizer.iterations == outer.optimizer.iterations == 4


def test_bad_nesting_is_refused_with_what_went_wrong():
    with pytest.raises(ValueError, match="model 'empty' has no layers"):
        Sequential([Sequential(name="empty"), Dense(1)])
    inner = Sequential([Dense(2, input_shape=(3,))])
    with pytest.raises(ValueError, match="already in this model"):
        Sequential([inner, inner])


def test_two_models_with_a_layer_of_the_same_name_are_told_how_to_nest():
    # tinynet names layers within each model, so two models made apart both have a 'dense'
    first = Sequential([Dense(4, input_shape=(3,))])
    second = Sequential([Dense(2, input_shape=(4,))])
    with pytest.raises(ValueError, match=r"both have a layer named 'dense'.*name='dense_b'"):
        Sequential([first, second])
    renamed = Sequential([Dense(2, input_shape=(4,), name="head")])
    assert [layer.name for layer in Sequential([first, renamed]).layers] == ["dense", "head"]


def test_a_model_that_cannot_join_leaves_the_outer_model_as_it_was():
    outer = Sequential([Dense(4, input_shape=(3,))])
    # its first layer fits outer's output, its second was built for another input
    inner = Sequential([Dense(4, input_shape=(4,), name="extra"), Dense(2, name="last")])
    inner.layers[1].build((None, 7))
    with pytest.raises(ValueError, match="built for inputs"):
        outer.add(inner)
    assert [layer.name for layer in outer.layers] == ["dense"]
    assert outer.output_shape == (None, 4)


def test_get_layer_names_a_model_that_was_taken_apart():
    model, _ = trained_classifier()
    model.name = "base"
    probability_model = Sequential([model, Softmax()])
    with pytest.raises(ValueError, match=r"model 'base' was added inside this one and taken "
                                         r"apart into its layers \['flatten', 'dense'"):
        probability_model.get_layer("base")
    assert probability_model.get_layer("dense") is model.layers[1]


@pytest.mark.parametrize("built_by", ["Input", "fit"])
def test_an_inner_model_is_built_with_the_outer_one(built_by, capsys):
    # Keras builds the inner model when it builds the outer one: base.summary() then shows
    # its shapes, not "the model is not built yet"
    base = Sequential([Dense(4, activation="relu"), Dense(3)])
    first = [Input(shape=(5,))] if built_by == "Input" else []
    outer = Sequential([*first, base, Dense(1)])
    assert base.built is (built_by == "Input")
    if built_by == "fit":
        outer.compile(optimizer="sgd", loss="mse")
        outer.fit(np.zeros((8, 5), np.float32), np.zeros((8, 1), np.float32), verbose=0)
    assert base.built and base.output_shape[1:] == (3,)
    capsys.readouterr()
    base.summary()
    assert "not built" not in capsys.readouterr().out
    base.compile(optimizer="sgd", loss="mse")  # and it trains alone, sharing the weights
    base.fit(np.ones((8, 5), np.float32), np.ones((8, 3), np.float32), verbose=0)
    np.testing.assert_array_equal(outer.layers[1].get_weights()[0],
                                  base.layers[1].get_weights()[0])
