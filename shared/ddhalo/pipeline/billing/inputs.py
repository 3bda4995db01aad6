"""Billing, inputs: what the three-way check compares, apart from Halo's wire shape.

The read step maps Dicker Data's subscriptions, Halo's licences, recurring invoices and Items to
these, so the plan (and its tests) never meet a wire record. Money and quantities are ``Decimal``:
Halo answers them as JSON doubles, and a difference of seats times a price must not drift by a
float's error (:func:`decimal_of` is how a double becomes one).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Literal

# "gone": Dicker Data no longer answers it (its link stays, so it is checked too).
SubscriptionStatus = Literal["active", "cancelled", "gone"]


def decimal_of(value: float | int | str | None) -> Decimal | None:
    """A JSON number as Halo answered it, exactly as written (``12.1`` is 12.1, not 12.0999…)."""
    return None if value is None else Decimal(str(value))


@dataclass(frozen=True, slots=True)
class SubscriptionFacts:
    """One Dicker Data subscription, as far as billing goes."""

    customer_id: str
    subscription_id: str
    stock_code: str  # ManufacturerStockCode: the product (term and billing are part of it)
    dicker_stock_code: str  # StockCode, Dicker Data's own code (what exclusions.stock_codes match)
    description: str
    status: SubscriptionStatus
    quantity: int  # ConfirmedQuantity
    annual: bool  # an annual term (its end_date is a renewal to warn of)
    end_date: date | None = None

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class LicenceFacts:
    """The Halo licence a subscription is linked to."""

    id: int
    count: int


@dataclass(frozen=True, slots=True)
class InvoiceLine:
    """A recurring invoice line. ``licence_ids``: the licences its quantity follows
    (``quantity_licences[].licence_id``); none for a line typed by hand."""

    id: int
    invoice_id: int
    item_id: int | None
    qty_order: Decimal
    unit_price: Decimal | None
    inactive: bool = False
    licence_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class RecurringInvoice:
    """A recurring invoice header: a disabled one bills nothing."""

    id: int
    disabled: bool = False


@dataclass(frozen=True, slots=True)
class Product:
    """A stock code's mapping to a Halo Item, with the Item's prices."""

    stock_code: str
    halo_item_id: int
    recurring_price: Decimal | None = None
    base_price: Decimal | None = None

    @property
    def price(self) -> Decimal | None:
        """What a line of this Item is billed at: its recurring price, its base price when that
        is null or 0 (an Item priced only once has no recurring price)."""
        if self.recurring_price:
            return self.recurring_price
        return self.base_price


@dataclass(frozen=True, slots=True)
class Subscribed:
    """A subscription with what it is compared to: its linked licence (None: Halo holds none) and
    its stock code's product (None: not mapped)."""

    facts: SubscriptionFacts
    licence: LicenceFacts | None
    product: Product | None


@dataclass(frozen=True, slots=True)
class ClientBilling:
    """One Halo client: its recurring invoices, their lines, and the linked subscriptions of the
    customers mapped to it (several, on a shared client)."""

    halo_client_id: int
    invoices: tuple[RecurringInvoice, ...]
    lines: tuple[InvoiceLine, ...]
    subscriptions: tuple[Subscribed, ...]

    def billing_lines(self) -> list[InvoiceLine]:
        """The lines that bill: active, on an active invoice of this client."""
        active = {invoice.id for invoice in self.invoices if not invoice.disabled}
        return [line for line in self.lines if not line.inactive and line.invoice_id in active]
