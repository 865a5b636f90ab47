"""Benchmark autodiff and its tape against micrograd, PyTorch, JAX and numpy, in one run.

Usage (``make bench`` sets up ``.venv-bench`` and runs this with its Python)::

    python bench/run.py [--quick] [--markdown PATH | --no-markdown] [--workloads NAMES]

This script owns the measuring: rounds, the order engines run in, medians, ratios, the targets,
the printed table and ``docs/performance.md``. The model code it times lives in
``bench/workloads.py`` and is the same for every engine.

How it measures, and why:

* Each engine runs in its own worker process, so one engine's imports and heap (PyTorch's many
  Python objects) never slow another's garbage collector, and memory use stays separate.
* The garbage collector stays on, as users run their training loops. A training step is timed
  over several consecutive steps and divided, so collections triggered by earlier steps' graphs
  are paid for, as in a real loop.
* Rounds alternate the engines (and rotate which goes first), so drift of the machine's speed
  hits every engine alike; each figure is the median over rounds.
* Only one engine works at a time: a worker frees what a command made and collects garbage
  *before* it replies. Freeing micrograd's cyclic graphs on the other CPU while autodiff's round
  ran had slowed that round by up to half, and made its medians jump between runs.
* The tape and the vectorised baselines (PyTorch with the data as tensors, JAX ``jit``, the
  gradient written by hand in numpy) are "trainers" (``workloads.TRAINER_FACTORIES``), each in
  its own worker too, taking turns with the scalar engines in the same rounds.
"""

from __future__ import annotations

import argparse
import gc
import multiprocessing
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import workloads  # noqa: E402  (bench/ is a folder of scripts, not a package)

ENGINES = ("autodiff", "micrograd", "pytorch")
# The trainers that run in workers of their own (the scalar engines train in theirs).
TRAINERS = ("tape-numpy", "tape-python", "pytorch-vectors", "jax", "numpy")
CHAIN_SIZES = (10**4, 10**5, 10**6)
# How each engine of the training table is named in it, in its order.
TRAINING_ROWS = (
    ("tape-numpy", "autodiff tape, numpy (what auto picks)"),
    ("tape-python", "autodiff tape, generated Python"),
    ("autodiff", "autodiff eager"),
    ("micrograd", "micrograd"),
    ("pytorch", "PyTorch scalar tensors"),
    ("pytorch-vectors", "PyTorch, data as tensors (1 thread)"),
    ("jax+compile", "JAX jit, compile included"),
    ("jax", "JAX jit, compiled beforehand"),
    ("numpy", "numpy, gradient by hand"),
)


# ----------------------------------------------------------------------------------------------
# The worker: one process per engine, answering one command at a time.


def _time_steps(step: Callable[[], float], steps: int) -> tuple[float, float]:
    """Seconds per step over ``steps`` consecutive steps, and the first step's loss."""
    start = time.perf_counter()
    first = step()
    for _ in range(steps - 1):
        step()
    return (time.perf_counter() - start) / steps, first


def _serve(engine_name: str, connection: Connection) -> None:
    try:
        if engine_name in TRAINERS:
            engine: Any = _make_trainer(engine_name)
        else:
            engine = workloads.ENGINE_FACTORIES[engine_name]()
    except ImportError as error:
        connection.send(("unavailable", str(error)))
        return
    connection.send(("ready", engine.version))
    while True:
        command, size = connection.recv()
        if command == "stop":
            return
        reply = _run(engine, command, size)
        # Tidy up *before* replying: the next engine's round starts the moment this reply
        # arrives, and freeing a graph (micrograd's cycles need the collector; a chain of 10^6
        # nodes takes a while) on the other CPU at the same time slowed it by up to half.
        gc.collect()
        connection.send(reply)


class _Trainers:
    """The trainers one worker holds: JAX's two (compile included or not) share a process."""

    def __init__(self, trainers: dict[str, workloads.Trainer]) -> None:
        self.trainers = trainers
        self.version = next(iter(trainers.values())).version


def _make_trainer(name: str) -> _Trainers:
    if name == "jax":
        factories = workloads.TRAINER_FACTORIES
        return _Trainers(
            {"jax": factories["jax-jit"](), "jax+compile": factories["jax-jit+compile"]()}
        )
    return _Trainers({name: workloads.TRAINER_FACTORIES[name]()})


def _run_trainer(trainers: _Trainers, command: str, size: int) -> Any:
    """A trainer's commands: ``mlp`` (seconds per step, first loss), ``train`` (per trainer:
    seconds, first loss, final weight and bias), ``compile`` (seconds to record the MLP)."""
    if command == "mlp":
        trainer = trainers.trainers.get("jax") or next(iter(trainers.trainers.values()))
        step = trainer.mlp_step()
        gc.collect()
        return _time_steps(step, size)
    if command == "train":
        answers = {}
        for name, trainer in trainers.trainers.items():
            gc.collect()
            start = time.perf_counter()
            first, weight, bias = trainer.celsius_training(size)
            answers[name] = (time.perf_counter() - start, first, weight, bias)
        return answers
    if command == "compile":
        trainer = next(iter(trainers.trainers.values()))
        assert trainer.compile_mlp is not None
        return trainer.compile_mlp()
    raise ValueError(f"bench worker: unknown command {command!r}")


def _run(engine: Any, command: str, size: int) -> Any:
    """Run one command in a worker and return its answer, leaving nothing alive behind."""
    if isinstance(engine, _Trainers):
        return _run_trainer(engine, command, size)
    if command == "train":
        problem = workloads.celsius_problem(engine)
        gc.collect()
        start = time.perf_counter()
        first = problem.step()
        for _ in range(size - 1):
            problem.step()
        seconds = time.perf_counter() - start
        weight, bias = engine.data(problem.weight), engine.data(problem.bias)
        return {engine.name: (seconds, first, weight, bias)}
    if command in ("mlp", "celsius"):
        problem: Any = (
            workloads.mlp_problem(engine) if command == "mlp" else workloads.celsius_problem(engine)
        )
        gc.collect()  # start each round from the same clean heap
        return _time_steps(problem.step, size)
    if command == "chain":
        x, y = workloads.chain(engine, size)
        gc.collect()
        start = time.perf_counter()
        workloads.backward_on_chain(engine, y, size)
        seconds = time.perf_counter() - start
        return seconds, engine.grad(x)
    if command == "memory":
        return workloads.memory_per_node(engine, size)
    if command == "nodes":
        return workloads.count_nodes(workloads.mlp_problem(engine).loss())
    raise ValueError(f"bench worker: unknown command {command!r}")


class Worker:
    """A process that holds one engine and runs workloads on request."""

    def __init__(self, engine_name: str) -> None:
        context = multiprocessing.get_context("spawn")
        self.name = engine_name
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(engine_name, child), daemon=True)
        self.process.start()
        child.close()
        status, detail = self.connection.recv()
        self.available = status == "ready"
        self.detail = detail  # the version, or why the engine is unavailable

    def ask(self, command: str, size: int = 0) -> Any:
        self.connection.send((command, size))
        return self.connection.recv()

    def stop(self) -> None:
        if self.available:
            self.connection.send(("stop", 0))
        self.process.join(timeout=30)


# ----------------------------------------------------------------------------------------------
# The plan: how many rounds, and how many steps per round for each engine.


@dataclass(frozen=True)
class Plan:
    mlp_rounds: int
    mlp_steps: dict[str, int]
    celsius_rounds: int
    celsius_steps: dict[str, int]
    chain_rounds: dict[int, int]
    chain_sizes: dict[str, tuple[int, ...]]
    memory_nodes: int
    train_rounds: int
    train_steps: dict[str, int]  # fewer than CELSIUS_STEPS: timed and scaled up to it
    compile_rounds: int


FULL = Plan(
    mlp_rounds=7,
    # micrograd and PyTorch take about a second per MLP step: fewer steps per round for them.
    mlp_steps={
        "autodiff": 10,
        "micrograd": 3,
        "pytorch": 3,
        "tape-numpy": 30,
        "tape-python": 5,
        "pytorch-vectors": 100,
        "jax": 100,
        "numpy": 100,
    },
    # Many short rounds (about 10 ms of autodiff, 30 of PyTorch, 40 of micrograd) rather than
    # few long ones: the engines take turns often, so a slow spell of the machine (they come
    # and go within seconds here) falls on all of them alike. 21 rounds of 200/100/50 steps
    # gave 9.7x to 12.7x against PyTorch over four runs; 61 of 50/25/12 gave 11.8x to 12.4x.
    celsius_rounds=61,
    celsius_steps={"autodiff": 50, "micrograd": 25, "pytorch": 12},
    chain_rounds={10**4: 11, 10**5: 7, 10**6: 5},
    # PyTorch takes about 5 µs a scalar node each way: 10^6 would add about a minute to the run.
    chain_sizes={"autodiff": CHAIN_SIZES, "micrograd": CHAIN_SIZES, "pytorch": (10**4, 10**5)},
    memory_nodes=10**5,
    train_rounds=5,
    # micrograd and PyTorch scalars take 15 to 25 s for the whole training: a tenth of it, x10.
    train_steps={"micrograd": 1_000, "pytorch": 1_000},
    compile_rounds=3,
)

QUICK = Plan(
    mlp_rounds=2,
    mlp_steps={
        "autodiff": 2,
        "micrograd": 1,
        "pytorch": 1,
        "tape-numpy": 2,
        "tape-python": 1,
        "pytorch-vectors": 2,
        "jax": 2,
        "numpy": 2,
    },
    celsius_rounds=3,
    celsius_steps={"autodiff": 20, "micrograd": 10, "pytorch": 5},
    chain_rounds={10**4: 3, 10**5: 3, 10**6: 2},
    chain_sizes={"autodiff": CHAIN_SIZES, "micrograd": (10**4,), "pytorch": (10**4,)},
    memory_nodes=10**4,
    train_rounds=1,
    train_steps={
        "autodiff": 100,
        "micrograd": 100,
        "pytorch": 100,
        "tape-numpy": 100,
        "tape-python": 100,
        "pytorch-vectors": 100,
        "jax": 100,
        "numpy": 100,
    },
    compile_rounds=1,
)


@dataclass
class Results:
    versions: dict[str, str] = field(default_factory=dict)
    unavailable: dict[str, str] = field(default_factory=dict)
    mlp: dict[str, list[float]] = field(default_factory=dict)
    mlp_loss: dict[str, float] = field(default_factory=dict)
    mlp_nodes: int = 0
    celsius: dict[str, list[float]] = field(default_factory=dict)
    celsius_loss: dict[str, float] = field(default_factory=dict)
    chain: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    chain_grad: dict[tuple[str, int], float] = field(default_factory=dict)
    memory: dict[str, workloads.Memory] = field(default_factory=dict)
    train: dict[str, list[float]] = field(default_factory=dict)  # scaled to CELSIUS_STEPS
    train_result: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    train_steps: dict[str, int] = field(default_factory=dict)
    compile: dict[str, list[float]] = field(default_factory=dict)


def _rotate(items: Sequence[Worker], by: int) -> list[Worker]:
    """The engines in the order they run in round ``by``: each takes a turn at going first."""
    shift = by % len(items)
    return [*items[shift:], *items[:shift]]


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


WORKLOADS = ("mlp", "celsius", "train", "compile", "chain", "memory")


def measure(plan: Plan, workers: Sequence[Worker], chosen: Sequence[str] = WORKLOADS) -> Results:
    results = Results()
    for worker in workers:
        if not worker.available:
            results.unavailable[worker.name] = worker.detail
    running = [worker for worker in workers if worker.available]
    for worker in running:
        results.versions[worker.name] = worker.detail

    _progress(f"MLP step: {plan.mlp_rounds} rounds")
    for round_index in range(plan.mlp_rounds if "mlp" in chosen else 0):
        for worker in _rotate(running, round_index):
            seconds, loss = worker.ask("mlp", plan.mlp_steps[worker.name])
            results.mlp.setdefault(worker.name, []).append(seconds)
            results.mlp_loss[worker.name] = loss
    if results.mlp:
        results.mlp_nodes = running[0].ask("nodes")  # running[0] is autodiff

    full = workloads.CELSIUS_STEPS
    _progress(f"tutorial 002 training, {full:,} steps: {plan.train_rounds} rounds")
    for round_index in range(plan.train_rounds if "train" in chosen else 0):
        for worker in _rotate(running, round_index):
            steps = plan.train_steps.get(worker.name, full)
            for name, (seconds, first, weight, bias) in worker.ask("train", steps).items():
                results.train.setdefault(name, []).append(seconds * full / steps)
                results.train_result[name] = (first, weight, bias)
                results.train_steps[name] = steps

    _progress(f"record and compile the MLP graph: {plan.compile_rounds} rounds")
    for round_index in range(plan.compile_rounds if "compile" in chosen else 0):
        for worker in _rotate(running, round_index):
            if worker.name.startswith("tape-"):
                results.compile.setdefault(worker.name, []).append(worker.ask("compile"))

    scalar = [worker for worker in running if worker.name in ENGINES]
    _progress(f"tutorial 002 step: {plan.celsius_rounds} rounds")
    for round_index in range(plan.celsius_rounds if "celsius" in chosen else 0):
        for worker in _rotate(scalar, round_index):
            seconds, loss = worker.ask("celsius", plan.celsius_steps[worker.name])
            results.celsius.setdefault(worker.name, []).append(seconds)
            results.celsius_loss[worker.name] = loss

    for size, rounds in plan.chain_rounds.items() if "chain" in chosen else ():
        _progress(f"chain backward at {size:,} nodes: {rounds} rounds")
        for round_index in range(rounds):
            for worker in _rotate(scalar, round_index):
                if size not in plan.chain_sizes[worker.name]:
                    continue
                seconds, grad = worker.ask("chain", size)
                results.chain.setdefault((worker.name, size), []).append(seconds)
                results.chain_grad[(worker.name, size)] = grad

    _progress(f"memory per node: a chain of {plan.memory_nodes:,} nodes")
    for worker in scalar if "memory" in chosen else ():
        if worker.name != "pytorch":  # tracemalloc cannot see PyTorch's C++ allocations
            results.memory[worker.name] = worker.ask("memory", plan.memory_nodes)
    return results


# ----------------------------------------------------------------------------------------------
# Reporting.


def _seconds(value: float) -> str:
    if value >= 1.0:
        return f"{value:.2f} s"
    if value >= 1e-3:
        return f"{value * 1e3:.1f} ms"
    return f"{value * 1e6:.0f} µs"


@dataclass(frozen=True)
class Target:
    text: str
    figure: float
    limit: float
    at_least: bool  # True: figure >= limit is met; False: figure <= limit is met

    @property
    def met(self) -> bool | None:
        if self.figure != self.figure:  # NaN: the baseline did not run
            return None
        return self.figure >= self.limit if self.at_least else self.figure <= self.limit


def _median(values: list[float] | None) -> float:
    return statistics.median(values) if values else float("nan")


@dataclass
class Report:
    rows: list[list[str]]  # the eager engines' table, header first
    training: list[list[str]]  # the tape's table, header first (only a header if not run)
    targets: list[Target]
    notes: list[str]
    compile_line: str


def build_report(results: Results) -> Report:
    """The tables (first row the header), the targets and notes for both outputs."""
    baselines = [name for name in ENGINES[1:] if name in results.versions]
    engines = [n for n in ENGINES if n in results.versions]
    header = ["workload", *engines]
    header += [f"autodiff vs {name}" for name in baselines]
    rows = [header]

    def speed_row(label: str, medians: dict[str, float]) -> None:
        if "autodiff" not in medians:
            return  # the workload was not chosen
        row = [label]
        for name in engines:
            value = medians.get(name, float("nan"))
            row.append(_seconds(value) if value == value else "not run")
        for name in baselines:
            ratio = medians.get(name, float("nan")) / medians["autodiff"]
            row.append(f"{ratio:.1f}x faster" if ratio == ratio else "–")
        rows.append(row)

    mlp = {name: _median(times) for name, times in results.mlp.items()}
    celsius = {name: _median(times) for name, times in results.celsius.items()}
    speed_row(f"MLP 2-16-16-1 training step ({results.mlp_nodes:,} nodes)", mlp)
    speed_row("tutorial 002 training step (100 samples)", celsius)
    chain: dict[int, dict[str, float]] = {}
    for (name, size), times in results.chain.items():
        chain.setdefault(size, {})[name] = _median(times)
    for size in sorted(chain):
        speed_row(f"chain backward, {size:,} nodes", chain[size])

    for label, attribute in (("built", "built"), ("after backward", "after_backward")):
        if "autodiff" not in results.memory:
            break
        row = [f"memory per node, {label} (bytes)"]
        for name in engines:
            memory = results.memory.get(name)
            row.append(f"{getattr(memory, attribute):.0f}" if memory else "not measured")
        for name in baselines:
            memory = results.memory.get(name)
            if memory and "autodiff" in results.memory:
                ours = getattr(results.memory["autodiff"], attribute)
                row.append(f"{ours / getattr(memory, attribute):.2f}x the bytes")
            else:
                row.append("–")
        rows.append(row)

    nan = float("nan")
    ad_mlp, ad_celsius = mlp.get("autodiff", nan), celsius.get("autodiff", nan)
    memory_ratio = nan
    if "micrograd" in results.memory and "autodiff" in results.memory:
        memory_ratio = (
            results.memory["autodiff"].after_backward / results.memory["micrograd"].after_backward
        )
    growth = chain.get(10**6, {}).get("autodiff", nan) / chain.get(10**5, {}).get("autodiff", nan)
    targets = [
        Target(
            "eager MLP step >= 8x faster than micrograd",
            mlp.get("micrograd", nan) / ad_mlp,
            8,
            True,
        ),
        Target(
            "eager tutorial 002 step >= 5x faster than micrograd",
            celsius.get("micrograd", nan) / ad_celsius,
            5,
            True,
        ),
        Target(
            "memory per node <= 1/5 of micrograd's (after backward, the larger)",
            memory_ratio,
            0.2,
            False,
        ),
        Target("chain backward at 10^6 nodes <= 11x the time at 10^5", growth, 11, False),
    ]

    train = {name: _median(times) for name, times in results.train.items()}
    compiled = {name: _median(times) for name, times in results.compile.items()}
    tape_train, tape_mlp = train.get("tape-numpy", nan), mlp.get("tape-numpy", nan)
    targets += [
        Target(
            "tutorial 002 training: tape >= 15x faster than eager",
            train.get("autodiff", nan) / tape_train,
            15,
            True,
        ),
        Target(
            "tutorial 002 training: tape >= 100x faster than micrograd",
            train.get("micrograd", nan) / tape_train,
            100,
            True,
        ),
        Target(
            "tutorial 002 training: tape >= 5x faster than PyTorch with the data as tensors",
            train.get("pytorch-vectors", nan) / tape_train,
            5,
            True,
        ),
        Target(
            "tutorial 002 training: tape faster than JAX jit, compile included",
            train.get("jax+compile", nan) / tape_train,
            1,
            True,
        ),
        Target(
            "tutorial 002 training: tape within 1.5x of numpy by hand (tape / numpy)",
            tape_train / train.get("numpy", nan),
            1.5,
            False,
        ),
        Target("MLP step: tape >= 30x faster than eager", ad_mlp / tape_mlp, 30, True),
        Target(
            "MLP step: tape >= 300x faster than micrograd",
            mlp.get("micrograd", nan) / tape_mlp,
            300,
            True,
        ),
        Target(
            f"record + compile the {results.mlp_nodes:,}-node MLP graph < 1 s (tape, auto)",
            compiled.get("tape-numpy", nan),
            1.0,
            False,
        ),
    ]

    training = [
        ["engine", "tutorial 002 training (10,000 steps)", "tape is", "MLP step", "tape is"]
    ]
    for name, label in TRAINING_ROWS:
        if name not in train and name not in mlp:
            continue
        cells = [label]
        for medians, reference in ((train, tape_train), (mlp, tape_mlp)):
            value = medians.get(name, nan)
            scaled = (
                name in results.train_steps and results.train_steps[name] < workloads.CELSIUS_STEPS
            )
            if value != value:
                cells += ["not run", "–"]
                continue
            note = (
                f" (x{workloads.CELSIUS_STEPS // results.train_steps[name]})"
                if (medians is train and scaled)
                else ""
            )
            cells.append(_seconds(value) + note)
            ratio = value / reference
            cells.append(
                "–"
                if name == "tape-numpy"
                else f"{ratio:.1f}x faster"
                if ratio >= 1
                else f"{1 / ratio:.1f}x slower"
            )
        training.append(cells)
    compile_line = ", ".join(
        f"{name} {_seconds(seconds)}" for name, seconds in sorted(compiled.items())
    )

    notes = _notes(results)
    return Report(rows, training, targets, notes, compile_line)


def _notes(results: Results) -> list[str]:
    notes = []
    for name, why in results.unavailable.items():
        notes.append(f"{name} is not installed here ({why}): its columns are left out.")
    first_losses = {name: first for name, (first, _, _) in results.train_result.items()}
    if first_losses:
        reference_loss = next(iter(first_losses.values()))
        same = all(
            abs(v - reference_loss) <= 1e-9 * abs(reference_loss) for v in first_losses.values()
        )
        full = [
            (name, weight, bias)
            for name, (_, weight, bias) in results.train_result.items()
            if results.train_steps.get(name) == workloads.CELSIUS_STEPS
        ]
        final_same = all(
            abs(w - full[0][1]) <= 1e-9 * abs(full[0][1])
            and abs(b - full[0][2]) <= 1e-9 * abs(full[0][2])
            for _, w, b in full
        )
        text = f"Tutorial 002 training: first losses {'agree' if same else 'DISAGREE'} on every "
        text += f"engine ({reference_loss:.12f})"
        if full:
            text += (
                f"; the final weight and bias of the full runs "
                f"{'agree' if final_same else 'DISAGREE'} to 1e-9 "
                f"({full[0][1]:.9f}, {full[0][2]:.6f} after {workloads.CELSIUS_STEPS:,} steps)"
            )
        notes.append(text + ".")
    reference = results.mlp_loss.get("autodiff")
    if reference is not None:
        same = all(
            abs(loss - reference) <= 1e-9 * abs(reference) for loss in results.mlp_loss.values()
        )
        agree = "agree" if same else "DISAGREE"
        notes.append(
            f"Same model code on every engine: first-step MLP losses {agree} "
            f"({', '.join(f'{n} {v:.12f}' for n, v in results.mlp_loss.items())})."
        )
    wrong = [
        f"{name} at {size:,}"
        for (name, size), grad in results.chain_grad.items()
        if abs(grad - workloads.chain_gradient(size)[1]) > 1e-9 * abs(grad)
    ]
    if results.chain_grad:
        checked = "DISAGREE: " + ", ".join(wrong) if wrong else "agree"
        notes.append(f"Chain gradients dy/dx {checked} with the hand-written recurrence.")
    return notes


def _verdict(target: Target) -> str:
    met = target.met
    return "not run" if met is None else "met" if met else "NOT MET"


def _figure(target: Target) -> str:
    if target.figure != target.figure:
        return "–"
    return f"{target.figure:.2f}" if not target.at_least else f"{target.figure:.1f}x"


def _table_text(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            cell.ljust(widths[0]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row)
        ]
        lines.append("  ".join(cells))
        if index == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def format_text(report: Report) -> str:
    lines = _table_text(report.rows)
    if len(report.training) > 1:
        lines += ["", *_table_text(report.training)]
    if report.compile_line:
        lines += ["", f"Record and compile the MLP graph: {report.compile_line}"]
    lines.append("")
    lines.append("Targets:")
    for target in report.targets:
        lines.append(f"  [{_verdict(target):>7}]  {target.text}: {_figure(target)}")
    met = [t.met for t in report.targets]
    lines.append("")
    if all(m is True for m in met):
        lines.append("All targets met.")
    else:
        missed = sum(1 for m in met if m is not True)
        lines.append(f"{missed} of {len(met)} targets NOT MET or not run: see above.")
    lines.extend(f"Note: {note}" for note in report.notes)
    return "\n".join(lines)


def machine_info() -> list[str]:
    return [
        f"Python {platform.python_version()} ({platform.python_implementation()})",
        f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs",
        f"processor: {platform.processor() or 'unknown'}",
    ]


def format_markdown(report: Report, results: Results, plan: Plan, elapsed: float) -> str:
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    rows, targets, notes, training = report.rows, report.targets, report.notes, report.training
    tape_section = (
        [
            "## The tape",
            "",
            "The same two trainings, recorded once and replayed by `autodiff.Tape`"
            " ([The tape](tape.md)), beside the scalar engines and the same models written with"
            " arrays: PyTorch with the data as tensors, JAX `jit`, and the gradient written by"
            " hand in numpy (the floor for this kind of work).",
            "",
            "<!-- --8<-- [start:tape] -->",
            line(training[0]),
            line(["---"] + ["---:"] * (len(training[0]) - 1)),
            *[line(row) for row in training[1:]],
            "",
            f"Recording and compiling the MLP graph ({results.mlp_nodes:,} nodes): "
            f"{report.compile_line}.",
            "<!-- --8<-- [end:tape] -->",
            "",
        ]
        if len(training) > 1
        else []
    )

    versions = ", ".join(f"{name} {version}" for name, version in results.versions.items())
    out = [
        "# Performance",
        "",
        "How fast autodiff is against [micrograd](https://github.com/karpathy/micrograd) 0.1.0",
        "and PyTorch scalar tensors, measured side by side in one run of `make bench`. Every",
        "engine runs the same model code (`bench/workloads.py`); only how it makes a parameter,",
        "reads a gradient and updates differs.",
        "",
        "## Results",
        "",
        line(rows[0]),
        line(["---"] + ["---:"] * (len(rows[0]) - 1)),
        *[line(row) for row in rows[1:]],
        "",
        *tape_section,
        "## Targets",
        "",
        "| target | measured | verdict |",
        "| --- | ---: | --- |",
        *[f"| {t.text} | {_figure(t)} | {_verdict(t)} |" for t in targets],
        "",
    ]
    if notes:
        out += [*[f"- {note}" for note in notes], ""]
    out += [
        "## How it is measured",
        "",
        "- **MLP**: micrograd's demo: an MLP 2-16-16-1 with ReLU on 100 two-moons points, "
        "max-margin loss `relu(1 - y * score)` averaged, plus `1e-4 * sum(p * p)`; one step is "
        "forward, zero gradients, backward and update. Steps per round: "
        + ", ".join(f"{n} {s}" for n, s in plan.mlp_steps.items())
        + f"; {plan.mlp_rounds} rounds (fewer steps for the slow engines to keep the run short).",
        "- **Tutorial 002**: one neuron `F = w * C + b` on Celsius -50..49, mean squared error, "
        "backward, update. Steps per round: "
        + ", ".join(f"{n} {s}" for n, s in plan.celsius_steps.items())
        + f"; {plan.celsius_rounds} rounds.",
        "- **Tutorial 002 training**: the same model trained 10,000 steps from the same start,"
        " everything included (building the graph, recording and compiling the tape, JAX's"
        " compilation where said); micrograd and PyTorch scalars run "
        + ", ".join(
            f"{n} {s:,}" for n, s in plan.train_steps.items() if s < workloads.CELSIUS_STEPS
        )
        + " steps, scaled to 10,000 (marked x10). The gradient by hand in numpy is the textbook"
        " one: `e = w * c + b - f`, loss `(e * e).sum() / n`, `dw = 2 (e * c).sum() / n`,"
        " `db = 2 e.sum() / n`. PyTorch runs on one thread (`torch.set_num_threads(1)`);"
        f" {plan.train_rounds} rounds.",
        "- **The tape's MLP step**: the graph of the MLP workload recorded once, then each step"
        " replays it (forward, zero gradients, backward, update). The array versions run the"
        " same MLP on the 100 points at once, from the same weights (first losses agree).",
        "- **Chain**: `y = y + x`, `y = y * x`, ... for N operations on one leaf; the time of "
        "`backward()` alone (the topological walk and the chain rule), the graph built "
        "beforehand. micrograd's backward is recursive: the bench raises its recursion limit. "
        "PyTorch is not run at 10^6 nodes, which would add about a minute to the run.",
        "- **Memory**: tracemalloc's traced bytes for the same chain of "
        f"{plan.memory_nodes:,} operations, divided by the number of operations: once built, "
        "once more after backward (gradients stored). PyTorch's tensors live in C++ memory "
        "that tracemalloc cannot see, so it has no memory figure.",
        "- The garbage collector is on, as users run it; a step's time is the mean over "
        "consecutive steps, so collections caused by earlier graphs are paid. Each engine runs "
        "in its own process; rounds alternate engines and rotate which goes first; every "
        "figure is the median over rounds. Ratios are baseline time / autodiff time.",
        "- Only one engine works at a time: each worker frees what it made and collects "
        "garbage before it reports, so no engine's clean-up (micrograd's graphs are cyclic "
        "and need the collector) runs on the other CPU while another engine is timed.",
        "- Medians still move by a few per cent between runs on a shared virtual machine: "
        "run it twice before reading much into a single ratio.",
        "",
        "## Reproduce",
        "",
        "```sh",
        "make bench",
        "```",
        "",
        "This makes its own environment, `.venv-bench`, with the project, micrograd 0.1.0,",
        "PyTorch 2.13.0 (CPU) and JAX when they can be installed; none of them is a dependency",
        f"of the package. The whole run took {elapsed / 60:.1f} minutes on:",
        "",
        *[f"- {info}" for info in machine_info()],
        f"- engines: {versions}",
        "",
    ]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/run.py", description="Benchmark autodiff against micrograd and PyTorch."
    )
    parser.add_argument("--quick", action="store_true", help="few rounds, small sizes (a check)")
    parser.add_argument(
        "--markdown",
        type=Path,
        default=ROOT / "docs" / "performance.md",
        help="where to write the markdown table (default: docs/performance.md)",
    )
    parser.add_argument("--no-markdown", action="store_true", help="print only")
    parser.add_argument(
        "--workloads",
        default=",".join(WORKLOADS),
        help=f"comma-separated subset of {','.join(WORKLOADS)} (default: all)",
    )
    args = parser.parse_args(argv)
    chosen = args.workloads.split(",")
    unknown = sorted(set(chosen) - set(WORKLOADS))
    if unknown:
        parser.error(f"unknown workload(s): {', '.join(unknown)}")
    plan = QUICK if args.quick else FULL

    started = time.perf_counter()
    workers = [Worker(name) for name in (*ENGINES, *TRAINERS)]
    if not workers[0].available:
        print(f"bench: autodiff cannot be imported: {workers[0].detail}", file=sys.stderr)
        return 1
    try:
        results = measure(plan, workers, chosen)
    finally:
        for worker in workers:
            worker.stop()
    elapsed = time.perf_counter() - started

    report = build_report(results)
    print()
    print(f"autodiff benchmark ({'quick' if args.quick else 'full'} run, {elapsed:.0f} s)")
    print("; ".join(machine_info()))
    print("engines: " + ", ".join(f"{n} {v}" for n, v in results.versions.items()))
    print()
    print(format_text(report))
    if not args.no_markdown:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(format_markdown(report, results, plan, elapsed), encoding="utf-8")
        print(f"\nWrote {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
