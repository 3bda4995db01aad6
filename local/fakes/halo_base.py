"""What every part of the Halo fake shares: its settings, records and counters, the entities it
serves, and the error shapes more than one part answers with.

The fake is put together from parts, each a subclass of `HaloBase` (`halo_auth`,
`halo_admission`, `halo_lists`, `halo_writes`, `halo_billing`), so each part reads the same state.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal

from ._server import FakeServer
from .halo_tables import Record, Table, TableAttr
from .http_messages import HttpError, json_response

TopLevelStyle = Literal["keyed", "bare"]

DENIED = {"Message": "Authorization has been denied for this request."}
INSUFFICIENT_SCOPE = "Insufficient scope to access this resource"
#: Records per page hosted Halo serves at most, whatever `page_size` asks.
MAX_PAGE_SIZE = 100
ADDRESS_LINES = ("line1", "line2", "line3", "line4", "postcode")


@dataclass(frozen=True)
class Entity:
    """One record type of the API: its name, the key of its list answer, the scope area that
    guards it, whether it can be written, and the lower-cased names of its `POST /<Entity>/<action>`
    routes."""

    name: str
    list_key: str
    area: str
    writable: bool
    actions: tuple[str, ...] = ()


ENTITIES = {
    "client": Entity("Client", "clients", "customers", True),
    "site": Entity("Site", "sites", "customers", True),
    "toplevel": Entity("TopLevel", "tree", "customers", False),
    "softwarelicence": Entity("SoftwareLicence", "licences", "software", True),
    "item": Entity("Item", "items", "items", True),
    "recurringinvoice": Entity("RecurringInvoice", "invoices", "invoices", True, ("updatelines", "lines")),
}
#: Called with the entity's name and the record after a record is created (by the API, after its
#: answer is built, or by a seeding helper): how a seeded world reacts to what the product creates.
CreatedHook = Callable[[str, Record], None]


def line_copy(line: Record) -> Record:
    """A recurring invoice line to answer: a copy down to its licence links (the only values of
    a line that hold objects), cheaper than a deep copy at 50,000 lines."""
    return {**line, "quantity_licences": [dict(link) for link in line.get("quantity_licences") or []]}


@dataclass(frozen=True)
class Token:
    """A granted access token: expiry (epoch seconds) and scopes."""

    expires_at: float
    scopes: frozenset[str]


def invalid(message: str, class_name: str = "HaloValidationException") -> HttpError:
    """Halo's 400 for a request it will not act on."""
    return HttpError(json_response(400, {"ClassName": class_name, "Message": message}))


class HaloBase(FakeServer):
    """The Halo fake's settings, records and counters; `HaloFake` describes the arguments."""

    data_paths = (
        "/api/Client",
        "/api/Site",
        "/api/TopLevel",
        "/api/SoftwareLicence",
        "/api/Item",
        "/api/RecurringInvoice",
    )
    #: Data, id → record. Sites, licences and recurring invoice headers are indexed by client_id,
    #: recurring invoice lines (kept apart from their headers) by recurring_invoice_id.
    clients = TableAttr()
    sites = TableAttr("client_id")
    toplevels = TableAttr()
    licences = TableAttr("client_id")
    items = TableAttr()
    invoices = TableAttr("client_id")
    invoice_lines = TableAttr("recurring_invoice_id")

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
        self.items = self.invoices = self.invoice_lines = {}
        #: Called after each record is created (see `CreatedHook`).
        self.on_created: list[CreatedHook] = []
        self._licence_link_ids = itertools.count(1)
        self._hits: deque[float] = deque()
        self._saturated_until = 0.0
        self._azure_ids = itertools.count(1)

    def _reset_counters(self) -> None:
        self.token_requests = self.writes = self.created = self.updated = 0

    def _table(self, entity: Entity) -> Table:
        return {
            "Client": self.clients,
            "Site": self.sites,
            "TopLevel": self.toplevels,
            "SoftwareLicence": self.licences,
            "Item": self.items,
            "RecurringInvoice": self.invoices,
        }[entity.name]

    def _with_lines(self, header: Record) -> Record:
        """A recurring invoice header as answered with its lines (copies: an answer never
        aliases stored data)."""
        lines = [line_copy(self.invoice_lines[i]) for i in self.invoice_lines.ids_where(header["id"])]
        return {**header, "lines": lines}

    def _created(self, entity_name: str, records: Iterable[Record]) -> None:
        """Tell the `on_created` hooks of records just created."""
        for record in records:
            for hook in self.on_created:
                hook(entity_name, record)
