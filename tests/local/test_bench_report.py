"""The bench's report on crafted results: its sections and columns, costs, projections and targets."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from local.bench.config import (
    DYNAMODB_READ_UNIT,
    DYNAMODB_WRITE_UNIT,
    LAMBDA_GB_SECOND_ARM,
    LAMBDA_MB_PER_VCPU,
    LAMBDA_REQUEST,
    SECRETS_API_CALL,
    SQS_REQUEST,
    BenchConfig,
)
from local.bench.costs import cost_of, projected_sync_seconds
from local.bench.imports import ImportTime
from local.bench.package import PackageSize
from local.bench.report import report, targets
from local.bench.results import JobReport, SizeResult, SyncResult


def _sync(label: str, writes: int, status: str = "succeeded", **changes: Any) -> SyncResult:
    result = SyncResult(
        label=label,
        status=status,
        wall_seconds=1.0,
        halo_calls=4,
        halo_calls_by_app=4,
        halo_minimum=4,
        minimum_parts={"total": 4},
        halo_writes=writes,
        halo_throttled=0,
        halo_by_endpoint={},
        dicker_data_calls=5,
        items={"subscription unchanged": 3},
        jobs=[JobReport("customers", 0, 1.0, 0.5, 90.0, halo_calls=2, dicker_data_calls=2)],
        halo_clients_before=1,
        halo_licences_before=3,
    )
    return dataclasses.replace(result, **changes)


def test_a_write_on_the_unchanged_resync_is_a_hard_miss():
    def size(resync_writes: int) -> SizeResult:
        return SizeResult(1, 3, 1, 512, _sync("first", 4), _sync("again", resync_writes), 80.0)

    assert targets([size(0)], BenchConfig())[1] is True
    checks, ok = targets([size(1)], BenchConfig())
    assert ok is False
    assert any("wrote nothing" in text and not met and hard for text, met, hard in checks)


def test_targets_give_each_verdict_and_only_hard_misses_fail_the_bench():
    small = SizeResult(10, 30, 2, 512, _sync("first", 4), _sync("again", 0), 80.0)
    heavy = JobReport("plan-subscriptions", 1, 5.0, 4.0, 300.0, halo_calls=250)
    big = SizeResult(
        1000,
        10_000,
        2,
        512,
        _sync(
            "first", 900, halo_calls=250, halo_minimum=200, wall_seconds=90.0, halo_throttled=3, jobs=[heavy]
        ),
        _sync("again", 0, halo_calls=100, halo_minimum=100),
        80.0,
    )
    checks, ok = targets([small, big], BenchConfig())  # 250 calls at 250/min: a 60 s bound
    assert checks == [
        ("10: both syncs succeeded with no failed item", True, True),
        ("10: unchanged re-sync wrote nothing to Halo (0 writes)", True, True),
        ("10: Halo calls within 10% of the minimum (first 1.00x, re-sync 1.00x)", True, False),
        ("1,000: both syncs succeeded with no failed item", True, True),
        ("1,000: unchanged re-sync wrote nothing to Halo (0 writes)", True, True),
        ("1,000: Halo calls within 10% of the minimum (first 1.25x, re-sync 1.00x)", False, False),
        ("1,000: first sync's wall time within 25% of the rate bound (1.50x)", False, False),
        ("Halo never answered 429: the app kept under the limit (3 answered 429)", False, False),
        ("1,000: peak memory of any job under 256 MB (300 MB)", False, False),
    ]
    assert ok is True  # every miss is a reported one


def test_targets_at_their_edges():
    at_edge = JobReport("customers", 0, 1.0, 0.5, 256.0, halo_calls=250)
    first = _sync("first", 4, halo_calls=250, halo_minimum=227, wall_seconds=75.0, jobs=[at_edge])
    size = SizeResult(5, 15, 1, 512, first, _sync("again", 0, halo_calls=110, halo_minimum=100), 80.0)
    verdicts = {text.split(" (")[0]: met for text, met, _ in targets([size], BenchConfig())[0]}
    assert verdicts == {
        "5: both syncs succeeded with no failed item": True,
        "5: unchanged re-sync wrote nothing to Halo": True,
        "5: Halo calls within 10% of the minimum": False,  # 250 / 227 = 1.101
        "5: first sync's wall time within 25% of the rate bound": True,  # exactly 1.25x
        "Halo never answered 429: the app kept under the limit": True,
        "5: peak memory of any job under 256 MB": False,  # 256 is not under 256
    }
    assert targets([], BenchConfig()) == ([], True)


@pytest.mark.parametrize(
    "first",
    [
        _sync("first", 4, items={"customer failed": 1, "subscription created": 3}),
        _sync("first", 4, status="partial"),
    ],
)
def test_a_failed_item_or_an_unsucceeded_run_is_a_hard_miss(first: SyncResult):
    checks, ok = targets([SizeResult(1, 3, 1, 512, first, _sync("again", 0), 80.0)], BenchConfig())
    assert ok is False
    assert checks[0] == ("1: both syncs succeeded with no failed item", False, True)


def test_a_job_projected_to_aws_scales_its_cpu_and_waits_for_hosted_halo():
    job = JobReport(
        "plan-subscriptions",
        0,
        seconds=10.0,
        cpu_seconds=1.0,
        peak_rss_mb=100.0,
        halo_calls=60,
        dicker_data_calls=10,
        limiter_wait=3.0,
        retry_sleep=1.0,
    )
    assert job.io_seconds == 5.0
    # CPU x 1769/512, 70 calls at 0.3 s (more than the 5 s measured), 60 Halo calls at 25/min.
    assert job.projected_seconds(512, 2) == pytest.approx(LAMBDA_MB_PER_VCPU / 512 + 21.0 + 120.0)
    assert job.projected_seconds(LAMBDA_MB_PER_VCPU, 1) == pytest.approx(1.0 + 21.0 + 60.0)
    assert JobReport("customers", 0, 1.0, 2.0, 0.0, limiter_wait=1.0).io_seconds == 0.0


def test_cost_of_a_sync_bills_every_invocation_and_the_event_source_s_sqs_requests():
    api = JobReport("api /sync", -1, 0.5, 0.1, 0.0, aws={"sqs": 1, "wru": 2})
    worker = JobReport(
        "customers",
        0,
        2.0,
        0.5,
        90.0,
        halo_calls=0,
        dicker_data_calls=0,
        aws={"wru": 10, "rru": 4, "secrets": 1},
    )
    cost = cost_of(_sync("first", 0, jobs=[api, worker]), memory_mb=1024, share=2)
    assert (cost.invocations, cost.wru, cost.rru, cost.sqs, cost.secrets) == (2, 12, 4, 3, 1)
    assert cost.gb_seconds == 2.5
    assert cost.gb_seconds_real == pytest.approx(0.5 * LAMBDA_MB_PER_VCPU / 1024 + 1.5 + 0.5)
    assert cost.dollars == pytest.approx(
        2.5 * LAMBDA_GB_SECOND_ARM
        + 2 * LAMBDA_REQUEST
        + 12 * DYNAMODB_WRITE_UNIT
        + 4 * DYNAMODB_READ_UNIT
        + 3 * SQS_REQUEST
        + SECRETS_API_CALL
    )
    assert cost.dollars_real == pytest.approx(cost.dollars_at(cost.gb_seconds_real))


def test_a_projected_sync_runs_apply_chunks_side_by_side_and_never_beats_hosted_halo():
    jobs = [
        JobReport("api /sync", -1, 9.0, 9.0, 0.0),  # not a worker job
        JobReport("customers", 0, 4.0, 1.0, 90.0),
        JobReport("plan-subscriptions", 1, 6.0, 1.0, 90.0),
        JobReport("apply-subscriptions", 2, 3.0, 1.0, 90.0),
        JobReport("apply-subscriptions", 3, 5.0, 1.0, 90.0),
    ]
    # At 1,769 MB a job's CPU is not scaled, and without calls its projection is its measured time.
    size = SizeResult(1, 3, 2, LAMBDA_MB_PER_VCPU, _sync("first", 0), _sync("again", 0), 80.0)
    assert projected_sync_seconds(_sync("first", 0, jobs=jobs, halo_calls=10), size) == 4 + 6 + (3 + 5) / 2
    assert projected_sync_seconds(_sync("first", 0, jobs=jobs, halo_calls=20), size) == 24.0  # 20 at 50/min


def _tables(text: str) -> list[tuple[str, str]]:
    """Each table's title (the line above its header) and its column names, " | " between them."""
    lines = text.splitlines()
    return [
        (lines[n - 1].split(" (")[0], " | ".join(re.split(r"\s{2,}", lines[n].strip())))
        for n in range(1, len(lines) - 1)
        if re.fullmatch(r"-+( +-+)*", lines[n + 1])
    ]


def test_the_report_has_every_section_and_column():
    plan = JobReport(
        "plan-subscriptions",
        1,
        1.0,
        0.5,
        90.0,
        halo_calls=2,
        timeline=[("planned", 80.0, 85.0)],
        memory_top=[("job end", "ddhalo/plan.py:3", 1.5)],
        traced_peak_mb=2.0,
    )
    first = _sync("first", 4)
    size = SizeResult(
        1, 3, 1, 512, dataclasses.replace(first, jobs=[*first.jobs, plan]), _sync("again", 0), 80.0
    )
    imports = [ImportTime("worker", 500.0, [("ddhalo", 100.0)])]
    package = PackageSize(2_500_000, 9_000_000, [("pydantic", 1_500_000)], {"worker": 300})
    text = report(BenchConfig(), [size], imports, package)
    assert _tables(text) == [
        (
            "First sync",
            "customers | subs | status | created | updated | Halo calls | minimum | ratio | tokens"
            " | DD calls | wall s | bound s | wall/bound | 429s | peak MB | failed",
        ),
        (
            "Unchanged re-sync",
            "customers | subs | status | Halo calls | minimum | ratio | Halo writes"
            " | DD calls | wall s | bound s | 429s | peak MB | failed",
        ),
        (
            "Jobs",
            "customers | sync | phase | jobs | total s"
            " | max s | CPU s | AWS SDK s | Halo calls | peak MB | max projected s",
        ),
        (
            "AWS per sync",
            "customers | sync | invocations | GB-s | GB-s real"
            " | DDB WRU | DDB RRU | SQS req | secret reads | $ | $ real",
        ),
        (
            "Real world: hosted Halo",
            "customers | sync | Halo calls | min at 50/min"
            " | projected min | longest job | projected s | < 900 s",
        ),
        ("The subscription plan job's memory, step by step", "customers | sync | after | RSS MB | peak MB"),
        (
            "Where the subscription plan's memory is",
            "customers | sync | traced peak MB | moment | allocated at | MB",
        ),
        ("Cold import of each handler", "function | import ms | where it goes (ms)"),
    ]
    assert ["1", "first", "planned", "80", "85"] in [
        re.split(r"\s{2,}", line.strip()) for line in text.splitlines()
    ]
    assert "  layer: 2.5 MB zipped, 9.0 MB unzipped" in text
    assert text.endswith("  functions (zipped bytes): worker 300")


def test_the_report_leaves_out_what_was_not_measured():
    text = report(
        BenchConfig(), [SizeResult(1, 3, 1, 512, _sync("first", 4), _sync("again", 0), 80.0)], None, None
    )
    assert [title for title, _ in _tables(text)] == [
        "First sync",
        "Unchanged re-sync",
        "Jobs",
        "AWS per sync",
        "Real world: hosted Halo",
    ]
    skipped = PackageSize(None, None, [], {"worker": 300}, note="skipped: offline")
    assert "  layer: skipped: offline" in report(BenchConfig(), [], None, skipped).splitlines()
