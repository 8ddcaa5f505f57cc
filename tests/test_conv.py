"""Convolutional layers: Conv2D, the pooling layers, Flatten, Reshape, and BatchNormalization /
LayerNormalization on images (N, H, W, C).

Each backward is checked three ways: against finite differences (float64, random projection
loss sum(y * R)), against PyTorch autograd to 1e-9 (tests/data/torch_conv_reference.npz, made
by tests/data/make_torch_conv_reference.py), and each forward against the obvious loops.
GroupNormalization has its own file, tests/test_groupnorm.py (same fixture).
"""

import importlib.util
import json
import pathlib

import numpy as np
import pytest

import tinynet
from tinynet.gradcheck import check_layer, numerical_gradient, relative_error
from tinynet.layers import (
    AveragePooling2D,
    AvgPool2D,
    BatchNormalization,
    Conv2D,
    Dense,
    Flatten,
    GlobalAveragePooling2D,
    GroupNormalization,
    LayerNormalization,
    MaxPool2D,
    MaxPooling2D,
    Reshape,
)

HERE = pathlib.Path(__file__).parent
FIXTURE = HERE / "data" / "torch_conv_reference.npz"
TOOL = HERE / "data" / "make_torch_conv_reference.py"
TORCH_TOLERANCE = 1e-9     # the bar: equal to autograd to 1e-9 in float64
GRADIENT_TOLERANCE = 1e-6  # finite differences in float64 (as tests/test_layers.py)

LAYER_CLASSES = {cls.__name__: cls for cls in (
    Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D, Flatten, Reshape,
    GroupNormalization, BatchNormalization, LayerNormalization)}


def load_fixture():
    with np.load(FIXTURE) as data:
        arrays = {key: data[key] for key in data.files}
    cases = []
    for entry in json.loads(str(arrays["cases"])):
        prefix = entry["name"] + "__"
        entry["arrays"] = {key[len(prefix):]: value for key, value in arrays.items()
                           if key.startswith(prefix)}
        cases.append(entry)
    return cases, float(arrays["epsilon"]), float(arrays["momentum"])


CASES, EPSILON, MOMENTUM = load_fixture()


def fixture_cases(*layer_names):
    chosen = [case for case in CASES if case["layer"] in layer_names]
    return pytest.mark.parametrize("case", chosen, ids=[case["name"] for case in chosen])


def layer_for(case):
    """A float64 tinynet layer built like the case's, holding the case's weights."""
    config = dict(case["config"])
    if case["layer"] in ("GroupNormalization", "BatchNormalization", "LayerNormalization"):
        config["epsilon"] = EPSILON
    if case["layer"] == "BatchNormalization":
        config["momentum"] = MOMENTUM
    layer = LAYER_CLASSES[case["layer"]](**config, dtype="float64")
    layer.build((None, *case["arrays"]["x"].shape[1:]))
    if layer.weight_keys():
        layer.set_weights([case["arrays"][key] for key in layer.weight_keys()])
    return layer


def assert_close(name, mine, torch_value):
    """Absolute difference below 1e-9 times the largest torch entry (at least 1)."""
    assert mine.shape == torch_value.shape, f"{name}: shape {mine.shape} vs {torch_value.shape}"
    diff = np.max(np.abs(mine - torch_value))
    scale = max(np.max(np.abs(torch_value)), 1.0)
    assert diff <= TORCH_TOLERANCE * scale, f"{name}: max abs diff {diff:.2e} vs torch"


def compare_with_torch(case):
    """Forward in training mode and backward of tinynet against torch's saved answers."""
    layer = layer_for(case)
    arrays = case["arrays"]
    y = layer.forward(arrays["x"].copy(), training=True)
    dx = layer.backward(arrays["grad_output"].copy())
    assert_close("y", y, arrays["y"])
    assert_close("dx", dx, arrays["dx"])
    for key in layer.params:
        assert_close("d" + key, layer.grads[key], arrays["d" + key])
    return layer


def random_x(shape, seed=42, loc=0.0, scale=1.0):
    # not seed 0: check_layer draws its projection R with seed 0 (see tests/test_layers.py)
    return np.random.default_rng(seed).normal(loc, scale, size=shape)


def assert_gradients_ok(errors):
    for key, error in errors.items():
        assert error < GRADIENT_TOLERANCE, f"{key}: relative error {error:.2e}"


# -- PyTorch autograd -----------------------------------------------------------------------

@fixture_cases("Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalAveragePooling2D",
               "Flatten", "Reshape", "LayerNormalization")
def test_forward_and_backward_equal_torch_autograd(case):
    compare_with_torch(case)


@fixture_cases("BatchNormalization")
def test_batchnorm_on_images_equals_torch_batchnorm2d(case):
    layer = compare_with_torch(case)
    # torch's running mean follows the same rule as Keras's moving mean; its running variance
    # uses the UNBIASED batch variance, larger by count / (count - 1), count = N * H * W
    arrays = case["arrays"]
    count = arrays["x"].size // arrays["x"].shape[-1]
    np.testing.assert_allclose(layer.state["moving_mean"], arrays["torch_running_mean"],
                               rtol=1e-12, atol=1e-12)
    old = arrays["moving_variance"]
    tinynet_batch_var = (layer.state["moving_variance"] - MOMENTUM * old) / (1 - MOMENTUM)
    torch_batch_var = (arrays["torch_running_var"] - MOMENTUM * old) / (1 - MOMENTUM)
    np.testing.assert_allclose(tinynet_batch_var * count / (count - 1), torch_batch_var,
                               rtol=1e-9)


def test_live_torch_agrees_on_fresh_random_cases():
    pytest.importorskip("torch")
    spec = importlib.util.spec_from_file_location("make_torch_conv_reference", TOOL)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    rng = np.random.default_rng(2026)
    for name, layer, config, shape in tool.CASES:
        arrays = tool.make_case(name, layer, config, shape, rng)
        compare_with_torch({"name": name, "layer": layer, "config": config, "arrays": arrays})


# -- finite differences ---------------------------------------------------------------------

@pytest.mark.parametrize("kwargs", [
    {"filters": 3, "kernel_size": 3},
    {"filters": 2, "kernel_size": (2, 3), "strides": 2, "padding": "same"},
    {"filters": 2, "kernel_size": 3, "strides": (1, 2), "padding": "same",
     "activation": "tanh"},
    {"filters": 2, "kernel_size": 2, "use_bias": False},
], ids=["valid", "same-stride2", "same-tanh", "no-bias"])
def test_conv2d_gradients_match_finite_differences(kwargs):
    tinynet.set_seed(1)
    layer = Conv2D(**kwargs, bias_initializer="random_normal", dtype="float64")
    assert_gradients_ok(check_layer(layer, random_x((2, 6, 5, 2))))


@pytest.mark.parametrize("layer_class", [MaxPooling2D, AveragePooling2D])
@pytest.mark.parametrize("kwargs", [
    {"pool_size": 2}, {"pool_size": 3, "strides": 2, "padding": "same"},
    {"pool_size": (2, 3), "strides": 1},
], ids=["valid", "same-overlapping", "stride1"])
def test_pooling_gradients_match_finite_differences(layer_class, kwargs):
    layer = layer_class(**kwargs, dtype="float64")
    assert_gradients_ok(check_layer(layer, random_x((2, 7, 6, 2))))


@pytest.mark.parametrize("layer", [
    GlobalAveragePooling2D(dtype="float64"), GlobalAveragePooling2D(keepdims=True,
                                                                    dtype="float64"),
    Flatten(dtype="float64"), Reshape((-1, 4), dtype="float64"),
], ids=["gap", "gap-keepdims", "flatten", "reshape"])
def test_shape_layers_gradients_match_finite_differences(layer):
    assert_gradients_ok(check_layer(layer, random_x((2, 3, 4, 2))))


# -- forward against the obvious loops ------------------------------------------------------

def same_pads(size, window, stride):
    out = -(-size // stride)
    total = max((out - 1) * stride + window - size, 0)
    return (total // 2, total - total // 2)


def looped_windows(x, window, strides, padding, fill):
    """Every window of x, by explicit loops: {(n, i, j): (kh, kw, C) array}, and the pads."""
    pads = [(0, 0), (0, 0)]
    if padding == "same":
        pads = [same_pads(x.shape[1], window[0], strides[0]),
                same_pads(x.shape[2], window[1], strides[1])]
    x_pad = np.pad(x, [(0, 0), *pads, (0, 0)], constant_values=fill)
    out_h = (x_pad.shape[1] - window[0]) // strides[0] + 1
    out_w = (x_pad.shape[2] - window[1]) // strides[1] + 1
    real = np.pad(np.ones(x.shape[1:3]), pads)
    result = {}
    for n in range(x.shape[0]):
        for i in range(out_h):
            for j in range(out_w):
                rows = slice(i * strides[0], i * strides[0] + window[0])
                cols = slice(j * strides[1], j * strides[1] + window[1])
                result[n, i, j] = (x_pad[n, rows, cols], real[rows, cols])
    return result, (x.shape[0], out_h, out_w)


@pytest.mark.parametrize("padding, strides", [("valid", (1, 1)), ("same", (2, 2)),
                                              ("same", (1, 2))])
def test_conv2d_forward_equals_the_six_nested_loops(padding, strides):
    tinynet.set_seed(3)
    layer = Conv2D(4, (3, 2), strides=strides, padding=padding, dtype="float64",
                   bias_initializer="random_normal")
    x = random_x((2, 7, 6, 3))
    y = layer(x)
    kernel, bias = layer.get_weights()
    windows, shape = looped_windows(x, (3, 2), strides, padding, 0.0)
    expected = np.zeros((*shape, 4))
    for (n, i, j), (patch, _) in windows.items():
        for o in range(4):
            expected[n, i, j, o] = bias[o] + np.sum(patch * kernel[:, :, :, o])
    np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)


def test_same_padding_puts_the_odd_pixel_at_the_bottom_and_right_as_keras():
    # a 2x2 kernel of ones on a 3x3 image: 'same' needs one row and one column of zeros,
    # which Keras (TensorFlow's rule) adds after the image, not before it
    layer = Conv2D(1, 2, padding="same", use_bias=False, kernel_initializer="ones",
                   dtype="float64")
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    y = layer(x)[0, :, :, 0]
    assert y.shape == (3, 3)
    assert y[0, 0] == 0 + 1 + 3 + 4          # the window starts at the image's first pixel
    assert y[2, 2] == 8                      # the last window holds one real pixel
    assert y[0, 2] == 2 + 5 and y[2, 0] == 6 + 7


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_pooling_forward_equals_loops_and_ignores_padding(padding):
    x = random_x((2, 7, 6, 3))
    windows, shape = looped_windows(x, (3, 3), (2, 2), padding, np.nan)
    expected_max = np.zeros((*shape, 3))
    expected_avg = np.zeros((*shape, 3))
    for (n, i, j), (patch, real) in windows.items():
        inside = patch[real == 1]                      # (real pixels, C): padding never counts
        expected_max[n, i, j] = inside.max(axis=0)
        expected_avg[n, i, j] = inside.mean(axis=0)
    np.testing.assert_array_equal(MaxPooling2D(3, 2, padding, dtype="float64")(x), expected_max)
    np.testing.assert_allclose(AveragePooling2D(3, 2, padding, dtype="float64")(x),
                               expected_avg, rtol=1e-12)


def test_average_pooling_same_matches_the_example_on_keras_docs_page():
    # keras.io/2.18/api/layers/pooling_layers/average_pooling2d: a 3x3 image 1..9, pool 2x2,
    # strides 1, 'same' (values computed by TensorFlow, independently of tinynet)
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    y = AveragePooling2D(pool_size=(2, 2), strides=(1, 1), padding="same")(x)
    np.testing.assert_array_equal(y[0, :, :, 0], [[3, 4, 4.5], [6, 7, 7.5], [7.5, 8.5, 9]])


def test_max_pooling_sends_the_gradient_to_the_first_of_tied_maxima():
    x = np.zeros((1, 2, 2, 1))
    layer = MaxPooling2D(2)
    layer(x)
    dx = layer.backward(np.ones((1, 1, 1, 1), dtype=np.float32))
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 0], [0, 0]])


def test_flatten_keeps_keras_channels_last_order():
    x = np.arange(2 * 3 * 4 * 5, dtype=np.float32).reshape(2, 3, 4, 5)
    y = Flatten()(x)
    assert y.shape == (2, 60)
    np.testing.assert_array_equal(y[1, :5], x[1, 0, 0, :])   # channels vary fastest


def test_reshape_fills_in_minus_one_and_refuses_sizes_that_do_not_fit():
    layer = Reshape((-1, 2, 2))
    assert layer(np.ones((3, 16))).shape == (3, 4, 2, 2)
    with pytest.raises(ValueError, match="cannot be arranged"):
        Reshape((5, -1))(np.ones((3, 16)))
    with pytest.raises(ValueError, match="at most one -1"):
        Reshape((-1, -1))


# -- shapes, weights, Keras's conventions ----------------------------------------------------

@pytest.mark.parametrize("layer, input_shape, output_shape", [
    (Conv2D(6, 5), (28, 28, 1), (None, 24, 24, 6)),
    (Conv2D(6, 5, padding="same"), (28, 28, 1), (None, 28, 28, 6)),
    (Conv2D(8, 3, strides=2, padding="same"), (7, 9, 2), (None, 4, 5, 8)),
    (Conv2D(8, 3, strides=2), (7, 9, 2), (None, 3, 4, 8)),
    (MaxPooling2D(), (24, 24, 6), (None, 12, 12, 6)),
    (MaxPooling2D(3, strides=2, padding="same"), (7, 7, 4), (None, 4, 4, 4)),
    (AveragePooling2D(2, strides=1), (5, 5, 3), (None, 4, 4, 3)),
    (GlobalAveragePooling2D(), (5, 5, 3), (None, 3)),
    (Flatten(), (4, 4, 16), (None, 256)),
    (Reshape((28, 28, 1)), (784,), (None, 28, 28, 1)),
], ids=lambda value: str(value) if isinstance(value, tuple) else type(value).__name__)
def test_output_shapes_follow_keras_rules(layer, input_shape, output_shape):
    layer.build((None, *input_shape))
    assert layer.output_shape == output_shape
    x = np.zeros((2, *input_shape), dtype=np.float32)
    assert layer(x).shape == (2, *output_shape[1:])


def test_conv2d_kernel_has_keras_layout_and_parameter_count():
    layer = Conv2D(16, 5)
    layer.build((None, 12, 12, 6))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (5, 5, 6, 16) and bias.shape == (16,)
    assert layer.count_params() == 5 * 5 * 6 * 16 + 16 == 2416
    assert kernel.dtype == np.float32


def test_pooling_defaults_and_keras_short_names():
    layer = MaxPooling2D()
    assert layer.pool_size == (2, 2) and layer.strides == (2, 2) and layer.padding == "valid"
    with pytest.raises(TypeError, match="pool_size"):   # Keras 3: no default for average
        AveragePooling2D()
    assert MaxPool2D is MaxPooling2D and AvgPool2D is AveragePooling2D
    assert AveragePooling2D(3, strides=1).strides == (1, 1)


def test_conv2d_glorot_limit_uses_keras_fans():
    # Keras: fan_in = kh * kw * C_in, fan_out = kh * kw * C_out
    tinynet.set_seed(0)
    layer = Conv2D(16, 5)
    layer.build((None, 12, 12, 6))
    limit = np.sqrt(6 / (25 * 6 + 25 * 16))
    kernel = layer.params["kernel"]
    assert np.abs(kernel).max() <= limit
    assert np.abs(kernel).max() > 0.95 * limit


def test_conv2d_as_a_first_layer_skips_the_image_gradient_but_not_its_own():
    # Sequential.backward sets needs_input_grad = False on its first layer in training
    tinynet.set_seed(2)
    layer = Conv2D(2, 3, dtype="float64")
    x, g = random_x((2, 5, 5, 1)), random_x((2, 3, 3, 2), seed=8)
    layer.forward(x, training=True)
    full = layer.backward(g)
    kernel_grad = layer.grads["kernel"].copy()
    layer.needs_input_grad = False
    layer.forward(x, training=True)
    assert layer.backward(g) is None and full.shape == x.shape
    np.testing.assert_array_equal(layer.grads["kernel"], kernel_grad)


def test_conv2d_is_float32_by_default_end_to_end():
    layer = Conv2D(2, 3, padding="same")
    y = layer(np.ones((2, 5, 5, 1)))
    dx = layer.backward(np.ones_like(y))
    assert y.dtype == dx.dtype == layer.grads["kernel"].dtype == np.float32


# -- errors that name the layer --------------------------------------------------------------

def test_conv2d_refuses_inputs_that_are_not_images():
    with pytest.raises(ValueError, match=r"Conv2D.*\(batch, height, width, channels\)"):
        Conv2D(4, 3).build((None, 20))


def test_grayscale_images_without_a_channels_axis_get_the_fix_in_the_error():
    with pytest.raises(ValueError, match=r"x\[\.\.\., None\]"):
        Conv2D(6, 5)(np.zeros((2, 28, 28)))


def test_conv2d_says_when_the_kernel_does_not_fit():
    with pytest.raises(ValueError, match="5x5 window does not fit in 3x3 images"):
        Conv2D(4, 5).build((None, 3, 3, 1))


@pytest.mark.parametrize("kwargs, error, message", [
    ({"filters": 0, "kernel_size": 3}, ValueError, "filters"),
    ({"filters": 4, "kernel_size": (3, 3, 3)}, ValueError, "kernel_size"),
    ({"filters": 4, "kernel_size": 3, "padding": "full"}, ValueError, "'valid' or 'same'"),
    ({"filters": 4, "kernel_size": 3.0}, TypeError, "kernel_size"),
    ({"filters": 4, "kernel_size": 3, "strides": 0}, ValueError, "strides"),
    ({"filters": 4, "kernel_size": 3, "activaton": "relu"}, TypeError, "activation"),
])
def test_conv2d_arguments_are_checked_at_the_call(kwargs, error, message):
    with pytest.raises(error, match=message):
        Conv2D(**kwargs)


def test_pooling_refuses_a_batch_of_vectors():
    with pytest.raises(ValueError, match="MaxPooling2D"):
        MaxPooling2D()(np.ones((4, 10)))


def test_conv2d_backward_before_forward_is_a_clear_error():
    layer = Conv2D(2, 3)
    layer.build((None, 5, 5, 1))
    with pytest.raises(RuntimeError, match="before forward"):
        layer.backward(np.ones((1, 3, 3, 2), dtype=np.float32))


# -- BatchNormalization and LayerNormalization on images --------------------------------------

def image_batchnorm(input_shape=(None, 4, 5, 3)):
    """A float64 BN layer whose four weights are all away from their defaults."""
    channels = input_shape[-1]
    layer = BatchNormalization(dtype="float64")
    layer.build(input_shape)
    rng = np.random.default_rng(3)
    layer.set_weights([rng.uniform(0.5, 2.0, channels), rng.normal(size=channels),
                       rng.normal(size=channels), rng.uniform(0.5, 3.0, channels)])
    return layer


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_spatial_batchnorm_equals_dense_batchnorm_on_pixels_as_rows(training):
    # CS231n's check: per-channel BN of (N, H, W, C) is the fully-connected BN of the
    # (N*H*W, C) matrix whose rows are the pixels: forward, backward and moving statistics
    x = random_x((6, 4, 5, 3), loc=2.0, scale=3.0)
    g = random_x(x.shape, seed=7)
    spatial, flat = image_batchnorm(), image_batchnorm((None, 3))  # the same weights
    y = spatial.forward(x, training=training)
    y_flat = flat.forward(x.reshape(-1, 3), training=training)
    np.testing.assert_allclose(y, y_flat.reshape(x.shape), rtol=1e-12, atol=1e-12)
    dx = spatial.backward(g)
    dx_flat = flat.backward(g.reshape(-1, 3))
    np.testing.assert_allclose(dx, dx_flat.reshape(x.shape), rtol=1e-10, atol=1e-12)
    for key in ("gamma", "beta"):
        np.testing.assert_allclose(spatial.grads[key], flat.grads[key], rtol=1e-10)
    for key in ("moving_mean", "moving_variance"):
        np.testing.assert_allclose(spatial.state[key], flat.state[key], rtol=1e-12)


@pytest.mark.parametrize("training", [True, False], ids=["training", "inference"])
def test_spatial_batchnorm_gradients_match_finite_differences(training):
    errors = check_layer(image_batchnorm(), random_x((3, 4, 5, 3), loc=2.0, scale=3.0),
                         training=training)
    assert_gradients_ok(errors)


def test_spatial_batchnorm_after_conv2d_gradients_match_finite_differences():
    # BN's grad_input feeds Conv2D's kernel gradient: the two backward passes are checked
    # composed, Conv2D's getting the real upstream gradient BN returns rather than a made-up
    # one (a check of BN alone already catches a wrong dx: see tinynet/gradcheck.py)
    tinynet.set_seed(5)
    conv, bn = Conv2D(3, 3, dtype="float64"), image_batchnorm()
    x = random_x((3, 6, 7, 2))
    conv.build((None, 6, 7, 2))
    rng = np.random.default_rng(0)
    R = rng.normal(size=(3, 4, 5, 3))

    def loss():
        return float(np.sum(bn.forward(conv.forward(x, training=True), training=True) * R))

    loss()
    conv.backward(bn.backward(R.copy()))
    analytic = conv.grads["kernel"].copy()
    numeric = numerical_gradient(loss, conv.params["kernel"])
    assert relative_error(analytic, numeric) < GRADIENT_TOLERANCE


def test_spatial_batchnorm_has_one_gamma_beta_and_moving_pair_per_channel():
    layer = BatchNormalization()
    layer.build((None, 24, 24, 6))
    assert [w.shape for w in layer.get_weights()] == [(6,)] * 4
    assert layer.count_params() == 24 and layer.count_non_trainable_params() == 12


def test_layernorm_on_images_normalizes_each_pixel_over_its_channels_as_keras():
    # Keras's LayerNormalization(axis=-1): one mean and variance per (sample, pixel)
    x = random_x((2, 4, 5, 6), loc=1.0, scale=2.0)
    g = random_x(x.shape, seed=7)
    images = LayerNormalization(dtype="float64")
    rows = LayerNormalization(dtype="float64")
    y = images(x)
    y_rows = rows(x.reshape(-1, 6))
    np.testing.assert_allclose(y, y_rows.reshape(x.shape), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(images.backward(g), rows.backward(g.reshape(-1, 6)).reshape(
        x.shape), rtol=1e-10, atol=1e-12)
    assert [w.shape for w in images.get_weights()] == [(6,), (6,)]


def test_layernorm_on_images_gradients_match_finite_differences():
    layer = LayerNormalization(dtype="float64")
    layer.build((None, 3, 4, 5))
    rng = np.random.default_rng(4)
    layer.set_weights([rng.uniform(0.5, 2.0, 5), rng.normal(size=5)])
    assert_gradients_ok(check_layer(layer, random_x((2, 3, 4, 5), loc=1.0, scale=2.0)))


def test_dense_after_flatten_after_conv_trains_like_any_layer_stack():
    # the chain Conv2D -> AveragePooling2D -> Flatten -> Dense, gradient-checked end to end
    tinynet.set_seed(6)
    layers = [Conv2D(2, 3, dtype="float64"), AveragePooling2D(2, dtype="float64"),
              Flatten(dtype="float64"), Dense(3, dtype="float64")]
    x = random_x((2, 6, 6, 1))
    shape = (None, 6, 6, 1)
    for layer in layers:
        layer.build(shape)
        shape = layer.output_shape
    R = np.random.default_rng(1).normal(size=(2, 3))

    def loss():
        out = x
        for layer in layers:
            out = layer.forward(out, training=True)
        return float(np.sum(out * R))

    loss()
    grad = R.copy()
    for layer in reversed(layers):
        grad = layer.backward(grad)
    for layer in (layers[0], layers[3]):
        numeric = numerical_gradient(loss, layer.params["kernel"])
        assert relative_error(layer.grads["kernel"], numeric) < GRADIENT_TOLERANCE


def test_the_benchmark_floor_computes_what_tinynet_computes():
    # benchmarks/bench_conv.py times tinynet against a hand-written LeNet-BN: it must stay the
    # same math as the layers (its own guard: 3 steps, same losses and weights)
    spec = importlib.util.spec_from_file_location(
        "bench_conv", HERE.parent / "benchmarks" / "bench_conv.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    bench.check_same_math(steps=2)

