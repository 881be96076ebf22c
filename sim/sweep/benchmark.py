"""Sweep throughput: runs per second of a Latin-hypercube sweep of the baseline scenario.

:func:`benchmark` times the same 200-run sweep with 1 and 2 local worker processes and on a
local Dask cluster of 2 workers (:func:`sim.running.executors.local_cluster`, started by the
benchmark, its workers warm, if ``distributed`` is installed), checks that all give the same
``results.parquet`` bytes, and reports the speed-ups against the targets: 2 workers at least
``TARGET_SPEEDUP`` times one worker, local (2 workers) at most ``TARGET_LOCAL_OVER_DASK``
times Dask. ``adoptsim bench`` and ``tests/benchmarks/bench_sweep.py throughput`` call it.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import resource
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from sim.bench import BASELINE, median_range
from sim.running.executors import local_cluster
from sim.sweep.sweep import run_sweep

RUNS = 200
REPLICATIONS = 2
DASK_WORKERS = 2
TARGET_SPEEDUP = 1.8  # 2 local workers over 1
TARGET_LOCAL_OVER_DASK = 1.2  # 2 local workers over 2 Dask workers


def sweep_file(folder: Path, runs: int, settings: list[str]) -> Path:
    """An LHS sweep of ``runs`` runs (two replications per point) over two behaviour parameters."""
    path = folder / "bench.yaml"
    path.write_text(json.dumps({
        "name": "bench", "base": str(BASELINE), "set": settings,
        "parameters": {"behaviour.peer_weight": {"range": [0.0, 8.0]},
                       "behaviour.review_rate": {"range": [0.1, 0.5]}},
        "design": {"method": "lhs", "samples": runs // REPLICATIONS, "seed": 1},
        "replications": REPLICATIONS,
        "outcomes": ["workload_share_open_any@2030Q4", "stack_share_hybrid@2030Q4"],
    }), encoding="utf-8")
    return path


def cpu_seconds(who: int) -> float:
    """User plus system CPU seconds of this process or of its reaped children (``who``)."""
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


Timing = tuple[float, float, float | None, bytes]
"""Runs per second, CPU ms per run of this process and of reaped workers, results bytes."""


def timed(spec: Path, out: Path, **executor) -> Timing:
    """Runs per second, and CPU milliseconds per run of this process and of its (reaped) local
    worker processes, of one sweep; and its results.parquet bytes. A Dask cluster's workers
    outlive the sweep, so their CPU is not measured (None)."""
    cpu = cpu_seconds(resource.RUSAGE_SELF), cpu_seconds(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = run_sweep(spec, out=out, **executor)
    seconds = time.perf_counter() - started
    assert result.failed == 0 and result.executed == result.runs
    own = (cpu_seconds(resource.RUSAGE_SELF) - cpu[0]) * 1000 / result.runs
    workers = ((cpu_seconds(resource.RUSAGE_CHILDREN) - cpu[1]) * 1000 / result.runs
               if executor.get("executor", "local") == "local" else None)
    return result.runs / seconds, own, workers, (result.folder / "results.parquet").read_bytes()


@contextmanager
def running_cluster(workers: int):
    """A local Dask cluster already up, its workers warm (sim imported): the address."""
    import distributed

    with local_cluster(workers) as cluster, distributed.Client(cluster) as client:
        client.run(importlib.import_module, "sim.sweep.sweep")
        yield cluster.scheduler_address


def timed_configuration(spec: Path, out: Path, name: str) -> Timing:
    """:func:`timed` for one of the measured configurations: "local_1", "local_2" or "dask_2"
    (on its own cluster, started before and stopped after the timed sweep)."""
    if name == "dask_2":
        with running_cluster(DASK_WORKERS) as address:
            return timed(spec, out, executor="dask", scheduler=address)
    return timed(spec, out, workers={"local_1": 1, "local_2": 2}[name])


def benchmark(runs: int = RUNS, enterprises: int | None = None, repeats: int = 3) -> dict:
    """Runs per second of an LHS sweep of ``runs`` runs of the baseline (``enterprises`` per
    population, default the baseline's): 1 and 2 local workers and Dask on its own 2-worker
    ``LocalCluster``, each the median (with min and max) of ``repeats`` sweeps. The
    configurations take turns (1, 2, Dask, 1, 2, Dask, ...), so a change in the machine's
    load while the benchmark runs affects all of them alike.

    Returns a JSON-ready dict: ``local_1``, ``local_2`` and ``dask_2`` (runs per second and CPU
    milliseconds per run, of this process and of reaped local workers; ``dask_2`` is a "not
    available" string without ``distributed``), ``speedup_2_over_1``, ``local_2_over_dask``
    (None without Dask), ``identical_results`` (results.parquet bytes equal across executors
    and repeats), and the load average and core count.
    """
    settings = [f"population.enterprises={enterprises}"] if enterprises else []
    result = {"runs": runs, "enterprises": enterprises, "repeats": repeats,
              "dask_workers": DASK_WORKERS}
    names = ["local_1", "local_2"]
    if importlib.util.find_spec("distributed") is None:
        result["dask_2"] = "not available: the distributed package is not installed"
    else:
        names.append("dask_2")
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        spec = sweep_file(folder, runs, settings)
        sweeps = {name: [] for name in names}
        for index in range(repeats):
            for name in names:
                sweeps[name].append(timed_configuration(spec, folder / f"{name}-{index}", name))
    for name, measured in sweeps.items():
        rates, own, workers, _ = zip(*measured)
        result[name] = {
            "runs_per_second": median_range(rates), "cpu_ms_per_run_own": median_range(own),
            "cpu_ms_per_run_workers": None if None in workers else median_range(workers)}
    rate = {name: result[name]["runs_per_second"]["median"] for name in names}
    result["speedup_2_over_1"] = rate["local_2"] / rate["local_1"]
    result["local_2_over_dask"] = rate["local_2"] / rate["dask_2"] if "dask_2" in rate else None
    result["identical_results"] = len({output for measured in sweeps.values()
                                       for *_, output in measured}) == 1
    result["load_average"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result["cpus"] = os.cpu_count()
    return result
