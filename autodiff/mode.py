"""Grad mode: whether operations record a graph, and who watches them, per thread.

This module owns three per-thread switches and nothing else:

* *recording*: ``no_grad`` turns it off, ``enable_grad`` back on; ``is_grad_enabled`` reads it.
* *the observer*: one object told about every node made and every chain-rule step, installed
  with ``observing`` (``autodiff.anomaly`` uses it to catch NaN and infinity).
* *lenient*: set by the engine while it evaluates derivative rules on Values, so that a
  derivative that is infinite at a point (sqrt at 0) comes out ``inf``, as IEEE arithmetic and
  PyTorch give, instead of raising a domain error from inside backward.

Each switch is per thread: ``no_grad`` in one thread never changes what another records.

Example:
    >>> from autodiff import Value
    >>> x = Value(3.0)
    >>> with no_grad():
    ...     y = x * x
    >>> y.is_leaf, is_grad_enabled()
    (True, True)
"""

from __future__ import annotations

import functools
import inspect
import signal
import threading
from collections.abc import Callable, Generator, Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

if TYPE_CHECKING:
    from autodiff.engine import Value

__all__ = [
    "GraphObserver",
    "deferred_signals",
    "enable_grad",
    "is_grad_enabled",
    "is_observed",
    "no_grad",
    "observing",
    "restore",
    "switch",
]

_F = TypeVar("_F", bound=Callable[..., Any])


class GraphObserver(Protocol):
    """Told about every node made and every chain-rule step while it is installed."""

    def on_create(self, node: Value) -> None:
        """Called with each new node made by an operation, right after its data is computed."""

    def on_backward(self, node: Value, parent: Value, local: Any) -> None:
        """Called after the chain rule added ``node.grad * local`` into ``parent.grad``."""


class _State(threading.local):
    """The switches of one thread; ``__init__`` runs once in every thread that reads them.

    The engine reads the attributes; they are changed only through ``change``, which keeps
    ``plain`` and the count of special threads right.
    """

    def __init__(self) -> None:
        self.recording = True
        self.observer: GraphObserver | None = None
        self.lenient = False
        self.plain = True  # recording, no observer, not lenient: the common case
        self.saved: list[bool] = []  # what each active no_grad/enable_grad replaced

    def change(self, name: str, value: Any) -> None:
        """Set the switch ``name`` to ``value``.

        The count of special threads goes up before a switch changes and down only after, and
        ``plain`` turns False first: were a change ever cut short (where signals cannot be
        held back, see ``deferred_signals``), the engine would take its slower path, which
        reads every switch, never the fast one wrongly.
        """
        global special_threads
        if self.plain:
            with _lock:
                special_threads += 1
            self.plain = False
        setattr(self, name, value)
        if self.recording and self.observer is None and not self.lenient:
            self.plain = True
            with _lock:
                special_threads -= 1


state = _State()
"""The current thread's switches. The engine reads them; everyone else uses the functions."""

special_threads = 0
"""How many threads are not plain. While none is, the engine reads this one module global
instead of the thread's own switches: every operation asks, and a global is the cheaper read."""

_lock = threading.Lock()

# Asynchronous signals, whose Python handlers may raise at any instruction (Ctrl-C's
# KeyboardInterrupt, an alarm): not the ones a fault raises in the very instruction at fault.
_HELD: frozenset[int] = frozenset(
    int(number)
    for number in (signal.valid_signals() if hasattr(signal, "pthread_sigmask") else ())
    if getattr(number, "name", "")
    not in ("SIGSEGV", "SIGBUS", "SIGFPE", "SIGILL", "SIGABRT", "SIGTRAP", "SIGSYS")
)

# ``signal.pthread_sigmask`` turns each number of the mask it returns into a ``Signals`` enum,
# which costs about 30 microseconds a call (a tenth of a small training step); the function it
# wraps returns plain numbers.
_sigmask: Callable[[int, Iterable[int]], set[int]]
try:
    from _signal import pthread_sigmask as _sigmask  # type: ignore[import-not-found,no-redef]
except ImportError:  # pragma: no cover - other Pythons, or platforms without the function
    _sigmask = getattr(signal, "pthread_sigmask", None)  # type: ignore[assignment]


@contextmanager
def deferred_signals() -> Iterator[None]:
    """Hold Ctrl-C and other asynchronous signals until the block ends.

    A handler that raises (KeyboardInterrupt) then runs only after the block, so the block is
    never stopped half-way: grad mode is never left half-switched, and a backward either
    finishes or has not started when the interrupt arrives. Where the platform cannot hold
    signals (Windows) this does nothing, and the engine's own rollback is the only guard. In a
    process with several threads (a Jupyter kernel, a pytest-xdist worker) the operating system
    may hand Ctrl-C to another thread, and Python raises it in this one all the same: there
    holding back is best effort, and only the rollback of grads is sure.
    Blocks nest: an inner one releases nothing that an outer one holds.

    Example:
        >>> with deferred_signals():
        ...     pass
    """
    if not _HELD:
        yield
        return
    # Release exactly what this block held: the signals not held already when it began. Until
    # that is known (a signal can arrive at any instruction), assume all were, and release none.
    held_before: frozenset[int] | set[int] = _HELD
    try:
        held_before = _sigmask(signal.SIG_BLOCK, ())  # reads the mask, no change
        _sigmask(signal.SIG_BLOCK, _HELD)
        yield
    finally:
        _sigmask(signal.SIG_UNBLOCK, _HELD - held_before)


def switch(**changes: Any) -> dict[str, Any]:
    """Set this thread's switches (``recording``, ``observer``, ``lenient``); return the old.

    Pass the result to ``restore``. Call it just before a ``try`` whose ``finally`` restores:
    a Ctrl-C can then stop it only before it changed anything.

    Example:
        >>> previous = switch(recording=False)
        >>> try:
        ...     is_grad_enabled()
        ... finally:
        ...     restore(previous)
        False
        >>> is_grad_enabled()
        True
    """
    previous = {name: getattr(state, name) for name in changes}
    try:
        with deferred_signals():
            for name, value in changes.items():
                state.change(name, value)
    except BaseException:  # a held Ctrl-C lands as the block ends: the caller never gets
        restore(previous)  # ``previous``, so put everything back here
        raise
    return previous


def restore(previous: dict[str, Any], *, saved_depth: int | None = None) -> None:
    """Put back the switches ``switch`` replaced, all of them, even if Ctrl-C comes meanwhile.

    An interrupt while they are put back is held until they all are, then raised. With
    ``saved_depth``, the stack of what ``no_grad`` blocks replaced is also cut back to
    ``saved_depth - 1`` entries, in the same protected step.
    """
    pending: BaseException | None = None
    while True:
        try:
            with deferred_signals():
                for name, value in previous.items():
                    state.change(name, value)
                if saved_depth is not None:
                    del state.saved[saved_depth - 1 :]  # idempotent, so a retry is harmless
            break
        except BaseException as error:  # the retry is the point: finish putting back first
            pending = pending or error
    if pending is not None:
        raise pending


def is_observed() -> bool:
    """Whether an observer watches this thread's nodes (``detect_anomaly``, for one).

    Tools that compute without making nodes (the tape) check it, and refuse rather than skip
    the observer's checks.

    Example:
        >>> from autodiff import detect_anomaly
        >>> is_observed()
        False
        >>> with detect_anomaly():
        ...     is_observed()
        True
    """
    return special_threads != 0 and state.observer is not None


def is_grad_enabled() -> bool:
    """Whether operations in this thread record a graph (False inside ``no_grad``).

    Example:
        >>> is_grad_enabled()
        True
    """
    return state.recording


class _GradMode:
    """Sets recording for the current thread: as ``with``, as ``@decorator`` or ``@decorator()``.

    What each ``with`` replaced is kept on a per-thread stack, not on the object, so one object
    may be entered by several threads at once, or nested in itself.
    """

    _recording: bool

    def __new__(cls, function: Callable[..., Any] | None = None) -> Any:
        if function is None:
            return super().__new__(cls)
        if not callable(function):
            raise TypeError(
                f"{cls.__name__}: expected a function to decorate, got {type(function).__name__}"
            )
        return _decorate(cls, function)  # used bare: ``@no_grad``

    def __enter__(self) -> None:
        # What this block replaces goes on the thread's stack first: if a Ctrl-C comes once
        # the switch is made, __exit__ (below, or the with statement's) finds it there.
        state.saved.append(state.recording)
        try:
            switch(recording=self._recording)
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *exc_info: object) -> None:
        depth = len(state.saved)
        restore({"recording": state.saved[depth - 1]}, saved_depth=depth)

    def __call__(self, function: _F) -> _F:
        if not callable(function):
            raise TypeError(
                f"{type(self).__name__}(): expected a function to decorate, got "
                f"{type(function).__name__}"
            )
        return _decorate(type(self), function)


def _decorate(mode: type[_GradMode], function: _F) -> _F:
    """Wrap ``function`` so that it runs in ``mode``; a generator runs in it at each resume."""
    if inspect.isgeneratorfunction(function):

        @functools.wraps(function)
        def generator_wrapper(*args: Any, **kwargs: Any) -> Any:
            return _generator_in_mode(mode, function(*args, **kwargs))

        return generator_wrapper  # type: ignore[return-value]  # wraps keeps the signature

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with mode():
            return function(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _generator_in_mode(mode: type[_GradMode], generator: Generator[Any, Any, Any]) -> Any:
    """Drive ``generator`` so that its code runs in ``mode`` and the caller's code does not."""
    try:
        with mode():
            response = next(generator)
        while True:
            try:
                request = yield response
            except GeneratorExit:
                with mode():
                    generator.close()
                raise
            except BaseException as error:  # thrown in by the caller: pass it on, in the mode
                with mode():
                    response = generator.throw(error)
            else:
                with mode():
                    response = generator.send(request)
    except StopIteration as stop:
        return stop.value


class no_grad(_GradMode):  # noqa: N801  (named like the function users know from PyTorch)
    """Stop recording the graph in this thread: results are plain leaves.

    Use it as a context manager (``with no_grad():``) or as a decorator, with or without
    parentheses. A decorated generator records nothing while it runs, however it is resumed.
    Other threads keep recording.

    Example:
        >>> from autodiff import Value
        >>> x = Value(3.0)
        >>> with no_grad():
        ...     y = x * x
        >>> y.op is None, y.data
        (True, 9.0)
        >>> @no_grad
        ... def square(v):
        ...     return v * v
        >>> square(x).is_leaf
        True
    """

    _recording = False


class enable_grad(_GradMode):  # noqa: N801
    """Record the graph again inside a ``no_grad`` region (context manager or decorator).

    Example:
        >>> from autodiff import Value
        >>> with no_grad():
        ...     with enable_grad():
        ...         y = Value(2.0) * Value(3.0)
        >>> y.op.name
        'mul'
    """

    _recording = True


@contextmanager
def observing(observer: GraphObserver) -> Iterator[None]:
    """Install ``observer`` for the current thread until the context exits.

    Example:
        >>> from autodiff import Value
        >>> class Count:
        ...     made = 0
        ...     def on_create(self, node): self.made += 1
        ...     def on_backward(self, node, parent, local): pass
        >>> count = Count()
        >>> with observing(count):
        ...     y = Value(2.0) * 3 + 1
        >>> count.made
        2
    """
    previous = switch(observer=observer)
    try:
        yield
    finally:
        restore(previous)


@contextmanager
def lenient() -> Iterator[None]:
    """Evaluate derivative rules with IEEE results at poles (``inf``) instead of errors."""
    previous = switch(lenient=True)
    try:
        yield
    finally:
        restore(previous)
