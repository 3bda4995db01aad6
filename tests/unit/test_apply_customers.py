"""The customers apply step against an in-memory Halo and moto's table: each created client is
mapped right away, a client whose list view hid its tenant links is read before it is patched, and
what time ran out for is handed on."""

from collections.abc import Sequence
from typing import Any

import pytest

from ddhalo.errors import IntegrationError, UpstreamError
from ddhalo.halo.records import ClientRecord
from ddhalo.pipeline.compare import content_hash
from ddhalo.pipeline.customers.apply import apply_customers
from ddhalo.pipeline.customers.plan import CustomerAction, plan_customers
from ddhalo.pipeline.options import CustomerOptions
from tests.unit.builders import customer_inputs, customers, link, mapping, tenant
from tests.unit.scripted_halo import LANDED, SAVED, ScriptedHalo, rejected, unsent


class FakeHalo(ScriptedHalo):
    """Halo holding ``clients`` (and sites), saving as the scripts say (a create's key is its name,
    a patch's its id). ``client`` reads one client, noted in ``reads``; the list view hides its
    tenant links unless asked ``with_links``."""

    def __init__(self, clients: Sequence[dict[str, Any]] = (), *scripts: dict[Any, Any]) -> None:
        super().__init__(*scripts, held={"Client": clients, "Site": ()})
        self.reads: list[tuple[int, bool]] = []
        self.client_error: IntegrationError | None = None

    def clients(self) -> list[ClientRecord]:
        return [c for r in self.held["Client"].values() if (c := ClientRecord.from_wire(r))]

    def client(self, client_id: int, *, with_links: bool = False) -> ClientRecord | None:
        self.reads.append((client_id, with_links))
        if self.client_error is not None:
            raise self.client_error
        record = self.held["Client"].get(client_id)
        if record is not None and not with_links:
            record = {k: v for k, v in record.items() if k != "azure_tenants"}
        return ClientRecord.from_wire(record)


OTHER_LINK = {"id": 77, "azure_tenant_id": "other", "azure_tenant_name": "Other"}
LINK_HASH = content_hash(link("t1", "Contoso"))


def plan(store, rows, halo_list, sites=None, **options) -> list[CustomerAction]:
    """The real planner, with Halo's list view as given and the store's mappings."""
    mappings = {m.dicker_customer_id: m for m in store.list_mappings()}
    inputs = customer_inputs(customers(*rows), halo_list, mappings, sites)
    return plan_customers(inputs, CustomerOptions(**options))


def mapped(store, tid: str, client_id: int) -> None:
    store.put_mapping(mapping(tid, client_id))


def outcomes(done) -> list[tuple[str, str, int | None, str | None]]:
    return [(i.dicker_id, i.result, i.halo_id, i.reason) for i in done.items]


# ---------------------------------------------------------------------------------- creates
def test_a_created_client_gets_its_mapping_stored(store):
    actions = plan(store, [tenant("t1", "Contoso")], [])
    halo = FakeHalo()
    done = apply_customers(actions, halo, store, created_by="run:r1")  # type: ignore[arg-type]
    assert outcomes(done) == [("t1", "created", 101, None)] and done.remaining == []
    assert [entity for entity, _ in halo.writes] == ["Client"]
    mapping = store.get_mapping("t1")
    assert mapping is not None
    assert (mapping.halo_client_id, mapping.halo_client_name, mapping.source, mapping.created_by) == (
        101,
        "Contoso",
        "import",
        "run:r1",
    )
    assert mapping.written == {"azure_tenants": LINK_HASH}


def test_a_conflict_on_the_mapping_store_is_reported_failed_not_lost(store):
    mapped(store, "someone-else", 101)  # Halo client 101 is mapped already (a race, a manual map)
    actions = plan(store, [tenant("t1", "Contoso")], [])
    done = apply_customers(actions, FakeHalo(), store)  # type: ignore[arg-type]
    assert outcomes(done) == [
        (
            "t1",
            "failed",
            101,
            "Created in Halo but not mapped: "
            "Halo client 101 is already mapped to another Dicker Data customer.",
        )
    ]
    assert store.get_mapping("t1") is None


def test_a_create_whose_answer_was_lost_is_found_by_its_tenant_and_mapped_not_created_twice(store):
    actions = plan(store, [tenant("t1", "Contoso")], [])
    halo = FakeHalo((), {"Contoso": LANDED})
    done = apply_customers(actions, halo, store)  # type: ignore[arg-type]
    assert outcomes(done) == [("t1", "created", 101, None)]
    assert len(halo.writes) == 1 and list(halo.held["Client"]) == [101]
    mapping = store.get_mapping("t1")
    assert mapping is not None and (mapping.halo_client_id, mapping.halo_client_name) == (101, "Contoso")


def test_a_rejected_create_fails_with_halos_reason_and_maps_nothing(store):
    actions = plan(store, [tenant("t1", "Contoso")], [])
    refusal = rejected("duplicate name")
    done = apply_customers(actions, FakeHalo((), {"Contoso": refusal}), store)  # type: ignore[arg-type]
    assert outcomes(done) == [("t1", "failed", None, "Halo rejected POST /Client: duplicate name")]
    assert store.list_mappings() == []


def test_a_create_unsent_for_lack_of_time_comes_back_in_remaining(store):
    actions = plan(store, [tenant("t1", "Contoso"), tenant("t2", "Fabrikam")], [])
    halo = FakeHalo((), {"Contoso": unsent()})
    done = apply_customers(actions, halo, store)  # type: ignore[arg-type]
    assert done.remaining == ["t1"] and outcomes(done) == [("t2", "created", 101, None)]
    assert [m.dicker_customer_id for m in store.list_mappings()] == ["t2"]


# ---------------------------------------------------------------------------------- updates
def test_hidden_links_are_read_first_and_nothing_is_written_when_halo_holds_the_link(store):
    mapped(store, "t1", 9)
    actions = plan(store, [tenant("t1", "Contoso")], [{"id": 9, "name": "X"}])  # list hid the links
    assert actions[0].links_unread
    halo = FakeHalo([{"id": 9, "name": "X", "azure_tenants": [link("t1", "Contoso")]}])
    done = apply_customers(actions, halo, store)  # type: ignore[arg-type]
    assert halo.reads == [(9, True)] and halo.writes == []
    assert outcomes(done) == [("t1", "unchanged", 9, None)] and done.items[0].changes == []
    assert store.get_mapping("t1").written == {"azure_tenants": LINK_HASH}  # not read again next run


def test_hidden_links_read_without_ours_are_patched_keeping_the_others(store):
    mapped(store, "t1", 9)
    actions = plan(store, [tenant("t1", "Contoso")], [{"id": 9, "name": "X"}])
    halo = FakeHalo([{"id": 9, "name": "X", "azure_tenants": [OTHER_LINK]}])
    done = apply_customers(actions, halo, store)  # type: ignore[arg-type]
    assert halo.reads == [(9, True)]
    assert halo.writes == [("Client", [{"id": 9, "azure_tenants": [OTHER_LINK, link("t1", "Contoso")]}])]
    assert outcomes(done) == [("t1", "updated", 9, None)] and done.items[0].changes == ["azure_tenants"]
    assert store.get_mapping("t1").written == {"azure_tenants": LINK_HASH}


def test_out_of_time_reading_hidden_links_hands_the_customer_on(store):
    mapped(store, "t1", 9)
    actions = plan(store, [tenant("t1", "Contoso")], [{"id": 9, "name": "X"}])
    halo = FakeHalo([{"id": 9, "name": "X"}])
    halo.client_error = unsent()
    done = apply_customers(actions, halo, store)  # type: ignore[arg-type]
    assert done.remaining == ["t1"] and done.items == [] and halo.writes == []
    assert store.get_mapping("t1").written == {}


def test_a_client_that_cannot_be_read_fails_alone_not_the_run(store):
    mapped(store, "t1", 9)
    mapped(store, "t2", 10)
    halo_list = [{"id": 9, "name": "X"}, {"id": 10, "name": "Y", "azure_tenants": [OTHER_LINK]}]
    actions = plan(store, [tenant("t1", "Contoso"), tenant("t2", "Fabrikam")], halo_list)
    halo = FakeHalo([{"id": 9, "name": "X"}, halo_list[1]])
    halo.client_error = UpstreamError("Halo answered HTTP 503 for GET /Client/9: busy", status_code=503)
    done = apply_customers(actions, halo, store)  # type: ignore[arg-type]
    assert outcomes(done) == [
        (
            "t1",
            "failed",
            9,
            "Could not read the Halo client's tenant links: Halo answered HTTP 503 for GET /Client/9: busy",
        ),
        ("t2", "updated", 10, None),
    ]
    assert store.get_mapping("t1").written == {}


def test_an_update_unsent_for_lack_of_time_comes_back_in_remaining(store):
    mapped(store, "t1", 9)
    halo_list = [{"id": 9, "name": "X", "azure_tenants": [OTHER_LINK]}]
    actions = plan(store, [tenant("t1", "Contoso")], halo_list)
    halo = FakeHalo(halo_list, {9: unsent()})
    done = apply_customers(actions, halo, store)  # type: ignore[arg-type]
    assert done.remaining == ["t1"] and done.items == []
    assert store.get_mapping("t1").written == {}


def test_a_rejected_client_patch_fails_and_its_site_is_not_patched(store):
    mapped(store, "t1", 9)
    halo_list = [{"id": 9, "name": "X", "main_site_id": 40, "azure_tenants": [OTHER_LINK]}]
    sites = {40: {"id": 40, "delivery_address": {"line1": "old"}}}
    address = {"Address01": "1 George St", "Suburb": "Sydney", "State": "NSW", "Postcode": "2000"}
    actions = plan(
        store, [tenant("t1", "Contoso", **address)], halo_list, sites, update_main_site_address=True
    )
    assert actions[0].client_patch is not None and actions[0].site_patch is not None
    refusal = rejected("bad link")
    halo = FakeHalo(halo_list, {9: refusal})
    done = apply_customers(actions, halo, store)  # type: ignore[arg-type]
    assert [entity for entity, _ in halo.writes] == ["Client"]
    assert outcomes(done) == [("t1", "failed", 9, "Halo rejected POST /Client: bad link")]
    assert store.get_mapping("t1").written == {}  # nothing remembered as written


def test_a_client_found_by_its_tenant_is_adopted_with_an_import_mapping_and_no_write(store):
    halo_list = [{"id": 12, "name": "Contoso", "azure_tenants": [link("t1", "Contoso")]}]
    actions = plan(store, [tenant("t1", "Contoso")], halo_list)
    halo = FakeHalo(halo_list)
    done = apply_customers(actions, halo, store, created_by="run:r2")  # type: ignore[arg-type]
    assert outcomes(done) == [("t1", "unchanged", 12, None)] and halo.writes == []
    mapping = store.get_mapping("t1")
    assert mapping is not None
    assert (mapping.halo_client_id, mapping.source, mapping.created_by) == (12, "import", "run:r2")
    assert mapping.halo_client_name == "Contoso"  # the name Halo's list showed, as for a created one
    assert mapping.written == {"azure_tenants": LINK_HASH}


def test_skips_and_plan_failures_are_reported_as_planned_without_writes(store):
    rows = [{"TenantId": "", "CompanyName": "No Tenant"}, tenant("t2", "")]
    halo = FakeHalo()
    done = apply_customers(plan(store, rows, []), halo, store)  # type: ignore[arg-type]
    assert sorted((i.result, i.name) for i in done.items) == [("failed", ""), ("skipped", "No Tenant")]
    assert halo.writes == [] and store.list_mappings() == []


@pytest.mark.parametrize("answer", [SAVED, LANDED])
def test_a_patch_that_landed_is_updated_whether_or_not_its_answer_came_back(store, answer):
    mapped(store, "t1", 9)
    halo_list = [{"id": 9, "name": "X", "azure_tenants": [OTHER_LINK]}]
    actions = plan(store, [tenant("t1", "Contoso")], halo_list)
    done = apply_customers(actions, FakeHalo(halo_list, {9: answer}), store)  # type: ignore[arg-type]
    assert outcomes(done) == [("t1", "updated", 9, None)]
