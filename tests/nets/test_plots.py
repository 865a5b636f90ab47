"""The plots: real PNG files from histories, and a clear error without matplotlib."""

from __future__ import annotations

import pathlib
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
    with pytest.raises(plots.MatplotlibMissingError, match=r"autodiff\[plots\]"):
        plots.hidden_figure(hidden.train(steps=1), tmp_path)
