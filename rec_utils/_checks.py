"""Input checks shared by the package's modules, so every one says the same thing the same way."""

from __future__ import annotations

import numbers


def positive_int(name: str, value) -> int:
    """``value`` as an int, or a ValueError naming ``name`` when it is not an integer >= 1 (bools refused).

    >>> positive_int("k", 3)
    3
    >>> positive_int("k", 0)
    Traceback (most recent call last):
    ...
    ValueError: k must be a positive integer, got 0
    """
    if not (isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)
