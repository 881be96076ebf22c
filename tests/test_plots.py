"""Tests for sim.views.figures (band numbers, the PNGs plot_run writes, skipping missing metrics)
and the palette of sim.views.style."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

from sim.views import style
from sim.views.figures import bands
from sim.views.figures.run import plot_run

QUARTERS = [f"{year}Q{q}" for year in (2024, 2025) for q in (1, 2, 3, 4)]
REPLICATION_OFFSET = 0.1  # replication 2 = replication 1 + this, so the mean is halfway
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
ALL_PNGS = {"workload_shares.png", "stack_shares.png", "plans_to_expand.png", "signals.png",
            "workload_classes.png"}

SHARE_METRICS = {
    "workload_share_closed": 0.6, "workload_share_open": 0.3, "workload_share_open_finetuned": 0.1,
    "stack_share_closed": 0.5, "stack_share_open": 0.1, "stack_share_hybrid": 0.4,
    "plans_to_expand_open": 0.3,
}
SIGNAL_METRICS = {
    "signal_benchmark_gap": 17.5, "signal_frontier_gap": 8.0, "signal_task_parity": 0.85,
    "signal_closed_price_index": 1.0, "signal_open_cost_ratio": 0.3,
    "signal_hardware_cost_index": 1.0, "signal_tooling_maturity": 0.4,
}
CLASSES = ("customer_facing", "exploratory", "internal_high_volume", "privacy_sensitive",
           "domain_specific")
REGIONS = ("eu", "north_america", "apac")


def base_value(quarter_index: int, start: float) -> float:
    """Replication 1's value: a gentle trend from ``start``."""
    return start + 0.01 * quarter_index


def tidy_rows(metric: str, segment: str, start: float) -> list[dict]:
    return [
        {"scenario": "test", "replication": replication, "quarter": quarter, "metric": metric,
         "segment": segment,
         "value": base_value(index, start) + (replication - 1) * REPLICATION_OFFSET}
        for replication in (1, 2) for index, quarter in enumerate(QUARTERS)
    ]


def make_frame(with_signals: bool = True) -> pd.DataFrame:
    rows: list[dict] = []
    for metric, start in SHARE_METRICS.items():
        rows += tidy_rows(metric, "all", start)
        if metric.startswith("workload_share_"):
            for name in CLASSES:
                rows += tidy_rows(metric, f"class={name}", start)
            rows += tidy_rows(metric, "sector=banking", start / 2)
    if with_signals:
        for metric, start in SIGNAL_METRICS.items():
            rows += tidy_rows(metric, "all", start)
        for region in REGIONS:
            rows += tidy_rows("signal_regulatory_pressure", f"region={region}", 0.2)
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    return make_frame()


# --- band_table ---------------------------------------------------------------------------------

def test_band_table_mean_and_quantiles(frame):
    table = bands.band_table(frame, "workload_share_open")
    assert list(table.columns) == ["mean", "p5", "p95"]
    assert list(table.index) == QUARTERS
    low = [base_value(i, 0.3) for i in range(len(QUARTERS))]
    # Two replications a and a + d: mean a + d/2; linearly interpolated quantiles
    # a + 0.05 d and a + 0.95 d.
    assert table["mean"].tolist() == pytest.approx([v + 0.05 for v in low], abs=1e-12)
    assert table["p5"].tolist() == pytest.approx([v + 0.005 for v in low], abs=1e-12)
    assert table["p95"].tolist() == pytest.approx([v + 0.095 for v in low], abs=1e-12)


def test_band_table_filters_segment_and_sorts_quarters(frame):
    shuffled = frame.sample(frac=1.0, random_state=3)
    table = bands.band_table(shuffled, "workload_share_closed", segment="sector=banking")
    assert list(table.index) == QUARTERS
    assert table.loc["2024Q1", "mean"] == pytest.approx(0.3 + 0.05, abs=1e-12)


def test_band_table_single_replication_band_is_the_value(frame):
    table = bands.band_table(frame[frame.replication == 1], "plans_to_expand_open")
    assert (table["p5"] == table["mean"]).all() and (table["p95"] == table["mean"]).all()


def test_band_table_missing_metric_raises(frame):
    with pytest.raises(KeyError, match="no_such_metric"):
        bands.band_table(frame, "no_such_metric")


def test_open_cost_is_ratio_times_hardware_index_per_replication(frame):
    table = bands.product_bands(frame, "signal_open_cost_ratio", "signal_hardware_cost_index")
    # replication r, quarter 0: (0.3 + 0.1 (r-1)) * (1.0 + 0.1 (r-1)) -> 0.3 and 0.44
    assert table.loc["2024Q1", "mean"] == pytest.approx((0.3 + 0.44) / 2, abs=1e-12)


# --- palette ------------------------------------------------------------------------------------

def test_colours_consistent_between_deployments_and_stacks():
    from sim.core.kernel import OPTIONS, STACKS

    assert style.DEPLOYMENT_COLOURS["closed"] == style.STACK_COLOURS["closed"]
    assert style.DEPLOYMENT_COLOURS["open"] == style.STACK_COLOURS["open"]
    assert tuple(style.DEPLOYMENT_LABELS) == tuple(style.DEPLOYMENT_COLOURS) == OPTIONS
    assert tuple(style.STACK_LABELS) == tuple(style.STACK_COLOURS) == STACKS
    assert len(set(style.DEPLOYMENT_COLOURS.values())) == 3
    assert len(set(style.STACK_COLOURS.values())) == 3


def test_scenario_colours_stable_and_distinct():
    names = ["baseline", "price_shock", "eu_withdrawal", "fast_parity"]
    colours = style.scenario_colours(names)
    assert set(colours) == set(names)
    assert len(set(colours.values())) == len(names)
    assert style.scenario_colours(reversed(names)) == colours
    assert style.scenario_colours(["baseline"]) == style.scenario_colours(["baseline"])


# --- plot_run -----------------------------------------------------------------------------------

def assert_png(path):
    import matplotlib.image

    assert path.read_bytes()[:8] == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def test_plot_run_writes_the_five_pngs(frame, tmp_path):
    folder = tmp_path / "figures" / "run"
    paths = plot_run(frame, folder)
    assert {p.name for p in paths} == ALL_PNGS
    assert all(p.parent == folder for p in paths)
    for path in paths:
        assert_png(path)
    assert {p.name for p in folder.iterdir()} == ALL_PNGS  # no temporary files left behind


def test_plot_run_skips_signals_when_absent(tmp_path):
    paths = plot_run(make_frame(with_signals=False), tmp_path)
    assert {p.name for p in paths} == ALL_PNGS - {"signals.png"}
    assert not (tmp_path / "signals.png").exists()


def test_plot_run_rejects_several_scenarios(frame, tmp_path):
    other = frame.assign(scenario="other")
    with pytest.raises(ValueError, match="one scenario"):
        plot_run(pd.concat([frame, other]), tmp_path)


def test_import_is_lazy():
    code = ("import sys, sim.views.figures.run, sim.views.figures.calibration, "
            "sim.views.figures.comparison, sim.views.figures.sweep; "
            "assert 'matplotlib' not in sys.modules and 'seaborn' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_style_imports_the_standard_library_only():
    code = ("import sys, sim.views.style; "
            "assert not {'numpy', 'pandas', 'matplotlib', 'seaborn'} & set(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)
