"""Backward's promises: what it writes, what it keeps, and what a failed or interrupted call leaves.

``Value.backward`` runs a fenced fast copy of the reference loop for float gradients, and
``autodiff.engine.backward`` is the reference itself; every promise here is checked on both.
Interruptions are injected at every line the engine executes during a call (a trace function
raises KeyboardInterrupt or MemoryError at the k-th line event), so no moment is missed.
"""

from __future__ import annotations

import math
import random
import signal
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import autodiff
from autodiff import Value, define_op, engine, gradients, topological_order

ENGINE_FILES = {str(Path(autodiff.__file__).parent / name) for name in ("engine.py", "_fast.py")}

# The two ways to run backward: the method (fast path for floats) and the reference function.
BACKWARDS: dict[str, Callable[[Value], None]] = {
    "method": lambda root: root.backward(),
    "reference": lambda root: engine.backward(root),
}


def x_squared_plus_x() -> tuple[Value, Value]:
    """y = x*x + x at x = 3: dy/dx = 2x + 1 = 7."""
    x = Value(3.0, label="x")
    return x, x * x + x


@pytest.mark.parametrize("run", sorted(BACKWARDS))
def test_leaves_accumulate_and_interior_nodes_are_recomputed(run: str) -> None:
    """Two calls give x exactly twice 7; the interior mul node holds d y / d mul = 1 both times."""
    x, y = x_squared_plus_x()
    for calls in (1, 2):
        BACKWARDS[run](y)
        assert x.grad == 7.0 * calls
        assert y.parents[0].grad == 1.0


@pytest.mark.parametrize("run", sorted(BACKWARDS))
def test_grad_none_counts_as_zero(run: str) -> None:
    """A leaf whose grad was set to None (as PyTorch users clear it) gets this call's gradient."""
    x, y = x_squared_plus_x()
    other = Value(1.0)
    z = y * other  # d z / d other = y = 12, d z / d x = 7 * other = 7
    x.grad = None
    other.grad = None
    BACKWARDS[run](z)
    assert (x.grad, other.grad) == (7.0, 12.0)


def test_gradients_with_a_generator_of_inputs() -> None:
    """gradients() accepts any iterable of inputs, a generator included."""
    x, y = x_squared_plus_x()
    assert gradients(y, (node for node in [x])) == (7.0,)


def test_custom_partials_returning_values_still_store_floats() -> None:
    """A custom op whose partials return a Value leaves a float in .grad after a plain backward."""
    scale = define_op("scale_by_value", lambda v: 3.0 * v, lambda out, v: (Value(3.0),))
    x = Value(2.0)
    for run in BACKWARDS.values():
        x.grad = 0.0
        run(scale(x))
        assert type(x.grad) is float
        assert x.grad == 3.0


def test_create_graph_leaves_a_cycle_that_none_breaks() -> None:
    """After create_graph, x.grad's graph refers back to x (as in PyTorch); x.grad = None frees it.

    y = x^2: x.grad = 2x is a node whose graph contains x. Clearing the grad drops that graph.
    """
    x = Value(3.0)
    (x * x).backward(create_graph=True)
    assert x in topological_order(x.grad)
    x.grad = None
    assert x.grad is None


# ----------------------------------------------------------------------------------------------
# Failing and interrupted calls change nothing.


def snapshot(root: Value) -> list[tuple[Value, Any]]:
    """Every node's grad, by identity (a float's sign and a NaN count too)."""
    return [(node, node.grad) for node in topological_order(root)]


def same_grads(before: list[tuple[Value, Any]]) -> bool:
    """Whether every node holds exactly the object it held before (so -0.0 stays -0.0)."""
    return all(node.grad is grad for node, grad in before)


def with_distinct_grads(root: Value) -> None:
    """Give every node of the graph a grad of its own: -0.0, None, and numbers."""
    choices: list[Any] = [-0.0, None, 5.5, 0.0, 1.25]
    for i, node in enumerate(topological_order(root)):
        node.grad = choices[i % len(choices)]


def in_engine(filename: str) -> bool:
    return filename in ENGINE_FILES


def count_lines(run: Callable[[], object], error_at_line: Any) -> int:
    """How many engine lines one call runs."""
    with error_at_line(-1, KeyboardInterrupt, in_engine) as seen:
        run()
    return int(seen[0])


@pytest.mark.parametrize("error", [KeyboardInterrupt, MemoryError])
@pytest.mark.parametrize("run", sorted(BACKWARDS))
def test_an_interrupt_at_any_line_changes_no_grad(
    run: str, error: type[BaseException], error_at_line: Any
) -> None:
    """Interrupted at any line of backward, the grads are all as before or all as after.

    As before when the work was cut short; as after when the exception came once the work was
    done (on its way out). Then backward works. The graph is x*x + x at x = 3 (dy/dx = 7), with
    a second use of x through y * 0.5 so that interior nodes, leaves and a shared leaf are all
    in play.
    """
    x = Value(3.0, label="x")
    y = x * x + x
    z = y * 0.5 + x  # dz/dx = 0.5 * 7 + 1 = 4.5
    with_distinct_grads(z)
    BACKWARDS[run](z)
    finished = [bits(node.grad) for node in topological_order(z)]
    with_distinct_grads(z)  # each run below starts from these grads, so takes the same lines
    lines = count_lines(lambda: BACKWARDS[run](z), error_at_line)
    assert lines > 20
    cut_short = 0
    for event in range(1, lines + 1):
        with_distinct_grads(z)
        before = snapshot(z)
        with pytest.raises(error), error_at_line(event, error, in_engine):
            BACKWARDS[run](z)
        if same_grads(before):
            cut_short += 1
        else:
            assert [bits(node.grad) for node in topological_order(z)] == finished, event
        x.grad = 0.0
        BACKWARDS[run](z)
        assert x.grad == 4.5, event
    assert cut_short > lines // 2


def bits(x: Any) -> Any:
    """A grad's exact bit pattern (so -0.0 differs from 0.0); None as it is."""
    return struct.pack("<d", x) if isinstance(x, float) else x


def test_an_interrupt_inside_gradients_changes_no_grad(error_at_line: Any) -> None:
    """Interrupted at any line of gradients(), every grad is as it was."""
    x, y = x_squared_plus_x()
    lines = count_lines(lambda: gradients(y, [x]), error_at_line)
    for event in range(1, lines + 1):
        with_distinct_grads(y)
        before = snapshot(y)
        try:
            with error_at_line(event, KeyboardInterrupt, in_engine):
                gradients(y, [x])
        except KeyboardInterrupt:
            pass
        assert same_grads(before), event
    assert gradients(y, [x]) == (7.0,)


@pytest.mark.parametrize("run", sorted(BACKWARDS))
def test_a_failing_custom_partial_changes_no_grad(run: str) -> None:
    """A custom op's partials raising half-way through backward leaves every grad as it was."""
    calls = [0]

    def partials(out: float, v: float) -> tuple[float]:
        calls[0] += 1
        if calls[0] == 2:
            raise ArithmeticError("no derivative here")
        return (1.0,)

    step = define_op("flaky_step", lambda v: v, partials)
    x = Value(1.0)
    z = step(x) * 2.0 + step(x * 3.0)
    with_distinct_grads(z)
    before = snapshot(z)
    calls[0] = 0
    with pytest.raises(ArithmeticError, match=r"^flaky_step: partials raised ArithmeticError"):
        BACKWARDS[run](z)
    assert same_grads(before)


def test_a_failing_backward_under_anomaly_mode_changes_no_grad() -> None:
    """detect_anomaly stopping backward at an infinite contribution leaves every grad as it was."""
    x = Value(0.0)
    y = x.sqrt() * 2.0 + x
    with_distinct_grads(y)
    before = snapshot(y)
    with pytest.raises(FloatingPointError), autodiff.detect_anomaly():
        y.backward()
    assert same_grads(before)


def test_custom_partials_errors_name_the_op_and_the_point() -> None:
    """An error raised in a custom op's partials during backward names the op and the inputs."""
    broken = define_op("broken", lambda v: v * v, lambda out, v: (1.0 / (v - 2.0),))
    x = Value(2.0)
    with pytest.raises(
        ZeroDivisionError, match=r"^broken: partials raised ZeroDivisionError at \(2\.0\)"
    ):
        broken(x).backward()
    assert x.grad == 0.0


def test_backward_from_a_non_finite_output() -> None:
    """Backward through inf and nan follows IEEE arithmetic and raises nothing."""
    x = Value(1e308)
    y = x * 10.0  # inf
    y.backward()
    assert x.grad == 10.0
    assert math.isinf(y.data)


@pytest.mark.skipif(not hasattr(signal, "setitimer"), reason="needs POSIX interval timers")
@pytest.mark.parametrize("run", sorted(BACKWARDS))
def test_real_interrupts_at_random_moments(run: str, alarm: Callable[[float], None]) -> None:
    """A real SIGALRM interrupts backward at 300 random moments; no call leaves a half state.

    After each, either every grad is what it was before the call, or the call had finished and
    every grad is its result.

    The graph is a 3,000-node tanh chain, so a call takes long enough for the timer to land
    anywhere in it: the walk, the chain rule, the leaves' accumulation or the putting back.
    """
    rng = random.Random(5)
    x = Value(0.3, label="x")
    y = x
    for _ in range(1_500):
        y = (y * 0.9 + x).tanh()
    order = topological_order(y)
    with_distinct_grads(y)
    BACKWARDS[run](y)
    finished = [node.grad for node in order]

    interrupted = 0
    for _ in range(300):
        with_distinct_grads(y)
        before = [node.grad for node in order]
        try:
            alarm(rng.uniform(1e-5, 4e-3))
            BACKWARDS[run](y)
            alarm(0.0)
        except KeyboardInterrupt:
            interrupted += 1
        now = [node.grad for node in order]
        assert now in (before, finished)
    assert interrupted > 0
