"""The shared training loop: what History records, callbacks, and failures."""

from __future__ import annotations

import pytest

from autodiff import Value
from nets.module import Neuron
from nets.training import Evaluate, History, TrainingInterrupted, check_steps, fit


def _quadratic() -> tuple[Neuron, Evaluate]:
    """A one-weight model w·1 with loss (w - 3)²."""
    model = Neuron.from_weights([1.0], None, weight_labels=["w"])

    def evaluate() -> tuple[Value, dict[str, float]]:
        out = model([1.0])
        return (out - 3.0) ** 2, {"out": out.data}

    return model, evaluate


def test_history_records_every_step() -> None:
    """(w - 3)² from w = 1 with lr 0.25: w = 1, 2, 2.5 and loss = 4, 1, 0.25 (halving w - 3)."""
    model, evaluate = _quadratic()
    history = fit(model, evaluate, net="q", steps=2, lr=0.25, seed=None)
    assert history.params == {"w": [1.0, 2.0, 2.5]}
    assert history.losses == [4.0, 1.0, 0.25]
    assert history.outputs == {"out": [1.0, 2.0, 2.5]}
    assert (history.initial_loss, history.final_loss) == (4.0, 0.25)
    assert history.final_params == {"w": 2.5}


def test_callback_sees_each_step() -> None:
    """The callback gets step numbers 1..steps and the loss before each update."""
    model, evaluate = _quadratic()
    seen: list[tuple[int, float]] = []
    fit(
        model,
        evaluate,
        net="q",
        steps=2,
        lr=0.25,
        seed=None,
        callback=lambda step, loss: seen.append((step, loss)),
    )
    assert seen == [(1, 4.0), (2, 1.0)]


def test_zero_steps() -> None:
    """Zero steps records the untrained model once."""
    model, evaluate = _quadratic()
    history = fit(model, evaluate, net="q", steps=0, lr=0.1, seed=None)
    assert history.losses == [4.0]


def test_summary_keys() -> None:
    """summary() holds the settings, the first and last loss and the parameters by label."""
    history = History("q", 1, 0.5, 7, losses=[2.0, 1.0], params={"w": [0.0, 1.0]})
    assert history.summary() == {
        "net": "q",
        "steps": 1,
        "lr": 0.5,
        "seed": 7,
        "initial_loss": 2.0,
        "final_loss": 1.0,
        "initial_params": {"w": 0.0},
        "params": {"w": 1.0},
        "outputs": {},
    }


def test_diverging_loss_raises() -> None:
    """A loss that overflows to infinity stops training with ValueError naming the step."""
    model = Neuron.from_weights([1.0], None)

    def evaluate() -> tuple[Value, dict[str, float]]:
        return model([1.0]) * 1e300 * 1e10, {}

    with pytest.raises(ValueError, match="loss became inf at step 0"):
        fit(model, evaluate, net="x", steps=3, lr=0.1, seed=None)


def test_check_steps() -> None:
    """Steps must be a non-negative int."""
    with pytest.raises(ValueError, match=">= 0"):
        check_steps(-1, "train")
    with pytest.raises(TypeError, match="must be an int"):
        check_steps(2.5, "train")


def test_overflowing_operation_reads_as_an_infinite_loss() -> None:
    """An op that raises OverflowError mid-training gives the same 'loss became inf' message."""
    model = Neuron.from_weights([1.0], None)

    def evaluate() -> tuple[Value, dict[str, float]]:
        w = model.weights[0]
        return (w * 1000.0).exp(), {}  # exp(1000) overflows a float; lr 1 makes w grow

    with pytest.raises(ValueError, match=r"loss became inf at step 0; is lr 1 too large\?"):
        fit(model, evaluate, net="x", steps=3, lr=1.0, seed=None)


def test_interrupt_keeps_the_steps_done() -> None:
    """Ctrl-C in the third step raises TrainingInterrupted holding exactly two steps' records."""
    model, evaluate = _quadratic()

    def interrupt_at_third(step: int, loss: float) -> None:
        if step == 3:
            raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as caught:
        fit(model, evaluate, net="q", steps=10, lr=0.25, seed=None, callback=interrupt_at_third)
    # The callback runs after the third update (w = 2.75), whose result was never measured:
    # the history keeps what was measured, after 0, 1 and 2 updates.
    history = caught.value.history
    assert history is not None
    assert history.steps == 2
    assert history.losses == [4.0, 1.0, 0.25]
    assert history.params == {"w": [1.0, 2.0, 2.5]}
    assert caught.value.planned == 10
    assert isinstance(caught.value, KeyboardInterrupt)


def test_interrupt_before_any_record() -> None:
    """Ctrl-C during the very first loss leaves no history at all."""
    model = Neuron.from_weights([1.0], None)

    def evaluate() -> tuple[Value, dict[str, float]]:
        raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as caught:
        fit(model, evaluate, net="q", steps=5, lr=0.1, seed=None)
    assert caught.value.history is None
