"""`make screenshots`: each console screen at 1280x800, written to docs/console/<screen>.png.

Starts the app against the bundled fakes with their sample data, maps and imports a little so
the screens show something, and drives Debian's headless chromium through them.
"""

from __future__ import annotations

import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path

from local.client import LocalApi
from tests.browser.conftest import Console, browser_missing, start_app, start_browser

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "console"


def main() -> int:
    reason = browser_missing()
    if reason:
        print(f"Cannot take screenshots: {reason}", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack, tempfile.TemporaryDirectory() as downloads:
        app = start_app(stack)
        api = LocalApi(app.url)
        api.json("POST", "/mappings/generate")
        run = api.json("POST", "/customers/import", {"dry_run": False})
        api.wait_run(run["run_id"])
        driver = start_browser(Path(downloads))
        stack.callback(driver.quit)
        console = Console(driver, app.url)

        def shoot(name: str) -> None:
            driver.save_screenshot(str(OUT / f"{name}.png"))
            print(f"wrote {(OUT / f'{name}.png').relative_to(ROOT)}")

        console.open("connect")
        shoot("connect")
        console.press("Test Configuration")
        console.find("dialog[open] [data-system='Halo']")
        shoot("test-configuration")
        console.press("Close", "dialog[open]")
        console.open("customers")
        shoot("customers")
        console.press("Add")
        console.find("dialog[open] #add-client-search").send_keys("co")
        shoot("add-mapping")
        console.press("Close", "dialog[open]")
        console.press("Import Customers")
        console.find("dialog[open] #plan-table")
        shoot("import-customers-plan")
        console.press("Cancel", "dialog[open]")
        console.open("subscriptions")
        console.click("#sub-select-all")
        shoot("subscriptions")
        console.open("integrator")
        shoot("integrator")
        console.open(f"runs/{run['run_id']}")
        console.wait_run_finished()
        shoot("run")
        console.open("runs")
        shoot("runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
