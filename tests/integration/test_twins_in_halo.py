"""A verify finds what Halo holds twice, made by hand or by a create saved after its answer was
lost: a licence carrying one subscription's marker, a client carrying one customer's Microsoft
tenant. It reports each group once (every id, the one kept), deletes nothing, writes nothing to
them, and the digest names them (issue 25)."""

import copy

import pytest

from ddhalo.halo.records import marker_in
from local.fakes.sample_data import tenant_guid
from local.fakes.webhook import WebhookReceiver
from tests.local.waits import eventually

pytestmark = pytest.mark.integration

CONTOSO = tenant_guid("contoso")


@pytest.fixture
def hook(api):
    with WebhookReceiver("slack") as receiver:
        assert api.call("PUT", "/settings", {"webhook_url": receiver.url}).status_code == 200
        yield receiver


def twins_of(run: dict) -> dict[str, dict]:
    return {i["dicker_id"]: i for i in run["items"] if i.get("reason_code") == "duplicate_in_halo"}


def test_a_verify_reports_licences_and_clients_copied_by_hand_and_changes_neither(api, halo_fake, hook):
    api.post("/mappings/generate")
    first = api.run("/sync", {})
    assert first["status"] == "succeeded", first
    contoso = api.get("/mappings").json()["mappings"]
    (mapped,) = [m for m in contoso if m["dicker_customer_id"] == CONTOSO]
    ours = sorted(
        (
            r
            for r in halo_fake.licences.values()
            if marker_in(r.get("notes")) and r["client_id"] == mapped["halo_client_id"]
        ),
        key=lambda r: r["id"],
    )[0]
    sub_id = marker_in(ours["notes"])
    copy_of_licence = halo_fake.add_licence(
        ours["client_id"], ours["name"], notes=ours["notes"], count=ours["count"] + 5
    )
    client = halo_fake.clients[mapped["halo_client_id"]]
    copy_of_client = halo_fake.add_client(
        client["name"] + " (copy)", azure_tenants=copy.deepcopy(client["azure_tenants"])
    )
    before = {"clients": copy.deepcopy(halo_fake.clients), "licences": copy.deepcopy(halo_fake.licences)}
    eventually(lambda: api.get(f"/runs/{first['run_id']}").json().get("digest"))
    sent = len(hook.texts())  # the first sync's (held customers)

    verify = api.run("/sync", {"verify": True})
    assert verify["status"] == "succeeded" and verify["verify"] is True, verify
    twins = twins_of(verify)
    assert set(twins) == {sub_id, CONTOSO}, twins
    licence_twin, client_twin = twins[sub_id], twins[CONTOSO]
    assert (licence_twin["result"], licence_twin["halo_id"]) == ("skipped", ours["id"])
    assert licence_twin["duplicate_ids"] == [ours["id"], copy_of_licence["id"]]
    assert (
        f"#{ours['id']}" in licence_twin["reason"] and f"#{copy_of_licence['id']}" in licence_twin["reason"]
    )
    assert (client_twin["result"], client_twin["halo_id"]) == ("skipped", client["id"])
    assert client_twin["duplicate_ids"] == [client["id"], copy_of_client["id"]]
    # Nothing deleted, and neither twin written (the copy's count of +5 stays, as does the copy).
    assert halo_fake.clients == before["clients"] and halo_fake.licences == before["licences"]

    texts = eventually(lambda: hook.texts()[sent:])
    assert texts and "in Halo) (2):" in texts[0], texts
    assert f"#{copy_of_licence['id']}" in texts[0] and f"#{copy_of_client['id']}" in texts[0]
    again = api.run("/sync", {"verify": True})
    assert set(twins_of(again)) == {sub_id, CONTOSO}
    eventually(lambda: api.get(f"/runs/{again['run_id']}").json().get("digest"))
    assert len(hook.texts()) == sent + 1  # the same twins are not named again
