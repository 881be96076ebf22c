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
import json
import resource
import tempfile
import time
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


def timed(spec: Path, out: Path, **executor) -> tuple[float, bytes]:
    started = time.perf_counter()
    result = run_sweep(spec, out=out, **executor)
    seconds = time.perf_counter() - started
    assert result.failed == 0 and result.executed == result.runs
    return result.runs / seconds, (result.folder / "results.parquet").read_bytes()


def throughput(runs: int, enterprises: int | None) -> None:
    settings = [f"population.enterprises={enterprises}"] if enterprises else []
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        spec = sweep_file(folder, runs, settings)
        one, reference = timed(spec, folder / "one", workers=1)
        two, parallel = timed(spec, folder / "two", workers=2)
        dask, on_dask = timed(spec, folder / "dask", executor="dask", workers=2)
    print(f"sweep of {runs} runs of the baseline"
          + (f" ({enterprises} enterprises)" if enterprises else "") + ", runs per second:")
    print(f"  local, 1 worker : {one:.3f}")
    print(f"  local, 2 workers: {two:.3f}  (speed-up {two / one:.2f}x; target >= 1.8x)")
    print(f"  dask,  2 workers: {dask:.3f}  (local / dask {two / dask:.2f}x; target <= 1.2x)")
    print(f"  identical results.parquet: {reference == parallel == on_dask}")


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
