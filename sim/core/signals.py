"""Exogenous signal paths: the article's forces as quarterly series in their own units.

:func:`signal_paths` turns a scenario's ``signals`` block into arrays, one value per quarter of
the horizon, for every signal of the table (:data:`sim.core.signal_table.SIGNALS`); the path
arithmetic is :mod:`sim.core.paths`. The schema has already checked that every path lies within
its signal's range.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from sim.core.economics import adopted_price_path
from sim.core.paths import deterministic_path, with_noise
from sim.core.quarters import parse_quarter
from sim.core.schema import REGIONS, Scenario, planned_quarter_count
from sim.core.signal_table import SIGNALS


def _at(self, quarter: int):
    """The signals of one quarter (scalars, and a regions vector for a regional signal), for
    the model's step."""
    return type(self)(**{spec.name: getattr(self, spec.name)[quarter] for spec in SIGNALS})


SignalPaths = dataclasses.make_dataclass(
    "SignalPaths", [(spec.name, np.ndarray) for spec in SIGNALS], frozen=True,
    namespace={"at": _at, "__module__": __name__,
               "__doc__": "One value per quarter for each signal of the table; a regional signal "
                          "is (quarters, regions)."})


def _collect(scenario: Scenario, evaluate) -> SignalPaths:
    """Every signal of the table, each path from ``evaluate(spec, signal)``."""
    paths = {}
    for spec in SIGNALS:
        given = getattr(scenario.signals, spec.name)
        if spec.regional:
            paths[spec.name] = np.column_stack([evaluate(spec, given[region])
                                                for region in REGIONS])
        else:
            paths[spec.name] = evaluate(spec, given)
    return SignalPaths(**paths)


def expected_signal_paths(scenario: Scenario) -> SignalPaths:
    """The noise-free paths over the horizon and the ``planning_horizon`` quarters beyond it:
    the trend enterprises plan on when they form intentions."""
    start = parse_quarter(scenario.horizon.start)
    quarters = np.arange(start, start + planned_quarter_count(scenario), dtype=float)
    return _collect(scenario, lambda spec, signal: deterministic_path(signal, quarters))


def paid_signal_paths(paths: SignalPaths, behaviour) -> SignalPaths:
    """The signals as decisions and bills read them: ``paths`` with the price of a fixed
    capability replaced by the one routine work pays, which follows the market's at
    ``behaviour.price_adoption_rate`` (:func:`sim.core.economics.adopted_price_path`). The
    market's own path is what the signal metrics record."""
    return dataclasses.replace(paths, fixed_capability_price_usd_per_mtok=adopted_price_path(
        paths.fixed_capability_price_usd_per_mtok, behaviour.price_adoption_rate))


def expected_paid_signal_paths(scenario: Scenario) -> SignalPaths:
    """The noise-free paths as decisions read them (:func:`expected_signal_paths` through
    :func:`paid_signal_paths`): what enterprises plan on, and what advice is given under."""
    return paid_signal_paths(expected_signal_paths(scenario), scenario.behaviour)


def signal_paths(scenario: Scenario, rng: np.random.Generator) -> SignalPaths:
    """Evaluate every signal of the scenario over its horizon, with its noise.

    Each signal consumes the same number of draws from ``rng`` whether or not it has noise, so
    switching noise on for one signal leaves every other signal's draws in place. Noise never
    takes a path outside its signal's range: it is folded back at the range's bounds
    (:func:`sim.core.paths.with_noise`), never held there.
    """
    start = parse_quarter(scenario.horizon.start)
    quarters = np.arange(start, start + scenario.horizon.quarter_count, dtype=float)
    return _collect(scenario, lambda spec, signal: with_noise(
        deterministic_path(signal, quarters), signal, rng, spec))
