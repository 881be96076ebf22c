"""Figures of a sweep's analysis: sensitivity bars, grid heatmaps and lines, PRIM boxes.

They share the look, palette and atomic saving of :mod:`sim.views.style`; matplotlib is imported
inside the functions. Each ``plot_*`` function draws one PNG from tables (the sweep's results, a
sensitivity table, a :class:`~sim.analysis.prim.PrimResult`) and returns its path;
:func:`plot_analysis` draws every figure of an analysis (:func:`sim.analysis.analyze_tables`)
into its folder:

* Sobol and Morris designs: a bar plot per outcome, ``sensitivity_<outcome>.png``;
* grids: ``heatmap_<outcome>__<x>__<y>.png`` for every pair of parameters and
  ``lines_<outcome>__<parameter>.png`` for every parameter;
* each PRIM condition: ``<name>.png`` (the name its tables have, listed in ``prim.json``).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pandas as pd

from sim.views.style import (
    BAND_ALPHA,
    BAND_HIGH,
    BAND_LOW,
    OKABE_ITO,
    PALETTE,
    is_share,
    new_figure,
    save_figure,
    theme,
)

SENSITIVITY_BARS = {
    "sobol": (("S1", "S1_conf", "First order (S1)"), ("ST", "ST_conf", "Total (ST)")),
    "morris": (("mu_star", "mu_star_conf", "Mean absolute effect (mu*)"),
               ("sigma", None, "Spread of effects (sigma)")),
}
SENSITIVITY_CAPTIONS = {
    "sobol": "Sobol indices from a Saltelli design; whiskers: 95% bootstrap intervals",
    "morris": "Morris elementary effects per whole parameter range; whiskers: 95% bootstrap "
              "interval of mu*",
}


def plot_analysis(analysis) -> list[Path]:
    """Every figure of a sweep's analysis (a :class:`~sim.analysis.analyze.SweepAnalysis`),
    written into its folder; returns their paths."""
    from sim.analysis.data import slug

    data, folder = analysis.data, analysis.folder
    labels = {name: data.label(name) for name in data.parameters}
    written = []
    if analysis.sensitivity is not None:
        for outcome, rows in analysis.sensitivity.groupby("outcome", sort=False):
            written.append(plot_sensitivity(rows.drop(columns="outcome").set_index("parameter"),
                                            data.method, outcome,
                                            folder / f"sensitivity_{slug(outcome)}.png", labels))
    if data.method == "grid":
        levels = {name: data.spec.parameters[name].choices for name in data.parameters}
        for outcome in data.outcomes:
            for x, y in itertools.combinations(data.parameters, 2):
                name = f"heatmap_{slug(outcome)}__{slug(x)}__{slug(y)}.png"
                written.append(plot_heatmap(data.finished, outcome, x, y, folder / name, labels,
                                            levels))
            for parameter in data.parameters:
                hue = next((name for name in data.parameters if name != parameter), None)
                name = f"lines_{slug(outcome)}__{slug(parameter)}.png"
                written.append(plot_lines(data.finished, outcome, parameter, folder / name, hue,
                                          labels, levels))
    for name, result in zip(analysis.prim_names, analysis.prim):
        written.append(plot_prim(result, folder / f"{name}.png"))
    return written


def _format(outcome: str, value: float) -> str:
    return f"{value:.0%}" if is_share(outcome) else f"{value:.3g}"


def _value_axis(ax, outcome: str, axis: str = "y") -> None:
    if is_share(outcome):
        from matplotlib.ticker import PercentFormatter

        getattr(ax, f"{axis}axis").set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))


def plot_sensitivity(table: pd.DataFrame, method: str, outcome: str, path: Path,
                     labels: dict[str, str] | None = None) -> Path:
    """Horizontal bars of one outcome's indices (a table of :mod:`sim.analysis.sensitivity`,
    indexed by parameter), two bars per parameter, most influential first."""
    labels = labels or {}
    bars = SENSITIVITY_BARS[method]
    table = table.sort_values(bars[-1][0], ascending=True)
    positions = np.arange(len(table))
    height = 0.38
    with theme():
        fig, axes = new_figure(f"What drives {outcome}", SENSITIVITY_CAPTIONS[method],
                                figsize=(9.0, 1.6 + 0.55 * len(table)))
        ax = axes[0, 0]
        for offset, ((column, interval, label), colour) in enumerate(zip(bars, PALETTE)):
            errors = table[interval].to_numpy() if interval else None
            ax.barh(positions + (offset - 0.5) * height, table[column], height, xerr=errors,
                    color=colour, label=label, capsize=3, error_kw={"elinewidth": 1})
        ax.set_yticks(positions, [labels.get(name, name) for name in table.index])
        ax.tick_params(axis="y", which="minor", left=False)
        ax.axvline(0.0, color="0.5", linewidth=1)
        ax.legend(loc="lower right", frameon=True, framealpha=0.9)
        return save_figure(fig, path)


def plot_heatmap(
    results: pd.DataFrame,
    outcome: str,
    x: str,
    y: str,
    path: Path,
    labels: dict[str, str] | None = None,
    levels: dict[str, list] | None = None,
) -> Path:
    """Mean of ``outcome`` over the runs at each pair of levels of parameters ``x`` and ``y``
    (averaged over replications and any other parameters), values written in the cells.
    ``levels`` gives a parameter's levels in the order to show (default: sorted)."""
    labels, levels = labels or {}, levels or {}
    grid = results.pivot_table(index=y, columns=x, values=outcome, aggfunc="mean", sort=True)
    grid = grid.reindex(index=levels.get(y, grid.index), columns=levels.get(x, grid.columns))
    with theme():
        fig, axes = new_figure(outcome, f"Cells: mean over {_runs_per_cell(results, x, y)} runs",
                                figsize=(2.0 + 1.3 * grid.shape[1], 1.8 + 0.8 * grid.shape[0]))
        ax = axes[0, 0]
        image = ax.imshow(grid.to_numpy(dtype=float), cmap="viridis", aspect="auto", origin="lower")
        for (row, column), value in np.ndenumerate(grid.to_numpy(dtype=float)):
            if np.isfinite(value):
                shade = image.norm(value)
                ax.text(column, row, _format(outcome, value), ha="center", va="center",
                        color="black" if shade > 0.6 else "white", fontsize=10)
        ax.set_xticks(range(grid.shape[1]), [str(v) for v in grid.columns])
        ax.set_yticks(range(grid.shape[0]), [str(v) for v in grid.index])
        ax.tick_params(which="minor", bottom=False, left=False)
        ax.grid(False)
        ax.set_xlabel(labels.get(x, x))
        ax.set_ylabel(labels.get(y, y))
        bar = fig.colorbar(image, ax=ax)
        _value_axis(bar.ax, outcome)
        return save_figure(fig, path)


def _runs_per_cell(results: pd.DataFrame, x: str, y: str) -> str:
    counts = results.groupby([x, y], observed=True).size()
    return str(counts.iloc[0]) if counts.nunique() == 1 else f"{counts.min()}-{counts.max()}"


def plot_lines(results: pd.DataFrame, outcome: str, parameter: str, path: Path,
               hue: str | None = None, labels: dict[str, str] | None = None,
               levels: dict[str, list] | None = None) -> Path:
    """``outcome`` against the levels of ``parameter``: the mean over runs as a line and the
    5-95% range over runs (replications and other parameters) as a band; one line per level of
    ``hue`` when given. ``levels`` orders a parameter's levels (default: sorted)."""
    labels, levels = labels or {}, levels or {}
    hue_levels = levels.get(hue) or (sorted(results[hue].unique()) if hue else [None])
    groups = [(level, results if hue is None else results[results[hue] == level])
              for level in hue_levels]
    order = levels.get(parameter) or sorted(results[parameter].unique())
    numeric = pd.api.types.is_numeric_dtype(results[parameter])
    positions = {level: (level if numeric else i) for i, level in enumerate(order)}
    with theme():
        fig, axes = new_figure(outcome, f"Line: mean over runs; band: {BAND_LOW:.0%}-"
                                f"{BAND_HIGH:.0%} range over runs")
        ax = axes[0, 0]
        for (level, rows), colour in zip(groups, PALETTE * len(groups)):
            grouped = rows.groupby(parameter, sort=False)[outcome]
            band = grouped.quantile([BAND_LOW, BAND_HIGH]).unstack().assign(mean=grouped.mean())
            band = band.reindex([v for v in order if v in band.index])
            xs = [positions[v] for v in band.index]
            ax.fill_between(xs, band[BAND_LOW], band[BAND_HIGH], color=colour, alpha=BAND_ALPHA,
                            linewidth=0)
            ax.plot(xs, band["mean"], color=colour, marker="o", linewidth=2,
                    label=None if hue is None else str(level))
        if not numeric:
            ax.set_xticks(range(len(order)), [str(v) for v in order])
        ax.set_xlabel(labels.get(parameter, parameter))
        ax.set_ylabel(outcome)
        _value_axis(ax, outcome)
        if hue is not None:
            ax.legend(title=labels.get(hue, hue), loc="best", frameon=True, framealpha=0.9)
        return save_figure(fig, path)


def plot_prim(result, path: Path) -> Path:
    """Left: coverage against density along the peeling trajectory, the chosen box circled.
    Right: the chosen box's limits within each parameter's range."""
    reached = result.stats["density"] >= result.threshold
    why = (f"the widest with density at least {result.threshold:.0%}" if reached
           else f"the densest (none reaches {result.threshold:.0%})")
    with theme():
        fig, axes = new_figure(f"Scenario discovery: {result.condition}",
                                f"PRIM; chosen box: step {result.selected}, {why}",
                                ncols=2, figsize=(13.0, 5.5))
        _draw_tradeoff(axes[0, 0], result)
        _draw_box(axes[0, 1], result)
        return save_figure(fig, path)


def _draw_tradeoff(ax, result) -> None:
    from matplotlib.ticker import MaxNLocator, PercentFormatter

    trajectory = result.trajectory
    points = ax.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"],
                        cmap="viridis", s=28, zorder=3)
    chosen = trajectory.loc[result.selected]
    ax.scatter([chosen["coverage"]], [chosen["density"]], s=180, facecolors="none",
               edgecolors=OKABE_ITO["vermillion"], linewidths=2, zorder=4, label="chosen box")
    ax.axhline(result.threshold, color="0.5", linestyle="--", linewidth=1)
    ax.set_xlabel("Coverage (of the runs meeting the condition)")
    ax.set_ylabel("Density (of the runs in the box)")
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_major_formatter(PercentFormatter(xmax=1.0, decimals=0))
    bar = ax.figure.colorbar(points, ax=ax, label="Restricted parameters")
    bar.ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    bar.ax.minorticks_off()
    ax.legend(loc="lower left", frameon=True, framealpha=0.9)


def _draw_box(ax, result) -> None:
    box, full = result.box(), result.box(0)
    for row, (name, limits) in enumerate(box.iterrows()):
        colour = OKABE_ITO["vermillion"] if limits["restricted"] else "0.6"
        if limits["categories"]:
            ax.plot([0, 1], [row, row], color="0.85", linewidth=6, solid_capstyle="butt")
            ax.text(0.5, row + 0.22, limits["categories"], ha="center", fontsize=9, color=colour)
            continue
        low, high = full.loc[name, "lower"], full.loc[name, "upper"]
        span = (high - low) or 1.0
        start, end = (limits["lower"] - low) / span, (limits["upper"] - low) / span
        ax.plot([0, 1], [row, row], color="0.85", linewidth=6, solid_capstyle="butt")
        ax.plot([start, end], [row, row], color=colour, linewidth=6, solid_capstyle="butt")
        ax.text(start, row + 0.22, f"{limits['lower']:.3g}", ha="center", fontsize=9)
        ax.text(end, row + 0.22, f"{limits['upper']:.3g}", ha="center", fontsize=9)
    ax.set_yticks(range(len(box)), list(box.index))
    ax.set_ylim(-0.6, len(box) - 0.3)
    ax.set_xlim(-0.05, 1.05)
    ax.set_xticks([0, 1], ["lowest sampled", "highest sampled"])
    ax.tick_params(which="minor", bottom=False, left=False)
    ax.set_title("Chosen box (red: restricted)")
