"""Tests for autodiff.viz.text: ``to_text``, the graph one node per line.

Numbers come from tutorial 001 (../shared/seeds/001_*.txt, printed to 8 digits) or are derived
in the test's docstring.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from autodiff import Value
from autodiff.viz import to_text

Tutorial = Callable[[], tuple[Value, dict[str, Value]]]


def test_to_text_of_the_tutorial(tutorial: Tutorial) -> None:
    """to_text lists tutorial 001's 14 nodes with its printed 8-digit values and gradients.

    Not printed by the tutorial, derived here: dL/dx = W1 * dL/dz = 0.5 * 0.14628025 =
    0.07314013; dL/dt = -(y - t) = 0.62245933; d L / d (y-t)**2 = 0.5, the number operand of
    L = 0.5 * p. The numbers 0.5 and 2 are listed in their places: mul(0.5, n12), pow(n11, 2).
    """
    loss, _ = tutorial()
    loss.backward()
    expected = "\n".join(
        [
            "W2  = parameter      data=-1.00000000  grad=-0.38745562",
            "W1  = parameter      data=0.50000000   grad=0.14628025",
            "x   = parameter      data=1.00000000   grad=0.07314013",
            "n3  = mul(W1, x)     data=0.50000000   grad=0.14628025",
            "b1  = parameter      data=0.00000000   grad=0.14628025",
            "z   = add(n3, b1)    data=0.50000000   grad=0.14628025",
            "a   = sigmoid(z)     data=0.62245933   grad=0.62245933",
            "n7  = mul(W2, a)     data=-0.62245933  grad=-0.62245933",
            "b2  = parameter      data=0.00000000   grad=-0.62245933",
            "y   = add(n7, b2)    data=-0.62245933  grad=-0.62245933",
            "t   = parameter      data=0.00000000   grad=0.62245933",
            "n11 = sub(y, t)      data=-0.62245933  grad=-0.62245933",
            "n12 = pow(n11, 2)    data=0.38745562   grad=0.50000000",
            "L   = mul(0.5, n12)  data=0.19372781   grad=1.00000000",
        ]
    )
    assert to_text(loss, number_format=".8f") == expected


def test_numbers_are_listed_in_their_place() -> None:
    """F = C * 1.8 + 32 at C = 100 lists mul(C, 1.8) and add(n1, 32); 1 - C lists sub(1, C).

    F = 180 + 32 = 212; dF/dC = 1.8, the number C is multiplied by.
    """
    c = Value(100.0, label="C")
    f = c * 1.8 + 32
    f.label = "F"
    f.backward()
    assert to_text(f).splitlines() == [
        "C  = parameter    data=100.0000  grad=1.8000",
        "n1 = mul(C, 1.8)  data=180.0000  grad=1.0000",
        "F  = add(n1, 32)  data=212.0000  grad=1.0000",
    ]
    assert to_text(1 - c).splitlines()[1].startswith("n1 = sub(1, C)  data=-99.0000")
    assert to_text(2**c / 1e300).splitlines()[1].startswith("n1 = pow_value(2, C)")


def test_to_text_disambiguates_shared_labels() -> None:
    """Two nodes labelled 'w', and a label that looks like an id, fall back to n<i>[label]."""
    w1, w2 = Value(2.0, label="w"), Value(3.0, label="w")
    fake = Value(1.0, label="n0")
    text = to_text(w1 * w2 + fake)
    assert text.splitlines() == [
        "n0[w]  = input              data=2.0000  grad=0.0000",
        "n1[w]  = input              data=3.0000  grad=0.0000",
        "n2     = mul(n0[w], n1[w])  data=6.0000  grad=0.0000",
        "n3[n0] = input              data=1.0000  grad=0.0000",
        "n4     = add(n2, n3[n0])    data=7.0000  grad=0.0000",
    ]


def test_label_that_reads_as_a_number_is_named_by_position() -> None:
    """A node labelled '2' is listed as n0[2], so mul(n0[2], 2) shows which 2 is which."""
    two = Value(3.0, label="2")
    assert to_text(two * 2).splitlines()[1].startswith("n1    = mul(n0[2], 2)")


def test_to_text_of_a_single_leaf() -> None:
    """A lone leaf is one line."""
    assert to_text(Value(2.5, label="c")) == "c = input  data=2.5000  grad=0.0000"


def test_to_text_escapes_newlines() -> None:
    r"""A newline in a label is written \n, keeping one line per node."""
    text = to_text(Value(1.0, label="two\nlines") * 2)
    assert text.splitlines() == [
        "two\\nlines = input" + " " * 15 + "data=1.0000  grad=0.0000",  # rhs width 18
        "n1         = mul(two\\nlines, 2)  data=2.0000  grad=0.0000",
    ]


def test_to_text_shows_grad_values_after_create_graph() -> None:
    """After backward(create_graph=True) grads are Values; their data is shown (d x³/dx = 12)."""
    x = Value(2.0, label="x")
    y = x**3
    y.backward(create_graph=True)
    assert to_text(y).splitlines()[0] == "x  = parameter  data=2.0000  grad=12.0000"


def test_negative_zero_is_listed_without_sign() -> None:
    """-t at t = 0 is -0.0 in floats; to_text shows 0.0000."""
    assert "-0.0000" not in to_text(-Value(0.0))


def test_root_must_be_a_value() -> None:
    """Listing a plain number is a TypeError naming the function."""
    with pytest.raises(TypeError, match=r"^to_text: root must be a Value, got float"):
        to_text(1.0)  # type: ignore[arg-type]


def test_no_graphviz_needed_for_text() -> None:
    """to_text of a 100,000-node chain works (no size limit, no Graphviz) and ends at the root.

    x + 1 + ... + 1 with 99,999 additions has data 99,999 at the root.
    """
    node = Value(0.0, label="x")
    for _ in range(99_999):
        node = node + 1.0
    lines = to_text(node).splitlines()
    assert len(lines) == 100_000
    assert lines[-1].split()[:3] == ["n99999", "=", "add(n99998,"]
    assert "data=99999.0000" in lines[-1]
