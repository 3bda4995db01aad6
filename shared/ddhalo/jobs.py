"""What each kind of run does, and how the API starts one and the worker executes one."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from ddhalo.errors import InputError
from ddhalo.importers.customers import import_customers
from ddhalo.importers.subscriptions import import_subscriptions
from ddhalo.models import Run, RunKind, RunTrigger
from ddhalo.runs import Dispatcher, Runner, Upstreams, Work

WORK: dict[str, Work] = {"customers": import_customers, "subscriptions": import_subscriptions}


class Job(BaseModel):
    run_id: str
    kind: RunKind
    chunk: int = 0


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
    if dry_run:
        return runner.execute(run, WORK[kind], upstreams)
    dispatcher.send(Job(run_id=run.run_id, kind=kind).model_dump())
    return run


def execute(runner: Runner, message: dict[str, Any]) -> Run | None:
    """Execute one queued job; a job for an unknown or finished run is dropped."""
    try:
        job = Job.model_validate(message)
    except ValidationError as exc:
        raise InputError(f"Not a job message: {exc.errors()[0]['msg']}") from exc
    run = runner.store.get_run(job.run_id)
    if run is None:
        return None
    return runner.execute(run, WORK[job.kind], chunk=job.chunk)
