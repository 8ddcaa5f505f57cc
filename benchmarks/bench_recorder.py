"""What does recording cost? The article's model trained with and without a Recorder.

Issue 3 asks that recording every 10 steps cost at most 10% of training time on the article's
model. This script trains the same model, from the same seed, on the same data, alternately
without a recorder, with `Recorder(every=10)`, and without again, and prints the ratio of
each recorded run to the mean of the two plain runs around it (so that a machine that slows
down during the measurement slows both sides alike). The recorder's statistics are read
inside the timed region, so work the recorder postpones is counted too.

Run:  python benchmarks/bench_recorder.py [--pairs 15] [--every 10]
"""

import argparse
import os
import sys
import time

# One BLAS thread, as in bench_step.py: small matrices do not gain from more, and the timings
# are steadier. (It must be set before NumPy is imported.)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_step import article_model  # the same network bench_step.py times

from tinynet.callbacks import Recorder
from tinynet.datasets import make_classification


def timed_fit(x, y, every):
    """CPU seconds of one fit (20 epochs, batch 32) with a recorder when `every` is given."""
    model = article_model(seed=1)
    callbacks = [Recorder(every=every)] if every else []
    start = time.process_time()
    model.fit(x, y, epochs=20, batch_size=32, validation_split=0.25, verbose=0,
              callbacks=callbacks)
    if callbacks:
        callbacks[0].get("dense", "input_p50")  # make sure every statistic has been computed
    return time.process_time() - start


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=15)
    parser.add_argument("--every", type=int, default=10)
    args = parser.parse_args()
    x, y = make_classification(n_samples=2000, n_features=20, seed=1)
    timed_fit(x, y, None)  # warm up caches and imports
    ratios, plain, recorded = [], [], []
    for _ in range(args.pairs):
        before = timed_fit(x, y, None)
        with_recorder = timed_fit(x, y, args.every)
        after = timed_fit(x, y, None)
        ratios.append(with_recorder / ((before + after) / 2))
        plain += [before, after]
        recorded.append(with_recorder)
    print(f"article model, 20 epochs: plain fit {np.median(plain) * 1e3:.0f} ms, "
          f"with Recorder(every={args.every}) {np.median(recorded) * 1e3:.0f} ms (medians)")
    print(f"cost of recording: {100 * (np.median(ratios) - 1):+.1f}% "
          f"(median over {args.pairs} interleaved pairs; the target is at most +10%)")


if __name__ == "__main__":
    sys.exit(main())
