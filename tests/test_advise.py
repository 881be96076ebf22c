"""Advice for one enterprise (``adoptsim advise``): profiles, the model's choice for one
enterprise, the behaviour the issue asks for with the profile changed one thing at a time, bad
profiles, reproducibility, the folder and its report.

Advice here runs at small settings (few posterior draws, one small peer replication, the
baseline only) so the tests stay fast; the behaviour does not depend on them.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from conftest import BASELINE, ROOT

import sim
from sim.advise import flips
from sim.advise.advice import COST_PARTS, Settings, advise
from sim.advise.draws import Draws
from sim.advise.enterprise import TYPICAL_ML_ENGINEERS, enterprise, ml_capacity
from sim.advise.evaluate import World, evaluate
from sim.advise.profile import Profile, load_profile
from sim.cli import main
from sim.core import agents
from sim.core.kernel import OPTIONS
from sim.core.population import mean_ml_capacity
from sim.core.scenario import load_scenario
from sim.core.schema import SECTOR_NAMES, SIZES
from sim.core.signal_table import SIGNAL_BY_NAME

PROFILES = sorted((ROOT / "profiles").glob("*.yaml"))
SMALL = Settings(draws=40, peer_replications=1, peer_enterprises=400)
FAST = {"draws": 8, "peer_replications": 1, "peer_enterprises": 200, "scenarios": [],
        "baseline": BASELINE, "until": "2027Q4"}
# Token demand held flat after 2025 (so a workload's volume stays where the profile puts it).
FLAT_DEMAND = "signals.token_demand_index={points: {2024Q1: 1.0, 2024Q4: 1.6, 2025Q4: 6.2}}"


@pytest.fixture(scope="module")
def baseline_scenario():
    return load_scenario(BASELINE)


def profile(workloads, **settings) -> Profile:
    """A profile of a mid-size EU insurer with four ML engineers, as of 2025Q4, changed by
    ``settings``."""
    return Profile.model_validate({"kind": "profile", "name": "test", "sector": "insurance",
                                   "region": "eu", "size": "mid", "ml_engineers": 4,
                                   "as_of": "2025Q4", **settings, "workloads": workloads})


def workload(workload_class: str, tokens: float, **attributes) -> dict:
    return {"name": f"{workload_class}-{tokens:g}", "class": workload_class,
            "million_tokens_per_month": tokens, **attributes}


def table(advice_profile: Profile, scenario, settings: Settings = SMALL):
    return advise(advice_profile, [scenario], settings).table


def open_share(rows) -> np.ndarray:
    return (rows["share_open"] + rows["share_open_finetuned"]).to_numpy()


# --- profiles ---------------------------------------------------------------------------------

def test_the_example_profiles_are_valid_and_validate_says_so(capsys):
    assert len(PROFILES) >= 3
    for path in PROFILES:
        loaded = load_profile(path)
        assert main(["validate", str(path)]) == 0
        out = capsys.readouterr().out
        assert out.startswith(f"{path}: valid profile '{loaded.name}' ({loaded.sector}, ")
        assert f"{len(loaded.workloads)} workloads as of {loaded.as_of}" in out
    # a scenario is still validated as a scenario
    assert main(["validate", str(BASELINE)]) == 0
    assert "valid scenario 'baseline'" in capsys.readouterr().out


def test_ml_capacity_grows_with_the_team_through_the_band_mean(baseline_scenario):
    mean = float(mean_ml_capacity(baseline_scenario, SECTOR_NAMES.index("insurance"),
                                  SIZES.index("mid")))
    capacities = [ml_capacity(profile([workload("exploratory", 1)], ml_engineers=engineers),
                              baseline_scenario) for engineers in (0, 1, 4, 5, 20, 500)]
    assert capacities[0] == 0.0
    assert all(a < b for a, b in zip(capacities, capacities[1:]))
    assert capacities[3] == pytest.approx(mean)          # the typical mid-size team: 5
    assert TYPICAL_ML_ENGINEERS["mid"] == 5
    assert capacities[-1] < 1.0
    given = profile([workload("exploratory", 1)], ml_engineers=4, ml_capacity=0.9)
    assert ml_capacity(given, baseline_scenario) == 0.9


def test_tokens_a_month_at_as_of_are_the_workloads_volume_then(baseline_scenario):
    rows = table(profile([workload("internal_high_volume", 1234.0),
                          workload("coding_agents", 55.0)]), baseline_scenario,
                 Settings(draws=2, peer_replications=1, peer_enterprises=200, until="2026Q4"))
    at_as_of = rows[rows["quarter"] == "2025Q4"].set_index("class")["mtok_per_month"]
    assert at_as_of["internal_high_volume"] == pytest.approx(1234.0)
    assert at_as_of["coding_agents"] == pytest.approx(55.0)
    later = rows[rows["quarter"] == "2026Q4"].set_index("class")["mtok_per_month"]
    demand = baseline_scenario.signals.token_demand_index
    assert demand.extend.annual_rate == 0.5                   # a year later: 1.5 times the tokens
    classes = baseline_scenario.population.workload_classes   # each grows by its elasticity
    for name, monthly in (("internal_high_volume", 1234.0), ("coding_agents", 55.0)):
        assert later[name] == pytest.approx(monthly * 1.5 ** classes[name].demand_elasticity)
    elasticity = {name: spec.demand_elasticity for name, spec in classes.items()}
    assert elasticity["coding_agents"] > elasticity["internal_high_volume"]


# --- the model's choice, for one enterprise ----------------------------------------------------

def test_the_choice_is_the_reference_paths_stack_values_for_every_draw(baseline_scenario):
    firm = enterprise(load_profile(ROOT / "profiles" / "tech-na-large.yaml"), baseline_scenario)
    draws = Draws.of(baseline_scenario, firm.size_band)
    outcome = evaluate(firm, draws, np.arange(draws.count), 20, 7,
                       World(price_multiplier=1.1, perceived_risk=0.3, peer_open=0.5))
    assert len(set(outcome.stack.tolist())) > 1          # the draws disagree: a real check
    assert len({tuple(row) for row in outcome.allocation.tolist()}) > 2
    for case in range(draws.count):
        utilities = {w: tuple(outcome.utilities[:, case, w]) for w in range(firm.workloads)}
        current = {w: int(firm.deployment[w]) for w in range(firm.workloads)}
        values, allocations = agents.stack_values(utilities, current, set(utilities),
                                                  outcome.platform[case], outcome.peer[case])
        best = max(range(3), key=lambda stack: (values[stack], -stack))
        assert best == outcome.stack[case]
        assert [allocations[best][w] for w in range(firm.workloads)] == \
            outcome.allocation[case].tolist()


def test_cost_parts_add_up_to_each_options_cost(baseline_scenario):
    advice = advise(profile([workload("privacy_sensitive", 800), workload("exploratory", 10)]),
                    [baseline_scenario], Settings(draws=10, peer_replications=1,
                                                  peer_enterprises=200, until="2026Q4"))
    costs = advice.costs.set_index(["workload", "year", "option", "part"])["mean"]
    assert set(advice.costs["part"]) == {part for parts in COST_PARTS.values() for part in parts}
    for row in advice.table.itertuples():
        for option, parts in COST_PARTS.items():
            paid = sum(costs[row.workload, row.year, option, part] for part in parts
                       if part != "compliance")
            assert paid == pytest.approx(getattr(row, f"cost_{option}_usd"), rel=1e-9)
        assert row.compliance_usd > 0                    # privacy work in a regulated EU sector
        assert row.platform_usd > 0


# --- behaviour, one thing changed at a time ----------------------------------------------------

def test_more_tokens_on_internal_work_make_open_no_less_recommended(baseline_scenario):
    shares = [open_share(table(profile([workload("internal_high_volume", tokens)]),
                               baseline_scenario))
              for tokens in (30, 300, 3000, 30000, 300000)]
    for fewer, more in zip(shares, shares[1:]):
        assert np.all(more >= fewer)
    assert shares[-1].min() > shares[0].max()            # and volume does move it


def test_a_larger_ml_team_lowers_the_break_even_volume(baseline_scenario):
    work = [workload("coding_agents", 500), workload("customer_facing", 300)]
    small, large = (table(profile(work, ml_engineers=engineers), baseline_scenario)
                    for engineers in (1, 20))
    small_even = small["break_even_mtok_per_month"].to_numpy()
    large_even = large["break_even_mtok_per_month"].to_numpy()
    assert np.isfinite(small_even).all()
    assert np.all(large_even < small_even)
    assert np.all(large["cost_open_usd"] < small["cost_open_usd"])


def test_a_regulated_eu_sector_leans_more_to_open_for_privacy_work(baseline_scenario):
    work = [workload("privacy_sensitive", 3000)]
    same = {"ml_capacity": 0.3}                          # only sector and region differ
    eu, na = (table(profile(work, sector=sector, region=region, **same), baseline_scenario)
              for sector, region in (("insurance", "eu"), ("retail", "north_america")))
    assert np.all(eu["compliance_usd"] > 3 * na["compliance_usd"])
    assert np.all(open_share(eu) >= open_share(na))
    assert open_share(eu).sum() > open_share(na).sum() + 0.3


def test_a_higher_gpu_rent_raises_the_open_cost_and_the_break_even(baseline_scenario):
    rent = baseline_scenario.signals.gpu_rent_usd_per_hour.points
    doubled = load_scenario(BASELINE, [f"signals.gpu_rent_usd_per_hour.points="
                                       f"{ {q: 2 * v for q, v in rent.items()} }".replace("'", "")])
    work = profile([workload("internal_high_volume", 3000), workload("coding_agents", 2000)])
    cheap, dear = table(work, baseline_scenario), table(work, doubled)
    assert np.all(dear["cost_open_usd"] > cheap["cost_open_usd"])
    assert np.all(dear["cost_open_finetuned_usd"] > cheap["cost_open_finetuned_usd"])
    assert np.all(dear["cost_closed_usd"] == cheap["cost_closed_usd"])
    cheap_even, dear_even = (rows["break_even_mtok_per_month"].to_numpy() for rows in (cheap, dear))
    finite = np.isfinite(cheap_even)
    assert finite.any() and np.all(dear_even[finite] > cheap_even[finite])
    assert np.all(np.isinf(dear_even[~finite]))


def test_work_needing_the_frontier_stays_closed_while_the_frontier_gap_is_open():
    # a lead the size of the calibrated one of 2025 (about 40 points), held or closed by 2026Q4
    held_open = load_scenario(BASELINE, [FLAT_DEMAND,
                                         "signals.frontier_gap={points: {2024Q1: 40.0}}"])
    closing = load_scenario(BASELINE, [FLAT_DEMAND, "signals.frontier_gap={points: "
                                       "{2024Q1: 40.0, 2025Q4: 40.0, 2026Q4: 0.0}}"])
    # 500 million tokens a month, where capability rather than cost decides: at several billion a
    # month, frontier-priced tokens make a fine-tuned open model pay even against a wide lead
    work = profile([workload("coding_agents", 500, frontier_need=0.98)])
    gap_open, gap_closed = table(work, held_open), table(work, closing)
    assert (gap_open["recommended"] == "closed").all()
    assert (gap_open["agreement"] >= 0.75).all()
    later = (gap_open["year"] >= 2027).to_numpy()
    assert np.all(open_share(gap_closed)[later] > open_share(gap_open)[later])


# --- what would flip it ------------------------------------------------------------------------

def test_the_threshold_search_finds_where_a_recommendation_changes():
    spec = SIGNAL_BY_NAME["gpu_rent_usd_per_hour"]

    def recommender(name, values):     # workload 0 flips to open below 1.3, workload 1 never
        return np.stack([np.where(np.asarray(values) < 1.3, 1, 0), np.zeros(len(values))],
                        axis=1).astype(int)

    found = {(t.workload, t.direction): t for t in flips.thresholds(spec, 2.0, recommender)}
    assert found[0, "down"].value == pytest.approx(1.3, rel=0.01)
    assert found[0, "down"].value < 1.3 and found[0, "down"].becomes == "open"
    assert found[0, "up"].value is None and found[0, "up"].bound == 20.0
    assert found[1, "down"].value is None and found[1, "down"].bound == pytest.approx(0.2)
    assert {spec.name for spec in flips.FLIP_SIGNALS} == {
        "frontier_price_usd_per_mtok", "fixed_capability_price_usd_per_mtok",
        "gpu_rent_usd_per_hour", "tooling_maturity"}


def test_a_reported_threshold_flips_the_recommendation(baseline_scenario):
    advice = advise(load_profile(ROOT / "profiles" / "insurer-eu-mid.yaml"), [baseline_scenario],
                    Settings(draws=40, peer_replications=1, peer_enterprises=400))
    found = advice.thresholds.dropna(subset=["threshold"])
    assert not found.empty
    firm = enterprise(advice.profile, baseline_scenario)
    draws = Draws.of(baseline_scenario, firm.size_band, 40)
    names = list(firm.names)
    for row in found.head(4).itertuples():
        quarter = int(row.year) * 4 + 3 - 2024 * 4
        world = _world(advice, quarter)
        toward_now = 0.995 if row.direction == "up" else 1.005
        index = names.index(row.workload)
        now, near, beyond = (_recommended(firm, draws, quarter, world, row.signal, value)[index]
                             for value in (row.now, row.threshold * toward_now, row.threshold))
        assert OPTIONS[beyond] == row.becomes != OPTIONS[now]
        assert near == now                    # just short of the threshold: not yet flipped


def _world(advice, quarter: int) -> World:
    """The world the advice met at ``quarter``: the same peer simulation."""
    from sim.advise.peers import simulate_peers

    peers = simulate_peers(load_scenario(BASELINE), advice.profile, quarters=28,
                           replications=1, enterprises=400)
    return peers.world(quarter)


def _recommended(firm, draws, quarter, world, signal, value):
    outcome = evaluate(firm, draws, np.arange(draws.count), quarter, 7, world,
                       {signal: np.full(draws.count, value)})
    return flips.recommend(outcome.allocation)[0]


# --- bad profiles ------------------------------------------------------------------------------

GOOD = """kind: profile
name: bad
sector: insurance
region: eu
size: mid
ml_engineers: 4
vendor: vendor_a
workloads:
  - name: claims
    class: privacy_sensitive
    million_tokens_per_month: 600
"""
BAD = {
    "unknown class": (GOOD.replace("class: privacy_sensitive", "class: privacy"), 10,
                      "workloads.0.class", "Input should be 'customer_facing'"),
    "negative tokens": (GOOD.replace(": 600", ": -600"), 11,
                        "workloads.0.million_tokens_per_month", "greater than 0"),
    "missing workloads": (GOOD.split("workloads:")[0], 1, "workloads", "missing required key"),
    "no workloads": (GOOD.split("workloads:")[0] + "workloads: []\n", 8, "workloads",
                     "at least 1 item"),
    "unknown key": (GOOD.replace("ml_engineers: 4", "ml_engineers: 4\nml_enginers: 4"), 7,
                    "ml_enginers", "did you mean 'ml_engineers'?"),
    "unknown vendor": (GOOD.replace("vendor_a", "vendor_z"), 7, "vendor",
                       "'vendor_z' is not a vendor of scenario 'baseline'"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_a_bad_profile_exits_2_naming_file_line_and_key_and_writes_nothing(tmp_path, capsys, case):
    text, line, key, message = BAD[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    out = tmp_path / "out"
    code = main(["advise", str(path), "--baseline", str(BASELINE), "--scenarios", "--draws", "2",
                 "--peer-replications", "1", "--peer-enterprises", "100", "--out", str(out)])
    error = capsys.readouterr().err
    assert code == 2
    assert error.startswith(f"adoptsim: error: {path}:{line}: {key}: "), error
    assert message in error and len(error.strip().splitlines()) == 1
    assert not out.exists()                      # checked before any folder is made
    if case != "unknown vendor":          # the schema alone finds the others
        assert main(["validate", str(path)]) == 2
        assert capsys.readouterr().err.startswith(f"adoptsim: error: {path}:{line}: {key}: ")


def test_a_binary_profile_exits_2_and_writes_nothing(tmp_path, capsys):
    path = tmp_path / "profile.yaml"
    path.write_bytes(b"kind: profile\n\x00\x01\x02binary")
    out = tmp_path / "out"
    assert main(["advise", str(path), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"adoptsim: error: {path}: a binary file") and not out.exists()


def test_until_before_the_profiles_quarter_exits_2(tmp_path, capsys):
    path = tmp_path / "profile.yaml"
    path.write_text(GOOD)
    assert main(["advise", str(path), "--baseline", str(BASELINE), "--scenarios",
                 "--until", "2025Q1", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith(
        "adoptsim: error: --until 2025Q1: must lie between the profile's as_of 2025Q4")


# --- the folder, its reproducibility and its report --------------------------------------------

@pytest.fixture(scope="module")
def advice_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("advice")
    return sim.advise_profile(ROOT / "profiles" / "insurer-eu-mid.yaml", out=out, **FAST)


def test_same_inputs_give_the_same_advice(advice_folder, tmp_path):
    again = sim.advise_profile(ROOT / "profiles" / "insurer-eu-mid.yaml", out=tmp_path, **FAST)
    first, second = advice_folder.folder, again.folder
    assert first.name[-8:] == second.name[-8:] == advice_folder.manifest["advice_hash"][:8]
    for name in ("advice.csv", "advice.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes()


def test_the_folder_holds_the_advice_and_the_manifest(advice_folder):
    import json

    import pandas as pd

    folder = advice_folder.folder
    assert folder.parent.name == "insurer-eu-mid" and folder.parent.parent.name == "advise"
    rows = pd.read_csv(folder / "advice.csv")
    names = [w.name for w in load_profile(ROOT / "profiles" / "insurer-eu-mid.yaml").workloads]
    assert list(dict.fromkeys(rows["workload"])) == names
    assert sorted(set(rows["year"])) == [2025, 2026, 2027]
    assert set(rows["recommended"]) <= set(OPTIONS)
    shares = rows[["share_closed", "share_open", "share_open_finetuned"]].sum(axis=1)
    assert np.allclose(shares, 1.0)
    assert np.all(rows["agreement"] == rows[["share_closed", "share_open",
                                             "share_open_finetuned"]].max(axis=1))
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["reference"] == "baseline" and manifest["settings"]["draws"] == 8
    assert manifest["scenarios"]["baseline"]["draws"] == 8
    assert sorted(p.name for p in (folder / "plots").iterdir()) == [
        *(f"costs_{i:02d}.png" for i in range(1, len(names) + 1)), "recommendations.png"]


def test_the_report_answers_first_and_is_rebuilt_by_adoptsim_report(advice_folder, capsys):
    folder = advice_folder.folder
    page = (folder / "report.html").read_text()
    first_screen = page[:page.index('<nav')]
    assert "What should run where." in first_screen and "What it costs." in first_screen
    for name in ("claims-triage", "developer-copilot"):
        assert name in first_screen
    assert page.count('<img src="data:image/png;base64,') == 7
    assert "http://" not in page and "https://" not in page
    (folder / "report.html").unlink()
    assert main(["report", str(folder)]) == 0
    assert (folder / "report.html").read_text() == page   # rebuilt from the folder's files
    assert "Report:" in capsys.readouterr().out


def test_the_command_prints_the_folder_and_the_table(tmp_path):
    from test_cli import cli

    profile_path = tmp_path / "retailer.yaml"
    shutil.copy(ROOT / "profiles" / "retailer-na-small.yaml", profile_path)
    result = cli("advise", profile_path, "--baseline", BASELINE, "--scenarios", "--draws", "4",
                 "--peer-replications", "1", "--peer-enterprises", "200", "--until", "2026Q4",
                 "--out", tmp_path / "out", "--no-plots", cwd=tmp_path, script=True)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    folder = tmp_path / "out" / "advise" / "retailer-na-small"
    assert lines[0].startswith(f"Advice folder: {folder}")
    assert "3 workloads under 1 scenarios, 4 posterior draws each" in lines[1]
    assert any(line.startswith("product-descriptions") and "closed" in line for line in lines)
    assert any("break-even Mtok/mo" in line for line in lines)
