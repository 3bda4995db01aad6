"""What each phase of a run does, given its job: import customers, plan subscriptions (and queue
the apply chunks), apply one chunk, check billing. Each answers the items it records; what it had no time for
goes to its follow-up (:mod:`ddhalo.jobs.chain`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ddhalo import job_log
from ddhalo.errors import OutOfTimeError
from ddhalo.jobs import chunking
from ddhalo.jobs.chain import GAVE_UP, Chain
from ddhalo.jobs.job import MAX_FOLLOW_UPS, READ_CHECKPOINT, Job, apply_job
from ddhalo.models import ITEMS_PER_PACK, RESULT_OF, PackedItems, Run, RunItem
from ddhalo.pipeline.billing.flow import check_billing
from ddhalo.pipeline.customers.flow import import_customers
from ddhalo.pipeline.options import (
    SyncOptions,
    billing_options,
    customer_options,
    options_of,
    subscription_options,
)
from ddhalo.pipeline.reconcile import Applied
from ddhalo.pipeline.subscriptions.apply import apply_subscriptions, from_payload, licence_finder, to_payload
from ddhalo.pipeline.subscriptions.flow import plan_subscriptions
from ddhalo.pipeline.subscriptions.plan import SubscriptionAction
from ddhalo.pipeline.subscriptions.read import LicenceRead
from ddhalo.runs.runner import RunStopped, Work
from ddhalo.store import Store
from ddhalo.upstreams import Upstreams

WRITES = ("create", "update")

Phase = Callable[[Chain, Run, Upstreams, Job], Sequence[RunItem | PackedItems]]


class ReadOn(Exception):
    """The plan job's time ran out in the middle of the licence read; what it read is kept."""

    def __init__(self, page: int) -> None:
        super().__init__(page)
        self.page = page


def customers(chain: Chain, run: Run, upstreams: Upstreams, job: Job) -> list[RunItem]:
    """Import the run's customers (a follow-up: those the job before did not reach); then, in a
    sync that goes on to subscriptions, queue the plan job."""
    store = chain.runner.store
    if not run.dry_run and job.customer_ids is None:
        store.set_phase(run.run_id, "customers")
    options = customer_options(run)
    if job.customer_ids is not None:
        options = options.model_copy(update={"customer_ids": job.customer_ids})
    applied = import_customers(run, store, upstreams, options)
    items = applied.items
    if applied.stopped is not None:
        raise RunStopped(applied.stopped, items)
    if not items and not applied.remaining:
        store.add_notice(run.run_id, "no_customers", "Dicker Data answered no customers for this account.")
    recent = upstreams.recent_halo_calls()
    if applied.remaining and not chain.follow_up(
        job, applied, upstreams.halo, customer_ids=applied.remaining, halo_recent=recent
    ):
        items += [_gave_up_customer(i) for i in applied.remaining]
    sync = options_of(run)
    if not applied.remaining and isinstance(sync, SyncOptions) and sync.subscriptions and not run.dry_run:
        plan = Job(run_id=run.run_id, kind=run.kind, phase="plan-subscriptions", halo_recent=recent)
        chain.spawn(job, [plan])
    return items


def plan(chain: Chain, run: Run, upstreams: Upstreams, job: Job) -> list[RunItem | PackedItems]:
    """Read and plan every chosen customer's subscriptions; record what needs no write, store the
    writes as apply chunks and queue them. A dry run answers the whole plan instead."""
    store = chain.runner.store
    if not run.dry_run and not job.resume:
        store.set_phase(run.run_id, "reading subscriptions")
    actions, items = _read_and_plan(store, run, upstreams, job)
    if not actions and not items:
        _say_why_nothing(store, run, subscription_options(run).customer_ids)
    if run.dry_run:
        return [*items, *(a.item() for a in actions)]
    # Partition by action, never by list membership: dataclass equality made that O(n²).
    writes = [a for a in actions if a.action in WRITES]
    store.set_phase(run.run_id, "writing subscriptions", total=len(actions), done=len(actions) - len(writes))
    done = _settle([a for a in actions if a.action not in WRITES], upstreams, store)
    job_log.step("unchanged items made")
    _queue_chunks(chain, run, job, chunking.chunks(writes))
    return [*items, *done]


def apply(chain: Chain, run: Run, upstreams: Upstreams, job: Job) -> list[RunItem]:
    """Write one chunk; a retried chunk (an earlier attempt may have written part of it) plans its
    customers again first."""
    store = chain.runner.store
    actions = from_payload(store.get_payload(run.run_id, job.chunk) or [])
    if store.mark_started(run.run_id, job.chunk):
        # Every record's outcome is in ``applied``: a write that failed is an item of its own,
        # and what may have landed is looked for before anything is called failed.
        applied = apply_subscriptions(actions, upstreams.halo, store, licence_finder(upstreams.halo))
        items = applied.items
    else:
        applied, items = _apply_again(store, run, upstreams, actions)
    if applied.stopped is not None:
        raise RunStopped(applied.stopped, items)
    if applied.remaining:
        follow = job.follow_up()
        store.put_payload(run.run_id, follow.chunk, to_payload(applied.remaining))
        if not chain.follow_up(job, applied, upstreams.halo):
            reason = GAVE_UP.format(n=MAX_FOLLOW_UPS)
            items += [a.item("failed", reason=reason, reason_code="throttled") for a in applied.remaining]
    return items


def billing(chain: Chain, run: Run, upstreams: Upstreams, job: Job) -> list[RunItem | PackedItems]:
    """The billing check, in one job: read, compare, store the run's totals. It writes nothing to
    Halo (so it needs no chunks, no follow-up, nothing looked for again)."""
    store = chain.runner.store
    checked = check_billing(store, upstreams, billing_options(run))
    if not checked.items:
        _say_why_nothing_checked(store, run, checked.customers)
    store.set_billing(run.run_id, checked.totals)
    found = [i for i in checked.items if i.result != "unchanged"]
    return [*found, *PackedItems.pack([i for i in checked.items if i.result == "unchanged"])]


PHASES: dict[str, Phase] = {
    "customers": customers,
    "plan-subscriptions": plan,
    "apply-subscriptions": apply,
    "billing": billing,
}


def work_of(chain: Chain, job: Job, used: list[Upstreams]) -> Work:
    """``job``'s phase as the runner calls it; ``used`` keeps the clients it connected, whose Halo
    calls the next job must count (and this one counts the calls of the job before)."""
    phase = PHASES[job.phase]

    def work(run: Run, store: Store, upstreams: Upstreams) -> Sequence[RunItem | PackedItems]:
        upstreams.count_halo_calls(job.halo_recent)
        used.append(upstreams)
        return phase(chain, run, upstreams, job)

    return work


def _gave_up_customer(customer_id: str) -> RunItem:
    reason = GAVE_UP.format(n=MAX_FOLLOW_UPS)
    return RunItem(
        type="customer", dicker_id=customer_id, result="failed", reason=reason, reason_code="throttled"
    )


def _read_and_plan(
    store: Store, run: Run, upstreams: Upstreams, job: Job
) -> tuple[list[SubscriptionAction], list[RunItem]]:
    """The plan, going on with the licence read an earlier job kept; time running out mid-read
    keeps what was read for the next job (``ReadOn``)."""
    read = LicenceRead()
    if job.resume and (saved := store.get_payload(run.run_id, READ_CHECKPOINT)) is not None:
        read = LicenceRead.from_payload(saved)
    started_at = read.cursor.next_page
    try:
        return plan_subscriptions(store, upstreams, subscription_options(run), read)
    except OutOfTimeError:
        if run.dry_run or read.cursor.next_page == started_at:
            raise  # nothing new to keep: the job is handed over as it is
        store.put_payload(run.run_id, READ_CHECKPOINT, read.to_payload())
        raise ReadOn(read.cursor.next_page) from None


def _queue_chunks(chain: Chain, run: Run, job: Job, groups: list[list[SubscriptionAction]]) -> None:
    """Store each apply chunk's writes, then queue the chunks. A retried plan reuses the first
    attempt's chunk count, so the run's total never drifts."""
    if not groups:
        return
    store = chain.runner.store
    count = store.spawn(run.run_id, job.chunk, len(groups))
    children = [apply_job(run.run_id, run.kind, i) for i in range(count)]
    for child, bucket in zip(children, chunking.spread(groups, count), strict=True):
        store.put_payload(run.run_id, child.chunk, to_payload(bucket))
    job_log.step("write chunks stored")
    for child in children:
        chain.send(child)


def _apply_again(
    store: Store, run: Run, upstreams: Upstreams, actions: list[SubscriptionAction]
) -> tuple[Applied[SubscriptionAction], list[RunItem]]:
    """A retried chunk: plan its customers again from fresh reads, so what an earlier attempt
    already wrote is recognised (links or markers), and write only this chunk's records (the
    plan job reported the rest of these customers')."""
    customers = sorted({a.customer_id for a in actions})
    again = subscription_options(run).model_copy(update={"customer_ids": customers})
    fresh, failures = plan_subscriptions(store, upstreams, again) if customers else ([], [])
    mine = {(a.key, a.occurrence): a for a in actions}
    fresh = [a for a in fresh if (a.key, a.occurrence) in mine and a.action != "skip"]
    applied = apply_subscriptions(fresh, upstreams.halo, store, licence_finder(upstreams.halo))
    return applied, failures + [_as_planned(i, mine) for i in applied.items]


def _as_planned(item: RunItem, planned: dict[tuple[str, int], SubscriptionAction]) -> RunItem:
    """A write this chunk was given that a retry finds already in Halo landed on the first
    attempt: it was created (or updated) by this run, not found unchanged."""
    action = planned.get((f"{item.customer_id}#{item.dicker_id}", item.occurrence))
    if item.result != "unchanged" or action is None or action.action not in WRITES:
        return item
    return item.model_copy(update={"result": RESULT_OF[action.action], "changes": action.changes})


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


def _say_why_nothing(store: Store, run: Run, customer_ids: list[str] | None) -> None:
    """A subscriptions step that found nothing to plan says why, never a silent clean."""
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


def _say_why_nothing_checked(store: Store, run: Run, customers: int) -> None:
    """A billing check that found nothing to check says why, never a silent clean."""
    if not customers:
        text = "No customer is mapped to a Halo client, so there is nothing to check: map customers first."
        store.add_notice(run.run_id, "no_mapped_customers", text)
    else:
        text = (
            f"None of the {customers} mapped customer(s) has a subscription linked to a Halo licence: "
            "import subscriptions (POST /subscriptions/import) first."
        )
        store.add_notice(run.run_id, "no_subscriptions", text)
