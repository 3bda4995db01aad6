"""Import subscriptions: Dicker Data subscriptions → Halo licences (``SoftwareLicence``).

Fields we own on a licence, and why (names and types from Halo's OpenAPI document as listed in
``shared/reference/HALO_FIELDS.md``; the full table is in docs/HALO_FIELDS_USED.md):
``client_id`` (the mapped client), ``name`` (StockDescription), ``count`` (ConfirmedQuantity),
``distributor`` = "Dicker Data", ``manufacturer``/``vendor`` = "Microsoft", ``product_sku``
(StockCode), ``vendor_product_sku`` (Microsoft product:SKU), ``term_duration`` (P1M/P1Y),
``billing_cycle``, ``status``, ``is_active``, ``end_date`` (ExpiryDate), ``tenant_id`` (the
Microsoft tenant), ``parent_id`` (the base licence of an add-on) and ``notes``, whose first line
is our marker ``Dicker Data subscription: <SubscriptionId>``. Halo has no external-id field, so
DynamoDB links are the authority and the marker lets a crash between the Halo create and the link
write converge instead of duplicating. Nothing is ever deleted: gone or cancelled subscriptions
become inactive.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from functools import partial
from typing import Any, Literal

from pydantic import BaseModel

from ddhalo.apply import Applied, content_hash, create_reconciled, holds, reason, record_id, save_patches
from ddhalo.dicker_data.client import Parsed
from ddhalo.dicker_data.models import Subscription
from ddhalo.errors import ConflictError, IntegrationError
from ddhalo.halo.client import HaloClient, PageCursor, halo_id
from ddhalo.models import LinkFieldsNotRead, Mapping, RunItem, SubscriptionLink, compact_json
from ddhalo.runs import Upstreams
from ddhalo.store import Store

DISTRIBUTOR = "Dicker Data"
MANUFACTURER = "Microsoft"
MARKER = "Dicker Data subscription: "
# To the end of its line: a SubscriptionId is whatever Dicker Data says, spaces included.
_MARKER = re.compile(r"^Dicker Data subscription: (.+?)\s*$", re.MULTILINE)
MAX_NAME = 255
# Up to this many customers, read per customer; above it, one bulk read of each side is cheaper.
PER_CUSTOMER_READS = 10
STATUS_NAMES = {
    "ACTIVE": "Active",
    "SUSPENDED": "Suspended",
    "CANCELLED": "Cancelled",
    "CANCELED": "Cancelled",
}
GONE_STATUS = "Removed in Dicker Data"
BILLING_NAMES = {"1": "Monthly", "M": "Monthly", "Y": "Annual", "A": "Annual", "3": "Triennial"}


# What the plan reads of a Halo licence: its identity, our marker, and the fields we own. A bulk
# read keeps only these (Halo answers many more per licence, and tens of thousands of licences);
# of a licence we have a link to, only what marks it ours or gone (its link holds what we wrote).
LINKED_LICENCE_KEYS = frozenset({"id", "client_id", "name", "is_active", "status"})
LICENCE_KEYS = frozenset(
    {
        "id",
        "client_id",
        "name",
        "count",
        "distributor",
        "manufacturer",
        "vendor",
        "product_sku",
        "vendor_product_sku",
        "term_duration",
        "billing_cycle",
        "status",
        "is_active",
        "end_date",
        "tenant_id",
        "parent_id",
        "notes",
    }
)


class SubscriptionOptions(BaseModel):
    customer_ids: list[str] | None = None


def marker_of(licence: dict[str, Any]) -> str | None:
    match = _MARKER.search(str(licence.get("notes") or ""))
    return match.group(1) if match else None


def desired_fields(sub: Subscription, client_id: int, tenant_id: str) -> dict[str, Any]:
    """What Halo should hold for this subscription (everything but ``parent_id``)."""
    msc = sub.msc
    name = sub.stock_description or sub.reference or sub.stock_code or sub.subscription_id
    status = sub.status.upper()
    notes = [f"{MARKER}{sub.subscription_id}"]
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


# ---------------------------------------------------------------------------------- plan
_RESULTS = {"create": "created", "update": "updated", "unchanged": "unchanged", "fail": "failed"}


@dataclass(slots=True)  # a plan holds one per subscription: tens of thousands
class SubscriptionAction:
    action: Literal["create", "update", "unchanged", "fail"]
    customer_id: str
    subscription_id: str
    name: str
    halo_id: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # desired, without parent_id
    patch: dict[str, Any] | None = None
    parent_subscription_id: str = ""
    parent_licence_id: int | None = None
    reason: str | None = None
    changes: list[str] = field(default_factory=list)
    relink: bool = False  # store the link even if Halo needs no write (adopted by marker)
    occurrence: int = 0  # >0 for a duplicate row of the same id, reported as its own item
    maybe_landed: bool = False  # an earlier create lost its answer: look for it before creating

    @property
    def key(self) -> str:
        return f"{self.customer_id}#{self.subscription_id}"

    def item(self, result: str | None = None, **overrides: Any) -> RunItem:
        values: dict[str, Any] = {
            "type": "subscription",
            "dicker_id": self.subscription_id,
            "halo_id": self.halo_id,
            "result": result or _RESULTS[self.action],
            "reason": self.reason,
            "name": self.name,
            "customer_id": self.customer_id,
            "changes": self.changes,
            "occurrence": self.occurrence,
        }
        values.update(overrides)
        return RunItem.model_validate(values)

    def full_hash(self) -> str:
        return content_hash({**self.fields, "parent_id": self.parent_licence_id})


@dataclass
class CustomerScope:
    """One mapped customer's inputs to the plan."""

    mapping: Mapping
    tenant_id: str
    subscriptions: Parsed[Subscription] | None  # None: Dicker Data could not be read for it
    licences: list[dict[str, Any]]
    links: dict[str, SubscriptionLink]
    error: str | None = None


def plan_customer(scope: CustomerScope) -> list[SubscriptionAction]:
    """Pure: one action per subscription of this customer (and per licence of ours that vanished)."""
    customer_id = scope.mapping.dicker_customer_id
    if scope.subscriptions is None:
        return []
    client_id = scope.mapping.halo_client_id
    licences = {licence_id: lic for lic in scope.licences if (licence_id := halo_id(lic.get("id")))}
    by_marker: dict[str, int] = {}
    for licence_id, licence in sorted(licences.items()):
        marker = marker_of(licence)
        if marker and int(licence.get("client_id") or client_id) == client_id:
            by_marker.setdefault(marker, licence_id)

    unique: dict[str, Subscription] = {}
    actions: list[SubscriptionAction] = []
    for sub in scope.subscriptions.items:
        if sub.tenant_id != customer_id:
            owner = (
                f"another customer ({sub.tenant_id[:40]})" if sub.tenant_id else "no customer (no TenantId)"
            )
            reason = f"Dicker Data answered it for {owner}."
        elif sub.subscription_id in unique:
            reason = "Dicker Data answered this SubscriptionId twice; the first is used."
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
                occurrence=occurrence,
            )
        )
    licence_of: dict[str, int] = {}
    for sub_id in unique:
        link = scope.links.get(sub_id)
        if link is not None and link.halo_licence_id in licences:
            licence_of[sub_id] = link.halo_licence_id
        elif sub_id in by_marker:
            licence_of[sub_id] = by_marker[sub_id]
    # Base subscriptions before add-ons, so an add-on can name its parent's licence.
    for sub in sorted(unique.values(), key=lambda s: (bool(s.parent_subscription_id), s.subscription_id)):
        actions.append(_plan_one(sub, scope, client_id, licences, licence_of, unique))
    for sub_id, link in sorted(scope.links.items()):
        if sub_id not in unique:
            actions.extend(_plan_gone(customer_id, sub_id, link.halo_licence_id, licences, link))
    for marker, licence_id in sorted(by_marker.items()):
        if marker not in scope.links and marker not in unique:
            actions.extend(_plan_gone(customer_id, marker, licence_id, licences, None))
    actions += [
        SubscriptionAction(
            "fail",
            customer_id,
            bad.ref,
            bad.name,
            reason=f"Dicker Data record unreadable: {bad.reason}",
            occurrence=bad.index + 1,
        )
        for bad in scope.subscriptions.invalid
    ]
    return actions


def _plan_one(
    sub: Subscription,
    scope: CustomerScope,
    client_id: int,
    licences: dict[int, dict[str, Any]],
    licence_of: dict[str, int],
    answered: dict[str, Subscription],
) -> SubscriptionAction:
    customer_id = scope.mapping.dicker_customer_id
    fields = desired_fields(sub, client_id, scope.tenant_id)
    action = SubscriptionAction(
        "unchanged",
        customer_id,
        sub.subscription_id,
        fields["name"],
        fields=fields,
        parent_subscription_id=sub.parent_subscription_id,
    )
    if sub.parent_subscription_id:
        action.parent_licence_id = licence_of.get(sub.parent_subscription_id)
        if action.parent_licence_id is None and sub.parent_subscription_id not in {
            s.subscription_id
            for s in scope.subscriptions.items  # type: ignore[union-attr]
        }:
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
    wanted = {**fields, "parent_id": action.parent_licence_id}
    if link is not None and link.halo_licence_id == licence_id:
        if link.content_hash == content_hash(wanted):
            action.fields = {}  # neither written nor linked again: only its item is needed
            return action
        last = link.fields
        changed = [k for k, v in wanted.items() if last.get(k) != v and not (v is None and k not in last)]
    else:
        action.relink = True
        current = licences[licence_id]
        changed = [k for k, v in wanted.items() if not holds(v, current.get(k))]
    changed = [k for k in changed if not (k == "parent_id" and action.parent_licence_id is None)]
    if changed:
        action.action = "update"
        action.changes = changed
        action.patch = {"id": licence_id, **{k: wanted[k] for k in changed}}
    return action


def _plan_gone(
    customer_id: str,
    sub_id: str,
    licence_id: int,
    licences: dict[int, dict[str, Any]],
    link: SubscriptionLink | None,
) -> list[SubscriptionAction]:
    """A subscription no longer answered by Dicker Data: its licence becomes inactive, never deleted."""
    licence = licences.get(licence_id)
    if licence is None:
        return []
    action = SubscriptionAction(
        "unchanged",
        customer_id,
        sub_id,
        str(licence.get("name") or ""),
        halo_id=licence_id,
        reason="No longer in Dicker Data's answer: kept in Halo as inactive.",
    )
    if licence.get("is_active") is False and str(licence.get("status") or "") == GONE_STATUS:
        return [action]  # made inactive by an earlier run: nothing to write, no need of the link's fields
    action.fields = {**(link.fields if link else {}), "is_active": False, "status": GONE_STATUS}
    action.action = "update"
    action.changes = ["is_active", "status"]
    action.patch = {"id": licence_id, "is_active": False, "status": GONE_STATUS}
    action.relink = True
    return [action]


# ---------------------------------------------------------------------------------- apply
Reread = Callable[[Sequence["SubscriptionAction"], Sequence[str]], dict[str, dict[str, Any]]]


def apply_subscriptions(
    actions: list[SubscriptionAction], halo: HaloClient, store: Store, reread: Reread
) -> Applied[SubscriptionAction]:
    """Updates first, then creates: add-ons after their new parents, with the parents' ids.
    What time ran out for is ``remaining`` (a follow-up job applies it and reports it)."""
    done: Applied[SubscriptionAction] = Applied([a.item() for a in actions if a.action == "fail"])
    items = done.items
    links: list[SubscriptionLink] = []

    def link(action: SubscriptionAction, licence_id: int) -> None:
        links.append(
            SubscriptionLink(
                dicker_customer_id=action.customer_id,
                subscription_id=action.subscription_id,
                halo_licence_id=licence_id,
                content_hash=action.full_hash(),
                fields_json=compact_json({**action.fields, "parent_id": action.parent_licence_id}),
            )
        )

    updates = {a.key: a for a in actions if a.action == "update" and a.patch}
    patched = save_patches(halo, "SoftwareLicence", {k: a.patch or {} for k, a in updates.items()})
    unsent = set(patched.unsent)
    for key, action in updates.items():
        if key in unsent:
            done.remaining.append(action)
        elif key in patched.failed:
            items.append(action.item("failed", reason=patched.failed[key]))
        else:
            assert action.halo_id is not None
            link(action, action.halo_id)
            items.append(action.item())
    for action in actions:
        if action.action == "unchanged":
            if action.relink and action.halo_id is not None:
                link(action, action.halo_id)
            items.append(action.item())

    def created(
        action: SubscriptionAction, record: dict[str, Any] | None, why: str | None
    ) -> list[SubscriptionAction]:
        """Record one create; answer its add-ons, now ready to be created."""
        licence_id = record_id(record) if record else None
        addons = waiting.pop(action.key, [])
        if licence_id is None:
            items.append(action.item("failed", reason=why))
            # Created without its parent an add-on would stay unlinked; the next run creates both.
            items.extend(
                a.item("failed", reason="Its base subscription could not be created.") for a in addons
            )
            return []
        link(action, licence_id)
        items.append(action.item("created", halo_id=licence_id))
        for addon in addons:
            addon.parent_licence_id = licence_id
        return addons

    # Creates go in full batches: an add-on waits only for a parent created in this same call,
    # then joins the next batch, so bases and add-ons share batches instead of each ending part-full.
    creates = [a for a in actions if a.action == "create"]
    keys = {a.key for a in creates}
    waiting: dict[str, list[SubscriptionAction]] = defaultdict(list)
    ready: list[SubscriptionAction] = []
    for action in creates:
        parent_key = f"{action.customer_id}#{action.parent_subscription_id}"
        if action.parent_subscription_id and action.parent_licence_id is None and parent_key in keys:
            waiting[parent_key].append(action)
        else:
            ready.append(action)
    # Parents of add-ons first: their add-ons are then ready while other bases still fill batches.
    ready.sort(key=lambda a: a.key not in waiting)
    while ready:
        wave, ready = ready[: halo.write_batch], ready[halo.write_batch :]
        records = {a.key: _record(a) for a in wave}
        unsure = {a.key for a in wave if a.maybe_landed}
        outcome = create_reconciled(halo, "SoftwareLicence", records, partial(reread, wave), unsure)
        released = []
        for action in wave:
            if action.key in outcome.unfinished:
                action.maybe_landed = outcome.unfinished[action.key]
                done.remaining += [action, *waiting.pop(action.key, [])]
                continue
            released += created(action, outcome.saved.get(action.key), outcome.failed.get(action.key))
        ready = released + ready
    store.put_links(links)
    return done


def _record(action: SubscriptionAction) -> dict[str, Any]:
    record = {k: v for k, v in action.fields.items() if v is not None}
    if action.parent_licence_id is not None:
        record["parent_id"] = action.parent_licence_id
    return record


# ---------------------------------------------------------------------------------- the run
def validate_request(options: SubscriptionOptions, mappings: dict[str, Mapping]) -> None:
    if options.customer_ids is None:
        return
    unmapped = [i for i in dict.fromkeys(options.customer_ids) if i not in mappings]
    if unmapped:
        shown = ", ".join(unmapped[:20]) + (f" and {len(unmapped) - 20} more" if len(unmapped) > 20 else "")
        raise ConflictError(
            f"These Dicker Data customers are not mapped to a Halo client: {shown}.",
            "Map them first (POST /mappings or POST /mappings/generate), or import customers.",
        )


@dataclass
class LicenceRead:
    """The bulk read of every licence that is ours to plan (slim), and where it stands. Halo's
    100 records per page make it the longest step of a large sync: when an invocation ends in the
    middle of it, what was read is kept (``to_payload``) and the next job reads on."""

    cursor: PageCursor = field(default_factory=PageCursor)
    by_client: dict[int, list[dict[str, Any]]] = field(default_factory=lambda: defaultdict(list))
    unassigned: list[dict[str, Any]] = field(default_factory=list)  # listed without a client_id

    def keep(self, licence: dict[str, Any], clients: set[int], linked: set[int]) -> None:
        owner = halo_id(licence.get("client_id"))
        if owner is None or owner in clients:  # other clients' licences are not ours to plan
            slim = _slim(licence, halo_id(licence.get("id")) in linked)
            (self.by_client[owner] if owner else self.unassigned).append(slim)

    def to_payload(self) -> dict[str, Any]:
        return {
            "next_page": self.cursor.next_page,
            "read": self.cursor.read,
            "ids": sorted(self.cursor.ids),
            "by_client": {str(k): v for k, v in self.by_client.items()},
            "unassigned": self.unassigned,
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> LicenceRead:
        cursor = PageCursor(next_page=int(data["next_page"]), read=int(data["read"]), ids=set(data["ids"]))
        read = cls(cursor)
        read.by_client.update({int(k): v for k, v in data["by_client"].items()})
        read.unassigned = list(data["unassigned"])
        return read


def read_scopes(
    mappings: list[Mapping], upstreams: Upstreams, store: Store, licences: LicenceRead | None = None
) -> tuple[list[CustomerScope], list[RunItem]]:
    """Read both sides for these customers: per customer when few, in bulk when many (going on
    with ``licences`` when an earlier job began the bulk read)."""
    dd, halo = upstreams.dicker_data, upstreams.halo
    failures: list[RunItem] = []
    per_customer = len(mappings) <= PER_CUSTOMER_READS
    tenants_by_id = {t.tenant_id: t for t in dd.get_tenants().items}
    subs_by_customer: dict[str, Parsed[Subscription]] = defaultdict(Parsed)
    read = licences or LicenceRead()
    licences_by_client, unassigned = read.by_client, read.unassigned
    in_scope = {m.dicker_customer_id for m in mappings}
    links_by_customer: dict[str, dict[str, SubscriptionLink]] = defaultdict(dict)
    if not per_customer:
        everything = dd.get_subscriptions()
        for sub in everything.items:
            if sub.tenant_id in in_scope:
                subs_by_customer[sub.tenant_id].items.append(sub)
            elif not sub.tenant_id:
                failures.append(_unattributed(sub.subscription_id, "it has no TenantId", 0))
        for bad in everything.invalid:
            if bad.tenant_id in in_scope:
                subs_by_customer[bad.tenant_id].invalid.append(bad)
            else:
                failures.append(_unattributed(bad.ref, bad.reason, bad.index + 1))
        del everything
        for found in store.list_links(with_fields=False):  # plan_subscriptions reads them if needed
            links_by_customer[found.dicker_customer_id][found.subscription_id] = found
        linked = {lk.halo_licence_id for links in links_by_customer.values() for lk in links.values()}
        clients = {m.halo_client_id for m in mappings}
        for licence in halo.iter_licences(cursor=read.cursor):
            read.keep(licence, clients, linked)
        # A licence we linked but the pages did not show (the list shifted while it was read, over
        # minutes or invocations) is read by its id: planned as missing, it would be created again.
        ours = {lk.halo_licence_id for c in in_scope for lk in links_by_customer.get(c, {}).values()}
        for licence_id in sorted(ours - read.cursor.ids):
            record = halo.get("SoftwareLicence", licence_id)
            if record is not None:
                read.keep(record, clients, linked)
    scopes = []
    for mapping in mappings:
        customer_id = mapping.dicker_customer_id
        tenant = tenants_by_id.get(customer_id)
        scope = CustomerScope(mapping, tenant.azure_tenant_id if tenant else customer_id, None, [], {})
        try:
            if per_customer:
                scope.subscriptions = dd.get_subscriptions(tenant_id=customer_id)
                scope.licences = halo.licences(client_id=mapping.halo_client_id)
                scope.links = {lk.subscription_id: lk for lk in store.list_links(customer_id)}
            else:
                scope.subscriptions = subs_by_customer.get(customer_id, Parsed())
                scope.links = links_by_customer.get(customer_id, {})
                scope.licences = licences_by_client.get(mapping.halo_client_id, []) + _claimed(
                    unassigned, scope.subscriptions, scope.links
                )
        except IntegrationError as exc:
            scope.subscriptions = None
            failures.append(
                RunItem(
                    type="customer",
                    dicker_id=customer_id,
                    halo_id=mapping.halo_client_id,
                    result="failed",
                    name=mapping.dicker_customer_name,
                    reason=f"Could not read this customer's subscriptions: {reason(exc)}",
                )
            )
        scopes.append(scope)
    return scopes, failures


def _slim(licence: dict[str, Any], linked: bool) -> dict[str, Any]:
    """What the plan needs of a licence from a bulk read (see LICENCE_KEYS)."""
    if not linked:
        return {k: v for k, v in licence.items() if k in LICENCE_KEYS}
    slim = {k: v for k, v in licence.items() if k in LINKED_LICENCE_KEYS}
    marker = marker_of(licence)
    if marker:
        slim["notes"] = f"{MARKER}{marker}"
    return slim


def _unattributed(ref: str, why: str, occurrence: int) -> RunItem:
    return RunItem(
        type="subscription",
        dicker_id=ref,
        result="failed",
        reason=f"Dicker Data answered a subscription that belongs to no mapped customer: {why}",
        occurrence=occurrence,
    )


def _claimed(
    unassigned: list[dict[str, Any]], subs: Parsed[Subscription], links: dict[str, SubscriptionLink]
) -> list[dict[str, Any]]:
    """Licences listed without a client_id that are this customer's by our link or marker."""
    ids = {link.halo_licence_id for link in links.values()}
    markers = {s.subscription_id for s in subs.items} | set(links)
    return [lic for lic in unassigned if halo_id(lic.get("id")) in ids or marker_of(lic) in markers]


def plan_subscriptions(
    store: Store, upstreams: Upstreams, customer_ids: list[str] | None, licences: LicenceRead | None = None
) -> tuple[list[SubscriptionAction], list[RunItem]]:
    """Read and plan the chosen mapped customers (all when ``None``): actions, plus an item for
    each customer that could not be read. ``licences``: a bulk read to go on with (and to keep
    track of, should this invocation end while reading)."""
    mappings = {m.dicker_customer_id: m for m in store.list_mappings()}
    options = SubscriptionOptions(customer_ids=customer_ids)
    validate_request(options, mappings)
    chosen = customer_ids if customer_ids is not None else sorted(mappings)
    scopes, failures = read_scopes([mappings[i] for i in dict.fromkeys(chosen)], upstreams, store, licences)
    actions: list[SubscriptionAction] = []
    scopes.reverse()
    while scopes:  # popped as planned, so each customer's reads are freed as its actions are made
        scope = scopes.pop()
        try:
            actions += plan_customer(scope)
        except LinkFieldsNotRead:
            # Something changed or vanished: compare with what we wrote, read for this customer only.
            links = store.list_links(scope.mapping.dicker_customer_id)
            scope.links = {lk.subscription_id: lk for lk in links}
            actions += plan_customer(scope)
    return actions, failures


def licence_finder(halo: HaloClient) -> Reread:
    """Find licences that landed although their create's answer was lost (by our marker)."""

    def reread(batch: Sequence[SubscriptionAction], keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        wanted = {a.key: a for a in batch if a.key in set(keys)}
        landed: dict[str, dict[str, Any]] = {}
        for client_id in sorted({a.fields["client_id"] for a in wanted.values()}):
            for licence in halo.licences(client_id=client_id):
                marker = marker_of(licence)
                for key, action in wanted.items():
                    if marker == action.subscription_id and action.fields["client_id"] == client_id:
                        landed.setdefault(key, licence)
        return landed

    return reread


def to_payload(actions: Sequence[SubscriptionAction]) -> list[dict[str, Any]]:
    return [asdict(a) for a in actions]


def from_payload(rows: Sequence[dict[str, Any]]) -> list[SubscriptionAction]:
    return [SubscriptionAction(**row) for row in rows]
