"""What the commands do, as functions a notebook can call with the same result.

``run_scenario`` loads a scenario, runs its replications, and writes a run folder
(``outputs/<scenario>/<timestamp>-<hash8>/``) with the manifest, the tidy quarterly table, the
summary and the plots. ``calibrate_scenario`` fits the posterior and writes its report folder
(and, through :mod:`sim.calibration.persist`, the draws the baseline reads);
``compare_scenarios`` runs or reuses scenarios side by side and writes a comparison folder. The
command line (:mod:`sim.cli`) only parses arguments, calls these and prints what they return
(formatted by :mod:`sim.views.terminal`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pandas as pd

from sim.core.posterior import draws_record, point_scenario
from sim.core.quarters import snapshot_quarters
from sim.core.scenario import load_scenario, scenario_hash
from sim.core.schema import Scenario
from sim.core.settings_file import ScenarioError
from sim.running import provenance, runner, storage
from sim.views.style import COMPARE_METRICS


@dataclass
class RunResult:
    """A finished run: the tidy table, its summary, and the run folder (None if not written)."""

    scenario: Scenario
    frame: pd.DataFrame
    summary: pd.DataFrame
    folder: Path | None
    manifest: dict


def resolve(source, *, replications: int | None = None, seed: int | None = None,
            overrides=(), point: bool = False) -> Scenario:
    """Load a scenario (path, dict or Scenario) and apply command-line style settings;
    ``point`` drops its posterior draws (every replication at the posterior median)."""
    settings = list(overrides)
    if replications is not None:
        settings.append(f"replications={replications}")
    if seed is not None:
        settings.append(f"seed={seed}")
    scenario = load_scenario(source, settings)
    return point_scenario(scenario) if point else scenario


def manifest(result: runner.Replications, digest: str, moment: datetime | None = None) -> dict:
    """The run folder's manifest.json: the resolved scenario, its hash and seeds, the posterior
    draws used, and provenance (:func:`sim.running.provenance.record`, made at ``moment``)."""
    scenario = result.scenario
    return {
        "scenario": scenario.name,
        "scenario_hash": digest,
        "resolved_scenario": scenario.model_dump(mode="json"),
        "seed": scenario.seed,
        "replications": scenario.replications,
        "replication_seeds": [
            {"entropy": s.entropy, "spawn_key": list(s.spawn_key)} for s in result.seeds
        ],
        "posterior_draws": draws_record(scenario),
        "wall_seconds": round(result.wall_seconds, 3),
        **provenance.record(moment=moment),
    }


def run_scenario(source, *, replications: int | None = None, seed: int | None = None,
                 workers: int | None = None, overrides=(), out: str | Path | None = "outputs",
                 plots: bool = True, progress=None, point: bool = False, executor: str = "local",
                 scheduler: str | None = None) -> RunResult:
    """Run a scenario's replications and (unless ``out`` is None) write its run folder.

    Returns the tidy DataFrame (columns scenario, replication, quarter, metric, segment, value),
    the summary at the end of history (2025Q4) and the horizon's end, and the run folder's path.
    The folder holds ``report.html``, the run's self-contained report
    (:func:`sim.views.report.build_report`).
    ``point`` runs every replication at the posterior median (no parameter uncertainty). The
    replications run on ``executor`` ("local" or "dask", on ``scheduler`` or a local cluster;
    see :func:`sim.running.executors.make_executor`), with the same results on any.
    """
    scenario = resolve(
        source, replications=replications, seed=seed, overrides=overrides, point=point
    )
    parent = None if out is None else storage.output_folder(out, scenario.name)
    result = runner.run_replications(scenario, workers=workers, progress=progress,
                                     executor=executor, scheduler=scheduler)
    frame = runner.tidy(result.values, scenario)
    summary = runner.summarize(frame, snapshot_quarters(scenario.quarters))
    digest = scenario_hash(scenario)
    moment = provenance.now()
    info = manifest(result, digest, moment)
    if parent is None:
        return RunResult(scenario, frame, summary, None, info)
    with storage.new_folder(parent, f"{provenance.folder_stamp(moment)}-{digest[:8]}") as folder:
        storage.write_json(folder.staging / "manifest.json", info)
        storage.write_parquet(folder.staging / "quarterly.parquet", frame)
        storage.write_csv(folder.staging / "summary.csv", summary)
        if plots:
            from sim.views.figures.run import plot_run

            plot_run(frame, folder.staging / "plots")
        from sim.calibration import project_targets
        from sim.views.report import build_report

        build_report(folder.staging, targets=project_targets())
    return RunResult(scenario, frame, summary, folder.path, info)


@dataclass
class CalibrationResult:
    """A finished calibration: the posterior and its predictive
    (:class:`sim.calibration.Calibration`),
    the report's tables, the report folder, and the files the fit was written to."""

    calibration: object          # sim.calibration.Calibration
    panel: pd.DataFrame  # one row per panel entry (sim.views.calibration.panel_table)
    parameters: pd.DataFrame  # one row per free parameter (sim.views.calibration.parameter_table)
    report: dict                 # calibration.json
    folder: Path | None          # the report folder
    wrote: list[Path]            # the posterior draws and the scenario fragment, when written


def calibration_command(scenario_source, targets, *, quick: bool, until: str | None) -> str:
    """The command line that reproduces a calibration (workers and executor do not change it)."""
    words = ["adoptsim", "calibrate", str(scenario_source), "--targets", str(targets)]
    return " ".join(words + (["--quick"] if quick else []) + (["--until", until] if until else []))


def calibrate_scenario(scenario_source="scenarios/baseline.yaml", targets="scenarios/targets.yaml",
                       *, quick: bool = False, until: str | None = None, executor: str = "local",
                       workers: int | None = None, scheduler: str | None = None,
                       out: str | Path | None = "outputs", write: bool | None = None,
                       plots: bool = True, progress=None) -> CalibrationResult:
    """Fit the targets file's free parameters to its panel (:func:`sim.calibration.calibrate`;
    ``progress`` receives its :class:`sim.calibration.Progress`), write the report folder
    (``outputs/calibration/<timestamp>-<hash8>/``: calibration.json, calibration.md,
    posterior.csv and, unless ``plots`` is false, the plots) and, unless ``quick`` or ``until``
    (or ``write=False``), the posterior draws and the fragment the baseline extends
    (:func:`sim.calibration.persist.write_posterior`)."""
    from sim.calibration import calibrate, check_targets, load_targets
    from sim.calibration.persist import draws_table, write_posterior
    from sim.views import calibration as calibration_report

    settings = load_targets(targets)   # both files are checked before anything is made
    check_targets(load_scenario(scenario_source), settings, targets, until)
    settings = settings.calibration
    parent = None if out is None else storage.output_folder(out, "calibration")
    calibration = calibrate(scenario_source, targets, quick=quick, until=until, executor=executor,
                            workers=workers, scheduler=scheduler, progress=progress)
    panel = calibration_report.panel_table(calibration)
    parameters = calibration_report.parameter_table(calibration)
    report = calibration_report.summary(
        calibration, quick=quick,
        command=calibration_command(scenario_source, targets, quick=quick, until=until))
    folder = None
    if parent is not None:
        stamp = provenance.folder_stamp(datetime.fromisoformat(report["created"]))
        with storage.new_folder(parent, f"{stamp}-{report['scenario']['hash'][:8]}") as staging:
            storage.write_json(staging.staging / "calibration.json", report)
            storage.write_text(
                staging.staging / "calibration.md", calibration_report.markdown(report)
            )
            draws = draws_table(calibration)
            storage.write_csv(staging.staging / "posterior.csv", draws)
            if plots:
                from sim.views.figures.calibration import plot_calibration

                plot_calibration(
                    panel,
                    parameters,
                    draws,
                    calibration_report.paths_table(calibration),
                    calibration.generations,
                    staging.staging,
                )
        folder = staging.path
    wrote = []
    if write if write is not None else not (quick or until):
        wrote = write_posterior(calibration, Path(targets), settings, scenario_source, report)
    return CalibrationResult(calibration, panel, parameters, report, folder, wrote)


DEFAULT_COMPARE_DATES = ("2026Q4", "2028Q4", "2030Q4")


@dataclass
class ComparisonResult:
    frame: pd.DataFrame          # tidy, every scenario
    table: pd.DataFrame          # the comparison table (see sim.running.compare.comparison_table)
    folder: Path | None
    runs: dict                   # scenario name -> run folder used (reused or new)


def find_run(scenario: Scenario, out: str | Path) -> Path | None:
    """An existing complete run folder of exactly this resolved scenario (same hash), if any; a
    folder whose manifest cannot be read is passed over."""
    import json

    digest = scenario_hash(scenario)
    for manifest in sorted(Path(out, scenario.name).glob(f"*-{digest[:8]}*/manifest.json")):
        try:
            recorded = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(recorded, dict) and recorded.get("scenario_hash") == digest \
                and (manifest.parent / "quarterly.parquet").is_file():
            return manifest.parent
    return None


def compare_scenarios(sources, *, reference="scenarios/baseline.yaml", dates=DEFAULT_COMPARE_DATES,
                      replications: int | None = None, workers: int | None = None,
                      out: str | Path | None = "outputs", reuse: bool = True,
                      progress=None, point: bool = False, executor: str = "local",
                      scheduler: str | None = None) -> ComparisonResult:
    """Run (or reuse) each scenario and the reference with the same seeds; write
    ``outputs/compare/<timestamp>-<hash8>/`` with the tidy table, the comparison table, fan
    charts, when the scenarios span the what-to-watch 2x2 the matrix figure, and ``report.html``
    (:func:`sim.views.report.build_report`). Scenarios run on ``executor`` and ``scheduler``
    as in :func:`run_scenario`."""
    from sim.running import compare
    from sim.running.executors import check_executor

    check_executor(executor, scheduler)
    reference_scenario = resolve(reference, replications=replications, point=point)
    resolved = [resolve(source, point=point) for source in sources]
    compare.check_distinct(sources, resolved, reference, reference_scenario)
    everything = [reference_scenario] + compare.aligned(resolved, reference_scenario)
    for quarter in dates:
        if quarter not in reference_scenario.quarters:
            raise ScenarioError(
                f"--at {quarter} is outside the horizon {reference_scenario.horizon.start}.."
                f"{reference_scenario.horizon.end}",
                file=str(reference),
            )
    parent = None if out is None else storage.output_folder(out, "compare")
    frames, runs = [], {}
    for scenario in everything:
        frame, runs[scenario.name] = _run_or_reuse(scenario, out, reuse, workers=workers,
                                                   executor=executor, scheduler=scheduler)
        frames.append(frame)
        if progress:
            progress(scenario.name)
    frame = pd.concat(frames, ignore_index=True)
    table = compare.comparison_table(frame, reference_scenario.name,
                                     [metric for metric, _ in COMPARE_METRICS], list(dates))
    folder = (None if parent is None
              else _write_comparison(parent, everything, list(dates), frame, table, runs))
    return ComparisonResult(frame, table, folder, runs)


def _run_or_reuse(scenario: Scenario, out: str | Path | None, reuse: bool,
                  **run_options) -> tuple[pd.DataFrame, str | None]:
    """The scenario's tidy frame and run folder: an existing run of it (:func:`find_run`) when
    ``reuse``, else a new run (:func:`run_scenario` with ``run_options``)."""
    folder = find_run(scenario, out) if (reuse and out is not None) else None
    if folder is not None:
        return pd.read_parquet(folder / "quarterly.parquet"), str(folder)
    result = run_scenario(scenario, out=out, **run_options)
    return result.frame, str(result.folder) if result.folder else None


def _write_comparison(parent: Path, everything: list[Scenario], dates: list[str],
                      frame: pd.DataFrame, table: pd.DataFrame, runs: dict) -> Path:
    """The comparison folder under ``parent`` (the reference first in ``everything``): the
    tables, the manifest, the figures and the report."""
    import hashlib

    from sim.running import compare
    from sim.views.figures.comparison import plot_comparison
    from sim.views.report import build_report

    reference = everything[0]
    digest = hashlib.sha256("".join(scenario_hash(s) for s in everything).encode()
                            + ",".join(dates).encode()).hexdigest()
    moment = provenance.now()
    with storage.new_folder(parent, f"{provenance.folder_stamp(moment)}-{digest[:8]}") as folder:
        storage.write_parquet(folder.staging / "comparison.parquet", frame)
        storage.write_csv(folder.staging / "comparison.csv", table)
        storage.write_json(folder.staging / "manifest.json", {
            "reference": reference.name,
            "dates": dates,
            "scenarios": {s.name: {"scenario_hash": scenario_hash(s), "run_folder": runs[s.name],
                                   "description": s.description, "axes": s.axes}
                          for s in everything},
            "seed": reference.seed,
            "replications": reference.replications,
            "posterior_draws": draws_record(reference),
            **provenance.record(moment=moment),
        })
        plot_comparison(frame, table, COMPARE_METRICS, folder.staging / "plots",
                        matrix=compare.watch_matrix(everything),
                        matrix_quarter=reference.horizon.end)
        build_report(folder.staging)
    return folder.path
