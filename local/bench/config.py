"""The bench's configuration (BenchConfig), its AWS list prices and the projection's assumptions."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_ID = "123456789012"  # moto's default account, as local.aws uses
WORKER_FUNCTION = "WorkerFunction"
SYNC_FUNCTION = "SyncFunction"
FINISHED = frozenset({"succeeded", "partial", "failed"})

# Public list prices (us-east-1, 2025): Lambda arm64, DynamoDB on demand, SQS standard, Secrets Manager.
LAMBDA_GB_SECOND_ARM = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1e6
DYNAMODB_WRITE_UNIT = 0.625 / 1e6
DYNAMODB_READ_UNIT = 0.125 / 1e6
SQS_REQUEST = 0.40 / 1e6
SECRETS_API_CALL = 0.05 / 10_000
# Lambda gives a function CPU in proportion to memory: one vCPU at 1,769 MB.
LAMBDA_MB_PER_VCPU = 1769
LAMBDA_TIMEOUT_SECONDS = 900
# Hosted Halo allows 300 requests per rolling 5 minutes; the template's default pacing is 50/min.
REAL_HALO_PER_MINUTE = 50
# An assumed round trip to hosted Halo and to Dicker Data in AWS (the bench's fakes use --latency).
REAL_LATENCY = 0.3


@dataclass(frozen=True)
class Scenario:
    """One sync of a size's sequence: its kind, how it is asked for, whether it must verify."""

    kind: str
    label: str
    body: dict[str, bool]
    verify: bool


# Each size runs these in order, on the state the one before left.
SCENARIOS = (
    Scenario("first", "first sync", {}, True),  # none ever finished: POST /sync {} verifies
    Scenario("unchanged", "unchanged re-sync", {"verify": False}, False),
    Scenario("changed", "1% changed", {"verify": False}, False),  # Dicker Data changed first
    Scenario("drifted", "plain after drift", {"verify": False}, False),  # Halo edited by hand first
    Scenario("verify", "verify after drift", {"verify": True}, True),
    Scenario("settled", "plain after verify", {"verify": False}, False),
)
KINDS = tuple(s.kind for s in SCENARIOS)

# The targets (hard ones fail the bench: see report.targets).
FIRST_CALLS_SLACK = 1.05  # first sync: Halo calls within 5% of its minimum
FIRST_WALL_SLACK = 1.10  # first sync: wall time within 10% of what the pace allows
UNCHANGED_MAX_CALLS = 10  # an unchanged plain sync, tokens included
CHANGED_CALLS_SLACK = 1.10  # a plain sync of a 1% change: of (its writes in batches + the unchanged cost)
VERIFY_CALLS_SLACK = 1.05  # a verify: of (the pages it must read + the writes it needs)
PEAK_RSS_MB = 256  # every job, every sync
# A worker job stops this long before Lambda's timeout (ddhalo.deadline: 30 s, at most a tenth).
DEADLINE_RESERVE_SECONDS = 30


@dataclass(frozen=True)
class BenchConfig:
    """One bench: the sizes and the (time-compressed) world they run in.

    The defaults compress time 5x: Halo's fake allows 300 calls per 60 s (hosted Halo: 300 per
    5 minutes) and the app paces at 250/min (the template's default 50/min, x5).
    """

    sizes: tuple[int, ...] = (100, 1000, 5000)
    subs_per_customer: int = 10
    latency: float = 0.05
    halo_limit: int = 300  # the fake's 429 threshold per `halo_window` seconds
    halo_window: float = 60.0
    halo_requests_per_minute: int = 250  # the app's pacing setting
    matched_share: float = 0.1  # customers already in Halo under the same name
    workers: int | None = None  # None: the template's WorkerConcurrency
    seed: int = 7
    change_share: float = 0.01  # of the subscriptions, changed in Dicker Data before "changed"
    drift_per_kind: int = 5  # hand edits of each kind in Halo before "drifted"
    drift_bases: bool = False  # one of the deleted licences a base of add-ons (a known product gap)
    trace_memory: bool = False  # tracemalloc in the workers: slower, shows where the plan's memory is
    syncs: int = 6  # of SCENARIOS, the first this many (fewer: a quicker look at the first syncs)
    run_timeout: float = 1800.0
    poll_seconds: float = 0.25


def function_dirs() -> list[Path]:
    """Each function's code directory (one with an ``app.py``), in name order."""
    return sorted(p for p in (ROOT / "functions").iterdir() if (p / "app.py").is_file())
