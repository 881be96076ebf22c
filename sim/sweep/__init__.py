"""Batch sweeps: experiment designs over scenario parameters, run locally or on Dask, resumable.

The layers, each its own module (the sweep layer knows nothing of analysis or plotting, which
live in :mod:`sim.analysis`):

* :mod:`sim.sweep.spec`: the sweep file's schema, outcomes (``metric[segment]@quarter``) and
  conditions;
* :mod:`sim.sweep.design`: grid, Latin hypercube, Sobol (Saltelli) and Morris designs; run seeds;
* :mod:`sim.running.executors`: one interface over a local process pool and a Dask cluster;
* :mod:`sim.sweep.store`: run files, failure records, and the results table streamed from them;
* :mod:`sim.sweep.lock`: one sweep at a time in a folder, and a dead owner's lock taken over;
* :mod:`sim.sweep.sweep`: the orchestrator, :func:`run_sweep`;
* :mod:`sim.sweep.progress`: the progress bar or log lines of the command line.

From Python (a notebook), the same as ``adoptsim sweep``::

    from sim.sweep import run_sweep
    result = run_sweep("scenarios/sweeps/watch-grid.yaml", workers=2)
    result.folder     # outputs/sweeps/watch-grid/<hash8>/, with results.parquet

Names are loaded on first use, so importing the package costs nothing until then.
"""

from sim.lazy import lazy_exports

_PUBLIC = {
    "run_sweep": "sim.sweep.sweep",
    "load_sweep": "sim.sweep.sweep",
    "plan_runs": "sim.sweep.sweep",
    "Sweep": "sim.sweep.sweep",
    "SweepResult": "sim.sweep.sweep",
    "SweepError": "sim.sweep.spec",
    "SweepSpec": "sim.sweep.spec",
    "load_sweep_spec": "sim.sweep.spec",
    "parse_outcome": "sim.sweep.spec",
    "parse_condition": "sim.sweep.spec",
    "Design": "sim.sweep.design",
    "build_design": "sim.sweep.design",
    "make_executor": "sim.running.executors",
    "SweepStore": "sim.sweep.store",
    "ProgressReporter": "sim.sweep.progress",
}

__getattr__, __all__ = lazy_exports(__name__, _PUBLIC)
