"""Sweep benchmarks (not collected by pytest): throughput and peak memory.

Throughput, runs per second of a sweep of the baseline scenario with 1 and 2 local workers and
on a local Dask cluster of 2 workers (targets: 2 workers at least 1.8x one worker; Dask within
1.2x of local), and a check that all three give identical results::

    python tests/benchmarks/bench_sweep.py throughput --runs 200

Peak resident memory of the sweep process and of its largest worker, for a sweep of a small
population; run it for 500 and 5000 runs to see that memory stays flat in the number of runs::

    python tests/benchmarks/bench_sweep.py memory --runs 500
    python tests/benchmarks/bench_sweep.py memory --runs 5000
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import os
import resource
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from sim.sweep import run_sweep

BASELINE = Path(__file__).resolve().parents[2] / "scenarios" / "baseline.yaml"
REPLICATIONS = 2


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


def throughput(runs: int, enterprises: int | None) -> None:
    settings = [f"population.enterprises={enterprises}"] if enterprises else []
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        spec = sweep_file(folder, runs, settings)
        one = timed(spec, folder / "one", workers=1)
        two = timed(spec, folder / "two", workers=2)
        dask = timed(spec, folder / "dask", executor="dask", workers=2)
        with running_cluster(2) as address:
            warm = timed(spec, folder / "warm", executor="dask", scheduler=address)
    print(f"sweep of {runs} runs of the baseline"
          + (f" ({enterprises} enterprises)" if enterprises else "") + ", runs per second:")
    print(f"  local, 1 worker : {one[0]:.3f}   CPU per run: {one[1]:.0f} ms (all in this process)")
    print(f"  local, 2 workers: {two[0]:.3f}   CPU per run: {two[1]:.0f} ms in this process, "
          f"{two[2]:.0f} ms in workers (speed-up {two[0] / one[0]:.2f}x; target >= 1.8x)")
    print(f"  dask,  2 workers: {dask[0]:.3f}   CPU per run: {dask[1]:.0f} ms in this process "
          f"(local / dask {two[0] / dask[0]:.2f}x; target <= 1.2x)")
    print(f"  dask on a running 2-worker cluster (--scheduler): {warm[0]:.3f}   "
          f"(local / dask {two[0] / warm[0]:.2f}x)")
    print(f"  identical results.parquet: {one[3] == two[3] == dask[3] == warm[3]}")
    print(f"  load average during the benchmark: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def memory(runs: int, workers: int) -> None:
    settings = ["population.enterprises=100"]
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        started = time.perf_counter()
        result = run_sweep(sweep_file(folder, runs, settings), out=folder, workers=workers)
        seconds = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"sweep of {result.runs} runs of the baseline with 100 enterprises, {workers} workers, "
          f"{seconds:.0f} s: peak RSS {own:.0f} MiB (sweep process), {worker:.0f} MiB (largest worker)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("throughput", "memory"))
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--enterprises", type=int, help="throughput: population size "
                        "(default: the baseline's)")
    parser.add_argument("--workers", type=int, default=2, help="memory: worker processes")
    args = parser.parse_args()
    if args.what == "throughput":
        throughput(args.runs, args.enterprises)
    else:
        memory(args.runs, args.workers)


if __name__ == "__main__":
    main()
