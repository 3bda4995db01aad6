"""How the work is cut into jobs: apply chunks keep each customer's writes together, and what a job
had no time for becomes its follow-up chunk (numbered by ``generation``), until there were too many."""

import time
from collections.abc import Sequence
from typing import Any

import pytest

from ddhalo.deadline import Deadline
from ddhalo.dicker_data.client import Parsed
from ddhalo.dicker_data.models import Tenant
from ddhalo.errors import InputError, OutOfTimeError, UnreachableError
from ddhalo.halo.records import ClientRecord, Licence
from ddhalo.halo.saving import SaveResult
from ddhalo.http.pacing import RateLimiter
from ddhalo.http.transport import Transport
from ddhalo.jobs import chunking, executor, phases, start
from ddhalo.jobs.chain import GAVE_UP, Chain
from ddhalo.jobs.executor import JobExecutor
from ddhalo.jobs.job import MAX_FOLLOW_UPS, Job
from ddhalo.models import Run
from ddhalo.pipeline.options import CustomerOptions, SubscriptionOptions, SyncOptions
from ddhalo.pipeline.subscriptions.apply import to_payload
from ddhalo.pipeline.subscriptions.plan import SubscriptionAction
from ddhalo.queue import ListDispatcher
from ddhalo.runs.runner import Runner
from ddhalo.upstreams import Upstreams


class Halo:
    """Saves every record except those named in ``out_of_time`` (left unsent); lists nothing."""

    write_batch = 100
    settle_seconds = 300.0

    def __init__(self, out_of_time: Sequence[str] = (), first_id: int = 101) -> None:
        self.transport = Transport("http://127.0.0.1:9/", system="Halo")  # counts only, never sends
        self.out_of_time = set(out_of_time)
        self.sent: list[str] = []
        self._next_id = first_id - 1

    def save(self, entity: str, records: Sequence[dict[str, Any]]) -> SaveResult:
        result = SaveResult()
        for record in records:
            name = str(record.get("name"))
            unsent = name in self.out_of_time or "*" in self.out_of_time
            if not unsent:
                self.sent.append(name)
                self._next_id += 1
            result.saved.append(None if unsent else {**record, "id": self._next_id})
            result.errors.append(None)
            result.unsent.append(unsent)
            result.sent_at.append(0.0)
        return result

    def clients(self) -> list[ClientRecord]:
        return []

    def licences(self, client_id: int | None = None) -> list[Licence]:
        return []


class DickerData:
    def __init__(self, *names: tuple[str, str]) -> None:
        self.transport = Transport("http://127.0.0.1:9/", system="Dicker Data")  # counts only, never sends
        self.tenants = [Tenant.from_api({"TenantId": tid, "CompanyName": name}) for tid, name in names]

    def get_tenants(self) -> Parsed[Tenant]:
        return Parsed(items=list(self.tenants))


@pytest.fixture
def runner(store, secrets):
    return Runner(store, secrets)


def upstreams(halo: Halo, dicker_data: DickerData | None = None) -> Upstreams:
    return Upstreams(dicker_data=dicker_data, halo=halo)  # type: ignore[arg-type]


def writes(customer: str, n: int) -> list[SubscriptionAction]:
    return [SubscriptionAction("create", customer, f"{customer}{i}", f"Product {i}") for i in range(n)]


def shape(chunks: list[list[SubscriptionAction]]) -> list[list[str]]:
    return [[a.subscription_id for a in chunk] for chunk in chunks]


# ---------------------------------------------------------------------------------- chunks
def test_chunks_keep_a_customers_writes_together_and_pack_up_to_the_limit(monkeypatch):
    monkeypatch.setattr(chunking, "CHUNK_WRITES", 4)
    planned = writes("b", 2) + writes("a", 1) + writes("c", 3) + writes("d", 1)
    assert shape(chunking.chunks(planned)) == [["a0", "b0", "b1"], ["c0", "c1", "c2", "d0"]]


def test_a_customer_with_more_writes_than_a_chunk_holds_stays_whole(monkeypatch):
    monkeypatch.setattr(chunking, "CHUNK_WRITES", 4)
    planned = writes("a", 1) + writes("big", 6) + writes("c", 1)
    assert shape(chunking.chunks(planned)) == [["a0"], [f"big{i}" for i in range(6)], ["c0"]]


def test_a_customers_writes_met_apart_are_chunked_together_in_their_order(monkeypatch):
    monkeypatch.setattr(chunking, "CHUNK_WRITES", 3)
    base, addon = writes("a", 2)
    assert shape(chunking.chunks([base, *writes("b", 2), addon])) == [["a0", "a1"], ["b0", "b1"]]


def test_chunks_at_the_real_size():
    assert [len(c) for c in chunking.chunks(writes("a", chunking.CHUNK_WRITES - 2) + writes("b", 2))] == [
        chunking.CHUNK_WRITES
    ]
    assert [len(c) for c in chunking.chunks(writes("a", chunking.CHUNK_WRITES - 1) + writes("b", 2))] == [
        chunking.CHUNK_WRITES - 1,
        2,
    ]
    assert chunking.chunks([]) == []


# ---------------------------------------------------------------------------------- phases
@pytest.mark.parametrize(
    ("kind", "options", "phase"),
    [
        ("customers", CustomerOptions(), "customers"),
        ("subscriptions", SubscriptionOptions(), "plan-subscriptions"),
        ("sync", SyncOptions(), "customers"),
        ("sync", SyncOptions(customers=False), "plan-subscriptions"),
    ],
)
def test_first_phase(kind, options, phase):
    assert start.first_phase(Run(run_id="r", kind=kind, options=options.model_dump(mode="json"))) == phase


def test_a_message_that_is_not_a_job_is_refused_and_one_for_an_unknown_run_dropped(runner):
    dispatcher = ListDispatcher()
    with pytest.raises(InputError, match="Not a job message"):
        start.execute(runner, dispatcher, {"kind": "sync"})
    assert start.execute(runner, dispatcher, {"run_id": "nobody", "kind": "sync"}) is None
    assert dispatcher.jobs == []


# ---------------------------------------------------------------------------------- follow-ups
def apply_job(runner: Runner, index: int, **extra: Any) -> tuple[Run, Job]:
    run = runner.create("subscriptions", SubscriptionOptions(), dry_run=False, trigger="api")
    job = Job(run_id=run.run_id, kind="subscriptions", phase="apply-subscriptions", index=index, **extra)
    runner.store.put_payload(run.run_id, job.chunk, to_payload(writes("t1", 2)))
    return run, job


def test_unsent_writes_of_a_chunk_become_its_follow_up_chunk(runner, store):
    run, job = apply_job(runner, 2, handovers=3, waits=1)
    dispatcher = ListDispatcher()
    items = phases.apply(Chain(runner, dispatcher), run, upstreams(Halo(["*"])), job)
    assert items == []
    follow = Job(run_id=run.run_id, kind="subscriptions", phase="apply-subscriptions", index=2, generation=1)
    assert dispatcher.jobs == [follow.model_dump()]
    assert follow.chunk == "g01.3-apply-subscriptions.0002"
    assert store.get_payload(run.run_id, follow.chunk) == to_payload(writes("t1", 2))
    assert store.get_run(run.run_id).chunks_total == 2  # the follow-up is announced once


def test_a_follow_up_of_a_follow_up_is_one_generation_deeper(runner):
    run, job = apply_job(runner, 0, generation=1)
    dispatcher = ListDispatcher()
    phases.apply(Chain(runner, dispatcher), run, upstreams(Halo(["*"])), job)
    (follow,) = dispatcher.jobs
    assert (follow["phase"], follow["index"], follow["generation"]) == ("apply-subscriptions", 0, 2)


def test_after_too_many_follow_ups_the_rest_is_reported_failed(runner, store):
    run, job = apply_job(runner, 0, generation=MAX_FOLLOW_UPS)
    dispatcher = ListDispatcher()
    items = phases.apply(Chain(runner, dispatcher), run, upstreams(Halo(["*"])), job)
    reason = GAVE_UP.format(n=MAX_FOLLOW_UPS)
    assert [(i.dicker_id, i.result, i.reason) for i in items] == [
        ("t10", "failed", reason),
        ("t11", "failed", reason),
    ]
    assert dispatcher.jobs == [] and store.get_run(run.run_id).chunks_total == 1


def test_customers_not_reached_are_followed_up_before_subscriptions_are_planned(runner, store):
    run = runner.create("sync", SyncOptions(), dry_run=False, trigger="schedule")
    job = Job(run_id=run.run_id, kind="sync", phase="customers")
    dd = DickerData(("t1", "Contoso"), ("t2", "Fabrikam"))
    dispatcher = ListDispatcher()
    chain = Chain(runner, dispatcher)

    items = phases.customers(chain, run, upstreams(Halo(["Fabrikam"]), dd), job)
    assert [(i.dicker_id, i.result) for i in items] == [("t1", "created")]
    follow = job.model_copy(update={"generation": 1, "customer_ids": ["t2"]})
    assert dispatcher.jobs == [follow.model_dump()]  # no plan job yet
    dispatcher.jobs.clear()

    halo = Halo(first_id=201)  # the same Halo, later: new ids
    items = phases.customers(chain, run, upstreams(halo, dd), follow)
    assert [(i.dicker_id, i.result) for i in items] == [("t2", "created")] and halo.sent == ["Fabrikam"]
    assert store.get_mapping("t2").halo_client_id == 201
    plan = Job(run_id=run.run_id, kind="sync", phase="plan-subscriptions")
    assert dispatcher.jobs == [plan.model_dump()]
    assert store.get_run(run.run_id).chunks_total == 3


def test_the_job_queued_next_counts_the_halo_calls_of_the_one_before_wherever_it_runs(runner):
    """Halo counts calls, not containers: a job that starts in a fresh container must not find an
    empty window while the calls of the job before still count (the bench met a 429 so)."""
    run = runner.create("sync", SyncOptions(), dry_run=False, trigger="schedule")
    job = Job(run_id=run.run_id, kind="sync", phase="customers")
    dd = DickerData(("t1", "Contoso"), ("t2", "Fabrikam"))
    dispatcher = ListDispatcher()
    pipeline = JobExecutor(Chain(runner, dispatcher))
    first = Halo(["Fabrikam"])
    first.transport.limiter = RateLimiter(250)
    for _ in range(3):
        first.transport.limiter.wait()  # the calls this container made so far
    pipeline.execute(job, run, upstreams(first, dd))
    (follow,) = dispatcher.jobs
    dispatcher.jobs.clear()
    assert len(follow["halo_recent"]) == 3 and all(abs(t - time.time()) < 30 for t in follow["halo_recent"])

    other = Halo(first_id=201)  # the follow-up, in another container: its window starts empty
    other.transport.limiter = RateLimiter(250)
    pipeline.execute(Job.model_validate(follow), store_run(runner, run), upstreams(other, dd))
    assert other.transport.limiter.recent() == pytest.approx(follow["halo_recent"], abs=0.01)
    (plan,) = dispatcher.jobs
    assert plan["phase"] == "plan-subscriptions"
    assert plan["halo_recent"] == pytest.approx(follow["halo_recent"], abs=0.01)  # still in the window


def test_an_apply_chunk_sent_again_hands_on_no_calls_its_share_would_count_twice():
    """Apply chunks split the pace by shares; counting every call before them against a share
    held a chunk of 2 writes back 20 s in the bench. Only the jobs that take the whole pace count them."""
    halo = Halo()
    halo.transport.limiter = RateLimiter(250)
    halo.transport.limiter.wait()
    used = [upstreams(halo)]
    apply = Job(run_id="r", kind="sync", phase="apply-subscriptions")
    plan = Job(run_id="r", kind="sync", phase="plan-subscriptions")
    assert executor._handed_on(apply, used) == []
    assert executor._handed_on(plan, used) == halo.transport.limiter.recent() != []
    assert executor._handed_on(plan.model_copy(update={"halo_recent": [1.0]}), []) == [1.0]  # no clients yet


def store_run(runner: Runner, run: Run) -> Run:
    stored = runner.store.get_run(run.run_id)
    assert stored is not None
    return stored


def test_a_customers_run_plans_no_subscriptions(runner):
    run = runner.create("customers", CustomerOptions(), dry_run=False, trigger="api")
    job = Job(run_id=run.run_id, kind="customers", phase="customers")
    dispatcher = ListDispatcher()
    items = phases.customers(Chain(runner, dispatcher), run, upstreams(Halo(), DickerData(("t1", "A"))), job)
    assert [(i.dicker_id, i.result) for i in items] == [("t1", "created")] and dispatcher.jobs == []


class LostAnswers(Halo):
    """Every create is sent at ``sent_at`` and its answer lost; the settle window outlasts the job."""

    def __init__(self, sent_at: float) -> None:
        super().__init__()
        self.sent_at = sent_at

    def save(self, entity: str, records: Sequence[dict[str, Any]]) -> SaveResult:
        lost = UnreachableError("Halo did not answer in time; the write may or may not have been saved.")
        n = len(records)
        return SaveResult([None] * n, [lost] * n, [False] * n, [self.sent_at] * n)

    def settle(self, sent_at: float) -> None:
        raise OutOfTimeError(
            "Halo: giving a write whose answer was lost time to be saved would outlast this."
        )


def test_a_follow_up_that_must_look_for_a_lost_write_waits_out_the_settle_window(runner, store):
    sent_at = time.time()
    run, job = apply_job(runner, 0)
    dispatcher = ListDispatcher()
    items = phases.apply(Chain(runner, dispatcher), run, upstreams(LostAnswers(sent_at)), job)
    assert items == []
    (follow,) = dispatcher.jobs
    assert follow["not_before"] == sent_at + LostAnswers.settle_seconds
    assert 295 <= dispatcher.delays[0] <= 301  # SQS holds it back until then
    payload = store.get_payload(run.run_id, Job.model_validate(follow).chunk)
    assert [row["lost_at"] for row in payload] == [sent_at, sent_at]  # looked for first, then


def test_a_job_whose_window_outlasts_the_invocation_goes_back_to_the_queue(runner, monkeypatch):
    _, job = apply_job(runner, 0, not_before=time.time() + 100)
    dispatcher = ListDispatcher()
    slept: list[float] = []
    monkeypatch.setattr(executor.time, "sleep", slept.append)
    pipeline = JobExecutor(Chain(runner, dispatcher))
    assert pipeline._settled(job, Deadline.within(30, reserve=0)) is False
    assert slept == [] and dispatcher.jobs == [job.model_dump()] and 99 <= dispatcher.delays[0] <= 100
    assert pipeline._settled(job, Deadline.within(600, reserve=0)) is True
    assert len(slept) == 1 and 99 <= slept[0] <= 100
