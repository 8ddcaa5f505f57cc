"""Make each lesson's notebook, lessons/NN_name.ipynb, from its script lessons/NN_name.py.

The script is the source: edit the .py, then run

    python lessons/make_notebooks.py           # rewrite every notebook
    python lessons/make_notebooks.py --check   # only say which notebooks are out of date

The scripts are written in jupytext's "percent" format (`# %%` code cells, `# %% [markdown]`
text cells), so each script cell becomes one notebook cell. The notebooks are saved without
outputs and with fixed cell ids, so that regenerating an unchanged lesson changes no byte.
One cell is added that the scripts do not need: after the options cell, a cell that installs
tinynet when it is missing (on Colab, say), and does nothing where tinynet is installed.

Needs jupytext and nbformat (`pip install -e ".[notebooks]"`).
"""

import argparse
import os
import re
import sys

import jupytext
import nbformat

HERE = os.path.dirname(os.path.abspath(__file__))

# The notebook's first code cell after the options. On Colab (or any Python without tinynet)
# it stops with what to do, instead of failing later at `import tinynet`: the project has no
# public package or address to install from automatically, so the reader installs it from
# their own copy of the repository.
INSTALL_CELL = """\
# tinynet must be installed where this notebook runs. On your own machine: `pip install -e .`
# in a clone of the repository. On Colab: upload the repository (or a zip of it) and run
#   !pip install ./tinynet            (the folder that holds pyproject.toml)
# or, if your copy is on GitHub:  !pip install "git+https://github.com/<you>/tinynet.git"
import importlib.util

if importlib.util.find_spec("tinynet") is None:
    raise ModuleNotFoundError("tinynet is not installed in this Python: install it as the "
                              "comment above says, then run the notebook again")"""

KERNEL = {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"},
          "language_info": {"name": "python"}}


def lesson_scripts(folder=HERE):
    """The lesson scripts, lessons/NN_name.py, in lesson order."""
    return sorted(os.path.join(folder, name) for name in os.listdir(folder)
                  if re.fullmatch(r"\d\d_\w+\.py", name))


def notebook_path(script):
    return os.path.splitext(script)[0] + ".ipynb"


def notebook_for(script):
    """The notebook of one lesson script (an nbformat NotebookNode, without outputs)."""
    notebook = jupytext.read(script, fmt="py:percent")
    cells = list(notebook.cells)
    cells.insert(install_position(cells), nbformat.v4.new_code_cell(INSTALL_CELL))
    number = os.path.basename(script)[:2]
    for index, cell in enumerate(cells):
        cell["id"] = f"lesson{number}-cell{index:02d}"  # fixed ids: no diff noise
        if cell.cell_type == "code":
            cell["outputs"], cell["execution_count"] = [], None
    notebook.cells = cells
    notebook.metadata = dict(KERNEL)
    notebook.nbformat, notebook.nbformat_minor = 4, 5
    return notebook


def install_position(cells):
    """Just after the options cell (tagged "parameters"), else before the first code cell:
    the install must come before the lesson's first `import tinynet`."""
    for index, cell in enumerate(cells):
        if "parameters" in cell.metadata.get("tags", []):
            return index + 1
    return next((i for i, cell in enumerate(cells) if cell.cell_type == "code"), len(cells))


def cell_sources(notebook):
    """[(cell type, source)]: what a notebook says, without outputs, ids or metadata."""
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def notebook_text(script):
    """The notebook file's exact text (what `make_notebooks.py` writes)."""
    return nbformat.writes(notebook_for(script), version=4) + "\n"


def stale_notebooks(folder=HERE):
    """The notebooks that are missing or whose cells differ from what their script gives now
    (outputs and metadata are not compared: only each cell's type and source)."""
    stale = []
    for script in lesson_scripts(folder):
        path = notebook_path(script)
        if not os.path.exists(path) or (cell_sources(nbformat.read(path, as_version=4))
                                        != cell_sources(notebook_for(script))):
            stale.append(path)
    return stale


def write_notebook(script):
    """Write the notebook of `script` atomically (temporary file, then rename)."""
    path = notebook_path(script)
    temp = path + ".tmp"
    with open(temp, "w", encoding="utf-8", newline="\n") as file:
        file.write(notebook_text(script))
    os.replace(temp, path)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description="Make lessons/NN_name.ipynb from each "
                                                 "lesson script.")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit with status 1 if a notebook is out of date")
    args = parser.parse_args(argv)
    if args.check:
        stale = stale_notebooks()
        for path in stale:
            print(f"out of date: {os.path.relpath(path)}")
        if stale:
            print("run: python lessons/make_notebooks.py")
        return 1 if stale else 0
    for script in lesson_scripts():
        print(f"notebook written: {os.path.relpath(write_notebook(script))}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
