"""The arithmetic of a signal's path: dated points, trends, logistic curves, revisions, noise.

A signal (:class:`sim.core.schema.Signal`) is given as dated points (linearly interpolated, flat
before the first point, and after the last unless an ``extend`` trend continues it), an
exponential or linear trend, or a logistic curve, optionally revised from some quarter on and
optionally with seeded AR(1) noise. The functions here evaluate one signal at absolute quarter
numbers (:func:`sim.core.quarters.parse_quarter`); they read the signal's fields only, so the
schema can use them to check that a path stays within its signal's range.
"""

from __future__ import annotations

import numpy as np

from sim.core.quarters import format_quarter, parse_quarter


def _years_since(quarters: np.ndarray, start: str) -> np.ndarray:
    return (quarters - parse_quarter(start)) / 4.0


def _grow(start_value: float, rate: float, years: np.ndarray, form: str) -> np.ndarray:
    """``start_value`` grown for ``years`` at ``rate`` a year: compound (exponential) or by
    ``rate`` each year (linear)."""
    if form == "linear":
        return start_value + rate * years
    return start_value * (1.0 + rate) ** years


def deterministic_path(signal, quarters: np.ndarray) -> np.ndarray:
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


def _base_path(signal, quarters: np.ndarray) -> np.ndarray:
    """The path of the signal's own form (points, trend or logistic), without its revision."""
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


def with_noise(path: np.ndarray, signal, rng: np.random.Generator) -> np.ndarray:
    """Add AR(1) noise: e_t = persistence * e_(t-1) + sd * sqrt(1 - persistence^2) * z_t.

    Draws one standard normal per quarter whether or not the signal has noise, so switching noise
    on for one signal leaves every other signal's draws in place."""
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
