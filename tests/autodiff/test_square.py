"""x ** 2 takes a fast path in the op table that must agree with the general rule's meaning.

The op table's pow forward squares by one multiplication: it must give the correctly rounded
square and the same errors, and ``x ** 2`` (an int or a float 2) must give exactly that.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction

import pytest

from autodiff import OPS, Value, no_grad


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


SPECIAL = (0.0, -0.0, 1.0, -1.0, 5e-324, 1.3407807929942596e154, -1.3407807929942596e154, math.nan)


@pytest.mark.parametrize("exponent", [2, 2.0])
def test_value_squares_exactly_as_the_op_table_forward(exponent: float) -> None:
    """x ** 2 and x ** 2.0 give bit for bit what OPS["pow"].forward(x, 2.0) gives."""
    rng = random.Random(12)
    numbers = [rng.uniform(-1e3, 1e3) * 10.0 ** rng.randint(-160, 150) for _ in range(3000)]
    forward = OPS["pow"].forward
    for x in (*SPECIAL, *numbers):
        node = Value(x) ** exponent
        expected = forward(x, 2.0)
        assert math.copysign(1.0, node.data) == math.copysign(1.0, expected)
        assert node.data == expected or (math.isnan(node.data) and math.isnan(expected)), x
        assert (node.op, node.constant) == ("pow", 2.0)


def test_the_largest_square_below_overflow_is_finite() -> None:
    """1.3407807929942596e154 squared is 1.7976931348623155e308, a float (checked by Fraction)."""
    assert (Value(1.3407807929942596e154) ** 2).data == 1.7976931348623155e308


@pytest.mark.parametrize("exponent", [2, 2.0])
def test_square_overflow_is_reported_however_it_is_reached(exponent: float) -> None:
    """Recording or not, with an int or a float 2, -1e155 ** 2 raises naming pow and the label."""
    with pytest.raises(OverflowError, match=r"pow: -1e\+155 \*\* 2\.0 overflows.*'big'"):
        Value(-1e155, label="big") ** exponent
    with no_grad(), pytest.raises(OverflowError, match="pow: -1e"):
        Value(-1e155) ** exponent
