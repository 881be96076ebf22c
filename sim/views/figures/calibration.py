"""A calibration's figures (:func:`plot_calibration`), drawn from the tables of
:mod:`sim.views.calibration`: the panel against the posterior predictive, its paths through the
observations, each parameter's posterior over its prior, the draws two at a time, and how the
fit converged.

The look is :mod:`sim.views.style`'s and the predictive paths are drawn as trends are
(:mod:`sim.views.figures.bands`); matplotlib is imported inside the functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from sim.views.figures.bands import (
    draw_band,
    format_share_axis,
    format_time_axis,
    quarter_bands,
    quarter_dates,
)
from sim.views.style import (
    BAND_HIGH,
    BAND_LOW,
    DEPLOYMENT_COLOURS,
    OKABE_ITO,
    SMALL_MULTIPLE_COLUMNS,
    SMALL_MULTIPLE_SIZE,
    new_figure,
    save_figure,
    theme,
    title_figure,
)


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
    columns = min(len(series), SMALL_MULTIPLE_COLUMNS)
    rows = math.ceil(len(series) / columns)
    fig, axes = new_figure(
        "The posterior predictive through the observations",
        f"Line: mean over {paths['draw'].nunique()} posterior draws (one "
        f"replication each); band: {BAND_LOW:.0%}-{BAND_HIGH:.0%} range.  "
        "Diamond: observation ± tolerance (red: measured, orange: claimed); "
        "triangle: upper bound; open: held out of the fit",
        nrows=rows,
        ncols=columns,
        figsize=(SMALL_MULTIPLE_SIZE[0] * columns, SMALL_MULTIPLE_SIZE[1] * rows),
    )
    for ax, (metric, segment) in zip(axes.flat, series):
        chosen = paths[(paths["metric"] == metric) & (paths["segment"] == segment)]
        table = quarter_bands(chosen.rename(columns={"draw": "replication"}))
        draw_band(ax, table, label="Model", colour=DEPLOYMENT_COLOURS["closed"])
        observed = panel[(panel["metric"] == metric) & (panel["segment"] == segment)]
        for entry in observed.itertuples():
            colour = (
                OKABE_ITO["orange"] if entry.confidence == "claimed" else OKABE_ITO["vermillion"]
            )
            bound = entry.kind != "estimate"
            ax.errorbar(
                quarter_dates([entry.quarter]),
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
        format_time_axis(ax, list(table.index))
        format_share_axis(ax, "", whole=False)
        ax.set_title(metric if segment == "all" else f"{metric} [{segment}]", fontsize="small")
    for ax in list(axes.flat)[len(series):]:
        ax.set_visible(False)
    return save_figure(fig, path)


def _plot_marginals(parameters: pd.DataFrame, draws: pd.DataFrame, path: Path) -> Path:
    """Each parameter's posterior draws as a histogram over its whole prior range, against the
    uniform prior's density: a posterior as flat as the prior is one the data do not identify."""
    columns = min(len(parameters), SMALL_MULTIPLE_COLUMNS + 1)
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
    format_share_axis(acceptance, "Acceptance", whole=False)
    for ax in axes[0]:
        ax.minorticks_off()
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("Generation")
    return save_figure(fig, path)
