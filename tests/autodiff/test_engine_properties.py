"""Layer 4: hypothesis builds random expressions from the op table and checks their gradients.

Programs come from ``conftest.py``: DAGs over three inputs in [-2, 2] whose steps are every
table row plus the composite and reflected forms, with reuse of earlier nodes. Unsafe steps
(near a kink, a pole or a domain edge) become ``-x``, so no example is rejected. Gradients are
checked against two independent references: forward-mode dual numbers (exact up to rounding)
and central differences of a plain-float evaluation (h = 1e-6, rel 1e-6). Besides the programs
drawn from every step kind at once, each op-table row (abs, sin and cos included) gets programs
that start with it, so no row depends on luck to be checked. Settings are derandomized, so CI
runs the same examples every time, and have no deadline.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from autodiff import OPS, Value, gradients, topological_order

DETERMINISTIC = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)


def draw_program(kit: Any, data: st.DataObject, max_steps: int = 10) -> Any:
    """One random program, every choice drawn from hypothesis so failures shrink."""
    n_steps = data.draw(st.integers(1, max_steps), label="steps")
    return kit.generate(
        lambda options: data.draw(st.sampled_from(list(options))),
        lambda lo, hi: data.draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False)),
        3,
        n_steps,
    )


def draw_program_starting_with(kit: Any, data: st.DataObject, kind: str, max_steps: int = 6) -> Any:
    """A random program whose first step is ``kind`` (on drawn inputs), then random steps.

    The generator turns a step near a kink, pole or domain edge into ``-x``; such examples are
    rejected here, so every example kept really applies ``kind``.
    """
    forced = [kind]

    def pick(options: Any) -> Any:
        if options is kit.KINDS and forced:
            return forced.pop()
        return data.draw(st.sampled_from(list(options)))

    n_steps = data.draw(st.integers(1, max_steps), label="steps")
    program = kit.generate(
        pick,
        lambda lo, hi: data.draw(st.floats(lo, hi, allow_nan=False, allow_infinity=False)),
        3,
        n_steps,
    )
    assume(program.steps[0].kind == kind)
    return program


def scale_of(program: Any, kit: Any) -> float:
    """The largest |data| in the program's float evaluation (for an absolute tolerance)."""
    nodes = list(program.inputs)
    for step in program.steps:
        nodes.append(kit.run(kit.Program(tuple(nodes), (step,)), nodes, kit.FLOAT_FUNCTIONS))
    return max(1.0, *(abs(x) for x in nodes))


@DETERMINISTIC
@given(data=st.data())
def test_gradients_match_dual_numbers(kit: Any, data: st.DataObject) -> None:
    """Backward's gradients equal forward-mode dual numbers to 1e-9 relative."""
    program = draw_program(kit, data)
    _, ours = kit.engine_gradients(program)
    for mine, exact in zip(ours, kit.dual_gradients(program), strict=True):
        assert mine == pytest.approx(exact, rel=1e-9, abs=1e-12), program


@DETERMINISTIC
@given(data=st.data())
def test_gradients_match_central_differences(kit: Any, data: st.DataObject) -> None:
    """Backward's gradients equal central differences (h = 1e-6) to 1e-6 relative."""
    program = draw_program(kit, data)
    _, ours = kit.engine_gradients(program)
    # Rounding in f(x +- h) costs about eps * max|f| / h in absolute terms.
    floor = 1e-8 * scale_of(program, kit)
    for mine, numeric in zip(ours, kit.finite_difference_gradients(program), strict=True):
        assert mine == pytest.approx(numeric, rel=1e-6, abs=floor), program


def test_every_row_of_the_op_table_is_a_step_kind(kit: Any) -> None:
    """The random programs can apply every op-table row, abs, sin and cos included."""
    assert set(OPS) <= set(kit.KINDS)
    assert {"abs", "sin", "cos"} <= set(kit.KINDS)


@pytest.mark.parametrize("row", sorted(OPS))
@settings(DETERMINISTIC, max_examples=60)
@given(data=st.data())
def test_programs_through_each_row_match_both_references(
    kit: Any, row: str, data: st.DataObject
) -> None:
    """Programs that start with ``row`` match dual numbers and central differences in gradient."""
    program = draw_program_starting_with(kit, data, row)
    leaves = [Value(x) for x in program.inputs]
    first = kit.run(kit.Program(program.inputs, program.steps[:1]), leaves, kit.VALUE_FUNCTIONS)
    assert first.op is OPS[row]  # the step really made a node of this row
    _, ours = kit.engine_gradients(program)
    floor = 1e-8 * scale_of(program, kit)
    for mine, exact, numeric in zip(
        ours, kit.dual_gradients(program), kit.finite_difference_gradients(program), strict=True
    ):
        assert mine == pytest.approx(exact, rel=1e-9, abs=1e-12), program
        assert mine == pytest.approx(numeric, rel=1e-6, abs=floor), program


@DETERMINISTIC
@given(data=st.data())
def test_forward_matches_plain_floats(kit: Any, data: st.DataObject) -> None:
    """The output's data equals the same expression evaluated on floats with math functions."""
    program = draw_program(kit, data)
    ours, _ = kit.engine_gradients(program)
    reference = kit.run(program, list(program.inputs), kit.FLOAT_FUNCTIONS)
    assert ours == pytest.approx(reference, rel=1e-12, abs=1e-14)


@settings(DETERMINISTIC, max_examples=100)
@given(data=st.data())
def test_backward_twice_is_exactly_double(kit: Any, data: st.DataObject) -> None:
    """For any expression, two backward calls give leaves exactly twice the one-call gradient."""
    program = draw_program(kit, data)
    leaves = [Value(x) for x in program.inputs]
    out = kit.run(program, leaves, kit.VALUE_FUNCTIONS)
    once = gradients(out, leaves)
    out.backward()
    out.backward()
    assert tuple(leaf.grad for leaf in leaves) == tuple(2.0 * g for g in once)


@settings(DETERMINISTIC, max_examples=100)
@given(data=st.data())
def test_topological_order_invariants(kit: Any, data: st.DataObject) -> None:
    """For any expression the order lists each node once, after all its parents, root last."""
    program = draw_program(kit, data, max_steps=20)
    leaves = [Value(x) for x in program.inputs]
    out = kit.run(program, leaves, kit.VALUE_FUNCTIONS)
    order = topological_order(out)
    position = {node: i for i, node in enumerate(order)}
    assert len(position) == len(order)
    assert order[-1] is out
    for node in order:
        assert all(position[parent] < position[node] for parent in node.parents)
    assert order == topological_order(out)


@DETERMINISTIC
@given(
    x=st.floats(-50.0, 50.0),
    y=st.floats(0.05, 5.0),
)
def test_quotient_rule_everywhere(x: float, y: float) -> None:
    """d(x/y)/dx = 1/y and d(x/y)/dy = -x/y^2 at any x and any y away from 0."""
    a, b = Value(x), Value(y)
    (a / b).backward()
    assert a.grad == pytest.approx(1.0 / y, rel=1e-14)
    assert b.grad == pytest.approx(-x / (y * y), rel=1e-14, abs=1e-300)


@DETERMINISTIC
@given(x=st.floats(-1e6, 1e6))
def test_sigmoid_and_tanh_are_finite_and_consistent(x: float) -> None:
    """σ and tanh never overflow, stay in range, and tanh(x) = 2σ(2x) - 1 in value and slope."""
    a, b = Value(x), Value(x)
    s = (2 * a).sigmoid()
    t = b.tanh()
    s.backward()
    t.backward()
    assert 0.0 <= s.data <= 1.0
    assert -1.0 <= t.data <= 1.0
    assert math.isfinite(a.grad)
    assert math.isfinite(b.grad)
    assert 2.0 * s.data - 1.0 == pytest.approx(t.data, abs=1e-15)
    assert 2.0 * a.grad == pytest.approx(b.grad, rel=1e-12, abs=1e-15)
