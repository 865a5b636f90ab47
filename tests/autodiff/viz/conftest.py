"""Shared graphs, DOT readers and the ``needs_dot`` marker for the tests of autodiff.viz.

Numbers come from tutorial 001 (../shared/seeds/001_*.txt, printed to 8 digits) or are derived
by hand in the docstring of the test that uses them.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable

import pytest

from autodiff import Value

# Real renders run wherever dot is installed, and always in CI (where a missing dot must fail).
IN_CI = os.environ.get("CI", "").lower() in ("true", "1")

# Tutorial 001's topological order, derived by hand from the walk (first parent first):
# L = mul(0.5, pow(sub(y, t), 2)); its only parent is the power, whose only parent is y - t,
# whose first parent y = add(mul(W2, a), b2) leads to W2 first, then a = sigmoid(z) and
# z = add(mul(W1, x), b1). The numbers 0.5 and 2 are operands, not nodes.
TUTORIAL_IDS = {
    "W2": 0,
    "W1": 1,
    "x": 2,
    "W1*x": 3,
    "b1": 4,
    "z": 5,
    "a": 6,
    "W2*a": 7,
    "b2": 8,
    "y": 9,
    "t": 10,
    "y-t": 11,
    "(y-t)**2": 12,
    "L": 13,
}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "needs_dot: runs Graphviz's dot; skipped without it, except in CI"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    if shutil.which("dot") is not None or IN_CI:
        return
    skip = pytest.mark.skip(
        reason="Graphviz's dot is not installed (bash scripts/ensure-dot.sh); never skipped in CI"
    )
    for item in items:
        if item.get_closest_marker("needs_dot") is not None:
            item.add_marker(skip)


def build_tutorial() -> tuple[Value, dict[str, Value]]:
    """Tutorial 001's network: x=1, t=0, W1=.5, b1=0, W2=-1, b2=0, every named node labelled."""
    x, t = Value(1.0, label="x"), Value(0.0, label="t")
    w1, b1 = Value(0.5, label="W1"), Value(0.0, label="b1")
    w2, b2 = Value(-1.0, label="W2"), Value(0.0, label="b2")
    z = w1 * x + b1
    z.label = "z"
    a = z.sigmoid()
    a.label = "a"
    y = w2 * a + b2
    y.label = "y"
    loss = 0.5 * (y - t) ** 2
    loss.label = "L"
    nodes = {"x": x, "t": t, "W1": w1, "b1": b1, "W2": w2, "b2": b2, "z": z, "a": a, "y": y}
    return loss, nodes


@pytest.fixture
def tutorial() -> Callable[[], tuple[Value, dict[str, Value]]]:
    """A builder of a fresh tutorial 001 graph (loss, nodes by name), before backward."""
    return build_tutorial


class DotReading:
    """Readers of DOT text, handed to tests by the ``dot_reading`` fixture."""

    tutorial_ids = TUTORIAL_IDS

    @staticmethod
    def node_line(source: str, node_id: str) -> str:
        """The DOT statement declaring ``node_id``."""
        (line,) = [s.strip() for s in source.splitlines() if s.strip().startswith(f"{node_id} [")]
        return line

    @staticmethod
    def edge_lines(source: str) -> dict[str, list[str]]:
        """Every edge statement, keyed by "tail -> head" (a list: parallel edges repeat)."""
        edges: dict[str, list[str]] = {}
        for raw in source.splitlines():
            match = re.match(r"\s*(\w+ -> \w+)(.*)$", raw)
            if match:
                edges.setdefault(match.group(1), []).append(match.group(2).strip())
        return edges

    @staticmethod
    def ovals(source: str) -> list[str]:
        """The label of every operation oval, in the order of the DOT text."""
        return re.findall(r"^\s*op\d+ \[label=<(.*?)> ", source, flags=re.MULTILINE)

    @staticmethod
    def box_ids(source: str) -> list[str]:
        """The id of every Value box, in the order of the DOT text."""
        return re.findall(r"^\s*(n\d+) \[", source, flags=re.MULTILINE)


@pytest.fixture
def dot_reading() -> type[DotReading]:
    """The DOT readers, for tests that check parts of a source."""
    return DotReading


# ----------------------------------------------------------------------------------------------
# The explorer tests: tutorial 001 built as the docs build it, and a graph with nasty labels.

HiddenGraph = Callable[..., tuple[Value, dict[str, Value]]]

# Labels that would run or break markup if the page ever parsed them instead of showing them.
NASTY_LABELS = (
    "\"double\" 'single' `back`",
    "<script>window.__pwned = 1</script>",
    '<img src=x onerror="window.__pwned = 2">',
    "{{ c }} ${c} {c} %s",
    "🔥 loss 🔥 &amp; \\N </svg>",
)


def build_hidden(backward: bool = True) -> tuple[Value, dict[str, Value]]:
    """Tutorial 001's loss, built as tutorials/hidden.md builds it (backward run by default)."""
    x, t = 1.0, 0.0
    w1, b1 = Value(0.5, label="W1"), Value(0.0, label="b1")
    w2, b2 = Value(-1.0, label="W2"), Value(0.0, label="b2")
    z = w1 * x + b1
    z.label = "z"
    a = z.sigmoid()
    a.label = "a"
    y = w2 * a + b2
    y.label = "y"
    loss = 0.5 * (y - t) ** 2
    loss.label = "L"
    if backward:
        loss.backward()
    named = {"W1": w1, "b1": b1, "W2": w2, "b2": b2, "z": z, "a": a, "y": y, "L": loss}
    return loss, named


def build_nasty(backward: bool = True) -> tuple[Value, list[Value]]:
    """A small graph whose every node carries one of ``NASTY_LABELS``."""
    a = Value(1.5, label=NASTY_LABELS[0])
    b = Value(2.0, label=NASTY_LABELS[1])
    c = a * b
    c.label = NASTY_LABELS[3]
    e = Value(3.0, label=NASTY_LABELS[2])
    d = c + e
    d.label = NASTY_LABELS[4]
    if backward:
        d.backward()
    return d, [a, b, c, e, d]


@pytest.fixture
def hidden_graph() -> HiddenGraph:
    """A builder of tutorial 001's graph: ``hidden_graph(backward=True)``."""
    return build_hidden


@pytest.fixture
def nasty_graph() -> Callable[..., tuple[Value, list[Value]]]:
    """A builder of the graph whose nodes carry ``NASTY_LABELS``: ``nasty_graph(backward=True)``."""
    return build_nasty


@pytest.fixture
def nasty_labels() -> tuple[str, ...]:
    """The labels of ``nasty_graph``'s nodes: quotes, markup, braces, emoji."""
    return NASTY_LABELS
