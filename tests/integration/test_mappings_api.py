"""Generate, list, add and remove mappings through the API, against the seeded fakes."""

import pytest

from local.fakes.sample_data import tenant_guid

pytestmark = pytest.mark.integration

CONTOSO, FABRIKAM, NORTHWIND = tenant_guid("contoso"), tenant_guid("fabrikam"), tenant_guid("northwind")
TAILSPIN, SMITH, ADVENTURE, WIDEWORLD = (
    tenant_guid("tailspin"),
    tenant_guid("smithjones"),
    tenant_guid("adventure"),
    tenant_guid("wideworld"),
)


def halo_id(halo_fake, name: str) -> int:
    return next(c["id"] for c in halo_fake.clients.values() if c["name"] == name)


def test_generate_maps_exact_names_only(api, halo_fake):
    response = api.post("/mappings/generate")
    assert response.status_code == 200
    body = response.json()
    created = {m["dicker_customer_id"]: m for m in body["created"]}
    assert set(created) == {CONTOSO, FABRIKAM, NORTHWIND}
    assert created[NORTHWIND]["halo_client_id"] == halo_id(halo_fake, "Northwind Traders")
    assert all(m["source"] == "generated" and m["created_at"] for m in created.values())
    assert body["already_mapped"] == 0

    ambiguous = {a["dicker_customer_id"]: a for a in body["ambiguous"]}
    assert set(ambiguous) == {ADVENTURE} and len(ambiguous[ADVENTURE]["halo_client_ids"]) == 2

    unmatched = {u["dicker_customer_id"]: u for u in body["unmatched"]}
    assert set(unmatched) == {TAILSPIN, SMITH, WIDEWORLD}
    assert [s["halo_client_name"] for s in unmatched[TAILSPIN]["suggestions"]] == ["Tailspin Toys Pty. Ltd."]
    assert [s["halo_client_name"] for s in unmatched[SMITH]["suggestions"]] == ["Smith and Jones Accounting"]
    assert unmatched[WIDEWORLD]["suggestions"] == []


def test_generate_twice_creates_nothing_and_never_changes_a_mapping(api, halo_fake):
    manual = {"dicker_customer_id": CONTOSO, "halo_client_id": halo_id(halo_fake, "Coho Winery")}
    assert api.post("/mappings", manual).status_code == 201
    first = api.post("/mappings/generate").json()
    assert CONTOSO not in {m["dicker_customer_id"] for m in first["created"]}
    second = api.post("/mappings/generate").json()
    assert second["created"] == [] and second["already_mapped"] == 3
    mappings = {m["dicker_customer_id"]: m for m in api.get("/mappings").json()["mappings"]}
    assert mappings[CONTOSO]["halo_client_id"] == manual["halo_client_id"]
    assert mappings[CONTOSO]["source"] == "manual"


def test_list_shows_mapped_and_unmapped_with_tenant_status(api):
    api.post("/mappings/generate")
    body = api.get("/mappings").json()
    assert {m["dicker_customer_id"] for m in body["mappings"]} == {CONTOSO, FABRIKAM, NORTHWIND}
    row = body["mappings"][0]
    assert {
        "dicker_customer_name",
        "halo_client_id",
        "halo_client_name",
        "source",
        "created_at",
    } <= row.keys()
    unmapped = {u["dicker_customer_name"]: u for u in body["unmapped"]}
    assert unmapped["Blue Yonder Airlines"]["importable"] is False
    assert "CSP tenant" in unmapped["Blue Yonder Airlines"]["reason"]
    assert unmapped["Wide World Importers"]["importable"] is True
    assert unmapped["Tailspin Toys Pty Ltd"]["suggestions"]


def test_list_still_answers_stored_mappings_when_an_upstream_is_down(api, dicker_data_fake):
    api.post("/mappings/generate")
    dicker_data_fake.fail_next(20, 503)
    body = api.get("/mappings").json()
    assert len(body["mappings"]) == 3 and body["warnings"]


def test_manual_add_checks_both_ids_and_one_to_one(api, halo_fake):
    coho = halo_id(halo_fake, "Coho Winery")
    assert api.post("/mappings", {"dicker_customer_id": "no-such", "halo_client_id": coho}).status_code == 404
    assert (
        api.post("/mappings", {"dicker_customer_id": WIDEWORLD, "halo_client_id": 999999}).status_code == 404
    )
    created = api.post("/mappings", {"dicker_customer_id": WIDEWORLD, "halo_client_id": coho})
    assert created.status_code == 201 and created.json()["source"] == "manual"
    again = api.post(
        "/mappings",
        {"dicker_customer_id": WIDEWORLD, "halo_client_id": halo_id(halo_fake, "Contoso Pty Ltd")},
    )
    assert again.status_code == 409 and again.json()["error"]["code"] == "conflict"
    taken = api.post("/mappings", {"dicker_customer_id": TAILSPIN, "halo_client_id": coho})
    assert taken.status_code == 409


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"dicker_customer_id": "x"},
        {"dicker_customer_id": "x", "halo_client_id": "abc"},
        {"dicker_customer_id": "", "halo_client_id": 1},
        {"dicker_customer_id": "x", "halo_client_id": -1},
    ],
)
def test_manual_add_refuses_bad_bodies(api, body):
    response = api.post("/mappings", body)
    assert response.status_code == 400 and response.json()["error"]["message"]


def test_delete_removes_and_then_404s(api):
    api.post("/mappings/generate")
    response = api.call("DELETE", f"/mappings/{CONTOSO}")
    assert response.status_code == 200 and response.json()["deleted"]["dicker_customer_id"] == CONTOSO
    assert api.call("DELETE", f"/mappings/{CONTOSO}").status_code == 404
    assert CONTOSO in {u["dicker_customer_id"] for u in api.get("/mappings").json()["unmapped"]}


WILL_CREATE = "Not mapped: import creates a new Halo client unless you map it first."


def test_the_listing_says_what_importing_will_do_and_the_import_does_it(api, halo_fake):
    """One rule: the unmapped row of a similar-named customer says it will be held, in the very
    words the import then answers; a customer Halo has no name for says a create, and is created."""
    api.post("/mappings/generate")
    unmapped = {u["dicker_customer_id"]: u for u in api.get("/mappings").json()["unmapped"]}
    said = {k: (u["importable"], u["next_action"], u["reason_code"]) for k, u in unmapped.items()}
    assert said == {
        TAILSPIN: (True, "hold", "similar_client_exists"),
        SMITH: (True, "hold", "similar_client_exists"),
        ADVENTURE: (True, "hold", "ambiguous_name"),
        WIDEWORLD: (True, "create", None),
        "": (False, "skip", "no_csp_tenant"),  # Blue Yonder Airlines has no CSP tenant
    }
    assert unmapped[WIDEWORLD]["reason"] == WILL_CREATE
    tailspin = halo_id(halo_fake, "Tailspin Toys Pty. Ltd.")
    assert unmapped[TAILSPIN]["reason"] == (
        f'Not created: Halo already has "Tailspin Toys Pty. Ltd." (#{tailspin}). Map this customer to one '
        'of them (POST /mappings), or import with "create_when_similar": true to create a new client '
        "anyway."
    )
    assert unmapped[TAILSPIN]["create_when_similar_creates"] is True

    run = api.run("/customers/import", {})
    done = {i["dicker_id"]: i for i in run["items"] if i["dicker_id"] and i["dicker_id"] in unmapped}
    assert {k: (i["result"], i["reason_code"]) for k, i in done.items()} == {
        TAILSPIN: ("skipped", "similar_client_exists"),
        SMITH: ("skipped", "similar_client_exists"),
        ADVENTURE: ("skipped", "ambiguous_name"),
        WIDEWORLD: ("created", None),
    }
    assert {k: i["reason"] for k, i in done.items()} == {k: unmapped[k]["reason"] for k in done} | {
        WIDEWORLD: None
    }


def test_with_create_when_similar_set_the_listing_says_a_create(api):
    api.post("/mappings/generate")
    assert api.call("PUT", "/settings", {"create_when_similar": True}).status_code == 200
    unmapped = {u["dicker_customer_id"]: u for u in api.get("/mappings").json()["unmapped"]}
    assert {k: (u["next_action"], u["reason"]) for k, u in unmapped.items() if k} == dict.fromkeys(
        (TAILSPIN, SMITH, ADVENTURE, WIDEWORLD), ("create", WILL_CREATE)
    )
    run = api.run("/customers/import", {})
    assert {
        i["dicker_id"]: i["result"] for i in run["items"] if i["dicker_id"] and i["dicker_id"] in unmapped
    } == dict.fromkeys((TAILSPIN, SMITH, ADVENTURE, WIDEWORLD), "created")


def test_the_listing_says_an_unmapped_customer_on_a_linked_client_is_adopted(api, halo_fake):
    coho = halo_fake.clients[halo_id(halo_fake, "Coho Winery")]
    coho["azure_tenants"] = [{"id": 901, "azure_tenant_id": WIDEWORLD, "azure_tenant_name": "WWI"}]
    (row,) = [u for u in api.get("/mappings").json()["unmapped"] if u["dicker_customer_id"] == WIDEWORLD]
    assert (row["next_action"], row["reason_code"]) == ("adopt", None)
    assert row["reason"] == (
        f'Not mapped: import maps it to Halo client "Coho Winery" (#{coho["id"]}), '
        "which already carries its Microsoft tenant."
    )
    run = api.run("/customers/import", {"customer_ids": [WIDEWORLD]})
    assert [(i["result"], i["halo_id"]) for i in run["items"]] == [("updated", coho["id"])]
