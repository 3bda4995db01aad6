"""A run's life: created ``queued``, each job's items and counts recorded once, finished.

A run is created by the API (or the schedule) as ``queued``; real runs are executed from a
queue message so that no API request waits for Halo, while dry runs execute at once and answer
the whole plan. Re-delivering a message re-executes the same plan, which converges.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from aws_lambda_powertools import Logger
from pydantic import BaseModel

from ddhalo.deadline import Deadline
from ddhalo.errors import CredentialError, IntegrationError, OutOfTimeError
from ddhalo.job_log import JobLog, step
from ddhalo.models import FINISHED, PackedItems, Run, RunItem, RunKind, RunStatus, RunTrigger
from ddhalo.runs.halo_lock import HALO_LOCK, LOCK_TTL
from ddhalo.secrets import SecretStore
from ddhalo.settings.model import Connection
from ddhalo.settings.service import load_connection
from ddhalo.store import Store
from ddhalo.upstreams import Upstreams, connect

logger = Logger(child=True)

if TYPE_CHECKING:  # the clients (and requests) load with the first job, not with every handler
    from ddhalo.halo.saving import BatchWritten

# The Halo entities whose writes are a run's records (a customer's site is part of its client).
COUNTED_ENTITIES = frozenset({"Client", "SoftwareLicence"})


def new_run_id() -> str:
    """Sortable by time, unique without coordination."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:10]}"


# A kind's work: given the run, the store and the clients, answer one item per record (or
# unchanged ones already packed).
Work = Callable[[Run, Store, Upstreams], Sequence[RunItem | PackedItems]]


class RunStopped(Exception):
    """Raised by a job whose credentials were refused part-way: ``items`` say what it did and
    what it could not; the runner records them, then fails the run with ``error`` (every later
    call would be refused too, so nothing is retried or handed on)."""

    def __init__(self, error: CredentialError, items: Sequence[RunItem | PackedItems]) -> None:
        super().__init__(error.message)
        self.error = error
        self.items = items


@dataclass
class Runner:
    store: Store
    secrets: SecretStore
    rate_share: int = 1
    # How a job gets its clients (tests and the bench may give their own).
    make_upstreams: Callable[[Connection, int, Deadline | None], Upstreams] = connect
    # Told of every run that finished (the digest, ``ddhalo.notify.DigestSender``).
    after_finish: Callable[[Run], object] | None = None

    def upstreams(
        self, deadline: Deadline | None = None, *, alone: bool = False, connection: Connection | None = None
    ) -> Upstreams:
        """Clients for one job, from the stored settings unless ``connection`` is given.
        ``alone``: no other job can be calling Halo meanwhile, so this one takes the whole pace."""
        conn = connection or load_connection(self.store, self.secrets)
        return self.make_upstreams(conn, 1 if alone else self.rate_share, deadline)

    def hold_halo(self, run: Run) -> str | None:
        """Take (or keep) the Halo lock for ``run``; answer the run holding it otherwise."""
        return self.store.acquire_lock(HALO_LOCK, run.run_id, LOCK_TTL, kind=run.kind)

    def create(self, kind: RunKind, options: BaseModel, *, dry_run: bool, trigger: RunTrigger) -> Run:
        """A new ``queued`` run; ``options``: its kind's (``ddhalo.pipeline.options``)."""
        run = Run(
            run_id=new_run_id(),
            kind=kind,
            trigger=trigger,
            dry_run=dry_run,
            verify=bool(getattr(options, "verify", False)),
            options=options.model_dump(mode="json"),
        )
        self.store.create_run(run)
        return run

    def execute(
        self,
        run: Run,
        work: Work,
        upstreams: Upstreams | None = None,
        chunk: str = "",
        deadline: Deadline | None = None,
        phase: str = "",
        *,
        alone: bool = False,
    ) -> Run:
        """Run ``work`` for one chunk of ``run`` and record it; the last chunk finishes the run.
        An :class:`OutOfTimeError` is not a failure: it goes to the caller, which hands the chunk on.
        ``alone``: this job is the only one of the writing run (see ``Runner.upstreams``)."""
        current = self.store.get_run(run.run_id) or run
        if current.status in FINISHED or self.store.chunk_recorded(run.run_id, chunk):
            return current
        self.store.set_run_status(run.run_id, "running", only_if=("queued", "running"))
        clients: Upstreams | None = upstreams
        with JobLog(phase, chunk) as log:
            try:
                clients = clients or self.upstreams(deadline, alone=alone)
                live = not run.dry_run and self.store.start_live(run.run_id, chunk)
                if not run.dry_run:
                    self._watch(run.run_id, clients, chunk if live else None)
                try:
                    items = work(current, self.store, clients)
                except RunStopped as stop:
                    self.store.record_chunk(run.run_id, chunk, stop.items, clients.stats(), live=live)
                    return self.fail(run.run_id, stop.error)
                self.store.record_chunk(run.run_id, chunk, items, clients.stats(), live=live)
                step("items written")
            except OutOfTimeError:
                raise
            except IntegrationError as exc:
                return self.fail(run.run_id, exc)
            finally:
                log.stats = {**clients.stats(), **clients.waits()} if clients else {}
        return self.finish_if_done(run.run_id)

    def _watch(self, run_id: str, clients: Upstreams, chunk: str | None) -> None:
        """The run's progress and counts move with each batch Halo answers (its clients' and
        sites' batches are one customer's: only the clients' count), and it says when Halo's
        rate window is full. ``chunk``: None when the run has no live counts."""
        store = self.store

        def written(batch: BatchWritten) -> None:
            if batch.entity in COUNTED_ENTITIES:
                store.add_progress(run_id, batch.sent, chunk, created=batch.created, updated=batch.updated)

        clients.watch(written, lambda s: store.set_throttled_until(run_id, time.time() + s))

    def fail(self, run_id: str, error: IntegrationError) -> Run:
        return self._finish(run_id, "failed", error=error)

    def finish_if_done(self, run_id: str) -> Run:
        run = self.store.get_run(run_id)
        assert run is not None
        if run.status in FINISHED or run.chunks_done < run.chunks_total:
            return run
        counts = run.counts
        succeeded = counts.created + counts.updated + counts.unchanged + counts.skipped
        status: RunStatus = "succeeded" if not counts.failed else ("partial" if succeeded else "failed")
        verified = run.verify and not run.dry_run and status in ("succeeded", "partial")
        return self._finish(run_id, status, verified=verified, only_if=("running", "queued"))

    def _finish(
        self,
        run_id: str,
        status: RunStatus,
        *,
        verified: bool = False,
        only_if: tuple[str, ...] | None = None,
        error: IntegrationError | None = None,
    ) -> Run:
        """Give the Halo lock back and record a finished verify *before* the status says the run
        finished: whoever sees it may start the next sync at once, which must find the lock free
        (else it is skipped) and this verify recorded (else it verifies again). Then the news."""
        self.store.release_lock(HALO_LOCK, run_id)
        if verified:
            self.store.mark_verified(run_id)
        if error is None:
            self.store.set_run_status(run_id, status, only_if=only_if)
        else:
            self.store.set_run_status(
                run_id, status, error=error.message, error_code=error.code, hint=error.hint or ""
            )
        run = self.store.get_run(run_id)
        assert run is not None
        if run.status in FINISHED and self.after_finish is not None:
            try:
                self.after_finish(run)
            except Exception:  # what comes after is news of the run: it never fails the run
                logger.exception("after the run finished")
        return run
