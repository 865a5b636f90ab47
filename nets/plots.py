r"""The tutorials' figures, redrawn from training histories with matplotlib (headless).

This module owns the PNG plots: the neuron's prediction and error over the iterations for two
learning rates (tutorial 000's figures), the hidden network's loss curve (tutorial 001), and the
Celsius fit (true line, untrained and trained predictions) with its loss curve (tutorial 002).
It trains nothing: it is given ``History`` objects. It does not draw computation graphs (that is
``autodiff.viz``).

matplotlib is an optional extra (``pip install 'autodiff-nets[plots]'``). It is imported only inside
these functions, through ``matplotlib.figure.Figure`` with the Agg canvas: no pyplot, no global
figure state, no display needed.

Example:
    >>> import pathlib, tempfile
    >>> from nets import hidden
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = hidden_figure(hidden.train(steps=10), pathlib.Path(folder))
    ...     print(path.name, path.read_bytes()[:4] == b"\x89PNG")
    hidden_loss.png True
"""

from __future__ import annotations

import os
import pathlib
from collections.abc import Sequence
from typing import Any

from autodiff.viz import atomic_file
from nets import celsius, neuron
from nets.training import History

__all__ = [
    "INSTALL_HINT",
    "MatplotlibBrokenError",
    "MatplotlibMissingError",
    "celsius_figures",
    "hidden_figure",
    "neuron_figures",
    "new_figure",
    "require_matplotlib",
    "save",
]

INSTALL_HINT = "pip install 'autodiff-nets[plots]'  (or: python -m pip install matplotlib)"
"""How to get the optional plotting dependency."""

_DPI = 120
_COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#ff7f0e")
_MUTED = "#7f7f7f"


class MatplotlibMissingError(RuntimeError):
    """matplotlib is not installed, so the plots cannot be drawn."""


class MatplotlibBrokenError(RuntimeError):
    """matplotlib is installed but refuses to start (for example a bad ``MPLBACKEND``)."""


def require_matplotlib() -> None:
    """Raise if matplotlib cannot be used: missing, or refusing to start, with what to do.

    Raises:
        MatplotlibMissingError: matplotlib is not installed (the message has the install
            command).
        MatplotlibBrokenError: importing it fails otherwise; the message is matplotlib's
            reason in one line (a bad ``MPLBACKEND`` names the variable to fix).

    Example:
        >>> require_matplotlib()  # matplotlib is installed in the dev environment
    """
    try:
        import matplotlib  # noqa: F401  # imported only to see whether it is there
    except ImportError as error:
        raise MatplotlibMissingError(
            f"the plots need matplotlib, which is not installed; install it with: {INSTALL_HINT}"
        ) from error
    except Exception as error:  # matplotlib validates its settings on import: ValueError, ...
        reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        if "MPLBACKEND" in os.environ and "backend" in reason.lower():
            reason = (
                f"the environment variable MPLBACKEND={os.environ['MPLBACKEND']!r} is not a "
                "backend matplotlib knows; unset it or set it to one such as 'agg'"
            )
        raise MatplotlibBrokenError(f"matplotlib cannot start: {reason}") from error


def new_figure(ncols: int = 1) -> tuple[Any, list[Any]]:
    """Return a new figure and its ``ncols`` axes side by side, with a light grid.

    The figure uses matplotlib's Agg canvas through ``matplotlib.figure.Figure``: no pyplot, no
    window, nothing global. Each network's ``figures`` draws on these and calls ``save``.

    Raises:
        MatplotlibMissingError: matplotlib is not installed.

    Example:
        >>> figure, axes = new_figure(2)
        >>> len(axes)
        2
    """
    require_matplotlib()
    from matplotlib.figure import Figure

    figure = Figure(figsize=(6.4 * ncols if ncols > 1 else 7.0, 4.4), dpi=_DPI)
    axes = figure.subplots(1, ncols, squeeze=False)[0]
    for ax in axes:
        ax.grid(True, alpha=0.3)
    return figure, list(axes)


def save(figure: Any, path: pathlib.Path) -> pathlib.Path:
    """Lay out ``figure`` and write it to ``path`` as PNG; return ``path``.

    The file is written whole or not at all (``autodiff.viz.atomic_file``): a full disk or
    Ctrl-C leaves ``path`` as it was, never a truncated picture.

    Raises:
        OSError: The file cannot be written; its ``filename`` is ``path``.

    Example:
        >>> import pathlib, tempfile
        >>> figure, (ax,) = new_figure()
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     print(save(figure, pathlib.Path(folder) / "empty.png").name)
        empty.png
    """
    figure.tight_layout()
    with atomic_file(path) as temporary:
        figure.savefig(temporary, format="png")
    return path


def neuron_figures(
    runs: Sequence[History], out_dir: pathlib.Path, *, comparison: Sequence[History] = ()
) -> list[pathlib.Path]:
    """Draw tutorial 000's figures: prediction and error over the iterations, one line per run.

    Args:
        runs: Neuron training histories, drawn as solid lines.
        out_dir: An existing folder; writes ``neuron_prediction.png`` and ``neuron_error.png``.
        comparison: Further histories drawn dashed and named in the legend as the tutorial's
            comparison (the command line passes the tutorial's learning rates here, so the
            user's own run stays the solid line).

    Example:
        >>> import pathlib, tempfile
        >>> runs = [neuron.train(steps=20, lr=lr) for lr in (0.01, 0.5)]
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     print([p.name for p in neuron_figures(runs, pathlib.Path(folder))])
        ['neuron_prediction.png', 'neuron_error.png']
    """
    lines = [(run, "-", 1.8, f"lr = {run.lr:g}") for run in runs]
    lines += [(run, "--", 1.2, f"lr = {run.lr:g} (tutorial's comparison)") for run in comparison]

    figure, (ax,) = new_figure()
    for colour, (run, style, width, label) in zip(_COLOURS, lines, strict=False):
        ax.plot(
            run.outputs["predicted"], color=colour, linestyle=style, linewidth=width, label=label
        )
    ax.axhline(neuron.TARGET, color="black", linestyle=":", linewidth=1, label="target 0.3")
    ax.set_title(f"One sigmoid neuron (x = {neuron.X:g}): prediction over the iterations")
    ax.set_xlabel("iteration")
    ax.set_ylabel("predicted output")
    ax.legend()
    prediction = save(figure, out_dir / "neuron_prediction.png")

    figure, (ax,) = new_figure()
    for colour, (run, style, width, label) in zip(_COLOURS, lines, strict=False):
        ax.plot(run.losses, color=colour, linestyle=style, linewidth=width, label=label)
    ax.set_yscale("log")
    ax.set_title("One sigmoid neuron: squared error (predicted - 0.3)² over the iterations")
    ax.set_xlabel("iteration")
    ax.set_ylabel("error (log scale)")
    ax.legend()
    error = save(figure, out_dir / "neuron_error.png")
    return [prediction, error]


def hidden_figure(
    history: History, out_dir: pathlib.Path, *, continued: History | None = None
) -> pathlib.Path:
    """Draw the hidden-layer network's loss L = ½ (y - t)² and output y over the iterations.

    Args:
        history: A ``nets.hidden`` training history: the run, drawn solid with a marker on
            each step.
        out_dir: An existing folder; writes ``hidden_loss.png``.
        continued: Optionally, the same training run longer, drawn dashed and named in the
            legend as a comparison that is not the run (the tutorial takes a single step, a
            curve of two points).

    Example:
        >>> import pathlib, tempfile
        >>> from nets import hidden
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     print(hidden_figure(hidden.train(steps=3), pathlib.Path(folder)).name)
        hidden_loss.png
    """
    steps = f"{history.steps} step{'' if history.steps == 1 else 's'}"
    marker = "o" if history.steps <= 50 else None
    figure, (loss_ax, y_ax) = new_figure(2)
    if continued is not None:
        later = f"continued to {continued.steps} steps (comparison, not this run)"
        loss_ax.plot(continued.losses, color=_MUTED, linestyle="--", linewidth=1.2, label=later)
        y_ax.plot(continued.outputs["y"], color=_MUTED, linestyle="--", linewidth=1.2, label=later)
    loss_ax.plot(
        history.losses, color=_COLOURS[0], linewidth=1.8, marker=marker, label=f"this run: {steps}"
    )
    loss_ax.set_yscale("log")
    loss_ax.set_title(f"Loss L = ½ (y - t)², lr = {history.lr:g}")
    loss_ax.set_xlabel("iteration")
    loss_ax.set_ylabel("loss (log scale)")
    loss_ax.legend()
    y_ax.plot(
        history.outputs["y"],
        color=_COLOURS[1],
        linewidth=1.8,
        marker=marker,
        label=f"output y, this run: {steps}",
    )
    y_ax.axhline(0.0, color="black", linestyle=":", linewidth=1, label="target t = 0")
    y_ax.set_title("Output y = W2·sigmoid(W1·x + b1) + b2, x = 1")
    y_ax.set_xlabel("iteration")
    y_ax.set_ylabel("y")
    y_ax.legend()
    figure.suptitle(
        "One hidden unit (tutorial 001), trained from W1 = 0.5, b1 = 0, W2 = -1, b2 = 0"
    )
    return save(figure, out_dir / "hidden_loss.png")


def celsius_figures(history: History, out_dir: pathlib.Path) -> list[pathlib.Path]:
    """Draw tutorial 002's figure (true line, untrained and trained predictions) and the loss.

    Args:
        history: A ``nets.celsius`` training history.
        out_dir: An existing folder; writes ``celsius_fit.png`` and ``celsius_loss.png``.

    Example:
        >>> import pathlib, tempfile
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     paths = celsius_figures(celsius.train(steps=5), pathlib.Path(folder))
        ...     print([p.name for p in paths])
        ['celsius_fit.png', 'celsius_loss.png']
    """
    start, end = history.initial_params, history.final_params
    figure, (ax,) = new_figure()
    xs = list(celsius.CELSIUS)
    ax.plot(
        xs, list(celsius.FAHRENHEIT), color="#1f77b4", linewidth=3, label="true: F = 1.8·C + 32"
    )
    ax.plot(
        xs,
        celsius.predict(start, xs),
        color="#d62728",
        linewidth=1.8,
        label=f"untrained: {start['weight']:.3f}·C + {start['bias']:.3f}",
    )
    ax.plot(
        xs,
        celsius.predict(end, xs),
        color="#2ca02c",
        linewidth=1.8,
        linestyle="--",
        label=f"trained ({history.steps} steps): {end['weight']:.4f}·C + {end['bias']:.4f}",
    )
    ax.set_title("Celsius -> Fahrenheit with one weight and one bias")
    ax.set_xlabel("Celsius")
    ax.set_ylabel("Fahrenheit")
    ax.legend(loc="upper left")
    fit_path = save(figure, out_dir / "celsius_fit.png")

    figure, (ax,) = new_figure()
    ax.plot(history.losses, color=_COLOURS[0], linewidth=1.8)
    ax.set_yscale("log")
    ax.set_title(f"Celsius -> Fahrenheit: mean squared error, lr = {history.lr:g}")
    ax.set_xlabel("iteration")
    ax.set_ylabel("MSE over 100 samples (log scale)")
    loss_path = save(figure, out_dir / "celsius_loss.png")
    return [fit_path, loss_path]
