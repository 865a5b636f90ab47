"""The engine: ``Value`` nodes, topological order, the chain rule, and grad mode.

This module owns the graph (how nodes record the operation that made them), the order in which
it is walked, and the chain rule: every local derivative from the op table is multiplied by the
upstream gradient and accumulated here, in one place, for every op. It does not own any op's
mathematics (that is ``autodiff.ops``), nor drawing, checking or optimisation, which are built
on top of it. It imports neither numpy nor graphviz.

Gradient semantics (documented in the README and pinned by tests):

* ``backward()`` gives every node reached from the output its gradient.
* Leaves *accumulate* across calls: two calls give leaves exactly twice one call's gradient.
  Call ``zero_grad`` (or set ``v.grad = 0.0``) between steps, as with PyTorch.
* Interior nodes are *recomputed* on each call: after any call they hold d output / d node.
* The graph is never freed by backward, so it can be drawn or differentiated again afterwards.

Example:
    >>> x = Value(2.0, label="x")
    >>> y = x * x + 3 * x
    >>> y.backward()
    >>> print(f"{y.data:.1f} {x.grad:.1f}")
    10.0 7.0
"""

from __future__ import annotations

import functools
import numbers
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Final, Protocol, TypeVar, Union

from autodiff.ops import (
    OPS,
    ROUTE_BINARY,
    ROUTE_BINARY_FIXED,
    ROUTE_BY_CONSTANT,
    ROUTE_FIXED,
    ROUTE_UNARY,
    ROUTE_UNIT,
    ROUTE_UNIT_BINARY,
    Op,
)

__all__ = [
    "Number",
    "Operand",
    "Value",
    "enable_grad",
    "gradients",
    "is_grad_enabled",
    "no_grad",
    "partials",
    "topological_order",
]

Number = Union[int, float]
"""A plain number accepted wherever a Value is (numpy scalars are accepted at run time too)."""

Operand = Union["Value", int, float]
"""Anything an operation accepts as an operand: a Value or a plain number."""

_F = TypeVar("_F", bound=Callable[..., Any])

_ADD: Final = OPS["add"]
_MUL: Final = OPS["mul"]
_ADD_CONST: Final = OPS["add_const"]
_MUL_CONST: Final = OPS["mul_const"]
_NEG: Final = OPS["neg"]
_POW: Final = OPS["pow"]
_POW_VALUE: Final = OPS["pow_value"]
_EXP: Final = OPS["exp"]
_LOG: Final = OPS["log"]
_SIGMOID: Final = OPS["sigmoid"]
_TANH: Final = OPS["tanh"]
_RELU: Final = OPS["relu"]
_CARRIES_CONSTANT: Final = (_POW, _ADD_CONST, _MUL_CONST)
# The row that carries a plain number in place of a binary row's Value operand: x + 1, 2 * x,
# x ** 2 are one node each. add and mul commute, so the number may stand on either side of them.
_NUMBER_ROWS: Final = {_ADD: _ADD_CONST, _MUL: _MUL_CONST, _POW_VALUE: _POW}

# Marks, in the ``_b`` slot of a leaf, a constant: a leaf the engine made from a plain number
# where no op-table row can carry the number (the 2 in ``2 ** x``). Drawings colour constants
# apart from the user's own leaves.
_CONSTANT: Final = object()


# ----------------------------------------------------------------------------------------------
# Grad mode: per thread, so ``no_grad`` in one thread never changes what another records.


class GraphObserver(Protocol):
    """Receives every node created and every backward step while it is installed.

    ``autodiff.anomaly`` installs one to catch NaN and infinity; the engine knows nothing more.
    """

    def on_create(self, node: Value) -> None:
        """Called with each new non-leaf node right after its data is computed."""

    def on_backward(self, node: Value, parent: Value, contribution: Any) -> None:
        """Called with each gradient contribution ``node`` sends to ``parent``."""


class _Mode(threading.local):
    """Thread-local switches; ``__init__`` runs once in every thread that touches them."""

    def __init__(self) -> None:
        self.recording = True
        self.observer: GraphObserver | None = None
        # ``fast`` is True when recording with no observer: the one test on the hot path.
        self.fast = True
        # What each active ``no_grad``/``enable_grad`` replaced, innermost last. Kept here, not
        # on the context object, so one object may be entered by several threads at once.
        self.saved_recording: list[bool] = []


_mode: Final = _Mode()


# How many threads are not in the plain mode (recording off, or an observer installed), and
# whether that count is zero. The hot path reads the module global ``_all_fast`` first: one
# global load (~10 ns) instead of a thread-local attribute (~35 ns) on every operation; only
# while some thread is in a special mode does it go on to read its own thread's ``fast``.
_special_threads = 0
_all_fast = True
_special_lock: Final = threading.Lock()


def _set_mode(recording: bool, observer: GraphObserver | None) -> None:
    global _special_threads, _all_fast
    was_fast = _mode.fast
    fast = recording and observer is None
    _mode.recording = recording
    _mode.observer = observer
    _mode.fast = fast
    if fast != was_fast:
        with _special_lock:
            _special_threads += -1 if fast else 1
            _all_fast = _special_threads == 0


def is_grad_enabled() -> bool:
    """Whether operations in this thread record a graph (False inside ``no_grad``).

    Example:
        >>> is_grad_enabled()
        True
    """
    return _mode.recording


class _GradMode:
    """Context manager and decorator that sets grad mode for the current thread."""

    def __init__(self, recording: bool) -> None:
        self._recording = recording

    def __enter__(self) -> None:
        _mode.saved_recording.append(_mode.recording)
        _set_mode(self._recording, _mode.observer)

    def __exit__(self, *exc_info: object) -> None:
        _set_mode(_mode.saved_recording.pop(), _mode.observer)

    def __call__(self, function: _F) -> _F:
        recording = self._recording

        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with _GradMode(recording):
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]  # wraps keeps the signature


def no_grad() -> _GradMode:
    """Stop recording the graph in this thread: results are plain leaves.

    Use it as a context manager or as a decorator. Other threads keep recording.

    Example:
        >>> x = Value(3.0)
        >>> with no_grad():
        ...     y = x * x
        >>> y.op is None, y.data
        (True, 9.0)
    """
    return _GradMode(False)


def enable_grad() -> _GradMode:
    """Record the graph again inside a ``no_grad`` region (context manager or decorator).

    Example:
        >>> with no_grad():
        ...     with enable_grad():
        ...         y = Value(2.0) * Value(3.0)
        >>> y.op
        'mul'
    """
    return _GradMode(True)


@contextmanager
def _observing(observer: GraphObserver) -> Iterator[None]:
    """Install ``observer`` for the current thread (used by ``autodiff.anomaly``)."""
    saved = _mode.observer
    _set_mode(_mode.recording, observer)
    try:
        yield
    finally:
        _set_mode(_mode.recording, saved)


# ----------------------------------------------------------------------------------------------
# Coercion of numbers.


def _to_float(x: object, where: str) -> float:
    """Coerce a plain number (int, float, bool, numpy scalar) to float, or raise TypeError."""
    kind = type(x)
    if kind is float:
        return x  # type: ignore[return-value]
    if kind is int or kind is bool:
        try:
            return float(x)  # type: ignore[arg-type]
        except OverflowError:
            bits = x.bit_length()  # type: ignore[attr-defined]
            raise OverflowError(
                f"{where}: an int of {bits} bits is too large for a float (max about 1.8e308)"
            ) from None
    if isinstance(x, numbers.Real) and not isinstance(x, Value):
        # numpy registers its float and int scalars as numbers.Real.
        return float(x)
    if kind.__module__ == "numpy" and kind.__name__ in ("bool_", "bool"):
        return float(x)  # type: ignore[arg-type]
    raise TypeError(
        f"{where}: expected an int, float, bool or numpy scalar, got {kind.__name__} ({x!r})"
    )


def _operation_name(op: Op) -> str:
    """What errors call a binary row's operation: ``pow_value`` is the user's ``**``, "pow"."""
    return "pow" if op is _POW_VALUE else op.name


def _arithmetic(
    name: str, op: Op, *, reflected: bool = False, negate: bool = False
) -> Callable[[Value, Operand], Value]:
    """Make the method behind an arithmetic operator: ``self <op> other``.

    Args:
        name: The method's name (``"__add__"``), shown in help and in tracebacks.
        op: The row for two Values (``add``, ``mul``, ``pow_value``). A plain number rides on
            the node of its ``_NUMBER_ROWS`` row instead (``add_const``, ``mul_const``, ``pow``).
        reflected: Make ``other <op> self`` (``__radd__``); only for rows that commute when the
            other operand is a number.
        negate: Make ``self <op> (-other)`` (``__sub__`` is ``self + (-other)``).

    The common operands, a float, an int or a Value, are handled in the method itself: it makes
    the node with no further call (the steps of ``_make_node``), so a ``+`` or a ``*`` costs one
    Python call instead of two, which saves ~40 ns of the ~180 ns a node costs.
    Everything else (numpy scalars and arrays, bad operands) goes the general way, ``_apply2``.
    """
    number_op = _NUMBER_ROWS[op]
    forward = op.forward
    number_forward = number_op.forward
    where = _operation_name(op)

    def method(self: Value, other: Operand) -> Value:
        if type(other) is not Value or reflected:  # other is a number (or not an operand)
            if type(other) is not float:
                if type(other) is not int:
                    # numpy scalars and arrays, bools, bad operands: the general way.
                    if negate:
                        return _apply2(op, self, -other)
                    return _apply2(op, other, self) if reflected else _apply2(op, self, other)
                try:
                    other = float(other)  # x ** 2, x + 1: the row carries a float
                except OverflowError:  # an int beyond any float
                    other = _to_float(other, where)  # raises, naming the operation
            if negate:
                other = -other
            try:
                data = number_forward(self.data, other)
            except (ValueError, ZeroDivisionError, OverflowError) as error:
                _raise_from_forward(number_op, error, (self,))
            row = number_op
        else:
            if negate:
                other = -other
            try:
                data = forward(self.data, other.data)
            except (ValueError, ZeroDivisionError, OverflowError) as error:
                _raise_from_forward(op, error, (self, other))
            row = op
        # The steps of ``_make_node``, written out: one Python call per + or * instead of two.
        node: Value = _new_value(Value)
        node.data = data
        node.grad = 0.0
        node.label = ""
        if _all_fast or _mode.fast:
            node._op = row
            node._a = self
            node._b = other
            return node
        return _finish_slow(node, row, self, other)

    left, right = ("other", "self") if reflected else ("self", "other")
    method.__doc__ = f"Return ``{left} {'-' if negate else op.symbol} {right}`` as a new node."
    method.__name__ = name
    method.__qualname__ = f"Value.{name}"
    method.__code__ = method.__code__.replace(co_name=name)  # tracebacks say "in __add__"
    return method


# ----------------------------------------------------------------------------------------------
# Value


class Value:
    """A scalar in a computation graph: its data, its gradient and the operation that made it.

    Args:
        data: The number. Coerced to a Python float from int, float, bool or a numpy scalar;
            anything else (str, None, list, complex, a Value) raises TypeError.
        label: A name for people: drawings, explanations and error messages use it.

    Attributes:
        data: The value as a Python float.
        grad: d output / d self after ``backward`` (0.0 before); a Value with
            ``create_graph=True``.
        label: The name given by the user, or "".

    Example:
        >>> a = Value(2.0, label="a")
        >>> b = a * 3 + 1
        >>> b
        Value(data=7.0, grad=0.0, op='add_const')
        >>> b.backward()
        >>> a.grad
        3.0
    """

    # The parents live in two slots instead of a tuple: a node costs 80 bytes plus its float
    # (a tuple would add 56). ``_a``/``_b`` hold the parents of a binary op; a unary op keeps
    # its constant (the number of pow, add_const, mul_const; else None) in ``_b``; an op with
    # more inputs keeps a tuple
    # in ``_a``; a leaf has ``_a`` None and ``_b`` None or ``_CONSTANT``.
    __slots__ = ("_a", "_b", "_op", "data", "grad", "label")

    data: float
    grad: Any
    label: str
    _op: Op | None
    _a: Any
    _b: Any

    # Identity semantics: == and hash are object identity, so a Value works as a dict key.
    # numpy needs nothing more: its ufuncs on Values call the methods of the same name
    # (numpy.exp(v) calls v.exp()) and object arrays of Values use the operators.

    def __init__(self, data: object, label: str = "") -> None:
        if not isinstance(label, str):
            raise TypeError(f"Value: label must be a str, got {type(label).__name__}")
        self.data = _to_float(data, "Value")
        self.grad = 0.0
        self.label = label
        self._op = None
        self._a = None
        self._b = None

    # -- structure -------------------------------------------------------------------------

    @property
    def op(self) -> str | None:
        """The name of the op-table row that made this node, or None for a leaf.

        Example:
            >>> (Value(1.0) + Value(2.0)).op, (Value(1.0) + 2).op
            ('add', 'add_const')
        """
        op = self._op
        return None if op is None else op.name

    @property
    def parents(self) -> tuple[Value, ...]:
        """The operands, in order, duplicates kept: ``(a * a).parents == (a, a)``.

        Example:
            >>> a = Value(1.0)
            >>> (a * a).parents == (a, a)
            True
        """
        op = self._op
        if op is None:
            return ()
        if op.arity == 2:
            return (self._a, self._b)
        if op.arity == 1:
            return (self._a,)
        return tuple(self._a)

    @property
    def constant(self) -> float | None:
        """The number the node's op carries (``x ** 2``, ``x * 0.5``, ``x + 1``), else None.

        Example:
            >>> (Value(3.0) ** 2).constant, (2 * Value(3.0)).constant, (Value(3.0) - 1).constant
            (2.0, 2.0, -1.0)
        """
        op = self._op
        return self._b if op is not None and op.arity == 1 else None

    @property
    def is_leaf(self) -> bool:
        """True for a node no operation made: an input, a parameter or a constant."""
        return self._op is None

    @property
    def is_constant(self) -> bool:
        """True for a leaf the engine made from a plain number (the 2 in ``2 ** x``).

        A number in ``+`` or ``*`` (hence ``-`` and ``/``) is no leaf: it rides on its node
        as ``constant``.
        """
        return self._op is None and self._b is _CONSTANT

    def __repr__(self) -> str:
        grad = self.grad
        grad_text = repr(grad) if isinstance(grad, float) else f"Value({grad.data!r})"
        parts = [f"data={self.data!r}", f"grad={grad_text}"]
        if self.label:
            parts.append(f"label={self.label!r}")
        if self._op is not None:
            parts.append(f"op={self._op.name!r}")
        return f"Value({', '.join(parts)})"

    def __format__(self, spec: str) -> str:
        """Format the data: ``f"{v:.4f}"`` formats ``v.data``."""
        return format(self.data, spec) if spec else repr(self)

    def __float__(self) -> float:
        return self.data

    # -- operations: each a one-liner over the op table ------------------------------------

    # The arithmetic operators are made by ``_arithmetic`` (above the class), one line each.
    __add__ = _arithmetic("__add__", _ADD)  # self + other
    __radd__ = _arithmetic("__radd__", _ADD, reflected=True)  # other + self
    __mul__ = _arithmetic("__mul__", _MUL)  # self * other
    __rmul__ = _arithmetic("__rmul__", _MUL, reflected=True)  # other * self

    def __neg__(self) -> Value:
        return _apply1(_NEG, self, None)

    def __pos__(self) -> Value:
        return self

    __sub__ = _arithmetic("__sub__", _ADD, negate=True)  # self + (-other)

    def __rsub__(self, other: Operand) -> Value:
        return (-self) + other  # other - self == (-self) + other

    def __truediv__(self, other: Operand) -> Value:
        _check_divisor(self, other)
        return self * other**-1  # self * other^-1

    def __rtruediv__(self, other: Operand) -> Value:
        _check_divisor(other, self)
        return self**-1 * other  # other / self == self^-1 * other

    __pow__ = _arithmetic("__pow__", _POW_VALUE)  # self ** exponent

    def __rpow__(self, base: Operand) -> Value:
        return _apply2(_POW_VALUE, base, self)  # base ** self

    def exp(self) -> Value:
        """Exponential: e to the power of this node.

        Example:
            >>> print(f"{Value(1.0).exp():.6f}")
            2.718282
        """
        return _apply1(_EXP, self, None)

    def log(self) -> Value:
        """Natural logarithm; raises ValueError for data <= 0.

        Example:
            >>> Value(1.0).log().data
            0.0
        """
        return _apply1(_LOG, self, None)

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x), numerically stable for every finite input.

        Example:
            >>> Value(0.0).sigmoid().data
            0.5
        """
        return _apply1(_SIGMOID, self, None)

    def tanh(self) -> Value:
        """Hyperbolic tangent, numerically stable for every finite input.

        Example:
            >>> Value(0.0).tanh().data
            0.0
        """
        return _apply1(_TANH, self, None)

    def relu(self) -> Value:
        """max(0, x); its derivative at 0 is defined as 0.

        Example:
            >>> Value(-2.0).relu().data
            0.0
        """
        return _apply1(_RELU, self, None)

    # numpy calls the method of the same name when a ufunc meets a Value (numpy.sqrt(v)).
    def sqrt(self) -> Value:
        """Square root, as ``self ** 0.5``.

        Example:
            >>> Value(9.0).sqrt().data
            3.0
        """
        return self**0.5

    # -- backward -------------------------------------------------------------------------

    def backward(self, gradient: Operand = 1.0, *, create_graph: bool = False) -> None:
        """Backpropagate from this node: every node reached gets d self / d node in ``grad``.

        Leaves accumulate across calls; interior nodes are recomputed on each call.

        Args:
            gradient: The upstream gradient d L / d self to seed with (default 1.0).
            create_graph: Record the backward pass itself, so that every ``grad`` is a
                differentiable Value (for higher-order gradients).

        Example:
            >>> x = Value(3.0)
            >>> y = x ** 2
            >>> y.backward()
            >>> y.backward()
            >>> x.grad  # leaves accumulate: 2 * (2 * 3)
            12.0
        """
        seed: Any = gradient if isinstance(gradient, Value) else _to_float(gradient, "backward")
        _backpropagate(self, seed, create_graph)


def _check_divisor(numerator: object, divisor: object) -> None:
    # A non-number operand is reported here as a div error, not later by ``**`` or ``*``.
    if not isinstance(numerator, Value):
        _to_float(numerator, "div")
    data = divisor.data if isinstance(divisor, Value) else _to_float(divisor, "div")
    if data == 0:
        raise ZeroDivisionError(
            f"div: division by zero ({_describe(numerator)} / {_describe(divisor)})"
        )


def _describe(x: object) -> str:
    if isinstance(x, Value):
        return f"{x.label!r} = {x.data!r}" if x.label else repr(x.data)
    return repr(x)


# ----------------------------------------------------------------------------------------------
# The single place where nodes are made.

_new_value: Final = object.__new__


def _constant(x: object, where: str) -> Value:
    node: Value = _new_value(Value)
    # A float needs no coercion: skipping the call to _to_float saves ~45 ns a constant.
    node.data = x if type(x) is float else _to_float(x, where)
    node.grad = 0.0
    node.label = ""
    node._op = None
    node._a = None
    node._b = _CONSTANT
    return node


def _is_array(x: object) -> bool:
    """True for a numpy array with at least one axis: ``v * array`` is numpy's to broadcast."""
    return type(x) is not float and type(x) is not int and bool(getattr(x, "ndim", 0))


def _raise_from_forward(op: Op, error: Exception, operands: Sequence[object]) -> None:
    """Re-raise a forward error with the operands' labels, keeping its built-in type."""
    labels = [x.label for x in operands if isinstance(x, Value) and x.label]
    suffix = f" (operand {', '.join(repr(label) for label in labels)})" if labels else ""
    message = str(error)
    if not message.startswith(op.name):
        message = f"{op.name}: {message}"
    raise type(error)(message + suffix) from None


def _apply1(op: Op, a: Value, constant: Any) -> Value:
    """Make the node for a unary op (``constant`` is the number the row carries, or None)."""
    try:
        data = op.forward(a.data, constant)
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        _raise_from_forward(op, error, (a,))
    return _make_node(op, data, a, constant)


def _apply2(op: Op, a: object, b: object) -> Value:
    """Make the node for a binary op.

    A plain number next to a Value in ``+`` or ``*`` rides on the node of ``add_const`` or
    ``mul_const`` (both commute, so either side), and a number exponent on ``pow``; elsewhere
    (the base in ``2 ** x``) it becomes a constant leaf.
    """
    if type(b) is not Value:
        if type(b) is not float:  # the common number needs no coercion and is no array
            if _is_array(b):
                return NotImplemented  # type: ignore[no-any-return]  # numpy broadcasts
            b = _to_float(b, _operation_name(op))
        number_op = _NUMBER_ROWS.get(op)
        if number_op is not None:
            return _apply1(number_op, a, b)  # type: ignore[arg-type]
        b = _constant(b, op.name)
    if type(a) is not Value:
        if type(a) is not float:
            if _is_array(a):
                return NotImplemented  # type: ignore[no-any-return]  # numpy broadcasts
            a = _to_float(a, op.name)
        if op is _ADD or op is _MUL:
            return _apply1(_NUMBER_ROWS[op], b, a)
        a = _constant(a, op.name)
    try:
        data = op.forward(a.data, b.data)
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        _raise_from_forward(op, error, (a, b))
    return _make_node(op, data, a, b)


def apply(op: Op, *operands: Operand, constant: float | None = None) -> Value:
    """Apply any op-table row (built in or custom) to Values or numbers.

    This is the general path behind ``define_op``; the dunder methods use faster fixed-arity
    versions of the same steps.

    Args:
        op: The row to apply.
        *operands: One Value or number per input of the row.
        constant: The number a unary row carries (``pow``, ``add_const``, ``mul_const``).

    Example:
        >>> apply(OPS["mul"], Value(2.0), 5).data
        10.0
        >>> apply(OPS["add_const"], Value(2.0), constant=0.5).data
        2.5
    """
    if len(operands) != op.arity:
        raise TypeError(f"{op.name}: takes {op.arity} operand(s), got {len(operands)}")
    if constant is not None:
        if op.arity != 1:
            raise TypeError(f"{op.name}: only a one-input row carries a constant")
        constant = _to_float(constant, op.name)
    elif op in _CARRIES_CONSTANT:
        raise TypeError(f"{op.name}: needs its number, e.g. apply(op, x, constant=2.0)")
    if op.arity == 1:
        if not isinstance(operands[0], Value):
            return _apply1(op, _constant(operands[0], op.name), constant)
        return _apply1(op, operands[0], constant)
    if op.arity == 2:
        first, second = operands
        if not isinstance(first, Value) and not isinstance(second, Value):
            first = _constant(first, op.name)  # two numbers: the graph still needs a node
        return _apply2(op, first, second)
    parents = tuple(x if isinstance(x, Value) else _constant(x, op.name) for x in operands)
    try:
        data = op.forward(*(p.data for p in parents))
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        _raise_from_forward(op, error, parents)
    return _make_node(op, _to_float(data, op.name), parents, None)


def _make_node(op: Op, data: float, a: Any, b: Any) -> Value:
    """The one place a node is made from an op: ``data`` computed, parents as the slots keep them.

    ``a``/``b`` are the two parents of a binary op, the parent and the carried number (or None)
    of a unary op, or the tuple of parents and None. The arithmetic operators (``_arithmetic``)
    do the same steps in line.
    """
    node: Value = _new_value(Value)
    node.data = data
    node.grad = 0.0
    node.label = ""
    if _all_fast or _mode.fast:
        node._op = op
        node._a = a
        node._b = b
        return node
    return _finish_slow(node, op, a, b)


def _finish_slow(node: Value, op: Op, a: Any, b: Any) -> Value:
    """Finish a node when not recording (a plain leaf) or when an observer is installed."""
    if not _mode.recording:
        node._op = None
        node._a = None
        node._b = None
        return node
    node._op = op
    node._a = a
    node._b = b
    observer = _mode.observer
    if observer is not None:
        observer.on_create(node)
    return node


# ----------------------------------------------------------------------------------------------
# Graph walks: iterative, deterministic.


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, inputs before outputs, ``root`` last.

    The walk is an iterative depth-first search (no recursion, so a chain of a million nodes
    is fine) that visits parents in their recorded order, so the same graph always gives the
    same list. Each node appears once, however many times it is used.

    Args:
        root: The output to start from.

    Returns:
        A list in which every node comes after all of its parents.

    Example:
        >>> a = Value(1.0, label="a")
        >>> b = a * 2
        >>> c = b + a
        >>> [n.label or n.op for n in topological_order(c)]
        ['a', 'mul_const', 'add']
    """
    if not isinstance(root, Value):
        raise TypeError(f"topological_order: expected a Value, got {type(root).__name__}")
    order: list[Value] = []
    emit = order.append
    seen: set[Value] = set()
    mark = seen.add
    # The stack holds nodes to expand; ``None`` above a node means "emit the node below me":
    # its parents have all been emitted by the time that marker is popped.
    stack: list[Value | None] = [root]
    push = stack.append
    pop = stack.pop
    while stack:
        node = pop()
        if node is None:
            emit(pop())  # type: ignore[arg-type]
            continue
        if node in seen:
            continue
        mark(node)
        op = node._op
        if op is None:
            # A leaf has nothing to expand: emit it now rather than push it back under a marker.
            # Same order; saves two pushes, two pops and a test per input and constant.
            emit(node)
            continue
        push(node)
        push(None)
        # Push parents last-first so the first parent is expanded first.
        arity = op.arity
        if arity == 2:
            b = node._b
            if b not in seen:
                push(b)
            a = node._a
            if a not in seen:
                push(a)
        elif arity == 1:
            a = node._a
            if a not in seen:
                push(a)
        else:
            for parent in reversed(node._a):
                if parent not in seen:
                    push(parent)
    return order


# Two unique floats 0.0 (made at run time, so no other 0.0 in the program is either object).
# Backward's walk marks each node it reaches by storing one of them in the node's ``grad``:
# ``_EXPANDED`` while its parents are being walked, ``_EMITTED`` once it is in the order. The
# identity tests replace the set of seen nodes that ``topological_order`` keeps (a hash insert
# and lookups per node) and the marker entries on its stack; and since both marks are 0.0, the
# chain rule accumulates straight into them, so no separate pass resets gradients. Together
# these save ~20% of a backward pass and a third of the stack.
_EXPANDED: Final[float] = float("0")
_EMITTED: Final[float] = float("0")


def _walk_marking(root: Value) -> tuple[list[Value], list[tuple[Value, Any]]]:
    """Backward's own walk: ``topological_order`` that marks instead of remembering.

    Returns a topological order (interior nodes exactly as ``topological_order`` has them,
    ``root`` last; each leaf as soon as a node using it is expanded) and, for each leaf whose
    ``grad`` was not zero, the pair (leaf, that grad). Leaves every reached node's ``grad`` at
    ``_EMITTED``. ``topological_order`` stays the read-only walk for everyone else: marking
    writes to the graph, which only backward (already a writer) may do.
    """
    order: list[Value] = []
    emit = order.append
    held: list[tuple[Value, Any]] = []
    expanded = _EXPANDED
    emitted = _EMITTED
    stack: list[Value] = [root]
    push = stack.append
    pop = stack.pop
    try:
        if root._op is None:
            _emit_leaf(stack.pop(), emit, held)
        while stack:
            node = pop()
            grad = node.grad
            if grad is expanded:
                # Popped again after everything pushed above it: its parents are emitted. (In
                # a DAG no copy of a node is pushed while it is being expanded, so this is the
                # copy it pushed of itself, not a stale one.)
                node.grad = emitted
                emit(node)
                continue
            if grad is emitted:
                continue  # a second path to a node already in the order
            # Expand ``node``, then go straight on into its first parent when that needs
            # expanding: it would be the next node popped anyway, so its push, its pop and the
            # two tests above are skipped (the order is unchanged). A node reached this way is
            # neither emitted (tested below) nor expanded (it would be its own ancestor).
            while True:
                node.grad = expanded
                push(node)
                # Parents last-first, so the first parent is expanded first (unrolled by arity:
                # building a tuple of parents per node would cost more than the walk saves).
                # A leaf parent is emitted at once rather than pushed: backward skips leaves,
                # so their place in the order changes no arithmetic, and a leaf used at every
                # level of a deep chain does not fill the stack.
                op = node._op
                arity = op.arity  # type: ignore[union-attr]  # only interior nodes get here
                if arity == 2:
                    b = node._b
                    if b.grad is not emitted:
                        if b._op is None:
                            _emit_leaf(b, emit, held)
                        else:
                            push(b)
                    first = node._a
                elif arity == 1:
                    first = node._a
                else:
                    parents = node._a
                    for parent in reversed(parents[1:]):
                        if parent.grad is not emitted:
                            if parent._op is None:
                                _emit_leaf(parent, emit, held)
                            else:
                                push(parent)
                    first = parents[0]
                if first.grad is emitted:
                    break
                if first._op is None:
                    _emit_leaf(first, emit, held)
                    break
                node = first
    except BaseException:
        # Interrupted (KeyboardInterrupt, MemoryError): take every mark back.
        _unmark(order + stack, held)
        raise
    return order, held


def _emit_leaf(leaf: Value, emit: Callable[[Value], None], held: list[tuple[Value, Any]]) -> None:
    """Put a leaf in backward's order, keeping what its grad held (once per leaf per walk)."""
    grad = leaf.grad
    if type(grad) is not float or grad != 0.0:
        held.append((leaf, grad))
    leaf.grad = _EMITTED
    emit(leaf)


def _unmark(nodes: list[Value], held: list[tuple[Value, Any]]) -> None:
    """Clear marks left by an interrupted backward; give leaves back what they held."""
    for node in nodes:
        if node.grad is _EXPANDED or node.grad is _EMITTED:
            node.grad = 0.0
    for leaf, before in held:
        leaf.grad = before


def _backpropagate(root: Value, seed: Any, create_graph: bool) -> list[Value]:
    """Apply the chain rule from ``root``; return the topological order it walked.

    Every node reached starts this call at zero, so interior nodes are recomputed and each leaf
    first sums this call's contributions; only then is that sum added to what the leaf held
    before (as PyTorch's AccumulateGrad does). Adding into the old grad edge by edge would
    round differently, and two calls would not give exactly twice one call's gradient.
    """
    if not create_graph and isinstance(seed, Value):
        seed = seed.data
    order, held = _walk_marking(root)
    root.grad = seed
    try:
        if create_graph:
            _backpropagate_recorded(order)
        elif _mode.observer is not None:
            _backpropagate_observed(order, _mode.observer)
        else:
            _backpropagate_floats(order)
    except BaseException:
        # A failed step (anomaly mode's FloatingPointError, a custom op's error) leaves no
        # marks and no half-accumulated leaves behind. A leaf not in ``held`` held 0.0 before
        # this call, but may already have taken part of it (no longer a mark): zero it too.
        for node in order:
            if node._op is None:
                node.grad = 0.0
        _unmark(order, held)
        raise
    for leaf, before in held:
        leaf.grad = before + leaf.grad
    return order


def _backpropagate_floats(order: list[Value]) -> None:
    # The hot loop: one branch per route (see ``autodiff.ops``), the common ones first, so a
    # binary op costs one call to its partials and two accumulations with no tuple of parents
    # built, and add, x + c and x * c cost no call at all.
    for node in reversed(order):
        op = node._op
        if op is None:
            continue
        g = node.grad
        route = op.route
        if route == ROUTE_BINARY:
            a = node._a
            b = node._b
            da, db = op.partials(node.data, a.data, b.data)
            a.grad += g * da  # chain rule: dL/da += dL/dnode * dnode/da
            b.grad += g * db
        elif route == ROUTE_UNIT_BINARY:
            node._a.grad += g  # dL/da += dL/dnode * 1
            node._b.grad += g
        elif route == ROUTE_UNIT:
            node._a.grad += g
        elif route == ROUTE_UNARY:
            a = node._a
            (da,) = op.partials(node.data, a.data, node._b)
            a.grad += g * da
        elif route == ROUTE_BY_CONSTANT:
            node._a.grad += g * node._b  # dL/da += dL/dnode * c
        elif route == ROUTE_FIXED:
            (da,) = op.fixed  # type: ignore[misc]  # a fixed route has fixed derivatives
            node._a.grad += g * da
        elif route == ROUTE_BINARY_FIXED:
            da, db = op.fixed  # type: ignore[misc]
            node._a.grad += g * da
            node._b.grad += g * db
        else:
            parents = node._a
            derivatives = op.fixed or op.partials(node.data, *(p.data for p in parents))
            for parent, d in zip(parents, derivatives, strict=True):
                parent.grad += g * d


def _local_partials(node: Value, recorded: bool) -> Iterable[tuple[Value, Any]]:
    """Pairs (parent, d node / d parent), with Values when ``recorded``, else floats."""
    op = node._op
    assert op is not None
    parents = node.parents
    if recorded:
        inputs: tuple[Any, ...] = parents
        out: Any = node
    else:
        inputs = tuple(p.data for p in parents)
        out = node.data
    if op.arity == 1:
        return zip(parents, op.partials(out, inputs[0], node._b), strict=True)
    return zip(parents, op.partials(out, *inputs), strict=True)


def partials(node: Value) -> tuple[float, ...]:
    """The local derivatives d node / d parent, one per parent, in ``node.parents`` order.

    These are the numbers the chain rule multiplies along each edge; drawings label edges with
    them and ``explain`` prints them. A leaf has none.

    Args:
        node: Any Value.

    Returns:
        A tuple of floats, as long as ``node.parents``.

    Example:
        >>> a, b = Value(3.0), Value(4.0)
        >>> partials(a * b)
        (4.0, 3.0)
    """
    if node._op is None:
        return ()
    return tuple(float(d) for _, d in _local_partials(node, recorded=False))


def _backpropagate_recorded(order: list[Value]) -> None:
    # create_graph=True: gradients are Values, so the backward pass is itself a graph. The
    # partials get Values (the node and its parents), which records how they depend on inputs.
    for node in reversed(order):
        if node._op is None:
            continue
        g = node.grad
        for parent, d in _local_partials(node, recorded=True):
            parent.grad = parent.grad + g * d


def _backpropagate_observed(order: list[Value], observer: GraphObserver) -> None:
    # The float walk again, slower, telling the observer about each contribution.
    for node in reversed(order):
        if node._op is None:
            continue
        g = node.grad
        for parent, d in _local_partials(node, recorded=False):
            contribution = g * d
            observer.on_backward(node, parent, contribution)
            parent.grad += contribution


def gradients(
    output: Value,
    inputs: Sequence[Value],
    gradient: Operand = 1.0,
    *,
    create_graph: bool = False,
) -> tuple[Any, ...]:
    """Gradients of ``output`` with respect to ``inputs``, leaving every ``grad`` as it was.

    Unlike ``backward`` this accumulates nothing: it is the building block of the functional
    API, where nested differentiation must not see another level's gradients.

    Args:
        output: The node to differentiate.
        inputs: The nodes to differentiate with respect to; an input that ``output`` does not
            depend on gets 0.0.
        gradient: The upstream gradient to seed with.
        create_graph: Return differentiable Values instead of floats.

    Returns:
        A tuple with one gradient per input, in order.

    Example:
        >>> x = Value(3.0)
        >>> y = x * x
        >>> gradients(y, [x]), x.grad
        ((6.0,), 0.0)
    """
    if not isinstance(output, Value):
        raise TypeError(f"gradients: output must be a Value, got {type(output).__name__}")
    for x in inputs:
        if not isinstance(x, Value):
            raise TypeError(f"gradients: inputs must be Values, got {type(x).__name__}")
    order = topological_order(output)
    saved = [node.grad for node in order]
    wanted = set(inputs)
    # Start every node of this walk at zero so leaves report this call's gradient only.
    for node in order:
        node.grad = 0.0
    try:
        seed: Any = gradient if isinstance(gradient, Value) else _to_float(gradient, "gradients")
        _backpropagate(output, seed, create_graph)
        found = {node: node.grad for node in order if node in wanted}
    finally:
        for node, grad in zip(order, saved, strict=True):
            node.grad = grad
    return tuple(found.get(x, 0.0) for x in inputs)
