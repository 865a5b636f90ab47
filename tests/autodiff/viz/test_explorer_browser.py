"""The explorer page driven in headless Chromium: what a learner clicks and reads is the engine's.

Each test opens a page from disk (a ``file://`` URL), acts on it as a learner would, and at the
end checks that the browser logged no error and that the page asked for nothing but itself: the
DevTools performance log lists every request, and Chromium runs with every host name unresolved
and a proxy that refuses, so a request could not succeed anyway.

These tests need Debian's ``chromium`` and ``chromium-driver`` (``make test`` installs them) and
``selenium``; without them they skip locally and fail when ``CI=true``.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from autodiff import OPS, Value, explain, partials, topological_order
from autodiff.viz import ExplorerPage, explore

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
    # Any request would fail: no name resolves, and the proxy is a port nothing listens on.
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
)


def _missing() -> str | None:
    """Why the browser cannot run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "the selenium package is not installed (pip install -e '.[dev]')"
    if shutil.which("chromium") is None and shutil.which("chromium-browser") is None:
        return "Chromium is not installed (apt-get install chromium)"
    if shutil.which("chromedriver") is None:
        return "ChromeDriver is not installed (apt-get install chromium-driver)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One headless Chromium for the module's tests, logging console and network events."""
    missing = _missing()
    if missing is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests cannot run in CI: {missing}")
        pytest.skip(missing)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary is not None
    options.binary_location = binary
    for flag in FLAGS:
        options.add_argument(flag)
    profile = tempfile.mkdtemp(prefix="explorer-chromium-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


class Opened:
    """A page loaded in the browser, with helpers to act on it and read it."""

    def __init__(self, driver: Any, url: str) -> None:
        self.driver = driver
        self.url = url

    def find(self, css: str) -> Any:
        from selenium.webdriver.common.by import By

        return self.driver.find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str) -> list[Any]:
        from selenium.webdriver.common.by import By

        return list(self.driver.find_elements(By.CSS_SELECTOR, css))

    def text(self, css: str) -> str:
        return str(self.find(css).get_attribute("textContent"))

    def field(self, name: str) -> str:
        """A field of the node panel: name, data, grad, formula, chain..."""
        return self.text(f'#panel [data-field="{name}"]')

    def click_node(self, i: int) -> None:
        self.find(f"#node-{i}").click()

    def classes(self, css: str) -> set[str]:
        return set(str(self.find(css).get_attribute("class")).split())

    def press(self, key: str) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        ActionChains(self.driver).send_keys(key).perform()

    def assert_quiet(self) -> None:
        """The page logged no error and requested nothing but its own file."""
        errors = [entry for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]
        assert errors == []
        events = [
            json.loads(entry["message"])["message"] for entry in self.driver.get_log("performance")
        ]
        requested = [
            event["params"]["request"]["url"]
            for event in events
            if event["method"] == "Network.requestWillBeSent"
        ]
        assert self.url in requested  # the log does record requests
        assert [url for url in requested if url != self.url] == []


@pytest.fixture
def open_page(browser: Any, tmp_path: Path) -> Callable[[ExplorerPage], Opened]:
    """Save a page to disk and load it from there, with the logs emptied first."""
    from selenium.webdriver.support.ui import WebDriverWait

    def load(page: ExplorerPage) -> Opened:
        path = page.save(tmp_path / "page.html")
        browser.get("about:blank")
        browser.get_log("browser")
        browser.get_log("performance")
        url = path.as_uri()
        browser.get(url)
        WebDriverWait(browser, 20).until(
            lambda driver: driver.execute_script("return document.body.dataset.ready") == "true"
        )
        return Opened(browser, url)

    return load


# Tutorial 001's printed numbers (tutorials/hidden.md), rounded to the page's 4 decimals.
TUTORIAL_DATA = {"z": "0.5000", "a": "0.6225", "y": "-0.6225", "L": "0.1937"}
TUTORIAL_GRADS = {
    "W1": "0.1463",  # 0.14628025
    "b1": "0.1463",  # 0.14628025
    "W2": "-0.3875",  # -0.38745562
    "b2": "-0.6225",  # -0.62245933
    "z": "0.1463",
    "a": "0.6225",  # 0.62245933
    "y": "-0.6225",
    "L": "1.0000",
}
# Its 12 nodes in topological order, as worked out by hand from the code: the unlabelled ones
# are named by position (n2 = W1 * x, n6 = W2 * a, n9 = y - t, n10 = (y - t) ** 2).
TUTORIAL_ORDER = ["W2", "W1", "n2", "b1", "z", "a", "n6", "b2", "y", "n9", "n10", "L"]
# Interior nodes, counted by hand: W1*x, +b1, sigmoid, W2*a, +b2, -t, **2, 0.5*.
TUTORIAL_INTERIOR = 8


def test_clicking_each_node_shows_its_data_and_grad(hidden_graph: Any, open_page: Any) -> None:
    """Clicking each node of tutorial 001's graph shows its name, data and grad to 4 decimals."""
    loss, named = hidden_graph()
    page = open_page(explore(loss))
    order = topological_order(loss)
    assert len(order) == len(TUTORIAL_ORDER)
    for i, node in enumerate(order):
        page.click_node(i)
        assert page.field("name") == TUTORIAL_ORDER[i]
        assert page.field("data") == f"{node.data:.4f}"
        assert page.field("grad") == f"{node.grad:.4f}"
    for name, expected in TUTORIAL_GRADS.items():
        page.click_node(order.index(named[name]))
        assert page.field("grad") == expected
    for name, expected in TUTORIAL_DATA.items():
        page.click_node(order.index(named[name]))
        assert page.field("data") == expected
    page.assert_quiet()


def test_a_clicked_node_shows_its_formula_local_derivative_chain_and_paths(
    hidden_graph: Any, open_page: Any
) -> None:
    """Clicking a shows sigmoid's formula, da/dz = 0.2350, explain's chain and a's paths lit."""
    loss, named = hidden_graph()
    page = open_page(explore(loss))
    order = topological_order(loss)
    page.click_node(order.index(named["a"]))
    assert page.field("formula") == OPS["sigmoid"].formula
    # sigma'(0.5) = a (1 - a) = 0.62245933 * 0.37754067 = 0.23500371 (tutorials/hidden.md).
    assert page.field("locals").startswith("da/dz = 0.2350")
    assert page.field("chain") == str(explain(loss, named["a"]))
    lit = {TUTORIAL_ORDER[i] for i in range(len(order)) if "path" in page.classes(f"#node-{i}")}
    assert lit == {"a", "n6", "y", "n9", "n10", "L"}  # a and everything after it
    assert "selected" in page.classes(f"#node-{order.index(named['a'])}")
    page.assert_quiet()


def test_stepping_backward_to_the_end_shows_every_gradient(
    hidden_graph: Any, open_page: Any
) -> None:
    """The backward stepper has one step per interior node and ends with every gradient shown."""
    loss, _ = hidden_graph()
    page = open_page(explore(loss))
    page.find("#mode-backward").click()
    assert page.find("#slider").get_attribute("max") == str(TUTORIAL_INTERIOR)
    steps = 0
    while page.find("#next").is_enabled():
        page.find("#next").click()
        steps += 1
    assert steps == TUTORIAL_INTERIOR
    assert page.text("#position") == f"step {TUTORIAL_INTERIOR} of {TUTORIAL_INTERIOR}"
    for i, node in enumerate(topological_order(loss)):
        assert page.text(f"#node-{i}-grad") == f"grad {node.grad:.4f}"
    for name, expected in TUTORIAL_GRADS.items():
        assert page.text(f"#node-{TUTORIAL_ORDER.index(name)}-grad") == f"grad {expected}"
    page.press("\ue012")  # the left arrow key: one step back
    assert page.text("#position") == f"step {TUTORIAL_INTERIOR - 1} of {TUTORIAL_INTERIOR}"
    assert page.text(f"#node-{TUTORIAL_ORDER.index('W1')}-grad") == "grad ·"  # not reached yet
    page.press("\ue014")  # the right arrow key
    assert page.text(f"#node-{TUTORIAL_ORDER.index('W1')}-grad") == "grad 0.1463"
    page.assert_quiet()


def test_a_node_reached_by_two_edges_adds_what_they_send(open_page: Any) -> None:
    """f = 3x + x: x gets 1 from f's edge, then 3 from y's, and shows 1 + 3 = 4 (the +=)."""
    x = Value(2.0, label="x")
    y = x * 3.0
    y.label = "y"
    f = y + x
    f.label = "f"
    f.backward()
    page = open_page(explore(f))
    order = topological_order(f)  # x, y, f
    assert [node.label for node in order] == ["x", "y", "f"]
    page.find("#mode-backward").click()
    page.find("#next").click()  # f sends 1 to y and 1 to x
    assert page.text("#node-0-grad") == "grad 1.0000"
    assert page.text("#node-0-sum") == ""
    page.find("#next").click()  # y sends 1 * 3 to x
    assert page.text("#node-0-grad") == "grad 4.0000"
    assert page.text("#node-0-sum") == "= 1.0000 + 3.0000"
    caption = page.text("#caption")
    assert "x.grad = 1.0000 + 3.0000 = 4.0000" in caption
    assert "+=" in caption
    page.assert_quiet()


def test_forward_stepper_computes_the_nodes_in_topological_order(
    hidden_graph: Any, open_page: Any
) -> None:
    """Each forward step reveals the next node's value and says how it was computed."""
    loss, _ = hidden_graph()
    page = open_page(explore(loss))
    page.find("#mode-forward").click()
    order = topological_order(loss)
    assert all(page.text(f"#node-{i}-data") == "data ?" for i in range(len(order)))
    for _ in range(TUTORIAL_ORDER.index("z") + 1):
        page.find("#next").click()
    assert page.text("#caption").endswith("z = n2 + b1 = 0.5000 + 0.0000 = 0.5000")
    assert page.text(f"#node-{TUTORIAL_ORDER.index('z')}-data") == "data 0.5000"
    assert page.text(f"#node-{TUTORIAL_ORDER.index('a')}-data") == "data ?"
    assert page.find("#slider").get_attribute("max") == "12"
    page.assert_quiet()


def test_a_fresh_graph_says_backward_has_not_run(hidden_graph: Any, open_page: Any) -> None:
    """Before backward the page says so and shows no grad of 0 as if it were a gradient."""
    loss, named = hidden_graph(backward=False)
    page = open_page(explore(loss))
    assert "has not run" in page.text("#state")
    order = topological_order(loss)
    for i in range(len(order)):
        page.click_node(i)
        assert "0.0000" not in page.field("grad")
        assert "not computed" in page.field("grad")
        assert page.text(f"#node-{i}-grad") == "grad —"
    # The backward stepper still shows what backward() will compute.
    page.find("#mode-backward").click()
    page.press("\ue010")  # End
    assert page.text(f"#node-{order.index(named['W1'])}-grad") == "grad 0.1463"
    page.assert_quiet()


def test_nasty_labels_are_shown_as_text_and_never_run(
    nasty_graph: Any, nasty_labels: tuple[str, ...], open_page: Any
) -> None:
    """Quotes, markup, braces and emoji in labels appear literally; no script in them runs."""
    root, _nodes = nasty_graph()
    page = open_page(explore(root))
    order = topological_order(root)
    shown = set()
    for i, node in enumerate(order):
        page.click_node(i)
        assert page.field("name") == node.label
        shown.add(page.field("name"))
    assert shown == set(nasty_labels)
    assert page.driver.title == f"Explore {root.label}"
    assert page.driver.execute_script("return window.__pwned === undefined")
    assert page.find_all("#panel img, #panel script, #graph script, #graph img") == []
    page.assert_quiet()


def _answer(page: Opened, row: Any, text: str) -> None:
    from selenium.webdriver.common.keys import Keys

    box = row.find_element("css selector", "input")
    box.clear()
    box.send_keys(text, Keys.ENTER)


def test_quiz_typing_the_engines_numbers_marks_everything_right(
    hidden_graph: Any, open_page: Any
) -> None:
    """In the exercise, every gradient and local derivative typed to 4 decimals is right."""
    loss, _ = hidden_graph()
    page = open_page(explore(loss, quiz=True))
    order = topological_order(loss)
    assert all(page.text(f"#node-{i}-grad") == "grad ?" for i in range(len(order)))
    assert {page.text(f"#edge-label-{k}") for k in range(11)} == {"?"}
    page.find("#node-0").click()
    assert "hidden" in page.field("grad")
    rows = page.find_all("#exercise .question")
    assert len(rows) == len(order) + 11  # 12 gradients; 11 edges: 1+2+1+2+2+1+1+1, by hand
    for row in rows:
        node = order[int(row.get_attribute("data-node"))]
        if row.get_attribute("data-kind") == "node":
            expected = node.grad
        else:
            expected = partials(node)[int(row.get_attribute("data-index"))]
        _answer(page, row, f"{expected:.4f}")
    for row in rows:
        assert "right" in str(row.get_attribute("class")).split()
    assert page.text("#score").startswith(f"right: {len(rows)} of {len(rows)}")
    w1 = TUTORIAL_ORDER.index("W1")
    assert page.text(f"#node-{w1}-grad") == "grad ✓ 0.1463"
    page.assert_quiet()


@pytest.mark.parametrize(
    ("number_format", "w1_shown", "w1_one_up"),
    [
        # W1's gradient is 0.14628025 (tutorial 001, printed to 8 digits), rounded by hand.
        (".2f", "0.15", "0.16"),
        (".3g", "0.146", "0.147"),
        (".1e", "1.5e-01", "1.6e-01"),
    ],
)
def test_quiz_typing_the_numbers_as_shown_marks_everything_right(
    hidden_graph: Any, open_page: Any, number_format: str, w1_shown: str, w1_one_up: str
) -> None:
    """Typed as the page shows them (.2f, .3g, .1e), the engine's numbers are all right.

    The page rounds to its format, so a right answer may be half a unit of the last digit off
    the engine's number: 0.15 for 0.14628 with .2f. One unit further (0.16) is still wrong.
    """
    loss, _ = hidden_graph()
    page = open_page(explore(loss, quiz=True, number_format=number_format))
    order = topological_order(loss)
    rows = page.find_all("#exercise .question")
    assert len(rows) == len(order) + 11
    for row in rows:
        node = order[int(row.get_attribute("data-node"))]
        if row.get_attribute("data-kind") == "node":
            expected = node.grad
        else:
            expected = partials(node)[int(row.get_attribute("data-index"))]
        _answer(page, row, format(expected, number_format))
    wrong = [row.get_attribute("data-question") for row in rows if "right" not in _classes(row)]
    assert wrong == []
    assert page.text("#score").startswith(f"right: {len(rows)} of {len(rows)}")
    w1 = TUTORIAL_ORDER.index("W1")
    assert page.text(f"#node-{w1}-grad") == f"grad ✓ {w1_shown}"
    if number_format == ".2f":
        assert "half a unit of the last digit the page shows (0.005 here)" in page.text("#exercise")
    w1_row = page.find(f'#exercise .question[data-kind="node"][data-node="{w1}"]')
    _answer(page, w1_row, w1_one_up)
    assert "wrong" in _classes(w1_row)
    w1_row.find_element("css selector", ".reveal-button").click()
    assert w1_row.find_element("css selector", "input").get_attribute("value") == w1_shown
    page.assert_quiet()


def test_quiz_accepts_the_shown_number_written_another_way(open_page: Any) -> None:
    """y = 0.125 * x: dy/dx = 0.125 exactly is shown as 0.12 (.2f rounds half to even).

    0.12 is exactly half a unit from 0.125, where floating point puts it just outside a
    tolerance of 0.005; typed as shown, or as 0.120, it is still right.
    """
    x = Value(2.0, label="x")
    y = x * 0.125
    y.label = "y"
    y.backward()
    page = open_page(explore(y, quiz=True, number_format=".2f"))
    row = page.find('#exercise .question[data-kind="edge"]')
    for typed, state in (("0.12", "right"), ("0.120", "right"), ("0.11", "wrong")):
        _answer(page, row, typed)
        assert state in _classes(row), typed
    page.assert_quiet()


def _classes(element: Any) -> list[str]:
    return str(element.get_attribute("class")).split()


def test_quiz_marks_a_wrong_factor_wrong_with_a_hint_and_a_reveal(
    hidden_graph: Any, open_page: Any
) -> None:
    """da/dz typed as sigmoid' taken at a (tutorial 000's slip) is wrong; hint and reveal help."""
    loss, named = hidden_graph()
    page = open_page(explore(loss, quiz=True))
    order = topological_order(loss)
    row = next(
        r
        for r in page.find_all('#exercise .question[data-kind="edge"]')
        if order[int(r.get_attribute("data-node"))] is named["a"]
    )
    a = named["a"].data
    slip = (1 / (1 + math.exp(-a))) * (1 - 1 / (1 + math.exp(-a)))  # 0.2288, not 0.2350
    _answer(page, row, f"{slip:.4f}")
    assert "wrong" in str(row.get_attribute("class")).split()
    assert row.find_element("css selector", ".mark").get_attribute("textContent") == "✗ wrong"
    hint_button = row.find_element("css selector", ".hint-button")
    assert hint_button.is_displayed()
    hint_button.click()
    hint = str(row.find_element("css selector", ".hint").get_attribute("textContent"))
    assert OPS["sigmoid"].formula in hint
    assert "x = z = 0.5000" in hint
    row.find_element("css selector", ".reveal-button").click()
    assert row.find_element("css selector", "input").get_attribute("value") == "0.2350"
    assert "revealed" in str(row.get_attribute("class")).split()
    page.assert_quiet()


def test_playing_the_backward_pass_runs_to_the_end(hidden_graph: Any, open_page: Any) -> None:
    """The play button steps on by itself until the last step, then stops."""
    from selenium.webdriver.support.ui import WebDriverWait

    loss, _ = hidden_graph()
    page = open_page(explore(loss))
    page.find("#mode-backward").click()
    page.find("#play").click()
    last = f"step {TUTORIAL_INTERIOR} of {TUTORIAL_INTERIOR}"
    WebDriverWait(page.driver, 60).until(lambda _: page.text("#position") == last)
    assert page.text("#play").endswith("play")
    page.assert_quiet()


def test_a_sample_view_says_what_comes_from_the_other_samples(open_page: Any) -> None:
    """sample=1 of errors (-1, 1, 3) at c = 0, 10, 20: weight gets 40 of its 46.67 from outside.

    dMSE/dweight = 2/3 * (0 * -1 + 10 * 1 + 20 * 3) = 46.6667; the undrawn samples give
    2/3 * 60 = 40; the drawn term's own gradient is dMSE/dterm = 1/3.
    """
    weight = Value(2.0, label="weight")
    bias = Value(31.0, label="bias")
    terms = [((weight * c + bias) - (1.8 * c + 32.0)) ** 2 for c in (0.0, 10.0, 20.0)]
    mse = (terms[0] + terms[1] + terms[2]) / 3
    mse.label = "MSE"
    mse.backward()
    page = open_page(explore(mse, sample=1))
    assert "Sample 1 of 3" in page.text("#view-summary")
    page.click_node(0)
    assert page.field("name") == "weight"
    assert page.field("grad") == "46.6667"
    assert "from outside this view: 40.0000" in page.field("received")
    page.find("#mode-backward").click()
    top = len(page.find_all("#graph .node")) - 1
    assert page.text(f"#node-{top}-grad") == "grad 0.3333"  # seeded from outside the view
    page.press("\ue010")  # End
    assert page.text("#node-0-grad") == "grad 46.6667"
    assert page.text("#node-0-sum") == "= 40.0000 (outside) + 6.6667"
    page.assert_quiet()


def test_the_notebook_display_runs_inside_its_frame(
    hidden_graph: Any, browser: Any, tmp_path: Path
) -> None:
    """_repr_html_'s sandboxed iframe runs the page: clicking W1 there shows dL/dW1 = 0.1463."""
    from selenium.webdriver.support.ui import WebDriverWait

    loss, named = hidden_graph()
    host = tmp_path / "notebook.html"
    host.write_text(
        f"<!DOCTYPE html><html><body>{explore(loss)._repr_html_()}</body></html>",
        encoding="utf-8",
    )
    browser.get("about:blank")
    browser.get_log("browser")
    browser.get(host.as_uri())
    browser.switch_to.frame(browser.find_element("css selector", "iframe"))
    try:
        WebDriverWait(browser, 20).until(
            lambda driver: driver.execute_script("return document.body.dataset.ready") == "true"
        )
        page = Opened(browser, host.as_uri())
        page.click_node(topological_order(loss).index(named["W1"]))
        assert page.field("grad") == "0.1463"
    finally:
        browser.switch_to.default_content()
    assert [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"] == []
