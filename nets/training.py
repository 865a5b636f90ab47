"""The training loop the three tutorials share, and the ``History`` it returns.

This module owns the loop (evaluate the loss, backward, one ``autodiff.optim.SGD`` step) and what
is recorded along the way: ``fit`` builds the graph afresh at every step, ``fit_replayed``
records it once and replays it (``autodiff.Tape``), with the same numbers, many times faster.
It does not know any particular network: each tutorial module (``nets.neuron``,
``nets.hidden``, ``nets.celsius``) builds its model and loss and calls ``fit``.

Example:
    >>> from nets.module import Neuron
    >>> line = Neuron.from_weights([0.0], bias=None, weight_labels=["w"])
    >>> def evaluate():
    ...     out = line([2.0])
    ...     return (out - 6.0) ** 2, {"out": out.data}
    >>> history = fit(line, evaluate, net="line", steps=50, lr=0.05, seed=None)
    >>> print(f"{history.final_params['w']:.4f} {history.final_loss:.6f}")
    3.0000 0.000000
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from autodiff import Tape, Value, no_grad
from autodiff.optim import SGD
from autodiff.tape import Backend
from nets.module import Module

__all__ = [
    "Build",
    "Callback",
    "Evaluate",
    "History",
    "TrainingInterrupted",
    "check_steps",
    "fit",
    "fit_replayed",
]

Callback = Callable[[int, float], None]
"""Called after each update with the step number (1 .. steps) and the loss before that update."""

Evaluate = Callable[[], tuple[Value, dict[str, float]]]
"""Builds the loss at the current parameters; returns it and named outputs worth recording."""

Build = Callable[[], tuple[Value, dict[str, Value]]]
"""Builds the loss graph; returns it and named output nodes to record (``fit_replayed``)."""


@dataclass
class History:
    """What one training run did: losses, parameters and outputs at every step.

    Entry ``k`` of each list is measured at the parameters after ``k`` updates, so each list
    has ``steps + 1`` entries: the first is the untrained model, the last the trained one.

    Attributes:
        net: Which network was trained ("neuron", "hidden", "celsius", ...).
        steps: Number of SGD updates.
        lr: Learning rate.
        seed: Seed the parameters were drawn with (None when nothing is random).
        losses: Loss after 0, 1, ..., steps updates.
        params: Each parameter's number after 0, 1, ..., steps updates, by name.
        outputs: Named network outputs (e.g. "prediction") after 0, 1, ..., steps updates.

    Example:
        >>> h = History("demo", 1, 0.1, 0, losses=[4.0, 1.0], params={"w": [0.0, 1.0]})
        >>> h.initial_loss, h.final_loss, h.final_params
        (4.0, 1.0, {'w': 1.0})
    """

    net: str
    steps: int
    lr: float
    seed: int | None
    losses: list[float] = field(default_factory=list)
    params: dict[str, list[float]] = field(default_factory=dict)
    outputs: dict[str, list[float]] = field(default_factory=dict)

    @property
    def initial_loss(self) -> float:
        """The loss before any update."""
        return self.losses[0]

    @property
    def final_loss(self) -> float:
        """The loss after the last update."""
        return self.losses[-1]

    @property
    def initial_params(self) -> dict[str, float]:
        """Each parameter's number before any update."""
        return {name: values[0] for name, values in self.params.items()}

    @property
    def final_params(self) -> dict[str, float]:
        """Each parameter's number after the last update."""
        return {name: values[-1] for name, values in self.params.items()}

    @property
    def initial_outputs(self) -> dict[str, float]:
        """Each recorded output before any update."""
        return {name: values[0] for name, values in self.outputs.items()}

    @property
    def final_outputs(self) -> dict[str, float]:
        """Each recorded output after the last update."""
        return {name: values[-1] for name, values in self.outputs.items()}

    def summary(self) -> dict[str, Any]:
        """Return the run as a JSON-ready dict: settings, first and last loss, parameters.

        Example:
            >>> h = History("demo", 1, 0.1, 0, losses=[4.0, 1.0], params={"w": [0.0, 1.0]})
            >>> h.summary()["params"]
            {'w': 1.0}
        """
        return {
            "net": self.net,
            "steps": self.steps,
            "lr": self.lr,
            "seed": self.seed,
            "initial_loss": self.initial_loss,
            "final_loss": self.final_loss,
            "initial_params": self.initial_params,
            "params": self.final_params,
            "outputs": self.final_outputs,
        }


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during ``fit``: still a ``KeyboardInterrupt``, carrying the run so far.

    Attributes:
        history: The steps completed and recorded before the interruption (``history.steps``
            of them), or None if not even the untrained loss was recorded.
        planned: The number of steps the run was asked for.

    Example:
        >>> error = TrainingInterrupted(None, planned=10)
        >>> isinstance(error, KeyboardInterrupt), error.planned
        (True, 10)
    """

    def __init__(self, history: History | None, planned: int) -> None:
        done = "no step" if history is None else f"step {history.steps}"
        super().__init__(f"training interrupted at {done} of {planned}")
        self.history = history
        self.planned = planned


def _so_far(history: History) -> History | None:
    """The part of ``history`` recorded in full: every list cut to the shortest one."""
    lists = [history.losses, *history.params.values(), *history.outputs.values()]
    recorded = min(len(values) for values in lists)
    if recorded == 0:
        return None
    return History(
        history.net,
        recorded - 1,
        history.lr,
        history.seed,
        losses=history.losses[:recorded],
        params={name: values[:recorded] for name, values in history.params.items()},
        outputs={name: values[:recorded] for name, values in history.outputs.items()},
    )


def check_steps(steps: object, where: str) -> int:
    """Return ``steps`` if it is an int >= 0, else raise.

    Raises:
        TypeError: ``steps`` is not an int.
        ValueError: ``steps`` is negative.

    Example:
        >>> check_steps(10, "train")
        10
    """
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"{where}: steps must be an int, got {type(steps).__name__}")
    if steps < 0:
        raise ValueError(f"{where}: steps must be >= 0, got {steps}")
    return steps


def fit(
    model: Module,
    evaluate: Evaluate,
    *,
    net: str,
    steps: int,
    lr: float,
    seed: int | None,
    callback: Callback | None = None,
) -> History:
    """Train ``model`` by plain SGD on the loss ``evaluate`` builds, recording every step.

    Each step builds the loss graph afresh from the current parameters, zeroes the gradients,
    backpropagates and updates. The loss after the last update is evaluated without recording
    a graph.

    Args:
        model: The module whose parameters are trained.
        evaluate: Builds the loss (and named outputs) at the current parameters.
        net: Name recorded in the history.
        steps: Number of updates (>= 0).
        lr: Learning rate (>= 0).
        seed: Seed recorded in the history.
        callback: Called after each update as ``callback(step, loss)``.

    Raises:
        ValueError: ``steps`` or ``lr`` is negative, or the loss is not finite (a number
            overflowing on the way counts as an infinite loss): the message names the step
            and asks whether ``lr`` is too large.
        TrainingInterrupted: Ctrl-C (a ``KeyboardInterrupt``) arrived; it carries the
            history of the steps completed so far.

    Example:
        >>> from nets.module import Neuron
        >>> n = Neuron.from_weights([1.0], bias=None)
        >>> h = fit(n, lambda: (n([1.0]) ** 2, {}), net="n", steps=1, lr=0.25, seed=None)
        >>> h.losses, h.params["w1"]   # w <- 1 - 0.25 * 2 * 1
        ([1.0, 0.25], [1.0, 0.5])
    """
    check_steps(steps, "fit")
    built: list[Value] = []

    def forward() -> tuple[float, dict[str, float]]:
        loss, outputs = evaluate()
        built[:] = [loss]
        return loss.data, outputs

    def last() -> tuple[float, dict[str, float]]:
        with no_grad():
            loss, outputs = evaluate()
        return loss.data, outputs

    return _train(model, forward, lambda: built[0].backward(), last, net, steps, lr, seed, callback)


def _train(
    model: Module,
    forward: Callable[[], tuple[float, dict[str, float]]],
    backward: Callable[[], object],
    last: Callable[[], tuple[float, dict[str, float]]],
    net: str,
    steps: int,
    lr: float,
    seed: int | None,
    callback: Callback | None,
) -> History:
    """The loop ``fit`` and ``fit_replayed`` share: forward, zero, backward, update, record."""
    optimizer = SGD(model.parameters(), lr=lr)
    named = model.named_parameters()
    history = History(net, steps, float(lr), seed, params={name: [] for name, _ in named})

    def diverged(loss: float, step: int) -> ValueError:
        return ValueError(f"{net}: loss became {loss} at step {step}; is lr {lr:g} too large?")

    def record(loss: float, outputs: dict[str, float], step: int) -> None:
        if not math.isfinite(loss):
            raise diverged(loss, step)
        history.losses.append(loss)
        for name, param in named:
            history.params[name].append(param.data)
        for name, number in outputs.items():
            history.outputs.setdefault(name, []).append(number)

    step = 0
    try:
        for step in range(steps):
            loss, outputs = forward()
            record(loss, outputs, step)
            optimizer.zero_grad()
            backward()
            optimizer.step()
            if callback is not None:
                callback(step + 1, loss)
        step = steps
        loss, outputs = last()
        record(loss, outputs, steps)
    except OverflowError:
        # An operation whose result does not fit in a float (exp, **) raises instead of
        # returning inf; for the learner it is the same event as a loss that became inf.
        raise diverged(math.inf, step) from None
    except KeyboardInterrupt:
        raise TrainingInterrupted(_so_far(history), steps) from None
    return history


def fit_replayed(
    model: Module,
    build: Build,
    *,
    net: str,
    steps: int,
    lr: float,
    seed: int | None,
    callback: Callback | None = None,
    backend: Backend = "auto",
) -> History:
    """``fit``, replaying one recorded graph (``autodiff.Tape``) instead of building it anew.

    ``build`` is called once; its graph is recorded with the model's parameters live, and each
    step replays it with their current numbers. The history is the one ``fit`` gives for the
    same model and loss (bit for bit with the python backend), as long as the graph does not
    depend on the numbers (no ``if`` on ``.data``; see ``autodiff.tape``).

    Args:
        model: The module whose parameters are trained.
        build: Builds the loss at the current parameters, and named output nodes to record.
        net: Name recorded in the history.
        steps: Number of updates (>= 0).
        lr: Learning rate (>= 0).
        seed: Seed recorded in the history.
        callback: Called after each update as ``callback(step, loss)``.
        backend: The tape's backend.

    Raises:
        ValueError: ``steps`` or ``lr`` is negative, or a loss is not finite (as ``fit``).
        TrainingInterrupted: Ctrl-C arrived (as ``fit``).

    Example:
        >>> from nets.module import Neuron
        >>> n = Neuron.from_weights([1.0], bias=None)
        >>> def build():
        ...     out = n([1.0])
        ...     return out**2, {"out": out}
        >>> h = fit_replayed(n, build, net="n", steps=1, lr=0.25, seed=None)
        >>> h.losses, h.params["w1"], h.outputs["out"]
        ([1.0, 0.25], [1.0, 0.5], [1.0, 0.5])
    """
    check_steps(steps, "fit_replayed")
    loss, outputs = build()
    names = list(outputs)
    tape = Tape(loss, backend=backend, watch=[outputs[name] for name in names])

    def forward() -> tuple[float, dict[str, float]]:
        value = tape.forward()
        return value, dict(zip(names, tape.watched(), strict=True))

    return _train(model, forward, tape.backward, forward, net, steps, lr, seed, callback)
