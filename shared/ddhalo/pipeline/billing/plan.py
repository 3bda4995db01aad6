"""Billing, plan: the three-way check. Pure: the same inputs, the same findings.

For every linked subscription: what Dicker Data charges (``dicker_quantity``), what Halo holds
(the licence's ``count``) and what the recurring invoices bill (``billed_quantity``), compared as
docs/PRODUCT.md's billing section says. One :class:`Finding` per subscription; a line is reported
through the subscription it bills. The sentences are :mod:`~ddhalo.pipeline.billing.reasons`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ddhalo.models import RunItem
from ddhalo.pipeline.billing import reasons
from ddhalo.pipeline.billing.inputs import ClientBilling, InvoiceLine, Product, Subscribed, SubscriptionFacts
from ddhalo.pipeline.billing.money import answer_money, answer_quantity

# The reason codes, in the order an item's ``reason_code`` is chosen (the first that applies).
CODES = (
    "billed_after_cancel",
    "unbilled",
    "under_billed",
    "over_billed",
    "ambiguous_line",
    "no_product",
    "licence_count_differs",
    "renewal_due",
)
DEFAULT_RENEWAL_WARNING_DAYS = 30


@dataclass(frozen=True, slots=True)
class Basis:
    """What bills a subscription: the active lines linking its licence (``linked``); else the
    active lines of its product's Item that link no licence, which several subscriptions may
    share (``sharers``, sorted); ``known`` False: nothing links it and no product says which
    Item would bill it."""

    lines: tuple[InvoiceLine, ...] = ()
    linked: bool = False
    known: bool = True
    sharers: tuple[Subscribed, ...] = ()

    @property
    def billed(self) -> Decimal | None:
        return sum((line.qty_order for line in self.lines), Decimal(0)) if self.known else None

    @property
    def ambiguous(self) -> bool:
        return len(self.sharers) > 1

    def wanted(self, own: Subscribed) -> int:
        """What the lines should bill: this subscription's quantity, or its sharers' together."""
        return sum(dicker_quantity(s) for s in self.sharers) if self.ambiguous else dicker_quantity(own)

    def ended(self, own: Subscribed) -> bool:
        """Nothing it bills is active any more (cancelled or gone, every sharer of it)."""
        return not any(s.facts.active for s in (self.sharers if self.ambiguous else (own,)))


@dataclass(slots=True)
class Finding:
    """One subscription checked: its three numbers, the lines that bill it and every code that
    applies (``findings``, in :data:`CODES` order; empty: all agree)."""

    subscribed: Subscribed
    halo_client_id: int
    basis: Basis
    dicker_quantity: int
    findings: list[str] = field(default_factory=list)
    reason: str | None = None

    @property
    def facts(self) -> SubscriptionFacts:
        return self.subscribed.facts

    @property
    def product(self) -> Product | None:
        return self.subscribed.product

    @property
    def reason_code(self) -> str | None:
        return self.findings[0] if self.findings else None

    @property
    def halo_count(self) -> int | None:
        licence = self.subscribed.licence
        return licence.count if licence is not None else None

    @property
    def billed_quantity(self) -> Decimal | None:
        return self.basis.billed

    @property
    def unit_price(self) -> Decimal | None:
        """The billing lines' price (None when they differ); with no line, the Item's price."""
        prices = {line.unit_price for line in self.basis.lines}
        if not prices:
            return self.product.price if self.product is not None else None
        return prices.pop() if len(prices) == 1 else None

    @property
    def value_difference(self) -> Decimal | None:
        """``(dicker_quantity - billed_quantity) * unit_price`` a month; sharers of ambiguous
        lines answer their difference together. None when either is unknown."""
        billed, price = self.billed_quantity, self.unit_price
        if billed is None or price is None:
            return None
        return (self.basis.wanted(self.subscribed) - billed) * price

    def item(self, result: str | None = None, **overrides: Any) -> RunItem:
        facts = self.facts
        licence = self.subscribed.licence
        values: dict[str, Any] = {
            "type": "subscription",
            "dicker_id": facts.subscription_id,
            "halo_id": licence.id if licence is not None else None,
            "result": result or ("skipped" if self.findings else "unchanged"),
            "reason": self.reason,
            "reason_code": self.reason_code,
            "name": facts.description,
            "customer_id": facts.customer_id,
            "stock_code": facts.stock_code,
            "dicker_quantity": self.dicker_quantity,
            "halo_count": self.halo_count,
            "billed_quantity": answer_quantity(self.billed_quantity),
            "line_ids": [line.id for line in self.basis.lines],
            "unit_price": answer_money(self.unit_price),
            "value_difference": answer_money(self.value_difference),
            "findings": list(self.findings),
        }
        values.update(overrides)
        return RunItem.model_validate(values)


def dicker_quantity(subscribed: Subscribed) -> int:
    """What Dicker Data charges: ``ConfirmedQuantity``, 0 when cancelled or gone."""
    return subscribed.facts.quantity if subscribed.facts.active else 0


def plan_billing(
    clients: Iterable[ClientBilling], *, today: date, renewal_warning_days: int = DEFAULT_RENEWAL_WARNING_DAYS
) -> list[Finding]:
    """One finding per subscription of every client, in the order given."""
    renewal_by = today + timedelta(days=renewal_warning_days)
    findings: list[Finding] = []
    for client in clients:
        bases = client_bases(client)
        for subscribed in client.subscriptions:
            basis = bases[subscribed.facts.subscription_id]
            finding = Finding(subscribed, client.halo_client_id, basis, dicker_quantity(subscribed))
            finding.findings = _codes(finding, today, renewal_by)
            finding.reason = reasons.reason_of(finding) if finding.findings else None
            findings.append(finding)
    return findings


def client_bases(client: ClientBilling) -> dict[str, Basis]:
    """What bills each of a client's subscriptions (by subscription id)."""
    billing = {line.id for line in client.billing_lines()}
    linking: dict[int, list[InvoiceLine]] = defaultdict(list)  # every line, active or not
    for line in client.lines:
        for licence_id in line.licence_ids:
            linking[licence_id].append(line)
    bases: dict[str, Basis] = {}
    by_item: dict[int, list[Subscribed]] = defaultdict(list)  # those left to their Item's lines
    for subscribed in client.subscriptions:
        licence, product = subscribed.licence, subscribed.product
        sid = subscribed.facts.subscription_id
        if licence is not None and licence.id in linking:
            bases[sid] = Basis(tuple(line for line in linking[licence.id] if line.id in billing), linked=True)
        elif product is not None:
            by_item[product.halo_item_id].append(subscribed)
        else:
            bases[sid] = Basis(known=False)
    for item_id, group in by_item.items():
        unlinked = (line for line in client.lines if line.item_id == item_id and not line.licence_ids)
        lines = tuple(line for line in unlinked if line.id in billing)
        bases.update(_item_bases(lines, group))
    return bases


def _item_bases(lines: tuple[InvoiceLine, ...], group: list[Subscribed]) -> dict[str, Basis]:
    """The unlinked lines of one Item are shared by the active subscriptions left to them; a
    cancelled or gone one takes them only when no active one does (they most likely bill the
    active one, and an ended subscription stays linked for ever)."""
    active = [s for s in group if s.facts.active]
    sharers = tuple(sorted(active or group, key=lambda s: s.facts.subscription_id)) if lines else ()
    return {
        s.facts.subscription_id: Basis(lines, sharers=sharers) if s in sharers else Basis() for s in group
    }


def _codes(finding: Finding, today: date, renewal_by: date) -> list[str]:
    """Every code that applies, in :data:`CODES` order."""
    facts, basis = finding.facts, finding.basis
    billed = basis.billed
    wanted = basis.wanted(finding.subscribed)
    ended = basis.ended(finding.subscribed)
    licence = finding.subscribed.licence
    # Lines shared by several subscriptions bill them together: which one is under or over billed
    # is unknown, so their sum's difference is reported as ``ambiguous_line``, not as each one's.
    # Not knowing which Item bills it (``billed`` None), nothing is known to leave it unbilled.
    one_by_one = not basis.ambiguous
    applies = {
        "billed_after_cancel": ended and billed is not None and billed > 0,
        "unbilled": facts.active and basis.known and not basis.lines and finding.dicker_quantity > 0,
        "under_billed": one_by_one and bool(basis.lines) and billed is not None and billed < wanted,
        "over_billed": one_by_one and not ended and billed is not None and billed > wanted,
        "ambiguous_line": basis.ambiguous,
        "no_product": finding.product is None and not basis.linked,
        "licence_count_differs": facts.active and (licence is None or licence.count != facts.quantity),
        "renewal_due": facts.active and facts.annual and _ends_within(facts.end_date, today, renewal_by),
    }
    return [code for code in CODES if applies[code]]


def _ends_within(end_date: date | None, today: date, renewal_by: date) -> bool:
    """The term ends from today up to ``renewal_by``, both days included (one already past has
    renewed or ended: Dicker Data answers the next end date)."""
    return end_date is not None and today <= end_date <= renewal_by
