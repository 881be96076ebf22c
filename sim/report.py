"""Self-contained HTML reports of output folders, for readers who never run Python.

``build_report(folder)`` looks at what the folder holds, renders one HTML page and writes it to
``folder/report.html`` (atomically). The page needs no network: figures are embedded as base64
PNGs, the styles are inline, there is no script, and a Content-Security-Policy forbids the page
from loading anything else. It is responsive (one column, figures scale to the width, wide
tables scroll inside their own box) and has print styles.

Folder kinds (``FOLDER_KINDS``; each is a test on the folder's files and a renderer):

* **run** (``manifest.json`` + ``quarterly.parquet``, written by :func:`sim.workflows.run_scenario`):
  a headline in plain words, key figures at 2025Q4 and the horizon end with 90% intervals, the
  trend plots with captions that say what to look at, calibration targets against simulated
  values (from ``scenarios/targets.yaml`` when present), segment breakdowns (sector, region,
  size, workload class), the resolved settings, and provenance (hash, seeds, versions, date,
  git commit, the source and confidence of every sourced figure).

* **sweep** (``manifest.json`` + ``design.parquet`` + ``results.parquet``, written by
  :func:`sim.sweep.run_sweep`): what the sweep asks and finds in plain words, the design, each
  outcome's spread over the runs, and, once ``sim.analysis.analyze_sweep`` has written
  ``analysis/``, the sensitivity charts and table, grid heatmaps and line plots, and the PRIM
  boxes with their limits; then the base scenario's settings and provenance.

A comparison report is one more :class:`FolderKind` built from the same page helpers
(:func:`_page`, :class:`Section`, :func:`_figure`, :func:`_table`, :func:`_facts`).

HTML is built with the standard library (``html.escape`` and f-strings). pandas, PyYAML and the
package's own modules (palette, schema, sweep analysis) are imported inside functions, so
importing this module, and ``adoptsim --help``, stay instant.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPORT_NAME = "report.html"
TARGETS_FILE = Path("scenarios") / "targets.yaml"
SNAPSHOT_QUARTER = "2025Q4"

SEGMENT_DIMENSIONS = (
    ("sector", "Sector"),
    ("region", "Region"),
    ("size", "Enterprise size"),
    ("class", "Workload class"),
)

#: Plain names of the metrics a reader meets in the report.
METRIC_LABELS = {
    "workload_share_closed": "Workloads on closed APIs",
    "workload_share_open": "Workloads on open weights, self-hosted",
    "workload_share_open_finetuned": "Workloads on fine-tuned open weights",
    "workload_share_open_any": "Workloads on open weights (any)",
    "volume_share_closed": "Token volume on closed APIs",
    "volume_share_open": "Token volume on open weights, self-hosted",
    "volume_share_open_finetuned": "Token volume on fine-tuned open weights",
    "volume_share_open_any": "Token volume on open weights (any)",
    "stack_share_closed": "Enterprises closed only",
    "stack_share_open": "Enterprises open only",
    "stack_share_hybrid": "Enterprises hybrid",
    "plans_to_expand_open": "Enterprises planning to expand open use",
}
KEY_METRICS = ("workload_share_closed", "workload_share_open", "workload_share_open_finetuned",
               "stack_share_closed", "stack_share_open", "stack_share_hybrid",
               "plans_to_expand_open")


class ReportError(Exception):
    """A folder that cannot be reported on (missing, or not an adoptsim output folder)."""


# --- public API -------------------------------------------------------------------------------

def build_report(folder: str | Path, *, targets: str | Path | None = None) -> Path:
    """Render ``folder``'s report and write it to ``folder/report.html``; return that path.

    The folder kind is detected from its files (see ``FOLDER_KINDS``). ``targets`` is a targets
    YAML file for the run report's "targets against simulated values" section; by default
    ``scenarios/targets.yaml`` in the working directory or in the project's source tree, and the
    section is left out when no readable file applies. Raises :class:`ReportError` when the folder
    is missing or is not an output folder adoptsim knows.
    """
    from sim import storage

    folder = Path(folder)
    if not folder.is_dir():
        raise ReportError(f"{folder}: no such folder")
    kind = folder_kind(folder)
    if kind is None:
        known = "; ".join(f"a {k.name} folder holds {k.holds}" for k in FOLDER_KINDS)
        raise ReportError(f"{folder}: not an adoptsim output folder ({known})")
    page = kind.render(folder, targets=targets)
    return storage.write_text(folder / REPORT_NAME, page)


def folder_kind(folder: str | Path) -> FolderKind | None:
    """The kind of output ``folder`` holds, or None when it is none of ``FOLDER_KINDS``."""
    folder = Path(folder)
    return next((kind for kind in FOLDER_KINDS if kind.matches(folder)), None)


# --- page building blocks (shared by every kind of report) ------------------------------------

_STYLE = """
:root { --ink: #1f2328; --muted: #57606a; --rule: #d0d7de; --soft: #f6f8fa; --accent: #0072B2; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0 auto; max-width: 62rem; padding: 1rem 1rem 3rem; color: var(--ink);
  background: #fff; font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto,
  "Helvetica Neue", Arial, sans-serif; overflow-wrap: break-word; }
h1 { font-size: 1.75rem; line-height: 1.2; margin: .3rem 0 .8rem; }
h2 { font-size: 1.35rem; margin: 2.4rem 0 .6rem; padding-bottom: .2rem;
  border-bottom: 1px solid var(--rule); }
h3 { font-size: 1.08rem; margin: 1.6rem 0 .4rem; }
p, li { max-width: 46rem; }
a { color: var(--accent); }
.kicker { margin: 0; color: var(--muted); font-size: .9rem; text-transform: uppercase;
  letter-spacing: .06em; }
.headline { font-size: 1.08rem; }
.note { color: var(--muted); font-size: .92rem; }
nav ol { margin: .4rem 0 0; padding-left: 1.3rem; columns: 2 12rem; }
figure { margin: 1.4rem 0 2rem; }
figure img { display: block; width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { margin-top: .5rem; color: var(--muted); font-size: .95rem; max-width: 46rem; }
figcaption b { color: var(--ink); }
.table-wrap { overflow-x: auto; -webkit-overflow-scrolling: touch; margin: .6rem 0 .4rem;
  max-width: 100%; }
table { border-collapse: collapse; font-size: .92rem; font-variant-numeric: tabular-nums; }
caption { text-align: left; color: var(--muted); font-size: .9rem; padding: 0 0 .4rem; }
th, td { padding: .3rem .45rem; border-bottom: 1px solid var(--rule); text-align: right;
  vertical-align: top; white-space: nowrap; background: #fff; }
th { background: var(--soft); font-weight: 600; }
th:first-child, td:first-child { text-align: left; white-space: normal; min-width: 8.5rem;
  position: sticky; left: 0; z-index: 1; }
th.group { text-align: center; }
th.start, td.start, th.group { border-left: 1px solid var(--rule); }
td.text, th.text { text-align: left; white-space: normal; min-width: 12rem; }
td.left { text-align: left; }
.interval { display: block; color: var(--muted); font-size: .8em; }
.ok { color: #006b4f; font-weight: 600; }
.miss { color: #b34700; font-weight: 600; }
.swatch { display: inline-block; width: .8em; height: .8em; margin-right: .35em;
  vertical-align: -.05em; border-radius: 2px; }
.mix { display: flex; width: 5rem; height: .75rem; margin: .25rem 0 0 auto;
  border: 1px solid var(--rule); }
.mix span { display: block; height: 100%; }
details { margin: .8rem 0; border: 1px solid var(--rule); border-radius: 4px;
  padding: .4rem .7rem; }
summary { cursor: pointer; font-weight: 600; }
pre { overflow-x: auto; max-width: 100%; background: var(--soft); padding: .6rem;
  font-size: .82rem; line-height: 1.4; }
code, .hash { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace;
  font-size: .9em; overflow-wrap: anywhere; }
.hash { word-break: break-all; }
dl.facts { display: grid; grid-template-columns: minmax(7rem, max-content) 1fr; gap: .2rem 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; min-width: 0; }
footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; }
@media (max-width: 30rem) {
  body { padding: .7rem .7rem 2rem; font-size: 15px; }
  h1 { font-size: 1.4rem; }
  dl.facts { grid-template-columns: 1fr; }
  dl.facts dd { margin-bottom: .4rem; }
}
@media print {
  @page { margin: 15mm; }
  body { max-width: none; padding: 0; font-size: 10.5pt; }
  nav, .screen-only { display: none; }
  h2 { break-after: avoid; }
  figure, table, dl.facts { break-inside: avoid; }
  figure img { border: 0; max-height: 23cm; object-fit: contain; }
  .table-wrap, pre { overflow: visible; }
  th:first-child, td:first-child { position: static; }
  pre { white-space: pre-wrap; }
  details { border: 0; padding: 0; }
  details::details-content { content-visibility: visible; display: block; }
  a { color: inherit; text-decoration: none; }
  * { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""

# No network, ever: only inline styles and data: images may load.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


@dataclass(frozen=True)
class Section:
    """One titled part of a page; ``body`` is HTML."""

    anchor: str
    title: str
    body: str


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _page(title: str, kicker: str, lede: str, sections: Sequence[Section], footer: str) -> str:
    """The whole HTML document: head with inline styles, a table of contents, the sections."""
    toc = "".join(f'<li><a href="#{s.anchor}">{_esc(s.title)}</a></li>' for s in sections)
    body = "\n".join(_section(s) for s in sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{_CSP}">
<link rel="icon" href="data:,">
<title>{_esc(title)}</title>
<style>{_STYLE}</style>
</head>
<body>
<header>
<p class="kicker">{_esc(kicker)}</p>
<h1>{_esc(title)}</h1>
{lede}
</header>
<nav aria-label="Contents"><strong>Contents</strong><ol>{toc}</ol></nav>
<main>
{body}
</main>
<footer>{footer}</footer>
</body>
</html>
"""


def _section(section: Section) -> str:
    return f'<section id="{section.anchor}">\n<h2>{_esc(section.title)}</h2>\n{section.body}\n</section>'


def _figure(png: Path, alt: str, caption: str) -> str:
    """A PNG embedded as a data URL with its caption (``caption`` is HTML)."""
    data = base64.b64encode(png.read_bytes()).decode("ascii")
    return (f'<figure><img src="data:image/png;base64,{data}" alt="{_esc(alt)}" loading="eager">'
            f"<figcaption>{caption}</figcaption></figure>")


def _table(header: Sequence[Sequence[str]], rows: Iterable[Sequence[str]], caption: str = "") -> str:
    """A table in its own horizontally scrolling box, after its ``caption`` (HTML; outside the
    box, so it wraps at the page's width). Cells are HTML; each header row is a list of ``<th>``
    cells (so grouped headers can use colspan); the first column stays put while scrolling."""
    head = "".join(f"<tr>{''.join(row)}</tr>" for row in header)
    body = "".join(f"<tr>{''.join(row)}</tr>" for row in rows)
    intro = f'<p class="note">{caption}</p>' if caption else ""
    return f'{intro}<div class="table-wrap"><table><thead>{head}</thead><tbody>{body}</tbody></table></div>'


def _th(content: str, *, colspan: int = 1, cls: str = "", raw: bool = False) -> str:
    """A column header cell; ``content`` is text, or HTML when ``raw``."""
    span = f' colspan="{colspan}"' if colspan > 1 else ""
    klass = f' class="{cls}"' if cls else ""
    return f'<th scope="col"{span}{klass}>{content if raw else _esc(content)}</th>'


def _td(content_html: str, cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f"<td{klass}>{content_html}</td>"


def _details(summary: str, body_html: str) -> str:
    return f"<details><summary>{_esc(summary)}</summary>{body_html}</details>"


def _facts(pairs: Iterable[tuple[str, str]]) -> str:
    """A definition list of label -> HTML value."""
    items = "".join(f"<dt>{_esc(label)}</dt><dd>{value}</dd>" for label, value in pairs)
    return f'<dl class="facts">{items}</dl>'


def _swatch(colour: str) -> str:
    return f'<span class="swatch" style="background:{colour}" aria-hidden="true"></span>'


def _read_manifest(folder: Path) -> dict:
    try:
        return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ReportError(f"{folder / 'manifest.json'}: cannot read the manifest ({error})") from None


def _read_parquet(path: Path):
    import pandas as pd

    try:
        return pd.read_parquet(path)
    except (OSError, ValueError) as error:
        raise ReportError(f"{path}: cannot read ({error})") from None


# --- numbers in words -------------------------------------------------------------------------

@dataclass(frozen=True)
class Stat:
    """Mean and 90% interval (5th and 95th percentile over replications) of one figure."""

    mean: float
    p5: float
    p95: float


def _pct(value: float, digits: int = 0) -> str:
    return f"{value * 100:.{digits}f}%"


def _pct_interval(stat: Stat, digits: int = 0) -> str:
    """"77% (75-79%)" for prose."""
    return (f"{_pct(stat.mean, digits)} "
            f"({stat.p5 * 100:.{digits}f}&ndash;{stat.p95 * 100:.{digits}f}%)")


def _share_cell(stat: Stat | None) -> str:
    """A table cell's HTML: the mean, and its 90% interval in small type below."""
    if stat is None:
        return "&ndash;"
    return (f"{_pct(stat.mean, 1)}<span class=\"interval\">"
            f"{stat.p5 * 100:.1f}&ndash;{stat.p95 * 100:.1f}</span>")


def _when(quarter: str) -> str:
    """"2025Q4" -> "the end of 2025 (2025Q4)"; other quarters by name."""
    year, q = quarter.split("Q")
    words = {"1": "the first quarter", "2": "the second quarter", "3": "the third quarter",
             "4": "the end"}[q]
    return f"{words} of {year} ({quarter})"


def _segment_label(segment: str) -> str:
    from sim.plots import REGION_LABELS, _humanise

    return _humanise(segment, REGION_LABELS)


# --- the run report ---------------------------------------------------------------------------

class RunData:
    """Everything a run folder says, loaded once: manifest, tidy frame, summary, figures."""

    def __init__(self, folder: Path):
        import pandas as pd

        self.folder = folder
        self.manifest = _read_manifest(folder)
        self.frame = _read_parquet(folder / "quarterly.parquet")
        self.scenario: dict = self.manifest.get("resolved_scenario") or {}
        self.quarters: list[str] = sorted(pd.unique(self.frame["quarter"]))
        if not self.quarters:
            raise ReportError(f"{folder / 'quarterly.parquet'}: the run holds no quarters")
        self.start, self.end = self.quarters[0], self.quarters[-1]
        self.snapshots = list(dict.fromkeys(
            ([SNAPSHOT_QUARTER] if SNAPSHOT_QUARTER in self.quarters else []) + [self.end]))
        self.replications = int(self.frame["replication"].nunique())
        self._stats = self._snapshot_stats()

    def _snapshot_stats(self) -> dict[tuple[str, str, str], Stat | None]:
        """Mean and 90% interval of every metric and segment at the snapshot quarters, from
        summary.csv (the numbers the command line printed); empty when it is missing, and
        :meth:`stat` computes what it needs from the frame."""
        import pandas as pd

        path = self.folder / "summary.csv"
        try:
            table = pd.read_csv(path)
        except (OSError, ValueError):
            return {}
        if not {"metric", "segment", "quarter", "mean", "p5", "p95"} <= set(table):
            return {}
        return {(r.metric, r.segment, r.quarter): Stat(r.mean, r.p5, r.p95)
                for r in table.itertuples(index=False)}

    def stat(self, metric: str, quarter: str, segment: str = "all") -> Stat | None:
        """Mean and 90% interval of ``metric`` in ``segment`` at ``quarter``; None if absent."""
        key = (metric, segment, quarter)
        if key not in self._stats:
            from sim.plots import band_table

            try:
                bands = band_table(self.frame, metric, segment)
            except KeyError:
                bands = None
            for row_quarter, row in ([] if bands is None else bands.iterrows()):
                self._stats[(metric, segment, row_quarter)] = Stat(row["mean"], row["p5"], row["p95"])
            self._stats.setdefault(key, None)
        return self._stats[key]

    def segments(self, dimension: str) -> list[str]:
        """The run's segments of ``dimension`` ("sector", ...), in the schema's order."""
        from sim import schema

        order = {"sector": schema.SECTOR_NAMES, "region": schema.REGIONS, "size": schema.SIZES,
                 "class": schema.WORKLOAD_CLASSES}.get(dimension, ())
        prefix = f"{dimension}="
        present = [s for s in dict.fromkeys(self.frame["segment"]) if str(s).startswith(prefix)]
        ranked = {f"{prefix}{name}": i for i, name in enumerate(order)}
        return sorted(present, key=lambda s: (ranked.get(s, len(ranked)), s))

    def segment_label(self, segment: str) -> str:
        """A segment's name for readers; regulated sectors say so."""
        label = _segment_label(segment)
        dimension, _, value = segment.partition("=")
        sectors = (self.scenario.get("population") or {}).get("sectors") or {}
        if dimension == "sector" and (sectors.get(value) or {}).get("regulated"):
            label += " (regulated)"
        return label

    def png(self, name: str) -> Path | None:
        path = self.folder / "plots" / name
        return path if path.is_file() else None

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
    checks = _target_checks(run, _load_targets(targets))
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
    footer = (f"Generated by adoptsim {_esc(version)} from the run of scenario "
              f"<code>{_esc(run.name)}</code> (hash <code>{_esc(digest)}</code>). This page is "
              "self-contained: it needs no network and can be saved, mailed or printed as it is.")
    return _page(f"Scenario \u201c{run.name}\u201d: enterprise AI stacks, {run.start}\u2013{run.end}",
                 "adoptsim run report", _headline(run, checks), sections, footer)


# headline ---------------------------------------------------------------------------------------

def _headline(run: RunData, checks: list[TargetCheck]) -> str:
    """The opening paragraphs: what the scenario assumes, where adoption stands, how to read."""
    paragraphs = []
    description = " ".join(str(run.scenario.get("description") or "").split())
    if description:
        paragraphs.append(f"<p class=\"headline\"><b>What this scenario assumes.</b> "
                          f"{_esc(description)}</p>")
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
        workloads.append(f"closed AI APIs run {_pct_interval(closed)} of deployed enterprise workloads")
    if open_any:
        workloads.append(f"open-weight models {_pct_interval(open_any)}")
    enterprises = []
    if hybrid:
        enterprises.append(f"{_pct_interval(hybrid)} of enterprises using AI run a hybrid stack")
    if plans:
        enterprises.append(f"{_pct_interval(plans)} plan to expand their open-model use")
    clauses = [_join(part) for part in (workloads, enterprises) if part]
    return f"At {_when(quarter)}, {'; '.join(clauses)}." if clauses else ""


def _change_sentence(run: RunData, before: str, after: str) -> str:
    """How the headline shares move from ``before`` to ``after``, in one sentence."""
    clauses = []
    for metric, noun in (("workload_share_closed", "the closed share of workloads"),
                         ("workload_share_open_any", "the open-weight share"),
                         ("stack_share_hybrid", "the share of hybrid enterprises"),
                         ("plans_to_expand_open", "the share planning to expand open use")):
        first, last = run.stat(metric, before), run.stat(metric, after)
        if first and last:
            clauses.append(f"{noun} {_moves(first.mean, last.mean)} {_pct_interval(last)}")
    return f"By {_when(after)}, {_join(clauses)}." if clauses else ""


def _moves(before: float, after: float) -> str:
    """The verb for a share going from ``before`` to ``after``."""
    points = (after - before) * 100
    if abs(points) < 0.5:
        return "stays at"
    return f"{'rises' if points > 0 else 'falls'} {abs(points):.0f} points to"


def _targets_sentence(checks: Sequence[TargetCheck]) -> str:
    """How many calibration targets the run meets, and the misses in numbers."""
    judged = [check for check in checks if check.within is not None]
    if not judged:
        return ""
    misses = [check for check in judged if not check.within]
    text = (f"<b>Calibration.</b> {len(judged) - len(misses)} of {len(judged)} targets (the "
            f"article's observed figures) are met within their tolerance")
    if misses:
        text += ". Missed: " + "; ".join(
            f"{_esc(_target_label(c.target))} at {c.target.quarter}, "
            f"{_figure_value(c.simulated.mean, c.target.metric)} simulated against "
            f"{_figure_value(c.target.value, c.target.metric)} observed" for c in misses)
    return text + ' (see <a href="#targets">Targets</a>).'


def _join(parts: Sequence[str]) -> str:
    """"a, b and c" ("" for no parts)."""
    return ", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else "".join(parts)


# key figures ------------------------------------------------------------------------------------

def _key_figures(run: RunData) -> str:
    header = [[_th("Figure")] + [_th(q) for q in run.snapshots]]
    rows = []
    for metric in KEY_METRICS:
        stats = [run.stat(metric, q) for q in run.snapshots]
        if any(stats):
            rows.append([_td(_esc(METRIC_LABELS[metric]))] + [_td(_share_cell(s)) for s in stats])
    caption = ("Mean over replications; small type: 90% interval, in percent. "
               "Workload shares add up to 100%, and so do the three enterprise stacks.")
    return _table(header, rows, caption)


# trend figures ----------------------------------------------------------------------------------

def _trend_figures(run: RunData) -> str:
    """Every PNG of the run's plots folder: the known ones in reading order with captions that
    point at what matters, then any others."""
    known = [
        ("workload_shares.png", "Share of deployed enterprise workloads by deployment", _caption_workloads),
        ("stack_shares.png", "Enterprises by AI stack", _caption_stacks),
        ("plans_to_expand.png", "Enterprises planning to expand open-source use", _caption_plans),
        ("workload_classes.png", "Deployment by workload class", _caption_classes),
        ("signals.png", "The forces the scenario sets", _caption_signals),
    ]
    parts = []
    for name, alt, caption in known:
        png = run.png(name)
        if png is not None:
            parts.append(_figure(png, alt, caption(run)))
    folder = run.folder / "plots"
    others = sorted(p for p in folder.glob("*.png") if p.name not in {n for n, _, _ in known}) \
        if folder.is_dir() else []
    for png in others:
        title = png.stem.replace("_", " ").capitalize()
        parts.append(_figure(png, title, f"<b>{_esc(title)}.</b> {_band_note(run)}"))
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
    return f"from {_pct(first.mean, digits)} in {run.start} to {_pct(last.mean, digits)} in {run.end}"


def _caption_workloads(run: RunData) -> str:
    closed = _from_to(run, "workload_share_closed")
    _, open_end = _path(run, "workload_share_open")
    _, tuned_end = _path(run, "workload_share_open_finetuned")
    text = "<b>Which models run enterprise workloads.</b> "
    if closed:
        text += f"Look at the blue line: closed APIs' share of deployed workloads goes {closed}. "
    if open_end and tuned_end:
        text += (f"The orange and red lines are open weights: by {run.end} self-hosted as they "
                 f"come {_pct(open_end.mean)}, fine-tuned on the enterprise's own data "
                 f"{_pct(tuned_end.mean)}. ")
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
        text += f"Open-only enterprises (orange) are {_pct(open_end.mean)} in {run.end}. "
    return text + _band_note(run)


def _caption_plans(run: RunData) -> str:
    plans = _from_to(run, "plans_to_expand_open")
    text = ("<b>Intentions.</b> The share of enterprises whose preferred portfolio holds more "
            "open workloads than they run now")
    text += f" goes {plans}. " if plans else ". "
    return text + ("Intentions lead adoption: switching costs and infrequent reviews delay the "
                   "move, so a rise here shows up later in the two figures above. ") + _band_note(run)


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
                 f"weights run {_pct(high)} of {_esc(high_name)} workloads but only "
                 f"{_pct(low)} of {_esc(low_name)} workloads. ")
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
        text += f": between {run.start} and {run.end} " + _join(parts)
    return text + (". Prices are relative to the closed API price at the start; open weights' "
                   "cost falls with the hardware cost index.")


# targets ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Target:
    """An observed figure the model should reproduce (from the targets file)."""

    metric: str
    value: float
    segment: str = "all"
    quarter: str = SNAPSHOT_QUARTER
    tolerance: float | None = None
    source: str | None = None
    confidence: str | None = None
    label: str | None = None


@dataclass(frozen=True)
class TargetCheck:
    target: Target
    simulated: Stat

    @property
    def within(self) -> bool | None:
        """Whether the simulated mean lies within the target's tolerance (None: no tolerance)."""
        if self.target.tolerance is None:
            return None
        return abs(self.simulated.mean - self.target.value) <= self.target.tolerance


def _targets_candidates() -> list[Path]:
    """Where the default targets file may be: the working directory, then the source tree."""
    return [Path.cwd() / TARGETS_FILE, Path(__file__).resolve().parents[1] / TARGETS_FILE]


def _load_targets(path: str | Path | None) -> list[Target]:
    """Targets from a YAML file, read defensively: a missing or unreadable file, or malformed
    entries, give no targets (the report leaves the section out) rather than an error.

    Accepted shapes: a list of targets, or a mapping whose ``targets`` is a list or a mapping of
    name -> target; each target has ``metric`` and ``value`` and optionally ``segment``,
    ``quarter``, ``tolerance``, ``source``, ``confidence``, ``label``/``name``/``description``.
    """
    import yaml

    paths = [Path(path)] if path is not None else _targets_candidates()
    for candidate in paths:
        try:
            raw = yaml.safe_load(candidate.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        return list(_parse_targets(raw))
    return []


def _parse_targets(raw: Any) -> Iterable[Target]:
    entries = raw.get("targets", raw) if isinstance(raw, dict) else raw
    if isinstance(entries, dict):
        entries = [{"name": name, **entry} for name, entry in entries.items() if isinstance(entry, dict)]
    if not isinstance(entries, list):
        return
    for entry in entries:
        if not isinstance(entry, dict) or "metric" not in entry or "value" not in entry:
            continue
        try:
            tolerance = entry.get("tolerance")
            yield Target(
                metric=str(entry["metric"]), value=float(entry["value"]),
                segment=str(entry.get("segment") or "all"),
                quarter=str(entry.get("quarter") or SNAPSHOT_QUARTER),
                tolerance=None if tolerance is None else float(tolerance),
                source=None if entry.get("source") is None else str(entry["source"]),
                confidence=None if entry.get("confidence") is None else str(entry["confidence"]),
                label=next((str(entry[k]) for k in ("label", "description", "name") if entry.get(k)),
                           None))
        except (TypeError, ValueError):
            continue


def _target_checks(run: RunData, targets: Sequence[Target]) -> list[TargetCheck]:
    """The targets the run can be judged on (its metric, segment and quarter are in the run)."""
    checks = []
    for target in targets:
        simulated = run.stat(target.metric, target.quarter, target.segment)
        if simulated is not None:
            checks.append(TargetCheck(target, simulated))
    return checks


def _target_label(target: Target) -> str:
    what = target.label or METRIC_LABELS.get(target.metric, target.metric)
    return what if target.segment == "all" else f"{what} ({_segment_label(target.segment)})"


def _figure_value(value: float, metric: str) -> str:
    """A value in the metric's unit: percent for shares, else three significant digits."""
    return _pct(value, 1) if _is_share(metric) else f"{value:.3g}"


def _targets_section(run: RunData, checks: Sequence[TargetCheck]) -> str:
    rows = []
    for check in checks:
        t, s = check.target, check.simulated
        tolerance = (f" &plusmn; {_figure_value(t.tolerance, t.metric)}"
                     if t.tolerance is not None else "")
        simulated = (f"{_figure_value(s.mean, t.metric)}<span class=\"interval\">"
                     f"{_figure_value(s.p5, t.metric)}&ndash;{_figure_value(s.p95, t.metric)}</span>")
        verdict = {True: '<span class="ok">within</span>', False: '<span class="miss">outside</span>',
                   None: "&ndash;"}[check.within]
        source = _esc(t.source or "")
        if t.confidence:
            source += f" <span class=\"note\">(confidence: {_esc(t.confidence)})</span>"
        rows.append([_td(_esc(_target_label(t)), "text"), _td(_esc(t.quarter)),
                     _td(_figure_value(t.value, t.metric) + tolerance), _td(simulated),
                     _td(verdict), _td(source, "text")])
    header = [[_th("Target", cls="text"), _th("Quarter"), _th("Observed"), _th("Simulated"),
               _th("Tolerance"), _th("Source", cls="text")]]
    intro = ("<p>Look at the <b>Tolerance</b> column: it says whether the simulated mean lies "
             "within the tolerance of the observed figure. Small type under the simulated mean "
             "is its 90% interval over replications. The targets are the article's observed "
             "figures, which the baseline is calibrated to; a scenario that changes history "
             "before them is not expected to match.</p>")
    return intro + _table(header, rows)


def _is_share(metric: str) -> bool:
    return "share" in metric or metric.startswith("plans_to_expand")


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
    from sim.plots import (DEPLOYMENT_COLOURS, DEPLOYMENT_LABELS, DEPLOYMENTS, STACK_COLOURS,
                           STACK_LABELS, STACKS)

    shorts = {"closed": "Closed", "open": "Open", "open_finetuned": "Fine-tuned", "hybrid": "Hybrid"}
    deployment = [_Column(f"workload_share_{k}", shorts[k], DEPLOYMENT_LABELS[k], DEPLOYMENT_COLOURS[k])
                  for k in DEPLOYMENTS]
    stacks = [_Column(f"stack_share_{k}", shorts[k], STACK_LABELS[k], STACK_COLOURS[k]) for k in STACKS]
    stacks.append(_Column("plans_to_expand_open", "Plans", METRIC_LABELS["plans_to_expand_open"]))
    return deployment, stacks


def _legend(columns: Sequence[_Column]) -> str:
    return "; ".join(f"{_swatch(c.colour) if c.colour else ''}<b>{_esc(c.short)}</b> = "
                     f"{_esc(c.label)}" for c in columns)


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
        parts.append(f"<h3>{_esc(title)}</h3>")
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
            f"workloads in <b>{_esc(run.segment_label(high_seg))}</b> ({_pct(high)}) and the "
            f"smallest in <b>{_esc(run.segment_label(low_seg))}</b> ({_pct(low)}).</p>")


def _segment_table(run: RunData, segments: Sequence[str], columns: Sequence[_Column],
                   title: str) -> str:
    """Rows: segments. Column groups: one per snapshot quarter, one column per metric; then the
    mix bar of the coloured metrics at the horizon end."""
    header = [
        [_th(title, cls="text")] + [_th(q, colspan=len(columns), cls="group") for q in run.snapshots]
        + [_th(f"Mix {run.end}", cls="group")],
        [_th("")] + [_th((_swatch(c.colour) if c.colour else "") + _esc(c.short),
                         cls="start" if i == 0 else "", raw=True)
                     for _ in run.snapshots for i, c in enumerate(columns)] + [_th("", cls="start")],
    ]
    rows = []
    for segment in segments:
        cells = [_td(_esc(run.segment_label(segment)))]
        for quarter in run.snapshots:
            cells += [_td(_share_cell(run.stat(c.metric, quarter, segment)), "start" if i == 0 else "")
                      for i, c in enumerate(columns)]
        cells.append(_td(_mix_bar([(run.stat(c.metric, run.end, segment), c)
                                   for c in columns if c.colour]), "start"))
        rows.append(cells)
    return _table(header, rows)


def _mix_bar(parts: Sequence[tuple[Stat | None, _Column]]) -> str:
    """A small stacked bar of shares (drawn with CSS, so it scales and prints)."""
    shown = [(stat, column) for stat, column in parts if stat is not None]
    spans = "".join(f'<span style="width:{max(stat.mean, 0.0) * 100:.1f}%;background:{column.colour}">'
                    f"</span>" for stat, column in shown)
    label = ", ".join(f"{column.label} {_pct(stat.mean)}" for stat, column in shown)
    return f'<div class="mix" role="img" aria-label="{_esc(label)}">{spans}</div>'


# settings and provenance ------------------------------------------------------------------------

def _schema_ordered(resolved: dict) -> dict:
    """The resolved scenario in the schema's key order (the manifest sorts keys), or as stored
    when the schema no longer accepts it (an older run)."""
    try:
        from sim.schema import Scenario

        return Scenario.model_validate(resolved).model_dump(mode="json")
    except Exception:  # noqa: BLE001 - any failure means: show the manifest's own copy
        return resolved


def _settings_block(resolved: dict, what: str) -> str:
    """A collapsible block with a resolved scenario as YAML."""
    import yaml

    if not resolved:
        return "<p>The manifest holds no resolved scenario.</p>"
    text = yaml.safe_dump(_schema_ordered(resolved), sort_keys=False, allow_unicode=True, width=100)
    intro = (f"<p>Every setting {what} used, after <code>extends:</code> and <code>--set</code> "
             "overrides were applied. Open the block to read them; the scenario's hash (in "
             "Provenance) identifies exactly this set of settings.</p>")
    return intro + _details(f"Resolved scenario settings (YAML, {text.count(chr(10))} lines)",
                            f"<pre><code>{_esc(text)}</code></pre>")


def _settings_section(run: RunData) -> str:
    return _settings_block(run.scenario, "the run")


def sourced_figures(resolved: dict) -> list[tuple[str, str | None, str | None]]:
    """Every (key path, source, confidence) of the resolved scenario's sourced figures, in order."""
    found = []

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, dict):
            if node.get("source") or node.get("confidence"):
                found.append((".".join(path), node.get("source"), node.get("confidence")))
            for key, value in node.items():
                walk(value, path + (str(key),))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, path + (str(index),))

    walk(resolved, ())
    return found


def _sources_table(resolved: dict) -> str:
    """The sourced figures of a resolved scenario with their source and confidence."""
    rows = [[_td("<code>" + ".<wbr>".join(map(_esc, path.split("."))) + "</code>"),
             _td(_esc(source or "(no source given)"), "text"),
             _td(_esc(confidence) if confidence else "&ndash;")]
            for path, source, confidence in sourced_figures(_schema_ordered(resolved))]
    if not rows:
        return ""
    return ("<h3>Where the numbers come from</h3><p>Each sourced setting of the scenario, its "
            "source and how far to trust it: <i>high/medium/low</i> are measured data, "
            "<i>claimed</i> is stated by the article without primary data, <i>assumption</i> "
            "is set by the modellers.</p>"
            + _table([[_th("Setting"), _th("Source", cls="text"), _th("Confidence")]], rows))


def _software_facts(manifest: dict, date_key: str, date_label: str) -> list[tuple[str, str]]:
    """Versions, date and git commit from a manifest, as facts."""
    versions = manifest.get("versions") or {}
    return [
        ("adoptsim version", _esc(versions.get("adoptsim", "unknown"))),
        ("Other versions", _esc(", ".join(f"{k} {v}" for k, v in versions.items() if k != "adoptsim"))),
        (date_label, _esc(manifest.get(date_key, "unknown"))),
        ("Git commit", f'<span class="hash">{_esc(manifest.get("git_commit") or "unknown")}</span>'),
    ]


def _hash(digest: str | None) -> str:
    return f'<span class="hash">{_esc(digest)}</span>' if digest else "&ndash;"


def _provenance_section(run: RunData) -> str:
    m = run.manifest
    seeds = m.get("replication_seeds") or []
    seed_text = f"{_esc(m.get('seed', ''))}"
    if seeds:
        keys = [str(s.get("spawn_key", [""])[0]) if s.get("spawn_key") else "" for s in seeds]
        seed_text += (f"; {len(seeds)} replication seeds spawned from it with numpy's "
                      f"SeedSequence (spawn keys {_esc(keys[0])}&ndash;{_esc(keys[-1])})")
    facts = [
        ("Scenario", _esc(run.name)),
        ("Scenario hash", _hash(m.get("scenario_hash"))),
        ("Seed", seed_text),
        ("Replications", _esc(m.get("replications", run.replications))),
        *_software_facts(m, "created", "Run date"),
        ("Run time", f"{float(m['wall_seconds']):.1f} s" if "wall_seconds" in m else "&ndash;"),
    ]
    return _facts(facts) + _sources_table(run.scenario)


# --- the sweep report -------------------------------------------------------------------------

SWEEP_FILES = ("manifest.json", "design.parquet", "results.parquet")
SWEEP_SPEC = "sweep.yaml"
_PRIM_OPERATORS = {">=": "ge", "<=": "le", ">": "gt", "<": "lt"}


def _is_sweep(folder: Path) -> bool:
    return all((folder / name).is_file() for name in SWEEP_FILES)


class SweepData:
    """A sweep folder's manifest, results table and analysis files, loaded once."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.manifest = _read_manifest(folder)
        self.spec: dict = self._spec()
        self.results = _read_parquet(folder / "results.parquet")
        self.parameters: dict[str, dict] = self.spec.get("parameters") or {}
        self.outcomes: list[str] = [o for o in self.spec.get("outcomes") or [] if o in self.results]
        status = self.results.get("status")
        self.finished = self.results if status is None else self.results[status == "finished"]
        self.analysis = folder / "analysis"

    def _spec(self) -> dict:
        """The sweep file as run: ``sweep.yaml`` in the folder (or the manifest's copy)."""
        import yaml

        try:
            spec = yaml.safe_load((self.folder / SWEEP_SPEC).read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            spec = None
        return spec if isinstance(spec, dict) else self.manifest.get("spec") or {}

    @property
    def name(self) -> str:
        return str(self.manifest.get("sweep") or self.spec.get("name") or self.folder.name)

    @property
    def method(self) -> str:
        return str((self.spec.get("design") or {}).get("method") or "")

    def label(self, parameter: str) -> str:
        return (self.parameters.get(parameter) or {}).get("label") or parameter

    def csv(self, name: str, **options):
        import pandas as pd

        path = self.analysis / name
        try:
            return pd.read_csv(path, **options) if path.is_file() else None
        except (OSError, ValueError):
            return None


def outcome_label(outcome: str) -> str:
    """"workload_share_open_any[region=eu]@2030Q4" -> "Workloads on open weights (any), EU, 2030Q4"."""
    head, _, quarter = outcome.partition("@")
    metric, _, segment = head.partition("[")
    segment = segment.rstrip("]")
    parts = [METRIC_LABELS.get(metric, metric)]
    if segment and segment != "all":
        parts.append(_segment_label(segment))
    if quarter:
        parts.append(quarter)
    return ", ".join(parts)


def _outcome_value(value: float, outcome: str) -> str:
    return _figure_value(value, outcome.partition("[")[0].partition("@")[0])


def render_sweep(folder: Path, *, targets: str | Path | None = None) -> str:
    """The HTML of a sweep folder's report: the design, the outcomes across runs, sensitivity
    charts and PRIM boxes (from ``analysis/``, written by ``sim.analysis.analyze_sweep``), and
    provenance. ``targets`` is accepted for a uniform signature and not used."""
    sweep = SweepData(Path(folder))
    sections = [
        Section("design", "Design", _sweep_design(sweep)),
        Section("outcomes", "Outcomes across runs", _sweep_outcomes(sweep)),
    ]
    if not sweep.analysis.is_dir():
        sections.append(Section("analysis", "Analysis", (
            "<p>This sweep has not been analysed yet: run <code>sim.analysis.analyze_sweep</code> "
            "on the folder (or <code>adoptsim analyze</code>), then rebuild this report with "
            "<code>adoptsim report</code>.</p>")))
    else:
        for anchor, title, render in (("sensitivity", "Sensitivity", _sweep_sensitivity),
                                      ("grid", "Outcomes over the grid", _sweep_grid),
                                      ("prim", "Scenario discovery (PRIM)", _sweep_prim)):
            body = render(sweep)
            if body:
                sections.append(Section(anchor, title, body))
    base = sweep.manifest.get("base_scenario") or {}
    sections += [
        Section("settings", "Base scenario settings", _settings_block(base.get("resolved") or {},
                                                                       "the base scenario")),
        Section("provenance", "Provenance", _sweep_provenance(sweep)),
    ]
    version = (sweep.manifest.get("versions") or {}).get("adoptsim", "")
    footer = (f"Generated by adoptsim {_esc(version)} from sweep <code>{_esc(sweep.name)}</code> "
              f"(hash <code>{_esc(str(sweep.manifest.get('sweep_hash') or '')[:8])}</code>). This "
              "page is self-contained: it needs no network and can be saved, mailed or printed.")
    return _page(f"Sweep \u201c{sweep.name}\u201d", "adoptsim sweep report",
                 _sweep_headline(sweep), sections, footer)


def _sweep_headline(sweep: SweepData) -> str:
    runs = sweep.manifest.get("runs") or {}
    base = sweep.manifest.get("base_scenario") or {}
    description = " ".join(str(sweep.spec.get("description") or "").split())
    labels = [sweep.label(p) for p in sweep.parameters]
    text = (f"<p class=\"headline\"><b>What this sweep asks.</b> "
            f"{_esc(description) + '. ' if description else ''}It varies "
            f"{_esc(_join(labels)) if labels else 'no parameter'} over a "
            f"{_esc(sweep.method)} design of {_esc(runs.get('total', len(sweep.results)))} runs "
            f"from the scenario <code>{_esc(base.get('name', '?'))}</code>, and records "
            f"{_esc(_join([outcome_label(o) for o in sweep.outcomes]) or 'no outcome')}.</p>")
    findings = [sentence for sentence in (_top_driver_sentence(sweep), _prim_sentence(sweep)) if sentence]
    if findings:
        text += f"<p class=\"headline\"><b>What it finds.</b> {' '.join(findings)}</p>"
    failed = runs.get("failed") or 0
    text += (f"<p class=\"note\">{_esc(runs.get('finished', len(sweep.finished)))} runs finished"
             + (f", {_esc(failed)} failed (left out; their tracebacks are in "
                f"<code>failures/</code>)" if failed else "") + ".</p>")
    return text


def _sweep_design(sweep: SweepData) -> str:
    rows = []
    for name, parameter in sweep.parameters.items():
        if parameter.get("range") is not None:
            low, high = parameter["range"]
            values = f"{low:g} to {high:g} ({parameter.get('distribution') or 'uniform'})"
        elif parameter.get("levels") is not None:
            values = ", ".join(map(str, parameter["levels"]))
        else:
            values = ", ".join(parameter.get("categories") or {})
        rows.append([_td(_esc(sweep.label(name)), "text"), _td(f"<code>{_esc(name)}</code>", "left"),
                     _td(_esc(values), "text")])
    design = sweep.spec.get("design") or {}
    facts = [("Method", _esc(sweep.method)),
             ("Samples", _esc(design.get("samples") if design.get("samples") is not None else "every combination")),
             ("Design seed", _esc(design.get("seed", ""))),
             ("Replications", _esc(sweep.spec.get("replications", ""))),
             ("Common random numbers", "yes: the same replication seeds at every design point"
              if sweep.spec.get("common_random_numbers", True) else "no"),
             ("Settings for every run", _esc("; ".join(sweep.spec.get("set") or []) or "none"))]
    return (_facts(facts) + _table([[_th("Parameter", cls="text"), _th("Key"), _th("Values", cls="text")]],
                                   rows, "The parameters the sweep varies and the values it draws."))


def _sweep_outcomes(sweep: SweepData) -> str:
    from sim.plots import BAND_HIGH, BAND_LOW

    rows = []
    for outcome in sweep.outcomes:
        values = sweep.finished[outcome].dropna()
        if values.empty:
            continue
        cells = [values.mean(), values.quantile(BAND_LOW), values.quantile(BAND_HIGH),
                 values.min(), values.max()]
        rows.append([_td(_esc(outcome_label(outcome)), "text")]
                    + [_td(_outcome_value(v, outcome)) for v in cells])
    header = [[_th("Outcome", cls="text"), _th("Mean"), _th("5%"), _th("95%"), _th("Lowest"),
               _th("Highest")]]
    return _table(header, rows, "Each outcome over all finished runs of the design: how far apart "
                                "the parameter settings push it. Look at the spread between 5% and 95%.")


def _sensitivity_columns(method: str) -> tuple[str, str, str]:
    """The index that ranks parameters, its interval column and a reader's name for it."""
    if method == "morris":
        return "mu_star", "mu_star_conf", "mean absolute effect (Morris mu*)"
    return "ST", "ST_conf", "total Sobol index (share of the outcome's variance it is involved in)"


def _drivers(sweep: SweepData):
    """The sensitivity table, outcomes in the sweep's order, parameters from the strongest; or
    None when the analysis wrote none."""
    table = sweep.csv("sensitivity.csv")
    index, _, _ = _sensitivity_columns(sweep.method)
    if table is None or index not in table or not {"outcome", "parameter"} <= set(table):
        return None
    order = table["outcome"].map({outcome: i for i, outcome in enumerate(sweep.outcomes)})
    return (table.assign(order=order).sort_values(["order", index], ascending=[True, False],
                                                  kind="stable").drop(columns="order"))


def _top_driver_sentence(sweep: SweepData) -> str:
    table = _drivers(sweep)
    if table is None:
        return ""
    index, _, words = _sensitivity_columns(sweep.method)
    parts = [f"{_esc(sweep.label(rows.iloc[0]['parameter']))} moves "
             f"<i>{_esc(outcome_label(outcome))}</i> most ({words} {rows.iloc[0][index]:.2f})"
             for outcome, rows in table.groupby("outcome", sort=False)]
    return (_join(parts) + ".") if parts else ""


def _sweep_sensitivity(sweep: SweepData) -> str:
    from sim.analysis.data import slug

    table = _drivers(sweep)
    if table is None:
        return ""
    index, conf, words = _sensitivity_columns(sweep.method)
    parts = [f"<p>How much each parameter moves each outcome, by the {_esc(words)}; the interval "
             f"is a 95% bootstrap half-width. Parameters are listed from the strongest.</p>"]
    for outcome, rows in table.groupby("outcome", sort=False):
        parts.append(f"<h3>{_esc(outcome_label(outcome))}</h3>")
        png = sweep.analysis / f"sensitivity_{slug(outcome)}.png"
        top = rows.iloc[0]
        if png.is_file():
            parts.append(_figure(png, f"Sensitivity of {outcome_label(outcome)}", (
                f"<b>What drives it.</b> Look at the longest bars: "
                f"{_esc(sweep.label(top['parameter']))} matters most ({index} {top[index]:.2f}). "
                "Bars whose interval reaches zero may not matter at all at this sample size.")))
        body = [[_td(_esc(sweep.label(r["parameter"])), "text"), _td(f"{r[index]:.3f}"),
                 _td(f"&plusmn; {r[conf]:.3f}" if conf in r and r[conf] == r[conf] else "&ndash;")]
                for _, r in rows.iterrows()]
        parts.append(_table([[_th("Parameter", cls="text"), _th(index), _th("interval")]], body))
    return "\n".join(parts)


def _sweep_grid(sweep: SweepData) -> str:
    parts = []
    for png in sorted(sweep.analysis.glob("heatmap_*.png")):
        parts.append(_figure(png, png.stem.replace("_", " "), (
            "<b>Two parameters at once.</b> Each cell is the outcome's mean over the runs at that "
            "combination. Look at the direction in which the colour changes fastest: that "
            "parameter matters most; colour changing along both axes means both do.")))
    for png in sorted(sweep.analysis.glob("lines_*.png")):
        parts.append(_figure(png, png.stem.replace("_", " "), (
            "<b>One parameter at a time.</b> Each line is one level of another parameter. Look at "
            "the slopes: steep lines mean the outcome responds to this parameter; lines far "
            "apart mean the other parameter matters too; crossing lines mean they interact.")))
    return "\n".join(parts)


def _prim_results(sweep: SweepData) -> list:
    """The PRIM boxes the analysis wrote (``prim_<outcome>_<op>_<value>_*.csv``), read back with
    the chosen box of each: the sweep file's conditions and any added when analysing."""
    from sim.analysis.data import slug
    from sim.analysis.prim import PrimResult, _choose
    from sim.sweep.spec import PrimSpec

    outcomes = {slug(outcome): outcome for outcome in sweep.outcomes}
    thresholds = {}
    for prim in (sweep.spec.get("analysis") or {}).get("prim") or []:
        prim = {"condition": prim} if isinstance(prim, str) else prim
        thresholds[" ".join(str(prim.get("condition", "")).split())] = prim.get("threshold")
    results = []
    for path in sorted(sweep.analysis.glob("prim_*_trajectory.csv")):
        stem = path.name.removesuffix("_trajectory.csv")
        head, word, value = (stem.removeprefix("prim_").rsplit("_", 2) + ["", ""])[:3]
        op = {w: o for o, w in _PRIM_OPERATORS.items()}.get(word)
        trajectory = sweep.csv(path.name, index_col="step")
        limits = sweep.csv(f"{stem}_limits.csv")
        if head not in outcomes or op is None or trajectory is None or limits is None or trajectory.empty:
            continue
        condition = f"{outcomes[head]} {op} {value}"
        threshold = float(thresholds.get(condition) or PrimSpec.model_fields["threshold"].default)
        results.append((stem, PrimResult(condition, trajectory, limits,
                                         _choose(trajectory, threshold), threshold)))
    return results


def _condition_words(condition: str) -> str:
    """"workload_share_open_any@2030Q4 >= 0.25" -> "Workloads on open weights (any), 2030Q4
    &ge; 25.0%" (HTML)."""
    outcome, op, value = (condition.split(" ") + ["", ""])[:3]
    symbol = {">=": "&ge;", "<=": "&le;", ">": "&gt;", "<": "&lt;"}.get(op, _esc(op))
    try:
        number = _outcome_value(float(value), outcome)
    except ValueError:
        number = _esc(value)
    return f"{_esc(outcome_label(outcome))} {symbol} {number}"


def _box_words(sweep: SweepData, result) -> str:
    box = result.box()
    restricted = box[box["restricted"].astype(bool)]
    parts = []
    for parameter, row in restricted.iterrows():
        if isinstance(row.get("categories"), str) and row["categories"]:
            parts.append(f"{_esc(sweep.label(parameter))} in {{{_esc(row['categories'])}}}")
        else:
            parts.append(f"{_esc(sweep.label(parameter))} between {row['lower']:.3g} and {row['upper']:.3g}")
    return _join(parts) if parts else "anywhere in the sampled space"


def _prim_sentence(sweep: SweepData) -> str:
    try:
        results = _prim_results(sweep)
    except ImportError:
        return ""
    sentences = []
    for _, result in results:
        stats = result.stats
        sentences.append(
            f"Runs reach <i>{_condition_words(result.condition)}</i> mostly when "
            f"{_box_words(sweep, result)}: "
            f"{stats['density']:.0%} of runs there do, and the box holds {stats['coverage']:.0%} "
            f"of all runs that do.")
    return " ".join(sentences)


def _sweep_prim(sweep: SweepData) -> str:
    parts = []
    for stem, result in _prim_results(sweep):
        stats = result.stats
        parts.append(f"<h3>{_condition_words(result.condition)}</h3>")
        png = sweep.analysis / f"{stem}.png"
        caption = (f"<b>Which parameter ranges lead there.</b> Left: each step of peeling trades "
                   f"coverage (runs meeting the condition kept in the box) for density (share of "
                   f"the box's runs meeting it); look at the circled box, the widest with density "
                   f"of at least {result.threshold:.0%}. Right: its limits, restricted parameters "
                   f"in colour.")
        if png.is_file():
            parts.append(_figure(png, f"PRIM box for {result.condition}", caption))
        box = result.box()
        rows = [[_td(_esc(sweep.label(parameter)), "text"),
                 _td(_esc(row["categories"]) if isinstance(row.get("categories"), str) and row["categories"]
                     else f"{row['lower']:.3g} &ndash; {row['upper']:.3g}"),
                 _td("yes" if bool(row["restricted"]) else "no")] for parameter, row in box.iterrows()]
        parts.append(_table([[_th("Parameter", cls="text"), _th("Box"), _th("Restricted")]], rows,
                            f"Chosen box: density {stats['density']:.0%}, coverage "
                            f"{stats['coverage']:.0%}, {int(stats['n'])} runs."))
    return "\n".join(parts)


def _sweep_provenance(sweep: SweepData) -> str:
    m = sweep.manifest
    base = m.get("base_scenario") or {}
    runs = m.get("runs") or {}
    facts = [
        ("Sweep", _esc(sweep.name)),
        ("Sweep hash", _hash(m.get("sweep_hash"))),
        ("Sweep file", f"<code>{_esc(m.get('sweep_file', ''))}</code>"),
        ("Base scenario", _esc(base.get("name", ""))),
        ("Base scenario hash", _hash(base.get("hash"))),
        ("Runs", _esc(f"{runs.get('finished', '?')} finished, {runs.get('failed', 0)} failed, "
                      f"of {runs.get('total', '?')}")),
        ("Executor", _esc(m.get("executor", ""))),
        *_software_facts(m, "updated", "Last updated"),
    ]
    return _facts(facts) + _sources_table(base.get("resolved") or {})


# --- registry of folder kinds -----------------------------------------------------------------

@dataclass(frozen=True)
class FolderKind:
    """A kind of output folder: how to recognise it and how to render its report."""

    name: str
    holds: str                              # its telltale files, for error messages
    matches: Callable[[Path], bool]
    render: Callable[..., str]              # render(folder, *, targets) -> HTML


#: Checked in order; the first kind whose ``matches`` is true renders the folder.
FOLDER_KINDS: list[FolderKind] = [
    FolderKind("run", "manifest.json and quarterly.parquet", _is_run, render_run),
    FolderKind("sweep", "manifest.json, design.parquet and results.parquet", _is_sweep, render_sweep),
]
