"""Keras layer idioms from the Keras 3 API docstrings and guides, as students copy them.

A trial of Keras 3.15's docstring examples (/tmp/trial_api_lo) found five: a layer called on
keras.Input(...) to show its output shape; a layer of one's own written the Keras way (call,
add_weight); weights read as layer.kernel, layer.gamma; Keras arguments tinynet lacks
(activity_regularizer, noise_shape, ...), which got a wrong "Did you mean"; and
AveragePooling2D with padding='same', where Keras's backends disagree. Each either works as
in Keras or stops with an error that says what to write instead.

Every Keras value below was observed running Keras 3.15.1 on its torch backend
(KERAS_BACKEND=torch /tmp/kvenv/bin/python); each says so where it is used.
"""

import numpy as np
import pytest
from helpers import linear_layer_class, raises

import tinynet
from tinynet import layers
from tinynet.layers import (
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GroupNormalization,
    Input,
    Layer,
    LayerNormalization,
    MaxPooling2D,
    ReLU,
    Reshape,
)
from tinynet.layers.base import call_instead_of_forward_error
from tinynet.layers.symbolic import SymbolicTensor
from tinynet.models import Sequential

NO_FUNCTIONAL_API = "tinynet has no functional API"

# -- 1. a layer called on keras.Input(...): its output shape ----------------------------------

# layer(keras.Input(**input)) -> (.shape, .dtype, shapes of layer.get_weights()), printed by
# Keras 3.15.1 on its torch backend for each of these layers
KERAS_SYMBOLIC_CALLS = {
    "Flatten()": ({"shape": (10, 64)}, (None, 640), "float32", []),
    "Reshape((3, 4))": ({"shape": (12,)}, (None, 3, 4), "float32", []),
    "Reshape((-1, 2, 2))": ({"shape": (12,)}, (None, 3, 2, 2), "float32", []),
    "Dense(4)": ({"shape": (3,), "batch_size": 8}, (8, 4), "float32", [(3, 4), (4,)]),
    "Conv2D(8, 3, strides=2, padding='same')": ({"shape": (28, 28, 1)}, (None, 14, 14, 8),
                                                "float32", [(3, 3, 1, 8), (8,)]),
    "Conv2D(32, 3, activation='relu')": ({"shape": (10, 10, 128)}, (None, 8, 8, 32),
                                         "float32", [(3, 3, 128, 32), (32,)]),
    "MaxPooling2D()": ({"shape": (28, 28, 1)}, (None, 14, 14, 1), "float32", []),
    "AveragePooling2D(3, strides=2, padding='same')": ({"shape": (7, 6, 3)}, (None, 4, 3, 3),
                                                       "float32", []),
    "GlobalAveragePooling2D()": ({"shape": (7, 7, 3)}, (None, 3), "float32", []),
    "GlobalMaxPooling2D(keepdims=True)": ({"shape": (7, 7, 3)}, (None, 1, 1, 3), "float32",
                                          []),
    "BatchNormalization()": ({"shape": (5,)}, (None, 5), "float32", [(5,), (5,), (5,), (5,)]),
    "LayerNormalization()": ({"shape": (4, 5)}, (None, 4, 5), "float32", [(5,), (5,)]),
    "GroupNormalization(groups=2)": ({"shape": (4, 4, 6)}, (None, 4, 4, 6), "float32",
                                     [(6,), (6,)]),
    "Dropout(0.5)": ({"shape": (12,)}, (None, 12), "float32", []),
    "Activation('softmax')": ({"shape": (12,), "batch_size": 2}, (2, 12), "float32", []),
    "Dense(4, dtype='float64')": ({"shape": (3,)}, (None, 4), "float64", [(3, 4), (4,)]),
}


@pytest.mark.parametrize("layer_code", KERAS_SYMBOLIC_CALLS)
def test_a_layer_called_on_input_gives_keras_output_shape_and_is_built(layer_code):
    given, shape, dtype, weight_shapes = KERAS_SYMBOLIC_CALLS[layer_code]
    layer = eval(layer_code, vars(layers))  # the Keras docstring's own spelling
    y = layer(Input(**given))
    assert isinstance(y, SymbolicTensor)
    assert (y.shape, y.dtype) == (shape, dtype)
    assert [w.shape for w in layer.get_weights()] == weight_shapes
    assert layer.built


def test_the_flatten_and_reshape_docstrings_and_a_chain_of_layers():
    # Keras 3.15.1 (torch): (None, 640), (None, 3, 4) and, chained, (None, 4)
    assert Flatten()(tinynet.Input(shape=(10, 64))).shape == (None, 640)
    assert Reshape((3, 4))(Input(shape=(12,))).shape == (None, 3, 4)
    assert Dense(4)(Flatten()(Input(shape=(10, 64)))).shape == (None, 4)


def test_input_shape_has_its_batch_size_first_as_in_keras():
    # Keras 3.15.1 (torch): keras.Input(shape=(3,), batch_size=8).shape == (8, 3)
    assert Input(shape=(3,), batch_size=8).shape == (8, 3)
    assert Input(shape=(3,)).shape == (None, 3)


def test_a_layer_built_on_input_then_computes_on_arrays_and_joins_a_model():
    dense = Dense(4)
    dense(Input(shape=(3,)))
    # Keras 3.15.1 (torch): after Dense(4)(keras.Input(shape=(3,))), built and kernel (3, 4)
    assert dense.built and dense.kernel.shape == (3, 4)
    assert dense(np.ones((2, 3))).shape == (2, 4)
    flatten, head = Flatten(), Dense(2)
    head(flatten(Input(shape=(4, 5))))
    model = Sequential([Input(shape=(4, 5)), flatten, head])
    assert model.predict(np.ones((3, 4, 5)), verbose=0).shape == (3, 2)


def test_a_layer_built_for_other_samples_refuses_the_input():
    dense = Dense(4)
    dense(np.ones((2, 5)))
    raises(ValueError, lambda: dense(Input(shape=(3,))), "Dense", "(5,)", "(None, 3)")
    raises(ValueError, lambda: Dense(4)(Input(shape=(3, 5))), "Dense",
           "(batch, features)", "Flatten()")


@pytest.mark.parametrize("use", [
    lambda t: t + 1, lambda t: 1 + t, lambda t: t * t, lambda t: t @ np.ones((4, 2)),
    lambda t: -t, lambda t: t[0], lambda t: np.asarray(t), lambda t: np.exp(t),
    lambda t: np.ones(4) + t, lambda t: np.concatenate([t, t]),
])
def test_computing_with_a_symbolic_tensor_says_there_is_no_functional_api(use):
    tensor = Dense(4)(Input(shape=(3,)))
    raises(TypeError, lambda: use(tensor), "SymbolicTensor shape=(None, 4)", "no values",
           NO_FUNCTIONAL_API, "Sequential([Input(shape=...)", "np.ones((2, 4))")


def test_keras_model_and_sequential_add_refuse_symbolic_tensors():
    inputs = Input(shape=(32,))
    outputs = Dense(16, activation="softmax")(inputs)
    raises(AttributeError, lambda: tinynet.Model(inputs, outputs), "no Model",
           "no functional API", "Sequential")
    raises(TypeError, lambda: Sequential([inputs, outputs]), "expected a tinynet layer",
           "SymbolicTensor shape=(None, 16)")


def test_fit_on_a_symbolic_tensor_says_there_is_no_functional_api():
    model = Sequential([Input(shape=(3,)), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    tensor = Dense(3)(Input(shape=(3,)))
    raises(TypeError, lambda: model.fit(tensor, np.ones((2, 1)), verbose=0), NO_FUNCTIONAL_API)


def test_a_layer_given_to_a_layer_is_refused_as_not_data():
    raises(TypeError, lambda: Dense(4)(Dense(3)), "Dense: x is a layer, Dense, not data",
           "Sequential([...])")
    # what was refused before still is, with the same message
    raises(TypeError, lambda: Dense(4)("abc"), "Dense: x must be numeric")


# -- 2. a layer of one's own written the Keras way -----------------------------------------------

def test_a_layer_defining_call_without_forward_stops_where_the_class_is_defined():
    def define():
        class Linear(Layer):  # the guide "Making new layers and models via subclassing"
            def __init__(self, units=32):
                super().__init__()
                self.units = units

            def call(self, inputs):
                return inputs @ self.w

    raises(TypeError, define, "Linear defines call()", "never calls",
           "automatic differentiation", "forward(self, x, training=False)",
           "backward(self, grad_output)", "self.grads[name]", "Rename call to forward",
           "self.params in build")


def test_overriding_call_of_a_builtin_layer_is_refused_as_well():
    # tinynet never calls call: Dense's forward would run, silently ignoring it
    def define():
        class DoubleDense(Dense):
            def call(self, inputs):
                return 2 * inputs

    raises(TypeError, define, "DoubleDense defines call()", "never calls")


def test_call_next_to_a_forward_of_ones_own_is_allowed():
    class Twice(Layer):
        def call(self, x):  # a helper that forward uses
            return 2 * x

        def forward(self, x, training=False):
            self.check_input(x)
            return self.call(x)

    class TwiceToo(Twice):  # forward inherited from a layer of one's own: fine too
        def call(self, x):
            return x + x

    assert TwiceToo()(np.ones((2, 3))).tolist() == [[2.0] * 3] * 2


class KerasStyleLinear(Layer):
    """The guide's Linear, with forward in place of call but still add_weight."""

    def __init__(self, units=32, in_init=False):
        super().__init__()
        self.units = units
        if in_init:  # the guide's first version makes its weights in __init__
            self.w = self.add_weight(shape=(2, units), initializer="random_normal")

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="random_normal", trainable=True)
        super().build(input_shape)

    def forward(self, x, training=False):
        self.check_input(x)
        return x @ self.w


@pytest.mark.parametrize("make", [
    lambda: KerasStyleLinear(4)(np.ones((2, 2))),
    lambda: KerasStyleLinear(4, in_init=True),
    lambda: Sequential([Input(shape=(3,)), KerasStyleLinear(4)]),
])
def test_add_weight_says_how_tinynet_layers_make_weights(make):
    raises(AttributeError, make, "KerasStyleLinear", "no add_weight",
           "build(self, input_shape)", "self.params['w'] = tinynet.initializers.get",
           "self.dtype", "super().build(input_shape)", "self.state",
           "compile replaces the array", "self.params['w'][...] = new", "self.grads['w']")


def test_add_loss_and_losses_say_what_tinynet_has_instead():
    class ActivityRegularization(Layer):
        def forward(self, x, training=False):
            self.check_input(x)
            self.add_loss(0.01 * x.sum())
            return x

    raises(AttributeError, lambda: ActivityRegularization()(np.ones((2, 2))), "no add_loss",
           "kernel_regularizer", "self.regularizers['w']", "add_regularization_gradients",
           "activity regularizer")
    assert not hasattr(Dense(2), "add_weight")  # as for any attribute a layer lacks


# -- 3. Keras's attribute names for weights ------------------------------------------------------

def test_weight_attributes_are_the_live_arrays():
    dense = Dense(3)
    dense(np.ones((2, 4)))
    # views of the layer's arrays (Keras's variables: assign, numpy, name, path)
    assert np.shares_memory(dense.kernel, dense.params["kernel"])
    assert np.shares_memory(dense.bias, dense.params["bias"])
    bn = BatchNormalization()
    bn(np.ones((2, 3)))
    for name, store in (("gamma", bn.params), ("beta", bn.params),
                        ("moving_mean", bn.state), ("moving_variance", bn.state)):
        assert np.shares_memory(getattr(bn, name), store[name])
        assert getattr(bn, name).path == f"batch_normalization/{name}"
    for norm in (LayerNormalization(), GroupNormalization(groups=1)):
        norm(np.ones((2, 3)))
        assert np.shares_memory(norm.gamma, norm.params["gamma"])
        assert np.shares_memory(norm.beta, norm.params["beta"])
    conv = Conv2D(2, 3)
    conv(np.ones((1, 5, 5, 1)))
    assert conv.kernel.shape == (3, 3, 1, 2) and conv.bias.shape == (2,)


def test_writing_into_layer_kernel_after_compile_changes_the_model():
    model = Sequential([Input(shape=(2,)), Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer="sgd", loss="mse")  # the weights become views of one vector
    layer = model.layers[0]
    layer.kernel[...] = [[1.0], [2.0]]
    layer.bias[...] = 0.5
    np.testing.assert_allclose(model.predict(np.array([[1.0, 1.0]]), verbose=0), [[3.5]])
    model.fit(np.ones((4, 2)), np.zeros((4, 1)), verbose=0)
    assert np.shares_memory(layer.kernel, layer.params["kernel"])  # what training updates


# Keras 3.15.1 (torch): unbuilt Dense, Conv2D, LayerNormalization and GroupNormalization have
# no kernel / bias / gamma / beta (AttributeError); an unbuilt BatchNormalization's gamma,
# beta, moving_mean and moving_variance are None; built with use_bias=False (center=False,
# scale=False), bias (beta, gamma) is None.
@pytest.mark.parametrize("make, names", [
    (lambda: Dense(2), ("kernel", "bias")), (lambda: Conv2D(2, 1), ("kernel", "bias")),
    (lambda: LayerNormalization(), ("gamma", "beta")),
    (lambda: GroupNormalization(groups=1), ("gamma", "beta")),
])
def test_an_unbuilt_layer_has_no_weight_attributes_as_in_keras(make, names):
    layer = make()
    for name in names:
        raises(AttributeError, lambda name=name: getattr(layer, name), "is not built yet",
               f"no {name}", "layer(x)")
        assert not hasattr(layer, name)


def test_an_unbuilt_batch_normalization_gives_none_as_in_keras():
    bn = BatchNormalization()
    assert [bn.gamma, bn.beta, bn.moving_mean, bn.moving_variance] == [None] * 4


@pytest.mark.parametrize("make, shape, names", [
    (lambda: Dense(2, use_bias=False), (2, 3), ("bias",)),
    (lambda: Conv2D(2, 1, use_bias=False), (1, 4, 4, 3), ("bias",)),
    (lambda: BatchNormalization(center=False, scale=False), (2, 3), ("gamma", "beta")),
    (lambda: LayerNormalization(center=False, scale=False), (2, 3), ("gamma", "beta")),
    (lambda: GroupNormalization(groups=1, center=False, scale=False), (2, 3),
     ("gamma", "beta")),
])
def test_a_weight_the_layer_was_built_without_is_none_as_in_keras(make, shape, names):
    layer = make()
    layer(np.ones(shape))
    assert [getattr(layer, name) for name in names] == [None] * len(names)


@pytest.mark.parametrize("make, name, store", [
    (lambda: Dense(2), "kernel", "params"), (lambda: Dense(2), "bias", "params"),
    (lambda: BatchNormalization(), "gamma", "params"),
    (lambda: BatchNormalization(), "moving_mean", "state"),
    (lambda: LayerNormalization(), "beta", "params"),
])
def test_assigning_a_weight_attribute_says_to_write_into_it(make, name, store):
    layer = make()
    layer(np.ones((2, 3)))
    before = getattr(layer, name).copy()
    # Keras 3.15.1 (torch): dense.kernel = ... is an AttributeError too (a property)
    raises(AttributeError, lambda: setattr(layer, name, np.zeros_like(before)),
           f"layer.{name} cannot be replaced", f"layer.{store}['{name}']",
           f"layer.{name}[...] = new_values", "set_weights")
    np.testing.assert_array_equal(getattr(layer, name), before)


def test_other_layers_do_not_get_keras_weight_names():
    assert not hasattr(Dense(2), "gamma") and not hasattr(LayerNormalization(), "kernel")
    assert not hasattr(LayerNormalization(), "moving_mean")


# -- 4. Keras arguments tinynet's layers lack ----------------------------------------------------

@pytest.mark.parametrize("make, words", [
    (lambda: Dense(4, autocast=False),
     ["Dense(autocast=...) is a Keras argument", "mixed precision"]),
    (lambda: Dropout(0.5, noise_shape=(None, 1), seed=1),
     ["Dropout(noise_shape=...) is a Keras argument", "same units"]),
    (lambda: Dense(2, lora_rank=4), ["lora_rank", "LoRA"]),
    (lambda: Conv2D(4, 3, data_format="channels_first"),
     ["data_format", "channels last", "x.transpose(0, 2, 3, 1)"]),
    (lambda: Conv2D(4, 3, dilation_rate=2), ["dilation_rate", "dilated"]),
    (lambda: MaxPooling2D(data_format="channels_first"), ["MaxPooling2D(data_format=...)"]),
    (lambda: BatchNormalization(synchronized=True), ["synchronized"]),
    (lambda: ReLU(autocast=False), ["ReLU(autocast=...)"]),
])
def test_a_keras_argument_tinynet_lacks_says_so(make, words):
    message = raises(TypeError, make, *words, "which tinynet does not have", "leave it out",
                     "accepted at Keras's default")
    assert "Did you mean" not in message


def test_keras_arguments_at_their_keras_default_are_accepted():
    # all accepted by Keras 3.15.1 (torch) at these values, which are its defaults
    Dense(4, activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
          lora_rank=None, lora_alpha=None, quantization_config=None)
    Dropout(0.5, noise_shape=None)
    Conv2D(4, 3, data_format="channels_last", dilation_rate=(1, 1), groups=1)
    Conv2D(4, 3, data_format=None, dilation_rate=1)
    BatchNormalization(beta_constraint=None, gamma_constraint=None, synchronized=False,
                       renorm_clipping=None, renorm_momentum=0.99)
    LayerNormalization(beta_initializer="zeros", gamma_initializer="ones",
                       beta_regularizer=None, gamma_constraint=None, rms_scaling=False)
    GroupNormalization(groups=1, beta_constraint=None)
    Flatten(data_format=None)
    AveragePooling2D(2, data_format="channels_last")
    ReLU(max_value=None, negative_slope=0, threshold=0.0)
    layers.Softmax(axis=-1)
    layer = Dense(4, kernel_constraint=None)
    assert layer.get_config() == Dense(4).get_config()


def test_a_typo_still_gets_the_closest_name_and_true_is_not_a_default_of_one():
    raises(TypeError, lambda: Dense(4, activaton="relu"), "unknown argument 'activaton'",
           "Did you mean 'activation'?")
    raises(TypeError, lambda: Conv2D(4, 3, groups=True), "Conv2D(groups=...)")
    # an argument of other Keras layers is unknown here, as in Keras
    raises(TypeError, lambda: Dense(4, noise_shape=None), "unknown argument 'noise_shape'")


# -- 5. AveragePooling2D with padding='same' ------------------------------------------------------

X34 = np.arange(1.0, 13.0).reshape(1, 3, 4, 1)  # the docstring's 3x4 image


def avg_pool(x, **kwargs):
    return AveragePooling2D(**kwargs)(x)[0, :, :, 0]


def test_average_pooling_same_averages_the_real_pixels_where_keras_torch_repeats_edges():
    y = avg_pool(X34, pool_size=3, strides=2, padding="same")
    # window (0, 0) covers rows 0-1 (row -1 is padding) and columns 0-2: (1+2+3+5+6+7) / 6;
    # TensorFlow's and JAX's rule, which tinynet follows
    np.testing.assert_allclose(y, [[4.0, 5.5], [8.0, 9.5]])
    # Keras 3.15.1 (torch) gives [[3.33333, 5.0], [8.66667, 10.33333]]: the padding is uneven
    # (none on the left, one column on the right), so it repeats the edge pixels and counts
    # them; the docstring tells the difference
    keras_torch = np.array([[10 / 3, 5.0], [26 / 3, 31 / 3]])
    assert not np.allclose(y, keras_torch)
    doc = " ".join(AveragePooling2D.__doc__.split())
    assert "[[4, 5.5], [8, 9.5]]" in doc and "[[3.33, 5], [8.67, 10.33]]" in doc


@pytest.mark.parametrize("image, kwargs, keras_torch", [
    # Keras 3.15.1 (torch), from the AveragePooling2D docstring's examples: even padding, or
    # uneven padding whose repeated pixels weigh every real pixel alike, agree with tinynet
    (np.arange(1.0, 10.0).reshape(1, 3, 3, 1), {"pool_size": 2, "strides": 1},
     [[3.0, 4.0, 4.5], [6.0, 7.0, 7.5], [7.5, 8.5, 9.0]]),
    (X34, {"pool_size": 2, "strides": 2}, [[3.5, 5.5], [9.5, 11.5]]),
    (X34, {"pool_size": 3, "strides": 1},
     [[3.5, 4.0, 5.0, 5.5], [5.5, 6.0, 7.0, 7.5], [7.5, 8.0, 9.0, 9.5]]),
])
def test_average_pooling_same_agrees_with_keras_torch_where_keras_backends_agree(
        image, kwargs, keras_torch):
    np.testing.assert_allclose(avg_pool(image, padding="same", **kwargs), keras_torch,
                               rtol=1e-6)


def test_max_pooling_same_agrees_with_keras_torch_on_the_uneven_example():
    # Keras 3.15.1 (torch): MaxPooling2D(pool_size=3, strides=2, padding='same') on the 3x4
    # image gives [[7, 8], [11, 12]]
    y = MaxPooling2D(pool_size=3, strides=2, padding="same")(X34)[0, :, :, 0]
    np.testing.assert_array_equal(y, [[7.0, 8.0], [11.0, 12.0]])


def test_dropout_takes_keras_positional_order_rate_noise_shape_seed():
    layer = Dropout(0.5, None, 42)  # Keras 3's signature: Dropout(rate, noise_shape, seed)
    assert layer.seed == 42
    raises(TypeError, lambda: Dropout(0.5, (None, 1)), "Dropout(noise_shape=...)")


def test_a_model_called_on_an_input_gives_its_output_shape():
    model = Sequential([Dense(4), Dense(2)])
    tensor = model(Input(shape=(3,)))
    assert tensor.shape == (None, 2) and tensor.ndim == 2
    assert model(Input(shape=(3,), batch_size=5)).shape == (5, 2)
    raises(ValueError, lambda: model(Input(shape=(4,))), "samples of shape (3,)",
           "Input of shape (4,)")
    for use in (bool, float, len):  # no silent truth value or number
        raises(TypeError, lambda use=use: use(tensor), "no functional API")


def test_following_the_call_error_advice_gives_a_layer_that_trains():
    # the Keras guide's Linear layer, rewritten as the error message says
    message = str(call_instead_of_forward_error(Dense))
    for step in ("self.check_input(x)", "self.check_grad_output(grad_output, self.x)",
                 "super().build(input_shape)", "compute_output_shape"):
        assert step in message

    Linear = linear_layer_class()  # tests/helpers.py: the layer written by that advice

    assert Linear(3)(Input(shape=(4,))).shape == (None, 3)
    assert Linear(3)(np.ones((2, 4))).shape == (2, 3)
    model = Sequential([Input(shape=(4,)), Linear(3), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)), rng.normal(size=(64, 1))
    history = model.fit(x, y, epochs=5, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_a_layer_of_your_own_that_forgets_compute_output_shape_is_pointed_at():
    class Widen(Layer):  # doubles the features, without compute_output_shape
        def forward(self, x, training=False):
            self.check_input(x)
            return np.concatenate([x, x], axis=1)

    model = Sequential([Input(shape=(2,)), Widen(), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    raises(ValueError, lambda: model.predict(np.ones((3, 2)), verbose=0),
           "built for samples of shape (2,), got x of shape (3, 4)", "compute_output_shape")


def test_losses_lists_the_regularizers_penalties_as_keras_does():
    # the "Overfit and underfit" tutorial adds up model.losses; Keras lists one penalty per
    # regularized trainable weight, in weight order, and none for a frozen layer
    from tinynet import regularizers
    from tinynet.models import Sequential

    first = Dense(3, kernel_regularizer=regularizers.L2(0.01),
                  bias_regularizer=regularizers.L1(0.1), bias_initializer="ones")
    model = Sequential([first, Dense(1), Dense(2, kernel_regularizer=regularizers.L1(0.5))])
    model.build((None, 4))
    kernel = first.params["kernel"]  # the bias starts at ones: 0.1 * |1| * 3
    last = model.layers[2].params["kernel"]
    expected = [0.01 * float((kernel.astype(np.float64) ** 2).sum()), 0.1 * 3,
                0.5 * float(np.abs(last.astype(np.float64)).sum())]
    assert model.losses == pytest.approx(expected, rel=1e-6)
    assert first.losses == pytest.approx(expected[:2], rel=1e-6)
    assert model.layers[1].losses == []
    assert sum(model.losses) == pytest.approx(model.regularization_loss(), rel=1e-12)
    first.trainable = False
    assert first.losses == [] and model.losses == pytest.approx(expected[2:], rel=1e-6)


def test_a_layers_activation_may_be_set_as_keras_code_sets_it():
    # Grad-CAM and saliency tutorials write model.layers[-1].activation = None for logits
    from tinynet import activations
    from tinynet.layers import Conv2D
    from tinynet.models import Sequential

    model = Sequential([Dense(4, input_shape=(3,), activation="softmax")])
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    probabilities = model.predict(x, verbose=0)
    last = model.layers[-1]
    last.activation = None
    logits = model.predict(x, verbose=0)
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    np.testing.assert_allclose(e / e.sum(axis=1, keepdims=True), probabilities, rtol=1e-5)
    last.activation = activations.relu
    assert (model.predict(x, verbose=0) >= 0).all() and last.activation.__name__ == "relu"
    np.testing.assert_array_equal(last.activation(logits), np.maximum(logits, 0))
    with pytest.raises(ValueError, match="Dense.activation"):
        last.activation = "no_such_function"
    conv = Conv2D(2, 3, activation="relu")
    conv.activation = "linear"
    assert conv.activation.__name__ == "linear"


def test_an_activation_set_on_layers_is_never_shared_and_keeps_its_settings():
    # each layer keeps an Activation of its own (one instance set on two Conv2D layers would
    # mix their cached outputs, and so their gradients); a LeakyReLU's slope cannot go
    # through the activation's name, so it is refused there
    from tinynet.layers import Activation, Conv2D, LeakyReLU, ReLU
    from tinynet.models import Sequential

    shared = Activation("tanh")
    first, second = Conv2D(2, 3, padding="same"), Conv2D(2, 3, padding="same")
    first.activation = shared
    second.activation = shared
    assert first.activation_layer is not second.activation_layer is not shared
    assert first.activation.__name__ == "tanh"
    first.activation = ReLU()
    assert first.activation.__name__ == "relu"
    with pytest.raises(TypeError, match="LeakyReLU layer has a slope"):
        first.activation = LeakyReLU(negative_slope=0.05)
    # an Activation layer changes its function when told to, as in Keras
    model = Sequential([Dense(3, input_shape=(2,)), Activation("softmax")])
    x = np.ones((2, 2), dtype=np.float32)
    model.layers[-1].activation = "linear"
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.layers[0](x))
    assert model.layers[-1].get_config()["activation"] == "linear"
    relu = ReLU()
    with pytest.raises(TypeError, match="ReLU is the relu activation.*Activation\\('tanh'\\)"):
        relu.activation = "tanh"
    leaky = LeakyReLU(negative_slope=0.1)
    leaky.activation = "leaky_relu"  # its own function: nothing changes, the slope stays
    np.testing.assert_allclose(leaky(np.array([[-1.0]], np.float32)), [[-0.1]])


def test_positional_arguments_follow_keras_order():
    # the order of Keras 3.15.1's signatures (inspect.signature): a positional argument means
    # what it means in Keras, or is refused, never silently taken as another one
    from tinynet import Input
    from tinynet.layers import GlobalAveragePooling2D, GlobalMaxPooling2D, LayerNormalization

    x = np.ones((2, 3, 3, 4), dtype=np.float32)
    assert GlobalAveragePooling2D("channels_last")(x).shape == (2, 4)
    assert GlobalMaxPooling2D(None, True)(x).shape == (2, 1, 1, 4)
    with pytest.raises(TypeError, match="data_format"):
        GlobalAveragePooling2D("channels_first")
    assert Input((3,), None, "float64").dtype == "float64"  # shape, batch_size, dtype
    assert LayerNormalization(-1, 0.01).epsilon == 0.01    # axis, epsilon
    # Conv2D(filters, kernel_size, strides, padding, data_format, dilation_rate, groups,
    # activation, ...): 'relu' in the 8th place is the activation, as in Keras
    from tinynet.layers import AveragePooling2D, Conv2D, MaxPooling2D
    conv = Conv2D(2, 3, 1, "same", "channels_last", 1, 1, "relu", False)
    assert conv.activation.__name__ == "relu" and not conv.use_bias
    for channels_first in (lambda: Conv2D(2, 3, 1, "same", "channels_first"),
                           lambda: MaxPooling2D(2, None, "valid", "channels_first"),
                           lambda: AveragePooling2D(2, None, "valid", "channels_first")):
        with pytest.raises(TypeError, match="data_format"):
            channels_first()
    with pytest.raises(TypeError, match="dilation_rate"):
        Conv2D(2, 3, dilation_rate=2)
    with pytest.raises(TypeError, match="groups"):
        Conv2D(2, 3, groups=2)
    assert MaxPooling2D(2, None, "valid", "channels_last")(x).shape == (2, 1, 1, 4)


def test_a_layers_activation_reads_as_keras_function():
    # Keras 3.15 (checked live): Dense(16, activation='relu').activation is
    # keras.activations.relu, so tutorials print layer.activation.__name__, compare it with
    # the module's function and serialize it; Activation('relu').activation is the same
    from tinynet import activations
    from tinynet.layers import Activation, Conv2D

    for layer in (Dense(4, activation="relu"), Conv2D(2, 3, activation="relu"),
                  Activation("relu")):
        assert layer.activation is activations.relu
        assert layer.activation == activations.relu and layer.activation.__name__ == "relu"
        assert activations.serialize(layer.activation) == "relu"
        np.testing.assert_array_equal(layer.activation(np.array([-1.0, 2.0])), [0.0, 2.0])
    assert Dense(4).activation is activations.linear
    assert Dense(4, activation="swish").get_config()["activation"] == "silu"  # Keras's name
    # printed as Keras 3 prints layers and models (print(model.layers) in the guides)
    assert repr(Activation("tanh", name="act")) == "<Activation name=act, built=False>"
    model = Sequential([Input((3,)), Dense(2)])
    assert repr(model.layers) == "[<Dense name=dense, built=True>]"
    assert repr(model) == "<Sequential name=sequential, built=True>"


def test_weights_have_the_methods_of_keras_variables():
    # the TF imbalanced-data tutorial: model.layers[-1].bias.assign([0.0]); intro courses:
    # for w in model.weights: print(w.name, w.shape); w.numpy(). Keras 3.15's names and
    # paths, checked live: 'kernel', 'sequential/dense/kernel'
    from tinynet import optimizers
    from tinynet.variables import Variable

    model = Sequential([Input(shape=(3,)), Dense(2), BatchNormalization(), Dense(1)])
    model.layers[-1].bias.assign([0.5])
    np.testing.assert_array_equal(model.get_weights()[-1], [0.5])
    assert [(w.name, w.path, w.trainable) for w in model.weights][:2] == [
        ("kernel", "sequential/dense/kernel", True), ("bias", "sequential/dense/bias", True)]
    assert [w.name for w in model.non_trainable_weights] == ["moving_mean", "moving_variance"]
    kernel = model.layers[0].kernel
    assert isinstance(kernel, Variable) and kernel.path == "sequential/dense/kernel"
    # one object per weight, as in Keras: kernel is kernel, and it is found in the lists
    assert kernel is model.layers[0].kernel is model.weights[0]
    assert kernel in model.trainable_variables
    standalone = Dense(2)
    standalone(np.zeros((1, 3), np.float32))
    assert standalone.kernel.path == "dense/kernel"  # built outside a model, as in Keras
    copy = kernel.numpy()
    assert type(copy) is np.ndarray and not np.shares_memory(copy, kernel)
    assert type(kernel * 2) is np.ndarray and type(kernel[0]) is np.ndarray
    assert type(model.get_weights()[0]) is np.ndarray
    kernel.assign_add(np.ones((3, 2)))
    np.testing.assert_array_equal(model.get_weights()[0], copy + 1)
    with pytest.raises(ValueError, match=r"shape \(3, 2\), got \(2,\)"):
        kernel.assign(np.zeros(2))
    assert repr(model.layers[-1].bias).startswith(
        "<Variable path=sequential/dense_1/bias, shape=(1,), dtype=float32, value=[0.5]")
    assert type(kernel.copy()) is np.ndarray and repr(kernel.T).startswith("array(")
    # read before compile, which moves the weights into the model's vector: assign and
    # numpy still reach the weight (Keras's variable is the same object throughout)
    bias = model.layers[-1].bias
    model.compile(optimizer="sgd", loss="mse")
    bias.assign([-2.0])
    np.testing.assert_array_equal(model.layers[-1].bias.numpy(), [-2.0])
    np.testing.assert_array_equal(bias.numpy(), [-2.0])
    # a custom loop over model.trainable_weights (new views at each call) keeps one state
    adam = optimizers.Adam(0.1)
    for _ in range(2):
        adam.apply_gradients(zip([np.ones(w.shape, np.float32) for w in model.trainable_weights],
                                 model.trainable_weights, strict=True))
    assert adam.iterations == 2


def test_a_weight_read_before_compile_still_is_the_weight():
    # a custom loop may keep model.trainable_variables from before compile (which moves the
    # weights into the model's vector): NumPy's functions and operators, indexing and the
    # optimizer still reach the weight as the layer holds it, as a Keras variable would
    from tinynet import optimizers

    model = Sequential([Input(shape=(3,)), Dense(2)])
    kernel, kept = model.layers[0].kernel, model.trainable_variables
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)
    model.fit(x, np.zeros((8, 2), np.float32), verbose=0)
    now = model.get_weights()[0]
    assert np.mean(kernel) == pytest.approx(float(np.mean(now)))
    np.testing.assert_array_equal(kernel[0], now[0])
    np.testing.assert_array_equal(kernel * 2, now * 2)
    kernel += 1
    assert isinstance(kernel, type(model.layers[0].kernel))  # still the Variable
    np.testing.assert_array_equal(model.get_weights()[0], now + 1)
    before = model.get_weights()[0]
    optimizers.SGD(0.5).apply_gradients(zip([np.ones(w.shape, np.float32) for w in kept], kept,
                                            strict=True))
    np.testing.assert_allclose(model.get_weights()[0], before - 0.5)


def test_setting_an_activation_between_forward_and_backward_asks_for_a_new_forward():
    # the new derivative with the old function's outputs would be a wrong gradient, silently
    # (Dense), or an error naming the inner Activation (Conv2D)
    from tinynet.layers import Conv2D

    for layer, x in ((Dense(2, activation="relu", dtype="float64"), np.ones((4, 3))),
                     (Conv2D(2, 2, activation="relu", dtype="float64"), np.ones((2, 4, 4, 1)))):
        y = layer.forward(x, training=True)
        layer.activation = "tanh"
        with pytest.raises(RuntimeError, match=f"{type(layer).__name__}.backward was called "
                                               f"before forward"):
            layer.backward(np.ones_like(y))
        layer.forward(x, training=True)
        layer.backward(np.ones_like(y))  # after a new forward, as usual
