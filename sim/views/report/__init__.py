"""Self-contained HTML reports of output folders, for readers who never run Python.

``build_report(folder)`` looks at what the folder holds, renders one HTML page and writes it to
``folder/report.html`` (atomically). The page needs no network: figures are embedded as base64
PNGs, the styles are inline, there is no script, and a Content-Security-Policy forbids the page
from loading anything else. It is responsive (one column, figures scale to the width, wide
tables scroll inside their own box) and has print styles.

One module per concern:

* :mod:`sim.views.report.page`: the page building blocks every report shares (document, sections,
  figures, tables, escaping, styles, settings and provenance blocks) and :class:`FolderKind`;
* :mod:`sim.views.report.words`: numbers in words (a figure and its interval, percentages,
  quarters, lists);
* :mod:`sim.views.report.reading`: a folder's manifest and tables read for a report, problems
  as :class:`ReportError`;
* :mod:`sim.views.report.run`: run folders (``manifest.json`` + ``quarterly.parquet``), with its
  sections in :mod:`~sim.views.report.run_trends` (the trend figures and their captions),
  :mod:`~sim.views.report.run_targets` (the calibration targets against the run) and
  :mod:`~sim.views.report.run_segments` (the segment tables), over the folder read once
  (:mod:`~sim.views.report.run_data`);
* :mod:`sim.views.report.sweep`: sweep folders (``manifest.json`` + ``design.parquet`` +
  ``results.parquet``), with the analysis when ``analysis/`` exists;
* :mod:`sim.views.report.comparison`: comparison folders (``manifest.json`` + ``comparison.csv`` +
  ``comparison.parquet``).

Each report module declares its ``KIND`` (a test on the folder's files and a renderer);
``FOLDER_KINDS`` lists them in the order they are tried. HTML is built with the standard library
(``html.escape`` and f-strings). pandas, PyYAML and the package's own modules (palette, schema,
sweep analysis) are imported inside functions, so importing this package, and ``adoptsim
--help``, stay instant.
"""

from __future__ import annotations

from pathlib import Path

from sim.views.report import comparison, run, sweep
from sim.views.report.page import FolderKind
from sim.views.report.reading import ReportError
from sim.views.report.sweep import outcome_label
from sim.views.style import METRIC_LABELS

__all__ = ["FOLDER_KINDS", "METRIC_LABELS", "REPORT_NAME", "FolderKind", "ReportError",
           "build_report", "folder_kind", "outcome_label"]

REPORT_NAME = "report.html"

#: Checked in order; the first kind whose ``matches`` is true renders the folder.
FOLDER_KINDS: list[FolderKind] = [run.KIND, sweep.KIND, comparison.KIND]


def build_report(folder: str | Path, *, targets: str | Path | None = None) -> Path:
    """Render ``folder``'s report and write it to ``folder/report.html``; return that path.

    The folder kind is detected from its files (see ``FOLDER_KINDS``). ``targets`` is a targets
    file (read by :func:`sim.calibration.load_targets`) whose panel the run report's "targets
    against simulated values" section compares the run with; without it the section is left
    out. Raises :class:`ReportError` when the folder is missing or is not an output folder
    adoptsim knows, or when the targets file is missing or not valid.
    """
    from sim.running import storage

    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder}: no such folder")
    kind = folder_kind(folder)
    if kind is None:
        known = "; ".join(f"a {k.name} folder holds {k.holds}" for k in FOLDER_KINDS)
        raise ReportError(f"{folder}: not an adoptsim output folder ({known})")
    storage.output_folder(folder)
    page = kind.render(folder, targets=targets)
    return storage.write_text(folder / REPORT_NAME, page)


def folder_kind(folder: str | Path) -> FolderKind | None:
    """The kind of output ``folder`` holds, or None when it is none of ``FOLDER_KINDS``."""
    folder = Path(folder)
    return next((kind for kind in FOLDER_KINDS if kind.matches(folder)), None)
