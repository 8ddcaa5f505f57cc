"""Gradient checking: compare a hand-written backward pass with finite differences.

For any function f of an array w, the central difference

    df/dw[i] ~ (f(w + h e_i) - f(w - h e_i)) / (2 h)

has an error of order h^2, so in float64 with h = 1e-5 it agrees with a correct analytic
gradient to about 1e-9 relative error. A wrong backward is typically off by 1e-2 or more.

Three things this module takes care of:
  * The loss used to check a layer is L = sum(output * R) with a fixed random R, never
    sum(output). Batch normalization makes every feature of its output sum to N * beta
    whatever the input, so sum(output) does not depend on x (nor on gamma): both gradients
    would be about 0 and a wrong backward would pass. A random R weighs every output entry
    differently, and dL/d(output) = R is a gradient with no special structure.
  * check_layer checks one layer, against a made-up upstream gradient R. check_model
    checks a whole stack: each layer then gets the real gradient its successor's backward
    returns, and the check covers what no single layer's check can, the model's own
    backward loop (layers visited in reverse, each dL/dx handed to the layer before,
    nothing skipped or used twice). With the random R above, a check of BN alone already
    catches a wrong dL/dx (a missing mean or variance path, N - 1 for N: errors of 0.1
    to 1).
  * Random layers (Dropout) must draw the same mask on every forward call, so each random
    generator (tinynet's, and a layer's own when it was given a seed) is rewound before
    each call.

A check leaves the layer or model exactly as it found it: weights (in place, so that a
compiled model's views into its parameter vector stay views), BatchNormalization's moving
statistics (which each training-mode forward pass moves), gradients, whatever forward kept
for backward, and the random generators are saved first and put back at the end.

Everything here runs in float64: build layers with dtype='float64'.
"""

import numbers
from dataclasses import dataclass

import numpy as np

from tinynet.config import get_rng
from tinynet.validation import check_float, check_int, to_float_array, warn_user

ZERO_TOL = 1e-8  # gradients smaller than this everywhere count as zero (see relative_error)


def relative_error(analytic, numeric, zero_tol=ZERO_TOL, floor_fraction=1e-3):
    """max_i |a_i - n_i| / max(|a_i| + |n_i|, floor), the scale-free error of CS231n.

    When every entry of both arrays is below `zero_tol`, both gradients are zero up to the
    round-off of finite differences (e.g. a Dense bias right before BatchNorm) and the error
    is reported as 0.

    floor = max(zero_tol, floor_fraction * the largest |a_i| + |n_i|): an entry a thousand
    times smaller than the array's largest is measured against that thousandth, not against
    itself. Central differences carry an absolute round-off of about 1e-11, which would make a
    correct entry of 1e-8 look 1e-3 wrong (this happens in the article's model, where ReLU
    leaves some kernel gradients tiny). A wrong backward still shows: it is off by far more.
    zero_tol: a number > 0 (an infinite one would call every error 0); floor_fraction: a
    number in [0, 1].
    """
    zero_tol = check_float(zero_tol, "relative_error(zero_tol=...)", low=0.0, low_open=True)
    floor_fraction = check_float(floor_fraction, "relative_error(floor_fraction=...)",
                                 low=0.0, high=1.0)
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
    if mine.shape != reference.shape:  # else NumPy would broadcast them, or fail inside
        raise ValueError(f"gradcheck.compare({name!r}): mine and reference must have the same "
                         f"shape, got {mine.shape} and {reference.shape}")
    diff = np.abs(mine - reference)
    where = np.unravel_index(int(np.argmax(diff)), diff.shape) if diff.size else ()
    error = relative_error(mine, reference)
    return Comparison(name, bool(np.array_equal(mine, reference)), error < tol,
                      float(diff.max()) if diff.size else 0.0,
                      tuple(int(i) for i in where), error)


def numerical_gradient(f, w, h=1e-5):
    """Central-difference gradient of the scalar function f() with respect to array w.

    w: a writable float64 NumPy array, changed in place one entry at a time and restored;
    f reads it and returns one number. h: the step, a number > 0. Returns an array of w's
    shape, float64.
    TypeError for a w that is not a float64 array: w + h in an integer array rounds back to
    w (the gradient would come out 0 or huge), and in float32 the step is lost to round-off;
    a list cannot be changed in place where f reads it. ValueError for a read-only w, for
    h <= 0 (h = 0 would divide by zero) and for an h too small to change w (w + h == w: the
    gradient would come out 0 and blame a correct backward). TypeError when f does not
    return one number.
    """
    if not isinstance(w, np.ndarray) or w.dtype != np.float64:
        what = f"an array of {w.dtype}" if isinstance(w, np.ndarray) else type(w).__name__
        raise TypeError(f"numerical_gradient: w must be a float64 NumPy array (f reads it, "
                        f"and it is moved by h in place), got {what}; pass "
                        f"np.asarray(w, dtype=np.float64) and let f read that array")
    if not w.flags.writeable:
        raise ValueError("numerical_gradient: w is read-only, but it is moved by h in place; "
                         "pass a writable float64 array (np.array(w)) and let f read that array")
    h = check_float(h, "numerical_gradient: h", low=0.0, low_open=True)
    # float64 keeps about 16 digits: an h below w's last digit is lost, w + h == w
    lost = np.isfinite(w) & ((w + h == w) | (w - h == w))
    if np.any(lost):
        raise ValueError(f"numerical_gradient: h={h:g} is too small to change w (w + h == w "
                         f"for values of size {np.max(np.abs(w[lost])):g}), so every "
                         f"difference would be 0; use an h of about 1e-5 times w's size")
    grad = np.zeros_like(w, dtype=np.float64)
    for i in np.ndindex(w.shape):
        old = w[i]
        w[i] = old + h
        f_plus = loss_value(f)
        w[i] = old - h
        f_minus = loss_value(f)
        w[i] = old
        grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def loss_value(f):
    """f(), checked to be one number (the loss), as it came (its own precision)."""
    value = f()
    if isinstance(value, np.ndarray) and value.shape == ():
        return value  # a 0-d array is one number too
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        what = f"an array of shape {value.shape}" if isinstance(value, np.ndarray) else \
            repr(value)[:80]
        raise TypeError(f"numerical_gradient: f() must return the loss, one number, got "
                        f"{what}; sum an array of losses first, e.g. float(np.sum(...))")
    return value


def check_float64(arrays, where):
    for array in arrays:
        if np.asarray(array).dtype != np.float64:
            raise TypeError(f"{where}: gradient checks need float64 (float32 finite differences"
                            f" are too noisy); build with dtype='float64'")


# --------------------------------------------------------------------------- leaving no trace


class Snapshot:
    """What a check may change, saved so that restore() puts it all back.

    For each layer: its weights and state (BN's moving statistics), its gradients, and every
    other attribute (what forward kept for backward); for `owner` (a model), its attributes;
    and the state of every random generator involved.
    """

    def __init__(self, layers, owner=None):
        tables = [table for layer in layers for table in (layer.params, layer.state, layer.grads)]
        self.tables = [(table, dict(table)) for table in tables]
        self.values = [(array, array.copy()) for table in tables for array in table.values()]
        self.attributes = [(thing, dict(vars(thing))) for thing in [*layers, owner] if thing]
        generators = [get_rng()] + [value for layer in layers for value in vars(layer).values()
                                    if isinstance(value, np.random.Generator)]
        self.generators = [(g, g.bit_generator.state) for g in generators]
        self.states = [(array, array.copy()) for layer in layers
                       for array in layer.state.values()]

    def rewind(self):
        """Every generator and every layer's state back to where they were: the next
        forward draws the same dropout masks and reads the same running statistics, so that
        the loss changes only with the number the check moved (a layer that updates a
        running mean in forward would otherwise drift from one evaluation to the next)."""
        for generator, state in self.generators:
            generator.bit_generator.state = state
        for array, value in self.states:
            array[...] = value

    def restore(self):
        for thing, attributes in self.attributes:
            for name in set(vars(thing)) - set(attributes):
                delattr(thing, name)    # an attribute the check created
            vars(thing).update(attributes)
        for table, entries in self.tables:
            table.clear()
            table.update(entries)       # the original arrays, even if one was replaced
        for array, value in self.values:
            array[...] = value          # in place: views stay views
        self.rewind()


# --------------------------------------------------------------------------- the checks


def check_layer(layer, x, training=True, h=1e-5, seed=0, verbose=False):
    """Check a layer's backward against finite differences.

    Returns {'input': error, 'kernel': error, ...}: the relative error of dL/dx and of every
    parameter's gradient, with L = sum(layer.forward(x) * R) for a fixed random R (plus the
    layer's regularization penalty, whose gradient backward adds).
    x: (N, D), or (N, ...) for layers of images; float64 numbers. A layer not built yet is
    built for x's shape (the one change a check makes); anything else it changes while
    checking is put back (see Snapshot).
    """
    # here: the layers need not load with this module
    from tinynet.layers.base import Layer, build_checked, check_initialized

    if not isinstance(layer, Layer):
        raise TypeError(f"check_layer: layer must be a layer object such as "
                        f"Dense(3, dtype='float64'), got {layer!r}")
    check_initialized(layer, "given to check_layer")
    seed = check_int(seed, "check_layer(seed=...)", minimum=0)
    x = to_float_array(x, "check_layer: x", dtype="float64", min_ndim=2).copy()
    if not layer.built:
        build_checked(layer, (None, *x.shape[1:]))
    check_width(layer, x)
    check_float64([*layer.params.values()], "check_layer")
    snapshot = Snapshot([layer])
    try:
        # a layer told to skip dL/dx (needs_input_grad = False, as Sequential.backward does
        # for a model's first layer during a training step) must compute it for the check
        # (restore() puts the flag back)
        layer.needs_input_grad = True
        weights = dict(layer.params)
        R = np.random.default_rng(seed).normal(size=checked_output(layer, x, training).shape)
        check_weights_kept(layer, weights)

        def loss():
            snapshot.rewind()  # the same dropout mask and state on every call
            return float(np.sum(layer.forward(x, training=training) * R)
                         + layer.regularization_loss())

        loss()
        layer.grads.clear()  # a gradient backward forgets to set is missing, not stale
        analytic = {"input": backward_checked(layer, R.copy(), x.shape)}
        check_grads_set(layer)
        analytic.update({key: np.array(layer.grads[key]) for key in layer.params})
        numeric = {"input": numerical_gradient(loss, x, h)}
        for key in layer.params:
            numeric[key] = numerical_gradient(loss, layer.params[key], h)
    finally:
        snapshot.restore()
    errors = report(analytic, numeric, verbose)  # first: it refuses gradients of wrong shape
    warn_if_untested(analytic, numeric, list(analytic), "check_layer")
    warn_if_penalty_gradient_missing(layer, analytic, numeric)
    return errors


def warn_if_penalty_gradient_missing(layer, analytic, numeric):
    """A backward that forgot self.add_regularization_gradients() sets the data's gradient
    alone, while the loss (and the check's) includes the penalty: the weight's error is then
    small but not round-off, easy to read as a pass. Warn when adding the penalty's gradient
    is what makes a gradient right."""
    from tinynet.layers.base import penalty_gradient

    forgotten = [key for key, regularizer in layer.regularizers.items()
                 if layer.trainable and key in analytic
                 and relative_error(analytic[key], numeric[key]) > 1e-4
                 and relative_error(analytic[key] + penalty_gradient(layer, key, regularizer),
                                    numeric[key]) < 1e-6]
    if forgotten:
        warn_user(f"check_layer: {layer.where}.backward left out the gradient of the "
                  f"regularization penalty of {', '.join(map(repr, forgotten))}: with it added "
                  f"the gradient is right. End backward with self.add_regularization_gradients()"
                  f" (the loss counts the penalty, so its gradient must be in grads too)")


def check_grads_set(layer):
    """A clear error for a backward that did not set the gradient of every weight as an
    array (saying what it set instead, if anything), or set one under another name."""
    for key in layer.params:
        grad = layer.grads.get(key)
        if not isinstance(grad, np.ndarray):
            got = "did not set it" if grad is None else f"set it to a {type(grad).__name__}"
            others = sorted(set(layer.grads) - set(layer.params))
            hint = f" (it set grads {others}: a misspelt name?)" if others else ""
            raise RuntimeError(f"check_layer: {layer.where}.backward must set "
                               f"self.grads[{key!r}] at every call to an array of the weight's "
                               f"shape; it {got}{hint}")


def checked_output(layer, x, training):
    """layer.forward(x), refused if its shape is not the one the layer's output_shape
    (compute_output_shape) promises: a model would build the next layer for the wrong
    shape, and backward checks grad_output against it."""
    output = layer.forward(x, training=training)
    promised = tuple(layer.output_shape[1:])
    if not isinstance(output, np.ndarray) or output.shape[1:] != promised:
        got = f"shape {output.shape}" if isinstance(output, np.ndarray) else \
            f"a {type(output).__name__}"
        raise ValueError(f"check_layer: {layer.where}.forward returned {got}, but the layer "
                         f"says its output has samples of shape {promised} (output_shape, "
                         f"from compute_output_shape(input_shape)); a layer that changes the "
                         f"shape defines compute_output_shape(self, input_shape) to return "
                         f"the new one")
    return output


def check_weights_kept(layer, weights):
    """forward must read and write the weights in place: one that put a new array in
    self.params (self.params['w'] = np.clip(...)) would be checked against a weight the
    optimizer never sees."""
    for key, array in weights.items():
        if layer.params.get(key) is not array:
            raise RuntimeError(f"check_layer: {layer.where}.forward replaced params[{key!r}] "
                               f"with a new array, which an optimizer cannot see; write into "
                               f"the weight instead: self.params[{key!r}][...] = new_values")


def backward_checked(layer, grad_output, input_shape):
    """layer.backward(grad_output), with clear errors for writing into a gradient in place
    (check_layer clears them first, as a model does) and for returning something other than
    dL/dx of the shape of x."""
    try:
        grad_input = layer.backward(grad_output)
    except KeyError as error:
        key = error.args[0] if error.args else None
        if key not in layer.params or key in layer.grads:
            raise
        raise TypeError(f"check_layer: {layer.where}.backward read self.grads[{key!r}] before "
                        f"setting it (check_layer, like a model, clears the gradients before "
                        f"each backward, so that a forgotten one is caught): write "
                        f"self.grads[{key!r}] = d{key}, a new array, rather than into the old "
                        f"one") from error
    if not isinstance(grad_input, np.ndarray) or grad_input.shape != input_shape:
        got = f"shape {grad_input.shape}" if isinstance(grad_input, np.ndarray) else \
            f"a {type(grad_input).__name__}"
        raise ValueError(f"check_layer: {layer.where}.backward returned {got}; it must return "
                         f"dL/dx, an array of the shape of x, {input_shape}")
    return grad_input


def check_width(layer, x):
    """A clear error, naming the layer and both shapes, for x of the wrong shape."""
    built = tuple(layer.input_shape[1:])
    if x.shape[1:] == built:
        return
    if len(built) == 1 and x.ndim == 2:   # the usual case: name the two widths
        raise ValueError(f"check_layer: {layer.where} was built for {built[0]} features, got "
                         f"x of shape {x.shape} ({x.shape[1]} features); pass x with "
                         f"{built[0]} columns, or check a new layer")
    raise ValueError(f"check_layer: {layer.where} was built for samples of shape {built}, "
                     f"got x of shape {x.shape}; pass samples of shape {built}, or check a "
                     f"new layer")


def check_loss(loss, y_true, y_pred, h=1e-5, verbose=False):
    """Check loss.gradient(y_true, y_pred) = dL/dy_pred against finite differences.
    Returns the relative error."""
    if not (callable(getattr(loss, "loss", None)) and callable(getattr(loss, "gradient", None))):
        raise TypeError(f"check_loss: loss must be a loss object with .loss and .gradient, "
                        f"such as tinynet.losses.get('mse'), got {loss!r}")
    y_pred = np.array(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true)
    analytic = loss.gradient(y_true, y_pred)
    numeric = numerical_gradient(lambda: loss.loss(y_true, y_pred), y_pred, h)
    return report({"y_pred": analytic}, {"y_pred": numeric}, verbose)["y_pred"]


def check_model(model, x, y, h=1e-5, verbose=False):
    """Check a compiled model's whole backward pass against finite differences of its loss.

    The analytic side is one training step without the update: y_pred =
    model.forward(x, training=True), then model.backward(model.loss.gradient(y, y_pred)),
    then each trainable layer's grads. The numeric side perturbs every trainable weight in
    place and measures model.loss.loss (plus the regularization penalties). The model is left
    exactly as it was found (see Snapshot).

    Returns {'input': error, 'dense/kernel': error, ...}, one entry per trainable weight. (A
    weight whose gradient is truly 0, such as a Dense bias right before BatchNormalization,
    reports 0; only a zero dL/dx, where the loss ignores the input, gets a warning.)
    """
    from tinynet.models import Sequential  # here: models import much of tinynet

    if not isinstance(model, Sequential):
        raise TypeError(f"check_model: model must be a compiled Sequential model, got "
                        f"{model!r}")
    model.check_compiled("check_model")
    x, y, _ = model.check_xy(x, y, "check_model")
    x = x.copy()   # perturbed in place below: never the caller's array
    check_float64(model.trainable_weights, "check_model")
    trainable = [layer for layer in model.layers if layer.trainable]
    # a layer frozen or unfrozen since the last step: rebind now (forward would), so that the
    # snapshot below is taken of the layout the optimizer's state already follows
    model.sync_parameters()
    snapshot = Snapshot(model.layers, owner=model)
    try:
        def loss():
            snapshot.rewind()  # the same dropout masks and state on every call
            y_pred = model.forward(x, training=True)
            return float(model.loss.loss(y, y_pred)) + model.regularization_loss()

        snapshot.rewind()
        y_pred = model.forward(x, training=True)
        analytic = {"input": model.backward(model.loss.gradient(y, y_pred))}
        weights = {f"{layer.name}/{key}": (layer, key) for layer in trainable
                   for key in layer.params}
        for name, (layer, key) in weights.items():
            analytic[name] = np.array(layer.grads[key])  # read after backward, fresh
        numeric = {"input": numerical_gradient(loss, x, h)}
        for name, (layer, key) in weights.items():
            numeric[name] = numerical_gradient(loss, layer.params[key], h)
    finally:
        snapshot.restore()
    errors = report(analytic, numeric, verbose)  # first: it refuses gradients of wrong shape
    warn_if_untested(analytic, numeric, ["input"], "check_model")
    return errors


def warn_if_untested(analytic, numeric, names, where):
    """Warn about gradients that are zero both ways: relative_error calls them equal (error
    0), but such a check tested nothing, the loss does not depend on them at this input."""
    zero = [name for name in names
            if np.max(np.abs(np.asarray(analytic[name], dtype=np.float64))
                      + np.abs(numeric[name]), initial=0) < ZERO_TOL]
    if zero:
        warn_user(f"{where}: the gradients of {', '.join(map(repr, zero))} are all 0, both "
                  f"from backward and from finite differences, so their error of 0 tests "
                  f"nothing: the loss does not depend on them for this x (as with "
                  f"BatchNormalization on a batch of one sample, LayerNormalization over one "
                  f"feature, or a ReLU that is off for every sample); check with a larger "
                  f"batch or other inputs")


def report(analytic, numeric, verbose):
    results = {}
    for name in analytic:
        comparison = compare(name, analytic[name], numeric[name])
        results[name] = comparison.rel_error
        if verbose:
            print(comparison)
    return results
