"""The documentation site: it builds strictly from a checkout (the notebooks executed on the
way), its reference pages hold every scenario key, signal, metric and command-line option, its
ODD description covers the seven elements with a schedule that is the model's step, its guides'
examples load, and the README is a short front door whose old sections all have a page.

The site is built once per test session (:func:`site`), whatever the number of xdist workers,
into the session's temporary folder; the checks read the built HTML, so a table the build failed
to generate fails them as surely as a missing row.
"""

from __future__ import annotations

import fcntl
import html
import json
import re
import threading
import typing
import urllib.request
from pathlib import Path

import pytest
import yaml
from conftest import BASELINE, ROOT
from pydantic import BaseModel

from sim.cli import build_parser, main
from sim.core.metric_table import METRICS
from sim.core.metrics import SEGMENTS
from sim.core.model import STEP_ORDER, AdoptionModel
from sim.core.scenario import load_scenario
from sim.core.schema import Scenario
from sim.core.signal_table import SIGNALS
from sim.docs import odd
from sim.docs.keys import scenario_keys
from sim.docs.markers import MarkerError, expand
from sim.docs.site import BUILT_BY, DocsError, build_site, site_server

NOTEBOOK_BUDGET = 60   # seconds for a notebook, kernel start included


@pytest.fixture(scope="session")
def site(tmp_path_factory, worker_id) -> tuple[Path, dict]:
    """(the built site's folder, the build's timings), built once for all xdist workers."""
    shared = tmp_path_factory.getbasetemp()
    if worker_id != "master":
        shared = shared.parent   # the session's folder, common to its workers
    with open(shared / "docs-site.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = shared / "docs-site.json"
        if not record.exists():
            built = build_site(shared / "docs-out")
            record.write_text(json.dumps({"folder": str(built.folder), "seconds": built.seconds,
                                          "notebooks": built.notebook_seconds}))
        found = json.loads(record.read_text())
    return Path(found["folder"]), found


def page(site_folder: Path, name: str) -> str:
    return (site_folder / name / "index.html").read_text(encoding="utf-8")


def first_cells(text: str) -> list[str]:
    """The code in the first cell of every table row of a built page."""
    return [html.unescape(cell) for cell in
            re.findall(r"<tr>\s*<td><code>(.*?)</code></td>", text, flags=re.DOTALL)]


def ids(text: str) -> set[str]:
    return set(re.findall(r'id="([^"]+)"', text))


# --- the build --------------------------------------------------------------------------------

def test_the_site_builds_strictly_with_every_page_and_executed_notebooks(site):
    folder, found = site
    assert (folder / BUILT_BY).is_file() and (folder / "search" / "search_index.json").is_file()
    for name in ("getting-started", "guides/strategist", "guides/enterprise", "guides/analyst",
                 "guides/calibration", "guides/reader", "model", "reference/scenario-keys",
                 "reference/signals", "reference/metrics", "reference/cli", "reference/api",
                 "development", "about"):
        assert (folder / name / "index.html").is_file(), name
    notebooks = sorted(path.name for path in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(found["notebooks"]) == notebooks
    for name, seconds in found["notebooks"].items():
        assert seconds < NOTEBOOK_BUDGET, f"{name} took {seconds:.0f} s"
        rendered = page(folder, f"notebooks/{Path(name).stem}")
        assert "data:image/png" in rendered, f"{name} is shown without its figures"
    assert found["seconds"] < 240


def test_a_broken_link_fails_the_strict_build(tmp_path):
    project = tmp_path / "project"
    (project / "docs").mkdir(parents=True)
    (project / "docs" / "index.md").write_text("# Home\n\nSee [the model](model.md).\n")
    (project / "mkdocs.yml").write_text("site_name: t\nstrict: true\n")
    with pytest.raises(DocsError, match="model.md"):
        build_site(tmp_path / "out", root=project)
    assert not (tmp_path / "out" / "site").exists()


def test_a_folder_that_is_not_a_built_site_is_never_replaced(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "keep.txt").write_text("mine")
    with pytest.raises(DocsError, match="not a site adoptsim built"):
        build_site(tmp_path)
    assert (tmp_path / "site" / "keep.txt").read_text() == "mine"


def test_an_unknown_marker_stops_the_build():
    with pytest.raises(MarkerError, match="unknown generated block 'nonsense'"):
        expand("# Page\n\n<!-- generated: nonsense -->\n", {"metrics": str}, "page.md")


def test_adoptsim_docs_builds_into_out_site_and_serves(tmp_path, monkeypatch, capsys):
    calls = []

    def fake_build(out):
        calls.append(("build", out))
        return type("Built", (), {"folder": Path(out) / "site", "seconds": 1.0,
                                  "notebook_seconds": {"a.ipynb": 0.5}})()

    monkeypatch.setattr("sim.docs.build_site", fake_build)
    monkeypatch.setattr("sim.docs.serve_site",
                        lambda folder, host, port: calls.append(("serve", folder, host, port)))
    assert main(["docs", "--out", str(tmp_path)]) == 0
    assert main(["docs", "--serve", "--port", "8123"]) == 0
    assert calls == [("build", str(tmp_path)), ("build", "outputs"),
                     ("serve", Path("outputs") / "site", "127.0.0.1", 8123)]
    assert f"Site: {tmp_path / 'site'}" in capsys.readouterr().out


def test_the_site_server_serves_the_pages_and_the_search_index(site):
    folder, _ = site
    server = site_server(folder, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}/"
        for path in ("", "model/", "search/search_index.json"):
            with urllib.request.urlopen(base + path, timeout=10) as response:
                assert response.status == 200
    finally:
        server.shutdown()
        server.server_close()


# --- the references: nothing missing ----------------------------------------------------------

def concrete_keys(value, prefix: str = "") -> set[str]:
    """Every key path of a scenario as dumped: ``population.sizes.small.share``; list items as
    ``[]``."""
    if isinstance(value, dict):
        found = {prefix} if prefix else set()
        for name, item in value.items():
            found |= concrete_keys(item, f"{prefix}.{name}" if prefix else str(name))
        return found
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return {prefix} | {key for item in value for key in concrete_keys(item, f"{prefix}[]")}
    return {prefix}


REGIONAL = {spec.name for spec in SIGNALS if spec.regional}


def as_signal_key(path: str) -> str:
    """A signal's keys are documented once: a revision's path (``after.path``) and each region's
    path of a regional signal are signal paths too."""
    while ".after.path." in path:
        path = path.replace(".after.path.", ".", 1)
    parts = path.split(".")
    if len(parts) > 3 and parts[0] == "signals" and parts[1] in REGIONAL:
        del parts[2]
    return ".".join(parts)


def undocumented(documented: list[str], concrete: set[str]) -> list[str]:
    """The concrete key paths no documented path covers (``<name>`` stands for any one key)."""
    patterns = [re.compile(re.sub(r"<\w+>", "[^.]+", re.escape(path))) for path in documented]
    return sorted(path for path in concrete
                  if not any(pattern.fullmatch(as_signal_key(path)) for pattern in patterns))


def model_fields(model: type[BaseModel], seen=None) -> set[tuple[str, str]]:
    """(model, field) of every field of ``model`` and the models inside it."""
    seen = set() if seen is None else seen
    if model in seen:
        return set()
    seen.add(model)
    found = set()
    for name, field in model.model_fields.items():
        found.add((model.__name__, name))
        stack = [field.annotation]
        while stack:
            annotation = stack.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                found |= model_fields(annotation, seen)
            stack += list(typing.get_args(annotation))
    return found


def test_the_key_reference_lists_every_key_of_the_baseline_and_every_schema_field(site):
    documented = first_cells(page(site[0], "reference/scenario-keys"))
    scenario = load_scenario(BASELINE).model_dump(exclude={"posterior": {"draws"}})
    assert undocumented(documented, concrete_keys(scenario)) == []
    last_parts = {path.rsplit(".", 1)[-1].removesuffix("[]") for path in documented}
    fields = model_fields(Scenario)
    assert len(fields) > 80
    assert sorted(name for _, name in fields if name not in last_parts) == []


def test_a_key_reference_missing_a_key_fails_the_check(site):
    documented = first_cells(page(site[0], "reference/scenario-keys"))
    scenario = load_scenario(BASELINE).model_dump(exclude={"posterior": {"draws"}})
    without = [path for path in documented if path != "economics.salary_usd_per_year"]
    assert undocumented(without, concrete_keys(scenario)) == ["economics.salary_usd_per_year"]


def within_0_to_1(allowed: str) -> bool:
    """Whether a key's allowed range (``[0, 1]``, ``[1e-06, 0.999999]``, ...) lies within 0..1."""
    bounds = re.fullmatch(r"[\[(]([^,]+), ([^\])]+)[\])]", allowed)
    try:
        return bool(bounds) and all(0 <= float(bound) <= 1 for bound in bounds.groups())
    except ValueError:
        return False


def test_every_key_has_a_meaning_and_every_number_beyond_0_to_1_a_unit():
    keys = scenario_keys()
    assert [key.path for key in keys if not key.description] == []
    unitless = [key.path for key in keys if key.kind in ("number", "whole number")
                and not key.unit and not within_0_to_1(key.allowed)]
    assert unitless == []
    assert not within_0_to_1("[0, 1e+12]") and not within_0_to_1("[1e-06, inf)")


def table_rows(text: str) -> dict[str, dict[str, str]]:
    """The rows of a built page's tables whose first cell is code: that code -> {column header:
    the cell's text}."""
    rows = {}
    for table_html in re.findall(r"<table>(.*?)</table>", text, flags=re.DOTALL):
        header = [html.unescape(re.sub("<.*?>", "", cell)).strip()
                  for cell in re.findall(r"<th>(.*?)</th>", table_html, flags=re.DOTALL)]
        for row in re.findall(r"<tr>\s*(<td>.*?)</tr>", table_html, flags=re.DOTALL):
            cells = [html.unescape(re.sub("<.*?>", "", cell)).strip()
                     for cell in re.findall(r"<td>(.*?)</td>", row, flags=re.DOTALL)]
            rows[cells[0]] = dict(zip(header, cells))
    return rows


def test_the_signal_and_metric_references_list_every_signal_metric_and_segment(site):
    signals = page(site[0], "reference/signals")
    assert {spec.name for spec in SIGNALS} <= set(first_cells(signals))
    metrics = page(site[0], "reference/metrics")
    assert [spec.name for spec in METRICS if spec.name not in first_cells(metrics)] == []
    segments = {html.unescape(code) for code in re.findall(r"<code>(.*?)</code>", metrics)}
    assert set(SEGMENTS) <= segments


def test_the_metric_reference_shows_each_metrics_observable_and_may_be_missing_flags(site):
    rows = table_rows(page(site[0], "reference/metrics"))
    shown = {name: (rows[name]["observable"], rows[name]["may be missing"])
             for name in (spec.name for spec in METRICS)}
    expected = {spec.name: ("yes" if spec.observable else "no",
                            "yes" if spec.may_be_missing else "no") for spec in METRICS}
    assert shown == expected
    # both values of both flags occur, so a column stuck at one value would be caught
    assert {flags[0] for flags in shown.values()} == {flags[1] for flags in shown.values()} \
        == {"yes", "no"}


def test_the_api_reference_documents_advise_profile_and_the_advise_modules(site):
    anchors = ids(page(site[0], "reference/api"))
    assert "sim.workflows.advise_profile" in anchors
    advise_modules = sorted(f"sim.advise.{path.stem}" for path in
                            (ROOT / "sim" / "advise").glob("*.py") if path.stem != "__init__")
    assert [module for module in advise_modules if module not in anchors] == []


def test_the_cli_reference_lists_every_command_and_option(site):
    text = html.unescape(page(site[0], "reference/cli"))
    parser = build_parser()
    commands = next(action for action in parser._actions if hasattr(action, "choices")
                    and isinstance(action.choices, dict)).choices
    assert "docs" in commands
    for name, command in commands.items():
        assert f'id="adoptsim-{name}"' in text, name
        for action in command._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help"):
                    assert re.search(rf"<code>{re.escape(option)}\b", text), f"{name} {option}"
            if action.help and action.option_strings and "--help" not in action.option_strings:
                assert " ".join(action.help.split()) in " ".join(text.split()), action.help


# --- the ODD description ----------------------------------------------------------------------

ODD_ELEMENTS = ("purpose-and-patterns", "entities-state-variables-and-scales",
                "process-overview-and-scheduling", "design-concepts", "initialisation",
                "input-data", "submodels")
DESIGN_CONCEPTS = ("Basic principles", "Emergence", "Adaptation", "Objectives", "Learning",
                   "Prediction", "Sensing", "Interaction", "Stochasticity", "Collectives",
                   "Observation")


def test_the_odd_description_covers_the_seven_elements_and_the_design_concepts(site):
    text = page(site[0], "model")
    assert set(ODD_ELEMENTS) <= ids(text)
    assert [concept for concept in DESIGN_CONCEPTS
            if f"<strong>{concept}.</strong>" not in text] == []


def test_the_odd_schedule_is_the_models_step_in_order(site):
    text = page(site[0], "model")
    section = text[text.index('id="process-overview-and-scheduling"'):]
    listed = re.findall(r"<li><strong>(\w+)</strong>: (.*?)</li>", section[:section.index("</ol>")])
    assert tuple(name for name, _ in listed) == STEP_ORDER
    for (_, described), (_, docstring) in zip(listed, odd.steps()):
        assert html.unescape(re.sub("<.*?>", "", described)).replace("`", "") == \
            docstring.replace("`", "")


def test_the_schedule_refuses_a_step_docstring_out_of_step_order(monkeypatch):
    swapped = AdoptionModel.step.__doc__.replace("- signals:", "- SWAP:").replace(
        "- vendor_events:", "- signals:").replace("- SWAP:", "- vendor_events:")
    monkeypatch.setattr(AdoptionModel.step, "__doc__", swapped)
    with pytest.raises(ValueError, match="STEP_ORDER"):
        odd.steps()


def test_the_odd_parameter_tables_carry_the_schemas_units_and_the_baselines_sources(site):
    text = " ".join(html.unescape(re.sub("<.*?>", " ", page(site[0], "model"))).split())
    baseline = load_scenario(BASELINE)
    for key in scenario_keys():
        if key.path.startswith(("behaviour.", "economics.")) and key.kind == "number":
            assert key.path in text, key.path
    assert "salary_usd_per_year 170,000 USD per year" in text
    assert baseline.economics.large_model.source in text
    assert baseline.signals.benchmark_gap.source in text
    assert text.count("calibrated: posterior median") == len(baseline.posterior.parameters)


# --- the guides and the README ----------------------------------------------------------------

def test_the_strategist_guides_scenario_and_overrides_load(monkeypatch):
    guide = (ROOT / "docs" / "guides" / "strategist.md").read_text()
    blocks = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", guide, re.S)]
    scenarios = [block for block in blocks if "extends" in block]
    assert scenarios
    monkeypatch.chdir(ROOT / "scenarios" / "watch")   # where such a file would live
    for raw in scenarios:
        scenario = load_scenario(raw)
        assert scenario.signals.gpu_rent_usd_per_hour.after is not None
    overrides = re.findall(r'--set "([^"]+)"', guide)
    assert any("gpu_rent_usd_per_hour.after" in text for text in overrides)
    for text in overrides:
        load_scenario(BASELINE, [text])


def test_the_strategist_guide_explains_signposts_and_leads_to_the_advice(site):
    text = page(site[0], "guides/strategist")
    assert {"for-one-enterprise-advise", "signposts", "explore-interactively"} <= ids(text)
    assert "Placeholder:" not in text
    assert 'href="../enterprise/"' in text
    assert "signposts.csv" in text and "My enterprise" in text and "--allow-remote" in text


def test_the_enterprise_guides_profile_loads(tmp_path):
    from sim.advise.profile import load_profile

    guide = (ROOT / "docs" / "guides" / "enterprise.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", guide, re.S)
    assert blocks
    for number, block in enumerate(blocks):
        path = tmp_path / f"profile{number}.yaml"
        path.write_text(block)
        profile = load_profile(path)
        assert profile.kind == "profile" and profile.workloads


README = ROOT / "README.md"
#: Each section of the README before it became a front door (with the sections other branches
#: added to it meanwhile), and the page (and heading) that holds its content now.
OLD_README_SECTIONS = {
    "(the two commands and what they do)": ("getting-started", "getting-started"),
    "What it models, force by force": ("model", "purpose-and-patterns"),
    "Scenario files": ("guides/strategist", "writing-a-scenario"),
    "Outputs": ("guides/reader", "a-runs-folder"),
    "Sweeps for analysts": ("guides/analyst", "sweeps"),
    "Calibration": ("guides/calibration", "the-method"),
    "What to watch": ("guides/strategist", "what-to-watch-the-articles-futures"),
    "What to watch: signposts": ("guides/strategist", "signposts"),
    "For one enterprise": ("guides/enterprise", "for-one-enterprise"),
    "Explore interactively": ("guides/strategist", "explore-interactively"),
    "The code, layer by layer": ("development", "the-code-layer-by-layer"),
    "Performance": ("development", "performance"),
}


def test_every_old_readme_section_has_a_page(site):
    missing = [section for section, (name, anchor) in OLD_README_SECTIONS.items()
               if anchor not in ids(page(site[0], name))]
    assert missing == []


def test_the_readme_is_a_short_front_door_whose_links_lead_into_the_site(site):
    text = README.read_text()
    lines = text.splitlines()
    assert len(lines) < 150
    assert lines[3] == ('python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]"'
                        ' && adoptsim run scenarios/baseline.yaml')
    assert lines[4] == ('python3 -m venv .venv && . .venv/bin/activate && pip install -e ".[dev]"'
                        ' && python -m pytest -q -n 2 tests')
    assert "adoptsim docs --serve" in text
    links = re.findall(r"\]\(((?:docs|notebooks)/[^)#]+)(?:#([^)]+))?\)", text)
    assert len(links) >= 10
    for target, anchor in links:
        assert (ROOT / target).is_file(), target
        if target.startswith("docs/") and target.endswith(".md"):
            built = site[0] / target.removeprefix("docs/").removesuffix(".md")
            assert (built / "index.html").is_file(), target
            if anchor:
                assert anchor in ids((built / "index.html").read_text()), f"{target}#{anchor}"
