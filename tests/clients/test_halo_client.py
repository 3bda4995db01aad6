import pytest

from ddhalo.deadline import Deadline
from ddhalo.errors import (
    AuthenticationError,
    OutOfTimeError,
    PermissionDeniedError,
    ThrottledError,
    UnreachableError,
)
from ddhalo.http.credential import TokenCache
from ddhalo.http.pacing import RateLimiter
from ddhalo.http.retry import RetryPolicy


def test_lists_are_paged_until_the_last_record(make_halo, halo_fake):
    for i in range(25):
        halo_fake.add_client(f"Paged client {i:02}")
    client = make_halo(page_size=10)
    records = client.clients()
    assert len(records) == len(halo_fake.clients)
    assert len({r.id for r in records}) == len(records)
    assert halo_fake.calls["GET /api/Client"] == -(-len(halo_fake.clients) // 10)


def test_a_page_shorter_than_asked_is_not_taken_as_the_last(make_halo, halo_fake):
    """Halo caps pages at 100 whatever page_size asks: read on until record_count is reached."""
    for i in range(260):
        halo_fake.add_client(f"Capped client {i:03}")
    client = make_halo(page_size=1000)
    records = client.clients()
    assert len(records) == len(halo_fake.clients) > 260
    assert len({r.id for r in records}) == len(records)
    assert halo_fake.calls["GET /api/Client"] == -(-len(halo_fake.clients) // 100)


def test_lists_ask_for_what_halo_serves(halo_client, halo_fake):
    halo_client.licences()
    (request,) = [r for r in halo_fake.requests if r.path == "/api/SoftwareLicence"]
    assert request.query["page_size"] == "100" and request.query["pageinate"] == "true"


def test_a_list_that_ignores_paging_is_read_once(halo_client, halo_fake, monkeypatch):
    """A server answering the same records on every page (no record_count) ends the read."""
    from local.fakes.http_messages import json_response

    real = halo_fake._list

    def every_record_on_every_page(entity, request):
        if entity.name != "Client":
            return real(entity, request)
        return json_response(200, list(halo_fake.clients.values()))

    monkeypatch.setattr(halo_fake, "_list", every_record_on_every_page)
    first = halo_client.clients()
    request_pages = [r.query["page_no"] for r in halo_fake.requests if r.path == "/api/Client"]
    assert len({c.id for c in first}) == len(first) == len(halo_fake.clients)
    assert request_pages == ["1", "2"]


def test_inactive_records_and_azure_tenants_are_included(halo_client, halo_fake):
    client = halo_fake.add_client("Dormant", inactive=True)
    records = {r.id: r for r in halo_client.clients()}
    assert client["id"] in records
    assert all(r.tenant_links is not None for r in records.values())  # asked for, so shown


@pytest.mark.parametrize("style", ["keyed", "bare"])
def test_top_levels_are_read_keyed_or_bare(halo_client, halo_fake, style):
    halo_fake.toplevel_style = style
    assert halo_client.top_level_ids() == set(halo_fake.toplevels)


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


def test_429_storm_becomes_a_throttled_error_once_patience_runs_out(make_halo, halo_fake, sleeps):
    client = make_halo(retry=RetryPolicy(attempts=3, base_delay=0, throttle_patience=10))
    halo_fake.fail_next(50, 429, body={"Message": "slow down"}, headers={"Retry-After": "1"})
    with pytest.raises(ThrottledError) as caught:
        client.clients()
    assert not isinstance(caught.value, OutOfTimeError)
    assert 8 <= len(sleeps.calls) <= 10 and sum(sleeps.calls) <= 10  # 429s are not bound by attempts=3
    assert "shared with every other integration" in (caught.value.hint or "")


def test_429_without_retry_after_waits_for_the_rolling_window_to_free(make_halo, halo_fake, sleeps):
    """Hosted Halo sends no Retry-After: waits grow from window/30 to window/5, for minutes if needed."""
    client = make_halo(retry=RetryPolicy(attempts=3))  # Halo's 300-second window, 10 minutes' patience
    halo_fake.fail_next(8, 429, body={"Message": "Rate limit exceeded"}, headers={})
    assert client.clients()
    steps = [10, 20, 40, 60, 60, 60, 60, 60]
    assert len(sleeps.calls) == 8
    assert all(step / 2 <= slept <= step for slept, step in zip(sleeps.calls, steps, strict=True))
    assert sum(sleeps.calls) > 180  # minutes, not the seconds a few short retries would give


def test_a_wait_that_would_outlast_the_invocation_hands_over_instead(make_halo, halo_fake, sleeps):
    clock = [0.0]
    client = make_halo(deadline=Deadline(at=32.0, clock=lambda: clock[0]))
    halo_fake.fail_next(5, 429, body={"Message": "Rate limit exceeded"}, headers={}, paths=["/api/Client"])

    def sleep(seconds: float) -> None:
        sleeps(seconds)
        clock[0] += seconds

    client.transport.sleep = sleep
    with pytest.raises(OutOfTimeError):
        client.clients()
    # Waited 10 then 20 (at most), refused to wait the next 40 with less than that left.
    assert len(sleeps.calls) == 2
    assert halo_fake.calls["GET /api/Client"] == 3


def test_rate_limit_of_the_fake_is_respected_by_pacing(make_halo, halo_fake):
    halo_fake.rate_limit, halo_fake.rate_window = 5, 1.0
    client = make_halo(limiter=RateLimiter(5, window=1.05), page_size=1)
    for i in range(8):
        halo_fake.add_toplevel(f"T{i}")
    client.top_level_ids()
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


def test_a_create_that_never_left_is_retried_and_named_unreachable(make_halo, sleeps):
    """DNS failures and refused connections never reach Halo: safe to retry, and said plainly."""
    for url, why in (
        ("http://halo.unresolvable.example/api", "host name could not be resolved"),
        ("http://127.0.0.1:9/api", "connection was refused"),
    ):
        sleeps.calls.clear()
        client = make_halo()
        client.transport.base_url = url + "/"
        with pytest.raises(UnreachableError) as caught:
            client.transport.send("POST", "Client", json=[{"name": "New"}], retry_ambiguous=False)
        assert why in caught.value.message
        assert "may or may not" not in caught.value.message
        assert len(sleeps.calls) == 3  # attempts=4: retried like any request that never left


def test_updates_are_retried_after_a_500(make_halo, halo_fake):
    existing = halo_fake.add_client("Exists")
    client = make_halo()
    halo_fake.fail_next(1, 500, body={"Message": "boom"}, paths=["/api/Client"])
    result = client.save("Client", [{"id": existing["id"], "website": "https://x.example"}])
    assert result.errors == [None]
    assert halo_fake.clients[existing["id"]]["website"] == "https://x.example"


def test_records_are_read_tolerantly_from_the_wire(halo_client, halo_fake):
    """Ids as text, a client_id as a double, links without an id: read as Halo means them."""
    client = halo_fake.add_client("Wire shapes")
    halo_fake.clients[client["id"]]["azure_tenants"] = [
        {"azure_tenant_id": " T-1 ", "azure_tenant_name": "A"}
    ]
    licence = halo_fake.add_licence(client["id"], "Licence")
    halo_fake.licences[licence["id"]]["notes"] = "Dicker Data subscription: sub 1 \nmore"
    (record,) = [c for c in halo_client.clients() if c.id == client["id"]]
    assert record.tenant_ids() == ["t-1"] and record.name == "Wire shapes"
    (found,) = halo_client.licences(client_id=client["id"])
    assert (found.id, found.client_id, found.marker) == (licence["id"], client["id"], "sub 1")
    assert halo_client.client(client["id"], with_links=True).tenant_links[0].name == "A"


# ---------------------------------------------------------------------------------- slow writes
def licences(n: int, client_id: int) -> list[dict]:
    return [{"client_id": client_id, "name": f"Slow {i}"} for i in range(n)]


def test_a_write_is_waited_for_longer_than_a_read(make_halo, halo_fake):
    """A batch Halo takes 1.5 s to save is answered: the read timeout (1 s) is not a write's."""
    client_id = next(iter(halo_fake.clients))
    halo = make_halo(timeout=(2.0, 1.0), write_timeout=4.0)
    halo_fake.hang_next(1, 1.5, paths=["/api/SoftwareLicence"], methods=["POST"], saves="late")
    result = halo.save("SoftwareLicence", licences(2, client_id))
    assert result.errors == [None, None] and all(r and r["id"] for r in result.saved)


def test_after_a_slow_batch_the_next_ones_are_halved(make_halo, halo_fake):
    client_id = next(iter(halo_fake.clients))
    halo = make_halo(write_batch=40, write_timeout=2.0)
    halo_fake.hang_next(1, 1.2, paths=["/api/SoftwareLicence"], methods=["POST"])  # over half the timeout
    halo.save("SoftwareLicence", licences(100, client_id))
    sizes = [
        len(r.body) for r in halo_fake.requests if r.path == "/api/SoftwareLicence" and r.method == "POST"
    ]
    assert sizes == [40, 20, 20, 20] and halo.write_batch == 20


def test_a_lost_batch_halves_the_next_but_never_below_ten(make_halo, halo_fake):
    client_id = next(iter(halo_fake.clients))
    halo = make_halo(write_batch=16, write_timeout=0.5)
    halo_fake.hang_next(2, 1.0, paths=["/api/SoftwareLicence"], methods=["POST"])
    result = halo.save("SoftwareLicence", licences(36, client_id))
    sizes = [
        len(r.body) for r in halo_fake.requests if r.path == "/api/SoftwareLicence" and r.method == "POST"
    ]
    assert sizes == [16, 10, 10] and halo.write_batch == 10
    assert [e is None for e in result.errors] == [False] * 26 + [True] * 10
    assert len(set(result.sent_at[:16])) == 1 and result.sent_at[16] > result.sent_at[0]


def test_settle_waits_out_the_window_since_the_send(make_halo, sleeps):
    now = 1000.0
    halo = make_halo(settle_seconds=300.0, write_timeout=120.0, clock=lambda: now)
    halo.settle(now - 100)
    halo.settle(now - 400)  # the window has passed already: no wait
    assert sleeps.calls == [200.0]


def test_settle_that_would_outlast_the_invocation_raises_out_of_time(make_halo, sleeps):
    now = 1000.0
    halo = make_halo(settle_seconds=300.0, clock=lambda: now, deadline=Deadline.within(60, reserve=0))
    with pytest.raises(OutOfTimeError):
        halo.settle(now - 10)
    assert sleeps.calls == []


def test_refused_credentials_stop_a_save_without_retrying_them_as_lost(make_halo, halo_fake):
    client_id = next(iter(halo_fake.clients))
    halo = make_halo(write_batch=10)
    halo.save("SoftwareLicence", licences(10, client_id))
    halo_fake.client_secret, halo_fake.tokens = "revoked", {}
    result = halo.save("SoftwareLicence", licences(30, client_id))
    assert isinstance(result.stopped, AuthenticationError) and result.stopped.code == "halo_auth_failed"
    assert result.unsent == [True] * 30 and result.errors == [None] * 30
    assert halo_fake.token_requests == 2  # the first, and one after the 401: not one per batch
