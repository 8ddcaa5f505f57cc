"""The exercise grader: checks a student's functions and says precisely what is wrong.

    python -m tinynet.grade lessons/exercises/batchnorm_backward.py      (or: tinynet-grade ...)

A file must define every function of its exercise (sigmoid.py: sigmoid_forward and
sigmoid_backward; see EXERCISE_FILES), known by the file's name or by any of those functions
it defines. One that is missing is reported as MISS, with a did-you-mean when the file
defines a similar name (`sigmoid_foward`). For every function the file defines, the grader:

  1. checks that it takes the exercise's parameters (as many positional ones, and none named
     as one of the exercise's in another's place; see check_signature); if not, it says what
     the function takes and what the exercise asks for, and whether that was the exercise's
     old signature (the BN exercises now have the signatures of tinynet's own functions; see
     OldSignature);
  2. calls it on random float64 inputs of several shapes (seeded: the same inputs every run),
     including a square one (N = D) where a transposed or wrong-axis answer has the right
     shape and must be caught by its values;
  3. compares every output with tinynet's own layers and functions (not a second copy of the
     solution; Adam with the three Keras formulas of keras_adam_step, which the tests check
     against tinynet's Adam), and the gradients of the backward passes also with finite
     differences of tinynet's forward pass;
  4. prints PASS with each output's largest relative error (or "exact match", or "both
     zero" when every entry of both arrays is below 1e-8), or FAIL with
     the first wrong output in the order the function returns them, its first wrong value
     (its index, expected vs got, the relative error), the other outputs that are wrong too,
     and a hint. The hint comes from trying the usual mistakes: the grader computes each
     known-wrong answer (unbiased variance, a missing 1/N, a bias gradient not summed over
     the batch, the mean over the wrong axis, no bias correction in Adam, epsilon on the
     wrong side of a square root, ...) and names the one the student's output equals, in
     every check where it is computed (the checks after the failing one are run for that:
     see reproduced); when the first wrong output matches none, the hint of another wrong
     output it may be built on follows (a param_new computed from a wrong v_new). A value
     that equals another output's is named as returned in the wrong order; an inf or a nan
     is explained by the warning NumPy raised (a division by zero, exp overflowing), with
     its line. A function that writes into an argument it does not own (x -= mu) passes,
     with a note. What the student's code prints is counted, not shown (LineCounter).

A BN forward pass returns (y, cache), and what the cache holds is the student's choice: of
batchnorm_train's the grader checks only the batch's mu and var (read_from_cache), and it
grades batchnorm_backward on the cache of the file's own batchnorm_train (NEEDS), which
batchnorm_backward.py gives complete.

The student's file runs inside the grader's process: that keeps grading quick (NumPy is
imported once, not once per function) and lets a failure point at the line of the student's
file. Whatever that code does is caught and reported as a failure: an exception or a syntax
error, sys.exit() (at import or in a function), and an endless loop, stopped by a time limit
on the import and on each call (--time-limit, default TIME_LIMIT seconds; see time_limit).

Exit code: 0 only when every function the file should define is there and passes; 1
otherwise (a function still raising NotImplementedError is "not done yet").

To add an exercise: write a `<name>_checks(rng)` function returning a list of Checks (the
inputs, tinynet's expected outputs, the known mistakes), add it to EXERCISES, and its file
to EXERCISE_FILES.
"""

import _thread
import argparse
import ast
import contextlib
import dataclasses
import difflib
import importlib.util
import inspect
import io
import linecache
import os
import re
import signal
import sys
import textwrap
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np

from tinynet.gradcheck import numerical_gradient, relative_error
from tinynet.layers import batchnorm as bn
from tinynet.layers.activation import Activation
from tinynet.layers.dense import Dense
from tinynet.layers.layernorm import LayerNormalization

RTOL = 1e-6        # against tinynet: both are exact formulas in float64
RTOL_FD = 1e-5     # against finite differences (h = 1e-5 leaves about 1e-9 of noise)
EXERCISE_FOLDER = os.path.join("lessons", "exercises")


# -- what a check is -------------------------------------------------------------------------------

@dataclass
class Mistake:
    """A known-wrong answer for one output, and the hint that explains it."""

    output: str
    value: np.ndarray
    hint: str
    key: int = None    # its place in the list of known_mistakes: the same mistake in every
                       # check of an exercise (its hint may differ, e.g. by the N it names)


def known_mistakes(*mistakes):
    """[Mistake, ...] from (output, function computing the wrong answer, hint) triples.

    Each wrong answer is computed right away; one that cannot even be computed with these
    shapes (a broadcasting error, a division by zero) cannot be the student's, and is left out.
    A hint is only given when its mistake gives the student's output in every check where
    it can be computed (see reproduced), not only in the check that failed.
    """
    result = []
    for key, (output, compute, hint) in enumerate(mistakes):
        try:
            with np.errstate(divide="raise", invalid="raise", over="ignore"):
                value = np.asarray(compute(), dtype=np.float64)
        except (ValueError, FloatingPointError, IndexError, ZeroDivisionError):
            continue
        result.append(Mistake(output, value, hint, key))
    return result


@dataclass
class Check:
    """One call of the student's function: its inputs, and what each output must be."""

    label: str             # how the inputs are described to the student: "x of shape (4, 3)"
    args: dict             # argument name -> value, in the function's parameter order
    expected: dict         # output name -> array: what the function returns (in that order),
                           # or what the cache it returns must hold (mu and var)
    order: tuple = ()      # the order in which outputs are checked (simplest first)
    mistakes: list = field(default_factory=list)
    reference: str = "tinynet"          # or "finite differences"
    n: int = None          # the batch size N, when there is one (for the hints)


@dataclass
class ForwardCache:
    """An argument made just before the call: the cache that the file's own forward pass
    (see NEEDS) returns for the inputs of `forward`, a check of that pass's y. A backward
    pass is graded on the cache its own forward pass writes, whatever the student put in."""

    forward: Check


@dataclass
class OldSignature:
    """The signature an exercise had before it took tinynet's own, recognized so that a
    student who started from the old exercise file is told what changed."""

    text: str              # "batchnorm_forward(x, gamma, beta, epsilon=1e-3) -> (out, mu, var)"
    arguments: int         # how many positional arguments it took
    results: int           # how many values it returned (1: one array, not a tuple)
    change: str            # what to do now, for the hint; {file.py} stands for the path of
                           # that exercise file (see exercise_path)

    @property
    def name(self):
        return self.text.split("(")[0]


def finite_differences(loss, arrays):
    """{name: dloss/darray} by central differences, for each array (changed in place)."""
    return {name: numerical_gradient(loss, array) for name, array in arrays.items()}


def shape_label(**arrays):
    return ", ".join(f"{name} of shape {value.shape}" for name, value in arrays.items())


# -- hints shared by several exercises -------------------------------------------------------------

AXIS_HINT = ("you reduced over axis 1 (the features of each sample). Batch normalization "
             "averages each feature over the BATCH: axis=0, one value per feature.")
SUM_AXIS_HINT = ("a sum in your dx runs over axis 1 (the features of each sample). dL/dmu and "
                 "dL/dvar collect every sample of the batch: sum over axis=0 (keepdims=True "
                 "or not, as long as it is axis 0).")
ALL_AXES_HINT = ("mu is a single number: you averaged over every axis (x.mean() with no axis). "
                 "Batch normalization averages each feature over the batch: axis=0, one value "
                 "per feature.")
UNBIASED_HINT = ("you used the unbiased variance (dividing by N - 1, e.g. ddof=1). Batch "
                 "normalization divides by N: np.var(x, axis=0), the biased variance.")
EPSILON_SQRT_HINT = ("epsilon goes INSIDE the square root: sqrt(var + epsilon), not "
                     "sqrt(var) + epsilon.")
IGNORED_EPSILON_HINT = ("you ignored the epsilon argument (this check passes epsilon=0.5): "
                        "use the parameter, not a hard-coded 1e-3.")
MOMENTUM_HINT = ("momentum weighs the OLD running value (Keras's convention): moving = "
                 "momentum * moving + (1 - momentum) * batch. You used PyTorch's convention.")


# -- sigmoid ---------------------------------------------------------------------------------------

def tinynet_sigmoid(x):
    """tinynet's sigmoid layer (float64), run forward on x: returns (layer, y)."""
    layer = Activation("sigmoid", dtype="float64")
    layer.build((None, *x.shape[1:]))
    return layer, layer.forward(x)


def sigmoid(x):
    return tinynet_sigmoid(x)[1]


def sigmoid_forward_checks(rng):
    checks = [sigmoid_forward_check(rng.normal(0.0, 3.0, size=shape))
              for shape in [(4, 3), (5, 5), (2, 3, 4)]]
    # very large |x|: exp overflows in a naive formula
    x = np.linspace(-800.0, 800.0, 9).reshape(1, 9)
    checks.append(Check("x with very large values (-800 to 800)", {"x": x},
                        {"y": sigmoid(x)}))
    return checks


def sigmoid_forward_check(x):
    return Check(shape_label(x=x), {"x": x}, {"y": sigmoid(x)}, mistakes=known_mistakes(
        ("y", lambda: 1 / (1 + np.exp(x)),
         "check the sign in the exponent: y = 1 / (1 + exp(-x)), so y grows with x and "
         "sigmoid(0) = 0.5."),
        ("y", lambda: np.tanh(x), "that is tanh(x), not the sigmoid."),
    ))


def sigmoid_backward_checks(rng):
    checks = [sigmoid_backward_check(rng.normal(size=shape), rng.normal(0.0, 2.0, size=shape))
              for shape in [(4, 3), (5, 5), (16, 7)]]
    # finite differences of tinynet's sigmoid, as an independent reference
    x = rng.normal(size=(3, 4))
    g = rng.normal(size=(3, 4))
    y = sigmoid(x)
    numeric = finite_differences(lambda: np.sum(sigmoid(x) * g), {"dx": x})
    checks.append(Check(shape_label(grad_output=g, y=y), {"grad_output": g, "y": y}, numeric,
                        n=3, reference="finite differences"))
    return checks


def sigmoid_backward_check(g, x):
    layer, y = tinynet_sigmoid(x)
    return Check(shape_label(grad_output=g, y=y), {"grad_output": g, "y": y},
                 {"dx": layer.backward(g)}, n=g.shape[0], mistakes=known_mistakes(
        ("dx", lambda: y * (1 - y),
         "you forgot to multiply by grad_output: dL/dx = dL/dy * dy/dx."),
        ("dx", lambda: g * sigmoid(y) * (1 - sigmoid(y)),
         "y is already sigmoid(x): use y * (1 - y), not sigmoid(y) * (1 - sigmoid(y))."),
        ("dx", lambda: g * (1 - y * y),
         "1 - y^2 is the derivative of tanh; the sigmoid's is y * (1 - y)."),
        ("dx", lambda: g * y, "you lost the factor (1 - y): dy/dx = y * (1 - y)."),
    ))


# -- dense -----------------------------------------------------------------------------------------

DENSE_SHAPES = [(4, 3, 2), (5, 5, 5), (16, 7, 3)]   # (N, D_in, D_out); the second is square
DENSE_ORDER = ("dbias", "dkernel", "dx")            # simplest first


def tinynet_dense(kernel, bias):
    layer = Dense(kernel.shape[1], kernel_initializer="zeros", dtype="float64")
    layer.build((None, kernel.shape[0]))
    layer.set_weights([kernel, bias])
    return layer


def dense_inputs(rng, n, d_in, d_out):
    """x (N, D_in), kernel (D_in, D_out), bias (D_out,), grad_output (N, D_out)."""
    return (rng.normal(size=(n, d_in)), rng.normal(0.0, 0.5, size=(d_in, d_out)),
            rng.normal(size=d_out), rng.normal(size=(n, d_out)))


def dense_forward_checks(rng):
    return [dense_forward_check(*dense_inputs(rng, *shape)[:3]) for shape in DENSE_SHAPES]


def dense_forward_check(x, kernel, bias):
    z = tinynet_dense(kernel, bias).forward(x)
    return Check(shape_label(x=x, kernel=kernel, bias=bias),
                 {"x": x, "kernel": kernel, "bias": bias}, {"z": z}, n=x.shape[0],
                 mistakes=known_mistakes(
        ("z", lambda: x @ kernel, "you forgot to add the bias."),
        ("z", lambda: x @ kernel.T + bias,
         "you used kernel.T: with Keras's layout (D_in, D_out), z = x @ kernel."),
        ("z", lambda: x @ kernel - bias, "the bias is added, not subtracted."),
    ))


def dense_backward_checks(rng):
    checks = [dense_backward_check(*dense_inputs(rng, *shape)) for shape in DENSE_SHAPES]
    # finite differences of tinynet's Dense, as an independent reference
    x, kernel, bias, g = dense_inputs(rng, 3, 4, 2)
    layer = tinynet_dense(kernel, bias)
    varied = {"dx": x.copy(), "dkernel": kernel.copy(), "dbias": bias.copy()}

    def loss():
        layer.set_weights([varied["dkernel"], varied["dbias"]])
        return np.sum(layer.forward(varied["dx"]) * g)

    checks.append(Check(shape_label(grad_output=g, x=x, kernel=kernel),
                        {"grad_output": g, "x": x, "kernel": kernel},
                        finite_differences(loss, varied), DENSE_ORDER, n=3,
                        reference="finite differences"))
    return checks


def dense_backward_check(x, kernel, bias, g):
    n = x.shape[0]
    layer = tinynet_dense(kernel, bias)
    layer.forward(x)
    expected = {"dx": layer.backward(g), "dkernel": layer.grads["kernel"].copy(),
                "dbias": layer.grads["bias"].copy()}
    return Check(shape_label(grad_output=g, x=x, kernel=kernel),
                 {"grad_output": g, "x": x, "kernel": kernel}, expected, DENSE_ORDER, n=n,
                 mistakes=known_mistakes(
        ("dbias", lambda: g.mean(axis=0),
         f"you took the mean over the batch (divided by N = {n}). grad_output already holds "
         f"the loss's 1/N: dbias is the plain sum over axis 0."),
        ("dkernel", lambda: x.T @ g / n,
         f"you divided by N = {n}. grad_output already holds the loss's 1/N: no extra 1/N "
         f"in dkernel."),
        ("dkernel", lambda: g.T @ x,
         "that is the transpose of dkernel: grad_output.T @ x has shape (D_out, D_in); "
         "dkernel must have the kernel's shape (D_in, D_out)."),
        ("dx", lambda: g @ kernel,
         "the kernel needs a transpose: grad_output (N, D_out) times a (D_out, D_in) matrix "
         "gives dx (N, D_in)."),
    ))


# -- batch normalization ---------------------------------------------------------------------------
#
# The three BN exercises have the signatures of tinynet's own functions, which give the
# expected answers (tinynet/layers/batchnorm.py):
#
#     batchnorm_train(x, gamma, beta, epsilon) -> (y, cache)
#     batchnorm_inference(x, gamma, beta, moving_mean, moving_variance, epsilon) -> (y, cache)
#     batchnorm_backward(grad_output, cache) -> (dx, dgamma, dbeta)
#
# What a cache holds is the student's choice. Of batchnorm_train's the grader checks only the
# batch's mu and var, which the moving statistics need (read_from_cache finds them); and
# batchnorm_backward is called with the cache of the file's own batchnorm_train (a
# ForwardCache argument), so it must read the cache its own forward pass writes.

BN_SHAPES = [(4, 3), (5, 5), (16, 7)]    # (N, D); the second is square
# (N, D) and epsilon of each forward check; the last one catches a hard-coded epsilon
BN_FORWARD_CASES = [*((shape, 1e-3) for shape in BN_SHAPES), ((6, 4), 0.5)]
BN_BACKWARD_ORDER = ("dbeta", "dgamma", "dx")

# The signatures the BN exercises had before they took the layer's: a student who started
# from the old files is told what changed.
OLD_BATCHNORM_TRAIN = OldSignature(
    "batchnorm_forward(x, gamma, beta, epsilon=1e-3) -> (out, mu, var)", 4, 3,
    "return (y, cache), with this batch's mu and var inside the cache, and call the function "
    "batchnorm_train (see its docstring in the exercise file as it is now, "
    "{batchnorm_forward.py}).")
OLD_BATCHNORM_INFERENCE = OldSignature(
    "batchnorm_inference(x, gamma, beta, moving_mean, moving_variance, epsilon=1e-3) -> out",
    6, 1, "return (y, cache): y as before, and a cache of your choice (tinynet keeps x_hat, "
    "inv_std and gamma).")
OLD_BATCHNORM_BACKWARD = OldSignature(
    "batchnorm_backward(grad_output, x, gamma, epsilon=1e-3) -> (dx, dgamma, dbeta)", 4, 3,
    "it receives the cache of batchnorm_train instead of x, gamma and epsilon, and takes "
    "x_hat, inv_std and gamma from it. The grader makes that cache with your file's own "
    "batchnorm_train: the exercise file as it is now, {batchnorm_backward.py}, gives one "
    "complete, with its BatchNormCache.")


def tinynet_moving_statistics(moving_mean, moving_variance, mu, var, momentum):
    """The update of a float64 tinynet BN layer's moving statistics: (new mean, new var)."""
    layer = bn.BatchNormalization(momentum=momentum, dtype="float64")
    layer.build((None, mu.shape[0]))
    layer.set_weights([np.ones_like(mu), np.zeros_like(mu), moving_mean, moving_variance])
    layer.update_moving_statistics(mu, var)
    return layer.state["moving_mean"].copy(), layer.state["moving_variance"].copy()


def batch_statistics(x, epsilon, ddof=0, axis=0, epsilon_outside=False):
    """(mu, std, x_hat) with the usual mistakes switchable: ddof=1 (unbiased variance),
    axis=1 (per sample), epsilon outside the square root. Only used to build wrong answers;
    the right ones come from tinynet's batchnorm_train."""
    mu = x.mean(axis=axis, keepdims=True)
    var = x.var(axis=axis, ddof=ddof, keepdims=True)
    std = np.sqrt(var) + epsilon if epsilon_outside else np.sqrt(var + epsilon)
    return mu, std, (x - mu) / std


def x_hat_variant(x, epsilon=1e-3, **options):
    return batch_statistics(x, epsilon, **options)[2]


def bn_inputs(rng, n, d):
    """x (N, D) not centred or unit-scaled, gamma and beta (D,) away from 1 and 0, and an
    upstream gradient (N, D)."""
    return (rng.normal(1.5, 3.0, size=(n, d)), rng.uniform(0.5, 2.0, size=d),
            rng.normal(size=d), rng.normal(size=(n, d)))


def epsilon_label(label, epsilon):
    return label + (f", epsilon={epsilon}" if epsilon != 1e-3 else "")


def batchnorm_train_checks(rng):
    return [batchnorm_train_check(*bn_inputs(rng, *shape)[:3], epsilon)
            for shape, epsilon in BN_FORWARD_CASES]


def batchnorm_train_check(x, gamma, beta, eps):
    """Checks y, and the batch's mu and var, which the student's cache must hold."""
    y, cache = bn.batchnorm_train(x, gamma, beta, eps)
    layer_norm = LayerNormalization(epsilon=eps, dtype="float64")
    layer_norm.build((None, x.shape[1]))
    layer_norm.set_weights([gamma, beta])
    return Check(epsilon_label(shape_label(x=x), eps),
                 {"x": x, "gamma": gamma, "beta": beta, "epsilon": eps},
                 {"y": y, "mu": cache.mu, "var": cache.var}, ("mu", "var", "y"), n=x.shape[0],
                 mistakes=known_mistakes(
        ("mu", lambda: x.mean(axis=1), AXIS_HINT),
        ("var", lambda: x.var(axis=0, ddof=1), UNBIASED_HINT),
        ("var", lambda: x.var(axis=1), AXIS_HINT),
        ("var", lambda: x.std(axis=0),
         "that is the standard deviation; keep the variance (its square) in the cache."),
        ("var", lambda: x.var(axis=0) + eps,
         "keep the plain batch variance in the cache: the moving variance averages it, and "
         "inference adds epsilon itself. Epsilon only enters inv_std."),
        ("y", lambda: gamma * x_hat_variant(x, eps, ddof=1) + beta, UNBIASED_HINT),
        ("y", lambda: gamma * x_hat_variant(x, eps, epsilon_outside=True) + beta,
         EPSILON_SQRT_HINT),
        ("y", lambda: gamma * x_hat_variant(x, 0.0) + beta,
         "you left out epsilon: divide by sqrt(var + epsilon)."),
        ("y", lambda: gamma * x_hat_variant(x, 1e-3) + beta, IGNORED_EPSILON_HINT),
        ("y", lambda: layer_norm.forward(x),
         AXIS_HINT + " (Normalizing each sample over its features is layer normalization.)"),
        ("y", lambda: x_hat_variant(x, eps),
         "y is x_hat: you forgot the learned scale and shift, gamma * x_hat + beta."),
        ("y", lambda: gamma * x_hat_variant(x, eps),
         "you forgot to add beta: y = gamma * x_hat + beta."),
        ("y", lambda: x_hat_variant(x, eps) + beta,
         "you forgot to multiply by gamma: y = gamma * x_hat + beta."),
        ("y", lambda: gamma * (x - x.mean(axis=0)) / (x.var(axis=0) + eps) + beta,
         "divide by the standard deviation sqrt(var + epsilon), not by the variance."),
        ("y", lambda: gamma * (x - x.mean()) / np.sqrt(x.var() + eps) + beta, ALL_AXES_HINT),
        ("mu", lambda: x.mean(), ALL_AXES_HINT),
        ("var", lambda: x.var(),
         "var is a single number: you took the variance over every axis (x.var() with no "
         "axis). Batch normalization takes it per feature, over the batch: axis=0."),
    ))


def update_moving_statistics_checks(rng):
    return [update_moving_statistics_check(
                rng.normal(size=d), rng.uniform(0.5, 2.0, size=d),
                rng.normal(size=d), rng.uniform(0.5, 2.0, size=d), momentum)
            for d, momentum in [(3, 0.99), (5, 0.9), (7, 0.7)]]


def update_moving_statistics_check(moving_mean, moving_variance, mu, var, momentum):
    new_mean, new_variance = tinynet_moving_statistics(moving_mean, moving_variance, mu, var,
                                                       momentum)
    swapped = 1 - momentum   # PyTorch's meaning of the word
    return Check(f"D = {mu.shape[0]} features, momentum={momentum}",
                 {"moving_mean": moving_mean, "moving_variance": moving_variance, "mu": mu,
                  "var": var, "momentum": momentum},
                 {"new_moving_mean": new_mean, "new_moving_variance": new_variance},
                 mistakes=known_mistakes(
        ("new_moving_mean", lambda: swapped * moving_mean + momentum * mu, MOMENTUM_HINT),
        ("new_moving_variance", lambda: swapped * moving_variance + momentum * var,
         MOMENTUM_HINT),
        ("new_moving_mean", lambda: 0.99 * moving_mean + 0.01 * mu,
         "you used 0.99 instead of the momentum argument."),
    ))


def batchnorm_inference_checks(rng):
    checks = []
    for (n, d), epsilon in BN_FORWARD_CASES:
        x, gamma, beta, _ = bn_inputs(rng, n, d)
        moving = (rng.normal(size=d), rng.uniform(0.5, 4.0, size=d))
        checks.append(batchnorm_inference_check(x, gamma, beta, *moving, epsilon))
    return checks


def batchnorm_inference_check(x, gamma, beta, mean, variance, eps):
    """Checks y only: the student's inference cache is theirs to choose."""
    y, _ = bn.batchnorm_inference(x, gamma, beta, mean, variance, eps)
    return Check(epsilon_label(shape_label(x=x), eps),
                 {"x": x, "gamma": gamma, "beta": beta, "moving_mean": mean,
                  "moving_variance": variance, "epsilon": eps}, {"y": y}, n=x.shape[0],
                 mistakes=known_mistakes(
        ("y", lambda: gamma * x_hat_variant(x, eps) + beta,
         "you normalized with the BATCH's mean and variance: that is training mode. "
         "Inference uses moving_mean and moving_variance, so that a sample's output does not "
         "depend on the rest of its batch."),
        ("y", lambda: gamma * (x - mean) / (np.sqrt(variance) + eps) + beta,
         EPSILON_SQRT_HINT),
        ("y", lambda: gamma * (x - mean) / (variance + eps) + beta,
         "moving_variance is a variance: divide by its square root, "
         "sqrt(moving_variance + epsilon)."),
        ("y", lambda: gamma * (x - mean) / np.sqrt(variance + 1e-3) + beta,
         IGNORED_EPSILON_HINT),
    ))


def forward_cache(x, gamma, beta, epsilon=1e-3):
    """The `cache` argument of batchnorm_backward: the cache of the student's own
    batchnorm_train on these inputs, made just before the call, once its y is right."""
    y, _ = bn.batchnorm_train(x, gamma, beta, epsilon)
    return ForwardCache(Check(shape_label(x=x), {"x": x, "gamma": gamma, "beta": beta,
                                                 "epsilon": epsilon}, {"y": y}, n=x.shape[0]))


def backward_label(g, x):
    return f"grad_output of shape {g.shape}, the cache of batchnorm_train on x of shape {x.shape}"


def batchnorm_dx_paths(g, x, gamma, epsilon=1e-3, sum_axis=None, **options):
    """BN's dx split into its three paths (direct, through mu, through var), with the
    mistakes of batch_statistics switchable, and sums over `sum_axis` (default: the axis of
    the statistics). Only used to build wrong answers."""
    axis = options.get("axis", 0)
    sum_axis = axis if sum_axis is None else sum_axis
    _, std, x_hat = batch_statistics(x, epsilon, **options)
    n = x.shape[axis]
    a = g * gamma                                                     # dL/dx_hat
    direct = a / std
    through_mu = -a.sum(axis=sum_axis, keepdims=True) / (n * std)
    through_var = -x_hat * (a * x_hat).sum(axis=sum_axis, keepdims=True) / (n * std)
    return direct, through_mu, through_var


def batchnorm_backward_checks(rng):
    checks = [batchnorm_backward_check(*bn_inputs(rng, *shape)) for shape in BN_SHAPES]
    # finite differences of tinynet's batchnorm_train, as an independent reference
    x, gamma, beta, g = bn_inputs(rng, 3, 4)
    varied = {"dx": x.copy(), "dgamma": gamma.copy(), "dbeta": beta.copy()}

    def loss():
        y, _ = bn.batchnorm_train(varied["dx"], varied["dgamma"], varied["dbeta"], 1e-3)
        return np.sum(y * g)

    checks.append(Check(backward_label(g, x),
                        {"grad_output": g, "cache": forward_cache(x, gamma, beta)},
                        finite_differences(loss, varied), BN_BACKWARD_ORDER, n=3,
                        reference="finite differences"))
    return checks


def batchnorm_backward_check(x, gamma, beta, g):
    _, cache = bn.batchnorm_train(x, gamma, beta, 1e-3)
    dx, dgamma, dbeta = bn.batchnorm_backward(g, cache)
    return Check(backward_label(g, x),
                 {"grad_output": g, "cache": forward_cache(x, gamma, beta)},
                 {"dx": dx, "dgamma": dgamma, "dbeta": dbeta}, BN_BACKWARD_ORDER,
                 n=x.shape[0], mistakes=batchnorm_backward_mistakes(g, x, gamma))


def batchnorm_backward_mistakes(g, x, gamma):
    """The usual wrong gradients. Some need a backward pass that recomputes the statistics
    from x: possible when a student's own batchnorm_train keeps x in its cache."""
    n, d = x.shape
    direct, through_mu, through_var = batchnorm_dx_paths(g, x, gamma)
    _, mu_rows, var_rows = batchnorm_dx_paths(g, x, gamma, sum_axis=1)  # sums on axis 1
    x_hat = x_hat_variant(x)   # the right x_hat, here only to build wrong dgammas
    return known_mistakes(
        ("dbeta", lambda: g.mean(axis=0),
         "you took the mean over the batch: dbeta is the plain sum over axis 0 "
         "(grad_output already holds the loss's 1/N)."),
        ("dgamma", lambda: g.sum(axis=0),
         "dgamma sums g * x_hat over the batch, not g alone: gamma multiplies x_hat in "
         "y = gamma * x_hat + beta, so dy/dgamma = x_hat."),
        ("dgamma", lambda: (g * x).sum(axis=0),
         "dgamma = sum(grad_output * x_hat): the normalized input, not x."),
        ("dgamma", lambda: (g * x_hat).mean(axis=0),
         "you took the mean over the batch: dgamma is a plain sum over axis 0."),
        ("dgamma", lambda: (g * x_hat * gamma).sum(axis=0),
         "gamma does not appear in dgamma: y = gamma * x_hat + beta, so dy/dgamma = x_hat."),
        ("dgamma", lambda: (g * x_hat_variant(x, ddof=1)).sum(axis=0), UNBIASED_HINT),
        ("dgamma", lambda: (g * x_hat_variant(x, epsilon_outside=True)).sum(axis=0),
         EPSILON_SQRT_HINT),
        ("dx", lambda: direct,
         "you only followed the direct path x -> x_hat, as if mu and var were constants. "
         "Every x[n, j] also moves mu[j] and var[j]: add those two paths (see the "
         "docstring)."),
        ("dx", lambda: direct + through_var,
         "the path through mu is missing: add dL/dmu * dmu/dx, with dmu/dx = 1/N."),
        ("dx", lambda: direct + through_mu,
         "the path through var is missing: add dL/dvar * dvar/dx, with dvar/dx[n] = "
         "2 (x[n] - mu) / N."),
        ("dx", lambda: direct + through_mu - through_var,
         "the path through var has the wrong sign: (var + eps)^(-1/2) falls as var grows, "
         "d(var + eps)^(-1/2)/dvar = -1/2 (var + eps)^(-3/2), so dL/dvar = -1/2 * "
         "sum(dL/dx_hat * (x - mu)) * (var + eps)^(-3/2)."),
        ("dx", lambda: direct + n * (through_mu + through_var),
         f"you missed the 1/N in the paths through mu and var (N = {n}): dmu/dx = 1/N and "
         f"dvar/dx = 2 (x - mu) / N."),
        ("dx", lambda: n * (direct + through_mu + through_var),
         f"your dx is N = {n} times too large: you missed the 1/N in front."),
        ("dx", lambda: direct + through_mu + n / (n - 1) * through_var,
         "you divided by N - 1 in dvar/dx, as if var were the unbiased variance. It is the "
         "biased one, var = sum((x - mu)^2) / N, so dvar/dx[n] = 2 (x[n] - mu) / N."),
        ("dx", lambda: sum(batchnorm_dx_paths(g, x, gamma, ddof=1)), UNBIASED_HINT),
        ("dx", lambda: sum(batchnorm_dx_paths(g, x, gamma, epsilon_outside=True)),
         EPSILON_SQRT_HINT),
        ("dx", lambda: sum(batchnorm_dx_paths(g, x, gamma, axis=1)), AXIS_HINT),
        ("dx", lambda: direct + mu_rows + var_rows, SUM_AXIS_HINT),
        ("dx", lambda: direct + mu_rows + through_var, SUM_AXIS_HINT),
        ("dx", lambda: direct + through_mu + var_rows, SUM_AXIS_HINT),
        ("dx", lambda: sum(batchnorm_dx_paths(g, x, np.ones(d))),
         "gamma is missing from dx: dL/dx_hat = grad_output * gamma."),
    )


# -- Adam ------------------------------------------------------------------------------------------

# shape, t, learning_rate, beta_1, beta_2, epsilon, gradient scale; the last one has a large
# epsilon and small gradients, so that where epsilon sits changes the answer
ADAM_CASES = [((3, 4), 1, 0.001, 0.9, 0.999, 1e-7, 1.0),
              ((7,), 5, 0.01, 0.9, 0.999, 1e-7, 1.0),
              ((4, 4), 3, 0.05, 0.8, 0.99, 0.1, 0.05)]


def keras_adam_step(param, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
    """One step of Keras 3's Adam from step t - 1's m and v: the grader's reference.

        m_new = beta_1 * m + (1 - beta_1) * grad
        v_new = beta_2 * v + (1 - beta_2) * grad**2
        param_new = param - alpha * m_new / (sqrt(v_new) + epsilon),
            alpha = learning_rate * sqrt(1 - beta_2**t) / (1 - beta_1**t)

    Written out here because an optimizer cannot be put at step t with given m and v
    through its public calls; tests/test_grade.py checks that these formulas give the same
    steps as tinynet.optimizers.Adam.
    """
    m_new = beta_1 * m + (1 - beta_1) * grad
    v_new = beta_2 * v + (1 - beta_2) * grad * grad
    alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    return {"param_new": param - alpha * m_new / (np.sqrt(v_new) + epsilon),
            "m_new": m_new, "v_new": v_new}


def adam_step_checks(rng):
    checks = []
    for shape, t, lr, b1, b2, eps, scale in ADAM_CASES:
        param, grad = rng.normal(size=shape), rng.normal(0.0, scale, size=shape)
        if t == 1:   # the first step: m and v are still zero
            m, v = np.zeros(shape), np.zeros(shape)
        else:
            m = rng.normal(0.0, scale, size=shape)
            v = rng.uniform(0.5, 2.0, size=shape) * scale ** 2
        checks.append(adam_step_check(param, grad, m, v, t, lr, b1, b2, eps))
    return checks


def adam_step_check(param, grad, m, v, t, lr, b1, b2, eps):
    expected = keras_adam_step(param, grad, m, v, t, lr, b1, b2, eps)
    # the right m_new, v_new and alpha, here only to build wrong answers for param_new
    m_new, v_new = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad
    correction_1, correction_2 = 1 - b1 ** t, 1 - b2 ** t
    alpha = lr * np.sqrt(correction_2) / correction_1
    direction = m_new / (np.sqrt(v_new) + eps)
    label = (f"param of shape {param.shape}, t={t}, learning_rate={lr}, beta_1={b1}, "
             f"beta_2={b2}, epsilon={eps}")
    return Check(label, {"param": param, "grad": grad, "m": m, "v": v, "t": t,
                         "learning_rate": lr, "beta_1": b1, "beta_2": b2, "epsilon": eps},
                 expected, ("m_new", "v_new", "param_new"), mistakes=known_mistakes(
        ("m_new", lambda: (1 - b1) * m + b1 * grad,
         "beta_1 weighs the OLD m: m_new = beta_1 * m + (1 - beta_1) * grad."),
        ("m_new", lambda: m_new / correction_1,
         "return the raw running average m_new, not the bias-corrected one: the next step "
         "builds on the raw value."),
        ("v_new", lambda: b2 * v + (1 - b2) * grad,
         "v averages the SQUARED gradient: (1 - beta_2) * grad**2."),
        ("v_new", lambda: (1 - b2) * v + b2 * grad * grad,
         "beta_2 weighs the OLD v: v_new = beta_2 * v + (1 - beta_2) * grad**2."),
        ("v_new", lambda: v_new / correction_2,
         "return the raw running average v_new, not the bias-corrected one."),
        ("param_new", lambda: param - lr * direction,
         "you forgot the bias correction: alpha = learning_rate * sqrt(1 - beta_2**t) / "
         "(1 - beta_1**t)."),
        ("param_new", lambda: param - lr * (m_new / correction_1)
         / (np.sqrt(v_new / correction_2) + eps),
         "you added epsilon to the bias-corrected sqrt(v_hat): that is PyTorch's order. "
         "Keras folds the correction into alpha and adds epsilon to sqrt(v_new)."),
        ("param_new", lambda: param - alpha * m_new / np.sqrt(v_new + eps),
         "epsilon goes outside the square root: sqrt(v_new) + epsilon."),
        ("param_new", lambda: param + alpha * direction,
         "wrong sign: a descent step moves AGAINST the gradient, param - alpha * ..."),
        ("param_new", lambda: param - alpha * m / (np.sqrt(v) + eps),
         "you used the old m and v: update them first, then step with m_new and v_new."),
        ("param_new", lambda: param - lr * correction_1 / np.sqrt(correction_2) * direction,
         "the bias correction is upside down: alpha = learning_rate * sqrt(1 - beta_2**t) / "
         "(1 - beta_1**t)."),
        ("param_new", lambda: param - lr * np.sqrt(1 - b2 ** (t + 1)) / (1 - b1 ** (t + 1))
         * direction,
         "off by one step: this is step t (the first step is t = 1), so the correction uses "
         "beta**t."),
        ("param_new", lambda: param - alpha * m_new / np.sqrt(v_new),
         "epsilon is missing: add it to sqrt(v_new) (Keras's place for it), so that a "
         "tiny v_new cannot make the step blow up."),
        ("param_new", lambda: param - alpha * grad / (np.sqrt(v_new) + eps),
         "the step uses grad; Adam steps along the running average m_new."),
    ))


# -- the exercises the grader knows ---------------------------------------------------------------

@dataclass
class Exercise:
    outputs: tuple       # names of what the function returns, in order
    make_checks: object  # rng -> [Check, ...]
    checked: tuple = None   # what is compared, when not every output: a name that is not an
                            # output is read from the returned "cache" (see read_from_cache)
    old: OldSignature = None

    def __post_init__(self):
        self.checked = self.checked or self.outputs


EXERCISES = {
    "sigmoid_forward": Exercise(("y",), sigmoid_forward_checks),
    "sigmoid_backward": Exercise(("dx",), sigmoid_backward_checks),
    "dense_forward": Exercise(("z",), dense_forward_checks),
    "dense_backward": Exercise(("dx", "dkernel", "dbias"), dense_backward_checks),
    "batchnorm_train": Exercise(("y", "cache"), batchnorm_train_checks, ("y", "mu", "var"),
                                OLD_BATCHNORM_TRAIN),
    "update_moving_statistics": Exercise(("new_moving_mean", "new_moving_variance"),
                                         update_moving_statistics_checks),
    "batchnorm_inference": Exercise(("y", "cache"), batchnorm_inference_checks, ("y",),
                                    OLD_BATCHNORM_INFERENCE),
    "batchnorm_backward": Exercise(("dx", "dgamma", "dbeta"), batchnorm_backward_checks,
                                   old=OLD_BATCHNORM_BACKWARD),
    "adam_step": Exercise(("param_new", "m_new", "v_new"), adam_step_checks),
}


def expected_signature(name):
    """'batchnorm_backward(grad_output, cache) -> (dx, dgamma, dbeta)': the parameters are
    those the checks pass, in order."""
    exercise = EXERCISES[name]
    parameters = ", ".join(exercise.make_checks(np.random.default_rng(0))[0].args)
    outputs = exercise.outputs
    returns = outputs[0] if len(outputs) == 1 else f"({', '.join(outputs)})"
    return f"{name}({parameters}) -> {returns}"


# -- comparing one output --------------------------------------------------------------------------

class Failure(Exception):
    """Raised inside grading with the lines to show the student."""

    def __init__(self, *lines):
        super().__init__(lines[0])
        self.lines = [line for line in lines if line]


def wrong_entries(got, expected, rtol):
    """Boolean mask of the entries of `got` that differ from `expected` (NaN counts as
    wrong). The absolute floor, rtol * 1e-3 of the largest entry, lets values that are 0 up
    to round-off (e.g. 1e-17 instead of 0) pass."""
    floor = rtol * 1e-3 * max(float(np.max(np.abs(expected), initial=0.0)), 1.0)
    return ~(np.abs(got - expected) <= floor + rtol * np.abs(expected))


def matches(got, candidate, rtol):
    candidate = np.asarray(candidate, dtype=np.float64)
    return candidate.shape == got.shape and not wrong_entries(got, candidate, rtol).any()


def index_text(name, index):
    return f"{name}[{', '.join(str(i) for i in index)}]" if index else name


def shape_hint(got, expected, n):
    """Why an output has the wrong shape, for the usual cases."""
    if len(got) == 2 and got == expected[::-1] and got != expected:
        return "the shape is transposed: check the order of a matrix product, or a .T."
    if len(expected) == 1:
        d = expected[0]
        if got == (n, d):
            return (f"one row per sample is left: you forgot to sum over the batch (axis 0),"
                    f" which gives one value per feature, shape ({d},).")
        if got in ((n,), (n, 1)):
            return (f"you reduced over axis 1 (the features) instead of axis 0 (the batch): "
                    f"the result should have one value per feature, shape ({d},).")
        if got == (1, d):
            return (f"a (1, {d}) array where ({d},) is expected: a sum with keepdims=True "
                    f"leaves one (drop keepdims), and .reshape(-1) flattens it.")
        if got == ():
            return "you reduced over every axis to one number: reduce over axis=0 only."
    return None


def common_factor(got, expected):
    """The factor by which every value of `got` is off from `expected`, or None."""
    nonzero = np.abs(expected) > 1e-6 * np.max(np.abs(expected), initial=0.0)
    if not nonzero.any() or not np.all(np.isfinite(got)):
        return None
    ratios = got[nonzero] / expected[nonzero]
    factor = float(np.median(ratios))
    if factor == 0 or not np.allclose(ratios, factor, rtol=1e-6):
        return None
    return factor


def factor_text(factor, n, names=None):
    """What a common factor says: 'every value is N = 4 times too small: an extra 1/N
    (...)', or with `names` (several outputs off by the same factor) 'dx, dkernel and dbias
    are all N = 4 times too small: ...'."""
    if np.isclose(factor, -1.0, rtol=1e-6):
        return f"{names} all have the wrong sign." if names else "every value has the wrong sign."
    known = []
    if n is not None and n > 1:
        known = [(n, f"N = {n} times too large: a missing 1/N (a sum where a mean belongs?)."),
                 (1 / n, f"N = {n} times too small: an extra 1/N (a mean where a sum "
                         f"belongs?)."),
                 (n / (n - 1), "off by N / (N - 1): the unbiased variance?")]
    words = next((text for value, text in known if np.isclose(factor, value, rtol=1e-6)),
                 f"off by the same factor, {factor:.6g}.")
    return f"{names} are all {words}" if names else f"every value is {words}"


def and_list(words):
    """'a', 'a and b', 'a, b and c'."""
    words = list(words)
    return ", ".join(words[:-1]) + " and " + words[-1] if len(words) > 1 else words[0]


ORDINALS = ("first", "second", "third", "fourth")


def describe(name, outputs):
    """How the student's output `name` is called in the report: 'dx (the first value you
    return)', or 'var (in the cache you return)'."""
    if name not in outputs:
        return f"{name} (in the cache you return)"
    if len(outputs) == 1:
        return name
    return f"{name} (the {ORDINALS[outputs.index(name)]} value you return)"


@dataclass
class Problem:
    """What is wrong with one output of one call: the lines that say so, and a hint."""

    output: str
    lines: list            # "<output> is wrong" (or "has the wrong shape", ...), then details
    hint: str = None
    known: bool = False    # the hint names the cause (a known mistake, outputs in the wrong
                           # order), not only a symptom (a common factor, a nan)
    factor: float = None   # every value is off from the expected one by this factor
    n: int = None          # the batch size of the check, for the hint of a common factor


class Wrong(Exception):
    """Raised with the Problem of one output."""

    def __init__(self, problem):
        super().__init__(problem.lines[0])
        self.problem = problem


def compare_output(name, which, got, check, rtol, seen=(), exercise=None, order_hint=None):
    """Raise Wrong with a Problem if the output `name` (the student's `got`, described as
    `which`) is wrong, with a hint: `order_hint` when the value belongs in another output's
    place, else a known mistake's, else what the values show (for a nan or an inf: the first
    of `seen`, the NumPy warnings of the call to `exercise`). When it is right, returns
    (its relative error, whether it equals the reference bit for bit): relative_error is 0
    also for two arrays that differ but are both 0 up to 1e-8, which is no exact match."""
    expected = np.asarray(check.expected[name], dtype=np.float64)
    where = check.label + ("" if check.reference == "tinynet" else
                           f", compared with {check.reference}")
    single_precision = getattr(got, "dtype", None) == np.float32
    try:
        got = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise Wrong(Problem(name, [f"{which} is not an array of numbers: got "
                                   f"{type(got).__name__}."], order_hint,
                            order_hint is not None)) from None
    if got.shape != expected.shape:
        hint = (order_hint or shape_hint(got.shape, expected.shape, check.n)
                or find_mistake(name, got, check, rtol))
        raise Wrong(Problem(name, [f"{which} has the wrong shape",
                                   f"    inputs: {where}",
                                   f"    expected shape {expected.shape}, got {got.shape}"],
                            hint, hint is not None))
    wrong = wrong_entries(got, expected, rtol)
    if not wrong.any():
        return relative_error(got, expected), np.array_equal(got, expected)
    index = tuple(int(i) for i in np.argwhere(wrong)[0])
    want, have = expected[index], got[index]
    lines = [f"{which} is wrong",
             f"    inputs: {where}",
             f"    first wrong value: {index_text(name, index)} expected {want:.8g}, "
             f"got {have:.8g}"]
    error = (f"relative error {abs(have - want) / abs(want):.1e}, "
             if want != 0 and np.isfinite(have) else "")
    lines.append(f"    {error}{int(wrong.sum())} of {wrong.size} values are wrong")
    factor = common_factor(got, expected)
    known = order_hint or find_mistake(name, got, check, rtol)
    if known:
        raise Wrong(Problem(name, lines, known, True, factor, check.n))
    hint = None if factor is None else factor_text(factor, check.n)
    if hint is None and not np.all(np.isfinite(got)):
        warning = first_numeric_warning(seen)
        lines += warning.location if warning else []
        hint = nonfinite_hint(warning, exercise)
    if hint is None and single_precision:
        hint = "your result is float32: compute in float64 (do not cast to float32)."
    raise Wrong(Problem(name, lines, hint, factor=factor, n=check.n))


def find_mistake(name, got, check, rtol):
    """The hint of the first known mistake whose answer equals the student's output."""
    for mistake in check.mistakes:
        if mistake.output == name and matches(got, mistake.value, rtol):
            return mistake.hint
    return None


def misplaced(got, check, outputs, rtol):
    """{output: the other output whose expected value it has}, for the values returned in
    another one's place (`return dx, dbeta, dgamma`). A value counts only when that other
    output is wrong too: a dgamma that equals dbeta while the dbeta returned is right is a
    wrong dgamma (g summed without x_hat), not a swap."""
    compared = [output for output in outputs if output in check.expected and output in got]

    def equal(value, output):
        try:
            value = np.asarray(value, dtype=np.float64)
        except (TypeError, ValueError):
            return False
        return matches(value, check.expected[output], rtol)

    right = {output: equal(got[output], output) for output in compared}
    found = {}
    for output in compared:
        others = [other for other in compared if other != output and not right[other]
                  and equal(got[output], other)]
        if not right[output] and others:
            found[output] = others[0]
    return found


def order_hint(swapped, outputs):
    """'your second value equals dbeta and third value equals dgamma: return (dx, dgamma,
    dbeta) in that order.'"""
    values = [f"{ORDINALS[outputs.index(output)]} value equals {other}"
              for output, other in swapped.items()]
    return f"your {and_list(values)}: return ({', '.join(outputs)}) in that order."


def failure_lines(problems, outputs, order):
    """The report of a call with wrong outputs (`problems`, in the order the function returns
    them, `outputs`): the first one in full, the others by name, and the hints. When the
    first one's hint names no cause, the cause may be another wrong output (a param_new
    built on a wrong v_new, a dx on a wrong dgamma): the hint of the first of them, in
    `order` (simplest first), whose hint names a cause, comes first, before the first one's
    (which then only explains its values, e.g. a nan from a square root). When every wrong
    output is off by the same factor, one hint says so for all of them."""
    first, others = problems[0], problems[1:]
    lines = list(first.lines)
    if others:
        names = [problem.output for problem in others]
        lines.append(f"also wrong: {', '.join(describe(name, outputs) for name in names)}")
    if others and all(problem.factor is not None and np.isclose(problem.factor, first.factor,
                                                                rtol=1e-6)
                      for problem in problems):   # one hint for all: they share the factor
        names = and_list(problem.output for problem in problems)
        return lines + [hint_line(factor_text(first.factor, first.n, names))]
    cause = None
    if not first.known:
        ranked = sorted(others, key=lambda problem: order.index(problem.output)
                        if problem.output in order else len(order))
        cause = next((problem for problem in ranked if problem.known), None)
    lines.append(hint_line(cause and f"{cause.output}: {cause.hint}"))
    lines.append(hint_line(first.hint))
    return lines


def hint_line(hint):
    return f"hint: {hint}" if hint else None


# -- reading a statistic from the student's cache -------------------------------------------------

CACHE_NAMES = {"mu": ("mu", "mean"), "var": ("var", "variance")}


def read_from_cache(cache, name, check, rtol):
    """The student's `name` (mu or var) from the cache they return: the entry of that name
    (a named tuple's field, a dict's key, an attribute), or else the entry with the right
    values, or with a known mistake's values (so that its hint is given)."""
    named = cache_fields(cache)
    for key in CACHE_NAMES[name]:
        if named.get(key) is not None:
            return named[key]
    entries = list(named.values()) or (list(cache) if isinstance(cache, (tuple, list))
                                       else [cache])
    targets = [check.expected[name]] + [mistake.value for mistake in check.mistakes
                                        if mistake.output == name]
    for target in targets:
        for entry in entries:
            if holds(entry, target, rtol):
                return entry
    raise Wrong(Problem(name, [f"{name} is not in the cache you return",
                               f"    inputs: {check.label}",
                               f"    your cache: {cache_text(cache)}",
                               f"    no entry is named {name} or equals this batch's {name}, "
                               f"of shape {check.expected[name].shape}"],
                        "keep this batch's mu and var in the cache: a layer feeds them to its "
                        "moving averages (update_moving_statistics). In a named tuple or a "
                        "dict, call them mu and var; in a plain tuple, any place will do.",
                        known=True))


def cache_fields(cache):
    """{name: entry} of a named tuple, a dict, or an object with attributes; {} otherwise
    (a plain tuple, an array: its entries have no names)."""
    if isinstance(cache, tuple) and hasattr(cache, "_asdict"):
        return dict(cache._asdict())
    if isinstance(cache, dict):
        return cache
    if hasattr(cache, "__dict__") and not callable(cache):
        return vars(cache)
    return {}


def holds(entry, target, rtol):
    """True if `entry` has the values of the array `target` (in any shape of the same size:
    a (1, D) mu is found here, and its shape is reported by compare_output)."""
    try:
        values = np.asarray(entry, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return values.size == target.size and matches(values.reshape(target.shape), target, rtol)


def cache_text(cache):
    """'a tuple of 3 entries, of shapes (4, 3), (3,), (3,)', or the cache's type."""
    if not isinstance(cache, (tuple, list)):
        return f"a {type(cache).__name__}"
    shapes = ", ".join(str(np.shape(entry)) if isinstance(entry, np.ndarray)
                       else type(entry).__name__ for entry in cache)
    return f"a {type(cache).__name__} of {len(cache)} entries, of shapes {shapes}"


# -- running the student's code, with a time limit ------------------------------------------------

class NotDone(Exception):
    pass


class TimeLimit(BaseException):
    """Raised inside the student's code when it runs past the time limit. A BaseException,
    like KeyboardInterrupt, so that a student's `except Exception:` cannot swallow it."""


class time_limit:
    """`with time_limit(seconds): ...` raises TimeLimit inside the block after `seconds`.

    On Linux and macOS it uses the operating system's alarm clock (SIGALRM), whose signal
    interrupts any Python code, even `while True: pass` or a long sleep. Where there is no
    alarm (Windows), a timer thread interrupts the main thread instead, as Ctrl-C would:
    that stops any Python loop, though not one long NumPy call until it returns. From a
    thread other than the main one the block runs without a limit. seconds=None: no limit.
    use_alarm=False forces the timer thread (how the tests try the Windows way on Linux).

    Python 3.10 does not look for signals in a loop whose whole body is a try statement
    (`while True: try: ... except Exception: pass`), so there the student's own file
    (`student_file`) is also traced line by line (sys.settrace), and the tracer raises
    TimeLimit once the time is up. Other files run untraced, at full speed.
    """

    def __init__(self, seconds, use_alarm=True, student_file=None):
        self.seconds = seconds
        # the file's code carries its path as it was given: compare both spellings
        self.student_files = {student_file, os.path.abspath(student_file)} if student_file \
            else set()
        main = threading.current_thread() is threading.main_thread()
        self.alarm = seconds is not None and main and use_alarm and hasattr(signal,
                                                                            "setitimer")
        self.timer = None
        if seconds is not None and main and not self.alarm:
            self.timer = threading.Timer(seconds, self.interrupt)
            self.timer.daemon = True
        self.lock = threading.Lock()
        self.active = False
        self.fired = False

    def __enter__(self):
        if self.alarm:
            self.previous = signal.signal(signal.SIGALRM, self.on_alarm)
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
            if sys.version_info < (3, 11):  # see the class docstring
                self.deadline = time.monotonic() + self.seconds
                self.previous_trace = sys.gettrace()
                sys.settrace(self.trace)
        elif self.timer is not None:
            self.active = True
            self.timer.start()
        return self

    def on_alarm(self, signum, frame):
        raise TimeLimit()

    def trace(self, frame, event, arg):
        """Python 3.10 only: called at each call in the block, and at each line of the
        student's file."""
        if time.monotonic() > self.deadline:
            raise TimeLimit()
        return self.trace if frame.f_code.co_filename in self.student_files else None

    def interrupt(self):
        """The timer thread: interrupt the main thread (a KeyboardInterrupt there), but only
        while the block still runs."""
        with self.lock:
            if self.active:
                self.fired = True
                _thread.interrupt_main()

    def __exit__(self, exc_type, exc_value, traceback_):
        if self.alarm:
            if sys.version_info < (3, 11):
                sys.settrace(self.previous_trace)
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self.previous)
            return False
        if self.timer is None:
            return False
        with self.lock:
            self.active = False
        self.timer.cancel()
        if self.fired and exc_type is KeyboardInterrupt:
            raise TimeLimit() from None
        if self.fired:  # the interrupt came as the block ended: take it here, not later
            try:
                time.sleep(0.05)
            except KeyboardInterrupt:
                pass
        return False


# The exercises whose arrays may be updated in place: Adam's (adam.py says so: "as tinynet
# does") and the running averages, which are the layer's own state (tinynet's layer writes
# into them). In every other exercise an argument (x, grad_output, ...) belongs to the caller.
MAY_WRITE_ARGUMENTS = {"adam_step", "update_moving_statistics"}


def note_arguments_written(name, names, arguments, before, notes):
    """A note for each array argument the student's function wrote into (x -= mu). Its
    outputs may still be right, but in a network x is the previous layer's output, which that
    layer's backward may still read: the Layer docstring's rule, never write into x."""
    if name in MAY_WRITE_ARGUMENTS:
        return
    for key, now, old in zip(names, arguments, before, strict=True):
        if old is None or (now.shape == old.shape and now.tobytes() == old.tobytes()):
            continue
        why = ("in a network, x is the previous layer's output, which that layer's backward "
               "may still read" if key == "x" else "it may still need the array it passed")
        instead = ("x_centered = x - mu, not x -= mu" if key == "x" else
                   f"{key}_new = {key} * ..., not {key} *= ...")
        notes.add(f"{name} changed its argument {key} in place ({key} -= ... or {key} *= "
                  f"...): the caller still owns it ({why}); compute a new array instead "
                  f"({instead})")


def call_arguments(check, make_cache=None):
    """The check's arguments, in order: fresh copies (so that a function that writes into
    its inputs spoils nothing), and each ForwardCache made into a cache by `make_cache`."""
    return [make_cache(value.forward) if isinstance(value, ForwardCache)
            else value.copy() if isinstance(value, np.ndarray) else value
            for value in check.args.values()]


@dataclass
class SeenWarning:
    """A warning that a call of the student's function raised."""

    category: str          # 'RuntimeWarning'
    message: str           # 'divide by zero encountered in divide'
    line: int = None       # its line in the student's file, when it was raised there
    code: str = ""         # the text of that line
    file: str = ""         # the student's file, its base name

    @property
    def location(self):
        """The detail lines that show where it was raised, or []."""
        if self.line is None:
            return []
        return [f"    {self.category} at line {self.line} of {self.file}: {self.message}",
                f"        {self.code}"]


def seen_warning(warning, path):
    """A SeenWarning from a warnings.WarningMessage, with its line when it is in `path`."""
    seen = SeenWarning(warning.category.__name__, str(warning.message))
    if os.path.abspath(warning.filename) == os.path.abspath(path):
        seen.line, seen.file = warning.lineno, os.path.basename(path)
        seen.code = linecache.getline(warning.filename, warning.lineno).strip()
    return seen


def call_student(function, args, label, path, notes, seconds, name=None):
    """Call the function `name` on `args` (described to the student as `label`), for at most
    `seconds`; returns (its result, [SeenWarning, ...]), raises NotDone or Failure, and
    records the warnings in `notes`."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with time_limit(seconds, student_file=path):
                result = function(*args)
        except NotImplementedError:
            raise NotDone() from None
        except TimeLimit:
            raise Failure(f"did not return within {seconds:g} s",
                          f"    inputs: {label}",
                          hint_line("look for an endless loop: a `while` whose condition never"
                                    " becomes false. The exercises need no loop at all: NumPy "
                                    "works on whole arrays.")) from None
        except SystemExit as error:
            raise Failure(f"called sys.exit({error.code!r}) (or exit())",
                          f"    inputs: {label}",
                          hint_line("a function hands its result back with `return`; "
                                    "sys.exit() would end the whole program.")) from None
        except Exception as error:   # the student's bug, shown as the traceback's last line
            raise Failure(*exception_lines(error, path, label, name, args)) from None
    seen = [seen_warning(warning, path) for warning in caught]
    for warning in seen:
        where = f" (line {warning.line} of {warning.file})" if warning.line else ""
        advice = (" (see the hint in the docstring)" if "overflow encountered in exp"
                  in warning.message else "")
        notes.add(f"{warning.category}: {warning.message}{where}, for {label}{advice}")
    return result, seen


# Denominators that can be 0, named in the hint for a division by zero
DIVISION_EXAMPLES = {
    "adam_step": "1 - beta_1**t, which is 0 for t = 0 (t counts the steps from 1)",
    "batchnorm_train": "sqrt(var + epsilon), which epsilon keeps above 0",
    "batchnorm_inference": "sqrt(moving_variance + epsilon), which epsilon keeps above 0",
    "batchnorm_backward": "inv_std from the cache is 1 / sqrt(var + epsilon): multiply by "
                          "it rather than divide by a recomputed standard deviation",
}


def first_numeric_warning(seen):
    """The first warning of a call about a division by zero, an overflow or an invalid
    value (NumPy's RuntimeWarnings), or None."""
    return next((warning for warning in seen if warning.category == "RuntimeWarning" and any(
        word in warning.message for word in ("divide", "overflow", "invalid value"))), None)


def division_hint(where, exercise):
    example = DIVISION_EXAMPLES.get(exercise)
    return (f"a division by zero{where}: x/0 gives inf and 0/0 gives nan. Look at the "
            f"denominators{', e.g. ' + example if example else ''}.")


def nonfinite_hint(warning, exercise):
    """Why an output holds inf or nan, from the first warning the call raised (or None)."""
    if warning is None:
        return ("got a non-finite value (inf or nan), and NumPy warned of nothing: look for a "
                "division by zero or a value that overflows.")
    where = f" (line {warning.line})" if warning.line else ""
    message = warning.message
    if "divide by zero" in message or ("invalid value" in message and "divide" in message):
        return division_hint(where, exercise)
    if "overflow" in message and "exp" in message:
        return (f"exp of a large number overflowed to inf{where} (exp(710) is already inf in "
                f"float64), and inf/inf gives nan: take exp only of numbers <= 0, e.g. "
                f"exp(-|x|).")
    if "overflow" in message:
        return f"a value overflowed to inf{where}: {message}."
    if "invalid value" in message and "sqrt" in message:
        return (f"the square root of a negative number is nan{where}: can what goes under "
                f"your square root be negative?")
    return (f"an invalid operation gave nan{where} ({message}): e.g. inf - inf, 0 * inf or "
            f"the log of a negative number.")


def line_in_student_file(error, path):
    """['at line N of file.py:', '    <the line>'] for the deepest frame of the traceback
    that is in the student's file, or [] when none is."""
    frames = [frame for frame in traceback.extract_tb(error.__traceback__)
              if os.path.abspath(frame.filename) == os.path.abspath(path)]
    if not frames:
        return []
    frame = frames[-1]
    return [f"at line {frame.lineno} of {os.path.basename(path)}:", f"    {frame.line}"]


def exception_lines(error, path, label, name=None, args=()):
    lines = [f"raised {type(error).__name__}: {error}",
             f"    inputs: {label}"]
    lines += ["    " + line for line in line_in_student_file(error, path)]
    return lines + [hint_line(exception_hint(error, name, args))]


NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")


def exception_hint(error, name, args):
    """A hint for an exception raised by the student's function `name`, called on `args`."""
    text = str(error)
    if isinstance(error, NameError):
        quoted = text.split("'")   # name 'x' is not defined
        return name_error_hint(getattr(error, "name", None) or quoted[len(quoted) // 2],
                               name, args)
    if isinstance(error, ZeroDivisionError):
        return division_hint("", name)
    if isinstance(error, ValueError) and "values to unpack (expected" in text:
        return unpack_hint(text, args)
    if "broadcast" in text:
        return ("two arrays with incompatible shapes met. Check the axis of each mean or sum: "
                "the batch is axis 0, so x.mean(axis=0) has one value per feature and "
                "broadcasts against x.")
    if "matmul" in text or "aligned" in text:
        return ("the shapes of a matrix product do not fit: (a, b) @ (b, c). Write down each "
                "array's shape; one of them needs a .T.")
    if isinstance(error, TypeError) and "argument" in text:
        return "keep the function's parameters as they were given."
    return None


def the_cache(args):
    """The cache among a call's arguments (a tuple, or a dict), or None."""
    return next((arg for arg in args if isinstance(arg, (tuple, dict))), None)


def cache_names(cache):
    """The names of the cache's entries: a named tuple's fields, a dict's keys, or ()."""
    if hasattr(cache, "_fields"):
        return tuple(cache._fields)
    return tuple(cache) if isinstance(cache, dict) else ()


def name_error_hint(missing, name, args):
    """Why a name is not defined: a backward pass that looks for x, or a value of the
    cache used without taking it from there, or numpy not imported."""
    if missing == "np":
        return "put `import numpy as np` at the top of the file, outside the functions."
    cache = the_cache(args)
    if name == "batchnorm_backward" and cache is not None:
        take = f"cache.{missing}" if hasattr(cache, "_fields") else f"cache['{missing}']"
        if missing in cache_names(cache):
            return f"{missing} is in the cache: take it from there ({take})."
        if missing == "x":
            return ("batchnorm_backward receives no x, only grad_output and the cache: the "
                    "cache has what is needed, x - mu = x_hat / inv_std.")
        if missing in ("epsilon", "eps"):
            return ("batchnorm_backward receives no epsilon: the cache's inv_std is already "
                    "1 / sqrt(var + epsilon).")
        if missing in ("n", "N"):
            return "N is the batch size: grad_output.shape[0]."
    if name in EXERCISES:
        parameters = ", ".join(EXERCISES[name].make_checks(np.random.default_rng(0))[0].args)
        return (f"{missing} is neither a parameter of {name} ({parameters}) nor assigned "
                f"before this line.")
    return None


def unpack_hint(text, args):
    """What the cache holds, when unpacking it into the wrong number of names failed."""
    cache = the_cache(args)
    if not isinstance(cache, tuple):
        return None
    wanted = int(text.split("(expected ")[1].split(")")[0].split(",")[0])
    if wanted == len(cache):   # something else was unpacked
        return None
    count = NUMBER_WORDS[len(cache)] if len(cache) < len(NUMBER_WORDS) else str(len(cache))
    names = cache_names(cache)
    if names:
        contents = ", ".join(names)
        return (f"the cache holds {count} values, {contents}: take the ones you need by name "
                f"(cache.{names[0]}), or unpack all {count}: {contents} = cache.")
    return (f"the cache your batchnorm_train returns holds {count} values: unpack all "
            f"{count}, or take the ones you need by index (cache[0]).")


# -- signatures: the one the exercise asks for, and the one it used to ask for ---------------------

def check_signature(name, function, parameters):
    """Raise Failure when `function` cannot be called with as many positional arguments as
    the exercise's `parameters` (their names, in the order the grader passes them), or when
    one of its parameters has the name of one of the exercise's but another place
    (`dense_backward(x, kernel, grad_output)`), saying what the function takes and what the
    exercise asks for. Other names are fine (`dense_backward(dout, x, w)`)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):   # nothing to read (e.g. a NumPy ufunc): the call will tell
        return
    found = [f"    found:    {name}{signature}", f"    expected: {expected_signature(name)}"]
    if not accepts(signature, len(parameters)):
        old = EXERCISES[name].old
        if old and accepts(signature, old.arguments):
            raise Failure(*old_signature_lines("has the exercise's old signature",
                                               f"{name}{signature}", name, old))
        raise Failure("does not take the exercise's parameters", *found,
                      hint_line("keep the function's parameters as they were given: the "
                                "grader calls it with positional arguments, in that order."))
    names = [parameter.name for parameter in signature.parameters.values() if parameter.kind
             in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD)]
    if any(word in parameters and parameters.index(word) != place
           for place, word in enumerate(names)):
        raise Failure("takes the exercise's parameters in another order", *found,
                      hint_line(f"your parameters are ({', '.join(names)}); the grader passes "
                                f"({', '.join(parameters)}) in that order."))


def accepts(signature, count):
    """True if a function of this signature can be called with `count` positional
    arguments."""
    try:
        signature.bind(*range(count))
    except TypeError:
        return False
    return True


def old_signature_lines(first_line, found, name, old):
    """What a student whose function still has the exercise's old signature is told."""
    return [first_line,
            f"    found:        {found}",
            f"    expected now: {expected_signature(name)}",
            hint_line(f"the exercise used to ask for {old.text}; it now asks for the "
                      f"signature of tinynet's own {name}: {exercise_paths_in(old.change)}")]


def split_outputs(result, name, exercise):
    """The function's result as a list of outputs, checking that there are as many as
    the docstring promises (and whether it returns what the old signature did)."""
    outputs = exercise.outputs
    if result is None:
        raise Failure("returned None: did you forget the `return` statement?")
    if len(outputs) == 1:
        if isinstance(result, tuple) and len(result) == 1:
            return list(result)
        return [result]
    count = len(result) if isinstance(result, (tuple, list)) else 1
    if isinstance(result, (tuple, list)) and count == len(outputs):
        return list(result)
    got = f"{count} values" if isinstance(result, (tuple, list)) else f"one {type(result).__name__}"
    hint = None
    if "cache" in outputs and count > len(outputs):
        hint = ("return y and ONE cache: put everything you keep into a single tuple, e.g. "
                "return y, (x_hat, inv_std, gamma, mu, var).")
    elif "cache" in outputs and count == 1:
        hint = ("return y and a cache, as a tuple: return y, cache. What the cache holds is "
                "up to you" + (" (this batch's mu and var must be in it)."
                               if "mu" in exercise.checked else
                               " (tinynet's keeps x_hat, inv_std and gamma)."))
    if hint and exercise.old and count == exercise.old.results:   # a short aside
        hint += f" (Older copies of this exercise asked for {exercise.old.text}.)"
    raise Failure(f"should return a tuple of {len(outputs)} values "
                  f"({', '.join(outputs)}), got {got}.", hint_line(hint))


# -- grading one function --------------------------------------------------------------------------

@dataclass
class Result:
    name: str
    status: str        # 'pass', 'fail', 'todo' or 'missing'
    lines: list
    notes: set


def grade_function(name, function, path, seed, seconds=None, forward=None):
    """Run every check of exercise `name` on the student's `function` (each call limited to
    `seconds`); `forward` is the file's own forward pass, when the exercise NEEDS the cache
    it makes. Returns a Result."""
    checks = EXERCISES[name].make_checks(np.random.default_rng(seed))
    notes = set()
    printed = LineCounter()
    try:
        with contextlib.redirect_stdout(printed):
            check_signature(name, function, tuple(checks[0].args))
            errors = run_checks(name, function, checks, path, notes, seconds, forward)
        result = Result(name, "pass", pass_lines(len(checks), errors), notes)
    except NotDone:
        result = Result(name, "todo", ["not done yet (it still raises NotImplementedError)"],
                        set())
    except Failure as failure:
        result = Result(name, "fail", failure.lines, notes)
    if printed.lines:
        result.notes.add(f"your function printed {printed.text()} while it was graded (not "
                         f"shown here); call it yourself on one input to see what it prints, "
                         f"and remove the print calls once it works")
    return result


class LineCounter(io.TextIOBase):
    """A stand-in for sys.stdout that counts the lines the student's code prints, and keeps
    none: a print in a loop would otherwise flood the report (or the memory)."""

    def __init__(self):
        super().__init__()
        self.newlines_seen, self.open_line = 0, False

    def writable(self):
        return True

    def write(self, text):
        if text:
            self.newlines_seen += text.count("\n")
            self.open_line = not text.endswith("\n")
        return len(text)

    @property
    def lines(self):
        return self.newlines_seen + self.open_line

    def text(self):
        return "1 line" if self.lines == 1 else f"{self.lines} lines"


def run_checks(name, function, checks, path, notes, seconds, forward):
    """Call `function` on each check and compare what it returns; returns {output:
    {reference: [(relative error, equal bit for bit), one per check]}}, or raises NotDone
    or Failure. A check with wrong outputs fails with the first of them in the order the
    function returns them; the checks after it are run too, so that a known mistake's hint
    is only given when that mistake gives the student's outputs in every check (see
    reproduced)."""
    exercise = EXERCISES[name]
    errors = {output: {} for output in exercise.checked}

    def make_cache(forward_check):
        cache = cache_from_forward(forward_check, forward, NEEDS[name], path, seconds)
        if keeps_input(cache, forward_check.args.get("x")):
            notes.add(f"the cache of {NEEDS[name]} keeps x itself; the point of the cache is "
                      f"that the backward pass needs only x_hat and inv_std (x - mu = x_hat / "
                      f"inv_std): try {name} with the cache the exercise gives")
        return cache

    def run(check, call_notes):
        arguments = call_arguments(check, make_cache)
        before = [value.copy() if isinstance(value, np.ndarray) else None for value in arguments]
        result, seen = call_student(function, arguments, check.label, path, call_notes, seconds,
                                    name)
        note_arguments_written(name, check.args, arguments, before, call_notes)
        got = dict(zip(exercise.outputs, split_outputs(result, name, exercise), strict=True))
        cache_returned_first(got, check, exercise.outputs)
        return got, seen

    in_order = returned_names(function) == exercise.outputs
    runs = []
    for index, check in enumerate(checks):
        got, seen = run(check, notes)
        runs.append((check, got))
        if compare_outputs(name, check, got, seen, in_order, errors):
            runs += list(other_runs(run, checks[index + 1:]))
            problems = compare_outputs(name, confirmed(name, check, runs), got, seen, in_order,
                                       read_with=check)
            raise Failure(*failure_lines(problems, exercise.outputs,
                                         check.order or exercise.checked))
    return errors


def check_rtol(check):
    return RTOL if check.reference == "tinynet" else RTOL_FD


def compare_outputs(name, check, got, seen, in_order, errors=None, read_with=None):
    """The Problems of the outputs `got` of one call of exercise `name`, in the order the
    function returns them ([] when all are right: their errors then go into `errors`).
    `in_order`: the function's return statement names the outputs in the right order.
    `read_with`: the check whose known mistakes help find mu and var in the cache, when
    `check` keeps only some of them (see confirmed)."""
    exercise = EXERCISES[name]
    rtol = check_rtol(check)
    swapped = misplaced(got, check, exercise.outputs, rtol)
    hint = swap_hint(swapped, exercise.outputs, in_order) if swapped else None
    problems = []
    for output in exercise.checked:
        try:
            value = (got[output] if output in got
                     else read_from_cache(got["cache"], output, read_with or check, rtol))
            error, equal = compare_output(output, describe(output, exercise.outputs), value,
                                          check, rtol, seen, name,
                                          hint if output in swapped else None)
        except Wrong as wrong:
            problems.append(wrong.problem)
            continue
        if errors is not None:
            errors[output].setdefault(check.reference, []).append((error, equal))
    return problems


def other_runs(run, checks):
    """(check, outputs) of each of `checks` that `run` gets through (a call that raises, or
    returns the wrong number of values, is left out): the evidence for reproduced."""
    for check in checks:
        try:
            yield check, run(check, set())[0]
        except (Failure, NotDone):
            continue


def confirmed(name, check, runs):
    """`check` keeping only the known mistakes that reproduce the student's outputs in every
    run ((check, outputs) pairs; see reproduced)."""
    values = [(run_check, student_values(name, run_check, got)) for run_check, got in runs]
    return dataclasses.replace(check, mistakes=[mistake for mistake in check.mistakes
                                                if reproduced(mistake, values)])


def student_values(name, check, got):
    """{checked output: the student's value}, those of the cache included when they are
    found in it."""
    values = {}
    for output in EXERCISES[name].checked:
        try:
            values[output] = (got[output] if output in got else
                              read_from_cache(got["cache"], output, check, check_rtol(check)))
        except Wrong:
            continue
    return values


def reproduced(mistake, values):
    """True if the mistake (the same one: its key) gives the student's value in each of
    `values`, (check, {output: value}) pairs, where it can be computed. At t = 1, Adam
    without epsilon and PyTorch's epsilon agree to 1e-6: only the other checks tell them
    apart."""
    for check, got in values:
        twin = next((other for other in check.mistakes
                     if (other.key, other.output) == (mistake.key, mistake.output)), None)
        if twin is None or mistake.output not in got:
            continue
        try:
            value = np.asarray(got[mistake.output], dtype=np.float64)
        except (TypeError, ValueError):
            return False
        if not matches(value, twin.value, check_rtol(check)):
            return False
    return True


def returned_names(function):
    """The names in the first return statement of `function` that returns a tuple of plain
    names (`return dx, dgamma, dbeta`), or () when there is none or no source to read."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return ()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Return) and isinstance(node.value, ast.Tuple)
                and all(isinstance(item, ast.Name) for item in node.value.elts)):
            return tuple(item.id for item in node.value.elts)
    return ()


# How an output is computed: the hint for two outputs computed the wrong way round names them
FORMULAS = {"dgamma": "dgamma = sum(g * x_hat)", "dbeta": "dbeta = sum(g)"}


def swap_hint(swapped, outputs, in_order):
    """The hint for values in another output's place (`swapped`, see misplaced): returned in
    the wrong order, or, when the return statement names them in the right order
    (`in_order`), computed the wrong way round (dgamma, dbeta = dbeta, dgamma)."""
    if not in_order:
        return order_hint(swapped, outputs)
    values = [f"your {output} is what {other} should be" for output, other in swapped.items()]
    formulas = [FORMULAS[output] for output in swapped if output in FORMULAS]
    formulas = f" ({', '.join(formulas)})" if len(formulas) == len(swapped) else ""
    return (f"{and_list(values)}: you return them in the right order, so they are swapped "
            f"in how you compute them{formulas}.")


def cache_returned_first(got, check, outputs):
    """Raise Failure when a forward pass returned (cache, y): a container first, and then an
    array of y's shape."""
    if outputs != ("y", "cache"):
        return
    y, cache = got["y"], got["cache"]
    if (isinstance(cache, np.ndarray) and cache.shape == check.expected["y"].shape
            and (isinstance(y, (tuple, list, dict)) or cache_fields(y))):
        raise Failure(f"returned (cache, y): the first value is a {type(y).__name__}, the "
                      f"second an array of y's shape {cache.shape}",
                      f"    inputs: {check.label}",
                      hint_line("return (y, cache) in that order: y first, then the cache."))


def needs_hint(path):
    """The hint of a batchnorm_backward that cannot be graded for want of a working
    batchnorm_train in the file at `path`."""
    original = exercise_path("batchnorm_backward.py")
    restore = ("" if os.path.abspath(original) == os.path.abspath(path) else
               f" (copy it from {original} if you changed it)")
    return (f"the grader calls the batchnorm_train of {path} to make the cache that "
            f"batchnorm_backward receives, so that one must work first: keep the complete one "
            f"that batchnorm_backward.py gives, with its BatchNormCache{restore}.")


def keeps_input(cache, x):
    """True if one of the cache's entries (a tuple's, a dict's or an object's) is x again."""
    if not isinstance(x, np.ndarray):
        return False
    entries = list(cache_fields(cache).values()) or (
        cache if isinstance(cache, (tuple, list)) else [])  # a plain tuple has no names
    return any(isinstance(entry, np.ndarray) and entry.shape == x.shape
               and np.array_equal(entry, x) for entry in entries)


def cache_from_forward(check, forward, forward_name, path, seconds):
    """The cache that the student's own forward pass returns for the inputs of `check`,
    once its y agrees with tinynet's; raises Failure otherwise, in the name of the function
    that needs the cache."""
    if forward is None:
        raise Failure(f"needs {forward_name}, which makes the cache it receives, and this file "
                      f"has none", hint_line(needs_hint(path)))
    try:
        result, seen = call_student(forward, call_arguments(check), check.label, path, set(),
                                    seconds, forward_name)
        y, cache = split_outputs(result, forward_name, EXERCISES[forward_name])
        compare_output("y", "y", y, check, RTOL, seen, forward_name)
    except NotDone:
        raise Failure(f"cannot be graded yet: {forward_name}, which makes the cache it "
                      f"receives, still raises NotImplementedError",
                      hint_line(needs_hint(path))) from None
    except (Failure, Wrong) as failure:
        lines = failure.lines if isinstance(failure, Failure) else failure.problem.lines
        details = [line for line in lines[1:] if not line.startswith("hint: ")]
        raise Failure(f"cannot be graded: {forward_name}, which makes the cache it receives, "
                      f"failed: {lines[0]}", *details, hint_line(needs_hint(path))) from None
    return cache


def pass_lines(count, errors):
    """'N checks', then one line per output: how close it is to each reference, 'exact
    match with tinynet; largest relative error 2e-10 vs finite differences' (see agreement).
    `errors` is run_checks's {output: {reference: [(relative error, equal), ...]}}."""
    width = max(len(output) for output in errors)
    return [f"{count} checks"] + [f"{output:<{width}}  {agreement(by_reference)}"
                                  for output, by_reference in errors.items()]


def agreement(by_reference):
    """How one output agrees with each reference, from {reference: [(relative error, equal
    bit for bit), one per check]}: 'exact match with tinynet' (equal in every check), 'both
    zero (every entry below 1e-8) for tinynet' (the relative error of tinynet.gradcheck is 0
    also for two arrays that differ but have every entry below 1e-8, which says nothing of
    how close they are), 'largest relative error 1e-14 vs tinynet, 2e-09 vs finite
    differences', joined by '; '."""
    exact, zero, close = [], [], []
    for reference, checks in by_reference.items():
        largest = max(error for error, _ in checks)
        unequal = sum(not equal for _, equal in checks)
        if largest != 0:
            close.append(f"{largest:.0g} vs {reference}")
        elif unequal == 0:
            exact.append(reference)
        else:   # some checks differ, each with both arrays below 1e-8; the others are equal
            zero.append(reference if unequal == len(checks) else
                        f"{reference} in {unequal} of {len(checks)} checks (exact match in "
                        f"the others)")
    return "; ".join(([f"exact match with {' and '.join(exact)}"] if exact else []) +
                     ([f"both zero (every entry below 1e-8) for {' and '.join(zero)}"]
                      if zero else []) +
                     ([f"largest relative error {', '.join(close)}"] if close else []))


# -- which functions a file must define ------------------------------------------------------------

# The exercise files of lessons/exercises/ and the functions each asks for, in EXERCISES order.
EXERCISE_FILES = {
    "sigmoid.py": ("sigmoid_forward", "sigmoid_backward"),
    "dense.py": ("dense_forward", "dense_backward"),
    "batchnorm_forward.py": ("batchnorm_train", "update_moving_statistics",
                             "batchnorm_inference"),
    "batchnorm_backward.py": ("batchnorm_backward",),
    "adam.py": ("adam_step",),
}

# An exercise graded on what another function of the same file returns: batchnorm_backward
# is called with the cache of the file's own batchnorm_train (see ForwardCache), which
# batchnorm_backward.py gives complete. A file holding that helper is not asked for the rest
# of the helper's exercise (update_moving_statistics, batchnorm_inference).
NEEDS = {"batchnorm_backward": "batchnorm_train"}

# Old names of exercise functions ('batchnorm_forward': 'batchnorm_train'): a file that
# still defines one is told the new signature.
OLD_NAMES = {exercise.old.name: name for name, exercise in EXERCISES.items()
             if exercise.old and exercise.old.name != name}


def misspellings(defined):
    """{exercise function: the name in `defined` that is most likely its misspelling, or its
    old name}, for the exercise functions `defined` lacks (e.g. 'sigmoid_forward':
    'sigmoid_foward', 'batchnorm_train': 'batchnorm_forward')."""
    found = {}
    for name in defined:
        if name in EXERCISES:
            continue
        matches = ([OLD_NAMES[name]] if name in OLD_NAMES
                   else difflib.get_close_matches(name, list(EXERCISES), n=1, cutoff=0.75))
        if matches and matches[0] not in defined:
            found.setdefault(matches[0], name)
    return found


def expected_functions(file_name, defined, typos):
    """The exercise functions a file should define: all those of its exercise file, known
    by the file's name or by any of its functions that the file defines (`defined`), even
    misspelled or under an old name (`typos`), in EXERCISES order. A function the file holds
    only because another of its exercises NEEDS it does not make its own exercise expected."""
    present = {name for name in EXERCISES if name in defined or name in typos}
    wanted = set(EXERCISE_FILES.get(file_name, ()))
    helpers = {NEEDS[name] for name in present | wanted if name in NEEDS}
    for names in EXERCISE_FILES.values():
        if any(name in present - helpers for name in names):
            wanted.update(names)
    return [name for name in EXERCISES if name in wanted]


def missing_result(name, typo, function):
    """A Result for an expected function that the file does not define, with a
    did-you-mean when `typo` (a name the file defines instead, `function`) is not None,
    and the new signature when `typo` is the function's old name."""
    old = EXERCISES[name].old
    if typo and old and typo == old.name:
        lines = old_signature_lines("not found in the file, which has the exercise's old "
                                    "signature instead", f"{typo}{signature_text(function)}",
                                    name, old)
        return Result(name, "missing", lines, set())
    if typo:
        hint = hint_line(f"did you mean '{typo}'? Your file defines '{typo}'; the grader "
                         f"looks for the exact name '{name}'.")
    else:
        hint = f"define it with exactly this name: def {name}(...)"
    return Result(name, "missing", ["not found in the file", hint], set())


def signature_text(function):
    """'(x, gamma, beta, epsilon=0.001)', or '(...)' when Python cannot tell."""
    try:
        return str(inspect.signature(function))
    except (TypeError, ValueError):
        return "(...)"


# -- the command line ------------------------------------------------------------------------------

def load_student_file(path, seconds=None):
    """Import the file at `path` as a module, without touching sys.path or sys.modules.

    Whatever goes wrong while the file runs (a syntax error, an exception, sys.exit(), an
    endless loop at the top level, stopped after `seconds`) raises Failure with the lines
    to show the student.
    """
    module_name = "student_" + os.path.splitext(os.path.basename(path))[0]
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    fix = "Fix that first, then run the grader again."
    try:
        with time_limit(seconds, student_file=path):
            spec.loader.exec_module(module)
    except SyntaxError as error:
        raise Failure(f"The file does not import: SyntaxError: {error.msg} (line "
                      f"{error.lineno})", f"    {(error.text or '').rstrip()}", fix) from None
    except TimeLimit:
        raise Failure(f"Importing the file did not finish within {seconds:g} s: is there an "
                      "endless loop outside the functions?", fix) from None
    except SystemExit as error:
        raise Failure(f"The file calls sys.exit({error.code!r}) (or exit()) while it is "
                      "imported, so nothing could be graded.",
                      *["  " + line for line in line_in_student_file(error, path)],
                      "Remove that call: the grader imports your file to find its "
                      "functions.") from None
    except Exception as error:   # an exception at the top level of the student's file
        raise Failure(f"The file does not import: {type(error).__name__}: {error}",
                      *["  " + line for line in line_in_student_file(error, path)],
                      fix) from None
    return module


def defined_functions(module):
    """Names of the functions (anything callable) at the top level of the student's file."""
    return [name for name, value in vars(module).items() if callable(value)]


def grade_file(path, seed=0, print_fn=print, seconds=None):
    """Grade the exercise functions of the file; returns True only if every function the
    file should define is there and passes. `seconds` limits the import and each call."""
    print_fn(f"Grading {path}")
    if not os.path.isfile(path) or not path.endswith(".py"):
        problem = "There is no file" if not os.path.isfile(path) else "Not a Python file:"
        print_fn(f"  {problem} {path}. The exercises are in {EXERCISE_FOLDER}/:")
        print_fn(f"  {', '.join(list_exercise_files())}")
        return False
    printed = LineCounter()
    try:
        with contextlib.redirect_stdout(printed):
            module = load_student_file(path, seconds)
    except Failure as failure:
        for line in failure.lines:
            print_fn("  " + line)
        return False
    if printed.lines:
        print_fn(f"  note: the file printed {printed.text()} as it was imported (not shown "
                 f"here)")
    defined = defined_functions(module)
    typos = misspellings(defined)
    expected = expected_functions(os.path.basename(path), defined, typos)
    if not expected:
        print_fn(f"  None of the functions the grader knows is in this file. It knows: "
                 f"{', '.join(EXERCISES)}.")
        return False
    results = [grade_or_miss(name, module, typos.get(name), path, seed, seconds)
               for name in expected]
    print_results(results, print_fn)
    return all(result.status == "pass" for result in results)


def grade_or_miss(name, module, typo, path, seed, seconds):
    """The Result of exercise `name` in the student's module: graded, or missing."""
    functions = vars(module)
    if not callable(functions.get(name)):
        return missing_result(name, typo, functions.get(typo))
    forward = functions.get(NEEDS[name]) if name in NEEDS else None
    return grade_function(name, functions[name], path, seed, seconds, forward)


STATUS_WORDS = {"pass": "PASS", "fail": "FAIL", "todo": "TODO", "missing": "MISS"}


def print_results(results, print_fn):
    """One block per function, then a summary line that never congratulates too early."""
    width = max(len(result.name) for result in results)
    for result in results:
        status = STATUS_WORDS[result.status]
        if result.status in ("fail", "missing"):
            print_fn(f"  {status}  {result.name}")
            details = result.lines
        else:
            print_fn(f"  {status}  {result.name:<{width}}  {result.lines[0]}")
            details = result.lines[1:]
        for line in details + [f"note: {note}" for note in sorted(result.notes)]:
            print_fn(wrap(line, indent=8))
    count = {status: sum(result.status == status for result in results)
             for status in STATUS_WORDS}
    print_fn("")
    functions = "1 function" if len(results) == 1 else f"{len(results)} functions"
    if count["pass"] == len(results):
        everyone = {1: "It passes", 2: "Both functions pass"}.get(len(results),
                                                                  f"All {functions} pass")
        print_fn(f"  {everyone}. Well done!")
    elif count["todo"] == len(results):
        print_fn("  Nothing done yet: replace each `raise NotImplementedError` with your code")
        print_fn("  (the docstrings say what to compute), then run the grader again.")
    elif count["missing"]:
        print_fn(f"  Passed: {count['pass']} of {functions}; {count['missing']} "
                 f"missing: the grader needs each of them, with exactly its name.")
    else:
        print_fn(f"  Passed: {count['pass']} of {functions}. Fix the first problem "
                 f"above, save, and run the grader again.")


def wrap(line, indent):
    """Indent a detail line; hints and notes (prose) are wrapped to 100 columns and continue
    under their first word. Lines with values and code are never broken."""
    if not line.startswith(("hint: ", "note: ")):
        return " " * indent + line
    return textwrap.fill(line, width=100, initial_indent=" " * indent,
                         subsequent_indent=" " * (indent + 6), break_on_hyphens=False,
                         break_long_words=False)


def exercise_folder():
    """lessons/exercises/ of this copy of tinynet, as an absolute path."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                        EXERCISE_FOLDER)


def list_exercise_files():
    here = exercise_folder()
    if not os.path.isdir(here):
        return []
    return sorted(name for name in os.listdir(here) if name.endswith(".py"))


def exercise_path(file_name):
    """Where the exercise file `file_name` is, as it comes with tinynet: relative to the
    current directory when it is below it (lessons/exercises/adam.py), absolute otherwise.
    Hints name it for what the exercise asks now, which a student's older copy may lack."""
    path = os.path.join(exercise_folder(), file_name)
    try:
        relative = os.path.relpath(path)
    except ValueError:   # another drive, on Windows
        return path
    return path if relative.startswith(os.pardir) else relative


def exercise_paths_in(text):
    """`text` with each '{file.py}' replaced by exercise_path('file.py')."""
    return re.sub(r"\{(\w+\.py)\}", lambda match: exercise_path(match.group(1)), text)


TIME_LIMIT = 10.0   # seconds for the import and for each call of a student's function


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="tinynet-grade",
        description="Check your exercise solutions against tinynet and finite differences.",
        epilog=f"example: python -m tinynet.grade {EXERCISE_FOLDER}/sigmoid.py")
    parser.add_argument("paths", nargs="+", metavar="FILE", help="exercise file(s) to grade")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the random test inputs (default 0)")
    parser.add_argument("--time-limit", type=float, default=TIME_LIMIT, metavar="SECONDS",
                        help=f"stop a file's import or a function call that runs longer "
                             f"(default {TIME_LIMIT:g})")
    args = parser.parse_args(argv)
    all_pass = True
    for i, path in enumerate(args.paths):
        if i:
            print()
        all_pass &= grade_file(path, seed=args.seed, seconds=args.time_limit)
    return 0 if all_pass else 1


if __name__ == "__main__":
    sys.exit(main())
