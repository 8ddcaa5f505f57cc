"""Exercise: the sigmoid activation, forward and backward.

Fill in the two function bodies below (replace each `raise NotImplementedError`), then check
your work:

    python -m tinynet.grade lessons/exercises/sigmoid.py

Use NumPy only (no tinynet inside these functions: the grader compares you with it).
"""

import numpy as np  # noqa: F401 (unused until you write the code)


def sigmoid_forward(x):
    """The logistic sigmoid, elementwise.

        y = 1 / (1 + exp(-x))

    Inputs:
        x: array of any shape, e.g. (N, D).
    Returns:
        y: array of the same shape as x, every entry in (0, 1).

    Hint: for very negative x, exp(-x) overflows (exp(1000) is inf in float64). NumPy then
    warns and still gives 0, but a stable version never overflows: for x < 0 use the equal
    form exp(x) / (1 + exp(x)); `np.where` picks a formula per entry, and exp(-|x|) is safe
    for both branches.
    """
    # TODO: compute y from x
    raise NotImplementedError("sigmoid_forward: write the forward pass")


def sigmoid_backward(grad_output, y):
    """The backward pass of the sigmoid: dL/dx from dL/dy.

        dy/dx = y * (1 - y)             (the derivative written with the OUTPUT y)
        dL/dx = dL/dy * dy/dx           (the chain rule, elementwise)

    Inputs:
        grad_output: dL/dy, the gradient of the loss with respect to the output, shape (N, D).
        y:           the output of sigmoid_forward (y = sigmoid(x)), shape (N, D).
    Returns:
        dx: dL/dx, shape (N, D).

    Hint: y is already sigmoid(x): do not apply the sigmoid to it again. And do not forget
    the factor grad_output, which carries everything that happens after this layer.
    """
    # TODO: compute dL/dx from grad_output and y
    raise NotImplementedError("sigmoid_backward: write the backward pass")
