"""Gradient checking: compare a hand-written backward pass with finite differences.

For any function f of an array w, the central difference

    df/dw[i] ~ (f(w + h e_i) - f(w - h e_i)) / (2 h)

has an error of order h^2, so in float64 with h = 1e-5 it agrees with a correct analytic
gradient to about 1e-9 relative error. A wrong backward is typically off by 1e-2 or more.

Two traps this module avoids (see SEMANTICS.md):
  * The loss used to check a layer is sum(output * R) with a fixed random R, never
    sum(output): the sum of a batch-normalized output is constant, so its gradient is 0 and
    a wrong backward would pass.
  * Random layers (Dropout) must draw the same mask on every forward call, so the random
    generator's state is restored before each call.

Everything here runs in float64: build layers with dtype='float64'.
"""

from dataclasses import dataclass

import numpy as np

from tinynet.config import get_rng


def relative_error(analytic, numeric, zero_tol=1e-8, floor_fraction=1e-3):
    """max_i |a_i - n_i| / max(|a_i| + |n_i|, floor), the scale-free error of CS231n.

    When every entry of both arrays is below `zero_tol`, both gradients are zero up to the
    round-off of finite differences (e.g. a Dense bias right before BatchNorm) and the error
    is reported as 0.

    floor = max(zero_tol, floor_fraction * the largest |a_i| + |n_i|): an entry a thousand
    times smaller than the array's largest is measured against that thousandth, not against
    itself. Central differences carry an absolute round-off of about 1e-11, which would make a
    correct entry of 1e-8 look 1e-3 wrong (this happens in the article's model, where ReLU
    leaves some kernel gradients tiny). A wrong backward still shows: it is off by far more.
    """
    a = np.asarray(analytic, dtype=np.float64)
    n = np.asarray(numeric, dtype=np.float64)
    if a.shape != n.shape:
        raise ValueError(f"relative_error: shapes differ, {a.shape} vs {n.shape}")
    scale = np.abs(a) + np.abs(n)
    if a.size == 0 or np.max(scale) < zero_tol:
        return 0.0
    floor = max(zero_tol, floor_fraction * float(np.max(scale)))
    return float(np.max(np.abs(a - n) / np.maximum(scale, floor)))


@dataclass
class Comparison:
    """The result of comparing one gradient (or any array) with a reference."""

    name: str
    exact: bool
    approx: bool
    max_diff: float
    where: tuple
    rel_error: float

    def __str__(self):
        return (f"{self.name:<24} | exact: {str(self.exact):<5} | approx: "
                f"{str(self.approx):<5} | maxdiff: {self.max_diff:.1e} at {self.where} | "
                f"rel error: {self.rel_error:.1e}")


def compare(name, mine, reference, tol=1e-6):
    """Compare `mine` with `reference`: one line in the style of makemore's backprop ninja."""
    mine = np.asarray(mine, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    diff = np.abs(mine - reference)
    where = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
    error = relative_error(mine, reference)
    return Comparison(name, bool(np.array_equal(mine, reference)), error < tol,
                      float(diff.max()) if diff.size else 0.0,
                      tuple(int(i) for i in where), error)


def numerical_gradient(f, w, h=1e-5):
    """Central-difference gradient of the scalar function f() with respect to array w.

    w is changed in place, one entry at a time, and restored; f reads it.
    """
    grad = np.zeros_like(w, dtype=np.float64)
    for i in np.ndindex(w.shape):
        old = w[i]
        w[i] = old + h
        f_plus = f()
        w[i] = old - h
        f_minus = f()
        w[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def check_float64(arrays, where):
    for array in arrays:
        if np.asarray(array).dtype != np.float64:
            raise TypeError(f"{where}: gradient checks need float64 (float32 finite differences"
                            f" are too noisy); build with dtype='float64'")


def check_layer(layer, x, training=True, h=1e-5, seed=0, verbose=False):
    """Check a layer's backward against finite differences.

    Returns {'input': error, 'kernel': error, ...}: the relative error of dL/dx and of every
    parameter's gradient, with L = sum(layer.forward(x) * R) for a fixed random R.
    x: (N, D) float64.
    """
    x = np.array(x, dtype=np.float64)
    if not layer.built:
        layer.build((None, *x.shape[1:]))
    check_float64([*layer.params.values()], "check_layer")
    rng_state = get_rng().bit_generator.state

    def loss():
        get_rng().bit_generator.state = rng_state  # same dropout mask on every call
        return float(np.sum(layer.forward(x, training=training) * R))

    out = layer.forward(x, training=training)
    R = np.random.default_rng(seed).normal(size=out.shape)
    loss()
    analytic = {"input": layer.backward(R.copy())}
    analytic.update({key: grad.copy() for key, grad in layer.grads.items()})
    numeric = {"input": numerical_gradient(loss, x, h)}
    for key, value in layer.params.items():
        numeric[key] = numerical_gradient(loss, value, h)
    get_rng().bit_generator.state = rng_state
    return report(analytic, numeric, verbose)


def check_loss(loss, y_true, y_pred, h=1e-5, verbose=False):
    """Check loss.gradient(y_true, y_pred) = dL/dy_pred against finite differences.
    Returns the relative error."""
    y_pred = np.array(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true)
    analytic = loss.gradient(y_true, y_pred)
    numeric = numerical_gradient(lambda: loss.loss(y_true, y_pred), y_pred, h)
    return report({"y_pred": analytic}, {"y_pred": numeric}, verbose)["y_pred"]


def check_model(model, x, y, h=1e-5, verbose=False):
    """Check a compiled model's full backward pass (training mode, the model's own loss,
    fused output gradient included) against finite differences of the loss.

    Returns {'dense/kernel': error, ..., 'input': error}.
    """
    x = np.array(x, dtype=np.float64)
    y = np.asarray(y)
    model.check_compiled("check_model")
    check_float64(model.trainable_params, "check_model")

    def loss():
        return model.loss.loss(y, model.forward(x, training=True))

    y_pred = model.forward(x, training=True)
    grad_input = model.backward_from_loss(y, y_pred)
    analytic = {"input": grad_input}
    numeric = {"input": numerical_gradient(loss, x, h)}
    for layer in model.layers:
        for key in layer.params:
            name = f"{layer.name}/{key}"
            analytic[name] = layer.grads[key].copy()
            numeric[name] = numerical_gradient(loss, layer.params[key], h)
    return report(analytic, numeric, verbose)


def report(analytic, numeric, verbose):
    results = {}
    for name in analytic:
        comparison = compare(name, analytic[name], numeric[name])
        results[name] = comparison.rel_error
        if verbose:
            print(comparison)
    return results
