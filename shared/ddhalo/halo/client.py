"""Halo client: client-credentials token, paged lists, batched array writes.

Pacing, retries and ``Retry-After`` come from :class:`ddhalo.http.Transport`; this module adds
what is Halo's own: the token, list shapes, and splitting a rejected batch to find the bad record.
Reads answer the typed records of :mod:`ddhalo.halo.records`; writes take what those build.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from ddhalo.errors import (
    AuthenticationError,
    CredentialError,
    IntegrationError,
    OutOfTimeError,
    PermissionDeniedError,
    RejectedError,
    UpstreamError,
)
from ddhalo.halo.limits import PAGE_SIZE
from ddhalo.halo.records import ClientRecord, Licence, SiteRecord, halo_id
from ddhalo.http import Credential, TokenCache, Transport, describe_body, json_body, out_of_time
from ddhalo.redact import remember

SYSTEM = "Halo"
WRITE_BATCH = 100
# After a write that was slow or lost its answer, the next batches are halved, to this at least:
# a busy Halo saves a smaller batch within the timeout, and a lost one leaves less to look for.
MIN_WRITE_BATCH = 10
TOKEN_REFRESH_MARGIN = 120.0
MAX_PAGES = 10_000

# Entity → the key its list answers under (TopLevel's is unconfirmed: several are tried).
LIST_KEYS: dict[str, tuple[str, ...]] = {
    "Client": ("clients",),
    "Site": ("sites",),
    "TopLevel": ("tree", "toplevels", "top_levels", "records"),
    "SoftwareLicence": ("licences", "softwarelicences"),
}

SCOPE_HINT = (
    "In Halo (Configuration > Integrations > Halo API) give the API application permission to "
    "read and edit customers and software licences, or the 'all' scope."
)
CREDENTIALS_HINT = (
    "Check the Halo API application's client id and secret (authentication method 'Client ID and "
    "Secret (Services)'), and for hosted Halo the tenant name."
)


@dataclass
class SaveResult:
    """Per-record outcome of a batched write, in the order the records were given. ``unsent``
    marks records not sent because this invocation ran out of time waiting for Halo; ``sent_at``
    when each one's batch was sent (epoch seconds): a lost one may be saved until that time plus
    the settle window (:meth:`HaloClient.settle`)."""

    saved: list[dict[str, Any] | None] = field(default_factory=list)
    errors: list[IntegrationError | None] = field(default_factory=list)
    unsent: list[bool] = field(default_factory=list)
    sent_at: list[float] = field(default_factory=list)
    # Halo refused the credentials: the records from the refused batch on are unsent.
    stopped: CredentialError | None = None


@dataclass(frozen=True)
class BatchWritten:
    """One batch Halo answered: how many it was, and how many of it were saved as new records
    or as updates (what a run's live counts move by)."""

    entity: str
    sent: int
    created: int
    updated: int


@dataclass
class PageCursor:
    """Where a paged read stands: the next page to ask for, how many records the pages so far
    held, the ids already met. Kept by a job that runs out of time, it resumes the read."""

    next_page: int = 1
    read: int = 0
    ids: set[int] = field(default_factory=set)
    done: bool = False


class HaloClient:
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
        self.transport = transport
        self.auth_url = auth_url.rstrip("/")
        self._client_id = client_id
        self._client_secret = client_secret
        self.tenant = tenant
        self.scope = scope
        self._clock = clock
        self.page_size = page_size
        self.write_batch = write_batch
        self.write_timeout = write_timeout
        # From sending a write whose answer was lost, how long Halo may still save it: only
        # after that does its absence from a read prove it did not land (kept above the write
        # timeout by whoever sets both: a write lost to a quick 502 needs no more than this).
        self.settle_seconds = settle_seconds
        self.token = Credential(
            tokens or TokenCache(),
            TokenCache.key(self.auth_url, tenant or "", client_id, scope, secret=client_secret),
            self._new_token,
            clock=clock,
            margin=TOKEN_REFRESH_MARGIN,
        )
        self.token_requests = 0
        # Told of each batch Halo answered (a run's live progress and counts move per batch).
        self.on_batch: Callable[[BatchWritten], None] | None = None

    # -- auth -----------------------------------------------------------------------------
    def _new_token(self) -> tuple[str, float]:
        self.token_requests += 1
        response = self.transport.send(
            "POST",
            f"{self.auth_url}/token",
            params={"tenant": self.tenant} if self.tenant else None,
            data={
                "grant_type": "client_credentials",
                "client_id": self._client_id,
                "client_secret": self._client_secret,
                "scope": self.scope,
            },
        )
        if response.status_code >= 400:
            raise self._token_error(response)
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
        return str(token), self._clock() + lifetime

    def _token_error(self, response: requests.Response) -> IntegrationError:
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

    # -- writes ---------------------------------------------------------------------------
    def save(self, entity: str, records: Sequence[dict[str, Any]]) -> SaveResult:
        """POST records as arrays of ``write_batch``; a rejected batch is split to isolate the bad one.

        Batches that create records are not retried after an ambiguous failure (timeout, 500):
        the error is reported per record and the caller reconciles by reading Halo again, after
        :meth:`settle`. Refused credentials (:class:`CredentialError`) stop it: the rest is
        unsent and ``stopped`` says why (nothing later would be accepted either).
        """
        count = len(records)
        result = SaveResult(
            saved=[None] * count, errors=[None] * count, unsent=[False] * count, sent_at=[0.0] * count
        )
        start = 0
        while start < count:
            batch = range(start, min(start + self.write_batch, count))
            try:
                self._save_batch(entity, records, batch, result)
            except (OutOfTimeError, CredentialError) as exc:
                for i in range(start, count):  # what a split batch already saved stays saved
                    result.unsent[i] = result.saved[i] is None and result.errors[i] is None
                if isinstance(exc, CredentialError):
                    result.stopped = exc
                break
            if self.on_batch is not None:
                self.on_batch(_written(entity, records, batch, result))
            start = batch.stop
        return result

    def settle(self, sent_at: float) -> None:
        """Wait until Halo has had the settle window since ``sent_at``, when a write whose answer
        was lost was sent: a busy Halo saves a batch after we gave up, and a read before then does
        not show it yet. Raises :class:`OutOfTimeError` when that would outlast the invocation."""
        wait = sent_at + self.settle_seconds - self._clock()
        if wait <= 0:
            return
        deadline = self.transport.deadline
        if deadline is not None and wait > deadline.left():
            raise out_of_time(SYSTEM, "giving a write whose answer was lost time to be saved")
        self.transport.sleep(wait)

    def _save_batch(
        self, entity: str, records: Sequence[dict[str, Any]], indexes: range, result: SaveResult
    ) -> None:
        batch = [records[i] for i in indexes]
        creates = any(not r.get("id") for r in batch)
        sent_at = self._clock()
        for i in indexes:
            result.sent_at[i] = sent_at
        timeout = (self.transport.timeout[0], self.write_timeout)
        try:
            body = self.request("POST", entity, json=batch, retry_ambiguous=not creates, timeout=timeout)
        except RejectedError as exc:
            if len(batch) > 1:
                middle = len(indexes) // 2
                self._save_batch(entity, records, indexes[:middle], result)
                self._save_batch(entity, records, indexes[middle:], result)
                return
            result.errors[indexes[0]] = exc
            return
        except (OutOfTimeError, CredentialError):
            raise
        except IntegrationError as exc:
            self._slowed(sent_at)
            for i in indexes:
                result.errors[i] = exc
            return
        self._slowed(sent_at)
        saved = body if isinstance(body, list) else [body]
        if len(saved) != len(batch):
            error = UpstreamError(
                f"Halo answered {len(saved)} records for a batch of {len(batch)} {entity} records.",
                "Run again: saved records are recognised and not created twice.",
                system=SYSTEM,
            )
            for i in indexes:
                result.errors[i] = error
            return
        for i, record in zip(indexes, saved, strict=True):
            result.saved[i] = record if isinstance(record, dict) else None

    def _slowed(self, sent_at: float) -> None:
        """A batch that took over half the write timeout (or all of it: its answer was lost to
        the timeout) means Halo is slow to save: smaller batches from now on. A quick error is
        not slowness and changes nothing."""
        if self._clock() - sent_at > self.write_timeout / 2:
            self.write_batch = max(min(MIN_WRITE_BATCH, self.write_batch), self.write_batch // 2)


def _written(
    entity: str, records: Sequence[dict[str, Any]], batch: range, result: SaveResult
) -> BatchWritten:
    saved = [i for i in batch if result.errors[i] is None and halo_id((result.saved[i] or {}).get("id"))]
    updated = sum(1 for i in saved if records[i].get("id"))
    return BatchWritten(entity, len(batch), created=len(saved) - updated, updated=updated)


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
