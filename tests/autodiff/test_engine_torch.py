"""Optional: first and second derivatives of random expressions equal PyTorch's (float64).

Skipped when torch is not installed (it is not a dependency; ``pip install torch==2.13.0``).
Expressions are the seeded programs of ``conftest.py`` over every op-table row, evaluated once
on Values and once on float64 tensors with ``requires_grad``. tanh and sigmoid inputs are kept
within |x| <= 3: deeper in saturation both engines compute 1 - t^2 by cancellation, and a last-bit
difference in t then shows in the tenth digit (the engine still matches dual numbers there; see
test_engine_properties.py). Gradients agree to 1e-12 relative; those below 1e-12 in size are
compared absolutely.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from autodiff import OPS, Value, gradients, topological_order

torch = pytest.importorskip("torch")

PROGRAMS_PER_SEED = 250
SATURATION = 3.0  # bound on |x| at tanh and sigmoid (see the module docstring)
REL = 1e-12

TORCH_FUNCTIONS: dict[str, Any] = {
    "exp": lambda t: torch.exp(t),
    "log": lambda t: torch.log(t),
    "sigmoid": lambda t: torch.sigmoid(t),
    "tanh": lambda t: torch.tanh(t),
    "relu": lambda t: torch.relu(t),
    "abs": lambda t: torch.abs(t),
    "sin": lambda t: torch.sin(t),
    "cos": lambda t: torch.cos(t),
}


def leaf(x: float) -> Any:
    """A float64 scalar tensor that records gradients."""
    return torch.tensor(x, dtype=torch.float64, requires_grad=True)


def torch_gradients(kit: Any, program: Any) -> tuple[float, tuple[float, ...]]:
    """The output and d output / d input_k according to torch.autograd."""
    leaves = [leaf(x) for x in program.inputs]
    out = kit.run(program, leaves, TORCH_FUNCTIONS)
    grads = torch.autograd.grad(out, leaves, allow_unused=True)
    return out.item(), tuple(0.0 if g is None else g.item() for g in grads)


@pytest.mark.parametrize("seed", range(8))
def test_random_expressions_match_torch(kit: Any, seed: int) -> None:
    """For 250 seeded random programs per seed, output and gradients match torch to 1e-12."""
    rng = random.Random(seed)
    for _ in range(PROGRAMS_PER_SEED):
        program = kit.generate(rng.choice, rng.uniform, 3, rng.randint(1, 30), SATURATION)
        data, ours = kit.engine_gradients(program)
        expected_data, theirs = torch_gradients(kit, program)
        assert data == pytest.approx(expected_data, rel=1e-12, abs=1e-15), program
        for mine, reference in zip(ours, theirs, strict=True):
            assert mine == pytest.approx(reference, rel=REL, abs=1e-12), program


def second_derivatives_ours(kit: Any, program: Any) -> list[float]:
    """d/dx_k of (d out / d x_0) for every input k, by create_graph."""
    leaves = [Value(x) for x in program.inputs]
    out = kit.run(program, leaves, kit.VALUE_FUNCTIONS)
    (first,) = gradients(out, leaves[:1], create_graph=True)
    if not isinstance(first, Value):
        return [0.0] * len(leaves)
    return [float(g) for g in gradients(first, leaves)]


def second_derivatives_torch(kit: Any, program: Any) -> list[float]:
    """The same second derivatives by torch.autograd with create_graph."""
    leaves = [leaf(x) for x in program.inputs]
    out = kit.run(program, leaves, TORCH_FUNCTIONS)
    (first,) = torch.autograd.grad(out, leaves[:1], create_graph=True, allow_unused=True)
    if first is None or not first.requires_grad:
        return [0.0] * len(leaves)
    grads = torch.autograd.grad(first, leaves, allow_unused=True)
    return [0.0 if g is None else g.item() for g in grads]


@pytest.mark.parametrize("seed", range(4))
def test_random_second_derivatives_match_torch(kit: Any, seed: int) -> None:
    """For 100 seeded random programs per seed, a row of the Hessian matches torch to 1e-12."""
    rng = random.Random(100 + seed)
    for _ in range(100):
        program = kit.generate(rng.choice, rng.uniform, 3, rng.randint(1, 20), SATURATION)
        ours = second_derivatives_ours(kit, program)
        theirs = second_derivatives_torch(kit, program)
        for mine, reference in zip(ours, theirs, strict=True):
            assert mine == pytest.approx(reference, rel=REL, abs=1e-12), program


def test_every_step_kind_was_compared(kit: Any) -> None:
    """The seeded programs above exercise every kind of step, so every op row meets torch."""
    seen: set[str] = set()
    for seed in range(8):
        rng = random.Random(seed)
        for _ in range(PROGRAMS_PER_SEED):
            program = kit.generate(rng.choice, rng.uniform, 3, rng.randint(1, 30), SATURATION)
            seen.update(step.kind for step in program.steps)
    assert seen == set(kit.KINDS)


def test_every_op_row_was_compared(kit: Any) -> None:
    """The graphs of those programs contain a node of every op-table row."""
    seen: set[str] = set()
    for seed in range(8):
        rng = random.Random(seed)
        for _ in range(PROGRAMS_PER_SEED // 10):
            program = kit.generate(rng.choice, rng.uniform, 3, rng.randint(1, 30), SATURATION)
            out = kit.run(program, [Value(x) for x in program.inputs], kit.VALUE_FUNCTIONS)
            seen.update(node.op.name for node in topological_order(out) if node.op is not None)
    assert seen == set(OPS)


def test_tutorial_001_matches_torch_in_float64() -> None:
    """Tutorial 001's network: every gradient equals torch float64's to 1e-12."""
    names = ("x", "W1", "b1", "W2", "b2")
    start = {"x": 1.0, "W1": 0.5, "b1": 0.0, "W2": -1.0, "b2": 0.0}

    def loss(p: dict[str, Any], sigmoid: Any) -> Any:
        y = p["W2"] * sigmoid(p["W1"] * p["x"] + p["b1"]) + p["b2"]
        return 0.5 * (y - 0.0) ** 2

    ours = {n: Value(start[n]) for n in names}
    loss(ours, lambda v: v.sigmoid()).backward()
    theirs = {n: leaf(start[n]) for n in names}
    loss(theirs, torch.sigmoid).backward()
    for n in names:
        assert ours[n].grad == pytest.approx(theirs[n].grad.item(), rel=1e-12), n


@pytest.mark.parametrize(
    ("build_ours", "build_theirs", "x"),
    [
        (lambda v: v.relu(), torch.relu, 0.0),
        (lambda v: v.sigmoid(), torch.sigmoid, -1000.0),
        (lambda v: v.sigmoid(), torch.sigmoid, 1000.0),
        (lambda v: v.tanh(), torch.tanh, -1000.0),
        (lambda v: v**0.5, lambda t: t**0.5, 0.0),
        (lambda v: v**2, lambda t: t**2, 0.0),
        (lambda v: v**0, lambda t: t**0, 0.0),
        (lambda v: v ** Value(2.0), lambda t: t ** leaf(2.0), 0.0),
        (lambda v: abs(v), torch.abs, 0.0),
        (lambda v: v.relu(), torch.relu, math.nan),
        (lambda v: 1.0 / v, lambda t: 1.0 / t, 1e-154),
        (lambda v: v / 1e-160, lambda t: t / 1e-160, 1e-200),
        (lambda v: v**-3, lambda t: t**-3, 1e-80),
    ],
)
def test_kinks_and_edges_agree_with_torch(build_ours: Any, build_theirs: Any, x: float) -> None:
    """At kinks and saturation the engine's conventions are PyTorch's (relu'(0) = 0, etc.)."""
    ours = Value(x)
    out = build_ours(ours)
    out.backward()
    theirs = leaf(x)
    reference = build_theirs(theirs)
    reference.backward()
    same = out.data == reference.item() or (math.isnan(out.data) and math.isnan(reference.item()))
    assert same
    expected = theirs.grad.item()
    assert ours.grad == pytest.approx(expected, rel=1e-15) or (
        math.isnan(expected) and math.isnan(ours.grad)
    )
