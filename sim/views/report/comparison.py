"""The comparison report: the page for a comparison folder (``manifest.json`` +
``comparison.csv`` + ``comparison.parquet``, written by :func:`sim.workflows.compare_scenarios`).

A headline in plain words (what each scenario assumes and, at the last date compared, how far it
moves the headline figures from the reference, with paired 90% confidence intervals), the
signposts (what to watch, by when: :mod:`sim.views.report.signposts`, from ``signposts.csv``), the
comparison table (level and paired change per scenario, metric and date, and how much narrower
the paired intervals are than unpaired ones), the fan charts and the what-to-watch 2x2 with
captions that say what to look at, and provenance (hashes, seed, replications, versions, run
folders).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

from sim.views.report.page import (
    FolderKind,
    Section,
    document,
    embeddable,
    esc,
    facts,
    figure,
    hash_span,
    other_figures,
    software_facts,
    swatch,
    table,
    td,
    th,
)
from sim.views.report.reading import ReportError, read_manifest, read_parquet
from sim.views.report.signposts import read_signposts, signposts_section
from sim.views.report.words import (
    Stat,
    figure_value,
    interval_meaning,
    join_words,
    pct,
    pct_interval,
    share_cell,
    when,
)
from sim.views.style import COMPARE_HEADLINE_METRICS, METRIC_LABELS, is_share, scenario_colours

COMPARISON_FILES = ("manifest.json", "comparison.csv", "comparison.parquet")
TABLE_COLUMNS = {"scenario", "metric", "quarter", "mean", "p5", "p95", "difference",
                 "difference_low", "difference_high", "unpaired_low", "unpaired_high"}

#: The metric the what-to-watch sentence weighs the two axes by.
MATRIX_METRIC = "workload_share_open_any"


def _is_comparison(folder: Path) -> bool:
    return all((folder / name).is_file() for name in COMPARISON_FILES)


@dataclass(frozen=True)
class Change:
    """One row of the comparison table: a scenario's level (mean and 5-95% range over
    replications) and its change from the reference (paired mean difference with its 90%
    confidence interval, and the interval an unpaired comparison would give)."""

    level: Stat
    difference: float
    low: float
    high: float
    unpaired_low: float
    unpaired_high: float

    @property
    def clear(self) -> bool:
        """Whether the paired interval excludes zero (the replications tell the change apart
        from noise)."""
        return self.low > 0 or self.high < 0

    @property
    def narrowing(self) -> float | None:
        """How many times narrower the paired interval is than the unpaired one (None when the
        paired interval is empty or undefined)."""
        paired, unpaired = self.high - self.low, self.unpaired_high - self.unpaired_low
        if not (paired > 0 and math.isfinite(unpaired)):
            return None
        return unpaired / paired


class ComparisonData:
    """A comparison folder's manifest and table, loaded once (the tidy frame on demand)."""

    def __init__(self, folder: Path):
        import pandas as pd

        self.folder = folder
        self.manifest = read_manifest(folder)
        path = folder / "comparison.csv"
        try:
            frame = pd.read_csv(path)
        except (OSError, ValueError) as error:
            raise ReportError(f"{path}: cannot read ({error})") from None
        if not set(frame) >= TABLE_COLUMNS or frame.empty:
            raise ReportError(f"{path}: not a comparison table (needs columns "
                              f"{', '.join(sorted(TABLE_COLUMNS))})")
        self.reference = str(self.manifest.get("reference") or frame["scenario"].iloc[0])
        self.names: list[str] = list(dict.fromkeys(frame["scenario"].astype(str)))
        if self.reference not in self.names:
            raise ReportError(f"{path}: holds no rows of the reference scenario '{self.reference}'")
        self.others = [name for name in self.names if name != self.reference]
        listed = [str(q) for q in self.manifest.get("dates") or []]
        present = set(frame["quarter"].astype(str))
        self.dates = [q for q in listed if q in present] or sorted(present)
        self.last = self.dates[-1]
        ranked = {metric: i for i, metric in enumerate(METRIC_LABELS)}
        self.metrics = sorted(dict.fromkeys(frame["metric"].astype(str)),
                              key=lambda m: ranked.get(m, len(ranked)))
        self.rows = {(str(r.scenario), str(r.metric), str(r.quarter)): Change(
            Stat(r.mean, r.p5, r.p95), r.difference, r.difference_low, r.difference_high,
            r.unpaired_low, r.unpaired_high) for r in frame.itertuples(index=False)}
        self.scenarios: dict[str, dict] = self.manifest.get("scenarios") or {}
        self.replications = self.manifest.get("replications")
        self.signposts = read_signposts(folder)   # None: made before signposts

    def row(self, scenario: str, metric: str, quarter: str) -> Change | None:
        return self.rows.get((scenario, metric, quarter))

    def description(self, scenario: str) -> str:
        return " ".join(str((self.scenarios.get(scenario) or {}).get("description") or "").split())

    def png(self, name: str) -> Path | None:
        path = self.folder / "plots" / name
        return path if embeddable(path) else None

    def colours(self) -> dict[str, str]:
        """Each scenario's colour in the fan charts."""
        return scenario_colours(self.names)

    def frame(self):
        """The tidy table of every scenario (comparison.parquet)."""
        return read_parquet(self.folder / "comparison.parquet")


def render_comparison(folder: Path, *, targets: str | Path | None = None) -> str:
    """The HTML of a comparison folder's report (see the module docstring for its contents).
    ``targets`` is accepted for a uniform signature and not used."""
    comparison = ComparisonData(Path(folder))
    colours = comparison.colours()
    sections = [] if comparison.signposts is None else [Section(
        "signposts", "Signposts: what to watch, by when", signposts_section(
            comparison.signposts, comparison.manifest.get("signposts") or {},
            comparison.reference, comparison.others, colours))]
    sections += [
        Section("table", "Comparison table", _table_section(comparison, colours)),
        Section("fans", "Paths over time", _fan_figures(comparison, colours)),
    ]
    if comparison.png("matrix.png") is not None:
        sections.append(Section("matrix", "The two dynamics to watch", _matrix_figure(comparison)))
    sections.append(Section("provenance", "Provenance", _provenance_section(comparison, colours)))
    version = (comparison.manifest.get("versions") or {}).get("adoptsim", "")
    count = len(comparison.others)
    footer = (
        f"Generated by adoptsim {esc(version)} from the comparison of {count} "
        f"scenario{'s' if count != 1 else ''} with <code>{esc(comparison.reference)}</code> "
        f"made {esc(comparison.manifest.get('created', ''))}. This page is self-contained: it "
        "needs no network and can be saved, mailed or printed as it is."
    )
    span = "\u2013".join(dict.fromkeys([comparison.dates[0], comparison.last]))
    title = (
        f"{count} scenario{'s' if count != 1 else ''} against \u201c{comparison.reference}\u201d, "
        f"{span}"
    )
    return document(title, "adoptsim comparison report", _headline(comparison, colours), sections,
                    footer)


# --- numbers ----------------------------------------------------------------------------------

def _change(value: float, metric: str) -> str:
    """A change in the metric's unit: percentage points for shares, else three digits."""
    if not math.isfinite(value):
        return "&ndash;"
    return f"{value * 100:+.1f}" if is_share(metric) else f"{value:+.3g}"


def _unit(metric: str) -> str:
    return " points" if is_share(metric) else ""


def _interval(change: Change, metric: str) -> str:
    """"+1.2 to +3.4" (the paired 90% confidence interval), or a dash when undefined."""
    if not (math.isfinite(change.low) and math.isfinite(change.high)):
        return "&ndash;"
    return f"{_change(change.low, metric)} to {_change(change.high, metric)}"


def _narrowing(changes) -> float | None:
    """The median factor by which paired intervals are narrower than unpaired ones."""
    factors = sorted(f for change in changes if (f := change.narrowing) is not None)
    if not factors:
        return None
    middle = len(factors) // 2
    return factors[middle] if len(factors) % 2 else (factors[middle - 1] + factors[middle]) / 2


# --- headline ---------------------------------------------------------------------------------

def _headline(comparison: ComparisonData, colours: dict[str, str]) -> str:
    reference = comparison.reference
    paragraphs = []
    text = (f"<p class=\"headline\"><b>What is compared.</b> "
            f"{esc(join_words(comparison.others) or 'no scenario')} against the reference "
            f"<b>{esc(reference)}</b>")
    if description := comparison.description(reference):
        text += f", which assumes: {esc(description)}"
    paragraphs.append(text.rstrip(".") + ".</p>")
    if state := _reference_sentence(comparison):
        paragraphs.append(f"<p class=\"headline\">{state}</p>")
    items = []
    for name in comparison.others:
        assumes = comparison.description(name)
        item = f"{swatch(colours[name])}<b>{esc(name)}</b>"
        item += f" assumes: {esc(assumes)}" if assumes else ""
        if moves := _moves_sentence(comparison, name):
            item = item.rstrip(".") + f". {moves}"
        items.append(f"<li>{item}</li>")
    if items:
        paragraphs.append(f"<p class=\"headline\"><b>What each scenario changes, by "
                          f"{when(comparison.last)}.</b></p><ul>{''.join(items)}</ul>")
    draws = comparison.manifest.get("posterior_draws")
    paired_draws = (" Replication by replication every scenario used the same draw, so the changes "
                    "stay paired." if draws else "")
    replications = comparison.replications
    runs = (f"{replications} replication{'s' if replications != 1 else ''}" if replications
            else "the same replications")
    paragraphs.append(
        f"<p class=\"note\">How to read the numbers: every scenario ran {esc(runs)} with the "
        f"reference's seed, so replication by replication they share the same simulated "
        f"enterprises and random draws, and differ only by what the scenario changes. A change "
        f"is the mean difference from the reference in percentage points, taken replication by "
        f"replication; the range after it is its 90% confidence interval. When that interval "
        f"excludes zero the replications can tell the change apart from chance. "
        f"{interval_meaning(draws)}{paired_draws}</p>")
    return "\n".join(paragraphs)


def _reference_sentence(comparison: ComparisonData) -> str:
    """Where the reference stands at the last date, in one sentence."""
    clauses = []
    for metric, noun in COMPARE_HEADLINE_METRICS:
        row = comparison.row(comparison.reference, metric, comparison.last)
        if row is not None:
            clauses.append(f"{noun} is {pct_interval(row.level)}")
    if not clauses:
        return ""
    return (f"In the reference, at {when(comparison.last)}, {join_words(clauses)} (mean over "
            f"replications, and in brackets the range within which 90% of them fall).")


def _moves_sentence(comparison: ComparisonData, scenario: str) -> str:
    """How ``scenario`` moves the headline figures from the reference at the last date."""
    clauses = []
    for metric, noun in COMPARE_HEADLINE_METRICS:
        row = comparison.row(scenario, metric, comparison.last)
        if row is None:
            continue
        change = f"{_change(row.difference, metric)}{_unit(metric)}"
        interval = _interval(row, metric)
        if interval == "&ndash;":
            clauses.append(f"moves {noun} {change} to {pct(row.level.mean)} (no interval: one "
                           f"replication)")
        elif row.clear:
            verb = "raises" if row.difference > 0 else "lowers"
            clauses.append(f"{verb} {noun} to {pct(row.level.mean)} ({change}, 90% CI {interval})")
        else:
            clauses.append(f"leaves {noun} at {pct(row.level.mean)}, not clearly different from "
                           f"the reference ({change}, 90% CI {interval})")
    return f"It {join_words(clauses)}." if clauses else ""


# --- the comparison table ---------------------------------------------------------------------

def _table_section(comparison: ComparisonData, colours: dict[str, str]) -> str:
    overall = _narrowing(comparison.rows[key] for key in comparison.rows
                         if key[0] != comparison.reference)
    parts = [
        f"<p>One table per figure, one row per scenario, and for each date two columns: the "
        f"<b>level</b> (mean over replications in percent, and in small type the range within "
        f"which 90% of replications fall) and the <b>change</b> from "
        f"<b>{esc(comparison.reference)}</b> (mean paired difference in percentage points, and "
        f"in small type its 90% confidence interval). Look at the change columns: a bold change "
        f"has an interval that excludes zero.</p>"]
    if overall is not None:
        parts.append(f"<p>{_pairing_sentence(overall)}</p>")
    for metric in comparison.metrics:
        parts.append(f"<h3>{esc(METRIC_LABELS.get(metric, metric))}</h3>")
        parts.append(_metric_table(comparison, metric, colours))
    return "\n".join(parts)


def _metric_table(comparison: ComparisonData, metric: str, colours: dict[str, str]) -> str:
    header = [
        [th("Scenario", cls="text")] + [th(q, colspan=2, cls="group") for q in comparison.dates],
        [th("")] + [cell for _ in comparison.dates
                    for cell in (th("Level", cls="start"), th("Change"))],
    ]
    rows = []
    for name in comparison.names:
        cells = [td(f"{swatch(colours[name])}{esc(name)}")]
        for quarter in comparison.dates:
            row = comparison.row(name, metric, quarter)
            cells += [td(_level_cell(row, metric), "start"),
                      td(_change_cell(row, metric, name == comparison.reference))]
        rows.append(cells)
    narrowing = _narrowing(comparison.rows[key] for key in comparison.rows
                           if key[0] != comparison.reference and key[1] == metric)
    caption = (f"Paired intervals here are {narrowing:.1f} times narrower than unpaired ones "
               f"(median)." if narrowing is not None else "")
    return table(header, rows, caption)


PAIRING_PAYS = 1.1
"""The median narrowing from which the report says pairing pays."""


def _pairing_sentence(narrowing: float) -> str:
    """What the median narrowing of the paired intervals tells a reader."""
    if narrowing >= PAIRING_PAYS:
        return (f"Pairing pays: the paired intervals are <b>{narrowing:.1f} times narrower</b> "
                f"(median over the table) than an unpaired comparison of the same runs would "
                f"give, because the scenarios share their random draws with the reference and "
                f"the difference carries only what the scenario changes. That is also why two "
                f"fan bands can overlap while the change between them is clear.")
    return (f"Pairing barely narrows the intervals here (<b>{narrowing:.1f} times</b>, median "
            f"over the table): the scenarios share their random draws with the reference, but "
            f"their effect itself varies with the calibrated parameters each replication runs "
            f"on, so the replications differ on the size of the change, not only by chance.")


def _level_cell(row: Change | None, metric: str) -> str:
    if row is None:
        return "&ndash;"
    if is_share(metric):
        return share_cell(row.level)
    stat = row.level
    return (f"{figure_value(stat.mean, metric)}<span class=\"interval\">"
            f"{figure_value(stat.p5, metric)}&ndash;{figure_value(stat.p95, metric)}</span>")


def _change_cell(row: Change | None, metric: str, reference: bool) -> str:
    if reference:
        return "reference"
    if row is None:
        return "&ndash;"
    change = _change(row.difference, metric)
    if row.clear:
        change = f"<b>{change}</b>"
    return f"{change}<span class=\"interval\">{_interval(row, metric)}</span>"


# --- figures ----------------------------------------------------------------------------------

def _legend(names, colours: dict[str, str]) -> str:
    return ", ".join(f"{swatch(colours[name])}{esc(name)}" for name in names)


def _band_note(comparison: ComparisonData) -> str:
    replications = comparison.replications
    if replications == 1:
        return "One replication per scenario, so the bands have no width."
    count = f"{replications} replications" if replications else "replications"
    return (f"Each line is a scenario's mean over {esc(count)}; its shaded band the range of the "
            f"middle 90% of replications.")


def _fan_figures(comparison: ComparisonData, colours: dict[str, str]) -> str:
    parts = []
    for metric in comparison.metrics:
        png = comparison.png(f"fan_{metric}.png")
        if png is None:
            continue
        label = METRIC_LABELS.get(metric, metric)
        caption = (f"<b>{esc(label)}.</b> {_band_note(comparison)} Colours: "
                   f"{_legend(comparison.names, colours)}. {_fan_lead(comparison, metric)}")
        parts.append(figure(png, f"{label}: one band per scenario", caption))
    known = {f"fan_{metric}.png" for metric in comparison.metrics} | {"matrix.png"}
    parts += other_figures(comparison.folder / "plots", known, _band_note(comparison))
    if not parts:
        return "<p>This comparison folder holds no fan charts.</p>"
    return "\n".join(parts)


def _fan_lead(comparison: ComparisonData, metric: str) -> str:
    """What to look at: where the reference ends and which scenario ends furthest from it."""
    base = comparison.row(comparison.reference, metric, comparison.last)
    changes = [(abs(row.difference), name, row) for name in comparison.others
               if (row := comparison.row(name, metric, comparison.last)) is not None
               and math.isfinite(row.difference)]
    if base is None or not changes:
        return ""
    _, name, row = max(changes, key=lambda item: item[0])
    return (f"Look at where the bands part: by {comparison.last} the reference "
            f"({esc(comparison.reference)}) is at {figure_value(base.level.mean, metric)}, and "
            f"<b>{esc(name)}</b> ends furthest from it, at {figure_value(row.level.mean, metric)} "
            f"({_change(row.difference, metric)}{_unit(metric)}, 90% CI {_interval(row, metric)}). "
            f"The bands show how single replications vary; the change in the table is known far "
            f"more precisely, since it is taken replication by replication.")


def _matrix_figure(comparison: ComparisonData) -> str:
    caption = ("<b>The what-to-watch matrix.</b> One cell per scenario, placed by the two "
               "dynamics its settings take a position on; the left panel shows the share of "
               "workloads on open weights, the right the share of hybrid enterprises, at the end "
               "of the horizon (mean, and the 5&ndash;95% range of replications). ")
    caption += _matrix_lead(comparison)
    return figure(comparison.png("matrix.png"), "The two dynamics to watch, in a 2x2 matrix",
                  caption)


def _matrix_lead(comparison: ComparisonData) -> str:
    """Which of the two axes moves the open share more, from the scenarios' ``axes``."""
    from sim.running.compare import watch_matrix

    scenarios = [
        SimpleNamespace(name=name, axes=(comparison.scenarios.get(name) or {}).get("axes") or {})
        for name in comparison.names
    ]
    matrix = watch_matrix(scenarios)
    if matrix is None:
        return ""
    frame = comparison.frame()
    rows = frame[(frame["metric"] == MATRIX_METRIC) & (frame["segment"] == "all")]
    if rows.empty:
        return ""
    quarters = rows["quarter"].astype(str)
    quarter = max(quarters)
    means = rows[quarters == quarter].groupby("scenario", observed=True)["value"].mean()
    (row_axis, row_positions), (column_axis, column_positions) = matrix.rows, matrix.columns

    def at(row: str, column: str) -> float:
        return means[matrix.cells[(row, column)]]

    try:
        down = sum(at(row_positions[1], c) - at(row_positions[0], c) for c in column_positions) / 2
        across = (
            sum(at(r, column_positions[1]) - at(r, column_positions[0]) for r in row_positions) / 2
        )
    except KeyError:
        return ""
    effects = [(abs(down), row_axis), (abs(across), column_axis)]
    stronger = max(effects)[1]
    return (f"Look down the columns and across the rows: by {esc(quarter)}, {esc(row_axis)} "
            f"{esc(row_positions[1])} rather than {esc(row_positions[0])} moves the open share "
            f"of workloads by {down * 100:+.1f} points on average, and {esc(column_axis)} "
            f"{esc(column_positions[1])} rather than {esc(column_positions[0])} by "
            f"{across * 100:+.1f} points, so <b>{esc(stronger)}</b> is the dynamic to watch "
            f"most closely. Where the change across one row differs from the change across "
            f"the other, the two dynamics interact.")


# --- provenance -------------------------------------------------------------------------------

def _provenance_section(comparison: ComparisonData, colours: dict[str, str]) -> str:
    m = comparison.manifest
    items = [
        ("Reference", esc(comparison.reference)),
        ("Dates compared", esc(", ".join(comparison.dates))),
        ("Seed", esc(m.get("seed", "unknown"))),
        ("Replications", esc(m.get("replications", "unknown"))
         + " per scenario, with common random numbers"),
        ("Intervals", "levels: 5th to 95th percentile over replications; changes: 90% "
                      "confidence interval of the mean paired difference (Student's t)"),
        *software_facts(m, "created", "Created"),
    ]
    rows = []
    for name in comparison.names:
        info = comparison.scenarios.get(name) or {}
        axes = info.get("axes") or {}
        rows.append([
            td(f"{swatch(colours[name])}{esc(name)}"),
            td(hash_span(info.get("scenario_hash")), "text"),
            td(esc(", ".join(f"{axis}: {position}" for axis, position in sorted(axes.items())))
               or "&ndash;", "left"),
            td(f"<code>{esc(info.get('run_folder') or 'not written')}</code>", "text"),
        ])
    header = [[th("Scenario"), th("Scenario hash", cls="text"), th("Axes"),
               th("Run folder", cls="text")]]
    return facts(items) + table(header, rows, (
        "Each scenario's run: the hash identifies its resolved settings exactly, and its run "
        "folder holds them in full, with the run's own report."))


KIND = FolderKind("comparison", "manifest.json, comparison.csv and comparison.parquet",
                  _is_comparison, render_comparison)
