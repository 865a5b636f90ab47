"""The command line: JSON output and its determinism, the table, errors, and --out pictures."""

from __future__ import annotations

import io
import json
import pathlib
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest

from nets import __main__ as cli

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m nets`` with ``args`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "nets", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_json_is_deterministic() -> None:
    """Two runs with the same seed print byte-identical JSON."""
    first = _run("neuron", "--json", "--seed", "3", "--steps", "300")
    second = _run("neuron", "--json", "--seed", "3", "--steps", "300")
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout


def test_json_neuron_fields() -> None:
    """The neuron's JSON has its settings, losses and the weight labelled w, and trains to 0.3."""
    result = _run("neuron", "--json")
    document = json.loads(result.stdout)
    assert document["net"] == "neuron"
    assert (document["steps"], document["lr"], document["seed"]) == (10_000, 0.5, 0)
    assert list(document["params"]) == ["w"]
    assert document["final_loss"] < document["initial_loss"]
    assert document["outputs"]["predicted"] == pytest.approx(0.3, abs=0.002)
    assert document["details"]["inputs"] == 1


def test_json_all_is_one_object() -> None:
    """`all --json` prints exactly one object holding the three nets with their labels."""
    result = _run("all", "--json", "--steps", "5")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # fails on two objects or extra text
    assert [net["net"] for net in document["nets"]] == ["neuron", "hidden", "celsius"]
    assert [list(net["params"]) for net in document["nets"]] == [
        ["w"],
        ["W1", "b1", "W2", "b2"],
        ["weight", "bias"],
    ]


def test_hidden_json_reproduces_tutorial() -> None:
    """The hidden network's default run gives the tutorial's updated W2 = -0.99612544."""
    document = json.loads(_run("hidden", "--json").stdout)
    assert document["steps"] == 1
    assert document["params"]["W2"] == pytest.approx(-0.99612544, abs=5e-9)
    assert "inputs" not in document["details"]


def test_human_table(capsys: pytest.CaptureFixture[str]) -> None:
    """The table names the net and shows initial and final loss and parameters."""
    assert cli.main(["hidden"]) == 0
    out = capsys.readouterr().out
    assert "tutorial 001" in out
    assert "initial" in out
    assert "final" in out
    assert "-0.99612544" in out  # W2 after the step
    assert "dL/dW1 = 0.14628025" in out


def test_no_progress_bar_without_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    """A long run writes nothing to stderr when stderr is not a terminal."""
    assert cli.main(["neuron"]) == 0
    assert capsys.readouterr().err == ""


def test_progress_bar_draws_percentages() -> None:
    """The progress bar redraws one line per percent and clears it at the end."""
    stream = io.StringIO()
    progress = cli._Progress(stream, "neuron", 200)
    for step in range(1, 201):
        progress(step, 0.5)
    progress.close()
    text = stream.getvalue()
    assert text.count("\r") == 102  # 0% (step 1 of 200) .. 100%: 101 redraws, then the clearing
    assert "100%" in text


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["perceptron"], "invalid choice: 'perceptron'"),
        (["neuron", "--lr", "-0.1"], "argument --lr: must be a finite number >= 0"),
        (["neuron", "--lr", "fast"], "argument --lr: must be a number"),
        (["neuron", "--steps", "-5"], "argument --steps: must be at least 1"),
        (["neuron", "--steps", "ten"], "argument --steps: must be a whole number"),
        (["hidden", "--inputs", "3"], "argument --inputs: only for neuron, not hidden"),
        ([], "the following arguments are required: net"),
    ],
)
def test_bad_arguments_exit_2(args: list[str], reason: str) -> None:
    """Bad arguments exit 2 with the usage and a one-line reason, no traceback."""
    result = _run(*args)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: nets")
    assert reason in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""


def test_unwritable_out_exits_2(tmp_path: pathlib.Path) -> None:
    """An --out that cannot be created (a file is in the way) exits 2 with the reason."""
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    result = _run("hidden", "--out", str(blocker / "pictures"))
    assert result.returncode == 2
    assert "argument --out: cannot write to" in result.stderr
    assert "Traceback" not in result.stderr


def test_diverging_run_fails_cleanly() -> None:
    """Training that overflows exits 1 with one line naming the problem."""
    result = _run("celsius", "--lr", "0.01", "--steps", "500")
    assert result.returncode == 1
    assert "loss became inf" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_matplotlib_is_explained(tmp_path: pathlib.Path) -> None:
    """Without matplotlib, --out fails (exit 1) saying how to install it."""
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "from nets.__main__ import main\n"
        f"sys.exit(main(['hidden', '--out', {str(tmp_path)!r}]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 1
    assert "pip install 'autodiff[plots]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_out_writes_real_svg_and_png(tmp_path: pathlib.Path) -> None:
    """--out writes each graph as parseable SVG and each plot as PNG, and says where they are."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "pictures"
    result = _run("all", "--steps", "20", "--out", str(out))
    if "dot" in result.stderr and result.returncode == 1:
        pytest.skip("Graphviz's dot is not installed")
    assert result.returncode == 0, result.stderr
    svgs = sorted(p.name for p in out.glob("*.svg"))
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert svgs == ["celsius_graph.svg", "hidden_graph.svg", "neuron_graph.svg"]
    assert pngs == [
        "celsius_fit.png",
        "celsius_loss.png",
        "hidden_loss.png",
        "neuron_error.png",
        "neuron_prediction.png",
    ]
    for name in svgs:
        root = ET.parse(out / name).getroot()
        assert root.tag.endswith("svg"), name
    for name in pngs:
        assert (out / name).read_bytes()[:8] == PNG_MAGIC, name
    last_line = result.stdout.strip().splitlines()[-1]
    assert str(out.resolve()) in last_line
    assert last_line.startswith("Pictures (8 files) are in")


def test_out_with_json_keeps_stdout_one_object(tmp_path: pathlib.Path) -> None:
    """With --json and --out, stdout is still exactly one JSON object; the note goes to stderr."""
    pytest.importorskip("matplotlib")
    result = _run("neuron", "--steps", "10", "--json", "--out", str(tmp_path))
    if "dot" in result.stderr and result.returncode == 1:
        pytest.skip("Graphviz's dot is not installed")
    assert json.loads(result.stdout)["net"] == "neuron"
    assert "Pictures" in result.stderr
