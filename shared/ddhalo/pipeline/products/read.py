"""Products, read: the stock codes the mapped customers' Dicker Data subscriptions carry, and
Halo's Items. Dicker Data is read whole (a few calls) and kept to the mapped customers: a product
nobody mapped buys is nothing to bill."""

from __future__ import annotations

from ddhalo.dicker_data.client import DickerDataClient
from ddhalo.halo.client import HaloClient
from ddhalo.pipeline.products.plan import ItemIndex, Product, products_of
from ddhalo.store import Store


def read_products(dicker_data: DickerDataClient, store: Store) -> list[Product]:
    """One product per stock code of the mapped customers' subscriptions, with their count."""
    mapped = {m.dicker_customer_id for m in store.list_mappings()}
    if not mapped:
        return []
    rows = dicker_data.get_subscriptions().items
    return products_of(
        (s.manufacturer_stock_code, s.stock_description, s.stock_code) for s in rows if s.tenant_id in mapped
    )


def read_items(halo: HaloClient) -> ItemIndex:
    return ItemIndex(halo.items())
