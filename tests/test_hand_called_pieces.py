"""Optimizers, normalization layers and the gradient checker called by hand, as a student
writes a training loop of their own: what would silently give wrong numbers is refused with
an error that says what to do."""

import numpy as np
import pytest

from tinynet import gradcheck, optimizers
from tinynet.layers import BatchNormalization, Dense

RNG = np.random.default_rng(0)


def test_an_optimizer_refuses_arrays_other_than_those_of_its_first_update():
    # Keras 3 refuses variables its optimizer was not built with; applying one Adam layer by
    # layer had shared m and v between the layers and counted a step for each call
    a, b = np.zeros(3), np.zeros(3)
    adam = optimizers.Adam(0.1)
    adam.apply([a], [np.ones(3)])
    with pytest.raises(ValueError, match="for the 1 parameter array.*got other arrays"):
        adam.apply([b], [-np.ones(3)])
    assert adam.iterations == 1 and not b.any()
    # all the weights in one call works, step after step, as a model does
    sgd = optimizers.SGD(0.1, momentum=0.9)
    weights = [np.ones(2), np.ones(3)]
    for _ in range(3):
        sgd.apply(weights, [np.ones(2), np.ones(3)])
    np.testing.assert_allclose(weights[0], 1 - 0.1 * (1 + 1.9 + 2.71))


def test_an_optimizer_refuses_parameters_it_cannot_update_in_place():
    cases = [([[1.0, 2.0]], [np.zeros(2)], TypeError, "parameter 0 is a list"),
             ([1.0], [np.zeros(1)], TypeError, "parameter 0 is a float"),
             ([np.zeros(2, dtype=int)], [np.zeros(2)], TypeError, "an array of int64"),
             ([np.zeros(2)], [[1.0, 2.0]], TypeError, "gradient 0 is a list")]
    for params, grads, error, message in cases:
        with pytest.raises(error, match=message):
            optimizers.SGD().apply(params, grads)
    frozen = np.zeros(2)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        optimizers.Adam().apply([frozen], [np.ones(2)])


@pytest.mark.parametrize("settings, has", [({"scale": False}, ["beta"]),
                                           ({"center": False}, ["gamma"]),
                                           ({}, ["gamma", "beta"])])
def test_batchnorm_sets_gradients_only_for_the_weights_it_has(settings, has):
    bn = BatchNormalization(**settings, dtype="float64")
    x = RNG.normal(size=(6, 3))
    bn.forward(x, training=True)
    bn.backward(RNG.normal(size=(6, 3)))
    assert list(bn.params) == list(bn.grads) == has
    # so that zip(grads.values(), params.values()) pairs each gradient with its weight
    before = {key: value.copy() for key, value in bn.params.items()}
    optimizers.SGD(1.0).apply_gradients(zip(bn.grads.values(), bn.params.values(), strict=True))
    for key in has:
        np.testing.assert_allclose(bn.params[key], before[key] - bn.grads[key])


class ForgetsItsBias(Dense):
    """A Dense layer whose backward sets the kernel's gradient only."""

    def backward(self, grad_output):
        dx = super().backward(grad_output)
        del self.grads["bias"]
        return dx


def test_check_layer_says_which_gradient_a_backward_did_not_set():
    layer = ForgetsItsBias(2, dtype="float64")
    x = RNG.normal(size=(4, 3))
    layer(x)
    with pytest.raises(RuntimeError, match=r"grads\['bias'\] at every call.*it did not set it"):
        gradcheck.check_layer(layer, x)
    # a gradient left from an earlier backward is not taken for this one's
    layer.grads["bias"] = np.zeros(2)
    with pytest.raises(RuntimeError, match=r"grads\['bias'\] at every call.*it did not set it"):
        gradcheck.check_layer(layer, x)
