"""``HaloRequestsPerMinute``: the pace a new deployment starts with, answered through the settings
function as deployed, until a stored setting says otherwise."""

import json

import pytest

from ddhalo_lambda.environment import environment
from ddhalo_lambda.services import services
from local.events import LOCAL_OPERATOR_SCOPES, http_event


@pytest.fixture
def deployed(store, secrets, monkeypatch):
    """A new stack whose HaloRequestsPerMinute is 120, nothing stored yet (a cold container)."""
    for name, value in {"TABLE_NAME": store.table_name, "SECRET_ID": secrets.secret_id}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HALO_REQUESTS_PER_MINUTE", "120")
    environment.cache_clear()
    services.cache_clear()
    yield monkeypatch
    environment.cache_clear()
    services.cache_clear()


def settings_call(lambda_context, method: str, body: dict | None = None) -> dict:
    from functions.settings import app

    event = http_event(
        method,
        "/settings",
        "",
        [("content-type", "application/json")],
        json.dumps(body).encode() if body is not None else b"",
        route_key=f"{method} /settings",
        scopes=LOCAL_OPERATOR_SCOPES,
    )
    answer = app.lambda_handler(event, lambda_context)
    assert answer["statusCode"] == 200, answer
    return json.loads(answer["body"])


def test_a_new_deployment_answers_the_stacks_pace(deployed, lambda_context):
    assert settings_call(lambda_context, "GET")["halo_requests_per_minute"] == 120
    assert services().store.get_settings().halo_requests_per_minute == 120  # what a run paces at


def test_a_stored_pace_wins_over_the_stacks(deployed, lambda_context):
    # The first PUT stores every setting, the stack's pace among them ...
    assert settings_call(lambda_context, "PUT", {"halo_tenant": "acme"})["halo_requests_per_minute"] == 120
    deployed.setenv("HALO_REQUESTS_PER_MINUTE", "30")  # ... so a redeploy with another changes nothing
    environment.cache_clear()
    services.cache_clear()
    assert settings_call(lambda_context, "GET")["halo_requests_per_minute"] == 120
    assert (
        settings_call(lambda_context, "PUT", {"halo_requests_per_minute": 70})["halo_requests_per_minute"]
        == 70
    )
    assert settings_call(lambda_context, "GET")["halo_requests_per_minute"] == 70
