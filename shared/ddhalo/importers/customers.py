"""Import customers: plan (pure) and apply (batched Halo writes, mapping stored in the same step).

Crash safety: a created Halo client carries the customer's Microsoft tenant id in
``azure_tenants``. An unmapped customer whose tenant id is already on a Halo client is adopted
(mapping stored, no create), so a run killed between the Halo create and the mapping write
converges on the next run instead of creating a duplicate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from ddhalo.apply import Applied, content_hash, create_reconciled, record_id, save_patches
from ddhalo.dicker_data.models import Address, Tenant
from ddhalo.errors import ConflictError, NotFoundError, OutOfTimeError
from ddhalo.halo.client import HaloClient, halo_id
from ddhalo.mappings import NO_TENANT_REASON
from ddhalo.models import Mapping, Run, RunItem
from ddhalo.runs import Upstreams
from ddhalo.snapshot import DickerDataCustomers, HaloClients
from ddhalo.store import Store

MAX_NAME = 255
AZURE_TENANTS = "azure_tenants"
MAIN_SITE_ADDRESS = "main_site_address"
ADDRESS_FIELDS = ("line1", "line2", "line3", "line4", "postcode")


class CustomerOptions(BaseModel):
    customer_ids: list[str] | None = None
    top_level_id: int | None = None
    update_main_site_address: bool = False


@dataclass
class CustomerAction:
    action: Literal["create", "update", "unchanged", "skip", "fail"]
    dicker_id: str
    name: str
    halo_client_id: int | None = None
    reason: str | None = None
    changes: list[str] = field(default_factory=list)
    record: dict[str, Any] | None = None  # the client to create
    tenant_marker: str = ""  # the Microsoft tenant id that marks the client as this customer's
    written: dict[str, str] = field(default_factory=dict)  # field group -> hash, stored once applied
    tenant: Tenant | None = None
    client_patch: dict[str, Any] | None = None
    site_patch: dict[str, Any] | None = None
    new_mapping: bool = False  # adopt an existing Halo client found by its tenant marker
    occurrence: int = 0

    def item(self, result: str | None = None, **overrides: Any) -> RunItem:
        values: dict[str, Any] = {
            "type": "customer",
            "dicker_id": self.dicker_id,
            "halo_id": self.halo_client_id,
            "result": result or _RESULTS[self.action],
            "reason": self.reason,
            "name": self.name,
            "changes": self.changes,
            "occurrence": self.occurrence,
        }
        values.update(overrides)
        return RunItem.model_validate(values)


_RESULTS = {
    "create": "created",
    "update": "updated",
    "unchanged": "unchanged",
    "skip": "skipped",
    "fail": "failed",
}


def tenant_link(tenant: Tenant) -> dict[str, str]:
    return {
        "azure_tenant_id": tenant.azure_tenant_id,
        "azure_tenant_name": tenant.name,
        "azure_tenant_domain": tenant.domain,
    }


def halo_address(address: Address) -> dict[str, str]:
    """Dicker Data's address shape → Halo's AddressStore lines."""
    street = ", ".join(part for part in (address.line2, address.line3) if part)
    return {
        "line1": address.line1,
        "line2": street,
        "line3": address.suburb,
        "line4": address.state,
        "postcode": address.postcode,
    }


def site_address(site: dict[str, Any]) -> dict[str, str]:
    """A site's delivery address, from the nested object or the flat list columns."""
    nested = site.get("delivery_address") if isinstance(site.get("delivery_address"), dict) else {}
    out = {}
    for i, name in enumerate(ADDRESS_FIELDS[:4], start=1):
        value = nested.get(name) if nested else None
        out[name] = str(value if value is not None else site.get(f"delivery_address_line{i}") or "").strip()
    out["postcode"] = str(nested.get("postcode") or "").strip() if nested else ""
    return out


def _link_patch(client: dict[str, Any], tenant: Tenant) -> list[dict[str, Any]] | None:
    """The client's tenant links with ours added or refreshed; None when already right."""
    wanted = tenant_link(tenant)
    links = [dict(t) for t in client.get("azure_tenants") or [] if isinstance(t, dict)]
    for link in links:
        if str(link.get("azure_tenant_id") or "").strip().lower() == wanted["azure_tenant_id"].lower():
            stale = {k: v for k, v in wanted.items() if k != "azure_tenant_id" and v and link.get(k) != v}
            if not stale:
                return None
            link.update(stale)
            return links
    return [*links, wanted]


def plan_customers(
    customers: DickerDataCustomers,
    mappings: dict[str, Mapping],
    clients: HaloClients,
    sites: dict[int, dict[str, Any]],
    options: CustomerOptions,
) -> list[CustomerAction]:
    """One action per customer in scope. Pure: the same inputs always give the same plan."""
    actions: list[CustomerAction] = []
    if options.customer_ids is None:
        in_scope = list(customers.by_id.values())
        actions += [
            CustomerAction("skip", t.tenant_id, t.name, reason=NO_TENANT_REASON)
            for t in customers.without_tenant
        ]
        actions += [
            CustomerAction(
                "fail",
                bad.ref,
                bad.name,
                reason=f"Dicker Data record unreadable: {bad.reason}",
                occurrence=bad.index + 1,
            )
            for bad in customers.invalid
        ]
    else:
        in_scope = [customers.by_id[i] for i in dict.fromkeys(options.customer_ids) if i in customers.by_id]
    for tenant in sorted(in_scope, key=lambda t: (t.name.casefold(), t.tenant_id)):
        actions.append(_plan_one(tenant, mappings.get(tenant.tenant_id), clients, sites, options))
    return actions


def _plan_one(
    tenant: Tenant,
    mapping: Mapping | None,
    clients: HaloClients,
    sites: dict[int, dict[str, Any]],
    options: CustomerOptions,
) -> CustomerAction:
    name = tenant.name
    if not name:
        return CustomerAction(
            "fail", tenant.tenant_id, name, reason="Dicker Data answered this customer with no name."
        )
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
            )
        return _plan_update(
            tenant, mapping.halo_client_id, client, sites, options, new_mapping=False, written=mapping.written
        )
    marked = clients.with_tenant(tenant.azure_tenant_id)
    if len(marked) > 1:
        return CustomerAction(
            "fail",
            tenant.tenant_id,
            name,
            reason=f"Halo clients {sorted(marked)} all carry this Microsoft tenant; map one by hand.",
        )
    if marked:
        return _plan_update(tenant, marked[0], clients.by_id[marked[0]], sites, options, new_mapping=True)
    if len(name) > MAX_NAME:
        return CustomerAction(
            "fail",
            tenant.tenant_id,
            name[:80] + "…",
            reason=f"The name is longer than Halo's {MAX_NAME} characters.",
        )
    record: dict[str, Any] = {"name": name, AZURE_TENANTS: [tenant_link(tenant)], "_isimport": True}
    written = {AZURE_TENANTS: content_hash(tenant_link(tenant))}
    if options.top_level_id is not None:
        record["toplevel_id"] = options.top_level_id
    record["newclient_sitename"] = "Main"
    if not tenant.address.is_empty():
        record["newclient_delivery_address"] = halo_address(tenant.address)
        written[MAIN_SITE_ADDRESS] = content_hash(halo_address(tenant.address))
    return CustomerAction(
        "create",
        tenant.tenant_id,
        name,
        record=record,
        changes=["client", AZURE_TENANTS, "main_site"],
        tenant_marker=tenant.azure_tenant_id,
        written=written,
    )


def _plan_update(
    tenant: Tenant,
    client_id: int,
    client: dict[str, Any],
    sites: dict[int, dict[str, Any]],
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
        halo_client_id=client_id,
        new_mapping=new_mapping,
        tenant=tenant,
    )
    link_hash = content_hash(tenant_link(tenant))
    if "azure_tenants" not in client and written.get(AZURE_TENANTS) != link_hash:
        # The list did not show the links: read this client before writing, never overwrite blind.
        action.client_patch = {"id": client_id}
        action.changes.append(AZURE_TENANTS)
        action.written[AZURE_TENANTS] = link_hash
    elif "azure_tenants" in client:
        links = _link_patch(client, tenant)
        if links is not None:
            action.client_patch = {"id": client_id, "azure_tenants": links}
            action.changes.append(AZURE_TENANTS)
        action.written[AZURE_TENANTS] = link_hash
    if options.update_main_site_address and not tenant.address.is_empty():
        wanted = halo_address(tenant.address)
        address_hash = content_hash(wanted)
        site_id = client.get("main_site_id")
        site = sites.get(halo_id(site_id) or 0)
        # When we wrote exactly this address before, a partial list view of the site cannot overrule it.
        if written.get(MAIN_SITE_ADDRESS) != address_hash:
            if site is None:
                action.reason = "The Halo client has no main site, so its address was not updated."
            else:
                if site_address(site) != wanted:
                    action.site_patch = {"id": int(site["id"]), "delivery_address": wanted}
                    action.changes.append(MAIN_SITE_ADDRESS)
                action.written[MAIN_SITE_ADDRESS] = address_hash
    # Store only what is new: an unchanged re-run writes nothing to Halo or DynamoDB.
    action.written = {
        group: digest for group, digest in action.written.items() if written.get(group) != digest
    }
    if action.changes:
        action.action = "update"
    return action


# ---------------------------------------------------------------------------------- apply
def apply_customers(
    actions: list[CustomerAction], halo: HaloClient, store: Store, created_by: str = "import"
) -> Applied[str]:
    """Write the plan; customers it had no time for are ``remaining`` (their ids), for a follow-up
    job that plans them again from fresh reads (a create that landed is then found by its tenant)."""
    done: Applied[str] = Applied()
    for action in actions:
        if action.action in ("skip", "fail"):
            done.items.append(action.item())
    updates = [a for a in actions if a.action in ("update", "unchanged")]
    for part in (
        _apply_updates(updates, halo, store, created_by),
        _apply_creates([a for a in actions if a.action == "create"], halo, store, created_by),
    ):
        done.items += part.items
        done.remaining += part.remaining
    return done


def _store_mapping(
    action: CustomerAction, client_id: int, client_name: str, store: Store, created_by: str
) -> str | None:
    try:
        store.put_mapping(
            Mapping(
                dicker_customer_id=action.dicker_id,
                dicker_customer_name=action.name,
                halo_client_id=client_id,
                halo_client_name=client_name,
                source="import",
                created_by=created_by,
                written=action.written,
            )
        )
    except ConflictError as exc:
        return exc.message
    return None


def _apply_updates(
    actions: list[CustomerAction], halo: HaloClient, store: Store, created_by: str
) -> Applied[str]:
    later: set[str] = set()
    for action in actions:
        if action.client_patch is not None and "azure_tenants" not in action.client_patch:
            try:
                _complete_link_patch(action, halo)
            except OutOfTimeError:
                later.add(action.dicker_id)
    clients = save_patches(
        halo,
        "Client",
        {a.dicker_id: a.client_patch for a in actions if a.client_patch and a.dicker_id not in later},
    )
    later.update(clients.unsent)
    failed = clients.failed
    sites = save_patches(
        halo,
        "Site",
        {
            a.dicker_id: a.site_patch
            for a in actions
            if a.site_patch and a.dicker_id not in failed and a.dicker_id not in later
        },
    )
    later.update(sites.unsent)
    failed.update(sites.failed)
    done: Applied[str] = Applied(remaining=sorted(later))
    for action in actions:
        if action.dicker_id in later:
            continue
        if action.new_mapping and action.halo_client_id is not None:
            conflict = _store_mapping(action, action.halo_client_id, "", store, created_by)
            if conflict:
                failed.setdefault(action.dicker_id, conflict)
        if action.dicker_id in failed:
            done.items.append(action.item("failed", reason=failed[action.dicker_id]))
            continue
        if not action.new_mapping:
            store.remember_written(action.dicker_id, action.written)
        done.items.append(action.item())
    return done


def _complete_link_patch(action: CustomerAction, halo: HaloClient) -> None:
    """Read the one client whose list record hid its tenant links, then patch only if needed."""
    assert action.halo_client_id is not None
    assert action.tenant is not None
    client = halo.get("Client", action.halo_client_id, includedetails=True) or {}
    links = _link_patch({"azure_tenants": client.get("azure_tenants") or []}, action.tenant)
    if links is None:
        action.client_patch = None
        action.changes.remove(AZURE_TENANTS)
        if not action.changes:
            action.action = "unchanged"
    else:
        action.client_patch = {"id": action.halo_client_id, "azure_tenants": links}


def _apply_creates(
    actions: list[CustomerAction], halo: HaloClient, store: Store, created_by: str
) -> Applied[str]:
    by_id = {a.dicker_id: a for a in actions}

    def find_landed(keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        found = HaloClients.from_records(halo.clients())
        landed = {}
        for key in keys:
            ids = found.with_tenant(by_id[key].tenant_marker)
            if ids:
                landed[key] = found.by_id[ids[0]]
        return landed

    outcome = create_reconciled(halo, "Client", {a.dicker_id: a.record or {} for a in actions}, find_landed)
    done: Applied[str] = Applied(remaining=sorted(outcome.unfinished))
    for action in actions:
        if action.dicker_id in outcome.unfinished:
            continue
        record = outcome.saved.get(action.dicker_id)
        if record is None:
            done.items.append(action.item("failed", reason=outcome.failed.get(action.dicker_id)))
            continue
        client_id = record_id(record)
        assert client_id is not None  # create_reconciled only keeps records with an id
        conflict = _store_mapping(action, client_id, str(record.get("name") or ""), store, created_by)
        if conflict:
            done.items.append(
                action.item("failed", halo_id=client_id, reason=f"Created in Halo but not mapped: {conflict}")
            )
        else:
            done.items.append(action.item("created", halo_id=client_id))
    return done


# ---------------------------------------------------------------------------------- the run
def validate_request(options: CustomerOptions, customers: DickerDataCustomers, halo: HaloClient) -> None:
    """Bad input is a 4xx before anything is queued: unknown customers, an unknown top level."""
    if options.customer_ids is not None:
        unknown = customers.unknown(options.customer_ids)
        if unknown:
            shown = ", ".join(unknown[:20]) + (f" and {len(unknown) - 20} more" if len(unknown) > 20 else "")
            raise NotFoundError(
                f"Unknown Dicker Data customer ids (no CSP tenant with that TenantId): {shown}.",
                "Use dicker_customer_id values from GET /mappings.",
            )
    if options.top_level_id is not None:
        known = {halo_id(t.get("id")) for t in halo.top_levels()}
        if options.top_level_id not in known:
            raise NotFoundError(
                f"Halo has no top level with id {options.top_level_id}.",
                "Use an id from Halo's top levels (Configuration > Customers), or leave top_level_id out.",
            )


def read_sites(halo: HaloClient) -> dict[int, dict[str, Any]]:
    sites: dict[int, dict[str, Any]] = {}
    for site in halo.sites(includeaddress=True):
        site_id = halo_id(site.get("id"))
        if site_id is not None:
            sites[site_id] = site
    return sites


def import_customers(
    run: Run, store: Store, upstreams: Upstreams, options: CustomerOptions | None = None
) -> Applied[str]:
    """The customers run: read both sides, plan, and apply unless it is a dry run."""
    options = options or CustomerOptions.model_validate(run.options)
    customers = DickerDataCustomers.read(upstreams.dicker_data)
    clients = HaloClients.from_records(upstreams.halo.clients())
    sites = read_sites(upstreams.halo) if options.update_main_site_address else {}
    mappings = {m.dicker_customer_id: m for m in store.list_mappings()}
    actions = plan_customers(customers, mappings, clients, sites, options)
    if run.dry_run:
        return Applied([action.item() for action in actions])
    return apply_customers(actions, upstreams.halo, store, created_by=f"run:{run.run_id}")
