"""Lessons 06 (batch size and inference) and 07 (where BN goes) run in quick mode, write their
figures, and their headline comparisons come out the right way.

Each lesson runs once per test session (module-scoped fixture) in a subprocess, as a student
would run it; the tests read its `RESULT key=value ...` line.
"""

import os

import pytest
from lesson_runner import parse_result, run_lesson


@pytest.fixture(scope="module")
def lesson06(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson06")
    return run_lesson("06_batch_size_and_inference.py", out), out


@pytest.fixture(scope="module")
def lesson07(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson07")
    return run_lesson("07_where_bn_goes.py", out), out


# -- lesson 06 -------------------------------------------------------------------------------

def test_lesson06_runs_and_writes_its_figures(lesson06):
    _, out = lesson06
    names = sorted(name for name in os.listdir(out) if name.endswith(".png"))
    assert names == sorted(["accuracy_vs_batch_size.png", "batch_of_two_normalized_values.png",
                            "training_vs_inference_mode.png", "moving_average_convergence.png",
                            "forgot_inference_mode.png"])
    for name in names:
        assert os.path.getsize(out / name) > 5000  # a real picture, not an empty canvas


def test_lesson06_bn_at_batch_two_falls_behind_layernorm(lesson06):
    result = parse_result(lesson06[0])
    assert result["bn_small"] < result["ln_small"] - 0.03
    assert result["bn_small"] < result["bn_best"]


def test_lesson06_one_example_at_a_time_in_training_mode_gives_one_output(lesson06):
    result = parse_result(lesson06[0])
    assert result["distinct_one_at_a_time"] == 1
    # class-sorted batches in training mode lose to inference mode
    assert result["acc_sorted"] < result["acc_predict"]


def test_lesson06_slow_moving_averages_cost_more_accuracy(lesson06):
    result = parse_result(lesson06[0])
    assert result["gap_momentum_099"] > result["gap_momentum_09"] + 0.05


def test_lesson06_narrates_every_part(lesson06):
    stdout = lesson06[0]
    for heading in ("== 1.", "== 2.", "== 3.", "== 3b.", "== 4.", "== Summary =="):
        assert heading in stdout


# -- lesson 07 -------------------------------------------------------------------------------

def test_lesson07_runs_and_writes_its_figures(lesson07):
    _, out = lesson07
    names = sorted(name for name in os.listdir(out) if name.endswith(".png"))
    assert names == sorted(["bn_before_or_after_activation.png", "input_bn_vs_standardized.png",
                            "bn_on_regression_output.png"])
    for name in names:
        assert os.path.getsize(out / name) > 5000


def test_lesson07_bn_on_the_regression_output_is_much_worse(lesson07):
    result = parse_result(lesson07[0])
    assert result["mse_bn_output"] > 2 * result["mse_linear"]


def test_lesson07_standardizing_or_input_bn_beats_raw_inputs(lesson07):
    result = parse_result(lesson07[0])
    assert result["standardized"] > result["raw"] + 0.05
    assert result["input_bn"] > result["raw"]


def test_lesson07_folded_network_matches_in_float64(lesson07):
    result = parse_result(lesson07[0])
    assert result["fold_error"] < 1e-10


def test_lesson07_before_after_verdict_agrees_with_its_numbers(lesson07):
    result = parse_result(lesson07[0])
    within = abs(result["mean_diff"]) <= 2 * result["std_error"]
    assert bool(result["within_noise"]) == within
    stdout = lesson07[0]
    assert ("within noise" in stdout) == within
