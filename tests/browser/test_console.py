"""The console end to end in headless Chromium: every screen against the app and the fakes."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from local.fakes.sample_data import tenant_guid
from tests.browser.conftest import Console

pytestmark = pytest.mark.integration

FABRIKAM, WIDEWORLD, TAILSPIN = tenant_guid("fabrikam"), tenant_guid("wideworld"), tenant_guid("tailspin")


def no_console_errors(console: Console) -> None:
    """The page logged no script error (a broken module shows nothing else). The API's 4xx
    answers a test provokes are logged by the browser as network errors: those are expected."""
    logs = console.driver.get_log("browser")
    errors = [e for e in logs if e["level"] == "SEVERE" and e.get("source") != "network"]
    assert not errors, errors


def test_connect_saves_secrets_write_only_and_tests_the_configuration(console: Console):
    console.open("connect")
    assert console.find("label[for='dicker_data_access_token'] .badge").text == "set"
    token = console.find("#dicker_data_access_token")
    assert token.get_attribute("type") == "password" and token.get_attribute("value") == ""
    account = console.find("#dicker_data_account_code")
    assert account.get_attribute("value") == console.api.json("GET", "/settings")["dicker_data_account_code"]
    console.find("#halo_tenant").send_keys("acme")
    console.press("Save")
    console.wait_text("#status", "Settings saved.")
    assert console.api.json("GET", "/settings")["halo_tenant"] == "acme"

    console.press("Test Configuration")
    dialog = console.dialog()
    console.wait_text("dialog[open] [data-system='Dicker Data']", "OK")
    assert "Connected to Halo" in dialog.find_element("css selector", "[data-system='Halo'] .message").text
    console.press("Close", "dialog[open]")
    console.wait.until(lambda d: not d.find_elements("css selector", "dialog[open]"))
    assert console.driver.switch_to.active_element.text == "Test Configuration"  # focus came back

    # A candidate secret is tested without being saved: the result says what failed and what to try.
    console.find("#dicker_data_access_token").send_keys("not-the-token")
    console.press("Test Configuration")
    failed = console.find("dialog[open] [data-system='Dicker Data']")
    console.wait_text("dialog[open] [data-system='Dicker Data'] .badge", "Failed")
    assert failed.find_element("css selector", ".hint").text.startswith("What to try:")
    assert console.find("dialog[open] [data-system='Halo'] .badge").text == "OK"
    no_console_errors(console)


def test_customers_generate_remove_take_a_suggestion_and_add(console: Console):
    console.open("customers")
    assert "Wide World Importers" in console.text_of("#unmapped-table")
    console.press("Generate Mappings")
    console.wait_text("#status", "Generate Mappings created")
    mappings = console.wait_text("#mappings-table", "Fabrikam Solutions")
    assert "generated" in mappings

    # Remove, then one click on the suggestion maps it again.
    console.click("button[aria-label='Remove the mapping of Fabrikam Solutions']")
    console.wait.until(lambda d: "Fabrikam" not in d.find_element("css selector", "#mappings-table").text)
    console.click("button[aria-label='Map Fabrikam Solutions to Fabrikam Solutions (#2)']")
    console.wait_text("#mappings-table", "Fabrikam Solutions")
    assert any(m["dicker_customer_id"] == FABRIKAM for m in console.api.json("GET", "/mappings")["mappings"])

    # Add: both pickers are searchable; the search narrows each list to the one wanted.
    console.press("Add")
    console.find("dialog[open] #add-customer-search").send_keys("wide world")
    console.find("dialog[open] #add-client-search").send_keys("coho")
    console.wait.until(lambda d: d.find_element("id", "add-client").get_attribute("value") == "10")
    assert console.find("#add-customer").get_attribute("value") == WIDEWORLD
    console.press("Add", "dialog[open]")
    row = console.wait_text("#mappings-table", "Wide World Importers")
    assert "Coho Winery (#10)" in row and "manual" in row
    no_console_errors(console)


def row_of(console: Console, table: str, name: str) -> Any:
    """The row of ``table`` with a cell that is ``name``."""
    return console.find_xpath(f"//*[@id='{table}']//tr[td[normalize-space()='{name}']]")


def test_the_status_line_shows_once(console: Console):
    console.open("customers")
    console.press("Generate Mappings")
    note = console.wait_text("#status", "Generate Mappings created")
    assert note.startswith("Generate Mappings created 3;")
    page = console.driver.find_element("css selector", "body").text
    assert page.count("Generate Mappings created") == 1
    assert len(console.driver.find_elements("css selector", "[role='status']")) == 1


def test_an_unmapped_row_says_in_words_what_importing_it_will_do(console: Console):
    console.open("customers")
    held = row_of(console, "unmapped-table", "Tailspin Toys Pty Ltd")
    cells = [td.text for td in held.find_elements("css selector", "td")]
    assert cells[1:3] == [
        "Held for you to decide",
        "Not created: Halo already has Tailspin Toys Pty. Ltd. (#4).",
    ]
    assert held.find_element("css selector", "button.create-anyway").get_attribute("aria-label") == (
        "Create anyway: Tailspin Toys Pty Ltd as a new Halo client"
    )
    created = row_of(console, "unmapped-table", "Wide World Importers")
    assert created.find_elements("css selector", "td")[1].text == "Creates a new Halo client"
    assert "POST /mappings" not in console.text_of("#unmapped-table")
    no_console_errors(console)


def test_the_plan_says_its_changes_in_words_and_offers_a_held_customers_choices(console: Console):
    console.api.post("/mappings/generate")
    console.open("customers")
    console.press("Import Customers")
    console.wait_text("dialog[open] #plan-table", "Wide World Importers")
    reason = "td:last-child"
    assert row_of(console, "plan-table", "Contoso Pty Ltd").find_element("css selector", reason).text == (
        "Microsoft tenant link updated"
    )
    assert row_of(console, "plan-table", "Wide World Importers").find_element(
        "css selector", reason
    ).text == ("New client with its Microsoft tenant link and main site")
    held = row_of(console, "plan-table", "Tailspin Toys Pty Ltd")
    assert held.find_element("css selector", ".reason").text == (
        "Not created: Halo already has Tailspin Toys Pty. Ltd. (#4)."
    )
    buttons = [b.get_attribute("aria-label") for b in held.find_elements("css selector", "button")]
    assert buttons == [
        "Map Tailspin Toys Pty Ltd to Tailspin Toys Pty. Ltd. (#4)",
        "Create anyway: Tailspin Toys Pty Ltd as a new Halo client",
    ]
    plan = console.text_of("dialog[open] #plan-table")
    assert "azure_tenants" not in plan and "POST /mappings" not in plan and "create_when_similar" not in plan
    no_console_errors(console)


def test_map_in_the_plan_maps_the_held_customer_and_plans_again(console: Console):
    console.open("customers")
    console.press("Import Customers")
    console.click(
        "dialog[open] button[aria-label='Map Tailspin Toys Pty Ltd to Tailspin Toys Pty. Ltd. (#4)']"
    )
    assert console.text_of("dialog[open] #plan-note") == (
        "Mapped Tailspin Toys Pty Ltd to Tailspin Toys Pty. Ltd. (#4). The plan is worked out again."
    )
    replanned = row_of(console, "plan-table", "Tailspin Toys Pty Ltd")
    assert replanned.find_element("css selector", ".badge").text == "updated"
    assert replanned.find_element("css selector", "td:last-child").text == "Microsoft tenant link updated"
    mapped = {m["dicker_customer_id"]: m for m in console.api.json("GET", "/mappings")["mappings"]}
    assert (mapped[TAILSPIN]["halo_client_id"], mapped[TAILSPIN]["source"]) == (4, "manual")
    dialog = console.dialog()
    assert dialog.get_attribute("aria-describedby") == "plan-note"  # read out with the title
    console.press("Cancel", "dialog[open]")
    console.wait_text("#mappings-table", "Tailspin Toys Pty. Ltd. (#4)")
    no_console_errors(console)


def test_create_anyway_shows_that_customers_plan_then_creates_it(console: Console):
    console.open("customers")
    console.press("Import Customers")
    console.click(
        "dialog[open] button[aria-label='Create anyway: Tailspin Toys Pty Ltd as a new Halo client']"
    )
    console.wait_text("dialog[open] #plan-summary", "1 created, 0 updated, 0 unchanged, 0 skipped")
    assert console.find("dialog[open] h2").text == "Import Customers: create Tailspin Toys Pty Ltd anyway"
    console.press("Start import", "dialog[open]")
    console.wait.until(lambda d: "#/runs/" in d.current_url)
    assert console.wait_run_finished() == "succeeded"
    run = console.api.json("GET", f"/runs/{console.find('#run-view').get_attribute('data-run-id')}")
    assert (run["options"]["customer_ids"], run["options"]["create_when_similar"]) == ([TAILSPIN], True)
    assert [(i["dicker_id"], i["result"]) for i in run["items"]] == [(TAILSPIN, "created")]
    no_console_errors(console)


def test_a_refused_add_shows_the_apis_message_in_the_popup(console: Console):
    console.api.post("/mappings/generate")
    console.open("customers")
    console.press("Add")
    console.find("dialog[open] #add-customer-search").send_keys("wide world")
    console.find("dialog[open] #add-client-search").send_keys("Fabrikam")
    console.wait.until(lambda d: d.find_element("id", "add-client").get_attribute("value") == "2")
    console.press("Add", "dialog[open]")
    alert = console.find("dialog[open] .dialog-alert")
    console.wait.until(lambda d: "Error:" in alert.text)
    assert "What to try:" in alert.text  # the API's hint, beside its message
    # Escape closes the popup and gives focus back to the button that opened it.
    from selenium.webdriver.common.keys import Keys

    console.driver.switch_to.active_element.send_keys(Keys.ESCAPE)
    console.wait.until(lambda d: not d.find_elements("css selector", "dialog[open]"))
    assert console.driver.switch_to.active_element.text == "Add"


def test_import_customers_shows_the_plan_then_runs_and_downloads_the_csv(console: Console, downloads: Path):
    console.open("customers")
    top_level = console.find("#top-level")
    from selenium.webdriver.support.ui import Select

    Select(top_level).select_by_visible_text("Managed Services (#1)")
    console.wait_text("#status", "Import options saved.")
    assert console.api.json("GET", "/settings")["top_level_id"] == 1

    console.press("Import Customers")
    plan = console.wait_text("dialog[open] #plan-table", "Wide World Importers")
    assert "created" in plan and "skipped" in plan
    assert "Not created" in plan  # why a held customer is skipped
    assert "1 created" in console.text_of("#plan-summary")
    assert console.api.json("GET", "/runs")["runs"][0]["dry_run"] is True  # nothing started yet
    console.press("Start import", "dialog[open]")

    console.wait.until(lambda d: "#/runs/" in d.current_url)
    assert console.wait_run_finished() in ("succeeded", "partial")
    assert console.find("#run-counts [data-result='created']").text == "1"
    from selenium.webdriver.support.ui import Select as _Select

    _Select(console.find("#item-filter")).select_by_value("created")
    table = console.text_of("#items-table")
    assert "Wide World Importers" in table and "Tailspin" not in table

    for old in downloads.glob("*.csv"):
        old.unlink()
    console.press("Download CSV")
    run_id = console.find("#run-view").get_attribute("data-run-id")
    target = downloads / f"run-{run_id}-items.csv"
    console.wait.until(lambda d: target.exists() and target.stat().st_size > 0)
    rows = list(csv.DictReader(io.StringIO(target.read_text(encoding="utf-8"))))
    run = console.api.json("GET", f"/runs/{run_id}")
    assert len(rows) == len(run["items"]) > 1
    assert {r["dicker_id"]: r["result"] for r in rows}[WIDEWORLD] == "created"
    assert any(r["result"] == "skipped" and r["reason"] for r in rows)
    no_console_errors(console)


def test_import_subscriptions_for_the_chosen_customers(console: Console):
    console.api.post("/mappings/generate")
    console.open("subscriptions")
    console.find("#sub-search").send_keys("fabrikam")
    console.click("#sub-select-all")
    console.wait_text("#sub-count", "1 of")
    console.press("Import Subscriptions")
    plan = console.find("dialog[open] #plan-table").text
    assert "subscription" in plan and "created" in plan
    console.press("Start import", "dialog[open]")
    console.wait.until(lambda d: "#/runs/" in d.current_url)
    assert console.wait_run_finished() == "succeeded"
    run_id = console.find("#run-view").get_attribute("data-run-id")
    run = console.api.json("GET", f"/runs/{run_id}")
    assert run["kind"] == "subscriptions" and run["options"].get("customer_ids", [FABRIKAM]) == [FABRIKAM]
    assert run["counts"]["created"] >= 1
    assert {i["customer_id"] for i in run["items"] if i["type"] == "subscription"} == {FABRIKAM}


def test_the_integrator_is_enabled_refuses_a_bad_schedule_and_syncs_now(console: Console):
    console.open("integrator")
    console.click("label[for='integrator-enabled']")
    schedule = console.find("#integrator-schedule")
    schedule.clear()
    schedule.send_keys("every hour")
    console.press("Save")
    alert = console.find("#alert")
    console.wait.until(lambda d: "schedule" in alert.text)
    assert console.api.json("GET", "/settings")["integrator"]["enabled"] is False  # nothing written

    schedule.clear()
    schedule.send_keys("rate(2 hours)")
    console.press("Save")
    console.wait_text("#status", "The Halo Integrator is enabled.")
    assert "ENABLED" in console.text_of("#schedule-state")
    integrator = console.api.json("GET", "/settings")["integrator"]
    assert integrator["enabled"] is True and integrator["schedule"] == "rate(2 hours)"

    console.press("Sync now")
    console.wait.until(lambda d: "#/runs/" in d.current_url)
    assert console.wait_run_finished() in ("succeeded", "partial")
    assert "sync" in console.text_of("#run-view .run-meta")
    console.click("a[href='#/runs']")
    history = console.wait_text("#runs-table", "sync")
    assert "api" in history


def test_a_run_is_followed_live_to_its_end_without_a_reload(console: Console):
    console.api.post("/mappings/generate")
    started = console.api.post("/subscriptions/import", {"dry_run": False}).json()
    console.open(f"runs/{started['run_id']}")
    marker = console.driver.execute_script("return window.__notReloaded = true")
    assert marker is True
    assert console.wait_run_finished() == "succeeded"
    run = console.api.json("GET", f"/runs/{started['run_id']}")
    console.wait.until(
        lambda d: (
            d.find_element("css selector", "#run-counts [data-result='created']").text
            == str(run["counts"]["created"])
        )
    )
    assert run["counts"]["created"] > 0
    assert not console.driver.find_elements("css selector", "#run-progress, #run-waiting")
    assert console.driver.execute_script("return window.__notReloaded") is True


@pytest.mark.parametrize("halo_options", [{"rate_limit": 3, "rate_window": 6.0, "retry_after": True}])
def test_a_run_held_by_halos_rate_limit_says_so_then_finishes(console: Console, halo_options):
    """Halo's fake refuses past 3 calls per 6 s: the run's screen says it is waiting for Halo's
    rate limit while it waits, and the run still finishes."""
    console.api.post("/mappings/generate")
    started = console.api.post("/subscriptions/import", {"dry_run": False}).json()
    console.open(f"runs/{started['run_id']}")
    said = "Waiting for Halo's rate limit"
    waiting = type(console.wait)(console.driver, 45)
    waiting.until(lambda d: any(said in el.text for el in d.find_elements("id", "run-waiting")))
    assert console.wait_run_finished() == "succeeded"
    assert console.api.json("GET", f"/runs/{started['run_id']}")["throttled"] > 0
    assert not console.driver.find_elements("css selector", "#run-waiting")
    no_console_errors(console)


def test_every_screen_is_readable_on_a_phone(console: Console):
    console.driver.set_window_size(375, 800)
    try:
        for route in ("connect", "customers", "subscriptions", "integrator", "runs"):
            console.open(route)
            width = console.driver.execute_script("return document.documentElement.scrollWidth")
            assert width <= 375 + 1, (route, width)
            for field in console.driver.find_elements("css selector", "main input, main select"):
                field_id = field.get_attribute("id")
                labels = console.driver.find_elements("css selector", f"label[for='{field_id}']")
                assert field_id and labels, (route, field.get_attribute("outerHTML"))
    finally:
        console.driver.set_window_size(1280, 800)
    no_console_errors(console)


def test_a_viewer_reads_every_screen_and_a_refused_write_says_why(console: Console, monkeypatch):
    """Signed in as a viewer (the local runner hands each request a viewer's claims here), the
    screens load, and Save shows the API's 403 with its message and hint; nothing is written."""
    import local.serve.http_server

    monkeypatch.setattr(local.serve.http_server, "LOCAL_OPERATOR_SCOPES", ("openid", "ddhalo/read"))
    console.open("connect")
    before = console.find("#halo_tenant").get_attribute("value")
    console.find("#halo_tenant").send_keys("viewer-edit")
    console.press("Save")
    alert = console.find("#alert")
    console.wait.until(lambda d: "signed in as a viewer" in alert.text)
    assert "What to try:" in alert.text and "operators group" in alert.text
    for screen in ("customers", "subscriptions", "integrator", "runs"):
        console.open(screen)
    monkeypatch.undo()
    assert (console.api.json("GET", "/settings")["halo_tenant"] or "") == before  # nothing written
    no_console_errors(console)


class Keyboard:
    """Tab, Shift+Tab and Enter only, sent to whatever has focus (as a person without a mouse)."""

    FOCUS_RING = """const el = document.activeElement, style = getComputedStyle(el);
        const box = el.getBoundingClientRect();
        const name = el.getAttribute('aria-label') || el.textContent || el.id || el.tagName;
        return {label: name.trim().slice(0, 60),
                tag: el.tagName, ring: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0,
                seen: box.width > 0 && box.height > 0 && box.left >= 0,
                in_dialog: !!el.closest('dialog[open]')};"""

    def __init__(self, console: Console) -> None:
        self.console = console

    def active(self) -> dict[str, Any]:
        return dict(self.console.driver.execute_script(self.FOCUS_RING))

    def send(self, *keys: str) -> None:
        self.console.driver.switch_to.active_element.send_keys(*keys)

    def tab_to(self, label: str, back: bool = False, most: int = 80) -> list[dict[str, Any]]:
        """Tabs until the focused element is labelled ``label``; every stop on the way must be
        on screen and show the focus ring. Answers the stops passed."""
        from selenium.webdriver.common.keys import Keys

        passed: list[dict[str, Any]] = []
        for _ in range(most):
            self.send(Keys.SHIFT, Keys.TAB) if back else self.send(Keys.TAB)
            stop = self.active()
            if stop["tag"] == "BODY":  # focus left the page's last stop for the browser's own
                continue
            assert stop["seen"] and stop["ring"], f"focus on {stop['label']!r} is not visible: {stop}"
            if stop["label"] == label:
                return passed
            passed.append(stop)
        raise AssertionError(f"{label!r} not reached by Tab; passed {[p['label'] for p in passed]}")

    def enter(self) -> None:
        from selenium.webdriver.common.keys import Keys

        self.send(Keys.ENTER)


ON_HEADING = (
    "const el = document.activeElement; return el.tagName === 'H1' && el.textContent.startsWith(arguments[0])"
)


def test_the_keyboard_alone_walks_the_screens_and_imports_customers(console: Console):
    console.open("customers")
    keys = Keyboard(console)
    keys.tab_to("Skip to content")
    keys.enter()  # to the screen's content, staying on the screen
    assert console.driver.execute_script("return document.activeElement.id") == "view"
    assert console.driver.current_url.endswith("#/customers")

    # Every screen is reached from the navigation, and focus lands on its heading.
    for screen, title in (("Subscriptions", "Subscriptions"), ("Halo Integrator", "Halo Integrator"),
                          ("Runs", "Runs"), ("Customers", "Customers")):  # fmt: skip
        keys.tab_to(screen, back=True)
        keys.enter()
        console.wait.until(lambda d, t=title: d.execute_script(ON_HEADING, t))

    # Import Customers: the plan opens in a popup that holds focus; Start import runs it.
    keys.tab_to("Import Customers")
    keys.enter()
    console.wait_text("dialog[open] #plan-table", "Wide World Importers")
    assert keys.active()["in_dialog"]  # the popup's first control (its result filter)
    passed = keys.tab_to("Start import") + keys.tab_to("Cancel") + keys.tab_to("Start import")
    assert all(stop["in_dialog"] for stop in passed), passed  # round the popup, never out of it
    keys.enter()
    console.wait.until(lambda d: "#/runs/" in d.current_url)
    assert console.wait_run_finished() in ("succeeded", "partial")
    assert console.find("#run-counts [data-result='created']").text == "1"
    no_console_errors(console)


def test_the_keyboard_alone_maps_a_held_customer_from_the_plan(console: Console):
    from selenium.webdriver.common.keys import Keys

    console.open("customers")
    keys = Keyboard(console)
    keys.tab_to("Import Customers")
    keys.enter()
    console.wait_text("dialog[open] #plan-table", "Tailspin Toys Pty Ltd")
    keys.tab_to("Map Tailspin Toys Pty Ltd to Tailspin Toys Pty. Ltd. (#4)")
    keys.enter()
    console.find("dialog[open] #plan-note")
    assert keys.active()["in_dialog"]  # the plan worked out again holds focus, as the first did
    keys.send(Keys.ESCAPE)
    console.wait.until(lambda d: not d.find_elements("css selector", "dialog[open]"))
    console.wait_text("#mappings-table", "Tailspin Toys Pty. Ltd. (#4)")
    assert keys.active()["label"] == "Import Customers"
    no_console_errors(console)
