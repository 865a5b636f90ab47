"""The docs' explorer pages: each tutorial embeds its network's page, and the pages are current.

``docs/make_images.py`` writes ``docs/explorer/<net>.html`` (and tutorial 001 as an exercise);
the tutorial pages embed them in an iframe, and the site is built from the committed files.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
NETS = ("neuron", "hidden", "celsius")


@pytest.mark.parametrize("net", NETS)
def test_each_tutorial_page_embeds_its_explorer(net: str) -> None:
    """tutorials/<net>.md has one iframe of explorer/<net>.html, a committed file.

    The site is built with file URLs (tutorials/<net>.html), so the page sits one folder below
    the explorer pages.
    """
    text = (DOCS / "tutorials" / f"{net}.md").read_text(encoding="utf-8")
    assert re.findall(r'<iframe src="([^"]+)"', text) == [f"../explorer/{net}.html"]
    assert (DOCS / "explorer" / f"{net}.html").is_file()


def test_the_committed_explorer_pages_are_current(tmp_path: Path) -> None:
    """The committed pages are what docs/make_images.py makes from today's code and graphs."""
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    spec = importlib.util.spec_from_file_location("make_images", DOCS / "make_images.py")
    assert spec is not None
    assert spec.loader is not None
    make_images = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_images)
    fresh = list(make_images.run(tmp_path, ("pages",), tmp_path / "explorer"))
    assert sorted(path.name for path in fresh) == sorted(
        [f"{net}.html" for net in NETS] + ["hidden-exercise.html"]
    )
    installed = subprocess.run(["dot", "-V"], capture_output=True, text=True).stderr
    stale = []
    for path in fresh:
        committed = DOCS / "explorer" / path.name
        assert committed.is_file(), f"{path.name} is not committed: run `make docs-images`"
        old = committed.read_text(encoding="utf-8")
        drawn_by = re.search(r"Graphviz (\S+)\">", old)
        if drawn_by is None or f"version {drawn_by.group(1)} " not in installed:
            pytest.skip(f"the pages were laid out by another Graphviz than {installed.strip()}")
        if path.read_text(encoding="utf-8") != old:
            stale.append(path.name)
    assert not stale, f"stale explorer pages, run `make docs-images`: {stale}"
