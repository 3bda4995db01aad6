"""The work behind every run, as queued jobs: customers, then subscriptions planned once and
applied in chunks, so no invocation nears Lambda's 15 minutes however many customers there are.

| phase                 | chunk      | does                                                      |
|-----------------------|------------|-----------------------------------------------------------|
| ``customers``         | 0          | import customers (one bulk read, batched writes)          |
| ``plan-subscriptions``| 1          | one bulk read of both sides, the plan, unchanged items;   |
|                       |            | the writes are stored as chunk payloads and queued        |
| ``apply-subscriptions``| 1000 + i  | write one chunk; a retried chunk re-plans its customers   |

A run finishes when every announced chunk is recorded (``Store.spawn`` / ``record_chunk`` count each
exactly once), whichever worker records the last one.

Time and the Halo lock:

- One run writes to Halo at a time (``Runner.hold_halo``): a job whose run cannot take the lock is
  sent back to the queue with a delay and its run stays ``queued``, saying what it waits for.
- A job that runs out of invocation time while Halo's rate limit is full (``OutOfTimeError``)
  records what it finished and hands the rest to a *follow-up* of its chunk (chunk
  ``n + FOLLOW_UP_STEP``): the customers it did not reach, or the subscription writes it did not
  send (with those whose create may have landed marked to be looked for first). Time running
  out while it was still reading hands the whole job over again.
"""

from __future__ import annotations

import math
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools import Logger
from pydantic import BaseModel, Field, ValidationError

from ddhalo import observe
from ddhalo.deadline import Deadline
from ddhalo.errors import InputError, OutOfTimeError, ThrottledError
from ddhalo.models import FINISHED, ITEMS_PER_PACK, RESULT_OF, PackedItems, Run, RunItem, RunKind, RunTrigger
from ddhalo.pipeline.customers.flow import import_customers
from ddhalo.pipeline.options import (
    RunOptions,
    SyncOptions,
    customer_options,
    options_of,
    subscription_options,
)
from ddhalo.pipeline.reconcile import Applied
from ddhalo.pipeline.subscriptions.apply import apply_subscriptions, from_payload, licence_finder, to_payload
from ddhalo.pipeline.subscriptions.flow import plan_subscriptions
from ddhalo.pipeline.subscriptions.plan import SubscriptionAction
from ddhalo.pipeline.subscriptions.read import LicenceRead
from ddhalo.runs import Dispatcher, Runner, RunStopped
from ddhalo.store import Store
from ddhalo.upstreams import Upstreams

if TYPE_CHECKING:
    from ddhalo.halo.client import HaloClient

Phase = Literal["customers", "plan-subscriptions", "apply-subscriptions"]
CUSTOMERS_CHUNK = 0
PLAN_CHUNK = 1
# The payload holding a plan job's licence read, when its invocation ended in the middle of it.
READ_CHECKPOINT = 2
APPLY_BASE = 1000
# The follow-up of chunk n (its work continued in a new invocation) is chunk n + FOLLOW_UP_STEP.
FOLLOW_UP_STEP = 1_000_000
# Beyond this many follow-ups (Halo throttled for hours) the rest is reported failed.
MAX_FOLLOW_UPS = 50
# A job whose time runs out while it is still reading is sent again whole, this many times.
MAX_HANDOVERS = 8
# A job waiting for another run's Halo lock comes back after 5 s, 10 s, ... at most 5 minutes.
LOCK_WAIT_FIRST = 5
LOCK_WAIT_MAX = 300
# How long a chunk's execution is held when the invocation's own end is unknown (Lambda's limit).
LEASE_SECONDS = 15 * 60
# Writes per apply chunk: ~10 Halo calls, well inside one invocation at any sane rate limit.
CHUNK_WRITES = 1000
WRITES = ("create", "update")
# A child of the handlers' Logger: same service, handler and redaction.
logger = Logger(child=True)
GAVE_UP = "Halo's rate limit stayed full through {n} invocations; the next run tries again."


class Job(BaseModel):
    run_id: str
    kind: RunKind
    phase: Phase = "customers"
    chunk: int = 0
    customer_ids: list[str] | None = None  # a customers follow-up: only the customers not reached
    handovers: int = 0  # times this job was sent again whole, its time out while reading
    waits: int = 0  # times this job came back waiting for another run's Halo lock
    resume: bool = False  # a plan job going on with the licence read an earlier one began
    # A job that takes the whole pace (SOLO_PHASES): when the Halo calls of the job that queued it
    # started, within the last window (epoch seconds). It may run in another container, and Halo
    # counts the calls of both. (Apply chunks split the pace by a share instead: counting every
    # call before them against their share would hold them back for calls the share allows.)
    halo_recent: list[float] = Field(default_factory=list)
    # Not before this (epoch seconds): a write of the job before lost its answer, and Halo may
    # save it until then, so this job must not read Halo for it sooner (it would create it again).
    not_before: float | None = None


class _ReadOn(Exception):
    """The plan job's time ran out in the middle of the licence read; what it read is kept."""

    def __init__(self, page: int) -> None:
        super().__init__(page)
        self.page = page


def first_phase(run: Run) -> Phase:
    options = options_of(run)
    if run.kind == "subscriptions" or (isinstance(options, SyncOptions) and not options.customers):
        return "plan-subscriptions"
    return "customers"


def start(
    runner: Runner,
    dispatcher: Dispatcher,
    kind: RunKind,
    options: RunOptions,
    *,
    dry_run: bool,
    trigger: RunTrigger,
    upstreams: Upstreams | None = None,
) -> Run:
    """A dry run executes now and answers its plan; a real run is queued for the worker."""
    run = runner.create(kind, options, dry_run=dry_run, trigger=trigger)
    return begin(runner, dispatcher, run, upstreams)


def begin(runner: Runner, dispatcher: Dispatcher, run: Run, upstreams: Upstreams | None = None) -> Run:
    phase = first_phase(run)
    chunk = CUSTOMERS_CHUNK if phase == "customers" else PLAN_CHUNK
    if run.dry_run:
        return Pipeline(runner, dispatcher).execute(
            Job(run_id=run.run_id, kind=run.kind, phase=phase, chunk=chunk), run, upstreams
        )
    dispatcher.send(Job(run_id=run.run_id, kind=run.kind, phase=phase, chunk=chunk).model_dump())
    return run


def execute(
    runner: Runner, dispatcher: Dispatcher, message: dict[str, Any], deadline: Deadline | None = None
) -> Run | None:
    """Execute one queued job; a job for an unknown or finished run is dropped. ``deadline``:
    when this invocation must stop (the rest is handed to a follow-up job)."""
    try:
        job = Job.model_validate(message)
    except ValidationError as exc:
        raise InputError(f"Not a job message: {exc.errors()[0]['msg']}") from exc
    run = runner.store.get_run(job.run_id)
    if run is None:
        return None
    return Pipeline(runner, dispatcher).execute(job, run, deadline=deadline)


def generation(chunk: int) -> int:
    """How many follow-ups deep a chunk is (0: the original)."""
    return chunk // FOLLOW_UP_STEP


@dataclass
class Pipeline:
    runner: Runner
    dispatcher: Dispatcher

    def execute(
        self, job: Job, run: Run, upstreams: Upstreams | None = None, deadline: Deadline | None = None
    ) -> Run:
        phases: dict[str, Callable[[Run, Upstreams, Job], Sequence[RunItem | PackedItems]]] = {
            "customers": self._customers,
            "plan-subscriptions": self._plan,
            "apply-subscriptions": self._apply,
        }
        work = phases[job.phase]
        used: list[Upstreams] = []  # this job's clients, once connected: whose calls it hands on

        def run_job(r: Run, store: Store, up: Upstreams) -> Sequence[RunItem | PackedItems]:
            up.count_halo_calls(job.halo_recent)
            used.append(up)
            return work(r, up, job)

        if run.dry_run or run.status in FINISHED:
            try:
                return self.runner.execute(run, run_job, upstreams, chunk=job.chunk, phase=job.phase)
            except OutOfTimeError as exc:  # a dry run answers within its request: no follow-up
                return self.runner.fail(run.run_id, exc)
        holder = self.runner.hold_halo(run)
        if holder is not None:
            return self._wait_for(job, run, holder)
        if not self._settled(job, deadline):
            return self.runner.store.get_run(run.run_id) or run
        # SQS delivers at least once: a copy of this job may be running in another worker now.
        # Only one execution of a chunk at a time (a second would create what the first does).
        store, owner = self.runner.store, uuid.uuid4().hex
        lease = f"CHUNK#{run.run_id}#{job.chunk}"
        lasts = int(deadline.left()) + 60 if deadline is not None else LEASE_SECONDS
        if store.acquire_lock(lease, owner, max(60, lasts)) is not None:
            logger.warning("a copy of this job is running elsewhere: this delivery is dropped")
            return store.get_run(run.run_id) or run
        try:
            return self.runner.execute(
                run,
                run_job,
                upstreams,
                chunk=job.chunk,
                deadline=deadline,
                phase=job.phase,
                alone=job.phase in SOLO_PHASES,
            )
        except OutOfTimeError as exc:
            return self._hand_over(job.model_copy(update={"halo_recent": _handed_on(job, used)}), exc)
        except _ReadOn as more:
            update = {"resume": True, "handovers": 0, "halo_recent": _handed_on(job, used)}
            self.dispatcher.send(job.model_copy(update=update).model_dump())
            logger.info("out of time while reading: the next job reads on", extra={"next_page": more.page})
            return store.get_run(run.run_id) or run
        finally:
            store.release_lock(lease, owner)

    def _wait_for(self, job: Job, run: Run, holder: str) -> Run:
        """Another run is writing to Halo: come back later (two imports at once would both create)."""
        delay = min(LOCK_WAIT_MAX, LOCK_WAIT_FIRST * 2**job.waits)
        self.runner.store.set_waiting(run.run_id, f"run {holder} is writing to Halo")
        self.dispatcher.send(job.model_copy(update={"waits": job.waits + 1}).model_dump(), delay)
        return self.runner.store.get_run(run.run_id) or run

    def _settled(self, job: Job, deadline: Deadline | None) -> bool:
        """Wait out ``job.not_before`` (SQS delays a message 15 minutes at most, and a delivery
        may come early); a wait this invocation cannot hold sends the job back, delayed."""
        wait = (job.not_before or 0.0) - time.time()
        if wait <= 0:
            return True
        if deadline is None or wait < deadline.left():
            time.sleep(wait)
            return True
        self.dispatcher.send(job.model_dump(), math.ceil(wait))
        return False

    def _hand_over(self, job: Job, exc: OutOfTimeError) -> Run:
        """Time ran out before the job had anything to record: send it again whole."""
        if job.handovers + 1 >= MAX_HANDOVERS:
            return self.runner.fail(
                job.run_id,
                ThrottledError(GAVE_UP.format(n=MAX_HANDOVERS), exc.hint, system=exc.system),
            )
        self.dispatcher.send(job.model_copy(update={"handovers": job.handovers + 1}).model_dump())
        run = self.runner.store.get_run(job.run_id)
        assert run is not None
        return run

    def _follow_up(self, run: Run, job: Job, applied: Applied[Any], halo: HaloClient, **changes: Any) -> bool:
        """Queue the rest of ``job`` as its follow-up chunk; False once there were too many. One
        that must look for a lost write starts once Halo has had the settle window to save it."""
        if generation(job.chunk) + 1 > MAX_FOLLOW_UPS:
            return False
        not_before = None
        if applied.lost_at is not None:
            not_before = applied.lost_at + halo.settle_seconds
        update = {
            "chunk": job.chunk + FOLLOW_UP_STEP,
            "handovers": 0,
            "waits": 0,
            "not_before": not_before,
            **changes,
        }
        self.runner.store.spawn(run.run_id, job.chunk, 1)
        delay = math.ceil(not_before - time.time()) if not_before is not None else 0
        self.dispatcher.send(job.model_copy(update=update).model_dump(), max(0, delay))
        return True

    def _customers(self, run: Run, upstreams: Upstreams, job: Job) -> list[RunItem]:
        if not run.dry_run and job.customer_ids is None:
            self.runner.store.set_phase(run.run_id, "customers")
        options = customer_options(run)
        if job.customer_ids is not None:
            options = options.model_copy(update={"customer_ids": job.customer_ids})
        applied = import_customers(run, self.runner.store, upstreams, options)
        items = applied.items
        if applied.stopped is not None:
            raise RunStopped(applied.stopped, items)
        if not items and not applied.remaining:
            self.runner.store.add_notice(
                run.run_id, "no_customers", "Dicker Data answered no customers for this account."
            )
        recent = upstreams.recent_halo_calls()
        if applied.remaining and not self._follow_up(
            run, job, applied, upstreams.halo, customer_ids=applied.remaining, halo_recent=recent
        ):
            reason = GAVE_UP.format(n=MAX_FOLLOW_UPS)
            items += [
                RunItem(type="customer", dicker_id=i, result="failed", reason=reason, reason_code="throttled")
                for i in applied.remaining
            ]
        sync = options_of(run)
        subscriptions_next = isinstance(sync, SyncOptions) and sync.subscriptions
        if not applied.remaining and subscriptions_next and not run.dry_run:
            plan = Job(
                run_id=run.run_id,
                kind=run.kind,
                phase="plan-subscriptions",
                chunk=PLAN_CHUNK,
                halo_recent=recent,
            )
            self._spawn(run, job.chunk, [plan])
        return items

    def _plan(self, run: Run, upstreams: Upstreams, job: Job) -> list[RunItem | PackedItems]:
        store = self.runner.store
        if not run.dry_run and not job.resume:
            store.set_phase(run.run_id, "reading subscriptions")
        options = subscription_options(run)
        customer_ids = options.customer_ids
        read = LicenceRead()
        if job.resume and (saved := store.get_payload(run.run_id, READ_CHECKPOINT)) is not None:
            read = LicenceRead.from_payload(saved)
        started_at = read.cursor.next_page
        try:
            actions, items = plan_subscriptions(store, upstreams, options, read)
        except OutOfTimeError:
            if run.dry_run or read.cursor.next_page == started_at:
                raise  # nothing new to keep: the job is handed over as it is
            store.put_payload(run.run_id, READ_CHECKPOINT, read.to_payload())
            raise _ReadOn(read.cursor.next_page) from None
        if not actions and not items:
            self._say_why_nothing(run, customer_ids)
        # Partition by action, never by list membership: dataclass equality made that O(n²).
        writes = [a for a in actions if a.action in WRITES]
        if run.dry_run:
            return [*items, *(a.item() for a in actions)]
        store.set_phase(
            run.run_id, "writing subscriptions", total=len(actions), done=len(actions) - len(writes)
        )
        done = _settle([a for a in actions if a.action not in WRITES], upstreams, store)
        observe.step("unchanged items made")
        groups = _chunks(writes)
        if not groups:
            return [*items, *done]
        # A retried plan reuses the first attempt's chunk count, so the run's total never drifts.
        count = store.spawn(run.run_id, job.chunk, len(groups))
        buckets: list[list[SubscriptionAction]] = [[] for _ in range(count)]
        for i, group in enumerate(groups):
            buckets[i % count].extend(group)
        jobs = []
        for i, bucket in enumerate(buckets):
            store.put_payload(run.run_id, APPLY_BASE + i, to_payload(bucket))
            jobs.append(
                Job(run_id=run.run_id, kind=run.kind, phase="apply-subscriptions", chunk=APPLY_BASE + i)
            )
        observe.step("write chunks stored")
        for next_job in jobs:
            self.dispatcher.send(next_job.model_dump())
        return [*items, *done]

    def _apply(self, run: Run, upstreams: Upstreams, job: Job) -> list[RunItem]:
        store = self.runner.store
        actions = from_payload(store.get_payload(run.run_id, job.chunk) or [])
        reread = licence_finder(upstreams.halo)
        if not store.mark_started(run.run_id, job.chunk):
            # An earlier attempt may have written part of this chunk: plan its customers again
            # from fresh reads, so what already landed is recognised (links or markers).
            customers = sorted({a.customer_id for a in actions})
            again = subscription_options(run).model_copy(update={"customer_ids": customers})
            fresh, failures = plan_subscriptions(store, upstreams, again) if customers else ([], [])
            # Only this chunk's records: the plan job reported the rest of these customers'.
            mine = {(a.key, a.occurrence): a for a in actions}
            fresh = [a for a in fresh if (a.key, a.occurrence) in mine and a.action != "skip"]
            applied = apply_subscriptions(fresh, upstreams.halo, store, reread)
            items = failures + [_as_planned(i, mine) for i in applied.items]
        else:
            # Every record's outcome is in ``applied``: a write that failed is an item of its own,
            # and what may have landed is looked for before anything is called failed.
            applied = apply_subscriptions(actions, upstreams.halo, store, reread)
            items = applied.items
        if applied.stopped is not None:
            raise RunStopped(applied.stopped, items)
        if applied.remaining:
            next_chunk = job.chunk + FOLLOW_UP_STEP
            store.put_payload(run.run_id, next_chunk, to_payload(applied.remaining))
            if not self._follow_up(run, job, applied, upstreams.halo):
                reason = GAVE_UP.format(n=MAX_FOLLOW_UPS)
                items += [a.item("failed", reason=reason, reason_code="throttled") for a in applied.remaining]
        return items

    def _say_why_nothing(self, run: Run, customer_ids: list[str] | None) -> None:
        """A subscriptions step that found nothing to plan says why, never a silent clean."""
        store = self.runner.store
        mapped = len(store.list_mappings()) if customer_ids is None else len(customer_ids)
        if not mapped:
            store.add_notice(
                run.run_id,
                "no_mapped_customers",
                "No customer is mapped to a Halo client, so no subscription was imported: generate "
                "mappings (POST /mappings/generate) or import customers first.",
            )
        else:
            store.add_notice(
                run.run_id,
                "no_subscriptions",
                f"Dicker Data answered no subscriptions for the {mapped} mapped customer(s).",
            )

    def _spawn(self, run: Run, chunk: int, jobs: list[Job]) -> None:
        self.runner.store.spawn(run.run_id, chunk, len(jobs))
        for job in jobs:
            self.dispatcher.send(job.model_dump())


# The phases whose jobs run one at a time: the writing run holds the Halo lock, and its customers
# and plan jobs (with their follow-ups) queue the next only when they end. They take the whole
# Halo pace; apply chunks run WorkerConcurrency at once and split it.
SOLO_PHASES = frozenset({"customers", "plan-subscriptions"})


def _handed_on(job: Job, used: list[Upstreams]) -> list[float]:
    """The Halo calls ``job`` sent again must count (``Job.halo_recent``): this one's, once it
    had clients; none for an apply chunk, which counts only its own container's."""
    if job.phase not in SOLO_PHASES:
        return []
    return used[-1].recent_halo_calls() if used else job.halo_recent


def _settle(
    actions: list[SubscriptionAction], upstreams: Upstreams, store: Store
) -> list[RunItem | PackedItems]:
    """The plan's actions that need no write (unchanged, skipped, failed), a pack at a time, so
    their items are packed as they are made instead of all being held as models."""
    out: list[RunItem | PackedItems] = []
    finder = licence_finder(upstreams.halo)
    for start in range(0, len(actions), ITEMS_PER_PACK):
        part = actions[start : start + ITEMS_PER_PACK]
        made = apply_subscriptions(part, upstreams.halo, store, finder).items
        out += [i for i in made if i.result != "unchanged"]
        out += PackedItems.pack([i for i in made if i.result == "unchanged"])
    return out


def _as_planned(item: RunItem, planned: dict[tuple[str, int], SubscriptionAction]) -> RunItem:
    """A write this chunk was given that a retry finds already in Halo landed on the first
    attempt: it was created (or updated) by this run, not found unchanged."""
    action = planned.get((f"{item.customer_id}#{item.dicker_id}", item.occurrence))
    if item.result != "unchanged" or action is None or action.action not in WRITES:
        return item
    return item.model_copy(update={"result": RESULT_OF[action.action], "changes": action.changes})


def _chunks(writes: list[SubscriptionAction]) -> list[list[SubscriptionAction]]:
    """Group writes by customer (an add-on stays with its base), then pack groups into chunks."""
    by_customer: dict[str, list[SubscriptionAction]] = defaultdict(list)
    for action in writes:
        by_customer[action.customer_id].append(action)
    chunks: list[list[SubscriptionAction]] = []
    current: list[SubscriptionAction] = []
    for customer in sorted(by_customer):
        group = by_customer[customer]
        if current and len(current) + len(group) > CHUNK_WRITES:
            chunks.append(current)
            current = []
        current.extend(group)
    if current:
        chunks.append(current)
    return chunks
