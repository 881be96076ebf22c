"""The comparison report's "Signposts" section: what to watch, per scenario, and by when.

It reads a comparison folder's ``signposts.csv`` (:func:`read_signposts`, written from
:func:`sim.analysis.signposts.find_signposts`) and the manifest's ``signposts`` block (the level,
the false-alarm rate and how each scenario was searched), and puts the first signpost of each
scenario in plain words ("if the open share of workloads in the EU is above 17% by the end of
2026, this future is unfolding; right in 95% of the paired runs"), then every signpost in a
table per scenario. A scenario without one gets the reason: nothing observable tells it apart at
the level, or too few replications to tell a signpost from chance.
"""

from __future__ import annotations

import math
from pathlib import Path

from sim.core.metric_table import METRIC_BY_NAME
from sim.views.report.page import esc, swatch, table, td, th
from sim.views.report.reading import ReportError
from sim.views.report.words import amount, figure_value, when
from sim.views.style import METRIC_LABELS, is_share, segment_label

SIGNPOST_FILE = "signposts.csv"
SIGNPOST_COLUMNS = {"scenario", "rank", "metric", "segment", "quarter", "direction", "threshold",
                    "reliability", "chance", "scenario_mean", "reference_mean", "replications"}
#: How a sentence names a segment, by its dimension ("in the region EU").
SEGMENT_WORDS = {"sector": "in the sector", "region": "in the region",
                 "size": "among enterprises of size", "class": "for workloads of class"}


def read_signposts(folder: Path):
    """The folder's signpost table (a DataFrame), None when it has none (a comparison made
    before signposts), or a :class:`ReportError` naming the file."""
    import pandas as pd

    path = folder / SIGNPOST_FILE
    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(path, dtype={"scenario": str, "segment": str, "direction": str})
    except (OSError, ValueError) as error:
        raise ReportError(f"{path}: cannot read ({error})") from None
    if not set(frame) >= SIGNPOST_COLUMNS:
        raise ReportError(f"{path}: not a signpost table (needs columns "
                          f"{', '.join(sorted(SIGNPOST_COLUMNS))})")
    return frame


def value(number: float, metric: str) -> str:
    """A value in the metric's unit, in words: "17.0%", "2.51 million USD per quarter"."""
    if is_share(metric):
        return figure_value(number, metric)
    spec = METRIC_BY_NAME.get(metric)
    return f"{amount(number)} {spec.unit}" if spec else amount(number)


def where(segment: str) -> str:
    """"" for all enterprises, else " in the region EU" and the like."""
    dimension = segment.split("=", 1)[0]
    if segment == "all" or dimension not in SEGMENT_WORDS:
        return ""
    return f" {SEGMENT_WORDS[dimension]} <b>{esc(segment_label(segment))}</b>"


def segment_name(segment: str) -> str:
    """"All", "Region: EU", "Class: Customer facing"."""
    if segment == "all":
        return "All"
    dimension = segment.split("=", 1)[0]
    return f"{dimension.capitalize()}: {segment_label(segment)}"


def odds(chance: float) -> str:
    """How often luck alone would give such a signpost: "1 in 3,400", "under 1 in a million"."""
    if not (math.isfinite(chance) and chance > 0) or chance < 1e-6:
        return "under 1 in a million"
    return f"1 in {round(1 / chance):,}"


def sentence(row, reference: str) -> str:
    """The signpost ``row`` in plain words."""
    label = METRIC_LABELS.get(row.metric, row.metric)
    return (f"watch <b>{esc(label)}</b>{where(row.segment)}: if it is {esc(row.direction)} "
            f"<b>{value(row.threshold, row.metric)}</b> by {when(row.quarter)}, this future is "
            f"unfolding (its runs average {value(row.scenario_mean, row.metric)} there, those "
            f"of {esc(reference)} {value(row.reference_mean, row.metric)}); right in "
            f"{row.reliability * 100:.0f}% of the paired runs.")


def _none(search: dict | None, until: str | None) -> str:
    """Why a scenario has no signpost."""
    if not search:
        return "no signpost."
    if not search.get("indicators"):
        return ("no signpost: every figure a survey could measure is the same as in the "
                "reference, run by run.")
    searched = f"{search.get('indicators', 0):,} figures"
    if search.get("min_reliability") is None:
        needed = search.get("replications_needed")
        more = f"; at least {needed} replications would do" if needed else ""
        return (f"no signpost: with {search.get('replications')} replications even a perfect "
                f"split could be luck over the {searched} searched{more}.")
    by = f" by {esc(until)}" if until else ""
    return (f"no signpost: no observable figure tells it from the reference reliably "
            f"enough{by} ({searched} searched).")


def signposts_section(signposts, record: dict, reference: str, others: list[str],
                      colours: dict[str, str]) -> str:
    """The section's HTML: what a signpost is, each scenario's first signpost in words (or why
    it has none), and a table of all of them per scenario."""
    level = float(record.get("level") or 0.9)
    false_alarm = float(record.get("false_alarm") or 0.05)
    searches = record.get("search") or {}
    parts = [
        f"<p>What to watch: for each scenario, the figures a survey could measure (shares of "
        f"workloads, tokens and spend by deployment, the shares of enterprises by stack and "
        f"planning to expand open use, spend, tokens and prices paid) that tell it from "
        f"<b>{esc(reference)}</b> earliest. A signpost is a threshold on one figure, in one "
        f"segment, at one quarter, with the scenario's runs on one side and the reference's on "
        f"the other. Its reliability is the share of all runs, the scenario's and the "
        f"reference's (paired replication by replication), that fall on their side: a signpost "
        f"needs at least {level * 100:.0f}%, and the search over thousands of figures is held "
        f"to at most a {false_alarm * 100:.0f}% chance of showing a signpost for a scenario that "
        f"changes nothing observable. Of the figures one survey question gives (the closed and "
        f"the open share of workloads, say) only the best is listed.</p>"]
    items = []
    for name in others:
        rows = signposts[signposts["scenario"] == name].sort_values("rank") \
            if signposts is not None else None
        head = f"{swatch(colours[name])}<b>{esc(name)}</b>: "
        if rows is None or rows.empty:
            items.append(f"<li>{head}{_none(searches.get(name), record.get('until'))}</li>")
        else:
            items.append(f"<li>{head}{sentence(next(rows.itertuples()), reference)}</li>")
    parts.append(f"<ul>{''.join(items)}</ul>")
    if signposts is not None and not signposts.empty:
        parts.append(_tables(signposts, reference, others, colours))
    return "\n".join(parts)


def _tables(signposts, reference: str, others: list[str], colours: dict[str, str]) -> str:
    """One table per scenario with signposts, earliest first."""
    parts = [f"<p class=\"note\">Each scenario's signposts, earliest first: the figure to watch "
             f"and its segment, the quarter by which it tells the scenario apart, the threshold, "
             f"the mean of the scenario's and of {esc(reference)}'s runs there, the share of "
             f"runs the threshold puts on their side, and how often luck alone would give a "
             f"split this clean.</p>"]
    header = [[th("Watch", cls="text"), th("By"), th("Threshold"), th("Scenario's mean"),
               th(f"{reference}'s mean"), th("Reliability"), th("By luck")]]
    for name in others:
        rows = signposts[signposts["scenario"] == name].sort_values("rank")
        if rows.empty:
            continue
        parts.append(f"<h3>{swatch(colours[name])}{esc(name)}</h3>")
        parts.append(table(header, [[
            td(f"{esc(METRIC_LABELS.get(row.metric, row.metric))}<span class=\"interval\">"
               f"{esc(segment_name(row.segment))}</span>", "text"),
            td(esc(row.quarter)),
            td(f"{esc(row.direction)} {value(row.threshold, row.metric)}"),
            td(_number(row.scenario_mean, row.metric)),
            td(_number(row.reference_mean, row.metric)),
            td(f"{row.reliability * 100:.0f}%"),
            td(odds(row.chance)),
        ] for row in rows.itertuples()]))
    return "\n".join(parts)


def _number(number: float, metric: str) -> str:
    """A value without its unit (the threshold beside it names it)."""
    return figure_value(number, metric) if is_share(metric) else amount(number)
