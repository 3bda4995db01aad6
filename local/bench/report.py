"""The tables the bench prints, and the targets it checks."""

from __future__ import annotations

from typing import Any

from local.bench.config import LAMBDA_TIMEOUT_SECONDS, REAL_HALO_PER_MINUTE, BenchConfig
from local.bench.costs import cost_of, projected_sync_seconds
from local.bench.imports import ImportTime
from local.bench.package import PackageSize
from local.bench.results import JobReport, SizeResult, SyncResult
from local.tables import table


def _mb(n: float | None) -> str:
    return "n/a" if n is None else f"{n / 1e6:.1f}"


def _f(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def _which(size: SizeResult, sync: SyncResult) -> str:
    return "first" if sync is size.first else "re-sync"


def _phase_rows(size: SizeResult) -> list[list[Any]]:
    rows = []
    for sync in (size.first, size.resync):
        phases: dict[str, list[JobReport]] = {}
        for job in sync.jobs:
            phases.setdefault(job.phase, []).append(job)
        for phase, jobs in phases.items():
            rows.append(
                [
                    f"{size.customers:,}",
                    _which(size, sync),
                    phase,
                    len(jobs),
                    _f(sum(j.seconds for j in jobs)),
                    _f(max(j.seconds for j in jobs)),
                    _f(sum(j.cpu_seconds for j in jobs)),
                    _f(sum(j.aws_seconds for j in jobs)),
                    sum(j.halo_calls or 0 for j in jobs),
                    _f(max(j.peak_rss_mb for j in jobs), 0) if jobs[0].chunk >= 0 else "",
                    _f(max(j.projected_seconds(size.worker_memory_mb, size.workers) for j in jobs), 0)
                    if jobs[0].chunk >= 0
                    else "",
                ]
            )
    return rows


def report(
    config: BenchConfig,
    sizes: list[SizeResult],
    imports: list[ImportTime] | None,
    package: PackageSize | None,
) -> str:
    """Every table the bench prints."""
    rpm = config.halo_requests_per_minute
    baseline = max((s.worker_baseline_mb for s in sizes), default=0.0)
    out = [
        f"Dicker Data -> Halo sync bench: {config.latency * 1000:.0f} ms per upstream call; Halo's fake "
        f"answers 429 past {config.halo_limit} calls per {config.halo_window:.0f} s; the app paces at "
        f"halo_requests_per_minute={rpm}; {config.subs_per_customer} subscriptions per customer; "
        f"{config.matched_share:.0%} of customers already in Halo (mapped by name) before the first sync.",
        "",
        "First sync (Halo calls include token requests; minimum = paged reads + full batches of what "
        "changed + one token per cold container; bound = Halo calls / rate)",
    ]
    first = []
    for s in sizes:
        f = s.first
        first.append(
            [
                f"{s.customers:,}",
                f"{s.subscriptions:,}",
                f.status,
                f"{f.items.get('customer created', 0) + f.items.get('subscription created', 0):,}",
                f"{f.items.get('customer updated', 0) + f.items.get('subscription updated', 0):,}",
                f.halo_calls,
                f.halo_minimum,
                f"{f.calls_ratio:.2f}x",
                f.halo_by_endpoint.get("POST /auth/token", 0),
                f.dicker_data_calls,
                _f(f.wall_seconds),
                _f(f.rate_bound(rpm)),
                f"{f.wall_seconds / f.rate_bound(rpm):.2f}x",
                f.halo_throttled,
                _f(f.peak_rss_mb, 0),
                f.failed,
            ]
        )
    out.append(
        table(
            [
                "customers",
                "subs",
                "status",
                "created",
                "updated",
                "Halo calls",
                "minimum",
                "ratio",
                "tokens",
                "DD calls",
                "wall s",
                "bound s",
                "wall/bound",
                "429s",
                "peak MB",
                "failed",
            ],
            first,
        )
    )
    out += ["", "Unchanged re-sync (must write nothing)"]
    again = []
    for s in sizes:
        r = s.resync
        again.append(
            [
                f"{s.customers:,}",
                f"{s.subscriptions:,}",
                r.status,
                r.halo_calls,
                r.halo_minimum,
                f"{r.calls_ratio:.2f}x",
                r.halo_writes,
                r.dicker_data_calls,
                _f(r.wall_seconds),
                _f(r.rate_bound(rpm)),
                r.halo_throttled,
                _f(r.peak_rss_mb, 0),
                r.failed,
            ]
        )
    out.append(
        table(
            [
                "customers",
                "subs",
                "status",
                "Halo calls",
                "minimum",
                "ratio",
                "Halo writes",
                "DD calls",
                "wall s",
                "bound s",
                "429s",
                "peak MB",
                "failed",
            ],
            again,
        )
    )
    out += [
        "",
        "Jobs (each worker job is one Lambda invocation; peak = the process's peak RSS in that job, "
        f"baseline after import {baseline:.0f} MB; projected = in AWS at hosted Halo's pace, see "
        "PERFORMANCE.md)",
        table(
            [
                "customers",
                "sync",
                "phase",
                "jobs",
                "total s",
                "max s",
                "CPU s",
                "AWS SDK s",
                "Halo calls",
                "peak MB",
                "max projected s",
            ],
            [row for s in sizes for row in _phase_rows(s)],
        ),
        "",
        "AWS per sync (measured durations, and projected to real-world pace; us-east-1 list prices)",
    ]
    cost_rows = []
    for s in sizes:
        for sync in (s.first, s.resync):
            c = cost_of(sync, s.worker_memory_mb, s.workers)
            cost_rows.append(
                [
                    f"{s.customers:,}",
                    _which(s, sync),
                    c.invocations,
                    _f(c.gb_seconds),
                    _f(c.gb_seconds_real),
                    f"{c.wru:,.0f}",
                    f"{c.rru:,.0f}",
                    f"{c.sqs:,.0f}",
                    f"{c.secrets:,.0f}",
                    f"{c.dollars:.4f}",
                    f"{c.dollars_real:.4f}",
                ]
            )
    out.append(
        table(
            [
                "customers",
                "sync",
                "invocations",
                "GB-s",
                "GB-s real",
                "DDB WRU",
                "DDB RRU",
                "SQS req",
                "secret reads",
                "$",
                "$ real",
            ],
            cost_rows,
        )
    )
    out += [
        "",
        f"Real world: hosted Halo (300 calls / 5 min) at the default {REAL_HALO_PER_MINUTE}/min pacing",
    ]
    real_rows = []
    for s in sizes:
        for sync in (s.first, s.resync):
            worker = [j for j in sync.jobs if j.chunk >= 0]
            longest = max(worker, key=lambda j: j.projected_seconds(s.worker_memory_mb, s.workers))
            projected = longest.projected_seconds(s.worker_memory_mb, s.workers)
            real_rows.append(
                [
                    f"{s.customers:,}",
                    _which(s, sync),
                    sync.halo_calls,
                    _f(sync.halo_calls / REAL_HALO_PER_MINUTE),
                    _f(projected_sync_seconds(sync, s) / 60),
                    f"{longest.phase} {longest.chunk}",
                    _f(projected, 0),
                    "yes" if projected < LAMBDA_TIMEOUT_SECONDS else "NO",
                ]
            )
    out.append(
        table(
            [
                "customers",
                "sync",
                "Halo calls",
                "min at 50/min",
                "projected min",
                "longest job",
                "projected s",
                "< 900 s",
            ],
            real_rows,
        )
    )
    planned = [
        (s, sync, j)
        for s in sizes
        for sync in (s.first, s.resync)
        for j in sync.jobs
        if j.phase == "plan-subscriptions" and j.timeline
    ]
    if planned:
        out += ["", "The subscription plan job's memory, step by step (worker RSS and peak RSS so far, MB)"]
        out.append(
            table(
                ["customers", "sync", "after", "RSS MB", "peak MB"],
                [
                    [
                        f"{s.customers:,}",
                        _which(s, sync),
                        step,
                        _f(rss, 0),
                        _f(peak, 0),
                    ]
                    for s, sync, j in planned
                    for step, rss, peak in j.timeline
                ],
            )
        )
    traced = [(s, sync, j) for s in sizes for sync in (s.first, s.resync) for j in sync.jobs if j.memory_top]
    if traced:
        out += [
            "",
            "Where the subscription plan's memory is (tracemalloc; RSS and times above include its cost)",
        ]
        out.append(
            table(
                ["customers", "sync", "traced peak MB", "moment", "allocated at", "MB"],
                [
                    [
                        f"{s.customers:,}",
                        _which(s, sync),
                        _f(j.traced_peak_mb or 0, 0),
                        moment,
                        where,
                        _f(mb),
                    ]
                    for s, sync, j in traced
                    for moment, where, mb in j.memory_top
                ],
            )
        )
    if imports:
        out += [
            "",
            "Cold import of each handler (median of 3 fresh interpreters; import self time by package)",
        ]
        out.append(
            table(
                ["function", "import ms", "where it goes (ms)"],
                [
                    [i.function, _f(i.milliseconds, 0), ", ".join(f"{m} {ms:.0f}" for m, ms in i.top)]
                    for i in imports
                ],
            )
        )
    if package:
        out += [
            "",
            "Deployment package (python3.13 arm64 layer = shared/ddhalo, shared/ddhalo_lambda "
            "+ shared/requirements.txt)",
        ]
        if package.layer_zip_bytes is None:
            out.append(f"  layer: {package.note}")
        else:
            largest = ", ".join(f"{name} {size / 1e6:.1f}" for name, size in package.largest)
            out.append(
                f"  layer: {_mb(package.layer_zip_bytes)} MB zipped, {_mb(package.layer_unzipped_bytes)} MB "
                f"unzipped (Lambda limit: 250 MB unzipped, with the functions); largest (MB): {largest}"
            )
        out.append(
            "  functions (zipped bytes): " + ", ".join(f"{k} {v:,}" for k, v in package.functions.items())
        )
    return "\n".join(out)


def targets(sizes: list[SizeResult], config: BenchConfig) -> tuple[list[tuple[str, bool, bool]], bool]:
    """(target, met, hard) per target, and whether every hard one is met."""
    checks: list[tuple[str, bool, bool]] = []
    for s in sizes:
        n = f"{s.customers:,}"
        checks += [
            (f"{n}: both syncs succeeded with no failed item", all(
                x.status == "succeeded" and not x.failed for x in (s.first, s.resync)), True),
            (f"{n}: unchanged re-sync wrote nothing to Halo ({s.resync.halo_writes} writes)",
             s.resync.halo_writes == 0, True),
            (f"{n}: Halo calls within 10% of the minimum (first {s.first.calls_ratio:.2f}x, "
             f"re-sync {s.resync.calls_ratio:.2f}x)",
             max(s.first.calls_ratio, s.resync.calls_ratio) <= 1.10, False),
        ]  # fmt: skip
    if sizes:
        big = max(sizes, key=lambda s: s.customers)
        ratio = big.first.wall_seconds / big.first.rate_bound(config.halo_requests_per_minute)
        checks.append(
            (
                f"{big.customers:,}: first sync's wall time within 25% of the rate bound ({ratio:.2f}x)",
                ratio <= 1.25,
                False,
            )
        )
        throttled = sum(s.first.halo_throttled + s.resync.halo_throttled for s in sizes)
        checks.append(
            (f"Halo never answered 429: the app kept under the limit ({throttled} answered 429)",
             throttled == 0, False)
        )  # fmt: skip
        peak = max(big.first.peak_rss_mb, big.resync.peak_rss_mb)
        checks.append(
            (f"{big.customers:,}: peak memory of any job under 256 MB ({peak:.0f} MB)", peak < 256, False)
        )
    return checks, all(met for _, met, hard in checks if hard)
