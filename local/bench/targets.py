"""The issue's targets, judged on the bench's results: which are met, and which fail the bench.

A hard target (a failed item, a wrong verify, a write where nothing was to be written, Halo
differing from Dicker Data where it must not) makes `make bench` exit non-zero; the others are
reported, since timings and call counts vary with the machine.
"""

from __future__ import annotations

from local.bench.config import (
    CHANGED_CALLS_SLACK,
    DEADLINE_RESERVE_SECONDS,
    FIRST_CALLS_SLACK,
    FIRST_WALL_SLACK,
    LAMBDA_TIMEOUT_SECONDS,
    PEAK_RSS_MB,
    SCENARIOS,
    UNCHANGED_MAX_CALLS,
    VERIFY_CALLS_SLACK,
    BenchConfig,
)
from local.bench.results import JobReport, SizeResult, SyncResult
from local.bench.world import drift_as_mismatches

Check = tuple[str, bool, bool]  # (target, met, hard)


def limit_of(size: SizeResult, sync: SyncResult) -> tuple[float | None, str]:
    """The most Halo calls the issue allows this sync, and how it is said (None: no call target)."""
    if sync.kind == "first":
        return FIRST_CALLS_SLACK * sync.halo_minimum, f"{FIRST_CALLS_SLACK:.2f} x min"
    if sync.kind == "unchanged":
        return float(UNCHANGED_MAX_CALLS), f"<= {UNCHANGED_MAX_CALLS}"
    if sync.kind == "changed":
        unchanged = size.sync("unchanged")
        base = sync.halo_minimum + (unchanged.halo_calls if unchanged else 0)
        return CHANGED_CALLS_SLACK * base, f"{CHANGED_CALLS_SLACK:.2f} x (min + unchanged)"
    if sync.kind == "verify":
        return VERIFY_CALLS_SLACK * sync.halo_minimum, f"{VERIFY_CALLS_SLACK:.2f} x min"
    return None, ""


def longest_job(size: SizeResult, sync: SyncResult) -> tuple[JobReport | None, float]:
    """The sync's worker job that would take longest in AWS, and that projection (seconds)."""
    worker = [j for j in sync.jobs if j.chunk]
    if not worker:
        return None, 0.0
    longest = max(worker, key=lambda j: j.projected_seconds(size.worker_memory_mb, size.workers))
    return longest, longest.projected_seconds(size.worker_memory_mb, size.workers)


def mismatches(sync: SyncResult) -> str:
    """What Halo still differs in from Dicker Data after the sync ("count 2, missing 1" or "none")."""
    found = {kind: len(ids) for kind, ids in sync.check.items() if ids}
    return ", ".join(f"{kind} {n}" for kind, n in found.items()) or "none"


class _SizeChecks:
    """The targets of one size; each method adds one (or none when its sync did not run)."""

    def __init__(self, size: SizeResult) -> None:
        self.size = size
        self.n = f"{size.customers:,}"
        self.by_kind = {sync.kind: sync for sync in size.syncs}
        self.checks: list[Check] = []

    def add(self, text: str, met: bool, hard: bool) -> None:
        self.checks.append((f"{self.n}: {text}", met, hard))

    def all_succeeded(self) -> None:
        wrong = [x.kind for x in self.size.syncs if x.status != "succeeded" or x.failed]
        said = ", ".join(wrong) or "all did"
        self.add(f"every sync succeeded with no failed item ({said})", not wrong, True)

    def verified_as_asked(self) -> None:
        asked = {sc.kind: sc.verify for sc in SCENARIOS}
        odd = [x.kind for x in self.size.syncs if x.verify is not asked.get(x.kind)]
        self.add(f"each sync verified or not as asked ({', '.join(odd) or 'all did'})", not odd, True)

    def landed(self, kind: str, text: str) -> None:
        if (sync := self.by_kind.get(kind)) is not None:
            self.add(f"{text} ({mismatches(sync)} off)", not sync.mismatches, True)

    def wrote_nothing(self, kind: str, text: str) -> None:
        if (sync := self.by_kind.get(kind)) is not None:
            self.add(f"{text} ({sync.halo_writes} writes)", sync.halo_writes == 0, True)

    def within(self, kind: str, text: str) -> None:
        if (sync := self.by_kind.get(kind)) is None:
            return
        limit, said = limit_of(self.size, sync)
        assert limit is not None
        said = f"{sync.halo_calls} Halo calls, limit {limit:.1f} = {said} (min {sync.halo_minimum})"
        self.add(f"{text}: {said}", sync.halo_calls <= limit, False)

    def first_wall(self, per_minute: int) -> None:
        if (first := self.by_kind.get("first")) is None:
            return
        bound = first.rate_bound(per_minute)
        ratio = first.wall_seconds / bound if bound else 0.0
        self.add(
            "first sync's wall time within 10% of what the pace allows "
            f"({first.wall_seconds:.1f} s against {bound:.1f} s: {ratio:.2f}x)",
            ratio <= FIRST_WALL_SLACK,
            False,
        )

    def drift_left_alone(self) -> None:
        if (drifted := self.by_kind.get("drifted")) is None or not self.size.drift:
            return
        expected = {kind: ids for kind, ids in drift_as_mismatches(self.size.drift).items() if ids}
        left = {kind: ids for kind, ids in drifted.check.items() if ids} == expected
        said = f"{mismatches(drifted)} off, as edited"
        self.add(f"plain sync after hand drift left it alone ({said})", left, False)

    def longest_job_fits(self, kind: str) -> None:
        if (sync := self.by_kind.get(kind)) is None:
            return
        job, projected = longest_job(self.size, sync)
        if job is None:
            return
        usable = LAMBDA_TIMEOUT_SECONDS - DEADLINE_RESERVE_SECONDS
        said = f"under {usable} s at hosted Halo's pace ({job.phase} {projected:.0f} s)"
        self.add(f"{kind}: longest job projected {said}", projected < usable, False)

    def peak_rss(self) -> None:
        if not self.size.syncs:
            return
        worst = max(self.size.syncs, key=lambda x: x.peak_rss_mb)
        said = f"max {worst.peak_rss_mb:.0f} MB, {worst.kind}"
        met = worst.peak_rss_mb < PEAK_RSS_MB
        self.add(f"every job's peak RSS under {PEAK_RSS_MB} MB ({said})", met, False)


def _size_targets(size: SizeResult, config: BenchConfig) -> list[Check]:
    """One size's targets, in the order the scenarios run."""
    judge = _SizeChecks(size)
    judge.all_succeeded()
    judge.verified_as_asked()
    judge.landed("first", "first sync: Halo holds what Dicker Data says")
    judge.within("first", "first sync within 5% of its minimum")
    judge.first_wall(config.halo_requests_per_minute)
    judge.wrote_nothing("unchanged", "unchanged re-sync wrote nothing to Halo")
    judge.within("unchanged", "unchanged re-sync made at most 10 Halo calls")
    judge.landed("changed", "1% change: every change landed in Halo")
    judge.within("changed", "1% change within 10% of its writes in batches + the unchanged cost")
    judge.wrote_nothing("drifted", "plain sync after hand drift wrote nothing to Halo")
    judge.drift_left_alone()
    judge.landed("verify", "verify corrected every hand edit")
    judge.within("verify", "verify within 5% of the pages it must read + the writes it needs")
    judge.wrote_nothing("settled", "plain sync after the verify wrote nothing")
    judge.landed("settled", "plain sync after the verify undid nothing")
    judge.longest_job_fits("first")
    judge.longest_job_fits("verify")
    judge.peak_rss()
    return judge.checks


def targets(sizes: list[SizeResult], config: BenchConfig) -> tuple[list[Check], bool]:
    """(target, met, hard) per target, and whether every hard one is met."""
    checks: list[Check] = []
    for s in sizes:
        checks += _size_targets(s, config)
    if sizes:
        throttled = sum(x.halo_throttled for s in sizes for x in s.syncs)
        checks.append(
            (
                f"Halo never answered 429: the app kept under the limit ({throttled} answered 429)",
                throttled == 0,
                False,
            )
        )
    return checks, all(met for _, met, hard in checks if hard)
