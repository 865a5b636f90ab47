"""MkDocs hooks: what the site needs so that every page works opened from disk, with no network.

mkdocs.yml loads this file (``hooks:``). Before the pages are read it

* runs every notebook under ``docs/notebooks/`` (nbclient, a fresh ``python3`` kernel each, side
  by side, in a temporary folder) and turns each into a page of its own,
  ``notebooks/<name>.md``, that exists only in the build: its Markdown cells as they are, its
  code in Python blocks, and under each block what the cell showed (a drawing's SVG, an
  explanation, the explorer page in its frame, the backward-step player, a plot as a PNG file
  beside the page, printed text). The stored notebook, kept without outputs, is published too,
  for the page's download link. A cell that fails fails the build.

After each page is rendered to HTML it

* puts each notebook cell's outputs in place, before the steps below;
* turns every formula into MathML at build time, with latex2mathml: ``pymdownx.arithmatex``
  leaves ``\\( ... \\)`` and ``\\[ ... \\]`` in ``arithmatex`` spans and divs, and the browser draws
  MathML itself, so no script (MathJax from a CDN, as before) is needed;
* removes doctest directives (``# doctest: +ELLIPSIS``) from highlighted code, where they are
  instructions to the test run, not something a reader should copy;
* makes every picture a link to its own file, so a graph squeezed into the text column opens at
  full size (and can be zoomed) with one click.

It changes no Markdown source: the pages' examples still run, directives and all, in the tests.
"""

from __future__ import annotations

import asyncio
import base64
import html
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
from latex2mathml.converter import convert
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from traitlets.config import Config

_MATH = re.compile(
    r'<(?P<tag>span|div) class="arithmatex">\s*'
    r"(?:\\\((?P<inline>.*?)\\\)|\\\[(?P<display>.*?)\\\])\s*</(?P=tag)>",
    re.DOTALL,
)
# A highlighted comment, with the spaces highlighted before it (Pygments' "w" spans or bare).
_COMMENT = re.compile(
    r'(?P<space>(?:<span class="w">[ \t]*</span>|[ \t])*)<span class="c1">(?P<text>[^<]*)</span>'
)
_DIRECTIVE = re.compile(r"\s*#\s*doctest:[^#]*$")
_IMAGE = re.compile(r"<img\b[^>]*>")
_SOURCE = re.compile(r'\bsrc="(?P<src>[^"]+)"')
_LINKS_OR_IMAGES = re.compile(r"(<a\b[^>]*>.*?</a>)|(<img\b[^>]*>)", re.DOTALL)


def _mathml(match: re.Match[str]) -> str:
    display = match.group("display") is not None
    tex = html.unescape(match.group("display") if display else match.group("inline"))
    mathml = convert(tex.strip(), display="block" if display else "inline")
    tag = match.group("tag")
    return f'<{tag} class="arithmatex">{mathml}</{tag}>'


def _without_directive(match: re.Match[str]) -> str:
    text = _DIRECTIVE.sub("", match.group("text"))
    if text == match.group("text"):
        return match.group(0)
    if not text.strip():
        return ""  # the whole comment was the directive: drop it and the spaces before it
    return f'{match.group("space")}<span class="c1">{text}</span>'


def _linked(match: re.Match[str]) -> str:
    link, image = match.group(1), match.group(2)
    if link is not None:  # already a link: leave it as it is
        return link
    source = _SOURCE.search(image)
    if source is None:
        return image
    return (
        f'<a class="picture-link" href="{source.group("src")}" '
        f'title="Open the picture at full size">{image}</a>'
    )


# -- notebooks ----------------------------------------------------------------------------------

NOTEBOOKS = "notebooks/"
"""The folder under docs/ whose notebooks become pages."""
CELL_TIMEOUT = 120
"""Seconds a notebook cell may run before its run fails."""

# What a cell's output is shown as, richest first: the first of these the output has.
_SHOWN_AS = ("text/html", "image/svg+xml", "image/png", "text/plain")
_PLACEHOLDER = re.compile(r"<p>notebook-output-(\d+)</p>")
_NOTEBOOK_LINK = re.compile(r"\]\((?P<name>[\w-]+)\.ipynb(?P<anchor>#[^)]*)?\)")
_SVG_PROLOGUE = re.compile(r"\A(?:\s*<\?xml[^>]*\?>|\s*<!DOCTYPE[^>]*>|\s*<!--.*?-->)*\s*", re.S)

# Each notebook page's outputs, by the page's source path, for on_page_content.
_outputs: dict[str, list[str]] = {}


async def _run(path: Path, folder: Path, scratch: Path, timeout: float) -> Any:
    notebook = nbformat.read(path, as_version=4)
    (folder / "cwd").mkdir(parents=True)
    config = Config()
    # Local sockets instead of TCP ports: no port to find, and ipykernel has no plain-text TCP
    # link to warn about. The connection file stays in the scratch folder too.
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = str(folder / "kernel")
    config.KernelManager.connection_file = str(folder / "kernel.json")
    # The kernel starts from the same settings everywhere: no IPython profile or matplotlibrc
    # of the user's, and matplotlib's default notebook backend (a plot shows as a PNG) even
    # when MPLBACKEND is set for scripts.
    env = {key: value for key, value in os.environ.items() if key != "MPLBACKEND"}
    env.update(IPYTHONDIR=str(scratch / "ipython"), MPLCONFIGDIR=str(scratch / "matplotlib"))
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        config=config,
        # Tracebacks without colour codes: a failing cell's error reads as plain text.
        extra_arguments=["--InteractiveShell.colors=nocolor"],
    )
    try:
        await client.async_execute(cwd=str(folder / "cwd"), env=env)
    except CellExecutionError as error:  # say which notebook the failing cell is in
        raise CellExecutionError(f"{path}: {error}", error.ename, error.evalue) from None
    _join_printed_text(notebook)
    return notebook


def _join_printed_text(notebook: Any) -> None:
    """Join printed text that arrived in several pieces, as Jupyter shows it: one block.

    The kernel sends what a cell prints in as many messages as its buffer was flushed, which
    depends on timing (``print`` may send a line and its newline apart); joined, the outputs
    are the same at every run.
    """
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        joined: list[Any] = []
        for output in cell.outputs:
            previous = joined[-1] if joined else None
            if (
                previous is not None
                and output.output_type == "stream"
                and previous.output_type == "stream"
                and previous.name == output.name
            ):
                previous.text += output.text
            else:
                joined.append(output)
        cell.outputs = joined


def run_notebooks(paths: Sequence[Path], timeout: float = CELL_TIMEOUT) -> list[Any]:
    """Run the notebooks side by side, each in a fresh python3 kernel; return them executed.

    Each kernel works in a temporary folder (whatever a notebook writes lands there and is
    removed) with its own IPython and matplotlib settings. A failing cell raises nbclient's
    ``CellExecutionError``, naming the cell and the error; a cell that runs longer than
    ``timeout`` seconds raises too.
    """

    async def run_all(scratch: Path) -> list[Any]:
        runs = (
            _run(path, scratch / f"{k}-{path.stem}", scratch, timeout)
            for k, path in enumerate(paths)
        )
        return list(await asyncio.gather(*runs))

    # A short path: the kernels' sockets are files in it, and a socket's path is limited to
    # about a hundred characters.
    with tempfile.TemporaryDirectory(prefix="notebooks-") as scratch:
        return asyncio.run(run_all(Path(scratch)))


def _shown(output: Any, name: str, picture_count: int) -> tuple[str, tuple[str, bytes] | None]:
    """One output as HTML, and the PNG file it shows, if it shows one (name, content)."""
    if output.output_type == "stream":
        kind = "notebook-stderr" if output.name == "stderr" else "notebook-stream"
        return f'<pre class="{kind}"><code>{html.escape(output.text)}</code></pre>', None
    if output.output_type == "error":  # nbclient raises first; a stored error is shown as text
        return (
            f"<pre><code>{html.escape(output.ename)}: {html.escape(output.evalue)}</code></pre>",
            None,
        )
    data = output.get("data", {})
    mimetype = next((kind for kind in _SHOWN_AS if kind in data), None)
    if mimetype == "text/html":
        return data[mimetype], None
    if mimetype == "image/svg+xml":
        return _SVG_PROLOGUE.sub("", data[mimetype], count=1), None
    if mimetype == "image/png":
        file_name = f"{name}-{picture_count + 1}.png"
        alt = html.escape(data.get("text/plain", "a plot"), quote=True)
        picture = (file_name, base64.b64decode(data[mimetype]))
        return f'<img src="{file_name}" alt="{alt}">', picture
    if mimetype == "text/plain":
        return f"<pre><code>{html.escape(data[mimetype])}</code></pre>", None
    return "", None


def notebook_page(notebook: Any, name: str) -> tuple[str, list[str], list[tuple[str, bytes]]]:
    """An executed notebook as a page: its Markdown, its outputs' HTML, its PNG files.

    The Markdown has a paragraph ``notebook-output-<k>`` where the k-th cell's outputs go
    (``on_page_content`` puts them there once the Markdown is HTML, so no Markdown extension
    touches them). Links to a sibling notebook (``hidden.ipynb``) become links to its page.
    """
    parts: list[str] = []
    outputs: list[str] = []
    pictures: list[tuple[str, bytes]] = []
    for cell in notebook.cells:
        source = cell.source.strip("\n")
        if cell.cell_type == "markdown":
            parts.append(_NOTEBOOK_LINK.sub(r"](\g<name>.md\g<anchor>)", source))
            if len(parts) == 1:  # after the title cell: where the page comes from
                parts.append(
                    '!!! note "This page is a notebook"\n'
                    f"    It is `docs/{NOTEBOOKS}{name}.ipynb`, run when this site was built:"
                    " under each cell is what it showed. To run it yourself,"
                    f' [download the notebook]({name}.ipynb){{ download="{name}.ipynb" }}'
                    " and open it in Jupyter"
                    " with autodiff installed."
                )
        elif cell.cell_type == "code" and source:
            parts.append(f"```python\n{source}\n```")
            shown = []
            for output in cell.get("outputs", []):
                text, picture = _shown(output, name, len(pictures))
                shown.append(text)
                if picture is not None:
                    pictures.append(picture)
            if any(shown):
                parts.append(f"notebook-output-{len(outputs)}")
                # Left out of the search index. A section, not a div: the theme's search
                # ends an exclusion at the first closing tag of its kind, and outputs hold divs.
                outputs.append(
                    f'<section class="notebook-output" data-search-exclude>{"".join(shown)}'
                    "</section>"
                )
    return "\n\n".join(parts) + "\n", outputs, pictures


def on_files(files: Any, config: Any, **kwargs: Any) -> Any:
    """Run the notebooks under docs/notebooks/ and add a page (and its plots) for each."""
    _outputs.clear()
    notebooks = sorted(
        (
            file
            for file in files
            if file.src_uri.startswith(NOTEBOOKS) and file.src_uri.endswith(".ipynb")
        ),
        key=lambda file: file.src_uri,
    )
    try:
        executed = run_notebooks([Path(file.abs_src_path) for file in notebooks])
    except CellExecutionError as error:
        raise PluginError(f"a notebook cell failed: {error}") from None
    for file, notebook in zip(notebooks, executed, strict=True):
        name = Path(file.src_uri).stem
        markdown, outputs, pictures = notebook_page(notebook, name)
        page_uri = f"{NOTEBOOKS}{name}.md"
        _outputs[page_uri] = outputs
        files.append(File.generated(config, page_uri, content=markdown))
        for file_name, content in pictures:
            files.append(File.generated(config, f"{NOTEBOOKS}{file_name}", content=content))
    return files


def _with_outputs(html_text: str, page: Any) -> str:
    outputs = _outputs.get(page.file.src_uri) if page is not None else None
    if not outputs:
        return html_text
    return _PLACEHOLDER.sub(lambda match: outputs[int(match.group(1))], html_text)


# -- every page ---------------------------------------------------------------------------------


def on_page_content(html_text: str, page: Any = None, **kwargs: Any) -> str:
    """Put notebook outputs in place, math to MathML, no doctest directives, pictures linked."""
    html_text = _with_outputs(html_text, page)
    html_text = _MATH.sub(_mathml, html_text)
    html_text = _COMMENT.sub(_without_directive, html_text)
    return _LINKS_OR_IMAGES.sub(_linked, html_text)
