"""Subscriptions, plan: Dicker Data subscriptions → Halo licences (``SoftwareLicence``). Pure.

Fields we own on a licence, and why (docs/HALO_FIELDS_USED.md has the full table): ``client_id``
(the mapped client), ``name`` (StockDescription), ``count`` (ConfirmedQuantity), ``distributor`` =
"Dicker Data", ``manufacturer``/``vendor`` = "Microsoft", ``product_sku`` (StockCode),
``vendor_product_sku`` (Microsoft product:SKU), ``term_duration`` (P1M/P1Y), ``billing_cycle``,
``status``, ``is_active``, ``end_date`` (ExpiryDate), ``tenant_id`` (the Microsoft tenant),
``parent_id`` (the base licence of an add-on) and ``notes``, whose first line is our marker
(:func:`ddhalo.halo.records.marker_line`). Halo has no external-id field, so DynamoDB links are
the authority and the marker lets a crash between the Halo create and the link write converge
instead of duplicating. Nothing is ever deleted: gone or cancelled subscriptions become inactive.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from ddhalo.dicker_data.models import Subscription
from ddhalo.halo.records import DRIFT_FIELDS, MAX_NAME, Licence, LicenceFields, licence_patch, marker_line
from ddhalo.models import RESULT_OF, RunItem, SubscriptionLink
from ddhalo.pipeline.compare import content_hash, holds
from ddhalo.pipeline.subscriptions.read import CustomerScope

DISTRIBUTOR = "Dicker Data"
MANUFACTURER = "Microsoft"
STATUS_NAMES = {
    "ACTIVE": "Active",
    "SUSPENDED": "Suspended",
    "CANCELLED": "Cancelled",
    "CANCELED": "Cancelled",
}
GONE_STATUS = "Removed in Dicker Data"
BILLING_NAMES = {"1": "Monthly", "M": "Monthly", "Y": "Annual", "A": "Annual", "3": "Triennial"}


def desired_fields(sub: Subscription, client_id: int, tenant_id: str) -> LicenceFields:
    """What Halo should hold for this subscription (everything but ``parent_id``)."""
    msc = sub.msc
    name = sub.stock_description or sub.reference or sub.stock_code or sub.subscription_id
    status = sub.status.upper()
    notes = [marker_line(sub.subscription_id)]
    if sub.reference:
        notes.append(f"Reference: {sub.reference}")
    if sub.next_billing_date:
        notes.append(f"Next billing: {sub.next_billing_date.isoformat()}")
    if sub.last_billing_date:
        notes.append(f"Last billing: {sub.last_billing_date.isoformat()}")
    if msc.raw:
        notes.append(f"Manufacturer stock code: {msc.raw}")
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
        "notes": "\n".join(notes),
    }


EXCLUDED = "Excluded by the settings (exclusions.stock_codes): left as it is in Halo."


@dataclass(slots=True)  # a plan holds one per subscription: tens of thousands
class SubscriptionAction:
    action: Literal["create", "update", "unchanged", "skip", "fail"]
    customer_id: str
    subscription_id: str
    name: str
    halo_id: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # desired LicenceFields, without parent_id
    patch: dict[str, Any] | None = None
    parent_subscription_id: str = ""
    parent_licence_id: int | None = None
    reason: str | None = None
    reason_code: str | None = None
    changes: list[str] = field(default_factory=list)
    relink: bool = False  # store the link even if Halo needs no write (adopted by marker)
    occurrence: int = 0  # >0 for a duplicate row of the same id, reported as its own item
    # An earlier create lost its answer (sent then, epoch seconds): look for it before creating,
    # once Halo has had the settle window since then.
    lost_at: float | None = None
    duplicates: list[int] = field(default_factory=list)  # duplicate_in_halo: every licence of it

    @property
    def key(self) -> str:
        return f"{self.customer_id}#{self.subscription_id}"

    def item(self, result: str | None = None, **overrides: Any) -> RunItem:
        values: dict[str, Any] = {
            "type": "subscription",
            "dicker_id": self.subscription_id,
            "halo_id": self.halo_id,
            "result": result or RESULT_OF[self.action],
            "reason": self.reason,
            "reason_code": self.reason_code,
            "name": self.name,
            "customer_id": self.customer_id,
            "changes": self.changes,
            "occurrence": self.occurrence,
            "duplicate_ids": self.duplicates,
        }
        values.update(overrides)
        return RunItem.model_validate(values)

    def written(self) -> dict[str, Any]:
        """Every field as written, ``parent_id`` included: what its link remembers."""
        return {**self.fields, "parent_id": self.parent_licence_id}

    def full_hash(self) -> str:
        return content_hash(self.written())

    def create_record(self) -> dict[str, Any]:
        """The licence to create: no nulls (Halo's defaults stand), the parent when known."""
        record = {k: v for k, v in self.fields.items() if v is not None}
        if self.parent_licence_id is not None:
            record["parent_id"] = self.parent_licence_id
        return record


@dataclass(frozen=True)
class NeedsLinkFields:
    """This customer's plan must compare with what we last wrote (something changed or vanished),
    and its links were read without it: read them whole and plan it again."""

    customer_id: str


CustomerPlan = list[SubscriptionAction] | NeedsLinkFields


def plan_customer(scope: CustomerScope) -> CustomerPlan:
    """One action per subscription of this customer (and per licence of ours that vanished)."""
    customer_id = scope.mapping.dicker_customer_id
    if scope.subscriptions is None:
        return []
    client_id = scope.mapping.halo_client_id
    # On a shared Halo client, the other customers' licences are theirs, never this plan's.
    licences = {lic.id: lic for lic in scope.licences if lic.id not in scope.others_licences}
    carriers = _carriers(licences, scope, client_id)
    by_marker = {marker: ids[0] for marker, ids in carriers.items()}  # the oldest

    unique: dict[str, Subscription] = {}
    actions: list[SubscriptionAction] = []
    excluded: set[str] = set()  # answered, but left alone: neither written nor taken for gone
    for sub in scope.subscriptions.items:
        if sub.tenant_id == customer_id and sub.stock_code in scope.excluded_stock_codes:
            if sub.subscription_id not in excluded:
                excluded.add(sub.subscription_id)
                actions.append(
                    SubscriptionAction(
                        "skip",
                        customer_id,
                        sub.subscription_id,
                        sub.stock_description,
                        reason=EXCLUDED,
                        reason_code="excluded",
                    )
                )
            continue
        if sub.tenant_id != customer_id:
            owner = (
                f"another customer ({sub.tenant_id[:40]})" if sub.tenant_id else "no customer (no TenantId)"
            )
            reason, code = f"Dicker Data answered it for {owner}.", "other_customer"
        elif sub.subscription_id in unique:
            reason = "Dicker Data answered this SubscriptionId twice; the first is used."
            code = "duplicate_id"
        else:
            unique[sub.subscription_id] = sub
            continue
        occurrence = sum(1 for a in actions if a.subscription_id == sub.subscription_id) + 1
        actions.append(
            SubscriptionAction(
                "fail",
                customer_id,
                sub.subscription_id,
                sub.stock_description,
                reason=reason,
                reason_code=code,
                occurrence=occurrence,
            )
        )
    licence_of: dict[str, int] = {}
    for sub_id in unique:
        link = scope.links.get(sub_id)
        if link is not None and (scope.trusted or link.halo_licence_id in licences):
            licence_of[sub_id] = link.halo_licence_id
        elif sub_id in by_marker:
            licence_of[sub_id] = by_marker[sub_id]
    answered = {s.subscription_id for s in scope.subscriptions.items}
    twins = _twins(carriers, scope, licences)
    # Base subscriptions before add-ons, so an add-on can name its parent's licence.
    for sub in sorted(unique.values(), key=lambda s: (bool(s.parent_subscription_id), s.subscription_id)):
        planned = _plan_one(sub, scope, client_id, licences, licence_of, answered)
        if isinstance(planned, NeedsLinkFields):
            return planned
        actions.append(
            _held_as_duplicate(planned, twins, licences) if sub.subscription_id in twins else planned
        )
    for sub_id, link in sorted(scope.links.items()):
        if sub_id not in unique and sub_id not in excluded:
            if sub_id in twins:
                actions.append(_duplicate(customer_id, sub_id, twins[sub_id], licences, scope))
                continue
            gone = _plan_gone(customer_id, sub_id, link.halo_licence_id, licences, link, scope.trusted)
            if isinstance(gone, NeedsLinkFields):
                return gone
            actions.extend(gone)
    for marker, licence_id in sorted(by_marker.items()):
        if marker not in scope.links and marker not in unique and marker not in excluded:
            if marker in twins:
                actions.append(_duplicate(customer_id, marker, twins[marker], licences, scope))
                continue
            gone = _plan_gone(customer_id, marker, licence_id, licences, None)
            assert not isinstance(gone, NeedsLinkFields)  # no link: nothing to read
            actions.extend(gone)
    actions += [
        SubscriptionAction(
            "fail",
            customer_id,
            bad.ref,
            bad.name,
            reason=f"Dicker Data record unreadable: {bad.reason}",
            reason_code="unreadable_record",
            occurrence=bad.index + 1,
        )
        for bad in scope.subscriptions.invalid
    ]
    return actions


def _carriers(licences: dict[int, Licence], scope: CustomerScope, client_id: int) -> dict[str, list[int]]:
    """Per subscription id, the licences of this client carrying its marker, oldest first."""
    carriers: dict[str, list[int]] = {}
    for licence_id, licence in sorted(licences.items()):
        if licence.marker and licence.marker not in scope.others and licence.is_ours_for(client_id):
            carriers.setdefault(licence.marker, []).append(licence_id)
    return carriers


def _twins(
    carriers: dict[str, list[int]], scope: CustomerScope, licences: dict[int, Licence]
) -> dict[str, list[int]]:
    """Subscriptions that Halo holds more than once (a create saved after its answer was lost and
    sent again, or a licence copied by hand): every licence of each, oldest first. Only where the
    licences were read (a plain sync trusts its links and reads none)."""
    if scope.trusted:
        return {}
    twins = {}
    for sub_id in set(carriers) | set(scope.links):
        ids = set(carriers.get(sub_id, ()))
        link = scope.links.get(sub_id)
        if link is not None and link.halo_licence_id in licences:
            ids.add(link.halo_licence_id)
        if len(ids) > 1:
            twins[sub_id] = sorted(ids)
    return twins


def _kept(sub_id: str, ids: list[int], scope: CustomerScope) -> int:
    """The one to keep in step: the linked one (what we have been writing), else the oldest."""
    link = scope.links.get(sub_id)
    return link.halo_licence_id if link is not None and link.halo_licence_id in ids else ids[0]


def _duplicate_reason(ids: list[int], kept: int) -> str:
    others = ", ".join(f"#{i}" for i in ids if i != kept)
    return (
        f"Halo holds {len(ids)} licences for this subscription ({', '.join(f'#{i}' for i in ids)}); "
        f"#{kept} is kept in step, nothing was changed. Delete or deactivate {others} in Halo."
    )


def _held_as_duplicate(
    planned: SubscriptionAction, twins: dict[str, list[int]], licences: dict[int, Licence]
) -> SubscriptionAction:
    """A subscription Halo holds twice is not written: it is reported for a person to resolve. It
    is linked to the one kept (so no later plain sync creates a third), with what that one holds."""
    ids = twins[planned.subscription_id]
    kept = planned.halo_id if planned.halo_id in ids else ids[0]
    held = SubscriptionAction(
        "skip",
        planned.customer_id,
        planned.subscription_id,
        planned.name,
        halo_id=kept,
        parent_subscription_id=planned.parent_subscription_id,
        reason=_duplicate_reason(ids, kept),
        reason_code="duplicate_in_halo",
        duplicates=ids,
    )
    if planned.relink or planned.halo_id != kept:  # no link to the kept one yet
        current = licences[kept]
        wanted = planned.written() if planned.fields else {}
        held.fields = {k: v if holds(v, current.value(k)) else current.value(k) for k, v in wanted.items()}
        held.parent_licence_id = held.fields.pop("parent_id", None)
        held.relink = bool(held.fields)
    return held


def _duplicate(
    customer_id: str, sub_id: str, ids: list[int], licences: dict[int, Licence], scope: CustomerScope
) -> SubscriptionAction:
    """A subscription gone from Dicker Data that Halo holds twice: reported, nothing written."""
    kept = _kept(sub_id, ids, scope)
    return SubscriptionAction(
        "skip",
        customer_id,
        sub_id,
        licences[kept].name or sub_id,
        halo_id=kept,
        reason=_duplicate_reason(ids, kept),
        reason_code="duplicate_in_halo",
        duplicates=ids,
    )


def _plan_one(
    sub: Subscription,
    scope: CustomerScope,
    client_id: int,
    licences: dict[int, Licence],
    licence_of: dict[str, int],
    answered: set[str],
) -> SubscriptionAction | NeedsLinkFields:
    customer_id = scope.mapping.dicker_customer_id
    desired = desired_fields(sub, client_id, scope.tenant_id)
    fields: dict[str, Any] = dict(desired)
    action = SubscriptionAction(
        "unchanged",
        customer_id,
        sub.subscription_id,
        desired["name"],
        fields=fields,
        parent_subscription_id=sub.parent_subscription_id,
    )
    if sub.parent_subscription_id:
        action.parent_licence_id = licence_of.get(sub.parent_subscription_id)
        if action.parent_licence_id is None and sub.parent_subscription_id not in answered:
            action.reason = (
                f"The base subscription {sub.parent_subscription_id} is not in Dicker Data's answer."
            )
    licence_id = licence_of.get(sub.subscription_id)
    if licence_id is None:
        action.action = "create"
        action.changes = ["licence"]
        return action
    action.halo_id = licence_id
    link = scope.links.get(sub.subscription_id)
    wanted = action.written()
    if link is not None and link.halo_licence_id == licence_id:
        # Read (not trusted): what Halo holds may differ from what we wrote, edited by hand.
        drift = [] if scope.trusted else _drift(wanted, licences[licence_id])
        if link.content_hash == content_hash(wanted):
            if not drift:
                action.fields = {}  # neither written nor linked again: only its item is needed
                return action
            changed = drift
        else:
            last = link.fields
            if last is None:
                return NeedsLinkFields(customer_id)
            changed = [k for k, v in wanted.items() if last.get(k) != v and not (v is None and k not in last)]
            changed += [k for k in drift if k not in changed]
    else:
        action.relink = True
        current = licences[licence_id]
        changed = [k for k, v in wanted.items() if not holds(v, current.value(k))]
    changed = [k for k in changed if not (k == "parent_id" and action.parent_licence_id is None)]
    if changed:
        action.action = "update"
        action.changes = changed
        action.patch = licence_patch(licence_id, {k: wanted[k] for k in changed})
    return action


def _drift(wanted: dict[str, Any], licence: Licence) -> list[str]:
    """The fields a hand edit most often changes that Halo answered otherwise than we want."""
    return [
        k
        for k in DRIFT_FIELDS
        if k in licence.owned and k in wanted and not holds(wanted[k], licence.owned[k])
    ]


def _plan_gone(
    customer_id: str,
    sub_id: str,
    licence_id: int,
    licences: dict[int, Licence],
    link: SubscriptionLink | None,
    trusted: bool = False,
) -> list[SubscriptionAction] | NeedsLinkFields:
    """A subscription no longer answered by Dicker Data: its licence becomes inactive, never
    deleted. ``trusted``: the licence was not read, and its link says what it holds."""
    licence = licences.get(licence_id)
    if licence is None and not trusted:
        return []  # not in Halo any more (deleted there): nothing to make inactive
    last = link.fields if link else {}
    if licence is None and last is None:
        return NeedsLinkFields(customer_id)  # only what we wrote says whether it is inactive yet
    written = last or {}
    action = SubscriptionAction(
        "unchanged",
        customer_id,
        sub_id,
        licence.name if licence is not None else str(written.get("name") or sub_id),
        halo_id=licence_id,
        reason="No longer in Dicker Data's answer: kept in Halo as inactive.",
    )
    state = (
        (licence.is_active, licence.status) if licence else (written.get("is_active"), written.get("status"))
    )
    if state == (False, GONE_STATUS):
        return [action]  # made inactive by an earlier run: nothing to write
    if last is None:
        return NeedsLinkFields(customer_id)
    gone = {"is_active": False, "status": GONE_STATUS}
    action.fields = {**last, **gone}
    action.action = "update"
    action.changes = list(gone)
    action.patch = licence_patch(licence_id, gone)
    action.relink = True
    return [action]
