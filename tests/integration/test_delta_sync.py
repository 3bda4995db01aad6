"""A plain sync reads Dicker Data whole and Halo only for what changed; a verify reads both sides
whole and corrects what was changed in Halo by hand. The first sync is a verify."""

import pytest

from local.fakes.sample_data import make_subscription, tenant_guid
from tests.integration.test_sync import halo_state

pytestmark = pytest.mark.integration

CONTOSO = tenant_guid("contoso")
LICENCE_LIST = "GET /api/SoftwareLicence"
CLIENT_LIST = "GET /api/Client"


def halo_calls(halo_fake) -> dict[str, int]:
    return {k: v for k, v in halo_fake.calls.items() if v}


def synced(api, halo_fake) -> dict:
    api.post("/mappings/generate")
    first = api.run("/sync", {})
    assert first["status"] == "succeeded" and first["verify"] is True, first
    halo_fake.reset_calls()
    return first


def our_licence(halo_fake, subscription_id: str) -> dict:
    (licence,) = [
        lic
        for lic in halo_fake.licences.values()
        if (lic.get("notes") or "").startswith(f"Dicker Data subscription: {subscription_id}")
    ]
    return licence


def contoso_subscription(dicker_data_fake) -> dict:
    return next(s for s in dicker_data_fake.subscriptions if s["TenantId"] == CONTOSO)


def test_changes_in_dicker_data_are_written_without_reading_halo(api, halo_fake, dicker_data_fake):
    synced(api, halo_fake)
    changed = contoso_subscription(dicker_data_fake)
    dicker_data_fake.set_quantity(changed["SubscriptionId"], 42)
    gone = next(s for s in dicker_data_fake.subscriptions if s["TenantId"] == CONTOSO and s is not changed)
    dicker_data_fake.remove_subscription(gone["SubscriptionId"])
    tenant = next(t for t in dicker_data_fake.tenants if t["TenantId"] == CONTOSO)
    dicker_data_fake.add_subscription(make_subscription(tenant, "new-sub-1", "basic"))
    run = api.run("/sync", {})
    assert run["status"] == "succeeded" and run["verify"] is False
    assert (run["counts"]["created"], run["counts"]["updated"]) == (1, 2)  # the new, the seats, the gone
    assert our_licence(halo_fake, changed["SubscriptionId"])["count"] == 42
    vanished = our_licence(halo_fake, gone["SubscriptionId"])
    assert (vanished["is_active"], vanished["status"]) == (False, "Removed in Dicker Data")
    assert (
        our_licence(halo_fake, "new-sub-1")["client_id"]
        == our_licence(halo_fake, changed["SubscriptionId"])["client_id"]
    )
    calls = halo_calls(halo_fake)
    assert LICENCE_LIST not in calls and CLIENT_LIST not in calls, calls
    assert calls.get("POST /api/SoftwareLicence") == 2, calls  # one batch of updates, one of creates
    again = api.run("/sync", {})
    assert again["counts"]["created"] == again["counts"]["updated"] == 0 and again["halo_calls"] == 0


def test_a_create_that_may_have_landed_unlinked_is_found_not_made_twice(
    api, halo_fake, dicker_data_fake, local_app
):
    """The worker died after Halo created the licence and before its link was stored: the create
    intent tells the next plain sync to read that customer's licences (the marker finds it)."""
    from ddhalo.store import Store

    synced(api, halo_fake)
    tenant = next(t for t in dicker_data_fake.tenants if t["TenantId"] == CONTOSO)
    dicker_data_fake.add_subscription(make_subscription(tenant, "landed-1", "basic"))
    contoso_client = next(
        m["halo_client_id"]
        for m in api.get("/mappings").json()["mappings"]
        if m["dicker_customer_id"] == CONTOSO
    )
    landed = halo_fake.add_licence(
        contoso_client, "Landed before the crash", count=1, notes="Dicker Data subscription: landed-1"
    )
    Store(local_app.aws.resolver.refs["Table"]).put_intents([f"{CONTOSO}#landed-1"])
    run = api.run("/sync", {})
    assert run["status"] == "succeeded" and run["verify"] is False
    assert run["counts"]["created"] == 0
    assert our_licence(halo_fake, "landed-1")["id"] == landed["id"]  # adopted, and brought in step
    assert halo_calls(halo_fake).get(LICENCE_LIST, 0) >= 1  # that one customer's licences were read
    # linked now, so the next plain sync trusts it again (and drops the intent it no longer needs)
    assert api.run("/sync", {})["halo_calls"] == 0
    assert Store(local_app.aws.resolver.refs["Table"]).list_intents() == set()


def test_hand_edits_in_halo_wait_for_the_verify_which_corrects_them(api, halo_fake, dicker_data_fake):
    synced(api, halo_fake)
    before = halo_state(halo_fake)
    subs = [s["SubscriptionId"] for s in dicker_data_fake.subscriptions if s["TenantId"] == CONTOSO]
    edited, inactive, deleted, moved = (our_licence(halo_fake, s) for s in subs[:4])
    other_client = next(c["id"] for c in halo_fake.clients.values() if c["id"] != edited["client_id"])
    edited["count"] = 999
    inactive["is_active"] = False
    del halo_fake.licences[deleted["id"]]
    moved["client_id"] = other_client
    halo_fake.licences.reindex()
    plain = api.run("/sync", {})
    assert plain["verify"] is False and plain["counts"]["updated"] == plain["counts"]["created"] == 0
    assert edited["count"] == 999  # a plain sync trusts what it wrote
    verify = api.run("/sync", {"verify": True})
    assert verify["status"] == "succeeded" and verify["verify"] is True
    # the deleted one again, and the three edited back (an add-on of the deleted one takes its new id)
    assert verify["counts"]["created"] == 1 and verify["counts"]["updated"] >= 3, verify["counts"]
    assert halo_state(halo_fake) == before  # every hand edit undone, nothing duplicated
    after = api.run("/sync", {})
    assert after["counts"]["created"] == after["counts"]["updated"] == 0 and after["halo_calls"] == 0


def test_a_removed_tenant_link_is_put_back_by_the_verify(api, halo_fake):
    synced(api, halo_fake)
    client = next(c for c in halo_fake.clients.values() if c.get("azure_tenants"))
    client["azure_tenants"] = []
    assert api.run("/sync", {})["counts"]["updated"] == 0
    verify = api.run("/sync", {"verify": True})
    assert verify["counts"]["updated"] >= 1 and client["azure_tenants"]


def test_a_new_customer_reads_the_clients_once_and_a_held_one_is_said_from_memory(
    api, halo_fake, dicker_data_fake
):
    first = synced(api, halo_fake)
    held = {
        i["dicker_id"]: i
        for i in first["items"]
        if i.get("reason_code") in ("similar_client_exists", "ambiguous_name")
    }
    assert held
    plain = api.run("/sync", {"subscriptions": False})
    assert CLIENT_LIST not in halo_calls(halo_fake) and plain["halo_calls"] == 0
    again = {i["dicker_id"]: i for i in plain["items"] if i["dicker_id"] in held}
    assert {k: (v["result"], v["reason_code"], v["suggestions"]) for k, v in again.items()} == {
        k: (v["result"], v["reason_code"], v["suggestions"]) for k, v in held.items()
    }
    tenant = {
        **dicker_data_fake.tenants[0],
        "TenantId": tenant_guid("brand-new"),
        "CompanyName": "Brand New Pty Ltd",
    }
    dicker_data_fake.tenants.append(tenant)
    added = api.run("/sync", {"subscriptions": False})
    assert {i["dicker_id"]: i["result"] for i in added["items"]}[tenant["TenantId"]] == "created"
    assert halo_calls(halo_fake).get(CLIENT_LIST, 0) >= 1


def test_changing_create_when_similar_is_not_answered_from_memory(api, halo_fake):
    synced(api, halo_fake)
    assert api.call("PUT", "/settings", {"create_when_similar": True}).status_code == 200
    run = api.run("/sync", {"subscriptions": False})
    assert run["counts"]["created"] >= 3, run["counts"]  # the held ones are created now


def test_a_held_customer_whose_microsoft_tenant_now_names_a_halo_client_is_adopted(
    api, halo_fake, dicker_data_fake
):
    """Held by name in one sync; its Microsoft tenant is assigned since, and a Halo client carries
    it: the next plain sync reads it again and maps it, not says it held again from memory."""
    tailspin = tenant_guid("tailspin")
    first = synced(api, halo_fake)
    held = {i["dicker_id"]: i for i in first["items"]}[tailspin]
    assert (held["result"], held["reason_code"]) == ("skipped", "similar_client_exists")
    client = next(c for c in halo_fake.clients.values() if c["name"] == "Tailspin Toys Pty. Ltd.")
    client["azure_tenants"] = [
        {"id": 900, "azure_tenant_id": "ms-tailspin", "azure_tenant_name": "Tailspin Toys Pty Ltd"}
    ]
    record = next(t for t in dicker_data_fake.tenants if t["TenantId"] == tailspin)
    record["MicrosoftTenantId"] = "ms-tailspin"

    plain = api.run("/sync", {"subscriptions": False})
    item = {i["dicker_id"]: i for i in plain["items"]}[tailspin]
    assert (item["result"], item["halo_id"], item["reason_code"]) == ("updated", client["id"], None)
    mapping = {m["dicker_customer_id"]: m for m in api.get("/mappings").json()["mappings"]}[tailspin]
    assert (mapping["halo_client_id"], mapping["source"]) == (client["id"], "import")
