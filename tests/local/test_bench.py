"""`make bench`'s arithmetic, and a tiny end-to-end bench whose numbers must agree with each other."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from ddhalo.errors import ConflictError
from ddhalo.models import Mapping, Run, RunItem, SubscriptionLink
from ddhalo.store import Store
from local.bench import (
    BenchConfig,
    JobReport,
    SizeResult,
    SyncResult,
    capacity,
    cheap_moto,
    cost_of,
    minimum_halo_calls,
    report,
    run_size,
    sliding_window_seconds,
    targets,
)


def test_minimum_is_paged_reads_full_batches_and_a_token_per_cold_container():
    parts = minimum_halo_calls(
        clients_before=1500,
        licences_before=0,
        items={"customer created": 250, "subscription created": 2001, "subscription updated": 5},
        client_patches=3,
        site_patches=0,
        sites_read=None,
        cold_containers=2,
    )
    assert parts == {
        "tokens": 2,  # one per worker container
        "client_pages": 15,  # 1,500 clients in Halo's pages of 100
        "site_pages": 0,
        "licence_pages": 1,  # an empty list still costs one request
        "client_creates": 3,
        "client_updates": 1,
        "site_updates": 0,
        "licence_creates": 21,
        "licence_updates": 1,
        "total": 44,
    }


def test_sliding_window_lets_a_burst_through_then_waits_whole_windows():
    assert sliding_window_seconds(0, 25, 60) == 0
    assert sliding_window_seconds(25, 25, 60) == 0
    assert sliding_window_seconds(26, 25, 60) == 60
    assert sliding_window_seconds(600, 25, 60) == 23 * 60


def test_capacity_follows_dynamodb_on_demand_rules():
    small, big = {"pk": "A", "sk": "B"}, {"pk": "A", "sk": "B", "blob": "x" * 1500}
    assert capacity("dynamodb", "PutItem", {"Item": big}, {})["wru"] == 2
    transaction = {"TransactItems": [{"Put": {"Item": small}}, {"Update": {"Key": small}}]}
    assert capacity("dynamodb", "TransactWriteItems", transaction, {})["wru"] == 4
    page = {"Items": [{"pk": "x" * 1000} for _ in range(10)]}  # ~10 KB
    assert capacity("dynamodb", "Query", {"ConsistentRead": True}, page)["rru"] == 3
    assert capacity("dynamodb", "Query", {}, page)["rru"] == 2
    assert capacity("sqs", "SendMessage", {"MessageBody": "{}"}, {})["sqs"] == 1


def _store_story() -> dict[str, Any]:
    """What the store answers for paging, one-to-one mappings, counted-once chunks and links."""
    from local.template import load_template

    (table,) = load_template(Path(__file__).resolve().parents[2] / "template.yaml").tables
    keys = {k: table.properties[k] for k in ("KeySchema", "AttributeDefinitions", "GlobalSecondaryIndexes")}
    with mock_aws():
        boto3.client("dynamodb").create_table(TableName="bench", BillingMode="PAY_PER_REQUEST", **keys)
        store = Store("bench")
        conflicts = 0
        for n in range(5):
            store.put_mapping(Mapping(dicker_customer_id=f"c{n}", halo_client_id=n, source="manual"))
        for customer, client in (("c1", 99), ("c9", 2)):
            try:
                store.put_mapping(
                    Mapping(dicker_customer_id=customer, halo_client_id=client, source="manual")
                )
            except ConflictError:
                conflicts += 1
        store.create_run(Run(run_id="r1", kind="sync"))
        items = [RunItem(type="subscription", dicker_id=f"s{n:02d}", result="created") for n in range(23)]
        recorded = [store.record_chunk("r1", 0, items), store.record_chunk("r1", 0, items)]
        store.put_links(
            SubscriptionLink(
                dicker_customer_id=f"c{n % 3}", subscription_id=f"s{n}", halo_licence_id=n, content_hash="h"
            )
            for n in range(40)
        )
        pages, token = [], None
        while True:
            page, token = store.list_items("r1", limit=7, next_token=token)
            pages.append([i.dicker_id for i in page])
            if not token:
                break
        run = store.get_run("r1")
        assert run is not None
        return {
            "mappings": [(m.dicker_customer_id, m.halo_client_id) for m in store.list_mappings(page_size=2)],
            "conflicts": conflicts,
            "recorded": recorded,
            "counts": run.counts.model_dump(),
            "chunks_done": run.chunks_done,
            "pages": pages,
            "links": [(lk.dicker_customer_id, lk.subscription_id) for lk in store.list_links()],
            "links_c1": [lk.subscription_id for lk in store.list_links("c1")],
        }


def test_the_cheaper_moto_answers_exactly_as_moto_does():
    plain = _store_story()
    with cheap_moto():
        cheap = _store_story()
    assert cheap == plain
    assert plain["conflicts"] == 2
    assert plain["recorded"] == [True, False]
    assert plain["counts"]["created"] == 23  # the second record_chunk added nothing
    assert [len(p) for p in plain["pages"]] == [7, 7, 7, 2]
    assert _store_story() == plain  # and moto is itself again afterwards


def _sync(label: str, writes: int, status: str = "succeeded") -> SyncResult:
    return SyncResult(
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


def test_a_write_on_the_unchanged_resync_is_a_hard_miss():
    def size(resync_writes: int) -> SizeResult:
        return SizeResult(1, 3, 1, 512, _sync("first", 4), _sync("again", resync_writes), 80.0)

    assert targets([size(0)], BenchConfig())[1] is True
    checks, ok = targets([size(1)], BenchConfig())
    assert ok is False
    assert any("wrote nothing" in text and not met and hard for text, met, hard in checks)


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
        assert sync.halo_calls >= sync.halo_minimum > 0
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
    assert again.halo_calls == again.halo_minimum  # a re-sync is exactly its paged reads
    cost = cost_of(first, result.worker_memory_mb, result.workers)
    assert cost.wru > 0 and cost.gb_seconds > 0 and cost.dollars > 0
    assert targets([result], config)[1] is True
    assert "Unchanged re-sync" in report(config, [result], None, None)
