"""Headless Chromium (Debian's chromium and chromium-driver, never downloaded) driving the
console against the app and the fakes. Without the browser these tests are skipped, saying so;
under CI (the CI variable set) a missing browser fails them instead."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.client import LocalApi
from local.fakes import DickerDataFake, HaloFake
from local.fakes.sample_data import sample_dicker_data, sample_halo
from local.serve.app import LocalApp
from local.serve.upstreams import DickerDataUpstream, HaloUpstream, UpstreamTargets

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
WAIT_SECONDS = 15


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        found = " and ".join(missing)
        return f"{found} not found: apt-get install chromium chromium-driver to run the browser tests"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install -r requirements-dev.txt)"
    return None


def _require_browser() -> None:
    reason = browser_missing()
    if reason is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the browser tests: {reason}")
    pytest.skip(reason)


def start_browser(download_dir: Path, width: int = 1280, height: int = 800) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in CHROME_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='console-chromium-')}")
    options.add_argument(f"--window-size={width},{height}")
    options.add_experimental_option(
        "prefs",
        {
            "download.default_directory": str(download_dir),
            "download.prompt_for_download": False,
            "safebrowsing.enabled": False,
        },
    )
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_window_size(width, height)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(download_dir)}
    )
    return driver


def start_app(stack: Any, **halo_options: Any) -> LocalApp:
    """A fresh app on a free port against fresh fakes with the sample data (closed by `stack`)."""
    tenants, subscriptions = sample_dicker_data()
    dd = stack.enter_context(DickerDataFake(tenants=tenants, subscriptions=subscriptions))
    halo = stack.enter_context(HaloFake(**halo_options))
    sample_halo(halo)
    upstreams = UpstreamTargets(
        dicker_data=DickerDataUpstream(dd.base_url, dd.account_code, dd.access_token),
        halo=HaloUpstream(halo.api_url, halo.auth_url, None, halo.client_id, halo.client_secret),
    )
    app: LocalApp = stack.enter_context(LocalApp(port=0, upstreams=upstreams))
    return app


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads: Path) -> Iterator[Any]:
    """One browser per module (per xdist worker), cleared between tests by `console`."""
    _require_browser()
    driver = start_browser(downloads)
    yield driver
    driver.quit()


@pytest.fixture
def halo_options() -> dict[str, Any]:
    """How the test's Halo fake behaves (a test overrides this to throttle it)."""
    return {}


@pytest.fixture
def console(browser: Any, halo_options: dict[str, Any]) -> Iterator[Console]:
    """A fresh app and fakes for each test (its own port), the browser pointed at its console."""
    from contextlib import ExitStack

    browser.get_log("browser")  # what an earlier test left
    with ExitStack() as stack:
        app = start_app(stack, **halo_options)
        yield Console(browser, app.url)
        browser.get("about:blank")


class Console:
    """The browser on one app's console, with explicit waits (never fixed sleeps)."""

    def __init__(self, driver: Any, url: str) -> None:
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver, self.url = driver, url
        self.api = LocalApi(url)
        self.wait = WebDriverWait(driver, WAIT_SECONDS)

    def open(self, route: str) -> None:
        self.driver.get(f"{self.url}/#/{route}")
        self.wait.until(
            lambda d: d.execute_script("return !document.getElementById('view').hasAttribute('aria-busy')")
        )
        self.wait.until(lambda d: d.find_elements("css selector", "main h1"))

    def find(self, css: str) -> Any:
        from selenium.webdriver.support import expected_conditions as ec

        return self.wait.until(ec.visibility_of_element_located(("css selector", css)))

    def find_xpath(self, xpath: str) -> Any:
        from selenium.webdriver.support import expected_conditions as ec

        return self.wait.until(ec.visibility_of_element_located(("xpath", xpath)))

    def click(self, css: str) -> None:
        from selenium.webdriver.support import expected_conditions as ec

        self.wait.until(ec.element_to_be_clickable(("css selector", css))).click()

    def button(self, label: str, within: str = "body") -> Any:
        """The enabled button with exactly this label (the guide's words)."""
        xpath = f"//button[normalize-space()='{label}' and not(@disabled)]"

        def found(d: Any) -> Any:
            for el in d.find_element("css selector", within).find_elements("xpath", "." + xpath):
                if el.is_displayed() and el.is_enabled():
                    return el
            return False

        return self.wait.until(found)

    def press(self, label: str, within: str = "body") -> None:
        self.button(label, within).click()

    def text_of(self, css: str) -> str:
        return str(self.find(css).text)

    def wait_text(self, css: str, text: str) -> str:
        self.wait.until(lambda d: any(text in el.text for el in d.find_elements("css selector", css)))
        return self.text_of(css)

    def dialog(self) -> Any:
        return self.find("dialog[open]")

    def wait_run_finished(self) -> str:
        """On a run's screen: waits for the polled status to leave queued/running."""
        self.find("#run-view")
        # Read in the page: the poll redraws the badge, so a held element reference goes stale.
        status = "return document.querySelector('#run-view .run-meta .badge')?.textContent || ''"
        long_wait = type(self.wait)(self.driver, 60)
        long_wait.until(lambda d: d.execute_script(status) not in ("", "queued", "running"))
        return str(self.driver.execute_script(status))
