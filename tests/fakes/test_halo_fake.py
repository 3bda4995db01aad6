"""HaloFake through real HTTP: OAuth, scopes, rate limit, lists, filters and array writes."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import requests

from local.fakes import HaloFake
from local.fakes.halo import Token
from local.fakes.sample_data import generate_halo


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


def test_rate_limit_answers_429_with_retry_after_and_frees_slots():
    with HaloFake(rate_limit=3, rate_window=0.5) as fake:
        headers = auth(fake)  # the token call does not count
        assert [get(fake, "Client", headers).status_code for _ in range(3)] == [200] * 3
        limited = get(fake, "Client", headers)
        assert limited.status_code == 429
        assert limited.json() == {"ClassName": "TooManyRequests", "Message": "Rate limit exceeded"}
        assert int(limited.headers["Retry-After"]) >= 1
        assert fake.throttled == 1
        assert get_token(fake).status_code == 200  # auth is never throttled
        time.sleep(0.55)
        assert get(fake, "Client", headers).status_code == 200


def test_retry_after_counts_down_to_the_oldest_slot():
    with HaloFake(rate_limit=1, rate_window=300) as fake:
        headers = auth(fake)
        get(fake, "Client", headers)
        retry_after = int(get(fake, "Client", headers).headers["Retry-After"])
        assert 295 <= retry_after <= 300


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


def test_page_size_is_clamped_to_1000():
    with HaloFake() as fake:
        generate_halo(fake, 1100)
        body = get(fake, "Client", pageinate="true", page_size=5000).json()
        assert body["page_size"] == 1000
        assert len(body["clients"]) == 1000
        assert body["record_count"] == 1100
        ids = [c["id"] for c in body["clients"]]
        assert ids == sorted(ids)


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
    assert get(halo_fake, "Client", headers, toplevel_id="x").status_code == 400


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
        ("Site/abc", "Site"),
        ("SoftwareLicence/7", "SoftwareLicence"),
    ):
        resp = get(halo_fake, path, headers)
        assert resp.status_code == 404
        assert resp.json() == {"Message": f"{entity} not found"}


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


def test_write_must_be_an_array(halo_fake):
    resp = post(halo_fake, "Client", {"name": "Single"})
    assert resp.status_code == 400
    assert resp.json()["Message"] == "Expected an array"
    assert "ClassName" in resp.json()
    assert post(halo_fake, "Client", [1]).status_code == 400


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


def test_delete_is_not_allowed_and_unknown_paths_404(halo_fake):
    headers = auth(halo_fake)
    resp = requests.delete(halo_fake.api_url + "/Client/1", headers=headers, timeout=5)
    assert resp.status_code == 405
    assert 1 in halo_fake.clients
    for path in ("Ticket", "Client/1/extra"):
        missing = get(halo_fake, path, headers)
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
    assert throttled.headers["Retry-After"] == "1"
    assert halo_fake.throttled == 1
    assert halo_fake.calls["GET /api/Client"] == 2


def test_helpers_validate_their_input(halo_fake):
    with pytest.raises(ValueError, match="client_id"):
        halo_fake.add_site(999, "Nowhere")
    with pytest.raises(ValueError, match="name"):
        halo_fake.add_client("")
    assert halo_fake.writes == 0  # seeding does not count as API writes


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
