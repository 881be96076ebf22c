"""Sweep benchmarks (not collected by pytest): throughput and peak memory.

Throughput, runs per second of a sweep of the baseline scenario with 1 and 2 local workers and
on a local Dask cluster of 2 workers (targets: 2 workers at least 1.8x one worker; local at most
1.2x Dask), and a check that all three give identical results; the measurement is
:func:`sim.sweep.benchmark.benchmark`, also run by ``adoptsim bench``::

    python tests/benchmarks/bench_sweep.py throughput --runs 200

Peak resident memory of the sweep process and of its largest worker, for a sweep of a small
population; run it for 500 and 5000 runs to see that memory stays flat in the number of runs::

    python tests/benchmarks/bench_sweep.py memory --runs 500
    python tests/benchmarks/bench_sweep.py memory --runs 5000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from sim.sweep import run_sweep
from sim.sweep.benchmark import RUNS, TARGET_LOCAL_OVER_DASK, TARGET_SPEEDUP, benchmark, sweep_file


def throughput(runs: int, enterprises: int | None, repeats: int) -> None:
    """Print :func:`sim.sweep.benchmark.benchmark`'s figures."""
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
    print(f"  2 workers / 1 worker: {result['speedup_2_over_1']:.2f}x (target >= {TARGET_SPEEDUP}x)")
    if result["local_2_over_dask"] is not None:
        print(f"  local / dask: {result['local_2_over_dask']:.2f}x "
              f"(target <= {TARGET_LOCAL_OVER_DASK}x)")
    print(f"  identical results.parquet: {result['identical_results']}")
    print(f"  load average during the benchmark: {result['load_average']:.1f} on {result['cpus']} cores")


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
