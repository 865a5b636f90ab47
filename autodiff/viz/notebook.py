"""How pictures show in Jupyter: drawings fitted to the cell, the backward-step player.

This module owns notebook display: ``Drawing``, the ``graphviz.Digraph`` that ``draw``
returns, whose display scales the picture down to the cell's width (unless ``fit_width`` is
False), and ``player_html``, the page fragment that shows a sequence of pictures with a slider.
Everything is inline (the SVGs, a few lines of CSS and JavaScript): it needs no network and no
notebook extension. It imports ``graphviz`` and is itself imported only when a drawing is
made, so ``import autodiff`` stays fast. It builds no graph and runs ``dot`` only through
``autodiff.viz.rendering.run_dot``.

Example:
    >>> svg = b'<?xml version="1.0"?> <!DOCTYPE svg> <svg width="80pt" viewBox="0 0 80 9"/>'
    >>> inline_svg(svg, fit_width=True)
    '<svg style="max-width:100%;height:auto" width="80pt" viewBox="0 0 80 9"/>'
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable, Sequence
from typing import Any, Final

import graphviz

from autodiff.viz.rendering import run_dot

__all__ = ["Drawing", "inline_svg", "player_html"]

# What dot writes before the <svg> element: the XML declaration, the doctype, comments. HTML
# needs none of them, and a second XML declaration in a page is an error.
_PROLOGUE: Final = re.compile(r"\A(?:\s*<\?xml[^>]*\?>|\s*<!DOCTYPE[^>]*>|\s*<!--.*?-->)*\s*", re.S)
_FIT: Final = 'style="max-width:100%;height:auto"'
# The statements that draw a Value's box and an operation's oval (autodiff.viz.dot's node ids).
_BOX: Final = re.compile(r"\s*n\d+ \[")
_OVAL: Final = re.compile(r"\s*op\d+ \[")


class Drawing(graphviz.Digraph):  # type: ignore[misc]  # graphviz ships no type stubs
    """A ``graphviz.Digraph`` that fits the notebook's width when it is displayed.

    ``draw`` returns one. In Jupyter it shows as an inline SVG scaled down to the cell's width
    (never up), or at its natural size when ``fit_width`` is False. The picture is made by
    ``autodiff.viz.rendering.run_dot``, so a layout that takes too long is stopped with
    ``DotFailedError`` rather than freezing the notebook. Everything else is the Digraph's own.

    Example:
        >>> from autodiff import Value
        >>> from autodiff.viz import draw
        >>> picture = draw(Value(1.0) * 2)
        >>> isinstance(picture, graphviz.Digraph), picture.fit_width
        (True, True)
        >>> picture
        Drawing(values=2, operations=1)
    """

    fit_width: bool = True

    def __repr__(self) -> str:
        """What the picture holds, the same in every process (Jupyter's plain-text form).

        Without it the plain text would be ``object.__repr__``'s memory address, which changes
        at every run: a notebook saved with its outputs would differ each time it is run.
        """
        values = sum(1 for line in self.body if _BOX.match(line))
        operations = sum(1 for line in self.body if _OVAL.match(line))
        return f"Drawing(values={values}, operations={operations})"

    def _svg(self) -> bytes:
        return run_dot(self.source, "svg", where="draw")

    def _repr_html_(self) -> str | None:
        """The inline SVG, scaled to the cell's width; None (no HTML) at natural size."""
        if not self.fit_width:
            return None
        return f'<div style="max-width:100%;overflow-x:auto">{inline_svg(self._svg(), True)}</div>'

    def _repr_mimebundle_(
        self,
        include: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        **_: Any,
    ) -> dict[str, str]:
        """What Jupyter shows: HTML fitted to the cell, or the plain SVG at natural size."""
        mimetype = "text/html" if self.fit_width else "image/svg+xml"
        wanted = set(include) if include is not None else {mimetype}
        if mimetype not in wanted - set(exclude or ()):
            return {}
        if self.fit_width:
            html_text = self._repr_html_()
            assert html_text is not None
            return {mimetype: html_text}
        return {mimetype: self._svg().decode("utf-8")}


def inline_svg(svg: bytes, fit_width: bool) -> str:
    """dot's SVG as an element to put in a page: no prologue, scaled to fit if asked.

    The SVG keeps its ``viewBox``, so ``max-width:100%`` with ``height:auto`` scales it
    without distortion, and only down: a small picture keeps its size.

    Example:
        >>> inline_svg(b'<?xml version="1.0"?><svg width="9pt"/>', fit_width=False)
        '<svg width="9pt"/>'
    """
    text = _PROLOGUE.sub("", svg.decode("utf-8"), count=1)
    if fit_width and text.startswith("<svg"):
        text = f"<svg {_FIT}{text[4:]}"
    return text


_PLAYER_SCRIPT: Final = """\
(function () {
  var box = document.currentScript ? document.currentScript.parentElement
                                   : document.getElementById("%(id)s");
  var frames = box.querySelectorAll(".autodiff-step");
  var slider = box.querySelector("input");
  var count = box.querySelector(".autodiff-count");
  function show(k) {
    k = Math.max(1, Math.min(frames.length, k));
    slider.value = k;
    for (var i = 0; i < frames.length; i++) { frames[i].hidden = i !== k - 1; }
    count.textContent = "step " + k + " of " + frames.length;
  }
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  box.querySelectorAll("button").forEach(function (button) {
    button.addEventListener("click", function () {
      show(Number(slider.value) + Number(button.dataset.move));
    });
  });
  box.addEventListener("keydown", function (event) {
    if (event.target === slider) { return; }  // the slider moves itself with the arrows
    if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      show(Number(slider.value) + (event.key === "ArrowLeft" ? -1 : 1));
      event.preventDefault();
    }
  });
  box.querySelector(".autodiff-controls").hidden = false;
  show(1);
})();"""


def player_html(svgs: Sequence[bytes], captions: Sequence[str], *, fit_width: bool = True) -> str:
    """A slider that shows one of ``svgs`` at a time, with previous and next buttons.

    Without JavaScript (an untrusted notebook) every picture shows, one below the other; with
    it, one at a time. Keyboard arrows move too, once the player
    has the focus. The ids are derived from the content, so the same pictures give the same
    text, and two different players on one page do not mix.

    Args:
        svgs: The pictures, as ``dot`` wrote them.
        captions: One line per picture, shown when the pointer rests on it.
        fit_width: Scale each picture down to the available width.

    Returns:
        An HTML fragment: a ``div`` with the controls, the pictures and one inline script.

    Example:
        >>> page = player_html([b"<svg>1</svg>", b"<svg>2</svg>"], ["one", "two"])
        >>> page.count("<svg"), page.count("<script>"), "src=" in page
        (2, 1, False)
    """
    if len(svgs) != len(captions):
        raise ValueError(f"player_html: {len(svgs)} pictures but {len(captions)} captions")
    digest = hashlib.sha256()
    for svg in svgs:
        digest.update(svg)
    player_id = f"autodiff-steps-{digest.hexdigest()[:16]}"
    total = len(svgs)
    if total == 0:
        return '<div class="autodiff-steps"><p>No backward step to show.</p></div>'
    frames = "".join(
        f'<div class="autodiff-step" title="{html.escape(caption)}">'
        f"{inline_svg(svg, fit_width)}</div>"
        for svg, caption in zip(svgs, captions, strict=True)
    )
    controls = (
        '<div class="autodiff-controls" hidden style="margin:0.3em 0">'
        '<button type="button" data-move="-1">&#9664; previous</button> '
        f'<input type="range" min="1" max="{total}" value="1" step="1" '
        'aria-label="backward step" style="vertical-align:middle"> '
        '<button type="button" data-move="1">next &#9654;</button> '
        f'<span class="autodiff-count">step 1 of {total}</span></div>'
    )
    script = _PLAYER_SCRIPT % {"id": player_id}
    return (
        f'<div class="autodiff-steps" id="{player_id}" tabindex="0">'
        f"{controls}{frames}<script>{script}</script></div>"
    )
