"""autodiff.testing: hand derivations checked against the engine, on the tutorials' own numbers.

Every expected number is derived by hand in the test's docstring and computed with ``math``
from that formula, or is a number the tutorials print (../shared/seeds/), never the engine's.
"""

from __future__ import annotations

import math
import random
import re
from typing import Any

import pytest

from autodiff import (
    DerivationError,
    Value,
    assert_gradients,
    check_chain,
    explain,
    testing,
    topological_order,
)
from nets import hidden, neuron


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-z))


def _report(error: pytest.ExceptionInfo[DerivationError]) -> testing.ChainReport:
    report = error.value.report
    assert isinstance(report, testing.ChainReport)
    return report


# -- tutorial 000, written as the tutorial writes it --------------------------------------------

# The tutorial's helper functions, on plain floats, as its backward pass calls them.


def _error_predicted_deriv(predicted: float, target: float) -> float:
    return 2 * (predicted - target)


def _activation_sop_deriv(sop: float) -> float:
    return _sigmoid(sop) * (1.0 - _sigmoid(sop))


def _sop_w_deriv(x: float) -> float:
    return x


W_SEED_0 = 0.8444218515250481  # random.Random(0).random(), nets.neuron's starting weight


def _tutorial_000_backward(w: float) -> tuple[float, float, float]:
    """g1, g2, g3 exactly as tutorial 000 computes them, slip included."""
    x, target = 0.1, 0.3
    y = w * x
    predicted = _sigmoid(y)
    g1 = _error_predicted_deriv(predicted, target)
    g2 = _activation_sop_deriv(predicted)  # the tutorial's line: the sigmoid's slope at predicted
    g3 = _sop_w_deriv(x)
    return g1, g2, g3


def test_tutorial_000_slip_is_named_at_factor_2() -> None:
    """Tutorial 000's g1, g2, g3 on nets.neuron's graph: factor 2 is σ' taken at the prediction.

    At w = 0.8444 (seed 0): sop = 0.08444, p = σ(sop) = 0.52110. The chain rule needs
    g2 = σ'(sop) = p(1 - p) = 0.24955; the tutorial computes σ(p)(1 - σ(p)) = 0.23377, the same
    rule at the prediction. g1 = 2(p - 0.3) and g3 = x = 0.1 are right.
    """
    model = neuron.model(seed=0)
    error, _ = neuron.loss(model)
    (w,) = model.weights
    g1, g2, g3 = _tutorial_000_backward(w.data)
    assert [g3 * g2 * g1] == neuron.tutorial_gradient([w.data])
    with pytest.raises(DerivationError) as caught:
        check_chain(error, w, [g1, g2, g3])
    report = _report(caught)
    p = _sigmoid(W_SEED_0 * 0.1)
    assert [(row.position, row.edge, row.status) for row in report.rows] == [
        (1, "derror/dpredicted", "ok"),
        (2, "dpredicted/dsop", "wrong"),
        (3, "dsop/dw", "ok"),
    ]
    assert report.rows[1].engine == pytest.approx(p * (1 - p), rel=1e-12)
    assert report.rows[1].yours == g2
    text = " ".join(str(caught.value).split())
    assert "check_chain: derror/dw: factor 2 of your chain (dpredicted/dsop) disagrees" in text
    assert "the rule: d sigmoid(x)/dx = sigmoid(x) * (1 - sigmoid(x))" in text
    assert f"the engine evaluated it at x = sop = {W_SEED_0 * 0.1:.6g}" in text
    assert (
        f"So factor 2 of your chain is the sigmoid's derivative taken at x = predicted "
        f"({p:.6g}), the sigmoid's own output, rather than at x = sop ({W_SEED_0 * 0.1:.6g}), "
        "its input" in text
    )


def test_tutorial_000_slip_is_named_without_labels() -> None:
    """The tutorial's own graph, nothing labelled but w: factor 2 is σ' at n2 rather than at n1.

    y = w * x is n1, predicted = σ(y) is n2 and n3 = predicted - 0.3 is folded into factor 1
    with the square (its local derivative is 1), as the tutorial's g1 = 2(p - t) does.
    """
    w = Value(W_SEED_0, label="w")
    y = w * 0.1
    predicted = y.sigmoid()
    err = (predicted - 0.3) ** 2
    g1, g2, g3 = _tutorial_000_backward(W_SEED_0)
    with pytest.raises(DerivationError) as caught:
        check_chain(err, w, [g1, g2, g3])
    report = _report(caught)
    assert [row.edge for row in report.rows] == ["dn4/dn2", "dn2/dn1", "dn1/dw"]
    assert [row.status for row in report.rows] == ["ok", "wrong", "ok"]
    text = " ".join(str(caught.value).split())
    p = _sigmoid(W_SEED_0 * 0.1)
    assert f"derivative taken at x = n2 ({p:.6g}), the sigmoid's own output" in text
    assert f"rather than at x = n1 ({W_SEED_0 * 0.1:.6g}), its input" in text


def test_tutorial_000_corrected_chain_passes() -> None:
    """With g2 = p(1 - p), the slope at the sum of products, all three factors agree."""
    model = neuron.model(seed=0)
    error, _ = neuron.loss(model)
    p = _sigmoid(W_SEED_0 * 0.1)
    report = check_chain(error, model.weights[0], [2 * (p - 0.3), p * (1 - p), 0.1])
    assert report.passed
    assert report.title == "check_chain: derror/dw: all 3 factors agree with the engine"
    assert [row.status for row in report.rows] == ["ok", "ok", "ok"]


def test_check_chain_accepts_the_label_of_wrt() -> None:
    """wrt may be given by its label: 'w' is nets.neuron's weight."""
    error, _ = neuron.loss(neuron.model(seed=0))
    p = _sigmoid(W_SEED_0 * 0.1)
    assert check_chain(error, "w", [2 * (p - 0.3), p * (1 - p), 0.1]).passed


def test_missing_factor_is_named() -> None:
    """Leaving out g2 = p(1 - p): the report names dpredicted/dsop as missing, with its rule."""
    error, _ = neuron.loss(neuron.model(seed=0))
    p = _sigmoid(W_SEED_0 * 0.1)
    with pytest.raises(DerivationError) as caught:
        check_chain(error, "w", [2 * (p - 0.3), 0.1])
    report = _report(caught)
    assert report.title == "check_chain: derror/dw: your chain has no factor for dpredicted/dsop"
    assert [(row.position, row.edge, row.status) for row in report.rows] == [
        (1, "derror/dpredicted", "ok"),
        (None, "dpredicted/dsop", "missing"),
        (2, "dsop/dw", "ok"),
    ]
    assert report.rows[1].engine == pytest.approx(p * (1 - p), rel=1e-12)
    assert "predicted = sigmoid(sop)" in str(caught.value)


def test_extra_factor_is_named() -> None:
    """A stray fourth factor 1 after the right three is one factor too many."""
    error, _ = neuron.loss(neuron.model(seed=0))
    p = _sigmoid(W_SEED_0 * 0.1)
    with pytest.raises(DerivationError) as caught:
        check_chain(error, "w", [2 * (p - 0.3), p * (1 - p), 0.1, 1.0])
    report = _report(caught)
    assert report.title == "check_chain: derror/dw: factor 4 of your chain is one too many"
    assert [row.status for row in report.rows] == ["ok", "ok", "ok", "extra"]
    assert "leave it out" in str(caught.value)


def test_factors_in_reverse_order_are_recognised() -> None:
    """g3, g2, g1 (as the tutorial multiplies them) instead of g1, g2, g3: the order is named."""
    error, _ = neuron.loss(neuron.model(seed=0))
    p = _sigmoid(W_SEED_0 * 0.1)
    with pytest.raises(DerivationError) as caught:
        check_chain(error, "w", [0.1, p * (1 - p), 2 * (p - 0.3)])
    assert _report(caught).title == "check_chain: derror/dw: your factors are in the reverse order"


def test_opposite_sign_is_recognised() -> None:
    """-p(1 - p) for dpredicted/dsop: the hint says the sign is opposite."""
    error, _ = neuron.loss(neuron.model(seed=0))
    p = _sigmoid(W_SEED_0 * 0.1)
    with pytest.raises(DerivationError) as caught:
        check_chain(error, "w", [2 * (p - 0.3), -p * (1 - p), 0.1])
    assert "has the opposite sign of the engine's" in str(caught.value)


def test_fraction_upside_down_is_recognised() -> None:
    """dsop/dw = x = 0.1 given as 10 = dw/dsop: the hint says the fraction is upside down."""
    error, _ = neuron.loss(neuron.model(seed=0))
    p = _sigmoid(W_SEED_0 * 0.1)
    with pytest.raises(DerivationError) as caught:
        check_chain(error, "w", [2 * (p - 0.3), p * (1 - p), 10.0])
    text = " ".join(str(caught.value).split())
    assert "Factor 3 of your chain, dsop/dw, is 10 where the engine has 0.1." in text
    assert "the fraction upside down, dw/dsop" in text


def test_other_factor_of_a_product_is_recognised() -> None:
    """Tutorial 001's dy/da = W2 = -1 given as a = 0.6225: the mul rule taken with x = a.

    y = n6 + b2 with n6 = W2 * a: d n6/d a = W2 (the other factor). The slip uses a itself.
    """
    nodes = hidden.forward(hidden.HiddenNet())
    a = _sigmoid(0.5)
    with pytest.raises(DerivationError) as caught:
        check_chain(nodes.L, "W1", [-a, a, a * (1 - a), 1.0])
    text = " ".join(str(caught.value).split())
    assert "Factor 2 of your chain, dy/da, is" in text
    assert f"the same product, with the mul's derivative (dn6/da) taken at x = a ({a:.6g})" in text
    assert "rather than at x = W2 (-1)" in text


# -- tutorial 001: the printed gradients ---------------------------------------------------------


def test_tutorial_001_printed_gradients_pass() -> None:
    """The tutorial's printed dL/dW1, dL/db1, dL/dW2, dL/db2 (8 digits) agree; no grad changes."""
    nodes = hidden.forward(hidden.HiddenNet())
    before = {node: node.grad for node in topological_order(nodes.L)}
    printed = {"W1": 0.14628025, "b1": 0.14628025, "W2": -0.38745562, "b2": -0.62245933}
    assert assert_gradients(nodes.L, printed) is None
    assert {node: node.grad for node in topological_order(nodes.L)} == before


def test_tutorial_001_wrong_gradient_fails_with_the_table() -> None:
    """dL/dW1 with the wrong sign: one marked row, the table, then the engine's chain for W1.

    dL/dW1 = (y - t) W2 σ'(z) x = a^2 (1 - a) with a = σ(0.5) (y = -a, t = 0, W2 = -1, x = 1).
    """
    net = hidden.HiddenNet()
    nodes = hidden.forward(net)
    a = _sigmoid(0.5)
    right = a * a * (1 - a)
    printed = {"W1": -0.14628025, "b1": 0.14628025, "W2": -0.38745562, "b2": -0.62245933}
    with pytest.raises(DerivationError) as caught:
        assert_gradients(nodes.L, printed)
    lines = str(caught.value).splitlines()
    assert lines[0] == "assert_gradients: 1 of 4 gradients of L disagree with the engine"
    assert lines[1].split() == ["name", "yours", "engine", "difference", "relative"]
    assert lines[2].split() == [
        "\u2717",
        "W1",
        "-0.14628025",
        f"{right:.10g}",
        f"{-0.14628025 - right:.3g}",
        f"{(0.14628025 + right) / right:.3g}",
    ]
    assert lines[3].split()[0:2] == ["b1", "0.14628025"]
    assert [line.split()[0] for line in lines[4:6]] == ["W2", "b2"]
    assert lines[6] == "  (agreeing: within rel 1e-06 or abs 1e-12 of the engine's number)"
    assert lines[7] == "the engine's chain for W1:"
    assert lines[8].startswith("dL/dW1 = dL/dn10 * dn10/d(y - t) * d(y - t)/dy")
    assert lines[-1] == f"       = {right:.4f}"
    report = caught.value.report
    assert isinstance(report, testing.GradientReport)
    assert [row.agrees for row in report.rows] == [False, True, True, True]


def test_assert_gradients_takes_values_as_keys() -> None:
    """y = x * x + x at x = 3: dy/dx = 2x + 1 = 7, keyed by the Value itself."""
    x = Value(3.0)
    assert_gradients(x * x + x, {x: 7.0})
    with pytest.raises(DerivationError, match="1 of 1 gradients of n2 disagree"):
        assert_gradients(x * x + x, {x: 6.0})


def test_assert_gradients_tolerances() -> None:
    """dy/dx = 7: 7.000001 passes at rel 1e-6, fails at rel 1e-8; abs covers a 0 gradient."""
    x, unused = Value(3.0, label="x"), Value(1.0, label="u")
    y = x * x + x
    assert_gradients(y, {x: 7.000001})
    with pytest.raises(DerivationError):
        assert_gradients(y, {x: 7.000001}, rel=1e-8)
    assert_gradients(y, {unused: 1e-13})  # not in the graph: the engine's gradient is 0
    with pytest.raises(DerivationError):
        assert_gradients(y, {unused: 1e-3})


def test_assert_gradients_explains_bad_input() -> None:
    """Unknown and shared labels, non-numbers, an empty dict and a non-Value output are errors."""
    x = Value(3.0, label="x")
    twin = Value(1.0, label="x")
    y = x * x + twin
    with pytest.raises(ValueError, match="no node of the graph is labelled 'z' \\(labels: x\\)"):
        assert_gradients(y, {"z": 1.0})
    with pytest.raises(ValueError, match="2 nodes of the graph are labelled 'x'"):
        assert_gradients(y, {"x": 1.0})
    with pytest.raises(TypeError, match="the gradient for n0\\[x\\] must be a number, got str"):
        assert_gradients(y, {x: "6"})
    with pytest.raises(TypeError, match="must be a number, got a Value"):
        assert_gradients(y, {x: x})
    with pytest.raises(ValueError, match="expected is empty"):
        assert_gradients(y, {})
    with pytest.raises(TypeError, match="output must be a Value"):
        assert_gradients(6.0, {x: 6.0})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="keys must be Values or labels"):
        assert_gradients(y, {1: 6.0})  # type: ignore[dict-item]
    with pytest.raises(ValueError, match="rel must be a finite number >= 0"):
        assert_gradients(y, {x: 6.0}, rel=-1.0)


def test_assert_gradients_rejects_a_node_given_twice() -> None:
    """The same node as a Value and by its label is a ValueError."""
    x = Value(3.0, label="x")
    with pytest.raises(ValueError, match="x is given twice"):
        assert_gradients(x * x, {x: 6.0, "x": 6.0})


# -- tutorial 001: chains by edge name, and for the wrong variable ------------------------------


def test_tutorial_001_chain_by_edge_name_passes() -> None:
    """dL/db1 = dL/dy * dy/da * da/dz * dz/db1 = (-a)(-1)(a(1 - a))(1), a = σ(0.5)."""
    nodes = hidden.forward(hidden.HiddenNet())
    a = _sigmoid(0.5)
    factors = {"dL/dy": -a, "dy/da": -1.0, "da/dz": a * (1 - a), "dz/db1": 1.0}
    report = check_chain(nodes.L, "b1", factors)
    assert report.passed
    assert [row.edge for row in report.rows] == ["dL/dy", "dy/da", "da/dz", "dz/db1"]


def test_edge_with_a_wrong_sign_is_named() -> None:
    """dy/da = W2 = -1 given as +1: the edge is named and the sign hinted."""
    nodes = hidden.forward(hidden.HiddenNet())
    a = _sigmoid(0.5)
    factors = {"dL/dy": -a, "dy/da": 1.0, "da/dz": a * (1 - a), "dz/db1": 1.0}
    with pytest.raises(DerivationError) as caught:
        check_chain(nodes.L, "b1", factors)
    report = _report(caught)
    assert report.title == "check_chain: dL/db1: your factor dy/da disagrees with the engine"
    assert [row.status for row in report.rows] == ["ok", "wrong", "ok", "ok"]
    assert "has the opposite sign" in str(caught.value)


def test_edge_left_out_is_named() -> None:
    """Without da/dz the chain stops at a, and the next step is named."""
    nodes = hidden.forward(hidden.HiddenNet())
    a = _sigmoid(0.5)
    with pytest.raises(DerivationError) as caught:
        check_chain(nodes.L, "b1", {"dL/dy": -a, "dy/da": -1.0, "dz/db1": 1.0})
    assert _report(caught).title == "check_chain: dL/db1: your chain stops at a"
    assert "(the next step is da/dz)" in str(caught.value)


def test_overlapping_edges_are_named() -> None:
    """dL/da = a given beside dL/dy and dy/da counts the same path twice."""
    nodes = hidden.forward(hidden.HiddenNet())
    a = _sigmoid(0.5)
    factors = {"dL/dy": -a, "dL/da": a, "dy/da": -1.0, "da/dz": a * (1 - a), "dz/db1": 1.0}
    with pytest.raises(DerivationError) as caught:
        check_chain(nodes.L, "b1", factors)
    assert _report(caught).title == "check_chain: dL/db1: dL/dy and dL/da overlap"


def test_unknown_edge_name_lists_the_chain() -> None:
    """An edge name that names no derivative in the graph is a ValueError listing the edges."""
    nodes = hidden.forward(hidden.HiddenNet())
    with pytest.raises(ValueError, match="'dL/dq' names no derivative") as caught:
        check_chain(nodes.L, "b1", {"dL/dq": 1.0})
    assert "dL/d(y - t), d(y - t)/dy, dy/da, da/dz, dz/db1" in str(caught.value)


def test_chain_for_the_wrong_variable_is_recognised() -> None:
    """Tutorial 001's chain for W1, (-a)(-1)(a(1 - a))(1), checked against W2: named as dL/dW1."""
    nodes = hidden.forward(hidden.HiddenNet())
    a = _sigmoid(0.5)
    with pytest.raises(DerivationError) as caught:
        check_chain(nodes.L, "W2", [-a, -1.0, a * (1 - a), 1.0])
    report = _report(caught)
    assert report.title == "check_chain: dL/dW2: these are the factors of dL/dW1"
    assert "dL/dW2 = dL/d(y - t) * d(y - t)/dy * dy/dW2" in str(caught.value)


def test_variable_the_output_does_not_use() -> None:
    """A wrt outside the graph: the output does not depend on it, and nothing is checked."""
    nodes = hidden.forward(hidden.HiddenNet())
    stranger = Value(1.0, label="q")
    with pytest.raises(DerivationError) as caught:
        check_chain(nodes.L, stranger, [1.0])
    assert _report(caught).title == "check_chain: dL/dq: L does not depend on it"


# -- several paths ------------------------------------------------------------------------------


def _two_paths() -> tuple[Value, Value, float]:
    """c = tanh(a) * a at a = 0.5, whose derivative tanh(a) + a (1 - tanh(a)^2) has two terms."""
    a = Value(0.5, label="a")
    c = a.tanh() * a
    c.label = "c"
    return c, a, math.tanh(0.5)


def test_one_chain_of_two_paths_fails() -> None:
    """Only the path through tanh, (a)(1 - tanh^2): the direct path tanh(a) = 0.4621 is missing."""
    c, a, t = _two_paths()
    with pytest.raises(DerivationError) as caught:
        check_chain(c, a, [0.5, 1 - t * t])
    report = _report(caught)
    assert report.title == "check_chain: dc/da: your chain leaves out some of the paths"
    assert f"  a -> c: dc/da = ({t:.6g}) = {t:.6g}" in report.findings
    assert f"The engine's total: dc/da = {t + 0.5 * (1 - t * t):.6g}." in report.findings


def test_one_chain_per_path_passes() -> None:
    """[[a, 1 - tanh^2], [tanh(a)]], one chain per path, agrees; so does the total alone."""
    c, a, t = _two_paths()
    report = check_chain(c, a, [[0.5, 1 - t * t], [t]])
    assert report.passed
    assert [(row.chain, row.edge) for row in report.rows] == [
        (1, "dc/dn1"),
        (1, "dn1/da"),
        (2, "dc/da"),
    ]
    assert check_chain(c, a, [t + 0.5 * (1 - t * t)]).passed


def test_a_path_left_out_and_a_chain_too_many() -> None:
    """One chain per path: leaving the direct path out, or adding a third chain, is named."""
    c, a, t = _two_paths()
    with pytest.raises(DerivationError) as caught:
        check_chain(c, a, [[0.5, 1 - t * t]])
    assert _report(caught).title == "check_chain: dc/da: your chains leave out some of the paths"
    with pytest.raises(DerivationError) as caught:
        check_chain(c, a, [[0.5, 1 - t * t], [t], [1.0]])
    assert _report(caught).title == "check_chain: dc/da: chain 3 is extra"


def test_a_wrong_factor_in_one_of_the_paths() -> None:
    """The direct path's factor tanh(a) given as 1 - tanh(a)^2: chain 2, factor 1 is wrong."""
    c, a, t = _two_paths()
    with pytest.raises(DerivationError) as caught:
        check_chain(c, a, [[0.5, 1 - t * t], [1 - t * t]])
    report = _report(caught)
    assert report.title == (
        "check_chain: dc/da: factor 1 of your chain 2 (dc/da) disagrees with the engine"
    )
    assert report.rows[2].engine == pytest.approx(t, rel=1e-12)


def test_a_total_given_for_a_factor_that_sums_routes() -> None:
    """dc/da given as tanh(a) alone: the engine's number sums 2 routes, yours is one of them."""
    c, a, t = _two_paths()
    with pytest.raises(DerivationError) as caught:
        check_chain(c, a, [t])
    text = " ".join(str(caught.value).split())
    assert "c depends on a along 2 routes" in text
    assert "is the product along one route only: dc/da." in text


def _three_unlabelled_paths() -> tuple[Value, Value, list[float]]:
    """out = tanh(m) + 3m + m^2 at m = 0.5: three paths, through n1, n2 and n4 (to_text's names).

    By hand, topological order: m (n0), tanh(m) n1, 3m n2, their sum n3, m^2 n4, out n5. The
    local derivatives along the paths are 1 - tanh(0.5)^2 = 0.786448, 3 and 2m = 1, each
    times 1 for the additions.
    """
    m = Value(0.5, label="m")
    out = m.tanh() + m * 3.0 + m**2
    return out, m, [1.0 - math.tanh(0.5) ** 2, 3.0, 1.0]


def test_paths_left_out_are_named_by_their_nodes() -> None:
    """Unlabelled paths that fold into the same dn5/dm are told apart by the nodes they take."""
    out, m, (tanh_slope, three, square_slope) = _three_unlabelled_paths()
    with pytest.raises(DerivationError) as caught:
        check_chain(out, m, [1.0, 1.0, three])  # the path through 3m only
    report = _report(caught)
    assert report.title == "check_chain: dn5/dm: your chain leaves out some of the paths"
    left_out = list(report.findings[report.findings.index("Left out:") + 1 :][:2])
    assert left_out == [
        f"  m -> n1 -> n3 -> n5: dn5/dm = ({tanh_slope:.6g}) = {tanh_slope:.6g}",
        f"  m -> n4 -> n5: dn5/dm = ({square_slope:.6g}) = {square_slope:.6g}",
    ]


def test_paths_no_chain_follows_are_named_by_their_nodes() -> None:
    """One chain per path, the path through tanh left out: its line names n1, n3 and n5."""
    out, m, (tanh_slope, three, square_slope) = _three_unlabelled_paths()
    with pytest.raises(DerivationError) as caught:
        check_chain(out, m, [[1.0, 1.0, three], [1.0, square_slope]])
    report = _report(caught)
    assert report.title == "check_chain: dn5/dm: your chains leave out some of the paths"
    assert report.findings[-1] == (
        f"  m -> n1 -> n3 -> n5: dn5/dm = ({tanh_slope:.6g}) = {tanh_slope:.6g}"
    )


def test_many_unlabelled_paths_each_get_their_own_line() -> None:
    """m feeds 17 products m * 3 summed into one output: 17 paths, 17 different lines.

    By hand: the products are n1, n2, n4, ..., n32 and the running sums n3, n5, ..., n33.
    Every path folds into dn33/dm = 3; written by their nodes, no two lines of "no chain of
    yours follows these" are alike (they were 16 copies of "dn33/dm = (3) = 3").
    """
    m = Value(2.0, label="m")
    terms = [m * 3.0 for _ in range(17)]
    out = terms[0]
    for term in terms[1:]:
        out = out + term
    with pytest.raises(DerivationError) as caught:
        check_chain(out, m, [[1.0] * 16 + [3.0]])  # 16 additions and m * 3: the first path
    report = _report(caught)
    assert report.title == "check_chain: dn33/dm: your chains leave out some of the paths"
    lines = [line for line in report.findings if " -> " in line]
    assert len(lines) == 16
    assert len(set(lines)) == 16
    assert lines[-1] == "  m -> n32 -> n33: dn33/dm = (3) = 3"  # the last term


# -- long chains ----------------------------------------------------------------------------------


def _tanh_chain(steps: int, labelled: bool = False) -> tuple[Value, Value, list[float]]:
    """x = 0.3 through ``steps`` tanh nodes, and their local derivatives, output first.

    By hand: h_k = tanh(h_(k-1)) and dh_k/dh_(k-1) = 1 - h_k^2, evaluated here with math.
    Unlabelled, the nodes are n1 ... n<steps> (x is n0); labelled, h1 ... h<steps>.
    """
    x = Value(0.3, label="x")
    node = x
    for k in range(1, steps + 1):
        node = node.tanh()
        if labelled:
            node.label = f"h{k}"
    h, local = 0.3, []
    for _ in range(steps):
        h = math.tanh(h)
        local.append(1.0 - h * h)
    return node, x, local[::-1]


@pytest.mark.parametrize(("steps", "labelled"), [(301, False), (400, True), (2000, False)])
def test_a_long_chain_given_factor_by_factor_passes(steps: int, labelled: bool) -> None:
    """Each tanh step given its own derivative 1 - tanh^2 agrees, however long the chain."""
    out, x, local = _tanh_chain(steps, labelled)
    report = check_chain(out, x, local)
    top = f"h{steps}" if labelled else f"n{steps}"
    assert report.title == f"check_chain: d{top}/dx: all {steps} factors agree with the engine"
    assert [row.status for row in report.rows] == ["ok"] * steps
    assert report.rows[0].edge == f"d{top}/d{'h' if labelled else 'n'}{steps - 1}"


def test_a_wrong_factor_in_a_long_chain_is_the_one_named() -> None:
    """Factor 1001 of 2000, made 1.5 times too big, is blamed: dn1000/dn999, and no other."""
    out, x, local = _tanh_chain(2000)
    local[1000] *= 1.5
    with pytest.raises(DerivationError) as caught:
        check_chain(out, x, local)
    report = _report(caught)
    assert report.title == (
        "check_chain: dn2000/dx: factor 1001 of your chain (dn1000/dn999) disagrees with the engine"
    )
    assert [row.position for row in report.rows if row.status != "ok"] == [1001]


def test_folded_factors_on_a_long_chain_pass() -> None:
    """Three factors over 2000 tanh steps, each the product of its 700-odd steps, agree.

    The products fall by about 0.1% a step, so each factor matches one stretch only: the
    first 700 steps (n2000 down to n1300), the next 700 (to n600), the last 600 (to x).
    """
    out, x, local = _tanh_chain(2000)
    thirds = [math.prod(local[:700]), math.prod(local[700:1400]), math.prod(local[1400:])]
    report = check_chain(out, x, thirds)
    assert report.passed
    assert [row.edge for row in report.rows] == ["dn2000/dn1300", "dn1300/dn600", "dn600/dx"]


def test_wrong_folded_factors_on_a_long_chain_blame_no_factor() -> None:
    """Too long to search for the best wrong alignment: the failure says so, and blames none."""
    out, x, local = _tanh_chain(2000)
    thirds = [math.prod(local[:700]), 1.5 * math.prod(local[700:1400]), math.prod(local[1400:])]
    with pytest.raises(DerivationError) as caught:
        check_chain(out, x, thirds)
    report = _report(caught)
    assert report.title == "check_chain: dn2000/dx: your 3 factors do not make up dn2000/dx"
    assert report.rows == ()
    assert f"The engine's total: dn2000/dx = {math.prod(local):.6g}." in report.findings


def test_one_chain_per_path_on_a_long_path() -> None:
    """On a path too long to search, a wrong folded chain is failed without blaming a factor.

    out = tanh^2000(x) + 2x: chains per path pass, step by step or folded. By hand: the
    long path is n2002 <- n2000 <- ... <- n1 <- x (1 for the addition, then the tanh slopes),
    the short one n2002 <- n2001 <- x (1, then 2).
    """
    out, x, local = _tanh_chain(2000)
    out = out + x * 2.0
    half = [math.prod(local[:1000]), math.prod(local[1000:])]
    assert check_chain(out, x, [[1.0, *local], [1.0, 2.0]]).passed
    assert check_chain(out, x, [[1.0, *half], [1.0, 2.0]]).passed
    with pytest.raises(DerivationError) as caught:
        check_chain(out, x, [[1.0, 1.5 * half[0], half[1]], [1.0, 2.0]])
    report = _report(caught)
    assert report.title == "check_chain: dn2002/dx: chain 1 does not make up any path"
    assert {row.status for row in report.rows} == {"ok"}  # chain 2's rows, all right
    with pytest.raises(DerivationError) as caught:
        check_chain(out, x, [[1.0, *half], [1.0, 2.5]])
    report = _report(caught)
    assert report.title == (
        "check_chain: dn2002/dx: factor 2 of your chain 2 (dn2001/dx) disagrees with the engine"
    )


def test_a_chain_too_big_to_line_up_is_a_value_error_naming_the_limit() -> None:
    """Too many ways to line factors up: a ValueError naming the size, the limit and what to do.

    x + 0 + 0 ... 2000 times: every stretch's derivative is 1, so 1000 factors of 1 can be
    lined up in too many ways to try. This is never an AssertionError blaming a factor.
    """
    x = Value(0.3, label="x")
    out = x
    for _ in range(2000):
        out = out + 0.0
    with pytest.raises(ValueError, match=r"^check_chain: cannot line your 1000 factors up") as e:
        check_chain(out, x, [1.0] * 1000)
    message = str(e.value)
    assert not isinstance(e.value, AssertionError)
    assert "the chain from x to n2000 has 2001 nodes" in message
    assert re.search(r"check_chain stops at [\d,]+ comparisons", message)
    assert "give one factor per step of the path (2000 factors)" in message
    assert check_chain(out, x, [1.0] * 2000).passed  # one per step needs no search


# -- input errors and display -------------------------------------------------------------------


def test_check_chain_explains_bad_input() -> None:
    """Empty factors, strings, Values, mixed nesting and a non-Value output are clear errors."""
    c, a, _ = _two_paths()
    with pytest.raises(ValueError, match="factors is empty"):
        check_chain(c, a, [])
    with pytest.raises(TypeError, match="factors must be a list of numbers"):
        check_chain(c, a, "0.5")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="factor 1 must be a number, got a Value"):
        check_chain(c, a, [a])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="factors mixes numbers and lists"):
        check_chain(c, a, [1.0, [2.0]])  # type: ignore[list-item]
    with pytest.raises(TypeError, match="output must be a Value"):
        check_chain(1.0, a, [1.0])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="no node of the graph is labelled 'b'"):
        check_chain(c, "b", [1.0])
    with pytest.raises(TypeError, match="edge names must be str"):
        check_chain(c, a, {1: 1.0})  # type: ignore[dict-item]


def test_reports_show_as_html_tables_in_notebooks() -> None:
    """A failing report's HTML is a table with the wrong row marked; labels are escaped."""
    w = Value(0.5, label="<w>")
    y = w * 3.0
    y.label = "y"
    with pytest.raises(DerivationError) as caught:
        check_chain(y, w, [4.0])
    page = caught.value.report._repr_html_()
    assert "<table" in page
    assert "dy/d(&lt;w&gt;)" in page
    assert "<w>" not in page
    assert page.count("background:#fde2e2") == 1
    with pytest.raises(DerivationError) as caught:
        assert_gradients(y, {w: 4.0})
    gradient_page = caught.value.report._repr_html_()
    assert "border-bottom:1px solid" in gradient_page  # the engine's chain, as maths
    assert gradient_page.count("background:#fde2e2") == 1


def test_derivation_error_is_an_assertion_error() -> None:
    """pytest needs no plugin: the failure is an AssertionError carrying the report."""
    x = Value(2.0, label="x")
    with pytest.raises(AssertionError) as caught:
        assert_gradients(x * x, {x: 5.0})
    assert isinstance(caught.value, DerivationError)
    assert str(caught.value) == str(caught.value.report)


# -- random graphs --------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_dual_number_gradients_pass_on_random_graphs(kit: Any, seed: int) -> None:
    """Gradients from forward-mode dual numbers (independent of the engine) pass, rel 1e-9."""
    rng = random.Random(seed)
    program = kit.generate(rng.choice, rng.uniform, 3, 10, saturation=6.0)
    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(program.inputs)]
    out = kit.run(program, leaves, kit.VALUE_FUNCTIONS)
    expected = dict(zip(leaves, kit.dual_gradients(program), strict=True))
    assert_gradients(out, expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", range(20))
def test_the_engines_own_chains_pass_and_a_changed_factor_fails(kit: Any, seed: int) -> None:
    """One chain per path, read off explain, agrees; changing one of its factors is caught."""
    rng = random.Random(seed)
    program = kit.generate(rng.choice, rng.uniform, 2, 10, saturation=6.0)
    leaves = [Value(x, label=f"x{i}") for i, x in enumerate(program.inputs)]
    out = kit.run(program, leaves, kit.VALUE_FUNCTIONS)
    for leaf in leaves:
        explanation = explain(out, leaf, max_paths=64)
        if not 0 < explanation.path_count <= 64 or leaf is out:
            continue
        chains = [[factor.value for factor in path] for path in explanation.paths]
        assert check_chain(out, leaf, chains).passed
        if explanation.path_count == 1:
            assert check_chain(out, leaf, chains[0]).passed
            with pytest.raises(DerivationError):
                check_chain(out, leaf, [*chains[0][:-1], chains[0][-1] * 1.5 + 0.25])
        chain = rng.randrange(len(chains))
        factor = rng.randrange(len(chains[chain]))
        chains[chain][factor] = chains[chain][factor] * 1.5 + 0.25
        with pytest.raises(DerivationError):
            check_chain(out, leaf, chains)
