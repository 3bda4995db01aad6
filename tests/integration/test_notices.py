"""A run that had nothing to do says why: never a silent all-zero "succeeded"."""

import pytest

pytestmark = pytest.mark.integration


def test_a_subscriptions_import_with_nothing_mapped_says_so(api):
    run = api.run("/subscriptions/import", {})
    assert run["status"] == "succeeded" and run["counts"] == dict.fromkeys(run["counts"], 0)
    assert list(run["notices"]) == ["no_mapped_customers"]
    assert "POST /mappings/generate" in run["notices"]["no_mapped_customers"]


def test_a_dry_run_with_nothing_mapped_says_so_too(api):
    run = api.run("/subscriptions/import", {"dry_run": True})
    assert list(run["notices"]) == ["no_mapped_customers"]


def test_mapped_customers_without_subscriptions_say_so(api, dicker_data_fake):
    api.post("/mappings/generate")
    dicker_data_fake.subscriptions.clear()
    run = api.run("/subscriptions/import", {"dry_run": True})
    assert list(run["notices"]) == ["no_subscriptions"]


def test_a_run_with_work_has_no_notice(api):
    api.post("/mappings/generate")
    run = api.run("/subscriptions/import", {"dry_run": True})
    assert run["counts"]["created"] > 0 and run["notices"] == {}
