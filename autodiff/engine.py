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

import html
import operator
from collections import deque
from collections.abc import Callable, Iterable
from itertools import repeat
from typing import TYPE_CHECKING, Any, Union

from autodiff import mode
from autodiff.coerce import is_array, number, to_float
from autodiff.ops import OPS, Op

__all__ = [
    "Number",
    "Operand",
    "Value",
    "apply",
    "backward",
    "gradients",
    "partials",
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
    # every node, a third of its size. The number lives in ``_data``, behind ``data``.
    __slots__ = ("__weakref__", "_data", "_first", "_label", "_second", "grad", "op")

    _data: float
    grad: Any
    op: Op | None
    _label: str
    _first: Value | float | None
    _second: Value | float | None

    # == and hash stay object identity, so a Value works as a dict key and in a set.

    def __init__(self, data: object, label: str = "") -> None:
        self._data = to_float(data, "Value")
        self.grad = 0.0
        self.label = label
        self.op = None
        self._first = None
        self._second = None

    # -- what the node is -----------------------------------------------------------------

    if TYPE_CHECKING:  # what the property below is, for type checkers

        @property
        def data(self) -> float:
            """The number, a Python float; setting any other number stores it as one."""

        @data.setter
        def data(self, number: object) -> None: ...

    else:
        # Reading ``data`` reads the slot (``attrgetter`` is C, as fast as the slot itself);
        # setting it coerces the number as ``Value(...)`` does, so data is always a float.
        data = property(
            operator.attrgetter("_data"),
            lambda self, number: setattr(self, "_data", to_float(number, "Value.data")),
            doc="The number, a Python float; setting any other number stores it as one.",
        )

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

    def _repr_html_(self) -> str:
        """How a notebook shows the node: label, data, grad and op, rounded for people."""
        grad = self.grad.data if isinstance(self.grad, Value) else self.grad
        parts = [html.escape(self._label) or "Value", f"data {_rounded(self.data)}"]
        parts += [f"grad {_rounded(grad)}", f"op {self.op.name}" if self.op else "leaf"]
        return f'<code title="{html.escape(repr(self))}">{" · ".join(parts)}</code>'

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
        """The rectifier: x where x > 0, else 0. Its slope at 0 is defined as 0; NaN stays NaN."""
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
                differentiable Value (for higher-order gradients); interior nodes keep the
                number. This records even inside ``no_grad``. Each leaf's grad then refers back
                to the leaf, as in PyTorch: set ``x.grad = None`` when done, to free that
                graph without the cycle collector.

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

    # -- copying and pickling: along the graph without recursion (autodiff/_copying.py) ------

    def __copy__(self) -> Value:
        return _copying.shallow_copy(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> Value:
        return _copying.deep_copy(self, memo)

    def __reduce__(self) -> tuple[Any, ...]:
        return _copying.reduce(self)

    def __setstate__(self, state: dict[str, Any]) -> None:
        _copying.set_state(self, state)


class _ManyOperands(Value):
    """A node of a custom op with three or more operands: the third and later live in ``_rest``."""

    __slots__ = ("_rest",)

    _rest: tuple[Value | float, ...]

    @property
    def operands(self) -> tuple[Value | float, ...]:
        return (self._first, self._second, *self._rest)  # type: ignore[arg-type]


def _rounded(x: object) -> str:
    return f"{x:.4g}" if isinstance(x, float) else html.escape(repr(x))


def _compare(test: Callable[[float, float], bool], value: Value, other: object, sign: str) -> bool:
    if is_array(other):
        return NotImplemented  # type: ignore[no-any-return]  # numpy compares element-wise
    number = other.data if isinstance(other, Value) else to_float(other, sign)
    return test(value.data, number)


# ----------------------------------------------------------------------------------------------
# Making nodes: the one function every operation goes through.


def _operation_name(op: Op) -> str:
    return "pow" if op is POW_VALUE else op.name  # the user wrote **, whatever the exponent


def _apply(op: Op, first: object, second: object = None, rest: tuple[object, ...] = ()) -> Value:
    """Make the node for ``op`` applied to its operands: the one place nodes are made.

    Each operand is a Value or a plain number, which is coerced to a float (numpy's float32
    and int64 are computed in float64). A numpy array gives NotImplemented instead, so that
    numpy broadcasts the operation over it, element by element. A forward rule's error is
    raised again naming the operation and the operands' labels.
    """
    if isinstance(first, Value):
        x = first._data
    elif type(first) is float:
        x = first
    else:
        x = first = number(first, _operation_name(op))
        if x is NotImplemented:
            return NotImplemented  # type: ignore[no-any-return]
    if second is None:
        if op.arity != 1:  # the user wrote ``x + None``
            to_float(None, _operation_name(op))  # raises, naming the operation
    elif isinstance(second, Value):
        y = second._data
    elif type(second) is float:
        y = second
    else:
        y = second = number(second, _operation_name(op))
        if y is NotImplemented:
            return NotImplemented  # type: ignore[no-any-return]
    if not rest and (not mode.special_threads or mode.state.plain):  # the common case
        try:
            data = op.forward(x) if second is None else op.forward(x, y)
        except (ValueError, ZeroDivisionError, OverflowError) as error:
            raise _named(error, op, (first, second)) from None
        node: Value = _new(Value)
        node._data = data
        node.grad = 0.0
        node.op = op
        node._label = ""
        node._first = first
        node._second = second
        return node
    # Inside no_grad (a plain leaf), with an observer (told of the node), while the engine
    # takes a derivative rule (inf at a pole, not an error), or with three operands or more.
    state = mode.state
    operands: tuple[Any, ...] = tuple(o for o in (first, second, *rest) if o is not None)
    forward = op.lenient if state.lenient and op.lenient is not None else op.forward
    try:
        data = forward(*[o.data if isinstance(o, Value) else o for o in operands])
    except (ValueError, ZeroDivisionError, OverflowError) as error:
        raise _named(error, op, operands) from None
    if not state.recording:
        return Value(data)
    node = _new(_ManyOperands if len(operands) > 2 else Value)
    node._data, node.grad, node.op, node._label = data, 0.0, op, ""
    node._first, node._second = operands[0], operands[1] if len(operands) > 1 else None
    if len(operands) > 2:
        node._rest = operands[2:]  # type: ignore[attr-defined]
    if state.observer is not None:
        state.observer.on_create(node)
    return node


_new = object.__new__  # a node without running __init__: _apply sets every slot itself


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
    """Apply any op-table row, built in or custom, to Values or numbers (any number of them).

    Example:
        >>> apply(OPS["mul"], Value(2.0), 5).data
        10.0
    """
    if len(operands) != op.arity:
        raise TypeError(f"{op.name}: takes {op.arity} operand(s), got {len(operands)}")
    coerced = [x if isinstance(x, Value) else number(x, op.name) for x in operands]
    if NotImplemented in coerced:
        raise TypeError(f"{op.name}: operands must be Values or numbers, not arrays")
    second = coerced[1] if len(coerced) > 1 else None
    return _apply(op, coerced[0], second, tuple(coerced[2:]))


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
    return [(x, d) for x, d in zip(operands, derivatives, strict=True) if isinstance(x, Value)]


def _data(x: Value | float) -> float:
    return x.data if isinstance(x, Value) else x


# --8<-- [start:chain_rule] (docs/concepts/chain-rule.md shows this function)
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
    # --8<-- [end:chain_rule]


def _recording_if(create_graph: bool) -> dict[str, Any]:
    """Switch on what the backward pass needs; ``mode.restore`` the result when done.

    With ``create_graph`` the pass is recorded (even inside ``no_grad``, as PyTorch does) and
    derivative rules give inf at poles; plain backward works on floats only and switches
    nothing. (Switched by hand, not by a ``with``: a Ctrl-C landing on a context manager's own
    ``__exit__`` would skip it, while ``restore`` in a ``finally`` cannot be skipped.)
    """
    return mode.switch(recording=True, lenient=True) if create_graph else {}


def _seed(gradient: object, create_graph: bool, where: str) -> Any:
    if isinstance(gradient, Value):
        return gradient if create_graph else gradient.data
    return to_float(gradient, where)


def _is_zero(grad: Any) -> bool:
    return grad is None or (not isinstance(grad, Value) and grad == 0)


def _number(grad: Any) -> Any:
    """A grad someone set by hand to an int or a numpy number, as a float (a Value stays)."""
    return grad if type(grad) is float or isinstance(grad, Value) else to_float(grad, "backward")


def _put_back(nodes: list[Value], grads: list[Any]) -> None:
    """Give each node back its grad from ``grads``.

    The loop runs inside C (``map`` over ``setattr``), so a second Ctrl-C cannot stop it half
    way: Python only checks for signals between its own instructions.
    """
    deque(map(setattr, nodes, repeat("grad"), grads), maxlen=0)


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
    with mode.deferred_signals():  # Ctrl-C waits for the end, so it can't cut the loop short
        previous = _recording_if(create_graph)
        try:
            _chain_rule(order, seed, create_graph)
            for node, before in zip(order, saved, strict=True):
                if node.op is not None:
                    if create_graph:  # an interior node keeps the number: as a Value
                        node.grad = _data(node.grad)  # its graph would refer back to it
                elif not _is_zero(before):
                    node.grad = _number(before) + node.grad  # leaves accumulate
        except BaseException:
            _put_back(order, saved)  # a failed call changes nothing
            raise
        finally:
            mode.restore(previous)


def gradients(
    output: Value,
    inputs: Value | Iterable[Value],
    gradient: Operand = 1.0,
    *,
    create_graph: bool = False,
) -> tuple[Any, ...]:
    """Gradients of ``output`` with respect to ``inputs``, leaving every ``grad`` as it was.

    Unlike ``backward`` this accumulates nothing: it is the building block of the functional
    API, where nested differentiation must not see another level's gradients.

    Args:
        output: The node to differentiate.
        inputs: The nodes to differentiate with respect to (any iterable, or one Value); an
            input that ``output`` does not depend on gets 0.0.
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
    wanted = (inputs,) if isinstance(inputs, Value) else tuple(inputs)
    for x in wanted:
        if not isinstance(x, Value):
            raise TypeError(f"gradients: inputs must be Values, got {type(x).__name__}")
    seed = _seed(gradient, create_graph, "gradients")
    order = topological_order(output)
    saved = [node.grad for node in order]
    with mode.deferred_signals():  # Ctrl-C waits for the end, so it can't cut the loop short
        previous = _recording_if(create_graph)
        try:
            _chain_rule(order, seed, create_graph)
            found = {node: node.grad for node in order}
            _put_back(order, saved)
        except BaseException:
            _put_back(order, saved)  # also when the error came while putting back above
            raise
        finally:
            mode.restore(previous)
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


# Two fenced helpers of Value, imported last as they build on the definitions above: the fast
# path of Value.backward (read its docstring), and copying and pickling without recursion.
from autodiff import _copying, _fast  # noqa: E402
