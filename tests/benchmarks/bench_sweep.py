"""Sweep benchmarks (not collected by pytest): throughput and peak memory.

Throughput, :func:`benchmark`: runs per second of the same Latin-hypercube sweep of the baseline
with 1 and 2 local worker processes and on a local Dask cluster of 2 workers
(:func:`sim.running.executors.local_cluster`, started by the benchmark, its workers warm, if
``distributed`` is installed), checking that all give the same ``results.parquet`` bytes; the
speed-ups are printed against their targets (``TARGET_SPEEDUP``, ``TARGET_LOCAL_OVER_DASK``).
``adoptsim bench`` (:mod:`run`) runs it too::

    python tests/benchmarks/bench_sweep.py throughput --runs 200

Peak resident memory of the sweep process and of its largest worker, for a sweep of a small
population; run it for 500 and 5000 runs to see that memory stays flat in the number of runs::

    python tests/benchmarks/bench_sweep.py memory --runs 500
    python tests/benchmarks/bench_sweep.py memory --runs 5000
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import resource
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from common import BASELINE, median_range

from sim.running.executors import local_cluster
from sim.sweep import run_sweep

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


def throughput(runs: int, enterprises: int | None, repeats: int) -> None:
    """Print :func:`benchmark`'s figures."""
    result = benchmark(runs, enterprises, repeats)
    print(f"sweep of {runs} runs of the baseline"
          + (f" ({enterprises} enterprises)" if enterprises else "")
          + f", median (min-max) of {repeats}:")
    for name, label in (("local_1", "local, 1 worker "), ("local_2", "local, 2 workers"),
                        ("dask_2", "dask,  2 workers")):
        figures = result[name]
        if isinstance(figures, str):
            print(f"  {label}: {figures}")
            continue
        rate, own, workers = (figures[key] for key in ("runs_per_second", "cpu_ms_per_run_own",
                                                       "cpu_ms_per_run_workers"))
        in_workers = "" if workers is None else f", {workers['median']:.0f} ms in reaped workers"
        print(f"  {label}: {rate['median']:.3f} runs/s ({rate['min']:.3f}-{rate['max']:.3f})   "
              f"CPU per run: {own['median']:.0f} ms in this process{in_workers}")
    print(
        f"  2 workers / 1 worker: {result['speedup_2_over_1']:.2f}x (target >= {TARGET_SPEEDUP}x)"
    )
    if result["local_2_over_dask"] is not None:
        print(f"  local / dask: {result['local_2_over_dask']:.2f}x "
              f"(target <= {TARGET_LOCAL_OVER_DASK}x)")
    print(f"  identical results.parquet: {result['identical_results']}")
    print(
        f"  load average during the benchmark: {result['load_average']:.1f} "
        f"on {result['cpus']} cores"
    )


def memory(runs: int, workers: int) -> None:
    settings = ["population.enterprises=100"]
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        started = time.perf_counter()
        result = run_sweep(sweep_file(folder, runs, settings), out=folder, workers=workers)
        seconds = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        f"sweep of {result.runs} runs of the baseline with 100 enterprises, {workers} workers, "
        f"{seconds:.0f} s: peak RSS {own:.0f} MiB (sweep process), "
        f"{worker:.0f} MiB (largest worker)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("throughput", "memory"))
    parser.add_argument("--runs", type=int, default=RUNS)
    parser.add_argument("--enterprises", type=int, help="throughput: population size "
                        "(default: the baseline's)")
    parser.add_argument("--workers", type=int, default=2, help="memory: worker processes")
    parser.add_argument("--repeats", type=int, default=3, help="throughput: sweeps per figure")
    args = parser.parse_args()
    if args.what == "throughput":
        throughput(args.runs, args.enterprises, args.repeats)
    else:
        memory(args.runs, args.workers)


if __name__ == "__main__":
    main()
