"""Products, listed and mapped by hand: what the routes answer besides generate."""

from __future__ import annotations

from collections.abc import Callable, Collection

from pydantic import BaseModel, Field

from ddhalo.errors import IntegrationError, NotFoundError
from ddhalo.halo.client import HaloClient
from ddhalo.pipeline.products.apply import UnmappedProduct, unmapped_row
from ddhalo.pipeline.products.plan import ItemIndex, Product, plan_products
from ddhalo.store import Store
from ddhalo.store.products import ProductMapping, already_mapped

WILL_MAP = "Not mapped: Generate Product Mappings maps it to the suggested Halo item."
HALO_UNREAD = "Not mapped. Which Halo item it matches is known once Halo can be read (see the warnings)."


class ProductRow(BaseModel):
    stock_code: str
    description: str
    halo_item_id: int
    halo_item_name: str
    source: str
    subscriptions: int | None  # None: Dicker Data could not be read (see the warnings)
    # False when Halo no longer lists the Item (removed or made inactive): map it again.
    halo_item_exists: bool | None = None


class ProductOverview(BaseModel):
    products: list[ProductRow]
    unmapped: list[UnmappedProduct]
    warnings: list[str] = Field(default_factory=list)


class ItemOption(BaseModel):
    halo_item_id: int
    halo_item_name: str
    supplier_part_code: str


class ItemList(BaseModel):
    """Halo's Items by name, for mapping a product by hand (the console's picker)."""

    items: list[ItemOption]


def product_overview(
    store: Store,
    products: list[Product] | None,
    items: ItemIndex | None,
    excluded: Collection[str],
    warnings: list[str],
) -> ProductOverview:
    """Every mapping (names refreshed from both sides) and every product of the mapped customers
    not mapped, with what generate would do and the Items to choose from. With an upstream down
    (``None``), the stored mappings still answer and the warnings say what is missing."""
    mappings = store.list_products()
    by_code = {p.stock_code: p for p in products or ()}
    rows = [_row(m, by_code.get(m.stock_code), items, products is not None) for m in mappings]
    return ProductOverview(
        products=sorted(rows, key=lambda r: r.stock_code),
        unmapped=_unmapped(products or [], items, {m.stock_code for m in mappings}, excluded),
        warnings=warnings,
    )


def _unmapped(
    products: list[Product], items: ItemIndex | None, mapped: set[str], excluded: Collection[str]
) -> list[UnmappedProduct]:
    """Generate's own plan on the same inputs, so the listing cannot say otherwise than it does."""
    planned = plan_products(products, items or ItemIndex(()), mapped, excluded)
    rows = []
    for action in planned:
        if action.verdict == "already_mapped":
            continue
        if items is None and action.verdict != "excluded":
            rows.append(unmapped_row(action, "halo_unread", HALO_UNREAD))
        elif action.verdict == "map":
            rows.append(unmapped_row(action, "will_map", WILL_MAP))
        else:
            rows.append(unmapped_row(action))
    return rows


def _row(
    mapping: ProductMapping, product: Product | None, items: ItemIndex | None, counted: bool
) -> ProductRow:
    item = items.by_id.get(mapping.halo_item_id) if items else None
    return ProductRow(
        stock_code=mapping.stock_code,
        description=product.description if product and product.description else mapping.description,
        halo_item_id=mapping.halo_item_id,
        halo_item_name=item.name if item else mapping.halo_item_name,
        source=mapping.source,
        subscriptions=(product.subscriptions if product else 0) if counted else None,
        halo_item_exists=None if items is None else item is not None,
    )


def add_product(
    store: Store,
    halo: HaloClient,
    stock_code: str,
    halo_item_id: int,
    products: list[Product],
    created_by: str,
) -> ProductMapping:
    """A mapping by hand: the Item must exist; a stock code no mapped customer buys yet may be
    mapped ahead of its first subscription."""
    if store.get_product(stock_code) is not None:
        raise already_mapped(stock_code)
    item = halo.item(halo_item_id)
    if item is None:
        raise NotFoundError(f"Halo has no item with id {halo_item_id}.", "Use an id from GET /halo/items.")
    product = next((p for p in products if p.stock_code == stock_code), None)
    mapping = ProductMapping(
        stock_code=stock_code,
        description=product.description if product else "",
        halo_item_id=item.id,
        halo_item_name=item.name,
        source="manual",
        created_by=created_by,
    )
    store.put_product(mapping)
    return mapping


def item_options(items: ItemIndex) -> ItemList:
    ordered = sorted(items.by_id.values(), key=lambda i: (i.name.casefold(), i.id))
    return ItemList(
        items=[
            ItemOption(halo_item_id=i.id, halo_item_name=i.name, supplier_part_code=i.supplier_part_code)
            for i in ordered
        ]
    )


def attempt[T](read: Callable[[], T], warnings: list[str]) -> T | None:
    """``read()``, or None with its failure added to ``warnings``: a listing answers what it can."""
    try:
        return read()
    except IntegrationError as exc:
        warnings.append(str(exc))
        return None
