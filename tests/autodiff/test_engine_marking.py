"""Backward's marking walk, the rows' fixed derivatives, and what a failed backward leaves.

Backward does not keep a set of visited nodes: it marks each node by storing one of two unique
0.0 floats in its ``grad`` (``engine._EXPANDED`` while its parents are walked, ``engine._EMITTED``
once it is in the order), and for a row whose local derivatives are constant it reads
``Op.fixed`` instead of calling ``partials``. These tests pin that the marking walk gives
exactly ``topological_order``'s list, that no mark outlives any backward (plain, recorded,
functional or failed), that a failed backward gives every leaf back exactly what it held, and
that ``fixed`` can never disagree with the row's ``partials``.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

import pytest

from autodiff import OPS, Value, define_op, engine, gradients, ops, topological_order
from autodiff.engine import apply
from autodiff.ops import Op, data_of

# ----------------------------------------------------------------------------------------------
# Op.fixed


FIXED_ROWS = sorted(name for name, op in OPS.items() if op.fixed is not None)
POINTS = (-2.0, -0.5, 0.0, 1.5, 7.0)
CONSTANTS = (0.0, 2.5, -3.0)


def test_rows_with_constant_derivatives_declare_them() -> None:
    """d(x+y)/d(x, y) = (1, 1), d(x+c)/dx = 1 and d(-x)/dx = -1 are declared as fixed."""
    assert OPS["add"].fixed == (1.0, 1.0)
    assert OPS["add_const"].fixed == (1.0,)
    assert OPS["neg"].fixed == (-1.0,)


@pytest.mark.parametrize("name", ["mul", "mul_const", "pow", "exp", "tanh"])
def test_rows_whose_derivatives_vary_declare_nothing(name: str) -> None:
    """d(x*c)/dx = c varies from node to node, so mul_const (like mul, pow...) has no fixed."""
    assert OPS[name].fixed is None


def _partials_at(op: Op, x: Any, second: Any) -> tuple[Any, ...]:
    """The row's partials at one point: ``second`` is y for a binary row, else the constant."""
    plain = second.data if isinstance(second, Value) else second
    return tuple(op.partials(op.forward(data_of(x), plain), x, second))


def _seconds(op: Op) -> tuple[float | None, ...]:
    """The second numbers to try: y for a binary row, several constants if the row carries one."""
    if op.arity == 2:
        return POINTS
    return CONSTANTS if op.name in ("add_const", "mul_const", "pow") else (None,)


@pytest.mark.parametrize("name", FIXED_ROWS)
def test_fixed_equals_partials_at_many_points(name: str) -> None:
    """For every row with fixed set, partials returns exactly fixed on floats at every point."""
    op = OPS[name]
    assert op.fixed is not None
    assert len(op.fixed) == op.arity
    assert all(type(d) is float for d in op.fixed)
    for x in POINTS:
        for second in _seconds(op):
            assert _partials_at(op, x, second) == op.fixed, (name, x, second)


@pytest.mark.parametrize("name", FIXED_ROWS)
def test_fixed_equals_partials_given_values(name: str) -> None:
    """Under create_graph the partials get Values; their numbers still equal fixed."""
    op = OPS[name]
    assert op.fixed is not None
    for x in POINTS:
        for second in _seconds(op):
            y = Value(second) if op.arity == 2 else second  # a constant stays a plain number
            local = _partials_at(op, Value(x), y)
            assert tuple(float(data_of(d)) for d in local) == op.fixed, (name, x, second)


def test_backward_reads_fixed_instead_of_calling_partials() -> None:
    """A row declaring fixed = (3.0,) backpropagates 3.0 per edge without calling its partials."""

    def refuse(out: Any, x: Any, constant: Any) -> tuple[Any, ...]:
        raise AssertionError("backward called partials although the row declares fixed")

    triple = Op("triple", "3x", 1, lambda x, c: 3.0 * x, refuse, "d(3x)/dx = 3", (3.0,))
    x = Value(2.0)
    y = apply(triple, x)
    (y * 0.5).backward()
    assert (y.data, x.grad) == (6.0, 1.5)


# ----------------------------------------------------------------------------------------------
# Op.by_constant and Op.route


def test_each_builtin_row_takes_the_route_its_derivatives_allow() -> None:
    """add and x + c pass the gradient on, x * c scales by c, neg by -1, the rest call partials."""
    routes = {name: op.route for name, op in OPS.items()}
    assert routes == {
        "add": ops.ROUTE_UNIT_BINARY,
        "add_const": ops.ROUTE_UNIT,
        "mul": ops.ROUTE_BINARY,
        "mul_const": ops.ROUTE_BY_CONSTANT,
        "neg": ops.ROUTE_FIXED,
        "pow": ops.ROUTE_UNARY,
        "pow_value": ops.ROUTE_BINARY,
        "exp": ops.ROUTE_UNARY,
        "log": ops.ROUTE_UNARY,
        "sigmoid": ops.ROUTE_UNARY,
        "tanh": ops.ROUTE_UNARY,
        "relu": ops.ROUTE_UNARY,
    }


BY_CONSTANT_ROWS = sorted(name for name, op in OPS.items() if op.by_constant)


def test_only_mul_const_declares_its_derivative_is_its_constant() -> None:
    """d(x*c)/dx = c: the one built-in row whose local derivative is the number it carries."""
    assert BY_CONSTANT_ROWS == ["mul_const"]


@pytest.mark.parametrize("name", BY_CONSTANT_ROWS)
def test_by_constant_equals_partials(name: str) -> None:
    """partials returns exactly (c,) at every point, on floats and on Values."""
    op = OPS[name]
    for x in POINTS:
        for c in (*CONSTANTS, 1e-300, -7.25):
            assert _partials_at(op, x, c) == (c,), (name, x, c)
            assert tuple(float(data_of(d)) for d in _partials_at(op, Value(x), c)) == (c,)


def _refuse(*inputs: Any) -> tuple[Any, ...]:
    raise AssertionError("backward called partials although the row's route needs none")


def test_backward_scales_by_the_constant_without_calling_partials() -> None:
    """A by_constant row sends g * c to its input: here 0.5 * 4.0 = 2.0."""
    scale = Op("scale", "s", 1, lambda x, c: x * c, _refuse, "d(xc)/dx = c", by_constant=True)
    x = Value(3.0)
    y = apply(scale, x, constant=4.0)
    (y * 0.5).backward()
    assert (y.data, x.grad) == (12.0, 2.0)


def test_backward_reads_fixed_pairs_and_tuples_of_any_length() -> None:
    """Fixed derivatives other than ones, on two and on three inputs, reach every input."""
    diff = Op("diff", "-", 2, lambda x, y: x - y, _refuse, "d(x-y)/d(x, y) = 1, -1", (1.0, -1.0))
    mix = Op("mix", "m", 3, lambda x, y, z: x + 2 * y + 3 * z, _refuse, "1, 2, 3", (1.0, 2.0, 3.0))
    assert (diff.route, mix.route) == (ops.ROUTE_BINARY_FIXED, ops.ROUTE_MANY)
    x, y, z = Value(1.0), Value(2.0), Value(3.0)
    apply(diff, x, y).backward(2.0)
    assert (x.grad, y.grad) == (2.0, -2.0)
    apply(mix, x, y, z).backward(0.5)
    assert (x.grad, y.grad, z.grad) == (2.5, -1.0, 1.5)


def test_unit_routes_pass_infinity_and_nan_on_unchanged() -> None:
    """Skipping the multiplication by 1.0 changes nothing, even for inf and nan gradients."""
    x, y = Value(1.0), Value(2.0)
    ((x + y) + 3.0).backward(math.inf)
    assert (x.grad, y.grad) == (math.inf, math.inf)
    x.grad = y.grad = 0.0
    ((x + y) + 3.0).backward(math.nan)
    assert math.isnan(x.grad)
    assert math.isnan(y.grad)


@pytest.mark.parametrize(
    ("arity", "fixed", "by_constant", "pattern"),
    [
        (2, None, True, "by_constant needs a one-input row, not arity 2"),
        (1, (2.0,), True, "either fixed derivatives or by_constant, not both"),
        (2, (1.0,), False, "fixed has 1 derivatives for a row of arity 2"),
    ],
)
def test_rows_that_contradict_themselves_are_refused(
    arity: int, fixed: tuple[float, ...] | None, by_constant: bool, pattern: str
) -> None:
    """A row whose fixed or by_constant cannot hold for its arity raises at definition."""
    with pytest.raises(ValueError, match=pattern):
        Op("bad", "?", arity, _refuse, _refuse, "", fixed, by_constant=by_constant)


# ----------------------------------------------------------------------------------------------
# The marking walk


def walk(root: Value) -> tuple[list[Value], dict[Value, Any], bool]:
    """Run backward's walk, report (order, held leaves, all marked), then take the marks back."""
    order, held = engine._walk_marking(root)
    all_marked = all(node.grad is engine._EMITTED for node in order)
    engine._unmark(order, held)
    return order, dict(held), all_marked


def no_marks(root: Value) -> bool:
    """Whether no node reachable from ``root`` holds one of backward's marks."""
    return not any(
        node.grad is engine._EXPANDED or node.grad is engine._EMITTED
        for node in topological_order(root)
    )


def test_the_two_marks_are_distinct_zero_floats() -> None:
    """Both marks are 0.0 (so gradients add onto them) yet are different objects from each other."""
    assert (type(engine._EXPANDED), engine._EXPANDED) == (float, 0.0)
    assert (type(engine._EMITTED), engine._EMITTED) == (float, 0.0)
    assert engine._EXPANDED is not engine._EMITTED


def _handmade_graphs() -> dict[str, Value]:
    """Small DAGs with shared nodes, duplicate parents and a three-input custom op."""
    a, b, c = Value(1.5, label="a"), Value(-0.5, label="b"), Value(2.0, label="c")
    graphs: dict[str, Value] = {}
    graphs["a * a"] = a * a
    left, right = a * 2.0, a + 1.0
    graphs["diamond"] = left * right
    repeated = a
    for _ in range(12):
        repeated = repeated + repeated
    graphs["a = a + a, twelve times"] = repeated
    shared = a * b
    squashed = shared.tanh()
    graphs["shared at two depths"] = (squashed + shared) * shared - c
    mix = define_op("mix", lambda x, y, z: x * y + z, lambda out, x, y, z: (y, x, 1.0))
    graphs["custom op with a repeated parent"] = mix(shared, shared, squashed) + mix(c, a, a)
    graphs["a leaf alone"] = b
    graphs["number base"] = 2**a + b / c
    return graphs


HANDMADE = _handmade_graphs()


def assert_same_walk(order: list[Value], root: Value) -> None:
    """Backward's order has topological_order's nodes, its interior order, parents first.

    Leaves may come earlier (backward emits a leaf as soon as a node using it is expanded, and
    skips leaves), but the interior nodes, whose order decides the arithmetic, must match.
    """
    expected = topological_order(root)
    assert len(order) == len(expected)
    assert set(order) == set(expected)
    assert [n for n in order if not n.is_leaf] == [n for n in expected if not n.is_leaf]
    position = {node: i for i, node in enumerate(order)}
    assert all(position[p] < position[n] for n in order for p in n.parents)
    assert order[-1] is root


@pytest.mark.parametrize("name", sorted(HANDMADE))
def test_marking_walk_equals_topological_order_on_handmade_graphs(name: str) -> None:
    """On DAGs with shared nodes the walk lists topological_order's nodes, interior in its order."""
    root = HANDMADE[name]
    order, _, all_marked = walk(root)
    assert_same_walk(order, root)
    assert all_marked
    assert no_marks(root)


def random_graphs(
    kit: Any, seed: int, count: int, most_ops: int
) -> Iterator[tuple[list[Value], Value]]:
    """``count`` seeded random programs over 3 inputs (nodes reused at random): (leaves, output)."""
    rng = random.Random(seed)
    for _ in range(count):
        program = kit.generate(rng.choice, rng.uniform, 3, rng.randint(1, most_ops))
        leaves = [Value(x) for x in program.inputs]
        yield leaves, kit.run(program, leaves, kit.VALUE_FUNCTIONS)


@pytest.mark.parametrize("seed", range(4))
def test_marking_walk_equals_topological_order_on_random_graphs(kit: Any, seed: int) -> None:
    """On seeded random programs (nodes reused at random) both walks agree on the interior."""
    for _leaves, out in random_graphs(kit, seed, count=60, most_ops=40):
        order, _, all_marked = walk(out)
        assert_same_walk(order, out)
        assert all_marked
        assert no_marks(out)


def test_marking_walk_reports_the_leaves_that_held_a_gradient() -> None:
    """Leaves with a non-zero grad (a float or a Value) are held; zero ones are not."""
    x, y, z = Value(1.0), Value(2.0), Value(3.0)
    x.grad = 0.75
    earlier = Value(-4.0)
    y.grad = earlier
    root = (x * y + z).tanh()
    _, held, _ = walk(root)
    assert held == {x: 0.75, y: earlier}
    assert held[y] is earlier
    assert (x.grad, y.grad, z.grad) == (0.75, earlier, 0.0)


def test_marking_walk_handles_a_very_deep_chain() -> None:
    """A 100 000-node chain walks without recursion and in topological order."""
    x = Value(1.0)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    order, _, all_marked = walk(y)
    assert len(order) == 100_001
    assert (order[0], order[-1]) == (x, y)
    assert all_marked


def test_topological_order_leaves_every_grad_untouched() -> None:
    """topological_order only reads: each node keeps the very grad object it had before."""
    a, b = Value(1.5), Value(-2.0)
    root = ((a * b).exp() + a * 3.0 - b).sigmoid()
    nodes = topological_order(root)
    grads: list[Any] = [float(k) + 0.25 for k in range(len(nodes))]
    grads[0] = float("0")  # a zero that is neither mark
    grads[1] = Value(9.0)
    for node, grad in zip(nodes, grads, strict=True):
        node.grad = grad
    assert topological_order(root) == nodes
    assert all(node.grad is grad for node, grad in zip(nodes, grads, strict=True))


# ----------------------------------------------------------------------------------------------
# No marks outlive a backward


@pytest.mark.parametrize("seed", range(3))
def test_no_marks_after_backward_recorded_backward_or_gradients(kit: Any, seed: int) -> None:
    """After backward (plain or create_graph) and after gradients(), no node holds a mark."""
    for leaves, out in random_graphs(kit, seed, count=30, most_ops=25):
        before = [node.grad for node in topological_order(out)]
        found = gradients(out, leaves)
        assert [node.grad for node in topological_order(out)] == before
        assert no_marks(out)
        out.backward()
        assert no_marks(out)
        assert tuple(leaf.grad for leaf in leaves) == found
        out.backward(create_graph=True)
        assert no_marks(out)


# ----------------------------------------------------------------------------------------------
# A backward that fails part-way


def _failing_graph() -> tuple[Value, Value, Value, Value]:
    """y = brittle(x) + m with m = x * w at x = 2, w = 3: brittle's partials divide by zero.

    The walk order is x, brittle, w, m, y, so backward reaches m first (sending w = 3 into x
    and x = 2 into w) and only then fails inside brittle's partials.
    """
    # The rule raises ZeroDivisionError (an ArithmeticError), which define_op's first-call
    # check forgives as a domain edge; so it first raises inside backward, as intended.
    brittle = define_op("brittle", lambda v: v, lambda out, v: (1.0 / (v - v),))
    x, w = Value(2.0, label="x"), Value(3.0, label="w")
    m = x * w
    return brittle(x) + m, m, x, w


@pytest.mark.parametrize("create_graph", [False, True])
def test_failed_backward_restores_leaves_and_leaves_no_marks(create_graph: bool) -> None:
    """A custom op raising in backward: x keeps 0.0, w keeps its 1.5, no node keeps a mark.

    x held 0.0 and w held 1.5 before the call; the failure comes after m already sent 3 into x
    and 2 into w, and neither partial sum may stay behind.
    """
    y, _, x, w = _failing_graph()
    w.grad = 1.5
    with pytest.raises(ZeroDivisionError):
        y.backward(create_graph=create_graph)
    assert no_marks(y)
    assert (type(x.grad), x.grad) == (float, 0.0)
    assert w.grad == 1.5


def test_failed_backward_gives_back_a_value_gradient_itself() -> None:
    """A leaf holding a Value gradient (from create_graph) gets that very object back."""
    y, _, x, w = _failing_graph()
    earlier = Value(-1.25)
    x.grad = earlier
    with pytest.raises(ZeroDivisionError):
        y.backward(create_graph=True)
    assert x.grad is earlier
    assert w.grad == 0.0
    assert no_marks(y)


def test_backward_after_a_failed_one_is_correct() -> None:
    """After the failure, backward of m = x * w (shared with y) adds dx = w = 3, dw = x = 2.

    With w holding 1.5 before both calls: x ends at 3 and w at 1.5 + 2 = 3.5, as if the failed
    call had never happened; gradients() of m agrees and leaves them there.
    """
    y, m, x, w = _failing_graph()
    w.grad = 1.5
    with pytest.raises(ZeroDivisionError):
        y.backward()
    m.backward()
    assert (x.grad, w.grad, m.grad) == (3.0, 3.5, 1.0)
    assert gradients(m, [x, w]) == (3.0, 2.0)
    assert (x.grad, w.grad) == (3.0, 3.5)
    assert no_marks(y)


def test_failed_gradients_call_leaves_every_grad_as_it_was() -> None:
    """gradients() failing part-way restores every node's grad, interior ones included."""
    y, m, x, w = _failing_graph()
    m.grad = 0.5
    x.grad = 4.0
    with pytest.raises(ZeroDivisionError):
        gradients(y, [x, w])
    assert (m.grad, x.grad, w.grad) == (0.5, 4.0, 0.0)
    assert no_marks(y)


def test_a_non_finite_seed_passes_through_unmarked() -> None:
    """Seeding with inf: d(2x)/dx times inf is inf, and the graph still ends without marks."""
    x = Value(1.0)
    y = 2 * x
    y.backward(math.inf)
    assert x.grad == math.inf
    assert no_marks(y)
