"""The op table: every primitive's forward rule and local derivatives, side by side.

This module owns *what each primitive computes* and *how its output changes with each input*.
It does not own the chain rule: the engine (``autodiff.engine``) multiplies each local
derivative by the upstream gradient and accumulates it. No rule here ever writes ``+=``.

Conventions, shared by every row:

* ``forward`` takes the inputs' data as floats and returns a float. It raises a built-in
  exception (ValueError, ZeroDivisionError, OverflowError) whose message names the operation
  and the operand when the input is outside the operation's domain; it never returns a complex
  number or a silently wrong value.
* ``partials(out, *inputs)`` returns a tuple with one local derivative d(out)/d(input_i) per
  input. It is written with arithmetic and the helpers below only, so it works on floats (plain
  backward) and on ``Value`` nodes (``create_graph=True``), which is what makes higher-order
  gradients fall out of the same table.
* A unary row may carry a constant operand: ``pow``'s number exponent, the number in
  ``add_const`` (x + c) and ``mul_const`` (x * c). Its forward and partials then take
  ``(x, constant)``; for other unary rows the constant is ``None``.

Example:
    >>> OPS["mul"].forward(3.0, 4.0)
    12.0
    >>> OPS["mul"].partials(12.0, 3.0, 4.0)
    (4.0, 3.0)
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any, Final

__all__ = ["OPS", "Op", "data_of", "exp", "log"]


class Op:
    """One row of the op table: a primitive's name, symbol, arity, forward and partials.

    Args:
        name: The row's key in ``OPS`` and the value of ``Value.op`` for nodes it creates.
        symbol: A short display form for drawings and explanations (``"*"``, ``"σ"``).
        arity: How many ``Value`` inputs the primitive takes (1, 2, or more for custom ops).
        forward: Computes the output's data from the inputs' data (floats).
        partials: Computes the local derivatives from ``(out, *inputs)``.
        formula: The derivative rule in plain text, for people (``"d tanh/dx = 1 - tanh^2"``).
        fixed: The local derivatives when they are the same numbers at every point (add's
            ``(1.0, 1.0)``), else None. Backward then reads them instead of calling
            ``partials``, which saves a Python call per node; they must equal what
            ``partials`` returns, and a test checks that they do.
        by_constant: True when a unary row's local derivative is the number it carries
            (``mul_const``: d(x*c)/dx = c). Backward then multiplies by that number instead
            of calling ``partials``; a test checks that the two agree.

    Attributes:
        route: How backward applies the local derivatives, worked out from ``arity``,
            ``fixed`` and ``by_constant``: one of the ``ROUTE_*`` numbers below.

    Example:
        >>> OPS["tanh"].formula
        'd tanh(x)/dx = 1 - tanh(x)^2'
        >>> OPS["add"].fixed, OPS["mul"].fixed
        ((1.0, 1.0), None)
    """

    __slots__ = (
        "arity",
        "by_constant",
        "fixed",
        "formula",
        "forward",
        "name",
        "partials",
        "route",
        "symbol",
    )

    def __init__(
        self,
        name: str,
        symbol: str,
        arity: int,
        forward: Callable[..., float],
        partials: Callable[..., tuple[Any, ...]],
        formula: str,
        fixed: tuple[float, ...] | None = None,
        by_constant: bool = False,
    ) -> None:
        self.name = name
        self.symbol = symbol
        self.arity = arity
        self.forward = forward
        self.partials = partials
        self.formula = formula
        self.fixed = fixed
        self.by_constant = by_constant
        self.route = _route(arity, fixed, by_constant)

    def __repr__(self) -> str:
        return f"Op({self.name!r}, symbol={self.symbol!r}, arity={self.arity})"


# How backward applies a row's local derivatives (``Op.route``). Each route is a branch of the
# engine's float loop; the special ones skip the call to ``partials`` (~50 ns a node), and the
# unit ones skip the multiplication by 1.0 too (g * 1.0 is g, exactly, even for inf and nan).
ROUTE_BINARY: Final = 1  # two inputs: call partials (mul, pow_value)
ROUTE_UNIT_BINARY: Final = 2  # two inputs, both derivatives 1.0: pass the gradient on (add)
ROUTE_UNIT: Final = 3  # one input, derivative 1.0: pass the gradient on (add_const)
ROUTE_UNARY: Final = 4  # one input: call partials (pow, exp, relu...)
ROUTE_BY_CONSTANT: Final = 5  # one input, derivative = the carried number (mul_const)
ROUTE_FIXED: Final = 6  # one input, a fixed derivative other than 1.0 (neg)
ROUTE_MANY: Final = 7  # three inputs or more (custom ops): call partials
ROUTE_BINARY_FIXED: Final = 8  # two inputs, fixed derivatives not both 1.0 (custom ops)


def _route(arity: int, fixed: tuple[float, ...] | None, by_constant: bool) -> int:
    if by_constant:
        if arity != 1:
            raise ValueError(f"by_constant needs a one-input row, not arity {arity}")
        if fixed is not None:
            raise ValueError("a row has either fixed derivatives or by_constant, not both")
        return ROUTE_BY_CONSTANT
    if fixed is not None:
        if len(fixed) != arity:
            raise ValueError(f"fixed has {len(fixed)} derivatives for a row of arity {arity}")
        unit = all(type(d) is float and d == 1.0 for d in fixed)
        if arity == 1:
            return ROUTE_UNIT if unit else ROUTE_FIXED
        if arity == 2:
            return ROUTE_UNIT_BINARY if unit else ROUTE_BINARY_FIXED
        return ROUTE_MANY
    if arity == 1:
        return ROUTE_UNARY
    if arity == 2:
        return ROUTE_BINARY
    return ROUTE_MANY


# ----------------------------------------------------------------------------------------------
# Helpers that let one derivative rule serve floats and Values alike.


def data_of(x: Any) -> float:
    """The float behind ``x``: ``x`` itself for a number, ``x.data`` for a Value.

    Derivative rules branch on data (a kink, a domain edge) without recording that branch.

    Example:
        >>> data_of(2.5)
        2.5
    """
    return x if isinstance(x, float) else float(x.data)


def exp(x: Any) -> Any:
    """``e ** x`` for a float (math.exp) or for a Value (its ``exp`` method).

    Example:
        >>> exp(0.0)
        1.0
    """
    return math.exp(x) if isinstance(x, float) else x.exp()


def log(x: Any) -> Any:
    """Natural log of a float (math.log) or of a Value (its ``log`` method).

    Example:
        >>> log(1.0)
        0.0
    """
    return math.log(x) if isinstance(x, float) else x.log()


# ----------------------------------------------------------------------------------------------
# Forward rules on floats. Each checks its domain so the error names the operation.


def _neg(x: float, _: None) -> float:
    return -x


def _pow(x: float, c: float) -> float:
    if c == 2.0:
        # Squares (squared errors) are the common power. x * x is the correctly rounded square
        # at a fraction of the cost of the general pow, which (libm's) is one unit in the last
        # place off for about 1 input in 1000.
        result: float = x * x
        if result == math.inf and x != math.inf and x != -math.inf:
            raise OverflowError(f"pow: {x!r} ** 2.0 overflows a float")
        return result
    if x < 0.0 and not c.is_integer():
        raise ValueError(
            f"pow: negative base {x!r} to the non-integer power {c!r} has no real value"
        )
    if x == 0.0 and c < 0.0:
        raise ZeroDivisionError(f"pow: 0.0 to the negative power {c!r} divides by zero")
    try:
        result = x**c  # a float: the guards above rule out a complex result
    except OverflowError:
        raise OverflowError(f"pow: {x!r} ** {c!r} overflows a float") from None
    return result


def _pow_value(x: float, y: float) -> float:
    # The exponent is a Value, so backward needs d/dy = x**y * log(x): real only for x >= 0.
    if x < 0.0:
        raise ValueError(
            f"pow_value: negative base {x!r} with a Value exponent has no real derivative with "
            "respect to the exponent (x**y * log(x)); use a number exponent instead"
        )
    if x == 0.0 and y < 0.0:
        raise ZeroDivisionError(f"pow_value: 0.0 to the negative power {y!r} divides by zero")
    try:
        return float(x**y)
    except OverflowError:
        raise OverflowError(f"pow_value: {x!r} ** {y!r} overflows a float") from None


def _exp(x: float, _: None) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp: exp({x!r}) overflows a float (x must be <= 709.78)") from None


def _log(x: float, _: None) -> float:
    if x <= 0.0:
        raise ValueError(f"log: log({x!r}) is undefined; log needs x > 0")
    return math.log(x)


def _sigmoid(x: float, _: None) -> float:
    # Stable for every finite x: exp only ever sees a non-positive argument, so it cannot
    # overflow; for x << 0 the result underflows gracefully to 0.0.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _tanh(x: float, _: None) -> float:
    return math.tanh(x)  # math.tanh saturates to +-1.0 and never overflows


def _relu(x: float, _: None) -> float:
    return x if x > 0.0 else 0.0


# ----------------------------------------------------------------------------------------------
# Local derivatives, written to work on floats and on Values.


def _add_partials(out: Any, x: Any, y: Any) -> tuple[float, float]:
    return (1.0, 1.0)  # d(x+y)/dx = 1, d(x+y)/dy = 1


def _mul_partials(out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    return (y, x)  # d(xy)/dx = y, d(xy)/dy = x


def _add_const_partials(out: Any, x: Any, c: float) -> tuple[float]:
    return (1.0,)  # d(x+c)/dx = 1


def _mul_const_partials(out: Any, x: Any, c: float) -> tuple[float]:
    return (c,)  # d(x*c)/dx = c


def _neg_partials(out: Any, x: Any, _: None) -> tuple[float]:
    return (-1.0,)  # d(-x)/dx = -1


def _pow_partials(out: Any, x: Any, c: float) -> tuple[Any]:
    # d x^c/dx = c * x^(c-1).
    # NOTE: at x = 0 with 0 < c < 1 the slope is vertical: the derivative is +inf (as in
    # PyTorch), which anomaly mode reports. With c = 0 the output is constant: derivative 0.
    if c == 2.0:
        return (2.0 * x,)  # d x^2/dx = 2x, without the general pow
    if c == 0.0:
        return (0.0,)
    if c < 1.0 and data_of(x) == 0.0:
        return (math.inf,)
    return (c * x ** (c - 1.0),)


def _pow_value_partials(out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    # d x^y/dx = y * x^(y-1);  d x^y/dy = x^y * log(x).
    # NOTE: at x = 0 the forward already required y >= 0. We define d/dy := 0 there instead
    # of evaluating 0 * log(0), and take d/dx from the number-exponent rule at c = y.
    if data_of(x) == 0.0:
        return (_pow_partials(out, x, data_of(y))[0], 0.0)
    return (y * x ** (y - 1.0), out * log(x))


def _exp_partials(out: Any, x: Any, _: None) -> tuple[Any]:
    return (out,)  # d e^x/dx = e^x


def _log_partials(out: Any, x: Any, _: None) -> tuple[Any]:
    return (1.0 / x,)  # d log(x)/dx = 1/x


def _sigmoid_partials(out: Any, x: Any, _: None) -> tuple[Any]:
    return (out * (1.0 - out),)  # d sigmoid(x)/dx = sigmoid(x) * (1 - sigmoid(x))


def _tanh_partials(out: Any, x: Any, _: None) -> tuple[Any]:
    return (1.0 - out * out,)  # d tanh(x)/dx = 1 - tanh(x)^2


def _relu_partials(out: Any, x: Any, _: None) -> tuple[float]:
    # NOTE: relu'(0) := 0 (the kink takes the left slope, as PyTorch does).
    return (1.0 if data_of(x) > 0.0 else 0.0,)


# ----------------------------------------------------------------------------------------------
# THE table. One row per primitive: forward and partials side by side. The forwards of add,
# mul, add_const and mul_const are ``operator.add`` and ``operator.mul`` themselves: a builtin
# call instead of a Python function that only does ``x + y`` saves a frame on every + and *.

OPS: Final[dict[str, Op]] = {
    op.name: op
    for op in (
        Op("add", "+", 2, operator.add, _add_partials, "d(x+y)/dx = 1, d(x+y)/dy = 1", (1.0, 1.0)),
        Op("mul", "*", 2, operator.mul, _mul_partials, "d(x*y)/dx = y, d(x*y)/dy = x"),
        # x + c and x * c with a plain number c: the number rides on the node (as pow's exponent
        # does) instead of becoming a constant leaf, which saves a node, its float and its
        # share of every graph walk. ``2 * x``, ``x - 1`` and ``sum(...)``'s 0 all use these.
        Op("add_const", "+", 1, operator.add, _add_const_partials, "d(x+c)/dx = 1", (1.0,)),
        Op(
            "mul_const",
            "*",
            1,
            operator.mul,
            _mul_const_partials,
            "d(x*c)/dx = c",
            by_constant=True,
        ),
        Op("neg", "-", 1, _neg, _neg_partials, "d(-x)/dx = -1", (-1.0,)),
        Op("pow", "**", 1, _pow, _pow_partials, "d(x**c)/dx = c * x**(c-1)"),
        Op(
            "pow_value",
            "**",
            2,
            _pow_value,
            _pow_value_partials,
            "d(x**y)/dx = y * x**(y-1), d(x**y)/dy = x**y * log(x)",
        ),
        Op("exp", "exp", 1, _exp, _exp_partials, "d exp(x)/dx = exp(x)"),
        Op("log", "log", 1, _log, _log_partials, "d log(x)/dx = 1/x"),
        Op(
            "sigmoid",
            "σ",
            1,
            _sigmoid,
            _sigmoid_partials,
            "d sigmoid(x)/dx = sigmoid(x) * (1 - sigmoid(x))",
        ),
        Op("tanh", "tanh", 1, _tanh, _tanh_partials, "d tanh(x)/dx = 1 - tanh(x)^2"),
        Op("relu", "relu", 1, _relu, _relu_partials, "d relu(x)/dx = 1 if x > 0 else 0"),
    )
}
