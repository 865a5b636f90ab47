"""The registry: every network fills the same interface, and the command line knows none by name."""

from __future__ import annotations

import importlib
import json
import pathlib
import re

import pytest

from autodiff import Value
from nets import registry
from nets.network import Network

NETWORKS = registry.NETWORKS
IDS = [network.name for network in NETWORKS]


def test_names_are_unique_and_in_tutorial_order() -> None:
    """The registry lists the tutorials in order, each name once."""
    assert registry.names() == ["neuron", "hidden", "celsius", "moons"]
    assert len(set(registry.names())) == len(NETWORKS)


def test_get_unknown_name_lists_the_names() -> None:
    """Looking up a name that is not there raises KeyError naming the networks there are."""
    with pytest.raises(KeyError, match="neuron, hidden, celsius, moons"):
        registry.get("perceptron")


@pytest.mark.parametrize("network", NETWORKS, ids=IDS)
def test_train_records_the_settings(network: Network) -> None:
    """Each network's train takes the shared keywords and records its name, steps and lr."""
    history = network.train(steps=2, lr=network.lr, seed=network.seed, callback=None)
    assert (history.net, history.steps, history.lr) == (network.name, 2, network.lr)
    assert len(history.losses) == 3


@pytest.mark.parametrize("network", NETWORKS, ids=IDS)
def test_graph_is_backpropagated_at_the_starting_parameters(network: Network) -> None:
    """The drawn graph's parameter leaves hold the run's starting numbers and a gradient.

    A network whose whole graph is too large to draw (moons) draws a part of it: the parameters
    in that part hold their starting numbers.
    """
    history = network.train(steps=2, lr=network.lr, seed=network.seed, callback=None)
    root = network.graph(history)
    assert isinstance(root, Value)
    leaves = {}
    stack, seen = [root], set()
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        if node.is_leaf and node.label in history.params:
            leaves[node.label] = node
        stack.extend(node.parents)
    assert leaves
    assert {name: leaf.data for name, leaf in leaves.items()} == {
        name: history.initial_params[name] for name in leaves
    }
    if network.list_params:  # a small network draws its whole graph: every parameter
        assert set(leaves) == set(history.params)
    assert any(leaf.grad for leaf in leaves.values())


@pytest.mark.parametrize("network", NETWORKS, ids=IDS)
def test_details_are_json_and_notes_are_lines(network: Network) -> None:
    """details survive a JSON round trip unchanged and notes are single lines of text."""
    history = network.train(steps=1, lr=network.lr, seed=network.seed, callback=None)
    numbers = network.details(history)
    assert json.loads(json.dumps(numbers)) == numbers
    lines = network.notes(history)
    assert lines
    assert all(isinstance(line, str) and "\n" not in line for line in lines)


@pytest.mark.parametrize("network", NETWORKS, ids=IDS)
def test_figures_write_the_named_files(network: Network, tmp_path: pathlib.Path) -> None:
    """figures writes exactly the files figure_names announces, as PNG."""
    pytest.importorskip("matplotlib")
    history = network.train(steps=3, lr=network.lr, seed=network.seed, callback=None)
    paths = network.figures(history, tmp_path)
    assert tuple(path.name for path in paths) == network.figure_names
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(network.figure_names)
    assert all(path.read_bytes()[:4] == b"\x89PNG" for path in paths)


def test_the_command_line_names_no_network() -> None:
    """nets/__main__.py holds no network's name, so a new network needs no edit there."""
    import nets.__main__ as cli

    source = pathlib.Path(cli.__file__).read_text(encoding="utf-8")
    code = re.sub(r'"""(.*?)"""', "", source, flags=re.S)  # docstrings may give examples
    for name in registry.names():
        assert f'"{name}"' not in code, name


@pytest.mark.parametrize("network", NETWORKS, ids=IDS)
def test_numpy_integers_are_taken_for_steps_and_seed(network: Network) -> None:
    """train(steps=np.int64, seed=np.int64) trains as the Python ints do; bools are refused."""
    np = pytest.importorskip("numpy")
    module = importlib.import_module(f"nets.{network.name}")
    given = module.train(steps=np.int64(2), seed=np.int64(3))
    assert given.losses == module.train(steps=2, seed=3).losses
    assert given.summary() == module.train(steps=2, seed=3).summary()
    with pytest.raises(TypeError, match=f"{network.name}: seed must be an int, got bool"):
        module.train(steps=2, seed=True)
    with pytest.raises(TypeError, match=f"{network.name}: seed must be an int, got float"):
        module.train(steps=2, seed=3.0)
    with pytest.raises(TypeError, match=f"{network.name}: steps must be an int, got float"):
        module.train(steps=2.0, seed=3)
