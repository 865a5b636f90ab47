"""Copying and pickling a graph without recursion along it. Part of the engine, fenced off.

``copy.deepcopy`` and ``pickle`` walk an object's references recursively, so a chain of 100,000
nodes would overflow the interpreter's stack. ``Value`` hands them the whole graph instead,
walked once in topological order (iteratively). Nothing here is public: use ``copy`` and
``pickle`` as usual.
"""

from __future__ import annotations

import copy
from typing import Any

from autodiff.engine import Value, _ManyOperands, topological_order

__all__: list[str] = []


def _set_operands(node: Value, operands: tuple[Value | float, ...]) -> None:
    node._first = operands[0] if operands else None
    node._second = operands[1] if len(operands) > 1 else None
    if isinstance(node, _ManyOperands):
        node._rest = operands[2:]


def _new_node(kind: type[Value], data: float, grad: Any, label: str, op: Any) -> Value:
    node = object.__new__(kind)
    node._data, node.grad, node.op, node._label = data, grad, op, label
    _set_operands(node, ())
    return node


def shallow_copy(node: Value) -> Value:
    """A new node with the same data, grad, label, op and operands (``copy.copy``)."""
    copied = _new_node(type(node), node.data, node.grad, node.label, node.op)
    _set_operands(copied, node.operands)
    return copied


def deep_copy(root: Value, memo: dict[int, Any]) -> Value:
    """A copy of the whole graph under ``root`` (``copy.deepcopy``), sharing what ``memo`` has.

    Each node goes into ``memo`` before its grad is copied: after ``create_graph`` a leaf's grad
    is a graph that refers back to the leaf, and must find the copy, not copy it again.
    """
    for node in topological_order(root):
        if id(node) not in memo:
            copied = _new_node(type(node), node.data, 0.0, node.label, node.op)
            _set_operands(
                copied, tuple(memo[id(x)] if isinstance(x, Value) else x for x in node.operands)
            )
            memo[id(node)] = copied
            grad = node.grad
            copied.grad = grad if isinstance(grad, float) else copy.deepcopy(grad, memo)
    result: Value = memo[id(root)]
    return result


def reduce(root: Value) -> tuple[Any, ...]:
    """What ``pickle`` stores for ``root``: a leaf's fields, or the graph as a flat list.

    In the list each node's operands are numbers or the positions (ints) of Values earlier in
    it. Leaves are kept as themselves, so a parameter pickled beside the graph stays one object.
    Grads travel as the pickle's *state*, which is stored after the object itself: a grad that
    is a graph referring back to its node (after ``create_graph``) then finds it, instead of
    pickling it again forever.
    """
    if root.op is None:
        return (_rebuild_leaf, (type(root), root.data, root.label), {"grad": root.grad})
    order = topological_order(root)
    position = {node: i for i, node in enumerate(order)}
    records: list[Any] = [
        node
        if node.op is None
        else (
            type(node),
            node.op,
            node.data,
            node.label,
            *(position[x] if isinstance(x, Value) else x for x in node.operands),
        )
        for node in order
    ]
    grads = [None if node.op is None else node.grad for node in order]
    return (_rebuild_graph, (records,), {"grads": grads})


def set_state(node: Value, state: dict[str, Any]) -> None:
    """Give a rebuilt leaf its grad, or a rebuilt graph all its interior grads."""
    if "grad" in state:
        node.grad = state["grad"]
        return
    for inner, grad in zip(topological_order(node), state["grads"], strict=True):
        if inner.op is not None:
            inner.grad = grad


def _rebuild_leaf(kind: type[Value], data: float, label: str) -> Value:
    return _new_node(kind, data, 0.0, label, None)


def _rebuild_graph(records: list[Any]) -> Value:
    nodes: list[Value] = []
    for record in records:
        if isinstance(record, Value):
            nodes.append(record)
            continue
        kind, op, data, label, *operands = record
        node = _new_node(kind, data, 0.0, label, op)
        _set_operands(node, tuple(nodes[x] if isinstance(x, int) else x for x in operands))
        nodes.append(node)
    return nodes[-1]
