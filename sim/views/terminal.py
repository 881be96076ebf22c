"""What the command line prints: a run's headline figures and a comparison, as text tables, and
a comparison's first signposts.

Each takes a table the library returns (a run's summary, a comparison table, the signposts) and
only formats it; labels and metric lists are :mod:`sim.views.style`'s, as in the reports.
"""

from __future__ import annotations

import pandas as pd

from sim.views.style import COMPARE_METRICS, HEADLINE_METRICS, METRIC_LABELS, is_share


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


def signposts_display(table: pd.DataFrame) -> str:
    """Each scenario's first signpost in a line ("" when none has one): the figure, its segment,
    the threshold, the quarter and the reliability (the rest is in ``signposts.csv``)."""
    first = table[table["rank"] == 1]
    if first.empty:
        return ""
    lines = ["\nSignposts (what to watch, by when; every one in signposts.csv):"]
    for row in first.itertuples(index=False):
        segment = "" if row.segment == "all" else f" [{row.segment}]"
        threshold = f"{row.threshold:.1%}" if is_share(row.metric) else f"{row.threshold:.3g}"
        lines.append(f"  {row.scenario}: {METRIC_LABELS.get(row.metric, row.metric)}{segment} "
                     f"{row.direction} {threshold} by {row.quarter} "
                     f"(right in {row.reliability:.0%} of paired runs)")
    return "\n".join(lines)


ADVICE_WORDS = {"closed": "closed", "open": "open", "open_finetuned": "fine-tuned"}


def _advice_cell(row: pd.Series) -> str:
    return f"{ADVICE_WORDS[row['recommended']]} {row['agreement']:.0%}"


def _usd(value: float) -> str:
    return f"{value / 1e3:,.1f}k" if abs(value) < 1e6 else f"{value / 1e6:,.2f}m"


def advice_display(table: pd.DataFrame, reference: str) -> str:
    """An enterprise's advice for a terminal: the recommended deployment and the share of
    posterior draws agreeing, per workload, under the reference each year and in the last year
    under every scenario; then the reference's yearly cost of each option in the first year
    (USD), the break-even volume and the workload's tokens (millions a month)."""
    cells = table.assign(cell=table.apply(_advice_cell, axis=1))
    order = list(dict.fromkeys(table["workload"]))
    mine = cells[cells["scenario"] == reference]
    first, last = int(table["year"].min()), int(table["year"].max())
    by_year = mine.pivot(index="workload", columns="year", values="cell").reindex(order)
    futures = cells[cells["year"] == last].pivot(index="workload", columns="scenario",
                                                 values="cell").reindex(order)
    futures = futures[list(dict.fromkeys(table["scenario"]))]
    start = mine[mine["year"] == first].set_index("workload").reindex(order)
    costs = pd.DataFrame({
        "closed API": start["cost_closed_usd"].map(_usd),
        "self-hosted": start["cost_open_usd"].map(_usd),
        "fine-tuned": start["cost_open_finetuned_usd"].map(_usd),
        "break-even Mtok/mo": start["break_even_mtok_per_month"].map(lambda v: f"{v:,.0f}"),
        "tokens Mtok/mo": start["mtok_per_month"].map(lambda v: f"{v:,.0f}"),
    })
    return "\n".join([
        f"Recommended deployment under {reference} (share of posterior draws agreeing):",
        by_year.to_string(), "",
        f"In {last}, under each scenario:", futures.to_string(), "",
        f"Yearly cost of each option in {first} under {reference} (USD; the open platform's "
        f"team, {_usd(float(start['platform_usd'].iloc[0]))} a year, comes on top once anything "
        "runs open):",
        costs.to_string()])
