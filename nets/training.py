"""The training loop the tutorials share, and the ``History`` it returns.

This module owns the loop (evaluate the loss, backward, one ``autodiff.optim.SGD`` step, with a
fixed learning rate or one per step) and what is recorded along the way. A network gives a
function that builds its loss (``Build``); ``fit`` either calls it afresh at every step (the
eager engine, ``tape=None``) or calls it once, records the graph in an ``autodiff.Tape`` and
replays it at every step (``tape="python"`` or ``"numpy"``; ``fit_replayed`` is the same):
the same numbers, many times faster, as long as the graph does not depend on the numbers (no
``if`` on ``.data``). It does not know any particular network: each tutorial module
(``nets.neuron``, ``nets.hidden``, ``nets.celsius``, ``nets.moons``) builds its model and loss
and calls ``fit``.

Example:
    >>> from nets.module import Neuron
    >>> def trained(tape):
    ...     line = Neuron.from_weights([0.0], bias=None, weight_labels=["w"])
    ...     def build():
    ...         out = line([2.0])
    ...         return (out - 6.0) ** 2, {"out": out}
    ...     return fit(line, build, net="line", steps=50, lr=0.05, seed=None, tape=tape)
    >>> history = trained(tape=None)  # the eager engine: a new graph at every step
    >>> print(f"{history.final_params['w']:.4f} {history.final_loss:.6f}")
    3.0000 0.000000
    >>> trained(tape="python").losses == history.losses  # recorded once, replayed 50 times
    True
"""

from __future__ import annotations

import math
import numbers
import operator
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Union

from autodiff import Tape, Value, no_grad
from autodiff.optim import SGD
from autodiff.tape import Backend
from nets.module import Module

__all__ = [
    "Build",
    "Callback",
    "Evaluate",
    "History",
    "Measure",
    "Output",
    "Schedule",
    "TrainingInterrupted",
    "check_seed",
    "check_steps",
    "fit",
    "fit_replayed",
]

Callback = Callable[[int, float], None]
"""Called after each update with the step number (1 .. steps) and the loss before that update."""

Schedule = Callable[[int], float]
"""A learning rate per step: called with the step number, 0 .. steps - 1, before that update."""


@dataclass(frozen=True)
class Measure:
    """An output computed from the numbers of several nodes: a network's accuracy, say.

    ``fit`` reads the nodes' ``.data`` after each forward pass; through a tape, the replayed
    numbers of the same nodes. Either way ``compute`` gets them in the order of ``nodes``.

    Attributes:
        nodes: The graph's nodes it reads.
        compute: Turns their numbers into the output.

    Example:
        >>> scores = [Value(0.5), Value(-2.0), Value(1.0)]
        >>> positive = Measure(scores, lambda numbers: sum(x > 0 for x in numbers) / 3)
        >>> print(f"{positive.compute([score.data for score in positive.nodes]):.3f}")
        0.667
    """

    nodes: Sequence[Value]
    compute: Callable[[Sequence[float]], float]


Output = Union[Value, Measure, float]
"""Something recorded at every step: a node of the graph (its number), a ``Measure``, or a
number (eager only: a tape cannot update a number computed from ``.data``)."""

Build = Callable[[], tuple[Value, Mapping[str, Output]]]
"""Builds the loss at the current parameters; returns it and the named outputs to record."""

Evaluate = Build
"""The name ``fit``'s loss function had when its outputs were numbers only (they still may be)."""


@dataclass
class History:
    """What one training run did: losses, parameters and outputs at every step.

    Entry ``k`` of each list is measured at the parameters after ``k`` updates, so each list
    has ``steps + 1`` entries: the first is the untrained model, the last the trained one.

    Attributes:
        net: Which network was trained ("neuron", "hidden", "celsius", ...).
        steps: Number of SGD updates.
        lr: Learning rate (with a ``Schedule``, the one of the first step).
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


def _whole(x: object, where: str, name: str) -> int:
    """``x`` as a Python int: an int or a numpy integer (not a bool), else a TypeError."""
    if isinstance(x, bool) or not isinstance(x, numbers.Integral):  # numpy's ints are Integral
        raise TypeError(f"{where}: {name} must be an int, got {type(x).__name__} ({x!r})")
    return operator.index(x)


def check_steps(steps: object, where: str) -> int:
    """Return ``steps`` as an int if it is a whole number >= 0 (numpy's integers too), else raise.

    Raises:
        TypeError: ``steps`` is not an int or a numpy integer (a bool, a float).
        ValueError: ``steps`` is negative.

    Example:
        >>> import numpy as np
        >>> check_steps(10, "train"), check_steps(np.int64(3), "train")
        (10, 3)
    """
    count = _whole(steps, where, "steps")
    if count < 0:
        raise ValueError(f"{where}: steps must be >= 0, got {count}")
    return count


def check_seed(seed: object, where: str) -> int:
    """Return ``seed`` as an int if it is one (numpy's integers too), else raise a TypeError.

    Example:
        >>> import numpy as np
        >>> check_seed(np.int64(7), "train")
        7
        >>> check_seed(1.5, "train")
        Traceback (most recent call last):
        ...
        TypeError: train: seed must be an int, got float (1.5)
    """
    return _whole(seed, where, "seed")


def _read(outputs: Mapping[str, Output]) -> dict[str, float]:
    """The outputs' numbers as they are now (eager: each node holds its own)."""
    numbers: dict[str, float] = {}
    for name, output in outputs.items():
        if isinstance(output, Value):
            numbers[name] = output.data
        elif isinstance(output, Measure):
            numbers[name] = output.compute([node.data for node in output.nodes])
        else:
            numbers[name] = float(output)
    return numbers


def _diverged(net: str, loss: float, step: int, lr: float) -> ValueError:
    return ValueError(f"{net}: loss became {loss} at step {step}; is lr {lr:g} too large?")


def fit(
    model: Module,
    build: Build,
    *,
    net: str,
    steps: int,
    lr: float | Schedule,
    seed: int | None,
    callback: Callback | None = None,
    tape: Backend | None = None,
) -> History:
    """Train ``model`` by plain SGD on the loss ``build`` builds, recording every step.

    With ``tape=None`` (the eager engine) each step builds the loss graph afresh from the
    current parameters, zeroes the gradients, backpropagates and updates; the loss after the
    last update is evaluated without recording a graph. With a tape backend, ``build`` is
    called once and its graph replayed instead (``fit_replayed``): the same history (bit for
    bit with ``"python"``), as long as the graph does not depend on the numbers.

    Args:
        model: The module whose parameters are trained.
        build: Builds the loss (and named outputs) at the current parameters.
        net: Name recorded in the history.
        steps: Number of updates (>= 0).
        lr: Learning rate (>= 0), or a ``Schedule`` giving one per step (the history records
            the first).
        seed: Seed recorded in the history.
        callback: Called after each update as ``callback(step, loss)``.
        tape: None for the eager engine, or the ``autodiff.Tape`` backend to replay with.

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
    steps = check_steps(steps, "fit")
    if tape is not None:
        return fit_replayed(
            model,
            build,
            net=net,
            steps=steps,
            lr=lr,
            seed=seed,
            callback=callback,
            backend=tape,
        )
    built: list[Value] = []

    def forward() -> tuple[float, dict[str, float]]:
        loss, outputs = build()
        built[:] = [loss]
        return loss.data, _read(outputs)

    def last() -> tuple[float, dict[str, float]]:
        with no_grad():
            loss, outputs = build()
        return loss.data, _read(outputs)

    return _train(model, forward, lambda: built[0].backward(), last, net, steps, lr, seed, callback)


def _train(
    model: Module,
    forward: Callable[[], tuple[float, dict[str, float]]],
    backward: Callable[[], object],
    last: Callable[[], tuple[float, dict[str, float]]],
    net: str,
    steps: int,
    lr: float | Schedule,
    seed: int | None,
    callback: Callback | None,
) -> History:
    """The loop ``fit`` and ``fit_replayed`` share: forward, zero, backward, update, record."""
    schedule, first = (lr, lr(0)) if callable(lr) else (None, lr)
    optimizer = SGD(model.parameters(), lr=first)
    named = model.named_parameters()  # once: the names and the Values do not change
    history = History(net, steps, optimizer.lr, seed, params={name: [] for name, _ in named})
    columns = [(history.params[name], param) for name, param in named]

    def record(loss: float, outputs: dict[str, float], step: int) -> None:
        if not math.isfinite(loss):
            raise _diverged(net, loss, step, optimizer.lr)
        history.losses.append(loss)
        for column, param in columns:
            column.append(param.data)
        for name, number in outputs.items():
            history.outputs.setdefault(name, []).append(number)

    step = 0
    try:
        for step in range(steps):
            if schedule is not None:
                optimizer.lr = _rate(schedule, step, net)
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
        raise _diverged(net, math.inf, step, optimizer.lr) from None
    except KeyboardInterrupt:
        raise TrainingInterrupted(_so_far(history), steps) from None
    return history


def _rate(schedule: Schedule, step: int, net: str) -> float:
    """The schedule's learning rate at ``step``, checked as SGD checks a fixed one."""
    rate = float(schedule(step))
    if not 0.0 <= rate < math.inf:
        raise ValueError(
            f"{net}: the learning rate at step {step} must be finite and >= 0, got {rate}"
        )
    return rate


def fit_replayed(
    model: Module,
    build: Build,
    *,
    net: str,
    steps: int,
    lr: float | Schedule,
    seed: int | None,
    callback: Callback | None = None,
    backend: Backend = "auto",
) -> History:
    """``fit``, replaying one recorded graph (``autodiff.Tape``) instead of building it anew.

    ``build`` is called once; its graph is recorded with the model's parameters live, and each
    step replays it with their current numbers. The history is the one ``fit`` gives for the
    same model and loss (bit for bit with the python backend), as long as the graph does not
    depend on the numbers (no ``if`` on ``.data``; see ``autodiff.tape``). The outputs must be
    nodes of the graph or ``Measure``s of them: a plain number would stay as recorded.

    Args:
        model: The module whose parameters are trained.
        build: Builds the loss at the current parameters, and named outputs to record.
        net: Name recorded in the history.
        steps: Number of updates (>= 0).
        lr: Learning rate (>= 0), or a ``Schedule`` giving one per step.
        seed: Seed recorded in the history.
        callback: Called after each update as ``callback(step, loss)``.
        backend: The tape's backend.

    Raises:
        TypeError: An output is a number, not a node or a ``Measure``.
        ValueError: ``steps`` or ``lr`` is negative, or a loss is not finite (as ``fit``).
        TrainingInterrupted: Ctrl-C arrived (as ``fit``), also while the graph is recorded.

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
    steps = check_steps(steps, "fit_replayed")
    try:
        loss, outputs = build()
        watch, readers = _watch(outputs)
        recorded = Tape(loss, backend=backend, watch=watch)
    except OverflowError:
        first = lr if not callable(lr) else lr(0)
        raise _diverged(net, math.inf, 0, first) from None
    except KeyboardInterrupt:
        raise TrainingInterrupted(None, steps) from None

    def forward() -> tuple[float, dict[str, float]]:
        value = recorded.forward()
        numbers = recorded.watched()
        return value, {
            name: numbers[start] if compute is None else compute(numbers[start:stop])
            for name, start, stop, compute in readers
        }

    return _train(model, forward, recorded.backward, forward, net, steps, lr, seed, callback)


_Reader = tuple[str, int, int, Union[Callable[[Sequence[float]], float], None]]


def _watch(outputs: Mapping[str, Output]) -> tuple[list[Value], list[_Reader]]:
    """The nodes a tape must watch for ``outputs``, and where each output finds its numbers."""
    watch: list[Value] = []
    readers: list[_Reader] = []
    for name, output in outputs.items():
        start = len(watch)
        if isinstance(output, Value):
            watch.append(output)
            readers.append((name, start, start + 1, None))
        elif isinstance(output, Measure):
            watch.extend(output.nodes)
            readers.append((name, start, len(watch), output.compute))
        else:
            raise TypeError(
                f"fit_replayed: output {name!r} is a number ({type(output).__name__}); a replay "
                "cannot update it: give the node it was read from, or a Measure of nodes"
            )
    return watch, readers
