"""A credential revoked in the middle of a run: the run stops at once as failed, says the
credential was refused (never throttling), asks for a new token only a few times, and its items and
counts say what landed and what did not (issue 25)."""

from collections import Counter

import pytest

from ddhalo.halo.records import marker_in
from ddhalo.halo.token import CREDENTIALS_HINT
from local.fakes.sample_data import generate_dicker_data

pytestmark = pytest.mark.integration


def thirty_new_customers(dicker_data_fake) -> tuple[list[dict], list[dict]]:
    tenants, subscriptions = generate_dicker_data(30, 3, seed=26)
    dicker_data_fake.tenants, dicker_data_fake.subscriptions = tenants, subscriptions
    return tenants, subscriptions


def revoke_before_the_subscriptions_are_read(dicker_data_fake, monkeypatch) -> list[int]:
    """Dicker Data refuses the token from the first subscription read on; answers the key requests
    made until then."""
    real, revoked_at = dicker_data_fake.handle, []

    def revoking(request):
        if request.path.lower().endswith("getsubscriptiondetails") and not revoked_at:
            revoked_at.append(dicker_data_fake.key_requests)
            dicker_data_fake.access_token = "revoked-by-the-account-manager"
            dicker_data_fake.keys.clear()
        return real(request)

    monkeypatch.setattr(dicker_data_fake, "handle", revoking)
    return revoked_at


def test_a_halo_secret_revoked_mid_sync_fails_the_run_as_refused_credentials(
    api, halo_fake, dicker_data_fake, monkeypatch
):
    tenants, subscriptions = thirty_new_customers(dicker_data_fake)
    clients_before = len(halo_fake.clients)
    api.call("PUT", "/settings", {"halo_requests_per_minute": 600})
    real, revoked_at = halo_fake.handle, []

    def revoke_before_the_first_licence_write(request):
        if request.method == "POST" and request.path == "/api/SoftwareLicence" and not revoked_at:
            revoked_at.append(halo_fake.token_requests)
            halo_fake.client_secret = "revoked-in-halo"
            halo_fake.tokens.clear()
        return real(request)

    monkeypatch.setattr(halo_fake, "handle", revoke_before_the_first_licence_write)
    run = api.run("/sync", {}, timeout=120)

    assert (run["status"], run["error_code"]) == ("failed", "halo_auth_failed"), run
    assert "Halo rejected the API credentials" in run["error"] and run["hint"] == CREDENTIALS_HINT
    assert halo_fake.token_requests - revoked_at[0] <= 3  # no storm against the token endpoint
    items = run["items"]
    assert not [i for i in items if i.get("reason_code") in ("throttled", "out_of_time")]
    subs = [i for i in items if i["type"] == "subscription"]
    assert len(subs) == len(subscriptions)
    assert {(i["result"], i["reason_code"]) for i in subs} == {("failed", "halo_auth_failed")}
    assert all("Halo rejected the API credentials" in i["reason"] for i in subs)
    # The counts are what landed: every client (before the revocation), no licence.
    assert run["counts"]["created"] == len(tenants) == len(halo_fake.clients) - clients_before
    assert not [r for r in halo_fake.licences.values() if marker_in(r.get("notes"))]
    assert run["counts"]["failed"] == len(subscriptions)


def test_a_dicker_data_token_revoked_mid_sync_fails_the_run_as_refused_credentials(
    api, halo_fake, dicker_data_fake, monkeypatch
):
    thirty_new_customers(dicker_data_fake)
    revoked_at = revoke_before_the_subscriptions_are_read(dicker_data_fake, monkeypatch)
    run = api.run("/sync", {}, timeout=120)

    assert (run["status"], run["error_code"]) == ("failed", "dicker_data_auth_failed"), run
    assert "Dicker Data" in run["error"] and run["hint"]
    assert dicker_data_fake.key_requests - revoked_at[0] <= 3
    assert not [i for i in run["items"] if i["type"] == "subscription" or i.get("reason_code") == "throttled"]
    assert Counter(i["result"] for i in run["items"] if i["type"] == "customer")["created"] == 30


def test_a_dicker_data_token_refused_for_a_few_customers_read_one_by_one_stops_at_once(
    api, halo_fake, dicker_data_fake, monkeypatch
):
    """Up to ten customers are read one by one: a refused token fails the run once, not each of them."""
    tenants, _ = thirty_new_customers(dicker_data_fake)
    assert api.run("/customers/import", {})["status"] == "succeeded"
    revoked_at = revoke_before_the_subscriptions_are_read(dicker_data_fake, monkeypatch)
    chosen = [t["TenantId"] for t in tenants[:3]]
    run = api.wait_run(api.post("/subscriptions/import", {"customer_ids": chosen}).json()["run_id"])
    assert (run["status"], run["error_code"]) == ("failed", "dicker_data_auth_failed"), run
    assert dicker_data_fake.key_requests - revoked_at[0] <= 2 and run["items"] == []
