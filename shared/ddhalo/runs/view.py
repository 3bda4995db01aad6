"""What ``GET /runs/{run_id}`` answers: the run, its progress in words a person can act on, and
a page of its items."""

from __future__ import annotations

import time
from typing import Any

from ddhalo.models import FINISHED, Run
from ddhalo.store import Store


def run_view(store: Store, run: Run, *, limit: int = 1000, next_token: str | None = None) -> dict[str, Any]:
    """The run with a page of its items."""
    items, token = store.list_items(run.run_id, limit=limit, next_token=next_token)
    body = run.model_dump(mode="json")
    body["progress"] = progress_view(run)
    body["items"] = [i.model_dump(mode="json") for i in items]
    body["next_token"] = token
    return body


def progress_view(run: Run, now: float | None = None) -> dict[str, Any]:
    """What a run answers of its progress: phase, done of total, what it waits for, and the
    seconds left at the pace of the phase so far."""
    now = time.time() if now is None else now
    progress = run.progress
    total = progress.total
    done = min(progress.done, total) if total is not None else progress.done
    waiting_for = None
    if run.status == "queued" and run.waiting_for:
        waiting_for = "another_run"
    elif run.status in ("queued", "running") and (progress.throttled_until or 0) > now:
        waiting_for = "halo_rate_limit"
    eta = None
    moved = done - progress.done_at_start
    if run.status == "running" and total is not None and progress.phase_started and moved > 0:
        eta = round((total - done) * (now - progress.phase_started) / moved, 1)
    phase = "done" if run.status in FINISHED else progress.phase
    return {"phase": phase, "done": done, "total": total, "waiting_for": waiting_for, "eta_s": eta}
