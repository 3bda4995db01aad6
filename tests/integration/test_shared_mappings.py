"""One Halo client for several Dicker Data customers: POST /mappings {"shared": true}."""

import pytest

pytestmark = pytest.mark.integration


def _ids(api):
    body = api.get("/mappings").json()
    return body, [u["dicker_customer_id"] for u in body["unmapped"] if u["importable"]]


def test_mapping_a_mapped_client_needs_shared_and_then_both_land_on_it(api, halo_fake):
    api.post("/mappings/generate")
    listed, unmapped = _ids(api)
    first = listed["mappings"][0]
    other = unmapped[0]
    refused = api.post("/mappings", {"dicker_customer_id": other, "halo_client_id": first["halo_client_id"]})
    assert refused.status_code == 409 and '"shared": true' in refused.json()["error"]["hint"]
    added = api.post(
        "/mappings", {"dicker_customer_id": other, "halo_client_id": first["halo_client_id"], "shared": True}
    )
    assert added.status_code == 201 and added.json()["shared"] is True
    rows = {m["dicker_customer_id"]: m for m in api.get("/mappings").json()["mappings"]}
    assert rows[other]["shared"] is rows[first["dicker_customer_id"]]["shared"] is True
    assert not any(m["shared"] for k, m in rows.items() if k not in (other, first["dicker_customer_id"]))

    run = api.run("/subscriptions/import", {"customer_ids": [first["dicker_customer_id"], other]})
    assert run["status"] == "succeeded" and run["counts"]["failed"] == 0
    on_client = [lic for lic in halo_fake.licences.values() if lic["client_id"] == first["halo_client_id"]]
    owners = {i["customer_id"] for i in run["items"] if i["result"] == "created"}
    assert owners == {first["dicker_customer_id"], other} and len(on_client) >= run["counts"]["created"]

    again = api.run("/subscriptions/import", {"customer_ids": [first["dicker_customer_id"], other]})
    assert again["counts"]["created"] == again["counts"]["updated"] == 0  # nobody retires the other's
    one = api.run("/subscriptions/import", {"customer_ids": [other]})
    assert one["counts"]["updated"] == one["counts"]["created"] == 0
    retired = [
        lic["id"] for lic in halo_fake.licences.values() if lic.get("status") == "Removed in Dicker Data"
    ]
    assert retired == []  # neither customer's plan took the other's licences for gone ones


def test_generate_stays_one_to_one(api):
    created = api.post("/mappings/generate").json()["created"]
    clients = [m["halo_client_id"] for m in created]
    assert len(clients) == len(set(clients))
