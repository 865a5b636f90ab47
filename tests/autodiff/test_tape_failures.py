"""The tape when things go wrong: a failed or interrupted call changes nothing, or says so.

``backward`` is all or nothing, as ``loss.backward()`` is: an error or a Ctrl-C leaves every grad
as it was. A ``forward`` that raises or is interrupted keeps the inputs of the last one that
succeeded, and ``backward`` refuses until a forward succeeds again. Every expected gradient here
comes from the eager engine (``loss.backward()``) on the same graph.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import autodiff.tape
from autodiff import Tape, Value

BACKENDS = ("python", "numpy")


def in_tape(filename: str) -> bool:
    """The tape's module or the code it generates."""
    return filename == autodiff.tape.__file__ or filename.startswith("<tape ")


def _eager_grads(loss: Value, leaves: list[Value], before: list[object]) -> list[object]:
    """The grads ``loss.backward()`` leaves on ``leaves`` when they held ``before``."""
    for leaf, grad in zip(leaves, before, strict=True):
        leaf.grad = grad
    loss.backward()
    result = [leaf.grad for leaf in leaves]
    for leaf, grad in zip(leaves, before, strict=True):
        leaf.grad = grad
    return result


@pytest.mark.parametrize("backend", BACKENDS)
def test_backward_is_all_or_nothing_under_real_interrupts(
    backend: str, alarm: Callable[[float], None]
) -> None:
    """A real SIGALRM lands at 300 random moments of tape.backward(); no call half-writes.

    After each, either every leaf's grad is what it was before the call, or the call finished
    and every grad is what ``loss.backward()`` gives. Many leaves (600, in groups numpy keeps
    together), so that the moment can fall in the replay, the sums or the writing of the grads.
    """
    rng = random.Random(11)
    ws = [Value(rng.uniform(-1.0, 1.0), label=f"w{k}") for k in range(600)]
    loss = sum(w * w * float(k % 7 + 1) for k, w in enumerate(ws))
    tape = Tape(loss, backend=backend)
    tape.forward()
    before: list[object] = [[-0.0, None, 5.5, 0.0, 1.25][k % 5] for k in range(len(ws))]
    finished = _eager_grads(loss, ws, before)

    interrupted = 0
    for _ in range(300):
        for w, grad in zip(ws, before, strict=True):
            w.grad = grad
        try:
            alarm(rng.uniform(1e-5, 1.5e-3))
            tape.backward()
            alarm(0.0)
        except KeyboardInterrupt:
            interrupted += 1
        now = [w.grad for w in ws]
        assert now in (before, finished)
    assert interrupted > 0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("count", [2, 30])
@pytest.mark.parametrize("error", [KeyboardInterrupt, MemoryError])
def test_backward_is_all_or_nothing_at_every_line(
    backend: str, count: int, error: type[BaseException], error_at_line: Any
) -> None:
    """An error raised at each line tape.backward() runs, in turn, leaves every grad as it was.

    Two leaves (the numpy replay then adds into them itself) and thirty (the tape does it).
    """
    ws = [Value(0.1 * (k + 1), label=f"w{k}") for k in range(count)]
    loss = sum((w * float(s) - 1.0) ** 2 for s in range(8) for w in ws)
    tape = Tape(loss, backend=backend)
    tape.forward()
    before: list[object] = [[1.25, None, 0.0, -0.0, 5.5][k % 5] for k in range(count)]
    finished = _eager_grads(loss, ws, before)
    with error_at_line(-1, error, in_tape) as seen:
        tape.backward()
    lines = seen[0]
    assert lines > 5
    for event in range(1, lines + 1):
        for w, grad in zip(ws, before, strict=True):
            w.grad = grad
        with pytest.raises(error, match="injected"), error_at_line(event, error, in_tape):
            tape.backward()
        assert [w.grad for w in ws] == before, event
    tape.backward()
    assert [w.grad for w in ws] == finished


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("bad", ["abc", [1.0], np.array([1.0, 2.0])], ids=["str", "list", "array"])
def test_backward_with_a_grad_that_is_no_number_changes_no_grad(backend: str, bad: object) -> None:
    """A str, list or array in a later leaf's grad is a TypeError naming it; no grad changes."""
    a, b = Value(1.0, label="a"), Value(2.0, label="b")
    tape = Tape(a * b + b * 3.0, backend=backend)
    a.grad, b.grad = 5.0, bad
    with pytest.raises(TypeError, match=r"tape\.backward: 'b'\.grad is a"):
        tape.backward()
    assert a.grad == 5.0
    assert b.grad is bad


@pytest.mark.parametrize("backend", BACKENDS)
def test_backward_adds_into_numpy_grads_in_float64_as_eager_does(backend: str) -> None:
    """A grad set to a float16 is taken as a float64 before adding, as loss.backward() does."""
    w = Value(1.0, label="w")
    loss = w * 19.000001
    w.grad = np.float16(1.0)
    loss.backward()
    expected = w.grad
    assert expected == 20.000001  # 1.0 + 19.000001 in float64, not float16's 20.0
    w.grad = np.float16(1.0)
    Tape(loss, backend=backend).backward()
    assert w.grad == expected
    assert type(w.grad) is float


def _log_model(backend: str) -> tuple[Tape, Value, Value, list[Value], Value]:
    """sum over 20 inputs of log(w x + b): a log of a negative w x + b is a domain error."""
    w, b = Value(0.5, label="w"), Value(0.1, label="b")
    xs = [Value(float(k + 1), label=f"x{k}") for k in range(20)]
    loss = sum((w * x + b).log() for x in xs)
    return Tape(loss, inputs=xs, backend=backend), w, b, xs, loss


def _eager_log_grads(w: Value, b: Value, numbers: list[float]) -> tuple[float, float]:
    """d/dw and d/db of sum log(w x + b) at these inputs, by a fresh eager graph."""
    w2, b2 = Value(w.data), Value(b.data)
    sum((w2 * x + b2).log() for x in numbers).backward()
    return w2.grad, b2.grad


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_failed_forward_keeps_the_inputs_and_backward_refuses(backend: str) -> None:
    """After a forward that raised, backward is a RuntimeError and sync uses the last good inputs.

    Once a forward succeeds again, backward gives that forward's gradients.
    """
    tape, w, b, xs, _ = _log_model(backend)
    good = [float(k + 1) for k in range(20)]
    bad = [-1.0] + [3.0 * (k + 1) for k in range(19)]
    tape.forward(good)
    with pytest.raises(ValueError, match="log"):
        tape.forward(bad)
    w.grad = b.grad = 0.0
    with pytest.raises(RuntimeError, match="last forward failed"):
        tape.backward()
    assert (w.grad, b.grad) == (0.0, 0.0)
    with pytest.raises(RuntimeError, match="last forward failed"):
        tape.watched()
    tape.sync()  # the inputs of the last forward that succeeded, not the rejected ones
    assert [x.data for x in xs] == good
    tape.forward(good)
    tape.backward()
    assert (w.grad, b.grad) == pytest.approx(_eager_log_grads(w, b, good), rel=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_argument_error_in_forward_changes_nothing(backend: str) -> None:
    """A forward refused for its arguments leaves the tape as it was: backward still works."""
    tape, w, b, _, _ = _log_model(backend)
    numbers = [float(k + 2) for k in range(20)]
    tape.forward(numbers)
    with pytest.raises(ValueError, match="20 input"):
        tape.forward([1.0])
    tape.backward()
    assert (w.grad, b.grad) == pytest.approx(_eager_log_grads(w, b, numbers), rel=1e-12)


@pytest.mark.parametrize("backend", BACKENDS)
def test_an_interrupted_forward_never_leads_to_wrong_gradients(
    backend: str, alarm: Callable[[float], None]
) -> None:
    """A real SIGALRM lands at 200 random moments of forward; backward is then right or refuses.

    Forwards alternate between two sets of inputs. After an interrupted one, backward gives
    either the gradients at the inputs of the forward before it (the interrupt came before the
    replay began), or at the new ones (it came after the forward finished), or refuses.
    """
    rng = random.Random(3)
    w, b = Value(0.5, label="w"), Value(0.1, label="b")
    xs = [Value(1.0, label=f"x{k}") for k in range(300)]
    loss = sum((w * x + b).log() * x for x in xs)
    tape = Tape(loss, inputs=xs, backend=backend)
    inputs = [[1.0 + (k % 13) for k in range(300)], [2.0 + (k % 5) for k in range(300)]]

    def eager(numbers: list[float]) -> tuple[float, float]:
        w2, b2 = Value(w.data), Value(b.data)
        sum((w2 * x + b2).log() * x for x in numbers).backward()
        return w2.grad, b2.grad

    expected = [eager(numbers) for numbers in inputs]
    tape.forward(inputs[0])
    interrupted = refused = 0
    for trial in range(200):
        new = inputs[(trial + 1) % 2]
        try:
            alarm(rng.uniform(1e-5, 1e-3))
            tape.forward(new)
            alarm(0.0)
        except KeyboardInterrupt:
            interrupted += 1
        w.grad = b.grad = 0.0
        try:
            tape.backward()
        except RuntimeError:
            refused += 1
            assert (w.grad, b.grad) == (0.0, 0.0)
            tape.forward(new)
            continue
        now = (w.grad, b.grad)
        assert any(now == pytest.approx(grads, rel=1e-12) for grads in expected)
    assert interrupted > 0
