"""DickerDataFake through real HTTP: auth, data calls, errors, helpers and the shared fault tools."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import pytest
import requests

from local.fakes import DickerDataFake
from local.fakes.sample_data import (
    generate_dicker_data,
    sample_dicker_data,
    subscription_guid,
    tenant_guid,
)

CONTOSO = tenant_guid("contoso")
SUBSCRIPTION_KEYS = {
    "AccountCode", "TenantId", "TenantDescription", "CompanyName", "SubscriptionId",
    "ParentSubscriptionId", "SubscriptionReference", "Status", "StockCode", "StockDescription",
    "ManufacturerStockCode", "BillingFrequency", "LastBillingDate", "NextBillingDate",
    "ExpiryDate", "ConfirmedQuantity", "Serials",
}  # fmt: skip
TENANT_KEYS = {
    "AccountCode", "TenantId", "TenantDescription", "CompanyName", "TenantDomain",
    "Address01", "Address02", "Address03", "Suburb", "State", "Postcode", "Country",
}  # fmt: skip


def request_key(
    fake: DickerDataFake,
    token: str = "dd-test-token",  # noqa: S107 - the fake's test credential
    account: str = "ACME01",
) -> requests.Response:
    return requests.post(
        fake.base_url + "AccessKeyRequest",
        json={"AccessToken": token, "AccountCode": account, "TransactionID": "tx-1"},
        timeout=5,
    )


def headers_for(fake: DickerDataFake) -> dict[str, str]:
    key = request_key(fake).json()["AccessKey"]
    return {"Authorization": f"Bearer {key}", "DD-TransactionID": "tx-2", "DD-ApiVersion": "1.0"}


def call(
    fake: DickerDataFake, op: str, inner: dict[str, Any] | None, headers: dict[str, str], **kwargs
) -> requests.Response:
    body = {"In": inner} if inner is not None else {}
    return requests.post(
        f"{fake.base_url}Subscriptions/{op}", json=body, headers=headers, timeout=5, **kwargs
    )


# -- access keys -----------------------------------------------------------------------------


def test_access_key_is_granted_with_expiry_and_echoed_transaction(dicker_data_fake):
    resp = request_key(dicker_data_fake)
    assert resp.status_code == 200
    body = resp.json()
    assert body["Status"] == "GRANTED"
    assert body["TransactionID"] == "tx-1"
    assert body["AccessKey"]
    assert body["Message"]
    created = datetime.fromisoformat(body["CreationDateTime"])
    expires = datetime.fromisoformat(body["ExpireDateTime"])
    assert (expires - created).total_seconds() == pytest.approx(3600, abs=2)
    assert dicker_data_fake.key_requests == 1
    assert body["AccessKey"] in dicker_data_fake.keys


@pytest.mark.parametrize(("token", "account"), [("wrong", "ACME01"), ("dd-test-token", "OTHER")])
def test_wrong_credentials_are_denied_in_the_body_by_default(dicker_data_fake, token, account):
    resp = request_key(dicker_data_fake, token, account)
    assert resp.status_code == 200
    body = resp.json()
    assert body["Status"] == "DENIED"
    assert body["AccessKey"] is None
    assert body["Message"] == "Invalid AccessToken or AccountCode"
    assert not dicker_data_fake.keys


def test_wrong_credentials_can_be_denied_with_401():
    with DickerDataFake(deny_style="http401") as fake:
        resp = request_key(fake, "wrong")
        assert resp.status_code == 401
        assert resp.json()["Status"] == "DENIED"


def test_deny_style_is_validated():
    with pytest.raises(ValueError, match="deny_style"):
        DickerDataFake(deny_style="teapot")  # type: ignore[arg-type]


@pytest.mark.parametrize("status", ["OK", "Success", ""])
def test_grant_status_can_be_another_word(status):
    with DickerDataFake(grant_status=status) as fake:
        body = request_key(fake).json()
        assert body["Status"] == status
        assert body["AccessKey"] in fake.keys
        assert call(fake, "GetTenant", {"SubscriptionType": "CSP"}, headers_for(fake)).status_code == 200


def test_grant_status_none_leaves_the_field_out():
    with DickerDataFake(grant_status=None) as fake:
        body = request_key(fake).json()
        assert "Status" not in body
        assert set(body) == {"TransactionID", "AccessKey", "CreationDateTime", "ExpireDateTime", "Message"}
        assert body["AccessKey"] in fake.keys
        denied = request_key(fake, "wrong").json()  # a refusal still says why
        assert denied["Status"] == "DENIED"


def test_access_key_request_with_missing_fields_or_bad_json_is_400(dicker_data_fake):
    url = dicker_data_fake.base_url + "AccessKeyRequest"
    missing = requests.post(url, json={"AccessToken": "dd-test-token"}, timeout=5)
    assert missing.status_code == 400
    body = missing.json()
    assert body["Status"] == "ERROR"
    assert "AccountCode" in body["ErrorDescription"]
    assert "TransactionID" in body["ErrorDescription"]
    not_json = requests.post(url, data="AccessToken=x", timeout=5)
    assert not_json.status_code == 400
    assert not_json.json()["ErrorDescription"]


def test_data_calls_need_a_valid_key(dicker_data_fake):
    good = headers_for(dicker_data_fake)
    for headers in ({}, {**good, "Authorization": "Bearer not-a-key"}, {**good, "Authorization": "Basic x"}):
        resp = call(dicker_data_fake, "GetTenant", {"SubscriptionType": "CSP"}, headers)
        assert resp.status_code == 401
        assert resp.json() == {"Status": "ERROR", "Message": "Access key is invalid or has expired"}
    assert call(dicker_data_fake, "GetTenant", {"SubscriptionType": "CSP"}, good).status_code == 200


@pytest.mark.parametrize(
    ("header", "value"), [("DD-TransactionID", None), ("DD-ApiVersion", None), ("DD-ApiVersion", "2.0")]
)
def test_data_calls_need_transaction_id_and_api_version(dicker_data_fake, header, value):
    headers = headers_for(dicker_data_fake)
    if value is None:
        del headers[header]
    else:
        headers[header] = value
    resp = call(dicker_data_fake, "GetTenant", {"SubscriptionType": "CSP"}, headers)
    assert resp.status_code == 400
    assert header in resp.json()["ErrorDescription"]


def test_key_expires_after_its_ttl():
    with DickerDataFake(key_ttl=0.2) as fake:
        headers = headers_for(fake)
        assert call(fake, "GetTenant", {"SubscriptionType": "CSP"}, headers).status_code == 200
        time.sleep(0.3)
        assert call(fake, "GetTenant", {"SubscriptionType": "CSP"}, headers).status_code == 401


def test_expire_keys_revokes_granted_keys(dicker_data_fake):
    headers = headers_for(dicker_data_fake)
    dicker_data_fake.expire_keys()
    assert call(dicker_data_fake, "GetTenant", {"SubscriptionType": "CSP"}, headers).status_code == 401
    fresh = headers_for(dicker_data_fake)
    assert call(dicker_data_fake, "GetTenant", {"SubscriptionType": "CSP"}, fresh).status_code == 200
    assert dicker_data_fake.key_requests == 2


# -- data ----------------------------------------------------------------------------------


def test_get_tenant_lists_all_and_filters_by_tenant_id(dicker_data_fake):
    headers = headers_for(dicker_data_fake)
    everything = call(dicker_data_fake, "GetTenant", {"SubscriptionType": "CSP"}, headers).json()["Out"]
    assert len(everything) == 8
    assert all(set(t) == TENANT_KEYS for t in everything)
    one = call(
        dicker_data_fake, "GetTenant", {"SubscriptionType": "CSP", "TenantID": CONTOSO.upper()}, headers
    )
    assert [t["CompanyName"] for t in one.json()["Out"]] == ["Contoso Pty Ltd"]
    none = call(dicker_data_fake, "GetTenant", {"SubscriptionType": "CSP", "TenantID": "nope"}, headers)
    assert none.json() == {"Out": []}


def test_other_subscription_types_answer_empty(dicker_data_fake):
    headers = headers_for(dicker_data_fake)
    for op in ("GetTenant", "GetSubscriptionDetails"):
        assert call(dicker_data_fake, op, {"SubscriptionType": "AZURE"}, headers).json() == {"Out": []}


@pytest.mark.parametrize(
    ("empty_out", "empty"), [("list", {"Out": []}), ("null", {"Out": None}), ("missing", {})]
)
def test_empty_out_shapes_answers_with_no_rows(empty_out, empty):
    tenants, subscriptions = sample_dicker_data()
    with DickerDataFake(tenants=tenants, subscriptions=subscriptions, empty_out=empty_out) as fake:
        headers = headers_for(fake)
        nobody = {"SubscriptionType": "CSP", "TenantID": "nope"}
        for op in ("GetTenant", "GetSubscriptionDetails"):
            resp = call(fake, op, nobody, headers)
            assert resp.status_code == 200
            assert resp.json() == empty
            assert call(fake, op, {"SubscriptionType": "AZURE"}, headers).json() == empty
        rows = call(fake, "GetSubscriptionDetails", {"SubscriptionType": "CSP", "TenantID": CONTOSO}, headers)
        assert rows.json()["Out"]  # answers with rows keep their list
        fake.subscriptions = []
        assert call(fake, "GetSubscriptionDetails", {"SubscriptionType": "CSP"}, headers).json() == empty


def test_empty_out_is_validated():
    with pytest.raises(ValueError, match="empty_out"):
        DickerDataFake(empty_out="nothing")  # type: ignore[arg-type]


@pytest.mark.parametrize("op", ["GetTenant", "GetSubscriptionDetails"])
def test_missing_in_is_400(dicker_data_fake, op):
    resp = call(dicker_data_fake, op, None, headers_for(dicker_data_fake))
    assert resp.status_code == 400
    body = resp.json()
    assert body["Status"] == "ERROR"
    assert "In" in body["ErrorDescription"]


def test_subscription_details_filter_by_tenant_subscription_or_both(dicker_data_fake):
    headers = headers_for(dicker_data_fake)

    def out(**inner: str) -> Any:
        return call(
            dicker_data_fake, "GetSubscriptionDetails", {"SubscriptionType": "CSP", **inner}, headers
        ).json()["Out"]

    assert len(out()) == 27  # the sample world: 25, and two of Smith & Jones for billing (issue 27)
    contoso = out(TenantID=CONTOSO)
    assert len(contoso) == 5
    assert {s["TenantId"] for s in contoso} == {CONTOSO}
    assert all(set(s) == SUBSCRIPTION_KEYS for s in contoso)
    target = subscription_guid("contoso", 1)
    assert [s["SubscriptionId"] for s in out(SubscriptionId=target)] == [target]
    assert [s["SubscriptionId"] for s in out(TenantID=CONTOSO, SubscriptionId=target)] == [target]
    assert out(TenantID=tenant_guid("fabrikam"), SubscriptionId=target) == []


def test_records_are_returned_as_stored(dicker_data_fake):
    record = dicker_data_fake.subscription(subscription_guid("contoso", 0))
    record["SomethingNew"] = {"nested": [1, 2]}
    del record["Serials"]
    headers = headers_for(dicker_data_fake)
    inner = {"SubscriptionType": "CSP", "SubscriptionId": record["SubscriptionId"]}
    assert call(dicker_data_fake, "GetSubscriptionDetails", inner, headers).json()["Out"] == [record]


def test_helpers_change_what_is_served(dicker_data_fake):
    fake = dicker_data_fake
    headers = headers_for(fake)
    first, second = subscription_guid("contoso", 0), subscription_guid("contoso", 2)
    fake.set_quantity(first, 99)
    fake.set_status(first, "SUSPENDED")
    fake.remove_subscription(second)
    tenant = fake.add_tenant({"TenantId": "11111111-1111-1111-1111-111111111111", "CompanyName": "New Co"})
    fake.add_subscription({"TenantId": tenant["TenantId"], "SubscriptionId": "s-new", "Status": "ACTIVE"})

    def subs(tenant_id: str) -> Any:
        inner = {"SubscriptionType": "CSP", "TenantID": tenant_id}
        return call(fake, "GetSubscriptionDetails", inner, headers).json()["Out"]

    contoso = {s["SubscriptionId"]: s for s in subs(CONTOSO)}
    assert contoso[first]["ConfirmedQuantity"] == 99
    assert contoso[first]["Status"] == "SUSPENDED"
    assert second not in contoso
    assert [s["SubscriptionId"] for s in subs(tenant["TenantId"])] == ["s-new"]
    with pytest.raises(KeyError):
        fake.set_quantity("missing", 1)


def test_direct_list_edits_are_served_and_reindex_picks_up_key_edits(dicker_data_fake):
    fake = dicker_data_fake
    headers = headers_for(fake)
    inner = {"SubscriptionType": "CSP", "TenantID": CONTOSO}
    fake.subscriptions.append({"TenantId": CONTOSO, "SubscriptionId": "appended"})
    assert "appended" in [
        s["SubscriptionId"] for s in call(fake, "GetSubscriptionDetails", inner, headers).json()["Out"]
    ]
    moved = fake.subscription(subscription_guid("fabrikam", 0))
    moved["TenantId"] = CONTOSO
    fake.reindex()
    ids = [s["SubscriptionId"] for s in call(fake, "GetSubscriptionDetails", inner, headers).json()["Out"]]
    assert moved["SubscriptionId"] in ids
    fake.subscriptions = []
    assert call(fake, "GetSubscriptionDetails", inner, headers).json() == {"Out": []}


def test_unknown_path_is_an_html_404(dicker_data_fake):
    resp = requests.post(dicker_data_fake.root_url + "/v2/Subscriptions/GetTenant", json={}, timeout=5)
    assert resp.status_code == 404
    assert resp.headers["Content-Type"].startswith("text/html")
    assert "<html" in resp.text


def test_wrong_method_is_405(dicker_data_fake):
    resp = requests.get(dicker_data_fake.base_url + "Subscriptions/GetTenant", timeout=5)
    assert resp.status_code == 405


# -- server plumbing shared by both fakes ----------------------------------------------------


def test_base_url_port_and_stop():
    fake = DickerDataFake().start()
    url = fake.base_url
    try:
        assert url == f"http://127.0.0.1:{fake.port}/api/"
        assert request_key(fake).status_code == 200
    finally:
        fake.stop()
    with pytest.raises(requests.ConnectionError):
        requests.post(url + "AccessKeyRequest", json={}, timeout=1)
    with pytest.raises(RuntimeError):
        _ = fake.base_url


def test_stop_cuts_keep_alive_connections():
    fake = DickerDataFake().start()
    url = fake.base_url + "AccessKeyRequest"
    with requests.Session() as session:
        assert session.post(url, json={}, timeout=5).status_code == 400
        fake.stop()
        with pytest.raises(requests.ConnectionError):
            session.post(url, json={}, timeout=1)


def test_calls_requests_and_reset(dicker_data_fake):
    headers = headers_for(dicker_data_fake)
    call(dicker_data_fake, "GetTenant", {"SubscriptionType": "CSP"}, headers, params={"x": "1"})
    assert dicker_data_fake.calls == {
        "POST /api/AccessKeyRequest": 1,
        "POST /api/Subscriptions/GetTenant": 1,
    }
    method, path, query, body = dicker_data_fake.requests[-1]
    assert (method, path, query) == ("POST", "/api/Subscriptions/GetTenant", {"x": "1"})
    assert body == {"In": {"SubscriptionType": "CSP"}}
    assert dicker_data_fake.request_headers[-1]["DD-TransactionID"] == "tx-2"
    dicker_data_fake.reset_calls()
    assert not dicker_data_fake.calls
    assert not dicker_data_fake.requests
    assert dicker_data_fake.key_requests == 0
    assert dicker_data_fake.keys  # granted keys survive


def test_scripted_401_looks_like_an_expired_key(dicker_data_fake):
    dicker_data_fake.fail_next(1, 401, data_only=True)
    resp = call(dicker_data_fake, "GetTenant", {"SubscriptionType": "CSP"}, headers_for(dicker_data_fake))
    assert resp.status_code == 401
    assert resp.json()["Message"] == "Access key is invalid or has expired"


def test_fail_next_scripts_html_and_invalid_json_then_recovers(dicker_data_fake):
    fake = dicker_data_fake
    fake.fail_next(1, 502, body="<html><body>Bad Gateway</body></html>", content_type="text/html")
    fake.fail_next(1, 200, body='{"Out": [', content_type="application/json")
    first, second, third = (request_key(fake) for _ in range(3))
    assert first.status_code == 502
    assert first.headers["Content-Type"] == "text/html"
    assert "Bad Gateway" in first.text
    assert second.status_code == 200
    with pytest.raises(requests.JSONDecodeError):
        second.json()
    assert third.json()["Status"] == "GRANTED"
    assert fake.calls["POST /api/AccessKeyRequest"] == 3


def test_fail_next_default_body_headers_and_count(dicker_data_fake):
    fake = dicker_data_fake
    fake.fail_next(2, 429)
    fake.fail_next(1, 503, body={"Status": "ERROR", "Message": "down"}, headers={"X-Test": "1"})
    statuses = [request_key(fake) for _ in range(4)]
    assert [r.status_code for r in statuses] == [429, 429, 503, 200]
    assert statuses[0].headers["Retry-After"] == "1"
    assert statuses[0].json()["Status"] == "ERROR"
    assert statuses[2].json() == {"Status": "ERROR", "Message": "down"}
    assert statuses[2].headers["X-Test"] == "1"
    assert fake.throttled == 2


def test_faults_can_target_data_calls_only(dicker_data_fake):
    fake = dicker_data_fake
    fake.fail_next(1, 500, data_only=True)
    fake.fail_next(1, 503, paths=["/api/Subscriptions/GetSubscriptionDetails"])
    headers = headers_for(fake)  # the auth call is not hit
    assert call(fake, "GetSubscriptionDetails", {"SubscriptionType": "CSP"}, headers).status_code == 500
    assert call(fake, "GetTenant", {"SubscriptionType": "CSP"}, headers).status_code == 200
    assert call(fake, "GetSubscriptionDetails", {"SubscriptionType": "CSP"}, headers).status_code == 503
    fake.fail_next(1, 500)
    fake.clear_faults()
    assert call(fake, "GetTenant", {"SubscriptionType": "CSP"}, headers).status_code == 200


def test_hang_next_makes_the_client_time_out(dicker_data_fake):
    fake = dicker_data_fake
    fake.hang_next(1, 5.0)
    started = time.monotonic()
    with pytest.raises(requests.Timeout):
        requests.post(fake.base_url + "AccessKeyRequest", json={}, timeout=0.2)
    assert time.monotonic() - started < 2
    assert request_key(fake).status_code == 200  # only one request hangs


def test_hang_applies_the_request_unless_told_not_to(dicker_data_fake):
    fake = dicker_data_fake
    body = {"AccessToken": "dd-test-token", "AccountCode": "ACME01", "TransactionID": "t"}
    fake.hang_next(1, 5.0)
    with pytest.raises(requests.Timeout):
        requests.post(fake.base_url + "AccessKeyRequest", json=body, timeout=0.2)
    assert len(fake.keys) == 1  # handled: the key was granted, only the answer was late
    fake.hang_next(1, 0.1, saves="never")
    with pytest.raises(requests.ConnectionError):
        requests.post(fake.base_url + "AccessKeyRequest", json=body, timeout=2)
    assert len(fake.keys) == 1  # dropped: never handled


def test_latency_delays_every_request(dicker_data_fake):
    dicker_data_fake.latency = 0.15
    started = time.monotonic()
    request_key(dicker_data_fake)
    assert time.monotonic() - started >= 0.15


def _statuses(seed: int, n: int = 30) -> list[int]:
    with DickerDataFake(seed=seed) as fake:
        fake.error_rate_5xx = 0.3
        fake.error_rate_429 = 0.2
        return [requests.get(fake.base_url + "nope", timeout=5).status_code for _ in range(n)]


def test_random_faults_are_deterministic_for_a_seed():
    first = _statuses(7)
    assert first == _statuses(7)
    assert {404, 429, 500} <= set(first)
    assert first != _statuses(8)


def test_random_faults_respect_fault_paths(dicker_data_fake):
    fake = dicker_data_fake
    fake.error_rate_5xx = 1.0
    fake.fault_paths = fake.data_paths
    assert request_key(fake).status_code == 200
    headers = headers_for(fake)
    assert call(fake, "GetTenant", {"SubscriptionType": "CSP"}, headers).status_code == 500


# -- sample data -----------------------------------------------------------------------------


def test_sample_world_covers_the_mapping_cases():
    tenants, subscriptions = sample_dicker_data()
    assert (tenants, subscriptions) == sample_dicker_data()  # deterministic
    names = [t["CompanyName"] or t["TenantDescription"] for t in tenants]
    assert "  NORTHWIND Traders " in names
    assert "Tailspin Toys Pty Ltd" in names
    assert "Smith & Jones Accounting" in names
    assert [t["CompanyName"] for t in tenants if t["TenantId"] == ""] == ["Blue Yonder Airlines"]
    per_tenant: dict[str, int] = {}
    for sub in subscriptions:
        per_tenant[sub["TenantId"]] = per_tenant.get(sub["TenantId"], 0) + 1
        assert set(sub) == SUBSCRIPTION_KEYS
        assert len(sub["SubscriptionReference"]) <= 30
    assert len(per_tenant) == 7
    assert all(3 <= n <= 6 for n in per_tenant.values())
    assert {"ACTIVE", "SUSPENDED", "CANCELLED"} <= {s["Status"] for s in subscriptions}
    assert {"Monthly", "Annual"} == {s["BillingFrequency"] for s in subscriptions}
    ids = {s["SubscriptionId"] for s in subscriptions}
    addons = [s for s in subscriptions if s["ParentSubscriptionId"]]
    assert addons
    assert all(a["ParentSubscriptionId"] in ids for a in addons)


def test_generated_data_is_fast_deterministic_and_consistent():
    started = time.monotonic()
    tenants, subscriptions = generate_dicker_data(5000, 10, seed=3)
    assert time.monotonic() - started < 3
    assert len(tenants) == 5000
    assert len(subscriptions) == 50_000
    assert len({t["CompanyName"] for t in tenants}) == 5000
    assert generate_dicker_data(20, 3, seed=3) == generate_dicker_data(20, 3, seed=3)
    tenant_ids = {t["TenantId"] for t in tenants}
    assert all(s["TenantId"] in tenant_ids for s in subscriptions)
    assert any(s["ParentSubscriptionId"] for s in subscriptions)


def test_lookups_stay_fast_at_scale():
    tenants, subscriptions = generate_dicker_data(2000, 10)
    with DickerDataFake(tenants=tenants, subscriptions=subscriptions) as fake, requests.Session() as session:
        session.headers.update(headers_for(fake))
        started = time.monotonic()
        for tenant in tenants[:200]:
            inner = {"SubscriptionType": "CSP", "TenantID": tenant["TenantId"]}
            out = session.post(
                fake.base_url + "Subscriptions/GetSubscriptionDetails", json={"In": inner}, timeout=5
            )
            assert len(out.json()["Out"]) == 10
        assert time.monotonic() - started < 3


def test_expiring_keys_by_age_keeps_the_young_ones(dicker_data_fake):
    old = headers_for(dicker_data_fake)
    time.sleep(0.3)
    young = headers_for(dicker_data_fake)
    dicker_data_fake.expire_keys(older_than=0.2)
    assert call(dicker_data_fake, "GetTenant", {"SubscriptionType": "CSP"}, old).status_code == 401
    assert call(dicker_data_fake, "GetTenant", {"SubscriptionType": "CSP"}, young).status_code == 200
