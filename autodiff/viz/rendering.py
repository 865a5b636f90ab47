"""Running Graphviz's ``dot`` program: ``render`` writes a picture file.

This module owns every run of ``dot`` made by ``autodiff.viz`` (files, notebook display, the
backward-step player): it finds the program, runs it with a time limit, and turns a missing
program, a crash or a timeout into an error that says what to do. It builds no graph
(``autodiff.viz.dot`` does).

A layout that takes ``dot`` too long is stopped after ``timeout`` seconds (``DOT_TIMEOUT`` by
default), and a ``dot`` that crashes (Graphviz 2.43 dies with SIGSEGV on some graphs of a few
hundred nodes) is reported, both as ``DotFailedError``, a ``RuntimeError``.

Example:
    >>> issubclass(DotFailedError, RuntimeError), issubclass(DotNotFoundError, RuntimeError)
    (True, True)
"""

from __future__ import annotations

import os
import pathlib
import re
import shutil
import signal
import subprocess
from typing import Any, Final

from autodiff.engine import Value
from autodiff.viz.dot import build
from autodiff.viz.files import write_file
from autodiff.viz.options import DrawOptions, check_root, resolve

__all__ = ["DOT_TIMEOUT", "DotFailedError", "DotNotFoundError", "render", "run_dot"]

DOT_TIMEOUT: Final = 60.0
"""Seconds ``dot`` may take on one picture before it is stopped (``render(timeout=...)``)."""
MAX_DOT_TIMEOUT: Final = 86400.0
"""The longest time limit a caller may give ``dot``: a day (``inf`` is not a time limit)."""

FORMATS: Final = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot", ".gv": "dot"}
_PNG_DPI: Final = "150"
# A Value's box in the DOT text (see autodiff.viz.dot for the ids), counted for messages.
_VALUE_NODE: Final = re.compile(r"^\s*n\d+ \[", re.MULTILINE)

_DOT_MISSING: Final = """\
{where}: Graphviz's `dot` program was not found on PATH; it is needed to make {what}.
`pip install graphviz` installs only the Python side, not the program itself. Install it with:
  Debian/Ubuntu: sudo apt-get install graphviz
  Fedora:        sudo dnf install graphviz
  macOS:         brew install graphviz
  conda:         conda install -c conda-forge graphviz
  Windows:       the installer from https://graphviz.org/download/, then add its bin folder
                 to PATH
Without it, draw(root).source, render(root, "graph.dot") and to_text(root) still work."""

_ADVICE: Final = (
    "Draw less of the graph: focus=<a Value> draws only what that Value depends on, a smaller "
    "max_nodes or a graph built on fewer examples gives a smaller picture, and to_text(root) "
    "lists every node without Graphviz."
)


class DotNotFoundError(RuntimeError):
    """Raised when a picture needs Graphviz's ``dot`` program and it is not installed.

    The message says how to install it on each platform; ``draw(...).source``, ``.dot`` files
    and ``to_text`` need no program and keep working.

    Example:
        >>> issubclass(DotNotFoundError, RuntimeError)
        True
    """


class DotFailedError(RuntimeError):
    """Raised when Graphviz's ``dot`` crashes, fails or takes longer than its time limit.

    The message names what happened (the signal, the exit status and dot's own message, or the
    time limit) and how to draw less: ``focus=``, a smaller graph, or ``to_text``.

    Example:
        >>> issubclass(DotFailedError, RuntimeError)
        True
    """


def check_timeout(timeout: object, where: str, name: str = "timeout") -> float:
    """``timeout`` as seconds for ``dot``, or a TypeError / ValueError naming ``where``.

    A time limit is a number of seconds above 0 and at most ``MAX_DOT_TIMEOUT``: ``inf``,
    ``nan`` and numbers too large for the operating system's timers are refused here, where
    the caller gave them, rather than deep inside ``subprocess``.

    Example:
        >>> check_timeout(5, "render")
        5.0
        >>> check_timeout(float("inf"), "render")
        Traceback (most recent call last):
        ...
        ValueError: render: timeout must be a number of seconds > 0 and at most 86400 (a day),
        got inf
    """
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"{where}: {name} must be a number of seconds, got {timeout!r}")
    if not 0 < timeout <= MAX_DOT_TIMEOUT:  # nan fails both comparisons
        raise ValueError(
            f"{where}: {name} must be a number of seconds > 0 and at most "
            f"{MAX_DOT_TIMEOUT:g} (a day), got {timeout!r}"
        )
    return float(timeout)


def run_dot(source: str, output_format: str, *, where: str, timeout: float = DOT_TIMEOUT) -> bytes:
    """Lay out DOT ``source`` with ``dot`` and return the picture in ``output_format``.

    Args:
        source: The DOT text.
        output_format: A ``dot -T`` format: ``svg``, ``png``, ``pdf``.
        where: The function the user called, for the error messages.
        timeout: Seconds before ``dot`` is stopped.

    Returns:
        The bytes ``dot`` wrote.

    Raises:
        TypeError, ValueError: ``timeout`` is not a number of seconds as ``check_timeout`` says.
        DotNotFoundError: ``dot`` is not on PATH.
        DotFailedError: ``dot`` crashed, exited with an error, or ran out of time.

    Example:
        >>> run_dot("digraph { a -> b }", "svg", where="example").startswith(b"<?xml")
        True
    """
    timeout = check_timeout(timeout, where)
    program = shutil.which("dot")
    if program is None:
        what = f"{output_format.upper()} pictures"
        raise DotNotFoundError(_DOT_MISSING.format(where=where, what=what))
    values = len(_VALUE_NODE.findall(source))
    size = f"a picture of {values} Values" if values else "the picture"
    try:
        finished = subprocess.run(
            [program, f"-T{output_format}"],
            input=source.encode("utf-8"),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise DotFailedError(
            f"{where}: Graphviz's dot did not finish laying out {size} within "
            f"{timeout:g} s and was stopped. {_ADVICE}"
        ) from None
    status = finished.returncode
    if status == 0:
        return finished.stdout
    said = finished.stderr.decode("utf-8", "replace").strip()
    said = f" It said: {said[:500]}" if said else ""
    if status < 0:
        try:
            name = signal.Signals(-status).name
        except ValueError:
            name = f"signal {-status}"
        what = f"crashed ({name}), as Graphviz does on some large graphs"
    else:
        what = f"failed (exit status {status})"
    raise DotFailedError(f"{where}: Graphviz's dot {what} while laying out {size}.{said} {_ADVICE}")


def render(
    root: Value,
    path: str | os.PathLike[str],
    options: DrawOptions | None = None,
    *,
    timeout: float = DOT_TIMEOUT,
    **changes: Any,
) -> pathlib.Path:
    """Draw the graph of ``root`` and write it to ``path``, in the format its suffix names.

    ``.svg``, ``.png`` (at 150 dpi) and ``.pdf`` run Graphviz's ``dot`` program; ``.dot`` and
    ``.gv`` write the DOT source and need no program. The options are those of ``draw``. The
    file is written whole or not at all (``autodiff.viz.files``): a failure leaves ``path`` as
    it was.

    Args:
        root: The output node.
        path: Where to write; its folder must exist.
        options: A ``DrawOptions`` to start from, as in ``draw``.
        timeout: Seconds ``dot`` may take before it is stopped: above 0, at most
            ``MAX_DOT_TIMEOUT`` (a day).
        **changes: Any ``DrawOptions`` field by name, as in ``draw``.

    Returns:
        The path written, as a ``pathlib.Path``.

    Raises:
        ValueError: If the suffix is not one of .svg, .png, .pdf, .dot, .gv, or ``timeout`` is
            not above 0 and at most a day (or as ``draw``).
        TypeError: If ``timeout`` is not a number (or as ``draw``).
        DotNotFoundError: If the format needs ``dot`` and it is not installed.
        DotFailedError: If ``dot`` crashes or takes longer than ``timeout``.
        OSError: If the file cannot be written (a full disk, a missing folder).

    Example:
        >>> import tempfile
        >>> from autodiff import Value
        >>> x = Value(2.0, label="x")
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     written = render(x * x, pathlib.Path(folder) / "square.dot")
        ...     print(written.name, written.read_text().startswith("digraph"))
        square.dot True
    """
    where = "render"
    target = pathlib.Path(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"{where}: cannot tell the format from the suffix {target.suffix!r} of "
            f"{str(target)!r}; use one of {', '.join(FORMATS)}"
        )
    seconds = check_timeout(timeout, where)
    graph = build(check_root(root, where), resolve(where, options, changes), where=where)
    output_format = FORMATS[suffix]
    if output_format == "dot":
        return write_file(target, graph.source)
    if output_format == "png":
        graph.graph_attr["dpi"] = _PNG_DPI
    data = run_dot(graph.source, output_format, where=where, timeout=seconds)
    return write_file(target, data)  # whole or not at all: never a truncated picture
