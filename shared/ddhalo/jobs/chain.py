"""How a job queues the next: the jobs it spawns (counted once, so a run knows when it is done)
and its follow-up, which starts only once a write whose answer was lost may have landed."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ddhalo.jobs.job import MAX_FOLLOW_UPS, Job
from ddhalo.queue import Dispatcher
from ddhalo.runs.runner import Runner

if TYPE_CHECKING:
    from ddhalo.halo.client import HaloClient
    from ddhalo.pipeline.reconcile import Applied

GAVE_UP = "Halo's rate limit stayed full through {n} invocations; the next run tries again."


@dataclass
class Chain:
    runner: Runner
    dispatcher: Dispatcher

    def send(self, job: Job, delay_seconds: int = 0) -> None:
        self.dispatcher.send(job.model_dump(), delay_seconds)

    def spawn(self, parent: Job, children: list[Job]) -> None:
        """Announce ``children`` as ``parent``'s (once: a retried parent announces nothing new),
        then queue them."""
        self.runner.store.spawn(parent.run_id, parent.chunk, len(children))
        for child in children:
            self.send(child)

    def follow_up(self, job: Job, applied: Applied[Any], halo: HaloClient, **changes: Any) -> Job | None:
        """Queue the rest of ``job`` as its follow-up; None once there were too many. One that must
        look for a lost write starts once Halo has had the settle window to save it."""
        if job.generation + 1 > MAX_FOLLOW_UPS:
            return None
        not_before = None
        if applied.lost_at is not None:
            not_before = applied.lost_at + halo.settle_seconds
        follow = job.follow_up(not_before=not_before, **changes)
        self.runner.store.spawn(job.run_id, job.chunk, 1)
        delay = math.ceil(not_before - time.time()) if not_before is not None else 0
        self.send(follow, max(0, delay))
        return follow
