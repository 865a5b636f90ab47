"""The shared training loop: what History records, callbacks, and failures."""

from __future__ import annotations

import pytest

from autodiff import Value
from autodiff.tape import Backend
from nets.module import Neuron
from nets.training import (
    Evaluate,
    History,
    Measure,
    Output,
    TrainingInterrupted,
    check_steps,
    fit,
)


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


def test_schedule_gives_each_step_its_learning_rate() -> None:
    """A schedule sets the learning rate of each step: (w - 3)² with lr 0.25 then 0.5 lands on 3."""
    model, evaluate = _quadratic()
    rates = [0.25, 0.5]
    history = fit(model, evaluate, net="q", steps=2, lr=rates.__getitem__, seed=None)
    # w = 1 - 0.25 * 2 (1 - 3) = 2; then w = 2 - 0.5 * 2 (2 - 3) = 3
    assert history.params == {"w": [1.0, 2.0, 3.0]}
    assert history.lr == 0.25  # the first step's


def test_schedule_that_diverges_names_the_steps_learning_rate() -> None:
    """A loss that overflows under a schedule names the step and that step's learning rate."""
    model = Neuron.from_weights([1.0], None)

    def evaluate() -> tuple[Value, dict[str, float]]:
        return (model.weights[0] * 1000.0).exp(), {}

    with pytest.raises(ValueError, match=r"loss became inf at step 0; is lr 2 too large\?"):
        fit(model, evaluate, net="x", steps=3, lr=lambda step: 2.0 / (step + 1), seed=None)


def test_schedule_must_give_finite_rates() -> None:
    """A schedule giving a negative learning rate is refused at that step."""
    model, evaluate = _quadratic()
    with pytest.raises(ValueError, match="learning rate at step 1 must be finite and >= 0"):
        fit(model, evaluate, net="q", steps=3, lr=lambda step: 0.1 - step, seed=None)


@pytest.mark.parametrize("tape", [None, "python", "numpy"])
def test_measure_records_a_number_computed_from_nodes(tape: Backend | None) -> None:
    """A Measure records its compute() of the nodes' numbers, eager and replayed alike."""
    model = Neuron.from_weights([1.0], None, weight_labels=["w"])

    def build() -> tuple[Value, dict[str, Output]]:
        outs = [model([x]) for x in (1.0, -2.0)]
        positive = Measure(outs, lambda numbers: sum(x > 0 for x in numbers) / len(numbers))
        return sum((out - 3.0) ** 2 for out in outs) * 0.5, {"positive": positive, "first": outs[0]}

    history = fit(model, build, net="m", steps=3, lr=0.5, seed=None, tape=tape)
    # w goes 1, -3, 3, -6 (d loss/dw = 5w + 3): one of w and -2w is positive at each step
    assert history.outputs["first"] == history.params["w"]
    assert history.outputs["positive"] == [0.5 if w != 0 else 0.0 for w in history.params["w"]]


def test_a_replay_refuses_a_number_as_output() -> None:
    """Through a tape an output must be a node or a Measure: a number read from .data is refused."""
    model, evaluate = _quadratic()  # records out.data, a number
    with pytest.raises(TypeError, match="output 'out' is a number"):
        fit(model, evaluate, net="q", steps=2, lr=0.25, seed=None, tape="python")


def test_interrupt_while_recording_the_tape() -> None:
    """Ctrl-C while the graph is built for the tape raises TrainingInterrupted with no history."""
    model = Neuron.from_weights([1.0], None)

    def build() -> tuple[Value, dict[str, Output]]:
        raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted) as caught:
        fit(model, build, net="q", steps=5, lr=0.1, seed=None, tape="python")
    assert caught.value.history is None
    assert caught.value.planned == 5


@pytest.mark.parametrize("tape", ["python", "numpy"])
def test_replayed_run_diverges_at_the_eager_step(tape: Backend) -> None:
    """Through a tape, a loss that grows to inf stops at the step eager stops at, same message."""
    model = Neuron.from_weights([1.0], None)

    def build() -> tuple[Value, dict[str, Output]]:
        return (model.weights[0] * 10.0) ** 2, {}  # lr 1: w <- w - 200 w, times -199 a step

    with pytest.raises(ValueError, match="loss became inf at step") as eager:
        fit(model, build, net="x", steps=500, lr=1.0, seed=None)
    model.weights[0].data = 1.0
    with pytest.raises(ValueError, match="loss became inf at step") as replayed:
        fit(model, build, net="x", steps=500, lr=1.0, seed=None, tape=tape)
    assert str(replayed.value) == str(eager.value)
