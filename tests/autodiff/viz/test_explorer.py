"""The explorer page's HTML without a browser: offline, deterministic, escaped, and its options.

The page's data (the JSON block it carries) is read back to check the numbers it will show; the
browser tests (test_explorer_browser.py) check what a learner sees of them.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import math
import re
from pathlib import Path
from typing import Any

import pytest

from autodiff import Value, topological_order
from autodiff.viz import ExplorerPage, explore


def page_data(page: ExplorerPage) -> dict[str, Any]:
    """The JSON the page carries for its script."""
    match = re.search(
        r'<script type="application/json" id="explorer-data">(.*?)</script>', page.html, re.S
    )
    assert match is not None
    data: dict[str, Any] = json.loads(match.group(1))
    return data


def inline_script(page: ExplorerPage) -> str:
    match = re.search(r"<script>(.*?)</script>", page.html, re.S)
    assert match is not None
    return match.group(1)


def node_named(data: dict[str, Any], name: str) -> dict[str, Any]:
    (node,) = [node for node in data["nodes"] if node["name"] == name]
    return node


def test_the_same_graph_gives_a_byte_identical_page(hidden_graph: Any) -> None:
    """Two builds of tutorial 001's graph give the same bytes, so pages can be committed."""
    first, _ = hidden_graph()
    second, _ = hidden_graph()
    assert explore(first).html.encode() == explore(second).html.encode()
    assert explore(first, quiz=True).html == explore(second, quiz=True).html


def test_the_page_refers_to_nothing_outside_itself(hidden_graph: Any) -> None:
    """No URL, no src or href but the empty data: icon, and a policy that forbids requests."""
    loss, _ = hidden_graph()
    text = explore(loss).html
    assert re.findall(r"https?:|//[^\s]", text.replace("// ", "")) == []
    assert re.findall(r"\b(?:src|href)=", text) == ["href="]
    assert '<link rel="icon" href="data:,">' in text
    for needle in ("url(", "@import", "fetch(", "XMLHttpRequest", "import(", "WebSocket"):
        assert needle not in text
    policy = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', text)
    assert policy is not None
    assert policy.group(1).startswith("default-src 'none'; script-src 'sha256-")


def test_the_policy_allows_exactly_the_page_script(hidden_graph: Any) -> None:
    """The policy's script hash is the inline script's, so no other (injected) script could run."""
    loss, _ = hidden_graph()
    page = explore(loss)
    digest = base64.b64encode(hashlib.sha256(inline_script(page).encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in page.html
    assert page.html.count("<script") == 2  # the data block and the script


def test_nasty_labels_reach_the_page_only_escaped(
    nasty_graph: Any, nasty_labels: tuple[str, ...]
) -> None:
    """Labels with markup are escaped in the SVG and the JSON and come back intact as data."""
    root, _ = nasty_graph()
    page = explore(root)
    assert page.html.count("<script") == 2
    assert page.html.count("</script") == 2
    assert "<img" not in page.html
    assert page.html.count("</svg>") == 1  # the label's "</svg>" did not close the picture
    assert {node["name"] for node in page_data(page)["nodes"]} == set(nasty_labels)
    assert "&lt;script&gt;window.__" in page.html  # the box's text (cut to fit the box)
    assert "\\u003cscript\\u003e" in page.html  # the JSON's


def test_control_characters_and_lone_surrogates_are_written_visibly() -> None:
    r"""A newline in a label is shown as \x0a and a lone surrogate as U+FFFD, never raw."""
    x = Value(1.0, label="two\nlines")
    y = x * 2.0
    y.label = "bad \ud800 half"
    names = {node["name"] for node in page_data(explore(y))["nodes"]}
    assert names == {"two\\x0alines", "bad \ufffd half"}


def test_the_page_holds_the_engines_numbers(hidden_graph: Any) -> None:
    """Tutorial 001's page carries its printed data and gradients, local derivatives and steps."""
    loss, _ = hidden_graph()
    data = page_data(explore(loss))
    assert [node["name"] for node in data["nodes"]] == [
        "W2", "W1", "n2", "b1", "z", "a", "n6", "b2", "y", "n9", "n10", "L",
    ]  # fmt: skip
    printed = {"W1": "0.1463", "b1": "0.1463", "W2": "-0.3875", "b2": "-0.6225", "a": "0.6225"}
    for name, grad in printed.items():
        assert node_named(data, name)["grad"] == grad
    assert node_named(data, "a")["data"] == "0.6225"
    (sigmoid_edge,) = [edge for edge in data["edges"] if edge["name"] == "da/dz"]
    assert sigmoid_edge["local"] == "0.2350"  # a (1 - a) = 0.23500371
    assert len(data["backward"]) == 8  # one step per interior node, counted by hand
    assert len(data["edges"]) == 11
    assert data["state"] == "run"


def test_each_backward_step_is_one_node_sending_to_its_operands() -> None:
    """For d = (a * b) + a the steps are d -> (n2, a), then n2 -> (a, b), with a summing 1 + 3."""
    a = Value(2.0, label="a")
    b = Value(3.0, label="b")
    d = a * b + a
    d.label = "d"
    d.backward()
    data = page_data(explore(d))
    names = [node["name"] for node in data["nodes"]]
    assert names == ["a", "b", "n2", "d"]
    steps = [
        (names[step["node"]], [names[data["edges"][s["edge"]]["from"]] for s in step["sends"]])
        for step in data["backward"]
    ]
    assert steps == [("d", ["n2", "a"]), ("n2", ["a", "b"])]
    last = data["backward"][1]["sends"][0]
    assert (last["contribution"], last["total"], last["sum"]) == (
        "3.0000",
        "4.0000",
        "= 1.0000 + 3.0000",
    )


def test_a_squared_node_has_two_edges_from_the_same_parent() -> None:
    """a * a draws two edges from a, each with local derivative a (= 3), and a's grad 6."""
    a = Value(3.0, label="a")
    s = a * a
    s.label = "s"
    s.backward()
    data = page_data(explore(s))
    assert [(edge["from"], edge["to"], edge["local"]) for edge in data["edges"]] == [
        (0, 1, "3.0000"),
        (0, 1, "3.0000"),
    ]
    assert node_named(data, "a")["grad"] == "6.0000"


@pytest.mark.parametrize(
    ("prepare", "state"),
    [
        ("nothing", "backward not run"),
        ("backward", "backward run"),
        ("backward twice", "backward run"),
        ("change W2 after backward", "grads stale"),
    ],
)
def test_the_page_knows_whether_the_grads_hold_a_backward_pass(
    hidden_graph: Any, prepare: str, state: str
) -> None:
    """Grads all zero mean not run; grads that are not dL/dnode are stale, not gradients."""
    loss, named = hidden_graph(backward=False)
    if prepare != "nothing":
        loss.backward()
    if prepare == "backward twice":
        loss.backward()
    if prepare == "change W2 after backward":
        named["W2"].data = -2.0  # now dL/da would be -0.6225 * -2, not the 0.6225 stored
    page = explore(loss)
    assert page.state == state
    w1 = node_named(page_data(page), "W1")
    if state == "backward run":
        assert w1["grad"] == ("0.2926" if prepare == "backward twice" else "0.1463")
        assert ("adds up" in w1["gradNote"]) == (prepare == "backward twice")
    else:
        assert w1["grad"] is None
    # dL/dW1 = dL/da * 0.2350 with dL/da = dL/dy * W2: doubling W2 doubles it.
    assert w1["expected"] == ("0.2926" if prepare == "change W2 after backward" else "0.1463")


def test_focus_shows_only_what_the_node_depends_on(hidden_graph: Any) -> None:
    """focus=a draws a, z, W1 * x, W1 and b1, with dL/da = 0.6225 coming from outside."""
    loss, named = hidden_graph()
    page = explore(loss, focus=named["a"])
    data = page_data(page)
    assert [node["name"] for node in data["nodes"]] == ["W1", "n2", "b1", "z", "a"]
    assert page.backward_steps == 3  # a, z, W1 * x
    top = node_named(data, "a")
    assert (top["kind"], top["outside"]) == ("top", "0.6225")
    assert data["start"] == [{"node": 4, "grad": "0.6225"}]
    assert node_named(data, "W1")["grad"] == "0.1463"  # still dL/dW1, not da/dW1


def celsius_like(samples: list[float]) -> tuple[Value, Value, Value]:
    """A mean squared error over samples, built like nets.celsius: total = total + term, / n."""
    weight = Value(2.0, label="weight")
    bias = Value(31.0, label="bias")
    total: Value | None = None
    for c in samples:
        predicted = weight * c + bias
        squared = (predicted - (1.8 * c + 32.0)) ** 2
        squared.label = f"error²({c:g})"
        total = squared if total is None else total + squared
    assert total is not None
    mse = total / len(samples)
    mse.label = "MSE"
    mse.backward()
    return mse, weight, bias


def test_sample_shows_one_sample_and_summarises_the_others() -> None:
    """sample=1 of errors (-1, 1, 3) at c = 0, 10, 20 draws one term; weight gets 40 from outside.

    dMSE/dweight = 2/3 * sum(error * c) = 2/3 * (0 + 10 + 60) = 46.6667, of which the samples
    not drawn (c = 0 and c = 20) give 2/3 * 60 = 40.
    """
    mse, _, _ = celsius_like([0.0, 10.0, 20.0])
    page = explore(mse, sample=1)
    data = page_data(page)
    assert [node["name"] for node in data["nodes"]][-1] == "error²(10)"
    assert len(data["nodes"]) == 6  # weight, weight * c, bias, + bias, - target, ** 2
    weight = node_named(data, "weight")
    assert (weight["expected"], weight["outside"]) == ("46.6667", "40.0000")
    assert "Sample 1 of 3" in data["summary"]
    top = node_named(data, "error²(10)")
    assert top["outside"] == "0.3333"  # dMSE/dterm = 1/3


def test_sample_finds_the_terms_of_sum() -> None:
    """sum() starts from 0 + the first term; its terms are still the samples."""
    xs = [Value(float(k), label=f"x{k}") for k in range(4)]
    total = sum(x * x for x in xs)
    assert isinstance(total, Value)
    total.backward()
    data = page_data(explore(total, sample=3))
    assert [node["name"] for node in data["nodes"]] == [
        "x3",
        f"n{len(topological_order(total)) - 2}",
    ]


def test_bad_samples_and_focus_are_refused_with_a_reason(hidden_graph: Any) -> None:
    """An out-of-range sample, a loss that is no sum, a foreign focus, or both, each say why."""
    mse, _, _ = celsius_like([0.0, 10.0])
    with pytest.raises(IndexError, match=r"sample=2 is out of range: MSE sums 2 samples"):
        explore(mse, sample=2)
    loss, named = hidden_graph()
    with pytest.raises(ValueError, match="is not such a sum"):
        explore(loss, sample=0)
    with pytest.raises(ValueError, match="is not part of the graph"):
        explore(loss, focus=Value(1.0))
    with pytest.raises(ValueError, match="not both"):
        explore(mse, focus=named["a"], sample=0)


def test_max_nodes_refuses_a_large_graph_with_advice() -> None:
    """Over max_nodes the page is refused, naming focus=, sample= (for a sum) and max_nodes."""
    mse, _, _ = celsius_like([float(c) for c in range(10)])
    with pytest.raises(ValueError, match=r"more than max_nodes=20") as refused:
        explore(mse, max_nodes=20)
    message = str(refused.value)
    assert "sample=k" in message
    assert "10 samples" in message
    assert "focus=" in message
    assert explore(mse, sample=4, max_nodes=20).node_count == 6


@pytest.mark.parametrize(
    ("options", "error", "words"),
    [
        ({"root": 3.0}, TypeError, "root must be a Value, got float"),
        ({"focus": "a"}, TypeError, "focus must be a Value, got str"),
        ({"sample": 1.0}, TypeError, "sample must be an int, got float"),
        ({"max_nodes": 0}, ValueError, "max_nodes must be an int >= 1, got 0"),
        ({"number_format": "q"}, ValueError, "number_format 'q' is not a float format"),
        ({"rankdir": "up"}, ValueError, "rankdir must be one of"),
        ({"rel_tol": -1.0}, ValueError, "rel_tol must be a number >= 0, got -1.0"),
        ({"dot_timeout": 0}, ValueError, "dot_timeout must be a number of seconds > 0"),
        (
            {"dot_timeout": math.inf},
            ValueError,
            "dot_timeout must be a number of seconds > 0 and at most 86400 (a day), got inf",
        ),
        (
            {"dot_timeout": 1e300},
            ValueError,
            "dot_timeout must be a number of seconds > 0 and at most 86400 (a day), got 1e+300",
        ),
        ({"dot_timeout": math.nan}, ValueError, "dot_timeout must be a number of seconds > 0"),
        ({"dot_timeout": "60"}, TypeError, "dot_timeout must be a number of seconds, got '60'"),
        ({"title": 3}, TypeError, "title must be a str or None, got int (3)"),
        ({"quiz": "yes"}, TypeError, "quiz must be True or False, got 'yes'"),
        ({"path": 3}, TypeError, "path must be a str, a path or None, got int (3)"),
    ],
)
def test_bad_options_raise_errors_naming_explore_and_the_value(
    hidden_graph: Any, options: dict[str, Any], error: type[Exception], words: str
) -> None:
    """Each bad argument raises a built-in error that names explore and what was given."""
    loss, _ = hidden_graph()
    arguments = {"root": loss, **options}
    with pytest.raises(error, match=re.escape(f"explore: {words}")):
        explore(**arguments)


def test_numpy_integers_are_ints_and_bools_are_not() -> None:
    """sample=np.int64(1) and max_nodes=np.int64(20) work as 1 and 20; True is no sample."""
    np = pytest.importorskip("numpy")
    mse, _, _ = celsius_like([float(c) for c in range(10)])
    page = explore(mse, sample=np.int64(1), max_nodes=np.int64(20))
    assert page.html == explore(mse, sample=1, max_nodes=20).html
    assert page.node_count == 6
    with pytest.raises(TypeError, match=re.escape("explore: sample must be an int, got bool")):
        explore(mse, sample=True)
    with pytest.raises(ValueError, match=re.escape("explore: max_nodes must be an int >= 1")):
        explore(mse, max_nodes=np.float64(20.0))


def test_a_grad_that_is_no_number_is_refused_naming_the_node() -> None:
    """A grad set by hand to a str is a TypeError naming explore, the node and the value."""
    x = Value(1.0, label="x")
    y = x * 2.0
    y.backward()
    x.grad = "oops"  # type: ignore[assignment]  # what a learner might type
    with pytest.raises(TypeError, match=re.escape("explore: the grad of x is not a number: ")):
        explore(y)
    y.grad = [1.0]  # type: ignore[assignment]
    x.grad = 2.0
    with pytest.raises(TypeError, match=re.escape("the grad of n1 is not a number: list")):
        explore(y)


def test_save_and_path_write_the_page(hidden_graph: Any, tmp_path: Path) -> None:
    """path= writes the page at once; save writes the same bytes elsewhere."""
    loss, _ = hidden_graph()
    page = explore(loss, tmp_path / "at-once.html")
    assert (tmp_path / "at-once.html").read_text(encoding="utf-8") == page.html
    assert page.save(tmp_path / "later.html").read_bytes() == page.html.encode()


def test_in_a_notebook_the_page_is_an_isolated_iframe(hidden_graph: Any) -> None:
    """_repr_html_ is an iframe holding the whole page, scripts allowed, origin not shared."""
    loss, _ = hidden_graph()
    page = explore(loss)
    frame = page._repr_html_()
    match = re.fullmatch(r'<iframe srcdoc="([^"]*)" sandbox="allow-scripts" .*></iframe>', frame)
    assert match is not None
    assert html.unescape(match.group(1)) == page.html


def test_a_quiz_page_draws_no_gradient_and_no_local_derivative(hidden_graph: Any) -> None:
    """The quiz picture shows "grad ?" on every node and nothing on the edges until answered."""
    loss, _ = hidden_graph()
    page = explore(loss, quiz=True)
    svg = page.html[page.html.index("<svg") : page.html.index("</svg>")]
    assert re.findall(r'class="grad"[^>]*>([^<]*)<', svg) == ["grad ?"] * 12
    assert re.findall(r'class="edge-label"[^>]*>([^<]*)<', svg) == [""] * 11
    data = page_data(page)
    assert data["quiz"] is True
    assert (data["relTol"], data["absTol"]) == (1e-3, 1e-4)
    assert (
        "right within 0.001 × |the engine's number|, within 0.0001, or within half a unit of "
        "the last digit the page shows (0.00005 here), whichever is largest" in data["stateText"]
    )


def test_a_quiz_states_half_a_unit_of_the_digits_it_shows() -> None:
    """With .2f the page states 0.005, and gives each answer the number it shows and 0.005.

    By hand: y = 0.125 * x at x = 2 has dy/dx = 0.125, shown as 0.12 (.2f rounds the tie to
    even); the gradient of x, 0.125 too, and of y, 1.00. With .1e, 0.125 is shown as 1.2e-01,
    whose last digit is worth 0.01: half of it is 0.005.
    """
    x = Value(2.0, label="x")
    y = x * 0.125
    y.label = "y"
    y.backward()
    data = page_data(explore(y, quiz=True, number_format=".2f"))
    assert "the last digit the page shows (0.005 here)" in data["stateText"]
    assert data["toleranceText"] in data["stateText"]
    (edge,) = data["edges"]
    assert (edge["local"], edge["localShown"], edge["localHalf"]) == ("0.12", 0.12, 0.005)
    shown = {node["name"]: (node["expected"], node["expectedShown"]) for node in data["nodes"]}
    assert shown == {"x": ("0.12", 0.12), "y": ("1.00", 1.0)}
    data = page_data(explore(y, quiz=True, number_format=".1e"))
    (edge,) = data["edges"]
    assert (edge["local"], edge["localShown"], edge["localHalf"]) == ("1.2e-01", 0.12, 0.005)
    assert "here)" not in data["stateText"]  # the last digit's worth varies with the number


def test_an_unlabelled_root_is_named_by_its_position() -> None:
    """Unlabelled nodes are n<i>, i their place in topological_order, as to_text names them."""
    x = Value(1.0, label="x")
    root = (x * 2.0).tanh()
    data = page_data(explore(root))
    assert [node["name"] for node in data["nodes"]] == ["x", "n1", "n2"]
    assert repr(explore(root)).startswith("ExplorerPage(root='n2', nodes=3")


def test_a_graph_over_a_hundred_nodes_still_gets_a_place_for_every_number() -> None:
    """Above 100 nodes dot lays out quickly; every edge still has a label point on the picture."""
    mse, _, _ = celsius_like([float(c) for c in range(25)])
    page = explore(mse)
    assert page.node_count == len(topological_order(mse)) > 100
    svg = page.html[page.html.index("<svg") : page.html.index("</svg>")]
    width, height = (float(v) for v in re.findall(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', svg)[0])
    points = re.findall(r'class="edge-label" id="edge-label-\d+" x="([-\d.]+)" y="([-\d.]+)"', svg)
    assert len(points) == len(page_data(page)["edges"])
    assert all(0 <= float(x) <= width and 0 <= float(y) <= height for x, y in points)
