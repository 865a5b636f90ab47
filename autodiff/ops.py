"""The op table: each primitive's forward rule, local derivatives and formula, together.

This module owns *what each primitive computes* and *how its output changes with each input*.
It does not own the chain rule: the engine (``autodiff.engine``) multiplies each local
derivative by the upstream gradient and accumulates it, in one place. No rule here writes ``+=``.

Every row follows the same conventions:

* ``forward(*inputs)`` takes the inputs' data as floats and returns a float. Outside the
  operation's domain it raises a built-in exception (ValueError, ZeroDivisionError,
  OverflowError) whose message names the operation and the operand; it never returns a complex
  number.
* ``partials(out, *inputs)`` returns one local derivative d(out)/d(input_i) per input. It is
  written with arithmetic and the helpers below only, so the same rule works on floats (plain
  backward) and on ``Value`` nodes (``backward(create_graph=True)``): that is what makes
  higher-order gradients fall out of this one table. Where the true derivative is infinite
  (sqrt at 0) it gives ``inf``, as PyTorch does, and never raises.
* ``formula`` is the derivative rule in plain text, for people: drawings, ``explain`` and the
  explorer page show it.

An operand may be a plain number (the 2 in ``x ** 2``, the 0.5 in ``0.5 * x``): the rules get
it as a float, in its place, and the engine gives it no gradient. So ``x ** 2`` and
``x * 0.5`` are one node each, and ``mul`` serves both ``x * y`` and ``x * 0.5``.

Example:
    >>> OPS["mul"].forward(3.0, 4.0)
    12.0
    >>> OPS["mul"].partials(12.0, 3.0, 4.0)
    (4.0, 3.0)
    >>> OPS["tanh"].formula
    'd tanh(x)/dx = 1 - tanh(x)^2'
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

__all__ = ["OPS", "Op", "cos", "data_of", "exp", "log", "power", "sin"]


@dataclass(frozen=True, eq=False, slots=True)
class Op:
    """One row of the op table: a primitive's name, symbol, arity, rules and formula.

    Args:
        name: The row's key in ``OPS``; ``node.op.name`` for the nodes it makes.
        symbol: A short display form for drawings and explanations (``"*"``, ``"σ"``).
        arity: How many inputs the primitive takes.
        forward: Computes the output's data from the inputs' data (floats).
        partials: Computes the local derivatives from ``(out, *inputs)``.
        formula: The derivative rule in plain text.
        lenient: The forward rule without its domain errors (``inf`` at a pole, as IEEE
            arithmetic and PyTorch give), or None when ``forward`` never raises. The engine uses
            it only while it evaluates derivative rules on Values, so that the derivative of
            sqrt at 0 is ``inf`` there too, never an error from inside backward.

    Example:
        >>> OPS["add"]
        Op('add')
    """

    name: str
    symbol: str
    arity: int
    forward: Callable[..., float]
    partials: Callable[..., tuple[Any, ...]]
    formula: str
    lenient: Callable[..., float] | None = None

    def __repr__(self) -> str:
        return f"Op({self.name!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        # Rows hold functions, so they are pickled by name and found again when loaded.
        return (_row_named, (self.name,))


# Rows pickled by name are looked up here: the built-in table, then rows that
# ``autodiff.custom.define_op`` registered.
CUSTOM_ROWS: Final[dict[str, Op]] = {}


def _row_named(name: str) -> Op:
    row = OPS.get(name) or CUSTOM_ROWS.get(name)
    if row is None:
        raise LookupError(
            f"op {name!r} is not defined in this process: run the define_op that makes it "
            "before loading a graph that uses it"
        )
    return row


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


def sin(x: Any) -> Any:
    """Sine of a float (math.sin) or of a Value (its ``sin`` method).

    Example:
        >>> sin(0.0)
        0.0
    """
    return math.sin(x) if isinstance(x, float) else x.sin()


def cos(x: Any) -> Any:
    """Cosine of a float (math.cos) or of a Value (its ``cos`` method).

    Example:
        >>> cos(0.0)
        1.0
    """
    return math.cos(x) if isinstance(x, float) else x.cos()


_INFINITY: Final = math.inf


def _is_odd_integer(c: float) -> bool:
    return c.is_integer() and c % 2.0 == 1.0


def _ieee_power(x: float, c: float) -> float:
    """``x ** c`` on floats as IEEE arithmetic gives it, where Python raises or goes complex."""
    try:
        result = x**c
    except ZeroDivisionError:  # 0.0 to a negative power: a pole
        return math.copysign(math.inf, x) if _is_odd_integer(c) else math.inf
    except OverflowError:
        return -math.inf if x < 0.0 and _is_odd_integer(c) else math.inf
    return result if isinstance(result, float) else math.nan  # negative ** non-integer


def power(x: Any, c: Any) -> Any:
    """``x ** c`` for a float (``inf`` at a pole or on overflow, never an error) or a Value.

    Example:
        >>> power(0.0, -0.5)
        inf
    """
    return _ieee_power(x, c) if isinstance(x, float) else x**c


# ----------------------------------------------------------------------------------------------
# The rows. One block per primitive: its forward rule, then its local derivatives. The forward
# rules of add, sub and mul are Python's own (``operator.add``...), written in the table.


def _add_partials(out: Any, x: Any, y: Any) -> tuple[float, float]:
    return (1.0, 1.0)


def _sub_partials(out: Any, x: Any, y: Any) -> tuple[float, float]:
    return (1.0, -1.0)


def _mul_partials(out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    return (y, x)


def _div(x: float, y: float) -> float:
    if y == 0.0:
        raise ZeroDivisionError(f"div: division by zero ({x!r} / {y!r})")
    return x / y  # correctly rounded; overflows to inf only where the quotient does


def _div_partials(out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    # -out / y rather than -x / y**2: y**2 overflows or underflows long before the derivative
    # does (x = 1e-200, y = 1e-160: y**2 underflows to 0, while -out / y is -1e120).
    return (1.0 / y, -out / y)


def _neg(x: float) -> float:
    return -x


def _neg_partials(out: Any, x: Any) -> tuple[float]:
    return (-1.0,)


def _pow(x: float, c: float) -> float:
    if c == 2.0:
        result = x * x  # the common square: correctly rounded, where libm's pow may be 1 ulp off
    elif x < 0.0 and not c.is_integer():
        raise ValueError(
            f"pow: negative base {x!r} to the non-integer power {c!r} has no real value"
        )
    elif x == 0.0 and c < 0.0:
        raise ZeroDivisionError(f"pow: 0.0 to the negative power {c!r} divides by zero")
    else:
        result = _ieee_power(x, c)
    if abs(result) == _INFINITY and abs(x) != _INFINITY:
        raise OverflowError(f"pow: {x!r} ** {c!r} overflows a float")
    return result


def _pow_partials(out: Any, x: Any, c: float) -> tuple[Any, float]:
    # The exponent is a plain number, so only d/dx is needed (d/dc is given as 0, unused).
    # NOTE: at x = 0 with c < 1 the slope is vertical: d/dx is inf (as in PyTorch).
    if c == 2.0:
        return (2.0 * x, 0.0)
    if c == 0.0:
        return (0.0, 0.0)
    return (c * power(x, c - 1.0), 0.0)


def _pow_value(x: float, y: float) -> float:
    # The exponent is a Value, so backward needs d/dy = x**y * log(x): real only for x >= 0.
    if x < 0.0:
        raise ValueError(
            f"pow: negative base {x!r} with a Value exponent has no real derivative with respect "
            "to the exponent (x**y * log(x)); use a number exponent instead"
        )
    return _pow(x, y)


def _pow_value_partials(out: Any, x: Any, y: Any) -> tuple[Any, Any]:
    # NOTE: at x = 0 the forward required y >= 0; there d/dy := 0 instead of 0 * log(0), and
    # d/dx follows the number-exponent rule at c = y.
    if data_of(x) == 0.0:
        return (_pow_partials(out, x, y)[0], 0.0)
    return (y * power(x, y - 1.0), out * log(x))


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        raise OverflowError(f"exp: exp({x!r}) overflows a float (x must be <= 709.78)") from None


def _exp_partials(out: Any, x: Any) -> tuple[Any]:
    return (out,)


def _log(x: float) -> float:
    if x <= 0.0:
        raise ValueError(f"log: log({x!r}) is undefined; log needs x > 0")
    return math.log(x)


def _log_partials(out: Any, x: Any) -> tuple[Any]:
    return (1.0 / x,)


def _sigmoid(x: float) -> float:
    # Stable for every finite x: exp only ever sees a non-positive argument, so it cannot
    # overflow; for x << 0 the result underflows gracefully to 0.0.
    if x >= 0.0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _sigmoid_partials(out: Any, x: Any) -> tuple[Any]:
    return (out * (1.0 - out),)


def _tanh(x: float) -> float:
    return math.tanh(x)  # saturates to +-1.0 and never overflows


def _tanh_partials(out: Any, x: Any) -> tuple[Any]:
    return (1.0 - out * out,)


def _relu(x: float) -> float:
    return 0.0 if x <= 0.0 else x  # written so that relu(nan) is nan, as in PyTorch


def _relu_partials(out: Any, x: Any) -> tuple[float]:
    # NOTE: relu'(0) := 0, the left slope, as PyTorch does.
    return (0.0 if data_of(x) <= 0.0 else 1.0,)


def _abs(x: float) -> float:
    return abs(x)


def _abs_partials(out: Any, x: Any) -> tuple[float]:
    # NOTE: abs'(0) := 0, the average of the two slopes, as PyTorch does.
    x = data_of(x)
    if x > 0.0:
        return (1.0,)
    if x < 0.0:
        return (-1.0,)
    return (0.0 if x == 0.0 else math.nan,)


def _sin(x: float) -> float:
    if math.isinf(x):
        raise ValueError(f"sin: sin({x!r}) is undefined")
    return math.sin(x)


def _sin_partials(out: Any, x: Any) -> tuple[Any]:
    return (cos(x),)


def _cos(x: float) -> float:
    if math.isinf(x):
        raise ValueError(f"cos: cos({x!r}) is undefined")
    return math.cos(x)


def _cos_partials(out: Any, x: Any) -> tuple[Any]:
    return (-sin(x),)


# ----------------------------------------------------------------------------------------------
# THE table.

OPS: Final[dict[str, Op]] = {
    row.name: row
    for row in (
        Op("add", "+", 2, operator.add, _add_partials, "d(x+y)/dx = 1, d(x+y)/dy = 1"),
        Op("sub", "-", 2, operator.sub, _sub_partials, "d(x-y)/dx = 1, d(x-y)/dy = -1"),
        Op("mul", "*", 2, operator.mul, _mul_partials, "d(x*y)/dx = y, d(x*y)/dy = x"),
        Op("div", "/", 2, _div, _div_partials, "d(x/y)/dx = 1/y, d(x/y)/dy = -x/y^2"),
        Op("neg", "-", 1, _neg, _neg_partials, "d(-x)/dx = -1"),
        Op("pow", "**", 2, _pow, _pow_partials, "d(x**c)/dx = c * x**(c-1)", _ieee_power),
        Op(
            "pow_value",
            "**",
            2,
            _pow_value,
            _pow_value_partials,
            "d(x**y)/dx = y * x**(y-1), d(x**y)/dy = x**y * log(x)",
            _ieee_power,
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
        Op("abs", "abs", 1, _abs, _abs_partials, "d |x|/dx = 1 if x > 0, -1 if x < 0, 0 at 0"),
        Op("sin", "sin", 1, _sin, _sin_partials, "d sin(x)/dx = cos(x)"),
        Op("cos", "cos", 1, _cos, _cos_partials, "d cos(x)/dx = -sin(x)"),
    )
}
