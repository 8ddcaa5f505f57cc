"""The floor: the same network trained by a bare, hand-written NumPy loop (no framework).

This is what tinynet is measured against. It does exactly the math tinynet does, written the
way a careful person writes it by hand for one fixed network, with nothing general around it:

    forward    z = x @ W (+ b);  BN with batch statistics:
                   mu = mean(z), centered = z - mu, var = mean(centered^2)   (biased)
                   x_hat = centered / sqrt(var + eps),  y = gamma * x_hat + beta
               and moving_stat = momentum * moving_stat + (1 - momentum) * batch_stat;
               then the hidden activation (relu or sigmoid)
    output     sigmoid (binary cross-entropy) or softmax (sparse categorical cross-entropy),
               probabilities clipped to [1e-7, 1 - 1e-7] in the loss, as in Keras
    backward   fused output gradient dL/dz = (p - y) / N; BN in closed form
                   dx = gamma / (N * sqrt(var + eps)) * (N * g - dbeta - x_hat * dgamma);
               no gradient with respect to the data itself
    update     Adam, Keras 3's rule (m, v, bias correction folded into the step size), each
               line written as its formula reads: m += c1 * (g - m) and so on, in place for
               m, v and the weights, with NumPy's temporaries for the right-hand sides
    reported   the batch loss and accuracy, measured before the update (as fit reports them)

The weights come from a tinynet model (`from_model`), so both start from the same numbers and
the benchmark can check that they compute the same losses before timing anything.
"""

import numpy as np

from tinynet.layers import Activation, BatchNormalization, Dense

EPSILON = 1e-7  # Keras's clipping constant for probabilities


def stable_sigmoid(z):
    """1 / (1 + exp(-z)) without overflow, the same formula as tinynet's."""
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1, e) / (1 + e)


def stable_softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def bn_forward(z, gamma, beta, moving_mean, moving_var, momentum, eps):
    """Training-mode BN of z (N, D); updates the moving statistics in place.
    Returns y and what backward needs: x_hat (N, D) and inv_std (D,)."""
    mu = z.mean(axis=0)
    centered = z - mu
    var = (centered * centered).mean(axis=0)
    inv_std = 1 / np.sqrt(var + eps)
    x_hat = centered * inv_std
    moving_mean *= momentum
    moving_mean += (1 - momentum) * mu
    moving_var *= momentum
    moving_var += (1 - momentum) * var
    return gamma * x_hat + beta, x_hat, inv_std


def bn_backward(g, x_hat, inv_std, gamma):
    """dL/dz, dL/dgamma, dL/dbeta from g = dL/dy (closed form)."""
    n = g.shape[0]
    dbeta = g.sum(axis=0)
    dgamma = (g * x_hat).sum(axis=0)
    dz = (gamma * inv_std / n) * (n * g - dbeta - x_hat * dgamma)
    return dz, dgamma, dbeta


class FloorMLP:
    """Hidden blocks Dense -> BN -> activation, then a Dense output with sigmoid or softmax.

    hidden: list of dicts with W (D_in, D), b (D,) or None, gamma, beta, moving_mean,
    moving_var (D,), and act ('relu' or 'sigmoid'). Wout, bout, out_act ('sigmoid'/'softmax').
    """

    def __init__(self, hidden, Wout, bout, out_act, momentum=0.99, eps=1e-3,
                 learning_rate=0.001, beta_1=0.9, beta_2=0.999, adam_eps=1e-7):
        self.hidden = hidden
        self.Wout, self.bout, self.out_act = Wout, bout, out_act
        self.momentum, self.eps = momentum, eps
        self.lr, self.beta_1, self.beta_2, self.adam_eps = learning_rate, beta_1, beta_2, adam_eps
        self.t = 0
        # the trainable arrays and their gradients, in one fixed order
        self.params = []
        for h in hidden:
            self.params += [h["W"]] + ([h["b"]] if h["b"] is not None else [])
            self.params += [h["gamma"], h["beta"]]
        self.params += [Wout, bout]
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]

    @classmethod
    def from_model(cls, model):
        """Copy the weights of a tinynet Sequential made of Dense/BN/Activation blocks."""
        hidden, layers = [], model.layers
        for i in range(0, len(layers) - 1, 3):
            dense, bn, act = layers[i:i + 3]
            assert isinstance(dense, Dense) and isinstance(bn, BatchNormalization)
            assert isinstance(act, Activation)
            hidden.append({
                "W": dense.params["kernel"].copy(),
                "b": dense.params["bias"].copy() if dense.use_bias else None,
                "gamma": bn.params["gamma"].copy(), "beta": bn.params["beta"].copy(),
                "moving_mean": bn.state["moving_mean"].copy(),
                "moving_var": bn.state["moving_variance"].copy(),
                "act": act.activation.__name__,
            })
        out = layers[-1]
        return cls(hidden, out.params["kernel"].copy(), out.params["bias"].copy(),
                   out.activation.__name__, momentum=layers[1].momentum,
                   eps=layers[1].epsilon)

    def weights(self):
        """Keras's get_weights() order, to compare with the tinynet model."""
        out = []
        for h in self.hidden:
            out += [h["W"]] + ([h["b"]] if h["b"] is not None else [])
            out += [h["gamma"], h["beta"], h["moving_mean"], h["moving_var"]]
        return out + [self.Wout, self.bout]

    def train_step(self, x, y):
        """One step on a batch; y is (N, 1) of 0/1 for sigmoid, (N,) int labels for softmax.
        Returns (loss, accuracy) measured before the update."""
        n = x.shape[0]
        m, eps = self.momentum, self.eps
        # forward, keeping what backward needs
        inputs, caches = [], []
        a = x
        for h in self.hidden:
            inputs.append(a)
            z = a @ h["W"]
            if h["b"] is not None:
                z += h["b"]
            u, x_hat, inv_std = bn_forward(z, h["gamma"], h["beta"], h["moving_mean"],
                                           h["moving_var"], m, eps)
            a = np.maximum(u, 0) if h["act"] == "relu" else stable_sigmoid(u)
            caches.append((x_hat, inv_std, a))
        logits = a @ self.Wout + self.bout
        # loss, accuracy and the fused gradient dL/dlogits
        if self.out_act == "sigmoid":
            p = stable_sigmoid(logits)
            pc = np.clip(p, EPSILON, 1 - EPSILON)
            loss = float(np.mean(-(y * np.log(pc) + (1 - y) * np.log(1 - pc))))
            accuracy = float(np.mean((p > 0.5) == (y > 0.5)))
            grad = (p - y) / p.size
        else:
            p = stable_softmax(logits)
            rows = np.arange(n)
            loss = float(-np.mean(np.log(np.clip(p[rows, y], EPSILON, 1 - EPSILON))))
            accuracy = float(np.mean(p.argmax(axis=1) == y))
            grad = p.copy()
            grad[rows, y] -= 1
            grad /= n
        # backward
        grads = []
        grads_out = [a.T @ grad, grad.sum(axis=0)]
        g = grad @ self.Wout.T
        for i in range(len(self.hidden) - 1, -1, -1):
            h = self.hidden[i]
            x_hat, inv_std, a = caches[i]
            g = g * (a > 0) if h["act"] == "relu" else g * a * (1 - a)
            gz, dgamma, dbeta = bn_backward(g, x_hat, inv_std, h["gamma"])
            block = [inputs[i].T @ gz] + ([gz.sum(axis=0)] if h["b"] is not None else [])
            grads = block + [dgamma, dbeta] + grads
            if i > 0:
                g = gz @ h["W"].T
        self.adam(grads + grads_out)
        return loss, accuracy

    def adam(self, grads):
        self.t += 1
        t = self.t
        alpha = self.lr * np.sqrt(1 - self.beta_2 ** t) / (1 - self.beta_1 ** t)
        dtype = self.params[0].dtype.type
        c1, c2 = dtype(1 - self.beta_1), dtype(1 - self.beta_2)
        alpha, eps = dtype(alpha), dtype(self.adam_eps)
        for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
            m += c1 * (g - m)
            v += c2 * (g * g - v)
            p -= alpha * m / (np.sqrt(v) + eps)

    def fit(self, x, y, batch_size, rng):
        """One epoch over (x, y) in shuffled batches, as fit(epochs=1) does; returns the
        batch-size-weighted mean loss."""
        n = len(x)
        order = rng.permutation(n)
        total = 0.0
        for start in range(0, n, batch_size):
            index = order[start:start + batch_size]
            loss, _ = self.train_step(x[index], y[index])
            total += loss * len(index)
        return total / n
