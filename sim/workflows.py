"""What the commands do, as functions a notebook can call with the same result.

``run_scenario`` loads a scenario, runs its replications, and writes a run folder
(``outputs/<scenario>/<timestamp>-<hash8>/``) with the manifest, the tidy quarterly table, the
summary and the plots. The command line (:mod:`sim.cli`) only parses arguments and calls these.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from sim import provenance, runner, storage
from sim.quarters import parse_quarter
from sim.scenario import ScenarioError, load_scenario, scenario_hash
from sim.schema import Scenario

HEADLINE_METRICS = (
    ("workload_share_closed", "Workloads on closed APIs"),
    ("workload_share_open", "Workloads on open weights, self-hosted"),
    ("workload_share_open_finetuned", "Workloads on fine-tuned open weights"),
    ("stack_share_closed", "Enterprises closed only"),
    ("stack_share_open", "Enterprises open only"),
    ("stack_share_hybrid", "Enterprises hybrid"),
    ("plans_to_expand_open", "Enterprises planning to expand open use"),
)
SNAPSHOT_QUARTER = "2025Q4"


@dataclass
class RunResult:
    """A finished run: the tidy table, its summary, and the run folder (None if not written)."""

    scenario: Scenario
    frame: pd.DataFrame
    summary: pd.DataFrame
    folder: Path | None
    manifest: dict


def resolve(source, *, replications: int | None = None, seed: int | None = None,
            overrides=()) -> Scenario:
    """Load a scenario (path, dict or Scenario) and apply command-line style settings."""
    settings = list(overrides)
    if replications is not None:
        settings.append(f"replications={replications}")
    if seed is not None:
        settings.append(f"seed={seed}")
    return load_scenario(source, settings)


def snapshot_quarters(scenario: Scenario) -> list[str]:
    """2025Q4 (the article's picture) when inside the horizon, and the horizon's end."""
    quarters = [SNAPSHOT_QUARTER] if (parse_quarter(scenario.horizon.start) <= parse_quarter(SNAPSHOT_QUARTER)
                                      <= parse_quarter(scenario.horizon.end)) else []
    return list(dict.fromkeys(quarters + [scenario.horizon.end]))


def manifest(result: runner.Replications, digest: str) -> dict:
    scenario = result.scenario
    return {
        "scenario": scenario.name,
        "scenario_hash": digest,
        "resolved_scenario": scenario.model_dump(mode="json"),
        "seed": scenario.seed,
        "replications": scenario.replications,
        "replication_seeds": [{"entropy": s.entropy, "spawn_key": list(s.spawn_key)} for s in result.seeds],
        "versions": provenance.versions(),
        "git_commit": provenance.git_commit(),
        "wall_seconds": round(result.wall_seconds, 3),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def headline_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Headline figures (mean and 90% interval) at the snapshot quarters, as display strings."""
    rows = summary[(summary["segment"] == "all")
                   & summary["metric"].isin([metric for metric, _ in HEADLINE_METRICS])]
    labels = dict(HEADLINE_METRICS)
    cells = rows.assign(
        figure=lambda t: t.apply(lambda r: f"{r['mean']:6.1%} [{r['p5']:.1%}, {r['p95']:.1%}]", axis=1))
    table = cells.pivot(index="metric", columns="quarter", values="figure")
    table = table.reindex([m for m, _ in HEADLINE_METRICS if m in table.index])
    table.index = [labels[m] for m in table.index]
    return table


def run_scenario(source, *, replications: int | None = None, seed: int | None = None,
                 workers: int | None = None, overrides=(), out: str | Path | None = "outputs",
                 plots: bool = True, progress=None) -> RunResult:
    """Run a scenario's replications and (unless ``out`` is None) write its run folder.

    Returns the tidy DataFrame (columns scenario, replication, quarter, metric, segment, value),
    the summary at 2025Q4 and the horizon end, and the run folder's path. The folder holds
    ``report.html``, the run's self-contained report (:func:`sim.report.build_report`).
    """
    scenario = resolve(source, replications=replications, seed=seed, overrides=overrides)
    parent = None if out is None else storage.output_folder(out, scenario.name)
    result = runner.run_replications(scenario, workers=workers, progress=progress)
    frame = runner.tidy(result.values, scenario)
    summary = runner.summarize(frame, snapshot_quarters(scenario))
    digest = scenario_hash(scenario)
    info = manifest(result, digest)
    if parent is None:
        return RunResult(scenario, frame, summary, None, info)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with storage.new_folder(parent, f"{stamp}-{digest[:8]}") as folder:
        storage.write_json(folder.staging / "manifest.json", info)
        storage.write_parquet(folder.staging / "quarterly.parquet", frame)
        storage.write_csv(folder.staging / "summary.csv", summary)
        if plots:
            from sim.plots import plot_run

            plot_run(frame, folder.staging / "plots")
        from sim.report import build_report

        build_report(folder.staging)
    return RunResult(scenario, frame, summary, folder.path, info)


@dataclass
class CalibrationResult:
    calibration: object          # sim.calibration.Calibration
    fit: pd.DataFrame            # one row per target
    folder: Path | None
    wrote: Path | None           # the scenario fragment updated with the fitted values


def calibration_tables(calibration) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The fit per target, the targeted paths (long), and the parameter profiles (long)."""
    moments = calibration.best.moments
    fit = pd.DataFrame({
        "label": [t.label for t in calibration.targets],
        "metric": [t.metric for t in calibration.targets],
        "segment": [t.segment for t in calibration.targets],
        "quarter": [t.quarter for t in calibration.targets],
        "target": [t.value for t in calibration.targets],
        "tolerance": [t.tolerance for t in calibration.targets],
        "mean": moments.mean(axis=0),
        "p5": np.quantile(moments, 0.05, axis=0),
        "p95": np.quantile(moments, 0.95, axis=0),
        "source": [t.source for t in calibration.targets],
        "confidence": [t.confidence for t in calibration.targets],
    })
    fit["within_tolerance"] = (fit["mean"] - fit["target"]).abs() <= fit["tolerance"]
    replications, quarters, targets = calibration.paths.shape
    quarter_names = calibration.scenario.quarters[:quarters]
    paths = pd.DataFrame({
        "label": np.tile(fit["label"].to_numpy(), replications * quarters),
        "replication": np.repeat(np.arange(replications), quarters * targets),
        "quarter": np.tile(np.repeat(quarter_names, targets), replications),
        "value": calibration.paths.reshape(-1),
    })
    optimum = dict(zip(calibration.names, calibration.best.parameters))
    profiles = pd.DataFrame([
        {"parameter": name, "value": value, "objective": objective, "optimum": optimum[name]}
        for name, (grid, objectives) in calibration.profiles.items()
        for value, objective in zip(grid, objectives)])
    return fit, paths, profiles


def calibration_summary(calibration, fit: pd.DataFrame, quick: bool) -> dict:
    at_bounds = set(calibration.at_bounds)
    return {
        "quick": quick,
        "objective": calibration.best.objective,
        "evaluations": calibration.evaluations,
        "replications": len(calibration.seeds),
        "seeds": [{"entropy": s.entropy, "spawn_key": list(s.spawn_key)} for s in calibration.seeds],
        "targets": fit.to_dict(orient="records"),
        "parameters": [
            {"name": name, "fitted": float(value), "prior": float(prior), "low": float(low),
             "high": float(high), "at_bound": name in at_bounds}
            for name, value, prior, (low, high) in zip(calibration.names, calibration.best.parameters,
                                                       calibration.prior, calibration.bounds)],
        "scenario_hash": scenario_hash(calibration.scenario),
        "versions": provenance.versions(),
        "git_commit": provenance.git_commit(),
        "wall_seconds": round(calibration.wall_seconds, 1),
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def calibration_markdown(summary: dict) -> str:
    lines = ["# Calibration", "",
             f"Objective {summary['objective']:.3f} after {summary['evaluations']} evaluations of "
             f"{summary['replications']} replications each ({summary['wall_seconds']} s)"
             + (" — quick mode, not a real calibration." if summary["quick"] else "."), "",
             "## Targets", "", "| target | value | simulated mean | 90% interval | within tolerance | source |",
             "| --- | --- | --- | --- | --- | --- |"]
    for t in summary["targets"]:
        lines.append(f"| {t['label']} | {t['target']:.3f} ± {t['tolerance']:.3f} | {t['mean']:.3f} | "
                     f"[{t['p5']:.3f}, {t['p95']:.3f}] | {'yes' if t['within_tolerance'] else 'NO'} | "
                     f"{t['source']} ({t['confidence']}) |")
    lines += ["", "## Fitted parameters", "", "| parameter | fitted | hand-set prior | bounds | note |",
              "| --- | --- | --- | --- | --- |"]
    for p in summary["parameters"]:
        note = "at a bound: the data push it to the edge of its range" if p["at_bound"] else ""
        lines.append(f"| {p['name']} | {p['fitted']:.4g} | {p['prior']:.4g} | "
                     f"[{p['low']:.4g}, {p['high']:.4g}] | {note} |")
    lines += ["", "Plots: `targets.png` (fit), `target_paths.png` (paths to the target quarter), "
              "`profiles.png` (objective along each parameter: how well it is identified).", ""]
    return "\n".join(lines)


def _fragment(names: list[str], values) -> dict:
    fragment: dict = {}
    for name, value in zip(names, values):
        *parents, leaf = name.split(".")
        node = fragment
        for key in parents:
            node = node.setdefault(key, {})
        node[leaf] = round(float(value), 6)
    return fragment


def write_calibrated(path: Path, calibration, scenario_source, summary: dict) -> Path:
    """Write the fitted values to the scenario fragment the baseline extends; check that the
    baseline then resolves to them (no file later in its chain shadows a fitted key)."""
    import yaml

    from sim.calibration import read_parameter

    previous = path.read_text(encoding="utf-8") if path.exists() else None
    header = (f"# Written by `adoptsim calibrate` on {summary['created']}: objective "
              f"{summary['objective']:.4f}, {summary['evaluations']} evaluations.\n"
              "# Do not edit by hand; recalibrate instead (see README, Calibration).\n")
    storage.write_text(path, header + yaml.safe_dump(_fragment(calibration.names,
                                                               calibration.best.parameters)))
    resolved = load_scenario(scenario_source)
    shadowed = [name for name, value in zip(calibration.names, calibration.best.parameters)
                if abs(read_parameter(resolved, name) - round(float(value), 6)) > 1e-9]
    if shadowed:
        if previous is None:
            path.unlink()
        else:
            storage.write_text(path, previous)
        raise ScenarioError(f"the scenario does not take {', '.join(shadowed)} from {path}: it must "
                            "extend that file, and no file after it may set those keys "
                            "(nothing was changed)", file=str(scenario_source))
    return path


def calibrate_scenario(scenario_source="scenarios/baseline.yaml", targets="scenarios/targets.yaml",
                       *, quick: bool = False, workers: int | None = None,
                       out: str | Path | None = "outputs", write: bool | None = None,
                       progress=None) -> CalibrationResult:
    """Fit the targets file's free parameters, write the report folder
    (``outputs/calibration/<timestamp>-<hash8>/``) and, unless ``quick`` (or ``write=False``),
    the fitted values to the fragment the targets file names (``calibration.writes``)."""
    from sim.calibration import calibrate, load_targets

    scenario = load_scenario(scenario_source)  # both files are checked before anything is made
    writes = Path(load_targets(targets).calibration.writes)
    fragment = None
    if write if write is not None else not quick:
        fragment = storage.output_folder(Path(targets).parent, *writes.parent.parts) / writes.name
    parent = None if out is None else storage.output_folder(out, "calibration")
    calibration = calibrate(scenario, targets, quick=quick, workers=workers, progress=progress)
    fit, paths, profiles = calibration_tables(calibration)
    summary = calibration_summary(calibration, fit, quick)
    folder = None
    if parent is not None:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        with storage.new_folder(parent, f"{stamp}-{summary['scenario_hash'][:8]}") as staging:
            storage.write_json(staging.staging / "calibration.json", summary)
            storage.write_text(staging.staging / "calibration.md", calibration_markdown(summary))
            from sim.plots import plot_calibration

            plot_calibration(fit, paths, profiles, staging.staging)
        folder = staging.path
    wrote = None if fragment is None else write_calibrated(fragment, calibration, scenario_source,
                                                           summary)
    return CalibrationResult(calibration, fit, folder, wrote)


COMPARE_METRICS = (
    ("workload_share_closed", "Share of workloads on closed APIs"),
    ("workload_share_open_any", "Share of workloads on open weights (self-hosted or fine-tuned)"),
    ("stack_share_hybrid", "Share of enterprises running hybrid stacks"),
    ("stack_share_closed", "Share of enterprises on closed APIs only"),
    ("plans_to_expand_open", "Share of enterprises planning to expand open use"),
)
DEFAULT_COMPARE_DATES = ("2026Q4", "2028Q4", "2030Q4")


@dataclass
class ComparisonResult:
    frame: pd.DataFrame          # tidy, every scenario
    table: pd.DataFrame          # the comparison table (see sim.compare.comparison_table)
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
                      progress=None) -> ComparisonResult:
    """Run (or reuse) each scenario and the reference with the same seeds; write
    ``outputs/compare/<timestamp>-<hash8>/`` with the tidy table, the comparison table, fan
    charts, when the scenarios span the what-to-watch 2x2 the matrix figure, and ``report.html``
    (:func:`sim.report.build_report`)."""
    import hashlib

    from sim import compare

    reference_scenario = resolve(reference, replications=replications)
    resolved = [resolve(source) for source in sources]
    compare.check_distinct(sources, resolved, reference, reference_scenario)
    everything = [reference_scenario] + compare.aligned(resolved, reference_scenario)
    for quarter in dates:
        if quarter not in reference_scenario.quarters:
            raise ScenarioError(f"--at {quarter} is outside the horizon {reference_scenario.horizon.start}.."
                                f"{reference_scenario.horizon.end}", file=str(reference))
    parent = None if out is None else storage.output_folder(out, "compare")
    frames, runs = [], {}
    for scenario in everything:
        folder = find_run(scenario, out) if (reuse and out is not None) else None
        if folder is not None:
            frames.append(pd.read_parquet(folder / "quarterly.parquet"))
        else:
            result = run_scenario(scenario, workers=workers, out=out)
            frames.append(result.frame)
            folder = result.folder
        runs[scenario.name] = str(folder) if folder else None
        if progress:
            progress(scenario.name)
    frame = pd.concat(frames, ignore_index=True)
    table = compare.comparison_table(frame, reference_scenario.name,
                                     [metric for metric, _ in COMPARE_METRICS], list(dates))
    if parent is None:
        return ComparisonResult(frame, table, None, runs)
    digest = hashlib.sha256("".join(scenario_hash(s) for s in everything).encode()
                            + ",".join(dates).encode()).hexdigest()
    with storage.new_folder(parent, f"{time.strftime('%Y%m%d-%H%M%S')}-{digest[:8]}") as folder:
        storage.write_parquet(folder.staging / "comparison.parquet", frame)
        storage.write_csv(folder.staging / "comparison.csv", table)
        storage.write_json(folder.staging / "manifest.json", {
            "reference": reference_scenario.name, "dates": list(dates),
            "scenarios": {s.name: {"scenario_hash": scenario_hash(s), "run_folder": runs[s.name],
                                   "description": s.description, "axes": s.axes} for s in everything},
            "seed": reference_scenario.seed, "replications": reference_scenario.replications,
            "versions": provenance.versions(), "git_commit": provenance.git_commit(),
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds")})
        from sim.plots import plot_comparison

        plot_comparison(frame, table, COMPARE_METRICS, folder.staging / "plots",
                        matrix=compare.watch_matrix(everything), matrix_quarter=reference_scenario.horizon.end)
        from sim.report import build_report

        build_report(folder.staging)
    return ComparisonResult(frame, table, folder.path, runs)


def comparison_display(table: pd.DataFrame, reference: str) -> str:
    """The comparison table for a terminal: mean [5-95%] and paired difference [90% CI]."""
    labels = dict(COMPARE_METRICS)
    lines = []
    for metric, rows in table.groupby("metric", sort=False):
        lines.append(f"\n{labels.get(metric, metric)}")
        shown = rows.assign(
            level=rows.apply(lambda r: f"{r['mean']:6.1%} [{r['p5']:.1%}, {r['p95']:.1%}]", axis=1),
            change=rows.apply(lambda r: "" if r["scenario"] == reference else
                              f"{r['difference']:+6.1%} [{r['difference_low']:+.1%}, {r['difference_high']:+.1%}]",
                              axis=1))
        lines.append(shown.pivot(index="scenario", columns="quarter", values="level")
                     .reindex(list(dict.fromkeys(rows["scenario"]))).to_string())
        lines.append(f"  change vs {reference} (paired, 90% CI):")
        lines.append(shown[shown["scenario"] != reference].pivot(index="scenario", columns="quarter", values="change")
                     .reindex([s for s in dict.fromkeys(rows["scenario"]) if s != reference]).to_string())
    return "\n".join(lines)
