"""The tape: record a graph once, replay it as a program, many times faster than building it anew.

A training step in the eager engine builds a fresh graph of ``Value`` objects and walks it
backwards; most of its time goes into making and visiting those objects. When every step builds
the *same* graph (same operations, same wiring; only the numbers differ), the graph is a
program: ``Tape`` records it once and replays it with the numbers of each step.

This module owns recording (a flat list of the graph's nodes, a structural fingerprint),
generating code from the recording, replaying it, checking a replay against the eager engine
(``verify``) and writing replayed numbers back into the graph (``sync``). It uses the engine's
public names only (``topological_order``, ``node.op``, ``node.operands``, the op rows' ``forward``
and ``partials``) and owns no op's mathematics: the code it generates for each built-in row is
the row's own rule written as an expression (``TEMPLATES``, checked against the rows by tests),
and custom rows made with ``define_op`` call their own functions.

Two backends:

* ``"python"``: straight-line Python, one line per node forward and one per edge backward, in
  the engine's own order of operations and accumulation, so every number is **bitwise equal**
  to eager's. Large graphs are split into chunks of a few thousand nodes.
* ``"numpy"``: nodes of the same shape (the per-sample copies of a model applied to 100 data
  points) are grouped into one array operation each. Sums and gradient accumulations keep
  eager's order, and exp, log, tanh, sin, cos, powers and the sigmoid run Python's own
  function lane by lane, so every number is eager's, up to the sign of a zero. A numpy tape
  keeps buffers: one thread at a time.

``"auto"`` picks numpy when the graph repeats itself (many nodes per group) and python otherwise.

What a tape cannot see, and how it says so:

* Python control flow on ``.data`` (an ``if`` on a value, a ``max`` of two Values, a number
  computed from ``.data``) is **frozen as recorded**, as in ``torch.jit.trace``: the replay takes
  the recorded branch even when the numbers would now choose another. ``Tape.trace(fn, *args)``
  keeps the function, so ``verify()`` (or ``check_every=N``) can rebuild the graph eagerly and
  compare; a graph that changed shape is refused with the first node that differs.
* It replays floats only: ``backward(create_graph=True)`` and anomaly mode
  (``autodiff.detect_anomaly``), which watch every node, are refused with an error.
* Leaves passed as ``inputs`` are the data of each replay; every other leaf is *live*: its
  ``.data`` is read at each replay and its ``.grad`` receives the gradient.

What it promises when things go wrong, as the engine does: ``backward`` is all or nothing (a
grad that is no number is refused before any is written, and Ctrl-C cannot cut the writing);
a ``forward`` that raises or is interrupted keeps the inputs of the last one that succeeded,
and ``backward`` refuses until a forward succeeds again, rather than mix two replays' numbers.

Example:
    >>> from autodiff import Value
    >>> w = Value(0.5, label="w")
    >>> x = Value(2.0, label="x")
    >>> tape = Tape((w * x - 3.0) ** 2, inputs=[x])
    >>> tape.forward()                       # (0.5 * 2 - 3)^2
    4.0
    >>> tape.backward()                      # d/dw = 2 (w x - 3) x
    >>> w.grad
    -8.0
    >>> tape.forward([4.0])                  # another x: (0.5 * 4 - 3)^2
    1.0
"""

from __future__ import annotations

import contextvars
import functools
import gc
import hashlib
import math
import numbers
import operator
import re
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import Any, Final, Literal, Union

from autodiff.coerce import to_float
from autodiff.engine import Value, gradients, topological_order
from autodiff.mode import deferred_signals, is_observed
from autodiff.ops import OPS, Op, power

__all__ = ["POWER_TEMPLATES", "TEMPLATES", "Backend", "Tape", "Template"]

Backend = Literal["auto", "python", "numpy"]
"""Which replay to generate: straight-line Python, numpy over groups, or the tape's choice."""

InputValues = Union[Sequence[object], Mapping[Union[Value, str], object], None]
"""New numbers for the inputs: in ``inputs`` order, or by input Value or label."""

_CHUNK: Final = 2_000  # nodes per generated Python function: compile time grows faster than size
_MIN_LANES: Final = 8  # "auto" picks numpy when groups average at least this many nodes


# ----------------------------------------------------------------------------------------------
# The templates: each built-in row's forward rule and local derivatives, as code to generate.


@dataclass(frozen=True)
class Template:
    """The code the tape generates for one built-in row of the op table.

    Placeholders: ``{0}``, ``{1}`` are the operands (a variable or a number), ``{out}`` the
    node's own value. The names the expressions use (``_exp``, ``_where``...) are bound to
    ``math`` functions in generated Python and to numpy's in generated numpy code.

    Attributes:
        forward: The forward rule, for Python (bitwise the row's ``forward`` where it does not
            raise).
        partials: One local derivative per operand, for Python: bitwise the row's
            ``partials``.
        numpy_forward: The forward rule over arrays (None: the same text as ``forward``).
        numpy_partials: The local derivatives over arrays (None: the same as ``partials``).
        trouble: An expression over arrays that is True when some lane may be outside the
            row's domain (eager would raise there): the replay then runs the reference path,
            which raises the engine's error, or confirms there is none. None: never raises.
    """

    forward: str
    partials: tuple[str, ...]
    numpy_forward: str | None = None
    numpy_partials: tuple[str, ...] | None = None
    trouble: str | None = None

    def python_forward(self, *operands: float) -> float:
        """Evaluate the generated Python forward on numbers, as a replay does.

        Example:
            >>> TEMPLATES["relu"].python_forward(-2.0)
            0.0
        """
        return float(_evaluate(self.forward, _python_names(), operands, None))

    def python_partials(self, out: float, *operands: float) -> tuple[float, ...]:
        """Evaluate the generated Python local derivatives, one per operand.

        Example:
            >>> TEMPLATES["mul"].python_partials(12.0, 3.0, 4.0)
            (4.0, 3.0)
        """
        names = _python_names()
        return tuple(float(_evaluate(p, names, operands, out)) for p in self.partials)

    def array_forward(self, *operands: Any) -> Any:
        """Evaluate the generated numpy forward on arrays (one lane per element).

        Example:
            >>> import numpy as np
            >>> TEMPLATES["relu"].array_forward(np.array([-1.0, 2.0])).tolist()
            [0.0, 2.0]
        """
        return _evaluate(self.numpy_forward or self.forward, _numpy_names(), operands, None)

    def array_partials(self, out: Any, *operands: Any) -> tuple[Any, ...]:
        """Evaluate the generated numpy local derivatives on arrays, one per operand.

        Example:
            >>> import numpy as np
            >>> [d.tolist() for d in TEMPLATES["mul"].array_partials(
            ...     np.array([6.0]), np.array([2.0]), np.array([3.0]))]
            [[3.0], [2.0]]
        """
        names = _numpy_names()
        return tuple(
            _evaluate(p, names, operands, out) for p in (self.numpy_partials or self.partials)
        )


def _evaluate(template: str, names: dict[str, Any], operands: Sequence[Any], out: Any) -> Any:
    """``template`` evaluated with its operands (and ``out``) bound to the given values."""
    values = {f"_x{k}": x for k, x in enumerate(operands)}
    text = template.format(*values, out="_out")
    return eval(text, {**names, **values, "_out": out})  # our own templates


TEMPLATES: Final[dict[str, Template]] = {
    "add": Template("{0} + {1}", ("1.0", "1.0")),
    "sub": Template("{0} - {1}", ("1.0", "-1.0")),
    "mul": Template("{0} * {1}", ("{1}", "{0}")),
    "div": Template("{0} / {1}", ("1.0 / {1}", "-{out} / {1}"), trouble="_any({1} == 0.0)"),
    "neg": Template("-{0}", ("-1.0",)),
    # pow's exponent is a number; generic forms here, x ** 2 and x ** 0 are specialised below.
    "pow": Template(
        "_pow({0}, {1})",
        ("{1} * _power({0}, {1} - 1.0)", "0.0"),
        numpy_forward="_power({0}, {1})",
        trouble="not _all(_isfinite({out}))",
    ),
    "pow_value": Template(
        "_pow_value({0}, {1})",
        ("_d_pow_value({out}, {0}, {1})[0]", "_d_pow_value({out}, {0}, {1})[1]"),
        numpy_forward="_power({0}, {1})",
        trouble="_any({0} < 0.0) or not _all(_isfinite({out}))",
    ),
    "exp": Template("_exp({0})", ("{out}",), trouble="_any(_isinf({out}))"),
    "log": Template("_log({0})", ("1.0 / {0}",), trouble="_any({0} <= 0.0)"),
    "sigmoid": Template("_sigmoid({0})", ("{out} * (1.0 - {out})",)),
    "tanh": Template("_tanh({0})", ("1.0 - {out} * {out}",)),
    "relu": Template(
        "(0.0 if {0} <= 0.0 else {0})",
        ("(0.0 if {0} <= 0.0 else 1.0)",),
        numpy_forward="_where({0} <= 0.0, 0.0, {0})",
        numpy_partials=("_where({0} <= 0.0, 0.0, 1.0)",),
    ),
    "abs": Template(
        "abs({0})",
        ("(1.0 if {0} > 0.0 else -1.0 if {0} < 0.0 else 0.0 if {0} == 0.0 else _nan)",),
        numpy_forward="_abs({0})",
        numpy_partials=("_sign({0})",),
    ),
    "sin": Template("_sin({0})", ("_cos({0})",), trouble="_any(_isinf({0}))"),
    "cos": Template("_cos({0})", ("-_sin({0})",), trouble="_any(_isinf({0}))"),
}
"""The generated code for every built-in row, by row name (tests check each against its row)."""

# pow with a number exponent, specialised as the row itself is: x * x for the square.
_SQUARE = Template("{0} * {0}", ("2.0 * {0}", "0.0"), trouble="not _all(_isfinite({out}))")
_POWER_ZERO = Template("_pow({0}, {1})", ("0.0", "0.0"), numpy_forward="_power({0}, {1})")

POWER_TEMPLATES: Final[dict[float, Template]] = {2.0: _SQUARE, 0.0: _POWER_ZERO}
"""The code generated for ``x ** c`` at the exponents the pow row itself treats apart."""


def _template(op: Op, exponent: float | None) -> Template | None:
    """The template for a node of ``op`` (None for a custom row), specialised for ``x ** c``."""
    if TEMPLATES.get(op.name) is None or OPS.get(op.name) is not op:
        return None  # a custom row (define_op): it calls its own functions
    if op.name == "pow" and exponent == 2.0:
        return _SQUARE
    if op.name == "pow" and exponent == 0.0:
        return _POWER_ZERO
    return TEMPLATES[op.name]


def _python_names() -> dict[str, Any]:
    """What the Python templates' names mean: the math module and the rows' own functions."""
    return {
        "_exp": math.exp,
        "_log": math.log,
        "_tanh": math.tanh,
        "_sin": math.sin,
        "_cos": math.cos,
        "_nan": math.nan,
        "_inf": math.inf,
        "_power": power,
        "_pow": OPS["pow"].forward,
        "_pow_value": OPS["pow_value"].forward,
        "_sigmoid": OPS["sigmoid"].forward,
        "_d_pow_value": OPS["pow_value"].partials,
    }


def _numpy_names() -> dict[str, Any]:
    """What the numpy templates' names mean.

    + - * / are numpy's, which round as Python does. The functions whose last bit numpy may
    round otherwise than Python's ``math`` (exp, log, tanh, sin, cos, powers, the sigmoid) run
    Python's own function lane by lane, so a lane holds eager's number to the bit: a last-bit
    difference would grow through a derivative such as tanh's ``1 - out * out`` near +-1.
    """
    import numpy as np

    def lanewise(exact: Callable[..., Any], fallback: Callable[..., Any]) -> Callable[..., Any]:
        def apply(*args: Any) -> Any:
            try:
                if len(args) == 1 and type(args[0]) is np.ndarray:  # the common case
                    (x,) = args
                    numbers = map(exact, x.ravel().tolist())
                    return np.fromiter(numbers, dtype=float, count=x.size).reshape(x.shape)
                if not any(isinstance(a, np.ndarray) for a in args):
                    return exact(*args)
                lanes = np.broadcast_arrays(*args)
                numbers = map(exact, *(lane.ravel().tolist() for lane in lanes))
                size = lanes[0].size
                return np.fromiter(numbers, dtype=float, count=size).reshape(lanes[0].shape)
            except (ValueError, OverflowError, ZeroDivisionError):
                # Outside the row's domain: numpy's nan or inf goes on to the template's
                # trouble check, which replays the step eagerly to raise eager's error.
                return fallback(*args)

        return apply

    def sigmoid_numpy(x: Any) -> Any:
        z = np.exp(-np.abs(x))
        return np.where(x >= 0.0, 1.0 / (1.0 + z), z / (1.0 + z))

    def pow_value_partials_numpy(out: Any, x: Any, y: Any) -> tuple[Any, Any]:
        at_zero = x == 0.0
        safe_x = np.where(at_zero, 1.0, x)
        dx = np.where(
            at_zero,
            np.where(y == 2.0, 2.0 * x, np.where(y == 0.0, 0.0, y * np.power(x, y - 1.0))),
            y * np.power(x, y - 1.0),
        )
        return dx, np.where(at_zero, 0.0, out * np.log(safe_x))

    partials = OPS["pow_value"].partials
    d_x = lanewise(
        lambda out, x, y: partials(out, x, y)[0], lambda *a: pow_value_partials_numpy(*a)[0]
    )
    d_y = lanewise(
        lambda out, x, y: partials(out, x, y)[1], lambda *a: pow_value_partials_numpy(*a)[1]
    )

    def pow_value_partials(out: Any, x: Any, y: Any) -> tuple[Any, Any]:
        return d_x(out, x, y), d_y(out, x, y)

    exp = lanewise(math.exp, np.exp)
    log = lanewise(math.log, np.log)
    sigmoid = lanewise(OPS["sigmoid"].forward, sigmoid_numpy)
    return {
        "_exp": exp,
        "_log": log,
        "_tanh": lanewise(math.tanh, np.tanh),
        "_sin": lanewise(math.sin, np.sin),
        "_cos": lanewise(math.cos, np.cos),
        "_abs": np.abs,
        "_sign": np.sign,
        "_where": np.where,
        "_power": lanewise(power, np.power),
        "_isfinite": np.isfinite,
        "_isinf": np.isinf,
        "_any": np.any,
        "_all": np.all,
        "_nan": math.nan,
        "_inf": math.inf,
        "_sigmoid": sigmoid,
        "_d_pow_value": pow_value_partials,
        "_add": np.add,
        "_subtract": np.subtract,
        "_multiply": np.multiply,
        "_divide": np.divide,
        "_accumulate": np.add.accumulate,
        "_put_back": _put_grads_back,
        "_np": np,
    }


def _put_grads_back(leaves: Sequence[Value], grads: Sequence[Any]) -> None:
    """Give each leaf back its grad: a loop inside C, which no Ctrl-C handler interrupts."""
    deque(map(setattr, leaves, repeat("grad"), grads), maxlen=0)


def _literal(x: float) -> str:
    """A float as Python source that evaluates to exactly it."""
    if math.isnan(x):
        return "_nan"
    if math.isinf(x):
        return "_inf" if x > 0 else "(-_inf)"
    return f"({x!r})" if x < 0 or (x == 0.0 and math.copysign(1.0, x) < 0) else repr(x)


# ----------------------------------------------------------------------------------------------
# The recording: the graph as flat records, in topological order.

_LIVE, _INPUT = "live", "input"


class _Node:
    """One recorded node: a leaf (live or input) or an operation on earlier nodes and numbers.

    ``operands`` holds, per operand, ``("n", position)`` for a Value or ``("l", number)``.
    """

    __slots__ = ("leaf", "op", "operands", "slot")

    def __init__(
        self, op: Op | None, operands: tuple[tuple[str, Any], ...], leaf: str = "", slot: int = 0
    ) -> None:
        self.op = op
        self.operands = operands
        self.leaf = leaf  # _LIVE or _INPUT for a leaf
        self.slot = slot  # a leaf's index among the live leaves or the inputs

    def shape(self) -> tuple[Any, ...]:
        """What the fingerprint records: the op, the wiring, the numbers and which leaf is which.

        A leaf is recorded with its slot among the tape's live leaves or inputs, so that a
        graph fed by another leaf (a branch on ``.data`` that picks ``b`` instead of ``a``) is
        another shape, although every number may be the same.
        """
        if self.op is None:
            return (self.leaf, self.slot)
        return (self.op.name, *[(kind, _key(x)) for kind, x in self.operands])


def _key(x: Any) -> Any:
    return x if not isinstance(x, float) else (repr(x) if math.isnan(x) else x)


def _describe(node: Value, position: int) -> str:
    name = node.op.name if node.op is not None else "leaf"
    label = f" {node.label!r}" if node.label else ""
    return f"node #{position} ({name}{label})"


_NEW_LEAF: Final = -1  # the slot of a leaf that none of a tape's recorded leaves stands for


def _record(
    loss: Value, inputs: Sequence[Value], like: Tape | None = None
) -> tuple[list[Value], list[_Node], list[Value]]:
    """The graph's nodes in topological order, their records and the live leaves.

    With ``like`` (a tape), the graph is recorded against that tape's leaves, to compare with
    it: a live leaf gets its slot in ``like.parameters``, and a leaf that is not one of them
    (another Value, or one the function makes afresh at each call) gets ``_NEW_LEAF``, which
    no recording has: the replay would not send its gradient where eager sends it.
    """
    order = topological_order(loss)
    position = {node: i for i, node in enumerate(order)}
    input_slot = {x: k for k, x in enumerate(inputs)}
    live: list[Value] = []
    records: list[_Node] = []
    append = records.append
    known: dict[Value, int] = {}
    if like is not None:
        known = {leaf: k for k, leaf in enumerate(like.parameters)}
    for node in order:
        op = node.op
        if op is None:
            if node in input_slot:
                append(_Node(None, (), _INPUT, input_slot[node]))
            else:
                slot = len(live) if like is None else known.get(node, _NEW_LEAF)
                append(_Node(None, (), _LIVE, slot))
                live.append(node)
            continue
        operands = tuple(
            [("n", position[x]) if isinstance(x, Value) else ("l", x) for x in node.operands]
        )
        append(_Node(op, operands))
    return order, records, live


def _first_difference(old: Sequence[_Node], new: Sequence[_Node]) -> int | None:
    """The first position where two recordings differ in shape, or None if they do not."""
    for i, (a, b) in enumerate(zip(old, new, strict=False)):
        if a.op is not b.op or a.leaf != b.leaf or a.shape() != b.shape():
            return i
    return None if len(old) == len(new) else min(len(old), len(new))


def _fingerprint(records: Sequence[_Node]) -> str:
    digest = hashlib.blake2b(digest_size=16)
    for record in records:
        digest.update(repr(record.shape()).encode())
    return digest.hexdigest()


# ----------------------------------------------------------------------------------------------
# The reference replay: the engine's own loop over the records (exact, slow, names errors).


def _reference_forward(
    records: Sequence[_Node], order: Sequence[Value], live: Sequence[float], given: Sequence[float]
) -> list[float]:
    """Every node's number, computed as ``_apply`` computes it; errors name the node."""
    values: list[float] = []
    for i, record in enumerate(records):
        if record.op is None:
            values.append(live[record.slot] if record.leaf == _LIVE else given[record.slot])
            continue
        numbers = [values[x] if kind == "n" else x for kind, x in record.operands]
        try:
            values.append(record.op.forward(*numbers))
        except (ValueError, ZeroDivisionError, OverflowError) as error:
            raise type(error)(f"tape: {_located(error, order, i)}") from None
    return values


def _located(error: Exception, order: Sequence[Value], i: int) -> str:
    """An op's error as eager words it, with where it happened: labels near node ``i``.

    Eager names the operation and its labelled operands; a tape adds the node's own label,
    or, when neither it nor an operand has one, the nearest labelled nodes it is computed
    from, and its position (``tape.source`` numbers its variables by position).
    """
    node = order[i]
    assert node.op is not None
    name = "pow" if node.op.name == "pow_value" else node.op.name  # the user wrote **
    message = str(error)
    if not message.startswith(name):
        message = f"{name}: {message}"
    where = [f"node {node.label!r}"] if node.label else []
    labels = [repr(x.label) for x in node.operands if isinstance(x, Value) and x.label]
    if labels:
        where.append(f"operand {', '.join(labels)}")
    elif not node.label:
        nearest = _nearest_labels(node)
        if nearest:
            where.append(f"computed from {', '.join(nearest)}")
    where.append(f"node #{i}")
    return f"{message} ({'; '.join(where)})"


def _nearest_labels(node: Value, limit: int = 10_000) -> list[str]:
    """The labels of the nearest labelled nodes under ``node``, breadth first (at most three).

    Only for an error's message: it looks at ``limit`` nodes at most, so a huge unlabelled
    graph costs no more than a few milliseconds.
    """
    seen = {node}
    level = [node]
    looked = 0
    while level and looked < limit:
        following: list[Value] = []
        found: list[str] = []
        for current in level:
            for x in current.operands:
                if isinstance(x, Value) and x not in seen:
                    seen.add(x)
                    looked += 1
                    if x.label:
                        found.append(repr(x.label))
                    following.append(x)
        if found:
            return found[:3]
        level = following
    return []


def _reference_backward(
    records: Sequence[_Node], values: Sequence[float], seed: float
) -> list[float]:
    """Every node's gradient for this call, accumulated exactly as the engine's backward."""
    grads = [0.0] * len(records)
    grads[-1] = seed
    for i in range(len(records) - 1, -1, -1):
        record = records[i]
        if record.op is None:
            continue
        numbers = [values[x] if kind == "n" else x for kind, x in record.operands]
        derivatives = record.op.partials(values[i], *numbers)
        g = grads[i]
        for (kind, x), d in zip(record.operands, derivatives, strict=False):
            if kind == "n":
                grads[x] += g * d  # the chain rule, in the engine's order
    return grads


_VARIABLE: Final = re.compile(r"\bv(\d+)\b")
_ASSIGNED_VIEW: Final = re.compile(r"^(\s*_[VG]\d+_\d+r?) =", re.MULTILINE)
_SCALAR_TOKEN: Final = re.compile(r"__s(\d+)__")
_SLICE: Final = re.compile(r"\b([VG])\[(\d+):(\d+)(:-1)?\]")


class _BadLaneError(Exception):
    """Raised by generated code when a lane may be outside its row's domain."""


# ----------------------------------------------------------------------------------------------
# The Python backend: straight-line code in chunks.


class _PythonReplay:
    """Generated Python for forward and backward, bitwise equal to the engine."""

    reads_leaves = False  # forward is handed the live leaves' numbers

    def __init__(
        self, records: Sequence[_Node], transparent: Sequence[bool], watched: Sequence[int]
    ) -> None:
        self.records = records
        n = len(records)
        self.live_positions = [i for i, r in enumerate(records) if r.op is None and r.leaf == _LIVE]
        names = _python_names()
        self.namespace = names
        # What backward needs from forward, per node: its own value, its operands' values.
        needs_value = [False] * n
        for i in watched:
            needs_value[i] = True
        plans: list[tuple[Template | None, list[str]]] = []
        for i, record in enumerate(records):
            if record.op is None:
                plans.append((None, []))
                continue
            exponent = record.operands[1][1] if record.op.name == "pow" else None
            template = _template(record.op, exponent)
            parts = list(template.partials) if template else []
            plans.append((template, parts))
            if template is None:
                needs_value[i] = True
                for kind, x in record.operands:
                    if kind == "n":
                        needs_value[x] = True
                continue
            for slot, (kind, _) in enumerate(record.operands):
                if kind != "n":
                    continue  # a number gets no gradient: its local derivative is not needed
                text = parts[slot]
                if "{out}" in text:
                    needs_value[i] = True
                for other, (other_kind, y) in enumerate(record.operands):
                    if other_kind == "n" and "{" + str(other) + "}" in text:
                        needs_value[y] = True
        self.plans = plans
        self.source_lines: list[str] = []
        self.forward_chunks = self._forward_chunks(needs_value, transparent)
        self.backward_chunks = self._backward_chunks()

    # -- code generation -----------------------------------------------------------------

    def _operand(self, kind: str, x: Any) -> str:
        return f"v{x}" if kind == "n" else _literal(x)

    def _forward_line(self, i: int, record: _Node, check: bool) -> list[str]:
        template, _ = self.plans[i]
        args = [self._operand(kind, x) for kind, x in record.operands]
        if template is None:
            name = f"_f{i}"
            self.namespace[name] = record.op.forward  # type: ignore[union-attr]
            return [f"v{i} = {name}({', '.join(args)})"]
        lines = [f"v{i} = {template.forward.format(*args)}"]
        if check and template is _SQUARE:
            # x * x overflows to inf where the row raises OverflowError: hand over to the
            # reference replay, which raises it (or finds there is nothing to raise).
            lines.append(f"if v{i} - v{i} != 0.0: raise _BadLaneError")
        return lines

    def _chunk_ranges(self, count: int) -> list[range]:
        return [range(a, min(a + _CHUNK, count)) for a in range(0, count, _CHUNK)] or [range(0)]

    def _forward_chunks(
        self, needs_value: Sequence[bool], transparent: Sequence[bool]
    ) -> list[tuple[Callable[..., Any], list[int]]]:
        """Compile the forward chunks; each returns the tuple of values used outside it."""
        records = self.records
        n = len(records)
        chunk_of = [i // _CHUNK for i in range(n)]
        used_outside: list[bool] = list(needs_value)
        for i, record in enumerate(records):
            for kind, x in record.operands:
                if kind == "n" and chunk_of[x] != chunk_of[i]:
                    used_outside[x] = True
        used_outside[n - 1] = True
        self.exports: dict[int, tuple[int, int]] = {}  # position -> (chunk, index in tuple)
        chunks = []
        for c, span in enumerate(self._chunk_ranges(n)):
            body: list[str] = []
            loaded: set[int] = set()
            for i in span:
                record = records[i]
                for kind, x in record.operands:
                    if kind == "n" and chunk_of[x] != c and x not in loaded:
                        loaded.add(x)
                        chunk, index = self.exports[x]
                        body.append(f"v{x} = F[{chunk}][{index}]")
                if record.op is None:
                    source = "P" if record.leaf == _LIVE else "I"
                    body.append(f"v{i} = {source}[{record.slot}]")
                else:
                    body.extend(self._forward_line(i, record, not transparent[i]))
            exported = [i for i in span if used_outside[i]]
            for index, i in enumerate(exported):
                self.exports[i] = (c, index)
            body.append(f"return ({''.join(f'v{i}, ' for i in exported)})")
            chunks.append((self._compile(f"forward_{c}", "P, I, F", body), exported))
        return chunks

    def _backward_chunks(self) -> list[Callable[..., Any]]:
        """Compile the backward chunks: the chain rule, edge by edge, in the engine's order."""
        records = self.records
        n = len(records)
        interior = [i for i in range(n - 1, -1, -1) if records[i].op is not None]
        # Which backward chunk handles which node, and where each gradient is last touched.
        spans = [interior[a : a + _CHUNK] for a in range(0, len(interior), _CHUNK)]
        self.grad_exports: dict[int, tuple[int, int]] = {}
        chunks = []
        started: set[int] = set()
        for c, span in enumerate(spans):
            body: list[str] = []
            loaded: set[int] = set()
            touched: list[int] = []
            touched_set: set[int] = set()

            def value(x: int, loaded: set[int] = loaded, body: list[str] = body) -> str:
                if x not in loaded:
                    loaded.add(x)
                    chunk, index = self.exports[x]
                    body.append(f"v{x} = F[{chunk}][{index}]")
                return f"v{x}"

            def grad(
                x: int,
                body: list[str] = body,
                touched: list[int] = touched,
                touched_set: set[int] = touched_set,
            ) -> str:
                # The running sum of x's gradient: carried over from an earlier chunk if needed.
                if x in started and x not in touched_set:
                    chunk, index = self.grad_exports[x]
                    body.append(f"g{x} = B[{chunk}][{index}]")
                if x not in touched_set:
                    touched_set.add(x)
                    touched.append(x)
                return f"g{x}"

            for i in span:
                record = records[i]
                if i == n - 1:
                    body.append(f"g{i} = seed")
                    touched_set.add(i)
                    touched.append(i)
                else:
                    grad(i)
                template, parts = self.plans[i]
                args = [f"v{x}" if kind == "n" else _literal(x) for kind, x in record.operands]
                if any(kind == "n" for kind, _ in record.operands):
                    if template is None:
                        name = f"_d{i}"
                        self.namespace[name] = record.op.partials  # type: ignore[union-attr]
                        for kind, x in record.operands:
                            if kind == "n":
                                value(x)
                        body.append(f"d = {name}({value(i)}, {', '.join(args)})")
                        parts = [f"d[{slot}]" for slot in range(len(args))]
                    else:
                        parts = [p.format(*args, out=f"v{i}") for p in parts]
                        needed = [
                            parts[slot]
                            for slot, (kind, _) in enumerate(record.operands)
                            if kind == "n"
                        ]
                        for used in sorted({int(v) for p in needed for v in _VARIABLE.findall(p)}):
                            value(used)
                for slot, (kind, x) in enumerate(record.operands):
                    if kind != "n":
                        continue
                    d = parts[slot]
                    # g * 1.0 is g, bit for bit, so it is left out.
                    contribution = f"g{i}" if d == "1.0" else f"g{i} * ({d})"
                    target = grad(x)
                    if x in started:
                        body.append(f"{target} += {contribution}")
                    else:
                        started.add(x)
                        # A leaf's or node's gradient starts this call at 0.0, as in the engine.
                        body.append(f"{target} = 0.0 + {contribution}")
            exported = list(touched)
            for index, x in enumerate(exported):
                self.grad_exports[x] = (c, index)
            body.append(f"return ({''.join(f'g{x}, ' for x in exported)})")
            chunks.append(self._compile(f"backward_{c}", "F, B, seed", body))
        return chunks

    def _compile(self, name: str, arguments: str, body: list[str]) -> Callable[..., Any]:
        lines = [f"def {name}({arguments}):", *[f"    {line}" for line in body]]
        self.source_lines.extend([*lines, ""])
        code = compile("\n".join(lines), f"<tape {name}>", "exec")
        exec(code, self.namespace)
        function: Callable[..., Any] = self.namespace[name]
        return function

    # -- running ---------------------------------------------------------------------------

    def forward(
        self, live: Sequence[float] | None, given: Sequence[float]
    ) -> tuple[float, Any, bool]:
        assert live is not None  # reads_leaves is False: the tape hands them over
        saved: list[tuple[float, ...]] = []
        for function, _ in self.forward_chunks:
            saved.append(function(live, given, saved))
        chunk, index = self.exports[len(self.records) - 1]
        return saved[chunk][index], saved, False

    def value(self, saved: Any, i: int) -> float:
        chunk, index = self.exports[i]
        number: float = saved[chunk][index]
        return number

    def backward(self, saved: Any, seed: float, into: bool = False) -> list[float] | None:
        grads: list[tuple[float, ...]] = []
        for function in self.backward_chunks:
            grads.append(function(saved, grads, seed))
        out = []
        for x in self.live_positions:
            where = self.grad_exports.get(x)
            out.append(seed if where is None else grads[where[0]][where[1]])
        return out


# ----------------------------------------------------------------------------------------------
# The numpy backend: nodes of the same shape grouped into array operations.


@dataclass
class _Group:
    """Nodes of one shape: the same row applied to operands of the same kinds, as lanes."""

    op: Op | None  # None: a sum (a chain of adds)
    kinds: tuple[Any, ...]
    members: list[int]
    start: int = 0  # where the lanes' values live in V
    exponent: float | None = None


class _NumpyReplay:
    """Generated numpy for forward and backward over groups of same-shaped nodes."""

    reads_leaves = True  # forward reads the live leaves' numbers itself (its P is ignored)

    def __init__(
        self,
        records: Sequence[_Node],
        transparent: Sequence[bool],
        watched: Sequence[int],
        leaves: Sequence[Value],
        input_count: int,
    ) -> None:
        import numpy as np

        self.np = np
        self.records = records
        n = len(records)
        consumers = [0] * n
        for record in records:
            for kind, x in record.operands:
                if kind == "n":
                    consumers[x] += 1
        for i in watched:
            consumers[i] += 1  # a watched sum is read: it is never absorbed into a longer one
        # 1. Chains of additions become one sum each: an add used once, by an add, is absorbed
        #    into it. Terms are kept in the engine's order of evaluation, with the node that
        #    added each term (its position orders the term's gradient as the engine does).
        add = OPS["add"]
        absorbed = [False] * n
        terms: dict[int, list[tuple[tuple[str, Any], int]]] = {}
        for i, record in enumerate(records):
            if record.op is not add:
                continue
            chain_slot = None
            for slot, (kind, x) in enumerate(record.operands):
                other = record.operands[1 - slot]
                if (
                    kind == "n"
                    and records[x].op is add
                    and consumers[x] == 1
                    and other != (kind, x)
                ):
                    chain_slot = slot
                    break
            if chain_slot is None:
                terms[i] = [(operand, i) for operand in record.operands]
            else:
                inner = record.operands[chain_slot][1]
                absorbed[inner] = True
                terms[i] = [*terms.pop(inner), (record.operands[1 - chain_slot], i)]
        # 2. Group the remaining nodes by shape, in topological order.
        live_count = sum(1 for r in records if r.op is None and r.leaf == _LIVE)
        self.live_start = 2
        self.input_start = self.live_start + live_count
        literal_start = self.input_start + input_count
        literals: dict[Any, int] = {}
        literal_values: list[float] = []
        where = [0] * n  # each node's index in V
        group_of: dict[int, tuple[_Group, int]] = {}
        groups: list[_Group] = []
        by_shape: dict[Any, _Group] = {}

        def kind_of(operand: tuple[str, Any]) -> Any:
            kind, x = operand
            if kind == "l":
                return "l"
            record = records[x]
            if record.op is None:
                return record.leaf
            return id(group_of[x][0])

        def literal_index(x: float) -> int:
            key = (repr(x), math.copysign(1.0, x))
            if key not in literals:
                literals[key] = literal_start + len(literal_values)
                literal_values.append(x)
            return literals[key]

        for i, record in enumerate(records):
            if record.op is None:
                start = self.live_start if record.leaf == _LIVE else self.input_start
                where[i] = start + record.slot
                continue
            if absorbed[i]:
                continue
            for kind, x in record.operands:
                if kind == "l":
                    literal_index(x)
            if i in terms:
                for (kind, x), _ in terms[i]:
                    if kind == "l":
                        literal_index(x)
                shape: Any = ("sum", tuple(kind_of(t) for t, _ in terms[i]), i == n - 1)
                op = None
                exponent = None
            else:
                op = record.op
                exponent = record.operands[1][1] if op.name == "pow" else None
                kinds = tuple(kind_of(operand) for operand in record.operands)
                shape = (
                    op.name,
                    id(op),
                    kinds,
                    None if exponent is None else repr(exponent),
                    i == n - 1,  # the output gets a group of its own: backward starts there
                )
            group = by_shape.get(shape)
            if group is None:
                group = _Group(op, shape, [], exponent=exponent)
                by_shape[shape] = group
                groups.append(group)
            group_of[i] = (group, len(group.members))
            group.members.append(i)
        self.size = literal_start + len(literal_values)
        for group in groups:
            group.start = self.size
            self.size += len(group.members)
            for lane, i in enumerate(group.members):
                where[i] = group.start + lane
        self.groups = groups
        self.where: list[int] = where
        self.terms = terms
        self.literal_start = literal_start
        self.literal_values = literal_values
        self.literal_index = literal_index
        self.live_count = live_count
        self.input_count = input_count
        self.transparent = transparent
        self.constants: dict[str, Any] = {}
        self.strided: dict[str, tuple[str, int, tuple[int, int], tuple[int, int]]] = {}
        self.names = {**_numpy_names(), **{f"_py{k}": v for k, v in _python_names().items()}}
        self.source_lines: list[str] = []
        self.need_live = False  # whether the live leaves' numbers must be copied into V
        self.need_inputs = False
        self._alone = [False] * n
        for group in groups:
            if len(group.members) == 1:
                self._alone[group.members[0]] = True
        self.scalars_in_v: set[int] = {i for i in watched if self._is_scalar(i)}
        # Backward first: it says which single-lane results forward must also store in V.
        self._in_backward = True
        backward_body = self._generate_backward()
        self._in_backward = False
        self.quiet = _quiet_context(np)
        self.V = np.zeros(self.size)
        self.V[literal_start : literal_start + len(literal_values)] = literal_values
        self.G = np.zeros(self.g_size)
        self.G[1] = -0.0

        def resolve(match: re.Match[str]) -> str:
            i = int(match.group(1))
            self.scalars_in_v.add(i)
            return f"V[{self.where[i]}]"

        backward_body = [_SCALAR_TOKEN.sub(resolve, line) for line in backward_body]
        self.constants.update({f"_L{k}": leaf for k, leaf in enumerate(leaves)})
        self.constants.update({"_LEAVES": tuple(leaves), "_DATA": _DATA})
        forward_body = self._generate_forward()
        self.forward_function = self._compile("forward", "V, P, I", forward_body)
        # forward(live, given) -> (output, saved, bad) and backward(saved, seed, into=False):
        # the generated functions called with numpy's warnings off, with no Python in between.
        self.forward = functools.partial(self.quiet, self.forward_function, self.V)
        self.backward_function = self._compile(
            "backward",
            "V, G, saved, seed, into=False",
            ["P, I = saved", *backward_body]
            if any(re.search(r"\b[PI]\[", line) for line in backward_body)
            else backward_body,
        )
        self.backward = functools.partial(self.quiet, self.backward_function, self.V, self.G)

    @property
    def group_count(self) -> int:
        return len(self.groups)

    # -- where numbers are -----------------------------------------------------------------

    def _constant(self, array: Any) -> str:
        name = f"_K{len(self.constants)}"
        self.constants[name] = array
        return name

    def _source(self, indices: Sequence[int], array: str) -> str:
        """An expression for ``array[indices]``: a scalar, a slice (a view) or a gather."""
        first = indices[0]
        if all(j == first for j in indices):
            return f"{array}[{first}]"
        if all(j == first + k for k, j in enumerate(indices)):
            return f"{array}[{first}:{first + len(indices)}]"
        if first >= len(indices) and all(j == first - k for k, j in enumerate(indices)):
            return f"{array}[{first}:{first - len(indices)}:-1]"
        return f"{array}[{self._constant(self.np.asarray(indices, dtype=self.np.intp))}]"

    def _scratch(self, size: int) -> str:
        """A buffer for a running sum, made once (so a tape is for one thread at a time)."""
        return self._constant(self.np.empty(size))

    def _matrix(self, matrix: Any, array: str) -> str:
        """An expression for ``array[matrix]``: a strided view, or a gather.

        A view when the indices are regular (each row and each column an arithmetic
        progression), else a gather.
        """
        rows, columns = matrix.shape
        step_row = int(matrix[1, 0] - matrix[0, 0]) if rows > 1 else 0
        step_column = int(matrix[0, 1] - matrix[0, 0]) if columns > 1 else 0
        start = int(matrix[0, 0])
        regular = self.np.arange(rows)[:, None] * step_row + self.np.arange(columns) * step_column
        if (matrix == start + regular).all():
            name = f"_S{len(self.strided)}"
            self.strided[name] = (array, start, (rows, columns), (step_row, step_column))
            return name
        return f"{array}[{self._constant(matrix)}]"

    def _is_scalar(self, i: int) -> bool:
        """Whether node ``i`` is computed alone (a group of one lane), as a Python number."""
        return self._alone[i]

    def _value(self, i: int) -> str:
        """One node's number as a scalar expression."""
        record = self.records[i]
        if record.op is None:
            return f"P[{record.slot}]" if record.leaf == _LIVE else f"I[{record.slot}]"
        if self._is_scalar(i):
            # Backward reads forward's single-lane results from V; the token is resolved (and
            # the result stored by forward) only where a derivative really uses it.
            return f"__s{i}__" if self._in_backward else f"s{i}"
        return f"V[{self.where[i]}]"

    def _v_index(self, operand: tuple[str, Any]) -> int:
        """Where one operand's number is in V (making sure it is written there)."""
        kind, x = operand
        if kind == "l":
            return self.literal_index(x)
        index: int = self.where[x]
        if index < self.literal_start:  # a leaf: copied into V at each replay
            if index < self.input_start:
                self.need_live = True
            else:
                self.need_inputs = True
        elif self._alone[x]:
            self.scalars_in_v.add(x)
        return index

    def _lanes(self, operands: Sequence[tuple[str, Any]]) -> str:
        """The operand of every lane, as one expression: a number, a scalar or an array."""
        if all(kind == "l" for kind, _ in operands):
            numbers = [x for _, x in operands]
            if all(repr(x) == repr(numbers[0]) for x in numbers):
                return _literal(numbers[0])
            return self._constant(self.np.asarray(numbers, dtype=float))
        first = operands[0]
        if all(operand == first for operand in operands):
            return self._value(first[1])
        return self._source([self._v_index(operand) for operand in operands], "V")

    # -- forward ---------------------------------------------------------------------------

    def _generate_forward(self) -> list[str]:
        records = self.records
        body: list[Any] = ["bad = False"]
        for group in self.groups:
            lanes = len(group.members)
            scalar = lanes == 1
            out = f"s{group.members[0]}" if scalar else f"V[{group.start}:{group.start + lanes}]"
            if group.op is None:
                body.extend(self._sum_forward(group, out))
            else:
                arity = len(records[group.members[0]].operands)
                args = [
                    self._lanes([records[i].operands[slot] for i in group.members])
                    for slot in range(arity)
                ]
                template = _template(group.op, group.exponent)
                if template is None:  # a custom row: its own forward, lane by lane
                    if scalar:
                        name = self._constant(group.op.forward)
                        body.append(f"{out} = {name}({', '.join(args)})")
                    else:
                        name = self._constant(self.np.frompyfunc(group.op.forward, arity, 1))
                        body.append(f"{out} = {name}({', '.join(args)})")
                else:
                    ufunc = _UFUNCS.get(template.forward)
                    if scalar:
                        body.append(f"{out} = {_scalar_text(template.forward).format(*args)}")
                    elif ufunc is not None:
                        body.append(f"{ufunc.format(*args)}, {out})")
                    else:
                        text = template.numpy_forward or template.forward
                        body.append(f"{out} = {text.format(*args)}")
                    trouble = template.trouble
                    if all(self.transparent[i] for i in group.members):
                        trouble = "_any({0} < 0.0)" if group.op.name == "pow_value" else None
                    if trouble is not None:
                        body.append(f"bad = bad or bool({trouble.format(*args, out=out)})")
            if scalar:
                body.append(("store", group.members[0]))
        root = self.groups[-1].members[0]
        checked = any(isinstance(line, str) and line.startswith("bad = bad or") for line in body)
        body.append(f"return float(s{root}), (P, I), {'bad' if checked else 'False'}")
        if not checked:
            body.remove("bad = False")
        leaves = ", ".join(f"_L{k}.data" for k in range(self.live_count))
        lines: list[str] = [
            f"P = [{leaves}]" if self.live_count <= 16 else "P = list(map(_DATA, _LEAVES))"
        ]
        if self.need_live:
            lines.append(f"V[{self.live_start}:{self.input_start}] = P")
        if self.need_inputs:
            lines.append(f"V[{self.input_start}:{self.literal_start}] = I")
        for line in body:
            if isinstance(line, tuple):
                if line[1] in self.scalars_in_v:
                    lines.append(f"V[{self.where[line[1]]}] = s{line[1]}")
            else:
                lines.append(line)
        return lines

    def _sum_forward(self, group: _Group, out: str) -> list[str]:
        """A sum of k terms per lane, added left to right exactly as the engine does."""
        lanes = len(group.members)
        rows = [[operand for operand, _ in self.terms[i]] for i in group.members]
        count = len(rows[0])
        zero_start = False
        # sum() starts from 0: 0.0 + t0 + t1 + ... equals 0.0 + (t0 + t1 + ...) bit for bit
        # (they can differ only in the sign of a zero, and the last 0.0 + settles that).
        for position in (0, 1):
            if count >= 3 and all(_is_plus_zero(row[position]) for row in rows):
                rows = [row[:position] + row[position + 1 :] for row in rows]
                count -= 1
                zero_start = True
                break
        if count == 2:
            a = self._lanes([row[0] for row in rows])
            b = self._lanes([row[1] for row in rows])
            return [f"{out} = {a} + {b}" if lanes == 1 else f"_add({a}, {b}, {out})"]
        columns = [[self._v_index(row[t]) for row in rows] for t in range(count)]
        flat = [j for column in columns for j in column]
        if lanes == 1:
            terms = self._source(flat, "V")
            if "[" in terms and ":" not in terms and "_K" not in terms:  # one node, k times
                terms = f"V[{self._constant(self.np.asarray(flat, dtype=self.np.intp))}]"
            total = f"_accumulate({terms}, 0, None, {self._scratch(count)}).item(-1)"
            return [f"{out} = {'0.0 + ' if zero_start else ''}{total}"]
        if all(j == flat[0] + k for k, j in enumerate(flat)):
            stacked = f"V[{flat[0]}:{flat[0] + len(flat)}].reshape({count}, {lanes})"
        else:
            stacked = self._matrix(self.np.asarray(columns, dtype=self.np.intp), "V")
        total = f"_accumulate({stacked}, axis=0)[-1]"
        return [f"{out} = {'0.0 + ' if zero_start else ''}{total}"]

    # -- backward --------------------------------------------------------------------------

    def _generate_backward(self) -> list[str]:
        """Gradients, accumulated in the engine's order.

        Each node's incoming contributions are added in reverse topological order of the nodes
        that send them, starting from 0.0.
        """
        np = self.np
        records = self.records
        body: list[str] = []
        self.g_size = 2  # G[1] is -0.0: adding it changes nothing, so it pads short sums
        # Per receiving node: (order key, contribution) with the contribution an expression
        # and its index in G (None for a local not yet stored).
        incoming: dict[int, list[tuple[tuple[int, int], list[Any]]]] = {}
        grad: dict[int, str] = {}  # a group member's gradient, as a scalar expression
        grad_index: dict[int, int] = {}  # ... and its index in G, if it is in G

        def allocate(count: int) -> int:
            start = self.g_size
            self.g_size += count
            return start

        def send(receiver: int, sender: int, slot: int, contribution: list[Any]) -> None:
            record = records[receiver]
            if record.op is None and record.leaf == _INPUT:
                return  # inputs are data: their gradient is not asked for
            incoming.setdefault(receiver, []).append(((-sender, slot), contribution))

        def in_g(contribution: list[Any]) -> int:
            if contribution[1] is None:
                contribution[1] = allocate(1)
                body.append(f"G[{contribution[1]}] = {contribution[0]}")
            index: int = contribution[1]
            return index

        def scalar_sum(i: int) -> str:
            edges = [c for _, c in sorted(incoming[i], key=lambda e: e[0])]
            if len(edges) <= 32:
                return "0.0 + " + " + ".join(c[0] for c in edges)
            source = self._source([in_g(c) for c in edges], "G")
            return f"0.0 + _accumulate({source}, 0, None, {self._scratch(len(edges))}).item(-1)"

        def matrix_sum(members: Sequence[int]) -> str:
            lists = [[c for _, c in sorted(incoming[i], key=lambda e: e[0])] for i in members]
            depth = max(len(edges) for edges in lists)
            matrix = np.ones((depth, len(members)), dtype=np.intp)  # G[1] = -0.0 pads
            for lane, edges in enumerate(lists):
                for row, contribution in enumerate(edges):
                    matrix[row, lane] = in_g(contribution)
            return f"0.0 + _accumulate({self._matrix(matrix, 'G')}, axis=0)[-1]"

        for group in reversed(self.groups):
            members = group.members
            lanes = len(members)
            if group is self.groups[-1]:
                i = members[0]
                body.append(f"g{i} = seed")
                grad[i] = f"g{i}"
                g = grad[i]
            elif lanes == 1:
                i = members[0]
                body.append(f"g{i} = {scalar_sum(i)}")
                grad[i] = g = f"g{i}"
            else:
                lists = [sorted(incoming[i], key=lambda e: e[0]) for i in members]
                if all(len(edges) == 1 for edges in lists):
                    firsts = [edges[0][1] for edges in lists]
                    if all(c[0] == firsts[0][0] for c in firsts):  # one number for every lane
                        g = firsts[0][0]
                        for i in members:
                            grad[i] = g
                    else:
                        indices = [in_g(c) for c in firsts]
                        g = self._source(indices, "G")
                        if "_K" in g:  # a gather: copied once into a block of its own
                            start = allocate(lanes)
                            body.append(f"G[{start}:{start + lanes}] = {g}")
                            indices = list(range(start, start + lanes))
                            g = f"G[{start}:{start + lanes}]"
                        for lane, i in enumerate(members):
                            grad[i] = f"G[{indices[lane]}]"
                            grad_index[i] = indices[lane]
                else:
                    start = allocate(lanes)
                    body.append(f"G[{start}:{start + lanes}] = {matrix_sum(members)}")
                    g = f"G[{start}:{start + lanes}]"
                    for lane, i in enumerate(members):
                        grad[i] = f"G[{start + lane}]"
                        grad_index[i] = start + lane
            if group.op is None:  # a sum: each term receives the sum's gradient itself
                for i in members:
                    for slot, ((kind, x), sender) in enumerate(self.terms[i]):
                        if kind == "n":
                            send(x, sender, slot, [grad[i], grad_index.get(i)])
                continue
            first = records[members[0]]
            arity = len(first.operands)
            args = [
                self._lanes([records[i].operands[slot] for i in members]) for slot in range(arity)
            ]
            template = _template(group.op, group.exponent)
            node_slots = [slot for slot, (kind, _) in enumerate(first.operands) if kind == "n"]
            if template is not None and not any(
                "{out}" in (template.numpy_partials or template.partials)[slot]
                or "{out}" in template.partials[slot]
                for slot in node_slots
            ):
                out = "_unused"  # no derivative here needs the node's own number
            elif lanes == 1:
                out = self._value(members[0])
            else:
                out = self._source([group.start + k for k in range(lanes)], "V")
            if template is None:  # a custom row: its own partials
                if lanes == 1:
                    name = self._constant(group.op.partials)
                else:
                    name = self._constant(self._lanewise_partials(group.op, arity))
                body.append(f"d{members[0]} = {name}({out}, {', '.join(args)})")
                parts = [f"d{members[0]}[{slot}]" for slot in range(arity)]
            elif lanes == 1:
                parts = [_scalar_text(p).format(*args, out=out) for p in template.partials]
            else:
                texts = template.numpy_partials or template.partials
                parts = [p.format(*args, out=out) for p in texts]
            for slot, (kind, _) in enumerate(first.operands):
                if kind != "n":
                    continue
                if parts[slot] == "1.0":  # g * 1.0 is g: the gradient itself is sent
                    for i in members:
                        send(records[i].operands[slot][1], i, slot, [grad[i], grad_index.get(i)])
                    continue
                if lanes == 1:
                    i = members[0]
                    name = f"c{i}_{slot}"
                    body.append(f"{name} = {g} * ({parts[slot]})")
                    send(first.operands[slot][1], i, slot, [name, None])
                    continue
                start = allocate(lanes)
                target = f"G[{start}:{start + lanes}]"
                if template is _SQUARE and "[" not in g:
                    # Just an optimisation: g * (2.0 * x) is (2.0 * g) * x bit for bit, as
                    # doubling is exact, unless 2.0 * g overflows; one array operation fewer.
                    body.append(
                        f"_multiply(2.0 * {g}, {args[0]}, {target}) if abs({g}) < 8e307 "
                        f"else _multiply({g}, {parts[slot]}, {target})"
                    )
                else:
                    body.append(f"_multiply({g}, {parts[slot]}, {target})")
                for lane, i in enumerate(members):
                    receiver = records[i].operands[slot][1]
                    send(receiver, i, slot, [f"G[{start + lane}]", start + lane])
        live = [i for i, r in enumerate(records) if r.op is None and r.leaf == _LIVE]
        if not live:
            body.append("return []")
        else:
            if len(live) <= 4:  # a few leaves: a sum each is quicker than one 2-d operation
                body.extend(self._into_leaves(live, [f"float({scalar_sum(i)})" for i in live]))
            else:
                body.append(f"return ({matrix_sum(live)}).tolist()")
        return body

    def _into_leaves(self, live: Sequence[int], sums: Sequence[str]) -> list[str]:
        """Code that returns the live leaves' gradients, or adds them into the leaves.

        Just an optimisation, for a few leaves (a neuron, a line fit): with ``into``, and
        every grad a float, the code adds them into the leaves' grads right there (the engine's
        rule: a zero grad is replaced, another is added to); else it returns them and the tape
        does it, with its checks. All or nothing, as the tape's own write: every new grad is
        computed first, then stored by straight-line code with no call and no loop (where
        CPython 3.11 and later run no signal handler; 3.10 may run one between any two
        instructions): should anything raise there, the old grads are put back.
        """
        names = [f"_L{self.records[i].slot}" for i in live]
        count = range(len(live))
        lines = [f"h{k} = {total}" for k, total in enumerate(sums)]
        lines.append(
            f"{', '.join(f'b{k}' for k in count)}, = {', '.join(f'{n}.grad' for n in names)},"
        )
        floats = " and ".join(f"type(b{k}) is float" for k in count)
        lines.append(f"if into and {floats}:")
        lines.extend(f"    n{k} = h{k} if b{k} == 0.0 else b{k} + h{k}" for k in count)
        lines.append("    try:")
        lines.extend(f"        {name}.grad = n{k}" for k, name in enumerate(names))
        lines.append("    except BaseException:")
        lines.append(
            f"        _put_back(({''.join(f'{n}, ' for n in names)}), "
            f"({''.join(f'b{k}, ' for k in count)}))"
        )
        lines.append("        raise")
        lines.append("    return None")
        lines.append(f"return [{', '.join(f'h{k}' for k in count)}]")
        return lines

    def _lanewise_partials(self, op: Op, arity: int) -> Callable[..., Any]:
        np = self.np

        def partials(out: Any, *operands: Any) -> list[Any]:
            columns = np.broadcast_arrays(out, *operands)
            rows = [
                op.partials(float(o), *[float(x) for x in xs])
                for o, *xs in zip(*columns, strict=True)
            ]
            return [np.asarray([row[k] for row in rows], dtype=float) for k in range(arity)]

        return partials

    def _compile(self, name: str, arguments: str, body: list[str]) -> Callable[..., Any]:
        lines = [f"def {name}({arguments}):", *[f"    {line}" for line in body]]
        self.source_lines.extend([*lines, ""])
        # Just an optimisation: every slice of V and G is made once, here, not at each call
        # (V and G live as long as the tape, so the views stay valid).
        views: dict[str, Any] = {}

        def view(match: re.Match[str]) -> str:
            array, start, stop, step = match.group(1, 2, 3, 4)
            name = f"_{array}{start}_{stop}{'r' if step else ''}"
            if name not in views:
                base = self.V if array == "V" else self.G
                views[name] = base[int(start) : int(stop) : -1 if step else 1]
            return name

        source = _SLICE.sub(view, "\n".join(lines))
        # An assignment to a slice writes into the array: ``_V2_4[...] = P``, not ``_V2_4 = P``.
        source = _ASSIGNED_VIEW.sub(r"\1[...] =", source)
        for view_name, (array, start, shape, steps) in self.strided.items():
            base = self.V if array == "V" else self.G
            size = base.itemsize
            views[view_name] = self.np.lib.stride_tricks.as_strided(
                base[start:], shape, (steps[0] * size, steps[1] * size), writeable=False
            )
        namespace = {**self.names, **self.constants, **views}
        exec(compile(source, f"<tape {name}>", "exec"), namespace)
        function: Callable[..., Any] = namespace[name]
        return function

    # -- running ---------------------------------------------------------------------------

    def value(self, saved: Any, i: int) -> float:
        record = self.records[i]
        if record.op is None:
            live, given = saved
            return float(live[record.slot] if record.leaf == _LIVE else given[record.slot])
        return float(self.V[self.where[i]])


# Templates that are one numpy ufunc, written with ``out=`` to skip a temporary array.
_UFUNCS: Final = {
    "{0} + {1}": "_add({0}, {1}",
    "{0} - {1}": "_subtract({0}, {1}",
    "{0} * {1}": "_multiply({0}, {1}",
    "{0} / {1}": "_divide({0}, {1}",
    "{0} * {0}": "_multiply({0}, {0}",
}


def _scalar_text(template: str) -> str:
    """A Python template for one lane: its names bound to math and the rows (``_py`` names)."""
    return re.sub(r"\b_([a-z_]+)\b", r"_py_\1", template)


def _is_plus_zero(operand: tuple[str, Any]) -> bool:
    kind, x = operand
    return kind == "l" and x == 0.0 and math.copysign(1.0, x) > 0


def _quiet_context(np: Any) -> Callable[..., Any]:
    """A way to call a function with numpy's floating-point warnings off.

    inf and nan are results here, as in eager arithmetic. ``np.errstate`` costs microseconds
    per use, as much as a small replay. With numpy 2, whose error state lives in a context
    variable, a context made once with the warnings off serves every call for a tenth of that;
    older numpy keeps its state per thread, so there each call enters ``np.errstate``.
    """
    if int(np.__version__.split(".")[0]) >= 2:
        context = contextvars.copy_context()
        context.run(np.seterr, all="ignore")
        return context.run

    def run(function: Callable[..., Any], *args: Any) -> Any:
        with np.errstate(all="ignore"):
            return function(*args)

    return run


# ----------------------------------------------------------------------------------------------
# The tape.


def _transparent(records: Sequence[_Node]) -> list[bool]:
    """Per node: whether a NaN or infinity there is sure to reach the output.

    Where it is, a domain error there needs no check of its own: the output is checked. Through
    + - * and a numerator it always does; through relu, tanh, a denominator... it may not.
    """
    n = len(records)
    result = [False] * n
    result[-1] = True
    passes = {"add": (0, 1), "sub": (0, 1), "mul": (0, 1), "neg": (0,), "div": (0,), "abs": (0,)}
    for i in range(n - 1, -1, -1):
        record = records[i]
        if record.op is None or not result[i]:
            continue
        slots = passes.get(record.op.name, ()) if OPS.get(record.op.name) is record.op else ()
        for slot in slots:
            kind, x = record.operands[slot]
            if kind == "n":
                result[x] = True
    return result


_DATA: Final = operator.attrgetter("data")
_FLOAT: Final = frozenset({float})

_FAILED: Final = ("failed", None)
"""``Tape._last`` while a forward runs, and after one that raised or was interrupted."""


def _values(argument: object, what: str) -> tuple[Value, ...]:
    """``inputs`` or ``watch``: one Value, or an iterable of Values; else a TypeError."""
    if isinstance(argument, Value):
        return (argument,)
    if isinstance(argument, (str, bytes)) or not isinstance(argument, Iterable):
        raise TypeError(
            f"Tape: {what} must be Values (a list of them, or one), got {type(argument).__name__}"
        )
    result = tuple(argument)
    for x in result:
        if not isinstance(x, Value):
            raise TypeError(f"Tape: {what} must be Values, got {type(x).__name__}")
    return result


def _refuse_observers(where: str) -> None:
    """Raise if an observer (anomaly mode) watches this thread: the tape would skip its checks."""
    if is_observed():
        raise RuntimeError(
            f"{where}: the tape cannot replay inside detect_anomaly() (or under another observer "
            "of every node), which checks each node as it is made; run the eager graph "
            "(loss.backward()) to find the anomaly"
        )


class Tape:
    """A recorded graph, replayed as generated code: forward and backward many times faster.

    Args:
        loss: The output of the graph to record (any Value).
        inputs: The leaves that are data (a list of them, or one): ``forward(values)`` gives
            them new numbers. Every other leaf is live: its ``.data`` is read at each replay
            and its ``.grad`` receives the gradient.
        backend: ``"python"`` (bitwise equal to eager), ``"numpy"`` (groups of same-shaped
            nodes as arrays; eager's numbers up to the sign of a zero) or ``"auto"``.
        watch: Nodes of the graph (a list of them, or one) whose numbers ``watched()``
            returns after each ``forward`` (a model's outputs, say, to count correct answers).

    Attributes:
        loss: The recorded output node.
        inputs: The input leaves, in order.
        parameters: The live leaves, in topological order.
        backend: The backend in use (never ``"auto"``).
        reference_replays: How many forward replays fell back to the reference path (the
            engine's own rules, node by node): a NaN or infinity appeared, or a node may be
            outside its domain. Those replays are exact but slow.

    Raises:
        TypeError: ``loss``, an input or a watched node is not a Value.
        ValueError: An input is not a leaf, is given twice or is not in the graph under
            ``loss``, a watched node is not in that graph, or the backend is unknown.

    Example:
        >>> from autodiff import Value
        >>> w, b = Value(2.0, label="w"), Value(1.0, label="b")
        >>> tape = Tape(w * 3.0 + b)
        >>> tape.forward(), tape.backend
        (7.0, 'python')
        >>> tape.backward(); tape.backward()   # leaves accumulate, as with loss.backward()
        >>> w.grad, b.grad
        (6.0, 2.0)
        >>> w.data = 5.0                         # live leaves are read at each replay
        >>> tape.forward()
        16.0
    """

    def __init__(
        self,
        loss: Value,
        inputs: Value | Iterable[Value] = (),
        backend: Backend = "auto",
        *,
        watch: Value | Iterable[Value] = (),
    ) -> None:
        if not isinstance(loss, Value):
            raise TypeError(f"Tape: loss must be a Value, got {type(loss).__name__}")
        given = _values(inputs, "inputs")
        watched = _values(watch, "watch")
        for x in given:
            if x.op is not None:
                raise ValueError(
                    f"Tape: input {_name(x)} is the result of {x.op.name}, not a leaf; "
                    "inputs are the leaves that hold data"
                )
        if len(set(given)) != len(given):
            raise ValueError("Tape: an input is listed twice")
        if backend not in ("auto", "python", "numpy"):
            raise ValueError(f"Tape: backend must be 'auto', 'python' or 'numpy', got {backend!r}")
        self.loss = loss
        self.inputs: tuple[Value, ...] = given
        self.watch: tuple[Value, ...] = watched
        self._labels = {x.label: k for k, x in enumerate(given) if x.label}
        collecting = gc.isenabled()
        gc.disable()  # just an optimisation: the recording makes many small objects at once
        try:
            self._build(loss, given, backend)
        finally:
            if collecting:
                gc.enable()

    def _build(self, loss: Value, given: tuple[Value, ...], backend: Backend) -> None:
        self._order, self._records, live = _record(loss, given)
        self.parameters: tuple[Value, ...] = tuple(live)
        position = {node: i for i, node in enumerate(self._order)}
        for x in given:
            if x not in position:
                raise ValueError(
                    f"Tape: input {_name(x)} is not in the graph under loss (the wrong Value?)"
                )
        for node in self.watch:
            if node not in position:
                raise ValueError(f"Tape: watched {_name(node)} is not in the graph under loss")
        self._watched = [position[node] for node in self.watch]
        self._given = [x.data for x in given]
        self._function: Callable[..., Value] | None = None
        self._arguments: tuple[Any, ...] = ()
        self._check_every: int | None = None
        self._calls = 0
        self._last: tuple[str, Any] | None = None
        self.reference_replays = 0
        transparent = _transparent(self._records)
        self._replay: _PythonReplay | _NumpyReplay
        if backend in ("numpy", "auto") and loss.op is not None:
            try:
                replay = _NumpyReplay(self._records, transparent, self._watched, live, len(given))
            except ImportError:
                if backend == "numpy":
                    raise
            else:
                interior = sum(1 for r in self._records if r.op is not None)
                if backend == "numpy" or interior >= _MIN_LANES * max(1, replay.group_count):
                    self._replay, self.backend = replay, "numpy"
                    return
        self._replay = _PythonReplay(self._records, transparent, self._watched)
        self.backend = "python"

    @classmethod
    def trace(
        cls,
        function: Callable[..., Value],
        *args: Any,
        inputs: Value | Iterable[Value] | None = None,
        backend: Backend = "auto",
        check_every: int | None = None,
    ) -> Tape:
        """Record the graph ``function(*args)`` builds, keeping ``function`` for ``verify``.

        Args:
            function: Builds the loss from the current parameters (and ``args``).
            *args: Passed to ``function``; the Values among them are the inputs unless
                ``inputs`` is given.
            inputs: The input leaves, if not the Values among ``args``.
            backend: As for ``Tape``.
            check_every: Verify against a fresh eager graph every this many ``forward`` calls
                (None: never); an int or a numpy integer.

        Raises:
            TypeError: ``function`` is not callable or returns no Value, or ``check_every``
                is not an integer.
            ValueError: ``check_every`` is below 1 (and as for ``Tape``).

        Example:
            >>> from autodiff import Value
            >>> w = Value(3.0, label="w")
            >>> x = Value(2.0, label="x")
            >>> tape = Tape.trace(lambda x: w * x * x, x)
            >>> tape.forward([5.0]), tape.inputs == (x,)
            (75.0, True)
            >>> tape.verify()
        """
        if not callable(function):
            raise TypeError(f"Tape.trace: expected a function, got {type(function).__name__}")
        if check_every is not None:
            if isinstance(check_every, bool) or not isinstance(check_every, numbers.Integral):
                raise TypeError(
                    "Tape.trace: check_every must be an int (or a numpy integer) or None, got "
                    f"{type(check_every).__name__}"
                )
            check_every = int(check_every)
            if check_every < 1:
                raise ValueError(f"Tape.trace: check_every must be >= 1, got {check_every}")
        loss = function(*args)
        if not isinstance(loss, Value):
            raise TypeError(
                f"Tape.trace: the function must return a Value, got {type(loss).__name__}"
            )
        if inputs is None:
            inputs = [x for x in args if isinstance(x, Value)]
        tape = cls(loss, inputs, backend)
        tape._function = function
        tape._arguments = args
        tape._check_every = check_every
        return tape

    def __repr__(self) -> str:
        return (
            f"Tape({len(self._records)} nodes, {len(self.parameters)} parameters, "
            f"{len(self.inputs)} inputs, backend={self.backend!r})"
        )

    @property
    def source(self) -> str:
        """The generated code, to read: what one replay runs.

        Example:
            >>> from autodiff import Value
            >>> w = Value(2.0)
            >>> print(Tape(w * w).source)  # doctest: +NORMALIZE_WHITESPACE
            def forward_0(P, I, F):
                v0 = P[0]
                v1 = v0 * v0
                return (v0, v1, )
            <BLANKLINE>
            def backward_0(F, B, seed):
                g1 = seed
                v0 = F[0][0]
                g0 = 0.0 + g1 * (v0)
                g0 += g1 * (v0)
                return (g1, g0, )
            <BLANKLINE>
        """
        return "\n".join(self._replay.source_lines)

    @property
    def fingerprint(self) -> str:
        """A hash of the graph's shape: its ops, its wiring and the numbers in its operations.

        Two tapes of graphs of the same shape have the same fingerprint, whatever the data.
        Each leaf is recorded by its slot among the tape's parameters or inputs (which leaf
        feeds which node); ``verify`` records the graph made again against this tape's own
        leaves, so there another Value in a leaf's place is another shape.

        Example:
            >>> from autodiff import Value
            >>> a, b = Value(1.0), Value(2.0)
            >>> Tape(a * 2.0 + a).fingerprint == Tape(b * 2.0 + b).fingerprint
            True
            >>> Tape(a * 3.0 + a).fingerprint == Tape(b * 2.0 + b).fingerprint
            False
        """
        return _fingerprint(self._records)

    # -- forward and backward ---------------------------------------------------------------

    def _values_for(self, values: InputValues) -> list[float]:
        if values is None:
            return [x.data for x in self.inputs]
        count = len(self.inputs)
        if isinstance(values, Mapping):
            given = [x.data for x in self.inputs]
            position = {x: k for k, x in enumerate(self.inputs)}
            for key, number in values.items():
                k = position.get(key) if isinstance(key, Value) else self._labels.get(key)
                if k is None:
                    raise ValueError(f"tape.forward: {key!r} is not one of the tape's inputs")
                given[k] = to_float(number, "tape.forward")
            return given
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
            dimensions = getattr(values, "ndim", None)
            if dimensions == 1 and callable(getattr(values, "tolist", None)):
                values = values.tolist()  # type: ignore[union-attr]  # a row of a numpy array
            else:
                shape = f"a {dimensions}-d " if isinstance(dimensions, int) else ""
                raise TypeError(
                    "tape.forward: values must be a sequence in inputs order (a list, a tuple, "
                    f"a 1-d numpy array) or a mapping, got {shape}{type(values).__name__}"
                )
            assert isinstance(values, list)
        if len(values) != count:
            raise ValueError(
                f"tape.forward: the tape has {count} input(s), got {len(values)} value(s)"
            )
        return [to_float(number, "tape.forward") for number in values]

    def forward(self, values: InputValues = None) -> float:
        """Recompute the recorded graph with the live leaves' current data; return the output.

        Args:
            values: The inputs' numbers: a sequence in ``inputs`` order (a list, a tuple, a
                1-d numpy array), or a mapping from an input (its Value or its label) to its
                number; inputs not in the mapping, and all of them when ``values`` is None,
                keep their ``.data``.

        A forward that raises (a domain error) or is interrupted leaves the tape without
        numbers to differentiate: ``backward`` and ``watched`` refuse until a forward succeeds,
        rather than mix the numbers of two replays. The inputs of the last forward that
        succeeded are kept (``sync`` and ``verify`` use them). A forward refused for its
        arguments changes nothing.

        Raises:
            TypeError: ``values`` is not a sequence or mapping of numbers.
            ValueError: A sequence of the wrong length, an unknown input in a mapping, or a
                domain error of an operation (as eager would raise it, naming the node).
            RuntimeError: Anomaly mode is on, or a periodic ``verify`` found a difference.

        Example:
            >>> from autodiff import Value
            >>> x = Value(1.0, label="x")
            >>> tape = Tape(x * x + 1.0, inputs=[x])
            >>> tape.forward([3.0]), tape.forward({"x": 4.0})
            (10.0, 17.0)
        """
        _refuse_observers("tape.forward")
        given = self._values_for(values) if values is not None or self.inputs else self._given
        replay = self._replay
        # The numpy replay reads the live leaves itself; the Python one is handed them.
        live = None if replay.reads_leaves else list(map(_DATA, self.parameters))
        # The fast path of _run_forward, in line. Until it succeeds the tape has no numbers:
        # the numpy replay overwrites its buffers as it goes.
        self._last = _FAILED
        try:
            value, saved, bad = replay.forward(live, given)
        except (_BadLaneError, ArithmeticError, ValueError):
            bad = True
        if bad or value - value != 0.0:
            value = self._reference(list(map(_DATA, self.parameters)), given)
        else:
            self._given = given
            self._last = ("compiled", saved)  # last: the one store that makes it count
        if self._check_every is not None:
            self._calls += 1
            if self._calls % self._check_every == 0:
                self.verify()
        return value

    def _run_forward(self, live: list[float], given: list[float]) -> float:
        """Replay forward with these numbers; until it succeeds, the tape has none."""
        self._last = _FAILED
        try:
            value, saved, bad = self._replay.forward(live, given)
        except (_BadLaneError, ArithmeticError, ValueError):
            value, saved, bad = math.nan, None, True
        if bad or value - value != 0.0:  # not finite (inf - inf and nan - nan are nan)
            return self._reference(live, given)
        self._given = given
        self._last = ("compiled", saved)
        number: float = value
        return number

    def _reference(self, live: list[float], given: list[float]) -> float:
        """The reference replay, after the compiled one found a NaN, an inf or a domain edge.

        Maybe outside a domain: the reference replay raises the engine's error, or finds none
        and gives the numbers (eager makes inf and nan without error, too).
        """
        values = _reference_forward(self._records, self._order, live, given)
        self.reference_replays += 1
        self._given = given
        self._last = ("reference", values)
        return values[-1]

    def _numbers(self, where: str) -> tuple[str, Any]:
        """What the last forward saved; a RuntimeError if it failed."""
        last = self._last
        if last is None:  # no forward yet: the recorded numbers
            self._run_forward(list(map(_DATA, self.parameters)), self._given)
            last = self._last
            assert last is not None
        if last is _FAILED:
            raise RuntimeError(
                f"{where}: the last forward failed (it raised or was interrupted), so there are "
                "no numbers to use; call forward again"
            )
        return last

    def watched(self) -> list[float]:
        """The numbers of the ``watch`` nodes in the last ``forward`` (the recorded ones before).

        Raises:
            RuntimeError: The last ``forward`` failed (it raised or was interrupted).

        Example:
            >>> from autodiff import Value
            >>> w = Value(2.0)
            >>> score = w * 3.0
            >>> tape = Tape(score * score, watch=[score])
            >>> w.data = 1.0
            >>> tape.forward(), tape.watched()
            (9.0, [3.0])
        """
        if self._last is None:
            return [node.data for node in self.watch]
        how, saved = self._numbers("tape.watched")
        if how == "reference":
            return [saved[i] for i in self._watched]
        return [self._replay.value(saved, i) for i in self._watched]

    def _run_backward(self, seed: float) -> list[float]:
        """The live leaves' gradients from the last forward's numbers; no grad is changed."""
        how, saved = self._numbers("tape.backward")
        if how == "reference":
            grads = _reference_backward(self._records, saved, seed)
            return [
                grads[i] for i, r in enumerate(self._records) if r.op is None and r.leaf == _LIVE
            ]
        result = self._replay.backward(saved, seed)
        assert result is not None  # without into, the replay always returns them
        return result

    def backward(self, gradient: object = 1.0, *, create_graph: bool = False) -> None:
        """Add d output / d leaf into every live leaf's ``.grad``, as ``loss.backward()`` would.

        Uses the numbers of the last ``forward`` (or the recorded ones, before any). Leaves
        accumulate across calls; a ``grad`` of None counts as zero, and one set to an int or a
        numpy number is taken as a float first, as ``loss.backward()`` does. The inputs'
        ``grad`` and the interior nodes' are not touched (``sync`` writes them).

        All or nothing, as ``loss.backward()``: every gradient is computed and every leaf's
        grad checked first, then all the grads are written in one step that Ctrl-C cannot cut;
        a call that raises or is interrupted leaves every grad as it was.

        Args:
            gradient: The upstream gradient d L / d output (default 1.0).
            create_graph: Refused: a tape replays floats; use the eager graph for higher order.

        Raises:
            ValueError: ``create_graph`` is asked for.
            TypeError: A leaf's grad is not a number: a Value (left by
                ``backward(create_graph=True)``), a str, a list, an array...
            RuntimeError: Anomaly mode is on, or the last ``forward`` failed.

        Example:
            >>> from autodiff import Value
            >>> w = Value(3.0)
            >>> tape = Tape(w * w)
            >>> tape.backward(0.5)
            >>> w.grad
            3.0
        """
        if create_graph:
            raise ValueError(
                "tape.backward: create_graph=True is not replayed: the tape computes floats, "
                "not a graph; call loss.backward(create_graph=True) on an eager graph"
            )
        _refuse_observers("tape.backward")
        seed = gradient if type(gradient) is float else to_float(gradient, "tape.backward")
        last = self._last
        if last is not None and last[0] == "compiled":
            done = self._replay.backward(last[1], seed, True)
            if done is None:
                return  # the generated code added into the leaves' grads itself, all at once
            grads = done
        else:
            grads = self._run_backward(seed)
        # Nothing is written until here. Leaves accumulate across calls, as in the engine: a
        # zero grad is replaced (so a -0.0 gradient stays -0.0), another is added to, as a
        # float. (Just an optimisation: the common cases run in loops inside C. After zeroing,
        # every grad == 0.0, whatever its type, and is replaced.)
        parameters = self.parameters
        before = [leaf.grad for leaf in parameters]
        try:
            zeros = before.count(0.0)
        except (TypeError, ValueError):  # an array's == gives no truth value
            zeros = -1
        if zeros == len(before):
            after = grads
        else:
            if not _FLOAT.issuperset(map(type, before)):
                before = _numbers_in(parameters, before)  # floats, or a TypeError naming one
                zeros = before.count(0.0)
            after = list(map(operator.add, before, grads))
            if zeros and grads.count(0.0):  # 0.0 + -0.0 is 0.0, where eager replaces: -0.0
                after = [g if b == 0.0 else b + g for b, g in zip(before, grads, strict=True)]
        # One step: a loop inside C (map over setattr), where no Ctrl-C handler can run, as in
        # the engine's rollback; an interrupt comes before it (nothing written) or after it.
        deque(map(setattr, parameters, repeat("grad"), after), maxlen=0)

    # -- looking at it ------------------------------------------------------------------------

    def sync(self, gradient: object = 1.0) -> None:
        """Write the last replay's numbers into the graph, so drawings and ``explain`` show them.

        Each input gets its number as ``.data``, each interior node its ``.data`` and the
        ``.grad`` one backward from the output (seeded with ``gradient``) gives it, as after
        ``loss.backward()``; the live leaves' ``.grad`` is left as it is (``backward``
        accumulates there). All or nothing: every number is computed first, then written with
        Ctrl-C held.

        Example:
            >>> from autodiff import Value
            >>> w, x = Value(2.0), Value(1.0)
            >>> y = w * x
            >>> tape = Tape(y, inputs=[x])
            >>> tape.forward([5.0])
            10.0
            >>> y.data
            2.0
            >>> tape.sync()
            >>> y.data, x.data
            (10.0, 5.0)
        """
        seed = to_float(gradient, "tape.sync")
        live = [leaf.data for leaf in self.parameters]
        values = _reference_forward(self._records, self._order, live, self._given)
        grads = _reference_backward(self._records, values, seed)
        interior = [i for i, record in enumerate(self._records) if record.op is not None]
        nodes = [self._order[i] for i in interior]
        written = [
            (nodes, "data", [values[i] for i in interior]),
            (nodes, "grad", [grads[i] for i in interior]),
            (list(self.inputs), "data", list(self._given)),
        ]
        _write_all(written)

    def verify(self) -> None:
        """Rebuild the graph eagerly and check the replay against it: value and every gradient.

        Only for tapes made by ``Tape.trace``: the function is called again with the current
        parameters and inputs. No ``grad`` or ``data`` is changed. Gradients are compared leaf
        by leaf, and the shape includes which leaf feeds each node: a branch on ``.data`` that
        now uses another parameter, or a leaf the function makes afresh at each call, is a
        changed shape, even with equal numbers.

        Raises:
            RuntimeError: The graph changed shape (control flow on ``.data`` took another
                branch, or a number in an operation changed), or a number differs (bitwise for
                the python backend, beyond 1e-12 relative for numpy); the message names the
                first node that differs.
            ValueError: The tape was not made by ``Tape.trace``.

        Example:
            >>> from autodiff import Value
            >>> w = Value(1.0, label="w")
            >>> tape = Tape.trace(lambda: w.relu() if w.data > 0 else -w)
            >>> tape.verify()
            >>> w.data = -1.0   # now the function would take the other branch
            >>> tape.verify()  # doctest: +ELLIPSIS
            Traceback (most recent call last):
            ...
            RuntimeError: tape.verify: the graph changed shape at node #1: recorded relu, now ...
        """
        if self._function is None:
            raise ValueError(
                "tape.verify: only a tape made by Tape.trace(function, ...) can verify"
            )
        inputs = list(self.inputs)
        saved_data = [x.data for x in inputs]
        try:
            # The function sees the replay's inputs, and eager computes with them.
            _write_all([(inputs, "data", list(self._given))])
            self._compare_with(self._function(*self._arguments))
        finally:
            _write_all([(inputs, "data", saved_data)])

    def _compare_with(self, fresh: Value) -> None:
        if not isinstance(fresh, Value):
            raise TypeError(f"tape.verify: the function returned {type(fresh).__name__}")
        order, records, _ = _record(fresh, self.inputs, like=self)
        changed = _first_difference(self._records, records)
        if changed is not None:
            change = _change(self._records, records, changed, self._order, order)
            raise RuntimeError(f"tape.verify: the graph changed shape {change}")
        fresh_grads = gradients(fresh, order)  # the eager engine on the fresh graph: no grad set
        # Each live leaf's eager gradient, by which of the tape's parameters it is.
        eager_grads = [0.0] * len(self.parameters)
        for i, record in enumerate(records):
            if record.op is None and record.leaf == _LIVE:
                eager_grads[record.slot] = float(fresh_grads[i])
        live = [leaf.data for leaf in self.parameters]
        value = self._run_forward(live, self._given)
        tape_grads = self._run_backward(1.0)
        exact = self.backend == "python"

        def differs(a: float, b: float) -> bool:
            if exact:
                return repr(a) != repr(b)
            if math.isnan(a) or math.isnan(b):
                return math.isnan(a) != math.isnan(b)
            return a != b and abs(a - b) > 1e-12 * max(abs(a), abs(b))

        mismatch: str | None = None
        if differs(value, fresh.data):
            mismatch = f"the output is {value!r} replayed, {fresh.data!r} eager"
        else:
            positions = [i for i, r in enumerate(self._records) if r.op is None and r.leaf == _LIVE]
            for k, (g, e) in enumerate(zip(tape_grads, eager_grads, strict=True)):
                if differs(g, e):
                    i = positions[k]
                    mismatch = (
                        f"the gradient of {_describe(self._order[i], i)} is {g!r} replayed, "
                        f"{e!r} eager"
                    )
                    break
        if mismatch is None:
            return
        # Name the first node whose number differs, in topological order.
        values = _reference_forward(self._records, self._order, live, self._given)
        for i, node in enumerate(order):
            if differs(values[i], node.data):
                raise RuntimeError(
                    f"tape.verify: {mismatch}; first difference at {_describe(node, i)}: "
                    f"{values[i]!r} replayed, {node.data!r} eager"
                )
        raise RuntimeError(f"tape.verify: {mismatch}")


def _write_all(changes: Sequence[tuple[list[Value], str, list[Any]]]) -> None:
    """Set each ``(nodes, attribute, numbers)``, all or nothing, Ctrl-C held meanwhile.

    ``data`` may be a property whose setter runs Python, where an interrupt could land: the
    signals are held for the block, and on any error every attribute is given back.
    """
    saved = [(nodes, name, [getattr(x, name) for x in nodes]) for nodes, name, _ in changes]
    with deferred_signals():
        try:
            for nodes, name, numbers in changes:
                deque(map(setattr, nodes, repeat(name), numbers), maxlen=0)
        except BaseException:
            for nodes, name, numbers in saved:
                deque(map(setattr, nodes, repeat(name), numbers), maxlen=0)
            raise


def _numbers_in(parameters: Sequence[Value], grads: Sequence[Any]) -> list[float]:
    """The live leaves' grads as floats (None is 0.0), or a TypeError naming the first bad one.

    A grad set by hand to an int or a numpy number is taken as a float, as the engine does,
    so that a float16 grad is added to in double precision.
    """
    result = []
    for k, (leaf, grad) in enumerate(zip(parameters, grads, strict=True)):
        name = repr(leaf.label) if leaf.label else f"tape.parameters[{k}]"
        if type(grad) is float:
            result.append(grad)
        elif grad is None:
            result.append(0.0)
        elif isinstance(grad, Value):
            raise TypeError(
                f"tape.backward: {name}.grad is a Value (from create_graph=True); "
                "set it to None or 0.0 first"
            )
        else:
            try:
                result.append(to_float(grad, "tape.backward"))
            except TypeError:
                raise TypeError(
                    f"tape.backward: {name}.grad is a {type(grad).__name__} "
                    f"({_short(grad)}), not a number; set it to None or 0.0 first"
                ) from None
    return result


def _short(x: object) -> str:
    text = repr(x)
    return text if len(text) <= 40 else text[:37] + "..."


def _name(x: Value) -> str:
    return repr(x.label) if x.label else "a Value"


def _change(
    old: Sequence[_Node],
    new: Sequence[_Node],
    i: int,
    old_order: Sequence[Value],
    new_order: Sequence[Value],
) -> str:
    if i >= len(old) or i >= len(new):
        return f"in size: {len(old)} nodes recorded, {len(new)} now"
    before, after = old[i].shape(), new[i].shape()
    if before[0] == after[0] and old[i].op is None:
        recorded, now = old_order[i], new_order[i]
        named = _name(now) if now.label or recorded.label else "another Value"
        if after[1] == _NEW_LEAF:
            return (
                f"at node #{i}: recorded leaf {_name(recorded)}, now {named}, a leaf the tape "
                "does not hold (an if on .data picked another Value, or the function makes "
                "this leaf afresh at each call? write a constant as a plain number)"
            )
        return f"at node #{i}: recorded leaf {_name(recorded)}, now {named} (an if on .data?)"
    if before[0] != after[0]:
        return (
            f"at node #{i}: recorded {before[0]}, now {after[0]} "
            "(an if on .data took another branch?)"
        )
    return (
        f"at node #{i}: {before[0]} recorded with operands {before[1:]}, now {after[1:]} "
        "(a number computed from .data, or other wiring?)"
    )
