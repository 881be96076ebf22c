"""Calibration: the committed baseline meets the panel of observations (the measured history and
the article's figures), the article's segmentation emerges from it, and the Bayesian calibration
machinery is reproducible, validates out of sample, and is deterministic on any worker count."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sim.calibration import load_targets
from sim.calibration.persist import write_posterior
from sim.cli import main
from sim.core.metrics import METRIC_INDEX, SEGMENTS
from sim.core.posterior import replication_scenario
from sim.core.quarters import parse_quarter
from sim.core.scenario import ScenarioError, load_scenario
from sim.running.runner import replication_seeds, simulate
from sim.workflows import calibrate_scenario

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
TARGETS = ROOT / "scenarios" / "targets.yaml"
SNAPSHOT = "2025Q4"


@pytest.fixture(scope="module")
def baseline_history():
    """The baseline's 20 replications as `adoptsim run` runs them (replication i on posterior
    draw i, with the i-th seed), to 2025Q4: values (replications, quarters, metrics, segments)."""
    scenario = load_scenario(BASELINE, ["replications=20"])
    quarters = parse_quarter(SNAPSHOT) - parse_quarter(scenario.horizon.start) + 1
    runs = [simulate(replication_scenario(scenario, index), seed, quarters=quarters)[:quarters]
            for index, seed in enumerate(replication_seeds(scenario.seed, scenario.replications))]
    return np.stack(runs)


#: Panel entries the committed fit misses by more than their tolerance, and why
#: (docs/guides/calibration.md, "What the fit misses"). A new miss fails this test, and so does
#: an entry that comes within tolerance after a refit, until it is taken off the list.
KNOWN_MISSES = {
    # 13.4% open at 2024Q1 against a16z's 20% for 2023 (second-hand, ~70 leaders): the model
    # starts lower and its open share rises through 2024 (to 16.3%, Menlo's 19% within
    # tolerance) as portfolios grow and more enterprises find a hybrid stack worth its platform
    "open_share_2023",
    # closed API spend grows 2.0x to 2025Q2 and 3.1x to 2025Q3 (measured 2.4x in July, between
    # the two) and 5.1x to 2025Q4 (3.6x): tokens of work on reasoning models grow as Epoch's
    # reasoning answers (5x a year) while frontier list prices stand still
    "api_spend_growth_mid_2025_q3", "api_spend_growth_2025",
}


def per_replication(values, metric: str, quarter: str, segment: str = "all") -> np.ndarray:
    row = parse_quarter(quarter) - parse_quarter("2024Q1")
    return values[:, row, METRIC_INDEX[metric], SEGMENTS.index(segment)]


def by_quarter(values, metric: str, segment: str = "all"):
    """A metric's per-replication values as a function of the quarter."""
    return lambda quarter: per_replication(values, metric, quarter, segment)


def mean_at(values, metric: str, quarter: str = SNAPSHOT, segment: str = "all") -> float:
    return float(per_replication(values, metric, quarter, segment).mean())


def test_the_baseline_carries_the_posterior():
    scenario = load_scenario(BASELINE)
    settings = load_targets(TARGETS).calibration
    assert scenario.posterior is not None and len(scenario.posterior.draws) >= 200
    assert scenario.posterior.parameters == list(settings.parameters)


def test_the_calibrated_baseline_meets_every_panel_entry_but_the_known_misses(baseline_history):
    missed = {}
    for target in load_targets(TARGETS).targets:
        achieved = float(np.mean(target.simulated(
            by_quarter(baseline_history, target.metric, target.segment))))
        if abs(target.misfit(achieved)) > 1.0:
            missed[target.name] = achieved
    assert set(missed) == KNOWN_MISSES, missed


def test_the_open_share_falls_in_2025_while_the_gap_closes(baseline_history):
    """The measured history: 19% open in late 2024, 13% in mid-2025, while the benchmark gap
    closed. The model does not read the closing gap as growth for open weights: the closed
    reasoning models of early 2025 (the frontier gap) take the open share down in (nearly)
    every replication, by a material part of the measured six points."""
    late_2024 = per_replication(baseline_history, "workload_share_open_any", "2024Q4")
    mid_2025 = np.mean([per_replication(baseline_history, "workload_share_open_any", quarter)
                        for quarter in ("2025Q2", "2025Q3")], axis=0)
    fall = late_2024 - mid_2025
    assert fall.mean() > 0.02 and (fall > 0).mean() >= 0.9, fall
    gap = [mean_at(baseline_history, "signal_benchmark_gap", q) for q in ("2024Q4", "2025Q3")]
    assert gap[1] < gap[0]


def test_the_articles_segmentation_emerges(baseline_history):
    end = baseline_history[:, -1]

    def at_end(metric: str, segment: str = "all") -> np.ndarray:
        return end[:, METRIC_INDEX[metric], SEGMENTS.index(segment)]

    closed = {name: at_end("workload_share_closed", f"class={name}").mean()
              for name in ("customer_facing", "exploratory", "internal_high_volume",
                           "privacy_sensitive", "coding_agents")}
    assert closed["customer_facing"] > 0.8 and closed["exploratory"] > 0.8
    # coding work: mostly closed, as the panel's Menlo bound (at least 63% in mid-2025) asks
    assert closed["coding_agents"] > 0.5
    for open_class in ("internal_high_volume", "privacy_sensitive"):
        assert closed[open_class] < closed["customer_facing"], open_class

    def open_share(segments: list[str]) -> np.ndarray:
        """Per replication, the open share of the workloads in the segments together."""
        columns = [SEGMENTS.index(s) for s in segments]
        workloads = end[:, METRIC_INDEX["workloads"]][:, columns]
        shares = end[:, METRIC_INDEX["workload_share_open_any"]][:, columns]
        return (workloads * shares).sum(axis=1) / workloads.sum(axis=1)

    def clearly_above(first: np.ndarray, second: np.ndarray) -> bool:
        """Higher in the mean over replications by more than three standard errors."""
        difference = first - second
        return difference.mean() > 3 * difference.std(ddof=1) / np.sqrt(difference.size)

    sectors = load_scenario(BASELINE).population.sectors
    regulated = [f"sector={name}" for name, sector in sectors.items() if sector.regulated]
    unregulated = [f"sector={name}" for name, sector in sectors.items() if not sector.regulated]
    assert regulated and unregulated
    assert clearly_above(open_share(regulated), open_share(unregulated))
    assert clearly_above(
        open_share(["region=eu"]), open_share(["region=north_america", "region=apac"])
    )
    hybrid = end[:, METRIC_INDEX["stack_share_hybrid"]]
    assert clearly_above(
        hybrid[:, SEGMENTS.index("size=large")], hybrid[:, SEGMENTS.index("size=small")]
    )


# --- the machinery, on --quick fits ---------------------------------------------------------


@pytest.fixture(scope="module")
def quick_targets(tmp_path_factory):
    """The real targets file (panel, priors, --quick settings), its fit written beside it."""
    settings = yaml.safe_load(TARGETS.read_text())
    settings["calibration"]["writes"] = "fitted.yaml"
    settings["calibration"]["posterior"] = "draws.csv"
    path = tmp_path_factory.mktemp("targets") / "targets.yaml"
    path.write_text(yaml.safe_dump(settings))
    return path


def scenario_files() -> dict:
    return {path: path.read_bytes() for path in (ROOT / "scenarios").rglob("*.*")}


@pytest.fixture(scope="module")
def quick_fit(quick_targets, tmp_path_factory):
    """`adoptsim calibrate --quick` on one worker, its report folder, and whether it left the
    scenarios folder as it was."""
    before = scenario_files()
    result = calibrate_scenario(BASELINE, quick_targets, quick=True, workers=1,
                                out=tmp_path_factory.mktemp("one"))
    return result, scenario_files() == before


def test_a_quick_posterior_is_reproducible_on_any_worker_count(quick_fit, quick_targets, tmp_path):
    one, untouched = quick_fit
    two = calibrate_scenario(
        BASELINE, quick_targets, quick=True, workers=2, out=tmp_path, plots=False
    )
    settings = load_targets(quick_targets).calibration
    draws = pd.read_csv(one.folder / "posterior.csv")
    assert list(draws.columns) == ["draw", *settings.parameters]
    assert list(draws["draw"]) == list(range(settings.quick.draws))
    for name, prior in settings.parameters.items():
        assert draws[name].between(prior.low, prior.high).all(), name
    assert (one.folder / "posterior.csv").read_bytes() == (
        two.folder / "posterior.csv"
    ).read_bytes()
    np.testing.assert_array_equal(one.calibration.predictive, two.calibration.predictive)
    assert one.calibration.simulations == two.calibration.simulations
    assert (
        one.wrote == [] and two.wrote == [] and not (quick_targets.parent / "fitted.yaml").exists()
    )
    assert untouched


def test_the_report_folder_holds_the_fit(quick_fit, quick_targets):
    result, _ = quick_fit
    assert {
        "calibration.json",
        "calibration.md",
        "posterior.csv",
        "panel_fit.png",
        "panel_paths.png",
        "marginals.png",
        "pairs.png",
        "generations.png",
    } <= {p.name for p in result.folder.iterdir()}
    report = json.loads((result.folder / "calibration.json").read_text(),
                        parse_constant=lambda constant: pytest.fail(f"{constant} in strict JSON"))
    settings = load_targets(quick_targets).calibration
    assert report["quick"] is True and report["validation"] is None
    assert (
        report["command"].endswith("--quick") and report["settings"] == settings.quick.model_dump()
    )
    assert [row["name"] for row in report["panel"]] == [
        t.name for t in load_targets(TARGETS).targets
    ]
    assert [row["parameter"] for row in report["parameters"]] == list(settings.parameters)
    assert len(report["fit"]["generations"]) == settings.quick.generations
    assert report["identification"]["not_identified"] == [
        row["parameter"] for row in report["parameters"] if not row["identified"]]
    for generation in report["fit"]["generations"]:
        assert 1.0 <= generation["ess"] <= generation["accepted"] + 1e-9
    assert report["fit"]["final_ess"] == report["fit"]["generations"][-1]["ess"]
    assert [move["move"] for move in report["fit"]["moves"]] == list(
        range(1, settings.quick.moves + 1))
    assert all(0 <= m["accepted"] <= m["inside"] <= m["proposed"] == settings.quick.draws
               for m in report["fit"]["moves"])
    draws = pd.read_csv(result.folder / "posterior.csv").drop(columns="draw")
    assert (
        report["distinct_draws"]
        == len(draws.drop_duplicates())
        == result.calibration.distinct_draws
    )
    text = (result.folder / "calibration.md").read_text()
    for heading in (
        "## Generations",
        "## The panel against the posterior predictive",
        "## Parameters",
    ):
        assert heading in text
    assert "**Claims without a primary source.** " + ", ".join(report["claimed"]) in text


def test_a_full_fit_writes_the_draws_and_the_fragment_the_scenario_uses(quick_fit, quick_targets,
                                                                      tmp_path):
    """Writing the fit (here a quick one's): the fragment holds the medians and names the draws,
    and a scenario extending it runs replication i on draw i."""
    result, _ = quick_fit
    scenario = tmp_path / "calibrated-baseline.yaml"
    scenario.write_text(
        f"extends: [{ROOT / 'scenarios' / 'world.yaml'}, fitted.yaml]\nname: fitted\n"
    )
    (tmp_path / "fitted.yaml").write_text("{}\n")
    wrote = write_posterior(result.calibration, tmp_path / "targets.yaml",
                            load_targets(quick_targets).calibration, scenario, result.report)
    assert wrote == [tmp_path / "draws.csv", tmp_path / "fitted.yaml"]
    fragment = (tmp_path / "fitted.yaml").read_text()
    assert (
        fragment.startswith("# Written by `adoptsim calibrate ")
        and "posterior:\n  file: draws.csv" in fragment
    )
    loaded = load_scenario(scenario)
    np.testing.assert_allclose(loaded.posterior.draws, result.calibration.draws, rtol=1e-5)
    migration = result.calibration.names.index("behaviour.migration_cost_usd")
    assert loaded.behaviour.migration_cost_usd == pytest.approx(
        float(np.median(result.calibration.draws[:, migration])), rel=1e-5)


def test_a_fragment_the_scenario_does_not_use_is_put_back(quick_fit, quick_targets, tmp_path):
    result, _ = quick_fit
    scenario = tmp_path / "pinned.yaml"
    scenario.write_text(
        f"extends: [{ROOT / 'scenarios' / 'world.yaml'}, fitted.yaml]\nname: pinned\n"
        "behaviour: {migration_cost_usd: 5000.0}\n"
    )
    (tmp_path / "fitted.yaml").write_text("{}\n")
    with pytest.raises(ScenarioError, match="behaviour.migration_cost_usd"):
        write_posterior(result.calibration, tmp_path / "targets.yaml",
                        load_targets(quick_targets).calibration, scenario, result.report)
    assert (tmp_path / "fitted.yaml").read_text() == "{}\n" and not (
        tmp_path / "draws.csv"
    ).exists()


def test_the_deterministic_sampler_recovers_a_known_posterior(tmp_path):
    """x ~ Normal(mean, 0.5), observed 1.0, flat prior on [-5, 5]: the posterior of the mean is
    about Normal(1, 0.5). ABC-SMC with the sampler gives the same particles on one local worker
    and on a two-worker Dask cluster (two local workers: the quick fit's test), and a posterior
    near that."""
    import pyabc

    from sim.calibration import OrderedSampler
    from sim.running.executors import make_executor

    def fit(executor: str, workers: int) -> tuple[np.ndarray, np.ndarray]:
        np.random.seed(3)
        with make_executor(executor, workers=workers, tasks=32) as pool:
            abc = pyabc.ABCSMC(_normal_model, pyabc.Distribution(mean=pyabc.RV("uniform", -5, 10)),
                               _absolute_distance, population_size=100,
                               sampler=OrderedSampler(pool, batch=32))
            abc.new(f"sqlite:///{tmp_path / f'{executor}-{workers}.db'}", {"x": 1.0})
            history = abc.run(max_nr_populations=4)
        particles, weights = history.get_distribution(m=0, t=history.max_t)
        return particles["mean"].to_numpy(), np.asarray(weights)

    one, weights = fit("local", 1)
    np.testing.assert_array_equal(fit("dask", 2)[0], one)
    mean = np.average(one, weights=weights)
    sd = np.sqrt(np.average((one - mean) ** 2, weights=weights))
    assert abs(mean - 1.0) < 0.2 and 0.35 < sd < 0.75


def test_moves_make_repeated_draws_distinct_and_keep_them_inside_the_threshold():
    """Resample-move on a posterior known exactly: the distance is how far a draw lies from
    (0.5, 0.5) in either coordinate, so the posterior at threshold 0.1 is uniform on the square
    [0.4, 0.6]^2 (and, with a prior starting at 0.45, on [0.45, 0.6] x [0.4, 0.6]). Two hundred
    copies of one point (a fully collapsed resample) become distinct draws, none outside the
    threshold or the prior, spread like the uniform (sd 0.2/sqrt(12) = 0.058 on the full
    square), identically on one worker and two."""
    from sim.calibration.fit import resample_move
    from sim.running.executors import make_executor

    def moved(workers: int, moves: int):
        with make_executor("local", workers=workers, tasks=200) as pool:
            return resample_move(pool, _box_distance, np.full((200, 2), 0.5), np.eye(2) * 0.004,
                                 np.array([[0.45, 1.0], [0.0, 1.0]]), 0.1, moves,
                                 np.random.default_rng(3))

    draws, records = moved(1, 30)
    assert len(np.unique(draws, axis=0)) > 190
    assert np.all(np.abs(draws - 0.5) <= 0.1) and np.all(draws[:, 0] >= 0.45)
    assert abs(draws[:, 1].std() - 0.2 / np.sqrt(12)) < 0.01
    assert [r["move"] for r in records] == list(range(1, 31))
    assert all(r["accepted"] <= r["inside"] < r["proposed"] == 200 for r in records)
    np.testing.assert_array_equal(moved(2, 3)[0], moved(1, 3)[0])


def _box_distance(task) -> float:
    values, _seed = task
    return float(np.max(np.abs(np.asarray(values) - 0.5)))


def _normal_model(parameters) -> dict:
    return {"x": parameters["mean"] + 0.5 * np.random.standard_normal()}


def _absolute_distance(simulated: dict, observed: dict) -> float:
    return abs(simulated["x"] - observed["x"])


def test_targets_file_errors_name_the_key(tmp_path):
    path = tmp_path / "targets.yaml"

    def error(edit) -> ScenarioError:
        settings = yaml.safe_load(TARGETS.read_text())
        edit(settings)
        path.write_text(yaml.safe_dump(settings))
        with pytest.raises(ScenarioError) as caught:
            calibrate_scenario(BASELINE, path, quick=True, out=None)
        return caught.value

    assert (
        error(lambda s: s["targets"][0].update(metric="workload_share_clsoed")).key_path
        == "targets.0.metric"
    )
    assert error(lambda s: s["targets"][1].update(colour="red")).key_path == "targets.1.colour"
    assert error(lambda s: s["calibration"]["fit"].update(draws=50)).key_path == "calibration.fit"
    assert (
        error(
            lambda s: s["calibration"]["parameters"].update(
                {"behaviour.no_such_key": {"low": 0, "high": 1}}
            )
        ).key_path
        == "calibration.parameters.behaviour.no_such_key"
    )
    assert (
        error(
            lambda s: s["calibration"]["parameters"].update(
                {"behaviour.review_rate": {"low": 0.1, "high": 7}}
            )
        ).key_path
        == "calibration.parameters.behaviour.review_rate"
    )


@pytest.mark.parametrize("until, message", [("2023Q4", "before every target"),
                                            ("2025Q4", "holds no target out"),
                                            ("2031Q1", "holds no target out")])
def test_an_until_that_holds_nothing_out_is_a_user_error(capsys, tmp_path, until, message):
    assert main(["calibrate", "--quick", "--until", until, "--out", str(tmp_path)]) == 2
    assert message in capsys.readouterr().err
    assert not any(tmp_path.iterdir())


def test_a_malformed_until_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["calibrate", "--until", "late-2024"])
    assert caught.value.code == 2
    assert "not a quarter" in capsys.readouterr().err


def test_until_holds_out_the_later_entries_and_reports_their_coverage(
    quick_targets, tmp_path, capsys
):
    """`adoptsim calibrate --quick --until 2024Q4`: the entries after 2024Q4 are held out, and the
    report's validation section lists exactly them, with their coverage; nothing is written."""
    assert main(["calibrate", "--targets", str(quick_targets), "--quick", "--until", "2024Q4",
                 "--workers", "2", "--out", str(tmp_path), "--quiet"]) == 0
    printed = capsys.readouterr().out
    folder = next((tmp_path / "calibration").iterdir())
    assert f"Calibration report: {folder}" in printed and "Wrote" not in printed
    assert "open_share_late_2024" in printed and "behaviour.migration_cost_usd" in printed
    report = json.loads((folder / "calibration.json").read_text())
    later = [t.name for t in load_targets(TARGETS).targets
             if parse_quarter(t.quarter) > parse_quarter("2024Q4")]
    assert [row["name"] for row in report["panel"] if not row["fitted"]] == later
    validation = report["validation"]
    assert validation["until"] == "2024Q4" and validation["held_out"] == later
    inside = [row["inside"] for row in report["panel"] if not row["fitted"]]
    assert validation["inside"] == sum(inside) and validation["coverage"] == pytest.approx(
        np.mean(inside)
    )
    section = (folder / "calibration.md").read_text().split("## Validation")[1]
    listed = [
        line.split(" | ")[0].strip("| ") for line in section.splitlines() if line.startswith("| ")
    ]
    assert listed[2:] == later   # after the header row and its rule
    assert f"(coverage {validation['coverage']:.0%})" in section
    assert "after 2024Q4 inside their 90% predictive interval" in printed
    assert not (quick_targets.parent / "fitted.yaml").exists()


def test_calibration_stays_out_of_import_sim_and_help():
    import subprocess
    import sys

    code = ("import sys, sim, sim.cli, sim.calibration; sim.cli.build_parser(); "
            "from sim.calibration import load_targets; "
            "assert not {'pyabc', 'sim.core.model'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)
