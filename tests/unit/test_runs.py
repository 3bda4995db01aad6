"""A run's lifecycle on moto: each chunk's items and counts are recorded once, the last chunk
finishes the run by its counts, an error fails it readably and frees Halo, and time running out is
the caller's to hand on (nothing recorded)."""

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from ddhalo import job_log
from ddhalo.errors import ConfigurationError, OutOfTimeError, UpstreamError
from ddhalo.models import Counts, Run, RunItem
from ddhalo.pipeline.options import CustomerOptions
from ddhalo.runs.halo_lock import HALO_LOCK
from ddhalo.runs.metrics import run_metrics
from ddhalo.runs.runner import Runner
from tests.unit.builders import chunk

STATS = {"halo_calls": 4, "dicker_data_calls": 2, "throttled": 1}
WAITS = {"halo_paced_seconds": 1.5, "halo_backoff_seconds": 0.25}


class Clients:
    """Stands in for ``Upstreams``: only what a run adds up and an observer is told."""

    def stats(self) -> dict[str, int]:
        return dict(STATS)

    def waits(self) -> dict[str, float]:
        return dict(WAITS)

    def watch(self, *hooks: object) -> None:
        pass


STAT_NAMES = {*STATS, *WAITS}


class Recorder(logging.Handler):
    """Reads a job's log lines (``ddhalo.job_log``) as events."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[tuple[Any, ...]] = []

    def emit(self, record: logging.LogRecord) -> None:
        line = record.__dict__
        if line.get("job_event") == "step":
            self.events.append(("step", line["step"]))
        elif line.get("job_event") == "started":
            self.events.append(("job_started", line["phase"], line["chunk"]))
        elif line.get("job_event") == "finished":
            stats = {k: v for k, v in line.items() if k in STAT_NAMES}
            self.events.append(("job_finished", line["phase"], line["chunk"], stats))


def clients() -> Any:
    return Clients()  # typed loosely: it stands in for Upstreams


@pytest.fixture
def runner(store, secrets):
    return Runner(store, secrets)


def new_run(runner: Runner, chunks: int = 1, *, hold: bool = True) -> Run:
    run = runner.create("customers", CustomerOptions(), dry_run=False, trigger="api")
    if chunks > 1:
        runner.store.spawn(run.run_id, chunk(99), chunks - 1)
    if hold:
        assert runner.hold_halo(run) is None
    return run


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    """What the jobs of this test log, as events."""
    recorder = Recorder()
    logged = logging.getLogger(job_log.logger.name)
    logged.addHandler(recorder)
    yield recorder
    logged.removeHandler(recorder)


def observed(
    store, secrets, recorder: Recorder, chunks: int = 1, **runner_options: Any
) -> tuple[Recorder, Runner, Run]:
    """A runner whose job lines ``recorder`` reads, and a new run of ``chunks`` holding Halo."""
    runner = Runner(store, secrets, **runner_options)
    return recorder, runner, new_run(runner, chunks)


def item(dicker_id: str, result: str) -> RunItem:
    return RunItem(type="customer", dicker_id=dicker_id, result=result)


def returning(*items: RunItem, calls: list[str] | None = None):
    def work(run, store, upstreams):
        if calls is not None:
            calls.append(run.run_id)
        return list(items)

    return work


def counts(run: Run) -> dict[str, int]:
    return run.counts.model_dump()


# ---------------------------------------------------------------------------------- recording
def test_a_chunk_is_recorded_once_even_when_executed_twice(runner, store):
    run = new_run(runner, chunks=2)
    calls: list[str] = []
    work = returning(item("t1", "created"), item("t2", "failed"), calls=calls)
    first = runner.execute(run, work, clients(), chunk=chunk(0))
    assert first.status == "running" and first.chunks_done == 1 and first.chunks_total == 2
    assert counts(first) == {"created": 1, "updated": 0, "unchanged": 0, "skipped": 0, "failed": 1}
    assert (first.halo_calls, first.dicker_data_calls, first.throttled) == (4, 2, 1)
    again = runner.execute(run, work, clients(), chunk=chunk(0))
    assert calls == [run.run_id]  # the work did not run again
    assert again == store.get_run(run.run_id) and counts(again) == counts(first)
    assert (again.chunks_done, again.halo_calls) == (1, 4)
    items, _ = store.list_items(run.run_id)
    assert sorted(i.dicker_id for i in items) == ["t1", "t2"]
    assert store.get_lock(HALO_LOCK)["owner"] == run.run_id  # not finished: Halo stays held


@pytest.mark.parametrize(
    ("results", "status"),
    [
        (["created", "updated", "unchanged"], "succeeded"),
        (["skipped"], "succeeded"),
        ([], "succeeded"),
        (["created", "failed"], "partial"),
        (["skipped", "failed"], "partial"),
        (["failed", "failed"], "failed"),
    ],
)
def test_the_last_chunk_finishes_the_run_by_its_counts_and_frees_halo(runner, store, results, status):
    run = new_run(runner)
    items = [item(f"t{i}", result) for i, result in enumerate(results)]
    done = runner.execute(run, returning(*items), clients(), chunk=chunk(0))
    assert done.status == status and done.finished_at is not None
    assert store.get_run(run.run_id).status == status
    assert store.get_lock(HALO_LOCK) is None


def test_counts_of_every_chunk_decide_the_finish(runner, store):
    run = new_run(runner, chunks=2)
    first = runner.execute(run, returning(item("t1", "created")), clients(), chunk=chunk(0))
    assert first.status == "running" and first.finished_at is None
    last = runner.execute(run, returning(item("t2", "failed")), clients(), chunk=chunk(5))
    assert last.status == "partial" and last.chunks_done == 2 and last.halo_calls == 8
    assert store.get_lock(HALO_LOCK) is None


def test_a_finished_run_is_not_executed_again(runner, store):
    run = new_run(runner)
    runner.execute(run, returning(item("t1", "created")), clients(), chunk=chunk(0))
    calls: list[str] = []
    late = runner.execute(run, returning(item("t9", "failed"), calls=calls), clients(), chunk=chunk(7))
    assert calls == [] and late.status == "succeeded" and counts(late)["failed"] == 0


# ---------------------------------------------------------------------------------- failure
def test_an_integration_error_fails_the_run_with_message_and_hint_and_frees_halo(runner, store):
    run = new_run(runner, chunks=2)

    def work(run, store, upstreams):
        raise UpstreamError("Halo answered HTTP 503.", "Try again later.", status_code=503)

    done = runner.execute(run, work, clients(), chunk=chunk(0))
    assert (done.status, done.error, done.hint) == ("failed", "Halo answered HTTP 503.", "Try again later.")
    assert done.finished_at is not None and done.chunks_done == 0
    assert store.get_lock(HALO_LOCK) is None
    assert store.list_items(run.run_id) == ([], None)


def test_out_of_time_propagates_and_records_nothing(runner, store):
    run = new_run(runner)

    def work(run, store, upstreams):
        raise OutOfTimeError("Halo: waiting would outlast this invocation.")

    with pytest.raises(OutOfTimeError):
        runner.execute(run, work, clients(), chunk=chunk(0))
    after = store.get_run(run.run_id)
    assert after.status == "running" and after.chunks_done == 0 and after.halo_calls == 0
    assert counts(after) == Counts().model_dump() and not store.chunk_recorded(run.run_id, chunk(0))
    assert store.list_items(run.run_id) == ([], None)
    assert store.get_lock(HALO_LOCK)["owner"] == run.run_id  # still its turn: the chunk is handed on
    # The hand-over executes the same chunk, which then records normally.
    done = runner.execute(run, returning(item("t1", "created")), clients(), chunk=chunk(0))
    assert done.status == "succeeded" and done.chunks_done == 1


def test_clients_that_cannot_be_made_fail_the_run_readably(store, secrets, recorder):
    asked: list[tuple[int, Any]] = []

    def make_upstreams(conn, rate_share, deadline):
        asked.append((rate_share, deadline))
        raise ConfigurationError("Not configured: halo_api_url.", "Set halo_api_url with PUT /settings.")

    recorder, runner, run = observed(store, secrets, recorder, rate_share=3, make_upstreams=make_upstreams)
    done = runner.execute(run, returning(item("t1", "created")), chunk=chunk(0), phase="customers")
    assert asked == [(3, None)]
    assert (done.status, done.error, done.hint) == (
        "failed",
        "Not configured: halo_api_url.",
        "Set halo_api_url with PUT /settings.",
    )
    assert recorder.events == [
        ("job_started", "customers", chunk(0)),
        ("job_finished", "customers", chunk(0), {}),
    ]
    assert store.get_lock(HALO_LOCK) is None


def test_fail_finishes_the_run_and_frees_halo(runner, store):
    run = new_run(runner)
    done = runner.fail(run.run_id, UpstreamError("Halo is down.", None))
    assert (done.status, done.error, done.hint) == ("failed", "Halo is down.", "")
    assert store.get_lock(HALO_LOCK) is None


# ---------------------------------------------------------------------------------- metrics
@pytest.mark.parametrize(("status", "failed_runs"), [("succeeded", 0), ("partial", 1), ("failed", 1)])
def test_run_metrics_are_named_per_kind(status, failed_runs):
    run = Run(
        run_id="r1",
        kind="sync",
        status=status,
        counts=Counts(created=2, updated=3, unchanged=4, skipped=5, failed=1),
        halo_calls=10,
        dicker_data_calls=6,
        throttled=2,
    )
    assert run_metrics(run) == {
        "sync_created": 2,
        "sync_updated": 3,
        "sync_unchanged": 4,
        "sync_skipped": 5,
        "sync_failed": 1,
        "halo_calls": 10,
        "dicker_data_calls": 6,
        "throttled": 2,
        "sync_runs_failed": failed_runs,
    }


def test_run_metrics_of_another_kind_carry_its_name():
    metrics = run_metrics(Run(run_id="r1", kind="subscriptions", status="succeeded"))
    assert sorted(k for k in metrics if k.startswith("subscriptions_")) == [
        "subscriptions_created",
        "subscriptions_failed",
        "subscriptions_runs_failed",
        "subscriptions_skipped",
        "subscriptions_unchanged",
        "subscriptions_updated",
    ]


# ---------------------------------------------------------------------------------- job log
def test_a_job_logs_its_start_its_steps_and_its_stats(store, secrets, recorder):
    recorder, runner, run = observed(store, secrets, recorder)

    def work(run, store, upstreams):
        job_log.step("customers read")
        job_log.step("planned")
        return [item("t1", "created")]

    runner.execute(run, work, clients(), chunk=chunk(0), phase="customers")
    started, *steps, finished = recorder.events
    assert started == ("job_started", "customers", chunk(0))
    assert steps[:2] == [("step", "customers read"), ("step", "planned")]
    # The runner's own step once the items are stored (its name is the runner's to choose).
    assert len(steps) == 3 and steps[2][0] == "step"
    assert finished == ("job_finished", "customers", chunk(0), {**STATS, **WAITS})
    job_log.step("after the job")  # no job running: no line
    assert len(recorder.events) == 5


def test_a_failing_job_logs_its_finish_too(store, secrets, recorder):
    recorder, runner, run = observed(store, secrets, recorder)

    def work(run, store, upstreams):
        job_log.step("licences read")
        raise OutOfTimeError("Halo: waiting would outlast this invocation.")

    with pytest.raises(OutOfTimeError):
        runner.execute(run, work, clients(), chunk=chunk(3), phase="plan-subscriptions")
    assert recorder.events == [
        ("job_started", "plan-subscriptions", chunk(3)),
        ("step", "licences read"),
        ("job_finished", "plan-subscriptions", chunk(3), {**STATS, **WAITS}),
    ]


def test_a_recorded_chunk_logs_no_job(store, secrets, recorder):
    recorder, runner, run = observed(store, secrets, recorder, chunks=2)
    runner.execute(run, returning(), clients(), chunk=chunk(0), phase="customers")
    recorder.events.clear()
    runner.execute(run, returning(), clients(), chunk=chunk(0), phase="customers")
    assert recorder.events == []


def test_progress_view_waits_counts_and_estimates():
    from ddhalo.models import Progress, Run
    from ddhalo.runs.view import progress_view

    progress = Progress(
        phase="writing subscriptions", done=600, done_at_start=200, total=1000, phase_started=100.0
    )
    running = Run(run_id="r", kind="sync", status="running", progress=progress)
    assert progress_view(running, now=140.0) == {
        "phase": "writing subscriptions",
        "done": 600,
        "total": 1000,
        "waiting_for": None,
        "eta_s": 40.0,  # 400 written in 40 s: 400 left
    }
    throttled = running.model_copy(
        update={"progress": progress.model_copy(update={"throttled_until": 150.0})}
    )
    assert progress_view(throttled, now=140.0)["waiting_for"] == "halo_rate_limit"
    assert progress_view(throttled, now=151.0)["waiting_for"] is None
    waiting = Run(run_id="q", kind="customers", status="queued", waiting_for="run x is writing to Halo")
    assert progress_view(waiting, now=0)["waiting_for"] == "another_run"
    over = running.model_copy(
        update={"status": "succeeded", "progress": progress.model_copy(update={"done": 1003})}
    )
    assert progress_view(over, now=200.0) == {
        "phase": "done",
        "done": 1000,
        "total": 1000,
        "waiting_for": None,
        "eta_s": None,
    }


def test_a_finished_verify_is_recorded_and_halo_freed_before_its_status_says_finished(runner, store):
    """A client that sees "succeeded" may start the next sync at once: it must find the lock free
    and this verify recorded, or it would be skipped, or verify again."""
    from ddhalo.pipeline.options import SyncOptions

    run = runner.create("sync", SyncOptions(verify=True), dry_run=False, trigger="api")
    assert runner.hold_halo(run) is None
    seen: list[tuple[str, bool, bool]] = []
    real = store.set_run_status

    def watched(run_id, status, **kwargs):
        if status in ("succeeded", "partial", "failed"):
            seen.append((status, store.last_verified() is not None, store.get_lock(HALO_LOCK) is None))
        return real(run_id, status, **kwargs)

    store.set_run_status = watched
    done = runner.execute(run, returning(item("t1", "unchanged")), clients(), chunk=chunk(0))
    assert done.status == "succeeded" and seen == [("succeeded", True, True)]
