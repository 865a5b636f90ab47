"""The command line: ``python -m nets NET`` for each network in ``nets.registry``, or ``all``.

This module owns argument parsing, the printed table, the ``--json`` object, the progress
display and writing the ``--out`` pictures. It loops over ``nets.registry.NETWORKS`` and knows
no network by name: each network (a ``nets.network.Network``) brings its defaults, its
training, its graph, its notes and its figures. It holds no model and no mathematics.

Defaults reproduce each tutorial (``python -m nets --help`` lists them). ``--steps``, ``--lr``
and ``--seed`` override them for every network named, except that a network whose learning rate
follows a schedule (moons) refuses ``--lr`` when named alone and keeps its schedule in ``all``
(with a warning). A network's own options (the neuron's ``--inputs``, moons'
``--match-micrograd``) are refused for the others.

Each network trains through a tape by default: its graph is the same at every step, so it is
recorded once and replayed (``autodiff.Tape``). ``--eager`` builds the graph afresh at every
step instead (the eager engine): slower, and the same numbers.

``--json`` prints exactly one JSON object on stdout: for one network its summary
(``net``, ``steps``, ``lr``, ``seed``, ``initial_loss``, ``final_loss``, ``initial_params``,
``params`` by label, ``outputs``, and ``details``: the numbers the table prints, such as
tutorial 001's forward values and gradients); with ``--history`` also ``history``, every step's
loss, parameters and outputs. For ``all``, ``{"nets": [summary, ...]}``. Nothing in it depends
on time, so the same arguments give byte-identical output.

``--out DIR`` writes, for each network, its computation graph as SVG (built at the run's starting
parameters and backpropagated once) and the network's figures of the run as PNG. The figures
need matplotlib: without it the graphs are still written and a note names the plots left out.
A graph too large to draw is left out with a warning that says what to do instead.

Progress goes to stderr: a bar on a terminal (tqdm), or on anything else a plain line every
few seconds once a run is long; none when stderr is closed. Ctrl-C prints the table of the
steps done so far and exits 130; Ctrl-C while the pictures are written prints the whole table.
Each picture is written whole or not at all (``autodiff.viz.atomic_file``): a full disk or
Ctrl-C leaves no truncated file.

Exit status: 0 on success, 2 for bad arguments (with the usage, when stderr is open), 130 when
interrupted, and 1 for anything else (training diverged or ran out of memory, Graphviz missing,
a graph that cannot be drawn, a picture that cannot be written, stdout closed, full or unable
to encode the output, ``--help`` included), always with a one-line reason on stderr (when
stderr is open) and never a traceback. A failure after training prints the table first.

Example:
    >>> main(["hidden", "--json"])  # doctest: +ELLIPSIS
    {"net": "hidden", "steps": 1, "lr": 0.01, "seed": null, "initial_loss": 0.1937278...
    0
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import io
import json
import math
import os
import pathlib
import shutil
import stat
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NoReturn, TextIO

import autodiff
from nets import plots, registry
from nets.network import Network
from nets.training import History, TrainingInterrupted

if TYPE_CHECKING:
    from _typeshed import SupportsWrite  # what argparse's print_help accepts; types only

__all__ = ["DISTRIBUTION", "Heartbeat", "main"]

DISTRIBUTION = "autodiff-nets"
"""The name the package is installed by (``pip install autodiff-nets``); it imports as
``autodiff`` and ``nets``."""

_HEARTBEAT_SECONDS = 5.0
_BAR_DELAY_SECONDS = 0.5
_INTERRUPTED = 130


class _RunError(Exception):
    """A run that cannot finish: reported in one line, exit status 1."""


class _InterruptedError(Exception):
    """Ctrl-C before training started: what was interrupted, reported in one line, exit 130."""


# -- argument parsing -----------------------------------------------------------------------


def _plain_digits(text: str) -> None:
    """Refuse ``1_000`` and other scripts' digits (``٣``), which ``int`` and ``float`` accept.

    A reader of the command would not take them for the number they give.
    """
    if not text.isascii() or "_" in text:
        raise argparse.ArgumentTypeError(
            f"must be written with the digits 0-9 (no '_', no other scripts' digits), got {text!r}"
        )


def _whole_number(text: str) -> int:
    _plain_digits(text)
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
    _plain_digits(text)
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


def _rate(network: Network, lr: float | None = None) -> str:
    """The learning rate in words: "at lr 0.5", or the network's schedule."""
    if network.lr_schedule is not None:
        return f"with {network.lr_schedule}"
    return f"at lr {network.lr if lr is None else lr:g}"


class _Parser(argparse.ArgumentParser):
    """argparse, with ``--help`` written like every other output: a failure is one line, exit 1.

    argparse writes the help and the version with a bare ``write`` and exits 0, so a full disk
    (``--help > /dev/full``) or a closed stdout went unnoticed. And with stderr closed
    (``2>&-``) it prints the usage of a bad argument on stdout, in the way of ``--json``.
    """

    def error(self, message: str) -> NoReturn:
        """Print the usage and ``message`` on stderr and exit 2; with stderr closed, just exit 2."""
        if sys.stderr is None:  # argparse would fall back to stdout, a --json reader's stream
            self.exit(2)
        super().error(message)

    def print_help(self, file: SupportsWrite[str] | None = None) -> None:
        """Write the help on stdout (or ``file``); exit 1, with the reason, if it cannot."""
        if file is not None:
            super().print_help(file)
            return
        status = _emit(self.format_help().rstrip("\n"), uses="which the help uses", hint=_UTF8_HINT)
        if status:
            self.exit(status)


class _Version(argparse.Action):
    """``--version``: print ``version`` on stdout and exit, 0 or 1 as the writing went."""

    def __init__(self, option_strings: Sequence[str], version: str, **options: Any) -> None:
        options.update(dest=argparse.SUPPRESS, default=argparse.SUPPRESS, nargs=0)  # no value
        super().__init__(option_strings, **options)
        self.version = version

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        parser.exit(_emit(self.version, uses="which the version uses", hint=_UTF8_HINT))


def _parser() -> argparse.ArgumentParser:
    listing = "\n".join(
        f"  {n.name:9} {n.description}\n  {'':9} (default {_steps(n.steps)} {_rate(n)}"
        + (f", seed {n.seed})" if n.random else ")")
        for n in registry.NETWORKS
    )
    parser = _Parser(
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
        "--lr",
        type=_learning_rate,
        metavar="LR",
        help="learning rate (default: per network; not for a network with a schedule)",
    )
    parser.add_argument(
        "--seed",
        type=_whole_number,
        metavar="S",
        help="seed for the starting weights (and moons' data) (default: per network)",
    )
    parser.add_argument(
        "--eager",
        action="store_true",
        help="build the graph afresh at every step (the eager engine) instead of recording it "
        "once and replaying it (a tape): slower, the same numbers",
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
        action=_Version,
        version=f"nets {autodiff.__version__} (installed as {DISTRIBUTION})",
        help="show the version and the name the package is installed by, and exit",
    )
    return parser


def _check_out(parser: argparse.ArgumentParser, out: pathlib.Path) -> None:
    """Create ``out`` and make sure a file can be written there, or exit 2 with the reason."""
    obstacle = _obstacle(out)
    if obstacle is not None:
        parser.error(f"argument --out: {obstacle}")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        parser.error(f"argument --out: cannot create the folder {str(out)!r}: {_reason(error)}")
    try:
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        parser.error(f"argument --out: cannot create files in {str(out)!r}: {_reason(error)}")


def _obstacle(out: pathlib.Path) -> str | None:
    """What in ``out``'s path stops it from being a folder, in words, or None.

    Walks from the top of the path down to ``out``: the first part that exists but leads to no
    directory (a file, a broken symbolic link, a loop of links) is in the way.
    """
    for part in [*reversed(out.parents), out]:
        try:
            is_link = stat.S_ISLNK(os.lstat(part).st_mode)
        except OSError:  # missing (mkdir creates it) or not to be looked at (mkdir will say)
            return None
        if os.path.isdir(part):  # a link to a folder counts: mkdir -p follows it too
            continue
        what = _link_trouble(part) if is_link else _not_a_folder(part)
        if part == out:
            return f"{str(out)!r} {what}"
        return f"cannot create {str(out)!r}: {str(part)!r} is in the way: it {what}"
    return None


def _not_a_folder(part: pathlib.Path) -> str:
    """What ``part``, which exists and is no directory, is instead: a file, or something else."""
    with contextlib.suppress(OSError):
        if stat.S_ISREG(os.stat(part).st_mode):
            return "is a file, not a directory"
    return "is not a directory"  # a device (/dev/null), a pipe, a socket


def _link_trouble(link: pathlib.Path) -> str:
    """Why the symbolic link ``link`` leads to no folder: a loop, a missing target, a file."""
    try:
        os.stat(link)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return "is a symbolic link in a loop of links (it never reaches a folder)"
        return (
            f"is a broken symbolic link: it points to {os.readlink(link)!r}, which does not exist"
        )
    return "is a symbolic link to a file, not a directory"


def _reason(error: OSError) -> str:
    """The system's reason, in words a person can act on."""
    if error.errno == errno.ENOENT:  # the folder exists, yet "no such file": /proc, /sys
        return "this place does not allow new files or folders (the system says: no such file)"
    return error.strerror or str(error)


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
    options: dict[str, Any]
    """The network's own options the user gave (``train`` got them; so do its pictures)."""
    eager: bool = False
    interrupted: bool = False


@dataclass
class _Outcome:
    """What main has to show: the runs done, the pictures written, what went wrong."""

    runs: list[_Run] = field(default_factory=list)
    written: list[pathlib.Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    interrupted: str | None = None
    """Set by Ctrl-C: what was interrupted, a line for stderr."""
    error: str | None = None
    """A picture that could not be written: the reason, after the table, exit status 1."""


def _options(network: Network, args: argparse.Namespace) -> dict[str, Any]:
    """The network's own options the user gave, as keyword arguments for its ``train``."""
    given = {option.dest: getattr(args, option.dest) for option in network.options}
    return {dest: value for dest, value in given.items() if value not in (None, False)}


def _progress(network: Network, steps: int, args: argparse.Namespace) -> _Bar | Heartbeat | None:
    if args.quiet or sys.stderr is None:  # None: started with stderr closed (2>&-)
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


def _seed(network: Network, args: argparse.Namespace) -> int:
    return network.seed if args.seed is None else int(args.seed)  # argparse gives Any


def _run(network: Network, args: argparse.Namespace, outcome: _Outcome) -> None:
    steps = network.steps if args.steps is None else args.steps
    # A network with a schedule keeps it (``all --lr`` warns); named alone, --lr was refused.
    lr = network.lr if args.lr is None or network.lr_schedule is not None else args.lr
    options = _options(network, args)
    progress = _progress(network, steps, args)
    started = time.perf_counter()
    try:
        history = network.train(
            steps=steps,
            lr=lr,
            seed=_seed(network, args),
            callback=progress,
            eager=args.eager,
            **options,
        )
    except TrainingInterrupted as stop:
        done = "before its first step" if stop.history is None else f"at step {stop.history.steps}"
        outcome.interrupted = (
            f"{network.name} interrupted {done} of {stop.planned}; the table shows the steps done."
        )
        if stop.history is not None:
            seconds = time.perf_counter() - started
            outcome.runs.append(
                _Run(network, stop.history, seconds, options, args.eager, interrupted=True)
            )
        return
    except (ArithmeticError, ValueError) as error:
        raise _RunError(f"training failed: {error}") from error
    except MemoryError:
        raise _RunError(_out_of_memory(network, args, "training")) from None
    finally:
        if progress is not None:
            progress.close()
    outcome.runs.append(_Run(network, history, time.perf_counter() - started, options, args.eager))


def _summary(run: _Run, with_history: bool) -> dict[str, Any]:
    summary = run.history.summary()
    if run.interrupted:
        summary["interrupted"] = True
    summary["details"] = run.network.details(run.history, **run.options)
    if with_history:
        h = run.history
        summary["history"] = {"losses": h.losses, "params": h.params, "outputs": h.outputs}
    return summary


# -- human output ---------------------------------------------------------------------------


def _table(run: _Run) -> str:
    h, network = run.history, run.network
    rows: list[tuple[str, float, float]] = [("loss", h.initial_loss, h.final_loss)]
    if network.list_params:
        rows += [(name, values[0], values[-1]) for name, values in h.params.items()]
    rows += [(name, values[0], values[-1]) for name, values in h.outputs.items()]
    width = max(len(name) for name, _, _ in rows)
    seed_note = f", seed {h.seed}" if network.random else ""
    engine = "eager" if run.eager else "tape"
    stopped = " (interrupted)" if run.interrupted else ""
    lines = [
        f"{network.name}  ({network.description})",
        f"  {_steps(h.steps)} of SGD {_rate(network, h.lr)}{seed_note}, "
        f"in {run.seconds:.2f} s ({engine}){stopped}",
        f"  {'':{width}}  {'initial':>15}  {'final':>15}",
    ]
    lines += [f"  {name:{width}}  {_number(first)}  {_number(last)}" for name, first, last in rows]
    if not network.list_params:
        lines.append(f"  ({len(h.params)} parameters, not listed: --json has them)")
    if h.final_loss > h.initial_loss:
        what = "the learning rate" if network.lr_schedule else f"lr {h.lr:g}"
        lines.append(f"  the loss grew: {what} is too large for this network.")
    lines += [f"  {line}" for line in network.notes(h, **run.options)]
    return "\n".join(lines)


def _number(x: float) -> str:
    """Format for the table: 8 decimals, or scientific notation for tiny and huge numbers."""
    if x != 0.0 and not 1e-4 <= abs(x) < 1e6:
        return f"{x:15.6e}"
    return f"{x:15.8f}"


# -- pictures -------------------------------------------------------------------------------


_EXPLORER_MAX_NODES = 500
"""The explorer page's limit (``autodiff.viz.explore``'s default): a page of more nodes is too
slow to lay out and too crowded to click through."""


def _graph_picture(network: Network, root: autodiff.Value, out: pathlib.Path) -> pathlib.Path:
    from autodiff import viz

    try:
        return viz.render(
            root, out / f"{network.name}_graph.svg", title=network.graph_title, legend=True
        )
    except (RuntimeError, ValueError) as error:  # an OSError is _write_pictures' to report
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise _RunError(f"cannot draw the graph of {network.name}: {first_line}") from error


def _explorer_page(network: Network, root: autodiff.Value, out: pathlib.Path) -> pathlib.Path:
    """The network's graph as an explorer page to open from disk: ``out/<net>.html``."""
    from autodiff import viz

    try:
        return viz.explore(root, max_nodes=_EXPLORER_MAX_NODES).save(out / f"{network.name}.html")
    except (RuntimeError, ValueError) as error:  # an OSError is _write_pictures' to report
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        raise _RunError(
            f"cannot write the explorer page of {network.name}: {first_line}"
        ) from error


def _too_large(
    network: Network, size: int, left_out: list[str], page_written: bool, flags: list[str]
) -> str:
    """The warning for a graph too large to draw, with advice a command-line user can follow."""
    from autodiff import viz

    limits = f"a drawing takes at most {viz.DEFAULT_MAX_NODES}"
    if not page_written:
        limits += f", the explorer page {_EXPLORER_MAX_NODES}"
    advice = [f"open {network.name}.html (the explorer page) to see it"] if page_written else []
    advice += [f"give a smaller {flag}" for flag in flags]  # the user's own options
    return (
        f"the graph of {network.name} has {size} Values, too many to draw ({limits}), so "
        f"{' and '.join(left_out)} {'was' if len(left_out) == 1 else 'were'} not written"
        + (f"; {', or '.join(advice)}" if advice else "")
    )


def _pictures(run: _Run, args: argparse.Namespace, with_plots: bool, outcome: _Outcome) -> None:
    """Write the run's graph, explorer page and plots into ``--out``.

    Each file joins ``outcome.written`` as soon as it is complete; a graph too large to draw is
    left out with a warning that says what to do instead.
    """
    from autodiff import viz

    network, history, out = run.network, run.history, args.out
    root = network.graph(history, **run.options)
    size = len(autodiff.topological_order(root))
    left_out = []
    if size <= viz.DEFAULT_MAX_NODES:
        outcome.written.append(_graph_picture(network, root, out))
    else:
        left_out.append(f"{network.name}_graph.svg")
    if size <= _EXPLORER_MAX_NODES:
        outcome.written.append(_explorer_page(network, root, out))
    else:
        left_out.append(f"{network.name}.html")
    if left_out:
        flags = [o.flag for o in network.options if o.dest in _options(network, args)]
        page_written = size <= _EXPLORER_MAX_NODES
        outcome.warnings.append(_too_large(network, size, left_out, page_written, flags))
    if with_plots:
        outcome.written += network.figures(history, out, **run.options)


# -- writing --------------------------------------------------------------------------------

_STDOUT_CLOSED = "stdout is closed, so there is nowhere to print the results"
_UTF8_HINT = "set PYTHONIOENCODING=utf-8"


def _say(text: str) -> None:
    """Write one line on stderr; a stderr that is closed or cannot take it is ignored."""
    if sys.stderr is None:  # started with 2>&-; print(file=None) would write on stdout
        return
    with contextlib.suppress(OSError, ValueError):
        print(text, file=sys.stderr, flush=True)


def _fail(text: str, status: int = 1) -> int:
    _say(f"nets: error: {text}")
    return status


def _emit(
    text: str, uses: str = "which the table uses", hint: str = f"{_UTF8_HINT}, or use --json"
) -> int:
    """Write ``text`` and a newline on stdout and flush; return 0, or 1 with the reason.

    ``uses`` and ``hint`` finish the message when stdout's encoding cannot write a character
    of ``text``: where that character comes from, and what to do.
    """
    if sys.stdout is None:
        return _fail(_STDOUT_CLOSED)
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError as error:
        bad = text[error.start]
        return _fail(
            f"stdout's encoding ({encoding}) cannot write {bad!a} (U+{ord(bad):04X}), "
            f"{uses}; {hint}"
        )
    try:
        _write_all(text + "\n", encoding)
    except BrokenPipeError:
        _silence_stdout()
        return _fail("stdout was closed before all the output was written (broken pipe)")
    except OSError as error:
        _silence_stdout()
        return _fail(f"cannot write to stdout: {error.strerror or error}")
    return 0


def _write_all(text: str, encoding: str) -> None:
    """Write ``text`` on stdout and flush it: all of it, or an OSError saying why not.

    Python's text stream ignores a short write: on a disk that fills up part way through, the
    rest of the output was lost without a word, and the exit status was 0. So the bytes go to
    the file descriptor, and every write's count is checked: what a write left out is written
    again, and that second write reports the reason (no space left, file too large).
    """
    stream = sys.stdout
    try:
        # Only a real file's stream: a notebook's stdout (ipykernel) has a descriptor too, the
        # kernel's own terminal, where the notebook would never show the text.
        if type(stream) is not io.TextIOWrapper:
            raise ValueError("not a file's text stream")
        descriptor = stream.fileno()
    except (OSError, ValueError, AttributeError):  # not a file (a StringIO): nothing is short
        stream.write(text)
        stream.flush()
        return
    stream.flush()  # whatever went through the stream before comes first
    if os.linesep != "\n":  # the text stream would translate newlines (Windows)
        text = text.replace("\n", os.linesep)
    data = memoryview(text.encode(encoding, getattr(stream, "errors", None) or "strict"))
    while data:
        written = os.write(descriptor, data)
        if written == 0:  # no progress and no reason: the device takes nothing more
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        data = data[written:]


def _silence_stdout() -> None:
    """Point stdout at the null device, so that Python's flush at exit cannot fail again."""
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # stdout is not a real file (a test's)
        pass


def _hold_closed_streams() -> None:
    """Give a closed stdout's or stderr's descriptor (``>&-``, ``2>&-``) to the null device.

    Python then sets ``sys.stdout`` or ``sys.stderr`` to None and leaves descriptor 1 or 2
    free: the next file opened (a picture) would take it, and whatever a C library or a child
    program writes to "stderr" would land in that file. nets itself keeps treating the stream
    as closed.
    """
    for number, stream in ((1, sys.stdout), (2, sys.stderr)):
        if stream is not None:
            continue
        try:
            os.fstat(number)
        except OSError:  # closed indeed: take it (os.open returns the lowest free descriptor)
            with contextlib.suppress(OSError):
                null = os.open(os.devnull, os.O_WRONLY)
                if null != number:
                    os.dup2(null, number)
                    os.close(null)


# -- main -----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line with ``argv`` (default: ``sys.argv[1:]``); return the exit status.

    Bad arguments exit (SystemExit 2) through argparse, printing the usage and the reason;
    ``--help`` and ``--version`` exit (SystemExit 0, or 1 when stdout cannot take them).

    Example:
        >>> main(["neuron", "--steps", "3", "--json"])  # doctest: +ELLIPSIS
        {"net": "neuron", "steps": 3, "lr": 0.5, "seed": 0, ...
        0
    """
    _hold_closed_streams()
    try:
        return _main(argv)
    except KeyboardInterrupt:  # outside training and pictures: parsing, checks, printing
        return _fail("interrupted", _INTERRUPTED)
    except MemoryError:  # not a bug: the machine has no more to give (training's says more)
        return _fail("out of memory")
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
    for network in networks:
        if args.lr is not None and network.lr_schedule is not None and args.net != "all":
            parser.error(
                f"argument --lr: {network.name} has no single learning rate: it trains with "
                f"{network.lr_schedule}; leave --lr out"
            )
        if network.check is not None:
            if args.seed is not None:  # a seed the network refuses on its own: --seed's fault
                try:
                    network.check(seed=_seed(network, args))
                except ValueError as error:
                    parser.error(f"argument --seed: {error}")
            try:
                network.check(seed=_seed(network, args), **_options(network, args))
            except ValueError as error:
                parser.error(str(error))
    if sys.stdout is None:  # known now: fail before training, not after
        return _fail(_STDOUT_CLOSED)
    if args.out is not None:
        _check_out(parser, args.out)

    outcome = _Outcome()
    if args.lr is not None:
        outcome.warnings += [
            f"--lr {args.lr:g} is not for {network.name}, which trains with {network.lr_schedule}"
            for network in networks
            if network.lr_schedule is not None
        ]
    if args.seed is not None and args.net != "all":
        outcome.warnings += [
            f"--seed {args.seed} is not used: {network.name} starts from its tutorial's fixed "
            "parameters (nothing in it is random)"
            for network in networks
            if not network.random
        ]
    try:
        with_plots = args.out is not None and _prepare_pictures(networks, outcome)
    except _InterruptedError as stop:
        _say(f"nets: {stop}")
        return _INTERRUPTED
    except _RunError as error:
        return _fail(str(error))
    try:
        for network in networks:
            _run(network, args, outcome)
            if outcome.interrupted:
                break
    except _RunError as error:
        return _fail(str(error))
    if args.out is not None and not outcome.interrupted:
        _write_pictures(args, with_plots, outcome)
    return _report(args, outcome)


def _prepare_pictures(networks: list[Network], outcome: _Outcome) -> bool:
    """Check, before training, what ``--out`` needs; return whether the plots can be drawn."""
    _check_dot()
    try:
        present = _matplotlib_present()
    except KeyboardInterrupt:  # importing matplotlib takes a second or two: Ctrl-C lands here
        raise _InterruptedError(
            "interrupted while loading matplotlib (for the --out plots), before training "
            "started; nothing was run."
        ) from None
    if present:
        return True
    names = [name for network in networks for name in network.figure_names]
    outcome.warnings.append(
        f"matplotlib is not installed, so these plots were not written: "
        f"{', '.join(names)}; install it with: {plots.INSTALL_HINT}"
    )
    return False


def _write_pictures(args: argparse.Namespace, with_plots: bool, outcome: _Outcome) -> None:
    """Write every run's pictures, after training.

    The runs are done, so nothing here may lose them: a picture that cannot be written, or
    Ctrl-C, is recorded in ``outcome`` and reported after the table.
    """
    try:
        for run in outcome.runs:
            try:
                _pictures(run, args, with_plots, outcome)
            except OSError as error:  # a full disk, the folder removed meanwhile: not a bug
                raise _RunError(_cannot_write(error, run.network, args.out)) from error
            except MemoryError:
                raise _RunError(_out_of_memory(run.network, args, "drawing")) from None
    except _RunError as error:
        outcome.error = str(error)
    except KeyboardInterrupt:
        outcome.interrupted = (
            "interrupted while writing pictures; training had finished, so the table is complete."
        )


def _cannot_write(error: OSError, network: Network, out: pathlib.Path) -> str:
    """The line for a picture that could not be written: which file, and the system's reason."""
    reason = _reason(error)
    if error.errno == errno.ENOSPC:
        reason += " (the disk is full)"
    where = pathlib.Path(os.fsdecode(error.filename)) if error.filename else None
    if where is not None and where.parent == out:
        return f"cannot write {where.name}: {reason}"
    return f"cannot write the pictures of {network.name}: {reason}"


def _out_of_memory(network: Network, args: argparse.Namespace, doing: str) -> str:
    """The line for a MemoryError: what ran out, with the user's own sizes and what to shrink."""
    sizes = [
        (option.flag, getattr(args, option.dest))
        for option in network.options
        if option.parse is not None and getattr(args, option.dest) is not None
    ]
    if args.steps is not None:
        sizes.append(("--steps", args.steps))
    given = f" with {' '.join(f'{flag} {value}' for flag, value in sizes)}" if sizes else ""
    advice = f"; give a smaller {' or '.join(flag for flag, _ in sizes)}" if sizes else ""
    return f"out of memory {doing} {network.name}{given}{advice}"


def _report(args: argparse.Namespace, outcome: _Outcome) -> int:
    if outcome.interrupted:
        _say(f"nets: {outcome.interrupted}")
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
        folder = f"{os.path.abspath(args.out)}{os.sep}"
        count = len(outcome.written)
        message = (
            f"Pictures ({count} file{'' if count == 1 else 's'}) are in {folder}: "
            + ", ".join(path.name for path in outcome.written)
        )
        if args.json:
            if not args.quiet:
                _say(message)
        else:
            status = _emit(
                f"\n{message}",
                uses=f"which is in the path of the --out folder, {folder!a} (the pictures "
                "were written there)",
                hint=_UTF8_HINT,
            )
    for warning in outcome.warnings:
        _say(f"nets: warning: {warning}")  # even with --quiet: files asked for are missing
    if outcome.error:
        return _fail(outcome.error)
    if outcome.interrupted:
        return _INTERRUPTED
    return status


if __name__ == "__main__":
    sys.exit(main())
