"""Input checks shared by every module, so each one says the same thing the same way.

The rule for exceptions, package-wide:

* the wrong *type* (a list where a DataFrame is expected, a string where a number is) is a
  ``TypeError``;
* a value of the right type that is not allowed (a negative count, a missing column, NaN)
  is a ``ValueError``;
* using an estimator before ``fit`` is a :class:`NotFittedError` (scikit-learn's, which is
  both a ``ValueError`` and an ``AttributeError``).

Each message names the argument, says what was expected and shows what was received.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.exceptions import NotFittedError

__all__ = ["NotFittedError", "check_number", "positive_int", "non_negative_int", "fraction",
           "check_choice", "check_bool", "check_layers", "check_frame", "check_array", "check_positions",
           "check_callable", "check_fitted", "check_seed"]


def _is_number(value, integer: bool) -> bool:
    kind = numbers.Integral if integer else numbers.Real
    return isinstance(value, kind) and not isinstance(value, bool)


def check_number(name: str, value, *, low=None, high=None, integer: bool = False,
                 low_inclusive: bool = True, high_inclusive: bool = True):
    """``value`` if it is a finite number (an integer if asked) within ``[low, high]``.

    A bound of ``None`` is open; ``low_inclusive=False`` makes the lower bound strict.

    >>> check_number("l2", 500.0, low=0, low_inclusive=False)
    500.0
    >>> check_number("l2", 0, low=0, low_inclusive=False)
    Traceback (most recent call last):
    ...
    ValueError: l2 must be a number > 0, got 0
    >>> check_number("n", "3", integer=True)
    Traceback (most recent call last):
    ...
    TypeError: n must be an integer, got '3' (str)
    """
    what = "an integer" if integer else "a number"
    if not _is_number(value, integer):
        raise TypeError(f"{name} must be {what}, got {value!r} ({type(value).__name__})")
    if not np.isfinite(value):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    bounds = []
    if low is not None and (value < low or (not low_inclusive and value == low)):
        bounds.append(f"{'>=' if low_inclusive else '>'} {low}")
    if high is not None and (value > high or (not high_inclusive and value == high)):
        bounds.append(f"{'<=' if high_inclusive else '<'} {high}")
    if bounds:
        wanted = []
        if low is not None:
            wanted.append(f"{'>=' if low_inclusive else '>'} {low}")
        if high is not None:
            wanted.append(f"{'<=' if high_inclusive else '<'} {high}")
        raise ValueError(f"{name} must be {what} {' and '.join(wanted)}, got {value!r}")
    return int(value) if integer else value


def positive_int(name: str, value) -> int:
    """``value`` as an int, when it is an integer >= 1 (bools refused).

    >>> positive_int("k", 3)
    3
    >>> positive_int("k", 0)
    Traceback (most recent call last):
    ...
    ValueError: k must be an integer >= 1, got 0
    """
    return check_number(name, value, low=1, integer=True)


def non_negative_int(name: str, value) -> int:
    """``value`` as an int, when it is an integer >= 0."""
    return check_number(name, value, low=0, integer=True)


def fraction(name: str, value, *, include_zero: bool = False, include_one: bool = False) -> float:
    """``value`` when it is a number strictly between 0 and 1 (or including either end if asked).

    >>> fraction("test_size", 0.25)
    0.25
    >>> fraction("test_size", 1.0)
    Traceback (most recent call last):
    ...
    ValueError: test_size must be a number > 0 and < 1, got 1.0
    """
    return float(check_number(name, value, low=0, high=1, low_inclusive=include_zero, high_inclusive=include_one))


def check_bool(name: str, value) -> bool:
    """``value`` when it is True or False (NumPy's booleans too)."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r} ({type(value).__name__})")
    return bool(value)


def check_layers(name: str, sizes) -> tuple[int, ...]:
    """``sizes`` as a tuple when it is a non-empty sequence of positive integers (layer widths).

    >>> check_layers("hidden", [64, 32])
    (64, 32)
    """
    try:
        sizes = tuple(sizes)
    except TypeError:
        raise TypeError(f"{name} must be a sequence of positive integers, got {sizes!r}") from None
    if not sizes:
        raise ValueError(f"{name} must hold at least one layer width, got {sizes!r}")
    return tuple(positive_int(f"{name}[{i}]", s) for i, s in enumerate(sizes))


def check_choice(name: str, value, choices) -> object:
    """``value`` when it is one of ``choices``; the message lists them.

    >>> check_choice("empty", "skip", ("skip", "zero"))
    'skip'
    """
    if value not in choices:
        raise ValueError(f"{name} must be one of {tuple(choices)}, got {value!r}")
    return value


def check_frame(frame, columns=(), what: str = "ratings", allow_missing: bool = False,
                numeric=()) -> pd.DataFrame:
    """``frame`` when it is a non-empty DataFrame with ``columns`` (no missing values in them
    unless ``allow_missing``, and numbers in the ``numeric`` ones).

    >>> check_frame([1, 2], ("user_id",))
    Traceback (most recent call last):
    ...
    TypeError: ratings must be a pandas DataFrame with columns ['user_id'], got list
    """
    if not isinstance(frame, pd.DataFrame):
        wanted = f" with columns {list(columns)}" if columns else ""
        raise TypeError(f"{what} must be a pandas DataFrame{wanted}, got {type(frame).__name__}")
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(f"{what} lacks column(s) {missing}; expected {list(columns)}, got {list(frame.columns)}")
    if frame.empty:
        raise ValueError(f"{what} is empty")
    if not allow_missing and columns and frame[list(columns)].isna().any().any():
        raise ValueError(f"{what} has missing values in {list(columns)}")
    for column in numeric:
        if column in frame.columns and not pd.api.types.is_numeric_dtype(frame[column]):
            raise ValueError(f"{what}[{column!r}] must be numeric, got dtype {frame[column].dtype}")
    return frame


def check_array(name: str, value, *, ndim: int | None = None, dtype=np.float64, finite: bool = True,
                non_empty: bool = True) -> np.ndarray:
    """``value`` as an array of ``dtype`` with ``ndim`` dimensions, finite and non-empty when asked.

    ``dtype=None`` keeps the array's own type (no copy), which must then be numeric or boolean.

    >>> check_array("scores", [[1.0, np.nan]], ndim=2)
    Traceback (most recent call last):
    ...
    ValueError: scores contains NaN or infinite values
    >>> check_array("scores", ["high", "low"], dtype=None)
    Traceback (most recent call last):
    ...
    TypeError: scores must be an array of numbers, got an array of <U4
    """
    try:
        array = np.asarray(value, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}") from exc
    if dtype is None and not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
        raise TypeError(f"{name} must be an array of numbers, got an array of {array.dtype}")
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must be {ndim}-dimensional, got shape {array.shape}")
    if non_empty and array.size == 0:
        raise ValueError(f"{name} is empty")
    if finite and np.issubdtype(array.dtype, np.floating) and not np.isfinite(array).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return array


def check_positions(name: str, values, size: int | None = None, *, ndim=1, non_empty: bool = True) -> np.ndarray:
    """``values`` as an int64 array of positions ``0..size - 1`` (rows or columns of a matrix).

    ``size=None`` leaves the upper end open; ``ndim`` may be a tuple of allowed dimensions.

    >>> check_positions("items", [2, 0], size=3).tolist()
    [2, 0]
    >>> check_positions("items", [0, 3], size=3)
    Traceback (most recent call last):
    ...
    ValueError: items must lie in 0..2 (positions), got values from 0 to 3
    >>> check_positions("items", [0.0, 1.0])
    Traceback (most recent call last):
    ...
    TypeError: items must hold integer positions, got dtype float64
    """
    array = np.asarray(values)
    allowed = ndim if isinstance(ndim, tuple) else (ndim,)
    if array.ndim not in allowed:
        wanted = " or ".join(f"{d}-dimensional" for d in allowed)
        raise ValueError(f"{name} must be {wanted}, got shape {array.shape}")
    if array.size == 0:
        if non_empty:
            raise ValueError(f"{name} is empty")
        return array.astype(np.int64)
    if not np.issubdtype(array.dtype, np.integer):
        raise TypeError(f"{name} must hold integer positions, got dtype {array.dtype}")
    if array.min() < 0 or (size is not None and array.max() >= size):
        upper = "" if size is None else size - 1
        raise ValueError(f"{name} must lie in 0..{upper} (positions), got values from {array.min()} to {array.max()}")
    return array.astype(np.int64, copy=False)


def check_callable(name: str, value):
    """``value`` when it can be called (a function, a method, a model's ``score``)."""
    if not callable(value):
        raise TypeError(f"{name} must be callable, got {type(value).__name__}")
    return value


def check_fitted(estimator, attribute: str) -> None:
    """Raise :class:`NotFittedError` unless ``estimator`` has the fitted ``attribute``.

    >>> class Model:
    ...     pass
    >>> check_fitted(Model(), "weights_")
    Traceback (most recent call last):
    ...
    sklearn.exceptions.NotFittedError: Model is not fitted yet: call fit() first
    """
    if not hasattr(estimator, attribute):
        raise NotFittedError(f"{type(estimator).__name__} is not fitted yet: call fit() first")


def check_seed(name: str, value) -> int | None:
    """``value`` when it is None or an integer >= 0, the seeds this package accepts."""
    if value is None:
        return None
    return check_number(name, value, low=0, integer=True)
