"""Exercise: the fully connected (Dense) layer, forward and backward.

Fill in the two function bodies below (replace each `raise NotImplementedError`), then check
your work:

    python -m tinynet.grade lessons/exercises/dense.py

Use NumPy only (no tinynet inside these functions: the grader compares you with it).
"""

import numpy as np  # noqa: F401 (unused until you write the code)


def dense_forward(x, kernel, bias):
    """The affine map of a Dense layer (no activation).

        z = x @ kernel + bias

    Inputs:
        x:      inputs, one row per sample, shape (N, D_in).
        kernel: weights, shape (D_in, D_out) (Keras's layout: inputs along the rows).
        bias:   shape (D_out,), added to every sample.
    Returns:
        z: shape (N, D_out).

    Hint: NumPy broadcasting adds a (D_out,) vector to every row of an (N, D_out) array.
    """
    # TODO: compute z
    raise NotImplementedError("dense_forward: write the forward pass")


def dense_backward(grad_output, x, kernel):
    """The backward pass of z = x @ kernel + bias.

    Written one entry at a time (n: sample, i: input feature, k: output unit), the forward
    pass is z[n, k] = sum_i x[n, i] * kernel[i, k] + bias[k], so with g = dL/dz:

        dL/dkernel[i, k] = sum_n x[n, i] * g[n, k]
        dL/dbias[k]      = sum_n g[n, k]
        dL/dx[n, i]      = sum_k g[n, k] * kernel[i, k]

    Your job: the same three results without Python loops (each one is a single NumPy
    expression).

    Inputs:
        grad_output: g = dL/dz, shape (N, D_out). It already holds the loss's 1/N (the loss
                     is a mean over the batch), so do not divide by N again.
        x:           the layer's input from the forward pass, shape (N, D_in).
        kernel:      shape (D_in, D_out).
    Returns:
        dx:      dL/dx, shape (N, D_in).
        dkernel: dL/dkernel, shape (D_in, D_out).
        dbias:   dL/dbias, shape (D_out,).

    Hint: let the shapes guide you. A gradient has the shape of the thing it is the gradient
    of, so dkernel is (D_in, D_out): which matrix product of x (N, D_in) and grad_output
    (N, D_out) has that shape? The bias is added to every sample, so its gradient collects
    the contributions of all N samples.
    """
    # TODO: compute dx, dkernel and dbias
    raise NotImplementedError("dense_backward: write the backward pass")
