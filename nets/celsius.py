"""Tutorial 002: one linear neuron (a weight and a bias) learning Celsius -> Fahrenheit.

This module owns that tutorial's data, model, loss and training run, and a small excerpt of the
loss graph for drawing. It does not own the training loop (``nets.training``) nor any drawing
(``nets.plots``, ``autodiff.viz``).

The data are the 100 Celsius values -50, -49, ..., 49 and F = C·9/5 + 32. The model predicts
``weight·C + bias``; the loss is the mean squared error over all 100 samples, built from
``Value``s. Weight and bias start drawn from [0, 1) with the seed. Trained
10 000 steps with the default learning rate it reaches weight 1.8 and bias 32 (within 1e-6).

Why the default learning rate is 0.001: the tutorial sums the per-sample gradients without
dividing by N and uses a small learning rate; that is the same update as the mean squared
error's gradient with a learning rate N times larger. With the mean, the loss is a quadratic
whose curvature (the Hessian 2·[[mean C², mean C], [mean C, 1]] ≈ [[1667, -1], [-1, 2]]) is
1667 along the weight and about 2 along the bias. Gradient descent is stable only for
lr < 2/1667 ≈ 0.0012 (0.0012 itself diverges, slowly), and the bias error shrinks by a factor
(1 - 2·lr) per step. With lr = 0.001 the weight settles at once (factor |1 - 1.667| = 0.67 per
step) and the bias error shrinks by (0.998)^10000 ≈ 2e-9 over the 10 000 steps: well within 0.1
of 32. A smaller rate converges too slowly in 10 000 steps (lr = 1e-4 leaves the bias about 4
short). The loss graph has 500 nodes (5 per sample): built afresh at every step
(``eager=True``), the default run makes 5 million nodes, in about 5 seconds; recorded once and
replayed (``autodiff.Tape``, the default) it takes about 0.15 seconds, with the same numbers.

Example:
    >>> h = train(steps=2000)  # the bias error shrinks by 0.998 per step
    >>> print(f"{h.final_params['weight']:.4f} {h.final_params['bias']:.2f}")
    1.7997 31.43
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

from autodiff import Value, no_grad
from nets.module import Neuron
from nets.network import Network
from nets.training import Callback, History, check_seed, check_steps, fit

__all__ = [
    "CELSIUS",
    "DEFAULT_LR",
    "DEFAULT_SEED",
    "DEFAULT_STEPS",
    "EXCERPT",
    "FAHRENHEIT",
    "NETWORK",
    "TRUE_PARAMS",
    "details",
    "fahrenheit",
    "figures",
    "graph",
    "loss",
    "model",
    "notes",
    "predict",
    "train",
]


def fahrenheit(celsius: float) -> float:
    """Return the true Fahrenheit temperature for ``celsius``: C·9/5 + 32.

    Example:
        >>> fahrenheit(100.0)
        212.0
    """
    return celsius * 9.0 / 5.0 + 32.0


CELSIUS: tuple[float, ...] = tuple(float(c) for c in range(-50, 50))
"""The tutorial's 100 inputs, -50 to 49."""
FAHRENHEIT: tuple[float, ...] = tuple(fahrenheit(c) for c in CELSIUS)
"""The targets."""
EXCERPT: tuple[float, ...] = (-50.0, 0.0, 49.0)
"""The few samples the drawn graph shows instead of all 100."""
DEFAULT_STEPS = 10_000
DEFAULT_LR = 0.001
DEFAULT_SEED = 0


def model(*, seed: int = DEFAULT_SEED) -> Neuron:
    """Return the linear neuron with weight and bias drawn from [0, 1) with ``seed``.

    Example:
        >>> print(model(seed=0))
        Neuron(1 inputs, linear, bias)
        >>> print(f"{model(seed=0).weights[0].data:.4f}")
        0.8444
    """
    return Neuron(
        1,
        rng=seed,
        activation="linear",
        low=0.0,
        high=1.0,
        weight_labels=["weight"],
        bias_label="bias",
    )


def loss(
    neuron: Neuron,
    celsius: Sequence[float] = CELSIUS,
    targets: Sequence[float] | None = None,
    *,
    label_samples: bool = False,
) -> Value:
    """Return the mean squared error of ``neuron`` over the samples.

    Args:
        neuron: The model.
        celsius: The inputs.
        targets: The Fahrenheit targets (default: the true ones for ``celsius``).
        label_samples: Label each sample's prediction and squared error (for drawings).

    Example:
        >>> perfect = Neuron.from_weights([1.8], 32.0)
        >>> print(f"{loss(perfect).data:.1f}")
        0.0
        >>> off_by_one = Neuron.from_weights([1.8], 33.0)
        >>> print(f"{loss(off_by_one, [0.0, 10.0]).data:.1f}")
        1.0
    """
    if targets is None:  # the tutorial's own inputs have their targets computed once
        targets = FAHRENHEIT if celsius is CELSIUS else [fahrenheit(c) for c in celsius]
    if len(targets) != len(celsius) or not celsius:
        raise ValueError(
            f"celsius loss: need as many targets as inputs (at least one), "
            f"got {len(celsius)} inputs and {len(targets)} targets"
        )
    total: Value | None = None
    for c, f in zip(celsius, targets, strict=True):
        predicted = neuron([c])
        squared = (predicted - f) ** 2
        if label_samples:
            predicted.label = f"F̂({c:g})"
            squared.label = f"error²({c:g})"
        total = squared if total is None else total + squared
    assert total is not None  # celsius is not empty
    mean = total / len(celsius)
    mean.label = "MSE"
    return mean


def train(
    steps: int = DEFAULT_STEPS,
    lr: float = DEFAULT_LR,
    seed: int = DEFAULT_SEED,
    callback: Callback | None = None,
    *,
    eager: bool = False,
) -> History:
    """Train weight and bias by SGD on the mean squared error over all 100 samples.

    The graph is the same at every step, so it is recorded once and replayed
    (``autodiff.Tape``, numpy backend: the 100 samples as one array operation per node).

    Args:
        steps: Number of updates.
        lr: Learning rate (see the module docstring for why 0.001).
        seed: Seed the weight and bias are drawn with.
        callback: Called after each update as ``callback(step, loss)``.
        eager: Build the graph afresh at every step instead (slower; the same numbers).

    Example:
        >>> h = train(steps=1)
        >>> print(f"{h.initial_loss:.1f} -> {h.final_loss:.1f}")
        1707.3 -> 1297.3
        >>> train(steps=50, eager=True).losses == train(steps=50).losses
        True
    """
    steps, seed = check_steps(steps, "celsius"), check_seed(seed, "celsius")
    neuron = model(seed=seed)
    # numpy: the loss uses only + - * / and squares, which its replay computes exactly as the
    # eager engine does (same operations, sums added in the same order): the same numbers,
    # three times faster here than the python backend.
    return fit(
        neuron,
        lambda: (loss(neuron), {}),
        net="celsius",
        steps=steps,
        lr=lr,
        seed=seed,
        callback=callback,
        tape=None if eager else "numpy",
    )


def predict(params: Mapping[str, float], celsius: Sequence[float] = CELSIUS) -> list[float]:
    """Return the predictions ``weight·C + bias`` of a neuron with ``params``, as numbers.

    Example:
        >>> predict({"weight": 1.8, "bias": 32.0}, [100.0])
        [212.0]
    """
    neuron = Neuron.from_weights(
        [params["weight"]], params["bias"], weight_labels=["weight"], bias_label="bias"
    )
    with no_grad():
        return [neuron([c]).data for c in celsius]


def graph(params: Mapping[str, float], samples: Sequence[float] = EXCERPT) -> Value:
    """Build the loss over a few ``samples`` at ``params``, backpropagate, return the loss.

    The full loss has 100 samples, too many to draw; the excerpt has the same shape per sample.
    Each sample's prediction is labelled "F̂(C)" and its squared error "error²(C)".

    Example:
        >>> root = graph({"weight": 1.8, "bias": 30.0}, samples=[0.0])
        >>> print(f"{root.data:.1f}")  # (30 - 32)²
        4.0
    """
    neuron = Neuron.from_weights(
        [params["weight"]], params["bias"], weight_labels=["weight"], bias_label="bias"
    )
    root = loss(neuron, samples, label_samples=True)
    root.label = f"MSE over {len(samples)} samples"
    root.backward()
    return root


# -- what the command line shows (nets.network.Network) --------------------------------------

TRUE_PARAMS: Mapping[str, float] = {"weight": 1.8, "bias": 32.0}
"""The line the data follow: F = 1.8·C + 32."""


def details(history: History) -> dict[str, Any]:
    """Return the numbers the table prints: the learned line, and how far it is from the truth.

    Example:
        >>> run = History("celsius", 1, 0.001, 0, [9.0, 0.25], {"weight": [1.0, 1.8],
        ...                                                        "bias": [0.0, 31.5]})
        >>> details(run)["off_by"]
        {'weight': 0.0, 'bias': 0.5}
    """
    learned = history.final_params
    return {
        "learned": learned,
        "true": dict(TRUE_PARAMS),
        "off_by": {name: abs(learned[name] - TRUE_PARAMS[name]) for name in TRUE_PARAMS},
    }


def notes(history: History) -> list[str]:
    """Return the table's closing line: the learned line against the true one.

    Example:
        >>> run = History("celsius", 1, 0.001, 0, [9.0, 0.25], {"weight": [1.0, 1.8],
        ...                                                        "bias": [0.0, 31.5]})
        >>> print(notes(run)[0])
        learned F = 1.800000·C + 31.500000 (true: F = 1.8·C + 32; off by 0.0e+00 and 5.0e-01)
    """
    numbers = details(history)
    learned, off = numbers["learned"], numbers["off_by"]
    return [
        f"learned F = {learned['weight']:.6f}·C + {learned['bias']:.6f} "
        f"(true: F = 1.8·C + 32; off by {off['weight']:.1e} and {off['bias']:.1e})"
    ]


def figures(history: History, folder: pathlib.Path) -> list[pathlib.Path]:
    """Draw the run's fit (true line, untrained and trained predictions) and its loss curve.

    Needs matplotlib.

    Example:
        >>> import tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     print([path.name for path in figures(train(steps=5), pathlib.Path(folder))])
        ['celsius_fit.png', 'celsius_loss.png']
    """
    from nets import plots

    return plots.celsius_figures(history, folder)


NETWORK = Network(
    name="celsius",
    description="tutorial 002: F = weight·C + bias on C = -50..49, mean squared error",
    steps=DEFAULT_STEPS,
    lr=DEFAULT_LR,
    seed=DEFAULT_SEED,
    train=train,
    graph=lambda history: graph(history.initial_params),
    graph_title="tutorial 002: Celsius -> Fahrenheit, first step, 3 of the 100 samples",
    details=details,
    notes=notes,
    figures=figures,
    figure_names=("celsius_fit.png", "celsius_loss.png"),
)
"""Tutorial 002 as the command line runs it (see ``nets.network``)."""
