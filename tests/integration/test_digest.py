"""The issues-only digest through the real worker: one message to the alarm topic (moto's SNS,
under the worker's own role) and to a loopback webhook receiver, only after a run that left
something for a person."""

from datetime import UTC, datetime, timedelta

import pytest

from local.fakes.sample_data import tenant_guid
from local.fakes.webhook import WebhookReceiver
from tests.local.waits import eventually

pytestmark = pytest.mark.integration

HELD_NAMES = ("Adventure Works", "Tailspin Toys", "Smith")


@pytest.fixture
def hook():
    with WebhookReceiver("slack") as receiver:
        yield receiver


@pytest.fixture
def with_hook(api, hook):
    assert api.call("PUT", "/settings", {"webhook_url": hook.url}).status_code == 200
    return hook


def emails(local_app) -> list[dict]:
    return local_app.aws.published("AlarmTopic")


def finished(api, path: str, body: dict) -> dict:
    """The run once its digest is recorded too (just after its status is final)."""
    run = api.run(path, body)
    again = eventually(lambda: (r := api.get(f"/runs/{run['run_id']}").json()).get("digest") and r)
    assert again, f"run {run['run_id']} has no digest"
    return again


def test_held_creates_send_one_message_to_email_and_webhook(api, local_app, with_hook):
    api.post("/mappings/generate")
    run = finished(api, "/customers/import", {})
    assert run["counts"]["skipped"] == 4 and run["status"] == "succeeded"
    assert run["digest"]["sent"] is True and sorted(run["digest"]["channels"]) == ["email", "webhook"]
    assert run["digest"]["errors"] == [] and run["digest"]["issues"] == 4
    (text,) = with_hook.texts()
    (email,) = emails(local_app)
    assert email["subject"] == f"Dicker Data to Halo: 4 to look at after customer import {run['run_id']}"
    for words in (*HELD_NAMES, "Held, not created", f"GET /runs/{run['run_id']}", "suggested:"):
        assert words in text and words in email["message"], words
    # the customer without a CSP tenant is the one unmapped customer of its own section
    assert "New customers without a Halo client (1)" in email["message"]


def test_what_was_named_is_not_named_again_next_run(api, local_app, with_hook):
    api.post("/mappings/generate")
    finished(api, "/customers/import", {})
    again = finished(api, "/customers/import", {})
    assert again["counts"]["skipped"] == 4
    assert again["digest"] == {**again["digest"], "sent": False, "channels": [], "issues": 0}
    assert "no digest was sent" in again["digest"]["note"]
    assert len(with_hook.messages) == 1 and len(emails(local_app)) == 1


def test_a_clean_run_sends_nothing(api, local_app, with_hook):
    api.post("/mappings/generate")
    run = finished(api, "/subscriptions/import", {})
    assert run["status"] == "succeeded" and run["counts"]["created"] > 0 and run["counts"]["failed"] == 0
    assert run["digest"]["sent"] is False
    assert with_hook.messages == [] and emails(local_app) == []


def test_a_dry_run_sends_nothing(api, local_app, with_hook):
    api.post("/mappings/generate")
    plan = api.run("/customers/import", {"dry_run": True})
    assert plan["counts"]["skipped"] == 4 and plan.get("digest") is None
    assert with_hook.messages == [] and emails(local_app) == []


def test_failed_items_are_sent_every_run(api, local_app, halo_fake, with_hook):
    api.post("/mappings/generate")
    for _ in range(2):
        halo_fake.fail_next(1000, 400, paths=["/api/SoftwareLicence"])
        run = finished(api, "/subscriptions/import", {})
        assert run["status"] in ("failed", "partial") and run["digest"]["sent"] is True, run
        halo_fake.clear_faults()
    assert len(with_hook.messages) == 2 and len(emails(local_app)) == 2
    assert all("Failed (" in text for text in with_hook.texts())


def test_a_credential_near_its_declared_expiry_is_named_once_a_day(api, local_app, with_hook):
    soon = (datetime.now(UTC).date() + timedelta(days=3)).isoformat()
    assert (
        api.call("PUT", "/settings", {"notifications": {"halo_client_secret_expires": soon}}).status_code
        == 200
    )
    api.post("/mappings/generate")
    first = finished(api, "/subscriptions/import", {})
    assert first["digest"]["sent"] is True
    (text,) = with_hook.texts()
    assert f"The Halo client secret stops working on {soon} (in 3 days)" in text
    finished(api, "/subscriptions/import", {})
    assert len(with_hook.messages) == 1


def test_teams_gets_an_adaptive_card(api):
    with WebhookReceiver("teams") as teams:
        api.call("PUT", "/settings", {"webhook_url": teams.url, "notifications": {"webhook_format": "teams"}})
        api.post("/mappings/generate")
        run = finished(api, "/customers/import", {})
        assert run["digest"]["channels"] == ["email", "webhook"], run["digest"]
        (text,) = teams.texts()
        assert "Adventure Works" in text and "Held, not created" in text


def test_a_webhook_that_fails_is_recorded_and_the_run_keeps_its_status(api, local_app, hook, log_lines):
    api.call("PUT", "/settings", {"webhook_url": hook.url})
    hook.fail_next(5, 500)
    api.post("/mappings/generate")
    run = finished(api, "/customers/import", {})
    assert run["status"] == "succeeded"
    assert run["digest"]["channels"] == ["email"]
    assert run["digest"]["errors"] == ["webhook: The webhook answered HTTP 500."]
    assert len(emails(local_app)) == 1


def test_the_webhook_url_is_write_only_and_null_removes_it(api, hook, log_lines):
    api.call("PUT", "/settings", {"webhook_url": hook.url})
    view = api.get("/settings").json()
    assert view["webhook_url_set"] is True and hook.path not in str(view)
    api.post("/mappings/generate")
    run = finished(api, "/customers/import", {})
    assert hook.path not in str(run) and hook.path not in log_lines.getvalue()
    assert api.call("PUT", "/settings", {"webhook_url": None}).json()["webhook_url_set"] is False
    assert api.call("PUT", "/settings", {"webhook_url": "ftp://nope"}).status_code == 400


def test_digests_turned_off_send_nothing(api, local_app, with_hook):
    api.call("PUT", "/settings", {"notifications": {"digest": False}})
    api.post("/mappings/generate")
    run = finished(api, "/customers/import", {})
    assert run["counts"]["skipped"] == 4 and run["digest"]["note"].startswith("Digests are turned off")
    assert with_hook.messages == [] and emails(local_app) == []


def test_a_new_customer_held_by_the_sync_is_named(api, local_app, with_hook, dicker_data_fake):
    api.post("/mappings/generate")
    finished(api, "/customers/import", {})
    dicker_data_fake.tenants.append(
        {
            **dicker_data_fake.tenants[0],
            "TenantId": tenant_guid("adventure2"),
            "CompanyName": "Adventure Works",
        }
    )
    run = finished(api, "/sync", {})
    assert run["kind"] == "sync" and run["digest"]["sent"] is True
    assert "Adventure Works" in with_hook.texts()[-1] and len(with_hook.messages) == 2
