"""Saving records to Halo: POSTed as arrays in batches, a rejected batch split to find the bad
record, smaller batches once Halo is slow, and the wait before a lost write may be looked for."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ddhalo.errors import CredentialError, IntegrationError, OutOfTimeError, RejectedError, UpstreamError
from ddhalo.halo import SYSTEM
from ddhalo.halo.records import halo_id
from ddhalo.http.failures import out_of_time
from ddhalo.http.transport import Transport

WRITE_BATCH = 100
# After a write that was slow or lost its answer, the next batches are halved, to this at least:
# a busy Halo saves a smaller batch within the timeout, and a lost one leaves less to look for.
MIN_WRITE_BATCH = 10


@dataclass
class SaveResult:
    """Per-record outcome of a batched write, in the order the records were given. ``unsent``
    marks records not sent because this invocation ran out of time waiting for Halo; ``sent_at``
    when each one's batch was sent (epoch seconds): a lost one may be saved until that time plus
    the settle window (:meth:`BatchSaving.settle`)."""

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


class BatchSaving:
    """The write side of :class:`ddhalo.halo.client.HaloClient`, which sends its requests (``request``)
    through its ``transport`` and keeps time with its ``_clock``."""

    transport: Transport
    _clock: Callable[[], float]

    def __init__(self, *, write_batch: int, write_timeout: float, settle_seconds: float) -> None:
        self.write_batch = write_batch
        self.write_timeout = write_timeout
        # From sending a write whose answer was lost, how long Halo may still save it: only
        # after that does its absence from a read prove it did not land (kept above the write
        # timeout by whoever sets both: a write lost to a quick 502 needs no more than this).
        self.settle_seconds = settle_seconds
        # Told of each batch Halo answered (a run's live progress and counts move per batch).
        self.on_batch: Callable[[BatchWritten], None] | None = None

    def request(self, method: str, path: str, *, retry_ambiguous: bool = True, **kwargs: Any) -> Any:
        raise NotImplementedError  # HaloClient's: one API call answering decoded JSON

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
