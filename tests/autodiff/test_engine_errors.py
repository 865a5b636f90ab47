"""Bad input: wrong types raise TypeError, bad values raise at the operation, nothing half-built.

Each case checks the built-in exception type and that the message names the operation, the
operand and the node's label when it has one. The "nothing half-built" tests count live Value
objects (gc.get_objects lists them: Values are tracked by the collector) around a failed op.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable

import numpy
import pytest

from autodiff import Value, gradients, topological_order


@pytest.mark.parametrize(
    ("data", "type_name"),
    [
        ("x", "str"),
        (None, "NoneType"),
        ([1], "list"),
        (1j, "complex"),
        (Value(1), "Value"),
        (numpy.complex128(1.0), "complex128"),
        (numpy.array([1.0]), "ndarray"),
        ((1.0,), "tuple"),
    ],
)
def test_value_rejects_non_numbers(data: object, type_name: str) -> None:
    """Value(data) with anything but a real number raises TypeError naming the type."""
    with pytest.raises(TypeError, match=rf"Value: .*got {type_name}\b"):
        Value(data)


def test_label_must_be_a_string() -> None:
    """A non-string label is a TypeError naming its type."""
    with pytest.raises(TypeError, match="label must be a str, got int"):
        Value(1.0, label=3)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("build", "pattern"),
    [
        (lambda v: v + "a", r"add: .*got str"),
        (lambda v: "a" * v, r"mul: .*got str"),
        (lambda v: v ** "2", r"pow: .*got str"),
        (lambda v: v * None, r"mul: .*got NoneType"),
        (lambda v: 2j * v, r"mul: .*got complex"),
        (lambda v: v / "d", r"div: .*got str"),
        (lambda v: "n" / v, r"div: .*got str"),
        (lambda v: v - [1.0], r"sub: .*got list"),
        (lambda v: v - "s", r"sub: .*got str"),
        (lambda v: "s" - v, r"sub: .*got str"),
    ],
)
def test_operations_reject_non_numbers(build: Callable[[Value], object], pattern: str) -> None:
    """An operand that is neither a Value nor a real number raises TypeError naming its type."""
    with pytest.raises(TypeError, match=pattern):
        build(Value(2.0))


def test_operand_type_error_names_operation_and_type() -> None:
    """v + 'a' says the add failed and that it got a str."""
    with pytest.raises(TypeError, match=r"add: .*got str"):
        Value(2.0) + "a"  # type: ignore[operator]


def test_api_functions_reject_non_values() -> None:
    """topological_order, gradients and backward name the wrong type they were given."""
    with pytest.raises(TypeError, match="topological_order: expected a Value, got float"):
        topological_order(3.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="gradients: output must be a Value, got int"):
        gradients(3, [])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="gradients: inputs must be Values, got float"):
        gradients(Value(1.0), [2.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"backward: .*got str"):
        Value(1.0).backward("1")  # type: ignore[arg-type]


# (expression builder, exception type, fragments the message must contain)
BAD_VALUES: list[tuple[str, Callable[[], Value], type[Exception], tuple[str, ...]]] = [
    ("log(0)", lambda: Value(0.0, label="x").log(), ValueError, ("log", "0.0", "'x'")),
    ("log(-1)", lambda: Value(-1.0, label="x").log(), ValueError, ("log", "-1.0", "'x'")),
    (
        "(-8)**(1/3)",
        lambda: Value(-8.0, label="base") ** (1 / 3),
        ValueError,
        ("pow", "-8.0", "0.333", "'base'"),
    ),
    (
        "(-8)**Value(1/3)",
        lambda: (-8) ** Value(1 / 3, label="e"),
        ValueError,
        ("pow", "-8.0", "'e'"),
    ),
    (
        "Value(-2)**Value(0.5)",
        lambda: Value(-2.0, label="b") ** Value(0.5),
        ValueError,
        ("pow", "-2.0", "'b'"),
    ),
    ("x/0", lambda: Value(3.0, label="x") / 0, ZeroDivisionError, ("div", "3.0", "'x'")),
    (
        "x/Value(0)",
        lambda: Value(3.0) / Value(0.0, label="d"),
        ZeroDivisionError,
        ("div", "3.0", "'d'"),
    ),
    ("1/Value(0)", lambda: 1 / Value(0.0, label="d"), ZeroDivisionError, ("div", "'d'")),
    ("0**-1", lambda: Value(0.0, label="z") ** -1, ZeroDivisionError, ("pow", "0.0", "'z'")),
    (
        "0**Value(-1)",
        lambda: Value(0.0, label="z") ** Value(-1.0),
        ZeroDivisionError,
        ("pow", "-1.0", "'z'"),
    ),
    ("exp(1000)", lambda: Value(1000.0, label="s").exp(), OverflowError, ("exp", "1000.0", "'s'")),
    ("exp(710)", lambda: Value(710.0).exp(), OverflowError, ("exp", "710.0")),
    ("10.0**400", lambda: Value(10.0, label="t") ** 400, OverflowError, ("pow", "10.0", "400")),
    ("10.0**Value(400)", lambda: 10.0 ** Value(400.0), OverflowError, ("pow", "10.0", "400")),
]


@pytest.mark.parametrize(
    ("build", "error", "fragments"),
    [case[1:] for case in BAD_VALUES],
    ids=[case[0] for case in BAD_VALUES],
)
def test_bad_values_raise_at_the_operation(
    build: Callable[[], Value], error: type[Exception], fragments: tuple[str, ...]
) -> None:
    """The operation raises the built-in type; its message names operation, operand and label."""
    with pytest.raises(error) as caught:
        build()
    assert type(caught.value) is error
    message = str(caught.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert "complex" not in message
    assert "j)" not in message


def test_unlabelled_operand_has_no_label_suffix() -> None:
    """Without a label the message ends at the operand's value: no empty "operand ''"."""
    with pytest.raises(ValueError, match=r"log\(0\.0\)") as caught:
        Value(0.0).log()
    assert "operand" not in str(caught.value)


def test_negative_base_never_gives_a_complex_number() -> None:
    """Python's own (-8) ** (1/3) is complex; the engine refuses instead of returning it."""
    assert isinstance((-8.0) ** (1 / 3), complex)
    with pytest.raises(ValueError, match="no real value"):
        Value(-8.0) ** (1 / 3)


def count_values() -> int:
    """How many Value objects are alive right now."""
    return sum(1 for obj in gc.get_objects() if type(obj) is Value)


def snapshot(v: Value) -> tuple[object, ...]:
    """Everything observable about a node."""
    return (v.data, v.grad, v.label, v.op, v.operands)


@pytest.mark.parametrize(
    ("operation", "error"),
    [
        (lambda x, y: x / y, ZeroDivisionError),
        (lambda x, y: x**y, ValueError),
        (lambda x, y: (x * y).log(), ValueError),
        (lambda x, y: x**-1.5, ValueError),
        (lambda x, y: (x * -2000.0).exp(), OverflowError),
        (lambda x, y: y**-2, ZeroDivisionError),
        (lambda x, y: 1.0 / y, ZeroDivisionError),
    ],
)
def test_failed_operation_leaves_nothing_behind(
    operation: Callable[[Value, Value], Value], error: type[Exception]
) -> None:
    """A failed op adds no live node and leaves its operands exactly as they were."""
    x, y = Value(-0.5, label="x"), Value(0.0, label="y")
    x.grad = 1.25
    before_x, before_y = snapshot(x), snapshot(y)
    gc.collect()
    gc.disable()
    try:
        live = count_values()
        try:
            operation(x, y)
        except error:
            pass
        else:
            pytest.fail("the operation should have raised")
        assert count_values() == live
    finally:
        gc.enable()
    assert snapshot(x) == before_x
    assert snapshot(y) == before_y


def test_backward_after_a_failed_operation_is_unaffected() -> None:
    """A graph whose extension failed still differentiates as if nothing had happened."""
    x = Value(2.0)
    y = x * x
    with pytest.raises(ValueError, match="log"):
        (y - 4.0).log()
    y.backward()
    assert x.grad == 4.0
    assert math.isfinite(y.grad)


@pytest.mark.parametrize(
    ("build", "operation"),
    [
        (lambda v: v + 10**400, "add"),
        (lambda v: 10**400 + v, "add"),
        (lambda v: v - 10**400, "sub"),
        (lambda v: v * -(10**400), "mul"),
        (lambda v: 10**400 * v, "mul"),
        (lambda v: v ** (10**400), "pow"),
        (lambda v: Value(10**400), "Value"),
    ],
)
def test_an_int_too_large_for_a_float_is_an_overflow_naming_the_operation(
    build: Callable[[Value], object], operation: str
) -> None:
    """10**400 has 1329 bits, beyond a float's range: OverflowError names operation and size."""
    with pytest.raises(OverflowError, match=rf"^{operation}: an int of 1329 bits is too large"):
        build(Value(2.0))


def test_tracebacks_and_help_name_the_operator() -> None:
    """An error in x ** 2 shows a frame named __pow__; help(Value.__add__) names the method."""
    import traceback

    with pytest.raises(OverflowError) as caught:
        Value(1e200) ** 2
    frames = [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert "__pow__" in frames
    assert Value.__add__.__qualname__ == "Value.__add__"
    assert Value.__rsub__.__qualname__ == "Value.__rsub__"
