"""The look and the words every figure and report shares: palette (and a stable colour per
scenario), theme, metric and segment labels, the metric lists of each view, and the figure
helpers (a themed figure, its sizes, atomic saving).

Colours follow the Okabe-Ito colour-blind-safe palette; the same deployment or stack has the same
colour in every figure and report. The look is seaborn's white grid, set through matplotlib
settings (:data:`THEME`, applied by :func:`theme`) so seaborn is not needed.

Importing this module is instant: it needs the standard library and the metric table only, and
matplotlib is imported inside the functions that draw (with the non-interactive "Agg" backend).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sim.core.metric_table import METRIC_BY_NAME, METRICS

# --- palette ----------------------------------------------------------------------------------

#: The Okabe-Ito palette (Okabe & Ito 2008), safe for the common forms of colour blindness.
OKABE_ITO = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "bluish_green": "#009E73",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
    "sky_blue": "#56B4E9",
    "yellow": "#F0E442",
    "black": "#000000",
}

#: The order in which series without a colour of their own (scenarios, sensitivity bars, lines
#: of a sweep) take colours; yellow last: it is faint on white.
PALETTE = tuple(OKABE_ITO[name] for name in (
    "blue", "orange", "bluish_green", "vermillion", "reddish_purple", "sky_blue", "black", "yellow",
))

#: Workloads by deployment (the keys are :data:`sim.core.kernel.OPTIONS`) and enterprises by
#: stack (:data:`sim.core.kernel.STACKS`): colours and labels.
DEPLOYMENT_COLOURS = {"closed": OKABE_ITO["blue"], "open": OKABE_ITO["orange"],
                      "open_finetuned": OKABE_ITO["vermillion"]}
DEPLOYMENT_LABELS = {"closed": "Closed API", "open": "Open weights, self-hosted",
                     "open_finetuned": "Open weights, fine-tuned"}
STACK_COLOURS = {"closed": OKABE_ITO["blue"], "open": OKABE_ITO["orange"],
                 "hybrid": OKABE_ITO["bluish_green"]}
STACK_LABELS = {"closed": "Closed only", "open": "Open only", "hybrid": "Hybrid"}
REGION_COLOURS = {"eu": OKABE_ITO["reddish_purple"], "north_america": OKABE_ITO["sky_blue"],
                  "apac": OKABE_ITO["black"]}
REGION_LABELS = {"eu": "EU", "north_america": "North America", "apac": "Asia-Pacific"}


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


# --- words ------------------------------------------------------------------------------------

#: Plain names of the metrics a reader meets in tables, reports and the terminal (every metric
#: of the metric table has one).
METRIC_LABELS = {spec.name: spec.label for spec in METRICS}

#: A run's headline figures: the terminal's table after ``adoptsim run`` and the run report's
#: key figures (labelled by :data:`METRIC_LABELS`).
HEADLINE_METRICS = ("workload_share_closed", "workload_share_open", "workload_share_open_finetuned",
                    "stack_share_closed", "stack_share_open", "stack_share_hybrid",
                    "plans_to_expand_open")

#: A comparison's metrics with the titles of their fan charts (also the terminal's headings).
COMPARE_METRICS = (
    ("workload_share_closed", "Share of workloads on closed APIs"),
    ("workload_share_open_any", "Share of workloads on open weights (self-hosted or fine-tuned)"),
    ("stack_share_hybrid", "Share of enterprises running hybrid stacks"),
    ("stack_share_closed", "Share of enterprises on closed APIs only"),
    ("plans_to_expand_open", "Share of enterprises planning to expand open use"),
)

#: The comparison report's headline: the metrics whose change it puts in words, as nouns.
COMPARE_HEADLINE_METRICS = (
    ("workload_share_open_any", "the open-weight share of workloads"),
    ("stack_share_hybrid", "the share of hybrid enterprises"),
    ("plans_to_expand_open", "the share planning to expand open use"),
)

#: The panels of the what-to-watch 2x2 matrix figure, with their titles.
MATRIX_METRICS = (
    ("workload_share_open_any", "Workloads on open weights (self-hosted or fine-tuned)"),
    ("stack_share_hybrid", "Enterprises running hybrid stacks"),
)


def metric_of(outcome: str) -> str:
    """The metric of a metric name or a sweep outcome: ``"x_share[region=eu]@2030Q4"`` ->
    ``"x_share"``."""
    return outcome.partition("@")[0].partition("[")[0]


def is_share(metric: str) -> bool:
    """Whether a metric (or a sweep outcome of it) is a share, shown in percent."""
    spec = METRIC_BY_NAME.get(metric_of(metric))
    return spec is not None and spec.is_share


def segment_label(segment: str) -> str:
    """"class=privacy_sensitive" -> "Privacy sensitive"; regions by their names ("region=eu" ->
    "EU")."""
    value = segment.split("=", 1)[-1]
    return REGION_LABELS.get(value) or value.replace("_", " ").capitalize()


# --- figures ----------------------------------------------------------------------------------

DPI = 120
#: Bands and intervals span the 5th to the 95th percentile over replications (or runs).
BAND_LOW, BAND_HIGH = 0.05, 0.95
BAND_ALPHA = 0.2
SINGLE_PANEL_SIZE = (8.0, 4.8)
#: Small multiples (a panel per class, series or parameter): a panel's size, panels per row.
SMALL_MULTIPLE_SIZE = (4.2, 3.4)
SMALL_MULTIPLE_COLUMNS = 3

#: seaborn's "whitegrid" look at readable sizes, without importing seaborn (a second of
#: start-up); applied through :func:`theme`, so matplotlib's global settings are left as they were.
THEME = {
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "axes.edgecolor": "0.8",
    "axes.linewidth": 1.25,
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.labelcolor": "0.15",
    "axes.titlesize": 13,
    "axes.labelsize": 12,
    "grid.color": "0.88",
    "grid.linestyle": "-",
    "grid.linewidth": 1.0,
    "text.color": "0.15",
    "xtick.color": "0.15",
    "ytick.color": "0.15",
    "xtick.labelsize": 11,
    "ytick.labelsize": 11,
    "xtick.minor.visible": True,
    "legend.fontsize": 11,
    "legend.edgecolor": "0.8",
    "font.size": 12,
    "lines.solid_capstyle": "round",
}


@contextmanager
def theme() -> Iterator[None]:
    """Draw with the non-interactive backend and :data:`THEME` inside the block."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with plt.rc_context(THEME):
        yield


def new_figure(title: str, caption: str, nrows: int = 1, ncols: int = 1,
               figsize: tuple[float, float] = SINGLE_PANEL_SIZE, **subplot_options: Any):
    """A figure with a grid of axes (always 2-D), its title and its caption (a footnote)."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, layout="constrained", squeeze=False,
                             **subplot_options)
    title_figure(fig, title, caption)
    return fig, axes


def title_figure(fig: Any, title: str, caption: str) -> None:
    """A figure's title above and its caption below, the way every figure has them."""
    fig.suptitle(title, fontsize="x-large", fontweight="bold")
    fig.supxlabel(caption, fontsize="small", color="0.35")


def save_figure(fig: Any, path: Path) -> Path:
    """Save ``fig`` as PNG atomically (temporary file in the same folder, then rename); close it."""
    import matplotlib.pyplot as plt

    handle, temporary = tempfile.mkstemp(suffix=".png", prefix=f".{path.stem}-", dir=path.parent)
    os.close(handle)
    try:
        fig.savefig(temporary, format="png", dpi=DPI)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    finally:
        plt.close(fig)
    return path
