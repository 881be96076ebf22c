"""The run report: the page for a run folder (``manifest.json`` + ``quarterly.parquet``, written
by :func:`sim.workflows.run_scenario`).

A headline in plain words, key figures at 2025Q4 and the horizon end with 90% intervals, the
trend plots with captions that say what to look at, calibration targets against simulated
values (the panel of the targets file the caller names, :func:`sim.calibration.load_targets`),
segment breakdowns (sector, region, size, workload class), the resolved settings, and provenance
(hash, seeds, versions, date, git commit, the source and confidence of every sourced figure).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sim.core.quarters import snapshot_quarters
from sim.views.report.page import (
    FolderKind,
    ReportError,
    Section,
    Stat,
    document,
    embeddable,
    esc,
    facts,
    figure,
    figure_value,
    hash_span,
    interval_meaning,
    join_words,
    other_figures,
    pct,
    pct_interval,
    read_manifest,
    read_parquet,
    settings_block,
    share_cell,
    software_facts,
    sources_table,
    swatch,
    table,
    td,
    th,
    when,
)
from sim.views.style import (
    DEPLOYMENT_COLOURS,
    DEPLOYMENT_LABELS,
    HEADLINE_METRICS,
    METRIC_LABELS,
    STACK_COLOURS,
    STACK_LABELS,
    segment_label,
)

if TYPE_CHECKING:
    from sim.calibration.panel import Target

SEGMENT_DIMENSIONS = (
    ("sector", "Sector"),
    ("region", "Region"),
    ("size", "Enterprise size"),
    ("class", "Workload class"),
)


class RunData:
    """Everything a run folder says, loaded once: manifest, tidy frame, summary, figures."""

    def __init__(self, folder: Path):
        import pandas as pd

        self.folder = folder
        self.manifest = read_manifest(folder)
        self.frame = read_parquet(folder / "quarterly.parquet",
                                  ("replication", "quarter", "metric", "segment", "value"))
        self.scenario: dict = self.manifest.get("resolved_scenario") or {}
        self.quarters: list[str] = sorted(pd.unique(self.frame["quarter"]))
        if not self.quarters:
            raise ReportError(f"{folder / 'quarterly.parquet'}: the run holds no quarters")
        self.start, self.end = self.quarters[0], self.quarters[-1]
        self.snapshots = snapshot_quarters(self.quarters)
        self.replications = int(self.frame["replication"].nunique())
        self._stats = self._snapshot_stats()

    def _snapshot_stats(self) -> dict[tuple[str, str, str], Stat | None]:
        """Mean and 90% interval of every metric and segment at the snapshot quarters, from
        summary.csv (the numbers the command line printed); empty when it is missing, and
        :meth:`stat` computes what it needs from the frame."""
        import pandas as pd

        path = self.folder / "summary.csv"
        try:
            summary = pd.read_csv(path)
        except (OSError, ValueError):
            return {}
        if not {"metric", "segment", "quarter", "mean", "p5", "p95"} <= set(summary):
            return {}
        return {(r.metric, r.segment, r.quarter): Stat(r.mean, r.p5, r.p95)
                for r in summary.itertuples(index=False)}

    def stat(self, metric: str, quarter: str, segment: str = "all") -> Stat | None:
        """Mean and 90% interval of ``metric`` in ``segment`` at ``quarter``; None if absent."""
        key = (metric, segment, quarter)
        if key not in self._stats:
            from sim.views.figures.bands import band_table

            try:
                bands = band_table(self.frame, metric, segment)
            except KeyError:
                bands = None
            for row_quarter, row in ([] if bands is None else bands.iterrows()):
                self._stats[(metric, segment, row_quarter)] = Stat(
                    row["mean"], row["p5"], row["p95"]
                )
            self._stats.setdefault(key, None)
        return self._stats[key]

    def segments(self, dimension: str) -> list[str]:
        """The run's segments of ``dimension`` ("sector", ...), in the schema's order."""
        from sim.core import schema

        order = {"sector": schema.SECTOR_NAMES, "region": schema.REGIONS, "size": schema.SIZES,
                 "class": schema.WORKLOAD_CLASSES}.get(dimension, ())
        prefix = f"{dimension}="
        present = [s for s in dict.fromkeys(self.frame["segment"]) if str(s).startswith(prefix)]
        ranked = {f"{prefix}{name}": i for i, name in enumerate(order)}
        return sorted(present, key=lambda s: (ranked.get(s, len(ranked)), s))

    def segment_label(self, segment: str) -> str:
        """A segment's name for readers; regulated sectors say so."""
        label = segment_label(segment)
        dimension, _, value = segment.partition("=")
        sectors = (self.scenario.get("population") or {}).get("sectors") or {}
        if dimension == "sector" and (sectors.get(value) or {}).get("regulated"):
            label += " (regulated)"
        return label

    def png(self, name: str) -> Path | None:
        path = self.folder / "plots" / name
        return path if embeddable(path) else None

    @property
    def name(self) -> str:
        return str(self.manifest.get("scenario") or self.scenario.get("name") or self.folder.name)

    @property
    def enterprises(self) -> int | None:
        return (self.scenario.get("population") or {}).get("enterprises")


def _is_run(folder: Path) -> bool:
    return (folder / "manifest.json").is_file() and (folder / "quarterly.parquet").is_file()


def render_run(folder: Path, *, targets: str | Path | None = None) -> str:
    """The HTML of a run folder's report (see the module docstring for its contents)."""
    run = RunData(Path(folder))
    checks = _target_checks(run, load_panel(targets))
    sections = [
        Section("key-figures", "Key figures", _key_figures(run)),
        Section("trends", "Trends", _trend_figures(run)),
    ]
    if checks:
        sections.append(Section("targets", "Targets against simulated values",
                                _targets_section(run, checks)))
    sections += [
        Section("segments", "By segment", _segments_section(run)),
        Section("settings", "Scenario settings", _settings_section(run)),
        Section("provenance", "Provenance", _provenance_section(run)),
    ]
    version = (run.manifest.get("versions") or {}).get("adoptsim", "")
    digest = str(run.manifest.get("scenario_hash") or "")[:8]
    footer = (f"Generated by adoptsim {esc(version)} from the run of scenario "
              f"<code>{esc(run.name)}</code> (hash <code>{esc(digest)}</code>). This page is "
              "self-contained: it needs no network and can be saved, mailed or printed as it is.")
    return document(
        f"Scenario \u201c{run.name}\u201d: enterprise AI stacks, {run.start}\u2013{run.end}",
        "adoptsim run report",
        _headline(run, checks),
        sections,
        footer,
    )


# headline ---------------------------------------------------------------------------------------

def _headline(run: RunData, checks: list[TargetCheck]) -> str:
    """The opening paragraphs: what the scenario assumes, where adoption stands, how to read."""
    paragraphs = []
    description = " ".join(str(run.scenario.get("description") or "").split())
    if description:
        paragraphs.append(f"<p class=\"headline\"><b>What this scenario assumes.</b> "
                          f"{esc(description)}</p>")
    findings = [_state_sentence(run, run.snapshots[0])]
    if len(run.snapshots) > 1:
        findings.append(_change_sentence(run, run.snapshots[0], run.end))
    findings = [sentence for sentence in findings if sentence]
    if findings:
        paragraphs.append(f"<p class=\"headline\"><b>What the simulation finds.</b> "
                          f"{' '.join(findings)}</p>")
    if targets := _targets_sentence(checks):
        paragraphs.append(f"<p>{targets}</p>")
    size = f"{run.enterprises:,} simulated enterprises, " if run.enterprises else ""
    paragraphs.append(
        f"<p class=\"note\">How to read the numbers: {size}{run.replications} replications "
        f"(independent random draws of the same scenario). Figures are means over replications; "
        f"the range in brackets is the 90% interval, within which 90% of replications fall. "
        f"{interval_meaning(run.manifest.get('posterior_draws'))} "
        f"Shares of workloads count deployed workloads; shares of enterprises count enterprises "
        f"using generative AI at that quarter.</p>")
    return "\n".join(paragraphs)


def _state_sentence(run: RunData, quarter: str) -> str:
    """Where adoption stands at ``quarter``, in one sentence."""
    closed, open_any, hybrid, plans = (run.stat(metric, quarter) for metric in (
        "workload_share_closed", "workload_share_open_any", "stack_share_hybrid",
        "plans_to_expand_open"))
    workloads = []
    if closed:
        workloads.append(
            f"closed AI APIs run {pct_interval(closed)} of deployed enterprise workloads"
        )
    if open_any:
        workloads.append(f"open-weight models {pct_interval(open_any)}")
    enterprises = []
    if hybrid:
        enterprises.append(f"{pct_interval(hybrid)} of enterprises using AI run a hybrid stack")
    if plans:
        enterprises.append(f"{pct_interval(plans)} plan to expand their open-model use")
    clauses = [join_words(part) for part in (workloads, enterprises) if part]
    return f"At {when(quarter)}, {'; '.join(clauses)}." if clauses else ""


def _change_sentence(run: RunData, before: str, after: str) -> str:
    """How the headline shares move from ``before`` to ``after``, in one sentence."""
    clauses = []
    for metric, noun in (("workload_share_closed", "the closed share of workloads"),
                         ("workload_share_open_any", "the open-weight share"),
                         ("stack_share_hybrid", "the share of hybrid enterprises"),
                         ("plans_to_expand_open", "the share planning to expand open use")):
        first, last = run.stat(metric, before), run.stat(metric, after)
        if first and last:
            clauses.append(f"{noun} {_moves(first.mean, last.mean)} {pct_interval(last)}")
    return f"By {when(after)}, {join_words(clauses)}." if clauses else ""


def _moves(before: float, after: float) -> str:
    """The verb for a share going from ``before`` to ``after``."""
    points = (after - before) * 100
    if abs(points) < 0.5:
        return "stays at"
    return f"{'rises' if points > 0 else 'falls'} {abs(points):.0f} points to"


def _targets_sentence(checks: Sequence[TargetCheck]) -> str:
    """How many calibration targets the run meets, and the misses in numbers."""
    if not checks:
        return ""
    misses = [check for check in checks if not check.within]
    text = (f"<b>Calibration.</b> {len(checks) - len(misses)} of {len(checks)} targets (survey "
            f"measurements and the article's figures) are met within their tolerance")
    if misses:
        text += ". Missed: " + "; ".join(
            f"{esc(_target_label(c.target))} at {c.target.quarter}, "
            f"{figure_value(c.simulated.mean, c.target.metric)} simulated against "
            f"{figure_value(c.target.value, c.target.metric)} observed" for c in misses)
    return text + ' (see <a href="#targets">Targets</a>).'


# key figures ------------------------------------------------------------------------------------

def _key_figures(run: RunData) -> str:
    header = [[th("Figure")] + [th(q) for q in run.snapshots]]
    rows = []
    for metric in HEADLINE_METRICS:
        stats = [run.stat(metric, q) for q in run.snapshots]
        if any(stats):
            rows.append([td(esc(METRIC_LABELS[metric]))] + [td(share_cell(s)) for s in stats])
    caption = ("Mean over replications; small type: 90% interval, in percent. "
               "Workload shares add up to 100%, and so do the three enterprise stacks.")
    return table(header, rows, caption)


# trend figures ----------------------------------------------------------------------------------

def _trend_figures(run: RunData) -> str:
    """Every PNG of the run's plots folder: the known ones in reading order with captions that
    point at what matters, then any others."""
    known = [
        (
            "workload_shares.png",
            "Share of deployed enterprise workloads by deployment",
            _caption_workloads,
        ),
        ("stack_shares.png", "Enterprises by AI stack", _caption_stacks),
        ("plans_to_expand.png", "Enterprises planning to expand open-source use", _caption_plans),
        ("workload_classes.png", "Deployment by workload class", _caption_classes),
        ("signals.png", "The forces the scenario sets", _caption_signals),
    ]
    parts = []
    for name, alt, caption in known:
        png = run.png(name)
        if png is not None:
            parts.append(figure(png, alt, caption(run)))
    parts += other_figures(run.folder / "plots", {name for name, _, _ in known}, _band_note(run))
    if not parts:
        return "<p>This run folder holds no plots (it was run without them).</p>"
    return "\n".join(parts)


def _band_note(run: RunData) -> str:
    if run.replications > 1:
        return (f"Lines are means over {run.replications} replications; shaded bands the range "
                "of the middle 90% of replications.")
    return "One replication, so no uncertainty band."


def _path(run: RunData, metric: str, segment: str = "all") -> tuple[Stat | None, Stat | None]:
    return run.stat(metric, run.start, segment), run.stat(metric, run.end, segment)


def _from_to(run: RunData, metric: str, segment: str = "all", digits: int = 0) -> str:
    first, last = _path(run, metric, segment)
    if first is None or last is None:
        return ""
    return f"from {pct(first.mean, digits)} in {run.start} to {pct(last.mean, digits)} in {run.end}"


def _caption_workloads(run: RunData) -> str:
    closed = _from_to(run, "workload_share_closed")
    _, open_end = _path(run, "workload_share_open")
    _, tuned_end = _path(run, "workload_share_open_finetuned")
    text = "<b>Which models run enterprise workloads.</b> "
    if closed:
        text += f"Look at the blue line: closed APIs' share of deployed workloads goes {closed}. "
    if open_end and tuned_end:
        text += (f"The orange and red lines are open weights: by {run.end} self-hosted as they "
                 f"come {pct(open_end.mean)}, fine-tuned on the enterprise's own data "
                 f"{pct(tuned_end.mean)}. ")
    return text + _band_note(run)


def _caption_stacks(run: RunData) -> str:
    hybrid = _from_to(run, "stack_share_hybrid")
    closed = _from_to(run, "stack_share_closed")
    _, open_end = _path(run, "stack_share_open")
    text = "<b>How enterprises combine them.</b> "
    if hybrid:
        text += f"Look at the green line: enterprises running a hybrid stack go {hybrid}"
        text += f", while closed-only enterprises (blue) go {closed}. " if closed else ". "
    if open_end:
        text += f"Open-only enterprises (orange) are {pct(open_end.mean)} in {run.end}. "
    return text + _band_note(run)


def _caption_plans(run: RunData) -> str:
    plans = _from_to(run, "plans_to_expand_open")
    text = ("<b>Intentions.</b> The share of enterprises whose preferred portfolio holds more "
            "open workloads than they run now")
    text += f" goes {plans}. " if plans else ". "
    return (
        text
        + (
            "Intentions lead adoption: switching costs and infrequent reviews delay the "
            "move, so a rise here shows up later in the two figures above. "
        )
        + _band_note(run)
    )


def _caption_classes(run: RunData) -> str:
    ranked = []
    for segment in run.segments("class"):
        stat = run.stat("workload_share_open_any", run.end, segment)
        if stat is not None:
            ranked.append((stat.mean, run.segment_label(segment).lower()))
    text = ("<b>Where open weights win.</b> One panel per workload class; the same colours as "
            "the first figure. ")
    if len(ranked) >= 2:
        ranked.sort()
        (low, low_name), (high, high_name) = ranked[0], ranked[-1]
        text += (f"Look for the panels where the orange and red lines rise: by {run.end} open "
                 f"weights run {pct(high)} of {esc(high_name)} workloads but only "
                 f"{pct(low)} of {esc(low_name)} workloads. ")
    return text + _band_note(run)


def _caption_signals(run: RunData) -> str:
    def value(metric: str, segment: str = "all", fmt: str = "{:.1f}") -> str:
        first, last = _path(run, metric, segment)
        if first is None or last is None:
            return ""
        return f"from {fmt.format(first.mean)} to {fmt.format(last.mean)}"

    parts = []
    if gap := value("signal_benchmark_gap"):
        parts.append(f"the benchmark gap (top left) goes {gap} MMLU points")
    if tooling := value("signal_tooling_maturity", fmt="{:.2f}"):
        parts.append(f"tooling maturity (bottom left) {tooling}")
    if eu := value("signal_regulatory_pressure", "region=eu", "{:.2f}"):
        parts.append(f"EU regulatory pressure (bottom right) {eu}")
    text = ("<b>The forces behind the choice.</b> These paths are inputs the scenario sets, not "
            "results of the model")
    if parts:
        text += f": between {run.start} and {run.end} " + join_words(parts)
    return text + (". Prices are relative to the closed API price at the start; open weights' "
                   "cost falls with the hardware cost index.")


# targets ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TargetCheck:
    """A panel entry (:class:`sim.calibration.panel.Target`) and the run's value of it."""

    target: Target
    simulated: Stat

    @property
    def within(self) -> bool:
        """Whether the simulated mean meets the entry
        (:meth:`~sim.calibration.panel.Target.within`)."""
        return self.target.within(self.simulated.mean)


def load_panel(path: str | Path | None) -> list[Target]:
    """The panel of the targets file at ``path`` (:func:`sim.calibration.load_targets`); no
    entries without a path. A :class:`ReportError` when the file is missing or not valid."""
    if path is None:
        return []
    from sim.calibration import load_targets
    from sim.core.settings_file import ScenarioError

    try:
        return load_targets(path).targets
    except ScenarioError as error:
        raise ReportError(str(error)) from None


def _target_checks(run: RunData, targets: Sequence[Target]) -> list[TargetCheck]:
    """The targets the run can be judged on (its metric, segment and quarter are in the run)."""
    checks = []
    for target in targets:
        simulated = run.stat(target.metric, target.quarter, target.segment)
        if simulated is not None:
            checks.append(TargetCheck(target, simulated))
    return checks


def _target_label(target: Target) -> str:
    what = METRIC_LABELS.get(target.metric, target.metric)
    return what if target.segment == "all" else f"{what} ({segment_label(target.segment)})"


def _targets_section(run: RunData, checks: Sequence[TargetCheck]) -> str:
    rows = []
    for check in checks:
        t, s = check.target, check.simulated
        tolerance = (f" &plusmn; {figure_value(t.tolerance, t.metric)}"
                     if t.kind == "estimate" else "")
        observed = ({"upper_bound": "at most ", "lower_bound": "at least "}.get(t.kind, "")
                    + figure_value(t.value, t.metric))
        simulated = (f"{figure_value(s.mean, t.metric)}<span class=\"interval\">"
                     f"{figure_value(s.p5, t.metric)}&ndash;{figure_value(s.p95, t.metric)}</span>")
        verdict = ('<span class="ok">within</span>' if check.within
                   else '<span class="miss">outside</span>')
        source = esc(t.source or "")
        if t.counts:
            source = f"{esc(t.counts)}. {source}"
        if t.confidence == "claimed":
            source += " <span class=\"note\">(a claim: no primary source found)</span>"
        elif t.confidence:
            source += f" <span class=\"note\">(confidence: {esc(t.confidence)})</span>"
        rows.append([td(esc(_target_label(t)), "text"), td(esc(t.quarter)),
                     td(observed + tolerance), td(simulated),
                     td(verdict), td(source, "text")])
    header = [[th("Target", cls="text"), th("Quarter"), th("Observed"), th("Simulated"),
               th("Tolerance"), th("Source", cls="text")]]
    intro = (
        "<p>Look at the <b>Tolerance</b> column: it says whether the simulated mean lies "
        "within the tolerance of the observed figure (a bound is met on its side). Small type "
        "under the simulated mean is its 90% interval over replications. "
        "The targets are the calibration panel: what surveys measured from 2023 to 2025, "
        "and the article's three 2025 figures, which are claims without a primary source. "
        "The baseline is calibrated to them; a scenario that changes history before them is "
        "not expected to match.</p>"
    )
    return intro + table(header, rows)


# segments ---------------------------------------------------------------------------------------

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


def _segments_section(run: RunData) -> str:
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


# settings and provenance ------------------------------------------------------------------------

def _settings_section(run: RunData) -> str:
    return settings_block(run.scenario, "the run")


def _provenance_section(run: RunData) -> str:
    m = run.manifest
    seeds = m.get("replication_seeds") or []
    seed_text = f"{esc(m.get('seed', ''))}"
    if seeds:
        keys = [str(s.get("spawn_key", [""])[0]) if s.get("spawn_key") else "" for s in seeds]
        seed_text += (f"; {len(seeds)} replication seeds spawned from it with numpy's "
                      f"SeedSequence (spawn keys {esc(keys[0])}&ndash;{esc(keys[-1])})")
    items = [
        ("Scenario", esc(run.name)),
        ("Scenario hash", hash_span(m.get("scenario_hash"))),
        ("Seed", seed_text),
        ("Replications", esc(m.get("replications", run.replications))),
        *software_facts(m, "created", "Run date"),
        ("Run time", f"{float(m['wall_seconds']):.1f} s" if "wall_seconds" in m else "&ndash;"),
    ]
    return facts(items) + sources_table(run.scenario)


KIND = FolderKind("run", "manifest.json and quarterly.parquet", _is_run, render_run)
