"""The command line: ``python -m nets NET`` for each network in ``nets.registry``, or ``all``.

This module owns argument parsing, the printed table, the ``--json`` object, the progress
display and writing the ``--out`` pictures. It loops over ``nets.registry.NETWORKS`` and knows
no network by name: each network (a ``nets.network.Network``) brings its defaults, its
training, its graph, its notes and its figures. It holds no model and no mathematics.

Defaults reproduce each tutorial (``python -m nets --help`` lists them). ``--steps`` and
``--lr`` override them for every network named; a network's own options (the neuron's
``--inputs``) are refused for the others.

``--json`` prints exactly one JSON object on stdout: for one network its summary
(``net``, ``steps``, ``lr``, ``seed``, ``initial_loss``, ``final_loss``, ``initial_params``,
``params`` by label, ``outputs``, and ``details``: the numbers the table prints, such as
tutorial 001's forward values and gradients); with ``--history`` also ``history``, every step's
loss, parameters and outputs. For ``all``, ``{"nets": [summary, ...]}``. Nothing in it depends
on time, so the same arguments give byte-identical output.

``--out DIR`` writes, for each network, its computation graph as SVG (built at the run's starting
parameters and backpropagated once) and the network's figures of the run as PNG. The figures
need matplotlib: without it the graphs are still written and a note names the plots left out.

Progress goes to stderr: a bar on a terminal (tqdm), or on anything else a plain line every
few seconds once a run is long. Ctrl-C prints the table of the steps done so far and exits 130.

Exit status: 0 on success, 2 for bad arguments (with the usage), 130 when interrupted, and 1
for anything else (training diverged, Graphviz missing, stdout closed, full or unable to
encode the table), always with a one-line reason on stderr and never a traceback.

Example:
    >>> main(["hidden", "--json"])  # doctest: +ELLIPSIS
    {"net": "hidden", "steps": 1, "lr": 0.01, "seed": 0, "initial_loss": 0.1937278...
    0
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import json
import math
import os
import pathlib
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import autodiff
from nets import plots, registry
from nets.network import Network
from nets.training import History, TrainingInterrupted

__all__ = ["DISTRIBUTION", "Heartbeat", "main"]

DISTRIBUTION = "autodiff-nets"
"""The name the package is installed by (``pip install autodiff-nets``); it imports as
``autodiff`` and ``nets``."""

_HEARTBEAT_SECONDS = 5.0
_BAR_DELAY_SECONDS = 0.5
_INTERRUPTED = 130


class _RunError(Exception):
    """A run that cannot finish: reported in one line, exit status 1."""


# -- argument parsing -----------------------------------------------------------------------


def _whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None


def _count(text: str) -> int:
    """A whole number of at least 1: ``--steps``."""
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
    return abs(lr)  # -0.0 passes the test above; keep it from being printed as "lr -0"


def _folder(text: str) -> pathlib.Path:
    if not text.strip():
        raise argparse.ArgumentTypeError("must name a folder, got an empty name")
    return pathlib.Path(text)


def _argument_type(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """Wrap a network option's parser so that its ValueError becomes argparse's usage error."""

    def convert(text: str) -> Any:
        try:
            return parse(text)
        except ValueError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    return convert


def _steps(count: int) -> str:
    return f"{count} step{'' if count == 1 else 's'}"


def _parser() -> argparse.ArgumentParser:
    listing = "\n".join(
        f"  {n.name:9} {n.description}\n  {'':9} (default {_steps(n.steps)} at lr {n.lr:g})"
        for n in registry.NETWORKS
    )
    parser = argparse.ArgumentParser(
        prog="nets",
        description="Train the tutorial networks on the autodiff engine and show what happened.",
        epilog=f"networks:\n{listing}\n  {'all':9} each of the above, in this order\n\n"
        "example: python -m nets all --out out/   (more: the Command line page of the docs)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "net", choices=[*registry.names(), "all"], help="which network to train (listed below)"
    )
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
        type=_folder,
        metavar="DIR",
        help="write each network's graph (SVG) and plots (PNG) into DIR, created if needed",
    )
    parser.add_argument(
        "--json", action="store_true", help="print one JSON object on stdout instead of a table"
    )
    parser.add_argument(
        "--history",
        action="store_true",
        help="with --json: also every step's loss, parameters and outputs",
    )
    parser.add_argument("--quiet", action="store_true", help="no progress and no notes on stderr")
    parser.add_argument(
        "--version",
        action="version",
        version=f"nets {autodiff.__version__} (installed as {DISTRIBUTION})",
    )
    return parser


def _check_out(parser: argparse.ArgumentParser, out: pathlib.Path) -> None:
    """Create ``out`` and make sure a file can be written there, or exit 2 with the reason."""
    if out.exists() and not out.is_dir():
        parser.error(f"argument --out: {str(out)!r} is a file, not a directory")
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        reason = error.strerror or str(error)
        if error.errno in (errno.ENOTDIR, errno.EEXIST):
            reason = "a file is in the way, not a directory"
        parser.error(f"argument --out: cannot write to {str(out)!r}: {reason}")


def _matplotlib_present() -> bool:
    """Whether the plots can be drawn; a broken matplotlib set-up is an error, not absence."""
    try:
        plots.require_matplotlib()
    except plots.MatplotlibMissingError:
        return False
    except plots.MatplotlibBrokenError as error:
        raise _RunError(str(error)) from error
    return True


def _check_dot() -> None:
    if shutil.which("dot") is None:
        raise _RunError(
            "--out needs Graphviz's `dot` program to draw the graphs, and it is not on PATH; "
            "install Graphviz (Debian/Ubuntu: apt-get install graphviz; macOS: brew install "
            "graphviz; or `make dot` in a clone) or leave out --out"
        )


# -- progress -------------------------------------------------------------------------------


class _Bar:
    """A progress bar on a terminal (tqdm), shown only once a run has taken half a second."""

    def __init__(self, stream: TextIO, name: str, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=total,
            desc=name,
            unit="step",
            file=stream,
            leave=False,
            dynamic_ncols=True,
            delay=_BAR_DELAY_SECONDS,
        )

    def __call__(self, step: int, loss: float) -> None:
        self.bar.set_postfix_str(f"loss {loss:.4g}", refresh=False)
        self.bar.update(step - self.bar.n)

    def close(self) -> None:
        self.bar.close()


class Heartbeat:
    """Progress where there is no terminal (a log file, CI): one whole line every few seconds.

    Nothing is written for a run shorter than ``every`` seconds; a longer run gets a line
    such as ``celsius: step 4000/10000 (40%), loss 0.5313`` each time ``every`` seconds have
    passed, and each line is complete, so a log never holds half-drawn bars.

    Args:
        stream: Where to write (stderr).
        name: The network's name, starting each line.
        total: The number of steps of the run.
        every: Seconds between lines.
        clock: A function returning seconds, ``time.monotonic`` by default.

    Example:
        >>> import io
        >>> ticks = iter([0.0, 1.0, 6.0, 7.0])
        >>> out = io.StringIO()
        >>> beat = Heartbeat(out, "demo", 3, every=5.0, clock=lambda: next(ticks))
        >>> for step in (1, 2, 3):
        ...     beat(step, 0.25 / step)
        >>> print(out.getvalue(), end="")
        demo: step 2/3 (66%), loss 0.125
    """

    def __init__(
        self,
        stream: TextIO,
        name: str,
        total: int,
        *,
        every: float = _HEARTBEAT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.stream = stream
        self.name = name
        self.total = total
        self.every = every
        self.clock = clock
        self.last = clock()

    def __call__(self, step: int, loss: float) -> None:
        """Write a line if ``every`` seconds have passed since the start or the last line."""
        now = self.clock()
        if now - self.last < self.every:
            return
        self.last = now
        percent = step * 100 // self.total
        self.stream.write(f"{self.name}: step {step}/{self.total} ({percent}%), loss {loss:.4g}\n")
        self.stream.flush()

    def close(self) -> None:
        """Nothing to clear: every line written is complete."""


# -- running --------------------------------------------------------------------------------


@dataclass
class _Run:
    network: Network
    history: History
    seconds: float
    interrupted: bool = False


@dataclass
class _Outcome:
    """What main has to show: the runs done, the pictures written, what went wrong."""

    runs: list[_Run] = field(default_factory=list)
    written: list[pathlib.Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    interrupted: str | None = None


def _options(network: Network, args: argparse.Namespace) -> dict[str, Any]:
    """The network's own options the user gave, as keyword arguments for its ``train``."""
    given = {option.dest: getattr(args, option.dest) for option in network.options}
    return {dest: value for dest, value in given.items() if value not in (None, False)}


def _progress(network: Network, steps: int, args: argparse.Namespace) -> _Bar | Heartbeat | None:
    if args.quiet:
        return None
    if sys.stderr.isatty() and _columns(sys.stderr) > 0:
        with contextlib.suppress(ImportError):  # run from a source tree without tqdm: lines
            return _Bar(sys.stderr, network.name, steps)
    return Heartbeat(sys.stderr, network.name, steps)


def _columns(stream: TextIO) -> int:
    """The terminal's width; 0 when it reports none (a bar would then draw nothing at all)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError):
        return 0


def _run(network: Network, args: argparse.Namespace, outcome: _Outcome) -> None:
    steps = network.steps if args.steps is None else args.steps
    lr = network.lr if args.lr is None else args.lr
    progress = _progress(network, steps, args)
    started = time.perf_counter()
    try:
        history = network.train(
            steps=steps, lr=lr, seed=args.seed, callback=progress, **_options(network, args)
        )
    except TrainingInterrupted as stop:
        done = "before its first step" if stop.history is None else f"at step {stop.history.steps}"
        outcome.interrupted = f"{network.name} interrupted {done} of {stop.planned}"
        if stop.history is not None:
            seconds = time.perf_counter() - started
            outcome.runs.append(_Run(network, stop.history, seconds, interrupted=True))
        return
    except (ArithmeticError, ValueError) as error:
        raise _RunError(f"training failed: {error}") from error
    finally:
        if progress is not None:
            progress.close()
    outcome.runs.append(_Run(network, history, time.perf_counter() - started))


def _summary(run: _Run, with_history: bool) -> dict[str, Any]:
    summary = run.history.summary()
    if run.interrupted:
        summary["interrupted"] = True
    summary["details"] = run.network.details(run.history)
    if with_history:
        h = run.history
        summary["history"] = {"losses": h.losses, "params": h.params, "outputs": h.outputs}
    return summary


# -- human output ---------------------------------------------------------------------------


def _table(run: _Run) -> str:
    h = run.history
    rows: list[tuple[str, float, float]] = [("loss", h.initial_loss, h.final_loss)]
    rows += [(name, values[0], values[-1]) for name, values in h.params.items()]
    rows += [(name, values[0], values[-1]) for name, values in h.outputs.items()]
    width = max(len(name) for name, _, _ in rows)
    seed_note = f", seed {h.seed}" if run.network.random else ""
    stopped = " (interrupted)" if run.interrupted else ""
    lines = [
        f"{run.network.name}  ({run.network.description})",
        f"  {_steps(h.steps)} of SGD at lr {h.lr:g}{seed_note}, in {run.seconds:.2f} s{stopped}",
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


def _graph_picture(network: Network, root: autodiff.Value, out: pathlib.Path) -> pathlib.Path:
    from autodiff import viz

    try:
        return viz.render(
            root, out / f"{network.name}_graph.svg", title=network.graph_title, legend=True
        )
    except (RuntimeError, ValueError, OSError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise _RunError(f"cannot draw the graph of {network.name}: {first_line}") from error


def _explorer_page(network: Network, root: autodiff.Value, out: pathlib.Path) -> pathlib.Path:
    """The network's graph as an explorer page to open from disk: ``out/<net>.html``."""
    from autodiff import viz

    try:
        return viz.explore(root).save(out / f"{network.name}.html")
    except (RuntimeError, ValueError, OSError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise _RunError(
            f"cannot write the explorer page of {network.name}: {first_line}"
        ) from error


def _pictures(run: _Run, out: pathlib.Path, with_plots: bool) -> list[pathlib.Path]:
    network, history = run.network, run.history
    root = network.graph(history)
    written = [_graph_picture(network, root, out), _explorer_page(network, root, out)]
    if with_plots:
        written += network.figures(history, out)
    return written


# -- writing --------------------------------------------------------------------------------


def _say(text: str) -> None:
    """Write one line on stderr; a stderr that cannot take it is ignored (there is no other)."""
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr, flush=True)


def _fail(text: str, status: int = 1) -> int:
    _say(f"nets: error: {text}")
    return status


def _emit(text: str) -> int:
    """Write ``text`` and a newline on stdout and flush; return 0, or 1 with the reason."""
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError as error:
        bad = text[error.start]
        return _fail(
            f"stdout's encoding ({encoding}) cannot write {bad!a} (U+{ord(bad):04X}), "
            "which the table uses; set PYTHONIOENCODING=utf-8, or use --json"
        )
    try:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        return _fail("stdout was closed before all the output was written (broken pipe)")
    except OSError as error:
        _silence_stdout()
        return _fail(f"cannot write to stdout: {error.strerror or error}")
    return 0


def _silence_stdout() -> None:
    """Point stdout at the null device, so that Python's flush at exit cannot fail again."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (a test's)
        pass


# -- main -----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Bad arguments exit (SystemExit 2) through argparse, printing the usage and the reason.

    Example:
        >>> main(["neuron", "--steps", "3", "--json"])  # doctest: +ELLIPSIS
        {"net": "neuron", "steps": 3, "lr": 0.5, "seed": 0, ...
        0
    """
    try:
        return _main(argv)
    except KeyboardInterrupt:
        return _fail("interrupted", _INTERRUPTED)
    except UnicodeEncodeError as error:  # --help or a usage message on an ASCII-only stdout
        return _fail(
            f"the output's encoding ({error.encoding}) cannot write "
            f"{error.object[error.start : error.start + 1]!a}; set PYTHONIOENCODING=utf-8"
        )
    except Exception as error:  # the promise: one line, never a traceback (NETS_DEBUG=1 shows it)
        if os.environ.get("NETS_DEBUG"):
            raise
        return _fail(
            f"unexpected {type(error).__name__}: {error} -- a bug in nets or autodiff; please "
            "report it with the command you ran (NETS_DEBUG=1 shows the traceback)"
        )


def _main(argv: Sequence[str] | None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    networks = list(registry.NETWORKS) if args.net == "all" else [registry.get(args.net)]
    for network in registry.NETWORKS:
        for option in network.options:
            if getattr(args, option.dest) not in (None, False) and network not in networks:
                parser.error(f"argument {option.flag}: only for {network.name}, not {args.net}")
    if args.history and not args.json:
        parser.error("argument --history: goes with --json")
    if args.out is not None:
        _check_out(parser, args.out)

    outcome = _Outcome()
    try:
        with_plots = False
        if args.out is not None:
            _check_dot()
            with_plots = _matplotlib_present()
            if not with_plots:
                names = [name for network in networks for name in network.figure_names]
                outcome.warnings.append(
                    f"matplotlib is not installed, so these plots were not written: "
                    f"{', '.join(names)}; install it with: {plots.INSTALL_HINT}"
                )
        for network in networks:
            _run(network, args, outcome)
            if outcome.interrupted:
                break
        if args.out is not None and not outcome.interrupted:
            outcome.written = [
                p for run in outcome.runs for p in _pictures(run, args.out, with_plots)
            ]
    except _RunError as error:
        return _fail(str(error))

    return _report(args, outcome)


def _report(args: argparse.Namespace, outcome: _Outcome) -> int:
    if outcome.interrupted:
        _say(f"nets: {outcome.interrupted}; the table shows the steps done.")
    if args.json:
        summaries = [_summary(run, args.history) for run in outcome.runs]
        document = (
            summaries[0] if len(summaries) == 1 and args.net != "all" else {"nets": summaries}
        )
        status = _emit(json.dumps(document)) if summaries or args.net == "all" else 0
    else:
        status = _emit("\n\n".join(_table(run) for run in outcome.runs)) if outcome.runs else 0
    if status:
        return status
    if outcome.written:
        message = (
            f"Pictures ({len(outcome.written)} files) are in {os.path.abspath(args.out)}{os.sep}: "
            + ", ".join(path.name for path in outcome.written)
        )
        if args.json:
            if not args.quiet:
                _say(message)
        else:
            status = _emit(f"\n{message}")
    for warning in outcome.warnings:
        _say(f"nets: warning: {warning}")  # even with --quiet: files asked for are missing
    if outcome.interrupted:
        return _INTERRUPTED
    return status


if __name__ == "__main__":
    sys.exit(main())
