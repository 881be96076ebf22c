"""Tests for sim.core.scenario: loading files, extends, --set overrides, error messages and
hashing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from sim.core.scenario import (
    ScenarioError,
    canonical_json,
    load_scenario,
    scenario_hash,
    scenario_to_yaml,
)
from sim.core.schema import REGIONS, Scenario
from sim.core.signal_table import SIGNALS

FIXTURE = Path(__file__).parent / "fixtures" / "minimal.yaml"
BASELINE = Path(__file__).parents[1] / "scenarios" / "baseline.yaml"
MINIMAL = FIXTURE.read_text(encoding="utf-8")


def line_of(text: str, needle: str) -> int:
    """1-based number of the first line of ``text`` containing ``needle``."""
    return next(number for number, line in enumerate(text.splitlines(), 1) if needle in line)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def edited(old: str, new: str) -> str:
    """The minimal fixture with one exact snippet replaced."""
    assert MINIMAL.count(old) == 1, old
    return MINIMAL.replace(old, new)


def load_error(source, overrides=()) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        load_scenario(source, overrides)
    return caught.value


# --- valid files and extends ------------------------------------------------------------------

def test_valid_file_loads():
    scenario = load_scenario(FIXTURE)
    assert isinstance(scenario, Scenario)
    assert scenario.name == "minimal"
    assert scenario.population.sizes["mid"].share == 0.3
    assert scenario.population.sizes["mid"].ml_capacity_mean == 0.2  # from the YAML merge key
    assert scenario.scheduled_events[0].price_multiplier == 1.2
    assert scenario.population.network.neighbours == 6  # schema default


def test_str_path_loads_too():
    assert load_scenario(str(FIXTURE)) == load_scenario(FIXTURE)


def test_baseline_is_the_world_with_the_calibrated_values():
    """The baseline file names itself, takes the world's settings and every signal from it, and
    the calibrated fragment's values over them."""
    scenario = load_scenario(BASELINE)
    raw, world, calibrated = (yaml.safe_load((BASELINE.parent / name).read_text())
                              for name in ("baseline.yaml", "world.yaml", "calibrated.yaml"))
    assert raw["extends"] == ["world.yaml", "calibrated.yaml"]
    assert (scenario.name, scenario.description) == (raw["name"], raw["description"])
    assert (scenario.seed, scenario.replications) == (world["seed"], world["replications"])
    assert calibrated["behaviour"]
    for name, value in calibrated["behaviour"].items():
        assert getattr(scenario.behaviour, name) == value, name
    for spec in SIGNALS:
        path = getattr(scenario.signals, spec.name)
        assert set(path) == set(REGIONS) if spec.regional else path is not None, spec.name
    for name, signal in calibrated["signals"].items():
        assert getattr(scenario.signals, name).points.items() >= signal["points"].items(), name


def test_extends_merges_nested_keys_relative_to_the_extending_file(tmp_path):
    write(tmp_path / "base", "base.yaml", MINIMAL)
    child = write(tmp_path, "child.yaml", "extends: base/base.yaml\n"
                                          "name: child\n"
                                          "behaviour:\n"
                                          "  closed_preference: 0.9\n"
                                          "horizon:\n"
                                          "  end: 2027Q4\n")
    scenario = load_scenario(child)
    base = load_scenario(FIXTURE)
    assert scenario.name == "child"
    assert scenario.behaviour.closed_preference == 0.9
    assert scenario.behaviour.capability_weight == base.behaviour.capability_weight
    assert scenario.behaviour.review_rate == base.behaviour.review_rate
    assert scenario.horizon.start == "2024Q1" and scenario.horizon.end == "2027Q4"
    assert scenario.population == base.population


def test_extends_replaces_lists(tmp_path):
    (tmp_path / "base.yaml").write_text(MINIMAL, encoding="utf-8")
    child = write(tmp_path, "child.yaml", "extends: base.yaml\n"
                                          "scheduled_events:\n"
                                          "  - {quarter: 2025Q3, vendor: globex,"
                                          " type: withdrawal}\n")
    events = load_scenario(child).scheduled_events
    assert [(e.quarter, e.vendor, e.type) for e in events] == [("2025Q3", "globex", "withdrawal")]


def test_extends_chain_of_three(tmp_path):
    write(tmp_path, "a.yaml", MINIMAL)
    write(tmp_path, "b.yaml", "extends: a.yaml\nseed: 7\n")
    c = write(tmp_path, "c.yaml", "extends: b.yaml\nreplications: 3\n")
    scenario = load_scenario(c)
    assert (scenario.seed, scenario.replications, scenario.name) == (7, 3, "minimal")


def test_errors_point_at_the_file_that_set_the_key(tmp_path):
    base_text = edited("  peer_weight: 0.5", "  peer_weight: -0.5")
    base = write(tmp_path, "base.yaml", base_text)
    child = write(tmp_path, "child.yaml", "extends: base.yaml\n"
                                          "behaviour:\n"
                                          "  review_rate: 2.0\n")
    error = load_error(child)
    problems = {p.key_path: p for p in (error, *error.others)}
    assert problems["behaviour.peer_weight"].file == str(base)
    assert problems["behaviour.peer_weight"].line == line_of(base_text, "peer_weight")
    assert problems["behaviour.review_rate"].file == str(child)
    assert problems["behaviour.review_rate"].line == 3


def test_extends_cycle_names_the_chain(tmp_path):
    a = write(tmp_path, "a.yaml", "extends: b.yaml\nname: a\n")
    write(tmp_path, "b.yaml", "name: b\nextends: a.yaml\n")
    error = load_error(a)
    assert "extends cycle" in error.message
    assert f"{a} -> {tmp_path / 'b.yaml'} -> {tmp_path / 'a.yaml'}" in error.message
    assert error.file == str(tmp_path / "b.yaml") and error.line == 2


def test_extends_missing_target_names_file_line_and_path(tmp_path):
    child = write(tmp_path, "child.yaml", "name: child\n\nextends: nowhere/base.yaml\n")
    error = load_error(child)
    assert (error.file, error.line, error.key_path) == (str(child), 3, "extends")
    assert str(tmp_path / "nowhere" / "base.yaml") in error.message
    assert str(error).startswith(f"{child}:3: extends: extends target not found: ")


# --- file and YAML problems -------------------------------------------------------------------

def test_missing_file(tmp_path):
    error = load_error(tmp_path / "absent.yaml")
    assert error.file == str(tmp_path / "absent.yaml")
    assert str(error) == f"{tmp_path / 'absent.yaml'}: file not found"


def test_yaml_syntax_error_names_the_line(tmp_path):
    text = "name: x\nseed: 1\nhorizon:\n  start: [2024Q1\n  end: 2030Q4\n"
    path = write(tmp_path, "bad.yaml", text)
    error = load_error(path)
    assert (error.file, error.line) == (str(path), 5)  # where the unclosed list runs into 'end:'
    assert error.message == ("invalid YAML: expected ',' or ']', but got ':' "
                             "(while parsing a flow sequence)")
    assert str(error).startswith(f"{path}:{error.line}: invalid YAML: ")


def test_top_level_must_be_a_mapping(tmp_path):
    path = write(tmp_path, "list.yaml", "- 1\n- 2\n")
    error = load_error(path)
    assert "top level must be a mapping" in error.message and "a list" in error.message
    assert "nothing" in load_error(write(tmp_path, "empty.yaml", "# only a comment\n")).message


def test_unsafe_yaml_tags_are_refused(tmp_path):
    path = write(tmp_path, "evil.yaml", "name: !!python/object/apply:os.system ['true']\n")
    error = load_error(path)
    assert error.line == 1 and "invalid YAML" in error.message


# --- validation errors ------------------------------------------------------------------------

def test_unknown_key_suggests_the_closest_field(tmp_path):
    text = edited("  closed_preference: 0.5", "  closed_preferense: 0.5")
    path = write(tmp_path, "typo.yaml", text)
    error = load_error(path)
    line = line_of(text, "closed_preferense")
    # the misspelt key also leaves the real one missing: two problems, each on its own line
    problems = {p.key_path: p for p in (error, *error.others)}
    assert set(problems) == {"behaviour.closed_preference", "behaviour.closed_preferense"}
    typo = problems["behaviour.closed_preferense"]
    assert (typo.file, typo.line) == (str(path), line)
    assert typo.headline().startswith(
        f"{path}:{line}: behaviour.closed_preferense: unknown key; "
        "did you mean 'closed_preference'? allowed: closed_preference, capability_weight, ")
    missing = problems["behaviour.closed_preference"]
    assert missing.message == "missing required key"
    assert missing.line == line_of(text, "behaviour:")  # nearest parent key with a line
    assert str(error).splitlines() == [error.headline(), error.others[0].headline()]


def test_unknown_key_inside_a_dict_of_models(tmp_path):
    text = edited("    banking: {share: 0.4, regulated: true}",
                  "    banking: {share: 0.4, regulated: true, regulatd: true}")
    error = load_error(write(tmp_path, "x.yaml", text))
    assert error.key_path == "population.sectors.banking.regulatd"
    assert (
        "did you mean 'regulated'? allowed: source, confidence, share, regulated" in error.message
    )
    assert error.line == line_of(text, "regulatd")


def test_unknown_key_inside_a_list_of_models(tmp_path):
    text = edited("    vendor: acme", "    vendr: acme")
    error = load_error(write(tmp_path, "x.yaml", text))
    problems = {p.key_path: p for p in (error, *error.others)}
    assert "did you mean 'vendor'?" in problems["scheduled_events.0.vendr"].message
    assert problems["scheduled_events.0.vendr"].line == line_of(text, "vendr")


def test_wrong_type(tmp_path):
    text = edited("  enterprises: 100", "  enterprises: lots")
    path = write(tmp_path, "x.yaml", text)
    error = load_error(path)
    assert (error.line, error.key_path) == (line_of(text, "enterprises"), "population.enterprises")
    assert "Input should be a valid integer" in error.message and "'lots'" in error.message


def test_share_out_of_range(tmp_path):
    text = edited("  spillover: 0.3", "  spillover: 1.5")
    error = load_error(write(tmp_path, "x.yaml", text))
    assert error.key_path == "vendor_events.spillover"
    assert error.line == line_of(text, "spillover")
    assert error.message == "Input should be less than or equal to 1 (got 1.5)"
    assert not error.others


def test_mix_shares_must_sum_to_one(tmp_path):
    text = edited("  regions: {eu: 0.3, north_america: 0.5, apac: 0.2}",
                  "  regions: {eu: 0.3, north_america: 0.5, apac: 0.4}")
    error = load_error(write(tmp_path, "x.yaml", text))
    assert error.key_path == "population.regions"
    assert error.line == line_of(text, "regions:")
    assert error.message == "region shares must sum to 1 (they sum to 1.2)"


def test_scheduled_event_outside_the_horizon(tmp_path):
    text = edited("  - quarter: 2025Q2", "  - quarter: 2031Q1")
    error = load_error(write(tmp_path, "x.yaml", text))
    assert error.key_path == "scheduled_events"
    assert error.line == line_of(text, "scheduled_events:")
    assert error.message == "event 0 at 2031Q1 is outside the horizon 2024Q1..2026Q4"


def test_scheduled_event_with_unknown_vendor(tmp_path):
    text = edited("    vendor: acme", "    vendor: initech")
    error = load_error(write(tmp_path, "x.yaml", text))
    assert error.key_path == "scheduled_events"
    assert error.message == "event 0 names unknown vendor 'initech'; vendors: acme, globex"


def test_unknown_sector_name_keeps_the_validator_message(tmp_path):
    text = edited("    technology: {share: 0.6", "    tech: {share: 0.6")
    error = load_error(write(tmp_path, "x.yaml", text))
    assert error.key_path == "population.sectors"
    assert error.message.startswith("unknown sector 'tech'; allowed: banking, insurance")
    assert not error.message.startswith("Value error")


def test_many_errors_are_capped(tmp_path):
    text = MINIMAL
    for key in ("migration_cost_usd", "frontier_sensitivity", "workload_taste_sd",
                "unregulated_compliance_share", "peer_weight", "cost_weight", "capability_weight",
                "gap_sensitivity", "finetune_gain", "vendor_risk_weight", "base_vendor_risk",
                "compliance_weight"):
        text = text.replace(f"  {key}: ", f"  {key}: -")
    error = load_error(write(tmp_path, "x.yaml", text))
    lines = str(error).splitlines()
    assert len(error.others) == 11
    assert len(lines) == 11 and lines[-1] == "(and 2 more)"
    assert all("Input should be greater than or equal to 0" in line for line in lines[:10])


# --- overrides --------------------------------------------------------------------------------

def test_overrides_are_typed_by_yaml():
    scenario = load_scenario(FIXTURE, ["behaviour.closed_preference=0.3",
                                       "vendor_events.price_change.forced_review=true",
                                       "seed=42", "description=a b=c",
                                       "scheduled_events.0.price_multiplier=2"])
    assert scenario.behaviour.closed_preference == 0.3
    assert scenario.vendor_events.price_change.forced_review is True
    assert scenario.seed == 42
    assert scenario.description == "a b=c"
    assert scenario.scheduled_events[0].price_multiplier == 2.0


def test_override_replaces_a_list_and_applies_after_extends(tmp_path):
    write(tmp_path, "base.yaml", MINIMAL)
    child = write(tmp_path, "child.yaml", "extends: base.yaml\nseed: 5\n")
    scenario = load_scenario(child, ["seed=6", "scheduled_events=[]"])
    assert scenario.seed == 6 and scenario.scheduled_events == []


def test_override_does_not_leak_into_aliased_blocks():
    raw = yaml.safe_load(MINIMAL)
    pressure = raw["signals"]["regulatory_pressure"]
    pressure["apac"] = pressure["eu"]  # what a YAML alias (*eu) produces
    scenario = load_scenario(raw, ["signals.regulatory_pressure.eu.points={2024Q1: 0.9}"])
    assert scenario.signals.regulatory_pressure["eu"].points == {"2024Q1": 0.9}
    assert scenario.signals.regulatory_pressure["apac"].points == {"2024Q1": 0.6}


def test_override_with_unknown_key_names_the_set():
    error = load_error(FIXTURE, ["behaviour.closed_preferense=0.3"])
    assert (error.file, error.line) == ("--set behaviour.closed_preferense=0.3", None)
    assert str(error).startswith("--set behaviour.closed_preferense=0.3: "
                                 "behaviour.closed_preferense: unknown key; "
                                 "did you mean 'closed_preference'?")
    assert not error.others


def test_override_creating_a_new_block_is_caught_by_the_schema():
    error = load_error(FIXTURE, ["behaviour.extra.depth=1"])
    assert error.key_path == "behaviour.extra"
    assert error.file == "--set behaviour.extra.depth=1"
    assert error.message.startswith("unknown key; allowed: closed_preference")


def test_override_value_error_names_the_set_not_the_file():
    error = load_error(FIXTURE, ["vendor_events.spillover=1.5"])
    assert str(error) == ("--set vendor_events.spillover=1.5: vendor_events.spillover: "
                          "Input should be less than or equal to 1 (got 1.5)")


@pytest.mark.parametrize("text", ["behaviour.closed_preference", "=0.3", "behaviour..x=1", ".a=1"])
def test_malformed_override(text):
    error = load_error(FIXTURE, [text])
    assert error.file == f"--set {text}"
    assert str(error) == f"--set {text}: malformed override; write --set key.path=value"


def test_override_through_a_scalar_or_past_a_list_end():
    error = load_error(FIXTURE, ["name.first=x"])
    assert "cannot set 'first' inside 'name'" in error.message
    error = load_error(FIXTURE, ["scheduled_events.4.vendor=acme"])
    assert "cannot set '4' inside 'scheduled_events', which is a list of length 1" in error.message


def test_override_with_unparsable_value():
    error = load_error(FIXTURE, ["seed=[1, 2"])
    assert error.file == "--set seed=[1, 2" and "cannot parse the value" in error.message


# --- sources, hashing, serialisation ----------------------------------------------------------

def test_hash_is_stable_and_sensitive():
    first, second = load_scenario(FIXTURE), load_scenario(FIXTURE)
    assert scenario_hash(first) == scenario_hash(second)
    assert len(scenario_hash(first)) == 64
    changed = load_scenario(FIXTURE, ["behaviour.review_rate=0.11"])
    assert scenario_hash(changed) != scenario_hash(first)


def test_path_dict_and_scenario_give_the_same_hash():
    from_path = load_scenario(FIXTURE)
    from_dict = load_scenario(yaml.safe_load(MINIMAL))
    from_model = load_scenario(from_path)
    assert from_model is from_path
    assert scenario_hash(from_path) == scenario_hash(from_dict) == scenario_hash(from_model)


def test_dict_source_is_not_mutated_and_reports_without_file():
    raw = yaml.safe_load(MINIMAL)
    assert load_error(raw, ["behaviour.review_rate=7"]).file == "--set behaviour.review_rate=7"
    assert raw["behaviour"]["review_rate"] == 0.1
    raw["population"]["enterprises"] = 3
    error = load_error(raw)
    assert (error.file, error.line) == (None, None)
    assert str(error) == ("population.enterprises: "
                          "Input should be greater than or equal to 10 (got 3)")


def test_scenario_source_with_overrides_is_revalidated():
    base = load_scenario(FIXTURE)
    changed = load_scenario(base, ["seed=9"])
    assert changed.seed == 9 and base.seed == 1
    assert load_error(base, ["seed=-1"]).file == "--set seed=-1"


def test_canonical_json_and_yaml_round_trip():
    scenario = load_scenario(FIXTURE)
    text = canonical_json(scenario)
    assert text == json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    assert json.loads(text)["behaviour"]["closed_preference"] == 0.5
    assert load_scenario(yaml.safe_load(scenario_to_yaml(scenario))) == scenario
