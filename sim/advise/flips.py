"""What would flip a recommendation: the signal values at which it changes.

A recommendation is the deployment most posterior draws give a workload (:func:`recommend`).
For each candidate signal (:data:`FLIP_SIGNALS`: every signal of the table that is not regional
and sits on a panel of :data:`FLIP_PANELS`, the prices, GPU rent and tooling a strategist can
watch), :func:`thresholds` sets the signal, for every draw at once, to values away from where
it stands (the median over the draws), up and down, holding everything else, and finds the
first value at which the workload's recommendation differs: a scan over :data:`GRID_POINTS`
values to the end of the signal's range, then :data:`BISECTIONS` halvings of the step where it
changed. The range searched is a factor of :data:`SEARCH_FACTOR` either way of where the signal
stands (prices, rents and indices move by factors), within the signal's own range
(:class:`sim.core.signal_table.SignalSpec`'s ``low`` and ``high``). A direction in which nothing
changes within the range reports no threshold. Steps are geometric for positive signals (prices
and rents move by factors), even for the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from sim.core.kernel import OPTIONS
from sim.core.signal_table import SIGNALS, SignalSpec

FLIP_PANELS = ("prices", "hosting", "tooling")
FLIP_SIGNALS: tuple[SignalSpec, ...] = tuple(
    spec for spec in SIGNALS if not spec.regional and spec.panel in FLIP_PANELS)
GRID_POINTS = 12
BISECTIONS = 10
SEARCH_FACTOR = 10.0
DIRECTIONS = ("up", "down")


def recommend(allocation: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(recommended option per workload, share of draws per option and workload) of an
    allocation over (..., draws, workloads): the option most draws give, the first of equals in
    the order of :data:`sim.core.kernel.OPTIONS`."""
    shares = np.stack([(allocation == option).mean(axis=-2) for option in range(len(OPTIONS))],
                      axis=-2)
    return shares.argmax(axis=-2), shares


@dataclass(frozen=True)
class Threshold:
    """Where one signal flips one workload's recommendation, in one direction."""

    workload: int
    signal: str
    direction: str          # "up" or "down"
    now: float              # the signal's value (median over the draws)
    bound: float            # the end of the range searched
    value: float | None     # the first value giving another recommendation, or None
    becomes: str | None     # that recommendation


def search_range(spec: SignalSpec, now: float) -> dict[str, float]:
    """The end of the range searched in each direction from ``now``: :data:`SEARCH_FACTOR`
    times or over its value for a positive signal, the range's bounds for one that may be 0
    (tooling maturity, a gap), never beyond the signal's range."""
    if spec.positive:
        return {"up": min(now * SEARCH_FACTOR, spec.high),
                "down": max(now / SEARCH_FACTOR, spec.low)}
    return {"up": spec.high, "down": spec.low}


def _between(start, end, fraction, geometric: bool):
    """The value ``fraction`` of the way from ``start`` to ``end`` (geometric: by factors)."""
    if geometric:
        return start * np.power(end / start, fraction)
    return start + (end - start) * fraction


Recommender = Callable[[str, np.ndarray], np.ndarray]
"""(signal name, values) -> the recommended option per value and workload."""


def thresholds(spec: SignalSpec, now: float, recommender: Recommender) -> list[Threshold]:
    """The thresholds of one signal for every workload, in both directions, from the
    recommendations with the signal at ``now`` (every draw at the same value); ``recommender``
    evaluates the recommendations with the signal set to each of some values."""
    geometric = spec.positive and now > 0
    bounds = search_range(spec, now)
    fractions = np.arange(1, GRID_POINTS + 1) / GRID_POINTS
    grid = {direction: _between(now, bounds[direction], fractions, geometric)
            for direction in DIRECTIONS}
    current, *scanned = recommender(spec.name, np.concatenate([[now]] + [grid[d]
                                                                         for d in DIRECTIONS]))
    scanned = np.array(scanned)
    found, brackets = [], []
    for index, direction in enumerate(DIRECTIONS):
        changed = scanned[index * GRID_POINTS:(index + 1) * GRID_POINTS] != current
        for workload in range(current.size):
            hits = np.flatnonzero(changed[:, workload])
            if hits.size == 0 or bounds[direction] == now:
                found.append(Threshold(workload, spec.name, direction, now, bounds[direction],
                                       None, None))
                continue
            step = hits[0]
            start = now if step == 0 else grid[direction][step - 1]
            brackets.append([workload, direction, start, grid[direction][step],
                             int(scanned[index * GRID_POINTS + step, workload])])
    for _ in range(BISECTIONS if brackets else 0):
        middle = np.array([_between(start, end, 0.5, geometric)
                           for _, _, start, end, _ in brackets])
        answers = recommender(spec.name, middle)
        for bracket, value, answer in zip(brackets, middle, answers):
            workload = bracket[0]
            if answer[workload] == current[workload]:
                bracket[2] = value
            else:
                bracket[3], bracket[4] = value, int(answer[workload])
    found += [Threshold(workload, spec.name, direction, now, bounds[direction], float(end),
                        OPTIONS[becomes])
              for workload, direction, _, end, becomes in brackets]
    return sorted(found, key=lambda t: (t.workload, DIRECTIONS.index(t.direction)))
