"""Quarterly metrics, overall and by segment, aggregated with bincount over integer cell codes.

Every workload belongs to one cell (sector x region x size x workload class) and every enterprise
to one cell (sector x region x size). Each quarter one bincount per quantity fills the cells; the
segments ("all", "sector=banking", "region=eu", "size=large", "class=privacy_sensitive") are
margins of those small cubes. Workload sums run over the workloads that have arrived (a superset
of those deployed), in workload order; no pandas, no per-segment loops over workloads. Values are
kept as a (quarters, metrics, segments) array per
replication; segments a metric does not have, or with nothing to measure, stay NaN.
:func:`non_finite_value` checks a replication's values: never infinite, and NaN only where the
metric table allows a metric to be missing.
"""

from __future__ import annotations

import numpy as np

from sim.core.economics import MONTHS_PER_QUARTER
from sim.core.kernel import CLOSED, NOT_DEPLOYED, OPTIONS, STACKS
from sim.core.metric_table import (
    FRONTIER_WORK_NEED,
    METRIC_NAMES,
    METRICS,
    SHARE_FAMILIES,
    TOTAL_FAMILIES,
    deployment_metric,
    stack_metric,
)
from sim.core.schema import EVENT_TYPES, REGIONS, SECTOR_NAMES, SIZES, WORKLOAD_CLASSES
from sim.core.signal_table import SIGNALS
from sim.errors import InternalError

ENTERPRISE_DIMENSIONS = (("sector", SECTOR_NAMES), ("region", REGIONS), ("size", SIZES))
WORKLOAD_DIMENSIONS = ENTERPRISE_DIMENSIONS + (("class", WORKLOAD_CLASSES),)
SEGMENTS = (("all",)
            + tuple(f"{dim}={value}" for dim, values in WORKLOAD_DIMENSIONS for value in values)
            + tuple(f"event={kind}" for kind in EVENT_TYPES))
_WORKLOAD_SEGMENTS = 1 + sum(len(values) for _, values in WORKLOAD_DIMENSIONS)
_ENTERPRISE_SEGMENTS = 1 + sum(len(values) for _, values in ENTERPRISE_DIMENSIONS)
_REGION_SEGMENTS = [SEGMENTS.index(f"region={region}") for region in REGIONS]
_EVENT_SEGMENTS = [SEGMENTS.index(f"event={kind}") for kind in EVENT_TYPES]

#: Each metric's row in a replication's (quarters, metrics, segments) values.
METRIC_INDEX = {name: i for i, name in enumerate(METRIC_NAMES)}


def _metric_cells() -> np.ndarray:
    """(metrics, segments): True in the segments each metric has (by its table row's
    ``segments``); the other cells always stay NaN."""
    segments_of = {"workload": list(range(_WORKLOAD_SEGMENTS)),
                   "enterprise": list(range(_ENTERPRISE_SEGMENTS)),
                   "event": [0, *_EVENT_SEGMENTS], "signal": [0], "region": _REGION_SEGMENTS}
    cells = np.zeros((len(METRIC_NAMES), len(SEGMENTS)), dtype=bool)
    for row, spec in enumerate(METRICS):
        cells[row, segments_of[spec.segments]] = True
    return cells


#: (metrics, segments): the segments each metric has.
METRIC_CELLS = _metric_cells()
#: (metrics, segments): the cells that always hold a value (the metric may not be missing).
VALUE_REQUIRED = METRIC_CELLS & ~np.array([spec.may_be_missing for spec in METRICS])[:, None]


class NonFiniteMetric(InternalError):
    """A replication produced an infinite value, or no value where its metric must have one:
    the schema should have refused the scenario (exit code 1)."""


def non_finite_value(values: np.ndarray, quarters) -> str | None:
    """Where a replication's ``values`` (quarters, metrics, segments; ``quarters`` their
    labels) first hold an infinite value, or no value (NaN) in a segment of a metric that may
    not be missing (``MetricSpec.may_be_missing``), in words naming the metric, segment and
    quarter; None when every value is as it should be."""
    wrong = np.isinf(values) | (np.isnan(values) & VALUE_REQUIRED)
    if not wrong.any():
        return None
    quarter, metric, segment = np.argwhere(wrong)[0]
    value = values[quarter, metric, segment]
    return (f"{METRIC_NAMES[metric]}, segment {SEGMENTS[segment]}, quarter {quarters[quarter]} "
            f"is {'missing (NaN)' if np.isnan(value) else f'{value:g}'}")


def margins(cube: np.ndarray, dimensions: int) -> np.ndarray:
    """Totals of a (d1, ..., dk, extra) cube: overall, then per value of each dimension in turn."""
    axes = tuple(range(dimensions))
    parts = [cube.sum(axis=axes)[None]]
    for keep in axes:
        parts.append(cube.sum(axis=tuple(a for a in axes if a != keep)))
    return np.concatenate(parts, axis=0)


def _share(part: np.ndarray, whole: np.ndarray) -> np.ndarray:
    return np.divide(part, whole, out=np.full(np.broadcast(part, whole).shape, np.nan),
                     where=whole > 0)


class MetricCollector:
    """Collects one replication's metrics, quarter by quarter, into ``values``.

    ``represents`` is how many real enterprises one simulated enterprise stands for
    (``market.real_per_simulated``): totals of spend and tokens are multiplied by it."""

    def __init__(self, population, quarter_count: int, represents: float = 1.0):
        self.population = population
        self.represents = represents
        self.values = np.full((quarter_count, len(METRIC_NAMES), len(SEGMENTS)), np.nan)
        enterprise_cell = ((population.sector.astype(np.int64) * len(REGIONS) + population.region)
                           * len(SIZES) + population.size_band)
        self.enterprise_cell = enterprise_cell
        self.workload_cell = (enterprise_cell[population.owner] * len(WORKLOAD_CLASSES)
                              + population.workload_class)
        self.enterprise_shape = (len(SECTOR_NAMES), len(REGIONS), len(SIZES))
        self.workload_shape = self.enterprise_shape + (len(WORKLOAD_CLASSES),)
        # per enterprise segment (all, then each sector, region and size): who is in it
        self.enterprise_segments = [np.ones(population.enterprises, dtype=bool)] + [
            codes == value
            for codes, names in zip((population.sector, population.region, population.size_band),
                                    (SECTOR_NAMES, REGIONS, SIZES))
            for value in range(len(names))]
        # (index, cell code * 4) of arrived workloads
        self._arrived: tuple | None = None

    def _cell_codes(self, index: np.ndarray) -> np.ndarray:
        """Cell code * 4 of the arrived workloads ``index``; kept while the set does not
        change."""
        if self._arrived is None or self._arrived[0] is not index:
            self._arrived = (index, self.workload_cell.take(index) * 4)
        return self._arrived[1]

    def _workload_cube(self, code: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        """Margins of per-cell sums over the three options (``code`` = cell * 4 + state, state 3 =
        not deployed)."""
        cells = int(np.prod(self.workload_shape))
        cube = np.bincount(code, weights=weights, minlength=cells * 4).reshape(
            self.workload_shape + (4,)
        )
        return margins(cube[..., :3], len(self.workload_shape))

    def collect(self, quarter: int, *, deployment, stack, stack_before, plans, switched, costs,
                platform_usd, break_even, events, signals) -> None:
        """Record quarter ``quarter`` (0 = horizon start) from the state after its choices.

        ``costs`` are the arrived workloads' tokens and option costs
        (:class:`sim.core.kernel.WorkloadCosts`), ``platform_usd`` each enterprise's open-platform
        cost, ``break_even`` the break-even volumes (million tokens a quarter) of a routine and
        a frontier workload per enterprise."""
        row = self.values[quarter]
        self._workload_metrics(row, deployment, costs, platform_usd)
        self._enterprise_metrics(row, stack, stack_before, plans, switched, break_even)
        kinds = [event.type for event in events]
        row[METRIC_INDEX["vendor_events"], 0] = len(kinds)
        row[METRIC_INDEX["vendor_events"], _EVENT_SEGMENTS] = [
            kinds.count(kind) for kind in EVENT_TYPES
        ]
        for spec in SIGNALS:
            where = _REGION_SEGMENTS if spec.regional else 0
            row[METRIC_INDEX[spec.metric], where] = getattr(signals, spec.name)

    def _workload_metrics(self, row, deployment, costs, platform_usd) -> None:
        """Shares by deployment (by count, tokens and spend), spend and token totals, and the
        price paid per million tokens.

        Spend is what enterprises pay: for closed work the API bill, for open work the GPUs and
        engineers of the workload plus the enterprise's open-platform cost, shared equally
        among its open workloads."""
        index = costs.index
        owner = self.population.owner.take(index)
        deployment = deployment.take(index)
        state = deployment.view(np.uint8) & np.uint8(3)        # NOT_DEPLOYED (-1) -> 3
        code = np.add(self._cell_codes(index), state, dtype=np.int64)
        runs_open = deployment > CLOSED
        open_workloads = np.bincount(owner, weights=runs_open, minlength=platform_usd.size)
        platform_each = np.divide(platform_usd, open_workloads, out=np.zeros_like(platform_usd),
                                  where=open_workloads > 0)
        spend = costs.options[np.minimum(state, 2), np.arange(index.size)]
        spend += runs_open * platform_each.take(owner)
        counts = self._workload_cube(code, None)
        by_family = {"workload_share": counts,
                     "volume_share": self._workload_cube(code, costs.volume),
                     "spend_share": self._workload_cube(code, spend)}
        segments = slice(0, _WORKLOAD_SEGMENTS)
        for family in SHARE_FAMILIES:
            per_option = by_family[family]
            total = per_option.sum(axis=1)
            for option, name in enumerate(OPTIONS):
                row[METRIC_INDEX[deployment_metric(family, name).name], segments] = _share(
                    per_option[:, option], total)
            row[METRIC_INDEX[deployment_metric(family, "open_any").name], segments] = _share(
                per_option[:, 1:].sum(axis=1), total)
        totals = {"spend_usd": by_family["spend_share"] * self.represents,
                  "tokens_mtok": by_family["volume_share"] * self.represents}
        totals["price_paid_usd_per_mtok"] = _share(totals["spend_usd"], totals["tokens_mtok"])
        for family in TOTAL_FAMILIES:
            for option, name in enumerate(OPTIONS):
                row[METRIC_INDEX[deployment_metric(family, name).name], segments] = (
                    totals[family][:, option])
        frontier_closed = (costs.frontier_need >= FRONTIER_WORK_NEED) & (deployment == CLOSED)
        row[METRIC_INDEX["price_paid_usd_per_mtok_frontier_work"], segments] = _share(
            self._workload_cube(code, spend * frontier_closed)[:, CLOSED],
            self._workload_cube(code, costs.volume * frontier_closed)[:, CLOSED])
        row[METRIC_INDEX["workloads"], segments] = counts.sum(axis=1)

    def _enterprise_metrics(self, row, stack, stack_before, plans, switched, break_even) -> None:
        """Shares of enterprises by stack, plans to expand open use, switches, enterprises using
        AI, and the median break-even volumes of those using AI."""
        cells = int(np.prod(self.enterprise_shape))
        by_stack = np.bincount(self.enterprise_cell * 4 + (stack + 1), minlength=cells * 4)
        by_stack = margins(by_stack.reshape(self.enterprise_shape + (4,))[..., 1:], 3)
        existing = stack_before != NOT_DEPLOYED
        per_cell = np.column_stack(
            [
                np.bincount(self.enterprise_cell, weights=weights, minlength=cells)
                for weights in (plans & existing, existing, switched)
            ]
        ).reshape(self.enterprise_shape + (3,))
        plans_cube = margins(per_cell, 3)
        segments = slice(0, _ENTERPRISE_SEGMENTS)
        using = by_stack.sum(axis=1)
        for code, name in enumerate(STACKS):
            row[METRIC_INDEX[stack_metric(name).name], segments] = _share(by_stack[:, code], using)
        row[METRIC_INDEX["plans_to_expand_open"], segments] = _share(
            plans_cube[:, 0], plans_cube[:, 1]
        )
        row[METRIC_INDEX["switches"], segments] = plans_cube[:, 2]
        row[METRIC_INDEX["enterprises_using_ai"], segments] = using
        uses_ai = stack != NOT_DEPLOYED
        for metric, volume in zip(("break_even_mtok_per_month_routine",
                                   "break_even_mtok_per_month_frontier"), break_even):
            row[METRIC_INDEX[metric], segments] = [
                _finite_median(volume[members & uses_ai] / MONTHS_PER_QUARTER)
                for members in self.enterprise_segments]


def _finite_median(values: np.ndarray) -> float:
    """The median, NaN when there are no values or it is infinite (most never break even)."""
    if values.size == 0:
        return np.nan
    median = float(np.median(values))
    return median if np.isfinite(median) else np.nan
