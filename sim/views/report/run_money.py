"""The run report's money and tokens: the caption of the money-and-tokens figure in the run's
numbers beside the published ones (:func:`money_caption`), and the break-even section
(:func:`break_even_section`): the median break-even volumes by enterprise size with the published
findings beside them.

The published figures come from the targets file (:class:`~sim.views.report.run_targets.Published`:
the growth of closed API spend in the panel, the flagship price range and the break-even
findings among the checks), never from this module; without a targets file the run's numbers
stand alone.
"""

from __future__ import annotations

from collections.abc import Sequence

from sim.core.metric_table import METRIC_BY_NAME, deployment_metric
from sim.core.signal_table import SIGNAL_BY_NAME
from sim.views.report.page import esc, table, td, th
from sim.views.report.run_data import RunData
from sim.views.report.run_targets import Published, bounds_text
from sim.views.report.words import Stat, number, stat_cell
from sim.views.style import (
    ANNUAL_UNITS,
    BREAK_EVEN_METRICS,
    FRONTIER_WORK_PRICE,
    METRIC_LABELS,
    PRICE_SIGNALS,
)

_SPEND_CLOSED = deployment_metric("spend_usd", "closed")
_PRICE_CLOSED = deployment_metric("price_paid_usd_per_mtok", "closed")
#: The run's last year: its last four quarters.
YEAR = 4


def _annual(metric: str, value: float) -> str:
    """A quarterly total ``value`` of ``metric`` per year, in the unit the figure draws."""
    scale, unit = ANNUAL_UNITS[METRIC_BY_NAME[metric].unit]
    return f"{number(value * scale)} {unit}"


def _interval(stat: Stat, scale: float = 1.0) -> str:
    return f"90% interval {number(stat.p5 * scale)}&ndash;{number(stat.p95 * scale)}"


def growth(run: RunData, metric: str, before: str, after: str) -> Stat | None:
    """``metric`` at ``after`` over its value at ``before``, within each replication."""
    import numpy as np

    first, last = run.values(metric, before), run.values(metric, after)
    ratio = np.divide(last, first, out=np.full(first.shape, np.nan), where=first > 0)
    return Stat.of(ratio)


def money_caption(run: RunData, published: Published) -> str:
    """The money figure's caption (the band note aside): how to read its four panels, then
    closed API spend and its growth beside the measured growth, the prices paid beside the
    list-price range, and what enterprises pay in the run's last year."""
    text = ("<b>Money and tokens.</b> Top left: what enterprises pay a year, by deployment; top "
            "right: the tokens they process a year; bottom left: the price paid per million "
            "tokens (for open weights the all-in cost of self-hosting), with the two price "
            "signals dashed; bottom right: the monthly volume above which self-hosting one "
            "workload costs less than the API, by enterprise size (the Break-even section "
            "gives the numbers). ")
    sentences = [_spend_sentence(run, published), _price_sentence(run, published),
                 _total_sentence(run)]
    return text + " ".join(s for s in sentences if s)


def _spend_sentence(run: RunData, published: Published) -> str:
    """Closed API spend at the first growth target's base quarter (else the start) and its
    growth to each growth target's quarter (else 2025Q4), each beside the measured growth; what
    the measurements count, once per source."""
    growths = published.growths(_SPEND_CLOSED.name)
    targets = [t for t in growths
               if t.relative_to == growths[0].relative_to and t.quarter in run.quarters]
    before = targets[0].relative_to if targets else run.start
    first = run.stat(_SPEND_CLOSED.name, before)
    ends = [(t.quarter, t) for t in targets] or [(run.snapshots[0], None)]
    steps = []
    for after, target in ends:
        factor = growth(run, _SPEND_CLOSED.name, before, after)
        if factor is None or after == before:
            continue
        measured = "" if target is None else f"; measured: {target.value:g}&times;"
        steps.append(f"{factor.mean:.1f}&times; by {after} ({_interval(factor)}{measured})")
    if first is None or not steps:
        return ""
    text = (f"Look at the blue line top left: closed API spend runs at "
            f"{_annual(_SPEND_CLOSED.name, first.mean)} at {before} and grows "
            f"{', '.join(steps)}")
    counted = {}   # what each source's first target counts
    for target in targets:
        counted.setdefault(target.source, target.counts)
    if counted:
        text += " (" + "; ".join(f"{esc(counts)}: {esc(source)}"
                                 for source, counts in counted.items()) + ")"
    return text + "."


def _price_sentence(run: RunData, published: Published) -> str:
    """The price closed frontier work pays at the check's quarter (else 2025Q4) beside the
    published range, with the average closed price and the fixed-capability price."""
    check = published.numeric_check(FRONTIER_WORK_PRICE)
    quarter = check.quarter if check is not None and check.quarter in run.quarters else (
        run.snapshots[0])
    frontier = run.stat(FRONTIER_WORK_PRICE, quarter)
    average = run.stat(_PRICE_CLOSED.name, quarter)
    fixed = run.stat(SIGNAL_BY_NAME[PRICE_SIGNALS[1]].metric, quarter)
    if frontier is None:
        return ""
    text = (f"Bottom left, at {quarter}: closed work needing the frontier pays "
            f"{number(frontier.mean)} {esc(_PRICE_CLOSED.unit)} ({_interval(frontier)})")
    if check is not None:
        verdict = "within" if check.within(frontier.mean) else "outside"
        text += (f", {verdict} the published range of {bounds_text(check)} "
                 f"({esc(check.statement)})")
    if average is not None:
        text += f"; closed work as a whole pays {number(average.mean)} USD on average"
    if fixed is not None:
        text += (f", while the {esc(SIGNAL_BY_NAME[PRICE_SIGNALS[1]].label.lower())} "
                 f"(a dashed line) is {number(fixed.mean)} USD")
    return text + "."


def last_year_spend(run: RunData, deployments: Sequence[str]) -> Stat | None:
    """What enterprises pay ``deployments`` over the run's last year (its last :data:`YEAR`
    quarters), summed within each replication, in USD."""
    quarters = run.quarters[-YEAR:]
    total = sum(run.values(deployment_metric("spend_usd", kind).name, quarter)
                for kind in deployments for quarter in quarters)
    return Stat.of(total)


def _total_sentence(run: RunData) -> str:
    """What enterprises pay in all over the run's last year, and how much of it to closed APIs."""
    from sim.core.kernel import OPTIONS

    total, closed = last_year_spend(run, OPTIONS), last_year_spend(run, ["closed"])
    if total is None or closed is None:
        return ""
    first, last = run.quarters[-YEAR:][0], run.end
    return (f"Over the run's last year ({first}&ndash;{last}) enterprises pay "
            f"{number(total.mean / 1e9)} billion USD in all ({_interval(total, 1e-9)}), "
            f"{number(closed.mean / 1e9)} billion of it to closed APIs.")


# break-even -------------------------------------------------------------------------------------

def break_even_cell(run: RunData, metric: str, quarter: str, segment: str) -> str:
    """A break-even table cell: mean and 90% interval over the replications where the median
    enterprise breaks even, how many those are when not all; "none" where fewer than half do."""
    from sim.views.figures.bands import mostly_measured

    measured = run.measured(metric, quarter, segment)
    stat = run.stat(metric, quarter, segment)
    if stat is None or not mostly_measured(measured, run.replications):
        return "none"
    cell = stat_cell(stat)
    if measured < run.replications:
        cell += f"<span class=\"interval\">{measured} of {run.replications} replications</span>"
    return cell


def has_break_even(run: RunData) -> bool:
    """Whether the run records break-even volumes (runs from before the dollar economics do
    not)."""
    return bool(run.frame["metric"].isin([metric for metric, _ in BREAK_EVEN_METRICS]).any())


def break_even_section(run: RunData, published: Published) -> str:
    """The median break-even volumes by enterprise size (and over all) at the snapshot quarters,
    then the published findings to set beside them."""
    segments = ["all", *run.segments("size")]
    header = [[th("Enterprises", cls="text")]
              + [th(METRIC_LABELS[metric], colspan=len(run.snapshots), cls="group")
                 for metric, _ in BREAK_EVEN_METRICS],
              [th("")] + [th(quarter, cls="start" if i == 0 else "")
                          for _ in BREAK_EVEN_METRICS for i, quarter in enumerate(run.snapshots)]]
    rows = [[td("All enterprises" if segment == "all" else esc(run.segment_label(segment)))]
            + [td(break_even_cell(run, metric, quarter, segment), "start" if i == 0 else "")
               for metric, _ in BREAK_EVEN_METRICS for i, quarter in enumerate(run.snapshots)]
            for segment in segments]
    unit = METRIC_BY_NAME[BREAK_EVEN_METRICS[0][0]].unit
    described = " ".join(f"<b>{esc(METRIC_LABELS[metric])}</b>: "
                         f"{esc(METRIC_BY_NAME[metric].description)}."
                         for metric, _ in BREAK_EVEN_METRICS)
    intro = (f"<p>Where self-hosting pays: the volume, in {esc(unit)}, above which running one "
             f"workload on open weights costs an enterprise less than the API. {described}</p>")
    caption = ("Mean over replications; small type: 90% interval. <b>none</b>: in most "
               "replications most enterprises never break even; where only some replications "
               "break even, the mean is over those, and the cell says how many.")
    return (intro + _bill_sentence(run) + table(header, rows, caption)
            + _findings(published))


def _bill_sentence(run: RunData) -> str:
    """The frontier break-even at 2025Q4 as the API bill it stands for."""
    quarter = run.snapshots[0]
    metric = BREAK_EVEN_METRICS[-1][0]
    volume, price = run.stat(metric, quarter), run.stat(FRONTIER_WORK_PRICE, quarter)
    if volume is None or price is None or not _shown(run, metric, quarter):
        return ""
    return (f"<p>Look at the frontier columns: at {quarter} the median enterprise would need to "
            f"send more than {number(volume.mean)} million tokens a month through one frontier "
            f"workload, an API bill of about {number(volume.mean * price.mean)} USD a month at "
            f"the price frontier work pays, before self-hosting it pays.</p>")


def _shown(run: RunData, metric: str, quarter: str) -> bool:
    return break_even_cell(run, metric, quarter, "all") != "none"


def _findings(published: Published) -> str:
    """The published findings (checks in words) as a table beside the break-even volumes."""
    findings = published.findings
    if not findings:
        return ("<p class=\"note\">No published ranges to set beside these: the report was "
                "built without a targets file.</p>")
    rows = [[td(esc(check.statement), "text"), td(esc(check.counts), "text"),
             td(f"{esc(check.source)} <span class=\"note\">(confidence: "
                f"{esc(check.confidence)})</span>", "text")] for check in findings]
    header = [[th("Published finding", cls="text"), th("What it counts", cls="text"),
               th("Source", cls="text")]]
    return ("<h3>Published ranges</h3><p>What others found, to read beside the table: the "
            "published figures count differently from the model, as the middle column says, "
            "so they are set side by side, not fitted.</p>" + table(header, rows))
