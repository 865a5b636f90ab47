"""The functional API: ``grad``, ``value_and_grad`` and ``hessian`` build derivative functions.

This module owns the wrapping of a Python function ``f(*xs) -> Value`` into functions that
return derivatives, in the style of JAX: floats in, floats out. It does not own the chain rule
(that is ``autodiff.engine.gradients``, which this module calls and which never touches any
node's ``grad``) nor any op's mathematics (``autodiff.ops``).

Nesting. When a derivative function is called inside another one (or with ``Value`` arguments)
it returns differentiable Values instead of floats, so ``grad(grad(f))`` is the second
derivative. Each call differentiates with respect to *fresh* nodes that depend on the incoming
arguments, never with respect to the arguments themselves, so an inner derivative cannot pick up
the outer level's variable by mistake ("perturbation confusion"):

Example:
    >>> grad(lambda x: x * grad(lambda y: x + y)(x))(5.0)
    1.0
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any, Final, Union

from autodiff.coerce import to_float
from autodiff.engine import Value, gradients
from autodiff.mode import enable_grad

__all__ = ["grad", "hessian", "value_and_grad"]

ArgNums = Union[int, Sequence[int]]
"""Which positional arguments to differentiate with respect to: one index, or several."""


class _Depth(threading.local):
    """How many derivative functions are running in this thread (0 outside any of them)."""

    level: int = 0


_depth: Final = _Depth()


class _Nested:
    """Marks the current thread as inside a derivative function while the body runs."""

    def __enter__(self) -> None:
        _depth.level += 1

    def __exit__(self, *exc_info: object) -> None:
        _depth.level -= 1


def _normalize_argnums(argnums: object, where: str) -> tuple[tuple[int, ...], bool]:
    """Return the indices as a tuple and whether the caller asked for a single index."""
    if isinstance(argnums, int) and not isinstance(argnums, bool):
        return (argnums,), True
    if isinstance(argnums, (tuple, list)) and argnums:
        for index in argnums:
            if not isinstance(index, int) or isinstance(index, bool):
                raise TypeError(
                    f"{where}: argnums must be an int or a non-empty tuple of ints, "
                    f"got an item {index!r} ({type(index).__name__})"
                )
        return tuple(argnums), False
    raise TypeError(
        f"{where}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}"
    )


def _resolve(indices: tuple[int, ...], count: int, where: str) -> tuple[int, ...]:
    """Turn possibly negative indices into positions, checking they exist."""
    resolved = []
    for index in indices:
        position = index + count if index < 0 else index
        if not 0 <= position < count:
            raise ValueError(
                f"{where}: argnums {index} is out of range for a call with {count} "
                "positional argument(s)"
            )
        resolved.append(position)
    return tuple(resolved)


def _variable(argument: object, where: str) -> Value:
    """A fresh node to differentiate with respect to, standing for ``argument``.

    For a number it is a new leaf. For a Value it is a new node *computed from* that Value
    (``argument + 0``): derivatives with respect to it see only this call's uses of it, and it
    still carries the dependence on the outer level's variable, so the result stays
    differentiable there.
    """
    if isinstance(argument, Value):
        node = argument + 0.0
        node.label = argument.label
        return node
    return Value(to_float(argument, where))


def _is_nested(args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
    """Whether results must stay differentiable: inside another derivative, or given Values."""
    return (
        _depth.level > 0
        or any(isinstance(a, Value) for a in args)
        or any(isinstance(v, Value) for v in kwargs.values())
    )


def _check_output(output: object, function: Callable[..., Any], where: str) -> Value:
    if isinstance(output, Value):
        return output
    name = getattr(function, "__name__", repr(function))
    hint = (
        " (a constant? return Value(number) so its derivative is 0)"
        if isinstance(output, (int, float))
        else ""
    )
    raise TypeError(
        f"{where}: the function {name} must return a scalar Value, "
        f"got {type(output).__name__}{hint}"
    )


def _evaluate(
    function: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    argnums: ArgNums,
    where: str,
) -> tuple[Value, tuple[Any, ...], bool, bool]:
    """Run ``function`` on fresh variables; return output, gradients, nested, single."""
    indices, single = _normalize_argnums(argnums, where)
    positions = _resolve(indices, len(args), where)
    nested = _is_nested(args, kwargs)
    call_args = list(args)
    variables: dict[int, Value] = {}
    # Recording even inside no_grad: the derivative is computed from this graph, and a Value
    # argument must stay connected to it so the result is differentiable again.
    with enable_grad(), _Nested():
        for position in positions:
            if position not in variables:
                variables[position] = _variable(args[position], where)
            call_args[position] = variables[position]
        output = _check_output(function(*call_args, **kwargs), function, where)
        found = gradients(output, list(variables.values()), create_graph=nested)
    by_position = dict(zip(variables, found, strict=True))
    results: tuple[Any, ...]
    if nested:
        # A constant gradient comes back as a float; a leaf Value keeps the return type fixed.
        results = tuple(
            g if isinstance(g, Value) else Value(g) for g in (by_position[p] for p in positions)
        )
    else:
        results = tuple(float(by_position[p]) for p in positions)
    return output, results, nested, single


def grad(function: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """The derivative of ``function`` as a function: ``grad(f)(x)`` is df/dx at ``x``.

    ``function`` takes Values (and possibly other arguments) and returns one scalar ``Value``.
    Called with numbers, the derivative function returns floats. Called with Values, or from
    inside another derivative function, it returns differentiable Values, so derivatives nest:
    ``grad(grad(f))`` is the second derivative.

    Args:
        function: The function to differentiate. Returning anything but a ``Value`` (a float,
            a list, None) raises TypeError. A function that ignores an argument has derivative
            0.0 with respect to it.
        argnums: The position of the argument to differentiate with respect to (negative
            counts from the end), or a tuple of positions. Keyword arguments are passed
            through and never differentiated.

    Returns:
        A function with the same arguments as ``function`` returning one derivative for an
        int ``argnums``, a tuple of derivatives (in ``argnums`` order) for a tuple.

    Example:
        >>> f = lambda x, y: x * x * y
        >>> grad(f)(3.0, 2.0)
        12.0
        >>> grad(f, argnums=(0, 1))(3.0, 2.0)
        (12.0, 9.0)
        >>> grad(grad(lambda x: x**3))(2.0)
        12.0
    """
    _normalize_argnums(argnums, "grad")  # fail at definition, not at the first call

    @functools.wraps(function)
    def derivative(*args: Any, **kwargs: Any) -> Any:
        _, results, _, single = _evaluate(function, args, kwargs, argnums, "grad")
        return results[0] if single else results

    return derivative


def value_and_grad(function: Callable[..., Any], argnums: ArgNums = 0) -> Callable[..., Any]:
    """Like ``grad``, but the new function returns ``(f(xs), derivative)`` from one pass.

    Args:
        function: The function to differentiate; it must return a scalar ``Value``.
        argnums: The position of the argument to differentiate with respect to, or a tuple.

    Returns:
        A function returning ``(value, gradient)``: a float and the same gradient ``grad``
        would return (a Value and Values when nested or called with Values).

    Example:
        >>> loss, slope = value_and_grad(lambda w: (w * 2.0 - 3.0) ** 2)(0.5)
        >>> print(f"{loss:.2f} {slope:.2f}")
        4.00 -8.00
    """
    _normalize_argnums(argnums, "value_and_grad")

    @functools.wraps(function)
    def both(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        output, results, nested, single = _evaluate(
            function, args, kwargs, argnums, "value_and_grad"
        )
        value: Any = output if nested else output.data
        return value, results[0] if single else results

    return both


def hessian(function: Callable[..., Any]) -> Callable[..., list[list[Any]]]:
    """The matrix of second derivatives of ``function`` with respect to all its arguments.

    ``hessian(f)(*xs)[i][j]`` is d2f / dx_i dx_j, computed by differentiating the recorded
    gradient (``create_graph``) once more, so it is exact, not a finite difference.

    Args:
        function: Takes one Value per argument and returns a scalar ``Value``.

    Returns:
        A function returning the Hessian as a list of lists (n x n for n arguments) of floats,
        or of Values when called with Values or inside another derivative function.

    Example:
        >>> f = lambda a, b: a**3 - 2 * a * b - b**6
        >>> hessian(f)(1.0, 2.0)
        [[6.0, -2.0], [-2.0, -480.0]]
    """

    @functools.wraps(function)
    def second(*args: Any, **kwargs: Any) -> list[list[Any]]:
        if not args:
            raise TypeError("hessian: the function needs at least one argument")
        nested = _is_nested(args, kwargs)
        with enable_grad(), _Nested():  # recording even inside no_grad, as grad does
            variables = [_variable(a, "hessian") for a in args]
            output = _check_output(function(*variables, **kwargs), function, "hessian")
            first = gradients(output, variables, create_graph=True)
            rows: list[list[Any]] = []
            for g in first:
                if isinstance(g, Value):
                    row = list(gradients(g, variables, create_graph=nested))
                else:  # a constant first derivative: its derivatives are all zero
                    row = [0.0] * len(variables)
                if nested:
                    rows.append([d if isinstance(d, Value) else Value(d) for d in row])
                else:
                    rows.append([float(d) for d in row])
        return rows

    return second
