"""Subscriptions, read: each mapped customer's subscriptions, licences and links.

Per customer when few are asked for; above ``PER_CUSTOMER_READS``, one bulk read of each side
(Dicker Data answers every subscription in a few calls; Halo's licences are paged 100 at a time,
which makes this the longest step of a large sync, so the read can stop and go on: ``LicenceRead``).

A *delta* read (a plain sync) reads no licence: the links are taken as the truth of what Halo
holds, except for the customers whose creates may have landed unlinked (a create intent without
its link): those customers' licences are read, so what landed is found by its marker.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ddhalo import job_log
from ddhalo.dicker_data.client import Parsed
from ddhalo.dicker_data.models import Subscription
from ddhalo.errors import CredentialError, IntegrationError
from ddhalo.halo.client import HaloClient, PageCursor
from ddhalo.halo.records import Licence
from ddhalo.models import ItemResult, Mapping, RunItem, SubscriptionLink
from ddhalo.pipeline.reconcile import reason
from ddhalo.store import Store
from ddhalo.upstreams import Upstreams

# Up to this many customers, read per customer; above it, one bulk read of each side is cheaper.
PER_CUSTOMER_READS = 10


@dataclass
class CustomerScope:
    """One mapped customer's inputs to the plan."""

    mapping: Mapping
    tenant_id: str
    subscriptions: Parsed[Subscription] | None  # None: Dicker Data could not be read for it
    licences: list[Licence]
    links: dict[str, SubscriptionLink]
    # When the Halo client is shared with other customers: their subscription ids and the licences
    # linked to them, which this customer's plan must neither adopt nor make inactive.
    others: frozenset[str] = frozenset()
    others_licences: frozenset[int] = frozenset()
    excluded_stock_codes: frozenset[str] = frozenset()
    # Licences not read (a delta read): each link stands for the licence it names, as we wrote it.
    trusted: bool = False


@dataclass
class LicenceRead:
    """The bulk read of every licence that is ours to plan, and where it stands: when an
    invocation ends in the middle of it, what was read is kept (``to_payload``) and the next job
    reads on. A licence we have a link to is kept slim (its link holds what we wrote)."""

    cursor: PageCursor = field(default_factory=PageCursor)
    by_client: dict[int, list[Licence]] = field(default_factory=lambda: defaultdict(list))
    unassigned: list[Licence] = field(default_factory=list)  # listed without a client_id

    def keep(self, licence: Licence, clients: set[int], home: dict[int, int] | None = None) -> None:
        """Keep a licence of the clients planned; one we linked goes with its link's client
        (``home``) wherever Halo lists it, so a licence moved by hand is found and moved back."""
        owner = (home or {}).get(licence.id) or licence.client_id
        if owner is None:
            self.unassigned.append(licence)
        elif owner in clients:  # other clients' licences are not ours to plan
            self.by_client[owner].append(licence)

    def to_payload(self) -> dict[str, Any]:
        return {
            "next_page": self.cursor.next_page,
            "read": self.cursor.read,
            "ids": sorted(self.cursor.ids),
            "by_client": {str(k): [lic.to_wire() for lic in v] for k, v in self.by_client.items()},
            "unassigned": [lic.to_wire() for lic in self.unassigned],
        }

    @classmethod
    def from_payload(cls, data: dict[str, Any]) -> LicenceRead:
        cursor = PageCursor(next_page=int(data["next_page"]), read=int(data["read"]), ids=set(data["ids"]))
        read = cls(cursor)
        for client_id, licences in data["by_client"].items():
            read.by_client[int(client_id)] = _licences(licences)
        read.unassigned = _licences(data["unassigned"])
        return read


def _licences(rows: list[dict[str, Any]]) -> list[Licence]:
    """A checkpoint's licences, as kept (slim ones have no owned fields to read back)."""
    return [lic for row in rows if (lic := Licence.from_wire(row)) is not None]


# Reads one customer into its scope, the way of the read's mode.
FillScope = Callable[[CustomerScope], None]


@dataclass
class _Shared:
    """What the reads of every customer share: per customer, the others mapped to its Halo client
    (``sharers``); subscriptions and links per customer (the sharers' too); which customer each
    licence we linked is; and the failed items of what no single customer could be read for."""

    sharers: dict[str, list[str]]
    subscriptions: defaultdict[str, Parsed[Subscription]] = field(default_factory=lambda: defaultdict(Parsed))
    links: defaultdict[str, dict[str, SubscriptionLink]] = field(default_factory=lambda: defaultdict(dict))
    # A licence moved by hand to another customer's client is still that customer's: this one's
    # plan neither adopts it nor makes it inactive. Empty in a delta read (no licence is listed).
    linked_to: dict[int, str] = field(default_factory=dict)
    failures: list[RunItem] = field(default_factory=list)

    def hand_to(self, scope: CustomerScope) -> Parsed[Subscription]:
        """Give a customer its part of the bulk reads; answers its subscriptions."""
        customer_id = scope.mapping.dicker_customer_id
        scope.subscriptions = self.subscriptions.get(customer_id, Parsed())
        scope.links = self.links.get(customer_id, {})
        return scope.subscriptions


def read_scopes(
    mappings: list[Mapping],
    upstreams: Upstreams,
    store: Store,
    licences: LicenceRead | None = None,
    sharers: dict[str, list[str]] | None = None,
    *,
    delta: bool = False,
) -> tuple[list[CustomerScope], list[RunItem]]:
    """Read both sides for these customers: per customer when few, in bulk when many (going on
    with ``licences`` when an earlier job began the bulk read). ``sharers``: per customer, the
    other customers mapped to its Halo client; ``delta``: Halo only where a create may have landed."""
    unsure = _unsure_customers(store) if delta else set()
    tenants = {t.tenant_id: t for t in upstreams.dicker_data.get_tenants().items}
    shared = _Shared(sharers or {})
    if len(mappings) <= PER_CUSTOMER_READS:
        fill = _per_customer(upstreams, store, shared, delta=delta)
    elif delta:
        fill = _bulk_delta(mappings, upstreams, store, shared)
    else:
        fill = _bulk(mappings, upstreams, store, shared, licences or LicenceRead())
    scopes = []
    for mapping in mappings:
        customer_id = mapping.dicker_customer_id
        tenant = tenants.get(customer_id)
        scope = CustomerScope(mapping, tenant.azure_tenant_id if tenant else customer_id, None, [], {})
        scope.trusted = delta and customer_id not in unsure
        _read_one(scope, fill, shared)
        scopes.append(scope)
    return scopes, shared.failures


def _per_customer(upstreams: Upstreams, store: Store, shared: _Shared, *, delta: bool) -> FillScope:
    """The mode for a few customers: each read on its own, with its client's licences."""
    if not delta:
        shared.linked_to = _customer_of(store.list_links(with_fields=False))
    return partial(_read_customer, upstreams, store, shared)


def _bulk(
    mappings: list[Mapping], upstreams: Upstreams, store: Store, shared: _Shared, licences: LicenceRead
) -> FillScope:
    """The mode for many customers: one read of each side, every licence in Halo included."""
    _read_bulk(mappings, upstreams, store, shared)
    _read_licences(mappings, upstreams.halo, shared, licences)
    shared.linked_to = _customer_of(lk for links in shared.links.values() for lk in links.values())
    return partial(_from_bulk, shared, licences)


def _bulk_delta(mappings: list[Mapping], upstreams: Upstreams, store: Store, shared: _Shared) -> FillScope:
    """The mode of a plain sync of many customers: one read of Dicker Data and of the links, which
    stand for the licences; Halo is read only for a customer whose create may have landed unlinked."""
    _read_bulk(mappings, upstreams, store, shared)
    return partial(_from_bulk_delta, upstreams.halo, shared)


def _read_one(scope: CustomerScope, fill: FillScope, shared: _Shared) -> None:
    """Read one customer; if Dicker Data or Halo cannot be read for it, it fails alone."""
    customer_id = scope.mapping.dicker_customer_id
    try:
        fill(scope)
        _exclude_sharers(scope, shared.sharers.get(customer_id, []), shared.subscriptions, shared.links)
        scope.others_licences |= {
            lic.id for lic in scope.licences if shared.linked_to.get(lic.id, customer_id) != customer_id
        }
    except CredentialError:
        raise  # refused for every customer alike: the run stops, it does not ask again per customer
    except IntegrationError as exc:
        scope.subscriptions = None
        shared.failures.append(_unreadable(scope.mapping, exc))


def _read_customer(upstreams: Upstreams, store: Store, shared: _Shared, scope: CustomerScope) -> None:
    """One customer read on its own: its subscriptions and links, its client's licences unless its
    links are trusted, and the subscriptions and links of the customers sharing its client."""
    dd = upstreams.dicker_data
    customer_id = scope.mapping.dicker_customer_id
    scope.subscriptions = dd.get_subscriptions(tenant_id=customer_id)
    scope.links = {lk.subscription_id: lk for lk in store.list_links(customer_id)}
    if not scope.trusted:
        scope.licences = _client_licences(upstreams.halo, scope)
    for other in shared.sharers.get(customer_id, []):
        shared.subscriptions[other] = dd.get_subscriptions(tenant_id=other)
        shared.links[other] = {lk.subscription_id: lk for lk in store.list_links(other)}


def _from_bulk(shared: _Shared, bulk: LicenceRead, scope: CustomerScope) -> None:
    """A customer of a bulk read: its client's licences, and those on no client that are its own."""
    subscriptions = shared.hand_to(scope)
    listed = bulk.by_client.get(scope.mapping.halo_client_id, [])
    scope.licences = listed + _claimed(bulk.unassigned, subscriptions, scope.links)


def _from_bulk_delta(halo: HaloClient, shared: _Shared, scope: CustomerScope) -> None:
    """A customer of a bulk delta read: its links stand for its licences, unless a create of an
    earlier run may have landed unlinked; then its client's licences are read."""
    shared.hand_to(scope)
    if not scope.trusted:
        scope.licences = _client_licences(halo, scope)


def _read_bulk(mappings: list[Mapping], upstreams: Upstreams, store: Store, shared: _Shared) -> None:
    """Every subscription Dicker Data answers, sorted by customer, and every link (without the
    fields we wrote: the plan asks for them when it needs them)."""
    in_scope = {m.dicker_customer_id for m in mappings}
    _sort_subscriptions(upstreams.dicker_data.get_subscriptions(), in_scope, shared)
    job_log.step("Dicker Data subscriptions parsed")
    for found in store.list_links(with_fields=False):
        shared.links[found.dicker_customer_id][found.subscription_id] = found
    job_log.step("links read")


def _sort_subscriptions(everything: Parsed[Subscription], in_scope: set[str], shared: _Shared) -> None:
    """Keep the subscriptions of the customers planned and of those sharing their clients (which
    licences on a shared client are theirs); one with no customer at all is a failed item."""
    wanted = in_scope | {o for c in in_scope for o in shared.sharers.get(c, [])}
    for sub in everything.items:
        if sub.tenant_id in wanted:
            shared.subscriptions[sub.tenant_id].items.append(sub)
        elif not sub.tenant_id:
            shared.failures.append(_unattributed(sub.subscription_id, "it has no TenantId", 0))
    for bad in everything.invalid:
        if bad.tenant_id in in_scope:
            shared.subscriptions[bad.tenant_id].invalid.append(bad)
        else:
            shared.failures.append(_unattributed(bad.ref, bad.reason, bad.index + 1))


def _read_licences(mappings: list[Mapping], halo: HaloClient, shared: _Shared, bulk: LicenceRead) -> None:
    """Read on through every licence in Halo, keeping those of the clients planned (``LicenceRead``)."""
    linked = {lk.halo_licence_id for links in shared.links.values() for lk in links.values()}
    clients = {m.halo_client_id for m in mappings}
    client_of = {m.dicker_customer_id: m.halo_client_id for m in mappings}
    in_scope = {m.dicker_customer_id for m in mappings}
    home = {lk.halo_licence_id: client_of[c] for c in in_scope for lk in shared.links.get(c, {}).values()}
    for licence in halo.iter_licences(cursor=bulk.cursor, slim=linked):
        bulk.keep(licence, clients, home)
    # A licence we linked but the pages did not show (the list shifted while it was read, over
    # minutes or invocations) is read by its id: planned as missing, it would be created again.
    for licence_id in sorted(set(home) - bulk.cursor.ids):
        record = halo.licence(licence_id)
        if record is not None:
            bulk.keep(record, clients, home)
    job_log.step("Halo licences read")


def _customer_of(links: Iterable[SubscriptionLink]) -> dict[int, str]:
    """Which customer each licence we linked is."""
    return {lk.halo_licence_id: lk.dicker_customer_id for lk in links}


def _client_licences(halo: HaloClient, scope: CustomerScope) -> list[Licence]:
    """One client's licences, plus those we linked that its list did not show (moved to another
    client, or on none), each read by its id: planned as missing, they would be created again."""
    listed = halo.licences(client_id=scope.mapping.halo_client_id)
    seen = {lic.id for lic in listed}
    missing = sorted({lk.halo_licence_id for lk in scope.links.values()} - seen)
    return listed + [lic for i in missing if (lic := halo.licence(i)) is not None]


def _unsure_customers(store: Store) -> set[str]:
    """Customers with a create intent but no link for it: its create may have landed in Halo.
    An intent whose link exists now (adopted by a later run) is done with, and dropped."""
    intents = store.list_intents()
    if not intents:
        return set()
    linked = {f"{lk.dicker_customer_id}#{lk.subscription_id}" for lk in store.list_links(with_fields=False)}
    store.drop_intents(intents & linked)
    return {key.split("#", 1)[0] for key in intents - linked}


def _exclude_sharers(
    scope: CustomerScope,
    others: list[str],
    subs: dict[str, Parsed[Subscription]],
    links: dict[str, dict[str, SubscriptionLink]],
) -> None:
    if not others:
        return
    scope.others = frozenset(
        {s.subscription_id for o in others for s in subs.get(o, Parsed()).items}
        | {sub_id for o in others for sub_id in links.get(o, {})}
    )
    scope.others_licences = frozenset(lk.halo_licence_id for o in others for lk in links.get(o, {}).values())


def customer_item(mapping: Mapping, result: ItemResult, reason: str, reason_code: str) -> RunItem:
    """An item for a mapped customer as a whole: none of its subscriptions was planned."""
    return RunItem(
        type="customer",
        dicker_id=mapping.dicker_customer_id,
        halo_id=mapping.halo_client_id,
        result=result,
        name=mapping.dicker_customer_name,
        reason=reason,
        reason_code=reason_code,
    )


def _unreadable(mapping: Mapping, exc: IntegrationError) -> RunItem:
    why = f"Could not read this customer's subscriptions: {reason(exc)}"
    return customer_item(mapping, "failed", why, exc.code)


def _unattributed(ref: str, why: str, occurrence: int) -> RunItem:
    return RunItem(
        type="subscription",
        dicker_id=ref,
        result="failed",
        reason=f"Dicker Data answered a subscription that belongs to no mapped customer: {why}",
        reason_code="no_customer",
        occurrence=occurrence,
    )


def _claimed(
    unassigned: list[Licence], subs: Parsed[Subscription], links: dict[str, SubscriptionLink]
) -> list[Licence]:
    """Licences listed without a client_id that are this customer's by our link or marker."""
    ids = {link.halo_licence_id for link in links.values()}
    markers = {s.subscription_id for s in subs.items} | set(links)
    return [lic for lic in unassigned if lic.id in ids or lic.marker in markers]
