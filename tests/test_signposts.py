"""Signposts: which observable figure tells a scenario from the reference earliest, and how
reliably (sim.analysis.signposts), in a comparison's result, folder and report.

The threshold, reliability and chance are checked on hand-made frames with numbers worked out by
hand (and the chance against scipy's exact Kolmogorov-Smirnov test); the selection rules on a
hand-made comparison; the behaviour on the model with one small comparison (60 enterprises, 12
replications): a scenario in which every closed vendor raises its prices eightfold in 2027Q1, and
a twin of the reference.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE
from scipy import stats
from test_report import Page, compare_reusing_plain_runs

from sim.analysis.signposts import (
    COLUMNS,
    chance,
    find_signposts,
    indicator_table,
    replications_needed,
    separate,
)
from sim.core.metric_table import (
    METRIC_BY_NAME,
    METRICS,
    OBSERVABLE_METRICS,
    SHARE_FAMILIES,
    TOTAL_FAMILIES,
    MetricSpec,
    stack_metric,
)
from sim.core.quarters import parse_quarter
from sim.core.scenario import load_scenario
from sim.core.signal_table import SIGNALS
from sim.views.report.signposts import segment_name
from sim.views.terminal import signposts_display

CHANGE = "2027Q1"
SOARING = "prices-soar-2027"


# --- observability in the metric table ----------------------------------------------------------

def test_every_metric_says_whether_a_survey_could_measure_it():
    with pytest.raises(TypeError, match="observable"):
        MetricSpec("x", "X", "share", "workload", "a metric that forgot the flag")
    assert all(isinstance(spec.observable, bool) for spec in METRICS)
    assert tuple(spec.name for spec in METRICS if spec.observable) == OBSERVABLE_METRICS
    assert not any(METRIC_BY_NAME[spec.metric].observable for spec in SIGNALS)
    families = SHARE_FAMILIES + TOTAL_FAMILIES
    by_deployment = {spec.name for spec in METRICS if spec.family in families}
    stacks = {stack_metric(stack).name for stack in ("closed", "open", "hybrid")}
    assert by_deployment | stacks | {"plans_to_expand_open"} <= set(OBSERVABLE_METRICS)
    constructs = {"switches", "vendor_events", "workloads", "enterprises_using_ai",
                  "break_even_mtok_per_month_routine", "break_even_mtok_per_month_frontier"}
    assert constructs.isdisjoint(OBSERVABLE_METRICS)


def test_one_survey_question_per_family_and_one_for_the_stacks():
    questions = {spec.question for spec in METRICS if spec.observable}
    assert {"workload_share", "volume_share", "spend_share", "stack_share",
            "plans_to_expand_open"} <= questions
    assert METRIC_BY_NAME["workload_share_closed"].question == \
        METRIC_BY_NAME["workload_share_open_any"].question


# --- threshold, reliability and chance by hand ---------------------------------------------------

def tidy(cells: dict[tuple[str, str, str, str], list[float]]) -> pd.DataFrame:
    """A tidy frame from (scenario, metric, segment, quarter) -> replications 0..R-1's values."""
    return pd.DataFrame([
        {"scenario": scenario, "replication": r, "quarter": quarter, "metric": metric,
         "segment": segment, "value": float(value)}
        for (scenario, metric, segment, quarter), values in cells.items()
        for r, value in enumerate(values)])


def one_indicator(scenario: list[float], reference: list[float]) -> pd.Series:
    frame = tidy({("s", "workload_share_open_any", "all", "2026Q1"): scenario,
                  ("ref", "workload_share_open_any", "all", "2026Q1"): reference})
    table = indicator_table(frame, "ref", "s")
    assert len(table) == 1
    return table.iloc[0]


def test_reliability_threshold_and_direction_worked_by_hand():
    # pooled and sorted: 1r 2r 3s | 4r 5s 6s 7r 8s. Above 4.5: 3 of the scenario's 4 and below it
    # 3 of the reference's 4 (2.5 does as well; 4.5 is nearer the middle of the means, 4.5)
    row = one_indicator([3, 5, 6, 8], [1, 2, 4, 7])
    assert (row.direction, row.threshold, row.correct, row.reliability) == ("above", 4.5, 6, 0.75)
    assert (row.scenario_mean, row.reference_mean, row.replications) == (5.5, 3.5, 4)
    assert row.separation == pytest.approx(2 / np.sqrt((np.var([3, 5, 6, 8], ddof=1)
                                                        + np.var([1, 2, 4, 7], ddof=1)) / 2))
    row = one_indicator([1, 2, 4, 7], [3, 5, 6, 8])
    assert (row.direction, row.threshold, row.reliability) == ("below", 4.5, 0.75)


def test_ties_between_thresholds_and_identical_values():
    # 1r 2s 3r 4s: 1.5 and 3.5 both classify 3 of 4 right and lie equally far from the middle of
    # the means (2.5): the lower is taken
    row = one_indicator([2, 4], [1, 3])
    assert (row.direction, row.threshold, row.reliability) == ("above", 1.5, 0.75)
    row = one_indicator([0.2, 0.2, 0.3], [0.2, 0.2, 0.3])
    assert row.direction == "" and np.isnan(row.threshold) and row.reliability == 0.5
    assert not row.differs
    found = separate(np.array([[5.0, 5.0]]), np.array([[5.0, 5.0]]))
    assert (found.correct[0], found.direction[0]) == (2, 0)


def test_chance_is_the_exact_kolmogorov_smirnov_tail():
    # four against four, 6 of 8 right: D = 1/2; P(D >= 1/2) = 2 (C(8,2) - C(8,0)) / C(8,4)
    assert Fraction(chance(6, 4)).limit_denominator(1000) == Fraction(27, 35)
    assert chance(16, 8) == pytest.approx(2 / 12870, rel=1e-12)
    assert chance(4, 4) == 1.0 and chance(3, 4) == 1.0
    for count in (8, 12, 20):
        for correct in range(count + 1, 2 * count + 1):
            shift = correct - count
            exact = stats.ks_2samp(np.arange(count), np.arange(count) + shift,
                                   method="exact").pvalue
            assert chance(correct, count) == pytest.approx(exact, rel=1e-9)


# --- choosing the signposts --------------------------------------------------------------------

QUARTERS = ["2025Q4", "2026Q1", "2026Q2", "2026Q3", "2026Q4", "2027Q1", "2027Q2", "2027Q3",
            "2027Q4", "2028Q1", "2028Q2"]


def made_comparison(replications: int = 20) -> pd.DataFrame:
    """A hand-made comparison of "s" with "ref". Figures the scenario moves, from: open share of
    workloads 2027Q2 (up), closed share (the same survey question) 2027Q1 in the EU (down), hybrid
    share 2028Q1 (down), plans to expand 2025Q4 only (history), switches and a signal 2026Q1 (not
    observable); spend share: the scenario's values drawn apart from the reference's with no
    effect; every other figure as in the reference."""
    rng = np.random.default_rng(7)
    moves = {("workload_share_open_any", "all"): ("2027Q2", +1),
             ("workload_share_closed", "region=eu"): ("2027Q1", -1),
             ("stack_share_hybrid", "all"): ("2028Q1", -1),
             ("plans_to_expand_open", "all"): ("2025Q4", +1),
             ("switches", "all"): ("2026Q1", +1),
             ("signal_tooling_maturity", "all"): ("2026Q1", +1),
             ("spend_share_open", "size=large"): (None, 0)}
    cells = {}
    for (metric, segment), (start, sign) in moves.items():
        for quarter in QUARTERS:
            base = rng.normal(0.5, 0.01, replications)
            cells[("ref", metric, segment, quarter)] = base
            if start is None:
                cells[("s", metric, segment, quarter)] = rng.normal(0.5, 0.01, replications)
            elif quarter == start or (metric != "plans_to_expand_open" and quarter > start):
                cells[("s", metric, segment, quarter)] = base + sign * 0.1
            else:
                cells[("s", metric, segment, quarter)] = base
    return tidy(cells)


def test_signposts_are_observable_earliest_first_one_per_survey_question():
    frame = made_comparison()
    found = find_signposts(frame, "ref")
    table = found.table
    assert list(table.columns) == list(COLUMNS)
    assert list(zip(table["metric"], table["segment"], table["quarter"], table["direction"])) == [
        ("workload_share_closed", "region=eu", "2027Q1", "below"),
        ("stack_share_hybrid", "all", "2028Q1", "below")]
    assert list(table["rank"]) == [1, 2] and set(table["scenario"]) == {"s"}
    assert (table["reliability"] == 1.0).all() and (table["chance"] == chance(40, 20)).all()
    first = table.iloc[0]
    values = frame[(frame.metric == "workload_share_closed") & (frame.segment == "region=eu")
                   & (frame.quarter == "2027Q1")]
    ours, theirs = (values[values.scenario == name]["value"] for name in ("s", "ref"))
    assert first.threshold == pytest.approx((ours.max() + theirs.min()) / 2, rel=1e-12)
    assert (first.scenario_mean, first.reference_mean) == pytest.approx((ours.mean(),
                                                                         theirs.mean()))
    search = found.search["s"]
    # searched: the quarters after history whose values differ: the open share from 2027Q2 (5
    # quarters), the closed share in the EU from 2027Q1 (6), the hybrid share from 2028Q1 (2), and
    # the noisy spend share (10)
    assert search["indicators"] == 5 + 6 + 2 + 10 and search["min_reliability"] == 0.9
    assert found.until == "2028Q2"


def test_too_few_replications_give_no_signpost_and_say_how_many_would():
    found = find_signposts(made_comparison(replications=3), "ref")
    assert found.table.empty and list(found.table.columns) == list(COLUMNS)
    search = found.search["s"]
    assert search["min_reliability"] is None and search["replications"] == 3
    needed = search["replications_needed"]
    assert needed == replications_needed(0.9, search["max_chance"]) and needed > 3
    assert chance(2 * needed, needed) <= search["max_chance"] < chance(2 * (needed - 1),
                                                                       needed - 1)
    enough = find_signposts(made_comparison(replications=needed), "ref").table
    assert list(enough["metric"]) == ["workload_share_closed", "stack_share_hybrid"]


def test_the_terminal_prints_each_scenarios_first_signpost():
    text = signposts_display(find_signposts(made_comparison(), "ref").table)
    threshold = find_signposts(made_comparison(), "ref").table["threshold"].iloc[0]
    assert (f"  s: Workloads on closed APIs [region=eu] below {threshold:.1%} by 2027Q1 (right in "
            f"100% of paired runs)") in text
    assert "Hybrid" not in text and signposts_display(pd.DataFrame({"rank": []})) == ""


# --- on the model -------------------------------------------------------------------------------

def soaring_scenarios() -> list:
    """The reference (60 enterprises, 12 replications), a scenario in which every closed vendor
    raises its prices eightfold in 2027Q1 (a shock nobody plans for), and the reference's twin."""
    reference = load_scenario(BASELINE, ["population.enterprises=60", "replications=12"])
    events = [event.model_dump(mode="json", exclude_none=True)
              for event in reference.scheduled_events]
    events += [{"quarter": CHANGE, "vendor": vendor, "type": "price_change",
                "price_multiplier": 8.0} for vendor in reference.vendors]
    soaring = load_scenario(reference, [f"name={SOARING}", f"scheduled_events={json.dumps(events)}",
                                        "description=Every closed vendor raises its prices "
                                        "eightfold in 2027Q1."])
    return [reference, soaring, load_scenario(reference, ["name=twin"])]


def build_signpost_comparison(out: Path) -> Path:
    """The comparison folder of :func:`soaring_scenarios`."""
    return compare_soaring(out).folder


def compare_soaring(out: Path):
    reference, *others = soaring_scenarios()
    return compare_reusing_plain_runs(reference, others, out)


@pytest.fixture(scope="module")
def soaring(tmp_path_factory):
    """The comparison's result (its folder written)."""
    return compare_soaring(tmp_path_factory.mktemp("signposts"))


@pytest.fixture(scope="module")
def soaring_folder(soaring) -> Path:
    return soaring.folder


@pytest.fixture(scope="module")
def soaring_signposts(soaring_folder) -> pd.DataFrame:
    return pd.read_csv(soaring_folder / "signposts.csv")


def test_a_change_in_2027_has_signposts_from_2027_and_none_before(soaring_folder,
                                                                 soaring_signposts):
    frame = pd.read_parquet(soaring_folder / "comparison.parquet")
    table = indicator_table(frame, "baseline", SOARING)
    before = table["quarter"].map(parse_quarter) < parse_quarter(CHANGE)
    assert before.any() and not table.loc[before, "differs"].any()
    assert (table.loc[before, "reliability"] == 0.5).all()
    mine = soaring_signposts[soaring_signposts["scenario"] == SOARING]
    assert len(mine) >= 1 and list(mine["rank"]) == list(range(1, len(mine) + 1))
    assert (mine["quarter"].map(parse_quarter) >= parse_quarter(CHANGE)).all()
    assert mine["quarter"].iloc[0] == CHANGE and (mine["reliability"] >= 0.9).all()
    assert set(mine["metric"]) <= set(OBSERVABLE_METRICS)
    keys = list(zip(mine["quarter"].map(parse_quarter), -mine["reliability"]))
    assert keys == sorted(keys)


def test_a_twin_of_the_reference_has_no_signpost(soaring_folder, soaring_signposts):
    assert "twin" not in set(soaring_signposts["scenario"])
    manifest = json.loads((soaring_folder / "manifest.json").read_text())
    assert manifest["signposts"]["search"]["twin"]["indicators"] == 0
    assert manifest["signposts"]["level"] == 0.9


def test_the_result_carries_the_table_the_folder_holds(soaring, soaring_signposts):
    pd.testing.assert_frame_equal(soaring.signposts.table.reset_index(drop=True),
                                  soaring_signposts, check_dtype=False, rtol=1e-5)
    manifest = json.loads((soaring.folder / "manifest.json").read_text())
    assert manifest["signposts"] == json.loads(json.dumps(soaring.signposts.record()))
    assert set(soaring.signposts.search) == {SOARING, "twin"}


def test_the_report_says_what_to_watch_and_shows_the_table(soaring_folder, soaring_signposts):
    page = Page((soaring_folder / "report.html").read_text(encoding="utf-8"))
    assert page.headings["signposts"] == "Signposts: what to watch, by when"
    text = page.text("signposts")
    first = soaring_signposts.iloc[0]
    assert f"by the first quarter of 2027 ({CHANGE}), this future is unfolding" in text
    assert f"{first.direction} " in text and "right in 100% of the paired runs" in text
    assert "twin: no signpost: every figure a survey could measure is the same as in the " \
           "reference, run by run" in text
    [rendered] = page.tables["signposts"]    # one table: the twin has none
    assert rendered[0] == ["Watch", "By", "Threshold", "Scenario's mean", "baseline's mean",
                           "Reliability", "By luck"]
    rows = rendered[1:]
    assert len(rows) == len(soaring_signposts)
    for shown, row in zip(rows, soaring_signposts.itertuples()):
        label, segment = METRIC_BY_NAME[row.metric].label, segment_name(row.segment)
        assert shown[0] == f"{label} {segment}" and shown[1] == row.quarter
        assert shown[2].startswith(f"{row.direction} ") and shown[5] == "100%"
