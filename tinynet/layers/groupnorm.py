"""Group normalization (Wu & He, 2018): each sample normalized within groups of channels.

BatchNormalization takes a channel's statistics over the batch, so they get noisy when the
batch is small. Group normalization never looks at other samples: it splits the C channels
into G groups of C/G neighbouring channels, and normalizes each sample's group over its pixels
AND the group's channels. For x of shape (N, H, W, C) (or (N, C): then H*W is 1), viewed as
(N, M, G, C/G) with M = H*W pixels, and the sums over the K = M * C/G values of one (n, group):

    mu    = mean(x, over pixels and the group's channels)      (N, 1, G, 1) one per sample, group
    var   = mean((x - mu)^2, the same axes)                    biased (divide by K), as Keras
    x_hat = (x - mu) / sqrt(var + eps)                         (N, M, G, C/G)
    y     = gamma * x_hat + beta                               gamma, beta: (C,), one per CHANNEL

    groups=1   one group of all channels: layer normalization over (H, W, C)
    groups=-1  one group per channel (G = C): instance normalization, Keras's spelling
    groups=C   the same as groups=-1

Like LayerNormalization there are no moving statistics: training and inference compute the
same thing, and a batch of one sample works like any other.

Backward, with g = dL/dy: gamma and beta are shared by all samples and pixels,

    dbeta  = sum(g, over every axis but the channels)           (C,)
    dgamma = sum(g * x_hat, the same axes)                      (C,)

and, with gh = g * gamma = dL/dx_hat, batch normalization's closed form applied to each
(sample, group) of K values (batchnorm.py derives it):

    dx = (1 / (K * s)) * (K * gh - sum(gh) - x_hat * sum(gh * x_hat)),   s = sqrt(var + eps)

with the sums over the same K values as the statistics (one per sample and group).
"""

import numpy as np

from tinynet import constraints, initializers, regularizers
from tinynet.layers.base import Layer, check_input_shape, check_last_axis_at_build, weight_attribute
from tinynet.layers.batchnorm import check_last_axis, mean_in_float64
from tinynet.validation import check_bool, check_float, check_int


# Keras's defaults (groups=32, axis=-1, epsilon=1e-3, center and scale, groups=-1 for
# instance normalization) were checked against keras.io/api/layers/normalization_layers/
# group_normalization (and Keras 3.15.1's source, keras/src/layers/normalization/
# group_normalization.py) and tensorflow.org/api_docs/python/tf/keras/layers/GroupNormalization.
class GroupNormalization(Layer):
    """GroupNormalization(groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
    beta_initializer='zeros', gamma_initializer='ones', beta_regularizer=None,
    gamma_regularizer=None), plus name, dtype, trainable, input_shape (Keras 3's arguments).

    groups=-1 means one group per channel (instance normalization). As in Keras, build then
    sets `groups` to the number of channels, so get_config() and a saved file give the
    number of groups used (`num_groups` reads the same, None before build).

    Shapes: x (N, ..., C) -> y of the same shape; C must be a multiple of the number of
    groups. Weights, in get_weights() order: gamma (if scale), beta (if center), each (C,),
    also readable as layer.gamma and layer.beta (None without scale / center, as in Keras).
    """

    weight_order = ("gamma", "beta")
    keras_only_arguments = Layer.keras_only_arguments
    gamma = weight_attribute("gamma")
    beta = weight_attribute("beta")

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        where = "GroupNormalization"
        # as asked (-1: one group per channel); build resolves it into groups, as Keras does
        self.groups_asked = self.groups = check_int(groups, f"{where}(groups=...)", minimum=-1)
        if self.groups == 0:
            raise ValueError(f"{where}(groups=0): groups must be a positive number of groups, "
                             f"or -1 for one group per channel (instance normalization)")
        self.axis = check_last_axis(axis, where)
        self.epsilon = check_float(epsilon, f"{where}(epsilon=...)", low=0.0, low_open=True)
        self.center = check_bool(center, f"{where}(center=...)")
        self.scale = check_bool(scale, f"{where}(scale=...)")
        self.beta_initializer = initializers.get(beta_initializer, "beta_initializer")
        self.gamma_initializer = initializers.get(gamma_initializer, "gamma_initializer")
        self.beta_regularizer = regularizers.get(beta_regularizer, "beta_regularizer")
        self.gamma_regularizer = regularizers.get(gamma_regularizer, "gamma_regularizer")
        self.beta_constraint = constraints.get(beta_constraint, "beta_constraint")
        self.gamma_constraint = constraints.get(gamma_constraint, "gamma_constraint")
        self.x_hat = None
        self.inv_std = None

    @property
    def num_groups(self):
        """The number of groups used: `groups` after build (-1 resolved), None before."""
        return self.groups if self.built else None

    def build(self, input_shape):
        input_shape = check_input_shape(self, input_shape)
        channels = input_shape[-1]
        check_last_axis_at_build(self, self.axis, input_shape)
        groups = channels if self.groups_asked == -1 else self.groups_asked
        if channels % groups != 0:
            raise ValueError(f"{self.where}: groups={self.groups_asked} must divide the number of "
                             f"channels, {channels} (inputs of shape {tuple(input_shape)}); "
                             f"choose a divisor of {channels}, or -1 for one group per channel")
        self.groups = groups  # -1 becomes the number of channels, as Keras writes it
        if self.scale:
            self.params["gamma"] = self.new_weight("gamma", (channels,))
            self.attach_rules("gamma")
        if self.center:
            self.params["beta"] = self.new_weight("beta", (channels,))
            self.attach_rules("beta")
        super().build(input_shape)

    def grouped(self, array):
        """(N, ..., C) -> (N, M, G, C/G): pixels on axis 1, groups on axis 2 (a view)."""
        return array.reshape(array.shape[0], -1, self.num_groups,
                             array.shape[-1] // self.num_groups)

    def forward(self, x, training=False):
        """Inputs: x (N, ..., C). Returns: y, the same shape. `training` is ignored: both
        modes use the sample's own statistics."""
        self.check_input(x)
        xg = self.grouped(x)                                        # (N, M, G, C/G)
        mu = mean_in_float64(xg, axis=(1, 3))  # (N, 1, G, 1), summed in float64: see BN
        centered = xg - mu
        var = (centered * centered).mean(axis=(1, 3), keepdims=True)
        # backward needs only these two: x_hat and 1 / sqrt(var + eps)
        self.inv_std = 1.0 / np.sqrt(var + x.dtype.type(self.epsilon))
        self.x_hat = (centered * self.inv_std).reshape(x.shape)
        y = self.x_hat
        if self.scale:
            y = y * self.params["gamma"]
        if self.center:
            y = y + self.params["beta"]
        return y

    def backward(self, grad_output):
        """Inputs: grad_output = dL/dy, the shape of x. Returns: dL/dx, the same shape; sets
        grads['gamma'] and grads['beta'] (C,)."""
        self.check_grad_output(grad_output, self.x_hat)
        g = grad_output
        channel_axes = tuple(range(g.ndim - 1))                     # all but the channels
        if self.center:
            self.grads["beta"] = g.sum(axis=channel_axes)
        if self.scale:
            self.grads["gamma"] = (g * self.x_hat).sum(axis=channel_axes)
            g = g * self.params["gamma"]                            # gh = dL/dx_hat
        self.add_regularization_gradients()
        gh, x_hat = self.grouped(g), self.grouped(self.x_hat)
        k = gh.shape[1] * gh.shape[3]                               # values per (n, group)
        sum_gh = gh.sum(axis=(1, 3), keepdims=True)                 # (N, 1, G, 1)
        sum_gh_x_hat = (gh * x_hat).sum(axis=(1, 3), keepdims=True)
        dx = (self.inv_std / k) * (k * gh - sum_gh - x_hat * sum_gh_x_hat)
        return dx.reshape(grad_output.shape)
