"""The tables the bench prints, and the targets it checks."""

from __future__ import annotations

import re
from collections import Counter
from typing import Any

from local.bench.config import (
    CHANGED_CALLS_SLACK,
    DEADLINE_RESERVE_SECONDS,
    FIRST_CALLS_SLACK,
    FIRST_WALL_SLACK,
    KINDS,
    LAMBDA_TIMEOUT_SECONDS,
    PEAK_RSS_MB,
    REAL_HALO_PER_MINUTE,
    SCENARIOS,
    UNCHANGED_MAX_CALLS,
    VERIFY_CALLS_SLACK,
    BenchConfig,
)
from local.bench.costs import cost_of, projected_sync_seconds
from local.bench.imports import ImportTime
from local.bench.minimum import invocations
from local.bench.package import PackageSize
from local.bench.results import JobReport, SizeResult, SyncResult
from local.bench.world import drift_as_mismatches
from local.tables import table

Check = tuple[str, bool, bool]  # (target, met, hard)
LABELS = {s.kind: s.label for s in SCENARIOS}
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


def _mb(n: float | None) -> str:
    return "n/a" if n is None else f"{n / 1e6:.1f}"


def _f(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def _ratio(value: float) -> str:
    return "inf" if value == float("inf") else f"{value:.2f}x"


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


def _longest(size: SizeResult, sync: SyncResult) -> tuple[JobReport | None, float]:
    worker = [j for j in sync.jobs if j.chunk]
    if not worker:
        return None, 0.0
    longest = max(worker, key=lambda j: j.projected_seconds(size.worker_memory_mb, size.workers))
    return longest, longest.projected_seconds(size.worker_memory_mb, size.workers)


def _done_to_world(size: SizeResult, kind: str) -> str:
    if kind == "changed" and size.change:
        return ", ".join(f"{len(ids)} {what}" for what, ids in size.change.items())
    if kind == "drifted" and size.drift:
        names = {"count": "counts", "unlinked": "tenant links removed"}
        return ", ".join(f"{len(ids)} {names.get(what, what)}" for what, ids in size.drift.items())
    return ""


def _mismatches(sync: SyncResult) -> str:
    found = {kind: len(ids) for kind, ids in sync.check.items() if ids}
    return ", ".join(f"{kind} {n}" for kind, n in found.items()) or "none"


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


def _phase_rows(size: SizeResult) -> list[list[Any]]:
    rows = []
    for sync in size.syncs:
        phases: dict[str, list[JobReport]] = {}
        for job in sync.jobs:
            phases.setdefault(job.phase, []).append(job)
        for phase, jobs in phases.items():
            worker = bool(jobs[0].chunk)
            rows.append(
                [
                    f"{size.customers:,}",
                    sync.kind,
                    phase,
                    len(jobs),
                    _f(sum(j.seconds for j in jobs)),
                    _f(max(j.seconds for j in jobs)),
                    _f(sum(j.cpu_seconds for j in jobs)),
                    _f(sum(j.aws_seconds for j in jobs)),
                    sum(j.halo_calls or 0 for j in jobs),
                    _f(max(j.peak_rss_mb for j in jobs), 0) if worker else "",
                    _f(max(j.projected_seconds(size.worker_memory_mb, size.workers) for j in jobs), 0)
                    if worker
                    else "",
                ]
            )
    return rows


def _calls_table(sizes: list[SizeResult]) -> str:
    rows = []
    for s in sizes:
        for sync in s.syncs:
            limit, said = limit_of(s, sync)
            rows.append(
                [
                    f"{s.customers:,}",
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
                    "ok" if not sync.mismatches else _mismatches(sync),
                ]
            )
    return table(
        [
            "customers",
            "sync",
            "verify",
            "status",
            "writes needed",
            "Halo writes",
            "Halo calls",
            "minimum",
            "ratio",
            "limit",
            "met",
            "429s",
            "failed",
            "Halo vs DD after",
        ],
        rows,
    )


def _time_table(sizes: list[SizeResult], rpm: int) -> str:
    rows = []
    for s in sizes:
        for sync in s.syncs:
            bound = sync.rate_bound(rpm)
            longest, projected = _longest(s, sync)
            rows.append(
                [
                    f"{s.customers:,}",
                    sync.kind,
                    sync.dicker_data_calls,
                    _f(sync.wall_seconds),
                    _f(bound),
                    _ratio(sync.wall_seconds / bound) if bound else "-",
                    f"{longest.phase} {longest.chunk}" if longest else "-",
                    _f(projected, 0),
                    invocations(projected, LAMBDA_TIMEOUT_SECONDS, DEADLINE_RESERVE_SECONDS),
                    _f(sync.peak_rss_mb, 0),
                    "yes" if sync.peak_rss_mb < PEAK_RSS_MB else "NO",
                ]
            )
    return table(
        [
            "customers",
            "sync",
            "DD calls",
            "wall s",
            "pace s",
            "wall/pace",
            "longest job",
            "projected s",
            "invocations",
            "peak MB",
            f"< {PEAK_RSS_MB} MB",
        ],
        rows,
    )


def _world_table(sizes: list[SizeResult]) -> str:
    rows = []
    for s in sizes:
        for sync in s.syncs:
            rows.append(
                [
                    f"{s.customers:,}",
                    sync.kind,
                    _done_to_world(s, sync.kind) or "-",
                    _parts(sync) or "nothing",
                    _endpoints(sync),
                    _mismatches(sync),
                ]
            )
    return table(
        [
            "customers",
            "sync",
            "done before it",
            "minimum, part by part",
            "Halo calls made",
            "Halo vs DD after",
        ],
        rows,
        max_width=70,
    )


def _growth_table(sizes: list[SizeResult]) -> str:
    """Halo calls and wall time per sync kind against customers: how the cost grows."""
    headers = ["sync"]
    for s in sizes:
        headers += [f"{s.customers:,}: calls", "wall s"]
    rows = []
    for kind in KINDS:
        row: list[Any] = [kind]
        for s in sizes:
            sync = s.sync(kind)
            row += [sync.halo_calls, _f(sync.wall_seconds)] if sync else ["-", "-"]
        rows.append(row)
    return table(headers, rows)


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
        f"{config.matched_share:.0%} of customers already in Halo (mapped by name) before the first sync. "
        "Each size runs, in order: "
        + "; ".join(f"{s.kind} = {s.label} (POST /sync {_body(s.body)})" for s in SCENARIOS)
        + f". Before 'changed', {config.change_share:.0%} of the subscriptions change in Dicker Data; "
        f"before 'drifted', {config.drift_per_kind} of each hand edit are made in Halo's records.",
        "",
        "Halo calls against the minimum (calls include token requests; writes = records created or "
        "updated; limit = the issue's target; Halo vs DD = Halo's records checked against Dicker Data "
        "after the sync)",
        _calls_table(sizes),
        "",
        "Time and memory (pace = Halo calls / halo_requests_per_minute; projected = the longest job in "
        "AWS at hosted Halo's pace, and the invocations it takes with the worker's "
        f"{DEADLINE_RESERVE_SECONDS} s reserve; peak = the highest peak RSS of any job of the sync, "
        f"against {PEAK_RSS_MB} MB)",
        _time_table(sizes, rpm),
        "",
        "What each sync met and made (the minimum's parts; Halo calls by endpoint; what Halo still "
        "differs in from Dicker Data afterwards)",
        _world_table(sizes),
        "",
        "How the cost grows: Halo calls and wall time per sync, against customers",
        _growth_table(sizes),
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
        for sync in s.syncs:
            c = cost_of(sync, s.worker_memory_mb, s.workers)
            cost_rows.append(
                [
                    f"{s.customers:,}",
                    sync.kind,
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
        for sync in s.syncs:
            longest, projected = _longest(s, sync)
            if longest is None:
                continue
            real_rows.append(
                [
                    f"{s.customers:,}",
                    sync.kind,
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
    out += _memory_sections(sizes)
    out += _build_sections(imports, package)
    return "\n".join(out)


def _body(body: dict[str, bool]) -> str:
    return "{" + ", ".join(f'"{k}": {str(v).lower()}' for k, v in body.items()) + "}"


def _memory_sections(sizes: list[SizeResult]) -> list[str]:
    out: list[str] = []
    big = max(sizes, key=lambda s: s.customers, default=None)
    planned = [
        (sync, j)
        for sync in (big.syncs if big else [])
        for j in sync.jobs
        if j.phase == "plan-subscriptions" and j.timeline
    ]
    if big and planned:
        out += [
            "",
            f"The subscription plan job's memory at {big.customers:,} customers, step by step (worker RSS "
            "and peak RSS so far, MB)",
            table(
                ["customers", "sync", "after", "RSS MB", "peak MB"],
                [
                    [f"{big.customers:,}", sync.kind, step, _f(rss, 0), _f(peak, 0)]
                    for sync, j in planned
                    for step, rss, peak in j.timeline
                ],
            ),
        ]
    traced = [(s, sync, j) for s in sizes for sync in s.syncs for j in sync.jobs if j.memory_top]
    if traced:
        out += [
            "",
            "Where the subscription plan's memory is (tracemalloc; RSS and times above include its cost)",
            table(
                ["customers", "sync", "traced peak MB", "moment", "allocated at", "MB"],
                [
                    [f"{s.customers:,}", sync.kind, _f(j.traced_peak_mb or 0, 0), moment, where, _f(mb)]
                    for s, sync, j in traced
                    for moment, where, mb in j.memory_top
                ],
            ),
        ]
    return out


def _build_sections(imports: list[ImportTime] | None, package: PackageSize | None) -> list[str]:
    out: list[str] = []
    if imports:
        out += [
            "",
            "Cold import of each handler (median of 3 fresh interpreters; import self time by package)",
            table(
                ["function", "import ms", "where it goes (ms)"],
                [
                    [i.function, _f(i.milliseconds, 0), ", ".join(f"{m} {ms:.0f}" for m, ms in i.top)]
                    for i in imports
                ],
            ),
        ]
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
    return out


def _size_targets(s: SizeResult, config: BenchConfig) -> list[Check]:
    n = f"{s.customers:,}"
    checks: list[Check] = []
    by_kind = {sync.kind: sync for sync in s.syncs}
    wrong = [x.kind for x in s.syncs if x.status != "succeeded" or x.failed]
    checks.append(
        (f"{n}: every sync succeeded with no failed item ({', '.join(wrong) or 'all did'})", not wrong, True)
    )
    asked = {sc.kind: sc.verify for sc in SCENARIOS}
    odd = [x.kind for x in s.syncs if x.verify is not asked.get(x.kind)]
    checks.append((f"{n}: each sync verified or not as asked ({', '.join(odd) or 'all did'})", not odd, True))

    def landed(kind: str, text: str) -> None:
        if (sync := by_kind.get(kind)) is not None:
            checks.append((f"{n}: {text} ({_mismatches(sync)} off)", not sync.mismatches, True))

    def wrote_nothing(kind: str, text: str) -> None:
        if (sync := by_kind.get(kind)) is not None:
            checks.append((f"{n}: {text} ({sync.halo_writes} writes)", sync.halo_writes == 0, True))

    def within(kind: str, text: str) -> None:
        sync = by_kind.get(kind)
        if sync is None:
            return
        limit, said = limit_of(s, sync)
        assert limit is not None
        said = f"{sync.halo_calls} Halo calls, limit {limit:.1f} = {said} (min {sync.halo_minimum})"
        checks.append((f"{n}: {text}: {said}", sync.halo_calls <= limit, False))

    landed("first", "first sync: Halo holds what Dicker Data says")
    within("first", "first sync within 5% of its minimum")
    if (first := by_kind.get("first")) is not None:
        bound = first.rate_bound(config.halo_requests_per_minute)
        ratio = first.wall_seconds / bound if bound else 0.0
        checks.append(
            (f"{n}: first sync's wall time within 10% of what the pace allows "
             f"({first.wall_seconds:.1f} s against {bound:.1f} s: {ratio:.2f}x)",
             ratio <= FIRST_WALL_SLACK, False)
        )  # fmt: skip
    wrote_nothing("unchanged", "unchanged re-sync wrote nothing to Halo")
    within("unchanged", "unchanged re-sync made at most 10 Halo calls")
    landed("changed", "1% change: every change landed in Halo")
    within("changed", "1% change within 10% of its writes in batches + the unchanged cost")
    wrote_nothing("drifted", "plain sync after hand drift wrote nothing to Halo")
    if (drifted := by_kind.get("drifted")) is not None and s.drift:
        expected = {kind: ids for kind, ids in drift_as_mismatches(s.drift).items() if ids}
        left = {kind: ids for kind, ids in drifted.check.items() if ids} == expected
        said = f"{_mismatches(drifted)} off, as edited"
        checks.append((f"{n}: plain sync after hand drift left it alone ({said})", left, False))
    landed("verify", "verify corrected every hand edit")
    within("verify", "verify within 5% of the pages it must read + the writes it needs")
    wrote_nothing("settled", "plain sync after the verify wrote nothing")
    landed("settled", "plain sync after the verify undid nothing")
    for kind in ("first", "verify"):
        if (sync := by_kind.get(kind)) is not None and (found := _longest(s, sync))[0] is not None:
            job, projected = found
            assert job is not None
            usable = LAMBDA_TIMEOUT_SECONDS - DEADLINE_RESERVE_SECONDS
            checks.append(
                (f"{n}: {kind}: longest job projected under {usable} s at hosted Halo's pace "
                 f"({job.phase} {projected:.0f} s)", projected < usable, False)
            )  # fmt: skip
    if s.syncs:
        worst = max(s.syncs, key=lambda x: x.peak_rss_mb)
        said = f"max {worst.peak_rss_mb:.0f} MB, {worst.kind}"
        checks.append(
            (
                f"{n}: every job's peak RSS under {PEAK_RSS_MB} MB ({said})",
                worst.peak_rss_mb < PEAK_RSS_MB,
                False,
            )
        )
    return checks


def targets(sizes: list[SizeResult], config: BenchConfig) -> tuple[list[Check], bool]:
    """(target, met, hard) per target, and whether every hard one is met."""
    checks: list[Check] = []
    for s in sizes:
        checks += _size_targets(s, config)
    if sizes:
        throttled = sum(x.halo_throttled for s in sizes for x in s.syncs)
        checks.append(
            (f"Halo never answered 429: the app kept under the limit ({throttled} answered 429)",
             throttled == 0, False)
        )  # fmt: skip
    return checks, all(met for _, met, hard in checks if hard)
