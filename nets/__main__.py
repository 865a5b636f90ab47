"""The command line: ``python -m nets {neuron,hidden,celsius,all}`` (also installed as ``nets``).

This module owns argument parsing, the printed table, the ``--json`` object, the progress bar
and writing the ``--out`` pictures. It trains through the tutorial modules' ``train`` and draws
through ``autodiff.viz.render`` and ``nets.plots``; it holds no model and no mathematics.

Defaults reproduce each tutorial: the neuron 10 000 steps at lr 0.5 (tutorial 000), the hidden
network one step at lr 0.01 (tutorial 001), Celsius 10 000 steps at lr 0.001 (tutorial 002,
with the mean squared error; see ``nets.celsius``). ``--steps`` and ``--lr`` override them for
every network named.

``--json`` prints exactly one JSON object on stdout: for one network its summary
(``net``, ``steps``, ``lr``, ``seed``, ``initial_loss``, ``final_loss``, ``initial_params``,
``params`` by label, ``outputs``, and ``inputs`` for the neuron); for ``all``,
``{"nets": [summary, summary, summary]}``. Nothing in it depends on time, so the same arguments
give byte-identical output.

``--out DIR`` writes, for each network, its computation graph as SVG (built at the run's starting
parameters and backpropagated once: the first step's forward values and gradients; Celsius
draws three samples instead of 100) and the tutorials' figures as PNG. The neuron figures
compare lr 0.01 and 0.5 over the run's steps; the hidden network's loss curve continues its
training to at least 1000 steps (the tutorial stops after one, a curve of two points).

Exit status: 0 on success, 2 for bad arguments (with the usage), 1 when training fails or a
picture cannot be drawn (matplotlib or Graphviz missing), with a one-line reason.

Example:
    >>> main(["hidden", "--json"])  # doctest: +ELLIPSIS
    {"net": "hidden", "steps": 1, "lr": 0.01, "seed": 0, "initial_loss": 0.1937278...
    0
"""

from __future__ import annotations

import argparse
import json
import math
import os
import pathlib
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from nets import celsius, hidden, neuron, plots
from nets.training import Callback, History

__all__ = ["NETS", "main"]

NETS = ("neuron", "hidden", "celsius")
"""The networks, in the order ``all`` trains them."""

_DESCRIPTIONS = {
    "neuron": "tutorial 000: one sigmoid neuron, no bias, x = 0.1, target 0.3, squared error",
    "hidden": "tutorial 001: x -> sigmoid(W1·x + b1) -> W2·a + b2, t = 0, L = ½ (y - t)²",
    "celsius": "tutorial 002: F = weight·C + bias on C = -50..49, mean squared error",
}
_DEFAULTS = {
    "neuron": (neuron.DEFAULT_STEPS, neuron.DEFAULT_LR),
    "hidden": (hidden.DEFAULT_STEPS, hidden.DEFAULT_LR),
    "celsius": (celsius.DEFAULT_STEPS, celsius.DEFAULT_LR),
}
_NEURON_FIGURE_LRS = (0.01, 0.5)
_HIDDEN_FIGURE_STEPS = 1000
_PROGRESS_MIN_STEPS = 1000


class _RunError(Exception):
    """A run that cannot finish: reported in one line, exit status 1."""


# -- argument parsing -----------------------------------------------------------------------


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None


def _count(text: str) -> int:
    """A whole number of at least 1: ``--steps`` and ``--inputs``."""
    count = _whole_number(text)
    if count < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {count}")
    return count


def _learning_rate(text: str) -> float:
    try:
        lr = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(lr) or lr < 0:
        raise argparse.ArgumentTypeError(f"must be a finite number >= 0, got {text!r}")
    return lr


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nets",
        description="Train the three tutorial networks on the autodiff engine.",
        epilog=(
            "defaults: neuron 10000 steps, lr 0.5; hidden 1 step, lr 0.01; "
            "celsius 10000 steps, lr 0.001. Example: python -m nets all --out out/"
        ),
    )
    parser.add_argument("net", choices=[*NETS, "all"], help="which network to train")
    parser.add_argument(
        "--steps", type=_count, metavar="N", help="number of SGD steps (default: per network)"
    )
    parser.add_argument(
        "--lr", type=_learning_rate, metavar="LR", help="learning rate (default: per network)"
    )
    parser.add_argument(
        "--seed",
        type=_whole_number,
        default=0,
        metavar="S",
        help="seed for the starting weights (default: 0)",
    )
    parser.add_argument(
        "--inputs",
        type=_count,
        metavar="N",
        help="number of inputs of the neuron, each 0.1 (default: 1)",
    )
    parser.add_argument(
        "--out",
        type=pathlib.Path,
        metavar="DIR",
        help="write each network's graph (SVG) and plots (PNG) into DIR",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout instead of a table"
    )
    parser.add_argument("--quiet", action="store_true", help="no progress bar, no notes on stderr")
    return parser


def _check_out(parser: argparse.ArgumentParser, out: pathlib.Path) -> None:
    """Create ``out`` and make sure a file can be written there, or exit 2 with the reason."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        parser.error(f"argument --out: cannot write to {str(out)!r}: {reason}")


def _check_drawing_tools() -> None:
    """Fail before training when the pictures could not be drawn anyway."""
    plots.require_matplotlib()
    try:
        import autodiff.viz  # noqa: F401  # only checking that it imports (graphviz installed)
    except ImportError as error:
        raise _RunError(
            f"--out needs the graphviz Python package ({error}); "
            "install it with: python -m pip install graphviz"
        ) from error


# -- progress bar ---------------------------------------------------------------------------


class _Progress:
    """A one-line progress bar on a terminal, redrawn at most once per percent."""

    def __init__(self, stream: TextIO, net: str, total: int) -> None:
        self.stream = stream
        self.net = net
        self.total = total
        self.shown = -1

    def __call__(self, step: int, loss: float) -> None:
        percent = step * 100 // self.total
        if percent == self.shown:
            return
        self.shown = percent
        filled = percent * 30 // 100
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(
            f"\r{self.net:8} [{bar}] {percent:3d}%  step {step}/{self.total}  loss {loss:.3g}"
        )
        self.stream.flush()

    def close(self) -> None:
        self.stream.write("\r\033[K")
        self.stream.flush()


# -- running --------------------------------------------------------------------------------


@dataclass
class _Run:
    net: str
    history: History
    seconds: float
    inputs: int | None


def _train(
    net: str, steps: int, lr: float, seed: int, inputs: int, callback: Callback | None
) -> History:
    if net == "neuron":
        return neuron.train(steps=steps, lr=lr, seed=seed, callback=callback, inputs=inputs)
    if net == "hidden":
        return hidden.train(steps=steps, lr=lr, seed=seed, callback=callback)
    return celsius.train(steps=steps, lr=lr, seed=seed, callback=callback)


def _run(net: str, args: argparse.Namespace, show_progress: bool) -> _Run:
    default_steps, default_lr = _DEFAULTS[net]
    steps = default_steps if args.steps is None else args.steps
    lr = default_lr if args.lr is None else args.lr
    inputs = args.inputs or 1
    progress = (
        _Progress(sys.stderr, net, steps)
        if show_progress and steps >= _PROGRESS_MIN_STEPS
        else None
    )
    started = time.perf_counter()
    try:
        history = _train(net, steps, lr, args.seed, inputs, progress)
    except (ArithmeticError, ValueError) as error:
        raise _RunError(f"training failed: {error}") from error
    finally:
        if progress is not None:
            progress.close()
    return _Run(net, history, time.perf_counter() - started, inputs if net == "neuron" else None)


def _summary(run: _Run) -> dict[str, Any]:
    summary = run.history.summary()
    if run.inputs is not None:
        summary["inputs"] = run.inputs
    return summary


# -- human output ---------------------------------------------------------------------------


def _table(run: _Run) -> str:
    h = run.history
    rows: list[tuple[str, float, float]] = [("loss", h.initial_loss, h.final_loss)]
    rows += [(name, values[0], values[-1]) for name, values in h.params.items()]
    rows += [(name, values[0], values[-1]) for name, values in h.outputs.items()]
    width = max(len(name) for name, _, _ in rows)
    seed_note = "" if run.net == "hidden" else f", seed {h.seed}"
    lines = [
        f"{run.net}  ({_DESCRIPTIONS[run.net]})",
        f"  {h.steps} step{'' if h.steps == 1 else 's'} of SGD at lr {h.lr:g}{seed_note}, "
        f"in {run.seconds:.2f} s",
        f"  {'':{width}}  {'initial':>15}  {'final':>15}",
    ]
    lines += [f"  {name:{width}}  {_number(first)}  {_number(last)}" for name, first, last in rows]
    lines += _notes(run)
    return "\n".join(lines)


def _number(x: float) -> str:
    """Format for the table: 8 decimals, or scientific notation for tiny and huge numbers."""
    if x != 0.0 and not 1e-4 <= abs(x) < 1e6:
        return f"{x:15.6e}"
    return f"{x:15.8f}"


def _notes(run: _Run) -> list[str]:
    h = run.history
    if h.final_loss > h.initial_loss:
        return [f"  the loss grew: lr {h.lr:g} is too large for this network."]
    if run.net == "neuron":
        start = list(h.initial_params.values())
        engine = neuron.engine_gradient(start)[0]
        slipped = neuron.tutorial_gradient(start)[0]
        return [
            f"  prediction {h.final_outputs['predicted']:.4f} (target {neuron.TARGET}).",
            f"  first-step gradient dE/d{next(iter(h.params))}: engine {engine:.8f}; "
            f"the tutorial's code gives {slipped:.8f}",
            "  (its backward pass takes sigmoid' at the prediction instead of at the sum).",
        ]
    if run.net == "hidden" and h.steps >= 1:
        step = hidden.worked_step(lr=h.lr)
        forward = "  ".join(f"{k} = {v:.8f}" for k, v in step.forward.items())
        grads = [f"dL/d{k} = {v:.8f}" for k, v in step.gradients.items()]
        updated = "  ".join(f"{k} = {v:.8f}" for k, v in step.updated.items())
        return [
            "  first step, as tutorial 001 prints it:",
            f"    forward:  {forward}",
            f"    backward: {'  '.join(grads[:3])}",
            f"              {'  '.join(grads[3:])}",
            f"    updated:  {updated}",
        ]
    if run.net == "celsius":
        end = h.final_params
        return [
            f"  learned F = {end['weight']:.6f}·C + {end['bias']:.6f} "
            f"(true: F = 1.8·C + 32; off by {abs(end['weight'] - 1.8):.1e} and "
            f"{abs(end['bias'] - 32):.1e})"
        ]
    return []


# -- pictures -------------------------------------------------------------------------------


def _pictures(run: _Run, args: argparse.Namespace, out: pathlib.Path) -> list[pathlib.Path]:
    from autodiff import viz

    h = run.history
    start = h.initial_params
    written: list[pathlib.Path] = []
    root = {
        "neuron": lambda: neuron.graph(start),
        "hidden": lambda: hidden.graph(start),
        "celsius": lambda: celsius.graph(start),
    }[run.net]()
    titles = {
        "neuron": "tutorial 000: one sigmoid neuron, first step (forward and backward)",
        "hidden": "tutorial 001: one hidden unit, first step (forward and backward)",
        "celsius": "tutorial 002: Celsius -> Fahrenheit, first step, 3 of the 100 samples",
    }
    try:
        written.append(
            viz.render(root, out / f"{run.net}_graph.svg", title=titles[run.net], legend=True)
        )
    except viz.DotNotFoundError as error:
        raise _RunError(f"cannot draw the graphs: {error}") from error
    if run.net == "neuron":
        runs = [
            h
            if math.isclose(lr, h.lr)
            else neuron.train(steps=h.steps, lr=lr, seed=args.seed, inputs=run.inputs or 1)
            for lr in _NEURON_FIGURE_LRS
        ]
        written += plots.neuron_figures(runs, out)
    elif run.net == "hidden":
        curve = h if h.steps >= _HIDDEN_FIGURE_STEPS else hidden.train(_HIDDEN_FIGURE_STEPS, h.lr)
        written.append(plots.hidden_figure(curve, out))
    else:
        written += plots.celsius_figures(h, out)
    return written


# -- main -----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Bad arguments exit (SystemExit 2) through argparse, printing the usage and the reason.

    Example:
        >>> main(["neuron", "--steps", "3", "--json"])  # doctest: +ELLIPSIS
        {"net": "neuron", "steps": 3, "lr": 0.5, "seed": 0, ...
        0
    """
    parser = _parser()
    args = parser.parse_args(argv)
    names = list(NETS) if args.net == "all" else [args.net]
    if args.inputs is not None and "neuron" not in names:
        parser.error(f"argument --inputs: only the neuron has a number of inputs, not {args.net}")
    if args.out is not None:
        _check_out(parser, args.out)
    note: Callable[[str], None] = (
        (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr))
    )
    show_progress = not args.quiet and sys.stderr.isatty()
    try:
        if args.out is not None:
            _check_drawing_tools()
        runs = [_run(name, args, show_progress) for name in names]
        written = (
            [] if args.out is None else [p for r in runs for p in _pictures(r, args, args.out)]
        )
    except (_RunError, plots.MatplotlibMissingError) as error:
        print(f"nets: error: {error}", file=sys.stderr)
        return 1

    if args.json:
        summaries = [_summary(run) for run in runs]
        document = summaries[0] if args.net != "all" else {"nets": summaries}
        print(json.dumps(document))
    else:
        print("\n\n".join(_table(run) for run in runs))
    if written:
        message = (
            f"Pictures ({len(written)} files) are in {os.path.abspath(args.out)}{os.sep}: "
            + ", ".join(path.name for path in written)
        )
        if args.json:
            note(message)
        else:
            print(f"\n{message}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
