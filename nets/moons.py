"""micrograd's demo: an MLP 2-16-16-1 learns to separate two interleaving half moons.

This module owns that network's data, model, loss, training run, accuracy, decision boundary
and figures, and what the command line shows of it (``NETWORK``: ``python -m nets moons``). It
builds the model from ``nets.module.MLP`` and trains it with ``nets.training.fit``, replaying
one recorded graph (``autodiff.Tape``), so the 100 steps over a 65,000-node graph take under a
second; ``eager=True`` builds the graph afresh at every step instead, with the same numbers.

The demo, as in micrograd's notebook (github.com/karpathy/micrograd, ``demo.ipynb``):

* 100 points on two half circles with Gaussian noise (standard deviation 0.1), labelled -1 (the
  upper moon) and +1 (the lower one), drawn with numpy alone: the same recipe as
  scikit-learn's ``make_moons`` (points evenly spaced along each half circle, shuffled, then
  noise added), without depending on it.
* An MLP 2-16-16-1 with ReLU on the hidden layers and a linear output: the score. Weights are
  drawn uniformly from [-1, 1), layer by layer and neuron by neuron; biases start at 0.
* The max-margin loss ``mean(relu(1 - y * score)) + 1e-4 * sum(p * p)``: a point costs nothing
  once its score has the right sign with a margin of 1; the second term (L2) keeps weights small.
* 100 steps of SGD with the learning rate falling linearly, ``1.0 - 0.9 * k / 100`` at step k
  (a schedule: the command line has no ``--lr`` for this network).
  The accuracy is the share of points whose score has the sign of their label.

``match_micrograd=True`` follows the notebook exactly: numpy's and Python's random generators
seeded with 1337 and used in its order (the data shuffled and noised by numpy's legacy
generator, the weights drawn by Python's), so the losses and accuracies printed at every step
of the notebook are reproduced (to 1e-14 here; they differ from the notebook only in the order
floating-point sums are added).

Example:
    >>> history = train(steps=2, match_micrograd=True)
    >>> print(f"{history.losses[0]:.10f} {history.outputs['accuracy'][0]:.2f}")
    0.8958441029 0.50
    >>> print(f"{history.losses[1]:.10f} {history.outputs['accuracy'][1]:.2f}")
    1.7235905337 0.81
"""

from __future__ import annotations

import functools
import math
import numbers
import operator
import pathlib
import random
from collections.abc import Mapping, Sequence
from typing import Any

from autodiff import Tape, Value, no_grad, to_float
from nets.module import MLP
from nets.network import Network, Option
from nets.training import Callback, History, Measure, check_seed, check_steps, fit

__all__ = [
    "ALPHA",
    "DEFAULT_SEED",
    "DEFAULT_STEPS",
    "LAYERS",
    "LR_SCHEDULE",
    "MAX_GRID",
    "MICROGRAD_SEED",
    "NETWORK",
    "NOISE",
    "SAMPLES",
    "Point",
    "accuracy",
    "boundary",
    "check",
    "details",
    "figures",
    "graph",
    "learning_rate",
    "loss",
    "make_moons",
    "model",
    "notes",
    "output_graph",
    "train",
]

Point = tuple[float, float]
"""One data point (x, y)."""

SAMPLES = 100
"""How many points the demo uses."""
NOISE = 0.1
"""Standard deviation of the Gaussian noise added to each coordinate."""
LAYERS = (16, 16, 1)
"""Neurons per layer after the two inputs."""
ALPHA = 1e-4
"""Weight of the L2 term in the loss."""
DEFAULT_STEPS = 100
MICROGRAD_SEED = 1337
"""The seed micrograd's notebook gives numpy and Python's random module."""
DEFAULT_SEED = MICROGRAD_SEED


def make_moons(
    samples: int = SAMPLES,
    noise: float = NOISE,
    *,
    seed: int = DEFAULT_SEED,
    match_micrograd: bool = False,
) -> tuple[list[Point], list[float]]:
    """Return two interleaving half circles with noise, and their labels -1.0 and +1.0.

    The upper moon (label -1) holds ``samples // 2`` points at angles evenly spaced over
    [0, π]: (cos t, sin t); the lower moon holds the rest: (1 - cos t, 0.5 - sin t). The points
    are shuffled, then Gaussian noise of standard deviation ``noise`` is added to each
    coordinate.

    Args:
        samples: Number of points.
        noise: Standard deviation of the noise.
        seed: Seed of numpy's generator (``numpy.random.default_rng``).
        match_micrograd: Draw as micrograd's notebook did through scikit-learn: numpy's legacy
            generator (``RandomState``) seeded with ``seed``, shuffling with it, then the
            noise. With seed 1337 this gives the notebook's data exactly.

    Example:
        >>> points, labels = make_moons(4, noise=0.0, seed=0)
        >>> sorted((round(x, 2), round(y, 2), label) for (x, y), label in zip(points, labels))
        [(-1.0, 0.0, -1.0), (0.0, 0.5, 1.0), (1.0, 0.0, -1.0), (2.0, 0.5, 1.0)]
    """
    import numpy as np

    if isinstance(samples, bool) or not isinstance(samples, numbers.Integral) or samples < 2:
        raise ValueError(f"make_moons: samples must be an int >= 2, got {samples!r}")
    samples = operator.index(samples)  # numpy's integers count as ints
    if isinstance(noise, bool) or not isinstance(noise, numbers.Real):  # numpy's floats are Real
        raise ValueError(f"make_moons: noise must be a number >= 0, got {noise!r}")
    noise = to_float(noise, "make_moons")  # float32 noise is drawn in float64 like the rest
    if not 0.0 <= noise < math.inf:
        raise ValueError(f"make_moons: noise must be a finite number >= 0, got {noise!r}")
    seed = _numpy_seed(seed, "make_moons")
    upper = samples // 2
    lower = samples - upper
    t_upper = np.linspace(0.0, np.pi, upper)
    t_lower = np.linspace(0.0, np.pi, lower)
    xs = np.concatenate([np.cos(t_upper), 1.0 - np.cos(t_lower)])
    ys = np.concatenate([np.sin(t_upper), 1.0 - np.sin(t_lower) - 0.5])
    points = np.stack([xs, ys], axis=1)
    labels = np.concatenate([np.zeros(upper), np.ones(lower)])
    order = np.arange(samples)
    if match_micrograd:
        legacy = np.random.RandomState(seed)
        legacy.shuffle(order)
        points, labels = points[order], labels[order]
        points = points + legacy.normal(scale=noise, size=points.shape)
    else:
        generator = np.random.default_rng(seed)
        generator.shuffle(order)
        points, labels = points[order], labels[order]
        points = points + generator.normal(scale=noise, size=points.shape)
    return (
        [(float(x), float(y)) for x, y in points],
        [2.0 * float(label) - 1.0 for label in labels],
    )


def _numpy_seed(seed: object, where: str) -> int:
    """``seed`` as an int numpy's generators take: a whole number >= 0 (numpy refuses less)."""
    number = check_seed(seed, where)
    if number < 0:
        raise ValueError(
            f"{where}: the seed must be >= 0 (it seeds numpy's random generator, which takes "
            f"no negative seed), got {number}"
        )
    return number


def model(*, seed: int = DEFAULT_SEED) -> MLP:
    """Return the MLP 2-16-16-1 (ReLU, linear output), weights from [-1, 1), biases 0.

    Weights are drawn with ``random.Random(seed).uniform(-1, 1)`` in micrograd's order: layer
    by layer, neuron by neuron, weight by weight.

    Example:
        >>> mlp = model(seed=1337)
        >>> len(mlp.parameters())
        337
        >>> print(f"{mlp.parameters()[0].data:.6f}")
        0.235506
    """
    mlp = MLP(2, list(LAYERS), rng=seed, activation="relu", output_activation="linear")
    generator = random.Random(seed)
    mlp.load_parameter_values(
        {
            name: 0.0 if name.endswith(".b") else generator.uniform(-1.0, 1.0)
            for name, _ in mlp.named_parameters()
        }
    )
    return mlp


def loss(
    mlp: MLP, points: Sequence[Point], labels: Sequence[float], *, alpha: float = ALPHA
) -> tuple[Value, list[Value]]:
    """Return the max-margin loss with L2 term, and each point's score.

    ``mean(relu(1 - y * score)) + alpha * sum(p * p)``, written as micrograd's notebook writes
    it.

    Example:
        >>> mlp = model(seed=1337)
        >>> total, scores = loss(mlp, [(0.0, 0.0)], [1.0], alpha=0.0)
        >>> print(f"{total.data:.6f} {scores[0].data:.6f}")  # relu(1 - 0) with zero biases
        1.000000 0.000000
    """
    if len(points) != len(labels) or len(points) == 0:
        raise ValueError(
            f"moons loss: need one label per point (at least one), got {len(points)} points "
            f"and {len(labels)} labels"
        )
    scores = [mlp(list(point))[0] for point in points]
    margins = [(1 + -label * score).relu() for label, score in zip(labels, scores, strict=True)]
    data_loss = sum(margins) * (1.0 / len(margins))
    regularisation = alpha * sum(p * p for p in mlp.parameters())
    total = data_loss + regularisation
    assert isinstance(total, Value)  # sum() starts from the number 0; the terms are Values
    return total, scores


def accuracy(scores: Sequence[float], labels: Sequence[float]) -> float:
    """Return the share of points whose score has the sign of their label.

    Example:
        >>> accuracy([0.5, -2.0, 1.0], [1.0, -1.0, -1.0])
        0.6666666666666666
    """
    if len(scores) != len(labels) or len(labels) == 0:
        raise ValueError(
            f"moons.accuracy: needs one label per score (at least one), got {len(scores)} "
            f"scores and {len(labels)} labels"
        )
    right = sum((label > 0) == (score > 0) for score, label in zip(scores, labels, strict=True))
    return right / len(labels)


LR_SCHEDULE = "1.0 - 0.9·k/steps"
"""The learning-rate schedule at step k, in words: 1.0 at the first step, falling towards 0.1."""


def learning_rate(step: int, steps: int = DEFAULT_STEPS) -> float:
    """The notebook's schedule: 1.0 at step 0, falling linearly by 0.9 over ``steps`` steps.

    Raises:
        TypeError: ``step`` or ``steps`` is not an int (numpy's integers are).
        ValueError: ``step`` is negative or ``steps`` below 1.

    Example:
        >>> learning_rate(0), learning_rate(50)
        (1.0, 0.55)
    """
    for name, number, least in (("step", step, 0), ("steps", steps, 1)):
        if isinstance(number, bool) or not isinstance(number, numbers.Integral):
            raise TypeError(
                f"moons.learning_rate: {name} must be an int, got {type(number).__name__} "
                f"({number!r})"
            )
        if number < least:
            raise ValueError(f"moons.learning_rate: {name} must be >= {least}, got {number}")
    return 1.0 - 0.9 * operator.index(step) / operator.index(steps)


def train(
    steps: int = DEFAULT_STEPS,
    seed: int = DEFAULT_SEED,
    *,
    match_micrograd: bool = False,
    eager: bool = False,
    callback: Callback | None = None,
) -> History:
    """Train the MLP on the moons by SGD with the notebook's falling learning rate.

    Entry k of the history is measured after k updates: ``losses[k]`` and
    ``outputs["accuracy"][k]`` are what the notebook prints at step k. The loop is
    ``nets.training.fit``'s, with ``learning_rate`` as its schedule; the graph is the same at
    every step, so it is recorded once and replayed (``autodiff.Tape``, numpy backend).

    Args:
        steps: Number of updates; the schedule spans them (``learning_rate(k, steps)``).
        seed: Seed of the data and the weights.
        match_micrograd: Data and weights exactly as in micrograd's notebook (seed 1337).
        eager: Build the graph afresh at every step instead of replaying a ``Tape``
            (slower; the same numbers).
        callback: Called after each update as ``callback(step, loss)``.

    Raises:
        ValueError: ``steps`` is negative, the loss is not finite, or ``match_micrograd`` is
            asked for with another seed than 1337.
        nets.training.TrainingInterrupted: Ctrl-C arrived; it carries the steps done.

    Example:
        >>> history = train(steps=3, seed=0)
        >>> len(history.losses), history.lr
        (4, 1.0)
    """
    steps = check_steps(steps, "moons")
    seed = _numpy_seed(seed, "moons")
    check(seed=seed, match_micrograd=match_micrograd)
    points, labels = make_moons(seed=seed, match_micrograd=match_micrograd)
    mlp = model(seed=seed)

    def build() -> tuple[Value, dict[str, Measure]]:
        total, scores = loss(mlp, points, labels)
        return total, {"accuracy": Measure(scores, lambda numbers: accuracy(numbers, labels))}

    # numpy: the loss uses only relu, + and *, which its replay computes exactly as the eager
    # engine does (the 100 points as one array operation per node): the same numbers.
    return fit(
        mlp,
        build,
        net="moons",
        steps=steps,
        lr=functools.partial(learning_rate, steps=max(steps, 1)),
        seed=seed,
        callback=callback,
        tape=None if eager else "numpy",
    )


def check(*, seed: int, match_micrograd: bool = False) -> None:
    """Refuse settings that cannot go together: the notebook's numbers need its seed.

    Raises:
        TypeError: ``seed`` is not an int (numpy's integers are).
        ValueError: ``seed`` is negative (it seeds numpy's generator, which refuses that), or
            ``match_micrograd`` with another seed than 1337.

    Example:
        >>> check(seed=1337, match_micrograd=True)
        >>> check(seed=0, match_micrograd=True)
        Traceback (most recent call last):
        ...
        ValueError: moons: match_micrograd uses micrograd's seed 1337, got seed 0
        >>> check(seed=-1)
        Traceback (most recent call last):
        ...
        ValueError: moons: the seed must be >= 0 (it seeds numpy's random generator, which takes
        no negative seed), got -1
    """
    seed = _numpy_seed(seed, "moons")
    if match_micrograd and seed != MICROGRAD_SEED:
        raise ValueError(
            f"moons: match_micrograd uses micrograd's seed {MICROGRAD_SEED}, got seed {seed}"
        )


def _model_with(params: Mapping[str, float]) -> MLP:
    mlp = model(seed=DEFAULT_SEED)
    mlp.load_parameter_values(params)
    return mlp


def graph(params: Mapping[str, float] | None = None, samples: int = 1) -> Value:
    """Build the loss over the first ``samples`` points at ``params``, backpropagate, return it.

    The whole loss has about 65,000 nodes; one point's share has about 700, the MLP's whole
    forward pass. The score is labelled "score(i)" and the loss "loss".

    Example:
        >>> root = graph(samples=1)
        >>> root.label, len(root.parents)
        ('loss', 2)
    """
    mlp = model(seed=DEFAULT_SEED) if params is None else _model_with(params)
    points, labels = make_moons(seed=DEFAULT_SEED, match_micrograd=True)
    root, scores = loss(mlp, points[:samples], labels[:samples])
    for i, score in enumerate(scores):
        score.label = f"score({i})"
    root.label = "loss"
    root.backward()
    return root


def output_graph(
    params: Mapping[str, float] | None = None,
    *,
    seed: int = DEFAULT_SEED,
    match_micrograd: bool = False,
    sample: int = 0,
) -> Value:
    """Build one point's margin as the output neuron computes it, backpropagate, return it.

    The whole loss has about 65,000 Values, and one point's share (``graph``) 1,658: far too
    many to draw. This is the last part of that point's graph, small enough to draw and to
    explore: the output neuron's 16 weights and bias (labelled with their names, "2.0.w1" ...
    "2.0.b") applied to the second hidden layer's 16 outputs for the point, computed at
    ``params`` and entered as plain numbers (as a tutorial's inputs are), its score, and the
    point's margin ``relu(1 - y·score)`` (the L2 term is left out). After backward, each
    weight's gradient is -y times its number while the margin is positive, and 0 after.

    Args:
        params: The parameters by name (default: the starting ones for ``seed``).
        seed: Seed of the data (and of the parameters when ``params`` is None).
        match_micrograd: The data of micrograd's notebook (see ``make_moons``).
        sample: Which point.

    Example:
        >>> from autodiff import topological_order
        >>> root = output_graph()
        >>> root.label, len(topological_order(root))
        ('margin', 52)
    """
    if isinstance(sample, bool) or not isinstance(sample, numbers.Integral):
        raise TypeError(
            f"moons.output_graph: sample must be an int, got {type(sample).__name__} ({sample!r})"
        )
    if not 0 <= sample < SAMPLES:  # -1 would quietly mean the last point
        raise IndexError(
            f"moons.output_graph: sample must be the number of one of the {SAMPLES} points, "
            f"0 to {SAMPLES - 1}, got {sample}"
        )
    sample = operator.index(sample)
    seed = _numpy_seed(seed, "moons.output_graph")
    mlp = model(seed=seed) if params is None else _model_with(params)
    points, labels = make_moons(seed=seed, match_micrograd=match_micrograd)
    with no_grad():
        hidden = mlp.layers[1](mlp.layers[0](list(points[sample])))
    last = len(mlp.layers) - 1
    for name, param in mlp.named_parameters():
        if name.startswith(f"{last}."):
            param.label = name
    score = mlp.layers[last].neurons[0]([h.data for h in hidden], out_label="score")
    margin = (1 + -labels[sample] * score).relu()
    margin.label = "margin"
    margin.backward()
    return margin


MAX_GRID = 1_000_000
"""The most points ``boundary`` computes the score at (the notebook's plot has about 200)."""


def boundary(
    params: Mapping[str, float], points: Sequence[Point], step: float = 0.25
) -> tuple[list[float], list[float], list[list[float]]]:
    """The model's score on a grid around ``points``: the x values, y values and score rows.

    The grid spans the points' range widened by 1 on every side, ``step`` apart, as the
    notebook's plot does. The decision boundary is where the score changes sign.

    Raises:
        ValueError: ``points`` is empty or not finite, ``step`` is not a finite number > 0, or
            so small that the grid would have more than ``MAX_GRID`` points.

    Example:
        >>> xs, ys, rows = boundary(model(seed=0).parameter_values(), [(0.0, 0.0)], step=1.0)
        >>> len(xs), len(ys), len(rows), len(rows[0])
        (2, 2, 2, 2)
    """
    if isinstance(step, bool) or not isinstance(step, numbers.Real):
        raise TypeError(f"moons.boundary: step must be a number, got {type(step).__name__}")
    if not 0.0 < to_float(step, "moons.boundary") < math.inf:  # nan fails too
        raise ValueError(f"moons.boundary: step must be a finite number > 0, got {step!r}")
    step = to_float(step, "moons.boundary")
    if len(points) == 0:
        raise ValueError("moons.boundary: points must hold at least one point, got none")
    low_x = min(x for x, _ in points) - 1.0
    high_x = max(x for x, _ in points) + 1.0
    low_y = min(y for _, y in points) - 1.0
    high_y = max(y for _, y in points) + 1.0
    if not all(math.isfinite(bound) for bound in (low_x, high_x, low_y, high_y)):
        raise ValueError("moons.boundary: points must be finite numbers")
    columns = math.ceil((high_x - low_x) / step)
    rows_count = math.ceil((high_y - low_y) / step)
    if columns * rows_count > MAX_GRID:
        raise ValueError(
            f"moons.boundary: step {step:g} is too small for these points: the grid would have "
            f"{columns} x {rows_count} points, more than {MAX_GRID}"
        )
    mlp = _model_with(params)
    xs = [low_x + k * step for k in range(columns)]
    ys = [low_y + k * step for k in range(rows_count)]
    grid_x, grid_y = Value(0.0, label="x"), Value(0.0, label="y")
    tape = Tape(mlp([grid_x, grid_y])[0], inputs=[grid_x, grid_y])
    rows = [[tape.forward([x, y]) for x in xs] for y in ys]
    return xs, ys, rows


def figures(
    history: History, out_dir: pathlib.Path, *, match_micrograd: bool = False
) -> list[pathlib.Path]:
    """Draw the decision boundary after training and the loss and accuracy curves (PNG).

    Needs matplotlib (``nets.plots.require_matplotlib`` says how to install it). Returns the
    files written: ``moons_boundary.png`` and ``moons_loss.png``.

    Example:
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     paths = figures(train(steps=2, seed=0), pathlib.Path(folder))
        ...     print([path.name for path in paths])
        ['moons_boundary.png', 'moons_loss.png']
    """
    from nets.plots import require_matplotlib, save

    require_matplotlib()
    from matplotlib.figure import Figure

    out_dir.mkdir(parents=True, exist_ok=True)
    points, labels = make_moons(seed=history.seed or 0, match_micrograd=match_micrograd)
    xs, ys, rows = boundary(history.final_params, points)
    figure = Figure(figsize=(5.6, 5.0), dpi=120)
    ax = figure.subplots()
    sides = [[1.0 if score > 0 else 0.0 for score in row] for row in rows]
    ax.contourf(xs, ys, sides, levels=[-0.5, 0.5, 1.5], colors=["#9ecae1", "#fdae6b"], alpha=0.8)
    for label, colour, marker in ((-1.0, "#08519c", "o"), (1.0, "#a63603", "s")):
        chosen = [p for p, y in zip(points, labels, strict=True) if y == label]
        ax.scatter(
            [x for x, _ in chosen],
            [y for _, y in chosen],
            c=colour,
            s=22,
            marker=marker,
            label=f"label {label:+.0f}",
            edgecolors="white",
            linewidths=0.5,
        )
    ax.set_title(
        f"Decision boundary after {history.steps} steps "
        f"(accuracy {history.outputs['accuracy'][-1]:.0%})"
    )
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.legend(loc="upper right")
    boundary_path = save(figure, out_dir / "moons_boundary.png")

    figure = Figure(figsize=(7.0, 4.4), dpi=120)
    ax = figure.subplots()
    steps = list(range(len(history.losses)))
    ax.plot(steps, history.losses, color="#1f77b4", label="loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.grid(True, alpha=0.3)
    other = ax.twinx()
    other.plot(steps, history.outputs["accuracy"], color="#d62728", label="accuracy")
    other.set_ylabel("accuracy")
    other.set_ylim(0.0, 1.05)
    ax.set_title("Max-margin loss and accuracy")
    figure.legend(loc="center right")
    return [boundary_path, save(figure, out_dir / "moons_loss.png")]


# -- what the command line shows (nets.network.Network) --------------------------------------


def _printed(history: History, step: int) -> dict[str, float]:
    return {
        "step": step,
        "loss": history.losses[step],
        "accuracy": history.outputs["accuracy"][step],
    }


def details(history: History, *, match_micrograd: bool = False) -> dict[str, Any]:
    """Return the numbers the table prints: the accuracy, and the loop's first and last lines.

    ``printed`` holds what micrograd's training loop prints at its first and last step (the
    loss and accuracy before that step's update); ``match_micrograd`` says whether the run used
    the notebook's data and weights, so that those are the notebook's numbers.

    Example:
        >>> numbers = details(train(steps=2, match_micrograd=True), match_micrograd=True)
        >>> [f"{line['loss']:.10f}" for line in numbers["printed"]]
        ['0.8958441029', '1.7235905337']
    """
    accuracies = history.outputs["accuracy"]
    last = max(history.steps - 1, 0)
    return {
        "accuracy": {"initial": accuracies[0], "final": accuracies[-1]},
        "lr_schedule": LR_SCHEDULE,
        "printed": [_printed(history, 0)] + ([_printed(history, last)] if last else []),
        "match_micrograd": match_micrograd,
    }


def notes(history: History, *, match_micrograd: bool = False) -> list[str]:
    """Return the table's closing lines: accuracy, and the loop's lines as micrograd prints them.

    Example:
        >>> for line in notes(train(steps=2, match_micrograd=True), match_micrograd=True):
        ...     print(line)
        accuracy 50% -> 84% of the 100 points (right: the score has the label's sign).
        micrograd's loop prints the loss before each update:
          step 0 loss 0.8958441029, accuracy 50.0%
          step 1 loss 1.7235905337, accuracy 81.0%
        These are the numbers micrograd's notebook prints (its data and weights, seed 1337).
    """
    numbers = details(history, match_micrograd=match_micrograd)
    accuracy_ = numbers["accuracy"]
    lines = [
        f"accuracy {accuracy_['initial']:.0%} -> {accuracy_['final']:.0%} of the {SAMPLES} "
        "points (right: the score has the label's sign).",
        "micrograd's loop prints the loss before each update:",
    ]
    lines += [
        f"  step {line['step']} loss {line['loss']:.10f}, accuracy {line['accuracy']:.1%}"
        for line in numbers["printed"]
    ]
    if match_micrograd:
        lines.append(
            "These are the numbers micrograd's notebook prints (its data and weights, seed 1337)."
        )
    else:
        lines.append("--match-micrograd trains on the notebook's own data and weights.")
    return lines


def _train_network(
    *,
    steps: int,
    lr: float,
    seed: int,
    callback: Callback | None = None,
    eager: bool = False,
    match_micrograd: bool = False,
) -> History:
    """``train`` as the command line calls every network; ``lr`` must be the schedule's start."""
    if lr != learning_rate(0):
        raise ValueError(
            f"moons: the learning rate follows micrograd's schedule, {LR_SCHEDULE} at step k; "
            f"it cannot be set (got lr={lr})"
        )
    return train(steps, seed, match_micrograd=match_micrograd, eager=eager, callback=callback)


NETWORK = Network(
    name="moons",
    description="micrograd's demo: an MLP 2-16-16-1 (ReLU) separates two moons, max-margin loss",
    steps=DEFAULT_STEPS,
    lr=learning_rate(0),
    seed=DEFAULT_SEED,
    train=_train_network,
    graph=lambda history, **options: output_graph(
        history.initial_params, seed=history.seed or 0, **options
    ),
    graph_title=(
        "moons: one point's margin through the output neuron, first step (the hidden layers' "
        "16 outputs enter as numbers: the whole graph is too large to draw)"
    ),
    details=details,
    notes=notes,
    figures=figures,
    figure_names=("moons_boundary.png", "moons_loss.png"),
    options=(
        Option(
            "--match-micrograd",
            "match_micrograd",
            "micrograd's notebook exactly: its data and weights (seed 1337), so the run prints "
            "the notebook's losses and accuracies",
        ),
    ),
    lr_schedule=f"lr {LR_SCHEDULE} (micrograd's schedule)",
    check=check,
    list_params=False,
)
"""micrograd's demo as the command line runs it (see ``nets.network``)."""
