"""Exercise: batch normalization's forward pass, in training and in inference mode.

Fill in the three function bodies below (replace each `raise NotImplementedError`), then
check your work:

    python -m tinynet.grade lessons/exercises/batchnorm_forward.py

The two forward passes have the signatures of tinynet's own, in tinynet/layers/batchnorm.py:
each returns its output y and a cache, the values it keeps for the backward pass. So once
you pass, you can lay your functions beside the layer's, line by line.

Use NumPy only (no tinynet inside these functions: the grader compares you with it). The
formulas are Keras 3's (and tinynet's).
"""

import numpy as np  # noqa: F401 (unused until you write the code)


def batchnorm_train(x, gamma, beta, epsilon=1e-3):
    """Batch normalization in TRAINING mode: each feature normalized over the batch.

        mu      = mean of x over the batch                        (D,)
        var     = mean of (x - mu)^2 over the batch               (D,)  biased: divide by N
        inv_std = 1 / sqrt(var + epsilon)                         (D,)
        x_hat   = (x - mu) * inv_std                              (N, D)
        y       = gamma * x_hat + beta                            (N, D)

    Inputs:
        x:       a batch of N samples with D features, shape (N, D).
        gamma:   learned scale, shape (D,).
        beta:    learned shift, shape (D,).
        epsilon: a float, a small constant that keeps the division safe when var is 0.
    Returns:
        y:     shape (N, D).
        cache: what this forward pass keeps for later. You choose what goes in, but it must
               hold this batch's mu and var, shape (D,): a layer feeds them to its moving
               averages (update_moving_statistics, below). tinynet's layer keeps

                   x_hat, inv_std, gamma, mu, var

               x_hat and inv_std are all that the backward pass needs from x (x - mu is
               x_hat / inv_std), and gamma scales its gradient; beta is not needed at all.
               A plain tuple works. A named tuple (typing.NamedTuple, as the layer's
               BatchNormCache) reads better: cache.var instead of cache[4]. The grader
               finds mu and var by those names, or else by their values among the tuple's
               entries.

    Hint: the batch is axis 0, so every statistic here reduces over axis=0 and has one value
    per feature. The variance is the BIASED one (divide by N, np.var's default), as in the
    paper's Algorithm 1 and in Keras: not N - 1. Epsilon goes INSIDE the square root.
    """
    # TODO: compute y, and return it with your cache
    raise NotImplementedError("batchnorm_train: write the training-mode forward pass")


def update_moving_statistics(moving_mean, moving_variance, mu, var, momentum=0.99):
    """The running averages a BN layer keeps for inference, Keras's convention.

        new_moving_mean     = momentum * moving_mean     + (1 - momentum) * mu
        new_moving_variance = momentum * moving_variance + (1 - momentum) * var

    Inputs:
        moving_mean, moving_variance: the current running averages, shape (D,).
        mu, var:  this batch's statistics, from batchnorm_train's cache, shape (D,).
        momentum: a float, how much of the OLD value to keep (Keras default 0.99).
    Returns:
        new_moving_mean:     shape (D,).
        new_moving_variance: shape (D,).

    Hint: in Keras, momentum weighs the old running value. PyTorch uses the word the other way
    round (its momentum=0.1 weighs the new batch), which is a classic source of confusion.
    """
    # TODO: compute the two new running averages
    raise NotImplementedError("update_moving_statistics: write the update")


def batchnorm_inference(x, gamma, beta, moving_mean, moving_variance, epsilon=1e-3):
    """Batch normalization in INFERENCE mode: the running statistics replace the batch's.

        inv_std = 1 / sqrt(moving_variance + epsilon)             (D,)
        x_hat   = (x - moving_mean) * inv_std                     (N, D)
        y       = gamma * x_hat + beta                            (N, D)

    Inputs:
        x:               shape (N, D).
        gamma, beta:     shape (D,).
        moving_mean:     shape (D,), the running average of the batch means.
        moving_variance: shape (D,), the running average of the batch variances.
        epsilon:         a float, as in training.
    Returns:
        y:     shape (N, D). Each sample's output depends on that sample only, not on the
               rest of its batch.
        cache: what a backward pass in inference mode would need (a frozen BN layer
               still passes gradients down to the layers below it): tinynet keeps x_hat,
               of shape (N, D), and inv_std and gamma, of shape (D,). The grader checks y
               only.

    Hint: do not compute anything from x's batch here: that is exactly the "forgot to switch
    to inference mode" bug.
    """
    # TODO: compute y with the moving statistics, and return it with your cache
    raise NotImplementedError("batchnorm_inference: write the inference-mode forward pass")
