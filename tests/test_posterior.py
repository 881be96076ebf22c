"""Parameter uncertainty: posterior draws carried by a scenario, one per replication, the same
draw in the same replication of every scenario, pinned parameters left out, and ``--point``."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import ROOT

from sim.core.metrics import METRIC_INDEX, SEGMENTS
from sim.core.posterior import draw_index, point_scenario, replication_scenario
from sim.core.scenario import ScenarioError, load_scenario
from sim.running.runner import replication_seeds, run_replications, simulate
from sim.workflows import compare_scenarios, run_scenario

DRAWS = [(0.0, 0.5), (4.0, 2.0), (2.0, 8.0)]   # closed_preference, peer_weight
SMALL = ["population.enterprises=150", "horizon.end=2026Q4"]


@pytest.fixture
def calibrated(tmp_path):
    """A baseline-like scenario whose calibrated fragment names a three-draw posterior."""
    (tmp_path / "draws.csv").write_text(
        "draw,behaviour.closed_preference,behaviour.peer_weight\n"
        + "".join(f"{i},{a},{b}\n" for i, (a, b) in enumerate(DRAWS)))
    (tmp_path / "fit.yaml").write_text(
        "behaviour: {closed_preference: 2.0, peer_weight: 2.0}\nposterior: {file: draws.csv}\n")
    (tmp_path / "base.yaml").write_text(
        f"extends: [{ROOT / 'scenarios' / 'world.yaml'}, fit.yaml]\nname: base\n")
    return tmp_path / "base.yaml"


def test_the_loader_reads_the_draws_next_to_the_file_that_names_them(calibrated):
    scenario = load_scenario(calibrated)
    assert scenario.posterior.parameters == ["behaviour.closed_preference", "behaviour.peer_weight"]
    assert scenario.posterior.draws == [list(row) for row in DRAWS]
    assert scenario.behaviour.closed_preference == 2.0   # the point values stay as written


def test_replication_i_runs_draw_i_cycling_through_the_draws(calibrated):
    scenario = load_scenario(calibrated, ["replications=5"])
    for replication in range(5):
        index = replication % len(DRAWS)
        assert draw_index(scenario, replication) == index
        single = replication_scenario(scenario, replication)
        assert single.posterior is None
        assert (single.behaviour.closed_preference, single.behaviour.peer_weight) == DRAWS[index]


def test_a_parameter_set_after_the_posterior_is_pinned(calibrated, tmp_path):
    by_override = load_scenario(calibrated, ["behaviour.peer_weight=7.5"])
    assert by_override.posterior.parameters == ["behaviour.closed_preference"]
    assert by_override.posterior.draws == [[a] for a, _ in DRAWS]
    assert replication_scenario(by_override, 1).behaviour.peer_weight == 7.5
    (tmp_path / "story.yaml").write_text(
        "extends: base.yaml\nname: story\nbehaviour: {closed_preference: -1.0}\n")
    by_file = load_scenario(tmp_path / "story.yaml")
    assert by_file.posterior.parameters == ["behaviour.peer_weight"]
    assert replication_scenario(by_file, 1).behaviour.closed_preference == -1.0
    assert point_scenario(by_file).posterior is None


def test_runs_use_each_replications_draw_and_record_them(calibrated):
    scenario = load_scenario(calibrated, SMALL + ["replications=3"])
    result = run_replications(scenario, workers=2)
    seeds = replication_seeds(scenario.seed, 3)
    for replication, seed in enumerate(seeds):
        alone = simulate(replication_scenario(scenario, replication), seed)
        np.testing.assert_array_equal(result.values[replication], alone)
    manifest = run_scenario(scenario, out=None).manifest
    assert manifest["posterior_draws"]["replication_draws"] == [0, 1, 2]
    assert manifest["posterior_draws"]["values"] == [list(row) for row in DRAWS]
    assert run_scenario(scenario, out=None, point=True).manifest["posterior_draws"] is None


def test_parameter_uncertainty_widens_the_interval(calibrated):
    def interval(point: bool) -> float:
        frame = run_scenario(
            calibrated, overrides=SMALL, replications=6, out=None, point=point
        ).frame
        closed = frame[(frame["metric"] == "workload_share_closed") & (frame["segment"] == "all")
                       & (frame["quarter"] == "2026Q4")]["value"]
        return float(closed.quantile(0.95) - closed.quantile(0.05))

    assert interval(point=False) > 2 * interval(point=True)


def test_a_comparison_pairs_the_draws(calibrated, tmp_path):
    """A scenario that changes nothing but its name differs from the reference by exactly zero
    in every replication: the same seed and the same draw."""
    (tmp_path / "same.yaml").write_text("extends: base.yaml\nname: same\n")
    result = compare_scenarios([tmp_path / "same.yaml"], reference=calibrated, replications=3,
                               dates=("2026Q4",), out=None)
    frame = result.frame
    values = frame[(frame["metric"] == "workload_share_open_any") & (frame["segment"] == "all")]
    pivot = values.pivot_table(index=["replication", "quarter"], columns="scenario", values="value")
    np.testing.assert_array_equal(pivot["same"], pivot["base"])
    assert pivot["base"].groupby("replication").mean().nunique() == 3   # the draws differ


def test_a_broken_draws_file_names_itself(calibrated, tmp_path):
    (tmp_path / "draws.csv").write_text("draw,behaviour.closed_preference\n0,high\n")
    with pytest.raises(ScenarioError) as caught:
        load_scenario(calibrated)
    assert "draws.csv" in str(caught.value) and caught.value.key_path == "posterior.file"
    (tmp_path / "draws.csv").write_text("draw,behaviour.no_such_key\n0,1.0\n")
    with pytest.raises(ScenarioError, match="not a numeric key"):
        load_scenario(calibrated)


def test_metrics_of_a_posterior_run_are_the_point_runs_of_its_draws(calibrated):
    """Nothing but the parameters changes between draws: a run at draw 1's values as plain
    settings gives replication 1's metrics."""
    scenario = load_scenario(calibrated, SMALL + ["replications=2"])
    pinned = point_scenario(load_scenario(scenario, [
        f"behaviour.closed_preference={DRAWS[1][0]}", f"behaviour.peer_weight={DRAWS[1][1]}"]))
    seed = replication_seeds(scenario.seed, 2)[1]
    closed = METRIC_INDEX["workload_share_closed"], SEGMENTS.index("all")
    with_draw = simulate(replication_scenario(scenario, 1), seed)
    np.testing.assert_array_equal(with_draw[:, closed[0], closed[1]],
                                  simulate(pinned, seed)[:, closed[0], closed[1]])
