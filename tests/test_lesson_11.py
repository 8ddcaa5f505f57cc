"""Lesson 11 (graduation) runs in --quick mode and prints conclusions that agree with its own
numbers: the saved model reloads with identical predictions, folding BN removes two layers
and keeps the predictions to float32 rounding, and whatever framework is missing is named as
skipped."""

import importlib.util
import os

import pytest
from lesson_runner import load_functions, parse_result, run_lesson


@pytest.fixture(scope="module")
def lesson11(tmp_path_factory):
    out = tmp_path_factory.mktemp("lesson11")
    stdout = run_lesson("11_graduation.py", out)
    return out, stdout, parse_result(stdout)


@pytest.mark.skipif(importlib.util.find_spec("h5py") is None, reason="saving needs h5py")
def test_lesson_11_reloads_the_saved_model_exactly(lesson11):
    out, _, result = lesson11
    assert result["reload"] == 0.0
    assert (out / "article_model.keras").is_file()


def test_lesson_11_folding_keeps_predictions_with_two_layers_fewer(lesson11):
    _, stdout, result = lesson11
    assert result["layers_before"] - result["layers_after"] == 2
    assert result["folded"] < 1e-5
    # the yardstick is measured (twice the largest float32-vs-float64 difference), and the
    # words and the figure's line use it: not float32's eps, 1.2e-07, of numbers near 1
    assert 0 < result["rounding"] < 1e-5
    assert result["folded"] <= result["rounding"]
    assert f"within float32 rounding, {result['rounding']:.1e} here" in stdout
    assert "the fold is exact algebra" in stdout


def test_lesson_11_words_each_difference_against_the_measured_rounding():
    (agreement,) = load_functions("11_graduation.py", "agreement")
    assert agreement(0.0, 6e-7) == "exactly equal"
    assert agreement(4.2e-7, 6e-7) == "within float32 rounding, 6.0e-07 here"
    assert agreement(8e-7, 6e-7).startswith("MORE than float32 rounding")


def test_lesson_11_without_h5py_lists_every_skipped_part(tmp_path, monkeypatch):
    """Under the minimal install (no h5py) saving is skipped, and Keras with it: the summary
    names both, not only the frameworks that are missing."""
    hide = tmp_path / "hide_h5py"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text("import sys\nsys.modules['h5py'] = None\n")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(hide)] + [p for p in [os.environ.get("PYTHONPATH")] if p]))
    stdout = run_lesson("11_graduation.py", tmp_path / "out")
    result = parse_result(stdout)
    assert "SKIPPED saving" in stdout and "reload" not in result
    assert {"saving", "Keras"} <= set(result["skipped"].split(","))
    summary = stdout[stdout.index("\nSummary"):]
    assert "saving and reloading in tinynet (h5py is not installed" in summary
    assert "Keras (it opens the saved file, which needs h5py)" in summary


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
