"""Layer 2: every op-table row against central differences, and the kinks and domain edges.

Each row gets test points away from its kinks, a reference forward written with ``math`` (not
the engine's own formula) and is checked three ways: the forward value, the gradient from
``backward`` against central differences (h = 1e-6, rel 1e-6) of the reference, and the
second derivative from ``create_graph=True`` against central differences of the first.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from autodiff import OPS, Value, gradients
from autodiff.ops import data_of

H = 1e-6
REL = 1e-6


def central(function: Callable[[float], float], x: float) -> float:
    """(f(x + h) - f(x - h)) / 2h with h = 1e-6."""
    return (function(x + H) - function(x - H)) / (2.0 * H)


class Row:
    """How to reach one table row from the public API, a reference forward, and test points."""

    def __init__(
        self,
        build: Callable[..., Value],
        reference: Callable[..., float],
        points: list[tuple[float, ...]],
    ) -> None:
        self.build = build
        self.reference = reference
        self.points = points


# The last number of a point of a row that carries a constant (``CARRIES_A_CONSTANT``) is that
# constant (pow's exponent, the c of x + c and x * c), given as a plain number, not a Value.
ROWS: dict[str, Row] = {
    "add": Row(lambda x, y: x + y, lambda x, y: x + y, [(0.7, -1.3), (2.0, 5.5)]),
    "mul": Row(lambda x, y: x * y, lambda x, y: x * y, [(0.7, -1.3), (-2.5, -0.4)]),
    "add_const": Row(
        lambda x, c: x + c, lambda x, c: x + c, [(0.7, 2.5), (-1.3, -4.0), (2.0, 0.0)]
    ),
    "mul_const": Row(
        lambda x, c: x * c,
        lambda x, c: x * c,
        [(0.7, 3.0), (-1.3, -0.25), (2.0, 0.0), (1.1, 1e6)],
    ),
    "neg": Row(lambda x: -x, lambda x: -x, [(0.7,), (-3.1,)]),
    "pow": Row(
        lambda x, c: x**c,
        lambda x, c: x**c,
        [(1.3, 3.0), (1.3, -2.0), (0.8, 0.5), (2.2, 2.5), (-1.5, 3.0), (-0.7, -1.0), (1.7, 1.0)],
    ),
    "pow_value": Row(
        lambda x, y: x**y,
        lambda x, y: x**y,
        [(1.3, 0.7), (0.4, -1.5), (2.0, 3.0), (0.9, 0.0)],
    ),
    "exp": Row(lambda x: x.exp(), math.exp, [(0.3,), (-2.0,), (5.0,)]),
    "log": Row(lambda x: x.log(), math.log, [(0.5,), (3.0,), (1e-3,)]),
    "sigmoid": Row(
        lambda x: x.sigmoid(),
        lambda x: 1.0 / (1.0 + math.exp(-x)),
        [(-1.2,), (0.0,), (2.5,), (-8.0,)],
    ),
    "tanh": Row(lambda x: x.tanh(), math.tanh, [(-0.8,), (0.4,), (2.0,)]),
    "relu": Row(lambda x: x.relu(), lambda x: max(x, 0.0), [(1.7,), (-0.9,), (1e-3,)]),
}

# Rows missing from ROWS are reported by test_every_row_has_test_points, not at collection.
CASES = [(name, point) for name in sorted(OPS) if name in ROWS for point in ROWS[name].points]


CARRIES_A_CONSTANT = frozenset({"pow", "add_const", "mul_const"})


def variables(name: str, point: tuple[float, ...]) -> int:
    """How many of the point's numbers are differentiable inputs (a carried constant is not)."""
    return len(point) - 1 if name in CARRIES_A_CONSTANT else len(point)


def build_at(name: str, point: tuple[float, ...]) -> tuple[Value, list[Value]]:
    """The row's node at ``point`` and its Value inputs."""
    k = variables(name, point)
    leaves = [Value(x) for x in point[:k]]
    return ROWS[name].build(*leaves, *point[k:]), leaves


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_row_has_test_points(name: str) -> None:
    """A row added to the op table without test points here fails this test."""
    assert name in ROWS, f"add test points for op {name!r} to ROWS"
    assert ROWS[name].points


def test_no_test_points_for_rows_that_do_not_exist() -> None:
    """Every row tested here exists in the op table (no stale names)."""
    assert set(ROWS) <= set(OPS)


@pytest.mark.parametrize(("name", "point"), CASES)
def test_forward_matches_reference(name: str, point: tuple[float, ...]) -> None:
    """The node's data equals the math-module reference, and the node comes from this row."""
    node, leaves = build_at(name, point)
    assert node.op == name
    assert node.parents == tuple(leaves)
    assert node.constant == (point[-1] if name in CARRIES_A_CONSTANT else None)
    assert node.data == pytest.approx(ROWS[name].reference(*point), rel=1e-14, abs=1e-300)


@pytest.mark.parametrize(("name", "point"), CASES)
def test_gradient_matches_central_differences(name: str, point: tuple[float, ...]) -> None:
    """Each input's gradient equals the central difference of the reference forward."""
    node, leaves = build_at(name, point)
    node.backward()
    for k, leaf in enumerate(leaves):

        def along_k(t: float, k: int = k) -> float:
            shifted = list(point)
            shifted[k] = t
            return float(ROWS[name].reference(*shifted))

        expected = central(along_k, point[k])
        assert leaf.grad == pytest.approx(expected, rel=REL, abs=1e-9), (name, point, k)


@pytest.mark.parametrize(("name", "point"), CASES)
def test_second_derivative_matches_central_differences(name: str, point: tuple[float, ...]) -> None:
    """The partials also work on Values: d2/dx_k2 from create_graph matches central differences."""
    k_count = variables(name, point)
    for k in range(k_count):

        def first_derivative(t: float, k: int = k) -> float:
            shifted = list(point)
            shifted[k] = t
            node, leaves = build_at(name, tuple(shifted))
            return float(gradients(node, [leaves[k]])[0])

        node, leaves = build_at(name, point)
        (first,) = gradients(node, [leaves[k]], create_graph=True)
        second = gradients(first, [leaves[k]])[0] if isinstance(first, Value) else 0.0
        expected = central(first_derivative, point[k])
        assert second == pytest.approx(expected, rel=1e-5, abs=1e-6), (name, point, k)


# ----------------------------------------------------------------------------------------------
# Kinks and domain edges, pinned one by one.


def grad_of(build: Callable[[Value], Value], x: float) -> tuple[float, float]:
    """(data, d/dx) of ``build`` at ``x``."""
    leaf = Value(x)
    out = build(leaf)
    out.backward()
    return out.data, leaf.grad


def test_relu_derivative_at_zero_is_zero() -> None:
    """relu(0) = 0 and relu'(0) := 0, the left slope, as PyTorch defines it."""
    assert grad_of(lambda v: v.relu(), 0.0) == (0.0, 0.0)
    assert grad_of(lambda v: v.relu(), -0.0) == (0.0, 0.0)


@pytest.mark.parametrize(
    ("exponent", "data", "grad"),
    [
        (2.0, 0.0, 0.0),  # 2 * 0^1
        (3.0, 0.0, 0.0),  # 3 * 0^2
        (1.0, 0.0, 1.0),  # 1 * 0^0
        (0.0, 1.0, 0.0),  # x^0 is the constant 1
        (0.5, 0.0, math.inf),  # vertical tangent of sqrt at 0
        (1.5, 0.0, 0.0),  # 1.5 * 0^0.5
    ],
)
def test_pow_at_zero(exponent: float, data: float, grad: float) -> None:
    """x**c at x = 0 has the one-sided limits of c x^(c-1); x**0 is constant."""
    assert grad_of(lambda v: v**exponent, 0.0) == (data, grad)


@pytest.mark.parametrize(
    ("exponent", "data", "d_base", "d_exponent"),
    [
        (2.0, 0.0, 0.0, 0.0),  # 0^y = 0 for y > 0, flat in y
        (0.5, 0.0, math.inf, 0.0),
        (0.0, 1.0, 0.0, 0.0),  # 0^0 = 1, defined flat in both
        (1.0, 0.0, 1.0, 0.0),
    ],
)
def test_pow_value_at_base_zero(
    exponent: float, data: float, d_base: float, d_exponent: float
) -> None:
    """Value(0) ** Value(y): d/dy := 0 instead of 0 * log(0); d/dx is the number-exponent rule."""
    base, power = Value(0.0), Value(exponent)
    out = base**power
    out.backward()
    assert (out.data, base.grad, power.grad) == (data, d_base, d_exponent)


def test_pow_with_negative_base_and_integer_exponent() -> None:
    """(-2)^3 = -8 with slope 3 * (-2)^2 = 12; (-2)^-1 = -0.5 with slope -(-2)^-2 = -0.25."""
    assert grad_of(lambda v: v**3, -2.0) == (-8.0, 12.0)
    assert grad_of(lambda v: v**-1, -2.0) == (-0.5, -0.25)


@pytest.mark.parametrize("x", [-1000.0, -750.0, -1e308])
def test_sigmoid_far_negative_is_zero_with_finite_gradient(x: float) -> None:
    """σ(x) for x << 0 underflows to 0.0 with gradient 0.0, never an OverflowError or NaN."""
    data, grad = grad_of(lambda v: v.sigmoid(), x)
    assert data == 0.0
    assert grad == 0.0
    assert math.isfinite(grad)


@pytest.mark.parametrize("x", [1000.0, 1e308])
def test_sigmoid_far_positive_is_one(x: float) -> None:
    """σ(x) for x >> 0 is exactly 1.0 with gradient 0.0."""
    assert grad_of(lambda v: v.sigmoid(), x) == (1.0, 0.0)


def test_sigmoid_keeps_relative_accuracy_in_the_left_tail() -> None:
    """σ(-30) = e^-30 / (1 + e^-30) to full relative precision, and so does its slope."""
    data, grad = grad_of(lambda v: v.sigmoid(), -30.0)
    expected = math.exp(-30.0) / (1.0 + math.exp(-30.0))
    assert data == pytest.approx(expected, rel=1e-15)
    assert grad == pytest.approx(expected * (1.0 - expected), rel=1e-15)


@pytest.mark.parametrize(("x", "data"), [(1000.0, 1.0), (-1000.0, -1.0)])
def test_tanh_saturates(x: float, data: float) -> None:
    """tanh(+-1000) is exactly +-1.0 with gradient 0.0."""
    assert grad_of(lambda v: v.tanh(), x) == (data, 0.0)


def test_exp_at_the_largest_finite_input() -> None:
    """exp(709) is finite and is its own derivative; 710 overflows (see the error tests)."""
    data, grad = grad_of(lambda v: v.exp(), 709.0)
    assert data == math.exp(709.0)
    assert grad == data


def test_log_near_zero_has_large_finite_slope() -> None:
    """log(1e-300) = -300 log 10 with slope 1e300."""
    data, grad = grad_of(lambda v: v.log(), 1e-300)
    assert data == pytest.approx(-300.0 * math.log(10.0), rel=1e-15)
    assert grad == pytest.approx(1e300, rel=1e-15)


def test_data_of_reads_floats_and_values() -> None:
    """The table's helper data_of returns the float behind either kind of input."""
    assert data_of(2.5) == 2.5
    assert data_of(Value(-1.5)) == -1.5


def test_every_forward_returns_a_python_float() -> None:
    """Whatever the row, data is a Python float (never int, numpy or complex)."""
    for name, point in CASES:
        node, _ = build_at(name, point)
        assert type(node.data) is float, name
