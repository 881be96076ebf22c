"""Quarterly metrics, overall and by segment, aggregated with bincount over integer cell codes.

Every workload belongs to one cell (sector x region x size x workload class) and every enterprise
to one cell (sector x region x size). Each quarter one bincount per quantity fills the cells; the
segments ("all", "sector=banking", "region=eu", "size=large", "class=privacy_sensitive") are
margins of those small cubes. Workload sums run over the workloads that have arrived (a superset
of those deployed), in workload order; no pandas, no per-segment loops over workloads. Values are
kept as a (quarters, metrics, segments) array per
replication; segments a metric does not have, or with nothing to measure, stay NaN.
"""

from __future__ import annotations

import numpy as np

from sim.core.kernel import NOT_DEPLOYED, OPTIONS, STACKS
from sim.core.metric_table import METRIC_NAMES, SHARE_WEIGHTINGS, share_metric, stack_metric
from sim.core.schema import EVENT_TYPES, REGIONS, SECTOR_NAMES, SIZES, WORKLOAD_CLASSES
from sim.core.signal_table import SIGNALS

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
    """Collects one replication's metrics, quarter by quarter, into ``values``."""

    def __init__(self, population, quarter_count: int):
        self.population = population
        self.values = np.full((quarter_count, len(METRIC_NAMES), len(SEGMENTS)), np.nan)
        enterprise_cell = ((population.sector.astype(np.int64) * len(REGIONS) + population.region)
                           * len(SIZES) + population.size_band)
        self.enterprise_cell = enterprise_cell
        self.workload_cell = (enterprise_cell[population.owner] * len(WORKLOAD_CLASSES)
                              + population.workload_class)
        self.enterprise_shape = (len(SECTOR_NAMES), len(REGIONS), len(SIZES))
        self.workload_shape = self.enterprise_shape + (len(WORKLOAD_CLASSES),)
        # (index, cell code * 4, volume, owner) of arrived workloads
        self._arrived: tuple | None = None

    def _arrived_workloads(self, quarter: int) -> tuple:
        """The workloads that have arrived by ``quarter`` (every deployed one is among them), with
        their cell codes, volumes and owners; kept while the set does not change."""
        index = self.population.active_workloads(max(quarter, 0))
        if self._arrived is None or self._arrived[0] is not index:
            population = self.population
            self._arrived = (
                index,
                self.workload_cell.take(index) * 4,
                population.volume.take(index),
                population.owner.take(index),
            )
        return self._arrived

    def _workload_cube(self, code: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        """Margins of per-cell sums over the three options (``code`` = cell * 4 + state, state 3 =
        not deployed)."""
        cells = int(np.prod(self.workload_shape))
        cube = np.bincount(code, weights=weights, minlength=cells * 4).reshape(
            self.workload_shape + (4,)
        )
        return margins(cube[..., :3], len(self.workload_shape))

    def collect(self, quarter: int, *, deployment, stack, stack_before, plans, switched,
                closed_price, open_price, platform_usd, events, signals) -> None:
        """Record quarter ``quarter`` (0 = horizon start) from the state after its choices.

        Spend is what enterprises pay: API price times tokens for closed workloads; self-hosted
        cost per token times tokens, plus the enterprise's open-platform cost (``platform_usd``,
        shared equally among its open workloads), for open ones."""
        row = self.values[quarter]
        index, cell_code, volume, owner = self._arrived_workloads(quarter)
        deployment = deployment.take(index)
        code = deployment.view(np.uint8) & np.uint8(3)        # state: NOT_DEPLOYED (-1) -> 3
        code = np.add(cell_code, code, dtype=np.int64)
        counts = self._workload_cube(code, None)
        volumes = self._workload_cube(code, volume)
        unit_price = np.where(deployment == 0, closed_price.take(owner), open_price)
        token_spend = volume * unit_price
        spend = self._workload_cube(code, token_spend).sum(axis=1)
        runs_open = deployment > 0
        open_workloads = np.bincount(owner, weights=runs_open, minlength=platform_usd.size)
        platform_each = np.divide(platform_usd, open_workloads, out=np.zeros_like(platform_usd),
                                  where=open_workloads > 0)
        spends = self._workload_cube(code, token_spend + runs_open * platform_each.take(owner))
        segments = slice(0, _WORKLOAD_SEGMENTS)
        for weighting, per_option in zip(SHARE_WEIGHTINGS, (counts, volumes, spends)):
            total = per_option.sum(axis=1)
            for option, name in enumerate(OPTIONS):
                row[METRIC_INDEX[share_metric(weighting, name).name], segments] = _share(
                    per_option[:, option], total
                )
            row[METRIC_INDEX[share_metric(weighting, "open_any").name], segments] = _share(
                per_option[:, 1:].sum(axis=1), total
            )
        row[METRIC_INDEX["cost_per_mtok"], segments] = _share(spend, volumes.sum(axis=1))
        row[METRIC_INDEX["workloads"], segments] = counts.sum(axis=1)

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

        kinds = [event.type for event in events]
        row[METRIC_INDEX["vendor_events"], 0] = len(kinds)
        row[METRIC_INDEX["vendor_events"], _EVENT_SEGMENTS] = [
            kinds.count(kind) for kind in EVENT_TYPES
        ]
        for spec in SIGNALS:
            where = _REGION_SEGMENTS if spec.regional else 0
            row[METRIC_INDEX[spec.metric], where] = getattr(signals, spec.name)
