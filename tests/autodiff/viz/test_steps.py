"""Tests for autodiff.viz.steps: ``backward_steps`` and the player it displays as.

The worked example is f = (a*b + a)**2 at a = 2, b = 0.5, derived by hand:
d = a*b = 1, e = d + a = 3, f = e**2 = 9. Backward: f sends 1 * 2e = 6 to e; e sends
6 * 1 = 6 to d and 6 * 1 = 6 to a; d sends 6 * b = 3 to a (a: 6 + 3 = 9) and 6 * a = 12 to b.
Topological order: a (n0), b (n1), d (n2), e (n3), f (n4).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import autodiff
from autodiff import Value, gradients, topological_order
from autodiff.viz import BackwardSteps, backward_steps

Tutorial = Callable[[], tuple[Value, dict[str, Value]]]
CURRENT = 'color="#e8590c"'


def worked_example() -> tuple[Value, dict[str, Value]]:
    """f = (a*b + a)**2 at a = 2, b = 0.5, every node labelled."""
    a, b = Value(2.0, label="a"), Value(0.5, label="b")
    d = a * b
    d.label = "d"
    e = d + a
    e.label = "e"
    f = e**2
    f.label = "f"
    return f, {"a": a, "b": b, "d": d, "e": e}


def current_boxes(source: str) -> list[str]:
    """The ids of the boxes outlined as this step's node."""
    return [
        line.split(" [")[0].strip()
        for line in source.splitlines()
        if re.match(r"\s*n\d+ \[", line) and CURRENT in line
    ]


def test_captions_say_who_sends_what_to_whom() -> None:
    """Each caption names the sender, the product it sends and the receiver's new total."""
    f, _ = worked_example()
    steps = backward_steps(f)
    assert steps.captions == [
        "step 1 of 3: f passes its gradient back; f's gradient is complete: 1.0000\n"
        "f sends 1.0000 × 6.0000 = 6.0000 to e, whose gradient is now 6.0000",
        "step 2 of 3: e passes its gradient back; e's gradient is complete: 6.0000\n"
        "e sends 6.0000 × 1.0000 = 6.0000 to d, whose gradient is now 6.0000\n"
        "e sends 6.0000 × 1.0000 = 6.0000 to a, whose gradient is now 6.0000",
        "step 3 of 3: d passes its gradient back; d's gradient is complete: 6.0000\n"
        "d sends 6.0000 × 0.5000 = 3.0000 to a, whose gradient is now 9.0000\n"
        "d sends 6.0000 × 2.0000 = 12.0000 to b, whose gradient is now 12.0000",
    ]
    for picture, caption in zip(steps, steps.captions, strict=True):
        escaped = caption.replace("'", "&#x27;").replace("\n", "<BR/>")
        assert f"label=<{escaped}>" in picture.source
    assert all("receives grad" not in caption for caption in steps.captions)


def test_each_picture_shows_the_state_after_its_step(dot_reading: Any) -> None:
    """Boxes hold the running sums: a gets 6 at step 2 and 6 + 3 = 9 at step 3."""
    f, _ = worked_example()
    first, second, third = (step.source for step in backward_steps(f))
    expected = {  # (a, b, d, e, f) after each step
        first: ("0.0000", "0.0000", "0.0000", "6.0000", "1.0000"),
        second: ("6.0000", "0.0000", "6.0000", "6.0000", "1.0000"),
        third: ("9.0000", "12.0000", "6.0000", "6.0000", "1.0000"),
    }
    for source, grads in expected.items():
        for i, grad in enumerate(grads):
            assert f"grad</FONT> {grad}</TD>" in dot_reading.node_line(source, f"n{i}")
    assert 'fillcolor="#d6e6f5"' in dot_reading.node_line(first, "n0")  # a: no gradient yet
    assert 'fillcolor="#d3efd0"' in dot_reading.node_line(second, "n0")  # a: a leaf with one


def test_edges_say_what_each_input_receives(dot_reading: Any) -> None:
    """At step 3 the edge from a says a.grad += 3.0000 and the edge from b, b.grad += 12.0000."""
    f, _ = worked_example()
    third = backward_steps(f)[2].source
    edges = dot_reading.edge_lines(third)
    (from_a,) = edges["n0 -> op2"]
    (from_b,) = edges["n1 -> op2"]
    assert "a.grad += 3.0000" in from_a
    assert "b.grad += 12.0000" in from_b
    assert CURRENT in from_a
    assert CURRENT in from_b
    assert "+=" not in "".join(edges["n2 -> op3"])  # an edge of another step says nothing


def test_the_current_node_is_outlined(tutorial: Tutorial) -> None:
    """Tutorial 001 has 8 operation nodes: 8 pictures, outlining L, ** 2, -, y, *, a, z, *."""
    loss, _ = tutorial()
    steps = backward_steps(loss)
    assert len(steps) == 8
    assert [current_boxes(step.source) for step in steps] == [
        [f"n{i}"] for i in (13, 12, 11, 9, 7, 6, 5, 3)
    ]
    for k, step in enumerate(steps, start=1):
        assert f"label=<step {k} of 8: " in step.source


def test_tutorial_step_of_the_sigmoid(tutorial: Tutorial) -> None:
    """Step 6 of 8 is a = σ(z): it sends 0.6225 × a(1-a) = 0.6225 × 0.2350 = 0.1463 to z."""
    loss, _ = tutorial()
    steps = backward_steps(loss)
    assert steps.captions[5] == (
        "step 6 of 8: a passes its gradient back; a's gradient is complete: 0.6225\n"
        "a sends 0.6225 × 0.2350 = 0.1463 to z, whose gradient is now 0.1463"
    )


def test_final_picture_holds_every_gradient(tutorial: Tutorial, dot_reading: Any) -> None:
    """The last picture's gradients equal autodiff.gradients for every node."""
    loss, _ = tutorial()
    order = topological_order(loss)
    expected = gradients(loss, order)
    last = backward_steps(loss, number_format=".10f")[-1].source
    for i, grad in enumerate(expected):
        assert f"grad</FONT> {grad:.10f}</TD>" in dot_reading.node_line(last, f"n{i}")


def test_user_gradients_are_left_alone(tutorial: Tutorial, dot_reading: Any) -> None:
    """Gradients already on the nodes (here after two backward calls) are not touched."""
    loss, nodes = tutorial()
    loss.backward()
    loss.backward()
    before = [node.grad for node in topological_order(loss)]
    steps = backward_steps(loss, highlight=nodes["W1"], edge_derivatives=True)
    assert [node.grad for node in topological_order(loss)] == before
    assert nodes["W1"].grad == pytest.approx(2 * 0.14628025, abs=1e-8)
    # The pictures show one fresh backward, not the accumulated 2x gradients.
    assert "grad</FONT> 0.1463" in dot_reading.node_line(steps[-1].source, "n1")


def test_options_are_checked_at_the_call(tutorial: Tutorial) -> None:
    """A bad option, highlight or focus fails when backward_steps is called."""
    loss, _ = tutorial()
    with pytest.raises(ValueError, match=r"^backward_steps: rankdir"):
        backward_steps(loss, rankdir="XY")
    with pytest.raises(ValueError, match=r"^backward_steps: highlight .* is not part of the graph"):
        backward_steps(loss, highlight=[Value(0.0)])
    with pytest.raises(ValueError, match=r"^backward_steps: focus .* is not part of the graph"):
        backward_steps(loss, focus=Value(0.0))
    with pytest.raises(TypeError, match=r"^backward_steps: root must be a Value"):
        backward_steps(2.0)  # type: ignore[arg-type]


def test_title_is_kept_above_the_caption() -> None:
    """A title goes on the first line of each picture's label, the caption after it."""
    f, _ = worked_example()
    first = backward_steps(f, title="demo")[0].source
    assert "label=<demo<BR/>step 1 of 3: f passes its gradient back;" in first


def test_focus_shows_only_the_steps_of_the_drawn_nodes(
    tutorial: Tutorial, dot_reading: Any
) -> None:
    """focus=z keeps the steps of z and W1*x (2 pictures), with gradients of the whole loss."""
    loss, nodes = tutorial()
    steps = backward_steps(loss, focus=nodes["z"])
    assert [current_boxes(step.source) for step in steps] == [["n5"], ["n3"]]
    assert steps.captions[0].startswith("step 1 of 2: z passes its gradient back")
    assert "grad</FONT> 0.1463" in dot_reading.node_line(steps[-1].source, "n1")  # dL/dW1
    assert dot_reading.box_ids(steps[0].source) == ["n1", "n2", "n3", "n4", "n5"]


def test_a_leaf_has_no_step() -> None:
    """A graph that is one leaf passes nothing back: no picture."""
    steps = backward_steps(Value(1.0))
    assert len(steps) == 0
    assert list(steps) == []


def test_long_captions_are_cut() -> None:
    """A node with 10 inputs lists 6 sends in its caption and says 4 more are on the edges."""
    total10 = autodiff.define_op(
        "viz_total10", lambda *xs: sum(xs), lambda out, *xs: (1.0,) * len(xs), arity=10
    )
    root = total10(*[Value(1.0) for _ in range(10)])
    (caption,) = backward_steps(root).captions
    lines = caption.splitlines()
    assert len(lines) == 8
    assert lines[-1] == "... and 4 more (on the edges)"


def test_steps_are_a_sequence_of_digraphs() -> None:
    """The result can be indexed, sliced, measured and iterated more than once."""
    import graphviz

    f, _ = worked_example()
    steps = backward_steps(f)
    assert isinstance(steps, BackwardSteps)
    assert len(steps) == 3
    assert all(isinstance(step, graphviz.Digraph) for step in steps)
    assert [s.source for s in steps] == [s.source for s in steps]
    assert steps[-1].source == steps[2].source
    assert [s.source for s in steps[1:]] == [steps[1].source, steps[2].source]
    assert repr(steps) == "BackwardSteps(3 pictures)"


# ----------------------------------------------------------------------------------------------
# The player.


@pytest.mark.needs_dot
def test_player_holds_every_picture_inline() -> None:
    """to_html has one inline SVG per step, one script, and nothing fetched from anywhere."""
    f, _ = worked_example()
    steps = backward_steps(f)
    page = steps.to_html()
    assert page.count("<svg") == 3
    assert page.count("<script>") == 1
    assert "<?xml" not in page
    assert not re.search(r"\b(src|href)=", page)
    assert not re.search(r"https?://(?!www\.w3\.org/)", page)  # only SVG namespace names
    assert 'style="max-width:100%;height:auto"' in page
    assert steps._repr_html_() == page
    assert backward_steps(worked_example()[0]).to_html() == page  # the same graph, same bytes


@pytest.mark.needs_dot
def test_player_keeps_natural_size_when_asked() -> None:
    """fit_width=False leaves the pictures at the size dot gave them."""
    f, _ = worked_example()
    assert "max-width:100%;height:auto" not in backward_steps(f, fit_width=False).to_html()


def test_player_of_no_step_says_so() -> None:
    """A leaf's player says there is no step instead of showing an empty slider."""
    assert "No backward step to show." in backward_steps(Value(1.0)).to_html()


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.needs_dot
@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium to run the player's script")
def test_player_moves_in_a_browser(tmp_path: Path) -> None:
    """In Chromium the player shows one picture; next twice, then back once, shows picture 2."""
    f, _ = worked_example()
    player = backward_steps(f).to_html()
    driver = (
        "<script>var box = document.querySelector('.autodiff-steps');"
        "var next = box.querySelectorAll('button')[1]; next.click(); next.click();"
        "box.dispatchEvent(new KeyboardEvent('keydown', {key: 'ArrowLeft', bubbles: true}));"
        "</script>"
    )
    page = tmp_path / "player.html"
    page.write_text(f"<!DOCTYPE html><html><body>{player}{driver}</body></html>", "utf-8")
    assert CHROMIUM is not None
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    frames = re.findall(r'<div class="autodiff-step"([^>]*)>', result.stdout)
    assert ["hidden" in attrs for attrs in frames] == [True, False, True]
    assert re.search(r'<div class="autodiff-controls"(?![^>]*hidden)', result.stdout)
    assert '<span class="autodiff-count">step 2 of 3</span>' in result.stdout
