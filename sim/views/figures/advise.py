"""An enterprise's advice as figures (:func:`plot_advice`), drawn from the advice document
(what ``advice.json`` holds: the profile, the scenarios, the advice rows, the costs by part):

* ``recommendations.png``: what should run where: for each scenario a grid of the workloads by
  year, each cell in the recommended deployment's colour with the share of posterior draws that
  agree;
* ``costs_NN.png``, one per workload in the profile's order (:func:`cost_figure_name`): each
  option's yearly cost by part under the reference scenario, a panel per option, with the 90%
  interval of the money total and a mark where the option is recommended.

The palette and labels are :mod:`sim.views.style`'s; matplotlib is imported inside the functions.
"""

from __future__ import annotations

from itertools import product
from pathlib import Path
from textwrap import fill

import numpy as np

from sim.views.style import (
    COST_PART_COLOURS,
    COST_PART_LABELS,
    DEPLOYMENT_COLOURS,
    DEPLOYMENT_LABELS,
    new_figure,
    save_figure,
    theme,
)

#: The figure of all recommendations.
RECOMMENDATIONS = "recommendations.png"
#: The parts of each option's cost, in drawing order, and the ones that are not money paid (the
#: same as ``sim.advise.advice.COST_PARTS`` and ``NOT_PAID``, read from the document's rows).
NOT_PAID = ("compliance",)
CAPTION_WIDTH = 100


def cost_figure_name(index: int) -> str:
    """The cost figure of the profile's ``index``-th workload (from 0)."""
    return f"costs_{index + 1:02d}.png"


def plot_advice(document: dict, folder: str | Path) -> list[Path]:
    """Write the advice's figures into ``folder`` (see the module docstring)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    workloads = [workload["name"] for workload in document["profile"]["workloads"]]
    with theme():
        written = [_recommendations(document, workloads, out / RECOMMENDATIONS)]
        written += [_costs(document, workload, out / cost_figure_name(index))
                    for index, workload in enumerate(workloads)]
    return written


def _draws_text(document: dict) -> str:
    counts = sorted({scenario["draws"] for scenario in document["scenarios"]})
    return "/".join(str(count) for count in counts)


def _recommendations(document: dict, workloads: list[str], path: Path) -> Path:
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Patch

    rows = {(row["scenario"], row["workload"], row["year"]): row for row in document["advice"]}
    scenarios = [scenario["name"] for scenario in document["scenarios"]]
    years = sorted({row["year"] for row in document["advice"]})
    caption = fill(f"Each cell: the deployment most of the {_draws_text(document)} posterior "
                   "draws recommend at the year's last quarter, and the share of draws that "
                   "agree.", CAPTION_WIDTH)
    height = 1.6 + len(scenarios) * (0.7 + 0.36 * len(workloads))
    fig, axes = new_figure("What should run where", caption, nrows=len(scenarios),
                           figsize=(9.0, height), sharex=True)
    for ax, scenario in zip(axes[:, 0], scenarios):
        image = np.ones((len(workloads), len(years), 3))
        for (i, workload), (j, year) in product(enumerate(workloads), enumerate(years)):
            row = rows.get((scenario, workload, year))
            if row is None:
                continue
            image[i, j] = to_rgb(DEPLOYMENT_COLOURS[row["recommended"]])
            ax.text(j, i, f"{row['agreement']:.0%}", ha="center", va="center", color="white",
                    fontsize=9, fontweight="bold")
        ax.imshow(image, aspect="auto", interpolation="nearest")
        ax.set_yticks(range(len(workloads)), workloads, fontsize=9)
        ax.set_xticks(range(len(years)), [str(year) for year in years])
        ax.tick_params(labelbottom=True)
        ax.minorticks_off()
        ax.grid(False)
        ax.set_title(scenario, loc="left", fontsize=11)
    handles = [Patch(color=colour, label=DEPLOYMENT_LABELS[option])
               for option, colour in DEPLOYMENT_COLOURS.items()]
    axes[0, 0].legend(handles=handles, loc="lower right", bbox_to_anchor=(1.0, 1.0), ncols=3,
                      fontsize=8, frameon=False)
    return save_figure(fig, path)


def _costs(document: dict, workload: str, path: Path) -> Path:
    from matplotlib.ticker import FuncFormatter

    reference = document["reference"]
    rows = {row["year"]: row for row in document["advice"]
            if row["scenario"] == reference and row["workload"] == workload}
    years = sorted(rows)
    parts: dict[str, dict[str, list[float]]] = {}
    for cost in document["costs"]:
        if cost["scenario"] == reference and cost["workload"] == workload:
            parts.setdefault(cost["option"], {}).setdefault(cost["part"], []).append(
                (cost["year"], cost["mean"]))
    caption = fill(f"Bars: mean yearly cost under {reference} over the posterior draws; "
                   "whiskers: 90% interval of the money paid; hatched: the compliance penalty's "
                   "money equivalent (not paid); \u25cf: the deployment recommended that year.",
                   CAPTION_WIDTH)
    fig, axes = new_figure(f"What \u201c{workload}\u201d costs a year", caption, ncols=3,
                           figsize=(12.0, 4.8), sharey=True)
    for ax, (option, option_parts) in zip(axes[0], parts.items()):
        _cost_panel(ax, option, option_parts, rows, years)
    axes[0, 0].yaxis.set_major_formatter(FuncFormatter(lambda value, _: _usd(value)))
    axes[0, 0].set_ylabel("USD a year")
    handles, labels = [], []
    for ax in axes[0]:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    axes[0, -1].legend(handles, [fill(label, 22) for label in labels], loc="center left",
                       bbox_to_anchor=(1.0, 0.5), fontsize=8, frameon=False)
    return save_figure(fig, path)


def _cost_panel(ax, option: str, option_parts: dict, rows: dict, years: list[int]) -> None:
    """One option's stacked yearly costs with the money total's interval."""
    x = np.arange(len(years))
    bottom = np.zeros(len(years))
    for part, values in option_parts.items():
        by_year = dict(values)
        heights = np.array([by_year.get(year, 0.0) for year in years])
        ax.bar(x, heights, 0.7, bottom=bottom, color=COST_PART_COLOURS[part],
               hatch="//" if part in NOT_PAID else None, edgecolor="white",
               label=COST_PART_LABELS[part])
        bottom += heights
    total = np.array([rows[year][f"cost_{option}_usd"] for year in years])
    low = np.array([rows[year][f"cost_{option}_p5"] for year in years])
    high = np.array([rows[year][f"cost_{option}_p95"] for year in years])
    ax.errorbar(x, total, yerr=np.maximum([total - low, high - total], 0.0), fmt="none",
                ecolor="0.2",
                capsize=3, linewidth=1)
    chosen = [index for index, year in enumerate(years) if rows[year]["recommended"] == option]
    ax.plot(x[chosen], np.maximum(bottom, high)[chosen] * 1.04, "o", color="0.15",
            markersize=6, linestyle="none")
    ax.set_xticks(x, [str(year) for year in years])
    ax.minorticks_off()
    ax.set_title(DEPLOYMENT_LABELS[option], fontsize=11)


def _usd(value: float) -> str:
    if abs(value) >= 1e6:
        return f"{value / 1e6:.1f}m"
    return f"{value / 1e3:.0f}k" if abs(value) >= 1e3 else f"{value:.0f}"
