"""The op table: every row against central differences, and the kinks and domain edges.

Each row gets test points away from its kinks, a reference forward written with ``math`` (not
the engine's own formula) and is checked three ways: the forward value, the gradient from
``backward`` against central differences (h = 1e-6, rel 1e-6) of the reference, and the
second derivative from ``create_graph=True`` against central differences of the first.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import pytest

from autodiff import OPS, Value, gradients, no_grad
from autodiff.ops import data_of, power

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
        numbers: tuple[int, ...] = (),
    ) -> None:
        self.build = build
        self.reference = reference
        self.points = points
        self.numbers = numbers


# Each row is reached through the public API. ``numbers`` are the positions of a point that are
# passed as plain numbers (pow's exponent; a number operand of a binary row), not as Values.
ROWS: dict[str, Row] = {
    "add": Row(lambda x, y: x + y, lambda x, y: x + y, [(0.7, -1.3), (2.0, 5.5)]),
    "sub": Row(lambda x, y: x - y, lambda x, y: x - y, [(0.7, -1.3), (-2.0, 5.5)]),
    "mul": Row(lambda x, y: x * y, lambda x, y: x * y, [(0.7, -1.3), (-2.5, -0.4)]),
    "div": Row(lambda x, y: x / y, lambda x, y: x / y, [(0.7, -1.3), (-2.5, 0.4), (3.0, 7.0)]),
    "neg": Row(lambda x: -x, lambda x: -x, [(0.7,), (-3.1,)]),
    "pow": Row(
        lambda x, c: x**c,
        lambda x, c: x**c,
        [(1.3, 3.0), (1.3, -2.0), (0.8, 0.5), (2.2, 2.5), (-1.5, 3.0), (-0.7, -1.0), (1.7, 1.0)],
        numbers=(1,),
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
    "abs": Row(lambda x: abs(x), abs, [(1.7,), (-0.9,), (1e-3,)]),
    "sin": Row(lambda x: x.sin(), math.sin, [(0.3,), (-2.0,), (5.0,)]),
    "cos": Row(lambda x: x.cos(), math.cos, [(0.3,), (-2.0,), (5.0,)]),
}

# Rows missing from ROWS are reported by test_every_row_has_test_points, not at collection.
CASES = [(name, point) for name in sorted(OPS) if name in ROWS for point in ROWS[name].points]


def build_at(name: str, point: tuple[float, ...]) -> tuple[Value, list[Value]]:
    """The row's node at ``point`` and its Value inputs (a number position stays a number)."""
    numbers = ROWS[name].numbers
    operands = [x if k in numbers else Value(x) for k, x in enumerate(point)]
    leaves = [x for x in operands if isinstance(x, Value)]
    return ROWS[name].build(*operands), leaves


def variable_positions(name: str, point: tuple[float, ...]) -> list[int]:
    """The positions of ``point`` that are Values, hence differentiated."""
    return [k for k in range(len(point)) if k not in ROWS[name].numbers]


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_row_has_test_points(name: str) -> None:
    """A row added to the op table without test points here fails this test."""
    assert name in ROWS, f"add test points for op {name!r} to ROWS"
    assert ROWS[name].points


def test_no_test_points_for_rows_that_do_not_exist() -> None:
    """Every row tested here exists in the op table (no stale names)."""
    assert set(ROWS) <= set(OPS)


@pytest.mark.parametrize("name", sorted(OPS))
def test_every_row_states_its_formula(name: str) -> None:
    """Each row carries its derivative rule as text, naming the op's derivative."""
    assert OPS[name].formula.startswith("d")
    assert OPS[name].name == name


@pytest.mark.parametrize(("name", "point"), CASES)
def test_forward_matches_reference(name: str, point: tuple[float, ...]) -> None:
    """The node's data equals the math-module reference, and the node comes from this row."""
    node, leaves = build_at(name, point)
    assert node.op is OPS[name]
    assert node.parents == tuple(leaves)
    assert node.data == pytest.approx(ROWS[name].reference(*point), rel=1e-14, abs=1e-300)


@pytest.mark.parametrize(("name", "point"), CASES)
def test_gradient_matches_central_differences(name: str, point: tuple[float, ...]) -> None:
    """Each input's gradient equals the central difference of the reference forward."""
    node, leaves = build_at(name, point)
    node.backward()
    for leaf, k in zip(leaves, variable_positions(name, point), strict=True):

        def along_k(t: float, k: int = k) -> float:
            shifted = list(point)
            shifted[k] = t
            return float(ROWS[name].reference(*shifted))

        expected = central(along_k, point[k])
        assert leaf.grad == pytest.approx(expected, rel=REL, abs=1e-9), (name, point, k)


# Binary rows with one operand given as a plain number instead. Not pow (its exponent is always
# a number) nor pow_value's exponent (x ** number is the row pow).
NUMBER_CASES = [
    (name, point, position)
    for name, point in CASES
    if len(point) == 2 and not ROWS[name].numbers
    for position in (0, 1)
    if not (name == "pow_value" and position == 1)
]


@pytest.mark.parametrize(("name", "point", "position"), NUMBER_CASES)
def test_a_number_operand_gives_the_same_gradient(
    name: str, point: tuple[float, ...], position: int
) -> None:
    """With one operand a plain number, the other gets the gradient it gets as a Value."""
    both, leaves = build_at(name, point)
    both.backward()
    other = 1 - position
    operands: list[Any] = [Value(x) for x in point]
    operands[position] = point[position]
    mixed = ROWS[name].build(*operands)
    mixed.backward()
    assert mixed.data == both.data
    assert operands[other].grad == leaves[other].grad
    assert mixed.parents == (operands[other],)


@pytest.mark.parametrize(("name", "point"), CASES)
def test_second_derivative_matches_central_differences(name: str, point: tuple[float, ...]) -> None:
    """The partials also work on Values: d2/dx_k2 from create_graph matches central differences."""
    for index, k in enumerate(variable_positions(name, point)):

        def first_derivative(t: float, index: int = index, k: int = k) -> float:
            shifted = list(point)
            shifted[k] = t
            node, leaves = build_at(name, tuple(shifted))
            return float(gradients(node, [leaves[index]])[0])

        node, leaves = build_at(name, point)
        (first,) = gradients(node, [leaves[index]], create_graph=True)
        second = gradients(first, [leaves[index]])[0] if isinstance(first, Value) else 0.0
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


# ----------------------------------------------------------------------------------------------
# relu, abs, sin and cos at their edges.


def test_relu_of_nan_is_nan() -> None:
    """relu(nan) is nan, as in PyTorch: the NaN does not disappear into a 0."""
    out = Value(math.nan).relu()
    assert math.isnan(out.data)


@pytest.mark.parametrize(
    ("x", "data", "grad"), [(-2.5, 2.5, -1.0), (0.0, 0.0, 0.0), (3.0, 3.0, 1.0)]
)
def test_abs_and_its_kink(x: float, data: float, grad: float) -> None:
    """|x| has slope -1 left of 0 and 1 right of it; abs'(0) := 0, as PyTorch's sign(0)."""
    assert grad_of(abs, x) == (data, grad)


@pytest.mark.parametrize("name", ["sin", "cos"])
def test_sin_and_cos_of_infinity_raise_naming_the_op(name: str) -> None:
    """sin(inf) and cos(inf) have no value: ValueError naming the op, never a bare math error."""
    with pytest.raises(ValueError, match=rf"^{name}: {name}\(inf\) is undefined"):
        getattr(Value(math.inf), name)()


def test_sin_and_cos_textbook_values() -> None:
    """d sin/dx at 0 is cos 0 = 1; d cos/dx at pi/2 is -sin(pi/2) = -1."""
    assert grad_of(lambda v: v.sin(), 0.0) == (0.0, 1.0)
    assert grad_of(lambda v: v.cos(), math.pi / 2)[1] == -1.0


# ----------------------------------------------------------------------------------------------
# Division: correctly rounded, and never overflowing where the true numbers are finite.


def test_division_is_correctly_rounded_like_python() -> None:
    """x / y equals Python's correctly rounded quotient for 20,000 random pairs (10/3 too)."""
    rng = random.Random(7)
    for _ in range(20_000):
        x = rng.uniform(-1e3, 1e3) * 10.0 ** rng.randint(-30, 30)
        y = rng.uniform(-1e3, 1e3) * 10.0 ** rng.randint(-30, 30)
        assert (Value(x) / y).data == x / y
        assert (x / Value(y)).data == x / y
        assert (Value(x) / Value(y)).data == x / y
    assert (Value(10.0) / 3).data == 3.3333333333333335


def test_division_of_tiny_numbers_does_not_overflow() -> None:
    """1e-300 / 1e-310 is 1e10: the quotient is finite, so no reciprocal may overflow."""
    assert (Value(1e-300) / 1e-310).data == 1e-300 / 1e-310


def test_division_gradients_of_tiny_numbers_are_finite() -> None:
    """d(x/y) at x = 1e-200, y = 1e-160: d/dx = 1/y = 1e160, d/dy = -x/y^2 = -1e120 (as PyTorch)."""
    x, y = Value(1e-200), Value(1e-160)
    (x / y).backward()
    assert x.grad == pytest.approx(1e160, rel=1e-15)
    assert y.grad == pytest.approx(-1e120, rel=1e-15)


def test_reciprocal_gradient_at_tiny_x() -> None:
    """1 / x at x = 1e-154: the derivative -1/x^2 = -1e308 is finite, and so is the engine's."""
    x = Value(1e-154)
    (1 / x).backward()
    assert x.grad == pytest.approx(-1e308, rel=1e-14)


@pytest.mark.parametrize(("x", "expected"), [(1e-77, -3e308), (1e-80, -math.inf)])
def test_cube_reciprocal_gradient_never_raises(x: float, expected: float) -> None:
    """d(x^-3)/dx = -3 x^-4: finite at 1e-77 (-3e308), past the largest float (-inf) at 1e-80.

    Backward never raises OverflowError from inside: where the true derivative is beyond the
    largest float it is -inf, as in PyTorch.
    """
    leaf = Value(x)
    (leaf**-3).backward()
    assert leaf.grad == pytest.approx(expected, rel=1e-14)


def test_division_by_zero_names_the_operands() -> None:
    """x / 0 raises ZeroDivisionError naming div, both numbers and the labels."""
    with pytest.raises(ZeroDivisionError, match=r"div: division by zero \(1\.0 / 0\.0\).*'x'"):
        Value(1.0, label="x") / 0


# ----------------------------------------------------------------------------------------------
# Poles inside derivatives: inf, as PyTorch gives, also for higher orders.


def test_second_derivative_of_sqrt_at_zero_is_minus_infinity() -> None:
    """d sqrt/dx = 0.5 x^-0.5 is inf at 0 and d2/dx2 = -0.25 x^-1.5 is -inf (PyTorch: -inf)."""
    x = Value(0.0)
    (first,) = gradients(x.sqrt(), [x], create_graph=True)
    assert first.data == math.inf
    (second,) = gradients(first, [x])
    assert second == -math.inf


def test_power_helper_gives_ieee_results_on_floats() -> None:
    """ops.power is inf at a pole or on overflow and nan for a negative base to a fraction."""
    assert power(0.0, -0.5) == math.inf
    assert power(-0.0, -1.0) == -math.inf
    assert power(1e-200, -2.0) == math.inf
    assert math.isnan(power(-8.0, 1.0 / 3.0))
    assert power(2.0, 10.0) == 1024.0


# ----------------------------------------------------------------------------------------------
# Squares: pow's forward squares by one multiplication, the correctly rounded square.


def _correctly_rounded_square(x: float) -> float:
    """The float nearest the exact square of x (Fraction arithmetic is exact)."""
    return float(Fraction(x) ** 2)


def test_square_is_the_correctly_rounded_square() -> None:
    """For seeded random x of many magnitudes, x ** 2 is the exact square rounded once."""
    rng = random.Random(11)
    for _ in range(5000):
        x = rng.uniform(-1e3, 1e3) * 10.0 ** rng.randint(-100, 100)
        assert (Value(x) ** 2).data == _correctly_rounded_square(x)


def test_square_gradient_is_two_x() -> None:
    """d(x^2)/dx = 2x, exactly, at x = -3.5 (2 * -3.5 = -7)."""
    x = Value(-3.5)
    (x**2).backward()
    assert x.grad == -7.0


def test_square_that_overflows_raises_and_names_pow() -> None:
    """1e200 squared is beyond the largest float (about 1.8e308): an OverflowError naming pow."""
    with pytest.raises(OverflowError, match=r"pow: 1e\+200 \*\* 2\.0 overflows a float"):
        Value(1e200) ** 2


def test_square_of_infinity_is_infinity_as_in_python() -> None:
    """inf ** 2.0 is inf in Python, not an overflow; the fast path keeps that."""
    assert (Value(math.inf) ** 2).data == math.inf
    assert (Value(-math.inf) ** 2).data == math.inf


SPECIAL = (0.0, -0.0, 1.0, -1.0, 5e-324, 1.3407807929942596e154, -1.3407807929942596e154, math.nan)


@pytest.mark.parametrize("exponent", [2, 2.0])
def test_value_squares_exactly_as_the_op_table_forward(exponent: float) -> None:
    """x ** 2 and x ** 2.0 give bit for bit what OPS["pow"].forward(x, 2.0) gives."""
    rng = random.Random(12)
    numbers = [rng.uniform(-1e3, 1e3) * 10.0 ** rng.randint(-160, 150) for _ in range(3000)]
    forward = OPS["pow"].forward
    for x in (*SPECIAL, *numbers):
        node = Value(x) ** exponent
        expected = forward(x, 2.0)
        assert math.copysign(1.0, node.data) == math.copysign(1.0, expected)
        assert node.data == expected or (math.isnan(node.data) and math.isnan(expected)), x
        assert (node.op.name, node.operands[1]) == ("pow", 2.0)


def test_the_largest_square_below_overflow_is_finite() -> None:
    """1.3407807929942596e154 squared is 1.7976931348623155e308, a float (checked by Fraction)."""
    assert (Value(1.3407807929942596e154) ** 2).data == 1.7976931348623155e308


@pytest.mark.parametrize("exponent", [2, 2.0])
def test_square_overflow_is_reported_however_it_is_reached(exponent: float) -> None:
    """Recording or not, with an int or a float 2, -1e155 ** 2 raises naming pow and the label."""
    with pytest.raises(OverflowError, match=r"pow: -1e\+155 \*\* 2\.0 overflows.*'big'"):
        Value(-1e155, label="big") ** exponent
    with no_grad(), pytest.raises(OverflowError, match="pow: -1e"):
        Value(-1e155) ** exponent
