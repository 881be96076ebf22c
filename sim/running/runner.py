"""Running replications: seeds, the process pool, and the tidy table of results.

Each replication's seed is spawned from the scenario seed (``numpy.random.SeedSequence``), so
replication ``r`` gets the same draws whatever the number of workers or the order in which
workers finish. Workers return compact ``(quarters, metrics, segments)`` arrays, never Mesa
objects. Nothing here writes files or draws plots.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.core.metrics import METRICS, SEGMENTS
from sim.core.model import AdoptionModel
from sim.core.posterior import replication_scenario
from sim.core.schema import Scenario

SUMMARY_QUANTILES = {"p5": 0.05, "median": 0.5, "p95": 0.95}
MAX_WORKERS_PER_CORE = 4
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


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


def worker_initializer(parent: int) -> None:
    """Set up a pool worker: it leaves Ctrl-C to the parent, which stops the pool; it dies on
    SIGTERM (rather than running the handler it inherited from the command line); and, on
    Linux, the kernel kills it when its parent dies, even by SIGKILL, so no orphan keeps
    computing or holding files."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if sys.platform.startswith("linux"):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


class WorkerPool(ProcessPoolExecutor):
    """A process pool whose workers are forked from this process, so they start with the imports
    already done (importing Mesa sets the global start method to "spawn", which would re-import
    everything in every worker), and are set up by :func:`worker_initializer`. When the block
    using it ends with an exception (Ctrl-C, SIGTERM, an error), the pool is terminated: queued
    tasks are dropped and running ones killed rather than waited for."""

    def __init__(self, workers: int):
        super().__init__(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                         initializer=worker_initializer, initargs=(os.getpid(),))

    def __exit__(self, kind, error, trace):
        if error is not None:
            self.terminate()
        return super().__exit__(kind, error, trace)

    def terminate(self) -> None:
        """Kill the workers and shut the pool down now. It does not wait: a signal may have
        interrupted the pool's bookkeeping half-way, and the pool's own thread finds the workers
        dead and fails the tasks left (cancelling them here as well races with that thread)."""
        for process in list((self._processes or {}).values()):  # no public way before 3.14
            process.kill()
        self.shutdown(wait=False)


def process_pool(workers: int) -> WorkerPool:
    """A :class:`WorkerPool` of ``workers`` processes; use it as a context manager."""
    return WorkerPool(workers)


def default_workers() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def worker_count(requested: int | None, tasks: int, what: str) -> int:
    """How many worker processes to start for ``tasks`` tasks (``what`` names them):
    ``requested`` (default: all cores), but at most one per task and ``MAX_WORKERS_PER_CORE``
    per core. A request that is cut says so on stderr; one below 1 is a ValueError."""
    if requested is not None and requested < 1:
        raise ValueError(f"workers must be a positive whole number, not {requested!r}")
    cores = default_workers()
    count = max(1, min(requested or cores, tasks, MAX_WORKERS_PER_CORE * cores))
    if requested is not None and count < requested:
        reason = (f"there are only {tasks} {what} to run" if count == max(tasks, 1) else
                  f"that is the cap of {MAX_WORKERS_PER_CORE} per core on {cores} core(s)")
        print(f"adoptsim: note: using {count} worker processes, not {requested}: {reason}",
              file=sys.stderr)
    return count


@dataclass
class Replications:
    scenario: Scenario
    seeds: list[np.random.SeedSequence]
    values: np.ndarray   # (replications, quarters, metrics, segments)
    wall_seconds: float


def run_replications(scenario: Scenario, workers: int | None = None, progress=None) -> Replications:
    """Run ``scenario.replications`` replications of ``scenario`` with seeds from ``scenario.seed``.

    Replication ``i`` runs with posterior draw ``i`` when the scenario carries draws
    (:func:`sim.core.posterior.replication_scenario`). ``workers`` processes (default: all cores; 1 runs in this process). ``progress`` is called
    with the number of finished replications. Results are in replication order whatever the
    workers, so the output is identical for any worker count.
    """
    started = time.perf_counter()
    seeds = replication_seeds(scenario.seed, scenario.replications)
    workers = worker_count(workers, len(seeds), "replications")
    tasks = [(replication_scenario(scenario, index), seed) for index, seed in enumerate(seeds)]
    results = []
    if workers == 1:
        for task in tasks:
            results.append(_simulate_task(task))
            if progress:
                progress(len(results))
    else:
        with process_pool(workers) as pool:
            for result in pool.map(_simulate_task, tasks):
                results.append(result)
                if progress:
                    progress(len(results))
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
        "metric": np.array(METRICS, dtype=object)[metric],
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
