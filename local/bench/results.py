"""What the bench measured: one worker job (JobReport), one sync (SyncResult), one size (SizeResult)."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field

from ddhalo.jobs.job import SOLO_PHASES
from local.bench.config import KINDS, LAMBDA_MB_PER_VCPU, REAL_HALO_PER_MINUTE, REAL_LATENCY
from local.bench.minimum import pace_seconds, sliding_window_seconds


@dataclass
class JobReport:
    """One worker invocation as its "container" (a child process) measured it."""

    phase: str
    chunk: str  # the job's chunk (``Job.chunk``); "" for an API request
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    halo_calls: int | None = None
    dicker_data_calls: int | None = None
    throttled: int | None = None
    limiter_wait: float = 0.0
    retry_sleep: float = 0.0
    aws_seconds: float = 0.0  # inside AWS SDK calls (moto here)
    aws_time: dict[str, float] = field(default_factory=dict)  # seconds per AWS operation
    memory_top: list[tuple[str, str, float]] = field(default_factory=list)  # --trace-memory
    traced_peak_mb: float | None = None
    timeline: list[tuple[str, float, float]] = field(default_factory=list)  # step, RSS MB, peak MB
    aws: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    container: int = -1  # which worker process ran it (-1: the bench's own, for ``api /sync``)

    @property
    def io_seconds(self) -> float:
        """Waiting on the network (HTTP to the fakes, moto), not on pacing."""
        return max(0.0, self.seconds - self.cpu_seconds - self.limiter_wait - self.retry_sleep)

    def projected_seconds(self, memory_mb: int, share: int) -> float:
        """This job in AWS at hosted Halo's pace: CPU scaled to the function's vCPU share, each
        call at REAL_LATENCY, Halo calls paced at REAL_HALO_PER_MINUTE / share per job (the
        whole pace for a job that runs alone, as the worker gives it)."""
        cpu = self.cpu_seconds * max(1.0, LAMBDA_MB_PER_VCPU / memory_mb)
        calls = (self.halo_calls or 0) + (self.dicker_data_calls or 0)
        share = 1 if self.phase in SOLO_PHASES else share
        per_job = max(1, REAL_HALO_PER_MINUTE // max(1, share))
        paced = sliding_window_seconds(self.halo_calls or 0, per_job, 60.0)
        return cpu + max(self.io_seconds, calls * REAL_LATENCY) + paced


@dataclass
class SyncResult:
    """One ``POST /sync`` measured from the outside (fakes, API) and the inside (jobs)."""

    label: str
    status: str
    wall_seconds: float
    halo_calls: int  # as the Halo fake counted them (token requests included)
    halo_calls_by_app: int  # as the run recorded them
    halo_minimum: int
    minimum_parts: dict[str, int]
    halo_writes: int  # records created + updated in Halo
    halo_throttled: int
    halo_by_endpoint: dict[str, int]
    dicker_data_calls: int
    items: dict[str, int]  # "<type> <result>" -> count
    jobs: list[JobReport]
    halo_clients_before: int
    halo_licences_before: int
    kind: str = ""  # config.SCENARIOS
    verify: bool | None = None  # as the run answered
    needed: dict[str, int] = field(default_factory=dict)  # minimum.Writes: what the scenario needs
    check: dict[str, list[str]] = field(default_factory=dict)  # world.check_halo after the sync

    @property
    def mismatches(self) -> int:
        return sum(len(ids) for ids in self.check.values())

    @property
    def failed(self) -> int:
        return sum(n for key, n in self.items.items() if key.endswith(" failed"))

    @property
    def calls_ratio(self) -> float:
        return self.halo_calls / self.halo_minimum if self.halo_minimum else math.inf

    def rate_bound(self, per_minute: int) -> float:
        """The steady-state lower bound: Halo calls at the configured calls per minute."""
        return pace_seconds(self.halo_calls, per_minute)

    @property
    def peak_rss_mb(self) -> float:
        return max((j.peak_rss_mb for j in self.jobs), default=0.0)

    def aws_totals(self) -> dict[str, float]:
        total: Counter[str] = Counter()
        for job in self.jobs:
            total.update(job.aws)
        return dict(total)


@dataclass
class SizeResult:
    customers: int
    subscriptions: int
    workers: int
    worker_memory_mb: int
    syncs: list[SyncResult]  # in config.SCENARIOS order (fewer when a bench stops early)
    worker_baseline_mb: float
    change: dict[str, list[str]] = field(default_factory=dict)  # world.change_subscriptions
    drift: dict[str, list[str]] = field(default_factory=dict)  # world.hand_drift

    def sync(self, kind: str) -> SyncResult | None:
        if kind not in KINDS:
            raise KeyError(kind)
        return next((s for s in self.syncs if s.kind == kind), None)

    @property
    def first(self) -> SyncResult:
        return self.syncs[0]
