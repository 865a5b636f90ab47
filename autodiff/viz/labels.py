r"""How drawings and the text view write things: numbers, operations, names, escaped text.

This module owns the words and digits a picture or a listing shows: a computed number in the
user's ``number_format``; a number from the user's code (the 2 in ``x ** 2``) as written; an
operation with its numbers in their places (``* 0.5``, ``2 **``); a node's name in ``to_text``;
and label text made literal for Graphviz. It owns no layout, no colour and no mathematics.

Example:
    >>> from autodiff import Value
    >>> x = Value(3.0, label="x")
    >>> op_text(x * 0.5), op_text(2 ** x), op_text(x - 3), op_text(x.tanh())
    ('* 0.5', '2 **', '- 3', 'tanh')
    >>> html_text('<b> & "q"')
    '&lt;b&gt; &amp; &quot;q&quot;'
"""

from __future__ import annotations

import html
import math
import re
from typing import Final

from autodiff.engine import Value
from autodiff.ops import OPS

__all__ = [
    "describe_numbers",
    "format_number",
    "grad_float",
    "html_text",
    "number_text",
    "offset_text",
    "op_text",
    "plain_text",
]

# Control characters and lone surrogates cannot appear in a label (dot rejects some, UTF-8
# cannot encode surrogates); they are shown as escapes. ``\n`` is kept: it becomes a line break.
_UNPRINTABLE: Final = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\ud800-\udfff]")

# What a number operand does, in words, for the legend, keyed by (row, where the number is).
# "the incoming value" is the Value on the arrow into the oval: never a letter such as x,
# which a reader would take for a node of that name.
_DESCRIPTIONS: Final = {
    ("add", 0): "adds {c} to the incoming value",
    ("add", 1): "adds {c} to the incoming value",
    ("sub", 0): "subtracts the incoming value from {c}",
    ("sub", 1): "subtracts {c} from the incoming value",
    ("mul", 0): "multiplies the incoming value by {c}",
    ("mul", 1): "multiplies the incoming value by {c}",
    ("div", 0): "divides {c} by the incoming value",
    ("div", 1): "divides the incoming value by {c}",
    ("pow", 1): "raises the incoming value to the power {c}",
    ("pow_value", 0): "raises {c} to the power of the incoming value",
    ("pow_value", 1): "raises the incoming value to the power {c}",
}

# Shown for each Value operand of an op written as a call, ``clamp(·, 0, 1)``.
INPUT_MARK: Final = "·"


def html_text(text: str) -> str:
    r"""``text`` as literal content of a Graphviz HTML-like label.

    ``&``, ``<``, ``>`` and quotes are HTML-escaped; backslashes are doubled, because Graphviz
    expands ``\N`` and friends even in HTML labels; a newline becomes ``<BR/>``; other control
    characters are shown as ``\xNN``.

    Example:
        >>> html_text("a\\N\nb")
        'a\\\\N<BR/>b'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
    text = html.escape(text, quote=True).replace("\\", "\\\\")
    return text.replace("\n", "<BR/>")


def plain_text(text: str) -> str:
    r"""``text`` on one line: newlines and control characters as escapes (for ``to_text``).

    Example:
        >>> print(plain_text("two\nlines"))
        two\nlines
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n")
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def format_number(x: float, number_format: str) -> str:
    """Format a computed number; one that rounds to zero never shows a minus sign.

    Example:
        >>> format_number(-0.00001, ".4f"), format_number(-2.5, ".4f")
        ('0.0000', '-2.5000')
    """
    text = format(x, number_format)
    if text.startswith("-") and not any(c in "123456789" for c in text) and "n" not in text:
        return text[1:]  # "-0.0000" -> "0.0000"; "-inf" and "-nan" keep their sign
    return text


def number_text(c: float) -> str:
    """A number written in the user's code, as written: ``:g`` (``0.5``, ``32``, ``1e-08``).

    Such numbers are not computed results, so ``number_format`` (meant for data and grad) does
    not apply: ``.4f`` would show ``32.0000`` and turn ``1e-8`` into ``0.0000``.

    Example:
        >>> number_text(32.0), number_text(1e-8), number_text(1 / 3)
        ('32', '1e-08', '0.333333')
    """
    return f"{c:g}"


def offset_text(c: float) -> str:
    """``+ c`` for a number added to a sum, ``- 3`` for a negative one (the sign bit decides).

    Example:
        >>> offset_text(5.0), offset_text(-3.5)
        ('+ 5', '- 3.5')
    """
    if math.copysign(1.0, c) < 0.0:
        return f"- {number_text(-c)}"
    return f"+ {number_text(c)}"


def _is_infix(node: Value) -> bool:
    """True for a built-in two-operand row, written between its operands: ``x * 0.5``."""
    op = node.op
    return op is not None and op.arity == 2 and OPS.get(op.name) is op


def _symbol(node: Value) -> str:
    op = node.op
    assert op is not None, "a leaf has no operation"
    return op.symbol or op.name


def op_text(node: Value) -> str:
    """The text in an operation's oval: its symbol, with each number operand in its place.

    ``x * 0.5`` is ``* 0.5`` and ``0.5 * x`` is ``0.5 *``; ``x ** 2`` is ``** 2`` and
    ``2 ** x`` is ``2 **``; ``x - 3`` is ``- 3`` and ``1 - x`` is ``1 -``. An op written as a
    call (unary rows, custom ops) shows its numbers in an argument list, each Value operand as
    ``·``: ``clamp(·, 0, 1)``. Between Values only the symbol shows: ``*``, ``σ``, a custom
    op's symbol (by default its name).

    Example:
        >>> from autodiff import Value
        >>> x = Value(2.0)
        >>> op_text(x * x), op_text(0.5 * x), op_text(x ** 2)
        ('*', '0.5 *', '** 2')
    """
    symbol = _symbol(node)
    operands = node.operands
    if all(isinstance(x, Value) for x in operands):
        return symbol
    if _is_infix(node):
        first, second = operands
        if isinstance(first, Value):
            return f"{symbol} {number_text(second)}"  # type: ignore[arg-type]
        if isinstance(second, Value):
            return f"{number_text(first)} {symbol}"
        return f"{number_text(first)} {symbol} {number_text(second)}"
    arguments = [INPUT_MARK if isinstance(x, Value) else number_text(x) for x in operands]
    return f"{symbol}({', '.join(arguments)})"


def describe_numbers(node: Value) -> str:
    """What an operation does with the numbers from the code, in words (for the legend).

    The Value coming in along the arrow is called "the incoming value", never by a letter that
    could be read as the name of a node.

    Example:
        >>> from autodiff import Value
        >>> x = Value(0.1, label="x")
        >>> describe_numbers(x * 0.1)
        'multiplies the incoming value by 0.1'
        >>> describe_numbers(1 - x)
        'subtracts the incoming value from 1'
    """
    operands = node.operands
    op = node.op
    assert op is not None, "a leaf has no operation"
    numbers = [(i, x) for i, x in enumerate(operands) if not isinstance(x, Value)]
    if _is_infix(node) and len(numbers) == 1:
        position, c = numbers[0]
        template = _DESCRIPTIONS.get((op.name, position))
        if template is not None:
            return template.format(c=number_text(c))
    written = ", ".join(number_text(c) for _, c in numbers)
    if len(numbers) == len(operands):
        return f"{op_text(node)}: every operand is a number from the code"
    return f"{op_text(node)}: {INPUT_MARK} is an incoming value; {written} from the code"


def grad_float(node: Value) -> float:
    """A node's gradient as a float (``grad`` is a Value after ``backward(create_graph=True)``).

    Example:
        >>> grad_float(Value(1.0))
        0.0
    """
    grad = node.grad
    if grad is None:
        return 0.0
    return float(grad.data) if isinstance(grad, Value) else float(grad)
