"""Take single functions out of a lesson script, without running the lesson.

A lesson is a script (it trains networks when imported), so a test that wants to check how a
lesson words its conclusions reads the script's source, finds the function definitions it
names, and runs only those, with NumPy and tinynet.stats.compare available to them. The test
then calls them with made-up numbers.

Shared by the tests/test_lessons_*.py files (pytest puts this folder on sys.path).
"""

import ast

import numpy as np
from lesson_runner import LESSONS

from tinynet.stats import compare, mean_and_se


def lesson_functions(filename, *names):
    """{name: function} for the top-level functions `names` defined in lessons/<filename>."""
    source = (LESSONS / filename).read_text(encoding="utf-8")
    tree = ast.parse(source)
    found = [node for node in tree.body
             if isinstance(node, ast.FunctionDef) and node.name in names]
    missing = set(names) - {node.name for node in found}
    assert not missing, f"{filename} defines no function named {sorted(missing)}"
    namespace = {"np": np, "compare": compare, "mean_and_se": mean_and_se}
    exec(compile(ast.Module(body=found, type_ignores=[]), filename, "exec"), namespace)
    return {name: namespace[name] for name in names}


def comparison_lines(stdout):
    """The printed lines that compare two things (they contain ' vs '), without the RESULT
    line and the section headings ('== 3. Training mode vs inference mode ==')."""
    return [line for line in stdout.splitlines() if " vs " in line
            and not line.startswith("RESULT") and not line.strip().startswith("==")]
