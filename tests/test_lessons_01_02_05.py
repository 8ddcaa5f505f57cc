"""Lessons 01, 02 and 05 run in --quick mode, write their figures, and print conclusions that
agree with their own numbers.

Each lesson is run as a student runs it (`python lessons/NN_name.py`), in a subprocess, and
prints machine-readable lines `RESULT key=value ...` next to its narration; the tests read
those.
"""

from pathlib import Path

import pytest
from lesson_runner import parse_result, run_lesson


def number(text):
    return None if text == "None" else float(text)


@pytest.fixture(scope="module")
def lesson01(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson01")
    return out, parse_result(run_lesson("01_article_model.py", out))


@pytest.fixture(scope="module")
def lesson02(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson02")
    return out, parse_result(run_lesson("02_inside_batchnorm.py", out))


@pytest.fixture(scope="module")
def lesson05(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson05")
    return out, parse_result(run_lesson("05_init_and_learning_rate.py", out))


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
    bn, plain = float(results["first_epoch_loss_bn"]), float(results["first_epoch_loss_plain"])
    expected = "with_BN" if bn < plain else "without_BN"
    assert results["faster_start"] in (expected, "neither_(a_tie)")
    assert 0 <= int(results["bn_wins"]) <= int(results["seeds"])


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


def test_lesson02_momentum_09_settles_sooner_but_wobbles_more(lesson02):
    _, results = lesson02
    fast, slow = number(results["settle_0.9"]), number(results["settle_0.99"])
    assert fast is not None
    assert slow is None or fast < slow
    assert float(results["noise_0.9"]) > float(results["noise_0.99"])


def test_lesson02_dense_bias_before_bn_gets_no_gradient(lesson02):
    _, results = lesson02
    assert float(results["bias_grad_ratio"]) < 1e-10
    assert float(results["bias_moved"]) < 1e-10
    assert int(results["wasted"]) == 64 + 32  # the two Dense biases of the article's model


# -- lesson 05: initialization and learning rate -------------------------------------------

def test_lesson05_writes_its_figures(lesson05):
    out, _ = lesson05
    assert figures_in(out) == ["05_curves.png", "05_heatmaps.png", "05_slices.png"]


def test_lesson05_more_of_the_grid_trains_with_bn(lesson05):
    _, results = lesson05
    assert int(results["trained_bn"]) > int(results["trained_plain"])
    assert int(results["diverged_bn"]) < int(results["diverged_plain"])
    assert int(results["trained_bn"]) + int(results["diverged_bn"]) <= int(results["cells"])
