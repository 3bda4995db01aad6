"""Customers, a plain sync's shortcut: decide what it can without reading Halo.

A mapped customer whose tenant link (and, when addresses are updated, address) is what we last
wrote (the mapping's ``written`` hashes) is unchanged without a read; one that changed needs only
its own Halo client (and main site). A held customer (unmapped, left uncreated by the last full
read, ``HeldCustomer``) is said again from memory while it is the same customer under the same
options. Any other unmapped customer is new: matching it (tenant marker, name, near misses) needs
every Halo client, so the sync reads them all, as an import does.

What this leaves alone, a verify finds: a client changed or removed in Halo by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ddhalo.dicker_data.models import Tenant
from ddhalo.models import HeldCustomer, Mapping
from ddhalo.pipeline.compare import content_hash
from ddhalo.pipeline.customers.plan import (
    MAIN_SITE_ADDRESS,
    TENANT_LINKS,
    CustomerAction,
    halo_address,
    tenant_link,
)
from ddhalo.pipeline.options import CustomerOptions

# Up to this many changed clients are read one by one; above it, the whole list is cheaper.
PER_CLIENT_READS = 20


@dataclass
class Settled:
    """What a plain sync decided without Halo, and what it must still read."""

    actions: dict[str, CustomerAction] = field(default_factory=dict)  # by Dicker Data customer id
    clients: set[int] = field(default_factory=set)  # mapped clients whose customer changed
    read_all: bool = False  # a new unmapped customer: every client is needed to match it

    def bulk(self) -> bool:
        return self.read_all or len(self.clients) > PER_CLIENT_READS


def settle(
    tenants: list[Tenant],
    mappings: dict[str, Mapping],
    held: dict[str, HeldCustomer],
    options: CustomerOptions,
) -> Settled:
    settled = Settled()
    left_out = set(options.excluded)
    for tenant in tenants:
        if tenant.tenant_id in left_out or not tenant.name:
            continue  # the plan says why, without Halo
        mapping = mappings.get(tenant.tenant_id)
        if mapping is not None:
            if as_written(tenant, mapping, options):
                settled.actions[tenant.tenant_id] = CustomerAction(
                    "unchanged",
                    tenant.tenant_id,
                    tenant.name,
                    halo_client_id=mapping.halo_client_id,
                    halo_client_name=mapping.halo_client_name,
                )
            else:
                settled.clients.add(mapping.halo_client_id)
            continue
        remembered = held.get(tenant.tenant_id)
        if remembered is not None and _same(remembered, tenant, options):
            settled.actions[tenant.tenant_id] = CustomerAction(
                remembered.action,
                tenant.tenant_id,
                tenant.name,
                halo_client_id=remembered.halo_client_id,
                reason=remembered.reason,
                reason_code=remembered.reason_code,
                suggestions=list(remembered.suggestions),
                create_when_similar_creates=remembered.create_when_similar_creates,
                shares_name_with=list(remembered.shares_name_with),
            )
        else:
            settled.read_all = True
    return settled


def as_written(tenant: Tenant, mapping: Mapping, options: CustomerOptions) -> bool:
    """Dicker Data's customer is what we last wrote to its Halo client (by the mapping's hashes)."""
    written = mapping.written
    if written.get(TENANT_LINKS) != content_hash(tenant_link(tenant).ours()):
        return False
    if options.update_main_site_address and not tenant.address.is_empty():
        return written.get(MAIN_SITE_ADDRESS) == content_hash(halo_address(tenant).to_wire())
    return True


def remembered(
    actions: list[CustomerAction], tenants: dict[str, Tenant], options: CustomerOptions
) -> list[HeldCustomer]:
    """After a full read: the unmapped customers it left uncreated, to say again from memory
    (not those excluded: the settings say that without Halo)."""
    held: list[HeldCustomer] = []
    for action in actions:
        tenant = tenants.get(action.dicker_id)
        if tenant is None or action.reason_code == "excluded":
            continue
        if action.action in ("skip", "fail") and not action.halo_client_id:
            held.append(
                HeldCustomer(
                    dicker_customer_id=tenant.tenant_id,
                    name=tenant.name,
                    azure_tenant_id=tenant.azure_tenant_id,
                    create_when_similar=options.create_when_similar,
                    action=action.action,
                    reason=action.reason,
                    reason_code=action.reason_code,
                    suggestions=action.suggestions,
                    create_when_similar_creates=action.create_when_similar_creates,
                    shares_name_with=action.shares_name_with,
                )
            )
    return held


def _same(held: HeldCustomer, tenant: Tenant, options: CustomerOptions) -> bool:
    return (held.name, held.azure_tenant_id, held.create_when_similar) == (
        tenant.name,
        tenant.azure_tenant_id,
        options.create_when_similar,
    )
