"""The tape's API and promises: inputs, accumulation, refusals, errors, verify, sync, watch."""

from __future__ import annotations

import math

import numpy as np
import pytest

from autodiff import Tape, Value, define_op, detect_anomaly, no_grad, topological_order

BACKENDS = ("python", "numpy")


def _samples_graph(w: Value, b: Value, xs: list[float]) -> Value:
    """A per-sample squared error summed: the shape the numpy backend groups."""
    errors = [(w * x + b - 2.0 * x) ** 2 for x in xs]
    return sum(errors) / len(errors)


@pytest.mark.parametrize("backend", BACKENDS)
def test_forward_takes_inputs_in_order_by_value_or_by_label(backend):
    """New inputs as a sequence, a mapping by Value or by label; missing ones keep their data."""
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    w = Value(3.0, label="w")
    tape = Tape(w * x + y, inputs=[x, y], backend=backend)
    assert tape.forward() == 5.0
    assert tape.forward([2.0, 1.0]) == 7.0
    assert tape.forward({x: 0.5}) == 3.5  # y keeps its data, 2.0
    assert tape.forward({"y": 10.0}) == 13.0  # x keeps its data, 1.0
    assert x.data == 1.0  # the graph's own numbers are untouched


@pytest.mark.parametrize("backend", BACKENDS)
def test_forward_refuses_the_wrong_number_of_inputs_and_unknown_names(backend):
    """Two inputs and three numbers is a ValueError; so is a label that is not an input."""
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    tape = Tape(x * y, inputs=[x, y], backend=backend)
    with pytest.raises(ValueError, match="2 input"):
        tape.forward([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="'z' is not one of the tape's inputs"):
        tape.forward({"z": 1.0})
    with pytest.raises(TypeError, match=r"tape\.forward"):
        tape.forward(["one", 2.0])


def test_tape_refuses_bad_arguments():
    """A non-Value loss, an input that is not a leaf or is given twice, an unknown backend."""
    x = Value(1.0, label="x")
    with pytest.raises(TypeError, match=r"loss must be a Value"):
        Tape(1.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not a leaf"):
        Tape(x * 2.0, inputs=[x * 3.0])
    with pytest.raises(ValueError, match="listed twice"):
        Tape(x * 2.0, inputs=[x, x])
    with pytest.raises(ValueError, match="backend must be"):
        Tape(x * 2.0, backend="fortran")  # type: ignore[arg-type]


def test_tape_refuses_an_input_that_is_not_in_the_graph():
    """An input the loss does not depend on is a ValueError naming it, as for watch."""
    w, x = Value(2.0, label="w"), Value(1.0, label="x")
    with pytest.raises(ValueError, match=r"Tape: input 'x' is not in the graph under loss"):
        Tape(w * 3.0, inputs=[x])


def test_tape_names_arguments_of_the_wrong_kind():
    """watch and inputs that hold no Values are TypeErrors naming the tape and the argument."""
    w = Value(2.0, label="w")
    with pytest.raises(TypeError, match=r"Tape: watch must be Values, got float"):
        Tape(w * 2.0, watch=[1.0])  # type: ignore[list-item]
    with pytest.raises(TypeError, match=r"Tape: watch must be Values .*got str"):
        Tape(w * 2.0, watch="ab")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Tape: inputs must be Values .*got int"):
        Tape(w * 2.0, inputs=3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"Tape\.trace: check_every must be an int"):
        Tape.trace(lambda: w * 2.0, check_every=2.5)  # type: ignore[arg-type]


@pytest.mark.parametrize("backend", BACKENDS)
def test_one_value_is_one_input_or_one_watched_node(backend):
    """inputs=x and watch=node, a single Value each, mean [x] and [node]."""
    w, x = Value(2.0, label="w"), Value(1.0, label="x")
    y = w * x
    tape = Tape(y * 3.0, inputs=x, watch=y, backend=backend)
    assert tape.inputs == (x,)
    assert tape.forward([5.0]) == 30.0
    assert tape.watched() == [10.0]


@pytest.mark.parametrize("backend", BACKENDS)
def test_forward_takes_a_row_of_a_numpy_array(backend):
    """A 1-d numpy array is a sequence of inputs; an array of another shape is a TypeError."""
    w = Value(3.0, label="w")
    x, y = Value(1.0, label="x"), Value(2.0, label="y")
    tape = Tape(w * x + y, inputs=[x, y], backend=backend)
    data = np.array([[2.0, 1.0], [4.0, 0.5]], dtype=np.float32)
    assert tape.forward(data[1]) == 3.0 * 4.0 + 0.5
    assert tape.forward(np.array([2, 1])) == 7.0
    with pytest.raises(TypeError, match=r"tape\.forward: .*2-d"):
        tape.forward(data)  # type: ignore[arg-type]


def test_check_every_takes_numpy_integers():
    """check_every=np.int64(2) verifies every second forward, as 2 does."""
    w = Value(1.0, label="w")
    tape = Tape.trace(lambda: _branchy(w), check_every=np.int64(2))  # type: ignore[arg-type]
    w.data = -1.0
    tape.forward()
    with pytest.raises(RuntimeError, match="changed shape"):
        tape.forward()


@pytest.mark.parametrize("backend", BACKENDS)
def test_backward_accumulates_into_leaves_as_eager_does(backend):
    """Leaves accumulate across calls, None counts as zero, and the upstream gradient scales."""
    w, b = Value(0.5, label="w"), Value(-1.0, label="b")
    loss = _samples_graph(w, b, [1.0, 2.0, 3.0, 4.0])
    loss.backward(2.5)
    expected_w, expected_b = w.grad, b.grad
    w.grad, b.grad = None, 0.0
    tape = Tape(loss, backend=backend)
    tape.backward(2.5)
    assert (w.grad, b.grad) == (expected_w, expected_b)
    tape.backward(2.5)
    assert (w.grad, b.grad) == (expected_w + expected_w, expected_b + expected_b)
    assert type(w.grad) is float
    assert type(b.grad) is float


@pytest.mark.parametrize("backend", BACKENDS)
def test_live_leaves_are_read_at_each_replay(backend):
    """Changing a parameter's data changes the next replay, as a fresh eager graph would."""
    w, b = Value(0.5), Value(-1.0)
    tape = Tape(_samples_graph(w, b, [1.0, 2.0, 3.0]), backend=backend)
    w.data, b.data = 2.0, 0.25
    fresh = _samples_graph(w, b, [1.0, 2.0, 3.0])
    fresh.backward()
    expected = (fresh.data, w.grad, b.grad)
    w.grad = b.grad = 0.0
    value = tape.forward()
    tape.backward()
    assert (value, w.grad, b.grad) == expected


@pytest.mark.parametrize("backend", BACKENDS)
def test_backward_refuses_create_graph_and_value_grads(backend):
    """create_graph is a ValueError; a grad left as a Value is a TypeError changing no grad."""
    w, b = Value(0.5, label="w"), Value(2.0, label="b")
    tape = Tape(w * b, backend=backend)
    with pytest.raises(ValueError, match="create_graph"):
        tape.backward(create_graph=True)
    b.grad = Value(1.0)
    with pytest.raises(TypeError, match=r"'b'\.grad is a Value"):
        tape.backward()
    assert w.grad == 0.0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("grad_mode", ["enabled", "no_grad"])
def test_tape_refuses_anomaly_mode(backend, grad_mode):
    """Inside detect_anomaly (with or without no_grad) forward and backward raise RuntimeError."""
    w = Value(0.5)
    tape = Tape(_samples_graph(w, Value(1.0), [1.0, 2.0]), backend=backend)
    with detect_anomaly():
        if grad_mode == "no_grad":
            with no_grad(), pytest.raises(RuntimeError, match="detect_anomaly"):
                tape.forward()
        else:
            with pytest.raises(RuntimeError, match="detect_anomaly"):
                tape.forward()
        with pytest.raises(RuntimeError, match="detect_anomaly"):
            tape.backward()
    assert tape.forward() > 0.0  # outside it, the tape replays again


@pytest.mark.parametrize("backend", BACKENDS)
def test_domain_errors_are_raised_as_eager_raises_them(backend):
    """An input that takes log below 0 raises ValueError naming the node, like the engine."""
    x = Value(10.0, label="x")
    w = Value(1.0, label="w")
    loss = sum((w * (x - float(k))).log() for k in range(4))
    tape = Tape(loss, inputs=[x], backend=backend)
    assert tape.forward([10.0]) == pytest.approx(sum(math.log(10.0 - k) for k in range(4)))
    with pytest.raises(ValueError, match="log") as raised:
        tape.forward([2.5])
    assert "node #" in str(raised.value)
    with pytest.raises(ValueError, match="log"):
        sum((w * (Value(2.5) - float(k))).log() for k in range(4))


@pytest.mark.parametrize("backend", BACKENDS)
def test_domain_errors_name_the_operand_as_eager_does(backend):
    """A log of a labelled node below 0 names that label in the tape's error, as eager does."""
    x = Value(10.0, label="x")
    w = Value(1.0, label="w")
    shifted = [w * (x - float(k)) for k in range(4)]
    for k, node in enumerate(shifted):
        node.label = f"shifted{k}"
    tape = Tape(sum(node.log() for node in shifted), inputs=[x], backend=backend)
    with pytest.raises(ValueError, match=r"log") as raised:
        Value(-0.5, label="shifted3").log()
    assert "(operand 'shifted3')" in str(raised.value)
    with pytest.raises(ValueError, match=r"^tape: log: .*operand 'shifted3'.*node #"):
        tape.forward([2.5])


@pytest.mark.parametrize("backend", BACKENDS)
def test_domain_errors_name_the_nearest_labelled_node(backend):
    """With no label on the failing node or its operands, the nearest labelled ancestor is named."""
    x = Value(10.0, label="x")
    w = Value(1.0, label="w")
    loss = sum((w * (x - float(k)) * 2.0).log() for k in range(4))
    tape = Tape(loss, inputs=[x], backend=backend)
    with pytest.raises(ValueError, match=r"computed from 'w'.*node #") as raised:
        tape.forward([2.5])
    assert "node #" in str(raised.value)


@pytest.mark.parametrize("backend", BACKENDS)
def test_square_overflow_raises_as_eager(backend):
    """x ** 2 overflowing raises OverflowError in the tape as in the engine's pow row."""
    x = Value(2.0, label="x")
    w = Value(1.0)
    tape = Tape((w * x) ** 2 - 1.0, inputs=[x], backend=backend)
    with pytest.raises(OverflowError):
        Value(1e200) ** 2
    with pytest.raises(OverflowError, match="pow"):
        tape.forward([1e200])


@pytest.mark.parametrize("backend", BACKENDS)
def test_infinities_without_errors_are_replayed_exactly(backend):
    """A product overflowing to inf is no error in eager: the tape gives that inf too.

    It takes its reference path for it (counted), and its fast path again once back in range.
    """
    x = Value(1.0, label="x")
    w = Value(1e300, label="w")
    tape = Tape((w * x * 10.0).tanh() + w * x, inputs=[x], backend=backend)
    assert tape.forward([1.0]) == math.tanh(1e301) + 1e300
    assert tape.reference_replays == 0
    assert tape.forward([1e10]) == math.inf
    assert tape.reference_replays == 1
    assert tape.forward([2.0]) == math.tanh(2e301) + 2e300
    assert tape.reference_replays == 1


@pytest.mark.parametrize("backend", BACKENDS)
def test_custom_rows_call_their_own_rules(backend):
    """A define_op row is replayed by calling its forward and partials: same numbers as eager."""
    cube = define_op("cube_for_tape_test", lambda x: x**3, lambda out, x: (3.0 * x * x,))
    w = Value(0.7, label="w")
    loss = sum(cube(w * float(k)) for k in range(1, 6))
    loss.backward()
    expected = (loss.data, w.grad)
    w.grad = 0.0
    tape = Tape(loss, backend=backend)
    value = tape.forward()
    tape.backward()
    assert (value, w.grad) == expected


def test_auto_picks_numpy_for_repeated_shapes_and_python_otherwise():
    """A sum over many samples replays as numpy; a small one-off expression as Python."""
    w, b = Value(0.5), Value(1.0)
    assert Tape(_samples_graph(w, b, [float(k) for k in range(50)])).backend == "numpy"
    assert Tape((w * b).tanh() + w).backend == "python"


def test_large_graphs_are_split_into_chunks_and_stay_bitwise():
    """A chain of 5,000 operations (several generated functions) equals eager bit for bit."""
    x = Value(0.5, label="x")
    y = x
    for i in range(5_000):
        y = y * x if i % 2 else y + x
    y.backward()
    expected = (y.data, x.grad)
    x.grad = 0.0
    tape = Tape(y, backend="python")
    assert tape.source.count("def forward_") > 1
    assert tape.forward() == expected[0]
    tape.backward()
    assert x.grad == expected[1]


def test_a_lone_leaf_is_a_tape_too():
    """The output may be a leaf: its gradient is the upstream gradient."""
    w = Value(4.0)
    tape = Tape(w)
    assert tape.forward() == 4.0
    tape.backward(3.0)
    assert w.grad == 3.0


def _branchy(w: Value) -> Value:
    return (w * 2.0).relu() if w.data > 0 else -w


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_passes_when_the_graph_is_static_and_changes_nothing(backend):
    """verify() on an unchanged function raises nothing and leaves every grad and data as it was."""
    w, b = Value(0.5, label="w"), Value(1.0, label="b")
    x = Value(3.0, label="x")
    tape = Tape.trace(lambda x: _samples_graph(w, b, [1.0, 2.0]) * x, x, backend=backend)
    tape.forward([4.0])
    w.grad = 7.0
    tape.verify()
    assert (w.grad, b.grad, w.data, x.data) == (7.0, 0.0, 0.5, 3.0)


def test_verify_names_the_first_node_of_a_changed_graph():
    """Control flow on .data that now takes another branch is reported with the node."""
    w = Value(1.0, label="w")
    tape = Tape.trace(lambda: _branchy(w))
    w.data = -1.0
    with pytest.raises(RuntimeError, match=r"changed shape at node #1: recorded mul, now neg"):
        tape.verify()


def test_verify_names_a_number_frozen_from_data():
    """A number computed from .data and used in an operation is frozen: verify says where."""
    w = Value(2.0, label="w")
    tape = Tape.trace(lambda: w * float(w.data))
    w.data = 3.0
    assert tape.forward() == 6.0  # frozen: 3 * 2, not 3 * 3
    with pytest.raises(RuntimeError, match=r"node #1: mul recorded with operands"):
        tape.verify()


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_catches_a_branch_that_picks_another_parameter(backend):
    """A branch on .data that now uses b instead of a, both holding 1.0, is a changed graph.

    Shape, output and gradients by position all match; only which leaf feeds the node differs,
    and eager sends the gradient to b where the replay would send it to a.
    """
    a, b = Value(1.0, label="a"), Value(1.0, label="b")
    x = Value(1.0, label="x")

    def f(x: Value) -> Value:
        return (a if x.data > 0 else b) * x * 3.0

    tape = Tape.trace(f, x, backend=backend)
    x.data = -1.0
    tape.forward([-1.0])
    f(x).backward()
    assert (a.grad, b.grad) == (0.0, -3.0)  # eager: the gradient goes to b
    with pytest.raises(RuntimeError, match=r"recorded leaf 'a', now 'b'"):
        tape.verify()


@pytest.mark.parametrize("backend", BACKENDS)
def test_verify_reports_a_leaf_made_afresh(backend):
    """A Value the function makes at each call is not the one the replay reads and updates."""
    w = Value(0.5, label="w")
    x = Value(2.0, label="x")
    tape = Tape.trace(lambda x: w * x + Value(1.5, label="c"), x, backend=backend)
    tape.forward([3.0])
    with pytest.raises(RuntimeError, match=r"recorded leaf 'c', now 'c', a leaf the tape does not"):
        tape.verify()
    fixed = Tape.trace(lambda x: w * x + 1.5, x, backend=backend)  # a plain number instead
    fixed.forward([3.0])
    fixed.verify()


def test_check_every_verifies_during_training():
    """With check_every=3, the third forward after the graph changed shape raises."""
    w = Value(1.0, label="w")
    tape = Tape.trace(lambda: _branchy(w), check_every=3)
    tape.forward()
    w.data = -1.0
    tape.forward()
    with pytest.raises(RuntimeError, match="changed shape"):
        tape.forward()


def test_verify_needs_a_function():
    """A tape made from a graph has no function to call again: verify is a ValueError."""
    w = Value(1.0)
    with pytest.raises(ValueError, match=r"Tape\.trace"):
        Tape(w * w).verify()
    with pytest.raises(ValueError, match="check_every"):
        Tape.trace(lambda: w * w, check_every=0)


@pytest.mark.parametrize("backend", BACKENDS)
def test_sync_writes_the_replay_into_the_graph(backend):
    """After sync every node holds the data and grad a fresh eager graph at those numbers has."""
    w, b = Value(0.5, label="w"), Value(1.0, label="b")
    x = Value(1.0, label="x")
    loss = _samples_graph(w, b, [1.0, 2.0]) * x
    tape = Tape(loss, inputs=[x], backend=backend)
    w.data = -0.25
    tape.forward([3.0])
    tape.sync(2.0)
    x_fresh = Value(3.0)
    fresh = _samples_graph(Value(-0.25), Value(1.0), [1.0, 2.0]) * x_fresh
    fresh.backward(2.0)
    for node, twin in zip(topological_order(loss), topological_order(fresh), strict=True):
        assert node.data == twin.data
        if not node.is_leaf:
            assert node.grad == twin.grad
    assert x.data == 3.0


@pytest.mark.parametrize("backend", BACKENDS)
def test_watch_reports_the_numbers_of_chosen_nodes(backend):
    """watched() gives the chosen nodes' numbers of the last forward, in order."""
    w = Value(1.0)
    scores = [w * float(k) for k in range(6)]
    loss = sum(s * s for s in scores)
    tape = Tape(loss, backend=backend, watch=scores)
    w.data = 0.5
    tape.forward()
    assert tape.watched() == [0.5 * k for k in range(6)]
    with pytest.raises(ValueError, match="not in the graph"):
        Tape(loss, watch=[Value(1.0)])


def test_fingerprint_is_the_shape_not_the_data():
    """Graphs of the same shape share a fingerprint whatever their data; another shape does not."""
    a, b = Value(1.0), Value(5.0)
    assert Tape((a * 2.0).tanh()).fingerprint == Tape((b * 2.0).tanh()).fingerprint
    assert Tape((a * 2.0).tanh()).fingerprint != Tape((a * 2.0).sigmoid()).fingerprint


def test_source_is_straight_line_code_to_read():
    """The generated Python spells each node and each chain-rule edge on its own line."""
    w = Value(2.0)
    source = Tape((w * 3.0).tanh(), backend="python").source
    assert "v1 = v0 * 3.0" in source
    assert "g1 = 0.0 + g2 * (1.0 - v2 * v2)" in source


def test_numpy_tape_equals_eager_through_a_saturated_tanh():
    """The numpy tape's gradient through a saturated tanh is eager's.

    Near tanh = +-1 its derivative 1 - out * out cancels, so a last-bit difference in tanh
    grows: with numpy's own tanh the gradient below differed from eager's by about 1e-11
    relative (hypothesis found it at exp(1.875)). The numpy backend runs Python's tanh lane by
    lane, so the two are equal.
    """
    p = Value(1.0, label="p")
    samples = [Value(1.5 + 0.0625 * k, label=f"x{k}") for k in range(40)]
    loss = sum(((x * p).exp().tanh() for x in samples), Value(0.0))
    loss.backward()
    eager = p.grad
    p.grad = 0.0
    tape = Tape(loss, inputs=samples, backend="numpy")
    tape.forward()
    tape.backward()
    assert p.grad == eager
