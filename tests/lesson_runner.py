"""Run a lesson the way a student does (`python lessons/NN_name.py --quick`) and read the
machine-readable lines it prints next to its narration: `RESULT key=value key=value ...`.

Shared by the tests/test_lessons_*.py files (pytest puts this folder on sys.path)."""

import os
import re
import subprocess
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
LESSONS = REPO / "lessons"


def run_lesson(filename, out, seed=0):
    """Run lessons/<filename> with --quick in a subprocess; return what it printed.

    It runs from the figure folder `out`, not from the repository, so every lesson test also
    checks that the lesson does not depend on the working directory. Fails the test (showing
    the end of the output) when the lesson exits with an error."""
    os.makedirs(out, exist_ok=True)  # it is also the working directory
    env = dict(os.environ, MPLBACKEND="Agg", OPENBLAS_NUM_THREADS="1")
    completed = subprocess.run(
        [sys.executable, str(LESSONS / filename), "--quick", "--out", str(out),
         "--seed", str(seed)],
        cwd=out, env=env, capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr[-4000:]
    # progress bars (fit, evaluate and predict print one by default, as in Keras) would bury
    # the lesson's narration: a lesson passes verbose=0 where it is not showing training
    # (model.summary()'s heavy rules, ┏━━┳━━┓ and ┡━━╇━━┩ as in Keras 3, are not bars)
    bars = [line for line in completed.stdout.splitlines()
            if "━" in line and not line.startswith(("┏", "┡"))]
    assert len(bars) <= 3, f"{filename} printed {len(bars)} progress bars, e.g. {bars[0]!r}"
    # every printed comparison's numbers add up (the difference of the printed means)
    assert differences_that_do_not_add_up(completed.stdout) == [], filename
    return completed.stdout


def parse_result(stdout):
    """{key: value} from every `RESULT` line; a value is a float when it reads as one, else
    the text (e.g. 'mnist', 'None')."""
    lines = [line for line in stdout.splitlines() if line.startswith("RESULT ")]
    assert lines, "the lesson printed no RESULT line"
    result = {}
    for line in lines:
        for pair in line.split()[1:]:
            key, value = pair.split("=", 1)
            try:
                result[key] = float(value)
            except ValueError:
                result[key] = value
    return result


def comparisons_without_noise(stdout):
    """The printed lines that compare two measured numbers (`... vs ...`) without giving
    their noise (`±`): every such comparison must carry its standard error."""
    return [line for line in stdout.splitlines()
            if " vs " in line and "±" not in line and not line.startswith(("RESULT", "  figure"))]


def load_functions(filename, *names, namespace=None):
    """The functions `names` defined at the top level of lessons/<filename>, without running
    the lesson: so that a test can feed a conclusion-writing function made-up numbers."""
    import ast

    source = (LESSONS / filename).read_text(encoding="utf-8")
    wanted = [node for node in ast.parse(source).body
              if isinstance(node, ast.FunctionDef) and node.name in names]
    missing = set(names) - {node.name for node in wanted}
    assert not missing, f"{filename} defines no function {', '.join(sorted(missing))}"
    module = ast.Module(body=wanted, type_ignores=[])
    scope = dict(namespace or {})
    exec(compile(module, filename, "exec"), scope)  # only the chosen `def`s run
    return [scope[name] for name in names]


# A printed comparison 'a ... vs b ...; difference d ± ...' (tinynet.stats prints them so).
NUMBER = r"([-+]?\d+\.\d+)%?"
# (no digit between a and 'vs': "accuracy >= 0.75, per seed: 4.00 with BN vs 1.00" is 4.00's)
PRINTED_COMPARISON = re.compile(NUMBER + r" [^;\n\d]*? vs " + NUMBER + r" [^;\n]*?; difference "
                                + NUMBER + r" ±")


def differences_that_do_not_add_up(stdout):
    """Printed 'a ... vs b ...; difference d ±' whose d is not a - b as printed, rounded half
    up to d's digits: a reader must be able to check the arithmetic."""
    wrong = []
    for a, b, d in PRINTED_COMPARISON.findall(stdout):
        step = Decimal(1).scaleb(-len(d.split(".")[1]))
        if (Decimal(a) - Decimal(b)).quantize(step, rounding=ROUND_HALF_UP) != Decimal(d):
            wrong.append(f"{a} - {b} is not {d}")
    return wrong


def assert_numbers_add_up(stdout):
    assert PRINTED_COMPARISON.search(stdout)
    assert differences_that_do_not_add_up(stdout) == []
