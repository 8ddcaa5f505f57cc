"""Exercise: batch normalization's forward pass, in training and in inference mode.

Fill in the three function bodies below (replace each `raise NotImplementedError`), then
check your work:

    python -m tinynet.grade lessons/exercises/batchnorm_forward.py

Use NumPy only (no tinynet inside these functions: the grader compares you with it). The
formulas are Keras 3's (and tinynet's): see tinynet/layers/batchnorm.py once you are done.
"""

import numpy as np  # noqa: F401 (unused until you write the code)


def batchnorm_forward(x, gamma, beta, epsilon=1e-3):
    """Batch normalization in TRAINING mode: each feature normalized over the batch.

        mu    = mean of x over the batch                        (D,)
        var   = mean of (x - mu)^2 over the batch               (D,)  biased: divide by N
        x_hat = (x - mu) / sqrt(var + epsilon)                  (N, D)
        out   = gamma * x_hat + beta                            (N, D)

    Args:
        x:       a batch of N samples with D features, shape (N, D).
        gamma:   learned scale, shape (D,).
        beta:    learned shift, shape (D,).
        epsilon: a small constant that keeps the division safe when var is 0.
    Returns:
        (out, mu, var): out of shape (N, D); mu and var of shape (D,), the batch statistics
        (a layer feeds them to its moving averages, see update_moving_statistics below).

    Hint: the batch is axis 0, so every statistic here reduces over axis=0 and has one value
    per feature. The variance is the BIASED one (divide by N, np.var's default), as in the
    paper's Algorithm 1 and in Keras: not N - 1. Epsilon goes INSIDE the square root.
    """
    # TODO: compute out, mu and var
    raise NotImplementedError("batchnorm_forward: write the training-mode forward pass")


def update_moving_statistics(moving_mean, moving_variance, mu, var, momentum=0.99):
    """The running averages a BN layer keeps for inference, Keras's convention.

        new_moving_mean     = momentum * moving_mean     + (1 - momentum) * mu
        new_moving_variance = momentum * moving_variance + (1 - momentum) * var

    Args:
        moving_mean, moving_variance: the current running averages, shape (D,).
        mu, var:  this batch's statistics from batchnorm_forward, shape (D,).
        momentum: how much of the OLD value to keep (Keras default 0.99).
    Returns:
        (new_moving_mean, new_moving_variance), both of shape (D,).

    Hint: in Keras, momentum weighs the old running value. PyTorch uses the word the other way
    round (its momentum=0.1 weighs the new batch), which is a classic source of confusion.
    """
    # TODO: compute the two new running averages
    raise NotImplementedError("update_moving_statistics: write the update")


def batchnorm_inference(x, gamma, beta, moving_mean, moving_variance, epsilon=1e-3):
    """Batch normalization in INFERENCE mode: the running statistics replace the batch's.

        out = gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta

    Args:
        x:               shape (N, D).
        gamma, beta:     shape (D,).
        moving_mean:     shape (D,), the running average of the batch means.
        moving_variance: shape (D,), the running average of the batch variances.
        epsilon:         as in training.
    Returns:
        out: shape (N, D). Each sample's output depends on that sample only, not on the rest
        of its batch.

    Hint: do not compute anything from x's batch here: that is exactly the "forgot to switch
    to inference mode" bug.
    """
    # TODO: compute out with the moving statistics
    raise NotImplementedError("batchnorm_inference: write the inference-mode forward pass")
