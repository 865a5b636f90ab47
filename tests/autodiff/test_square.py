"""x ** 2 takes a fast path in the op table that must agree with the general rule's meaning."""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from autodiff import Value


def _correctly_rounded_square(x: float) -> float:
    """The float nearest the exact square of x (Fraction arithmetic is exact)."""
    return float(Fraction(x) ** 2)


def test_square_is_the_correctly_rounded_square() -> None:
    """For seeded random x of many magnitudes, x ** 2 is the exact square rounded once."""
    rng = random.Random(11)
    for _ in range(5000):
        x = rng.uniform(-1e3, 1e3) * 10.0 ** rng.randint(-100, 100)
        assert (Value(x) ** 2).data == _correctly_rounded_square(x)


def test_square_gradient_is_two_x() -> None:
    """d(x^2)/dx = 2x, exactly, at x = -3.5 (2 * -3.5 = -7)."""
    x = Value(-3.5)
    (x**2).backward()
    assert x.grad == -7.0


def test_square_that_overflows_raises_and_names_pow() -> None:
    """1e200 squared is beyond the largest float (about 1.8e308): an OverflowError naming pow."""
    with pytest.raises(OverflowError, match=r"pow: 1e\+200 \*\* 2\.0 overflows a float"):
        Value(1e200) ** 2


def test_square_of_infinity_is_infinity_as_in_python() -> None:
    """inf ** 2.0 is inf in Python, not an overflow; the fast path keeps that."""
    assert (Value(math.inf) ** 2).data == math.inf
    assert (Value(-math.inf) ** 2).data == math.inf
