"""Throttling as hosted Halo does it: 429s without Retry-After while another integration keeps
the shared window full, for longer than one invocation lasts.

Time is compressed: Halo's window is 3 s here (300 s hosted), so the waits after a 429 are a
hundredth of the real ones, and the worker's invocation lasts 4 s (900 s deployed).
"""

import dataclasses
from collections import Counter

import pytest

from local.fakes.sample_data import make_subscription, tenant_guid

pytestmark = pytest.mark.integration

WORKER = "WorkerFunction"


@pytest.fixture
def compressed(api, local_app):
    assert api.call("PUT", "/settings", {"halo_rate_window_seconds": 3}).status_code == 200
    invoker = local_app.invoker
    invoker.functions[WORKER] = dataclasses.replace(invoker.functions[WORKER], timeout=4)
    return api


def markers(halo_fake) -> Counter[str]:
    return Counter(
        str(lic.get("notes") or "").splitlines()[0]
        for lic in halo_fake.licences.values()
        if str(lic.get("notes") or "").startswith("Dicker Data subscription: ")
    )


def test_a_window_kept_full_past_the_invocation_is_waited_out_and_handed_on(
    compressed, halo_fake, dicker_data_fake, monkeypatch
):
    api = compressed
    api.post("/mappings/generate")
    assert api.run("/customers/import", {"create_when_similar": True})["status"] == "succeeded"
    contoso = next(t for t in dicker_data_fake.tenants if t["TenantId"] == tenant_guid("contoso"))
    for n in range(150):  # more than one write batch for one customer
        dicker_data_fake.add_subscription(make_subscription(contoso, f"busy-{n:03d}", "basic"))
    expected = sum(1 for s in dicker_data_fake.subscriptions if s["TenantId"])

    real, hogged = halo_fake.handle, []

    def another_integration_fills_the_window(request):
        response = real(request)
        if request.method == "POST" and request.path == "/api/SoftwareLicence" and not hogged:
            hogged.append(request.path)
            halo_fake.saturate(9)  # after our first batch: "minutes" at this scale
        return response

    monkeypatch.setattr(halo_fake, "handle", another_integration_fills_the_window)
    run = api.run("/subscriptions/import")
    run = api.wait_run(run["run_id"], timeout=90)
    assert run["status"] == "succeeded", run
    assert run["counts"]["failed"] == 0 and run["counts"]["created"] == expected
    assert halo_fake.throttled > 3  # it met the full window, more than once
    # The apply job ran out of invocation time and handed the rest to follow-up jobs.
    assert run["chunks_total"] >= 3, run
    assert set(markers(halo_fake).values()) == {1} and len(markers(halo_fake)) == expected


def test_a_licence_read_longer_than_an_invocation_goes_on_where_it_stopped(
    compressed, local_app, halo_fake, dicker_data_fake, monkeypatch, log_lines
):
    """Halo's 100 records per page make the bulk licence read the longest step of a big sync: an
    invocation that ends in the middle of it keeps what it read, and the next job reads on."""
    from ddhalo.pipeline.subscriptions import read as subscriptions

    api = compressed
    api.post("/mappings/generate")
    assert api.run("/customers/import", {"create_when_similar": True})["status"] == "succeeded"
    contoso = next(c for c in halo_fake.clients.values() if c["name"] == "Contoso Pty Ltd")
    for n in range(3000):  # someone else's licences on a mapped client: read, kept, left alone
        halo_fake.add_licence(contoso["id"], f"Other vendor licence {n:04d}")
    monkeypatch.setattr(subscriptions, "PER_CUSTOMER_READS", 0)  # the bulk read, as for many customers
    invoker = local_app.invoker
    invoker.functions[WORKER] = dataclasses.replace(invoker.functions[WORKER], timeout=3)
    halo_fake.reset_calls()
    halo_fake.latency = 0.25  # 31 pages take ~8 s: three invocations or more
    run = api.wait_run(api.post("/subscriptions/import", {}).json()["run_id"], timeout=120)
    halo_fake.latency = 0
    assert run["status"] == "succeeded" and run["counts"]["failed"] == 0, run
    pages = [
        int(r.query["page_no"])
        for r in halo_fake.requests
        if r.path == "/api/SoftwareLicence" and r.method == "GET"
    ]
    total = -(-len(halo_fake.licences) // 100)
    assert pages == list(range(1, total + 1))  # every page once: resumed, never read again from page 1
    assert log_lines.getvalue().count("the next job reads on") >= 2  # over three invocations at least
    assert run["counts"]["created"] == sum(1 for s in dicker_data_fake.subscriptions if s["TenantId"])
