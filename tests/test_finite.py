"""No number that is not finite reaches the model or a file (issue 25, item 2).

The fault-injection probe's commands, as tests: each schema-valid-looking input that used to run
to NaN, inf or a silent clamp now ends in exit code 2 naming its key, and writes nothing; noise
within its caps runs and stays within the signal's range. Then the bounds behind them (the
signal table's finite ranges, the schema's caps on settings that feed an exponential or a
power, the fold of a vendor's relative price), and the guard: a run that still meets an
infinite value, or no value where its metric must have one, stops with exit code 1 naming the
metric, segment and quarter.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, baseline

from sim.cli import main
from sim.core.metric_table import METRICS, SHARE_FAMILIES
from sim.core.metrics import METRIC_CELLS, METRIC_INDEX, SEGMENTS, non_finite_value
from sim.core.model import AdoptionModel
from sim.core.paths import deterministic_path
from sim.core.population import ai_use_curve
from sim.core.quarters import parse_quarter, quarter_range
from sim.core.scenario import ScenarioError
from sim.core.schema import MAX_PRICE_MOVE, Signal
from sim.core.signal_table import SIGNALS
from sim.core.vendors import VendorMarket, relative_price

RUN = ["run", str(BASELINE), "--replications", "2", "--workers", "1", "--no-plots",
       "--set", "population.enterprises=300"]


def files_under(folder) -> list:
    return [path for path in folder.rglob("*") if path.is_file()] if folder.exists() else []


# --- the probe's commands ----------------------------------------------------------------------

PROBES = {
    # item 5: an exponential trend or extension at a rate of -1 or below
    "signals.fixed_capability_price_usd_per_mtok.extend.annual_rate=-1.5":
        "signals.fixed_capability_price_usd_per_mtok.extend.annual_rate",
    "signals.frontier_price_usd_per_mtok.extend.annual_rate=-2":
        "signals.frontier_price_usd_per_mtok.extend.annual_rate",
    # item 6: multiplicative noise of sd 1000 (wrote inf to quarterly.parquet)
    "signals.frontier_price_usd_per_mtok.noise={sd: 1000, persistence: 0.5, form: multiplicative}":
        "signals.frontier_price_usd_per_mtok.noise.sd",
    "signals.benchmark_gap.noise={sd: 1000, persistence: 0.5}": "signals.benchmark_gap.noise.sd",
    # item 7: volumes that overflow (utilities NaN, choices fell to closed)
    "population.workload_classes.coding_agents.volume_log_sd=1e12":
        "population.workload_classes.coding_agents.volume_log_sd",
    "population.workload_classes.coding_agents.demand_elasticity=5":
        "population.workload_classes.coding_agents.demand_elasticity",
    "signals.token_demand_index.points={2024Q1: 1e11}": "signals.token_demand_index.points.2024Q1",
    # item 8: values outside a signal's range (were clamped by the model)
    "signals.regulatory_pressure.eu.points={2024Q1: 5.0}":
        "signals.regulatory_pressure.eu.points.2024Q1",
    "signals.task_parity.points={2024Q1: -0.5}": "signals.task_parity.points.2024Q1",
    "signals.task_parity.points={2024Q1: 3}": "signals.task_parity.points.2024Q1",
    "signals.tooling_maturity.logistic.lower=-2": "signals.tooling_maturity.logistic.lower",
    "signals.tooling_maturity.logistic.upper=7": "signals.tooling_maturity.logistic.upper",
    "signals.frontier_price_usd_per_mtok.points={2024Q1: -0.5}":
        "signals.frontier_price_usd_per_mtok.points.2024Q1",
    "signals.serving_efficiency_index={trend: {start: 2024Q1, start_value: -1, annual_rate: 0.3},"
    " points: null, extend: null}": "signals.serving_efficiency_index.trend.start_value",
    "signals.benchmark_gap.points={2024Q1: -50}": "signals.benchmark_gap.points.2024Q1",
}


@pytest.mark.parametrize("setting", PROBES)
def test_a_probe_exits_2_naming_its_key_and_writes_nothing(setting, tmp_path, capsys):
    out = tmp_path / "out"
    assert main([*RUN, "--set", setting, "--out", str(out)]) == 2
    message = capsys.readouterr().err
    assert message.startswith(f"adoptsim: error: --set {setting}: {PROBES[setting]}: "), message
    assert message.count("\n") == 1 and "Traceback" not in message
    assert not out.exists()


def test_noise_within_its_caps_runs_and_stays_within_each_range(tmp_path):
    """Item 6's probe at the caps: the widest noise allowed runs, and the file holds finite
    values only, every signal within its range."""
    out = tmp_path / "out"
    noise = ["signals.frontier_price_usd_per_mtok.noise={sd: 3, persistence: 0.5, "
             "form: multiplicative}",
             "signals.token_demand_index.noise={sd: 3, form: multiplicative}",
             "signals.benchmark_gap.noise={sd: 100, persistence: 0.5}",
             "signals.regulatory_pressure.eu.noise={sd: 1, persistence: 0.2}"]
    assert main([*RUN, *(part for setting in noise for part in ("--set", setting)),
                 "--out", str(out)]) == 0
    [table] = [path for path in files_under(out) if path.name == "quarterly.parquet"]
    frame = pd.read_parquet(table)
    assert np.isfinite(frame["value"]).all()
    for spec in SIGNALS:
        values = frame.loc[frame["metric"] == spec.metric, "value"]
        assert values.size and values.between(spec.low, spec.high).all(), spec.name


# --- the bounds ----------------------------------------------------------------------------------

def test_every_signal_has_a_finite_range_and_a_positive_signal_a_positive_floor():
    for spec in SIGNALS:
        assert math.isfinite(spec.low) and math.isfinite(spec.high) and spec.low < spec.high
        assert spec.low > 0 if spec.positive else spec.low == 0, spec.name


@pytest.mark.parametrize("key, allowed, refused", [
    ("population.workload_classes.coding_agents.volume_log_sd", 4, 4.01),
    ("population.workload_classes.coding_agents.demand_elasticity", 4, 4.01),
    ("population.sizes.large.initial_workloads", 1000, 1000.5),
    ("population.sizes.large.new_workloads_per_year", 1000, 1000.5),
    ("population.sizes.small.volume_multiplier", 1e-6, 9e-7),
    ("population.workload_classes.exploratory.volume_mtok_median", 1e-6, 0),
    ("population.risk_aversion_mean", 1e-6, 1e-7),
    ("population.risk_aversion_mean", 1 - 1e-6, 1 - 1e-7),
    ("economics.small_model.throughput_mtok_per_gpu_hour", 1e-6, 1e-300),
    ("economics.utilisation_floor", 1e-6, 0),
    ("vendor_events.price_change.multiplier_low", 0.01, 0.009),
    ("vendor_events.price_change.multiplier_high", 100, 101),
])
def test_a_bound_allows_its_end_and_refuses_beyond_naming_the_key(key, allowed, refused):
    extra = (["vendor_events.price_change.multiplier_high=100"]
             if key.endswith("multiplier_low") else
             ["vendor_events.price_change.multiplier_low=0.5"])
    baseline(f"{key}={allowed}", *extra)
    with pytest.raises(ScenarioError) as error:
        baseline(f"{key}={refused}", *extra)
    assert error.value.key_path == key


def test_a_scheduled_price_move_is_bounded_too():
    event = "{quarter: 2026Q3, vendor: vendor_a, type: price_change, price_multiplier: %s}"
    baseline(f"scheduled_events=[{event % 100}]")
    with pytest.raises(ScenarioError) as error:
        baseline(f"scheduled_events=[{event % 1000}]")
    assert error.value.key_path == "scheduled_events.0.price_multiplier"


def test_a_vendors_relative_price_folds_back_at_its_bounds():
    assert relative_price(1.0) == 1.0 and relative_price(MAX_PRICE_MOVE) == MAX_PRICE_MOVE
    assert relative_price(2 * MAX_PRICE_MOVE) == pytest.approx(MAX_PRICE_MOVE / 2)
    assert relative_price(1 / (4 * MAX_PRICE_MOVE)) == pytest.approx(4 / MAX_PRICE_MOVE)


def test_price_moves_every_quarter_leave_prices_finite_and_within_bounds():
    """A hundredfold rise every quarter for 20 years: the vendor's price relative to the
    market's stays within the bounds, moving back and forth (folded, not stuck at a bound)."""
    events = ", ".join(
        f"{{quarter: {quarter}, vendor: vendor_a, type: price_change, price_multiplier: 100}}"
        for quarter in quarter_range("2024Q1", "2043Q4"))
    scenario = baseline("horizon.end=2043Q4", f"scheduled_events=[{events}]")
    market = VendorMarket(scenario, np.zeros(10, dtype=np.int64), np.zeros(10, dtype=np.int64),
                          np.random.default_rng(0))
    seen = []
    for quarter in range(scenario.horizon.quarter_count):
        market.step(quarter, draw_random=False)
        seen.append(market.price_multiplier[0])
    assert np.all((np.array(seen) >= 1 / MAX_PRICE_MOVE) & (np.array(seen) <= MAX_PRICE_MOVE))
    assert len(set(np.round(seen, 6))) > 1


def test_ai_use_stays_finite_when_the_midpoint_lies_long_before_the_start():
    """The entry curve's logistic rounds to 1 at the start (it gave 0/0 before): the band
    approaches its ceiling at the curve's steepness instead."""
    scenario = baseline("population.sizes.small.ai_use_midpoint=1900Q1")
    curve = ai_use_curve(scenario, "small")
    band = scenario.population.sizes["small"]
    assert np.all(np.isfinite(curve)) and np.all(np.diff(curve) >= 0)
    assert curve[0] == pytest.approx(band.ai_use_at_start)
    assert curve[4] == pytest.approx(band.ai_use_at_start + (band.ai_use_ceiling
                                                             - band.ai_use_at_start)
                                     * (1 - math.exp(-band.ai_use_steepness)))


def test_a_logistic_or_points_path_at_a_bound_does_not_round_past_it():
    """A curve that reaches the range's floor, and an interpolation between far-apart values,
    stay within the values they join (rounding used to take them an ulp past)."""
    quarters = np.arange(parse_quarter("2020Q1"), parse_quarter("2040Q4"), dtype=float)
    curve = Signal(logistic={"lower": 2.0, "upper": 0.001, "midpoint": "2023Q1",
                             "steepness": 21.0})
    assert deterministic_path(curve, quarters).min() >= 0.001
    points = Signal(points={"2024Q1": 1e-12, "2024Q3": 1e4, "2025Q3": 3e-12})
    path = deterministic_path(points, quarters)
    assert path.min() >= 1e-12 and path.max() <= 1e4


# --- the guard ---------------------------------------------------------------------------------

def test_the_metric_table_says_which_metrics_may_be_missing():
    may_be_missing = {spec.name for spec in METRICS if spec.may_be_missing}
    for spec in METRICS:
        measured = (spec.family in SHARE_FAMILIES or spec.stack is not None
                    or spec.name.startswith(("price_paid", "break_even", "plans_to_expand")))
        assert (spec.name in may_be_missing) == measured, spec.name


def _values(quarters: int = 4) -> np.ndarray:
    """Values as a replication holds them: 1 in every cell a metric has, NaN elsewhere."""
    return np.where(METRIC_CELLS, 1.0, np.nan)[None].repeat(quarters, axis=0)


def test_non_finite_value_names_the_metric_segment_and_quarter():
    quarters = quarter_range("2024Q1", "2024Q4")
    values = _values()
    assert non_finite_value(values, quarters) is None
    values[:, METRIC_INDEX["workload_share_open"], SEGMENTS.index("size=small")] = np.nan
    values[:, METRIC_INDEX["break_even_mtok_per_month_routine"], 0] = np.nan
    assert non_finite_value(values, quarters) is None   # nothing to measure: allowed
    values[2, METRIC_INDEX["spend_usd_closed"], SEGMENTS.index("region=eu")] = -np.inf
    assert non_finite_value(values, quarters) == (
        "spend_usd_closed, segment region=eu, quarter 2024Q3 is -inf")
    values[1, METRIC_INDEX["workloads"], 0] = np.nan
    assert non_finite_value(values, quarters) == (
        "workloads, segment all, quarter 2024Q2 is missing (NaN)")


@pytest.mark.parametrize("value, shown", [(np.inf, "is inf"), (np.nan, "is missing (NaN)")])
def test_a_run_meeting_a_non_finite_value_exits_1_naming_it_and_writes_nothing(
        value, shown, tmp_path, capsys, monkeypatch):
    """The schema leaves no way to it, so the model is made to produce one."""
    run = AdoptionModel.run

    def broken(self, quarter_count=None):
        values = run(self, quarter_count)
        values[3, METRIC_INDEX["tokens_mtok_open"], SEGMENTS.index("class=coding_agents")] = value
        return values

    monkeypatch.setattr(AdoptionModel, "run", broken)
    out = tmp_path / "out"
    assert main([*RUN[:-1], "population.enterprises=50", "--out", str(out)]) == 1
    message = capsys.readouterr().err
    assert message.startswith("adoptsim: internal error: "), message
    assert f"tokens_mtok_open, segment class=coding_agents, quarter 2024Q4 {shown}" in message
    assert "Traceback" not in message
    assert files_under(out) == []
