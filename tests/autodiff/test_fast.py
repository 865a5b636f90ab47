"""The fenced fast backward (``Value.backward`` for floats) is bit for bit the reference loop.

Each random graph is built twice from the same program; one copy runs ``Value.backward``
(which takes ``autodiff._fast`` for float gradients), the other ``autodiff.engine.backward``
(the readable reference). Every node's grad must then be the same float, bit for bit: same
sign of zero, same infinities, NaN where the other has NaN. Interruptions are covered, for both,
in test_engine_backward.py.
"""

from __future__ import annotations

import math
import random
import struct
from typing import Any

import pytest

from autodiff import OPS, Value, define_op, engine, topological_order
from autodiff.engine import apply

blend = define_op("blend", lambda a, b, c: a * b + c, lambda out, a, b, c: (b, a, 1.0))
soft = define_op(
    "soft", lambda v: math.log1p(math.exp(v)), lambda out, v: (1 / (1 + math.exp(-v)),)
)


def bits(x: Any) -> Any:
    """A float's exact bit pattern (NaNs all alike); anything else as it is."""
    if isinstance(x, float):
        return "nan" if math.isnan(x) else struct.pack("<d", x)
    return x


def build(kit: Any, program: Any, customs: list[tuple[int, int, int]]) -> tuple[Value, list[Value]]:
    """Evaluate ``program`` on fresh leaves, then mix in custom ops at the given node indices."""
    leaves = [Value(x) for x in program.inputs]
    nodes: list[Any] = list(leaves)
    for step in program.steps:
        nodes.append(kit.run(kit.Program((), (step,)), nodes, kit.VALUE_FUNCTIONS))
    for i, j, k in customs:
        nodes.append(blend(nodes[i % len(nodes)], nodes[j % len(nodes)], nodes[k % len(nodes)]))
        nodes.append(soft(nodes[-1] * 0.01))
    root = nodes[-1]
    for node in nodes[:-1]:  # use every node, so all of them are in the graph
        root = root + node * 0.5
    return root, leaves


def starting_grads(rng: random.Random, count: int) -> list[Any]:
    """What the nodes hold before the call: zeros of both signs, None, and numbers."""
    return [rng.choice([0.0, -0.0, None, 1.5, -2.25, 1e-300]) for _ in range(count)]


@pytest.mark.parametrize("seed", range(10))
def test_fast_backward_is_bit_identical_to_the_reference(kit: Any, seed: int) -> None:
    """On 300 random graphs per seed (3,000 in all), every grad is the reference's, bit for bit.

    The graphs cover every op-table row, plain-number operands on both sides, shared nodes,
    custom ops of one and three operands, non-unit seeds and leaves that already hold a grad.
    """
    rng = random.Random(seed)
    for _ in range(300):
        program = kit.generate(rng.choice, rng.uniform, rng.randint(1, 4), rng.randint(1, 25))
        customs = [(rng.randrange(99), rng.randrange(99), rng.randrange(99))] * rng.randint(0, 1)
        fast_root, _ = build(kit, program, customs)
        reference_root, _ = build(kit, program, customs)
        fast_order = topological_order(fast_root)
        reference_order = topological_order(reference_root)
        assert len(fast_order) == len(reference_order)
        for node, other, grad in zip(
            fast_order, reference_order, starting_grads(rng, len(fast_order)), strict=True
        ):
            node.grad = other.grad = grad
        seed_gradient = rng.choice([1.0, -0.5, 3.0, 0.0])
        for _ in range(rng.randint(1, 2)):  # twice sometimes: leaves accumulate the same way
            fast_root.backward(seed_gradient)
            engine.backward(reference_root, seed_gradient)
        fast = [bits(node.grad) for node in fast_order]
        reference = [bits(node.grad) for node in reference_order]
        assert fast == reference, program


def test_fast_backward_is_what_value_backward_runs() -> None:
    """Value.backward gives, on a graph with every fast-path row, the hand-derived gradients.

    f = (x*y - 3) + x**2 - y at x = 2, y = 5: df/dx = y + 2x = 9, df/dy = x - 1 = 1.
    """
    x, y = Value(2.0), Value(5.0)
    f = (x * y - 3) + x**2 - y
    f.backward()
    assert (x.grad, y.grad) == (9.0, 1.0)


def test_nodes_whose_operands_are_all_numbers() -> None:
    """A node made from numbers only (apply on 2 and 3) is a constant: x gets 6 and 9 = 3**2.

    f = mul(2, 3) * x + pow(3, 2) * x, so df/dx = 6 + 9 = 15, by both backwards alike.
    """
    for run in (lambda f: f.backward(), engine.backward):
        x = Value(1.0)
        f = apply(OPS["mul"], 2, 3) * x + apply(OPS["pow"], 3, 2) * x
        run(f)
        assert x.grad == 15.0


def test_fast_backward_of_a_leaf() -> None:
    """backward() from a leaf gives it the seed, added to what it held, as the reference does."""
    a, b = Value(1.0), Value(1.0)
    a.grad = b.grad = 2.0
    a.backward(3.0)
    engine.backward(b, 3.0)
    assert a.grad == b.grad == 5.0
