"""Signposts: the observable figures that tell a scenario from the reference earliest.

The article's "what to watch", made concrete for a comparison (the tidy frame of
:func:`sim.workflows.compare_scenarios`, every scenario run with the reference's seeds). An
*indicator* is an observable metric (:data:`sim.core.metric_table.OBSERVABLE_METRICS`: what a
survey could measure) in a segment (``all``, or one sector, region, size or workload class) at a
quarter after measured history (:data:`sim.core.quarters.HISTORY_END`: what has been measured is
known, a signpost is still to be observed). For each scenario and indicator, replication r of
the scenario is paired with replication r of the reference (common random numbers), giving R
values of each.

**Threshold and reliability.** The threshold is the midpoint between two neighbouring values of
the 2R that best separates the scenario's values from the reference's, in the direction that
separates better: ``above`` (the scenario's values above it, the reference's below) or ``below``.
Its *reliability* is the share of the 2R values it classifies correctly (a value equal to the
threshold counts as wrong). Equal best thresholds: the one nearest the middle of the two means,
then the lower; equal directions: the direction of the difference of the means, then ``above``.
When no threshold classifies more than half of the values correctly (identical sets of values,
say) there is none, and the reliability is one half. The reliability is (1 + D) / 2, D the
two-sample Kolmogorov-Smirnov statistic.

**Chance.** The best of many thresholds over many indicators separates some by luck: with 2
replications any indicator separates perfectly, with 8 a perfect split of two sets that do not
differ happens once in 6,435 indicators, and a comparison searches thousands. An indicator's
*chance* is the probability that two sets of R values from one distribution are separated at
least as well (the exact null distribution of D for two samples of R). A signpost must have a
reliability of at least ``level`` and a chance of at most ``false_alarm`` divided by the number of
indicators searched for the scenario (Bonferroni), so a scenario that changes nothing observable
shows a false signpost with probability under ``false_alarm``. Indicators whose values equal the
reference's replication by replication (everything before the scenario's first change) cannot
raise a false alarm and are not counted; neither are indicators some replication did not measure
(a segment with nothing in it). Too few replications then give no signpost at all, and the
search says how many would do.

**The signpost table.** Per scenario, each indicator's earliest quarter reaching the level; of
the indicators one survey question answers (:attr:`sim.core.metric_table.MetricSpec.question`:
the closed and the open share of workloads are one question), the best; the ``top`` best in
order: earliest first, then most reliable, then best separated (the difference of the means over
the replications' pooled standard deviation), then the metric table's order and the segments'.

Tables only: the report's words are :mod:`sim.views.report.comparison`'s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import pandas as pd

from sim.core.metric_table import METRIC_BY_NAME, OBSERVABLE_METRICS
from sim.core.metrics import SEGMENTS, WORKLOAD_DIMENSIONS
from sim.core.quarters import HISTORY_END, parse_quarter

DEFAULT_LEVEL = 0.9
DEFAULT_FALSE_ALARM = 0.05
DEFAULT_TOP = 5
#: The segments an indicator may be in: all, and every sector, region, size and workload class.
SIGNPOST_SEGMENTS = tuple(segment for segment in SEGMENTS
                          if segment == "all"
                          or segment.split("=")[0] in {dim for dim, _ in WORKLOAD_DIMENSIONS})
#: The columns of the signpost table.
COLUMNS = ("scenario", "reference", "rank", "metric", "segment", "quarter", "direction",
           "threshold", "reliability", "chance", "scenario_mean", "reference_mean", "separation",
           "replications")
_MOST_REPLICATIONS = 10_000
_INDICATOR = ["metric", "segment", "quarter"]


@dataclass(frozen=True)
class Separation:
    """The best threshold of each row of two (rows, R) arrays: how many of the 2R values it
    classifies correctly, its direction (1: the scenario's values above it, -1: below, 0: no
    threshold) and its value (NaN when there is none)."""

    correct: np.ndarray
    direction: np.ndarray
    threshold: np.ndarray


def separate(scenario: np.ndarray, reference: np.ndarray) -> Separation:
    """The best threshold between ``scenario[i]`` and ``reference[i]`` for every row i (two
    (rows, R) arrays without NaN), by the rules of the module docstring."""
    count = scenario.shape[1]
    values = np.concatenate([scenario, reference], axis=1)
    order = np.argsort(values, axis=1, kind="stable")
    ordered = np.take_along_axis(values, order, axis=1)
    scenario_below = np.cumsum(order < count, axis=1)[:, :-1]   # among the k lowest, k=1..2R-1
    lowest = np.arange(1, 2 * count)[None, :]
    above = (lowest - scenario_below) + (count - scenario_below)
    cuts = ordered[:, 1:] > ordered[:, :-1]
    midpoints = ordered[:, :-1] + (ordered[:, 1:] - ordered[:, :-1]) / 2
    best_above = np.where(cuts, above, -1).max(axis=1, initial=-1)
    best_below = np.where(cuts, 2 * count - above, -1).max(axis=1, initial=-1)
    means = scenario.mean(axis=1), reference.mean(axis=1)
    up = (best_above > best_below) | ((best_above == best_below) & (means[0] >= means[1]))
    best = np.maximum(best_above, best_below)
    chosen = cuts & (np.where(up[:, None], above, 2 * count - above) == best[:, None])
    distance = np.where(chosen, np.abs(midpoints - ((means[0] + means[1]) / 2)[:, None]), np.inf)
    threshold = np.take_along_axis(midpoints, np.argmin(distance, axis=1)[:, None], axis=1)[:, 0]
    separable = best > count
    return Separation(correct=np.where(separable, best, count),
                      direction=np.where(separable, np.where(up, 1, -1), 0),
                      threshold=np.where(separable, threshold, np.nan))


def chance(correct: int, replications: int) -> float:
    """The probability that two sets of ``replications`` values drawn from one continuous
    distribution are separated with at least ``correct`` of the 2R values right: the exact
    two-sided null distribution of the two-sample Kolmogorov-Smirnov statistic for equal sizes,
    P(D >= k/R) with k = correct - R (Gnedenko and Korolyuk)."""
    step = correct - replications
    if step <= 0:
        return 1.0
    total = sum((-1) ** (j + 1) * math.comb(2 * replications, replications - j * step)
                for j in range(1, replications // step + 1))
    return float(Fraction(2 * total, math.comb(2 * replications, replications)))


def needed_correct(level: float, replications: int, max_chance: float) -> int | None:
    """The fewest of the 2R values a signpost must classify correctly: a reliability of at least
    ``level`` and a chance of at most ``max_chance`` (None: not even all 2R would do)."""
    lowest = math.ceil(round(level * 2 * replications, 9))
    return next((correct for correct in range(max(lowest, 0), 2 * replications + 1)
                 if chance(correct, replications) <= max_chance), None)


def replications_needed(level: float, max_chance: float) -> int | None:
    """The fewest replications with which a reliability of ``level`` can be a signpost at
    ``max_chance`` (None beyond 10,000)."""
    return next((count for count in range(1, _MOST_REPLICATIONS + 1)
                 if needed_correct(level, count, max_chance) is not None), None)


def _paired(frame: pd.DataFrame, reference: str, after: str | None) -> pd.DataFrame:
    """The observable indicators' values after the quarter ``after`` (None: every quarter), one
    row per (scenario, metric, segment, quarter) and one column per replication the reference
    has, the reference's rows included."""
    quarters = [q for q in frame["quarter"].unique()
                if after is None or parse_quarter(q) > parse_quarter(after)]
    rows = frame[frame["metric"].isin(OBSERVABLE_METRICS)
                 & frame["segment"].isin(SIGNPOST_SEGMENTS) & frame["quarter"].isin(quarters)]
    wide = rows.pivot(index=["scenario", *_INDICATOR], columns="replication", values="value")
    replications = sorted(rows.loc[rows["scenario"] == reference, "replication"].unique())
    return wide.reindex(columns=replications)


def indicator_table(frame: pd.DataFrame, reference: str, scenario: str, *,
                    after: str | None = HISTORY_END) -> pd.DataFrame:
    """Every indicator of ``scenario`` after the quarter ``after`` that every replication of both
    measured: metric, segment, quarter, direction ("above", "below" or ""), threshold, correct
    (of the 2R values), reliability, scenario_mean, reference_mean, separation, replications and
    ``differs`` (whether some replication's value differs from the reference's)."""
    return _indicators(_paired(frame, reference, after), reference, scenario)


def _indicators(wide: pd.DataFrame, reference: str, scenario: str) -> pd.DataFrame:
    ours = wide.xs(scenario, level="scenario")
    theirs = wide.xs(reference, level="scenario").reindex(ours.index)
    x, y = ours.to_numpy(dtype=float), theirs.to_numpy(dtype=float)
    complete = ~(np.isnan(x).any(axis=1) | np.isnan(y).any(axis=1)) & (x.shape[1] > 0)
    x, y = x[complete], y[complete]
    found = separate(x, y)
    count = x.shape[1]
    spread = np.sqrt((x.var(axis=1, ddof=1) + y.var(axis=1, ddof=1)) / 2) if count > 1 else 0
    difference = np.abs(x.mean(axis=1) - y.mean(axis=1))
    with np.errstate(divide="ignore", invalid="ignore"):
        separation = np.where(difference > 0, difference / spread, 0.0)
    table = ours.index[complete].to_frame(index=False)
    return table.assign(
        direction=np.array(["below", "", "above"])[found.direction + 1],
        threshold=found.threshold, correct=found.correct,
        reliability=found.correct / (2 * count) if count else 0.5,
        scenario_mean=x.mean(axis=1), reference_mean=y.mean(axis=1), separation=separation,
        replications=count, differs=(x != y).any(axis=1))


@dataclass(frozen=True)
class Signposts:
    """The signpost table (:data:`COLUMNS`, ranked per scenario) and how each scenario was
    searched (``search``: scenario -> indicators searched, the chance a signpost may have at
    most, the reliability it needs with these replications (None: none suffices) and the
    replications a signpost at ``level`` needs), up to the quarter ``until``."""

    table: pd.DataFrame
    search: dict[str, dict]
    reference: str
    level: float
    false_alarm: float
    until: str | None   # the last quarter searched

    def record(self) -> dict:
        """The settings and the search, for a manifest."""
        return {"reference": self.reference, "level": self.level,
                "false_alarm": self.false_alarm, "until": self.until, "search": self.search}


def find_signposts(frame: pd.DataFrame, reference: str, *, level: float = DEFAULT_LEVEL,
                   false_alarm: float = DEFAULT_FALSE_ALARM, top: int | None = DEFAULT_TOP,
                   after: str | None = HISTORY_END) -> Signposts:
    """The signposts of every scenario of the tidy ``frame`` against ``reference`` (see the
    module docstring), searched after the quarter ``after`` (None: every quarter): at most
    ``top`` per scenario (None: one per survey question)."""
    if not 0.5 < level <= 1:
        raise ValueError(f"level {level} must lie in (0.5, 1]")
    if not 0 < false_alarm < 1:
        raise ValueError(f"false_alarm {false_alarm} must lie in (0, 1)")
    wide = _paired(frame, reference, after)
    tables, search = [], {}
    for scenario in dict.fromkeys(frame["scenario"]):
        if scenario == reference:
            continue
        indicators = _indicators(wide, reference, scenario)
        searched = int(indicators["differs"].sum())
        count = int(indicators["replications"].max()) if len(indicators) else 0
        max_chance = false_alarm / max(searched, 1)
        needed = needed_correct(level, count, max_chance) if count else None
        search[str(scenario)] = {
            "indicators": searched, "replications": count, "max_chance": max_chance,
            "min_reliability": None if needed is None else needed / (2 * count),
            "replications_needed": replications_needed(level, max_chance)}
        if needed is not None:
            passing = indicators[indicators["differs"] & (indicators["correct"] >= needed)]
            tables.append(_ranked(passing, str(scenario), reference, top))
    table = (pd.concat(tables, ignore_index=True) if tables
             else pd.DataFrame({column: [] for column in COLUMNS}))
    quarters = frame["quarter"].unique()
    until = max(quarters, key=parse_quarter) if len(quarters) else None
    return Signposts(table[list(COLUMNS)], search, reference, level, false_alarm, until)


def _ranked(passing: pd.DataFrame, scenario: str, reference: str,
            top: int | None) -> pd.DataFrame:
    """Each indicator's earliest passing quarter, the best indicator per survey question, in
    ranking order, the first ``top``."""
    metric_order = {name: i for i, name in enumerate(OBSERVABLE_METRICS)}
    segment_order = {name: i for i, name in enumerate(SIGNPOST_SEGMENTS)}
    keyed = passing.assign(
        _quarter=passing["quarter"].map(parse_quarter), _reliability=-passing["reliability"],
        _separation=-passing["separation"], _metric=passing["metric"].map(metric_order),
        _segment=passing["segment"].map(segment_order),
        _question=passing["metric"].map(lambda name: METRIC_BY_NAME[name].question))
    order = ["_quarter", "_reliability", "_separation", "_metric", "_segment"]
    earliest = (keyed.sort_values(["_metric", "_segment", "_quarter"])
                .drop_duplicates(["metric", "segment"]))
    best = earliest.sort_values(order).drop_duplicates("_question")
    best = best.head(top) if top is not None else best
    return best.assign(
        scenario=scenario, reference=reference, rank=np.arange(1, len(best) + 1),
        chance=[chance(int(c), int(r)) for c, r in zip(best["correct"], best["replications"])],
    ).reset_index(drop=True)
