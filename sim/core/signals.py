"""Exogenous signal paths: the article's forces as quarterly series in their own units.

A scenario gives each signal as dated points (linearly interpolated, flat before the first point,
and after the last unless an ``extend`` trend continues it), an exponential or linear trend, or a
logistic curve, optionally with seeded AR(1) noise. :func:`signal_paths` turns the scenario's
``signals`` block into arrays, one value per quarter of the horizon.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.core.quarters import format_quarter, parse_quarter
from sim.core.schema import MAX_PLANNING_HORIZON, REGIONS, Scenario, Signal

# Physical bounds of each signal; noise never pushes a path outside them.
BOUNDS: dict[str, tuple[float, float]] = {
    "benchmark_gap": (0.0, 100.0),
    "task_parity": (0.0, 1.0),
    "frontier_gap": (0.0, 100.0),
    "closed_price_index": (1e-6, np.inf),
    "open_cost_ratio": (1e-6, np.inf),
    "hardware_cost_index": (1e-6, np.inf),
    "tooling_maturity": (0.0, 1.0),
    "regulatory_pressure": (0.0, 1.0),
}
SCALAR_SIGNALS = ("benchmark_gap", "task_parity", "frontier_gap", "closed_price_index",
                  "open_cost_ratio", "hardware_cost_index", "tooling_maturity")


@dataclass(frozen=True)
class SignalPaths:
    """One value per quarter for each signal; regulatory pressure is (quarters, regions)."""

    benchmark_gap: np.ndarray
    task_parity: np.ndarray
    frontier_gap: np.ndarray
    closed_price_index: np.ndarray
    open_cost_ratio: np.ndarray
    hardware_cost_index: np.ndarray
    tooling_maturity: np.ndarray
    regulatory_pressure: np.ndarray

    def at(self, quarter: int) -> SignalPaths:
        """The signals of one quarter (scalars, and a regions vector), for the model's step."""
        return SignalPaths(
            **{name: getattr(self, name)[quarter] for name in self.__dataclass_fields__}
        )


def _years_since(quarters: np.ndarray, start: str) -> np.ndarray:
    return (quarters - parse_quarter(start)) / 4.0


def _grow(start_value: float, rate: float, years: np.ndarray, form: str) -> np.ndarray:
    if form == "linear":
        return start_value + rate * years
    return start_value * (1.0 + rate) ** years


def deterministic_path(signal: Signal, quarters: np.ndarray) -> np.ndarray:
    """The noise-free path of one signal at the given absolute quarters, revisions applied."""
    path = _base_path(signal, quarters)
    if signal.after is None:
        return path
    start = parse_quarter(signal.after.quarter)
    revised = signal.after.path
    anchor = format_quarter(start - 1)
    if revised.points is not None and anchor not in revised.points:
        anchor_value = float(deterministic_path(signal.model_copy(update={"after": None}),
                                                np.array([start - 1.0]))[0])
        revised = revised.model_copy(update={"points": {anchor: anchor_value, **revised.points}})
    later = quarters >= start
    path[later] = deterministic_path(revised, quarters[later])
    return path


def _base_path(signal: Signal, quarters: np.ndarray) -> np.ndarray:
    if signal.trend is not None:
        trend = signal.trend
        return _grow(
            trend.start_value, trend.annual_rate, _years_since(quarters, trend.start), trend.form
        )
    if signal.logistic is not None:
        curve = signal.logistic
        years = _years_since(quarters, curve.midpoint)
        return curve.lower + (curve.upper - curve.lower) / (1.0 + np.exp(-curve.steepness * years))
    dated = sorted((parse_quarter(q), value) for q, value in signal.points.items())
    known_quarters = np.array([q for q, _ in dated], dtype=float)
    known_values = np.array([v for _, v in dated], dtype=float)
    path = np.interp(quarters, known_quarters, known_values)
    if signal.extend is not None:
        last_quarter, last_value = dated[-1]
        after = quarters > last_quarter
        years = (quarters[after] - last_quarter) / 4.0
        path[after] = _grow(last_value, signal.extend.annual_rate, years, signal.extend.form)
    return path


def _with_noise(path: np.ndarray, signal: Signal, rng: np.random.Generator) -> np.ndarray:
    """Add AR(1) noise: e_t = persistence * e_(t-1) + sd * sqrt(1 - persistence^2) * z_t."""
    shocks = rng.standard_normal(path.shape[0])
    if signal.noise is None or signal.noise.sd == 0.0:
        return path
    noise = signal.noise
    innovation_sd = noise.sd * np.sqrt(1.0 - noise.persistence ** 2)
    errors = np.empty_like(path)
    errors[0] = noise.sd * shocks[0]
    for t in range(1, path.shape[0]):
        errors[t] = noise.persistence * errors[t - 1] + innovation_sd * shocks[t]
    if noise.form == "multiplicative":
        return path * np.exp(errors)
    return path + errors


def expected_signal_paths(scenario: Scenario) -> SignalPaths:
    """The noise-free paths over the horizon and ``MAX_PLANNING_HORIZON`` quarters beyond it:
    the trend enterprises plan on when they form intentions."""
    start = parse_quarter(scenario.horizon.start)
    quarters = np.arange(
        start, start + scenario.horizon.quarter_count + MAX_PLANNING_HORIZON, dtype=float
    )

    def evaluate(name: str, signal: Signal) -> np.ndarray:
        return np.clip(deterministic_path(signal, quarters), *BOUNDS[name])

    return _collect(scenario, evaluate)


def _collect(scenario: Scenario, evaluate) -> SignalPaths:
    signals = scenario.signals
    paths = {name: evaluate(name, getattr(signals, name)) for name in SCALAR_SIGNALS}
    pressure = np.column_stack([evaluate("regulatory_pressure", signals.regulatory_pressure[region])
                                for region in REGIONS])
    return SignalPaths(**paths, regulatory_pressure=pressure)


def signal_paths(scenario: Scenario, rng: np.random.Generator) -> SignalPaths:
    """Evaluate every signal of the scenario over its horizon.

    Each signal consumes the same number of draws from ``rng`` whether or not it has noise, so
    switching noise on for one signal leaves every other signal's draws in place.
    """
    start = parse_quarter(scenario.horizon.start)
    quarters = np.arange(start, start + scenario.horizon.quarter_count, dtype=float)

    def evaluate(name: str, signal: Signal) -> np.ndarray:
        return np.clip(
            _with_noise(deterministic_path(signal, quarters), signal, rng), *BOUNDS[name]
        )

    return _collect(scenario, evaluate)
