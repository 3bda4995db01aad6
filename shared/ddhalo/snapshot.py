"""The "read" step: both sides read once per run, in bulk, into indexes the planners use."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ddhalo.dicker_data.client import DickerDataClient, InvalidRecord
from ddhalo.dicker_data.models import Tenant
from ddhalo.halo.client import halo_id
from ddhalo.matching import Candidate, ClientIndex


@dataclass
class DickerDataCustomers:
    by_id: dict[str, Tenant] = field(default_factory=dict)
    without_tenant: list[Tenant] = field(default_factory=list)
    invalid: list[InvalidRecord] = field(default_factory=list)

    @classmethod
    def read(cls, client: DickerDataClient) -> DickerDataCustomers:
        """GetTenant's customers; one that GetTenant answers without a name is named by its
        subscription rows (they carry the customer's CompanyName and TenantDescription too)."""
        parsed = client.get_tenants()
        snapshot = cls(invalid=list(parsed.invalid))
        nameless = [t.tenant_id for t in parsed.items if t.has_csp_tenant and not t.name]
        names = client.customer_names(nameless) if nameless else {}
        for tenant in parsed.items:
            if tenant.tenant_id in names:
                tenant = tenant.model_copy(update={"company_name": names[tenant.tenant_id]})
            if not tenant.has_csp_tenant:
                snapshot.without_tenant.append(tenant)
            elif tenant.tenant_id in snapshot.by_id:
                snapshot.invalid.append(
                    InvalidRecord(
                        tenant.tenant_id, "Dicker Data answered this TenantId twice; the first is used."
                    )
                )
            else:
                snapshot.by_id[tenant.tenant_id] = tenant
        return snapshot

    def unknown(self, ids: list[str]) -> list[str]:
        return [i for i in ids if i not in self.by_id]


def tenant_ids_of(client: dict[str, Any]) -> list[str]:
    """The Microsoft tenant ids linked on a Halo client: our marker for find-before-create."""
    tenants = client.get("azure_tenants") or []
    if not isinstance(tenants, list):
        return []
    return [
        str(t.get("azure_tenant_id")).strip().lower()
        for t in tenants
        if isinstance(t, dict) and t.get("azure_tenant_id")
    ]


@dataclass
class HaloClients:
    """Halo clients by id and by the Microsoft tenant ids linked on them."""

    by_id: dict[int, dict[str, Any]] = field(default_factory=dict)
    by_tenant: dict[str, list[int]] = field(default_factory=dict)
    _index: ClientIndex | None = field(default=None, repr=False)

    @classmethod
    def from_records(cls, records: list[dict[str, Any]]) -> HaloClients:
        snapshot = cls()
        for record in records:
            client_id = halo_id(record.get("id"))
            if client_id is None:
                continue
            snapshot.by_id[client_id] = record
            for tenant_id in tenant_ids_of(record):
                snapshot.by_tenant.setdefault(tenant_id, []).append(client_id)
        return snapshot

    def with_tenant(self, azure_tenant_id: str) -> list[int]:
        return self.by_tenant.get(azure_tenant_id.strip().lower(), [])

    def name(self, client_id: int) -> str:
        record = self.by_id.get(client_id)
        return str(record.get("name") or "") if record else ""

    def index(self) -> ClientIndex:
        """Built on first use and kept: the records do not change within a run's read."""
        if self._index is None:
            self._index = ClientIndex(
                Candidate(id=i, name=str(r.get("name") or "")) for i, r in self.by_id.items() if r.get("name")
            )
        return self._index
