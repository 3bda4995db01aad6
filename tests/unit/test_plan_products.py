"""The product plan is pure: every rule of Generate Product Mappings, exactly."""

from ddhalo.halo.billing_records import ItemRecord
from ddhalo.pipeline.products.plan import (
    BY_CODE,
    BY_NAME,
    EXCLUDED,
    NO_MATCH,
    ItemIndex,
    Product,
    ProductAction,
    plan_products,
    products_of,
)

CODE = "P1Y:CFQ7TTC0LH18:0001:Y:"
MONTHLY = "P1M:CFQ7TTC0LH18:0001:1:"


def product(stock_code=CODE, description="Microsoft 365 Business Basic", dicker=("MS-BB-Y",), n=1) -> Product:
    return Product(stock_code, description, frozenset(dicker), n)


def item(item_id: int, name: str = "", **codes: str) -> ItemRecord:
    return ItemRecord(item_id, name, **codes)


def plan(products, items, mapped=(), excluded=()) -> list[ProductAction]:
    return plan_products(products, ItemIndex(items), set(mapped), set(excluded))


def test_a_stock_code_maps_to_the_item_whose_supplier_part_code_is_it():
    p, basic = product(), item(7, "Basic", supplier_part_code=CODE)
    assert plan([p], [basic, item(8, "Other", supplier_part_code=MONTHLY)]) == [
        ProductAction(p, "map", (basic,))
    ]


def test_either_reference_matches_too_trimmed_and_in_any_case():
    p = product()
    internal = item(7, "Basic", internal_reference=f"  {CODE.lower()} ")
    external = item(9, "Basic", external_reference=CODE.lower())
    assert plan([p], [internal]) == [ProductAction(p, "map", (internal,))]
    assert plan([p], [external]) == [ProductAction(p, "map", (external,))]


def test_one_item_holding_the_code_twice_is_one_candidate():
    p, basic = product(), item(7, "Basic", supplier_part_code=CODE, internal_reference=CODE.lower())
    assert plan([p], [basic]) == [ProductAction(p, "map", (basic,))]


def test_without_a_code_the_item_named_as_the_stock_description_is_mapped():
    p, named = product(), item(5, " microsoft 365 BUSINESS basic ")
    assert plan([p], [named, item(6, "Microsoft 365 Business Standard")]) == [
        ProductAction(p, "map", (named,))
    ]


def test_a_code_match_wins_over_a_name_match():
    p, by_code = product(), item(7, "M365 BB annual", supplier_part_code=CODE)
    assert plan([p], [item(5, "Microsoft 365 Business Basic"), by_code]) == [
        ProductAction(p, "map", (by_code,))
    ]


def test_several_items_with_the_code_are_ambiguous_and_never_mapped():
    p = product()
    one, two = item(9, "A", supplier_part_code=CODE), item(3, "B", external_reference=CODE)
    assert plan([p], [one, two, item(5, "Microsoft 365 Business Basic")]) == [
        ProductAction(p, "ambiguous", (two, one), BY_CODE)
    ]


def test_several_items_with_the_name_are_ambiguous():
    p = product()
    one, two = item(4, "Microsoft 365 Business Basic"), item(2, "microsoft 365 business basic")
    assert plan([p], [one, two]) == [ProductAction(p, "ambiguous", (two, one), BY_NAME)]


def test_no_match_is_unmatched_with_near_names_as_suggestions():
    p = product(description="Microsoft 365 Business Premium")
    near, far = item(4, "Microsoft 365 Business Premium (annual)"), item(5, "Exchange Online Plan 1")
    same_loosely = item(6, "Microsoft 365 - Business Premium")
    # The same name but for punctuation first, then similar names; never an unrelated one.
    assert plan([p], [near, far, same_loosely]) == [
        ProductAction(p, "unmatched", (same_loosely, near), NO_MATCH)
    ]
    assert plan([p], [far]) == [ProductAction(p, "unmatched", (), NO_MATCH)]


def test_a_blank_description_matches_no_name():
    p = product(description="")
    assert plan([p], [item(4, "")]) == [ProductAction(p, "unmatched", (), NO_MATCH)]


def test_an_existing_mapping_is_kept_whatever_halo_holds():
    p = product()
    assert plan([p], [item(7, "Basic", supplier_part_code=CODE)], mapped=[CODE]) == [
        ProductAction(p, "already_mapped")
    ]


def test_a_product_whose_subscriptions_are_all_excluded_is_listed_as_excluded():
    p = product(dicker=("MS-BB-Y", "MS-BB-Y-OLD"))
    basic = item(7, "Basic", supplier_part_code=CODE)
    assert plan([p], [basic], excluded=["MS-BB-Y", "MS-BB-Y-OLD", "X"]) == [
        ProductAction(p, "excluded", (), EXCLUDED)
    ]
    # One subscription not excluded: the product is still billed, so it is matched.
    assert plan([p], [basic], excluded=["MS-BB-Y"]) == [ProductAction(p, "map", (basic,))]
    # Exclusions name Dicker Data's own code exactly, never the manufacturer's.
    assert plan([p], [basic], excluded=[CODE, "ms-bb-y", "ms-bb-y-old"]) == [
        ProductAction(p, "map", (basic,))
    ]


def test_products_are_planned_in_stock_code_order():
    later, first = product(CODE), product(MONTHLY)
    assert [a.product for a in plan([later, first], [])] == [first, later]


def test_products_are_one_per_stock_code_with_their_count_and_dicker_codes():
    rows = [
        (CODE, "", "MS-BB-Y"),
        (CODE, "Microsoft 365 Business Basic", "MS-BB-Y"),
        (MONTHLY, "Microsoft 365 Business Basic", "MS-BB-M"),
        (CODE, "Another description", "MS-BB-Y2"),
        ("  ", "No stock code", "X"),
    ]
    assert sorted(products_of(rows), key=lambda p: p.stock_code) == [
        Product(MONTHLY, "Microsoft 365 Business Basic", frozenset({"MS-BB-M"}), 1),
        Product(CODE, "Microsoft 365 Business Basic", frozenset({"MS-BB-Y", "MS-BB-Y2"}), 3),
    ]
