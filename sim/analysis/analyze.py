"""``adoptsim analyze``: every analysis a sweep's design supports, written to ``analysis/``.

* every design: ``point_summary.csv``, each outcome's mean and 5-95% range over the
  replications of each design point;
* Sobol and Morris designs: ``sensitivity.csv`` (indices of every outcome) and a bar plot per
  outcome, ``sensitivity_<outcome>.png``;
* grids: ``heatmap_<outcome>__<x>__<y>.png`` for every pair of parameters and
  ``lines_<outcome>__<parameter>.png`` for every parameter;
* each PRIM condition (from the sweep file's ``analysis.prim`` and from the caller):
  ``prim_<condition>_trajectory.csv``, ``prim_<condition>_limits.csv`` and ``prim_<condition>.png``.

Files are written atomically; running the analysis again replaces them with the same content.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from sim.running import storage
from sim.analysis.data import SweepData, load_sweep_data, slug
from sim.analysis.prim import PrimResult, discover
from sim.analysis.sensitivity import METHODS, sensitivity_table
from sim.views.plots import BAND_HIGH, BAND_LOW
from sim.sweep.spec import PrimSpec, SweepError, parse_condition
from sim.sweep.store import STATUS_FINISHED

ANALYSIS_FOLDER = "analysis"
_OPERATOR_WORDS = {">=": "ge", "<=": "le", ">": "gt", "<": "lt"}


@dataclass
class SweepAnalysis:
    """What the analysis found and wrote."""

    folder: Path
    files: list[Path] = field(default_factory=list)
    sensitivity: pd.DataFrame | None = None
    prim: list[PrimResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def analyze_sweep(folder: str | Path, *, prim: Sequence[str | PrimSpec] = (), plots: bool = True,
                  seed: int = 0) -> SweepAnalysis:
    """Analyse a finished sweep folder into its ``analysis/`` folder (see the module docstring)
    and (re)build the folder's ``report.html`` with the results.
    ``prim`` adds conditions to those of the sweep file, e.g.
    ``"workload_share_open_any@2030Q4 >= 0.25"``; ``seed`` seeds the bootstrap intervals."""
    data = load_sweep_data(folder)
    conditions = _prim_specs(data, prim)
    analysis = SweepAnalysis(storage.output_folder(data.folder, ANALYSIS_FOLDER))
    failed = int((data.results["status"] != STATUS_FINISHED).sum())
    if failed:
        analysis.notes.append(f"{failed} failed run(s) are left out")
    analysis.files.append(storage.write_csv(analysis.folder / "point_summary.csv", point_summary(data)))
    if data.design.method in METHODS:
        _sensitivity(data, analysis, plots, seed)
    if data.design.method == "grid" and plots:
        _grid_plots(data, analysis)
    for spec in conditions:
        _prim(data, spec, analysis, plots)
    from sim.views.report import build_report

    analysis.files.append(build_report(data.folder))
    return analysis


def _prim_specs(data: SweepData, extra: Sequence[str | PrimSpec]) -> list[PrimSpec]:
    """The sweep file's PRIM conditions and the caller's, each once."""
    specs = list(data.spec.analysis.prim)
    for item in extra:
        try:
            spec = PrimSpec(condition=item) if isinstance(item, str) else item
        except ValidationError as error:
            raise SweepError(error.errors()[0]["msg"].removeprefix("Value error, "),
                             file=f"--prim {item}") from None
        outcome = parse_condition(spec.condition).outcome
        if outcome not in data.outcomes:
            raise SweepError(f"'{outcome}' is not an outcome of this sweep; outcomes: "
                             f"{', '.join(data.outcomes)}", file=f"--prim {item}")
        specs.append(spec)
    unique: dict[str, PrimSpec] = {}
    for spec in specs:
        unique.setdefault(spec.condition, spec)
    return list(unique.values())


def point_summary(data: SweepData) -> pd.DataFrame:
    """Per design point and outcome: the parameter values, then mean, p5 and p95 over the
    point's finished replications, and how many there are."""
    runs = data.results[data.results["status"] == STATUS_FINISHED]
    long = runs.melt(id_vars=["design_point", *data.parameters], value_vars=data.outcomes,
                     var_name="outcome")
    grouped = long.groupby(["design_point", *data.parameters, "outcome"], sort=False,
                           observed=True)["value"]
    summary = grouped.agg(mean="mean", runs="count")
    summary["p5"] = grouped.quantile(BAND_LOW)
    summary["p95"] = grouped.quantile(BAND_HIGH)
    return summary.reset_index()[["design_point", *data.parameters, "outcome", "mean", "p5",
                                  "p95", "runs"]].sort_values(["outcome", "design_point"],
                                                              kind="stable")


def _sensitivity(data: SweepData, analysis: SweepAnalysis, plots: bool, seed: int) -> None:
    from sim.views.sweep_plots import plot_sensitivity

    table = sensitivity_table(data, seed=seed)
    left_out = sorted(set(data.outcomes) - set(table.get("outcome", ())))
    if left_out:
        analysis.notes.append(f"no sensitivity indices for {', '.join(left_out)}: some design "
                              "points have no finished run")
    if table.empty:
        return
    analysis.sensitivity = table
    analysis.files.append(storage.write_csv(analysis.folder / "sensitivity.csv", table))
    if plots:
        for outcome, rows in table.groupby("outcome", sort=False):
            analysis.files.append(plot_sensitivity(
                rows.drop(columns="outcome").set_index("parameter"), data.design.method, outcome,
                analysis.folder / f"sensitivity_{slug(outcome)}.png",
                {name: data.label(name) for name in data.parameters}))


def _grid_plots(data: SweepData, analysis: SweepAnalysis) -> None:
    from sim.views.sweep_plots import plot_heatmap, plot_lines

    runs = data.results[data.results["status"] == STATUS_FINISHED]
    labels = {name: data.label(name) for name in data.parameters}
    levels = {name: data.spec.parameters[name].choices for name in data.parameters}
    for outcome in data.outcomes:
        for x, y in itertools.combinations(data.parameters, 2):
            name = f"heatmap_{slug(outcome)}__{slug(x)}__{slug(y)}.png"
            analysis.files.append(plot_heatmap(runs, outcome, x, y, analysis.folder / name,
                                               labels, levels))
        for parameter in data.parameters:
            hue = next((name for name in data.parameters if name != parameter), None)
            name = f"lines_{slug(outcome)}__{slug(parameter)}.png"
            analysis.files.append(plot_lines(runs, outcome, parameter, analysis.folder / name,
                                             hue, labels, levels))


def _prim(data: SweepData, spec: PrimSpec, analysis: SweepAnalysis, plots: bool) -> None:
    condition = parse_condition(spec.condition)
    name = f"prim_{slug(condition.outcome)}_{_OPERATOR_WORDS[condition.op]}_{condition.value:g}"
    try:
        result = discover(data, spec)
    except ValueError as error:
        analysis.notes.append(f"PRIM for {spec.condition}: {error}")
        return
    analysis.prim.append(result)
    analysis.files.append(storage.write_csv(analysis.folder / f"{name}_trajectory.csv",
                                            result.trajectory.reset_index()))
    analysis.files.append(storage.write_csv(analysis.folder / f"{name}_limits.csv", result.limits))
    if plots:
        from sim.views.sweep_plots import plot_prim

        analysis.files.append(plot_prim(result, analysis.folder / f"{name}.png"))
