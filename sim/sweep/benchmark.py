"""Sweep throughput: runs per second of a Latin-hypercube sweep of the baseline scenario.

:func:`benchmark` times the same sweep with 1 and 2 local worker processes and on a local Dask
cluster of 2 workers (started by the benchmark, its workers warm, if ``distributed`` is
installed), checks that all give the same ``results.parquet`` bytes, and reports the speed-ups
(targets: 2 workers at least 1.8x one worker; local within 1.2x of Dask). ``adoptsim bench``
and ``tests/benchmarks/bench_sweep.py throughput`` call it.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import logging
import os
import resource
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from sim.bench import BASELINE, median_range
from sim.sweep.sweep import run_sweep

REPLICATIONS = 2
DASK_WORKERS = 2


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


def timed(spec: Path, out: Path, **executor) -> tuple[float, float, float, bytes]:
    """Runs per second, and CPU milliseconds per run of this process and of its (reaped)
    worker processes, of one sweep; and its results.parquet bytes."""
    cpu = cpu_seconds(resource.RUSAGE_SELF), cpu_seconds(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    result = run_sweep(spec, out=out, **executor)
    seconds = time.perf_counter() - started
    assert result.failed == 0 and result.executed == result.runs
    own = (cpu_seconds(resource.RUSAGE_SELF) - cpu[0]) * 1000 / result.runs
    workers = (cpu_seconds(resource.RUSAGE_CHILDREN) - cpu[1]) * 1000 / result.runs
    return result.runs / seconds, own, workers, (result.folder / "results.parquet").read_bytes()


@contextmanager
def running_cluster(workers: int):
    """A local Dask cluster already up, its workers warm (sim imported): the address."""
    import distributed

    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, host="127.0.0.1",
                                  dashboard_address=None, silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster) as client:
        client.run(importlib.import_module, "sim.sweep.sweep")
        yield cluster.scheduler_address


def _repeat(spec: Path, folder: Path, name: str, repeats: int, **executor) -> tuple[dict, set]:
    """``repeats`` timed sweeps, each into a new folder: the figures and the distinct results."""
    times = [timed(spec, folder / f"{name}-{index}", **executor) for index in range(repeats)]
    return {"runs_per_second": median_range([t[0] for t in times]),
            "cpu_ms_per_run_own": median_range([t[1] for t in times]),
            "cpu_ms_per_run_workers": median_range([t[2] for t in times])}, {t[3] for t in times}


def benchmark(runs: int = 60, enterprises: int | None = None, repeats: int = 3) -> dict:
    """Runs per second of an LHS sweep of ``runs`` runs of the baseline (``enterprises`` per
    population, default the baseline's): 1 and 2 local workers and Dask on its own 2-worker
    ``LocalCluster``, each the median (with min and max) of ``repeats`` sweeps.

    Returns a JSON-ready dict: ``local_1``, ``local_2`` and ``dask_2`` (runs per second and CPU
    milliseconds per run, of this process and of reaped workers; ``dask_2`` is a "not
    available" string without ``distributed``), ``speedup_2_over_1``, ``local_2_over_dask``
    (None without Dask), ``identical_results`` (results.parquet bytes equal across executors
    and repeats), and the load average and core count.
    """
    settings = [f"population.enterprises={enterprises}"] if enterprises else []
    result = {"runs": runs, "enterprises": enterprises, "repeats": repeats,
              "dask_workers": DASK_WORKERS}
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        spec = sweep_file(folder, runs, settings)
        result["local_1"], outputs = _repeat(spec, folder, "one", repeats, workers=1)
        result["local_2"], more = _repeat(spec, folder, "two", repeats, workers=2)
        outputs |= more
        if importlib.util.find_spec("distributed") is None:
            result["dask_2"] = "not available: the distributed package is not installed"
        else:
            with running_cluster(DASK_WORKERS) as address:
                result["dask_2"], more = _repeat(spec, folder, "dask", repeats,
                                                 executor="dask", scheduler=address)
            outputs |= more
    rate = {name: result[name]["runs_per_second"]["median"]
            for name in ("local_1", "local_2", "dask_2") if isinstance(result[name], dict)}
    result["speedup_2_over_1"] = rate["local_2"] / rate["local_1"]
    result["local_2_over_dask"] = rate["local_2"] / rate["dask_2"] if "dask_2" in rate else None
    result["identical_results"] = len(outputs) == 1
    result["load_average"] = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    result["cpus"] = os.cpu_count()
    return result
