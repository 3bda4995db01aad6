"""The report's tables of each sync: calls, time, what it met, growth, jobs, AWS cost, real world.

Each function is one section of the report: a blank line, its title, its table.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from local.bench.config import (
    DEADLINE_RESERVE_SECONDS,
    KINDS,
    LAMBDA_TIMEOUT_SECONDS,
    PEAK_RSS_MB,
    REAL_HALO_PER_MINUTE,
)
from local.bench.costs import cost_of, projected_sync_seconds
from local.bench.minimum import invocations
from local.bench.results import JobReport, SizeResult, SyncResult
from local.bench.targets import limit_of, longest_job, mismatches
from local.tables import table

PART_NAMES = {
    "tokens": "tokens",
    "client_pages": "client pages",
    "site_pages": "site pages",
    "licence_pages": "licence pages",
    "licence_lookups": "licence GETs",
    "client_reads": "client GETs",
    "client_creates": "client creates",
    "client_updates": "client updates",
    "site_updates": "site updates",
    "licence_creates": "licence creates",
    "licence_updates": "licence updates",
}


def fixed(value: float, digits: int = 1) -> str:
    """A number with thousands separators and `digits` decimals, as every table writes them."""
    return f"{value:,.{digits}f}"


def _ratio(value: float) -> str:
    return "inf" if value == float("inf") else f"{value:.2f}x"


def _done_to_world(size: SizeResult, kind: str) -> str:
    if kind == "changed" and size.change:
        return ", ".join(f"{len(ids)} {what}" for what, ids in size.change.items())
    if kind == "drifted" and size.drift:
        names = {"count": "counts", "unlinked": "tenant links removed"}
        return ", ".join(f"{len(ids)} {names.get(what, what)}" for what, ids in size.drift.items())
    return ""


def _endpoints(sync: SyncResult) -> str:
    """The fake's call counts by endpoint, record ids folded ("GET Client 50, POST SoftwareLicence 3")."""
    folded: Counter[str] = Counter()
    for endpoint, n in sync.halo_by_endpoint.items():
        method, _, path = endpoint.partition(" ")
        path = re.sub(r"/\d+$", "/{id}", path.removeprefix("/api/").removeprefix("/"))
        folded[f"{method} {path}"] += n
    return ", ".join(f"{k} {n}" for k, n in sorted(folded.items())) or "none"


def _parts(sync: SyncResult) -> str:
    return ", ".join(
        f"{PART_NAMES.get(k, k)} {n}" for k, n in sync.minimum_parts.items() if k != "total" and n
    )


def _calls_row(size: SizeResult, sync: SyncResult) -> list[Any]:
    limit, said = limit_of(size, sync)
    return [
        f"{size.customers:,}",
        sync.kind,
        {True: "yes", False: "no", None: "?"}[sync.verify],
        sync.status,
        f"{sum(v for k, v in sync.needed.items() if k != 'licence_addons'):,}",
        f"{sync.halo_writes:,}",
        sync.halo_calls,
        sync.halo_minimum,
        _ratio(sync.calls_ratio) if sync.halo_minimum else "-",
        f"{limit:.1f} ({said})" if limit is not None else "-",
        ("ok" if sync.halo_calls <= limit else "MISSED") if limit is not None else "-",
        sync.halo_throttled,
        sync.failed,
        "ok" if not sync.mismatches else mismatches(sync),
    ]


def calls_section(sizes: list[SizeResult]) -> list[str]:
    """Halo calls of each sync against its minimum and the issue's limit."""
    headers = ["customers", "sync", "verify", "status", "writes needed", "Halo writes", "Halo calls"]
    headers += ["minimum", "ratio", "limit", "met", "429s", "failed", "Halo vs DD after"]
    return [
        "",
        "Halo calls against the minimum (calls include token requests; writes = records created or "
        "updated; limit = the issue's target; Halo vs DD = Halo's records checked against Dicker Data "
        "after the sync)",
        table(headers, [_calls_row(s, sync) for s in sizes for sync in s.syncs]),
    ]


def _time_row(size: SizeResult, sync: SyncResult, rpm: int) -> list[Any]:
    bound = sync.rate_bound(rpm)
    longest, projected = longest_job(size, sync)
    return [
        f"{size.customers:,}",
        sync.kind,
        sync.dicker_data_calls,
        fixed(sync.wall_seconds),
        fixed(bound),
        _ratio(sync.wall_seconds / bound) if bound else "-",
        f"{longest.phase} {longest.chunk}" if longest else "-",
        fixed(projected, 0),
        invocations(projected, LAMBDA_TIMEOUT_SECONDS, DEADLINE_RESERVE_SECONDS),
        fixed(sync.peak_rss_mb, 0),
        "yes" if sync.peak_rss_mb < PEAK_RSS_MB else "NO",
    ]


def time_section(sizes: list[SizeResult], rpm: int) -> list[str]:
    """Wall time against the pace, the longest job's projection, peak memory."""
    headers = ["customers", "sync", "DD calls", "wall s", "pace s", "wall/pace", "longest job"]
    headers += ["projected s", "invocations", "peak MB", f"< {PEAK_RSS_MB} MB"]
    return [
        "",
        "Time and memory (pace = Halo calls / halo_requests_per_minute; projected = the longest job in "
        "AWS at hosted Halo's pace, and the invocations it takes with the worker's "
        f"{DEADLINE_RESERVE_SECONDS} s reserve; peak = the highest peak RSS of any job of the sync, "
        f"against {PEAK_RSS_MB} MB)",
        table(headers, [_time_row(s, sync, rpm) for s in sizes for sync in s.syncs]),
    ]


def world_section(sizes: list[SizeResult]) -> list[str]:
    """What was done to the world before each sync, its minimum part by part, its calls."""
    rows = [
        [
            f"{s.customers:,}",
            sync.kind,
            _done_to_world(s, sync.kind) or "-",
            _parts(sync) or "nothing",
            _endpoints(sync),
            mismatches(sync),
        ]
        for s in sizes
        for sync in s.syncs
    ]
    headers = ["customers", "sync", "done before it", "minimum, part by part", "Halo calls made"]
    return [
        "",
        "What each sync met and made (the minimum's parts; Halo calls by endpoint; what Halo still "
        "differs in from Dicker Data afterwards)",
        table([*headers, "Halo vs DD after"], rows, max_width=70),
    ]


def growth_section(sizes: list[SizeResult]) -> list[str]:
    """Halo calls and wall time per sync kind against customers: how the cost grows."""
    headers = ["sync"]
    for s in sizes:
        headers += [f"{s.customers:,}: calls", "wall s"]
    rows = []
    for kind in KINDS:
        row: list[Any] = [kind]
        for s in sizes:
            sync = s.sync(kind)
            row += [sync.halo_calls, fixed(sync.wall_seconds)] if sync else ["-", "-"]
        rows.append(row)
    title = "How the cost grows: Halo calls and wall time per sync, against customers"
    return ["", title, table(headers, rows)]


def _phase_row(size: SizeResult, sync: SyncResult, phase: str, jobs: list[JobReport]) -> list[Any]:
    worker = bool(jobs[0].chunk)
    projected = max(j.projected_seconds(size.worker_memory_mb, size.workers) for j in jobs) if worker else 0
    return [
        f"{size.customers:,}",
        sync.kind,
        phase,
        len(jobs),
        fixed(sum(j.seconds for j in jobs)),
        fixed(max(j.seconds for j in jobs)),
        fixed(sum(j.cpu_seconds for j in jobs)),
        fixed(sum(j.aws_seconds for j in jobs)),
        sum(j.halo_calls or 0 for j in jobs),
        fixed(max(j.peak_rss_mb for j in jobs), 0) if worker else "",
        fixed(projected, 0) if worker else "",
    ]


def _phase_rows(size: SizeResult) -> list[list[Any]]:
    rows = []
    for sync in size.syncs:
        phases: dict[str, list[JobReport]] = {}
        for job in sync.jobs:
            phases.setdefault(job.phase, []).append(job)
        rows += [_phase_row(size, sync, phase, jobs) for phase, jobs in phases.items()]
    return rows


def jobs_section(sizes: list[SizeResult]) -> list[str]:
    """Each phase's jobs: durations, CPU, AWS SDK time, calls, peak memory, projection."""
    baseline = max((s.worker_baseline_mb for s in sizes), default=0.0)
    headers = ["customers", "sync", "phase", "jobs", "total s", "max s", "CPU s", "AWS SDK s"]
    headers += ["Halo calls", "peak MB", "max projected s"]
    return [
        "",
        "Jobs (each worker job is one Lambda invocation; peak = the process's peak RSS in that job, "
        f"baseline after import {baseline:.0f} MB; projected = in AWS at hosted Halo's pace, see "
        "PERFORMANCE.md)",
        table(headers, [row for s in sizes for row in _phase_rows(s)]),
    ]


def _cost_row(size: SizeResult, sync: SyncResult) -> list[Any]:
    c = cost_of(sync, size.worker_memory_mb, size.workers)
    return [
        f"{size.customers:,}",
        sync.kind,
        c.invocations,
        fixed(c.gb_seconds),
        fixed(c.gb_seconds_real),
        f"{c.wru:,.0f}",
        f"{c.rru:,.0f}",
        f"{c.sqs:,.0f}",
        f"{c.secrets:,.0f}",
        f"{c.dollars:.4f}",
        f"{c.dollars_real:.4f}",
    ]


def cost_section(sizes: list[SizeResult]) -> list[str]:
    """What each sync costs in AWS, as measured and at real-world pace."""
    headers = ["customers", "sync", "invocations", "GB-s", "GB-s real", "DDB WRU", "DDB RRU", "SQS req"]
    headers += ["secret reads", "$", "$ real"]
    return [
        "",
        "AWS per sync (measured durations, and projected to real-world pace; us-east-1 list prices)",
        table(headers, [_cost_row(s, sync) for s in sizes for sync in s.syncs]),
    ]


def _real_world_rows(sizes: list[SizeResult]) -> list[list[Any]]:
    rows = []
    for s in sizes:
        for sync in s.syncs:
            longest, projected = longest_job(s, sync)
            if longest is None:
                continue
            rows.append(
                [
                    f"{s.customers:,}",
                    sync.kind,
                    sync.halo_calls,
                    fixed(sync.halo_calls / REAL_HALO_PER_MINUTE),
                    fixed(projected_sync_seconds(sync, s) / 60),
                    f"{longest.phase} {longest.chunk}",
                    fixed(projected, 0),
                    "yes" if projected < LAMBDA_TIMEOUT_SECONDS else "NO",
                ]
            )
    return rows


def real_world_section(sizes: list[SizeResult]) -> list[str]:
    """Each sync at hosted Halo's limit and the default pacing: minutes, and the longest job."""
    headers = ["customers", "sync", "Halo calls", "min at 50/min", "projected min", "longest job"]
    return [
        "",
        f"Real world: hosted Halo (300 calls / 5 min) at the default {REAL_HALO_PER_MINUTE}/min pacing",
        table([*headers, "projected s", "< 900 s"], _real_world_rows(sizes)),
    ]
