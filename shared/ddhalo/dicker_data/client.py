"""Dicker Data B2B client: access-key exchange, the two Subscriptions calls, tolerant parsing."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import requests
from pydantic import ValidationError

from ddhalo.dicker_data.models import Subscription, Tenant, clean_text
from ddhalo.errors import AuthenticationError, IntegrationError, UpstreamError
from ddhalo.http.body import describe_body, json_body
from ddhalo.http.credential import Credential, TokenCache
from ddhalo.http.transport import Transport
from ddhalo.redact import remember

SYSTEM = "Dicker Data"
API_VERSION = "1.0"
KEY_REFRESH_MARGIN = 60.0
DEFAULT_KEY_LIFETIME = 1800.0
ERROR_STATUSES = frozenset({"ERROR", "DENIED", "FAILED", "FAILURE", "INVALID", "EXPIRED"})
AUTH_WORDS = ("key", "token", "expire", "authori", "authenti")


ACCESS_ADVICE = (
    "Check the access token and account code with your Dicker Data account manager; "
    "a test token only works with environment 'test' and a production token with 'production'."
)


@dataclass
class InvalidRecord:
    """A record Dicker Data answered that we could not read: a per-item failure, not a crash."""

    ref: str
    reason: str
    index: int = 0  # position in the answer: tells apart several bad rows with the same id
    tenant_id: str = ""  # the row's TenantId when it could be read, to report it under its customer
    name: str = ""  # a readable name from the row, when it has one


@dataclass
class Parsed[T]:
    items: list[T] = field(default_factory=list)
    invalid: list[InvalidRecord] = field(default_factory=list)


class DickerDataClient:
    def __init__(
        self,
        transport: Transport,
        *,
        account_code: str,
        access_token: str,
        clock: Callable[[], float] = time.time,
        keys: TokenCache | None = None,
    ) -> None:
        self.transport = transport
        self.account_code = account_code
        self._access_token = access_token
        self._clock = clock
        who = (transport.base_url, account_code)
        self.key = Credential.of(
            who, access_token, self._new_key, keys, clock=clock, margin=KEY_REFRESH_MARGIN
        )
        self.key_requests = 0

    @property
    def host(self) -> str:
        return self.transport.base_url

    # -- auth -----------------------------------------------------------------------------
    def _new_key(self) -> tuple[str, float]:
        self.key_requests += 1
        response = self.transport.send(
            "POST",
            "AccessKeyRequest",
            json={
                "AccessToken": self._access_token,
                "AccountCode": self.account_code,
                "TransactionID": str(uuid.uuid4()),
            },
        )
        if response.status_code in (401, 403):
            raise self._refusal(response)
        self._raise_for_status(response, "the access-key request")
        body = json_body(response, SYSTEM, "the access-key request")
        if not isinstance(body, dict):
            raise UpstreamError(
                "Dicker Data answered the access-key request with an unexpected shape.",
                "Check the base URL.",
                system=SYSTEM,
            )
        # Public clients disagree on Status ("GRANTED" or undocumented words): a key answered
        # without an error is a key.
        key = body.get("AccessKey")
        if not key or not isinstance(key, str) or _is_error(body):
            status = str(body.get("Status") or "")
            message = body.get("Message") or body.get("ErrorDescription") or status or "no access key"
            raise AuthenticationError(
                f"Dicker Data did not grant an access key ({str(message)[:200]}).",
                ACCESS_ADVICE,
                system=SYSTEM,
            )
        remember(str(key))
        return str(key), _expiry(body.get("ExpireDateTime"), self._clock())

    def _refusal(self, response: requests.Response) -> IntegrationError:
        """A 401/403 to the key request: Dicker Data refusing the token answers in its API's JSON;
        anything else answered from somewhere that is not its API (a proxy, another host), and
        blaming the token would send the user the wrong way."""
        try:
            body = json.loads(response.content or b"null")
        except ValueError:
            body = None
        if isinstance(body, dict):
            return AuthenticationError(
                f"Dicker Data refused the access token ({describe_body(response)}).",
                ACCESS_ADVICE,
                system=SYSTEM,
            )
        what = describe_body(response) if response.content else "no body"
        return UpstreamError(
            f"{self.host} answered the access-key request with HTTP {response.status_code} and {what}, "
            "not an answer of Dicker Data's API.",
            "Check the region and environment, or dicker_data_base_url: the address may not be Dicker "
            "Data's B2B API (or a proxy between stands in the way).",
            system=SYSTEM,
            status_code=response.status_code,
        )

    @staticmethod
    def _headers(key: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {key}",
            "DD-TransactionID": str(uuid.uuid4()),
            "DD-ApiVersion": API_VERSION,
        }

    # -- calls ----------------------------------------------------------------------------
    def _call(
        self,
        path: str,
        payload: dict[str, Any],
        *,
        row_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
    ) -> list[Any]:
        """POST with the key; on 401/403 or an expired-key message, re-key once and retry.
        ``row_hook`` (a JSON ``object_pairs_hook``) may turn rows into records while decoding."""
        last: list[Any] = [None]  # the last answer's body, decoded once (it can be tens of MB)

        def refused(response: Any) -> bool:
            last[0] = json_body(response, SYSTEM, path, row_hook) if response.status_code < 400 else None
            return response.status_code in (401, 403) or _is_key_error(last[0])

        response, refused_again = self.key.send(
            self.transport, "POST", path, json={"In": payload}, headers=self._headers, refused=refused
        )
        if refused_again:
            raise AuthenticationError(
                f"Dicker Data refused a fresh access key for {path} ({describe_body(response)}).",
                ACCESS_ADVICE,
                system=SYSTEM,
            )
        self._raise_for_status(response, path)
        return _out(last[0], path)

    def get_tenants(self, tenant_id: str | None = None) -> Parsed[Tenant]:
        payload: dict[str, Any] = {"SubscriptionType": "CSP"}
        if tenant_id:
            payload["TenantID"] = tenant_id
        return _parse(self._call("Subscriptions/GetTenant", payload), Tenant, "TenantId", Tenant.from_api)

    def get_subscriptions(
        self, tenant_id: str | None = None, subscription_id: str | None = None
    ) -> Parsed[Subscription]:
        payload: dict[str, Any] = {"SubscriptionType": "CSP"}
        if tenant_id:
            payload["TenantID"] = tenant_id
        if subscription_id:
            payload["SubscriptionId"] = subscription_id
        # An answer without rows and without an error is "no subscriptions" (a public production
        # client had to learn this): a customer whose subscriptions are all gone answers that way.
        rows = self._call(
            "Subscriptions/GetSubscriptionDetails",
            payload,
            row_hook=_building(Subscription.from_api, ("SubscriptionId", "SubscriptionID")),
        )
        return _parse(rows, Subscription, "SubscriptionId", Subscription.from_api)

    def customer_names(self, tenant_ids: Sequence[str], per_tenant_below: int = 10) -> dict[str, str]:
        """Names of customers as their subscription rows give them (``CompanyName``, else
        ``TenantDescription``), for customers GetTenant answered without one. A few customers are
        read one by one; more in one call whose rows are cut to (TenantId, name) as they decode."""
        wanted = {t for t in tenant_ids if t}
        if not wanted:
            return {}
        payloads: list[dict[str, Any]] = (
            [{"SubscriptionType": "CSP", "TenantID": t} for t in sorted(wanted)]
            if len(wanted) < per_tenant_below
            else [{"SubscriptionType": "CSP"}]
        )
        names: dict[str, str] = {}
        for payload in payloads:
            rows = self._call("Subscriptions/GetSubscriptionDetails", payload, row_hook=_naming)
            for row in rows:
                if isinstance(row, tuple) and row[0] in wanted and row[1]:
                    names.setdefault(row[0], row[1])
        return names

    def _raise_for_status(self, response: Any, what: str) -> None:
        if response.status_code < 400:
            return
        if response.status_code == 404:
            raise UpstreamError(
                f"Dicker Data answered 404 Not Found for {what} at {self.host}.",
                "Check the region and environment (or the base URL override): the host may not be "
                "Dicker Data's B2B API.",
                system=SYSTEM,
                status_code=404,
            )
        raise UpstreamError(
            f"Dicker Data answered HTTP {response.status_code} for {what}: {describe_body(response)}",
            "Try again later; if it persists, send the message to your Dicker Data account manager.",
            system=SYSTEM,
            status_code=response.status_code,
        )


def _expiry(value: Any, now: float) -> float:
    if value:
        try:
            parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            if parsed.tzinfo is None:  # Dicker Data sends local-looking stamps: trust only the span
                return now + DEFAULT_KEY_LIFETIME
            return parsed.timestamp()
        except ValueError:
            pass
    return now + DEFAULT_KEY_LIFETIME


def _is_error(body: dict[str, Any]) -> bool:
    """Dicker Data's error bodies carry an error Status or an ErrorDescription."""
    return str(body.get("Status") or "").upper() in ERROR_STATUSES or bool(body.get("ErrorDescription"))


def _is_key_error(body: Any) -> bool:
    if not isinstance(body, dict) or "Out" in body:
        return False
    status = str(body.get("Status") or "").upper()
    message = f"{body.get('Message') or ''} {body.get('ErrorDescription') or ''}".lower()
    return status in ERROR_STATUSES and any(word in message for word in AUTH_WORDS)


def _out(body: Any, path: str) -> list[Any]:
    """The rows of an answer; ``Out`` missing or null without an error means none."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        out = body.get("Out")
        if out is None and _is_error(body):
            message = body.get("Message") or body.get("ErrorDescription") or body.get("Status")
            raise UpstreamError(
                f"Dicker Data answered an error for {path}: {str(message)[:200]}",
                "Check the account code; if it persists, ask your Dicker Data account manager.",
                system=SYSTEM,
            )
        if out is None:
            return []
        if isinstance(out, list):
            return out
        if isinstance(out, dict | Subscription | _Unread):  # one row, not in a list
            return [out]
    raise UpstreamError(
        f"Dicker Data answered {path} with an unexpected shape (no 'Out' list).",
        "Check the base URL points at the B2B API.",
        system=SYSTEM,
    )


@dataclass(slots=True)
class _Unread:
    """A row the decoder could not make a record of, kept until ``_parse`` reports it."""

    row: dict[str, Any]
    error: Exception


_ROW_ERRORS = (ValidationError, ValueError, TypeError, ArithmeticError)


def _naming(pairs: list[tuple[str, Any]]) -> Any:
    """A JSON ``object_pairs_hook`` keeping of each subscription row only its customer and name."""
    row = dict(pairs)
    if "SubscriptionId" not in row and "SubscriptionID" not in row:
        return row
    tenant = row.get("TenantId", row.get("TenantID"))
    name = row.get("CompanyName") or row.get("TenantDescription")
    return (_text(tenant), _text(name))


def _building(
    build: Callable[[dict[str, Any]], Any], keys: tuple[str, ...]
) -> Callable[[list[tuple[str, Any]]], Any]:
    """A JSON ``object_pairs_hook`` making each row (an object with one of ``keys``) its record as
    soon as it is decoded: a 50,000-row answer never exists as 50,000 dicts at once."""

    def hook(pairs: list[tuple[str, Any]]) -> Any:
        row = dict(pairs)
        if not any(key in row for key in keys):
            return row
        try:
            return build(row)
        except _ROW_ERRORS as exc:
            return _Unread(row, exc)

    return hook


def _parse[T](rows: list[Any], model: type[T], key: str, build: Callable[[dict[str, Any]], T]) -> Parsed[T]:
    parsed: Parsed[T] = Parsed()
    for index, row in enumerate(rows):
        rows[index] = None  # consumed: each decoded row is freed as its record is made
        if isinstance(row, model):  # made while decoding
            parsed.items.append(row)
            continue
        error: Exception | None = None
        if isinstance(row, _Unread):
            error, row = row.error, row.row
        elif not isinstance(row, dict):
            parsed.invalid.append(
                InvalidRecord(f"#{index}", f"not a JSON object: {type(row).__name__}", index)
            )
            continue
        else:
            try:
                parsed.items.append(build(row))
            except _ROW_ERRORS as exc:
                error = exc
        if error is not None:
            parsed.invalid.append(
                InvalidRecord(
                    _text(row.get(key))[:100] or f"#{index}",
                    f"unreadable {model.__name__}: {_first_error(error)}",
                    index,
                    _text(row.get("TenantId")),
                    _text(
                        row.get("CompanyName") or row.get("TenantDescription") or row.get("StockDescription")
                    )[:200],
                )
            )
    return parsed


def _text(value: Any) -> str:
    """A field of a bad row, only when it is plain text (never a repr of an object)."""
    return clean_text(value) if isinstance(value, str) else ""


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"[:200]
    return str(exc)[:200]
