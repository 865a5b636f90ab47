"""The graph as plain text, one node per line: ``to_text``.

This module owns the text view: a listing that needs no Graphviz at all, for terminals,
doctests and logs. Nodes are named as in the drawings (``n<i>``, the position in the
topological order, when a node has no usable label). It draws nothing and computes nothing:
each line shows a node's ``data`` and ``grad``.

Example:
    >>> from autodiff import Value
    >>> c = Value(100.0, label="C")
    >>> f = c * 1.8 + 32
    >>> print(to_text(f))
    C  = input        data=100.0000  grad=0.0000
    n1 = mul(C, 1.8)  data=180.0000  grad=0.0000
    n2 = add(n1, 32)  data=212.0000  grad=0.0000
"""

from __future__ import annotations

from autodiff.engine import Value, topological_order
from autodiff.explain import node_names
from autodiff.viz.labels import format_number, grad_float, number_text
from autodiff.viz.options import check_root, resolve

__all__ = ["to_text"]


def to_text(root: Value, number_format: str = ".4f") -> str:
    """The graph of ``root`` as text: one line per node, inputs first, ``root`` last.

    Each line reads ``name = op(operands)  data=...  grad=...``. A leaf's "op" is its kind,
    ``input`` or ``parameter`` (a leaf holding a non-zero gradient, as in the drawings). The
    operands are listed in their places, numbers from the code written with ``:g``:
    ``x - 3`` is ``sub(x, 3)`` and ``0.5 * x`` is ``mul(0.5, x)``. A node's name is its
    label, or ``n<i>`` (its position in the topological order, as in ``draw``) when it has
    none; ``n<i>[label]`` when its label is shared, looks like another node's ``n<i>`` or
    reads as a number.

    Args:
        root: The output node.
        number_format: A format spec for data and grad, e.g. ``".4f"``.

    Returns:
        The lines joined by newlines (no trailing newline).

    Raises:
        TypeError: If ``root`` is not a Value or ``number_format`` not a str.
        ValueError: If ``number_format`` is not a float format spec.

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
    check_root(root, where)
    resolve(where, None, {"number_format": number_format})  # the one check of the format
    order = topological_order(root)
    index = {node: i for i, node in enumerate(order)}
    names = node_names(order)
    heads = []
    for i, node in enumerate(order):
        if node.op is None:
            rhs = "parameter" if grad_float(node) != 0.0 else "input"
        else:
            operands = [
                names[index[x]] if isinstance(x, Value) else number_text(x) for x in node.operands
            ]
            rhs = f"{node.op.name}({', '.join(operands)})"
        heads.append((names[i], rhs))
    name_width = max(len(name) for name, _ in heads)
    rhs_width = max(len(rhs) for _, rhs in heads)
    data = [format_number(node.data, number_format) for node in order]
    data_width = max(len(text) for text in data)
    lines = []
    for (name, rhs), node, data_text in zip(heads, order, data, strict=True):
        grad_text = format_number(grad_float(node), number_format)
        lines.append(
            f"{name:<{name_width}} = {rhs:<{rhs_width}}  data={data_text:<{data_width}}  "
            f"grad={grad_text}"
        )
    return "\n".join(lines)
