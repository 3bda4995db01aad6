"""POST /customers/import through the real handlers, the queue and the worker, against the fakes."""

import dataclasses

import pytest

from ddhalo import store as store_module
from local.fakes.sample_data import tenant_guid

pytestmark = pytest.mark.integration

CONTOSO, WIDEWORLD, TAILSPIN = tenant_guid("contoso"), tenant_guid("wideworld"), tenant_guid("tailspin")


def items_by_id(run: dict) -> dict[str, dict]:
    return {i["dicker_id"]: i for i in run["items"] if i["dicker_id"]}


def clients_with_tenant(halo_fake, tenant_id: str) -> list[dict]:
    return [
        c
        for c in halo_fake.clients.values()
        if any(t.get("azure_tenant_id") == tenant_id for t in c.get("azure_tenants") or [])
    ]


def test_import_updates_mapped_creates_unmapped_and_skips_no_tenant(api, halo_fake):
    api.post("/mappings/generate")
    response = api.post("/customers/import", {})
    assert response.status_code == 202 and response.json()["run_id"]
    run = api.wait_run(response.json()["run_id"])
    assert run["status"] == "succeeded" and run["kind"] == "customers" and run["trigger"] == "api"
    assert run["counts"] == {"created": 4, "updated": 3, "unchanged": 0, "skipped": 1, "failed": 0}
    items = items_by_id(run)
    assert items[CONTOSO]["result"] == "updated" and items[WIDEWORLD]["result"] == "created"
    skipped = [i for i in run["items"] if i["result"] == "skipped"]
    assert skipped[0]["name"] == "Blue Yonder Airlines" and "CSP tenant" in skipped[0]["reason"]

    (created,) = clients_with_tenant(halo_fake, WIDEWORLD)
    assert created["name"] == "Wide World Importers" and created["main_site_id"]
    assert items[WIDEWORLD]["halo_id"] == created["id"]
    contoso = halo_fake.clients[items[CONTOSO]["halo_id"]]
    assert contoso["name"] == "Contoso Pty Ltd"  # never renamed
    mappings = {m["dicker_customer_id"]: m for m in api.get("/mappings").json()["mappings"]}
    assert (
        mappings[WIDEWORLD]["source"] == "import" and mappings[WIDEWORLD]["halo_client_id"] == created["id"]
    )


def test_second_import_with_nothing_changed_writes_nothing(api, halo_fake):
    api.run("/customers/import")
    halo_fake.reset_calls()
    run = api.run("/customers/import")
    assert run["counts"]["created"] == 0 and run["counts"]["updated"] == 0
    assert run["counts"]["unchanged"] == 7
    assert halo_fake.writes == 0
    assert not [k for k in halo_fake.calls if k.startswith("POST /api/")]


def test_dry_run_answers_the_plan_and_writes_nothing(api, halo_fake):
    before = len(halo_fake.clients)
    response = api.post("/customers/import", {"dry_run": True})
    assert response.status_code == 200
    plan = response.json()
    assert plan["dry_run"] is True and plan["status"] == "succeeded"
    assert plan["counts"] == {"created": 7, "updated": 0, "unchanged": 0, "skipped": 1, "failed": 0}
    assert len(halo_fake.clients) == before and halo_fake.writes == 0
    assert api.get("/mappings").json()["mappings"] == []
    real = api.run("/customers/import")
    assert real["counts"] == plan["counts"]
    assert {i["dicker_id"]: i["result"] for i in real["items"]} == {
        i["dicker_id"]: i["result"] for i in plan["items"]
    }


def test_top_level_and_main_site_address(api, halo_fake, dicker_data_fake):
    top = next(iter(halo_fake.toplevels))
    api.post("/mappings/generate")
    run = api.run("/customers/import", {"top_level_id": top, "update_main_site_address": True})
    assert run["status"] == "succeeded"
    (created,) = clients_with_tenant(halo_fake, WIDEWORLD)
    assert created["toplevel_id"] == top
    contoso = halo_fake.clients[items_by_id(run)[CONTOSO]["halo_id"]]
    site = halo_fake.sites[contoso["main_site_id"]]
    tenant = next(t for t in dicker_data_fake.tenants if t["TenantId"] == CONTOSO)
    assert site["delivery_address"]["line1"] == tenant["Address01"]
    assert "main_site_address" in items_by_id(run)[CONTOSO]["changes"]


def test_address_is_left_alone_unless_asked(api, halo_fake):
    api.post("/mappings/generate")
    sites_before = {k: dict(v) for k, v in halo_fake.sites.items()}
    api.run("/customers/import", {"update_main_site_address": False})
    assert all(
        halo_fake.sites[k].get("delivery_address") == v.get("delivery_address")
        for k, v in sites_before.items()
    )


def test_only_chosen_customers_are_imported(api, halo_fake):
    run = api.run("/customers/import", {"customer_ids": [WIDEWORLD]})
    assert [i["dicker_id"] for i in run["items"]] == [WIDEWORLD]


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        ({"customer_ids": ["nope-1", "nope-2"]}, 404, "nope-1, nope-2"),
        ({"top_level_id": 987654}, 404, "987654"),
        ({"customer_ids": []}, 400, "customer_ids"),
        ({"dry_run": "maybe"}, 400, "dry_run"),
        ({"dry_run": 1}, 400, "dry_run"),
        ({"surprise": 1}, 400, "surprise"),
    ],
)
def test_bad_input_is_a_4xx_and_starts_nothing(api, body, status, fragment):
    response = api.post("/customers/import", body)
    assert response.status_code == status
    assert fragment in response.json()["error"]["message"]
    assert api.get("/runs").json()["runs"] == []


def test_run_interrupted_between_halo_create_and_mapping_write_converges(
    api, local_app, halo_fake, monkeypatch
):
    """The worker dies after Halo created the clients but before any mapping was stored."""
    real_put = store_module.Store.put_mapping

    def crash(self, mapping):
        raise RuntimeError("killed")

    monkeypatch.setattr(store_module.Store, "put_mapping", crash)
    response = api.post("/customers/import")
    run_id = response.json()["run_id"]
    created_before = len(halo_fake.clients)
    import time

    deadline = time.monotonic() + 20
    while len(halo_fake.clients) == created_before and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert api.get(f"/runs/{run_id}").json()["status"] == "running"  # the crashed run never finished
    monkeypatch.setattr(store_module.Store, "put_mapping", real_put)

    second = api.post("/customers/import").json()["run_id"]  # waits for the crashed run's turn
    assert local_app.redeliver_failed() == 1  # its retry, after SQS's visibility timeout
    retried = api.wait_run(run_id)
    assert retried["status"] == "succeeded" and retried["counts"]["failed"] == 0, retried
    rerun = api.wait_run(second)
    assert rerun["status"] == "succeeded" and rerun["counts"]["created"] == 0
    for tenant_id in (WIDEWORLD, TAILSPIN, CONTOSO):
        assert len(clients_with_tenant(halo_fake, tenant_id)) == 1
    assert {m["dicker_customer_id"] for m in api.get("/mappings").json()["mappings"]} >= {WIDEWORLD, TAILSPIN}


def test_ambiguous_write_failure_is_reconciled_within_the_run(api, halo_fake):
    """Halo saves the batch but the answer never arrives: the run re-reads and adopts, no duplicate."""
    api.call("PUT", "/settings", {"request_timeout_seconds": 1})
    halo_fake.hang_next(1, 2.0, paths=["/api/Client"], apply=True)
    run = api.run("/customers/import", {"customer_ids": [WIDEWORLD]})
    assert run["status"] == "succeeded", run
    assert len(clients_with_tenant(halo_fake, WIDEWORLD)) == 1
    assert halo_fake.calls["POST /api/Client"] == 1  # not blindly re-sent
    assert items_by_id(run)[WIDEWORLD]["result"] == "created"


def test_a_halo_whose_lists_hide_tenant_links_still_converges_without_writes(api, halo_fake, monkeypatch):
    """Some Halo list views leave azure_tenants out: links are read per client, never overwritten."""
    from ddhalo.halo.client import HaloClient

    real = HaloClient.clients

    def without_links(self, **filters):
        return [dataclasses.replace(c, tenant_links=None) for c in real(self, **filters)]

    monkeypatch.setattr(HaloClient, "clients", without_links)
    halo_fake.clients[1].setdefault("azure_tenants", []).append(
        {"id": 999, "azure_tenant_id": "kept-tenant", "azure_tenant_name": "Kept"}
    )
    api.post("/mappings/generate")
    first = api.run("/customers/import", {"update_main_site_address": True})
    assert first["status"] == "succeeded"
    assert "kept-tenant" in {t["azure_tenant_id"] for t in halo_fake.clients[1]["azure_tenants"]}
    halo_fake.reset_calls()
    second = api.run("/customers/import", {"update_main_site_address": True})
    assert second["counts"]["updated"] == second["counts"]["created"] == 0
    assert halo_fake.writes == 0


def test_a_customer_without_a_name_in_get_tenant_is_named_by_its_subscriptions(
    api, halo_fake, dicker_data_fake
):
    (contoso,) = [t for t in dicker_data_fake.tenants if t["TenantId"] == CONTOSO]
    name = contoso["CompanyName"]
    contoso["CompanyName"] = contoso["TenantDescription"] = ""
    listed = api.get("/mappings").json()
    assert any(
        u["dicker_customer_id"] == CONTOSO and u["dicker_customer_name"] == name for u in listed["unmapped"]
    )
    run = api.run("/customers/import", {"customer_ids": [CONTOSO]})
    assert run["status"] == "succeeded", run
    (item,) = run["items"]
    assert item["name"] == name and item["result"] == "created"
    assert halo_fake.clients[item["halo_id"]]["name"] == name
