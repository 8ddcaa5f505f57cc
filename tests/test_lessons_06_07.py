"""Lessons 06 (batch size and inference) and 07 (where BN goes) run in quick mode, write their
figures, print every comparison with its noise, and word their conclusions from the numbers.

Each lesson runs once per test session (module-scoped fixture) in a subprocess, as a student
would run it; the tests read its `RESULT key=value ...` line. The wording functions are taken
out of the lesson scripts and called with made-up numbers, so that a conclusion printed
whatever the numbers say would fail here.
"""

import os

import numpy as np
import pytest
from lesson_runner import (
    LESSONS,
    comparisons_without_noise,
    load_functions,
    parse_result,
    run_lesson,
)

from tinynet.stats import compare, mean_and_se, noise_multiple

LESSON_06 = "06_batch_size_and_inference.py"
LESSON_07 = "07_where_bn_goes.py"


@pytest.fixture(scope="module")
def lesson06(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson06")
    return run_lesson(LESSON_06, out), out


@pytest.fixture(scope="module")
def lesson07(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson07")
    return run_lesson(LESSON_07, out), out


def lesson_functions(filename, *names):
    """{name: function} for the wording functions `names` of a lesson, with what they use."""
    scope = {"np": np, "compare": compare, "mean_and_se": mean_and_se,
             "noise_multiple": noise_multiple}
    return dict(zip(names, load_functions(filename, *names, namespace=scope), strict=True))


def accuracies(a, b, names):
    """A Comparison of two made-up accuracy lists (higher is better)."""
    return compare(a, b, "test accuracy", names, lower_is_better=False)


# -- lesson 06 -------------------------------------------------------------------------------

def test_lesson06_runs_and_writes_its_figures(lesson06):
    _, out = lesson06
    names = sorted(name for name in os.listdir(out) if name.endswith(".png"))
    assert names == sorted(["accuracy_vs_batch_size.png", "batch_of_two_normalized_values.png",
                            "training_vs_inference_mode.png", "moving_average_convergence.png",
                            "forgot_inference_mode.png"])
    for name in names:
        assert os.path.getsize(out / name) > 5000  # a real picture, not an empty canvas


def test_lesson06_bn_at_batch_two_falls_behind_layernorm_beyond_the_noise(lesson06):
    result = parse_result(lesson06[0])
    assert result["seeds"] >= 2
    assert result["bn_small"] < result["bn_best"]
    assert result["ln_minus_bn_small"] > 2 * result["ln_minus_bn_small_se"]


def test_lesson06_one_example_at_a_time_in_training_mode_gives_one_output(lesson06):
    result = parse_result(lesson06[0])
    assert result["distinct_one_at_a_time"] == 1
    # class-sorted batches in training mode lose to inference mode
    assert result["acc_sorted"] < result["acc_predict"]


def test_lesson06_slow_moving_averages_cost_more_accuracy(lesson06):
    result = parse_result(lesson06[0])
    assert result["gap_momentum_099"] > result["gap_momentum_09"] + 0.05


def test_lesson06_narrates_every_part_and_prints_one_headline(lesson06):
    stdout = lesson06[0]
    for heading in ("== 1.", "== 2.", "== 3.", "== 3b.", "== 4.", "== Summary =="):
        assert heading in stdout
    assert sum(line.startswith("Headline: ") for line in stdout.splitlines()) == 1


def test_lesson06_each_figure_is_announced_under_its_own_section(lesson06):
    expected = {"accuracy_vs_batch_size.png": "== 1.",
                "batch_of_two_normalized_values.png": "== 2.",
                "training_vs_inference_mode.png": "== 3.",
                "moving_average_convergence.png": "== 3b.",
                "forgot_inference_mode.png": "== 4."}
    section = None
    for line in lesson06[0].splitlines():
        if line.startswith("== "):
            section = line
        elif "figure written:" in line:
            name = os.path.basename(line.split("figure written:")[1].strip())
            assert section is not None and section.startswith(expected[name] + " "), (name,
                                                                                      section)


def compared_with_noise(stdout):
    """How many printed lines compare two numbers with their noise."""
    return sum(" vs " in line and "±" in line for line in stdout.splitlines())


def test_lesson06_every_comparison_carries_its_noise(lesson06):
    assert comparisons_without_noise(lesson06[0]) == []
    assert "━" not in lesson06[0]  # no progress bars between the sentences
    assert compared_with_noise(lesson06[0]) >= 5


def test_lesson06_momentum_conclusion_follows_the_weights():
    words = lesson_functions(LESSON_06, "momentum_conclusion")["momentum_conclusion"]
    assert "never training itself" in words(5, 5)
    assert "never training itself" not in words(4, 5)
    assert "NOT identical in 1 of 5" in words(4, 5)


def test_lesson06_plus_minus_one_story_is_told_only_when_the_numbers_support_it():
    story = lesson_functions(LESSON_06, "plus_minus_one_story")["plus_minus_one_story"]
    no_better = accuracies([0.60, 0.62, 0.61], [0.80, 0.79, 0.81], ("pairs", "inference"))
    better = accuracies([0.90, 0.91, 0.92], [0.80, 0.79, 0.81], ("pairs", "inference"))
    assert "which of the two examples is larger" in story(0.9, no_better)
    assert "which of the two examples is larger" not in story(0.3, no_better)
    assert "beats inference mode" in story(0.9, better)


def test_lesson06_says_when_no_normalization_is_as_good_as_any():
    words = lesson_functions(LESSON_06, "normalization_needed")["normalization_needed"]
    tied = [accuracies([0.91, 0.92, 0.93], [0.91, 0.93, 0.92], ("none", "BN"))] * 3
    behind = tied[:2] + [compare([0.80, 0.81, 0.82], [0.90, 0.90, 0.91], "batch 2",
                                 ("none", "BN"), lower_is_better=False)]
    small_names = ("batch 2", "batch 32")
    costly = compare([0.80, 0.81, 0.82], [0.90, 0.90, 0.91], "x", small_names,
                     lower_is_better=False)
    free = compare([0.90, 0.92, 0.91], [0.91, 0.90, 0.92], "x", small_names,
                   lower_is_better=False)
    assert "do not show that this small task needs normalization" in words(tied, costly)
    assert "normalization is not needed" not in words(tied, costly)
    assert "costs at small batches: at batch 2 it is 0.093 below" in words(tied, costly)
    # the cost is said only when the numbers show it (it had been fixed text)
    assert "what BN costs at small batches is not clear" in words(tied, free)
    assert "needs normalization" not in words(behind, free)
    assert "behind the better normalization" in words(behind, free)
    assert "batch 2" in words(behind, free)



def test_lesson06_calls_a_curve_flat_only_within_the_noise():
    words = lesson_functions(LESSON_06, "flat_words")["flat_words"]
    names = ("batch 2", "batch 128")
    same = compare([0.91, 0.92, 0.93], [0.92, 0.91, 0.93], "x", names, lower_is_better=False)
    falls = compare([0.92, 0.93, 0.94], [0.88, 0.89, 0.89], "x", names, lower_is_better=False)
    assert "no clear change from batch 2 to batch 128" in words("LayerNorm", same)
    assert "not flat" not in words("LayerNorm", same)
    assert "not flat" in words("LayerNorm", falls) and "no clear" not in words("LayerNorm",
                                                                               falls)
    assert "0.043 higher at batch 2 than at batch 128" in words("LayerNorm", falls)

# -- lesson 07 -------------------------------------------------------------------------------

def test_lesson07_runs_and_writes_its_figures(lesson07):
    _, out = lesson07
    names = sorted(name for name in os.listdir(out) if name.endswith(".png"))
    assert names == sorted(["bn_before_or_after_activation.png", "input_bn_vs_standardized.png",
                            "bn_on_regression_output.png"])
    for name in names:
        assert os.path.getsize(out / name) > 5000


def test_lesson07_regression_figure_says_both_panels_are_the_first_seed():
    source = (LESSONS / LESSON_07).read_text()
    assert 'set_title("Training loss (first seed)")' in source
    assert 'set_title("Predictions vs truth (first seed)")' in source


def test_lesson07_compares_no_bn_with_both_placements(lesson07):
    stdout = lesson07[0]
    result = parse_result(stdout)
    for where in ("before", "after"):
        line = next(line for line in stdout.splitlines()
                    if "no BN vs " in line and f" BN {where}; difference " in line)
        assert "±" in line
        assert result[f"no_bn_minus_{where}_se"] > 0
    # (no BN - before) - (no BN - after) is after - before (each printed to 4 decimals)
    assert result["no_bn_minus_before"] - result["no_bn_minus_after"] == pytest.approx(
        result["mean_diff"], abs=2e-4)


def test_lesson07_prints_each_part_before_its_figure(lesson07):
    lines = lesson07[0].splitlines()
    header = {n: next(i for i, line in enumerate(lines) if line.startswith(f"== {n}."))
              for n in (1, 2, 3)}
    written = {name: next(i for i, line in enumerate(lines) if name in line)
               for name in ("bn_before_or_after_activation", "input_bn_vs_standardized",
                            "bn_on_regression_output")}
    assert header[1] < written["bn_before_or_after_activation"] < header[2]
    assert header[2] < written["input_bn_vs_standardized"] < header[3]
    assert header[3] < written["bn_on_regression_output"]


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
    within = abs(result["mean_diff"]) <= noise_multiple(int(result["seeds"])) * result["std_error"]
    assert bool(result["within_noise"]) == within
    stdout = lesson07[0]
    assert ("within noise" in stdout) == within


def test_lesson07_every_comparison_carries_its_noise_and_one_headline(lesson07):
    stdout = lesson07[0]
    assert comparisons_without_noise(stdout) == []
    assert "━" not in stdout  # no progress bars between the sentences
    assert compared_with_noise(stdout) >= 5
    assert sum(line.startswith("Headline: ") for line in stdout.splitlines()) == 1


def test_lesson07_cites_both_sides_of_the_published_benchmark(lesson07):
    stdout = lesson07[0]
    for figure in ("0.474", "0.499", "0.603", "0.596"):
        assert figure in stdout
    assert "no scale&bias" in stdout


def test_lesson07_input_bn_conclusion_follows_the_comparison():
    words = lesson_functions(LESSON_07, "input_bn_conclusion")["input_bn_conclusion"]
    same = accuracies([0.93, 0.92, 0.94], [0.93, 0.93, 0.93], ("input BN", "standardized"))
    worse = accuracies([0.80, 0.81, 0.82], [0.93, 0.93, 0.94], ("input BN", "standardized"))
    better = accuracies([0.96, 0.97, 0.96], [0.93, 0.93, 0.94], ("input BN", "standardized"))
    assert "no clear difference from standardizing" in words(same)
    assert "matches" not in words(same)  # no clear difference is not "the same"
    assert "worse than standardizing" in words(worse)
    assert "better than standardizing" in words(better)
    assert "one seed" in words(accuracies([0.9], [0.8], ("input BN", "standardized")))


def test_lesson07_placement_verdict_follows_the_noise():
    words = lesson_functions(LESSON_07, "placement_verdict")["placement_verdict"]
    assert words(0.004, 0.003, 8).startswith("within noise")
    assert "'after' is ahead" in words(0.02, 0.003, 8)
    assert "'before' is ahead" in words(-0.02, 0.003, 8)
    # the t rule, not 2 s.e.: 0.007 is more than 2 s.e. (0.006) but less than t(7) = 2.36 s.e.
    assert words(0.007, 0.003, 8).startswith("within noise")
    assert "'after' is ahead" in words(0.008, 0.003, 8)
    assert words(0.008, 0.003, 3).startswith("within noise")  # 3 seeds: t(2) = 4.30


def test_lesson07_floor_conclusion_follows_the_comparisons():
    words = lesson_functions(LESSON_07, "floor_conclusion")["floor_conclusion"]
    names = ("BN on the output, head start", "linear output")

    def mse(a, b):
        return compare(a, b, "MSE", names, fmt="{:.1f}")

    lower_train = mse([150, 160, 170], [220, 230, 225])
    higher_train = mse([220, 230, 225], [150, 160, 170])
    unclear_train = mse([150, 230, 190], [220, 160, 200])
    higher_test = mse([480, 490, 485], [380, 390, 385])
    lower_test = mse([370, 380, 375], [380, 390, 385])
    lower_higher = words(lower_train, higher_test)
    assert lower_higher.startswith("No:")
    assert "the floor is not what makes its test MSE higher" in lower_higher
    assert "(160 vs 225, -65 ± " in lower_higher and "(485 vs 385, +100 ± " in lower_higher
    assert words(lower_train, lower_test).endswith("does not hold it back at this length.")
    assert "as a floor would make it" in words(higher_train, higher_test)
    assert words(higher_train, higher_test).startswith("Maybe:")
    assert "cannot tell" in words(unclear_train, higher_test)


@pytest.mark.parametrize("name", sorted(path.name for path in LESSONS.glob("[0-9][0-9]_*.py")))
def test_every_part_of_a_lesson_follows_the_command_line_options(name):
    """QUICK, SEED and OUT are the notebook's defaults: every part must read the parsed options
    (args.quick, args.seed, args.out), or --quick and --seed would not reach it (lesson 07's
    part 4 once used SEED and QUICK directly)."""
    import ast

    tree = ast.parse((LESSONS / name).read_text(encoding="utf-8"))
    options_call = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
                    and getattr(node.func, "id", None) == "lesson_options"]
    allowed = {id(node) for call in options_call for node in ast.walk(call)}
    used = [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Name) and node.id in ("QUICK", "SEED", "OUT")
            and isinstance(node.ctx, ast.Load) and id(node) not in allowed]
    assert used == [], f"{name} reads QUICK/SEED/OUT directly on lines {used}"
