"""`make bench` end to end at a tiny size (its numbers must agree with each other), and its command line."""

from __future__ import annotations

import argparse
from collections import Counter

import pytest

from local.bench.__main__ import _sizes
from local.bench.config import BenchConfig
from local.bench.costs import cost_of
from local.bench.imports import _top_imports
from local.bench.report import report, targets
from local.bench.run import run_size


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
    first, again = result.first, result.resync

    for sync in (first, again):
        assert sync.status == "succeeded"
        assert sync.failed == 0
        assert sync.halo_calls >= sync.halo_minimum
        assert sync.halo_calls == sync.halo_calls_by_app  # the fake and the run agree
        assert sync.halo_throttled == 0
        assert sync.dicker_data_calls >= 3  # the access key, GetTenant, GetSubscriptionDetails
        worker = [j for j in sync.jobs if j.chunk >= 0]
        assert all(j.peak_rss_mb > 0 and j.halo_calls is not None for j in worker)
        assert sum(j.halo_calls or 0 for j in worker) == sync.halo_calls
    assert first.items["subscription created"] == 60
    assert first.items.get("customer created", 0) + first.items.get("customer updated", 0) == 20
    assert first.halo_writes >= 78  # 18 new clients and 60 licences, at least
    assert Counter(j.phase for j in first.jobs if j.chunk >= 0) == {
        "customers": 1,
        "plan-subscriptions": 1,
        "apply-subscriptions": 1,
    }
    api_sync = first.jobs[0]  # POST /sync, metered in the bench's own process
    assert api_sync.phase == "api /sync"
    assert api_sync.aws.get("sqs:SendMessage") == 1
    assert again.halo_writes == 0
    assert again.items == {"customer unchanged": 20, "subscription unchanged": 60}
    assert first.halo_minimum > 0
    # an unchanged plain re-sync needs nothing of Halo, and asks nothing
    assert again.halo_calls == again.halo_minimum == 0
    cost = cost_of(first, result.worker_memory_mb, result.workers)
    assert cost.wru > 0 and cost.gb_seconds > 0 and cost.dollars > 0
    assert targets([result], config)[1] is True
    assert "Unchanged re-sync" in report(config, [result], None, None)
