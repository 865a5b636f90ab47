"""Tutorial 002: the data, one step by hand, convergence to 1.8 and 32, and the drawn excerpt."""

from __future__ import annotations

import random

import pytest

from autodiff import topological_order
from nets import celsius


def test_data() -> None:
    """100 Celsius values -50..49 with F = 9/5 C + 32 (e.g. -40 -> -40, 0 -> 32, 10 -> 50)."""
    assert len(celsius.CELSIUS) == 100
    assert (celsius.CELSIUS[0], celsius.CELSIUS[-1]) == (-50.0, 49.0)
    table = dict(zip(celsius.CELSIUS, celsius.FAHRENHEIT, strict=True))
    assert (table[-40.0], table[0.0], table[10.0]) == (-40.0, 32.0, 50.0)


def test_one_step_by_hand() -> None:
    """With e = w C + b - F: MSE = mean e², dw = 2 mean(e C), db = 2 mean(e), then w -= lr dw."""
    generator = random.Random(0)
    w, b = generator.random(), generator.random()
    errors = [w * c + b - f for c, f in zip(celsius.CELSIUS, celsius.FAHRENHEIT, strict=True)]
    mse = sum(e * e for e in errors) / 100
    dw = 2 * sum(e * c for e, c in zip(errors, celsius.CELSIUS, strict=True)) / 100
    db = 2 * sum(errors) / 100
    history = celsius.train(steps=1, lr=0.001, seed=0)
    assert history.initial_loss == pytest.approx(mse, rel=1e-13)
    assert history.final_params["weight"] == pytest.approx(w - 0.001 * dw, rel=1e-13)
    assert history.final_params["bias"] == pytest.approx(b - 0.001 * db, rel=1e-13)


def test_converges_fast_settings() -> None:
    """At lr 0.0011 the bias error shrinks by (1 - 2 lr) per step, so 3500 steps reach 32 ± 0.1.

    The weight settles within a few hundred steps (factor |1 - 1667 lr| = 0.83 per step); after
    that the error along the bias shrinks by 1 - lr·2 (the Hessian's small eigenvalue, 2 less
    1/1665) per step. Measured between steps 500 and 1000 (cheaper than training 3500 steps),
    then carried to step 3500.
    """
    lr = 0.0011
    history = celsius.train(steps=1000, lr=lr, seed=1)
    bias = history.params["bias"]
    error_500, error_1000 = abs(bias[500] - 32.0), abs(bias[1000] - 32.0)
    assert error_1000 / error_500 == pytest.approx((1 - 2 * lr) ** 500, rel=1e-3)
    assert history.final_params["weight"] == pytest.approx(1.8, abs=0.01)
    error_3500 = error_1000 * (error_1000 / error_500) ** 5
    assert error_3500 < 0.1


def test_default_run_converges() -> None:
    """The tutorial's full run (10 000 steps, default lr 0.001) reaches 1.8 and 32 closely."""
    history = celsius.train()
    assert history.steps == 10_000
    assert history.final_params["weight"] == pytest.approx(1.8, abs=0.01)
    assert history.final_params["bias"] == pytest.approx(32.0, abs=0.1)
    # The module docstring's estimate: the bias error shrinks by ~0.998 per step, to ~1e-7.
    assert abs(history.final_params["bias"] - 32.0) < 1e-5


def test_too_large_lr_diverges() -> None:
    """Above 2/1667 the weight direction is unstable: lr 0.0013 makes the loss grow."""
    history = celsius.train(steps=50, lr=0.0013, seed=0)
    assert history.final_loss > history.initial_loss


def test_predict() -> None:
    """predict gives weight·C + bias for each C."""
    assert celsius.predict({"weight": 2.0, "bias": 1.0}, [-1.0, 0.0, 3.0]) == [-1.0, 1.0, 7.0]


def test_graph_excerpt() -> None:
    """The excerpt averages 3 samples; its gradients are the hand formulas on those samples."""
    params = {"weight": 1.5, "bias": 30.0}
    samples = celsius.EXCERPT
    root = celsius.graph(params, samples)
    errors = [1.5 * c + 30.0 - (c * 9 / 5 + 32) for c in samples]
    assert root.data == pytest.approx(sum(e * e for e in errors) / 3, rel=1e-14)
    nodes = {node.label: node for node in topological_order(root) if node.label}
    dw = 2 * sum(e * c for e, c in zip(errors, samples, strict=True)) / 3
    assert nodes["weight"].grad == pytest.approx(dw, rel=1e-14)
    assert nodes["bias"].grad == pytest.approx(2 * sum(errors) / 3, rel=1e-14)
    assert "F̂(-50)" in nodes
    assert len(topological_order(root)) < 40


def test_loss_argument_errors() -> None:
    """Mismatched targets raise ValueError."""
    with pytest.raises(ValueError, match="as many targets"):
        celsius.loss(celsius.model(), [1.0, 2.0], [3.0])
