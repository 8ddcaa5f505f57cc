"""The lesson helpers: options from a first cell or the command line, the headline line,
figures saved where they are asked to go."""

import subprocess
import sys

import pytest

from tinynet import classroom


@pytest.fixture(autouse=True)
def full_run_afterwards(monkeypatch):
    """lesson_options sets classroom.QUICK_RUN for the process: each test starts from and
    leaves behind a full run's state."""
    monkeypatch.setattr(classroom, "QUICK_RUN", False)


def test_the_first_cells_values_are_the_defaults(tmp_path):
    options = classroom.lesson_options(1, "lesson", quick=True, seed=4, out=tmp_path / "f",
                                       argv=[])
    assert (options.quick, options.seed) == (True, 4)
    assert (tmp_path / "f").is_dir()


def test_the_command_line_overrides_the_first_cell(tmp_path):
    options = classroom.lesson_options(1, "lesson", quick=False, seed=0, argv=[
        "--quick", "--seed", "3", "--out", str(tmp_path)])
    assert (options.quick, options.seed, options.out) == (True, 3, str(tmp_path))


def test_in_a_notebook_the_kernels_own_arguments_are_ignored(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "ipykernel", object())
    monkeypatch.setattr(sys, "argv", ["ipykernel_launcher.py", "-f", "kernel-1234.json"])
    monkeypatch.chdir(tmp_path)
    options = classroom.lesson_options(7, "lesson", seed=2)
    assert (options.quick, options.seed) == (False, 2)
    assert options.out == str(tmp_path / "figures" / "07")


def test_help_shows_the_default_folder_once_and_readably(tmp_path):
    script = tmp_path / "lesson.py"
    script.write_text("from tinynet.classroom import lesson_options\n"
                      "lesson_options(3, 'a lesson')\n")
    result = subprocess.run([sys.executable, str(script), "--help"], capture_output=True,
                            text=True, cwd=tmp_path, check=True)
    text = " ".join(result.stdout.split())
    assert "(default: figures/03)" in text
    assert str(tmp_path) not in text


def test_headline_prints_one_line_that_starts_with_headline(capsys, monkeypatch):
    monkeypatch.setattr(classroom, "QUICK_RUN", False)  # a full run's headline
    line = classroom.headline("BN is 1.8x faster (+- 0.2, 5 seeds)")
    assert capsys.readouterr().out == "Headline: BN is 1.8x faster (+- 0.2, 5 seeds)\n"
    assert line.startswith("Headline: ")


@pytest.mark.parametrize("call, error, name", [
    (lambda: classroom.lesson_options(0, "x", argv=[]), ValueError, "number"),
    (lambda: classroom.lesson_options(1, "x", quick="yes", argv=[]), TypeError, "quick"),
    (lambda: classroom.lesson_options(1, "x", seed=0.5, argv=[]), TypeError, "seed"),
    (lambda: classroom.headline(""), ValueError, "text"),
    (lambda: classroom.headline("two\nlines"), ValueError, "one line"),
])
def test_bad_options_are_named(call, error, name):
    with pytest.raises(error, match=name):
        call()


def test_save_figure_writes_a_png_and_says_where(tmp_path, capsys):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    assert classroom.save_figure(fig, str(tmp_path), "curve") is None  # no Out[] in notebooks
    plt.close(fig)
    with open(tmp_path / "curve.png", "rb") as file:
        assert file.read(4) == b"\x89PNG"
    assert "figure written" in capsys.readouterr().out


def test_with_options_refuses_a_notebook_without_an_options_cell():
    notebook = {"cells": [{"cell_type": "code", "metadata": {}, "source": "x = 1"}]}
    with pytest.raises(ValueError, match="options cell"):
        classroom.with_options(notebook, quick=True)
    with pytest.raises(TypeError, match="quick"):
        classroom.with_options(notebook, quick="yes")


def test_a_quick_run_says_so_and_keeps_the_full_runs_figures(monkeypatch, tmp_path, capsys):
    # --quick's few seeds can even reverse a lesson's result: a student must not take its
    # numbers for the lesson's, nor find the full run's figures replaced by its own
    monkeypatch.setattr(classroom, "QUICK_RUN", False)
    monkeypatch.setattr(classroom, "figure_folder", lambda number: str(tmp_path / "figures" /
                                                                       f"{number:02d}"))
    options = classroom.lesson_options(1, "lesson", argv=["--quick"])
    assert options.out == str(tmp_path / "figures" / "01-quick")
    assert "Quick run (QUICK = True or --quick)" in capsys.readouterr().out
    assert classroom.headline("BN wins").endswith("[quick run: not the lesson's result]")
    given = classroom.lesson_options(1, "lesson", argv=["--quick", "--out", str(tmp_path)])
    assert given.out == str(tmp_path)  # a folder given is used as it is, even the default
    default = str(tmp_path / "figures" / "01")
    assert classroom.lesson_options(1, "l", argv=["--quick", "--out", default]).out == default
    full = classroom.lesson_options(1, "lesson", argv=[])
    assert full.out == str(tmp_path / "figures" / "01")
    assert classroom.headline("BN wins") == "Headline: BN wins"
