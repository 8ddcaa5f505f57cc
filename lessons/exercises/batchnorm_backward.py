"""Exercise: batch normalization's backward pass (training mode).

Fill in the function body below (replace the `raise NotImplementedError`), then check your
work:

    python -m tinynet.grade lessons/exercises/batchnorm_backward.py

Use NumPy only (no tinynet inside this function: the grader compares you with it and with
finite differences).
"""

import numpy as np  # noqa: F401 (unused until you write the code)


def batchnorm_backward(grad_output, x, gamma, epsilon=1e-3):
    """The gradients of training-mode batch normalization.

    The forward pass it differentiates (for x of shape (N, D), statistics over axis 0):

        mu    = mean(x, axis=0)                                  (D,)
        var   = mean((x - mu)^2, axis=0)                         (D,)  biased: divide by N
        x_hat = (x - mu) / sqrt(var + epsilon)                   (N, D)
        out   = gamma * x_hat + beta                             (N, D)

    With g = dL/dout, the parameters first (they are shared by all N samples):

        dbeta  = sum over the batch of g
        dgamma = sum over the batch of g * x_hat

    Then dx. Each x[n, j] reaches the loss along THREE paths: directly through x_hat[n, j],
    through mu[j] and through var[j] (mu and var depend on every sample of the batch):

        dL/dx[n, j] = dL/dx_hat[n, j] * dx_hat[n, j]/dx[n, j]          (mu, var held fixed)
                    + dL/dvar[j]      * dvar[j]/dx[n, j]
                    + dL/dmu[j]       * dmu[j]/dx[n, j]

    with dL/dx_hat = g * gamma, dmu[j]/dx[n, j] = 1/N and dvar[j]/dx[n, j] =
    2 (x[n, j] - mu[j]) / N. Work out dL/dvar and dL/dmu (each sums over the batch), combine.

    Args:
        grad_output: g = dL/dout, shape (N, D).
        x:           the input of the forward pass, shape (N, D).
        gamma:       shape (D,).
        epsilon:     the forward pass's epsilon.
    Returns:
        (dx, dgamma, dbeta): shapes (N, D), (D,) and (D,).

    Hint: recompute mu, var and x_hat from x first (beta is not needed: it does not change
    any gradient). Two routes both work: backpropagate step by step through the graph
    (x -> mu -> x - mu -> var -> sqrt -> x_hat), keeping every intermediate gradient, or
    simplify on paper: substituting x - mu = sqrt(var + eps) * x_hat, all three terms share
    the factor 1 / (N * sqrt(var + eps)) and dx fits on one line. Every sum runs over the
    batch (axis 0) and gives one value per feature.
    """
    # TODO: compute dx, dgamma and dbeta
    raise NotImplementedError("batchnorm_backward: write the backward pass")
