"""Lessons 12 (BN in a convolutional network) and 13 (how small can a batch be?) run in quick
mode offline, write their figures, print every comparison with its noise and one headline,
and word their conclusions from the numbers.

Each lesson prints machine-readable lines, `RESULT key=value ...`, computed from its run; the
tests read those instead of the narration. The wording functions are taken out of the lesson
scripts and called with made-up numbers, so that a conclusion printed whatever the numbers
say would fail here. The lessons run with TINYNET_DATA pointing at an empty folder, so they
use their synthetic images even on a machine that has Fashion-MNIST; one test gives the
loader a tiny fake Fashion-MNIST instead."""


import numpy as np
import pytest
from lesson_runner import (
    assert_numbers_add_up,
    comparisons_without_noise,
    load_functions,
    parse_result,
    run_lesson,
)

from tinynet.datasets import load_fashion_mnist
from tinynet.mnist import FILE_NAMES, write_idx
from tinynet.stats import compare, mean_and_se, noise_multiple

LESSON_12 = "12_bn_in_a_cnn.py"
LESSON_13 = "13_how_small_a_batch.py"


def run_offline(filename, tmp_path_factory):
    """Run a lesson with --quick and no data sets on disk; (figure folder, stdout, RESULT)."""
    out = tmp_path_factory.mktemp(filename[:2] + "_figures")
    empty = tmp_path_factory.mktemp(filename[:2] + "_no_data")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("TINYNET_DATA", str(empty))
        stdout = run_lesson(filename, out)
    return out, stdout, parse_result(stdout)


@pytest.fixture(scope="module")
def lesson_12(tmp_path_factory):
    return run_offline(LESSON_12, tmp_path_factory)


@pytest.fixture(scope="module")
def lesson_13(tmp_path_factory):
    return run_offline(LESSON_13, tmp_path_factory)


def assert_figures(out, names):
    assert sorted(path.name for path in out.glob("*.png")) == sorted(names)
    for name in names:
        assert (out / name).stat().st_size > 10_000, f"{name} looks empty"


# the lesson's own printing helpers, which the wording functions call (none now: a
# Comparison prints itself, tinynet.stats)
HELPERS = ()


def lesson_functions(filename, *names):
    """{name: function} for top-level functions of a lesson, without running the lesson; they
    share one namespace that holds NumPy, tinynet.stats's compare and mean_and_se, and the
    lesson's printing helpers."""
    namespace = {"np": np, "compare": compare, "mean_and_se": mean_and_se,
                 "noise_multiple": noise_multiple}
    functions = load_functions(filename, *HELPERS, *names, namespace=namespace)
    return dict(zip((*HELPERS, *names), functions, strict=True))


def assert_figures_follow_their_headers(stdout, pairs):
    """Each figure is announced after the header of the section it belongs to."""
    for header, figure in pairs:
        assert stdout.index(header) < stdout.index(figure), (header, figure)


def assert_comparisons_carry_noise(stdout, at_least):
    assert comparisons_without_noise(stdout) == []
    assert sum(" vs " in line and "±" in line for line in stdout.splitlines()) >= at_least
    assert sum(line.startswith("Headline: ") for line in stdout.splitlines()) == 1


def made_up(a, b, names=("with BN", "without BN"), higher_is_better=False):
    return compare(a, b, "made-up quantity", names, lower_is_better=not higher_is_better)


# -- lesson 12 ---------------------------------------------------------------------------

def test_lesson_12_writes_its_figures_and_says_which_data(lesson_12):
    out, stdout, result = lesson_12
    assert_figures(out, ["1_curves_with_and_without_bn.png", "2_learning_rate_range.png",
                         "3_channel_statistics.png"])
    assert result["data"] == "synthetic"
    assert "data: synthetic strokes" in stdout


def test_lesson_12_spatial_bn_equals_bn_on_reshaped_pixels(lesson_12):
    _, stdout, result = lesson_12
    assert result["spatial_vs_rows"] < 1e-12  # float64: equal up to round-off
    assert result["by_hand"] < 1e-12
    assert "32 x 16 x 16 = 8,192 values" in stdout
    # the summary quotes the spatial-vs-rows difference, not the layer against the formula
    summary = stdout[stdout.index("\nSummary"):]
    assert (f"Spatial BN equals fully-connected BN on (N*H*W, C) (largest difference "
            f"{result['spatial_vs_rows']:.1e}") in summary
    assert f"formula by hand to round-off ({result['by_hand']:.1e})" in summary


def test_lesson_12_spatial_words_follow_the_differences():
    words = lesson_functions(LESSON_12, "spatial_words")["spatial_words"]
    words.__globals__["ROUND_OFF"] = 1e-12  # the lesson's global, in the functions' namespace
    assert words(0.0, 6.2e-15).startswith("spatial BN equals fully-connected BN")
    assert "(largest difference 0.0e+00" in words(0.0, 6.2e-15)
    assert "does NOT equal" in words(3e-3, 6.2e-15)
    assert "differs from the formula by hand" in words(0.0, 1e-4)


def test_lesson_12_prints_its_criteria_and_sections_before_their_figures(lesson_12):
    _, stdout, _ = lesson_12
    assert "below 0.8 x ln 10 = 1.84" in stdout  # what "trained" means, printed
    assert "seeds trained (loss below 1.84): with BN " in stdout
    assert_figures_follow_their_headers(stdout, [
        ("== 2.", "1_curves_with_and_without_bn"), ("== 3.", "2_learning_rate_range"),
        ("== 4.", "3_channel_statistics")])


def test_lesson_12_measures_curves_rates_and_statistics(lesson_12):
    _, _, result = lesson_12
    assert result["seeds"] >= 2
    for key in ("val_accuracy_bn", "val_accuracy_plain", "exact_accuracy_bn"):
        assert 0.0 <= result[key] <= 1.0
    assert 0 <= result["rates_trained_bn"] <= result["rates"]
    # a channel's batch mean comes from N*H*W values, a Dense unit's from N: steadier
    assert result["conv_mean_jump"] < result["dense_mean_jump"]


def test_lesson_12_labels_its_one_seed_statistics_and_reads_cleanly(lesson_12):
    _, stdout, _ = lesson_12
    jumps = [line for line in stdout.splitlines() if "standard deviations" in line]
    assert len(jumps) == 2
    assert all("seed 0's run, one seed" in line for line in jumps), jumps  # default seed 0
    summary = stdout[stdout.index("\nSummary"):]
    assert "Moving estimates: the moving estimates" not in summary
    assert "- The moving estimates" in summary


def test_lesson_12_every_comparison_carries_its_noise(lesson_12):
    assert_comparisons_carry_noise(lesson_12[1], at_least=5)
    assert_numbers_add_up(lesson_12[1])


def test_lesson_12_rate_range_words_follow_the_losses():
    functions = lesson_functions(LESSON_12, "trained_rates", "rate_range_words")
    trained_rates, words = functions["trained_rates"], functions["rate_range_words"]
    rates = [0.001, 0.01, 0.1]
    losses = {0.001: np.array([2.3, 2.2]), 0.01: np.array([1.0, 1.2]),
              0.1: np.array([np.nan, 0.5])}
    assert trained_rates(losses, rates, threshold=1.8) == [0.01]  # NaN: diverged, not trained
    assert trained_rates({0.01: np.array([1.0, 1.9])}, [0.01], threshold=1.8) == []
    words.__globals__["EPOCHS"] = 4  # the lesson's global, in the functions' own namespace
    assert "none of the rates" in words("without BN", [], rates)
    assert "every rate tried, 0.001 to 0.1" in words("with BN", rates, rates)
    assert "1 of 3 rates: 0.01" in words("without BN", [0.01], rates)


def test_lesson_12_lag_and_curve_words_follow_the_noise():
    functions = lesson_functions(LESSON_12, "points", "lag_words", "curve_words")
    lag_words, curve_words = functions["lag_words"], functions["curve_words"]
    names = ("with its moving estimates", "with exact statistics")
    costly = made_up([0.70, 0.75, 0.72], [0.90, 0.92, 0.91], names, higher_is_better=True)
    level = made_up([0.90, 0.88, 0.92], [0.91, 0.90, 0.89], names, higher_is_better=True)
    assert lag_words(costly).startswith("the moving estimates cost 18.7 points")
    assert "no clear accuracy" in lag_words(level)
    faster = made_up([1.4, 1.5, 1.45], [2.4, 2.39, 2.41])
    same_start = made_up([2.4, 2.3, 2.5], [2.41, 2.39, 2.4])
    ahead = made_up([0.80, 0.82, 0.81], [0.50, 0.52, 0.55], higher_is_better=True)
    tied = made_up([0.80, 0.60, 0.70], [0.70, 0.72, 0.66], higher_is_better=True)
    assert curve_words(faster, ahead).startswith("BN starts faster")
    assert "ends ahead on validation accuracy by 28.7 points" in curve_words(faster, ahead)
    assert "not clearly different" in curve_words(faster, tied)
    assert curve_words(same_start, tied).startswith("BN does not start clearly faster")
    # the network without BN starts faster and BN ends ahead: each half names its subject
    slower = made_up([2.4, 2.39, 2.41], [1.4, 1.5, 1.45])
    text = curve_words(slower, ahead)
    assert text.startswith("the network without BN starts faster; BN ends ahead")


def test_lesson_12_uses_fashion_mnist_when_its_files_are_there(tmp_path, monkeypatch):
    folder = tmp_path / "fashion_mnist"
    folder.mkdir()
    rng = np.random.default_rng(0)
    for name, n in zip(FILE_NAMES, (40, 40, 20, 20), strict=True):
        shape = (n, 28, 28) if "images" in name else (n,)
        write_idx(folder / name, rng.integers(0, 256 if len(shape) == 3 else 10, shape,
                                              dtype=np.uint8))
    monkeypatch.setenv("TINYNET_DATA", str(tmp_path))
    namespace = {"np": np, "load_fashion_mnist": load_fashion_mnist, "SIDE": 16}
    load_images, _ = load_functions(LESSON_12, "load_images", "shrink", namespace=namespace)
    x_train, y_train, x_val, y_val, name = load_images(30, 10, seed=0)
    assert name.startswith("Fashion-MNIST")
    assert x_train.shape == (30, 16, 16, 1) and x_val.shape == (10, 16, 16, 1)
    assert abs(x_train.mean()) < 1e-5 and abs(x_train.std() - 1) < 1e-4
    assert len(y_train) == 30 and len(y_val) == 10


# -- lesson 13 ---------------------------------------------------------------------------

def test_lesson_13_writes_its_figure_and_says_which_data(lesson_13):
    out, stdout, result = lesson_13
    assert_figures(out, ["1_error_vs_batch_size.png"])
    assert result["data"] == "synthetic"
    assert "data: synthetic strokes" in stdout
    assert result["smallest_n"] == 2 and result["largest_n"] == 32


def test_lesson_13_ghost_bn_equals_bn_on_each_group(lesson_13):
    _, _, result = lesson_13
    assert result["ghost_check"] < 1e-12  # float64, groups of 32 and of 2


def test_lesson_13_reports_every_normalization(lesson_13):
    _, stdout, result = lesson_13
    for key in ("BN_error_small", "BN_error_large", "GroupNorm_error", "LayerNorm_error",
                "no_normalization_error"):
        assert 0.0 <= result[key] <= 1.0
    assert 0 <= result["claims_reproduced"] <= result["claims"] == 3
    assert "34.7%" in stdout and "24.1%" in stdout  # the paper's numbers, checked in the code


def test_lesson_13_every_comparison_carries_its_noise(lesson_13):
    assert_comparisons_carry_noise(lesson_13[1], at_least=6)
    assert_numbers_add_up(lesson_13[1])


def test_lesson_13_says_gpu_only_of_the_paper_and_introduces_its_check(lesson_13):
    _, stdout, _ = lesson_13
    for line in stdout.splitlines():
        if "GPU" in line:  # the class runs on a CPU: GPUs are the paper's
            assert "Wu & He" in line, line
    check = stdout.index("== Check: GhostBatchNormalization")
    assert check < stdout.index("n = 32 (the whole batch)") < stdout.index("n =  2 (16 groups")
    assert "equals BatchNormalization on each group, to float64 round-off" in stdout
    assert_figures_follow_their_headers(stdout, [("== Validation error", "1_error_vs_batch")])


def test_lesson_13_ghost_words_follow_the_check():
    words = lesson_functions(LESSON_13, "ghost_words")["ghost_words"]
    assert "equals BatchNormalization" in words({32: 1.8e-15, 2: 1.3e-15})
    assert "does NOT equal" in words({32: 1.8e-15, 2: 0.3}) and "n = 2" in words({2: 0.3})


def test_lesson_13_paper_check_follows_the_numbers():
    functions = lesson_functions(LESSON_13, "paper_check", "conclusion")
    paper_check, conclusion = functions["paper_check"], functions["conclusion"]
    sizes, kinds = ("n = 2", "n = 32"), ("BN", "GroupNorm")
    rises = made_up([0.35, 0.34, 0.36], [0.24, 0.23, 0.24], sizes)
    gn_better_small = made_up([0.35, 0.34, 0.36], [0.24, 0.25, 0.24], kinds)
    # the paper at 32 images per GPU: GroupNorm close to BN, its interval within 1 point
    close_large = made_up([0.236, 0.237, 0.235, 0.236], [0.241, 0.240, 0.241, 0.242], kinds)
    paper = paper_check(rises, gn_better_small, close_large, 0.01)
    assert [ok for _, ok, _ in paper] == [True, True, True]
    assert "lies within ± 1 point" in paper[2][2]
    assert conclusion(paper) == "the miniature reproduces all 3 of the paper's claims checked here"
    # BN rises, but GroupNorm is no better at n = 2: 2 of 3, and it says which one failed
    tie = made_up([0.10, 0.12, 0.11], [0.11, 0.10, 0.12], kinds)
    mixed = paper_check(rises, tie, close_large, 0.01)
    assert [ok for _, ok, _ in mixed] == [True, False, True]
    assert conclusion(mixed) == (
        "of the paper's 3 claims checked here, the miniature reproduces 2 (BN's error rises as "
        "n shrinks; GroupNorm is within 1 point of BN at the largest n); the other claim does "
        "not show at this scale (GroupNorm beats BN at the smallest n)")
    assert "no clear difference" in mixed[1][2]
    # GroupNorm clearly worse than BN at the largest n (lesson 13's full run): not "close"
    gn_worse_large = made_up([0.02, 0.03, 0.02], [0.13, 0.15, 0.14], kinds)
    worse = paper_check(rises, tie, gn_worse_large, 0.01)
    assert worse[2][1] is False and "GroupNorm is clearly worse" in worse[2][2]
    assert "reproduces 1 (BN's error rises as n shrinks); the other 2 do not show" in \
        conclusion(worse)
    assert "within 1 point of BN at the largest n)" in conclusion(worse)
    # no clear difference is not "close": a wide interval is too wide to show it
    wide = made_up([0.10, 0.20, 0.15], [0.15, 0.12, 0.16], kinds)
    assert not wide.clear
    unsure = paper_check(rises, tie, wide, 0.01)
    assert unsure[2][1] is False and "too wide" in unsure[2][2]
    flat = made_up([0.10, 0.12, 0.11], [0.11, 0.10, 0.12], sizes)
    gn_better_large = made_up([0.20, 0.21, 0.20], [0.10, 0.11, 0.10], kinds)
    none = paper_check(flat, tie, gn_better_large, 0.01)
    assert "none of the paper's 3 claims" in conclusion(none)


def test_lesson_13_change_words_follow_the_noise():
    words = lesson_functions(LESSON_13, "change_words")["change_words"]

    def errors(a, b):  # as the lesson compares errors: in percent, the difference in points
        return compare(a, b, "error", ("n = 2", "n = 32"), fmt="{:.1%}")

    assert "rises by 11.3 points" in words("BN", errors([0.35, 0.34, 0.36], [0.24, 0.23, 0.24]))
    assert "falls by 20.0 points" in words("BN", errors([0.1, 0.11, 0.1], [0.3, 0.31, 0.3]))
    assert "does not change clearly" in words("BN", errors([0.2, 0.3, 0.25], [0.26, 0.24, 0.25]))


def test_lesson_13_ghost_bn_layer_trains_inside_a_model():
    """GhostBatchNormalization in a model: splits each training batch, and says clearly when
    a batch cannot be split."""
    import tinynet.layers as layers

    namespace = {"np": np, "BatchNormalization": layers.BatchNormalization}
    ghost_class = load_class(LESSON_13, "GhostBatchNormalization", namespace)
    layer = ghost_class(2, dtype="float64")
    x = np.random.default_rng(0).normal(size=(6, 3, 3, 4))
    y = layer.forward(x, training=True)
    assert y.shape == x.shape
    assert np.allclose(y[:2].reshape(-1, 4).mean(axis=0), 0.0, atol=1e-12)  # per group of 2
    assert layer.backward(np.ones_like(x)).shape == x.shape
    with pytest.raises(ValueError, match="groups of 2"):
        layer.forward(x[:5], training=True)
    assert np.array_equal(layer.forward(x, training=False),
                          layers.BatchNormalization.forward(layer, x, training=False))
    with pytest.raises((TypeError, ValueError), match=r"GhostBatchNormalization\(images"):
        ghost_class(0)


def load_class(filename, name, namespace):
    """A class defined at the top level of a lesson, without running the lesson."""
    import ast

    from lesson_runner import LESSONS

    tree = ast.parse((LESSONS / filename).read_text(encoding="utf-8"))
    node = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == name)
    scope = dict(namespace)
    exec(compile(ast.Module(body=[node], type_ignores=[]), filename, "exec"), scope)
    return scope[name]
