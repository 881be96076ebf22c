"""Numbers in words, as every report writes them: a figure's mean and 90% interval
(:class:`Stat`), percentages in prose and in table cells, quarters ("the end of 2025"), lists
("a, b and c") and what an interval over replications holds.
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


def figure_value(value: float, metric: str) -> str:
    """A value in the metric's unit: percent for shares, else three significant digits."""
    return pct(value, 1) if is_share(metric) else f"{value:.3g}"
