"""Customers, read: both sides once per run, in bulk, into the indexes the plan uses."""

from __future__ import annotations

from dataclasses import dataclass, field

from ddhalo.dicker_data.client import DickerDataClient, InvalidRecord
from ddhalo.dicker_data.models import Tenant
from ddhalo.halo.client import HaloClient
from ddhalo.halo.records import ClientRecord, SiteRecord
from ddhalo.matching import Candidate, ClientIndex
from ddhalo.models import Mapping
from ddhalo.pipeline.options import CustomerOptions
from ddhalo.store import Store

NO_TENANT_REASON = "No CSP tenant is assigned to this customer in Dicker Data, so it cannot be imported."


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


@dataclass
class HaloClients:
    """Halo clients by id and by the Microsoft tenant ids linked on them."""

    by_id: dict[int, ClientRecord] = field(default_factory=dict)
    by_tenant: dict[str, list[int]] = field(default_factory=dict)
    _index: ClientIndex | None = field(default=None, repr=False)

    @classmethod
    def of(cls, records: list[ClientRecord]) -> HaloClients:
        snapshot = cls()
        for record in records:
            snapshot.by_id[record.id] = record
            for tenant_id in record.tenant_ids():
                snapshot.by_tenant.setdefault(tenant_id, []).append(record.id)
        return snapshot

    @classmethod
    def read(cls, halo: HaloClient) -> HaloClients:
        return cls.of(halo.clients())

    def with_tenant(self, azure_tenant_id: str) -> list[int]:
        return self.by_tenant.get(azure_tenant_id.strip().lower(), [])

    def name(self, client_id: int) -> str:
        record = self.by_id.get(client_id)
        return record.name if record else ""

    def index(self) -> ClientIndex:
        """Built on first use and kept: the records do not change within a run's read."""
        if self._index is None:
            self._index = ClientIndex(Candidate(id=i, name=r.name) for i, r in self.by_id.items() if r.name)
        return self._index


@dataclass
class CustomerInputs:
    """Everything the customers plan needs."""

    customers: DickerDataCustomers
    clients: HaloClients
    sites: dict[int, SiteRecord]
    mappings: dict[str, Mapping]


def read_sites(halo: HaloClient) -> dict[int, SiteRecord]:
    return {site.id: site for site in halo.sites()}


def read_customers(
    dicker_data: DickerDataClient, halo: HaloClient, store: Store, options: CustomerOptions
) -> CustomerInputs:
    """Dicker Data's customers, every Halo client, the sites only when addresses are updated."""
    customers = DickerDataCustomers.read(dicker_data)
    mappings = {m.dicker_customer_id: m for m in store.list_mappings()}
    return read_halo(halo, customers, mappings, options)


def read_halo(
    halo: HaloClient,
    customers: DickerDataCustomers,
    mappings: dict[str, Mapping],
    options: CustomerOptions,
    only: set[int] | None = None,
) -> CustomerInputs:
    """The Halo side: every client (and site, when addresses are updated), or only the clients
    ``only`` names and their main sites, each read by its id (a plain sync's few changes)."""
    if only is None:
        clients = HaloClients.read(halo)
        sites = read_sites(halo) if options.update_main_site_address else {}
        return CustomerInputs(customers, clients, sites, mappings)
    records = [r for client_id in sorted(only) if (r := halo.client(client_id, with_links=True))]
    sites = {}
    if options.update_main_site_address:
        for record in records:
            if record.main_site_id and (site := halo.site(record.main_site_id)) is not None:
                sites[site.id] = site
    return CustomerInputs(customers, HaloClients.of(records), sites, mappings)
