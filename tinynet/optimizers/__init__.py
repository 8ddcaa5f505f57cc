"""Optimizers: turn gradients into weight updates.

An optimizer sees arrays, not layers: `apply(params, grads)` takes two lists of arrays of the
same shapes and updates each params[i] IN PLACE. Its per-parameter state (Adam's m and v, SGD's
velocity) is created on the first call and matched by position, so always pass the lists in
the same order.
"""

import math

import numpy as np

from tinynet.validation import check_bool, check_float, unknown_name_error


class Optimizer:
    def __init__(self, learning_rate):
        self.learning_rate = check_float(learning_rate, f"{type(self).__name__}"
                                         f"(learning_rate=...)", low=0.0, low_open=True)
        self.iterations = 0  # number of updates applied so far
        self.slots = None

    def apply(self, params, grads):
        """One update of every params[i] from grads[i]."""
        if self.slots is None:
            self.slots = [self.create_slots(p) for p in params]
        elif len(self.slots) != len(params):
            raise ValueError(f"{type(self).__name__}.apply: got {len(params)} parameters, but "
                             f"this optimizer was first used with {len(self.slots)}; use a new "
                             f"optimizer for a new model")
        self.iterations += 1
        for param, grad, slots in zip(params, grads, self.slots, strict=True):
            self.update(param, grad, slots)

    def create_slots(self, param):
        return {}

    def update(self, param, grad, slots):
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(learning_rate={self.learning_rate})"


class SGD(Optimizer):
    """SGD(learning_rate=0.01, momentum=0.0, nesterov=False), as in Keras:

        velocity = momentum * velocity - learning_rate * g
        param   += velocity                                      (plain momentum)
        param   += momentum * velocity - learning_rate * g       (nesterov)

    With momentum 0 this is param -= learning_rate * g.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False):
        super().__init__(learning_rate)
        self.momentum = check_float(momentum, "SGD(momentum=...)", 0.0, 1.0)
        self.nesterov = check_bool(nesterov, "SGD(nesterov=...)")

    def create_slots(self, param):
        return {"velocity": np.zeros_like(param)} if self.momentum > 0 else {}

    def update(self, param, grad, slots):
        lr = param.dtype.type(self.learning_rate)
        if self.momentum == 0:
            param -= lr * grad
            return
        velocity = slots["velocity"]
        velocity *= param.dtype.type(self.momentum)
        velocity -= lr * grad
        if self.nesterov:
            param += self.momentum * velocity - lr * grad
        else:
            param += velocity


class Adam(Optimizer):
    """Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7), Keras 3's rule.

    At step t = 1, 2, ... for every parameter with gradient g:

        m     += (1 - beta_1) * (g - m)          running mean of g    (m starts at 0)
        v     += (1 - beta_2) * (g*g - v)        running mean of g^2  (v starts at 0)
        alpha  = learning_rate * sqrt(1 - beta_2^t) / (1 - beta_1^t)   bias correction
        param -= alpha * m / (sqrt(v) + epsilon)

    m and v start at zero, so early on they underestimate; the bias correction in alpha undoes
    that. Epsilon is added to sqrt(v) after the correction is folded into alpha (Keras's order;
    PyTorch adds it to the corrected sqrt(v) and defaults to 1e-8).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
        super().__init__(learning_rate)
        self.beta_1 = check_float(beta_1, "Adam(beta_1=...)", 0.0, 1.0, high_open=True)
        self.beta_2 = check_float(beta_2, "Adam(beta_2=...)", 0.0, 1.0, high_open=True)
        self.epsilon = check_float(epsilon, "Adam(epsilon=...)", low=0.0)

    def create_slots(self, param):
        # scratch holds the intermediate results of one update (see update)
        return {"m": np.zeros_like(param), "v": np.zeros_like(param),
                "scratch": np.empty_like(param)}

    def apply(self, params, grads):
        # alpha depends only on the step t, so it is computed once per step, not per array
        t = self.iterations + 1
        self.alpha = self.learning_rate * math.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        super().apply(params, grads)

    def update(self, param, grad, slots):
        # The docstring's three lines, each computed in the array `scratch`, so that a step
        # allocates nothing: for a large kernel, fresh arrays cost more than the arithmetic.
        # alpha, beta_1, beta_2, epsilon are Python floats: float32 arrays stay float32.
        m, v, scratch = slots["m"], slots["v"], slots["scratch"]
        np.subtract(grad, m, out=scratch)        # m += (1 - beta_1) * (g - m)
        scratch *= 1 - self.beta_1
        m += scratch
        np.multiply(grad, grad, out=scratch)     # v += (1 - beta_2) * (g*g - v)
        scratch -= v
        scratch *= 1 - self.beta_2
        v += scratch
        np.sqrt(v, out=scratch)                  # param -= alpha * m / (sqrt(v) + epsilon)
        scratch += self.epsilon
        np.divide(m, scratch, out=scratch)
        scratch *= self.alpha
        param -= scratch


OPTIMIZERS = {"adam": Adam, "sgd": SGD}


def get(identifier):
    """An Optimizer from 'adam' / 'sgd' (default settings), a class or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, str):
        key = identifier.lower()
        if key not in OPTIMIZERS:
            raise unknown_name_error("optimizer", identifier, OPTIMIZERS)
        return OPTIMIZERS[key]()
    raise TypeError(f"optimizer must be 'adam', 'sgd' or an Optimizer, got {identifier!r}")
