"""A run's items say what is in Halo, also after throttling and answers lost in transit."""

import time
from collections import Counter

import pytest

from ddhalo.halo.records import MARKER
from local.fakes.sample_data import make_subscription, tenant_guid

pytestmark = pytest.mark.integration


def ours(halo_fake) -> Counter[str]:
    return Counter(
        str(lic["notes"]).splitlines()[0][len(MARKER) :]
        for lic in halo_fake.licences.values()
        if str(lic.get("notes") or "").startswith(MARKER)
    )


def test_items_match_halo_after_lost_answers_5xx_and_a_full_window(
    api, halo_fake, dicker_data_fake, monkeypatch
):
    api.post("/mappings/generate")
    assert api.run("/customers/import", {"create_when_similar": True})["status"] == "succeeded"
    api.call(
        "PUT",
        "/settings",
        {
            "request_timeout_seconds": 1,
            "halo_write_timeout_seconds": 1,
            "halo_write_settle_seconds": 2,
            "halo_rate_window_seconds": 3,
        },
    )
    contoso = next(t for t in dicker_data_fake.tenants if t["TenantId"] == tenant_guid("contoso"))
    for n in range(320):
        dicker_data_fake.add_subscription(make_subscription(contoso, f"honest-{n:03d}", "basic"))

    real, posts = halo_fake.handle, []

    def faulty(request):
        """Writes: the 2nd is saved but its answer lost, the 3rd refused with a 500 (not saved),
        and after the 4th another integration fills Halo's window for 10 seconds (over three of
        its windows here, longer than a few short retries last)."""
        if request.method == "POST" and request.path == "/api/SoftwareLicence":
            posts.append(request.path)
            if len(posts) == 3:
                return halo_fake.error_response(500)
        response = real(request)
        if request.method == "POST" and request.path == "/api/SoftwareLicence":
            if len(posts) == 2:
                time.sleep(1.5)  # saved; the client stopped waiting after 1 s
            if len(posts) == 4:
                halo_fake.saturate(10)
        return response

    monkeypatch.setattr(halo_fake, "handle", faulty)
    run = api.run("/subscriptions/import", timeout=180)  # slow on a loaded machine: about the counts
    items = []
    token = None
    while True:
        page = api.get(f"/runs/{run['run_id']}", **({"next_token": token} if token else {})).json()
        items += page["items"]
        token = page.get("next_token")
        if not token:
            break
    landed = ours(halo_fake)
    assert set(landed.values()) == {1}  # nothing twice
    created = {i["dicker_id"] for i in items if i["result"] == "created"}
    failed = {i["dicker_id"] for i in items if i["result"] == "failed"}
    assert created == set(landed)  # every licence of ours came from this run, and says so
    assert not failed & set(landed), "an item says failed while its licence is in Halo"
    assert {f"honest-{n:03d}" for n in range(320)} <= created
    assert run["status"] == "succeeded" and run["counts"]["failed"] == 0, run["counts"]
    assert (
        run["counts"]["created"]
        == len(created)
        == sum(1 for s in dicker_data_fake.subscriptions if s["TenantId"])
    )
