"""Calibration: the committed baseline hits the article's 2025 figures, the article's
segmentation emerges from it, and the calibration machinery is reproducible."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.calibration import load_targets
from sim.metrics import METRIC_INDEX, SEGMENTS
from sim.quarters import parse_quarter
from sim.runner import replication_seeds, simulate
from sim.scenario import ScenarioError, load_scenario
from sim.workflows import calibrate_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
TARGETS = ROOT / "scenarios" / "targets.yaml"
SNAPSHOT = "2025Q4"


@pytest.fixture(scope="module")
def baseline_2025():
    """The baseline's 20 replications (as `adoptsim run --replications 20` seeds them), run to
    2025Q4: values (replications, metrics, segments) at 2025Q4."""
    scenario = load_scenario(BASELINE, ["replications=20"])
    quarter = parse_quarter(SNAPSHOT) - parse_quarter(scenario.horizon.start)
    runs = [simulate(scenario, seed, quarters=quarter + 1)
            for seed in replication_seeds(scenario.seed, scenario.replications)]
    return np.stack(runs)[:, quarter]


def mean_at(values, metric: str, segment: str = "all") -> float:
    return float(values[:, METRIC_INDEX[metric], SEGMENTS.index(segment)].mean())


def test_calibrated_baseline_hits_every_target(baseline_2025):
    for target in load_targets(TARGETS).targets:
        assert target.quarter == SNAPSHOT
        achieved = mean_at(baseline_2025, target.metric, target.segment)
        assert abs(achieved - target.value) <= target.tolerance, (target.label, achieved)


def test_the_articles_segmentation_emerges(baseline_2025):
    closed = {name: mean_at(baseline_2025, "workload_share_closed", f"class={name}")
              for name in ("customer_facing", "exploratory", "internal_high_volume", "privacy_sensitive")}
    assert closed["customer_facing"] > 0.8 and closed["exploratory"] > 0.8
    for open_class in ("internal_high_volume", "privacy_sensitive"):
        assert (1 - closed[open_class]) > (1 - closed["customer_facing"]) + 0.05, open_class

    domain = "class=domain_specific"
    assert (mean_at(baseline_2025, "workload_share_open_finetuned", domain)
            > mean_at(baseline_2025, "workload_share_open", domain))

    def open_share(segments: list[str]) -> np.ndarray:
        """Per replication, the open share of the workloads in the segments together."""
        columns = [SEGMENTS.index(s) for s in segments]
        workloads = baseline_2025[:, METRIC_INDEX["workloads"]][:, columns]
        shares = baseline_2025[:, METRIC_INDEX["workload_share_open_any"]][:, columns]
        return (workloads * shares).sum(axis=1) / workloads.sum(axis=1)

    def clearly_above(first: np.ndarray, second: np.ndarray) -> bool:
        """Higher in the mean over replications by more than three standard errors."""
        difference = first - second
        return difference.mean() > 3 * difference.std(ddof=1) / np.sqrt(difference.size)

    regulated = [f"sector={s}" for s in ("banking", "insurance", "healthcare", "defence")]
    unregulated = [f"sector={s}" for s in ("technology", "retail", "manufacturing", "professional_services")]
    assert clearly_above(open_share(regulated), open_share(unregulated))
    assert clearly_above(open_share(["region=eu"]), open_share(["region=north_america", "region=apac"]))
    hybrid = baseline_2025[:, METRIC_INDEX["stack_share_hybrid"]]
    assert clearly_above(hybrid[:, SEGMENTS.index("size=large")], hybrid[:, SEGMENTS.index("size=small")])


@pytest.fixture()
def tiny_targets(tmp_path):
    """The real targets with a tiny search, so the machinery runs in seconds."""
    settings = yaml.safe_load(TARGETS.read_text())
    settings["calibration"]["writes"] = "fitted.yaml"
    settings["calibration"]["quick"] = {
        "enterprises": 150, "replications": 2,
        "search": {"global_points": 4, "local_evaluations": 6, "starts": 1, "profile_points": 2}}
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path


def test_quick_calibration_writes_a_report_and_leaves_scenarios_alone(tmp_path):
    calibrated = (ROOT / "scenarios" / "calibrated.yaml").read_bytes()
    result = calibrate_scenario(BASELINE, TARGETS, quick=True, workers=2, out=tmp_path)
    assert result.wrote is None
    assert (ROOT / "scenarios" / "calibrated.yaml").read_bytes() == calibrated
    files = {p.name for p in result.folder.iterdir()}
    assert {"calibration.json", "calibration.md", "targets.png", "target_paths.png", "profiles.png"} <= files
    report = json.loads((result.folder / "calibration.json").read_text())
    assert report["quick"] is True
    assert [t["label"] for t in report["targets"]] == [t.label for t in load_targets(TARGETS).targets]
    names = {p["name"] for p in report["parameters"]}
    assert names == set(load_targets(TARGETS).calibration.parameters)
    assert report["evaluations"] == result.calibration.evaluations > 1
    assert report["objective"] == pytest.approx(result.calibration.best.objective)


def test_calibration_is_reproducible_and_writes_the_fragment(tiny_targets, tmp_path):
    first = calibrate_scenario(BASELINE, tiny_targets, quick=True, workers=1, out=None)
    second = calibrate_scenario(BASELINE, tiny_targets, quick=True, workers=2, out=None)
    np.testing.assert_array_equal(first.calibration.best.parameters, second.calibration.best.parameters)
    assert first.calibration.best.objective == second.calibration.best.objective

    # the search starts from the targets file's priors, not from whatever the scenario holds now
    # (for instance the previous calibration's fit)
    priors = [p.prior for p in load_targets(tiny_targets).calibration.parameters.values()]
    np.testing.assert_array_equal(first.calibration.prior, priors)
    moved = load_scenario(BASELINE, ["behaviour.closed_preference=7.0", "behaviour.peer_weight=0.5"])
    third = calibrate_scenario(moved, tiny_targets, quick=True, workers=1, out=None)
    np.testing.assert_array_equal(first.calibration.best.parameters, third.calibration.best.parameters)

    # writing to a fragment the scenario does not extend is caught: the fitted values would
    # not reach the baseline
    with pytest.raises(ScenarioError, match="does not take"):
        calibrate_scenario(BASELINE, tiny_targets, quick=True, workers=1, out=None, write=True)


def test_targets_file_errors_name_the_key(tmp_path):
    settings = yaml.safe_load(TARGETS.read_text())
    settings["targets"][0]["metric"] = "workload_share_closd"
    path = tmp_path / "targets.yaml"
    path.write_text(yaml.safe_dump(settings, sort_keys=False))
    with pytest.raises(ScenarioError) as error:
        load_targets(path)
    assert "targets.0.metric" in str(error.value) and "unknown metric" in str(error.value)

    settings = yaml.safe_load(TARGETS.read_text())
    settings["calibration"]["parameters"]["behaviour.no_such_thing"] = {"low": 0, "high": 1, "prior": 0.5}
    path.write_text(yaml.safe_dump(settings, sort_keys=False))
    with pytest.raises(ScenarioError, match="no_such_thing"):
        calibrate_scenario(BASELINE, path, quick=True, out=None)
