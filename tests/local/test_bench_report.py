"""The bench's report on crafted results: its sections and columns, costs, projections and targets."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from ddhalo.jobs.job import Job
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
from local.bench.report import report
from local.bench.results import JobReport, SizeResult, SyncResult
from local.bench.targets import targets

# Jobs as the worker names them (``Job.chunk``); a ``POST /sync`` is "" (not a worker job).
CUSTOMERS = Job(run_id="r", kind="sync", phase="customers").chunk
PLAN = Job(run_id="r", kind="sync", phase="plan-subscriptions").chunk


def apply_chunk(index: int) -> str:
    return Job(run_id="r", kind="sync", phase="apply-subscriptions", index=index).chunk


def _sync(label: str, writes: int, status: str = "succeeded", **changes: Any) -> SyncResult:
    kind = changes.pop("kind", {"first": "first", "again": "unchanged"}.get(label, label))
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
        jobs=[JobReport("customers", CUSTOMERS, 1.0, 0.5, 90.0, halo_calls=2, dicker_data_calls=2)],
        halo_clients_before=1,
        halo_licences_before=3,
        kind=kind,
        verify=kind in ("first", "verify"),
        check={"count": []},
    )
    return dataclasses.replace(result, **changes)


DRIFT = {"count": ["s1"], "inactive": ["s2"], "deleted": ["s3"], "moved": ["s4"], "unlinked": ["t1"]}
AS_EDITED = {
    "count": ["s1"],
    "active": ["s2"],
    "missing": ["s3"],
    "wrong_client": ["s4"],
    "tenant_link": ["t1"],
}


def _size(customers: int = 1, **syncs: SyncResult) -> SizeResult:
    """A size with every scenario run, each as crafted in ``syncs`` or a clean default."""
    defaults = {
        "first": _sync("first", 4),
        "unchanged": _sync("unchanged", 0, halo_calls=0, halo_minimum=0),
        "changed": _sync("changed", 8, halo_calls=2, halo_minimum=2),
        "drifted": _sync("drifted", 0, halo_calls=0, halo_minimum=0, check=dict(AS_EDITED)),
        "verify": _sync("verify", 25, halo_calls=10, halo_minimum=10),
        "settled": _sync("settled", 0, halo_calls=0, halo_minimum=0),
    }
    defaults.update(syncs)
    return SizeResult(customers, customers * 3, 1, 512, list(defaults.values()), 80.0, drift=DRIFT)


def _verdicts(sizes: list[SizeResult]) -> dict[str, tuple[bool, bool]]:
    """Each target's text up to its first parenthesis or colon -> (met, hard)."""
    return {
        re.split(r" \(|: \d+ Halo calls", text)[0]: (met, hard)
        for text, met, hard in targets(sizes, BenchConfig())[0]
    }


def test_clean_syncs_meet_every_target():
    checks, ok = targets([_size()], BenchConfig())
    assert ok is True
    assert all(met for _, met, _ in checks)
    assert [text for text, _, hard in checks if hard] == [
        "1: every sync succeeded with no failed item (all did)",
        "1: each sync verified or not as asked (all did)",
        "1: first sync: Halo holds what Dicker Data says (none off)",
        "1: unchanged re-sync wrote nothing to Halo (0 writes)",
        "1: 1% change: every change landed in Halo (none off)",
        "1: plain sync after hand drift wrote nothing to Halo (0 writes)",
        "1: verify corrected every hand edit (none off)",
        "1: plain sync after the verify wrote nothing (0 writes)",
        "1: plain sync after the verify undid nothing (none off)",
    ]


@pytest.mark.parametrize(
    ("sync", "target"),
    [
        (_sync("unchanged", 1, halo_calls=1, halo_minimum=0), "1: unchanged re-sync wrote nothing to Halo"),
        (_sync("drifted", 3, halo_calls=1, check={}), "1: plain sync after hand drift wrote nothing to Halo"),
        (_sync("settled", 2), "1: plain sync after the verify wrote nothing"),
        (_sync("settled", 0, check={"count": ["s9"]}), "1: plain sync after the verify undid nothing"),
        (_sync("changed", 8, check={"missing": ["n1"]}), "1: 1% change: every change landed in Halo"),
        (_sync("verify", 25, check={"wrong_client": ["s4"]}), "1: verify corrected every hand edit"),
        (_sync("first", 4, check={"missing": ["a"]}), "1: first sync: Halo holds what Dicker Data says"),
        (_sync("first", 4, items={"customer failed": 1}), "1: every sync succeeded with no failed item"),
        (_sync("verify", 4, status="partial"), "1: every sync succeeded with no failed item"),
        (_sync("verify", 4, verify=False), "1: each sync verified or not as asked"),
        (_sync("unchanged", 0, verify=True), "1: each sync verified or not as asked"),
    ],
)
def test_each_hard_miss_fails_the_bench(sync: SyncResult, target: str):
    size = _size(**{sync.kind: sync})
    verdicts = _verdicts([size])
    assert verdicts[target] == (False, True)
    assert targets([size], BenchConfig())[1] is False


def test_targets_give_each_verdict_and_only_hard_misses_fail_the_bench():
    heavy = JobReport("plan-subscriptions", PLAN, 5.0, 4.0, 300.0, halo_calls=250)
    big = _size(
        1000,
        first=_sync(
            "first", 900, halo_calls=250, halo_minimum=200, wall_seconds=90.0, halo_throttled=3, jobs=[heavy]
        ),
        unchanged=_sync("unchanged", 0, halo_calls=11, halo_minimum=0),
        changed=_sync("changed", 8, halo_calls=15, halo_minimum=2),
        drifted=_sync("drifted", 0, halo_calls=0, check={"count": ["s1"]}),
        verify=_sync("verify", 25, halo_calls=106, halo_minimum=100),
    )
    checks, ok = targets([big], BenchConfig())
    reported = [(text, met) for text, met, hard in checks if not hard]
    assert reported == [
        (
            "1,000: first sync within 5% of its minimum: 250 Halo calls, limit 210.0 = 1.05 x min (min 200)",
            False,
        ),
        (
            "1,000: first sync's wall time within 10% of what the pace allows (90.0 s against 60.0 s: 1.50x)",
            False,
        ),
        (
            "1,000: unchanged re-sync made at most 10 Halo calls: 11 Halo calls, limit 10.0 = <= 10 (min 0)",
            False,
        ),
        (
            "1,000: 1% change within 10% of its writes in batches + the unchanged cost: 15 Halo calls, "
            "limit 14.3 = 1.10 x (min + unchanged) (min 2)",
            False,
        ),
        ("1,000: plain sync after hand drift left it alone (count 1 off, as edited)", False),
        (
            "1,000: verify within 5% of the pages it must read + the writes it needs: 106 Halo calls, "
            "limit 105.0 = 1.05 x min (min 100)",
            False,
        ),
        (
            "1,000: first: longest job projected under 870 s at hosted Halo's pace "
            "(plan-subscriptions 329 s)",
            True,
        ),
        ("1,000: verify: longest job projected under 870 s at hosted Halo's pace (customers 3 s)", True),
        ("1,000: every job's peak RSS under 256 MB (max 300 MB, first)", False),
        ("Halo never answered 429: the app kept under the limit (3 answered 429)", False),
    ]
    assert ok is True  # every miss is a reported one


def test_targets_at_their_edges():
    at_edge = JobReport("customers", CUSTOMERS, 1.0, 0.5, 256.0, halo_calls=250)
    size = _size(
        5,
        # 250 calls at 250/min: a 60 s pace; 66 s is exactly 1.10x.
        first=_sync("first", 4, halo_calls=250, halo_minimum=239, wall_seconds=66.0, jobs=[at_edge]),
        unchanged=_sync("unchanged", 0, halo_calls=10, halo_minimum=0),
        changed=_sync("changed", 8, halo_calls=12, halo_minimum=1),  # 1.1 x (1 + 10)
        verify=_sync("verify", 25, halo_calls=106, halo_minimum=101),  # 101 x 1.05 = 106.05
    )
    verdicts = {text: met for text, (met, _) in _verdicts([size]).items()}
    assert verdicts["5: first sync within 5% of its minimum"] is True  # 250 / 239 = 1.046
    assert verdicts["5: first sync's wall time within 10% of what the pace allows"] is True
    assert verdicts["5: unchanged re-sync made at most 10 Halo calls"] is True
    assert verdicts["5: 1% change within 10% of its writes in batches + the unchanged cost"] is True
    assert verdicts["5: verify within 5% of the pages it must read + the writes it needs"] is True
    assert verdicts["5: every job's peak RSS under 256 MB"] is False  # 256 is not under 256
    assert targets([], BenchConfig()) == ([], True)


def test_a_size_that_ran_only_some_scenarios_is_judged_on_those():
    size = SizeResult(1, 3, 1, 512, [_sync("first", 4)], 80.0)
    assert size.sync("verify") is None
    with pytest.raises(KeyError):
        size.sync("nonsense")
    checks, ok = targets([size], BenchConfig())
    assert ok is True
    assert not any("verify corrected" in text for text, _, _ in checks)


def test_a_job_projected_to_aws_scales_its_cpu_and_waits_for_hosted_halo():
    job = JobReport(
        "apply-subscriptions",
        apply_chunk(0),
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
    # A plan job runs alone, so it takes the whole 50/min whatever the worker count.
    alone = dataclasses.replace(job, phase="plan-subscriptions", chunk=PLAN)
    assert alone.projected_seconds(512, 2) == pytest.approx(LAMBDA_MB_PER_VCPU / 512 + 21.0 + 60.0)
    assert JobReport("customers", CUSTOMERS, 1.0, 2.0, 0.0, limiter_wait=1.0).io_seconds == 0.0


def test_cost_of_a_sync_bills_every_invocation_and_the_event_source_s_sqs_requests():
    api = JobReport("api /sync", "", 0.5, 0.1, 0.0, aws={"sqs": 1, "wru": 2})
    worker = JobReport(
        "customers",
        CUSTOMERS,
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
        JobReport("api /sync", "", 9.0, 9.0, 0.0),  # not a worker job
        JobReport("customers", CUSTOMERS, 4.0, 1.0, 90.0),
        JobReport("plan-subscriptions", PLAN, 6.0, 1.0, 90.0),
        JobReport("apply-subscriptions", apply_chunk(2), 3.0, 1.0, 90.0),
        JobReport("apply-subscriptions", apply_chunk(3), 5.0, 1.0, 90.0),
    ]
    # At 1,769 MB a job's CPU is not scaled, and without calls its projection is its measured time.
    size = SizeResult(1, 3, 2, LAMBDA_MB_PER_VCPU, [_sync("first", 0)], 80.0)
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


SECTIONS = [
    (
        "Halo calls against the minimum",
        "customers | sync | verify | status | writes needed | Halo writes | Halo calls | minimum | ratio"
        " | limit | met | 429s | failed | Halo vs DD after",
    ),
    (
        "Time and memory",
        "customers | sync | DD calls | wall s | pace s | wall/pace | longest job | projected s"
        " | invocations | peak MB | < 256 MB",
    ),
    (
        "What each sync met and made",
        "customers | sync | done before it | minimum, part by part | Halo calls made | Halo vs DD after",
    ),
    ("How the cost grows: Halo calls and wall time per sync, against customers", "sync | 1: calls | wall s"),
    (
        "Jobs",
        "customers | sync | phase | jobs | total s | max s | CPU s | AWS SDK s | Halo calls | peak MB"
        " | max projected s",
    ),
    (
        "AWS per sync",
        "customers | sync | invocations | GB-s | GB-s real | DDB WRU | DDB RRU | SQS req | secret reads"
        " | $ | $ real",
    ),
    (
        "Real world: hosted Halo",
        "customers | sync | Halo calls | min at 50/min | projected min | longest job | projected s | < 900 s",
    ),
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
    first = _sync(
        "first",
        4,
        minimum_parts={"tokens": 2, "client_pages": 1, "licence_updates": 0, "total": 3},
        halo_by_endpoint={
            "GET /api/SoftwareLicence/7": 2,
            "GET /api/SoftwareLicence/9": 1,
            "POST /auth/token": 2,
        },
    )
    size = _size(first=dataclasses.replace(first, jobs=[*first.jobs, plan]))
    imports = [ImportTime("worker", 500.0, [("ddhalo", 100.0)])]
    package = PackageSize(2_500_000, 9_000_000, [("pydantic", 1_500_000)], {"worker": 300})
    text = report(BenchConfig(), [size], imports, package)
    assert _tables(text) == [
        *SECTIONS,
        (
            "The subscription plan job's memory at 1 customers, step by step",
            "customers | sync | after | RSS MB | peak MB",
        ),
        (
            "Where the subscription plan's memory is",
            "customers | sync | traced peak MB | moment | allocated at | MB",
        ),
        ("Cold import of each handler", "function | import ms | where it goes (ms)"),
    ]
    rows = [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()]
    assert ["1", "first", "planned", "80", "85"] in rows
    assert ["first", "4", "1.0"] in rows  # the growth table: calls and wall time per kind
    parts_row = next(line for line in text.splitlines() if "tokens 2, client pages 1" in line)
    assert "licence updates" not in parts_row  # parts of nothing are left out
    assert "GET SoftwareLicence/{id} 3, POST auth/token 2" in parts_row  # ids folded
    assert "count 1, active 1, missing 1, wrong_client 1, tenant_link 1" in text  # the drift, as edited
    assert "  layer: 2.5 MB zipped, 9.0 MB unzipped" in text
    assert text.endswith("  functions (zipped bytes): worker 300")


def test_the_report_leaves_out_what_was_not_measured():
    text = report(BenchConfig(), [_size()], None, None)
    assert _tables(text) == SECTIONS
    skipped = PackageSize(None, None, [], {"worker": 300}, note="skipped: offline")
    assert "  layer: skipped: offline" in report(BenchConfig(), [], None, skipped).splitlines()
