"""The notebooks under docs/ cannot rot: each runs top to bottom, and each is stored clean.

Every ``docs/**/*.ipynb`` is executed with nbclient in fresh ``python3`` kernels (ipykernel, in
this interpreter) working in a temporary folder, by the runner the docs build uses
(``run_notebooks`` in docs/site_hooks.py). A cell that raises fails the test, and so does a
tutorial number that a notebook's ``assert`` no longer finds. Each notebook runs twice, side by
side, and must show the same outputs both times, so the site built from them is the same at
every build. The notebooks are stored without outputs, so their diffs show only what a person
wrote, and every tutorial network has one.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import nbformat
import pytest

from nets import registry

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
# Jupyter keeps its autosaved copies in .ipynb_checkpoints/: those are not the notebooks.
NOTEBOOKS = sorted(
    path
    for path in DOCS.rglob("*.ipynb")
    if not any(part.startswith(".") for part in path.relative_to(DOCS).parts)
)

# What each notebook shows, as its outputs' HTML marks it: the drawing (an inline SVG), the
# explanation, the explorer page in its frame, and the backward-step player; and a plot.
_SHOWN = {
    "a drawing": '<div style="max-width:100%;overflow-x:auto"><svg',
    "an explanation": 'class="autodiff-explanation"',
    "the explorer": "<iframe srcdoc=",
    "the backward-step player": 'class="autodiff-steps"',
}


def _notebook_id(path: Path) -> str:
    return path.relative_to(DOCS).as_posix()


def _site_hooks() -> ModuleType:
    spec = importlib.util.spec_from_file_location("site_hooks", DOCS / "site_hooks.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(*paths: Path) -> list[Any]:
    if shutil.which("dot") is None:
        pytest.skip("Graphviz's dot is not installed: the notebooks draw graphs")
    executed: list[Any] = _site_hooks().run_notebooks(list(paths))
    return executed


def _outputs(notebook: Any) -> list[Any]:
    return [output for cell in notebook.cells for output in cell.get("outputs", [])]


def test_notebooks_exist() -> None:
    """docs/ holds the notebooks, in the folder the docs build turns into pages."""
    assert len(NOTEBOOKS) >= 3
    assert all(path.parent == DOCS / "notebooks" for path in NOTEBOOKS)


def test_every_tutorial_network_has_a_notebook() -> None:
    """Each tutorial network of nets.registry has its notebook, docs/notebooks/<name>.ipynb."""
    tutorials = [
        network.name for network in registry.NETWORKS if network.description.startswith("tutorial ")
    ]
    assert tutorials == ["neuron", "hidden", "celsius"]
    names = {path.stem for path in NOTEBOOKS}
    assert set(tutorials) <= names, f"no notebook for {sorted(set(tutorials) - names)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_notebook_id)
def test_notebook_is_stored_without_outputs(path: Path) -> None:
    """The stored notebook is valid nbformat 4 for the python3 kernel, with no output in it."""
    notebook = nbformat.read(path, as_version=nbformat.NO_CONVERT)
    nbformat.validate(notebook)
    assert notebook.nbformat == 4
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code
    dirty = [
        cell.get("id", str(k))
        for k, cell in enumerate(code)
        if cell.outputs or cell.execution_count is not None
    ]
    assert not dirty, f"cells stored with outputs (clear them before committing): {dirty}"
    # Written as Jupyter writes it (one-space indent, a final newline), so a save from Jupyter
    # changes nothing but what was edited.
    text = path.read_text(encoding="utf-8")
    assert text == json.dumps(json.loads(text), indent=1, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_notebook_id)
def test_notebook_runs_and_shows_the_same_every_time(path: Path) -> None:
    """Every cell runs without error or warning; it shows the graph four ways; twice the same."""
    first, second = _run(path, path)
    outputs = _outputs(first)
    assert outputs, "the notebook shows nothing"
    assert not [output for output in outputs if output.output_type == "error"]
    warnings = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not warnings, f"the notebook wrote to stderr: {warnings}"
    pages = "".join(output.get("data", {}).get("text/html", "") for output in outputs)
    missing = [what for what, mark in _SHOWN.items() if mark not in pages]
    assert not missing, f"the notebook does not show {missing}"
    assert any("image/png" in output.get("data", {}) for output in outputs), "no plot"
    assert [cell.get("outputs") for cell in first.cells] == [
        cell.get("outputs") for cell in second.cells
    ]


def test_the_runner_uses_this_python_in_a_temporary_folder(tmp_path: Path) -> None:
    """The kernel is this interpreter (so it imports this autodiff) and works outside the repo."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import os, sys, autodiff\nprint(sys.executable, os.getcwd(), autodiff.__file__)"
        )
    ]
    path = tmp_path / "where.ipynb"
    nbformat.write(notebook, path)
    (executed,) = _run(path)
    executable, folder, package = executed.cells[0].outputs[0].text.split()
    assert Path(executable).resolve() == Path(sys.executable).resolve()
    assert ROOT not in Path(folder).resolve().parents
    assert Path(package).resolve() == ROOT / "autodiff" / "__init__.py"


def test_printed_text_is_one_block_however_it_arrived(tmp_path: Path) -> None:
    """Text a cell prints in pieces (each flushed apart) comes back as one output, as shown."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [
        nbformat.v4.new_code_cell(
            "import sys\n"
            "for word in ('one', 'two', 'three'):\n"
            "    print(word, end=' ', flush=True)\n"
            "print('!', file=sys.stderr, flush=True)\n"
            "print('four')"
        )
    ]
    path = tmp_path / "pieces.ipynb"
    nbformat.write(notebook, path)
    (executed,) = _run(path)
    shown = [(output.name, output.text) for output in executed.cells[0].outputs]
    assert shown == [("stdout", "one two three "), ("stderr", "!\n"), ("stdout", "four\n")]


def test_a_failing_cell_fails_the_run(tmp_path: Path) -> None:
    """A notebook whose assert fails raises nbclient's CellExecutionError, naming the cell."""
    from nbclient.exceptions import CellExecutionError

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    notebook.cells = [nbformat.v4.new_code_cell("assert 0.1 + 0.2 == 0.3, 'floats'")]
    path = tmp_path / "failing.ipynb"
    nbformat.write(notebook, path)
    with pytest.raises(CellExecutionError, match="AssertionError: floats"):
        _run(path)
