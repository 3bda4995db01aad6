"""Crafted and odd input through the real handlers: each is refused with a 4xx that says what is
wrong, and nothing is read or done beyond what the request may reach."""

import base64
import json

import pytest

from local.invoke import forget_cached_clients

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}
TOKEN_MESSAGE = "next_token is not one this listing gave"


def token(key: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, ensure_ascii=False).encode()).decode()


def refused_token(response) -> None:
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_next_token"
    assert error["message"].startswith(TOKEN_MESSAGE), error


def two_runs(api) -> tuple[str, str]:
    """Two dry runs of every customer, newest last."""
    return tuple(api.post("/customers/import", {"dry_run": True}).json()["run_id"] for _ in range(2))


# -- next_token ----------------------------------------------------------------------------------
SETTINGS_ITEM = {"pk": "SETTINGS", "sk": "CURRENT"}
CRAFTED = [
    pytest.param("eyJhIjoxfQ==", id="a-key-of-nothing"),  # {"a":1}
    pytest.param(token(SETTINGS_ITEM), id="the-settings-item"),
    pytest.param(token({**SETTINGS_ITEM, "gsi1pk": "RUNS", "gsi1sk": "9"}), id="settings-in-runs-shape"),
    pytest.param(token({"pk": "RUN#x", "sk": "RUN", "gsi1pk": "LOCKS", "gsi1sk": "9"}), id="another-index"),
    pytest.param(token({"pk": "RUN#x", "sk": "RUN", "gsi1pk": "RUNS", "gsi1sk": 9}), id="a-number-key"),
    pytest.param(token({"pk": "RUN#x", "sk": "ITEM#a", "skip": "x"}), id="a-text-skip"),
    pytest.param(token({"pack": "ITEMS#~~", "skip": 1}), id="a-pack-past-the-end"),
    pytest.param(
        token({"pk": "RUN#x", "sk": "RUN", "gsi1pk": "RUNS", "gsi1sk": "é" * 600}), id="over-1024-bytes"
    ),
    pytest.param(base64.urlsafe_b64encode(b"[" * 1500).decode(), id="deep-json"),
]


@pytest.mark.parametrize("crafted", CRAFTED)
def test_a_crafted_token_for_the_run_list_is_a_400(api, crafted):
    two_runs(api)
    refused_token(api.get("/runs", next_token=crafted))


@pytest.mark.parametrize("crafted", CRAFTED)
def test_a_crafted_token_for_a_run_s_items_is_a_400(api, crafted):
    run_id, _ = two_runs(api)
    refused_token(api.get(f"/runs/{run_id}", next_token=crafted))


def test_a_token_of_another_run_or_listing_is_refused_and_its_own_pages_on(api):
    first, second = two_runs(api)
    page = api.get(f"/runs/{first}", limit=1).json()
    inside = page["next_token"]  # inside the run's one pack of items
    assert len(page["items"]) == 1 and inside
    refused_token(api.get(f"/runs/{second}", limit=1, next_token=inside))
    refused_token(api.get("/runs", next_token=inside))
    seen = [i["dicker_id"] for i in page["items"]]
    while inside:
        page = api.get(f"/runs/{first}", limit=1, next_token=inside).json()
        seen += [i["dicker_id"] for i in page["items"]]
        inside = page["next_token"]
    whole = api.get(f"/runs/{first}").json()["items"]
    assert seen == [i["dicker_id"] for i in whole] and len(seen) > 2

    runs = api.get("/runs", limit=1).json()
    assert [r["run_id"] for r in runs["runs"]] == [second]
    refused_token(api.get(f"/runs/{first}", next_token=runs["next_token"]))
    rest = api.get("/runs", limit=1, next_token=runs["next_token"]).json()
    assert [r["run_id"] for r in rest["runs"]] == [first]


def test_a_token_of_a_run_s_rows_names_its_run(api):
    """A token of the row form (after the last item of a row or pack) of one run is refused on
    another: its partition is not that listing's."""
    first, second = two_runs(api)
    whole = api.get(f"/runs/{first}").json()["items"]
    after_all = api.get(f"/runs/{first}", limit=len(whole) - 1).json()["next_token"]
    row_form = token({"pk": f"RUN#{first}", "sk": "ITEMS#000001#0000"})
    assert api.get(f"/runs/{first}", next_token=row_form).status_code == 200
    refused_token(api.get(f"/runs/{second}", next_token=row_form))
    assert after_all and api.get(f"/runs/{first}", next_token=after_all).status_code == 200


# -- duplicate keys --------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "body", "key"),
    [
        ("POST", "/customers/import", '{"dry_run": true, "dry_run": false}', "dry_run"),
        ("POST", "/subscriptions/import", '{"dry_run": true, "dry_run": false}', "dry_run"),
        ("POST", "/sync", '{"customers": false, "subscriptions": true, "customers": true}', "customers"),
        ("PUT", "/settings", '{"integrator": {"enabled": false, "enabled": true}}', "enabled"),
        ("POST", "/config/test", '{"halo_tenant": "a", "halo_tenant": "b"}', "halo_tenant"),
        ("POST", "/mappings", '{"dicker_customer_id": "a", "x": [{"k": 1, "k": 2}]}', "k"),
    ],
)
def test_a_body_with_a_key_twice_is_refused_and_nothing_starts(api, method, path, body, key):
    response = api.session.request(method, api.url + path, data=body, headers=JSON, timeout=60)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == {
        "code": "duplicate_key",
        "message": f'The body has the key "{key}" more than once; send each key once.',
    }
    assert api.get("/runs").json()["runs"] == []
    assert api.get("/settings").json()["integrator"]["enabled"] is False


# -- null for a boolean ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/sync", "customers"),
        ("/sync", "subscriptions"),
        ("/sync", "verify"),
        ("/customers/import", "dry_run"),
        ("/customers/import", "update_main_site_address"),
        ("/customers/import", "create_when_similar"),
        ("/subscriptions/import", "dry_run"),
        ("/mappings", "shared"),
    ],
)
def test_null_for_a_boolean_is_refused_naming_the_field(api, path, field):
    body = {"dicker_customer_id": "a", "halo_client_id": 1} if path == "/mappings" else {}
    response = api.post(path, {**body, field: None})
    assert response.status_code == 400, response.text
    assert response.json()["error"] == {
        "code": "bad_request",
        "message": f"{field} must be true or false, not null (leave it out for its default).",
    }
    assert api.get("/runs").json()["runs"] == []


# -- Idempotency-Key -------------------------------------------------------------------------------
def test_an_idempotency_key_over_200_characters_is_a_400_saying_the_limit(api):
    def post(key: str):
        return api.session.post(
            api.url + "/customers/import", json={"dry_run": True}, headers={"Idempotency-Key": key}
        )

    response = post("k" * 201)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == {
        "code": "bad_request",
        "message": "The Idempotency-Key header must be at most 200 characters; it has 201.",
        "hint": "Send a shorter key, such as a UUID.",
    }
    assert api.get("/runs").json()["runs"] == []
    assert post("k" * 200).status_code == 200


# -- upstream and webhook URLs ---------------------------------------------------------------------
METADATA = "http://169.254.169.254/latest/"
PUBLIC_URL = "must be an https:// URL on a public host"


@pytest.mark.parametrize(
    ("field", "url", "reason"),
    [
        ("dicker_data_base_url", METADATA, "169.254.169.254 is a link-local address"),
        ("halo_api_url", "https://10.0.0.5/api", "10.0.0.5 is a private address"),
        ("halo_auth_url", "https://100.64.0.1/auth", "100.64.0.1 is a shared (carrier-grade NAT) address"),
        ("halo_api_url", "https://2852039166/api", "2852039166 (169.254.169.254) is a link-local address"),
        (
            "halo_api_url",
            "https://metadata.google.internal/api",
            "metadata.google.internal is a private-use name",
        ),
        ("webhook_url", METADATA, "its host is a link-local address"),
    ],
)
@pytest.mark.parametrize(("method", "path"), [("PUT", "/settings"), ("POST", "/config/test")])
def test_an_upstream_url_on_a_private_host_is_refused(api, method, path, field, url, reason):
    before = api.get("/settings").json()
    response = api.call(method, path, {field: url})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert (error["code"], error["message"]) == ("bad_request", f"{field} {PUBLIC_URL}; {reason}.")
    assert url not in response.text or field != "webhook_url"
    assert api.get("/settings").json() == before


def test_the_local_runner_allows_its_loopback_fakes(api):
    current = api.get("/settings").json()["halo_api_url"]
    assert current.startswith("http://127.0.0.1:")
    response = api.call(
        "PUT", "/settings", {"halo_api_url": current, "webhook_url": "http://localhost:9/hook"}
    )
    assert response.status_code == 200, response.text


@pytest.fixture
def deployed(api, monkeypatch):
    """The functions as deployed: the template's switch (strict), read again by a cold start."""
    monkeypatch.setenv("ALLOW_LOOPBACK_UPSTREAMS", "false")
    forget_cached_clients()
    yield api
    forget_cached_clients()


@pytest.mark.parametrize(
    ("field", "url", "reason"),
    [
        ("halo_api_url", "http://127.0.0.1:9/api", "127.0.0.1 is a loopback address"),
        ("halo_api_url", "http://halo.example.com/api", "http:// is not encrypted"),
        ("dicker_data_base_url", "https://localhost/api/", "localhost is a loopback name"),
        ("webhook_url", "http://hooks.example.com/x", "http:// is not encrypted"),
    ],
)
def test_deployed_only_https_on_public_hosts_is_accepted(deployed, field, url, reason):
    response = deployed.call("PUT", "/settings", {field: url})
    assert response.status_code == 400, response.text
    message = response.json()["error"]["message"]
    assert message == f"{field} {PUBLIC_URL}; {reason}."
    assert deployed.call("PUT", "/settings", {field: "https://halo.example.com/api"}).status_code == 200
