"""POST /customers/import through the real handlers, the queue and the worker, against the fakes."""

import dataclasses

import pytest

from ddhalo import store as store_module
from local.fakes.sample_data import tenant_guid

pytestmark = pytest.mark.integration

CONTOSO, WIDEWORLD, TAILSPIN = tenant_guid("contoso"), tenant_guid("wideworld"), tenant_guid("tailspin")
SMITHJONES, ADVENTURE = tenant_guid("smithjones"), tenant_guid("adventure")
#: Unmapped once mappings are generated, and held: Halo already has the name (nearly, or twice).
HELD = {
    TAILSPIN: ("similar_client_exists", ["Tailspin Toys Pty. Ltd."]),
    SMITHJONES: ("similar_client_exists", ["Smith and Jones Accounting"]),
    ADVENTURE: ("ambiguous_name", ["Adventure Works", "Adventure Works"]),
}


def items_by_id(run: dict) -> dict[str, dict]:
    return {i["dicker_id"]: i for i in run["items"] if i["dicker_id"]}


def clients_with_tenant(halo_fake, tenant_id: str) -> list[dict]:
    return [
        c
        for c in halo_fake.clients.values()
        if any(t.get("azure_tenant_id") == tenant_id for t in c.get("azure_tenants") or [])
    ]


def halo_ids(halo_fake, *names: str) -> list[int]:
    """The ids of the Halo clients with these names (a name held twice gives both)."""
    return sorted(c["id"] for c in halo_fake.clients.values() if c["name"] in names)


def assert_held(item: dict, halo_fake, code: str, names: list[str]) -> None:
    """Skipped, not created: the reason names the Halo clients, which are its suggestions."""
    assert (item["result"], item["reason_code"], item["halo_id"]) == ("skipped", code, None), item
    suggested = sorted(s["halo_client_id"] for s in item["suggestions"])
    assert suggested == halo_ids(halo_fake, *names), item
    assert sorted(s["halo_client_name"] for s in item["suggestions"]) == sorted(names)
    assert item["reason"].startswith("Not created: ") and "create_when_similar" in item["reason"]
    assert all(f"(#{i})" in item["reason"] for i in suggested), item["reason"]


def test_import_updates_mapped_creates_unmapped_and_holds_similar_names(api, halo_fake):
    api.post("/mappings/generate")
    clients_before = len(halo_fake.clients)
    response = api.post("/customers/import", {})
    assert response.status_code == 202 and response.json()["run_id"]
    run = api.wait_run(response.json()["run_id"])
    assert run["status"] == "succeeded" and run["kind"] == "customers" and run["trigger"] == "api"
    assert run["counts"] == {"created": 1, "updated": 3, "unchanged": 0, "skipped": 4, "failed": 0}
    items = items_by_id(run)
    assert items[CONTOSO]["result"] == "updated" and items[WIDEWORLD]["result"] == "created"
    for tenant_id, (code, names) in HELD.items():
        assert_held(items[tenant_id], halo_fake, code, names)
        assert clients_with_tenant(halo_fake, tenant_id) == []  # not created, nor marked on a guess
    names = [c["name"].strip().casefold() for c in halo_fake.clients.values()]
    assert "trailing space co" not in names and len(names) > clients_before  # others were created
    (no_tenant,) = [i for i in run["items"] if i["name"] == "Blue Yonder Airlines"]
    assert no_tenant["result"] == "skipped" and "CSP tenant" in no_tenant["reason"]
    assert no_tenant["reason_code"] == "no_csp_tenant" and no_tenant["suggestions"] == []
    assert all(i["reason_code"] is None for i in run["items"] if i["result"] in ("created", "updated"))

    (created,) = clients_with_tenant(halo_fake, WIDEWORLD)
    assert created["name"] == "Wide World Importers" and created["main_site_id"]
    assert items[WIDEWORLD]["halo_id"] == created["id"]
    contoso = halo_fake.clients[items[CONTOSO]["halo_id"]]
    assert contoso["name"] == "Contoso Pty Ltd"  # never renamed
    mappings = {m["dicker_customer_id"]: m for m in api.get("/mappings").json()["mappings"]}
    assert (
        mappings[WIDEWORLD]["source"] == "import" and mappings[WIDEWORLD]["halo_client_id"] == created["id"]
    )
    assert not set(HELD) & set(mappings)  # a held customer waits for a mapping by hand


@pytest.mark.parametrize("how", ["request", "setting"])
def test_create_when_similar_creates_the_held_customers(api, halo_fake, how):
    api.post("/mappings/generate")
    suggested = halo_ids(halo_fake, *(n for _, names in HELD.values() for n in names))
    if how == "setting":
        assert api.call("PUT", "/settings", {"create_when_similar": True}).status_code == 200
        run = api.run("/customers/import", {})
    else:
        run = api.run("/customers/import", {"create_when_similar": True})
    assert run["status"] == "succeeded", run
    assert run["counts"] == {"created": 4, "updated": 3, "unchanged": 0, "skipped": 1, "failed": 0}
    items = items_by_id(run)
    for tenant_id in (*HELD, WIDEWORLD):
        assert items[tenant_id]["result"] == "created" and items[tenant_id]["suggestions"] == []
        (created,) = clients_with_tenant(halo_fake, tenant_id)
        assert created["id"] == items[tenant_id]["halo_id"] and created["id"] not in suggested
    assert halo_fake.clients[items[TAILSPIN]["halo_id"]]["name"] == "Tailspin Toys Pty Ltd"
    assert len(halo_ids(halo_fake, "Adventure Works")) == 3  # what the flag asked for: a third one
    mappings = {m["dicker_customer_id"]: m for m in api.get("/mappings").json()["mappings"]}
    assert {mappings[t]["halo_client_id"] for t in HELD} == {items[t]["halo_id"] for t in HELD}


def test_the_request_overrides_the_setting_and_holds_again(api, halo_fake):
    api.post("/mappings/generate")
    assert api.call("PUT", "/settings", {"create_when_similar": True}).status_code == 200
    run = api.run("/customers/import", {"create_when_similar": False})
    assert run["counts"] == {"created": 1, "updated": 3, "unchanged": 0, "skipped": 4, "failed": 0}
    for tenant_id, (code, names) in HELD.items():
        assert_held(items_by_id(run)[tenant_id], halo_fake, code, names)


def test_a_held_customer_mapped_by_hand_to_its_suggestion_is_updated_not_created(api, halo_fake):
    api.post("/mappings/generate")
    first = items_by_id(api.run("/customers/import", {}))[TAILSPIN]
    assert_held(first, halo_fake, *HELD[TAILSPIN])
    (suggestion,) = first["suggestions"]
    chosen = suggestion["halo_client_id"]
    mapped = api.post("/mappings", {"dicker_customer_id": TAILSPIN, "halo_client_id": chosen})
    assert mapped.status_code == 201, mapped.text
    clients_before = len(halo_fake.clients)
    halo_fake.reset_calls()

    run = api.run("/customers/import", {})
    assert run["status"] == "succeeded", run
    assert run["counts"] == {"created": 0, "updated": 1, "unchanged": 4, "skipped": 3, "failed": 0}
    item = items_by_id(run)[TAILSPIN]
    assert (item["result"], item["halo_id"], item["reason_code"]) == ("updated", chosen, None), item
    assert "azure_tenants" in item["changes"]
    assert len(halo_fake.clients) == clients_before and halo_fake.calls["POST /api/Client"] == 1
    assert [c["id"] for c in clients_with_tenant(halo_fake, TAILSPIN)] == [chosen]
    assert halo_fake.clients[chosen]["name"] == "Tailspin Toys Pty. Ltd."  # never renamed
    (mapping,) = [m for m in api.get("/mappings").json()["mappings"] if m["dicker_customer_id"] == TAILSPIN]
    assert (mapping["halo_client_id"], mapping["source"]) == (chosen, "manual")
    again = api.run("/customers/import", {})
    assert items_by_id(again)[TAILSPIN]["result"] == "unchanged"


def test_second_import_with_nothing_changed_writes_nothing(api, halo_fake):
    first = api.run("/customers/import")
    halo_fake.reset_calls()
    run = api.run("/customers/import")
    # Unmapped, six of the seven have a name Halo already holds: held again, not written.
    assert run["counts"] == {"created": 0, "updated": 0, "unchanged": 1, "skipped": 7, "failed": 0}
    assert items_by_id(run)[WIDEWORLD]["result"] == "unchanged"
    held = {i["dicker_id"]: (i["reason_code"], i["suggestions"]) for i in run["items"] if i["dicker_id"]}
    assert held == {
        i["dicker_id"]: (i["reason_code"], i["suggestions"]) for i in first["items"] if i["dicker_id"]
    }
    similar = {i["dicker_id"] for i in run["items"] if i["reason_code"] == "similar_client_exists"}
    assert similar == {CONTOSO, TAILSPIN, SMITHJONES, tenant_guid("fabrikam"), tenant_guid("northwind")}
    assert items_by_id(run)[ADVENTURE]["reason_code"] == "ambiguous_name"
    assert halo_fake.writes == 0
    assert not [k for k in halo_fake.calls if k.startswith("POST /api/")]


def test_dry_run_answers_the_plan_and_writes_nothing(api, halo_fake):
    before = len(halo_fake.clients)
    response = api.post("/customers/import", {"dry_run": True})
    assert response.status_code == 200
    plan = response.json()
    assert plan["dry_run"] is True and plan["status"] == "succeeded"
    # Nothing mapped: only Wide World Importers has a name Halo does not hold.
    assert plan["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "skipped": 7, "failed": 0}
    planned = items_by_id(plan)
    assert planned[WIDEWORLD]["result"] == "created"
    for tenant_id, (code, names) in HELD.items():
        assert_held(planned[tenant_id], halo_fake, code, names)
    assert_held(planned[CONTOSO], halo_fake, "similar_client_exists", ["Contoso Pty Ltd"])
    assert len(halo_fake.clients) == before and halo_fake.writes == 0
    assert api.get("/mappings").json()["mappings"] == []
    real = api.run("/customers/import")
    assert real["counts"] == plan["counts"]

    def outcome(run: dict) -> dict:
        return {i["dicker_id"]: (i["result"], i["reason_code"], i["suggestions"]) for i in run["items"]}

    assert outcome(real) == outcome(plan)


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
    real_put = store_module.Store.put_mappings

    def crash(self, mappings):
        raise RuntimeError("killed")

    monkeypatch.setattr(store_module.Store, "put_mappings", crash)
    # Every customer created (held names too), so the crash leaves several unmapped clients behind.
    response = api.post("/customers/import", {"create_when_similar": True})
    run_id = response.json()["run_id"]
    created_before = len(halo_fake.clients)
    import time

    deadline = time.monotonic() + 20
    while len(halo_fake.clients) == created_before and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
    assert api.get(f"/runs/{run_id}").json()["status"] == "running"  # the crashed run never finished
    monkeypatch.setattr(store_module.Store, "put_mappings", real_put)

    second = api.post("/customers/import", {"create_when_similar": True}).json()["run_id"]  # waits its turn
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
    api.call("PUT", "/settings", {"halo_write_timeout_seconds": 1, "halo_write_settle_seconds": 3})
    halo_fake.hang_next(1, 2.0, paths=["/api/Client"], methods=["POST"])
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
    (halo_contoso,) = halo_ids(halo_fake, name)
    held = api.run("/customers/import", {"customer_ids": [CONTOSO]})
    assert held["status"] == "succeeded", held
    (item,) = held["items"]  # the name from its subscriptions is the one Halo already holds
    assert item["name"] == name and item["result"] == "skipped"
    assert item["reason_code"] == "similar_client_exists"
    assert item["suggestions"] == [{"halo_client_id": halo_contoso, "halo_client_name": name}]
    run = api.run("/customers/import", {"customer_ids": [CONTOSO], "create_when_similar": True})
    assert run["status"] == "succeeded", run
    (item,) = run["items"]
    assert item["name"] == name and item["result"] == "created" and item["halo_id"] != halo_contoso
    assert halo_fake.clients[item["halo_id"]]["name"] == name


def test_two_customers_of_one_name_are_held_in_one_run_and_the_listing_says_so(
    api, halo_fake, dicker_data_fake
):
    """Equal after trimming and case: neither is created, in a plan or a real run, even with
    create_when_similar (that would make two Halo clients of one name); the listing agrees."""
    first, second = tenant_guid("trailing-1"), tenant_guid("trailing-2")
    base = dicker_data_fake.tenants[0]
    dicker_data_fake.tenants.extend(
        [
            {**base, "TenantId": first, "CompanyName": "Trailing Space Co", "TenantDomain": "ts1.example"},
            {**base, "TenantId": second, "CompanyName": "trailing space co ", "TenantDomain": "ts2.example"},
        ]
    )
    clients_before = len(halo_fake.clients)
    for body in ({"dry_run": True}, {}, {"create_when_similar": True}):
        items = items_by_id(api.run("/customers/import", body))
        assert {t: (items[t]["result"], items[t]["reason_code"]) for t in (first, second)} == {
            first: ("skipped", "ambiguous_name"),
            second: ("skipped", "ambiguous_name"),
        }, body
        assert items[first]["reason"].startswith(
            f'Not created: Dicker Data customer "trailing space co" ({second}) has this name too'
        )
        assert f'"Trailing Space Co" ({first})' in items[second]["reason"]
    names = [c["name"].strip().casefold() for c in halo_fake.clients.values()]
    assert "trailing space co" not in names and len(names) > clients_before  # others were created
    assert api.call("PUT", "/settings", {"create_when_similar": True}).status_code == 200
    unmapped = {u["dicker_customer_id"]: u for u in api.get("/mappings").json()["unmapped"]}
    assert {t: (unmapped[t]["next_action"], unmapped[t]["reason_code"]) for t in (first, second)} == {
        first: ("hold", "ambiguous_name"),
        second: ("hold", "ambiguous_name"),
    }
    assert unmapped[first]["reason"] == items[first]["reason"]
