"""define_op: user primitives go through the engine like built-in rows, and are validated."""

from __future__ import annotations

import math
from typing import Any

import pytest

from autodiff import (
    OPS,
    CustomOp,
    Value,
    define_op,
    explain,
    grad,
    gradcheck,
    gradgradcheck,
    no_grad,
)
from autodiff.ops import exp


def _cube() -> CustomOp:
    return define_op("cube", lambda x: x**3, lambda out, x: (3 * x**2,), formula="3 x^2")


def test_custom_unary_op_value_and_gradient() -> None:
    """cube(2) = 8 and d cube/dx = 3x^2 = 12, accumulated into the leaf by the engine."""
    cube = _cube()
    x = Value(2.0, label="x")
    y = cube(x)
    y.backward()
    assert y.data == 8.0
    assert x.grad == 12.0


def test_custom_node_carries_the_op_name_and_parents() -> None:
    """The node's op is the custom name and its parents are the inputs, in order."""
    x = Value(2.0)
    y = _cube()(x)
    assert y.op == "cube"
    assert y.parents == (x,)
    assert y.constant is None


def test_custom_op_is_not_added_to_the_built_in_table() -> None:
    """Defining an op leaves OPS as it was."""
    before = dict(OPS)
    _cube()
    assert dict(OPS) == before


def test_custom_op_accepts_plain_numbers() -> None:
    """A number operand becomes a constant leaf: cube(3) = 27."""
    y = _cube()(3)
    assert y.data == 27.0
    assert y.parents[0].is_constant


def test_custom_op_accumulates_with_reuse_and_upstream_gradient() -> None:
    """For y = cube(x) * x = x^4 with seed 0.5 at x = 1.5: 0.5 * 4x^3 = 6.75."""
    cube = _cube()
    x = Value(1.5)
    (cube(x) * x).backward(0.5)
    assert x.grad == pytest.approx(6.75, rel=1e-15)


def test_custom_op_higher_order_when_partials_use_value_arithmetic() -> None:
    """Written with arithmetic, cube's partials give d2/dx2 = 6x = 12 and d3/dx3 = 6."""
    cube = _cube()
    assert grad(grad(lambda x: cube(x)))(2.0) == 12.0
    assert grad(grad(grad(lambda x: cube(x))))(2.0) == 6.0


def test_custom_softplus_passes_first_and_second_order_checks() -> None:
    """softplus = log(1 + e^x) with partial 1 / (1 + exp(-x)) passes first and second order."""
    softplus = define_op(
        "softplus", lambda x: math.log1p(math.exp(x)), lambda out, x: (1 / (1 + exp(-x)),)
    )
    assert gradcheck(lambda x: softplus(x), 0.7) is True
    assert gradgradcheck(lambda x: softplus(x), 0.7) is True
    # d2 softplus / dx2 = sigmoid(x)(1 - sigmoid(x)), 1/4 at 0
    assert grad(grad(lambda x: softplus(x)))(0.0) == pytest.approx(0.25, rel=1e-15)


def test_custom_binary_op() -> None:
    """hypot(3, 4) = 5 with partials (x/out, y/out) = (0.6, 0.8)."""
    hypot = define_op("hypot", math.hypot, lambda out, x, y: (x / out, y / out), arity=2)
    x, y = Value(3.0), Value(4.0)
    h = hypot(x, y)
    h.backward()
    assert (h.data, x.grad, y.grad) == (5.0, 0.6, 0.8)
    assert gradgradcheck(lambda a, b: hypot(a, b), 3.0, 4.0) is True


def test_custom_ternary_op_with_inferred_arity() -> None:
    """fma(x, y, z) = xy + z at (2, 3, 4) is 10 with gradient (y, x, 1) = (3, 2, 1)."""
    fma = define_op("fma", lambda x, y, z: x * y + z, lambda out, x, y, z: (y, x, 1.0))
    xs = [Value(2.0), Value(3.0), Value(4.0)]
    out = fma(*xs)
    out.backward()
    assert out.data == 10.0
    assert [v.grad for v in xs] == [3.0, 2.0, 1.0]
    assert out.parents == tuple(xs)
    assert gradcheck(lambda a, b, c: fma(a, b, c) * a, 0.5, -1.5, 2.0) is True


def test_custom_op_with_var_args_needs_an_explicit_arity() -> None:
    """A forward taking *xs cannot tell its arity; with arity=3 it sums three inputs."""

    def total(*xs: float) -> float:
        return sum(xs)

    def ones(out: Any, *xs: Any) -> tuple[float, ...]:
        return tuple(1.0 for _ in xs)

    with pytest.raises(TypeError, match="pass arity"):
        define_op("total", total, ones)
    total3 = define_op("total3", total, ones, arity=3)
    assert total3(1, 2, 3.5).data == 6.5


def test_custom_op_shows_in_explanations() -> None:
    """explain shows a custom node's local derivative, d cube/dx = 3x^2 = 12, named like a node."""
    x = Value(2.0, label="x")
    assert str(explain(_cube()(x), x)) == "dn1/dx = 12"


def test_custom_op_shows_in_drawings() -> None:
    """The text drawing writes the custom op's name where a built-in op's symbol would go."""
    viz = pytest.importorskip("autodiff.viz")
    x = Value(2.0, label="x")
    assert "cube(x)" in viz.to_text(_cube()(x))


def test_custom_op_under_no_grad_makes_a_leaf() -> None:
    """Under no_grad the result is a plain leaf holding the forward value."""
    with no_grad():
        y = _cube()(Value(2.0))
    assert y.op is None
    assert y.data == 8.0


def test_custom_op_repr_and_name() -> None:
    """The callable reports its name and arity."""
    cube = _cube()
    assert cube.name == "cube"
    assert repr(cube) == "CustomOp('cube', arity=1)"
    assert cube.op.formula == "3 x^2"
    assert cube.op.symbol == "cube"


@pytest.mark.parametrize("name", ["", "   ", None, 3])
def test_define_op_rejects_a_bad_name(name: Any) -> None:
    """The name must be a non-empty str."""
    with pytest.raises(ValueError, match="non-empty str"):
        define_op(name, lambda x: x, lambda out, x: (1.0,))


@pytest.mark.parametrize("name", sorted(OPS))
def test_define_op_rejects_a_built_in_name(name: str) -> None:
    """A custom op may not take the name of a built-in row."""
    with pytest.raises(ValueError, match="is a built-in op"):
        define_op(name, lambda x: x, lambda out, x: (1.0,))


def test_define_op_rejects_non_callables() -> None:
    """forward and partials must be callable; the error names the op."""
    with pytest.raises(TypeError, match="twice: forward must be callable"):
        define_op("twice", 2.0, lambda out, x: (2.0,))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="twice: partials must be callable"):
        define_op("twice", lambda x: 2 * x, (2.0,))  # type: ignore[arg-type]


def test_define_op_rejects_partials_with_the_wrong_signature() -> None:
    """partials must take (out, x) for a unary op; one taking only x is refused at definition."""
    with pytest.raises(TypeError, match="partials must take 2 positional arguments"):
        define_op("twice", lambda x: 2 * x, lambda x: (2.0,))


def test_define_op_rejects_forward_disagreeing_with_arity() -> None:
    """A one-input forward declared with arity=2 is refused."""
    with pytest.raises(TypeError, match="forward must take 2"):
        define_op("twice", lambda x: 2 * x, lambda out, x, y: (2.0, 0.0), arity=2)


def test_wrong_number_of_derivatives_fails_at_the_first_call() -> None:
    """Two derivatives for one input is a TypeError naming the op, raised at first use."""
    bad = define_op("bad_twice", lambda x: 2 * x, lambda out, x: (2.0, 0.0))
    with pytest.raises(TypeError, match=r"bad_twice: partials returned 2 local derivative\(s\)"):
        bad(Value(1.0))


def test_wrong_number_of_derivatives_also_fails_in_backward() -> None:
    """If the first-call check hit a domain error (1/x at 0), backward still names the op."""
    bad = define_op("bad_inverse", lambda x: x, lambda out, x: (1.0 / x, 0.0))
    bad(Value(0.0))  # the check divides by zero here and gives up, by design
    y = bad(Value(2.0))
    with pytest.raises(TypeError, match="bad_inverse: partials returned 2"):
        y.backward()


def test_bare_number_from_unary_partials_is_refused() -> None:
    """A unary partials returning 2.0 instead of (2.0,) gets a TypeError with the fix."""
    bad = define_op("bare", lambda x: 2 * x, lambda out, x: 2.0)
    with pytest.raises(TypeError, match=r"write a 1-tuple"):
        bad(Value(1.0))


def test_forward_returning_a_non_number_is_refused() -> None:
    """forward must return a number; a str is a TypeError naming the op."""
    bad = define_op("stringy", lambda x: "2", lambda out, x: (0.0,))
    with pytest.raises(TypeError, match="stringy: forward"):
        bad(Value(1.0))


def test_forward_domain_error_keeps_its_type_and_names_the_op() -> None:
    """A ValueError from forward propagates as ValueError prefixed by the op's name."""
    root = define_op("my_sqrt", math.sqrt, lambda out, x: (0.5 / out,))
    with pytest.raises(ValueError, match="my_sqrt"):
        root(Value(-1.0))
