import pytest

from ddhalo.errors import AuthenticationError, PermissionDeniedError, ThrottledError
from ddhalo.http import RateLimiter, RetryPolicy, TokenCache


def test_lists_are_paged_until_the_last_record(make_halo, halo_fake):
    for i in range(25):
        halo_fake.add_client(f"Paged client {i:02}")
    client = make_halo(page_size=10)
    records = client.clients()
    assert len(records) == len(halo_fake.clients)
    assert len({r["id"] for r in records}) == len(records)
    assert halo_fake.calls["GET /api/Client"] == -(-len(halo_fake.clients) // 10)


def test_inactive_records_and_azure_tenants_are_included(halo_client, halo_fake):
    client = halo_fake.add_client("Dormant", inactive=True)
    records = {r["id"]: r for r in halo_client.clients()}
    assert client["id"] in records
    assert all("azure_tenants" in r for r in records.values())


@pytest.mark.parametrize("style", ["keyed", "bare"])
def test_top_levels_are_read_keyed_or_bare(halo_client, halo_fake, style):
    halo_fake.toplevel_style = style
    assert {t["id"] for t in halo_client.top_levels()} == set(halo_fake.toplevels)


def test_token_is_reused_and_renewed_once_on_401(halo_client, halo_fake):
    halo_client.clients()
    halo_client.sites()
    assert halo_fake.token_requests == 1
    halo_fake.expire_tokens()
    halo_client.clients()
    assert halo_fake.token_requests == 2


def test_clients_sharing_a_token_cache_ask_for_one_token(make_halo, halo_fake):
    tokens = TokenCache()
    make_halo(tokens=tokens).clients()
    make_halo(tokens=tokens).sites()
    assert halo_fake.token_requests == 1
    make_halo().clients()  # its own cache: a token of its own
    assert halo_fake.token_requests == 2


def test_a_changed_secret_is_not_answered_from_the_token_cache(make_halo, halo_fake):
    tokens = TokenCache()
    make_halo(tokens=tokens).clients()
    with pytest.raises(AuthenticationError):
        make_halo(tokens=tokens, client_secret="rotated-but-wrong").clients()
    assert halo_fake.token_requests == 2


def test_a_refused_shared_token_is_dropped_for_every_client(make_halo, halo_fake):
    tokens = TokenCache()
    first, second = make_halo(tokens=tokens), make_halo(tokens=tokens)
    first.clients()
    halo_fake.expire_tokens()
    first.clients()  # 401, a new token for the cache
    second.clients()  # uses the new token: no 401, no third token
    assert halo_fake.token_requests == 2
    assert halo_fake.calls["GET /api/Client"] == 3 + 1  # one refused, three answered


def test_429_honours_retry_after(halo_client, halo_fake, sleeps):
    halo_fake.fail_next(2, 429, body={"Message": "slow down"}, headers={"Retry-After": "3"})
    halo_client.clients()
    assert len(sleeps.calls) == 2 and all(3 <= s <= 3.25 for s in sleeps.calls)


def test_429_storm_becomes_a_throttled_error(make_halo, halo_fake):
    client = make_halo(retry=RetryPolicy(attempts=3, base_delay=0))
    halo_fake.fail_next(50, 429, body={"Message": "slow down"}, headers={"Retry-After": "1"})
    with pytest.raises(ThrottledError):
        client.clients()


def test_rate_limit_of_the_fake_is_respected_by_pacing(make_halo, halo_fake):
    halo_fake.rate_limit, halo_fake.rate_window = 5, 1.0
    client = make_halo(limiter=RateLimiter(5, window=1.05), page_size=1)
    for i in range(8):
        halo_fake.add_toplevel(f"T{i}")
    client.top_levels()
    assert halo_fake.throttled == 0


def test_bad_credentials_and_missing_scope_say_what_to_do(make_halo, halo_fake):
    with pytest.raises(AuthenticationError) as caught:
        make_halo(client_secret="wrong").clients()
    assert "client id and secret" in (caught.value.hint or "")
    assert "wrong" not in str(caught.value)

    with pytest.raises(PermissionDeniedError) as denied:
        make_halo(scope="edit:everything").clients()
    assert "permission" in (denied.value.hint or "")


def test_api_403_is_a_permission_error(make_halo, halo_fake):
    halo_fake.scopes = ("read:customers",)
    client = make_halo(scope="read:customers")
    assert client.clients()
    with pytest.raises(PermissionDeniedError):
        client.licences()


def test_writes_are_batched_and_creates_get_ids(make_halo, halo_fake):
    client = make_halo(write_batch=10)
    result = client.save("Client", [{"name": f"New {i}"} for i in range(25)])
    assert all(result.saved) and not any(result.errors)
    assert halo_fake.calls["POST /api/Client"] == 3
    assert len({r["id"] for r in result.saved if r}) == 25


def test_single_record_answer_may_be_an_object(halo_client, halo_fake):
    halo_fake.single_post_returns_object = True
    result = halo_client.save("Client", [{"name": "Solo"}])
    assert result.saved[0] and result.saved[0]["name"] == "Solo"


def test_a_rejected_record_fails_alone(make_halo, halo_fake):
    client = make_halo(write_batch=50)
    records = [{"name": f"Good {i}"} for i in range(7)]
    records.insert(3, {"name": ""})
    result = client.save("Client", records)
    assert [e is not None for e in result.errors] == [False, False, False, True, False, False, False, False]
    assert sum(1 for c in halo_fake.clients.values() if c["name"].startswith("Good")) == 7


def test_ambiguous_failure_on_create_is_not_retried(make_halo, halo_fake, sleeps):
    client = make_halo()
    halo_fake.fail_next(1, 500, body={"Message": "boom"}, paths=["/api/Client"])
    result = client.save("Client", [{"name": "Maybe"}])
    assert result.errors[0] is not None and result.saved == [None]
    assert halo_fake.calls["POST /api/Client"] == 1


def test_updates_are_retried_after_a_500(make_halo, halo_fake):
    existing = halo_fake.add_client("Exists")
    client = make_halo()
    halo_fake.fail_next(1, 500, body={"Message": "boom"}, paths=["/api/Client"])
    result = client.save("Client", [{"id": existing["id"], "website": "https://x.example"}])
    assert result.errors == [None]
    assert halo_fake.clients[existing["id"]]["website"] == "https://x.example"
