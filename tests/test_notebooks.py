"""Every notebook under notebooks/ is stored without outputs and runs top to bottom without an
error, executed by nbclient on the python3 kernel (ipykernel, from the dev extra), with
notebooks/ as working directory, where Jupyter starts a notebook's kernel: the notebooks find the
project's files from the package, not from the working directory. The notebooks use small
populations themselves, so each runs in well under a minute.
"""

from __future__ import annotations

import time

import nbformat
import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT = 120      # seconds for any one cell
NOTEBOOK_BUDGET = 60    # seconds for a whole notebook, kernel start included


def test_the_reader_notebooks_exist():
    names = {path.stem for path in NOTEBOOKS}
    assert "strategist_walkthrough" in names
    assert "analyst_sweep" in names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_is_stored_clean(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, "a notebook without code"
    assert all(not cell.outputs and cell.execution_count is None for cell in code), \
        "store notebooks without outputs"
    assert notebook.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_runs(path, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # scratch files of the notebook land here
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, kernel_name="python3", timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(path.parent)}})
    started = time.perf_counter()
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    elapsed = time.perf_counter() - started
    errors = [output for cell in notebook.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert not errors
    assert elapsed < NOTEBOOK_BUDGET, f"{path.name} took {elapsed:.0f} s"
