"""The explorer page: one offline HTML file to click through a graph and step through backprop.

This module owns ``explore`` and the page it returns (``ExplorerPage``). The page is a single
self-contained file: its script, its style and the picture of the graph (an SVG) are inline, a
Content-Security-Policy forbids it every request, and it works opened from disk. In it a learner

* clicks a node to see its name, its op and the op's derivative formula, its data and grad, the
  local derivative along each edge into it, what it received from each edge leaving it, and the
  chain rule from the output to it (the text of ``autodiff.explain``), its paths highlighted;
* steps forward (nodes computed in topological order) and backward (each node sending its
  gradient to its parents, the contribution written on each edge, and a node reached by
  several paths visibly adding them up: the reason backward uses ``+=``);
* with ``quiz=True``, types the local derivative of every edge and the gradient of every node,
  each checked against the engine's number.

It owns no mathematics: every number on the page is a node's ``data`` or ``grad``, or comes from
``autodiff.chain_rule_steps`` (the steps of the engine's own backward loop, which touch no
``grad``); the chain-rule text is ``explain``'s. It changes no graph and no gradient.

The picture is laid out by Graphviz's ``dot`` program (run once, with a timeout), from boxes
whose sizes this module computes: no label text is handed to ``dot``. The SVG is then written
here, so every element is named after its node's position in ``topological_order(root)``
(``n3`` is the fourth node), never after ``id()``, and the same graph gives a byte-identical
page. Labels are data: they reach the page as escaped text and never as markup.

Example:
    >>> from autodiff import Value
    >>> x = Value(2.0, label="x")
    >>> y = x * x + x
    >>> y.label = "y"
    >>> y.backward()
    >>> page = explore(y)
    >>> page
    ExplorerPage(root='y', nodes=3, backward_steps=2, state='backward run', quiz=False)
    >>> page.html.startswith("<!DOCTYPE html>")
    True
"""

from __future__ import annotations

import base64
import decimal
import hashlib
import html
import json
import math
import operator
import os
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from numbers import Integral
from pathlib import Path
from typing import Any

from autodiff.coerce import to_float
from autodiff.engine import Value, topological_order
from autodiff.explain import explain
from autodiff.steps import ChainRuleStep, chain_rule_steps
from autodiff.viz.files import write_file
from autodiff.viz.rendering import check_timeout, run_dot

__all__ = ["ExplorerPage", "explore"]

RANKDIRS = ("TB", "LR", "BT", "RL")
"""The layout directions ``explore`` accepts (Graphviz's ``rankdir``)."""

# Box geometry, in SVG user units (the page draws at 1 unit = 1 CSS pixel). The text is a
# monospace font of 12 units, whose characters are 0.6 em wide in every common monospace font;
# the estimate is rounded up so that text never overflows its box.
_CHAR_WIDTH = 7.4
_LINE_HEIGHT = 15.0
_PAD_X = 8.0
_PAD_Y = 5.0
_NAME_COLUMNS = 18  # a longer name is cut with "…" in its box (the panel shows it whole)
_OPERAND_COLUMNS = 8  # operand names inside an expression line
_SUM_COLUMNS = 30  # the "= a + b" line of a node reached by several edges
_EDGE_FONT_SIZE = 11
_QUICK_LAYOUT = 100  # above this many nodes, dot is asked for a quicker layout
_MARGIN = 8.0

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


# ----------------------------------------------------------------------------------------------
# Text for people


def _clean(text: str, keep_newlines: bool = False) -> str:
    r"""``text`` with control characters written as ``\\xNN`` and lone surrogates replaced.

    A label is shown as the characters it holds; a control character (a newline included,
    unless ``keep_newlines``) is written as its escape so that it cannot break a line of the
    picture, and a lone surrogate, which cannot be written as UTF-8, becomes U+FFFD.
    """
    text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if keep_newlines:
        return "\n".join(_clean(line) for line in text.split("\n"))
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def _columns(text: str) -> int:
    """How many monospace columns ``text`` takes: wide characters (CJK, emoji) take two."""
    width = 0
    for character in text:
        if unicodedata.combining(character) or character in "\u200d\ufe0f":
            continue
        width += 2 if unicodedata.east_asian_width(character) in ("W", "F") else 1
    return width


def _clip(text: str, columns: int) -> str:
    """``text`` cut to at most ``columns`` columns, ending in "…" when cut."""
    if _columns(text) <= columns:
        return text
    kept = ""
    for character in text:
        if _columns(kept + character) > columns - 1:
            break
        kept += character
    return kept + "…"


def _d(name: str) -> str:
    """``dL`` for a simple name, ``d(y - t)`` for one with spaces or symbols (as explain writes)."""
    return f"d{name}" if re.fullmatch(r"[\w.']+", name) else f"d({name})"


def _constant(c: float) -> str:
    """A plain-number operand as the code reads it: ``0.5``, ``2``, ``1e-08``."""
    return format(c, "g")


def _expression(symbol: str, arity_symbolic: bool, operands: Sequence[str]) -> str:
    """The op applied to operand texts: ``a + b``, ``-a``, ``|a|``, ``σ(a)``, ``f(a, b, c)``."""
    if arity_symbolic and len(operands) == 2:
        return f"{operands[0]} {symbol} {operands[1]}"
    if symbol == "-" and len(operands) == 1:
        return f"-{operands[0]}"
    if symbol == "abs" and len(operands) == 1:
        return f"|{operands[0]}|"
    return f"{symbol}({', '.join(operands)})"


_INFIX = {"+", "-", "*", "/", "**"}


def _letters(op_name: str, count: int) -> list[str]:
    """The names the op table's formula gives its operands: ``x``, ``y``; ``c`` for pow's number."""
    if op_name == "pow" and count == 2:
        return ["x", "c"]
    if count == 1:
        return ["x"]
    if count == 2:
        return ["x", "y"]
    return [f"x{k + 1}" for k in range(count)]


# ----------------------------------------------------------------------------------------------
# Which part of the graph the page shows


@dataclass(frozen=True)
class _View:
    """The nodes the page shows (inputs first), the node they all lead to, and why."""

    nodes: list[Value]
    top: Value
    summary: str


def _ancestors_within(node: Value, limit: int) -> list[Value] | None:
    """``node`` and everything it depends on, or None as soon as there are more than ``limit``."""
    seen = {node}
    stack = [node]
    while stack:
        for parent in stack.pop().parents:
            if parent not in seen:
                seen.add(parent)
                if len(seen) > limit:
                    return None
                stack.append(parent)
    return list(seen)


def _sample_terms(order: list[Value]) -> list[Value]:
    """The per-sample terms of the batched loss ``order[-1]``, in the order they were added.

    The sum is found by going down from ``root`` through products and quotients by a number (the
    mean's ``/ n`` or ``* (1/n)``) to a ``+``. Its terms are the operands
    of the chain of ``+`` nodes that ``sum(terms)`` or ``total = total + term`` builds: an
    unlabelled ``+`` used by the next ``+`` only is a partial sum, anything else is a term.
    """
    users: dict[Value, int] = {}
    for node in order:
        for parent in node.parents:
            users[parent] = users.get(parent, 0) + 1
    node = order[-1]
    while node.op is not None and node.op.name in ("mul", "div") and len(node.parents) == 1:
        node = node.parents[0]
    terms: list[Value] = []
    while node.op is not None and node.op.name == "add":
        first, second = node.operands
        if isinstance(second, Value):
            terms.append(second)
        partial_sum = (
            isinstance(first, Value)
            and first.op is not None
            and first.op.name == "add"
            and not first.label
            and users.get(first, 0) == 1
        )
        if not partial_sum:
            if isinstance(first, Value):
                terms.append(first)
            break
        assert isinstance(first, Value)
        node = first
    terms.reverse()
    return terms


def _view(
    root: Value,
    order: list[Value],
    names: Mapping[Value, str],
    focus: Value | None,
    sample: int | None,
    max_nodes: int,
) -> _View:
    summary = ""
    if sample is not None:
        terms = _sample_terms(order)
        if len(terms) < 2:
            raise ValueError(
                f"explore: sample={sample} needs a loss that sums per-sample terms "
                f"(sum(terms), or total = total + term, then maybe / n); "
                f"{names[root]} is not such a sum: pass focus=<a node> instead"
            )
        if not 0 <= sample < len(terms):
            raise IndexError(
                f"explore: sample={sample} is out of range: {names[root]} sums "
                f"{len(terms)} samples (0 to {len(terms) - 1})"
            )
        focus = terms[sample]
        summary = (
            f"Sample {sample} of {len(terms)} (0 to {len(terms) - 1}): the term "
            f"{names[focus]} of {names[root]} and what it depends on. The sum of the other "
            f"{len(terms) - 1} terms is not drawn: its part of each gradient is written "
            f"'from outside this view'."
        )
    top = root if focus is None else focus
    if focus is not None and summary == "":
        summary = (
            f"Only {names[focus]} and what it depends on. Gradients are those of "
            f"{names[root]}; the parts that come through nodes not drawn are written "
            f"'from outside this view'."
        )
    shown = _ancestors_within(top, max_nodes)
    if shown is None:
        terms = _sample_terms(order) if focus is None else []
        advice = (
            f"pass sample=k to see one of its {len(terms)} samples, " if len(terms) >= 2 else ""
        )
        raise ValueError(
            f"explore: the graph under {names[top]} has more than max_nodes={max_nodes} "
            f"values, too many to lay out and click through; {advice}pass focus=<a node> to "
            f"see only what that node depends on, or raise max_nodes"
        )
    members = set(shown)
    return _View([node for node in order if node in members], top, summary)


# ----------------------------------------------------------------------------------------------
# Whether the grads hold a backward pass


def _float(x: Any) -> float:
    """A grad as a float: a Value's data after ``create_graph``, 0.0 for None."""
    if x is None:
        return 0.0
    if isinstance(x, Value):
        return x.data
    return float(x)


def _same(a: float, b: float) -> bool:
    return a == b or math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-300) or (a != a and b != b)


_STATES = {
    "run": "backward run",
    "not run": "backward not run",
    "stale": "grads stale",
}


def _backward_state(root: Value, order: list[Value], expected: Mapping[Value, float]) -> str:
    """Say "run" if every interior grad is d root / d node, "not run" if all grads are zero."""
    if all(_float(node.grad) == 0.0 for node in order):
        return "not run"
    interior = [node for node in order if node.op is not None]
    if all(_same(_float(node.grad), expected[node]) for node in interior):
        return "run"
    return "stale"


# ----------------------------------------------------------------------------------------------
# Layout by Graphviz's dot


@dataclass(frozen=True)
class _Box:
    key: str  # the DOT id, "v<topological index>"
    lines: list[str]
    width: float
    height: float


@dataclass(frozen=True)
class _Placed:
    """Where dot put things: box centres, edge splines and label points, the drawing's size."""

    width: float
    height: float
    centres: dict[str, tuple[float, float]]
    splines: dict[str, tuple[list[tuple[float, float]], tuple[float, float] | None]]
    label_points: dict[str, tuple[float, float]]


def _points(text: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in (pair.split(",") for pair in text.split())]


def _layout(
    boxes: list[_Box],
    edges: list[tuple[str, str, str, int]],
    rankdir: str,
    timeout: float,
) -> _Placed:
    """Ask dot where to put each box and edge: ``edges`` are (id, tail, head, label width)."""
    # dot's best layout takes minutes on a few hundred nodes (a long sum fanning out to shared
    # parameters): above _QUICK_LAYOUT nodes its network-simplex passes are cut short and edges
    # reserve no room for their numbers, which are then written at the middle of the edge.
    quick = len(boxes) > _QUICK_LAYOUT
    limits = " nslimit=1, nslimit1=1, mclimit=0.1, searchsize=10," if quick else ""
    lines = [
        "digraph explorer {",
        f"  graph [rankdir={rankdir},{limits} nodesep=0.3, ranksep=0.3];",
        '  node [shape=box, fixedsize=true, label=""];',
        f'  edge [fontname="Courier", fontsize={_EDGE_FONT_SIZE}];',
    ]
    for box in boxes:
        lines.append(f"  {box.key} [width={box.width / 72:.4f}, height={box.height / 72:.4f}];")
    for key, tail, head, label_columns in edges:
        # The label only reserves room: the page writes the numbers there itself.
        label = "" if quick else f', label="{"0" * label_columns}"'
        lines.append(f'  {tail} -> {head} [id="{key}"{label}];')
    lines.append("}")
    laid = json.loads(run_dot("\n".join(lines), "json0", where="explore", timeout=timeout))
    _, _, width, height = (float(v) for v in laid["bb"].split(","))
    centres: dict[str, tuple[float, float]] = {}
    for item in laid.get("objects", []):
        x, y = (float(v) for v in item["pos"].split(","))
        centres[item["name"]] = (x, height - y)
    splines: dict[str, tuple[list[tuple[float, float]], tuple[float, float] | None]] = {}
    label_points: dict[str, tuple[float, float]] = {}
    for item in laid.get("edges", []):
        parts = item["pos"].split()
        tip: tuple[float, float] | None = None
        if parts and parts[0].startswith("e,"):
            ((tip_x, tip_y),) = _points(parts[0][2:])
            tip = (tip_x, height - tip_y)
            parts = parts[1:]
        parts = [part for part in parts if not part.startswith("s,")]
        splines[item["id"]] = ([(x, height - y) for x, y in _points(" ".join(parts))], tip)
        if "lp" in item:
            x, y = (float(v) for v in item["lp"].split(","))
            label_points[item["id"]] = (x, height - y)
    return _Placed(width, height, centres, splines, label_points)


# ----------------------------------------------------------------------------------------------
# The SVG


def _n(x: float) -> str:
    """A coordinate, to two decimals (deterministic and small)."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _middle(points: list[tuple[float, float]]) -> tuple[float, float]:
    """The point halfway along the middle piece of a spline (cubic Bézier pieces, 3k+1 points)."""
    pieces = (len(points) - 1) // 3
    if pieces < 1:
        return points[len(points) // 2]
    start = 3 * (pieces // 2)
    (x0, y0), (x1, y1), (x2, y2), (x3, y3) = points[start : start + 4]
    # B(1/2) = (P0 + 3 P1 + 3 P2 + P3) / 8
    return (x0 + 3 * x1 + 3 * x2 + x3) / 8, (y0 + 3 * y1 + 3 * y2 + y3) / 8


def _attribute(text: str) -> str:
    return html.escape(text, quote=True)


def _svg(
    boxes: list[_Box],
    kinds: list[str],
    edge_ids: list[str],
    placed: _Placed,
    sum_lines: set[int],
) -> str:
    """The picture: one ``<g>`` per node (its box and lines) and per edge (spline, arrow, label)."""
    m = _MARGIN
    width, height = placed.width + 2 * m, placed.height + 2 * m
    out = [
        f'<svg id="graph" width="{_n(width)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" role="img" aria-label="computation graph">',
        '<g id="edges">',
    ]
    for k, key in enumerate(edge_ids):
        points, tip = placed.splines[key]
        shifted = [(x + m, y + m) for x, y in points]
        d = f"M{_n(shifted[0][0])},{_n(shifted[0][1])}"
        for i in range(1, len(shifted) - 2, 3):
            (x1, y1), (x2, y2), (x3, y3) = shifted[i : i + 3]
            d += f" C{_n(x1)},{_n(y1)} {_n(x2)},{_n(y2)} {_n(x3)},{_n(y3)}"
        out.append(f'<g class="edge" id="edge-{k}" data-edge="{k}"><path d="{d}"/>')
        if tip is not None:
            (bx, by), (tx, ty) = shifted[-1], (tip[0] + m, tip[1] + m)
            length = math.hypot(tx - bx, ty - by) or 1.0
            ux, uy = (tx - bx) / length, (ty - by) / length
            half = 3.5
            arrow = [(tx, ty), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)]
            out.append(f'<polygon points="{" ".join(f"{_n(x)},{_n(y)}" for x, y in arrow)}"/>')
        if key in placed.label_points:
            lx, ly = placed.label_points[key]
            lx, ly = lx + m, ly + m
        else:
            lx, ly = _middle(shifted)
        out.append(
            f'<text class="edge-label" id="edge-label-{k}" x="{_n(lx)}" y="{_n(ly + 4)}">'
            "</text></g>"
        )
    out.append("</g>")
    out.append('<g id="nodes">')
    for i, box in enumerate(boxes):
        cx, cy = placed.centres[box.key]
        cx, cy = cx + m, cy + m
        left, top = cx - box.width / 2, cy - box.height / 2
        out.append(
            f'<g class="node {kinds[i]}" id="node-{i}" data-node="{i}" tabindex="0" '
            f'role="button" aria-label="{_attribute(box.lines[0])}">'
            f'<rect x="{_n(left)}" y="{_n(top)}" width="{_n(box.width)}" '
            f'height="{_n(box.height)}" rx="4"/>'
        )
        fields = ["name", "expr", "data", "grad"] + (["sum"] if i in sum_lines else [])
        for line, (field, text) in enumerate(zip(fields, [*box.lines, ""], strict=False)):
            y = top + _PAD_Y + _LINE_HEIGHT * (line + 0.75)
            out.append(
                f'<text class="{field}" id="node-{i}-{field}" x="{_n(cx)}" y="{_n(y)}">'
                f"{html.escape(text, quote=False)}</text>"
            )
        out.append("</g>")
    out.append("</g></svg>")
    return "\n".join(out)


# ----------------------------------------------------------------------------------------------
# The page


def _asset(name: str) -> str:
    return resources.files("autodiff.viz").joinpath(name).read_text(encoding="utf-8")


def _json_for_html(data: object) -> str:
    """JSON that is safe inside a ``<script type="application/json">`` element."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    for character, escape in (
        ("&", "\\u0026"),
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(character, escape)
    return text


_FORMAT_TAIL = re.compile(r"(?:\.(\d+))?([eEfFgGn%]?)$")


def _as_shown(text: str, number_format: str) -> tuple[float | None, float]:
    """The number a formatted ``text`` shows, and half a unit of its last digit.

    A quiz answer that is the engine's number rounded as the page shows it must be right, so
    the tolerance includes half a unit of the last digit shown: 0.005 for ``0.12`` (``.2f``),
    0.0005e-03 for ``1.235e-03`` (``.3e``). Formats that drop trailing zeros (``g``, and no
    type with a precision) round to ``precision`` significant digits, which is what counts.
    The number is None when ``text`` does not read as one (a fill character, say).

    Example:
        >>> _as_shown("0.12", ".2f"), _as_shown("0.5", ".3g"), _as_shown("12.3%", ".1%")
        ((0.12, 0.005), (0.5, 0.0005), (0.123, 0.0005))
    """
    cleaned = text.strip().replace(",", "").replace("_", "")
    percent = cleaned.endswith("%")
    try:
        shown = decimal.Decimal(cleaned.removesuffix("%"))
    except decimal.InvalidOperation:
        return None, 0.0
    if not shown.is_finite():
        return float(shown), 0.0
    tail = _FORMAT_TAIL.search(number_format)
    precision = tail.group(1) if tail else None
    kind = tail.group(2) if tail else ""
    last = shown.as_tuple().exponent
    assert isinstance(last, int)  # a finite Decimal's exponent
    if kind in ("g", "G", "n") or (kind == "" and precision is not None):
        if shown == 0:
            return 0.0, 0.0  # these formats write a tiny number as 1e-300, never as 0
        last = shown.adjusted() - max(int(precision or 6), 1) + 1
    elif kind == "" and precision is None:
        return float(shown), 0.0  # str(x): every digit of the float, nothing rounded away
    if percent:
        shown, last = shown.scaleb(-2), last - 2
    return float(shown), float(decimal.Decimal(5).scaleb(last - 1))


def _number_json(x: float) -> float | str:
    """A float for JSON: non-finite numbers as the strings "inf", "-inf", "nan"."""
    return x if math.isfinite(x) else repr(x)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; \
script-src '{script_hash}'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="{generator}">
<link rel="icon" href="data:,">
<title>{title}</title>
<style>
{style}</style>
</head>
<body class="{body_class}">
<header>
<h1 id="title">{title}</h1>
<p id="state" class="state {state_class}">{state_text}</p>
<p id="view-summary" class="summary"{summary_hidden}>{summary}</p>
<nav id="modes" aria-label="modes"></nav>
<div id="stepper" hidden>
<button type="button" id="prev" aria-label="previous step">&#9664; prev</button>
<button type="button" id="play" aria-label="play">&#9654; play</button>
<button type="button" id="next" aria-label="next step">next &#9654;</button>
<input type="range" id="slider" min="0" max="0" value="0" aria-label="step">
<span id="position"></span>
<p id="caption" aria-live="polite"></p>
</div>
</header>
<main>
<div id="picture">
{svg}
</div>
<aside id="panel" aria-live="polite"></aside>
</main>
<script type="application/json" id="explorer-data">{data}</script>
<script>{script}</script>
</body>
</html>
"""


@dataclass(frozen=True, eq=False)
class ExplorerPage:
    """An explorer page: ``html`` is the whole file; it shows itself in Jupyter and saves.

    Made by ``explore``. In a notebook the page displays inline (in an iframe whose script runs,
    sandboxed from the notebook); ``save`` writes the file to open from disk.

    Attributes:
        html: The page, one self-contained HTML document.
        root: The output the page is about.
        node_count: How many nodes the page draws.
        backward_steps: How many steps its backward stepper has (the interior nodes drawn).
        state: "backward run", "backward not run" or "grads stale" (the grads do not hold
            d root / d node: backward ran from another output, or data changed after it).
        quiz: Whether the page is an exercise that hides gradients and local derivatives.
        height: The height, in pixels, of the frame it is shown in in a notebook.
        root_name: The root's name as the page and ``explore``'s messages write it: its label,
            or ``n<i>`` when it has none (``i``: its position in ``topological_order(root)``).
    """

    html: str
    root: Value
    node_count: int
    backward_steps: int
    state: str
    quiz: bool
    height: int
    root_name: str = ""

    def save(self, path: str | Path) -> Path:
        """Write the page to ``path`` (UTF-8) and return the path.

        The page is written whole or not at all (``autodiff.viz.files``): a full disk or
        Ctrl-C leaves ``path`` as it was, never a truncated page.

        Example:
            >>> import tempfile
            >>> from pathlib import Path
            >>> from autodiff import Value
            >>> page = explore(Value(1.0, label="x") * 2)
            >>> with tempfile.TemporaryDirectory() as folder:
            ...     saved = page.save(Path(folder) / "x.html")
            ...     saved.read_text(encoding="utf-8") == page.html
            True
        """
        if not isinstance(path, (str, os.PathLike)):
            raise TypeError(
                f"ExplorerPage.save: path must be a str or a path, got {type(path).__name__} "
                f"({path!r})"
            )
        return write_file(path, self.html)

    def _repr_html_(self) -> str:
        # srcdoc keeps the page whole (its script runs in the frame); allow-scripts without
        # allow-same-origin keeps the notebook out of its reach.
        return (
            f'<iframe srcdoc="{_attribute(self.html)}" sandbox="allow-scripts" '
            f'title="{_attribute(_title_of(self.html))}" '
            f'style="width:100%;height:{self.height}px;border:1px solid #ccc"></iframe>'
        )

    def __repr__(self) -> str:
        return (
            f"ExplorerPage(root={self.root_name or _clean(self.root.label) or 'output'!r}, "
            f"nodes={self.node_count}, backward_steps={self.backward_steps}, "
            f"state={self.state!r}, quiz={self.quiz})"
        )


def _title_of(page: str) -> str:
    match = re.search(r"<title>(.*?)</title>", page, re.DOTALL)
    return html.unescape(match.group(1)) if match else "explorer"


def _check_options(
    root: object,
    path: object,
    focus: object,
    sample: object,
    max_nodes: object,
    number_format: object,
    rankdir: object,
    rel_tol: object,
    abs_tol: object,
    dot_timeout: object,
    title: object,
    quiz: object,
) -> None:
    if not isinstance(root, Value):
        raise TypeError(f"explore: root must be a Value, got {type(root).__name__}")
    if focus is not None and not isinstance(focus, Value):
        raise TypeError(f"explore: focus must be a Value, got {type(focus).__name__}")
    # numpy's integers are numbers.Integral: explore(sample=np.int64(3)) is sample=3
    if sample is not None and (isinstance(sample, bool) or not isinstance(sample, Integral)):
        raise TypeError(f"explore: sample must be an int, got {type(sample).__name__}")
    if focus is not None and sample is not None:
        raise ValueError("explore: give focus= or sample=, not both")
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, Integral) or max_nodes < 1:
        raise ValueError(f"explore: max_nodes must be an int >= 1, got {max_nodes!r}")
    if not isinstance(number_format, str):
        raise TypeError(f"explore: number_format must be a str, got {number_format!r}")
    try:
        format(1.5, number_format)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"explore: number_format {number_format!r} is not a float format spec"
        ) from error
    if rankdir not in RANKDIRS:
        raise ValueError(f"explore: rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    for name, tolerance in (("rel_tol", rel_tol), ("abs_tol", abs_tol)):
        if (
            isinstance(tolerance, bool)
            or not isinstance(tolerance, (int, float))
            or not 0 <= tolerance < math.inf
        ):
            raise ValueError(f"explore: {name} must be a number >= 0, got {tolerance!r}")
    check_timeout(dot_timeout, "explore", "dot_timeout")
    if path is not None and not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"explore: path must be a str, a path or None, got {type(path).__name__} ({path!r})"
        )
    if title is not None and not isinstance(title, str):
        raise TypeError(
            f"explore: title must be a str or None, got {type(title).__name__} ({title!r})"
        )
    if not isinstance(quiz, bool):
        raise TypeError(f"explore: quiz must be True or False, got {quiz!r}")


def explore(
    root: Value,
    path: str | Path | None = None,
    *,
    focus: Value | None = None,
    sample: int | None = None,
    quiz: bool = False,
    max_nodes: int = 500,
    number_format: str = ".4f",
    rankdir: str = "TB",
    title: str | None = None,
    rel_tol: float = 1e-3,
    abs_tol: float = 1e-4,
    dot_timeout: float = 60.0,
) -> ExplorerPage:
    """Make the explorer page of the graph under ``root``: click nodes, step through backprop.

    The page works before ``backward()`` has run: it then says so, shows no zeros as if they
    were gradients, and its backward stepper shows what ``backward`` will compute (from
    ``chain_rule_steps``, which touches no grad).

    Args:
        root: The output (a loss).
        path: If given, the page is also written there at once.
        focus: Draw only this node and what it depends on (for a large graph). Gradients stay
            those of ``root``; what reaches a drawn node through undrawn ones is written "from
            outside this view".
        sample: For a loss that sums per-sample terms (``sum(terms)`` or ``total = total +
            term``, maybe divided by their count): draw only the ``sample``-th term and what it
            depends on, the other terms summarised.
        quiz: An exercise: gradients and local derivatives are hidden and the learner types
            them; each answer is marked right or wrong, with a hint and a reveal.
        max_nodes: Refuse (ValueError, with advice) to draw more nodes than this.
        number_format: The format spec for data, grads and derivatives (``.4f``: 4 decimals).
        rankdir: The layout direction: "TB" (inputs at the top), "LR", "BT" or "RL".
        title: The page's title (default: "Explore <root's name>").
        rel_tol: In a quiz, an answer is right within ``rel_tol`` times the engine's number...
        abs_tol: ...or within ``abs_tol`` of it (so 4 decimals are enough by default).
        dot_timeout: Seconds to wait for Graphviz's ``dot`` before raising DotFailedError
            (above 0, at most a day).

    Returns:
        An ``ExplorerPage``: ``save(path)`` writes it, Jupyter displays it.

    Raises:
        TypeError: ``root`` or ``focus`` is not a Value, ``sample`` not an int, ``path`` not
            a str or path, ``title`` not a str, ``quiz`` not a bool, or ``dot_timeout`` not a
            number.
        ValueError: A bad option, ``focus`` not in the graph, a graph over ``max_nodes``,
            or ``sample`` for a loss that is no sum of terms.
        IndexError: ``sample`` is not the number of one of the terms.
        DotNotFoundError: Graphviz's ``dot`` program is not installed.

    Example:
        >>> from autodiff import Value
        >>> w = Value(0.5, label="w")
        >>> loss = (w * 2.0 - 3.0) ** 2
        >>> loss.label = "loss"
        >>> explore(loss)  # before backward
        ExplorerPage(root='loss', nodes=4, backward_steps=3, state='backward not run', quiz=False)
        >>> loss.backward()
        >>> page = explore(loss, quiz=True)
        >>> page.state, page.quiz
        ('backward run', True)
    """
    _check_options(
        root,
        path,
        focus,
        sample,
        max_nodes,
        number_format,
        rankdir,
        rel_tol,
        abs_tol,
        dot_timeout,
        title,
        quiz,
    )
    sample = None if sample is None else operator.index(sample)
    max_nodes = operator.index(max_nodes)
    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}
    names = {node: _clean(node.label) or f"n{i}" for node, i in index.items()}
    for node in order:  # a grad someone set by hand: say so here, not deep in the page's maths
        if node.grad is not None and not isinstance(node.grad, Value):
            try:
                to_float(node.grad, "")
            except (TypeError, OverflowError):
                raise TypeError(
                    f"explore: the grad of {names[node]} is not a number: "
                    f"{type(node.grad).__name__} ({node.grad!r})"
                ) from None
    if focus is not None and focus not in index:
        raise ValueError(
            f"explore: focus {focus!r} is not part of the graph under {names[root]}: "
            "give a node that the root depends on"
        )
    view = _view(root, order, names, focus, sample, max_nodes)

    seed = _float(root.grad)
    steps = chain_rule_steps(root, seed if seed != 0.0 and math.isfinite(seed) else 1.0)
    expected: dict[Value, float] = {root: steps[0].upstream if steps else 1.0}
    for step in steps:
        expected[step.parent] = step.total
    state = _backward_state(root, order, expected)
    builder = _Builder(root, view, names, index, steps, expected, state, bool(quiz), number_format)
    data, boxes, kinds, edge_ids, edge_columns, sum_lines = builder.build(title, rel_tol, abs_tol)
    placed = _layout(
        boxes,
        [
            (edge_ids[k], boxes[e["from"]].key, boxes[e["to"]].key, edge_columns[k])
            for k, e in enumerate(data["edges"])
        ],
        rankdir,
        dot_timeout,
    )
    svg = _svg(boxes, kinds, edge_ids, placed, sum_lines)
    script = _asset("explorer.js")
    digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode()
    from autodiff import __version__

    page_title = data["title"]
    page = _PAGE.format(
        script_hash=f"sha256-{digest}",
        generator=_attribute(f"autodiff {__version__} explorer; Graphviz {_dot_version()}"),
        title=html.escape(page_title, quote=False),
        style=_asset("explorer.css"),
        body_class="quiz" if quiz else "explore",
        state_class=state.replace(" ", "-"),
        state_text=html.escape(data["stateText"], quote=False),
        summary_hidden="" if view.summary else " hidden",
        summary=html.escape(view.summary, quote=False),
        svg=svg,
        data=_json_for_html(data),
        script=script,
    )
    result = ExplorerPage(
        page,
        root,
        len(view.nodes),
        len(data["backward"]),
        _STATES[state],
        bool(quiz),
        int(min(900, max(480, placed.height + 2 * _MARGIN + 160))),
        names[root],
    )
    if path is not None:
        result.save(path)
    return result


def _dot_version() -> str:
    program = shutil.which("dot")
    if program is None:
        return "unknown"
    done = subprocess.run([program, "-V"], capture_output=True, timeout=30, check=False)
    match = re.search(r"version (\S+)", done.stderr.decode(errors="replace"))
    return match.group(1) if match else "unknown"


class _Builder:
    """Turns the view, the engine's steps and the grads into the page's data and boxes."""

    def __init__(
        self,
        root: Value,
        view: _View,
        names: Mapping[Value, str],
        index: Mapping[Value, int],
        steps: list[ChainRuleStep],
        expected: Mapping[Value, float],
        state: str,
        quiz: bool,
        number_format: str,
    ) -> None:
        self.root = root
        self.view = view
        self.names = names
        self.index = index
        self.steps = steps
        self.expected = expected
        self.state = state
        self.quiz = quiz
        self.number_format = number_format
        self.position = {node: i for i, node in enumerate(view.nodes)}

    def number(self, x: float) -> str:
        return format(x, self.number_format)

    def rounding(self, name: str, shown: str) -> dict[str, float | str | None]:
        """For a quiz: the number a question's answer is shown as, and half its last digit."""
        if not self.quiz:
            return {}
        value, half = _as_shown(shown, self.number_format)
        return {
            f"{name}Shown": None if value is None else _number_json(value),
            f"{name}Half": half,
        }

    def operand_texts(self, node: Value, columns: int | None) -> tuple[list[str], list[str]]:
        """Each operand by name (cut to ``columns``) and by number."""
        by_name, by_number = [], []
        for operand in node.operands:
            if isinstance(operand, Value):
                name = self.names[operand]
                by_name.append(name if columns is None else _clip(name, columns))
                by_number.append(self.number(operand.data))
            else:
                by_name.append(_constant(operand))
                by_number.append(_constant(operand))
        return by_name, by_number

    def expression(self, node: Value, texts: Sequence[str]) -> str:
        assert node.op is not None
        infix = node.op.symbol in _INFIX and len(texts) == 2
        return _expression(_clean(node.op.symbol), infix, texts)

    def build(
        self, title: str | None, rel_tol: float, abs_tol: float
    ) -> tuple[dict[str, Any], list[_Box], list[str], list[str], list[int], set[int]]:
        view, names, position = self.view, self.names, self.position
        root_name = names[self.root]
        in_view = set(view.nodes)

        # The engine's steps, those a drawn node takes; what drawn nodes get from undrawn ones.
        edges: list[dict[str, Any]] = []
        edge_of: dict[tuple[Value, int], int] = {}
        backward: list[dict[str, Any]] = []
        outside: dict[Value, list[float]] = {}
        for step in self.steps:
            if step.node not in in_view:
                if step.parent in in_view:
                    outside.setdefault(step.parent, []).append(step.contribution)
                continue
            edge_of[(step.node, step.index)] = len(edges)
            edges.append(self.edge(step))

        received: dict[Value, list[str]] = {}
        running: dict[Value, float] = {}
        start = []
        for node in view.nodes:
            if node in outside:
                total = math.fsum(outside[node])
                running[node] = total
                received[node] = [f"{self.number(total)} (outside)"]
                start.append({"node": position[node], "grad": self.number(total)})
        if view.top is self.root:
            start.append(
                {"node": position[self.root], "grad": self.number(self.expected[self.root])}
            )
        sum_lines: set[int] = set()
        fan_in = dict.fromkeys(view.nodes, 0)
        for step in self.steps:
            if step.node in in_view:
                fan_in[step.parent] += 1
        for node, count in fan_in.items():
            if count + (1 if node in outside and node is not view.top else 0) >= 2:
                sum_lines.add(position[node])

        current: dict[str, Any] | None = None
        receipts: dict[Value, list[dict[str, str]]] = {node: [] for node in view.nodes}
        for step in self.steps:
            if step.node not in in_view:
                continue
            if current is None or current["node"] != position[step.node]:
                current = {
                    "node": position[step.node],
                    "upstream": self.number(step.upstream),
                    "sends": [],
                }
                backward.append(current)
            parent = step.parent
            if parent in outside:
                running[parent] = running.get(parent, 0.0) + step.contribution
                total = running[parent]
            else:
                total = step.total  # the engine's own running sum
            terms = received.setdefault(parent, [])
            terms.append(self.number(step.contribution))
            sum_text = "= " + " + ".join(terms)
            if _columns(sum_text) > _SUM_COLUMNS:
                sum_text = f"= sum of {len(terms)} parts"
            current["sends"].append(
                {
                    "edge": edge_of[(step.node, step.index)],
                    "contribution": self.number(step.contribution),
                    "total": self.number(total),
                    "count": len(terms),
                    "sum": sum_text if len(terms) >= 2 else "",
                    "terms": " + ".join(terms),
                }
            )
            receipts[parent].append(
                {
                    "from": names[step.node],
                    "text": f"{self.number(step.upstream)} × {self.number(step.local)} = "
                    f"{self.number(step.contribution)}",
                }
            )

        nodes = [self.node_data(node, edges, outside, receipts) for node in view.nodes]
        for k, edge in enumerate(edges):
            nodes[edge["to"]]["inEdges"].append(k)
            nodes[edge["from"]]["outEdges"].append(k)

        boxes = self.boxes(nodes, edges, backward, start, sum_lines)
        kinds = [item["kind"] for item in nodes]
        edge_columns = [
            max(_columns(e["local"]), _columns(e["contribution"]), 1) + 2 for e in edges
        ]
        state_text = self.state_text(rel_tol, abs_tol)
        data: dict[str, Any] = {
            "title": _clean(title) if title is not None else f"Explore {root_name}",
            "root": root_name,
            "gradName": f"{_d(root_name)}/d(node)",
            "state": self.state,
            "stateText": state_text,
            "quiz": self.quiz,
            "relTol": rel_tol,
            "absTol": abs_tol,
            "toleranceText": self.tolerance_text(rel_tol, abs_tol) if self.quiz else "",
            "summary": view.summary,
            "nodes": nodes,
            "edges": edges,
            "start": start,
            "backward": backward,
        }
        edge_ids = [f"e{self.index[view.nodes[e['to']]]}_{e['index']}" for e in edges]
        return data, boxes, kinds, edge_ids, edge_columns, sum_lines

    def boxes(
        self,
        nodes: list[dict[str, Any]],
        edges: list[dict[str, Any]],
        backward: list[dict[str, Any]],
        start: list[dict[str, Any]],
        sum_lines: set[int],
    ) -> list[_Box]:
        """Each node's box: its lines, and a size that fits every text it will show."""
        totals: dict[int, list[str]] = {}
        for item in backward:
            for send in item["sends"]:
                totals.setdefault(edges[send["edge"]]["from"], []).append(send["total"])
        boxes = []
        position = self.position
        for node, item in zip(self.view.nodes, nodes, strict=True):
            shown = "?" if self.quiz else item["grad"] if item["grad"] is not None else "—"
            lines = [item["short"], item["boxExpr"], f"data {item['data']}", f"grad {shown}"]
            widest = max(_columns(line) for line in lines)
            # Room for every number the grad line shows while stepping, and a quiz mark.
            for text in [item["expected"], *totals.get(position[node], [])]:
                widest = max(widest, _columns(f"grad ✓ {text}"))
            start_grads = [s["grad"] for s in start if s["node"] == position[node]]
            for text in start_grads:
                widest = max(widest, _columns(f"grad {text}"))
            line_count = len(lines)
            if position[node] in sum_lines:
                line_count += 1
                longest = max(
                    (
                        _columns(send["sum"])
                        for step in backward
                        for send in step["sends"]
                        if edges[send["edge"]]["from"] == position[node]
                    ),
                    default=0,
                )
                widest = max(widest, longest)
            boxes.append(
                _Box(
                    f"v{self.index[node]}",
                    lines,
                    widest * _CHAR_WIDTH + 2 * _PAD_X,
                    line_count * _LINE_HEIGHT + 2 * _PAD_Y,
                )
            )
        return boxes

    def state_text(self, rel_tol: float, abs_tol: float) -> str:
        """What the page says at the top: whether the grads are gradients, or the exercise."""
        root_name = self.names[self.root]
        text = {
            "run": f"backward() has run: each grad is {_d(root_name)}/d(node).",
            "not run": (
                f"backward() has not run on {root_name} yet: every grad is still 0.0, which "
                "is not a gradient, so the page shows none. The backward stepper shows what "
                f"{root_name}.backward() will compute."
            ),
            "stale": (
                f"The grads on this graph are not {_d(root_name)}/d(node): backward ran from "
                "another output, or data changed after it. The page shows none; the "
                f"backward stepper shows what {root_name}.backward() computes now."
            ),
        }[self.state]
        if self.quiz:
            text = (
                "Exercise: type the local derivative of each edge and the gradient of each "
                f"node ({_d(root_name)}/d(node)). {self.tolerance_text(rel_tol, abs_tol)}"
            )
        return text

    def tolerance_text(self, rel_tol: float, abs_tol: float) -> str:
        """The quiz's rule for a right answer, as the page states it."""
        tail = _FORMAT_TAIL.search(self.number_format)
        here = ""
        if tail and tail.group(2) in ("f", "F", "%"):  # the same last digit for every number
            half = _as_shown(format(1.0, self.number_format), self.number_format)[1]
            here = f" ({decimal.Decimal(repr(half)):f} here)"  # 0.00005, not 5e-05
        return (
            f"An answer is right within {rel_tol:g} × |the engine's number|, within "
            f"{abs_tol:g}, or within half a unit of the last digit the page shows{here}, "
            "whichever is largest: the engine's number rounded as the page shows it is right."
        )

    def edge(self, step: ChainRuleStep) -> dict[str, Any]:
        node, parent = step.node, step.parent
        assert node.op is not None
        names = self.names
        letters = _letters(node.op.name, len(node.operands))
        # Which operand this edge is: the index-th Value among the operands.
        slots = [k for k, operand in enumerate(node.operands) if isinstance(operand, Value)]
        slot = slots[step.index]
        point = []
        for letter, operand in zip(letters, node.operands, strict=False):
            if isinstance(operand, Value):
                point.append(f"{letter} = {names[operand]} = {self.number(operand.data)}")
            else:
                point.append(f"{letter} = {_constant(operand)} (a number)")
        name = f"{_d(names[node])}/{_d(names[parent])}"
        hint = (
            f"{name} is the derivative of {names[node]} = "
            f"{self.expression(node, letters[: len(node.operands)])} with respect to "
            f"{letters[slot] if slot < len(letters) else names[parent]}. The op table says: "
            f"{_clean(node.op.formula)}. Evaluate it at {', '.join(point)} "
            f"(and {names[node]} = {self.number(node.data)})."
        )
        return {
            "from": self.position[parent],
            "to": self.position[node],
            "index": step.index,
            "name": name,
            "local": self.number(step.local),
            "localValue": _number_json(step.local),
            **self.rounding("local", self.number(step.local)),
            "contribution": self.number(step.contribution),
            "hint": hint,
        }

    def node_data(
        self,
        node: Value,
        edges: list[dict[str, Any]],
        outside: Mapping[Value, list[float]],
        receipts: Mapping[Value, list[dict[str, str]]],
    ) -> dict[str, Any]:
        names, root_name = self.names, self.names[self.root]
        name = names[node]
        question = f"{_d(root_name)}/{_d(name)}"
        expected = self.expected.get(node, 0.0)
        grad: str | None = None
        grad_note = ""
        if self.state == "run":
            actual = _float(node.grad)
            grad = self.number(actual)
            if not _same(actual, expected):
                grad_note = (
                    f"{name}.grad holds {grad}, but {question} for this graph is "
                    f"{self.number(expected)}: a leaf adds up its gradients over backward calls "
                    "(set grads to zero between them), or it was also used by another output."
                )
        elif self.state == "not run":
            grad_note = f"not computed: backward() has not run on {root_name}"
        else:
            grad_note = f"{name}.grad does not hold {question} (see the note above)"
        if node is self.view.top and node is not self.root:
            kind = "top"
        elif node is self.root:
            kind = "output"
        elif node.op is None:
            kind = "leaf"
        else:
            kind = "interior"
        op: dict[str, str] | None = None
        short_names: list[str] = []
        numbers: list[str] = []
        if node.op is not None:
            op = {
                "name": _clean(node.op.name),
                "symbol": _clean(node.op.symbol),
                "formula": _clean(node.op.formula),
            }
            short_names, numbers = self.operand_texts(node, _OPERAND_COLUMNS)
            full_names, _ = self.operand_texts(node, None)
            box_expr = self.expression(node, short_names)
            expr = self.expression(node, full_names)
            expr_numbers = self.expression(node, numbers)
            forward = f"{name} = {expr} = {expr_numbers} = {self.number(node.data)}"
        else:
            box_expr = "leaf"
            expr = ""
            expr_numbers = ""
            forward = f"{name} is a leaf: it is given, {self.number(node.data)}"
        operands: list[dict[str, str | None]] = []
        for operand in node.operands:
            if isinstance(operand, Value):
                operands.append({"name": names[operand], "value": self.number(operand.data)})
            else:
                operands.append({"name": _constant(operand), "value": None})
        chain = f"{_d(name)}/{_d(name)} = 1" if node is self.root else self.chain_text(node)
        users: list[str] = []
        for edge in edges:
            user = names[self.view.nodes[edge["to"]]]
            if edge["from"] == self.position[node] and user not in users:
                users.append(user)
        if node is self.root:
            grad_hint = "The output's gradient with respect to itself is 1: backward's seed."
        else:
            grad_hint = (
                f"{question} adds up, over the edges leaving {name}, the gradient "
                f"of the node at the other end times the local derivative on the edge"
                + (f"; {name} feeds {', '.join(users)}" if users else "")
                + (
                    f", and gets {self.number(math.fsum(outside[node]))} from outside this view"
                    if node in outside
                    else ""
                )
                + "."
            )
        return {
            "name": name,
            "question": question,
            "short": _clip(name, _NAME_COLUMNS),
            "index": self.index[node],
            "kind": kind,
            "op": op,
            "expr": expr,
            "boxExpr": box_expr,
            "exprNumbers": expr_numbers,
            "forward": forward,
            "operands": operands,
            "data": self.number(node.data),
            "grad": grad,
            "gradNote": grad_note,
            "expected": self.number(expected),
            "expectedValue": _number_json(expected),
            **self.rounding("expected", self.number(expected)),
            "gradHint": grad_hint,
            "outside": self.number(math.fsum(outside[node])) if node in outside else None,
            "received": receipts[node],
            "chain": chain,
            "inEdges": [],
            "outEdges": [],
        }

    def chain_text(self, node: Value) -> str:
        """explain's text for d root / d node: the chain rule from the output to it."""
        return _clean(str(explain(self.root, node)), keep_newlines=True)
