"""Where a run's work begins: its first job, run at once (a dry run, which answers its plan) or
queued (a real run: no API request waits for Halo); and the worker's entry for a queued job."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from ddhalo.deadline import Deadline
from ddhalo.errors import InputError
from ddhalo.jobs.chain import Chain
from ddhalo.jobs.executor import JobExecutor
from ddhalo.jobs.job import Job, Phase
from ddhalo.models import Run, RunKind, RunTrigger
from ddhalo.pipeline.options import RunOptions, SyncOptions, options_of
from ddhalo.queue import Dispatcher
from ddhalo.runs.runner import Runner
from ddhalo.upstreams import Upstreams


def first_phase(run: Run) -> Phase:
    options = options_of(run)
    if run.kind == "billing":
        return "billing"
    if run.kind == "subscriptions" or (isinstance(options, SyncOptions) and not options.customers):
        return "plan-subscriptions"
    return "customers"


def start_run(
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
    job = Job(run_id=run.run_id, kind=run.kind, phase=first_phase(run))
    chain = Chain(runner, dispatcher)
    if run.dry_run:
        return JobExecutor(chain).execute(job, run, upstreams)
    chain.send(job)
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
    return JobExecutor(Chain(runner, dispatcher)).execute(job, run, deadline=deadline)
