"""Shared test setup, kept small: only what every test file wants."""

import os
import tempfile

# Tests that draw figures must never open a window (CI machines have no display).
os.environ.setdefault("MPLBACKEND", "Agg")
# Lessons run in subprocesses: small matrices are faster (and timings steadier) on one BLAS
# thread than on several that wait for each other on a shared 2-core machine.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# The machine's own Keras cache (~/.keras/datasets, where Keras keeps mnist.npz, imdb.npz, ...)
# is never read by a test: keras.datasets' loaders look there first, so a developer who ran
# Keras once would otherwise test against real files. A test that wants a Keras cache sets
# KERAS_HOME itself; the live Keras runs set their backend by KERAS_BACKEND, not keras.json.
# (a folder that does not exist: no cache at all)
os.environ["KERAS_HOME"] = os.path.join(tempfile.gettempdir(), "tinynet-tests-no-keras-home")
