"""Batch normalization (Ioffe & Szegedy, 2015): each feature normalized over the batch.

The math lives in three plain functions; the layer only keeps flags, weights and the moving
statistics, and calls them. For x of shape (N, D) (or (N, H, W, C): then every statistic is
taken over N, H and W, one per channel, and "N" below means N * H * W):

    batchnorm_train(x, gamma, beta, epsilon) -> y, cache           (training mode)

        mu    = sum(x, axis=0) / N                    (D,)  batch mean
        var   = sum((x - mu)^2, axis=0) / N           (D,)  batch variance, BIASED (divide by N)
        x_hat = (x - mu) / sqrt(var + epsilon)        (N, D) zero mean, unit variance per feature
        y     = gamma * x_hat + beta                  (N, D) learned scale and shift

    batchnorm_inference(x, gamma, beta, moving_mean, moving_variance, epsilon) -> y, cache

        y = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta

    batchnorm_backward(grad_output, cache) -> dx, dgamma, dbeta

Backward (training mode), with g = dL/dy and sums over the batch axis:

    dbeta  = sum(g)
    dgamma = sum(g * x_hat)
    dx     = (1 / (N * sqrt(var + eps))) * (N * gh - sum(gh) - x_hat * sum(gh * x_hat)),
             where gh = g * gamma = dL/dx_hat

Where the dx formula comes from (lesson 02 goes through the same steps one node of the graph
at a time, and checks them against this closed form): every x_n moves mu and var, so dL/dx_n
has three paths,

    dL/dx_n = gh_n / s  +  dL/dvar * 2 (x_n - mu) / N  +  dL/dmu / N,     s = sqrt(var + eps)
    dL/dvar = sum_m gh_m * (x_m - mu) * (-1/2) s^-3 = -sum(gh * x_hat) / (2 s^2)
    dL/dmu  = -sum(gh) / s   (the path through var vanishes: sum(x_m - mu) = 0)

Substituting x_n - mu = s * x_hat_n and putting everything over N * s gives the formula above.
gamma is the same for every sample, so sum(gh) = gamma * dbeta and sum(gh * x_hat) =
gamma * dgamma: the code reuses the two sums the parameter gradients already needed,

    dx = gamma / (N * s) * (N * g - dbeta - x_hat * dgamma)

and backward reads only x_hat and 1 / s from the cache (no copy of x is kept; the cache's mu
and var are the batch statistics the layer's forward moves its moving mean and variance
toward). In inference mode
mu and var are constants, so y is an affine function of x and dx = g * gamma / s.

A bias in the layer before BN (Dense(64) then BatchNormalization()) does nothing in training
mode: it is added to every sample, so the batch mean takes it away again, and its gradient is
0 up to round-off (dL/db = sum over the batch of dx = 0, see lesson 02). Keras's examples
often keep it anyway; use_bias=False saves the weights.

A batch of one sample in training mode: var = 0, x_hat = 0, so y = beta and every gradient
that flows back through x_hat is exactly 0. That is finite (Keras does the same), but useless
for learning: use batches of at least 2 (better, 16 or more), or LayerNormalization.
"""

import functools
import warnings
from typing import NamedTuple

import numpy as np

from tinynet import constraints, initializers, regularizers
from tinynet.layers.base import Layer, check_input_shape, check_last_axis_at_build, weight_attribute
from tinynet.validation import check_bool, check_float


class BatchNormCache(NamedTuple):
    """What the forward pass keeps for batchnorm_backward (and the batch's statistics)."""

    x_hat: np.ndarray       # (N, D): the normalized input
    inv_std: np.ndarray     # (D,): 1 / sqrt(var + epsilon) (moving_variance in inference)
    gamma: object           # (D,), or 1.0 without scale
    mu: object              # (D,): the batch mean (None in inference mode)
    var: object             # (D,): the biased batch variance (None in inference mode)
    training: bool          # True: batch statistics (they depend on x); False: moving ones


def sum_over_batch(a, dtype=None):
    """The sum of `a` over every axis but the last: shape (D,), or (C,) for images.

    Written as ones @ a2d, a matrix-vector product that NumPy hands to BLAS: for images,
    a2d = a.reshape(N*H*W, C) is long and narrow, and NumPy's own a.sum(axis=(0, 1, 2)) of
    such an array is up to 15 times slower. dtype=np.float64 accumulates in float64.
    """
    a2d = a.reshape(-1, a.shape[-1])
    return ones(len(a2d), dtype or a.dtype) @ a2d


def mean_in_float64(x, axis):
    """x.mean(axis, keepdims=True) with the sum accumulated in float64 and the mean rounded
    once to x's type: the mean batchnorm_train takes (its docstring says why), for the layers
    that average over other axes (LayerNormalization over the features of each sample,
    GroupNormalization over each sample's groups). Shape: x's, with each axis in `axis` 1."""
    return x.mean(axis=axis, keepdims=True, dtype=np.float64).astype(x.dtype, copy=False)


@functools.lru_cache(maxsize=64)
def ones(n, dtype):
    """A read-only vector of n ones, made once per (n, dtype) and reused at every step:
    np.ones costs a microsecond each time, and BN sums over the batch four times a step."""
    vector = np.ones(n, dtype)
    vector.flags.writeable = False  # shared by every call: nobody may write into it
    return vector


def batchnorm_train(x, gamma, beta, epsilon):
    """Training-mode batch normalization with this batch's statistics.

    Inputs:
        x:       (N, D) or (N, H, W, C); statistics over every axis but the last
        gamma:   (D,) scale (1.0 for no scale);  beta: (D,) shift (0.0 for no shift)
        epsilon: float, added to the variance
    Returns:
        y:     same shape as x
        cache: a BatchNormCache (x_hat, inv_std, gamma, mu, var, training=True), what
               backward needs (mu and var also feed the moving statistics)

    The mean's sum is accumulated in float64 and rounded once to x's type: in float32 a sum
    of many large equal values is off in its last bits, and epsilon = 1e-3 would turn that
    error into a visible output (a constant feature of 12345.678 would not normalize to
    exactly beta). With an exact mean, x - mu of a constant feature is exactly 0.
    """
    # one cheap test (this runs at every step); the exact complaint only when it fails
    if not (isinstance(x, np.ndarray) and x.ndim >= 2 and x.dtype.kind == "f" and epsilon > 0
            and getattr(gamma, "shape", ()) in ((), x.shape[-1:])
            and getattr(beta, "shape", ()) in ((), x.shape[-1:])
            and not isinstance(gamma, (list, tuple)) and not isinstance(beta, (list, tuple))):
        raise batchnorm_argument_error("batchnorm_train", x, gamma, beta, epsilon)
    n = x.size // x.shape[-1]  # values per feature: N (N * H * W for images)
    # mu = x.mean(axis=0) and var = (centered ** 2).mean(axis=0) for (N, D), written with
    # sum_over_batch (its docstring says why) and the mean's sum in float64 (see above)
    mu = (sum_over_batch(x, np.float64) / n).astype(x.dtype)
    # |x| > 1e19 in float32 (or an inf, which makes inf - inf): the layer warns in its own words
    with np.errstate(over="ignore", invalid="ignore"):
        centered = x - mu
        var = sum_over_batch(centered * centered) / n  # biased: divided by N, not N - 1
    # backward needs only these two: x_hat and 1 / sqrt(var + eps)
    inv_std = 1.0 / np.sqrt(var + x.dtype.type(epsilon))
    x_hat = centered * inv_std
    return gamma * x_hat + beta, BatchNormCache(x_hat, inv_std, gamma, mu, var, True)


def batchnorm_inference(x, gamma, beta, moving_mean, moving_variance, epsilon):
    """Inference-mode batch normalization: the moving statistics replace the batch's, so a
    sample's output does not depend on the rest of its batch.

    Inputs:  x (N, D) or (N, H, W, C); gamma, beta (D,) (or 1.0 and 0.0); moving_mean,
             moving_variance (D,); epsilon float
    Returns: y (same shape as x), cache for batchnorm_backward
    """
    if not (isinstance(x, np.ndarray) and x.ndim >= 2 and x.dtype.kind == "f" and epsilon > 0
            and getattr(gamma, "shape", ()) in ((), x.shape[-1:])
            and getattr(beta, "shape", ()) in ((), x.shape[-1:])
            and np.shape(moving_mean) == np.shape(moving_variance) == x.shape[-1:]):
        raise batchnorm_argument_error("batchnorm_inference", x, gamma, beta, epsilon,
                                       moving_mean, moving_variance)
    inv_std = 1.0 / np.sqrt(moving_variance + x.dtype.type(epsilon))
    x_hat = (x - moving_mean) * inv_std
    return gamma * x_hat + beta, BatchNormCache(x_hat, inv_std, gamma, None, None, False)


def batchnorm_backward(g, cache):
    """Gradients of batch normalization, from the cache of batchnorm_train or _inference.
    The closed form for dx is derived in this module's docstring; lesson 02
    (batchnorm_backward_step_by_step) computes the same gradient one node of the graph at a
    time and checks it against the layer (which calls this function).

    Inputs:
        g:     dL/dy (grad_output), the shape of x
        cache: from the forward pass
    Returns:
        dx (the shape of x), dgamma (D,), dbeta (D,)
    """
    if not (isinstance(cache, BatchNormCache) and isinstance(g, np.ndarray)
            and g.shape == cache.x_hat.shape):
        raise backward_argument_error(g, cache)
    x_hat, inv_std, gamma, _, _, training = cache
    dbeta = sum_over_batch(g)
    dgamma = sum_over_batch(g * x_hat)
    if not training:  # the moving statistics are constants: x_hat is affine in x
        return g * (gamma * inv_std), dgamma, dbeta
    n = g.size // g.shape[-1]
    dx = (gamma * inv_std / n) * (n * g - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta


def describe(a):
    """'an array of shape (4, 3) and type float32', or the type of anything else."""
    if isinstance(a, np.ndarray):
        return f"an array of shape {a.shape} and type {a.dtype}"
    return f"a {type(a).__name__}"


def batchnorm_argument_error(where, x, gamma, beta, epsilon, *moving):
    """The error for arguments of batchnorm_train or batchnorm_inference that do not go
    together, saying which one and what it should be (a TypeError for a non-array x)."""
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        return TypeError(f"{where}: x must be a float array (N, D) or (N, H, W, C), got "
                         f"{describe(x)}")
    if x.ndim < 2:
        return ValueError(f"{where}: x must be (N, D) or (N, H, W, C), a batch of samples, "
                          f"got shape {x.shape} (one sample of D features is x[None, :])")
    if not epsilon > 0:
        return ValueError(f"{where}: epsilon must be > 0 (it keeps 1 / sqrt(var + epsilon) "
                          f"finite), got {epsilon!r}")
    expected = x.shape[-1:]
    # gamma and beta may be plain numbers (1.0 and 0.0 without scale or center)
    wrong = [(name, value) for name, value in (("gamma", gamma), ("beta", beta))
             if getattr(value, "shape", ()) not in ((), expected)
             or isinstance(value, (list, tuple))]
    if moving:
        wrong += [(name, value) for name, value in zip(("moving_mean", "moving_variance"),
                                                       moving, strict=True)
                  if np.shape(value) != expected]
    name, value = wrong[0]
    got = f"a {type(value).__name__}" if isinstance(value, (list, tuple)) else \
        f"shape {np.shape(value)}"
    return ValueError(f"{where}: {name} must be an array of shape {expected}, one value per "
                      f"feature of x {x.shape} (or a plain number), got {got}")


def backward_argument_error(g, cache):
    """The error for a batchnorm_backward(g, cache) whose g is not dL/dy of that cache's
    forward pass (a TypeError for the wrong kinds of object, a ValueError for a g of another
    shape, which NumPy would otherwise broadcast into a wrong dx)."""
    if not isinstance(cache, BatchNormCache):
        return TypeError(f"batchnorm_backward(g, cache): cache must be what batchnorm_train "
                         f"or batchnorm_inference returned, got {describe(cache)}")
    if not isinstance(g, np.ndarray):
        return TypeError(f"batchnorm_backward(g, cache): g must be an array, dL/dy, got "
                         f"{describe(g)}")
    return ValueError(f"batchnorm_backward(g, cache): g must have the shape of the forward "
                      f"pass's x and y, {cache.x_hat.shape}, got {g.shape}")


class BatchNormalization(Layer):
    """Normalizes each feature (each channel of a 4-D input) with statistics of the batch.

    It behaves differently in training and in inference:
        training=True (inside fit / train_on_batch): the batch's own mean and variance are
            used, and the moving statistics move toward them:
                moving_mean     = momentum * moving_mean     + (1 - momentum) * batch_mean
                moving_variance = momentum * moving_variance + (1 - momentum) * batch_variance
            (the biased batch variance, divide by N, as in Keras; PyTorch stores the unbiased
            one, N / (N - 1) times larger).
        training=False (predict / evaluate): the moving statistics are used, so each sample's
            output depends on that sample only.
    Frozen (trainable=False): always inference mode, even inside fit, and nothing is updated:
    Keras 3's rule, which keeps fine-tuning from wrecking a pretrained network.

    Arguments (Keras 3's names and defaults):
        axis=-1:        the feature (channel) axis; only the last axis is supported.
        momentum=0.99:  how much of the old moving value each update keeps.
        epsilon=1e-3:   added to the variance before the square root.
        center=True:    learn a shift beta;  scale=True: learn a scale gamma.
        beta_initializer='zeros', gamma_initializer='ones',
        moving_mean_initializer='zeros', moving_variance_initializer='ones'.
        beta_regularizer=None, gamma_regularizer=None: penalties added to the loss.
        plus name, dtype, trainable, input_shape (see Layer).

    Shapes: x (N, D) or (N, H, W, C) -> y of the same shape. Weights, in get_weights() order:
    gamma (if scale), beta (if center), moving_mean, moving_variance, each of shape (D,), also
    readable under those names, layer.gamma and so on (as in Keras 3.15: None before the layer
    is built, and gamma / beta None without scale / center).
    """

    weight_order = ("gamma", "beta", "moving_mean", "moving_variance")
    keras_only_arguments = (*Layer.keras_only_arguments, "renorm_clipping", "renorm_momentum",
                            "synchronized")
    gamma = weight_attribute("gamma", none_when_unbuilt=True)
    beta = weight_attribute("beta", none_when_unbuilt=True)
    moving_mean = weight_attribute("moving_mean", "state", none_when_unbuilt=True)
    moving_variance = weight_attribute("moving_variance", "state", none_when_unbuilt=True)

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, renorm=False, **kwargs):
        super().__init__(**kwargs)
        where = "BatchNormalization"
        self.axis = check_last_axis(axis, where)
        self.momentum = check_float(momentum, f"{where}(momentum=...)", 0.0, 1.0)
        self.epsilon = check_float(epsilon, f"{where}(epsilon=...)", low=0.0, low_open=True)
        self.center = check_bool(center, f"{where}(center=...)")
        self.scale = check_bool(scale, f"{where}(scale=...)")
        if check_bool(renorm, f"{where}(renorm=...)"):
            raise ValueError(f"{where}(renorm=True): batch renormalization is not available in "
                             f"tinynet; use renorm=False, or GroupNormalization / "
                             f"LayerNormalization for small batches")
        self.beta_initializer = initializers.get(beta_initializer, "beta_initializer")
        self.gamma_initializer = initializers.get(gamma_initializer, "gamma_initializer")
        self.moving_mean_initializer = initializers.get(moving_mean_initializer,
                                                        "moving_mean_initializer")
        self.moving_variance_initializer = initializers.get(moving_variance_initializer,
                                                            "moving_variance_initializer")
        self.beta_regularizer = regularizers.get(beta_regularizer, "beta_regularizer")
        self.gamma_regularizer = regularizers.get(gamma_regularizer, "gamma_regularizer")
        self.beta_constraint = constraints.get(beta_constraint, "beta_constraint")
        self.gamma_constraint = constraints.get(gamma_constraint, "gamma_constraint")
        self.cache = None

    def build(self, input_shape):
        input_shape = check_input_shape(self, input_shape)
        check_last_axis_at_build(self, self.axis, input_shape)
        features = (input_shape[-1],)
        if self.scale:
            self.params["gamma"] = self.new_weight("gamma", features)
            self.attach_rules("gamma")
        if self.center:
            self.params["beta"] = self.new_weight("beta", features)
            self.attach_rules("beta")
        self.state["moving_mean"] = self.new_weight("moving_mean", features)
        self.state["moving_variance"] = self.new_weight("moving_variance", features)
        super().build(input_shape)

    def forward(self, x, training=False):
        """Inputs: x (N, D) or (N, H, W, C); training, a bool. Returns: y, the same shape."""
        self.check_input(x, training)
        # without scale (center) the layer has no gamma (beta): multiplying by 1.0 (adding
        # 0.0) is the same as leaving the step out
        gamma, beta = self.params.get("gamma", 1.0), self.params.get("beta", 0.0)
        if training and self.trainable:
            y, self.cache = batchnorm_train(x, gamma, beta, self.epsilon)
            self.update_moving_statistics(mean=self.cache.mu, variance=self.cache.var)
        else:
            y, self.cache = batchnorm_inference(x, gamma, beta, self.state["moving_mean"],
                                                self.state["moving_variance"], self.epsilon)
        return y

    def update_moving_statistics(self, mean, variance):
        """moving = momentum * moving + (1 - momentum) * batch value, in place (Keras's
        convention: momentum weighs the OLD value; PyTorch's momentum=0.1 is Keras's 0.9)."""
        m = self.momentum
        moving_mean, moving_variance = self.state["moving_mean"], self.state["moving_variance"]
        moving_mean[...] = m * moving_mean + (1 - m) * mean
        moving_variance[...] = m * moving_variance + (1 - m) * variance
        if not np.isfinite(variance).all():
            warnings.warn(non_finite_variance_message(self, mean, variance), RuntimeWarning,
                          stacklevel=3)

    def backward(self, grad_output):
        """Inputs: grad_output (the shape of y). Returns: dL/dx, the same shape; sets
        grads['gamma'] and grads['beta']."""
        self.check_grad_output(grad_output, self.cache)
        dx, dgamma, dbeta = batchnorm_backward(grad_output, self.cache)
        # only the weights the layer has (scale=False has no gamma, center=False no beta)
        self.grads.update((key, grad) for key, grad in (("gamma", dgamma), ("beta", dbeta))
                          if key in self.params)
        self.add_regularization_gradients()
        return dx


def non_finite_variance_message(layer, mean, variance):
    """Why a training batch's variance is not finite, told from the batch's statistics: NaN
    in the inputs (the mean is NaN), inf in the inputs (the mean is infinite), or finite
    inputs too large for the layer's float type (their squares overflow: the mean is finite
    and the variance inf). Worked out only when it happens."""
    bad = ~np.isfinite(variance)
    features = np.flatnonzero(bad)
    which = (f"feature{'s' if len(features) > 1 else ''} "
             f"{', '.join(map(str, features[:5]))}{', ...' if len(features) > 5 else ''}")
    mean = np.broadcast_to(mean, np.shape(variance))[bad]
    if np.isnan(mean).any() or (not np.isinf(mean).any() and np.isnan(variance[bad]).any()):
        found, test = "NaN", "np.isnan(x).any()"
    elif np.isinf(mean).any():
        found, test = "inf", "np.isinf(x).any()"
    else:
        return (f"{layer.where}: the batch variance overflowed to inf ({which}): the inputs "
                f"are too large for {layer.dtype} (|x| around 1e19 or more), so the layer "
                f"outputs beta and its moving variance is inf. Standardize the inputs (mean "
                f"0, std 1).")
    return (f"{layer.where}: the batch variance is not finite ({which}) because the inputs "
            f"contain {found}: the layer's moving mean and variance of {which} are not "
            f"finite from now on, and neither are its outputs there. Find where the {found} "
            f"comes from: the data ({test}), or an earlier layer whose training diverged.")


def check_last_axis(axis, where):
    """Only the channels-last layout is supported: axis=-1 (or None, or a positive index, which
    the layer cannot check until it is built and so must be the last axis)."""
    if axis is None or (isinstance(axis, (int, np.integer)) and not isinstance(axis, bool)
                        and (axis == -1 or axis > 0)):
        return -1 if axis is None else int(axis)
    if isinstance(axis, float):  # BatchNormalization(0.9) or (1e-5): momentum or epsilon
        raise TypeError(f"{where}(axis={axis!r}): axis is an int (-1 for the last axis), and "
                        f"comes first, as in Keras 3; name the number: {where}(momentum="
                        f"{axis!r}) or {where}(epsilon={axis!r})")
    raise ValueError(f"{where}(axis={axis!r}): tinynet normalizes the last axis (channels "
                     f"last, Keras's default axis=-1); transpose the data to put the features "
                     f"last (channels-first images: x.transpose(0, 2, 3, 1))")


BatchNorm = BatchNormalization
