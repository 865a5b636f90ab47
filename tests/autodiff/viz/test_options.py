"""Tests for autodiff.viz.options: the drawing options, declared and checked once."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from autodiff import Value
from autodiff.viz import DrawOptions, backward_steps, draw, render, to_text

DRAWERS: list[Callable[..., Any]] = [draw, backward_steps]


def test_defaults() -> None:
    """The defaults are LR, grads shown, .4f, no edge labels, nothing highlighted, 150 Values."""
    options = DrawOptions()
    assert (options.rankdir, options.show_grad, options.number_format) == ("LR", True, ".4f")
    assert (options.edge_derivatives, options.highlight, options.focus) == (False, (), None)
    assert (options.max_nodes, options.legend, options.title) == (150, False, None)
    assert options.fit_width is True


def test_options_are_frozen() -> None:
    """A DrawOptions cannot be changed once made (so it is checked once, for good)."""
    options = DrawOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.rankdir = "RL"  # type: ignore[misc]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"rankdir": "RL"}, "rankdir must be 'LR' or 'TB', got 'RL'"),
        ({"rankdir": "lr"}, "rankdir must be 'LR' or 'TB', got 'lr'"),
        ({"max_nodes": 0}, "max_nodes must be a positive int, got 0"),
        ({"max_nodes": -5}, "max_nodes must be a positive int, got -5"),
        ({"number_format": ".4q"}, "number_format '.4q' is not a float format spec"),
    ],
)
def test_bad_option_values_are_value_errors(options: dict[str, object], message: str) -> None:
    """Each bad value raises ValueError naming the function called, the option and the value."""
    x = Value(1.0)
    for function in DRAWERS:
        name = function.__name__
        with pytest.raises(ValueError, match=r"^" + re.escape(f"{name}: {message}")):
            function(x * 2, **options)
    with pytest.raises(ValueError, match=r"^" + re.escape(f"DrawOptions: {message}")):
        DrawOptions(**options)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"max_nodes": 2.5}, "max_nodes must be an int, got float"),
        ({"max_nodes": True}, "max_nodes must be an int, got bool"),
        ({"number_format": 4}, "number_format must be a str such as '.4f', got int"),
        ({"title": 7}, "title must be a str or None, got int"),
        ({"show_grad": "no"}, "show_grad must be True or False, got str ('no')"),
        ({"legend": 1}, "legend must be True or False, got int (1)"),
        ({"fit_width": None}, "fit_width must be True or False, got NoneType (None)"),
        ({"focus": 3.0}, "focus must be a Value or None, got float"),
        ({"highlight": 3}, "highlight must be a Value or an iterable of Values, got int"),
        ({"highlight": "x"}, "highlight must be a Value or an iterable of Values, got an item"),
        ({"highlight": [1.0]}, "highlight must be a Value or an iterable of Values, got an item"),
    ],
)
def test_wrongly_typed_options_are_type_errors(options: dict[str, object], message: str) -> None:
    """An option of the wrong type raises TypeError naming the function and the option."""
    for function in DRAWERS:
        name = function.__name__
        with pytest.raises(TypeError, match=r"^" + re.escape(f"{name}: {message}")):
            function(Value(1.0), **options)


def test_unknown_option_is_a_type_error_listing_the_options() -> None:
    """A misspelt option is refused with the list of the real ones."""
    with pytest.raises(
        TypeError, match=r"^draw: unknown option 'rankdr'; the options are "
    ) as error:
        draw(Value(1.0), rankdr="TB")
    assert "rankdir, show_grad, number_format, edge_derivatives, highlight, focus" in str(
        error.value
    )


def test_options_object_is_shared_by_every_drawer(tmp_path: Path) -> None:
    """One DrawOptions serves draw, render and backward_steps; keywords change one field."""
    x = Value(3.0, label="x")
    y = x * x
    options = DrawOptions(rankdir="TB", show_grad=False)
    assert "rankdir=TB" in draw(y, options).source
    assert "grad</FONT>" not in draw(y, options).source
    assert "rankdir=LR" in draw(y, options, rankdir="LR").source
    written = render(y, tmp_path / "y.dot", options).read_text(encoding="utf-8")
    assert written == draw(y, options).source
    (step,) = backward_steps(y, options)
    assert "rankdir=TB" in step.source
    assert options.rankdir == "TB"  # the keyword made a new options object


def test_options_must_be_a_draw_options() -> None:
    """Passing something else as options is a TypeError."""
    with pytest.raises(TypeError, match=r"^draw: options must be a DrawOptions or None, got dict"):
        draw(Value(1.0), {"rankdir": "TB"})  # type: ignore[arg-type]


def test_highlight_generator_is_read_once() -> None:
    """A generator given as highlight is stored as a tuple, so it can be used again."""
    a, b = Value(1.0), Value(2.0)
    options = DrawOptions(highlight=(v for v in (a, b)))
    assert options.highlight == (a, b)
    assert options.highlighted == (a, b)
    assert DrawOptions(highlight=a).highlight == (a,)
    assert DrawOptions(highlight=None).highlight == ()


def test_to_text_checks_its_number_format() -> None:
    """to_text refuses a format that is not a float format, naming itself."""
    with pytest.raises(ValueError, match=r"^to_text: number_format '\.4q' is not a float format"):
        to_text(Value(1.0), number_format=".4q")
    with pytest.raises(TypeError, match=r"^to_text: number_format must be a str"):
        to_text(Value(1.0), number_format=4)  # type: ignore[arg-type]
