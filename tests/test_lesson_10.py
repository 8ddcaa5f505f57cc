"""Lesson 10 (freezing and fine-tuning) runs in quick mode, writes its figures, prints every
comparison with its noise and one headline, and words its conclusions from the numbers.

The lesson prints one machine-readable line, `RESULT key=value ...`; the tests read it
instead of the narration. The wording functions are taken out of the lesson script and called
with made-up numbers, so that a conclusion printed whatever the numbers say would fail here.
"""

import numpy as np
import pytest
from lesson_runner import comparisons_without_noise, load_functions, parse_result, run_lesson

from tinynet.stats import compare, noise_multiple

LESSON = "10_freezing_and_fine_tuning.py"
NAMES = ("frozen, Keras 3", "frozen, old Keras")


@pytest.fixture(scope="module")
def lesson(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson_10")
    stdout = run_lesson(LESSON, out)
    return out, stdout, parse_result(stdout)


def made_up(a, b, names=NAMES, lower_is_better=False):
    return compare(a, b, "made-up quantity", names, lower_is_better=lower_is_better)


def words(*names):
    """The lesson's functions `names`, with what they use (NumPy) available to them."""
    return load_functions(LESSON, *names, namespace={"np": np, "noise_multiple": noise_multiple})


# -- the run ---------------------------------------------------------------------------------

def test_lesson_10_writes_its_two_figures(lesson):
    out, _, _ = lesson
    assert sorted(path.name for path in out.glob("*.png")) == ["10_fine_tuning.png",
                                                               "10_weight_decay.png"]
    for path in out.glob("*.png"):
        assert path.stat().st_size > 10_000, f"{path.name} looks empty"


def test_keras_3_freezing_changes_nothing_in_the_frozen_part(lesson):
    _, _, result = lesson
    assert result["seeds"] >= 2
    assert result["keras3_change"] == 0.0  # every weight and moving statistic, bit for bit
    assert result["drift_keras3"] == 0.0
    assert result["old_keras3"] == result["old_before"]


def test_old_freezing_keeps_the_weights_but_moves_the_statistics(lesson):
    _, _, result = lesson
    assert result["frozen_change"] == 0.0  # kernels, biases, gamma, beta: untouched
    assert result["drift_old"] > 0.1 and result["drift_trainable"] > 0.1
    # the lesson's point, measured: the old task suffers although no frozen weight moved
    assert result["old_old"] < result["old_keras3"] - 0.02


def test_bn_output_is_scale_invariant_and_its_gradient_scales_as_one_over_c(lesson):
    _, _, result = lesson
    assert result["invariance_output"] < 0.05  # epsilon keeps it from being exactly 0
    assert result["gradient_ratio_large"] == pytest.approx(0.1, rel=0.02)
    assert result["gradient_ratio_small"] == pytest.approx(10.0, rel=0.1)


def test_epsilon_is_what_keeps_the_output_from_being_exactly_scale_invariant(lesson):
    _, _, result = lesson
    # epsilon's share of variance + epsilon grows as the kernel shrinks
    assert result["epsilon_share_small"] > result["epsilon_share_1"] > result["epsilon_share_large"]
    # the same weights with a negligible epsilon: only float32 rounding is left
    assert result["invariance_output_tiny_epsilon"] < 1e-5
    assert result["invariance_output_tiny_epsilon"] < result["invariance_output"]
    assert result["gradient_ratio_small_tiny_epsilon"] == pytest.approx(10.0, rel=1e-3)
    assert result["gradient_ratio_large_tiny_epsilon"] == pytest.approx(0.1, rel=1e-3)


def test_a_change_of_zero_is_said_in_words(lesson):
    _, stdout, _ = lesson
    assert "at most 0" not in stdout and "change 0)" in stdout
    (change_words,) = words("change_words")
    assert change_words(0.0) == "unchanged (largest change 0)"
    assert change_words(3.391) == "changed by up to 3.39"


def test_decay_shrinks_the_kernel_and_enlarges_its_relative_steps(lesson):
    _, _, result = lesson
    assert result["norm_decay"] < result["norm_none"]
    assert result["step_decay"] > result["step_none"]


def test_every_comparison_carries_its_noise_and_there_is_one_headline(lesson):
    _, stdout, _ = lesson
    assert sum(" vs " in line and "±" in line for line in stdout.splitlines()) >= 6
    assert comparisons_without_noise(stdout) == []
    assert sum(line.startswith("Headline: ") for line in stdout.splitlines()) == 1


# -- the words, from made-up numbers -----------------------------------------------------------

def test_old_task_words_follow_the_noise():
    (old_task_words,) = words("old_task_words")
    assert "cost the old task 0.200" in old_task_words(made_up([0.95, 0.94, 0.96],
                                                               [0.75, 0.74, 0.76]))
    assert "did not clearly hurt" in old_task_words(made_up([0.95, 0.94, 0.96],
                                                            [0.94, 0.96, 0.95]))
    assert "surprise" in old_task_words(made_up([0.75, 0.74, 0.76], [0.95, 0.94, 0.96]))
    assert "one seed" in old_task_words(made_up([0.95], [0.75]))
    # the reasons are said from what was measured, not as fixed text
    cost = made_up([0.95, 0.94, 0.96], [0.75, 0.74, 0.76])
    moved = made_up([0.8, 0.9, 0.85], [0.0, 0.0, 0.0], ("old Keras", "none"),
                    lower_is_better=None)
    still = made_up([0.01, -0.02, 0.0], [0.0, 0.0, 0.0], ("old Keras", "none"),
                    lower_is_better=None)
    text = old_task_words(cost, 0.0, moved)
    assert "not one frozen weight changed" in text and "moving statistics moved" in text
    text = old_task_words(cost, 1e-3, still)
    assert "changed by at most 1.0e-03" in text and "do not say why" in text


def test_fit_words_say_when_fit_promises_more_than_inference():
    (fit_words,) = words("fit_words")
    names = ("fit's", "inference")
    gap = made_up([0.95, 0.94, 0.96], [0.70, 0.72, 0.71], names, lower_is_better=None)
    level = made_up([0.92, 0.91, 0.93], [0.92, 0.93, 0.91], names, lower_is_better=None)
    below = made_up([0.70, 0.72, 0.71], [0.95, 0.94, 0.96], names, lower_is_better=None)
    assert "promises 0.240 more" in fit_words(gap)
    assert "not clearly different from inference" in fit_words(level)
    assert "95 % interval -0.0497 to +0.0497" in fit_words(level)  # 0 ± 4.303 * 0.0115
    assert "matches" not in fit_words(level)  # no difference seen is not equality shown
    assert "below inference" in fit_words(below)


def test_new_task_words_mention_the_cost_only_when_measured():
    (new_task_words,) = words("new_task_words")
    old_ahead = made_up([0.80, 0.79, 0.81], [0.91, 0.90, 0.92])
    old_hurt = made_up([0.95, 0.94, 0.96], [0.70, 0.72, 0.71])
    old_level = made_up([0.95, 0.94, 0.96], [0.94, 0.96, 0.95])
    assert "no longer does what it did" in new_task_words(old_ahead, old_hurt)
    assert "without a clear cost" in new_task_words(old_ahead, old_level)
    keras3_ahead = made_up([0.91, 0.90, 0.92], [0.80, 0.79, 0.81])
    assert "Keras 3's rule is ahead" in new_task_words(keras3_ahead, old_hurt)
    level = made_up([0.90, 0.91, 0.92], [0.91, 0.92, 0.90])
    assert "not clearly different" in new_task_words(level, old_hurt)
    # "too" only when Keras 3's rule is ahead on the old task as well
    assert "on the new task too" in new_task_words(keras3_ahead, old_hurt)
    assert "on the new task too" not in new_task_words(keras3_ahead, old_level)


def test_headline_carries_the_noise_and_says_when_there_is_no_clear_cost():
    (headline_text,) = words("headline_text")
    clear = headline_text(made_up([0.95, 0.94, 0.96], [0.75, 0.74, 0.76]), 0.95)
    assert "0.950" in clear and "0.750" in clear and "±" in clear
    assert "no clear cost" not in clear
    assert "the old way costs the old task accuracy, beyond the noise" in clear
    unclear = headline_text(made_up([0.95, 0.94, 0.96], [0.94, 0.96, 0.95]), 0.95)
    assert "no clear cost" in unclear and "\n" not in unclear
    better_old = headline_text(made_up([0.75, 0.74, 0.76], [0.95, 0.94, 0.96]), 0.95)
    assert "no clear cost" not in better_old and "keeps the old task better" in better_old


def test_decay_words_call_it_an_effective_learning_rate_only_when_measured():
    (decay_words,) = words("decay_words")
    names = ("l2(0.01)", "no decay")
    shrank = made_up([2.3, 2.4, 2.35], [5.8, 5.7, 5.75], names, lower_is_better=None)
    faster = made_up([0.047, 0.048, 0.046], [0.011, 0.010, 0.012], names,
                     lower_is_better=None)
    same_accuracy = made_up([0.93, 0.94, 0.95], [0.94, 0.95, 0.93], names)
    better = made_up([0.97, 0.98, 0.975], [0.93, 0.935, 0.94], names)
    text = decay_words(shrank, faster, same_accuracy)
    assert "4.3x larger" in text and "nothing here looks like regularization" in text
    assert "comes through the step size" in decay_words(shrank, faster, better)
    same_norm = made_up([5.8, 5.7, 5.75], [5.75, 5.8, 5.7], names, lower_is_better=None)
    text = decay_words(same_norm, faster, same_accuracy)
    # each half as its own numbers say it (a run where the kernel shrank clearly but the
    # steps did not had been told "did not clearly shrink the kernel")
    assert "did not clearly shrink the kernel" in text and "steps grew, beyond the noise" in text
    assert "the mechanism needs both at once, so this run does not show it" in text
    text = decay_words(shrank, made_up([0.011, 0.010, 0.012], [0.011, 0.011, 0.011], names,
                                       lower_is_better=None), same_accuracy)
    assert "shrank the kernel, beyond the noise" in text and "did not clearly grow" in text
    assert "one seed" in decay_words(made_up([2.3], [5.8], names, None),
                                     made_up([0.04], [0.01], names, None),
                                     made_up([0.9], [0.9], names))


def test_made_up_numbers_are_what_the_tests_think():
    """Guard: the made-up comparisons above really are clear / unclear as intended."""
    assert made_up([0.95, 0.94, 0.96], [0.75, 0.74, 0.76]).clear
    assert not made_up([0.95, 0.94, 0.96], [0.94, 0.96, 0.95]).clear
    assert np.isnan(made_up([0.95], [0.75]).se)
