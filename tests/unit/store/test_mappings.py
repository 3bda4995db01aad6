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
