"""The benchmark workloads, written once and run unchanged on every engine.

This module owns the model code the benchmark times (micrograd's demo MLP, tutorial 002's
Celsius neuron, a deep chain) and the engine adapters that let the same code run on autodiff,
micrograd 0.1.0 and PyTorch scalar tensors. It does not time anything, choose rounds or print
tables: that is ``bench/run.py``. Nothing here is part of the ``autodiff`` package.

An adapter only says how an engine spells the few things that differ between engines: how to
make a parameter (a leaf that wants a gradient) and an input, how to read ``data`` and
``grad`` as floats, how to zero gradients, run backward and update parameters in place.
Arithmetic (``+ - * / **``, reflected forms) and ``relu`` are written in the workloads
themselves, exactly as a user of any of the three engines would write them.
"""

from __future__ import annotations

import itertools
import math
import random
import sys
import tracemalloc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

# ----------------------------------------------------------------------------------------------
# Engine adapters.


@dataclass(frozen=True)
class Engine:
    """How one engine spells the operations the workloads need beyond plain arithmetic."""

    name: str
    version: str
    parameter: Callable[[float], Any]  # a leaf that wants a gradient
    constant: Callable[[float], Any]  # an input: a node that needs no gradient
    data: Callable[[Any], float]
    grad: Callable[[Any], float]
    relu: Callable[[Any], Any]
    zero_grad: Callable[[Sequence[Any]], None]
    backward: Callable[[Any], None]
    update: Callable[[Sequence[Any], float], None]  # p.data -= lr * p.grad, in place
    recursive_backward: bool = False  # True when backward recurses once per graph level


def _relu_method(v: Any) -> Any:
    return v.relu()  # all three engines spell relu the same way


def _backward_method(v: Any) -> None:
    v.backward()


def _data_attribute(v: Any) -> float:
    return float(v.data)


def _grad_attribute(v: Any) -> float:
    return float(v.grad)


def _update_data(params: Sequence[Any], lr: float) -> None:
    for p in params:
        p.data -= lr * p.grad


def autodiff_engine() -> Engine:
    """This project's engine."""
    import autodiff
    from autodiff import Value

    def zero_grad(params: Sequence[Any]) -> None:
        for p in params:
            p.grad = 0.0

    return Engine(
        name="autodiff",
        version=autodiff.__version__,
        parameter=Value,
        constant=Value,
        data=_data_attribute,
        grad=_grad_attribute,
        relu=_relu_method,
        zero_grad=zero_grad,
        backward=_backward_method,
        update=_update_data,
    )


def micrograd_engine() -> Engine:
    """micrograd 0.1.0 from PyPI (raises ImportError when it is not installed)."""
    from importlib.metadata import version

    from micrograd.engine import Value

    def zero_grad(params: Sequence[Any]) -> None:
        for p in params:
            p.grad = 0  # as micrograd's Module.zero_grad does

    return Engine(
        name="micrograd",
        version=version("micrograd"),
        parameter=Value,
        constant=Value,
        data=_data_attribute,
        grad=_grad_attribute,
        relu=_relu_method,
        zero_grad=zero_grad,
        backward=_backward_method,
        update=_update_data,
        recursive_backward=True,
    )


def torch_engine() -> Engine:
    """PyTorch scalar tensors in float64 (raises ImportError when torch is not installed)."""
    import torch

    float64 = torch.float64

    def parameter(x: float) -> Any:
        return torch.tensor(x, dtype=float64, requires_grad=True)

    def constant(x: float) -> Any:
        return torch.tensor(x, dtype=float64)

    def data(v: Any) -> float:
        return float(v.item())

    def grad(v: Any) -> float:
        return 0.0 if v.grad is None else float(v.grad.item())

    def zero_grad(params: Sequence[Any]) -> None:
        for p in params:
            p.grad = None  # what torch.optim's zero_grad does by default

    def update(params: Sequence[Any], lr: float) -> None:
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad

    return Engine(
        name="pytorch",
        version=torch.__version__,
        parameter=parameter,
        constant=constant,
        data=data,
        grad=grad,
        relu=_relu_method,
        zero_grad=zero_grad,
        backward=_backward_method,
        update=update,
    )


ENGINE_FACTORIES: dict[str, Callable[[], Engine]] = {
    "autodiff": autodiff_engine,
    "micrograd": micrograd_engine,
    "pytorch": torch_engine,
}


@contextmanager
def recursion_limit(depth: int) -> Iterator[None]:
    """Raise the recursion limit for an engine whose backward recurses once per level."""
    saved = sys.getrecursionlimit()
    sys.setrecursionlimit(max(saved, depth + 1_000))
    try:
        yield
    finally:
        sys.setrecursionlimit(saved)


# ----------------------------------------------------------------------------------------------
# Workload 1: micrograd's demo, an MLP 2-16-16-1 with ReLU, max-margin loss, L2 regularisation.


def make_moons(n: int, seed: int, noise: float = 0.1) -> tuple[list[list[float]], list[float]]:
    """Two interleaving half circles with Gaussian noise; labels are -1.0 and +1.0."""
    rng = random.Random(seed)
    points: list[list[float]] = []
    labels: list[float] = []
    for i in range(n):
        t = rng.uniform(0.0, math.pi)
        if i % 2 == 0:  # upper moon
            x, y, label = math.cos(t), math.sin(t), -1.0
        else:  # lower moon, shifted right and down
            x, y, label = 1.0 - math.cos(t), 0.5 - math.sin(t), 1.0
        points.append([x + rng.gauss(0.0, noise), y + rng.gauss(0.0, noise)])
        labels.append(label)
    return points, labels


class MLP:
    """Layers of neurons ``act = b + sum(w_i * x_i)``, ReLU on every layer but the last."""

    def __init__(self, engine: Engine, sizes: Sequence[int], seed: int) -> None:
        rng = random.Random(seed)
        self.relu = engine.relu
        # One entry per layer: the neurons as (weights, bias), and whether ReLU follows.
        self.layers: list[tuple[list[tuple[list[Any], Any]], bool]] = []
        last = len(sizes) - 2
        for index, (fan_in, fan_out) in enumerate(itertools.pairwise(sizes)):
            neurons = [
                (
                    [engine.parameter(rng.uniform(-1.0, 1.0)) for _ in range(fan_in)],
                    engine.parameter(0.0),
                )
                for _ in range(fan_out)
            ]
            self.layers.append((neurons, index != last))

    def __call__(self, x: Sequence[Any]) -> Any:
        relu = self.relu
        for neurons, nonlinear in self.layers:
            outputs = []
            for weights, bias in neurons:
                act = sum((w * xi for w, xi in zip(weights, x, strict=True)), bias)
                outputs.append(relu(act) if nonlinear else act)
            x = outputs
        return x[0]

    def parameters(self) -> list[Any]:
        return [
            p for neurons, _ in self.layers for weights, bias in neurons for p in [*weights, bias]
        ]


@dataclass
class MLPProblem:
    """A model and its data, made once; each call to ``step`` is one training step."""

    engine: Engine
    model: MLP
    params: list[Any]
    inputs: list[list[Any]]
    labels: list[float]
    alpha: float = 1e-4
    lr: float = 0.05

    def loss(self) -> Any:
        """Max-margin loss averaged over the points plus ``alpha * sum(p * p)``."""
        relu = self.engine.relu
        scores = [self.model(x) for x in self.inputs]
        losses = [relu(1 + -yi * si) for yi, si in zip(self.labels, scores, strict=True)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = self.alpha * sum(p * p for p in self.params)
        return data_loss + reg_loss

    def step(self) -> float:
        """Forward, zero the gradients, backward, update; returns the loss before the update."""
        engine = self.engine
        loss = self.loss()
        engine.zero_grad(self.params)
        engine.backward(loss)
        engine.update(self.params, self.lr)
        return engine.data(loss)


def mlp_problem(
    engine: Engine, points: int = 100, sizes: Sequence[int] = (2, 16, 16, 1), seed: int = 1337
) -> MLPProblem:
    """micrograd's demo problem on ``engine``: moons data and an MLP seeded identically."""
    xs, ys = make_moons(points, seed)
    model = MLP(engine, sizes, seed)
    inputs = [[engine.constant(v) for v in row] for row in xs]
    return MLPProblem(engine, model, model.parameters(), inputs, ys)


# ----------------------------------------------------------------------------------------------
# Workload 2: tutorial 002, one neuron learning Fahrenheit from Celsius.


@dataclass
class CelsiusProblem:
    """``F = w * C + b`` on 100 samples -50..49, mean squared error."""

    engine: Engine
    weight: Any
    bias: Any
    celsius: list[float]
    fahrenheit: list[float]
    lr: float = 1e-4

    def loss(self) -> Any:
        w, b = self.weight, self.bias
        errors = [(w * c + b - f) ** 2 for c, f in zip(self.celsius, self.fahrenheit, strict=True)]
        return sum(errors) / len(errors)

    def step(self) -> float:
        """Forward, zero the gradients, backward, update; returns the loss before the update."""
        engine = self.engine
        params = [self.weight, self.bias]
        loss = self.loss()
        engine.zero_grad(params)
        engine.backward(loss)
        engine.update(params, self.lr)
        return engine.data(loss)


def celsius_problem(engine: Engine, samples: int = 100, seed: int = 2) -> CelsiusProblem:
    """Tutorial 002's data (Celsius -50.. upward, F = 9/5 C + 32) and a seeded weight and bias."""
    rng = random.Random(seed)
    celsius = [float(c) for c in range(-50, -50 + samples)]
    fahrenheit = [c * 9 / 5 + 32 for c in celsius]
    return CelsiusProblem(
        engine,
        engine.parameter(rng.uniform(-1.0, 1.0)),
        engine.parameter(rng.uniform(-1.0, 1.0)),
        celsius,
        fahrenheit,
    )


# ----------------------------------------------------------------------------------------------
# Workloads 3 and 4: a deep chain, for backward's growth and for memory per node.


def chain(engine: Engine, nodes: int, start: float = 0.5) -> tuple[Any, Any]:
    """A chain of exactly ``nodes`` operations on one leaf ``x``: ``y = y + x``, ``y = y * x``, ...

    Alternating add and mul with ``x = 0.5`` keeps every value and gradient finite however long
    the chain (y tends to 0.5). No plain numbers appear, so no engine makes extra constant
    nodes and every engine builds the same ``nodes`` + 1 nodes. Returns ``(x, y)``.
    """
    x = engine.parameter(start)
    y = x
    for i in range(nodes):
        y = y * x if i % 2 else y + x
    return x, y


def chain_gradient(nodes: int, start: float = 0.5) -> tuple[float, float]:
    """The chain's value and d y / d x computed by hand in floats (forward-mode recurrence)."""
    x, y, dy = start, start, 1.0
    for i in range(nodes):
        if i % 2:
            y, dy = y * x, dy * x + y  # d(y*x)/dx = y' x + y
        else:
            y, dy = y + x, dy + 1.0  # d(y+x)/dx = y' + 1
    return y, dy


def backward_on_chain(engine: Engine, root: Any, nodes: int) -> None:
    """Run backward from the end of a chain, raising the recursion limit if the engine needs it."""
    if engine.recursive_backward:
        with recursion_limit(2 * nodes):
            engine.backward(root)
    else:
        engine.backward(root)


@dataclass(frozen=True)
class Memory:
    """Bytes per node of a chain, as traced by tracemalloc."""

    built: float  # the graph built, before backward
    after_backward: float  # the same graph after one backward


def memory_per_node(engine: Engine, nodes: int) -> Memory:
    """Bytes traced per node: the chain built, then after backward (gradients stored)."""
    import gc

    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        x, y = chain(engine, nodes)
        built = tracemalloc.get_traced_memory()[0] - base
        backward_on_chain(engine, y, nodes)
        gc.collect()  # drop whatever backward left for the collector (micrograd's walk)
        after = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    del x, y
    return Memory(built / nodes, after / nodes)


def count_nodes(root: Any) -> int:
    """Nodes in an autodiff graph (inputs, constants and operations)."""
    from autodiff import topological_order

    return len(topological_order(root))


# ----------------------------------------------------------------------------------------------
# The tape and the vectorised baselines: the same two models, as replays and as array code.
#
# These "engines" do not share the scalar adapters above: each implements the two workloads
# itself, starting from exactly the same numbers (the same data and the same seeded draws as
# ``mlp_problem`` and ``celsius_problem``), so their first losses and final parameters can be
# compared with the scalar engines'.


CELSIUS_STEPS = 10_000  # tutorial 002's full training


@dataclass(frozen=True)
class Trainer:
    """An engine for the training workloads: a step of the MLP and a whole Celsius training.

    ``mlp_step()`` returns a new step function (the model made afresh, any recording or
    compiling done) that returns the loss before its update. ``celsius_training(steps)`` runs a
    whole training from the seeded start, everything included (recording, compiling), and
    returns ``(first loss, final weight, final bias)``. ``compile_mlp()`` returns the seconds
    taken to record and compile the MLP graph, for the tape.
    """

    name: str
    version: str
    mlp_step: Callable[[], Callable[[], float]]
    celsius_training: Callable[[int], tuple[float, float, float]]
    compile_mlp: Callable[[], float] | None = None


def _mlp_arrays(points: int = 100, sizes: Sequence[int] = (2, 16, 16, 1), seed: int = 1337) -> Any:
    """The MLP problem's data and starting parameters as numpy arrays: the same draws as MLP."""
    import numpy as np

    xs, ys = make_moons(points, seed)
    rng = random.Random(seed)
    weights, biases = [], []
    for fan_in, fan_out in itertools.pairwise(sizes):
        weights.append(
            np.array([[rng.uniform(-1.0, 1.0) for _ in range(fan_in)] for _ in range(fan_out)])
        )
        biases.append(np.zeros(fan_out))
    return np.array(xs), np.array(ys), weights, biases


def _celsius_start(
    samples: int = 100, seed: int = 2
) -> tuple[float, float, list[float], list[float]]:
    rng = random.Random(seed)
    w, b = rng.uniform(-1.0, 1.0), rng.uniform(-1.0, 1.0)
    celsius = [float(c) for c in range(-50, -50 + samples)]
    return w, b, celsius, [c * 9 / 5 + 32 for c in celsius]


def tape_trainer(backend: str) -> Callable[[], Trainer]:
    """autodiff's tape with one backend: the scalar workloads recorded once and replayed."""

    def factory() -> Trainer:
        import autodiff
        from autodiff import Tape

        engine = autodiff_engine()

        def replay_step(problem: Any) -> Callable[[], float]:
            tape = Tape(problem.loss(), backend=backend)
            params = (
                problem.params if hasattr(problem, "params") else [problem.weight, problem.bias]
            )
            lr = problem.lr

            def step() -> float:
                value = tape.forward()
                for p in params:
                    p.grad = 0.0
                tape.backward()
                for p in params:
                    p.data -= lr * p.grad
                return value

            return step

        def celsius_training(steps: int) -> tuple[float, float, float]:
            problem = celsius_problem(engine)
            step = replay_step(problem)
            first = step()
            for _ in range(steps - 1):
                step()
            return first, problem.weight.data, problem.bias.data

        def compile_mlp() -> float:
            import time

            loss = mlp_problem(engine).loss()
            start = time.perf_counter()
            Tape(loss, backend=backend)
            return time.perf_counter() - start

        return Trainer(
            f"tape-{backend}",
            autodiff.__version__,
            lambda: replay_step(mlp_problem(engine)),
            celsius_training,
            compile_mlp,
        )

    return factory


def scalar_trainer(name: str) -> Callable[[], Trainer]:
    """A scalar engine (autodiff eager, micrograd, PyTorch scalars) running its usual step."""

    def factory() -> Trainer:
        engine = ENGINE_FACTORIES[name]()

        def celsius_training(steps: int) -> tuple[float, float, float]:
            problem = celsius_problem(engine)
            first = problem.step()
            for _ in range(steps - 1):
                problem.step()
            return first, engine.data(problem.weight), engine.data(problem.bias)

        return Trainer(name, engine.version, lambda: mlp_problem(engine).step, celsius_training)

    return factory


def numpy_trainer() -> Trainer:
    """The gradients written by hand in numpy: the floor for this kind of work."""
    import numpy as np

    def mlp_step() -> Callable[[], float]:
        x, y, weights, biases = _mlp_arrays()
        alpha, lr, count = 1e-4, 0.05, len(y)

        def step() -> float:
            # forward: two ReLU layers and a linear score, max-margin loss plus L2
            z1 = x @ weights[0].T + biases[0]
            h1 = np.maximum(z1, 0.0)
            z2 = h1 @ weights[1].T + biases[1]
            h2 = np.maximum(z2, 0.0)
            score = h2 @ weights[2][0] + biases[2][0]
            margin = 1.0 - y * score
            data_loss = np.maximum(margin, 0.0).sum() * (1.0 / count)
            reg = sum(
                float((w * w).sum()) + float((b * b).sum())
                for w, b in zip(weights, biases, strict=True)
            )
            loss = float(data_loss) + alpha * reg
            # backward, by hand
            d_score = np.where(margin > 0.0, -y, 0.0) * (1.0 / count)
            d_w3 = d_score @ h2
            d_h2 = np.outer(d_score, weights[2][0]) * (z2 > 0.0)
            d_w2 = d_h2.T @ h1
            d_h1 = (d_h2 @ weights[1]) * (z1 > 0.0)
            d_w1 = d_h1.T @ x
            grads_w = [d_w1, d_w2, d_w3[None, :]]
            grads_b = [d_h1.sum(axis=0), d_h2.sum(axis=0), np.array([d_score.sum()])]
            for w, b, gw, gb in zip(weights, biases, grads_w, grads_b, strict=True):
                w -= lr * (gw + 2.0 * alpha * w)
                b -= lr * (gb + 2.0 * alpha * b)
            return loss

        return step

    def celsius_training(steps: int) -> tuple[float, float, float]:
        w, b, celsius, fahrenheit = _celsius_start()
        c, f = np.array(celsius), np.array(fahrenheit)
        n, lr = len(celsius), 1e-4
        first = math.nan
        for k in range(steps):
            # The loss mean(e^2) with e = w c + b - f; d/dw = 2 mean(e c), d/db = 2 mean(e).
            error = w * c + b - f
            loss = float((error * error).sum()) / n
            grad_w = 2.0 * float((error * c).sum()) / n
            grad_b = 2.0 * float(error.sum()) / n
            w -= lr * grad_w
            b -= lr * grad_b
            if k == 0:
                first = loss
        return first, w, b

    return Trainer("numpy", np.__version__, mlp_step, celsius_training)


def torch_vector_trainer() -> Trainer:
    """PyTorch with the data as tensors (one thread): the usual way to write these models."""
    import torch

    torch.set_num_threads(1)
    float64 = torch.float64

    def mlp_step() -> Callable[[], float]:
        x, y, weights, biases = _mlp_arrays()
        xt, yt = torch.tensor(x, dtype=float64), torch.tensor(y, dtype=float64)
        params = []
        for w, b in zip(weights, biases, strict=True):
            params += [torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)]
        alpha, lr, count = 1e-4, 0.05, len(y)

        def step() -> float:
            h = xt
            for k in range(0, len(params), 2):
                h = h @ params[k].T + params[k + 1]
                if k < len(params) - 2:
                    h = h.relu()
            score = h[:, 0]
            data_loss = (1 + -yt * score).relu().sum() * (1.0 / count)
            loss = data_loss + alpha * sum((p * p).sum() for p in params)
            for p in params:
                p.grad = None
            loss.backward()
            with torch.no_grad():
                for p in params:
                    p -= lr * p.grad
            return float(loss.item())

        return step

    def celsius_training(steps: int) -> tuple[float, float, float]:
        w0, b0, celsius, fahrenheit = _celsius_start()
        w = torch.tensor(w0, dtype=float64, requires_grad=True)
        b = torch.tensor(b0, dtype=float64, requires_grad=True)
        c, f = torch.tensor(celsius, dtype=float64), torch.tensor(fahrenheit, dtype=float64)
        first = math.nan
        for k in range(steps):
            loss = ((w * c + b - f) ** 2).sum() / len(celsius)
            w.grad = b.grad = None
            loss.backward()
            with torch.no_grad():
                w -= 1e-4 * w.grad
                b -= 1e-4 * b.grad
            if k == 0:
                first = float(loss.item())
        return first, float(w.item()), float(b.item())

    return Trainer("pytorch-vectors", torch.__version__, mlp_step, celsius_training)


def jax_trainer(include_compile: bool) -> Callable[[], Trainer]:
    """JAX ``jit`` on the CPU in float64; with ``include_compile`` each run compiles afresh."""

    def factory() -> Trainer:
        import jax
        import jax.numpy as jnp

        jax.config.update("jax_enable_x64", True)

        def celsius_step_function() -> Any:
            _, _, celsius, fahrenheit = _celsius_start()
            c, f = jnp.array(celsius), jnp.array(fahrenheit)

            def loss(params: Any) -> Any:
                w, b = params
                return jnp.sum((w * c + b - f) ** 2) / len(celsius)

            def step(params: Any) -> Any:  # a new function each time: jit compiles it anew
                value, grads = jax.value_and_grad(loss)(params)
                return value, (params[0] - 1e-4 * grads[0], params[1] - 1e-4 * grads[1])

            return jax.jit(step)

        compiled = None if include_compile else celsius_step_function()

        def celsius_training(steps: int) -> tuple[float, float, float]:
            w0, b0, _, _ = _celsius_start()
            step = celsius_step_function() if compiled is None else compiled
            params = (jnp.float64(w0), jnp.float64(b0))
            first, params = step(params)
            for _ in range(steps - 1):
                _, params = step(params)
            return float(first), float(params[0]), float(params[1])

        if compiled is not None:
            celsius_training(2)  # compile before any timing

        def mlp_step() -> Callable[[], float]:
            x, y, weights, biases = _mlp_arrays()
            xj, yj = jnp.array(x), jnp.array(y)
            alpha, lr, count = 1e-4, 0.05, len(y)

            def loss(params: Any) -> Any:
                h = xj
                for k in range(0, len(params), 2):
                    h = h @ params[k].T + params[k + 1]
                    if k < len(params) - 2:
                        h = jax.nn.relu(h)
                margins = jax.nn.relu(1 + -yj * h[:, 0])
                return jnp.sum(margins) * (1.0 / count) + alpha * sum(
                    jnp.sum(p * p) for p in params
                )

            @jax.jit
            def update(params: Any) -> Any:
                value, grads = jax.value_and_grad(loss)(params)
                return value, tuple(p - lr * g for p, g in zip(params, grads, strict=True))

            state = [
                tuple(jnp.array(a) for pair in zip(weights, biases, strict=True) for a in pair)
            ]
            update(state[0])  # compile outside the timed steps

            def step() -> float:
                value, state[0] = update(state[0])
                return float(value)

            return step

        name = "jax-jit+compile" if include_compile else "jax-jit"
        return Trainer(name, jax.__version__, mlp_step, celsius_training)

    return factory


TRAINER_FACTORIES: dict[str, Callable[[], Trainer]] = {
    "autodiff": scalar_trainer("autodiff"),
    "tape-numpy": tape_trainer("numpy"),
    "tape-python": tape_trainer("python"),
    "micrograd": scalar_trainer("micrograd"),
    "pytorch": scalar_trainer("pytorch"),
    "pytorch-vectors": torch_vector_trainer,
    "jax-jit+compile": jax_trainer(True),
    "jax-jit": jax_trainer(False),
    "numpy": numpy_trainer,
}
