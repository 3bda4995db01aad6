"""POST /subscriptions/import through the real handlers, queue and worker, against the fakes."""

import json

import pytest

from ddhalo import store as store_module
from local.fakes.sample_data import make_subscription, tenant_guid

pytestmark = pytest.mark.integration

CONTOSO, FABRIKAM, WIDEWORLD = tenant_guid("contoso"), tenant_guid("fabrikam"), tenant_guid("wideworld")


@pytest.fixture
def mapped(api):
    """Every importable sample customer mapped (customers imported first)."""
    api.post("/mappings/generate")
    assert api.run("/customers/import")["status"] == "succeeded"
    return {m["dicker_customer_id"]: m["halo_client_id"] for m in api.get("/mappings").json()["mappings"]}


def ours(halo_fake) -> dict[str, dict]:
    """Licences we wrote, by Dicker Data subscription id (read from our marker in notes)."""
    found = {}
    for licence in halo_fake.licences.values():
        notes = licence.get("notes") or ""
        if notes.startswith("Dicker Data subscription: "):
            sub_id = notes.splitlines()[0].split(": ", 1)[1]
            assert sub_id not in found, f"duplicate licence for {sub_id}"
            found[sub_id] = licence
    return found


@pytest.fixture(params=["per-customer", "bulk"])
def read_mode(request, monkeypatch):
    """Both read strategies: per customer (few customers) and one bulk read of each side (many)."""
    from ddhalo.pipeline.subscriptions import read as subscriptions

    if request.param == "bulk":
        monkeypatch.setattr(subscriptions, "PER_CUSTOMER_READS", 0)
    return request.param


def test_subscriptions_land_on_the_mapped_clients(api, mapped, halo_fake, dicker_data_fake, read_mode):
    foreign = {i: dict(lic) for i, lic in halo_fake.licences.items()}
    run = api.run("/subscriptions/import", {})
    assert run["status"] == "succeeded" and run["kind"] == "subscriptions"
    importable = [s for s in dicker_data_fake.subscriptions if s["TenantId"] in mapped]
    assert run["counts"]["created"] == len(importable)
    licences = ours(halo_fake)
    assert set(licences) == {s["SubscriptionId"] for s in importable}
    for sub in importable:
        licence = licences[sub["SubscriptionId"]]
        term, product, sku, _ = sub["ManufacturerStockCode"].split(":")[:4]
        assert licence["client_id"] == mapped[sub["TenantId"]]
        assert licence["distributor"] == "Dicker Data"
        assert licence["name"] == sub["StockDescription"]
        assert licence["count"] == sub["ConfirmedQuantity"]
        assert licence["product_sku"] == sub["StockCode"]
        assert licence["vendor_product_sku"] == f"{product}:{sku}"
        assert licence["term_duration"] == term
        assert licence["billing_cycle"] == sub["BillingFrequency"]
        assert licence["is_active"] is (sub["Status"] == "ACTIVE")
        assert licence["status"] == sub["Status"].title()
        assert licence["end_date"][:10] == sub["ExpiryDate"][:10]
        if sub["ParentSubscriptionId"]:
            assert licence["parent_id"] == licences[sub["ParentSubscriptionId"]]["id"]
    for licence_id, licence in foreign.items():  # licences that are not ours are left alone
        assert halo_fake.licences[licence_id] == licence
    items = [i for i in run["items"] if i["type"] == "subscription"]
    assert all(i["customer_id"] in mapped and i["halo_id"] for i in items)


def test_second_import_with_nothing_changed_writes_nothing(api, mapped, halo_fake, read_mode):
    api.run("/subscriptions/import")
    halo_fake.reset_calls()
    run = api.run("/subscriptions/import")
    assert run["counts"]["created"] == run["counts"]["updated"] == 0 and run["counts"]["unchanged"] > 0
    assert halo_fake.writes == 0


def test_a_quantity_change_is_one_update_of_one_field(api, mapped, halo_fake, dicker_data_fake, read_mode):
    """In bulk mode links are read without what they wrote; the changed customer's are read whole."""
    api.run("/subscriptions/import")
    sub = next(
        s for s in dicker_data_fake.subscriptions if s["TenantId"] == CONTOSO and s["Status"] == "ACTIVE"
    )
    dicker_data_fake.set_quantity(sub["SubscriptionId"], sub["ConfirmedQuantity"] + 5)
    halo_fake.reset_calls()
    run = api.run("/subscriptions/import")
    assert run["counts"]["updated"] == 1 and run["counts"]["created"] == 0
    assert halo_fake.writes == 1
    (body,) = [b for m, p, _, b in halo_fake.requests if m == "POST" and p == "/api/SoftwareLicence"]
    assert body == [{"id": ours(halo_fake)[sub["SubscriptionId"]]["id"], "count": sub["ConfirmedQuantity"]}]
    (item,) = [i for i in run["items"] if i["result"] == "updated"]
    assert item["changes"] == ["count"]


def test_cancelled_and_vanished_become_inactive_never_deleted(
    api, mapped, halo_fake, dicker_data_fake, read_mode
):
    api.run("/subscriptions/import")
    active = [
        s for s in dicker_data_fake.subscriptions if s["TenantId"] == FABRIKAM and s["Status"] == "ACTIVE"
    ]
    cancelled, vanished = active[0]["SubscriptionId"], active[1]["SubscriptionId"]
    dicker_data_fake.set_status(cancelled, "CANCELLED")
    dicker_data_fake.remove_subscription(vanished)
    count_before = len(halo_fake.licences)
    run = api.run("/subscriptions/import")
    licences = ours(halo_fake)
    assert len(halo_fake.licences) == count_before
    assert licences[cancelled]["is_active"] is False and licences[cancelled]["status"] == "Cancelled"
    assert licences[vanished]["is_active"] is False and licences[vanished]["deleted"] is False
    results = {i["dicker_id"]: i for i in run["items"]}
    assert results[vanished]["result"] == "updated" and "No longer" in results[vanished]["reason"]
    again = api.run("/subscriptions/import")
    assert again["counts"]["updated"] == 0


def test_429_storm_ends_in_the_same_state(api, mapped, halo_fake):
    halo_fake.error_rate_429 = 0.3
    halo_fake.fault_paths = ["/api/SoftwareLicence"]
    run = api.run("/subscriptions/import")
    assert run["status"] == "succeeded" and run["counts"]["failed"] == 0
    assert halo_fake.throttled > 0 and run["throttled"] > 0
    halo_fake.error_rate_429 = 0.0
    assert api.run("/subscriptions/import")["counts"]["created"] == 0


def test_large_customer_is_written_in_batches(api, mapped, halo_fake, dicker_data_fake):
    tenant = next(t for t in dicker_data_fake.tenants if t["TenantId"] == CONTOSO)
    for n in range(250):
        dicker_data_fake.add_subscription(make_subscription(tenant, f"bulk-{n:04}", "basic", quantity=n + 1))
    halo_fake.reset_calls()
    run = api.run("/subscriptions/import", {"customer_ids": [CONTOSO]})
    assert run["status"] == "succeeded" and run["counts"]["created"] >= 250
    assert halo_fake.calls["POST /api/SoftwareLicence"] <= 4


def test_bases_and_add_ons_share_full_batches(api, mapped, halo_fake, dicker_data_fake):
    """Add-ons wait for their bases, yet fill the same batches: ceil(creates / 100) POSTs."""
    tenant = next(t for t in dicker_data_fake.tenants if t["TenantId"] == CONTOSO)
    for n in range(140):  # with Contoso's own, 190 creates: 2 full-ish batches, 3 if split by kind
        base = dicker_data_fake.add_subscription(make_subscription(tenant, f"base-{n:04}", "basic"))
        if n % 3 == 0:
            dicker_data_fake.add_subscription(
                make_subscription(tenant, f"addon-{n:04}", "basic", parent_id=base["SubscriptionId"])
            )
    halo_fake.reset_calls()
    run = api.run("/subscriptions/import", {"customer_ids": [CONTOSO]})
    created = run["counts"]["created"]
    assert run["status"] == "succeeded" and 187 <= created <= 200
    assert halo_fake.calls["POST /api/SoftwareLicence"] == -(-created // 100)
    by_id = ours(halo_fake)
    for n in range(0, 140, 3):
        assert by_id[f"addon-{n:04}"]["parent_id"] == by_id[f"base-{n:04}"]["id"]


def test_one_failing_customer_does_not_stop_the_others(api, mapped, halo_fake):
    halo_fake.clients.pop(mapped[FABRIKAM])  # Halo now refuses licences for that client
    run = api.run("/subscriptions/import")
    assert run["status"] == "partial"
    failed = {i["customer_id"] for i in run["items"] if i["result"] == "failed"}
    created = {i["customer_id"] for i in run["items"] if i["result"] == "created"}
    assert failed == {FABRIKAM} and CONTOSO in created and WIDEWORLD in created
    assert all(i["reason"] for i in run["items"] if i["result"] == "failed")


def test_dry_run_is_the_exact_plan_and_writes_nothing(api, mapped, halo_fake):
    halo_fake.reset_calls()
    response = api.post("/subscriptions/import", {"dry_run": True})
    assert response.status_code == 200
    plan = response.json()
    assert halo_fake.writes == 0 and plan["dry_run"] is True
    real = api.run("/subscriptions/import")
    assert real["counts"] == plan["counts"]
    assert sorted((i["dicker_id"], i["result"]) for i in real["items"]) == sorted(
        (i["dicker_id"], i["result"]) for i in plan["items"]
    )


def test_unmapped_customer_ids_are_a_4xx_listing_them(api, mapped):
    response = api.post("/subscriptions/import", {"customer_ids": [CONTOSO, "nobody-1", "nobody-2"]})
    assert response.status_code == 409
    assert "nobody-1, nobody-2" in response.json()["error"]["message"]


def test_crash_between_halo_create_and_link_write_converges(api, local_app, mapped, halo_fake, monkeypatch):
    real = store_module.Store.put_links

    def crash(self, links):
        links = list(links)
        if links:  # the worker dies once Halo has the licences, before their links are stored
            raise RuntimeError("killed")
        real(self, links)

    monkeypatch.setattr(store_module.Store, "put_links", crash)
    first = api.post("/subscriptions/import").json()["run_id"]
    import time

    deadline = time.monotonic() + 20
    while not ours(halo_fake) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert api.get(f"/runs/{first}").json()["status"] == "running"
    created = len(ours(halo_fake))
    monkeypatch.setattr(store_module.Store, "put_links", real)
    second = api.post("/subscriptions/import").json()["run_id"]
    time.sleep(0.5)
    waiting = api.get(f"/runs/{second}").json()
    assert waiting["status"] == "queued" and first in waiting["waiting_for"]  # not beside the crashed run
    assert local_app.redeliver_failed() == 1  # the visibility timeout passes: the crashed job comes back
    retried = api.wait_run(first)
    assert retried["status"] == "succeeded"
    # The retry finds the licences its first attempt created and reports them once, as created.
    assert retried["counts"] == {"created": created, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 0}
    assert sorted(i["result"] for i in retried["items"]) == ["created"] * created
    run = api.wait_run(second)
    assert run["counts"]["created"] == 0 and len(ours(halo_fake)) == created  # ours() fails on duplicates
    halo_fake.reset_calls()
    assert api.run("/subscriptions/import")["counts"]["updated"] == 0 and halo_fake.writes == 0
    assert json.dumps(run)  # serialisable run answer


@pytest.mark.parametrize("shape", ["null", "missing"])
def test_a_customer_whose_subscriptions_are_all_gone_has_its_licences_made_inactive(
    api, mapped, halo_fake, dicker_data_fake, shape
):
    """Dicker Data answers such a customer with `Out` null or missing (no error): no rows."""
    api.run("/subscriptions/import", {"customer_ids": [FABRIKAM]})
    gone = [s["SubscriptionId"] for s in dicker_data_fake.subscriptions if s["TenantId"] == FABRIKAM]
    for sub_id in gone:
        dicker_data_fake.remove_subscription(sub_id)
    dicker_data_fake.empty_out = shape
    run = api.run("/subscriptions/import", {"customer_ids": [FABRIKAM]})
    assert run["status"] == "succeeded", run
    licences = ours(halo_fake)
    assert gone and all(licences[s]["is_active"] is False for s in gone)
    assert {i["dicker_id"] for i in run["items"] if i["result"] == "updated"} == set(gone)
