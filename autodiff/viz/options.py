"""The drawing options, declared once: ``DrawOptions``, checked once, when it is made.

This module owns what a picture can be asked for (direction, what each box shows, number
format, edge labels, highlighted paths, the part of the graph to draw, size limit, legend,
title, notebook width) and the checking of those requests. ``draw``, ``render``,
``backward_steps`` (and the explorer page) all take these options, either as keywords
(``draw(root, rankdir="TB")``) or as a ``DrawOptions`` made beforehand, and every check lives
here. It draws nothing.

Example:
    >>> options = DrawOptions(rankdir="TB", legend=True)
    >>> options.rankdir, options.show_grad
    ('TB', True)
    >>> DrawOptions(rankdir="RL")
    Traceback (most recent call last):
    ...
    ValueError: DrawOptions: rankdir must be 'LR' or 'TB', got 'RL'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final, Union

from autodiff.engine import Value

__all__ = ["DEFAULT_MAX_NODES", "DrawOptions", "Highlight"]

DEFAULT_MAX_NODES: Final = 150
"""``max_nodes`` by default: Graphviz lays out a drawing of this many Values in a few seconds.

Measured with Graphviz 2.43 on the slowest shape found (a long unfolded sum whose terms share
parameters): 152 Values took 3 s, 252 Values 36 s, 402 Values more than 150 s; ``dot`` has
also been seen to crash near 600. Most graphs lay out much faster, but the limit must hold for
every shape.
"""

Highlight = Union[Value, Iterable[Value], None]
"""What ``highlight=`` accepts: one Value, several (any iterable, read once), or None."""

_RANKDIRS: Final = ("LR", "TB")
_BOOLEANS: Final = ("show_grad", "edge_derivatives", "legend", "fit_width")
_PREFIX: Final = "DrawOptions: "


@dataclass(frozen=True)
class DrawOptions:
    """Everything a drawing can be asked for, checked when the options are made.

    Args and attributes are the same; each function that draws takes them as keywords too.

    Attributes:
        rankdir: ``"LR"`` (inputs on the left, the default) or ``"TB"`` (inputs at the top).
        show_grad: Show each node's ``grad`` below its ``data``.
        number_format: A float format spec for every computed number shown (``data``,
            ``grad``, local derivatives), e.g. ``".4f"`` or ``".3g"``. Numbers from the code
            (the 2 in ``x ** 2``) are written as in the code, whatever this says.
        edge_derivatives: Label each input -> operation edge with the local derivative
            d result / d input, from ``autodiff.partials``.
        highlight: A Value or several (any iterable): the paths from them to the top of the
            picture are drawn in red. Stored as a tuple.
        focus: Draw only this Value and the Values it depends on (its ancestors), with the
            ids they have in the whole graph (so the whole graph is walked once, to number
            it, but only the drawn part is counted and laid out); None draws everything.
        max_nodes: Refuse (ValueError) to draw more Values than this; ``dot`` would take too
            long or crash. Counted on what would be drawn (the ancestors of ``focus``).
        legend: Add a key explaining the colours and signs the picture uses.
        title: A caption above the picture.
        fit_width: In a notebook, scale the picture down to the width of the cell (the
            default); False shows it at its natural size. Files are never scaled.

    Raises:
        TypeError: An option of the wrong type (a str for a bool, a float for max_nodes...).
        ValueError: An option of the right type but a wrong value (rankdir "RL",
            max_nodes 0, a number_format that is not a float format).

    Example:
        >>> from autodiff import Value
        >>> x = Value(1.0)
        >>> DrawOptions(highlight=[x]).highlight == (x,)
        True
        >>> DrawOptions(max_nodes=0)
        Traceback (most recent call last):
        ...
        ValueError: DrawOptions: max_nodes must be a positive int, got 0
    """

    rankdir: str = "LR"
    show_grad: bool = True
    number_format: str = ".4f"
    edge_derivatives: bool = False
    highlight: Highlight = ()
    focus: Value | None = None
    max_nodes: int = DEFAULT_MAX_NODES
    legend: bool = False
    title: str | None = None
    fit_width: bool = True

    def __post_init__(self) -> None:
        if not isinstance(self.rankdir, str) or self.rankdir not in _RANKDIRS:
            raise ValueError(f"{_PREFIX}rankdir must be 'LR' or 'TB', got {self.rankdir!r}")
        for name in _BOOLEANS:
            value = getattr(self, name)
            if not isinstance(value, bool):
                raise TypeError(
                    f"{_PREFIX}{name} must be True or False, got {type(value).__name__} ({value!r})"
                )
        _check_number_format(self.number_format)
        max_nodes = self.max_nodes
        if isinstance(max_nodes, bool) or not isinstance(max_nodes, int):
            raise TypeError(f"{_PREFIX}max_nodes must be an int, got {type(max_nodes).__name__}")
        if max_nodes <= 0:
            raise ValueError(f"{_PREFIX}max_nodes must be a positive int, got {max_nodes}")
        if self.title is not None and not isinstance(self.title, str):
            raise TypeError(
                f"{_PREFIX}title must be a str or None, got {type(self.title).__name__}"
            )
        if self.focus is not None and not isinstance(self.focus, Value):
            raise TypeError(
                f"{_PREFIX}focus must be a Value or None, got {type(self.focus).__name__}"
            )
        # Read once, so a generator works; frozen, so set through object.__setattr__.
        object.__setattr__(self, "highlight", _highlight_tuple(self.highlight))

    @property
    def highlighted(self) -> tuple[Value, ...]:
        """The highlighted Values, as the tuple ``highlight`` is stored as.

        Example:
            >>> DrawOptions().highlighted
            ()
        """
        marked = self.highlight
        assert isinstance(marked, tuple), "made a tuple by __post_init__"
        return marked


_NAMES: Final = tuple(field.name for field in dataclasses.fields(DrawOptions))


def _check_number_format(number_format: object) -> None:
    if not isinstance(number_format, str):
        raise TypeError(
            f"{_PREFIX}number_format must be a str such as '.4f', "
            f"got {type(number_format).__name__}"
        )
    try:
        format(1.5, number_format)
    except ValueError:
        raise ValueError(
            f"{_PREFIX}number_format {number_format!r} is not a float format spec "
            "(use one such as '.4f', '.3g' or '.2e')"
        ) from None


def _highlight_tuple(highlight: object) -> tuple[Value, ...]:
    if highlight is None:
        return ()
    if isinstance(highlight, Value):
        return (highlight,)
    if isinstance(highlight, (str, bytes)):  # iterable, but never a collection of Values
        items: list[object] = [highlight]
    else:
        try:
            items = list(highlight)  # type: ignore[call-overload]
        except TypeError:
            raise TypeError(
                f"{_PREFIX}highlight must be a Value or an iterable of Values, "
                f"got {type(highlight).__name__}"
            ) from None
    for item in items:
        if not isinstance(item, Value):
            raise TypeError(
                f"{_PREFIX}highlight must be a Value or an iterable of Values, "
                f"got an item of type {type(item).__name__}"
            )
    return tuple(items)  # type: ignore[arg-type]


def resolve(where: str, options: DrawOptions | None, changes: Mapping[str, Any]) -> DrawOptions:
    """The options a call asks for: ``options`` (or the defaults) with ``changes`` applied.

    Errors name ``where``, the function the user called, instead of ``DrawOptions``.

    Example:
        >>> resolve("draw", None, {"legend": True}).legend
        True
        >>> resolve("draw", None, {"rankdr": "TB"})
        Traceback (most recent call last):
        ...
        TypeError: draw: unknown option 'rankdr'; the options are rankdir, show_grad, \
number_format, edge_derivatives, highlight, focus, max_nodes, legend, title, fit_width
    """
    if options is not None and not isinstance(options, DrawOptions):
        raise TypeError(
            f"{where}: options must be a DrawOptions or None, got {type(options).__name__}"
        )
    for name in changes:
        if name not in _NAMES:
            raise TypeError(
                f"{where}: unknown option {name!r}; the options are {', '.join(_NAMES)}"
            )
    try:
        return dataclasses.replace(options if options is not None else DrawOptions(), **changes)
    except (TypeError, ValueError) as error:
        message = str(error)
        if message.startswith(_PREFIX):
            message = message[len(_PREFIX) :]
        raise type(error)(f"{where}: {message}") from None


def check_root(root: object, where: str) -> Value:
    """``root`` if it is a Value, else a TypeError naming ``where``.

    Example:
        >>> check_root(1.0, "draw")
        Traceback (most recent call last):
        ...
        TypeError: draw: root must be a Value, got float
    """
    if not isinstance(root, Value):
        raise TypeError(f"{where}: root must be a Value, got {type(root).__name__}")
    return root
