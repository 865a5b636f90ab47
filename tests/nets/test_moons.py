"""micrograd's moons demo: the data recipe, the notebook's numbers, tape against eager."""

from __future__ import annotations

import math
import pathlib
import random
import re
from typing import Any

import pytest

from autodiff import topological_order
from nets import moons
from nets.training import TrainingInterrupted

NOTEBOOK = pathlib.Path(__file__).with_name("micrograd_demo_steps.txt")


def _notebook() -> list[tuple[float, float]]:
    rows = []
    for line in NOTEBOOK.read_text(encoding="utf-8").splitlines():
        if line.startswith("step"):
            _, _, _, loss, _, accuracy = line.split()
            rows.append((float(loss.rstrip(",")), float(accuracy.rstrip("%")) / 100))
    return rows


def test_data_without_noise_lie_on_the_two_half_circles():
    """With noise 0, label -1 points lie on the upper unit half circle, +1 on the shifted lower."""
    points, labels = moons.make_moons(10, noise=0.0, seed=3)
    assert labels.count(-1.0) == labels.count(1.0) == 5
    for (x, y), label in zip(points, labels, strict=True):
        if label < 0:
            assert math.hypot(x, y) == pytest.approx(1.0, abs=1e-12)
            assert y >= -1e-12
        else:
            assert math.hypot(x - 1.0, y - 0.5) == pytest.approx(1.0, abs=1e-12)
            assert y <= 0.5 + 1e-12


def test_data_depend_only_on_the_seed():
    """The same seed gives the same points; another seed other points; the noise has sd 0.1."""
    first = moons.make_moons(seed=5)
    assert moons.make_moons(seed=5) == first
    assert moons.make_moons(seed=6) != first
    noisy, _ = first
    bare, _ = moons.make_moons(noise=0.0, seed=5)
    offsets = [a - b for p, q in zip(noisy, bare, strict=True) for a, b in zip(p, q, strict=True)]
    spread = math.sqrt(sum(d * d for d in offsets) / len(offsets))
    assert 0.08 < spread < 0.12


def test_model_draws_micrograds_weights_in_its_order():
    """Weights are random.Random(seed).uniform(-1, 1) layer by layer, neuron by neuron; biases 0."""
    mlp = moons.model(seed=1337)
    generator = random.Random(1337)
    named = mlp.named_parameters()
    assert len(named) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    for name, param in named:
        expected = 0.0 if name.endswith(".b") else generator.uniform(-1.0, 1.0)
        assert param.data == expected, name


def test_match_micrograd_reproduces_the_notebook_at_every_step():
    """All 100 printed losses (to 1e-9 relative) and accuracies of micrograd's notebook."""
    notebook = _notebook()
    assert len(notebook) == 100
    history = moons.train(match_micrograd=True)
    for step, (loss, accuracy) in enumerate(notebook):
        assert history.losses[step] == pytest.approx(loss, rel=1e-9), step
        assert history.outputs["accuracy"][step] == pytest.approx(accuracy, abs=1e-12), step
    assert history.outputs["accuracy"][-1] == 1.0


def test_loss_is_the_max_margin_loss_with_l2():
    """With zero weights the scores are 0, each margin is relu(1 - 0) = 1, and the L2 term is 0."""
    mlp = moons.model(seed=0)
    mlp.load_parameter_values({name: 0.0 for name, _ in mlp.named_parameters()})
    total, scores = moons.loss(mlp, [(0.5, 0.5), (1.0, -1.0)], [1.0, -1.0])
    assert [s.data for s in scores] == [0.0, 0.0]
    assert total.data == 1.0
    mlp.load_parameter_values({"2.0.b": 2.0})  # score 2 for every point
    total, _ = moons.loss(mlp, [(0.5, 0.5), (1.0, -1.0)], [1.0, -1.0], alpha=0.5)
    # margins relu(1 - 2) = 0 and relu(1 + 2) = 3, mean 1.5; L2: 0.5 * 2² = 2
    assert total.data == 3.5


def test_accuracy_and_schedule():
    """Accuracy counts matching signs; the learning rate falls from 1.0 by 0.9 over the run."""
    assert moons.accuracy([1.0, -1.0, 2.0, -3.0], [1.0, 1.0, 1.0, -1.0]) == 0.75
    assert moons.learning_rate(0) == 1.0
    assert moons.learning_rate(100) == pytest.approx(0.1, abs=1e-15)
    assert moons.learning_rate(10, steps=20) == pytest.approx(0.55, abs=1e-15)


def test_match_micrograd_refuses_another_seed():
    """The notebook's numbers need its seed: asking for both with another seed is a ValueError."""
    with pytest.raises(ValueError, match="seed 1337"):
        moons.train(steps=1, seed=3, match_micrograd=True)


def test_graph_is_one_points_loss_backpropagated():
    """The drawn graph is the loss over one point, with its score labelled and gradients set."""
    root = moons.graph(samples=1)
    labels = {node.label for node in topological_order(root)}
    assert {"loss", "score(0)"} <= labels
    assert root.grad == 1.0
    assert any(node.grad != 0.0 for node in topological_order(root) if node.is_leaf)


def test_boundary_scores_match_the_model():
    """The boundary grid holds the model's own score at each grid point."""
    mlp = moons.model(seed=4)
    params = mlp.parameter_values()
    xs, ys, rows = moons.boundary(params, [(0.0, 0.0), (1.0, 0.5)], step=0.5)
    assert xs[0] == -1.0
    assert ys[0] == -1.0
    for y, row in zip(ys, rows, strict=True):
        for x, score in zip(xs, row, strict=True):
            assert score == mlp([x, y])[0].data


def test_figures_are_pngs(tmp_path):
    """The boundary and loss figures are written as PNG files."""
    pytest.importorskip("matplotlib")
    paths = moons.figures(moons.train(steps=2, seed=1), tmp_path)
    assert [p.name for p in paths] == ["moons_boundary.png", "moons_loss.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_data_match_scikit_learn_make_moons():
    """With match_micrograd the points and labels are scikit-learn's make_moons, exactly."""
    datasets = pytest.importorskip("sklearn.datasets")
    points, labels = moons.make_moons(match_micrograd=True)
    expected, classes = datasets.make_moons(n_samples=100, noise=0.1, random_state=1337)
    assert points == [(float(x), float(y)) for x, y in expected]
    assert labels == [2.0 * c - 1.0 for c in classes]


def test_interrupt_keeps_the_steps_done(monkeypatch):
    """Ctrl-C in the fourth step raises TrainingInterrupted with the three steps measured."""
    calls = []
    accuracy = moons.accuracy

    def interrupted_at_the_fourth(scores, labels):
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return accuracy(scores, labels)

    monkeypatch.setattr(moons, "accuracy", interrupted_at_the_fourth)
    with pytest.raises(TrainingInterrupted) as caught:
        moons.train(steps=10, seed=0)
    history = caught.value.history
    assert history is not None
    assert (history.steps, caught.value.planned) == (2, 10)
    assert len(history.losses) == len(history.outputs["accuracy"]) == 3
    assert {len(values) for values in history.params.values()} == {3}


def test_interrupt_while_recording_keeps_no_history(monkeypatch):
    """Ctrl-C while the 65,000-node graph is built for the tape: TrainingInterrupted, no steps."""

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(moons, "loss", interrupted)
    with pytest.raises(TrainingInterrupted) as caught:
        moons.train(steps=10, seed=0)
    assert caught.value.history is None


def test_learning_rate_is_the_schedule_of_every_step():
    """The loop applies learning_rate(k, steps) at step k: a by-hand SGD step matches step 1."""
    history = moons.train(steps=2, seed=3)
    mlp = moons.model(seed=3)
    points, labels = moons.make_moons(seed=3)
    total, _ = moons.loss(mlp, points, labels)
    total.backward()
    rate = moons.learning_rate(0, 2)
    assert {name: p.data - rate * p.grad for name, p in mlp.named_parameters()} == {
        name: values[1] for name, values in history.params.items()
    }


def test_network_refuses_a_learning_rate_other_than_the_schedule():
    """The registry's train takes only the schedule's first rate: any other lr is a ValueError."""
    with pytest.raises(ValueError, match="follows micrograd's schedule"):
        moons.NETWORK.train(steps=1, lr=0.5, seed=0)


def test_output_graph_is_small_enough_to_draw():
    """The drawn part of one point's graph: the output neuron's 17 parameters, score, margin."""
    from autodiff import viz

    history = moons.train(steps=1, seed=0)
    root = moons.NETWORK.graph(history)
    nodes = topological_order(root)
    assert len(nodes) <= viz.DEFAULT_MAX_NODES
    labels = {node.label for node in nodes}
    assert {f"2.0.w{j}" for j in range(1, 17)} | {"2.0.b", "score", "margin"} <= labels
    assert sum(node.is_leaf for node in nodes) == 17  # the hidden outputs are numbers
    assert root.label == "margin"
    assert root.data == pytest.approx(max(0.0, 1.0 - _label(0) * _score(history, 0)), rel=1e-12)


def _label(sample):
    return moons.make_moons(seed=0)[1][sample]


def _score(history, sample):
    mlp = moons.model(seed=0)
    mlp.load_parameter_values(history.initial_params)
    return mlp(list(moons.make_moons(seed=0)[0][sample]))[0].data


def test_details_and_notes_give_the_loops_first_and_last_lines():
    """details holds micrograd's printed first and last step; notes print them, 10 decimals."""
    history = moons.train(steps=3, seed=0)
    numbers = moons.NETWORK.details(history)
    assert [line["step"] for line in numbers["printed"]] == [0, 2]
    assert numbers["printed"][1]["loss"] == history.losses[2]
    lines = moons.NETWORK.notes(history)
    assert f"  step 2 loss {history.losses[2]:.10f}, accuracy " in "\n".join(lines)
    assert "--match-micrograd" in lines[-1]


# -- review 2: seeds, numpy numbers and the helpers' arguments (M1, M7, M8) --------------------


def test_a_negative_or_fractional_seed_names_moons_and_the_seed() -> None:
    """numpy's generator takes no negative seed: moons says so, and a float seed is a TypeError."""
    with pytest.raises(ValueError, match=r"^moons: the seed must be >= 0 .*got -1$"):
        moons.train(steps=1, seed=-1)
    with pytest.raises(TypeError, match=r"^moons: seed must be an int, got float \(1\.5\)$"):
        moons.train(steps=1, seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="seed must be an int, got bool"):
        moons.train(steps=1, seed=True)
    with pytest.raises(ValueError, match=r"^make_moons: the seed must be >= 0"):
        moons.make_moons(seed=-3)


def test_numpy_numbers_are_taken_as_python_numbers() -> None:
    """np.int64 steps, seed and samples and np.float32 noise give what the Python numbers give."""
    np = pytest.importorskip("numpy")
    assert moons.make_moons(np.int64(6), noise=np.float32(0.1), seed=np.int64(2)) == (
        moons.make_moons(6, noise=float(np.float32(0.1)), seed=2)
    )
    history = moons.train(steps=np.int64(2), seed=np.int64(3))
    assert history.losses == moons.train(steps=2, seed=3).losses
    assert (type(history.steps), type(history.seed)) == (int, int)  # JSON-ready
    assert moons.learning_rate(np.int64(50), np.int64(100)) == 0.55
    with pytest.raises(ValueError, match=re.escape("samples must be an int >= 2, got 6.0")):
        moons.make_moons(6.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="noise must be a number >= 0, got True"):
        moons.make_moons(noise=True)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: moons.boundary({}, []), ValueError, "moons.boundary: points must hold at least"),
        (
            lambda: _boundary(step=0),
            ValueError,
            "moons.boundary: step must be a finite number > 0, got 0",
        ),
        (lambda: _boundary(step=-1.0), ValueError, "step must be a finite number > 0, got -1.0"),
        (lambda: _boundary(step=math.nan), ValueError, "step must be a finite number > 0, got nan"),
        (lambda: _boundary(step=math.inf), ValueError, "step must be a finite number > 0, got inf"),
        (lambda: _boundary(step=1e-6), ValueError, "step 1e-06 is too small for these points"),
        (lambda: _boundary(step="1"), TypeError, "moons.boundary: step must be a number, got str"),
        (lambda: moons.accuracy([], []), ValueError, "moons.accuracy: needs one label per score"),
        (lambda: moons.accuracy([1.0], []), ValueError, "got 1 scores and 0 labels"),
        (
            lambda: moons.learning_rate(0, 0),
            ValueError,
            "moons.learning_rate: steps must be >= 1, got 0",
        ),
        (
            lambda: moons.learning_rate(-1),
            ValueError,
            "moons.learning_rate: step must be >= 0, got -1",
        ),
        (lambda: moons.learning_rate(0.5), TypeError, "moons.learning_rate: step must be an int"),
        (
            lambda: moons.output_graph(sample=100),
            IndexError,
            "moons.output_graph: sample must be the number of one of the 100 points, 0 to 99, "
            "got 100",
        ),
        (lambda: moons.output_graph(sample=-1), IndexError, "0 to 99, got -1"),
        (
            lambda: moons.output_graph(sample=1.0),
            TypeError,
            "moons.output_graph: sample must be an int, got float",
        ),
        (
            lambda: moons.make_moons(noise=math.inf),
            ValueError,
            "make_moons: noise must be a finite number >= 0, got inf",
        ),
    ],
)
def test_helpers_refuse_bad_arguments_naming_the_function_and_the_value(
    call: Any, error: type[Exception], message: str
) -> None:
    """Each helper's bad argument is a built-in error naming the function, argument and value."""
    with pytest.raises(error, match=re.escape(message)):
        call()


def _boundary(step: Any) -> Any:
    return moons.boundary(moons.model(seed=0).parameter_values(), [(0.0, 0.0)], step=step)


def test_output_graph_takes_each_point_from_first_to_last() -> None:
    """sample=0 and sample=99 are the first and last points; the margin uses that point's label."""
    _, labels = moons.make_moons(seed=moons.DEFAULT_SEED)
    for sample in (0, 99):
        root = moons.output_graph(sample=sample)
        score = next(node for node in topological_order(root) if node.label == "score")
        assert root.data == max(0.0, 1.0 - labels[sample] * score.data)


def test_accuracy_and_boundary_take_numpy_arrays() -> None:
    """Scores 1, -1, 0.5 against labels 1, 1, 1: two of three have their label's sign."""
    import numpy as np

    scores, labels = np.array([1.0, -1.0, 0.5]), np.array([1.0, 1.0, 1.0])
    assert moons.accuracy(scores, labels) == moons.accuracy([1.0, -1.0, 0.5], [1.0, 1.0, 1.0])
    assert moons.accuracy(scores, labels) == 2 / 3
    params = moons.model(seed=4).parameter_values()
    as_array = moons.boundary(params, np.array([[0.0, 0.0], [1.0, 1.0]]), step=0.5)
    assert as_array == moons.boundary(params, [(0.0, 0.0), (1.0, 1.0)], step=0.5)
    assert as_array[0][0] == -1.0  # the grid starts 1 below the smallest x
