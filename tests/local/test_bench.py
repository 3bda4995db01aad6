"""`make bench` end to end at a tiny size, every scenario (its numbers must agree with each other and
with Halo's records), and its command line."""

from __future__ import annotations

import argparse
from collections import Counter

import pytest

from local.bench.__main__ import _sizes
from local.bench.config import KINDS, BenchConfig
from local.bench.costs import cost_of
from local.bench.imports import _top_imports
from local.bench.report import report
from local.bench.run import run_size
from local.bench.targets import targets
from local.bench.world import drift_as_mismatches


def test_sizes_are_positive_customer_counts():
    assert _sizes("100,1_000, 5000") == (100, 1000, 5000)
    for wrong in ("", "0,10", "ten"):
        with pytest.raises(argparse.ArgumentTypeError):
            _sizes(wrong)


def test_import_time_is_summed_per_top_level_package():
    stderr = "\n".join(
        [
            "import time: self [us] | cumulative | imported package",
            "import time:      1500 |       2000 |   botocore.client",
            "import time:       500 |       2500 | botocore",
            "import time:      3000 |       3000 |     ddhalo.store",
            "a warning line",
        ]
    )
    assert _top_imports(stderr) == [("ddhalo", 3.0), ("botocore", 2.0)]
    assert _top_imports(stderr, n=1) == [("ddhalo", 3.0)]


@pytest.mark.integration
def test_a_tiny_bench_measures_consistent_numbers():
    config = BenchConfig(
        sizes=(20,), subs_per_customer=3, latency=0.002, halo_requests_per_minute=6000, halo_limit=100_000
    )
    result = run_size(20, config)
    assert [s.kind for s in result.syncs] == list(KINDS)
    first, again = result.first, result.sync("unchanged")
    assert again is not None

    for sync in result.syncs:
        assert sync.status == "succeeded", sync.kind
        assert sync.failed == 0
        assert sync.halo_calls >= sync.halo_minimum
        assert sync.halo_calls == sync.halo_calls_by_app  # the fake and the run agree
        assert sync.halo_throttled == 0
        assert sync.dicker_data_calls >= 3  # the access key, GetTenant, GetSubscriptionDetails
        worker = [j for j in sync.jobs if j.chunk]
        assert all(j.peak_rss_mb > 0 and j.halo_calls is not None for j in worker)
        assert sum(j.halo_calls or 0 for j in worker) == sync.halo_calls
        assert sync.verify is (sync.kind in ("first", "verify"))
    assert first.items["subscription created"] == 60
    assert first.items.get("customer created", 0) + first.items.get("customer updated", 0) == 20
    assert first.halo_writes == 80  # 18 new clients, 2 tenant links, 60 licences
    assert first.halo_calls == first.halo_minimum  # add-ons after their bases: 2 licence POSTs
    assert Counter(j.phase for j in first.jobs if j.chunk) == {
        "customers": 1,
        "plan-subscriptions": 1,
        "apply-subscriptions": 1,
    }
    api_sync = first.jobs[0]  # POST /sync, metered in the bench's own process
    assert api_sync.phase == "api /sync"
    assert api_sync.aws.get("sqs:SendMessage") == 1
    assert again.halo_writes == again.halo_calls == 0  # a plain sync of nothing: no Halo call at all
    assert again.items == {"customer unchanged": 20, "subscription unchanged": 60}

    # 1% of 60 subscriptions: one of each change, landed in Halo in one create and one update POST.
    assert {kind: len(ids) for kind, ids in result.change.items()} == dict.fromkeys(
        ("quantity", "cancelled", "new", "vanished"), 1
    )
    changed = result.sync("changed")
    assert changed is not None
    assert changed.halo_writes == 4
    assert changed.halo_calls == changed.halo_minimum == 2
    assert changed.mismatches == 0

    # Hand drift: left alone by a plain sync, corrected by the verify, not undone after it.
    drifted, verify, settled = (result.sync(k) for k in ("drifted", "verify", "settled"))
    assert drifted is not None and verify is not None and settled is not None
    assert drifted.halo_writes == drifted.halo_calls == 0
    assert {k: v for k, v in drifted.check.items() if v} == {
        k: v for k, v in drift_as_mismatches(result.drift).items() if v
    }
    assert verify.mismatches == 0
    assert verify.halo_writes == 25  # 5 tenant links, 5 re-created, 15 licences patched
    assert verify.minimum_parts["licence_lookups"] == 5  # each deleted licence looked for by its id
    assert verify.halo_calls == verify.halo_minimum
    assert settled.halo_writes == settled.mismatches == 0

    cost = cost_of(first, result.worker_memory_mb, result.workers)
    assert cost.wru > 0 and cost.gb_seconds > 0 and cost.dollars > 0
    checks, ok = targets([result], config)
    assert ok is True, [text for text, met, hard in checks if hard and not met]
    text = report(config, [result], None, None)
    assert "How the cost grows" in text
    assert "5 counts, 5 inactive, 5 deleted, 5 moved, 5 tenant links removed" in text
