"""Conv2D: one small Dense layer applied at every position of an image (channels last).

Shapes: x (N, H, W, C_in), kernel (kh, kw, C_in, C_out) as in Keras, bias (C_out,),
y (N, H_out, W_out, C_out). With strides (sh, sw) and x_pad the padded input:

    z[n, i, j, o] = bias[o] + sum over a, b, c of x_pad[n, i*sh+a, j*sw+b, c] * kernel[a, b, c, o]
    y = activation(z)

The obvious code is seven nested loops (n, i, j, o outside; a, b, c inside the sum). Written
that way a LeNet step would take minutes, so the code does the same sum as ONE matrix product
("im2col"): every (kh, kw, C_in) window of x_pad becomes one row of a matrix,

    cols[(n, i, j), (a, b, c)] = x_pad[n, i*sh + a, j*sw + b, c]     (N*H_out*W_out, kh*kw*C_in)
    z = cols @ kernel.reshape(kh*kw*C_in, C_out) + bias               (N*H_out*W_out, C_out)

which is Dense's forward with one "sample" per output pixel. So backward is Dense's backward,
given g = dL/dz reshaped to (N*H_out*W_out, C_out):

    dkernel = cols.T @ g          reshaped to (kh, kw, C_in, C_out)
    dbias   = sum(g, axis=0)      (C_out,)
    dcols   = g @ kernel2d.T      (N*H_out*W_out, kh*kw*C_in): what each window's pixels receive

and, as the only new step, each input pixel adds up what it received from every window it was
part of (windows overlap when the stride is smaller than the kernel):

    dx_pad[n, i*sh + a, j*sw + b, :] += g[n, i, j, :] @ kernel[a, b].T    for every i, j, a, b
    dx = dx_pad without its padding border

The code computes dcols one kernel offset (a, b) at a time (the same numbers, arranged so that
each offset's block is contiguous) and adds each block back with one vectorized addition over
all samples and output pixels ("col2im"): kh*kw operations, none per pixel. A model's first
layer skips dx in training (no one needs the gradient of the images).

Padding, as Keras (and TensorFlow) compute it, per spatial axis of size H, window k, stride s:
    'valid'  no padding: H_out = floor((H - k) / s) + 1
    'same'   H_out = ceil(H / s); total = max((H_out - 1) * s + k - H, 0) zeros, of which
             total // 2 go on top and the rest at the bottom (the odd one at the bottom/right).
These window helpers are shared with the pooling layers (pooling.py).
"""

import warnings

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinynet import constraints, initializers, regularizers
from tinynet.layers.activation import (
    activation_attribute,
    check_activation_name,
)
from tinynet.layers.base import CHANNELS_LAST_HINT, Layer, check_input_shape, weight_attribute
from tinynet.validation import check_bool, check_int

# -- window arithmetic, shared with pooling.py ------------------------------------------------


def check_pair(value, where):
    """3 -> (3, 3); (3, 5) -> (3, 5): a window size or stride for (height, width)."""
    if isinstance(value, (tuple, list)):
        if len(value) != 2:
            raise ValueError(f"{where} must be an int or a tuple of 2 ints (height, width), "
                             f"got {value!r}")
        return tuple(check_int(v, where, minimum=1) for v in value)
    size = check_int(value, where, minimum=1)
    return (size, size)


def check_padding(padding, where):
    """'valid' or 'same' (any case, as Keras accepts)."""
    if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
        raise ValueError(f"{where} must be 'valid' or 'same', got {padding!r}")
    return padding.lower()


def padding_amounts(size, window, stride, padding):
    """For one spatial axis: (pad_before, pad_after, output_size). See the module docstring."""
    # TensorFlow's 'SAME' rule, which Keras 3 follows on every backend. Checked against Keras
    # 3.15.1's source (keras/src/backend/torch/nn.py, _compute_padding_length) and against
    # TensorFlow's own statement of it (tensorflow.org's tf.nn convolution guide, quoted in
    # stackoverflow.com/questions/53819528: "the bottom and right sides always get the one
    # additional padded pixel").
    if padding == "valid":
        return 0, 0, (size - window) // stride + 1
    out = -(-size // stride)  # ceil(size / stride)
    total = max((out - 1) * stride + window - size, 0)
    return total // 2, total - total // 2, out


def spatial_padding(input_shape, window, strides, padding, where):
    """((top, bottom), (left, right)) and (H_out, W_out) for inputs (N, H, W, C).
    Raises a ValueError naming the layer when the window does not fit."""
    if len(input_shape) != 4:
        hint = ("; for grayscale images add a channels axis of size 1: x[..., None]"
                if len(input_shape) == 3 else "")
        raise ValueError(f"{where} expects images of shape (batch, height, width, channels), "
                         f"got samples of shape {tuple(input_shape[1:])} "
                         f"({len(input_shape)} dimensions with the batch){hint}")
    top, bottom, out_h = padding_amounts(input_shape[1], window[0], strides[0], padding)
    left, right, out_w = padding_amounts(input_shape[2], window[1], strides[1], padding)
    if out_h < 1 or out_w < 1:
        advice = (CHANNELS_LAST_HINT if looks_channels_first(input_shape) else "; use a "
                  "smaller window, larger images or padding='same'")
        raise ValueError(f"{where}: a {window[0]}x{window[1]} window does not fit in "
                         f"{input_shape[1]}x{input_shape[2]} images with padding='valid'"
                         f"{advice}")
    return ((top, bottom), (left, right)), (out_h, out_w)


def looks_channels_first(input_shape):
    """Images (N, C, H, W), channels first as in PyTorch, given where tinynet expects
    (N, H, W, C): a "height" of 1 or 3 (grayscale, RGB) with large width and channels,
    e.g. MNIST as (N, 1, 28, 28)."""
    _, height, width, channels = input_shape
    return height in (1, 3) and width >= 8 and channels >= 8


def warn_if_channels_first(input_shape, window, where):
    """Channels-first images whose height (1 or 3, really the channels) a window fits in
    (padding='same', or a 3x3 window on (N, 3, 32, 32)) give a layer that runs and computes
    the wrong thing: MNIST as (N, 1, 28, 28) makes Conv2D(8, 3, padding='same') output
    (N, 1, 28, 8). Warn at build when the window covers the whole height (a window of height
    1, as in a 1-D convolution written as Conv2D, is left alone)."""
    if len(input_shape) == 4 and 1 < window[0] >= input_shape[1] and \
            looks_channels_first(input_shape):
        warnings.warn(f"{where} is built for images of shape {tuple(input_shape[1:])} (height "
                      f"{input_shape[1]}, width {input_shape[2]}, {input_shape[3]} channels), "
                      f"no higher than its {window[0]}x{window[1]} window{CHANNELS_LAST_HINT}",
                      UserWarning, stacklevel=3)


def pad_images(x, pads, value=0.0):
    """x (N, H, W, C) -> (N, H + top + bottom, W + left + right, C); no copy without padding."""
    if pads == ((0, 0), (0, 0)):
        return x
    return np.pad(x, ((0, 0), *pads, (0, 0)), constant_values=value)


def crop_images(x_pad, pads):
    """The inverse of pad_images: cut the border off again."""
    (top, bottom), (left, right) = pads
    return x_pad[:, top:x_pad.shape[1] - bottom, left:x_pad.shape[2] - right, :]


def image_windows(x_pad, window, strides):
    """A view (no copy) of every window of x_pad, shape (N, H_out, W_out, kh, kw, C):

        windows[n, i, j, a, b, c] = x_pad[n, i*sh + a, j*sw + b, c]
    """
    views = sliding_window_view(x_pad, window, axis=(1, 2))  # (N, H', W', C, kh, kw), stride 1
    views = views[:, ::strides[0], ::strides[1]]
    return views.transpose(0, 1, 2, 4, 5, 3)


def offset_view(x_pad, a, b, strides, out_hw):
    """The pixel at offset (a, b) of every window, a view (N, H_out, W_out, C):

        view[n, i, j, c] = x_pad[n, i*sh + a, j*sw + b, c] = windows[n, i, j, a, b, c]

    Looping over the kh*kw offsets and doing one vectorized operation per offset touches
    every window at once; it is how pooling sums windows and how gradients go back."""
    (sh, sw), (out_h, out_w) = strides, out_hw
    return x_pad[:, a:a + sh * out_h:sh, b:b + sw * out_w:sw]


def add_windows_back(grad_per_offset, padded_shape, strides):
    """The adjoint of image_windows: every pixel sums the gradients of the windows it was in.

    Inputs:  grad_per_offset (kh, kw, N, H_out, W_out, C): what the pixel at offset (a, b)
             of window (n, i, j) receives; padded_shape (N, H_pad, W_pad, C)
    Returns: grad_x_pad (N, H_pad, W_pad, C)

    Obvious form: for every n, i, j, a, b: grad_x_pad[n, i*sh + a, j*sw + b] +=
    grad_per_offset[a, b, n, i, j]. Here one vectorized addition per offset (a, b) does all
    n, i, j at once.
    """
    kh, kw, _, out_h, out_w, _ = grad_per_offset.shape
    grad_x_pad = np.zeros(padded_shape, dtype=grad_per_offset.dtype)
    for a in range(kh):
        for b in range(kw):
            offset_view(grad_x_pad, a, b, strides, (out_h, out_w))[...] += grad_per_offset[a, b]
    return grad_x_pad


# -- the layer --------------------------------------------------------------------------------


# Keras's defaults below were checked against keras.io/api/layers/convolution_layers/
# convolution2d (Keras 3.15.1's source, keras/src/layers/convolutional/conv2d.py) and
# tensorflow.org/api_docs/python/tf/keras/layers/Conv2D.
class Conv2D(Layer):
    """Conv2D(filters, kernel_size, strides=(1, 1), padding='valid', data_format=None,
    dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
    kernel_initializer='glorot_uniform', bias_initializer='zeros', kernel_regularizer=None,
    bias_regularizer=None), plus name, dtype, trainable, input_shape: Keras 3's arguments in
    Keras's order. data_format, dilation_rate and groups are there only at the values tinynet
    has (channels last, no dilation, one group); any other value is a TypeError that says so.

    Shapes: x (N, H, W, C_in) -> y (N, H_out, W_out, filters). Weights, in get_weights()
    order (Keras's layout): kernel (kh, kw, C_in, filters), bias (filters,), also readable as
    layer.kernel and layer.bias (bias is None with use_bias=False, as in Keras).
    """

    weight_order = ("kernel", "bias")
    keras_only_arguments = (*Layer.keras_only_arguments, "data_format", "dilation_rate",
                            "groups", "lora_rank", "lora_alpha")
    kernel = weight_attribute("kernel")
    bias = weight_attribute("bias")
    activation = activation_attribute()  # the function; may be set to None or 'relu'

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        # the Keras arguments tinynet has only at their defaults: Layer checks them
        super().__init__(data_format=data_format, dilation_rate=dilation_rate, groups=groups,
                         activity_regularizer=activity_regularizer, **kwargs)
        self.filters = check_int(filters, "Conv2D(filters=...)", minimum=1)
        self.kernel_size = check_pair(kernel_size, "Conv2D(kernel_size=...)")
        self.strides = check_pair(strides, "Conv2D(strides=...)")
        self.padding = check_padding(padding, "Conv2D(padding=...)")
        self.use_bias = check_bool(use_bias, "Conv2D(use_bias=...)")
        self.activation = check_activation_name(activation, "Conv2D")  # see activation_attribute
        self.kernel_initializer = initializers.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = initializers.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = regularizers.get(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = regularizers.get(bias_regularizer, "bias_regularizer")
        self.kernel_constraint = constraints.get(kernel_constraint, "kernel_constraint")
        self.bias_constraint = constraints.get(bias_constraint, "bias_constraint")
        self.pads = None
        self.cols = None
        self.padded_shape = None

    def build(self, input_shape):
        input_shape = check_input_shape(self, input_shape)
        self.pads, _ = spatial_padding(input_shape, self.kernel_size, self.strides,
                                       self.padding, self.where)
        warn_if_channels_first(input_shape, self.kernel_size, self.where)
        shape = (*self.kernel_size, input_shape[-1], self.filters)
        self.params["kernel"] = self.new_weight("kernel", shape)
        self.attach_rules("kernel")
        if self.use_bias:
            self.params["bias"] = self.new_weight("bias", (self.filters,))
            self.attach_rules("bias")
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        _, (out_h, out_w) = spatial_padding(input_shape, self.kernel_size, self.strides,
                                            self.padding, self.where)
        return (input_shape[0], out_h, out_w, self.filters)

    def forward(self, x, training=False):
        """Inputs: x (N, H, W, C_in). Returns: y (N, H_out, W_out, filters)."""
        self.check_input(x)
        kernel = self.params["kernel"]
        x_pad = pad_images(x, self.pads)
        self.padded_shape = x_pad.shape
        windows = image_windows(x_pad, self.kernel_size, self.strides)
        # the copy that makes one matrix product possible: (N*H_out*W_out, kh*kw*C_in)
        self.cols = windows.reshape(-1, kernel.shape[0] * kernel.shape[1] * kernel.shape[2])
        z = self.cols @ kernel.reshape(-1, self.filters)
        if self.use_bias:
            z += self.params["bias"]
        return self.activation_layer.forward(z.reshape(*windows.shape[:3], self.filters))

    def forget_forward(self):
        """Drop what backward differentiates (a new activation was set since forward)."""
        self.cols = None

    def backward(self, grad_output):
        """Inputs: grad_output = dL/dy (N, H_out, W_out, filters). Returns: dL/dx (N, H, W,
        C_in); sets grads['kernel'] (kh, kw, C_in, filters) and grads['bias'] (filters,)."""
        self.check_grad_output(grad_output, self.cols)
        grad_z = self.activation_layer.backward(grad_output)
        g = grad_z.reshape(-1, self.filters)                      # (N*H_out*W_out, filters)
        kernel = self.params["kernel"]
        self.grads["kernel"] = (self.cols.T @ g).reshape(kernel.shape)
        if self.use_bias:
            self.grads["bias"] = g.sum(axis=0)
        self.add_regularization_gradients()
        if not self.needs_input_grad:   # a model's first layer: nobody uses dL/d(images)
            return None
        # the pixel at offset (a, b) of a window met kernel[a, b] (C_in, filters), so it gets
        # g @ kernel[a, b].T; one product per offset: (kh*kw, N*H_out*W_out, C_in)
        kh, kw, c_in, _ = kernel.shape
        per_offset = np.matmul(g, kernel.reshape(kh * kw, c_in, self.filters).transpose(0, 2, 1))
        grad_x_pad = add_windows_back(per_offset.reshape(kh, kw, *grad_z.shape[:3], c_in),
                                      self.padded_shape, self.strides)
        return crop_images(grad_x_pad, self.pads)
