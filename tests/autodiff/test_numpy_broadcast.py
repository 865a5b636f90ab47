"""A Value meeting a numpy array lets numpy broadcast, from either side."""

from __future__ import annotations

import numpy as np
import pytest

from autodiff import Value


@pytest.mark.parametrize("value_first", [True, False])
def test_value_times_array_broadcasts_elementwise(value_first: bool) -> None:
    """v * [1, 3] (or [1, 3] * v) is an object array of Values, and each backpropagates to v."""
    v = Value(2.0)
    array = np.array([1.0, 3.0])
    product = v * array if value_first else array * v
    assert product.shape == (2,)
    assert [p.data for p in product] == [2.0, 6.0]
    # d/dv of (v*1 + v*3) is 1 + 3 = 4.
    product.sum().backward()
    assert v.grad == 4.0


def test_value_minus_array_broadcasts() -> None:
    """v - [1, 2] gives [v - 1, v - 2] with a gradient of 1 per element."""
    v = Value(5.0)
    difference = v - np.array([1, 2])
    assert [d.data for d in difference] == [4.0, 3.0]
    difference.sum().backward()
    assert v.grad == 2.0


def test_value_to_an_array_of_powers_broadcasts() -> None:
    """v ** [1, 3] is [v, v³] (each a pow node); d/dv of v + v³ at 2 is 1 + 3·2² = 13."""
    v = Value(2.0)
    powers = v ** np.array([1.0, 3.0])
    assert [p.data for p in powers] == [2.0, 8.0]
    assert [p.op for p in powers] == ["pow", "pow"]
    powers.sum().backward()
    assert v.grad == 13.0


def test_numpy_scalar_exponents_ride_on_pow() -> None:
    """A numpy float or int exponent is a number like any other: one pow node, no leaf."""
    v = Value(3.0)
    assert ((v ** np.float64(2.0)).op, (v ** np.float64(2.0)).constant) == ("pow", 2.0)
    assert ((v ** np.int64(3)).data, (v ** np.int64(3)).constant) == (27.0, 3.0)
