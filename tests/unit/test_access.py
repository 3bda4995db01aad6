"""Viewers read, operators do everything: the rule every HTTP function applies to its caller."""

import pytest

from ddhalo_lambda.access import OPERATE, READ, caller_name, refusal, scopes_of_groups


def event(method: str, scope: str | None = None, scopes: list[str] | None = None, **claims) -> dict:
    jwt: dict = {"claims": dict(claims)}
    if scope is not None:
        jwt["claims"]["scope"] = scope
    if scopes is not None:
        jwt["scopes"] = scopes
    return {"requestContext": {"http": {"method": method}, "authorizer": {"jwt": jwt}}}


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE"])
def test_an_operator_may_do_anything(method):
    assert refusal(event(method, scope=f"openid {READ} {OPERATE}")) is None


def test_a_viewer_may_read_and_nothing_else():
    assert refusal(event("GET", scope=READ)) is None
    for method in ("POST", "PUT", "DELETE"):
        message, hint = refusal(event(method, scope=READ))
        assert "operator" in message and "viewer" in message and "operators group" in hint


def test_the_scopes_list_api_gateway_passes_counts_like_the_claim():
    assert refusal(event("POST", scopes=[OPERATE])) is None


@pytest.mark.parametrize("shape", [{}, {"requestContext": {}}, event("GET", scope="openid email")])
def test_a_request_without_a_role_is_refused_even_for_reading(shape):
    message, hint = refusal(shape)
    assert "no role" in message and "Sign in" in hint


def test_groups_give_scopes_and_unknown_groups_give_none():
    assert scopes_of_groups(["operators"]) == [OPERATE, READ]
    assert scopes_of_groups(["viewers"]) == [READ]
    assert scopes_of_groups(["viewers", "operators", "admins"]) == [OPERATE, READ]
    assert scopes_of_groups(["admins"]) == []


def test_the_caller_is_the_person_or_the_script_client():
    assert caller_name(event("GET", username="alice")) == "alice"
    assert caller_name(event("GET", client_id="3abc")) == "3abc"
    assert caller_name({}) is None
