"""HaloFake through real HTTP: OAuth, scopes, rate limit, page cap, lists, filters, array writes
and the check of every API request against Halo's OpenAPI document."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from local.fakes import HaloFake
from local.fakes.halo import Token
from local.fakes.sample_data import generate_halo, sample_halo
from tests.fixtures.fakes import _fail_on_halo_violations


def get_token(fake: HaloFake, scope: str | None = "all", **overrides: str) -> requests.Response:
    form = {"grant_type": "client_credentials", "client_id": "halo-client", "client_secret": "halo-secret"}
    if scope is not None:
        form["scope"] = scope
    form.update(overrides)
    return requests.post(fake.auth_url + "/token", data=form, timeout=5)


def auth(fake: HaloFake, scope: str = "all") -> dict[str, str]:
    return {"Authorization": "Bearer " + get_token(fake, scope).json()["access_token"]}


def get(fake: HaloFake, path: str, headers: dict[str, str] | None = None, **params: Any) -> requests.Response:
    return requests.get(f"{fake.api_url}/{path}", params=params, headers=headers or auth(fake), timeout=5)


def post(fake: HaloFake, path: str, body: Any, headers: dict[str, str] | None = None) -> requests.Response:
    return requests.post(f"{fake.api_url}/{path}", json=body, headers=headers or auth(fake), timeout=5)


def names(records: list[dict[str, Any]]) -> list[str]:
    return [r["name"] for r in records]


# -- auth ----------------------------------------------------------------------------------


def test_urls_and_authinfo_need_no_token(halo_fake):
    assert halo_fake.api_url == f"http://127.0.0.1:{halo_fake.port}/api"
    assert halo_fake.auth_url == f"http://127.0.0.1:{halo_fake.port}/auth"
    resp = requests.get(halo_fake.api_url + "/authinfo", timeout=5)
    assert resp.status_code == 200
    assert resp.json()["auth_url"] == halo_fake.auth_url


def test_client_credentials_grant(halo_fake):
    resp = get_token(halo_fake, "all")
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "all"
    assert body["access_token"] in halo_fake.tokens
    assert halo_fake.token_requests == 1
    assert halo_fake.requests[-1].body["grant_type"] == "client_credentials"


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"client_id": "other"}, "invalid_client"),
        ({"client_secret": "wrong"}, "invalid_client"),
        ({"scope": "write:customers"}, "invalid_scope"),
        ({"scope": "bogus"}, "invalid_scope"),
    ],
)
def test_token_errors(halo_fake, overrides, error):
    resp = get_token(halo_fake, **overrides)
    assert resp.status_code == 400
    assert resp.json()["error"] == error


def test_scope_must_be_within_the_allowed_scopes():
    with HaloFake(scopes=("read:customers", "edit:software")) as fake:
        assert get_token(fake, "edit:customers").json()["error"] == "invalid_scope"
        assert get_token(fake, "all").json()["error"] == "invalid_scope"
        ok = get_token(fake, "read:customers read:software")
        assert ok.status_code == 200
        assert ok.json()["scope"] == "read:customers read:software"
        assert get_token(fake, None).json()["scope"] == "read:customers edit:software"


def test_tenant_is_required_when_configured():
    with HaloFake(tenant="acme") as fake:
        form = {
            "grant_type": "client_credentials",
            "client_id": "halo-client",
            "client_secret": "halo-secret",
        }
        for params in ({}, {"tenant": "other"}):
            resp = requests.post(fake.auth_url + "/token", params=params, data=form, timeout=5)
            assert resp.status_code == 400
            assert resp.json() == {"error": "invalid_request", "error_description": "Unknown tenant"}
        ok = requests.post(fake.auth_url + "/token", params={"tenant": "acme"}, data=form, timeout=5)
        assert ok.status_code == 200


def test_api_calls_need_a_valid_token(halo_fake):
    for headers in ({"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}, {"X": "1"}):
        resp = get(halo_fake, "Client", headers)
        assert resp.status_code == 401
        assert resp.json() == {"Message": "Authorization has been denied for this request."}


def test_expire_tokens_and_ttl():
    with HaloFake(token_ttl=1) as fake:
        headers = auth(fake)
        assert get(fake, "Client", headers).status_code == 200
        fake.expire_tokens()
        assert get(fake, "Client", headers).status_code == 401
        headers = auth(fake)
        token = headers["Authorization"].split()[1]
        fake.tokens[token] = Token(time.time() - 0.01, fake.tokens[token].scopes)  # past its ttl
        assert get(fake, "Client", headers).status_code == 401


def test_scopes_limit_what_a_token_may_do(halo_fake):
    read_customers = auth(halo_fake, "read:customers")
    assert get(halo_fake, "Client", read_customers).status_code == 200
    assert get(halo_fake, "TopLevel", read_customers).status_code == 200
    denied = post(halo_fake, "Client", [{"name": "X"}], read_customers)
    assert denied.status_code == 403
    assert denied.headers["Content-Type"].startswith("text/plain")
    assert denied.text == "Insufficient scope to access this resource"
    assert get(halo_fake, "SoftwareLicence", read_customers).status_code == 403
    edit_software = auth(halo_fake, "edit:software")  # edit implies read
    assert get(halo_fake, "SoftwareLicence", edit_software).status_code == 200
    assert (
        post(halo_fake, "SoftwareLicence", [{"client_id": 1, "name": "L"}], edit_software).status_code == 200
    )
    assert get(halo_fake, "Site", edit_software).status_code == 403
    assert halo_fake.clients.get(11) is None


# -- rate limit ----------------------------------------------------------------------------


def test_rate_limit_answers_429_without_retry_after_and_frees_slots():
    with HaloFake(rate_limit=3, rate_window=0.5) as fake:
        headers = auth(fake)  # the token call does not count
        assert [get(fake, "Client", headers).status_code for _ in range(3)] == [200] * 3
        limited = get(fake, "Client", headers)
        assert limited.status_code == 429
        assert limited.json() == {"ClassName": "TooManyRequests", "Message": "Rate limit exceeded"}
        assert "Retry-After" not in limited.headers  # hosted Halo sends none to public clients
        assert fake.throttled == 1
        assert get_token(fake).status_code == 200  # auth is never throttled
        time.sleep(0.55)
        assert get(fake, "Client", headers).status_code == 200
        assert fake.violations == []


def test_retry_after_when_configured_counts_down_to_the_oldest_slot():
    with HaloFake(rate_limit=1, rate_window=300, retry_after=True) as fake:
        headers = auth(fake)
        get(fake, "Client", headers)
        retry_after = int(get(fake, "Client", headers).headers["Retry-After"])
        assert 295 <= retry_after <= 300


def test_saturate_fills_the_shared_window_for_a_while():
    with HaloFake() as fake:
        headers = auth(fake)
        fake.saturate(0.4)
        for path in ("Client", "Site", "SoftwareLicence", "authinfo"):
            resp = get(fake, path, headers)
            assert resp.status_code == 429
            assert resp.json() == {"ClassName": "TooManyRequests", "Message": "Rate limit exceeded"}
            assert "Retry-After" not in resp.headers
        assert post(fake, "Client", [{"name": "Late"}], headers).status_code == 429
        assert get_token(fake).status_code == 200  # the OAuth server is not throttled
        assert fake.throttled == 5
        assert fake.writes == 0
        time.sleep(0.45)
        assert get(fake, "Client", headers).status_code == 200
        assert fake.throttled == 5


def test_saturate_with_retry_after_and_saturate_zero_ends_it():
    with HaloFake(retry_after=True) as fake:
        headers = auth(fake)
        fake.saturate(120)
        resp = get(fake, "Client", headers)
        assert resp.status_code == 429
        assert 119 <= int(resp.headers["Retry-After"]) <= 120
        fake.saturate(0)
        assert get(fake, "Client", headers).status_code == 200
        assert fake.throttled == 1


def test_saturated_requests_take_no_slot_of_the_rolling_window():
    with HaloFake(rate_limit=2, rate_window=300) as fake:
        headers = auth(fake)
        fake.saturate(0.2)
        assert get(fake, "Client", headers).status_code == 429
        time.sleep(0.25)
        assert [get(fake, "Client", headers).status_code for _ in range(3)] == [200, 200, 429]


# -- lists ---------------------------------------------------------------------------------


def test_client_list_pages_and_counts(halo_fake):
    headers = auth(halo_fake)
    first = get(halo_fake, "Client", headers, pageinate="true", page_size=4, page_no=1).json()
    assert (first["page_no"], first["page_size"], first["record_count"]) == (1, 4, 9)
    assert [c["id"] for c in first["clients"]] == [1, 2, 3, 4]
    last = get(halo_fake, "Client", headers, pageinate="true", page_size=4, page_no=3).json()
    assert [c["id"] for c in last["clients"]] == [10]  # id 9 (Litware) is inactive
    beyond = get(halo_fake, "Client", headers, pageinate="true", page_size=4, page_no=9).json()
    assert beyond["clients"] == []
    assert beyond["record_count"] == 9
    default = get(halo_fake, "Client", headers, pageinate="true").json()
    assert default["page_size"] == 50
    unpaged = get(halo_fake, "Client", headers).json()
    assert unpaged["record_count"] == len(unpaged["clients"]) == 9


def test_pages_hold_at_most_100_records_whatever_page_size_asks():
    with HaloFake() as fake:
        generate_halo(fake, 717)
        headers = auth(fake)
        body = get(fake, "Client", headers, pageinate="true", page_size=1000).json()
        assert body["page_size"] == 100  # what each page really holds, not what was asked
        assert len(body["clients"]) == 100
        assert body["record_count"] == 717
        ids = [c["id"] for c in body["clients"]]
        assert ids == sorted(ids)
        read: list[int] = []
        for page_no in range(1, 10):
            page = get(fake, "Client", headers, pageinate="true", page_size=1000, page_no=page_no).json()
            assert page["record_count"] == 717
            read += [c["id"] for c in page["clients"]]
        assert len(read) == len(set(read)) == 717
        assert (
            len(get(fake, "Client", headers, pageinate="true", page_size=100, page_no=8).json()["clients"])
            == 17
        )
        small = get(fake, "Client", headers, pageinate="true", page_size=30).json()
        assert (small["page_size"], len(small["clients"])) == (30, 30)
        assert fake.violations == []


def test_max_page_size_can_be_raised():
    with HaloFake(max_page_size=1000) as fake:
        generate_halo(fake, 1100)
        body = get(fake, "Client", pageinate="true", page_size=5000).json()
        assert body["page_size"] == 1000
        assert len(body["clients"]) == 1000
        assert body["record_count"] == 1100
    with pytest.raises(ValueError, match="max_page_size"):
        HaloFake(max_page_size=0)


def test_records_are_sorted_by_id_even_when_inserted_out_of_order(halo_fake):
    halo_fake.clients[100] = {"id": 100, "name": "Zed", "inactive": False}
    halo_fake.clients[50] = {"id": 50, "name": "Mid", "inactive": False}
    ids = [c["id"] for c in get(halo_fake, "Client").json()["clients"]]
    assert ids == sorted(ids)
    assert ids[-2:] == [50, 100]


def test_client_filters(halo_fake):
    headers = auth(halo_fake)
    assert names(get(halo_fake, "Client", headers, search="adventure WORKS").json()["clients"]) == [
        "Adventure Works",
        "Adventure Works",
    ]
    projects = get(halo_fake, "Client", headers, toplevel_id=2).json()["clients"]
    assert {c["toplevel_name"] for c in projects} == {"Projects"}
    assert "Litware Inc" not in names(get(halo_fake, "Client", headers).json()["clients"])
    with_inactive = get(halo_fake, "Client", headers, includeinactive="true").json()
    assert with_inactive["record_count"] == 10


def test_the_fake_itself_refuses_a_malformed_integer_filter():
    with HaloFake(check_openapi=False) as fake:  # past the document check, the fake's own 400
        resp = get(fake, "Client", toplevel_id="x")
        assert resp.status_code == 400
        assert resp.json() == {"Message": "The request is invalid: toplevel_id='x'"}
        assert fake.violations == []


def test_azure_tenants_only_listed_on_request_but_always_on_get_by_id(halo_fake):
    headers = auth(halo_fake)
    created = post(
        halo_fake, "Client", [{"name": "Tenant Co", "azure_tenants": [{"azure_tenant_id": "t-1"}]}], headers
    )
    client_id = created.json()[0]["id"]
    listed = get(halo_fake, "Client", headers, search="Tenant Co").json()["clients"][0]
    assert "azure_tenants" not in listed
    listed = get(halo_fake, "Client", headers, search="Tenant Co", includeazuretenants="true").json()[
        "clients"
    ][0]
    assert listed["azure_tenants"][0]["azure_tenant_id"] == "t-1"
    one = get(halo_fake, f"Client/{client_id}", headers).json()
    assert one["azure_tenants"][0]["client_id"] == client_id
    assert one["azure_tenants"][0]["id"] >= 1


def test_get_by_id_and_404(halo_fake):
    headers = auth(halo_fake)
    assert get(halo_fake, "Client/1", headers).json()["name"] == "Contoso Pty Ltd"
    for path, entity in (
        ("Client/999", "Client"),
        ("Site/0", "Site"),
        ("SoftwareLicence/7", "SoftwareLicence"),
    ):
        resp = get(halo_fake, path, headers)
        assert resp.status_code == 404
        assert resp.json() == {"Message": f"{entity} not found"}


def test_a_non_numeric_id_is_404_past_the_document_check():
    with HaloFake(check_openapi=False) as fake:
        resp = get(fake, "Site/abc")
        assert resp.status_code == 404
        assert resp.json() == {"Message": "Site not found"}


def test_sites_filter_and_show_flat_address_lines(halo_fake):
    headers = auth(halo_fake)
    halo_fake.add_site(1, "Old Depot", inactive=True)
    sites = get(halo_fake, "Site", headers, client_id=1).json()
    assert sites["record_count"] == 1
    main = sites["sites"][0]
    assert main["id"] == halo_fake.clients[1]["main_site_id"]
    assert main["delivery_address"]["line2"] == "10 Old Harbour Rd"
    assert main["delivery_address_line2"] == "10 Old Harbour Rd"
    assert main["delivery_address_line5"] == "2000"
    assert get(halo_fake, "Site", headers, client_id=1, includeinactive="true").json()["record_count"] == 2
    assert "delivery_address_line1" not in get(halo_fake, f"Site/{main['id']}", headers).json()


def test_licence_filters(halo_fake):
    headers = auth(halo_fake)
    halo_fake.add_licence(2, "Business Basic", notes="dd:sub-1")
    halo_fake.add_licence(2, "Old thing", is_active=False)
    assert names(get(halo_fake, "SoftwareLicence", headers, client_id=2).json()["licences"]) == [
        "Business Basic"
    ]
    assert (
        get(halo_fake, "SoftwareLicence", headers, client_id=2, includeinactive="true").json()["record_count"]
        == 2
    )
    assert names(get(halo_fake, "SoftwareLicence", headers, search="DD:SUB-1").json()["licences"]) == [
        "Business Basic"
    ]
    assert names(get(halo_fake, "SoftwareLicence", headers, search="acrobat").json()["licences"]) == [
        "Adobe Acrobat Pro"
    ]


@pytest.mark.parametrize(("style", "keyed"), [("keyed", True), ("bare", False)])
def test_toplevel_list_styles(style, keyed):
    with HaloFake(toplevel_style=style) as fake:
        fake.add_toplevel("A")
        fake.add_toplevel("B")
        body = get(fake, "TopLevel").json()
        if keyed:
            assert body["record_count"] == 2
            assert names(body["tree"]) == ["A", "B"]
        else:
            assert names(body) == ["A", "B"]


# -- writes --------------------------------------------------------------------------------


def test_write_must_be_an_array():
    with HaloFake(check_openapi=False) as fake:  # the fake's own handling of malformed input
        resp = post(fake, "Client", {"name": "Single"})
        assert resp.status_code == 400
        assert resp.json()["Message"] == "Expected an array"
        assert "ClassName" in resp.json()
        assert post(fake, "Client", [1]).status_code == 400
        bad_json = requests.post(
            fake.api_url + "/Client",
            data=b"[{",
            headers={**auth(fake), "Content-Type": "application/json"},
            timeout=5,
        )
        assert bad_json.status_code == 400
        assert bad_json.json()["ClassName"] == "JsonReaderException"
        assert fake.writes == 0


def test_client_create_makes_main_site_and_drops_underscore_fields(halo_fake):
    body = [
        {
            "name": "New Customer Pty Ltd",
            "toplevel_id": 1,
            "_isimport": True,
            "_dont_fire_automations": True,
            "newclient_sitename": "Head Office",
            "newclient_delivery_address": {"line1": "1 Main St", "postcode": "3000"},
            "website": "https://new.example",
        }
    ]
    resp = post(halo_fake, "Client", body)
    assert resp.status_code == 200
    [client] = resp.json()
    assert client["id"] == 11
    assert client["toplevel_name"] == "Managed Services"
    assert client["website"] == "https://new.example"
    assert not [k for k in client if k.startswith(("_", "newclient_"))]
    site = halo_fake.sites[client["main_site_id"]]
    assert client["main_site_name"] == site["name"] == "Head Office"
    assert site["client_id"] == client["id"]
    assert site["delivery_address"] == {
        "line1": "1 Main St",
        "line2": "",
        "line3": "",
        "line4": "",
        "postcode": "3000",
    }
    assert (halo_fake.created, halo_fake.updated, halo_fake.writes) == (1, 0, 1)


def test_update_changes_only_the_fields_sent(halo_fake):
    before = dict(halo_fake.clients[2])
    resp = post(halo_fake, "Client", [{"id": 2, "website": "https://fabrikam.example"}])
    after = resp.json()[0]
    assert after["website"] == "https://fabrikam.example"
    assert {k: v for k, v in after.items() if k != "website"} == before
    assert (halo_fake.created, halo_fake.updated) == (0, 1)
    site_id = before["main_site_id"]
    post(halo_fake, "Site", [{"id": site_id, "delivery_address": {"line1": "9 New Rd"}}])
    assert halo_fake.sites[site_id]["delivery_address"]["line1"] == "9 New Rd"
    assert halo_fake.sites[site_id]["name"] == "Main"


def test_unknown_id_is_400(halo_fake):
    resp = post(halo_fake, "Client", [{"id": 999, "name": "Ghost"}])
    assert resp.status_code == 400
    assert "999" in resp.json()["Message"]


@pytest.mark.parametrize(
    ("entity", "bad"),
    [
        ("Client", {"name": ""}),
        ("Client", {"name": "x" * 256}),
        ("Client", {"id": 1, "name": "  "}),
        ("Client", {"name": "Y", "toplevel_id": 77}),
        ("Site", {"name": "Nowhere"}),
        ("Site", {"client_id": 999, "name": "Nowhere"}),
        ("SoftwareLicence", {"client_id": 999, "name": "L"}),
        ("SoftwareLicence", {"client_id": 1}),
    ],
)
def test_validation_fails_the_whole_batch(halo_fake, entity, bad):
    good = {"name": "Fine Co"} if entity == "Client" else {"client_id": 1, "name": "Fine"}
    sizes = (len(halo_fake.clients), len(halo_fake.sites), len(halo_fake.licences))
    resp = post(halo_fake, entity, [good, bad])
    assert resp.status_code == 400
    assert resp.json()["ClassName"] == "HaloValidationException"
    assert resp.json()["Message"]
    assert (len(halo_fake.clients), len(halo_fake.sites), len(halo_fake.licences)) == sizes
    assert halo_fake.writes == 0


def test_licence_create_defaults_and_batching(halo_fake):
    batch = [{"client_id": 3, "name": f"Sub {n}", "count": n, "distributor": "Dicker Data"} for n in range(3)]
    saved = post(halo_fake, "SoftwareLicence", batch).json()
    assert [s["count"] for s in saved] == [0, 1, 2]
    assert all(s["is_active"] is True and s["deleted"] is False for s in saved)
    assert all(s["client_name"] == "Northwind Traders" for s in saved)
    post(halo_fake, "SoftwareLicence", [{"id": saved[0]["id"], "is_active": False}])
    assert get(halo_fake, "SoftwareLicence", client_id=3).json()["record_count"] == 2
    assert halo_fake.writes == 4


def test_moving_a_licence_updates_the_client_index(halo_fake):
    [licence] = post(halo_fake, "SoftwareLicence", [{"client_id": 3, "name": "Mover"}]).json()
    post(halo_fake, "SoftwareLicence", [{"id": licence["id"], "client_id": 4}])
    assert get(halo_fake, "SoftwareLicence", client_id=3).json()["record_count"] == 0
    assert names(get(halo_fake, "SoftwareLicence", client_id=4).json()["licences"]) == ["Mover"]


def test_in_place_client_id_edits_never_match_stale_index_and_reindex_catches_up(halo_fake):
    licence = halo_fake.add_licence(3, "Edited in place")
    licence["client_id"] = 4  # a test editing a stored record directly, bypassing the index
    assert get(halo_fake, "SoftwareLicence", client_id=3).json()["record_count"] == 0
    halo_fake.licences.reindex()
    assert names(get(halo_fake, "SoftwareLicence", client_id=4).json()["licences"]) == ["Edited in place"]


def test_data_can_be_replaced_wholesale(halo_fake):
    halo_fake.licences = {7: {"id": 7, "client_id": 2, "name": "Injected"}}
    assert names(get(halo_fake, "SoftwareLicence", client_id=2).json()["licences"]) == ["Injected"]
    assert halo_fake.add_licence(2, "Next")["id"] == 8


def test_reset_calls_zeroes_counters(halo_fake):
    post(halo_fake, "Client", [{"name": "Counted"}])
    halo_fake.reset_calls()
    assert (halo_fake.token_requests, halo_fake.writes, halo_fake.created, halo_fake.throttled) == (
        0,
        0,
        0,
        0,
    )
    assert not halo_fake.calls
    assert "Counted" in names(list(halo_fake.clients.values()))


def test_single_post_can_answer_an_object():
    with HaloFake(single_post_returns_object=True) as fake:
        one = post(fake, "Client", [{"name": "Solo"}]).json()
        assert isinstance(one, dict)
        assert one["name"] == "Solo"
        two = post(fake, "Client", [{"name": "A"}, {"name": "B"}]).json()
        assert names(two) == ["A", "B"]


def test_delete_is_not_allowed(halo_fake):
    headers = auth(halo_fake)
    resp = requests.delete(halo_fake.api_url + "/Client/1", headers=headers, timeout=5)  # documented
    assert resp.status_code == 405
    assert 1 in halo_fake.clients


def test_unknown_paths_404_past_the_document_check():
    with HaloFake(check_openapi=False) as fake:
        headers = auth(fake)
        for path in ("Ticket", "Client/1/extra"):
            missing = get(fake, path, headers)
            assert missing.status_code == 404
            assert missing.json() == {"Message": "No HTTP resource was found that matches the request URI"}


def test_concurrent_writes_get_unique_ids(halo_fake):
    headers = auth(halo_fake)

    def worker(n: int) -> None:
        for i in range(10):
            post(halo_fake, "Client", [{"name": f"T{n}-{i}"}], headers)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert halo_fake.created == 60
    assert len(halo_fake.clients) == 70
    assert len({c["main_site_id"] for c in halo_fake.clients.values()}) == 70


# -- faults and helpers --------------------------------------------------------------------


def test_scripted_and_random_faults_use_halo_shapes(halo_fake):
    headers = auth(halo_fake)
    halo_fake.fail_next(1, 500, data_only=True)
    assert get_token(halo_fake).status_code == 200  # not a data call
    failed = get(halo_fake, "Client", headers)
    assert failed.status_code == 500
    assert failed.json()["ClassName"] == "Exception"
    halo_fake.error_rate_429 = 1.0
    throttled = get(halo_fake, "Client", headers)
    assert throttled.status_code == 429
    assert throttled.json() == {"ClassName": "TooManyRequests", "Message": "Rate limit exceeded"}
    assert "Retry-After" not in throttled.headers
    assert halo_fake.throttled == 1
    assert halo_fake.calls["GET /api/Client"] == 2
    halo_fake.error_rate_429 = 0.0
    halo_fake.fail_next(1, 429)
    scripted = get(halo_fake, "Client", headers)
    assert scripted.status_code == 429
    assert "Retry-After" not in scripted.headers


def test_injected_429s_carry_retry_after_1_when_configured():
    with HaloFake(retry_after=True) as fake:
        headers = auth(fake)
        fake.fail_next(1, 429)
        assert get(fake, "Client", headers).headers["Retry-After"] == "1"
        fake.error_rate_429 = 1.0
        assert get(fake, "Client", headers).headers["Retry-After"] == "1"
        assert fake.throttled == 2


def test_helpers_validate_their_input(halo_fake):
    with pytest.raises(ValueError, match="client_id"):
        halo_fake.add_site(999, "Nowhere")
    with pytest.raises(ValueError, match="name"):
        halo_fake.add_client("")
    assert halo_fake.writes == 0  # seeding does not count as API writes


def test_seeding_helpers_bypass_http_and_the_document_check(halo_fake):
    client = halo_fake.add_client("Seeded", 1, website="https://seeded.example", x_test_marker=1)
    halo_fake.add_site(client["id"], "Depot", delivery_address={"line1": "1 Depot Rd"})
    halo_fake.add_licence(client["id"], "Seeded licence", count=3, distributor="Dicker Data")
    assert halo_fake.requests == []
    assert halo_fake.violations == []
    assert get(halo_fake, f"Client/{client['id']}").json()["x_test_marker"] == 1


def test_sample_halo_world(halo_fake):
    all_names = [c["name"] for c in halo_fake.clients.values()]
    assert all_names.count("Adventure Works") == 2
    assert {
        "Contoso Pty Ltd",
        "Northwind Traders",
        "Tailspin Toys Pty. Ltd.",
        "Smith and Jones Accounting",
    } <= set(all_names)
    assert "Wide World Importers" not in all_names
    assert all(c["main_site_id"] in halo_fake.sites for c in halo_fake.clients.values())
    assert [t["name"] for t in halo_fake.toplevels.values()] == ["Managed Services", "Projects"]


def test_generate_halo_uses_given_names_then_generated_ones():
    fake = HaloFake()
    started = time.monotonic()
    clients = generate_halo(fake, 5000, names=["Alpha", "Beta"])
    assert time.monotonic() - started < 2
    assert [c["name"] for c in clients[:3]] == ["Alpha", "Beta", "Halo Client 00003"]
    assert len(fake.sites) == 5000


# -- requests checked against Halo's OpenAPI document ------------------------------------


@pytest.fixture
def strict_fake() -> Iterator[HaloFake]:
    """The sample world without the `halo_fake` teardown check: these tests send bad requests."""
    with HaloFake() as fake:
        sample_halo(fake)
        yield fake


def send(fake: HaloFake, method: str, path: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("headers", auth(fake))
    return requests.request(method, f"{fake.api_url}/{path}", timeout=5, **kwargs)


NON_CONFORMING = [
    pytest.param("GET", "Ticket", {}, "path /Ticket is not in Halo's API document", id="unknown-path"),
    pytest.param("GET", "Client/1/extra", {}, "path /Client/1/extra is not in", id="too-deep"),
    pytest.param(
        "PUT", "Client", {"json": [{"name": "X"}]}, "method PUT is not allowed on /Client", id="method"
    ),
    pytest.param("POST", "Client/1", {"json": [{"name": "X"}]}, "method POST is not allowed", id="post-one"),
    pytest.param(
        "GET",
        "Client/1",
        {"params": {"includeazuretenants": "true"}},
        "query parameter 'includeazuretenants' is not declared for GET /Client/{id}",
        id="list-flag-on-single-get",
    ),
    pytest.param(
        "GET",
        "SoftwareLicence",
        {"params": {"lastupdatefromdate": "2025-01-01"}},
        "query parameter 'lastupdatefromdate' is not declared for GET /SoftwareLicence",
        id="undeclared-param",
    ),
    pytest.param(
        "GET",
        "Client",
        {"params": {"toplevel_id": "x"}},
        "toplevel_id='x' is not a valid int",
        id="int-param",
    ),
    pytest.param(
        "GET",
        "Client",
        {"params": {"includeinactive": "1"}},
        "includeinactive='1' is not a valid bool",
        id="bool",
    ),
    pytest.param("GET", "Site/abc", {}, "path parameter id='abc' is not a valid integer", id="path-id"),
    pytest.param(
        "POST",
        "Client",
        {"json": [{"name": "X", "azure_tenant_id": "t-1"}]},
        "body[0]: 'azure_tenant_id' is not a property of Area",
        id="undeclared-field",
    ),
    pytest.param(
        "POST",
        "Client",
        {"json": [{"name": "X", "azure_tenants": [{"azure_tenant_id": "t-1", "tenant_domain": "x"}]}]},
        "body[0].azure_tenants[0]: 'tenant_domain' is not a property of AreaAzureTenant",
        id="nested-undeclared-field",
    ),
    pytest.param(
        "POST",
        "Site",
        {"json": [{"client_id": 1, "name": "S", "delivery_address": {"line1": "a", "line5": "b"}}]},
        "body[0].delivery_address: 'line5' is not a property of AddressStore",
        id="address-field",
    ),
    pytest.param(
        "POST",
        "SoftwareLicence",
        {"json": [{"client_id": "1", "name": "L"}]},
        'body[0].client_id: expected integer, got string "1"',
        id="wrong-json-type",
    ),
    pytest.param(
        "POST",
        "SoftwareLicence",
        {"json": [{"client_id": 1, "name": "L", "count": True}]},
        "body[0].count: expected integer, got boolean true",
        id="bool-is-not-an-integer",
    ),
    pytest.param(
        "POST",
        "Client",
        {"json": [{"id": None, "name": "X"}]},
        "body[0].id: null is not allowed here",
        id="null-not-nullable",
    ),
    pytest.param(
        "POST",
        "Client",
        {"json": [{"name": "X", "newclient_delivery_address": None}]},
        "body[0].newclient_delivery_address: null is not allowed here",
        id="null-object",
    ),
    pytest.param(
        "POST", "Client", {"json": {"name": "X"}}, "body: expected array, got object", id="not-array"
    ),
    pytest.param(
        "POST",
        "Client",
        {"data": '[{"name": "X"}]', "headers": {"Content-Type": "text/plain"}},
        "Content-Type 'text/plain' is not accepted by POST /Client",
        id="content-type",
    ),
    pytest.param("POST", "Client", {"data": b"[{"}, "request body is not valid JSON", id="bad-json"),
    pytest.param("POST", "Client", {}, "POST /Client needs a request body", id="no-body"),
]


@pytest.mark.parametrize(("method", "path", "kwargs", "problem"), NON_CONFORMING)
def test_non_conforming_requests_answer_400_and_are_recorded(strict_fake, method, path, kwargs, problem):
    if "data" in kwargs:
        kwargs["headers"] = {
            "Content-Type": "application/json",
            **auth(strict_fake),
            **kwargs.get("headers", {}),
        }
    sizes = (len(strict_fake.clients), len(strict_fake.sites), len(strict_fake.licences))
    resp = send(strict_fake, method, path, **kwargs)
    assert resp.status_code == 400
    body = resp.json()
    assert body["ClassName"] == "HaloValidationException"
    assert body["Message"].startswith("Request does not match Halo's API document: ")
    assert problem in body["Message"]
    [violation] = strict_fake.violations
    assert violation.startswith(f"{method} /api/{path}: ")
    assert problem in violation
    assert (len(strict_fake.clients), len(strict_fake.sites), len(strict_fake.licences)) == sizes
    assert strict_fake.writes == 0


def test_conforming_requests_pass(strict_fake):
    headers = auth(strict_fake)
    ok = [
        send(strict_fake, "GET", "authinfo", headers={}),
        send(strict_fake, "GET", "client", headers=headers, params={
            "PAGEINATE": "True", "page_size": "100", "page_no": "1", "includeazuretenants": "TRUE",
            "toplevel_id": "-1", "search": "a b",
        }),
        send(strict_fake, "GET", "Client/1", headers=headers, params={"includedetails": "true"}),
        send(strict_fake, "GET", "Site", headers=headers,
             params={"client_id": "1", "includeinactive": "false"}),
        send(strict_fake, "GET", "SoftwareLicence", headers=headers,
             params={"client_id": "1", "tenant_id": "t", "includeinactive": "true", "search": "dd:"}),
        send(strict_fake, "GET", "TopLevel", headers=headers, params={"pageinate": "false"}),
        send(strict_fake, "POST", "Client", headers=headers, json=[{
            "name": "Conforming Co", "toplevel_id": 1, "inactive": False, "website": None,
            "_isimport": True, "_dont_fire_automations": True, "newclient_sitename": "HQ",
            "newclient_delivery_address": {"line1": "1 Main St", "postcode": "3000"},
            "azure_tenants": [{"azure_tenant_id": "t-1", "azure_tenant_name": "T",
                               "azure_tenant_domain": "t.onmicrosoft.com"}],
        }]),
        send(strict_fake, "POST", "Site", headers=headers, json=[
            {"client_id": 1, "name": "Depot", "delivery_address": {"line1": "2 Side St", "line4": None}}
        ]),
        send(strict_fake, "POST", "SoftwareLicence", headers=headers, json=[{
            "client_id": 1, "name": "M365", "count": 5, "start_date": "2025-01-31",
            "end_date": "2026-01-30T00:00:00", "distributor": "Dicker Data", "price": 12.5,
            "purchase_price": 10, "is_active": True, "notes": "dd:sub-1",
        }]),
    ]  # fmt: skip
    assert [r.status_code for r in ok] == [200] * len(ok)
    assert strict_fake.violations == []
    assert strict_fake.created == 3


def test_violations_are_kept_when_throttled_and_by_reset_calls(strict_fake):
    headers = auth(strict_fake)
    strict_fake.saturate(60)
    assert send(strict_fake, "GET", "Client/1", headers=headers, params={"foo": "1"}).status_code == 429
    assert strict_fake.violations == [
        "GET /api/Client/1: query parameter 'foo' is not declared for GET /Client/{id}"
    ]
    strict_fake.reset_calls()
    assert len(strict_fake.violations) == 1


def test_a_non_conforming_request_consumes_no_scripted_fault(strict_fake):
    headers = auth(strict_fake)
    strict_fake.fail_next(1, 500, data_only=True)
    assert send(strict_fake, "GET", "Client", headers=headers, params={"bogus": "1"}).status_code == 400
    assert send(strict_fake, "GET", "Client", headers=headers).status_code == 500


def test_check_openapi_can_be_turned_off(strict_fake):
    with HaloFake(check_openapi=False) as fake:
        resp = get(fake, "Client/1", includeazuretenants="true")
        assert resp.status_code == 404  # reaches the fake (no client 1 there)
        assert fake.violations == []


def test_the_halo_fake_fixture_fails_a_test_that_sent_a_non_conforming_request(strict_fake):
    assert send(strict_fake, "GET", "Client", params={"nope": "1"}).status_code == 400
    with pytest.raises(pytest.fail.Exception, match=r"(?s)1 request\(s\) did not match.*'nope'"):
        _fail_on_halo_violations(strict_fake)
    strict_fake.violations.clear()
    _fail_on_halo_violations(strict_fake)  # nothing left: passes


def test_expiring_tokens_by_age_keeps_the_young_ones(halo_fake):
    old = auth(halo_fake)
    time.sleep(0.3)
    young = auth(halo_fake)
    halo_fake.expire_tokens(older_than=0.2)
    assert get(halo_fake, "Client", old).status_code == 401
    assert get(halo_fake, "Client", young).status_code == 200
