"""What a Halo licence (``SoftwareLicence``) holds for a Dicker Data subscription. Pure.

Fields we own on a licence, and why (docs/HALO_FIELDS_USED.md has the full table): ``client_id``
(the mapped client), ``name`` (StockDescription), ``count`` (ConfirmedQuantity), ``distributor`` =
"Dicker Data", ``manufacturer``/``vendor`` = "Microsoft", ``product_sku`` (StockCode),
``vendor_product_sku`` (Microsoft product:SKU), ``term_duration`` (P1M/P1Y), ``billing_cycle``,
``status``, ``is_active``, ``end_date`` (ExpiryDate), ``tenant_id`` (the Microsoft tenant),
``parent_id`` (the base licence of an add-on, known only once the base is in Halo, so the plan
sets it) and ``notes``, whose first line is our marker (:func:`ddhalo.halo.records.marker_line`).
Halo has no external-id field, so DynamoDB links are the authority and the marker lets a crash
between the Halo create and the link write converge instead of duplicating.
"""

from __future__ import annotations

from ddhalo.dicker_data.models import Subscription
from ddhalo.halo.records import MAX_NAME, LicenceFields, marker_line

DISTRIBUTOR = "Dicker Data"
MANUFACTURER = "Microsoft"
STATUS_NAMES = {
    "ACTIVE": "Active",
    "SUSPENDED": "Suspended",
    "CANCELLED": "Cancelled",
    "CANCELED": "Cancelled",
}
# The status of a licence whose subscription Dicker Data no longer answers (made inactive, never
# deleted).
GONE_STATUS = "Removed in Dicker Data"
BILLING_NAMES = {"1": "Monthly", "M": "Monthly", "Y": "Annual", "A": "Annual", "3": "Triennial"}


def desired_fields(sub: Subscription, client_id: int, tenant_id: str) -> LicenceFields:
    """What Halo should hold for this subscription (everything but ``parent_id``)."""
    msc = sub.msc
    name = sub.stock_description or sub.reference or sub.stock_code or sub.subscription_id
    status = sub.status.upper()
    return {
        "client_id": client_id,
        "name": name[:MAX_NAME],
        "count": max(0, sub.quantity),
        "distributor": DISTRIBUTOR,
        "manufacturer": MANUFACTURER,
        "vendor": MANUFACTURER,
        "product_sku": sub.stock_code,
        "vendor_product_sku": ":".join(p for p in (msc.product_id, msc.sku_id) if p),
        "term_duration": msc.term,
        "billing_cycle": sub.billing_frequency or BILLING_NAMES.get(msc.billing.upper(), msc.billing),
        "status": STATUS_NAMES.get(status, status.title()),
        "is_active": sub.is_active,
        "end_date": sub.expiry_date.isoformat() if sub.expiry_date else None,
        "tenant_id": tenant_id,
        "notes": _notes(sub),
    }


def _notes(sub: Subscription) -> str:
    """Our marker first (how a licence is known as ours), then what helps a person reading it."""
    notes = [marker_line(sub.subscription_id)]
    if sub.reference:
        notes.append(f"Reference: {sub.reference}")
    if sub.next_billing_date:
        notes.append(f"Next billing: {sub.next_billing_date.isoformat()}")
    if sub.last_billing_date:
        notes.append(f"Last billing: {sub.last_billing_date.isoformat()}")
    if sub.msc.raw:
        notes.append(f"Manufacturer stock code: {sub.msc.raw}")
    return "\n".join(notes)
