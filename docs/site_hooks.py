"""MkDocs hooks: what the site needs so that every page works opened from disk, with no network.

mkdocs.yml loads this file (``hooks:``). After each page is rendered to HTML it

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

import html
import re
from typing import Any

from latex2mathml.converter import convert

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


def on_page_content(html_text: str, **kwargs: Any) -> str:
    """Render math to MathML, drop doctest directives, link each picture to its file."""
    html_text = _MATH.sub(_mathml, html_text)
    html_text = _COMMENT.sub(_without_directive, html_text)
    return _LINKS_OR_IMAGES.sub(_linked, html_text)
