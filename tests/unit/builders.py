"""Tiny builders of what the pipeline tests feed in: Dicker Data rows and records, Halo's tenant
links and licences as they read on the wire, mappings, subscription links and the inputs a plan
reads. Each builds the smallest valid thing; ``**extra`` adds (or overrides) what a test is about.

The subscription builders share one customer: Dicker Data's ``t1``, mapped to Halo client 7, whose
Microsoft tenant is ``ms-tenant``."""

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from ddhalo.dicker_data.client import Parsed
from ddhalo.dicker_data.models import Subscription, Tenant
from ddhalo.halo.records import ClientRecord, Licence, SiteRecord
from ddhalo.jobs.job import Job
from ddhalo.models import Mapping, MappingSource, SubscriptionLink, compact_json
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
from ddhalo.pipeline.compare import content_hash
from ddhalo.pipeline.customers.read import CustomerInputs, DickerDataCustomers, HaloClients
from ddhalo.pipeline.subscriptions.fields import desired_fields
from ddhalo.pipeline.subscriptions.read import CustomerScope


def mapping(tid: str, client_id: int, source: MappingSource = "manual", **extra: Any) -> Mapping:
    """Dicker Data customer ``tid`` mapped to Halo client ``client_id`` (by hand, by default)."""
    return Mapping(dicker_customer_id=tid, halo_client_id=client_id, source=source, **extra)


# ---------------------------------------------------------------------------------- customers
def tenant(tid: str, name: str, **extra: Any) -> dict[str, Any]:
    """A Dicker Data customer row, as its API answers it."""
    return {"TenantId": tid, "CompanyName": name, "TenantDomain": f"{tid}.onmicrosoft.com", **extra}


def link(tid: str, name: str) -> dict[str, str]:
    """The Azure tenant link a Halo client holds for ``tenant(tid, name)``, as we write it."""
    return {
        "azure_tenant_id": tid,
        "azure_tenant_name": name,
        "azure_tenant_domain": f"{tid}.onmicrosoft.com",
    }


def customers(*rows: dict[str, Any]) -> DickerDataCustomers:
    """Dicker Data's customers as the read step sorts them: by tenant id, or without one."""
    snapshot = DickerDataCustomers()
    for row in rows:
        parsed = Tenant.from_api(row)
        if parsed.has_csp_tenant:
            snapshot.by_id[parsed.tenant_id] = parsed
        else:
            snapshot.without_tenant.append(parsed)
    return snapshot


def customer_inputs(
    dd: DickerDataCustomers,
    halo_clients: Iterable[dict[str, Any]],
    mappings: dict[str, Mapping] | None = None,
    sites: dict[int, dict[str, Any]] | None = None,
) -> CustomerInputs:
    """What the customer plan reads, Halo's side as it answers on the wire, read as the client does."""
    return CustomerInputs(
        customers=dd,
        clients=HaloClients.of([c for raw in halo_clients if (c := ClientRecord.from_wire(raw))]),
        sites={i: s for i, raw in (sites or {}).items() if (s := SiteRecord.from_wire(raw))},
        mappings=mappings or {},
    )


# ---------------------------------------------------------------------------------- subscriptions
MAPPING = mapping("t1", 7)


def sub(sid: str, **extra: Any) -> Subscription:
    """One of ``t1``'s Dicker Data subscriptions: active, three seats, yearly, paid annually."""
    row = {
        "SubscriptionId": sid,
        "TenantId": "t1",
        "Status": "ACTIVE",
        "StockCode": "SKU-1",
        "StockDescription": f"Product {sid}",
        "ManufacturerStockCode": "P1Y:CFQ7TTC0LH18:0001:Y:",
        "BillingFrequency": "Annual",
        "ExpiryDate": "2027-01-01T00:00:00",
        "ConfirmedQuantity": 3,
        **extra,
    }
    return Subscription.from_api(row)


def licence_for(s: Subscription, licence_id: int) -> dict[str, Any]:
    """Halo licence ``licence_id`` holding exactly what the plan writes for ``s``."""
    return {"id": licence_id, **desired_fields(s, 7, "ms-tenant")}


def link_for(s: Subscription, licence_id: int, parent_id: int | None = None) -> SubscriptionLink:
    """The stored link of ``s`` to licence ``licence_id``, remembering what was written."""
    fields = {**desired_fields(s, 7, "ms-tenant"), "parent_id": parent_id}
    return SubscriptionLink(
        dicker_customer_id="t1",
        subscription_id=s.subscription_id,
        halo_licence_id=licence_id,
        content_hash=content_hash(fields),
        fields_json=compact_json(fields),
    )


def scope(
    subs: Iterable[Subscription],
    licences: Iterable[dict[str, Any]] = (),
    links: Iterable[SubscriptionLink] = (),
) -> CustomerScope:
    """What the subscription plan reads for ``t1``: its subscriptions, Halo's licences (as on the
    wire) and the stored links."""
    return CustomerScope(
        MAPPING,
        "ms-tenant",
        Parsed(items=list(subs)),
        [lic for raw in licences if (lic := Licence.from_wire(raw))],
        {lk.subscription_id: lk for lk in links},
    )


def chunk(index: int) -> str:
    """The name of apply chunk ``index``, as its job names it (the store keys its work by it)."""
    return Job(run_id="r", kind="sync", phase="apply-subscriptions", index=index).chunk


# ---------------------------------------------------------------------------------- billing
# One Halo client (7) with one active recurring invoice (100); the product is Item 50 at 12.50.
def facts(sid: str = "S1", **extra: Any) -> SubscriptionFacts:
    """A subscription of ``t1`` as the billing check sees it: active, three seats, monthly."""
    values: dict[str, Any] = {
        "customer_id": "t1",
        "subscription_id": sid,
        "stock_code": "P1M:CFQ7TTC0LH18:0001:M:",
        "dicker_stock_code": "SKU-1",
        "description": f"Product {sid}",
        "status": "active",
        "quantity": 3,
        "annual": False,
        **extra,
    }
    return SubscriptionFacts(**values)


def product(item_id: int = 50, recurring: str | None = "12.50", base: str | None = None) -> Product:
    """The product's mapping to Halo Item ``item_id`` and the Item's prices."""
    return Product("P1M:CFQ7TTC0LH18:0001:M:", item_id, decimal_of(recurring), decimal_of(base))


def subscribed(
    sid: str = "S1",
    licence: tuple[int, int] | None = (1, 3),
    mapped: Product | None = None,
    *,
    unmapped: bool = False,
    **extra: Any,
) -> Subscribed:
    """Subscription ``sid`` linked to licence ``(id, count)``, its product mapped unless ``unmapped``."""
    lic = LicenceFacts(*licence) if licence is not None else None
    return Subscribed(facts(sid, **extra), lic, None if unmapped else (mapped or product()))


def line(line_id: int, qty: int | str, *licence_ids: int, **extra: Any) -> InvoiceLine:
    """Line ``line_id`` of invoice 100 billing ``qty`` of Item 50 at 12.50, linking ``licence_ids``."""
    values: dict[str, Any] = {
        "invoice_id": 100,
        "item_id": 50,
        "unit_price": Decimal("12.50"),
        "licence_ids": licence_ids,
        **extra,
    }
    return InvoiceLine(id=line_id, qty_order=Decimal(str(qty)), **values)


def client_billing(
    subs: Iterable[Subscribed],
    lines: Iterable[InvoiceLine] = (),
    invoices: Iterable[RecurringInvoice] = (RecurringInvoice(100),),
    client_id: int = 7,
) -> ClientBilling:
    return ClientBilling(client_id, tuple(invoices), tuple(lines), tuple(subs))
