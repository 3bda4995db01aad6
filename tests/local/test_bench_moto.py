"""The cheaper moto the bench runs on answers exactly as moto does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
from moto import mock_aws

from ddhalo.errors import ConflictError
from ddhalo.models import Mapping, Run, RunItem, SubscriptionLink
from ddhalo.store import Store
from local.patches.moto import slow_down, sped_up, speed_up
from tests.unit.builders import chunk


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
        recorded = [store.record_chunk("r1", chunk(0), items), store.record_chunk("r1", chunk(0), items)]
        unchanged = [
            RunItem(type="subscription", dicker_id=f"u{n:04d}", result="unchanged") for n in range(1010)
        ]
        store.record_chunk("r1", chunk(1), unchanged)
        store.record_chunk("r1", chunk(1), unchanged[:1005])  # a retry with fewer: its stale pack goes
        store.put_links(
            SubscriptionLink(
                dicker_customer_id=f"c{n % 3}", subscription_id=f"s{n}", halo_licence_id=n, content_hash="h"
            )
            for n in range(40)
        )
        pages, token = [], None
        while True:
            page, token = store.list_items("r1", limit=300, next_token=token)
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
    was = sped_up()
    slow_down()
    try:
        plain = _store_story()
        speed_up()
        cheap = _store_story()
    finally:
        (speed_up if was else slow_down)()
    assert cheap == plain
    assert plain["conflicts"] == 2
    assert plain["recorded"] == [True, False]
    assert plain["counts"]["created"] == 23  # the second record_chunk added nothing
    assert [len(p) for p in plain["pages"]] == [300, 300, 300, 128]  # 23 rows, then 1,005 packed
    assert _store_story() == plain  # and moto is as it was afterwards
