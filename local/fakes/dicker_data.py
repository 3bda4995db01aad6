"""Fake of the Dicker Data B2B API (access keys + CSP tenants and subscriptions).

Models what public clients show of the real API (see docs/spec "Dicker Data B2B API"):
`POST AccessKeyRequest` trades the account's access token for a short-lived access key, and
every data call needs `Authorization: Bearer <key>`, `DD-TransactionID` and `DD-ApiVersion: 1.0`.
Records are served exactly as stored, so tests can add unknown fields or drop optional ones.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Literal

from ._server import FakeServer
from .dicker_data_records import FieldIndex, Record, RecordList, norm
from .http_messages import HTML_TYPE, HttpError, Request, Response, json_response, text_response

DenyStyle = Literal["status", "http401"]
EmptyOut = Literal["list", "null", "missing"]

API_VERSION = "1.0"
INVALID_KEY_MESSAGE = "Access key is invalid or has expired"
DENIED_MESSAGE = "Invalid AccessToken or AccountCode"

_IIS_404 = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
    '<html xmlns="http://www.w3.org/1999/xhtml"><head>'
    '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"/>'
    "<title>404 - File or directory not found.</title></head><body>"
    '<div id="header"><h1>Server Error</h1></div><div id="content">'
    "<fieldset><h2>404 - File or directory not found.</h2>"
    "<h3>The resource you are looking for might have been removed, had its name changed, "
    "or is temporarily unavailable.</h3></fieldset></div></body></html>"
)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


class DickerDataFake(FakeServer):
    """Fake Dicker Data B2B API; `base_url` is `http://127.0.0.1:<port>/api/` like the real host.

    `deny_style` picks how a wrong token/account code is refused: `"status"` (200 with
    `"Status": "DENIED"`) or `"http401"` (401), as clients must cope with both.

    Real deployments differ where public clients disagree, so tolerance tests can pick:
    `grant_status` is the `Status` of a granted access key (`"GRANTED"`; other words are seen,
    None leaves the field out), and `empty_out` how an answer with no rows is shaped:
    `"list"` (`{"Out": []}`), `"null"` (`{"Out": null}`) or `"missing"` (`{}`).
    """

    data_paths = ("/api/Subscriptions/",)

    def __init__(
        self,
        account_code: str = "ACME01",
        access_token: str = "dd-test-token",  # noqa: S107 - a fake's well-known test credential
        key_ttl: float = 3600,
        tenants: Iterable[Record] | None = None,
        subscriptions: Iterable[Record] | None = None,
        deny_style: DenyStyle = "status",
        seed: int = 0,
        *,
        grant_status: str | None = "GRANTED",
        empty_out: EmptyOut = "list",
        port: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        if deny_style not in ("status", "http401"):
            raise ValueError(f"deny_style must be 'status' or 'http401', not {deny_style!r}")
        if empty_out not in ("list", "null", "missing"):
            raise ValueError(f"empty_out must be 'list', 'null' or 'missing', not {empty_out!r}")
        super().__init__(port=port, host=host, seed=seed)
        self.account_code = account_code
        self.access_token = access_token
        self.key_ttl = key_ttl
        self.deny_style: DenyStyle = deny_style
        self.grant_status = grant_status
        self.empty_out: EmptyOut = empty_out
        #: Granted access keys → expiry (epoch seconds).
        self.keys: dict[str, float] = {}
        #: Calls to AccessKeyRequest (granted or not).
        self.key_requests = 0
        self._tenants = RecordList(tenants or ())
        self._subscriptions = RecordList(subscriptions or ())
        self._tenant_by_id = FieldIndex("TenantId")
        self._subs_by_tenant = FieldIndex("TenantId")
        self._subs_by_id = FieldIndex("SubscriptionId")

    # -- data ------------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """API root with a trailing slash, like `https://b2b-api.dickerdata.com.au/api/`."""
        return f"{self.root_url}/api/"

    @property
    def tenants(self) -> RecordList:
        """GetTenant records, served as stored; mutate freely (assigning a list works too)."""
        return self._tenants

    @tenants.setter
    def tenants(self, records: Iterable[Record]) -> None:
        with self.lock:
            self._tenants = RecordList(records)

    @property
    def subscriptions(self) -> RecordList:
        """GetSubscriptionDetails records, served as stored."""
        return self._subscriptions

    @subscriptions.setter
    def subscriptions(self, records: Iterable[Record]) -> None:
        with self.lock:
            self._subscriptions = RecordList(records)

    def reindex(self) -> None:
        """Rebuild lookups after editing a record's TenantId/SubscriptionId in place."""
        with self.lock:
            for index in (self._tenant_by_id, self._subs_by_tenant, self._subs_by_id):
                index.invalidate()

    def add_tenant(self, tenant: Record) -> Record:
        """Append a GetTenant record (not validated) and return it."""
        with self.lock:
            self._tenants.append(tenant)
        return tenant

    def add_subscription(self, subscription: Record) -> Record:
        """Append a subscription record (not validated) and return it."""
        with self.lock:
            self._subscriptions.append(subscription)
        return subscription

    def subscription(self, subscription_id: str) -> Record:
        """The stored record of `subscription_id` (KeyError if absent)."""
        with self.lock:
            found = self._subs_by_id.lookup(self._subscriptions, subscription_id)
        if not found:
            raise KeyError(subscription_id)
        return found[0]

    def set_quantity(self, subscription_id: str, quantity: int) -> None:
        """Change `ConfirmedQuantity`, as when the MSP adds seats at Dicker Data."""
        with self.lock:
            self.subscription(subscription_id)["ConfirmedQuantity"] = quantity

    def set_status(self, subscription_id: str, status: str) -> None:
        """Change `Status` (ACTIVE / SUSPENDED / CANCELLED)."""
        with self.lock:
            self.subscription(subscription_id)["Status"] = status

    def remove_subscription(self, subscription_id: str) -> None:
        """Make a subscription vanish from the answers (as real ones can)."""
        with self.lock:
            self._subscriptions.remove(self.subscription(subscription_id))

    def _reset_counters(self) -> None:
        self.key_requests = 0

    def expire_keys(self, older_than: float = 0.0) -> None:
        """Revoke the access keys granted more than ``older_than`` seconds ago (all, by default),
        to simulate expiry in the middle of a run."""
        with self.lock:
            born_after = time.time() - older_than
            self.keys = {k: e for k, e in self.keys.items() if e - self.key_ttl > born_after}

    # -- HTTP ------------------------------------------------------------------------------

    def error_response(self, status: int, message: str | None = None) -> Response:
        """Dicker Data's error shape: Status / Message / ErrorDescription."""
        headers = {"Retry-After": "1"} if status == 429 else {}
        default = {429: "Too many requests", 401: INVALID_KEY_MESSAGE}.get(status, "An error has occurred")
        text = message or default
        return json_response(
            status,
            {"Status": "ERROR", "Message": text, "ErrorDescription": f"HTTP {status}"},
            headers,
        )

    def handle(self, request: Request) -> Response:
        route = request.path.rstrip("/").lower()
        if route == "/api/accesskeyrequest":
            self._require_post(request)
            return self._access_key(request)
        if route == "/api/subscriptions/gettenant":
            self._require_post(request)
            self._authorize(request)
            return self._get_tenant(self._read_in(request))
        if route == "/api/subscriptions/getsubscriptiondetails":
            self._require_post(request)
            self._authorize(request)
            return self._get_subscription_details(self._read_in(request))
        # A wrong base URL reaches IIS, which answers an HTML page, not JSON.
        return text_response(404, _IIS_404, HTML_TYPE)

    @staticmethod
    def _bad_request(message: str, description: str) -> HttpError:
        return HttpError(
            json_response(400, {"Status": "ERROR", "Message": message, "ErrorDescription": description})
        )

    @staticmethod
    def _require_post(request: Request) -> None:
        if request.method != "POST":
            raise HttpError(
                json_response(
                    405,
                    {"Message": f"The requested resource does not support http method '{request.method}'."},
                )
            )

    def _access_key(self, request: Request) -> Response:
        self.key_requests += 1
        body = request.json
        if request.json_error is not None or not isinstance(body, dict):
            raise self._bad_request("Invalid request", "The request body must be a JSON object.")
        required = ("AccessToken", "AccountCode", "TransactionID")
        missing = [name for name in required if not str(body.get(name) or "").strip()]
        if missing:
            raise self._bad_request("Invalid request", f"Missing required field(s): {', '.join(missing)}")
        transaction_id = body["TransactionID"]
        valid = body["AccessToken"] == self.access_token and (
            str(body["AccountCode"]).strip().upper() == self.account_code.upper()
        )
        if not valid:
            if self.deny_style == "http401":
                return json_response(401, {"Status": "DENIED", "Message": DENIED_MESSAGE})
            return json_response(
                200,
                {
                    "TransactionID": transaction_id,
                    "AccessKey": None,
                    "CreationDateTime": None,
                    "ExpireDateTime": None,
                    "Status": "DENIED",
                    "Message": DENIED_MESSAGE,
                },
            )
        key = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        self.keys[key] = time.time() + self.key_ttl
        granted: Record = {
            "TransactionID": transaction_id,
            "AccessKey": key,
            "CreationDateTime": _iso(now),
            "ExpireDateTime": _iso(now + timedelta(seconds=self.key_ttl)),
            "Status": self.grant_status,
            "Message": "Access key granted",
        }
        if self.grant_status is None:
            del granted["Status"]
        return json_response(200, granted)

    def _authorize(self, request: Request) -> None:
        scheme, _, key = (request.header("Authorization") or "").strip().partition(" ")
        expiry = self.keys.get(key.strip()) if scheme.lower() == "bearer" else None
        if expiry is None or time.time() >= expiry:
            raise HttpError(json_response(401, {"Status": "ERROR", "Message": INVALID_KEY_MESSAGE}))
        if not (request.header("DD-TransactionID") or "").strip():
            raise self._bad_request("Invalid request", "The DD-TransactionID header is required.")
        version = (request.header("DD-ApiVersion") or "").strip()
        if version != API_VERSION:
            raise self._bad_request(
                "Invalid request",
                f"Unsupported DD-ApiVersion {version!r}; supported: {API_VERSION}.",
            )

    def _read_in(self, request: Request) -> Record:
        body = request.json
        if request.json_error is not None or not isinstance(body, dict):
            raise self._bad_request("Invalid request", "The request body must be a JSON object.")
        inner = body.get("In")
        if not isinstance(inner, dict):
            raise self._bad_request("Invalid request", "The request body must contain 'In'.")
        if not str(inner.get("SubscriptionType") or "").strip():
            raise self._bad_request("Invalid request", "In.SubscriptionType is required.")
        return inner

    def _out(self, rows: list[Record]) -> Response:
        """`{"Out": rows}`; with no rows, shaped as `empty_out` says."""
        if rows or self.empty_out == "list":
            return json_response(200, {"Out": rows})
        return json_response(200, {"Out": None} if self.empty_out == "null" else {})

    def _get_tenant(self, inner: Record) -> Response:
        if str(inner["SubscriptionType"]).strip().upper() != "CSP":
            return self._out([])
        tenant_id = inner.get("TenantID")
        out = self._tenant_by_id.lookup(self._tenants, tenant_id) if tenant_id else list(self._tenants)
        return self._out(out)

    def _get_subscription_details(self, inner: Record) -> Response:
        if str(inner["SubscriptionType"]).strip().upper() != "CSP":
            return self._out([])
        tenant_id, subscription_id = inner.get("TenantID"), inner.get("SubscriptionId")
        if subscription_id:
            out = self._subs_by_id.lookup(self._subscriptions, subscription_id)
            if tenant_id:
                out = [r for r in out if norm(r.get("TenantId")) == norm(tenant_id)]
        elif tenant_id:
            out = self._subs_by_tenant.lookup(self._subscriptions, tenant_id)
        else:
            out = list(self._subscriptions)
        return self._out(out)
