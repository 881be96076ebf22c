"""The explorer's library layer (sim.explorer.whatif, sim.explorer.enterprise,
sim.explorer.files): paired what-ifs, cancelling, readable errors per control, saved scenarios
that reproduce the page, the My enterprise view's advice under a what-if (the command's advice
under the saved scenario) and its profiles (edited, saved, validated), and paths kept inside the
project's scenarios/, outputs/ and profiles/. Small ensembles (3 replications of 200 enterprises)
and advice (8 posterior draws, peers from 1 replication of 200) keep the whole file to a few
seconds."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import BASELINE, ROOT

import sim
from sim.cli import main
from sim.core.paths import deterministic_path
from sim.core.quarters import HISTORY_END, parse_quarter, quarter_range
from sim.core.scenario import ScenarioError
from sim.explorer import enterprise, files, whatif
from sim.explorer.whatif.controls import REVISION_QUARTER, SHOCK_DEFAULTS
from sim.workflows import resolve, run_scenario

SIZE = {"replications": 3, "enterprises": 200}
TOOLING = {"signals.tooling_maturity.upper": 0.6}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder holding a copy of the repository's scenarios and an empty outputs/."""
    root = tmp_path_factory.mktemp("project")
    shutil.copytree(ROOT / "scenarios", root / "scenarios",
                    ignore=shutil.ignore_patterns("explore"))
    (root / "outputs").mkdir()
    return root


@pytest.fixture(scope="module")
def ensemble():
    return whatif.Ensemble()


def test_no_change_is_exactly_zero_and_a_tooling_change_is_not(ensemble):
    steps = []
    same = ensemble.run(BASELINE, {}, **SIZE, progress=lambda done, total: steps.append(total))
    assert steps[-1] == 6   # the reference and the changed scenario, 3 replications each
    assert (same.table["difference"] == 0).all()
    assert (same.table[["difference_low", "difference_high"]] == 0).all(axis=None)
    assert same.frame["value"].equals(same.reference_frame["value"])
    assert same.smaller_population and same.full_enterprises == 2000
    steps.clear()
    changed = ensemble.run(BASELINE, TOOLING, **SIZE,
                           progress=lambda done, total: steps.append(total))
    assert steps[-1] == 3   # the reference came from the cache
    assert changed.changes == TOOLING
    assert set(changed.table["metric"]) == {metric for metric, _ in whatif.WHATIF_METRICS}
    assert (changed.table["quarter"] == "2030Q4").all()
    open_share = changed.table.set_index("metric").loc["workload_share_open_any"]
    assert open_share["difference_high"] < 0   # a lower tooling ceiling: fewer open workloads
    assert changed.reference_frame is same.reference_frame


def test_same_seed_same_output(ensemble):
    fresh = whatif.Ensemble().run(BASELINE, TOOLING, **SIZE)
    again = ensemble.run(BASELINE, TOOLING, **SIZE)
    pd.testing.assert_frame_equal(fresh.frame, again.frame)
    pd.testing.assert_frame_equal(fresh.reference_frame, again.reference_frame)


def test_moving_a_control_back_is_no_change(ensemble):
    current = whatif.current_values(resolve(BASELINE))
    back = {key: current[key]
            for key in ("behaviour.review_rate", "signals.tooling_maturity.upper")}
    result = ensemble.run(BASELINE, back, **SIZE)
    assert result.changes == {}
    assert (result.table["difference"] == 0).all()


def test_a_newer_change_cancels_the_run(ensemble):
    with pytest.raises(whatif.Cancelled):
        ensemble.run(BASELINE, TOOLING, **SIZE, cancelled=lambda: True)
    asked = []

    def after_first_replication() -> bool:
        asked.append(1)
        return len(asked) > 1   # asked before the run: go on; after replication 1: stop

    with pytest.raises(whatif.Cancelled, match="after 1 of"):
        ensemble.run(BASELINE, {"behaviour.migration_cost_usd": 50000.0}, **SIZE,
                     cancelled=after_first_replication)


@pytest.mark.parametrize(("changes", "key", "message"), [
    ({"behaviour.review_rate": 1.5}, "behaviour.review_rate", "from 0 to 1"),
    ({"behaviour.migration_cost_usd": "high"}, "behaviour.migration_cost_usd", "give a number"),
    ({"vendor_shock.vendor": "vendor_z"}, "vendor_shock.vendor", "choose one of none, vendor_a"),
    ({"vendor_shock.quarter": "2035Q1"}, "vendor_shock.quarter", "choose one of"),
    ({"behaviour.review_rat": 0.3}, "behaviour.review_rat", "unknown control"),
])
def test_a_bad_value_names_its_control(changes, key, message):
    with pytest.raises(ScenarioError, match=message) as raised:
        whatif.apply_changes(BASELINE, changes)
    assert raised.value.key_path == key
    assert raised.value.file == str(BASELINE)


def test_other_shapes_of_paths(project):
    """A tooling path of dated points has no ceiling to set (the control says so); a gap path
    with no point between 2024 and 2030 keeps its history when the 2027Q4 level is set."""
    dated = project / "scenarios" / "dated-paths.yaml"
    dated.write_text("extends: baseline.yaml\nname: dated-paths\nsignals:\n"
                     "  tooling_maturity: {logistic: null, points: {2024Q1: 0.1, 2030Q4: 0.8}}\n"
                     "  benchmark_gap: {points: {2024Q1: 17.5, 2030Q4: 0.5}}\n")
    try:
        reference = resolve(dated)
        assert whatif.current_values(reference)["signals.tooling_maturity.upper"] is None
        with pytest.raises(ScenarioError, match="cannot be set") as raised:
            whatif.apply_changes(dated, {"signals.tooling_maturity.upper": 0.8})
        assert raised.value.key_path == "signals.tooling_maturity.upper"
        changed = whatif.apply_changes(dated, {"signals.benchmark_gap.2027Q4": 4.0})
        assert whatif.current_values(changed)["signals.benchmark_gap.2027Q4"] == 4.0
        history = np.arange(parse_quarter("2024Q1"), parse_quarter("2025Q4") + 1, dtype=float)
        np.testing.assert_allclose(deterministic_path(changed.signals.benchmark_gap, history),
                                   deterministic_path(reference.signals.benchmark_gap, history))
    finally:
        dated.unlink()


def every_control_changed(scenario) -> dict:
    """A change of every control of the table (:func:`whatif.controls_for`), each to a value
    other than the scenario's own: a number on its slider's grid 70% of the way up its range
    (a step lower if that is the scenario's), a choice the last one that is not the scenario's."""
    current = whatif.current_values(scenario)
    changes = {}
    for control in whatif.controls_for(scenario):
        if control.kind == "number":
            steps = round(0.7 * (control.high - control.low) / control.step)
            value = round(control.low + steps * control.step, 10)
            if value == current[control.key]:
                value = round(value - control.step, 10)
        else:
            value = [choice for choice in control.choices if choice != current[control.key]][-1]
        changes[control.key] = value
    return changes


def signal_paths(scenario, quarters) -> dict:
    """Every signal's noise-free path over ``quarters``, by (signal, region or "all")."""
    history = np.array([parse_quarter(q) for q in quarters], float)
    return {(name, region): deterministic_path(signal, history)
            for name, value in scenario.signals
            for region, signal in (value.items() if isinstance(value, dict) else [("all", value)])}


def test_every_control_changes_the_future_only():
    reference = resolve(BASELINE)
    every = every_control_changed(reference)
    assert set(every) == {control.key for control in whatif.CONTROLS}
    changed = whatif.apply_changes(BASELINE, every)
    current = whatif.current_values(changed)
    # the vendor shock adds an event, so it reads its defaults again; every other control reads
    # back the value it was given
    assert {key: current[key] for key in every if key not in SHOCK_DEFAULTS} \
        == {key: value for key, value in every.items() if key not in SHOCK_DEFAULTS}
    shock = {key.removeprefix("vendor_shock."): every[key] for key in SHOCK_DEFAULTS}
    event = changed.scheduled_events[-1]
    assert (event.vendor, event.type, event.quarter, event.region) \
        == (shock["vendor"], shock["type"], shock["quarter"], shock["region"])
    assert changed.scheduled_events[:-1] == reference.scheduled_events
    history = quarter_range(reference.horizon.start, HISTORY_END)
    before, after = signal_paths(reference, history), signal_paths(changed, history)
    assert before.keys() == after.keys()
    for signal in before:
        np.testing.assert_allclose(after[signal], before[signal], rtol=1e-12, err_msg=signal)
    future = quarter_range(REVISION_QUARTER, reference.horizon.end)
    before, after = signal_paths(reference, future), signal_paths(changed, future)
    moved = {name for name, region in before
             if not np.allclose(after[name, region], before[name, region])}
    assert moved == {path.split(".")[1] for control in whatif.CONTROLS
                     for path in control.binding.paths if path.startswith("signals.")}
    # set here, the calibrated review rate and migration cost leave the posterior draws
    assert "behaviour.review_rate" in reference.posterior.parameters
    assert not {"behaviour.review_rate", "behaviour.migration_cost_usd"} \
        & set(changed.posterior.parameters)


def test_a_price_shock_is_one_more_scheduled_event():
    shock = {"vendor_shock.vendor": "vendor_a", "vendor_shock.type": "price_change",
             "vendor_shock.quarter": "2027Q1", "vendor_shock.price_multiplier": 2.0,
             "vendor_shock.region": "eu"}
    reference = resolve(BASELINE)
    changed = whatif.apply_changes(BASELINE, shock)
    assert changed.scheduled_events[-1].model_dump(exclude_none=True) == {
        "quarter": "2027Q1", "vendor": "vendor_a", "type": "price_change",
        "price_multiplier": 2.0, "region": "eu", "note": "what if: a vendor shock"}
    assert changed.scheduled_events[:-1] == reference.scheduled_events


def test_saved_scenario_validates_and_reproduces_the_page(project, ensemble):
    source = project / "scenarios" / "watch" / "tooling-stall.yaml"
    changes = {**TOOLING, "behaviour.review_rate": 0.3, "vendor_shock.vendor": "vendor_b",
               "vendor_shock.type": "withdrawal"}
    page = ensemble.run(source, changes, **SIZE)
    text = whatif.saved_yaml(source, changes, project, **SIZE)
    saved = files.save_scenario(project, "stall-lower-ceiling", text)
    assert saved == project / "scenarios" / "explore" / "stall-lower-ceiling.yaml"
    document = yaml.safe_load(text)
    assert document["extends"] == "../watch/tooling-stall.yaml"
    assert set(document) == {"extends", "name", "description", "seed", "replications",
                             "population", "signals", "behaviour", "scheduled_events"}
    assert document["population"] == {"enterprises": 200} and document["replications"] == 3
    assert list(document["signals"]) == ["tooling_maturity"]
    assert document["behaviour"] == {"review_rate": 0.3}
    checked = subprocess.run([sys.executable, "-m", "sim", "validate", str(saved)],
                             capture_output=True, text=True, cwd=project, check=False)
    assert checked.returncode == 0, checked.stderr
    assert "valid scenario 'tooling-stall-whatif'" in checked.stdout
    rerun = run_scenario(saved, out=None, plots=False, workers=1)
    pd.testing.assert_frame_equal(rerun.frame, page.frame)


def test_full_run_in_the_background(project):
    source = project / "scenarios" / "baseline.yaml"
    text = whatif.saved_yaml(source, {"behaviour.migration_cost_usd": 30000.0}, project,
                             **SIZE)
    saved = files.save_scenario(project, "cheap-migration", text)
    run = whatif.start_full_run(saved, project / "outputs", plots=False)   # figures take seconds
    assert run.wait(120) and run.error is None
    assert run.report.is_file() and run.folder.parent == project / "outputs" / "baseline-whatif"
    with pytest.raises(ScenarioError):
        whatif.start_full_run(project / "scenarios" / "targets.yaml", project / "outputs")


def test_save_never_overwrites_and_stays_in_its_folder(project):
    first = files.save_scenario(project, "twice", "name: a\n")
    second = files.save_scenario(project, "twice.yaml", "name: b\n")
    assert second.name == "twice-2.yaml" and first.read_text() == "name: a\n"
    for name in ("../escape", "a/b", ".hidden", ""):
        with pytest.raises(files.PathRefused):
            files.save_scenario(project, name, "name: x\n")
    assert not [p for p in (project / "scenarios" / "explore").iterdir() if ".partial-" in p.name]


def test_safe_path_keeps_to_scenarios_and_outputs(project):
    (project / "scenarios" / "elsewhere").symlink_to("/etc")
    try:
        assert files.safe_path(project, "scenarios/baseline.yaml") \
            == project / "scenarios" / "baseline.yaml"
        assert files.safe_path(project, "outputs/new/report.html").parent.name == "new"
        for requested in ("../x", "/etc/passwd", "scenarios/elsewhere/passwd",
                          "scenarios/../README.md", "README.md", "", "outputs\0x"):
            with pytest.raises(files.PathRefused):
                files.safe_path(project, requested)
    finally:
        (project / "scenarios" / "elsewhere").unlink()


def test_scenario_choices_baseline_then_watch_then_others(project):
    chosen = [path.relative_to(project / "scenarios").as_posix()
              for path in whatif.scenario_choices(project)]
    watch = sorted(p.name for p in (ROOT / "scenarios" / "watch").glob("*.yaml"))
    assert chosen[0] == "baseline.yaml"
    assert chosen[1:1 + len(watch)] == [f"watch/{name}" for name in watch]
    assert "world.yaml" in chosen
    assert not {"targets.yaml", "calibrated.yaml", "sweeps/watch-grid.yaml"} & set(chosen)


def test_result_folders_newest_first(tmp_path):
    outputs = tmp_path / "outputs"

    def folder(relative: str, manifest: dict, *names: str):
        path = outputs / relative
        path.mkdir(parents=True)
        (path / "manifest.json").write_text(json.dumps(manifest))
        for name in names:
            (path / name).write_text("")
        return path

    run = folder("baseline/20260101-000000-aaaaaaaa",
                 {"scenario": "baseline", "created": "2026-01-01T00:00:00+00:00"},
                 "quarterly.parquet", "report.html")
    sweep = folder("sweeps/watch-grid/bbbbbbbb",
                   {"sweep": "watch-grid", "updated": "2026-03-01T00:00:00+00:00"},
                   "design.parquet", "results.parquet")
    comparison = folder("compare/20260201-000000-cccccccc",
                        {"reference": "baseline", "created": "2026-02-01T00:00:00+00:00",
                         "scenarios": {"baseline": {}, "tooling-fast": {}}},
                        "comparison.csv", "comparison.parquet")
    folder("baseline/.20260401-000000-dddddddd.partial-x", {"created": "2026-04-01T00:00:00"},
           "quarterly.parquet")
    os.symlink(run, outputs / "baseline" / "linked")
    found = files.result_folders(tmp_path)
    assert [(f.kind, f.name, f.path) for f in found] == [
        ("sweep", "watch-grid", sweep), ("comparison", "baseline vs tooling-fast", comparison),
        ("run", "baseline", run)]
    assert found[2].report == run / "report.html" and found[0].report is None


@pytest.mark.skipif(importlib.util.find_spec("solara") is None,
                    reason="needs Solara (pip install -e \".[viz]\")")
def test_explore_refuses_a_scenario_outside_the_project_a_busy_port_and_a_remote_host(project):
    def explore(*arguments: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "sim", "explore", *arguments], cwd=project,
                              capture_output=True, text=True, timeout=60,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})

    def one_message(result: subprocess.CompletedProcess, *parts: str) -> None:
        assert result.returncode == 2 and result.stdout == "", result.stderr
        assert result.stderr.startswith("adoptsim: error: ") and "Traceback" not in result.stderr
        assert len(result.stderr.splitlines()) == 1 and all(p in result.stderr for p in parts)

    one_message(explore(str(BASELINE)), "absolute path")
    one_message(explore("--host", "0.0.0.0"), "--host 0.0.0.0 would let other machines reach",
                "no authentication", "--allow-remote")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = str(busy.getsockname()[1])
        one_message(explore("--port", port), f"cannot listen on 127.0.0.1:{port}")
        # allowed to be remote, it gets as far as the port (taken on every address)
        one_message(explore("--host", "0.0.0.0", "--allow-remote", "--port", port),
                    f"cannot listen on 0.0.0.0:{port}")


@pytest.mark.parametrize("port", ["70000", "-1", "http"])
def test_explore_port_is_a_port_number(port, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["explore", "--port", port])
    assert exit_.value.code == 2
    assert (f"argument --port: must be a port number from 1 to 65535 (or 0 for any free port), "
            f"not '{port}'") in capsys.readouterr().err


# --- My enterprise: profiles edited in the page, advised under the what-if -------------------

PAGE_ADVICE = {"draws": 8, "peer_replications": 1, "peer_enterprises": 200}
INSURER = "profiles/insurer-eu-mid.yaml"


@pytest.fixture(scope="module")
def profiles_project(tmp_path_factory):
    """A project folder with the repository's scenarios and profiles and an empty outputs/."""
    root = tmp_path_factory.mktemp("profiles-project")
    shutil.copytree(ROOT / "scenarios", root / "scenarios",
                    ignore=shutil.ignore_patterns("explore"))
    shutil.copytree(ROOT / "profiles", root / "profiles", ignore=shutil.ignore_patterns("explore"))
    (root / "outputs").mkdir()
    return root


def test_the_page_s_advice_is_advise_profile_under_the_saved_what_if(profiles_project):
    """The My enterprise view's advice under a what-if is the command's advice under the
    scenario file the What-if view saves (same settings); without changes, under the scenario
    itself. The what-if reaches the advice: the changed costs differ from the unchanged."""
    source = profiles_project / "scenarios" / "baseline.yaml"
    profile = enterprise.profile_of(enterprise.read_document(profiles_project, INSURER))
    page = enterprise.advise_whatif(profile, enterprise.whatif_scenario(source, TOOLING),
                                    **PAGE_ADVICE)
    saved = files.save_scenario(profiles_project, "advised-whatif",
                                whatif.saved_yaml(source, TOOLING, profiles_project, **SIZE))
    command = sim.advise_profile(profile, baseline=saved, scenarios=[], out=None, **PAGE_ADVICE)
    assert page.scenario.name == "baseline-whatif" and page.changes == TOOLING
    pd.testing.assert_frame_equal(page.table, command.advice.table)
    pd.testing.assert_frame_equal(page.advice.costs, command.advice.costs)

    at_its_own_value = {"behaviour.review_rate": resolve(source).behaviour.review_rate}
    unchanged = enterprise.advise_whatif(
        profile, enterprise.whatif_scenario(source, at_its_own_value), **PAGE_ADVICE)
    plain = sim.advise_profile(profile, baseline=source, scenarios=[], out=None, **PAGE_ADVICE)
    assert unchanged.scenario.name == "baseline" and unchanged.changes == {}
    pd.testing.assert_frame_equal(unchanged.table, plain.advice.table)
    assert not np.allclose(page.advice.costs["mean"], unchanged.advice.costs["mean"])


def test_the_page_s_tables_read_the_advice(profiles_project):
    profile = enterprise.profile_of(enterprise.read_document(profiles_project, INSURER))
    page = enterprise.advise_whatif(profile, enterprise.whatif_scenario(
        profiles_project / "scenarios" / "baseline.yaml", {}), **PAGE_ADVICE)
    grid = enterprise.recommendation_grid(page.table)
    assert list(grid.index) == [workload.name for workload in profile.workloads]
    assert list(grid.columns) == page.years == list(range(2025, 2031))
    words = {"closed": "closed", "open": "open", "open_finetuned": "fine-tuned"}
    for _, row in page.table.iterrows():
        assert grid.loc[row["workload"], row["year"]] \
            == f"{words[row['recommended']]} {row['agreement']:.0%}"
    costs = enterprise.year_costs(page, 2025)
    mine = page.table[page.table["year"] == 2025].set_index("workload")
    for (workload, option), parts in costs.iterrows():
        paid = sum(parts[part] for part in enterprise.PAID_PARTS)
        assert paid == pytest.approx(mine.loc[workload, f"cost_{option}_usd"], rel=1e-9)
        assert parts["recommended"] == (mine.loc[workload, "recommended"] == option)
    assert (costs.xs("open", level="option")["compliance"] == 0).all()
    assert "insurer-eu-mid under baseline: 8 posterior draws" in enterprise.caption(page)


def test_a_newer_request_cancels_the_advice_and_progress_counts_replications_and_years(
        profiles_project):
    profile = enterprise.profile_of(enterprise.read_document(profiles_project, INSURER))
    under = enterprise.whatif_scenario(profiles_project / "scenarios" / "baseline.yaml", {})
    with pytest.raises(whatif.Cancelled):
        enterprise.advise_whatif(profile, under, **PAGE_ADVICE, cancelled=lambda: True)
    asked = []

    def after_the_peers() -> bool:
        asked.append(1)
        return len(asked) > 2   # before the advice, after the peers' replication: go on

    with pytest.raises(whatif.Cancelled, match="after 2 of 7 steps"):
        enterprise.advise_whatif(profile, under, **PAGE_ADVICE, cancelled=after_the_peers,
                                 peers=enterprise.PeerCache())
    steps = []
    enterprise.advise_whatif(profile, under, **PAGE_ADVICE,
                             progress=lambda done, total: steps.append((done, total)))
    assert steps == [(0, 1)] + [(done, 7) for done in range(1, 8)]   # 1 replication, 6 years


def test_an_edit_of_the_workloads_reuses_the_peers_and_changes_nothing_else(profiles_project):
    """The page keeps the peers' simulations: an edit of a workload's tokens or the ML team
    runs none, a change of sector runs one; the advice is the command's all the same."""
    document = enterprise.read_document(profiles_project, INSURER)
    under = enterprise.whatif_scenario(profiles_project / "scenarios" / "baseline.yaml", {})
    cache = enterprise.PeerCache()
    enterprise.advise_whatif(enterprise.profile_of(document), under, **PAGE_ADVICE, peers=cache)
    edited = enterprise.edited(enterprise.edited(
        document, "workloads.4.million_tokens_per_month", 40000.0), "ml_engineers", 12.0)
    steps = []
    page = enterprise.advise_whatif(enterprise.profile_of(edited), under, **PAGE_ADVICE,
                                    peers=cache, progress=lambda *step: steps.append(step))
    assert cache.simulated == 1 and steps[1] == (1, 7)   # the cached replication still counts
    command = sim.advise_profile(enterprise.profile_of(edited), baseline=under.scenario,
                                 scenarios=[], out=None, **PAGE_ADVICE)
    pd.testing.assert_frame_equal(page.table, command.advice.table)
    enterprise.advise_whatif(enterprise.profile_of(enterprise.edited(edited, "sector", "retail")),
                             under, **PAGE_ADVICE, peers=cache)
    assert cache.simulated == 2


def test_an_edited_profile_saves_as_a_file_validate_and_advise_accept(profiles_project):
    document = enterprise.read_document(profiles_project, INSURER)
    assert document["workloads"][0] == {"name": "claims-triage", "class": "privacy_sensitive",
                                        "million_tokens_per_month": 600.0, "sensitivity": 0.95}
    document = enterprise.edited(document, "workloads.4.million_tokens_per_month", 40000.0)
    document = enterprise.edited(enterprise.edited(document, "size", "large"), "name", "mine")
    document = enterprise.without_workload(enterprise.with_workload(document), 0)
    assert [w["name"] for w in document["workloads"]][-1] == "workload-7"
    text = enterprise.profile_yaml(document)
    saved = files.save_profile(profiles_project, "mine", text)
    assert saved == profiles_project / "profiles" / "explore" / "mine.yaml"
    assert files.save_profile(profiles_project, "mine.yaml", text).name == "mine-2.yaml"
    checked = subprocess.run([sys.executable, "-m", "sim", "validate", str(saved)],
                             capture_output=True, text=True, cwd=profiles_project, check=False,
                             env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert checked.returncode == 0, checked.stderr
    assert "valid profile 'mine' (insurance, eu, large; 4 ML engineers; 6 workloads" \
        in checked.stdout
    assert sim.load_profile(saved).model_dump() == enterprise.profile_of(document).model_dump()
    assert enterprise.profile_of(enterprise.new_document()).name == "my-enterprise"
    assert saved.relative_to(profiles_project).as_posix() in [
        path.relative_to(profiles_project).as_posix()
        for path in enterprise.profile_choices(profiles_project)]


@pytest.mark.parametrize(("key", "value", "message"), [
    ("workloads.1.million_tokens_per_month", -5.0, "greater than 0"),
    ("workloads.2.class", "quantum", "Input should be 'customer_facing'"),
    ("workloads", [], "at least 1 item"),
    ("sector", "mining", "Input should be 'banking'"),
    ("name", "../up", "becomes a folder name"),
])
def test_a_bad_edit_names_its_key_and_saves_nothing(profiles_project, key, value, message):
    document = enterprise.edited(enterprise.read_document(profiles_project, INSURER), key, value)
    with pytest.raises(ScenarioError, match=message) as raised:
        enterprise.profile_of(document)
    assert raised.value.key_path == key and raised.value.file is None
    with pytest.raises(ScenarioError):
        enterprise.profile_yaml(document)


def test_profiles_are_read_only_from_the_project_s_profiles(profiles_project):
    """Paths that leave profiles/ are refused (for reading, listing, saving and serving: the
    same safe_path); a bad or vanished file says which file, line and key."""
    profiles = profiles_project / "profiles"
    (profiles / "elsewhere").symlink_to("/etc")
    (profiles / "outside.yaml").symlink_to(ROOT / "profiles" / "insurer-eu-mid.yaml")
    (profiles / ".hidden.yaml").write_text("kind: profile\n")
    try:
        for requested in ("../scenarios/baseline.yaml", "profiles/../scenarios/baseline.yaml",
                          "scenarios/baseline.yaml", "/etc/passwd", "profiles/elsewhere/passwd",
                          "profiles/outside.yaml", str(ROOT / INSURER), ""):
            with pytest.raises(files.PathRefused):
                enterprise.read_document(profiles_project, requested)
        assert files.safe_path(profiles_project, INSURER) == profiles_project / INSURER
        for name in ("../escape", "a/b", ".hidden", "", "x" * 300):
            with pytest.raises(files.PathRefused):
                files.save_profile(profiles_project, name, "kind: profile\n")
        listed = {path.name for path in enterprise.profile_choices(profiles_project)}
        assert {"insurer-eu-mid.yaml", "retailer-na-small.yaml", "tech-na-large.yaml"} <= listed
        assert not {"outside.yaml", ".hidden.yaml", "passwd"} & listed
    finally:
        for name in ("elsewhere", "outside.yaml", ".hidden.yaml"):
            (profiles / name).unlink()
    broken = profiles / "broken.yaml"
    broken.write_text("kind: profile\nname: broken\nsector: insurance\nregion: eu\nsize: mid\n"
                      "ml_engineers: 2\nworkloads:\n  - name: a\n    class: quantum\n"
                      "    million_tokens_per_month: 10\n")
    try:
        with pytest.raises(ScenarioError) as raised:
            enterprise.read_document(profiles_project, "profiles/broken.yaml")
        assert raised.value.file.endswith("broken.yaml") and raised.value.line == 9
        assert raised.value.key_path == "workloads.0.class"
    finally:
        broken.unlink()
    with pytest.raises(ScenarioError, match="file not found"):
        enterprise.read_document(profiles_project, "profiles/gone.yaml")
