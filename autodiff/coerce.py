"""Turning the numbers people pass into Python floats, with errors that name the operation.

This module owns one decision: what counts as a number in an operation. An int, a float, a
bool, and every numpy number (float32, int64, bool_, a 0-d array) become a Python float, so
all arithmetic happens in double precision; a numpy array with axes is left to numpy to
broadcast; anything else is a TypeError naming the operation and the value.

Example:
    >>> to_float(3), to_float(True)
    (3.0, 1.0)
"""

from __future__ import annotations

import numbers

__all__ = ["is_array", "number", "to_float"]


def to_float(x: object, where: str = "Value") -> float:
    """``x`` as a Python float, from an int, float, bool or numpy number; else TypeError.

    Numbers of every numpy type (float32, int64, bool_, a 0-d array) become float64, so all
    arithmetic happens in double precision. Errors name ``where`` (the operation) and ``x``.

    Example:
        >>> to_float(3), to_float(True)
        (3.0, 1.0)
        >>> to_float("3", "add")
        Traceback (most recent call last):
        ...
        TypeError: add: expected an int, float, bool or numpy number, got str ('3')
    """
    if type(x) is float:
        return x
    if type(x) is int or isinstance(x, numbers.Real):  # numpy's ints and floats are Real
        try:
            return float(x)
        except OverflowError:
            size = f"an int of {x.bit_length()} bits" if isinstance(x, int) else repr(x)
            raise OverflowError(f"{where}: {size} is too large for a float") from None
    kind = type(x)
    if kind.__module__ == "numpy" and kind.__name__ in ("bool_", "bool"):
        return float(x)  # type: ignore[arg-type]  # numpy.True_ is 1.0, like True
    if getattr(x, "ndim", None) == 0 and getattr(getattr(x, "dtype", None), "kind", "") in (
        "b",
        "i",
        "u",
        "f",
    ):
        return float(x)  # type: ignore[arg-type]  # a 0-d numpy array of a number
    raise TypeError(
        f"{where}: expected an int, float, bool or numpy number, got {kind.__name__} ({x!r})"
    )


def is_array(x: object) -> bool:
    """True for a numpy array with at least one axis: ``v * array`` is numpy's to broadcast."""
    return bool(getattr(x, "ndim", 0))


def number(x: object, where: str) -> float:
    """An operand as a float, or NotImplemented for a numpy array (numpy then broadcasts).

    Example:
        >>> number(2, "pow")
        2.0
    """
    if type(x) is float:
        return x
    if x is None:
        return to_float(x, where)  # raises, naming the operation
    if type(x) is int:  # x ** 2: the common case, before the slower general tests
        try:
            return float(x)
        except OverflowError:
            pass  # to_float says which operation
    elif is_array(x):
        return NotImplemented  # type: ignore[no-any-return]
    return to_float(x, where)
