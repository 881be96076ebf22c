"""Running a sweep: check the sweep file against its base scenario, lay out the runs, execute
those not finished yet, record failures, and build the results table.

The sweep folder is ``<out>/sweeps/<name>/<hash8>/``, where the hash covers what defines the
experiment (the resolved base scenario, the parameters in their order, the design, replications
and seeding), not the outcomes or analysis settings: the same sweep file always comes back to the
same folder, which is what makes it resumable, and a file that draws another design (its
parameters reordered) comes to another folder. Running it again skips every run whose file
exists and is sound (and every recorded failure, unless ``retry_failed``) and runs only the
rest; the results table is then rebuilt from the run files. This module knows nothing of
plotting or analysis.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd
import yaml

from sim.core.posterior import point_scenario
from sim.core.quarters import parse_quarter
from sim.core.scenario import load_scenario, scenario_hash
from sim.core.schema import Scenario
from sim.core.settings_file import ScenarioError
from sim.running import provenance, storage
from sim.running.executors import Executor, make_executor
from sim.running.runner import simulate, tidy
from sim.sweep.design import Design, build_design, overrides, probe_values, run_table
from sim.sweep.spec import (
    Outcome,
    SweepError,
    SweepSpec,
    load_sweep_spec,
    parse_outcome,
    spec_line,
)
from sim.sweep.store import (
    DESIGN_FILE,
    MANIFEST_FILE,
    SPEC_FILE,
    SweepStore,
    read_table,
    run_file_bytes,
)

Progress = Callable[[int, int, int], None]
"""Called with (runs finished, runs failed, runs in total) as the sweep goes."""


@dataclass(frozen=True)
class Sweep:
    """A checked sweep file: its spec, base scenario and design."""

    spec: SweepSpec
    path: Path
    base: Scenario
    design: Design

    @property
    def outcomes(self) -> list[Outcome]:
        return [parse_outcome(text) for text in self.spec.outcomes]

    @property
    def digest(self) -> str:
        """SHA-256 of what defines the experiment (see the module docstring)."""
        spec = self.spec
        definition = {
            "base": scenario_hash(self.base),
            # in order: it is the order of the design's columns, and so of its points
            "parameters": [[name, parameter.model_dump(mode="json", exclude={"label"})]
                           for name, parameter in spec.parameters.items()],
            "design": spec.design.model_dump(mode="json"),
            "replications": spec.replications,
            "common_random_numbers": spec.common_random_numbers,
        }
        text = json.dumps(definition, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()

    @property
    def folder_parts(self) -> tuple[str, str, str]:
        """The sweep folder's path below the output folder: sweeps/<name>/<hash8>."""
        return "sweeps", self.spec.name, self.digest[:8]

    def folder(self, out: str | Path = "outputs") -> Path:
        return Path(out).joinpath(*self.folder_parts)

    def point_overrides(self, point: int) -> list[str]:
        """The ``--set`` overrides of design point ``point`` (after the sweep's own ``set``)."""
        points = self.design.points  # column by column: a row would upcast integers to floats
        return overrides(self.spec.parameters, {name: points[name].iat[point] for name in points})


@dataclass(frozen=True)
class SweepResult:
    """What a sweep invocation did: runs in the design, finished and failed overall, run now."""

    folder: Path
    runs: int
    finished: int
    failed: int
    executed: int
    wall_seconds: float


# --- loading and checking ---------------------------------------------------------------------

def load_sweep(path: str | Path) -> Sweep:
    """Read a sweep file, load its base scenario, check every parameter and outcome against it,
    and draw the design. Problems raise :class:`SweepError` naming the sweep file and line."""
    path = Path(path)
    spec = load_sweep_spec(path)
    base = _base_scenario(spec, path)
    _check_parameters(spec, base, path)
    _check_outcomes(spec, base, path)
    return Sweep(spec, path, base, build_design(spec.parameters, spec.design))


def _error(path: Path, key_path: tuple[str, ...], message: str) -> SweepError:
    return SweepError(message, str(path), spec_line(path, key_path), ".".join(key_path))


def _base_scenario(spec: SweepSpec, path: Path) -> Scenario:
    """The sweep's base scenario at its point values: a sweep explores parameters by design, so
    runs do not also draw them from a calibrated posterior."""
    base_path = path.parent / spec.base
    if not base_path.is_file():
        raise _error(path, ("base",), f"base scenario not found: {base_path}")
    try:
        return point_scenario(load_scenario(base_path, spec.set))
    except ScenarioError as error:
        settings = [f"--set {text}" for text in spec.set]
        if error.file not in settings:
            raise
        where = ("set", str(settings.index(error.file)))
        raise _error(path, where, f"{error.key_path}: {error.message}") from None


def _check_parameters(spec: SweepSpec, base: Scenario, path: Path) -> None:
    """Apply each parameter's levels, categories or range ends to the base scenario."""
    for name, parameter in spec.parameters.items():
        for value in probe_values(parameter):
            try:
                load_scenario(base, overrides({name: parameter}, {name: value}))
            except ScenarioError as error:
                where = ("parameters", name) + (
                    ("categories", value) if parameter.categories else ()
                )
                raise _error(path, where, f"{value!r} does not fit the base scenario: "
                                          f"{error.key_path}: {error.message}") from None


def _check_outcomes(spec: SweepSpec, base: Scenario, path: Path) -> None:
    first, last = parse_quarter(base.horizon.start), parse_quarter(base.horizon.end)
    for index, outcome in enumerate(spec.outcomes):
        if not first <= parse_quarter(parse_outcome(outcome).quarter) <= last:
            raise _error(path, ("outcomes", str(index)),
                         f"'{outcome}' is outside the base scenario's horizon "
                         f"{base.horizon.start}..{base.horizon.end}")


# --- the runs ---------------------------------------------------------------------------------

def plan_runs(sweep: Sweep) -> pd.DataFrame:
    """The design table: one row per run (run_id, design_point, replication, seed, the
    parameter values) and ``run_key``, the hash of the run's resolved scenario and seed that
    names its file. Every design point is resolved here, so a combination of values that makes
    an invalid scenario stops the sweep before anything runs."""
    spec = sweep.spec
    table = run_table(sweep.design, spec.replications, spec.design.seed, spec.common_random_numbers)
    configs = [_config_hash(sweep, point) for point in range(len(sweep.design))]
    table["run_key"] = [run_key(configs[point], seed)
                        for point, seed in zip(table["design_point"], table["seed"])]
    return table


def _config_hash(sweep: Sweep, point: int) -> str:
    settings = sweep.point_overrides(point)
    try:
        return scenario_hash(load_scenario(sweep.base, settings))
    except ScenarioError as error:
        raise _error(sweep.path, ("parameters",),
                     f"design point {point} ({', '.join(settings)}) makes an invalid scenario: "
                     f"{error.key_path}: {error.message}") from None


def run_key(config_hash: str, seed: int) -> str:
    """The name of a run's file: a hash of its resolved scenario's hash and its seed."""
    return hashlib.sha256(f"{config_hash}:{seed}".encode("ascii")).hexdigest()[:20]


@dataclass(frozen=True)
class RunTask:
    """One run to execute: the base scenario, the design point's overrides and the seed."""

    key: str
    base: Scenario
    overrides: tuple[str, ...]
    seed: int


@dataclass(frozen=True)
class RunOutcome:
    """A run's file (its tidy quarterly series as Parquet bytes), or its traceback."""

    key: str
    parquet: bytes | None = None
    error: str | None = None


def run_task(task: RunTask) -> RunOutcome:
    """Execute one run (in a worker); an exception is returned as text, never raised."""
    try:
        scenario = load_scenario(task.base, task.overrides)
        frame = tidy(simulate(scenario, task.seed)[None], scenario)
        return RunOutcome(task.key, run_file_bytes(frame, task.key))
    except Exception:
        return RunOutcome(task.key, error=traceback.format_exc())


def _tasks(sweep: Sweep, runs: pd.DataFrame, skip: set[str]) -> Iterator[RunTask]:
    """The runs still to do, one task per distinct run key, made as they are needed."""
    seen = set(skip)
    for point, seed, key in zip(runs["design_point"], runs["seed"], runs["run_key"]):
        if key not in seen:
            seen.add(key)
            yield RunTask(key, sweep.base, tuple(sweep.point_overrides(int(point))), int(seed))


# --- the orchestrator -------------------------------------------------------------------------

def run_sweep(source: str | Path | Sweep, *, executor: str = "local", scheduler: str | None = None,
              workers: int | None = None, out: str | Path = "outputs", retry_failed: bool = False,
              progress: Progress | None = None) -> SweepResult:
    """Run a sweep file (or a loaded :class:`Sweep`) into ``<out>/sweeps/<name>/<hash8>/``.

    Runs whose files exist are skipped (a resumed sweep runs only the rest); recorded failures
    are skipped too unless ``retry_failed``. A run that raises is recorded in ``failures/`` and
    the others go on. ``executor`` is "local" (a pool of ``workers`` processes, default all
    cores) or "dask" (on ``scheduler``, or a local cluster of ``workers``). Writes
    ``design.parquet``, ``runs/``, ``results.parquet``, ``sweep.yaml`` and ``manifest.json``;
    the results are the same bytes whatever the executor and number of workers.
    """
    started = time.perf_counter()
    sweep = source if isinstance(source, Sweep) else load_sweep(source)
    runs = plan_runs(sweep)
    store = SweepStore(storage.output_folder(out, *sweep.folder_parts))
    with store.lock():
        store.prepare()
        store.drop_damaged()
        _write_design(store, runs)
        skip = store.finished() | (set() if retry_failed else store.failed())
        executed = _execute(sweep, runs, store, skip, progress=progress, executor=partial(
            make_executor, executor, workers=workers, scheduler=scheduler))
        failed = int(runs["run_key"].isin(store.failed() - store.finished()).sum())
        store.write_results(runs, sweep.outcomes)
        result = SweepResult(store.folder, len(runs), len(runs) - failed, failed, executed,
                             time.perf_counter() - started)
        storage.write_text(store.folder / SPEC_FILE, yaml.safe_dump(
            sweep.spec.model_dump(mode="json"), sort_keys=False, allow_unicode=True))
        storage.write_json(store.folder / MANIFEST_FILE, manifest(sweep, result, executor))
    return result


def _execute(sweep: Sweep, runs: pd.DataFrame, store: SweepStore, skip: set[str],
             executor: Callable[..., Executor], progress: Progress | None) -> int:
    """Run every task not in ``skip``, saving each run or failure as it arrives; return how
    many runs were executed. The executor is only started when there is something to run, and
    told how much (``tasks=``)."""
    weights = Counter(runs["run_key"])
    failed = store.failed() - store.finished()
    finished_runs = sum(weights[key] for key in store.finished())
    failed_runs = sum(weights[key] for key in failed)
    executed = 0
    if progress:
        progress(finished_runs, failed_runs, len(runs))
    todo = len(set(weights) - skip)
    if not todo:
        return executed
    try:
        with executor(tasks=todo) as pool:
            for task, outcome in pool.map_unordered(run_task, _tasks(sweep, runs, skip)):
                weight = weights[task.key]
                if _save(store, task, outcome):
                    finished_runs += weight
                    failed_runs -= weight if task.key in failed else 0
                    failed.discard(task.key)
                elif task.key not in failed:
                    failed_runs += weight
                    failed.add(task.key)
                executed += weight
                if progress:
                    progress(finished_runs, failed_runs, len(runs))
    except BrokenProcessPool:
        raise SweepError("a worker process died (killed, or out of memory?); the runs finished "
                         "so far are kept: run the same command again to resume",
                         file=str(store.folder)) from None
    return executed


def _save(store: SweepStore, task: RunTask, outcome) -> bool:
    """Store a run's series or its failure; True when the run finished."""
    if isinstance(outcome, RunOutcome) and outcome.parquet is not None:
        store.save_run(task.key, outcome.parquet)
        return True
    text = outcome.error if isinstance(outcome, RunOutcome) else "".join(
        traceback.format_exception(outcome))
    store.save_failure(task.key, f"run {task.key}, seed {task.seed}, overrides:\n  "
                       + "\n  ".join(task.overrides) + f"\n\n{text}")
    return False


def _write_design(store: SweepStore, runs: pd.DataFrame) -> None:
    """Write design.parquet, or check that the one already there is this design. One that
    cannot be read is written again: the design comes from the sweep file alone, and every run
    file names its run."""
    path = store.folder / DESIGN_FILE
    try:
        existing = read_table(path) if path.exists() else None
    except SweepError:
        print(f"adoptsim: {path}: unreadable (truncated or damaged); written again from the sweep "
              "file", file=sys.stderr)
        existing = None
    if existing is None:
        storage.write_parquet(path, runs)
    elif not existing.equals(runs):
        raise SweepError("this folder holds a different design than the sweep file now gives "
                         "(was adoptsim updated?); use another --out, or move the folder away",
                         file=str(path))


def manifest(sweep: Sweep, result: SweepResult, executor: str) -> dict:
    """What the sweep folder holds and how it was made (last)."""
    return {
        "sweep": sweep.spec.name,
        "sweep_hash": sweep.digest,
        "sweep_file": str(sweep.path),
        "base_scenario": {"name": sweep.base.name, "hash": scenario_hash(sweep.base),
                          "resolved": sweep.base.model_dump(mode="json")},
        "design": {"method": sweep.design.method, "points": len(sweep.design),
                   "replications": sweep.spec.replications},
        "runs": {"total": result.runs, "finished": result.finished, "failed": result.failed,
                 "executed_last": result.executed},
        "executor": executor,
        "wall_seconds_last": round(result.wall_seconds, 3),
        **provenance.record(packages=("SALib",), time_key="updated"),
    }
