"""One grad-mode object may be entered by several threads at once without mixing their state."""

from __future__ import annotations

import threading

from autodiff import enable_grad, is_grad_enabled, no_grad


def test_one_enable_grad_object_shared_by_two_threads() -> None:
    """Each thread restores its own earlier mode on exit, even when the threads interleave.

    Thread A enters the shared object from inside no_grad (recording off), thread B from the
    default (recording on); A enters first and leaves first. A must find recording off again.
    """
    shared = enable_grad()
    a_entered = threading.Event()
    b_entered = threading.Event()
    a_left = threading.Event()
    seen: dict[str, bool] = {}

    def thread_a() -> None:
        with no_grad():
            with shared:
                a_entered.set()
                b_entered.wait()
                seen["a inside"] = is_grad_enabled()
            seen["a after"] = is_grad_enabled()
        a_left.set()

    def thread_b() -> None:
        a_entered.wait()
        with shared:
            b_entered.set()
            a_left.wait()
            seen["b inside"] = is_grad_enabled()
        seen["b after"] = is_grad_enabled()

    threads = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert seen == {"a inside": True, "a after": False, "b inside": True, "b after": True}
