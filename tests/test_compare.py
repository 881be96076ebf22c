"""The what-to-watch library moves adoption the way each story says, measured with paired
differences against the baseline under common random numbers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.core.model import AdoptionModel
from sim.core.scenario import load_scenario
from sim.running.compare import comparison_table, watch_matrix
from sim.workflows import compare_scenarios

ROOT = Path(__file__).resolve().parents[1]
WATCH = ROOT / "scenarios" / "watch"
SMALL = ["population.enterprises=500", "replications=4"]
END = "2030Q4"


def small(path: Path):
    return load_scenario(path, SMALL)


@pytest.fixture(scope="module")
def library() -> pd.DataFrame:
    """Every watch scenario and the baseline, small, same seeds; tidy frame of all of them."""
    scenarios = [small(path) for path in sorted(WATCH.glob("*.yaml"))]
    result = compare_scenarios(scenarios, reference=small(ROOT / "scenarios" / "baseline.yaml"),
                               dates=("2026Q4", END), workers=2, out=None)
    return result.frame


def levels(frame: pd.DataFrame, scenario: str, metric: str, segment: str = "all",
           quarter: str = END) -> np.ndarray:
    rows = frame[(frame["scenario"] == scenario) & (frame["metric"] == metric)
                 & (frame["segment"] == segment) & (frame["quarter"] == quarter)]
    return rows.sort_values("replication")["value"].to_numpy()


def paired_change(frame: pd.DataFrame, scenario: str, metric: str, segment: str = "all",
                  quarter: str = END, reference: str = "baseline") -> np.ndarray:
    return (levels(frame, scenario, metric, segment, quarter)
            - levels(frame, reference, metric, segment, quarter))


def assert_moves(
    frame, scenario, metric, direction, segment="all", reference="baseline", margin=0.005
):
    change = paired_change(frame, scenario, metric, segment, reference=reference)
    assert np.sign(change.mean()) == direction and abs(change.mean()) > margin, (
        scenario, metric, segment, change)


def test_every_scenario_in_the_library_validates_and_ran(library):
    names = {load_scenario(path).name for path in WATCH.glob("*.yaml")}
    assert len(names) == 13
    assert names | {"baseline"} == set(library["scenario"])


def test_tooling_axis(library):
    # The baseline's tooling already reaches 0.72 by 2030, where more maturity relieves little
    # (GPU utilisation near its ceiling, platform staff near fully relieved): maturing faster
    # adds less than a stall takes away, so only its sign is asserted against the baseline.
    assert_moves(library, "tooling-fast", "workload_share_open_any", +1, margin=0.0)
    assert_moves(library, "tooling-stall", "workload_share_open_any", -1)
    for metric in ("workload_share_open_any", "stack_share_hybrid"):
        assert_moves(library, "tooling-fast", metric, +1, reference="tooling-stall")


def test_gap_axis(library):
    assert_moves(library, "gap-reopens", "workload_share_closed", +1)
    assert_moves(library, "gap-tracks", "workload_share_closed", -1)
    assert_moves(library, "gap-reopens", "workload_share_closed", +1, reference="gap-tracks")


def test_the_two_by_two_orders_as_the_stories_say(library):
    for gap in ("tracks", "reopens"):
        assert_moves(library, f"tooling-fast-gap-{gap}", "workload_share_open_any", +1,
                     reference=f"tooling-stall-gap-{gap}")
    for tooling in ("fast", "stall"):
        assert_moves(library, f"tooling-{tooling}-gap-reopens", "workload_share_closed", +1,
                     reference=f"tooling-{tooling}-gap-tracks")


def test_shocks(library):
    assert_moves(library, "eu-sovereignty", "workload_share_open_any", +1, segment="region=eu")
    eu_gain = paired_change(
        library, "eu-sovereignty", "workload_share_open_any", "region=eu"
    ).mean()
    elsewhere = paired_change(library, "eu-sovereignty", "workload_share_open_any",
                              "region=north_america").mean()
    assert eu_gain > elsewhere + 0.005
    # Cheaper GPUs halve self-hosting's serving cost per token by 2030, but serving is a small
    # part of what open work costs in the calibrated model (the engineers weigh far more; the
    # panel leaves their number wide): open's price per token falls a little, adoption moves
    # little.
    open_price = paired_change(library, "hardware-deflation", "price_paid_usd_per_mtok_open")
    assert (open_price < 0).all()
    assert_moves(library, "hardware-deflation", "workload_share_open_any", +1, margin=0.0)
    assert_moves(library, "hardware-deflation", "volume_share_open_any", +1, margin=0.0)
    assert_moves(library, "closed-breakthrough", "workload_share_closed", +1)


def _open_share_of(model: AdoptionModel, customers: np.ndarray) -> float:
    mine = customers[model.population.owner] & (model.deployment >= 0)
    return float((model.deployment[mine] > 0).mean())


@pytest.mark.parametrize("story, event_quarter, vendor, region, material", [
    # vendor_a raises prices in 2026Q3: its customers move, but little (a few tenths of a point
    # a year on): the calibrated cost weight is small, enterprises pay for capability
    ("price-hike", 10, 0, None, 0.0),
    ("withdrawal-eu", 9, 1, 0, 0.01),         # vendor_b leaves the EU in 2026Q2
])
def test_a_vendor_shock_moves_its_customers_after_the_shock_and_not_before(story, event_quarter,
                                                                          vendor, region,
                                                                          material):
    base = small(ROOT / "scenarios" / "baseline.yaml")
    shocked = small(WATCH / f"{story}.yaml")
    gains = []
    for seed in range(4):
        models = [AdoptionModel(scenario, seed=seed) for scenario in (base, shocked)]
        population = models[0].population
        customers = population.vendor == vendor
        if region is not None:
            customers &= population.region == region
        for model in models:
            model.run(event_quarter)
        np.testing.assert_array_equal(models[0].deployment, models[1].deployment)
        np.testing.assert_array_equal(models[0].stack, models[1].stack)
        for model in models:
            model.run(event_quarter + 4)
        gains.append(_open_share_of(models[1], customers) - _open_share_of(models[0], customers))
    assert min(gains) >= 0 and np.mean(gains) > material, gains


def test_paired_intervals_are_narrower_than_unpaired(library):
    table = comparison_table(library, "baseline", ["workload_share_closed"], [END])
    table = table[table["scenario"] != "baseline"].set_index("scenario")
    ratio = ((table["difference_high"] - table["difference_low"])
             / (table["unpaired_high"] - table["unpaired_low"]))
    # Pairing removes the chance both scenarios share; what is left is how much the scenario's
    # effect itself varies with the posterior draw each replication runs on. Every future that
    # leaves the frontier gap alone pairing narrows by more than half. Those that move it set
    # its level while each draw has its own calibrated lead and sensitivity to it, so their
    # effect varies with the draw: most where the lead vanishes (gap-tracks), which pairing
    # leaves about as wide as unpaired (draws with the largest lead lose most of it).
    baseline_gap = small(ROOT / "scenarios" / "baseline.yaml").signals.frontier_gap
    moves_gap = pd.Series({scenario.name: scenario.signals.frontier_gap != baseline_gap
                           for scenario in map(small, WATCH.glob("*.yaml"))})
    assert moves_gap.sum() >= 4 and (~moves_gap).sum() >= 6
    assert (ratio[~moves_gap[ratio.index]] < 0.5).all(), ratio
    assert (ratio < 1.25).all(), ratio


def test_the_watch_matrix_is_found_from_the_axes():
    scenarios = [load_scenario(path) for path in sorted(WATCH.glob("tooling-*-gap-*.yaml"))]
    matrix = watch_matrix(scenarios)
    assert matrix.rows == ("gap", ["reopens", "tracks"])
    assert matrix.columns == ("tooling", ["fast", "stall"])
    assert matrix.cells[("reopens", "stall")] == "tooling-stall-gap-reopens"
    assert watch_matrix(scenarios[:3]) is None


def test_compare_writes_a_folder_and_reuses_runs_by_hash(tmp_path):
    reference = load_scenario(ROOT / "scenarios" / "baseline.yaml",
                              ["population.enterprises=150", "replications=2"])
    variant = load_scenario(reference, ["name=cheap-hardware",
                                        "signals.gpu_rent_usd_per_hour.extend.annual_rate=-0.6"])
    first = compare_scenarios([variant], reference=reference, dates=(END,), workers=1, out=tmp_path)
    files = {path.name for path in first.folder.iterdir()}
    assert {"comparison.parquet", "comparison.csv", "manifest.json", "plots"} <= files
    assert (first.folder / "plots" / "fan_workload_share_closed.png").exists()
    second = compare_scenarios(
        [variant], reference=reference, dates=(END,), workers=1, out=tmp_path
    )
    assert second.runs == first.runs and second.folder != first.folder
    pd.testing.assert_frame_equal(first.table, second.table)
    assert len(list((tmp_path / "baseline").iterdir())) == 1


# --- ambiguous comparisons are refused ------------------------------------------------------------

def refused_comparison(capsys, tmp_path, *scenarios) -> str:
    from sim.cli import main

    code = main(["compare", *map(str, scenarios), "--replications", "1", "--out",
                 str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 2 and "Traceback" not in captured.err, captured
    assert not (tmp_path / "out").exists()
    return captured.err.removeprefix("adoptsim: error: ").strip()


def named(tmp_path: Path, file: str, extends: Path, name: str) -> Path:
    path = tmp_path / file
    path.write_text(f"extends: {extends}\nname: {name}\n", encoding="utf-8")
    return path


def test_compare_refuses_two_scenarios_with_the_same_name(tmp_path, capsys):
    first = named(tmp_path, "a.yaml", WATCH / "gap-reopens.yaml", "mine")
    second = named(tmp_path, "b.yaml", WATCH / "gap-tracks.yaml", "mine")
    assert refused_comparison(capsys, tmp_path, first, second) == (
        f"{second}: name: 'mine' is also the name of {first}; the scenarios in a comparison need "
        "names of their own (rows are kept by name)")


def test_compare_refuses_a_scenario_named_like_the_reference(tmp_path, capsys):
    variant = named(tmp_path, "variant.yaml", WATCH / "price-hike.yaml", "baseline")
    assert refused_comparison(capsys, tmp_path, variant) == (
        f"{variant}: name: 'baseline' is also the name of the reference scenarios/baseline.yaml; "
        "the scenarios in a comparison need names of their own (rows are kept by name)")


def test_compare_refuses_the_same_file_given_twice(tmp_path, capsys):
    hike = WATCH / "price-hike.yaml"
    assert refused_comparison(capsys, tmp_path, hike, WATCH / ".." / "watch" / hike.name) == (
        f"{WATCH / '..' / 'watch' / hike.name}: given twice; list each scenario once")


def test_compare_refuses_the_reference_among_the_scenarios(tmp_path, capsys):
    message = refused_comparison(capsys, tmp_path, ROOT / "scenarios" / "baseline.yaml")
    assert message.endswith("this is the reference scenario (--reference); list only the "
                            "scenarios to compare with it")


def test_compare_never_averages_scenarios_given_as_objects(tmp_path):
    from sim.core.scenario import ScenarioError

    reference = load_scenario(ROOT / "scenarios" / "baseline.yaml", ["replications=1"])
    twins = [load_scenario(WATCH / name, ["name=twin"]) for name in ("gap-reopens.yaml",
                                                                      "gap-tracks.yaml")]
    with pytest.raises(ScenarioError, match="'twin' is also the name of scenario 'twin'"):
        compare_scenarios(twins, reference=reference, out=tmp_path)
    assert list(tmp_path.iterdir()) == []
