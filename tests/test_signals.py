"""Tests for sim.core.signals: deterministic path forms, extension, and seeded, aligned noise,
folded back into each signal's range."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import BASELINE, baseline

from sim.cli import main
from sim.core.economics import adopted_price_path
from sim.core.paths import deterministic_path, fold, with_noise
from sim.core.quarters import parse_quarter, quarter_range
from sim.core.scenario import ScenarioError
from sim.core.schema import Signal
from sim.core.signal_table import SIGNAL_BY_NAME, SIGNALS
from sim.core.signals import signal_paths


def at(*quarters: str) -> np.ndarray:
    return np.array([parse_quarter(q) for q in quarters], dtype=float)


def span(start: str, end: str) -> np.ndarray:
    return at(*quarter_range(start, end))


def paths(overrides=(), seed: int = 7):
    return signal_paths(baseline(*overrides), np.random.default_rng(seed))


# --- deterministic forms -----------------------------------------------------------------------

def test_points_interpolate_linearly_between_points():
    signal = Signal(points={"2025Q1": 4.0, "2024Q1": 0.0, "2026Q1": 2.0})  # order does not matter
    values = deterministic_path(signal, span("2024Q1", "2026Q1"))
    np.testing.assert_allclose(values, [0, 1, 2, 3, 4, 3.5, 3, 2.5, 2])


def test_points_flat_before_first_and_after_last():
    signal = Signal(points={"2025Q1": 4.0, "2026Q1": 2.0})
    values = deterministic_path(
        signal, at("2023Q1", "2024Q4", "2025Q1", "2026Q1", "2027Q3", "2030Q4")
    )
    np.testing.assert_allclose(values, [4, 4, 4, 2, 2, 2])


def test_single_point_is_constant():
    values = deterministic_path(Signal(points={"2025Q2": 0.875}), span("2024Q1", "2030Q4"))
    np.testing.assert_allclose(values, 0.875)


def test_extend_exponential_continues_after_last_point():
    signal = Signal(points={"2024Q1": 1.0, "2025Q1": 2.0}, extend={"annual_rate": 0.5})
    values = deterministic_path(
        signal, at("2023Q1", "2024Q3", "2025Q1", "2025Q3", "2026Q1", "2027Q1")
    )
    np.testing.assert_allclose(values, [1.0, 1.5, 2.0, 2.0 * 1.5 ** 0.5, 3.0, 4.5])


def test_extend_linear_continues_after_last_point():
    signal = Signal(points={"2024Q1": 1.0, "2025Q1": 2.0},
                    extend={"annual_rate": -0.4, "form": "linear"})
    values = deterministic_path(
        signal, at("2023Q1", "2024Q3", "2025Q1", "2025Q3", "2026Q1", "2027Q1")
    )
    np.testing.assert_allclose(values, [1.0, 1.5, 2.0, 1.8, 1.6, 1.2])


def test_exponential_trend_counts_years_from_its_start():
    signal = Signal(trend={"start": "2025Q1", "start_value": 2.0, "annual_rate": -0.5})
    values = deterministic_path(signal, at("2024Q1", "2025Q1", "2025Q3", "2026Q1", "2027Q1"))
    np.testing.assert_allclose(values, [4.0, 2.0, 2.0 * 0.5 ** 0.5, 1.0, 0.5])


def test_linear_trend_counts_years_from_its_start():
    signal = Signal(trend={"start": "2025Q1", "start_value": 1.0, "annual_rate": 0.2,
                           "form": "linear"})
    values = deterministic_path(signal, at("2024Q1", "2025Q1", "2025Q2", "2027Q1"))
    np.testing.assert_allclose(values, [0.8, 1.0, 1.05, 1.4])


def test_logistic_midpoint_and_asymptotes():
    signal = Signal(logistic={"lower": 0.1, "upper": 0.9, "midpoint": "2026Q2", "steepness": 0.8})
    values = deterministic_path(signal, span("2010Q1", "2045Q4"))
    quarters = span("2010Q1", "2045Q4")
    middle = values[quarters == parse_quarter("2026Q2")][0]
    assert middle == pytest.approx(0.5)
    assert np.all(np.diff(values) > 0)
    assert values[0] == pytest.approx(0.1, abs=1e-4) and values[-1] == pytest.approx(0.9, abs=1e-4)
    # symmetric around the midpoint
    before = deterministic_path(signal, at("2025Q2"))[0]
    after = deterministic_path(signal, at("2027Q2"))[0]
    assert before + after == pytest.approx(0.1 + 0.9)
    assert after == pytest.approx(0.1 + 0.8 / (1 + np.exp(-0.8)))


def test_decreasing_logistic():
    signal = Signal(logistic={"lower": 5.0, "upper": 1.0, "midpoint": "2025Q1", "steepness": 2.0})
    values = deterministic_path(signal, span("2020Q1", "2030Q4"))
    assert np.all(np.diff(values) < 0)
    assert deterministic_path(signal, at("2025Q1"))[0] == pytest.approx(3.0)


# --- signal_paths over a scenario ----------------------------------------------------------------

def test_signal_paths_follow_the_scenario_without_noise():
    scenario = baseline()
    result = signal_paths(scenario, np.random.default_rng(0))
    quarters = scenario.quarters
    assert result.benchmark_gap.shape == (len(quarters),)
    assert result.regulatory_pressure.shape == (len(quarters), 3)
    assert result.benchmark_gap[0] == pytest.approx(17.5)
    assert result.benchmark_gap[quarters.index("2025Q4")] == pytest.approx(0.9)
    assert result.benchmark_gap[-1] == pytest.approx(0.9)
    prices = scenario.signals.frontier_price_usd_per_mtok
    end_2025 = prices.points["2025Q4"]
    first = prices.points["2024Q1"]
    frontier = result.frontier_price_usd_per_mtok
    assert frontier[quarters.index("2024Q1")] == pytest.approx(first)
    assert frontier[quarters.index("2025Q4")] == pytest.approx(end_2025)
    assert frontier[quarters.index("2026Q4")] == pytest.approx(
        end_2025 * (1.0 + prices.extend.annual_rate))
    assert result.regulatory_pressure[quarters.index("2027Q4"), 0] == pytest.approx(0.80)
    assert result.regulatory_pressure[-1, 1] == pytest.approx(0.30)
    one = result.at(quarters.index("2025Q4"))
    assert one.benchmark_gap == pytest.approx(0.9)
    assert one.regulatory_pressure.shape == (3,)


def test_noise_is_seeded():
    overrides = ["signals.benchmark_gap.noise={sd: 2.0}",
                 "signals.frontier_price_usd_per_mtok.noise={sd: 0.2, form: multiplicative}"]
    first, again, other = (
        paths(overrides, seed=3),
        paths(overrides, seed=3),
        paths(overrides, seed=4),
    )
    np.testing.assert_array_equal(first.benchmark_gap, again.benchmark_gap)
    np.testing.assert_array_equal(first.frontier_price_usd_per_mtok,
                                  again.frontier_price_usd_per_mtok)
    assert not np.allclose(first.benchmark_gap, other.benchmark_gap)
    clean = paths()
    assert not np.allclose(first.benchmark_gap, clean.benchmark_gap)
    assert not np.allclose(first.frontier_price_usd_per_mtok, clean.frontier_price_usd_per_mtok)


def test_multiplicative_noise_scales_the_path():
    noisy = paths(["signals.frontier_price_usd_per_mtok.noise={sd: 0.3, form: multiplicative}"])
    clean = paths()
    ratio = noisy.frontier_price_usd_per_mtok / clean.frontier_price_usd_per_mtok
    assert np.all(ratio > 0)
    assert np.std(np.log(ratio)) > 0.05


def test_noise_stays_within_bounds_without_mass_piled_at_the_bound():
    """Additive noise far wider than the range is folded back into it: every value inside, and
    no share of them held at a bound (as a clamp would pile them there)."""
    overrides = ["signals.tooling_maturity.noise={sd: 1.0, persistence: 0.0}",
                 "signals.benchmark_gap.noise={sd: 100.0, persistence: 0.0}",
                 "signals.regulatory_pressure.eu.noise={sd: 1.0, persistence: 0.0}"]
    values = {"tooling_maturity": [], "benchmark_gap": [], "regulatory_pressure": []}
    for seed in range(20):
        result = paths(overrides, seed=seed)
        values["tooling_maturity"].append(result.tooling_maturity)
        values["benchmark_gap"].append(result.benchmark_gap)
        values["regulatory_pressure"].append(result.regulatory_pressure[:, 0])
    for name, found in values.items():
        found = np.concatenate(found)
        spec = SIGNAL_BY_NAME[name]
        assert found.min() >= spec.low and found.max() <= spec.high, name
        assert not np.any((found == spec.low) | (found == spec.high)), name
        # folded noise this wide spreads over the whole range: both ends are reached
        assert found.min() < spec.low + 0.1 * spec.width, name
        assert found.max() > spec.high - 0.1 * spec.width, name


def test_multiplicative_noise_keeps_a_positive_signal_positive_and_within_its_range():
    overrides = [f"signals.{name}.noise={{sd: 3.0, persistence: 0.5, form: multiplicative}}"
                 for name in ("frontier_price_usd_per_mtok", "token_demand_index",
                              "tooling_maturity")]
    for seed in range(20):
        result = paths(overrides, seed=seed)
        for name in ("frontier_price_usd_per_mtok", "token_demand_index", "tooling_maturity"):
            spec, path = SIGNAL_BY_NAME[name], getattr(result, name)
            assert np.all(np.isfinite(path)) and np.all(path > 0), name
            assert np.all((path >= spec.low) & (path <= spec.high)), name
            assert not np.any(path == spec.high), name


def test_the_fold_reflects_at_the_bounds_and_keeps_values_inside_unchanged():
    inside = np.array([0.0, 0.25, 1.0])
    np.testing.assert_array_equal(fold(inside, 0.0, 1.0), inside)
    np.testing.assert_allclose(fold(np.array([1.25, -0.25, 2.5, -3.75, 1e300]), 0.0, 1.0),
                               [0.75, 0.25, 0.5, 0.25, fold(np.array([1e300]), 0.0, 1.0)[0]])
    assert 0.0 <= fold(np.array([1e300]), 0.0, 1.0)[0] <= 1.0
    # only the upper bound reflects when the lower is -inf (log scale of a range from 0)
    np.testing.assert_allclose(fold(np.array([-50.0, 0.5, 3.0]), -np.inf, 1.0), [-50.0, 0.5, -1.0])


def test_noise_is_folded_not_clamped():
    """A noisy value past a bound lands as far inside it as it overshot (unlike a clamp)."""
    spec = SIGNAL_BY_NAME["tooling_maturity"]
    signal = Signal(points={"2024Q1": 0.9}, noise={"sd": 0.5, "persistence": 0.0})
    rng, again = np.random.default_rng(3), np.random.default_rng(3)
    noisy = with_noise(np.full(40, 0.9), signal, rng, spec)
    unfolded = 0.9 + 0.5 * again.standard_normal(40)
    over, inside, twice = unfolded > 1.0, (unfolded >= 0) & (unfolded <= 1), unfolded > 2.0
    assert (over & ~twice).any() and twice.any()
    np.testing.assert_allclose(noisy[over & ~twice], 2.0 - unfolded[over & ~twice])
    np.testing.assert_allclose(noisy[twice], unfolded[twice] - 2.0)   # back at 0, then up
    np.testing.assert_array_equal(noisy[inside], unfolded[inside])


def test_noise_sd_is_capped_naming_the_key_and_the_range():
    with pytest.raises(ScenarioError) as error:
        baseline("signals.benchmark_gap.noise={sd: 100.5}")
    assert error.value.key_path == "signals.benchmark_gap.noise.sd"
    assert "0..100" in str(error.value)
    with pytest.raises(ScenarioError) as error:
        baseline("signals.frontier_price_usd_per_mtok.noise={sd: 3.5, form: multiplicative}")
    assert error.value.key_path == "signals.frontier_price_usd_per_mtok.noise.sd"
    assert "0..3" in str(error.value)
    baseline("signals.benchmark_gap.noise={sd: 100}",   # the caps themselves are allowed
             "signals.frontier_price_usd_per_mtok.noise={sd: 3, form: multiplicative}")


def test_noise_in_a_revision_is_refused():
    """Noise is the whole signal's: in a revision's path it would be ignored."""
    with pytest.raises(ScenarioError) as error:
        baseline("signals.tooling_maturity.after={quarter: 2027Q1, "
                 "path: {points: {2028Q1: 0.5}, noise: {sd: 0.1}}}")
    assert error.value.key_path == "signals.tooling_maturity.after.path.noise"


def test_zero_sd_noise_leaves_the_path_unchanged():
    clean = paths(seed=11)
    zero = paths(["signals.benchmark_gap.noise={sd: 0.0}",
                  "signals.tooling_maturity.noise={sd: 0.0, form: multiplicative}"], seed=11)
    for name in (spec.name for spec in SIGNALS):
        np.testing.assert_array_equal(getattr(zero, name), getattr(clean, name), err_msg=name)


def test_noise_on_one_signal_leaves_the_others_in_place():
    """Each signal consumes the same draws with or without noise: switching noise on for
    benchmark_gap (evaluated first) must not shift the noise of later signals."""
    shared = ["signals.tooling_maturity.noise={sd: 0.1}",
              "signals.frontier_price_usd_per_mtok.noise={sd: 0.1, form: multiplicative}",
              "signals.regulatory_pressure.apac.noise={sd: 0.05}"]
    without = paths(shared, seed=5)
    with_noise = paths(shared + ["signals.benchmark_gap.noise={sd: 2.0}"], seed=5)
    assert not np.array_equal(with_noise.benchmark_gap, without.benchmark_gap)
    for name in (spec.name for spec in SIGNALS):
        if name != "benchmark_gap":
            np.testing.assert_array_equal(getattr(with_noise, name), getattr(without, name),
                                          err_msg=name)
    # and the later signals really are noisy (so the comparison above means something)
    assert not np.allclose(without.tooling_maturity, paths(seed=5).tooling_maturity)


# --- ranges: a path outside its signal's range is an error, never clamped ----------------------

def _outside(spec) -> float:
    """A value just outside ``spec``'s range."""
    return spec.high + 1.0 if math.isfinite(spec.high) else spec.low - 1.0


def _points_yaml(spec, points: str) -> str:
    """A scenario fragment replacing ``spec``'s path (its EU path, for a regional signal) by
    dated points, on line 5 (6 for a regional signal) of a file that starts with two lines."""
    indent = "      " if spec.regional else "    "
    lines = [f"points: {points}", "trend: null", "logistic: null", "extend: null", "after: null"]
    return (f"signals:\n  {spec.name}:\n" + ("    eu:\n" if spec.regional else "")
            + "".join(f"{indent}{line}\n" for line in lines))


@pytest.mark.parametrize("spec", SIGNALS, ids=lambda spec: spec.name)
def test_a_point_outside_the_range_exits_2_naming_file_line_key_and_range(spec, tmp_path,
                                                                          capsys):
    path = tmp_path / "bad.yaml"
    path.write_text(f"extends: {BASELINE.as_posix()}\nname: bad\n"
                    + _points_yaml(spec, f"{{2025Q1: {_outside(spec)}}}"))
    out = tmp_path / "out"
    assert main(["run", str(path), "--out", str(out), "--no-plots"]) == 2
    message = capsys.readouterr().err
    key = f"signals.{spec.name}" + (".eu" if spec.regional else "") + ".points.2025Q1"
    line = 6 if spec.regional else 5
    assert message.startswith(f"adoptsim: error: {path}:{line}: {key}: "), message
    assert spec.range_text in message and "Traceback" not in message
    assert not out.exists()


@pytest.mark.parametrize("spec", SIGNALS, ids=lambda spec: spec.name)
def test_a_trend_that_leaves_the_range_names_its_rate_and_quarter(spec):
    """A linear trend that starts inside the range and crosses a bound within the horizon."""
    start = spec.high if math.isfinite(spec.high) else spec.low + 1.0
    rate = 1.0 if math.isfinite(spec.high) else -8.0
    key = f"signals.{spec.name}" + (".eu" if spec.regional else "")
    with pytest.raises(ScenarioError) as error:
        baseline(f"{key}={{trend: {{start: 2024Q1, start_value: {start}, annual_rate: {rate}, "
                 f"form: linear}}}}")
    assert error.value.key_path == f"{key}.trend.annual_rate"
    assert "2024Q2" in str(error.value) and spec.range_text in str(error.value)


def test_a_revision_outside_the_range_names_the_revised_point():
    with pytest.raises(ScenarioError) as error:
        baseline("signals.tooling_maturity.after={quarter: 2027Q1, path: {points: {2028Q1: 1.5}}}")
    assert error.value.key_path == "signals.tooling_maturity.after.path.points.2028Q1"


def test_an_exponential_rate_of_minus_one_or_below_is_refused():
    for key in ("signals.fixed_capability_price_usd_per_mtok.extend.annual_rate",
                "signals.frontier_price_usd_per_mtok.extend.annual_rate"):
        with pytest.raises(ScenarioError) as error:
            baseline(f"{key}=-1.5")
        assert error.value.key_path == key and "above -1" in str(error.value)


def test_a_signal_is_formatted_with_its_decimals_unless_they_would_show_a_price_as_zero():
    price = SIGNAL_BY_NAME["fixed_capability_price_usd_per_mtok"]
    assert price.digits == 2
    assert price.formatted(5.7) == "5.70"
    assert price.formatted(0.031) == "0.03"
    assert price.formatted(0.00097) == "0.00097"
    assert price.formatted(0.0) == "0.00"


def test_the_adopted_price_closes_its_share_of_the_log_gap_each_quarter():
    market = np.array([8.0, 2.0, 2.0, 0.5])
    np.testing.assert_allclose(adopted_price_path(market, 1.0), market)
    np.testing.assert_allclose(adopted_price_path(market, 0.0), np.full(4, 8.0))
    half = adopted_price_path(market, 0.5)
    np.testing.assert_allclose(half, [8.0, 4.0, 2.0 * 2 ** 0.5, (2.0 * 2 ** 0.5 * 0.5) ** 0.5])
