"""Layer normalization (Ba, Kiros & Hinton, 2016), per sample, over the feature axis.

Batch normalization averages each feature over the batch; layer normalization averages each
sample over its features. For a batch x of shape (N, D), with the statistics of row n:

    mu    = mean(x, axis=1, keepdims=True)        (N, 1) one mean per sample
    var   = mean((x - mu)^2, axis=1, keepdims=True)
                                                  (N, 1) per-sample variance, biased (divide by D)
    x_hat = (x - mu) / sqrt(var + eps)            (N, D) each ROW has zero mean, unit variance
    y     = gamma * x_hat + beta                  (N, D) gamma, beta: (D,), one per feature

A sample's output depends on that sample only, never on the rest of its batch. So there is
nothing to estimate for inference: training and inference do the same computation, there are
no moving statistics, and a batch of one sample works like any other.

Backward, with g = dL/dy: gamma and beta are shared by every sample, so their gradients sum
over the batch axis, exactly as in BatchNormalization:

    dbeta  = sum(g, axis=0)                       (D,)
    dgamma = sum(g * x_hat, axis=0)               (D,)

For dx, every x_nj moves its own row's mu_n and var_n (and nothing in other rows). This is
BN's closed form turned sideways: the same three paths, with the sums running over the D
features of one sample instead of over the N samples of one feature. Writing
gh = g * gamma = dL/dx_hat and s_n = sqrt(var_n + eps):

    dL/dx_nj  = gh_nj / s_n  +  dL/dvar_n * 2 (x_nj - mu_n) / D  +  dL/dmu_n / D
    dL/dvar_n = sum_k gh_nk * (x_nk - mu_n) * (-1/2) s_n^-3 = -sum_k(gh_nk * x_hat_nk) / (2 s_n^2)
    dL/dmu_n  = -sum_k(gh_nk) / s_n     (the path through var_n vanishes: sum_k(x_nk - mu_n) = 0)

Substituting x_nj - mu_n = s_n * x_hat_nj and putting everything over D * s_n:

    dx = (1 / (D * s)) * (D * gh - sum(gh, axis=1) - x_hat * sum(gh * x_hat, axis=1))

(s and both sums have shape (N, 1), one value per sample.) Unlike in BN, gamma varies along
the summed axis, so the sums of gh cannot reuse dbeta and dgamma: they are computed apart.
Forward keeps only x_hat and 1 / s for backward.

A sample with a single feature (D = 1) has var = 0, so x_hat = 0 and y = beta: layer
normalization needs at least two features to mean anything.
"""

import numpy as np

from tinynet import constraints, initializers, regularizers
from tinynet.layers.base import Layer, check_input_shape, check_last_axis_at_build, weight_attribute
from tinynet.layers.batchnorm import mean_in_float64
from tinynet.validation import check_bool, check_float


class LayerNormalization(Layer):
    """LayerNormalization(axis=-1, epsilon=1e-3, center=True, scale=True,
    beta_initializer='zeros', gamma_initializer='ones', beta_regularizer=None,
    gamma_regularizer=None): Keras 3's arguments, in Keras's order (so LayerNormalization(1)
    is axis=1, as in Keras), over the last axis.

    axis: -1 (Keras's default), or the index of the last axis (e.g. 1 for inputs (N, D)),
    or a list of one of these, as Keras writes it in a saved file. Keras can normalize over
    other or several axes; tinynet normalizes over the last axis only.
    The initializers start gamma and beta; the regularizers add penalties on them to the loss.

    Weights, in get_weights() order: gamma (if scale), beta (if center), each of shape (D,),
    both trainable, also readable as layer.gamma and layer.beta (None without scale / center,
    as in Keras). There are no non-trainable weights: no moving statistics.
    """

    weight_order = ("gamma", "beta")
    keras_only_arguments = (*Layer.keras_only_arguments, "rms_scaling")
    gamma = weight_attribute("gamma")
    beta = weight_attribute("beta")

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None, **kwargs):
        super().__init__(**kwargs)
        # a list of one axis: how Keras keeps it (and writes it in a saved file), e.g. [-1]
        self.axis = [check_layer_norm_axis(axis)]
        self.epsilon = check_float(epsilon, "LayerNormalization(epsilon=...)", low=0.0,
                                   low_open=True)
        self.center = check_bool(center, "LayerNormalization(center=...)")
        self.scale = check_bool(scale, "LayerNormalization(scale=...)")
        self.beta_initializer = initializers.get(beta_initializer, "beta_initializer")
        self.gamma_initializer = initializers.get(gamma_initializer, "gamma_initializer")
        self.beta_regularizer = regularizers.get(beta_regularizer, "beta_regularizer")
        self.gamma_regularizer = regularizers.get(gamma_regularizer, "gamma_regularizer")
        self.beta_constraint = constraints.get(beta_constraint, "beta_constraint")
        self.gamma_constraint = constraints.get(gamma_constraint, "gamma_constraint")
        self.x_hat = None
        self.inv_std = None

    def build(self, input_shape):
        input_shape = check_input_shape(self, input_shape)
        check_last_axis_at_build(self, self.axis[0], input_shape,
                                 "tinynet normalizes over the last axis only (axis=-1)")
        features = (input_shape[-1],)
        if self.scale:
            self.params["gamma"] = self.new_weight("gamma", features)
            self.attach_rules("gamma")
        if self.center:
            self.params["beta"] = self.new_weight("beta", features)
            self.attach_rules("beta")
        super().build(input_shape)

    def forward(self, x, training=False):
        """Inputs: x (N, D) or (N, ..., D), normalized over the last axis. Returns: y, the
        same shape. `training` is ignored on purpose: both modes use the sample's own
        statistics."""
        self.check_input(x)
        mu = mean_in_float64(x, axis=-1)  # summed in float64: see batchnorm_train
        centered = x - mu
        # biased, like BN and Keras: divide by the number of features D
        var = (centered * centered).mean(axis=-1, keepdims=True)
        # backward needs only these two: x_hat (N, D) and 1 / sqrt(var + eps) (N, 1)
        self.inv_std = 1.0 / np.sqrt(var + x.dtype.type(self.epsilon))
        self.x_hat = centered * self.inv_std
        y = self.x_hat
        if self.scale:
            y = y * self.params["gamma"]
        if self.center:
            y = y + self.params["beta"]
        return y

    def backward(self, grad_output):
        """Inputs: grad_output = dL/dy, the shape of x. Returns: dL/dx, the same shape; sets
        grads['gamma'] and grads['beta'] (D,), summed over every axis but the last."""
        self.check_grad_output(grad_output, self.x_hat)
        g = grad_output
        batch_axes = tuple(range(g.ndim - 1))
        if self.center:
            self.grads["beta"] = g.sum(axis=batch_axes)
        if self.scale:
            self.grads["gamma"] = (g * self.x_hat).sum(axis=batch_axes)
            grad_x_hat = g * self.params["gamma"]
        else:
            grad_x_hat = g
        self.add_regularization_gradients()
        d = g.shape[-1]
        sum_grad = grad_x_hat.sum(axis=-1, keepdims=True)                        # (N, 1)
        sum_grad_x_hat = (grad_x_hat * self.x_hat).sum(axis=-1, keepdims=True)   # (N, 1)
        return (self.inv_std / d) * (d * grad_x_hat - sum_grad - self.x_hat * sum_grad_x_hat)


def check_layer_norm_axis(axis):
    """-1, a positive axis index (checked against the inputs at build), or a list or tuple
    of one of these (Keras's saved form): the axis, an int. Any other axis, or several, is
    refused: tinynet normalizes over the last axis only."""
    given = axis
    if isinstance(axis, (list, tuple)) and len(axis) == 1:
        axis = axis[0]
    if isinstance(axis, (int, np.integer)) and not isinstance(axis, bool) and \
            (axis == -1 or axis > 0):
        return int(axis)
    if isinstance(given, float):  # LayerNormalization(1e-5): epsilon, in an older order
        raise TypeError(f"LayerNormalization(axis={given!r}): axis is the first argument, as "
                        f"in Keras 3; for epsilon write LayerNormalization(epsilon={given!r})")
    several = isinstance(given, (list, tuple)) and len(given) > 1
    hint = (" (over several axes: for images, GroupNormalization(groups=1) takes each "
            "sample's statistics over height, width and channels together, with one gamma "
            "and beta per channel)" if several else "; transpose the data to put that axis "
            "last")
    raise ValueError(f"LayerNormalization(axis={given!r}): tinynet normalizes over the last "
                     f"axis only, axis=-1 (Keras's default){hint}")


LayerNorm = LayerNormalization
