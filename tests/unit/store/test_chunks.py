import json
import random
import time
import zlib

from boto3.dynamodb.conditions import Key

from ddhalo.models import Run, RunItem
from ddhalo.store import chunks
from tests.unit.builders import chunk


def item(i: int, result: str = "created") -> RunItem:
    return RunItem(type="customer", dicker_id=f"t{i}", result=result)


def payload_parts(store, run_id: str) -> list[dict]:
    return store.table.query(
        KeyConditionExpression=Key("pk").eq(f"RUN#{run_id}") & Key("sk").begins_with("PAYLOAD#")
    )["Items"]


def compressed_size(payload) -> int:
    return len(zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 6))


def test_a_chunk_is_counted_once_even_when_recorded_twice(store):
    store.create_run(Run(run_id="r1", kind="customers", chunks_total=2))
    items = [item(1), item(2, "failed"), item(3, "unchanged")]
    assert store.record_chunk("r1", chunk(0), items, {"halo_calls": 5}) is True
    assert store.record_chunk("r1", chunk(0), items, {"halo_calls": 5}) is False
    run = store.get_run("r1")
    assert run.counts.model_dump() == {"created": 1, "updated": 0, "unchanged": 1, "skipped": 0, "failed": 1}
    assert run.chunks_done == 1 and run.halo_calls == 5
    listed, token = store.list_items("r1")
    assert len(listed) == 3 and token is None


def test_chunks_add_up_and_a_chunk_is_recorded_only_once_recorded(store):
    store.create_run(Run(run_id="r1", kind="customers", chunks_total=2))
    assert store.chunk_recorded("r1", chunk(0)) is False
    store.record_chunk("r1", chunk(0), [item(1)], {"halo_calls": 2, "dicker_data_calls": 1})
    store.record_chunk("r1", chunk(1), [item(2, "updated")], {"halo_calls": 3})
    assert (
        store.chunk_recorded("r1", chunk(0)),
        store.chunk_recorded("r1", chunk(1)),
        store.chunk_recorded("r1", chunk(2)),
    ) == (
        True,
        True,
        False,
    )
    run = store.get_run("r1")
    assert (run.counts.created, run.counts.updated, run.chunks_done) == (1, 1, 2)
    assert (run.halo_calls, run.dicker_data_calls) == (5, 1)


def test_spawned_chunks_are_announced_once_per_spawning_chunk(store):
    store.create_run(Run(run_id="r1", kind="sync", chunks_total=1))
    assert store.spawn("r1", chunk(0), 3) == 3
    assert store.spawn("r1", chunk(0), 5) == 3  # a retry gets the first announcement's count
    assert store.spawn("r1", chunk(1), 2) == 2
    assert store.get_run("r1").chunks_total == 6


def test_a_chunk_starts_once(store):
    assert store.mark_started("r1", chunk(4)) is True
    assert store.mark_started("r1", chunk(4)) is False
    assert store.mark_started("r1", chunk(5)) is True


def test_everything_a_run_writes_expires_after_the_retention(store):
    """Every sync writes its items: without a TTL the table would only grow."""
    store.run_retention_days = 30
    store.create_run(Run(run_id="r1", kind="sync", chunks_total=2))
    store.record_chunk("r1", chunk(0), [item(1), item(2)])
    store.spawn("r1", chunk(0), 1)
    store.mark_started("r1", chunk(1000))
    store.put_payload("r1", chunk(1000), [{"a": 1}])
    written = store.table.query(KeyConditionExpression=Key("pk").eq("RUN#r1"))["Items"]
    assert {i["sk"].split("#")[0] for i in written} == {"RUN", "ITEMS", "CHUNK", "SPAWN", "START", "PAYLOAD"}
    in_30_days = time.time() + 30 * 86_400
    assert all(abs(int(i["expires_at"]) - in_30_days) < 60 for i in written), written


def test_a_payload_larger_than_an_item_is_kept_in_parts(store):
    rng = random.Random(7)
    big = {
        "rows": ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=64)) for _ in range(20_000)]
    }
    store.put_payload("r1", chunk(2), big)  # ~1.3 MB of JSON, ~800 KB compressed: three items
    parts = payload_parts(store, "r1")
    assert len(parts) >= 2
    assert len(parts) == -(-compressed_size(big) // chunks.PAYLOAD_PART_BYTES)
    assert store.get_payload("r1", chunk(2)) == big
    store.put_payload("r1", chunk(2), {"small": True})  # a smaller one replaces it
    assert store.get_payload("r1", chunk(2)) == {"small": True}


def test_a_payload_is_cut_at_the_part_size_and_its_first_part_counts_them(store, monkeypatch):
    monkeypatch.setattr(chunks, "PAYLOAD_PART_BYTES", 100)
    payload = {"rows": [f"row {i}" for i in range(200)]}
    size = compressed_size(payload)
    store.put_payload("r1", chunk(7), payload)
    parts = {i["sk"]: i for i in payload_parts(store, "r1")}
    count = -(-size // 100)
    assert count >= 3
    in_order = [f"PAYLOAD#{chunk(7)}"] + [f"PAYLOAD#{chunk(7)}#{n}" for n in range(1, count)]
    assert sorted(parts) == sorted(in_order)
    assert int(parts[f"PAYLOAD#{chunk(7)}"]["parts"]) == count
    assert all("parts" not in parts[sk] for sk in in_order[1:])
    sizes = [len(bytes(parts[sk]["data"])) for sk in in_order]
    assert sizes[:-1] == [100] * (count - 1) and sum(sizes) == size
    assert store.get_payload("r1", chunk(7)) == payload


def test_a_missing_payload_is_none(store):
    assert store.get_payload("r1", chunk(0)) is None


def counts(store, run_id: str = "r1") -> dict[str, int]:
    return store.get_run(run_id).counts.model_dump()


def test_live_counts_move_per_batch_and_give_way_to_the_chunks_items(store):
    store.create_run(Run(run_id="r1", kind="subscriptions", chunks_total=2))
    store.set_phase("r1", "writing subscriptions", total=300)
    assert store.start_live("r1", chunk(1000)) and store.start_live("r1", chunk(1001))
    store.add_progress("r1", 100, chunk(1000), created=100, updated=0)
    store.add_progress("r1", 100, chunk(1001), created=60, updated=40)
    assert counts(store) == {"created": 160, "updated": 40, "unchanged": 0, "skipped": 0, "failed": 0}
    assert store.get_run("r1").progress.done == 200
    # the chunk's items replace what its batches said: 100 created and one failure, no double count
    store.record_chunk("r1", chunk(1000), [item(i) for i in range(100)] + [item(100, "failed")], live=True)
    assert counts(store) == {"created": 160, "updated": 40, "unchanged": 0, "skipped": 0, "failed": 1}
    assert "live" not in store.get_run("r1").model_dump()


def test_a_retried_chunk_starts_its_live_counts_again(store):
    store.create_run(Run(run_id="r1", kind="subscriptions"))
    store.start_live("r1", chunk(1000))
    store.add_progress("r1", 100, chunk(1000), created=100, updated=0)  # then the invocation died
    store.start_live("r1", chunk(1000))  # the retry
    store.add_progress("r1", 100, chunk(1000), created=0, updated=100)  # it finds them and updates
    assert counts(store) == {"created": 0, "updated": 100, "unchanged": 0, "skipped": 0, "failed": 0}


def test_a_run_stored_before_live_counts_moves_per_chunk(store):
    store.create_run(Run(run_id="r1", kind="subscriptions"))
    store.table.update_item(Key={"pk": "RUN#r1", "sk": "RUN"}, UpdateExpression="REMOVE live")
    assert store.start_live("r1", chunk(1000)) is False
    store.add_progress("r1", 100, None, created=100, updated=0)
    assert counts(store)["created"] == 0
    store.record_chunk("r1", chunk(1000), [item(1)])
    assert counts(store)["created"] == 1


def stored_rows(store, run_id: str) -> list[dict]:
    return store.table.query(
        KeyConditionExpression=Key("pk").eq(f"RUN#{run_id}") & Key("sk").begins_with("ITEM")
    )["Items"]


def stored_items(store, run_id: str) -> list[str]:
    return [r["sk"] for r in stored_rows(store, run_id)]


def test_a_chunks_items_are_packed_a_thousand_to_a_dynamodb_item(store):
    """A sync reports on every record: one write each would cost a write (and a round trip per 25)
    per record, every hour for unchanged ones and once each on the first sync."""
    store.create_run(Run(run_id="r1", kind="sync", chunks_total=1))
    items = [item(i, "unchanged") for i in range(1500)] + [item(i) for i in range(9000, 10_000)]
    items.insert(700, item(8000, "failed"))
    store.record_chunk("r1", chunk(1), items)
    assert stored_items(store, "r1") == [
        f"ITEMS#{chunk(1)}#0000",
        f"ITEMS#{chunk(1)}#0001",
        f"ITEMS#{chunk(1)}#0002",
    ]
    assert [r["results"] for r in stored_rows(store, "r1")] == [
        {"unchanged", "failed"},
        {"unchanged", "created"},
        {"created"},
    ]
    assert [int(r["count"]) for r in stored_rows(store, "r1")] == [1000, 1000, 501]
    assert store.get_run("r1").counts.model_dump() == {
        "created": 1000, "updated": 0, "unchanged": 1500, "skipped": 0, "failed": 1
    }  # fmt: skip
    assert store.list_items("r1", limit=5000)[0] == items


def test_a_pack_too_big_for_a_dynamodb_item_is_halved_until_it_fits(store, monkeypatch):
    monkeypatch.setattr("ddhalo.models.PACK_MAX_BYTES", 4096)
    store.create_run(Run(run_id="r1", kind="sync", chunks_total=1))
    noise = random.Random(3)
    items = [
        RunItem(type="subscription", dicker_id=f"s{i}", result="failed", reason=noise.randbytes(300).hex())
        for i in range(40)
    ]
    store.record_chunk("r1", chunk(1), items)
    rows = stored_rows(store, "r1")
    assert [int(r["count"]) for r in rows] == [10, 10, 10, 10]  # about 12 KB: 40, 20, then 10 fit
    assert all(len(bytes(r["packed"])) <= 4096 for r in rows)
    assert store.list_items("r1")[0] == items


def test_a_retried_chunk_with_fewer_items_leaves_no_stale_pack(store):
    store.create_run(Run(run_id="r1", kind="sync", chunks_total=1))
    store.record_chunk("r1", chunk(1), [item(i, "unchanged") for i in range(2100)])
    store.record_chunk("r1", chunk(1), [item(i, "unchanged") for i in range(900)] + [item(5000)])
    store.record_chunk("r1", chunk(2), [item(i, "unchanged") for i in range(6000, 6010)])
    assert stored_items(store, "r1") == [f"ITEMS#{chunk(1)}#0000", f"ITEMS#{chunk(2)}#0000"]
    assert len(store.list_items("r1")[0]) == 911


def test_a_retried_chunk_whose_failure_became_a_create_reports_only_the_create(store):
    """Items are kept per chunk, not per record: a retry's outcome replaces the first attempt's."""
    store.create_run(Run(run_id="r1", kind="sync", chunks_total=1))
    store.record_chunk("r1", chunk(1), [item(1, "failed"), item(2)])
    store.record_chunk("r1", chunk(1), [item(1), item(2)])
    listed = [(i.dicker_id, i.result) for i in store.list_items("r1")[0]]
    assert listed == [("t1", "created"), ("t2", "created")]
    assert list(store.iter_items("r1", ("failed",))) == []


def test_items_already_packed_are_stored_and_counted_as_they_are(store):
    """A plan job packs its unchanged items as it makes them (PackedItems), rows beside them."""
    from ddhalo.models import PackedItems

    store.create_run(Run(run_id="r1", kind="sync", chunks_total=1))
    packed = [*PackedItems.pack([item(i, "unchanged") for i in range(600)])]
    packed += PackedItems.pack([item(i, "unchanged") for i in range(600, 1200)])
    store.record_chunk("r1", chunk(1), [item(5000), *packed, item(5001, "unchanged")])
    assert stored_items(store, "r1") == [
        f"ITEMS#{chunk(1)}#0000",
        f"ITEMS#{chunk(1)}#0001",
        f"ITEMS#{chunk(1)}#0002",
    ]
    assert store.get_run("r1").counts.model_dump() == {
        "created": 1, "updated": 0, "unchanged": 1201, "skipped": 0, "failed": 0
    }  # fmt: skip
    listed = store.list_items("r1", limit=5000)[0]
    assert sorted(int(i.dicker_id[1:]) for i in listed) == [*range(1200), 5000, 5001]
