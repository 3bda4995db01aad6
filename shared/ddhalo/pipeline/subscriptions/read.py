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
from dataclasses import dataclass, field
from typing import Any

from ddhalo import observe
from ddhalo.dicker_data.client import Parsed
from ddhalo.dicker_data.models import Subscription
from ddhalo.errors import CredentialError, IntegrationError
from ddhalo.halo.client import HaloClient, PageCursor
from ddhalo.halo.records import Licence
from ddhalo.models import Mapping, RunItem, SubscriptionLink
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
    sharers = sharers or {}
    dd, halo = upstreams.dicker_data, upstreams.halo
    failures: list[RunItem] = []
    per_customer = len(mappings) <= PER_CUSTOMER_READS
    unsure = _unsure_customers(store) if delta else set()
    tenants_by_id = {t.tenant_id: t for t in dd.get_tenants().items}
    subs_by_customer: dict[str, Parsed[Subscription]] = defaultdict(Parsed)
    read = licences or LicenceRead()
    in_scope = {m.dicker_customer_id for m in mappings}
    # Sharers' subscriptions are read too: they tell which licences on a shared client are theirs.
    wanted = in_scope | {o for c in in_scope for o in sharers.get(c, [])}
    links_by_customer: dict[str, dict[str, SubscriptionLink]] = defaultdict(dict)
    if not per_customer:
        everything = dd.get_subscriptions()
        observe.step("Dicker Data subscriptions parsed")
        for sub in everything.items:
            if sub.tenant_id in wanted:
                subs_by_customer[sub.tenant_id].items.append(sub)
            elif not sub.tenant_id:
                failures.append(_unattributed(sub.subscription_id, "it has no TenantId", 0))
        for bad in everything.invalid:
            if bad.tenant_id in in_scope:
                subs_by_customer[bad.tenant_id].invalid.append(bad)
            else:
                failures.append(_unattributed(bad.ref, bad.reason, bad.index + 1))
        del everything
        for found in store.list_links(with_fields=False):  # the plan asks for them when it needs them
            links_by_customer[found.dicker_customer_id][found.subscription_id] = found
        observe.step("links read")
    if not per_customer and not delta:
        linked = {lk.halo_licence_id for links in links_by_customer.values() for lk in links.values()}
        clients = {m.halo_client_id for m in mappings}
        client_of = {m.dicker_customer_id: m.halo_client_id for m in mappings}
        home = {
            lk.halo_licence_id: client_of[c] for c in in_scope for lk in links_by_customer.get(c, {}).values()
        }
        for licence in halo.iter_licences(cursor=read.cursor, slim=linked):
            read.keep(licence, clients, home)
        # A licence we linked but the pages did not show (the list shifted while it was read, over
        # minutes or invocations) is read by its id: planned as missing, it would be created again.
        for licence_id in sorted(set(home) - read.cursor.ids):
            record = halo.licence(licence_id)
            if record is not None:
                read.keep(record, clients, home)
        observe.step("Halo licences read")
    # Which customer each licence we linked is (a licence moved by hand to another customer's
    # client is still that customer's: this one's plan neither adopts it nor makes it inactive).
    linked_to: dict[int, str] = {}
    if not delta:
        every_link = (
            (lk for links in links_by_customer.values() for lk in links.values())
            if not per_customer
            else store.list_links(with_fields=False)
        )
        linked_to = {lk.halo_licence_id: lk.dicker_customer_id for lk in every_link}
    scopes = []
    for mapping in mappings:
        customer_id = mapping.dicker_customer_id
        tenant = tenants_by_id.get(customer_id)
        scope = CustomerScope(mapping, tenant.azure_tenant_id if tenant else customer_id, None, [], {})
        scope.trusted = delta and customer_id not in unsure
        try:
            if per_customer:
                scope.subscriptions = dd.get_subscriptions(tenant_id=customer_id)
                scope.links = {lk.subscription_id: lk for lk in store.list_links(customer_id)}
                if not scope.trusted:
                    scope.licences = _with_linked(
                        halo, halo.licences(client_id=mapping.halo_client_id), scope
                    )
                for other in sharers.get(customer_id, []):
                    subs_by_customer[other] = dd.get_subscriptions(tenant_id=other)
                    links_by_customer[other] = {lk.subscription_id: lk for lk in store.list_links(other)}
            else:
                scope.subscriptions = subs_by_customer.get(customer_id, Parsed())
                scope.links = links_by_customer.get(customer_id, {})
                if not delta:
                    scope.licences = read.by_client.get(mapping.halo_client_id, []) + _claimed(
                        read.unassigned, scope.subscriptions, scope.links
                    )
                elif not scope.trusted:  # a create of an earlier run may have landed unlinked
                    scope.licences = _with_linked(
                        halo, halo.licences(client_id=mapping.halo_client_id), scope
                    )
            _exclude_sharers(scope, sharers.get(customer_id, []), subs_by_customer, links_by_customer)
            scope.others_licences |= {
                lic.id for lic in scope.licences if linked_to.get(lic.id, customer_id) != customer_id
            }
        except CredentialError:
            raise  # refused for every customer alike: the run stops, it does not ask again per customer
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
                    reason_code=exc.code,
                )
            )
        scopes.append(scope)
    return scopes, failures


def _with_linked(halo: HaloClient, listed: list[Licence], scope: CustomerScope) -> list[Licence]:
    """One client's licences, plus those we linked that its list did not show (moved to another
    client, or on none), each read by its id: planned as missing, they would be created again."""
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
