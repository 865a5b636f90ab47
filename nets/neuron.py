"""Tutorial 000: one sigmoid neuron, no bias, learning to output 0.3 for the input 0.1.

This module owns that tutorial's data, model, loss and training run, and the tutorial's own
(slipped) hand-written gradient for comparison. It does not own the training loop
(``nets.training``: the graph is recorded once and replayed, or built at every step with
``eager=True``, with the same numbers) nor any drawing (``nets.plots``, ``autodiff.viz``).

The network: ``sop = w·x`` (the tutorial's "sum of products"), ``predicted = sigmoid(sop)``,
``error = (predicted - target)²`` with x = 0.1 and target = 0.3; the weight is drawn from
[0, 1) (the tutorial uses ``numpy.random.rand()``; here ``random.Random(seed).random()``).
With lr 0.5 and 10 000 steps the prediction reaches 0.3 to within 0.002 from any starting weight
in [0, 1) (0.3016 from seed 0's w = 0.8444); lr 0.01 is much slower, as the tutorial says.

``--inputs N`` (``train(inputs=N)``) gives the neuron N inputs, as the tutorial's sequel
announces: every input is 0.1 and the weights are labelled w1 ... wN (one input: "w").

The tutorial's slip: its backward pass computes ``activation_sop_deriv(predicted)``, the sigmoid
derivative at the *prediction*, where the chain rule needs it at the *sum of products*:

    engine (correct):   dE/dw = 2 (p - t) · σ'(sop) · x   with σ'(sop) = p (1 - p)
    tutorial (slipped): dE/dw = 2 (p - t) · σ'(p)   · x   with σ'(p)   = σ(p) (1 - σ(p))

``tutorial_gradient`` computes the slipped one by hand; ``engine_gradient`` asks the engine.

Example:
    >>> history = train()  # lr 0.5, 10 000 steps, seed 0
    >>> first, last = history.outputs["predicted"][0], history.outputs["predicted"][-1]
    >>> print(f"{first:.4f} -> {last:.4f}")
    0.5211 -> 0.3016
"""

from __future__ import annotations

import math
import numbers
import operator
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

from autodiff import Value, gradients, topological_order
from nets.module import Neuron
from nets.network import Network, Option
from nets.training import Callback, History, check_seed, check_steps, fit

__all__ = [
    "DEFAULT_LR",
    "DEFAULT_SEED",
    "DEFAULT_STEPS",
    "NETWORK",
    "SLIP_DOCS",
    "TARGET",
    "TUTORIAL_LRS",
    "X",
    "details",
    "engine_gradient",
    "figures",
    "graph",
    "inputs_for",
    "loss",
    "model",
    "notes",
    "train",
    "tutorial_gradient",
]

X = 0.1
"""The tutorial's input."""
TARGET = 0.3
"""The tutorial's target output."""
DEFAULT_STEPS = 10_000
DEFAULT_LR = 0.5
DEFAULT_SEED = 0
TUTORIAL_LRS = (0.01, 0.5)
"""The two learning rates the tutorial compares in its figures."""


def inputs_for(n_inputs: int) -> list[float]:
    """Return the inputs for an ``n_inputs``-input neuron: the tutorial's 0.1 on every input.

    Example:
        >>> inputs_for(3)
        [0.1, 0.1, 0.1]
    """
    if isinstance(n_inputs, bool) or not isinstance(n_inputs, numbers.Integral) or n_inputs < 1:
        raise ValueError(f"neuron: inputs must be an int >= 1, got {n_inputs!r}")
    return [X] * operator.index(n_inputs)  # numpy's integers count as ints


def _labels(n_inputs: int) -> list[str]:
    return ["w"] if n_inputs == 1 else [f"w{i}" for i in range(1, n_inputs + 1)]


def model(n_inputs: int = 1, *, seed: int = DEFAULT_SEED) -> Neuron:
    """Return the tutorial's neuron: sigmoid, no bias, weights drawn from [0, 1) with ``seed``.

    Example:
        >>> print(f"{model(seed=0).weights[0].data:.4f}")
        0.8444
    """
    inputs_for(n_inputs)  # validates n_inputs
    return Neuron(
        n_inputs,
        rng=seed,
        activation="sigmoid",
        bias=False,
        low=0.0,
        high=1.0,
        weight_labels=_labels(n_inputs),
    )


def loss(
    neuron: Neuron, inputs: Sequence[float] | None = None, target: float = TARGET
) -> tuple[Value, Value]:
    """Return ``(error, predicted)``: the squared error ``(predicted - target)²`` and the output.

    Args:
        neuron: The model.
        inputs: The inputs (default: 0.1 on every input).
        target: The desired output.

    Example:
        >>> error, predicted = loss(Neuron.from_weights([0.0], None, activation="sigmoid"))
        >>> print(f"{predicted.data:.2f} {error.data:.2f}")  # sigmoid(0) = 0.5; 0.2² = 0.04
        0.50 0.04
    """
    xs = inputs_for(neuron.n_inputs) if inputs is None else list(inputs)
    predicted = neuron(xs, sum_label="sop", out_label="predicted")
    error = (predicted - target) ** 2
    error.label = "error"
    return error, predicted


def train(
    steps: int = DEFAULT_STEPS,
    lr: float = DEFAULT_LR,
    seed: int = DEFAULT_SEED,
    callback: Callback | None = None,
    *,
    inputs: int = 1,
    eager: bool = False,
) -> History:
    """Train the neuron by SGD; the history records the loss, weights and "predicted".

    The graph is the same at every step (no ``if`` on a number), so it is recorded once and
    replayed (``autodiff.Tape``, python backend: eager's numbers bit for bit).

    Args:
        steps: Number of updates.
        lr: Learning rate.
        seed: Seed the weights are drawn with.
        callback: Called after each update as ``callback(step, loss)``.
        inputs: Number of inputs (each 0.1).
        eager: Build the graph afresh at every step instead (slower; the same numbers).

    Example:
        >>> h = train(steps=1, lr=0.5, seed=0)
        >>> print(f"{h.params['w'][0]:.6f} -> {h.params['w'][1]:.6f}")
        0.844422 -> 0.838904
        >>> train(steps=50, eager=True).losses == train(steps=50).losses
        True
    """
    steps, seed = check_steps(steps, "neuron"), check_seed(seed, "neuron")
    neuron = model(inputs, seed=seed)

    def build() -> tuple[Value, dict[str, Value]]:
        error, predicted = loss(neuron)
        return error, {"predicted": predicted}

    # python, not numpy: numpy's exp (in the sigmoid) may differ from math.exp in the last bit.
    return fit(
        neuron,
        build,
        net="neuron",
        steps=steps,
        lr=lr,
        seed=seed,
        callback=callback,
        tape=None if eager else "python",
    )


def graph(params: Mapping[str, float]) -> Value:
    """Build the loss at ``params`` (weights by label), backpropagate, and return the loss.

    The returned graph holds every node's data and gradient, ready to draw.

    Example:
        >>> root = graph({"w": 0.5})
        >>> print(f"{root.data:.6f}")  # (sigmoid(0.05) - 0.3)²
        0.045155
    """
    neuron = Neuron.from_weights(
        list(params.values()), None, activation="sigmoid", weight_labels=list(params)
    )
    root, _ = loss(neuron)
    root.backward()
    return root


def engine_gradient(
    weights: Sequence[float], inputs: Sequence[float] | None = None, target: float = TARGET
) -> list[float]:
    """Return dE/dw for each weight as the engine computes it (the correct chain rule).

    Example:
        >>> print(f"{engine_gradient([0.5])[0]:.8f}")  # 2 (p - 0.3) p (1 - p) 0.1, p = σ(0.05)
        0.01061823
    """
    neuron = Neuron.from_weights(list(weights), None, activation="sigmoid")
    error, _ = loss(neuron, inputs, target)
    return [float(g) for g in gradients(error, neuron.weights)]


def tutorial_gradient(
    weights: Sequence[float], inputs: Sequence[float] | None = None, target: float = TARGET
) -> list[float]:
    """Return dE/dw for each weight as tutorial 000's code computes it, slip included.

    The tutorial multiplies g1 = 2 (p - t), g2 = σ(p) (1 - σ(p)) and g3 = x, evaluating the
    sigmoid derivative at the prediction p instead of at the sum of products.

    Example:
        >>> print(f"{tutorial_gradient([0.5])[0]:.8f}")  # vs 0.01061823 from the engine
        0.00995665
    """
    xs = inputs_for(len(weights)) if inputs is None else list(inputs)
    sop = sum(w * x for w, x in zip(weights, xs, strict=True))
    predicted = _sigmoid(sop)
    g1 = 2.0 * (predicted - target)
    g2 = _sigmoid(predicted) * (1.0 - _sigmoid(predicted))  # the slip: should be at sop
    return [x * g2 * g1 for x in xs]


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


# -- what the command line shows (nets.network.Network) --------------------------------------


def details(history: History) -> dict[str, Any]:
    """Return the numbers the table prints for a run: its first step, forward and backward.

    ``first_step`` holds sop, predicted and error at the starting weights, the engine's
    gradient of the error with respect to each of them and each weight (``gradients``), and the
    tutorial's slipped gradient for each weight (``tutorial_gradients``).

    Example:
        >>> numbers = details(train(steps=1))
        >>> first = numbers["first_step"]
        >>> print(f"{first['predicted']:.8f} {first['gradients']['w']:.8f}")
        0.52109801 0.01103522
        >>> print(f"{first['tutorial_gradients']['w']:.8f}")
        0.01033713
    """
    start = history.initial_params
    root = graph(start)
    nodes = {node.label: node for node in topological_order(root)}
    forward = {name: nodes[name].data for name in ("sop", "predicted", "error")}
    grads = {name: float(nodes[name].grad or 0.0) for name in ("predicted", "sop", *start)}
    slipped = tutorial_gradient(list(start.values()))
    return {
        "inputs": len(start),
        "first_step": {
            **forward,
            "gradients": grads,
            "tutorial_gradients": dict(zip(start, slipped, strict=True)),
        },
    }


def notes(history: History) -> list[str]:
    """Return the table's closing lines: the prediction, and the engine's and tutorial's gradient.

    Example:
        >>> for line in notes(train(steps=1)):
        ...     print(line)
        prediction 0.5210 (target 0.3).
        first-step gradient dE/dw: engine 0.01103522; the tutorial's code gives 0.01033713
        (its backward pass takes sigmoid' at the prediction instead of at the sum;
        see "The tutorial's slip" in the docs: docs/tutorials/neuron.md#the-tutorials-slip).
    """
    first = details(history)["first_step"]
    weight = next(iter(history.params))
    return [
        f"prediction {history.final_outputs['predicted']:.4f} (target {TARGET}).",
        f"first-step gradient dE/d{weight}: engine {first['gradients'][weight]:.8f}; "
        f"the tutorial's code gives {first['tutorial_gradients'][weight]:.8f}",
        "(its backward pass takes sigmoid' at the prediction instead of at the sum;",
        f'see "The tutorial\'s slip" in the docs: {SLIP_DOCS}).',
    ]


SLIP_DOCS = "docs/tutorials/neuron.md#the-tutorials-slip"
"""Where the documentation explains the tutorial's slip (a page and its heading's anchor)."""


def figures(history: History, folder: pathlib.Path) -> list[pathlib.Path]:
    """Draw the run's prediction and error, with the tutorial's two learning rates for comparison.

    The run is drawn in full; each of ``TUTORIAL_LRS`` that is not the run's own is trained from
    the same seed for the same number of steps and drawn dashed, named in the legend as the
    tutorial's comparison. Needs matplotlib.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     paths = figures(train(steps=5, lr=0.1), pathlib.Path(folder))
        ...     print([path.name for path in paths])
        ['neuron_prediction.png', 'neuron_error.png']
    """
    from nets import plots

    seed = DEFAULT_SEED if history.seed is None else history.seed
    comparison = [
        train(steps=history.steps, lr=lr, seed=seed, inputs=len(history.params))
        for lr in TUTORIAL_LRS
        if not math.isclose(lr, history.lr)
    ]
    return plots.neuron_figures([history], folder, comparison=comparison)


MAX_INPUTS = 100_000
"""The most inputs ``--inputs`` takes: one step of a neuron that wide already takes seconds and
hundreds of megabytes (its graph has three Values per input), and every step's weights are kept."""


def _parse_inputs(text: str) -> int:
    if not text.isascii() or "_" in text:  # int() reads "1_000" and other scripts' digits
        raise ValueError(
            f"must be written with the digits 0-9 (no '_', no other scripts' digits), got {text!r}"
        )
    try:
        count = int(text)
    except ValueError:
        raise ValueError(f"must be a whole number, got {text!r}") from None
    if count < 1:
        raise ValueError(f"must be at least 1, got {count}")
    if count > MAX_INPUTS:
        raise ValueError(f"must be at most {MAX_INPUTS}, got {count}")
    return count


NETWORK = Network(
    name="neuron",
    description="tutorial 000: one sigmoid neuron, no bias, x = 0.1, target 0.3, squared error",
    steps=DEFAULT_STEPS,
    lr=DEFAULT_LR,
    seed=DEFAULT_SEED,
    train=train,
    # --inputs needs no passing on to the pictures and notes: the history has one weight per input.
    graph=lambda history, **_: graph(history.initial_params),
    graph_title="tutorial 000: one sigmoid neuron, first step (forward and backward)",
    details=lambda history, **_: details(history),
    notes=lambda history, **_: notes(history),
    figures=lambda history, folder, **_: figures(history, folder),
    figure_names=("neuron_prediction.png", "neuron_error.png"),
    options=(
        Option(
            "--inputs",
            "inputs",
            "number of inputs of the neuron, each 0.1 (default: 1)",
            parse=_parse_inputs,
            metavar="N",
        ),
    ),
)
"""Tutorial 000 as the command line runs it (see ``nets.network``)."""
