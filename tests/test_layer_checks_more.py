"""Layers called by hand (forward, backward) check what they are given, as model.fit does.

A fuzzing review found inputs that layers took silently (an int x whose BN mean was
truncated, a grad_output of another batch size broadcast into the gradients, training='False'
that trained) or that failed deep inside NumPy. Each test here gives one of them and checks
the error: its type, the layer it names, what was expected and what came.
"""

import warnings

import numpy as np
import pytest
from helpers import raises

import tinynet
from tinynet import saving
from tinynet.gradcheck import check_layer
from tinynet.layers import (
    Activation,
    AveragePooling2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Dropout,
    Flatten,
    GlobalAveragePooling2D,
    GroupNormalization,
    InputLayer,
    LayerNormalization,
    MaxPooling2D,
    ReLU,
    Reshape,
    Sigmoid,
    Softmax,
)
from tinynet.models import Sequential

RNG = np.random.default_rng(0)
X2 = RNG.normal(size=(4, 6)).astype(np.float32)           # (batch, features)
X4 = RNG.normal(size=(2, 6, 6, 4)).astype(np.float32)     # (batch, height, width, channels)


# every kind of layer, fresh, with an input it takes
LAYERS = {
    "Dense": (lambda: Dense(3), X2),
    "BatchNormalization": (lambda: BatchNormalization(), X2),
    "BatchNormalization (images)": (lambda: BatchNormalization(), X4),
    "LayerNormalization": (lambda: LayerNormalization(), X2),
    "GroupNormalization": (lambda: GroupNormalization(groups=2), X4),
    "Activation": (lambda: Activation("relu"), X2),
    "Activation (gelu)": (lambda: Activation("gelu"), X2),
    "Softmax": (lambda: Softmax(), X2),
    "Dropout": (lambda: Dropout(0.5, seed=0), X2),
    "Conv2D": (lambda: Conv2D(2, 3), X4),
    "MaxPooling2D": (lambda: MaxPooling2D(), X4),
    "AveragePooling2D": (lambda: AveragePooling2D(2), X4),
    "GlobalAveragePooling2D": (lambda: GlobalAveragePooling2D(), X4),
    "GlobalMaxPooling2D": (lambda: tinynet.layers.GlobalMaxPooling2D(), X4),
    "Flatten": (lambda: Flatten(), X4),
    "Reshape": (lambda: Reshape((-1,)), X4),
    "InputLayer": (lambda: InputLayer(shape=(6,)), X2),
}


def fresh(name):
    make, x = LAYERS[name]
    return make(), x


# -- x that is not a float array ----------------------------------------------------------------

NOT_FLOAT = {
    "int64": lambda x: np.round(x * 10).astype(np.int64),
    "int8": lambda x: np.round(x * 10).astype(np.int8),
    "bool": lambda x: x > 0,
    "object": lambda x: x.astype(object),
    "str": lambda x: x.astype(str),
}


@pytest.mark.parametrize("kind", NOT_FLOAT)
@pytest.mark.parametrize("name", LAYERS)
def test_forward_refuses_an_x_that_is_not_float_naming_layer_dtype_and_fix(name, kind):
    layer, x = fresh(name)
    bad = NOT_FLOAT[kind](x)
    raises(TypeError, lambda: layer.forward(bad, training=True), type(layer).__name__,
           "floating-point", str(bad.dtype), "x.astype('float32')", "fit convert")


@pytest.mark.parametrize("name", ["Dense", "BatchNormalization", "Activation (gelu)",
                                  "MaxPooling2D"])
def test_forward_refuses_complex_x_as_not_real(name):
    layer, x = fresh(name)
    raises(TypeError, lambda: layer.forward(x.astype(complex), training=True),
           type(layer).__name__, "complex128", "real numbers")


def test_an_int_x_no_longer_gives_batchnorm_a_truncated_mean():
    layer = BatchNormalization()
    ints = np.array([[1, 2], [2, 2], [2, 3]])  # a float mean of 5/3 would truncate to 1
    raises(TypeError, lambda: layer.forward(ints, training=True), "int64")
    assert not layer.built  # nothing was computed, nor built, from the refused x


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
def test_matrix_and_masked_arrays_are_refused_and_a_memmap_is_taken(tmp_path):
    raises(TypeError, lambda: BatchNormalization().forward(np.asmatrix(X2), training=True),
           "numpy.matrix", "np.asarray(x)")
    masked = np.ma.masked_array(X2, mask=X2 > 0)
    raises(TypeError, lambda: LayerNormalization().forward(masked), "masked array",
           "x.filled")
    mapped = np.lib.format.open_memmap(tmp_path / "x.npy", mode="w+", dtype=np.float32,
                                       shape=X2.shape)
    mapped[...] = X2
    np.testing.assert_array_equal(Dense(3, kernel_initializer="ones").forward(mapped),
                                  Dense(3, kernel_initializer="ones").forward(X2))


# -- an empty batch -----------------------------------------------------------------------------

@pytest.mark.parametrize("name", LAYERS)
def test_forward_refuses_an_empty_batch(name):
    layer, x = fresh(name)
    raises(ValueError, lambda: layer.forward(x[:0], training=True), type(layer).__name__,
           "empty", str(x[:0].shape), "no samples")


def test_an_empty_batch_leaves_batchnorm_moving_statistics_alone():
    layer = BatchNormalization()
    layer.forward(X2, training=True)
    before = [w.copy() for w in layer.get_weights()]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no NumPy warning from inside, either
        with pytest.raises(ValueError, match="empty"):
            layer.forward(X2[:0], training=True)
    for old, new in zip(before, layer.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)
    assert np.isfinite(layer.state["moving_mean"]).all()


# -- a layer declared with input_shape and not built yet ---------------------------------------

@pytest.mark.parametrize("make, x", [
    (lambda: Dense(3, input_shape=(6,)), np.ones((4, 5), np.float32)),
    (lambda: GroupNormalization(2, input_shape=(4, 4, 6)), np.ones((2, 4, 4, 4), np.float32)),
    (lambda: BatchNormalization(input_dim=6), np.ones((4, 5), np.float32)),
])
def test_a_layer_declared_for_one_shape_refuses_another_before_it_is_built(make, x):
    layer = make()
    raises(ValueError, lambda: layer.forward(x), type(layer).__name__, "input_shape=",
           str(x.shape))
    assert not layer.built
    raises(ValueError, lambda: make()(x), type(layer).__name__, "input_shape=")  # layer(x)
    assert layer.forward(np.ones((4, *layer.input_shape[1:]), np.float32)).shape[0] == 4


# -- grad_output of the wrong batch size, or not float -----------------------------------------

@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("batch", [1, "one more"])
def test_backward_refuses_grad_output_of_another_batch_size(name, batch):
    layer, x = fresh(name)
    y = layer.forward(x, training=True)
    n = 1 if batch == 1 else len(y) + 1
    g = np.ones((n, *y.shape[1:]), np.float32)
    raises(ValueError, lambda: layer.backward(g), f"{type(layer).__name__}.backward",
           f"batch of {n}", f"batch of {len(y)}", str(y.shape), "predict")


def test_batchnorm_beta_gradient_is_no_longer_broadcast_from_one_sample():
    layer = BatchNormalization()
    layer.forward(X2, training=True)
    with pytest.raises(ValueError, match="last forward ran on a batch of 4"):
        layer.backward(np.ones((1, 6), np.float32))  # used to give grads['beta'] = 1, not 4


def test_backward_after_a_predict_of_another_size_says_why():
    tinynet.set_seed(0)
    model = Sequential([Dense(4, input_shape=(6,)), BatchNormalization(), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.forward(np.ones((16, 6), np.float32), training=True)
    model.predict(np.ones((5, 6), np.float32), verbose=0)
    raises(ValueError, lambda: model.backward(np.ones((16, 1), np.float32)),
           "Dense 'dense_1'.backward", "batch of 5", "predict, evaluate and model(x) run "
           "forward too")


@pytest.mark.parametrize("make, x", [(lambda: Dense(3, activation="relu"), X2),
                                     (lambda: Conv2D(2, 3, activation="relu"), X4)])
def test_dense_and_conv2d_name_themselves_not_their_inner_activation(make, x):
    layer = make()
    y = layer.forward(x, training=True)
    message = raises(ValueError, lambda: layer.backward(np.ones((1, *y.shape[1:]), np.float32)),
                     f"{type(layer).__name__}.backward")
    assert "Activation" not in message


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("dtype", [str, np.int64, bool])
def test_backward_refuses_grad_output_that_is_not_float(name, dtype):
    layer, x = fresh(name)
    y = layer.forward(x, training=True)
    g = np.ones(y.shape).astype(dtype)
    raises(TypeError, lambda: layer.backward(g), f"{type(layer).__name__}.backward",
           "grad_output", "floating-point", str(g.dtype))


# -- training must be a bool --------------------------------------------------------------------

@pytest.mark.parametrize("training", ["False", "True", 0.0, 1, np.float64(0.0)])
@pytest.mark.parametrize("make", [BatchNormalization, lambda: Dropout(0.5)])
def test_training_that_is_not_a_bool_is_refused(make, training):
    layer = make()
    raises(TypeError, lambda: layer.forward(X2, training=training), type(layer).__name__,
           "training must be True, False or None", repr(training))


@pytest.mark.parametrize("make", [BatchNormalization, lambda: Dropout(0.5)])
def test_training_none_is_inference_as_in_keras(make):
    # Keras's layer(x, training=None) outside fit runs in inference mode
    layer = make()
    np.testing.assert_array_equal(layer.forward(X2, training=None),
                                  layer.forward(X2, training=False))
    np.testing.assert_array_equal(layer(X2, training=None), layer(X2, training=False))


def test_training_false_as_a_string_no_longer_trains_batchnorm_and_numpy_bools_do():
    layer = BatchNormalization()
    with pytest.raises(TypeError, match="'False' would train"):
        layer.forward(X2 + 5, training="False")
    assert not layer.built or np.all(layer.state["moving_mean"] == 0)
    expected = BatchNormalization().forward(X2, training=True)
    np.testing.assert_array_equal(layer.forward(X2, training=np.bool_(True)), expected)
    assert np.any(layer.state["moving_mean"] != 0)


# -- BatchNormalization's warning for a batch variance that is not finite -----------------------

def bn_warning(x):
    layer = BatchNormalization()
    with pytest.warns(RuntimeWarning) as record:
        layer.forward(np.asarray(x, np.float32), training=True)
    return " ".join(str(w.message) for w in record)


def test_batchnorm_says_nan_inputs_not_overflow():
    message = bn_warning([[np.nan, 1.0], [2.0, 3.0]])
    assert "contain NaN" in message and "feature 0" in message and "np.isnan" in message
    assert "overflowed" not in message and "too large" not in message


def test_batchnorm_says_infinite_inputs_not_overflow():
    message = bn_warning([[np.inf, 1.0], [2.0, 3.0]])
    assert "contain inf" in message and "feature 0" in message
    assert "overflowed" not in message


def test_batchnorm_still_says_overflow_for_finite_inputs_too_large():
    message = bn_warning([[1.0, 1e20], [2.0, -1e20]])
    assert "overflowed to inf" in message and "feature 1" in message
    assert "NaN" not in message


# -- ReLU, Sigmoid, Softmax take no activation, and lack some Keras arguments -------------------

def test_relu_given_an_activation_says_it_is_relu():
    raises(TypeError, lambda: ReLU(activation="tanh"), "ReLU()", "relu activation",
           "Activation('tanh')")
    raises(TypeError, lambda: Sigmoid(activation="relu"), "Sigmoid()", "Activation('relu')")


@pytest.mark.parametrize("make, words", [
    (lambda: ReLU(max_value=6), ["ReLU has no max_value", "caps the output at", "ReLU6"]),
    (lambda: ReLU(negative_slope=0.1), ["no negative_slope", "LeakyReLU(negative_slope=a)"]),
    (lambda: ReLU(threshold=1.0), ["no threshold"]),
    (lambda: ReLU(nmae="r"), ["unknown argument 'nmae'", "Did you mean 'name'?"]),
])
def test_keras_arguments_of_relu_and_softmax_are_explained(make, words):
    message = raises(TypeError, make, *words, "Valid arguments: activity_regularizer, dtype")
    assert "activation" not in message.split("Valid arguments:")[1]


# -- InputLayer -----------------------------------------------------------------------------

@pytest.mark.parametrize("x, exception, words", [
    ([[1.0] * 6], TypeError, ["NumPy array", "list"]),
    (np.ones(6, np.float32), TypeError, ["(6,)", "reshape(1, -1)"]),
    (np.ones((4, 5), np.float32), ValueError, ["(6,)", "(4, 5)"]),
    (np.ones((4, 6), int), TypeError, ["int64"]),
])
def test_input_layer_forward_checks_x(x, exception, words):
    raises(exception, lambda: InputLayer(shape=(6,)).forward(x), "InputLayer", *words)


def test_input_layer_backward_checks_grad_output():
    layer = InputLayer(shape=(6,))
    raises(RuntimeError, lambda: layer.backward(np.ones((4, 6), np.float32)), "before forward")
    layer.forward(X2)
    raises(ValueError, lambda: layer.backward(np.ones((4, 5), np.float32)), "(batch, 6)")
    np.testing.assert_array_equal(layer.backward(X2), X2)


@pytest.mark.parametrize("batch_size, exception", [(-3, ValueError), (0, ValueError),
                                                   ("x", TypeError), (2.5, TypeError)])
def test_input_layer_batch_size_is_checked(batch_size, exception):
    raises(exception, lambda: InputLayer(shape=(6,), batch_size=batch_size), "batch_size")
    raises(exception, lambda: tinynet.layers.Input((6,), batch_size=batch_size), "batch_size")


def test_input_names_keras_arguments_it_lacks_and_the_closest_one():
    raises(TypeError, lambda: tinynet.layers.Input(shape=(6,), batchsize=3), "Input()",
           "'batchsize'", "Did you mean 'batch_size'?")
    raises(TypeError, lambda: tinynet.layers.Input(shape=(6,), sparse=True), "sparse=True",
           "default None only", "valid arguments: shape, batch_size, dtype, batch_shape, name")


def test_input_takes_keras_3s_arguments_in_keras_3s_order():
    # Keras 3.15: Input(shape, batch_size, dtype, sparse, ragged, batch_shape, name, ...)
    layer = tinynet.layers.Input((6,), None, "float64", None, None, None, "pixels")
    assert layer.name == "pixels" and layer.dtype == "float64"
    assert tinynet.layers.Input(batch_shape=(None, 6)).input_shape == (None, 6)
    assert tinynet.layers.Input(batch_shape=(8, 6)).batch_size == 8
    raises(ValueError, lambda: tinynet.layers.Input((6,), batch_shape=(None, 6)), "not both")
    raises(TypeError, lambda: tinynet.layers.Input(optional=True), "optional=True")


# -- channels-first images ------------------------------------------------------------------

def test_conv2d_on_channels_first_mnist_says_channels_last_not_padding_same():
    message = raises(ValueError, lambda: Conv2D(8, 3).forward(np.ones((2, 1, 28, 28), "f")),
                     "Conv2D", "channels-first", "like Keras", "(batch, height, width, "
                     "channels)", "x.transpose(0, 2, 3, 1)")
    assert "padding='same'" not in message


def test_a_conv2d_built_for_images_names_their_channels_first_transpose():
    layer = Conv2D(2, 3)
    layer.forward(np.ones((2, 6, 6, 3), np.float32))
    raises(ValueError, lambda: layer.forward(np.ones((2, 3, 6, 6), np.float32)),
           "x.transpose(0, 2, 3, 1)")


def test_channels_first_images_that_fit_with_padding_same_warn():
    for layer in (Conv2D(8, 3, padding="same"), MaxPooling2D(padding="same")):
        with pytest.warns(UserWarning, match=r"channels-first.*x\.transpose\(0, 2, 3, 1\)"):
            layer.forward(np.ones((2, 1, 28, 28), np.float32))
    with warnings.catch_warnings():  # a window of height 1 (a 1-D convolution) is left alone
        warnings.simplefilter("error")
        assert Conv2D(4, (1, 3)).forward(np.ones((2, 1, 28, 16), np.float32)).shape == \
            (2, 1, 26, 4)


# -- LayerNormalization(axis=...) -------------------------------------------------------------

@pytest.mark.parametrize("axis", [-1, [-1], (-1,), 1, np.int64(1)])
def test_layer_normalization_takes_the_last_axis(axis):
    layer = LayerNormalization(axis=axis, dtype="float64")
    y = layer.forward(X2.astype(np.float64))
    np.testing.assert_array_equal(y, LayerNormalization(dtype="float64").forward(
        X2.astype(np.float64)))


@pytest.mark.parametrize("axis, words", [
    (0, ["axis=0", "last axis only"]), (-2, ["axis=-2", "last axis only"]),
    ([1, 2, 3], ["axis=[1, 2, 3]", "GroupNormalization(groups=1)"]), ("-1", ["'-1'"]),
    (True, ["axis=True"]),
])
def test_layer_normalization_refuses_other_axes(axis, words):
    raises(ValueError, lambda: LayerNormalization(axis=axis), "LayerNormalization", *words)


def test_layer_normalization_axis_that_is_not_the_last_once_built_is_refused():
    raises(ValueError, lambda: LayerNormalization(axis=1).forward(X4), "axis=1",
           "(None, 6, 6, 4)", "last axis")


def test_layer_normalization_config_keeps_keras_axis_and_loads_it():
    layer = LayerNormalization(epsilon=1e-4, name="ln")
    config = layer.get_config()
    assert config["axis"] == [-1]  # what Keras writes
    loaded = saving.layer_from_config("LayerNormalization", config)
    assert loaded.axis == [-1] and loaded.epsilon == 1e-4


# -- GlobalMaxPooling2D ---------------------------------------------------------------------

def test_global_max_pooling_takes_each_channels_maximum():
    layer = tinynet.layers.GlobalMaxPooling2D()
    np.testing.assert_array_equal(layer.forward(X4), X4.max(axis=(1, 2)))
    keep = tinynet.layers.GlobalMaxPool2D(keepdims=True)
    np.testing.assert_array_equal(keep.forward(X4), X4.max(axis=(1, 2), keepdims=True))


@pytest.mark.parametrize("keepdims", [False, True])
def test_global_max_pooling_backward_matches_finite_differences(keepdims):
    x = np.random.default_rng(1).normal(size=(3, 4, 5, 2))
    errors = check_layer(tinynet.layers.GlobalMaxPooling2D(keepdims=keepdims,
                                                           dtype="float64"), x)
    assert errors["input"] < 1e-7


def test_global_max_pooling_shares_a_tie_among_the_maxima_unlike_max_pooling():
    """Keras 3.15 (torch) computes GlobalMaxPooling2D as ops.max, whose gradient is shared
    by tied maxima; MaxPooling2D gives a window's tie to its first pixel."""
    x = np.zeros((1, 2, 2, 1), np.float32)  # four tied pixels
    g = np.ones((1, 1), np.float32)
    layer = tinynet.layers.GlobalMaxPooling2D()
    layer.forward(x)
    np.testing.assert_allclose(layer.backward(g), np.full((1, 2, 2, 1), 0.25))
    pool = MaxPooling2D(2)
    pool.forward(x)
    dx = pool.backward(g.reshape(1, 1, 1, 1))
    assert dx[0, 0, 0, 0] == 1 and dx.sum() == 1


def test_global_max_pooling_trains_in_a_model():
    tinynet.set_seed(0)
    model = Sequential([Conv2D(4, 3, input_shape=(6, 6, 4)),
                        tinynet.layers.GlobalMaxPooling2D(), Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(X4, np.ones((2, 1), np.float32), epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]



def test_images_of_the_wrong_rank_are_told_their_sample_shape_not_a_none_batch():
    from tinynet.layers import Conv2D

    with pytest.raises(ValueError, match=r"got samples of shape \(5,\) \(2 dimensions"):
        Conv2D(2, 3).forward(np.ones((4, 5), dtype=np.float32))
