"""gradcheck and gradgradcheck: pass on every op of the table, fail loudly on a wrong rule.

The "wrong" rules below are custom ops whose derivative is deliberately off by a known amount,
so the expected analytic and numeric numbers in each failure are known by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

from autodiff import OPS, GradcheckError, Value, define_op, gradcheck, gradgradcheck

# One or more cases per op-table row, at points away from kinks and domain edges. A plain number
# is an operand of the row it is written in (x + 2.5 is an add node), in either position.
_OP_CASES: list[tuple[str, Callable[..., Any], tuple[float, ...]]] = [
    ("add", lambda x, y: x + y, (0.7, -1.3)),
    ("add", lambda x: x + 2.5, (0.7,)),
    ("sub", lambda x, y: x - y, (0.7, -1.3)),
    ("sub", lambda x: 1 - x, (-0.4,)),
    ("mul", lambda x, y: x * y, (0.7, -1.3)),
    ("mul", lambda x: 3 * x, (0.7,)),
    ("div", lambda x, y: x / y, (0.7, -1.3)),
    ("div", lambda x: x / 4, (-1.1,)),
    ("div", lambda x: 2 / x, (0.6,)),
    ("neg", lambda x: -x, (0.4,)),
    ("pow", lambda x: x**3, (1.3,)),
    ("pow", lambda x: x**0.5, (2.0,)),
    ("pow", lambda x: x**-2, (-0.6,)),
    ("pow_value", lambda x, y: x**y, (1.5, 0.7)),
    ("pow_value", lambda x: 2**x, (0.3,)),
    ("exp", lambda x: x.exp(), (0.3,)),
    ("log", lambda x: x.log(), (2.0,)),
    ("sigmoid", lambda x: x.sigmoid(), (-0.8,)),
    ("tanh", lambda x: x.tanh(), (0.6,)),
    ("relu", lambda x: x.relu(), (0.8,)),
    ("relu", lambda x: x.relu(), (-0.8,)),
    ("abs", lambda x: abs(x), (0.8,)),
    ("abs", lambda x: abs(x), (-0.8,)),
    ("sin", lambda x: x.sin(), (0.9,)),
    ("cos", lambda x: x.cos(), (0.9,)),
]


def test_op_cases_cover_every_row_of_the_table() -> None:
    """Every op-table row has a gradcheck case, so a new row cannot go unchecked."""
    assert {name for name, _, _ in _OP_CASES} == set(OPS)


@pytest.mark.parametrize(
    ("name", "function", "point"), _OP_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(_OP_CASES)]
)
def test_each_case_ends_in_the_row_it_is_named_after(
    name: str, function: Callable[..., Any], point: tuple[float, ...]
) -> None:
    """A case's output node comes from its named row, so the coverage test above means something."""
    assert function(*(Value(x) for x in point)).op is OPS[name]


@pytest.mark.parametrize(
    ("name", "function", "point"), _OP_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(_OP_CASES)]
)
def test_gradcheck_passes_on_every_op(
    name: str, function: Callable[..., Any], point: tuple[float, ...]
) -> None:
    """Each built-in op's derivative agrees with central differences."""
    assert gradcheck(function, *point) is True


@pytest.mark.parametrize(
    ("name", "function", "point"), _OP_CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(_OP_CASES)]
)
def test_gradgradcheck_passes_on_every_op(
    name: str, function: Callable[..., Any], point: tuple[float, ...]
) -> None:
    """Each built-in op's second derivatives agree with differences of its first derivatives."""
    assert gradgradcheck(function, *point) is True


def test_gradcheck_passes_on_a_composite_expression() -> None:
    """A neuron-like expression with three inputs checks out."""
    assert gradcheck(lambda w, x, b: (w * x + b).tanh() ** 2, 0.3, -1.2, 0.5) is True


def _wrong_square() -> Callable[..., Value]:
    # forward x^2 but partials claim d/dx = x instead of 2x.
    return define_op("wrong_square", lambda x: x * x, lambda out, x: (x,))


def test_gradcheck_catches_a_wrong_custom_derivative() -> None:
    """wrong_square claims d(x^2)/dx = x: at x = 1.5 analytic 1.5, numeric 2x = 3."""
    wrong_square = _wrong_square()
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda x: wrong_square(x), 1.5)
    (mismatch,) = caught.value.mismatches
    assert mismatch.position == 0
    assert mismatch.name == "x"
    assert mismatch.analytic == 1.5
    assert mismatch.numeric == pytest.approx(3.0, rel=1e-8)
    message = str(caught.value)
    assert "input 0 (x)" in message
    assert "analytic 1.5" in message
    assert "numeric 3" in message


def test_gradcheck_error_is_an_assertion_error() -> None:
    """GradcheckError subclasses AssertionError, so a bare test failure reads naturally."""
    wrong_square = _wrong_square()
    with pytest.raises(AssertionError):
        gradcheck(lambda x: wrong_square(x), 2.0)


def test_gradcheck_names_only_the_failing_inputs() -> None:
    """In f = wrong_square(u) * v at (2, 3) only u fails: analytic u v = 6, numeric 2 u v = 12."""
    wrong_square = _wrong_square()
    with pytest.raises(GradcheckError) as caught:
        gradcheck(lambda u, v: wrong_square(u) * v, 2.0, 3.0)
    assert [(m.position, m.name) for m in caught.value.mismatches] == [(0, "u")]
    assert caught.value.mismatches[0].analytic == 6.0
    assert caught.value.mismatches[0].numeric == pytest.approx(12.0, rel=1e-8)
    assert "(v)" not in str(caught.value)


def test_gradcheck_uses_value_labels_for_names() -> None:
    """An input given as a labelled Value is named by its label in the error."""
    wrong_square = _wrong_square()
    with pytest.raises(GradcheckError, match=r"input 0 \(weight\)"):
        gradcheck(lambda x: wrong_square(x), Value(1.5, label="weight"))


def test_gradcheck_falls_back_to_positional_names() -> None:
    """A function taking *args names its inputs x0, x1, ..."""
    wrong_square = _wrong_square()

    def product_of_squares(*xs: Value) -> Value:
        return wrong_square(xs[0]) * wrong_square(xs[1])

    with pytest.raises(GradcheckError) as caught:
        gradcheck(product_of_squares, 1.0, 2.0)
    assert [m.name for m in caught.value.mismatches] == ["x0", "x1"]


def test_gradcheck_tolerance_is_atol_plus_rtol_times_numeric() -> None:
    """A slope claimed as 2.02x, not 2x, is off by 0.02 at x = 1; the bound is atol + 2 rtol."""
    almost = define_op("almost_square", lambda x: x * x, lambda out, x: (2.02 * x,))
    assert gradcheck(lambda x: almost(x), 1.0, atol=0.0, rtol=0.011) is True  # 0.022 allowed
    assert gradcheck(lambda x: almost(x), 1.0, atol=0.021, rtol=0.0) is True
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: almost(x), 1.0, atol=0.0, rtol=0.009)  # 0.018 allowed
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: almost(x), 1.0, atol=0.019, rtol=0.0)


def test_gradgradcheck_catches_partials_computed_on_floats() -> None:
    """A sine with partial math.cos(x) passes gradcheck; its second derivative is 0, not -sin x."""
    float_sine = define_op("float_sine", math.sin, lambda out, x: (math.cos(x),))
    assert gradcheck(lambda x: float_sine(x), 0.9) is True
    with pytest.raises(GradcheckError) as caught:
        gradgradcheck(lambda x: float_sine(x), 0.9)
    (mismatch,) = caught.value.mismatches
    assert mismatch.position == (0, 0)
    assert mismatch.analytic == 0.0
    assert mismatch.numeric == pytest.approx(-math.sin(0.9), rel=1e-6)
    assert "inputs 0, 0 (x, x)" in str(caught.value)


def test_gradgradcheck_catches_a_wrong_mixed_second_derivative() -> None:
    """A product whose d(xy)/dx is float(y) loses d2/dydx = 1: only entry (0, 1) reads 0."""
    detached = define_op("detached_mul", lambda x, y: x * y, lambda out, x, y: (float(y), x))
    assert gradcheck(lambda a, b: detached(a, b), 0.5, 0.25) is True
    with pytest.raises(GradcheckError) as caught:
        gradgradcheck(lambda a, b: detached(a, b), 0.5, 0.25)
    (mismatch,) = caught.value.mismatches
    assert (mismatch.position, mismatch.name) == ((0, 1), "a, b")
    assert mismatch.analytic == 0.0
    assert mismatch.numeric == pytest.approx(1.0, rel=1e-8)


@pytest.mark.parametrize("eps", [0.0, -1e-6, math.inf, math.nan])
def test_gradcheck_rejects_a_bad_step(eps: float) -> None:
    """eps must be a positive finite number."""
    with pytest.raises(ValueError, match="eps"):
        gradcheck(lambda x: x, 1.0, eps=eps)


def test_gradcheck_rejects_negative_tolerances() -> None:
    """A negative atol is a ValueError naming atol."""
    with pytest.raises(ValueError, match="atol"):
        gradcheck(lambda x: x, 1.0, atol=-1.0)


def test_gradcheck_needs_an_input() -> None:
    """Checking at no point at all is a TypeError."""
    with pytest.raises(TypeError, match="at least one input"):
        gradcheck(lambda: Value(1.0))


def test_gradcheck_rejects_a_function_not_returning_a_value() -> None:
    """A function returning a float is a TypeError naming gradcheck."""
    with pytest.raises(TypeError, match="gradcheck: the function must return a scalar Value"):
        gradcheck(lambda x: 1.0, 1.0)
