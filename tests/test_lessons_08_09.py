"""Lessons 08 (regularization) and 09 (why BN works) run in quick mode, write their figures,
and their headline comparisons come out the way the lessons say.

Each lesson prints one machine-readable line, `RESULT key=value ...`, computed from its run;
the tests read that line instead of the narration."""

import pytest
from lesson_runner import parse_result, run_lesson


@pytest.fixture(scope="module")
def lesson_08(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson_08")
    stdout = run_lesson("08_regularization.py", out)
    return out, stdout, parse_result(stdout)


@pytest.fixture(scope="module")
def lesson_09(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson_09")
    stdout = run_lesson("09_why_does_it_work.py", out)
    return out, stdout, parse_result(stdout)


def assert_figures(out, names):
    written = sorted(path.name for path in out.glob("*.png"))
    assert written == sorted(names)
    for name in names:
        assert (out / name).stat().st_size > 10_000, f"{name} looks empty"


# -- lesson 08 ---------------------------------------------------------------------------

def test_lesson_08_writes_its_figures(lesson_08):
    out, _, _ = lesson_08
    assert_figures(out, ["1_train_vs_validation_curves.png", "2_generalization_gaps.png",
                         "3_dropout_variance_shift.png"])


def test_lesson_08_reports_a_gap_for_each_of_the_four_networks(lesson_08):
    _, stdout, result = lesson_08
    for name in ("no_regularization", "dropout", "BN", "BN_and_dropout"):
        assert -1.0 <= result[f"{name}_accuracy_gap"] <= 1.0
        assert 0.0 <= result[f"{name}_val_accuracy"] <= 1.0
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


# -- lesson 09 ---------------------------------------------------------------------------

def test_lesson_09_writes_its_figures(lesson_09):
    out, _, _ = lesson_09
    assert_figures(out, ["1_loss_landscape_and_gradient_predictiveness.png",
                         "2_noisy_bn_accuracy_and_distributions.png"])


def test_lesson_09_landscape_is_smoother_with_bn(lesson_09):
    _, _, result = lesson_09
    assert result["loss_range_standard"] > result["loss_range_bn"]
    assert result["grad_change_standard"] > result["grad_change_bn"]


def test_lesson_09_noise_adds_covariate_shift(lesson_09):
    _, _, result = lesson_09
    # training-mode BN pins each unit's batch mean to beta: its inputs barely move
    assert result["shift_noisy_BN"] > 10 * result["shift_BN"]


def test_lesson_09_noisy_bn_still_trains_fast(lesson_09):
    _, _, result = lesson_09
    assert result["accuracy_BN"] > result["accuracy_standard"]
    assert result["accuracy_noisy_BN"] > result["accuracy_standard"]
    assert result["accuracy_noisy_BN"] > result["accuracy_standard_noise"]
