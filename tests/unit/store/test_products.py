import pytest
from boto3.dynamodb.conditions import Key

from ddhalo.errors import ConflictError, NotFoundError
from ddhalo.models import Mapping
from ddhalo.store.products import ProductMapping

CODE = "P1Y:CFQ7TTC0LH18:0001:Y:"


def product(code: str = CODE, item: int = 7, source: str = "manual", **more) -> ProductMapping:
    return ProductMapping(stock_code=code, halo_item_id=item, source=source, **more)


def keys(store) -> list[str]:
    return [i["sk"] for i in store.table.query(KeyConditionExpression=Key("pk").eq("PRODUCT"))["Items"]]


def test_a_product_mapping_is_stored_under_its_stock_code_and_read_back(store):
    kept = product(
        description="M365 Business Basic", halo_item_name="Basic", created_by="ops", source="generated"
    )
    store.put_product(kept)
    assert keys(store) == [f"STOCK#{CODE}"]
    assert store.get_product(CODE) == kept
    assert store.get_product("P1M:CFQ7TTC0LH18:0001:1:") is None


def test_a_stock_code_is_mapped_once_and_never_overwritten(store):
    store.put_product(product(item=7))
    with pytest.raises(ConflictError, match="already mapped"):
        store.put_product(product(item=8))
    assert store.get_product(CODE).halo_item_id == 7


def test_several_stock_codes_may_share_an_item(store):
    store.put_product(product(CODE, 7))
    store.put_product(product("P1M:CFQ7TTC0LH18:0001:1:", 7))
    assert sorted(p.stock_code for p in store.list_products()) == ["P1M:CFQ7TTC0LH18:0001:1:", CODE]


def test_put_products_answers_the_conflicts_and_stores_the_rest(store):
    store.put_product(product("A", 1))
    conflicts = store.put_products([product("A", 2), product("B", 3)])
    assert list(conflicts) == ["A"] and "already mapped" in conflicts["A"].message
    assert {p.stock_code: p.halo_item_id for p in store.list_products()} == {"A": 1, "B": 3}


def test_removing_answers_the_mapping_and_a_second_removal_is_not_found(store):
    store.put_product(product(halo_item_name="Basic"))
    assert store.delete_product(CODE).halo_item_name == "Basic"
    assert keys(store) == []
    with pytest.raises(NotFoundError, match="not mapped"):
        store.delete_product(CODE)


def test_products_are_their_own_family(store):
    """Listing products reads only their items; other families never show as products."""
    store.put_mapping(Mapping(dicker_customer_id="t1", halo_client_id=10, source="manual"))
    store.put_product(product())
    assert [p.stock_code for p in store.list_products()] == [CODE]
    assert [m.dicker_customer_id for m in store.list_mappings()] == ["t1"]
