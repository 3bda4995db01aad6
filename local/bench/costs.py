"""What a sync costs in AWS at list prices, and how long it would take at hosted Halo's pace."""

from __future__ import annotations

from dataclasses import dataclass

from local.bench.config import (
    DYNAMODB_READ_UNIT,
    DYNAMODB_WRITE_UNIT,
    LAMBDA_GB_SECOND_ARM,
    LAMBDA_REQUEST,
    REAL_HALO_PER_MINUTE,
    SECRETS_API_CALL,
    SQS_REQUEST,
)
from local.bench.results import SizeResult, SyncResult


@dataclass
class Cost:
    invocations: int
    gb_seconds: float
    gb_seconds_real: float
    wru: float
    rru: float
    sqs: float
    secrets: float

    @property
    def dollars(self) -> float:
        return self.dollars_at(self.gb_seconds)

    @property
    def dollars_real(self) -> float:
        return self.dollars_at(self.gb_seconds_real)

    def dollars_at(self, gb_seconds: float) -> float:
        return (
            gb_seconds * LAMBDA_GB_SECOND_ARM
            + self.invocations * LAMBDA_REQUEST
            + self.wru * DYNAMODB_WRITE_UNIT
            + self.rru * DYNAMODB_READ_UNIT
            + self.sqs * SQS_REQUEST
            + self.secrets * SECRETS_API_CALL
        )


def cost_of(sync: SyncResult, memory_mb: int, share: int) -> Cost:
    """One sync's AWS bill: the worker jobs and the ``POST /sync`` call (the API handler's
    duration is billed like any invocation; the bench's own GET /runs polling is not counted).
    SQS adds, per job, the event source mapping's receive and delete (idle polling not counted)."""
    gb = memory_mb / 1024
    aws = sync.aws_totals()
    worker = [j for j in sync.jobs if j.chunk]
    seconds = sum(j.seconds for j in sync.jobs)
    real = sum(j.projected_seconds(memory_mb, share) for j in worker) + sum(
        j.seconds for j in sync.jobs if not j.chunk
    )
    return Cost(
        invocations=len(sync.jobs),
        gb_seconds=seconds * gb,
        gb_seconds_real=real * gb,
        wru=aws.get("wru", 0),
        rru=aws.get("rru", 0),
        sqs=aws.get("sqs", 0) + 2 * len(worker),
        secrets=aws.get("secrets", 0),
    )


def projected_sync_seconds(sync: SyncResult, size: SizeResult) -> float:
    """The sync in AWS: its jobs one after another, apply chunks ``workers`` at a time, and never
    faster than its Halo calls at the default pacing."""
    worker = [j for j in sync.jobs if j.chunk]
    seconds = [j.projected_seconds(size.worker_memory_mb, size.workers) for j in worker]
    serial = sum(t for j, t in zip(worker, seconds, strict=True) if j.phase != "apply-subscriptions")
    parallel = sum(t for j, t in zip(worker, seconds, strict=True) if j.phase == "apply-subscriptions")
    return max(serial + parallel / max(1, size.workers), sync.halo_calls / REAL_HALO_PER_MINUTE * 60)
