"""The engine: ``Value`` nodes, the order a graph is walked in, and the chain rule.

Read it top to bottom:

1. ``Value``: a number in a graph. Its operators (``+ - * / **``) and methods (``exp``,
   ``tanh``...) are one line each: they call ``_apply``, the one function that makes a node.
2. ``topological_order``: every node a result depends on, inputs before outputs.
3. ``backward``: the chain rule. For each node, from the output back to the inputs, and each
   of its parents: ``parent.grad += node.grad * d``, where ``d`` is the local derivative
   d node / d parent that the op table (``autodiff.ops``) gives.
4. ``gradients`` and ``partials``: the same loop without touching any ``grad``, and the local
   derivatives alone.

This module owns the graph and the chain rule. It does not own any op's mathematics (that is
``autodiff.ops``), grad mode (``autodiff.mode``), drawing, checking or optimisation, which are
built on top of it. It imports neither numpy nor graphviz.

Gradient semantics (documented in the README and pinned by tests):

* ``backward()`` gives every node reached from the output its gradient.
* Leaves *accumulate* across calls: two calls give leaves exactly twice one call's gradient.
  Set ``v.grad = 0.0`` (or ``None``, which counts as zero) between steps, as with PyTorch.
* Interior nodes are *recomputed* on each call: after any call they hold d output / d node.
* The graph is never freed by backward, so it can be drawn or differentiated again.
* A backward that fails or is interrupted leaves every ``grad`` exactly as it was.

Example:
    >>> x = Value(2.0, label="x")
    >>> y = x * x + 3 * x
    >>> y.backward()
    >>> print(f"{y.data:.1f} {x.grad:.1f}")
    10.0 7.0
"""

from __future__ import annotations

import numbers
import operator
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Union

from autodiff import mode
from autodiff.ops import OPS, Op

__all__ = [
    "ChainRuleStep",
    "Number",
    "Operand",
    "Value",
    "apply",
    "backward",
    "chain_rule_steps",
    "gradients",
    "partials",
    "to_float",
    "topological_order",
]

Number = Union[int, float]
"""A plain number accepted wherever a Value is (numpy scalars are accepted at run time too)."""

Operand = Union["Value", int, float]
"""Anything an operation accepts as an operand: a Value or a plain number."""

ADD, SUB, MUL, DIV, NEG = OPS["add"], OPS["sub"], OPS["mul"], OPS["div"], OPS["neg"]
POW, POW_VALUE, EXP, LOG = OPS["pow"], OPS["pow_value"], OPS["exp"], OPS["log"]
SIGMOID, TANH, RELU, ABS = OPS["sigmoid"], OPS["tanh"], OPS["relu"], OPS["abs"]
SIN, COS = OPS["sin"], OPS["cos"]


def to_float(x: object, where: str = "Value") -> float:
    """``x`` as a Python float, from an int, float, bool or numpy number; else TypeError.

    Numbers of every numpy type (float32, int64, bool_, a 0-d array) become float64, so all
    arithmetic happens in double precision. Errors name ``where`` (the operation) and ``x``.

    Example:
        >>> to_float(3), to_float(True)
        (3.0, 1.0)
        >>> to_float("3", "add")
        Traceback (most recent call last):
        ...
        TypeError: add: expected an int, float, bool or numpy number, got str ('3')
    """
    if type(x) is float:
        return x
    if type(x) is int or (isinstance(x, numbers.Real) and not isinstance(x, Value)):
        try:
            return float(x)
        except OverflowError:
            size = f"an int of {x.bit_length()} bits" if isinstance(x, int) else repr(x)
            raise OverflowError(f"{where}: {size} is too large for a float") from None
    kind = type(x)
    if kind.__module__ == "numpy" and kind.__name__ in ("bool_", "bool"):
        return float(x)  # type: ignore[arg-type]  # numpy.True_ is 1.0, like True
    if getattr(x, "ndim", None) == 0 and getattr(getattr(x, "dtype", None), "kind", "") in (
        "b",
        "i",
        "u",
        "f",
    ):
        return float(x)  # type: ignore[arg-type]  # a 0-d numpy array of a number
    what = "a Value" if isinstance(x, Value) else f"{kind.__name__} ({x!r})"
    raise TypeError(f"{where}: expected an int, float, bool or numpy number, got {what}")


# ----------------------------------------------------------------------------------------------
# 1. Value


class Value:
    """A scalar in a computation graph: its data, its gradient and the op that made it.

    Args:
        data: The number. Coerced to a Python float from an int, float, bool or numpy number;
            anything else (str, None, a list, a complex number, a Value) raises TypeError.
        label: A name for people: drawings, explanations and error messages use it.

    Attributes:
        data: The value, a Python float.
        grad: d output / d self after ``backward`` (0.0 before; None counts as 0.0); a Value
            after ``backward(create_graph=True)``.
        op: The row of the op table (``autodiff.ops.OPS``) that made this node, or None for a
            leaf: ``node.op.name``, ``node.op.formula``.

    Example:
        >>> a = Value(2.0, label="a")
        >>> b = a * 3 + 1
        >>> b
        Value(data=7.0, grad=0.0, op='add')
        >>> b.operands
        (Value(data=6.0, grad=0.0, op='mul'), 1.0)
        >>> b.backward()
        >>> a.grad
        3.0
    """

    # What the op was applied to lives in two slots, each a Value or a plain number (None when
    # there is no such operand). Two slots rather than a tuple: a tuple would add 56 bytes to
    # every node, a third of its size.
    __slots__ = ("__weakref__", "_first", "_label", "_second", "data", "grad", "op")

    data: float
    grad: Any
    op: Op | None
    _label: str
    _first: Value | float | None
    _second: Value | float | None

    # == and hash stay object identity, so a Value works as a dict key and in a set.

    def __init__(self, data: object, label: str = "") -> None:
        self.data = to_float(data, "Value")
        self.grad = 0.0
        self.label = label
        self.op = None
        self._first = None
        self._second = None

    # -- what the node is -----------------------------------------------------------------

    @property
    def label(self) -> str:
        """The name given by the user, or ""; setting anything but a str raises TypeError."""
        return self._label

    @label.setter
    def label(self, text: str) -> None:
        if not isinstance(text, str):
            raise TypeError(f"Value: label must be a str, got {type(text).__name__} ({text!r})")
        self._label = text

    @property
    def operands(self) -> tuple[Value | float, ...]:
        """What the op was applied to, in order: Values, and plain numbers (the 2 in ``x ** 2``).

        Example:
            >>> x = Value(3.0)
            >>> (2 ** x).operands
            (2.0, Value(data=3.0, grad=0.0))
        """
        if self._first is None:
            return ()
        if self._second is None:
            return (self._first,)
        return (self._first, self._second)

    @property
    def parents(self) -> tuple[Value, ...]:
        """The Values among the operands, in order, duplicates kept: ``(a * a).parents == (a, a)``.

        A plain number needs no gradient, so it is no parent in the graph.

        Example:
            >>> a = Value(1.0)
            >>> (a * a).parents == (a, a), (a * 2).parents == (a,)
            (True, True)
        """
        return tuple(x for x in self.operands if isinstance(x, Value))

    @property
    def is_leaf(self) -> bool:
        """True for a node no operation made: an input or a parameter."""
        return self.op is None

    def __repr__(self) -> str:
        grad = self.grad
        grad_text = f"Value({grad.data!r})" if isinstance(grad, Value) else repr(grad)
        parts = [f"data={self.data!r}", f"grad={grad_text}"]
        if self._label:
            parts.append(f"label={self._label!r}")
        if self.op is not None:
            parts.append(f"op={self.op.name!r}")
        return f"Value({', '.join(parts)})"

    def __format__(self, spec: str) -> str:
        """Format the data: ``f"{v:.4f}"`` formats ``v.data``."""
        return format(self.data, spec) if spec else repr(self)

    def __float__(self) -> float:
        return self.data

    # -- operations: one line each, all through ``_apply`` -----------------------------------

    def __add__(self, other: Operand) -> Value:
        return _apply(ADD, self, other)  # self + other

    def __radd__(self, other: Operand) -> Value:
        return _apply(ADD, other, self)  # other + self

    def __sub__(self, other: Operand) -> Value:
        return _apply(SUB, self, other)  # self - other

    def __rsub__(self, other: Operand) -> Value:
        return _apply(SUB, other, self)  # other - self

    def __mul__(self, other: Operand) -> Value:
        return _apply(MUL, self, other)  # self * other

    def __rmul__(self, other: Operand) -> Value:
        return _apply(MUL, other, self)  # other * self

    def __truediv__(self, other: Operand) -> Value:
        return _apply(DIV, self, other)  # self / other

    def __rtruediv__(self, other: Operand) -> Value:
        return _apply(DIV, other, self)  # other / self

    def __pow__(self, exponent: Operand) -> Value:
        # A Value exponent (x ** y) has its own row: it needs d/dy = x**y * log(x) too, which a
        # number exponent (x ** 2) does not, so that one works for a negative base.
        row = POW_VALUE if isinstance(exponent, Value) else POW
        return _apply(row, self, exponent)  # self ** exponent

    def __rpow__(self, base: Operand) -> Value:
        return _apply(POW_VALUE, base, self)  # base ** self

    def __neg__(self) -> Value:
        return _apply(NEG, self)  # -self

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _apply(ABS, self)  # abs(self), also numpy.abs

    def exp(self) -> Value:
        """e to the power of this node (also ``numpy.exp``); OverflowError above 709.78."""
        return _apply(EXP, self)

    def log(self) -> Value:
        """Natural logarithm (also ``numpy.log``); ValueError for data <= 0."""
        return _apply(LOG, self)

    def sigmoid(self) -> Value:
        """1 / (1 + e^-x), numerically stable for every finite input."""
        return _apply(SIGMOID, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent (also ``numpy.tanh``), stable for every finite input."""
        return _apply(TANH, self)

    def relu(self) -> Value:
        """max(0, x); its derivative at 0 is defined as 0; relu(nan) is nan."""
        return _apply(RELU, self)

    def sin(self) -> Value:
        """Sine, in radians (also ``numpy.sin``)."""
        return _apply(SIN, self)

    def cos(self) -> Value:
        """Cosine, in radians (also ``numpy.cos``)."""
        return _apply(COS, self)

    def sqrt(self) -> Value:
        """Square root, as ``self ** 0.5`` (also ``numpy.sqrt``)."""
        return self**0.5

    # -- comparisons: on data, returning plain bools (so max() and sorted() work) ---------------

    def __lt__(self, other: Operand) -> bool:
        return _compare(operator.lt, self, other, "<")

    def __le__(self, other: Operand) -> bool:
        return _compare(operator.le, self, other, "<=")

    def __gt__(self, other: Operand) -> bool:
        return _compare(operator.gt, self, other, ">")

    def __ge__(self, other: Operand) -> bool:
        return _compare(operator.ge, self, other, ">=")

    # -- backward ---------------------------------------------------------------------------

    def backward(self, gradient: Operand = 1.0, *, create_graph: bool = False) -> None:
        """Backpropagate from this node: every node reached gets d self / d node in ``grad``.

        Leaves accumulate across calls; interior nodes are recomputed on each call. This runs
        ``autodiff.engine.backward``, the loop to read; for float gradients a fenced copy of it
        that is proven to give the same numbers runs instead (``autodiff._fast``).

        Args:
            gradient: The upstream gradient d L / d self to seed with (default 1.0).
            create_graph: Record the backward pass itself, so that every ``grad`` is a
                differentiable Value (for higher-order gradients). This records even inside
                ``no_grad``. Each leaf's grad then refers back to the graph: set
                ``x.grad = None`` when done, to free it without the cycle collector.

        Example:
            >>> x = Value(3.0)
            >>> y = x**2
            >>> y.backward()
            >>> y.backward()
            >>> x.grad  # leaves accumulate: 2 * (2 * 3)
            12.0
        """
        if _fast.applies(create_graph):  # just an optimisation: the same numbers, faster
            _fast.backward(self, _seed(gradient, False, "backward"))
        else:
            backward(self, gradient, create_graph=create_graph)

    # -- copying and pickling: iterative, so a graph of any depth works ---------------------------

    def __copy__(self) -> Value:
        return _copy_node(self, self.grad, self.operands)

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        import copy

        for node in topological_order(self):
            if id(node) not in memo:
                grad = node.grad if isinstance(node.grad, float) else copy.deepcopy(node.grad, memo)
                operands = tuple(
                    memo[id(x)] if isinstance(x, Value) else x for x in node.operands
                )
                memo[id(node)] = _copy_node(node, grad, operands)
        copied: Value = memo[id(self)]
        return copied

    def __reduce__(self) -> tuple[Any, ...]:
        if self.op is None:
            return (_rebuild_leaf, (type(self), self.data, self.grad, self._label))
        # The whole graph as a flat list, so pickling never recurses along it: each node's
        # operands are numbers, or the positions (ints) of Values earlier in the list. Leaves
        # are kept as themselves, so a parameter pickled beside the graph stays one object.
        order = topological_order(self)
        position = {node: i for i, node in enumerate(order)}
        records: list[Any] = [
            node
            if node.op is None
            else (type(node), node.op, node.data, node.grad, node._label)
            + tuple(position[x] if isinstance(x, Value) else x for x in node.operands)
            for node in order
        ]
        return (_rebuild_graph, (records,))


class _ManyOperands(Value):
    """A node of a custom op with three or more operands: the third and later live in ``_rest``."""

    __slots__ = ("_rest",)

    _rest: tuple[Value | float, ...]

    @property
    def operands(self) -> tuple[Value | float, ...]:
        return (self._first, self._second, *self._rest)  # type: ignore[arg-type]


def _set_operands(node: Value, operands: tuple[Value | float, ...]) -> None:
    node._first = operands[0] if operands else None
    node._second = operands[1] if len(operands) > 1 else None
    if isinstance(node, _ManyOperands):
        node._rest = operands[2:]


def _copy_node(node: Value, grad: Any, operands: tuple[Value | float, ...]) -> Value:
    copied = object.__new__(type(node))
    copied.data, copied.grad, copied.op, copied._label = node.data, grad, node.op, node._label
    _set_operands(copied, operands)
    return copied


def _rebuild_leaf(kind: type[Value], data: float, grad: Any, label: str) -> Value:
    leaf = object.__new__(kind)
    leaf.data, leaf.grad, leaf.op, leaf._label = data, grad, None, label
    _set_operands(leaf, ())
    return leaf


def _rebuild_graph(records: list[Any]) -> Value:
    nodes: list[Value] = []
    for record in records:
        if isinstance(record, Value):
            nodes.append(record)
            continue
        kind, op, data, grad, label, *operands = record
        node = _rebuild_leaf(kind, data, grad, label)
        node.op = op
        _set_operands(node, tuple(nodes[x] if isinstance(x, int) else x for x in operands))
        nodes.append(node)
    return nodes[-1]


def _compare(test: Callable[[float, float], bool], value: Value, other: object, sign: str) -> bool:
    if _is_array(other):
        return NotImplemented  # let numpy compare element by element
    number = other.data if isinstance(other, Value) else to_float(other, sign)
    return test(value.data, number)


# ----------------------------------------------------------------------------------------------
# Making nodes: the one function every operation goes through.


def _is_array(x: object) -> bool:
    """True for a numpy array with at least one axis: ``v * array`` is numpy's to broadcast."""
    return bool(getattr(x, "ndim", 0))


def _operation_name(op: Op) -> str:
    return "pow" if op is POW_VALUE else op.name  # the user wrote **, whatever the exponent


def _apply(op: Op, first: object, second: object = None) -> Value:
    """Make the node for ``op`` applied to its operands: the one place nodes are made.

    Each operand is a Value or a plain number (coerced to a float: numpy's float32 or int64
    are computed in float64). A numpy array gives NotImplemented instead, so that numpy
    broadcasts the operation over it, element by element. A forward rule's error is raised
    again naming the operation and the operands' labels. Inside ``no_grad`` the result is a
    plain leaf; an installed observer is told about the node.
    """
    if isinstance(first, Value):
        x = first.data
    elif type(first) is float:
        x = first
    else:
        x = first = _number(first, op)
        if x is NotImplemented:
            return NotImplemented  # type: ignore[no-any-return]
    if second is None:
        if op.arity != 1:  # the user wrote ``x + None``
            raise TypeError(f"{_operation_name(op)}: expected a number or a Value, got None")
    elif isinstance(second, Value):
        y = second.data
    elif type(second) is float:
        y = second
    else:
        y = second = _number(second, op)
        if y is NotImplemented:
            return NotImplemented  # type: ignore[no-any-return]
    if mode.special_threads and not mode.state.plain:
        return _apply_in_mode(op, (first, second))  # type: ignore[arg-type]
    try:
        data = op.forward(x) if second is None else op.forward(x, y)
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        raise _named(error, op, (first, second)) from None
    node: Value = _new(Value)
    node.data = data
    node.grad = 0.0
    node.op = op
    node._label = ""
    node._first = first  # type: ignore[assignment]
    node._second = second  # type: ignore[assignment]
    return node


_new = object.__new__  # makes a node without running __init__: _apply sets every slot itself


def _number(x: object, op: Op) -> float:
    """A plain operand as a float, or NotImplemented for a numpy array (numpy broadcasts)."""
    if type(x) is int:  # x ** 2: the common case, before the slower general tests
        try:
            return float(x)
        except OverflowError:
            pass  # to_float says which operation
    elif _is_array(x):
        return NotImplemented  # type: ignore[no-any-return]
    return to_float(x, _operation_name(op))


def _apply_in_mode(op: Op, operands: tuple[Value | float | None, ...]) -> Value:
    """``_apply`` in a thread that is not plain (no_grad, an observer, lenient), and for the
    custom ops of three operands or more: the same steps, each switch read."""
    present = tuple(x for x in operands if x is not None)
    numbers = [x.data if isinstance(x, Value) else x for x in present]
    state = mode.state
    forward = op.lenient if state.lenient and op.lenient is not None else op.forward
    try:
        data = forward(*numbers)
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        raise _named(error, op, present) from None
    if not state.recording:
        return Value(data)
    node: Value = object.__new__(_ManyOperands if len(present) > 2 else Value)
    node.data, node.grad, node.op, node._label = data, 0.0, op, ""
    _set_operands(node, present)
    if state.observer is not None:
        state.observer.on_create(node)
    return node


def _named(error: Exception, op: Op, operands: tuple[object, ...]) -> Exception:
    """``error`` again, of the same built-in type, its message naming the op and the labels."""
    message = str(error)
    name = _operation_name(op)
    if not message.startswith(name):
        message = f"{name}: {message}"
    labels = [repr(x.label) for x in operands if isinstance(x, Value) and x.label]
    if labels:
        message += f" (operand {', '.join(labels)})"
    return type(error)(message)


def apply(op: Op, *operands: Operand) -> Value:
    """Apply any op-table row, built in or custom, to Values or numbers.

    This is the general path behind ``define_op``; it takes any number of operands.

    Example:
        >>> apply(OPS["mul"], Value(2.0), 5).data
        10.0
    """
    if len(operands) != op.arity:
        raise TypeError(f"{op.name}: takes {op.arity} operand(s), got {len(operands)}")
    if any(x is None for x in operands):
        raise TypeError(f"{op.name}: expected a number or a Value, got None")
    if op.arity > 2:
        numbers = [x if isinstance(x, Value) else _number(x, op) for x in operands]
        if any(x is NotImplemented for x in numbers):
            raise TypeError(f"{op.name}: operands must be Values or numbers, not arrays")
        return _apply_in_mode(op, tuple(numbers))
    node = _apply(op, *operands)
    if node is NotImplemented:  # type: ignore[comparison-overlap]
        raise TypeError(f"{op.name}: operands must be Values or numbers, not arrays")
    return node


# ----------------------------------------------------------------------------------------------
# 2. Topological order


def topological_order(root: Value) -> list[Value]:
    """Every node ``root`` depends on, inputs before outputs, ``root`` last.

    The walk is an iterative depth-first search (no recursion, so a chain of a million nodes
    is fine) that visits parents in their recorded order, so the same graph always gives the
    same list. Each node appears once, however many times it is used.

    Args:
        root: The output to start from.

    Returns:
        A list in which every node comes after all of its parents.

    Example:
        >>> a = Value(1.0, label="a")
        >>> b = a * a
        >>> c = b + a
        >>> [n.label or n.op.name for n in topological_order(c)]
        ['a', 'mul', 'add']
    """
    if not isinstance(root, Value):
        raise TypeError(f"topological_order: expected a Value, got {type(root).__name__}")
    order: list[Value] = []
    visited: set[Value] = set()
    # Each entry is (node, parents_done): a node is pushed once to expand it, then again,
    # under its parents, to be emitted once everything above it has been.
    stack: list[tuple[Value, bool]] = [(root, False)]
    while stack:
        node, parents_done = stack.pop()
        if parents_done:
            order.append(node)
        elif node not in visited:
            visited.add(node)
            stack.append((node, True))
            for parent in reversed(node.parents):  # so the first parent is expanded first
                if parent not in visited:
                    stack.append((parent, False))
    return order


# ----------------------------------------------------------------------------------------------
# 3. Backward: the chain rule


def local_derivatives(node: Value, as_values: bool = False) -> list[tuple[Value, Any]]:
    """Pairs (parent, d node / d parent), one per parent, from the node's row of the op table.

    The row is given the node's data and its operands' (a plain number operand as itself); with
    ``as_values`` it is given the Values themselves, so the derivatives it returns are recorded
    in the graph (for ``create_graph``). A plain number operand is no parent: its derivative is
    left out.
    """
    op = node.op
    assert op is not None, "a leaf has no local derivatives"
    operands = node.operands
    if as_values:
        derivatives = op.partials(node, *operands)
    else:
        derivatives = op.partials(node.data, *[_data(x) for x in operands])
    return [(x, d) for x, d in zip(operands, derivatives) if isinstance(x, Value)]


def _data(x: Value | float) -> float:
    return x.data if isinstance(x, Value) else x


def _chain_rule(order: list[Value], seed: Any, create_graph: bool) -> None:
    """Set every node's ``grad`` to d root / d node, for the graph ``order`` (root last)."""
    for node in order:
        node.grad = 0.0
    order[-1].grad = seed
    observer = mode.state.observer
    for node in reversed(order):
        if node.op is None:
            continue
        for parent, d in local_derivatives(node, create_graph):
            parent.grad += node.grad * d  # the chain rule: dL/dparent += dL/dnode * dnode/dparent
            if observer is not None:
                observer.on_backward(node, parent, d)


def _recording_if(create_graph: bool) -> ExitStack:
    """With ``create_graph``, record the backward pass (even inside ``no_grad``, as PyTorch
    does), with derivative rules giving inf at poles; otherwise record nothing."""
    stack = ExitStack()
    if create_graph:
        stack.enter_context(mode.enable_grad())
        stack.enter_context(mode.lenient())
    else:
        stack.enter_context(mode.no_grad())
    return stack


def _seed(gradient: object, create_graph: bool, where: str) -> Any:
    if isinstance(gradient, Value):
        return gradient if create_graph else gradient.data
    return to_float(gradient, where)


def _is_zero(grad: Any) -> bool:
    return grad is None or (isinstance(grad, (int, float)) and grad == 0.0)


def _put_back(order: list[Value], saved: list[Any]) -> None:
    """Give every node of ``order`` back its grad from ``saved``; a second interrupt waits."""
    done = 0
    while done < len(order):
        try:
            while done < len(order):
                order[done].grad = saved[done]
                done += 1
        except BaseException:  # Ctrl-C again: finish putting back first, then go on
            continue


def backward(root: Value, gradient: Operand = 1.0, *, create_graph: bool = False) -> None:
    """Backpropagate from ``root``; ``root.backward(...)`` calls this.

    Every node's grad starts this call at zero, so interior nodes are recomputed; each leaf
    then adds this call's gradient to what it held before, in one addition (as PyTorch's
    AccumulateGrad does), so that two calls give exactly twice one call's gradient.

    Example:
        >>> x = Value(3.0)
        >>> backward(x * x, 2.0)
        >>> x.grad
        12.0
    """
    if not isinstance(root, Value):
        raise TypeError(f"backward: expected a Value, got {type(root).__name__}")
    seed = _seed(gradient, create_graph, "backward")
    order = topological_order(root)
    saved = [node.grad for node in order]
    try:
        with _recording_if(create_graph):
            _chain_rule(order, seed, create_graph)
            for node, before in zip(order, saved):
                if node.op is None and not _is_zero(before):
                    node.grad = before + node.grad  # leaves accumulate across calls
    except BaseException:
        _put_back(order, saved)  # a failed or interrupted call changes nothing
        raise


def gradients(
    output: Value,
    inputs: Iterable[Value],
    gradient: Operand = 1.0,
    *,
    create_graph: bool = False,
) -> tuple[Any, ...]:
    """Gradients of ``output`` with respect to ``inputs``, leaving every ``grad`` as it was.

    Unlike ``backward`` this accumulates nothing: it is the building block of the functional
    API, where nested differentiation must not see another level's gradients.

    Args:
        output: The node to differentiate.
        inputs: The nodes to differentiate with respect to (any iterable); an input that
            ``output`` does not depend on gets 0.0.
        gradient: The upstream gradient to seed with.
        create_graph: Return differentiable Values instead of floats (recorded even inside
            ``no_grad``).

    Returns:
        A tuple with one gradient per input, in order.

    Example:
        >>> x = Value(3.0)
        >>> y = x * x
        >>> gradients(y, [x]), x.grad
        ((6.0,), 0.0)
    """
    if not isinstance(output, Value):
        raise TypeError(f"gradients: output must be a Value, got {type(output).__name__}")
    wanted = tuple(inputs)
    for x in wanted:
        if not isinstance(x, Value):
            raise TypeError(f"gradients: inputs must be Values, got {type(x).__name__}")
    seed = _seed(gradient, create_graph, "gradients")
    order = topological_order(output)
    saved = [node.grad for node in order]
    try:
        with _recording_if(create_graph):
            _chain_rule(order, seed, create_graph)
        found = {node: node.grad for node in order}
    finally:
        _put_back(order, saved)
    return tuple(found.get(x, 0.0) for x in wanted)


# ----------------------------------------------------------------------------------------------
# 4. Looking at the chain rule


def partials(node: Value) -> tuple[float, ...]:
    """The local derivatives d node / d parent, one per parent, in ``node.parents`` order.

    These are the numbers the chain rule multiplies along each edge; drawings label edges with
    them and ``explain`` prints them. A leaf has none.

    Example:
        >>> a, b = Value(3.0), Value(4.0)
        >>> partials(a * b)
        (4.0, 3.0)
    """
    if node.op is None:
        return ()
    with mode.no_grad():
        return tuple(to_float(d, node.op.name) for _, d in local_derivatives(node))


@dataclass(frozen=True)
class ChainRuleStep:
    """One application of the chain rule: ``node`` sends ``contribution`` to its parent.

    Attributes:
        node: The node whose gradient is being passed back.
        index: Which of ``node.parents`` receives it (``a * a`` has two edges to ``a``).
        parent: ``node.parents[index]``.
        upstream: ``node``'s gradient, d output / d node.
        local: The local derivative d node / d parent.
        contribution: ``upstream * local``, what the parent receives along this edge.
        total: The parent's gradient after adding it: the running sum over its edges.
    """

    node: Value
    index: int
    parent: Value
    upstream: float
    local: float
    contribution: float
    total: float


def chain_rule_steps(root: Value, gradient: Operand = 1.0) -> list[ChainRuleStep]:
    """Every step of ``backward``'s loop from ``root``, in order, touching no ``grad``.

    The steps are recorded from the engine's own loop (by an observer), so they are exactly
    what ``backward`` does: drawings and the explorer page step through them.

    Example:
        >>> x = Value(3.0, label="x")
        >>> steps = chain_rule_steps(x * x)
        >>> [(s.index, s.contribution, s.total) for s in steps]
        [(0, 3.0, 3.0), (1, 3.0, 6.0)]
    """
    steps: list[ChainRuleStep] = []
    recorder = _StepRecorder(steps, mode.state.observer)
    with mode.observing(recorder):
        gradients(root, (), gradient)
    return steps


class _StepRecorder:
    """An observer that writes down each chain-rule step, and passes everything on."""

    def __init__(self, steps: list[ChainRuleStep], inner: mode.GraphObserver | None) -> None:
        self.steps = steps
        self.inner = inner
        self.sent: dict[Value, int] = {}

    def on_create(self, node: Value) -> None:
        if self.inner is not None:
            self.inner.on_create(node)

    def on_backward(self, node: Value, parent: Value, local: Any) -> None:
        index = self.sent.get(node, 0)  # the loop sends to a node's parents in order
        self.sent[node] = index + 1
        upstream = float(node.grad)
        self.steps.append(
            ChainRuleStep(
                node, index, parent, upstream, float(local), upstream * float(local),
                float(parent.grad),
            )
        )
        if self.inner is not None:
            self.inner.on_backward(node, parent, local)


# The fenced fast path for Value.backward (read its docstring). Imported last, as it builds on
# the definitions above.
from autodiff import _fast  # noqa: E402
