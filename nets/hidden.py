"""Tutorial 001: one hidden sigmoid unit, one linear output, every number printed by hand.

This module owns that tutorial's data, model, loss and training run, and the worked first step
whose every forward value, gradient and updated parameter the tutorial prints. It does not own
the training loop (``nets.training``: the graph is recorded once and replayed, or built at every
step with ``eager=True``) nor any drawing (``nets.plots``, ``autodiff.viz``).

The network, with x = 1, t = 0 and the tutorial's fixed starting parameters
W1 = 0.5, b1 = 0, W2 = -1, b2 = 0::

    z = W1·x + b1,   a = sigmoid(z),   y = W2·a + b2,   L = ½ (y - t)²

The tutorial takes one step of gradient descent with learning rate 0.01, so ``train``'s default
is one step; nothing is random, and ``seed`` is accepted (not used, and recorded as None) only
so that all three tutorials are trained the same way.

Example:
    >>> step = worked_step()
    >>> print(f"a = {step.forward['a']:.8f}, dL/dW1 = {step.gradients['W1']:.8f}")
    a = 0.62245933, dL/dW1 = 0.14628025
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, NamedTuple

from autodiff import Value
from autodiff.optim import SGD
from nets.module import Module, Neuron
from nets.network import Network
from nets.training import Callback, History, check_seed, check_steps, fit

__all__ = [
    "DEFAULT_LR",
    "DEFAULT_SEED",
    "DEFAULT_STEPS",
    "FIGURE_STEPS",
    "INITIAL_PARAMS",
    "NETWORK",
    "TARGET",
    "Forward",
    "HiddenNet",
    "WorkedStep",
    "X",
    "details",
    "figures",
    "forward",
    "graph",
    "loss",
    "notes",
    "train",
    "worked_step",
]

X = 1.0
"""The tutorial's input."""
TARGET = 0.0
"""The tutorial's target."""
INITIAL_PARAMS: Mapping[str, float] = {"W1": 0.5, "b1": 0.0, "W2": -1.0, "b2": 0.0}
"""The tutorial's starting weights and biases."""
DEFAULT_STEPS = 1
DEFAULT_LR = 0.01
DEFAULT_SEED = 0
FIGURE_STEPS = 1000
"""A run shorter than this is drawn with its training continued this far, dashed, to compare."""


class HiddenNet(Module):
    """x -> sigmoid(W1·x + b1) -> W2·a + b2: two one-input neurons in sequence.

    Args:
        params: Starting numbers for W1, b1, W2 and b2 (default: the tutorial's).

    Example:
        >>> net = HiddenNet()
        >>> net.parameter_values()
        {'W1': 0.5, 'b1': 0.0, 'W2': -1.0, 'b2': 0.0}
    """

    def __init__(self, params: Mapping[str, float] = INITIAL_PARAMS) -> None:
        missing = sorted(set(INITIAL_PARAMS) - set(params))
        if missing:
            raise KeyError(f"HiddenNet: missing parameters {missing}")
        self.hidden = Neuron.from_weights(
            [params["W1"]],
            params["b1"],
            activation="sigmoid",
            weight_labels=["W1"],
            bias_label="b1",
        )
        self.output = Neuron.from_weights(
            [params["W2"]], params["b2"], weight_labels=["W2"], bias_label="b2"
        )

    def named_parameters(self) -> list[tuple[str, Value]]:
        """Return W1, b1, W2, b2 in the tutorial's naming.

        Example:
            >>> [name for name, _ in HiddenNet().named_parameters()]
            ['W1', 'b1', 'W2', 'b2']
        """
        return self.hidden.named_parameters() + self.output.named_parameters()

    def __call__(self, x: float | Value) -> tuple[Value, Value, Value]:
        """Return ``(z, a, y)``, labelled as in the tutorial.

        Example:
            >>> z, a, y = HiddenNet()(1.0)
            >>> print(f"{z.data:.1f} {y.data:.8f}")
            0.5 -0.62245933
        """
        z = self.hidden.weighted_sum([x], label="z")
        a = self.hidden.activate(z, label="a")
        y = self.output([a], out_label="y")
        return z, a, y


class Forward(NamedTuple):
    """Every node of the forward pass, labelled as in the tutorial."""

    z: Value
    a: Value
    y: Value
    L: Value


def forward(net: HiddenNet, x: float = X, target: float = TARGET) -> Forward:
    """Run the forward pass and the loss L = ½ (y - t)²; return every node.

    Example:
        >>> nodes = forward(HiddenNet())
        >>> print(f"{nodes.L.data:.8f}")
        0.19372781
    """
    z, a, y = net(x)
    error = y - target
    error.label = "y - t"
    total = 0.5 * error**2
    total.label = "L"
    return Forward(z, a, y, total)


def loss(net: HiddenNet, x: float = X, target: float = TARGET) -> tuple[Value, Value]:
    """Return ``(L, y)``: the loss ½ (y - t)² and the network's output.

    Example:
        >>> L, y = loss(HiddenNet())
        >>> print(f"{L.data:.8f}")
        0.19372781
    """
    nodes = forward(net, x, target)
    return nodes.L, nodes.y


def train(
    steps: int = DEFAULT_STEPS,
    lr: float = DEFAULT_LR,
    seed: int = DEFAULT_SEED,
    callback: Callback | None = None,
    *,
    eager: bool = False,
) -> History:
    """Train the network by SGD from the tutorial's parameters; records the loss and ``y``.

    The graph is the same at every step, so it is recorded once and replayed
    (``autodiff.Tape``, python backend: eager's numbers bit for bit).

    Args:
        steps: Number of updates (the tutorial takes one).
        lr: Learning rate.
        seed: Accepted for the networks' common interface and not used: nothing in this
            network is random, so the history's ``seed`` is None.
        callback: Called after each update as ``callback(step, loss)``.
        eager: Build the graph afresh at every step instead (the same numbers).

    Example:
        >>> h = train()
        >>> print(f"{h.final_params['W2']:.8f}")
        -0.99612544
    """
    steps = check_steps(steps, "hidden")
    check_seed(seed, "hidden")  # the same interface as the other networks; nothing uses it
    net = HiddenNet()

    def build() -> tuple[Value, dict[str, Value]]:
        total, y = loss(net)
        return total, {"y": y}

    # python, not numpy: numpy's exp (in the sigmoid) may differ from math.exp in the last bit.
    return fit(
        net,
        build,
        net="hidden",
        steps=steps,
        lr=lr,
        seed=None,  # nothing is random: the history records no seed (None), as --json does
        callback=callback,
        tape=None if eager else "python",
    )


def graph(params: Mapping[str, float] = INITIAL_PARAMS) -> Value:
    """Build the loss at ``params``, backpropagate, and return it (every node has its grad).

    Example:
        >>> root = graph()
        >>> print(f"{root.data:.8f}")
        0.19372781
    """
    root, _ = loss(HiddenNet(params))
    root.backward()
    return root


@dataclass(frozen=True)
class WorkedStep:
    """The tutorial's printed step: forward values, gradients and updated parameters.

    Attributes:
        forward: z, a, y and L.
        gradients: dL/d of y, a, z and of each parameter (W1, b1, W2, b2).
        updated: Each parameter after one SGD step.
    """

    forward: dict[str, float]
    gradients: dict[str, float]
    updated: dict[str, float]


def worked_step(lr: float = DEFAULT_LR, params: Mapping[str, float] = INITIAL_PARAMS) -> WorkedStep:
    """Take the tutorial's one step with the engine and return every number it prints.

    The interior gradients (dL/dy, dL/da, dL/dz) are read from the graph after backward; the
    update is one step of ``autodiff.optim.SGD``, the optimiser ``train`` uses.

    Example:
        >>> step = worked_step()
        >>> print(f"{step.gradients['y']:.8f} {step.updated['b1']:.8f}")
        -0.62245933 -0.00146280
    """
    net = HiddenNet(params)
    nodes = forward(net)
    nodes.L.backward()
    values = {name: node.data for name, node in nodes._asdict().items()}
    grads = {"y": nodes.y.grad, "a": nodes.a.grad, "z": nodes.z.grad}
    grads.update({name: param.grad for name, param in net.named_parameters()})
    SGD(net.parameters(), lr=lr).step()
    return WorkedStep(forward=values, gradients=grads, updated=net.parameter_values())


# -- what the command line shows (nets.network.Network) --------------------------------------


def details(history: History) -> dict[str, Any]:
    """Return the numbers the table prints: the first step, as the tutorial prints it.

    ``first_step`` holds ``forward`` (z, a, y, L), ``gradients`` (dL/d of y, a, z and each
    parameter) and ``updated`` (each parameter after the step at the run's learning rate).

    Example:
        >>> first = details(train())["first_step"]
        >>> print(f"{first['forward']['a']:.8f} {first['gradients']['W2']:.8f}")
        0.62245933 -0.38745562
    """
    return {"first_step": asdict(worked_step(lr=history.lr, params=history.initial_params))}


def notes(history: History) -> list[str]:
    """Return the table's closing lines: every number of the first step, as the tutorial prints.

    Example:
        >>> print(notes(train())[1])
          forward:  z = 0.50000000  a = 0.62245933  y = -0.62245933  L = 0.19372781
    """
    step = details(history)["first_step"]
    forward = "  ".join(f"{k} = {v:.8f}" for k, v in step["forward"].items())
    grads = [f"dL/d{k} = {v:.8f}" for k, v in step["gradients"].items()]
    updated = "  ".join(f"{k} = {v:.8f}" for k, v in step["updated"].items())
    return [
        "first step, as tutorial 001 prints it:",
        f"  forward:  {forward}",
        f"  backward: {'  '.join(grads[:3])}",
        f"            {'  '.join(grads[3:])}",
        f"  updated:  {updated}",
    ]


def figures(history: History, folder: pathlib.Path) -> list[pathlib.Path]:
    """Draw the run's loss and output; a short run also gets its training continued, dashed.

    The tutorial takes one step, a curve of two points; so a run of fewer than
    ``FIGURE_STEPS`` steps is drawn with markers, and the same training continued to
    ``FIGURE_STEPS`` steps is drawn dashed beside it, named in the legend as a comparison that
    is not this run. Needs matplotlib.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     print([path.name for path in figures(train(), pathlib.Path(folder))])
        ['hidden_loss.png']
    """
    from nets import plots

    continued = None
    if history.steps < FIGURE_STEPS:
        continued = train(steps=FIGURE_STEPS, lr=history.lr, seed=DEFAULT_SEED)
    return [plots.hidden_figure(history, folder, continued=continued)]


NETWORK = Network(
    name="hidden",
    description="tutorial 001: x -> sigmoid(W1·x + b1) -> W2·a + b2, t = 0, L = ½ (y - t)²",
    steps=DEFAULT_STEPS,
    lr=DEFAULT_LR,
    seed=DEFAULT_SEED,
    train=train,
    graph=lambda history: graph(history.initial_params),
    graph_title="tutorial 001: one hidden unit, first step (forward and backward)",
    details=details,
    notes=notes,
    figures=figures,
    figure_names=("hidden_loss.png",),
    random=False,
)
"""Tutorial 001 as the command line runs it (see ``nets.network``)."""
