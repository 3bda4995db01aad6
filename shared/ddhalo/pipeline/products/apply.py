"""Products, applied: store the mappings generate planned, and answer what it did."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, Field

from ddhalo.pipeline.products.plan import ProductAction
from ddhalo.store import Store
from ddhalo.store.products import ProductMapping


class ItemSuggestion(BaseModel):
    halo_item_id: int
    halo_item_name: str


class UnmappedProduct(BaseModel):
    """A stock code not mapped: why, and the Items a person may map it to."""

    stock_code: str
    description: str
    subscriptions: int
    reason_code: str
    reason: str
    suggestions: list[ItemSuggestion] = Field(default_factory=list)


class AmbiguousProduct(BaseModel):
    stock_code: str
    description: str
    subscriptions: int
    halo_item_ids: list[int]
    reason: str
    suggestions: list[ItemSuggestion] = Field(default_factory=list)


class GenerateProductsResult(BaseModel):
    created: list[ProductMapping] = Field(default_factory=list)
    already_mapped: int = 0
    unmatched: list[UnmappedProduct] = Field(default_factory=list)
    ambiguous: list[AmbiguousProduct] = Field(default_factory=list)
    excluded: list[UnmappedProduct] = Field(default_factory=list)

    def summary(self) -> dict[str, int]:
        """What a log line says of it: how many of each (prefixed: a log record already has a
        ``created`` attribute, and logging refuses an extra that would overwrite one)."""
        lists = ("created", "unmatched", "ambiguous", "excluded")
        counts = {"already_mapped": self.already_mapped, **{k: len(getattr(self, k)) for k in lists}}
        return {f"products_{k}": n for k, n in counts.items()}


def unmapped_row(
    action: ProductAction, reason_code: str | None = None, reason: str | None = None
) -> UnmappedProduct:
    product = action.product
    return UnmappedProduct(
        stock_code=product.stock_code,
        description=product.description,
        subscriptions=product.subscriptions,
        reason_code=reason_code or action.verdict,
        reason=reason or action.reason,
        suggestions=_suggestions(action),
    )


def apply_products(store: Store, actions: Sequence[ProductAction], created_by: str) -> GenerateProductsResult:
    """Store a generated mapping per ``map``; one mapped by someone meanwhile is reported, never
    overwritten. The others are answered as planned."""
    result = GenerateProductsResult(already_mapped=sum(a.verdict == "already_mapped" for a in actions))
    planned = {a.product.stock_code: a for a in actions if a.verdict == "map"}
    mappings = [_mapping(a, created_by) for a in planned.values()]
    conflicts = store.put_products(mappings)
    for mapping in mappings:
        conflict = conflicts.get(mapping.stock_code)
        if conflict is None:
            result.created.append(mapping)
        else:
            result.unmatched.append(
                unmapped_row(planned[mapping.stock_code], "already_mapped", conflict.message)
            )
    for action in actions:
        if action.verdict == "unmatched":
            result.unmatched.append(unmapped_row(action))
        elif action.verdict == "excluded":
            result.excluded.append(unmapped_row(action))
        elif action.verdict == "ambiguous":
            result.ambiguous.append(_ambiguous(action))
    return result


def _mapping(action: ProductAction, created_by: str) -> ProductMapping:
    (item,) = action.items
    return ProductMapping(
        stock_code=action.product.stock_code,
        description=action.product.description,
        halo_item_id=item.id,
        halo_item_name=item.name,
        source="generated",
        created_by=created_by,
    )


def _ambiguous(action: ProductAction) -> AmbiguousProduct:
    return AmbiguousProduct(
        stock_code=action.product.stock_code,
        description=action.product.description,
        subscriptions=action.product.subscriptions,
        halo_item_ids=[i.id for i in action.items],
        reason=action.reason,
        suggestions=_suggestions(action),
    )


def _suggestions(action: ProductAction) -> list[ItemSuggestion]:
    return [ItemSuggestion(halo_item_id=i.id, halo_item_name=i.name) for i in action.items]
