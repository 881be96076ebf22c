"""Side-by-side scenarios with common random numbers and paired differences.

Every scenario is run with the reference's seed and number of replications, so replication r of
each scenario shares its population, network, review and choice draws with replication r of the
reference (the model keeps one random stream per purpose). A difference computed replication by
replication then carries only what the scenario changes, and its interval is far narrower than
the difference of two independent runs would be: :func:`comparison_table` reports both.

Nothing here writes files or draws plots.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats

from sim.core.quarters import parse_quarter
from sim.core.scenario import load_scenario
from sim.core.schema import Scenario
from sim.core.settings_file import ScenarioError

CONFIDENCE = 0.90


def check_distinct(sources: Sequence, scenarios: Sequence[Scenario], reference_source,
                   reference: Scenario) -> None:
    """Refuse a comparison whose rows would be ambiguous: the same file twice, the reference's
    file among the scenarios, two scenarios of one name, or a scenario named like the reference
    (rows are keyed by name: they would be averaged into one, or dropped)."""
    def label(source, scenario: Scenario) -> str:
        return str(source) if isinstance(source, str | Path) else f"scenario '{scenario.name}'"

    def file(source) -> str | None:
        return os.path.realpath(source) if isinstance(source, str | Path) else None

    files = {file(reference_source)} - {None}
    names = {reference.name: f"the reference {label(reference_source, reference)}"}
    for source, scenario in zip(sources, scenarios):
        where, path = label(source, scenario), file(source)
        if path == file(reference_source) and path is not None:
            raise ScenarioError("this is the reference scenario (--reference); list only the "
                                "scenarios to compare with it", file=where)
        if path in files:
            raise ScenarioError("given twice; list each scenario once", file=where)
        if scenario.name in names:
            raise ScenarioError(f"'{scenario.name}' is also the name of {names[scenario.name]}; "
                                "the scenarios in a comparison need names of their own (rows are "
                                "kept by name)", file=where, key_path="name")
        files |= {path} - {None}
        names[scenario.name] = where


def aligned(scenarios: list[Scenario], reference: Scenario) -> list[Scenario]:
    """The scenarios with the reference's seed and replications (common random numbers);
    they must share its horizon."""
    result = []
    for scenario in scenarios:
        if scenario.horizon != reference.horizon:
            raise ScenarioError(
                f"horizon {scenario.horizon.start}..{scenario.horizon.end} differs from "
                f"the reference's {reference.horizon.start}..{reference.horizon.end}",
                file=scenario.name,
                key_path="horizon",
            )
        result.append(load_scenario(scenario, [f"seed={reference.seed}",
                                               f"replications={reference.replications}"]))
    return result


@dataclass
class Matrix:
    """Two what-to-watch axes with two positions each, and the scenario at every crossing."""

    rows: tuple[str, list[str]]       # axis name, its positions
    columns: tuple[str, list[str]]
    cells: dict[tuple[str, str], str]  # (row position, column position) -> scenario name


def watch_matrix(scenarios: list[Scenario]) -> Matrix | None:
    """The 2x2 matrix the scenarios' ``axes`` span, if they span one completely."""
    crossed = [s for s in scenarios if len(s.axes) == 2]
    if not crossed:
        return None
    names = sorted(crossed[0].axes)
    positions = {axis: sorted({s.axes[axis] for s in crossed if axis in s.axes}) for axis in names}
    cells = {
        (s.axes[names[0]], s.axes[names[1]]): s.name for s in crossed if sorted(s.axes) == names
    }
    if any(len(values) != 2 for values in positions.values()) or len(cells) != 4:
        return None
    return Matrix(rows=(names[0], positions[names[0]]), columns=(names[1], positions[names[1]]),
                  cells=cells)


def _replicate_values(frame: pd.DataFrame, metrics: list[str], quarters: list[str],
                      segment: str = "all") -> pd.DataFrame:
    """Values indexed by (scenario, metric, quarter), one column per replication."""
    rows = frame[frame["metric"].isin(metrics) & frame["quarter"].isin(quarters)
                 & (frame["segment"] == segment)]
    return rows.pivot_table(index=["scenario", "metric", "quarter"], columns="replication",
                            values="value", observed=True)


def _interval(
    centre: np.ndarray, spread: np.ndarray, replications: int
) -> tuple[np.ndarray, np.ndarray]:
    half = (
        stats.t.ppf(0.5 + CONFIDENCE / 2, max(replications - 1, 1)) * spread / np.sqrt(replications)
    )
    return centre - half, centre + half


def comparison_table(frame: pd.DataFrame, reference: str, metrics: list[str],
                     quarters: list[str]) -> pd.DataFrame:
    """Per scenario, metric and quarter: mean and 5-95% range over replications; the paired
    difference from the reference (mean and 90% confidence interval, replication by
    replication); and the interval an unpaired comparison would have given."""
    values = _replicate_values(frame, metrics, quarters)
    base = values.xs(reference, level="scenario")
    rows = []
    for (scenario, metric, quarter), series in values.iterrows():
        ours = series.to_numpy(dtype=float)
        theirs = base.loc[(metric, quarter)].to_numpy(dtype=float)
        difference = ours - theirs
        replications = difference.size
        paired = _interval(difference.mean(), difference.std(ddof=1), replications)
        unpaired = _interval(difference.mean(), np.sqrt(ours.var(ddof=1) + theirs.var(ddof=1)),
                             replications)
        rows.append(
            {
                "scenario": scenario,
                "metric": metric,
                "quarter": quarter,
                "mean": ours.mean(),
                "p5": np.quantile(ours, 0.05),
                "p95": np.quantile(ours, 0.95),
                "difference": difference.mean(),
                "difference_low": paired[0],
                "difference_high": paired[1],
                "unpaired_low": unpaired[0],
                "unpaired_high": unpaired[1],
            }
        )
    table = pd.DataFrame(rows)
    order = {name: i for i, name in enumerate(dict.fromkeys(frame["scenario"]))}
    return (
        table.assign(
            _order=table["scenario"].map(order), _quarter=table["quarter"].map(parse_quarter)
        )
        .sort_values(["_order", "metric", "_quarter"])
        .drop(columns=["_order", "_quarter"])
        .reset_index(drop=True)
    )
