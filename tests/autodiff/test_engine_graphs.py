"""Layer 3: graph shapes (reuse, fan-out, diamond, doubling, deep chains) and backward semantics.

Expected gradients are derived by hand in each docstring. The deep chains prove backward and
``topological_order`` are iterative: a recursive walk would overflow the stack long before.
"""

from __future__ import annotations

import math

import pytest

from autodiff import Value, gradients, topological_order


def test_reuse_a_times_a() -> None:
    """f = a*a at a = -3 keeps parents (a, a) and gets df/da = 2a = -6 from both edges."""
    a = Value(-3.0)
    f = a * a
    assert f.parents == (a, a)
    f.backward()
    assert (f.data, a.grad) == (9.0, -6.0)


def test_fan_out() -> None:
    """d = (2a) * (a + 3) at a = 1.5: dd/da = 2(a + 3) + 2a = 4a + 6 = 12."""
    a = Value(1.5)
    b = a * 2
    c = a + 3
    d = b * c
    d.backward()
    assert d.data == 13.5
    assert a.grad == 12.0
    assert (b.grad, c.grad) == (4.5, 3.0)  # dd/db = c, dd/dc = b


def test_diamond() -> None:
    """d = 3a + exp(a) at a = 0.5: both paths meet at a, dd/da = 3 + e^0.5; each branch gets 1."""
    a = Value(0.5)
    b = a * 3
    c = a.exp()
    d = b + c
    d.backward()
    assert a.grad == pytest.approx(3.0 + math.exp(0.5), rel=1e-15)
    assert (b.grad, c.grad, d.grad) == (1.0, 1.0, 1.0)


@pytest.mark.parametrize("n", [1, 2, 10, 60])
def test_repeated_doubling(n: int) -> None:
    """After n times a = a + a the leaf's gradient is exactly 2**n; the graph has n + 1 nodes."""
    x = Value(1.0)
    a = x
    for _ in range(n):
        a = a + a
    a.backward()
    assert a.data == 2.0**n
    assert x.grad == 2.0**n
    assert len(topological_order(a)) == n + 1


def test_chain_of_a_million_nodes() -> None:
    """A million negations: dy/dx = (-1)**1_000_000 = 1, the walk visits 1_000_001 nodes."""
    x = Value(2.0)
    y = x
    for _ in range(1_000_000):
        y = -y
    order = topological_order(y)
    assert len(order) == 1_000_001
    assert order[0] is x
    assert order[-1] is y
    y.backward()
    assert (y.data, x.grad) == (2.0, 1.0)
    del order, y  # freeing a million-deep chain must not overflow the C stack either
    assert x.data == 2.0


@pytest.mark.parametrize("upstream", [3.0, -0.5])
def test_non_unit_upstream_gradient(upstream: float) -> None:
    """backward(gradient=g) scales every node: f = x*y + y at x=2, y=5 gives x.grad = g*y."""
    x, y = Value(2.0), Value(5.0)
    p = x * y
    f = p + y
    f.backward(gradient=upstream)
    assert f.grad == upstream
    assert p.grad == upstream
    assert x.grad == upstream * 5.0
    assert y.grad == upstream * (2.0 + 1.0)


def test_upstream_gradient_reaches_through_a_nonlinearity() -> None:
    """f = tanh(x) at x = 0.3 with upstream 3: x.grad = 3 (1 - tanh(0.3)^2)."""
    x = Value(0.3)
    x.tanh().backward(3.0)
    assert x.grad == pytest.approx(3.0 * (1.0 - math.tanh(0.3) ** 2), rel=1e-15)


def test_backward_from_a_leaf() -> None:
    """A leaf's backward seeds itself: x.backward() makes x.grad 1.0, and accumulates."""
    x = Value(4.0)
    x.backward()
    x.backward(2.0)
    assert x.grad == 3.0


# ----------------------------------------------------------------------------------------------
# topological_order


def test_topological_order_pins_depth_first_parent_order() -> None:
    """For (a*b) + (a+c) the order is a, b, a*b, c, a+c, root: parents in recorded order."""
    a, b, c = Value(1.0, label="a"), Value(2.0, label="b"), Value(3.0, label="c")
    left = a * b
    right = a + c
    root = left + right
    assert topological_order(root) == [a, b, left, c, right, root]


def test_topological_order_is_deterministic() -> None:
    """Two identical graphs built separately give the same sequence of labels and ops."""

    def labels() -> list[str]:
        x, y = Value(0.5, label="x"), Value(-1.0, label="y")
        h = (x * y).tanh() + x.exp() * y - (x + y).sigmoid() / 2
        return [n.label or n.op.name for n in topological_order(h)]  # type: ignore[union-attr]

    assert labels() == labels()


def test_topological_order_puts_inputs_before_outputs() -> None:
    """Every node comes after each of its parents, appears once, and the root is last."""
    x, y = Value(0.5), Value(2.0)
    z = x * y
    w = (z + x) * (z - y) + z.tanh() * x ** Value(1.5)
    order = topological_order(w)
    position = {node: i for i, node in enumerate(order)}
    assert len(position) == len(order)
    assert order[-1] is w
    for node in order:
        for parent in node.parents:
            assert position[parent] < position[node]
    assert {x, y, z} <= set(order)


def test_numbers_in_operations_are_no_nodes() -> None:
    """3 * x - 1 walks x, mul, sub: the 3 and the 1 are float operands, not nodes of the order."""
    x = Value(2.0, label="x")
    product = 3 * x
    y = product - 1
    assert topological_order(y) == [x, product, y]
    assert (product.operands, y.operands) == ((3.0, x), (product, 1.0))
    y.backward()
    assert (y.data, x.grad) == (5.0, 3.0)


def test_topological_order_of_a_leaf() -> None:
    """A lone leaf's order is just itself."""
    x = Value(1.0)
    assert topological_order(x) == [x]


# ----------------------------------------------------------------------------------------------
# Semantics across calls


def test_backward_twice_doubles_leaves_and_recomputes_interior() -> None:
    """Two calls give leaves exactly 2x one call's gradient; interior nodes hold 1x (not 1.5x)."""

    def build() -> tuple[Value, Value, Value, Value]:
        w, b = Value(0.8), Value(-0.2)
        hidden = (w * 1.5 + b).tanh()
        loss = (hidden - 1.0) ** 2
        return w, b, hidden, loss

    w1, b1, hidden1, loss1 = build()
    loss1.backward()
    w2, b2, hidden2, loss2 = build()
    loss2.backward()
    loss2.backward()
    assert w2.grad == 2.0 * w1.grad
    assert b2.grad == 2.0 * b1.grad
    assert hidden2.grad == hidden1.grad
    assert loss2.grad == 1.0


def test_backward_twice_is_exact_for_a_leaf_with_several_contributions() -> None:
    """A leaf fed by three edges still gets exactly 2x: each call's sum is added as a whole.

    Adding every edge's contribution into the old grad, g + c3 + c2 + c1, differs from 2g in
    the last bit for these constants (found by a seeded search against the first engine).
    """
    c = (-0.5424755574590947, 0.8905413911078446, 0.8028549152229671)
    x = Value(0.25)
    out = x * c[0] + x * c[1] + x * c[2]
    (once,) = gradients(out, [x])
    assert once == pytest.approx(sum(c), rel=1e-15)
    out.backward()
    out.backward()
    assert x.grad == 2.0 * once


def test_graph_survives_backward() -> None:
    """After backward the graph is intact: same parents, same order, and backward works again."""
    x = Value(1.5)
    y = (x * x).exp()
    parents_before = y.parents
    order_before = topological_order(y)
    y.backward()
    assert y.parents == parents_before
    assert topological_order(y) == order_before
    x.grad = 0.0
    y.backward()
    assert x.grad == pytest.approx(2.0 * 1.5 * math.exp(2.25), rel=1e-15)


def test_gradients_leaves_grad_untouched() -> None:
    """gradients() returns d out/d input without reading or writing any node's grad."""
    x, y = Value(2.0), Value(3.0)
    p = x * y
    out = p + x
    x.grad, y.grad, p.grad = 100.0, -7.0, 42.0
    assert gradients(out, [x, y]) == (4.0, 2.0)  # y + 1, x
    assert (x.grad, y.grad, p.grad, out.grad) == (100.0, -7.0, 42.0, 0.0)


def test_gradients_of_an_unrelated_input_is_zero() -> None:
    """An input the output does not depend on gets 0.0; a non-unit seed scales the rest."""
    x, unrelated = Value(2.0), Value(9.0)
    assert gradients(x * x, [unrelated, x], gradient=0.5) == (0.0, 2.0)


def test_gradients_agrees_with_backward() -> None:
    """For a small network the functional and mutating APIs give identical gradients."""
    w = [Value(0.3), Value(-0.7), Value(1.1)]
    out = ((w[0] * w[1]).tanh() + w[2].sigmoid() * w[0]) ** 2
    functional = gradients(out, w)
    out.backward()
    assert functional == tuple(v.grad for v in w)
