"""Halo's billing records: the price book's ``Item`` and recurring invoices with their lines.

Read as tolerantly as :mod:`ddhalo.halo.records` reads the others (``from_wire``: ``None`` without
a usable id; a missing, null or mistyped value reads as unknown), beside it because one module of
both would pass the house's 400 lines. Names and types: Halo's OpenAPI document (``Item``,
``InvoiceHeader``, ``InvoiceDetail``, ``InvoiceDetailQuantity``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ddhalo.halo.records import _number_id, _text, halo_id


def _number(value: Any) -> float | None:
    """A number Halo's document types as a double; text, true/false or NaN read as unknown."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        return None
    return float(value)


def _flag(value: Any) -> bool:
    return value is True


@dataclass(frozen=True, slots=True)
class ItemRecord:
    """A Halo ``Item`` (the price book): what a product mapping points at and what a billing line
    is priced from. References are the codes generate matches a stock code against."""

    id: int
    name: str = ""
    supplier_part_code: str = ""
    internal_reference: str = ""
    external_reference: str = ""
    base_price: float | None = None
    recurring_price: float | None = None
    cost_price: float | None = None
    is_recurring: bool = False

    @classmethod
    def from_wire(cls, raw: Any) -> ItemRecord | None:
        if not isinstance(raw, dict) or (item_id := halo_id(raw.get("id"))) is None:
            return None
        return cls(
            item_id,
            _text(raw.get("name")),
            _text(raw.get("supplier_part_code")),
            _text(raw.get("internalreference")),
            _text(raw.get("externalreference")),
            _number(raw.get("baseprice")),
            _number(raw.get("recurringprice")),
            _number(raw.get("costprice")),
            _flag(raw.get("isrecurringitem")),
        )

    def codes(self) -> tuple[str, ...]:
        """The codes a stock code may equal: supplier part code and both references, blanks left out."""
        return tuple(
            c for c in (self.supplier_part_code, self.internal_reference, self.external_reference) if c
        )


@dataclass(frozen=True, slots=True)
class RecurringInvoiceLineRecord:
    """A line of a recurring invoice (``InvoiceDetail``). ``licence_ids``: the licences its quantity
    follows (``quantity_licences[].licence_id``); ``comment`` (``comment_1``) carries our marker."""

    id: int
    recurring_invoice_id: int | None = None
    item_id: int | None = None
    item_code: str = ""
    quantity: float | None = None
    unit_price: float | None = None
    is_inactive: bool = False
    comment: str = ""
    licence_ids: tuple[int, ...] = ()

    @classmethod
    def from_wire(cls, raw: Any, invoice_id: int | None = None) -> RecurringInvoiceLineRecord | None:
        """A line; one listed without its invoice id belongs to the header it came in (``invoice_id``)."""
        if not isinstance(raw, dict) or (line_id := halo_id(raw.get("id"))) is None:
            return None
        links = raw.get("quantity_licences")
        return cls(
            line_id,
            _number_id(raw.get("recurring_invoice_id")) or invoice_id,
            _number_id(raw.get("_itemid")),
            _text(raw.get("item_code")),
            _number(raw.get("qty_order")),
            _number(raw.get("unit_price")),
            _flag(raw.get("isinactive")),
            _text(raw.get("comment_1")),
            tuple(
                i
                for q in (links if isinstance(links, list) else [])
                if isinstance(q, dict)
                if (i := _number_id(q.get("licence_id"))) is not None
            ),
        )


@dataclass(frozen=True, slots=True)
class RecurringInvoiceRecord:
    """A recurring invoice header (``InvoiceHeader``) with its lines; a disabled one bills nothing.
    ``lines`` is None when the view did not include them (read without ``includelines``)."""

    id: int
    client_id: int | None = None
    disabled: bool = False
    lines: tuple[RecurringInvoiceLineRecord, ...] | None = None

    @classmethod
    def from_wire(cls, raw: Any) -> RecurringInvoiceRecord | None:
        if not isinstance(raw, dict) or (invoice_id := halo_id(raw.get("id"))) is None:
            return None
        lines = raw.get("lines")
        return cls(
            invoice_id,
            _number_id(raw.get("client_id")),
            _flag(raw.get("disabled")),
            None
            if not isinstance(lines, list)
            else tuple(
                x for r in lines if (x := RecurringInvoiceLineRecord.from_wire(r, invoice_id)) is not None
            ),
        )
