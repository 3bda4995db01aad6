"""Halo's token: asking its auth server for a client-credentials token, and wording a refusal
(a ``halo_auth_failed`` error when the credentials, tenant or scope are wrong)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import requests

from ddhalo.errors import AuthenticationError, IntegrationError, PermissionDeniedError, UpstreamError
from ddhalo.halo import SYSTEM
from ddhalo.http.body import describe_body, json_body
from ddhalo.http.credential import Credential, TokenCache
from ddhalo.http.transport import Transport
from ddhalo.redact import remember

TOKEN_REFRESH_MARGIN = 120.0

SCOPE_HINT = (
    "In Halo (Configuration > Integrations > Halo API) give the API application permission to "
    "read and edit customers and software licences, or the 'all' scope."
)
CREDENTIALS_HINT = (
    "Check the Halo API application's client id and secret (authentication method 'Client ID and "
    "Secret (Services)'), and for hosted Halo the tenant name."
)


@dataclass
class HaloAuth:
    """Halo's auth server, asked for a token when the :class:`Credential` it backs needs one."""

    transport: Transport
    auth_url: str
    client_id: str
    client_secret: str = field(repr=False)
    tenant: str | None = None
    scope: str = "all"
    clock: Callable[[], float] = time.time
    asked: int = field(default=0, init=False)  # how many tokens were asked for

    def __post_init__(self) -> None:
        self.auth_url = self.auth_url.rstrip("/")

    def credential(self, tokens: TokenCache | None) -> Credential:
        """The token as a credential, kept in ``tokens`` (shared by the clients of a container)."""
        who = (self.auth_url, self.tenant or "", self.client_id, self.scope)
        fetch, secret = self.new_token, self.client_secret
        return Credential.of(who, secret, fetch, tokens, clock=self.clock, margin=TOKEN_REFRESH_MARGIN)

    def new_token(self) -> tuple[str, float]:
        """A fresh token and when it expires (epoch seconds)."""
        self.asked += 1
        response = self.transport.send(
            "POST",
            f"{self.auth_url}/token",
            params={"tenant": self.tenant} if self.tenant else None,
            data={
                "grant_type": "client_credentials",
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "scope": self.scope,
            },
        )
        if response.status_code >= 400:
            raise self._refusal(response)
        body = json_body(response, SYSTEM, "the token request")
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token:
            raise UpstreamError(
                "Halo's token endpoint answered without an access_token.",
                "Check halo_auth_url: it should be your Halo URL ending in /auth.",
                system=SYSTEM,
            )
        try:
            lifetime = float(body.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0
        remember(str(token))
        return str(token), self.clock() + lifetime

    def _refusal(self, response: requests.Response) -> IntegrationError:
        """What a token request answered with an error status says is wrong, and where to fix it."""
        detail = describe_body(response)
        lowered = detail.lower()
        if "invalid_scope" in lowered:
            return PermissionDeniedError(
                f"Halo refused the API scope '{self.scope}' ({detail}).", SCOPE_HINT, system=SYSTEM
            )
        if "tenant" in lowered:
            return AuthenticationError(
                f"Halo's auth server did not accept the tenant ({detail}).",
                "Set halo_tenant to your hosted Halo tenant name (or clear it for self-hosted Halo).",
                system=SYSTEM,
            )
        if response.status_code == 404:
            return UpstreamError(
                f"Halo's token endpoint was not found at {self.auth_url}/token.",
                "Check halo_auth_url (or halo_api_url): your Halo URL ending in /auth and /api.",
                system=SYSTEM,
                status_code=404,
            )
        if response.status_code in (400, 401, 403):
            return AuthenticationError(
                f"Halo rejected the API credentials ({detail}).", CREDENTIALS_HINT, system=SYSTEM
            )
        return UpstreamError(
            f"Halo's token endpoint answered HTTP {response.status_code}: {detail}",
            "Try again later.",
            system=SYSTEM,
            status_code=response.status_code,
        )
