"""User-defined primitives: ``define_op`` adds an operation the built-in table does not have.

This module owns turning a user's forward rule and local-derivative rule into an op-table row
(``autodiff.ops.Op``) and a callable that applies it through the engine's general path
(``autodiff.engine.apply``), exactly like the built-in rows. It checks the user's rules and
names the op in every error. It does not add rows to ``autodiff.ops.OPS`` (that table stays the
built-in primitives) and does not own the chain rule.

Example:
    >>> from autodiff import Value
    >>> cube = define_op("cube", lambda x: x**3, lambda out, x: (3 * x**2,))
    >>> x = Value(2.0, label="x")
    >>> y = cube(x)
    >>> y.backward()
    >>> y.op.name, y.data, x.grad
    ('cube', 8.0, 12.0)
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Callable
from typing import Any

from autodiff.coerce import to_float
from autodiff.engine import Operand, Value, apply
from autodiff.ops import CUSTOM_ROWS, OPS, Op

__all__ = ["CustomOp", "define_op"]


class CustomOp:
    """A user-defined primitive: call it on Values or numbers to get a new node.

    Made by ``define_op``; ``op`` is its op-table row, ``name`` the name nodes report.

    Example:
        >>> double = define_op("double", lambda x: 2 * x, lambda out, x: (2.0,))
        >>> double
        CustomOp('double', arity=1)
        >>> double(3).data
        6.0
    """

    __slots__ = ("_checked", "op")

    def __init__(self, op: Op) -> None:
        self.op = op
        self._checked = False

    @property
    def name(self) -> str:
        """The op's name: the value of ``Value.op`` for the nodes it makes."""
        return self.op.name

    def __call__(self, *operands: Operand) -> Value:
        """Apply the op to ``operands`` (Values or numbers), recording a node."""
        node = apply(self.op, *operands)
        if not self._checked and node.op is not None:
            # Try the partials once, on floats, so a rule returning the wrong number of
            # derivatives fails here, at the user's line, rather than later inside backward.
            self._checked = True
            inputs = [x.data if isinstance(x, Value) else x for x in node.operands]
            # A domain edge at this point (ArithmeticError) says nothing about the rule's shape.
            with contextlib.suppress(ArithmeticError):
                self.op.partials(node.data, *inputs)
        return node

    def __repr__(self) -> str:
        return f"CustomOp({self.op.name!r}, arity={self.op.arity})"


def _positional_count(function: Callable[..., Any]) -> tuple[int, int | None]:
    """The minimum and maximum number of positional arguments (None: no maximum)."""
    try:
        signature = inspect.signature(function)
    except (TypeError, ValueError):  # some builtins have no signature: accept anything
        return 0, None
    low = 0
    high: int | None = 0
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_POSITIONAL:
            high = None
        elif parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            if high is not None:
                high += 1
            if parameter.default is parameter.empty:
                low += 1
        elif parameter.kind is parameter.KEYWORD_ONLY and parameter.default is parameter.empty:
            low = 10**9  # a required keyword-only argument can never be supplied
    return low, high


def _accepts(function: Callable[..., Any], count: int) -> bool:
    low, high = _positional_count(function)
    return low <= count and (high is None or count <= high)


def _checked_derivatives(name: str, arity: int, result: object) -> tuple[Any, ...]:
    """The user's partials result as a tuple of ``arity`` items, or a TypeError naming the op."""
    if not isinstance(result, (tuple, list)):
        raise TypeError(
            f"{name}: partials must return a tuple of {arity} local derivative(s), got "
            f"{type(result).__name__} {result!r}"
            + (" (write a 1-tuple: (d,))" if arity == 1 else "")
        )
    if len(result) != arity:
        raise TypeError(
            f"{name}: partials returned {len(result)} local derivative(s) for {arity} input(s); "
            "it must return one per input, in order"
        )
    for item in result:
        if not isinstance(item, Value):
            to_float(item, f"{name}: partials")
    return tuple(result)


def define_op(
    name: str,
    forward: Callable[..., Any],
    partials: Callable[..., Any],
    *,
    arity: int | None = None,
    symbol: str | None = None,
    formula: str = "",
) -> CustomOp:
    """Define a new primitive from its forward rule and its local derivatives.

    The result applies the primitive to Values or numbers through the same mechanism as the
    built-in ops, and nodes it makes carry ``name`` as their ``op``, so drawings and
    ``explain`` show it. The engine multiplies the local derivatives by the upstream gradient
    and accumulates them; ``partials`` must not do that itself.

    Write ``partials`` with arithmetic operators and Value methods only (``autodiff.ops.exp``
    and ``autodiff.ops.log`` work on floats and Values alike): it is called with floats during
    a plain ``backward`` and with Values under ``create_graph=True``, and only then are second
    and higher derivatives right. A rule that calls ``math.cos(x)`` gives correct first
    derivatives but silently zero higher ones; ``gradgradcheck`` catches that.

    Args:
        name: The op's name; a non-empty str that is not a built-in row name (``"mul"``...).
        forward: Takes the inputs' data as floats, returns the output as a number. Raise
            ValueError, ZeroDivisionError or OverflowError outside the op's domain.
        partials: Takes ``(out, *inputs)`` and returns a tuple with one local derivative
            d out / d input_i per input, in order.
        arity: The number of inputs; by default counted from ``forward``'s parameters.
        symbol: A short display form for drawings (default: ``name``).
        formula: The derivative rule in plain text, for people.

    Returns:
        A ``CustomOp``: call it like a function on Values or numbers.

    Raises:
        ValueError: The name is empty or clashes with a built-in row.
        TypeError: A rule is not callable, or cannot take the number of inputs; later, at
            backward, if ``partials`` returns the wrong number of derivatives.

    Example:
        >>> from autodiff import Value, grad
        >>> import math
        >>> from autodiff.ops import exp
        >>> softplus = define_op(
        ...     "softplus",
        ...     lambda x: math.log1p(math.exp(x)),
        ...     lambda out, x: (1 / (1 + exp(-x)),),  # d softplus/dx = sigmoid(x)
        ... )
        >>> print(f"{grad(lambda x: softplus(x))(0.0):.4f}")
        0.5000
        >>> print(f"{grad(grad(lambda x: softplus(x)))(0.0):.4f}")
        0.2500
    """
    if not isinstance(name, str) or not name.strip():
        raise ValueError(f"define_op: name must be a non-empty str, got {name!r}")
    if name in OPS:
        raise ValueError(
            f"define_op: {name!r} is a built-in op; choose another name "
            f"(built-in: {', '.join(sorted(OPS))})"
        )
    if not callable(forward):
        raise TypeError(f"{name}: forward must be callable, got {type(forward).__name__}")
    if not callable(partials):
        raise TypeError(f"{name}: partials must be callable, got {type(partials).__name__}")
    if arity is None:
        low, high = _positional_count(forward)
        if high is None or low != high or low == 0:
            raise TypeError(
                f"{name}: cannot tell the number of inputs from forward's signature; pass arity=..."
            )
        arity = low
    elif isinstance(arity, bool) or not isinstance(arity, int) or arity < 1:
        raise ValueError(f"{name}: arity must be a positive int, got {arity!r}")
    if not _accepts(forward, arity):
        raise TypeError(f"{name}: forward must take {arity} positional argument(s) (the inputs)")
    if not _accepts(partials, arity + 1):
        raise TypeError(
            f"{name}: partials must take {arity + 1} positional arguments (out, then the "
            f"{arity} input(s))"
        )
    if symbol is not None and not isinstance(symbol, str):
        raise TypeError(f"{name}: symbol must be a str, got {type(symbol).__name__}")
    if not isinstance(formula, str):
        raise TypeError(f"{name}: formula must be a str, got {type(formula).__name__}")

    op_name = name
    count = arity

    def checked_forward(*xs: Any) -> float:
        result = forward(*xs)
        if isinstance(result, Value):
            raise TypeError(
                f"{op_name}: forward must return a number computed from floats, got a Value"
            )
        return to_float(result, f"{op_name}: forward")

    def checked_partials(out: Any, *xs: Any) -> tuple[Any, ...]:
        try:
            result = partials(out, *xs)
        except Exception as error:
            # Raised during backward: say which op's rule failed, and where, keeping the type.
            message = f"{op_name}: partials raised {type(error).__name__} at {_point(xs)}: {error}"
            try:
                renamed = type(error)(message)
            except Exception:
                renamed = RuntimeError(message)
            raise renamed from error
        derivatives = _checked_derivatives(op_name, count, result)
        if isinstance(out, float):  # a plain backward stores floats, whatever the rule returns
            return tuple(d.data if isinstance(d, Value) else to_float(d) for d in derivatives)
        return derivatives

    op = Op(name, symbol or name, arity, checked_forward, checked_partials, formula)
    CUSTOM_ROWS[name] = op  # so that pickled graphs using it find it again by name
    return CustomOp(op)


def _point(inputs: tuple[Any, ...]) -> str:
    numbers = ", ".join(repr(x.data if isinstance(x, Value) else x) for x in inputs)
    return f"({numbers})"
