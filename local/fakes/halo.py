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

from collections.abc import Callable
from typing import Any

from .halo_admission import HaloAdmission
from .halo_auth import HaloAuth, covers
from .halo_base import ENTITIES, INSUFFICIENT_SCOPE, Token
from .halo_lists import HaloLists
from .halo_tables import Record
from .halo_writes import HaloWrites
from .http_messages import HttpError, Request, Response, json_response, text_response

__all__ = ["HaloFake", "Token"]


class HaloFake(HaloAuth, HaloAdmission, HaloLists, HaloWrites):
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
        """Create a record as the API would, validated alike (a seeding mistake raises)."""
        with self.lock:
            problem = validate(item, None)
            if problem:
                raise ValueError(problem)
            return save(None, item)

    # -- routing ---------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Route to the token endpoint, `authinfo`, or an entity's read or write, after the
        method, the token and its scopes are checked, in Halo's order."""
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
        entity = ENTITIES.get(parts[0].lower())
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
        """ASP.NET's 404 for a route that does not exist."""
        return json_response(404, {"Message": "No HTTP resource was found that matches the request URI"})

    @staticmethod
    def _require(request: Request, *methods: str) -> None:
        """ASP.NET's 405 (with `Allow`) unless the request's method is one of `methods`."""
        if request.method not in methods:
            raise HttpError(
                json_response(
                    405,
                    {"Message": f"The requested resource does not support http method '{request.method}'."},
                    {"Allow": ", ".join(methods)},
                )
            )
