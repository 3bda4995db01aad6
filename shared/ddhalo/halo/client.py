"""Halo client: the reads (paged lists, single records) and the API calls they and the writes
make, with a 401 answered by a fresh token and one more try.

Pacing, retries and ``Retry-After`` come from :class:`ddhalo.http.transport.Transport`; the token
is :mod:`ddhalo.halo.token`'s, batched writes :mod:`ddhalo.halo.saving`'s. Reads answer the typed
records of :mod:`ddhalo.halo.records`; writes take what those build.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import requests

from ddhalo.errors import (
    AuthenticationError,
    IntegrationError,
    PermissionDeniedError,
    RejectedError,
    UpstreamError,
)
from ddhalo.halo import SYSTEM
from ddhalo.halo.billing_records import ItemRecord, RecurringInvoiceRecord
from ddhalo.halo.limits import PAGE_SIZE
from ddhalo.halo.records import ClientRecord, Licence, SiteRecord, halo_id
from ddhalo.halo.saving import WRITE_BATCH, BatchSaving
from ddhalo.halo.token import CREDENTIALS_HINT, SCOPE_HINT, HaloAuth
from ddhalo.http.body import describe_body, json_body
from ddhalo.http.credential import TokenCache
from ddhalo.http.transport import Transport

# A list read stops here whatever the server says is left (one that ignores page_no never ends).
MAX_PAGES = 10_000

# Entity → the key its list answers under (TopLevel's is unconfirmed: several are tried).
LIST_KEYS: dict[str, tuple[str, ...]] = {
    "Client": ("clients",),
    "Site": ("sites",),
    "TopLevel": ("tree", "toplevels", "top_levels", "records"),
    "SoftwareLicence": ("licences", "softwarelicences"),
    "Item": ("items",),
    "RecurringInvoice": ("invoices",),
}


@dataclass
class PageCursor:
    """Where a paged read stands: the next page to ask for, how many records the pages so far
    held, the ids already met. Kept by a job that runs out of time, it resumes the read."""

    next_page: int = 1
    read: int = 0
    ids: set[int] = field(default_factory=set)
    done: bool = False


class HaloClient(BatchSaving):
    """Halo's API for one job: reads here, batched writes from :class:`BatchSaving`."""

    def __init__(
        self,
        transport: Transport,
        *,
        auth_url: str,
        client_id: str,
        client_secret: str,
        tenant: str | None = None,
        scope: str = "all",
        clock: Callable[[], float] = time.time,
        page_size: int = PAGE_SIZE,
        write_batch: int = WRITE_BATCH,
        tokens: TokenCache | None = None,
        write_timeout: float = 120.0,
        settle_seconds: float = 300.0,
    ) -> None:
        super().__init__(write_batch=write_batch, write_timeout=write_timeout, settle_seconds=settle_seconds)
        self.transport = transport
        self._clock = clock
        self.page_size = page_size
        self.auth = HaloAuth(
            transport,
            auth_url=auth_url,
            client_id=client_id,
            client_secret=client_secret,
            tenant=tenant,
            scope=scope,
            clock=clock,
        )
        self.token = self.auth.credential(tokens)

    # -- requests -------------------------------------------------------------------------
    def request(self, method: str, path: str, *, retry_ambiguous: bool = True, **kwargs: Any) -> Any:
        """One API call answering decoded JSON; a 401 gets a new token and one more try."""
        response, _ = self.token.send(
            self.transport,
            method,
            path,
            headers=_bearer,
            refused=lambda r: r.status_code == 401,
            retry_ambiguous=retry_ambiguous,
            **kwargs,
        )
        if response.status_code < 400:
            return json_body(response, SYSTEM, f"{method} {path}") if response.content else None
        raise self._api_error(response, method, path)

    def _api_error(self, response: requests.Response, method: str, path: str) -> IntegrationError:
        status, detail = response.status_code, describe_body(response)
        what = f"{method} /{path.split('?')[0]}"
        if status == 401:
            return AuthenticationError(
                f"Halo refused a fresh token for {what} ({detail}).", CREDENTIALS_HINT, system=SYSTEM
            )
        if status == 403:
            return PermissionDeniedError(
                f"Halo denied {what}: the API application lacks a permission ({detail}).",
                SCOPE_HINT,
                system=SYSTEM,
            )
        if status == 404:
            return UpstreamError(
                f"Halo answered 404 Not Found for {what} ({detail}).",
                "Check halo_api_url: it must be your Halo URL ending in /api.",
                system=SYSTEM,
                status_code=404,
            )
        if 400 <= status < 500:
            return RejectedError(f"Halo rejected {what}: {detail}", None, system=SYSTEM, status_code=status)
        return UpstreamError(
            f"Halo answered HTTP {status} for {what}: {detail}",
            "Try again later; records already saved are recognised on the next run.",
            system=SYSTEM,
            status_code=status,
        )

    # -- reads ----------------------------------------------------------------------------
    def iter_list(
        self, entity: str, *, cursor: PageCursor | None = None, **filters: Any
    ) -> Iterator[dict[str, Any]]:
        """Every record of a paged list (``pageinate=true``), reading keyed or bare answers.

        A page shorter than asked is not the last one (Halo caps pages below what is asked): read
        on until ``record_count`` records are read or a page is empty. A record met twice (the list
        shifted while we paged, or a server that ignores paging) is yielded once. ``cursor`` says
        where the read stands, so one that ran out of time can go on from there in a later job.
        """
        params = {k: _param(v) for k, v in filters.items() if v is not None}
        at = cursor or PageCursor()
        while not at.done:
            body = self.request(
                "GET",
                entity,
                params={**params, "pageinate": "true", "page_size": self.page_size, "page_no": at.next_page},
            )
            records, total = _records(body, entity)
            fresh = []
            for record in records:
                if not isinstance(record, dict):
                    continue
                key = halo_id(record.get("id"))
                if key is not None and key in at.ids:
                    continue
                if key is not None:
                    at.ids.add(key)
                fresh.append(record)
            at.read += len(records)
            at.next_page += 1
            at.done = (
                not records
                or not fresh
                or (total is not None and at.read >= total)
                or at.next_page > MAX_PAGES
            )
            yield from fresh

    def get(self, entity: str, record_id: int, **params: Any) -> dict[str, Any] | None:
        try:
            body = self.request("GET", f"{entity}/{int(record_id)}", params=params or None)
        except UpstreamError as exc:
            if exc.status_code == 404:
                return None
            raise
        return body if isinstance(body, dict) else None

    def clients(self, **filters: Any) -> list[ClientRecord]:
        """Every client, with its tenant links."""
        raw = self.iter_list("Client", includeinactive=True, includeazuretenants=True, **filters)
        return [c for r in raw if (c := ClientRecord.from_wire(r)) is not None]

    def client(self, client_id: int, *, with_links: bool = False) -> ClientRecord | None:
        """One client; ``with_links``: with its tenant links (a single GET takes
        ``includedetails``, not the list's flags)."""
        params = {"includedetails": True} if with_links else {}
        return ClientRecord.from_wire(self.get("Client", client_id, **params))

    def site(self, site_id: int) -> SiteRecord | None:
        return SiteRecord.from_wire(self.get("Site", site_id))

    def sites(self) -> list[SiteRecord]:
        """Every site, with its delivery address."""
        raw = self.iter_list("Site", includeinactive=True, includeaddress=True)
        return [s for r in raw if (s := SiteRecord.from_wire(r)) is not None]

    def top_level_ids(self) -> set[int]:
        return {i for t in self.iter_list("TopLevel") if isinstance(t, dict) and (i := halo_id(t.get("id")))}

    def licences(self, client_id: int | None = None) -> list[Licence]:
        """Every licence (of one client, when given), with the fields we own."""
        return list(self.iter_licences(client_id=client_id))

    def iter_licences(
        self, cursor: PageCursor | None = None, slim: frozenset[int] | set[int] = frozenset(), **filters: Any
    ) -> Iterator[Licence]:
        """Licences page by page, so a caller keeping part of each holds one page at a time;
        those in ``slim`` keep only their identity and marker (their link holds what we wrote)."""
        raw = self.iter_list("SoftwareLicence", cursor=cursor, includeinactive=True, **filters)
        for record in raw:
            licence = Licence.from_wire(record, slim=halo_id(record.get("id")) in slim)
            if licence is not None:
                yield licence

    def licence(self, licence_id: int) -> Licence | None:
        return Licence.from_wire(self.get("SoftwareLicence", licence_id))

    def items(self) -> list[ItemRecord]:
        """The price book: every Item, with its codes and prices."""
        return [i for r in self.iter_list("Item") if (i := ItemRecord.from_wire(r)) is not None]

    def item(self, item_id: int) -> ItemRecord | None:
        return ItemRecord.from_wire(self.get("Item", item_id))

    def recurring_invoices(
        self, client_id: int | None = None, *, include_lines: bool = True
    ) -> list[RecurringInvoiceRecord]:
        """Recurring invoices (of one client, when given), each with its lines unless asked not to."""
        raw = self.iter_list("RecurringInvoice", client_id=client_id, includelines=include_lines)
        return [i for r in raw if (i := RecurringInvoiceRecord.from_wire(r)) is not None]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def _param(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else value


def _records(body: Any, entity: str) -> tuple[list[Any], int | None]:
    if isinstance(body, list):
        return body, None
    if isinstance(body, dict):
        total = body.get("record_count")
        for key in (*LIST_KEYS.get(entity, ()), entity.lower() + "s"):
            if isinstance(body.get(key), list):
                return body[key], total if isinstance(total, int) else None
        lists = [v for v in body.values() if isinstance(v, list)]
        if len(lists) == 1:
            return lists[0], total if isinstance(total, int) else None
        if not lists and total in (0, None):
            return [], 0
    raise UpstreamError(
        f"Halo answered the {entity} list with an unexpected shape.",
        "Check halo_api_url: it must be your Halo URL ending in /api.",
        system=SYSTEM,
    )
