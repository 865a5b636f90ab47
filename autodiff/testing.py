"""Checking hand derivations: a person's gradients and chain-rule factors against the engine's.

This module owns comparing numbers derived by hand with the engine's: the final gradients
(``assert_gradients``) and the local derivatives of a chain-rule product (``check_chain``),
and the reports both give (a table as text, and as HTML in notebooks). When a factor is wrong,
``check_chain`` says which edge of the graph it belongs to, the op's derivative rule and the
point the engine evaluated it at, and, where it can, what the wrong number is instead (the
same rule at another node's value, the opposite sign, the fraction upside down, ...).

It reads the graph and asks the engine for derivatives (``autodiff.engine.gradients``); it
changes no ``grad``. It does not own the chain rule (``autodiff.engine``), the derivation text
(``autodiff.explain``) nor comparisons with finite differences (``autodiff.check``).

Both checks raise ``DerivationError``, an ``AssertionError`` whose message is the report, so
they work as plain asserts in pytest; the error keeps the report (``error.report``), which a
notebook shows as a table. The report has no blank line, so it can be pasted into a doctest as
it is. Two numbers agree when ``|yours - engine| <= max(rel * |engine|, abs)``, as in
``pytest.approx``.

Lining factors up with the graph: a chain with one factor per step of a single path is lined
up factor k with step k, at any length; folded factors are lined up by a search (dynamic
programming for the best alignment on small graphs, a search for an agreeing one on large
ones) whose work is bounded. Past the bound ``check_chain`` raises a ValueError that says so,
and it never blames a factor it could not line up.

Example:
    >>> from autodiff import Value
    >>> w = Value(0.5, label="w")
    >>> error = (w * 3.0 - 1.0) ** 2  # d error/dw = 2 (3w - 1) * 3 = 3 at w = 0.5
    >>> assert_gradients(error, {w: 3.0})  # agrees: prints nothing
    >>> check_chain(error, w, [2 * (3 * 0.5 - 1), 3.0]).passed
    True
"""

from __future__ import annotations

import collections
import html
import itertools
import math
import operator
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from autodiff.coerce import to_float
from autodiff.engine import Value, gradients, partials, topological_order
from autodiff.explain import Explanation, Factor, derivative_name, explain, node_names

__all__ = [
    "ChainReport",
    "ChainRow",
    "DerivationError",
    "GradientReport",
    "GradientRow",
    "assert_gradients",
    "check_chain",
]

DEFAULT_REL = 1e-6
"""Default relative tolerance: a hand-derived number printed to 7 digits still agrees."""
DEFAULT_ABS = 1e-12
"""Default absolute tolerance, for gradients that are 0."""

# More paths than this are counted, not listed; per-path chains need at most this many.
_MAX_PATHS = 64
# How much lining factors up with the graph check_chain does (see _align_chain), each about a
# second: moves of the dynamic programming that finds the best alignment (a few microseconds
# each), and numbers compared by the search for an agreeing alignment along one path (a
# fraction of a microsecond each). A chain given one factor per step of one path needs neither.
_MAX_WORK = 300_000
_MAX_COMPARISONS = 3_000_000
# Above this many nodes check_chain does not look for the variable a wrong chain belongs to,
# nor try a wrong factor's rule at every node's value (only at the labelled nodes').
_MAX_SEARCH = 200
# A wrong factor folding more steps than this is not explained step by step.
_MAX_STEPS = 12

_MARK = "\u2717"  # the ballot x: a row that disagrees


# ----------------------------------------------------------------------------------------------
# Shared pieces: numbers, tolerances, tables


def _fmt(x: float | None, spec: str = ".6g") -> str:
    """A number for people; a result that rounds to zero never shows a minus sign."""
    if x is None:
        return "-"
    text = format(x, spec)
    return "0" if text in ("-0", "-0.0") else text


def _agree(yours: float, engine: float, rel: float, absolute: float) -> bool:
    """True when the two numbers agree within the tolerances (equal infinities and NaNs too)."""
    if math.isnan(yours) or math.isnan(engine):
        return math.isnan(yours) and math.isnan(engine)
    if math.isinf(yours) or math.isinf(engine):
        return yours == engine
    return math.fabs(yours - engine) <= max(rel * math.fabs(engine), absolute)


def _tolerances(rel: object, absolute: object, where: str) -> tuple[float, float]:
    checked = []
    for name, value in (("rel", rel), ("abs", absolute)):
        number = to_float(value, f"{where}: {name}")
        if not number >= 0.0 or math.isinf(number):
            raise ValueError(f"{where}: {name} must be a finite number >= 0, got {value!r}")
        checked.append(number)
    return checked[0], checked[1]


def _text_table(header: Sequence[str], rows: Sequence[Sequence[str]], marks: Sequence[bool]) -> str:
    """Columns padded to their widest cell; text columns left, number columns right."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    numeric = [
        all(_looks_numeric(row[i]) for row in rows) and bool(rows) for i in range(len(header))
    ]

    def line(cells: Sequence[str], mark: str) -> str:
        parts = [
            cell.rjust(width) if is_number else cell.ljust(width)
            for cell, width, is_number in zip(cells, widths, numeric, strict=True)
        ]
        return f"  {mark} " + "  ".join(parts).rstrip()

    lines = [line(header, " ")]
    lines += [line(row, _MARK if bad else " ") for row, bad in zip(rows, marks, strict=True)]
    return "\n".join(lines)


def _tolerance_line(rel: float, absolute: float) -> str:
    return f"  (agreeing: within rel {rel:g} or abs {absolute:g} of the engine's number)"


def _wrapped(lines: Iterable[str], width: int = 92) -> list[str]:
    """Each line wrapped to ``width``, continuation lines indented under their first."""
    out = []
    for line in lines:
        indent = " " * (len(line) - len(line.lstrip()))
        out.append(
            textwrap.fill(line, width, subsequent_indent=indent + "  ", break_on_hyphens=False)
            if line.strip()
            else ""
        )
    return out


def _looks_numeric(cell: str) -> bool:
    if cell in ("-", "", "nan", "inf", "-inf"):
        return True
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]], marks: Sequence[bool]) -> str:
    cell = "padding:2px 8px;text-align:left"
    head = "".join(
        f'<th style="{cell}"></th>' if not h else f'<th style="{cell}">{h}</th>'
        for h in ["", *header]
    )
    body = []
    for row, bad in zip(rows, marks, strict=True):
        shade = ' style="background:#fde2e2"' if bad else ""
        cells = "".join(f'<td style="{cell}">{html.escape(text)}</td>' for text in row)
        body.append(f'<tr{shade}><td style="{cell}">{_MARK if bad else ""}</td>{cells}</tr>')
    return (
        '<table style="border-collapse:collapse;font-family:monospace">'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


def _html_paragraphs(lines: Iterable[str]) -> str:
    return "".join(
        f'<p style="white-space:pre-wrap;font-family:monospace">{html.escape(line)}</p>'
        for line in lines
    )


class DerivationError(AssertionError):
    """A hand derivation disagrees with the engine; the message is the report.

    Attributes:
        report: The ``GradientReport`` or ``ChainReport``; a notebook shows it as a table.

    Example:
        >>> from autodiff import Value
        >>> x = Value(2.0, label="x")
        >>> try:
        ...     assert_gradients(x * x, {x: 5.0})
        ... except DerivationError as error:
        ...     print(error.report.passed)
        False
    """

    def __init__(self, report: GradientReport | ChainReport) -> None:
        super().__init__(str(report))
        self.report = report


# ----------------------------------------------------------------------------------------------
# assert_gradients


class GradientRow(NamedTuple):
    """One gradient of the comparison.

    Attributes:
        name: What the gradient is of: the node's name in the graph (see ``node_names``).
        node: The node.
        yours: The hand-derived number.
        engine: The engine's d output / d node.
        agrees: Whether the two agree within the tolerances.
    """

    name: str
    node: Value
    yours: float
    engine: float
    agrees: bool


@dataclass(frozen=True, eq=False)
class GradientReport:
    """Hand-derived gradients next to the engine's, with the engine's chain for each mismatch.

    ``str(report)`` is the text table (the message of ``DerivationError``); in a notebook the
    report shows as an HTML table.

    Attributes:
        output: The differentiated node.
        rows: One row per gradient, in the order given.
        rel: The relative tolerance.
        abs: The absolute tolerance.
        explanations: ``explain(output, node)`` for each row that disagrees, in order.
    """

    output: Value
    rows: tuple[GradientRow, ...]
    rel: float
    abs: float
    explanations: tuple[Explanation, ...]

    @property
    def passed(self) -> bool:
        """True when every gradient agrees."""
        return all(row.agrees for row in self.rows)

    def _explained(self) -> list[tuple[str, Explanation]]:
        wrong = [row.name for row in self.rows if not row.agrees]
        return list(zip(wrong, self.explanations, strict=True))

    def _title(self) -> str:
        bad = sum(not row.agrees for row in self.rows)
        output = self.explanations[0].names.get(self.output) if self.explanations else None
        of = f" of {output}" if output else ""
        if not bad:
            return f"assert_gradients: {_all_agree(len(self.rows), 'gradient')}"
        return f"assert_gradients: {bad} of {len(self.rows)} gradients{of} disagree with the engine"

    def _table(self) -> tuple[list[str], list[list[str]], list[bool]]:
        header = ["name", "yours", "engine", "difference", "relative"]
        cells = []
        for row in self.rows:
            difference = row.yours - row.engine
            if row.engine != 0.0:
                relative = _fmt(math.fabs(difference) / math.fabs(row.engine), ".3g")
            else:
                relative = "0" if difference == 0.0 else "inf"
            cells.append(
                [
                    row.name,
                    _fmt(row.yours, ".10g"),
                    _fmt(row.engine, ".10g"),
                    _fmt(difference, ".3g"),
                    relative,
                ]
            )
        return header, cells, [not row.agrees for row in self.rows]

    def __str__(self) -> str:
        parts = [self._title(), _text_table(*self._table()), _tolerance_line(self.rel, self.abs)]
        for name, explanation in self._explained():
            parts += [f"the engine's chain for {name}:", explanation.text]
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        parts = [_html_paragraphs([self._title()]), _html_table(*self._table())]
        parts.append(_html_paragraphs([_tolerance_line(self.rel, self.abs).strip()]))
        for name, explanation in self._explained():
            parts.append(_html_paragraphs([f"the engine's chain for {name}:"]))
            parts.append(explanation._repr_html_())
        return "".join(parts)


def _resolve(
    key: object, order: list[Value], names: dict[Value, str], where: str
) -> tuple[Value, str]:
    """The node a key of ``expected`` means (a Value, or a label), and its name."""
    if isinstance(key, Value):
        if key in names:
            return key, names[key]
        return key, key.label or "(a node outside the graph)"
    if isinstance(key, str):
        found = [node for node in order if node.label == key]
        if len(found) == 1:
            return found[0], names[found[0]]
        labels = sorted({node.label for node in order if node.label})
        if not found:
            known = ", ".join(labels) if labels else "none: label the nodes or pass the Values"
            raise ValueError(f"{where}: no node of the graph is labelled {key!r} (labels: {known})")
        raise ValueError(
            f"{where}: {len(found)} nodes of the graph are labelled {key!r} "
            f"({', '.join(names[node] for node in found)}); pass the Value itself"
        )
    raise TypeError(f"{where}: keys must be Values or labels (str), got {type(key).__name__}")


def _number(value: object, where: str) -> float:
    """A hand-derived number as a float; a Value or anything else is a TypeError."""
    if isinstance(value, Value):
        raise TypeError(f"{where} must be a number, got a Value (its number is .data)")
    try:
        return to_float(value, where)
    except TypeError:
        raise TypeError(
            f"{where} must be a number, got {type(value).__name__} ({value!r})"
        ) from None


def assert_gradients(
    output: Value,
    expected: Mapping[Value | str, object],
    *,
    rel: float = DEFAULT_REL,
    abs: float = DEFAULT_ABS,  # the name pytest.approx uses; this function needs no builtin abs
) -> None:
    """Assert that hand-derived gradients agree with the engine's; silent when they do.

    The engine's gradients are computed with ``autodiff.gradients``: no ``grad`` is touched,
    so this works before or after ``backward()`` and changes nothing.

    Args:
        output: The differentiated node (a loss, say).
        expected: Maps each node (a Value, or its label) to your d output / d node.
        rel: Relative tolerance, times ``|engine|``.
        abs: Absolute tolerance, for gradients near 0.

    Raises:
        DerivationError: Some gradient disagrees (an AssertionError). The message is a table
            (name, yours, engine, difference, relative) with the mismatches marked, then the
            engine's chain with numbers (``explain``) for each mismatch.
        TypeError: ``output`` is not a Value, a key is neither a Value nor a str, or a value
            is not a number.
        ValueError: ``expected`` is empty, a label names no node or several, a node is given
            twice, or a tolerance is negative.

    Example:
        >>> from autodiff import Value
        >>> x = Value(3.0, label="x")
        >>> y = x * x + x  # dy/dx = 2x + 1 = 7
        >>> assert_gradients(y, {"x": 7.0})
        >>> assert_gradients(y, {x: 6.0})
        Traceback (most recent call last):
        ...
        autodiff.testing.DerivationError: assert_gradients: 1 of 1 gradients of n2 disagree
        with the engine
            name  yours  engine  difference  relative
          ✗ x         6       7          -1     0.143
          (agreeing: within rel 1e-06 or abs 1e-12 of the engine's number)
        the engine's chain for x:
        dn2/dx = sum over 2 paths from x to n2:
          dn2/dx = (1) = 1
          dn2/dn1 * dn1/dx = (1)(6) = 6
        dn2/dx = 7
    """
    where = "assert_gradients"
    if not isinstance(output, Value):
        raise TypeError(f"{where}: output must be a Value, got {type(output).__name__}")
    if not isinstance(expected, Mapping):
        raise TypeError(
            f"{where}: expected must be a mapping {{node or label: number}}, "
            f"got {type(expected).__name__}"
        )
    if not expected:
        raise ValueError(f"{where}: expected is empty: there is nothing to check")
    rel, absolute = _tolerances(rel, abs, where)
    order = topological_order(output)
    names = dict(zip(order, node_names(order), strict=True))
    nodes: list[Value] = []
    labels: list[str] = []
    numbers: list[float] = []
    for key, value in expected.items():
        node, name = _resolve(key, order, names, where)
        if node in nodes:
            raise ValueError(f"{where}: {name} is given twice (as a Value and by its label)")
        nodes.append(node)
        labels.append(name)
        numbers.append(_number(value, f"{where}: the gradient for {name}"))
    engine = gradients(output, nodes)
    rows = tuple(
        GradientRow(name, node, yours, float(theirs), _agree(yours, float(theirs), rel, absolute))
        for name, node, yours, theirs in zip(labels, nodes, numbers, engine, strict=True)
    )
    if all(row.agrees for row in rows):
        return
    explanations = tuple(explain(output, row.node) for row in rows if not row.agrees)
    raise DerivationError(GradientReport(output, rows, rel, absolute, explanations))


# ----------------------------------------------------------------------------------------------
# check_chain: the graph, seen from wrt to output


class _Graph:
    """What check_chain needs of the graph of ``output`` seen from ``wrt``, computed lazily."""

    def __init__(self, output: Value, wrt: Value, rel: float, absolute: float) -> None:
        self.output = output
        self.wrt = wrt
        self.rel = rel
        self.absolute = absolute
        self.order = topological_order(output)
        self.names = dict(zip(self.order, node_names(self.order), strict=True))
        self.position = {node: i for i, node in enumerate(self.order)}
        self.fine = explain(output, wrt, max_paths=_MAX_PATHS)
        self._derivatives: dict[Value, dict[Value, float]] = {}
        self._routes: dict[Value, dict[Value, int]] = {}
        self._coarse: Explanation | None = None
        self._to_output: dict[Value, int] | None = None
        self._spellings: dict[str, list[Value]] | None = None
        self._alike: collections.Counter[tuple[Value, ...]] | None = None
        self._depths: dict[Value, int] | None = None
        self._local: dict[tuple[Value, ...], list[float]] | None = None

    @property
    def coarse(self) -> Explanation:
        """The chain in the terms the user labelled (``explain(..., fold=True)``)."""
        if self._coarse is None:
            self._coarse = explain(self.output, self.wrt, max_paths=_MAX_PATHS, fold=True)
        return self._coarse

    def name(self, node: Value) -> str:
        return self.names.get(node) or node.label or "input"

    def report(
        self, rows: Sequence[ChainRow], findings: Sequence[str], passed: bool, title: str
    ) -> ChainReport:
        return ChainReport(
            self.output,
            self.wrt,
            tuple(rows),
            tuple(findings),
            passed,
            title,
            self.rel,
            self.absolute,
        )

    def edge(self, upper: Value, lower: Value) -> str:
        return derivative_name(self.name(upper), self.name(lower))

    def derivative(self, upper: Value, lower: Value) -> float:
        """d upper / d lower through every route, from the engine (no grad touched)."""
        if upper not in self._derivatives and self.only_by_edge(upper, lower):
            # The edge (or parallel edges) is the only route: its local derivative is the
            # whole derivative, and no pass over the graph below ``upper`` is needed.
            return self.edge_derivative(upper, lower)
        if upper not in self._derivatives:
            below = topological_order(upper)
            self._derivatives[upper] = dict(
                zip(below, (float(g) for g in gradients(upper, below)), strict=True)
            )
        return self._derivatives[upper].get(lower, 0.0)

    def only_by_edge(self, upper: Value, lower: Value) -> bool:
        """Whether ``lower`` is a parent of ``upper`` that reaches it by no other route."""
        if lower not in upper.parents or lower not in self.position:
            return False
        start = self.position[lower]
        return not any(
            parent is not lower
            and parent.parents  # a leaf depends on nothing
            and self.position[parent] > start  # inputs come first: nothing earlier can
            and self.routes(parent, lower)
            for parent in dict.fromkeys(upper.parents)
        )

    def edge_derivative(self, upper: Value, lower: Value) -> float:
        """The local derivative along the edge(s) from ``lower`` into ``upper``, summed."""
        return math.fsum(
            d for parent, d in zip(upper.parents, partials(upper), strict=True) if parent is lower
        )

    def routes(self, upper: Value, lower: Value) -> int:
        """How many paths lead from ``lower`` up to ``upper`` (parallel edges counted once)."""
        if lower not in self._routes:
            counts = {lower: 1}
            start = self.position.get(lower, len(self.order))
            for node in self.order[start + 1 :]:
                reached = sum(counts.get(parent, 0) for parent in dict.fromkeys(node.parents))
                if reached:
                    counts[node] = reached
            self._routes[lower] = counts
        return self._routes[lower].get(upper, 0)

    def spellings(self) -> dict[str, list[Value]]:
        """The nodes each name or label spells, without spaces (for edge names)."""
        if self._spellings is None:
            names: dict[str, list[Value]] = {}
            for node, name in self.names.items():
                names.setdefault("".join(name.split()), []).append(node)
                if node.label and "".join(node.label.split()) not in names:
                    names["".join(node.label.split())] = [node]
                elif node.label:
                    names["".join(node.label.split())].append(node)
            self._spellings = names
        return self._spellings

    def looks_alike(self, path: Sequence[Factor]) -> bool:
        """Whether written through its labelled nodes ``path`` could be another path too."""
        if self._alike is None:
            self._alike = collections.Counter(_labelled_joints(self, p) for p in self.fine.paths)
        key = _labelled_joints(self, path)
        unlisted = self.fine.path_count > len(self.fine.paths)
        folds = len(key) < len(path)  # some unlabelled node is folded into a factor
        return self._alike[key] > 1 or (unlisted and folds)

    def depths(self) -> dict[Value, int]:
        """How many steps the longest path from ``wrt`` up to each node that depends on it has."""
        if self._depths is None:
            steps = {self.wrt: 0}
            for node in self.order[self.position.get(self.wrt, len(self.order)) + 1 :]:
                reached = [steps[parent] for parent in node.parents if parent in steps]
                if reached:
                    steps[node] = max(reached) + 1
            self._depths = steps
        return self._depths

    def longest(self) -> int:
        """How many steps the longest path from ``wrt`` up to the output has."""
        return self.depths().get(self.output, 0)

    def to_output(self, node: Value) -> int:
        """How many paths lead from ``node`` up to the output (parallel edges counted once)."""
        if self._to_output is None:
            counts = dict.fromkeys(self.order, 0)
            counts[self.output] = 1
            for upper in reversed(self.order):  # outputs first: each count is final when read
                for parent in dict.fromkeys(upper.parents):
                    counts[parent] += counts[upper]
            self._to_output = counts
        return self._to_output.get(node, 0)

    def paths(self) -> list[list[Value]]:
        """The listed paths (at most _MAX_PATHS) as nodes from output down to wrt."""
        return [[self.output, *[factor.lower for factor in path]] for path in self.fine.paths]

    def local(self, path: Sequence[Value]) -> list[float]:
        """The local derivative along each step of ``path`` (parallel edges summed)."""
        if self._local is None:
            self._local = {
                (self.output, *[f.lower for f in p]): [f.value for f in p] for p in self.fine.paths
            }
        return self._local[tuple(path)]


# ----------------------------------------------------------------------------------------------
# check_chain: lining the factors up with the graph


class _Item(NamedTuple):
    """One step of an alignment: a factor matched with a stretch of the path, or unmatched."""

    kind: str  # "match", "extra" (a factor with no stretch), "missing" (a stretch, no factor)
    factor: int | None  # index into the factors
    start: int | None  # index into the path's nodes: the upper end of the stretch
    end: int | None  # the lower end
    agrees: bool

    def span(self) -> tuple[int, int]:
        """``(start, end)`` of a matched or missing stretch."""
        if self.start is None or self.end is None:
            raise ValueError("an extra factor covers no stretch of the path")
        return self.start, self.end


class _Alignment(NamedTuple):
    # errors, joints off some path, extra factors other than 1, unlabelled joints, wrong
    # factors that cover several steps: compared in this order, fewest first (see _align)
    cost: tuple[int, int, int, int, int]
    items: tuple[_Item, ...]
    path: tuple[Value, ...]  # the joints the items index: every node between, or one path
    values: tuple[float | None, ...]  # the engine's number for each item (None for extra)
    along_path: bool = False  # one chain per path: the numbers are along ``path`` only

    @property
    def errors(self) -> int:
        return self.cost[0]


_Cost = tuple[int, int, int, int, int]


def _align(
    factors: Sequence[float],
    nodes: Sequence[Value],
    below: Callable[[int], Sequence[int]],
    value: Callable[[int, int], float],
    off_path: Callable[[int], int],
    rel: float,
    absolute: float,
) -> tuple[_Cost, tuple[_Item, ...]]:
    """Line ``factors`` up with stretches from ``nodes[0]`` (the output) down to ``nodes[-1]``.

    ``nodes`` are the candidate joints, outputs first; ``below(i)`` lists the nodes a stretch
    from node ``i`` may end at, and ``value(i, k)`` is the engine's number for that stretch.
    Each factor covers one stretch, or is extra; a stretch no factor covers is missing. The
    cost counts, in order of importance: errors (wrong, extra or missing factors), joints that
    not every path goes through (``off_path``: the chain then leaves paths out), extra
    factors other than 1 (a stray dL/dL = 1 is the likely extra), joints at unlabelled nodes
    (people split a chain where they named things), and wrong factors that cover more than
    one step (so the diagnosis can name one rule). This is dynamic programming over the
    states (factors used, joint reached): (factors + 1) * (pairs of joints) moves, which
    ``_work`` counts and callers keep under _MAX_WORK.
    """
    n, last = len(factors), len(nodes) - 1
    # state -> (cost, back pointer); a back pointer is (j, i, kind, k, agrees), made an _Item
    # only for the alignment kept.
    best: dict[tuple[int, int], tuple[_Cost, tuple[int, int, str, int, bool] | None]] = {
        (0, 0): ((0, 0, 0, 0, 0), None)
    }

    def relax(state: tuple[int, int], total: _Cost, back: tuple[int, int, str, int, bool]) -> None:
        # On a tie the later move wins: the joints then sit as far down as they can,
        # so dL/dy (folding the loss's own steps) beats dL/d(y - t).
        known = best.get(state)
        if known is None or total <= known[0]:
            best[state] = (total, back)

    joint_costs = [
        (0, 0) if k == last else (off_path(k), 0 if nodes[k].label else 1) for k in range(last + 1)
    ]
    for j in range(n + 1):
        for i in range(last + 1):
            entry = best.get((j, i))
            if entry is None:
                continue
            errors, off, odd, unlabelled, wide = entry[0]
            parents = nodes[i].parents
            if j < n:
                factor = factors[j]
                stray = 0 if math.fabs(factor) == 1.0 else 1
                relax(
                    (j + 1, i),
                    (errors + 1, off, odd + stray, unlabelled, wide),
                    (j, i, "extra", i, False),
                )
            for k in below(i):
                k_off, k_unlabelled = joint_costs[k]
                if j < n:
                    agrees = _agree(factor, value(i, k), rel, absolute)
                    k_wide = 0 if agrees or nodes[k] in parents else 1
                    relax(
                        (j + 1, k),
                        (
                            errors + (not agrees),
                            off + k_off,
                            odd,
                            unlabelled + k_unlabelled,
                            wide + k_wide,
                        ),
                        (j, i, "match", k, agrees),
                    )
                relax(
                    (j, k),
                    (errors + 1, off + k_off, odd, unlabelled + k_unlabelled, wide),
                    (j, i, "missing", k, False),
                )
    cost, back = best[(n, last)]
    items: list[_Item] = []
    while back is not None:
        j, i, kind, k, agrees = back
        if kind == "extra":
            items.append(_Item("extra", j, None, None, False))
        elif kind == "match":
            items.append(_Item("match", j, i, k, agrees))
        else:
            items.append(_Item("missing", None, i, k, False))
        back = best[(j, i)][1]
    return cost, tuple(reversed(items))


def _work(factors: int, joints: int) -> int:
    """How many moves ``_align`` makes at most: every pair of joints, for each factor count."""
    return (factors + 1) * joints * (joints - 1) // 2


class _TooMuchWorkError(Exception):
    """A search for an alignment went over its budget (``args[0]``, in comparisons)."""


def _exact(
    factors: Sequence[float],
    nodes: Sequence[Value],
    ends: Callable[[int, int], Sequence[int]],
    value: Callable[[int, int], float],
    off_path: Callable[[int], int],
    rel: float,
    absolute: float,
    budget: int,
) -> tuple[_Item, ...] | None:
    """An alignment in which every factor agrees and every joint is on every path, or None.

    The same question as ``_align``'s cost (0, 0, ...), answered by following only the
    stretches a factor agrees with: the states reached are few unless many stretches share
    a number, so this is cheap where the dynamic programming is not. ``ends(i, after)`` lists
    the joints a stretch from joint ``i`` may end at and still leave a step for each of the
    ``after`` factors still to come (each factor stands for one step or more). Raises
    _TooMuchWorkError after ``budget`` comparisons.
    """
    n, last = len(factors), len(nodes) - 1
    came: dict[tuple[int, int], int] = {}  # (factors used, joint) -> the joint before
    frontier = [0]
    work = 0
    for j in range(n):
        reached: list[int] = []
        for i in frontier:
            candidates = ends(i, n - j - 1)
            work += len(candidates)  # finding them, and the numbers from joint i down
            for k in candidates:
                work += 1
                if work > budget:
                    raise _TooMuchWorkError(budget)
                if (j + 1, k) in came or (k != last and off_path(k)):
                    continue
                if _agree(factors[j], value(i, k), rel, absolute):
                    came[(j + 1, k)] = i
                    reached.append(k)
        frontier = reached
    if (n, last) not in came:
        return None
    items: list[_Item] = []
    k = last
    for j in range(n, 0, -1):
        i = came[(j, k)]
        items.append(_Item("match", j - 1, i, k, True))
        k = i
    return tuple(reversed(items))


def _one_per_step(
    factors: Sequence[float],
    joints: Sequence[Value],
    local: Sequence[float],
    rel: float,
    absolute: float,
    along_path: bool,
) -> _Alignment:
    """Factor k on step k of one path: the alignment when there are as many factors as steps.

    Every other alignment of as many factors as steps has an extra or a missing factor, so
    when these all agree this is the only alignment without an error (what ``_align`` finds).
    """
    items = tuple(
        _Item("match", k, k, k + 1, _agree(yours, engine, rel, absolute))
        for k, (yours, engine) in enumerate(zip(factors, local, strict=True))
    )
    wrong = sum(not item.agrees for item in items)
    unlabelled = sum(1 for node in joints[1:-1] if not node.label)
    return _Alignment((wrong, 0, 0, unlabelled, 0), items, tuple(joints), tuple(local), along_path)


def _align_chain(
    graph: _Graph, factors: Sequence[float], rel: float, absolute: float
) -> _Alignment | None:
    """The best alignment of one chain with the graph; None when none agrees and it is too big.

    The joints may be any nodes between ``wrt`` and ``output``; each factor's engine number is
    the derivative between its two joints through every route. In order:

    * one factor: it stands for the whole derivative;
    * one path and one factor per step: factor k stands for step k, and when they all agree
      no search is needed (no other alignment is free of errors);
    * the best alignment (``_align``), when that takes at most _MAX_WORK moves; for one path
      too long for that, the same along the path (``_align_path``);
    * else an alignment in which every factor agrees (``_exact``), or None when there is
      none: the factors are then wrong, but the graph is too big to say which one.

    Raises:
        ValueError: Even the search for an agreeing alignment is over its budget.
    """
    if len(factors) == 1:  # the whole derivative: any other alignment has two errors or more
        engine = graph.derivative(graph.output, graph.wrt)
        agrees = _agree(factors[0], engine, rel, absolute)
        item = _Item("match", 0, 0, 1, agrees)
        return _Alignment(
            (int(not agrees), 0, 0, 0, 0), (item,), (graph.output, graph.wrt), (engine,)
        )
    fine = graph.fine
    if fine.path_count == 1:
        (path,) = fine.paths
        joints = [graph.output, *[factor.lower for factor in path]]
        local = [factor.value for factor in path]
        if len(factors) == len(local):
            direct = _one_per_step(factors, joints, local, rel, absolute, False)
            if direct.errors == 0:
                return direct
        if _work(len(factors), len(joints)) > _MAX_WORK:
            # Along one path every node between wrt and output is on it, and the number for a
            # stretch is a product of local derivatives: no pass of the engine per joint.
            try:
                return _align_path(factors, joints, local, rel, absolute, along_path=False)
            except _TooMuchWorkError as error:
                raise ValueError(_too_big(graph, len(factors), len(joints), error)) from None
    between, below, ends, value, off_path = _joints(graph)
    if _work(len(factors), len(between)) <= _MAX_WORK:
        cost, items = _align(factors, between, below, value, off_path, rel, absolute)
        values = tuple(None if item.kind == "extra" else value(*item.span()) for item in items)
        return _Alignment(cost, items, tuple(between), values)
    try:
        found = _exact(factors, between, ends, value, off_path, rel, absolute, _MAX_WORK)
    except _TooMuchWorkError as error:
        raise ValueError(_too_big(graph, len(factors), len(between), error)) from None
    if found is None:
        return None
    unlabelled = sum(1 for item in found[:-1] if not between[item.span()[1]].label)
    values = tuple(value(*item.span()) for item in found)
    return _Alignment((0, 0, 0, unlabelled, 0), found, tuple(between), values)


def _joints(
    graph: _Graph,
) -> tuple[
    list[Value],
    Callable[[int], list[int]],
    Callable[[int, int], list[int]],
    Callable[[int, int], float],
    Callable[[int], int],
]:
    """The candidate joints of a chain (outputs first) and what ``_align`` asks of them."""
    between = [node for node in reversed(graph.order) if graph.routes(node, graph.wrt)]
    index = {node: i for i, node in enumerate(between)}
    total = graph.routes(graph.output, graph.wrt)
    below_cache: dict[int, list[int]] = {}

    def below(i: int) -> list[int]:
        if i not in below_cache:
            upper = between[i]
            below_cache[i] = [
                index[node]
                for node in reversed(topological_order(upper))
                if node in index and node is not upper
            ]
        return below_cache[i]

    def value(i: int, k: int) -> float:
        return graph.derivative(between[i], between[k])

    def off_path(k: int) -> int:
        node = between[k]
        on_every_path = graph.to_output(node) * graph.routes(node, graph.wrt) == total
        return 0 if on_every_path else 1

    def ends(i: int, after: int) -> list[int]:
        depth = graph.depths()  # the most steps from wrt up to each node
        return [k for k in below(i) if depth[between[k]] >= after]

    return between, below, ends, value, off_path


def _exact_chain(graph: _Graph, factors: Sequence[float], rel: float, absolute: float) -> bool:
    """Whether the factors line up with the graph, every one agreeing (_TooMuchWorkError if big)."""
    if graph.fine.path_count == 0 or graph.wrt is graph.output:
        return False
    if len(factors) > graph.longest():
        return False  # each factor stands for one step or more
    if graph.fine.path_count == 1:
        (path,) = graph.fine.paths
        local = [factor.value for factor in path]
        if len(factors) == len(local):
            return all(_agree(y, e, rel, absolute) for y, e in zip(factors, local, strict=True))
        joints = [graph.output, *[factor.lower for factor in path]]
        _, ends, along = _along(local)
        found = _exact(factors, joints, ends, along, lambda k: 0, rel, absolute, _MAX_COMPARISONS)
        return found is not None
    between, _, reach, value, off_path = _joints(graph)
    return _exact(factors, between, reach, value, off_path, rel, absolute, _MAX_WORK) is not None


def _too_big(graph: _Graph, factors: int, joints: int, error: _TooMuchWorkError) -> str:
    """The message of the ValueError for a chain too big to line factors up with."""
    header = graph.edge(graph.output, graph.wrt)
    paths = graph.fine.path_count
    if paths == 1:
        steps = len(graph.fine.paths[0])
        advice = f"give one factor per step of the path ({steps} factors)"
    else:
        advice = "give one chain per path (a list of lists), one factor per step"
    return (
        f"check_chain: cannot line your {factors} factors up with {header}: the chain from "
        f"{graph.name(graph.wrt)} to {graph.name(graph.output)} has {joints} nodes, too many "
        f"to try every way of splitting it (check_chain stops at {error.args[0]:,} comparisons). "
        f"To check it, {advice}, or use assert_gradients for the gradient alone."
    )


# ----------------------------------------------------------------------------------------------
# check_chain: saying what went wrong


def _operand_names(count: int, formula: str) -> list[str]:
    """The letters the op table's formulas use for the operands: x; x, y (x, c for pow)."""
    if count == 1:
        return ["x"]
    if count == 2:
        words = set(formula.replace("(", " ").replace(")", " ").replace("*", " ").split())
        return ["x", "c" if "c" in words and "y" not in words else "y"]
    return [f"x{i}" for i in range(1, count + 1)]


def _formula_for(formula: str, count: int, position: int) -> str:
    """The part of an op's formula for the derivative with respect to operand ``position``."""
    if not formula:
        return "(no formula was written for this op)"
    parts = [part.strip() for part in formula.split(", d")]
    if count > 1 and len(parts) == count:
        return parts[position] if position == 0 else "d" + parts[position]
    return formula


class _Step(NamedTuple):
    """One edge of the graph: ``upper`` is computed from ``lower`` by one op."""

    upper: Value
    lower: Value


def _positions(step: _Step) -> list[int]:
    return [k for k, x in enumerate(step.upper.operands) if x is step.lower]


def _describe_step(graph: _Graph, step: _Step) -> list[str]:
    """What the op is, its rule for this edge, and the point the engine evaluated it at."""
    node = step.upper
    op = node.op
    assert op is not None
    operands = node.operands
    letters = _operand_names(len(operands), op.formula)
    arguments = ", ".join(graph.name(x) if isinstance(x, Value) else _fmt(x) for x in operands)
    positions = _positions(step)
    rules = " + ".join(_formula_for(op.formula, len(operands), k) for k in positions)
    point = ", ".join(
        f"{letter} = {graph.name(x)} = {_fmt(x.data)}"
        if isinstance(x, Value)
        else f"{letter} = {_fmt(x)}"
        for letter, x in zip(letters, operands, strict=True)
    )
    return [
        f"{graph.name(node)} = {op.name}({arguments}); the rule: {rules}",
        f"the engine evaluated it at {point} (where {graph.name(node)} = {_fmt(node.data)})",
    ]


def _rule_at(step: _Step, position: int, replacement: float) -> float | None:
    """The step's local derivative with operand ``position`` replaced by ``replacement``."""
    op = step.upper.op
    assert op is not None
    operands = [x.data if isinstance(x, Value) else x for x in step.upper.operands]
    operands[position] = replacement
    try:
        out = op.forward(*operands)
        derivatives = op.partials(out, *operands)
        return math.fsum(to_float(derivatives[k], op.name) for k in _positions(step))
    except (ArithmeticError, ValueError, TypeError, IndexError):
        return None


def _substitution(
    graph: _Graph,
    steps: Sequence[_Step],
    local: Sequence[float],
    yours: float,
    rel: float,
    absolute: float,
) -> str | None:
    """Is ``yours`` a rule of this stretch taken at another node's value? Say so in words."""
    labelled = [node for node in reversed(graph.order) if node.label]
    others = [node for node in reversed(graph.order) if not node.label]
    if len(graph.order) > _MAX_SEARCH:
        others = []
    for index, step in enumerate(steps):
        op = step.upper.op
        assert op is not None
        rest = math.prod(d for k, d in enumerate(local) if k != index)
        operands = step.upper.operands
        letters = _operand_names(len(operands), op.formula)
        for position, operand in enumerate(operands):
            before = operand.data if isinstance(operand, Value) else operand
            for candidate in [step.upper, *labelled, *others]:
                if candidate is operand or candidate.data == before:
                    continue
                changed = _rule_at(step, position, candidate.data)
                if changed is None or not _agree(yours, rest * changed, rel, absolute):
                    continue
                letter = letters[position]
                own = f", the {op.name}'s own output" if candidate is step.upper else ""
                if isinstance(operand, Value):
                    role = ", its input" if len(operands) == 1 else ""
                    was = f"{graph.name(operand)} ({_fmt(before)}){role}"
                else:
                    was = f"the number {_fmt(before)}"
                what = (
                    f"the {op.name}'s derivative"
                    if len(steps) == 1
                    else f"the same product, with the {op.name}'s derivative "
                    f"({graph.edge(step.upper, step.lower)})"
                )
                return (
                    f"is {what} taken at {letter} = {graph.name(candidate)} "
                    f"({_fmt(candidate.data)}){own}, rather than at {letter} = {was}: a local "
                    f"derivative is evaluated at the values its operation was applied to."
                )
    return None


def _diagnose(
    graph: _Graph,
    alignment: _Alignment,
    index: int,
    yours: float,
    engine: float,
    rel: float,
    absolute: float,
    who: str,
) -> list[str]:
    """Lines explaining the wrong factor ``alignment.items[index]``, called ``who``."""
    start, end = alignment.items[index].span()
    path = alignment.path
    upper, lower = path[start], path[end]
    edge = graph.edge(upper, lower)
    called = who[0].upper() + who[1:] + ("" if edge in who else f", {edge},")
    lines = [f"{called} is {_fmt(yours)} where the engine has {_fmt(engine)}."]
    single_route = alignment.along_path or graph.routes(upper, lower) == 1
    if alignment.along_path:
        route = list(path[start : end + 1])
    else:
        route = _routes_between(graph, upper, lower)[0] if single_route else []
    steps = [_Step(a, b) for a, b in itertools.pairwise(route)]
    if single_route and len(steps) > _MAX_STEPS:
        lines.append(f"It folds {len(steps)} steps, too many to go through one by one.")
    elif single_route:
        if len(steps) > 1:
            names = " * ".join(graph.edge(s.upper, s.lower) for s in steps)
            lines.append(f"It folds {len(steps)} steps: {edge} = {names}.")
        for step in steps:
            lines += [f"  {line}" for line in _describe_step(graph, step)]
        local = [graph.edge_derivative(s.upper, s.lower) for s in steps]
        found = _substitution(graph, steps, local, yours, rel, absolute)
        if found:
            lines.append(f"So {who} {found}")
            return lines
    else:
        routes = graph.routes(upper, lower)
        lines.append(
            f"{graph.name(upper)} depends on {graph.name(lower)} along {routes} routes; the "
            f"engine's number is the sum over all of them."
        )
        for route in _routes_between(graph, upper, lower):
            product = math.prod(graph.edge_derivative(a, b) for a, b in itertools.pairwise(route))
            if _agree(yours, product, rel, absolute):
                chain = " * ".join(graph.edge(a, b) for a, b in itertools.pairwise(route))
                lines.append(f"So {who} is the product along one route only: {chain}.")
                return lines
    hint = _other_reading(graph, alignment, index, yours, engine, rel, absolute)
    if hint:
        lines.append(f"So {who} {hint}")
    return lines


def _routes_between(graph: _Graph, upper: Value, lower: Value) -> list[list[Value]]:
    """Up to _MAX_PATHS routes from ``upper`` down to ``lower``, as nodes (depth first)."""
    found: list[list[Value]] = []
    # Each entry is a route kept as a linked list (node, rest), so that a long route costs
    # one tuple per step rather than one list copy per step.
    stack: list[tuple[Value, object]] = [(upper, None)]
    while stack and len(found) < _MAX_PATHS:
        link = stack.pop()
        node = link[0]
        if node is lower:
            route: list[Value] = []
            rest: object = link
            while isinstance(rest, tuple):
                route.append(rest[0])
                rest = rest[1]
            found.append(route[::-1])
            continue
        for parent in reversed(list(dict.fromkeys(node.parents))):
            if parent is lower or graph.routes(parent, lower):
                stack.append((parent, link))
    return found


def _other_reading(
    graph: _Graph,
    alignment: _Alignment,
    index: int,
    yours: float,
    engine: float,
    rel: float,
    absolute: float,
) -> str | None:
    """Other common slips: the sign, the fraction upside down, the gradient so far, a swap."""
    start, end = alignment.items[index].span()
    path = alignment.path
    if engine != 0.0 and _agree(yours, -engine, rel, absolute):
        return "has the opposite sign of the engine's: check the sign of the rule."
    if engine != 0.0 and _agree(yours, 1.0 / engine, rel, absolute):
        upside = graph.edge(path[end], path[start])
        return f"is 1 / (the engine's number): the fraction upside down, {upside}."
    lower = path[end]
    so_far = graph.derivative(graph.output, lower)
    if start > 0 and _agree(yours, so_far, rel, absolute):
        return (
            f"is {graph.edge(graph.output, lower)}, the gradient from the output down to "
            f"{graph.name(lower)}, where the chain needs the local factor alone."
        )
    for k, (other, value) in enumerate(zip(alignment.items, alignment.values, strict=True)):
        if k != index and value is not None and _agree(yours, value, rel, absolute):
            name = graph.edge(*[path[i] for i in other.span()])
            return f"is the engine's number for {name}: are two factors swapped?"
    return None


# ----------------------------------------------------------------------------------------------
# check_chain: the report


class ChainRow(NamedTuple):
    """One factor of the chain: yours next to the engine's.

    Attributes:
        chain: Which of your chains (1 unless you gave one chain per path).
        position: The factor's place in your chain (1 for the first), or None for a factor
            you left out.
        edge: The derivative the factor stands for (``"dpredicted/dsop"``), or ``""`` for a
            factor that matches no step of the chain.
        yours: Your number (None when left out).
        engine: The engine's number (None for a factor that matches no step).
        status: ``"ok"``, ``"wrong"``, ``"missing"`` or ``"extra"``.
    """

    chain: int
    position: int | None
    edge: str
    yours: float | None
    engine: float | None
    status: str


@dataclass(frozen=True, eq=False)
class ChainReport:
    """Your chain-rule factors lined up with the engine's, and what the first mistake is.

    ``str(report)`` is the text (the message of ``DerivationError``); in a notebook the report
    shows as an HTML table.

    Attributes:
        output: The differentiated node.
        wrt: The node differentiated with respect to.
        rows: Your factors lined up with the engine's, in order.
        findings: Sentences saying what is wrong (empty when the chain is right).
        passed: True when every factor agrees and the chain accounts for every path.
        title: The first line of the text.
    """

    output: Value
    wrt: Value
    rows: tuple[ChainRow, ...]
    findings: tuple[str, ...]
    passed: bool
    title: str
    rel: float
    abs: float

    def _table(self) -> tuple[list[str], list[list[str]], list[bool]]:
        several = len({row.chain for row in self.rows}) > 1
        header = (["chain"] if several else []) + ["#", "edge", "yours", "engine", ""]
        cells = []
        for row in self.rows:
            notes = {"ok": "", "wrong": "wrong", "missing": "missing", "extra": "extra"}
            cells.append(
                ([str(row.chain)] if several else [])
                + [
                    "-" if row.position is None else str(row.position),
                    row.edge or "-",
                    _fmt(row.yours, ".10g"),
                    _fmt(row.engine, ".10g"),
                    notes[row.status],
                ]
            )
        return header, cells, [row.status != "ok" for row in self.rows]

    def __str__(self) -> str:
        parts = [self.title]
        if self.rows:
            parts += [_text_table(*self._table()), _tolerance_line(self.rel, self.abs)]
        if self.findings:
            parts += _wrapped(self.findings)
        return "\n".join(parts)

    def _repr_html_(self) -> str:
        parts = [_html_paragraphs([self.title])]
        if self.rows:
            parts.append(_html_table(*self._table()))
            parts.append(_html_paragraphs([_tolerance_line(self.rel, self.abs).strip()]))
        parts.append(_html_paragraphs(self.findings))
        return "".join(parts)


def _rows_of(
    graph: _Graph, alignment: _Alignment, factors: Sequence[float], chain: int
) -> list[ChainRow]:
    rows = []
    path = alignment.path
    for item, engine in zip(alignment.items, alignment.values, strict=True):
        edge = ""
        if item.start is not None and item.end is not None:
            edge = graph.edge(*[path[i] for i in item.span()])
        yours = None if item.factor is None else factors[item.factor]
        position = None if item.factor is None else item.factor + 1
        status = {"match": "ok" if item.agrees else "wrong"}.get(item.kind, item.kind)
        rows.append(ChainRow(chain, position, edge, yours, engine, status))
    return rows


def _first_problem(
    graph: _Graph,
    alignment: _Alignment,
    factors: Sequence[float],
    rel: float,
    absolute: float,
    chain: int | None,
) -> tuple[str, list[str]]:
    """What the first wrong, missing or extra factor is (for the title) and why (sentences).

    ``chain`` is the number of the chain in per-path mode, None for a single chain.
    """
    path = alignment.path
    yours = "your chain" if chain is None else f"your chain {chain}"
    for index, (item, engine) in enumerate(zip(alignment.items, alignment.values, strict=True)):
        if item.kind == "extra" and item.factor is not None:
            value = factors[item.factor]
            steps = " * ".join(
                graph.edge(*[path[i] for i in other.span()])
                for other in alignment.items
                if other.kind != "extra"
            )
            lines = [
                f"Factor {item.factor + 1} of {yours} ({_fmt(value)}) matches no step of the "
                f"chain from {graph.name(graph.wrt)} to {graph.name(graph.output)} ({steps}): "
                "it is one factor too many."
            ]
            if _agree(value, 1.0, 0.0, 0.0):
                lines.append(
                    f"(If it stands for d{graph.name(graph.output)}/d{graph.name(graph.output)}"
                    " = 1, leave it out: the chain starts below the output.)"
                )
            return f"factor {item.factor + 1} of {yours} is one too many", lines
        if engine is None:
            continue
        start, end = item.span()
        upper, lower = path[start], path[end]
        edge = graph.edge(upper, lower)
        if item.kind == "match" and not item.agrees and item.factor is not None:
            who = f"factor {item.factor + 1} of {yours}"
            lines = _diagnose(
                graph, alignment, index, factors[item.factor], engine, rel, absolute, who
            )
            return f"{who} ({edge}) disagrees with the engine", lines
        if item.kind == "missing":
            lines = [
                f"{yours[0].upper()}{yours[1:]} has no factor for {edge} (the engine's number: "
                f"{_fmt(engine)}): the step from {graph.name(lower)} up to {graph.name(upper)} "
                "is missing."
            ]
            if lower in upper.parents:
                lines += [f"  {line}" for line in _describe_step(graph, _Step(upper, lower))]
            return f"{yours} has no factor for {edge}", lines
    return "", []


def _left_out(graph: _Graph, alignment: _Alignment) -> list[str]:
    """Sentences naming the paths a complete-looking chain leaves out."""
    joints = {alignment.path[item.span()[1]] for item in alignment.items if item.kind != "extra"}
    joints.discard(graph.wrt)
    total = graph.routes(graph.output, graph.wrt)
    fine = graph.fine
    aside = [
        node
        for node in sorted(joints, key=graph.position.__getitem__, reverse=True)
        if graph.routes(graph.output, node) * graph.routes(node, graph.wrt) != total
    ]
    lines = [
        f"{graph.name(graph.output)} depends on {graph.name(graph.wrt)} along {total} paths and "
        f"the derivative is their sum; your chain follows only the paths through "
        f"{' and '.join(graph.name(node) for node in aside)}."
    ]
    missing = [path for path in fine.paths if not joints <= {f.lower for f in path}]
    if missing:
        lines.append("Left out:")
        for path in missing[:8]:
            lines.append(f"  {_in_labelled_terms(graph, path)}")
        if len(missing) > 8 or total > len(fine.paths):
            lines.append("  ... and more")
    lines.append(
        f"The engine's total: {derivative_name(graph.name(graph.output), graph.name(graph.wrt))}"
        f" = {_fmt(fine.total)}."
    )
    return lines


def _in_labelled_terms(graph: _Graph, path: Sequence[Factor]) -> str:
    """One path written through its labelled nodes: ``dL/dy1 * dy1/db = (-31.5)(1) = -31.5``.

    When another path folds into the same factors (their unlabelled nodes differ), the path's
    nodes come first, from ``wrt`` up, so that each line says which path it is:
    ``m -> n1 -> n3: dn3/dm = (0.786448) = 0.786448``.
    """
    names: list[str] = []
    values: list[float] = []
    upper, value = path[0].upper, 1.0
    for factor in path:
        value *= factor.value
        if factor.lower.label or factor.lower is graph.wrt:
            names.append(graph.edge(upper, factor.lower))
            values.append(value)
            upper, value = factor.lower, 1.0
    numbers = "".join(f"({_fmt(v)})" for v in values)
    text = f"{' * '.join(names)} = {numbers} = {_fmt(math.prod(values))}"
    if graph.looks_alike(path):
        return f"{_route_names(graph, path)}: {text}"
    return text


def _labelled_joints(graph: _Graph, path: Sequence[Factor]) -> tuple[Value, ...]:
    """The nodes a path is written through in labelled terms: its labelled nodes and wrt."""
    return tuple(f.lower for f in path if f.lower.label or f.lower is graph.wrt)


def _route_names(graph: _Graph, path: Sequence[Factor]) -> str:
    """The nodes of a path from ``wrt`` up to the output: ``m -> n1 -> n3``."""
    nodes = [factor.lower for factor in reversed(path)] + [path[0].upper]
    names = [graph.name(node) for node in nodes]
    if len(names) > 12:  # a long path: its ends, and how many nodes are between
        names = [*names[:4], f"... ({len(names) - 8} more) ...", *names[-4:]]
    return " -> ".join(names)


def _numbers(values: Iterable[object], where: str) -> list[float]:
    return [_number(value, f"{where} {k}") for k, value in enumerate(values, start=1)]


def _wrong_variable(
    graph: _Graph, factors: Sequence[float], rel: float, absolute: float
) -> Value | None:
    """Another node whose chain these factors are, exactly (leaves first), or None."""
    if len(graph.order) > _MAX_SEARCH:
        return None
    leaves = [node for node in graph.order if node.is_leaf]
    inner = [node for node in graph.order if not node.is_leaf]
    for candidate in leaves + inner:
        if candidate is graph.wrt or candidate is graph.output:
            continue
        other = _Graph(graph.output, candidate, rel, absolute)
        try:
            if _exact_chain(other, factors, rel, absolute):
                return candidate
        except _TooMuchWorkError:
            continue  # too big to tell: not this one, as far as check_chain can say
    return None


def check_chain(
    output: Value,
    wrt: Value | str,
    factors: Sequence[float] | Sequence[Sequence[float]] | Mapping[str, float],
    *,
    rel: float = DEFAULT_REL,
    abs: float = DEFAULT_ABS,  # the name pytest.approx uses; this function needs no builtin abs
) -> ChainReport:
    """Check the local derivatives of a hand-derived chain against the engine's, one by one.

    Give the factors of your chain rule from the output down to ``wrt``, the way tutorials
    write them (``g1 = d error/d predicted``, ``g2 = d predicted/d sop``, ``g3 = d sop/d w``):

    * a list of numbers: one chain. Each factor may stand for one step of the graph or for
      several (d error/d predicted folds the subtraction and the square); the factors are
      lined up with the graph so that they meet at nodes you labelled where possible.
    * a list of lists: one chain per path, when ``wrt`` reaches ``output`` along several paths
      (each factor is then a local derivative along that path only).
    * a dict ``{"dL/dy": number, ...}``: factors by edge name, written as ``explain`` writes
      them (node names as ``node_names`` gives them); the edges may cover several paths.

    The first factor that disagrees is explained: which edge of the graph it stands for, your
    number and the engine's, the op's derivative rule and the point the engine evaluated it
    at, and, where it can tell, what your number is instead (the same rule at another node's
    value, the opposite sign, the fraction upside down, the gradient so far, a swap). A factor
    left out or one too many, a chain that follows only some of the paths, and factors that
    belong to another variable's chain are named too.

    Args:
        output: The differentiated node.
        wrt: The node differentiated with respect to, or its label.
        factors: Your factors, as above.
        rel: Relative tolerance, times ``|engine|``.
        abs: Absolute tolerance.

    Returns:
        A ``ChainReport`` when every factor agrees (a notebook shows it as a table).

    Raises:
        DerivationError: A factor disagrees, is missing or extra, or the chain leaves out
            paths (an AssertionError whose message is the report).
        TypeError: ``output`` is not a Value, or the factors are not numbers as above.
        ValueError: No factors, an unknown or ambiguous label or edge name, a bad
            tolerance, or a chain too long to line the factors up with: one factor per step
            of a path needs no lining up, but folded factors are lined up by a search that
            stops after a fixed amount of work (the message says how big the chain is).

    Example:
        >>> from autodiff import Value
        >>> w = Value(0.5, label="w")
        >>> sop = w * 0.1
        >>> predicted = sop.sigmoid()
        >>> error = (predicted - 0.3) ** 2
        >>> sop.label, predicted.label, error.label = "sop", "predicted", "error"
        >>> p = predicted.data  # the tutorial's slip: sigmoid'(p) where sigmoid'(sop) is due
        >>> s = 1 / (1 + 2.718281828459045 ** -p)
        >>> check_chain(error, w, [2 * (p - 0.3), s * (1 - s), 0.1])
        Traceback (most recent call last):
        ...
        autodiff.testing.DerivationError: check_chain: derror/dw: factor 2 of your chain
        (dpredicted/dsop) disagrees with the engine
            #  edge                      yours        engine
            1  derror/dpredicted   0.424994793   0.424994793
          ✗ 2  dpredicted/dsop    0.2342769116  0.2498438151  wrong
            3  dsop/dw                     0.1           0.1
          (agreeing: within rel 1e-06 or abs 1e-12 of the engine's number)
        Factor 2 of your chain, dpredicted/dsop, is 0.234277 where the engine has 0.249844.
          predicted = sigmoid(sop); the rule: d sigmoid(x)/dx = sigmoid(x) * (1 - sigmoid(x))
          the engine evaluated it at x = sop = 0.05 (where predicted = 0.512497)
        So factor 2 of your chain is the sigmoid's derivative taken at x = predicted (0.512497), the
          sigmoid's own output, rather than at x = sop (0.05), its input: a local derivative is
          evaluated at the values its operation was applied to.
    """
    where = "check_chain"
    if not isinstance(output, Value):
        raise TypeError(f"{where}: output must be a Value, got {type(output).__name__}")
    rel, absolute = _tolerances(rel, abs, where)
    order = topological_order(output)
    names = dict(zip(order, node_names(order), strict=True))
    if isinstance(wrt, str):
        wrt, _ = _resolve(wrt, order, names, where)
    elif not isinstance(wrt, Value):
        raise TypeError(f"{where}: wrt must be a Value or a label, got {type(wrt).__name__}")
    graph = _Graph(output, wrt, rel, absolute)
    header = derivative_name(graph.name(output), graph.name(wrt))

    if isinstance(factors, Mapping):
        return _check_edges(graph, factors, rel, absolute, header)
    if isinstance(factors, (str, bytes)) or not isinstance(factors, Iterable):
        raise TypeError(
            f"{where}: factors must be a list of numbers, a list of lists (one per path) or "
            f"a dict {{edge name: number}}, got {type(factors).__name__}"
        )
    given = list(factors)
    if not given:
        raise ValueError(f"{where}: factors is empty: give the factors of your chain")
    nested = [isinstance(x, Iterable) and not isinstance(x, (str, bytes)) for x in given]
    if all(nested):
        chains = [
            _numbers(chain, f"{where}: chain {k}, factor")
            for k, chain in enumerate(given, start=1)
            if isinstance(chain, Iterable)
        ]
        if any(not chain for chain in chains):
            raise ValueError(f"{where}: every chain needs at least one factor")
        return _check_paths(graph, chains, rel, absolute, header)
    if any(nested):
        raise TypeError(
            f"{where}: factors mixes numbers and lists: give a list of numbers (one chain) or "
            "a list of lists (one chain per path)"
        )
    numbers = _numbers(given, f"{where}: factor")
    return _check_one(graph, numbers, rel, absolute, header)


def _all_agree(count: int, what: str) -> str:
    if count == 1:
        return f"the {what} agrees with the engine"
    return f"all {count} {what}s agree with the engine"


def _fail(report: ChainReport) -> ChainReport:
    if not report.passed:
        raise DerivationError(report)
    return report


def _not_in_graph(
    graph: _Graph, numbers: Sequence[float], rel: float, absolute: float, header: str
) -> ChainReport:
    lines = [
        f"{graph.name(graph.output)} does not depend on {graph.name(graph.wrt)}: "
        f"{header} = 0 and there is no chain to check."
    ]
    other = _wrong_variable(graph, numbers, rel, absolute) if numbers else None
    if other is not None:
        lines.append(
            f"Your factors are the chain of "
            f"{derivative_name(graph.name(graph.output), graph.name(other))}: is that the "
            f"variable you meant?"
        )
    title = f"check_chain: {header}: {graph.name(graph.output)} does not depend on it"
    return graph.report((), tuple(lines), False, title)


def _check_one(
    graph: _Graph,
    numbers: Sequence[float],
    rel: float,
    absolute: float,
    header: str,
) -> ChainReport:
    if graph.fine.path_count == 0:
        return _fail(_not_in_graph(graph, numbers, rel, absolute, header))
    if graph.wrt is graph.output:
        title = f"check_chain: {header} = 1: a node's derivative by itself has no factors"
        lines = ("Your factors belong to another derivative: leave wrt != output.",)
        return _fail(graph.report((), lines, False, title))
    alignment = _align_chain(graph, numbers, rel, absolute)
    if alignment is None:
        title = f"check_chain: {header}: your {len(numbers)} factors do not make up {header}"
        # (one factor is always lined up with the whole chain, so there are several here)
        one_path = graph.fine.path_count == 1
        reasons = (
            f"However they are lined up with the chain from {graph.name(graph.wrt)} to "
            f"{graph.name(graph.output)}, some factor of yours disagrees with the engine or "
            "is missing or extra"
            + ("" if one_path else ", or your chain leaves out some of the paths")
            + ". The graph is too big for check_chain to work out which (comparing every way "
            f"of lining them up would take over {_MAX_WORK:,} moves): "
            + (
                "give one factor per step of the path, or check a shorter part of it."
                if one_path
                else "give one chain per path (a list of lists), one factor per step."
            ),
            f"The engine's total: {header} = {_fmt(graph.fine.total)}.",
        )
        return _fail(graph.report((), reasons, False, title))
    rows = tuple(_rows_of(graph, alignment, numbers, 1))
    if alignment.cost[:2] == (0, 0):
        title = f"check_chain: {header}: {_all_agree(len(numbers), 'factor')}"
        return graph.report(rows, (), True, title)
    findings: list[str] = []
    if alignment.errors:
        what, findings = _first_problem(graph, alignment, numbers, rel, absolute, None)
        title = f"check_chain: {header}: {what}"
        backwards = _align_chain(graph, numbers[::-1], rel, absolute)
        if backwards is not None and backwards.cost < alignment.cost:
            title = f"check_chain: {header}: your factors are in the reverse order"
            rows = tuple(_rows_of(graph, backwards, numbers[::-1], 1))
            right = "all right" if backwards.cost[:2] == (0, 0) else "closer to the engine's"
            findings = [
                f"Read from the other end your factors are {right}: list them from the "
                f"output, {graph.name(graph.output)}, down to {graph.name(graph.wrt)}, then "
                "check them again."
            ]
        else:
            other = _wrong_variable(graph, numbers, rel, absolute)
            if other is not None:
                theirs = derivative_name(graph.name(graph.output), graph.name(other))
                title = f"check_chain: {header}: these are the factors of {theirs}"
                rows = ()  # lined up with the wrong variable's chain, the rows only confuse
                findings = [
                    f"Your factors are all right for {theirs}, the derivative with respect to "
                    f"{graph.name(other)}; you asked for {header}. The engine's chain for "
                    f"{graph.name(graph.wrt)}:",
                    *[f"  {line}" for line in graph.coarse.text.splitlines()],
                ]
    else:
        title = f"check_chain: {header}: your chain leaves out some of the paths"
    if alignment.cost[1]:
        findings += _left_out(graph, alignment)
    return _fail(graph.report(rows, tuple(findings), False, title))


def _check_paths(
    graph: _Graph,
    chains: Sequence[Sequence[float]],
    rel: float,
    absolute: float,
    header: str,
) -> ChainReport:
    """One chain per path: each lined up with its own path, local derivatives only."""
    if graph.fine.path_count == 0:
        flat = chains[0] if len(chains) == 1 else []
        return _fail(_not_in_graph(graph, flat, rel, absolute, header))
    total = graph.fine.path_count
    if total > _MAX_PATHS:
        title = f"check_chain: {header} has {total} paths, too many to give one chain for each"
        lines = ("Give one chain through nodes on every path, or use assert_gradients.",)
        return _fail(graph.report((), lines, False, title))
    paths = graph.paths()
    aligned: dict[int, tuple[int, _Alignment]] = {}  # path index -> (chain index, alignment)
    unmatched: list[int] = []
    unfit: list[int] = []  # chains that agree with no path too long to find their best mistake
    for k, chain in enumerate(chains):
        options = []
        too_long = no_fit = False
        for p, path in enumerate(paths):
            if p in aligned:
                continue
            try:
                found = _align_path(chain, path, graph.local(path), rel, absolute)
            except _TooMuchWorkError:
                too_long = True  # over _MAX_COMPARISONS, the budget along a path
                continue
            if found is None:
                no_fit = True  # no agreeing alignment, and too long to find the best wrong one
            else:
                options.append((found.cost, p, found))
        if not any(cost[:2] == (0, 0) for cost, _, _ in options):
            if too_long:
                longest = max(len(path) for path in paths)
                raise ValueError(
                    f"check_chain: cannot line chain {k + 1} ({len(chain)} factors) up with "
                    f"the paths of {header}: a path has {longest} nodes, too many to try every "
                    f"way of splitting it (check_chain stops at {_MAX_COMPARISONS:,} "
                    "comparisons). "
                    "Give one factor per step of each path, or use assert_gradients for the "
                    "gradient alone."
                )
            one_per_step = any(len(found.path) == len(chain) + 1 for _, _, found in options)
            if no_fit and not one_per_step:  # it may be meant for that long path: blame none
                unfit.append(k)
                continue
        if not options:
            unmatched.append(k)
            continue
        _, p, best = min(options, key=lambda option: (option[0], option[1]))
        aligned[p] = (k, best)
    rows: list[ChainRow] = []
    for p in sorted(aligned, key=lambda p: aligned[p][0]):
        k, alignment = aligned[p]
        rows += _rows_of(graph, alignment, chains[k], k + 1)
    for k in unmatched:
        rows += [
            ChainRow(k + 1, j + 1, "", value, None, "extra") for j, value in enumerate(chains[k])
        ]
    rows.sort(key=lambda row: row.chain)
    findings: list[str] = []
    title = ""
    for p in sorted(aligned, key=lambda p: aligned[p][0]):
        k, alignment = aligned[p]
        if alignment.errors:
            what, findings = _first_problem(graph, alignment, chains[k], rel, absolute, k + 1)
            title = f"check_chain: {header}: {what}"
            break
    for k in unfit:
        findings.append(
            f"Chain {k + 1} agrees with none of the paths of {header}, however its "
            f"{len(chains[k])} factors are lined up, so some factor of it is wrong, missing or "
            "extra. The paths are too long for check_chain to work out which (comparing every "
            f"way of lining them up would take over {_MAX_WORK:,} moves): give one factor per "
            "step of each path."
        )
        title = title or f"check_chain: {header}: chain {k + 1} does not make up any path"
    for k in unmatched:
        findings.append(
            f"Chain {k + 1} is one chain too many: {header} has {total} "
            f"path{'' if total == 1 else 's'}, and the others already follow them all."
        )
        title = title or f"check_chain: {header}: chain {k + 1} is extra"
    uncovered = [p for p in range(len(paths)) if p not in aligned]
    if uncovered:
        title = title or f"check_chain: {header}: your chains leave out some of the paths"
        findings.append(f"{header} is the sum over {total} paths; no chain of yours follows these:")
        for p in uncovered:
            findings.append(f"  {_in_labelled_terms(graph, graph.fine.paths[p])}")
    if not title:
        title = f"check_chain: {header}: {_all_agree(len(chains), 'chain')}, one per path"
        return graph.report(tuple(rows), (), True, title)
    return _fail(graph.report(tuple(rows), tuple(findings), False, title))


def _along(
    local: Sequence[float],
) -> tuple[Callable[[int], range], Callable[[int, int], range], Callable[[int, int], float]]:
    """``below``, ``ends`` and ``value`` for ``_align`` and ``_exact`` along one path."""
    products: dict[int, list[float]] = {}

    def value(start: int, end: int) -> float:
        # The product of the local derivatives from ``start`` down to ``end``, multiplied in
        # the order math.prod multiplies: one running product per start.
        if start not in products:
            products[start] = list(itertools.accumulate(local[start:], operator.mul))
        return products[start][end - start - 1]

    def below(i: int) -> range:
        return range(i + 1, len(local) + 1)

    def ends(i: int, after: int) -> range:
        return range(i + 1, len(local) - after + 1)  # a step left for each factor after

    return below, ends, value


def _align_path(
    chain: Sequence[float],
    path: Sequence[Value],
    local: Sequence[float],
    rel: float,
    absolute: float,
    along_path: bool = True,
) -> _Alignment | None:
    """The best alignment of one chain with one path (``path``'s nodes, outputs first).

    ``local`` are the local derivatives along the path; a stretch's number is their product.
    As ``_align_chain``: one factor per step needs no search when all agree; else the best
    alignment within _MAX_WORK moves; else one factor per step, wrong factors and all; else an
    agreeing alignment, or None when there is none.

    Raises:
        _TooMuchWorkError: Even the search for an agreeing alignment is over _MAX_COMPARISONS.
    """
    direct = None
    if len(chain) == len(local):
        direct = _one_per_step(chain, path, local, rel, absolute, along_path)
        if direct.errors == 0:
            return direct
    below, ends, value = _along(local)
    if _work(len(chain), len(path)) <= _MAX_WORK:
        cost, items = _align(chain, path, below, value, lambda k: 0, rel, absolute)
        values = tuple(None if item.kind == "extra" else value(*item.span()) for item in items)
        return _Alignment(cost, items, tuple(path), values, along_path)
    if direct is not None:
        return direct
    if len(chain) == 1:  # the whole path: any other alignment has two errors or more
        engine = value(0, len(path) - 1)
        agrees = _agree(chain[0], engine, rel, absolute)
        item = _Item("match", 0, 0, len(path) - 1, agrees)
        return _Alignment(
            (int(not agrees), 0, 0, 0, 0), (item,), tuple(path), (engine,), along_path
        )
    found = _exact(chain, path, ends, value, lambda k: 0, rel, absolute, _MAX_COMPARISONS)
    if found is None:
        return None
    unlabelled = sum(1 for item in found[:-1] if not path[item.span()[1]].label)
    values = tuple(value(*item.span()) for item in found)
    return _Alignment((0, 0, 0, unlabelled, 0), found, tuple(path), values, along_path)


def _parse_edge(graph: _Graph, text: str) -> tuple[Value, Value] | None:
    """The (upper, lower) nodes an edge name such as ``dL/dy`` or ``dL/d(y - t)`` means."""
    names = graph.spellings()

    def node_called(part: str) -> Value | None:
        if part.startswith("(") and part.endswith(")"):
            part = part[1:-1]
        found = list(dict.fromkeys(names.get(part, [])))
        return found[0] if len(found) == 1 else None

    compact = "".join(text.split())
    if not compact.startswith("d"):
        return None
    body = compact[1:]
    for cut in range(len(body)):
        if body.startswith("/d", cut):
            upper, lower = node_called(body[:cut]), node_called(body[cut + 2 :])
            if upper is not None and lower is not None:
                return upper, lower
    return None


def _check_edges(
    graph: _Graph,
    factors: Mapping[str, object],
    rel: float,
    absolute: float,
    header: str,
) -> ChainReport:
    """Factors by edge name: each checked, then whether together they make the derivative."""
    where = "check_chain"
    if not factors:
        raise ValueError(f"{where}: factors is empty: give the factors of your chain")
    if graph.fine.path_count == 0:
        return _fail(_not_in_graph(graph, [], rel, absolute, header))
    known = list(dict.fromkeys(f.name for path in graph.coarse.paths for f in path))
    edges: dict[tuple[Value, Value], float] = {}
    for key, value in factors.items():
        if not isinstance(key, str):
            raise TypeError(
                f"{where}: edge names must be str such as 'dL/dy', got {type(key).__name__}"
            )
        pair = _parse_edge(graph, key)
        if pair is None:
            raise ValueError(
                f"{where}: {key!r} names no derivative between two nodes of the graph; the "
                f"chain's edges are {', '.join(known)} (unlabelled nodes are n<i>, see "
                "explain or to_text)"
            )
        if pair in edges:
            raise ValueError(f"{where}: {graph.edge(*pair)} is given twice")
        edges[pair] = _number(value, f"{where}: {key}")
    order_key = {pair: (-graph.position[pair[0]], -graph.position[pair[1]]) for pair in edges}
    ordered = sorted(edges, key=order_key.__getitem__)
    rows: list[ChainRow] = []
    findings: list[str] = []
    title = ""
    for number, (upper, lower) in enumerate(ordered, start=1):
        edge = graph.edge(upper, lower)
        yours = edges[(upper, lower)]
        if (
            not (lower in upper.parents or graph.routes(upper, lower))
            or not graph.to_output(upper)
            or not graph.routes(lower, graph.wrt)
        ):
            rows.append(ChainRow(1, number, edge, yours, None, "extra"))
            if not title:
                title = (
                    f"check_chain: {header}: {edge} is not on a path from {graph.name(graph.wrt)}"
                )
                findings.append(
                    f"{edge} is not a step from {graph.name(graph.wrt)} to "
                    f"{graph.name(graph.output)}: "
                    + (
                        f"{graph.name(upper)} does not depend on {graph.name(lower)}."
                        if not graph.routes(upper, lower)
                        else f"{graph.name(lower)} does not depend on {graph.name(graph.wrt)}."
                        if not graph.routes(lower, graph.wrt)
                        else f"{graph.name(upper)} is not on the way to the output."
                    )
                )
                other = lower if lower.is_leaf and not graph.routes(lower, graph.wrt) else None
                if other is not None:
                    findings.append(
                        f"Is this the chain of "
                        f"{derivative_name(graph.name(graph.output), graph.name(other))}?"
                    )
            continue
        engine = graph.derivative(upper, lower)
        agrees = _agree(yours, engine, rel, absolute)
        rows.append(ChainRow(1, number, edge, yours, engine, "ok" if agrees else "wrong"))
        if not agrees and not title:
            path = (upper, lower)
            item = _Item("match", number - 1, 0, 1, False)
            alignment = _Alignment((1, 0, 0, 0, 0), (item,), path, (engine,))
            who = f"your factor {edge}"
            findings += _diagnose(graph, alignment, 0, yours, engine, rel, absolute, who)
            title = f"check_chain: {header}: your factor {edge} disagrees with the engine"
    if not title:
        title, findings = _coverage(graph, list(edges), header)
    if not title:
        title = f"check_chain: {header}: {_all_agree(len(edges), 'factor')}"
        return graph.report(tuple(rows), (), True, title)
    return _fail(graph.report(tuple(rows), tuple(findings), False, title))


def _coverage(
    graph: _Graph, edges: Sequence[tuple[Value, Value]], header: str
) -> tuple[str, list[str]]:
    """Do the edges, right one by one, add up to the derivative? Name a gap or an overlap."""
    below: dict[Value, list[Value]] = {}
    for upper, lower in edges:
        below.setdefault(upper, []).append(lower)
    reached = [graph.output]
    seen = {graph.output}
    while reached:
        node = reached.pop()
        for lower in below.get(node, []):
            if lower not in seen:
                seen.add(lower)
                reached.append(lower)
    for node in sorted(seen, key=graph.position.__getitem__, reverse=True):
        if node is graph.wrt:
            continue
        lowers = below.get(node, [])
        if not lowers:
            options = [
                graph.edge(node, parent)
                for parent in dict.fromkeys(node.parents)
                if graph.routes(parent, graph.wrt)
            ]
            return f"check_chain: {header}: your chain stops at {graph.name(node)}", [
                f"No factor of yours leads on from {graph.name(node)} towards "
                f"{graph.name(graph.wrt)}: a factor is missing (the next step is "
                f"{' or '.join(options)})."
            ]
        for first in lowers:
            for second in lowers:
                if first is not second and graph.routes(first, second):
                    one, other = graph.edge(node, first), graph.edge(node, second)
                    return f"check_chain: {header}: {one} and {other} overlap", [
                        f"{one} and {other} both start at {graph.name(node)}, and "
                        f"{graph.name(first)} itself depends on {graph.name(second)}: the "
                        f"paths through both are counted twice. One of them is extra."
                    ]
        through = sum(
            (1 if graph.only_by_edge(node, lower) else graph.routes(node, lower))
            * graph.routes(lower, graph.wrt)
            for lower in lowers
        )
        if through != graph.routes(node, graph.wrt):
            left = [
                graph.edge(node, parent)
                for parent in dict.fromkeys(node.parents)
                if graph.routes(parent, graph.wrt)
                and not any(parent is lower or graph.routes(parent, lower) for lower in lowers)
            ]
            also = f" (the engine also goes through {', '.join(left)})" if left else ""
            return f"check_chain: {header}: your factors leave out some of the paths", [
                f"From {graph.name(node)} your factors go on only through "
                f"{', '.join(graph.name(lower) for lower in lowers)}, but "
                f"{graph.name(node)} reaches {graph.name(graph.wrt)} by other paths too{also}: "
                f"the derivative sums over every path."
            ]
    for upper, lower in edges:
        if upper not in seen:
            edge = graph.edge(upper, lower)
            return f"check_chain: {header}: {edge} is not connected to the output", [
                f"{edge} is not connected to {graph.name(graph.output)} by your other factors: "
                f"no factor of yours leads from {graph.name(graph.output)} down to "
                f"{graph.name(upper)}."
            ]
    return "", []
