"""Tests for autodiff.viz: DOT sources, escaping, guards, text view, step pictures, renders.

Expected DOT sources live in tests/autodiff/golden/ and were written by hand from the drawing
rules in the module docstring (then checked line by line), not copied from the output. Numbers
come from tutorial 001 (../shared/seeds/001_*.txt, printed to 8 digits) or are derived in the
test's docstring.
"""

from __future__ import annotations

import html
import itertools
import os
import re
import shutil
import struct
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

import autodiff
from autodiff import Value, gradients, topological_order
from autodiff.viz import (
    FOLD_SUM_TERMS,
    DotNotFoundError,
    backward_steps,
    draw,
    render,
    to_text,
)

GOLDEN = Path(__file__).parent / "golden"
HIGHLIGHT = 'color="#d62728"'
CURRENT = 'color="#ff7f0e"'
FILL = {
    "input": 'fillcolor="#d6e6f5"',
    "parameter": 'fillcolor="#d3efd0"',
    "constant": 'fillcolor="#ececec"',
    "interior": 'fillcolor="#ffffff"',
    "output": 'fillcolor="#ffd9a8"',
}

# Real renders run wherever dot is installed, and always in CI (where a missing dot must fail).
_IN_CI = os.environ.get("CI", "").lower() in ("true", "1")
needs_dot = pytest.mark.skipif(
    shutil.which("dot") is None and not _IN_CI,
    reason="Graphviz's dot is not installed (bash scripts/ensure-dot.sh); never skipped in CI",
)


def tutorial() -> tuple[Value, dict[str, Value]]:
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


# Tutorial 001's topological order, derived by hand from the DFS (first parent first):
# L = mul_const(pow(add(y, neg(t)), 2), 0.5) carries its 0.5 on the node (no constant leaf), so
# the walk goes L -> pow -> add -> y -> W2*a and W2 comes first, then W1*x ...
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
    "-t": 11,
    "y-t": 12,
    "(y-t)**2": 13,
    "L": 14,
}


def node_line(source: str, node_id: str) -> str:
    """The DOT statement declaring ``node_id``."""
    (line,) = [s.strip() for s in source.splitlines() if s.strip().startswith(f"{node_id} [")]
    return line


def edge_lines(source: str) -> dict[str, list[str]]:
    """Every edge statement, keyed by "tail -> head" (a list: parallel edges repeat)."""
    edges: dict[str, list[str]] = {}
    for raw in source.splitlines():
        match = re.match(r"\s*(\w+ -> \w+)(.*)$", raw)
        if match:
            edges.setdefault(match.group(1), []).append(match.group(2).strip())
    return edges


def svg_lines(svg: bytes) -> list[str]:
    """The text of every <text> element of an SVG, in document order."""
    root = ET.fromstring(svg)
    return [el.text or "" for el in root.iter("{http://www.w3.org/2000/svg}text")]


# ----------------------------------------------------------------------------------------------
# Golden DOT sources.


def test_golden_mul_after_backward() -> None:
    """c = a * b after backward draws two parameter boxes, one '*' oval and an output box."""
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    c.backward()
    expected = (GOLDEN / "mul_after_backward.dot").read_text(encoding="utf-8")
    assert draw(c).source == expected


def test_golden_top_to_bottom_with_every_option() -> None:
    """y = 2 * x**2 at x = 3, TB, no grads, derivatives 2x = 6 and 2, x highlighted, keyed.

    2 * x**2 is pow then mul_const: the 2 is written in the oval ('* 2'), there is no constant
    box, and the legend shows that oval as its example of an operation with a number.
    """
    x = Value(3.0, label="x")
    y = 2 * x**2
    source = draw(
        y,
        rankdir="TB",
        show_grad=False,
        number_format=".2f",
        edge_derivatives=True,
        highlight=x,
        legend=True,
        title='y = 2·x² <demo> & "q"',
    ).source
    expected = (GOLDEN / "square_tb_options.dot").read_text(encoding="utf-8")
    assert source == expected


def test_golden_constant_leaf() -> None:
    """y = 2 ** x at x = 3 keeps a grey constant box for the 2 and a 'constant' legend row.

    A number base of a Value exponent has no row to ride on (pow_value), so it is a leaf.
    d y/d base = x * 2**(x-1) = 12 and d y/d x = 2**3 * ln 2 = 5.5452 (both on the edges).
    """
    x = Value(3.0, label="x")
    y = 2**x
    y.label = "y"
    y.backward()
    expected = (GOLDEN / "pow_value_constant_leaf.dot").read_text(encoding="utf-8")
    assert draw(y, edge_derivatives=True, legend=True).source == expected


# ----------------------------------------------------------------------------------------------
# Determinism.


def test_same_graph_built_twice_gives_identical_dot() -> None:
    """Two separately built tutorial graphs give byte-identical DOT with every option on."""
    sources = []
    for _ in range(2):
        loss, nodes = tutorial()
        loss.backward()
        options = {"edge_derivatives": True, "legend": True, "title": "001"}
        sources.append(draw(loss, highlight=[nodes["W1"], nodes["b2"]], **options).source)
    assert sources[0] == sources[1]
    ids = set(re.findall(r"^\s*(\w+) \[", sources[0], flags=re.MULTILINE))
    # 15 value boxes, 9 ovals (one per non-leaf), the legend: positions, never id().
    ovals = {f"op{i}" for i in (3, 5, 6, 7, 9, 11, 12, 13, 14)}
    defaults = {"graph", "node", "edge"}
    assert ids == {f"n{i}" for i in range(15)} | ovals | {"legend"} | defaults


def test_dot_is_identical_across_processes() -> None:
    """A fresh interpreter with another hash seed draws the same DOT as this one."""
    script = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from test_viz import tutorial; from autodiff.viz import draw; "
        "loss, _ = tutorial(); loss.backward(); "
        "sys.stdout.buffer.write(draw(loss, edge_derivatives=True).source.encode())"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(Path(__file__).parent)],
        capture_output=True,
        check=True,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    loss, _ = tutorial()
    loss.backward()
    assert result.stdout.decode() == draw(loss, edge_derivatives=True).source


# ----------------------------------------------------------------------------------------------
# What the boxes, ovals and edges show.


def test_kinds_are_coloured_before_and_after_backward() -> None:
    """Leaves are inputs before backward and parameters after; z is interior, L the output.

    The 0.5 in L = 0.5 * (y - t)**2 rides on L's node, so no box is grey and the legend has
    no "constant" row.
    """
    loss, _ = tutorial()
    ids = TUTORIAL_IDS
    before = draw(loss).source
    assert FILL["input"] in node_line(before, f"n{ids['W1']}")
    loss.backward()
    after = draw(loss, legend=True).source
    assert FILL["parameter"] in node_line(after, f"n{ids['W1']}")
    assert FILL["interior"] in node_line(after, f"n{ids['z']}")
    assert FILL["output"] in node_line(after, f"n{ids['L']}")
    assert FILL["constant"] not in after
    assert "constant (a plain number)" not in after


def test_leaf_with_zero_gradient_stays_an_input() -> None:
    """u in y = x + 0 * u gets grad 0 after backward (d y/d u = 0), so it is drawn as an input."""
    x, u = Value(1.0, label="x"), Value(5.0, label="u")
    y = x + 0 * u
    y.backward()
    source = draw(y).source
    # Order: x (n0), u (n1), 0*u (n2, '* 0'), y (n3).
    assert FILL["parameter"] in node_line(source, "n0")
    assert FILL["input"] in node_line(source, "n1")
    assert "op2 [label=<* 0>" in source


def test_tutorial_boxes_show_the_tutorials_numbers() -> None:
    """Each box shows data and grad from tutorial 001, rounded to 4 places."""
    loss, _ = tutorial()
    loss.backward()
    source = draw(loss).source
    ids = TUTORIAL_IDS
    # (node, data, grad): dL/dW1 = 0.14628025, a = 0.62245933, dL/dW2 = -0.38745562, ...
    expected = [
        ("W1", "0.5000", "0.1463"),
        ("b1", "0.0000", "0.1463"),
        ("a", "0.6225", "0.6225"),
        ("W2", "-1.0000", "-0.3875"),
        ("b2", "0.0000", "-0.6225"),
        ("y", "-0.6225", "-0.6225"),
        ("L", "0.1937", "1.0000"),
    ]
    for name, data, grad in expected:
        line = node_line(source, f"n{ids[name]}")
        assert f"<B>{name}</B>" in line
        assert f"data</FONT> {data}</TD>" in line
        assert f"grad</FONT> {grad}</TD>" in line


def test_ovals_show_op_symbols() -> None:
    """The tutorial's ovals read *, +, σ, *, +, -, +, **2, * 0.5 in topological order."""
    loss, _ = tutorial()
    source = draw(loss).source
    labels = re.findall(r"^\s*op\d+ \[label=<([^>]*)>", source, flags=re.MULTILINE)
    assert labels == ["*", "+", "σ", "*", "+", "-", "+", "**2", "* 0.5"]


def test_pow_symbol_shows_the_exponent() -> None:
    """x ** 0.5 is drawn '**0.5' and 1 / x contains x ** -1, drawn '**-1'."""
    x = Value(4.0)
    assert "[label=<**0.5>" in draw(x**0.5).source
    assert "[label=<**-1>" in draw(1 / x).source


@pytest.mark.parametrize(
    ("build", "ovals"),
    [
        (lambda x: x + 32, ["+ 32"]),
        (lambda x: 32 + x, ["+ 32"]),
        (lambda x: x - 3.0, ["- 3"]),
        (lambda x: x + -3, ["- 3"]),
        (lambda x: 0.5 * x, ["* 0.5"]),
        (lambda x: x * -1, ["* -1"]),
        (lambda x: -x, ["-"]),
        (lambda x: x / 4, ["* 0.25"]),
        (lambda x: 1 - x, ["-", "+ 1"]),
        (lambda x: 10 / x, ["**-1", "* 10"]),
        (lambda x: x * 1.8 + 32, ["* 1.8", "+ 32"]),
        (lambda x: x * 1e-8, ["* 1e-08"]),
    ],
)
def test_oval_shows_the_number_its_op_carries(
    build: Callable[[Value], Value], ovals: list[str]
) -> None:
    """A number in + - * / reads in the oval as in the code: '+ 32', '- 3', '* 0.5', '* -1'."""
    source = draw(build(Value(2.0))).source
    assert re.findall(r"^\s*op\d+ \[label=<([^>]*)>", source, flags=re.MULTILINE) == ovals


def test_carried_numbers_ignore_number_format() -> None:
    """Carried numbers are written with :g: '.2e' changes data (5.00e-01), never '* 0.5'."""
    x = Value(1.0)
    source = draw(x * 0.5, number_format=".2e").source
    assert "op1 [label=<* 0.5>" in source
    assert "data</FONT> 5.00e-01<" in source


def test_subtracting_a_plain_zero_reads_minus_zero() -> None:
    """y - 0.0 is add_const with -0.0: drawn '- 0' and listed add_const(y, -0), as written."""
    y = Value(2.0, label="y")
    diff = y - 0.0
    assert "op1 [label=<- 0>" in draw(diff).source
    assert to_text(diff).splitlines()[1].startswith("n1 = add_const(y, -0)  data=2.0000")


def test_legend_shows_an_oval_with_its_number_only_when_there_is_one() -> None:
    """The key's example is the first carried-number oval ('* 0.5' in 0.5 * x), else absent."""
    x = Value(3.0, label="x")
    row = (
        '<TR><TD BORDER="1" STYLE="rounded" BGCOLOR="#efe6f7" COLOR="#4d4d4d">* 0.5</TD>'
        '<TD ALIGN="LEFT">operation with its number: x * 0.5</TD></TR>'
    )
    assert row in draw(0.5 * x, legend=True).source
    assert "operation with its number" not in draw(x * x, legend=True).source


def test_custom_op_shows_its_symbol_or_its_name() -> None:
    """A define_op op shows the symbol it was given, else its name."""
    cube = autodiff.define_op("cube", lambda x: x**3, lambda out, x: (3 * x**2,))
    swish = autodiff.define_op("swish_v", lambda x: x / 2, lambda out, x: (0.5,), symbol="swish<β>")
    x = Value(2.0)
    assert "op1 [label=<cube>" in draw(cube(x)).source
    assert "op1 [label=<swish&lt;β&gt;>" in draw(swish(x)).source


def test_show_grad_false_hides_grads() -> None:
    """show_grad=False leaves 'grad' out of every box."""
    loss, _ = tutorial()
    loss.backward()
    assert "grad</FONT>" in draw(loss).source
    assert "grad</FONT>" not in draw(loss, show_grad=False).source


def test_number_format_applies_everywhere() -> None:
    """number_format='.8f' shows a = 0.62245933 and dL/dW1 = 0.14628025 (tutorial 001)."""
    loss, _ = tutorial()
    loss.backward()
    source = draw(loss, number_format=".8f").source
    assert "data</FONT> 0.62245933<" in node_line(source, f"n{TUTORIAL_IDS['a']}")
    assert "grad</FONT> 0.14628025<" in node_line(source, f"n{TUTORIAL_IDS['W1']}")


def test_negative_zero_is_shown_without_sign() -> None:
    """-t at t = 0 is -0.0 in floats; boxes and text show 0.0000, not -0.0000."""
    t = Value(0.0)
    minus = -t
    assert "data</FONT> 0.0000</TD>" in node_line(draw(minus).source, "n1")
    assert "-0.0000" not in to_text(minus)


def test_edge_derivatives_are_the_local_derivatives() -> None:
    """Edge labels on the tutorial graph are the hand-derived local derivatives.

    d(W2*a)/da = W2 = -1, d(W2*a)/dW2 = a = 0.6225, da/dz = a(1-a) = 0.2350,
    d(u**2)/du = 2u = 2(-0.62245933) = -1.2449, d(0.5*p)/dp = 0.5 (the carried number),
    d(-t)/dt = -1, d(W1*x)/dx = W1 = 0.5.
    """
    loss, _ = tutorial()
    edges = edge_lines(draw(loss, edge_derivatives=True).source)
    ids = TUTORIAL_IDS

    def label(tail: str, head: str) -> str:
        (attrs,) = edges[f"n{ids[tail]} -> op{ids[head]}"]
        match = re.search(r"label=<([^>]*)>", attrs)
        assert match is not None
        return match.group(1)

    assert label("a", "W2*a") == "-1.0000"
    assert label("W2", "W2*a") == "0.6225"
    assert label("z", "a") == "0.2350"
    assert label("y-t", "(y-t)**2") == "-1.2449"
    assert label("(y-t)**2", "L") == "0.5000"
    assert label("y", "y-t") == "1.0000"
    assert label("t", "-t") == "-1.0000"
    assert label("x", "W1*x") == "0.5000"


def test_edge_of_a_carried_number_op_is_its_local_derivative() -> None:
    """x * -2.5 labels its edge -2.5000 (d(x*c)/dx = c); x + 7 labels it 1.0000 (d(x+c)/dx = 1).

    Both agree with autodiff.partials, the engine's own local derivatives.
    """
    x = Value(4.0)
    scaled, shifted = x * -2.5, x + 7
    for node, expected in ((scaled, "-2.5000"), (shifted, "1.0000")):
        (attrs,) = edge_lines(draw(node, edge_derivatives=True).source)["n0 -> op1"]
        assert attrs == f'[label=<{expected}> fontcolor="#1f4e9c"]'
        assert f"{autodiff.partials(node)[0]:.4f}" == expected


def test_reused_operand_gets_one_edge_per_use() -> None:
    """x * x at x = 3 has two parallel x -> op edges, each labelled d/dx = 3."""
    x = Value(3.0)
    edges = edge_lines(draw(x * x, edge_derivatives=True).source)
    assert edges["n0 -> op1"] == ['[label=<3.0000> fontcolor="#1f4e9c"]'] * 2


# ----------------------------------------------------------------------------------------------
# Highlighting.


def test_highlight_marks_exactly_the_path_to_the_root() -> None:
    """highlight=W1 marks W1 -> * -> + (z) -> σ -> * -> + (y) -> + -> **2 -> * 0.5 (L), 16 edges."""
    loss, nodes = tutorial()
    source = draw(loss, highlight=nodes["W1"]).source
    marked = {
        key for key, attrs in edge_lines(source).items() if any(HIGHLIGHT in a for a in attrs)
    }
    chain = [1, 3, 5, 6, 7, 9, 12, 13, 14]  # W1 and each node after it on the path
    expected = {f"n{chain[0]} -> op{chain[1]}"}
    for here, after in itertools.pairwise(chain[1:]):
        expected |= {f"op{here} -> n{here}", f"n{here} -> op{after}"}
    expected.add("op14 -> n14")
    assert marked == expected
    assert len(expected) == 16
    boxes = {f"n{i}" for i in range(15) if HIGHLIGHT in node_line(source, f"n{i}")}
    assert boxes == {f"n{i}" for i in chain}


def test_highlight_accepts_several_values_and_a_generator() -> None:
    """Highlighting W1 and t (as a generator) marks the union of both paths."""
    loss, nodes = tutorial()
    source = draw(loss, highlight=(nodes[k] for k in ("W1", "t"))).source
    marked = {
        key for key, attrs in edge_lines(source).items() if any(HIGHLIGHT in a for a in attrs)
    }
    assert {"n10 -> op11", "op11 -> n11", "n11 -> op12", "n1 -> op3"} <= marked
    assert "n0 -> op7" not in marked  # W2 is on neither path


def test_highlighting_the_root_marks_no_edge() -> None:
    """The root alone is a path of length zero: its box is marked, no edge is."""
    loss, _ = tutorial()
    source = draw(loss, highlight=loss).source
    assert HIGHLIGHT in node_line(source, "n14")
    assert all(HIGHLIGHT not in a for attrs in edge_lines(source).values() for a in attrs)


def test_highlight_outside_the_graph_is_an_error() -> None:
    """A Value that the root does not depend on cannot be highlighted."""
    loss, _ = tutorial()
    with pytest.raises(ValueError, match=r"highlight .* is not part of the graph"):
        draw(loss, highlight=Value(1.0))


@pytest.mark.parametrize("bad", ["x", 3, [1.0]])
def test_highlight_of_non_values_is_a_type_error(bad: object) -> None:
    """Strings, numbers and lists of numbers are not Values to highlight."""
    loss, _ = tutorial()
    with pytest.raises(TypeError, match="highlight must be a Value or an iterable of Values"):
        draw(loss, highlight=bad)  # type: ignore[arg-type]


# ----------------------------------------------------------------------------------------------
# Escaping: every label is literal text.

ESCAPES = [
    # (label, as it must appear in the DOT source, the lines a reader sees)
    ('say "hi"', "say &quot;hi&quot;", ['say "hi"']),
    ("{a|b} [c]", "{a|b} [c]", ["{a|b} [c]"]),
    ("<b>bold</b>", "&lt;b&gt;bold&lt;/b&gt;", ["<b>bold</b>"]),
    ("<TABLE>", "&lt;TABLE&gt;", ["<TABLE>"]),
    ("back\\slash \\N \\G", "back\\\\slash \\\\N \\\\G", ["back\\slash \\N \\G"]),
    ("two\nlines", "two<BR/>lines", ["two", "lines"]),
    ("ünïcødé σ ∂ 日本", "ünïcødé σ ∂ 日本", ["ünïcødé σ ∂ 日本"]),
    ("&amp; it's", "&amp;amp; it&#x27;s", ["&amp; it's"]),
    ("tab\there\x00", "tab\\\\x09here\\\\x00", ["tab\\x09here\\x00"]),
]


@pytest.mark.parametrize(("label", "in_dot", "visible"), ESCAPES)
def test_label_is_escaped_in_dot(label: str, in_dot: str, visible: list[str]) -> None:
    """The label appears HTML-escaped with backslashes doubled, inside a bold cell."""
    node = Value(1.0, label=label)
    source = draw(node * 2).source
    assert f"<B>{in_dot}</B>" in source


@needs_dot
@pytest.mark.parametrize(("label", "in_dot", "visible"), ESCAPES)
def test_label_renders_as_literal_text(
    label: str, in_dot: str, visible: list[str], tmp_path: Path
) -> None:
    """dot accepts the label and the SVG shows exactly the label's text, line by line."""
    node = Value(1.0, label=label)
    path = render(node * 2, tmp_path / "label.svg", title=label)
    texts = svg_lines(path.read_bytes())
    for line in visible:
        assert texts.count(line) == 2  # once in the box, once in the title


def test_to_text_escapes_newlines() -> None:
    r"""to_text writes a newline in a label as \n, keeping one line per node."""
    node = Value(1.0, label="two\nlines")
    text = to_text(node * 2)
    assert text.splitlines()[0].startswith("two\\nlines = input")
    assert (
        text.splitlines()[1] == "n1         = mul_const(two\\nlines, 2)  data=2.0000  grad=0.0000"
    )
    assert len(text.splitlines()) == 2


# ----------------------------------------------------------------------------------------------
# Wide sums and large graphs.


def test_long_sum_is_folded_into_one_sigma_node() -> None:
    """sum() of 100 Values is one Σ oval with 100 terms, one edge per Value, each d = 1.

    sum starts with 0 + x0, an add_const node that is unlabelled and used once, so it is
    absorbed too; its 0 adds nothing, so the oval shows no number.
    """
    xs = [Value(float(i)) for i in range(100)]
    total = sum(xs)
    assert isinstance(total, Value)
    source = draw(total, edge_derivatives=True).source
    # Order: x0 (n0), 0+x0 (n1), x1 (n2), + (n3), ..., x99 (n198), the last + (n199).
    ovals = re.findall(r"^\s*(op\d+) \[label=<(.*?)> ", source, flags=re.MULTILINE)
    assert ovals == [("op199", 'Σ<BR/><FONT POINT-SIZE="8">100 terms</FONT>')]
    edges = edge_lines(source)
    terms = range(0, 199, 2)
    assert set(edges) == {f"n{j} -> op199" for j in terms} | {"op199 -> n199"}
    assert all(edges[f"n{j} -> op199"] == ['[label=<1.0000> fontcolor="#1f4e9c"]'] for j in terms)
    boxes = re.findall(r"^\s*(n\d+) \[", source, flags=re.MULTILINE)
    assert len(boxes) == 101  # the 100 terms and the sum
    assert "data</FONT> 4950.0000<" in node_line(source, "n199")  # 0 + 1 + ... + 99


def test_fold_threshold() -> None:
    """A sum of FOLD_SUM_TERMS - 1 Values is drawn node by node; FOLD_SUM_TERMS Values fold."""
    assert FOLD_SUM_TERMS == 8
    short = sum(Value(1.0) for _ in range(7))  # 0 + v0 ('+ 0'), then 6 '+' ovals
    long = sum(Value(1.0) for _ in range(8))  # 8 Value terms: one Σ oval
    assert isinstance(short, Value)
    assert isinstance(long, Value)
    assert draw(short).source.count("[label=<+>") == 6
    assert draw(short).source.count("[label=<+ 0>") == 1
    assert draw(long).source.count("[label=<Σ") == 1
    assert "[label=<+" not in draw(long).source


def test_numbers_added_in_a_folded_sum_are_shown() -> None:
    """sum(xs, 5.0) folds to 'Σ + 5' and sum(xs) - 3.5 to 'Σ - 3.5': no operand is dropped.

    The start 5.0 makes 5 + x0 (add_const 5); subtracting 3.5 from the sum makes a last
    add_const -3.5 that uses the unlabelled sum once, so it heads the group and adds its number.
    """
    xs = [Value(1.0) for _ in range(10)]
    started = sum(xs, 5.0)
    shifted = sum(xs) - 3.5
    assert isinstance(started, Value)
    assert isinstance(shifted, Value)
    sigma = '{}<BR/><FONT POINT-SIZE="8">10 terms</FONT>>'
    assert f"[label=<{sigma.format('Σ + 5')}" in draw(started).source
    assert f"[label=<{sigma.format('Σ - 3.5')}" in draw(shifted).source
    assert "data</FONT> 15.0000<" in draw(started).source  # 5 + 10 * 1
    assert "data</FONT> 6.5000<" in draw(shifted).source  # 10 * 1 - 3.5


def test_reused_start_of_a_sum_stays_visible() -> None:
    """A '+ 0' start used twice is not absorbed: it keeps its box and oval, and is a term."""
    xs = [Value(1.0) for _ in range(10)]
    start = xs[0] + 0.0
    total = start
    for x in xs[1:]:
        total = total + x
    root = total * start
    source = draw(root).source
    # Order: x0 (n0), start (n1), x1 (n2), + (n3), ..., x9 (n18), top + (n19), root (n20).
    assert "op1 [label=<+ 0>" in source
    assert "10 terms" in source  # start and x1, ..., x9
    edges = edge_lines(source)
    assert "n1 -> op19" in edges
    assert "n1 -> op20" in edges


def test_labelled_partial_sum_is_not_hidden() -> None:
    """A labelled partial sum is never hidden: it keeps its box and its own Σ oval."""
    xs = [Value(1.0) for _ in range(20)]
    half = sum(xs[:10])
    assert isinstance(half, Value)
    half.label = "half"
    total = half + sum(xs[10:])
    source = draw(total).source
    assert "<B>half</B>" in source
    # half = x0 + ... + x9 is 10 Value terms. The unlabelled second sum is used once, by the
    # top +, so it folds into it: the top oval has half and x10, ..., x19, 11 terms.
    assert source.count("10 terms") == 1
    assert source.count("11 terms") == 1
    assert "[label=<+" not in source


def test_many_input_op_is_one_oval() -> None:
    """A custom op on 120 inputs is one oval with 120 incoming edges."""
    total = autodiff.define_op(
        "total120", lambda *xs: sum(xs), lambda out, *xs: (1.0,) * len(xs), arity=120
    )
    xs = [Value(float(i)) for i in range(120)]
    source = draw(total(*xs)).source
    edges = edge_lines(source)
    assert set(edges) == {f"n{i} -> op120" for i in range(120)} | {"op120 -> n120"}
    assert "op120 [label=<total120>" in source


def chain(length: int) -> Value:
    """x, then length - 1 nodes each adding 1 (add_const, no leaf): a graph of length Values."""
    node = Value(0.0, label="x")
    for _ in range(length - 1):
        node = node + 1.0
    return node


def test_max_nodes_boundary() -> None:
    """c = a * b has 3 Values: max_nodes=3 draws it, max_nodes=2 refuses."""
    c = Value(1.0) * Value(2.0)
    assert "op2" in draw(c, max_nodes=3).source
    with pytest.raises(ValueError, match="more than max_nodes=2"):
        draw(c, max_nodes=2)


def test_large_graph_message_explains_the_way_out() -> None:
    """Above the default 500 Values the error names the option and how to draw part of it."""
    root = chain(600)  # 600 Values
    with pytest.raises(ValueError, match="max_nodes=500") as error:
        draw(root)
    message = str(error.value)
    assert "intermediate Value as the root" in message
    assert "raise max_nodes" in message
    assert "to_text(root)" in message
    source = draw(root, max_nodes=600).source
    assert "op599 [label=<+ 1>" in source
    assert "[label=<Σ" not in source  # one Value term and many numbers is no wide sum


def test_huge_graph_is_refused_without_walking_it() -> None:
    """A 100,001-node chain is refused by draw, render and backward_steps alike."""
    root = chain(100_001)
    with pytest.raises(ValueError, match="max_nodes"):
        draw(root)
    with pytest.raises(ValueError, match="max_nodes"):
        render(root, "never-written.svg")
    with pytest.raises(ValueError, match="max_nodes"):
        backward_steps(root)
    assert not Path("never-written.svg").exists()


# ----------------------------------------------------------------------------------------------
# Option checking.


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rankdir": "RL"}, "rankdir must be 'LR' or 'TB', got 'RL'"),
        ({"rankdir": "lr"}, "rankdir must be 'LR' or 'TB'"),
        ({"max_nodes": 0}, "max_nodes must be a positive int, got 0"),
        ({"max_nodes": -5}, "max_nodes must be a positive int, got -5"),
        ({"number_format": ".4q"}, "number_format '.4q' is not a float format spec"),
    ],
)
def test_bad_options_are_value_errors(options: dict[str, object], message: str) -> None:
    """Each bad option raises ValueError naming it and the allowed values."""
    x = Value(1.0)
    for function in (draw, backward_steps):
        with pytest.raises(ValueError, match=re.escape(message)):
            function(x * 2, **options)  # type: ignore[operator]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_nodes": 2.5}, "max_nodes must be an int"),
        ({"max_nodes": True}, "max_nodes must be an int"),
        ({"number_format": 4}, "number_format must be a str"),
        ({"title": 7}, "title must be a str or None"),
    ],
)
def test_wrongly_typed_options_are_type_errors(options: dict[str, object], message: str) -> None:
    """Options of the wrong type raise TypeError naming the option."""
    with pytest.raises(TypeError, match=message):
        draw(Value(1.0), **options)  # type: ignore[arg-type]


def test_root_must_be_a_value() -> None:
    """Drawing a plain number is a TypeError naming the function."""
    for function in (draw, to_text, backward_steps):
        with pytest.raises(TypeError, match="root must be a Value, got float"):
            function(1.0)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", ["graph.jpg", "graph", "graph.svgz", "graph.dot.txt"])
def test_unknown_suffix_is_a_value_error(name: str, tmp_path: Path) -> None:
    """render refuses a suffix it cannot map to a format and lists the allowed ones."""
    with pytest.raises(ValueError, match=r"use one of \.svg, \.png, \.pdf, \.dot, \.gv"):
        render(Value(1.0), tmp_path / name)
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------------------------
# to_text.


def test_to_text_of_the_tutorial() -> None:
    """to_text lists tutorial 001's 16 nodes with its printed 8-digit values and gradients.

    Not printed by the tutorial, derived here: dL/dx = W1 * dL/dz = 0.5 * 0.14628025 =
    0.07314013; d L/d (y-t)**2 = 0.5, the number L's node carries (d(0.5 p)/dp = 0.5).
    """
    loss, _ = tutorial()
    loss.backward()
    expected = "\n".join(
        [
            "W2  = parameter            data=-1.00000000  grad=-0.38745562",
            "W1  = parameter            data=0.50000000   grad=0.14628025",
            "x   = parameter            data=1.00000000   grad=0.07314013",
            "n3  = mul(W1, x)           data=0.50000000   grad=0.14628025",
            "b1  = parameter            data=0.00000000   grad=0.14628025",
            "z   = add(n3, b1)          data=0.50000000   grad=0.14628025",
            "a   = sigmoid(z)           data=0.62245933   grad=0.62245933",
            "n7  = mul(W2, a)           data=-0.62245933  grad=-0.62245933",
            "b2  = parameter            data=0.00000000   grad=-0.62245933",
            "y   = add(n7, b2)          data=-0.62245933  grad=-0.62245933",
            "t   = parameter            data=0.00000000   grad=0.62245933",
            "n11 = neg(t)               data=0.00000000   grad=-0.62245933",
            "n12 = add(y, n11)          data=-0.62245933  grad=-0.62245933",
            "n13 = pow(n12, 2)          data=0.38745562   grad=0.50000000",
            "L   = mul_const(n13, 0.5)  data=0.19372781   grad=1.00000000",
        ]
    )
    assert to_text(loss, number_format=".8f") == expected


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


def test_to_text_lists_carried_numbers_last() -> None:
    """F = C * 1.8 + 32 at C = 100 lists mul_const(C, 1.8) and add_const(n1, 32); F = 212.

    dF/dC = 1.8 (the carried factor); each add_const passes its grad through unchanged.
    """
    c = Value(100.0, label="C")
    f = c * 1.8 + 32
    f.label = "F"
    f.backward()
    assert to_text(f).splitlines() == [
        "C  = parameter          data=100.0000  grad=1.8000",
        "n1 = mul_const(C, 1.8)  data=180.0000  grad=1.0000",
        "F  = add_const(n1, 32)  data=212.0000  grad=1.0000",
    ]


def test_to_text_label_that_reads_as_a_number_is_named_by_position() -> None:
    """A node labelled '2' is listed as n0[2], so mul_const(n0[2], 2) shows which 2 is which."""
    two = Value(3.0, label="2")
    text = to_text(two * 2)
    assert text.splitlines()[1].startswith("n1    = mul_const(n0[2], 2)")


def test_to_text_of_a_single_leaf() -> None:
    """A lone leaf is one line."""
    assert to_text(Value(2.5, label="c")) == "c = input  data=2.5000  grad=0.0000"


def test_to_text_shows_grad_values_after_create_graph() -> None:
    """After backward(create_graph=True) grads are Values; their data is shown (d x³/dx = 12)."""
    x = Value(2.0, label="x")
    y = x**3
    y.backward(create_graph=True)
    assert to_text(y).splitlines()[0] == "x  = parameter  data=2.0000  grad=12.0000"
    assert "grad</FONT> 12.0000" in draw(y).source


# ----------------------------------------------------------------------------------------------
# backward_steps.


def test_backward_steps_one_picture_per_node_in_reverse_order() -> None:
    """Tutorial 001 has 15 nodes: 15 pictures, the k-th outlining node n(15 - k)."""
    loss, _ = tutorial()
    steps = list(backward_steps(loss))
    assert len(steps) == 15
    for k, step in enumerate(steps, start=1):
        current = [
            line.split(" [")[0].strip()
            for line in step.source.splitlines()
            if re.match(r"\s*n\d+ \[", line) and CURRENT in line
        ]
        assert current == [f"n{15 - k}"]
        assert f"label=<step {k} of 15: " in step.source


def test_backward_steps_show_the_state_after_each_node() -> None:
    """After step 1 only L and its parent have gradients (1 and 0.5); the end matches 001."""
    loss, _ = tutorial()
    steps = list(backward_steps(loss))
    first = steps[0].source
    assert "grad</FONT> 1.0000" in node_line(first, "n14")
    assert "grad</FONT> 0.5000" in node_line(first, "n13")  # d(0.5 p)/dp = 0.5
    assert "grad</FONT> 0.0000" in node_line(first, "n12")
    assert FILL["input"] in node_line(first, "n1")  # W1 has no gradient yet
    last = steps[-1].source
    for i, grad in [(1, "0.1463"), (2, "0.0731"), (0, "-0.3875"), (8, "-0.6225"), (10, "0.6225")]:
        assert f"grad</FONT> {grad}</TD>" in node_line(last, f"n{i}")
    assert FILL["parameter"] in node_line(last, "n1")
    assert "step 9 of 15: a receives grad 0.6225" in steps[8].source


def test_backward_steps_final_gradients_match_gradients() -> None:
    """The last picture's leaf gradients equal autodiff.gradients on every leaf."""
    loss, _ = tutorial()
    order = topological_order(loss)
    leaves = [node for node in order if node.is_leaf]
    expected = gradients(loss, leaves)
    last = list(backward_steps(loss, number_format=".10f"))[-1].source
    for node, grad in zip(leaves, expected, strict=True):
        line = node_line(last, f"n{order.index(node)}")
        assert f"grad</FONT> {grad:.10f}</TD>" in line


def test_backward_steps_leave_user_gradients_alone() -> None:
    """Gradients already on the nodes (here after two backward calls) are not touched."""
    loss, nodes = tutorial()
    loss.backward()
    loss.backward()
    before = [node.grad for node in topological_order(loss)]
    steps = list(backward_steps(loss, highlight=nodes["W1"], edge_derivatives=True))
    assert [node.grad for node in topological_order(loss)] == before
    assert nodes["W1"].grad == pytest.approx(2 * 0.14628025, abs=1e-8)
    # The pictures show one fresh backward, not the accumulated 2x gradients.
    assert "grad</FONT> 0.1463" in node_line(steps[-1].source, "n1")


def test_backward_steps_checks_options_at_the_call() -> None:
    """A bad option or highlight fails when backward_steps is called, before any next()."""
    loss, _ = tutorial()
    with pytest.raises(ValueError, match="rankdir"):
        backward_steps(loss, rankdir="XY")
    with pytest.raises(ValueError, match="not part of the graph"):
        backward_steps(loss, highlight=[Value(0.0)])


def test_backward_steps_title_is_kept_above_the_caption() -> None:
    """A title goes on the first line of each caption, the step on the second."""
    x = Value(1.0, label="x")
    (only,) = backward_steps(x, title="demo")
    assert "label=<demo<BR/>step 1 of 1: x receives grad 1.0000>" in only.source


# ----------------------------------------------------------------------------------------------
# Rendering files.


def test_render_dot_needs_no_program(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """.dot and .gv files are the DOT source, written even with no dot on PATH."""
    monkeypatch.setenv("PATH", str(tmp_path))
    loss, _ = tutorial()
    for name in ("graph.dot", "graph.GV"):
        written = render(loss, tmp_path / name, legend=True)
        assert written == tmp_path / name
        assert written.read_text(encoding="utf-8") == draw(loss, legend=True).source


@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf"])
def test_missing_dot_says_how_to_install_it(
    suffix: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With no dot on PATH render raises DotNotFoundError explaining every install route."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    loss, _ = tutorial()
    with pytest.raises(DotNotFoundError) as error:
        render(loss, tmp_path / f"graph{suffix}")
    message = str(error.value)
    assert isinstance(error.value, RuntimeError)
    for needed in (
        "Graphviz's `dot` program",
        suffix,
        "`pip install graphviz` installs only the Python side",
        "apt-get install graphviz",
        "brew install graphviz",
        "conda install -c conda-forge graphviz",
        "Windows",
        "installer",
    ):
        assert needed in message
    assert not (tmp_path / f"graph{suffix}").exists()
    assert "digraph" in draw(loss).source  # drawing still works


MAGIC = {".svg": b"<svg", ".png": b"\x89PNG\r\n\x1a\n", ".pdf": b"%PDF-"}


@needs_dot
@pytest.mark.parametrize("suffix", [".svg", ".png", ".pdf"])
def test_tutorial_renders_with_everything(suffix: str, tmp_path: Path) -> None:
    """Done-when: tutorial 001 after backward, labelled, with derivatives and a path, renders."""
    loss, nodes = tutorial()
    loss.backward()
    written = render(
        loss,
        tmp_path / f"tutorial{suffix}",
        edge_derivatives=True,
        highlight=nodes["W1"],
        legend=True,
        title="Tutorial 001",
    )
    data = written.read_bytes()
    if suffix == ".svg":
        assert data.lstrip().startswith(b"<?xml")
        assert MAGIC[suffix] in data[:1000]
        texts = svg_lines(data)
        for expected in ("W1", "x", "z", "a", "y", "L", "0.2350", "-1.2449", "Tutorial 001"):
            assert expected in texts
        assert b'stroke="#d62728"' in data
    else:
        assert data.startswith(MAGIC[suffix])


@needs_dot
def test_png_is_rendered_at_150_dpi(tmp_path: Path) -> None:
    """The PNG is 150/72 times the SVG's size in points (dot's SVG is in points, 72 per inch)."""
    loss, _ = tutorial()
    svg = render(loss, tmp_path / "g.svg").read_bytes()
    png = render(loss, tmp_path / "g.png").read_bytes()
    root = ET.fromstring(svg)
    width_pt = float(root.attrib["width"].removesuffix("pt"))
    height_pt = float(root.attrib["height"].removesuffix("pt"))
    width_px, height_px = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert abs(width_px - width_pt * 150 / 72) <= 3
    assert abs(height_px - height_pt * 150 / 72) <= 3


@needs_dot
def test_every_step_renders(tmp_path: Path) -> None:
    """Each backward step of a small graph is valid input for dot."""
    x = Value(2.0, label="x")
    y = (x * x).tanh()
    for k, step in enumerate(backward_steps(y, legend=True, edge_derivatives=True)):
        svg = step.pipe(format="svg")
        assert f"step {k + 1} of 3" in html.unescape(svg.decode())


@needs_dot
def test_folded_sum_renders(tmp_path: Path) -> None:
    """A folded 100-term sum is valid input for dot."""
    total = sum(Value(float(i)) for i in range(100))
    assert isinstance(total, Value)
    path = render(total, tmp_path / "sum.svg")
    assert "100 terms" in svg_lines(path.read_bytes())


# ----------------------------------------------------------------------------------------------
# Packaging.


def test_import_autodiff_does_not_import_graphviz() -> None:
    """`import autodiff` leaves graphviz unimported, so it stays fast; draw imports it."""
    script = (
        "import sys, autodiff; before = 'graphviz' in sys.modules; "
        "autodiff.draw(autodiff.Value(1.0)); print(before, 'graphviz' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "True"]


def test_public_names_are_exported() -> None:
    """autodiff re-exports the drawing API."""
    for name in ("draw", "render", "to_text", "backward_steps", "DotNotFoundError"):
        assert name in autodiff.__all__
        assert getattr(autodiff, name) is getattr(autodiff.viz, name)


def test_highlighted_partial_sum_is_not_hidden() -> None:
    """A partial sum passed in highlight keeps its box, so the highlighted path can start there."""
    xs = [Value(1.0) for _ in range(10)]
    partial = xs[0] + xs[1]  # 0 + ... is not used: this chain starts at x0 + x1
    total = partial
    for x in xs[2:]:
        total = total + x
    # Order: x0 (n0), x1 (n1), partial (n2), x2 (n3), +, x3 (n5), ..., x9 (n17), top + (n18).
    source = draw(total, highlight=partial).source
    assert HIGHLIGHT in node_line(source, "n2")
    assert "9 terms" in source  # partial and x2, ..., x9
    assert HIGHLIGHT in edge_lines(source)["n2 -> op18"][0]
