"""define_op and apply: user primitives go through the engine like built-in rows, and are validated.

``autodiff.engine.apply`` is the general path behind ``define_op``: it applies any op-table row,
built in or custom, to Values and plain numbers, which become float operands in their place.
"""

from __future__ import annotations

import copy
import math
import pickle
from typing import Any

import pytest

from autodiff import (
    OPS,
    CustomOp,
    Value,
    chain_rule_steps,
    define_op,
    explain,
    grad,
    gradcheck,
    gradgradcheck,
    gradients,
    no_grad,
)
from autodiff.engine import apply, backward
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


def test_custom_node_carries_the_op_row_and_parents() -> None:
    """The node's op is the custom row, named after the op, and its operands are the inputs."""
    cube = _cube()
    x = Value(2.0)
    y = cube(x)
    assert y.op is cube.op
    assert y.op.name == "cube"
    assert y.operands == (x,)
    assert y.parents == (x,)


def test_custom_op_is_not_added_to_the_built_in_table() -> None:
    """Defining an op leaves OPS as it was."""
    before = dict(OPS)
    _cube()
    assert dict(OPS) == before


def test_custom_op_accepts_plain_numbers() -> None:
    """cube(3) = 27 is a cube node whose operand is the float 3.0: no leaf is made for the 3."""
    cube = _cube()
    y = cube(3)
    assert (y.data, y.op) == (27.0, cube.op)
    assert y.operands == (3.0,)
    assert type(y.operands[0]) is float
    assert y.parents == ()
    y.backward()  # nothing to send the gradient to, and nothing fails
    assert y.grad == 1.0


def test_custom_binary_op_with_a_number_operand_differentiates_twice() -> None:
    """hypot(a, 4) at 3: d/da = a/out = 0.6, d2/da2 = 4^2/out^3 = 16/125; hypot(3, b) at 4: 0.8."""
    hypot = define_op("hypot_n", math.hypot, lambda out, x, y: (x / out, y / out), arity=2)
    a = Value(3.0)
    h = hypot(a, 4)
    assert (h.data, h.operands, h.parents) == (5.0, (a, 4.0), (a,))
    assert grad(lambda x: hypot(x, 4.0))(3.0) == 0.6
    assert grad(grad(lambda x: hypot(x, 4.0)))(3.0) == pytest.approx(16 / 125, rel=1e-15)
    assert grad(lambda y: hypot(3.0, y))(4.0) == 0.8


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


def _fma() -> CustomOp:
    return define_op("fma_with_number", lambda x, y, z: x * y + z, lambda out, x, y, z: (y, x, 1.0))


def test_custom_ternary_op_with_a_number_among_its_operands() -> None:
    """fma(x, 3, z) = 3x + z at (2, ., 4) is 10: operands (x, 3.0, z), gradient (3, 1) to (x, z)."""
    fma = _fma()
    x, z = Value(2.0, label="x"), Value(4.0, label="z")
    out = fma(x, 3, z)
    assert out.data == 10.0
    assert out.operands == (x, 3.0, z)
    assert out.parents == (x, z)
    out.backward()
    assert (x.grad, z.grad) == (3.0, 1.0)
    steps = chain_rule_steps(out)
    assert [(step.parent, step.local) for step in steps] == [(x, 3.0), (z, 1.0)]


@pytest.mark.parametrize("position", [0, 1, 2])
def test_custom_ternary_op_takes_the_number_in_any_position(position: int) -> None:
    """fma(a, b, c) = ab + c at (1.5, -0.5, 0.75), one of them given as the plain number 2.5.

    Its gradient with respect to a is b, to b is a, to c is 1; the number gets none, and the
    reference loop (autodiff.engine.backward), Value.backward and gradients() agree.
    """
    fma = _fma()
    numbers = [1.5, -0.5, 0.75]
    numbers[position] = 2.5
    operands: list[Any] = [Value(n) for n in numbers]
    operands[position] = 2.5
    expected = (numbers[1], numbers[0], 1.0)
    values = [(i, v) for i, v in enumerate(operands) if isinstance(v, Value)]
    out = fma(*operands)
    assert out.data == numbers[0] * numbers[1] + numbers[2]
    assert out.operands == tuple(operands)
    assert gradients(out, [v for _, v in values]) == tuple(expected[i] for i, _ in values)
    out.backward()
    by_value_backward = [v.grad for _, v in values]
    for _, v in values:
        v.grad = 0.0
    backward(out)
    assert [v.grad for _, v in values] == by_value_backward == [expected[i] for i, _ in values]


def test_custom_ternary_op_with_a_number_passes_first_and_second_order_checks() -> None:
    """(fma(a, 3, c) * a) = 3a^2 + ac checks out against central differences, twice."""
    fma = _fma()
    assert gradcheck(lambda a, c: fma(a, 3.0, c) * a, 0.5, 2.0) is True
    assert gradgradcheck(lambda a, c: fma(a, 3.0, c) * a, 0.5, 2.0) is True


def test_custom_ternary_node_with_a_number_survives_pickle_and_deepcopy() -> None:
    """A copied fma(x, 3, z) * x keeps the 3.0 in its place and still has d/dx = 6x + z = 16."""
    fma = define_op("fma_for_copies", lambda x, y, z: x * y + z, lambda out, x, y, z: (y, x, 1.0))
    x, z = Value(2.0), Value(4.0)
    original = fma(x, 3, z) * x
    for copied in (pickle.loads(pickle.dumps(original)), copy.deepcopy(original)):
        inner = copied.parents[0]
        x2, three, z2 = inner.operands
        assert three == 3.0
        assert inner.op is fma.op
        copied.backward()
        assert (x2.grad, z2.grad) == (16.0, 2.0)  # d(3x^2 + xz)/dx = 6x + z, d/dz = x
    assert (x.grad, z.grad) == (0.0, 0.0)  # the copies share no node with the original


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


# ----------------------------------------------------------------------------------------------
# Issue 11, defects 12 and 13: errors in partials during backward name the op; a plain backward
# stores floats whatever the partials return.


def _picky() -> CustomOp:
    """Identity whose partials refuse negative inputs: the first call (at 1) checks out fine."""

    def partials(out: Any, x: Any) -> tuple[float]:
        if x < 0:
            raise ValueError("no slope for negative inputs")
        return (1.0,)

    op = define_op("picky", lambda x: x, partials)
    op(Value(1.0))  # the first-call check of the partials passes here
    return op


@pytest.mark.parametrize("create_graph", [False, True])
def test_an_error_in_partials_during_backward_names_the_op(create_graph: bool) -> None:
    """A ValueError from picky's partials at -1 leaves backward as a ValueError naming picky."""
    picky = _picky()
    x = Value(-1.0)
    y = picky(x) * 2.0
    with pytest.raises(ValueError, match=r"^picky: ") as caught:
        y.backward(create_graph=create_graph)
    message = str(caught.value)
    assert message.startswith("picky: partials raised ValueError at (-1.0): ")
    assert message.endswith("no slope for negative inputs")
    assert isinstance(caught.value.__cause__, ValueError)  # the original, kept for its traceback
    assert x.grad == 0.0


def test_an_error_in_partials_during_gradients_names_the_op() -> None:
    """gradients() reports the same error, naming the op, as backward does."""
    picky = _picky()
    x = Value(-2.0)
    with pytest.raises(ValueError, match=r"^picky: partials raised ValueError at \(-2\.0\)"):
        gradients(picky(x), [x])


def test_an_error_that_takes_no_message_still_names_the_op() -> None:
    """An exception that cannot be rebuilt from one message becomes a RuntimeError naming the op."""

    class NeedsTwoError(Exception):
        def __init__(self, first: str, second: str) -> None:
            super().__init__(first, second)

    def partials(out: Any, x: Any) -> tuple[float]:
        if x > 5:
            raise NeedsTwoError("a", "b")
        return (1.0,)

    fussy = define_op("fussy", lambda x: x, partials)
    fussy(Value(1.0))  # the first-call check of the partials passes here
    y = fussy(Value(10.0))
    with pytest.raises(RuntimeError, match=r"^fussy: partials raised NeedsTwoError at \(10\.0\)"):
        y.backward()


def _value_cube() -> CustomOp:
    """x^3 whose partials always return a Value, even when given floats."""

    def partials(out: Any, x: Any) -> tuple[Value]:
        node = x if isinstance(x, Value) else Value(x)
        return (3 * node**2,)

    return define_op("value_cube", lambda x: x**3, partials)


def test_partials_returning_a_value_leave_a_float_after_a_plain_backward() -> None:
    """value_cube at 2 gives d/dx = 3x^2 = 12 as a float in x.grad and in every reported step."""
    cube = _value_cube()
    x = Value(2.0)
    y = cube(x) * 1.0
    y.backward()
    assert type(x.grad) is float
    assert x.grad == 12.0
    backward(y)  # the reference loop stores floats too, and leaves accumulate: 12 + 12
    assert type(x.grad) is float
    assert x.grad == 24.0
    (found,) = gradients(y, [x])
    assert (type(found), found) == (float, 12.0)
    assert [(type(s.local), s.total) for s in chain_rule_steps(y)] == [
        (float, 1.0),
        (float, 12.0),
    ]


def test_partials_returning_a_value_stay_differentiable_under_create_graph() -> None:
    """With create_graph the same rule gives a Value: d/dx 3x^2 = 6x = 12 at x = 2."""
    cube = _value_cube()
    x = Value(2.0)
    cube(x).backward(create_graph=True)
    first = x.grad
    assert isinstance(first, Value)
    assert first.data == 12.0
    assert gradients(first, [x]) == (12.0,)


# ----------------------------------------------------------------------------------------------
# apply: any row, built in or custom, on Values and numbers


def test_apply_builds_a_row_with_a_number_operand() -> None:
    """apply(mul, x, 3) at x = 2 gives 6 with operands (x, 3.0), and d(3x)/dx = 3."""
    x = Value(2.0)
    y = apply(OPS["mul"], x, 3)
    assert (y.op, y.operands, y.parents, y.data) == (OPS["mul"], (x, 3.0), (x,), 6.0)
    y.backward()
    assert x.grad == 3.0


def test_apply_pow_with_its_exponent() -> None:
    """apply(pow, x, 2) at x = 2 gives 4, and d(x^2)/dx = 2x = 4."""
    x = Value(2.0)
    y = apply(OPS["pow"], x, 2)
    assert y.operands == (x, 2.0)
    y.backward()
    assert (y.data, x.grad) == (4.0, 4.0)


def test_apply_keeps_a_number_in_its_position() -> None:
    """apply(sub, 10, x) is 10 - x = 7 at x = 3, with operands (10.0, x) and d/dx = -1."""
    x = Value(3.0)
    y = apply(OPS["sub"], 10, x)
    assert (y.data, y.operands) == (7.0, (10.0, x))
    y.backward()
    assert x.grad == -1.0


def test_apply_runs_a_custom_row_like_calling_the_op() -> None:
    """apply(cube.op, x) makes the same node as cube(x): 8 and slope 12 at x = 2."""
    cube = _cube()
    x = Value(2.0)
    y = apply(cube.op, x)
    assert (y.op, y.data) == (cube.op, 8.0)
    y.backward()
    assert x.grad == 12.0


@pytest.mark.parametrize(
    ("row", "operands", "message"),
    [
        ("add", (1.0,), r"^add: takes 2 operand\(s\), got 1$"),
        ("neg", (1.0, 2.0), r"^neg: takes 1 operand\(s\), got 2$"),
    ],
)
def test_apply_checks_the_number_of_operands(
    row: str, operands: tuple[float, ...], message: str
) -> None:
    """A row given the wrong number of operands is a TypeError naming the row and both counts."""
    with pytest.raises(TypeError, match=message):
        apply(OPS[row], *(Value(x) for x in operands))


def test_apply_checks_a_custom_rows_operand_count() -> None:
    """fma takes three operands; two is a TypeError naming it."""
    with pytest.raises(TypeError, match=r"^fma_with_number: takes 3 operand\(s\), got 2$"):
        apply(_fma().op, Value(1.0), 2.0)


def test_apply_rejects_a_missing_operand() -> None:
    """None is no operand: the TypeError names the row."""
    with pytest.raises(TypeError, match=r"^mul: expected an int, float, bool or numpy number"):
        apply(OPS["mul"], Value(1.0), None)  # type: ignore[arg-type]


def test_apply_to_two_numbers_makes_a_node() -> None:
    """mul applied to the numbers 2 and 3 still records a node, 2 * 3 = 6, with no parents."""
    y = apply(OPS["mul"], 2, 3)
    assert y.data == 6.0
    assert y.op is OPS["mul"]
    assert (y.operands, y.parents) == ((2.0, 3.0), ())
