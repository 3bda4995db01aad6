"""The customer plan is pure: every rule is checked here without I/O."""

from ddhalo.halo.records import SiteRecord
from ddhalo.models import Mapping
from ddhalo.pipeline.compare import content_hash
from ddhalo.pipeline.customers.plan import halo_address, next_action, plan_customers, tenant_link
from ddhalo.pipeline.customers.read import DickerDataCustomers
from ddhalo.pipeline.options import CustomerOptions
from tests.unit.builders import customer_inputs, customers, link, mapping, tenant

ADDRESS = {
    "Address01": "1 George St",
    "Address02": "Level 2",
    "Suburb": "Sydney",
    "State": "NSW",
    "Postcode": "2000",
}


def mapped(tid: str, client_id: int) -> dict[str, Mapping]:
    return {tid: mapping(tid, client_id)}


def plan(dd, halo_records, mappings=None, sites=None, **options):
    """Halo's side as it answers on the wire, read into records as the client does."""
    return plan_customers(customer_inputs(dd, halo_records, mappings, sites), CustomerOptions(**options))


def address_of(dd: DickerDataCustomers, tid: str) -> dict:
    return halo_address(dd.by_id[tid]).to_wire()


def test_unmapped_customer_is_created_with_tenant_link_and_main_site_address():
    (action,) = plan(customers(tenant("t1", "Contoso", **ADDRESS)), [], top_level_id=3)
    assert action.action == "create" and action.tenant_marker == "t1"  # what a re-read looks for
    assert action.create is not None and action.create.to_wire() == {
        "name": "Contoso",
        "toplevel_id": 3,
        "azure_tenants": [link("t1", "Contoso")],
        "newclient_sitename": "Main",
        "newclient_delivery_address": {
            "line1": "1 George St",
            "line2": "Level 2",
            "line3": "Sydney",
            "line4": "NSW",
            "postcode": "2000",
        },
        "_isimport": True,
    }


def test_mapped_customer_with_the_link_in_place_is_unchanged():
    halo = [{"id": 9, "name": "Renamed in Halo", "azure_tenants": [link("t1", "Contoso")]}]
    (action,) = plan(customers(tenant("t1", "Contoso")), halo, mapped("t1", 9))
    assert action.action == "unchanged" and action.halo_client_id == 9
    assert action.client_patch is None and action.site_patch is None


def test_update_refreshes_the_link_but_never_renames_or_drops_other_links():
    other = {"id": 77, "azure_tenant_id": "other", "azure_tenant_name": "Other"}
    halo = [{"id": 9, "name": "Halo Name", "azure_tenants": [other]}]
    (action,) = plan(customers(tenant("t1", "Contoso")), halo, mapped("t1", 9))
    assert action.action == "update" and action.changes == ["azure_tenants"]
    assert action.client_patch == {"id": 9, "azure_tenants": [other, link("t1", "Contoso")]}
    assert "name" not in action.client_patch


def test_a_stale_link_is_refreshed_in_place():
    halo = [{"id": 9, "name": "X", "azure_tenants": [{"id": 5, **link("T1", "Old name")}]}]
    (action,) = plan(customers(tenant("t1", "Contoso")), halo, mapped("t1", 9))
    assert action.client_patch == {
        "id": 9,
        "azure_tenants": [
            {
                "id": 5,
                **link("T1", "Old name"),
                "azure_tenant_name": "Contoso",
                "azure_tenant_domain": "t1.onmicrosoft.com",
            }
        ],
    }


def test_main_site_address_is_updated_only_when_asked_and_different():
    halo = [{"id": 9, "name": "X", "main_site_id": 40, "azure_tenants": [link("t1", "Contoso")]}]
    sites = {40: {"id": 40, "delivery_address": {"line1": "old"}}}
    dd = customers(tenant("t1", "Contoso", **ADDRESS))
    (not_asked,) = plan(dd, halo, mapped("t1", 9), sites)
    assert not_asked.action == "unchanged"
    (asked,) = plan(dd, halo, mapped("t1", 9), sites, update_main_site_address=True)
    assert asked.action == "update" and asked.changes == ["main_site_address"]
    assert asked.site_patch == {"id": 40, "delivery_address": address_of(dd, "t1")}
    same = {40: {"id": 40, "delivery_address": address_of(dd, "t1")}}
    (again,) = plan(dd, halo, mapped("t1", 9), same, update_main_site_address=True)
    assert again.action == "unchanged"


def test_site_address_reads_flat_list_columns():
    site = SiteRecord.from_wire(
        {
            "id": "40",
            "delivery_address_line1": "1 George St",
            "delivery_address_line2": "",
            "delivery_address_line3": "Sydney",
        }
    )
    assert site is not None and site.id == 40
    assert (site.address.line1, site.address.line2, site.address.line3) == ("1 George St", "", "Sydney")


def test_unmapped_customer_already_marked_in_halo_is_adopted_not_created():
    halo = [{"id": 12, "name": "Contoso", "azure_tenants": [link("t1", "Contoso")]}]
    (action,) = plan(customers(tenant("t1", "Contoso")), halo)
    assert action.action == "unchanged" and action.new_mapping and action.halo_client_id == 12


def test_customer_without_csp_tenant_is_skipped_with_reason():
    (action,) = plan(customers({"TenantId": "", "CompanyName": "Blue Yonder"}), [])
    assert action.action == "skip" and "CSP tenant" in (action.reason or "")


def test_mapping_to_a_vanished_halo_client_fails_with_advice():
    (action,) = plan(customers(tenant("t1", "Contoso")), [], mapped("t1", 404))
    assert action.action == "fail" and "no longer exists" in (action.reason or "")


def test_hostile_names_fail_alone():
    dd = customers(tenant("t1", "x" * 400), tenant("t2", ""), tenant("t3", "Fine"))
    actions = {a.dicker_id: a for a in plan(dd, [])}
    assert actions["t1"].action == "fail" and actions["t2"].action == "fail"
    assert actions["t3"].action == "create"


def test_customer_ids_narrow_the_plan_and_skip_nothing_else():
    dd = customers(tenant("t1", "A"), tenant("t2", "B"), {"TenantId": "", "CompanyName": "C"})
    assert [a.dicker_id for a in plan(dd, [], customer_ids=["t2"])] == ["t2"]
    assert len(plan(dd, [])) == 3


def test_plan_is_deterministic():
    dd = customers(*(tenant(f"t{i}", f"Name {i % 7}") for i in range(30)))
    first = [(a.dicker_id, a.action) for a in plan(dd, [])]
    assert first == [(a.dicker_id, a.action) for a in plan(dd, [])]


def test_a_list_view_without_tenant_links_is_never_overwritten_blind():
    halo = [{"id": 9, "name": "X"}]  # this Halo list view leaves azure_tenants out
    (action,) = plan(customers(tenant("t1", "Contoso")), halo, mapped("t1", 9))
    assert action.action == "update" and action.changes == ["azure_tenants"]
    assert action.links_unread and action.client_patch is None  # completed after a read of the client


def test_what_we_wrote_before_counts_when_halo_does_not_show_it():
    dd = customers(tenant("t1", "Contoso", **ADDRESS))
    written = {
        "azure_tenants": content_hash(tenant_link(dd.by_id["t1"]).ours()),
        "main_site_address": content_hash(address_of(dd, "t1")),
    }
    mappings = {"t1": mapping("t1", 9, source="import", written=written)}
    halo = [{"id": 9, "name": "X", "main_site_id": 40}]
    sites = {40: {"id": 40, "delivery_address_line1": "1 George St"}}  # no postcode in this view
    (action,) = plan(dd, halo, mappings, sites, update_main_site_address=True)
    assert action.action == "unchanged" and action.written == {}


def test_hashes_remembered_by_earlier_versions_stay_valid():
    """Mappings store a hash of what we wrote; the records must hash exactly as the wire dicts
    did, or every customer would read as changed after an upgrade."""
    dd = customers(tenant("t1", "Contoso", **ADDRESS))
    assert content_hash(tenant_link(dd.by_id["t1"]).ours()) == content_hash(link("t1", "Contoso"))
    assert content_hash(address_of(dd, "t1")) == content_hash(
        {"line1": "1 George St", "line2": "Level 2", "line3": "Sydney", "line4": "NSW", "postcode": "2000"}
    )


# ---------------------------------------------------------------------------------- held creates
def test_a_customer_whose_name_halo_already_holds_is_held_not_created():
    (action,) = plan(customers(tenant("t1", "Contoso")), [{"id": 5, "name": "contoso "}])
    assert (action.action, action.reason_code) == ("skip", "similar_client_exists")
    assert [(s.halo_client_id, s.halo_client_name) for s in action.suggestions] == [(5, "contoso")]
    assert action.reason is not None and '"contoso" (#5)' in action.reason
    item = action.item()
    assert (item.result, item.reason_code, item.suggestions) == (
        "skipped",
        "similar_client_exists",
        action.suggestions,
    )


def test_a_name_two_halo_clients_share_is_ambiguous_and_held():
    halo = [{"id": 5, "name": "Adventure Works"}, {"id": 6, "name": "ADVENTURE WORKS"}]
    (action,) = plan(customers(tenant("t1", "Adventure Works")), halo)
    assert (action.action, action.reason_code) == ("skip", "ambiguous_name")
    assert sorted(s.halo_client_id for s in action.suggestions) == [5, 6]


def test_a_near_miss_holds_the_create_and_is_offered():
    halo = [{"id": 7, "name": "Tailspin Toys Pty. Ltd."}]
    (action,) = plan(customers(tenant("t1", "Tailspin Toys Pty Ltd")), halo)
    assert (action.action, action.reason_code) == ("skip", "similar_client_exists")
    assert [s.halo_client_id for s in action.suggestions] == [7]


def test_create_when_similar_creates_anyway():
    halo = [{"id": 7, "name": "Tailspin Toys Pty. Ltd."}, {"id": 5, "name": "Contoso"}]
    dd = customers(tenant("t1", "Tailspin Toys Pty Ltd"), tenant("t2", "Contoso"))
    assert {a.action for a in plan(dd, halo, create_when_similar=True)} == {"create"}


def test_an_unlike_name_is_still_created():
    (action,) = plan(customers(tenant("t1", "Northwind Traders")), [{"id": 7, "name": "Fabrikam"}])
    assert action.action == "create" and action.reason_code is None


def test_every_skipped_or_failed_customer_says_why_as_a_word():
    dd = customers(
        tenant("t1", "x" * 400),
        tenant("t2", ""),
        {"TenantId": "", "CompanyName": "No Tenant"},
        tenant("t3", "A"),
    )
    codes = {a.dicker_id or a.name: a.item().reason_code for a in plan(dd, [], mapped("t3", 404))}
    assert codes == {
        "t1": "name_too_long",
        "t2": "no_name",
        "No Tenant": "no_csp_tenant",
        "t3": "mapped_client_missing",
    }


def test_names_apart_only_by_a_number_are_other_companies_and_created():
    halo = [{"id": 7, "name": "Harbour Travel 00012 Limited"}, {"id": 8, "name": "Acme 1 Pty Ltd"}]
    dd = customers(
        tenant("t1", "Harbour Travel 00268 Pty Ltd"),
        tenant("t2", "Acme 2 Pty Ltd"),
        tenant("t3", "Acme 01 Pty. Ltd."),
    )
    assert {a.dicker_id: (a.action, a.reason_code) for a in plan(dd, halo)} == {
        "t1": ("create", None),
        "t2": ("create", None),
        "t3": ("skip", "similar_client_exists"),  # the same number, written otherwise
    }


# ---------------------------------------------------------------------------------- twins in Halo
def test_an_unmapped_customer_whose_tenant_two_clients_carry_is_mapped_to_the_oldest_and_reported():
    twins = [
        {"id": 12, "name": "Contoso", "azure_tenants": [link("t1", "Contoso")]},
        {"id": 9, "name": "Contoso", "azure_tenants": [link("t1", "Contoso")]},
    ]
    (action,) = plan(customers(tenant("t1", "Contoso")), twins)
    assert (action.action, action.reason_code, action.halo_client_id) == ("skip", "duplicate_in_halo", 9)
    assert action.duplicates == [9, 12] and action.new_mapping and action.client_patch is None
    assert "(#9, #12)" in (action.reason or "") and "Merge #12 into it" in (action.reason or "")
    assert action.item().duplicate_ids == [9, 12]


def test_a_mapped_customer_keeps_its_mapping_to_the_newer_twin_and_nothing_is_written():
    twins = [
        {"id": 9, "name": "Contoso", "azure_tenants": [link("t1", "Contoso")]},
        {"id": 12, "name": "Contoso Ltd", "azure_tenants": [link("t1", "Contoso")]},
    ]
    (action,) = plan(
        customers(tenant("t1", "Contoso", **ADDRESS)), twins, mapped("t1", 12), update_main_site_address=True
    )
    assert (action.action, action.halo_client_id, action.duplicates) == ("skip", 12, [9, 12])
    assert not action.new_mapping and action.site_patch is None and action.client_patch is None


# ------------------------------------------------------------------ what importing will do, in a word
def test_next_action_says_in_a_word_what_importing_each_customer_will_do():
    halo = [
        {"id": 7, "name": "Tailspin Toys Pty. Ltd."},
        {"id": 9, "name": "Mapped Co", "azure_tenants": [link("t7", "Mapped Co")]},
        {"id": 12, "name": "Linked Ltd", "azure_tenants": [link("t3", "Linked")]},
    ]
    dd = customers(
        tenant("t1", "Contoso"),
        tenant("t2", "Tailspin Toys Pty Ltd"),
        tenant("t3", "Linked"),
        {"TenantId": "", "CompanyName": "No Tenant"},
        tenant("t5", "Left Out"),
        tenant("t6", "x" * 400),
        tenant("t7", "Mapped Co"),
    )
    actions = plan(dd, halo, mapped("t7", 9), excluded=["t5"])
    assert {a.dicker_id or a.name: next_action(a) for a in actions} == {
        "t1": "create",
        "t2": "hold",
        "t3": "adopt",
        "No Tenant": "skip",
        "t5": "skip",
        "t6": "fail",
        "t7": "unchanged",
    }


def test_with_create_when_similar_a_similar_name_is_said_a_create():
    halo = [{"id": 7, "name": "Tailspin Toys Pty. Ltd."}]
    dd = customers(tenant("t2", "Tailspin Toys Pty Ltd"))
    (held,) = plan(dd, halo)
    (created,) = plan(dd, halo, create_when_similar=True)
    assert (next_action(held), held.create_when_similar_creates) == ("hold", True)
    assert next_action(created) == "create"


# ------------------------------------------------------------------ one name, two Dicker Data customers
TWINS = (tenant("t1", "Trailing Space Co"), tenant("t2", "trailing space co "))


def test_two_customers_of_one_name_are_both_held_in_one_run():
    actions = {a.dicker_id: a for a in plan(customers(*TWINS), [])}
    assert {k: (a.action, a.reason_code, a.create_when_similar_creates) for k, a in actions.items()} == {
        "t1": ("skip", "ambiguous_name", False),
        "t2": ("skip", "ambiguous_name", False),
    }
    assert actions["t1"].reason == (
        'Not created: Dicker Data customer "trailing space co" (t2) has this name too, and one name '
        "must not become two Halo clients. Map each customer to its Halo client (POST /mappings), "
        "or tell them apart in Dicker Data."
    )
    assert '"Trailing Space Co" (t1)' in (actions["t2"].reason or "")
    assert [a.item().shares_name_with for a in actions.values()] == [["t2"], ["t1"]]


def test_create_when_similar_does_not_create_two_clients_of_one_name():
    actions = plan(customers(*TWINS), [], create_when_similar=True)
    assert [(a.action, a.reason_code) for a in actions] == [("skip", "ambiguous_name")] * 2


def test_namesakes_held_by_name_keep_halos_clients_to_map_to():
    actions = plan(customers(*TWINS), [{"id": 5, "name": "Trailing Space Co Pty Ltd"}])
    assert [(a.reason_code, [s.halo_client_id for s in a.suggestions]) for a in actions] == [
        ("ambiguous_name", [5]),
        ("ambiguous_name", [5]),
    ]


def test_a_namesake_out_of_the_chosen_customers_still_holds_the_one_imported():
    (action,) = plan(customers(*TWINS), [], customer_ids=["t1"])
    assert (action.dicker_id, action.action, action.reason_code) == ("t1", "skip", "ambiguous_name")


def test_a_mapped_linked_or_excluded_namesake_is_not_held_nor_holds_the_other():
    halo = [
        {"id": 9, "name": "Renamed In Halo", "azure_tenants": [link("t1", "Trailing Space Co")]},
        {"id": 12, "name": "Also Renamed", "azure_tenants": [link("t3", "Linked")]},
    ]
    dd = customers(
        *TWINS,
        tenant("t3", "Linked Pty"),
        tenant("t4", "LINKED PTY"),
        tenant("t5", "Left Out Ltd"),
        tenant("t6", "left out ltd"),
    )
    actions = plan(dd, halo, mapped("t1", 9), excluded=["t5"])
    assert {a.dicker_id: (next_action(a), a.reason_code) for a in actions} == {
        "t1": ("unchanged", None),  # mapped: its namesake was not created
        "t2": ("create", None),
        "t3": ("adopt", None),  # linked by its Microsoft tenant
        "t4": ("create", None),
        "t5": ("skip", "excluded"),
        "t6": ("create", None),
    }
