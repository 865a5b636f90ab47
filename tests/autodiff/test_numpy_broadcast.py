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
