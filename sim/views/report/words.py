"""Numbers in words, as every report writes them: a figure's mean and 90% interval
(:class:`Stat`), percentages and other figures (:func:`number`) in prose and in table cells,
amounts ("2.51 million"), quarters ("the end of 2025"), lists ("a, b and c") and what an interval
over replications holds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.views.style import is_share


@dataclass(frozen=True)
class Stat:
    """Mean and 90% interval (5th and 95th percentile over replications) of one figure."""

    mean: float
    p5: float
    p95: float

    @classmethod
    def of(cls, values) -> Stat | None:
        """The mean and 90% interval of per-replication ``values``, NaN ones left out (as the
        run's summary computes them); None when none is a number."""
        import numpy as np

        values = np.asarray(values, dtype=float)
        values = values[~np.isnan(values)]
        if values.size == 0:
            return None
        low, high = np.quantile(values, [0.05, 0.95])
        return cls(float(values.mean()), float(low), float(high))


def pct(value: float, digits: int = 0) -> str:
    return f"{value * 100:.{digits}f}%"


def pct_interval(stat: Stat, digits: int = 0) -> str:
    """"77% (75-79%)" for prose."""
    return (f"{pct(stat.mean, digits)} "
            f"({stat.p5 * 100:.{digits}f}&ndash;{stat.p95 * 100:.{digits}f}%)")


def interval_meaning(draws: dict | None) -> str:
    """What a 90% interval over replications holds, from a manifest's ``posterior_draws``."""
    if draws:
        return (
            f"Each replication ran with its own draw of the calibrated parameters "
            f"({len(draws.get('parameters') or [])} parameters, {draws.get('draws')} draws), so "
            f"the interval holds both chance and what the calibration leaves uncertain about "
            f"the parameters."
        )
    return ("Every replication ran at the same parameter values, so the interval holds chance "
            "only, not the uncertainty of the calibrated parameters.")


def share_cell(stat: Stat | None) -> str:
    """A table cell's HTML: the mean, and its 90% interval in small type below."""
    if stat is None:
        return "&ndash;"
    return (f"{pct(stat.mean, 1)}<span class=\"interval\">"
            f"{stat.p5 * 100:.1f}&ndash;{stat.p95 * 100:.1f}</span>")


def when(quarter: str) -> str:
    """"2025Q4" -> "the end of 2025 (2025Q4)"; other quarters by name."""
    year, q = quarter.split("Q")
    words = {"1": "the first quarter", "2": "the second quarter", "3": "the third quarter",
             "4": "the end"}[q]
    return f"{words} of {year} ({quarter})"


def join_words(parts: Sequence[str]) -> str:
    """"a, b and c" ("" for no parts)."""
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


def amount(value: float) -> str:
    """A number in words, three significant digits: "2.51 million", "4.2 billion", "1,250",
    "0.0123"."""
    for size, word in ((1e12, "trillion"), (1e9, "billion"), (1e6, "million")):
        if abs(value) >= size:
            return f"{value / size:.3g} {word}"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def figure_value(value: float, metric: str) -> str:
    """A value in the metric's unit: percent for shares, else three significant digits."""
    return pct(value, 1) if is_share(metric) else f"{value:.3g}"


def number(value: float, digits: int = 3) -> str:
    """``value`` to ``digits`` significant digits with thousands separators: 1234.5 ->
    "1,230", 3.4375 -> "3.44", 0.000412 -> "0.000412"."""
    import math

    if value == 0 or not math.isfinite(value):
        return f"{value:g}"
    places = digits - 1 - math.floor(math.log10(abs(value)))
    return f"{round(value, places):,.{max(places, 0)}f}"


def stat_cell(stat: Stat | None) -> str:
    """A table cell's HTML for a figure in its own unit: the mean and, in small type, its 90%
    interval (:func:`number`)."""
    if stat is None:
        return "&ndash;"
    return (f"{number(stat.mean)}<span class=\"interval\">"
            f"{number(stat.p5)}&ndash;{number(stat.p95)}</span>")


def usd(value: float | None) -> str:
    """"USD 1.2m", "USD 23k", "USD 550" (a dash when unknown)."""
    if value is None:
        return "&ndash;"
    if abs(value) >= 1e6:
        return f"USD {value / 1e6:.1f}m"
    if abs(value) >= 1e4:
        return f"USD {value / 1e3:.0f}k"
    if abs(value) >= 1e3:
        return f"USD {value / 1e3:.1f}k"
    return f"USD {value:.0f}"


def tokens(millions: float | None) -> str:
    """Millions of tokens a month in words: "600 million", "2.3 billion" ("never" when None)."""
    if millions is None:
        return "never"
    if millions >= 1e3:
        return f"{millions / 1e3:.3g} billion"
    return f"{millions:.3g} million"
