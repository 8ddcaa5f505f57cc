"""Comparisons over seeds carry their noise, and their words follow the numbers."""

import numpy as np
import pytest

from tinynet.stats import Comparison, compare, mean_and_se


def test_standard_error_is_the_sample_std_over_root_n():
    mean, se = mean_and_se([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5
    assert se == pytest.approx(np.sqrt(((1.5**2 + 0.5**2) * 2) / 3) / 2)


def test_one_seed_has_no_noise_estimate_and_no_verdict():
    result = compare([0.3], [0.2], "loss")
    assert np.isnan(result.se) and not result.clear and result.favours is None
    assert "no verdict" in result.sentence()


def test_a_difference_inside_the_noise_is_called_no_difference():
    result = compare([0.30, 0.20, 0.25], [0.24, 0.26, 0.22], "loss")
    assert not result.clear
    assert result.sentence().endswith("no clear difference at this scale")


@pytest.mark.parametrize("lower_is_better, winner", [(True, "without BN"), (False, "with BN")])
def test_a_clear_difference_names_the_better_side(lower_is_better, winner):
    result = compare([0.9, 0.91, 0.92], [0.80, 0.82, 0.81], "score",
                     lower_is_better=lower_is_better)
    assert result.clear and result.favours == winner
    assert f"{winner} is better" in result.sentence()
    assert "±" in result.sentence() and "3 seeds" in result.sentence()


def test_unpaired_runs_add_the_two_standard_errors_in_quadrature():
    result = compare([1.0, 2.0, 3.0], [1.0, 3.0], "x", paired=False)
    assert result.se == pytest.approx(np.hypot(mean_and_se([1, 2, 3])[1], mean_and_se([1, 3])[1]))


@pytest.mark.parametrize("call, error, name", [
    (lambda: compare([1, 2], [1], "x"), ValueError, "paired"),
    (lambda: compare([1, np.nan], [1, 2], "x"), ValueError, "NaN"),
    (lambda: compare([], [], "x"), ValueError, "non-empty"),
    (lambda: compare(["a"], [1], "x"), TypeError, "numbers"),
    (lambda: compare([1], [1], ""), TypeError, "what"),
    (lambda: compare([1], [1], "x", names="BN"), TypeError, "names"),
])
def test_bad_input_is_named(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_when_neither_side_is_better_the_verdict_says_which_is_higher():
    result = compare([3.87, 3.88, 3.86], [4.0, 4.0, 4.0], "variance",
                     names=("moving variance", "true variance"), lower_is_better=None)
    assert result.clear and result.favours is None
    assert result.verdict == "moving variance is lower, beyond the noise"


def test_the_printout_names_what_the_noise_is_over():
    result = compare([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], "x", over="batch")
    assert "s.e. over 3 batches" in result.noise()


def test_a_difference_of_percentages_is_given_in_points():
    from tinynet.stats import compare

    result = compare([0.10, 0.12, 0.11], [0.20, 0.21, 0.22], "error", ("a", "b"), fmt="{:.1%}")
    assert "11.00% a vs 21.00% b" in result.sentence()
    assert "-10.0 ± 0.6 points s.e. over 3 seeds" in result.sentence()


@pytest.mark.parametrize("a, b, fmt, printed", [
    # each rounded on its own: 0.810 vs 0.792 next to +0.017, which a reader cannot check
    ([0.80957], [0.79220], "{:.3f}", ("0.8096", "0.7922", "+0.017")),
    ([0.1016], [0.1361], "{:.1%}", ("10.16", "13.61", "-3.5")),
    ([0.29557], [2.58047], "{:.3f}", ("0.2956", "2.5805", "-2.285")),
    ([1.25], [1.0], "{:+.1f}", ("1.25", "1.00", "+0.3")),               # 0.25 -> 0.3 (half up)
    ([-1.25], [-1.0], "{:.1f}", ("-1.25", "-1.00", "-0.3")),
    ([0.903485], [1.50296], "{:.3f}", ("0.9035", "1.5030", "-0.600")),  # -0.5995, half up
    ([2.0], [2.0], "{:.2f}", ("2.000", "2.000", "+0.00")),
    ([1234.5], [1.0], "{:.2e}", ("1.23e+03", "1.00e+00", "+1.23e+03")),  # other formats as they are
])
def test_the_printed_difference_is_the_difference_of_the_printed_means(a, b, fmt, printed):
    assert compare(a, b, "x", fmt=fmt).shown() == printed


def test_few_seeds_need_a_larger_margin_than_two_standard_errors():
    from tinynet.stats import compare, noise_multiple

    assert noise_multiple(2) == 12.706 and noise_multiple(5) == 2.776
    # past the table's 30 degrees of freedom, the expansion gives the tables' values (NIST:
    # 2.042 at 30, 2.021 at 40, 2.000 at 60, 1.984 at 100), not the normal's 1.96
    assert noise_multiple(31) == pytest.approx(2.042, abs=5e-4)
    for n, t in ((41, 2.021), (51, 2.009), (61, 2.000), (101, 1.984)):
        assert noise_multiple(n) == pytest.approx(t, abs=5e-4)
    assert 1.96 < noise_multiple(10_000) < 1.961
    # a mean difference of 3.46 standard errors: clear with 10 seeds, not with 3 (t = 4.30)
    three = [1.0, 2.0, 3.0]  # mean 2, se 0.577
    assert compare(three, [0.0] * 3, "x").clear is False  # the old 2-s.e. rule said clear
    ten = [1.0, 2.0, 3.0, 1.5, 2.5, 2.0, 1.0, 3.0, 2.0, 2.0]
    assert compare(ten, [0.0] * 10, "x").clear is True


def test_two_seeds_with_the_same_difference_give_no_verdict():
    """se = 0 from two identical differences measures no noise (lesson 05's quick run had
    0 vs 3 diverged cells in both seeds); three agreeing seeds are evidence."""
    two = compare([0, 0], [3, 3], "cells that diverge")
    assert not two.clear and "too few to measure the noise" in two.verdict
    three = compare([0, 0, 0], [3, 3, 3], "cells that diverge")
    assert three.clear and "beyond the noise" in three.verdict


def test_a_borderline_difference_carries_its_interval_and_a_clear_one_does_not():
    # t = 2.776 for 5 seeds: |d| / se = 2.6 reads as "within" at a glance, 5.2 does not
    near = compare([1.0, 1.1, 0.9, 1.05, 0.95], [0.0, 0.0, 0.0, 0.0, 0.0], "x")
    near = Comparison(**{**near.__dict__, "difference": 2.6 * near.se})
    assert near.borderline and ", 95 % interval " in near.sentence()
    low, high = near.interval()
    assert low < 0 < high and near.verdict == "no clear difference at this scale"
    far = Comparison(**{**near.__dict__, "difference": 5.2 * near.se})
    assert not far.borderline and "95 % interval" not in far.sentence()
    assert "95 % interval" in far.sentence(interval=True)


def test_measured_says_whether_there_is_a_noise_estimate():
    from tinynet.stats import compare

    assert compare([1.0, 2.0, 3.0], [0.0, 1.0, 3.5], "x").measured
    assert not compare([1.0], [0.0], "x").measured            # one seed
    same = compare([1.0, 2.0], [0.0, 1.0], "x")                 # the same difference twice
    assert not same.measured and "no verdict" in same.verdict
    assert compare([1.0, 2.0], [1.0, 2.0], "x").measured       # zero difference, se 0


def test_an_interval_wider_than_any_difference_is_cut_there_and_says_so():
    # two seeds: margin 12.706 s.e.; accuracies lie in [0, 1], so differences in [-1, 1]
    wide = compare([0.9, 0.65], [0.5, 0.4], "accuracy", ("a", "b"), lower_is_better=False,
                   bounds=(0, 1))
    low, high = wide.interval()
    assert -1 < low and high > 1  # the t interval reaches past any possible difference
    assert wide.interval_words() == (f"{low:+.4f} to +1.0000, cut at the largest possible "
                                     f"difference, ±1.0000")
    # the same numbers without bounds, or a narrow interval with them: printed as computed
    assert compare([0.9, 0.65], [0.5, 0.4], "accuracy").interval_words() == \
        f"{low:+.4f} to {high:+.4f}"
    narrow = compare([0.9, 0.91, 0.92], [0.5, 0.52, 0.5], "accuracy", bounds=(0, 1))
    assert "cut" not in narrow.interval_words()
    percent = compare([0.9, 0.1], [0.1, 0.2], "error", fmt="{:.1%}", bounds=(0, 1))
    assert percent.interval_words().endswith("to +100.00 points, cut at the largest possible "
                                             "difference, ±100.00 points")
    assert "cut at" in percent.noise(interval=True)
    for bad, error in (((1, 0), ValueError), (("a", "b"), TypeError), ((0,), TypeError)):
        with pytest.raises(error, match="bounds"):
            compare([1, 2], [3, 4], "x", bounds=bad)
