"""Halo saves a write after our request gave up, or saves it and never answers: nothing may be
created twice (issue 25). The Halo fake saves such a write only after its delay, so reading Halo
straight after the timeout does not show it yet, as on a busy hosted tenant."""

from collections import Counter

import pytest

from ddhalo.halo.records import marker_in
from local.fakes.sample_data import generate_dicker_data, tenant_guid

pytestmark = pytest.mark.integration

WIDEWORLD = tenant_guid("wideworld")
# A write's answer is waited for 1 s; Halo saves the slow ones after 2 s; we look after 4 s.
FAST = {"halo_write_timeout_seconds": 1, "halo_write_settle_seconds": 4, "halo_requests_per_minute": 600}


def clients_with_tenant(halo_fake, tenant_id: str) -> list[dict]:
    return [
        c
        for c in halo_fake.clients.values()
        if any(t.get("azure_tenant_id") == tenant_id for t in c.get("azure_tenants") or [])
    ]


def licences_by_marker(halo_fake) -> Counter[str]:
    return Counter(m for r in halo_fake.licences.values() if (m := marker_in(r.get("notes"))))


def new_customers(dicker_data_fake, n: int, subs: int) -> tuple[list[dict], list[dict]]:
    """Dicker Data answers only ``n`` new customers (no Halo client has their names)."""
    tenants, subscriptions = generate_dicker_data(n, subs, seed=25)
    dicker_data_fake.tenants, dicker_data_fake.subscriptions = tenants, subscriptions
    return tenants, subscriptions


def test_a_client_saved_after_the_timeout_is_adopted_not_created_again(api, halo_fake):
    api.call("PUT", "/settings", FAST)
    halo_fake.hang_next(1, 2.0, paths=["/api/Client"], methods=["POST"], saves="late")
    run = api.run("/customers/import", {"customer_ids": [WIDEWORLD]})
    assert run["status"] == "succeeded", run
    assert halo_fake.wait_idle()
    (client,) = clients_with_tenant(halo_fake, WIDEWORLD)
    assert halo_fake.calls["POST /api/Client"] == 1  # looked for after the settle window: found
    assert [(i["result"], i["halo_id"]) for i in run["items"]] == [("created", client["id"])]


def test_licences_saved_after_the_timeout_are_adopted_not_created_again(api, halo_fake, dicker_data_fake):
    _, subscriptions = new_customers(dicker_data_fake, 2, 3)
    api.call("PUT", "/settings", FAST)
    assert api.run("/customers/import", {})["counts"]["created"] == 2
    halo_fake.hang_next(1, 2.0, paths=["/api/SoftwareLicence"], methods=["POST"], saves="late")
    run = api.run("/subscriptions/import", {})
    assert run["status"] == "succeeded", run
    assert halo_fake.wait_idle()
    assert licences_by_marker(halo_fake) == Counter(s["SubscriptionId"] for s in subscriptions)
    assert run["counts"]["created"] == len(subscriptions)
    assert halo_fake.calls["POST /api/SoftwareLicence"] == 1


def test_a_write_saved_but_never_answered_is_adopted_not_created_again(api, halo_fake, dicker_data_fake):
    _, subscriptions = new_customers(dicker_data_fake, 2, 3)
    api.call("PUT", "/settings", FAST)
    api.run("/customers/import", {})
    halo_fake.hang_next(1, 2.0, paths=["/api/SoftwareLicence"], methods=["POST"], saves="late", answer=False)
    run = api.run("/subscriptions/import", {})
    assert run["status"] == "succeeded", run
    assert halo_fake.wait_idle()
    assert licences_by_marker(halo_fake) == Counter(s["SubscriptionId"] for s in subscriptions)


def test_a_lost_write_not_saved_is_sent_again_after_the_settle_window(api, halo_fake, dicker_data_fake):
    _, subscriptions = new_customers(dicker_data_fake, 2, 3)
    api.call("PUT", "/settings", FAST)
    api.run("/customers/import", {})
    halo_fake.hang_next(1, 2.0, paths=["/api/SoftwareLicence"], methods=["POST"], saves="never")
    run = api.run("/subscriptions/import", {})
    assert run["status"] == "succeeded", run
    assert halo_fake.calls["POST /api/SoftwareLicence"] == 2  # it was not there: sent once more
    assert licences_by_marker(halo_fake) == Counter(s["SubscriptionId"] for s in subscriptions)


def test_a_sync_with_every_third_call_slow_creates_each_record_once(api, halo_fake, dicker_data_fake):
    """The issue's reproduction: 5 new customers with 3 subscriptions each, every third Halo call
    (reads and writes) answered late and saved late. Then a verify finds nothing twice."""
    tenants, subscriptions = new_customers(dicker_data_fake, 5, 3)
    api.call("PUT", "/settings", {**FAST, "request_timeout_seconds": 1})
    halo_fake.slow_every(3, 2.0, paths=["/api"])
    run = api.run("/sync", {}, timeout=240)
    assert run["status"] == "succeeded", run
    assert halo_fake.wait_idle()
    for tenant in tenants:
        assert len(clients_with_tenant(halo_fake, tenant["TenantId"])) == 1, tenant["TenantId"]
    assert licences_by_marker(halo_fake) == Counter(s["SubscriptionId"] for s in subscriptions)
    halo_fake.slow_every(0, 0)
    verify = api.run("/sync", {"verify": True}, timeout=240)
    assert verify["status"] == "succeeded", verify
    assert not [i for i in verify["items"] if i.get("reason_code") == "duplicate_in_halo"]
    assert verify["counts"]["created"] == 0
