"""Tests for autodiff.viz.rendering: writing files and every run of Graphviz's dot.

A slow, crashing or failing ``dot`` is played by a small shell script put first on PATH, so
these tests need no real layout to take long or crash (and assert no timing).
"""

from __future__ import annotations

import html
import math
import os
import struct
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from autodiff import Value
from autodiff.viz import (
    DOT_TIMEOUT,
    DotFailedError,
    DotNotFoundError,
    backward_steps,
    draw,
    render,
)

Tutorial = Callable[[], tuple[Value, dict[str, Value]]]
MAGIC = {".svg": b"<svg", ".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF-"}


def svg_texts(svg: bytes) -> list[str]:
    """The text of every <text> element of an SVG, in document order."""
    root = ET.fromstring(svg)
    return [el.text or "" for el in root.iter("{http://www.w3.org/2000/svg}text")]


def fake_dot(folder: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> None:
    """Put a ``dot`` that runs the shell ``body`` first on PATH."""
    folder.mkdir()
    program = folder / "dot"
    program.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
    program.chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")


# ----------------------------------------------------------------------------------------------
# Files that need no program.


def test_render_dot_needs_no_program(
    tutorial: Tutorial, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """.dot and .gv files are the DOT source, written even with no dot on PATH."""
    monkeypatch.setenv("PATH", str(tmp_path))
    loss, _ = tutorial()
    for name in ("graph.dot", "graph.GV"):
        written = render(loss, tmp_path / name, legend=True)
        assert written == tmp_path / name
        assert written.read_text(encoding="utf-8") == draw(loss, legend=True).source


@pytest.mark.parametrize("name", ["graph.jpg", "graph", "graph.svgz", "graph.dot.txt"])
def test_unknown_suffix_is_a_value_error(name: str, tmp_path: Path) -> None:
    """render refuses a suffix it cannot map to a format and lists the allowed ones."""
    with pytest.raises(
        ValueError, match=r"^render: .* use one of \.svg, \.png, \.pdf, \.dot, \.gv"
    ):
        render(Value(1.0), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("timeout", "error"),
    [
        (0, ValueError),
        (-1.5, ValueError),
        ("9", TypeError),
        (True, TypeError),
        (math.inf, ValueError),
        (1e300, ValueError),
        (math.nan, ValueError),
        (86400.5, ValueError),
    ],
)
def test_bad_timeout_is_refused(timeout: object, error: type[Exception], tmp_path: Path) -> None:
    """The time limit must be a number of seconds above 0 and at most a day, named in the error.

    inf and 1e300 used to reach subprocess and fail there (OverflowError from selectors,
    "timestamp too large"): they are refused where they are given, with the value.
    """
    with pytest.raises(error, match=r"^render: timeout must be a number of seconds") as refused:
        render(Value(1.0), tmp_path / "g.svg", timeout=timeout)  # type: ignore[arg-type]
    assert repr(timeout) in str(refused.value)
    assert list(tmp_path.iterdir()) == []


def test_a_time_limit_of_a_day_is_accepted(tmp_path: Path) -> None:
    """The longest time limit, 86400 s, and a whole number of seconds both draw the picture."""
    for timeout in (86400, 86400.0, 5):
        path = render(Value(1.0, label="x") * 2, tmp_path / "g.svg", timeout=timeout)
        assert path.read_bytes().startswith(b"<?xml")


# ----------------------------------------------------------------------------------------------
# A missing, slow, crashing or failing dot.


@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf"])
def test_missing_dot_says_how_to_install_it(
    suffix: str, tutorial: Tutorial, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no dot on PATH render raises DotNotFoundError explaining every install route."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    loss, _ = tutorial()
    with pytest.raises(DotNotFoundError) as error:
        render(loss, tmp_path / f"graph{suffix}")
    message = str(error.value)
    assert isinstance(error.value, RuntimeError)
    for needed in (
        "render: Graphviz's `dot` program",
        f"{suffix[1:].upper()} pictures",
        "`pip install graphviz` installs only the Python side",
        "apt-get install graphviz",
        "brew install graphviz",
        "conda install -c conda-forge graphviz",
        "Windows",
        "installer",
    ):
        assert needed in message
    assert not (tmp_path / f"graph{suffix}").exists()
    assert "digraph" in draw(loss).source  # drawing still works


def test_slow_dot_is_stopped_with_advice(
    tutorial: Tutorial, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dot that does not finish within the time limit is stopped: DotFailedError with advice."""
    fake_dot(tmp_path / "bin", monkeypatch, "exec sleep 30")
    loss, _ = tutorial()
    with pytest.raises(DotFailedError) as error:
        render(loss, tmp_path / "graph.svg", timeout=0.2)
    message = str(error.value)
    assert isinstance(error.value, RuntimeError)
    assert message.startswith(
        "render: Graphviz's dot did not finish laying out a picture of 14 Values within 0.2 s"
    )
    for advice in ("focus=", "max_nodes", "fewer examples", "to_text(root)"):
        assert advice in message
    assert not (tmp_path / "graph.svg").exists()


def test_crashing_dot_is_reported_with_its_signal(
    tutorial: Tutorial, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dot killed by SIGSEGV (Graphviz 2.43 near 600 nodes) gives DotFailedError naming it."""
    fake_dot(tmp_path / "bin", monkeypatch, "kill -SEGV $$")
    loss, _ = tutorial()
    with pytest.raises(
        DotFailedError, match=r"^render: Graphviz's dot crashed \(SIGSEGV\)"
    ) as error:
        render(loss, tmp_path / "graph.png")
    assert "focus=" in str(error.value)
    assert "to_text(root)" in str(error.value)
    assert not (tmp_path / "graph.png").exists()


def test_failing_dot_passes_on_what_it_said(
    tutorial: Tutorial, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A dot that exits with an error gives DotFailedError quoting its message."""
    fake_dot(
        tmp_path / "bin", monkeypatch, 'echo "Error: <stdin>: syntax error in line 3" >&2; exit 1'
    )
    loss, _ = tutorial()
    with pytest.raises(
        DotFailedError, match=r"^render: Graphviz's dot failed \(exit status 1\)"
    ) as error:
        render(loss, tmp_path / "graph.pdf")
    assert "It said: Error: <stdin>: syntax error in line 3" in str(error.value)


def test_default_time_limit() -> None:
    """dot gets a minute per picture by default: far above the few seconds 150 Values take."""
    assert DOT_TIMEOUT == 60.0


# ----------------------------------------------------------------------------------------------
# Real renders.


@pytest.mark.needs_dot
@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf"])
def test_tutorial_renders_with_everything(suffix: str, tutorial: Tutorial, tmp_path: Path) -> None:
    """Tutorial 001 after backward, labelled, with derivatives, a path and a key, renders."""
    loss, nodes = tutorial()
    loss.backward()
    written = render(
        loss,
        tmp_path / f"tutorial{suffix}",
        edge_derivatives=True,
        highlight=nodes["W1"],
        legend=True,
        title="Tutorial 001",
    )
    data = written.read_bytes()
    if suffix == ".svg":
        assert data.lstrip().startswith(b"<?xml")
        assert MAGIC[suffix] in data[:1000]
        texts = svg_texts(data)
        for expected in ("W1", "x", "z", "a", "y", "L", "0.2350", "-1.2449", "0.5 *", "** 2"):
            assert expected in texts
        assert "Tutorial 001" in texts
        assert b'stroke="#d62728"' in data
    else:
        assert data.startswith(MAGIC[suffix])


@pytest.mark.needs_dot
def test_png_is_rendered_at_150_dpi(tutorial: Tutorial, tmp_path: Path) -> None:
    """The PNG is 150/72 times the SVG's size in points (dot's SVG is in points, 72 per inch)."""
    loss, _ = tutorial()
    svg = render(loss, tmp_path / "g.svg").read_bytes()
    png = render(loss, tmp_path / "g.png").read_bytes()
    root = ET.fromstring(svg)
    width_pt = float(root.attrib["width"].removesuffix("pt"))
    height_pt = float(root.attrib["height"].removesuffix("pt"))
    width_px, height_px = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert abs(width_px - width_pt * 150 / 72) <= 3
    assert abs(height_px - height_pt * 150 / 72) <= 3


LABELS = [
    # (label, the lines a reader sees)
    ('say "hi"', ['say "hi"']),
    ("{a|b} [c]", ["{a|b} [c]"]),
    ("<b>bold</b>", ["<b>bold</b>"]),
    ("back\\slash \\N \\G", ["back\\slash \\N \\G"]),
    ("two\nlines", ["two", "lines"]),
    ("ünïcødé σ ∂ 日本", ["ünïcødé σ ∂ 日本"]),
    ("&amp; it's", ["&amp; it's"]),
    ("tab\there\x00", ["tab\\x09here\\x00"]),
]


@pytest.mark.needs_dot
@pytest.mark.parametrize(("label", "visible"), LABELS)
def test_label_renders_as_literal_text(label: str, visible: list[str], tmp_path: Path) -> None:
    """dot accepts the label and the SVG shows exactly the label's text, line by line."""
    path = render(Value(1.0, label=label) * 2, tmp_path / "label.svg", title=label)
    texts = svg_texts(path.read_bytes())
    for line in visible:
        assert texts.count(line) == 2  # once in the box, once in the title


@pytest.mark.needs_dot
def test_every_step_renders() -> None:
    """Each backward step of a small graph, with every option on, is valid input for dot."""
    x = Value(2.0, label="x")
    y = (x * x).tanh()
    for k, step in enumerate(backward_steps(y, legend=True, edge_derivatives=True), start=1):
        svg = step.pipe(format="svg")
        assert f"step {k} of 2: " in html.unescape(svg.decode())


@pytest.mark.needs_dot
def test_folded_sum_renders(tmp_path: Path) -> None:
    """A folded 100-term sum is valid input for dot."""
    total = sum(Value(float(i)) for i in range(100))
    assert isinstance(total, Value)
    path = render(total, tmp_path / "sum.svg", max_nodes=200)
    assert "100 terms" in svg_texts(path.read_bytes())
