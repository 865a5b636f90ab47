"""The Value node itself: construction, attributes, structure, identity semantics and repr."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from autodiff import Value, define_op, topological_order


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
    """a - b is a + (-b) and a / b is a * b**-1 when both operands are Values."""
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


def test_number_exponent_is_a_constant_not_a_parent() -> None:
    """x ** 2 is the unary row pow with constant 2.0; x ** Value(2) is the binary pow_value."""
    x = Value(3.0)
    squared = x**2
    assert (squared.op, squared.parents, squared.constant) == ("pow", (x,), 2.0)
    y = Value(2.0)
    assert (x**y).op == "pow_value"
    assert (x**y).constant is None


# A number next to a Value in + or * rides on one add_const / mul_const node (x = 4 below):
# (build, op, constant, data); the node's only parent is x itself.
ONE_NODE: dict[str, tuple[Callable[[Value], Value], str, float, float]] = {
    "2 * x": (lambda x: 2 * x, "mul_const", 2.0, 8.0),
    "x * 2": (lambda x: x * 2, "mul_const", 2.0, 8.0),
    "2.5 * x": (lambda x: 2.5 * x, "mul_const", 2.5, 10.0),
    "x * 2.5": (lambda x: x * 2.5, "mul_const", 2.5, 10.0),
    "x + 3": (lambda x: x + 3, "add_const", 3.0, 7.0),
    "3 + x": (lambda x: 3 + x, "add_const", 3.0, 7.0),
    "x + 0.5": (lambda x: x + 0.5, "add_const", 0.5, 4.5),
    "0.5 + x": (lambda x: 0.5 + x, "add_const", 0.5, 4.5),
    "x - 3": (lambda x: x - 3, "add_const", -3.0, 1.0),
    "x - 3.0": (lambda x: x - 3.0, "add_const", -3.0, 1.0),
    "x / 4": (lambda x: x / 4, "mul_const", 0.25, 1.0),
    "x + True": (lambda x: x + True, "add_const", 1.0, 5.0),
}


@pytest.mark.parametrize("text", sorted(ONE_NODE))
def test_a_number_in_add_or_mul_rides_on_the_node(text: str) -> None:
    """The number is the node's constant: one node, parents (x,), and no constant leaf."""
    build, op, constant, data = ONE_NODE[text]
    x = Value(4.0)
    node = build(x)
    assert (node.op, node.parents, node.constant, node.data) == (op, (x,), constant, data)
    assert type(node.constant) is float
    assert topological_order(node) == [x, node]


def test_number_minus_value_is_neg_then_add_const() -> None:
    """3 - x is (-x) + 3: an add_const carrying 3.0 on a neg of x; 3 - 4 = -1."""
    x = Value(4.0)
    node = 3 - x
    assert (node.op, node.constant, node.data) == ("add_const", 3.0, -1.0)
    (negated,) = node.parents
    assert (negated.op, negated.parents) == ("neg", (x,))


def test_number_over_value_is_pow_then_mul_const() -> None:
    """4 / x is x**-1 * 4: a mul_const carrying 4.0 on a pow -1 of x; 4 / 4 = 1."""
    x = Value(4.0)
    node = 4 / x
    assert (node.op, node.constant, node.data) == ("mul_const", 4.0, 1.0)
    (reciprocal,) = node.parents
    assert (reciprocal.op, reciprocal.constant, reciprocal.parents) == ("pow", -1.0, (x,))


def test_sum_starts_with_add_const_zero() -> None:
    """sum([a, b, c]) is ((0 + a) + b) + c: the 0 rides on an add_const, then two binary adds."""
    a, b, c = Value(1.0), Value(2.0), Value(4.0)
    total = sum([a, b, c])
    assert isinstance(total, Value)
    assert (total.op, total.data) == ("add", 7.0)
    inner, last = total.parents
    assert last is c
    start, second = inner.parents
    assert (inner.op, second) == ("add", b)
    assert (start.op, start.constant, start.parents) == ("add_const", 0.0, (a,))
    assert not any(node.is_constant for node in topological_order(total))


def test_constant_leaves_remain_where_no_row_carries_the_number() -> None:
    """2 ** x (pow_value) and a custom op given a number still make a constant leaf."""
    x = Value(4.0)
    power = 2**x
    assert power.op == "pow_value"
    assert power.parents[0].is_constant
    assert (power.parents[0].data, power.parents[1]) == (2.0, x)
    scale = define_op("scale", lambda u, v: u * v, lambda out, u, v: (v, u))
    scaled = scale(3, x)
    assert scaled.parents[0].is_constant
    assert (scaled.parents[0].data, scaled.parents[1], scaled.data) == (3.0, x, 12.0)
    assert not x.is_constant


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
    assert repr(y) == "Value(data=6.0, grad=1.0, op='mul_const')"
    z = x * x
    assert repr(z) == "Value(data=4.0, grad=0.0, op='mul')"


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
