"""Chain-rule explanations: ``explain`` writes out d output / d wrt the way one derives it by hand.

This module owns turning a recorded graph into a derivation: one product of local derivatives
per path from ``wrt`` to ``output``, the same product with numbers, and the sum; as text
(``str``), as formatted maths for notebooks (``_repr_html_``, ``_repr_latex_``), and as data
(``Explanation.paths``). It also owns how nodes are named for people (``node_names``). It reads
the graph and the local derivatives (``autodiff.engine.partials``) and changes nothing: no
``grad`` is touched. It does not own the chain rule used for training (the engine's
``backward``); the total it prints is computed independently, by summing over paths.

Names. A node is called by its label, or ``n<i>`` when it has none (``i`` is its index in
``topological_order(output)``, the same name ``to_text`` prints), or ``n<i>[label]`` when its
label would be ambiguous; see ``node_names``. By default every node between ``wrt`` and
``output`` is a link of the chain, so an unlabelled ``x * x + x`` still shows the product node
and its factors. With ``fold=True`` only labelled nodes (and ``output`` and ``wrt``) are links
and the unlabelled nodes between two links are folded into one factor: for
``L = 0.5 * (y - t) ** 2`` the factor dL/dy is then the product of the local derivatives of the
``-``, ``**`` and ``*`` nodes between ``y`` and ``L``, summed over the routes if there are several.

Walks are iterative, and the number of paths is counted by dynamic programming (it can grow
exponentially with depth); only the first ``max_paths`` paths are spelled out.

Example:
    >>> from autodiff import Value
    >>> x = Value(2.0, label="x")
    >>> y = (x * x).tanh()
    >>> y.label = "y"
    >>> print(explain(y, x))
    dy/dx = dy/dn1 * dn1/dx
          = (0.0013)(4)
          = 0.0054
    >>> print(explain(y, x, fold=True))
    dy/dx = 0.0054
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from autodiff.engine import Value, partials, topological_order

__all__ = ["Explanation", "Factor", "derivative_name", "explain", "node_names"]


# ----------------------------------------------------------------------------------------------
# Names for people


# Characters a name must not carry raw: control characters and lone surrogates. Newlines are
# handled first (as ``\n``), so every name stays on one line of text.
_UNPRINTABLE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


def _one_line(text: str) -> str:
    """``text`` on one line: newlines and control characters written as escapes."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _reads_as_number(label: str) -> bool:
    """True for a label such as ``2`` or ``0.5``, which would look like a number operand."""
    try:
        float(label)
    except ValueError:
        return False
    return True


def node_names(order: Sequence[Value]) -> list[str]:
    """The name people read for each node of ``order``: its label, or ``n<i>``.

    ``i`` is the node's index in ``order``, normally ``topological_order(output)``, so the
    names are the same wherever that graph is shown (``explain``, ``to_text``, ``check_chain``).
    A label is used as it is unless it would be ambiguous; then the node is called
    ``n<i>[label]``. A label is ambiguous when another node of ``order`` has the same label,
    when it is spelled like another node's automatic name (a node labelled ``n0`` that is not
    at index 0), or when it reads as a number (a node labelled ``2`` would look like the number
    2 in ``x * 2``). Newlines and control characters in labels are written as escapes, so each
    name fits on one line.

    Args:
        order: The nodes to name, each once.

    Returns:
        One name per node, in the order given.

    Example:
        >>> from autodiff import Value, topological_order
        >>> x = Value(3.0, label="x")
        >>> node_names(topological_order(x * x + x))
        ['x', 'n1', 'n2']
        >>> a, b = Value(1.0, label="w"), Value(2.0, label="w")
        >>> node_names(topological_order(a * b))
        ['n0[w]', 'n1[w]', 'n2']
    """
    nodes = list(order)
    for node in nodes:
        if not isinstance(node, Value):
            raise TypeError(f"node_names: expected Values, got {type(node).__name__}")
    counts: dict[str, int] = {}
    for node in nodes:
        counts[node.label] = counts.get(node.label, 0) + 1
    automatic = {f"n{i}" for i in range(len(nodes))}
    names = []
    for i, node in enumerate(nodes):
        label = node.label
        if label and counts[label] == 1 and label not in automatic and not _reads_as_number(label):
            names.append(_one_line(label))
        elif label:
            names.append(f"n{i}[{_one_line(label)}]")
        else:
            names.append(f"n{i}")
    return names


def _outside_name(node: Value) -> str:
    """The name of a node that is not in the graph being explained."""
    return _one_line(node.label) if node.label else "input"


# ----------------------------------------------------------------------------------------------
# The result


class Factor(NamedTuple):
    """One factor of a path: the derivative d upper / d lower between two links of the chain.

    Attributes:
        upper: The node nearer the output.
        lower: The node nearer ``wrt``.
        value: d upper / d lower (a float): the local derivative when ``upper`` is computed
            from ``lower`` directly (the sum over both edges for ``lower * lower``); with
            ``fold=True``, through the unlabelled nodes between them.
        name: The factor written out, e.g. ``"dL/dy"``.
    """

    upper: Value
    lower: Value
    value: float
    name: str


@dataclass(frozen=True, eq=False)
class Explanation:
    r"""The derivation of d output / d wrt, as text and maths, with its parts kept for programs.

    ``str(explanation)`` is the text; in a notebook it shows as formatted maths
    (``_repr_html_`` gives HTML with stacked fractions, ``_repr_latex_`` gives LaTeX).

    Attributes:
        output: The differentiated node.
        wrt: The node differentiated with respect to.
        total: d output / d wrt, the sum over all paths.
        path_count: How many paths lead from ``wrt`` to ``output`` (all of them).
        paths: The paths spelled out in the text (at most ``max_paths``), each a tuple of
            factors from ``output`` down to ``wrt``.
        text: The derivation.
        names: The name each node of the graph is called by (see ``node_names``).
        number_format: The format spec the numbers are written with (a number it would write
            as 0 is written with significant digits, see ``explain``).

    Example:
        >>> from autodiff import Value
        >>> x = Value(1.0, label="x")
        >>> y = 3 * x
        >>> L = y * y
        >>> y.label, L.label = "y", "L"
        >>> explanation = explain(L, x)
        >>> explanation.total, explanation.path_count
        (18.0, 1)
        >>> print(explanation._repr_latex_())
        $$
        \begin{aligned}
        \frac{\partial L}{\partial x} &= \frac{\partial L}{\partial y}
            \, \frac{\partial y}{\partial x} \\
        &= (6) (3) \\
        &= 18
        \end{aligned}
        $$
    """

    output: Value
    wrt: Value
    total: float
    path_count: int
    paths: tuple[tuple[Factor, ...], ...]
    text: str
    names: dict[Value, str] = field(default_factory=dict, repr=False)
    number_format: str = ".4f"

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"Explanation(total={self.total!r}, path_count={self.path_count})"

    def _repr_latex_(self) -> str:
        """The derivation as LaTeX maths (an ``aligned`` block), for notebooks."""
        lines = []
        for left, right in _rows(self):
            lhs = "".join(_latex(piece) for piece in left)
            rhs = " ".join(_latex(piece) for piece in right)
            lines.append(f"{lhs} &= {rhs} \\\\".lstrip())
        lines[-1] = lines[-1].removesuffix(" \\\\")
        return "$$\n\\begin{aligned}\n" + "\n".join(lines) + "\n\\end{aligned}\n$$"

    def _repr_html_(self) -> str:
        """The derivation as HTML with stacked fractions (no script, no maths library)."""
        rows = []
        for left, right in _rows(self):
            lhs = "".join(_html(piece) for piece in left)
            rhs = " ".join(_html(piece) for piece in right)
            rows.append(
                f'<tr><td style="text-align:right;padding:2px 4px">{lhs}</td>'
                f'<td style="padding:2px 4px">=</td>'
                f'<td style="text-align:left;padding:2px 4px">{rhs}</td></tr>'
            )
        return (
            '<div class="autodiff-explanation" style="font-family:serif;font-size:1.05em">'
            f'<table style="border-collapse:collapse">{"".join(rows)}</table></div>'
        )


# ----------------------------------------------------------------------------------------------
# Formatted maths: one model of the rows, rendered as LaTeX or as HTML


class _Fraction(NamedTuple):
    upper: str  # a node name
    lower: str


class _Number(NamedTuple):
    text: str  # a formatted number
    wrapped: bool  # in parentheses, as a factor of a product


class _Symbol(NamedTuple):
    text: str  # "+", "\u22c5" (product), "\u2026"


class _Words(NamedTuple):
    text: str  # plain words, node names included as they are


_Piece = _Fraction | _Number | _Symbol | _Words
_PRODUCT = _Symbol("\u22c5")


def _rows(explanation: Explanation) -> list[tuple[list[_Piece], list[_Piece]]]:
    """The derivation as rows ``(left side, right side)`` of an aligned equation."""
    names = explanation.names
    output_name = names.get(explanation.output) or _outside_name(explanation.output)
    wrt_name = names.get(explanation.wrt) or _outside_name(explanation.wrt)
    header: list[_Piece] = [_Fraction(output_name, wrt_name)]
    spec = explanation.number_format

    def number(x: float, wrapped: bool = False, significant: bool = False) -> _Number:
        return _Number(_number(x, spec, significant), wrapped)

    if explanation.path_count == 0:
        words = _Words(f"({output_name} does not depend on {wrt_name})")
        return [(header, [number(0.0), words])]
    paths = explanation.paths
    single = explanation.path_count == 1 and len(paths) == 1
    total = number(explanation.total, significant=single and _tiny(paths[0], spec))
    if explanation.path_count == 1 and paths and len(paths[0]) <= 1:
        return [(header, [total])]

    def chain(path: tuple[Factor, ...]) -> list[_Piece]:
        pieces: list[_Piece] = []
        for factor in path:
            if pieces:
                pieces.append(_PRODUCT)
            pieces.append(_Fraction(names[factor.upper], names[factor.lower]))
        return pieces

    def values(path: tuple[Factor, ...]) -> list[_Piece]:
        return [number(factor.value, wrapped=True) for factor in path]

    def joined(parts: list[list[_Piece]], more: bool) -> list[_Piece]:
        pieces: list[_Piece] = []
        for part in parts:
            if pieces:
                pieces.append(_Symbol("+"))
            pieces.extend(part)
        if more:
            pieces.extend([_Symbol("+"), _Symbol("\u2026")] if pieces else [_Symbol("\u2026")])
        return pieces

    hidden = explanation.path_count - len(paths)
    rows: list[tuple[list[_Piece], list[_Piece]]] = [
        (header, joined([chain(path) for path in paths], hidden > 0)),
        ([], joined([values(path) for path in paths], hidden > 0)),
    ]
    if explanation.path_count > 1:
        products: list[list[_Piece]] = [
            [number(math.prod(f.value for f in path), significant=_tiny(path, spec))]
            for path in paths
        ]
        sums = joined(products, hidden > 0)
        if hidden:
            sums.append(_Words(f"({hidden} more path{'' if hidden == 1 else 's'})"))
        rows.append(([], sums))
    rows.append(([], [total]))
    return rows


_LATEX_SPECIAL = {
    "\\": "\\backslash ",
    "{": "\\{",
    "}": "\\}",
    "$": "\\$",
    "&": "\\&",
    "#": "\\#",
    "%": "\\%",
    "_": "\\_",
    "^": "\\hat{}",
    "~": "\\sim ",
    " ": "\\ ",
}
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_SCIENTIFIC = re.compile(r"(-?\d+(?:\.\d+)?)[eE]([+-]?\d+)")  # 2.458e-05


def _latex_name(name: str) -> str:
    """A node name in math italics, every character that means something to LaTeX escaped."""
    text = "".join(_LATEX_SPECIAL.get(char, char) for char in name)
    return text if re.fullmatch(r"[A-Za-z0-9]+", name) else f"\\mathit{{{text}}}"


def _latex_text(words: str) -> str:
    """Words as LaTeX text; node names in them are written in math italics by ``_latex_name``."""
    return f"\\text{{{words}}}" if re.fullmatch(r"[\w ().,]*", words) else _latex_name(words)


def _latex(piece: _Piece) -> str:
    if isinstance(piece, _Fraction):
        upper, lower = _latex_name(piece.upper), _latex_name(piece.lower)
        return f"\\frac{{\\partial {upper}}}{{\\partial {lower}}}"
    if isinstance(piece, _Number):
        scientific = _SCIENTIFIC.fullmatch(piece.text)
        if scientific:  # 2.458e-05 as 2.458 \times 10^{-5}
            mantissa, exponent = scientific.groups()
            text = f"{mantissa} \\times 10^{{{int(exponent)}}}"
        elif _PLAIN_NUMBER.fullmatch(piece.text):
            text = piece.text
        else:
            text = _latex_name(piece.text)
        return f"({text})" if piece.wrapped else text
    if isinstance(piece, _Symbol):
        return {"+": "+", "\u22c5": "\\,", "\u2026": "\\cdots"}[piece.text]
    return f"\\quad {_latex_text(piece.text)}"


def _html(piece: _Piece) -> str:
    if isinstance(piece, _Fraction):
        cell = "display:block;padding:0 0.15em"
        return (
            '<span style="display:inline-block;vertical-align:middle;text-align:center">'
            f'<span style="{cell};border-bottom:1px solid currentColor">'
            f"\u2202<i>{html.escape(piece.upper)}</i></span>"
            f'<span style="{cell}">\u2202<i>{html.escape(piece.lower)}</i></span></span>'
        )
    if isinstance(piece, _Number):
        scientific = _SCIENTIFIC.fullmatch(piece.text)
        if scientific:  # 2.458e-05 as 2.458 × 10 to the power -5
            mantissa, exponent = scientific.groups()
            text = f"{mantissa}\u00d710<sup>{int(exponent)}</sup>".replace("-", "\u2212")
        else:
            text = html.escape(piece.text.replace("-", "\u2212"))
        return f"({text})" if piece.wrapped else text
    if isinstance(piece, _Symbol):
        return {"+": "+", "\u22c5": "", "\u2026": "\u2026"}[piece.text]
    return f'<span style="font-family:sans-serif">{html.escape(piece.text)}</span>'


# ----------------------------------------------------------------------------------------------
# The derivation


_SIMPLE_NAME = re.compile(r"[\w.']+")


def _d(name: str) -> str:
    """``dL`` for a simple name, ``d(y - t)`` for one with spaces or symbols."""
    return f"d{name}" if _SIMPLE_NAME.fullmatch(name) else f"d({name})"


def derivative_name(upper: str, lower: str) -> str:
    """The derivative d upper / d lower written as ``explain`` writes it, from two node names.

    A name with spaces or symbols is put in parentheses, so the fraction stays unambiguous.

    Example:
        >>> derivative_name("L", "y"), derivative_name("L", "y - t")
        ('dL/dy', 'dL/d(y - t)')
    """
    return f"{_d(upper)}/{_d(lower)}"


_WHOLE = re.compile(r"-?\d+\.0+")
_PRECISION = re.compile(r"\.(\d+)")


def _shows_zero(x: float, number_format: str) -> bool:
    """True when ``x`` is not 0 but ``number_format`` writes it as 0 (``.4f``: 2.5e-05)."""
    if x == 0.0 or not math.isfinite(x):
        return False
    mantissa = re.split("[eE]", format(x, number_format))[0]
    return not re.search("[1-9]", mantissa)


def _number(x: float, number_format: str, significant: bool = False) -> str:
    """``x`` with ``number_format``, whole numbers without their zero decimals (``-1``).

    A number that is not 0 is never written as 0: when ``number_format`` would (a fixed
    number of decimals, a tiny number), or when ``significant`` is asked for, it is written
    with as many significant digits as the format has decimals (``2.458e-05``).
    """
    if significant or _shows_zero(x, number_format):
        precision = _PRECISION.search(number_format)
        digits = max(int(precision.group(1)), 1) if precision else 6
        return format(x, f".{digits}g")
    text = format(x, number_format)
    if _WHOLE.fullmatch(text):
        text = text.partition(".")[0]
        return "0" if text == "-0" else text
    return text


def _tiny(path: Sequence[Factor], number_format: str) -> bool:
    """Whether a factor of ``path`` needs significant digits; its product then does too.

    ``(3)(2.458e-05) = 0.0001`` would read as wrong arithmetic; ``= 7.373e-05`` does not.
    """
    return any(_shows_zero(factor.value, number_format) for factor in path)


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
    links: set[Value],
    position: dict[Value, int],
) -> dict[Value, float]:
    """d upper / d v for each link v below ``upper``, through nodes that are not links."""
    # Collect the region of non-links below ``upper`` (iteratively), then run a small reverse
    # pass over it, outputs first, stopping at links. When every node is a link the region is
    # empty and this is just the node's local derivatives, parallel edges summed.
    region: list[Value] = []
    seen = {upper}
    stack = [upper]
    while stack:
        node = stack.pop()
        for parent in node.parents:
            if parent in relevant and parent not in links and parent not in seen:
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
            if parent in links:
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
    fold: bool = False,
) -> Explanation:
    """Derive d output / d wrt by the chain rule, path by path, with numbers.

    Each path from ``wrt`` up to ``output`` gives one product of local derivatives; the
    derivative is the sum of the products over all paths. Nodes are called by their labels,
    unlabelled ones ``n<i>`` as ``to_text`` calls them (see ``node_names``).

    Args:
        output: The node to differentiate.
        wrt: The node to differentiate with respect to (any node ``output`` depends on).
        number_format: The format spec for non-whole numbers. A number that is not 0 but
            would be written as 0 (2.5e-05 with ``.4f``) is written with as many significant
            digits as the format has decimals instead (``2.458e-05``), and so is the product
            of a path it is a factor of, so that the arithmetic on the line reads right.
        max_paths: How many paths to spell out; the rest are counted ("... and N more paths").
        fold: Show only labelled nodes (and ``output`` and ``wrt``) as links of the chain,
            folding the unlabelled nodes between two links into one factor: a summary in
            the terms you named.

    Returns:
        An ``Explanation``: ``str()`` of it is the text; ``total``, ``path_count`` and
        ``paths`` hold the numbers. In a notebook it shows as formatted maths.

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
        >>> print(explain(L, W1, fold=True))
        dL/dW1 = dL/dy * dy/da * da/dz * dz/dW1
               = (-0.6225)(-1)(0.2350)(1)
               = 0.1463
        >>> print(explain(L, W1))
        dL/dW1 = dL/dn11 * dn11/dn10 * dn10/dy * dy/dn7 * dn7/da * da/dz * dz/dn3 * dn3/dW1
               = (0.5000)(-1.2449)(1)(1)(-1)(0.2350)(1)(1)
               = 0.1463

        The unlabelled nodes are called as ``to_text(L)`` calls them: ``n3`` is ``W1 * x``,
        ``n7`` is ``W2 * a``, ``n10`` is ``y - 0.0`` and ``n11`` its square.
    """
    if not isinstance(output, Value):
        raise TypeError(f"explain: output must be a Value, got {type(output).__name__}")
    if not isinstance(wrt, Value):
        raise TypeError(f"explain: wrt must be a Value, got {type(wrt).__name__}")
    if isinstance(max_paths, bool) or not isinstance(max_paths, int) or max_paths < 0:
        raise ValueError(f"explain: max_paths must be an int >= 0, got {max_paths!r}")
    if not isinstance(fold, bool):
        raise TypeError(f"explain: fold must be True or False, got {fold!r}")
    try:
        format(1.5, number_format)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"explain: number_format {number_format!r} is not a float format spec"
        ) from error

    order = topological_order(output)
    names = dict(zip(order, node_names(order), strict=True))

    def name(node: Value) -> str:
        return names.get(node) or _outside_name(node)

    header = derivative_name(name(output), name(wrt))

    def result(
        total: float, count: int, paths: tuple[tuple[Factor, ...], ...], text: str
    ) -> Explanation:
        return Explanation(output, wrt, total, count, paths, text, names, number_format)

    if wrt not in names:
        return result(0.0, 0, (), f"{header} = 0 ({name(output)} does not depend on {name(wrt)})")
    if wrt is output:
        return result(1.0, 1, ((),), f"{header} = 1")

    position = {node: i for i, node in enumerate(order)}
    relevant = _depends_on(order, wrt)
    links = ({node for node in relevant if node.label} | {output, wrt}) if fold else relevant
    links_in_order = [node for node in order if node in links]  # wrt first, output last
    edges: dict[Value, dict[Value, float]] = {wrt: {}}
    count: dict[Value, int] = {wrt: 1}
    total: dict[Value, float] = {wrt: 1.0}
    for node in links_in_order[1:]:
        factors = _folded_factors(node, relevant, links, position)
        edges[node] = factors
        count[node] = sum(count[lower] for lower in factors)
        total[node] = math.fsum(value * total[lower] for lower, value in factors.items())

    paths = tuple(
        tuple(
            Factor(upper, lower, value, derivative_name(name(upper), name(lower)))
            for upper, lower, value in steps
        )
        for steps in _first_paths(output, wrt, edges, max_paths)
    )
    path_count = count[output]
    derivative = total[output]

    def numbers(path: tuple[Factor, ...]) -> str:
        return "".join(f"({_number(f.value, number_format)})" for f in path)

    def product(path: tuple[Factor, ...]) -> str:
        return _number(math.prod(f.value for f in path), number_format, _tiny(path, number_format))

    single = path_count == 1 and len(paths) == 1
    final = _number(derivative, number_format, single and _tiny(paths[0], number_format))
    lines: list[str]
    if path_count == 1 and paths:
        (path,) = paths
        if len(path) == 1:
            lines = [f"{header} = {final}"]
        else:
            indent = " " * len(header)
            lines = [
                f"{header} = {' * '.join(f.name for f in path)}",
                f"{indent} = {numbers(path)}",
                f"{indent} = {final}",
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
        lines.append(f"{header} = {final}")
    return result(derivative, path_count, paths, "\n".join(lines))
