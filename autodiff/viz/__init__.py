r"""Pictures of the computation graph with Graphviz, and the same graph as plain text.

This module owns drawing: ``draw`` builds a ``graphviz.Digraph`` (which displays inline in
Jupyter), ``render`` writes it to an SVG, PNG, PDF or DOT file, ``to_text`` lists the graph one
node per line with no Graphviz program at all, and ``backward_steps`` turns one backward pass
into a sequence of pictures. It is the only module that imports ``graphviz``, and it imports it
inside the functions that need it, so ``import autodiff`` stays fast. It owns no mathematics:
every number it shows is a node's ``data``/``grad`` or a local derivative from
``autodiff.partials``; it never changes a graph or a gradient.

How a picture reads:

* Each ``Value`` is a box showing its label (when set), ``data`` and ``grad``; each operation
  is its own small oval with its symbol (``+``, ``*``, ``σ``; a custom op shows its
  ``symbol``, by default its name). Edges run from the inputs through
  the oval to the result, so the arrows follow the forward pass.
* A plain number in ``+``, ``-``, ``*``, ``/`` or ``**`` is no box: the engine keeps it on the
  node (``Value.constant``) and the oval shows it as the code reads: ``x + 32`` is ``+ 32``,
  ``x - 3`` is ``- 3`` (never ``+ -3``), ``0.5 * x`` is ``* 0.5``, ``x / 4`` is ``* 0.25``,
  ``-x`` is ``-`` but ``x * -1`` is ``* -1``, ``x ** 2`` is ``**2``. ``1 - x`` is ``-`` then
  ``+ 1``, ``10 / x`` is ``**-1`` then ``* 10``. These numbers are written with ``:g`` (at most
  six significant digits: ``0.5``, ``32``, ``1e-08``), never with ``number_format``: that option
  is for computed data and grads, and ``.4f`` would show ``32.0000`` or turn ``1e-8`` into
  ``0.0000``. ``to_text`` writes them the same way, as the row's last argument.
* Box colours tell kinds of node apart (``legend=True`` draws the key): an *input* (blue) is a
  leaf the user made; a *parameter* (green) is such a leaf holding a non-zero gradient; a
  *constant* (grey) is a leaf the engine made from a plain number that no op can carry
  (``Value.is_constant``: the 2 in ``2 ** x``, a number given to a custom op); *interior* nodes
  are white and the *output* (the root) is orange.
  The engine has no ``requires_grad`` flag, so "parameter" is defined by the gradient: a leaf
  is drawn as a parameter once backward has given it a non-zero ``grad``. Before backward every
  user leaf is an input; after it, a leaf the output does not depend on stays an input.
  The key lists only what the picture holds: the "constant" row appears only when a constant
  leaf is drawn, and an oval carrying a number is shown as an example when there is one.
* ``edge_derivatives=True`` writes on each input -> oval edge the local derivative
  d result / d input, so the chain rule can be read off the picture: a node's ``grad`` is the
  sum, over the edges leaving it, of the result's ``grad`` times the number on the edge.
* ``highlight=`` paints the paths from the given nodes to the root in red.
* Node ids are positions in ``autodiff.topological_order(root)`` (``n3`` and its oval
  ``op3``), never ``id()``, so the same graph built twice gives byte-identical DOT. ``to_text``
  uses the same ``n3`` names (and uses them for a label that reads as a number, so that
  ``mul_const(w, 2)`` always means the number 2).
* Any label text is shown literally: labels are Graphviz HTML-like labels in which ``&``, ``<``,
  ``>`` and quotes are HTML-escaped, backslashes are doubled (Graphviz expands ``\N`` and
  friends even there), a newline starts a new line and other control characters appear as
  ``\xNN``.
* Wide sums: ``sum(values)`` builds ``0 + v0`` (an ``add_const`` node) and then one ``+`` node
  per further value; the partial sums are unlabelled, used once and all carry the same gradient
  as the whole sum (d sum / d partial = 1). A chain of ``+`` and ``+ number`` nodes with at least
  ``FOLD_SUM_TERMS`` (8) Value terms is therefore drawn as a single ``Σ`` oval with one edge
  per Value term and their count (``sum`` of 100 Values: 100 terms), instead of a staircase as
  long as the sum. The numbers the chain adds are not lost: their total is written in the oval
  (``Σ + 5`` for ``sum(values, 5.0)``) unless it is zero, as ``sum``'s starting 0 is. A
  labelled or reused partial sum, or one passed in ``highlight``, is never hidden.
  Shorter sums, ``to_text`` and ``backward_steps`` show every node. An op with many inputs
  (a custom n-ary op) is one oval with one edge per input, which Graphviz stacks in a column.
* Large graphs: above ``max_nodes`` Values (default 500) ``draw`` raises ValueError instead of
  handing Graphviz a layout that would be unreadable and slow. Counting stops as soon as the
  limit is passed, so even a graph of millions of nodes is refused at once.

Example:
    >>> from autodiff import Value
    >>> from autodiff.viz import draw, to_text
    >>> w = Value(0.5, label="w")
    >>> loss = (w * 2.0 + 1.0) ** 2
    >>> loss.label = "loss"
    >>> loss.backward()
    >>> print(to_text(loss))
    w    = parameter         data=0.5000  grad=8.0000
    n1   = mul_const(w, 2)   data=1.0000  grad=4.0000
    n2   = add_const(n1, 1)  data=2.0000  grad=4.0000
    loss = pow(n2, 2)        data=4.0000  grad=1.0000
    >>> import re
    >>> re.findall(r"op\d+ \[label=<([^>]*)>", draw(loss).source)  # the ovals, inputs first
    ['* 2', '+ 1', '**2']
    >>> "digraph" in draw(loss).source
    True
"""

from __future__ import annotations

import html
import math
import os
import pathlib
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Final, Union

from autodiff.engine import Value, partials, topological_order
from autodiff.ops import OPS
from autodiff.viz.explorer import ExplorerPage, explore

if TYPE_CHECKING:
    import graphviz

__all__ = [
    "FOLD_SUM_TERMS",
    "DotNotFoundError",
    "ExplorerPage",
    "backward_steps",
    "draw",
    "explore",
    "render",
    "to_text",
]

FOLD_SUM_TERMS: Final = 8
"""A chain of ``+`` nodes with at least this many terms is drawn as one ``Σ`` node."""

Highlight = Union[Value, Iterable[Value], None]
"""What ``highlight=`` accepts: one Value, several, or None."""

_RANKDIRS: Final = ("LR", "TB")
# Rows whose node carries a plain number (``Value.constant``) that the oval and to_text show.
_CONSTANT_ROWS: Final = ("pow", "add_const", "mul_const")
# Rows a folded sum is made of: a + between two Values, or a Value plus a number.
_SUM_ROWS: Final = ("add", "add_const")
_FORMATS: Final = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
_PNG_DPI: Final = "150"

# Colours: pale fills so black text stays readable, one strong colour for highlighted paths.
_FILL: Final = {
    "input": "#d6e6f5",
    "parameter": "#d3efd0",
    "constant": "#ececec",
    "interior": "#ffffff",
    "output": "#ffd9a8",
}
_LEGEND_TEXT: Final = {
    "input": "input (leaf)",
    "parameter": "parameter (leaf with a gradient)",
    "constant": "constant (a plain number)",
    "interior": "intermediate result",
    "output": "output",
}
_OP_FILL: Final = "#efe6f7"
_LINE: Final = "#4d4d4d"
_MUTED: Final = "#6b6b6b"
_RULE: Final = "#a6a6a6"
_EDGE_LABEL: Final = "#1f4e9c"
_HIGHLIGHT: Final = "#d62728"
_CURRENT: Final = "#ff7f0e"
_CURRENT_CELL: Final = "#fff1a8"
_FONT: Final = "Helvetica,Arial,sans-serif"

# Control characters and lone surrogates cannot appear in a label (dot rejects some, UTF-8
# cannot encode surrogates); they are shown as escapes. ``\n`` is kept: it becomes a line break.
_UNPRINTABLE: Final = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

_DOT_MISSING: Final = """\
render: Graphviz's `dot` program was not found on PATH; it is needed to write {suffix} files.
`pip install graphviz` installs only the Python side, not the program itself. Install it with:
  Debian/Ubuntu: sudo apt-get install graphviz
  Fedora:        sudo dnf install graphviz
  macOS:         brew install graphviz
  conda:         conda install -c conda-forge graphviz
  Windows:       the installer from https://graphviz.org/download/, then add its bin folder
                 to PATH
Without it, draw(root).source, render(root, "graph.dot") and to_text(root) still work."""


class DotNotFoundError(RuntimeError):
    """Raised by ``render`` when Graphviz's ``dot`` program is not installed.

    The message says how to install it for each platform; ``draw(...).source``, ``.dot``
    output and ``to_text`` need no program and keep working.

    Example:
        >>> issubclass(DotNotFoundError, RuntimeError)
        True
    """


# ----------------------------------------------------------------------------------------------
# Text helpers.


def _html(text: str) -> str:
    """``text`` as literal content of a Graphviz HTML-like label."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    # Graphviz expands \N, \G, \E, ... even inside HTML labels, and reads \\ as one backslash.
    text = html.escape(text, quote=True).replace("\\", "\\\\")
    return text.replace("\n", "<BR/>")


def _plain(text: str) -> str:
    """``text`` on one line: newlines and control characters as escapes (for ``to_text``)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def _number(x: float, number_format: str) -> str:
    """Format ``x``; a result that rounds to zero never shows a minus sign (-0.0000)."""
    text = format(x, number_format)
    if text.startswith("-") and not any(c in "123456789" for c in text) and "n" not in text:
        return text[1:]  # "-0.0000" -> "0.0000"; "-inf" and "-nan" keep their sign
    return text


def _grad_float(node: Value) -> float:
    """A node's gradient as a float (a Value after ``backward(create_graph=True)``)."""
    grad = node.grad
    return float(grad.data) if isinstance(grad, Value) else float(grad)


def _constant_text(c: float) -> str:
    """A number the user wrote into an expression, as written: ``:g`` (``0.5``, ``32``, ``1e-08``).

    Constants are not computed results, so ``number_format`` (meant for data and grad) does not
    apply: ``.4f`` would show ``32.0000`` and turn ``1e-8`` into ``0.0000``.
    """
    return f"{c:g}"


def _offset_text(c: float) -> str:
    """``+ c`` for a number added to a node, as a learner writes it: ``+ 32``, ``- 3``, ``- 0``.

    A negative number reads as a subtraction; the sign bit decides, so ``y - 0.0`` (stored as
    ``add_const`` with -0.0) reads ``- 0``, as it was written.
    """
    if math.copysign(1.0, c) < 0.0:
        return f"- {_constant_text(-c)}"
    return f"+ {_constant_text(c)}"


def _symbol(node: Value) -> str:
    """The op's display symbol, with its number for a row that carries one (see module docs).

    ``**2`` for pow, ``+ 32`` / ``- 3`` for add_const, ``* 0.5`` / ``* -1`` for mul_const,
    else the table symbol, or a custom op's symbol or name.
    """
    name = node.op
    assert name is not None
    if name in _CONSTANT_ROWS:
        constant = node.constant
        assert constant is not None  # these rows always carry their number
        if name == "pow":
            return f"**{_constant_text(constant)}"
        if name == "add_const":
            return _offset_text(constant)
        return f"* {_constant_text(constant)}"
    row = OPS.get(name)
    if row is not None:
        return row.symbol
    # A custom op (define_op) is not in OPS; its row, which carries the symbol the user gave
    # define_op (default: the name), is only reachable through the node.
    custom = node._op
    return custom.symbol if custom is not None and custom.symbol else name


# ----------------------------------------------------------------------------------------------
# Validation shared by every entry point.


def _check_root(root: object, where: str) -> Value:
    if not isinstance(root, Value):
        raise TypeError(f"{where}: root must be a Value, got {type(root).__name__}")
    return root


def _check_number_format(where: str, number_format: str) -> None:
    if not isinstance(number_format, str):
        raise TypeError(
            f"{where}: number_format must be a str such as '.4f', "
            f"got {type(number_format).__name__}"
        )
    try:
        format(1.5, number_format)
    except ValueError:
        raise ValueError(
            f"{where}: number_format {number_format!r} is not a float format spec "
            "(use one such as '.4f', '.3g' or '.2e')"
        ) from None


def _check_options(
    where: str, rankdir: str, number_format: str, max_nodes: int, title: str | None
) -> None:
    if rankdir not in _RANKDIRS:
        raise ValueError(f"{where}: rankdir must be 'LR' or 'TB', got {rankdir!r}")
    _check_number_format(where, number_format)
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int):
        raise TypeError(f"{where}: max_nodes must be an int, got {type(max_nodes).__name__}")
    if max_nodes <= 0:
        raise ValueError(f"{where}: max_nodes must be a positive int, got {max_nodes}")
    if title is not None and not isinstance(title, str):
        raise TypeError(f"{where}: title must be a str or None, got {type(title).__name__}")


def _check_size(root: Value, max_nodes: int, where: str) -> None:
    """Refuse a graph with more than ``max_nodes`` Values, counting no further than that."""
    seen = {root}
    stack = [root]
    while stack:
        for parent in stack.pop().parents:
            if parent not in seen:
                seen.add(parent)
                if len(seen) > max_nodes:
                    raise ValueError(
                        f"{where}: the graph has more than max_nodes={max_nodes} Values; a "
                        "picture that large is unreadable and slow to lay out. Draw part of "
                        "it instead: pass an intermediate Value as the root (one layer, or "
                        "one term of the loss), build the graph on fewer examples, or raise "
                        "max_nodes if you really want it all. to_text(root) lists every "
                        "node without drawing."
                    )
                stack.append(parent)


def _highlight_list(highlight: Highlight, where: str) -> list[Value]:
    """``highlight`` as a list (read once, so a generator works), each item checked."""
    if highlight is None:
        return []
    if isinstance(highlight, Value):
        return [highlight]
    try:
        items = list(highlight)
    except TypeError:
        raise TypeError(
            f"{where}: highlight must be a Value or an iterable of Values, "
            f"got {type(highlight).__name__}"
        ) from None
    for item in items:
        if not isinstance(item, Value):
            raise TypeError(
                f"{where}: highlight must be a Value or an iterable of Values, "
                f"got an item of type {type(item).__name__}"
            )
    return items


def _highlight_nodes(highlight: list[Value], index: Mapping[Value, int], where: str) -> list[int]:
    """Positions of the highlighted nodes; each must belong to the graph being drawn."""
    for item in highlight:
        if item not in index:
            raise ValueError(f"{where}: highlight {item!r} is not part of the graph of root")
    return [index[item] for item in highlight]


# ----------------------------------------------------------------------------------------------
# Building the picture.


def _kind(node: Value, is_root: bool, grad: float) -> str:
    if is_root:
        return "output"
    if not node.is_leaf:
        return "interior"
    if node.is_constant:
        return "constant"
    return "parameter" if grad != 0.0 else "input"


def _fold_sums(
    order: Sequence[Value], index: Mapping[Value, int], keep: set[int]
) -> tuple[set[int], dict[int, tuple[list[int], float]]]:
    """Hidden partial sums and, for each folded sum, its terms (see the module docstring).

    A sum is a group of ``add`` and ``add_const`` nodes: ``sum(values)`` makes ``0 + v0``
    (``add_const``) and then one ``add`` per further value. A member is absorbed into the node
    that uses it when it is unlabelled, used once, not highlighted and used by another sum node.

    Returns:
        The indices of the sum nodes drawn inside another, and for each sum node that absorbs
        them (when its group has at least ``FOLD_SUM_TERMS`` Value terms) the indices of all its
        Value terms in order (duplicates kept) and the total of the numbers its ``add_const``
        nodes add (0.0 for a plain ``sum``), so no operand is lost from the picture.
    """
    uses = [0] * len(order)
    consumer = [-1] * len(order)
    for i, node in enumerate(order):
        for parent in node.parents:
            j = index[parent]
            uses[j] += 1
            consumer[j] = i

    def absorbable(j: int) -> bool:
        node = order[j]
        return (
            node.op in _SUM_ROWS
            and uses[j] == 1
            and not node.label
            and j not in keep
            and order[consumer[j]].op in _SUM_ROWS
        )

    hidden: set[int] = set()
    folded: dict[int, tuple[list[int], float]] = {}
    # Group heads are sum nodes that are not themselves absorbed; walk each group iteratively.
    for i, node in enumerate(order):
        if node.op not in _SUM_ROWS or absorbable(i):
            continue
        members: list[int] = []
        found: list[int] = []
        numbers = [node.constant] if node.op == "add_const" else []
        stack = [index[p] for p in reversed(node.parents)]
        while stack:
            j = stack.pop()
            if absorbable(j):
                members.append(j)
                member = order[j]
                if member.op == "add_const":
                    numbers.append(member.constant)
                stack.extend(index[p] for p in reversed(member.parents))
            else:
                found.append(j)
        if len(found) >= FOLD_SUM_TERMS:
            hidden.update(members)
            folded[i] = (found, math.fsum(c for c in numbers if c is not None))
    return hidden, folded


def _reads_as_number(label: str) -> bool:
    """True for a label such as ``2`` or ``0.5``, which would look like a carried number."""
    try:
        float(label)
    except ValueError:
        return False
    return True


def _text_names(order: Sequence[Value]) -> list[str]:
    """Names for ``to_text``: the label, or ``n<i>`` (with the label) when it is ambiguous.

    Ambiguous: shared with another node, spelled like another node's ``n<i>``, or reading as a
    number (``mul_const(w, 2)`` must mean the number 2, never a node labelled "2").
    """
    counts: dict[str, int] = {}
    for node in order:
        counts[node.label] = counts.get(node.label, 0) + 1
    taken = {f"n{i}" for i in range(len(order))}
    names = []
    for i, node in enumerate(order):
        label = node.label
        if label and counts[label] == 1 and label not in taken and not _reads_as_number(label):
            names.append(_plain(label))
        elif label:
            names.append(f"n{i}[{_plain(label)}]")
        else:
            names.append(f"n{i}")
    return names


def _value_label(node: Value, data: str, grad: str | None, grad_cell: str | None) -> str:
    """A box's HTML label: the label in bold (when set), then data and grad, one per row.

    Stacked rows keep boxes narrow, so a left-to-right picture of a dozen operations still
    fits a page; grey rules separate the rows whatever colour the box's outline is.
    """
    rows = []
    if node.label:
        rows.append(f"<TD><B>{_html(node.label)}</B></TD>")
    rows.append(f'<TD><FONT COLOR="{_MUTED}">data</FONT> {data}</TD>')
    if grad is not None:
        shade = f' BGCOLOR="{grad_cell}"' if grad_cell else ""
        rows.append(f'<TD{shade}><FONT COLOR="{_MUTED}">grad</FONT> {grad}</TD>')
    table = (
        f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" ROWS="*" '
        f'COLOR="{_RULE}">'
    )
    return f"<{table}<TR>{'</TR><TR>'.join(rows)}</TR></TABLE>>"


def _build(
    root: Value,
    *,
    rankdir: str,
    show_grad: bool,
    number_format: str,
    edge_derivatives: bool,
    highlight: Highlight,
    legend: bool,
    title: str | None,
    grads: Sequence[float] | None,
    current: int | None,
    fold: bool,
    where: str,
) -> graphviz.Digraph:
    import graphviz

    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}
    last = len(order) - 1
    starts = _highlight_nodes(_highlight_list(highlight, where), index, where)
    grad_of = list(grads) if grads is not None else [_grad_float(node) for node in order]

    # on_path[i]: node i lies on a path from a highlighted node to the root. Every node reaches
    # the root (the graph is the root's ancestry), so "reached from a start" is enough.
    on_path = [False] * len(order)
    for i in starts:
        on_path[i] = True
    if starts:
        for i, node in enumerate(order):
            if not on_path[i] and any(on_path[index[p]] for p in node.parents):
                on_path[i] = True

    hidden, folded = _fold_sums(order, index, set(starts)) if fold else (set(), {})

    def fmt(x: float) -> str:
        return _number(x, number_format)

    graph = graphviz.Digraph(
        graph_attr={
            "rankdir": rankdir,
            "fontname": _FONT,
            "nodesep": "0.25",
            "ranksep": "0.35",
        },
        node_attr={"fontname": _FONT, "fontsize": "11", "color": _LINE},
        edge_attr={"fontname": _FONT, "fontsize": "9", "color": _LINE, "arrowsize": "0.7"},
    )
    if title is not None:
        graph.attr(label=f"<{_html(title)}>", labelloc="t", fontsize="14")

    kinds_seen: list[str] = []
    carried: str | None = None  # the first oval showing a number (x * 0.5), for the legend
    for i, node in enumerate(order):
        if i in hidden:
            continue
        kind = _kind(node, i == last, grad_of[i])
        if kind not in kinds_seen:
            kinds_seen.append(kind)
        grad_text = fmt(grad_of[i]) if show_grad else None
        is_current = i == current
        attrs = {"shape": "box", "style": "filled", "fillcolor": _FILL[kind]}
        if is_current:
            attrs.update(color=_CURRENT, penwidth="3")
        elif on_path[i]:
            attrs.update(color=_HIGHLIGHT, penwidth="2")
        cell = _CURRENT_CELL if is_current and show_grad else None
        label = _value_label(node, fmt(node.data), grad_text, cell)
        graph.node(f"n{i}", label=label, **attrs)
        if node.is_leaf:
            continue

        # The op's oval, its inputs, and the edge to its result.
        op_id = f"op{i}"
        if i in folded:
            terms, offset = folded[i]
            inputs = [(j, 1.0) for j in terms]  # d sum / d term = 1 for every term
            head = "Σ" if offset == 0.0 else f"Σ {_html(_offset_text(offset))}"
            op_label = f'<{head}<BR/><FONT POINT-SIZE="8">{len(terms)} terms</FONT>>'
        else:
            parents = node.parents
            derivatives = partials(node) if edge_derivatives else (0.0,) * len(parents)
            inputs = [(index[p], d) for p, d in zip(parents, derivatives, strict=True)]
            symbol = _symbol(node)
            if carried is None and node.op in ("add_const", "mul_const"):
                carried = symbol
            op_label = f"<{_html(symbol)}>"
        op_attrs = {
            "shape": "ellipse",
            "style": "filled",
            "fillcolor": _OP_FILL,
            "fontsize": "13",
            "margin": "0.04,0.02",
            "width": "0.3",
            "height": "0.3",
        }
        if is_current:
            op_attrs.update(color=_CURRENT, penwidth="3")
        elif on_path[i]:
            op_attrs.update(color=_HIGHLIGHT, penwidth="2")
        graph.node(op_id, label=op_label, **op_attrs)
        for j, derivative in inputs:
            edge_attrs: dict[str, str] = {}
            if edge_derivatives:
                edge_attrs.update(label=f"<{fmt(derivative)}>", fontcolor=_EDGE_LABEL)
            if is_current:
                edge_attrs.update(color=_CURRENT, penwidth="2.5")
            elif on_path[j] and on_path[i]:
                edge_attrs.update(color=_HIGHLIGHT, penwidth="2.5")
            graph.edge(f"n{j}", op_id, **edge_attrs)
        out_attrs: dict[str, str] = {}
        if is_current:
            out_attrs.update(color=_CURRENT, penwidth="2.5")
        elif any(on_path[j] for j, _ in inputs):
            out_attrs.update(color=_HIGHLIGHT, penwidth="2.5")
        graph.edge(op_id, f"n{i}", **out_attrs)

    if legend:
        _add_legend(graph, kinds_seen, carried, edge_derivatives, bool(starts), current is not None)
    return graph


def _add_legend(
    graph: graphviz.Digraph,
    kinds: Sequence[str],
    carried: str | None,
    edge_derivatives: bool,
    highlighted: bool,
    stepping: bool,
) -> None:
    """Add the key: one node holding a table of swatches, so it stays compact in any layout.

    Only what the picture contains is explained: the kinds of box drawn (so "constant" appears
    only when a constant leaf does) and, when an oval carries a number, that oval as an example.
    """
    swatch = '<TD WIDTH="26" HEIGHT="16" BORDER="1" {}></TD>'
    rows = [
        (swatch.format(f'BGCOLOR="{_FILL[kind]}" COLOR="{_LINE}"'), _LEGEND_TEXT[kind])
        for kind in sorted(kinds, key=list(_FILL).index)
    ]
    rows.append(
        (
            f'<TD BORDER="1" STYLE="rounded" BGCOLOR="{_OP_FILL}" COLOR="{_LINE}">+</TD>',
            "operation (+, *, σ, ...)",
        )
    )
    if carried is not None:
        oval = f'<TD BORDER="1" STYLE="rounded" BGCOLOR="{_OP_FILL}" COLOR="{_LINE}">{{}}</TD>'
        rows.append((oval.format(_html(carried)), f"operation with its number: x {carried}"))
    if edge_derivatives:
        rows.append(
            (
                f'<TD><FONT COLOR="{_EDGE_LABEL}">0.25</FONT></TD>',
                "on an edge: local derivative d result / d input",
            )
        )
    if highlighted:
        rows.append((swatch.format(f'COLOR="{_HIGHLIGHT}"'), "on a highlighted path"))
    if stepping:
        rows.append((swatch.format(f'COLOR="{_CURRENT}"'), "this step's node: gradient complete"))
    body = "".join(f'<TR>{cell}<TD ALIGN="LEFT">{_html(text)}</TD></TR>' for cell, text in rows)
    graph.node(
        "legend",
        label=(
            f'<<TABLE BORDER="1" STYLE="rounded" COLOR="{_MUTED}" CELLBORDER="0" '
            f'CELLSPACING="3" CELLPADDING="2"><TR><TD COLSPAN="2"><B>legend</B></TD></TR>'
            f"{body}</TABLE>>"
        ),
        shape="plaintext",
        fontsize="10",
    )


# ----------------------------------------------------------------------------------------------
# Public API.


def draw(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    number_format: str = ".4f",
    edge_derivatives: bool = False,
    highlight: Highlight = None,
    max_nodes: int = 500,
    legend: bool = False,
    title: str | None = None,
) -> graphviz.Digraph:
    r"""Draw the computation graph that ends at ``root`` as a Graphviz ``Digraph``.

    Building the Digraph needs only the ``graphviz`` Python package; displaying it in Jupyter
    or calling ``render`` needs the ``dot`` program. The module docstring explains colours,
    highlighting, folded sums and escaping.

    Args:
        root: The output node; every node it depends on is drawn.
        rankdir: ``"LR"`` (inputs on the left) or ``"TB"`` (inputs at the top).
        show_grad: Show each node's ``grad`` next to its ``data``.
        number_format: A format spec for every number shown, e.g. ``".4f"`` or ``".3g"``.
        edge_derivatives: Label each input -> operation edge with the local derivative
            d result / d input from ``autodiff.partials``.
        highlight: A Value or several: the paths from them to ``root`` are drawn in red.
        max_nodes: Refuse (ValueError) graphs with more Values than this.
        legend: Add a key explaining the colours.
        title: A caption above the picture.

    Returns:
        A ``graphviz.Digraph``; its ``.source`` is the DOT text.

    Raises:
        TypeError: If ``root`` or a highlighted item is not a Value.
        ValueError: For a bad option, a highlighted Value outside the graph, or a graph larger
            than ``max_nodes``.

    Example:
        >>> from autodiff import Value
        >>> x = Value(3.0, label="x")
        >>> y = x * x
        >>> y.backward()
        >>> dot = draw(y, edge_derivatives=True)
        >>> print("\n".join(line for line in dot.source.splitlines() if "->" in line))
            n0 -> op1 [label=<3.0000> fontcolor="#1f4e9c"]
            n0 -> op1 [label=<3.0000> fontcolor="#1f4e9c"]
            op1 -> n1
    """
    return _draw(
        "draw",
        root,
        rankdir=rankdir,
        show_grad=show_grad,
        number_format=number_format,
        edge_derivatives=edge_derivatives,
        highlight=highlight,
        max_nodes=max_nodes,
        legend=legend,
        title=title,
    )


def _draw(
    where: str,
    root: Value,
    *,
    rankdir: str,
    show_grad: bool,
    number_format: str,
    edge_derivatives: bool,
    highlight: Highlight,
    max_nodes: int,
    legend: bool,
    title: str | None,
) -> graphviz.Digraph:
    """``draw`` for ``draw`` and ``render``: errors name ``where``, the function the user called."""
    _check_options(where, rankdir, number_format, max_nodes, title)
    _check_size(_check_root(root, where), max_nodes, where)
    return _build(
        root,
        rankdir=rankdir,
        show_grad=show_grad,
        number_format=number_format,
        edge_derivatives=edge_derivatives,
        highlight=highlight,
        legend=legend,
        title=title,
        grads=None,
        current=None,
        fold=True,
        where=where,
    )


def render(
    root: Value,
    path: str | os.PathLike[str],
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    number_format: str = ".4f",
    edge_derivatives: bool = False,
    highlight: Highlight = None,
    max_nodes: int = 500,
    legend: bool = False,
    title: str | None = None,
) -> pathlib.Path:
    """Draw the graph of ``root`` and write it to ``path``, in the format its suffix names.

    ``.svg``, ``.png`` (at 150 dpi) and ``.pdf`` run Graphviz's ``dot`` program; ``.dot`` and
    ``.gv`` write the DOT source and need no program. The options are those of ``draw``.

    Args:
        root: The output node.
        path: Where to write; its folder must exist.
        rankdir: As in ``draw``.
        show_grad: As in ``draw``.
        number_format: As in ``draw``.
        edge_derivatives: As in ``draw``.
        highlight: As in ``draw``.
        max_nodes: As in ``draw``.
        legend: As in ``draw``.
        title: As in ``draw``.

    Returns:
        The path written, as a ``pathlib.Path``.

    Raises:
        ValueError: If the suffix is not one of .svg, .png, .pdf, .dot, .gv (or as ``draw``).
        DotNotFoundError: If the format needs ``dot`` and it is not installed.

    Example:
        >>> import tempfile
        >>> from autodiff import Value
        >>> x = Value(2.0, label="x")
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     written = render(x * x, pathlib.Path(folder) / "square.dot")
        ...     print(written.name, written.read_text().startswith("digraph"))
        square.dot True
    """
    where = "render"
    target = pathlib.Path(path)
    suffix = target.suffix.lower()
    if suffix not in _FORMATS:
        raise ValueError(
            f"{where}: cannot tell the format from the suffix {target.suffix!r} of "
            f"{str(target)!r}; use one of {', '.join(_FORMATS)}"
        )
    graph = _draw(
        where,
        root,
        rankdir=rankdir,
        show_grad=show_grad,
        number_format=number_format,
        edge_derivatives=edge_derivatives,
        highlight=highlight,
        max_nodes=max_nodes,
        legend=legend,
        title=title,
    )
    output_format = _FORMATS[suffix]
    if output_format == "dot":
        target.write_text(graph.source, encoding="utf-8")
        return target
    if output_format == "png":
        graph.graph_attr["dpi"] = _PNG_DPI

    import graphviz

    try:
        data = graph.pipe(format=output_format)
    except graphviz.ExecutableNotFound as error:
        raise DotNotFoundError(_DOT_MISSING.format(suffix=suffix)) from error
    target.write_bytes(data)
    return target


def to_text(root: Value, number_format: str = ".4f") -> str:
    """The graph of ``root`` as text: one line per node, inputs first, ``root`` last.

    Each line reads ``name = op(parents)  data=...  grad=...``; a leaf's "op" is its kind
    (input, parameter or constant, as in the drawings). A row that carries a number (pow,
    add_const, mul_const) lists it last, written with ``:g``: ``x - 3`` is ``add_const(x, -3)``,
    ``0.5 * x`` is ``mul_const(x, 0.5)``. A node's name is its label, or ``n<i>`` (its position
    in the topological order, as in ``draw``) when it has none, its label is shared with another
    node or reads as a number. Needs no Graphviz at all.

    Args:
        root: The output node.
        number_format: A format spec for data and grad, e.g. ``".4f"``.

    Returns:
        The lines joined by newlines (no trailing newline).

    Example:
        >>> from autodiff import Value
        >>> a = Value(2.0, label="a")
        >>> b = Value(-3.0, label="b")
        >>> c = a * b + a
        >>> c.backward()
        >>> print(to_text(c))
        a  = parameter   data=2.0000   grad=-2.0000
        b  = parameter   data=-3.0000  grad=2.0000
        n2 = mul(a, b)   data=-6.0000  grad=1.0000
        n3 = add(n2, a)  data=-4.0000  grad=1.0000
    """
    where = "to_text"
    _check_root(root, where)
    _check_number_format(where, number_format)
    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}
    names = _text_names(order)
    heads = []
    for i, node in enumerate(order):
        if node.is_leaf:
            rhs = _kind(node, False, _grad_float(node))
        else:
            args = [names[index[p]] for p in node.parents]
            if node.op in _CONSTANT_ROWS and node.constant is not None:
                args.append(_constant_text(node.constant))  # the number the row carries
            rhs = f"{node.op}({', '.join(args)})"
        heads.append((names[i], rhs))
    name_width = max(len(n) for n, _ in heads)
    rhs_width = max(len(r) for _, r in heads)
    data = [_number(node.data, number_format) for node in order]
    data_width = max(len(d) for d in data)
    lines = []
    for (left, rhs), node, data_text in zip(heads, order, data, strict=True):
        grad_text = _number(_grad_float(node), number_format)
        lines.append(
            f"{left:<{name_width}} = {rhs:<{rhs_width}}  data={data_text:<{data_width}}  "
            f"grad={grad_text}"
        )
    return "\n".join(lines)


def backward_steps(
    root: Value,
    *,
    rankdir: str = "LR",
    show_grad: bool = True,
    number_format: str = ".4f",
    edge_derivatives: bool = False,
    highlight: Highlight = None,
    max_nodes: int = 500,
    legend: bool = False,
    title: str | None = None,
) -> Iterator[graphviz.Digraph]:
    """Backpropagation as pictures: one Digraph per node, from ``root`` back to the inputs.

    The nodes are taken in reverse topological order, as ``backward`` does. Picture ``k``
    shows the state after the ``k``-th node has passed its gradient on: that node (outlined
    in orange, its grad cell shaded) now holds its complete gradient, and the orange edges lead
    to the parents it has just sent contributions to. Nodes not yet reached show what they
    have accumulated so far (0 if nothing). Leaves get a picture too, so the last pictures show
    the inputs receiving their gradients; the last picture shows every final gradient.

    The gradients are computed here, on a private list, from ``autodiff.partials`` with the
    seed d root / d root = 1 and every other node starting at 0, exactly as one ``backward``
    call on a fresh graph. No node's ``grad`` is read or written, so this can be called before
    or after ``backward`` without disturbing it. Options are those of ``draw``; folded sums are
    never folded here, so every step's node is visible. Options are checked at the call, before
    the first picture is made.

    Args:
        root: The output node.
        rankdir: As in ``draw``.
        show_grad: As in ``draw``.
        number_format: As in ``draw``.
        edge_derivatives: As in ``draw``.
        highlight: As in ``draw``.
        max_nodes: As in ``draw``.
        legend: As in ``draw``.
        title: A caption above every picture, before the step's own caption.

    Returns:
        An iterator of ``len(topological_order(root))`` Digraphs.

    Example:
        >>> from autodiff import Value
        >>> x = Value(3.0, label="x")
        >>> y = x * 2.0
        >>> steps = list(backward_steps(y))
        >>> len(steps), x.grad
        (2, 0.0)
        >>> [line.strip() for line in steps[-1].source.splitlines() if "label=<step" in line]
        ['fontsize=14 label=<step 2 of 2: x receives grad 2.0000> labelloc=t']
    """
    where = "backward_steps"
    _check_options(where, rankdir, number_format, max_nodes, title)
    _check_size(_check_root(root, where), max_nodes, where)
    order = topological_order(root)
    # Read once (a generator would be used up by the first picture) and checked now rather
    # than on the first next(), so a bad highlight fails at the call.
    marked = _highlight_list(highlight, where)
    _highlight_nodes(marked, {node: i for i, node in enumerate(order)}, where)
    return _steps(
        root,
        order,
        rankdir=rankdir,
        show_grad=show_grad,
        number_format=number_format,
        edge_derivatives=edge_derivatives,
        highlight=marked,
        legend=legend,
        title=title,
    )


def _steps(
    root: Value,
    order: list[Value],
    *,
    rankdir: str,
    show_grad: bool,
    number_format: str,
    edge_derivatives: bool,
    highlight: list[Value],
    legend: bool,
    title: str | None,
) -> Iterator[graphviz.Digraph]:
    index = {node: i for i, node in enumerate(order)}
    names = _text_names(order)
    grads = [0.0] * len(order)
    grads[-1] = 1.0
    total = len(order)
    for step, i in enumerate(reversed(range(total)), start=1):
        node = order[i]
        # The chain rule for one node, as the engine does it: each parent gets g * d.
        for parent, derivative in zip(node.parents, partials(node), strict=True):
            grads[index[parent]] += grads[i] * derivative
        grad_text = _number(grads[i], number_format)
        caption = f"step {step} of {total}: {names[i]} receives grad {grad_text}"
        yield _build(
            root,
            rankdir=rankdir,
            show_grad=show_grad,
            number_format=number_format,
            edge_derivatives=edge_derivatives,
            highlight=highlight,
            legend=legend,
            title=caption if title is None else f"{title}\n{caption}",
            grads=grads,
            current=i,
            fold=False,
            where="backward_steps",
        )
