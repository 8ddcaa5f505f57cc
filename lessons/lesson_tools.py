"""Small helpers shared by the lesson scripts: command-line options and saving figures.

Every lesson accepts the same options:
    --out DIR   where figures go (default lessons/figures/NN/)
    --quick     a few seconds instead of about a minute (used by the tests)
    --seed N    the random seed (default 0): same seed, same numbers, same plots
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def parse_args(number, description, argv=None):
    """Parse the standard lesson options. In a notebook (no command line) use the defaults."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--out", default=os.path.join(HERE, "figures", f"{number:02d}"),
                        help="folder for the figures (default: lessons/figures/%(default)s)")
    parser.add_argument("--quick", action="store_true",
                        help="a tiny version that runs in seconds (for tests)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    if argv is None:
        # inside Jupyter, sys.argv holds the kernel's own arguments: ignore them
        argv = [] if "ipykernel" in sys.modules else sys.argv[1:]
    args = parser.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    return args


def save_figure(fig, out, name):
    """Save `fig` as out/name.png (written to a temporary file, then renamed) and return the
    path."""
    path = os.path.join(out, name if name.endswith(".png") else name + ".png")
    temp = path + ".tmp.png"
    fig.savefig(temp, dpi=110, bbox_inches="tight")
    os.replace(temp, path)
    print(f"  figure written: {os.path.relpath(path)}")
    return path


def show_figures():
    """Show the figures when a display is available (not under Agg, e.g. in tests or CI)."""
    import matplotlib
    import matplotlib.pyplot as plt

    if matplotlib.get_backend().lower() not in ("agg", "pdf", "svg", "ps", "cairo", "template"):
        plt.show()
