"""The Value node itself: construction, structure, identity, ordering, repr, copying, pickling."""

from __future__ import annotations

import copy
import gc
import math
import pickle
import weakref
from collections.abc import Callable

import numpy as np
import pytest

from autodiff import OPS, Value, define_op, gradients, topological_order


@pytest.mark.parametrize(("data", "expected"), [(3, 3.0), (2.5, 2.5), (True, 1.0), (False, 0.0)])
def test_data_is_coerced_to_float(data: object, expected: float) -> None:
    """int, float and bool data become a Python float."""
    v = Value(data)
    assert type(v.data) is float
    assert v.data == expected


def test_fresh_leaf_attributes() -> None:
    """A new Value has grad 0.0, its label, no op, no operands and no parents."""
    v = Value(1.5, label="w")
    assert (v.data, v.grad, v.label, v.op, v.operands, v.parents) == (1.5, 0.0, "w", None, (), ())
    assert v.is_leaf
    assert Value(1.0).label == ""


def test_op_is_the_row_of_the_table() -> None:
    """A node's op is the op-table row that made it, with its name, symbol and formula."""
    x = Value(2.0)
    node = x * x
    assert node.op is OPS["mul"]
    assert (node.op.name, node.op.symbol) == ("mul", "*")
    assert node.op.formula == "d(x*y)/dx = y, d(x*y)/dy = x"
    assert not node.is_leaf


def test_parents_are_ordered_and_keep_duplicates() -> None:
    """(a*b).parents is (a, b), (b*a) is (b, a), and a*a keeps both copies of a."""
    a, b = Value(1.0), Value(2.0)
    assert (a * b).parents == (a, b)
    assert (b * a).parents == (b, a)
    assert (a * a).parents == (a, a)
    assert (a**b).parents == (a, b)


# A plain number is an operand in its own position, not a node (x = 4 below):
# (build, op name, operands as a function of x, data).
NUMBER_OPERANDS: dict[
    str, tuple[Callable[[Value], Value], str, Callable[[Value], tuple], float]
] = {
    "2 * x": (lambda x: 2 * x, "mul", lambda x: (2.0, x), 8.0),
    "x * 2.5": (lambda x: x * 2.5, "mul", lambda x: (x, 2.5), 10.0),
    "x + 3": (lambda x: x + 3, "add", lambda x: (x, 3.0), 7.0),
    "0.5 + x": (lambda x: 0.5 + x, "add", lambda x: (0.5, x), 4.5),
    "x - 3": (lambda x: x - 3, "sub", lambda x: (x, 3.0), 1.0),
    "3 - x": (lambda x: 3 - x, "sub", lambda x: (3.0, x), -1.0),
    "x / 4": (lambda x: x / 4, "div", lambda x: (x, 4.0), 1.0),
    "4 / x": (lambda x: 4 / x, "div", lambda x: (4.0, x), 1.0),
    "x ** 2": (lambda x: x**2, "pow", lambda x: (x, 2.0), 16.0),
    "2 ** x": (lambda x: 2**x, "pow_value", lambda x: (2.0, x), 16.0),
    "x + True": (lambda x: x + True, "add", lambda x: (x, 1.0), 5.0),
}


@pytest.mark.parametrize("text", sorted(NUMBER_OPERANDS))
def test_a_number_is_an_operand_in_its_place(text: str) -> None:
    """The number is a float operand where it was written; the node's only parent is x."""
    build, name, operands, data = NUMBER_OPERANDS[text]
    x = Value(4.0)
    node = build(x)
    assert (node.op.name, node.operands, node.parents, node.data) == (name, operands(x), (x,), data)
    assert all(type(o) is float for o in node.operands if not isinstance(o, Value))
    assert topological_order(node) == [x, node]


def test_value_exponent_uses_pow_value_and_number_exponent_pow() -> None:
    """x ** y with a Value y is pow_value with parents (x, y); x ** 2 is pow with parent x."""
    x, y = Value(3.0), Value(2.0)
    assert ((x**y).op.name, (x**y).parents) == ("pow_value", (x, y))
    assert ((x**2).op.name, (x**2).parents) == ("pow", (x,))


def test_sum_starts_with_zero_as_an_operand() -> None:
    """sum([a, b, c]) is ((0 + a) + b) + c: the 0 is an operand of the first add, not a node."""
    a, b, c = Value(1.0), Value(2.0), Value(4.0)
    total = sum([a, b, c])
    assert isinstance(total, Value)
    assert (total.op.name, total.data) == ("add", 7.0)
    inner, last = total.parents
    assert last is c
    start = inner.parents[0]
    assert start.operands == (0.0, a)
    assert topological_order(total) == [a, start, b, inner, c, total]


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


def test_ordering_compares_data_and_returns_bools() -> None:
    """< <= > >= compare data with Values and numbers, giving plain bools."""
    a, b = Value(1.0), Value(2.0)
    assert (a < b, a <= b, a > b, a >= b) == (True, True, False, False)
    assert (a < 1.5, a >= 1, a > 0.5, b < 3) == (True, True, True, True)
    assert type(a < b) is bool
    assert (Value(1.0) <= Value(1.0), Value(1.0) < Value(1.0)) == (True, False)


def test_max_and_sorted_use_the_data() -> None:
    """max() picks the Value with the largest data, and sorted() orders by data."""
    values = [Value(3.0, label="c"), Value(-1.0, label="a"), Value(2.0, label="b")]
    assert max(values).label == "c"
    assert [v.label for v in sorted(values)] == ["a", "b", "c"]


def test_comparing_with_a_non_number_names_the_comparison() -> None:
    """Value(1) < "2" raises TypeError naming the comparison and the operand's type."""
    with pytest.raises(TypeError, match=r"<: expected .*got str"):
        Value(1.0) < "2"  # type: ignore[operator]  # noqa: B015


def test_repr_is_readable() -> None:
    """repr shows data, grad, the label if set and the op's name if any."""
    assert repr(Value(2.0)) == "Value(data=2.0, grad=0.0)"
    assert repr(Value(2.0, label="w")) == "Value(data=2.0, grad=0.0, label='w')"
    x = Value(2.0)
    y = x * 3
    y.backward()
    assert repr(y) == "Value(data=6.0, grad=1.0, op='mul')"


@pytest.mark.parametrize(
    ("grad", "shown"), [(3, "3"), (None, "None"), (True, "True"), (0.5, "0.5")]
)
def test_repr_shows_any_grad_a_user_set(grad: object, shown: str) -> None:
    """A grad set by hand to an int, None or a bool is shown as it is, never a crash."""
    v = Value(1.0)
    v.grad = grad
    assert repr(v) == f"Value(data=1.0, grad={shown})"


def test_repr_of_a_value_grad_shows_its_data() -> None:
    """After create_graph the grad is a Value: repr shows Value(<its data>)."""
    x = Value(3.0)
    (x * x).backward(create_graph=True)
    assert repr(x) == "Value(data=3.0, grad=Value(6.0))"


def test_notebook_display_is_compact_and_rounded() -> None:
    """A notebook shows label, data and grad to 4 significant digits, and the op, as text."""
    x = Value(2.0 / 3.0, label="<w>")
    y = x * 3.0
    y.backward()
    assert x._repr_html_().endswith(">&lt;w&gt; · data 0.6667 · grad 3 · leaf</code>")
    assert y._repr_html_().endswith(">Value · data 2 · grad 1 · op mul</code>")
    assert 'title="Value(data=2.0, grad=1.0, op=&#x27;mul&#x27;)"' in y._repr_html_()


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


def test_label_must_be_a_string_also_when_set_later() -> None:
    """Setting a label to a non-str after construction raises TypeError at that line."""
    v = Value(1.0, label="x")
    with pytest.raises(TypeError, match=r"label must be a str, got int"):
        v.label = 3  # type: ignore[assignment]
    assert v.label == "x"


def test_values_support_weak_references() -> None:
    """A weak reference to a node dies with the node."""
    x = Value(1.0)
    y = x * 2
    ref = weakref.ref(y)
    assert ref() is y
    del y
    gc.collect()
    assert ref() is None


class Tagged(Value):
    """A user's subclass of Value with one extra attribute."""

    __slots__ = ("tag",)


@pytest.mark.parametrize(
    ("build", "data", "grad"),
    [
        (lambda s, v: s + v, 5.0, 1.0),
        (lambda s, v: v + s, 5.0, 1.0),
        (lambda s, v: s * v, 6.0, 3.0),
        (lambda s, v: v * s, 6.0, 3.0),
        (lambda s, v: v / s, 1.5, -0.75),
        (lambda s, v: s - v, -1.0, 1.0),
        (lambda s, v: v**s, 9.0, 9.0 * math.log(3.0)),
    ],
)
def test_a_subclass_works_as_either_operand(
    build: Callable[[Value, Value], Value], data: float, grad: float
) -> None:
    """A subclass s = 2 combined with a Value v = 3 either way round gives the right node.

    By hand: s + v = 5, d/ds = 1; s * v = 6, d/ds = v = 3; v / s = 1.5, d/ds = -v/s^2 = -0.75;
    s - v = -1, d/ds = 1; v ** s = 9, d/ds = v^s log v = 9 log 3.
    """
    s, v = Tagged(2.0), Value(3.0)
    s.tag = "mine"
    out = build(s, v)
    out.backward()
    assert out.data == data
    assert s.grad == pytest.approx(grad, rel=1e-15)


def _chain(length: int) -> tuple[Value, Value]:
    x = Value(0.5, label="x")
    y = x
    for i in range(length):
        y = y * x if i % 2 else y + x
    return x, y


def test_pickle_keeps_structure_labels_and_grads() -> None:
    """A pickled graph comes back with the same data, labels, ops, operands and grads."""
    x = Value(3.0, label="x")
    y = (x * 2 + x**2).tanh()
    y.label = "y"
    y.backward()
    copied = pickle.loads(pickle.dumps(y))
    order, copied_order = topological_order(y), topological_order(copied)
    assert [n.data for n in copied_order] == [n.data for n in order]
    assert [n.grad for n in copied_order] == [n.grad for n in order]
    assert [n.label for n in copied_order] == [n.label for n in order]
    assert [n.op for n in copied_order] == [n.op for n in order]
    assert copied_order[-1].operands[0] is copied_order[-2]
    assert copied_order[0] is not x


def test_pickle_and_deepcopy_a_graph_of_100000_nodes() -> None:
    """Pickling and deep-copying a chain of 100,000 nodes work (no recursion along it)."""
    x, y = _chain(100_000)
    for copied in (pickle.loads(pickle.dumps(y)), copy.deepcopy(y)):
        assert copied.data == y.data
        assert len(topological_order(copied)) == 100_001
        copied.backward()
    y.backward()
    assert topological_order(copied)[0].grad == x.grad  # the copy's x got the same gradient


def test_pickle_keeps_a_leaf_shared_with_the_graph() -> None:
    """Pickling [w, loss] together keeps w the very leaf inside loss's graph."""
    w = Value(2.0, label="w")
    loss = (w * 3 - 1) ** 2
    w2, loss2 = pickle.loads(pickle.dumps([w, loss]))
    loss2.backward()
    assert w2.grad == 2 * (2.0 * 3 - 1) * 3  # d/dw (3w - 1)^2 = 6 (3w - 1) = 30


def test_deepcopy_keeps_sharing_inside_the_copy() -> None:
    """copy.deepcopy of [x, y] gives a y whose graph uses the copied x, not the original."""
    x = Value(1.5)
    y = x * x + x
    x2, y2 = copy.deepcopy([x, y])
    assert x2 is not x
    assert all(parent is x2 for parent in y2.parents[0].parents)
    assert y2.parents[1] is x2


def test_copy_is_shallow() -> None:
    """copy.copy makes a new node with the same operands (the graph above is shared)."""
    x = Value(1.5)
    y = x * 2
    y2 = copy.copy(y)
    assert y2 is not y
    assert y2.operands == y.operands
    assert y2.operands[0] is x


cube = define_op("cube_for_pickling", lambda x: x**3, lambda out, x: (3 * x**2,))


def test_graphs_with_custom_ops_pickle() -> None:
    """A node of a define_op op pickles by the op's name and backpropagates after loading."""
    x = Value(2.0)
    y = cube(x) + 1
    y2 = pickle.loads(pickle.dumps(y))
    assert y2.parents[0].op is cube.op
    y2.backward()
    assert y2.parents[0].parents[0].grad == 12.0  # d x^3/dx = 3 x^2 = 12


def test_unpickling_an_unknown_custom_op_names_it() -> None:
    """Loading a graph whose custom op is not defined here raises LookupError naming it."""
    payload = pickle.dumps(cube.op).replace(b"cube_for_pickling", b"cube_not_defined_")
    with pytest.raises(LookupError, match="cube_not_defined_"):
        pickle.loads(payload)


def test_copies_and_pickles_after_create_graph() -> None:
    """After create_graph a leaf's grad refers back to the leaf; copies and pickles still work.

    y = x^3 at x = 2: the grad is 3x^2 = 12, and d/dx of the copied grad is 6x = 12.
    """
    x = Value(2.0, label="x")
    y = x**3
    y.backward(create_graph=True)
    deep_x, deep_y = copy.deepcopy([x, y])
    loaded_x, loaded_y = pickle.loads(pickle.dumps([x, y]))
    for leaf, out in ((deep_x, deep_y), (loaded_x, loaded_y)):
        assert leaf is not x
        assert out.parents[0] is leaf
        assert leaf.grad.data == 12.0
        assert gradients(leaf.grad, [leaf]) == (12.0,)


def test_pickle_a_deep_create_graph_gradient() -> None:
    """A leaf whose create_graph grad is a graph of over 100,000 nodes pickles and loads.

    y = x^30001 built as 30,000 products at x = 1: dy/dx = 30001 x^30000 = 30001.
    """
    x = Value(1.0)
    y = x
    for _ in range(30_000):
        y = y * x
    y.backward(create_graph=True)
    assert len(topological_order(x.grad)) > 100_000
    loaded = pickle.loads(pickle.dumps(x))
    assert loaded.grad.data == x.grad.data == 30_001.0


def test_setting_data_stores_a_python_float() -> None:
    """``w.data = ...`` coerces like ``Value(...)``: numpy numbers become float64 Python floats.

    float32(0.1) is 0.100000001490116119384765625 exactly; in float64 three times that is
    0.30000000447034836, where float32 arithmetic would give float32(0.3) = 0.30000001192...
    """
    w = Value(0.5)
    w.data = np.float32(0.1)
    assert type(w.data) is float
    assert w.data == 0.100000001490116119384765625
    assert type((w * 3.0).data) is float
    assert (w * 3.0).data == 0.30000000447034836
    w.data -= np.float32(0.25)  # an update with a numpy step stays a Python float
    assert type(w.data) is float
    w.data = np.int64(3)
    assert (w.data, type(w.data)) == (3.0, float)


@pytest.mark.parametrize("bad", ["abc", None, [1.0], 1j])
def test_setting_data_to_a_non_number_names_it_and_changes_nothing(bad: object) -> None:
    w = Value(2.0, label="w")
    with pytest.raises(TypeError, match=r"Value\.data: expected an int, float, bool or numpy"):
        w.data = bad
    assert w.data == 2.0
