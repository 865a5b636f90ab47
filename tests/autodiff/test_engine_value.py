"""The Value node itself: construction, attributes, structure, identity semantics and repr."""

from __future__ import annotations

import pytest

from autodiff import Value


@pytest.mark.parametrize(("data", "expected"), [(3, 3.0), (2.5, 2.5), (True, 1.0), (False, 0.0)])
def test_data_is_coerced_to_float(data: object, expected: float) -> None:
    """int, float and bool data become a Python float."""
    v = Value(data)
    assert type(v.data) is float
    assert v.data == expected


def test_fresh_leaf_attributes() -> None:
    """A new Value has grad 0.0, its label, no op, no parents and no constant."""
    v = Value(1.5, label="w")
    assert (v.data, v.grad, v.label, v.op, v.parents, v.constant) == (1.5, 0.0, "w", None, (), None)
    assert v.is_leaf
    assert not v.is_constant
    assert Value(1.0).label == ""


def test_parents_are_ordered_and_keep_duplicates() -> None:
    """(a*b).parents is (a, b), (b*a) is (b, a), and a*a keeps both copies of a."""
    a, b = Value(1.0), Value(2.0)
    assert (a * b).parents == (a, b)
    assert (b * a).parents == (b, a)
    assert (a * a).parents == (a, a)
    assert (a**b).parents == (a, b)


def test_composites_are_built_from_primitives() -> None:
    """a - b is a + (-b), a / b is a * b**-1, and 3 - a is (-a) + 3."""
    a, b = Value(6.0), Value(2.0)
    difference = a - b
    assert difference.op == "add"
    assert difference.parents[0] is a
    assert difference.parents[1].op == "neg"
    assert difference.parents[1].parents == (b,)
    quotient = a / b
    assert quotient.op == "mul"
    assert quotient.parents[0] is a
    assert quotient.parents[1].op == "pow"
    assert quotient.parents[1].constant == -1.0
    reflected = 3 - a
    assert reflected.op == "add"
    assert reflected.parents[0].op == "neg"
    assert reflected.parents[1].is_constant
    assert reflected.parents[1].data == 3.0


def test_number_exponent_is_a_constant_not_a_parent() -> None:
    """x ** 2 is the unary row pow with constant 2.0; x ** Value(2) is the binary pow_value."""
    x = Value(3.0)
    squared = x**2
    assert (squared.op, squared.parents, squared.constant) == ("pow", (x,), 2.0)
    y = Value(2.0)
    assert (x**y).op == "pow_value"
    assert (x**y).constant is None


def test_reflected_operands_become_constant_leaves() -> None:
    """In 2 * x, 2 ** x and 10 / x the number becomes a constant leaf in the graph."""
    x = Value(4.0)
    assert (2 * x).parents[0].is_constant
    assert (2**x).parents[0].is_constant
    assert any(p.is_constant for p in (10 / x).parents)


def test_equality_is_identity() -> None:
    """Two Values with equal data are not ==; a Value is == only to itself."""
    a, b = Value(1.0), Value(1.0)
    assert a == a
    assert a != b
    assert (a == b) is False
    assert a != 1.0


def test_value_works_as_a_dict_key() -> None:
    """Values key a dict by identity, even with equal data, and after their data changes."""
    a, b = Value(1.0), Value(1.0)
    table = {a: "a", b: "b"}
    a.data = 5.0
    assert table[a] == "a"
    assert table[b] == "b"
    assert len({a, b, a}) == 2


def test_repr_is_readable() -> None:
    """repr shows data, grad, the label if set and the op if any."""
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert repr(Value(2.0, label="w")) == "Value(data=2.0, grad=0.0, label='w')"
    x = Value(2.0)
    y = x * 3
    y.backward()
    assert repr(y) == "Value(data=6.0, grad=1.0, op='mul')"


def test_format_and_float() -> None:
    """f-string formats use the data; float(v) is the data."""
    v = Value(2.0 / 3.0)
    assert f"{v:.4f}" == "0.6667"
    assert float(v) == 2.0 / 3.0
    assert f"{v}" == repr(v)


def test_values_use_slots() -> None:
    """A Value has no __dict__, so a typo like v.dat = 1 fails instead of adding an attribute."""
    v = Value(1.0)
    assert not hasattr(v, "__dict__")
    with pytest.raises(AttributeError):
        v.dat = 1.0  # type: ignore[attr-defined]
