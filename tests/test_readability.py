"""tinynet is read more than it is run: these tests keep the code a student follows short.

They measure one training step, from fit's loop down to BatchNormalization's backward and
Adam's update, in lines of code (docstrings, comments, blank lines and argument checks that
only raise errors left out), and print the count so that the next change can see its effect
(`python -m pytest tests/test_readability.py -s`). They also hold every function in tinynet/
to at most 60 lines and every layer method to at most 25 lines of code, and check that a
student's own layer may assign its gradients instead of writing into arrays in place.
"""

import ast
import inspect
import pathlib
import textwrap

import numpy as np
import pytest

import tinynet
from tinynet import losses, metrics, models, optimizers
from tinynet.layers import activation, base, batchnorm, dense
from tinynet.layers.base import Layer
from tinynet.models import Sequential
from tinynet.optimizers import SGD

ROOT = pathlib.Path(tinynet.__file__).parent

# One step of fit on the article's model (Dense, BN, ReLU, sigmoid output, binary
# cross-entropy, accuracy, Adam), in the order a reader meets the functions.
ONE_TRAINING_STEP = [
    models.Sequential.train_epoch, models.FitPlan.batches, models.Sequential.sync_parameters,
    models.Sequential.train_step, models.Sequential.forward,
    dense.Dense.forward, activation.Activation.forward, activation.relu, activation.sigmoid,
    batchnorm.BatchNormalization.forward, batchnorm.batchnorm_train,
    batchnorm.sum_over_batch, batchnorm.ones,
    batchnorm.BatchNormalization.update_moving_statistics,
    losses.Loss.loss_and_gradient, losses.BinaryCrossentropy.call_and_gradient,
    models.Sequential.regularization_loss,
    models.Sequential.backward, dense.Dense.backward, activation.Activation.backward,
    activation.relu_backward, activation.sigmoid_backward,
    batchnorm.BatchNormalization.backward, batchnorm.batchnorm_backward,
    base.Layer.add_regularization_gradients, models.Sequential.gather_gradients,
    optimizers.Optimizer.apply, optimizers.Optimizer.current_learning_rate,
    optimizers.Adam.update, models.Sequential.update_metrics,
    metrics.MeanMetricWrapper.update_state, metrics.binary_accuracy, metrics.match_shapes,
    metrics.Mean.update_state, metrics.Mean.result,
]


def is_check(node):
    """An argument check: `if ...: raise ...` or `if ...: warnings.warn(...)` with nothing
    else, or a call to a check_* function."""
    if isinstance(node, ast.If) and not node.orelse:
        return all(isinstance(s, ast.Raise) or (isinstance(s, ast.Expr) and "warn" in
                   ast.unparse(s.value).split("(")[0]) for s in node.body)
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Call) and \
        ast.unparse(node.value.func).split(".")[-1].startswith("check")


def code_lines(function_node, lines):
    """Lines of a function that a reader reads: not the docstring, comments, blank lines, or
    argument checks (see is_check)."""
    skip = set()
    body = function_node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        skip.update(range(body[0].lineno, body[0].end_lineno + 1))
    for node in ast.walk(function_node):
        if is_check(node):
            skip.update(range(node.lineno, node.end_lineno + 1))
    count = 0
    for number in range(function_node.lineno, function_node.end_lineno + 1):
        text = lines[number - 1].strip()
        if text and not text.startswith("#") and number not in skip:
            count += 1
    return count


def function_node(function):
    source = textwrap.dedent(inspect.getsource(function))
    return ast.parse(source).body[0], source.splitlines()


# The goal is 150 lines. Measured: 291 (without the checks) before the step was rewritten, 192
# after the first rewrite, 184 once the loss gave its value and gradient from one pass and BN's
# statistics moved into batchnorm_train. What remains above the goal is Keras-exact work a plain
# step would not have: the epoch's running metrics (26 lines: update_metrics and the Mean
# metric behind accuracy), the loss with sample weights and its clipped gradient (19), the
# regularizers' hooks (5), freezing between steps (4). The bound keeps the step from growing.
STEP_LINE_BUDGET = 186


def test_one_training_step_reads_in_at_most_the_budget(capsys):
    counts = [(f.__qualname__, code_lines(*function_node(f))) for f in ONE_TRAINING_STEP]
    total = sum(count for _, count in counts)
    with capsys.disabled():
        print(f"\none training step: {len(counts)} functions, {total} lines of code")
        for name, count in counts:
            print(f"  {count:4d}  {name}")
    assert total <= STEP_LINE_BUDGET


def test_train_step_is_four_labelled_lines():
    node, lines = function_node(models.Sequential.train_step)
    text = "\n".join(lines)
    for label in ("# forward", "# loss", "# backward", "# update"):
        assert label in text
    assert code_lines(node, lines) <= 10


def all_functions():
    for path in sorted(ROOT.rglob("*.py")):
        source = path.read_text()
        lines = source.splitlines()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.ClassDef):
                for item in node.body:
                    if isinstance(item, ast.FunctionDef):
                        item.class_name = node.name
            if isinstance(node, ast.FunctionDef):
                yield path, node, lines


def test_no_function_in_tinynet_is_over_60_lines():
    long = [f"{path.relative_to(ROOT)}:{node.name} ({node.end_lineno - node.lineno + 1})"
            for path, node, _ in all_functions() if node.end_lineno - node.lineno + 1 > 60]
    assert long == []


def test_no_layer_method_is_over_25_lines_of_code():
    long = [f"{path.name}:{node.name} ({code_lines(node, lines)})"
            for path, node, lines in all_functions()
            if path.parent.name == "layers" and hasattr(node, "class_name")
            and code_lines(node, lines) > 25]
    assert long == []


class Scale(Layer):
    """A student's layer: y = x * gamma, with the gradient ASSIGNED (not written in place)."""

    weight_order = ("gamma",)

    def build(self, input_shape):
        self.params["gamma"] = np.ones(input_shape[-1], dtype=self.dtype)
        super().build(input_shape)

    def forward(self, x, training=False):
        self.x = x
        return x * self.params["gamma"]

    def backward(self, grad_output):
        self.grads["gamma"] = (grad_output * self.x).sum(axis=0)  # a new array every step
        return grad_output * self.params["gamma"]


def test_a_student_layer_that_assigns_its_gradients_trains():
    tinynet.set_seed(0)
    x = np.random.default_rng(0).normal(size=(16, 3)).astype(np.float32)
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32)
    model = Sequential([Scale(input_shape=(3,)), tinynet.layers.Dense(1)])
    model.compile(optimizer=SGD(0.1), loss="mse")
    # the gradient of the loss with respect to gamma, worked out by hand for the first step
    kernel, bias = model.layers[1].params["kernel"].copy(), model.layers[1].params["bias"]
    residual = (x @ kernel + bias) - y                        # (16, 1)
    expected_grad = (2 / 16) * (residual @ kernel.T * x).sum(axis=0)
    model.train_on_batch(x, y)
    np.testing.assert_allclose(model.layers[0].params["gamma"], 1 - 0.1 * expected_grad,
                               rtol=1e-5)
    losses_seen = [model.train_on_batch(x, y) for _ in range(50)]
    assert losses_seen[-1] < 0.5 * losses_seen[0]


def test_replacing_a_weight_array_instead_of_writing_into_it_is_an_error():
    tinynet.set_seed(0)
    x = np.ones((4, 2), dtype=np.float32)
    model = Sequential([tinynet.layers.Dense(1, input_shape=(2,))])
    model.compile(optimizer=SGD(0.0001), loss="mse")
    model.layers[0].params["kernel"] = np.full((2, 1), 5.0, dtype=np.float32)  # a new array
    with pytest.raises(RuntimeError, match=r"replaced by a new array.*\[\.\.\.\] = "):
        model.train_on_batch(x, np.zeros((4, 1)))
