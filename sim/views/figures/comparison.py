"""A comparison's figures (:func:`plot_comparison`): one fan chart per metric, a band per
scenario in its own colour (:func:`sim.views.style.scenario_colours`), and the what-to-watch 2x2
matrix when the scenarios span it.

The look is :mod:`sim.views.style`'s and the bands are drawn as every trend is
(:mod:`sim.views.figures.bands`); matplotlib is imported inside the functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from sim.views.figures.bands import (
    band_caption,
    band_table,
    draw_band,
    format_share_axis,
    format_time_axis,
)
from sim.views.style import MATRIX_METRICS, new_figure, save_figure, scenario_colours, theme


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
    caption = band_caption(frame[frame["scenario"] == names[0]]).split(".  ")[-1]
    fig, axes = new_figure(title, caption, figsize=(9.0, 5.2))
    ax = axes[0, 0]
    quarters = []
    for name in names:
        try:
            table = band_table(frame, metric, scenario=name)
        except KeyError:
            continue
        quarters = list(table.index)
        draw_band(ax, table, label=name, colour=colours[name])
    format_time_axis(ax, quarters)
    format_share_axis(ax, "Share", whole=False)
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
