import pytest
from boto3.dynamodb.conditions import Key

from ddhalo.errors import ConflictError, NotFoundError
from ddhalo.models import Mapping


def mapping(dd: str, halo: int, source: str = "manual", **more) -> Mapping:
    return Mapping(dicker_customer_id=dd, halo_client_id=halo, source=source, **more)


def mapping_items(store) -> list[str]:
    return [i["sk"] for i in store.table.query(KeyConditionExpression=Key("pk").eq("MAPPING"))["Items"]]


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


def test_a_mapping_and_its_guard_are_written_and_deleted_together(store):
    kept = mapping("t1", 10, dicker_customer_name="Acme", halo_client_name="Acme Ltd", written={"a": "h"})
    store.put_mapping(kept)
    assert store.get_mapping("t1") == kept
    assert mapping_items(store) == ["DD#t1", "HALO#10"]
    guard = store.table.get_item(Key={"pk": "MAPPING", "sk": "HALO#10"})["Item"]
    assert guard == {"pk": "MAPPING", "sk": "HALO#10", "dicker_customer_id": "t1", "holders": {"t1"}}
    store.delete_mapping("t1")
    assert mapping_items(store) == []


def test_what_an_import_wrote_is_remembered_only_on_a_mapping_that_exists(store):
    store.remember_written("t9", {"customer": "h1"})  # mapping removed meanwhile: nothing is written
    assert mapping_items(store) == []
    store.put_mapping(mapping("t1", 10, written={"customer": "h1"}))
    store.remember_written("t1", {"site": "h2"})
    assert store.get_mapping("t1").written == {"customer": "h1", "site": "h2"}
    store.remember_written("t1", {"customer": "h3"})
    store.remember_written("t1", {})
    assert store.get_mapping("t1").written == {"customer": "h3", "site": "h2"}
    assert mapping_items(store) == ["DD#t1", "HALO#10"]


def test_a_shared_mapping_joins_a_mapped_client_and_the_guard_outlives_one_holder(store):
    store.put_mapping(mapping("t1", 10))
    store.put_mapping(mapping("t2", 10, shared=True))
    assert sorted(m.dicker_customer_id for m in store.list_mappings()) == ["t1", "t2"]
    store.delete_mapping("t1")
    with pytest.raises(ConflictError, match="Halo client 10"):  # t2 still holds it
        store.put_mapping(mapping("t3", 10))
    store.delete_mapping("t2")
    store.put_mapping(mapping("t3", 10))  # the last holder gone, the client is free
    assert mapping_items(store) == ["DD#t3", "HALO#10"]


def test_a_guard_written_before_holders_keeps_its_customer_when_shared(store):
    store.table.put_item(Item={"pk": "MAPPING", "sk": "DD#old", **mapping("old", 10).model_dump()})
    store.table.put_item(Item={"pk": "MAPPING", "sk": "HALO#10", "dicker_customer_id": "old"})
    store.put_mapping(mapping("t2", 10, shared=True))
    store.delete_mapping("t2")
    with pytest.raises(ConflictError, match="Halo client 10"):  # "old" still holds it
        store.put_mapping(mapping("t3", 10))
    store.delete_mapping("old")
    assert mapping_items(store) == []


def transactions(store) -> list[int]:
    """The item count of every transaction the store sends from now on."""
    sizes: list[int] = []
    store.client.meta.events.register(
        "before-parameter-build.dynamodb.TransactWriteItems",
        lambda params, **_: sizes.append(len(params["TransactItems"])),
    )
    return sizes


def test_many_mappings_go_fifty_to_a_transaction(store):
    sent = transactions(store)
    assert store.put_mappings([mapping(f"t{i:03}", 1000 + i, source="import") for i in range(120)]) == {}
    assert sent == [100, 100, 40]
    assert len(store.list_mappings()) == 120
    assert len(mapping_items(store)) == 240  # each with its guard
    with pytest.raises(ConflictError, match="Halo client 1007"):
        store.put_mapping(mapping("other", 1007))


def test_a_conflict_refuses_that_mapping_alone_and_the_rest_are_stored(store):
    store.put_mapping(mapping("t2", 50))  # t2 is mapped already
    store.put_mapping(mapping("x", 13))  # Halo client 13 is taken
    sent = transactions(store)
    conflicts = store.put_mappings([mapping(f"t{i}", 10 + i) for i in range(5)])
    assert {k: e.message for k, e in conflicts.items()} == {
        "t2": "Dicker Data customer t2 is already mapped.",
        "t3": "Halo client 13 is already mapped to another Dicker Data customer.",
    }
    assert sent == [10, 6]  # cancelled once, then sent again without the two
    assert sorted((m.dicker_customer_id, m.halo_client_id) for m in store.list_mappings()) == [
        ("t0", 10),
        ("t1", 11),
        ("t2", 50),
        ("t4", 14),
        ("x", 13),
    ]


def test_one_client_twice_in_one_call_maps_the_first_customer_only(store):
    sent = transactions(store)
    conflicts = store.put_mappings([mapping("a", 10), mapping("b", 10), mapping("c", 11), mapping("a", 12)])
    assert sorted(conflicts) == ["a", "b"]  # the second "a" is the one refused: the first is stored
    assert "Halo client 10" in conflicts["b"].message
    assert sorted((m.dicker_customer_id, m.halo_client_id) for m in store.list_mappings()) == [
        ("a", 10),
        ("c", 11),
    ]
    assert sent == [4, 4]  # the repeats wait for a second transaction: never one item twice in one


def test_a_shared_mapping_among_many_joins_its_client(store):
    store.put_mapping(mapping("t1", 10))
    conflicts = store.put_mappings([mapping("t2", 10, shared=True), mapping("t3", 11)])
    assert conflicts == {}
    assert sorted(m.dicker_customer_id for m in store.list_mappings()) == ["t1", "t2", "t3"]


def test_a_transaction_cancelled_without_a_failed_condition_is_retried_then_raises(store, monkeypatch):
    real = store._transact
    calls: list[int] = []

    def contended(items):
        calls.append(len(items))
        if len(calls) <= 2:
            return ["None", "TransactionConflict"] + ["None"] * (len(items) - 2)
        return real(items)

    monkeypatch.setattr(store, "_transact", contended)
    assert store.put_mappings([mapping("a", 1), mapping("b", 2)]) == {}
    assert calls == [4, 4, 4] and len(store.list_mappings()) == 2

    monkeypatch.setattr(store, "_transact", lambda items: ["TransactionConflict"] * len(items))
    with pytest.raises(RuntimeError, match="kept cancelling"):
        store.put_mappings([mapping("c", 3)])
