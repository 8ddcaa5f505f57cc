"""Gradient clipping (clipnorm, clipvalue, global_clipnorm), as Keras 3's optimizers clip
before each update, against Keras 3.15.1 (tests/data/keras_clipping_reference.npz, made by
tests/data/make_keras_clipping_reference.py): fit on a regression with gradients in the
thousands, so that the clipping acts at every step, and apply_gradients by hand, where
clipnorm clips each weight's gradient on its own."""

import json
import os
import warnings

import numpy as np
import pytest

import tinynet
from tinynet import optimizers
from tinynet.layers import Dense, Input
from tinynet.models import Sequential

REF = np.load(os.path.join(os.path.dirname(__file__), "data", "keras_clipping_reference.npz"))
CASES = {
    "clipnorm": lambda: optimizers.SGD(0.01, momentum=0.9, clipnorm=1.0),
    "clipvalue": lambda: optimizers.Adam(0.05, clipvalue=0.5),
    "global_clipnorm": lambda: optimizers.RMSprop(0.01, global_clipnorm=1.0),
}


def model():
    net = Sequential([Input(shape=(5,)), Dense(8, activation="relu"), Dense(1)])
    net.set_weights([REF[f"start_{i}"] for i in range(4)])
    return net


@pytest.mark.parametrize("case", list(CASES))
def test_fit_clips_as_keras_does(case):
    net = model()
    net.compile(optimizer=CASES[case](), loss="mse")
    history = net.fit(REF["x"], REF["y"], batch_size=10, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], REF[f"{case}_loss"], rtol=1e-5)
    for i, got in enumerate(net.get_weights()):
        # Adam's steps are lr * m / sqrt(v): near 0 its round-off is ~1e-6 of a step of 0.05
        np.testing.assert_allclose(got, REF[f"{case}_end_{i}"], rtol=1e-4, atol=1e-5)
    assert net.optimizer.get_config() == json.loads(str(REF[f"{case}_config"]))


@pytest.mark.parametrize("case", list(CASES))
def test_without_clipping_the_weights_end_elsewhere(case):
    # the test above could pass with clipping off only if it changed nothing: it does not
    settings = {k: v for k, v in CASES[case]().get_config().items() if k != case}
    net = model()
    net.compile(optimizer=type(CASES[case]()).from_config(settings), loss="mse")
    with warnings.catch_warnings():  # unclipped, SGD with momentum blows up: fit says so
        warnings.simplefilter("ignore", RuntimeWarning)
        net.fit(REF["x"], REF["y"], batch_size=10, epochs=2, shuffle=False, verbose=0)
    assert not np.allclose(net.get_weights()[0], REF[f"{case}_end_0"], rtol=1e-3)


def test_apply_gradients_clips_each_weight_on_its_own():
    net = model()
    net.compile(optimizer="sgd", loss="mse")  # the weights are views of one vector now
    grads = [REF[f"by_hand_grad_{i}"] for i in range(4)]
    optimizers.SGD(0.1, clipnorm=1.0).apply_gradients(zip(grads, net.trainable_weights,
                                                          strict=True))
    for i, got in enumerate(net.get_weights()):
        np.testing.assert_allclose(got, REF[f"by_hand_{i}"], rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(grads[0], REF["by_hand_grad_0"])  # given, not clipped


def test_the_gradients_given_are_not_changed():
    grad = np.full(4, 10.0, np.float32)
    weight = np.zeros(4, np.float32)
    optimizers.SGD(1.0, clipvalue=0.5).apply(weight, grad)
    np.testing.assert_array_equal(grad, 10.0)
    np.testing.assert_array_equal(weight, -0.5)


@pytest.mark.parametrize("make, error, words", [
    (lambda: optimizers.SGD(clipnorm=1.0, clipvalue=0.5), ValueError,
     "only one of clipnorm, clipvalue and global_clipnorm"),
    (lambda: optimizers.Adam(clipnorm=-1.0), ValueError, r"Adam\(clipnorm=...\)"),
    (lambda: optimizers.Adam(global_clipnorm="1"), TypeError, r"Adam\(global_clipnorm=...\)"),
])
def test_bad_settings_are_refused(make, error, words):
    with pytest.raises(error, match=words):
        make()


def test_clipping_is_kept_in_a_keras_file(tmp_path):
    pytest.importorskip("h5py")
    net = model()
    net.compile(optimizer=optimizers.Adam(clipnorm=1.5), loss="mse")
    net.fit(REF["x"], REF["y"], batch_size=10, verbose=0)
    net.save(str(tmp_path / "m.keras"))
    again = tinynet.models.load_model(str(tmp_path / "m.keras"))
    assert again.compiled and again.optimizer.clipnorm == 1.5
    assert again.optimizer.clipvalue is None and again.optimizer.global_clipnorm is None
