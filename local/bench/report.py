"""The bench's printed report: its opening line, then a section per table (`report_tables`), then
the plan job's memory and the build's numbers when they were measured."""

from __future__ import annotations

from local.bench.config import SCENARIOS, BenchConfig
from local.bench.imports import ImportTime
from local.bench.package import PackageSize
from local.bench.report_tables import (
    calls_section,
    cost_section,
    fixed,
    growth_section,
    jobs_section,
    real_world_section,
    time_section,
    world_section,
)
from local.bench.results import SizeResult
from local.tables import table


def _mb(n: float | None) -> str:
    return "n/a" if n is None else f"{n / 1e6:.1f}"


def _body(body: dict[str, bool]) -> str:
    return "{" + ", ".join(f'"{k}": {str(v).lower()}' for k, v in body.items()) + "}"


def _intro(config: BenchConfig) -> str:
    """What was run: the fakes' latency and limit, the app's pace, the world and the scenarios."""
    return (
        f"Dicker Data -> Halo sync bench: {config.latency * 1000:.0f} ms per upstream call; Halo's fake "
        f"answers 429 past {config.halo_limit} calls per {config.halo_window:.0f} s; the app paces at "
        f"halo_requests_per_minute={config.halo_requests_per_minute}; {config.subs_per_customer} "
        f"subscriptions per customer; {config.matched_share:.0%} of customers already in Halo (mapped "
        "by name) before the first sync. Each size runs, in order: "
        + "; ".join(f"{s.kind} = {s.label} (POST /sync {_body(s.body)})" for s in SCENARIOS)
        + f". Before 'changed', {config.change_share:.0%} of the subscriptions change in Dicker Data; "
        f"before 'drifted', {config.drift_per_kind} of each hand edit are made in Halo's records."
    )


def report(
    config: BenchConfig,
    sizes: list[SizeResult],
    imports: list[ImportTime] | None,
    package: PackageSize | None,
) -> str:
    """Every table the bench prints."""
    out = [_intro(config)]
    out += calls_section(sizes)
    out += time_section(sizes, config.halo_requests_per_minute)
    out += world_section(sizes)
    out += growth_section(sizes)
    out += jobs_section(sizes)
    out += cost_section(sizes)
    out += real_world_section(sizes)
    out += _plan_memory_section(sizes)
    out += _traced_memory_section(sizes)
    out += _imports_section(imports)
    out += _package_section(package)
    return "\n".join(out)


def _plan_memory_section(sizes: list[SizeResult]) -> list[str]:
    """The subscription plan job's RSS step by step, at the largest size."""
    big = max(sizes, key=lambda s: s.customers, default=None)
    if big is None:
        return []
    planned = [
        (sync, j) for sync in big.syncs for j in sync.jobs if j.phase == "plan-subscriptions" and j.timeline
    ]
    if not planned:
        return []
    rows = [
        [f"{big.customers:,}", sync.kind, step, fixed(rss, 0), fixed(peak, 0)]
        for sync, j in planned
        for step, rss, peak in j.timeline
    ]
    return [
        "",
        f"The subscription plan job's memory at {big.customers:,} customers, step by step (worker RSS "
        "and peak RSS so far, MB)",
        table(["customers", "sync", "after", "RSS MB", "peak MB"], rows),
    ]


def _traced_memory_section(sizes: list[SizeResult]) -> list[str]:
    """Where tracemalloc saw the traced jobs' memory go (`--trace-memory`)."""
    traced = [(s, sync, j) for s in sizes for sync in s.syncs for j in sync.jobs if j.memory_top]
    if not traced:
        return []
    rows = [
        [f"{s.customers:,}", sync.kind, fixed(j.traced_peak_mb or 0, 0), moment, where, fixed(mb)]
        for s, sync, j in traced
        for moment, where, mb in j.memory_top
    ]
    return [
        "",
        "Where the subscription plan's memory is (tracemalloc; RSS and times above include its cost)",
        table(["customers", "sync", "traced peak MB", "moment", "allocated at", "MB"], rows),
    ]


def _imports_section(imports: list[ImportTime] | None) -> list[str]:
    """Each handler's cold import time and where it goes."""
    if not imports:
        return []
    rows = [
        [i.function, fixed(i.milliseconds, 0), ", ".join(f"{m} {ms:.0f}" for m, ms in i.top)] for i in imports
    ]
    return [
        "",
        "Cold import of each handler (median of 3 fresh interpreters; import self time by package)",
        table(["function", "import ms", "where it goes (ms)"], rows),
    ]


def _package_section(package: PackageSize | None) -> list[str]:
    """The layer's and the functions' sizes (or why the layer was not built)."""
    if not package:
        return []
    out = [
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
    out.append("  functions (zipped bytes): " + ", ".join(f"{k} {v:,}" for k, v in package.functions.items()))
    return out
