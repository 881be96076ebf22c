"""Start ``adoptsim explore`` and drive it in headless Chromium: the helpers the browser test
(``test_explorer_browser.py``) uses, and the script that regenerates the explorer's screenshot
(in the strategist guide, docs/guides/strategist.md).

    python tests/explorer_screenshot.py            # writes docs/explorer.png

The screenshot shows the What-if view of the baseline at the page's default size (8
replications of 1,000 enterprises) with the open tooling ceiling lowered from its scenario value
(0.90) to 0.50 (tooling stalls: four presses of Page Down), once the page has drawn it.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_browser import CHROMEDRIVER, CHROMIUM, FLAGS  # noqa: E402

SCREENSHOT = ROOT / "docs" / "explorer.png"
WAIT = 90                    # seconds: a server start or a redraw on a busy machine


def copy_project(folder: Path) -> Path:
    """``folder`` made a project for the page: a copy of the scenarios and the profiles, an
    empty outputs/."""
    import shutil

    shutil.copytree(ROOT / "scenarios", folder / "scenarios")
    shutil.copytree(ROOT / "profiles", folder / "profiles")
    (folder / "outputs").mkdir()
    return folder


@contextmanager
def explorer(project: Path, *arguments: str):
    """``adoptsim explore ARGUMENTS --port 0`` run in ``project``; yields its URL (the one it
    announces, with the port it got) once it answers, and stops it afterwards. Its output goes
    to ``project/explorer.log``."""
    import re
    import urllib.request

    log = project / "explorer.log"
    with log.open("w", encoding="utf-8") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "sim", "explore", "--port", "0", *arguments],
            cwd=project, stdout=output, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + WAIT
        while True:
            announced = re.search(r"adoptsim explorer: (http://\S+/)", log.read_text("utf-8"))
            try:
                if announced:
                    urllib.request.urlopen(announced[1] + "readyz", timeout=2)
                    break
            except OSError:
                pass
            if process.poll() is not None:
                raise RuntimeError(f"adoptsim explore stopped:\n{log.read_text('utf-8')}")
            if time.monotonic() > deadline:
                raise TimeoutError("adoptsim explore did not answer")
            time.sleep(0.3)
        yield announced[1]
    finally:
        process.terminate()
        process.wait(timeout=10)


def chromium(downloads: Path | None = None, width: int = 1400, height: int = 1000):
    """Headless Chromium (Debian's, through chromedriver) logging the console, saving
    downloads in ``downloads`` without asking."""
    from selenium import webdriver

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*FLAGS, f"--window-size={width},{height}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if downloads is not None:
        options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                                  "download.prompt_for_download": False})
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(CHROMEDRIVER))


def wait_for(condition, what: str, timeout: float = WAIT):
    """``condition()``'s first truthy value, asked every 0.3 s; TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise TimeoutError(f"timed out waiting for {what}")


def text_of(browser, selector: str) -> str:
    """The text of the first element matching ``selector``; "" when there is none (or it was
    redrawn while being read)."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.by import By

    try:
        found = browser.find_elements(By.CSS_SELECTOR, selector)
        return found[0].text if found else ""
    except StaleElementReferenceException:
        return ""


def shown(browser) -> str:
    """What the what-if results on the page are of (present once no newer run is pending)."""
    return text_of(browser, ".whatif-shown")


def button(browser, label: str):
    from selenium.webdriver.common.by import By

    return wait_for(lambda: next((b for b in browser.find_elements(By.TAG_NAME, "button")
                                  if b.text.upper() == label), None), f"the {label} button")


def move_slider(browser, control_key: str, key: str, presses: int = 1) -> str:
    """Press ``key`` (a selenium ``Keys`` name: ``ARROW_RIGHT``, ``PAGE_DOWN``: ten steps, ...)
    on a control's slider ``presses`` times, as a keyboard user would, each once the page shows
    the last; returns the value the page ends on."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    selector = ".control-" + control_key.replace(".", "\\.") + " [role='slider']"
    def value_now() -> str:
        return browser.find_element(By.CSS_SELECTOR, selector).get_attribute("aria-valuenow")

    value = value_now()
    for _ in range(presses):
        before = value
        browser.execute_script("arguments[0].focus()",
                               browser.find_element(By.CSS_SELECTOR, selector))
        ActionChains(browser).send_keys(getattr(Keys, key)).perform()
        value = wait_for(lambda before=before: value_now() != before and value_now(),
                         f"{control_key} to move")
        wait_for(lambda page_shows=f"= {float(value)} (was": page_shows in shown(browser),
                 f"the page to show {value}")
    return value


def main() -> int:
    with tempfile.TemporaryDirectory() as folder, explorer(copy_project(Path(folder))) as url:
        browser = chromium(height=1500)
        try:
            browser.get(url)
            wait_for(lambda: "unchanged" in shown(browser), "the first what-if")
            move_slider(browser, "signals.tooling_maturity.upper", "PAGE_DOWN", 4)
            SCREENSHOT.parent.mkdir(exist_ok=True)
            temporary = SCREENSHOT.with_suffix(".tmp.png")
            browser.save_screenshot(str(temporary))
            temporary.replace(SCREENSHOT)
        finally:
            browser.quit()
    print(f"wrote {SCREENSHOT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
