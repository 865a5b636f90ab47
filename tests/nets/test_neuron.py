"""Tutorial 000: the sigmoid neuron, its first step, convergence, and the tutorial's slip."""

from __future__ import annotations

import itertools
import math
import random

import pytest

from autodiff import topological_order
from nets import neuron


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def test_weight_comes_from_the_seed() -> None:
    """The weight is Random(seed).random(), like numpy.random.rand() in the tutorial."""
    assert neuron.model(seed=4).weights[0].data == random.Random(4).random()


def test_first_step_by_hand() -> None:
    """One step: p = σ(0.1 w), dE/dw = 2 (p - 0.3) p (1 - p) 0.1, w' = w - 0.5 dE/dw."""
    w = random.Random(0).random()
    p = _sigmoid(0.1 * w)
    grad = 2 * (p - 0.3) * p * (1 - p) * 0.1
    history = neuron.train(steps=1, lr=0.5, seed=0)
    assert history.losses[0] == pytest.approx((p - 0.3) ** 2, rel=1e-14)
    assert history.outputs["predicted"][0] == pytest.approx(p, rel=1e-14)
    assert history.params["w"][1] == pytest.approx(w - 0.5 * grad, rel=1e-14)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_lr_half_reaches_target_in_ten_thousand_steps(seed: int) -> None:
    """The tutorial's claim: lr 0.5 and 10 000 steps bring the prediction to 0.3 (within 0.002)."""
    history = neuron.train(steps=10_000, lr=0.5, seed=seed)
    assert history.final_outputs["predicted"] == pytest.approx(0.3, abs=0.002)
    assert history.final_loss < 4e-6


def test_lr_hundredth_is_slow() -> None:
    """With lr 0.01 the same 10 000 steps leave the prediction far from 0.3 (above 0.45)."""
    history = neuron.train(steps=10_000, lr=0.01, seed=0)
    assert history.final_outputs["predicted"] > 0.45


def test_loss_decreases_monotonically() -> None:
    """Small steps on this one-weight problem lower the error at every step."""
    losses = neuron.train(steps=500, lr=0.5, seed=1).losses
    assert all(b < a for a, b in itertools.pairwise(losses))


def test_engine_gradient_is_the_chain_rule() -> None:
    """The engine's dE/dw equals 2 (p - t) σ'(sop) x and a central difference (h = 1e-6)."""
    w, x, t = 0.8, 0.1, 0.3
    p = _sigmoid(w * x)
    expected = 2 * (p - t) * p * (1 - p) * x

    def error(weight: float) -> float:
        return (_sigmoid(weight * x) - t) ** 2

    central = (error(w + 1e-6) - error(w - 1e-6)) / 2e-6
    (engine,) = neuron.engine_gradient([w])
    assert engine == pytest.approx(expected, rel=1e-14)
    assert engine == pytest.approx(central, rel=1e-6)


def test_tutorial_slip_differs_by_the_predicted_amount() -> None:
    """Tutorial minus engine = 2 (p - t) x (σ(p)(1 - σ(p)) - p(1 - p)), and is not zero."""
    for w in (0.0, 0.5, 0.8444, -3.0):
        p = _sigmoid(0.1 * w)
        predicted_gap = 2 * (p - 0.3) * 0.1 * (_sigmoid(p) * (1 - _sigmoid(p)) - p * (1 - p))
        (slipped,) = neuron.tutorial_gradient([w])
        (engine,) = neuron.engine_gradient([w])
        assert slipped - engine == pytest.approx(predicted_gap, rel=1e-9)
        assert abs(slipped - engine) > 1e-4


def test_n_inputs() -> None:
    """With 3 inputs of 0.1 every weight gets the same gradient and the prediction reaches 0.3."""
    (g1, g2, g3) = neuron.engine_gradient([0.2, 0.5, 0.9])
    p = _sigmoid(0.1 * (0.2 + 0.5 + 0.9))
    assert g1 == g2 == g3 == pytest.approx(2 * (p - 0.3) * p * (1 - p) * 0.1, rel=1e-14)
    history = neuron.train(steps=10_000, lr=0.5, seed=0, inputs=3)
    assert list(history.params) == ["w1", "w2", "w3"]
    assert history.final_outputs["predicted"] == pytest.approx(0.3, abs=1e-4)


def test_bad_inputs() -> None:
    """Zero inputs raise ValueError."""
    with pytest.raises(ValueError, match="inputs must be an int >= 1"):
        neuron.train(steps=1, inputs=0)


def test_graph_after_backward() -> None:
    """graph() returns the error with the weight's gradient filled in."""
    root = neuron.graph({"w": 0.8})
    (w,) = [node for node in topological_order(root) if node.label == "w"]
    assert root.label == "error"
    assert w.grad == pytest.approx(neuron.engine_gradient([0.8])[0], rel=1e-15)
