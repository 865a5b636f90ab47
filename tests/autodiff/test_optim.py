"""SGD: hand-computed steps for every option, validation, and PyTorch number for number."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from autodiff import SGD, Value, optim


def _steps(optimizer: SGD, param: Value, grads: list[float]) -> list[float]:
    """Apply one step per given gradient and return the parameter after each."""
    trajectory = []
    for g in grads:
        param.grad = g
        optimizer.step()
        trajectory.append(param.data)
    return trajectory


def test_export() -> None:
    """SGD is importable from autodiff and from autodiff.optim."""
    assert SGD is optim.SGD


def test_plain_step() -> None:
    """Plain SGD: θ = 1, g = 2, lr = 0.1 gives θ = 1 - 0.1 * 2 = 0.8."""
    w = Value(1.0)
    assert _steps(SGD([w], lr=0.1), w, [2.0]) == [pytest.approx(0.8, abs=1e-15)]


def test_steps_on_a_real_loss() -> None:
    """On (w - 3)², w = 1, lr 0.1: g = -4 gives 1.4; then g = 2 (1.4 - 3) = -3.2 gives 1.72."""
    w = Value(1.0)
    optimizer = SGD([w], lr=0.1)
    for _ in range(2):
        optimizer.zero_grad()
        ((w - 3.0) ** 2).backward()
        optimizer.step()
    assert w.data == pytest.approx(1.72, abs=1e-15)


def test_weight_decay() -> None:
    """Weight decay adds λθ: θ = 2, g = 1, λ = 0.5, lr = 0.1 gives 2 - 0.1 (1 + 1) = 1.8."""
    w = Value(2.0)
    assert _steps(SGD([w], lr=0.1, weight_decay=0.5), w, [1.0]) == [pytest.approx(1.8, abs=1e-15)]


def test_momentum() -> None:
    """Momentum 0.9, g = 1, lr 0.1: b = 1, 1.9, 2.71 so θ = -0.1, -0.29, -0.561."""
    w = Value(0.0)
    got = _steps(SGD([w], lr=0.1, momentum=0.9), w, [1.0, 1.0, 1.0])
    assert got == pytest.approx([-0.1, -0.29, -0.561], abs=1e-15)


def test_dampening_skips_first_step() -> None:
    """Dampening 0.5 applies after the first step: b = 1, 0.9 + 0.5, 1.26 + 0.5, θ accordingly."""
    w = Value(0.0)
    got = _steps(SGD([w], lr=0.1, momentum=0.9, dampening=0.5), w, [1.0, 1.0, 1.0])
    assert got == pytest.approx([-0.1, -0.24, -0.416], abs=1e-15)


def test_nesterov() -> None:
    """Nesterov uses g + μb: b = 1 then 1.9, steps 1 + 0.9 = 1.9 then 1 + 1.71 = 2.71."""
    w = Value(0.0)
    got = _steps(SGD([w], lr=0.1, momentum=0.9, nesterov=True), w, [1.0, 1.0])
    assert got == pytest.approx([-0.19, -0.461], abs=1e-15)


def test_maximize() -> None:
    """Maximize ascends: θ = 1, g = 2, lr 0.1 gives 1.2."""
    w = Value(1.0)
    assert _steps(SGD([w], lr=0.1, maximize=True), w, [2.0]) == [pytest.approx(1.2, abs=1e-15)]


def test_maximize_negates_before_weight_decay() -> None:
    """With maximize the gradient is negated first, then λθ added: -1 + 0.5 * 2 = 0, θ stays 2."""
    w = Value(2.0)
    assert _steps(SGD([w], lr=0.1, weight_decay=0.5, maximize=True), w, [1.0]) == [2.0]


def test_momentum_buffers_are_per_parameter() -> None:
    """Each parameter has its own buffer: gradients 1 and 10 give buffers 1 and 10, then 1.9, 19."""
    a, b = Value(0.0), Value(0.0)
    optimizer = SGD([a, b], lr=1.0, momentum=0.9)
    for _ in range(2):
        a.grad, b.grad = 1.0, 10.0
        optimizer.step()
    assert optimizer.momentum_buffers == pytest.approx([1.9, 19.0], abs=1e-14)
    assert (a.data, b.data) == pytest.approx((-2.9, -29.0), abs=1e-14)


def test_zero_grad() -> None:
    """zero_grad sets every parameter's grad to 0.0."""
    a, b = Value(1.0), Value(2.0)
    (a * b).backward()
    SGD([a, b], lr=0.1).zero_grad()
    assert (a.grad, b.grad) == (0.0, 0.0)


def test_a_grad_of_none_counts_as_zero() -> None:
    """A grad cleared to None (the engine counts it as 0.0) does not move a plain SGD parameter."""
    w = Value(1.5)
    w.grad = None
    SGD([w], lr=0.1).step()
    assert w.data == 1.5


def test_value_gradient_from_create_graph() -> None:
    """A grad that is a Value (create_graph) contributes its number: w = 3, g = 6, lr 0.5 -> 0."""
    w = Value(3.0)
    (w * w).backward(create_graph=True)
    SGD([w], lr=0.5).step()
    assert w.data == 0.0


def test_generator_params() -> None:
    """A generator of parameters is consumed once and kept."""
    values = [Value(1.0), Value(2.0)]
    optimizer = SGD((v for v in values), lr=0.1)
    assert optimizer.params == tuple(values)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lr": -0.1}, "learning rate"),
        ({"lr": 0.1, "momentum": -0.5}, "momentum"),
        ({"lr": 0.1, "weight_decay": -1.0}, "weight_decay"),
        ({"lr": 0.1, "nesterov": True}, "nesterov"),
        ({"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": True}, "nesterov"),
        ({"lr": float("nan")}, "NaN"),
    ],
)
def test_invalid_settings(kwargs: dict[str, float], message: str) -> None:
    """Settings PyTorch rejects raise ValueError naming the setting."""
    with pytest.raises(ValueError, match=message):
        SGD([Value(1.0)], **kwargs)  # type: ignore[arg-type]


def test_non_number_setting() -> None:
    """A learning rate that is not a number raises TypeError."""
    with pytest.raises(TypeError, match="lr must be a real number"):
        SGD([Value(1.0)], lr="0.1")  # type: ignore[arg-type]


def test_empty_params() -> None:
    """An empty parameter list raises ValueError."""
    with pytest.raises(ValueError, match="params is empty"):
        SGD([], lr=0.1)


def test_non_value_param() -> None:
    """A parameter that is not a Value raises TypeError naming its position."""
    with pytest.raises(TypeError, match=r"params\[1\] must be a Value, got float"):
        SGD([Value(1.0), 2.0], lr=0.1)  # type: ignore[list-item]


def test_single_value_not_iterable() -> None:
    """Passing one Value instead of a list raises TypeError with the fix."""
    with pytest.raises(TypeError, match=r"wrap it"):
        SGD(Value(1.0), lr=0.1)  # type: ignore[arg-type]


def test_non_leaf_param() -> None:
    """An interior node cannot be optimised."""
    x = Value(1.0, label="x")
    with pytest.raises(ValueError, match="not a leaf"):
        SGD([x * 2], lr=0.1)


def test_duplicate_param() -> None:
    """The same Value twice raises ValueError naming its label."""
    x = Value(1.0, label="x")
    with pytest.raises(ValueError, match=r"'x'.*more than once"):
        SGD([x, x], lr=0.1)


SETTINGS = [
    {"lr": 0.1},
    {"lr": 0.05, "weight_decay": 0.01},
    {"lr": 0.05, "momentum": 0.9},
    {"lr": 0.05, "momentum": 0.9, "dampening": 0.3},
    {"lr": 0.05, "momentum": 0.8, "nesterov": True},
    {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.1, "maximize": True},
    {"lr": 0.02, "momentum": 0.5, "dampening": 0.5, "weight_decay": 0.2, "maximize": True},
    {"lr": 0.03, "momentum": 0.7, "weight_decay": 0.05, "nesterov": True},
]


@pytest.mark.parametrize("settings", SETTINGS)
def test_matches_torch(settings: dict[str, float]) -> None:
    """Fed the same gradients, SGD and torch.optim.SGD (float64) agree to the last bit or so."""
    torch = pytest.importorskip("torch")
    rng = random.Random(7)
    start = [rng.uniform(-2.0, 2.0) for _ in range(3)]
    ours = [Value(x) for x in start]
    theirs = [torch.tensor(x, dtype=torch.float64, requires_grad=True) for x in start]
    our_optimizer = SGD(ours, **settings)  # type: ignore[arg-type]
    their_optimizer = torch.optim.SGD(theirs, **settings)
    for _ in range(6):
        # A loss with coupled parameters, so the gradients change every step.
        our_optimizer.zero_grad()
        a, b, c = ours
        (a * a * b + (b - c).tanh() + c.exp() * 0.1).backward()
        for mine, tensor in zip(ours, theirs, strict=True):
            tensor.grad = torch.tensor(mine.grad, dtype=torch.float64)
        our_optimizer.step()
        their_optimizer.step()
        # torch computes x + alpha * y in one fused kernel, which can round the last bit
        # differently (math.fma is Python >= 3.13), hence 1e-15 rather than ==.
        assert [v.data for v in ours] == pytest.approx(
            [t.item() for t in theirs], rel=1e-15, abs=1e-15
        )


def test_a_bad_grad_changes_no_parameter() -> None:
    """A grad that is no number: TypeError naming SGD and the parameter; nothing has moved."""
    w1, w2 = Value(1.0, label="w1"), Value(1.0, label="w2")
    optimizer = SGD([w1, w2], lr=0.1, momentum=0.9)
    w1.grad = 1.0
    w2.grad = "oops"  # type: ignore[assignment]
    with pytest.raises(TypeError, match=r"SGD: the grad of params\[1\] \('w2'\): .*got str"):
        optimizer.step()
    assert (w1.data, w2.data, optimizer.momentum_buffers) == (1.0, 1.0, [None, None])


def test_step_updates_every_parameter_or_none_when_interrupted(error_at_line: Any) -> None:
    """A Ctrl-C at any line of ``step`` leaves all parameters as before or all as after.

    Setting ``data`` runs Python code (it checks the number), where a Ctrl-C could land
    between two parameters; ``step`` writes the new numbers past it, in one C loop.
    """
    params = [Value(float(k), label=f"p{k}") for k in range(6)]
    before = [p.data for p in params]
    after = [k - 0.5 * (k + 1) for k in range(6)]  # data - lr * grad, lr 0.5, grad k + 1

    # The optimiser, the data setter and its coercion. Not autodiff.mode: an error injected at
    # the line that releases held signals would skip it, which a real Ctrl-C cannot do (CPython
    # checks for signals after a call, not before), and leave them held for later tests.
    package = Path(optim.__file__).parent
    watched = {str(package / name) for name in ("optim.py", "engine.py", "coerce.py")}

    def in_autodiff(filename: str) -> bool:
        return filename in watched

    def fresh() -> SGD:
        for k, p in enumerate(params):
            p.data, p.grad = before[k], float(k + 1)
        return SGD(params, lr=0.5)

    optimiser = fresh()
    with error_at_line(-1, KeyboardInterrupt, in_autodiff) as seen:
        optimiser.step()
    assert [p.data for p in params] == after
    lines = seen[0]
    assert lines > 10
    for event in range(1, lines + 1):
        optimiser = fresh()
        with pytest.raises(KeyboardInterrupt), error_at_line(event, KeyboardInterrupt, in_autodiff):
            optimiser.step()
        assert [p.data for p in params] in (before, after), event
