"""Argument checks shared by every public entry point.

Each check raises a TypeError (wrong kind of value) or a ValueError (right kind, bad value)
whose message names the place (`where`, e.g. "Dense(units=...)") and says what was expected
and what came. Errors are raised where the mistake enters, never deep inside a NumPy call.
"""

import difflib
import numbers

import numpy as np


def check_int(value, name, minimum=None):
    """Return `value` as an int; bools, floats and strings are refused."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if minimum is not None and value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def check_float(value, name, low=None, high=None, low_open=False, high_open=False):
    """Return `value` as a float inside [low, high] (ends excluded when *_open)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value}")
    too_low = low is not None and (value <= low if low_open else value < low)
    too_high = high is not None and (value >= high if high_open else value > high)
    if too_low or too_high:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        low_text = "-inf" if low is None else f"{low:g}"
        high_text = "inf" if high is None else f"{high:g}"
        raise ValueError(f"{name} must be in {left}{low_text}, {high_text}{right}, got {value:g}")
    return value


def unknown_name_error(kind, name, choices):
    """A ValueError for a mistyped name, listing the choices and the closest match."""
    choices = sorted(choices)
    close = difflib.get_close_matches(str(name).lower(), choices, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return ValueError(f"Unknown {kind} {name!r}.{hint} Valid choices: {', '.join(choices)}")


def to_float_array(data, name, dtype="float32", min_ndim=1):
    """Convert lists, ints and float64 arrays to a finite float array of `dtype`.

    Refuses (with the argument's name) data that is empty, non-numeric, has too few
    dimensions, or holds NaN/inf.
    """
    if data is None:
        raise TypeError(f"{name} is required, got None")
    try:
        array = np.asarray(data)
    except (ValueError, TypeError) as err:
        raise TypeError(f"{name} must be a numeric array, could not convert it: {err}") from None
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.number) or array.dtype == bool
    ):
        raise TypeError(f"{name} must be numeric, got an array of dtype {array.dtype}")
    if array.ndim < min_ndim:
        raise ValueError(
            f"{name} must have at least {min_ndim} dimension(s), got shape {array.shape}"
        )
    if array.size == 0 or array.shape[0] == 0:
        raise ValueError(f"{name} is empty (shape {array.shape}); it needs at least one sample")
    array = array.astype(dtype, copy=False)
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} contains {bad} NaN or infinite value(s); clean the data first")
    return array
