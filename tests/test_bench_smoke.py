"""Smoke tests for the benchmark workloads (bench/workloads.py), on autodiff only, untimed."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType

import pytest


def _load_script(name: str) -> ModuleType:
    # bench/ is a folder of scripts, not a package: load the module from its path.
    path = Path(__file__).resolve().parent.parent / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"bench_{name}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look the module up while the class is made
    spec.loader.exec_module(module)
    return module


workloads = _load_script("workloads")


@pytest.fixture
def engine():
    return workloads.autodiff_engine()


def test_mlp_step_returns_a_finite_loss_and_lowers_it(engine):
    """A tiny MLP step returns a finite float loss, and a few steps lower it."""
    problem = workloads.mlp_problem(engine, points=8, sizes=(2, 4, 1), seed=3)
    first = problem.step()
    later = [problem.step() for _ in range(20)]
    assert isinstance(first, float)
    assert math.isfinite(first)
    assert later[-1] < first


def test_mlp_gradient_matches_central_differences(engine):
    """The backward gradient of the MLP loss matches central differences for every parameter."""
    problem = workloads.mlp_problem(engine, points=6, sizes=(2, 3, 1), seed=5)
    loss = problem.loss()
    loss.backward()
    h = 1e-6
    for p in problem.params:
        saved = p.data
        p.data = saved + h
        up = problem.loss().data
        p.data = saved - h
        down = problem.loss().data
        p.data = saved
        assert p.grad == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-7)


def test_make_moons_is_seeded_and_balanced():
    """The moons data depend only on the seed and hold as many -1 labels as +1 labels."""
    xs, ys = workloads.make_moons(10, seed=7)
    assert workloads.make_moons(10, seed=7) == (xs, ys)
    assert len(xs) == 10
    assert ys.count(-1.0) == ys.count(1.0) == 5


def test_celsius_step_matches_hand_gradient(engine):
    """Tutorial 002's step: loss and gradients equal the closed forms for MSE of w*C + b."""
    problem = workloads.celsius_problem(engine, samples=4)
    w, b = problem.weight.data, problem.bias.data
    cs = [-50.0, -49.0, -48.0, -47.0]
    errors = [w * c + b - (c * 9 / 5 + 32) for c in cs]
    # L = mean(e^2), dL/dw = mean(2 e c), dL/db = mean(2 e).
    expected_loss = sum(e * e for e in errors) / 4
    expected_dw = sum(2 * e * c for e, c in zip(errors, cs, strict=True)) / 4
    expected_db = sum(2 * e for e in errors) / 4
    loss = problem.step()
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert problem.weight.grad == pytest.approx(expected_dw, rel=1e-12)
    assert problem.bias.grad == pytest.approx(expected_db, rel=1e-12)
    assert problem.weight.data == pytest.approx(w - problem.lr * expected_dw, rel=1e-12)


def test_chain_backward_matches_the_recurrence(engine):
    """Backward over a short chain gives the value and dy/dx of the hand-written recurrence."""
    x, y = workloads.chain(engine, 7)
    workloads.backward_on_chain(engine, y, 7)
    # By hand: y = 1, 0.5, 1, 0.5, 1, 0.5, 1 and dy/dx = 2, 2, 3, 2.5, 3.5, 2.75, 3.75.
    assert y.data == 1.0
    assert x.grad == pytest.approx(3.75, rel=1e-12)
    assert workloads.chain_gradient(7) == pytest.approx((1.0, 3.75), rel=1e-12)
    assert workloads.count_nodes(y) == 8


def test_memory_per_node_is_positive_and_grows_after_backward(engine):
    """Memory per node of a small chain is a sane positive size that backward does not shrink."""
    memory = workloads.memory_per_node(engine, 2_000)
    assert 50 < memory.built < 1_000
    assert memory.after_backward >= memory.built


class _FakeConnection:
    """Plays the bench's main process: hands out commands, records what the worker sends."""

    def __init__(self, commands, events):
        self.commands = list(commands)
        self.events = events

    def recv(self):
        return self.commands.pop(0)

    def send(self, message):
        self.events.append(("send", message))


def test_worker_collects_garbage_before_every_reply(monkeypatch):
    """No engine's clean-up may overlap another's timing: the collector runs before each reply."""
    runner = _load_script("run")
    events = []
    monkeypatch.setattr(runner.gc, "collect", lambda: events.append("collect"))
    commands = [("celsius", 2), ("chain", 10), ("memory", 100), ("stop", 0)]
    runner._serve("autodiff", _FakeConnection(commands, events))
    replies = [i for i, event in enumerate(events) if event[0] == "send"]
    assert events[replies[0]][1][0] == "ready"
    assert len(replies) == 4  # ready, then one reply per command
    for index in replies[1:]:
        assert events[index - 1] == "collect", events
    seconds, grad = events[replies[2]][1]
    assert seconds > 0
    assert grad == pytest.approx(workloads.chain_gradient(10)[1], rel=1e-12)


def test_worker_refuses_an_unknown_command(engine):
    """A misspelt command is a ValueError naming it, not a silent None reply."""
    with pytest.raises(ValueError, match="unknown command 'chian'"):
        _load_script("run")._run(engine, "chian", 10)


def test_tape_trainers_give_the_eager_numbers(monkeypatch):
    """Both tape backends train tutorial 002 and step the MLP with eager's numbers, bit for bit."""
    small = workloads.mlp_problem
    monkeypatch.setattr(workloads, "mlp_problem", lambda engine: small(engine, points=6))
    eager = workloads.TRAINER_FACTORIES["autodiff"]()
    expected = eager.celsius_training(30)
    expected_mlp = [eager.mlp_step()() for _ in range(1)]
    for name in ("tape-numpy", "tape-python"):
        trainer = workloads.TRAINER_FACTORIES[name]()
        assert trainer.celsius_training(30) == expected, name
        assert [trainer.mlp_step()()] == expected_mlp, name


def test_numpy_trainer_agrees_with_the_engine():
    """The gradient by hand in numpy starts from the same numbers and follows the same steps."""
    eager = workloads.TRAINER_FACTORIES["autodiff"]()
    by_hand = workloads.numpy_trainer()
    for got, want in zip(by_hand.celsius_training(30), eager.celsius_training(30), strict=True):
        assert got == pytest.approx(want, rel=1e-12)
    hand_step, eager_step = by_hand.mlp_step(), eager.mlp_step()
    for _ in range(3):  # the first loss, then two after updates by hand-written gradients
        assert hand_step() == pytest.approx(eager_step(), rel=1e-12)


def test_vector_baselines_agree_when_installed():
    """PyTorch with tensors and JAX jit (when installed) start from the engine's numbers."""
    eager = workloads.TRAINER_FACTORIES["autodiff"]()
    first = eager.mlp_step()()
    start = eager.celsius_training(3)
    for name, module in (("pytorch-vectors", "torch"), ("jax-jit", "jax")):
        if importlib.util.find_spec(module) is None:
            continue
        trainer = workloads.TRAINER_FACTORIES[name]()
        assert trainer.mlp_step()() == pytest.approx(first, rel=1e-12), name
        for got, want in zip(trainer.celsius_training(3), start, strict=True):
            assert got == pytest.approx(want, rel=1e-12), name


def test_worker_trains_and_compiles(monkeypatch):
    """A trainer worker answers train with each trainer's time and numbers, compile with seconds."""
    runner = _load_script("run")
    small = workloads.mlp_problem
    monkeypatch.setattr(workloads, "mlp_problem", lambda engine: small(engine, points=4))
    trainers = runner._make_trainer("tape-numpy")
    answer = runner._run(trainers, "train", 20)
    seconds, first, weight, bias = answer["tape-numpy"]
    assert seconds > 0
    assert (first, weight, bias) == workloads.TRAINER_FACTORIES["autodiff"]().celsius_training(20)
    assert runner._run(trainers, "compile", 0) > 0
    scalar = runner._run(workloads.autodiff_engine(), "train", 20)
    assert scalar["autodiff"][1:] == (first, weight, bias)


def test_report_checks_the_tape_targets():
    """Figures fed to the report come out as the tape's targets with the right verdicts."""
    runner = _load_script("run")
    results = runner.Results()
    results.versions = dict.fromkeys((*runner.ENGINES, *runner.TRAINERS), "0")
    results.mlp = {"autodiff": [0.1], "micrograd": [1.0], "tape-numpy": [0.002]}
    results.train = {
        "tape-numpy": [0.1],
        "autodiff": [5.0],
        "micrograd": [20.0],
        "pytorch-vectors": [0.4],
        "jax+compile": [0.3],
        "numpy": [0.08],
    }
    results.compile = {"tape-numpy": [0.5]}
    report = runner.build_report(results)
    by_text = {target.text: (target.figure, target.met) for target in report.targets}
    assert by_text["tutorial 002 training: tape >= 15x faster than eager"] == (50.0, True)
    assert by_text["tutorial 002 training: tape >= 100x faster than micrograd"] == (200.0, True)
    assert by_text["MLP step: tape >= 30x faster than eager"] == (50.0, True)
    ratio, met = by_text["tutorial 002 training: tape within 1.5x of numpy by hand (tape / numpy)"]
    assert ratio == pytest.approx(1.25)
    assert met is True
    assert any("tape is" in cell for cell in report.training[0])
