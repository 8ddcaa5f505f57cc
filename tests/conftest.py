"""Shared test setup, kept small: only what every test file wants."""

import os

# Tests that draw figures must never open a window (CI machines have no display).
os.environ.setdefault("MPLBACKEND", "Agg")
# Lessons run in subprocesses: small matrices are faster (and timings steadier) on one BLAS
# thread than on several that wait for each other on a shared 2-core machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
