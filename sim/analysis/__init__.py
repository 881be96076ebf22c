"""Analysis of finished sweeps: sensitivity (SALib), point summaries and scenario discovery (PRIM).

* :mod:`sim.analysis.data`: a sweep folder read back (:func:`load_sweep_data`);
* :mod:`sim.analysis.sensitivity`: :func:`sobol` and :func:`morris`, one call signature;
* :mod:`sim.analysis.prim`: :func:`find_box` on any table, :func:`discover` on a sweep;
* :mod:`sim.analysis.analyze`: :func:`analyze_tables`, the tables of ``analysis/``.

The figures and the report are views (:mod:`sim.views.figures.sweep`, :mod:`sim.views.report`);
``sim.analyze_sweep`` (:mod:`sim.views.sweep_analysis`) writes tables, figures and report, as
``adoptsim analyze`` does. From Python (a notebook)::

    import sim
    from sim.analysis import load_sweep_data, discover
    analysis = sim.analyze_sweep("outputs/sweeps/watch-grid/1a2b3c4d")
    data = load_sweep_data("outputs/sweeps/watch-grid/1a2b3c4d")
    box = discover(data, "workload_share_open_any@2030Q4 >= 0.25")
    box.trajectory, box.box()

Names are loaded on first use, so importing the package costs nothing until then. Nothing here
imports :mod:`sim.views`.
"""

from sim.lazy import lazy_exports

_PUBLIC = {
    "analyze_tables": "sim.analysis.analyze",
    "point_summary": "sim.analysis.analyze",
    "SweepAnalysis": "sim.analysis.analyze",
    "load_sweep_data": "sim.analysis.data",
    "SweepData": "sim.analysis.data",
    "sobol": "sim.analysis.sensitivity",
    "morris": "sim.analysis.sensitivity",
    "sensitivity_table": "sim.analysis.sensitivity",
    "find_box": "sim.analysis.prim",
    "discover": "sim.analysis.prim",
    "PrimResult": "sim.analysis.prim",
}

__getattr__, __all__ = lazy_exports(__name__, _PUBLIC)
