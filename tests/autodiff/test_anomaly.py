"""detect_anomaly: the first NaN or infinity, forward or backward, raises with its origin."""

from __future__ import annotations

import inspect
import math
import os
import threading
from typing import Any

import pytest

from autodiff import Value, detect_anomaly, engine, grad
from autodiff import anomaly as anomaly_module

HERE = os.path.basename(__file__)


def _this_line() -> int:
    """The caller's current line number."""
    frame = inspect.currentframe()
    assert frame is not None
    assert frame.f_back is not None
    return frame.f_back.f_lineno


def test_overflow_in_forward_names_the_op_and_the_line() -> None:
    """1e308 * 10 overflows to inf silently; in anomaly mode it raises at the mul, at this line."""
    big = Value(1e308, label="big")
    with detect_anomaly():
        line = _this_line() + 2
        with pytest.raises(FloatingPointError) as caught:
            big * 10
    message = str(caught.value)
    assert "mul" in message
    assert "inf" in message
    assert f"{HERE}:{line}" in message


def test_silent_overflow_without_anomaly_mode() -> None:
    """Outside the context the same product is silently inf (what the mode exists to catch)."""
    assert (Value(1e308) * 10).data == math.inf


def test_inf_minus_inf_is_caught() -> None:
    """inf - inf makes NaN; the first op that meets the infinity (the neg of a - b) raises."""
    infinite = Value(math.inf, label="a")
    with pytest.raises(FloatingPointError) as caught, detect_anomaly():
        infinite - infinite
    assert "neg produced -inf from (inf)" in str(caught.value)
    assert "an input was already not finite" in str(caught.value)


def test_nan_input_is_caught() -> None:
    """NaN + 1.0 (the number rides on an add_const node) raises, naming add_const."""
    with pytest.raises(FloatingPointError, match="add_const produced nan"), detect_anomaly():
        Value(math.nan) + 1.0


def test_nan_input_to_a_binary_add_is_caught() -> None:
    """NaN + Value(1.0) is a binary add, and the message names add and both inputs."""
    message = r"add produced nan from \(nan, 1\.0\)"
    with pytest.raises(FloatingPointError, match=message), detect_anomaly():
        Value(math.nan) + Value(1.0)


def test_failed_backward_leaves_no_marks_and_restores_leaves() -> None:
    """After anomaly mode stops backward mid-way, leaves hold their old grads and no node a mark.

    In y = sqrt(x) + w * w at x = 0, w = 4 backward first sends 2w = 8 into w through the
    product, then meets sqrt's infinite slope and raises. x held 2.5 and w held 0.0 before, and
    must hold exactly that again. A later backward of m + x (m = w * w, shared with y) adds
    dw = 2w = 8 and dx = 1 on top.
    """
    x, w = Value(0.0, label="x"), Value(4.0, label="w")
    x.grad = 2.5
    m = w * w
    y = x.sqrt() + m
    with pytest.raises(FloatingPointError, match="backward of pow sent inf"), detect_anomaly():
        y.backward()
    for node in engine.topological_order(y):
        assert node.grad is not engine._EXPANDED
        assert node.grad is not engine._EMITTED
    assert (x.grad, w.grad) == (2.5, 0.0)
    (m + x).backward()
    assert (x.grad, w.grad) == (3.5, 8.0)


def test_backward_infinity_names_the_op_and_where_it_was_created() -> None:
    """sqrt at 0 has slope +inf: backward raises naming pow, input 'x' and the creating line."""
    x = Value(0.0, label="x")
    with detect_anomaly():
        line = _this_line() + 1
        root = x.sqrt()
        with pytest.raises(FloatingPointError) as caught:
            root.backward()
    message = str(caught.value)
    assert "backward of pow sent inf to its input 0 'x'" in message
    assert f"{HERE}:{line}" in message


def test_backward_nan_is_caught() -> None:
    """0 * sqrt(0): forward 0, but backward sends 0 * inf = nan into x."""
    x = Value(0.0, label="x")
    with detect_anomaly():
        y = x.sqrt() * 0.0
        with pytest.raises(FloatingPointError, match="backward of pow sent nan"):
            y.backward()


def test_backward_of_a_node_made_before_the_context() -> None:
    """A node created outside the context has no recorded line; the message says so."""
    x = Value(0.0, label="x")
    root = x.sqrt()
    with pytest.raises(FloatingPointError, match="created before detect_anomaly"), detect_anomaly():
        root.backward()


def test_finite_computations_are_unchanged() -> None:
    """In anomaly mode d/dx (x tanh x) = tanh x + x (1 - tanh^2 x) as usual, at x = 0.5."""
    x = Value(0.5)
    with detect_anomaly():
        y = x * x.tanh()
        y.backward()
    t = math.tanh(0.5)
    assert y.data == 0.5 * t
    assert x.grad == pytest.approx(t + 0.5 * (1 - t * t), rel=1e-15)


def test_higher_order_inside_anomaly_mode() -> None:
    """grad(grad) still works under the observer: d2/dx2 x^3 = 6x = 12 at 2."""
    with detect_anomaly():
        assert grad(grad(lambda x: x**3))(2.0) == 12.0


def test_no_state_is_left_after_a_normal_exit() -> None:
    """After the context, no observer is installed and overflow is silent again."""
    with detect_anomaly():
        Value(1.0) + 1.0
    assert engine._mode.observer is None
    assert anomaly_module._active.observer is None
    assert (Value(1e308) * 10).data == math.inf


def test_no_state_is_left_after_an_exception() -> None:
    """Leaving by the FloatingPointError also uninstalls the observer and forgets the nodes."""
    seen: list[Any] = []

    def overflow_inside() -> None:
        with detect_anomaly():
            observer = anomaly_module._active.observer
            seen.append(observer)
            Value(1.0) * 2.0
            seen.append(len(observer.locations) if observer else -1)
            Value(1e308) * 10

    with pytest.raises(FloatingPointError):
        overflow_inside()
    observer, remembered = seen
    assert remembered == 1  # one node was recorded while the context was active
    assert observer.locations == {}
    assert engine._mode.observer is None
    assert (Value(1e308) * 10).data == math.inf


def test_nested_contexts_keep_watching_until_the_outer_exits() -> None:
    """Leaving an inner detect_anomaly does not switch off the outer one."""
    with detect_anomaly():
        with detect_anomaly():
            Value(1.0) + 1.0
        with pytest.raises(FloatingPointError):
            Value(1e308) * 10
    assert engine._mode.observer is None


def test_anomaly_mode_is_per_thread() -> None:
    """Another thread's overflow stays silent while this thread is in anomaly mode."""
    results: list[float] = []

    def worker() -> None:
        results.append((Value(1e308) * 10).data)

    with detect_anomaly():
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
    assert results == [math.inf]
