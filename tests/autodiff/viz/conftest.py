"""Graphs the explorer tests share: tutorial 001's network and a graph with nasty labels."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from autodiff import Value

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
