"""Past one page of everything: Halo serves at most 100 records per page whatever is asked.

A world of 280 Halo clients (260 named like Dicker Data customers), 271 customers and 390
subscriptions, one customer holding 120 of them, against a Halo fake that caps pages at 100 (as
hosted Halo does). Every step that reads a Halo list must see every record: generate, list,
import, sync, the tenant-link lookup and the re-read after a create whose answer was lost.
"""

import time
from collections import Counter
from collections.abc import Iterator

import pytest

from local.fakes import DickerDataFake, HaloFake
from local.fakes.sample_data import generate_dicker_data, generate_halo, make_subscription
from local.serve.app import LocalApp
from local.serve.upstreams import DickerDataUpstream, HaloUpstream, UpstreamTargets
from tests.integration.conftest import Api

pytestmark = pytest.mark.integration

MATCHED = 260
BIG = 120  # subscriptions of the one big customer


def _marker(licence: dict) -> str | None:
    notes = str(licence.get("notes") or "")
    return notes.splitlines()[0].split(": ", 1)[1] if notes.startswith("Dicker Data subscription: ") else None


@pytest.fixture(scope="module")
def world() -> Iterator[tuple[Api, DickerDataFake, HaloFake]]:
    tenants, subscriptions = generate_dicker_data(270, 1, seed=12)
    big, _ = generate_dicker_data(1, 0, seed=99)
    (big_tenant,) = big
    big_tenant["CompanyName"] = big_tenant["TenantDescription"] = "Big Customer With Many Licences"
    tenants.append(big_tenant)
    subscriptions += [
        make_subscription(big_tenant, f"big-{n:03d}", "basic", quantity=n + 1) for n in range(BIG)
    ]
    with DickerDataFake(tenants=tenants, subscriptions=subscriptions) as dicker_data, HaloFake() as halo:
        assert halo.max_page_size == 100  # the fake is as strict as hosted Halo by default
        generate_halo(halo, 280, names=[t["CompanyName"] for t in tenants[:MATCHED]])
        upstreams = UpstreamTargets(
            dicker_data=DickerDataUpstream(
                dicker_data.base_url, dicker_data.account_code, dicker_data.access_token
            ),
            halo=HaloUpstream(halo.api_url, halo.auth_url, None, halo.client_id, halo.client_secret),
        )
        with LocalApp(port=0, upstreams=upstreams) as app:
            api = Api(app.url)
            assert api.call("PUT", "/settings", {"halo_requests_per_minute": 6000}).status_code == 200
            yield api, dicker_data, halo
        assert not halo.errors and not halo.violations, (halo.errors, halo.violations)


def licences_per_subscription(halo: HaloFake) -> Counter[str]:
    return Counter(m for lic in halo.licences.values() if (m := _marker(lic)))


def test_every_page_is_read_at_every_step(world):
    """One scenario in order (module-scoped world): each step depends on the one before."""
    api, dicker_data, halo = world

    generated = api.post("/mappings/generate").json()
    assert len(generated["created"]) == MATCHED, generated["unmatched"][:3]
    assert max(m["halo_client_id"] for m in generated["created"]) > 200  # matched past page 2

    listed = api.get("/mappings").json()
    assert len(listed["mappings"]) == MATCHED
    assert all(m["halo_client_exists"] and m["halo_client_name"] for m in listed["mappings"])
    assert len([u for u in listed["unmapped"] if u["importable"]]) == 271 - MATCHED

    # Generated names differ by a number: some unmatched ones are near misses of matched ones.
    imported = api.run("/customers/import", {"create_when_similar": True})
    assert imported["status"] == "succeeded", imported
    assert imported["counts"]["created"] == 271 - MATCHED
    assert imported["counts"]["updated"] == MATCHED  # their tenant links, past page 1 too
    per_tenant = Counter(
        t["azure_tenant_id"] for c in halo.clients.values() for t in c.get("azure_tenants") or []
    )
    assert len(per_tenant) == 271 and set(per_tenant.values()) == {1}

    halo.reset_calls()
    again = api.run("/customers/import")
    assert again["counts"]["unchanged"] == 271 and halo.writes == 0

    # The tenant-link lookup: a customer whose mapping is gone is found by its tenant on a
    # client past the first page, and adopted, not created again.
    late = max(listed["mappings"], key=lambda m: m["halo_client_id"])
    assert api.call("DELETE", f"/mappings/{late['dicker_customer_id']}").status_code == 200
    adopted = api.run("/customers/import", {"customer_ids": [late["dicker_customer_id"]]})
    assert adopted["counts"] == {**adopted["counts"], "created": 0, "failed": 0}
    assert adopted["items"][0]["halo_id"] == late["halo_client_id"]

    subscriptions = api.run("/subscriptions/import")
    assert subscriptions["status"] == "succeeded", subscriptions
    assert subscriptions["counts"]["created"] == 270 + BIG
    counted = licences_per_subscription(halo)
    assert len(counted) == 270 + BIG and set(counted.values()) == {1}

    halo.reset_calls()
    unchanged = api.run("/subscriptions/import")
    assert unchanged["counts"]["unchanged"] == 270 + BIG and halo.writes == 0  # bulk read past 100

    big_id = next(t["TenantId"] for t in dicker_data.tenants if t["CompanyName"].startswith("Big "))
    halo.reset_calls()
    alone = api.run("/subscriptions/import", {"customer_ids": [big_id]})
    assert alone["counts"]["unchanged"] == BIG and halo.writes == 0  # one client's 120 licences
    assert halo.calls["GET /api/SoftwareLicence"] == 2

    for _ in range(2):
        halo.reset_calls()
        synced = api.run("/sync", {})
        assert synced["status"] == "succeeded" and halo.writes == 0, synced["counts"]


def test_a_create_whose_answer_is_lost_is_found_past_the_first_page(world, monkeypatch):
    """The re-read after an ambiguous create pages through the client's 120+ licences."""
    api, dicker_data, halo = world
    big = next(t for t in dicker_data.tenants if t["CompanyName"].startswith("Big "))
    # Its 120 licences in Halo, as the test above leaves them when it ran first in this worker.
    for step in ("/customers/import", "/subscriptions/import"):
        assert api.run(step, {"customer_ids": [big["TenantId"]]})["status"] == "succeeded"
    posts = halo.calls["POST /api/SoftwareLicence"]
    for n in range(3):
        dicker_data.add_subscription(make_subscription(big, f"lost-{n}", "standard"))
    settings = {"halo_write_timeout_seconds": 1, "halo_write_settle_seconds": 3}
    assert api.call("PUT", "/settings", settings).status_code == 200
    real, lost = halo.handle, []

    def save_then_lose_the_answer(request):
        response = real(request)
        if request.method == "POST" and request.path == "/api/SoftwareLicence" and not lost:
            lost.append(request.path)
            time.sleep(2)  # saved; the client gives up waiting after 1 s
        return response

    monkeypatch.setattr(halo, "handle", save_then_lose_the_answer)
    run = api.run("/subscriptions/import", {"customer_ids": [big["TenantId"]]})
    assert run["status"] == "succeeded", run
    created = [i for i in run["items"] if i["result"] == "created"]
    assert sorted(i["dicker_id"] for i in created) == ["lost-0", "lost-1", "lost-2"]
    counted = licences_per_subscription(halo)
    assert all(counted[f"lost-{n}"] == 1 for n in range(3))
    assert halo.calls["POST /api/SoftwareLicence"] - posts == 1  # not blindly re-sent
