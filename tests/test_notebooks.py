"""Each lesson ships as a notebook made from its script: never out of date, saved without
outputs, and runnable top to bottom from a working directory outside lessons/."""

import os
import re
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("jupytext")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LESSONS = os.path.join(ROOT, "lessons")
sys.path.insert(0, LESSONS)
from make_notebooks import cell_sources, lesson_scripts, notebook_for, notebook_path  # noqa: E402

from tinynet.classroom import with_options  # noqa: E402

SCRIPTS = {os.path.basename(path)[:2]: path for path in lesson_scripts()}


def read(number):
    return nbformat.read(notebook_path(SCRIPTS[number]), as_version=4)


@pytest.mark.parametrize("number", sorted(SCRIPTS))
def test_every_notebook_has_the_cells_of_its_script(number):
    path = notebook_path(SCRIPTS[number])
    assert os.path.exists(path), f"{path} is missing: run python lessons/make_notebooks.py"
    assert cell_sources(read(number)) == cell_sources(notebook_for(SCRIPTS[number])), (
        f"{os.path.basename(path)} is out of date with its script: "
        f"run python lessons/make_notebooks.py")


@pytest.mark.parametrize("number", sorted(SCRIPTS))
def test_notebooks_are_committed_without_outputs(number):
    for cell in read(number).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("number", sorted(SCRIPTS))
def test_the_first_code_cell_sets_the_lesson_options(number):
    first = next(cell for cell in read(number).cells if cell.cell_type == "code")
    assert "parameters" in first.metadata.get("tags", [])
    for name in ("QUICK = False", "SEED = 0", "OUT = None"):
        assert re.search(rf"^{name}\b", first.source, flags=re.MULTILINE), name


@pytest.mark.parametrize("number", sorted(SCRIPTS))
def test_no_cell_depends_on_the_kernels_working_directory(number):
    source = "\n".join(cell.source for cell in read(number).cells if cell.cell_type == "code")
    assert "lesson_tools" not in source and "sys.path" not in source and "__file__" not in source


def test_with_options_rewrites_only_the_values_asked_for():
    notebook = read("01")
    with_options(notebook, quick=True, out="/tmp/figures 01")
    source = next(c for c in notebook.cells if "parameters" in c.metadata.get("tags", [])).source
    assert re.search(r"^QUICK = True\s+# True: a small", source, flags=re.MULTILINE)
    assert re.search(r"^SEED = 0\b", source, flags=re.MULTILINE)
    assert "OUT = '/tmp/figures 01'" in source


@pytest.mark.parametrize("number", ["01"])  # the quickest lesson: the suite stays fast
def test_a_notebook_runs_top_to_bottom_from_another_folder(number, tmp_path):
    nbclient = pytest.importorskip("nbclient")
    notebook = with_options(read(number), quick=True, out=str(tmp_path / "figures"))
    work = tmp_path / "elsewhere"
    work.mkdir()
    client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": str(work)}})
    client.execute()
    printed = "".join(output.get("text", "") for cell in notebook.cells
                      if cell.cell_type == "code" for output in cell.outputs)
    assert len(re.findall(r"^Headline: \S", printed, flags=re.MULTILINE)) == 1
    assert any(name.endswith(".png") for name in os.listdir(tmp_path / "figures"))
    assert not (work / "figures").exists()
