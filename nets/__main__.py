"""The command line: ``python -m nets NET`` for each network in ``nets.registry``, or ``all``.

This module owns argument parsing, the printed table, the ``--json`` object, the progress bar
and writing the ``--out`` pictures. It loops over ``nets.registry.NETWORKS`` and knows no network
by name: each network (a ``nets.network.Network``) brings its defaults, its training, its graph,
its notes and its figures. It holds no model and no mathematics.

Defaults reproduce each tutorial (``python -m nets --help`` lists them). ``--steps`` and
``--lr`` override them for every network named; a network's own options (the neuron's
``--inputs``) are refused for the others.

``--json`` prints exactly one JSON object on stdout: for one network its summary
(``net``, ``steps``, ``lr``, ``seed``, ``initial_loss``, ``final_loss``, ``initial_params``,
``params`` by label, ``outputs``, and ``details``: the numbers the table prints); for ``all``,
``{"nets": [summary, ...]}``. Nothing in it depends on time, so the same arguments
give byte-identical output.

``--out DIR`` writes, for each network, its computation graph as SVG (built at the run's starting
parameters and backpropagated once) and the network's figures of the run as PNG.

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

from nets import plots, registry
from nets.network import Network
from nets.training import History

__all__ = ["main"]

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


def _argument_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nets",
        description="Train the tutorial networks on the autodiff engine.",
        epilog="networks (default steps, lr):\n"
        + "\n".join(
            f"  {n.name:8} {n.description} ({n.steps} steps, lr {n.lr:g})"
            for n in registry.NETWORKS
        )
        + "\n\nexample: python -m nets all --out out/",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("net", choices=[*registry.names(), "all"], help="which network to train")
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
    for network in registry.NETWORKS:
        for option in network.options:
            help_text = f"{network.name} only: {option.help}"
            if option.parse is None:
                parser.add_argument(
                    option.flag, dest=option.dest, action="store_true", help=help_text
                )
            else:
                parser.add_argument(
                    option.flag,
                    dest=option.dest,
                    type=_argument_type(option.parse),
                    metavar=option.metavar,
                    help=help_text,
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
    network: Network
    history: History
    seconds: float


def _options(network: Network, args: argparse.Namespace) -> dict[str, Any]:
    """The network's own options the user gave, as keyword arguments for its ``train``."""
    given = {option.dest: getattr(args, option.dest) for option in network.options}
    return {dest: value for dest, value in given.items() if value not in (None, False)}


def _run(network: Network, args: argparse.Namespace, show_progress: bool) -> _Run:
    steps = network.steps if args.steps is None else args.steps
    lr = network.lr if args.lr is None else args.lr
    progress = (
        _Progress(sys.stderr, network.name, steps)
        if show_progress and steps >= _PROGRESS_MIN_STEPS
        else None
    )
    started = time.perf_counter()
    try:
        history = network.train(
            steps=steps, lr=lr, seed=args.seed, callback=progress, **_options(network, args)
        )
    except (ArithmeticError, ValueError) as error:
        raise _RunError(f"training failed: {error}") from error
    finally:
        if progress is not None:
            progress.close()
    return _Run(network, history, time.perf_counter() - started)


def _summary(run: _Run) -> dict[str, Any]:
    return {**run.history.summary(), "details": run.network.details(run.history)}


# -- human output ---------------------------------------------------------------------------


def _table(run: _Run) -> str:
    h = run.history
    rows: list[tuple[str, float, float]] = [("loss", h.initial_loss, h.final_loss)]
    rows += [(name, values[0], values[-1]) for name, values in h.params.items()]
    rows += [(name, values[0], values[-1]) for name, values in h.outputs.items()]
    width = max(len(name) for name, _, _ in rows)
    seed_note = f", seed {h.seed}" if run.network.random else ""
    lines = [
        f"{run.network.name}  ({run.network.description})",
        f"  {h.steps} step{'' if h.steps == 1 else 's'} of SGD at lr {h.lr:g}{seed_note}, "
        f"in {run.seconds:.2f} s",
        f"  {'':{width}}  {'initial':>15}  {'final':>15}",
    ]
    lines += [f"  {name:{width}}  {_number(first)}  {_number(last)}" for name, first, last in rows]
    if h.final_loss > h.initial_loss:
        lines.append(f"  the loss grew: lr {h.lr:g} is too large for this network.")
    lines += [f"  {line}" for line in run.network.notes(h)]
    return "\n".join(lines)


def _number(x: float) -> str:
    """Format for the table: 8 decimals, or scientific notation for tiny and huge numbers."""
    if x != 0.0 and not 1e-4 <= abs(x) < 1e6:
        return f"{x:15.6e}"
    return f"{x:15.8f}"


# -- pictures -------------------------------------------------------------------------------


def _pictures(run: _Run, out: pathlib.Path) -> list[pathlib.Path]:
    from autodiff import viz

    network, history = run.network, run.history
    root = network.graph(history)
    try:
        written = [
            viz.render(
                root, out / f"{network.name}_graph.svg", title=network.graph_title, legend=True
            )
        ]
    except viz.DotNotFoundError as error:
        raise _RunError(f"cannot draw the graphs: {error}") from error
    written += network.figures(history, out)
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
    networks = list(registry.NETWORKS) if args.net == "all" else [registry.get(args.net)]
    for network in registry.NETWORKS:
        for option in network.options:
            if getattr(args, option.dest) not in (None, False) and network not in networks:
                parser.error(f"argument {option.flag}: only for {network.name}, not {args.net}")
    if args.out is not None:
        _check_out(parser, args.out)
    note: Callable[[str], None] = (
        (lambda text: None) if args.quiet else (lambda text: print(text, file=sys.stderr))
    )
    show_progress = not args.quiet and sys.stderr.isatty()
    try:
        if args.out is not None:
            _check_drawing_tools()
        runs = [_run(network, args, show_progress) for network in networks]
        written = [] if args.out is None else [p for r in runs for p in _pictures(r, args.out)]
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
