"""Regularizers: Keras 3's penalties and gradients (fixture), defaults, names, errors."""

import os

import numpy as np
import pytest

from tinynet import regularizers
from tinynet.gradcheck import numerical_gradient, relative_error

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "keras_issue12_reference.npz"))

KERAS_CASES = {
    "l1": regularizers.L1(),
    "l2": regularizers.L2(),
    "l1_l2": regularizers.L1L2(l1=0.02, l2=0.03),
    "l2_0.1": regularizers.l2(0.1),
}


@pytest.mark.parametrize("case", KERAS_CASES)
def test_penalty_and_gradient_equal_keras(case):
    reg, w = KERAS_CASES[case], REF["reg_w"]
    assert reg(w) == pytest.approx(float(REF[f"reg_{case}_value"]), rel=1e-5)
    gradient = reg.gradient(w)
    assert gradient.dtype == np.float32 and gradient.shape == w.shape
    np.testing.assert_allclose(gradient, REF[f"reg_{case}_grad"], rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("reg", [regularizers.L1(0.3), regularizers.L2(0.2),
                                 regularizers.L1L2(0.1, 0.4)])
def test_gradients_match_finite_differences(reg):
    w = np.random.default_rng(0).normal(size=(4, 3))  # no entry near 0, where |w| has a kink
    numeric = numerical_gradient(lambda: reg(w), w, 1e-6)
    assert relative_error(reg.gradient(w), numeric) < 1e-7


def test_penalties_by_hand():
    w = np.array([[1.0, -2.0], [0.0, 3.0]])
    assert regularizers.L1(0.5)(w) == pytest.approx(0.5 * 6)
    assert regularizers.L2(0.5)(w) == pytest.approx(0.5 * 14)
    assert regularizers.L1L2(0.5, 0.25)(w) == pytest.approx(3 + 3.5)


def test_keras_defaults_and_lower_case_aliases():
    assert regularizers.L1().l1 == 0.01 and regularizers.L2().l2 == 0.01
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.l1 is regularizers.L1 and regularizers.l2 is regularizers.L2
    assert regularizers.l1_l2 is regularizers.L1L2


@pytest.mark.parametrize("identifier, cls, config", [
    ("l1", regularizers.L1, {"l1": 0.01}), ("L2", regularizers.L2, {"l2": 0.01}),
    ("l1l2", regularizers.L1L2, {"l1": 0.0, "l2": 0.0}),
    ("l1_l2", regularizers.L1L2, {"l1": 0.01, "l2": 0.01}),
    ({"class_name": "L2", "config": {"l2": 0.5}}, regularizers.L2, {"l2": 0.5}),
    (regularizers.L2, regularizers.L2, {"l2": 0.01}),
])
def test_get_accepts_keras_identifiers(identifier, cls, config):
    reg = regularizers.get(identifier)
    assert isinstance(reg, cls) and reg.get_config() == config


def test_get_passes_none_and_instances_through():
    assert regularizers.get(None) is None
    reg = regularizers.L2(0.3)
    assert regularizers.get(reg) is reg


@pytest.mark.parametrize("make, error, words", [
    (lambda: regularizers.L2(-0.1), ValueError, "l2"),
    (lambda: regularizers.L1("0.1"), TypeError, "l1"),
    (lambda: regularizers.get("l22", "kernel_regularizer"), ValueError,
     "kernel_regularizer.*Did you mean"),
    (lambda: regularizers.get(lambda w: 0.0), TypeError, "gradient"),
])
def test_bad_regularizers_are_refused_by_name(make, error, words):
    with pytest.raises(error, match=words):
        make()


class PenaltyOnly(regularizers.Regularizer):
    """The Keras docstring's custom regularizer: only the penalty, as Keras differentiates it
    automatically."""

    def __init__(self, l2=0.0):
        self.l2 = l2

    def __call__(self, x):
        return self.l2 * np.sum(np.square(x))

    def get_config(self):
        return {"l2": float(self.l2)}


class PenaltyAndGradient(PenaltyOnly):
    def gradient(self, x):
        return 2 * self.l2 * x


def test_a_regularizer_of_your_own_without_its_gradient_is_refused_where_it_is_given():
    from tinynet.layers import Dense

    with pytest.raises(TypeError, match=r"kernel_regularizer: PenaltyOnly defines the "
                                        r"penalty \(__call__\) but not its gradient.*2 \* c"):
        Dense(5, kernel_regularizer=PenaltyOnly(l2=0.5))
    with pytest.raises(TypeError, match="PenaltyOnly defines the penalty"):
        regularizers.get(PenaltyOnly)  # the class, too
    with pytest.raises(TypeError, match=r"must define __call__"):
        regularizers.get(regularizers.Regularizer())
    with pytest.raises(NotImplementedError, match="not its gradient"):
        PenaltyOnly(0.5).gradient(np.ones(3))  # called by hand: the same explanation


def test_a_regularizer_of_your_own_with_its_gradient_trains_like_l2():
    from tinynet.layers import Dense
    from tinynet.models import Sequential

    rng = np.random.default_rng(4)
    x, y = rng.normal(size=(40, 6)), rng.normal(size=(40, 2))
    start = rng.normal(size=(6, 2))
    losses = []
    for regularizer in (PenaltyAndGradient(l2=0.5), regularizers.L2(0.5)):
        model = Sequential([Dense(2, kernel_regularizer=regularizer, input_shape=(6,))])
        model.compile(optimizer="sgd", loss="mse")
        model.set_weights([start.astype(np.float32), np.zeros(2, np.float32)])
        losses.append(model.fit(x, y, batch_size=10, epochs=2, shuffle=False,
                                verbose=0).history["loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-6)
