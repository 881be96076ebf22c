"""Running replications: seeds, the executor, and the tidy table of results.

Each replication's seed is spawned from the scenario seed (``numpy.random.SeedSequence``), so
replication ``r`` gets the same draws whatever the number of workers or the order in which
workers finish. Workers return compact ``(quarters, metrics, segments)`` arrays, never Mesa
objects. Nothing here writes files or draws plots.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.core.metric_table import METRIC_NAMES
from sim.core.metrics import SEGMENTS
from sim.core.model import AdoptionModel
from sim.core.posterior import replication_scenario
from sim.core.schema import Scenario
from sim.running.executors import make_executor, ordered_map

SUMMARY_QUANTILES = {"p5": 0.05, "median": 0.5, "p95": 0.95}


def replication_seeds(seed: int, replications: int) -> list[np.random.SeedSequence]:
    """The spawned seed of every replication."""
    return np.random.SeedSequence(seed).spawn(replications)


def simulate(scenario: Scenario, seed: int | np.random.SeedSequence, engine: str = "vectorized",
             quarters: int | None = None) -> np.ndarray:
    """One replication: build the model, run its first ``quarters`` (default all), return its
    metric values. Stopping early gives exactly the first quarters of the full run."""
    return AdoptionModel(scenario, seed=seed, engine=engine).run(quarters)


def _simulate_task(task: tuple[Scenario, np.random.SeedSequence]) -> np.ndarray:
    scenario, seed = task
    return simulate(scenario, seed)


@dataclass
class Replications:
    scenario: Scenario
    seeds: list[np.random.SeedSequence]
    values: np.ndarray   # (replications, quarters, metrics, segments)
    wall_seconds: float


def run_replications(scenario: Scenario, workers: int | None = None, progress=None, *,
                     executor: str = "local", scheduler: str | None = None) -> Replications:
    """Run ``scenario.replications`` replications of ``scenario`` with seeds from ``scenario.seed``.

    Replication ``i`` runs with posterior draw ``i`` when the scenario carries draws
    (:func:`sim.core.posterior.replication_scenario`). They run on ``executor`` ("local": a
    pool of ``workers`` processes, default all cores, 1 in this process; "dask": on
    ``scheduler``, or a local cluster of ``workers``; see
    :func:`sim.running.executors.make_executor`). ``progress`` is called with the number of
    finished replications. Results are in replication order whatever the executor and workers,
    so the output is identical for any of them.
    """
    started = time.perf_counter()
    seeds = replication_seeds(scenario.seed, scenario.replications)
    tasks = [(replication_scenario(scenario, index), seed) for index, seed in enumerate(seeds)]
    with make_executor(executor, workers=workers, scheduler=scheduler, tasks=len(tasks),
                       what="replications") as pool:
        results = ordered_map(pool, _simulate_task, tasks,
                              progress and (lambda done: done and progress(done)))
    return Replications(scenario=scenario, seeds=seeds, values=np.stack(results),
                        wall_seconds=time.perf_counter() - started)


def tidy(values: np.ndarray, scenario: Scenario) -> pd.DataFrame:
    """Long table: scenario, replication, quarter, metric, segment, value (NaN cells dropped),
    ordered by replication, quarter, metric, segment."""
    replication, quarter, metric, segment = np.nonzero(~np.isnan(values))
    quarters = np.array(scenario.quarters, dtype=object)
    return pd.DataFrame({
        "scenario": np.full(replication.size, scenario.name, dtype=object),
        "replication": replication.astype(np.int32),
        "quarter": quarters[quarter],
        "metric": np.array(METRIC_NAMES, dtype=object)[metric],
        "segment": np.array(SEGMENTS, dtype=object)[segment],
        "value": values[replication, quarter, metric, segment],
    })


def summarize(frame: pd.DataFrame, quarters: list[str]) -> pd.DataFrame:
    """Mean, median, 5% and 95% over replications of every metric and segment at ``quarters``."""
    selected = frame[frame["quarter"].isin(quarters)]
    grouped = selected.groupby(["metric", "segment", "quarter"], sort=True)["value"]
    summary = grouped.mean().rename("mean").to_frame()
    for name, q in SUMMARY_QUANTILES.items():
        summary[name] = grouped.quantile(q)
    return summary.reset_index()[["metric", "segment", "quarter", "mean", "median", "p5", "p95"]]
