"""Viewers read, operators do everything: every route's handler enforces it on the token's
scopes, whatever API Gateway let through (tests/template proves the authorizer's side)."""

import copy
import json
from pathlib import Path

import pytest

from local.events import jwt_context

pytestmark = pytest.mark.integration

EVENTS = [
    json.loads(p.read_text()) for p in sorted((Path(__file__).resolve().parents[2] / "events").glob("*.json"))
]
# The data routes' samples (the console's files are served to anyone: tests/template).
ROUTE_EVENTS = {e["routeKey"]: e for e in EVENTS if "authorizer" in e.get("requestContext", {})}
VIEWER = ("openid", "ddhalo/read")


def as_caller(event: dict, jwt: dict | None) -> dict:
    event = copy.deepcopy(event)
    event["requestContext"].pop("authorizer", None)
    if jwt is not None:
        event["requestContext"]["authorizer"] = {"jwt": jwt}
    return event


def answer(local_app, route_key: str, jwt: dict | None) -> tuple[int, dict]:
    (route,) = [r for r in local_app.template.routes if r.route_key == route_key]
    got = local_app.invoke(route.function_id, as_caller(ROUTE_EVENTS[route_key], jwt))
    return got["statusCode"], json.loads(got["body"])


def test_every_data_route_has_a_sample_event_to_try(local_app):
    data_routes = {r.route_key for r in local_app.template.routes if r.auth}
    assert data_routes and data_routes <= set(ROUTE_EVENTS)


@pytest.mark.parametrize("route_key", sorted(k for k in ROUTE_EVENTS if not k.startswith("GET ")))
def test_a_viewer_may_not_change_or_run_anything(local_app, route_key):
    status, body = answer(local_app, route_key, jwt_context(VIEWER, username="vera"))
    assert status == 403, body
    assert body["error"]["code"] == "forbidden" and "viewer" in body["error"]["message"]
    assert "operators group" in body["error"]["hint"]


@pytest.mark.parametrize("route_key", sorted(k for k in ROUTE_EVENTS if k.startswith("GET ")))
def test_a_viewer_may_read(local_app, route_key):
    status, body = answer(local_app, route_key, jwt_context(VIEWER, username="vera"))
    assert status in (200, 404), body  # 404: the sample's run id does not exist here


@pytest.mark.parametrize("route_key", sorted(ROUTE_EVENTS))
def test_a_token_without_a_role_reads_nothing(local_app, route_key):
    for jwt in (None, jwt_context(("openid", "email"))):
        status, body = answer(local_app, route_key, jwt)
        assert status == 403 and "no role" in body["error"]["message"], body
