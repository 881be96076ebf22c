"""The tables of a sweep's analysis, written to its ``analysis/`` folder.

:func:`analyze_tables` computes every table the sweep's design supports and writes it:

* every design: ``point_summary.csv``, each outcome's mean and 5-95% range over the
  replications of each design point;
* Sobol and Morris designs: ``sensitivity.csv``, the indices of every outcome;
* each PRIM condition (from the sweep file's ``analysis.prim`` and from the caller):
  ``<name>_trajectory.csv`` and ``<name>_limits.csv``, and ``prim.json``, which lists the
  conditions with their name (``prim_<outcome>_<op>_<value>``), threshold, chosen box and files.

The figures and the report are drawn from these by :func:`sim.views.sweep_analysis.analyze_sweep`
(``sim.analyze_sweep``, what ``adoptsim analyze`` does), which calls this first. Files are
written atomically; analysing again replaces them with the same content.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from sim.analysis.data import PRIM_FILE, SweepData, load_sweep_data, slug
from sim.analysis.prim import PrimResult, discover
from sim.analysis.sensitivity import METHODS, sensitivity_table
from sim.running import storage
from sim.running.runner import SUMMARY_QUANTILES
from sim.sweep.spec import OPERATORS, PrimSpec, SweepError, parse_condition


@dataclass
class SweepAnalysis:
    """What the analysis found and wrote: the sweep it read, the files, the sensitivity table,
    the PRIM results with the name each one's files take (``prim_names``, in order) and notes."""

    data: SweepData
    folder: Path
    files: list[Path] = field(default_factory=list)
    sensitivity: pd.DataFrame | None = None
    prim: list[PrimResult] = field(default_factory=list)
    prim_names: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def analyze_tables(folder: str | Path, *, prim: Sequence[str | PrimSpec] = (),
                   seed: int = 0) -> SweepAnalysis:
    """Analyse a finished sweep folder into its ``analysis/`` folder: the tables of the module
    docstring, no figures. ``prim`` adds conditions to those of the sweep file, e.g.
    ``"workload_share_open_any@2030Q4 >= 0.25"``; ``seed`` seeds the bootstrap intervals."""
    data = load_sweep_data(folder)
    conditions = _prim_specs(data, prim)
    analysis = SweepAnalysis(data, storage.output_folder(data.analysis_folder))
    failed = len(data.results) - len(data.finished)
    if failed:
        analysis.notes.append(f"{failed} failed run(s) are left out")
    analysis.files.append(
        storage.write_csv(analysis.folder / "point_summary.csv", point_summary(data))
    )
    if data.design.method in METHODS:
        _sensitivity(data, analysis, seed)
    for spec in conditions:
        _prim(data, spec, analysis)
    analysis.files.append(storage.write_json(analysis.folder / PRIM_FILE, {"prim": [
        {"name": name, "condition": result.condition, "threshold": result.threshold,
         "selected": result.selected, "trajectory": f"{name}_trajectory.csv",
         "limits": f"{name}_limits.csv"}
        for name, result in zip(analysis.prim_names, analysis.prim)]}))
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
    long = data.finished.melt(id_vars=["design_point", *data.parameters], value_vars=data.outcomes,
                     var_name="outcome")
    grouped = long.groupby(["design_point", *data.parameters, "outcome"], sort=False,
                           observed=True)["value"]
    summary = grouped.agg(mean="mean", runs="count")
    summary["p5"] = grouped.quantile(SUMMARY_QUANTILES["p5"])
    summary["p95"] = grouped.quantile(SUMMARY_QUANTILES["p95"])
    return summary.reset_index()[["design_point", *data.parameters, "outcome", "mean", "p5",
                                  "p95", "runs"]].sort_values(["outcome", "design_point"],
                                                              kind="stable")


def _sensitivity(data: SweepData, analysis: SweepAnalysis, seed: int) -> None:
    table = sensitivity_table(data, seed=seed)
    left_out = sorted(set(data.outcomes) - set(table.get("outcome", ())))
    if left_out:
        analysis.notes.append(f"no sensitivity indices for {', '.join(left_out)}: some design "
                              "points have no finished run")
    if table.empty:
        return
    analysis.sensitivity = table
    analysis.files.append(storage.write_csv(analysis.folder / "sensitivity.csv", table))


def prim_name(condition: str) -> str:
    """The name a PRIM condition's files take: ``prim_<outcome>_<op>_<value>``."""
    parsed = parse_condition(condition)
    return f"prim_{slug(parsed.outcome)}_{OPERATORS[parsed.op].word}_{parsed.value:g}"


def _prim(data: SweepData, spec: PrimSpec, analysis: SweepAnalysis) -> None:
    try:
        result = discover(data, spec)
    except ValueError as error:
        analysis.notes.append(f"PRIM for {spec.condition}: {error}")
        return
    name = prim_name(spec.condition)
    analysis.prim.append(result)
    analysis.prim_names.append(name)
    analysis.files.append(storage.write_csv(analysis.folder / f"{name}_trajectory.csv",
                                            result.trajectory.reset_index()))
    analysis.files.append(storage.write_csv(analysis.folder / f"{name}_limits.csv", result.limits))
