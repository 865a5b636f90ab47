r"""Building the DOT graph of a computation: ``draw``.

This module owns turning a graph into a ``graphviz.Digraph``: which boxes and ovals there are,
their ids, colours, labels and edges, folded sums, highlighted paths and the legend. It runs no
Graphviz program (``autodiff.viz.rendering`` does) and computes no gradient: every number shown
is a node's ``data``/``grad`` or a local derivative from ``autodiff.partials`` (or, for
``backward_steps``, a step of ``autodiff.chain_rule_steps``).

Node ids (stable; the explorer page and any tool may rely on them):

* The Value at position ``i`` of ``autodiff.topological_order(root)`` is ``n<i>``; the oval of
  the operation that made it is ``op<i>``; the key, when drawn, is ``legend``. A Value is one
  node however many times it is used, so every edge into ``op<i>`` comes from some ``n<j>``
  with ``j < i``, and ``op<i> -> n<i>`` is the one edge out of an oval.
* Positions are always taken in the whole graph of ``root``: with ``focus=`` the drawn part
  keeps the ids it has in the full picture. A folded sum's oval is the ``op<i>`` of the sum's
  top node ``n<i>``; the partial sums it absorbs have no node.
* Ids never come from ``id()``: the same graph built twice gives byte-identical DOT, in any
  process.

Example:
    >>> from autodiff import Value
    >>> x = Value(3.0, label="x")
    >>> y = x * 0.5
    >>> import re
    >>> re.findall(r"^\s*(\w+) \[", draw(y).source, flags=re.MULTILINE)[3:]
    ['n0', 'n1', 'op1']
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from autodiff.engine import Value, partials, topological_order
from autodiff.viz.labels import (
    describe_numbers,
    format_number,
    grad_float,
    html_text,
    offset_text,
    op_text,
)
from autodiff.viz.options import DrawOptions, check_root, resolve

if TYPE_CHECKING:
    import graphviz

__all__ = ["FOLD_SUM_TERMS", "draw"]

FOLD_SUM_TERMS: Final = 8
"""A chain of ``+`` nodes with at least this many Value terms is drawn as one ``Σ`` oval."""

# Colours: pale fills so black text stays readable, strong colours for what is pointed out.
FILL: Final = {
    "input": "#d6e6f5",
    "parameter": "#d3efd0",
    "interior": "#ffffff",
    "output": "#ffd9a8",
}
_LEGEND_TEXT: Final = {
    "input": "input (a leaf you made)",
    "parameter": "parameter (a leaf holding a non-zero gradient)",
    "interior": "intermediate result",
    "output": "output",
}
OP_FILL: Final = "#efe6f7"
LINE: Final = "#4d4d4d"
MUTED: Final = "#6b6b6b"
RULE: Final = "#a6a6a6"
EDGE_LABEL: Final = "#1f4e9c"
HIGHLIGHT: Final = "#d62728"
CURRENT: Final = "#e8590c"
CURRENT_CELL: Final = "#fff1a8"
FONT: Final = "Helvetica,Arial,sans-serif"


@dataclass(frozen=True)
class StepState:
    """What a picture of one backward step shows, from ``autodiff.chain_rule_steps``.

    Attributes:
        grads: Every node's gradient so far, by position in the topological order.
        current: The position of the node sending its gradient back at this step.
        sent: For each of the current node's parents, in order, the contribution it receives.
        names: The nodes' names (``autodiff.explain.node_names``), for the edge labels.

    Example:
        >>> StepState(grads=(0.0, 1.0), current=1, sent=(2.0,), names=("x", "n1")).current
        1
    """

    grads: Sequence[float]
    current: int
    sent: Sequence[float]
    names: Sequence[str]


def draw(root: Value, options: DrawOptions | None = None, **changes: Any) -> graphviz.Digraph:
    r"""Draw the computation graph that ends at ``root`` as a Graphviz ``Digraph``.

    Building the Digraph needs only the ``graphviz`` Python package; showing it in Jupyter or
    writing a picture (``autodiff.viz.render``) needs Graphviz's ``dot`` program. In a
    notebook the picture is scaled down to the cell's width unless ``fit_width=False``.
    ``autodiff.viz`` explains how a picture reads; this module's docstring, the node ids.

    Args:
        root: The output node; every node it depends on is drawn (or, with ``focus=``, those
            the focus depends on).
        options: A ``DrawOptions`` to start from (default: the defaults).
        **changes: Any ``DrawOptions`` field by name: ``rankdir``, ``show_grad``,
            ``number_format``, ``edge_derivatives``, ``highlight``, ``focus``, ``max_nodes``,
            ``legend``, ``title``, ``fit_width``.

    Returns:
        A ``graphviz.Digraph``; its ``.source`` is the DOT text.

    Raises:
        TypeError: If ``root`` is not a Value, or an option is unknown or of the wrong type.
        ValueError: For a bad option value, a ``highlight`` or ``focus`` outside the graph,
            or more Values to draw than ``max_nodes``.

    Example:
        >>> from autodiff import Value
        >>> x = Value(3.0, label="x")
        >>> y = x * x
        >>> y.backward()
        >>> picture = draw(y, edge_derivatives=True)
        >>> print("\n".join(line for line in picture.source.splitlines() if "->" in line))
            n0 -> op1 [label=<3.0000> fontcolor="#1f4e9c"]
            n0 -> op1 [label=<3.0000> fontcolor="#1f4e9c"]
            op1 -> n1
    """
    where = "draw"
    chosen = resolve(where, options, changes)
    return build(check_root(root, where), chosen, where=where)


def check_size(start: Value, max_nodes: int, where: str) -> None:
    """Refuse a graph with more than ``max_nodes`` Values, counting no further than that.

    Counting stops as soon as the limit is passed, so a graph of millions of nodes is refused
    at once.

    Example:
        >>> from autodiff import Value
        >>> check_size(Value(1.0) * Value(2.0), 3, "example")  # 3 Values: accepted
        >>> try:
        ...     check_size(Value(1.0) * Value(2.0), 2, "example")
        ... except ValueError as error:
        ...     print(str(error).split(";")[0])
        example: the graph has more than max_nodes=2 Values
    """
    seen = {start}
    stack = [start]
    while stack:
        for parent in stack.pop().parents:
            if parent not in seen:
                seen.add(parent)
                if len(seen) > max_nodes:
                    raise ValueError(
                        f"{where}: the graph has more than max_nodes={max_nodes} Values; "
                        "Graphviz would take minutes to lay it out, or crash, and the picture "
                        "would be unreadable. Draw part of it: pass focus=<a Value> to draw "
                        "only what that Value depends on (one layer, one term of the loss), "
                        "build the graph on fewer examples, or raise max_nodes if you really "
                        "want it all. to_text(root) lists every node without drawing."
                    )
                stack.append(parent)


def build(
    root: Value, options: DrawOptions, *, where: str, step: StepState | None = None
) -> graphviz.Digraph:
    """The Digraph of ``root`` with ``options``: ``draw``, ``render`` and each backward step.

    ``step`` draws the state of one backward step (every node, no folded sums) instead of the
    gradients the nodes hold. Errors name ``where``, the function the user called.

    Example:
        >>> from autodiff import Value
        >>> x = Value(2.0, label="x")
        >>> build(x * 3, DrawOptions(), where="example").source == draw(x * 3).source
        True
    """
    from autodiff.viz.notebook import Drawing

    focus = options.focus
    top_node = root if focus is None else focus
    check_size(top_node, options.max_nodes, where)
    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}
    if focus is not None and focus not in index:
        raise ValueError(f"{where}: focus {focus!r} is not part of the graph of root")
    top = index[top_node]
    shown = _ancestors(order, index, top)
    starts = []
    for item in options.highlighted:
        if item not in index:
            raise ValueError(f"{where}: highlight {item!r} is not part of the graph of root")
        if not shown[index[item]]:
            raise ValueError(
                f"{where}: highlight {item!r} is not drawn: focus {focus!r} does not depend on it"
            )
        starts.append(index[item])
    grads = list(step.grads) if step is not None else [grad_float(node) for node in order]
    current = step.current if step is not None else None

    # on_path[i]: node i lies on a path from a highlighted node to the top. Every drawn node
    # reaches the top (the drawing is the top's ancestry), so "reached from a start" is enough.
    on_path = [False] * len(order)
    for i in starts:
        on_path[i] = True
    if starts:
        for i, node in enumerate(order):
            if shown[i] and not on_path[i] and any(on_path[index[p]] for p in node.parents):
                on_path[i] = True

    if step is None:
        hidden, folded = _fold_sums(order, index, shown, set(starts) | {top})
    else:
        hidden, folded = set(), {}

    def fmt(x: float) -> str:
        return format_number(x, options.number_format)

    graph = Drawing(
        graph_attr={
            "rankdir": options.rankdir,
            "fontname": FONT,
            "nodesep": "0.25",
            "ranksep": "0.35",
        },
        node_attr={"fontname": FONT, "fontsize": "11", "color": LINE},
        edge_attr={"fontname": FONT, "fontsize": "9", "color": LINE, "arrowsize": "0.7"},
    )
    graph.fit_width = options.fit_width
    if options.title is not None:
        graph.attr(label=f"<{html_text(options.title)}>", labelloc="t", fontsize="14")

    kinds_seen: list[str] = []
    sent_example: str | None = None  # this step's first edge label, for the legend
    with_numbers: Value | None = None  # the first oval showing a number, for the legend
    last = len(order) - 1
    for i, node in enumerate(order):
        if not shown[i] or i in hidden:
            continue
        kind = _kind(node, i == last, grads[i])
        if kind not in kinds_seen:
            kinds_seen.append(kind)
        is_current = i == current
        attrs = {"shape": "box", "style": "filled", "fillcolor": FILL[kind]}
        if is_current:
            attrs.update(color=CURRENT, penwidth="3")
        elif on_path[i]:
            attrs.update(color=HIGHLIGHT, penwidth="2")
        grad_text = fmt(grads[i]) if options.show_grad else None
        cell = CURRENT_CELL if is_current and options.show_grad else None
        graph.node(f"n{i}", label=_value_label(node, fmt(node.data), grad_text, cell), **attrs)
        if node.is_leaf:
            continue

        # The op's oval, its inputs, and the edge to its result.
        op_id = f"op{i}"
        sent: Sequence[float | None]
        if i in folded:
            terms, offset = folded[i]
            inputs = [(j, 1.0) for j in terms]  # d sum / d term = 1 for every term
            sent = [None] * len(terms)
            head = "Σ" if offset == 0.0 else f"Σ {html_text(offset_text(offset))}"
            op_label = f'<{head}<BR/><FONT POINT-SIZE="8">{len(terms)} terms</FONT>>'
        else:
            parents = node.parents
            derivatives = partials(node) if options.edge_derivatives else (0.0,) * len(parents)
            inputs = [(index[p], d) for p, d in zip(parents, derivatives, strict=True)]
            sent = list(step.sent) if step is not None and is_current else [None] * len(parents)
            if with_numbers is None and len(parents) < len(node.operands):
                with_numbers = node
            op_label = f"<{html_text(op_text(node))}>"
        op_attrs = {
            "shape": "ellipse",
            "style": "filled",
            "fillcolor": OP_FILL,
            "fontsize": "13",
            "margin": "0.04,0.02",
            "width": "0.3",
            "height": "0.3",
        }
        if is_current:
            op_attrs.update(color=CURRENT, penwidth="3")
        elif on_path[i]:
            op_attrs.update(color=HIGHLIGHT, penwidth="2")
        graph.node(op_id, label=op_label, **op_attrs)
        for (j, derivative), contribution in zip(inputs, sent, strict=True):
            edge_attrs: dict[str, str] = {}
            texts = []
            if options.edge_derivatives:
                texts.append(f'<FONT COLOR="{EDGE_LABEL}">{fmt(derivative)}</FONT>')
            if contribution is not None and step is not None:
                received = f"{step.names[j]}.grad += {fmt(contribution)}"
                sent_example = sent_example or received
                texts.append(f'<FONT COLOR="{CURRENT}">{html_text(received)}</FONT>')
            if len(texts) == 1 and options.edge_derivatives:
                edge_attrs.update(label=f"<{fmt(derivative)}>", fontcolor=EDGE_LABEL)
            elif texts:
                edge_attrs.update(label=f"<{'<BR/>'.join(texts)}>")
            if is_current:
                edge_attrs.update(color=CURRENT, penwidth="2.5")
            elif on_path[j] and on_path[i]:
                edge_attrs.update(color=HIGHLIGHT, penwidth="2.5")
            graph.edge(f"n{j}", op_id, **edge_attrs)
        out_attrs: dict[str, str] = {}
        if is_current:
            out_attrs.update(color=CURRENT, penwidth="2.5")
        elif any(on_path[j] for j, _ in inputs):
            out_attrs.update(color=HIGHLIGHT, penwidth="2.5")
        graph.edge(op_id, f"n{i}", **out_attrs)

    if options.legend:
        _add_legend(
            graph,
            kinds_seen,
            with_numbers,
            edge_derivatives=options.edge_derivatives,
            highlighted=bool(starts),
            sent_example=sent_example,
        )
    return graph


def _ancestors(order: Sequence[Value], index: Mapping[Value, int], top: int) -> list[bool]:
    """shown[i]: node i is node ``top`` or one it depends on (walked iteratively)."""
    shown = [False] * len(order)
    shown[top] = True
    stack = [order[top]]
    while stack:
        for parent in stack.pop().parents:
            j = index[parent]
            if not shown[j]:
                shown[j] = True
                stack.append(parent)
    return shown


def _kind(node: Value, is_root: bool, grad: float) -> str:
    if is_root:
        return "output"
    if not node.is_leaf:
        return "interior"
    return "parameter" if grad != 0.0 else "input"


def _sum_signs(node: Value) -> tuple[float, ...] | None:
    """How a node adds up its operands if it is part of a sum, else None.

    ``a + b`` (Values or numbers) adds both; ``s - c`` with a number ``c`` adds ``s`` and
    takes ``c`` away. Other subtractions (``c - s``, ``a - b``) negate a Value term, so they
    are never folded.
    """
    op = node.op
    if op is None:
        return None
    if op.name == "add" and op.arity == 2:
        return (1.0, 1.0)
    operands = node.operands
    if op.name == "sub" and op.arity == 2 and not isinstance(operands[1], Value):
        return (1.0, -1.0)
    return None


def _fold_sums(
    order: Sequence[Value], index: Mapping[Value, int], shown: Sequence[bool], keep: set[int]
) -> tuple[set[int], dict[int, tuple[list[int], float]]]:
    """Hidden partial sums and, for each folded sum, its terms (see ``autodiff.viz``).

    ``sum(values)`` makes ``0.0 + v0`` and then one ``+`` per further value. A sum node is
    absorbed into the node that uses it when it is unlabelled, used once in the whole graph,
    not in ``keep`` (highlighted, or the top of the picture) and used by another sum node.

    Returns:
        The positions of the sum nodes drawn inside another, and for each sum node that
        absorbs them (when its group has at least ``FOLD_SUM_TERMS`` Value terms) the
        positions of all its Value terms in order (duplicates kept) and the total of the
        numbers the group adds (0.0 for a plain ``sum``), so no operand is lost.
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
            _sum_signs(node) is not None
            and uses[j] == 1
            and not node.label
            and j not in keep
            and _sum_signs(order[consumer[j]]) is not None
        )

    hidden: set[int] = set()
    folded: dict[int, tuple[list[int], float]] = {}
    # Group heads are drawn sum nodes that are not absorbed; each group is walked iteratively.
    for i, node in enumerate(order):
        if not shown[i] or _sum_signs(node) is None or absorbable(i):
            continue
        members: list[int] = []
        terms: list[int] = []
        numbers: list[float] = []
        stack: list[Value | float] = [node]
        first = True
        while stack:
            item = stack.pop()
            if not isinstance(item, Value):
                numbers.append(item)
                continue
            j = index[item]
            if first or absorbable(j):
                if not first:
                    members.append(j)
                first = False
                signs = _sum_signs(item)
                assert signs is not None
                signed = [
                    x if isinstance(x, Value) else sign * x
                    for x, sign in zip(item.operands, signs, strict=True)
                ]
                stack.extend(reversed(signed))
            else:
                terms.append(j)
        if len(terms) >= FOLD_SUM_TERMS:
            hidden.update(members)
            folded[i] = (terms, math.fsum(numbers))
    return hidden, folded


def _value_label(node: Value, data: str, grad: str | None, grad_cell: str | None) -> str:
    """A box's HTML label: the label in bold (when set), then data and grad, one per row.

    Stacked rows keep boxes narrow, so a left-to-right picture of a dozen operations still
    fits a page; grey rules separate the rows whatever colour the box's outline is.
    """
    rows = []
    if node.label:
        rows.append(f"<TD><B>{html_text(node.label)}</B></TD>")
    rows.append(f'<TD><FONT COLOR="{MUTED}">data</FONT> {data}</TD>')
    if grad is not None:
        shade = f' BGCOLOR="{grad_cell}"' if grad_cell else ""
        rows.append(f'<TD{shade}><FONT COLOR="{MUTED}">grad</FONT> {grad}</TD>')
    table = (
        f'<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2" ROWS="*" COLOR="{RULE}">'
    )
    return f"<{table}<TR>{'</TR><TR>'.join(rows)}</TR></TABLE>>"


def _add_legend(
    graph: graphviz.Digraph,
    kinds: Sequence[str],
    with_numbers: Value | None,
    *,
    edge_derivatives: bool,
    highlighted: bool,
    sent_example: str | None,
) -> None:
    """Add the key: one node holding a table of swatches, so it stays compact in any layout.

    Only what the picture contains is explained: the kinds of box drawn and, when an oval
    shows a number from the code, that oval as an example, said in words.
    """
    swatch = '<TD WIDTH="26" HEIGHT="16" BORDER="1" {}></TD>'
    oval = f'<TD BORDER="1" STYLE="rounded" BGCOLOR="{OP_FILL}" COLOR="{LINE}">{{}}</TD>'
    rows = [
        (swatch.format(f'BGCOLOR="{FILL[kind]}" COLOR="{LINE}"'), _LEGEND_TEXT[kind])
        for kind in sorted(kinds, key=list(FILL).index)
    ]
    rows.append((oval.format("+"), "operation (+, *, σ, ...): its arrows come from its inputs"))
    if with_numbers is not None:
        rows.append(
            (
                oval.format(html_text(op_text(with_numbers))),
                f"operation with a number from the code: {describe_numbers(with_numbers)}",
            )
        )
    if edge_derivatives:
        rows.append(
            (
                f'<TD><FONT COLOR="{EDGE_LABEL}">0.25</FONT></TD>',
                "on an edge: local derivative d result / d input",
            )
        )
    if highlighted:
        rows.append((swatch.format(f'COLOR="{HIGHLIGHT}"'), "on a highlighted path"))
    if sent_example is not None:
        rows.append(
            (
                swatch.format(f'COLOR="{CURRENT}"'),
                "this step's node: its gradient is complete, it sends it back",
            )
        )
        rows.append(
            (
                f'<TD><FONT COLOR="{CURRENT}">{html_text(sent_example)}</FONT></TD>',
                "on an edge of this step: what the input at the arrow's tail receives",
            )
        )
    body = "".join(f'<TR>{cell}<TD ALIGN="LEFT">{html_text(text)}</TD></TR>' for cell, text in rows)
    graph.node(
        "legend",
        label=(
            f'<<TABLE BORDER="1" STYLE="rounded" COLOR="{MUTED}" CELLBORDER="0" '
            f'CELLSPACING="3" CELLPADDING="2"><TR><TD COLSPAN="2"><B>legend</B></TD></TR>'
            f"{body}</TABLE>>"
        ),
        shape="plaintext",
        fontsize="10",
    )
