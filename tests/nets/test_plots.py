"""The plots: real PNG files from histories, and a clear error without matplotlib."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

from nets import celsius, hidden, neuron, plots

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def test_figures_are_png(tmp_path: pathlib.Path) -> None:
    """Each figure function writes PNG files with the documented names."""
    pytest.importorskip("matplotlib")
    paths = plots.neuron_figures([neuron.train(steps=5, lr=lr) for lr in (0.01, 0.5)], tmp_path)
    paths.append(plots.hidden_figure(hidden.train(steps=5), tmp_path))
    paths += plots.celsius_figures(celsius.train(steps=5), tmp_path)
    assert [p.name for p in paths] == [
        "neuron_prediction.png",
        "neuron_error.png",
        "hidden_loss.png",
        "celsius_fit.png",
        "celsius_loss.png",
    ]
    for path in paths:
        assert path.read_bytes()[:8] == PNG_MAGIC


def test_missing_matplotlib(monkeypatch: pytest.MonkeyPatch, tmp_path: pathlib.Path) -> None:
    """Without matplotlib the figures raise MatplotlibMissingError with the install hint."""
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(plots.MatplotlibMissingError, match=r"autodiff-nets\[plots\]"):
        plots.hidden_figure(hidden.train(steps=1), tmp_path)


def test_neuron_figures_draw_the_run_asked_for(tmp_path: pathlib.Path) -> None:
    """Runs at lr 0.1 and 0.2, neither the tutorial's, give different pictures: each is drawn."""
    pytest.importorskip("matplotlib")
    pictures = []
    for lr in (0.1, 0.2):
        folder = tmp_path / str(lr)
        folder.mkdir()
        neuron.figures(neuron.train(steps=50, lr=lr), folder)
        pictures.append((folder / "neuron_prediction.png").read_bytes())
    assert pictures[0] != pictures[1]


def test_hidden_figure_draws_the_steps_asked_for(tmp_path: pathlib.Path) -> None:
    """A 1-step and a 5-step run give different pictures: the run is drawn, not a fixed 1000."""
    pytest.importorskip("matplotlib")
    pictures = []
    for steps in (1, 5):
        folder = tmp_path / str(steps)
        folder.mkdir()
        hidden.figures(hidden.train(steps=steps), folder)
        pictures.append((folder / "hidden_loss.png").read_bytes())
    assert pictures[0] != pictures[1]


def test_same_run_same_picture(tmp_path: pathlib.Path) -> None:
    """The same run drawn twice gives the same bytes, so the two tests above compare runs."""
    pytest.importorskip("matplotlib")
    first = plots.hidden_figure(hidden.train(steps=2), tmp_path).read_bytes()
    second = plots.hidden_figure(hidden.train(steps=2), tmp_path).read_bytes()
    assert first == second


def test_bad_mplbackend_is_a_clear_error() -> None:
    """A bad MPLBACKEND makes require_matplotlib raise MatplotlibBrokenError naming it."""
    code = (
        "import os, sys\n"
        "os.environ['MPLBACKEND'] = 'no-such-backend'\n"
        "from nets import plots\n"
        "try:\n"
        "    plots.require_matplotlib()\n"
        "except plots.MatplotlibBrokenError as error:\n"
        "    print(error)\n"
    )
    pytest.importorskip("matplotlib")
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.startswith("matplotlib cannot start: the environment variable ")
    assert "MPLBACKEND='no-such-backend'" in result.stdout
