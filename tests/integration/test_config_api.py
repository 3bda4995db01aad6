"""POST /config/test and the settings routes, against the fakes, including each failure."""

import pytest

from ddhalo.schedule import NO_RULE_NOTE
from tests.settings_cases import ACCEPTED_SPELLINGS, BAD_SETTINGS, INTERNALS, SECRETS

pytestmark = pytest.mark.integration


def test_both_connections_ok(api):
    response = api.post("/config/test")
    assert response.status_code == 200
    body = response.json()
    assert body["ok"] is True
    assert body["dicker_data"]["ok"] and body["dicker_data"]["hint"] is None
    assert "8 customers, 7 with a CSP tenant" in body["dicker_data"]["message"]
    assert body["halo"]["ok"] and body["halo"]["hint"] is None


def test_wrong_dicker_data_token(api):
    body = api.post("/config/test", {"dicker_data_access_token": "not-the-token"}).json()
    assert body["ok"] is False and body["halo"]["ok"] is True
    assert body["dicker_data"]["ok"] is False
    assert "account manager" in body["dicker_data"]["hint"]
    assert "not-the-token" not in str(body)


def test_wrong_environment_or_base_url(api, dicker_data_fake):
    body = api.post("/config/test", {"dicker_data_base_url": dicker_data_fake.base_url + "v9/"}).json()
    assert body["dicker_data"]["ok"] is False
    assert "404" in body["dicker_data"]["message"]
    assert "environment" in body["dicker_data"]["hint"]


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:9/api/", "the connection was refused"),
        ("https://b2b-api.unresolvable.example/api/", "its host name could not be resolved"),
    ],
)
def test_unreachable_host(api, url, why):
    """A refused connection and a name that does not resolve both say the host is unreachable."""
    body = api.post("/config/test", {"dicker_data_base_url": url, "halo_api_url": url}).json()
    for system in ("dicker_data", "halo"):
        assert body[system]["ok"] is False
        assert "Could not reach" in body[system]["message"] and why in body[system]["message"]
        assert "may or may not" not in body[system]["message"]


def test_unconfirmed_nz_host_says_so(api, monkeypatch):
    from ddhalo.settings import model

    # The table's NZ host, pointed at a closed loopback port: tests never leave the machine.
    monkeypatch.setitem(model.DICKER_DATA_BASE_URLS, ("NZ", "production"), "http://127.0.0.1:9/api/")
    body = api.post("/config/test", {"region": "NZ", "dicker_data_base_url": None}).json()
    assert body["dicker_data"]["ok"] is False
    assert "not confirmed" in body["dicker_data"]["hint"]


def test_halo_bad_secret(api):
    body = api.post("/config/test", {"halo_client_secret": "wrong-secret"}).json()
    assert body["halo"]["ok"] is False and body["dicker_data"]["ok"] is True
    assert "client id and secret" in body["halo"]["hint"]
    assert "wrong-secret" not in str(body)


def test_halo_scope_missing(api, halo_fake):
    halo_fake.scopes = ("read:customers",)
    body = api.post("/config/test").json()
    assert body["halo"]["ok"] is False
    assert "permission" in body["halo"]["hint"]


def test_halo_wrong_auth_url(api, halo_fake):
    body = api.post("/config/test", {"halo_auth_url": halo_fake.auth_url + "/nope"}).json()
    assert body["halo"]["ok"] is False and "/auth" in body["halo"]["hint"]


def test_missing_credentials_say_how_to_set_them(api):
    response = api.call("PUT", "/settings", {"halo_api_url": None})
    assert response.status_code == 200
    body = api.post("/config/test").json()
    assert body["halo"]["ok"] is False and "PUT /settings" in body["halo"]["hint"]


def test_candidate_settings_are_not_saved(api):
    before = api.get("/settings").json()
    api.post("/config/test", {"region": "NZ", "dicker_data_access_token": "candidate"})
    assert api.get("/settings").json() == before


@pytest.mark.parametrize(
    "body",
    [{"region": "UK"}, {"nonsense": True}, [1, 2], {"halo_api_url": "javascript:alert(1)"}],
)
def test_bad_candidate_settings_are_a_4xx_with_the_error_body(api, body):
    response = api.post("/config/test", body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "bad_request" and error["message"]


def test_settings_are_saved_partially_and_secrets_never_returned(api):
    response = api.call("PUT", "/settings", {"top_level_id": 2, "halo_client_secret": "s3cr3t-value"})
    assert response.status_code == 200
    settings = api.get("/settings").json()
    assert settings["top_level_id"] == 2 and settings["region"] == "AU"
    assert settings["halo_client_secret_set"] is True and settings["dicker_data_access_token_set"] is True
    assert "s3cr3t-value" not in api.get("/settings").text
    assert api.post("/config/test").json()["halo"]["ok"] is False  # the new secret is used


# -- refusals in words, through the real handlers -------------------------------------------------
def refusal_problems(api, body, field, exact) -> list[str]:
    """What is wrong with how both routes refuse ``body`` (nothing, when they refuse it right)."""
    problems = []
    for method, path in (("PUT", "/settings"), ("POST", "/config/test")):
        response = api.call(method, path, body)
        if response.status_code != 400 or response.json().get("error", {}).get("code") != "bad_request":
            problems.append(f"{method} {path} answered {response.status_code}: {response.text[:300]}")
            continue
        message = response.json()["error"]["message"]
        if not message.startswith(f"{field} "):
            problems.append(f"{method} {path} does not start with {field}: {message}")
        if INTERNALS.search(message):
            problems.append(f"{method} {path} shows pydantic's internals: {message}")
        if any(secret in response.text for secret in SECRETS):
            problems.append(f"{method} {path} echoes a secret: {message}")
        if exact is not None and message != exact:
            problems.append(f"{method} {path} says {message!r}, not {exact!r}")
    return problems


def test_every_bad_setting_is_refused_in_words_by_both_routes(api):
    """The whole table through one local API (each case is also a unit test of its own)."""
    before = api.get("/settings").json()
    problems = [
        f"{case_id}: {problem}"
        for case_id, body, field, exact in BAD_SETTINGS
        for problem in refusal_problems(api, body, field, exact)
    ]
    assert problems == []
    assert api.get("/settings").json() == before  # nothing was written


@pytest.mark.parametrize(("body", "field", "canonical"), ACCEPTED_SPELLINGS)
def test_region_and_environment_in_any_case_are_stored_canonically(api, body, field, canonical):
    response = api.call("PUT", "/settings", body)
    assert response.status_code == 200, response.text
    assert response.json()[field] == canonical
    assert api.get("/settings").json()[field] == canonical
    assert api.post("/config/test", body).status_code == 200


def test_get_settings_shows_the_schedule_rule(api, local_app):
    """The local runner has the template's rule (in moto): read back as deployed, in step."""
    (name,) = [r["Name"] for r in local_app.aws.client("events").list_rules()["Rules"]]
    settings = api.get("/settings").json()
    assert settings["integrator"]["schedule"] == "rate(1 hour)"
    assert (settings["schedule_state"], settings["schedule_rule"]) == ("DISABLED", name)
    assert (settings["schedule_expression"], settings["schedule_note"]) == ("rate(1 hour)", None)
    response = api.call("PUT", "/settings", {"integrator": {"enabled": True, "schedule": "rate(2 hours)"}})
    assert response.status_code == 200 and response.json()["schedule_state"] == "ENABLED"
    settings = api.get("/settings").json()
    assert (settings["schedule_state"], settings["schedule_expression"]) == ("ENABLED", "rate(2 hours)")
    assert settings["schedule_note"] is None
    # A redeploy puts the template's values back on the rule: GET says the two differ.
    local_app.aws.client("events").put_rule(Name=name, ScheduleExpression="rate(1 hour)", State="DISABLED")
    settings = api.get("/settings").json()
    assert settings["schedule_state"] == "DISABLED" and settings["integrator"]["enabled"] is True
    assert "but the settings say ENABLED with rate(2 hours)" in settings["schedule_note"]


def test_get_settings_without_a_readable_rule_answers_unknown(api, local_app):
    (name,) = [r["Name"] for r in local_app.aws.client("events").list_rules()["Rules"]]
    local_app.aws.client("events").delete_rule(Name=name)
    response = api.get("/settings")
    assert response.status_code == 200
    assert response.json()["schedule_state"] == "unknown"
    assert (
        response.json()["schedule_note"]
        == f"The schedule rule {name} does not exist; redeploy the stack to create it."
    )


def test_get_settings_without_a_rule_name_says_there_is_no_schedule(api, monkeypatch):
    """The settings function without SYNC_RULE_NAME (a runner with no rule): settings, no error."""
    from local.invoke import forget_cached_clients

    monkeypatch.delenv("SYNC_RULE_NAME")
    forget_cached_clients()  # the next invocation is a cold start that reads the environment again
    response = api.get("/settings")
    assert response.status_code == 200, response.text
    settings = response.json()
    assert (settings["schedule_state"], settings["schedule_rule"]) == ("unknown", None)
    assert settings["schedule_note"] == NO_RULE_NOTE
    assert (
        api.call("PUT", "/settings", {"integrator": {"enabled": True}}).json()["schedule_state"] == "unknown"
    )
