"""What the commands do, as functions a notebook can call with the same result.

``run_scenario`` loads a scenario, runs its replications, and writes a run folder
(``outputs/<scenario>/<timestamp>-<hash8>/``) with the manifest, the tidy quarterly table, the
summary and the plots. The command line (:mod:`sim.cli`) only parses arguments and calls these.
"""

from __future__ import annotations

import platform
import subprocess
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

import pandas as pd

from sim import runner, storage
from sim.quarters import parse_quarter
from sim.scenario import load_scenario, scenario_hash
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


def _versions() -> dict:
    packages = {name: metadata.version(name) for name in ("mesa", "numpy", "pandas", "pyarrow", "pydantic")}
    return {"adoptsim": metadata.version("adoptsim"), "python": platform.python_version(), **packages}


def _git_commit() -> str | None:
    try:
        result = subprocess.run(["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent,
                                capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def manifest(result: runner.Replications, digest: str) -> dict:
    scenario = result.scenario
    return {
        "scenario": scenario.name,
        "scenario_hash": digest,
        "resolved_scenario": scenario.model_dump(mode="json"),
        "seed": scenario.seed,
        "replications": scenario.replications,
        "replication_seeds": [{"entropy": s.entropy, "spawn_key": list(s.spawn_key)} for s in result.seeds],
        "versions": _versions(),
        "git_commit": _git_commit(),
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
    the summary at 2025Q4 and the horizon end, and the run folder's path.
    """
    scenario = resolve(source, replications=replications, seed=seed, overrides=overrides)
    result = runner.run_replications(scenario, workers=workers, progress=progress)
    frame = runner.tidy(result.values, scenario)
    summary = runner.summarize(frame, snapshot_quarters(scenario))
    digest = scenario_hash(scenario)
    info = manifest(result, digest)
    if out is None:
        return RunResult(scenario, frame, summary, None, info)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    with storage.new_folder(Path(out) / scenario.name, f"{stamp}-{digest[:8]}") as folder:
        storage.write_json(folder.staging / "manifest.json", info)
        storage.write_parquet(folder.staging / "quarterly.parquet", frame)
        storage.write_csv(folder.staging / "summary.csv", summary)
        if plots:
            from sim.plots import plot_run

            plot_run(frame, folder.staging / "plots")
    return RunResult(scenario, frame, summary, folder.path, info)
