"""What every lesson needs around its science: its options, its figures, and its headline.

A lesson starts with one cell of options, which a notebook user edits and a command line
overrides:

    QUICK = False   # True: a small version that runs in a few seconds
    SEED = 0        # same seed, same numbers, same figures
    OUT = None      # folder for the figures (None: figures/NN, see figure_folder)

    options = lesson_options(1, "Lesson 01: ...", quick=QUICK, seed=SEED, out=OUT)

    python lessons/01_article_model.py --quick --seed 3 --out /tmp/figs

A quick run says so when it starts and in its headline, and by default writes its figures to
figures/NN-quick, so that it never replaces the full run's figures.

Everything is imported from the installed package (`from tinynet.classroom import ...`), so a
lesson runs from any working directory, in Jupyter, VS Code or Colab, with nothing but tinynet
installed. Matplotlib is imported only when a figure is saved or shown.
"""

import argparse
import os
import re
import sys

from tinynet.validation import check_int


def in_notebook():
    """True inside a Jupyter kernel (Jupyter, VS Code's notebooks, Colab)."""
    return "ipykernel" in sys.modules


def figure_folder(number):
    """Where lesson `number`'s figures go by default: figures/NN beside the lesson script when
    it runs as a script, else figures/NN in the working directory (a notebook's kernel starts
    in the notebook's own folder, so both give lessons/figures/NN for the shipped lessons)."""
    script = getattr(sys.modules.get("__main__"), "__file__", None)
    if in_notebook() or not script:
        base = os.getcwd()
    else:
        base = os.path.dirname(os.path.abspath(script))
    return os.path.join(base, "figures", f"{number:02d}")


def lesson_options(number, description, quick=False, seed=0, out=None, argv=None):
    """The lesson's options: the values given here (from the lesson's first cell), overridden
    by --quick, --seed N and --out DIR on the command line. Returns an argparse.Namespace with
    .quick (bool), .seed (int) and .out (a folder that now exists).

    In a notebook the kernel's own command line is ignored, so only the cell's values count.
    """
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= 99:
        raise ValueError(f"lesson_options(number=...) must be the lesson's number, 1 to 99, "
                         f"got {number!r}")
    if not isinstance(quick, bool):
        raise TypeError(f"lesson_options(quick=...) must be True or False, got {quick!r}")
    seed = check_int(seed, "lesson_options(seed=...)", minimum=0)
    if out is not None and not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"lesson_options(out=...) must be a folder path or None, got {out!r}")
    # a string would be read letter by letter, as if each letter were an argument
    if argv is not None and (not isinstance(argv, (list, tuple))
                             or not all(isinstance(arg, str) for arg in argv)):
        raise TypeError(f"lesson_options(argv=...) must be None or a list of strings such as "
                        f"['--quick'], got {argv!r}")
    default_out = os.fspath(out) if out is not None else figure_folder(number)
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default=None,
                        help=f"folder for the figures (default: {shown_path(default_out)})")
    parser.add_argument("--quick", action="store_true", default=quick,
                        help="a small version that runs in a few seconds (used by the tests)")
    parser.add_argument("--seed", type=seed_argument, default=seed,
                        help=f"random seed: same seed, same numbers (default: {seed})")
    if argv is None:
        argv = [] if in_notebook() else sys.argv[1:]
    options = parser.parse_args(argv)
    global QUICK_RUN
    QUICK_RUN = options.quick
    if options.out is None:  # no folder given: the lesson's own, another for a quick run
        options.out = default_out + ("-quick" if options.quick and out is None else "")
    if options.quick:
        print("Quick run (QUICK = True or --quick): a small version that checks the lesson "
              "runs. Its numbers are too few to be the lesson's result; run it without "
              "--quick for those.")
    check_folder(options.out)
    os.makedirs(options.out, exist_ok=True)
    return options


def seed_argument(text):
    """--seed's value: an int >= 0 (argparse prints this error after 'argument --seed:')."""
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if seed < 0:
        raise argparse.ArgumentTypeError(f"must be an integer >= 0, got {text!r}")
    return seed


def check_folder(out):
    """A clear error for a figures' folder that cannot be one: empty, or an existing file."""
    if not os.fspath(out):
        raise ValueError("lesson_options: the figures' folder (out=... or --out) is empty; "
                         "give a folder, or leave it out for the lesson's own")
    if os.path.exists(out) and not os.path.isdir(out):
        raise ValueError(f"lesson_options: the figures' folder (out=... or --out) must be a "
                         f"folder, but {out} is a file")


# True after lesson_options read --quick: the headline then says it is a quick run's
QUICK_RUN = False


def with_options(notebook, quick=None, seed=None, out=None):
    """Set a lesson notebook's options before running it, e.g. quick=True for a fast run:
    rewrites the lines `QUICK = ...`, `SEED = ...`, `OUT = ...` of its options cell (the cell
    tagged "parameters") in place, and returns the notebook. Options left as None keep the
    notebook's own values. notebook: an nbformat notebook (or the same structure of dicts)."""
    if quick is not None and not isinstance(quick, bool):
        raise TypeError(f"with_options(quick=...) must be True, False or None, got {quick!r}")
    if seed is not None:
        check_int(seed, "with_options(seed=...)", minimum=0)
    if out is not None and not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"with_options(out=...) must be a folder path or None, got {out!r}")
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        hint = (f"; read the file first: nbformat.read({notebook!r}, as_version=4)"
                if isinstance(notebook, (str, os.PathLike)) else "")
        raise TypeError(f"with_options(notebook=...) must be a notebook (a dict with a list "
                        f"of 'cells', as nbformat.read gives), got {notebook!r:.80}{hint}")
    cells = [cell for cell in notebook["cells"]
             if "parameters" in cell.get("metadata", {}).get("tags", [])]
    if not cells:
        raise ValueError("with_options: the notebook has no options cell (a code cell tagged "
                         "'parameters' that sets QUICK, SEED and OUT)")
    source = "".join(cells[0]["source"])
    for name, value in (("QUICK", quick), ("SEED", seed), ("OUT", out)):
        if value is None:
            continue
        if name == "OUT":
            value = os.fspath(value)
        pattern = rf"^{name} = [^#\n]*?(\s*(#.*)?)$"
        if not re.search(pattern, source, flags=re.MULTILINE):
            raise ValueError(f"with_options: the options cell has no line '{name} = ...'")
        source = re.sub(pattern, lambda match, v=value, n=name: f"{n} = {v!r}{match.group(1)}",
                        source, count=1, flags=re.MULTILINE)
    cells[0]["source"] = source
    return notebook


def shown_path(path):
    """A path as short as it can be shown: relative to the working directory when inside it."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute)
    except ValueError:  # another drive, on Windows
        return absolute
    return absolute if relative.startswith("..") else relative


def headline(text):
    """Print the lesson's one headline line, `Headline: <text>`, which the lesson book shows on
    its index page. `text` should carry the measured number, e.g.
    headline(f"BN reaches 90% accuracy {ratio:.1f}x sooner (+- {se:.1f}, 5 seeds)")."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"headline(text=...) must be a non-empty string, got {text!r}")
    if "\n" in text:
        raise ValueError("headline(text=...) must be one line; it contains a line break")
    line = f"Headline: {text.strip()}"
    if QUICK_RUN:
        line += " [quick run: not the lesson's result]"
    print(line)
    return line


def save_figure(fig, out, name):
    """Save `fig` as out/name.png (atomically, in the classroom style's resolution) and print
    where it went. Returns None, so that a notebook cell ending with it shows no Out[] line."""
    from tinynet import plot  # matplotlib is loaded only by lessons that draw

    if not isinstance(name, str) or not name:
        raise ValueError(f"save_figure(name=...) must be a file name, got {name!r}")
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"save_figure(out=...) must be the figures' folder, such as "
                        f"options.out, got {out!r}")
    path = os.path.join(out, name if name.endswith(".png") else name + ".png")
    plot.save(fig, path)
    print(f"  figure written: {shown_path(path)}")


def show_figures():
    """Open the figures in windows when there is a screen; do nothing in tests, on a server,
    or in a notebook (which has already drawn them inline)."""
    if "matplotlib" not in sys.modules:
        return
    from tinynet import plot

    plot.show()
