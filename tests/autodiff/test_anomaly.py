"""detect_anomaly: the first NaN or infinity, forward or backward, raises with its origin."""

from __future__ import annotations

import gc
import inspect
import math
import os
import threading
import weakref
from collections.abc import Callable

import pytest

from autodiff import Value, detect_anomaly, grad, gradients, topological_order

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
    """inf - inf makes NaN at the sub node, which raises and says its input was already inf."""
    infinite = Value(math.inf, label="a")
    with pytest.raises(FloatingPointError) as caught, detect_anomaly():
        infinite - infinite
    assert "sub produced nan from (inf, inf)" in str(caught.value)
    assert "an input was already not finite" in str(caught.value)


def test_nan_input_is_caught() -> None:
    """NaN + 1.0 (one add node with the number as its second operand) raises, naming add."""
    with pytest.raises(FloatingPointError, match="add produced nan"), detect_anomaly():
        Value(math.nan) + 1.0


def test_message_shows_number_operands_where_they_were_written() -> None:
    """For 2.0 * big the message lists the operands as written, number included: (2.0, 1e+308)."""
    big = Value(1e308, label="big")
    with pytest.raises(FloatingPointError) as caught, detect_anomaly():
        2.0 * big
    assert "mul produced inf from (2.0, 1e+308)" in str(caught.value)


def test_nan_input_to_a_binary_add_is_caught() -> None:
    """NaN + Value(1.0) is a binary add, and the message names add and both inputs."""
    message = r"add produced nan from \(nan, 1\.0\)"
    with pytest.raises(FloatingPointError, match=message), detect_anomaly():
        Value(math.nan) + Value(1.0)


def test_failed_backward_restores_every_grad_and_the_next_backward_is_right() -> None:
    """After anomaly mode stops backward mid-way, every grad is as before and the next call right.

    In y = sqrt(x) + w * w at x = 0, w = 4 backward first sends 2w = 8 into w through the
    product, then meets sqrt's infinite slope and raises. Every node must hold exactly its grad
    from before the call again (x 2.5, w 0.0, the product -0.0 with its sign, y 7.0). A later
    backward of m + x (m = w * w, shared with y) adds dw = 2w = 8 and dx = 1 on top.
    """
    x, w = Value(0.0, label="x"), Value(4.0, label="w")
    x.grad = 2.5
    m = w * w
    y = x.sqrt() + m
    m.grad, y.grad = -0.0, 7.0
    order = topological_order(y)
    before = [node.grad for node in order]
    with pytest.raises(FloatingPointError, match="backward of pow sent inf"), detect_anomaly():
        y.backward()
    assert [node.grad for node in order] == before
    assert math.copysign(1.0, m.grad) == -1.0  # -0.0 came back, not 0.0
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


def assert_not_watching() -> None:
    """Overflow forward and an infinite slope backward are silent: nothing watches this thread."""
    assert (Value(1e308) * 10).data == math.inf
    x = Value(0.0)
    x.sqrt().backward()
    assert x.grad == math.inf


def assert_a_new_context_watches() -> None:
    """A fresh detect_anomaly catches an overflow (no stale state makes it think it is nested)."""
    with pytest.raises(FloatingPointError), detect_anomaly():
        Value(1e308) * 10


def test_no_state_is_left_after_a_normal_exit() -> None:
    """After the context nothing watches the thread, and a new context watches again."""
    with detect_anomaly():
        Value(1.0) + 1.0
    assert_not_watching()
    assert_a_new_context_watches()
    assert_not_watching()


def test_no_state_is_left_after_an_exception() -> None:
    """Leaving by the FloatingPointError also stops the watch and holds no node made inside."""
    made: list[weakref.ref[Value]] = []

    def overflow_inside() -> None:
        with detect_anomaly():
            made.append(weakref.ref(Value(1.0) * 2.0))
            Value(1e308) * 10

    with pytest.raises(FloatingPointError):
        overflow_inside()
    gc.collect()  # the traceback's frames may sit in a cycle; the context must hold nothing
    assert made[0]() is None
    assert_not_watching()
    assert_a_new_context_watches()


def test_nested_contexts_keep_watching_until_the_outer_exits() -> None:
    """Leaving an inner detect_anomaly does not switch off the outer one; leaving the outer does."""
    with detect_anomaly():
        with detect_anomaly():
            Value(1.0) + 1.0
        with pytest.raises(FloatingPointError):
            Value(1e308) * 10
    assert_not_watching()


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


# ----------------------------------------------------------------------------------------------
# Issue 11, defect 7: create_graph is watched too, and the context keeps no graph alive.


def test_infinite_slope_under_create_graph_is_caught() -> None:
    """sqrt at 0 has slope +inf: backward(create_graph=True) raises at that line, changing no grad.

    Recording the backward pass makes the slope 0.5 * x ** -0.5 as nodes, so the infinity is
    caught where the pow node of x ** -0.5 is made, inside the backward call.
    """
    x = Value(0.0, label="x")
    root = x.sqrt()
    with detect_anomaly():
        line = _this_line() + 2
        with pytest.raises(FloatingPointError) as caught:
            root.backward(create_graph=True)
    message = str(caught.value)
    assert "anomaly: pow produced inf" in message
    assert f"{HERE}:{line}" in message
    assert x.grad == 0.0


def test_infinite_slope_in_gradients_with_create_graph_is_caught() -> None:
    """gradients(sqrt(x), [x], create_graph=True) at x = 0 raises instead of returning inf."""
    x = Value(0.0, label="x")
    with pytest.raises(FloatingPointError, match=r"anomaly: .*pow.* inf"), detect_anomaly():
        gradients(x.sqrt(), [x], create_graph=True)


def test_a_node_made_inside_dies_with_its_last_reference() -> None:
    """Inside the context a dropped node is freed at once: the context holds no reference to it."""
    with detect_anomaly():
        x = Value(3.0)
        node = (x * 2.0).tanh()
        dead = weakref.ref(node)
        del node
        assert dead() is None  # checked while the context is still active


@pytest.mark.usefixtures("collector_off")
def test_a_long_loop_inside_the_context_keeps_memory_flat(live_values: Callable[[], int]) -> None:
    """1,000 steps of gradient descent on (w x - t)^2 leave as many live Values as one step did.

    Each step builds a four-node graph (mul, sub, pow, and the step's x leaf), backpropagates and
    drops it; only w survives. Counted with the cycle collector off, so nothing is hidden by it.
    """
    w = Value(0.5, label="w")

    def step(x_data: float) -> None:
        x = Value(x_data)
        loss = (w * x - 2.0 * x_data) ** 2  # the target is t = 2x, so w tends to 2
        w.grad = 0.0
        loss.backward()
        w.data -= 0.01 * w.grad

    with detect_anomaly():
        step(1.0)
        after_one_step = live_values()
        for i in range(1_000):
            step(1.0 + (i % 7) / 7.0)
        assert live_values() == after_one_step
    assert 1.9 < w.data < 2.1
