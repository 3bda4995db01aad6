"""Fake of the HaloPSA API: OAuth2 client credentials, Client/Site/TopLevel/SoftwareLicence.

Models the documented behaviour the project relies on (docs/spec "Halo API" and
HALO_FIELDS.md), as strictly as real hosted Halo, because a kinder fake hides real bugs:

- every API request is checked against Halo's published OpenAPI document (`halo_openapi`); a
  non-conforming one answers 400 and is kept in `violations`;
- paged lists serve at most `max_page_size` (100, as hosted Halo) records per page whatever
  `page_size` asks, with filters; array writes create or partially update, validated per batch;
- scopes; a rolling-window rate limit and `saturate` (another integration filling the shared
  window), whose 429s carry no `Retry-After` (hosted Halo sends none) unless `retry_after`;
- Halo's assorted error bodies (`{"ClassName","Message"}`, `{"Message"}`, `{"error"}`, text).

Nothing is ever deleted: DELETE answers 405.
"""

from __future__ import annotations

import itertools
import math
import secrets
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from . import halo_openapi
from ._server import (
    FakeServer,
    HttpError,
    Request,
    Response,
    json_response,
    text_response,
)

Record = dict[str, Any]
TopLevelStyle = Literal["keyed", "bare"]

DENIED = {"Message": "Authorization has been denied for this request."}
INSUFFICIENT_SCOPE = "Insufficient scope to access this resource"
TOO_MANY_REQUESTS = {"ClassName": "TooManyRequests", "Message": "Rate limit exceeded"}
#: Records per page hosted Halo serves at most, whatever `page_size` asks.
MAX_PAGE_SIZE = 100
DEFAULT_PAGE_SIZE = 50
ADDRESS_LINES = ("line1", "line2", "line3", "line4", "postcode")


def _id_key(value: Any) -> Any:
    """Normalise an id for comparison: Halo ids may arrive as 5, 5.0 or "5"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


class Table(dict[int, Record]):
    """id → record, with an optional index by one field (`client_id`) kept in step on writes.

    Item assignment (`table[id] = record`) updates the index; in-place edits of the indexed
    field of a stored record are not seen until `reindex()` (lookups re-check the field, so a
    moved record is never returned for its old value).
    """

    def __init__(self, index_field: str | None = None) -> None:
        super().__init__()
        self.index_field = index_field
        self._index: dict[Any, dict[int, None]] = {}
        self._indexed: dict[int, Any] = {}
        self._next_id = 1

    def __setitem__(self, key: int, record: Record) -> None:
        super().__setitem__(key, record)
        self._next_id = max(self._next_id, key + 1)
        if self.index_field is not None:
            self._unindex(key)
            value = _id_key(record.get(self.index_field))
            self._index.setdefault(value, {})[key] = None
            self._indexed[key] = value

    def __delitem__(self, key: int) -> None:
        super().__delitem__(key)
        self._unindex(key)

    def _unindex(self, key: int) -> None:
        if key in self._indexed:
            self._index.get(self._indexed.pop(key), {}).pop(key, None)

    def next_id(self) -> int:
        """The next free integer id (ids are never reused)."""
        while self._next_id in self:
            self._next_id += 1
        return self._next_id

    def reindex(self) -> None:
        """Rebuild the index from scratch (after bulk `dict` methods or in-place edits)."""
        self._index.clear()
        self._indexed.clear()
        for key, record in self.items():
            self[key] = record

    def ids_where(self, value: Any) -> list[int]:
        """Ids whose indexed field equals `value`, sorted."""
        field = self.index_field
        if field is None:
            raise TypeError("table has no index")
        if len(self._indexed) != len(self):  # changed behind our back (update/pop/clear)
            self.reindex()
        key = _id_key(value)
        ids = self._index.get(key, {})
        return sorted(i for i in ids if i in self and _id_key(self[i].get(field)) == key)


class _TableAttr:
    """Attribute holding a `Table`: assigning any mapping (`fake.clients = {}`) re-wraps it,
    so tests can replace data wholesale without losing the index."""

    def __init__(self, index_field: str | None = None) -> None:
        self.index_field = index_field
        self.slot = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, obj: Any, objtype: type | None = None) -> Table:
        table: Table = getattr(obj, self.slot)
        return table

    def __set__(self, obj: Any, records: Mapping[int, Record]) -> None:
        table = Table(self.index_field)
        for key, record in records.items():
            table[key] = record
        setattr(obj, self.slot, table)


@dataclass(frozen=True)
class _Entity:
    name: str
    list_key: str
    area: str
    writable: bool


_ENTITIES = {
    "client": _Entity("Client", "clients", "customers", True),
    "site": _Entity("Site", "sites", "customers", True),
    "toplevel": _Entity("TopLevel", "tree", "customers", False),
    "softwarelicence": _Entity("SoftwareLicence", "licences", "software", True),
}


@dataclass(frozen=True)
class Token:
    """A granted access token: expiry (epoch seconds) and scopes."""

    expires_at: float
    scopes: frozenset[str]


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


def _stored(item: Record, create_only_prefix: str | None = None) -> Record:
    """Fields to store: not `id`, not `_isimport`-style flags, not create-only instructions
    (`newclient_*`), which Halo acts on but does not keep."""
    return {
        k: v
        for k, v in item.items()
        if k != "id"
        and not k.startswith("_")
        and not (create_only_prefix and k.startswith(create_only_prefix))
    }


def _address(given: Any) -> Record:
    """An AddressStore with line1..line4 and postcode always present."""
    extra = {k: v for k, v in given.items() if not k.startswith("_")} if isinstance(given, dict) else {}
    return {**dict.fromkeys(ADDRESS_LINES, ""), **extra}


class HaloFake(FakeServer):
    """Fake HaloPSA: `api_url` = `http://127.0.0.1:<port>/api`, `auth_url` = `.../auth`.

    `rate_limit=N` answers 429 past N API requests per rolling `rate_window` seconds (hosted
    Halo: 300 per 5 minutes); `saturate(seconds)` answers 429 to every API request for a
    while. Hosted Halo's 429s carry no `Retry-After`; `retry_after=True` adds one (the
    rolling window's: seconds until a slot frees; injected faults: "1").
    `max_page_size` caps the records of a list page (hosted Halo: 100).
    `check_openapi` (default on) checks every API request against Halo's OpenAPI document:
    a non-conforming one answers 400 and its problems go to `violations`.
    `toplevel_style` picks the TopLevel list shape (its key is unconfirmed): `"keyed"`
    (`{"record_count","tree"}`) or `"bare"` (a JSON array). `single_post_returns_object`
    answers a one-element write with an object, as some Halo versions do.
    """

    data_paths = ("/api/Client", "/api/Site", "/api/TopLevel", "/api/SoftwareLicence")
    #: Data, id → record. Sites and licences are indexed by client_id.
    clients = _TableAttr()
    sites = _TableAttr("client_id")
    toplevels = _TableAttr()
    licences = _TableAttr("client_id")

    def __init__(
        self,
        client_id: str = "halo-client",
        client_secret: str = "halo-secret",  # noqa: S107 - a fake's well-known test credential
        scopes: Iterable[str] = ("all",),
        tenant: str | None = None,
        token_ttl: int = 3600,
        rate_limit: int | None = None,
        rate_window: float = 300.0,
        toplevel_style: TopLevelStyle = "keyed",
        single_post_returns_object: bool = False,
        seed: int = 0,
        *,
        max_page_size: int = MAX_PAGE_SIZE,
        retry_after: bool = False,
        check_openapi: bool = True,
        port: int = 0,
        host: str = "127.0.0.1",
    ) -> None:
        if toplevel_style not in ("keyed", "bare"):
            raise ValueError(f"toplevel_style must be 'keyed' or 'bare', not {toplevel_style!r}")
        if max_page_size < 1:
            raise ValueError(f"max_page_size must be at least 1, not {max_page_size!r}")
        super().__init__(port=port, host=host, seed=seed)
        self.client_id = client_id
        self.client_secret = client_secret
        self.scopes: tuple[str, ...] = tuple(scopes)
        self.tenant = tenant
        self.token_ttl = token_ttl
        self.rate_limit = rate_limit
        self.rate_window = rate_window
        self.toplevel_style: TopLevelStyle = toplevel_style
        self.single_post_returns_object = single_post_returns_object
        self.max_page_size = max_page_size
        self.retry_after = retry_after
        self.check_openapi = check_openapi
        #: "METHOD /path: problem" for each way an API request did not match Halo's OpenAPI
        #: document, even when it was throttled; `reset_calls` keeps them, and the pytest
        #: fixture fails the test on any.
        self.violations: list[str] = []
        #: Granted access tokens.
        self.tokens: dict[str, Token] = {}
        #: Calls to POST /auth/token (granted or not).
        self.token_requests = 0
        #: Records created + updated through the API (seeding helpers do not count).
        self.writes = 0
        self.created = 0
        self.updated = 0
        self.clients = self.sites = self.toplevels = self.licences = {}
        self._hits: deque[float] = deque()
        self._saturated_until = 0.0
        self._azure_ids = itertools.count(1)

    # -- urls ------------------------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """`http://127.0.0.1:<port>/api` (no trailing slash), like `HALO_API_URL`."""
        return f"{self.root_url}/api"

    @property
    def auth_url(self) -> str:
        """`http://127.0.0.1:<port>/auth`, as answered by `GET /api/authinfo`."""
        return f"{self.root_url}/auth"

    @property
    def base_url(self) -> str:
        """Alias of `api_url`, so both fakes share the attribute."""
        return self.api_url

    def _reset_counters(self) -> None:
        self.token_requests = self.writes = self.created = self.updated = 0

    def expire_tokens(self, older_than: float = 0.0) -> None:
        """Revoke the access tokens issued more than ``older_than`` seconds ago (all, by default),
        to simulate expiry in the middle of a run: a token lasts its age, never less."""
        with self.lock:
            born_after = time.time() - older_than
            self.tokens = {k: t for k, t in self.tokens.items() if t.expires_at - self.token_ttl > born_after}

    def saturate(self, seconds: float) -> None:
        """Keep the shared rate-limit window full for `seconds`, as another integration of the
        same MSP can: every API request (not `/auth/token`) arriving meanwhile answers 429.
        `saturate(0)` ends it at once."""
        with self.lock:
            self._saturated_until = time.monotonic() + max(seconds, 0.0)

    # -- seeding helpers -------------------------------------------------------------------

    def add_toplevel(self, name: str, **fields: Any) -> Record:
        """Create a top level (Halo's client grouping) and return its record."""
        with self.lock:
            record = {"id": self.toplevels.next_id(), "name": name, **fields}
            self.toplevels[record["id"]] = record
            return record

    def add_client(self, name: str, toplevel_id: int | None = None, **fields: Any) -> Record:
        """Create a client with its main site, exactly as `POST /api/Client` would."""
        item = {"name": name, **fields}
        if toplevel_id is not None:
            item["toplevel_id"] = toplevel_id
        return self._seed(self._validate_client, self._save_client, item)

    def add_site(self, client_id: int, name: str, **fields: Any) -> Record:
        """Create a site of `client_id`."""
        item = {"client_id": client_id, "name": name, **fields}
        return self._seed(self._validate_site, self._save_site, item)

    def add_licence(self, client_id: int, name: str, **fields: Any) -> Record:
        """Create a software licence (subscription) of `client_id`."""
        item = {"client_id": client_id, "name": name, **fields}
        return self._seed(self._validate_licence, self._save_licence, item)

    def _seed(
        self,
        validate: Callable[[Record, Record | None], str | None],
        save: Callable[[Record | None, Record], Record],
        item: Record,
    ) -> Record:
        with self.lock:
            problem = validate(item, None)
            if problem:
                raise ValueError(problem)
            return save(None, item)

    # -- HTTP ------------------------------------------------------------------------------

    def error_response(self, status: int, message: str | None = None) -> Response:
        """Halo's error shapes, which vary by status."""
        if status == 429:
            return self._too_many(1, message)
        if status == 401:
            return json_response(401, DENIED)
        if status == 403:
            return text_response(403, message or INSUFFICIENT_SCOPE)
        return json_response(
            status, {"ClassName": "Exception", "Message": message or "An error has occurred."}
        )

    def _too_many(self, seconds: float, message: str | None = None) -> Response:
        """Halo's 429; `Retry-After` only when configured (hosted Halo sends none)."""
        headers = {"Retry-After": str(max(1, math.ceil(seconds)))} if self.retry_after else {}
        return json_response(
            429, {**TOO_MANY_REQUESTS, "Message": message or TOO_MANY_REQUESTS["Message"]}, headers
        )

    @staticmethod
    def _is_api(request: Request) -> bool:
        low = request.path.lower()
        return low == "/api" or low.startswith("/api/")

    def admit(self, request: Request) -> Response | None:
        """Before faults and handling, as at Halo's edge: check the request against the API
        document (recording violations), then throttle, then refuse a non-conforming one."""
        if not self._is_api(request):
            return None  # /auth/token: Halo's OAuth server, validated by `_token`
        problems = self._openapi_problems(request) if self.check_openapi else []
        self.violations += [f"{request.method} {request.path}: {p}" for p in problems]
        throttled = self._check_rate()
        if throttled is not None:
            return throttled
        if problems:
            return _invalid(f"Request does not match Halo's API document: {'; '.join(problems)}").response
        return None

    @staticmethod
    def _openapi_problems(request: Request) -> list[str]:
        """The raw request as sent (bytes and Content-Type), so no lenient parsing hides a fault."""
        return halo_openapi.check_request(
            request.method,
            request.path,
            request.query,
            content_type=request.header("Content-Type"),
            body=request.raw,
        )

    def handle(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        low = path.lower()
        if low == "/auth/token":
            self._require(request, "POST")
            return self._token(request)
        if not low.startswith("/api/"):
            raise HttpError(self._not_found())
        if low == "/api/authinfo":
            self._require(request, "GET")
            return json_response(200, {"auth_url": self.auth_url})
        parts = path.split("/")[2:]
        entity = _ENTITIES.get(parts[0].lower())
        if entity is None or len(parts) > 2:
            raise HttpError(self._not_found())
        record_id = parts[1] if len(parts) == 2 else None
        allowed = "GET" if record_id is not None or not entity.writable else "GET, POST"
        self._require(request, *allowed.split(", "))
        token = self._authenticate(request)
        action = "read" if request.method == "GET" else "edit"
        if not covers(token.scopes, f"{action}:{entity.area}"):
            raise HttpError(text_response(403, INSUFFICIENT_SCOPE))
        if request.method == "POST":
            return self._write(entity, request)
        if record_id is not None:
            return self._get_one(entity, record_id)
        return self._list(entity, request)

    @staticmethod
    def _not_found() -> Response:
        return json_response(404, {"Message": "No HTTP resource was found that matches the request URI"})

    @staticmethod
    def _require(request: Request, *methods: str) -> None:
        if request.method not in methods:
            raise HttpError(
                json_response(
                    405,
                    {"Message": f"The requested resource does not support http method '{request.method}'."},
                    {"Allow": ", ".join(methods)},
                )
            )

    def _check_rate(self) -> Response | None:
        """The 429 for a saturated window or past the rolling-window limit, else None (and the
        request takes a slot). Only API requests count: the token endpoint is never limited."""
        now = time.monotonic()
        if now < self._saturated_until:
            return self._too_many(self._saturated_until - now)
        if self.rate_limit is None:
            return None
        hits = self._hits
        while hits and hits[0] <= now - self.rate_window:
            hits.popleft()
        if len(hits) >= self.rate_limit:
            return self._too_many(hits[0] + self.rate_window - now)
        hits.append(now)
        return None

    # -- auth ------------------------------------------------------------------------------

    def _token(self, request: Request) -> Response:
        self.token_requests += 1

        def refuse(error: str, description: str) -> Response:
            return json_response(400, {"error": error, "error_description": description})

        if self.tenant is not None and (request.param("tenant") or "") != self.tenant:
            return refuse("invalid_request", "Unknown tenant")
        form = request.form or {}
        grant_type = form.get("grant_type")
        if not grant_type:
            return refuse("invalid_request", "grant_type is required")
        if grant_type != "client_credentials":
            return refuse("unsupported_grant_type", f"Unsupported grant_type {grant_type!r}")
        if form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret:
            return refuse("invalid_client", "Invalid client_id or client_secret")
        requested = form.get("scope", "").split() or list(self.scopes)
        if not all(_valid_scope(s) and covers(self.scopes, s) for s in requested):
            return refuse("invalid_scope", f"Scope not allowed: {' '.join(requested)}")
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

    def _authenticate(self, request: Request) -> Token:
        scheme, _, value = (request.header("Authorization") or "").strip().partition(" ")
        token = self.tokens.get(value.strip()) if scheme.lower() == "bearer" else None
        if token is None or time.time() >= token.expires_at:
            raise HttpError(json_response(401, DENIED))
        return token

    # -- reads -----------------------------------------------------------------------------

    def _table(self, entity: _Entity) -> Table:
        return {
            "Client": self.clients,
            "Site": self.sites,
            "TopLevel": self.toplevels,
            "SoftwareLicence": self.licences,
        }[entity.name]

    @staticmethod
    def _int_param(request: Request, name: str) -> int | None:
        raw = request.param(name)
        if raw is None or raw.strip() == "":
            return None
        try:
            return int(raw)
        except ValueError:
            raise HttpError(
                json_response(400, {"Message": f"The request is invalid: {name}={raw!r}"})
            ) from None

    def _get_one(self, entity: _Entity, raw_id: str) -> Response:
        key = _id_key(raw_id)
        record = self._table(entity).get(key) if isinstance(key, int) else None
        if record is None:
            return json_response(404, {"Message": f"{entity.name} not found"})
        return json_response(200, record)

    def _matching_ids(self, entity: _Entity, request: Request) -> list[int]:
        """Ids passing the entity's filters, sorted; uses the client_id index when filtered."""
        table = self._table(entity)
        include_inactive = request.flag("includeinactive")
        client_id = self._int_param(request, "client_id")
        search = (request.param("search") or "").strip().casefold()
        if entity.name == "Client":
            toplevel_id = self._int_param(request, "toplevel_id")

            def keep(r: Record) -> bool:
                return (
                    (include_inactive or not r.get("inactive"))
                    and (toplevel_id is None or _id_key(r.get("toplevel_id")) == toplevel_id)
                    and (not search or search in str(r.get("name") or "").casefold())
                )
        elif entity.name == "Site":

            def keep(r: Record) -> bool:
                return include_inactive or not r.get("inactive")
        elif entity.name == "SoftwareLicence":

            def keep(r: Record) -> bool:
                text = f"{r.get('name') or ''}\n{r.get('notes') or ''}".casefold()
                return (include_inactive or r.get("is_active", True) is not False) and (
                    not search or search in text
                )
        else:

            def keep(r: Record) -> bool:
                return True

        if client_id is not None and table.index_field == "client_id":
            candidates = table.ids_where(client_id)
        else:
            candidates = sorted(table)
        return [i for i in candidates if keep(table[i])]

    def _list_view(self, entity: _Entity, record: Record, request: Request) -> Record:
        if entity.name == "Client" and not request.flag("includeazuretenants"):
            return {k: v for k, v in record.items() if k != "azure_tenants"}
        if entity.name == "Site":
            address = record.get("delivery_address") or {}
            flat = {
                f"delivery_address_line{n}": address.get(line, "")
                for n, line in enumerate(ADDRESS_LINES, start=1)
            }
            return {**record, **flat}
        return record

    def _list(self, entity: _Entity, request: Request) -> Response:
        table = self._table(entity)
        ids = self._matching_ids(entity, request)
        total = len(ids)
        paged = request.flag("pageinate")
        page_no = page_size = 0
        if paged:  # `page_size` answers what each page really holds, not what was asked
            page_size = self._int_param(request, "page_size") or DEFAULT_PAGE_SIZE
            page_size = min(max(page_size, 1), self.max_page_size)
            page_no = max(self._int_param(request, "page_no") or 1, 1)
            ids = ids[(page_no - 1) * page_size : page_no * page_size]
        else:
            count = self._int_param(request, "count")
            if count is not None and count > 0:
                ids = ids[:count]
        records = [self._list_view(entity, table[i], request) for i in ids]
        if entity.name == "TopLevel" and self.toplevel_style == "bare":
            return json_response(200, records)
        payload: Record = {"page_no": page_no, "page_size": page_size} if paged else {}
        payload["record_count"] = total
        payload[entity.list_key] = records
        return json_response(200, payload)

    # -- writes ----------------------------------------------------------------------------

    def _write(self, entity: _Entity, request: Request) -> Response:
        """Validate the whole batch first, so a bad element saves nothing (as Halo does)."""
        body = request.json
        if request.json_error is not None:
            raise _invalid(f"Invalid JSON: {request.json_error}", "JsonReaderException")
        if not isinstance(body, list):
            raise _invalid("Expected an array", "BadRequestException")
        table = self._table(entity)
        validate, save = {
            "Client": (self._validate_client, self._save_client),
            "Site": (self._validate_site, self._save_site),
            "SoftwareLicence": (self._validate_licence, self._save_licence),
        }[entity.name]
        plan: list[tuple[Record | None, Record]] = []
        for n, item in enumerate(body):
            if not isinstance(item, dict):
                raise _invalid(f"{entity.name}[{n}]: expected an object")
            existing = None
            raw_id = item.get("id")
            if raw_id not in (None, ""):
                record_id = _id_key(raw_id)
                if not isinstance(record_id, int) or isinstance(record_id, bool):
                    raise _invalid(f"{entity.name}[{n}]: invalid id {raw_id!r}")
                if record_id > 0:
                    existing = table.get(record_id)
                    if existing is None:
                        raise _invalid(f"{entity.name}[{n}]: {entity.name} {record_id} not found")
            problem = validate(item, existing)
            if problem:
                raise _invalid(f"{entity.name}[{n}]: {problem}")
            plan.append((existing, item))
        saved = [save(existing, item) for existing, item in plan]
        created = sum(1 for existing, _ in plan if existing is None)
        self.created += created
        self.updated += len(plan) - created
        self.writes += len(plan)
        if self.single_post_returns_object and len(saved) == 1:
            return json_response(200, saved[0])
        return json_response(200, saved)

    def _owner_problem(self, item: Record, existing: Record | None) -> str | None:
        if existing is None and "client_id" not in item:
            return "client_id is required"
        if "client_id" in item and _id_key(item["client_id"]) not in self.clients:
            return f"client_id {item['client_id']!r} does not exist"
        return None

    def _validate_client(self, item: Record, existing: Record | None) -> str | None:
        if existing is None or "name" in item:
            name = item.get("name")
            if not isinstance(name, str) or not name.strip():
                return "name is required"
            if len(name) > 255:
                return "name is longer than 255 characters"
        toplevel_id = _id_key(item.get("toplevel_id"))
        if toplevel_id not in (None, 0, -1) and toplevel_id not in self.toplevels:
            return f"toplevel_id {item['toplevel_id']!r} does not exist"
        tenants = item.get("azure_tenants")
        if tenants is not None and not (
            isinstance(tenants, list) and all(isinstance(t, dict) for t in tenants)
        ):
            return "azure_tenants must be an array of objects"
        return None

    def _validate_site(self, item: Record, existing: Record | None) -> str | None:
        return self._owner_problem(item, existing)

    def _validate_licence(self, item: Record, existing: Record | None) -> str | None:
        problem = self._owner_problem(item, existing)
        if problem:
            return problem
        if existing is None or "name" in item:
            name = item.get("name")
            if not isinstance(name, str) or not name.strip():
                return "name is required"
        return None

    def _save_client(self, existing: Record | None, item: Record) -> Record:
        fields = _stored(item, "newclient_")
        if existing is None:
            record: Record = {
                "id": self.clients.next_id(),
                "name": "",
                "toplevel_id": 0,
                "toplevel_name": "",
                "inactive": False,
                "main_site_id": 0,
                "main_site_name": "",
                "azure_tenants": [],
            }
        else:
            record = existing
        record.update(fields)
        client_id = record["id"]
        if "toplevel_id" in fields:
            toplevel_id = _id_key(fields["toplevel_id"]) or 0
            record["toplevel_id"] = toplevel_id
            record["toplevel_name"] = self.toplevels.get(toplevel_id, {}).get("name", "")
        if "azure_tenants" in fields:
            record["azure_tenants"] = [
                {
                    **_stored(tenant),
                    "id": tenant["id"]
                    if isinstance(tenant.get("id"), int) and tenant["id"] > 0
                    else next(self._azure_ids),
                    "client_id": client_id,
                    "client_name": record["name"],
                }
                for tenant in fields["azure_tenants"]
            ]
        self.clients[client_id] = record
        if existing is None:  # Halo creates the main site with the client
            site = self._save_site(
                None,
                {
                    "client_id": client_id,
                    "name": item.get("newclient_sitename") or "Main",
                    "delivery_address": item.get("newclient_delivery_address") or {},
                },
            )
            record["main_site_id"], record["main_site_name"] = site["id"], site["name"]
        else:
            if "main_site_id" in fields:
                site_rec = self.sites.get(_id_key(fields["main_site_id"]))
                record["main_site_name"] = site_rec["name"] if site_rec else ""
            if "name" in fields:  # denormalised client_name follows a rename
                for table in (self.sites, self.licences):
                    for child in table.ids_where(client_id):
                        table[child]["client_name"] = record["name"]
        return record

    def _save_site(self, existing: Record | None, item: Record) -> Record:
        fields = _stored(item, "newsite_")
        if existing is None:
            record: Record = {
                "id": self.sites.next_id(),
                "client_id": 0,
                "client_name": "",
                "name": "",
                "inactive": False,
                "delivery_address": _address({}),
            }
        else:
            record = existing
        record.update(fields)
        if "client_id" in fields:
            record["client_id"] = _id_key(fields["client_id"])
            record["client_name"] = self.clients[record["client_id"]]["name"]
        if "delivery_address" in fields:
            record["delivery_address"] = _address(fields["delivery_address"])
        self.sites[record["id"]] = record
        owner = self.clients.get(record["client_id"])
        if existing is not None and owner and owner.get("main_site_id") == record["id"]:
            owner["main_site_name"] = record["name"]
        return record

    def _save_licence(self, existing: Record | None, item: Record) -> Record:
        fields = _stored(item)
        if existing is None:
            record: Record = {
                "id": self.licences.next_id(),
                "client_id": 0,
                "client_name": "",
                "name": "",
                "is_active": True,
                "deleted": False,
            }
        else:
            record = existing
        record.update(fields)
        if "client_id" in fields:
            record["client_id"] = _id_key(fields["client_id"])
            record["client_name"] = self.clients[record["client_id"]]["name"]
        self.licences[record["id"]] = record
        return record


def _invalid(message: str, class_name: str = "HaloValidationException") -> HttpError:
    return HttpError(json_response(400, {"ClassName": class_name, "Message": message}))
