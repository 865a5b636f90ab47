"""Optimisers: stochastic gradient descent with PyTorch's update rule, over ``Value`` leaves.

This module owns updating parameters from the gradients ``backward`` left in them. It does not
compute gradients (that is ``autodiff.engine``), and it knows nothing of models or losses: it is
given the parameters, reads each one's ``grad`` and writes its ``data``.

``SGD`` follows the algorithm published in PyTorch's documentation for ``torch.optim.SGD``, so
the same settings give the same numbers. For each parameter θ with gradient g, at step t:

1. ``maximize``: g ← -g
2. weight decay λ ≠ 0: g ← g + λ·θ
3. momentum μ ≠ 0: b ← g at t = 1 (no dampening on the first step), else b ← μ·b + (1 - τ)·g;
   then g ← g + μ·b with ``nesterov``, else g ← b
4. θ ← θ - lr·g

A parameter whose ``grad`` is None (cleared by hand, as PyTorch users do) is skipped, as
PyTorch skips it: no weight decay, and its momentum buffer does not decay. A ``Value``'s grad is
0.0 before any backward, so such a parameter takes part in the step.
"""

from __future__ import annotations

import math
import numbers
from collections import deque
from collections.abc import Iterable
from itertools import repeat

from autodiff.coerce import to_float
from autodiff.engine import Value
from autodiff.mode import deferred_signals

__all__ = ["SGD"]


def _hyperparameter(name: str, value: object) -> float:
    """Return ``value`` as a float, or raise if it is not a real number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"SGD: {name} must be a real number, got {type(value).__name__}")
    number = float(value)
    if math.isnan(number):
        raise ValueError(f"SGD: {name} must not be NaN")
    return number


class SGD:
    """Stochastic gradient descent, optionally with momentum, as ``torch.optim.SGD`` does it.

    Args:
        params: The parameters to update: leaf ``Value``s, each at most once. A generator is
            consumed once.
        lr: The learning rate (>= 0).
        momentum: The momentum factor μ (>= 0); 0 turns momentum off.
        dampening: The dampening τ applied to the gradient in the momentum buffer after the
            first step.
        weight_decay: The L2 penalty λ (>= 0), added to the gradient as λ·θ.
        nesterov: Use Nesterov momentum (needs momentum > 0 and dampening 0).
        maximize: Ascend the objective instead of descending it.

    Attributes:
        params: The parameters, as a tuple.
        lr, momentum, dampening, weight_decay, nesterov, maximize: The settings; ``lr`` may be
            changed between steps (a schedule).
        momentum_buffers: One momentum buffer b per parameter, None until the first step
            with momentum.

    Raises:
        TypeError: A parameter is not a ``Value``, or a setting is not a real number.
        ValueError: ``params`` is empty, holds a parameter twice or a non-leaf, ``lr``,
            ``momentum`` or ``weight_decay`` is negative, or ``nesterov`` is asked for without
            momentum or with dampening.

    Example:
        >>> w = Value(1.0, label="w")
        >>> optimizer = SGD([w], lr=0.1)
        >>> loss = (w - 3.0) ** 2      # d loss/dw = 2 (w - 3) = -4
        >>> loss.backward()
        >>> optimizer.step()           # w = 1 - 0.1 * (-4)
        >>> print(f"{w.data:.2f}")
        1.40
        >>> optimizer.zero_grad()
        >>> w.grad
        0.0
    """

    def __init__(
        self,
        params: Iterable[Value],
        lr: float,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
        maximize: bool = False,
    ) -> None:
        self.lr = _hyperparameter("lr", lr)
        self.momentum = _hyperparameter("momentum", momentum)
        self.dampening = _hyperparameter("dampening", dampening)
        self.weight_decay = _hyperparameter("weight_decay", weight_decay)
        if self.lr < 0.0:
            raise ValueError(f"SGD: learning rate must be >= 0, got lr={lr!r}")
        if self.momentum < 0.0:
            raise ValueError(f"SGD: momentum must be >= 0, got momentum={momentum!r}")
        if self.weight_decay < 0.0:
            raise ValueError(f"SGD: weight_decay must be >= 0, got weight_decay={weight_decay!r}")
        if nesterov and (self.momentum <= 0.0 or self.dampening != 0.0):
            raise ValueError(
                "SGD: nesterov momentum needs momentum > 0 and dampening == 0, got "
                f"momentum={momentum!r}, dampening={dampening!r}"
            )
        self.nesterov = bool(nesterov)
        self.maximize = bool(maximize)
        self.params = _check_params(params)
        self.momentum_buffers: list[float | None] = [None] * len(self.params)

    def step(self) -> None:
        """Update every parameter's ``data`` once from its current ``grad``.

        A ``grad`` that is a Value (after ``backward(create_graph=True)``) contributes its
        number; the update itself is never recorded in any graph. Every new number is worked
        out before any is written, so a bad grad (TypeError naming the parameter) or a Ctrl-C
        leaves every parameter and momentum buffer as it was.

        Example:
            >>> w = Value(2.0)
            >>> optimizer = SGD([w], lr=0.5, momentum=0.9)
            >>> w.grad = 1.0
            >>> optimizer.step()   # b = 1 on the first step; w = 2 - 0.5 * 1
            >>> optimizer.step()   # b = 0.9 * 1 + 1 = 1.9; w = 1.5 - 0.5 * 1.9
            >>> print(f"{w.data:.2f}")
            0.55
        """
        lr = self.lr
        momentum = self.momentum
        buffers = list(self.momentum_buffers)
        updated: list[Value] = []
        new_data: list[float] = []
        for index, param in enumerate(self.params):
            grad = param.grad
            if grad is None:  # cleared by hand: skipped, as PyTorch does
                continue
            g = (
                grad.data
                if isinstance(grad, Value)
                else to_float(grad, f"SGD: the grad of {_name(index, param)}")
            )
            if self.maximize:
                g = -g
            if self.weight_decay != 0.0:
                g += self.weight_decay * param.data
            if momentum != 0.0:
                previous = buffers[index]
                # First step: the buffer is the gradient itself, without dampening.
                buffer = g if previous is None else momentum * previous + (1.0 - self.dampening) * g
                buffers[index] = buffer
                g = g + momentum * buffer if self.nesterov else buffer
            updated.append(param)
            new_data.append(param.data - lr * g)
        # Written all at once, never half-way: the loop runs in C, and it stores the floats in
        # the slot behind ``data`` (whose setter, Python code, would let Ctrl-C in between).
        with deferred_signals():
            deque(map(setattr, updated, repeat("_data"), new_data), maxlen=0)
            self.momentum_buffers = buffers

    def zero_grad(self) -> None:
        """Set every parameter's ``grad`` to 0.0, ready for the next ``backward``.

        Example:
            >>> w = Value(1.0)
            >>> w.grad = 5.0
            >>> SGD([w], lr=0.1).zero_grad()
            >>> w.grad
            0.0
        """
        for param in self.params:
            param.grad = 0.0

    def __repr__(self) -> str:
        return (
            f"SGD({len(self.params)} params, lr={self.lr!r}, momentum={self.momentum!r}, "
            f"dampening={self.dampening!r}, weight_decay={self.weight_decay!r}, "
            f"nesterov={self.nesterov!r}, maximize={self.maximize!r})"
        )


def _check_params(params: Iterable[Value]) -> tuple[Value, ...]:
    """Materialise ``params`` and check each is a distinct leaf Value."""
    if isinstance(params, Value):
        raise TypeError(
            "SGD: params must be an iterable of Values, got a single Value; wrap it: [v]"
        )
    try:
        collected = tuple(params)
    except TypeError:
        raise TypeError(
            f"SGD: params must be an iterable of Values, got {type(params).__name__}"
        ) from None
    if not collected:
        raise ValueError("SGD: params is empty; pass the Values to optimise")
    seen: set[int] = set()
    for position, param in enumerate(collected):
        if not isinstance(param, Value):
            raise TypeError(f"SGD: params[{position}] must be a Value, got {type(param).__name__}")
        name = _name(position, param)
        if param.op is not None:
            raise ValueError(
                f"SGD: {name} is the result of op {param.op.name!r}, not a leaf; only leaves "
                "(inputs and parameters) can be optimised"
            )
        if id(param) in seen:
            raise ValueError(f"SGD: {name} appears more than once; it would be updated twice")
        seen.add(id(param))
    return collected


def _name(position: int, param: Value) -> str:
    """How errors call a parameter: ``params[3] ('w')``."""
    return f"params[{position}]" + (f" ({param.label!r})" if param.label else "")
