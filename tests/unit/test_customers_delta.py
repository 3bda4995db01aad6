"""A plain sync's customers: what it decides without Halo, and what it must still read (pure)."""

from ddhalo.models import HeldCustomer
from ddhalo.pipeline.compare import content_hash
from ddhalo.pipeline.customers.delta import PER_CLIENT_READS, remembered, settle
from ddhalo.pipeline.customers.plan import (
    MAIN_SITE_ADDRESS,
    TENANT_LINKS,
    CustomerAction,
    halo_address,
    tenant_link,
)
from ddhalo.pipeline.options import CustomerOptions
from tests.unit.builders import customers, mapping, tenant

ADDRESS = {"Address01": "1 George St", "Suburb": "Sydney", "State": "NSW", "Postcode": "2000"}


def as_written(tid: str, name: str, client_id: int, **row):
    """``tid`` mapped to ``client_id``, remembering that we wrote exactly its tenant link (and address)."""
    t = customers(tenant(tid, name, **row)).by_id[tid]
    written = {TENANT_LINKS: content_hash(tenant_link(t).ours())}
    if row:
        written[MAIN_SITE_ADDRESS] = content_hash(halo_address(t).to_wire())
    return mapping(tid, client_id, written=written)


def held(tid: str, name: str, **extra) -> HeldCustomer:
    fields = {
        "dicker_customer_id": tid,
        "name": name,
        "azure_tenant_id": tid,
        "create_when_similar": False,
        "action": "skip",
        "reason": "Not created: Halo already has ...",
        "reason_code": "similar_client_exists",
    }
    return HeldCustomer.model_validate(fields | extra)


def tenants(*rows):
    return list(customers(*rows).by_id.values())


def test_a_customer_as_we_wrote_it_is_unchanged_without_a_read():
    settled = settle(
        tenants(tenant("t1", "Contoso")), {"t1": as_written("t1", "Contoso", 7)}, {}, CustomerOptions()
    )
    assert settled.actions["t1"].action == "unchanged" and settled.actions["t1"].halo_client_id == 7
    assert settled.clients == set() and not settled.read_all


def test_a_renamed_customer_reads_its_own_client_only():
    settled = settle(
        tenants(tenant("t1", "Contoso Ltd")), {"t1": as_written("t1", "Contoso", 7)}, {}, CustomerOptions()
    )
    assert settled.actions == {} and settled.clients == {7} and not settled.bulk()


def test_an_address_counts_only_when_addresses_are_updated():
    mappings = {"t1": as_written("t1", "Contoso", 7)}
    moved = tenants(tenant("t1", "Contoso", **ADDRESS))
    assert settle(moved, mappings, {}, CustomerOptions()).actions["t1"].action == "unchanged"
    assert settle(moved, mappings, {}, CustomerOptions(update_main_site_address=True)).clients == {7}


def test_many_changes_read_the_whole_list():
    rows = [tenant(f"t{i}", f"New name {i}") for i in range(PER_CLIENT_READS + 1)]
    mappings = {f"t{i}": as_written(f"t{i}", f"Old {i}", 100 + i) for i in range(PER_CLIENT_READS + 1)}
    assert settle(tenants(*rows), mappings, {}, CustomerOptions()).bulk()


def test_a_held_customer_is_said_from_memory_while_it_is_the_same():
    settled = settle(
        tenants(tenant("t2", "Adventure Works")), {}, {"t2": held("t2", "Adventure Works")}, CustomerOptions()
    )
    action = settled.actions["t2"]
    assert (action.action, action.reason_code, settled.read_all) == ("skip", "similar_client_exists", False)


def test_a_held_customer_renamed_or_with_create_when_similar_is_matched_again():
    memory = {"t2": held("t2", "Adventure Works")}
    assert settle(tenants(tenant("t2", "Adventure Works Pty")), {}, memory, CustomerOptions()).read_all
    assert settle(
        tenants(tenant("t2", "Adventure Works")), {}, memory, CustomerOptions(create_when_similar=True)
    ).read_all


def test_a_held_customer_whose_microsoft_tenant_changed_is_matched_again():
    """A tenant assigned or changed since may now be on a Halo client: only a read can adopt it."""
    memory = {"t2": held("t2", "Adventure Works")}
    moved = tenants(tenant("t2", "Adventure Works", MicrosoftTenantId="ms-new"))
    settled = settle(moved, {}, memory, CustomerOptions())
    assert (settled.read_all, settled.actions) == (True, {})


def test_a_new_unmapped_customer_reads_every_client():
    assert settle(tenants(tenant("t3", "Brand New")), {}, {}, CustomerOptions()).read_all


def test_excluded_and_nameless_customers_need_no_read():
    settled = settle(
        tenants(tenant("t3", "Brand New"), tenant("t4", "")), {}, {}, CustomerOptions(excluded=["t3"])
    )
    assert not settled.read_all and settled.actions == {}


def test_a_full_read_remembers_the_customers_it_left_uncreated():
    by_id = customers(tenant("t1", "Contoso"), tenant("t2", "Adventure Works"), tenant("t3", "Gone")).by_id
    actions = [
        CustomerAction("create", "t1", "Contoso"),
        CustomerAction("skip", "t2", "Adventure Works", reason="held", reason_code="ambiguous_name"),
        CustomerAction("skip", "t3", "Gone", reason="excluded", reason_code="excluded"),
        CustomerAction("fail", "t1x", "Unknown", reason_code="unreadable_record"),
    ]
    (kept,) = remembered(actions, by_id, CustomerOptions())
    assert (kept.dicker_customer_id, kept.action, kept.reason_code, kept.azure_tenant_id) == (
        "t2",
        "skip",
        "ambiguous_name",
        "t2",
    )


def test_memory_says_a_held_customer_as_the_full_read_did():
    by_id = customers(tenant("t1", "Same Name"), tenant("t2", "same name")).by_id
    full = CustomerAction(
        "skip", "t1", "Same Name", reason="held", reason_code="ambiguous_name", shares_name_with=["t2"]
    )
    (kept,) = remembered([full], by_id, CustomerOptions())
    again = settle([by_id["t1"]], {}, {"t1": kept}, CustomerOptions()).actions["t1"]
    assert again.item() == full.item()
