"""A run's trend figures: deployments, stacks, plans to expand, the signals, the workload
classes, and money and tokens (:mod:`sim.views.figures.money`), each built from a tidy results
frame (:mod:`sim.views.figures.bands`) by a function of :data:`RUN_FIGURES` and saved as PNG
(:func:`plot_run`).

The palette, labels, theme and figure helpers are :mod:`sim.views.style`'s (the same deployment
or stack has the same colour in every figure). This module knows nothing of the model beyond its
deployment and stack names: the signals figure's panels, titles and labels come from the signal
table (:mod:`sim.views.signal_grid`). It touches no file except the PNGs it writes into the
folder it is given.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.core.kernel import OPTIONS, STACKS
from sim.core.metric_table import deployment_metric, stack_metric
from sim.core.signal_table import SignalSpec
from sim.views.figures.bands import (
    band_caption,
    band_table,
    draw_band,
    format_share_axis,
    format_time_axis,
)
from sim.views.figures.money import money_figure
from sim.views.signal_grid import SignalPanel, grid_shape, signal_panels
from sim.views.style import (
    DEPLOYMENT_COLOURS,
    DEPLOYMENT_LABELS,
    METRIC_LABELS,
    PALETTE,
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

#: One panel of the signals figure (width, height in inches).
_SIGNAL_PANEL_SIZE = (6.0, 3.6)
#: Line styles of the signals sharing a panel, by their place in it.
LINE_STYLES = ("-", "--", ":", "-.")
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
    return [_Series(deployment_metric("workload_share", kind).name, segment,
                    DEPLOYMENT_LABELS[kind], DEPLOYMENT_COLOURS[kind]) for kind in OPTIONS]


def _stack_series() -> list[_Series]:
    return [_Series(stack_metric(kind).name, "all", STACK_LABELS[kind], STACK_COLOURS[kind])
            for kind in STACKS]


def _single_panel(frame: pd.DataFrame, *, title: str, ylabel: str, series: list[_Series],
                  whole: bool = True) -> Any | None:
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
    return fig


def workload_shares_figure(frame: pd.DataFrame) -> Any | None:
    """Share of deployed workloads by deployment (closed, open, open fine-tuned)."""
    return _single_panel(frame, title="Share of deployed enterprise workloads",
                         ylabel="Share of workloads", series=_deployment_series("all"))


def stack_shares_figure(frame: pd.DataFrame) -> Any | None:
    """Share of AI-using enterprises by stack (closed only, open only, hybrid)."""
    return _single_panel(frame, title="Enterprises by AI stack",
                         ylabel="Share of AI-using enterprises", series=_stack_series())


def plans_figure(frame: pd.DataFrame) -> Any | None:
    """Share of enterprises planning to expand open-source use."""
    return _single_panel(frame, title="Plans to expand open-source use",
                         ylabel="Share of enterprises", whole=False,
                         series=[_Series("plans_to_expand_open", "all",
                                         METRIC_LABELS["plans_to_expand_open"],
                                         DEPLOYMENT_COLOURS["open"])])


def regional_label(panel: SignalPanel, spec: SignalSpec, segment: str) -> str:
    """The legend's name of a regional signal's line: the region alone when the signal has its
    panel to itself (the title says what it is), else the signal's label and the region."""
    region = segment_label(segment)
    return region if len(panel.signals) == 1 else f"{spec.label}, {region}"


def _signal_series(frame: pd.DataFrame, panel: SignalPanel) -> list[_Series]:
    """The lines of a signals panel: one per signal, one per region for a regional signal.

    The n-th signal of the panel takes the n-th line style and, unless regional, the n-th colour
    of the palette; a regional signal's regions take their own colours (:data:`REGION_COLOURS`).
    """
    series = []
    for place, spec in enumerate(panel.signals):
        style = LINE_STYLES[place % len(LINE_STYLES)]
        if not spec.regional:
            series.append(_Series(spec.metric, "all", spec.label,
                                  PALETTE[place % len(PALETTE)], style))
            continue
        for number, segment in enumerate(_segments(frame, [spec.metric], "region=")):
            colour = REGION_COLOURS.get(segment.partition("=")[2], PALETTE[number % len(PALETTE)])
            series.append(_Series(spec.metric, segment, regional_label(panel, spec, segment),
                                  colour, style))
    return series


def signals_figure(frame: pd.DataFrame) -> Any | None:
    """The exogenous forces, one panel per panel of the signal table that holds a signal of the
    frame (:func:`sim.views.signal_grid.signal_panels`); None when the frame holds no signal."""
    panels = signal_panels(set(pd.unique(frame["metric"])))
    if not panels:
        return None
    rows, columns = grid_shape(len(panels))
    width, height = _SIGNAL_PANEL_SIZE
    fig, axes = new_figure("Forces behind the choice: the paths the scenario sets",
                           band_caption(frame), rows, columns,
                           figsize=(width * columns, height * rows + 1.2), sharex=True)
    quarters = _quarters(frame)
    for index, panel in enumerate(panels):
        ax = axes[panel.row, panel.column]
        _draw_series(ax, frame, _signal_series(frame, panel))
        ax.set_title(panel.title)
        ax.set_ylabel(panel.ylabel)
        ax.set_ylim(bottom=min(spec.low for spec in panel.signals))
        format_time_axis(ax, quarters)
        ax.legend(loc="best", fontsize="small", frameon=True, framealpha=0.9)
        if index + columns >= len(panels):  # lowest panel of its column: label the years
            ax.tick_params(axis="x", labelbottom=True)
    for ax in list(axes.flat)[len(panels):]:
        ax.set_axis_off()
    return fig


def workload_classes_figure(frame: pd.DataFrame) -> Any | None:
    """Small multiples: the three deployment shares within each workload class."""
    metrics = [deployment_metric("workload_share", kind).name for kind in OPTIONS]
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
    return fig


#: The run's figures, in reading order: the PNG's name and the function that builds the figure
#: from a tidy frame (None when the frame lacks its metrics).
RUN_FIGURES: tuple[tuple[str, Callable[[pd.DataFrame], Any | None]], ...] = (
    ("workload_shares.png", workload_shares_figure),
    ("stack_shares.png", stack_shares_figure),
    ("plans_to_expand.png", plans_figure),
    ("signals.png", signals_figure),
    ("workload_classes.png", workload_classes_figure),
    ("money_and_tokens.png", money_figure),
)


def run_figures(frame: pd.DataFrame) -> Iterator[tuple[str, Any]]:
    """Each figure of :data:`RUN_FIGURES` the frame holds metrics for, built but not saved:
    (PNG name, matplotlib Figure). Build them inside :func:`sim.views.style.theme`; the caller
    saves (:func:`sim.views.style.save_figure`) or closes each."""
    for name, build in RUN_FIGURES:
        fig = build(frame)
        if fig is not None:
            yield name, fig


def plot_run(frame: pd.DataFrame, folder: str | os.PathLike[str]) -> list[Path]:
    """Draw one run's trend figures into ``folder`` (created if needed); return the PNG paths.

    Writes, each only when the frame holds its metrics:

    * ``workload_shares.png``  share of deployed workloads by deployment (closed, open,
      open fine-tuned);
    * ``stack_shares.png``     share of AI-using enterprises by stack (closed only, open only,
      hybrid);
    * ``plans_to_expand.png``  share of enterprises planning to expand open-source use;
    * ``signals.png``          the signals, one panel per panel of the signal table;
    * ``workload_classes.png`` deployment shares in each workload class (one panel per class);
    * ``money_and_tokens.png`` what enterprises pay a year and for how many tokens, by
      deployment; the price paid per million tokens beside the price signals; the break-even
      volumes of a routine and a frontier workload by enterprise size
      (:mod:`sim.views.figures.money`).

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

    with theme():
        return [save_figure(fig, out / name) for name, fig in run_figures(frame)]
