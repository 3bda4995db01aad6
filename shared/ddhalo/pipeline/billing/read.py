"""Billing, read: everything the three-way check compares, read in bulk and mapped to
:mod:`~ddhalo.pipeline.billing.inputs`.

The check must read every recurring invoice, so its cost is Halo's pages: one paged read of the
recurring invoices with their lines (no ``client_id``: one read for every client), one of the Items
(only when a product is mapped) and one of the licences (as a bulk subscriptions read does).
Dicker Data is read whole (a few calls); the links say which licence each subscription has. A
linked subscription Dicker Data no longer answers is "gone": its link stays, so it is checked too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from ddhalo import job_log
from ddhalo.dicker_data.models import ManufacturerStockCode, Subscription
from ddhalo.halo.billing_records import ItemRecord, RecurringInvoiceLineRecord, RecurringInvoiceRecord
from ddhalo.halo.client import HaloClient
from ddhalo.models import Mapping, SubscriptionLink
from ddhalo.pipeline.billing.inputs import (
    ClientBilling,
    InvoiceLine,
    LicenceFacts,
    Product,
    RecurringInvoice,
    Subscribed,
    SubscriptionFacts,
    decimal_of,
)
from ddhalo.pipeline.subscriptions.fields import BILLING_NAMES
from ddhalo.store import Store
from ddhalo.store.products import ProductMapping
from ddhalo.upstreams import Upstreams

# A licence's billing cycle as we wrote it ("Monthly") → the billing letter of a stock code.
_BILLING_CODES = {name: code for code, name in reversed(BILLING_NAMES.items())}


@dataclass
class BillingWorld:
    """What the read found, before it is grouped per client: per customer its subscriptions and
    links, the linked licences' counts, the invoices of the clients checked, the products."""

    subscriptions: dict[str, dict[str, Subscription]] = field(default_factory=lambda: defaultdict(dict))
    links: dict[str, list[SubscriptionLink]] = field(default_factory=lambda: defaultdict(list))
    licences: dict[int, LicenceFacts] = field(default_factory=dict)
    invoices: dict[int, list[RecurringInvoiceRecord]] = field(default_factory=lambda: defaultdict(list))
    products: dict[str, Product] = field(default_factory=dict)


def read_billing(mappings: list[Mapping], upstreams: Upstreams, store: Store) -> list[ClientBilling]:
    """One :class:`ClientBilling` per Halo client the ``mappings`` name, in client id order."""
    if not mappings:
        return []
    world = BillingWorld()
    customers = {m.dicker_customer_id for m in mappings}
    _read_subscriptions(upstreams, customers, world)
    _read_links(store, customers, world)
    world.licences = _read_licences(upstreams.halo, world)
    clients = {m.halo_client_id for m in mappings}
    world.invoices = invoices_by_client(upstreams.halo.recurring_invoices(), clients)
    job_log.step("Halo recurring invoices read")
    world.products = _read_products(upstreams.halo, store)
    gone = _gone_links(world)
    fields = {(lk.dicker_customer_id, lk.subscription_id): lk for lk in store.get_links(gone)} if gone else {}
    return group_clients(mappings, world, fields)


def _read_subscriptions(upstreams: Upstreams, customers: set[str], world: BillingWorld) -> None:
    """Every subscription Dicker Data answers (one bulk read), kept for the customers checked."""
    for sub in upstreams.dicker_data.get_subscriptions().items:
        if sub.tenant_id in customers:
            world.subscriptions[sub.tenant_id][sub.subscription_id] = sub
    job_log.step("Dicker Data subscriptions parsed")


def _read_links(store: Store, customers: set[str], world: BillingWorld) -> None:
    for link in store.list_links(with_fields=False):
        if link.dicker_customer_id in customers:
            world.links[link.dicker_customer_id].append(link)
    job_log.step("links read")


def _read_licences(halo: HaloClient, world: BillingWorld) -> dict[int, LicenceFacts]:
    """The linked licences' counts, from one paged read of every licence (slim: only the count
    and identity are kept). A linked licence the pages did not show (the list shifted while it
    was read) is read by its id: taken for missing, its count would be reported as differing."""
    linked = {lk.halo_licence_id for links in world.links.values() for lk in links}
    found: dict[int, LicenceFacts] = {}
    for licence in halo.iter_licences(slim=linked):
        if licence.id in linked:
            found[licence.id] = LicenceFacts(licence.id, _count(licence.value("count")))
    for licence_id in sorted(linked - set(found)):
        record = halo.licence(licence_id)
        if record is not None:  # None: Halo holds it no more
            found[licence_id] = LicenceFacts(licence_id, _count(record.value("count")))
    job_log.step("Halo licences read")
    return found


def _count(value: object) -> int:
    """A licence's count as Halo answered it; a missing or odd one reads as 0 seats."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    return int(value)


def invoices_by_client(
    invoices: Iterable[RecurringInvoiceRecord], clients: set[int]
) -> dict[int, list[RecurringInvoiceRecord]]:
    """The recurring invoices of the clients checked, by client (the others are not ours)."""
    by_client: dict[int, list[RecurringInvoiceRecord]] = defaultdict(list)
    for invoice in invoices:
        if invoice.client_id in clients:
            by_client[invoice.client_id].append(invoice)
    return by_client


def _read_products(halo: HaloClient, store: Store) -> dict[str, Product]:
    """The product mappings with their Items' prices; Items are read only when one is mapped."""
    mappings = store.list_products()
    if not mappings:
        return {}
    items = {item.id: item for item in halo.items()}
    job_log.step("Halo items read")
    return priced_products(mappings, items)


def priced_products(mappings: Iterable[ProductMapping], items: dict[int, ItemRecord]) -> dict[str, Product]:
    """Stock code → its product; an Item Halo no longer answers leaves the product unpriced."""
    products: dict[str, Product] = {}
    for mapping in mappings:
        item = items.get(mapping.halo_item_id)
        recurring = decimal_of(item.recurring_price) if item is not None else None
        base = decimal_of(item.base_price) if item is not None else None
        products[mapping.stock_code] = Product(mapping.stock_code, mapping.halo_item_id, recurring, base)
    return products


def _gone_links(world: BillingWorld) -> list[tuple[str, str]]:
    """The links whose subscription Dicker Data no longer answers: their fields are read, to say
    what the subscription was."""
    return [
        (customer, lk.subscription_id)
        for customer, links in world.links.items()
        for lk in links
        if lk.subscription_id not in world.subscriptions.get(customer, {})
    ]


def group_clients(
    mappings: list[Mapping], world: BillingWorld, gone: dict[tuple[str, str], SubscriptionLink]
) -> list[ClientBilling]:
    """Per Halo client: its invoices and lines, and the linked subscriptions of every customer
    mapped to it (sorted by customer, then subscription)."""
    customers: dict[int, list[str]] = defaultdict(list)
    for mapping in mappings:
        customers[mapping.halo_client_id].append(mapping.dicker_customer_id)
    clients = []
    for client_id in sorted(customers):
        invoices = world.invoices.get(client_id, [])
        subscribed = [
            _subscribed(world, customer, link, gone)
            for customer in sorted(customers[client_id])
            for link in sorted(world.links.get(customer, []), key=lambda lk: lk.subscription_id)
        ]
        clients.append(
            ClientBilling(
                client_id,
                tuple(RecurringInvoice(i.id, i.disabled) for i in invoices),
                tuple(invoice_line(line) for i in invoices for line in i.lines or ()),
                tuple(subscribed),
            )
        )
    return clients


def _subscribed(
    world: BillingWorld, customer: str, link: SubscriptionLink, gone: dict[tuple[str, str], SubscriptionLink]
) -> Subscribed:
    sub = world.subscriptions.get(customer, {}).get(link.subscription_id)
    if sub is not None:
        facts = subscription_facts(sub)
    else:
        facts = gone_facts(gone.get((customer, link.subscription_id), link))
    return Subscribed(facts, world.licences.get(link.halo_licence_id), world.products.get(facts.stock_code))


def subscription_facts(sub: Subscription) -> SubscriptionFacts:
    """A subscription Dicker Data answers: active, or (suspended, cancelled) charging nothing."""
    return SubscriptionFacts(
        customer_id=sub.tenant_id,
        subscription_id=sub.subscription_id,
        stock_code=sub.manufacturer_stock_code,
        dicker_stock_code=sub.stock_code,
        description=sub.stock_description or sub.reference or sub.subscription_id,
        status="active" if sub.is_active else "cancelled",
        quantity=sub.quantity,
        annual=_annual(sub.msc),
        end_date=sub.expiry_date,
    )


def _annual(msc: ManufacturerStockCode) -> bool:
    """A yearly term (P1Y, P3Y): its end date is a renewal to warn of."""
    return msc.term.upper().startswith("P") and msc.term.upper().endswith("Y")


def gone_facts(link: SubscriptionLink) -> SubscriptionFacts:
    """A subscription Dicker Data no longer answers, as far as its link remembers what we wrote
    (the stock code is put back together from the licence's term, product:SKU and billing)."""
    fields = link.fields or {}
    billing = _BILLING_CODES.get(str(fields.get("billing_cycle") or ""), "")
    parts = (str(fields.get("term_duration") or ""), str(fields.get("vendor_product_sku") or ""), billing)
    return SubscriptionFacts(
        customer_id=link.dicker_customer_id,
        subscription_id=link.subscription_id,
        stock_code=":".join(parts) + ":" if all(parts) else "",
        dicker_stock_code=str(fields.get("product_sku") or ""),
        description=str(fields.get("name") or link.subscription_id),
        status="gone",
        quantity=0,
        annual=False,
    )


def invoice_line(line: RecurringInvoiceLineRecord) -> InvoiceLine:
    """A line as the plan compares it: a null ``qty_order`` bills 0."""
    return InvoiceLine(
        id=line.id,
        invoice_id=line.recurring_invoice_id or 0,
        item_id=line.item_id,
        qty_order=decimal_of(line.quantity) or Decimal(0),
        unit_price=decimal_of(line.unit_price),
        inactive=line.is_inactive,
        licence_ids=line.licence_ids,
    )
