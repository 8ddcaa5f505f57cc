"""Lesson 11 (graduation) runs in --quick mode and prints conclusions that agree with its own
numbers: the saved model reloads with identical predictions, folding BN removes two layers
and keeps the predictions to float32 rounding, and whatever framework is missing is named as
skipped."""

import importlib.util

import pytest
from lesson_runner import parse_result, run_lesson


@pytest.fixture(scope="module")
def lesson11(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson11")
    stdout = run_lesson("11_graduation.py", out)
    return out, stdout, parse_result(stdout)


def test_lesson_11_reloads_the_saved_model_exactly(lesson11):
    out, _, result = lesson11
    assert result["reload"] == 0.0
    assert (out / "article_model.keras").is_file()


def test_lesson_11_folding_keeps_predictions_with_two_layers_fewer(lesson11):
    _, _, result = lesson11
    assert result["layers_before"] - result["layers_after"] == 2
    assert result["folded"] < 1e-5


def test_lesson_11_names_what_it_skipped(lesson11):
    _, stdout, result = lesson11
    skipped = [] if result["skipped"] == "none" else result["skipped"].split(",")
    missing = [name for name, module in (("Keras", "keras"), ("PyTorch", "torch"))
               if importlib.util.find_spec(module) is None]
    assert set(missing) <= set(skipped)
    for name in skipped:
        assert f"SKIPPED {name}" in stdout
    for name, key in (("Keras", "keras"), ("PyTorch", "torch")):
        if name not in skipped:  # it ran: its predictions must agree to float32 rounding
            assert result[key] < 1e-5


def test_lesson_11_prints_one_headline_and_its_figure(lesson11):
    out, stdout, _ = lesson11
    assert sum(line.startswith("Headline: ") for line in stdout.splitlines()) == 1
    assert (out / "11_agreement.png").is_file()
