"""``adoptsim analyze`` (``sim.analyze_sweep``): a sweep's analysis as readers get it.

The tables (:func:`sim.analysis.analyze_tables`), then the figures drawn from them
(:func:`sim.views.figures.sweep.plot_analysis`), all in the sweep folder's ``analysis/``, then the
folder's ``report.html`` rebuilt with them (:func:`sim.views.report.build_report`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sim.analysis.analyze import SweepAnalysis, analyze_tables
from sim.sweep.spec import PrimSpec


def analyze_sweep(folder: str | Path, *, prim: Sequence[str | PrimSpec] = (), plots: bool = True,
                  seed: int = 0) -> SweepAnalysis:
    """Analyse a finished sweep folder into its ``analysis/`` folder: tables, figures (unless
    ``plots`` is false), then (re)build the folder's ``report.html`` with the results.
    ``prim`` adds conditions to those of the sweep file, e.g.
    ``"workload_share_open_any@2030Q4 >= 0.25"``; ``seed`` seeds the bootstrap intervals."""
    from sim.views.report import build_report

    analysis = analyze_tables(folder, prim=prim, seed=seed)
    if plots:
        from sim.views.figures.sweep import plot_analysis

        analysis.files += plot_analysis(analysis)
    analysis.files.append(build_report(analysis.data.folder))
    return analysis
