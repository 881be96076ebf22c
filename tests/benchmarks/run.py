"""Benchmarks: how fast the model runs, at what size, in how much memory (not run by pytest).

``adoptsim bench`` (from a checkout) and ``python tests/benchmarks/run.py`` run :func:`main`::

    python tests/benchmarks/run.py                      # 2,000-100,000 enterprises, 3 runs each
    python tests/benchmarks/run.py --sizes 2000,10000 --repeats 5 --out bench.json
    python tests/benchmarks/run.py --markdown           # the table as Markdown

:func:`run_benchmarks` measures, each figure as the median (with min and max) of ``repeats``
runs:

* for populations of 2,000 to 100,000 enterprises over the scenario's horizon (2024Q1-2030Q4,
  28 quarters), one replication each: wall time of set-up (population, network, Mesa agents, the
  burn-in) and of the reported quarters separately, time per workload-quarter, peak resident
  memory. Each size runs in a fresh Python process pinned to one CPU core, so peak memory is per
  size and the figures are one-core figures; the repeats also check determinism (same seed, same
  metrics);
* the per-agent reference path (``Enterprise.decide``) against the vectorized kernel on 2,000
  enterprises: the time of the quarter's decisions (steps "utilities", "intentions" and
  "choice") of each, on the same quarters, checking that both reach identical deployments,
  stacks and plans;
* ``adoptsim --help`` start-up time;
* sweep throughput, :func:`bench_sweep.benchmark`: a sweep of the baseline with 1 and 2 local
  workers and on a 2-worker Dask cluster (in a fresh process not pinned to a core, as the
  sweep's workers need all of them);
* the explorer's redraw, :func:`bench_explorer.benchmark`: a changed control at the page's size
  with the reference cached, in process and on a pool, and the cold first draw (in a fresh
  process not pinned to a core).

The result is a dict (see :func:`run_benchmarks`) written as JSON, and :func:`format_table`
prints it with the targets (the ``TARGET_`` constants) and whether each is met. The module
imports nothing heavy at load.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

from common import BASELINE, median_range

SIZES = (2000, 10_000, 50_000, 100_000)
REPEATS = 3
REFERENCE_ENTERPRISES = 2000
REFERENCE_QUARTERS = 4
SEED = 20250101

# The targets (on one core of a 2-core machine).
TARGET_LARGEST_SECONDS = 5.0        # 100,000 enterprises, set-up included
TARGET_LARGEST_MEMORY_MIB = 1536.0  # 1.5 GiB
TARGET_SCALING = 12.0               # 100,000 enterprises at most 12x the time of 10,000
TARGET_BASELINE_SECONDS = 0.15      # 2,000 enterprises, after import
TARGET_KERNEL_RATIO = 30.0          # vectorized kernel vs per-agent reference
TARGET_HELP_SECONDS = 0.5


def _idlest_cpu() -> int | None:
    """The allowed CPU with the most idle time over a short sample (Linux), else the first."""
    if not hasattr(os, "sched_getaffinity"):
        return None
    allowed = sorted(os.sched_getaffinity(0))

    def idle() -> dict[int, int]:
        times = {}
        try:
            for line in Path("/proc/stat").read_text().splitlines():
                name, *fields = line.split()
                if name.startswith("cpu") and name[3:].isdigit():
                    times[int(name[3:])] = int(fields[3]) + int(fields[4])
        except OSError:
            pass
        return times

    before = idle()
    time.sleep(0.3)
    after = idle()
    if not before or not after:
        return allowed[0]
    return max(allowed, key=lambda cpu: after.get(cpu, 0) - before.get(cpu, 0))


def _pin(cpu: int | None) -> None:
    if cpu is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {cpu})


def _peak_rss_mib() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 / 1024 if sys.platform == "darwin" else peak / 1024


# --- measurements, each run in a fresh process ----------------------------------------------------

def _measure_size(enterprises: int, repeats: int, scenario: str, seed: int) -> dict:
    """One population size: ``repeats`` replications (same seed) in this process."""
    started = time.perf_counter()
    import gc

    import numpy as np

    from sim.core.model import AdoptionModel
    from sim.core.scenario import load_scenario

    imported = time.perf_counter() - started
    loaded = load_scenario(scenario, [f"population.enterprises={enterprises}"])
    setup, quarters, values = [], [], None
    deterministic = True
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        model = AdoptionModel(loaded, seed=seed)
        t1 = time.perf_counter()
        result = model.run()
        t2 = time.perf_counter()
        setup.append(t1 - t0)
        quarters.append(t2 - t1)
        if values is None:
            values = result
        else:
            deterministic &= bool(np.array_equal(values, result, equal_nan=True))
        arrival = model.population.arrival_quarter
        workloads = int(arrival.size)
        workload_quarters = int(
            sum(np.count_nonzero(arrival <= q) for q in range(model.quarter_count))
        )
        reported = model.quarter_count
        del model, result
    total = [s + q for s, q in zip(setup, quarters)]
    return {
        "enterprises": enterprises, "workloads": workloads, "quarters": reported,
        "horizon": f"{loaded.horizon.start}-{loaded.horizon.end}",
        "burn_in_quarters": loaded.burn_in_quarters,
        "workload_quarters": workload_quarters, "import_s": imported,
        "setup_s": median_range(setup), "quarters_s": median_range(quarters),
        "total_s": median_range(total),
        "per_workload_quarter_us": median_range([q / workload_quarters * 1e6 for q in quarters]),
        "peak_rss_mib": _peak_rss_mib(),   # of the process: the largest of its runs
        "deterministic": deterministic,
    }


def _timed_model(scenario, seed: int):
    """An :class:`~sim.core.model.AdoptionModel` that records how long each
    :meth:`~sim.core.model.AdoptionModel.decide` takes in ``decision_seconds`` (from when the
    list is set: the burn-in is not timed)."""
    from sim.core.model import AdoptionModel

    class TimedDecisions(AdoptionModel):
        decision_seconds: list[float] | None = None

        def decide(self, context, outlook):
            started = time.perf_counter()
            decision = super().decide(context, outlook)
            if self.decision_seconds is not None:
                self.decision_seconds.append(time.perf_counter() - started)
            return decision

    model = TimedDecisions(scenario, seed=seed)
    model.decision_seconds = []
    return model


def _measure_reference(enterprises: int, quarters: int, repeats: int, scenario: str,
                       seed: int) -> dict:
    """Decision time of the reference path against the kernel on the same quarters.

    Two models with the same seed run the burn-in on the kernel; then one decides by
    ``Enterprise.decide`` and each quarter's decisions (steps "utilities", "intentions" and
    "choice") are timed in both, and their deployments, stacks and plans compared."""
    import numpy as np

    from sim.core.scenario import load_scenario

    loaded = load_scenario(scenario, [f"population.enterprises={enterprises}"])
    fast_times, slow_times, ratios, identical = [], [], [], True
    for _ in range(repeats):
        fast, slow = _timed_model(loaded, seed), _timed_model(loaded, seed)
        slow.engine = "reference"
        for _ in range(quarters):
            fast.step()
            slow.step()
            identical &= bool(np.array_equal(fast.deployment, slow.deployment)
                              and np.array_equal(fast.stack, slow.stack)
                              and np.array_equal(fast.plans_to_expand, slow.plans_to_expand))
        fast_times.append(sum(fast.decision_seconds))
        slow_times.append(sum(slow.decision_seconds))
        ratios.append(slow_times[-1] / fast_times[-1])
    return {
        "enterprises": enterprises,
        "quarters": quarters,
        "vectorized_s": median_range(fast_times),
        "reference_s": median_range(slow_times),
        "ratio": median_range(ratios),
        "identical": identical,
    }


def _measure_sweep(repeats: int) -> dict:
    """Sweep throughput (:func:`bench_sweep.benchmark`)."""
    from bench_sweep import benchmark

    return benchmark(repeats=repeats)


def _measure_explorer(repeats: int) -> dict:
    """The explorer's redraw and first draw (:func:`bench_explorer.benchmark`)."""
    from bench_explorer import benchmark

    return benchmark(repeats=repeats)


_WORKERS = {"size": _measure_size, "reference": _measure_reference, "sweep": _measure_sweep,
            "explorer": _measure_explorer}


def _in_fresh_process(kind: str, cpu: int | None, **arguments) -> dict | str:
    """Run one measurement in a new Python process (pinned to ``cpu``) that imports the same
    ``sim`` as this one; return its JSON."""
    import sim

    path = [str(Path(sim.__file__).resolve().parents[1]), os.environ.get("PYTHONPATH", "")]
    environment = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1",
                       MKL_NUM_THREADS="1", PYTHONHASHSEED="0",
                       PYTHONPATH=os.pathsep.join(filter(None, path)))
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", kind,
               *([] if cpu is None else ["--cpu", str(cpu)]), json.dumps(arguments)]
    completed = subprocess.run(command, capture_output=True, text=True, env=environment,
                               check=False)
    if completed.returncode != 0:
        raise RuntimeError(f"benchmark worker {kind} {arguments} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _help_startup(repeats: int, cpu: int | None) -> dict:
    """Wall time of ``adoptsim --help`` (the installed console script if found, else
    ``python -m sim --help``)."""
    script = shutil.which("adoptsim", path=os.pathsep.join(
        [str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    command = [script, "--help"] if script else [sys.executable, "-m", "sim", "--help"]
    pin = (lambda: _pin(cpu)) if cpu is not None else None
    seconds = []
    for _ in range(max(repeats, 5)):
        t0 = time.perf_counter()
        subprocess.run(command, capture_output=True, check=True, preexec_fn=pin)
        seconds.append(time.perf_counter() - t0)
    return {
        "command": " ".join([Path(command[0]).name, *command[1:]]),
        "seconds": median_range(seconds),
    }


def _machine(cpu: int | None) -> dict:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    versions = {}
    for package in ("numpy", "mesa", "networkx", "scipy"):
        try:
            from importlib.metadata import version

            versions[package] = version(package)
        except Exception:  # noqa: BLE001 - a missing package is reported as such
            versions[package] = None
    return {"cpu": model, "logical_cpus": os.cpu_count(), "pinned_cpu": cpu,
            "memory_gib": memory, "os": platform.platform(), "python": platform.python_version(),
            **versions}


def _load() -> list[float] | None:
    return list(os.getloadavg()) if hasattr(os, "getloadavg") else None


def _targets(result: dict) -> list[dict]:
    by_size = {row["enterprises"]: row for row in result["sizes"]}
    targets = []

    def add(name, target, value, met, unit):
        targets.append({"target": name, "limit": target, "value": value, "unit": unit,
                        "met": None if value is None else bool(met)})

    largest = by_size.get(100_000)
    add("100,000 enterprises, set-up + 28 quarters", TARGET_LARGEST_SECONDS,
        largest and largest["total_s"]["median"],
        largest and largest["total_s"]["median"] < TARGET_LARGEST_SECONDS, "s")
    add("100,000 enterprises, peak memory", TARGET_LARGEST_MEMORY_MIB,
        largest and largest["peak_rss_mib"],
        largest and largest["peak_rss_mib"] < TARGET_LARGEST_MEMORY_MIB, "MiB")
    small = by_size.get(10_000)
    ratio = (
        (largest["total_s"]["median"] / small["total_s"]["median"]) if largest and small else None
    )
    add("time of 100,000 over time of 10,000 enterprises", TARGET_SCALING, ratio,
        ratio is not None and ratio <= TARGET_SCALING, "x")
    baseline = by_size.get(2000)
    add("2,000 enterprises (baseline), after import", TARGET_BASELINE_SECONDS,
        baseline and baseline["total_s"]["median"],
        baseline and baseline["total_s"]["median"] < TARGET_BASELINE_SECONDS, "s")
    reference = result.get("reference")
    kernel = reference and reference["ratio"]["median"]
    add("kernel speed-up over the per-agent reference, identical deployments",
        TARGET_KERNEL_RATIO, kernel,
        kernel is not None and kernel >= TARGET_KERNEL_RATIO and reference["identical"], "x")
    startup = result.get("startup")
    seconds = startup and startup["seconds"]["median"]
    add("adoptsim --help", TARGET_HELP_SECONDS, seconds,
        seconds is not None and seconds < TARGET_HELP_SECONDS, "s")
    from bench_sweep import TARGET_LOCAL_OVER_DASK, TARGET_SPEEDUP

    sweep = result.get("sweep") if isinstance(result.get("sweep"), dict) else {}
    speedup, dask = sweep.get("speedup_2_over_1"), sweep.get("local_2_over_dask")
    add("sweep: 2 local workers over 1", TARGET_SPEEDUP, speedup,
        speedup is not None and speedup >= TARGET_SPEEDUP, "x")
    add("sweep: 2 local workers over 2 Dask workers", TARGET_LOCAL_OVER_DASK, dask,
        dask is not None and dask <= TARGET_LOCAL_OVER_DASK, "x")
    from bench_explorer import TARGET_REDRAW_SECONDS

    explorer = result.get("explorer") if isinstance(result.get("explorer"), dict) else {}
    redraw = (explorer.get("redraw_page_s") or explorer.get("redraw_s", {})).get("median")
    add("explorer redraw: one changed control, reference cached, 8 x 1,000 enterprises"
        + (", fan charts drawn" if explorer.get("redraw_page_s") else ""),
        TARGET_REDRAW_SECONDS, redraw, redraw is not None and redraw < TARGET_REDRAW_SECONDS, "s")
    return targets


def run_benchmarks(sizes=SIZES, repeats: int = REPEATS, out: str | Path | None = None, *,
                   scenario: str | Path = BASELINE, seed: int = SEED, cpu: int | None = None,
                   reference_enterprises: int = REFERENCE_ENTERPRISES,
                   reference_quarters: int = REFERENCE_QUARTERS, sweep: bool = True,
                   explorer: bool = True, command: str | None = None, progress=None) -> dict:
    """Run every benchmark; write the result as JSON to ``out`` (default
    ``outputs/bench/bench-<timestamp>.json``, UTC; the empty string to skip) and return it.

    ``cpu`` pins the measuring processes to that core (default: the idlest allowed core);
    ``progress`` is called with a line of text as each measurement finishes.
    """
    from sim.running import provenance, storage

    def say(text: str) -> None:
        if progress:
            progress(text)

    started = time.perf_counter()
    cpu = _idlest_cpu() if cpu is None else cpu
    moment = provenance.now()
    result = {"schema": "adoptsim-bench/1", **provenance.record(command=command, moment=moment),
              "machine": _machine(cpu), "load_before": _load(),
              "scenario": str(scenario), "seed": seed, "repeats": repeats, "sizes": []}
    for enterprises in sizes:
        row = _in_fresh_process("size", cpu, enterprises=enterprises, repeats=repeats,
                                scenario=str(scenario), seed=seed)
        result["sizes"].append(row)
        say(f"{enterprises:>7,} enterprises: {row['total_s']['median']:.3f} s "
            f"(set-up {row['setup_s']['median']:.3f} s), {row['peak_rss_mib']:.0f} MiB")
    if reference_enterprises:
        result["reference"] = _in_fresh_process(
            "reference", cpu, enterprises=reference_enterprises, quarters=reference_quarters,
            repeats=repeats, scenario=str(scenario), seed=seed)
        say(f"reference / kernel on {reference_enterprises:,} enterprises: "
            f"{result['reference']['ratio']['median']:.0f}x")
    result["startup"] = _help_startup(repeats, cpu)
    say(f"adoptsim --help: {result['startup']['seconds']['median']:.3f} s")
    # Not pinned: the sweep's worker processes need every core.
    result["sweep"] = (_in_fresh_process("sweep", None, repeats=repeats) if sweep
                       else "not measured (--no-sweep)")
    say(f"sweep: {_sweep_note(result['sweep'])}")
    result["explorer"] = (_in_fresh_process("explorer", None, repeats=repeats) if explorer
                          else "not measured (--no-explorer)")
    say(_explorer_note(result["explorer"]))
    by_size = {row["enterprises"]: row for row in result["sizes"]}
    if 10_000 in by_size and 100_000 in by_size:
        result["scaling_100k_over_10k"] = (by_size[100_000]["total_s"]["median"]
                                           / by_size[10_000]["total_s"]["median"])
    result["targets"] = _targets(result)
    result["load_after"] = _load()
    result["wall_s"] = time.perf_counter() - started
    if out != "":
        if out is None:
            out = Path("outputs") / "bench" / f"bench-{provenance.folder_stamp(moment)}.json"
        result["path"] = str(storage.write_json(Path(out), result))
    return result


# --- presentation -----------------------------------------------------------------------------

def _range(stats: dict, digits: int = 3) -> str:
    return f"{stats['median']:.{digits}f} ({stats['min']:.{digits}f}-{stats['max']:.{digits}f})"


def _sweep_note(sweep: dict | str | None) -> str:
    """The sweep figures of :func:`bench_sweep.benchmark` in a line (or why there are none)."""
    if not isinstance(sweep, dict):
        return str(sweep)
    if "local_1" not in sweep:
        return json.dumps(sweep)
    rate = {name: (_range(sweep[name]["runs_per_second"], 2) if isinstance(sweep[name], dict)
                   else sweep[name]) for name in ("local_1", "local_2", "dask_2")}
    size = f"{sweep['enterprises']:,} enterprises" if sweep["enterprises"] else "baseline size"
    dask = sweep["local_2_over_dask"]
    return (f"{sweep['runs']} runs ({size}), runs per second: 1 local worker {rate['local_1']}, "
            f"2 local workers {rate['local_2']} ({sweep['speedup_2_over_1']:.2f}x 1 worker), "
            f"Dask {sweep['dask_workers']} workers {rate['dask_2']}"
            + ("" if dask is None else f" (local / Dask {dask:.2f}x)")
            + f"; identical results: {'yes' if sweep['identical_results'] else 'NO'}")


def _explorer_note(explorer: dict | str | None) -> str:
    """The explorer figures of :func:`bench_explorer.benchmark` in a line (or why there are
    none)."""
    from bench_explorer import note

    return note(explorer) if isinstance(explorer, dict) else f"explorer: {explorer}"


def format_table(result: dict, markdown: bool = False) -> str:
    """The result as a table (plain text, or Markdown), with the targets and whether each is met."""
    header = ["enterprises", "workloads", "set-up s", "28 quarters s", "total s",
              "us / workload-quarter", "peak RSS MiB"]
    rows = [[f"{row['enterprises']:,}", f"{row['workloads']:,}", _range(row["setup_s"]),
             _range(row["quarters_s"]), _range(row["total_s"]),
             _range(row["per_workload_quarter_us"], 2), f"{row['peak_rss_mib']:.0f}"]
            for row in result["sizes"]]
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        widths = [max([len(header[i]), *(len(row[i]) for row in rows)]) for i in range(len(header))]
        lines = ["  ".join(text.rjust(width) for text, width in zip(header, widths))]
        lines += ["  ".join(text.rjust(width) for text, width in zip(row, widths)) for row in rows]
    notes = []
    reference = result.get("reference")
    if reference:
        notes.append(
            f"reference path / vectorized kernel, {reference['enterprises']:,} enterprises, "
            f"decisions of {reference['quarters']} quarters: {_range(reference['ratio'], 0)}x "
            f"({_range(reference['reference_s'])} s against "
            f"{_range(reference['vectorized_s'], 4)} s); "
            f"identical deployments: {'yes' if reference['identical'] else 'NO'}"
        )
    if "scaling_100k_over_10k" in result:
        notes.append(
            f"100,000 / 10,000 enterprises: {result['scaling_100k_over_10k']:.1f}x the time"
        )
    startup = result.get("startup")
    if startup:
        notes.append(f"`{startup['command']}`: {_range(startup['seconds'])} s")
    notes.append(f"sweep throughput: {_sweep_note(result.get('sweep'))}")
    notes.append(_explorer_note(result.get("explorer")))
    deterministic = all(row["deterministic"] for row in result["sizes"])
    notes.append(f"same seed, same metrics at every size: {'yes' if deterministic else 'NO'}")
    bullet = "- " if markdown else "  "
    lines += [""] + [bullet + note for note in notes]
    lines += ["", "targets:" if not markdown else "Targets:"]
    for target in result["targets"]:
        value = target["value"]
        shown = "n/a" if value is None else f"{value:.3g} {target['unit']}"
        verdict = {True: "met", False: "MISSED", None: "not measured"}[target["met"]]
        lines.append(f"{bullet}{target['target']}: {shown} (limit {target['limit']:g} "
                     f"{target['unit']}): {verdict}")
    return "\n".join(lines)


# --- command line -------------------------------------------------------------------------------

def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sizes", default=",".join(str(size) for size in SIZES),
                        help="populations to time, comma-separated (default: %(default)s)")
    parser.add_argument("--repeats", type=int, default=REPEATS,
                        help="runs of each figure; the median is reported (default: %(default)s)")
    parser.add_argument("--out", help="JSON file (default: outputs/bench/bench-<timestamp>.json)")
    parser.add_argument("--scenario", help="scenario (default: the baseline)")
    parser.add_argument("--cpu", type=int, help="pin the measurements to this core "
                        "(default: the idlest allowed core)")
    parser.add_argument("--no-sweep", action="store_true", help="skip the sweep throughput")
    parser.add_argument("--no-explorer", action="store_true",
                        help="skip the explorer's redraw timing")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")


def command(args, argv: list[str] | None = None, prog: str = "adoptsim bench") -> int:
    """Run the benchmarks from parsed arguments (see :func:`add_arguments`) and print the table."""
    shown = prog + ("" if not argv else " " + " ".join(argv))
    result = run_benchmarks(
        sizes=[int(size) for size in str(args.sizes).split(",") if size], repeats=args.repeats,
        out=args.out, scenario=args.scenario or BASELINE, cpu=args.cpu, sweep=not args.no_sweep,
        explorer=not args.no_explorer, command=shown,
        progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(format_table(result, markdown=args.markdown))
    load = [" ".join(f"{value:.2f}" for value in loads) if loads else "n/a"
            for loads in (result["load_before"], result["load_after"])]
    print(f"\nWrote {result['path']} in {result['wall_s']:.0f} s "
          f"(load average {load[0]} before, {load[1]} after)")
    return 0


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """Run the benchmarks from command-line arguments (``prog`` names the command in its help
    and in the result), or, with ``--worker``, one measurement of them."""
    argv = sys.argv[1:] if argv is None else argv
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("--worker", choices=sorted(_WORKERS), help=argparse.SUPPRESS)
    add_arguments(parser)
    known, rest = parser.parse_known_args(argv)
    if known.worker:
        _pin(known.cpu)
        arguments = json.loads(rest[0]) if rest else {}
        print(json.dumps(_WORKERS[known.worker](**arguments)))
        return 0
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    return command(known, argv, parser.prog)


if __name__ == "__main__":
    sys.exit(main())
