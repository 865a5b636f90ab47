"""grad, value_and_grad and hessian; higher-order gradients through backward(create_graph=True).

Expected values are derived by hand in each docstring (and evaluated with ``math``), or come
from PyTorch in float64 when it is installed.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from typing import Any

import pytest

from autodiff import Value, grad, gradients, hessian, no_grad, value_and_grad

# -- higher order through Value.backward --------------------------------------------------------


def test_backward_create_graph_second_and_third_derivative_of_cube() -> None:
    """For y = x**3 at x = 2: dy/dx = 3x^2 = 12, d2y/dx2 = 6x = 12, d3y/dx3 = 6."""
    x = Value(2.0)
    (x**3).backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Value)
    assert first.data == 12.0
    x.grad = 0.0
    first.backward(create_graph=True)
    second = x.grad
    assert isinstance(second, Value)
    assert second.data == 12.0
    x.grad = 0.0
    second.backward()
    assert x.grad == 6.0


def test_backward_create_graph_with_upstream_gradient() -> None:
    """With seed 3 on y = x**2 * exp(x) at x = 1: 3 * d2y/dx2 = 3 * (x^2 + 4x + 2) e^x = 21e."""
    x = Value(1.0)
    y = x**2 * x.exp()
    y.backward(3.0, create_graph=True)
    first = x.grad
    x.grad = 0.0
    first.backward()
    assert x.grad == pytest.approx(21.0 * math.e, rel=1e-12)


# -- grad ---------------------------------------------------------------------------------------


def test_grad_floats_in_floats_out() -> None:
    """d/dx (x^2 y) at (3, 2) is 2xy = 12, a float."""
    result = grad(lambda x, y: x * x * y)(3.0, 2.0)
    assert type(result) is float
    assert result == 12.0


def test_grad_tuple_argnums_returns_tuple_in_order() -> None:
    """For f = x^2 y at (3, 2): (df/dy, df/dx) = (x^2, 2xy) = (9, 12), in argnums order."""
    result = grad(lambda x, y: x * x * y, argnums=(1, 0))(3.0, 2.0)
    assert result == (9.0, 12.0)


def test_grad_single_element_tuple_argnums_is_still_a_tuple() -> None:
    """argnums=(0,) gives a 1-tuple: the return type follows the argnums type, not a count."""
    assert grad(lambda x: 5 * x, argnums=(0,))(1.0) == (5.0,)


def test_grad_negative_argnums_counts_from_the_end() -> None:
    """argnums=-1 differentiates w.r.t. the last argument: d/dy (x y) = x = 4."""
    assert grad(lambda x, y: x * y, argnums=-1)(4.0, 7.0) == 4.0


def test_grad_passes_keyword_arguments_through() -> None:
    """Keywords are not differentiated: d/dx (x * scale) with scale=4 is 4."""
    assert grad(lambda x, scale: x * scale)(2.0, scale=4.0) == 4.0
    assert value_and_grad(lambda x, scale: x * scale)(2.0, scale=4.0) == (8.0, 4.0)
    assert hessian(lambda x, power: x**power)(2.0, power=3) == [[12.0]]


def test_grad_accepts_ints() -> None:
    """An int argument works like a float: d/dx x^2 at 3 is 6."""
    assert grad(lambda x: x**2)(3) == 6.0


def test_second_derivative_of_cube() -> None:
    """d2/dx2 x^3 = 6x, which is 12 at x = 2."""
    assert grad(grad(lambda x: x**3))(2.0) == 12.0


def test_third_derivative_of_x_exp_x() -> None:
    """d3/dx3 (x e^x) = (x + 3) e^x, which is 4e at x = 1."""
    third = grad(grad(grad(lambda x: x * x.exp())))(1.0)
    assert third == pytest.approx(4.0 * math.e, rel=1e-12)


def test_fourth_derivative_of_x_to_the_fourth() -> None:
    """d4/dx4 x^4 = 24 everywhere, and the fifth derivative is 0."""
    fourth = grad(grad(grad(grad(lambda x: x**4))))
    assert fourth(0.7) == 24.0
    assert grad(grad(grad(grad(grad(lambda x: x**4)))))(0.7) == 0.0


def test_nested_grad_has_no_perturbation_confusion() -> None:
    """x * d/dy (x + y) = x * 1, so its derivative is 1 (a confused engine gives 2)."""
    assert grad(lambda x: x * grad(lambda y: x + y)(x))(5.0) == 1.0


def test_nested_grad_through_a_closure() -> None:
    """d/dy (x y) = x, so f(x) = x * x, and f'(5) = 2x = 10 (the inner call sees a float)."""
    assert grad(lambda x: x * grad(lambda y: x * y)(2.0))(5.0) == 10.0


def test_grad_of_a_function_ignoring_its_input_is_zero() -> None:
    """A function returning a constant Value has derivative 0.0, at first and second order."""
    assert grad(lambda x: Value(3.0))(1.0) == 0.0
    assert grad(grad(lambda x: 2 * x))(1.0) == 0.0
    assert grad(lambda x, y: y * y, argnums=(0, 1))(1.0, 3.0) == (0.0, 6.0)


def test_grad_with_a_value_argument_returns_a_differentiable_value() -> None:
    """Called with a Value, grad(x^3) returns 3x^2 as a Value whose own derivative is 6x = 12."""
    x = Value(2.0, label="x")
    slope = grad(lambda v: v**3)(x)
    assert isinstance(slope, Value)
    assert slope.data == 12.0
    slope.backward()
    assert x.grad == 12.0


def test_grad_leaves_every_grad_untouched() -> None:
    """A closed-over parameter's accumulated grad survives grad: d/dx (w x) = w = 2."""
    w = Value(2.0, label="w")
    w.grad = 5.0
    assert grad(lambda x: w * x)(3.0) == 2.0
    assert w.grad == 5.0


def test_grad_works_inside_no_grad() -> None:
    """grad records its own graph even when the caller turned recording off: d/dx x^2 = 6."""
    with no_grad():
        assert grad(lambda x: x**2)(3.0) == 6.0


@pytest.mark.parametrize(
    "returned",
    [1.0, 3, [Value(1.0)], None, "loss"],
    ids=["float", "int", "list", "None", "str"],
)
def test_grad_of_a_function_not_returning_a_value_raises_type_error(returned: object) -> None:
    """A function returning anything but a Value gets a TypeError naming the function."""

    def not_a_value(x: Value) -> object:
        return returned

    with pytest.raises(TypeError, match="not_a_value must return a scalar Value"):
        grad(not_a_value)(1.0)


@pytest.mark.parametrize("argnums", [1.0, "0", (), (0, "1"), True])
def test_grad_rejects_malformed_argnums(argnums: Any) -> None:
    """argnums must be an int or a non-empty tuple of ints, checked when grad is called."""
    with pytest.raises(TypeError, match="argnums"):
        grad(lambda x: x, argnums=argnums)


def test_grad_rejects_out_of_range_argnums() -> None:
    """argnums=2 for a one-argument call is a ValueError naming the index."""
    with pytest.raises(ValueError, match="argnums 2 is out of range"):
        grad(lambda x: x, argnums=2)(1.0)


def test_grad_rejects_a_non_number_argument() -> None:
    """Differentiating with respect to a string is a TypeError naming grad."""
    with pytest.raises(TypeError, match="grad"):
        grad(lambda x: x)("1.0")


def test_grad_nesting_is_per_thread() -> None:
    """A grad running in another thread returns floats even while this thread is nested."""
    results: list[Any] = []

    def worker() -> None:
        results.append(grad(lambda x: x * x)(3.0))

    def outer(x: Value) -> Value:
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join()
        return x * 1.0

    assert grad(outer)(1.0) == 1.0
    assert results == [6.0]
    assert type(results[0]) is float


# -- value_and_grad ------------------------------------------------------------------------------


def test_value_and_grad_returns_both() -> None:
    """For (2w - 3)^2 at w = 0.5: value (1 - 3)^2 = 4, slope 4(2w - 3) = -8."""
    value, slope = value_and_grad(lambda w: (w * 2.0 - 3.0) ** 2)(0.5)
    assert (value, slope) == (4.0, -8.0)
    assert type(value) is float


def test_value_and_grad_with_several_argnums() -> None:
    """For x y at (2, 3): value 6, gradient (y, x) = (3, 2)."""
    assert value_and_grad(lambda x, y: x * y, argnums=(0, 1))(2.0, 3.0) == (6.0, (3.0, 2.0))


def test_value_and_grad_of_a_value_inside_no_grad_is_differentiable() -> None:
    """value_and_grad(f)(v) under no_grad returns Values still depending on v.

    f(x) = x^3 at x = 2: the value 8 has d/dx = 3x^2 = 12; the slope 3x^2 = 12 has d/dx = 6x = 12.
    """
    x = Value(2.0)
    with no_grad():
        value, slope = value_and_grad(lambda v: v**3)(x)
    assert (value.data, slope.data) == (8.0, 12.0)
    assert gradients(value, [x]) == (12.0,)
    assert gradients(slope, [x]) == (12.0,)


def test_grad_with_several_value_arguments_inside_no_grad_is_differentiable() -> None:
    """grad(f, (0, 1)) of f = a^2 b at Values (1, 2) under no_grad: (2ab, a^2) = (4, 1).

    Their own gradients with respect to (a, b) are (2b, 2a) = (4, 2) and (2a, 0) = (2, 0).
    """
    a, b = Value(1.0), Value(2.0)
    with no_grad():
        da, db = grad(lambda p, q: p * p * q, argnums=(0, 1))(a, b)
    assert (da.data, db.data) == (4.0, 1.0)
    assert gradients(da, [a, b]) == (4.0, 2.0)
    assert gradients(db, [a, b]) == (2.0, 0.0)


# -- hessian ------------------------------------------------------------------------------------


def test_hessian_of_the_jax_example() -> None:
    """f = a^3 - 2ab - b^6: [[6a, -2], [-2, -30 b^4]] = [[6, -2], [-2, -480]] at (1, 2)."""
    assert hessian(lambda a, b: a**3 - 2 * a * b - b**6)(1.0, 2.0) == [
        [6.0, -2.0],
        [-2.0, -480.0],
    ]


def test_hessian_with_an_ignored_and_a_linear_argument() -> None:
    """f = x^2 + 3y (z unused): only d2f/dx2 = 2 is non-zero in the 3x3 matrix."""
    result = hessian(lambda x, y, z: x * x + 3 * y)(1.0, 2.0, 3.0)
    assert result == [[2.0, 0.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0]]


def test_hessian_of_a_mixed_function() -> None:
    """f = xy + e^{xy}: H = [[y^2 e, 1 + e + xy e], [1 + e + xy e, x^2 e]] with e = e^{xy}."""
    x, y = 0.3, -0.8
    e = math.exp(x * y)
    expected = [[y * y * e, 1 + e + x * y * e], [1 + e + x * y * e, x * x * e]]
    result = hessian(lambda a, b: a * b + (a * b).exp())(x, y)
    for row, expected_row in zip(result, expected, strict=True):
        assert row == pytest.approx(expected_row, rel=1e-12)


def test_hessian_rejects_a_non_value_result() -> None:
    """hessian of a function returning a float raises TypeError."""
    with pytest.raises(TypeError, match="must return a scalar Value"):
        hessian(lambda x: 2.0)(1.0)


def test_hessian_of_a_value_inside_no_grad_is_differentiable() -> None:
    """hessian(x^4)(v) under no_grad is [[12 v^2]] = [[48]] at v = 2, and d/dv of it is 24v = 48."""
    x = Value(2.0)
    with no_grad():
        ((entry,),) = hessian(lambda v: v**4)(x)
    assert entry.data == 48.0
    assert gradients(entry, [x]) == (48.0,)


def test_hessian_of_values_inside_no_grad_is_differentiable_in_every_entry() -> None:
    """f = p^3 q^2 at Values (1, 2) under no_grad: H = [[6pq^2, 6p^2 q], [6p^2 q, 2p^3]].

    That is [[24, 12], [12, 2]]; the entries' gradients with respect to (p, q) are
    (6q^2, 12pq) = (24, 24), (12pq, 6p^2) = (24, 6) twice, and (6p^2, 0) = (6, 0).
    """
    p, q = Value(1.0), Value(2.0)
    with no_grad():
        h = hessian(lambda a, b: a**3 * b**2)(p, q)
    assert [[e.data for e in row] for row in h] == [[24.0, 12.0], [12.0, 2.0]]
    assert [[gradients(e, [p, q]) for e in row] for row in h] == [
        [(24.0, 24.0), (24.0, 6.0)],
        [(24.0, 6.0), (6.0, 0.0)],
    ]


def test_gradient_of_a_hessian_entry_inside_grad() -> None:
    """Inside grad, hessian returns Values: d/dx of d2/dx2 x^4 = 24x, 48 at x = 2."""
    assert grad(lambda x: hessian(lambda v: v**4)(x)[0][0])(2.0) == 48.0


# -- against PyTorch ----------------------------------------------------------------------------

# Each case: a name, the function (written once: Values and torch tensors share the methods)
# and the point.
_CASES: list[tuple[str, Callable[[Any, Any], Any], tuple[float, float]]] = [
    ("mul_pow", lambda x, y: x**3 * y**2, (1.3, -0.7)),
    ("pow_value", lambda x, y: x**y, (1.7, 0.6)),
    ("exp_log", lambda x, y: (x * y).exp() + (x + 2.0).log() * y, (0.4, 1.1)),
    ("sigmoid", lambda x, y: (x * y).sigmoid() * x, (0.9, -1.2)),
    ("tanh_div", lambda x, y: (x - y).tanh() / (y * y + 1.0), (0.3, 0.5)),
    ("relu_sqrt", lambda x, y: (x * y).relu() * (x * x + y).sqrt(), (1.2, 0.8)),
]


@pytest.mark.parametrize(("name", "function", "point"), _CASES, ids=[c[0] for c in _CASES])
def test_second_and_third_derivatives_match_pytorch(
    name: str, function: Callable[[Any, Any], Any], point: tuple[float, float]
) -> None:
    """The Hessian and d3f/dx3, d3f/dx2dy equal torch.autograd's in float64 (rel 1e-10)."""
    torch = pytest.importorskip("torch")

    tx = torch.tensor(point[0], dtype=torch.float64, requires_grad=True)
    ty = torch.tensor(point[1], dtype=torch.float64, requires_grad=True)
    out = function(tx, ty)  # tensors have the same methods
    gx, gy = torch.autograd.grad(out, (tx, ty), create_graph=True)
    hxx, hxy = torch.autograd.grad(gx, (tx, ty), create_graph=True)
    _, hyy = torch.autograd.grad(gy, (tx, ty), create_graph=True)
    txxx, txxy = torch.autograd.grad(hxx, (tx, ty))

    ours = hessian(function)(*point)
    expected = [[hxx.item(), hxy.item()], [hxy.item(), hyy.item()]]
    for row, expected_row in zip(ours, expected, strict=True):
        assert row == pytest.approx(expected_row, rel=1e-10, abs=1e-12)
    third_x = grad(grad(grad(function)))(*point)
    third_xxy = grad(grad(grad(function), argnums=0), argnums=1)(*point)
    assert third_x == pytest.approx(txxx.item(), rel=1e-10, abs=1e-12)
    assert third_xxy == pytest.approx(txxy.item(), rel=1e-10, abs=1e-12)
