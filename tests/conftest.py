"""Shared test setup, kept small: only what every test file wants."""

import os

# Tests that draw figures must never open a window (CI machines have no display).
os.environ.setdefault("MPLBACKEND", "Agg")
