"""A run's trend figures: deployments, stacks, plans to expand, the signals and the workload
classes, each drawn from a tidy results frame (:mod:`sim.views.figures.bands`) and saved as PNG
(:func:`plot_run`).

The palette, labels, theme and figure helpers are :mod:`sim.views.style`'s (the same deployment
or stack has the same colour in every figure). This module knows nothing of the model beyond its
deployment and stack names and touches no file except the PNGs it writes into the folder it is
given.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.core.kernel import OPTIONS, STACKS
from sim.views.figures.bands import (
    band_caption,
    band_table,
    draw_band,
    format_share_axis,
    format_time_axis,
    product_bands,
)
from sim.views.style import (
    DEPLOYMENT_COLOURS,
    DEPLOYMENT_LABELS,
    OKABE_ITO,
    REGION_COLOURS,
    SMALL_MULTIPLE_COLUMNS,
    SMALL_MULTIPLE_SIZE,
    STACK_COLOURS,
    STACK_LABELS,
    new_figure,
    save_figure,
    segment_label,
    theme,
)

_SIGNALS_SIZE = (12.0, 8.5)
_REQUIRED_COLUMNS = ("replication", "quarter", "metric", "segment", "value")


@dataclass(frozen=True)
class _Series:
    """One line of a plot: which metric and segment, and how to draw it."""

    metric: str
    segment: str
    label: str
    colour: str
    linestyle: str = "-"


def _draw_series(ax: Any, frame: pd.DataFrame, series: Iterable[_Series]) -> None:
    """Draw each of ``series`` that ``frame`` holds on ``ax`` (absent ones are left out)."""
    for line in series:
        try:
            table = band_table(frame, line.metric, line.segment)
        except KeyError:
            continue
        draw_band(ax, table, label=line.label, colour=line.colour, linestyle=line.linestyle)


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
    fig, axes = new_figure(title, band_caption(frame))
    ax = axes[0, 0]
    _draw_series(ax, frame, series)
    format_time_axis(ax, _quarters(frame))
    format_share_axis(ax, ylabel, whole=whole)
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
                            band_caption(frame), 2, 2, figsize=_SIGNALS_SIZE, sharex=True)
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
        open_cost = product_bands(frame, "signal_open_cost_ratio", "signal_hardware_cost_index")
    except KeyError:
        pass
    else:
        draw_band(price_ax, open_cost, label="Open weights, self-hosted cost",
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
        format_time_axis(ax, quarters)
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
    columns = min(SMALL_MULTIPLE_COLUMNS, len(classes))
    rows = math.ceil(len(classes) / columns)
    width, height = SMALL_MULTIPLE_SIZE
    fig, axes = new_figure("Deployment by workload class", band_caption(frame), rows, columns,
                            figsize=(width * columns, height * rows + 1.2),
                            sharex=True, sharey=True)
    quarters = _quarters(frame)
    panels = list(axes.flat)
    for index, (ax, segment) in enumerate(zip(panels, classes)):
        _draw_series(ax, frame, _deployment_series(segment))
        ax.set_title(segment_label(segment))
        format_time_axis(ax, quarters)
        format_share_axis(ax, "Share of workloads" if ax.get_subplotspec().is_first_col() else "")
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
