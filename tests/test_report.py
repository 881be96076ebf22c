"""Tests for sim.views.report: the run, sweep and comparison reports' contents, their
self-containment,
and `adoptsim report`.

One tiny run (200 enterprises, 2 replications), one tiny sweep and one tiny comparison are made
per module; every expected number is read back from their own files, never typed in.
"""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import BASELINE, ROOT

import sim
from sim.calibration import load_targets
from sim.cli import main
from sim.core.kernel import OPTIONS
from sim.core.metric_table import METRIC_BY_NAME, deployment_metric
from sim.core.scenario import load_scenario
from sim.core.signal_table import SIGNALS
from sim.views import report
from sim.views.figures.run import RUN_FIGURES
from sim.views.report.comparison import PAIRING_PAYS, _pairing_sentence
from sim.views.report.words import number
from sim.views.signal_grid import signal_panels
from sim.views.style import HEADLINE_METRICS, METRIC_LABELS, REGION_LABELS
from sim.workflows import compare_scenarios

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WORD_BREAK = "\0"
LINKING_ATTRIBUTES = {"src", "href", "srcset", "data", "action", "poster", "background"}


class Page(HTMLParser):
    """A parsed report: tags with attributes, visible text per section, and tables per section."""

    def __init__(self, text: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.section_text: dict[str, list[str]] = {}
        self.tables: dict[str, list[list[list[str]]]] = {}
        self._section: str | None = None
        self._cell: list[str] | None = None
        self._in_pre = False
        self.pre: list[str] = []
        self.headings: dict[str, str] = {}          # section id -> its <h2>
        self.contents: list[tuple[str, str]] = []   # the contents' links: (href, text)
        self.captions: dict[str, str] = {}          # an image's src -> its figure's caption
        self._text: list[str] | None = None         # the text of the <h2>, link or caption read
        self._in_nav = False
        self._image = ""
        self._href = ""
        self.source = text
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        if tag in ("section", "header"):
            self._section = attributes.get("id", tag)
            self.section_text[self._section] = []
            self.tables[self._section] = []
        elif tag == "table":
            self.tables.setdefault(self._section, []).append([])
        elif tag == "tr":
            self.tables[self._section][-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "wbr" and self._cell is not None:
            self._cell.append(WORD_BREAK)
        elif tag == "pre":
            self._in_pre = True
            self.pre.append("")
        self._start_text(tag, attributes)

    def _start_text(self, tag, attributes):
        if tag == "nav":
            self._in_nav = True
        elif tag == "img":
            self._image = attributes.get("src", "")
        elif tag in ("h2", "figcaption") or (tag == "a" and self._in_nav):
            self._text = []
            self._href = attributes.get("href", "")

    def _end_text(self, tag):
        if self._text is None or tag not in ("h2", "figcaption", "a"):
            self._in_nav = self._in_nav and tag != "nav"
            return
        text = " ".join("".join(self._text).split())
        if tag == "h2":
            self.headings[self._section] = text
        elif tag == "a":
            self.contents.append((self._href, text))
        else:
            self.captions[self._image] = text
        self._text = None

    def handle_endtag(self, tag):
        self._end_text(tag)
        if tag in ("td", "th") and self._cell is not None:
            text = " ".join(self._cell).replace(f" {WORD_BREAK} ", "")
            self.tables[self._section][-1][-1].append(" ".join(text.split()))
            self._cell = None
        elif tag in ("section", "header"):
            self._section = None
        elif tag == "pre":
            self._in_pre = False

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)
        if self._cell is not None:
            self._cell.append(data)
        if self._section is not None:
            self.section_text[self._section].append(data)
        if self._in_pre:
            self.pre[-1] += data

    def caption(self, png: Path) -> str:
        """The caption of the figure that embeds the file ``png``."""
        return self.captions[f"data:image/png;base64,{base64.b64encode(png.read_bytes()).decode()}"]

    def text(self, section: str) -> str:
        return " ".join("".join(self.section_text[section]).split())

    def rows(self, section: str, title: str | None = None) -> dict[str, list[str]]:
        """First cell -> the row's other cells, over the section's tables (those whose first
        header cell is ``title``, when given)."""
        return {row[0]: row[1:] for table in self.tables[section]
                if title is None or table[0][0] == title for row in table if row}


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory) -> Path:
    result = sim.run_scenario(
        BASELINE,
        replications=2,
        workers=1,
        out=tmp_path_factory.mktemp("runs"),
        overrides=["population.enterprises=200"],
    )
    return result.folder


@pytest.fixture(scope="module")
def page(run_folder) -> Page:
    return Page((run_folder / "report.html").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def summary(run_folder) -> pd.DataFrame:
    return pd.read_csv(run_folder / "summary.csv")


@pytest.fixture(scope="module")
def manifest(run_folder) -> dict:
    return json.loads((run_folder / "manifest.json").read_text())


def copy_without_report(folder: Path, destination: Path) -> Path:
    """A copy of an output folder, minus its report, inside ``destination``."""
    target = destination / folder.parent.name
    shutil.copytree(folder, target)
    (target / "report.html").unlink()
    return target


def mean_at(summary: pd.DataFrame, metric: str, quarter: str, segment: str = "all") -> float:
    row = summary[
        (summary.metric == metric) & (summary.segment == segment) & (summary.quarter == quarter)
    ]
    assert len(row) == 1
    return float(row["mean"].iloc[0])


# --- self-contained ---------------------------------------------------------------------------

def test_every_run_folder_gets_a_report(run_folder):
    assert (run_folder / "report.html").is_file()
    assert not list(run_folder.glob(".report.html*"))  # the atomic write left no temporary


def assert_embeds_exactly(page: Page, pngs: list[Path]) -> None:
    """Every image is one of ``pngs`` as a base64 data URL with alt text, and every PNG is shown."""
    images = [attributes for tag, attributes in page.tags if tag == "img"]
    assert len(images) == len(pngs)
    embedded = set()
    for attributes in images:
        prefix, _, data = attributes["src"].partition(",")
        assert prefix == "data:image/png;base64"
        embedded.add(base64.b64decode(data))
        assert attributes.get("alt")
    assert embedded == {png.read_bytes() for png in pngs}
    assert all(blob.startswith(PNG_SIGNATURE) for blob in embedded)


def assert_links_nothing(page: Page) -> None:
    """No script or embedded object, no stylesheet, and no attribute pointing outside the page."""
    assert not [tag for tag, _ in page.tags if tag in ("script", "iframe", "object", "embed")]
    for tag, attributes in page.tags:
        for name, value in attributes.items():
            if name in LINKING_ATTRIBUTES and value:
                assert value.startswith(("data:", "#")), (tag, name, value[:80])
    stylesheets = [a for tag, a in page.tags if tag == "link" and a.get("rel") == "stylesheet"]
    assert not stylesheets


def test_report_embeds_every_plot_and_links_nothing(run_folder, page):
    pngs = sorted((run_folder / "plots").glob("*.png"))
    assert sorted(png.name for png in pngs) == sorted(name for name, _ in RUN_FIGURES)
    assert_embeds_exactly(page, pngs)
    assert_links_nothing(page)


def test_page_is_responsive_and_printable(run_folder):
    text = (run_folder / "report.html").read_text()
    assert 'name="viewport"' in text and "@media print" in text
    assert "overflow-x: auto" in text and "Content-Security-Policy" in text


# --- contents ---------------------------------------------------------------------------------

def test_headline_states_the_assumptions_and_the_numbers(page, summary, manifest):
    header = page.text("header")
    description = " ".join(manifest["resolved_scenario"]["description"].split())
    assert description in header
    for quarter in ("2025Q4", "2030Q4"):
        closed = mean_at(summary, "workload_share_closed", quarter)
        hybrid = mean_at(summary, "stack_share_hybrid", quarter)
        assert f"{closed * 100:.0f}%" in header and f"{hybrid * 100:.0f}%" in header
        assert f"({quarter})" in header
    assert "90% interval" in header


def test_sections_in_order_each_in_the_contents(page):
    sections = {"key-figures": "Key figures", "trends": "Trends", "break-even": "Break-even",
                "targets": "Targets against simulated values", "segments": "By segment",
                "settings": "Scenario settings", "provenance": "Provenance"}
    assert page.headings == sections and list(page.headings) == list(sections)
    assert page.contents == [(f"#{anchor}", title) for anchor, title in sections.items()]


def test_key_figures_table_matches_the_summary(page, summary):
    rows = page.rows("key-figures")
    assert list(rows) == ["Figure", *(report.METRIC_LABELS[m] for m in HEADLINE_METRICS)]
    assert rows["Figure"] == ["2025Q4", "2030Q4"]
    for metric in HEADLINE_METRICS:
        cells = rows[report.METRIC_LABELS[metric]]
        for cell, quarter in zip(cells, ["2025Q4", "2030Q4"]):
            row = summary[(summary.metric == metric) & (summary.segment == "all")
                          & (summary.quarter == quarter)].iloc[0]
            assert cell == f"{row['mean'] * 100:.1f}% {row.p5 * 100:.1f}–{row.p95 * 100:.1f}"


def test_every_figure_has_a_caption_that_points_somewhere(run_folder, page):
    captions = [" ".join(c.split()) for c in page.source.split("<figcaption>")[1:]]
    assert len(captions) == len(list((run_folder / "plots").glob("*.png")))
    for caption in captions:
        assert len(caption) > 80
    assert sum("Look at" in c or "Look for" in c for c in captions) >= 4


def test_workload_caption_quotes_the_run(page, run_folder):
    frame = pd.read_parquet(run_folder / "quarterly.parquet")
    closed = frame[(frame.metric == "workload_share_closed") & (frame.segment == "all")]
    by_quarter = closed.groupby("quarter")["value"].mean()
    caption = page.text("trends")
    assert (f"from {by_quarter.iloc[0] * 100:.0f}% in {by_quarter.index[0]} to "
            f"{by_quarter.iloc[-1] * 100:.0f}% in {by_quarter.index[-1]}") in caption


def test_signals_caption_quotes_the_frame_at_the_horizon_start_and_end(page, run_folder):
    """Every signal the table captions, in the words of its spec, pointed at by its panel's
    place, with the frame's means over replications at the first and last quarter."""
    frame = pd.read_parquet(run_folder / "quarterly.parquet")
    caption = page.caption(run_folder / "plots" / "signals.png")
    panels = signal_panels(set(frame.metric))
    captioned = [(panel, spec) for panel in panels for spec in panel.signals if spec.caption]
    assert captioned and len(captioned) == sum(spec.caption is not None for spec in SIGNALS)
    for panel, spec in captioned:
        segment = f"region={spec.caption_region}" if spec.regional else "all"
        rows = frame[(frame.metric == spec.metric) & (frame.segment == segment)]
        means = rows.groupby("quarter")["value"].mean().sort_index()
        assert (f"{spec.caption} ({panel.position}) goes from {spec.formatted(means.iloc[0])} to "
                f"{spec.formatted(means.iloc[-1])} ({spec.unit})") in caption, spec.name
    assert f"between {frame.quarter.min()} and {frame.quarter.max()}" in caption


# --- money and tokens ---------------------------------------------------------------------------

PROJECT_TARGETS = ROOT / "scenarios" / "targets.yaml"
FRONTIER_PRICE = "price_paid_usd_per_mtok_frontier_work"
BREAK_EVEN = ("break_even_mtok_per_month_routine", "break_even_mtok_per_month_frontier")


def replication_values(frame: pd.DataFrame, metric: str, quarter: str,
                       segment: str = "all") -> pd.Series:
    """Each replication's value, indexed by replication."""
    rows = frame[(frame.metric == metric) & (frame.segment == segment) & (frame.quarter == quarter)]
    return rows.set_index("replication")["value"]


def test_number_keeps_three_significant_digits():
    assert [number(v) for v in (1234.5, 3.4375, 30, 0.000412, 0.0891, 233.48)] == [
        "1,230", "3.44", "30.0", "0.000412", "0.0891", "233"]


def test_money_caption_quotes_the_run_beside_the_published_figures(page, run_folder, summary):
    """Closed API spend at the growth target's quarters a year in USD bn and its growth within
    each replication beside the measured growth; the price of closed frontier work at the
    check's quarter beside the published range; the average closed price and the price of a
    fixed capability; what enterprises pay in the run's last year."""
    frame = pd.read_parquet(run_folder / "quarterly.parquet")
    caption = " ".join(page.caption(run_folder / "plots" / "money_and_tokens.png").split())
    published = load_targets(PROJECT_TARGETS)
    growths = [t for t in published.targets
               if t.metric == "spend_usd_closed" and t.segment == "all" and t.relative_to]
    assert len({t.relative_to for t in growths}) == 1 and len(growths) >= 2
    before = replication_values(frame, "spend_usd_closed", growths[0].relative_to)
    assert (f"closed API spend runs at {number(before.mean() * 4 / 1e9)} billion USD a year at "
            f"{growths[0].relative_to} and grows ") in caption
    for growth in growths:   # each measured growth beside the run's, in the panel's order
        after = replication_values(frame, "spend_usd_closed", growth.quarter)
        assert f"{(after / before).mean():.1f}× by {growth.quarter} (" in caption
        beside = caption.split(f"by {growth.quarter} (")[1].split(")")[0]
        assert beside.endswith(f"; measured: {growth.value:g}×")
        assert growth.source in caption
    check = next(c for c in published.checks if c.metric == FRONTIER_PRICE)
    paid = mean_at(summary, FRONTIER_PRICE, check.quarter)
    verdict = "within" if check.low <= paid <= check.high else "outside"
    assert (f"at {check.quarter}: closed work needing the frontier pays {number(paid)} USD per "
            f"million tokens") in caption
    assert f"{verdict} the published range of {check.low:g}–{check.high:g}" in caption
    average = mean_at(summary, "price_paid_usd_per_mtok_closed", check.quarter)
    fixed = mean_at(summary, "signal_fixed_capability_price_usd_per_mtok", check.quarter)
    assert f"pays {number(average)} USD on average" in caption
    assert f"is {number(fixed)} USD" in caption
    last_year = sorted(frame.quarter.unique())[-4:]
    spend = frame[frame.metric.str.startswith("spend_usd_") & (frame.segment == "all")
                  & frame.quarter.isin(last_year)]
    total = spend.groupby("replication")["value"].sum().mean()
    closed = spend[spend.metric == "spend_usd_closed"].groupby("replication")["value"].sum().mean()
    assert (f"({last_year[0]}–{last_year[-1]}) enterprises pay {number(total / 1e9)} billion USD "
            f"in all") in caption
    assert f"{number(closed / 1e9)} billion of it to closed APIs" in caption


def expected_break_even_cell(frame: pd.DataFrame, metric: str, quarter: str, segment: str) -> str:
    """The mean and 90% interval over the replications that break even, how many those are when
    not all; "none" unless at least half of them do."""
    values = replication_values(frame, metric, quarter, segment)
    replications = frame.replication.nunique()
    if 2 * len(values) < replications or values.empty:
        return "none"
    low, high = values.quantile([0.05, 0.95])
    cell = f"{number(values.mean())} {number(low)}–{number(high)}"
    if len(values) < replications:
        cell += f" {len(values)} of {replications} replications"
    return cell


def assert_break_even_table(page: Page, frame: pd.DataFrame) -> None:
    """The break-even table: a row for all enterprises and each size, the routine then the
    frontier volumes at 2025Q4 and the horizon's end, each cell as the frame has it."""
    table = page.tables["break-even"][0]
    quarters = ["2025Q4", frame.quarter.max()]
    assert table[0] == ["Enterprises", *(METRIC_LABELS[metric] for metric in BREAK_EVEN)]
    assert table[1] == ["", *quarters, *quarters]
    rows = {row[0]: row[1:] for row in table[2:]}
    segments = {"All enterprises": "all", "Small": "size=small", "Mid": "size=mid",
                "Large": "size=large"}
    assert list(rows) == list(segments)
    for label, segment in segments.items():
        assert rows[label] == [expected_break_even_cell(frame, metric, quarter, segment)
                               for metric in BREAK_EVEN for quarter in quarters], label


def test_break_even_table_matches_the_run(page, run_folder, summary):
    frame = pd.read_parquet(run_folder / "quarterly.parquet")
    assert_break_even_table(page, frame)
    frontier = mean_at(summary, BREAK_EVEN[1], "2025Q4")
    assert number(frontier) in page.rows("break-even")["All enterprises"][2]
    assert METRIC_BY_NAME[BREAK_EVEN[0]].unit in page.text("break-even")


def test_break_even_cells_say_none_and_how_many_replications_break_even(run_folder, tmp_path):
    """From the frame (no summary), with a third replication: a cell where one of three breaks
    even says "none" (the median replication never does), one where two do shows their mean and
    says so."""
    folder = copy_without_report(run_folder, tmp_path)
    frame = pd.read_parquet(folder / "quarterly.parquet")
    third = frame[frame.replication == 0].assign(replication=2, value=lambda r: r.value * 1.5)
    frame = pd.concat([frame, third], ignore_index=True)
    frontier = (frame.metric == BREAK_EVEN[1]) & (frame.quarter == "2025Q4")
    gone = ((frontier & (frame.segment == "size=small") & (frame.replication > 0))
            | (frontier & (frame.segment == "size=large") & (frame.replication == 1)))
    frame = frame[~gone]
    frame.to_parquet(folder / "quarterly.parquet")
    (folder / "summary.csv").unlink()
    rendered = Page(report.build_report(folder).read_text())
    rows = rendered.rows("break-even")
    assert rows["Small"][2] == "none"
    large = replication_values(frame, BREAK_EVEN[1], "2025Q4", "size=large")
    assert rows["Large"][2].startswith(number(large.mean()))
    assert rows["Large"][2].endswith("2 of 3 replications")
    assert_break_even_table(rendered, frame)


def test_break_even_section_sets_the_published_findings_beside_the_table(page, run_folder,
                                                                        tmp_path):
    findings = [c for c in load_targets(PROJECT_TARGETS).checks if c.metric is None]
    assert findings
    published = page.tables["break-even"][1]
    assert published[0] == ["Published finding", "What it counts", "Source"]
    for check, row in zip(findings, published[1:], strict=True):
        assert row[:2] == [check.statement, check.counts]
        assert row[2] == f"{check.source} (confidence: {check.confidence})"
    folder = copy_without_report(run_folder, tmp_path)
    alone = Page(report.build_report(folder).read_text())
    assert "built without a targets file" in alone.text("break-even")
    assert len(alone.tables["break-even"]) == 1


def test_segment_tables_cover_every_segment(page, summary):
    rows = page.rows("segments", "Workloads")
    for dimension in ("sector", "region", "size", "class"):
        segments = [s for s in summary.segment.unique() if s.startswith(f"{dimension}=")]
        assert segments
        for segment in segments:
            value = segment.split("=", 1)[1]
            name = REGION_LABELS.get(value, value.replace("_", " ")).lower()
            assert [label for label in rows if label.lower().startswith(name)], segment
    banking = rows["Banking (regulated)"]
    expected = [
        mean_at(summary, deployment_metric("workload_share", kind).name, quarter, "sector=banking")
        for quarter in ("2025Q4", "2030Q4")
        for kind in OPTIONS
    ]
    assert ([cell.split("%")[0] for cell in banking[:len(expected)]]
            == [f"{v * 100:.1f}" for v in expected])


def test_settings_block_round_trips_to_the_resolved_scenario(page, manifest):
    assert "<details>" in page.source
    assert yaml.safe_load(page.pre[0]) == manifest["resolved_scenario"]


def test_provenance_names_hash_seeds_versions_and_sources(page, manifest):
    text = page.text("provenance")
    for value in (
        manifest["scenario_hash"],
        str(manifest["seed"]),
        manifest["versions"]["adoptsim"],
        manifest["created"],
    ):
        assert value in text
    if manifest.get("git_commit"):
        assert manifest["git_commit"] in text
    rows = page.rows("provenance")
    signals = manifest["resolved_scenario"]["signals"]
    sourced = {f"signals.{name}": spec for name, spec in signals.items() if "confidence" in spec}
    assert sourced
    for path, spec in sourced.items():
        assert rows[path][-1] == spec["confidence"]


# --- targets ----------------------------------------------------------------------------------

def targets_file(path: Path, entries: list[dict], checks: list[dict] | None = None) -> Path:
    """A targets file at ``path``: the project's calibration settings with ``entries`` as the
    panel and ``checks``, when given, as the published checks."""
    settings = yaml.safe_load((ROOT / "scenarios" / "targets.yaml").read_text())
    content = {"targets": entries, "calibration": settings["calibration"]}
    if checks is not None:
        content["checks"] = checks
    path.write_text(yaml.safe_dump(content))
    return path


def test_targets_section_compares_targets_with_the_run(run_folder, summary, tmp_path):
    hit = mean_at(summary, "stack_share_hybrid", "2025Q4")
    segment_value = mean_at(summary, "workload_share_closed", "2030Q4", "region=eu")
    targets = targets_file(tmp_path / "targets.yaml", [
        {"name": "a", "counts": "hybrid enterprises", "metric": "stack_share_hybrid",
         "segment": "all", "quarter": "2025Q4", "value": hit, "tolerance": 0.01,
         "source": "test source A", "confidence": "claimed"},
        {"name": "b", "counts": "EU closed workloads", "metric": "workload_share_closed",
         "segment": "region=eu", "quarter": "2030Q4", "value": segment_value + 0.2,
         "tolerance": 0.01, "source": "test source B", "confidence": "high"},
        {"name": "c", "counts": "not in the run", "metric": "workload_share_closed",
         "quarter": "2035Q4", "value": 0.5, "tolerance": 0.01, "source": "test source C",
         "confidence": "high"},
    ])
    folder = copy_without_report(run_folder, tmp_path)
    rendered = Page(report.build_report(folder, targets=targets).read_text())
    rows = rendered.rows("targets")
    hybrid = rows[report.METRIC_LABELS["stack_share_hybrid"]]
    assert hybrid[:2] == ["2025Q4", f"{hit * 100:.1f}% ± 1.0%"] and hybrid[3] == "within"
    assert hybrid[4] == "hybrid enterprises. test source A (a claim: no primary source found)"
    eu = rows[f"{report.METRIC_LABELS['workload_share_closed']} (EU)"]
    assert eu[3] == "outside" and eu[2].startswith(f"{segment_value * 100:.1f}%")
    assert len(rows) == 3  # header + the two targets the run can be judged on
    assert "1 of 2 targets" in rendered.text("header")


def check_entry(name: str, **fields) -> dict:
    return {"name": name, "counts": f"what {name} counted", "statement": f"{name} found",
            "source": f"source of {name}", "confidence": "medium", **fields}


def test_published_checks_are_reported_within_or_outside_their_bounds(run_folder, summary,
                                                                        tmp_path):
    """A numeric check with the run's value inside its range is "within", one with the value
    below its lower bound "outside", each with the run's value and the published range; a check
    in words is set beside the break-even table; a check outside the run is left out; a growth
    target is the ratio of the two quarters within each replication."""
    frame = pd.read_parquet(run_folder / "quarterly.parquet")
    paid = summary[(summary.metric == FRONTIER_PRICE) & (summary.segment == "all")
                   & (summary.quarter == "2025Q4")].iloc[0]
    closed = mean_at(summary, "workload_share_closed", "2030Q4")
    ratio = (replication_values(frame, "spend_usd_closed", "2025Q3")
             / replication_values(frame, "spend_usd_closed", "2024Q4")).mean()
    targets = targets_file(tmp_path / "targets.yaml", [
        {"name": "growth", "counts": "spend growth", "metric": "spend_usd_closed",
         "quarter": "2025Q3", "relative_to": "2024Q4", "value": float(ratio), "tolerance": 0.01,
         "source": "growth source", "confidence": "high"},
    ], [
        check_entry("inside", metric=FRONTIER_PRICE, quarter="2025Q4",
                    low=float(paid["mean"]) * 0.5, high=float(paid["mean"]) * 2),
        check_entry("outside", metric="workload_share_closed", quarter="2030Q4",
                    low=closed + 0.05),
        check_entry("in_words"),
        check_entry("later", metric=FRONTIER_PRICE, quarter="2035Q4", high=1.0),
    ])
    folder = copy_without_report(run_folder, tmp_path)
    rendered = Page(report.build_report(folder, targets=targets).read_text())
    checks = rendered.rows("targets", "Check")
    assert list(checks) == ["Check", METRIC_LABELS[FRONTIER_PRICE],
                            METRIC_LABELS["workload_share_closed"]]
    assert checks[METRIC_LABELS[FRONTIER_PRICE]][:4] == [
        "2025Q4", f"{paid['mean'] * 0.5:g}–{paid['mean'] * 2:g}",
        f"{number(paid['mean'])} {number(paid.p5)}–{number(paid.p95)}", "within"]
    outside = checks[METRIC_LABELS["workload_share_closed"]]
    assert outside[0] == "2030Q4" and outside[1] == f"at least {closed + 0.05:g}"
    assert outside[2].startswith(number(closed)) and outside[3] == "outside"
    assert outside[4].startswith("outside found. what outside counted. source of outside")
    growth = rendered.rows("targets", "Target")[
        f"{METRIC_LABELS['spend_usd_closed']}, growth since 2024Q4"]
    assert growth[:2] == ["2025Q3", f"{ratio:.3g} ± 0.01"] and growth[2].startswith(f"{ratio:.3g}")
    assert growth[3] == "within"
    header = rendered.text("header")
    assert "1 of 1 targets" in header
    assert "1 of 2 published figures the model is not fitted to lie within their range" in header
    findings = rendered.tables["break-even"][1]
    assert findings[1:] == [["in_words found", "what in_words counted",
                             "source of in_words (confidence: medium)"]]


@pytest.mark.parametrize("fields, where, message", [
    ({"metric": "no_such_metric", "quarter": "2025Q4", "low": 1.0}, "checks.0.metric",
     "unknown metric 'no_such_metric'"),
    ({"metric": FRONTIER_PRICE, "quarter": "2025Q4", "low": 30.0, "high": 3.44},
     "checks.0.high", "high (3.44) must be at least low (30)"),
    ({"metric": FRONTIER_PRICE, "low": 1.0}, "checks.0", "needs a quarter"),
    ({"metric": FRONTIER_PRICE, "quarter": "2025Q4"}, "checks.0", "low, high or both"),
    ({"low": 1.0}, "checks.0", "a check in words has no quarter, segment, low or high"),
    ({"segment": "size=huge"}, "checks.0.segment", "unknown segment 'size=huge'"),
])
def test_a_bad_check_is_an_error_naming_its_key(run_folder, tmp_path, fields, where, message):
    targets = targets_file(tmp_path / "targets.yaml", [], [check_entry("bad", **fields)])
    settings = yaml.safe_load(targets.read_text())
    settings["targets"] = yaml.safe_load(PROJECT_TARGETS.read_text())["targets"][:1]
    targets.write_text(yaml.safe_dump(settings))
    folder = copy_without_report(run_folder, tmp_path)
    with pytest.raises(report.ReportError) as caught:
        report.build_report(folder, targets=targets)
    assert "targets.yaml:" in str(caught.value)
    assert f": {where}: " in str(caught.value) and message in str(caught.value)
    assert main(["report", str(folder), "--targets", str(targets)]) == 2


def test_without_targets_the_section_is_left_out(run_folder, tmp_path):
    folder = copy_without_report(run_folder, tmp_path)
    rendered = Page(report.build_report(folder).read_text())
    assert "targets" not in rendered.section_text
    assert 'href="#targets"' not in rendered.source


def test_the_run_report_compares_with_the_project_targets(run_folder):
    assert 'href="#targets"' in (run_folder / "report.html").read_text()


@pytest.mark.parametrize("content", [None, "targets: [unclosed", "just text",
                                     "targets: [{metric: no_value_given}]"])
def test_missing_or_invalid_targets_are_an_error(run_folder, tmp_path, content):
    targets = tmp_path / "targets.yaml"
    if content is not None:
        targets.write_text(content)
    folder = copy_without_report(run_folder, tmp_path)
    with pytest.raises(report.ReportError, match="targets.yaml"):
        report.build_report(folder, targets=targets)
    assert main(["report", str(folder), "--targets", str(targets)]) == 2


# --- other folders and edge cases --------------------------------------------------------------

def test_text_from_the_scenario_is_escaped(run_folder, tmp_path):
    folder = copy_without_report(run_folder, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["resolved_scenario"]["description"] = "Prices <script>alert(1)</script> & more"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    text = report.build_report(folder).read_text()
    assert (
        "<script>" not in text and "Prices &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in text
    )


def test_short_horizon_without_summary_or_plots(run_folder, tmp_path):
    folder = copy_without_report(run_folder, tmp_path)
    frame = pd.read_parquet(folder / "quarterly.parquet")
    frame[frame.quarter <= "2025Q2"].to_parquet(folder / "quarterly.parquet")
    (folder / "summary.csv").unlink()
    shutil.rmtree(folder / "plots")
    rendered = Page(report.build_report(folder).read_text())
    assert rendered.rows("key-figures")["Figure"] == ["2025Q2"]
    closed = frame[(frame.metric == "workload_share_closed") & (frame.segment == "all")
                   & (frame.quarter == "2025Q2")]["value"].mean()
    assert (f"At the second quarter of 2025 (2025Q2), closed AI APIs run {closed * 100:.0f}%"
            in rendered.text("header"))
    assert "no plots" in rendered.text("trends")
    assert not [tag for tag, _ in rendered.tags if tag == "img"]


def test_cli_rebuilds_the_same_report(run_folder, tmp_path, capsys):
    folder = copy_without_report(run_folder, tmp_path)
    assert main(["report", str(folder)]) == 0
    assert str(folder / "report.html") in capsys.readouterr().out
    assert (folder / "report.html").read_text() == (run_folder / "report.html").read_text()


@pytest.mark.parametrize("make", [lambda tmp: tmp / "missing", lambda tmp: tmp])
def test_cli_rejects_a_folder_that_is_not_an_output(tmp_path, capsys, make):
    folder = make(tmp_path)
    assert main(["report", str(folder)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"adoptsim: error: {folder}") and error.count("\n") == 1
    assert not (tmp_path / "report.html").exists()


def test_cli_error_has_no_traceback(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sim", "report", str(tmp_path / "nope")],
                          capture_output=True, text=True)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "no such folder" in done.stderr


def test_import_is_light():
    code = ("import sys, sim.views.report; "
            "assert not {'pandas', 'matplotlib', 'mesa'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


# --- sweep folders ----------------------------------------------------------------------------

SWEEP_PARAMETERS = {
    "behaviour.migration_cost_usd": {"range": [20000.0, 200000.0], "label": "Migration cost"},
    "behaviour.peer_weight": {"range": [0.0, 8.0], "label": "Peer influence"},
}
SWEEP_OUTCOME = "workload_share_open_any@2030Q4"


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory) -> Path:
    """A tiny Morris sweep (2 trajectories x 3 points, 100 enterprises), analysed, reported."""
    from sim.sweep import run_sweep

    scratch = tmp_path_factory.mktemp("sweep")
    spec = scratch / "tiny.yaml"
    spec.write_text(yaml.safe_dump({
        "name": "tiny", "description": "a test sweep", "base": str(BASELINE.resolve()),
        "set": ["population.enterprises=100"], "parameters": SWEEP_PARAMETERS,
        "design": {"method": "morris", "samples": 2, "seed": 3}, "replications": 1,
        "outcomes": [SWEEP_OUTCOME, "stack_share_hybrid@2030Q4"],
    }, sort_keys=False))
    folder = run_sweep(spec, out=scratch, workers=1).folder
    values = pd.read_parquet(folder / "results.parquet")[SWEEP_OUTCOME]
    sim.analyze_sweep(folder, prim=[f"{SWEEP_OUTCOME} >= {values.median():.4f}"])
    report.build_report(folder)
    return folder


def test_sweep_report_shows_design_outcomes_sensitivity_and_prim(sweep_folder):
    page = Page((sweep_folder / "report.html").read_text())
    design = page.rows("design")
    for name, parameter in SWEEP_PARAMETERS.items():
        low, high = parameter["range"]
        assert design[parameter["label"]] == [name, f"{low:g} to {high:g} (uniform)"]

    results = pd.read_parquet(sweep_folder / "results.parquet")
    outcome = page.rows("outcomes")[report.outcome_label(SWEEP_OUTCOME)]
    assert outcome[0] == f"{results[SWEEP_OUTCOME].mean() * 100:.1f}%"
    assert outcome[3:] == [f"{results[SWEEP_OUTCOME].min() * 100:.1f}%",
                           f"{results[SWEEP_OUTCOME].max() * 100:.1f}%"]

    indices = pd.read_csv(sweep_folder / "analysis" / "sensitivity.csv")
    strongest = indices[indices.outcome == SWEEP_OUTCOME].sort_values("mu_star").iloc[-1]
    label = SWEEP_PARAMETERS[strongest.parameter]["label"]
    assert f"{label} moves {report.outcome_label(SWEEP_OUTCOME)} most" in page.text("header")
    sensitivity = page.tables["sensitivity"][0]
    assert sensitivity[1][:2] == [label, f"{strongest.mu_star:.3f}"]

    assert "prim" in page.tables and page.rows("prim")["Parameter"] == ["Box", "Restricted"]
    pngs = {png.read_bytes() for png in (sweep_folder / "analysis").glob("*.png")}
    images = [base64.b64decode(a["src"].partition(",")[2]) for tag, a in page.tags if tag == "img"]
    assert len(pngs) >= 3 and set(images) == pngs


def test_unanalysed_sweep_says_how_to_analyse(sweep_folder, tmp_path):
    folder = tmp_path / "sweep"
    shutil.copytree(sweep_folder, folder, ignore=shutil.ignore_patterns("analysis", "report.html"))
    assert report.folder_kind(folder).name == "sweep"
    page = Page(report.build_report(folder).read_text())
    assert "not been analysed yet" in page.text("analysis")
    assert "sensitivity" not in page.section_text and "prim" not in page.section_text


# --- comparison folders -----------------------------------------------------------------------

MATRIX = [f"tooling-{tooling}-gap-{gap}" for tooling in ("fast", "stall")
          for gap in ("tracks", "reopens")]


def build_comparison(out: Path) -> Path:
    """The four what-to-watch scenarios against the baseline (100 enterprises, 2 replications).

    Each run is made first without plots; ``compare_scenarios`` reuses them (same hash), so only
    the comparison's own figures are drawn. Returns the comparison folder."""
    small = ["population.enterprises=100", "replications=2"]
    reference = load_scenario(BASELINE, small)
    variants = [load_scenario(BASELINE.parent / "watch" / f"{name}.yaml", small) for name in MATRIX]
    return compare_reusing_plain_runs(reference, variants, out).folder


def compare_reusing_plain_runs(reference, variants: list, out: Path):
    """The comparison of ``variants`` against ``reference``, written in ``out``, each run made
    first without plots and reused by ``compare_scenarios`` (same hash), so only the
    comparison's own figures are drawn."""
    for scenario in [reference, *variants]:
        sim.run_scenario(scenario, workers=1, out=out, plots=False)
    return compare_scenarios(variants, reference=reference, workers=1, out=out)


@pytest.fixture(scope="module")
def comparison_folder(tmp_path_factory) -> Path:
    return build_comparison(tmp_path_factory.mktemp("compare"))


@pytest.fixture(scope="module")
def comparison_page(comparison_folder) -> Page:
    return Page((comparison_folder / "report.html").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def comparison(comparison_folder) -> tuple[dict, pd.DataFrame]:
    """The comparison's manifest and table."""
    return (json.loads((comparison_folder / "manifest.json").read_text()),
            pd.read_csv(comparison_folder / "comparison.csv"))


def test_every_comparison_folder_gets_a_report(comparison_folder, tmp_path):
    assert report.folder_kind(comparison_folder).name == "comparison"
    assert (comparison_folder / "report.html").is_file()
    assert not list(comparison_folder.glob(".report.html*"))
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(comparison_folder / "comparison.csv", partial)
    shutil.copy(comparison_folder / "manifest.json", partial)
    assert report.folder_kind(partial) is None  # no comparison.parquet


def test_comparison_report_embeds_every_figure_and_links_nothing(
    comparison_folder, comparison_page
):
    pngs = sorted((comparison_folder / "plots").glob("*.png"))
    assert comparison_folder / "plots" / "matrix.png" in pngs and len(pngs) >= 6
    assert_embeds_exactly(comparison_page, pngs)
    assert_links_nothing(comparison_page)
    captions = [" ".join(c.split()) for c in comparison_page.source.split("<figcaption>")[1:]]
    assert len(captions) == len(pngs) and all("Look " in caption for caption in captions)


def test_comparison_headline_says_what_each_scenario_assumes_and_changes(
    comparison, comparison_page
):
    manifest, table = comparison
    header = comparison_page.text("header")
    for info in manifest["scenarios"].values():
        assert " ".join(info["description"].split()) in header
    last = max(table.quarter)
    for name in MATRIX:
        row = table[(table.scenario == name) & (table.metric == "workload_share_open_any")
                    & (table.quarter == last)].iloc[0]
        assert (f"({row.difference * 100:+.1f} points, 90% CI {row.difference_low * 100:+.1f} to "
                f"{row.difference_high * 100:+.1f})") in header
    assert f"({last})" in header and "90% confidence interval" in header


def test_comparison_table_has_a_row_for_every_scenario(comparison, comparison_page):
    manifest, table = comparison
    reference = manifest["reference"]
    dates = sorted(table.quarter.unique())
    shown = []
    for rendered in comparison_page.tables["table"]:
        assert rendered[0] == ["Scenario", *dates]
        assert rendered[1] == ["", *["Level", "Change"] * len(dates)]
        shown.append({row[0]: row[1:] for row in rendered[2:]})
    expected = []
    for _, rows in table.groupby("metric", sort=False):
        cells = {}
        for name, scenario_rows in rows.groupby("scenario", sort=False):
            cells[name] = []
            for r in scenario_rows.sort_values("quarter").itertuples():
                cells[name] += [f"{r.mean * 100:.1f}% {r.p5 * 100:.1f}–{r.p95 * 100:.1f}",
                                "reference" if name == reference else
                                f"{r.difference * 100:+.1f} {r.difference_low * 100:+.1f} to "
                                f"{r.difference_high * 100:+.1f}"]
        expected.append(cells)
    assert len(shown) == len(expected) == table.metric.nunique()
    assert all(cells in shown for cells in expected)
    assert all(set(cells) == set(manifest["scenarios"]) for cells in shown)


def test_comparison_says_how_much_pairing_narrows_the_intervals(comparison, comparison_page):
    manifest, table = comparison
    others = table[table.scenario != manifest["reference"]]
    paired = others.difference_high - others.difference_low
    ratio = ((others.unpaired_high - others.unpaired_low) / paired)[paired > 0].median()
    text = comparison_page.text("table")
    if ratio >= PAIRING_PAYS:
        assert f"Pairing pays: the paired intervals are {ratio:.1f} times narrower" in text
    else:   # the 2x2's effects scale with the calibrated frontier sensitivity of each draw
        assert f"Pairing barely narrows the intervals here ({ratio:.1f} times" in text


def test_the_report_says_pairing_pays_only_when_it_narrows_the_intervals():
    assert _pairing_sentence(3.04).startswith("Pairing pays: the paired intervals are <b>3.0 ")
    assert _pairing_sentence(0.97).startswith("Pairing barely narrows the intervals here (<b>1.0")


def test_comparison_with_two_replications_says_signposts_need_more(comparison, comparison_page):
    manifest, _ = comparison
    search = manifest["signposts"]["search"]
    text = comparison_page.text("signposts")
    for name in MATRIX:
        assert search[name]["min_reliability"] is None and search[name]["replications"] == 2
        assert (f"{name}: no signpost: with 2 replications even a perfect split could be luck over "
                f"the {search[name]['indicators']:,} figures searched; at least "
                f"{search[name]['replications_needed']} replications would do") in text
    assert comparison_page.tables["signposts"] == []
    assert (comparison_page.headings["signposts"], comparison_page.contents[0]) == (
        "Signposts: what to watch, by when", ("#signposts", "Signposts: what to watch, by when"))


def test_matrix_caption_weighs_the_two_axes(comparison_folder, comparison_page):
    frame = pd.read_parquet(comparison_folder / "comparison.parquet")
    rows = frame[(frame.metric == "workload_share_open_any") & (frame.segment == "all")]
    open_share = rows[rows.quarter == rows.quarter.max()].groupby("scenario")["value"].mean()
    at = {(tooling, gap): open_share[f"tooling-{tooling}-gap-{gap}"]
          for tooling in ("fast", "stall") for gap in ("tracks", "reopens")}
    gap = sum(at[t, "tracks"] - at[t, "reopens"] for t in ("fast", "stall")) / 2
    tooling = sum(at["stall", g] - at["fast", g] for g in ("tracks", "reopens")) / 2
    text = comparison_page.text("matrix")
    assert (f"gap tracks rather than reopens moves the open share of workloads by "
            f"{gap * 100:+.1f} points") in text
    assert f"tooling stall rather than fast by {tooling * 100:+.1f} points" in text


def test_comparison_provenance_names_hashes_seed_and_run_folders(comparison, comparison_page):
    manifest, _ = comparison
    text = comparison_page.text("provenance")
    for value in (f"Seed{manifest['seed']}", f"Replications{manifest['replications']} per scenario",
                  manifest["versions"]["adoptsim"], manifest["created"], manifest["reference"]):
        assert value in text
    rows = comparison_page.rows("provenance")
    for name, info in manifest["scenarios"].items():
        assert rows[name][0] == info["scenario_hash"] and rows[name][2] == info["run_folder"]


def test_cli_rebuilds_the_same_comparison_report(comparison_folder, tmp_path, capsys):
    folder = copy_without_report(comparison_folder, tmp_path)
    assert main(["report", str(folder)]) == 0
    assert (folder / "report.html").read_text() == (comparison_folder / "report.html").read_text()


def test_comparison_text_is_escaped_and_a_bad_table_is_a_user_error(
    comparison_folder, tmp_path, capsys
):
    folder = copy_without_report(comparison_folder, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["scenarios"][MATRIX[0]]["description"] = "Gap <script>alert(1)</script> & more"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    text = report.build_report(folder).read_text()
    assert "<script>" not in text and "Gap &lt;script&gt;alert(1)&lt;/script&gt; &amp; more" in text

    (folder / "comparison.csv").write_text("scenario,metric\nx,y\n")
    assert main(["report", str(folder)]) == 2
    assert "not a comparison table" in capsys.readouterr().err


# --- what a report embeds and reads -------------------------------------------------------------

SECRET_PNG = PNG_SIGNATURE + b"SECRET BYTES FROM ELSEWHERE ON THE MACHINE"


def test_report_skips_a_plot_that_is_a_symlink_out_of_the_folder(run_folder, tmp_path):
    secret = tmp_path / "elsewhere" / "secret.png"
    secret.parent.mkdir()
    secret.write_bytes(SECRET_PNG)
    folder = copy_without_report(run_folder, tmp_path)
    (folder / "plots" / "signals.png").unlink()
    (folder / "plots" / "signals.png").symlink_to(secret)
    (folder / "plots" / "extra.png").symlink_to(secret)
    text = report.build_report(folder).read_text()
    assert base64.b64encode(SECRET_PNG).decode() not in text
    assert text.count("data:image/png;base64,") == len(list(run_folder.glob("plots/*.png"))) - 1


def test_report_skips_a_plots_folder_that_is_a_symlink(run_folder, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "workload_shares.png").write_bytes(SECRET_PNG)
    folder = copy_without_report(run_folder, tmp_path)
    shutil.rmtree(folder / "plots")
    (folder / "plots").symlink_to(elsewhere)
    text = report.build_report(folder).read_text()
    assert "data:image/png" not in text and "holds no plots" in text


@pytest.mark.parametrize("content, where", [
    ("[]", "not a manifest: it should hold a mapping, not a list"),
    ('"text"', "not a manifest: it should hold a mapping, not text"),
    ('{"resolved_scenario": []}', "resolved_scenario: should be a mapping, not a list"),
    ('{"versions": "1.0"}', "versions: should be a mapping, not text"),
    ('{"replication_seeds": [3]}', "replication_seeds.0: should be a mapping, not a number"),
    ('{"wall_seconds": "slow"}', "wall_seconds: should be a number, not text"),
    ('{"resolved_scenario": {"population": {"sectors": {"banking": true}}}}',
     "resolved_scenario.population.sectors.banking: should be a mapping, not true/false"),
    ("[" * 100_000, "cannot read the manifest (not JSON"),
    ("", "the file is empty"),
])
def test_manifest_of_the_wrong_shape_is_a_clear_error(run_folder, tmp_path, capsys, content, where):
    folder = copy_without_report(run_folder, tmp_path)
    (folder / "manifest.json").write_text(content)
    assert main(["report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"adoptsim: error: {folder / 'manifest.json'}: ") and where in err
    assert err.count("\n") == 1 and not (folder / "report.html").exists()


def test_binary_manifest_is_a_clear_error(run_folder, tmp_path, capsys):
    folder = copy_without_report(run_folder, tmp_path)
    (folder / "manifest.json").write_bytes(bytes(range(256)))
    assert main(["report", str(folder)]) == 2
    assert "manifest.json: a binary file, not text" in capsys.readouterr().err


def test_quarterly_table_without_its_columns_is_a_clear_error(run_folder, tmp_path, capsys):
    folder = copy_without_report(run_folder, tmp_path)
    pd.DataFrame({"x": [1]}).to_parquet(folder / "quarterly.parquet")
    assert main(["report", str(folder)]) == 2
    assert (
        f"{folder / 'quarterly.parquet'}: no column replication, quarter, metric, segment, value"
        in capsys.readouterr().err
    )


def test_sweep_file_of_the_wrong_shape_is_a_clear_error(sweep_folder, tmp_path, capsys):
    folder = tmp_path / "sweep"
    shutil.copytree(sweep_folder, folder)
    (folder / "sweep.yaml").write_text("name: tiny\nparameters: [a, b]\n")
    assert main(["report", str(folder)]) == 2
    assert (f"{folder / 'sweep.yaml'}: parameters: should be a mapping, not a list"
            in capsys.readouterr().err)


def test_alias_bomb_targets_file_is_refused(run_folder, tmp_path):
    targets = tmp_path / "targets.yaml"
    targets.write_text("a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{name}: &{name} [{', '.join(['*' + previous] * 9)}]\n"
        for previous, name in zip("abcdefgh", "bcdefghi")) + "targets: *i\n")
    folder = copy_without_report(run_folder, tmp_path)
    with pytest.raises(report.ReportError):
        report.build_report(folder, targets=targets)
