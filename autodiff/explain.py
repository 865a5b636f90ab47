"""Chain-rule explanations: ``explain`` writes out d output / d wrt the way one derives it by hand.

This module owns turning a recorded graph into text: one line per path from ``wrt`` to
``output`` as a product of named local derivatives, the same product with numbers, and the sum.
It reads the graph and the local derivatives (``autodiff.engine.partials``) and changes nothing:
no ``grad`` is touched. It does not own the chain rule used for training (the engine's
``backward``); the total it prints is computed independently, by summing over paths.

Reading in terms of names. Only nodes with a label (plus ``output`` and ``wrt``, which are
called by their op's name when unlabelled) appear in the chain. The unlabelled nodes between
two named nodes are folded into one factor: for ``L = 0.5 * (y - t) ** 2`` the factor dL/dy is
the product of the local derivatives of the unnamed ``-``, ``**`` and ``*`` nodes between ``y``
and ``L`` (``y - t``), summed over the unnamed routes if there are several. Label the
intermediate values you want to see.

Walks are iterative, and the number of paths is counted by dynamic programming (it can grow
exponentially with depth); only the first ``max_paths`` paths are spelled out.

Example:
    >>> from autodiff import Value
    >>> x = Value(2.0, label="x")
    >>> y = (x * x).tanh()
    >>> y.label = "y"
    >>> print(explain(y, x))
    dy/dx = 0.0054
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from autodiff.engine import Value, partials, topological_order

__all__ = ["Explanation", "Factor", "explain"]


class Factor(NamedTuple):
    """One factor of a path: the local derivative d upper / d lower between two named nodes.

    Attributes:
        upper: The node nearer the output.
        lower: The node nearer ``wrt``.
        value: d upper / d lower through the unnamed nodes between them (a float).
        name: The factor written out, e.g. ``"dL/dy"``.
    """

    upper: Value
    lower: Value
    value: float
    name: str


@dataclass(frozen=True, eq=False)
class Explanation:
    """The derivation of d output / d wrt as text, with its parts kept for programs.

    ``str(explanation)`` is the text.

    Attributes:
        output: The differentiated node.
        wrt: The node differentiated with respect to.
        total: d output / d wrt, the sum over all paths.
        path_count: How many paths lead from ``wrt`` to ``output`` (all of them).
        paths: The paths spelled out in the text (at most ``max_paths``), each a tuple of
            factors from ``output`` down to ``wrt``.
        text: The derivation.
    """

    output: Value
    wrt: Value
    total: float
    path_count: int
    paths: tuple[tuple[Factor, ...], ...]
    text: str

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Explanation(total={self.total!r}, path_count={self.path_count})"


_SIMPLE_NAME = re.compile(r"[\w.']+")


def _node_name(node: Value, output: Value, wrt: Value) -> str:
    # An unlabelled output or wrt is called by its op ("dsoftplus/dx"), a leaf by its role.
    if node.label:
        return node.label
    if node.op is not None:
        return node.op
    return "output" if node is output and node is not wrt else "input"


def _d(name: str) -> str:
    """``dL`` for a simple name, ``d(y - t)`` for one with spaces or symbols."""
    return f"d{name}" if _SIMPLE_NAME.fullmatch(name) else f"d({name})"


_WHOLE = re.compile(r"-?\d+\.0+")


def _number(x: float, number_format: str) -> str:
    """``x`` with ``number_format``, whole numbers without their zero decimals (``-1``)."""
    text = format(x, number_format)
    if _WHOLE.fullmatch(text):
        text = text.partition(".")[0]
        return "0" if text == "-0" else text
    return text


def _depends_on(order: list[Value], wrt: Value) -> set[Value]:
    """The nodes of ``order`` (inputs first) that depend on ``wrt``, ``wrt`` included."""
    reached = {wrt}
    start = order.index(wrt) + 1
    for node in order[start:]:
        if any(parent in reached for parent in node.parents):
            reached.add(node)
    return reached


def _folded_factors(
    upper: Value,
    relevant: set[Value],
    named: set[Value],
    position: dict[Value, int],
) -> dict[Value, float]:
    """d upper / d v for each named v below ``upper``, through unnamed nodes only."""
    # Collect the unnamed region below ``upper`` (iteratively), then run a small reverse pass
    # over it, outputs first, stopping at named nodes.
    region: list[Value] = []
    seen = {upper}
    stack = [upper]
    while stack:
        node = stack.pop()
        for parent in node.parents:
            if parent in relevant and parent not in named and parent not in seen:
                seen.add(parent)
                region.append(parent)
                stack.append(parent)
    region.sort(key=position.__getitem__, reverse=True)
    adjoint: dict[Value, float] = {upper: 1.0}
    factors: dict[Value, float] = {}
    for node in [upper, *region]:
        a = adjoint.pop(node, 0.0)
        for parent, d in zip(node.parents, partials(node), strict=True):
            if parent not in relevant:
                continue
            if parent in named:
                factors[parent] = factors.get(parent, 0.0) + a * d
            else:
                adjoint[parent] = adjoint.get(parent, 0.0) + a * d
    # Earlier nodes first, so paths come out in the order the graph was built (y0, y1, ...).
    return dict(sorted(factors.items(), key=lambda item: position[item[0]]))


def _first_paths(
    output: Value,
    wrt: Value,
    edges: dict[Value, dict[Value, float]],
    limit: int,
) -> Iterator[list[tuple[Value, Value, float]]]:
    """Yield up to ``limit`` paths from ``output`` down to ``wrt``, depth first, iteratively."""
    if limit <= 0:
        return
    found = 0
    path: list[tuple[Value, Value, float]] = []
    stack: list[Iterator[tuple[Value, float]]] = [iter(edges[output].items())]
    current = [output]
    while stack:
        step = next(stack[-1], None)
        if step is None:
            stack.pop()
            current.pop()
            if path:
                path.pop()
            continue
        lower, value = step
        path.append((current[-1], lower, value))
        if lower is wrt:
            yield list(path)
            found += 1
            if found >= limit:
                return
            path.pop()
            continue
        current.append(lower)
        stack.append(iter(edges[lower].items()))


def explain(
    output: Value,
    wrt: Value,
    *,
    number_format: str = ".4f",
    max_paths: int = 8,
) -> Explanation:
    """Derive d output / d wrt by the chain rule, as text, path by path.

    Each path from ``wrt`` up to ``output`` through labelled nodes gives one product of local
    derivatives (unlabelled nodes folded into the factors around them); the derivative is
    the sum of the products over all paths.

    Args:
        output: The node to differentiate.
        wrt: The node to differentiate with respect to (any node ``output`` depends on).
        number_format: The format spec for non-whole numbers.
        max_paths: How many paths to spell out; the rest are counted ("... and N more paths").

    Returns:
        An ``Explanation``: ``str()`` of it is the text; ``total``, ``path_count`` and
        ``paths`` hold the numbers.

    Example:
        >>> from autodiff import Value
        >>> x = Value(1.0, label="x")
        >>> W1, b1 = Value(0.5, label="W1"), Value(0.0, label="b1")
        >>> W2, b2 = Value(-1.0, label="W2"), Value(0.0, label="b2")
        >>> z = W1 * x + b1
        >>> a = z.sigmoid()
        >>> y = W2 * a + b2
        >>> L = 0.5 * (y - 0.0) ** 2
        >>> z.label, a.label, y.label, L.label = "z", "a", "y", "L"
        >>> print(explain(L, W1))
        dL/dW1 = dL/dy * dy/da * da/dz * dz/dW1
               = (-0.6225)(-1)(0.2350)(1)
               = 0.1463
    """
    if not isinstance(output, Value):
        raise TypeError(f"explain: output must be a Value, got {type(output).__name__}")
    if not isinstance(wrt, Value):
        raise TypeError(f"explain: wrt must be a Value, got {type(wrt).__name__}")
    if isinstance(max_paths, bool) or not isinstance(max_paths, int) or max_paths < 0:
        raise ValueError(f"explain: max_paths must be an int >= 0, got {max_paths!r}")
    try:
        format(1.5, number_format)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"explain: number_format {number_format!r} is not a float format spec"
        ) from error

    def name(node: Value) -> str:
        return _node_name(node, output, wrt)

    header = f"{_d(name(output))}/{_d(name(wrt))}"
    order = topological_order(output)
    position = {node: i for i, node in enumerate(order)}
    if wrt not in position:
        text = f"{header} = 0 ({name(output)} does not depend on {name(wrt)})"
        return Explanation(output, wrt, 0.0, 0, (), text)
    if wrt is output:
        return Explanation(output, wrt, 1.0, 1, ((),), f"{header} = 1")

    relevant = _depends_on(order, wrt)
    named = {node for node in relevant if node.label} | {output, wrt}
    named_in_order = [node for node in order if node in named]  # wrt first, output last
    edges: dict[Value, dict[Value, float]] = {wrt: {}}
    count: dict[Value, int] = {wrt: 1}
    total: dict[Value, float] = {wrt: 1.0}
    for node in named_in_order[1:]:
        factors = _folded_factors(node, relevant, named, position)
        edges[node] = factors
        count[node] = sum(count[lower] for lower in factors)
        total[node] = math.fsum(value * total[lower] for lower, value in factors.items())

    paths = tuple(
        tuple(
            Factor(upper, lower, value, f"{_d(name(upper))}/{_d(name(lower))}")
            for upper, lower, value in steps
        )
        for steps in _first_paths(output, wrt, edges, max_paths)
    )
    path_count = count[output]
    derivative = total[output]

    def numbers(path: tuple[Factor, ...]) -> str:
        return "".join(f"({_number(f.value, number_format)})" for f in path)

    def product(path: tuple[Factor, ...]) -> str:
        return _number(math.prod(f.value for f in path), number_format)

    result = _number(derivative, number_format)
    lines: list[str]
    if path_count == 1:
        (path,) = paths
        if len(path) == 1:
            lines = [f"{header} = {result}"]
        else:
            indent = " " * len(header)
            lines = [
                f"{header} = {' * '.join(f.name for f in path)}",
                f"{indent} = {numbers(path)}",
                f"{indent} = {result}",
            ]
    else:
        lines = [f"{header} = sum over {path_count} paths from {name(wrt)} to {name(output)}:"]
        for path in paths:
            lines.append(
                f"  {' * '.join(f.name for f in path)} = {numbers(path)} = {product(path)}"
            )
        hidden = path_count - len(paths)
        if hidden:
            lines.append(f"  ... and {hidden} more path{'' if hidden == 1 else 's'}")
        lines.append(f"{header} = {result}")
    return Explanation(output, wrt, derivative, path_count, paths, "\n".join(lines))
