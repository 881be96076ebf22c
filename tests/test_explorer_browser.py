"""`adoptsim explore` driven in headless Chromium (Debian's chromium and chromium-driver through
selenium, as in ``test_browser.py``): the page loads offline with a clean console, a moved
control redraws the what-if table, the saved scenario validates and ``adoptsim run`` reproduces
the figures shown, the My enterprise view advises a picked and edited profile under the what-if
and saves it, a bad or vanished profile is an error in the page, the Agents view steps a
quarter, and the server refuses paths outside the project's ``scenarios/``, ``outputs/`` and
``profiles/``.

Skipped when chromium, chromedriver or Solara (the ``viz`` extra) is missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from explorer_screenshot import (
    ROOT,
    button,
    chromium,
    copy_project,
    explorer,
    move_slider,
    shown,
    text_of,
    wait_for,
)
from test_browser import CHROMEDRIVER, CHROMIUM

import sim

ENTERPRISES, REPLICATIONS = 300, 4

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None or importlib.util.find_spec("solara") is None,
    reason="needs chromium, chromium-driver and Solara (pip install -e \".[viz]\")")


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project's scenarios, with an empty outputs folder: the page's world."""
    return copy_project(tmp_path_factory.mktemp("explore-project"))


@pytest.fixture(scope="module")
def server(project):
    with explorer(project, "--enterprises", str(ENTERPRISES),
                  "--replications", str(REPLICATIONS)) as url:
        yield url


@pytest.fixture(scope="module")
def browser(project):
    driver = chromium(downloads=project / "downloads")
    yield driver
    driver.quit()


def severe_console_entries(browser) -> list[dict]:
    """The console's errors since the last call (the log is read and cleared)."""
    return [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]


def table_text(browser) -> str:
    return text_of(browser, ".whatif-table table")


def test_the_what_if_page_loads_offline_redraws_and_saves_what_it_shows(server, browser,
                                                                        project):
    browser.get(server)
    wait_for(lambda: "unchanged" in shown(browser), "the first what-if table")
    first = table_text(browser)
    assert "+0.00 pts" in first          # no control moved: the paired change is exactly zero
    assert severe_console_entries(browser) == []
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(url.startswith(server) for url in resources), resources

    assert float(move_slider(browser, "signals.tooling_maturity.upper", "PAGE_UP")) == 1.0
    changed = table_text(browser)
    assert changed != first and "+0.00 pts" not in changed

    button(browser, "SAVE SCENARIO").click()
    downloaded = wait_for(lambda: [p for p in (project / "downloads").glob("*.yaml")],
                          "the saved scenario", timeout=30)[0]
    saved = project / "scenarios" / "explore" / downloaded.name   # where the file says to keep it
    saved.parent.mkdir(exist_ok=True)
    shutil.move(downloaded, saved)
    check = subprocess.run([sys.executable, "-m", "sim", "validate", str(saved)], cwd=project,
                           capture_output=True, text=True, env={**os.environ,
                                                                "PYTHONPATH": str(ROOT)})
    assert check.returncode == 0, check.stderr
    run = sim.run_scenario(saved, out=None, plots=False)
    row = run.summary[(run.summary["metric"] == "workload_share_closed")
                      & (run.summary["segment"] == "all")
                      & (run.summary["quarter"] == run.scenario.horizon.end)].iloc[0]
    expected = f"{row['mean']:.1%} [{row['p5']:.1%}, {row['p95']:.1%}]"
    assert expected in changed, (expected, changed)
    assert severe_console_entries(browser) == []     # nothing failed later either


def test_the_agents_view_steps_one_quarter(server, browser):
    browser.get(server)
    button(browser, "AGENTS").click()
    quarter = wait_for(lambda: text_of(browser, ".agents-quarter"), "the Agents view")
    assert quarter == "Quarter: start"
    button(browser, "STEP").click()
    wait_for(lambda: text_of(browser, ".agents-quarter") == "Quarter: 2024Q1", "the first quarter")


@pytest.mark.parametrize("path", ["../../etc/passwd", "%2Fetc%2Fpasswd", "..%2F..%2Fetc%2Fpasswd",
                                  "sim/cli.py", "profiles/..%2F..%2Fetc%2Fpasswd",
                                  "profiles/%2E%2E/sim/cli.py"])
def test_paths_outside_scenarios_and_outputs_are_refused(server, path):
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{server}files/{path}", timeout=10)
    assert refused.value.code in (403, 404)


def test_the_project_s_scenarios_and_profiles_are_served(server, project):
    for path in ("scenarios/baseline.yaml", "profiles/insurer-eu-mid.yaml"):
        body = urllib.request.urlopen(f"{server}files/{path}", timeout=10).read()
        assert body == (project / path).read_bytes()


def test_over_long_paths_get_404_or_414_without_a_traceback(server, project):
    for path, status in (("outputs/" + "a" * 300, 404), ("outputs/" + "a/" * 2000, 404),
                         ("outputs/" + "a" * 100_000, 414)):
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{server}files/{path}", timeout=30)
        assert refused.value.code == status, len(path)
    assert "Traceback" not in (project / "explorer.log").read_text(encoding="utf-8")


# --- My enterprise --------------------------------------------------------------------------

def choose(browser, picker: str, name: str) -> None:
    """Pick ``name`` in the picker with class ``picker``, as a user does: open it, click the
    entry."""
    from selenium.webdriver.common.by import By

    wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, f".{picker}"), "the picker")[0].click()
    wait_for(lambda: next((item for item in browser.find_elements(By.CSS_SELECTOR, ".v-list-item")
                           if item.text == name and item.is_displayed()), None),
             f"{name} in the picker").click()


def test_a_bad_or_vanished_scenario_is_an_error_in_the_page_which_stays_usable(project,
                                                                               browser):
    """The page's scenario corrupted, then deleted, after the explorer started: a fresh page
    says so, and its views and scenario picker still work; so does Agents -> Reset."""
    doomed = project / "scenarios" / "doomed.yaml"
    doomed.write_text("extends: baseline.yaml\nname: doomed\n", encoding="utf-8")
    with explorer(project, "scenarios/doomed.yaml", "--enterprises", str(ENTERPRISES),
                  "--replications", str(REPLICATIONS)) as url:
        browser.get(url)
        button(browser, "AGENTS").click()
        wait_for(lambda: text_of(browser, ".agents-quarter") == "Quarter: start", "the agents")
        doomed.write_text("extends: baseline.yaml\nname: [doomed\n", encoding="utf-8")
        button(browser, "RESET").click()
        assert "doomed.yaml" in wait_for(lambda: text_of(browser, ".agents-error"),
                                         "the error after Reset")
        doomed.write_text("extends: baseline.yaml\nname: doomed\n", encoding="utf-8")
        button(browser, "RESET").click()                 # mended: Reset works again
        wait_for(lambda: text_of(browser, ".agents-quarter") == "Quarter: start", "the agents")

        for spoil in (lambda: doomed.write_text("name: [doomed\n", encoding="utf-8"),
                      doomed.unlink):
            spoil()
            browser.get(url)                             # a fresh page
            error = wait_for(lambda: text_of(browser, ".scenario-error"), "the page's error")
            assert "doomed.yaml" in error
            button(browser, "RESULTS").click()           # the views still switch
            wait_for(lambda: "No run, comparison or sweep" in text_of(browser, "body"),
                     "the Results view")
            button(browser, "WHAT IF").click()
            choose(browser, "scenario-picker", "scenarios/baseline.yaml")   # another one works
            wait_for(lambda: "unchanged" in shown(browser), "the baseline's what-if table")
        assert severe_console_entries(browser) == []
        browser.get("about:blank")   # before the server stops, so the page does not call it


def type_into(browser, selector: str, text: str) -> None:
    """Replace the text of the input inside ``selector`` and press Enter, as a person does: one
    key at a time, Enter a moment later. (Keys sent all at once race the page: the browser sends
    the field's text to the server one update at a time, each once the last was taken, but the
    Enter key at once, so the server could read a text still missing its last keys.)"""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    field = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, f"{selector} input"),
                     selector)[0]
    field.click()
    keys = ActionChains(browser).key_down(Keys.CONTROL).send_keys("a").key_up(Keys.CONTROL)
    for character in text:
        keys = keys.send_keys(character).pause(0.08)
    keys.pause(0.5).send_keys(Keys.ENTER).perform()


def advice_row(browser, workload: str) -> str:
    """The advice table's row of ``workload`` (its cells' text), "" while there is none."""
    return next((line for line in text_of(browser, ".advice-table table").splitlines()
                 if line.startswith(f"{workload} ")), "")


def test_my_enterprise_advises_a_profile_under_the_what_if_and_saves_it(server, browser,
                                                                       project):
    """Pick the example insurer, see its advice; more tokens on its coding assistant change
    the row; a what-if set in the What-if view is the scenario the advice is under; the
    profile saved in profiles/explore/ and the one downloaded validate."""
    browser.get(server)
    wait_for(lambda: "unchanged" in shown(browser), "the first what-if table")
    severe_console_entries(browser)
    button(browser, "MY ENTERPRISE").click()
    wait_for(lambda: advice_row(browser, "claims-triage"), "the first profile's advice")
    choose(browser, "profile-picker", "profiles/retailer-na-small.yaml")
    wait_for(lambda: advice_row(browser, "shopping-assistant"), "the retailer's advice")
    choose(browser, "profile-picker", "profiles/insurer-eu-mid.yaml")
    before = wait_for(lambda: advice_row(browser, "developer-copilot"), "the insurer's advice")
    assert before.startswith("developer-copilot coding_agents 400 closed")
    assert "insurer-eu-mid under baseline:" in text_of(browser, ".advice-shown")

    type_into(browser, ".workload-4 .workload-tokens", "40000")
    after = wait_for(lambda: "40,000" in advice_row(browser, "developer-copilot")
                     and advice_row(browser, "developer-copilot"), "the advice of more tokens")
    assert after.split()[3:] != before.split()[3:], (before, after)   # the recommendations moved

    button(browser, "WHAT IF").click()
    wait_for(lambda: "unchanged" in shown(browser), "the What-if view again")
    move_slider(browser, "signals.tooling_maturity.upper", "PAGE_DOWN")
    button(browser, "MY ENTERPRISE").click()
    wait_for(lambda: "insurer-eu-mid under baseline-whatif:" in text_of(browser, ".advice-shown"),
             "the advice under the what-if")
    assert "40,000" in advice_row(browser, "developer-copilot")   # the edit was kept
    assert "(was 0.9)" in text_of(browser, ".advised-under")

    button(browser, "SAVE IN PROFILES/EXPLORE/").click()
    assert wait_for(lambda: text_of(browser, ".profile-saved"), "the saved profile") \
        == "Saved as profiles/explore/insurer-eu-mid.yaml."
    button(browser, "DOWNLOAD PROFILE").click()
    downloaded = wait_for(lambda: list((project / "downloads").glob("insurer-eu-mid*.yaml")),
                          "the downloaded profile", timeout=30)[0]
    saved = project / "profiles" / "explore" / "insurer-eu-mid.yaml"
    assert downloaded.read_text() == saved.read_text()
    check = subprocess.run([sys.executable, "-m", "sim", "validate", str(saved)], cwd=project,
                           capture_output=True, text=True,
                           env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert check.returncode == 0 and "valid profile 'insurer-eu-mid'" in check.stdout, check
    assert sim.load_profile(saved).workloads[4].million_tokens_per_month == 40000
    assert severe_console_entries(browser) == []
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(url.startswith(server) for url in resources), resources


def test_a_bad_or_vanished_profile_is_an_error_in_the_page_which_stays_usable(server, browser,
                                                                             project):
    broken = project / "profiles" / "x-broken.yaml"
    broken.write_text("kind: profile\nname: broken\nsector: insurance\nregion: eu\nsize: mid\n"
                      "ml_engineers: 2\nworkloads:\n  - name: a\n    class: quantum\n"
                      "    million_tokens_per_month: 10\n", encoding="utf-8")
    doomed = project / "profiles" / "x-doomed.yaml"
    shutil.copy(project / "profiles" / "retailer-na-small.yaml", doomed)
    try:
        browser.get(server)
        button(browser, "MY ENTERPRISE").click()
        wait_for(lambda: advice_row(browser, "claims-triage"), "the first profile's advice")
        # a fresh page is a new session: another page's what-if does not reach it
        assert text_of(browser, ".advised-under").startswith("Advised under baseline: baseline,"
                                                             " unchanged.")
        severe_console_entries(browser)
        choose(browser, "profile-picker", "profiles/x-broken.yaml")
        error = wait_for(lambda: text_of(browser, ".profile-error"), "the profile's error")
        assert "x-broken.yaml:9: workloads.0.class: Input should be" in error
        doomed.unlink()                                   # listed, then gone
        choose(browser, "profile-picker", "profiles/x-doomed.yaml")
        wait_for(lambda: "x-doomed.yaml: file not found" in text_of(browser, ".profile-error"),
                 "the vanished profile's error")
        button(browser, "RESULTS").click()                # the views still switch
        wait_for(lambda: "No run, comparison or sweep" in text_of(browser, "body"), "Results")
        button(browser, "MY ENTERPRISE").click()
        choose(browser, "profile-picker", "profiles/tech-na-large.yaml")   # another works
        wait_for(lambda: advice_row(browser, "coding-agents"), "the tech firm's advice")
        type_into(browser, ".workload-0 .workload-tokens", "-5")   # a bad edit: said, by key
        wait_for(lambda: "workloads.0.million_tokens_per_month: Input should be greater than 0"
                 in text_of(browser, ".profile-invalid"), "the bad edit's error")
        assert severe_console_entries(browser) == []
    finally:
        broken.unlink()
        doomed.unlink(missing_ok=True)
