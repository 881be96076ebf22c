"""The run's money-and-tokens figure (:func:`money_figure`, drawn by
:func:`sim.views.figures.run.plot_run` as ``money_and_tokens.png``): what enterprises pay and for
how many tokens, by deployment; the price paid per million tokens beside the two price signals; and
the monthly volume above which self-hosting a workload costs less than the API, by enterprise size.

Which metric each line draws, its unit and the price signals' labels come from the metric and signal
tables (:mod:`sim.core.metric_table`, :mod:`sim.core.signal_table`); deployment colours and labels
from :mod:`sim.views.style`. Totals are recorded per quarter and drawn per year
(:data:`sim.views.style.ANNUAL_UNITS`). Each line is the mean over replications with its 5-95% band,
at the quarters most replications measured (:func:`sim.views.figures.bands.measured_bands`), so a
price without tokens or a break-even most enterprises never reach leaves a gap, not a line; a
break-even line that stops before the horizon ends in a cross (self-hosting stops paying there at
any volume). Spend and tokens are drawn on a log scale, so open weights' share, a few percent of
the closed API's, stays readable beside it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from sim.core.kernel import OPTIONS
from sim.core.metric_table import METRIC_BY_NAME, deployment_metric
from sim.core.signal_table import SIGNAL_BY_NAME
from sim.views.figures.bands import (
    band_caption,
    draw_band,
    format_time_axis,
    measured_bands,
    quarter_dates,
)
from sim.views.style import (
    ANNUAL_UNITS,
    BREAK_EVEN_METRICS,
    DEPLOYMENT_COLOURS,
    DEPLOYMENT_LABELS,
    FRONTIER_WORK_PRICE,
    OKABE_ITO,
    PALETTE,
    PRICE_SIGNALS,
    SIZE_COLOURS,
    new_figure,
    segment_label,
)

#: The price signals' colours (dashed reference lines) and the break-even lines' styles, in the
#: order of :data:`~sim.views.style.PRICE_SIGNALS` and :data:`~sim.views.style.BREAK_EVEN_METRICS`.
SIGNAL_COLOURS = (OKABE_ITO["black"], OKABE_ITO["reddish_purple"])
BREAK_EVEN_STYLES = ("-", "--")
KEY_GREY = "0.35"   # a key entry that stands for a line style, whatever the colour
_SIZE = (12.5, 8.6)


@dataclass(frozen=True)
class Line:
    """One line of the figure: the metric and segment it draws, scaled by ``scale``."""

    metric: str
    segment: str
    label: str
    colour: str
    linestyle: str = "-"
    scale: float = 1.0


@dataclass(frozen=True)
class Panel:
    """One panel: its title, y label, lines, whether its y axis is logarithmic, what a cross at
    the end of a line that stops before the horizon means (None: no crosses), where its
    legend goes (matplotlib's ``loc``) and, when the lines cross two attributes (size and kind
    of work), a shorter key of one entry per attribute value (empty: one entry per line)."""

    title: str
    ylabel: str
    lines: tuple[Line, ...]
    log: bool = False
    end_note: str | None = None
    legend: str = "best"
    key: tuple[tuple[str, str, str], ...] = ()   # (label, colour, line style) of each entry


def _annual_panel(family: str, title: str, log: bool = False) -> Panel:
    """A total of ``family`` by deployment, drawn per year (:data:`ANNUAL_UNITS`)."""
    specs = [deployment_metric(family, kind) for kind in OPTIONS]
    scale, unit = ANNUAL_UNITS[specs[0].unit]
    return Panel(title, f"{unit} (log scale)" if log else unit, tuple(
        Line(spec.name, "all", DEPLOYMENT_LABELS[kind], DEPLOYMENT_COLOURS[kind], scale=scale)
        for spec, kind in zip(specs, OPTIONS)), log=log)


def _price_panel() -> Panel:
    """Prices paid by deployment (all-in cost for open weights), the frontier work's price, and
    the two price signals as dashed references."""
    paid = {kind: deployment_metric("price_paid_usd_per_mtok", kind) for kind in OPTIONS}
    qualifier = {"closed": "average paid", "open": "all-in cost", "open_finetuned": "all-in cost"}
    lines = [Line(paid["closed"].name, "all", f"{DEPLOYMENT_LABELS['closed']}, "
                  f"{qualifier['closed']}", DEPLOYMENT_COLOURS["closed"]),
             Line(FRONTIER_WORK_PRICE, "all", f"{DEPLOYMENT_LABELS['closed']}, frontier work",
                  DEPLOYMENT_COLOURS["closed"], "-.")]
    lines += [Line(paid[kind].name, "all", f"{DEPLOYMENT_LABELS[kind]}, {qualifier[kind]}",
                   DEPLOYMENT_COLOURS[kind]) for kind in OPTIONS if kind != "closed"]
    lines += [Line(SIGNAL_BY_NAME[name].metric, "all", SIGNAL_BY_NAME[name].label, colour, "--")
              for name, colour in zip(PRICE_SIGNALS, SIGNAL_COLOURS)]
    return Panel("Price per million tokens", f"{paid['closed'].unit} (log scale)",
                 tuple(lines), log=True)


def _sizes(frame: pd.DataFrame) -> list[str]:
    """The frame's size segments of the break-even metrics, smallest first."""
    rows = frame[frame["metric"].isin([metric for metric, _ in BREAK_EVEN_METRICS])]
    present = [s for s in pd.unique(rows["segment"]) if str(s).startswith("size=")]
    order = [f"size={name}" for name in SIZE_COLOURS]
    return sorted(present, key=lambda s: (order.index(s) if s in order else len(order), s))


def _break_even_panel(frame: pd.DataFrame) -> Panel:
    """The break-even volumes of a routine and a frontier workload, one colour per size."""
    lines, key = [], []
    for number, segment in enumerate(_sizes(frame)):
        colour = SIZE_COLOURS.get(segment.partition("=")[2], PALETTE[number % len(PALETTE)])
        size = f"{segment_label(segment)} enterprises"
        lines += [Line(metric, segment, f"{size}, {work}", colour, style)
                  for (metric, work), style in zip(BREAK_EVEN_METRICS, BREAK_EVEN_STYLES)]
        key.append((size, colour, "-"))
    key += [(work, KEY_GREY, style)
            for (_, work), style in zip(BREAK_EVEN_METRICS, BREAK_EVEN_STYLES)]
    unit = METRIC_BY_NAME[BREAK_EVEN_METRICS[0][0]].unit
    return Panel("Volume above which self-hosting a workload pays", f"{unit} (log scale)",
                 tuple(lines), log=True, end_note="×: from here self-hosting it never pays",
                 legend="upper left", key=tuple(key))   # routine work's lines climb late


def _draw_panel(ax: Any, frame: pd.DataFrame, panel: Panel, quarters: Sequence[str]) -> None:
    """Draw ``panel``'s lines that have a value at some quarter; say so when none has."""
    drawn = 0
    for line in panel.lines:
        table = measured_bands(frame, line.metric, line.segment, quarters)
        bands = table[["mean", "p5", "p95"]] * line.scale
        if bands["mean"].notna().any():
            draw_band(ax, bands, label=line.label, colour=line.colour, linestyle=line.linestyle)
            drawn += 1
            if panel.end_note is not None:
                _cross_an_early_end(ax, bands["mean"], line.colour)
    ax.set_title(panel.title)
    ax.set_ylabel(panel.ylabel)
    format_time_axis(ax, quarters)
    if not drawn:
        ax.text(0.5, 0.5, "No value in most replications", transform=ax.transAxes,
                ha="center", va="center", color="0.35")
        return
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter

    if panel.log:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0.0)
    ax.yaxis.set_major_formatter(FuncFormatter(_tick_label))
    handles = [Line2D([], [], color=colour, linestyle=linestyle, label=label)
               for label, colour, linestyle in panel.key] or None
    ax.legend(handles=handles, loc=panel.legend, fontsize="small", frameon=True, framealpha=0.9)
    if panel.end_note is not None:
        ax.text(0.02, 0.02, panel.end_note, transform=ax.transAxes, fontsize="small",
                color="0.3")


def _tick_label(value: float, _position: Any = None) -> str:
    """A y tick in plain digits with thousands separators at any size (never 1e+07)."""
    return f"{value:,.0f}" if value >= 1 else f"{value:g}"


def _cross_an_early_end(ax: Any, means: pd.Series, colour: str) -> None:
    """A cross at the last value of a line that stops before the last quarter."""
    measured = means.dropna()
    if measured.index[-1] != means.index[-1]:
        ax.plot(quarter_dates(measured.index[-1:]), measured.to_numpy()[-1:], marker="x",
                markersize=8, markeredgewidth=2, color=colour, linestyle="none")


def money_panels(frame: pd.DataFrame) -> list[Panel]:
    """The figure's four panels, in reading order: (a) spend, (b) tokens, (c) prices, (d)
    break-even volumes."""
    return [_annual_panel("spend_usd", "What enterprises pay", log=True),
            _annual_panel("tokens_mtok", "Tokens they process", log=True),
            _price_panel(),
            _break_even_panel(frame)]


def money_figure(frame: pd.DataFrame) -> Any | None:
    """The money-and-tokens figure: four panels (:func:`money_panels`) on one time axis; None
    when the frame holds none of its metrics other than the signals (a run from before the
    economics were in dollars)."""
    panels = money_panels(frame)
    signals = {SIGNAL_BY_NAME[name].metric for name in PRICE_SIGNALS}
    metrics = {line.metric for panel in panels for line in panel.lines} - signals
    metrics |= {metric for metric, _ in BREAK_EVEN_METRICS}
    if not frame["metric"].isin(list(metrics)).any():
        return None
    quarters = sorted(pd.unique(frame["quarter"]))
    fig, axes = new_figure("Money and tokens: what enterprises pay, and where self-hosting pays",
                           band_caption(frame), 2, 2, figsize=_SIZE, sharex=True)
    for ax, panel in zip(axes.flat, panels):
        _draw_panel(ax, frame, panel, quarters)
    for ax in axes[-1]:
        ax.tick_params(axis="x", labelbottom=True)
    return fig
