"""Normalization: standardize the inputs with a mean and variance measured once, before
training (the z-score of statistics, (x - mean) / std, one per feature).

adapt(data) measures them on the training data, for each position along `axis` (each feature
for the default axis=-1), over every other axis (the samples):

    mean = sum(x) / M                       M: the number of values averaged per feature
    var  = sum((x - mean)^2) / M            biased, divided by M, as np.var divides

and from then on the layer computes, in training and inference alike,

    y = (x - mean) / max(sqrt(var), eps)              eps = 1e-7 (tinynet.config.epsilon())
    invert=True:  y = mean + x * max(sqrt(var), eps)  (turns standardized values back)

It is BatchNormalization's inference mode with gamma = 1 and beta = 0, but the statistics are
fixed by adapt (or given: Normalization(mean=..., variance=...)) instead of learned from the
batches; training never changes them. eps guards the standard deviation, not the variance
(as Keras does it): a feature that never varied (var = 0) is divided by 1e-7, so its
training values, all equal to the mean, come out 0.

Backward: mean and var are constants, so y is an affine function of x, value by value:

    dx = g / max(sqrt(var), eps)          invert=True:  dx = g * max(sqrt(var), eps)

The layer has no trainable weights. Its non-trainable weights, in get_weights() order: mean
and variance (shape: the sizes of the axes in `axis`, e.g. (D,); () for axis=None) and count,
an int32 scalar Keras keeps for files of older versions and leaves at 0. With mean and
variance given in the constructor it has no weights at all (they are in its config).

Everything here (arguments and defaults, what adapt computes, eps, the weights and what a
.keras file holds) follows Keras 3.15.1's keras.layers.Normalization
(keras/src/layers/preprocessing/normalization.py), checked by running it:
tests/data/make_keras_preprocessing_reference.py. Where Keras's behaviour would mislead a
student, tinynet says so instead (see adapt and forward).
"""

import numbers

import numpy as np

from tinynet.config import epsilon
from tinynet.layers.base import Layer, check_input_shape
from tinynet.validation import check_bool, to_float_array, warn_user
from tinynet.variables import Variable


class Normalization(Layer):
    """Normalization(axis=-1, mean=None, variance=None, invert=False): Keras 3's arguments,
    in Keras's order.

    axis: the axis (an int), or axes (a tuple), that keep a mean and variance of their own
        for each position: -1, one per feature of inputs (N, D) (or per channel of images
        (N, H, W, C)); (1, 2, 3) one per pixel and channel of images; None, one mean and one
        variance for all values. Never the batch axis 0.
    mean, variance: give both (numbers or arrays) instead of calling adapt; an array lines
        up with the axes in `axis` from the right, e.g. shape (D,) for axis=-1.
    invert: True computes the inverse, mean + x * std (de-standardizes).
    plus name, dtype, input_shape (see Layer).

    Use: layer.adapt(train_features) once, then put the layer first in the model. Calling
    adapt again measures the new data and replaces the statistics.
    layer.mean and layer.variance are the statistics in use, shaped to broadcast against the
    inputs, e.g. (1, D), as Keras's are (None before the layer is built); layer.input_mean
    and layer.input_variance are the constructor's arguments.
    """

    weight_order = ("mean", "variance", "count")

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        self.axis = check_axis(axis)
        self.invert = check_bool(invert, "Normalization(invert=...)")
        self.input_mean, self.input_variance = check_given_statistics(mean, variance, self.axis)
        self.keep_axes = self.reduce_axes = self.broadcast_shape = None  # set by build
        self.given = None  # (mean, variance) broadcast to the inputs, when given
        self.std = None  # forward's max(sqrt(var), eps): what backward divides by
        self.checked_statistics = False  # whether forward looked for a missing adapt

    @property
    def mean(self):
        """The mean subtracted, shaped to broadcast against the inputs ((1, D) for inputs
        (N, D)); a copy, with Keras's .numpy(). None before the layer is built."""
        return None if not self.built else np.array(self.statistics()[0]).view(Variable)

    @property
    def variance(self):
        """The variance used, shaped like layer.mean; None before the layer is built."""
        return None if not self.built else np.array(self.statistics()[1]).view(Variable)

    def build(self, input_shape):
        input_shape = check_input_shape(self, input_shape)
        self.keep_axes = kept_axes(self, len(input_shape))
        self.reduce_axes = tuple(d for d in range(len(input_shape)) if d not in self.keep_axes)
        # the statistics' shape with a 1 for every reduced axis, so that they broadcast
        self.broadcast_shape = tuple(input_shape[d] if d in self.keep_axes else 1
                                     for d in range(len(input_shape)))
        shape = tuple(input_shape[d] for d in self.keep_axes)
        if self.input_mean is None:  # adapt fills them; until then the layer changes nothing
            self.state["mean"] = np.zeros(shape, self.dtype)
            self.state["variance"] = np.ones(shape, self.dtype)
            self.state["count"] = np.zeros((), np.int32)
        else:
            self.given = (broadcast_given(self, self.input_mean, "mean", input_shape),
                          broadcast_given(self, self.input_variance, "variance", input_shape))
        self.checked_statistics = False
        super().build(input_shape)

    def statistics(self):
        """(mean, variance), each of broadcast_shape: the given ones, or adapt's."""
        if self.given is not None:
            return self.given
        return (self.state["mean"].reshape(self.broadcast_shape),
                self.state["variance"].reshape(self.broadcast_shape))

    def adapt(self, data):
        """Measure the mean and the (biased) variance of `data` for each position along
        `axis`, over all other axes, and keep them (replacing what an earlier adapt measured).
        An unbuilt layer is built for data's samples (or for its input_shape=...).

        data: an array (N, ...) of the samples (a pandas DataFrame works too); for axis=None
        also (N,). Or a list (or generator) of such batches, or of (x, y) batches, measured
        together. Computed in float64, stored in the layer's float type.
        """
        check_adaptable(self)
        data = adapt_data(data, f"{self.where}.adapt: data")
        if data.ndim == 1:
            data = one_column(self, data)
        if self.input_shape is not None:
            check_adapt_shape(self, data.shape)
        if not self.built:
            self.build(self.input_shape or (None, *data.shape[1:]))
        # axis=None reduces every axis of data, whatever its shape
        axes = self.reduce_axes if self.keep_axes else None
        self.state["mean"][...] = data.mean(axis=axes)
        self.state["variance"][...] = data.var(axis=axes)  # biased: divided by M
        self.checked_statistics = True

    def forward(self, x, training=False):
        """Inputs: x (N, ...), the shape the layer was built for. Returns: y = (x - mean) /
        max(sqrt(var), eps) (invert: mean + x * max(sqrt(var), eps)), the same shape.
        `training` changes nothing."""
        self.check_input(x)
        if not self.checked_statistics:
            warn_if_not_adapted(self)
        mean, variance = self.statistics()
        # Keras's guard: a feature that never varied (var = 0) is divided by eps, not by 0
        self.std = np.maximum(np.sqrt(variance), x.dtype.type(epsilon()))
        if self.invert:
            return mean + x * self.std
        return (x - mean) / self.std

    def backward(self, grad_output):
        """Inputs: grad_output = dL/dy, the shape of x. Returns: dL/dx = grad_output / std
        (invert: grad_output * std), the same shape. No weights, so no grads."""
        self.check_grad_output(grad_output, self.std)
        if self.invert:
            return grad_output * self.std
        return grad_output / self.std


# -- the arguments ----------------------------------------------------------------------------

def check_axis(axis):
    """Keras's axis as a tuple of ints: -1 -> (-1,), None -> () (no axis keeps statistics of
    its own), (1, 2) -> (1, 2). The batch axis 0 and repeated axes are refused here; an axis
    beyond the inputs' is refused when the layer is built."""
    given = axis
    if axis is None:
        axis = ()
    elif isinstance(axis, (numbers.Integral, np.integer)):
        axis = (axis,)
    if not isinstance(axis, (tuple, list)) or \
            any(isinstance(a, bool) or not isinstance(a, numbers.Integral) for a in axis):
        raise TypeError(f"Normalization(axis={given!r}): axis must be an int, a tuple of ints "
                        f"or None (one mean and variance for everything)")
    axis = tuple(int(a) for a in axis)
    if 0 in axis:
        raise ValueError(f"Normalization(axis={given!r}): axis 0 is the batch axis, whose "
                         f"size changes from batch to batch; axis=-1 keeps a mean and variance "
                         f"per feature (the last axis)")
    if len(set(axis)) != len(axis):
        raise ValueError(f"Normalization(axis={given!r}): an axis is repeated")
    return axis


def check_given_statistics(mean, variance, axis):
    """mean= and variance= of the constructor: both or neither, numbers or arrays of the same
    shape, with no more dimensions than `axis` has axes, variance >= 0. Returned as Keras
    keeps them for its config: np.array(value).tolist() (a float, or nested lists)."""
    if (mean is None) != (variance is None):
        raise ValueError(f"Normalization: give mean and variance together (or neither, and "
                         f"call adapt), got mean={mean!r} and variance={variance!r}")
    if mean is None:
        return None, None
    mean_array = to_float_array(mean, "Normalization(mean=...)", dtype="float64",
                                min_ndim=0)
    variance_array = to_float_array(variance, "Normalization(variance=...)",
                                    dtype="float64", min_ndim=0)
    if mean_array.shape != variance_array.shape:
        raise ValueError(f"Normalization: mean and variance must have the same shape, got "
                         f"{mean_array.shape} and {variance_array.shape}")
    if mean_array.ndim > len(axis):
        raise ValueError(f"Normalization: mean of shape {mean_array.shape} has more dimensions "
                         f"than axis={axis} has axes ({len(axis)}); give one value per "
                         f"position along the axes, e.g. shape (D,) for axis=-1")
    if (variance_array < 0).any():
        raise ValueError("Normalization(variance=...) must be >= 0 (a variance is a mean of "
                         "squares); to give standard deviations, square them")
    return np.array(mean).tolist(), np.array(variance).tolist()


def kept_axes(layer, ndim):
    """The axes in layer.axis as positive indices, sorted, for inputs of ndim dimensions."""
    if any(not -ndim <= a < ndim for a in layer.axis):
        raise ValueError(f"{layer.where}: axis={layer.axis} is out of range for inputs with "
                         f"{ndim} dimensions (batch axis included): each axis must be in "
                         f"[-{ndim}, {ndim - 1}]")
    keep = tuple(sorted(a % ndim for a in layer.axis))
    if 0 in keep:
        raise ValueError(f"{layer.where}: axis={layer.axis} includes the batch axis of inputs "
                         f"with {ndim} dimensions; use axis=-1 (per feature)")
    return keep


def broadcast_given(layer, value, name, input_shape):
    """A given mean or variance, in the layer's float type and of broadcast_shape: its axes
    line up with the kept axes from the right, as in Keras (a number fills everything)."""
    value = np.asarray(value, dtype=layer.dtype)
    expanded = [1] * len(layer.broadcast_shape)
    for i in range(1, value.ndim + 1):
        expanded[layer.keep_axes[-i]] = value.shape[-i]
    try:
        return np.broadcast_to(value.reshape(expanded), layer.broadcast_shape).copy()
    except ValueError:
        raise ValueError(f"{layer.where}: {name} of shape {value.shape} does not fit inputs "
                         f"of shape {input_shape} with axis={layer.axis}: it needs one value "
                         f"per position, shape "
                         f"{tuple(input_shape[d] for d in layer.keep_axes)}") from None


# -- adapt --------------------------------------------------------------------------------------

def check_adaptable(layer):
    """adapt on a layer given mean= and variance= is refused: they are its config (Keras
    fails there with an AttributeError)."""
    if layer.input_mean is not None:
        raise ValueError(f"{layer.where}.adapt: the layer was given mean and variance in its "
                         f"constructor, so it has nothing to measure; to measure data, make "
                         f"it without them: Normalization(axis={layer.axis})")


def adapt_data(data, name):
    """adapt's data as one float64 array: an array-like (NumPy, pandas), or a list, tuple or
    generator of batches (arrays, or (x, y) tuples), joined along the samples."""
    if hasattr(data, "__array__") or hasattr(data, "shape"):
        return to_float_array(data, name, dtype="float64")
    if isinstance(data, (str, bytes, dict)) or not hasattr(data, "__iter__"):
        raise TypeError(f"{name} must be a NumPy array of samples (or a list of batches), "
                        f"got {type(data).__name__}")
    batches = [batch[0] if isinstance(batch, tuple) else batch for batch in data]
    if not batches or not all(hasattr(batch, "shape") for batch in batches):
        raise TypeError(f"{name}: a list is read as a list of batches (arrays), as Keras reads "
                        f"it; for a list of numbers or rows pass np.array(data)")
    arrays = [to_float_array(batch, name, dtype="float64") for batch in batches]
    if len({array.shape[1:] for array in arrays}) > 1:
        raise ValueError(f"{name}: the batches have samples of different shapes, "
                         f"{sorted({array.shape[1:] for array in arrays})}")
    return np.concatenate(arrays)


def one_column(layer, data):
    """1-D data (N,): for axis=None, N values of one feature, (N, 1). For other axes it is
    refused: Keras would keep a mean for each of the N positions, which fits no model."""
    if layer.axis:
        raise ValueError(f"{layer.where}.adapt: data of shape {data.shape} has no feature "
                         f"axis, so axis={layer.axis} would give each of the {len(data)} "
                         f"samples a mean of its own (what Keras does). For one feature pass "
                         f"data.reshape(-1, 1), or make the layer with axis=None (one mean "
                         f"and variance for all values)")
    return data.reshape(-1, 1)


def check_adapt_shape(layer, shape):
    """adapt's data must fit the layer's inputs (declared or built) along the kept axes;
    with axis=None any shape fits (one mean for all values)."""
    expected = layer.input_shape
    if not layer.axis:
        return
    keep = kept_axes(layer, len(expected))
    if len(shape) != len(expected) or any(shape[d] != expected[d] for d in keep):
        raise ValueError(f"{layer.where}.adapt: data has shape {shape}, but the layer takes "
                         f"inputs of shape {expected} (axis={layer.axis} keeps the sizes "
                         f"{tuple(expected[d] for d in keep)}); adapt it on data with the "
                         f"columns the model gets")


def warn_if_not_adapted(layer):
    """Warn, at the first forward, about a layer whose mean is still 0 and variance 1: never
    adapted, it passes x through unchanged (Keras does so without a word)."""
    layer.checked_statistics = True
    if layer.given is None and not layer.state["mean"].any() and \
            (layer.state["variance"] == 1).all():
        warn_user(f"{layer.where} has not been adapted: its mean is 0 and its variance 1, so "
                  f"it passes its inputs through unchanged. Call layer.adapt(train_features) "
                  f"before fit or predict (or give Normalization(mean=..., variance=...))")
