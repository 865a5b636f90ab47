"""Module, Neuron, Layer and MLP: seeded parameters, names, forward values and gradients."""

from __future__ import annotations

import math
import random

import pytest

from autodiff import Value
from nets.module import MLP, Layer, Module, Neuron, make_rng


def test_neuron_draws_from_its_seed() -> None:
    """Weights then bias are drawn from Random(seed), mapped to [low, high)."""
    reference = random.Random(3)
    expected = [-1.0 + 2.0 * reference.random() for _ in range(3)]
    neuron = Neuron(2, rng=3)
    assert [p.data for p in neuron.parameters()] == expected


def test_neuron_leaves_global_random_state_alone() -> None:
    """Making modules never touches the global random generator."""
    state = random.getstate()
    MLP(3, [4, 4, 1], rng=0)
    assert random.getstate() == state


def test_shared_generator_advances() -> None:
    """Two neurons drawing from one generator get different weights; seeds repeat exactly."""
    generator = random.Random(0)
    first, second = Neuron(1, rng=generator), Neuron(1, rng=generator)
    assert first.parameter_values() != second.parameter_values()
    assert Neuron(1, rng=5).parameter_values() == Neuron(1, rng=5).parameter_values()


def test_make_rng_rejects_other_types() -> None:
    """A float seed raises TypeError rather than silently seeding."""
    with pytest.raises(TypeError, match="seed must be an int"):
        make_rng(1.5)  # type: ignore[arg-type]


def test_neuron_forward_by_hand() -> None:
    """sigmoid(0.5 * 2 + (-1) * 1 + 0.25) = sigmoid(0.25) = 0.5621765008857981."""
    neuron = Neuron.from_weights([0.5, -1.0], bias=0.25, activation="sigmoid")
    assert neuron([2.0, 1.0]).data == pytest.approx(1 / (1 + math.exp(-0.25)), rel=1e-15)


@pytest.mark.parametrize(
    ("activation", "expected"),
    [("linear", -0.5), ("relu", 0.0), ("tanh", math.tanh(-0.5)), ("sigmoid", 0.3775406687981454)],
)
def test_activations(activation: str, expected: float) -> None:
    """Each activation applied to a pre-activation of -0.5 (w = 1, x = -0.5, no bias)."""
    neuron = Neuron.from_weights([1.0], None, activation=activation)  # type: ignore[arg-type]
    assert neuron([-0.5]).data == pytest.approx(expected, rel=1e-12, abs=1e-15)


def test_neuron_gradients_by_hand() -> None:
    """For y = w1 x1 + w2 x2 + b: dy/dw_i = x_i and dy/db = 1."""
    neuron = Neuron.from_weights([0.3, -0.7], bias=0.1)
    neuron([2.0, -3.0]).backward()
    assert [p.grad for p in neuron.parameters()] == [2.0, -3.0, 1.0]


def test_labels_and_names() -> None:
    """Neuron names are labels; Layer and MLP prefix neuron and layer indices."""
    assert [n for n, _ in Neuron(2, rng=0).named_parameters()] == ["w1", "w2", "b"]
    assert [n for n, _ in Layer(1, 2, rng=0).named_parameters()] == ["0.w1", "0.b", "1.w1", "1.b"]
    names = [n for n, _ in MLP(2, [3, 1], rng=0).named_parameters()]
    assert names[0] == "0.0.w1"
    assert names[-1] == "1.0.b"
    assert len(names) == 3 * 3 + 4
    custom = Neuron.from_weights([1.0], 2.0, weight_labels=["weight"], bias_label="bias")
    assert custom.parameter_values() == {"weight": 1.0, "bias": 2.0}


def test_pre_activation_labels() -> None:
    """sum_label and out_label name the pre-activation and the output nodes."""
    out = Neuron.from_weights([1.0], None, activation="tanh")([0.5], sum_label="z", out_label="a")
    assert out.label == "a"
    assert out.parents[0].label == "z"


def test_layer_and_mlp_always_return_lists() -> None:
    """Layer and MLP return a list even for a single output."""
    assert isinstance(Layer(2, 1, rng=0)([1.0, 2.0]), list)
    outputs = MLP(2, [3, 1], rng=0)([1.0, 2.0])
    assert isinstance(outputs, list)
    assert len(outputs) == 1
    assert isinstance(outputs[0], Value)


def test_mlp_gradient_matches_central_differences() -> None:
    """Every MLP parameter's gradient matches a central difference (h = 1e-6) to rel 1e-6."""
    mlp = MLP(2, [3, 2], rng=11)
    inputs = [0.7, -0.4]

    def loss() -> Value:
        a, b = mlp(inputs)
        return (a - 0.5) ** 2 + (b + 0.25) ** 2

    mlp.zero_grad()
    loss().backward()
    h = 1e-6
    for name, param in mlp.named_parameters():
        original = param.data
        param.data = original + h
        up = loss().data
        param.data = original - h
        down = loss().data
        param.data = original
        assert param.grad == pytest.approx((up - down) / (2 * h), rel=1e-6, abs=1e-9), name


def test_zero_grad() -> None:
    """zero_grad resets every parameter's gradient."""
    mlp = MLP(1, [2, 1], rng=0)
    mlp([1.0])[0].backward()
    mlp.zero_grad()
    assert all(p.grad == 0.0 for p in mlp.parameters())


def test_load_parameter_values() -> None:
    """Parameters can be set by name; an unknown name raises KeyError."""
    neuron = Neuron(1, rng=0)
    neuron.load_parameter_values({"w1": 4.0, "b": -1.0})
    assert neuron.parameter_values() == {"w1": 4.0, "b": -1.0}
    with pytest.raises(KeyError, match="no parameter named 'w9'"):
        neuron.load_parameter_values({"w9": 1.0})


def test_errors() -> None:
    """Wrong input counts, activations, sizes and the abstract base raise clear errors."""
    with pytest.raises(ValueError, match="expected 2 inputs, got 1"):
        Neuron(2, rng=0)([1.0])
    with pytest.raises(ValueError, match="unknown activation"):
        Neuron(1, rng=0, activation="softplus")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="n_inputs must be an int >= 1"):
        Neuron(0, rng=0)
    with pytest.raises(ValueError, match="n_outputs"):
        Layer(1, 0, rng=0)
    with pytest.raises(ValueError, match="at least one layer"):
        MLP(1, [], rng=0)
    with pytest.raises(NotImplementedError):
        Module().parameters()
