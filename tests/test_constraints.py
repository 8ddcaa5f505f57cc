"""Weight constraints (kernel_constraint=MaxNorm(3) and the like), applied after each
optimizer update, against Keras 3.15.1 (tests/data/keras_constraints_reference.npz, made by
tests/data/make_keras_constraints_reference.py): each constraint on a fixed array, and three
small models trained from the same weights with large SGD steps, so that the constraints are
active at every step."""

import json
import os

import numpy as np
import pytest

import tinynet
from tinynet import constraints as C
from tinynet.layers import (
    BatchNormalization,
    Conv2D,
    Dense,
    Flatten,
    GroupNormalization,
    Input,
    LayerNormalization,
)
from tinynet.models import Sequential
from tinynet.optimizers import SGD

REF = np.load(os.path.join(os.path.dirname(__file__), "data",
                           "keras_constraints_reference.npz"))


@pytest.mark.parametrize("name, constraint", [
    ("max_norm", C.MaxNorm(1.0)), ("max_norm_axis1", C.MaxNorm(2.0, axis=1)),
    ("min_max_norm", C.MinMaxNorm(1.0, 1.5, rate=0.7)), ("unit_norm", C.UnitNorm()),
    ("non_neg", C.NonNeg()),
])
def test_each_constraint_gives_keras_s_numbers(name, constraint):
    got = constraint(REF["direct_in"])
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, REF[f"direct_{name}"], rtol=1e-6, atol=1e-7)


def models():
    """The fixture's three models, built in tinynet the way the script builds them in Keras."""
    dense = Sequential([
        Input(shape=(6,)),
        Dense(8, activation="relu", kernel_constraint=C.MaxNorm(1.5), bias_constraint=C.NonNeg()),
        BatchNormalization(gamma_constraint=C.MinMaxNorm(0.5, 1.0, rate=0.5),
                           beta_constraint=C.UnitNorm()),
        Dense(1, activation="sigmoid", kernel_constraint=C.UnitNorm())])
    conv = Sequential([
        Input(shape=(5, 5, 2)),
        Conv2D(3, 3, activation="relu", kernel_constraint=C.MaxNorm(0.8, axis=[0, 1, 2])),
        GroupNormalization(groups=3, gamma_constraint=C.NonNeg()),
        Flatten(),
        Dense(2, activation="softmax", kernel_constraint=C.max_norm(2.0))])
    layer = Sequential([
        Input(shape=(6,)),
        LayerNormalization(gamma_constraint=C.MaxNorm(1.0), beta_constraint=C.NonNeg()),
        Dense(1, activation="sigmoid")])
    return {"dense": (dense, "binary_crossentropy", ("x", "y")),
            "conv": (conv, "sparse_categorical_crossentropy", ("images", "labels")),
            "layer": (layer, "binary_crossentropy", ("x", "y"))}


def stored(case, when):
    return [REF[key] for key in sorted((k for k in REF.files
                                        if k.startswith(f"{case}_{when}_")),
                                       key=lambda k: int(k.rsplit("_", 1)[1]))]


@pytest.mark.parametrize("case", ["dense", "conv", "layer"])
def test_training_with_constraints_gives_keras_s_weights(case):
    model, loss, (x, y) = models()[case]
    model.set_weights(stored(case, "start"))
    model.compile(optimizer=SGD(0.5, momentum=0.9), loss=loss)
    history = model.fit(REF[x], REF[y], batch_size=8, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], REF[f"{case}_loss"], rtol=1e-4)
    for got, expected in zip(model.get_weights(), stored(case, "end"), strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_the_constraints_hold_after_training():
    model, loss, (x, y) = models()["dense"]
    model.set_weights(stored("dense", "start"))
    model.compile(optimizer=SGD(0.5, momentum=0.9), loss=loss)
    model.fit(REF[x], REF[y], batch_size=8, epochs=2, shuffle=False, verbose=0)
    kernel, bias, _, beta = model.get_weights()[:4]
    assert np.linalg.norm(kernel, axis=0).max() <= 1.5 + 1e-5
    assert bias.min() >= 0 and abs(np.linalg.norm(beta) - 1) < 1e-5


def test_keras_s_constraint_configs_are_read():
    for case in ("dense", "conv", "layer"):
        for config in json.loads(str(REF[f"{case}_configs"])):
            for key, value in config.items():
                if key.endswith("_constraint") and value is not None:
                    constraint = C.get(value)
                    assert type(constraint).__name__ == value["class_name"]
                    assert constraint.get_config() == value["config"]


def test_a_frozen_weight_is_not_constrained_and_own_loops_apply_constraints():
    tinynet.set_seed(0)
    model = Sequential([Dense(3, input_shape=(2,), kernel_constraint=C.NonNeg()), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.layers[0].params["kernel"][...] = -1.0  # outside the set: a frozen layer keeps it
    model.layers[0].trainable = False
    x, y = np.ones((4, 2), np.float32), np.ones((4, 1), np.float32)
    model.fit(x, y, verbose=0)
    assert (model.layers[0].get_weights()[0] == -1.0).all()
    model.layers[0].trainable = True
    # a loop of one's own: apply_gradients applies the constraints, as Keras's optimizer does
    optimizer = SGD(0.1)
    loss = tinynet.losses.MeanSquaredError()
    _, grad = loss.loss_and_gradient(y, model(x, training=True))
    model.backward(grad)
    weights = model.trainable_weights
    optimizer.apply_gradients(zip([w.layer.grads[w.key] for w in weights], weights, strict=True))
    assert (model.layers[0].get_weights()[0] >= 0).all()


@pytest.mark.parametrize("make, error, words", [
    (lambda: Dense(2, kernel_constraint="max_nrom"), ValueError, "kernel_constraint"),
    (lambda: Dense(2, kernel_constraint=3), TypeError, "kernel_constraint must be None"),
    (lambda: C.MaxNorm(-1), ValueError, r"MaxNorm\(max_value=...\)"),
    (lambda: C.MinMaxNorm(2.0, 1.0), ValueError, "min_value"),
    (lambda: C.UnitNorm(axis="0"), TypeError, r"UnitNorm\(axis=...\)"),
])
def test_bad_constraints_are_refused_where_they_enter(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_a_constraint_of_the_wrong_shape_is_named():
    model = Sequential([Dense(2, input_shape=(3,), kernel_constraint=lambda w: w.sum(axis=0))])
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match=r"the constraint .* of kernel returned shape \(2,\)"):
        model.fit(np.ones((4, 3), np.float32), np.ones((4, 2), np.float32), verbose=0)
