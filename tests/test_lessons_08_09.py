"""Lessons 08 (regularization) and 09 (why BN works) run in quick mode, write their figures,
print every comparison with its noise, and word their conclusions from the numbers.

Each lesson prints one machine-readable line, `RESULT key=value ...`, computed from its run;
the tests read that line instead of the narration. The wording functions are taken out of
the lesson scripts and called with made-up numbers, so that a conclusion printed whatever the
numbers say would fail here."""


import re
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pytest
from lesson_runner import (
    assert_numbers_add_up,
    comparisons_without_noise,
    load_functions,
    parse_result,
    run_lesson,
)

from tinynet.stats import compare, mean_and_se, noise_multiple

LESSON_08 = "08_regularization.py"
LESSON_09 = "09_why_does_it_work.py"


@pytest.fixture(scope="module")
def lesson_08(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson_08")
    stdout = run_lesson(LESSON_08, out)
    return out, stdout, parse_result(stdout)


@pytest.fixture(scope="module")
def lesson_09(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson_09")
    stdout = run_lesson(LESSON_09, out)
    return out, stdout, parse_result(stdout)


def assert_figures(out, names):
    written = sorted(path.name for path in out.glob("*.png"))
    assert written == sorted(names)
    for name in names:
        assert (out / name).stat().st_size > 10_000, f"{name} looks empty"


def assert_comparisons_carry_noise(stdout):
    assert comparisons_without_noise(stdout) == []
    assert "━" not in stdout  # no progress bars between the sentences
    assert sum(" vs " in line and "±" in line for line in stdout.splitlines()) >= 4
    assert sum(line.startswith("Headline: ") for line in stdout.splitlines()) == 1


# the lesson's own printing helpers, which the wording functions call (none now: a
# Comparison prints itself, tinynet.stats)
HELPERS = ()


def lesson_functions(filename, *names):
    """{name: function} for the wording functions `names` of a lesson, with what they use."""
    scope = {"np": np, "compare": compare, "mean_and_se": mean_and_se,
             "noise_multiple": noise_multiple}
    functions = load_functions(filename, *HELPERS, *names, namespace=scope)
    return dict(zip((*HELPERS, *names), functions, strict=True))


def made_up(a, b, names=("BN", "no regularization"), higher_is_better=False):
    return compare(a, b, "made-up quantity", names, lower_is_better=not higher_is_better)


# -- lesson 08 ---------------------------------------------------------------------------

def test_lesson_08_writes_its_figures(lesson_08):
    out, _, _ = lesson_08
    assert_figures(out, ["1_train_vs_validation_curves.png", "2_generalization_gaps.png",
                         "3_dropout_variance_shift.png"])


def test_lesson_08_reports_gaps_and_confidence_for_each_of_the_four_networks(lesson_08):
    _, stdout, result = lesson_08
    assert result["seeds"] >= 2
    for name in ("no_regularization", "dropout", "BN", "BN_and_dropout"):
        assert -1.0 <= result[f"{name}_accuracy_gap"] <= 1.0
        assert 0.0 <= result[f"{name}_val_accuracy"] <= 1.0
        assert 0.5 <= result[f"{name}_confidence_when_wrong"] <= 1.0  # max(p, 1 - p)
    assert "Summary" in stdout


def test_lesson_08_regularized_networks_have_a_smaller_loss_gap(lesson_08):
    _, _, result = lesson_08
    plain = result["no_regularization_loss_gap"]
    assert plain > result["BN_loss_gap"]
    assert plain > result["BN_and_dropout_loss_gap"]


def test_lesson_08_dropout_before_bn_inflates_the_moving_variance(lesson_08):
    _, _, result = lesson_08
    # without dropout the refreshed moving variance matches inference: (N-1)/N = 0.97 expected
    assert 0.8 < result["variance_ratio_p0"] < 1.1
    assert result["variance_ratio_dropout"] > 1.2 * result["variance_ratio_p0"]


def test_lesson_08_every_comparison_carries_its_noise(lesson_08):
    assert_comparisons_carry_noise(lesson_08[1])
    assert_numbers_add_up(lesson_08[1])


def test_lesson_08_tables_fit_in_100_columns_with_separate_headers(lesson_08):
    _, stdout, _ = lesson_08
    section = stdout[stdout.index("== 2."):stdout.index("2_generalization_gaps")]
    for line in section.splitlines()[1:-1]:
        assert len(line) <= 100, line
    assert "   gap   confidence when wrong" in section  # headers apart, not run together
    variance = stdout[stdout.index("== 3."):stdout.index("3_dropout_variance_shift")]
    table = [line for line in variance.splitlines() if line.startswith("  ") and "±" in line]
    assert table and all(len(line) <= 100 for line in table)


def test_lesson_08_each_printed_gap_is_the_difference_of_its_printed_columns(lesson_08):
    _, stdout, _ = lesson_08
    section = stdout[stdout.index("== 2."):stdout.index("2_generalization_gaps")]
    accuracy, loss = section.split("Loss (gap")
    rows = 0
    for table, loss_table in ((accuracy, False), (loss, True)):
        for line in table.splitlines():
            means = re.findall(r"(-?\d+\.\d+) ± ", line)
            if len(means) < 3:
                continue
            train, validation, gap = (Decimal(mean) for mean in means[:3])
            printed = validation - train if loss_table else train - validation
            assert printed.quantize(gap, rounding=ROUND_HALF_UP) == gap, line
            rows += 1
    assert rows == 8  # four networks, two tables


def test_lesson_08_headline_does_not_call_lower_confidence_better(lesson_08):
    _, stdout, _ = lesson_08
    headline = next(line for line in stdout.splitlines() if line.startswith("Headline:"))
    confidence = headline[headline.index("confidence on mistakes"):]
    assert "better" not in confidence, confidence


def test_lesson_08_checks_the_moving_variance_against_sampling_alone(lesson_08):
    _, stdout, result = lesson_08
    # N = 32 drawn from M = 200: (N - 1)/N x M/(M - 1)
    assert result["variance_ratio_expected"] == pytest.approx(31 / 32 * 200 / 199, abs=1e-6)
    assert "N = 32" in stdout and "M = 200" in stdout
    # the control: every layer sees what it sees at inference, so sampling alone remains
    assert abs(result["variance_ratio_control"] - result["variance_ratio_expected"]) < 0.05
    assert "bn_4 - bn_2 = " in stdout  # what the depth difference subtracts


def test_lesson_08_expectation_words_follow_the_control():
    words = lesson_functions(LESSON_08, "expectation_words", "listed")["expectation_words"]

    def against(values, reference):
        reference = np.broadcast_to(reference, np.shape(values))
        return compare(values, reference, "ratio", ("measured", "reference"),
                       lower_is_better=None)

    expected = 0.9736
    near = [0.975, 0.973, 0.974, 0.972, 0.976]
    low = [0.926, 0.930, 0.921, 0.928, 0.925]
    layers = ("bn_1", "bn_4")
    agree = words({bn: against(near, expected) for bn in layers},
                  {bn: against(near, expected) for bn in layers},
                  {bn: against(near, near) for bn in layers}, expected)
    assert agree.startswith("no BN layer's ratio differs clearly from the 0.9736")
    measured = {"bn_1": against(near, expected), "bn_4": against(low, expected)}
    control = {bn: against(near, expected) for bn in layers}
    paired = {"bn_1": against(near, near), "bn_4": against(low, near)}
    explained = words(measured, control, paired, expected)
    assert "bn_1 does not differ clearly" in explained and "bn_4 is below it" in explained
    assert "bn_4: as trained - control = " in explained
    assert "the gap comes from the layers before them" in explained
    control_off = dict(control, bn_4=against(low, expected))
    unexplained = words(measured, control_off, paired, expected)
    assert "do not show where the gap comes from" in unexplained
    assert "gap comes from the layers" not in unexplained


def test_lesson_08_over_confidence_is_claimed_only_when_measured():
    words = lesson_functions(LESSON_08, "overconfidence_words")["overconfidence_words"]
    smaller_gap = made_up([0.8, 0.9, 0.85], [1.5, 1.6, 1.55])
    same_accuracy = made_up([0.80, 0.79, 0.81], [0.80, 0.80, 0.80], higher_is_better=True)
    less_sure = made_up([0.87, 0.88, 0.86], [0.93, 0.94, 0.93])
    as_sure = made_up([0.93, 0.92, 0.94], [0.93, 0.93, 0.93])
    assert "less over-confident" in words(smaller_gap, same_accuracy, less_sure)
    assert "less over-confident" not in words(smaller_gap, same_accuracy, as_sure)
    same_gap = made_up([1.5, 1.6, 1.55], [1.55, 1.5, 1.6])
    assert "not clearly smaller" in words(same_gap, same_accuracy, less_sure)
    # each comparison in its own words: a clearly lower accuracy is not "no clear difference"
    lower_accuracy = made_up([0.70, 0.71, 0.72], [0.80, 0.81, 0.80], higher_is_better=True)
    text = words(smaller_gap, lower_accuracy, as_sure)
    assert "validation accuracy is lower" in text and "neither" not in text
    assert "not clearly more or less confident" in text
    more_sure = made_up([0.97, 0.98, 0.97], [0.93, 0.93, 0.94])
    assert "it is more confident" in words(smaller_gap, same_accuracy, more_sure)
    larger_gap = made_up([1.9, 2.0, 1.95], [1.5, 1.6, 1.55])
    assert words(larger_gap, same_accuracy, less_sure).startswith(
        "its loss gap is larger, beyond the noise")


def test_lesson_08_gap_and_depth_words_follow_the_noise():
    functions = lesson_functions(LESSON_08, "gap_words", "compounding_words")
    gap_words, compounding = functions["gap_words"], functions["compounding_words"]
    assert gap_words(made_up([0.10, 0.11, 0.12], [0.20, 0.21, 0.19])).startswith("narrows")
    assert gap_words(made_up([0.20, 0.22, 0.18], [0.20, 0.21, 0.19])).startswith(
        "does not clearly change")
    layers = ("bn_4", "bn_2")
    grows = compounding(compare([2.8, 2.9, 3.0], [1.6, 1.7, 1.8], "ratio", layers, fmt="{:.2f}"))
    assert "compounds" in grows and "(bn_4 - bn_2 = +1.20 ± " in grows
    assert "from 1.700 at bn_2 to 2.900 at bn_4" in grows
    assert "does not compound" in compounding(made_up([1.7, 1.6, 1.8], [1.6, 1.7, 1.8], layers))


# -- lesson 09 ---------------------------------------------------------------------------

def test_lesson_09_writes_its_figures(lesson_09):
    out, _, _ = lesson_09
    assert_figures(out, ["1_loss_landscape_and_gradient_predictiveness.png",
                         "2_noisy_bn_accuracy_and_distributions.png"])


def test_lesson_09_reports_median_ratios_and_shares_with_their_noise(lesson_09):
    _, stdout, result = lesson_09
    assert result["seeds"] >= 2
    for key in ("loss_range", "grad_change", "beta"):
        assert result[f"{key}_median_ratio"] > 0
        assert 0.0 <= result[f"{key}_share"] <= 1.0
        assert result[f"{key}_median_ratio_se"] >= 0
    assert "effective beta-smoothness" in stdout


def test_lesson_09_noise_adds_covariate_shift(lesson_09):
    _, _, result = lesson_09
    # training-mode BN pins each unit's batch mean to beta: its inputs barely move
    assert result["shift_noisy_BN"] > 10 * result["shift_BN"]


def test_lesson_09_noisy_bn_trains_faster_than_without_bn(lesson_09):
    _, _, result = lesson_09
    assert result["speed_BN"] > result["speed_standard"]
    assert result["speed_noisy_BN"] > result["speed_standard"]
    assert result["speed_noisy_BN"] > result["speed_standard_noise"]


def test_lesson_09_every_comparison_carries_its_noise(lesson_09):
    assert_comparisons_carry_noise(lesson_09[1])
    assert_numbers_add_up(lesson_09[1])
    assert "ratio of the means" not in lesson_09[1]


def test_lesson_09_figures_are_announced_after_their_section(lesson_09):
    _, stdout, _ = lesson_09
    assert stdout.index("== 1.") < stdout.index("1_loss_landscape") < stdout.index("== 2.")
    assert stdout.index("== 2.") < stdout.index("2_noisy_bn_accuracy")


def test_lesson_09_about_as_fast_as_bn_only_within_the_noise():
    words = lesson_functions(LESSON_09, "noisy_bn_speed_words")["noisy_bn_speed_words"]
    names = ("noisy BN", "BN")
    close = made_up([0.74, 0.73, 0.75], [0.74, 0.75, 0.73], names, higher_is_better=True)
    slower = made_up([0.60, 0.61, 0.62], [0.74, 0.75, 0.73], names, higher_is_better=True)
    beats_standard = made_up([0.74, 0.73, 0.75], [0.30, 0.31, 0.29], ("noisy BN", "standard"),
                             higher_is_better=True)
    # no clear difference is not "as fast as BN"
    assert words(close, beats_standard).startswith("neither clearly slower nor clearly faster")
    assert "as fast" not in words(close, beats_standard)
    assert "about as fast" not in words(slower, beats_standard)
    assert "slower than BN" in words(slower, beats_standard)


def test_lesson_09_smoothness_is_claimed_only_beyond_the_noise():
    functions = lesson_functions(LESSON_09, "smoothness_words", "landscape_conclusion")
    words, conclusion = functions["smoothness_words"], functions["landscape_conclusion"]
    assert words([2.0, 2.2, 1.9], [0.8, 0.75, 0.85]).startswith("larger without BN")
    # the numbers: a median ratio near 1 and a share near 60% are not a difference
    assert words([1.12, 0.9, 1.3], [0.6, 0.5, 0.65]) == "no clear difference at this scale"
    assert words([2.0], [0.8]).startswith("one seed")
    # two seeds whose shares agree exactly measure no noise: no verdict (as in compare)
    assert "no verdict" in words([2.0, 2.1], [0.8, 0.8])
    # the t rule, not 2 s.e.: over 5 seeds a median ratio 0.081 above 1 with s.e. 0.0385
    # clears 2 s.e. (0.077) but not t(4) = 2.78 s.e. (0.107), so it is not beyond the noise
    spread = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])  # std 1.58, s.e. 0.707 per unit
    clear_share = 0.8 + 0.01 * spread
    assert words(1.081 + 0.0544 * spread, clear_share) == "no clear difference at this scale"
    assert words(1.12 + 0.0544 * spread, clear_share).startswith("larger without BN")
    none = {"loss range": "no clear difference at this scale",
            "effective beta-smoothness": "no clear difference at this scale"}
    assert "does not show here" in conclusion(none)
    part = dict(none, **{"loss range": "larger without BN, beyond the noise"})
    assert "only in part" in conclusion(part) and "effective beta-smoothness" in conclusion(part)


def test_lesson_09_covariate_shift_conclusion_follows_the_measurements():
    covariate_shift_conclusion = lesson_functions(LESSON_09, "covariate_shift_conclusion")[
        "covariate_shift_conclusion"]
    ahead = made_up([0.74, 0.75, 0.73], [0.30, 0.31, 0.29], ("BN", "standard"),
                    higher_is_better=True)

    def conclusion(more_shift, *rest):  # BN clearly ahead of the standard network
        return covariate_shift_conclusion(more_shift, ahead, *rest)

    names, higher = ("noisy BN", "BN"), {"higher_is_better": True}
    close = made_up([0.74, 0.73, 0.75], [0.74, 0.75, 0.73], names, **higher)
    slower = made_up([0.60, 0.61, 0.62], [0.74, 0.75, 0.73], names, **higher)
    beats = made_up([0.70, 0.71, 0.69], [0.30, 0.31, 0.29], ("noisy BN", "standard"), **higher)
    ties = made_up([0.30, 0.31, 0.29], [0.30, 0.29, 0.31], ("noisy BN", "standard"), **higher)
    behind = made_up([0.20, 0.21, 0.22], [0.30, 0.31, 0.30], ("noisy BN", "standard"), **higher)
    gains = ("noisy BN", "half of BN's")
    most = compare([0.40, 0.41, 0.40], [0.22, 0.22, 0.23], "gain", gains, lower_is_better=None)
    least = compare([0.10, 0.11, 0.10], [0.22, 0.22, 0.23], "gain", gains, lower_is_better=None)
    unsure = compare([0.20, 0.30, 0.15], [0.22, 0.22, 0.23], "gain", gains,
                     lower_is_better=None)
    # no clear difference from BN is neither "as fast as BN" nor "not what makes BN work"
    close_words = conclusion(True, close, beats, 0.95, most)
    assert "no clear difference from BN" in close_words and "cannot tell" in close_words
    assert "as fast" not in close_words and "not what makes BN work" not in close_words
    assert "does not test" in conclusion(False, close, beats, 0.95, most)
    assert "undoes BN's advantage" in conclusion(True, slower, behind, -0.2, least)
    tie_words = conclusion(True, slower, ties, 0.0, least)
    assert "undoes" not in tie_words and "cannot tell" in tie_words
    slower_words = conclusion(True, slower, beats, 0.8, most)
    assert "slower than BN" in slower_words and "80%" in slower_words
    assert "more than half of the lead survives" in slower_words
    assert "about as fast" not in slower_words
    assert "less than half" in conclusion(True, slower, beats, 0.3, least)
    # a share above one half on point estimates alone is not "most of BN's gain survives"
    unsure_words = conclusion(True, slower, beats, 0.6, unsure)
    assert "60%" in unsure_words and "cannot tell whether most" in unsure_words
    assert "not where most" not in unsure_words
    # with no clear BN advantage to undo, the story cannot be tested (it had been said to be
    # borne out)
    level = made_up([0.30, 0.31, 0.29], [0.30, 0.29, 0.31], ("BN", "standard"),
                    higher_is_better=True)
    words = covariate_shift_conclusion(True, level, slower, ties, 0.0, least)
    assert "BN itself is not clearly faster" in words and "cannot test" in words
    assert "as the covariate-shift story" not in words


def test_lesson_09_headline_leads_with_a_measure_beyond_the_noise():
    from lesson_runner import LESSONS

    source = (LESSONS / LESSON_09).read_text(encoding="utf-8")
    assert 'QUANTITIES = {"loss_range": "loss range"' in source
    quantities = {"loss_range": "loss range", "grad_change": "gradient change",
                  "beta": "effective beta-smoothness"}
    (words,) = load_functions(LESSON_09, "landscape_headline",
                              namespace={"QUANTITIES": quantities})
    numbers = {"loss_range": (1.52, 0.21, 0.62, 0.04), "grad_change": (2.15, 0.20, 0.76, 0.02),
               "beta": (1.08, 0.04, 0.59, 0.04)}
    verdicts = {"loss range": "no clear difference at this scale",
                "gradient change": "larger without BN, beyond the noise",
                "effective beta-smoothness": "no clear difference at this scale"}
    line = words(numbers, verdicts)
    assert line.index("gradient change 2.15 ± 0.20 (larger without BN, beyond the noise)") < \
        line.index("loss range 1.52 ± 0.21 (no clear difference at this scale)")
    assert "effective beta-smoothness 1.08 ± 0.04 (no clear difference" in line


def test_lesson_08_says_what_a_borderline_verdict_reads():
    reading = lesson_functions(LESSON_08, "interval_reading")["interval_reading"]
    # differences whose noise reads as ~3 s.e. but whose 95 % interval (t = 2.78, 5 seeds)
    # still includes 0, and one clearly away from 0
    near = made_up([0.0, -0.012, -0.003, -0.02, -0.01], np.zeros(5))
    far = made_up([-0.01, -0.011, -0.009, -0.012, -0.010], np.zeros(5))
    for comparison in (near, far):
        low, high = comparison.interval()
        text = reading(comparison)
        assert "± 2.78 s.e. for 5 seeds" in text
        assert f"{low:+.4f} to {high:+.4f}" in text
        assert text.endswith("leaves out 0." if low * high > 0 else "includes 0.")


def test_lesson_09_says_which_interval_decides_its_smoothness_verdict():
    reasons = lesson_functions(LESSON_09, "smoothness_reasons")["smoothness_reasons"]
    # ratio interval includes 1, share interval above 50%: the ratio decides
    text = reasons(np.array([0.9, 1.5, 2.2, 1.4, 1.6]), np.array([0.6, 0.62, 0.64, 0.6, 0.63]))
    assert "ratio" in text and "includes 1" in text and "above 50%" in text
    assert "The ratio's interval decides" in text
    # both above: a verdict may follow
    text = reasons(np.array([1.5, 1.6, 1.55, 1.58, 1.52]), np.array([0.7, 0.72, 0.71, 0.7, 0.73]))
    assert text.endswith("Both lie above, as a verdict needs")
    # two seeds far apart: intervals past what a share can be are cut, and say so
    text = reasons(np.array([0.5, 3.0]), np.array([0.1, 0.9]))
    assert "(cut to 0%-100%)" in text and "(cut at 0)" in text
    assert reasons(np.array([1.5]), np.array([0.6])) == ""  # one seed: no interval
    # two seeds with the same share: no interval of zero width, no verdict resting on it
    text = reasons(np.array([1.2, 1.3]), np.array([0.82, 0.82]))
    assert "share 82% in both seeds, which measure no noise" in text
    assert text.endswith("No verdict can rest on a quantity without a noise estimate")
