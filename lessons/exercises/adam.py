"""Exercise: one step of the Adam optimizer, Keras 3's exact rule.

Fill in the function body below (replace the `raise NotImplementedError`), then check your
work:

    python -m tinynet.grade lessons/exercises/adam.py

Use NumPy only (no tinynet inside this function: the grader compares you with it).
"""

import numpy as np  # noqa: F401 (unused until you write the code)


def adam_step(param, grad, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999,
              epsilon=1e-7):
    """One Adam update of one parameter array, as Keras 3 computes it.

    At step t = 1, 2, 3, ... (t counts the updates, starting at 1):

        m_new = beta_1 * m + (1 - beta_1) * grad           running mean of the gradient
        v_new = beta_2 * v + (1 - beta_2) * grad^2         running mean of its square
        alpha = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)     bias correction
        param_new = param - alpha * m_new / (sqrt(v_new) + epsilon)

    Inputs:
        param: the parameter, any shape (e.g. a kernel (D_in, D_out) or a bias (D,)).
        grad:  dL/dparam, param's shape.
        m, v:  the running averages from the previous step, param's shape (zeros before
               step 1).
        t:     the number of this step, an int >= 1.
        learning_rate, beta_1, beta_2, epsilon: a float each, Keras's defaults.
    Returns:
        param_new: the updated parameter, param's shape.
        m_new:     the new running average of the gradient, param's shape.
        v_new:     the new running average of its square, param's shape.
        (You may also update the arrays in place, as tinynet does, as long as you return
        them, in this order.)

    Hint: m and v start at zero, so after a few steps they are too small; the bias correction
    (folded into alpha above) undoes that. Keep Keras's order: epsilon is added to sqrt(v_new)
    AFTER the correction has been folded into alpha, not to a corrected sqrt(v_hat)
    (PyTorch's order), and never inside the square root.
    """
    # TODO: compute param_new, m_new and v_new
    raise NotImplementedError("adam_step: write one Adam update")
