"""Halo's OAuth side in the fake: the client-credentials token endpoint, bearer tokens and scopes.

Halo's OAuth server lives at `/auth` beside the API; the product trades its client id and
secret for a token there, and every API call is refused (401) without a live one, or (403)
when its scopes do not cover the call.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable

from .halo_base import DENIED, HaloBase, Token
from .http_messages import HttpError, Request, Response, json_response


def covers(granted: Iterable[str], needed: str) -> bool:
    """Whether `granted` scopes allow `needed`: "all" allows everything, edit implies read."""
    granted = set(granted)
    if "all" in granted or needed in granted:
        return True
    action, _, area = needed.partition(":")
    return action == "read" and f"edit:{area}" in granted


def _valid_scope(scope: str) -> bool:
    action, sep, area = scope.partition(":")
    return scope == "all" or (sep == ":" and action in ("read", "edit") and bool(area))


class HaloAuth(HaloBase):
    """Token endpoint, token checks and expiry of the Halo fake."""

    def expire_tokens(self, older_than: float = 0.0) -> None:
        """Revoke the access tokens issued more than ``older_than`` seconds ago (all, by default),
        to simulate expiry in the middle of a run: a token lasts its age, never less."""
        with self.lock:
            born_after = time.time() - older_than
            self.tokens = {k: t for k, t in self.tokens.items() if t.expires_at - self.token_ttl > born_after}

    def _token(self, request: Request) -> Response:
        """`POST /auth/token`: a bearer token for the client credentials, or OAuth's 400."""
        self.token_requests += 1
        form = request.form or {}
        requested = form.get("scope", "").split() or list(self.scopes)
        refusal = self._token_refusal(request, form, requested)
        if refusal is not None:
            error, description = refusal
            return json_response(400, {"error": error, "error_description": description})
        access_token = secrets.token_urlsafe(32)
        self.tokens[access_token] = Token(time.time() + self.token_ttl, frozenset(requested))
        return json_response(
            200,
            {
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": self.token_ttl,
                "scope": " ".join(requested),
            },
        )

    def _token_refusal(
        self, request: Request, form: dict[str, str], requested: list[str]
    ) -> tuple[str, str] | None:
        """OAuth's (error, description) for a token request that is refused, else None."""
        if self.tenant is not None and (request.param("tenant") or "") != self.tenant:
            return "invalid_request", "Unknown tenant"
        grant_type = form.get("grant_type")
        if not grant_type:
            return "invalid_request", "grant_type is required"
        if grant_type != "client_credentials":
            return "unsupported_grant_type", f"Unsupported grant_type {grant_type!r}"
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return "invalid_client", "Invalid client_id or client_secret"
        if not all(_valid_scope(s) and covers(self.scopes, s) for s in requested):
            return "invalid_scope", f"Scope not allowed: {' '.join(requested)}"
        return None

    def _authenticate(self, request: Request) -> Token:
        """The live token the request bears, or Halo's 401."""
        scheme, _, value = (request.header("Authorization") or "").strip().partition(" ")
        token = self.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None or time.time() >= token.expires_at:
            raise HttpError(json_response(401, DENIED))
        return token
