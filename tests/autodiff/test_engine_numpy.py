"""numpy interop: ufuncs on Values, object arrays of Values, numpy scalars, and tutorial 000.

The engine imports no numpy; numpy's ufuncs on object data call the method of the same name
(``numpy.exp(v)`` calls ``v.exp()``) and object arrays use the operators. Expected gradients are
the textbook derivatives evaluated with ``math``.
"""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy
import pytest

import autodiff.engine
import autodiff.ops
from autodiff import Value


@pytest.mark.parametrize(
    ("ufunc", "x", "data", "grad"),
    [
        (numpy.exp, 0.7, math.exp(0.7), math.exp(0.7)),  # d e^x = e^x
        (lambda v: numpy.power(v, 2), -1.5, 2.25, -3.0),  # d x^2 = 2x
        (lambda v: numpy.power(v, 3.0), 2.0, 8.0, 12.0),  # d x^3 = 3x^2
        (numpy.tanh, 0.4, math.tanh(0.4), 1.0 - math.tanh(0.4) ** 2),  # d tanh = 1 - tanh^2
        (numpy.log, 2.5, math.log(2.5), 0.4),  # d log x = 1/x
        (numpy.sqrt, 4.0, 2.0, 0.25),  # d sqrt x = 1 / (2 sqrt x)
        (numpy.negative, 3.0, -3.0, -1.0),
        (numpy.abs, -3.0, 3.0, -1.0),  # d |x| = sign(x)
        (numpy.sin, 0.6, math.sin(0.6), math.cos(0.6)),  # d sin = cos
        (numpy.cos, 0.6, math.cos(0.6), -math.sin(0.6)),  # d cos = -sin
    ],
)
def test_ufuncs_return_differentiable_values(
    ufunc: object, x: float, data: float, grad: float
) -> None:
    """numpy's exp/power/tanh/log/sqrt/negative/abs/sin/cos on a Value give a Value, its grad."""
    v = Value(x)
    out = ufunc(v)  # type: ignore[operator]
    assert isinstance(out, Value)
    out.backward()
    assert out.data == pytest.approx(data, rel=1e-15)
    assert v.grad == pytest.approx(grad, rel=1e-15)


def test_power_with_a_value_exponent() -> None:
    """numpy.power(x, y) with both Values is x**y: d/dy = x^y log x at x = 2, y = 3."""
    x, y = Value(2.0), Value(3.0)
    out = numpy.power(x, y)
    assert isinstance(out, Value)
    assert out.op.name == "pow_value"
    out.backward()
    assert (x.grad, y.grad) == (12.0, pytest.approx(8.0 * math.log(2.0), rel=1e-15))


def weights(*numbers: float) -> numpy.ndarray:
    """An object array of fresh leaves."""
    return numpy.array([Value(n) for n in numbers], dtype=object)


@pytest.mark.parametrize(
    "combine",
    [lambda w, x: w @ x, numpy.dot, lambda w, x: (w * x).sum(), lambda w, x: numpy.sum(w * x)],
    ids=["matmul", "dot", "mul-sum", "numpy.sum"],
)
def test_object_array_dot_product(combine: object) -> None:
    """w . x over an object array is a Value equal to sum w_i x_i, and d/dw_i = x_i."""
    w = weights(0.5, -1.0, 2.0)
    x = numpy.array([3.0, 4.0, -0.5])
    out = combine(w, x)  # type: ignore[operator]
    assert isinstance(out, Value)
    out.backward()
    assert out.data == 0.5 * 3.0 - 4.0 - 1.0
    assert [v.grad for v in w] == [3.0, 4.0, -0.5]


def test_object_matrix_times_vector() -> None:
    """(W @ x).sum() for a 2x3 object matrix: d/dW_ij = x_j, whatever the row."""
    matrix = numpy.array([[Value(float(i + j)) for j in range(3)] for i in range(2)], dtype=object)
    x = numpy.array([1.0, -2.0, 0.5])
    hidden = matrix @ x
    assert hidden.shape == (2,)
    assert [h.data for h in hidden] == [0.0 - 2.0 + 1.0, 1.0 - 4.0 + 1.5]
    total = hidden.sum()
    total.backward()
    assert [[v.grad for v in row] for row in matrix] == [[1.0, -2.0, 0.5]] * 2


def test_array_of_values_with_array_of_values() -> None:
    """a @ b with Values on both sides: d/da_i = b_i and d/db_i = a_i."""
    a, b = weights(1.0, 2.0), weights(3.0, 4.0)
    out = a @ b
    out.backward()
    assert out.data == 11.0
    assert [v.grad for v in a] == [3.0, 4.0]
    assert [v.grad for v in b] == [1.0, 2.0]


def test_ufunc_over_an_object_array() -> None:
    """numpy.tanh over an object array maps each Value to its tanh node."""
    w = weights(0.1, -0.2)
    total = numpy.tanh(w).sum()
    total.backward()
    for v, x in zip(w, (0.1, -0.2), strict=True):
        assert v.grad == pytest.approx(1.0 - math.tanh(x) ** 2, rel=1e-15)


@pytest.mark.parametrize(
    ("scalar", "expected"),
    [
        (numpy.float32(1.5), 1.5),
        (numpy.float64(-0.25), -0.25),
        (numpy.int64(7), 7.0),
        (numpy.int32(-3), -3.0),
        (numpy.bool_(True), 1.0),
        (numpy.bool_(False), 0.0),
        (numpy.float16(0.5), 0.5),
    ],
)
def test_numpy_scalars_as_data(scalar: object, expected: float) -> None:
    """A numpy scalar becomes a plain Python float in Value.data."""
    v = Value(scalar)
    assert type(v.data) is float
    assert v.data == expected


@pytest.mark.parametrize(
    ("build", "data", "grad"),
    [
        (lambda v: v * numpy.float32(0.5), 1.5, 0.5),
        (lambda v: numpy.float64(2.0) * v, 6.0, 2.0),
        (lambda v: v + numpy.int64(3), 6.0, 1.0),
        (lambda v: numpy.int64(5) - v, 2.0, -1.0),
        (lambda v: v + numpy.bool_(True), 4.0, 1.0),
        (lambda v: v ** numpy.int64(2), 9.0, 6.0),
        (lambda v: numpy.float64(2.0) ** v, 8.0, 8.0 * math.log(2.0)),
        (lambda v: numpy.float64(6.0) / v, 2.0, -6.0 / 9.0),
        (lambda v: v / numpy.float32(4.0), 0.75, 0.25),
    ],
)
def test_numpy_scalars_as_operands(build: object, data: float, grad: float) -> None:
    """A numpy scalar on either side of an operator is a constant: the result is a Value at x=3."""
    x = Value(3.0)
    out = build(x)  # type: ignore[operator]
    assert isinstance(out, Value)
    out.backward()
    assert type(out.data) is float
    assert out.data == pytest.approx(data, rel=1e-15)
    assert x.grad == pytest.approx(grad, rel=1e-15)


@pytest.mark.parametrize(
    ("build", "operands"),
    [
        (lambda v: v * numpy.float32(0.5), lambda v: (v, 0.5)),
        (lambda v: numpy.float64(2.0) * v, lambda v: (2.0, v)),
        (lambda v: v + numpy.int64(3), lambda v: (v, 3.0)),
        (lambda v: v - numpy.float64(2.0), lambda v: (v, 2.0)),
        (lambda v: v / numpy.float32(4.0), lambda v: (v, 4.0)),
        (lambda v: v ** numpy.int64(3), lambda v: (v, 3.0)),
    ],
)
def test_numpy_scalars_become_python_float_operands(build: object, operands: object) -> None:
    """A numpy scalar operand is stored as a Python float, in its place."""
    x = Value(3.0)
    out = build(x)  # type: ignore[operator]
    assert out.operands == operands(x)  # type: ignore[operator]
    assert all(type(o) is float for o in out.operands if o is not x)


def test_division_by_a_float32_is_computed_in_float64() -> None:
    """Value(1) / float32(1.5) is 1/1.5 in double precision, not float32's 0.6666667."""
    out = Value(1.0) / numpy.float32(1.5)
    assert out.data == 1.0 / 1.5
    assert type(out.data) is float


def test_division_by_a_numpy_int_works() -> None:
    """Value(7) / int64(2) is 3.5 with gradient 1/2 (it used to crash on an int power)."""
    x = Value(7.0)
    out = x / numpy.int64(2)
    out.backward()
    assert (out.data, x.grad) == (3.5, 0.5)


def test_numpy_mean_of_values() -> None:
    """numpy.mean and .mean() of an object array of Values give a Value with gradient 1/n."""
    w = weights(1.0, 2.0, 6.0)
    for mean in (numpy.mean(w), w.mean()):
        assert isinstance(mean, Value)
        assert mean.data == 3.0
    numpy.mean(w).backward()
    assert [v.grad for v in w] == [1.0 / 3.0] * 3


@pytest.mark.parametrize("value_first", [True, False])
def test_a_0d_array_is_a_number_either_way_round(value_first: bool) -> None:
    """Value * numpy.array(2.0) and numpy.array(2.0) * Value are both the Value 2x."""
    x = Value(3.0)
    out = x * numpy.array(2.0) if value_first else numpy.array(2.0) * x
    assert isinstance(out, Value)
    out.backward()
    assert (out.data, x.grad) == (6.0, 2.0)


def test_numpy_bool_is_a_number_in_subtraction() -> None:
    """Value(1) - numpy.True_ is 1 - 1 = 0, as 1.0 - True is in Python."""
    assert (Value(1.0) - numpy.True_).data == 0.0


@pytest.mark.parametrize("value_first", [True, False])
def test_value_times_array_broadcasts_elementwise(value_first: bool) -> None:
    """v * [1, 3] (or [1, 3] * v) is an object array of Values, and each backpropagates to v."""
    v = Value(2.0)
    array = numpy.array([1.0, 3.0])
    product = v * array if value_first else array * v
    assert product.shape == (2,)
    assert [p.data for p in product] == [2.0, 6.0]
    # d/dv of (v*1 + v*3) is 1 + 3 = 4.
    product.sum().backward()
    assert v.grad == 4.0


def test_value_minus_array_broadcasts() -> None:
    """v - [1, 2] gives [v - 1, v - 2] with a gradient of 1 per element."""
    v = Value(5.0)
    difference = v - numpy.array([1, 2])
    assert [d.data for d in difference] == [4.0, 3.0]
    difference.sum().backward()
    assert v.grad == 2.0


def test_value_to_an_array_of_powers_broadcasts() -> None:
    """v ** [1, 3] is [v, v³] (each a pow node); d/dv of v + v³ at 2 is 1 + 3·2² = 13."""
    v = Value(2.0)
    powers = v ** numpy.array([1.0, 3.0])
    assert [p.data for p in powers] == [2.0, 8.0]
    assert [p.op.name for p in powers] == ["pow", "pow"]
    powers.sum().backward()
    assert v.grad == 13.0


@pytest.mark.parametrize("value_first", [True, False])
def test_value_over_array_broadcasts_as_times_does(value_first: bool) -> None:
    """v / [1, 4] and [1, 4] / v are arrays of Values, as v * [1, 4] is."""
    v = Value(2.0)
    array = numpy.array([1.0, 4.0])
    quotient = v / array if value_first else array / v
    assert quotient.shape == (2,)
    expected = [2.0, 0.5] if value_first else [0.5, 2.0]
    assert [q.data for q in quotient] == expected
    quotient.sum().backward()
    # d/dv (v/1 + v/4) = 1.25; d/dv (1/v + 4/v) = -5 / v^2 = -1.25.
    assert v.grad == (1.25 if value_first else -1.25)


# Tutorial 000# Tutorial 000's helpers, copied verbatim from ../shared/seeds/000_*.txt.
def sigmoid(sop):  # type: ignore[no-untyped-def]
    return 1.0 / (1 + numpy.exp(-1 * sop))


def error(predicted, target):  # type: ignore[no-untyped-def]
    return numpy.power(predicted - target, 2)


@pytest.mark.parametrize("w", [0.37, 0.9, -1.4])
def test_tutorial_000_helpers_run_on_values(w: float) -> None:
    """The tutorial's sigmoid and error differentiate to 2(p - t) p (1 - p) x on Values."""
    x, target = 0.1, 0.3
    weight = Value(w, label="w")
    predicted = sigmoid(weight * x)
    err = error(predicted, target)
    assert isinstance(predicted, Value)
    assert isinstance(err, Value)
    err.backward()
    p = 1.0 / (1.0 + math.exp(-w * x))
    assert predicted.data == pytest.approx(p, rel=1e-15)
    assert err.data == pytest.approx((p - target) ** 2, rel=1e-14)
    assert weight.grad == pytest.approx(2.0 * (p - target) * p * (1.0 - p) * x, rel=1e-13)


def test_tutorial_000_slip_differs_from_the_true_gradient() -> None:
    """The tutorial's g2 = σ'(predicted) is not σ'(sop); the engine's gradient is the true one."""
    w, x, target = 0.37, 0.1, 0.3
    weight = Value(w)
    err = error(sigmoid(weight * x), target)
    err.backward()
    p = 1.0 / (1.0 + math.exp(-w * x))
    slip = 2.0 * (p - target) * (sigmoid(p) * (1.0 - sigmoid(p))) * x
    assert weight.grad != pytest.approx(slip, rel=1e-3)


@pytest.mark.parametrize("module", [autodiff.engine, autodiff.ops])
def test_engine_imports_neither_numpy_nor_graphviz(module: object) -> None:
    """engine.py and ops.py have no import of numpy or graphviz (interop is duck-typed)."""
    source = Path(module.__file__).read_text(encoding="utf-8")  # type: ignore[attr-defined]
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & {"numpy", "graphviz"}
