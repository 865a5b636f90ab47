"""The tutorial networks trained through the tape give the eager engine's numbers exactly."""

from __future__ import annotations

import pytest

from autodiff import Tape, detect_anomaly
from nets import celsius, hidden, neuron, registry
from nets.network import Network
from nets.training import fit_replayed

BACKENDS = ("python", "numpy")


@pytest.mark.parametrize("backend", BACKENDS)
def test_neuron_training_replayed_equals_eager(backend):
    """Tutorial 000: 300 steps through a tape give fit's history, bit for bit."""
    eager = neuron.train(steps=300, lr=0.5, seed=3)
    model = neuron.model(seed=3)

    def build():
        error, predicted = neuron.loss(model)
        return error, {"predicted": predicted}

    replayed = fit_replayed(model, build, net="neuron", steps=300, lr=0.5, seed=3, backend=backend)
    assert replayed.losses == eager.losses
    assert replayed.params == eager.params
    assert replayed.outputs == eager.outputs


@pytest.mark.parametrize("backend", BACKENDS)
def test_hidden_training_replayed_equals_eager(backend):
    """Tutorial 001: 50 steps through a tape give fit's history, bit for bit."""
    eager = hidden.train(steps=50, lr=0.1)
    net = hidden.HiddenNet()

    def build():
        total, y = hidden.loss(net)
        return total, {"y": y}

    replayed = fit_replayed(net, build, net="hidden", steps=50, lr=0.1, seed=0, backend=backend)
    assert replayed.losses == eager.losses
    assert replayed.params == eager.params
    assert replayed.outputs == eager.outputs


@pytest.mark.parametrize("backend", BACKENDS)
def test_celsius_training_replayed_equals_eager(backend):
    """Tutorial 002: 400 steps over 100 samples through a tape give fit's history, bit for bit."""
    eager = celsius.train(steps=400, seed=5)
    model = celsius.model(seed=5)
    replayed = fit_replayed(
        model,
        lambda: (celsius.loss(model), {}),
        net="celsius",
        steps=400,
        lr=celsius.DEFAULT_LR,
        seed=5,
        backend=backend,
    )
    assert replayed.losses == eager.losses
    assert replayed.params == eager.params


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("upstream", [1.0, -0.75])
def test_celsius_gradients_with_upstream_gradient(backend, upstream):
    """One replayed backward of tutorial 002's loss with a non-unit seed equals eager's."""
    model = celsius.model(seed=1)
    loss = celsius.loss(model)
    loss.backward(upstream)
    expected = [p.grad for p in model.parameters()]
    model.zero_grad()
    tape = Tape(loss, backend=backend)
    tape.backward(upstream)
    assert [p.grad for p in model.parameters()] == expected


def test_fit_replayed_refuses_negative_steps():
    """Like fit, fit_replayed refuses a negative number of steps with a ValueError."""
    model = celsius.model(seed=0)
    with pytest.raises(ValueError, match="steps"):
        fit_replayed(model, lambda: (celsius.loss(model), {}), net="c", steps=-1, lr=0.1, seed=0)


@pytest.mark.parametrize("network", registry.NETWORKS, ids=registry.names())
def test_every_network_trains_the_same_eager_and_replayed(network: Network) -> None:
    """Each network's default (a tape) and eager=True give the same history, bit for bit.

    (For moons this replaces the moons tests' own tape-against-eager check.)

    neuron and hidden replay with the python backend (bitwise by construction); celsius and
    moons with numpy, which computes their operations (+ - * /, squares, relu) exactly as eager.
    """
    settings = {"steps": 3, "lr": network.lr, "seed": network.seed, "callback": None}
    replayed = network.train(**settings)
    eager = network.train(**settings, eager=True)
    assert replayed.losses == eager.losses
    assert replayed.params == eager.params
    assert replayed.outputs == eager.outputs
    assert replayed.summary() == eager.summary()


@pytest.mark.parametrize("network", registry.NETWORKS, ids=registry.names())
def test_eager_builds_the_graph_and_the_default_replays_it(network: Network) -> None:
    """Anomaly mode, which a tape refuses, shows the engine: eager=True trains, the default not."""
    settings = {"steps": 0, "lr": network.lr, "seed": network.seed, "callback": None}
    with detect_anomaly():  # no step: just the loss of the untrained network
        assert len(network.train(**settings, eager=True).losses) == 1
        with pytest.raises(RuntimeError, match="tape"):
            network.train(**settings)
