"""A griffe extension for the API reference: render ``Example:`` sections as code.

The project's docstrings head their doctests ``Example:`` (Google style). griffe reads only the
plural ``Examples:`` as a section of code examples; a singular ``Example:`` becomes a note whose
``>>>`` lines are rendered as prose. This extension renames the heading before the docstrings are
parsed, so every example in the reference is shown as a highlighted Python session. It changes
nothing in the source. mkdocs.yml loads it from this path.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

_EXAMPLE_HEADING = re.compile(r"^([ \t]*)Example:[ \t]*$", re.MULTILINE)


class ExampleSections(griffe.Extension):
    """Rename every ``Example:`` section heading to ``Examples:`` once the tree is loaded."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        """Rewrite the heading in ``obj``'s docstring, if it has one."""
        docstring = obj.docstring
        if docstring is not None:
            docstring.value = _EXAMPLE_HEADING.sub(r"\1Examples:", docstring.value)
