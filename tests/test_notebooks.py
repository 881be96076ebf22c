"""Every notebook under notebooks/ is stored without outputs. That each runs top to bottom
without an error, in well under a minute, is checked where they are executed: by the
documentation site's build (tests/test_docs.py), with nbclient on the python3 kernel and
notebooks/ as working directory (sim.docs.notebooks), which shows them with their outputs. The
notebooks find the project's files from the package, not from the working directory, and use
small populations themselves.
"""

from __future__ import annotations

import nbformat
import pytest
from conftest import ROOT

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


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
