"""explain: the chain rule written out path by path, on the three tutorial networks and beyond.

Each expected text is derived by hand in the test's docstring; its numbers are evaluated with
``math`` from those formulas, never taken from the engine.
"""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from autodiff import Explanation, Value, explain, gradients, node_names, topological_order


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _named(node: Value, label: str) -> Value:
    node.label = label
    return node


# -- tutorial 000: one input, one sigmoid neuron, squared error ---------------------------------


def _tutorial_000(w: float) -> tuple[Value, Value]:
    x = Value(0.1, label="x")
    target = 0.3
    weight = Value(w, label="w")
    sop = _named(x * weight, "sop")
    predicted = _named(sop.sigmoid(), "predicted")
    error = _named((predicted - target) ** 2, "error")
    return error, weight


def test_explain_tutorial_000() -> None:
    """error = (σ(x w) - 0.3)^2 at x = 0.1, w = 0.5 is the product of 2(p - 0.3), p(1 - p) and x.

    With p = σ(0.05): derror/dpredicted = 2(p - 0.3), dpredicted/dsop = p(1 - p) (the sigmoid's
    slope at the sum of products, not at the prediction as the tutorial's code has it) and
    dsop/dw = x = 0.1.
    """
    error, w = _tutorial_000(0.5)
    p = _sigmoid(0.05)
    g1, g2, g3 = 2 * (p - 0.3), p * (1 - p), 0.1
    expected = "\n".join(
        [
            "derror/dw = derror/dpredicted * dpredicted/dsop * dsop/dw",
            f"          = ({g1:.4f})({g2:.4f})({g3:.4f})",
            f"          = {g1 * g2 * g3:.4f}",
        ]
    )
    explanation = explain(error, w, fold=True)
    assert str(explanation) == expected
    assert explanation.total == pytest.approx(g1 * g2 * g3, rel=1e-12)


def test_explain_tutorial_000_shows_the_slope_at_the_sum_not_at_the_prediction() -> None:
    """The middle factor is σ'(sop) = p(1 - p), not the tutorial's σ(p)(1 - σ(p))."""
    error, w = _tutorial_000(0.5)
    (path,) = explain(error, w, fold=True).paths
    p = _sigmoid(0.05)
    assert path[1].name == "dpredicted/dsop"
    assert path[1].value == pytest.approx(p * (1 - p), rel=1e-12)
    assert path[1].value != pytest.approx(_sigmoid(p) * (1 - _sigmoid(p)), rel=1e-3)


# -- tutorial 001: one hidden sigmoid unit, linear output, half squared error -------------------


def _tutorial_001() -> dict[str, Value]:
    x, t = Value(1.0, label="x"), Value(0.0, label="t")
    w1, b1 = Value(0.5, label="W1"), Value(0.0, label="b1")
    w2, b2 = Value(-1.0, label="W2"), Value(0.0, label="b2")
    z = _named(w1 * x + b1, "z")
    a = _named(z.sigmoid(), "a")
    y = _named(w2 * a + b2, "y")
    loss = _named(0.5 * (y - t) ** 2, "L")
    return {"x": x, "W1": w1, "b1": b1, "W2": w2, "b2": b2, "a": a, "L": loss}


def test_explain_tutorial_001_w1() -> None:
    """dL/dW1 = dL/dy * dy/da * da/dz * dz/dW1 = (y - t)(W2)(a(1 - a))(x), a = σ(0.5).

    The unlabelled nodes of L = 0.5 (y - t)^2 fold into dL/dy = y - t = -a = -0.6225; then
    dy/da = W2 = -1, da/dz = a(1 - a) = 0.2350, dz/dW1 = x = 1; the product is 0.1463 (the
    tutorial prints dL_dW1 = 0.14628025).
    """
    n = _tutorial_001()
    a = _sigmoid(0.5)
    expected = "\n".join(
        [
            "dL/dW1 = dL/dy * dy/da * da/dz * dz/dW1",
            f"       = ({-a:.4f})(-1)({a * (1 - a):.4f})(1)",
            f"       = {a * a * (1 - a):.4f}",
        ]
    )
    assert expected.splitlines()[1] == "       = (-0.6225)(-1)(0.2350)(1)"
    explanation = explain(n["L"], n["W1"], fold=True)
    assert str(explanation) == expected
    assert explanation.total == pytest.approx(0.14628025, abs=5e-9)
    assert explanation.path_count == 1


def test_explain_tutorial_001_w2_and_b1() -> None:
    """dL/dW2 = dL/dy * dy/dW2 = (-a)(a) = -0.3875; dL/db1 ends in dz/db1 = 1 like dL/dW1."""
    n = _tutorial_001()
    a = _sigmoid(0.5)
    assert str(explain(n["L"], n["W2"], fold=True)) == "\n".join(
        [
            "dL/dW2 = dL/dy * dy/dW2",
            f"       = ({-a:.4f})({a:.4f})",
            f"       = {-a * a:.4f}",
        ]
    )
    b1 = explain(n["L"], n["b1"], fold=True)
    assert str(b1).splitlines()[0] == "dL/db1 = dL/dy * dy/da * da/dz * dz/db1"
    assert b1.total == pytest.approx(0.14628025, abs=5e-9)


def test_explain_tutorial_001_interior_node() -> None:
    """wrt may be an interior node: dL/da = dL/dy * dy/da = (-a)(-1) = a = 0.6225."""
    n = _tutorial_001()
    assert str(explain(n["L"], n["a"], fold=True)) == "\n".join(
        ["dL/da = dL/dy * dy/da", "      = (-0.6225)(-1)", "      = 0.6225"]
    )


# -- tutorial 002: Celsius to Fahrenheit, one linear neuron, mean squared error -----------------


def _tutorial_002() -> tuple[Value, Value, Value]:
    celsius = [-10.0, 0.0, 20.0]
    fahrenheit = [c * 9 / 5 + 32 for c in celsius]  # 14, 32, 68
    w, b = Value(1.0, label="w"), Value(0.0, label="b")
    predictions = [_named(w * c + b, f"y{i}") for i, c in enumerate(celsius)]
    squares = [(y - f) ** 2 for y, f in zip(predictions, fahrenheit, strict=True)]
    loss = _named(sum(squares, Value(0.0)) / len(celsius), "L")
    return loss, w, b


def test_explain_tutorial_002_weight_sums_three_paths() -> None:
    """L = mean (w c_i + b - F_i)^2 at w = 1, b = 0 over c = (-10, 0, 20), F = (14, 32, 68).

    y_i - F_i = (-24, -32, -48), so dL/dy_i = 2(y_i - F_i)/3 = (-16, -21.3333, -32), and
    dy_i/dw = c_i: the paths give 160, 0 and -640, which sum to -480.
    """
    loss, w, _ = _tutorial_002()
    explanation = explain(loss, w, fold=True)
    assert str(explanation) == "\n".join(
        [
            "dL/dw = sum over 3 paths from w to L:",
            "  dL/dy0 * dy0/dw = (-16)(-10) = 160",
            "  dL/dy1 * dy1/dw = (-21.3333)(0) = 0",
            "  dL/dy2 * dy2/dw = (-32)(20) = -640",
            "dL/dw = -480",
        ]
    )
    assert explanation.total == pytest.approx(-480.0, rel=1e-14)
    assert explanation.path_count == 3


def test_explain_tutorial_002_bias_summarised() -> None:
    """dL/db = -16 - 21.3333 - 32 = -69.3333; with max_paths=2 the third path is counted only."""
    loss, _, b = _tutorial_002()
    explanation = explain(loss, b, max_paths=2, fold=True)
    assert str(explanation) == "\n".join(
        [
            "dL/db = sum over 3 paths from b to L:",
            "  dL/dy0 * dy0/db = (-16)(1) = -16",
            "  dL/dy1 * dy1/db = (-21.3333)(1) = -21.3333",
            "  ... and 1 more path",
            "dL/db = -69.3333",
        ]
    )
    assert len(explanation.paths) == 2
    assert explanation.total == pytest.approx(-208.0 / 3.0, rel=1e-14)


# -- graph shapes -------------------------------------------------------------------------------


def test_parallel_edges_fold_into_one_factor() -> None:
    """L = y * y with y = 3x at x = 1: one path, dL/dy = 2y = 6 (both edges), dy/dx = 3."""
    x = Value(1.0, label="x")
    y = _named(3 * x, "y")
    loss = _named(y * y, "L")
    assert str(explain(loss, x)) == "\n".join(
        ["dL/dx = dL/dy * dy/dx", "      = (6)(3)", "      = 18"]
    )


def test_exponentially_many_paths_are_counted_not_walked() -> None:
    """60 labelled diamonds x_k+1 = 1.5 x_k + 0.5 x_k: 2^60 paths, derivative 2^60, 3 shown."""
    a = Value(1.0, label="a")
    x = a
    for k in range(60):
        x = _named(_named(x * 1.5, f"p{k}") + _named(x * 0.5, f"q{k}"), f"x{k}")
    explanation = explain(x, a, max_paths=3)
    assert explanation.path_count == 2**60
    assert explanation.total == 2.0**60
    assert len(explanation.paths) == 3
    assert f"  ... and {2**60 - 3} more paths" in str(explanation).splitlines()
    first = explanation.paths[0]
    assert len(first) == 120
    assert math.prod(f.value for f in first) == 1.5**60


def test_a_deep_unlabelled_chain_needs_no_recursion() -> None:
    """20 000 unlabelled steps y <- 1.0001 y fold into one factor 1.0001^20000."""
    x = Value(1.0, label="x")
    y = x
    for _ in range(20_000):
        y = y * 1.0001
    y.label = "y"
    explanation = explain(y, x)
    assert explanation.path_count == 1
    assert explanation.total == pytest.approx(1.0001**20_000, rel=1e-10)


def test_output_not_depending_on_wrt_is_zero() -> None:
    """An input the output does not use has derivative 0 and no paths."""
    u, v = Value(1.0, label="u"), Value(2.0, label="v")
    loss = _named(v * v, "L")
    explanation = explain(loss, u)
    assert str(explanation) == "dL/du = 0 (L does not depend on u)"
    assert (explanation.total, explanation.path_count, explanation.paths) == (0.0, 0, ())


def test_output_with_respect_to_itself_is_one() -> None:
    """dL/dL = 1 by a path with no factors."""
    loss = _named(Value(2.0) * 3, "L")
    explanation = explain(loss, loss)
    assert str(explanation) == "dL/dL = 1"
    assert explanation.total == 1.0


def test_unlabelled_nodes_are_links_named_like_to_text() -> None:
    """x * x + x at x = 3, nothing labelled: n0 = x, n1 = x * x, n2 = n1 + x; 1 + 2x = 7.

    The direct edge n2 <- n0 gives 1; the path through the product gives dn2/dn1 = 1 times
    dn1/dn0 = x + x = 6 (both edges of x * x summed).
    """
    x = Value(3.0)
    explanation = explain(x * x + x, x)
    assert str(explanation) == "\n".join(
        [
            "dn2/dn0 = sum over 2 paths from n0 to n2:",
            "  dn2/dn0 = (1) = 1",
            "  dn2/dn1 * dn1/dn0 = (1)(6) = 6",
            "dn2/dn0 = 7",
        ]
    )
    assert explanation.total == 7.0


def test_explain_shows_both_paths_of_a_reused_input() -> None:
    """c = tanh(a) * a at a = 0.5: dc/da = tanh(a) + a (1 - tanh(a)^2), one term per path.

    The direct edge into the product carries tanh(0.5) = 0.4621; the path through n1 = tanh(a)
    carries dc/dn1 = a = 0.5 times dn1/da = 1 - tanh(0.5)^2 = 0.7864, product 0.3932.
    """
    a = Value(0.5, label="a")
    t = math.tanh(0.5)
    c = a.tanh() * a
    c.label = "c"
    assert str(explain(c, a)) == "\n".join(
        [
            "dc/da = sum over 2 paths from a to c:",
            f"  dc/da = ({t:.4f}) = {t:.4f}",
            f"  dc/dn1 * dn1/da = (0.5000)({1 - t * t:.4f}) = {0.5 * (1 - t * t):.4f}",
            f"dc/da = {t + 0.5 * (1 - t * t):.4f}",
        ]
    )
    assert str(explain(c, a)).splitlines()[1] == "  dc/da = (0.4621) = 0.4621"


def test_fold_keeps_the_summary_in_labelled_terms() -> None:
    """fold=True folds the unlabelled nodes: x * x + x at x = 3 is the single factor 7."""
    x = Value(3.0, label="x")
    assert str(explain(x * x + x, x, fold=True)) == "dn2/dx = 7"


def test_unfolded_tutorial_000_shows_the_subtraction() -> None:
    """Unfolded, error = (predicted - 0.3)^2 shows n4 = predicted - 0.3 with its factor 1.

    derror/dn4 = 2 n4 = 2 (p - 0.3), dn4/dpredicted = 1, then p (1 - p) and x = 0.1, with
    p = σ(0.05); the nodes are x, w, sop, predicted, n4, error in topological order.
    """
    error, w = _tutorial_000(0.5)
    p = _sigmoid(0.05)
    assert str(explain(error, w)).splitlines() == [
        "derror/dw = derror/dn4 * dn4/dpredicted * dpredicted/dsop * dsop/dw",
        f"          = ({2 * (p - 0.3):.4f})(1)({p * (1 - p):.4f})(0.1000)",
        f"          = {2 * (p - 0.3) * p * (1 - p) * 0.1:.4f}",
    ]


def test_node_names_follow_the_to_text_rule() -> None:
    """Labels are kept unless shared, spelled like an automatic name, or read as a number."""
    a, b = Value(1.0, label="w"), Value(2.0, label="w")
    c = Value(3.0, label="n0")
    d = Value(4.0, label="2")
    e = Value(5.0, label="two\nlines")
    total = (a + b) * c * d * e
    order = topological_order(total)
    names = dict(zip(order, node_names(order), strict=True))
    assert names[a] == f"n{order.index(a)}[w]"
    assert names[b] == f"n{order.index(b)}[w]"
    assert names[c] == f"n{order.index(c)}[n0]"
    assert names[d] == f"n{order.index(d)}[2]"
    assert names[e] == "two\\nlines"
    assert names[total] == f"n{len(order) - 1}"
    assert order.index(c) != 0


def test_node_names_keeps_a_label_that_is_its_own_automatic_name_in_brackets() -> None:
    """A node labelled n0 at index 0 still reads n0[n0], as to_text writes it."""
    x = Value(1.0, label="n0")
    assert node_names(topological_order(x * 2)) == ["n0[n0]", "n1"]


def test_node_names_rejects_non_values() -> None:
    """node_names names Values only: anything else is a TypeError naming the function."""
    with pytest.raises(TypeError, match="node_names: expected Values, got float"):
        node_names([1.0])  # type: ignore[list-item]


def test_latex_shows_the_chain_with_fractions_and_numbers() -> None:
    """Tutorial 001's dL/dW1 (folded) as LaTeX: four fractions, their numbers, the product."""
    n = _tutorial_001()
    assert explain(n["L"], n["W1"], fold=True)._repr_latex_() == "\n".join(
        [
            "$$",
            "\\begin{aligned}",
            "\\frac{\\partial L}{\\partial W1} &= \\frac{\\partial L}{\\partial y} \\, "
            "\\frac{\\partial y}{\\partial a} \\, \\frac{\\partial a}{\\partial z} \\, "
            "\\frac{\\partial z}{\\partial W1} \\\\",
            "&= (-0.6225) (-1) (0.2350) (1) \\\\",
            "&= 0.1463",
            "\\end{aligned}",
            "$$",
        ]
    )


def test_latex_sums_the_paths() -> None:
    """With two paths the LaTeX is a sum of products: 1 + 6 = 7 for x * x + x at x = 3."""
    x = Value(3.0, label="x")
    lines = explain(x * x + x, x)._repr_latex_().splitlines()
    assert lines[3:6] == ["&= (1) + (1) (6) \\\\", "&= 1 + 6 \\\\", "&= 7"]


def test_latex_escapes_labels() -> None:
    """Characters that mean something to LaTeX are escaped with a backslash: _ # and spaces."""
    y = Value(2.0, label="y_t # 1")
    loss = y * y
    loss.label = "L"
    assert "\\partial \\mathit{y\\_t\\ \\#\\ 1}" in explain(loss, y)._repr_latex_()


def test_latex_of_an_independent_input_says_so() -> None:
    """An input the output does not use: the LaTeX says the derivative is 0 and why."""
    u, v = Value(1.0, label="u"), Value(2.0, label="v")
    loss = v * v
    loss.label = "L"
    latex = explain(loss, u)._repr_latex_()
    assert "\\frac{\\partial L}{\\partial u} &= 0 \\quad \\text{(L does not depend on u)}" in latex


def test_html_stacks_fractions_and_escapes_labels() -> None:
    """The HTML has one stacked fraction per factor, numbers with real minus signs, no script."""
    x = Value(1.0, label="<script>x</script>")
    y = 3 * x
    loss = y * y
    y.label, loss.label = "y", "L"
    page = explain(loss, x)._repr_html_()
    assert "<script>" not in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert page.count("border-bottom:1px solid") == 3  # the left side and two factors
    assert "(6) (3)" in page
    negative = explain(-1 * x, x)._repr_html_()
    assert "\u22121" in negative


def test_labels_with_symbols_are_parenthesised() -> None:
    """A label with spaces reads d(y - t), so the fraction stays unambiguous."""
    x = Value(2.0, label="x")
    difference = _named(x - 1.0, "y - t")
    loss = _named(difference * difference, "L")
    assert str(explain(loss, x)).splitlines()[0] == "dL/dx = dL/d(y - t) * d(y - t)/dx"


def test_number_format_is_used() -> None:
    """number_format='.2f' prints 2 decimals: dy/dx = e^0.5 = 1.65 for y = exp(x)."""
    x = Value(0.5, label="x")
    y = _named(x.exp(), "y")
    assert str(explain(y, x, number_format=".2f")) == f"dy/dx = {math.exp(0.5):.2f}"


def test_a_tiny_factor_is_never_printed_as_zero() -> None:
    """z = 3 tanh(x) at x = 6: dtanh/dx = 1 - tanh(6)^2 = 2.458e-05, which .4f writes 0.0000.

    It is written with 4 significant digits instead, and so is the product it makes,
    3 * 2.4576e-05 = 7.373e-05, so the line's arithmetic reads right: never (3)(0) = 0.0001.
    """
    x = Value(6.0, label="x")
    z = x.tanh() * 3.0
    local = 1.0 - math.tanh(6.0) ** 2
    assert f"{local:.4g}" == "2.458e-05"  # by hand: 1 - tanh(6)^2 = 2.4576e-05
    assert str(explain(z, x)) == (
        f"dn2/dx = dn2/dn1 * dn1/dx\n       = (3)({local:.4g})\n       = {3 * local:.4g}"
    )
    assert f"{3 * local:.4g}" == "7.373e-05"


def test_a_tiny_derivative_alone_is_never_printed_as_zero() -> None:
    """explain(tanh(x), x) at x = 6 is 2.458e-05 (as above), not 0."""
    x = Value(6.0, label="x")
    assert str(explain(x.tanh(), x)) == f"dn1/dx = {1.0 - math.tanh(6.0) ** 2:.4g}"


def test_a_tiny_factor_keeps_its_path_product_readable_among_several_paths() -> None:
    """y = tanh(x) * x at x = 6: the direct path tanh(6) = 0.99998771 prints as 1 (rounded).

    The other path's factors are x = 6 and 1 - tanh(6)^2 = 2.458e-05; their product
    1.4746e-04 is written with significant digits, 0.0001475, as its factors are.
    """
    x = Value(6.0, label="x")
    y = x.tanh() * x
    local = 1.0 - math.tanh(6.0) ** 2
    total = math.tanh(6.0) + 6.0 * local
    assert str(explain(y, x)).splitlines() == [
        "dn2/dx = sum over 2 paths from x to n2:",
        "  dn2/dx = (1) = 1",
        f"  dn2/dn1 * dn1/dx = (6)({local:.4g}) = {6.0 * local:.4g}",
        f"dn2/dx = {total:.4f}",
    ]
    assert f"{6.0 * local:.4g}" == "0.0001475"


def test_tiny_numbers_in_maths_are_powers_of_ten() -> None:
    """In LaTeX and HTML 2.458e-05 is written 2.458 x 10^-5, not as an italic name."""
    x = Value(6.0, label="x")
    explanation = explain(x.tanh() * 3.0, x)
    assert "(3) (2.458 \\times 10^{-5})" in explanation._repr_latex_()
    assert "&= 7.373 \\times 10^{-5}" in explanation._repr_latex_()
    assert "(2.458\u00d710<sup>\u22125</sup>)" in explanation._repr_html_()


def test_explanation_exposes_factors() -> None:
    """Factors keep their nodes, names and values: dy/da = W2 = -1 in tutorial 001."""
    n = _tutorial_001()
    (path,) = explain(n["L"], n["W1"], fold=True).paths
    assert [f.name for f in path] == ["dL/dy", "dy/da", "da/dz", "dz/dW1"]
    assert path[1].value == -1.0
    assert path[1].lower is n["a"]
    assert path[-1].lower is n["W1"]


def test_explain_changes_no_gradient() -> None:
    """explain reads the graph only: every grad stays as backward left it."""
    n = _tutorial_001()
    n["L"].backward()
    before = {node: node.grad for node in topological_order(n["L"])}
    explain(n["L"], n["W1"])
    assert {node: node.grad for node in topological_order(n["L"])} == before


@pytest.mark.parametrize("seed", range(20))
def test_total_equals_the_engine_gradient_on_random_graphs(kit: Any, seed: int) -> None:
    """On random expressions with random labels, the path sum equals gradients() (rel 1e-9)."""
    rng = random.Random(seed)
    program = kit.generate(rng.choice, rng.uniform, 3, 12)
    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(program.inputs)]
    out = kit.run(program, leaves, kit.VALUE_FUNCTIONS)
    for k, node in enumerate(topological_order(out)):
        if node.op is not None and rng.random() < 0.4:
            node.label = f"n{k}"
    expected = gradients(out, leaves)
    for leaf, slope in zip(leaves, expected, strict=True):
        explanation = explain(out, leaf, max_paths=1000)
        assert explanation.total == pytest.approx(slope, rel=1e-9, abs=1e-12)
        if explanation.path_count <= 1000:
            shown = math.fsum(math.prod(f.value for f in path) for path in explanation.paths)
            assert shown == pytest.approx(slope, rel=1e-9, abs=1e-12)


def test_explain_validates_its_arguments() -> None:
    """Non-Values are TypeErrors; a negative max_paths or a bad format is a ValueError."""
    x = Value(1.0, label="x")
    y = x * 2
    with pytest.raises(TypeError, match="output must be a Value"):
        explain(2.0, x)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="wrt must be a Value"):
        explain(y, 1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_paths"):
        explain(y, x, max_paths=-1)
    with pytest.raises(ValueError, match="number_format"):
        explain(y, x, number_format="q")


def test_explanation_repr_is_short() -> None:
    """repr shows the total and the path count, not the whole text."""
    x = Value(1.0, label="x")
    explanation = explain(x * 3, x)
    assert isinstance(explanation, Explanation)
    assert repr(explanation) == "Explanation(total=3.0, path_count=1)"
