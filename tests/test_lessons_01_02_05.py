"""Lessons 01, 02 and 05 run in --quick mode, write their figures, and print conclusions that
agree with their own numbers.

Each lesson is run as a student runs it (`python lessons/NN_name.py`), in a subprocess, and
prints machine-readable lines `RESULT key=value ...` next to its narration; the tests read
those.
"""

import re
from pathlib import Path

import numpy as np
import pytest
from lesson_runner import comparisons_without_noise, load_functions, parse_result, run_lesson


def number(text):
    return None if text == "None" else float(text)


@pytest.fixture(scope="module")
def lesson01_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson01")
    return out, run_lesson("01_article_model.py", out)


@pytest.fixture(scope="module")
def lesson01(lesson01_run):
    out, printout = lesson01_run
    return out, parse_result(printout)


@pytest.fixture(scope="module")
def lesson01_printout(lesson01_run):
    return lesson01_run[1]


@pytest.fixture(scope="module")
def lesson02_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson02")
    return out, run_lesson("02_inside_batchnorm.py", out)


@pytest.fixture(scope="module")
def lesson02(lesson02_run):
    out, printout = lesson02_run
    return out, parse_result(printout)


@pytest.fixture(scope="module")
def lesson02_printout(lesson02_run):
    return lesson02_run[1]


@pytest.fixture(scope="module")
def lesson05_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson05")
    return out, run_lesson("05_init_and_learning_rate.py", out)


@pytest.fixture(scope="module")
def lesson05(lesson05_run):
    out, stdout = lesson05_run
    return out, parse_result(stdout)


@pytest.fixture(scope="module")
def lesson05_printout(lesson05_run):
    return lesson05_run[1]


def figures_in(out):
    return sorted(path.name for path in Path(out).glob("*.png"))


# -- lesson 01: the article's model ---------------------------------------------------------

def test_lesson01_writes_its_figures(lesson01):
    out, _ = lesson01
    assert figures_in(out) == ["01_curves.png", "01_seeds.png"]


def test_lesson01_summary_counts_the_articles_parameters(lesson01):
    _, results = lesson01
    # Dense 20*64+64, BN 4*64, Dense 64*32+32, BN 4*32, Dense 32+1
    with_bn = (20 * 64 + 64) + 4 * 64 + (64 * 32 + 32) + 4 * 32 + (32 + 1)
    assert int(results["params_with_BN"]) == with_bn
    assert int(results["params_without_BN"]) == with_bn - 4 * (64 + 32)


def test_lesson01_both_networks_learn_the_task(lesson01):
    _, results = lesson01
    assert float(results["val_accuracy_bn"]) > 0.7
    assert float(results["val_accuracy_plain"]) > 0.7


def test_lesson01_narrated_faster_start_matches_its_numbers(lesson01):
    _, results = lesson01
    from tinynet.stats import noise_multiple

    bn, plain = results["first_epoch_loss_bn"], results["first_epoch_loss_plain"]
    margin = noise_multiple(int(results["seeds"])) * results["first_epoch_se"]
    if abs(bn - plain) <= margin:
        assert results["faster_start"] == "neither"
    else:
        assert results["faster_start"] == ("with_BN" if bn < plain else "without_BN")


def test_lesson01_measures_the_gap_in_inference_mode(lesson01):
    _, results = lesson01
    # fit's training loss is a training-mode average taken while the weights still move:
    # the gap computed from it is not the inference-mode gap the lesson reports
    assert results["gap_bn"] != results["gap_bn_from_fit"]


def test_lesson01_measures_what_the_moving_averages_cost(lesson01):
    _, results = lesson01
    assert results["val_loss_epoch1_exact"] > 0
    assert results["moving_cost_se"] > 0


def test_lesson01_every_comparison_carries_its_noise(lesson01_printout):
    assert comparisons_without_noise(lesson01_printout) == []
    assert lesson01_printout.count("\nHeadline: ") == 1


def test_lesson01_says_its_one_seed_lines_are_one_seed(lesson01_printout):
    lines = [line for line in lesson01_printout.splitlines()
             if "val_accuracy" in line and not line.startswith("RESULT")]
    assert len(lines) == 2 and all("seed 0 only" in line for line in lines)
    assert "an illustration (the curves below), not a comparison" in lesson01_printout


def lesson01_sentences():
    from tinynet.stats import compare, noise_multiple
    return load_functions("01_article_model.py", "moving_average_sentence", "disagreement",
                          namespace={"np": np, "noise_multiple": noise_multiple}), compare


def test_lesson01_moving_average_conclusion_follows_the_numbers():
    (sentence, _), compare = lesson01_sentences()
    names = ("with its moving averages", "with exact statistics")
    costly = compare([0.34, 0.35, 0.33], [0.30, 0.31, 0.30], "x", names=names)
    free = compare([0.30, 0.32, 0.31], [0.31, 0.31, 0.31], "x", names=names)
    ahead = compare([0.28, 0.29, 0.28], [0.30, 0.31, 0.30], "x",
                    names=("with BN (exact statistics)", "without BN"))
    behind = compare([0.32, 0.33, 0.32], [0.30, 0.31, 0.30], "x",
                     names=("with BN (exact statistics)", "without BN"))
    assert "already ahead" in sentence(costly, ahead)
    assert "not all of the gap" in sentence(costly, behind)
    # no clear difference is not "no effect": the sentence must say the runs cannot tell
    assert "cannot tell" in sentence(free, ahead)
    assert "do not explain" not in sentence(free, ahead)
    # moving 0.31 vs exact 0.32 on average: exact statistics raise the loss, by +0.010 (the
    # sign printed had been moving - exact's)
    higher_exact = compare([0.30, 0.32, 0.31], [0.32, 0.31, 0.33], "x", names=names)
    assert "exact statistics change it by +0.010" in sentence(higher_exact, ahead)
    unclear = compare([0.34, 0.36, 0.32], [0.32, 0.31, 0.33], "x", names=names)
    exact_behind = compare([0.32, 0.31, 0.33], [0.30, 0.30, 0.30], "x",
                           names=("with BN (exact statistics)", "without BN"))
    assert not unclear.clear and unclear.difference > 0
    words = sentence(unclear, exact_behind)
    assert "may explain part of the gap, but not beyond the noise" in words
    assert "50%" in words and "do not explain" not in words
    higher = compare([0.30, 0.31, 0.30], [0.34, 0.35, 0.34], "x", names=names)
    assert "do not explain" in sentence(higher, ahead)


def test_lesson01_loss_and_accuracy_disagreement_is_said_only_when_true():
    (_, disagreement), compare = lesson01_sentences()
    loss_bn = compare([0.20, 0.21, 0.20], [0.25, 0.26, 0.25], "loss")
    accuracy_plain = compare([0.90, 0.91, 0.90], [0.95, 0.96, 0.95], "accuracy",
                             lower_is_better=False)
    accuracy_bn = compare([0.95, 0.96, 0.95], [0.90, 0.91, 0.90], "accuracy",
                          lower_is_better=False)
    assert "favour different networks" in disagreement(loss_bn, accuracy_plain)
    assert disagreement(loss_bn, accuracy_bn) == ""


# -- lesson 02: inside BatchNorm ------------------------------------------------------------

def test_lesson02_writes_its_figures(lesson02):
    out, _ = lesson02
    assert figures_in(out) == ["02_bias_before_bn.png", "02_forward_steps.png",
                               "02_gradcheck.png", "02_moving_averages.png",
                               "02_train_vs_inference.png"]


def test_lesson02_layer_matches_numpy_and_finite_differences(lesson02):
    _, results = lesson02
    assert float(results["forward_max_diff"]) < 1e-12
    assert float(results["gradcheck_rel_error"]) < 1e-6


def test_lesson02_inference_mode_approaches_training_mode_as_moving_stats_converge(lesson02):
    _, results = lesson02
    assert float(results["gap_after"]) < 0.1 * float(results["gap_before"])


def test_lesson02_momentum_09_forgets_its_start_sooner_but_wobbles_more(lesson02):
    _, results = lesson02
    assert results["settle_0.9"] < results["settle_0.99"]
    assert results["noise_0.9"] > results["noise_0.99"]
    assert results["settle_se"] > 0 and results["noise_se"] > 0


def test_lesson02_moving_variance_lands_at_m_minus_1_over_m_of_the_true_variance(lesson02):
    _, results = lesson02
    se = results["variance_keras_se"]
    assert abs(results["variance_keras"] - results["variance_biased_target"]) < 5 * se
    assert abs(results["variance_unbiased"] - results["variance_true"]) < 5 * se * 32 / 31


def test_lesson02_every_comparison_carries_its_noise(lesson02_printout):
    assert comparisons_without_noise(lesson02_printout) == []
    assert lesson02_printout.count("\nHeadline: ") == 1


def test_lesson02_prints_checks_in_words_and_round_off_as_zero(lesson02_printout):
    # a passing check must not read like a failure ("exact: False"), and round-off is a 0,
    # not "-0." or "1e-17"
    assert "exact: False" not in lesson02_printout
    assert re.search(r"-0\.(?!\d)", lesson02_printout) is None
    assert "not bit-identical" in lesson02_printout and "bit-identical (every" in lesson02_printout
    assert "DISAGREE" not in lesson02_printout


def test_lesson02_moving_variance_is_read_on_the_layer_and_worded_from_its_interval():
    from tinynet import stats
    from tinynet.stats import noise_multiple
    against, settles_at = load_functions("02_inside_batchnorm.py", "against", "settles_at",
                                         namespace={"stats": stats})
    assert 1.96 < noise_multiple(200) < 1.975  # Student's t for 199 degrees of freedom
    # 2.2 s.e. away is outside a 95 % interval of 200 values, 1.0 s.e. is inside
    assert "outside the interval" in against(3.882, 0.003, 200, 3.875, "target")
    assert "inside the interval" in against(3.878, 0.003, 200, 3.875, "target")
    # few values need a wider margin: 3 s.e. is inside for 3 values (t = 4.30)
    assert "inside the interval" in against(3.884, 0.003, 3, 3.875, "target")
    assert "not 4 itself" in settles_at(3.876, 0.005, 200, 3.875, 4.0)
    assert "not (m - 1)/m" in settles_at(3.998, 0.005, 200, 3.875, 4.0)
    assert "cannot tell" in settles_at(3.94, 0.05, 200, 3.875, 4.0)
    assert "neither" in settles_at(3.70, 0.005, 200, 3.875, 4.0)


def test_lesson02_momentum_conclusion_follows_the_numbers():
    from tinynet.stats import compare
    (trade_off,) = load_functions("02_inside_batchnorm.py", "momentum_trade_off")
    names = ("momentum 0.9", "momentum 0.99")
    sooner = compare([30, 31, 29], [300, 290, 310], "steps", names=names, lower_is_better=None)
    same_time = compare([30, 300, 29], [300, 31, 310], "steps", names=names,
                        lower_is_better=None)
    wobblier = compare([0.08, 0.09, 0.08], [0.02, 0.02, 0.03], "std", names=names,
                       lower_is_better=None)
    calm = compare([0.02, 0.09, 0.03], [0.08, 0.02, 0.03], "std", names=names,
                   lower_is_better=None)
    assert "trade-off shows" in trade_off(sooner, wobblier)
    assert "not clear" in trade_off(sooner, calm)
    assert "Neither" in trade_off(same_time, calm)
    # the opposite of the trade-off, beyond the noise, is not "not clear"
    steadier = compare([0.02, 0.02, 0.03], [0.08, 0.09, 0.08], "std", names=names,
                       lower_is_better=None)
    text = trade_off(sooner, steadier)
    assert "wobbles less (beyond the noise)" in text and "one half" in text


def test_lesson02_dense_bias_before_bn_gets_no_gradient(lesson02):
    _, results = lesson02
    assert float(results["bias_grad_ratio"]) < 1e-10
    assert float(results["bias_moved"]) < 1e-10
    assert int(results["wasted"]) == 64 + 32  # the two Dense biases of the article's model


# -- lesson 05: initialization and learning rate -------------------------------------------

def test_lesson05_writes_its_figures(lesson05):
    out, _ = lesson05
    assert figures_in(out) == ["05_curves.png", "05_heatmaps.png", "05_slices.png"]


def test_lesson05_more_of_the_grid_works_with_bn_by_two_standard_errors(lesson05):
    """In the quick run (2 seeds) the printout rightly gives no verdict (t = 12.7); the
    effect is still large enough to clear 2 s.e., which is what this pins."""
    _, results = lesson05
    assert results["seeds"] >= 2
    assert results["works_bn"] - results["works_plain"] > 2 * results["works_difference_se"]
    assert results["diverged_bn"] <= results["diverged_plain"]
    assert results["works_bn"] + results["diverged_bn"] <= results["cells"]
    assert results["works_cells_bn"] <= results["cells"]


def test_lesson05_works_means_test_accuracy_in_inference_mode(lesson05, lesson05_printout):
    """'Works' is judged on the test accuracy the heatmap shows (inference mode), not on the
    training-mode loss: the quick run has BN runs with a low training loss that fail in
    inference mode, and the printout names them and says why."""
    _, results = lesson05
    assert results["useful_accuracy"] == 0.75
    assert results["low_loss_not_working_bn"] >= 1
    assert "only the moving averages fail it" in lesson05_printout
    # the figure's count (medians per cell) and the per-seed count are both labelled
    assert "Per cell, by the median of its" in lesson05_printout
    assert "that work, test accuracy >= 0.75 in inference mode, per seed" in lesson05_printout


def test_lesson05_best_cells_are_compared_with_their_noise(lesson05_printout):
    line = next(line for line in lesson05_printout.splitlines()
                if "test accuracy of each network's best cell" in line)
    assert "±" in line and "s.e. over" in line


def test_lesson05_inference_only_failure_is_explained_only_when_measured():
    (explain,) = load_functions("05_init_and_learning_rate.py", "inference_only_failure",
                                namespace={"USEFUL_ACCURACY": 0.75})
    assert "only the moving averages fail it" in explain(0.96, 0.49, 8.2)
    assert "8.2x the variance" in explain(0.96, 0.49, 8.2)
    assert "x the variance" not in explain(0.96, 0.49, 1.1)
    assert "fails in both modes" in explain(0.55, 0.49, 8.2)
    assert "moving averages" not in explain(0.55, 0.49, 8.2)


def test_lesson05_every_comparison_carries_its_noise(lesson05_printout):
    assert comparisons_without_noise(lesson05_printout) == []
    assert "━" not in lesson05_printout  # no progress bars between the sentences
    assert sum(" vs " in line and "±" in line for line in lesson05_printout.splitlines()) >= 2
    assert sum(line.startswith("Headline: ") for line in lesson05_printout.splitlines()) == 1


def test_lesson05_large_weights_caveat_is_said_only_when_measured():
    from tinynet.stats import compare

    (caveat,) = load_functions("05_init_and_learning_rate.py", "large_weights_caveat")
    slower = compare([1.3, 1.2, 1.4], [0.4, 0.45, 0.42], "final loss", ("10 x He", "1 x He"))
    same = compare([0.42, 0.40, 0.45], [0.4, 0.45, 0.42], "final loss", ("10 x He", "1 x He"))
    assert "changes large weights relatively less" in caveat(slower, 0.01, 10)
    assert "changes large weights relatively less" not in caveat(same, 0.01, 10)
    # what is compared is the final loss, and no clear difference is not "no caveat"
    assert "does not show at this scale" in caveat(same, 0.01, 10)
    assert "no caveat" not in caveat(same, 0.01, 10)
    assert "slower than He" not in caveat(same, 0.01, 10)
    unclear_higher = compare([1.6, 0.9], [0.5, 0.55], "final loss", ("10 x He", "1 x He"))
    assert not unclear_higher.clear
    assert "higher final loss" in caveat(unclear_higher, 0.01, 10)
    assert "not clearly worse" in caveat(unclear_higher, 0.01, 10)


def test_lesson05_a_cell_is_diverged_only_when_most_seeds_diverged():
    (cell_median,) = load_functions("05_init_and_learning_rate.py", "cell_median",
                                    namespace={"np": np})
    losses = np.array([[0.1, np.nan], [np.nan, np.nan], [0.3, 0.2]])  # (seeds, cells)
    median = cell_median(losses, np.inf)
    assert median[0] == 0.3 and np.isnan(median[1])
