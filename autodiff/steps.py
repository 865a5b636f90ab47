"""Backpropagation step by step: the engine's own chain-rule steps, as data.

This module owns ``chain_rule_steps``: every step of the backward loop from an output, recorded
by an observer while the engine's own loop runs (so the steps are exactly what ``backward``
does, never derived a second time), touching no ``grad``. Drawings (``autodiff.viz``) and the
explorer page step through them. It does not own the chain rule (``autodiff.engine``).

Example:
    >>> from autodiff import Value
    >>> x = Value(3.0, label="x")
    >>> steps = chain_rule_steps(x * x)
    >>> [(s.index, s.contribution, s.total) for s in steps]
    [(0, 3.0, 3.0), (1, 3.0, 6.0)]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autodiff import mode
from autodiff.engine import Operand, Value, gradients

__all__ = ["ChainRuleStep", "chain_rule_steps"]


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
        >>> from autodiff import Value
        >>> y = Value(2.0, label="x") * 5 + 1
        >>> [(s.node.op.name, s.upstream, s.local, s.contribution) for s in chain_rule_steps(y)]
        [('add', 1.0, 1.0, 1.0), ('mul', 1.0, 5.0, 5.0)]
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
                node,
                index,
                parent,
                upstream,
                float(local),
                upstream * float(local),
                float(parent.grad),
            )
        )
        if self.inner is not None:
            self.inner.on_backward(node, parent, local)
