"""The tape against the eager engine on random graphs: bitwise for Python, equal for numpy.

Graphs are drawn by hypothesis: a random program (every op-table row, numbers in operations,
reuse of a node, long sums) is applied to several samples and the results summed, so the graph
has the repeated per-sample shape the numpy backend groups. The eager reference for new
numbers is the same graph rebuilt node by node with ``autodiff.engine.apply`` on the new leaf
values, then ``backward``: the engine's own arithmetic, independent of the tape.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodiff import Tape, Value, define_op, topological_order
from autodiff.engine import apply

UNARY = ("neg", "exp", "log", "sigmoid", "tanh", "relu", "abs", "sin", "cos", "square", "cube")
BINARY = ("add", "sub", "mul", "div", "pow_value", "add_number", "number_mul", "number_div")
EXPONENTS = (2.0, 3.0, 0.5, -1.0, 0.0, 1.5)

hinge = define_op(
    "hinge_for_tape_tests",
    lambda x, y: max(0.0, x - y),
    lambda out, x, y: (1.0, -1.0) if x > y else (0.0, 0.0),
)


def _safe_step(kind: str, a: Value, b: Value, number: float) -> Value:
    """Apply one step, replaced by a safe one where the numbers are outside the op's domain."""
    x, y = a.data, b.data
    if abs(x) > 30 or abs(y) > 30:
        return a.tanh()
    if kind == "neg":
        return -a
    if kind == "exp":
        return a.exp()
    if kind == "log":
        return a.log() if x > 0.1 else a * number
    if kind in ("sigmoid", "tanh", "relu", "sin", "cos"):
        return getattr(a, kind)()
    if kind == "abs":
        return abs(a)
    if kind == "square":
        return a**2
    if kind == "cube":
        return a ** EXPONENTS[int(abs(number) * 10) % len(EXPONENTS)] if x > 0.1 else a**3
    if kind == "add":
        return a + b
    if kind == "sub":
        return a - b
    if kind == "mul":
        return a * b
    if kind == "div":
        return a / b if abs(y) > 0.1 else a - b
    if kind == "pow_value":
        return a**b if 0.1 < x < 5 and abs(y) < 3 else a * b
    if kind == "add_number":
        return number + a
    if kind == "number_mul":
        return a * number
    if kind == "number_div":
        return number / a if abs(x) > 0.1 else a / number
    if kind == "hinge":
        return hinge(a, b)
    raise AssertionError(kind)


Program = list[tuple[str, int, int, float]]


def _run(program: Program, leaves: Sequence[Value]) -> Value:
    nodes = list(leaves)
    for kind, i, j, number in program:
        nodes.append(_safe_step(kind, nodes[i % len(nodes)], nodes[j % len(nodes)], number))
    return nodes[-1]


@st.composite
def graphs(draw: Any) -> tuple[list[Value], list[Value], Callable[[], Value]]:
    """Parameters, inputs and a function building the loss: a sum over samples of a program."""
    numbers = st.floats(-2.0, 2.0, allow_nan=False).filter(lambda v: abs(v) > 0.05)
    params = [Value(draw(numbers), label=f"p{k}") for k in range(draw(st.integers(1, 3)))]
    inputs = [Value(draw(numbers), label=f"x{k}") for k in range(draw(st.integers(0, 2)))]
    kinds = st.sampled_from((*UNARY, *BINARY, "hinge"))
    step = st.tuples(kinds, st.integers(0, 50), st.integers(0, 50), numbers)
    program = draw(st.lists(step, min_size=1, max_size=12))
    samples = [draw(numbers) for _ in range(draw(st.integers(1, 6)))]

    def build() -> Value:
        per_sample = [_run(program, [*params, *inputs, Value(s) * 1.0]) for s in samples]
        total = sum(per_sample[1:], per_sample[0])
        return total * 0.5 if len(per_sample) % 2 else total

    return params, inputs, build


def _in_graph(inputs: list[Value], loss: Value) -> list[Value]:
    """The inputs the program used: a tape refuses an input that is not in its graph."""
    used = set(topological_order(loss))
    return [x for x in inputs if x in used]


def _rebuild(loss: Value, leaf_data: dict[Value, float]) -> tuple[Value, dict[Value, Value]]:
    """The graph under ``loss`` made again with ``apply``, its leaves given new numbers."""
    copies: dict[Value, Value] = {}
    for node in topological_order(loss):
        if node.op is None:
            copies[node] = Value(leaf_data.get(node, node.data))
        else:
            operands = [copies[x] if isinstance(x, Value) else x for x in node.operands]
            copies[node] = apply(node.op, *operands)
    return copies[loss], copies


def _eager(loss: Value, leaf_data: dict[Value, float], seed: float) -> tuple[float, list[float]]:
    copy, copies = _rebuild(loss, leaf_data)
    copy.backward(seed)
    leaves = [n for n in topological_order(loss) if n.op is None]
    return copy.data, [copies[leaf].grad for leaf in leaves]


def _same(a: float, b: float, exact: bool) -> bool:
    if exact:
        return repr(a) == repr(b)
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b  # numpy: the same number, up to the sign of a zero


@pytest.mark.parametrize("backend", ["python", "numpy"])
@settings(max_examples=60, deadline=None)
@given(case=graphs(), seeds=st.lists(st.sampled_from([1.0, -2.5, 0.375]), min_size=2, max_size=3))
def test_tape_matches_eager_on_random_graphs(backend, case, seeds):
    """Value and every live leaf's gradient equal eager's (numpy: up to the sign of a zero).

    With non-unit upstream gradients, repeated calls, new parameters and new inputs.
    """
    params, drawn, build = case
    loss = build()
    inputs = _in_graph(drawn, loss)
    tape = Tape(loss, inputs=inputs, backend=backend)
    assert tape.backend == backend
    exact = backend == "python"
    live = list(tape.parameters)
    for call, seed in enumerate(seeds):
        new_inputs = [x.data + 0.25 * call for x in inputs]
        for k, p in enumerate(params):
            p.data = p.data + 0.01 * (call + k)
        data = {**{p: p.data for p in live}, **dict(zip(inputs, new_inputs, strict=True))}
        try:
            expected_value, expected_grads = _eager(loss, data, seed)
        except (ValueError, ZeroDivisionError, OverflowError) as error:
            with pytest.raises(type(error)):
                tape.forward(new_inputs)
            return
        for p in live:
            p.grad = 0.0
        assert _same(tape.forward(new_inputs), expected_value, exact)
        tape.backward(seed)
        leaves = [n for n in topological_order(loss) if n.op is None]
        by_leaf = dict(zip(leaves, expected_grads, strict=True))
        for p in live:
            assert _same(p.grad, by_leaf[p], exact), (p.label, p.grad, by_leaf[p])
    # The graph had the shape the numpy backend groups, so its fast path must have run.
    if math.isfinite(expected_value):
        assert tape.reference_replays == 0


@pytest.mark.parametrize("backend", ["python", "numpy"])
@settings(max_examples=30, deadline=None)
@given(case=graphs(), before=st.sampled_from([None, 0.0, 1.5, -0.25]))
def test_tape_backward_accumulates_like_eager(backend, case, before):
    """Two tape backward calls leave what two loss.backward() calls leave, from any grad.

    A starting grad of None counts as zero, as in the engine.
    """
    _, drawn, build = case
    loss = build()
    tape = Tape(loss, inputs=_in_graph(drawn, loss), backend=backend)
    for p in tape.parameters:
        p.grad = before
    loss.backward()
    loss.backward(2.0)
    expected = [p.grad for p in tape.parameters]
    for p in tape.parameters:
        p.grad = before
    tape.forward()
    tape.backward()
    tape.backward(2.0)
    for p, want in zip(tape.parameters, expected, strict=True):
        assert _same(p.grad, want, backend == "python"), (p.label, p.grad, want)
