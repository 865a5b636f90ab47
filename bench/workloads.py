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
