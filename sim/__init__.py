"""adoptsim: an agent-based simulator of enterprise choices between closed AI model APIs,
self-hosted open-weight models and hybrid stacks.

The public functions are loaded on first use, so ``import sim`` (and ``adoptsim --help``) stays
instant::

    import sim
    result = sim.run_scenario("scenarios/baseline.yaml", replications=4)
    result.frame      # tidy DataFrame: scenario, replication, quarter, metric, segment, value
    result.folder     # the run folder

Sweeps, their analysis, comparisons and calibration the same way: ``sim.run_sweep``,
``sim.analyze_sweep``, ``sim.compare_scenarios``, ``sim.calibrate_scenario``.
"""

from sim.lazy import lazy_exports

_PUBLIC = {
    "run_scenario": "sim.workflows",
    "compare_scenarios": "sim.workflows",
    "calibrate_scenario": "sim.workflows",
    "run_sweep": "sim.sweep.sweep",
    "analyze_sweep": "sim.views.sweep_analysis",
    "RunResult": "sim.workflows",
    "load_scenario": "sim.core.scenario",
    "ScenarioError": "sim.core.settings_file",
    "scenario_hash": "sim.core.scenario",
    "Scenario": "sim.core.schema",
    "AdoptionModel": "sim.core.model",
    "run_replications": "sim.running.runner",
    "tidy": "sim.running.runner",
}

__getattr__, __all__ = lazy_exports(__name__, _PUBLIC)
