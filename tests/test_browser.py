"""Generated reports (a run's, two comparisons' (one with signposts) and an enterprise's advice)
opened in real headless Chromium (Debian's ``chromium`` and ``chromium-driver``, driven by
selenium): every image decodes, the console stays clean, nothing is fetched but the file itself,
and at phone width nothing overflows horizontally.
Full-page screenshots are saved in each test's temporary folder for a human to look at.

Skipped only when chromium or chromedriver is not installed (``.ci/run`` installs both).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import BASELINE, ROOT
from test_report import build_comparison
from test_signposts import build_signpost_comparison

import sim

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")
FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run")
DESKTOP_WIDTH, PHONE_WIDTH, PHONE_HEIGHT = 1280, 390, 844
PAGE_TIMEOUT = 30

pytestmark = pytest.mark.skipif(
    CHROMIUM is None or CHROMEDRIVER is None,
    reason="needs Debian's chromium and chromium-driver (apt-get install chromium chromium-driver; "
           ".ci/run installs them)")


@pytest.fixture(scope="session")
def run_report(tmp_path_factory) -> Path:
    result = sim.run_scenario(BASELINE, replications=2, workers=1,
                              out=tmp_path_factory.mktemp("browser-run"),
                              overrides=["population.enterprises=200"])
    return result.folder / "report.html"


@pytest.fixture(scope="session")
def comparison_report(tmp_path_factory) -> Path:
    return build_comparison(tmp_path_factory.mktemp("browser-compare")) / "report.html"


@pytest.fixture(scope="session")
def signposts_report(tmp_path_factory) -> Path:
    """A comparison with signposts (the 2x2's two replications have none)."""
    return build_signpost_comparison(tmp_path_factory.mktemp("browser-signposts")) / "report.html"


@pytest.fixture(scope="session")
def advice_report(tmp_path_factory) -> Path:
    result = sim.advise_profile(ROOT / "profiles" / "insurer-eu-mid.yaml",
                                baseline=BASELINE, until="2027Q4", draws=8,
                                scenarios=[ROOT / "scenarios" / "watch" /
                                           "tooling-fast-gap-tracks.yaml"],
                                peer_replications=1, peer_enterprises=200,
                                out=tmp_path_factory.mktemp("browser-advice"))
    return result.folder / "report.html"


@pytest.fixture(params=["run", "comparison", "signposts", "advice"])
def report_path(request) -> Path:
    """Each kind of report the checks below apply to."""
    return request.getfixturevalue(f"{request.param}_report")


@pytest.fixture
def browser(tmp_path):
    """Headless Chromium with a fresh profile, logging the console and the network."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'chromium-profile'}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(PAGE_TIMEOUT)
    try:
        driver.get("about:blank")
        driver.get_log("performance")  # drop the browser's own start-up traffic
        driver.get_log("browser")
        yield driver
    finally:
        driver.quit()


def open_report(driver, path: Path, width: int, height: int, mobile: bool = False) -> str:
    """Load the report at a given viewport size; wait until it and its images are loaded."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
    url = path.resolve().as_uri()
    driver.get(url)
    WebDriverWait(driver, PAGE_TIMEOUT).until(lambda d: d.execute_script(
        "return document.readyState === 'complete' && "
        "Array.from(document.images).every(img => img.complete)"))
    return url


def full_page_screenshot(driver, width: int, mobile: bool, path: Path) -> tuple[int, int]:
    """Grow the viewport to the document's height, save a screenshot, return its pixel size."""
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})
    assert driver.save_screenshot(str(path))
    from PIL import Image

    with Image.open(path) as image:
        return image.size


def requested_urls(driver) -> list[str]:
    urls = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def test_report_renders_offline_with_every_image(browser, report_path, tmp_path):
    url = open_report(browser, report_path, DESKTOP_WIDTH, 900)

    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.naturalWidth, i.naturalHeight, i.alt])")
    assert len(images) >= 5
    assert all(width > 0 and height > 0 and alt for width, height, alt in images), images

    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors

    urls = requested_urls(browser)
    assert url in urls
    strays = [u for u in urls if u != url and not u.startswith("data:")]
    assert not strays, strays

    size = full_page_screenshot(browser, DESKTOP_WIDTH, False, tmp_path / "report-desktop.png")
    height = browser.execute_script("return document.documentElement.scrollHeight")
    assert size == (DESKTOP_WIDTH, height) and height > 3 * 900


def test_report_fits_a_phone_screen(browser, report_path, tmp_path):
    open_report(browser, report_path, PHONE_WIDTH, PHONE_HEIGHT, mobile=True)
    scroll_width, inner_width = browser.execute_script(
        "return [document.documentElement.scrollWidth, window.innerWidth]")
    assert inner_width == PHONE_WIDTH
    assert scroll_width <= inner_width

    # Wide tables scroll inside their own box instead of widening the page.
    boxes = browser.execute_script(
        "return Array.from(document.querySelectorAll('.table-wrap'))"
        ".map(b => [b.scrollWidth, b.clientWidth, b.getBoundingClientRect().right])")
    assert any(scroll > client for scroll, client, _ in boxes)
    assert all(right <= inner_width + 0.5 for _, _, right in boxes)
    widest_image = browser.execute_script(
        "return Math.max(...Array.from(document.images).map(i => i.getBoundingClientRect().right))")
    assert widest_image <= inner_width

    width, _ = full_page_screenshot(browser, PHONE_WIDTH, True, tmp_path / "report-phone.png")
    assert width == PHONE_WIDTH
