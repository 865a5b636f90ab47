"""Grad mode: no_grad and enable_grad as context managers and decorators, per thread.

The thread tests interleave deterministically with ``threading.Event``: one thread sits inside
``no_grad`` while the other records, so a global (not thread-local) switch would be caught.
"""

from __future__ import annotations

import threading

import pytest

from autodiff import Value, enable_grad, is_grad_enabled, no_grad

TIMEOUT = 10.0  # seconds; only reached if a thread deadlocks, never in a passing run


def test_no_grad_context_makes_leaves() -> None:
    """Inside no_grad results are leaves with the right data; recording resumes after."""
    x = Value(3.0)
    assert is_grad_enabled()
    with no_grad():
        assert not is_grad_enabled()
        y = x * x + 1
    assert is_grad_enabled()
    assert (y.data, y.op, y.parents, y.is_leaf) == (10.0, None, (), True)
    assert (x * y).op == "mul"


def test_no_grad_results_cut_the_graph() -> None:
    """A value computed under no_grad is a constant to later backward: z = x*y + c, c = 2x."""
    x, y = Value(2.0), Value(5.0)
    with no_grad():
        c = x * 2
    z = x * y + c
    z.backward()
    assert (x.grad, y.grad, c.grad) == (5.0, 2.0, 1.0)


def test_no_grad_decorator() -> None:
    """@no_grad() makes a function's results leaves and restores recording on return."""

    @no_grad()
    def square_plus_one(v: Value) -> Value:
        assert not is_grad_enabled()
        return v * v + 1

    out = square_plus_one(Value(4.0))
    assert (out.data, out.op) == (17.0, None)
    assert is_grad_enabled()
    assert square_plus_one.__name__ == "square_plus_one"


def test_grad_mode_restored_after_an_exception() -> None:
    """An exception inside no_grad (block or decorated function) still restores recording."""
    with pytest.raises(ValueError, match="log"), no_grad():
        Value(-1.0).log()
    assert is_grad_enabled()

    @no_grad()
    def fails() -> None:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        fails()
    assert is_grad_enabled()


def test_nesting_enable_grad_inside_no_grad() -> None:
    """enable_grad inside no_grad records; leaving it returns to not recording."""
    x = Value(1.5)
    with no_grad():
        outer = x * 2
        with enable_grad():
            assert is_grad_enabled()
            inner = x * 2
            with no_grad():
                innermost = x * 2
            assert is_grad_enabled()
        after = x * 2
        assert not is_grad_enabled()
    assert [n.op for n in (outer, inner, innermost, after)] == [None, "mul", None, None]
    assert is_grad_enabled()


def test_enable_grad_decorator_inside_no_grad() -> None:
    """A function decorated with @enable_grad() records even when called under no_grad."""

    @enable_grad()
    def double(v: Value) -> Value:
        return v * 2

    x = Value(3.0)
    with no_grad():
        y = double(x)
    y.backward()
    assert (y.op, x.grad) == ("mul", 2.0)


def test_decorated_function_may_recurse() -> None:
    """A recursive @no_grad() function leaves recording on once the outermost call returns."""

    @no_grad()
    def power(v: Value, n: int) -> Value:
        return v if n == 1 else v * power(v, n - 1)

    out = power(Value(2.0), 5)
    assert (out.data, out.op) == (32.0, None)
    assert is_grad_enabled()


def test_no_grad_in_one_thread_does_not_stop_another() -> None:
    """While thread A sits inside no_grad, thread B's operations record a graph, and vice versa."""
    a_inside = threading.Event()
    b_done = threading.Event()
    results: dict[str, object] = {}

    def thread_a() -> None:
        with no_grad():
            a_inside.set()
            b_done.wait(TIMEOUT)  # B runs its operations while A is inside no_grad
            results["a"] = (Value(2.0) * 3).op
            results["a_enabled"] = is_grad_enabled()

    def thread_b() -> None:
        a_inside.wait(TIMEOUT)
        x = Value(2.0)
        y = x * 3
        y.backward()
        results["b"] = (y.op, x.grad, is_grad_enabled())
        b_done.set()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert a_inside.is_set()
    assert b_done.is_set()
    assert results == {"a": None, "a_enabled": False, "b": ("mul", 3.0, True)}


def test_new_thread_records_even_when_the_main_thread_does_not() -> None:
    """A thread started from inside no_grad begins in the default, recording mode."""
    seen: list[object] = []

    def work() -> None:
        seen.append((is_grad_enabled(), (Value(1.0) + 1).op))

    with no_grad():
        worker = threading.Thread(target=work)
        worker.start()
        worker.join(TIMEOUT)
        assert not is_grad_enabled()
    assert seen == [(True, "add")]


def test_decorated_function_in_two_threads_at_once() -> None:
    """Two threads inside the same @no_grad() function do not restore each other's mode early."""
    barrier = threading.Barrier(2, timeout=TIMEOUT)
    first_left = threading.Event()
    results: dict[str, object] = {}

    @no_grad()
    def hold(name: str) -> None:
        barrier.wait()  # both threads are inside the decorated function
        if name == "second":
            first_left.wait(TIMEOUT)  # the first thread has returned and restored its mode
            results[name] = (Value(1.0) * 2).op
        else:
            results[name] = (Value(1.0) * 2).op

    def first() -> None:
        hold("first")
        first_left.set()
        results["first_after"] = (Value(1.0) * 2).op

    threads = [threading.Thread(target=first), threading.Thread(target=hold, args=("second",))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert results == {"first": None, "second": None, "first_after": "mul"}
