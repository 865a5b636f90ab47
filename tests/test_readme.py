"""The README's quickstart runs and prints what the README says it prints."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks(language: str) -> list[str]:
    text = README.read_text(encoding="utf-8")
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


def test_quickstart_prints_the_documented_output() -> None:
    """The quickstart prints the README's text block, which holds tutorial 001's numbers."""
    (code,) = _blocks("python")
    (expected,) = _blocks("text")[:1]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {})
    assert out.getvalue() == expected
    # Tutorial 001 (../shared/seeds/001_*) prints these numbers for the same network.
    assert "dL/dW1 = 0.14628025" in expected
    assert "dL/dW2 = -0.38745562" in expected


def test_readme_gives_the_two_commands() -> None:
    """The README names `make demo` and `make test`, the two commands users run."""
    text = README.read_text(encoding="utf-8")
    assert "make demo" in text
    assert "make test" in text
