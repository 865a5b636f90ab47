"""The code the tape generates for each op-table row, against the row's own rules.

Generated Python must give the row's numbers bit for bit (the python backend's promise); the
numpy versions must give the same numbers, up to the sign of a zero (exp, log, tanh, sin, cos,
powers and the sigmoid run Python's own functions lane by lane). Points cover each row's
domain, its kinks and its edges.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from autodiff import OPS
from autodiff.tape import POWER_TEMPLATES, TEMPLATES

POINTS = (-3.5, -1.0, -0.25, -1e-300, -0.0, 0.0, 1e-300, 0.3, 0.5, 1.0, 2.0, 7.25, 700.0, 1e150)
EXPONENTS = (3.0, 0.5, -1.0, 1.5, -2.0, 1.0, 4.0, -0.5)


def _cases(name: str) -> list[tuple[float, ...]]:
    """Operand tuples inside the row's domain (where its forward returns a number)."""
    row = OPS[name]
    if name == "pow":
        candidates = [(x, c) for x in POINTS for c in EXPONENTS]
    elif row.arity == 2:
        candidates = [(x, y) for x in POINTS for y in POINTS[::2]]
    else:
        candidates = [(x,) for x in POINTS]
    cases = []
    for operands in candidates:
        try:
            row.forward(*operands)
        except (ValueError, ZeroDivisionError, OverflowError):
            continue
        cases.append(operands)
    assert len(cases) >= 8, name
    return cases


def _same_bits(a: float, b: float) -> bool:
    return repr(float(a)) == repr(float(b))


def _close(a: float, b: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    return a == b  # the same number, up to the sign of a zero


def test_every_built_in_row_has_a_template():
    """The tape generates code for every row of the op table, and for no other name."""
    assert set(TEMPLATES) == set(OPS)


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_python_template_is_the_row_bit_for_bit(name):
    """Generated Python forward and local derivatives equal the row's, bit for bit."""
    row, template = OPS[name], TEMPLATES[name]
    checked = 0
    for operands in _cases(name):
        if name == "pow" and operands[1] in POWER_TEMPLATES:
            continue  # those exponents have templates of their own, tested below
        out = row.forward(*operands)
        assert _same_bits(template.python_forward(*operands), out), (name, operands)
        expected = row.partials(out, *operands)
        got = template.python_partials(out, *operands)
        for slot, (a, b) in enumerate(zip(got, expected, strict=True)):
            assert _same_bits(a, b), (name, operands, slot, a, b)
        checked += 1
    assert checked >= 8


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_numpy_template_agrees_with_the_row(name):
    """Generated numpy forward and local derivatives equal the row's, lane by lane."""
    row, template = OPS[name], TEMPLATES[name]
    cases = [c for c in _cases(name) if not (name == "pow" and c[1] in POWER_TEMPLATES)]
    columns = [np.array(column) for column in zip(*cases, strict=True)]
    outs = np.array([row.forward(*operands) for operands in cases])
    with np.errstate(all="ignore"):
        forward = template.array_forward(*columns)
        partials = template.array_partials(outs, *columns)
    for lane, operands in enumerate(cases):
        assert _close(float(np.broadcast_to(forward, outs.shape)[lane]), outs[lane]), operands
        expected = row.partials(float(outs[lane]), *operands)
        for slot, d in enumerate(partials):
            got = float(np.broadcast_to(d, outs.shape)[lane])
            assert _close(got, expected[slot]), (name, operands, slot, got, expected[slot])


@pytest.mark.parametrize("exponent", sorted(POWER_TEMPLATES))
def test_power_templates_are_the_pow_row_at_their_exponent(exponent):
    """x ** 2 (x * x) and x ** 0 are generated apart; both equal the pow row bit for bit."""
    row, template = OPS["pow"], POWER_TEMPLATES[exponent]
    for x in POINTS:
        try:
            out = row.forward(x, exponent)
        except OverflowError:
            continue  # x * x overflows where the row raises: the tape checks that apart
        assert _same_bits(template.python_forward(x, exponent), out), x
        expected = row.partials(out, x, exponent)
        assert _same_bits(template.python_partials(out, x, exponent)[0], expected[0]), x
        with np.errstate(all="ignore"):
            lanes = template.array_partials(np.array([out]), np.array([x]), exponent)
        assert _close(float(np.broadcast_to(lanes[0], (1,))[0]), expected[0]), x
