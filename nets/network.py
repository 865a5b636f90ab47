"""What every tutorial network provides: one small interface, ``Network``, that the CLI loops over.

This module owns the interface only. Each tutorial module (``nets.neuron``, ``nets.hidden``,
``nets.celsius``, ``nets.moons``) fills one ``Network`` with its own functions and exposes it as
``NETWORK``; ``nets.registry`` lists them in order. Nothing here trains, draws or prints.

A network is described by plain data and plain functions, so a learner can read one tutorial
module top to bottom and see everything the command line will do with it:

* ``name``, ``description``: how it is called on the command line and what it is, in one line.
* ``steps``, ``lr``, ``seed``: the defaults that reproduce the tutorial; ``lr_schedule`` when
  the learning rate changes from step to step (then ``lr`` is the first one and cannot be set).
* ``train(steps=, lr=, seed=, callback=, eager=, **options)``: the training run, returning a
  ``History``; ``eager=True`` builds the graph afresh at every step instead of replaying a
  recorded tape (the same numbers). ``options`` are the network's own command-line options
  (``Option``), passed only when the user gave them; ``check(seed=, **options)``, if any,
  refuses settings that cannot go together before training starts.
* ``graph(history, **options)``: the loss graph at the run's starting parameters (or the part
  of it small enough to draw), backpropagated once; ``graph_title`` says what it shows.
* ``details(history, **options)``: the numbers the tutorial prints (forward values, gradients),
  JSON-ready; ``notes(history, **options)``: the same, and any comment, as lines for the table.
* ``figures(history, folder, **options)``: the tutorial's plots of this run, as PNG files
  (matplotlib); ``figure_names`` lists the files it writes, so a caller can name them without
  drawing.

``graph``, ``details``, ``notes`` and ``figures`` get the same ``options`` as ``train``.

Example:
    >>> from nets import hidden
    >>> net = hidden.NETWORK
    >>> net.name, net.steps, net.lr
    ('hidden', 1, 0.01)
    >>> history = net.train(steps=net.steps, lr=net.lr, seed=net.seed, callback=None)
    >>> print(f"{history.final_params['W2']:.8f}")
    -0.99612544
    >>> print(f"{net.details(history)['first_step']['gradients']['W1']:.8f}")
    0.14628025
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from autodiff import Value
from nets.training import History

__all__ = ["Network", "Option"]


@dataclass(frozen=True)
class Option:
    """A command-line option that only one network understands (the neuron's ``--inputs``).

    The value reaches the network's ``train`` as the keyword argument ``dest`` (and only when
    the user gave the option), so ``train`` keeps its own default.

    Attributes:
        flag: The option as typed, e.g. ``"--inputs"``.
        dest: The keyword argument of ``train`` it sets, e.g. ``"inputs"``.
        help: One line for ``--help``.
        parse: Turns the typed text into the value (raise ``ValueError`` to refuse it), or
            None for an on/off switch that takes no value.
        metavar: The placeholder shown in the usage, e.g. ``"N"``.

    Example:
        >>> option = Option("--inputs", "inputs", "number of inputs", parse=int, metavar="N")
        >>> option.parse("3") if option.parse else None
        3
    """

    flag: str
    dest: str
    help: str
    parse: Callable[[str], Any] | None = None
    metavar: str | None = None


@dataclass(frozen=True)
class Network:
    """One tutorial network as the command line sees it (see the module docstring).

    Attributes:
        name: Its name on the command line, e.g. ``"neuron"``.
        description: One line: which tutorial and what the network is.
        steps: Default number of SGD steps (the tutorial's).
        lr: Default learning rate (the tutorial's; with ``lr_schedule``, the first step's).
        seed: Default seed for the starting parameters.
        train: ``train(steps=, lr=, seed=, callback=, eager=, **options) -> History``.
        graph: ``graph(history, **options)``: the loss graph at ``history``'s starting
            parameters (or the part of it small enough to draw), backpropagated once.
        graph_title: The title drawn above that graph.
        details: ``details(history, **options)``: the numbers the tutorial prints, as a
            JSON-ready dict.
        notes: ``notes(history, **options)``: lines the table prints under the numbers.
        figures: ``figures(history, folder, **options)``: writes the tutorial's plots of
            ``history`` into an existing folder and returns their paths; needs matplotlib
            (raises ``nets.plots.MatplotlibMissingError``).
        figure_names: The file names ``figures`` writes.
        options: The network's own command-line options.
        random: Whether the seed matters (False when the starting parameters are fixed).
        lr_schedule: The learning rate in words when it follows a schedule (``train`` then
            takes only ``lr``'s default, and the command line refuses ``--lr``); None for a
            fixed learning rate.
        check: ``check(seed=, **options)`` raises ValueError, with the reason, for settings
            that cannot go together; None when any will do.
        list_params: Whether the table lists every parameter (False for hundreds of them:
            ``--json`` still has them all).
    """

    name: str
    description: str
    steps: int
    lr: float
    seed: int
    train: Callable[..., History]
    graph: Callable[..., Value]
    graph_title: str
    details: Callable[..., dict[str, Any]]
    notes: Callable[..., list[str]]
    figures: Callable[..., list[pathlib.Path]]
    figure_names: tuple[str, ...]
    options: tuple[Option, ...] = ()
    random: bool = True
    lr_schedule: str | None = None
    check: Callable[..., None] | None = None
    list_params: bool = True

    def defaults(self) -> Mapping[str, float | int]:
        """Return the defaults as a mapping: steps, lr and seed.

        Example:
            >>> from nets import celsius
            >>> dict(celsius.NETWORK.defaults())
            {'steps': 10000, 'lr': 0.001, 'seed': 0}
        """
        return {"steps": self.steps, "lr": self.lr, "seed": self.seed}
