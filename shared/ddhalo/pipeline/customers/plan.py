"""Customers, plan: one action per Dicker Data customer. Pure: the same inputs, the same plan.

Crash safety: a created Halo client carries the customer's Microsoft tenant id in its tenant
links. An unmapped customer whose tenant id is already on a Halo client is adopted (mapping
stored, no create), so a run killed between the Halo create and the mapping write converges on
the next run instead of creating a duplicate.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Literal

from ddhalo.dicker_data.models import Tenant
from ddhalo.halo.records import (
    MAX_NAME,
    Address,
    ClientRecord,
    NewClient,
    SiteRecord,
    TenantLink,
    client_links_patch,
    links_with,
    site_address_patch,
)
from ddhalo.matching import exact_key
from ddhalo.models import RESULT_OF, Mapping, RunItem, Suggestion
from ddhalo.pipeline.compare import content_hash
from ddhalo.pipeline.customers.read import NO_TENANT_REASON, CustomerInputs, HaloClients
from ddhalo.pipeline.options import CustomerOptions

# Field groups we own on a client: what each mapping remembers writing (their hashes).
TENANT_LINKS = "azure_tenants"
MAIN_SITE_ADDRESS = "main_site_address"
# Held for a person to decide, for the customer's name: map it by hand (or create_when_similar).
HELD_BY_NAME = frozenset({"similar_client_exists", "ambiguous_name"})
# What importing a customer will do, in one word (``next_action``).
NextAction = Literal["create", "adopt", "update", "unchanged", "hold", "skip", "fail"]


@dataclass
class CustomerAction:
    action: Literal["create", "update", "unchanged", "skip", "fail"]
    dicker_id: str
    name: str
    halo_client_id: int | None = None
    halo_client_name: str = ""
    reason: str | None = None
    reason_code: str | None = None
    suggestions: list[Suggestion] = field(default_factory=list)
    create_when_similar_creates: bool = False  # held, and an import with create_when_similar creates it
    shares_name_with: list[str] = field(default_factory=list)  # held: the other customers of its name
    changes: list[str] = field(default_factory=list)
    create: NewClient | None = None
    tenant_marker: str = ""  # the Microsoft tenant id that marks the client as this customer's
    written: dict[str, str] = field(default_factory=dict)  # field group -> hash, stored once applied
    tenant: Tenant | None = None
    client_patch: dict[str, Any] | None = None
    # The list did not show the client's tenant links: read it before patching, never blind.
    links_unread: bool = False
    site_patch: dict[str, Any] | None = None
    new_mapping: bool = False  # adopt an existing Halo client found by its tenant marker
    occurrence: int = 0
    duplicates: list[int] = field(default_factory=list)  # duplicate_in_halo: every client of it

    def item(self, result: str | None = None, **overrides: Any) -> RunItem:
        values: dict[str, Any] = {
            "type": "customer",
            "dicker_id": self.dicker_id,
            "halo_id": self.halo_client_id,
            "result": result or RESULT_OF[self.action],
            "reason": self.reason,
            "reason_code": self.reason_code,
            "suggestions": self.suggestions,
            "create_when_similar_creates": self.create_when_similar_creates,
            "shares_name_with": self.shares_name_with,
            "name": self.name,
            "changes": self.changes,
            "occurrence": self.occurrence,
            "duplicate_ids": self.duplicates,
        }
        values.update(overrides)
        return RunItem.model_validate(values)


def tenant_link(tenant: Tenant) -> TenantLink:
    return TenantLink(tenant.azure_tenant_id, tenant.name, tenant.domain)


def halo_address(tenant: Tenant) -> Address:
    """Dicker Data's address shape → Halo's AddressStore lines."""
    address = tenant.address
    street = ", ".join(part for part in (address.line2, address.line3) if part)
    return Address(address.line1, street, address.suburb, address.state, address.postcode)


def plan_customers(
    inputs: CustomerInputs, options: CustomerOptions, settled: dict[str, CustomerAction] | None = None
) -> list[CustomerAction]:
    """One action per customer in scope; ``settled``: those a plain sync decided without Halo
    (``delta.settle``)."""
    settled = settled or {}
    customers = inputs.customers
    actions: list[CustomerAction] = []
    if options.customer_ids is None:
        in_scope = list(customers.by_id.values())
        actions += [
            CustomerAction("skip", t.tenant_id, t.name, reason=NO_TENANT_REASON, reason_code="no_csp_tenant")
            for t in customers.without_tenant
        ]
        actions += [
            CustomerAction(
                "fail",
                bad.ref,
                bad.name,
                reason=f"Dicker Data record unreadable: {bad.reason}",
                reason_code="unreadable_record",
                occurrence=bad.index + 1,
            )
            for bad in customers.invalid
        ]
    else:
        in_scope = [customers.by_id[i] for i in dict.fromkeys(options.customer_ids) if i in customers.by_id]
    left_out = set(options.excluded)
    shared = _shared_names(inputs, options)
    for tenant in sorted(in_scope, key=lambda t: (t.name.casefold(), t.tenant_id)):
        if tenant.tenant_id in left_out:
            actions.append(
                CustomerAction(
                    "skip",
                    tenant.tenant_id,
                    tenant.name,
                    halo_client_id=m.halo_client_id if (m := inputs.mappings.get(tenant.tenant_id)) else None,
                    reason="Excluded by the settings (exclusions.customers): left as it is in Halo.",
                    reason_code="excluded",
                )
            )
            continue
        if tenant.tenant_id in settled:
            actions.append(settled[tenant.tenant_id])
            continue
        mapping = inputs.mappings.get(tenant.tenant_id)
        planned = _plan_one(tenant, mapping, inputs.clients, inputs.sites, options)
        actions.append(_unless_name_shared(planned, tenant, shared, inputs.clients))
    return actions


def _plan_one(
    tenant: Tenant,
    mapping: Mapping | None,
    clients: HaloClients,
    sites: dict[int, SiteRecord],
    options: CustomerOptions,
) -> CustomerAction:
    name = tenant.name
    if not name:
        return CustomerAction(
            "fail",
            tenant.tenant_id,
            name,
            reason="Dicker Data answered this customer with no name.",
            reason_code="no_name",
        )
    marked = clients.with_tenant(tenant.azure_tenant_id)
    if len(marked) > 1:
        return _duplicate(tenant, mapping, sorted(marked), clients)
    if mapping is not None:
        client = clients.by_id.get(mapping.halo_client_id)
        if client is None:
            return CustomerAction(
                "fail",
                tenant.tenant_id,
                name,
                halo_client_id=mapping.halo_client_id,
                reason=(
                    f"The mapped Halo client {mapping.halo_client_id} no longer exists in Halo; "
                    "remove the mapping (or map another client) and import again."
                ),
                reason_code="mapped_client_missing",
            )
        return _plan_update(tenant, client, sites, options, new_mapping=False, written=mapping.written)
    if marked:
        return _plan_update(tenant, clients.by_id[marked[0]], sites, options, new_mapping=True)
    if len(name) > MAX_NAME:
        return CustomerAction(
            "fail",
            tenant.tenant_id,
            name[:80] + "…",
            reason=f"The name is longer than Halo's {MAX_NAME} characters.",
            reason_code="name_too_long",
        )
    if not options.create_when_similar and (held := _held(tenant, clients)) is not None:
        return held
    link = tenant_link(tenant)
    address = None if tenant.address.is_empty() else halo_address(tenant)
    written = {TENANT_LINKS: content_hash(link.ours())}
    if address is not None:
        written[MAIN_SITE_ADDRESS] = content_hash(address.to_wire())
    return CustomerAction(
        "create",
        tenant.tenant_id,
        name,
        create=NewClient(name, link, options.top_level_id, address=address),
        changes=["client", TENANT_LINKS, "main_site"],
        tenant_marker=tenant.azure_tenant_id,
        written=written,
    )


def _duplicate(
    tenant: Tenant, mapping: Mapping | None, ids: list[int], clients: HaloClients
) -> CustomerAction:
    """Halo holds several clients carrying this customer's Microsoft tenant (a create saved after
    its answer was lost and sent again, or a client copied by hand): reported, nothing written.
    An unmapped customer is mapped to the oldest, so no later run creates another; a mapping is
    kept as it is (re-pointing it would move the customer's licences)."""
    kept = mapping.halo_client_id if mapping is not None and mapping.halo_client_id in ids else ids[0]
    others = ", ".join(f"#{i}" for i in ids if i != kept)
    return CustomerAction(
        "skip",
        tenant.tenant_id,
        tenant.name,
        halo_client_id=kept,
        halo_client_name=clients.name(kept),
        reason=(
            f"Halo holds {len(ids)} clients with this customer's Microsoft tenant "
            f"({', '.join(f'#{i}' for i in ids)}); #{kept} is kept in step, nothing was changed. "
            f"Merge {others} into it in Halo, or take the tenant off {others}."
        ),
        reason_code="duplicate_in_halo",
        new_mapping=mapping is None,
        duplicates=ids,
    )


def _held(tenant: Tenant, clients: HaloClients) -> CustomerAction | None:
    """An unmapped customer whose name Halo already holds (once, twice, or nearly) is not created:
    a second client with tickets and invoices on both is what the operator must never meet. It
    waits for a mapping (or ``create_when_similar``)."""
    index = clients.index()
    numbers = _numbers(tenant.name)
    exact = index.exact(tenant.name)
    # "Acme 2" is not a near miss of "Acme 1": names apart only by a number are other companies.
    near = index.suggestions(tenant.name, keep=lambda c: _numbers(c.name) == numbers)
    alike = list({c.id: c for c in exact + near}.values())
    if not alike:
        return None
    suggestions = [Suggestion(halo_client_id=c.id, halo_client_name=c.name) for c in alike]
    named = ", ".join(f'"{c.name}" (#{c.id})' for c in alike)
    if len(exact) > 1:
        code, why = "ambiguous_name", f"Halo clients {named} all have this name"
    else:
        code, why = "similar_client_exists", f"Halo already has {named}"
    return CustomerAction(
        "skip",
        tenant.tenant_id,
        tenant.name,
        reason=(
            f"Not created: {why}. Map this customer to one of them (POST /mappings), or import with "
            '"create_when_similar": true to create a new client anyway.'
        ),
        reason_code=code,
        suggestions=suggestions,
        create_when_similar_creates=True,
    )


def _numbers(name: str) -> list[str]:
    return [n.lstrip("0") or "0" for n in re.findall(r"\d+", name)]


def _plan_update(
    tenant: Tenant,
    client: ClientRecord,
    sites: dict[int, SiteRecord],
    options: CustomerOptions,
    *,
    new_mapping: bool,
    written: dict[str, str] | None = None,
) -> CustomerAction:
    """Compare with Halo's record; where Halo's view leaves a field out, with what we last wrote."""
    written = written or {}
    action = CustomerAction(
        "unchanged",
        tenant.tenant_id,
        tenant.name,
        halo_client_id=client.id,
        halo_client_name=client.name,
        new_mapping=new_mapping,
        tenant=tenant,
    )
    link = tenant_link(tenant)
    link_hash = content_hash(link.ours())
    if client.tenant_links is None:
        if written.get(TENANT_LINKS) != link_hash:
            action.links_unread = True
            action.changes.append(TENANT_LINKS)
            action.written[TENANT_LINKS] = link_hash
    else:
        links = links_with(client.tenant_links, link)
        if links is not None:
            action.client_patch = client_links_patch(client.id, links)
            action.changes.append(TENANT_LINKS)
        action.written[TENANT_LINKS] = link_hash
    if options.update_main_site_address and not tenant.address.is_empty():
        wanted = halo_address(tenant)
        address_hash = content_hash(wanted.to_wire())
        site = sites.get(client.main_site_id or 0)
        # When we wrote exactly this address before, a partial list view of the site cannot overrule it.
        if written.get(MAIN_SITE_ADDRESS) != address_hash:
            if site is None:
                action.reason = "The Halo client has no main site, so its address was not updated."
            else:
                if site.address != wanted:
                    action.site_patch = site_address_patch(site.id, wanted)
                    action.changes.append(MAIN_SITE_ADDRESS)
                action.written[MAIN_SITE_ADDRESS] = address_hash
    # Store only what is new: an unchanged re-run writes nothing to Halo or DynamoDB.
    action.written = {
        group: digest for group, digest in action.written.items() if written.get(group) != digest
    }
    if action.changes:
        action.action = "update"
    return action


def next_action(action: CustomerAction) -> NextAction:
    """What importing the customer will do, in one word, from its planned action: ``GET /mappings``
    says it of every unmapped customer, so the listing and the import cannot disagree. ``adopt``:
    mapped to the Halo client that carries its Microsoft tenant; ``hold``: waits for a person."""
    if action.new_mapping:
        return "adopt"
    if action.action == "skip" and action.reason_code in HELD_BY_NAME:
        return "hold"
    return action.action


def _shared_names(inputs: CustomerInputs, options: CustomerOptions) -> dict[str, list[Tenant]]:
    """The customers an import would create (or hold) by name, by exact name, where several share
    one. A mapped or tenant-linked customer has its client already; an excluded one gets none."""
    left_out = set(options.excluded)
    by_name: dict[str, list[Tenant]] = defaultdict(list)
    for tenant in inputs.customers.by_id.values():
        if not tenant.name or tenant.tenant_id in inputs.mappings or tenant.tenant_id in left_out:
            continue
        if not inputs.clients.with_tenant(tenant.azure_tenant_id):
            by_name[exact_key(tenant.name)].append(tenant)
    return {key: group for key, group in by_name.items() if len(group) > 1}


def _unless_name_shared(
    action: CustomerAction, tenant: Tenant, shared: dict[str, list[Tenant]], clients: HaloClients
) -> CustomerAction:
    """A create (or a hold by name) of a customer whose name another customer shares is held as
    ambiguous, whatever ``create_when_similar`` says: two Halo clients of one name, or a guess at
    which customer a client is, is what a person must decide. As two runs would hold it."""
    group = shared.get(exact_key(tenant.name), [])
    others = sorted((t for t in group if t.tenant_id != tenant.tenant_id), key=lambda t: t.tenant_id)
    if not others or not (action.action == "create" or action.reason_code in HELD_BY_NAME):
        return action
    named = ", ".join(f'"{t.name}" ({t.tenant_id})' for t in others)
    who = f"Dicker Data customer {named} has" if len(others) == 1 else f"Dicker Data customers {named} have"
    halo = _held(tenant, clients)
    suggestions = halo.suggestions if halo else []
    similar = ", ".join(f'"{s.halo_client_name}" (#{s.halo_client_id})' for s in suggestions)
    return CustomerAction(
        "skip",
        tenant.tenant_id,
        tenant.name,
        reason=(
            f"Not created: {who} this name too, and one name must not become two Halo clients."
            + (f" Halo has {similar}." if similar else "")
            + " Map each customer to its Halo client (POST /mappings), or tell them apart in Dicker Data."
        ),
        reason_code="ambiguous_name",
        suggestions=suggestions,
        shares_name_with=[t.tenant_id for t in others],
    )
