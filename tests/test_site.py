"""The built documentation site works opened from disk, with no network.

The site is built once, strictly (as ``make docs`` does), into a temporary folder; the tests read
its HTML: no page loads a script or a style from elsewhere, every link names a file that is
there, every formula is MathML (no TeX left for a script to typeset), no doctest directive shows,
and every picture links to its full-size file. With Chromium installed, a page opened from disk
also shows search results.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent

_TAG = re.compile(r"<(?P<name>script|link|img|a|iframe|source)\b(?P<attributes>[^>]*)>", re.I)
_ATTRIBUTE = re.compile(r'\b(?P<key>src|href|rel)="(?P<value>[^"]*)"', re.I)
_CODE_BLOCK = re.compile(r"<code\b[^>]*>.*?</code>", re.S)
_CONTENT = re.compile(r'<article class="md-content__inner[^"]*">(?P<body>.*?)</article>', re.S)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the site strictly into a temporary folder and return it."""
    dot = shutil.which("dot")
    if dot is None:
        pytest.skip("Graphviz's dot is not installed: the build runs the notebooks, which draw")
    folder = tmp_path_factory.mktemp("site")
    home = tmp_path_factory.mktemp("home")
    # No program on the PATH but dot's folder, which the notebooks' drawings need.
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(folder)],
        cwd=ROOT,
        check=True,
        env={"NO_MKDOCS_2_WARNING": "1", "PATH": str(Path(dot).parent), "HOME": str(home)},
        timeout=600,
    )
    return folder


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def _tags(page: Path) -> list[tuple[str, dict[str, str]]]:
    text = page.read_text(encoding="utf-8")
    found = []
    for tag in _TAG.finditer(text):
        attributes = {
            match.group("key").lower(): html.unescape(match.group("value"))
            for match in _ATTRIBUTE.finditer(tag.group("attributes"))
        }
        found.append((tag.group("name").lower(), attributes))
    return found


def _is_external(url: str) -> bool:
    return url.startswith(("http:", "https:", "//"))


def test_no_script_or_style_comes_from_elsewhere(site: Path) -> None:
    """No page loads a script, stylesheet, font, frame or image over the network."""
    remote = []
    for page in _pages(site):
        for name, attributes in _tags(page):
            loads = name in {"script", "img", "iframe", "source"} or (
                name == "link" and attributes.get("rel") != "canonical"
            )
            url = attributes.get("src") or attributes.get("href") or ""
            if loads and _is_external(url):
                remote.append(f"{page.relative_to(site)}: <{name}> {url}")
    for sheet in site.rglob("*.css"):
        for url in re.findall(r"url\(\s*['\"]?(https?:|//)", sheet.read_text(encoding="utf-8")):
            remote.append(f"{sheet.relative_to(site)}: url({url}...)")
    assert not remote, "\n".join(remote)
    assert len(_pages(site)) > 20  # the scan saw the whole site


def test_every_link_names_a_file_that_is_there(site: Path) -> None:
    """Opened from disk, each internal link or asset names an existing file, never a folder."""
    broken = []
    # 404.html is only ever shown by a web server, for a missing address; its links are
    # absolute from the server's root by design, and opening the site from disk never reaches it.
    for page in [page for page in _pages(site) if page.name != "404.html"]:
        for _, attributes in _tags(page):
            url = attributes.get("src") or attributes.get("href")
            if not url or _is_external(url) or url.startswith(("#", "mailto:", "data:")):
                continue
            target = (page.parent / unquote(urlsplit(url).path)).resolve()
            if not target.is_file():
                broken.append(f"{page.relative_to(site)} -> {url}")
    assert not broken, "\n".join(broken[:20])


def test_formulas_are_mathml(site: Path) -> None:
    """Every formula is MathML in the page, with no TeX left for a script to typeset."""
    chain_rule = (site / "concepts" / "chain-rule.html").read_text(encoding="utf-8")
    assert chain_rule.count("<math") >= 41  # the page's 41 formulas
    leftovers = []
    for page in _pages(site):
        text = page.read_text(encoding="utf-8")
        prose = _CODE_BLOCK.sub("", text)  # code may show TeX on purpose
        if re.search(r"\\\(|\\\[|\$\$", prose):
            leftovers.append(str(page.relative_to(site)))
    assert not leftovers, leftovers


def test_no_doctest_directive_is_shown(site: Path) -> None:
    """Directives such as ``# doctest: +ELLIPSIS`` are removed from every rendered example."""
    shown = [
        str(page.relative_to(site))
        for page in _pages(site)
        if re.search(r"#\s*doctest:", page.read_text(encoding="utf-8"))
    ]
    assert not shown, shown
    # The examples are still there: the CLI page shows the call whose directive was removed.
    assert "main" in (site / "cli.html").read_text(encoding="utf-8")


def test_every_picture_links_to_its_file(site: Path) -> None:
    """Each picture in a page's text is a link to the same file, to open it at full size."""
    loose = []
    for page in _pages(site):
        content = _CONTENT.search(page.read_text(encoding="utf-8"))
        if content is None:
            continue
        body = content.group("body")
        for image in re.finditer(r'<img\b[^>]*\bsrc="([^"]+)"', body):
            link = re.search(r'<a\b[^>]*\bhref="([^"]+)"[^>]*>\s*$', body[: image.start()])
            if link is None or link.group(1) != image.group(1):
                loose.append(f"{page.relative_to(site)}: {image.group(1)}")
    assert not loose, "\n".join(loose)
    neuron = (site / "tutorials" / "neuron.html").read_text(encoding="utf-8")
    assert 'href="../images/neuron-graph.svg"' in neuron


def test_neuron_note_points_at_a_real_section(site: Path) -> None:
    """The command line's note on the tutorial's slip names a page and heading the site has."""
    from nets import neuron

    page, anchor = neuron.SLIP_DOCS.split("#")
    assert page.startswith("docs/")
    built = site / page.removeprefix("docs/").replace(".md", ".html")
    assert f'id="{anchor}"' in built.read_text(encoding="utf-8")


@pytest.mark.parametrize("name", ["neuron", "hidden", "celsius"])
def test_notebook_page_shows_what_the_notebook_showed(site: Path, name: str) -> None:
    """A notebook's page holds its cells' outputs: drawing, maths, explorer, player and plot."""
    page = (site / "notebooks" / f"{name}.html").read_text(encoding="utf-8")
    content = _CONTENT.search(page)
    assert content is not None
    body = content.group("body")
    assert "<p>notebook-output-" not in body  # every output is in its place
    assert body.count('class="notebook-output"') >= 8
    assert '<div style="max-width:100%;overflow-x:auto"><svg' in body  # a drawing
    assert 'class="autodiff-explanation"' in body
    assert '<iframe srcdoc="&lt;!DOCTYPE html&gt;' in body  # the explorer, whole in its frame
    assert 'class="autodiff-steps"' in body  # the backward-step player
    # The plot is a file beside the page (linked, as every picture), not a data: address.
    plot = f'<a class="picture-link" href="{name}-1.png"'
    assert plot in body
    assert (site / "notebooks" / f"{name}-1.png").read_bytes().startswith(b"\x89PNG")
    assert '<span class="k">assert</span>' in body  # the code, highlighted, with its checks
    # The stored notebook, without outputs, is there to download.
    assert f'href="{name}.ipynb"' in body
    assert '"outputs": []' in (site / "notebooks" / f"{name}.ipynb").read_text(encoding="utf-8")
    # Its tutorial page links to it, and the navigation lists it.
    tutorial = (site / "tutorials" / f"{name}.html").read_text(encoding="utf-8")
    assert f'href="../notebooks/{name}.html"' in tutorial
    assert f'href="notebooks/{name}.html"' in (site / "index.html").read_text(encoding="utf-8")


def test_notebook_outputs_stay_out_of_the_search_index(site: Path) -> None:
    """Search finds a notebook page's words and code, not the text inside its pictures."""
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    notebook = [doc for doc in index["docs"] if doc["location"].startswith("notebooks/")]
    text = "".join(doc["text"] for doc in notebook)
    assert "backward_steps(error, edge_derivatives=True)" in text  # the code is there
    # Graphviz names every picture's graph "%3" in its SVG title; the pictures are not.
    assert "%3" not in text
    assert "lr 0.5: predicted" not in text  # nor printed output


def test_api_reference_is_named_once_in_the_navigation(site: Path) -> None:
    """The API reference section is its own index page, not a section holding itself."""
    navigation = (site / "index.html").read_text(encoding="utf-8")
    labels = re.findall(r'<span class="md-ellipsis">\s*API reference\s*</span>', navigation)
    assert len(labels) == 1


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Chromium (Debian: chromium)")
def test_page_from_disk_shows_math_and_search_results(site: Path, tmp_path: Path) -> None:
    """Chromium opening a page from disk, offline, renders MathML and finds search results."""
    url = (site / "tutorials" / "neuron.html").as_uri() + "?q=sigmoid"
    result = subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={tmp_path}",
            "--virtual-time-budget=10000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    dom = result.stdout
    assert "<math" in dom
    found = re.search(r'md-search-result__meta">(\d+) matching document', dom)
    assert found, "no search results: the search did not run from disk"
    assert int(found.group(1)) > 0
