"""The student grader: passes right answers, names the usual mistakes, and says "not done yet"
for the untouched exercise files.

The correct solutions live here, in the tests, and never in lessons/exercises/.
"""

import ast
import inspect
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from tinynet import grade
from tinynet.layers import batchnorm
from tinynet.optimizers import Adam

EXERCISES = pathlib.Path(__file__).resolve().parent.parent / "lessons" / "exercises"
EXERCISE_FILES = sorted(EXERCISES.glob("*.py"))

# Plain NumPy solutions, the way a student would write them.
SOLUTION = textwrap.dedent('''
    import numpy as np


    def sigmoid_forward(x):
        e = np.exp(-np.abs(x))
        return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


    def sigmoid_backward(grad_output, y):
        return grad_output * y * (1 - y)


    def dense_forward(x, kernel, bias):
        return x @ kernel + bias


    def dense_backward(grad_output, x, kernel):
        dx = grad_output @ kernel.T
        dkernel = x.T @ grad_output
        dbias = grad_output.sum(axis=0)
        return dx, dkernel, dbias


    def batchnorm_train(x, gamma, beta, epsilon=1e-3):
        mu = x.mean(axis=0)
        var = ((x - mu) ** 2).mean(axis=0)
        inv_std = 1 / np.sqrt(var + epsilon)
        x_hat = (x - mu) * inv_std
        return gamma * x_hat + beta, (x_hat, inv_std, gamma, mu, var)


    def update_moving_statistics(moving_mean, moving_variance, mu, var, momentum=0.99):
        new_mean = momentum * moving_mean + (1 - momentum) * mu
        new_variance = momentum * moving_variance + (1 - momentum) * var
        return new_mean, new_variance


    def batchnorm_inference(x, gamma, beta, moving_mean, moving_variance, epsilon=1e-3):
        inv_std = 1 / np.sqrt(moving_variance + epsilon)
        x_hat = (x - moving_mean) * inv_std
        return gamma * x_hat + beta, (x_hat, inv_std, gamma)


    def batchnorm_backward(grad_output, cache):
        x_hat, inv_std, gamma, _, _ = cache
        n = grad_output.shape[0]
        dbeta = grad_output.sum(axis=0)
        dgamma = (grad_output * x_hat).sum(axis=0)
        a = grad_output * gamma
        dx = (n * a - a.sum(axis=0) - x_hat * (a * x_hat).sum(axis=0)) * inv_std / n
        return dx, dgamma, dbeta


    def adam_step(param, grad, m, v, t, learning_rate=0.001, beta_1=0.9, beta_2=0.999,
                  epsilon=1e-7):
        m = beta_1 * m + (1 - beta_1) * grad
        v = beta_2 * v + (1 - beta_2) * grad ** 2
        alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        return param - alpha * m / (np.sqrt(v) + epsilon), m, v
''')

# The same functions answered by tinynet's own layers (all but adam_step: an optimizer cannot
# be put at step t with given m and v through its public calls; see the Adam test below).
# The three BN functions are the layer's own, imported as they are: the exercises ask for
# exactly their signatures.
TINYNET_SOLUTION = textwrap.dedent('''
    import numpy as np

    from tinynet.layers import Activation, BatchNormalization, Dense
    from tinynet.layers.batchnorm import batchnorm_backward, batchnorm_inference, batchnorm_train


    def sigmoid_forward(x):
        return Activation("sigmoid", dtype="float64").forward(x)


    def sigmoid_backward(grad_output, y):
        layer = Activation("sigmoid", dtype="float64")
        layer.forward(np.log(y) - np.log1p(-y))   # x = logit(y), so that the layer keeps y
        return layer.backward(grad_output)


    def dense_layer(kernel, bias):
        layer = Dense(kernel.shape[1], kernel_initializer="zeros", dtype="float64")
        layer.build((None, kernel.shape[0]))
        layer.set_weights([kernel, bias])
        return layer


    def dense_forward(x, kernel, bias):
        return dense_layer(kernel, bias).forward(x)


    def dense_backward(grad_output, x, kernel):
        layer = dense_layer(kernel, np.zeros(kernel.shape[1]))
        layer.forward(x)
        dx = layer.backward(grad_output)
        return dx, layer.grads["kernel"], layer.grads["bias"]


    def update_moving_statistics(moving_mean, moving_variance, mu, var, momentum=0.99):
        layer = BatchNormalization(momentum=momentum, dtype="float64")
        layer.build((None, mu.shape[0]))
        layer.set_weights([np.ones_like(mu), np.zeros_like(mu), moving_mean, moving_variance])
        layer.update_moving_statistics(mu, var)
        return layer.state["moving_mean"], layer.state["moving_variance"]
''')


def run_grader(tmp_path, capsys, source, name="solution.py"):
    """Write `source` to a file, grade it; returns (exit code, printed text)."""
    path = tmp_path / name
    path.write_text(source)
    code = grade.main([str(path)])
    return code, capsys.readouterr().out


def status_lines(output):
    """{function name: 'PASS' / 'FAIL' / 'TODO' / 'MISS'} from the grader's report."""
    result = {}
    for line in output.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0] in ("PASS", "FAIL", "TODO", "MISS"):
            result[words[1]] = words[0]
    return result


def broken(old, new):
    """The plain solution with one deliberate mistake."""
    assert old in SOLUTION, old
    return SOLUTION.replace(old, new)


# -- right answers pass --------------------------------------------------------------------------

def test_grader_passes_plain_numpy_solutions(tmp_path, capsys):
    code, output = run_grader(tmp_path, capsys, SOLUTION)
    assert status_lines(output) == {name: "PASS" for name in grade.EXERCISES}, output
    assert "All 9 functions pass" in output
    assert code == 0


def test_grader_passes_tinynets_own_implementations(tmp_path, capsys):
    code, output = run_grader(tmp_path, capsys, TINYNET_SOLUTION)
    assert status_lines(output) == {name: "PASS" for name in grade.EXERCISES
                                    if name != "adam_step"}, output
    assert code == 0


def test_the_graders_adam_reference_takes_the_same_steps_as_tinynets_adam():
    rng = np.random.default_rng(0)
    start = rng.normal(size=(3, 4))
    grads = [rng.normal(size=(3, 4)) for _ in range(4)]
    settings = (0.05, 0.8, 0.99, 1e-3)   # learning_rate, beta_1, beta_2, epsilon
    optimizer = Adam(*settings)
    param = start.copy()
    reference = {"param_new": start.copy(), "m_new": np.zeros((3, 4)),
                 "v_new": np.zeros((3, 4))}
    for t, grad in enumerate(grads, start=1):
        optimizer.apply([param], [grad.copy()])
        reference = grade.keras_adam_step(reference["param_new"], grad, reference["m_new"],
                                          reference["v_new"], t, *settings)
        np.testing.assert_allclose(param, reference["param_new"], rtol=1e-12, atol=1e-15)


def output_lines(output, function):
    """The lines under the PASS line of `function`: one per output."""
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  PASS  {function} "))
    following = []
    for line in lines[start + 1:]:
        if not line.startswith(" " * 8) or line.strip().startswith("note:"):
            break
        following.append(line.strip())
    return following


def test_backward_passes_are_also_checked_against_finite_differences(tmp_path, capsys):
    _, output = run_grader(tmp_path, capsys, SOLUTION)
    for function, gradients in [("sigmoid_backward", ["dx"]),
                                ("dense_backward", ["dx", "dkernel", "dbias"]),
                                ("batchnorm_backward", ["dx", "dgamma", "dbeta"])]:
        lines = output_lines(output, function)
        assert [line.split()[0] for line in lines] == gradients, output
        assert all(line.endswith("vs finite differences") for line in lines), output


def test_every_pass_reads_the_same_way_one_line_per_output(tmp_path, capsys):
    _, output = run_grader(tmp_path, capsys, SOLUTION)
    for name, exercise in grade.EXERCISES.items():
        head = next(line for line in output.splitlines() if line.startswith(f"  PASS  {name} "))
        assert head.split()[2:] == [str(len(exercise.make_checks(np.random.default_rng(0)))),
                                    "checks"], head
        lines = output_lines(output, name)
        assert [line.split()[0] for line in lines] == list(exercise.checked), output
        for line in lines:
            assert line.split(maxsplit=1)[1].startswith(("exact match with tinynet",
                                                         "largest relative error")), line
    assert "<= 0" not in output and "error 0 " not in output
    # an output equal to tinynet's, bit for bit, says so
    assert output_lines(output, "update_moving_statistics")[0].endswith(
        "exact match with tinynet")


def tiny_dense_forward_checks(rng):
    """One dense_forward check whose z (4, 2) has every entry below 1e-8 (x and kernel of
    about 1e-5, bias 0), where relative_error is 0 whatever the two arrays hold."""
    x, kernel, bias, _ = grade.dense_inputs(rng, 4, 3, 2)
    check = grade.dense_forward_check(1e-5 * x, 1e-5 * kernel, 0 * bias)
    assert np.max(np.abs(check.expected["z"])) < 1e-8
    return [check]


def test_two_tiny_arrays_that_differ_are_both_zero_not_an_exact_match(tmp_path, capsys,
                                                                      monkeypatch):
    monkeypatch.setattr(grade.EXERCISES["dense_forward"], "make_checks",
                        tiny_dense_forward_checks)
    zeros = solution_of("dense_forward", "dense_backward").replace(
        "return x @ kernel + bias", "return np.zeros((x.shape[0], kernel.shape[1]))")
    _, output = run_grader(tmp_path, capsys, zeros)
    assert output_lines(output, "dense_forward") == [
        "z  both zero (every entry below 1e-8) for tinynet"], output


def test_two_tiny_arrays_that_are_equal_are_an_exact_match(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(grade.EXERCISES["dense_forward"], "make_checks",
                        tiny_dense_forward_checks)
    _, output = run_grader(tmp_path, capsys, solution_of("dense_forward", "dense_backward"))
    assert output_lines(output, "dense_forward") == ["z  exact match with tinynet"], output


def test_agreement_says_which_checks_were_only_both_zero():
    assert grade.agreement({"tinynet": [(0.0, True), (0.0, False)]}) == (
        "both zero (every entry below 1e-8) for tinynet in 1 of 2 checks (exact match in "
        "the others)")
    assert grade.agreement({"tinynet": [(0.0, True), (3e-15, False)],
                            "finite differences": [(0.0, False)]}) == (
        "both zero (every entry below 1e-8) for finite differences; largest relative error "
        "3e-15 vs tinynet")


def solution_of(*names):
    """SOLUTION with only the functions `names`."""
    parts = SOLUTION.split("\n\n\n")
    return "\n\n\n".join([parts[0]] + [part for part in parts[1:]
                                       if part.split("(")[0].split()[-1] in names])


@pytest.mark.parametrize("names, words", [
    (("adam_step",), "It passes. Well done!"),
    (("sigmoid_forward", "sigmoid_backward"), "Both functions pass. Well done!"),
    (("batchnorm_train", "update_moving_statistics", "batchnorm_inference"),
     "All 3 functions pass. Well done!"),
])
def test_the_summary_counts_in_words(tmp_path, capsys, names, words):
    code, output = run_grader(tmp_path, capsys, solution_of(*names), name="mine.py")
    assert status_lines(output) == {name: "PASS" for name in names}, output
    assert output.rstrip().endswith(words)
    assert code == 0


# -- the usual mistakes fail, with the right hint --------------------------------------------------

MISTAKES = {
    "unbiased variance in the forward pass": (
        "var = ((x - mu) ** 2).mean(axis=0)\n    inv_std",
        "var = x.var(axis=0, ddof=1)\n    inv_std",
        "batchnorm_train", "unbiased variance"),
    "the standard deviation kept as var": (
        "return gamma * x_hat + beta, (x_hat, inv_std, gamma, mu, var)",
        "return gamma * x_hat + beta, (x_hat, inv_std, gamma, mu, np.sqrt(var))",
        "batchnorm_train", "that is the standard deviation"),
    "var + epsilon kept as var": (
        "return gamma * x_hat + beta, (x_hat, inv_std, gamma, mu, var)",
        "from collections import namedtuple\n"
        "    Cache = namedtuple('Cache', 'x_hat inv_std gamma mu var')\n"
        "    return gamma * x_hat + beta, Cache(x_hat, inv_std, gamma, mu, var + epsilon)",
        "batchnorm_train", "keep the plain batch variance in the cache"),
    "dx missing its 1/N": (
        "* inv_std / n", "* inv_std", "batchnorm_backward", "missed the 1/N"),
    "dx paths through mu and var missing their 1/N": (
        "dx = (n * a - a.sum(axis=0) - x_hat * (a * x_hat).sum(axis=0)) * inv_std / n",
        "dx = (a - a.sum(axis=0) - x_hat * (a * x_hat).sum(axis=0)) * inv_std",
        "batchnorm_backward", "missed the 1/N"),
    "dx as if mu and var were constants": (
        "dx = (n * a - a.sum(axis=0) - x_hat * (a * x_hat).sum(axis=0)) * inv_std / n",
        "dx = a * inv_std", "batchnorm_backward", "direct path"),
    "the variance path with the wrong sign": (
        "dx = (n * a - a.sum(axis=0) - x_hat * (a * x_hat).sum(axis=0)) * inv_std / n",
        "dx = (n * a - a.sum(axis=0) + x_hat * (a * x_hat).sum(axis=0)) * inv_std / n",
        "batchnorm_backward", "the path through var has the wrong sign"),
    "dvar/dx divided by N - 1": (
        "dx = (n * a - a.sum(axis=0) - x_hat * (a * x_hat).sum(axis=0)) * inv_std / n",
        "dx = (a - a.sum(axis=0) / n - x_hat * (a * x_hat).sum(axis=0) / (n - 1)) * inv_std",
        "batchnorm_backward", "divided by N - 1 in dvar/dx"),
    "BN bias gradient not summed over the batch": (
        "return dx, dgamma, dbeta", "return dx, dgamma, grad_output",
        "batchnorm_backward", "forgot to sum over the batch"),
    "Dense bias gradient not summed over the batch": (
        "dbias = grad_output.sum(axis=0)", "dbias = grad_output",
        "dense_backward", "forgot to sum over the batch"),
    "Dense bias gradient averaged": (
        "dbias = grad_output.sum(axis=0)", "dbias = grad_output.mean(axis=0)",
        "dense_backward", "divided by N"),
    "Dense kernel gradient transposed": (
        "dkernel = x.T @ grad_output", "dkernel = grad_output.T @ x",
        "dense_backward", "transposed"),
    "BN statistics over the wrong axis": (
        "mu = x.mean(axis=0)\n    var = ((x - mu) ** 2).mean(axis=0)\n    inv_std",
        "mu = x.mean(axis=1, keepdims=True)\n    var = ((x - mu) ** 2).mean(axis=1, "
        "keepdims=True)\n    inv_std",
        "batchnorm_train", "axis 1"),
    "a BN backward sum over the wrong axis": (
        "x_hat * (a * x_hat).sum(axis=0)", "x_hat * (a * x_hat).sum(axis=1, keepdims=True)",
        "batchnorm_backward", "axis 1"),
    "BN bias gradient over the wrong axis": (
        "dbeta = grad_output.sum(axis=0)", "dbeta = grad_output.sum(axis=1)",
        "batchnorm_backward", "axis 1"),
    "epsilon outside the square root": (
        "inv_std = 1 / np.sqrt(var + epsilon)",
        "inv_std = 1 / (np.sqrt(var) + epsilon)",
        "batchnorm_train", "INSIDE the square root"),
    "inference with the batch statistics": (
        "inv_std = 1 / np.sqrt(moving_variance + epsilon)\n"
        "    x_hat = (x - moving_mean) * inv_std\n"
        "    return gamma * x_hat + beta, (x_hat, inv_std, gamma)",
        "return batchnorm_train(x, gamma, beta, epsilon)",
        "batchnorm_inference", "training mode"),
    "PyTorch's momentum convention": (
        "new_mean = momentum * moving_mean + (1 - momentum) * mu",
        "new_mean = (1 - momentum) * moving_mean + momentum * mu",
        "update_moving_statistics", "PyTorch's convention"),
    "Adam without bias correction": (
        "alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)",
        "alpha = learning_rate", "adam_step", "forgot the bias correction"),
    "Adam with PyTorch's epsilon": (
        "return param - alpha * m / (np.sqrt(v) + epsilon), m, v",
        "return param - learning_rate * (m / (1 - beta_1 ** t)) / "
        "(np.sqrt(v / (1 - beta_2 ** t)) + epsilon), m, v",
        "adam_step", "PyTorch's order"),
    "Adam with epsilon inside the square root": (
        "return param - alpha * m / (np.sqrt(v) + epsilon), m, v",
        "return param - alpha * m / np.sqrt(v + epsilon), m, v",
        "adam_step", "outside the square root"),
    "sigmoid backward without grad_output": (
        "return grad_output * y * (1 - y)", "return y * (1 - y)",
        "sigmoid_backward", "forgot to multiply by grad_output"),
    "dgamma without x_hat": (
        "dgamma = (grad_output * x_hat).sum(axis=0)", "dgamma = grad_output.sum(axis=0)",
        "batchnorm_backward", "dgamma sums g * x_hat over the batch, not g alone: gamma "
        "multiplies x_hat"),
    "a backward pass that looks for x": (
        "n = grad_output.shape[0]", "n = x.shape[0]",
        "batchnorm_backward", "receives no x, only grad_output and the cache: the cache has "
        "what is needed, x - mu = x_hat / inv_std."),
    "the cache unpacked into too few names": (
        "x_hat, inv_std, gamma, _, _ = cache", "x_hat, inv_std, gamma = cache",
        "batchnorm_backward", "the cache your batchnorm_train returns holds five values: "
        "unpack all five"),
    "Adam's step count off by one": (
        "alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)",
        "alpha = learning_rate * np.sqrt(1 - beta_2 ** (t - 1)) / (1 - beta_1 ** (t - 1))",
        "adam_step", "x/0 gives inf and 0/0 gives nan. Look at the denominators, e.g. "
        "1 - beta_1**t, which is 0 for t = 0"),
    "Adam's step count off by one, in Python floats": (
        "alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)",
        "alpha = learning_rate * (1 - beta_2 ** (t - 1)) ** 0.5 / (1 - beta_1 ** (t - 1))",
        "adam_step", "a division by zero: x/0 gives inf and 0/0 gives nan. Look at the "
        "denominators, e.g. 1 - beta_1**t"),
}


def report_of(output, function):
    """The grader's report on `function` (FAIL or MISS), up to the end of the output."""
    return output[output.index(f"  {function}\n") - 6:]


def hint_of(output, function):
    """The hint the grader gave for `function`, with the line wrapping undone."""
    report = report_of(output, function)
    return " ".join(report[report.index("hint:"):].split())


@pytest.mark.parametrize("mistake", list(MISTAKES))
def test_a_usual_mistake_fails_with_the_hint_that_names_it(tmp_path, capsys, mistake):
    old, new, function, hint = MISTAKES[mistake]
    code, output = run_grader(tmp_path, capsys, broken(old, new))
    statuses = status_lines(output)
    assert statuses[function] == "FAIL", output
    # every other function still passes: the failure is pinned on the right one. Only a
    # function graded on its results (batchnorm_backward, on batchnorm_train's cache) may
    # fail with it, when its y is wrong, and then says why
    dependents = [name for name, needed in grade.NEEDS.items() if needed == function]
    failing = [name for name, status in statuses.items() if status != "PASS"]
    assert failing[0] == function and set(failing[1:]) <= set(dependents), output
    assert hint in hint_of(output, function), output
    for name in failing[1:]:
        assert f"cannot be graded: {function}, which makes the cache it receives" in \
            report_of(output, name)
    assert code == 1


# Every known BN mistake, answered on its own by a stand-in for the student, must get its hint
# through the new signatures (the cache, the ForwardCache of batchnorm_backward).
BN_EXERCISES = ("batchnorm_train", "update_moving_statistics", "batchnorm_inference",
                "batchnorm_backward")
BN_MISTAKES = list(dict.fromkeys(
    (name, mistake.output, mistake.hint) for name in BN_EXERCISES
    for mistake in grade.EXERCISES[name].make_checks(np.random.default_rng(0))[0].mistakes))


def answering_with(name, output, hint):
    """A function that answers as tinynet does, except `output`: the known mistake that has
    this hint in the first check, made in every check (batchnorm_train keeps mu and var in a
    dict)."""
    checks = grade.EXERCISES[name].make_checks(np.random.default_rng(0))
    key = next(m.key for m in checks[0].mistakes if (m.output, m.hint) == (output, hint))

    def function(*args):
        check = next(c for c in checks if np.array_equal(next(iter(c.args.values())), args[0]))
        got = dict(check.expected)
        got.update({m.output: m.value for m in check.mistakes if (m.output, m.key) == (
            output, key)})
        if name == "batchnorm_train":
            return got["y"], {"mu": got["mu"], "var": got["var"]}
        if name == "batchnorm_inference":
            return got["y"], None
        return tuple(got[returned] for returned in grade.EXERCISES[name].outputs)
    return function


@pytest.mark.parametrize("name, output, hint", BN_MISTAKES,
                         ids=[f"{name}-{output}-{i}" for i, (name, output, _) in
                              enumerate(BN_MISTAKES)])
def test_every_known_bn_mistake_is_diagnosed(name, output, hint):
    result = grade.grade_function(name, answering_with(name, output, hint), "student.py", 0,
                                  forward=batchnorm.batchnorm_train)
    text = " ".join(" ".join(result.lines).split())
    first = grade.EXERCISES[name].make_checks(np.random.default_rng(0))[0]
    mistake = next(m for m in first.mistakes if (m.output, m.hint) == (output, hint))
    assert result.status == "fail"
    if mistake.value.shape == first.expected[output].shape:
        assert " ".join(hint.split()) in text, text
    else:   # e.g. a mean over axis 1: its shape tells first ("you reduced over axis 1 ...")
        assert "has the wrong shape" in text, text
        assert "axis 1" in text or "every axis" in text, text


# A student may choose another cache: this batchnorm_train keeps x itself, and the backward
# pass recomputes the statistics from it (as the exercise did before it took the layer's
# signatures). The mistakes below are only possible with such a cache.
OWN_CACHE_SOLUTION = textwrap.dedent('''
    import numpy as np


    def batchnorm_train(x, gamma, beta, epsilon=1e-3):
        mu = x.mean(axis=0)
        var = ((x - mu) ** 2).mean(axis=0)
        y = gamma * (x - mu) / np.sqrt(var + epsilon) + beta
        return y, {"x": x, "gamma": gamma, "epsilon": epsilon, "mu": mu, "var": var}


    def batchnorm_backward(grad_output, cache):
        x, gamma, epsilon = cache["x"], cache["gamma"], cache["epsilon"]
        n = x.shape[0]
        mu = x.mean(axis=0)
        var = ((x - mu) ** 2).mean(axis=0)
        std = np.sqrt(var + epsilon)
        x_hat = (x - mu) / std
        dbeta = grad_output.sum(axis=0)
        dgamma = (grad_output * x_hat).sum(axis=0)
        a = grad_output * gamma
        dx = (n * a - a.sum(axis=0) - x_hat * (a * x_hat).sum(axis=0)) / (n * std)
        return dx, dgamma, dbeta
''')

OWN_CACHE_MISTAKES = {
    "unbiased variance in the backward pass": (
        "var = ((x - mu) ** 2).mean(axis=0)\n    std",
        "var = x.var(axis=0, ddof=1)\n    std", "unbiased variance"),
    "epsilon outside the square root in the backward pass": (
        "std = np.sqrt(var + epsilon)", "std = np.sqrt(var) + epsilon",
        "INSIDE the square root"),
    "dgamma with x instead of x_hat": (
        "dgamma = (grad_output * x_hat).sum(axis=0)", "dgamma = (grad_output * x).sum(axis=0)",
        "the normalized input, not x"),
}


def test_a_backward_pass_on_a_cache_of_the_students_own_choice_passes(tmp_path, capsys):
    code, output = run_grader(tmp_path, capsys, OWN_CACHE_SOLUTION)
    # the file holds batchnorm_train only for the backward pass, as batchnorm_backward.py does
    assert status_lines(output) == {"batchnorm_backward": "PASS"}, output
    assert code == 0


@pytest.mark.parametrize("mistake", list(OWN_CACHE_MISTAKES))
def test_a_backward_that_recomputes_the_statistics_gets_the_same_hints(tmp_path, capsys,
                                                                        mistake):
    old, new, hint = OWN_CACHE_MISTAKES[mistake]
    assert old in OWN_CACHE_SOLUTION
    code, output = run_grader(tmp_path, capsys, OWN_CACHE_SOLUTION.replace(old, new))
    assert status_lines(output) == {"batchnorm_backward": "FAIL"}, output
    assert hint in hint_of(output, "batchnorm_backward"), output
    assert code == 1


def test_a_failure_shows_the_first_wrong_value_its_index_and_relative_error(tmp_path, capsys):
    source = broken("dbeta = grad_output.sum(axis=0)",
                    "dbeta = grad_output.sum(axis=0)\n    dbeta[-1] += 0.5")
    _, output = run_grader(tmp_path, capsys, source)
    assert "dbeta (the third value you return) is wrong" in output
    assert "first wrong value: dbeta[2] expected" in output
    assert "relative error" in output and "1 of 3 values are wrong" in output


# Several wrong outputs: the report starts with the first one the function returns, names the
# others, and keeps the hint found on another output (a param_new computed from a wrong v_new)
SEVERAL_WRONG = {
    "batchnorm_backward: dx and dbeta": (
        [("* inv_std / n", "* inv_std"),
         ("dbeta = grad_output.sum(axis=0)", "dbeta = grad_output.sum(axis=0) + 1")],
        "batchnorm_backward", "dx (the first value you return) is wrong",
        "also wrong: dbeta (the third value you return)", "missed the 1/N in front"),
    "dense_backward: dx and dbias": (
        [("dx = grad_output @ kernel.T", "dx = grad_output @ kernel.T * 2"),
         ("dbias = grad_output.sum(axis=0)", "dbias = grad_output.mean(axis=0)")],
        "dense_backward", "dx (the first value you return) is wrong",
        "also wrong: dbias (the third value you return)",
        "dbias: you took the mean over the batch"),
    "adam_step: param_new and v_new": (
        [("v = beta_2 * v + (1 - beta_2) * grad ** 2",
          "v = (1 - beta_2) * v + beta_2 * grad ** 2")],
        "adam_step", "param_new (the first value you return) is wrong",
        "also wrong: v_new (the third value you return)",
        "v_new: beta_2 weighs the OLD v"),
    "batchnorm_train: y and var": (
        [("var = ((x - mu) ** 2).mean(axis=0)\n    inv_std",
          "var = x.var(axis=0, ddof=1)\n    inv_std")],
        "batchnorm_train", "y (the first value you return) is wrong",
        "also wrong: var (in the cache you return)", "unbiased variance"),
}


@pytest.mark.parametrize("case", list(SEVERAL_WRONG))
def test_of_several_wrong_outputs_the_first_returned_is_reported(tmp_path, capsys, case):
    changes, function, first, others, hint = SEVERAL_WRONG[case]
    source = SOLUTION
    for old, new in changes:
        assert old in source
        source = source.replace(old, new)
    _, output = run_grader(tmp_path, capsys, source)
    report = report_of(output, function).splitlines()
    assert report[1].strip() == first, output
    assert others in output and hint in hint_of(output, function), output


# Values returned in another output's place are named, with the order to return them in
WRONG_ORDER = {
    "batchnorm_backward": (
        "return dx, dgamma, dbeta", "return dx, dbeta, dgamma",
        "dgamma (the second value you return) is wrong",
        "your second value equals dbeta and third value equals dgamma: return (dx, dgamma, "
        "dbeta) in that order."),
    "adam_step": (
        "return param - alpha * m / (np.sqrt(v) + epsilon), m, v",
        "return m, v, param - alpha * m / (np.sqrt(v) + epsilon)",
        "param_new (the first value you return) is wrong",
        "your first value equals m_new, second value equals v_new and third value equals "
        "param_new: return (param_new, m_new, v_new) in that order."),
    "dense_backward": (   # the shapes differ: still recognised
        "return dx, dkernel, dbias", "return dkernel, dx, dbias",
        "dx (the first value you return) has the wrong shape",
        "your first value equals dkernel and second value equals dx: return (dx, dkernel, "
        "dbias) in that order."),
    "update_moving_statistics": (
        "return new_mean, new_variance", "return new_variance, new_mean",
        "new_moving_mean (the first value you return) is wrong",
        "your first value equals new_moving_variance and second value equals new_moving_mean: "
        "return (new_moving_mean, new_moving_variance) in that order."),
}


@pytest.mark.parametrize("function", list(WRONG_ORDER))
def test_outputs_returned_in_the_wrong_order_are_recognised(tmp_path, capsys, function):
    old, new, first, hint = WRONG_ORDER[function]
    code, output = run_grader(tmp_path, capsys, broken(old, new))
    assert [name for name, status in status_lines(output).items() if status != "PASS"] == [
        function], output
    assert report_of(output, function).splitlines()[1].strip() == first, output
    assert hint_of(output, function).startswith(f"hint: {hint}"), output
    assert code == 1


def test_a_dgamma_that_equals_dbeta_is_no_swap_when_dbeta_is_right(tmp_path, capsys):
    _, output = run_grader(tmp_path, capsys, broken("dgamma = (grad_output * x_hat).sum(axis=0)",
                                                    "dgamma = grad_output.sum(axis=0)"))
    assert "in that order" not in output and "also wrong" not in output
    assert "dgamma sums g * x_hat" in hint_of(output, "batchnorm_backward")


def test_a_division_by_zero_is_explained_with_its_line_not_blamed_on_exp(tmp_path, capsys):
    wrong = "alpha = learning_rate * np.sqrt(1 - beta_2 ** (t - 1)) / (1 - beta_1 ** (t - 1))"
    source = broken("alpha = learning_rate * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)",
                    wrong)
    line = source.splitlines().index("    " + wrong) + 1
    _, output = run_grader(tmp_path, capsys, source)
    report = report_of(output, "adam_step")
    assert f"RuntimeWarning at line {line} of solution.py: invalid value encountered in " \
           f"scalar divide\n                {wrong}\n" in report, output
    hint = hint_of(output, "adam_step")
    assert hint.startswith(f"hint: a division by zero (line {line}): x/0 gives inf and 0/0 "
                           f"gives nan. Look at the denominators, e.g. 1 - beta_1**t"), hint
    assert "exp" not in hint


def test_a_nan_from_exp_overflowing_gets_the_exp_hint_with_its_line(tmp_path, capsys):
    naive = "return np.exp(x) / (1 + np.exp(x))"
    source = broken("e = np.exp(-np.abs(x))\n    return np.where(x >= 0, 1 / (1 + e), "
                    "e / (1 + e))", naive)
    line = source.splitlines().index("    " + naive) + 1
    _, output = run_grader(tmp_path, capsys, source)
    assert status_lines(output)["sigmoid_forward"] == "FAIL"
    assert f"RuntimeWarning at line {line} of solution.py: overflow encountered in exp" in output
    assert hint_of(output, "sigmoid_forward").startswith(
        f"hint: exp of a large number overflowed to inf (line {line})")


def test_unpacking_the_files_named_cache_wrongly_names_its_fields(tmp_path, capsys):
    body = BACKWARD_BODY["batchnorm_backward"].replace(
        "g, x_hat, inv_std, gamma = grad_output, cache.x_hat, cache.inv_std, cache.gamma",
        "x_hat, inv_std, gamma = cache\n    g = grad_output")
    source = finished(EXERCISES / "batchnorm_backward.py", {"batchnorm_backward": body})
    _, output = run_grader(tmp_path, capsys, source, name="batchnorm_backward.py")
    assert "raised ValueError: too many values to unpack (expected 3)" in output
    assert "hint: the cache holds five values, x_hat, inv_std, gamma, mu, var: take the ones " \
           "you need by name (cache.x_hat), or unpack all five: x_hat, inv_std, gamma, mu, " \
           "var = cache." in hint_of(output, "batchnorm_backward")


def test_a_wrong_shape_reports_expected_and_got_shapes(tmp_path, capsys):
    source = broken("dbias = grad_output.sum(axis=0)",
                    "dbias = grad_output.sum(axis=0, keepdims=True)")
    _, output = run_grader(tmp_path, capsys, source)
    assert "dbias (the third value you return) has the wrong shape" in output
    assert "expected shape (2,), got (1, 2)" in output
    assert "keepdims" in output


def test_an_exception_shows_its_last_line_and_where_it_happened(tmp_path, capsys):
    source = broken("return x @ kernel + bias", "return kernel @ x + bias")
    code, output = run_grader(tmp_path, capsys, source)
    assert status_lines(output)["dense_forward"] == "FAIL"
    assert "raised ValueError: matmul" in output
    assert "solution.py:" in output and "return kernel @ x + bias" in output
    assert code == 1


def test_a_missing_return_is_pointed_out(tmp_path, capsys):
    source = broken("return grad_output * y * (1 - y)", "grad_output * y * (1 - y)")
    _, output = run_grader(tmp_path, capsys, source)
    assert "returned None: did you forget the `return` statement?" in output


def test_a_naive_sigmoid_passes_with_a_note_about_overflow(tmp_path, capsys):
    source = broken("e = np.exp(-np.abs(x))\n    return np.where(x >= 0, 1 / (1 + e), "
                    "e / (1 + e))", "return 1 / (1 + np.exp(-x))")
    code, output = run_grader(tmp_path, capsys, source)
    assert status_lines(output)["sigmoid_forward"] == "PASS"
    line = source.splitlines().index("    return 1 / (1 + np.exp(-x))") + 1
    assert f"note: RuntimeWarning: overflow encountered in exp (line {line} of solution.py)" \
        in output
    assert code == 0


# -- the exercise files -------------------------------------------------------------------------

def exercise_functions(path, given=False):
    """The functions of an exercise file that the student writes, or (given=True) those the
    file gives complete, whose docstrings start with GIVEN (batchnorm_backward.py's
    batchnorm_train, which makes the cache its exercise receives)."""
    tree = ast.parse(path.read_text())
    return [node for node in tree.body if isinstance(node, ast.FunctionDef)
            and (ast.get_docstring(node) or "").startswith("GIVEN") == given]


def test_every_exercise_function_is_known_to_the_grader_and_vice_versa():
    names = [f.name for path in EXERCISE_FILES for f in exercise_functions(path)]
    assert sorted(names) == sorted(grade.EXERCISES)
    # the grader knows which file asks for which functions (to report the missing ones)
    assert grade.EXERCISE_FILES == {path.name: tuple(f.name for f in exercise_functions(path))
                                    for path in EXERCISE_FILES}
    # a file gives a function complete only when one of its exercises needs it
    for path in EXERCISE_FILES:
        needed = {grade.NEEDS.get(name) for name in grade.EXERCISE_FILES[path.name]}
        assert {f.name for f in exercise_functions(path, given=True)} <= needed


@pytest.mark.parametrize("path", EXERCISE_FILES, ids=[p.name for p in EXERCISE_FILES])
def test_exercise_files_hold_a_docstring_and_no_solution(path):
    for function in exercise_functions(path):
        docstring = ast.get_docstring(function)
        assert docstring and "Hint" in docstring
        # the body is the docstring and a single `raise NotImplementedError(...)`
        assert len(function.body) == 2, function.name
        raised = function.body[1]
        assert isinstance(raised, ast.Raise)
        assert raised.exc.func.id == "NotImplementedError"
    for function in exercise_functions(path, given=True):   # complete: it raises nothing
        assert not any(isinstance(node, ast.Raise) for node in ast.walk(function))


@pytest.mark.parametrize("path", EXERCISE_FILES, ids=[p.name for p in EXERCISE_FILES])
def test_exercise_docstrings_have_one_style_inputs_and_returns_with_shapes(path):
    """CS231n's headings, "Inputs:" and "Returns:", each followed by one `name: ...` line per
    argument or result (a line may name several: `m, v:`) that gives its shape (or says it is
    a float or an int), and the
    results under the names the grader reports (dx, as every backward pass calls it)."""
    functions = {f.name: f for f in exercise_functions(path) + exercise_functions(path, True)}
    for name, function in functions.items():
        docstring = ast.get_docstring(function)
        assert "Args:" not in docstring and "Returns a tuple" not in docstring, name
        lines = docstring.splitlines()
        inputs, returns = lines.index("Inputs:"), lines.index("Returns:")
        assert inputs < returns
        entries = {heading: docstring_entries(lines[start + 1:])
                   for heading, start in [("Inputs", inputs), ("Returns", returns)]}
        for text in [*entries["Inputs"].values(), *entries["Returns"].values()]:
            assert any(word in text for word in ("shape", "a float", "an int")), (name, text)
        assert [arg for names in entries["Inputs"] for arg in names] == [
            arg.arg for arg in function.args.args], name
        if name in grade.EXERCISES:
            assert [output for names in entries["Returns"] for output in names] == list(
                grade.EXERCISES[name].outputs), name


def docstring_entries(lines):
    """{(name, ...): the entry's text, with its continuation lines} of the entries
    (`    name: ...` or `    m, v: ...`) at the start of `lines`."""
    found = {}
    for line in lines:
        if not line.startswith("    "):
            break
        if not line.startswith("     ") and ":" in line:
            names = tuple(word.strip() for word in line.split(":")[0].split(","))
            found[names] = ""
        found[names] += line
    return found


@pytest.mark.parametrize("path", EXERCISE_FILES, ids=[p.name for p in EXERCISE_FILES])
def test_untouched_exercise_files_are_not_done_yet(capsys, path):
    code = grade.main([str(path)])
    output = capsys.readouterr().out
    names = [f.name for f in exercise_functions(path)]
    assert status_lines(output) == {name: "TODO" for name in names}
    assert output.count("not done yet") == len(names)
    assert "Nothing done yet" in output
    assert code == 1


# The BN exercise files with their bodies filled in, reading the cache as each file says.
FORWARD_BODIES = {
    "batchnorm_train": """
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    inv_std = 1 / np.sqrt(var + epsilon)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, inv_std, gamma, mu, var)""",
    "update_moving_statistics": """
    return (momentum * moving_mean + (1 - momentum) * mu,
            momentum * moving_variance + (1 - momentum) * var)""",
    "batchnorm_inference": """
    inv_std = 1 / np.sqrt(moving_variance + epsilon)
    x_hat = (x - moving_mean) * inv_std
    return gamma * x_hat + beta, (x_hat, inv_std, gamma)""",
}
BACKWARD_BODY = {"batchnorm_backward": """
    g, x_hat, inv_std, gamma = grad_output, cache.x_hat, cache.inv_std, cache.gamma
    n = g.shape[0]
    dbeta = g.sum(axis=0)
    dgamma = (g * x_hat).sum(axis=0)
    dx = gamma * inv_std / n * (n * g - dbeta - x_hat * dgamma)
    return dx, dgamma, dbeta"""}


def finished(path, bodies):
    """The exercise file's text with each `raise NotImplementedError` line replaced by a
    body."""
    lines = []
    for line in path.read_text().splitlines():
        if line.startswith('    raise NotImplementedError("'):   # ("name: what to write")
            line = bodies[line.split('"')[1].split(":")[0]].strip("\n")
        lines.append(line)
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("name, bodies", [("batchnorm_forward.py", FORWARD_BODIES),
                                          ("batchnorm_backward.py", BACKWARD_BODY)])
def test_the_bn_exercise_files_finished_as_their_docstrings_say_pass(tmp_path, capsys, name,
                                                                     bodies):
    source = finished(EXERCISES / name, bodies)
    code, output = run_grader(tmp_path, capsys, source, name=name)
    assert status_lines(output) == {function: "PASS" for function in bodies}, output
    assert code == 0


def test_the_bn_exercises_ask_for_the_layers_own_signatures():
    asked = set()
    for path in (EXERCISES / "batchnorm_forward.py", EXERCISES / "batchnorm_backward.py"):
        for function in exercise_functions(path) + exercise_functions(path, given=True):
            if hasattr(batchnorm, function.name):
                layer = inspect.signature(getattr(batchnorm, function.name)).parameters
                assert len(function.args.args) == len(layer), function.name
                asked.add(function.name)
    assert asked == {"batchnorm_train", "batchnorm_inference", "batchnorm_backward"}


# -- the cache of batchnorm_train: the student's choice, as long as it holds mu and var --------

def forward_file(cache_expression):
    """A batchnorm_forward.py whose batchnorm_train returns `cache_expression` as its cache."""
    return finished(EXERCISES / "batchnorm_forward.py", {
        **FORWARD_BODIES, "batchnorm_train": f"""
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    inv_std = 1 / np.sqrt(var + epsilon)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, {cache_expression}"""})


@pytest.mark.parametrize("cache", ["(mu, var)", "[var, x_hat, mu]", "{'mean': mu, 'var': var}",
                                   "{'mu': mu, 'variance': var, 'x': x}"])
def test_mu_and_var_are_found_in_any_cache_by_name_or_by_value(tmp_path, capsys, cache):
    code, output = run_grader(tmp_path, capsys, forward_file(cache), "batchnorm_forward.py")
    assert status_lines(output)["batchnorm_train"] == "PASS", output
    lines = output_lines(output, "batchnorm_train")
    assert [line.split()[0] for line in lines] == ["y", "mu", "var"], output
    assert lines[1].endswith("tinynet")
    assert code == 0


def test_a_cache_without_var_fails_and_says_what_it_must_hold(tmp_path, capsys):
    code, output = run_grader(tmp_path, capsys, forward_file("(x_hat, inv_std, gamma, mu)"),
                              "batchnorm_forward.py")
    assert status_lines(output)["batchnorm_train"] == "FAIL"
    assert "var is not in the cache you return" in output
    assert "your cache: a tuple of 4 entries, of shapes (4, 3), (3,), (3,), (3,)" in output
    assert "no entry is named var or equals this batch's var, of shape (3,)" in output
    assert "keep this batch's mu and var in the cache" in hint_of(output, "batchnorm_train")
    assert code == 1


def test_a_keepdims_mean_in_the_cache_gets_the_shape_hint(tmp_path, capsys):
    code, output = run_grader(tmp_path, capsys, forward_file("(x_hat, mu[None, :], var)"),
                              "batchnorm_forward.py")
    assert "mu (in the cache you return) has the wrong shape" in output
    assert "expected shape (3,), got (1, 3)" in output and "keepdims" in output


def test_a_cache_spread_over_several_return_values_is_pointed_out(tmp_path, capsys):
    code, output = run_grader(tmp_path, capsys, forward_file("x_hat, inv_std, gamma, mu, var"),
                              "batchnorm_forward.py")
    assert "should return a tuple of 2 values (y, cache), got 6 values" in output
    assert "return y and ONE cache" in hint_of(output, "batchnorm_train")


# -- batchnorm_backward is graded on the cache of the file's own batchnorm_train ---------------

def test_a_backward_file_without_batchnorm_train_says_it_needs_one(tmp_path, capsys):
    source = finished(EXERCISES / "batchnorm_backward.py", BACKWARD_BODY)
    source = source.replace("def batchnorm_train(", "def my_forward(")
    code, output = run_grader(tmp_path, capsys, source, name="batchnorm_backward.py")
    assert status_lines(output) == {"batchnorm_backward": "FAIL"}, output
    assert "needs batchnorm_train, which makes the cache it receives, and this file has none" \
        in output
    # the hint names the file that was graded (a student's own copy), and where the
    # original is
    hint = hint_of(output, "batchnorm_backward")
    assert f"the batchnorm_train of {tmp_path / 'batchnorm_backward.py'} to make the cache" \
        in hint
    assert "copy it from lessons/exercises/batchnorm_backward.py if you changed it" in hint
    assert code == 1


@pytest.mark.parametrize("change, words", [
    (("y = gamma * x_hat + beta", "y = x_hat + beta"), "failed: y is wrong"),
    (("mu = x.mean(axis=0)", "mu = x.mean(axis=0)\n    raise ValueError('oops')"),
     "failed: raised ValueError: oops"),
    (("mu = x.mean(axis=0)", "mu = x.mean(axis=0)\n    raise NotImplementedError"),
     "cannot be graded yet: batchnorm_train"),
])
def test_a_broken_batchnorm_train_is_named_when_the_backward_is_graded(tmp_path, capsys,
                                                                       change, words):
    source = finished(EXERCISES / "batchnorm_backward.py", BACKWARD_BODY)
    assert change[0] in source
    code, output = run_grader(tmp_path, capsys, source.replace(change[0], change[1], 1),
                              name="batchnorm_backward.py")
    assert status_lines(output) == {"batchnorm_backward": "FAIL"}, output
    assert words in output and "which makes the cache it receives" in output
    assert "TODO" not in output
    assert code == 1


# -- a file that still has the exercises' old signatures ---------------------------------------

OLD_FORWARD_FILE = textwrap.dedent('''
    import numpy as np


    def batchnorm_forward(x, gamma, beta, epsilon=1e-3):
        mu = x.mean(axis=0)
        var = x.var(axis=0)
        return gamma * (x - mu) / np.sqrt(var + epsilon) + beta, mu, var


    def update_moving_statistics(moving_mean, moving_variance, mu, var, momentum=0.99):
        return (momentum * moving_mean + (1 - momentum) * mu,
                momentum * moving_variance + (1 - momentum) * var)


    def batchnorm_inference(x, gamma, beta, moving_mean, moving_variance, epsilon=1e-3):
        return gamma * (x - moving_mean) / np.sqrt(moving_variance + epsilon) + beta
''')

OLD_BACKWARD_FILE = textwrap.dedent('''
    import numpy as np


    def batchnorm_backward(grad_output, x, gamma, epsilon=1e-3):
        n = x.shape[0]
        x_hat = (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + epsilon)
        dbeta = grad_output.sum(axis=0)
        dgamma = (grad_output * x_hat).sum(axis=0)
        a = grad_output * gamma
        dx = (n * a - a.sum(axis=0) - x_hat * (a * x_hat).sum(axis=0)) / (n * np.sqrt(
            x.var(axis=0) + epsilon))
        return dx, dgamma, dbeta
''')


@pytest.mark.parametrize("name", ["batchnorm_forward.py", "my_bn.py"])
def test_an_old_forward_file_is_told_the_new_signatures(tmp_path, capsys, name):
    code, output = run_grader(tmp_path, capsys, OLD_FORWARD_FILE, name=name)
    assert status_lines(output) == {"batchnorm_train": "MISS", "update_moving_statistics": "PASS",
                                    "batchnorm_inference": "FAIL"}, output
    train = report_of(output, "batchnorm_train")
    assert "not found in the file, which has the exercise's old signature instead" in train
    assert "found:        batchnorm_forward(x, gamma, beta, epsilon=0.001)" in train
    assert "expected now: batchnorm_train(x, gamma, beta, epsilon) -> (y, cache)" in train
    hint = hint_of(output, "batchnorm_train")
    assert "used to ask for batchnorm_forward(x, gamma, beta, epsilon=1e-3) -> (out, mu, " \
           "var)" in hint and "mu and var inside the cache" in hint
    assert "did you mean" not in output   # batchnorm_forward is not a typo of _backward
    # a function of the right name that returns y alone is told so plainly: a new student
    # never saw the old exercise, which is only an aside
    inference = report_of(output, "batchnorm_inference")
    assert "should return a tuple of 2 values (y, cache), got one ndarray." in inference
    assert "old signature" not in inference
    hint = hint_of(output, "batchnorm_inference")
    assert hint.startswith("hint: return y and a cache, as a tuple: return y, cache."), hint
    assert "(tinynet's keeps x_hat, inv_std and gamma). (Older copies of this exercise asked " \
           "for batchnorm_inference(x, gamma, beta, moving_mean, moving_variance, " \
           "epsilon=1e-3) -> out.)" in hint, hint
    assert code == 1


def test_old_signature_hints_name_the_exercise_file_where_it_is_from_any_directory(
        tmp_path, capsys, monkeypatch):
    # the student's old copy lacks what the hint points to: it names tinynet's exercise file,
    # by a path that works from where the grader runs
    for where in (EXERCISES.parent.parent, tmp_path):
        monkeypatch.chdir(where)
        _, output = run_grader(tmp_path, capsys, OLD_FORWARD_FILE, name="batchnorm_forward.py")
        hint = hint_of(output, "batchnorm_train")
        named = hint.split("in the exercise file as it is now, ")[1].split(")")[0]
        assert pathlib.Path(named).resolve() == EXERCISES / "batchnorm_forward.py", hint
        assert named == ("lessons/exercises/batchnorm_forward.py" if where != tmp_path
                         else str(EXERCISES / "batchnorm_forward.py"))


def test_a_renamed_forward_that_still_returns_out_mu_var_is_told_the_new_signature(
        tmp_path, capsys):
    source = OLD_FORWARD_FILE.replace("def batchnorm_forward(", "def batchnorm_train(")
    _, output = run_grader(tmp_path, capsys, source)
    train = report_of(output, "batchnorm_train")
    assert "should return a tuple of 2 values (y, cache), got 3 values." in train
    assert "old signature" not in train
    hint = hint_of(output, "batchnorm_train")
    assert hint.startswith("hint: return y and ONE cache"), hint
    assert "mu, var). (Older copies of this exercise asked for batchnorm_forward(x, gamma, " \
           "beta, epsilon=1e-3) -> (out, mu, var).)" in hint, hint


@pytest.mark.parametrize("name", ["batchnorm_backward.py", "my_bn.py"])
def test_an_old_backward_file_is_told_the_new_signature(tmp_path, capsys, name):
    code, output = run_grader(tmp_path, capsys, OLD_BACKWARD_FILE, name=name)
    assert status_lines(output) == {"batchnorm_backward": "FAIL"}, output
    assert "has the exercise's old signature" in output
    assert "found:        batchnorm_backward(grad_output, x, gamma, epsilon=0.001)" in output
    assert "expected now: batchnorm_backward(grad_output, cache) -> (dx, dgamma, dbeta)" \
        in output
    hint = hint_of(output, "batchnorm_backward")
    assert "receives the cache of batchnorm_train instead of x, gamma and epsilon" in hint
    assert code == 1


def test_old_and_new_functions_in_one_file_are_each_told_what_changed(tmp_path, capsys):
    _, output = run_grader(tmp_path, capsys, OLD_FORWARD_FILE + OLD_BACKWARD_FILE)
    assert status_lines(output) == {"batchnorm_train": "MISS", "update_moving_statistics": "PASS",
                                    "batchnorm_inference": "FAIL", "batchnorm_backward": "FAIL"}
    # batchnorm_inference has its own name and parameters: only its result is wrong
    assert output.count("the exercise's old signature") == 2
    assert "should return a tuple of 2 values (y, cache), got one ndarray." in report_of(
        output, "batchnorm_inference")


def test_other_parameters_than_the_exercises_are_named_with_the_expected_signature(
        tmp_path, capsys):
    source = broken("def sigmoid_backward(grad_output, y):\n    return grad_output * y * (1 - y)",
                    "def sigmoid_backward(y):\n    return y * (1 - y)")
    _, output = run_grader(tmp_path, capsys, source)
    assert status_lines(output)["sigmoid_backward"] == "FAIL"
    assert "does not take the exercise's parameters" in output
    assert "found:    sigmoid_backward(y)" in output
    assert "expected: sigmoid_backward(grad_output, y) -> dx" in output
    assert "old signature" not in output


# -- the command line -----------------------------------------------------------------------------

def test_grader_runs_as_a_module_with_exit_codes(tmp_path):
    good = tmp_path / "good.py"
    good.write_text(SOLUTION)
    run = subprocess.run([sys.executable, "-m", "tinynet.grade", str(good)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    untouched = subprocess.run([sys.executable, "-m", "tinynet.grade",
                                str(EXERCISES / "adam.py")], capture_output=True, text=True)
    assert untouched.returncode == 1
    assert "not done yet" in untouched.stdout


def test_grading_leaves_sys_path_and_sys_modules_alone(tmp_path, capsys):
    path_before, modules_before = list(sys.path), set(sys.modules)
    run_grader(tmp_path, capsys, SOLUTION)
    assert sys.path == path_before
    assert not {name for name in set(sys.modules) - modules_before if "solution" in name}


def test_grading_is_reproducible(tmp_path, capsys):
    source = broken("* inv_std / n", "* inv_std")
    assert run_grader(tmp_path, capsys, source) == run_grader(tmp_path, capsys, source)


def test_a_file_that_does_not_import_fails_politely(tmp_path, capsys):
    code, output = run_grader(tmp_path, capsys, "def sigmoid_forward(x)\n    return x\n")
    assert "does not import: SyntaxError" in output
    assert code == 1


def test_a_missing_file_lists_the_exercises(tmp_path, capsys):
    code = grade.main([str(tmp_path / "nope.py")])
    output = capsys.readouterr().out
    assert "There is no file" in output and "batchnorm_backward.py" in output
    assert code == 1


def test_a_file_without_known_functions_says_which_are_known(tmp_path, capsys):
    code, output = run_grader(tmp_path, capsys, "def helper():\n    return 1\n")
    assert "None of the functions the grader knows" in output and "adam_step" in output
    assert code == 1


# -- files that are not what the grader expects: every kind fails, with a non-zero exit -----------

def test_a_misspelled_function_is_reported_missing_with_a_did_you_mean(tmp_path, capsys):
    source = broken("def sigmoid_forward(x):", "def sigmoid_foward(x):")
    code, output = run_grader(tmp_path, capsys, source, name="sigmoid.py")
    assert status_lines(output)["sigmoid_forward"] == "MISS", output
    assert "did you mean 'sigmoid_foward'?" in output
    assert "Well done" not in output and "All" not in output
    assert code == 1


def test_a_file_named_after_an_exercise_must_define_all_of_its_functions(tmp_path, capsys):
    source = "def sigmoid_backward(grad_output, y):\n    return grad_output * y * (1 - y)\n"
    code, output = run_grader(tmp_path, capsys, source, name="sigmoid.py")
    assert status_lines(output) == {"sigmoid_forward": "MISS", "sigmoid_backward": "PASS"}
    assert "def sigmoid_forward(...)" in output
    assert "Passed: 1 of 2 functions; 1 missing" in output
    assert code == 1


def test_one_function_of_an_exercise_makes_the_others_expected_whatever_the_file_name(
        tmp_path, capsys):
    source = "def dense_forward(x, kernel, bias):\n    return x @ kernel + bias\n"
    code, output = run_grader(tmp_path, capsys, source, name="my_work.py")
    assert status_lines(output) == {"dense_forward": "PASS", "dense_backward": "MISS"}
    assert code == 1


def test_only_misspelled_functions_still_get_a_did_you_mean(tmp_path, capsys):
    source = "def adam_stepp(param, grad, m, v, t):\n    return param, m, v\n"
    code, output = run_grader(tmp_path, capsys, source)
    assert status_lines(output) == {"adam_step": "MISS"}
    assert "did you mean 'adam_stepp'?" in output
    assert code == 1


IMPORT_PROBLEMS = {
    "sys.exit(0) at import": ("import sys\nsys.exit(0)\n", "calls sys.exit(0)"),
    "exit() at import": ("exit()\n", "calls sys.exit(None)"),
    "an exception at import": ("x = [1, 2][5]\n",
                               "does not import: IndexError: list index out of range"),
    "a syntax error": ("def sigmoid_forward(x)\n    return x\n", "SyntaxError"),
    "an endless loop at import": ("while True:\n    pass\n",
                                  "did not finish within 0.2 s: is there an endless loop"),
}


@pytest.mark.parametrize("problem", list(IMPORT_PROBLEMS))
def test_a_file_that_cannot_be_imported_is_a_failure_with_a_reason(tmp_path, capsys, problem):
    source, words = IMPORT_PROBLEMS[problem]
    path = tmp_path / "solution.py"
    path.write_text(source + SOLUTION)
    code = grade.main(["--time-limit", "0.2", str(path)])
    output = capsys.readouterr().out
    assert words in output, output
    assert "PASS" not in output and "Well done" not in output
    assert code == 1


def test_an_exception_at_import_shows_the_line_of_the_file(tmp_path, capsys):
    _, output = run_grader(tmp_path, capsys, "import numpy as np\n\nscale = 1 / 0\n")
    assert "ZeroDivisionError" in output
    assert "at line 3 of solution.py:" in output and "scale = 1 / 0" in output


def test_sys_exit_at_import_gives_a_non_zero_exit_code_on_the_command_line(tmp_path):
    path = tmp_path / "sigmoid.py"
    path.write_text("import sys\nsys.exit(0)\n")
    run = subprocess.run([sys.executable, "-m", "tinynet.grade", str(path)],
                         capture_output=True, text=True)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "calls sys.exit(0)" in run.stdout


FUNCTION_PROBLEMS = {
    "an endless loop": ("while True:\n        pass", "did not return within 0.2 s"),
    "an endless loop that catches Exception": (
        "while True:\n        try:\n            y = y\n        except Exception:\n"
        "            pass", "did not return within 0.2 s"),
    "sys.exit()": ("import sys\n    sys.exit(3)", "called sys.exit(3)"),
}


@pytest.mark.parametrize("problem", list(FUNCTION_PROBLEMS))
def test_a_function_that_never_returns_fails_and_the_others_are_still_graded(
        tmp_path, capsys, problem):
    body, words = FUNCTION_PROBLEMS[problem]
    source = broken("return grad_output * y * (1 - y)", body)
    path = tmp_path / "solution.py"
    path.write_text(source)
    code = grade.main(["--time-limit", "0.2", str(path)])
    output = capsys.readouterr().out
    statuses = status_lines(output)
    assert statuses["sigmoid_backward"] == "FAIL" and words in output, output
    assert [name for name, status in statuses.items() if status != "PASS"] == [
        "sigmoid_backward"]
    assert code == 1


def test_the_time_limit_leaves_no_alarm_behind():
    import signal
    handler = signal.getsignal(signal.SIGALRM)
    with grade.time_limit(5.0):
        pass
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) is handler


def test_without_an_alarm_clock_a_timer_thread_stops_an_endless_loop():
    """The Windows way (no SIGALRM), tried on any system: a timer thread interrupts the
    loop, the block raises TimeLimit, and nothing is left to interrupt later."""
    import time

    start = time.perf_counter()
    with pytest.raises(grade.TimeLimit):
        with grade.time_limit(0.2, use_alarm=False):
            while True:
                pass
    assert time.perf_counter() - start < 2.0
    with grade.time_limit(5.0, use_alarm=False):  # a block that ends in time: no interrupt
        total = sum(range(1000))
    time.sleep(0.1)
    assert total == 499500


def test_a_cache_that_keeps_x_passes_with_a_note_about_the_point_of_the_cache(tmp_path, capsys):
    source = textwrap.dedent('''
        import numpy as np

        def batchnorm_train(x, gamma, beta, epsilon=1e-3):
            mu, var = x.mean(axis=0), x.var(axis=0)
            y = gamma * (x - mu) / np.sqrt(var + epsilon) + beta
            return y, {"x": x, "gamma": gamma, "mu": mu, "var": var, "epsilon": epsilon}

        def batchnorm_backward(grad_output, cache):
            x, gamma, mu, var = cache["x"], cache["gamma"], cache["mu"], cache["var"]
            n, inv_std = x.shape[0], 1 / np.sqrt(var + cache["epsilon"])
            x_hat = (x - mu) * inv_std
            dbeta, dgamma = grad_output.sum(axis=0), (grad_output * x_hat).sum(axis=0)
            dx = gamma * inv_std / n * (n * grad_output - dbeta - x_hat * dgamma)
            return dx, dgamma, dbeta
    ''')
    code, output = run_grader(tmp_path, capsys, source)
    assert "PASS  batchnorm_backward" in output
    assert "note: the cache of batchnorm_train keeps x itself" in " ".join(output.split())


def test_writing_into_x_in_batchnorm_train_gets_a_note_and_adam_in_place_does_not(tmp_path,
                                                                                   capsys):
    written = textwrap.dedent('''
        import numpy as np


        def batchnorm_train(x, gamma, beta, epsilon=1e-3):
            mu = x.mean(axis=0)
            x -= mu
            var = (x ** 2).mean(axis=0)
            inv_std = 1 / np.sqrt(var + epsilon)
            x *= inv_std
            return gamma * x + beta, (x, inv_std, gamma, mu, var)
    ''')
    code, output = run_grader(tmp_path, capsys, written)
    assert status_lines(output)["batchnorm_train"] == "PASS", output
    assert "note: batchnorm_train changed its argument x in place" in output
    code, output = run_grader(tmp_path, capsys, solution_of("adam_step"), name="adam_mine.py")
    assert "in place" not in output, output


def test_the_cause_found_on_another_output_is_the_first_hint(tmp_path, capsys):
    # v from the plain gradient: param_new is nan (a square root of a negative number); the
    # hint that names the cause (v averages the SQUARED gradient) must come before the one
    # that only explains the nan
    source = SOLUTION.replace("v = beta_2 * v + (1 - beta_2) * grad ** 2",
                              "v = beta_2 * v + (1 - beta_2) * grad")
    _, output = run_grader(tmp_path, capsys, source)
    hints = [line.strip() for line in report_of(output, "adam_step").splitlines()
             if line.strip().startswith("hint: ")]
    assert hints and "SQUARED" in hints[0], hints


# -- a hint must hold in every check, not only the first that fails -------------------------------

ADAM_NO_EPSILON = ("return param - alpha * m / (np.sqrt(v) + epsilon), m, v",
                   "return param - alpha * m / np.sqrt(v), m, v")
ADAM_STEP_ALONG_GRAD = ("return param - alpha * m / (np.sqrt(v) + epsilon), m, v",
                        "return param - alpha * grad / (np.sqrt(v) + epsilon), m, v")


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_adam_without_epsilon_is_told_so_at_every_seed(tmp_path, capsys, seed):
    # at t = 1 (m = v = 0) it agrees with PyTorch's epsilon to 1e-6: with seeds 1 and 7 that
    # check fails first, and its PyTorch hint was wrong for the checks at t = 3 and 5
    path = tmp_path / "adam_mine.py"
    path.write_text(solution_of("adam_step").replace(*ADAM_NO_EPSILON))
    assert grade.main([str(path), "--seed", str(seed)]) == 1
    hint = hint_of(capsys.readouterr().out, "adam_step")
    assert hint.startswith("hint: epsilon is missing"), hint
    assert "PyTorch" not in hint


def test_adam_stepping_along_grad_is_not_told_its_bias_correction_is_upside_down(tmp_path,
                                                                                  capsys):
    # at t = 1, (1 - beta_1)^2 / (1 - beta_2) = 10 = 1 / (1 - beta_1): the upside-down
    # correction gives the same step there, and only there
    _, output = run_grader(tmp_path, capsys, solution_of("adam_step").replace(
        *ADAM_STEP_ALONG_GRAD))
    hint = hint_of(output, "adam_step")
    assert hint.startswith("hint: the step uses grad; Adam steps along the running average "
                           "m_new."), hint
    assert "upside down" not in hint


def test_a_known_mistake_that_fits_only_the_failing_check_gives_no_hint():
    # answers as Adam without epsilon in the first check (t = 1), where PyTorch's epsilon
    # gives the same values, and right in the others: neither mistake explains them all
    checks = grade.adam_step_checks(np.random.default_rng(1))
    wrong = next(m.value for m in checks[0].mistakes if "PyTorch" in m.hint)

    def adam_step(param, grad, m, v, t, learning_rate, beta_1, beta_2, epsilon):
        right = grade.keras_adam_step(param, grad, m, v, t, learning_rate, beta_1, beta_2,
                                      epsilon)
        step = wrong if t == 1 else right["param_new"]
        return step, right["m_new"], right["v_new"]

    result = grade.grade_function("adam_step", adam_step, "student.py", 1)
    assert result.status == "fail" and "t=1" in result.lines[1], result.lines
    assert not any(line.startswith("hint:") for line in result.lines), result.lines


# -- what the BN forward passes return ---------------------------------------------------------

def test_an_inference_that_returns_y_alone_is_told_to_return_y_and_a_cache(tmp_path, capsys):
    source = broken("return gamma * x_hat + beta, (x_hat, inv_std, gamma)\n",
                    "return gamma * x_hat + beta\n")
    _, output = run_grader(tmp_path, capsys, source)
    report = report_of(output, "batchnorm_inference")
    assert report.splitlines()[1].strip() == ("should return a tuple of 2 values (y, cache), "
                                              "got one ndarray."), report
    assert "old signature" not in report and "used to ask" not in report
    assert hint_of(output, "batchnorm_inference").startswith(
        "hint: return y and a cache, as a tuple: return y, cache.")


def test_a_forward_pass_that_returns_cache_then_y_is_told_the_order(tmp_path, capsys):
    source = broken("return gamma * x_hat + beta, (x_hat, inv_std, gamma, mu, var)",
                    "return (x_hat, inv_std, gamma, mu, var), gamma * x_hat + beta")
    _, output = run_grader(tmp_path, capsys, source)
    assert status_lines(output)["batchnorm_train"] == "FAIL", output
    assert hint_of(output, "batchnorm_train").startswith(
        "hint: return (y, cache) in that order"), output
    assert "keep this batch's mu and var" not in output


def hints_in(output, function):
    """The hints of the grader's report on `function`, each with its line wrapping undone."""
    hints = []
    for line in report_of(output, function).splitlines()[1:]:
        if line.startswith(" " * 8 + "hint: "):
            hints.append(line.strip())
        elif line.startswith(" " * 14) and hints and not line.startswith(" " * 15):
            hints[-1] += " " + line.strip()
        elif not line.startswith(" " * 8):
            break
    return hints


def test_statistics_over_every_axis_are_named(tmp_path, capsys):
    source = broken("mu = x.mean(axis=0)\n    var = ((x - mu) ** 2).mean(axis=0)",
                    "mu = x.mean()\n    var = x.var()")
    _, output = run_grader(tmp_path, capsys, source)
    hints = hints_in(output, "batchnorm_train")
    assert len(hints) == 1 and hints[0].startswith(
        "hint: mu is a single number: you averaged over every axis"), output
    assert "axis=0, one value per feature" in hints[0] and "cache" not in hints[0]


# -- dgamma and dbeta computed the wrong way round, returned in the right order -------------------

def test_dgamma_and_dbeta_computed_the_wrong_way_round_are_not_told_the_order(tmp_path, capsys):
    source = broken("return dx, dgamma, dbeta", "dgamma, dbeta = dbeta, dgamma\n"
                    "    return dx, dgamma, dbeta")
    _, output = run_grader(tmp_path, capsys, source)
    hint = hint_of(output, "batchnorm_backward")
    assert "in that order" not in hint
    assert hint.startswith("hint: your dgamma is what dbeta should be and your dbeta is what "
                           "dgamma should be: you return them in the right order, so they are "
                           "swapped in how you compute them (dgamma = sum(g * x_hat), dbeta = "
                           "sum(g))."), hint


# -- parameters ----------------------------------------------------------------------------------

def test_the_exercises_parameters_in_another_order_fail_before_the_call(tmp_path, capsys):
    source = broken("def dense_backward(grad_output, x, kernel):",
                    "def dense_backward(x, kernel, grad_output):")
    _, output = run_grader(tmp_path, capsys, source)
    report = report_of(output, "dense_backward")
    assert "takes the exercise's parameters in another order" in report
    assert "found:    dense_backward(x, kernel, grad_output)" in report
    assert hint_of(output, "dense_backward").startswith(
        "hint: your parameters are (x, kernel, grad_output); the grader passes (grad_output, "
        "x, kernel) in that order."), output
    assert "raised" not in report   # it was not called


def test_renamed_parameters_are_accepted(tmp_path, capsys):
    source = broken("def dense_backward(grad_output, x, kernel):\n"
                    "    dx = grad_output @ kernel.T\n"
                    "    dkernel = x.T @ grad_output\n"
                    "    dbias = grad_output.sum(axis=0)",
                    "def dense_backward(dout, x, w):\n"
                    "    dx = dout @ w.T\n"
                    "    dkernel = x.T @ dout\n"
                    "    dbias = dout.sum(axis=0)")
    code, output = run_grader(tmp_path, capsys, source)
    assert status_lines(output)["dense_backward"] == "PASS", output
    assert code == 0


# -- notes and shared factors ---------------------------------------------------------------------

def test_writing_into_grad_output_gets_a_note_that_does_not_speak_of_x(tmp_path, capsys):
    source = broken("a = grad_output * gamma", "grad_output *= gamma\n    a = grad_output")
    _, output = run_grader(tmp_path, capsys, source)
    assert status_lines(output)["batchnorm_backward"] == "PASS", output
    note = " ".join(output[output.index("note: batchnorm_backward changed"):].split())
    assert note.startswith("note: batchnorm_backward changed its argument grad_output in place")
    assert "mu" not in note.split("Passed")[0] and "centered" not in note, note


def test_outputs_all_off_by_the_same_factor_get_one_hint(tmp_path, capsys):
    source = broken("return dx, dkernel, dbias",
                    "n = x.shape[0]\n    return dx / n, dkernel / n, dbias / n")
    _, output = run_grader(tmp_path, capsys, source)
    assert hints_in(output, "dense_backward") == [
        "hint: dx, dkernel and dbias are all N = 4 times too small: an extra 1/N (a mean where "
        "a sum belongs?)."], output


def test_what_the_students_code_prints_is_counted_not_shown(tmp_path, capsys):
    source = broken("def sigmoid_forward(x):\n",
                    "print('importing')\n\n\ndef sigmoid_forward(x):\n"
                    "    for _ in range(3):\n        print('debug', x.shape)\n")
    code, output = run_grader(tmp_path, capsys, source)
    assert "debug" not in output and "importing" not in output
    assert "note: the file printed 1 line as it was imported (not shown here)" in output
    checks = len(grade.sigmoid_forward_checks(np.random.default_rng(0)))
    assert f"note: your function printed {3 * checks} lines while it was graded" in " ".join(
        output.split())
    assert status_lines(output)["sigmoid_forward"] == "PASS" and code == 0
