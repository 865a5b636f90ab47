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

__all__ = ["Build", "Callback", "Evaluate", "History", "check_steps", "fit", "fit_replayed"]

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
        ValueError: ``steps`` or ``lr`` is negative, or a loss is not finite.

    Example:
        >>> from nets.module import Neuron
        >>> n = Neuron.from_weights([1.0], bias=None)
        >>> h = fit(n, lambda: (n([1.0]) ** 2, {}), net="n", steps=1, lr=0.25, seed=None)
        >>> h.losses, h.params["w1"]   # w <- 1 - 0.25 * 2 * 1
        ([1.0, 0.25], [1.0, 0.5])
    """
    check_steps(steps, "fit")
    optimizer = SGD(model.parameters(), lr=lr)
    named = model.named_parameters()
    history = History(net, steps, float(lr), seed, params={name: [] for name, _ in named})

    def record(loss: Value, outputs: dict[str, float], step: int) -> None:
        if not math.isfinite(loss.data):
            raise ValueError(
                f"{net}: loss became {loss.data} at step {step}; is lr {lr} too large?"
            )
        history.losses.append(loss.data)
        for name, param in named:
            history.params[name].append(param.data)
        for name, number in outputs.items():
            history.outputs.setdefault(name, []).append(number)

    for step in range(steps):
        loss, outputs = evaluate()
        record(loss, outputs, step)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if callback is not None:
            callback(step + 1, loss.data)
    with no_grad():
        loss, outputs = evaluate()
    record(loss, outputs, steps)
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
        ValueError: ``steps`` or ``lr`` is negative, or a loss is not finite.

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
    optimizer = SGD(model.parameters(), lr=lr)
    named = model.named_parameters()
    history = History(net, steps, float(lr), seed, params={name: [] for name, _ in named})
    loss, outputs = build()
    names = list(outputs)
    tape = Tape(loss, backend=backend, watch=[outputs[name] for name in names])

    def record(value: float, step: int) -> None:
        if not math.isfinite(value):
            raise ValueError(f"{net}: loss became {value} at step {step}; is lr {lr} too large?")
        history.losses.append(value)
        for name, param in named:
            history.params[name].append(param.data)
        for name, number in zip(names, tape.watched(), strict=True):
            history.outputs.setdefault(name, []).append(number)

    for step in range(steps):
        value = tape.forward()
        record(value, step)
        optimizer.zero_grad()
        tape.backward()
        optimizer.step()
        if callback is not None:
            callback(step + 1, value)
    record(tape.forward(), steps)
    return history
