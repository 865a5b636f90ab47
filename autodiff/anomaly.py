"""Anomaly mode: stop at the first operation or backward step that produces NaN or infinity.

This module owns ``detect_anomaly``, a context manager that watches every node created and
every gradient contribution sent during backward in the current thread, and raises
FloatingPointError at the first non-finite number, naming the operation and the line of user
code that created the node. Float arithmetic overflows to ``inf`` (``1e308 * 10``) and makes
``nan`` (``inf - inf``) silently; this is how to find where. It does not change any result and
costs nothing outside the context: the engine only calls the observer while one is installed
(``autodiff.mode.observing``).

Example:
    >>> from autodiff import Value
    >>> with detect_anomaly():  # doctest: +ELLIPSIS
    ...     Value(1e308) * Value(10.0)
    Traceback (most recent call last):
    ...
    FloatingPointError: anomaly: mul produced inf from (1e+308, 10.0), created at ...
"""

from __future__ import annotations

import math
import os
import sys
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, Final

from autodiff.engine import Value
from autodiff.mode import observing
from autodiff.ops import data_of

__all__ = ["detect_anomaly"]

# This file lives in the package directory; frames from files under it are autodiff's own.
_PACKAGE_DIRECTORY: Final = os.path.dirname(os.path.abspath(__file__)) + os.sep


class _Active(threading.local):
    """The observer of the current thread's outermost ``detect_anomaly``, if any."""

    observer: _AnomalyObserver | None = None


_active: Final = _Active()


def _user_location() -> str:
    """``file:line`` of the innermost frame outside the autodiff package."""
    frame: FrameType | None = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not os.path.abspath(filename).startswith(_PACKAGE_DIRECTORY):
            return f"{filename}:{frame.f_lineno}"
        frame = frame.f_back
    return "<unknown location>"


def _describe(node: Value) -> str:
    name = node.op.name if node.op is not None else "leaf"
    return f"{name} node {node.label!r}" if node.label else name


class _AnomalyObserver:
    """Checks every new node and every backward contribution; remembers where nodes came from."""

    def __init__(self) -> None:
        # Weak keys: the record of where a node was made goes when the node does, so a long
        # loop inside detect_anomaly keeps no graph alive.
        self.locations: weakref.WeakKeyDictionary[Value, str] = weakref.WeakKeyDictionary()

    def on_create(self, node: Value) -> None:
        location = _user_location()
        self.locations[node] = location
        if not math.isfinite(node.data):
            # The operands as the user wrote them, in order: Values' data and plain numbers
            # (the 10 in ``x * 10``).
            operands = [data_of(x) for x in node.operands]
            inputs = ", ".join(repr(operand) for operand in operands)
            hint = (
                "; an input was already not finite (made outside detect_anomaly, or given as data)"
                if not all(math.isfinite(operand) for operand in operands)
                else ""
            )
            raise FloatingPointError(
                f"anomaly: {_describe(node)} produced {node.data!r} from ({inputs}), "
                f"created at {location}{hint}"
            )

    def on_backward(self, node: Value, parent: Value, local: Any) -> None:
        # In numbers, also under create_graph: multiplying the Values would record a node.
        value = data_of(node.grad) * data_of(local)
        if math.isfinite(value):
            return
        location = self.locations.get(node, "<created before detect_anomaly>")
        index = node.parents.index(parent)
        name = f" {parent.label!r}" if parent.label else ""
        raise FloatingPointError(
            f"anomaly: backward of {_describe(node)} sent {value!r} to its input {index}{name} "
            f"(data {parent.data!r}; upstream gradient {node.grad!r}), node created at {location}"
        )


@contextmanager
def detect_anomaly() -> Iterator[None]:
    """Raise FloatingPointError at the first NaN or infinity made in this thread.

    Inside the context every operation's result and every gradient contribution in
    ``backward`` is checked. The error names the operation, its inputs, and the ``file:line``
    of the code outside autodiff that created the node. Nodes are slower to make while it is
    active (each records where it was created); everything it recorded is dropped when the
    context exits, normally or by an exception. Other threads are not affected; nesting is
    allowed.

    Yields:
        Nothing; use it as ``with detect_anomaly(): ...``.

    Example:
        >>> from autodiff import Value
        >>> big = Value(1e308, label="big")
        >>> with detect_anomaly():  # doctest: +ELLIPSIS
        ...     difference = big * 10 - big * 10
        Traceback (most recent call last):
        ...
        FloatingPointError: anomaly: mul produced inf from (1e+308, 10.0), created at ...
        >>> with detect_anomaly():  # doctest: +ELLIPSIS
        ...     root = Value(0.0, label="x").sqrt()
        ...     root.backward()
        Traceback (most recent call last):
        ...
        FloatingPointError: anomaly: backward of pow sent inf to its input 0 'x' (data 0.0; ...
    """
    if _active.observer is not None:  # nested: the outer context already watches everything
        yield
        return
    observer = _AnomalyObserver()
    _active.observer = observer
    try:
        with observing(observer):
            yield
    finally:
        _active.observer = None
        observer.locations.clear()
