"""`adoptsim explore` driven in headless Chromium (Debian's chromium and chromium-driver through
selenium, as in ``test_browser.py``): the page loads offline with a clean console, a moved
control redraws the what-if table, the saved scenario validates and ``adoptsim run`` reproduces
the figures shown, the Agents view steps a quarter, and the server refuses paths outside the
project's ``scenarios/`` and ``outputs/``.

Skipped when chromium, chromedriver or Solara (the ``viz`` extra) is missing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from test_browser import CHROMEDRIVER, CHROMIUM, FLAGS

import sim

ROOT = Path(__file__).resolve().parents[1]
ENTERPRISES, REPLICATIONS = 300, 4
WAIT = 90

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None or importlib.util.find_spec("solara") is None,
    reason="needs chromium, chromium-driver and Solara (pip install -e \".[viz]\")")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    """A copy of the project's scenarios, with an empty outputs folder: the page's world."""
    folder = tmp_path_factory.mktemp("explore-project")
    shutil.copytree(ROOT / "scenarios", folder / "scenarios")
    (folder / "outputs").mkdir()
    return folder


@pytest.fixture(scope="module")
def server(project):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "sim", "explore", "--port", str(port), "--enterprises",
         str(ENTERPRISES), "--replications", str(REPLICATIONS)],
        cwd=project, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "readyz", timeout=2)
            break
        except OSError:
            assert process.poll() is None, process.stdout.read()
            time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(project):
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, "--window-size=1400,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option("prefs", {
        "download.default_directory": str(project / "downloads"),
        "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))
    yield driver
    driver.quit()


def wait_for(condition, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    pytest.fail(f"timed out waiting for {what}")


def table_text(browser) -> str:
    from selenium.webdriver.common.by import By

    tables = browser.find_elements(By.CSS_SELECTOR, ".whatif-table table")
    return tables[0].text if tables else ""


def shown(browser) -> str:
    """What the results on the page are of (present once no newer run is pending)."""
    from selenium.webdriver.common.by import By

    texts = browser.find_elements(By.CSS_SELECTOR, ".whatif-shown")
    return texts[0].text if texts else ""


def button(browser, label: str):
    from selenium.webdriver.common.by import By

    return wait_for(lambda: next((b for b in browser.find_elements(By.TAG_NAME, "button")
                                  if b.text.upper() == label), None), f"the {label} button")


def test_the_what_if_page_loads_offline_redraws_and_saves_what_it_shows(server, browser,
                                                                        project):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(server)
    wait_for(lambda: "unchanged" in shown(browser), "the first what-if table")
    first = table_text(browser)
    assert "+0.00 pts" in first          # no control moved: the paired change is exactly zero
    severe = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert severe == []
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(url.startswith(server) for url in resources), resources

    ceiling = browser.find_element(
        By.CSS_SELECTOR, ".control-signals\\.tooling_maturity\\.upper [role='slider']")
    browser.execute_script("arguments[0].focus()", ceiling)
    ActionChains(browser).send_keys(*[Keys.ARROW_RIGHT] * 5).perform()
    wait_for(lambda: "ceiling =" in shown(browser), "the page to show the moved ceiling")
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


def test_the_agents_view_steps_one_quarter(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(server)
    button(browser, "AGENTS").click()
    quarter = wait_for(lambda: browser.find_elements(By.CSS_SELECTOR, ".agents-quarter"),
                       "the Agents view")
    assert "start" in quarter[0].text
    browser.find_element(By.CSS_SELECTOR, ".agents-step").click()
    wait_for(lambda: "2024Q1" in browser.find_element(By.CSS_SELECTOR, ".agents-quarter").text,
             "the first quarter")


@pytest.mark.parametrize("path", ["../../etc/passwd", "%2Fetc%2Fpasswd", "..%2F..%2Fetc%2Fpasswd",
                                  "sim/cli.py"])
def test_paths_outside_scenarios_and_outputs_are_refused(server, path):
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{server}files/{path}", timeout=10)
    assert refused.value.code in (403, 404)


def test_the_project_s_scenarios_are_served(server, project):
    body = urllib.request.urlopen(f"{server}files/scenarios/baseline.yaml", timeout=10).read()
    assert body == (project / "scenarios" / "baseline.yaml").read_bytes()
