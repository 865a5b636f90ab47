"""autodiff.engine.apply builds any op-table row, including the rows that carry a number."""

from __future__ import annotations

import pytest

from autodiff import OPS, Value
from autodiff.engine import apply


def test_apply_builds_a_row_that_carries_its_number() -> None:
    """mul_const with constant 3 at x = 2 gives 6, and d(3x)/dx = 3."""
    x = Value(2.0)
    y = apply(OPS["mul_const"], x, constant=3.0)
    assert (y.op, y.parents, y.constant, y.data) == ("mul_const", (x,), 3.0, 6.0)
    y.backward()
    assert x.grad == 3.0


def test_apply_pow_with_its_exponent() -> None:
    """pow with constant 2 at x = 2 gives 4, and d(x^2)/dx = 2x = 4."""
    x = Value(2.0)
    y = apply(OPS["pow"], x, constant=2)
    y.backward()
    assert (y.data, x.grad) == (4.0, 4.0)


def test_a_row_that_carries_a_number_needs_it() -> None:
    """Leaving out the number of add_const is a TypeError that says how to give it."""
    with pytest.raises(TypeError, match=r"add_const: needs its number"):
        apply(OPS["add_const"], Value(1.0))


def test_only_one_input_rows_take_a_constant() -> None:
    """A constant given to the binary mul row is a TypeError naming the row."""
    with pytest.raises(TypeError, match=r"mul: only a one-input row carries a constant"):
        apply(OPS["mul"], Value(1.0), Value(2.0), constant=2.0)


def test_apply_to_two_numbers_makes_a_node() -> None:
    """mul applied to the numbers 2 and 3 still records a node, 2 * 3 = 6."""
    y = apply(OPS["mul"], 2, 3)
    assert y.data == 6.0
    assert y.op is not None
