"""Draw every picture in the documentation from the real engine and the tutorial networks.

Run ``make docs-images`` (or ``python docs/make_images.py``) after changing anything a picture
shows, and commit the files it writes to ``docs/images/`` (and the tutorials' explorer pages it
writes to ``docs/explorer/``): the site is built from the committed files, so ``make docs``
needs neither Graphviz nor a training run.

Every picture is deterministic: fixed inputs and seeds, graphs through ``autodiff.viz.render``
(whose node ids come from the topological order, never ``id()``), and matplotlib figures saved
with their date and software metadata removed. Running the script twice gives byte-identical
files; ``--out DIR`` writes elsewhere so two runs can be compared.

This script owns the pictures only. The pages that show them, and the numbers quoted beside
them, are in the Markdown files next to it; ``tests/test_docs.py`` checks that every picture a
page names exists and that every picture here is used.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from autodiff import Value
from autodiff.viz import backward_steps, explore, render
from autodiff.viz.rendering import run_dot

IMAGES = Path(__file__).resolve().parent / "images"
EXPLORER = Path(__file__).resolve().parent / "explorer"

# Each generator takes the output folder and returns the paths it wrote. Its kind is "graphs"
# (Graphviz drawings: fast, and compared with the committed files by tests/test_docs.py when
# the same Graphviz version is installed), "plots" (matplotlib: they train the networks) or
# "pages" (explorer pages, which the tutorials embed; written to their own folder).
Generator = Callable[[Path], list[Path]]
GENERATORS: list[tuple[str, Generator]] = []
KINDS = ("graphs", "plots", "pages")


def generator(kind: str) -> Callable[[Generator], Generator]:
    """Register a picture generator of ``kind``, to run in definition order."""
    assert kind in KINDS

    def register(function: Generator) -> Generator:
        GENERATORS.append((kind, function))
        return function

    return register


# ----------------------------------------------------------------------------------------------
# Concepts


@generator("graphs")
def concept_pictures(out: Path) -> list[Path]:
    # concepts/graph.md: y = tanh(w * x), drawn after backward with local derivatives on edges.
    x = Value(2.0, label="x")
    w = Value(-1.5, label="w")
    s = w * x
    s.label = "s"
    y = s.tanh()
    y.label = "y"
    y.backward()
    written = [render(y, out / "concept-graph.svg", edge_derivatives=True)]

    # concepts/topological-order.md: b = 3x is used by c = b*b and directly by d = e + b.
    x = Value(1.0, label="x")
    b = 3 * x
    b.label = "b"
    c = b * b
    c.label = "c"
    e = c * 2
    e.label = "e"
    d = e + b
    d.label = "d"
    d.backward()
    written.append(render(d, out / "concept-reuse.svg", edge_derivatives=True, highlight=b))
    return written


# ----------------------------------------------------------------------------------------------
# Visualising graphs: one neuron, o = tanh(x1*w1 + x2*w2 + b), drawn with each option.


def neuron() -> tuple[Value, dict[str, Value]]:
    """The example graph of visualising.md, after backward (the page builds the same one)."""
    x1 = Value(1.5, label="x1")
    x2 = Value(-0.5, label="x2")
    w1 = Value(0.8, label="w1")
    w2 = Value(-1.2, label="w2")
    b = Value(0.1, label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "n": n}


@generator("graphs")
def draw_options(out: Path) -> list[Path]:
    o, nodes = neuron()
    written = [
        render(o, out / "draw-default.svg"),
        render(o, out / "draw-rankdir-tb.svg", rankdir="TB"),
        render(o, out / "draw-show-grad-false.svg", show_grad=False),
        render(o, out / "draw-number-format.svg", number_format=".2g"),
        render(o, out / "draw-edge-derivatives.svg", edge_derivatives=True),
        render(o, out / "draw-highlight.svg", highlight=nodes["w1"]),
        render(o, out / "draw-legend.svg", legend=True),
        render(o, out / "draw-title.svg", title="o = tanh(x1*w1 + x2*w2 + b)"),
    ]

    # Numbers are written in the ovals, in their places; the legend says what the first does.
    x = Value(3.0, label="x")
    y = 0.5 * (x - 1) ** 2 + 2**x
    y.label = "y"
    y.backward()
    written.append(render(y, out / "draw-numbers.svg", legend=True))

    # A wide sum is folded into one node.
    xs = [Value(float(k), label=f"x{k}") for k in range(1, 11)]
    total = sum(x * x for x in xs)
    assert isinstance(total, Value)
    total.label = "total"
    total.backward()
    written.append(render(total, out / "draw-folded-sum.svg"))

    # focus=: one sample's squared error out of a 100-sample loss (the page builds the same).
    weight, bias = Value(0.8444, label="weight"), Value(0.7580, label="bias")
    errors = [(weight * c + bias - (c * 1.8 + 32)) ** 2 for c in range(-50, 50)]
    errors[0].label = "error(-50)"
    loss = sum(errors) / len(errors)
    assert isinstance(loss, Value)
    loss.label = "loss"
    loss.backward()
    written.append(render(loss, out / "draw-focus.svg", focus=errors[0]))
    return written


def backward_example() -> Value:
    """The small graph stepped through in visualising.md: f = (a*b + a)^2."""
    a = Value(2.0, label="a")
    b = Value(0.5, label="b")
    d = a * b
    d.label = "d"
    e = d + a
    e.label = "e"
    f = e**2
    f.label = "f"
    return f


@generator("graphs")
def backward_step_pictures(out: Path) -> list[Path]:
    written = []
    for k, step in enumerate(backward_steps(backward_example(), edge_derivatives=True), start=1):
        path = out / f"backward-step-{k}.svg"
        path.write_bytes(run_dot(step.source, "svg", where="make_images"))
        written.append(path)
    return written


# ----------------------------------------------------------------------------------------------
# Tutorials: each network's graph after one backward pass, and its training plots.


def tutorial_roots() -> dict[str, Value]:
    """Each tutorial network's loss after one backward pass, as its tutorial page builds it."""
    from nets import celsius, neuron

    # 000: the loss at the seed-0 starting weight, as tutorials/neuron.md builds it.
    roots = {"neuron": neuron.graph(neuron.model(seed=neuron.DEFAULT_SEED).parameter_values())}

    # 001: the same expression and labels as tutorials/hidden.md.
    x, t = 1.0, 0.0
    w1, b1 = Value(0.5, label="W1"), Value(0.0, label="b1")
    w2, b2 = Value(-1.0, label="W2"), Value(0.0, label="b2")
    z = w1 * x + b1
    z.label = "z"
    a = z.sigmoid()
    a.label = "a"
    y = w2 * a + b2
    y.label = "y"
    loss = 0.5 * (y - t) ** 2
    loss.label = "L"
    loss.backward()
    roots["hidden"] = loss

    # 002: three of the hundred samples at the seed-0 starting parameters.
    roots["celsius"] = celsius.graph(celsius.model(seed=celsius.DEFAULT_SEED).parameter_values())
    return roots


@generator("graphs")
def tutorial_graphs(out: Path) -> list[Path]:
    roots = tutorial_roots()
    return [
        render(roots["neuron"], out / "neuron-graph.svg", edge_derivatives=True),
        render(roots["hidden"], out / "hidden-graph.svg", edge_derivatives=True),
        render(roots["celsius"], out / "celsius-graph.svg"),
    ]


@generator("pages")
def tutorial_explorers(out: Path) -> list[Path]:
    # docs/explorer/<net>.html, embedded by each tutorial page, and 001 as an exercise.
    titles = {
        "neuron": "Tutorial 000: a single neuron",
        "hidden": "Tutorial 001: a hidden unit",
        "celsius": "Tutorial 002: Celsius to Fahrenheit, three samples",
    }
    roots = tutorial_roots()
    for net, title in titles.items():
        explore(roots[net], out / f"{net}.html", title=title)
    explore(
        roots["hidden"], out / "hidden-exercise.html", quiz=True, title="Exercise: tutorial 001"
    )
    return [out / f"{net}.html" for net in titles] + [out / "hidden-exercise.html"]


def strip_png_text(path: Path) -> None:
    """Drop a PNG's text chunks (matplotlib writes its version there) so bytes depend on pixels.

    A PNG is an 8-byte signature and then chunks: a 4-byte big-endian length, a 4-byte type,
    the data and a 4-byte CRC of type and data. Removing whole chunks keeps every CRC valid.
    """
    data = path.read_bytes()
    signature, position = data[:8], 8
    kept = [signature]
    while position < len(data):
        length = int.from_bytes(data[position : position + 4], "big")
        end = position + 12 + length
        if data[position + 4 : position + 8] not in (b"tEXt", b"iTXt", b"zTXt"):
            kept.append(data[position:end])
        position = end
    path.write_bytes(b"".join(kept))


@generator("plots")
def training_plots(out: Path) -> list[Path]:
    import tempfile

    from nets import celsius, hidden, neuron, plots

    # The same runs as the pages quote (and as `python -m nets all --out` draws).
    neuron_runs = [neuron.train(steps=10_000, lr=lr, seed=0) for lr in (0.01, 0.5)]
    hidden_run = hidden.train(steps=1000, lr=0.01)
    celsius_run = celsius.train(steps=10_000, lr=0.001, seed=0)
    renames = {
        "neuron_prediction.png": "neuron-prediction.png",
        "neuron_error.png": "neuron-error.png",
        "hidden_loss.png": "hidden-loss.png",
        "celsius_fit.png": "celsius-fit.png",
        "celsius_loss.png": "celsius-loss.png",
    }
    written = []
    with tempfile.TemporaryDirectory() as folder:
        scratch = Path(folder)
        drawn = [
            *plots.neuron_figures(neuron_runs, scratch),
            plots.hidden_figure(hidden_run, scratch),
            *plots.celsius_figures(celsius_run, scratch),
        ]
        for path in drawn:
            strip_png_text(path)
            target = out / renames[path.name]
            target.write_bytes(path.read_bytes())
            written.append(target)
    return written


# ----------------------------------------------------------------------------------------------


def run(out: Path, kinds: tuple[str, ...] = KINDS, pages: Path | None = None) -> Iterator[Path]:
    """Run every generator of the given kinds, writing into ``out``; yield each path written.

    Explorer pages go to ``pages`` (default: the folder ``explorer`` inside ``out``).
    """
    for kind, make in GENERATORS:
        if kind in kinds:
            folder = (pages or out / "explorer") if kind == "pages" else out
            folder.mkdir(parents=True, exist_ok=True)
            yield from make(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=IMAGES, help="folder to write into (default: docs/images)"
    )
    parser.add_argument(
        "--only",
        choices=KINDS,
        help="draw only the Graphviz graphs, the matplotlib plots or the explorer pages",
    )
    args = parser.parse_args(argv)
    # Explorer pages go beside the pictures' folder: docs/explorer, or DIR/explorer for --out DIR.
    pages = EXPLORER if args.out == IMAGES else args.out / "explorer"
    paths = list(run(args.out, KINDS if args.only is None else (args.only,), pages))
    print(f"wrote {len(paths)} files to {args.out} and {pages}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
