"""Pooling: shrink an image by summarizing each window of every channel with one number.

Shapes: x (N, H, W, C) -> y (N, H_out, W_out, C), channels untouched. With the windows of the
(padded) input, windows[n, i, j, a, b, c] = x_pad[n, i*sh + a, j*sw + b, c] (see conv2d.py, which
also holds the padding arithmetic):

    MaxPooling2D      y[n, i, j, c] = max over a, b of windows[n, i, j, a, b, c]
    AveragePooling2D  y[n, i, j, c] = sum over a, b of windows[n, i, j, a, b, c] / count[i, j]

The code loops over the ph*pw offsets (a, b) of a window, never over pixels: the pixels at
offset (a, b) of all windows form one strided view of x_pad (conv2d.offset_view), and one
vectorized operation per offset handles them all.

Backward, with g = dL/dy:
    max      the whole gradient goes to the pixel that was the maximum (the first one, in
             row-major order, if several tie, as in PyTorch and in Keras 3.15 on its torch
             backend: a 2x2 window of [[1, 1], [0, 1]] sends g to its top-left pixel only);
             the others get 0
    average  every pixel of a window gets g / count[i, j]
and, when windows overlap, a pixel adds up what it got from each window it was in.

padding='same' follows Keras (TensorFlow): the padded pixels never count. For max pooling the
border is -inf, which never wins; for average pooling count[i, j] is the number of REAL pixels
in window (i, j), so a corner window of 'same' pooling averages only the pixels it covers.
(Keras's PyTorch backend differs for average pooling when the padding is uneven: see
AveragePooling2D.)

GlobalAveragePooling2D averages each channel over the whole image, GlobalMaxPooling2D takes
its largest value: (N, H, W, C) -> (N, C). GlobalMaxPooling2D shares g evenly among tied
maxima, unlike MaxPooling2D: Keras computes it as a max over axes (keras.ops.max), whose
gradient does that (torch.amax's).
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinynet.layers.base import Layer, check_input_shape
from tinynet.layers.conv2d import (
    add_windows_back,
    check_padding,
    check_pair,
    crop_images,
    offset_view,
    pad_images,
    spatial_padding,
    warn_if_channels_first,
)
from tinynet.validation import check_bool


# Keras 3's defaults were checked against keras.io/api/layers/pooling_layers/ (max_pooling2d,
# average_pooling2d; and Keras 3.15.1's source, keras/src/layers/pooling/) and against
# tensorflow.org/api_docs/python/tf/keras/layers/ (MaxPool2D, AveragePooling2D):
# MaxPooling2D(pool_size=(2, 2), strides=None, padding='valid'); AveragePooling2D has no
# default pool_size in Keras 3 (Keras 2's was (2, 2)); strides=None means pool_size.
# That padding never counts comes from Keras 3.15.1's JAX backend (average_pool divides by
# the window counts) and from tensorflow.org's tf.nn.pool ("The reduction never includes
# out-of-bounds positions"); the Keras 2 page keras.io/2.18/api/layers/pooling_layers/
# average_pooling2d shows it on a 3x3 example, which tests/test_conv.py replays.
class Pooling2D(Layer):
    """What max and average pooling share: pool_size, strides (default: pool_size), padding."""

    weightless = True  # its build checks shapes only

    keras_only_arguments = (*Layer.keras_only_arguments, "data_format")

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(data_format=data_format, **kwargs)  # Layer checks it: channels last
        where = type(self).__name__
        self.pool_size = check_pair(pool_size, f"{where}(pool_size=...)")
        self.strides = (self.pool_size if strides is None
                        else check_pair(strides, f"{where}(strides=...)"))
        self.padding = check_padding(padding, f"{where}(padding=...)")
        self.pads = None
        self.padded_shape = None

    def build(self, input_shape):
        input_shape = check_input_shape(self, input_shape)
        self.pads, _ = spatial_padding(input_shape, self.pool_size, self.strides, self.padding,
                                       self.where)
        warn_if_channels_first(input_shape, self.pool_size, self.where)
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        _, (out_h, out_w) = spatial_padding(input_shape, self.pool_size, self.strides,
                                            self.padding, self.where)
        return (input_shape[0], out_h, out_w, input_shape[-1])

    def offset_views(self, x_pad):
        """The ph*pw views (N, H_out, W_out, C) of x_pad, one per offset (a, b) of a window, in
        row-major order: views[a * pw + b][n, i, j, c] = windows[n, i, j, a, b, c]."""
        out_hw = self.output_shape[1:3]
        return [offset_view(x_pad, a, b, self.strides, out_hw)
                for a in range(self.pool_size[0]) for b in range(self.pool_size[1])]


class MaxPooling2D(Pooling2D):
    """MaxPooling2D(pool_size=(2, 2), strides=None, padding='valid', data_format=None): the
    largest value of each window (data_format: None or 'channels_last', the only layout
    tinynet has). Shapes: x (N, H, W, C) -> y (N, H_out, W_out, C)."""

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)
        self.argmax = None

    def forward(self, x, training=False):
        """Inputs: x (N, H, W, C). Returns: y (N, H_out, W_out, C)."""
        self.check_input(x)
        x_pad = pad_images(x, self.pads, value=-np.inf)  # padding never wins the max
        self.padded_shape = x_pad.shape
        stacked = np.stack(self.offset_views(x_pad))  # the windows' pixels: (ph*pw, N, ...)
        self.argmax = stacked.argmax(axis=0)[None]   # the FIRST maximum: (1, N, H_out, W_out, C)
        return np.take_along_axis(stacked, self.argmax, axis=0)[0]

    def backward(self, grad_output):
        """Inputs: grad_output = dL/dy (N, H_out, W_out, C). Returns: dL/dx (N, H, W, C)."""
        self.check_grad_output(grad_output, self.argmax)
        ph, pw = self.pool_size
        per_offset = np.zeros((ph * pw, *grad_output.shape), dtype=grad_output.dtype)
        np.put_along_axis(per_offset, self.argmax, grad_output[None], axis=0)
        grad_x_pad = add_windows_back(per_offset.reshape(ph, pw, *grad_output.shape),
                                      self.padded_shape, self.strides)
        return crop_images(grad_x_pad, self.pads)


class AveragePooling2D(Pooling2D):
    """AveragePooling2D(pool_size, strides=None, padding='valid', data_format=None): the mean
    of each window's real pixels (data_format: None or 'channels_last').
    Shapes: x (N, H, W, C) -> y (N, H_out, W_out, C).

    With padding='same', a window that reaches over the border averages the real pixels it
    covers, as Keras 3.15 does on its TensorFlow backend (tf.nn.avg_pool) and its JAX backend
    (it divides each window's sum by its count of real pixels). Keras 3.15 on its PyTorch
    backend agrees when the padding is the same on both sides of both axes; when it is not
    (the odd pixel of padding goes at the bottom or right), it pads every side by repeating
    the edge pixels and averages those copies too (keras/src/backend/torch/nn.py,
    average_pool and _apply_same_padding). On the 3x4 image [[1, 2, 3, 4], [5, 6, 7, 8],
    [9, 10, 11, 12]], AveragePooling2D(pool_size=3, strides=2, padding='same') gives
    [[4, 5.5], [8, 9.5]] here and on TensorFlow and JAX, [[3.33, 5], [8.67, 10.33]] on
    PyTorch. (Max pooling is the same on every backend: a copy of an edge pixel never beats
    the pixel itself, which is in the same window.)
    """

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)
        self.count = None

    def build(self, input_shape):
        super().build(input_shape)
        # the counts depend only on the image size: computed once
        self.count = self.window_counts(input_shape[1], input_shape[2]).astype(self.dtype)

    def window_counts(self, height, width):
        """count[i, j], the number of real (not padding) pixels in window (i, j): (H_out, W_out,
        1). It is a product of one count per axis, each found by pooling a row of ones."""
        counts = []
        for size, pads, window, stride in zip((height, width), self.pads, self.pool_size,
                                              self.strides, strict=True):
            ones = np.pad(np.ones(size), pads)
            counts.append(sliding_window_view(ones, window)[::stride].sum(axis=1))
        return np.multiply.outer(*counts)[:, :, None]

    def forward(self, x, training=False):
        """Inputs: x (N, H, W, C). Returns: y (N, H_out, W_out, C)."""
        self.check_input(x)
        x_pad = pad_images(x, self.pads)
        self.padded_shape = x_pad.shape
        return sum(self.offset_views(x_pad)) / self.count

    def backward(self, grad_output):
        """Inputs: grad_output = dL/dy (N, H_out, W_out, C). Returns: dL/dx (N, H, W, C)."""
        self.check_grad_output(grad_output, self.padded_shape)
        share = grad_output / self.count                       # what each pixel of a window gets
        # the same share at every offset (a, b) of a window: a broadcast view, nothing copied
        per_offset = np.broadcast_to(share, (*self.pool_size, *share.shape))
        grad_x_pad = add_windows_back(per_offset, self.padded_shape, self.strides)
        return crop_images(grad_x_pad, self.pads)


class GlobalPooling2D(Layer):
    """What global average and max pooling share: images (N, H, W, C) in, one number per
    channel out, (N, C), or (N, 1, 1, C) with keepdims=True."""

    weightless = True  # its build checks shapes only

    keras_only_arguments = (*Layer.keras_only_arguments, "data_format")

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        # data_format comes first, as in Keras 3 (GlobalAveragePooling2D('channels_last')):
        # tinynet's images are channels last, so only that value (or None) is taken
        if data_format is not None:
            kwargs["data_format"] = data_format  # Layer refuses any other value, and says why
        super().__init__(**kwargs)
        self.keepdims = check_bool(keepdims, f"{type(self).__name__}(keepdims=...)")

    def build(self, input_shape):
        input_shape = check_input_shape(self, input_shape)
        if len(input_shape) != 4:
            raise ValueError(f"{self.where} expects images of shape (batch, height, width, "
                             f"channels), got samples of shape {tuple(input_shape[1:])} "
                             f"({len(input_shape)} dimensions with the batch)")
        super().build(input_shape)

    def compute_output_shape(self, input_shape):
        if self.keepdims:
            return (input_shape[0], 1, 1, input_shape[-1])
        return (input_shape[0], input_shape[-1])


class GlobalAveragePooling2D(GlobalPooling2D):
    """GlobalAveragePooling2D(data_format=None, keepdims=False): each channel's mean over the
    whole image (data_format: None or 'channels_last', the only layout tinynet has).

    Forward:  y[n, c] = mean over i, j of x[n, i, j, c]     x (N, H, W, C) -> y (N, C)
              (keepdims=True keeps y as (N, 1, 1, C))
    Backward: dx[n, i, j, c] = g[n, c] / (H * W)            every pixel had the same weight
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)
        self.x_shape = None

    def forward(self, x, training=False):
        """Inputs: x (N, H, W, C). Returns: y (N, C), or (N, 1, 1, C) with keepdims."""
        self.check_input(x)
        self.x_shape = x.shape
        return x.mean(axis=(1, 2), keepdims=self.keepdims)

    def backward(self, grad_output):
        """Inputs: grad_output (N, C) or (N, 1, 1, C). Returns: dL/dx (N, H, W, C)."""
        self.check_grad_output(grad_output, self.x_shape)
        n, height, width, channels = self.x_shape
        share = grad_output.reshape(n, 1, 1, channels) / (height * width)
        return np.broadcast_to(share, self.x_shape).copy()  # a real array the caller may edit


# Keras 3's GlobalMaxPooling2D(data_format=None, keepdims=False): keras.io/api/layers/
# pooling_layers/global_max_pooling2d; Keras 3.15.1 computes it as ops.max(x, axis=(1, 2)).
class GlobalMaxPooling2D(GlobalPooling2D):
    """GlobalMaxPooling2D(data_format=None, keepdims=False): each channel's largest value over
    the whole image (data_format: None or 'channels_last').

    Forward:  y[n, c] = max over i, j of x[n, i, j, c]      x (N, H, W, C) -> y (N, C)
              (keepdims=True keeps y as (N, 1, 1, C))
    Backward: g[n, c] is shared evenly by the pixels that equal the maximum of channel c,
              dx[n, i, j, c] = g[n, c] * m[n, i, j, c] / sum_ij m[n, i, j, c],
              m = 1 where x[n, i, j, c] = y[n, c], else 0
              (one maximum gets all of g; for x = [[1, 1], [0, 1]] each 1 gets g / 3, as in
              Keras 3.15 on its torch backend; MaxPooling2D gives a tie to its first pixel)
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(data_format, keepdims, **kwargs)
        self.share = None

    def forward(self, x, training=False):
        """Inputs: x (N, H, W, C). Returns: y (N, C), or (N, 1, 1, C) with keepdims."""
        self.check_input(x)
        y = x.max(axis=(1, 2), keepdims=True)                  # (N, 1, 1, C)
        is_max = x == y                                        # m: (N, H, W, C)
        ties = is_max.sum(axis=(1, 2), keepdims=True)          # sum_ij m: (N, 1, 1, C)
        # m / sum_ij m, in x's dtype (a channel holding NaN has no m = 1: it gets 0, not 0/0)
        self.share = is_max / np.maximum(ties, 1).astype(x.dtype)
        return y.reshape(len(x), *self.output_shape[1:])

    def backward(self, grad_output):
        """Inputs: grad_output (N, C) or (N, 1, 1, C). Returns: dL/dx (N, H, W, C)."""
        self.check_grad_output(grad_output, self.share)
        n, channels = len(grad_output), grad_output.shape[-1]
        return self.share * grad_output.reshape(n, 1, 1, channels)


# Keras's short names for the same layers
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
