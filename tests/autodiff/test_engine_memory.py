"""No reference cycles: a dropped graph is freed by reference counting alone.

With the cycle collector disabled, the number of live Value objects (they are gc-tracked, so
``gc.get_objects`` lists them) must return to its baseline once the last reference to a graph is
dropped: anything kept alive by a cycle would stay in the count.
"""

from __future__ import annotations

import gc
from collections.abc import Callable

import pytest

from autodiff import Value, define_op, gradients, no_grad, topological_order


def small_network() -> None:
    """Build, differentiate and inspect a two-layer network, then let it all go."""
    xs = [Value(0.5), Value(-1.5)]
    w = [[Value(0.1 * (i + j)) for j in range(2)] for i in range(3)]
    hidden = [
        sum((wi * xi for wi, xi in zip(row, xs, strict=True)), Value(0.0)).tanh() for row in w
    ]
    loss = (sum(hidden, Value(0.0)).sigmoid() - 1.0) ** 2 + (xs[0] ** xs[1].exp()).log()
    loss.backward()
    loss.backward(2.0)
    gradients(loss, xs)
    topological_order(loss)
    with no_grad():
        loss * 2


def second_order() -> None:
    """A create_graph backward builds a graph of gradients; it must be freed too."""
    x = Value(1.5)
    y = (x * x).tanh() * x.exp()
    (first,) = gradients(y, [x], create_graph=True)
    first.backward()


def number_operands() -> None:
    """Graphs with plain-number operands (a number base, a custom op given a number)."""
    x = Value(0.5)
    y = (2**x + define_op("twice", lambda v: 2 * v, lambda out, v: (2.0,))(3.0) * x).tanh()
    y.backward()


def three_operand_custom_op() -> None:
    """A custom op of three operands, a number among them, differentiated twice."""
    fma = define_op("fma_for_memory", lambda a, b, c: a * b + c, lambda out, a, b, c: (b, a, 1.0))
    x = Value(0.5)
    y = fma(x, 3.0, x * x) * x
    (first,) = gradients(y, [x], create_graph=True)
    first.backward()
    y.backward()


def create_graph_then_clear_the_grad() -> None:
    """backward(create_graph=True), then x.grad = None: the documented way to break the cycle."""
    x = Value(1.5)
    y = (x * x).tanh() * x.exp()
    y.backward(create_graph=True)
    x.grad = None


def deep_chain() -> None:
    """A 200 000-node chain, backpropagated."""
    x = Value(1.0)
    y = x
    for _ in range(200_000):
        y = y * 1.0
    y.backward()


@pytest.mark.parametrize(
    "build",
    [
        small_network,
        second_order,
        number_operands,
        three_operand_custom_op,
        create_graph_then_clear_the_grad,
        deep_chain,
    ],
)
@pytest.mark.usefixtures("collector_off")
def test_dropped_graph_is_freed_without_the_cycle_collector(
    build: Callable[[], None], live_values: Callable[[], int]
) -> None:
    """After building and differentiating a graph, no Value outlives its last reference."""
    baseline = live_values()
    build()
    assert live_values() == baseline


@pytest.mark.usefixtures("collector_off")
def test_the_count_sees_a_kept_graph(live_values: Callable[[], int]) -> None:
    """The live-Value count does see nodes that are still referenced (the check can fail)."""
    baseline = live_values()
    x = Value(1.0)
    kept = (x * 2 + 1).tanh()
    assert live_values() == baseline + 4  # x, mul, add, tanh: the numbers are no nodes
    del kept, x
    assert live_values() == baseline


@pytest.mark.usefixtures("collector_off")
def test_create_graph_leaves_a_cycle_until_the_grad_is_cleared(
    live_values: Callable[[], int],
) -> None:
    """After create_graph the leaf's grad graph refers back to the leaf: the collector frees it.

    This is the documented cycle (PyTorch has it too); setting x.grad = None breaks it (above).
    """
    baseline = live_values()

    def build() -> None:
        x = Value(1.5)
        (x * x).backward(create_graph=True)  # x.grad is a node computed from x

    build()
    assert live_values() > baseline
    gc.collect()
    assert live_values() == baseline
