"""Customer mappings: generate by exact name, list with suggestions, add by hand, remove."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from typing import Any

from pydantic import BaseModel, Field

from ddhalo.dicker_data.models import Tenant
from ddhalo.errors import ConflictError, InputError, NotFoundError
from ddhalo.halo.client import HaloClient
from ddhalo.matching import Candidate, Customer, MatchResult, match_exact
from ddhalo.models import Mapping, Suggestion
from ddhalo.pipeline.customers.plan import CustomerAction, NextAction, next_action, plan_customers
from ddhalo.pipeline.customers.read import NO_TENANT_REASON, CustomerInputs, DickerDataCustomers, HaloClients
from ddhalo.pipeline.options import CustomerOptions
from ddhalo.store import Store

WILL_CREATE = "Not mapped: import creates a new Halo client unless you map it first."
HALO_UNREAD = "Not mapped. What an import would do is known once Halo can be read (see the warnings)."


class UnmappedCustomer(BaseModel):
    dicker_customer_id: str
    dicker_customer_name: str
    importable: bool
    reason: str | None = None
    suggestions: list[Suggestion] = Field(default_factory=list)
    # What importing it will do (``plan.next_action``; None: unknown, Halo unread), with the
    # import's own reason_code, create_when_similar_creates and shares_name_with.
    next_action: NextAction | None = None
    reason_code: str | None = None
    create_when_similar_creates: bool = False
    shares_name_with: list[str] = Field(default_factory=list)


class AmbiguousCustomer(BaseModel):
    dicker_customer_id: str
    dicker_customer_name: str
    halo_client_ids: list[int]
    reason: str


class GenerateResult(BaseModel):
    created: list[Mapping] = Field(default_factory=list)
    already_mapped: int = 0
    unmatched: list[UnmappedCustomer] = Field(default_factory=list)
    ambiguous: list[AmbiguousCustomer] = Field(default_factory=list)
    not_importable: list[UnmappedCustomer] = Field(default_factory=list)


class MappingOverview(BaseModel):
    mappings: list[dict[str, Any]]
    unmapped: list[UnmappedCustomer]
    warnings: list[str] = Field(default_factory=list)


def _suggest(clients: HaloClients, name: str) -> list[Suggestion]:
    return [
        Suggestion(halo_client_id=c.id, halo_client_name=c.name) for c in clients.index().suggestions(name)
    ]


def _not_importable(tenant: Tenant) -> UnmappedCustomer:
    return UnmappedCustomer(
        dicker_customer_id=tenant.tenant_id,
        dicker_customer_name=tenant.name,
        importable=False,
        reason=NO_TENANT_REASON,
    )


def generate_mappings(
    store: Store,
    customers: DickerDataCustomers,
    clients: HaloClients,
    created_by: str = "api",
    excluded: Collection[str] = (),
) -> GenerateResult:
    """Map every unmapped customer whose name exactly matches one Halo client; change nothing
    else. ``excluded`` customers (the settings' exclusions) are never mapped."""
    existing = store.list_mappings()
    mapped_ids = {m.dicker_customer_id for m in existing}
    taken = {m.halo_client_id for m in existing}
    index = clients.index()
    candidates = [
        Customer(id=t.tenant_id, name=t.name)
        for t in customers.by_id.values()
        if t.tenant_id not in mapped_ids and t.tenant_id not in excluded
    ]
    matched = match_exact(candidates, index, taken)
    result = GenerateResult(
        already_mapped=len(mapped_ids & customers.by_id.keys()),
        not_importable=[_not_importable(t) for t in customers.without_tenant],
    )
    _store_matched(store, matched.matched, created_by, result)
    _report_unmatched(matched, clients, taken, result)
    return result


def _store_matched(
    store: Store, matched: list[tuple[Customer, Candidate]], created_by: str, result: GenerateResult
) -> None:
    """Store a generated mapping per match; one mapped by someone meanwhile is reported instead,
    never overwritten."""
    mappings = [
        Mapping(
            dicker_customer_id=customer.id,
            dicker_customer_name=customer.name,
            halo_client_id=client.id,
            halo_client_name=client.name,
            source="generated",
            created_by=created_by,
        )
        for customer, client in matched
    ]
    conflicts = store.put_mappings(mappings)
    for mapping in mappings:
        conflict = conflicts.get(mapping.dicker_customer_id)
        if conflict:
            result.unmatched.append(
                UnmappedCustomer(
                    dicker_customer_id=mapping.dicker_customer_id,
                    dicker_customer_name=mapping.dicker_customer_name,
                    importable=True,
                    reason=conflict.message,
                )
            )
        else:
            result.created.append(mapping)


def _report_unmatched(
    matched: MatchResult, clients: HaloClients, taken: set[int], result: GenerateResult
) -> None:
    """The customers no client matched (with suggestions of the clients still free), then those
    several clients match."""
    for customer, reason in matched.unmatched:
        result.unmatched.append(
            UnmappedCustomer(
                dicker_customer_id=customer.id,
                dicker_customer_name=customer.name,
                importable=True,
                reason=reason,
                suggestions=[s for s in _suggest(clients, customer.name) if s.halo_client_id not in taken],
            )
        )
    for customer, rivals, reason in matched.ambiguous:
        result.ambiguous.append(
            AmbiguousCustomer(
                dicker_customer_id=customer.id,
                dicker_customer_name=customer.name,
                halo_client_ids=sorted(c.id for c in rivals),
                reason=reason,
            )
        )


def mapping_overview(
    store: Store,
    customers: DickerDataCustomers | None,
    clients: HaloClients | None,
    warnings: list[str],
    options: CustomerOptions,
) -> MappingOverview:
    """Mapped and unmapped customers; with an upstream down, stored names and a warning.
    ``options``: an import's (the settings'), so each unmapped row says what importing it does."""
    mappings = store.list_mappings()
    per_client = Counter(m.halo_client_id for m in mappings)
    rows = []
    for mapping in sorted(mappings, key=lambda m: m.dicker_customer_name.casefold()):
        row = mapping.model_dump()
        row["shared"] = per_client[mapping.halo_client_id] > 1
        tenant = customers.by_id.get(mapping.dicker_customer_id) if customers else None
        if tenant:
            row["dicker_customer_name"] = tenant.name
        if clients and mapping.halo_client_id in clients.by_id:
            row["halo_client_name"] = clients.name(mapping.halo_client_id)
        row["csp_tenant"] = bool(tenant) if customers else None
        row["halo_client_exists"] = (mapping.halo_client_id in clients.by_id) if clients else None
        rows.append(row)
    unmapped: list[UnmappedCustomer] = []
    if customers is not None:
        unmapped = _unmapped(customers, clients, {m.dicker_customer_id: m for m in mappings}, options)
    return MappingOverview(mappings=rows, unmapped=unmapped, warnings=warnings)


def _unmapped(
    customers: DickerDataCustomers,
    clients: HaloClients | None,
    mappings: dict[str, Mapping],
    options: CustomerOptions,
) -> list[UnmappedCustomer]:
    """Every unmapped customer with what importing it will do: the import's own plan, made on the
    same inputs, so the listing cannot say otherwise than the import does."""
    planned = plan_customers(CustomerInputs(customers, clients or HaloClients(), {}, mappings), options)
    taken = {m.halo_client_id for m in mappings.values()}
    rows = []
    for action in planned:
        if action.dicker_id in mappings or action.reason_code == "unreadable_record":
            continue
        row = _unmapped_row(action, clients)
        if clients is not None and row.importable:
            row.suggestions = _suggestions(clients, action.name, taken)
        rows.append(row)
    return sorted(rows, key=lambda r: (not r.importable, r.dicker_customer_name.casefold()))


def _unmapped_row(action: CustomerAction, clients: HaloClients | None) -> UnmappedCustomer:
    row = UnmappedCustomer(
        dicker_customer_id=action.dicker_id,
        dicker_customer_name=action.name,
        importable=action.reason_code != "no_csp_tenant",
        reason=action.reason,
    )
    if clients is None and row.importable:
        row.reason = HALO_UNREAD
        return row
    row.next_action = next_action(action)
    row.reason_code = action.reason_code
    row.create_when_similar_creates = action.create_when_similar_creates
    row.shares_name_with = action.shares_name_with
    if row.next_action == "create":
        row.reason = WILL_CREATE
    elif row.next_action == "adopt":
        row.reason = (
            f'Not mapped: import maps it to Halo client "{action.halo_client_name}" '
            f"(#{action.halo_client_id}), which already carries its Microsoft tenant."
        )
    return row


def _suggestions(clients: HaloClients, name: str, taken: set[int]) -> list[Suggestion]:
    """Halo clients to map to by hand: the same name first, then near misses; none mapped already."""
    exact = [Suggestion(halo_client_id=c.id, halo_client_name=c.name) for c in clients.index().exact(name)]
    found = [s for s in exact + _suggest(clients, name) if s.halo_client_id not in taken]
    return list({s.halo_client_id: s for s in found}.values())[:5]


def add_mapping(
    store: Store,
    customers: DickerDataCustomers,
    halo: HaloClient,
    dicker_customer_id: str,
    halo_client_id: int,
    created_by: str = "api",
    *,
    shared: bool = False,
) -> Mapping:
    """A mapping by hand: both ids must exist, the customer must have a CSP tenant; one to one
    unless ``shared`` (then other customers may be mapped to that Halo client too)."""
    tenant = customers.by_id.get(dicker_customer_id)
    if tenant is None:
        if any(t.tenant_id == dicker_customer_id for t in customers.without_tenant):
            raise InputError(NO_TENANT_REASON)
        raise NotFoundError(
            f"Dicker Data has no customer with TenantId {dicker_customer_id!r}.",
            "Use a dicker_customer_id from GET /mappings.",
        )
    if store.get_mapping(dicker_customer_id) is not None:
        raise ConflictError(
            f"Dicker Data customer {dicker_customer_id} is already mapped.",
            "Remove the existing mapping first (DELETE /mappings/{dicker_customer_id}).",
        )
    client = halo.client(halo_client_id)
    if client is None:
        raise NotFoundError(
            f"Halo has no client with id {halo_client_id}.", "Use an id from Halo's client list."
        )
    mapping = Mapping(
        dicker_customer_id=dicker_customer_id,
        dicker_customer_name=tenant.name,
        halo_client_id=halo_client_id,
        halo_client_name=client.name,
        source="manual",
        created_by=created_by,
        shared=shared,
    )
    store.put_mapping(mapping)
    return mapping
