import pytest

from ddhalo.dicker_data.client import DickerDataClient
from ddhalo.errors import AuthenticationError, UnreachableError, UpstreamError
from ddhalo.http.credential import TokenCache
from ddhalo.http.retry import RetryPolicy
from ddhalo.http.transport import Transport

TENANTS = "POST /api/Subscriptions/GetTenant"
KEYS = "POST /api/AccessKeyRequest"


def test_tenants_are_read_and_the_key_is_cached(dd_client, dicker_data_fake):
    first = dd_client.get_tenants()
    second = dd_client.get_tenants()
    assert len(first.items) == len(dicker_data_fake.tenants) == len(second.items)
    assert first.invalid == []
    assert dicker_data_fake.calls[KEYS] == 1
    assert dicker_data_fake.calls[TENANTS] == 2
    assert any(not t.has_csp_tenant for t in first.items)


def test_subscriptions_can_be_narrowed_to_one_tenant(dd_client, dicker_data_fake):
    tenant_id = next(s["TenantId"] for s in dicker_data_fake.subscriptions)
    subs = dd_client.get_subscriptions(tenant_id=tenant_id).items
    expected = [s["SubscriptionId"] for s in dicker_data_fake.subscriptions if s["TenantId"] == tenant_id]
    assert sorted(s.subscription_id for s in subs) == sorted(expected)
    assert all(s.msc.product_id for s in subs)


def test_an_expired_key_is_replaced_once(dd_client, dicker_data_fake):
    dd_client.get_tenants()
    dicker_data_fake.expire_keys()
    assert dd_client.get_tenants().items
    assert dicker_data_fake.calls[KEYS] == 2


def test_clients_sharing_a_key_cache_ask_for_one_key_and_drop_a_refused_one(dicker_data_fake):
    keys = TokenCache()

    def client(token: str = dicker_data_fake.access_token) -> DickerDataClient:
        transport = Transport(dicker_data_fake.base_url, system="Dicker Data")
        return DickerDataClient(
            transport, account_code=dicker_data_fake.account_code, access_token=token, keys=keys
        )

    first, second = client(), client()
    first.get_tenants()
    second.get_tenants()
    assert dicker_data_fake.calls[KEYS] == 1
    dicker_data_fake.expire_keys()
    first.get_tenants()  # refused, re-keyed: the new key is shared
    second.get_tenants()
    assert dicker_data_fake.calls[KEYS] == 2
    with pytest.raises(AuthenticationError):  # another token is not answered from the cache
        client("a-different-token").get_tenants()
    assert dicker_data_fake.calls[KEYS] == 3


@pytest.mark.parametrize("deny_style", ["status", "http401"])
def test_a_wrong_token_is_an_authentication_error_with_a_hint(dicker_data_fake, deny_style):
    dicker_data_fake.deny_style = deny_style
    transport = Transport(dicker_data_fake.base_url, system="Dicker Data")
    client = DickerDataClient(transport, account_code=dicker_data_fake.account_code, access_token="wrong")
    with pytest.raises(AuthenticationError) as caught:
        client.get_tenants()
    assert "account manager" in (caught.value.hint or "")
    assert "wrong" not in str(caught.value)


def test_5xx_is_retried_then_succeeds(dd_client, dicker_data_fake, sleeps):
    dicker_data_fake.fail_next(2, 503, body={"Status": "ERROR", "Message": "busy"})
    assert dd_client.get_tenants().items
    assert len(sleeps.calls) == 2


def test_html_error_page_is_described_not_dumped(dd_client, dicker_data_fake):
    dicker_data_fake.fail_next(
        4, 502, body="<html><title>Bad Gateway</title><body>...</body></html>", content_type="text/html"
    )
    with pytest.raises(UpstreamError) as caught:
        dd_client.get_tenants()
    assert "HTML page" in caught.value.message


def test_invalid_json_is_a_clear_error(dd_client, dicker_data_fake):
    dd_client.get_tenants()  # key first, so the scripted fault hits the data call
    dicker_data_fake.fail_next(1, 200, body="{not json", content_type="application/json")
    with pytest.raises(UpstreamError) as caught:
        dd_client.get_tenants()
    assert "not JSON" in caught.value.message


def test_wrong_base_url_is_a_404_with_a_region_hint(dicker_data_fake):
    transport = Transport(dicker_data_fake.base_url + "nope/", system="Dicker Data")
    client = DickerDataClient(
        transport, account_code=dicker_data_fake.account_code, access_token=dicker_data_fake.access_token
    )
    with pytest.raises(UpstreamError) as caught:
        client.get_tenants()
    assert caught.value.status_code == 404 and "region" in (caught.value.hint or "")


def test_unreachable_host(sleeps):
    transport = Transport(
        "http://127.0.0.1:9/api/", system="Dicker Data", retry=RetryPolicy(attempts=2), sleep=sleeps
    )
    client = DickerDataClient(transport, account_code="A", access_token="t")
    with pytest.raises(UnreachableError) as caught:
        client.get_tenants()
    assert "127.0.0.1:9" in caught.value.message


def test_hostile_rows_fail_alone(dd_client, dicker_data_fake):
    dicker_data_fake.add_subscription({"SubscriptionId": "", "Status": "ACTIVE"})
    dicker_data_fake.add_subscription({"SubscriptionId": "q", "ConfirmedQuantity": {"a": 1}})
    parsed = dd_client.get_subscriptions()
    assert len(parsed.items) == len(dicker_data_fake.subscriptions) - 2
    assert len(parsed.invalid) == 2


def test_a_row_nested_in_a_field_is_refused_not_stringified(dd_client, dicker_data_fake):
    """Rows become records while the answer is decoded; an object that looks like a row inside
    another row's field is still a JSON object there, and refused."""
    nested = {"SubscriptionId": "inner", "Status": "ACTIVE"}
    dicker_data_fake.add_subscription({"SubscriptionId": "outer", "StockDescription": nested})
    parsed = dd_client.get_subscriptions()
    (bad,) = parsed.invalid
    assert bad.ref == "outer" and "expected text" in bad.reason
    assert not [s for s in parsed.items if s.subscription_id in ("inner", "outer")]


def test_out_holding_one_row_is_that_row(dd_client, dicker_data_fake, monkeypatch):
    from local.fakes.http_messages import json_response

    row = dict(dicker_data_fake.subscriptions[0])
    real = dicker_data_fake.handle

    def one_row(request):
        if request.path.endswith("GetSubscriptionDetails"):
            return json_response(200, {"Out": row, "Status": "OK"})
        return real(request)

    monkeypatch.setattr(dicker_data_fake, "handle", one_row)
    parsed = dd_client.get_subscriptions()
    assert [s.subscription_id for s in parsed.items] == [row["SubscriptionId"]] and not parsed.invalid


@pytest.mark.parametrize("status", ["OK", "SUCCESS", None])
def test_a_key_answered_without_an_error_is_accepted_whatever_its_status(dicker_data_fake, sleeps, status):
    """Public clients disagree on Status: any key answered with no error body is a key."""
    dicker_data_fake.grant_status = status
    transport = Transport(dicker_data_fake.base_url, system="Dicker Data", sleep=sleeps)
    client = DickerDataClient(
        transport, account_code=dicker_data_fake.account_code, access_token=dicker_data_fake.access_token
    )
    assert client.get_tenants().items
    assert dicker_data_fake.key_requests == 1


def test_a_key_beside_an_error_is_refused(dd_client, dicker_data_fake):
    dicker_data_fake.fail_next(
        1,
        200,
        {"AccessKey": "looks-like-a-key", "Status": "DENIED", "Message": "Account suspended"},
        paths=["/api/AccessKeyRequest"],
    )
    with pytest.raises(AuthenticationError) as caught:
        dd_client.get_tenants()
    assert "Account suspended" in caught.value.message


@pytest.mark.parametrize("shape", ["null", "missing"])
def test_out_null_or_missing_without_an_error_is_no_rows(dd_client, dicker_data_fake, shape):
    dicker_data_fake.empty_out = shape
    dicker_data_fake.subscriptions = []
    dicker_data_fake.tenants = []
    assert dd_client.get_subscriptions().items == []
    assert dd_client.get_tenants().items == []


def test_out_null_with_an_error_status_is_an_error(dd_client, dicker_data_fake):
    dicker_data_fake.fail_next(
        1, 200, {"Out": None, "Status": "ERROR", "Message": "SQL timeout"}, data_only=True
    )
    with pytest.raises(UpstreamError) as caught:
        dd_client.get_subscriptions()
    assert "SQL timeout" in caught.value.message


def test_customer_names_come_from_subscription_rows(dd_client, dicker_data_fake):
    rows = dicker_data_fake.subscriptions
    first, second = (
        rows[0]["TenantId"],
        next(r["TenantId"] for r in rows if r["TenantId"] != rows[0]["TenantId"]),
    )
    for row in rows:
        if row["TenantId"] == second:
            row["CompanyName"] = ""
            row["TenantDescription"] = "From Description"
    dicker_data_fake.reset_calls()
    names = dd_client.customer_names([first, second])
    assert names == {first: rows[0]["CompanyName"], second: "From Description"}
    assert dicker_data_fake.calls["POST /api/Subscriptions/GetSubscriptionDetails"] == 2  # one per customer
    dicker_data_fake.reset_calls()
    assert dd_client.customer_names([first, second], per_tenant_below=2) == names
    assert dicker_data_fake.calls["POST /api/Subscriptions/GetSubscriptionDetails"] == 1  # one for all


@pytest.mark.parametrize(
    "body",
    ["<html><head><title>401 Unauthorized</title></head></html>", "", "Unauthorized"],
    ids=["html", "empty", "text"],
)
def test_a_refusal_that_is_not_dicker_datas_api_does_not_blame_the_token(dd_client, dicker_data_fake, body):
    """A wrong address (a proxy, a metadata service) answering 401 is not Dicker Data refusing the
    token: the message says what answered, and to check the address."""
    dicker_data_fake.fail_next(1, 401, body=body, content_type="text/html", paths=["/api/AccessKeyRequest"])
    with pytest.raises(UpstreamError) as refused:
        dd_client.get_tenants()
    assert not isinstance(refused.value, AuthenticationError)
    assert "refused the access token" not in refused.value.message
    assert "not an answer of Dicker Data's API" in refused.value.message
    assert "dicker_data_base_url" in (refused.value.hint or "")


def test_dicker_datas_own_refusal_blames_the_token(dd_client, dicker_data_fake):
    dicker_data_fake.deny_style = "http401"
    dicker_data_fake.access_token = "another-token"
    with pytest.raises(AuthenticationError) as refused:
        dd_client.get_tenants()
    assert (
        "refused the access token" in refused.value.message
        and refused.value.code == "dicker_data_auth_failed"
    )
