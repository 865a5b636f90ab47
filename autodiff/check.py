"""Gradient checking: compare the engine's derivatives with central finite differences.

This module owns ``gradcheck`` (first derivatives) and ``gradgradcheck`` (second derivatives)
and the error they raise, ``GradcheckError``. It is how a hand-written derivative rule, such as
a custom op's partials, is tested against the definition of the derivative. It does not own
any derivative rule, and it never changes a node's ``grad``: it uses
``autodiff.engine.gradients``.

The test for each derivative is ``|analytic - numeric| <= atol + rtol * |numeric|``, where the
numeric value is the central difference ``(f(x + eps) - f(x - eps)) / (2 * eps)``. Check at
points away from kinks (relu at 0) and domain edges (log at 0): there the two disagree by
nature, not because of a bug.

Example:
    >>> gradcheck(lambda x, y: x * y.exp(), 1.5, -0.5)
    True
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from autodiff.coerce import to_float
from autodiff.engine import Value, gradients
from autodiff.mode import enable_grad

__all__ = ["GradcheckError", "Mismatch", "gradcheck", "gradgradcheck"]


class Mismatch(NamedTuple):
    """One derivative that failed the check.

    Attributes:
        position: The input's index, or ``(i, j)`` for the second derivative d2f/dx_i dx_j.
        name: The input's name (``"x"``, or ``"x, y"`` for a second derivative).
        analytic: The engine's derivative.
        numeric: The central-difference estimate.
    """

    position: int | tuple[int, int]
    name: str
    analytic: float
    numeric: float


class GradcheckError(AssertionError):
    """Raised by ``gradcheck``/``gradgradcheck`` when derivatives disagree with finite differences.

    The message names every failing input with both numbers; ``mismatches`` holds them too.

    Example:
        >>> bad = GradcheckError("gradcheck", "f", [Mismatch(0, "x", 3.0, 6.0)], 1e-5, 1e-3)
        >>> print(bad)
        gradcheck: f: 1 derivative disagrees with central differences
          input 0 (x): analytic 3, numeric 6, difference 3 > tolerance 0.00601
    """

    def __init__(
        self,
        check: str,
        function_name: str,
        mismatches: Sequence[Mismatch],
        atol: float,
        rtol: float,
    ) -> None:
        self.mismatches = tuple(mismatches)
        count = len(self.mismatches)
        lines = [
            f"{check}: {function_name}: {count} derivative"
            f"{' disagrees' if count == 1 else 's disagree'} with central differences"
        ]
        for m in self.mismatches:
            where = (
                f"input {m.position}"
                if isinstance(m.position, int)
                else f"inputs {m.position[0]}, {m.position[1]}"
            )
            tolerance = atol + rtol * abs(m.numeric)
            difference = abs(m.analytic - m.numeric)
            lines.append(
                f"  {where} ({m.name}): analytic {m.analytic:.8g}, numeric {m.numeric:.8g}, "
                f"difference {difference:.3g} > tolerance {tolerance:.3g}"
            )
        super().__init__("\n".join(lines))


def _names(function: Callable[..., Any], inputs: Sequence[object]) -> list[str]:
    """A name per input: the Value's label, else the function's parameter name, else x<i>."""
    parameters: list[str] = []
    try:
        for parameter in inspect.signature(function).parameters.values():
            if parameter.kind is parameter.VAR_POSITIONAL:
                break
            parameters.append(parameter.name)
    except (TypeError, ValueError):
        pass
    names = []
    for index, x in enumerate(inputs):
        if isinstance(x, Value) and x.label:
            names.append(x.label)
        elif index < len(parameters):
            names.append(parameters[index])
        else:
            names.append(f"x{index}")
    return names


def _validate(
    inputs: Sequence[object], eps: float, atol: float, rtol: float, where: str
) -> list[float]:
    if not inputs:
        raise TypeError(f"{where}: give at least one input to check at")
    if not (isinstance(eps, (int, float)) and eps > 0 and math.isfinite(eps)):
        raise ValueError(f"{where}: eps must be a positive finite number, got {eps!r}")
    for tolerance_name, tolerance in (("atol", atol), ("rtol", rtol)):
        if not (isinstance(tolerance, (int, float)) and tolerance >= 0):
            raise ValueError(f"{where}: {tolerance_name} must be >= 0, got {tolerance!r}")
    return [x.data if isinstance(x, Value) else to_float(x, where) for x in inputs]


def _output(function: Callable[..., Any], xs: Sequence[Value], where: str) -> Value:
    output = function(*xs)
    if not isinstance(output, Value):
        raise TypeError(
            f"{where}: the function must return a scalar Value, got {type(output).__name__}"
        )
    return output


def _first_derivatives(
    function: Callable[..., Any], point: Sequence[float], where: str
) -> tuple[float, ...]:
    leaves = [Value(x) for x in point]
    with enable_grad():
        found = gradients(_output(function, leaves, where), leaves)
    return tuple(float(g) for g in found)


def _value(function: Callable[..., Any], point: Sequence[float], where: str) -> float:
    with enable_grad():  # the function may differentiate internally
        return _output(function, [Value(x) for x in point], where).data


def _shifted(point: Sequence[float], index: int, step: float) -> list[float]:
    shifted = list(point)
    shifted[index] += step
    return shifted


def _close(analytic: float, numeric: float, atol: float, rtol: float) -> bool:
    # A NaN or infinity on either side fails: the comparison below is False for NaN.
    return abs(analytic - numeric) <= atol + rtol * abs(numeric)


def _function_name(function: Callable[..., Any]) -> str:
    return getattr(function, "__name__", type(function).__name__)


def gradcheck(
    function: Callable[..., Any],
    *inputs: float | Value,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check the engine's first derivatives of ``function`` against central differences.

    Args:
        function: Takes one Value per input and returns a scalar ``Value``.
        *inputs: The point to check at: numbers (or Values, whose data and label are used).
        eps: The finite-difference step.
        atol: Absolute tolerance.
        rtol: Relative tolerance, times ``|numeric|``.

    Returns:
        True when every derivative is within tolerance.

    Raises:
        GradcheckError: Naming each input whose derivative disagrees, with both numbers.

    Example:
        >>> gradcheck(lambda x: x.sigmoid() * x, 0.3)
        True
    """
    point = _validate(inputs, eps, atol, rtol, "gradcheck")
    analytic = _first_derivatives(function, point, "gradcheck")
    names = _names(function, inputs)
    mismatches = []
    for i in range(len(point)):
        numeric = (
            _value(function, _shifted(point, i, eps), "gradcheck")
            - _value(function, _shifted(point, i, -eps), "gradcheck")
        ) / (2.0 * eps)
        if not _close(analytic[i], numeric, atol, rtol):
            mismatches.append(Mismatch(i, names[i], analytic[i], numeric))
    if mismatches:
        raise GradcheckError("gradcheck", _function_name(function), mismatches, atol, rtol)
    return True


def gradgradcheck(
    function: Callable[..., Any],
    *inputs: float | Value,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check the engine's second derivatives of ``function`` against central differences.

    The analytic Hessian comes from differentiating the recorded gradient
    (``create_graph=True``); each column j of the numeric one is the central difference of the
    analytic *first* derivatives in input j. A custom op whose partials are computed on floats
    (``math.cos(x)``) passes ``gradcheck`` but fails here.

    Args:
        function: Takes one Value per input and returns a scalar ``Value``.
        *inputs: The point to check at: numbers (or Values, whose data and label are used).
        eps: The finite-difference step.
        atol: Absolute tolerance.
        rtol: Relative tolerance, times ``|numeric|``.

    Returns:
        True when every second derivative d2f/dx_i dx_j is within tolerance.

    Raises:
        GradcheckError: Naming each pair of inputs whose second derivative disagrees.

    Example:
        >>> gradgradcheck(lambda x, y: (x * y).tanh(), 0.4, -0.7)
        True
    """
    point = _validate(inputs, eps, atol, rtol, "gradgradcheck")
    n = len(point)
    leaves = [Value(x) for x in point]
    with enable_grad():
        first = gradients(_output(function, leaves, "gradgradcheck"), leaves, create_graph=True)
        analytic = [
            [float(d) for d in gradients(g, leaves)] if isinstance(g, Value) else [0.0] * n
            for g in first
        ]
    names = _names(function, inputs)
    mismatches = []
    for j in range(n):
        plus = _first_derivatives(function, _shifted(point, j, eps), "gradgradcheck")
        minus = _first_derivatives(function, _shifted(point, j, -eps), "gradgradcheck")
        for i in range(n):
            numeric = (plus[i] - minus[i]) / (2.0 * eps)
            if not _close(analytic[i][j], numeric, atol, rtol):
                name = f"{names[i]}, {names[j]}"
                mismatches.append(Mismatch((i, j), name, analytic[i][j], numeric))
    if mismatches:
        mismatches.sort(key=lambda m: m.position)
        raise GradcheckError("gradgradcheck", _function_name(function), mismatches, atol, rtol)
    return True
