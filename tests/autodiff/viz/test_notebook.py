"""Tests for autodiff.viz.notebook: how drawings show in Jupyter, and the package's surface.

Jupyter asks an object for ``_repr_mimebundle_`` / ``_repr_html_``; these tests call those
methods as a notebook would.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import autodiff
from autodiff import Value
from autodiff.viz import DotFailedError, draw, render


def square() -> Value:
    """y = x * x at x = 3, labelled."""
    x = Value(3.0, label="x")
    y = x * x
    y.label = "y"
    return y


@pytest.mark.needs_dot
def test_drawing_fits_the_cell_width_by_default(tmp_path: Path) -> None:
    """By default a drawing shows as HTML: the SVG inline, at most as wide as the cell."""
    picture = draw(square())
    bundle = picture._repr_mimebundle_()
    assert list(bundle) == ["text/html"]
    page = bundle["text/html"]
    assert page == picture._repr_html_()
    assert '<svg style="max-width:100%;height:auto" width="' in page
    assert "<?xml" not in page
    assert "<!DOCTYPE" not in page
    # The same picture as the file render writes, only introduced differently.
    svg = render(square(), tmp_path / "y.svg").read_text(encoding="utf-8")
    body = svg[svg.index("<svg") + len("<svg") :]
    assert body.split("</svg>")[0] in page


@pytest.mark.needs_dot
def test_natural_size_is_kept_when_asked(tmp_path: Path) -> None:
    """fit_width=False shows the plain SVG at the width dot gave it (in points)."""
    picture = draw(square(), fit_width=False)
    assert picture._repr_html_() is None
    bundle = picture._repr_mimebundle_()
    assert list(bundle) == ["image/svg+xml"]
    shown = ET.fromstring(bundle["image/svg+xml"].encode())
    written = ET.fromstring(render(square(), tmp_path / "y.svg").read_bytes())
    assert shown.attrib["width"] == written.attrib["width"]
    assert "style" not in shown.attrib


def test_mimebundle_respects_include_and_exclude() -> None:
    """A front end that asks for other types, or excludes HTML, gets nothing from the drawing."""
    picture = draw(square())
    assert picture._repr_mimebundle_(include=["image/png"]) == {}
    assert picture._repr_mimebundle_(exclude=["text/html"]) == {}


def test_notebook_display_runs_dot_under_the_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Displaying a drawing runs dot through the same guarded runner: a crash is DotFailedError."""
    folder = tmp_path / "bin"
    folder.mkdir()
    (folder / "dot").write_text("#!/bin/sh\nkill -SEGV $$\n", encoding="utf-8")
    (folder / "dot").chmod(0o755)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(DotFailedError, match=r"^draw: Graphviz's dot crashed \(SIGSEGV\)"):
        draw(square())._repr_html_()


def test_a_drawing_is_a_digraph_that_remembers_its_fit() -> None:
    """draw returns a graphviz.Digraph whose fit_width follows the option."""
    import graphviz

    assert isinstance(draw(square()), graphviz.Digraph)
    assert draw(square()).fit_width is True
    assert draw(square(), fit_width=False).fit_width is False


@pytest.mark.needs_dot
def test_a_drawing_shows_as_plain_text_without_a_memory_address() -> None:
    """Jupyter's plain-text form of a drawing counts its boxes and ovals: no address, no change.

    IPython fills in ``text/plain`` beside the HTML from ``repr``; it was ``object``'s, with a
    memory address, so a notebook saved with its outputs changed at every run.
    """
    formatters = pytest.importorskip("IPython.core.formatters")
    x = Value(2.0, label="x")
    y = (x * x + 1.0).tanh()
    y.label = "y"
    data, _ = formatters.DisplayFormatter().format(draw(y))
    assert data["text/plain"] == "Drawing(values=4, operations=3)"
    assert data["text/html"].startswith("<div")
    folded = sum(Value(float(k)) for k in range(10))
    assert repr(draw(folded)) == "Drawing(values=11, operations=1)"  # ten terms and one Σ
    assert repr(draw(y, focus=x)) == "Drawing(values=1, operations=0)"
    assert " at 0x" not in repr(autodiff.viz.backward_steps(y)[0])


def test_import_autodiff_does_not_import_graphviz() -> None:
    """`import autodiff` leaves graphviz unimported, so it stays fast; draw imports it."""
    script = (
        "import sys, autodiff; before = 'graphviz' in sys.modules; "
        "autodiff.draw(autodiff.Value(1.0)); print(before, 'graphviz' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True"]


def test_only_viz_imports_graphviz() -> None:
    """No module of autodiff outside autodiff/viz mentions an import of graphviz."""
    package = Path(autodiff.__file__).resolve().parent
    importing = [
        path.relative_to(package).as_posix()
        for path in package.rglob("*.py")
        if re.search(r"^\s*(import graphviz|from graphviz)", path.read_text("utf-8"), re.M)
    ]
    assert importing
    assert all(name.startswith("viz/") for name in importing)


def test_public_names_are_exported() -> None:
    """autodiff re-exports the drawing API; autodiff.viz lists its public names in __all__."""
    for name in ("draw", "render", "to_text", "backward_steps", "DotNotFoundError"):
        assert name in autodiff.__all__
        assert getattr(autodiff, name) is getattr(autodiff.viz, name)
    assert set(autodiff.viz.__all__) >= {
        "DrawOptions",
        "DotFailedError",
        "BackwardSteps",
        "DEFAULT_MAX_NODES",
        "DOT_TIMEOUT",
        "FOLD_SUM_TERMS",
    }
    assert all(hasattr(autodiff.viz, name) for name in autodiff.viz.__all__)
