"""Layer 1: hand-derived values, and tutorial 001's printed numbers to their 8 printed digits.

Expected numbers come from the tutorial's own printout (../shared/seeds/001_*.txt) or from a
derivation written in the test's docstring and evaluated with the ``math`` module, never from the
engine's own output.
"""

from __future__ import annotations

import math

import pytest

from autodiff import Value, partials

# numpy prints 8 decimals, so a printed number is within half a unit of its 8th decimal.
PRINTED = 5e-9 + 1e-15


def printed(value: float, text: float) -> bool:
    """Whether ``value`` prints as ``text`` at numpy's default 8 decimals."""
    return abs(value - text) <= PRINTED


def tutorial_001() -> dict[str, Value]:
    """Tutorial 001's network, with the same names: z = W1 x + b1, a = σ(z), y = W2 a + b2."""
    x = Value(1.0, label="x")
    t = Value(0.0, label="t")
    w1 = Value(0.5, label="W1")
    b1 = Value(0.0, label="b1")
    w2 = Value(-1.0, label="W2")
    b2 = Value(0.0, label="b2")
    z = w1 * x + b1
    a = z.sigmoid()
    y = w2 * a + b2
    loss = 0.5 * (y - t) ** 2
    loss.backward()
    return {
        "x": x,
        "t": t,
        "W1": w1,
        "b1": b1,
        "W2": w2,
        "b2": b2,
        "z": z,
        "a": a,
        "y": y,
        "L": loss,
    }


def test_tutorial_001_forward_pass() -> None:
    """The forward pass prints z = 0.5, a = 0.62245933, y = -0.62245933, L = 0.19372781."""
    n = tutorial_001()
    assert n["z"].data == 0.5
    assert printed(n["a"].data, 0.62245933)
    assert printed(n["y"].data, -0.62245933)
    assert printed(n["L"].data, 0.19372781)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("y", -0.62245933),  # dL_dy, an interior node
        ("W2", -0.38745562),
        ("b2", -0.62245933),
        ("a", 0.62245933),  # dL_da, an interior node
        ("W1", 0.14628025),
        ("b1", 0.14628025),
    ],
)
def test_tutorial_001_backward_pass(name: str, expected: float) -> None:
    """Each gradient of tutorial 001's backward pass matches its printed 8 digits."""
    assert printed(tutorial_001()[name].grad, expected)


@pytest.mark.parametrize(
    ("name", "expected"),
    [("W2", -0.99612544), ("b2", 0.00622459), ("W1", 0.4985372), ("b1", -0.0014628)],
)
def test_tutorial_001_update(name: str, expected: float) -> None:
    """One gradient-descent step with eta = 0.01 gives the tutorial's printed parameters."""
    parameter = tutorial_001()[name]
    assert printed(parameter.data - 0.01 * parameter.grad, expected)


@pytest.mark.parametrize(
    ("name", "torch_float32"),
    [
        ("L", 0.19372782111167908),
        ("W2", -0.38745564222335815),
        ("b2", -0.622459352016449),
        ("W1", 0.14628025889396667),
        ("b1", 0.14628025889396667),
    ],
)
def test_tutorial_001_matches_its_pytorch_printout(name: str, torch_float32: float) -> None:
    """The tutorial's PyTorch (float32) numbers agree with ours to float32 precision."""
    node = tutorial_001()[name]
    ours = node.data if name == "L" else node.grad
    assert ours == pytest.approx(torch_float32, rel=3e-7)


def test_tutorial_001_leaves_it_did_not_differentiate() -> None:
    """The input and target get gradients too: dL/dx = dL/dz * W1 and dL/dt = -(y - t)."""
    n = tutorial_001()
    s = 1.0 / (1.0 + math.exp(-0.5))
    dl_dy = -s  # y - t with y = -s, t = 0
    assert n["x"].grad == pytest.approx(dl_dy * -1.0 * s * (1.0 - s) * 0.5, rel=1e-14)
    assert n["t"].grad == pytest.approx(s, rel=1e-14)


def test_polynomial_in_two_variables() -> None:
    """f = x*y + x at x=3, y=-2: f = -3, df/dx = y + 1 = -1, df/dy = x = 3."""
    x, y = Value(3.0), Value(-2.0)
    f = x * y + x
    f.backward()
    assert (f.data, x.grad, y.grad) == (-3.0, -1.0, 3.0)


def test_division_quotient_rule() -> None:
    """f = a/b at a=6, b=3: f = 2, df/da = 1/b = 1/3, df/db = -a/b^2 = -2/3."""
    a, b = Value(6.0), Value(3.0)
    f = a / b
    f.backward()
    assert f.data == pytest.approx(2.0, rel=1e-15)
    assert a.grad == pytest.approx(1.0 / 3.0, rel=1e-15)
    assert b.grad == pytest.approx(-2.0 / 3.0, rel=1e-15)


def test_tanh_neuron() -> None:
    """f = tanh(w*x + b) at w=0.5, x=2, b=0: df/dw = (1 - tanh(1)^2) * x, df/db = 1 - tanh(1)^2."""
    w, x, b = Value(0.5), Value(2.0), Value(0.0)
    f = (w * x + b).tanh()
    f.backward()
    slope = 1.0 - math.tanh(1.0) ** 2
    assert f.data == pytest.approx(math.tanh(1.0), rel=1e-15)
    assert w.grad == pytest.approx(slope * 2.0, rel=1e-15)
    assert b.grad == pytest.approx(slope, rel=1e-15)
    assert x.grad == pytest.approx(slope * 0.5, rel=1e-15)


def test_log_over_x_is_flat_at_e() -> None:
    """f = log(x)/x has f'(x) = (1 - log x)/x^2, which is 0 at x = e; f(e) = 1/e."""
    x = Value(math.e)
    f = x.log() / x
    f.backward()
    assert f.data == pytest.approx(1.0 / math.e, rel=1e-15)
    assert x.grad == pytest.approx(0.0, abs=1e-16)


def test_sigmoid_at_zero() -> None:
    """σ(0) = 1/2 and σ'(0) = σ(0)(1 - σ(0)) = 1/4, both exact in binary."""
    x = Value(0.0)
    f = x.sigmoid()
    f.backward()
    assert (f.data, x.grad) == (0.5, 0.25)


def test_exp_of_log_is_identity() -> None:
    """f = exp(log(x)) = x, so df/dx = exp(log x) * (1/x) = 1 at x = 2.5."""
    x = Value(2.5)
    f = x.log().exp()
    f.backward()
    assert f.data == pytest.approx(2.5, rel=1e-15)
    assert x.grad == pytest.approx(1.0, rel=1e-15)


@pytest.mark.parametrize(
    ("build", "data", "grad"),
    [
        (lambda v: 2 * v, 8.0, 2.0),  # d(2x)/dx = 2
        (lambda v: 1 - v, -3.0, -1.0),  # d(1 - x)/dx = -1
        (lambda v: 10 / v, 2.5, -10.0 / 16.0),  # d(10/x)/dx = -10/x^2
        (lambda v: 5 + v, 9.0, 1.0),  # d(5 + x)/dx = 1
        (lambda v: 2**v, 16.0, 16.0 * math.log(2.0)),  # d(2^x)/dx = 2^x log 2
        (lambda v: v**3, 64.0, 48.0),  # d(x^3)/dx = 3x^2
        (lambda v: v ** Value(0.5), 2.0, 0.25),  # d(x^y)/dx = y x^(y-1) = 0.5/2
        (lambda v: -v, -4.0, -1.0),  # d(-x)/dx = -1
        (lambda v: v - 1, 3.0, 1.0),  # d(x - 1)/dx = 1
        (lambda v: v.sqrt(), 2.0, 0.25),  # d sqrt(x)/dx = 1/(2 sqrt x)
        (lambda v: +v * v, 16.0, 8.0),  # unary + is the node itself: d(x*x)/dx = 2x
    ],
)
def test_reflected_and_composite_forms_at_four(build: object, data: float, grad: float) -> None:
    """Each operator form at x = 4 gives the hand-derived value and derivative."""
    x = Value(4.0)
    f = build(x)  # type: ignore[operator]
    f.backward()
    assert f.data == pytest.approx(data, rel=1e-15)
    assert x.grad == pytest.approx(grad, rel=1e-15)


def test_exponent_gradient_of_pow_value() -> None:
    """f = x^y at x=2, y=3: df/dx = y x^(y-1) = 12, df/dy = x^y log x = 8 log 2."""
    x, y = Value(2.0), Value(3.0)
    f = x**y
    f.backward()
    assert f.data == 8.0
    assert x.grad == pytest.approx(12.0, rel=1e-15)
    assert y.grad == pytest.approx(8.0 * math.log(2.0), rel=1e-15)


def test_partials_are_the_local_derivatives() -> None:
    """partials(a*b) = (b, a) and partials(x**3) = (3x^2,): the numbers on each edge."""
    a, b = Value(3.0), Value(-2.0)
    assert partials(a * b) == (-2.0, 3.0)
    assert partials(a**3) == (27.0,)
    assert partials(a / 4) == (0.25,)
    assert partials(a) == ()


def test_a_number_base_gets_no_gradient() -> None:
    """In f = 2**x at x = 3 the base 2 is a plain number, not a node: only x has a gradient."""
    x = Value(3.0)
    f = 2**x
    f.backward()
    assert f.operands == (2.0, x)
    assert f.parents == (x,)
    assert x.grad == pytest.approx(8.0 * math.log(2.0), rel=1e-15)  # 2^x log 2


def test_a_number_in_a_product_is_an_operand() -> None:
    """In f = 2*x at x = 5 the 2 is an operand, not a leaf: df/dx = 2, parents (x,)."""
    x = Value(5.0)
    f = 2 * x
    f.backward()
    assert (f.op.name, f.operands, f.parents, f.data) == ("mul", (2.0, x), (x,), 10.0)
    assert x.grad == 2.0


def test_numbers_in_sums_and_products_with_a_non_unit_seed() -> None:
    """f = 3 - 2x/4 + x at x = 1.5 with seed 2.5: f = 3.75 and df/dx = 2.5 (1 - 1/2) = 1.25."""
    x = Value(1.5)
    f = 3 - 2 * x / 4 + x
    f.backward(2.5)
    assert f.data == 3.75
    assert x.grad == 1.25
