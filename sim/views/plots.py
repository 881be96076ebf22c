"""Trend plots of one simulated run, drawn from a tidy results frame and saved as PNG.

The input is a tidy :class:`pandas.DataFrame` with columns ``scenario``, ``replication``,
``quarter`` ("2025Q4"), ``metric``, ``segment`` ("all", "sector=banking", "class=...", ...) and
``value``. Every trend is drawn the same way: the mean over replications as a line and the
5th-95th percentile band over replications as a shaded area (:func:`band_table` computes both).

Public API
----------
``scenario_colours(names)``                      a stable colour per scenario name.
``band_table(frame, metric, segment)``           mean, p5 and p95 by quarter.
``plot_run(frame, folder)``                      writes the run's PNGs and returns their paths.

The palette, labels, theme and figure helpers are :mod:`sim.views.style`'s (the same deployment
or stack has the same colour in every figure). matplotlib is imported inside the drawing
functions, so ``import sim.views.plots`` stays instant. This module knows nothing of the model
and touches no file except the PNGs it writes into the folder it is given.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.core.kernel import OPTIONS, STACKS
from sim.views.style import (
    BAND_ALPHA,
    BAND_HIGH,
    BAND_LOW,
    DEPLOYMENT_COLOURS,
    DEPLOYMENT_LABELS,
    MATRIX_METRICS,
    OKABE_ITO,
    PALETTE,
    REGION_COLOURS,
    STACK_COLOURS,
    STACK_LABELS,
    new_figure,
    save_figure,
    segment_label,
    theme,
    title_figure,
)

# --- figure settings --------------------------------------------------------------------------

_LINE_WIDTH = 2.0
_SIGNALS_SIZE = (12.0, 8.5)
_SMALL_MULTIPLE_SIZE = (4.2, 3.4)
_SMALL_MULTIPLE_COLUMNS = 3
_MAX_YEAR_TICKS = 10
_REQUIRED_COLUMNS = ("replication", "quarter", "metric", "segment", "value")


def scenario_colours(names: Iterable[str]) -> dict[str, str]:
    """Return a colour (hex string) for each scenario name, stable across calls and plots.

    Each name prefers the palette slot given by a hash of the name, so a scenario keeps its
    colour when others are added or removed; a clash within ``names`` moves the later name (in
    sorted order) to the next free slot. Okabe-Ito yellow is never handed out (a line or swatch
    in it is unreadable on white), so names are only guaranteed distinct colours while there are
    no more of them than the remaining seven colours; beyond that colours repeat.
    """
    palette = [colour for colour in PALETTE if colour != OKABE_ITO["yellow"]]
    unique = sorted(set(names))
    taken: set[int] = set()
    colours: dict[str, str] = {}
    slots = len(palette)
    for name in unique:
        preferred = int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "big") % slots
        slot = preferred
        if len(taken) < slots:
            while slot in taken:
                slot = (slot + 1) % slots
        taken.add(slot)
        colours[name] = palette[slot]
    return colours


# --- bands ------------------------------------------------------------------------------------

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
    return _bands(rows)


def _bands(rows: pd.DataFrame) -> pd.DataFrame:
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


def _product_bands(frame: pd.DataFrame, first: str, second: str,
                   segment: str = "all") -> pd.DataFrame:
    """Band table of ``first * second``, multiplied within each replication and quarter."""
    def values(metric: str) -> pd.Series:
        selected = frame[(frame["metric"] == metric) & (frame["segment"] == segment)]
        return selected.groupby(["replication", "quarter"], observed=True)["value"].mean()

    product = (values(first) * values(second)).dropna()
    if product.empty:
        raise KeyError(f"no replication and quarter holds both '{first}' and '{second}'")
    return _bands(product.rename("value").reset_index())


# --- drawing helpers --------------------------------------------------------------------------

@dataclass(frozen=True)
class _Series:
    """One line of a plot: which metric and segment, and how to draw it."""

    metric: str
    segment: str
    label: str
    colour: str
    linestyle: str = "-"


def _quarter_dates(quarters: Sequence[str]) -> pd.DatetimeIndex:
    """First day of each "YYYYQn" quarter, for a date x axis."""
    return pd.PeriodIndex(list(quarters), freq="Q").to_timestamp(how="start")


def _draw_band(ax: Any, table: pd.DataFrame, *, label: str, colour: str,
               linestyle: str = "-") -> None:
    """Draw a band table: the mean as a line, the 5-95% range as a shaded band."""
    dates = _quarter_dates(table.index)
    if (table["p95"] > table["p5"]).any():
        ax.fill_between(dates, table["p5"], table["p95"], color=colour, alpha=BAND_ALPHA,
                        linewidth=0)
    ax.plot(dates, table["mean"], color=colour, linestyle=linestyle, linewidth=_LINE_WIDTH,
            label=label)


def _draw_series(ax: Any, frame: pd.DataFrame, series: Iterable[_Series]) -> None:
    """Draw each of ``series`` that ``frame`` holds on ``ax`` (absent ones are left out)."""
    for line in series:
        try:
            table = band_table(frame, line.metric, line.segment)
        except KeyError:
            continue
        _draw_band(ax, table, label=line.label, colour=line.colour, linestyle=line.linestyle)


def _format_time_axis(ax: Any, quarters: Sequence[str]) -> None:
    """Dates on the x axis, labelled by year (every year, or every few years on long ranges).

    Ticks are fixed at year starts (major) and quarter starts (minor) rather than found by
    matplotlib's date locators, which are several times slower to draw.
    """
    import matplotlib.dates as mdates
    from matplotlib.ticker import FixedFormatter, FixedLocator

    dates = _quarter_dates(quarters)
    first, last = dates[0].year, dates[-1].year
    step = max(1, math.ceil((last - first + 1) / _MAX_YEAR_TICKS))
    year_starts = [pd.Timestamp(year, 1, 1) for year in range(first, last + 1, step)]
    year_starts = [start for start in year_starts if start >= dates[0]]
    ax.xaxis.set_major_locator(FixedLocator(mdates.date2num(year_starts)))
    ax.xaxis.set_major_formatter(FixedFormatter([str(start.year) for start in year_starts]))
    ax.xaxis.set_minor_locator(FixedLocator(mdates.date2num(dates)))
    ax.set_xlim(dates[0], dates[-1] + pd.offsets.QuarterEnd(0))
    ax.set_xlabel("")


def _format_share_axis(ax: Any, label: str, whole: bool = True) -> None:
    """Percent y axis for values stored as fractions; ``whole`` pins it to 0-100%."""
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    if whole:
        ax.set_ylim(0.0, 1.0)
    else:
        ax.set_ylim(bottom=0.0)
    ax.set_ylabel(label)


def _caption(frame: pd.DataFrame) -> str:
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


def _has(frame: pd.DataFrame, metrics: Iterable[str], segment: str = "all") -> bool:
    """Whether any of ``metrics`` has rows in ``segment``."""
    return bool((frame["metric"].isin(list(metrics)) & (frame["segment"] == segment)).any())


def _segments(frame: pd.DataFrame, metrics: Iterable[str], prefix: str) -> list[str]:
    """Segments starting with ``prefix`` (e.g. "class=") of ``metrics``, in order of appearance."""
    rows = frame[frame["metric"].isin(list(metrics))]
    return [s for s in pd.unique(rows["segment"]) if str(s).startswith(prefix)]


def _quarters(frame: pd.DataFrame) -> list[str]:
    """Every quarter of the run, in order, so all panels share one time axis."""
    return sorted(pd.unique(frame["quarter"]))


# --- the figures ------------------------------------------------------------------------------

def _deployment_series(segment: str) -> list[_Series]:
    return [_Series(f"workload_share_{kind}", segment, DEPLOYMENT_LABELS[kind],
                    DEPLOYMENT_COLOURS[kind]) for kind in OPTIONS]


def _stack_series() -> list[_Series]:
    return [_Series(f"stack_share_{kind}", "all", STACK_LABELS[kind], STACK_COLOURS[kind])
            for kind in STACKS]


def _single_panel(frame: pd.DataFrame, path: Path, *, title: str, ylabel: str,
                  series: list[_Series], whole: bool = True) -> Path | None:
    """A one-axes trend figure of ``series``; None when none of them is in the frame."""
    if not _has(frame, [line.metric for line in series]):
        return None
    fig, axes = new_figure(title, _caption(frame))
    ax = axes[0, 0]
    _draw_series(ax, frame, series)
    _format_time_axis(ax, _quarters(frame))
    _format_share_axis(ax, ylabel, whole=whole)
    if len(series) > 1:
        ax.legend(loc="best", frameon=True, framealpha=0.9)
    return save_figure(fig, path)


def _plot_signals(frame: pd.DataFrame, path: Path) -> Path | None:
    """2x2 panel of the exogenous forces; None when the frame holds no signals."""
    signal_rows = frame[frame["metric"].str.startswith("signal_")]
    if signal_rows.empty:
        return None
    quarters = _quarters(frame)
    fig, axes = new_figure("Forces behind the choice: capability, price, tooling, regulation",
                            _caption(frame), 2, 2, figsize=_SIGNALS_SIZE, sharex=True)
    (gap_ax, price_ax), (tooling_ax, regulation_ax) = axes

    _draw_series(gap_ax, frame, [
        _Series("signal_benchmark_gap", "all", "Benchmark gap (MMLU)", OKABE_ITO["black"]),
        _Series("signal_frontier_gap", "all", "Frontier gap (complex reasoning)",
                OKABE_ITO["reddish_purple"], "--"),
    ])
    gap_ax.set_title("Capability gap, closed minus open")
    gap_ax.set_ylabel("MMLU points")
    gap_ax.set_ylim(bottom=0.0)

    _draw_series(price_ax, frame, [_Series("signal_closed_price_index", "all",
                                           "Closed API price", DEPLOYMENT_COLOURS["closed"])])
    try:
        open_cost = _product_bands(frame, "signal_open_cost_ratio", "signal_hardware_cost_index")
    except KeyError:
        pass
    else:
        _draw_band(price_ax, open_cost, label="Open weights, self-hosted cost",
                   colour=DEPLOYMENT_COLOURS["open"])
    price_ax.set_title("Price per token")
    price_ax.set_ylabel(f"Relative to {quarters[0]} closed price")
    price_ax.set_ylim(bottom=0.0)

    _draw_series(tooling_ax, frame, [_Series("signal_tooling_maturity", "all",
                                             "Tooling maturity", OKABE_ITO["black"])])
    tooling_ax.set_title("Open-model tooling maturity")
    tooling_ax.set_ylabel("Maturity (0-1)")
    tooling_ax.set_ylim(0.0, 1.0)

    regions = _segments(frame, ["signal_regulatory_pressure"], "region=")
    _draw_series(regulation_ax, frame, [
        _Series("signal_regulatory_pressure", segment, segment_label(segment),
                REGION_COLOURS.get(segment.split("=", 1)[-1], OKABE_ITO["yellow"]), style)
        for segment, style in zip(regions, ["-", "--", ":", "-."] * len(regions))
    ])
    regulation_ax.set_title("Regulatory pressure by region")
    regulation_ax.set_ylabel("Pressure (0-1)")
    regulation_ax.set_ylim(0.0, 1.0)

    for ax in axes.flat:
        _format_time_axis(ax, quarters)
        if ax.lines:
            ax.legend(loc="best", fontsize="small", frameon=True, framealpha=0.9)
        else:
            ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", va="center",
                    color="0.5")
    return save_figure(fig, path)


def _plot_workload_classes(frame: pd.DataFrame, path: Path) -> Path | None:
    """Small multiples: the three deployment shares within each workload class."""
    metrics = [f"workload_share_{kind}" for kind in OPTIONS]
    classes = _segments(frame, metrics, "class=")
    if not classes:
        return None
    columns = min(_SMALL_MULTIPLE_COLUMNS, len(classes))
    rows = math.ceil(len(classes) / columns)
    width, height = _SMALL_MULTIPLE_SIZE
    fig, axes = new_figure("Deployment by workload class", _caption(frame), rows, columns,
                            figsize=(width * columns, height * rows + 1.2),
                            sharex=True, sharey=True)
    quarters = _quarters(frame)
    panels = list(axes.flat)
    for index, (ax, segment) in enumerate(zip(panels, classes)):
        _draw_series(ax, frame, _deployment_series(segment))
        ax.set_title(segment_label(segment))
        _format_time_axis(ax, quarters)
        _format_share_axis(ax, "Share of workloads" if ax.get_subplotspec().is_first_col() else "")
        if index + columns >= len(classes):  # lowest panel of its column: label the years
            ax.tick_params(axis="x", labelbottom=True)
    spare = panels[len(classes):]
    for ax in spare:
        ax.set_axis_off()
    handles, labels = panels[0].get_legend_handles_labels()
    if spare:  # the legend fills the first empty slot of the grid
        spare[0].legend(handles, labels, loc="center", frameon=False, title="Deployment")
    else:  # a full grid: inside the last panel (an outside legend would collide with titles)
        panels[len(classes) - 1].legend(handles, labels, loc="best", fontsize="small",
                                        frameon=True, framealpha=0.9)
    return save_figure(fig, path)


def plot_run(frame: pd.DataFrame, folder: str | os.PathLike[str]) -> list[Path]:
    """Draw one run's trend figures into ``folder`` (created if needed); return the PNG paths.

    Writes, each only when the frame holds its metrics:

    * ``workload_shares.png``  share of deployed workloads by deployment (closed, open,
      open fine-tuned);
    * ``stack_shares.png``     share of AI-using enterprises by stack (closed only, open only,
      hybrid);
    * ``plans_to_expand.png``  share of enterprises planning to expand open-source use;
    * ``signals.png``          capability gap, prices, tooling maturity, regulatory pressure;
    * ``workload_classes.png`` deployment shares in each workload class (one panel per class).

    Each line is the mean over replications and its band the 5-95% range across them. The frame
    must hold one scenario; filter a multi-scenario frame first.
    """
    missing = [column for column in _REQUIRED_COLUMNS if column not in frame.columns]
    if missing:
        raise ValueError(f"the frame lacks column(s) {', '.join(missing)}; "
                         f"a tidy results frame has {', '.join(_REQUIRED_COLUMNS)}")
    if "scenario" in frame.columns and frame["scenario"].nunique() > 1:
        names = ", ".join(sorted(map(str, pd.unique(frame["scenario"]))))
        raise ValueError(f"plot_run draws one scenario but the frame holds several ({names}); "
                         "select one first, e.g. frame[frame.scenario == name]")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    if frame.empty:
        return []

    drawers = [
        lambda: _single_panel(
            frame, out / "workload_shares.png", title="Share of deployed enterprise workloads",
            ylabel="Share of workloads", series=_deployment_series("all")),
        lambda: _single_panel(
            frame, out / "stack_shares.png", title="Enterprises by AI stack",
            ylabel="Share of AI-using enterprises", series=_stack_series()),
        lambda: _single_panel(
            frame, out / "plans_to_expand.png", title="Plans to expand open-source use",
            ylabel="Share of enterprises", whole=False,
            series=[_Series("plans_to_expand_open", "all", "Plans to expand open use",
                            DEPLOYMENT_COLOURS["open"])]),
        lambda: _plot_signals(frame, out / "signals.png"),
        lambda: _plot_workload_classes(frame, out / "workload_classes.png"),
    ]
    written: list[Path] = []
    with theme():
        for draw in drawers:
            path = draw()
            if path is not None:
                written.append(path)
    return written


# --- calibration ------------------------------------------------------------------------------

def plot_calibration(panel: pd.DataFrame, parameters: pd.DataFrame, draws: pd.DataFrame,
                     paths: pd.DataFrame, generations: Sequence[dict],
                     folder: str | Path) -> list[Path]:
    """Figures of a Bayesian calibration (tables of :mod:`sim.views.calibration`), into ``folder``:

    * ``panel_fit.png``: each panel entry (observation ± tolerance, an upper bound as a limit;
      claims hatched) against the posterior predictive mean and 90% interval;
    * ``panel_paths.png``: the predictive paths of each observed metric, with the observations;
    * ``marginals.png``: each parameter's posterior draws over its prior range;
    * ``pairs.png``: the draws, two parameters at a time (correlations: trade-offs the panel
      cannot resolve);
    * ``generations.png``: the acceptance threshold and acceptance rate per generation.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    with theme():
        return [_plot_panel_fit(panel, out / "panel_fit.png"),
                _plot_panel_paths(panel, paths, out / "panel_paths.png"),
                _plot_marginals(parameters, draws, out / "marginals.png"),
                _plot_pairs(parameters, draws, out / "pairs.png"),
                _plot_generations(generations, out / "generations.png")]


def _short_parameter(name: str) -> str:
    """``behaviour.switching_cost`` -> ``switching cost``; keeps the quarter of a dated point."""
    parts = name.split(".")
    tail = [parts[-3], parts[-1]] if parts[-1][:4].isdigit() and len(parts) > 2 else parts[-1:]
    return " ".join(tail).replace("_", " ")


def _plot_panel_fit(panel: pd.DataFrame, path: Path) -> Path:
    """Each entry's observation (a measured one solid, a claim without primary source hatched in
    another colour, an upper bound as a bar with an arrow) against the model's predictive mean
    and 90% interval; held-out entries labelled in grey, their mean an open dot."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    measured = {"color": OKABE_ITO["sky_blue"], "alpha": 0.6}
    claimed = {"facecolor": OKABE_ITO["orange"], "alpha": 0.45, "hatch": "//", "edgecolor": "0.3"}
    bound = OKABE_ITO["vermillion"]
    model = DEPLOYMENT_COLOURS["closed"]
    fig, axes = new_figure("The panel of observations against the posterior predictive",
                            "One replication per posterior draw.  Labels in grey: held out of the "
                            "fit (--until), model mean drawn open",
                            figsize=(9.5, 1.6 + 0.55 * len(panel)))
    ax = axes[0, 0]
    for row, entry in enumerate(panel.itertuples()):
        if entry.kind != "estimate":
            side = -0.05 if entry.kind == "upper_bound" else 0.05
            ax.plot([entry.value, entry.value], [row - 0.3, row + 0.3], color=bound, linewidth=3)
            ax.annotate("", xy=(entry.value + side, row), xytext=(entry.value, row),
                        arrowprops={"arrowstyle": "->", "color": bound, "linewidth": 2})
        else:
            ax.barh(row, 2 * entry.tolerance, left=entry.value - entry.tolerance, height=0.5,
                    **(claimed if entry.confidence == "claimed" else measured))
        ax.errorbar(
            entry.mean,
            row,
            xerr=[[entry.mean - entry.p5], [entry.p95 - entry.mean]],
            fmt="o",
            color=model,
            capsize=4,
            markerfacecolor=model if entry.fitted else "white",
        )
    ax.set_yticks(range(len(panel)), [f"{e.name} ({e.quarter})" for e in panel.itertuples()])
    for label, fitted in zip(ax.get_yticklabels(), panel["fitted"]):
        label.set_color("0.1" if fitted else "0.55")
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    ax.set_xlim(0.0, 1.0)
    ax.set_xlabel("Share")
    ax.legend(handles=[Patch(**measured, label="measured ± tolerance"),
                       Patch(**claimed, label="claimed, no primary source ± tolerance"),
                       Line2D([], [], color=bound, linewidth=3, label="upper bound"),
                       Line2D([], [], color=model, marker="o", label="model: mean, 90% interval")],
              loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2, fontsize="small",
              frameon=False)
    return save_figure(fig, path)


def _plot_panel_paths(panel: pd.DataFrame, paths: pd.DataFrame, path: Path) -> Path:
    """The predictive paths of each observed metric and segment (mean and 5-95% band over the
    draws), with its observations: measured ones in one colour, claims in another; a diamond
    with its tolerance for an estimate, a downward triangle for an upper bound; open: held out."""
    series = list(dict.fromkeys(zip(panel["metric"], panel["segment"])))
    columns = min(len(series), _SMALL_MULTIPLE_COLUMNS)
    rows = math.ceil(len(series) / columns)
    fig, axes = new_figure(
        "The posterior predictive through the observations",
        f"Line: mean over {paths['draw'].nunique()} posterior draws (one "
        f"replication each); band: {BAND_LOW:.0%}-{BAND_HIGH:.0%} range.  "
        "Diamond: observation ± tolerance (red: measured, orange: claimed); "
        "triangle: upper bound; open: held out of the fit",
        nrows=rows,
        ncols=columns,
        figsize=(_SMALL_MULTIPLE_SIZE[0] * columns, _SMALL_MULTIPLE_SIZE[1] * rows),
    )
    for ax, (metric, segment) in zip(axes.flat, series):
        chosen = paths[(paths["metric"] == metric) & (paths["segment"] == segment)]
        table = _bands(chosen.rename(columns={"draw": "replication"}))
        _draw_band(ax, table, label="Model", colour=DEPLOYMENT_COLOURS["closed"])
        observed = panel[(panel["metric"] == metric) & (panel["segment"] == segment)]
        for entry in observed.itertuples():
            colour = (
                OKABE_ITO["orange"] if entry.confidence == "claimed" else OKABE_ITO["vermillion"]
            )
            bound = entry.kind != "estimate"
            ax.errorbar(
                _quarter_dates([entry.quarter]),
                [entry.value],
                yerr=None if bound else [[entry.tolerance], [entry.tolerance]],
                fmt={"upper_bound": "v", "lower_bound": "^"}.get(entry.kind, "D"),
                markersize=8 if bound else 6,
                capsize=4,
                color=colour,
                markerfacecolor=colour if entry.fitted else "white",
                clip_on=False,
                zorder=5,
            )
        _format_time_axis(ax, list(table.index))
        _format_share_axis(ax, "", whole=False)
        ax.set_title(metric if segment == "all" else f"{metric} [{segment}]", fontsize="small")
    for ax in list(axes.flat)[len(series):]:
        ax.set_visible(False)
    return save_figure(fig, path)


def _plot_marginals(parameters: pd.DataFrame, draws: pd.DataFrame, path: Path) -> Path:
    """Each parameter's posterior draws as a histogram over its whole prior range, against the
    uniform prior's density: a posterior as flat as the prior is one the data do not identify."""
    columns = min(len(parameters), _SMALL_MULTIPLE_COLUMNS + 1)
    rows = math.ceil(len(parameters) / columns)
    fig, axes = new_figure("Posterior of each parameter over its prior range",
                            "Bars: posterior draws; shaded: their 90% interval; red line: median; "
                            "dashed: the uniform prior's density; a title in grey: not identified "
                            "(the posterior is about as wide as the prior)",
                            nrows=rows, ncols=columns,
                            figsize=(3.6 * columns, 2.8 * rows))
    for ax, entry in zip(axes.flat, parameters.itertuples()):
        low, high = entry.prior_low, entry.prior_high
        ax.hist(draws[entry.parameter], bins=20, range=(low, high), density=True,
                color=DEPLOYMENT_COLOURS["closed"], alpha=0.8)
        ax.axvspan(entry.p5, entry.p95, color=DEPLOYMENT_COLOURS["closed"], alpha=0.12)
        ax.axhline(1.0 / (high - low), color="0.3", linestyle="--")
        ax.axvline(entry.median, color=OKABE_ITO["vermillion"])
        ax.set_xlim(low, high)
        ax.set_yticks([])
        ax.minorticks_off()
        ax.set_title(_short_parameter(entry.parameter), fontsize="small",
                     color="0.1" if entry.identified else "0.55")
    for ax in list(axes.flat)[len(parameters):]:
        ax.set_visible(False)
    return save_figure(fig, path)


def _plot_pairs(parameters: pd.DataFrame, draws: pd.DataFrame, path: Path) -> Path:
    """A lower-triangle matrix: each pair of parameters' draws as a scatter, each parameter's
    histogram on the diagonal. Only those panels exist, tick labels only on the outer ones, and the
    layout is fixed: with a dozen parameters there are 78 panels, which constrained layout would
    take seconds on."""
    import matplotlib.pyplot as plt

    names = list(parameters["parameter"])
    bounds = list(zip(parameters["prior_low"], parameters["prior_high"]))
    size = len(names)
    fig = plt.figure(figsize=(1.4 * size + 1.6, 1.4 * size + 1.6))
    title_figure(
        fig,
        "Posterior draws, two parameters at a time",
        "Each dot a posterior draw; axes span the prior ranges (ticks at their ends).  A slanted "
        "cloud: the panel trades one parameter against the other",
    )
    grid = fig.add_gridspec(size, size, left=0.12, right=0.98, bottom=0.12, top=0.92,
                            wspace=0.08, hspace=0.08)
    for i, row_name in enumerate(names):
        for j, column_name in enumerate(names[:i + 1]):
            ax = fig.add_subplot(grid[i, j])
            if j == i:
                ax.hist(
                    draws[row_name],
                    bins=15,
                    range=bounds[i],
                    color=DEPLOYMENT_COLOURS["closed"],
                    alpha=0.8,
                )
                ax.set_yticks([])
            else:
                ax.plot(
                    draws[column_name],
                    draws[row_name],
                    linestyle="",
                    marker=".",
                    markersize=2.5,
                    alpha=0.5,
                    color=DEPLOYMENT_COLOURS["closed"],
                )
                ax.set_ylim(*bounds[i])
                _range_ticks(ax.yaxis, bounds[i], ("bottom", "top"), "va")
            ax.set_xlim(*bounds[j])
            _range_ticks(ax.xaxis, bounds[j], ("left", "right"), "ha")
            ax.minorticks_off()
            ax.tick_params(labelsize="xx-small", labelbottom=i == size - 1,
                           labelleft=j == 0 and i > 0)
            if i == size - 1:
                ax.set_xlabel(_wrapped_parameter(column_name), fontsize="x-small")
            if j == 0:
                ax.set_ylabel(_wrapped_parameter(row_name), fontsize="x-small")
    return save_figure(fig, path)


def _range_ticks(
    axis: Any, bounds: tuple[float, float], alignments: tuple[str, str], key: str
) -> None:
    """Ticks at a prior range's two ends, their labels turned inward so neighbours never meet."""
    axis.set_ticks(bounds, [f"{bound:.3g}" for bound in bounds])
    for label, alignment in zip(axis.get_ticklabels(), alignments):
        label.set(**{key: alignment})


def _wrapped_parameter(name: str) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(_short_parameter(name), 16))


def _plot_generations(generations: Sequence[dict], path: Path) -> Path:
    """The acceptance threshold (log scale) and the acceptance rate of each SMC generation."""
    from matplotlib.ticker import LogLocator, MaxNLocator, ScalarFormatter

    fig, axes = new_figure("How the fit converged",
                            "Left: the acceptance threshold (root summed squared misfit, in "
                            "tolerances).  Right: the share of candidates accepted",
                            ncols=2, figsize=(9.0, 3.6))
    steps = [g["t"] for g in generations]
    threshold, acceptance = axes[0]
    threshold.plot(steps, [g["epsilon"] for g in generations], marker="o",
                   color=DEPLOYMENT_COLOURS["closed"])
    threshold.set_yscale("log")
    threshold.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    threshold.yaxis.set_major_formatter(ScalarFormatter())
    threshold.set_ylabel("Threshold")
    acceptance.plot(steps, [g["accepted"] / max(g["evaluations"], 1) for g in generations],
                    marker="o", color=DEPLOYMENT_COLOURS["open"])
    _format_share_axis(acceptance, "Acceptance", whole=False)
    for ax in axes[0]:
        ax.minorticks_off()
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Generation")
    return save_figure(fig, path)


# --- comparison -------------------------------------------------------------------------------

def plot_comparison(
    frame: pd.DataFrame,
    table: pd.DataFrame,
    metrics: Sequence[tuple[str, str]],
    folder: str | Path,
    matrix=None,
    matrix_quarter: str | None = None,
) -> list[Path]:
    """Figures of a scenario comparison, written into ``folder``:

    * ``fan_<metric>.png`` for each (metric, title) of ``metrics``: one band per scenario (mean
      line, 5-95% range over replications), each scenario in its own colour everywhere;
    * ``matrix.png`` when ``matrix`` is given (rows, columns, cells: the what-to-watch 2x2): the
      open workload share and the hybrid enterprise share at ``matrix_quarter`` in each cell.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    names = list(dict.fromkeys(frame["scenario"]))
    colours = scenario_colours(names)
    written = []
    with theme():
        for metric, title in metrics:
            written.append(
                _plot_fan(frame, metric, title, names, colours, out / f"fan_{metric}.png")
            )
        if matrix is not None:
            written.append(_plot_matrix(table, matrix, matrix_quarter, out / "matrix.png"))
    return written


def _plot_fan(frame: pd.DataFrame, metric: str, title: str, names: list[str],
              colours: dict[str, str], path: Path) -> Path:
    fig, axes = new_figure(title, _caption(frame[frame["scenario"] == names[0]]).split(".  ")[-1],
                            figsize=(9.0, 5.2))
    ax = axes[0, 0]
    quarters = []
    for name in names:
        try:
            table = band_table(frame, metric, scenario=name)
        except KeyError:
            continue
        quarters = list(table.index)
        _draw_band(ax, table, label=name, colour=colours[name])
    _format_time_axis(ax, quarters)
    _format_share_axis(ax, "Share", whole=False)
    ax.legend(loc="center left", bbox_to_anchor=(1.0, 0.5), fontsize="small")
    return save_figure(fig, path)


def _plot_matrix(table: pd.DataFrame, matrix, quarter: str, path: Path) -> Path:
    row_axis, row_positions = matrix.rows
    column_axis, column_positions = matrix.columns
    fig, axes = new_figure(
        f"The two dynamics to watch, {quarter}",
        "Cell: mean over replications [5%-95% range]",
        ncols=len(MATRIX_METRICS),
        figsize=(6.0 * len(MATRIX_METRICS), 4.8),
    )
    for ax, (metric, title) in zip(axes[0], MATRIX_METRICS):
        rows = table[(table["metric"] == metric) & (table["quarter"] == quarter)].set_index(
            "scenario"
        )
        grid = [[rows.loc[matrix.cells[(r, c)]] for c in column_positions] for r in row_positions]
        means = [[cell["mean"] for cell in line] for line in grid]
        image = ax.imshow(
            means, cmap="cividis", vmin=0.0, vmax=max(max(line) for line in means) * 1.15
        )
        for i, line in enumerate(grid):
            for j, cell in enumerate(line):
                ax.text(j, i, f"{cell['mean']:.1%}\n[{cell['p5']:.1%}, {cell['p95']:.1%}]",
                        ha="center", va="center", fontsize="medium",
                        color="white" if cell["mean"] < 0.6 * image.get_clim()[1] else "black")
        ax.set_xticks(
            range(len(column_positions)), [f"{column_axis}: {p}" for p in column_positions]
        )
        ax.set_yticks(range(len(row_positions)), [f"{row_axis}: {p}" for p in row_positions])
        ax.set_title(title, fontsize="medium")
        ax.grid(False)
    return save_figure(fig, path)
