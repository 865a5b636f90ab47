"""Tutorial 001: every printed number of the worked step, training, and PyTorch agreement."""

from __future__ import annotations

import pytest

from autodiff import topological_order
from nets import hidden

# Printed by the tutorial's NumPy cells to 8 decimals, so each is within 5e-9 of the truth.
PRINTED_FORWARD = {"z": 0.5, "a": 0.62245933, "y": -0.62245933, "L": 0.19372781}
PRINTED_GRADIENTS = {
    "y": -0.62245933,
    "W2": -0.38745562,
    "b2": -0.62245933,
    "a": 0.62245933,
    "W1": 0.14628025,
    "b1": 0.14628025,
}
PRINTED_UPDATED = {"W2": -0.99612544, "b2": 0.00622459, "W1": 0.4985372, "b1": -0.0014628}
EIGHT_DIGITS = 5e-9 + 1e-15


@pytest.mark.parametrize(("name", "printed"), PRINTED_FORWARD.items())
def test_forward_values(name: str, printed: float) -> None:
    """z, a, y and L match the tutorial's printed forward pass to 8 digits."""
    assert hidden.worked_step().forward[name] == pytest.approx(printed, abs=EIGHT_DIGITS)


@pytest.mark.parametrize(("name", "printed"), PRINTED_GRADIENTS.items())
def test_gradients(name: str, printed: float) -> None:
    """dL/dy, dL/dW2, dL/db2, dL/da, dL/dW1 and dL/db1 match the printed backward pass."""
    assert hidden.worked_step().gradients[name] == pytest.approx(printed, abs=EIGHT_DIGITS)


@pytest.mark.parametrize(("name", "printed"), PRINTED_UPDATED.items())
def test_updated_parameters(name: str, printed: float) -> None:
    """One step at lr 0.01 gives the tutorial's printed updated parameters."""
    assert hidden.worked_step().updated[name] == pytest.approx(printed, abs=EIGHT_DIGITS)


def test_train_default_is_the_tutorials_step() -> None:
    """train() takes the tutorial's one step, reaching the printed parameters and loss."""
    history = hidden.train()
    assert history.steps == 1
    assert history.initial_loss == pytest.approx(PRINTED_FORWARD["L"], abs=EIGHT_DIGITS)
    for name, printed in PRINTED_UPDATED.items():
        assert history.final_params[name] == pytest.approx(printed, abs=EIGHT_DIGITS)


def test_dz_by_hand() -> None:
    """dL/dz = dL/da · a (1 - a): the tutorial's sigmoid_derivative(a) is the right one here."""
    step = hidden.worked_step()
    a = step.forward["a"]
    assert step.gradients["z"] == pytest.approx(step.gradients["a"] * a * (1 - a), rel=1e-15)


def test_longer_training_drives_loss_down() -> None:
    """Continued training at lr 0.01 brings y to the target 0 (loss below 1e-10 by 1000 steps)."""
    history = hidden.train(steps=1000)
    assert history.final_loss < 1e-10
    assert abs(history.final_outputs["y"]) < 2e-5


def test_graph_has_tutorial_labels() -> None:
    """The drawn graph labels z, a, y, L and the four parameters, with gradients filled in."""
    root = hidden.graph()
    nodes = {node.label: node for node in topological_order(root) if node.label}
    assert {"z", "a", "y", "L", "W1", "b1", "W2", "b2"} <= set(nodes)
    assert nodes["W1"].grad == pytest.approx(PRINTED_GRADIENTS["W1"], abs=EIGHT_DIGITS)


def test_matches_torch_over_many_steps() -> None:
    """Twenty SGD steps agree with PyTorch autograd + torch.optim.SGD in float64 to 1e-13."""
    torch = pytest.importorskip("torch")
    params = {
        name: torch.tensor(value, dtype=torch.float64, requires_grad=True)
        for name, value in hidden.INITIAL_PARAMS.items()
    }
    optimizer = torch.optim.SGD(params.values(), lr=0.01)
    for _ in range(20):
        optimizer.zero_grad()
        a = torch.sigmoid(params["W1"] * 1.0 + params["b1"])
        y = params["W2"] * a + params["b2"]
        (0.5 * (y - 0.0) ** 2).backward()
        optimizer.step()
    history = hidden.train(steps=20)
    for name, tensor in params.items():
        assert history.final_params[name] == pytest.approx(tensor.item(), rel=1e-13, abs=1e-15)
