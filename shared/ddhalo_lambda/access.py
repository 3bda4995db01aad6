"""Who may call what: *viewers* read, *operators* do everything (docs/SECURITY.md).

Deployed, API Gateway's JWT authorizer has already refused a token that is missing, expired,
from another issuer or lacking the route's scope (``AuthorizationScopes`` in template.yaml).
This is the same rule again inside the function, so a route added to the template without its
scope still answers 403 to a viewer. People get their scopes from their Cognito group (the
pre-token-generation trigger, ``functions/pre_token``); scripts from their app client's
client-credentials grant. The local runner hands every loopback request an operator's claims.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

READ = "ddhalo/read"
OPERATE = "ddhalo/operate"
# Cognito group -> the scopes its members' access tokens carry.
GROUP_SCOPES: dict[str, tuple[str, ...]] = {"operators": (READ, OPERATE), "viewers": (READ,)}
ROLE_OF_SCOPE = {READ: "viewer", OPERATE: "operator"}


def needed_scope(method: str) -> str:
    """Reading is a viewer's; anything that writes, runs or calls an upstream is an operator's."""
    return READ if method.upper() in ("GET", "HEAD") else OPERATE


def scopes_of_groups(groups: list[str]) -> list[str]:
    """The scopes a person in ``groups`` is given (no known group: none, so every route says 403)."""
    return sorted({scope for group in groups for scope in GROUP_SCOPES.get(group, ())})


def _jwt(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """What API Gateway's JWT authorizer handed on (``requestContext.authorizer.jwt``)."""
    return ((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}


def request_method(event: Mapping[str, Any]) -> str:
    return str(((event.get("requestContext") or {}).get("http") or {}).get("method") or "GET")


def granted_scopes(event: Mapping[str, Any]) -> frozenset[str]:
    """The token's scopes as API Gateway passes them (the list, or the space-separated claim)."""
    jwt = _jwt(event)
    listed = jwt.get("scopes") or []
    claimed = str((jwt.get("claims") or {}).get("scope") or "").split()
    return frozenset([*listed, *claimed])


def refusal(event: Mapping[str, Any]) -> tuple[str, str] | None:
    """Why this request may not go on (message, hint), or None when it may."""
    method = request_method(event)
    needed = needed_scope(method)
    granted = granted_scopes(event)
    if needed in granted:
        return None
    if granted & set(ROLE_OF_SCOPE):
        return (
            f"{method} needs the operator role; you are signed in as a viewer.",
            "Ask whoever administers the console's user pool to add you to the operators group.",
        )
    return (
        "This request carries no role for this API.",
        "Sign in to the console, or use a token of the scripts' app client (docs/SECURITY.md).",
    )


def caller_name(event: Mapping[str, Any]) -> str | None:
    """Who called, for ``created_by``: the person's username or the script's client id."""
    found = _jwt(event).get("claims") or {}
    name = found.get("username") or found.get("cognito:username") or found.get("client_id")
    return str(name)[:200] if name else None
