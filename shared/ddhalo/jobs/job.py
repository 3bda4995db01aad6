"""What a job is, said in fields, and every key derived from them in one place.

| phase                   | index | does                                                          |
|-------------------------|-------|---------------------------------------------------------------|
| ``customers``           | 0     | import customers (one bulk read, batched writes)              |
| ``plan-subscriptions``  | 0     | one bulk read of both sides, the plan, unchanged items; the   |
|                         |       | writes are stored as the apply chunks' payloads and queued    |
| ``apply-subscriptions`` | i     | write chunk i; a retried chunk re-plans its customers         |
| ``billing``             | 0     | the billing check: one bulk read, the plan, its totals; it    |
|                         |       | writes nothing to Halo                                        |

A job whose invocation ran out of time hands the rest to its *follow-up*: the same phase and
index, one ``generation`` deeper.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from ddhalo.models import RunKind

Phase = Literal["customers", "plan-subscriptions", "apply-subscriptions", "billing"]
# The order a run's jobs come in: its items are listed in this order (by ``Job.chunk``).
PHASE_ORDER: dict[str, int] = {
    "customers": 1,
    "plan-subscriptions": 2,
    "apply-subscriptions": 3,
    "billing": 4,
}
# The phases whose jobs run one at a time: the writing run holds the Halo lock, and its customers
# and plan jobs (with their follow-ups) queue the next only when they end. They take the whole
# Halo pace; apply chunks run WorkerConcurrency at once and split it.
SOLO_PHASES = frozenset({"customers", "plan-subscriptions", "billing"})
# The payload holding a plan job's licence read, when its invocation ended in the middle of it.
READ_CHECKPOINT = "read-checkpoint"
# Beyond this many follow-ups (Halo throttled for hours) the rest is reported failed.
MAX_FOLLOW_UPS = 50
# A job whose time runs out while it is still reading is sent again whole, this many times.
MAX_HANDOVERS = 8


class Job(BaseModel):
    run_id: str
    kind: RunKind
    phase: Phase = "customers"
    index: int = Field(default=0, ge=0)  # which apply chunk (0 for the other phases)
    generation: int = Field(default=0, ge=0)  # follow-ups deep: 0 is the job the plan made
    customer_ids: list[str] | None = None  # a customers follow-up: only the customers not reached
    handovers: int = 0  # times this job was sent again whole, its time out while reading
    waits: int = 0  # times this job came back waiting for another run's Halo lock
    resume: bool = False  # a plan job going on with the licence read an earlier one began
    # A job that takes the whole pace (SOLO_PHASES): when the Halo calls of the job that queued it
    # started, within the last window (epoch seconds). It may run in another container, and Halo
    # counts the calls of both. (Apply chunks split the pace by a share instead: counting every
    # call before them against their share would hold them back for calls the share allows.)
    halo_recent: list[float] = Field(default_factory=list)
    # Not before this (epoch seconds): a write of the job before lost its answer, and Halo may
    # save it until then, so this job must not read Halo for it sooner (it would create it again).
    not_before: float | None = None

    @property
    def chunk(self) -> str:
        """The run's name for this job's share of the work: its markers, payload, items and live
        counts are stored under it. Sorted as the run's jobs come (generation, phase, index)."""
        return f"g{self.generation:02d}.{PHASE_ORDER[self.phase]}-{self.phase}.{self.index:04d}"

    @property
    def lease(self) -> str:
        """The lock one execution of this job holds (SQS may deliver a copy meanwhile)."""
        return f"CHUNK#{self.run_id}#{self.chunk}"

    @property
    def solo(self) -> bool:
        return self.phase in SOLO_PHASES

    def follow_up(self, **changes: object) -> Job:
        """The job that goes on with what this one had no time for."""
        update = {"generation": self.generation + 1, "handovers": 0, "waits": 0, **changes}
        return self.model_copy(update=update)


def apply_job(run_id: str, kind: RunKind, index: int) -> Job:
    return Job(run_id=run_id, kind=kind, phase="apply-subscriptions", index=index)
