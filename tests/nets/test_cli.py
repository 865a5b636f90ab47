"""The command line: JSON output and its determinism, the table, errors, and --out pictures."""

from __future__ import annotations

import io
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from typing import Any

import pytest

from nets import __main__ as cli
from nets import registry

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``python -m nets`` with ``args`` and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "nets", *args],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
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
    """`all --json` prints exactly one object holding the four nets with their labels."""
    result = _run("all", "--json", "--steps", "5")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)  # fails on two objects or extra text
    assert [net["net"] for net in document["nets"]] == ["neuron", "hidden", "celsius", "moons"]
    assert [list(net["params"]) for net in document["nets"][:3]] == [
        ["w"],
        ["W1", "b1", "W2", "b2"],
        ["weight", "bias"],
    ]
    assert len(document["nets"][3]["params"]) == 337  # moons: 2-16-16-1


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


@pytest.mark.parametrize(
    ("args", "reason"),
    [
        (["perceptron"], "invalid choice: 'perceptron'"),
        (["neuron", "--lr", "-0.1"], "argument --lr: must be a finite number >= 0"),
        (["neuron", "--lr", "fast"], "argument --lr: must be a number"),
        (["neuron", "--steps", "-5"], "argument --steps: must be at least 1"),
        (["neuron", "--steps", "ten"], "argument --steps: must be a whole number"),
        (["hidden", "--inputs", "3"], "argument --inputs: only for neuron, not hidden"),
        (["neuron", "--inputs", "0"], "argument --inputs: must be at least 1, got 0"),
        (["hidden", "--out", ""], "argument --out: must name a folder, got an empty name"),
        (["hidden", "--history"], "argument --history: goes with --json"),
        ([], "the following arguments are required: net"),
        (
            ["moons", "--lr", "0.5"],
            "argument --lr: moons has no single learning rate: it trains with lr 1.0 - "
            "0.9·k/steps (micrograd's schedule); leave --lr out",
        ),
        (["neuron", "--match-micrograd"], "argument --match-micrograd: only for moons, not neuron"),
        (
            ["moons", "--match-micrograd", "--seed", "3"],
            "moons: match_micrograd uses micrograd's seed 1337, got seed 3",
        ),
        (
            ["moons", "--seed", "-1"],
            "nets: error: argument --seed: moons: the seed must be >= 0 (it seeds numpy's random "
            "generator, which takes no negative seed), got -1",
        ),
        (
            ["all", "--seed", "-1"],
            "nets: error: argument --seed: moons: the seed must be >= 0",
        ),
        (
            ["neuron", "--inputs", "50000000"],
            "nets: error: argument --inputs: must be at most 100000, got 50000000",
        ),
        (
            ["neuron", "--steps", "\u0663"],  # ARABIC-INDIC DIGIT THREE, which int() reads as 3
            "argument --steps: must be written with the digits 0-9 (no '_', no other scripts' "
            "digits), got '\u0663'",
        ),
        (
            ["neuron", "--seed", "1_000"],
            "argument --seed: must be written with the digits 0-9 (no '_', no other scripts' "
            "digits), got '1_000'",
        ),
        (["neuron", "--lr", "0_5"], "argument --lr: must be written with the digits 0-9"),
        (["neuron", "--inputs", "1_0"], "argument --inputs: must be written with the digits 0-9"),
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


def _notebook_line(step: int) -> str:
    """Step ``step`` of micrograd's notebook, as the table's notes print it (10 decimals)."""
    notebook = pathlib.Path(__file__).with_name("micrograd_demo_steps.txt")
    for line in notebook.read_text(encoding="utf-8").splitlines():
        if line.startswith(f"step {step} "):
            _, _, _, loss, _, accuracy = line.split()
            return f"step {step} loss {float(loss.rstrip(',')):.10f}, accuracy {accuracy}"
    raise AssertionError(f"no step {step} in {notebook}")


def test_moons_match_micrograd_prints_the_notebooks_losses() -> None:
    """`moons --match-micrograd` prints the notebook's first and last loss and accuracy lines."""
    result = _run("moons", "--match-micrograd")
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines()]
    assert _notebook_line(0) == "step 0 loss 0.8958441029, accuracy 50.0%"
    assert _notebook_line(0) in lines
    assert _notebook_line(99) in lines
    assert "100 steps of SGD with lr 1.0 - 0.9·k/steps (micrograd's schedule), seed 1337" in (
        result.stdout
    )
    assert re.search(r"^  loss +0\.89584410 ", result.stdout, re.M)  # the table's initial loss
    assert "These are the numbers micrograd's notebook prints" in result.stdout
    assert "(337 parameters, not listed: --json has them)" in result.stdout


def _without_times(table: str) -> str:
    """The table with each run's time and engine taken out: the only things --eager changes."""
    return re.sub(r"in \d+\.\d\d s \((tape|eager)\)", "in (time)", table)


def test_eager_prints_the_same_tables(capsys: pytest.CaptureFixture[str]) -> None:
    """`all --eager` builds every graph afresh and prints the tape's tables, number for number."""
    assert cli.main(["all", "--steps", "5"]) == 0
    replayed = capsys.readouterr().out
    assert cli.main(["all", "--steps", "5", "--eager"]) == 0
    eager = capsys.readouterr().out
    assert replayed.count("(tape)") == eager.count("(eager)") == 4
    assert _without_times(replayed) == _without_times(eager)


def test_all_with_lr_keeps_the_moons_schedule(capsys: pytest.CaptureFixture[str]) -> None:
    """`all --lr` sets the tutorials' learning rate; moons keeps its schedule, with a warning."""
    assert cli.main(["all", "--steps", "2", "--lr", "0.1"]) == 0
    captured = capsys.readouterr()
    assert "2 steps of SGD at lr 0.1, seed 0" in captured.out  # neuron, celsius
    assert "2 steps of SGD at lr 0.1, in" in captured.out  # hidden
    assert "2 steps of SGD with lr 1.0 - 0.9·k/steps (micrograd's schedule), seed 1337" in (
        captured.out
    )
    assert captured.err == (
        "nets: warning: --lr 0.1 is not for moons, which trains with lr 1.0 - 0.9·k/steps "
        "(micrograd's schedule)\n"
    )


def test_ctrl_c_during_moons_prints_the_steps_done(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C in moons' fourth step prints the table of the three steps measured, exit 130."""
    from nets import moons

    calls = []
    accuracy = moons.accuracy

    def interrupted_at_the_fourth(scores: Any, labels: Any) -> float:
        calls.append(1)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return accuracy(scores, labels)

    monkeypatch.setattr(moons, "accuracy", interrupted_at_the_fourth)
    assert cli.main(["moons"]) == 130
    captured = capsys.readouterr()
    assert captured.err == (
        "nets: moons interrupted at step 2 of 100; the table shows the steps done.\n"
    )
    assert "  2 steps of SGD with lr" in captured.out
    assert "(tape) (interrupted)" in captured.out
    assert "step 1 loss " in captured.out  # the last step measured before Ctrl-C


def test_unwritable_out_exits_2(tmp_path: pathlib.Path) -> None:
    """An --out below a file exits 2 naming the file in the way."""
    blocker = tmp_path / "file.txt"
    blocker.write_text("not a folder")
    result = _run("hidden", "--out", str(blocker / "pictures"))
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == (
        f"nets: error: argument --out: cannot create {str(blocker / 'pictures')!r}: "
        f"{str(blocker)!r} is in the way: it is a file, not a directory"
    )
    assert "Traceback" not in result.stderr


def test_out_naming_a_file_says_it_is_not_a_directory(tmp_path: pathlib.Path) -> None:
    """--out naming an existing file exits 2 saying it is a file, not a directory."""
    existing = tmp_path / "notes.txt"
    existing.write_text("keep me")
    result = _run("hidden", "--out", str(existing))
    assert result.returncode == 2
    assert f"argument --out: {str(existing)!r} is a file, not a directory" in result.stderr
    assert existing.read_text() == "keep me"


@pytest.mark.parametrize(("lr", "step"), [("0.01", 127), ("1", 48)])
def test_diverging_run_fails_cleanly(lr: str, step: int) -> None:
    """Too large an lr exits 1 with the same line, whether the loss or an operation overflows."""
    result = _run("celsius", "--lr", lr, "--steps", "500")
    assert result.returncode == 1
    assert result.stderr == (
        f"nets: error: training failed: celsius: loss became inf at step {step}; "
        f"is lr {lr} too large?\n"
    )
    assert result.stdout == ""


def test_negative_zero_lr_prints_as_zero(capsys: pytest.CaptureFixture[str]) -> None:
    """--lr -0.0 is the learning rate 0: the table says "lr 0", never "lr -0"."""
    assert cli.main(["neuron", "--lr", "-0.0", "--steps", "2"]) == 0
    out = capsys.readouterr().out
    assert "2 steps of SGD at lr 0, seed 0" in out
    assert "-0" not in out.splitlines()[1]


def test_without_matplotlib_the_graph_is_still_written(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without matplotlib, --out writes the graph and the explorer page, names what it left out."""
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # `import matplotlib` now fails
    assert cli.main(["hidden", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hidden.html", "hidden_graph.svg"]
    assert ET.parse(tmp_path / "hidden_graph.svg").getroot().tag.endswith("svg")
    assert capsys.readouterr().err == (
        "nets: warning: matplotlib is not installed, so these plots were not written: "
        "hidden_loss.png; install it with: pip install 'autodiff-nets[plots]'  "
        "(or: python -m pip install matplotlib)\n"
    )


def test_bad_mplbackend_is_one_line(tmp_path: pathlib.Path) -> None:
    """A bad MPLBACKEND with --out exits 1 before training, naming the variable in one line."""
    env = {**os.environ, "MPLBACKEND": "no-such-backend"}
    result = _run("hidden", "--out", str(tmp_path), env=env)
    if "`dot` program" in result.stderr:
        pytest.skip("Graphviz's dot is not installed")
    assert result.returncode == 1
    assert result.stderr.startswith("nets: error: matplotlib cannot start: ")
    assert "MPLBACKEND='no-such-backend'" in result.stderr
    assert result.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_closed_stdout_is_one_line() -> None:
    """A reader that has gone (a pipe to `head`) gives exit 1 and one line, no traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "nets", "hidden"],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert result.returncode == 1
    assert result.stderr == (
        "nets: error: stdout was closed before all the output was written (broken pipe)\n"
    )


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
def test_full_disk_is_one_line() -> None:
    """stdout on a full device (/dev/full) gives exit 1 and one line naming the reason."""
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "nets", "hidden"],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr == "nets: error: cannot write to stdout: No space left on device\n"


def test_ascii_stdout_is_one_line_and_json_still_works() -> None:
    """An ASCII-only stdout cannot show the table's '·': exit 1, one line; --json still works."""
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    table = _run("hidden", env=env)
    assert table.returncode == 1
    assert table.stdout == ""
    assert table.stderr.startswith("nets: error: stdout's encoding (ascii) cannot write")
    assert "PYTHONIOENCODING=utf-8" in table.stderr
    assert table.stderr.count("\n") == 1
    document = _run("hidden", "--json", env=env)
    assert document.returncode == 0
    assert json.loads(document.stdout)["net"] == "hidden"


def test_version() -> None:
    """--version names the version and the distribution to install, and exits 0."""
    import autodiff

    result = _run("--version")
    assert result.returncode == 0
    assert result.stdout == f"nets {autodiff.__version__} (installed as autodiff-nets)\n"


def test_help_says_what_each_network_is() -> None:
    """--help gives one line per network: its name and its tutorial, with its defaults."""
    result = _run("--help")
    assert result.returncode == 0
    for network in registry.NETWORKS:
        assert f"  {network.name:9} {network.description}\n" in result.stdout
    assert "(default 10000 steps at lr 0.001, seed 0)" in result.stdout  # celsius
    assert "(default 1 step at lr 0.01)\n" in result.stdout  # hidden: nothing random
    help_text = " ".join(result.stdout.split())  # argparse wraps the options' help
    assert "(default 100 steps with lr 1.0 - 0.9·k/steps (micrograd's schedule), seed 1337)" in (
        help_text
    )
    assert "--match-micrograd moons only: micrograd's notebook exactly" in help_text
    assert "--eager build the graph afresh at every step" in help_text


def test_json_has_the_numbers_the_table_prints() -> None:
    """The hidden network's JSON carries tutorial 001's forward values and gradients."""
    document = json.loads(_run("hidden", "--json").stdout)
    first = document["details"]["first_step"]
    assert first["forward"] == pytest.approx(
        {"z": 0.5, "a": 0.62245933, "y": -0.62245933, "L": 0.19372781}, abs=5e-9
    )
    assert first["gradients"]["W1"] == pytest.approx(0.14628025, abs=5e-9)
    assert first["gradients"]["W2"] == pytest.approx(-0.38745562, abs=5e-9)
    assert first["updated"]["b1"] == pytest.approx(-0.00146280, abs=5e-9)
    assert "history" not in document


def test_json_history_has_every_step(capsys: pytest.CaptureFixture[str]) -> None:
    """--history adds each step's loss, parameters and outputs: steps + 1 entries each."""
    assert cli.main(["hidden", "--json", "--history", "--steps", "3"]) == 0
    document = json.loads(capsys.readouterr().out)
    history = document["history"]
    assert len(history["losses"]) == 4
    assert history["losses"][0] == document["initial_loss"]
    assert history["losses"][-1] == document["final_loss"]
    assert [len(values) for values in history["params"].values()] == [4, 4, 4, 4]
    assert history["params"]["W2"][1] == pytest.approx(-0.99612544, abs=5e-9)


def test_out_writes_real_svg_and_png(tmp_path: pathlib.Path) -> None:
    """--out writes each graph as SVG and as an explorer page, each plot as PNG, and says where."""
    pytest.importorskip("matplotlib")
    out = tmp_path / "pictures"
    result = _run("all", "--steps", "20", "--out", str(out))
    if "dot" in result.stderr and result.returncode == 1:
        pytest.skip("Graphviz's dot is not installed")
    assert result.returncode == 0, result.stderr
    svgs = sorted(p.name for p in out.glob("*.svg"))
    pngs = sorted(p.name for p in out.glob("*.png"))
    assert svgs == ["celsius_graph.svg", "hidden_graph.svg", "moons_graph.svg", "neuron_graph.svg"]
    assert pngs == [
        "celsius_fit.png",
        "celsius_loss.png",
        "hidden_loss.png",
        "moons_boundary.png",
        "moons_loss.png",
        "neuron_error.png",
        "neuron_prediction.png",
    ]
    for name in svgs:
        root = ET.parse(out / name).getroot()
        assert root.tag.endswith("svg"), name
    for name in pngs:
        assert (out / name).read_bytes()[:8] == PNG_MAGIC, name
    pages = sorted(p.name for p in out.glob("*.html"))
    assert pages == ["celsius.html", "hidden.html", "moons.html", "neuron.html"]
    for name in pages:
        text = (out / name).read_text(encoding="utf-8")
        assert text.startswith("<!DOCTYPE html>"), name
        assert "http://" not in text, name  # it works from disk alone
        assert "https://" not in text, name
    last_line = result.stdout.strip().splitlines()[-1]
    assert str(out.resolve()) in last_line
    assert last_line.startswith("Pictures (15 files) are in")
    assert "moons: one point's margin through the output neuron" in (
        out / "moons_graph.svg"
    ).read_text(encoding="utf-8").replace("&#39;", "'")
    assert result.stderr == ""  # every graph is small enough to draw: no warning


def test_out_with_json_keeps_stdout_one_object(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --json and --out, stdout is still exactly one JSON object; the note goes to stderr."""
    pytest.importorskip("matplotlib")
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")
    assert cli.main(["neuron", "--steps", "10", "--json", "--out", str(tmp_path)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["net"] == "neuron"
    assert captured.err.startswith("Pictures (4 files) are in")


# `python -m nets`, with Ctrl-C turned on first: a test run started in the background has
# SIGINT ignored, and a child inherits that, so Python would not turn it into KeyboardInterrupt.
_NETS_WITH_CTRL_C = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('nets', run_name='__main__', alter_sys=True)"
)


@pytest.fixture(scope="module")
def interrupted_on_a_terminal() -> tuple[int, str, str]:
    """Run a long Celsius training with stderr on a 100-column pseudo-terminal, press Ctrl-C.

    SIGINT is sent once the progress bar has been drawn three times. Returns the exit status,
    stdout, and everything the terminal received.
    """
    pty = pytest.importorskip("pty")
    import fcntl
    import select
    import signal
    import struct
    import termios
    import time

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    process = subprocess.Popen(
        [sys.executable, "-c", _NETS_WITH_CTRL_C, "celsius", "--steps", "10000000"],
        stdout=subprocess.PIPE,
        stderr=follower,
        text=True,
    )
    os.close(follower)
    screen = b""
    interrupted = False
    deadline = time.monotonic() + 300
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 10)
            if not ready:
                continue
            try:
                chunk = os.read(leader, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            screen += chunk
            if not interrupted and screen.count(b"loss") >= 3:
                process.send_signal(signal.SIGINT)
                interrupted = True
                deadline = min(deadline, time.monotonic() + 60)
        if process.poll() is None:
            process.kill()
        out, _ = process.communicate(timeout=120)
    finally:
        os.close(leader)
    return process.returncode, out, screen.decode("utf-8", "replace")


def test_progress_bar_never_leaves_stale_characters(
    interrupted_on_a_terminal: tuple[int, str, str],
) -> None:
    """On a terminal, each redraw of the bar covers the whole previous one, and it is cleared."""
    _, _, screen = interrupted_on_a_terminal
    bar = screen.split("\n")[0]  # the bar's redraws and its clearing, up to the first line
    assert bar.count("loss") >= 3
    played: list[str] = []
    frames = [frame for frame in bar.split("\r") if frame]  # a bare return draws nothing
    for frame in frames:
        played[: len(frame)] = list(frame)
        # the terminal now shows exactly that redraw, with nothing left over after it
        assert "".join(played).rstrip() == frame.rstrip()
    assert frames[-1].startswith("nets: celsius interrupted")  # the bar was cleared first


def test_ctrl_c_prints_the_table_so_far_and_exits_130(
    interrupted_on_a_terminal: tuple[int, str, str],
) -> None:
    """Ctrl-C during training prints the step reached and the table so far, exit 130."""
    status, out, screen = interrupted_on_a_terminal
    assert status == 130
    reached = re.search(r"nets: celsius interrupted at step (\d+) of 10000000", screen)
    assert reached, screen
    assert "Traceback" not in screen
    assert f"  {reached.group(1)} steps of SGD at lr 0.001, seed 0" in out
    assert "(interrupted)" in out
    assert "learned F = " in out


def test_heartbeat_writes_whole_lines_every_few_seconds() -> None:
    """Off a terminal, progress is a whole line each time the interval has passed, no sooner."""
    now = [0.0]
    stream = io.StringIO()
    beat = cli.Heartbeat(stream, "celsius", 100, every=5.0, clock=lambda: now[0])
    for step in range(1, 101):
        now[0] = step * 0.25  # 25 s in all: lines at 5, 10, 15, 20 and 25 s
        beat(step, 1.0 / step)
    beat.close()
    assert stream.getvalue().splitlines() == [
        "celsius: step 20/100 (20%), loss 0.05",
        "celsius: step 40/100 (40%), loss 0.025",
        "celsius: step 60/100 (60%), loss 0.01667",
        "celsius: step 80/100 (80%), loss 0.0125",
        "celsius: step 100/100 (100%), loss 0.01",
    ]
    assert "\r" not in stream.getvalue()


# -- the review of the command line's failures (issue 15) ------------------------------------


def _needs_dot() -> None:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed")


def _shell(command: str, *args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """Run ``python -m nets args`` through sh, with ``command`` redirecting its streams."""
    return subprocess.run(
        ["sh", "-c", f'exec "$0" -m nets "$@" {command}', sys.executable, *args],
        text=True,
        timeout=300,
        check=False,
        **options,
    )


@pytest.mark.parametrize(
    ("inputs", "files", "warning"),
    [
        (
            "50",
            ["neuron.html"],
            "the graph of neuron has 152 Values, too many to draw (a drawing takes at most "
            "150), so neuron_graph.svg was not written; open neuron.html (the explorer page) "
            "to see it, or give a smaller --inputs",
        ),
        (
            "200",
            [],
            "the graph of neuron has 602 Values, too many to draw (a drawing takes at most "
            "150, the explorer page 500), so neuron_graph.svg and neuron.html were not "
            "written; give a smaller --inputs",
        ),
    ],
)
def test_a_graph_too_large_to_draw_is_a_warning(
    inputs: str,
    files: list[str],
    warning: str,
    tmp_path: pathlib.Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A graph too large to draw leaves out its pictures with one warning; the table stays."""
    _needs_dot()
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # the plots are not the point here
    status = cli.main(["neuron", "--inputs", inputs, "--steps", "1", "--out", str(tmp_path)])
    captured = capsys.readouterr()
    assert status == 0
    assert f"  w{inputs} " in captured.out  # the table, down to the last weight
    assert sorted(p.name for p in tmp_path.iterdir()) == files
    assert f"nets: warning: {warning}" in captured.err.splitlines()
    assert "max_nodes" not in captured.err  # Python-API advice is no use on the command line


def test_closed_stderr_runs_normally() -> None:
    """With stderr closed (2>&-), a long run prints its table and exits 0, without progress."""
    result = _shell("2>&-", "celsius", "--steps", "3000", stdout=subprocess.PIPE)
    assert result.returncode == 0
    assert result.stdout.startswith("celsius  (tutorial 002")
    assert "learned F = " in result.stdout


def test_closed_stderr_keeps_warnings_off_stdout(tmp_path: pathlib.Path) -> None:
    """With stderr closed, a warning is dropped, not printed on stdout, and --out works."""
    _needs_dot()
    result = _shell(
        "2>&-",
        "neuron",
        "--inputs",
        "50",
        "--steps",
        "1",
        "--out",
        str(tmp_path),
        stdout=subprocess.PIPE,
    )
    assert result.returncode == 0
    assert "warning" not in result.stdout
    assert result.stdout.splitlines()[-1].startswith("Pictures (")
    assert (tmp_path / "neuron.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("args", [["hidden"], ["hidden", "--json"], ["--help"], ["--version"]])
def test_stdout_closed_from_the_start_is_one_line(args: list[str]) -> None:
    """With stdout closed (>&-), nets says so in one line on stderr and exits 1."""
    result = _shell(">&-", *args, stderr=subprocess.PIPE)
    assert result.returncode == 1
    assert result.stderr == (
        "nets: error: stdout is closed, so there is nowhere to print the results\n"
    )


def test_ctrl_c_while_writing_pictures_keeps_the_table(tmp_path: pathlib.Path) -> None:
    """Ctrl-C after training, while --out is written: the table, one line, exit 130."""
    _needs_dot()
    # SIGINT arrives as the explorer page is started, after the graph's SVG is written
    send_ctrl_c_in_explore = (
        "import os, signal; from autodiff import viz; real = viz.explore\n"
        "def explore(*args, **kwargs):\n"
        "    os.kill(os.getpid(), signal.SIGINT)\n"
        "    return real(*args, **kwargs)\n"
        "viz.explore = explore\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            send_ctrl_c_in_explore + _NETS_WITH_CTRL_C,
            "hidden",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,  # the deadline: a Ctrl-C that went unnoticed would not finish sooner
        check=False,
    )
    assert result.returncode == 130
    assert result.stderr == (
        "nets: interrupted while writing pictures; training had finished, so the table is "
        "complete.\n"
    )
    assert "  1 step of SGD at lr 0.01, in " in result.stdout
    assert "(interrupted)" not in result.stdout
    assert "-0.99612544" in result.stdout
    assert result.stdout.splitlines()[-1].endswith(": hidden_graph.svg")
    assert [p.name for p in tmp_path.iterdir()] == ["hidden_graph.svg"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full (Linux)")
@pytest.mark.parametrize("option", ["--help", "--version"])
def test_help_and_version_to_a_full_disk_are_one_line(option: str) -> None:
    """--help and --version on a full device exit 1 with one line, like any other output."""
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "nets", option],
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 1
    assert result.stderr == "nets: error: cannot write to stdout: No space left on device\n"


def _out_refused(out: pathlib.Path | str, capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``hidden --out out`` in-process, expect exit 2, and return its last line of stderr."""
    with pytest.raises(SystemExit) as exit:
        cli.main(["hidden", "--out", str(out)])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: nets")
    return err.splitlines()[-1]


def test_out_naming_a_broken_symbolic_link_says_so(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out naming a link to nothing says it is a broken link and where it points."""
    link = tmp_path / "pictures"
    link.symlink_to(tmp_path / "gone")
    assert _out_refused(link, capsys) == (
        f"nets: error: argument --out: {str(link)!r} is a broken symbolic link: it points to "
        f"{str(tmp_path / 'gone')!r}, which does not exist"
    )
    assert _out_refused(link / "sub", capsys) == (
        f"nets: error: argument --out: cannot create {str(link / 'sub')!r}: {str(link)!r} is "
        f"in the way: it is a broken symbolic link: it points to {str(tmp_path / 'gone')!r}, "
        "which does not exist"
    )


def test_out_naming_a_loop_of_symbolic_links_says_so(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--out naming a link that leads back to itself says it is a loop of links."""
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert _out_refused(loop, capsys) == (
        f"nets: error: argument --out: {str(loop)!r} is a symbolic link in a loop of links "
        "(it never reaches a folder)"
    )


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc (Linux)")
def test_out_where_no_file_can_be_created_says_so(capsys: pytest.CaptureFixture[str]) -> None:
    """--out /proc/self (a folder that takes no new files) says files cannot be created there."""
    assert _out_refused("/proc/self", capsys) == (
        "nets: error: argument --out: cannot create files in '/proc/self': this place does "
        "not allow new files or folders (the system says: no such file)"
    )


def test_ascii_stdout_and_a_non_ascii_out_names_the_path(tmp_path: pathlib.Path) -> None:
    """A character stdout cannot encode in the --out path is blamed on the path, not the table."""
    _needs_dot()
    out = tmp_path / "d\u00e9"
    env = {**os.environ, "PYTHONIOENCODING": "ascii"}
    result = _run("neuron", "--steps", "2", "--out", str(out), env=env)
    assert result.returncode == 1
    assert result.stdout.startswith("neuron  (tutorial 000")  # the table was printed
    folder = f"{out}{os.sep}"
    assert result.stderr == (
        "nets: error: stdout's encoding (ascii) cannot write '\\xe9' (U+00E9), which is in the "
        f"path of the --out folder, {folder!a} (the pictures were written there); "
        "set PYTHONIOENCODING=utf-8\n"
    )
    assert (out / "neuron_graph.svg").exists()


# -- the second review of the command line (review 2: H3, H4, M1, M4, M5, L4, L5, L7) ---------


def _limited(resource_name: str, limit: int) -> Any:
    """A ``preexec_fn`` giving the child the resource limit ``limit`` (RLIMIT_FSIZE, _AS)."""
    resource = pytest.importorskip("resource")
    which = getattr(resource, resource_name)

    def limit_it() -> None:
        resource.setrlimit(which, (limit, limit))

    return limit_it


def test_a_full_disk_while_writing_the_plots_keeps_the_table(tmp_path: pathlib.Path) -> None:
    """A plot that cannot be written: the table, the pictures done, one line naming the file."""
    _needs_dot()
    # Once matplotlib starts writing, files may grow to 1000 bytes only: the PNG is larger.
    # Python ignores SIGXFSZ, so the write is cut short and the next one fails (EFBIG), as a
    # full disk's does (ENOSPC); the test needs no small disk of its own.
    limit_before_savefig = (
        "import resource, matplotlib.figure as figure\n"
        "savefig = figure.Figure.savefig\n"
        "def limited(self, *args, **kwargs):\n"
        "    resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))\n"
        "    return savefig(self, *args, **kwargs)\n"
        "figure.Figure.savefig = limited\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            limit_before_savefig + _NETS_WITH_CTRL_C,
            "hidden",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stderr == "nets: error: cannot write hidden_loss.png: File too large\n"
    assert result.returncode == 1
    assert "  W2        -1.00000000      -0.99612544" in result.stdout  # the whole table
    assert result.stdout.splitlines()[-1].endswith(": hidden_graph.svg, hidden.html")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hidden.html", "hidden_graph.svg"]


def test_stdout_on_a_disk_that_fills_up_is_one_line(tmp_path: pathlib.Path) -> None:
    """Output cut short part way (a full disk, a file size limit) is an error, not exit 0."""
    out = tmp_path / "history.json"
    with out.open("wb") as stdout:
        result = subprocess.run(
            [sys.executable, "-m", "nets", "celsius", "--json", "--history", "--steps", "3000"],
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
            preexec_fn=_limited("RLIMIT_FSIZE", 100_000),  # the JSON is about 200 000 bytes
        )
    assert result.stderr == "nets: error: cannot write to stdout: File too large\n"
    assert result.returncode == 1
    assert out.stat().st_size == 100_000


def test_running_out_of_memory_is_one_line_naming_what_to_shrink() -> None:
    """A MemoryError while training says "out of memory" and which option to make smaller."""
    # 100 MB of address space: nets starts in about 30 MB, and a 40 000-input neuron needs
    # about 230 MB (three Values per input, and the tape of them).
    result = subprocess.run(
        [sys.executable, "-m", "nets", "neuron", "--inputs", "40000", "--steps", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=_limited("RLIMIT_AS", 100 * 2**20),
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1"},
    )
    assert result.stderr == (
        "nets: error: out of memory training neuron with --inputs 40000 --steps 1; give a "
        "smaller --inputs or --steps\n"
    )
    assert result.returncode == 1
    assert result.stdout == ""


def test_closed_stderr_keeps_the_usage_off_stdout() -> None:
    """With stderr closed, a bad argument exits 2 and prints nothing on stdout (the JSON's)."""
    result = _shell("2>&-", "hidden", "--steps", "0", "--json", stdout=subprocess.PIPE)
    assert result.returncode == 2
    assert result.stdout == ""


@pytest.mark.skipif(not os.path.exists("/dev/null"), reason="needs /dev/null")
def test_out_naming_a_device_says_it_is_not_a_directory(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--out /dev/null is refused as "not a directory": it is a device, not a file."""
    assert _out_refused("/dev/null", capsys) == (
        "nets: error: argument --out: '/dev/null' is not a directory"
    )


def test_a_seed_the_network_does_not_use_is_not_recorded(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """hidden --seed: the JSON's seed is null (nothing is random) and a warning says so."""
    assert cli.main(["hidden", "--seed", "1000", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["seed"] is None
    assert captured.err == (
        "nets: warning: --seed 1000 is not used: hidden starts from its tutorial's fixed "
        "parameters (nothing in it is random)\n"
    )
    assert cli.main(["all", "--seed", "5", "--steps", "1", "--json"]) == 0
    captured = capsys.readouterr()
    assert [net["seed"] for net in json.loads(captured.out)["nets"]] == [5, None, 5, 5]
    assert captured.err == ""  # all: the seed is for the others; no warning


def test_ctrl_c_while_loading_matplotlib_says_so(tmp_path: pathlib.Path) -> None:
    """Ctrl-C while --out imports matplotlib (before training) says what it interrupted."""
    _needs_dot()
    send_ctrl_c_on_importing_matplotlib = (
        "import os, signal, sys\n"
        "class CtrlC:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'matplotlib':\n"
        "            os.kill(os.getpid(), signal.SIGINT)\n"
        "sys.meta_path.insert(0, CtrlC())\n"
    )
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            send_ctrl_c_on_importing_matplotlib + _NETS_WITH_CTRL_C,
            "hidden",
            "--out",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.stderr == (
        "nets: interrupted while loading matplotlib (for the --out plots), before training "
        "started; nothing was run.\n"
    )
    assert result.returncode == 130
    assert result.stdout == ""
    assert list(tmp_path.iterdir()) == []


def test_output_goes_to_a_notebooks_stdout_not_its_descriptor(
    monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path
) -> None:
    """In a notebook, the output goes to the kernel's stdout stream, which shows it.

    That stream has a descriptor too (the kernel's own terminal), where the notebook never
    shows the text: ``main`` writes to the stream itself there.
    """

    class KernelStream(io.StringIO):
        def __init__(self, descriptor: int) -> None:
            super().__init__()
            self.descriptor = descriptor

        def fileno(self) -> int:
            return self.descriptor

    terminal = tmp_path / "terminal"
    with terminal.open("w") as behind:
        stream = KernelStream(behind.fileno())
        monkeypatch.setattr(sys, "stdout", stream)
        assert cli.main(["hidden", "--json"]) == 0
    assert json.loads(stream.getvalue())["net"] == "hidden"
    assert terminal.read_text() == ""
