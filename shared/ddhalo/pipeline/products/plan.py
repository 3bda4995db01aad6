"""Products, planned: each stock code the mapped customers buy → the one Halo Item it is. Pure.

"Exact" is Halo's collation, as for customers (``matching.exact_key``: trimmed, any case). A stock
code is matched first against each Item's codes (supplier part code, internal and external
reference), then, only when no code matches, against Item names by the subscription's
``StockDescription``. Several candidates at either step are ambiguous: never mapped, each offered.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ddhalo.halo.billing_records import ItemRecord
from ddhalo.matching import Candidate, ClientIndex, exact_key

ProductVerdict = Literal["map", "already_mapped", "ambiguous", "unmatched", "excluded"]

NO_MATCH = "No Halo item has this stock code as its supplier part code or a reference, nor this name."
EXCLUDED = "Excluded by the settings (exclusions.stock_codes): every subscription of it is excluded."
BY_CODE = "Several Halo items have this stock code as their supplier part code or a reference."
BY_NAME = "No Halo item has this stock code, and several have exactly this name."


@dataclass(frozen=True, slots=True)
class Product:
    """A stock code as the mapped customers buy it: ``dicker_stock_codes`` are Dicker Data's own
    codes (``StockCode``) of its subscriptions, which ``exclusions.stock_codes`` names."""

    stock_code: str
    description: str
    dicker_stock_codes: frozenset[str]
    subscriptions: int


@dataclass(frozen=True, slots=True)
class ProductAction:
    """What generate does with one product; ``items`` the Item it maps to (``map``), the rivals
    (``ambiguous``) or near names (``unmatched``)."""

    product: Product
    verdict: ProductVerdict
    items: tuple[ItemRecord, ...] = ()
    reason: str = ""


class ItemIndex:
    """Halo's Items by each code and by exact name, built once per generate."""

    def __init__(self, items: Iterable[ItemRecord]) -> None:
        self.by_id = {item.id: item for item in items}
        self.by_code: dict[str, list[ItemRecord]] = defaultdict(list)
        for item in self.by_id.values():
            for code in {exact_key(c) for c in item.codes()}:
                self.by_code[code].append(item)
        self.names = ClientIndex(Candidate(item.id, item.name) for item in self.by_id.values())

    def with_code(self, stock_code: str) -> list[ItemRecord]:
        return self.by_code.get(exact_key(stock_code), []) if stock_code.strip() else []

    def named(self, name: str) -> list[ItemRecord]:
        return [self.by_id[c.id] for c in self.names.exact(name)]

    def near(self, name: str) -> list[ItemRecord]:
        """Items to map by hand: near names (``matching``'s suggestions), for an unmatched product."""
        return [self.by_id[c.id] for c in self.names.suggestions(name)]


def plan_products(
    products: Sequence[Product], items: ItemIndex, mapped: Collection[str], excluded: Collection[str]
) -> list[ProductAction]:
    """One action per product, in stock code order: a mapped one is kept, an excluded one listed,
    any other matched by code, then by name."""
    return [_plan_one(p, items, mapped, excluded) for p in sorted(products, key=lambda p: p.stock_code)]


def _plan_one(
    product: Product, items: ItemIndex, mapped: Collection[str], excluded: Collection[str]
) -> ProductAction:
    if product.stock_code in mapped:
        return ProductAction(product, "already_mapped")
    if product.dicker_stock_codes and product.dicker_stock_codes <= set(excluded):
        return ProductAction(product, "excluded", reason=EXCLUDED)
    by_code = items.with_code(product.stock_code)
    if len(by_code) > 1:
        return ProductAction(product, "ambiguous", _by_id(by_code), BY_CODE)
    if by_code:
        return ProductAction(product, "map", tuple(by_code))
    by_name = items.named(product.description)
    if len(by_name) > 1:
        return ProductAction(product, "ambiguous", _by_id(by_name), BY_NAME)
    if by_name:
        return ProductAction(product, "map", tuple(by_name))
    return ProductAction(product, "unmatched", tuple(items.near(product.description)), NO_MATCH)


def _by_id(items: Iterable[ItemRecord]) -> tuple[ItemRecord, ...]:
    return tuple(sorted(items, key=lambda i: i.id))


def products_of(rows: Iterable[tuple[str, str, str]]) -> list[Product]:
    """Products from subscription rows ``(ManufacturerStockCode, StockDescription, StockCode)``:
    one per stock code, described as its first row with a description; a blank stock code is no
    product (nothing could match it)."""
    described: dict[str, str] = {}
    codes: dict[str, set[str]] = defaultdict(set)
    counts: dict[str, int] = defaultdict(int)
    for stock_code, description, dicker_code in rows:
        if not stock_code.strip():
            continue
        counts[stock_code] += 1
        if dicker_code:
            codes[stock_code].add(dicker_code)
        if description and not described.get(stock_code):
            described[stock_code] = description
    return [Product(s, described.get(s, ""), frozenset(codes[s]), n) for s, n in counts.items()]
