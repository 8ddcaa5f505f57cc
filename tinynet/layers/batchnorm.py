"""Batch normalization (Ioffe & Szegedy, 2015), per feature, over the batch axis.

Training mode, for a batch x of shape (N, D):

    mu    = mean(x, axis=0)                       (D,)  batch mean
    var   = mean((x - mu)^2, axis=0)              (D,)  batch variance, BIASED (divide by N)
    x_hat = (x - mu) / sqrt(var + eps)            (N, D) zero mean, unit variance per feature
    y     = gamma * x_hat + beta                  (N, D) learned scale and shift

and the running estimates used at inference are updated (Keras's convention for momentum):

    moving_mean     = momentum * moving_mean     + (1 - momentum) * mu
    moving_variance = momentum * moving_variance + (1 - momentum) * var

Inference mode uses the moving statistics instead of the batch's, so a sample's output does not
depend on the other samples in its batch:

    y = gamma * (x - moving_mean) / sqrt(moving_variance + eps) + beta

Backward (training mode), with g = dL/dy and sums over the batch axis:

    dbeta  = sum(g)
    dgamma = sum(g * x_hat)
    dx     = (1 / (N * sqrt(var + eps))) * (N * gh - sum(gh) - x_hat * sum(gh * x_hat)),
             where gh = g * gamma = dL/dx_hat

Where the dx formula comes from: every x_n moves mu and var, so dL/dx_n has three paths,

    dL/dx_n = gh_n / s  +  dL/dvar * 2 (x_n - mu) / N  +  dL/dmu / N,     s = sqrt(var + eps)
    dL/dvar = sum_m gh_m * (x_m - mu) * (-1/2) s^-3 = -sum(gh * x_hat) / (2 s^2)
    dL/dmu  = -sum(gh) / s   (the path through var vanishes: sum(x_m - mu) = 0)

Substituting x_n - mu = s * x_hat_n and putting everything over N * s gives the formula above.
gamma is the same for every sample, so sum(gh) = gamma * dbeta and sum(gh * x_hat) =
gamma * dgamma: the code reuses the two sums the parameter gradients already needed,

    dx = gamma / (N * s) * (N * g - dbeta - x_hat * dgamma)

and forward keeps only x_hat and 1 / s for it (no copy of x, mu or var).

A batch of one sample in training mode: var = 0, x_hat = 0, so y = beta and every gradient
that flows back through x_hat is exactly 0. That is finite (Keras does the same), but useless
for learning: use batches of at least 2 (better, 16 or more), or LayerNormalization.
"""

import numpy as np

from tinynet.layers.base import Layer
from tinynet.validation import check_bool, check_float


class BatchNormalization(Layer):
    """BatchNormalization(momentum=0.99, epsilon=1e-3, center=True, scale=True).

    Weights, in get_weights() order: gamma (if scale), beta (if center), moving_mean,
    moving_variance, each of shape (D,). gamma/beta are trainable; the moving statistics are not.
    """

    weight_order = ("gamma", "beta", "moving_mean", "moving_variance")

    def __init__(self, momentum=0.99, epsilon=1e-3, center=True, scale=True, **kwargs):
        super().__init__(**kwargs)
        self.momentum = check_float(momentum, "BatchNormalization(momentum=...)", 0.0, 1.0)
        self.epsilon = check_float(epsilon, "BatchNormalization(epsilon=...)", low=0.0,
                                   low_open=True)
        self.center = check_bool(center, "BatchNormalization(center=...)")
        self.scale = check_bool(scale, "BatchNormalization(scale=...)")
        self.x_hat = None
        self.inv_std = None
        self.training = False

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"BatchNormalization '{self.name}' expects inputs of shape "
                             f"(batch, features), got input shape {tuple(input_shape)}")
        features = input_shape[-1]
        if self.scale:
            self.params["gamma"] = np.ones(features, dtype=self.dtype)
        if self.center:
            self.params["beta"] = np.zeros(features, dtype=self.dtype)
        self.state["moving_mean"] = np.zeros(features, dtype=self.dtype)
        self.state["moving_variance"] = np.ones(features, dtype=self.dtype)
        self.grads = {key: np.zeros_like(value) for key, value in self.params.items()}
        super().build(input_shape)

    def forward(self, x, training=False):
        if training:
            mu = x.mean(axis=0)
            centered = x - mu
            # biased: the paper's Algorithm 1 and Keras both divide by N
            var = (centered * centered).mean(axis=0)
            self.update_moving_statistics(mu, var)
        else:
            centered = x - self.state["moving_mean"]
            var = self.state["moving_variance"]
        self.training = training
        # backward needs only these two: x_hat and 1 / sqrt(var + eps)
        self.inv_std = 1.0 / np.sqrt(var + self.epsilon)
        self.x_hat = centered * self.inv_std
        y = self.x_hat
        if self.scale:
            y = y * self.params["gamma"]
        if self.center:
            y = y + self.params["beta"]
        return y

    def update_moving_statistics(self, mu, var):
        m = self.momentum
        self.state["moving_mean"] *= m
        self.state["moving_mean"] += (1 - m) * mu
        self.state["moving_variance"] *= m
        self.state["moving_variance"] += (1 - m) * var

    def backward(self, grad_output):
        g = grad_output
        dbeta = g.sum(axis=0)
        dgamma = (g * self.x_hat).sum(axis=0)
        if self.center:
            self.grads["beta"][...] = dbeta
        if self.scale:
            self.grads["gamma"][...] = dgamma
            gamma_inv_std = self.params["gamma"] * self.inv_std  # (D,)
        else:
            gamma_inv_std = self.inv_std
        if not self.training:
            # the moving statistics are constants: x_hat is an affine function of x
            return g * gamma_inv_std
        n = g.shape[0]
        return (gamma_inv_std / n) * (n * g - dbeta - self.x_hat * dgamma)


BatchNorm = BatchNormalization
