"""The run report's segment breakdown: mean shares by sector, region, size and workload class
at the snapshot quarters, with a mix bar in the trend figures' colours.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sim.views.report.page import esc, swatch, table, td, th
from sim.views.report.run_data import RunData
from sim.views.report.words import Stat, pct, share_cell
from sim.views.style import (
    DEPLOYMENT_COLOURS,
    DEPLOYMENT_LABELS,
    METRIC_LABELS,
    STACK_COLOURS,
    STACK_LABELS,
)

SEGMENT_DIMENSIONS = (
    ("sector", "Sector"),
    ("region", "Region"),
    ("size", "Enterprise size"),
    ("class", "Workload class"),
)


@dataclass(frozen=True)
class _Column:
    """A column of a segment table: a metric, its short and full label, its colour (if any)."""

    metric: str
    short: str
    label: str
    colour: str | None = None


def _segment_columns() -> tuple[list[_Column], list[_Column]]:
    """The workload-deployment and enterprise-stack columns, in the trend figures' colours."""
    from sim.core.kernel import OPTIONS, STACKS

    shorts = {
        "closed": "Closed",
        "open": "Open",
        "open_finetuned": "Fine-tuned",
        "hybrid": "Hybrid",
    }
    deployment = [
        _Column(f"workload_share_{k}", shorts[k], DEPLOYMENT_LABELS[k], DEPLOYMENT_COLOURS[k])
        for k in OPTIONS
    ]
    stacks = [
        _Column(f"stack_share_{k}", shorts[k], STACK_LABELS[k], STACK_COLOURS[k]) for k in STACKS
    ]
    stacks.append(_Column("plans_to_expand_open", "Plans", METRIC_LABELS["plans_to_expand_open"]))
    return deployment, stacks


def _legend(columns: Sequence[_Column]) -> str:
    return "; ".join(f"{swatch(c.colour) if c.colour else ''}<b>{esc(c.short)}</b> = "
                     f"{esc(c.label)}" for c in columns)


def segments_section(run: RunData) -> str:
    deployment, stacks = _segment_columns()
    parts = [
        f"<p>Mean shares at {' and '.join(run.snapshots)} in each segment, with the 90% "
        f"interval in small type (percent). The bar on the right shows the mix at {run.end} "
        f"in the trend figures' colours. Workload shares are of the segment's deployed "
        f"workloads: {_legend(deployment)}. Enterprise shares are of the segment's enterprises "
        f"using AI: {_legend(stacks)}. Workload classes have no enterprise columns, since an "
        f"enterprise runs workloads of several classes.</p>"]
    for dimension, title in SEGMENT_DIMENSIONS:
        segments = run.segments(dimension)
        if not segments:
            continue
        parts.append(f"<h3>{esc(title)}</h3>")
        parts.append(_segment_lead(run, segments))
        parts.append(_segment_table(run, segments, deployment, "Workloads"))
        if dimension != "class":
            parts.append(_segment_table(run, segments, stacks, "Enterprises"))
    return "\n".join(parts)


def _segment_lead(run: RunData, segments: Sequence[str]) -> str:
    """One sentence saying where open weights go furthest and least far in this dimension."""
    ranked = sorted((stat.mean, segment) for segment in segments
                    if (stat := run.stat("workload_share_open_any", run.end, segment)) is not None)
    if len(ranked) < 2:
        return ""
    (low, low_seg), (high, high_seg) = ranked[0], ranked[-1]
    return (f"<p>Look at the open columns: by {run.end} open weights run the largest share of "
            f"workloads in <b>{esc(run.segment_label(high_seg))}</b> ({pct(high)}) and the "
            f"smallest in <b>{esc(run.segment_label(low_seg))}</b> ({pct(low)}).</p>")


def _segment_table(run: RunData, segments: Sequence[str], columns: Sequence[_Column],
                   title: str) -> str:
    """Rows: segments. Column groups: one per snapshot quarter, one column per metric; then the
    mix bar of the coloured metrics at the horizon end."""
    header = [
        [th(title, cls="text")] + [th(q, colspan=len(columns), cls="group") for q in run.snapshots]
        + [th(f"Mix {run.end}", cls="group")],
        [th("")] + [th((swatch(c.colour) if c.colour else "") + esc(c.short),
                         cls="start" if i == 0 else "", raw=True)
                     for _ in run.snapshots for i, c in enumerate(columns)] + [th("", cls="start")],
    ]
    rows = []
    for segment in segments:
        cells = [td(esc(run.segment_label(segment)))]
        for quarter in run.snapshots:
            cells += [
                td(share_cell(run.stat(c.metric, quarter, segment)), "start" if i == 0 else "")
                for i, c in enumerate(columns)
            ]
        cells.append(td(_mix_bar([(run.stat(c.metric, run.end, segment), c)
                                   for c in columns if c.colour]), "start"))
        rows.append(cells)
    return table(header, rows)


def _mix_bar(parts: Sequence[tuple[Stat | None, _Column]]) -> str:
    """A small stacked bar of shares (drawn with CSS, so it scales and prints)."""
    shown = [(stat, column) for stat, column in parts if stat is not None]
    spans = "".join(
        f'<span style="width:{max(stat.mean, 0.0) * 100:.1f}%;background:{column.colour}"></span>'
        for stat, column in shown
    )
    label = ", ".join(f"{column.label} {pct(stat.mean)}" for stat, column in shown)
    return f'<div class="mix" role="img" aria-label="{esc(label)}">{spans}</div>'
