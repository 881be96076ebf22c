"""What the trend figures share: band tables (the mean over replications and the 5th-95th
percentile band, one row per quarter) and drawing them on a time axis of quarters.

The input is a tidy :class:`pandas.DataFrame` with columns ``scenario``, ``replication``,
``quarter`` ("2025Q4"), ``metric``, ``segment`` ("all", "sector=banking", "class=...", ...) and
``value``. Every trend is drawn the same way: the mean over replications as a line and the
5th-95th percentile band over replications as a shaded area (:func:`band_table` computes both,
:func:`draw_band` draws them), with years on the x axis (:func:`format_time_axis`) and shares
in percent (:func:`format_share_axis`). matplotlib is imported inside the functions that need it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd

from sim.views.style import BAND_ALPHA, BAND_HIGH, BAND_LOW

_LINE_WIDTH = 2.0
_MAX_YEAR_TICKS = 10


def band_table(frame: pd.DataFrame, metric: str, segment: str = "all",
               scenario: str | None = None) -> pd.DataFrame:
    """Mean and 5th/95th percentiles of ``metric`` over replications, one row per quarter.

    Returns a frame indexed by quarter (sorted) with float columns ``mean``, ``p5`` and ``p95``
    (percentiles by linear interpolation, as :meth:`pandas.Series.quantile`). ``scenario``
    optionally restricts a multi-scenario frame to one scenario. Raises :class:`KeyError` when
    the frame holds no rows for the metric and segment.
    """
    mask = (frame["metric"] == metric) & (frame["segment"] == segment)
    if scenario is not None:
        mask &= frame["scenario"] == scenario
    rows = frame.loc[mask, ["replication", "quarter", "value"]]
    if rows.empty:
        where = f" in scenario '{scenario}'" if scenario is not None else ""
        raise KeyError(f"no rows for metric '{metric}', segment '{segment}'{where}")
    return quarter_bands(rows)


def quarter_bands(rows: pd.DataFrame) -> pd.DataFrame:
    """Band table of rows with columns ``quarter`` and ``value`` (one row per replication)."""
    grouped = rows.groupby("quarter", sort=True, observed=True)["value"]
    quantiles = grouped.quantile([BAND_LOW, BAND_HIGH]).unstack()
    table = pd.DataFrame({
        "mean": grouped.mean(),
        "p5": quantiles[BAND_LOW],
        "p95": quantiles[BAND_HIGH],
    }).astype(float)
    table.index.name = "quarter"
    return table


def product_bands(frame: pd.DataFrame, first: str, second: str,
                  segment: str = "all") -> pd.DataFrame:
    """Band table of ``first * second``, multiplied within each replication and quarter."""
    def values(metric: str) -> pd.Series:
        selected = frame[(frame["metric"] == metric) & (frame["segment"] == segment)]
        return selected.groupby(["replication", "quarter"], observed=True)["value"].mean()

    product = (values(first) * values(second)).dropna()
    if product.empty:
        raise KeyError(f"no replication and quarter holds both '{first}' and '{second}'")
    return quarter_bands(product.rename("value").reset_index())


# --- drawing them ------------------------------------------------------------------------------

def quarter_dates(quarters: Sequence[str]) -> pd.DatetimeIndex:
    """First day of each "YYYYQn" quarter, for a date x axis."""
    return pd.PeriodIndex(list(quarters), freq="Q").to_timestamp(how="start")


def draw_band(ax: Any, table: pd.DataFrame, *, label: str, colour: str,
              linestyle: str = "-") -> None:
    """Draw a band table: the mean as a line, the 5-95% range as a shaded band."""
    dates = quarter_dates(table.index)
    if (table["p95"] > table["p5"]).any():
        ax.fill_between(dates, table["p5"], table["p95"], color=colour, alpha=BAND_ALPHA,
                        linewidth=0)
    ax.plot(dates, table["mean"], color=colour, linestyle=linestyle, linewidth=_LINE_WIDTH,
            label=label)


def format_time_axis(ax: Any, quarters: Sequence[str]) -> None:
    """Dates on the x axis, labelled by year (every year, or every few years on long ranges).

    Ticks are fixed at year starts (major) and quarter starts (minor) rather than found by
    matplotlib's date locators, which are several times slower to draw.
    """
    import matplotlib.dates as mdates
    from matplotlib.ticker import FixedFormatter, FixedLocator

    dates = quarter_dates(quarters)
    first, last = dates[0].year, dates[-1].year
    step = max(1, math.ceil((last - first + 1) / _MAX_YEAR_TICKS))
    year_starts = [pd.Timestamp(year, 1, 1) for year in range(first, last + 1, step)]
    year_starts = [start for start in year_starts if start >= dates[0]]
    ax.xaxis.set_major_locator(FixedLocator(mdates.date2num(year_starts)))
    ax.xaxis.set_major_formatter(FixedFormatter([str(start.year) for start in year_starts]))
    ax.xaxis.set_minor_locator(FixedLocator(mdates.date2num(dates)))
    ax.set_xlim(dates[0], dates[-1] + pd.offsets.QuarterEnd(0))
    ax.set_xlabel("")


def format_share_axis(ax: Any, label: str, whole: bool = True) -> None:
    """Percent y axis for values stored as fractions; ``whole`` pins it to 0-100%."""
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    if whole:
        ax.set_ylim(0.0, 1.0)
    else:
        ax.set_ylim(bottom=0.0)
    ax.set_ylabel(label)


def band_caption(frame: pd.DataFrame) -> str:
    """Footnote: scenario, and what the line and band show."""
    runs = frame["replication"].nunique()
    if runs > 1:
        text = (f"Line: mean of {runs} replications; band: {BAND_LOW:.0%}-{BAND_HIGH:.0%} "
                "range across replications")
    else:
        text = "One replication"
    if "scenario" in frame.columns and frame["scenario"].nunique() == 1:
        text = f"Scenario: {frame['scenario'].iloc[0]}.  {text}"
    return text
