"""`python -m local.bench`: the command line (arguments, the machine line, the run, the targets)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import local.bench
from local.bench.config import SCENARIOS, BenchConfig
from local.bench.imports import measure_imports
from local.bench.package import measure_package
from local.bench.report import report
from local.bench.run import run_size
from local.bench.targets import targets


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            "a comma-separated list of customer counts, e.g. 100,1000,5000"
        ) from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    defaults = BenchConfig()
    description = (local.bench.__doc__ or "").splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m local.bench", description=description)
    parser.add_argument(
        "--sizes", type=_sizes, default=defaults.sizes, help="customer counts (default: 100,1000,5000)"
    )
    parser.add_argument(
        "--subs", type=int, default=defaults.subs_per_customer, help="subscriptions per customer"
    )
    parser.add_argument("--latency", type=float, default=defaults.latency, help="seconds per upstream call")
    parser.add_argument(
        "--rate", type=int, default=defaults.halo_requests_per_minute, help="app's Halo calls/min"
    )
    parser.add_argument(
        "--halo-limit", type=int, default=defaults.halo_limit, help="fake's 429 threshold per minute"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker jobs at once (default: the template's WorkerConcurrency)",
    )
    parser.add_argument(
        "--change",
        type=float,
        default=defaults.change_share,
        help="share of the subscriptions changed in Dicker Data before the 'changed' sync (default 0.01)",
    )
    parser.add_argument(
        "--drift",
        type=int,
        default=defaults.drift_per_kind,
        help="hand edits of each kind made in Halo before the 'drifted' sync and the verify (default 5)",
    )
    parser.add_argument(
        "--drift-bases",
        action="store_true",
        help="delete a base licence of add-ons among the hand edits (shows a verify leaving the "
        "add-ons' parent_id on the deleted licence)",
    )
    parser.add_argument("--quick", action="store_true", help="CI smoke: 20 customers x 3, no package build")
    parser.add_argument(
        "--no-package", action="store_true", help="skip the deployment package build (needs PyPI)"
    )
    parser.add_argument("--no-imports", action="store_true", help="skip the cold import timings")
    parser.add_argument(
        "--trace-memory", action="store_true", help="tracemalloc in the workers: where the plan's memory is"
    )
    parser.add_argument(
        "--syncs",
        type=int,
        choices=range(1, len(SCENARIOS) + 1),
        default=len(SCENARIOS),
        help="run only the first N syncs of each size (default: all six)",
    )
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    return parser.parse_args(argv)


def machine() -> str:
    memory = ""
    with contextlib.suppress(OSError):
        total_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {total_kb / 1024 / 1024:.1f} GiB RAM"
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs{memory}, "
        f"Python {platform.python_version()}, {platform.system()}"
    )


def load() -> str:
    """The 1-minute load average: other work on the machine stretches every wall time."""
    try:
        return f"{os.getloadavg()[0]:.2f}"
    except OSError:
        return "n/a"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    config = BenchConfig(
        sizes=(20,) if args.quick else args.sizes,
        subs_per_customer=3 if args.quick else args.subs,
        latency=args.latency,
        halo_requests_per_minute=args.rate,
        halo_limit=args.halo_limit,
        workers=args.workers,
        trace_memory=args.trace_memory,
        change_share=args.change,
        drift_per_kind=args.drift,
        drift_bases=args.drift_bases,
        syncs=args.syncs,
    )
    print(f"Machine: {machine()}; load average {load()}", flush=True)
    results = []
    started = time.perf_counter()
    for customers in config.sizes:
        shape = f"{customers:,} customers x {config.subs_per_customer} subscriptions"
        print(f"... {shape} (load average {load()})", flush=True)
        results.append(run_size(customers, config))
    imports = None if args.no_imports else measure_imports(1 if args.quick else 3)
    package = None if (args.no_package or args.quick) else measure_package()
    print()
    print(report(config, results, imports, package))
    checks, ok = targets(results, config)
    print("\nTargets")
    for text, met, hard in checks:
        print(f"  [{'ok' if met else 'MISSED'}] {text}{'' if hard else ' (reported)'}")
    print(f"\nBench took {time.perf_counter() - started:.0f} s (load average at the end: {load()}).")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine(),
                    "config": asdict(config),
                    "sizes": [asdict(r) for r in results],
                    "imports": [asdict(i) for i in imports or []],
                    "package": asdict(package) if package else None,
                },
                indent=1,
            )
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
