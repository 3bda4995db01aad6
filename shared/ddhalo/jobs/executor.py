"""One job's execution around its phase: the Halo lock (one writing run at a time), a lease (one
execution of a chunk at a time, however often SQS delivers it), the wait for a lost write to
settle, and what happens when the invocation's time runs out.

- A job whose run cannot take the Halo lock goes back to the queue with a delay; its run stays
  ``queued``, saying what it waits for.
- Time running out while Halo's rate limit is full (``OutOfTimeError``) before the job had
  anything to record sends it again whole (a *hand-over*); a phase that had recorded part hands
  the rest to its follow-up itself (:mod:`ddhalo.jobs.chain`).
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from ddhalo.deadline import Deadline
from ddhalo.errors import OutOfTimeError, ThrottledError
from ddhalo.jobs.chain import GAVE_UP, Chain
from ddhalo.jobs.job import MAX_HANDOVERS, Job
from ddhalo.jobs.phases import ReadOn, work_of
from ddhalo.models import FINISHED, Run
from ddhalo.upstreams import Upstreams

# A job waiting for another run's Halo lock comes back after 5 s, 10 s, ... at most 5 minutes.
LOCK_WAIT_FIRST = 5
LOCK_WAIT_MAX = 300
# How long a chunk's execution is held when the invocation's own end is unknown (Lambda's limit).
LEASE_SECONDS = 15 * 60
# A child of the handlers' Logger: same service, handler and redaction.
logger = Logger(child=True)


@dataclass
class JobExecutor:
    chain: Chain

    def execute(
        self, job: Job, run: Run, upstreams: Upstreams | None = None, deadline: Deadline | None = None
    ) -> Run:
        """Execute ``job`` of ``run``; answer the run as it stands after. ``upstreams``: clients to
        use (else connected from the settings); ``deadline``: when this invocation must stop."""
        if run.dry_run or run.status in FINISHED:
            return self._unlocked(job, run, upstreams)
        holder = self.chain.runner.hold_halo(run)
        if holder is not None:
            return self._wait_for(job, run, holder)
        if not self._settled(job, deadline):
            return self._current(run)
        # SQS delivers at least once: a copy of this job may be running in another worker now.
        # Only one execution of a chunk at a time (a second would create what the first does).
        store, owner = self.chain.runner.store, uuid.uuid4().hex
        lasts = int(deadline.left()) + 60 if deadline is not None else LEASE_SECONDS
        if store.acquire_lock(job.lease, owner, max(60, lasts)) is not None:
            logger.warning("a copy of this job is running elsewhere: this delivery is dropped")
            return self._current(run)
        try:
            return self._leased(job, run, upstreams, deadline)
        finally:
            store.release_lock(job.lease, owner)

    def _unlocked(self, job: Job, run: Run, upstreams: Upstreams | None) -> Run:
        """A dry run (or a finished run's late delivery): no lock, no lease, no follow-up; a dry
        run answers within its request."""
        used: list[Upstreams] = []
        try:
            return self.chain.runner.execute(
                run, work_of(self.chain, job, used), upstreams, job.chunk, phase=job.phase
            )
        except OutOfTimeError as exc:
            return self.chain.runner.fail(run.run_id, exc)

    def _leased(self, job: Job, run: Run, upstreams: Upstreams | None, deadline: Deadline | None) -> Run:
        used: list[Upstreams] = []
        runner = self.chain.runner
        try:
            return runner.execute(
                run, work_of(self.chain, job, used), upstreams, job.chunk, deadline, job.phase, alone=job.solo
            )
        except OutOfTimeError as exc:
            return self._hand_over(job.model_copy(update={"halo_recent": _handed_on(job, used)}), exc)
        except ReadOn as more:
            update = {"resume": True, "handovers": 0, "halo_recent": _handed_on(job, used)}
            self.chain.send(job.model_copy(update=update))
            logger.info("out of time while reading: the next job reads on", extra={"next_page": more.page})
            return self._current(run)

    def _wait_for(self, job: Job, run: Run, holder: str) -> Run:
        """Another run is writing to Halo: come back later (two imports at once would both create)."""
        delay = min(LOCK_WAIT_MAX, LOCK_WAIT_FIRST * 2**job.waits)
        self.chain.runner.store.set_waiting(run.run_id, f"run {holder} is writing to Halo")
        self.chain.send(job.model_copy(update={"waits": job.waits + 1}), delay)
        return self._current(run)

    def _settled(self, job: Job, deadline: Deadline | None) -> bool:
        """Wait out ``job.not_before`` (SQS delays a message 15 minutes at most, and a delivery
        may come early); a wait this invocation cannot hold sends the job back, delayed."""
        wait = (job.not_before or 0.0) - time.time()
        if wait <= 0:
            return True
        if deadline is None or wait < deadline.left():
            time.sleep(wait)
            return True
        self.chain.send(job, math.ceil(wait))
        return False

    def _hand_over(self, job: Job, exc: OutOfTimeError) -> Run:
        """Time ran out before the job had anything to record: send it again whole."""
        if job.handovers + 1 >= MAX_HANDOVERS:
            error = ThrottledError(GAVE_UP.format(n=MAX_HANDOVERS), exc.hint, system=exc.system)
            return self.chain.runner.fail(job.run_id, error)
        self.chain.send(job.model_copy(update={"handovers": job.handovers + 1}))
        run = self.chain.runner.store.get_run(job.run_id)
        assert run is not None
        return run

    def _current(self, run: Run) -> Run:
        return self.chain.runner.store.get_run(run.run_id) or run


def _handed_on(job: Job, used: list[Upstreams]) -> list[float]:
    """The Halo calls ``job`` sent again must count (``Job.halo_recent``): this one's, once it
    had clients; none for an apply chunk, which counts only its own container's."""
    if not job.solo:
        return []
    return used[-1].recent_halo_calls() if used else job.halo_recent
