import pytest

from ddhalo.errors import ConflictError, InputError, NotFoundError
from ddhalo.models import Mapping, Run, RunItem
from ddhalo.settings import Settings


def mapping(dd: str, halo: int, source: str = "manual") -> Mapping:
    return Mapping(dicker_customer_id=dd, halo_client_id=halo, source=source)


def test_settings_round_trip_and_default(store):
    assert store.get_settings() == Settings()
    store.put_settings(Settings(region="NZ", top_level_id=4))
    assert store.get_settings().region == "NZ" and store.get_settings().top_level_id == 4


def test_mappings_are_one_to_one(store):
    store.put_mapping(mapping("t1", 10))
    with pytest.raises(ConflictError, match="already mapped"):
        store.put_mapping(mapping("t1", 11))
    with pytest.raises(ConflictError, match="Halo client 10"):
        store.put_mapping(mapping("t2", 10))
    assert [(m.dicker_customer_id, m.halo_client_id) for m in store.list_mappings()] == [("t1", 10)]


def test_deleting_a_mapping_frees_both_sides(store):
    store.put_mapping(mapping("t1", 10))
    assert store.delete_mapping("t1").halo_client_id == 10
    store.put_mapping(mapping("t2", 10))
    assert store.get_mapping("t1") is None
    with pytest.raises(NotFoundError):
        store.delete_mapping("t1")


def test_many_mappings_are_listed_past_one_page(store):
    for i in range(30):
        store.put_mapping(mapping(f"t{i:05}", i + 1))
    assert len(store.list_mappings(page_size=7)) == 30


def item(i: int, result: str = "created") -> RunItem:
    return RunItem(type="customer", dicker_id=f"t{i}", result=result)


def test_a_chunk_is_counted_once_even_when_recorded_twice(store):
    store.create_run(Run(run_id="r1", kind="customers", chunks_total=2))
    items = [item(1), item(2, "failed"), item(3, "unchanged")]
    assert store.record_chunk("r1", 0, items, {"halo_calls": 5}) is True
    assert store.record_chunk("r1", 0, items, {"halo_calls": 5}) is False
    run = store.get_run("r1")
    assert run.counts.model_dump() == {"created": 1, "updated": 0, "unchanged": 1, "skipped": 0, "failed": 1}
    assert run.chunks_done == 1 and run.halo_calls == 5
    listed, token = store.list_items("r1")
    assert len(listed) == 3 and token is None


def test_everything_a_run_writes_expires_after_the_retention(store):
    """Every sync writes an item per record: without a TTL the table would only grow."""
    import time

    from boto3.dynamodb.conditions import Key

    store.run_retention_days = 30
    store.create_run(Run(run_id="r1", kind="sync", chunks_total=2))
    store.record_chunk("r1", 0, [item(1), item(2)])
    store.spawn("r1", 0, 1)
    store.mark_started("r1", 1000)
    store.put_payload("r1", 1000, [{"a": 1}])
    written = store.table.query(KeyConditionExpression=Key("pk").eq("RUN#r1"))["Items"]
    assert {i["sk"].split("#")[0] for i in written} == {"RUN", "ITEM", "CHUNK", "SPAWN", "START", "PAYLOAD"}
    in_30_days = time.time() + 30 * 86_400
    assert all(abs(int(i["expires_at"]) - in_30_days) < 60 for i in written), written


def test_run_items_page_with_a_token(store):
    store.create_run(Run(run_id="r1", kind="customers"))
    store.record_chunk("r1", 0, [item(i) for i in range(25)])
    first, token = store.list_items("r1", limit=10)
    second, token2 = store.list_items("r1", limit=10, next_token=token)
    third, token3 = store.list_items("r1", limit=10, next_token=token2)
    ids = [i.dicker_id for i in first + second + third]
    assert len(ids) == 25 == len(set(ids))
    assert token3 is None or store.list_items("r1", next_token=token3)[0] == []


def test_customers_without_id_do_not_overwrite_each_other(store):
    store.create_run(Run(run_id="r1", kind="customers"))
    items = [
        RunItem(type="customer", dicker_id="", name=name, result="skipped", reason="no tenant")
        for name in ("A", "B")
    ]
    store.record_chunk("r1", 0, items)
    assert len(store.list_items("r1")[0]) == 2


def test_runs_are_listed_newest_first_with_paging(store):
    for i in range(5):
        store.create_run(Run(run_id=f"r{i}", kind="customers", started_at=f"2026-01-0{i + 1}T00:00:00Z"))
    page, token = store.list_runs(limit=3)
    rest, _ = store.list_runs(limit=3, next_token=token)
    assert [r.run_id for r in page + rest] == ["r4", "r3", "r2", "r1", "r0"]


def test_a_forged_token_is_a_4xx(store):
    with pytest.raises(InputError):
        store.list_runs(next_token="not-base64!")


def test_status_moves_only_from_allowed_states(store):
    store.create_run(Run(run_id="r1", kind="customers"))
    assert store.set_run_status("r1", "succeeded", only_if=("running",)) is False
    assert store.set_run_status("r1", "running", only_if=("queued",)) is True
    assert store.set_run_status("r1", "partial", only_if=("running",)) is True
    run = store.get_run("r1")
    assert run.status == "partial" and run.finished_at


def test_links_round_trip_and_links_stored_with_a_fields_map_still_read(store):
    from ddhalo.models import SubscriptionLink, compact_json

    link = SubscriptionLink("t1", "s1", 5, "h", compact_json({"count": 3, "parent_id": None}))
    store.put_links([link])
    assert store.list_links("t1") == [link]
    # Links written before fields_json kept `fields` as a DynamoDB map.
    store.table.put_item(
        Item={
            "pk": "SUBLINK",
            "sk": "t1#s2",
            "dicker_customer_id": "t1",
            "subscription_id": "s2",
            "halo_licence_id": 6,
            "content_hash": "h2",
            "fields": {"count": 4},
            "updated_at": "x",
        }
    )
    old = {lk.subscription_id: lk for lk in store.list_links("t1")}["s2"]
    assert old.fields == {"count": 4} and old.halo_licence_id == 6


def test_links_can_be_listed_without_what_they_wrote(store):
    from ddhalo.models import SubscriptionLink, compact_json

    store.put_links([SubscriptionLink("t1", "s1", 5, "h", compact_json({"count": 3}))])
    (light,) = store.list_links(with_fields=False)
    assert (light.halo_licence_id, light.content_hash, light.fields_json) == (5, "h", None)
    assert light.fields is None  # not read: the plan asks for them as a value
    assert store.list_links("t1")[0].fields == {"count": 3}


def test_a_lock_is_one_owners_until_it_expires(store):
    assert store.acquire_lock("HALO", "run-a", 60, now=1000, kind="sync") is None
    first = store.get_lock("HALO")
    assert store.acquire_lock("HALO", "run-b", 60, now=1030) == "run-a"
    assert store.acquire_lock("HALO", "run-a", 60, now=1050) is None  # extended by its owner
    extended = store.get_lock("HALO")
    assert extended["expires_at"] == 1110 and extended["acquired_at"] == first["acquired_at"]
    assert store.acquire_lock("HALO", "run-b", 60, now=1100) == "run-a"
    assert store.acquire_lock("HALO", "run-b", 60, now=1111) is None  # its holder died
    store.release_lock("HALO", "run-a")  # not the holder any more: nothing happens
    assert store.get_lock("HALO")["owner"] == "run-b"
    store.release_lock("HALO", "run-b")
    assert store.get_lock("HALO") is None


def test_a_mutex_waits_for_its_holder_then_gives_up_readably(store):
    slept: list[float] = []
    with (
        store.mutex("SETTINGS"),
        pytest.raises(ConflictError) as caught,
        store.mutex("SETTINGS", wait_seconds=0.05, sleep=slept.append),
    ):
        pass
    assert slept and "Try again" in (caught.value.hint or "")
    with store.mutex("SETTINGS", wait_seconds=0):  # released on the way out
        assert store.get_lock("SETTINGS") is not None
    assert store.get_lock("SETTINGS") is None


def test_a_payload_larger_than_an_item_is_kept_in_parts(store):
    import random

    from boto3.dynamodb.conditions import Key

    rng = random.Random(7)
    big = {
        "rows": ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789", k=64)) for _ in range(20_000)]
    }
    store.put_payload("r1", 2, big)  # ~1.3 MB of JSON, ~800 KB compressed: three items
    parts = store.table.query(
        KeyConditionExpression=Key("pk").eq("RUN#r1") & Key("sk").begins_with("PAYLOAD#")
    )
    assert len(parts["Items"]) >= 2
    assert store.get_payload("r1", 2) == big
    store.put_payload("r1", 2, {"small": True})  # a smaller one replaces it
    assert store.get_payload("r1", 2) == {"small": True}
