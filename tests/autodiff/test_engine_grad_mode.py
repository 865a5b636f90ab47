"""Grad mode: no_grad and enable_grad as context managers and decorators, per thread.

The thread tests interleave deterministically with ``threading.Event``: one thread sits inside
``no_grad`` while the other records, so a global (not thread-local) switch would be caught.
"""

from __future__ import annotations

import threading

import pytest

from autodiff import Value, detect_anomaly, enable_grad, engine, is_grad_enabled, no_grad

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
    assert [n.op for n in (outer, inner, innermost, after)] == [None, "mul_const", None, None]
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
    assert (y.op, x.grad) == ("mul_const", 2.0)


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
    assert results == {"a": None, "a_enabled": False, "b": ("mul_const", 3.0, True)}


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
    assert seen == [(True, "add_const")]


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
    assert results == {"first": None, "second": None, "first_after": "mul_const"}


def test_special_thread_count_returns_to_zero_after_threads_leave_no_grad() -> None:
    """Four threads inside (nested) no_grad count once each; after they leave, all is fast again.

    While they wait inside, ``_all_fast`` is False, so every thread reads its own mode: the main
    thread still records, and a worker's enable_grad region records too. One worker leaves by
    an exception, which must restore its mode all the same.
    """
    assert (engine._special_threads, engine._all_fast) == (0, True)
    workers = 4
    inside = threading.Barrier(workers + 1, timeout=TIMEOUT)
    release = threading.Event()
    recorded: dict[int, object] = {}

    def work(k: int) -> None:
        try:
            # Nested no_grad in one thread: it still counts as one special thread.
            with no_grad(), no_grad():
                with enable_grad():
                    recorded[k] = (Value(1.0) * Value(2.0)).op
                inside.wait()
                release.wait(TIMEOUT)
                if k == 0:
                    raise RuntimeError("leaving no_grad by an exception")
        except RuntimeError:
            pass

    threads = [threading.Thread(target=work, args=(k,)) for k in range(workers)]
    for t in threads:
        t.start()
    inside.wait()
    during = (engine._special_threads, engine._all_fast, (Value(1.0) * Value(2.0)).op)
    release.set()
    for t in threads:
        t.join(TIMEOUT)
    assert during == (workers, False, "mul")
    assert recorded == dict.fromkeys(range(workers), "mul")
    assert (engine._special_threads, engine._all_fast) == (0, True)


def test_special_thread_count_covers_anomaly_mode_and_many_rounds() -> None:
    """Threads entering no_grad and detect_anomaly over and over leave the count at zero."""
    rounds = 50
    seen: dict[int, list[object]] = {}

    def work(k: int) -> None:
        ops: list[object] = []
        for _ in range(rounds):
            if k % 2:
                with no_grad():
                    ops.append((Value(1.0) + 1.0).op)
            else:
                with detect_anomaly(), no_grad():
                    ops.append((Value(1.0) + 1.0).op)
                with detect_anomaly():
                    ops.append((Value(1.0) + 1.0).op)
        seen[k] = ops

    threads = [threading.Thread(target=work, args=(k,)) for k in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    for k in range(6):
        assert seen[k] == ([None] * rounds if k % 2 else [None, "add_const"] * rounds), k
    assert (engine._special_threads, engine._all_fast) == (0, True)
    assert (Value(1.0) + 1.0).op == "add_const"
