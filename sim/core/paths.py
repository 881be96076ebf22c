"""The arithmetic of a signal's path: dated points, trends, logistic curves, revisions, noise.

A signal (:class:`sim.core.schema.Signal`) is given as dated points (linearly interpolated, flat
before the first point, and after the last unless an ``extend`` trend continues it), an
exponential or linear trend, or a logistic curve, optionally revised from some quarter on and
optionally with seeded AR(1) noise, folded back into the signal's range (:func:`fold`). The
functions here evaluate one signal at absolute quarter numbers
(:func:`sim.core.quarters.parse_quarter`); they read the signal's fields only, so the schema can
use them to check that a path stays within its signal's range.
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
    with np.errstate(over="ignore"):   # an overflowing path is inf, which the schema refuses
        return start_value * (1.0 + rate) ** years


def _between(path: np.ndarray, first: float, second: float) -> np.ndarray:
    """``path`` (a curve or interpolation that lies between the values ``first`` and ``second``)
    with the ulp that rounding may take it past them taken back: only rounding, so a path whose
    values are within a signal's range stays in it."""
    return np.clip(path, min(first, second), max(first, second))


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
        with np.errstate(over="ignore"):   # far from the midpoint exp overflows: the bound
            path = curve.lower + (curve.upper - curve.lower) / (
                1.0 + np.exp(-curve.steepness * years))
        return _between(path, curve.lower, curve.upper)
    dated = sorted((parse_quarter(q), value) for q, value in signal.points.items())
    known_quarters = np.array([q for q, _ in dated], dtype=float)
    known_values = np.array([v for _, v in dated], dtype=float)
    path = _between(np.interp(quarters, known_quarters, known_values), known_values.min(),
                    known_values.max())
    if signal.extend is not None:
        last_quarter, last_value = dated[-1]
        after = quarters > last_quarter
        years = (quarters[after] - last_quarter) / 4.0
        path[after] = _grow(last_value, signal.extend.annual_rate, years, signal.extend.form)
    return path


def fold(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """``values`` reflected back into ``low``..``high`` at its bounds, as often as it takes (a
    triangle wave: a value that overshoots ``high`` by ``d`` lands at ``high - d``, one that
    overshoots ``low`` at ``low + d``); values inside are returned unchanged. ``low`` may be
    ``-inf`` (only ``high`` reflects). Finite for any finite input, deterministic, and a value
    lands on a bound only where the unfolded one crossed it exactly there: nothing piles up at
    the bounds as with a clamp."""
    inside = (values >= low) & (values <= high)
    if np.isinf(low):
        folded = np.where(values > high, high - (values - high), values)
    else:
        width = high - low
        phase = np.mod(values - low, 2.0 * width)
        folded = np.where(phase > width, high - (phase - width), low + phase)
    # the arithmetic can round a folded value an ulp past a bound; only that is put back
    return np.where(inside, values, np.clip(folded, low, high))


def with_noise(path: np.ndarray, signal, rng: np.random.Generator, spec) -> np.ndarray:
    """The path with the signal's AR(1) noise, kept within ``spec``'s range by folding.

    The noise is e_t = persistence * e_(t-1) + sd * sqrt(1 - persistence^2) * z_t (stationary,
    standard deviation ``sd``). Additive noise adds e_t to the path and folds the sum back into
    the signal's range at its bounds (:func:`fold`). Multiplicative noise multiplies the path by
    exp(e_t), that is adds e_t to the log of the path, and folds in log scale: at log ``high``,
    and at log ``low`` when ``low`` is above 0 (a positive signal stays positive, and a path at 0
    stays at 0). The schema caps ``sd`` (:class:`sim.core.schema.Noise`), so the noise never
    overflows before folding; the result is always finite and within the range, and the path
    itself is, by the schema's checks.

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
    if noise.form == "additive":
        return fold(path + errors, spec.low, spec.high)
    with np.errstate(divide="ignore"):   # a path at 0 has log -inf, and stays at 0
        log_low = np.log(spec.low) if spec.low > 0 else -np.inf
        log_path = np.log(path)
    noisy = np.exp(fold(log_path + errors, log_low, np.log(spec.high)))
    return np.where(path > 0, np.clip(noisy, spec.low, spec.high), path)
