import pytest
from boto3.dynamodb.conditions import Key

from ddhalo.errors import ConflictError, NotFoundError
from ddhalo.halo.billing_records import ItemRecord
from ddhalo.models import Mapping
from ddhalo.pipeline.products.apply import ItemSuggestion, apply_products
from ddhalo.pipeline.products.plan import ItemIndex, Product, ProductAction
from ddhalo.pipeline.products.service import product_overview
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


# -- generate's apply and the listing, over the store ------------------------------------------
def test_apply_stores_what_generate_planned_and_reports_a_mapping_made_meanwhile(store):
    basic, other = ItemRecord(7, "Basic"), ItemRecord(8, "Other")
    mapped_meanwhile, new = Product("A", "Alpha", frozenset(), 2), Product("B", "Beta", frozenset(), 1)
    store.put_product(product("A", 99))
    actions = [
        ProductAction(mapped_meanwhile, "map", (basic,)),
        ProductAction(new, "map", (basic,)),
        ProductAction(Product("C", "Gamma", frozenset(), 1), "ambiguous", (basic, other), "two"),
        ProductAction(Product("D", "Delta", frozenset(), 1), "unmatched", (other,), "none"),
        ProductAction(Product("E", "Eps", frozenset({"X"}), 1), "excluded", (), "excluded"),
        ProductAction(Product("F", "Phi", frozenset(), 1), "already_mapped"),
    ]
    result = apply_products(store, actions, "ops")
    assert [(m.stock_code, m.halo_item_id, m.source, m.created_by) for m in result.created] == [
        ("B", 7, "generated", "ops")
    ]
    assert {p.stock_code: p.halo_item_id for p in store.list_products()} == {"A": 99, "B": 7}
    assert [(u.stock_code, u.reason_code) for u in result.unmatched] == [
        ("A", "already_mapped"),
        ("D", "unmatched"),
    ]
    assert result.unmatched[1].suggestions == [ItemSuggestion(halo_item_id=8, halo_item_name="Other")]
    assert [(a.stock_code, a.halo_item_ids) for a in result.ambiguous] == [("C", [7, 8])]
    assert [e.stock_code for e in result.excluded] == ["E"]
    assert result.summary() == {
        "products_already_mapped": 1,
        "products_created": 1,
        "products_unmatched": 2,
        "products_ambiguous": 1,
        "products_excluded": 1,
    }


def test_the_listing_refreshes_names_counts_and_says_what_generate_would_do(store):
    store.put_product(product("A", 7, halo_item_name="Old name", description="Stored"))
    store.put_product(product("Z", 5, source="generated"))
    products = [Product("A", "Alpha", frozenset(), 3), Product("B", "Basic", frozenset(), 1)]
    items = ItemIndex([ItemRecord(7, "New name"), ItemRecord(8, "basic")])
    overview = product_overview(store, products, items, (), [])
    assert [
        (r.stock_code, r.description, r.halo_item_name, r.subscriptions, r.halo_item_exists)
        for r in overview.products
    ] == [
        ("A", "Alpha", "New name", 3, True),
        ("Z", "", "", 0, False),  # nobody buys it now, and Halo no longer lists its Item
    ]
    assert [
        (u.stock_code, u.reason_code, [s.halo_item_id for s in u.suggestions]) for u in overview.unmapped
    ] == [("B", "will_map", [8])]


def test_the_listing_with_an_upstream_unread_answers_what_is_stored(store):
    store.put_product(product("A", 7, halo_item_name="Stored name", description="Stored"))
    products = [Product("A", "Alpha", frozenset(), 3), Product("B", "Basic", frozenset(), 1)]
    halo_down = product_overview(store, products, None, (), ["Halo is down"])
    assert [(r.halo_item_name, r.subscriptions, r.halo_item_exists) for r in halo_down.products] == [
        ("Stored name", 3, None)
    ]
    assert [(u.stock_code, u.reason_code, u.suggestions) for u in halo_down.unmapped] == [
        ("B", "halo_unread", [])
    ]
    assert halo_down.warnings == ["Halo is down"]
    dicker_down = product_overview(
        store, None, ItemIndex([ItemRecord(7, "Basic")]), (), ["Dicker Data is down"]
    )
    assert [(r.description, r.subscriptions, r.halo_item_exists) for r in dicker_down.products] == [
        ("Stored", None, True)
    ]
    assert dicker_down.unmapped == []
