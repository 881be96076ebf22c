"""Executing the project's notebooks, as the documentation shows them and the tests run them.

A notebook is stored without outputs (``notebooks/``); :func:`execute` runs it top to bottom on
the ``python3`` kernel with the notebook's folder as working directory (where Jupyter starts a
kernel), headless (``MPLBACKEND=Agg``), and returns it with its outputs. A cell that raises stops
it with the cell named (nbclient's ``CellExecutionError``).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

CELL_TIMEOUT = 120   # seconds for any one cell


@dataclass(frozen=True)
class Executed:
    """A notebook with its outputs, and how long it took (kernel start included)."""

    path: Path
    notebook: object   # an nbformat NotebookNode
    seconds: float

    def write(self, target: Path) -> Path:
        """Save the executed notebook at ``target``."""
        import nbformat

        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(self.notebook, target)
        return target


def execute(path: Path, scratch: Path | None = None) -> Executed:
    """Run the notebook at ``path``; ``scratch`` (if given) becomes its TMPDIR."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, kernel_name="python3", timeout=CELL_TIMEOUT,
                            resources={"metadata": {"path": str(path.parent)}})
    environment = {"MPLBACKEND": "Agg", **({"TMPDIR": str(scratch)} if scratch else {})}
    saved = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)      # the kernel inherits the environment
    started = time.perf_counter()
    try:
        client.execute()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return Executed(path, notebook, time.perf_counter() - started)
