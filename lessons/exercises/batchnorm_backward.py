"""Exercise: batch normalization's backward pass (training mode).

Fill in batchnorm_backward below (replace the `raise NotImplementedError`), then check your
work:

    python -m tinynet.grade lessons/exercises/batchnorm_backward.py

A backward pass starts from what its forward pass kept: the cache. Here the forward pass,
batchnorm_train, is given complete (it is the one batchnorm_forward.py asks you to write),
so that you know exactly what the cache holds. The grader runs this file's batchnorm_train
on its test batches, hands each cache to your batchnorm_backward, and compares your
gradients with tinynet's and with finite differences. Both functions have the signatures of
tinynet's own, in tinynet/layers/batchnorm.py.

Use NumPy only (no tinynet inside your function).
"""

from typing import NamedTuple

import numpy as np


class BatchNormCache(NamedTuple):
    """What batchnorm_train keeps: a tuple whose entries also have names (cache.x_hat)."""

    x_hat: np.ndarray    # (N, D): the normalized input, (x - mu) * inv_std
    inv_std: np.ndarray  # (D,): 1 / sqrt(var + epsilon)
    gamma: np.ndarray    # (D,): the learned scale
    mu: np.ndarray       # (D,): the batch mean       } for the moving statistics;
    var: np.ndarray      # (D,): the batch variance   } the backward pass can do without


def batchnorm_train(x, gamma, beta, epsilon=1e-3):
    """GIVEN (nothing to do here): batch normalization in training mode.

    Inputs:
        x:       a batch of N samples with D features, shape (N, D).
        gamma:   learned scale, shape (D,).
        beta:    learned shift, shape (D,).
        epsilon: a float, a small constant that keeps the division safe when var is 0.
    Returns:
        y:     shape (N, D).
        cache: a BatchNormCache (x_hat, inv_std, gamma, mu, var), shapes above.
    """
    mu = x.mean(axis=0)                      # (D,)
    var = ((x - mu) ** 2).mean(axis=0)       # (D,)    biased: divide by N
    inv_std = 1 / np.sqrt(var + epsilon)     # (D,)    one division per feature, not per value
    x_hat = (x - mu) * inv_std               # (N, D)  zero mean, unit variance per feature
    y = gamma * x_hat + beta                 # (N, D)
    # x itself is not kept: the backward pass needs only x - mu, which is x_hat / inv_std
    return y, BatchNormCache(x_hat, inv_std, gamma, mu, var)


def batchnorm_backward(grad_output, cache):
    """The gradients of training-mode batch normalization (batchnorm_train above).

    With g = dL/dy, the parameters first. Each is shared by all N samples, so its gradient
    sums their contributions:

        dbeta  = sum over the batch of g                                (D,)
        dgamma = sum over the batch of g * x_hat                        (D,)

    Then dx. Each x[n, j] reaches the loss along THREE paths: directly through x_hat[n, j],
    and through mu[j] and var[j], which every sample of the batch moves:

        dL/dx[n, j] = dL/dx_hat[n, j] * dx_hat[n, j]/dx[n, j]     (mu and var held fixed)
                    + dL/dvar[j]      * dvar[j]/dx[n, j]
                    + dL/dmu[j]       * dmu[j]/dx[n, j]

    with dL/dx_hat = g * gamma, dx_hat[n, j]/dx[n, j] = inv_std[j] (mu and var held fixed),
    dvar[j]/dx[n, j] = 2 (x[n, j] - mu[j]) / N and dmu[j]/dx[n, j] = 1 / N. Work out dL/dvar
    and dL/dmu (each one sums over the batch), then add the three paths.

    Inputs:
        grad_output: g = dL/dy, shape (N, D).
        cache:       the BatchNormCache that batchnorm_train returned for this batch: x_hat
                     of shape (N, D); inv_std, gamma, mu and var of shape (D,).
    Returns:
        dx:     shape (N, D).
        dgamma: shape (D,).
        dbeta:  shape (D,).

    Hint: the cache has everything: x - mu = x_hat / inv_std, 1 / sqrt(var + epsilon) =
    inv_std, and N is grad_output.shape[0]. Two routes both work. Backpropagate step by step
    through the graph (x -> mu -> x - mu -> var -> inv_std -> x_hat), keeping every
    intermediate gradient; or simplify on paper: with x - mu = x_hat / inv_std, all three
    paths share the factor inv_std / N and dx fits on one line. Every sum runs over the batch
    (axis 0) and gives one value per feature.
    """
    # TODO: compute dx, dgamma and dbeta
    raise NotImplementedError("batchnorm_backward: write the backward pass")
