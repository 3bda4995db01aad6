"""The job chain's rules on moto: the Halo lock makes runs wait their turn, and a job whose
invocation runs out of time is handed on, never failed for it."""

from typing import Any

import pytest

from ddhalo.errors import OutOfTimeError
from ddhalo.halo.client import HaloClient
from ddhalo.http.transport import Transport
from ddhalo.jobs import phases
from ddhalo.jobs.chain import Chain
from ddhalo.jobs.executor import LOCK_WAIT_MAX, JobExecutor
from ddhalo.jobs.job import MAX_HANDOVERS, Job
from ddhalo.jobs.start import execute, start_run
from ddhalo.pipeline.options import CustomerOptions
from ddhalo.queue import ListDispatcher
from ddhalo.runs.halo_lock import HALO_LOCK
from ddhalo.runs.runner import Runner
from ddhalo.upstreams import Upstreams


class OutOfTimeReading:
    """An upstream whose every read meets a full Halo window until the invocation ends."""

    transport = Transport("http://127.0.0.1:9/", system="Dicker Data")  # never called: counts only

    def get_tenants(self) -> Any:
        raise OutOfTimeError("Halo: waiting for its rate limit to free would outlast this invocation.")


def out_of_time_upstreams() -> Upstreams:
    idle = HaloClient(
        Transport("http://127.0.0.1:9/", system="Halo"),
        auth_url="http://127.0.0.1:9/auth",
        client_id="id",
        client_secret="secret",
    )
    return Upstreams(dicker_data=OutOfTimeReading(), halo=idle)  # type: ignore[arg-type]


@pytest.fixture
def runner(store, secrets):
    return Runner(store, secrets)


def started(runner: Runner, dispatcher: ListDispatcher) -> dict[str, Any]:
    run = start_run(runner, dispatcher, "customers", CustomerOptions(), dry_run=False, trigger="api")
    (job,) = dispatcher.jobs
    dispatcher.jobs.clear()
    dispatcher.delays.clear()
    assert job["run_id"] == run.run_id
    return job


def test_a_run_waits_while_another_run_writes_to_halo(runner, store):
    dispatcher = ListDispatcher()
    job = started(runner, dispatcher)
    assert store.acquire_lock(HALO_LOCK, "other-run", 600, kind="sync") is None
    for waits, delay in enumerate((5, 10, 20)):
        run = execute(runner, dispatcher, job)
        assert run is not None and run.status == "queued"
        assert run.waiting_for == "run other-run is writing to Halo"
        (job,) = dispatcher.jobs
        assert (job["waits"], dispatcher.delays) == (waits + 1, [delay])
        dispatcher.jobs.clear()
        dispatcher.delays.clear()


def test_the_wait_between_tries_is_capped(runner, store):
    dispatcher = ListDispatcher()
    job = {**started(runner, dispatcher), "waits": 12}
    store.acquire_lock(HALO_LOCK, "other-run", 600)
    execute(runner, dispatcher, job)
    assert dispatcher.delays == [LOCK_WAIT_MAX]


def test_a_job_out_of_time_while_reading_is_handed_over_whole(runner, store):
    dispatcher = ListDispatcher()
    job = started(runner, dispatcher)
    out_of_time = out_of_time_upstreams()
    run = JobExecutor(Chain(runner, dispatcher)).execute(
        Job.model_validate(job), store.get_run(job["run_id"]), out_of_time
    )
    assert run.status == "running" and run.counts.failed == 0 and run.chunks_done == 0
    (again,) = dispatcher.jobs
    assert again == {**job, "handovers": 1}
    assert store.get_lock(HALO_LOCK)["owner"] == job["run_id"]  # still its turn


def test_a_job_handed_over_too_often_fails_its_run_and_frees_halo(runner, store):
    dispatcher = ListDispatcher()
    job = {**started(runner, dispatcher), "handovers": MAX_HANDOVERS - 1}
    out_of_time = out_of_time_upstreams()
    run = JobExecutor(Chain(runner, dispatcher)).execute(
        Job.model_validate(job), store.get_run(job["run_id"]), out_of_time
    )
    assert run.status == "failed" and "rate limit stayed full" in (run.error or "")
    assert dispatcher.jobs == [] and store.get_lock(HALO_LOCK) is None


def test_a_job_is_named_by_its_fields_in_the_order_a_run_comes_in():
    chunk = Job(run_id="r", kind="sync", phase="apply-subscriptions", index=3).chunk
    assert chunk == "g00.3-apply-subscriptions.0003"
    jobs = [
        Job(run_id="r", kind="sync", phase="apply-subscriptions", index=0, generation=1),
        Job(run_id="r", kind="sync", phase="apply-subscriptions", index=12),
        Job(run_id="r", kind="sync", phase="plan-subscriptions"),
        Job(run_id="r", kind="sync", phase="customers", generation=1),
        Job(run_id="r", kind="sync", phase="customers"),
    ]
    assert [(j.generation, j.phase, j.index) for j in sorted(jobs, key=lambda j: j.chunk)] == [
        (0, "customers", 0),
        (0, "plan-subscriptions", 0),
        (0, "apply-subscriptions", 12),
        (1, "customers", 0),
        (1, "apply-subscriptions", 0),
    ]
    follow = jobs[1].follow_up()
    assert (follow.phase, follow.index, follow.generation) == ("apply-subscriptions", 12, 1)


def test_a_second_delivery_of_a_running_job_is_dropped(runner, store):
    """SQS delivers at least once: while one worker runs a chunk, a copy of it does nothing."""
    dispatcher = ListDispatcher()
    job = started(runner, dispatcher)
    assert store.acquire_lock(Job.model_validate(job).lease, "the-first-delivery", 600) is None
    out_of_time = out_of_time_upstreams()
    run = JobExecutor(Chain(runner, dispatcher)).execute(
        Job.model_validate(job), store.get_run(job["run_id"]), out_of_time
    )
    assert run.status == "queued" and dispatcher.jobs == []  # never started: no read, no hand-over
    store.release_lock(Job.model_validate(job).lease, "the-first-delivery")
    JobExecutor(Chain(runner, dispatcher)).execute(
        Job.model_validate(job), store.get_run(job["run_id"]), out_of_time
    )
    assert len(dispatcher.jobs) == 1  # the lease freed: this delivery ran (and was handed over)
    assert store.get_lock(Job.model_validate(job).lease) is None  # and gave its lease back


@pytest.mark.parametrize(
    ("phase", "share"), [("customers", 1), ("plan-subscriptions", 1), ("apply-subscriptions", 2)]
)
def test_a_job_alone_takes_the_whole_halo_pace_and_apply_chunks_split_it(
    store, secrets, phase, share, monkeypatch
):
    """Customers and plan jobs run one at a time; apply chunks run WorkerConcurrency (2) at once."""
    asked: list[int] = []

    def make_upstreams(conn, rate_share, deadline):
        asked.append(rate_share)
        return out_of_time_upstreams()

    runner = Runner(store, secrets, rate_share=2, make_upstreams=make_upstreams)
    dispatcher = ListDispatcher()
    job = {**started(runner, dispatcher), "phase": phase}
    monkeypatch.setitem(phases.PHASES, phase, lambda chain, run, upstreams, job: [])
    JobExecutor(Chain(runner, dispatcher)).execute(Job.model_validate(job), store.get_run(job["run_id"]))
    assert asked == [share]
