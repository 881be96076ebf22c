"""What the command line prints: a run's headline figures and a comparison, as text tables.

Both take the tables the library returns (a run's summary, a comparison table) and only format
them; labels and metric lists are :mod:`sim.views.style`'s, as in the reports.
"""

from __future__ import annotations

import pandas as pd

from sim.views.style import COMPARE_METRICS, HEADLINE_METRICS, METRIC_LABELS


def _level(row: pd.Series) -> str:
    """A mean and its 5-95% range, in percent."""
    return f"{row['mean']:6.1%} [{row['p5']:.1%}, {row['p95']:.1%}]"


def headline_table(summary: pd.DataFrame) -> pd.DataFrame:
    """Headline figures (mean and 90% interval) at the snapshot quarters, as display strings."""
    rows = summary[(summary["segment"] == "all")
                   & summary["metric"].isin(HEADLINE_METRICS)]
    cells = rows.assign(figure=lambda t: t.apply(_level, axis=1))
    table = cells.pivot(index="metric", columns="quarter", values="figure")
    table = table.reindex([m for m in HEADLINE_METRICS if m in table.index])
    table.index = [METRIC_LABELS[m] for m in table.index]
    return table


def comparison_display(table: pd.DataFrame, reference: str) -> str:
    """The comparison table for a terminal: mean [5-95%] and paired difference [90% CI]."""
    labels = dict(COMPARE_METRICS)
    lines = []
    for metric, rows in table.groupby("metric", sort=False):
        lines.append(f"\n{labels.get(metric, metric)}")
        shown = rows.assign(
            level=rows.apply(_level, axis=1),
            change=rows.apply(
                lambda r: (
                    ""
                    if r["scenario"] == reference
                    else f"{r['difference']:+6.1%} "
                    f"[{r['difference_low']:+.1%}, {r['difference_high']:+.1%}]"
                ),
                axis=1,
            ),
        )
        lines.append(shown.pivot(index="scenario", columns="quarter", values="level")
                     .reindex(list(dict.fromkeys(rows["scenario"]))).to_string())
        lines.append(f"  change vs {reference} (paired, 90% CI):")
        lines.append(
            shown[shown["scenario"] != reference]
            .pivot(index="scenario", columns="quarter", values="change")
            .reindex([s for s in dict.fromkeys(rows["scenario"]) if s != reference])
            .to_string()
        )
    return "\n".join(lines)
