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
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from ddhalo.errors import InputError, IntegrationError
from ddhalo.importers.customers import CustomerOptions, import_customers
from ddhalo.importers.subscriptions import (
    SubscriptionAction,
    apply_subscriptions,
    from_payload,
    licence_finder,
    plan_subscriptions,
    to_payload,
)
from ddhalo.models import Run, RunItem, RunKind, RunTrigger
from ddhalo.runs import Dispatcher, Runner, Upstreams

Phase = Literal["customers", "plan-subscriptions", "apply-subscriptions"]
CUSTOMERS_CHUNK = 0
PLAN_CHUNK = 1
APPLY_BASE = 1000
# Writes per apply chunk: ~10 Halo calls, well inside one invocation at any sane rate limit.
CHUNK_WRITES = 1000
WRITES = ("create", "update")


class Job(BaseModel):
    run_id: str
    kind: RunKind
    phase: Phase = "customers"
    chunk: int = 0


def first_phase(run: Run) -> Phase:
    if run.kind == "subscriptions" or (run.kind == "sync" and not run.options.get("customers", True)):
        return "plan-subscriptions"
    return "customers"


def start(
    runner: Runner,
    dispatcher: Dispatcher,
    kind: RunKind,
    options: dict[str, Any],
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


def execute(runner: Runner, dispatcher: Dispatcher, message: dict[str, Any]) -> Run | None:
    """Execute one queued job; a job for an unknown or finished run is dropped."""
    try:
        job = Job.model_validate(message)
    except ValidationError as exc:
        raise InputError(f"Not a job message: {exc.errors()[0]['msg']}") from exc
    run = runner.store.get_run(job.run_id)
    if run is None:
        return None
    return Pipeline(runner, dispatcher).execute(job, run)


@dataclass
class Pipeline:
    runner: Runner
    dispatcher: Dispatcher

    def execute(self, job: Job, run: Run, upstreams: Upstreams | None = None) -> Run:
        phases = {
            "customers": self._customers,
            "plan-subscriptions": self._plan,
            "apply-subscriptions": self._apply,
        }
        work = phases[job.phase]
        return self.runner.execute(
            run, lambda r, store, up: work(r, up, job.chunk), upstreams, chunk=job.chunk
        )

    def _customers(self, run: Run, upstreams: Upstreams, chunk: int) -> list[RunItem]:
        options = CustomerOptions.model_validate(run.options.get("customer_options", run.options))
        items = import_customers(run, self.runner.store, upstreams, options)
        if run.kind == "sync" and run.options.get("subscriptions", True) and not run.dry_run:
            self._spawn(
                run,
                chunk,
                [Job(run_id=run.run_id, kind=run.kind, phase="plan-subscriptions", chunk=PLAN_CHUNK)],
            )
        return items

    def _plan(self, run: Run, upstreams: Upstreams, chunk: int) -> list[RunItem]:
        store = self.runner.store
        chosen = run.options.get("customer_ids") if run.kind == "subscriptions" else None
        customer_ids = [str(c) for c in chosen] if isinstance(chosen, list) else None
        actions, items = plan_subscriptions(store, upstreams, customer_ids)
        # Partition by action, never by list membership: dataclass equality made that O(n²).
        writes = [a for a in actions if a.action in WRITES]
        if run.dry_run:
            return items + [a.item() for a in actions]
        items += apply_subscriptions(
            [a for a in actions if a.action not in WRITES],
            upstreams.halo,
            store,
            licence_finder(upstreams.halo),
        )
        groups = _chunks(writes)
        if not groups:
            return items
        # A retried plan reuses the first attempt's chunk count, so the run's total never drifts.
        count = store.spawn(run.run_id, chunk, len(groups))
        buckets: list[list[SubscriptionAction]] = [[] for _ in range(count)]
        for i, group in enumerate(groups):
            buckets[i % count].extend(group)
        jobs = []
        for i, bucket in enumerate(buckets):
            store.put_payload(run.run_id, APPLY_BASE + i, to_payload(bucket))
            jobs.append(
                Job(run_id=run.run_id, kind=run.kind, phase="apply-subscriptions", chunk=APPLY_BASE + i)
            )
        for job in jobs:
            self.dispatcher.send(job.model_dump())
        return items

    def _apply(self, run: Run, upstreams: Upstreams, chunk: int) -> list[RunItem]:
        store = self.runner.store
        actions = from_payload(store.get_payload(run.run_id, chunk) or [])
        if not store.mark_started(run.run_id, chunk):
            # An earlier attempt may have written part of this chunk: plan its customers again
            # from fresh reads, so what already landed is recognised (links or markers).
            customers = sorted({a.customer_id for a in actions})
            fresh, failures = plan_subscriptions(store, upstreams, customers) if customers else ([], [])
            return failures + apply_subscriptions(
                fresh, upstreams.halo, store, licence_finder(upstreams.halo)
            )
        try:
            return apply_subscriptions(actions, upstreams.halo, store, licence_finder(upstreams.halo))
        except IntegrationError as exc:
            # This chunk fails alone: its subscriptions are reported, other chunks go on.
            return [a.item("failed", reason=exc.message) for a in actions]

    def _spawn(self, run: Run, chunk: int, jobs: list[Job]) -> None:
        self.runner.store.spawn(run.run_id, chunk, len(jobs))
        for job in jobs:
            self.dispatcher.send(job.model_dump())


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
