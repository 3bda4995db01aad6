"""Fake of the HaloPSA API: OAuth2 client credentials, Client/Site/TopLevel/SoftwareLicence, and
billing: Item (the price book) and RecurringInvoice (headers, lines, `updatelines`).

Models the documented behaviour the project relies on (docs/spec "Halo API" and
HALO_FIELDS.md), as strictly as real hosted Halo, because a kinder fake hides real bugs:

- every API request is checked against Halo's published OpenAPI document (`halo_openapi`); a
  non-conforming one answers 400 and is kept in `violations`;
- paged lists serve at most `max_page_size` (100, as hosted Halo) records per page whatever
  `page_size` asks, with filters; array writes create or partially update, validated per batch;
- scopes; a rolling-window rate limit and `saturate` (another integration filling the shared
  window), whose 429s carry no `Retry-After` (hosted Halo sends none) unless `retry_after`;
- Halo's assorted error bodies (`{"ClassName","Message"}`, `{"Message"}`, `{"error"}`, text).

Nothing is ever deleted (DELETE answers 405), but for the lines a recurring invoice header is
written without (`halo_billing`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .halo_admission import HaloAdmission
from .halo_auth import HaloAuth, covers
from .halo_base import ENTITIES, INSUFFICIENT_SCOPE, Entity, Token
from .halo_billing import HaloBilling
from .halo_lists import HaloLists
from .halo_tables import Record
from .halo_writes import Save, Validate
from .http_messages import HttpError, Request, Response, json_response, text_response

__all__ = ["HaloFake", "Token"]


class HaloFake(HaloAuth, HaloAdmission, HaloLists, HaloBilling):
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
        return self._seed(self._validate_client, self._save_client, item, "Client")

    def add_site(self, client_id: int, name: str, **fields: Any) -> Record:
        """Create a site of `client_id`."""
        item = {"client_id": client_id, "name": name, **fields}
        return self._seed(self._validate_site, self._save_site, item, "Site")

    def add_licence(self, client_id: int, name: str, **fields: Any) -> Record:
        """Create a software licence (subscription) of `client_id`."""
        item = {"client_id": client_id, "name": name, **fields}
        return self._seed(self._validate_licence, self._save_licence, item, "SoftwareLicence")

    def add_item(self, name: str, **fields: Any) -> Record:
        """Create a product (`Item`) of the price book."""
        return self._seed(self._validate_item, self._save_item, {"name": name, **fields}, "Item")

    def add_recurring_invoice(self, client_id: int, lines: Sequence[Record] = (), **fields: Any) -> Record:
        """Create a recurring invoice header of `client_id` with `lines` (InvoiceDetail fields)."""
        item = {"client_id": client_id, "lines": list(lines), **fields}
        return self._seed(self._validate_header, self._save_header, item, "RecurringInvoice")

    def link_licences(self, line_id: int, *licence_ids: int) -> Record:
        """Make a recurring invoice line's quantity follow `licence_ids`, as a person does in Halo."""
        with self.lock:
            line = self.invoice_lines[line_id]
            line["quantity_licences"] = [self._licence_link(line, {"licence_id": i}) for i in licence_ids]
            return line

    def _seed(self, validate: Validate, save: Save, item: Record, entity_name: str = "") -> Record:
        """Create a record as the API would, validated alike (a seeding mistake raises); the
        `on_created` hooks hear of it too."""
        with self.lock:
            problem = validate(item, None)
            if problem:
                raise ValueError(problem)
            record = save(None, item)
            self._created(entity_name, [record])
            return record

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
        entity, rest = self._entity_of(path)
        action = rest.lower() if rest is not None and rest.lower() in entity.actions else None
        if action is not None:
            self._require(request, "POST")
        else:
            self._require(request, *("GET", "POST") if rest is None and entity.writable else ("GET",))
        token = self._authenticate(request)
        need = "read" if request.method == "GET" else "edit"
        if not covers(token.scopes, f"{need}:{entity.area}"):
            raise HttpError(text_response(403, INSUFFICIENT_SCOPE))
        if action is not None:
            return self._action(entity, action, request)
        if request.method == "POST":
            return self._write(entity, request)
        if rest is not None:
            return self._get_one(entity, rest)
        return self._list(entity, request)

    def _entity_of(self, path: str) -> tuple[Entity, str | None]:
        """The entity `/api/<Entity>[/<rest>]` names and its `<rest>` (an id or an action), or
        ASP.NET's 404."""
        parts = path.split("/")[2:]
        entity = ENTITIES.get(parts[0].lower())
        if entity is None or len(parts) > 2:
            raise HttpError(self._not_found())
        return entity, parts[1] if len(parts) == 2 else None

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
