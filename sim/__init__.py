"""adoptsim: an agent-based simulator of enterprise choices between closed AI model APIs,
self-hosted open-weight models and hybrid stacks.

The public functions are loaded on first use, so ``import sim`` (and ``adoptsim --help``) stays
instant::

    import sim
    result = sim.run_scenario("scenarios/baseline.yaml", replications=4)
    result.frame      # tidy DataFrame: scenario, replication, quarter, metric, segment, value
    result.folder     # the run folder
"""

from importlib import import_module

_PUBLIC = {
    "run_scenario": "sim.workflows",
    "RunResult": "sim.workflows",
    "load_scenario": "sim.scenario",
    "ScenarioError": "sim.scenario",
    "scenario_hash": "sim.scenario",
    "Scenario": "sim.schema",
    "AdoptionModel": "sim.model",
    "run_replications": "sim.runner",
    "tidy": "sim.runner",
}

__all__ = sorted(_PUBLIC)


def __getattr__(name: str):
    if name in _PUBLIC:
        return getattr(import_module(_PUBLIC[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
