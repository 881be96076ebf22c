"""Tests for sim.running.runner and sim.workflows: seeds, worker-count determinism, the tidy
table, the
summary and the run folder."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from conftest import BASELINE, baseline

from sim.core.metric_table import METRIC_NAMES
from sim.core.metrics import METRIC_INDEX, SEGMENTS
from sim.core.model import AdoptionModel
from sim.core.posterior import replication_scenario
from sim.core.scenario import load_scenario, scenario_hash
from sim.core.schema import Scenario
from sim.running import runner
from sim.workflows import run_scenario

SMALL = ["population.enterprises=200"]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def three_replications():
    return baseline(enterprises=200, replications=3)


@pytest.fixture(scope="module")
def serial(three_replications):
    return runner.run_replications(three_replications, workers=1)


@pytest.fixture(scope="module")
def written(tmp_path_factory):
    """One run folder written with plots=False (shared by the read-only tests)."""
    out = tmp_path_factory.mktemp("runs")
    result = run_scenario(
        BASELINE, replications=3, workers=1, overrides=SMALL, out=out, plots=False
    )
    return out, result


# --- seeds and replications ---------------------------------------------------------------------

def test_replication_seeds_are_spawned_from_the_scenario_seed():
    seeds = runner.replication_seeds(123, 4)
    again = runner.replication_seeds(123, 6)
    assert [s.spawn_key for s in seeds] == [(0,), (1,), (2,), (3,)]
    assert all(s.entropy == 123 for s in seeds)
    # adding replications keeps the first ones' seeds
    assert [s.generate_state(4).tolist() for s in seeds] == [
        s.generate_state(4).tolist() for s in again[:4]]
    assert len({tuple(s.generate_state(4)) for s in seeds}) == 4


def test_replication_r_is_a_model_run_with_seed_r(three_replications, serial):
    """Replication r: a model of the scenario at posterior draw r, run with seed r."""
    assert serial.values.shape == (3, len(three_replications.quarters), len(METRIC_NAMES),
                                   len(SEGMENTS))
    second = AdoptionModel(replication_scenario(three_replications, 1), seed=serial.seeds[1]).run()
    np.testing.assert_array_equal(serial.values[1], second)
    assert not np.array_equal(serial.values[0], serial.values[1], equal_nan=True)


def test_worker_count_does_not_change_the_values(three_replications, serial):
    calls = []
    parallel = runner.run_replications(three_replications, workers=2, progress=calls.append)
    np.testing.assert_array_equal(parallel.values, serial.values)
    assert calls == [1, 2, 3]


def test_executors_and_worker_counts_give_identical_values(three_replications, serial):
    """One local worker (in this process), two local workers, and a two-worker Dask cluster."""
    pytest.importorskip("distributed")
    for executor, workers in (("local", 2), ("dask", 2)):
        calls = []
        result = runner.run_replications(three_replications, workers=workers, executor=executor,
                                         progress=calls.append)
        np.testing.assert_array_equal(result.values, serial.values, err_msg=executor)
        assert calls == [1, 2, 3]


def test_quarterly_parquet_is_byte_identical_across_worker_counts(tmp_path):
    folders = []
    for workers in (1, 2):
        result = run_scenario(BASELINE, replications=3, workers=workers, overrides=SMALL,
                              out=tmp_path / f"workers{workers}", plots=False)
        folders.append(result.folder)
    first, second = (folder / "quarterly.parquet" for folder in folders)
    assert first.read_bytes() == second.read_bytes()
    assert (folders[0] / "summary.csv").read_bytes() == (folders[1] / "summary.csv").read_bytes()


# --- the tidy table and the summary --------------------------------------------------------------

def test_tidy_frame_columns_and_dtypes(three_replications, serial):
    frame = runner.tidy(serial.values, three_replications)
    assert list(frame.columns) == [
        "scenario",
        "replication",
        "quarter",
        "metric",
        "segment",
        "value",
    ]
    assert frame["replication"].dtype == np.int32
    assert frame["value"].dtype == np.float64
    for column in ("scenario", "quarter", "metric", "segment"):
        # object or pandas' string dtype (pandas 3 infers "str" for arrays of strings)
        assert pd.api.types.is_string_dtype(frame[column]), column
        assert frame[column].map(type).eq(str).all(), column
    assert set(frame["scenario"]) == {"baseline"}
    assert set(frame["replication"]) == {0, 1, 2}
    assert frame["quarter"].str.fullmatch(r"\d{4}Q[1-4]").all()
    assert frame["quarter"].iloc[0] == "2024Q1" and frame["quarter"].iloc[-1] == "2030Q4"
    assert "2025Q4" in set(frame["quarter"])
    segments = set(frame["segment"])
    assert {
        "all",
        "sector=banking",
        "region=eu",
        "size=large",
        "class=privacy_sensitive",
    } <= segments
    assert set(frame["metric"]) <= set(METRIC_NAMES)
    assert not frame["value"].isna().any()
    assert len(frame) == np.count_nonzero(~np.isnan(serial.values))


def test_tidy_rows_match_the_values_array(three_replications, serial):
    frame = runner.tidy(serial.values, three_replications)
    quarters = three_replications.quarters
    sample = frame.sample(200, random_state=0)
    for row in sample.itertuples():
        expected = serial.values[row.replication, quarters.index(row.quarter),
                                 METRIC_INDEX[row.metric], SEGMENTS.index(row.segment)]
        assert row.value == expected
    # ordered by replication, quarter, metric, segment
    keys = pd.DataFrame({
        "replication": frame["replication"],
        "quarter": frame["quarter"].map(quarters.index),
        "metric": frame["metric"].map(METRIC_INDEX),
        "segment": frame["segment"].map(SEGMENTS.index)})
    assert keys.equals(keys.sort_values(list(keys.columns)))


def test_summary_statistics(three_replications, serial):
    frame = runner.tidy(serial.values, three_replications)
    summary = runner.summarize(frame, ["2025Q4", "2030Q4"])
    assert list(summary.columns) == ["metric", "segment", "quarter", "mean", "median", "p5", "p95"]
    assert set(summary["quarter"]) == {"2025Q4", "2030Q4"}
    assert (summary["p5"] <= summary["median"] + 1e-12).all()
    assert (summary["median"] <= summary["p95"] + 1e-12).all()
    assert (summary["p5"] <= summary["mean"] + 1e-12).all() and (
        summary["mean"] <= summary["p95"] + 1e-12
    ).all()
    row = summary[(summary["metric"] == "workload_share_closed") & (summary["segment"] == "all")
                  & (summary["quarter"] == "2030Q4")].iloc[0]
    replicate_values = serial.values[:, -1, METRIC_INDEX["workload_share_closed"], 0]
    assert row["mean"] == pytest.approx(replicate_values.mean())
    assert row["median"] == pytest.approx(np.median(replicate_values))
    assert row["p5"] == pytest.approx(np.quantile(replicate_values, 0.05))
    assert row["p95"] == pytest.approx(np.quantile(replicate_values, 0.95))
    assert row["p5"] < row["p95"]  # replications differ


# --- the run folder -----------------------------------------------------------------------------

def test_run_folder_contents(written):
    out, result = written
    folder = result.folder
    assert folder.parent == out / "baseline"
    names = {p.name for p in folder.iterdir()}
    assert {"manifest.json", "quarterly.parquet", "summary.csv"} <= names
    assert "plots" not in names  # plots=False
    assert not [name for name in names if name.startswith(".")]  # no temporary files left
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest == json.loads(json.dumps(result.manifest))
    for key in ("scenario_hash", "resolved_scenario", "seed", "replication_seeds", "versions",
                "wall_seconds"):
        assert key in manifest, key
    for package in ("python", "mesa", "numpy", "pandas"):
        assert manifest["versions"][package], package
    scenario = load_scenario(BASELINE, SMALL + ["replications=3"])
    assert manifest["scenario_hash"] == scenario_hash(scenario)
    assert re.fullmatch(r"\d{8}-\d{6}-" + manifest["scenario_hash"][:8], folder.name)
    # the resolved scenario reproduces the run's scenario exactly
    assert (
        scenario_hash(Scenario.model_validate(manifest["resolved_scenario"]))
        == manifest["scenario_hash"]
    )
    assert manifest["seed"] == scenario.seed
    assert manifest["replication_seeds"] == [
        {"entropy": scenario.seed, "spawn_key": [r]} for r in range(3)]
    assert manifest["wall_seconds"] >= 0
    frame = pd.read_parquet(folder / "quarterly.parquet")
    # string columns may come back as pandas' string dtype; the contents must be identical
    pd.testing.assert_frame_equal(frame, result.frame, check_dtype=False)
    assert frame["replication"].dtype == np.int32 and frame["value"].dtype == np.float64
    summary = pd.read_csv(folder / "summary.csv")
    assert list(summary.columns) == ["metric", "segment", "quarter", "mean", "median", "p5", "p95"]
    assert len(summary) == len(result.summary)
    assert set(summary["quarter"]) == {"2025Q4", "2030Q4"}
    # no staging folders are left behind
    assert [p.name for p in (out / "baseline").iterdir()] == [folder.name]


def test_second_run_never_overwrites_the_first(tmp_path):
    first = run_scenario(
        BASELINE, replications=1, workers=1, overrides=SMALL, out=tmp_path, plots=False
    )
    marker = first.folder / "manifest.json"
    before = marker.read_bytes()
    second = run_scenario(
        BASELINE, replications=1, workers=1, overrides=SMALL, out=tmp_path, plots=False
    )
    assert first.folder != second.folder
    assert first.folder.is_dir() and second.folder.is_dir()
    assert marker.read_bytes() == before
    assert sorted(p.name for p in (tmp_path / "baseline").iterdir()) == sorted(
        [first.folder.name, second.folder.name])


def test_run_without_out_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run_scenario(BASELINE, replications=1, workers=1, overrides=SMALL, out=None)
    assert result.folder is None
    assert list(tmp_path.iterdir()) == []
    assert not result.frame.empty


def test_plots_are_written_when_asked(tmp_path):
    result = run_scenario(
        BASELINE, replications=2, workers=1, overrides=SMALL, out=tmp_path, plots=True
    )
    pngs = sorted((result.folder / "plots").glob("*.png"))
    assert pngs
    for png in pngs:
        assert png.read_bytes()[:8] == PNG_SIGNATURE, png.name
