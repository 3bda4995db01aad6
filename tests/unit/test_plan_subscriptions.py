"""The subscription plan is pure: its rules checked without I/O."""

import dataclasses
import json

from ddhalo.dicker_data.client import InvalidRecord
from ddhalo.halo.records import OWNED_LICENCE_FIELDS, Licence, marker_in
from ddhalo.pipeline.subscriptions.fields import GONE_STATUS, desired_fields
from ddhalo.pipeline.subscriptions.plan import NeedsLinkFields, plan_customer
from tests.unit.builders import licence_for, link_for, scope, sub


def test_desired_fields_parse_the_manufacturer_stock_code():
    fields = desired_fields(sub("a"), 7, "ms-tenant")
    assert fields["term_duration"] == "P1Y" and fields["vendor_product_sku"] == "CFQ7TTC0LH18:0001"
    assert fields["distributor"] == "Dicker Data" and fields["end_date"] == "2027-01-01"
    assert marker_in(fields["notes"]) == "a"


def test_new_subscription_is_created():
    (action,) = plan_customer(scope([sub("a")]))
    assert action.action == "create" and action.fields["client_id"] == 7


def test_linked_and_unchanged_means_no_write():
    s = sub("a")
    (action,) = plan_customer(scope([s], [licence_for(s, 50)], [link_for(s, 50)]))
    assert action.action == "unchanged" and action.patch is None and action.halo_id == 50


def test_only_changed_fields_are_patched():
    s = sub("a")
    changed = sub("a", ConfirmedQuantity=9)
    (action,) = plan_customer(scope([changed], [licence_for(s, 50)], [link_for(s, 50)]))
    assert action.action == "update" and action.patch == {"id": 50, "count": 9}


def test_unlinked_licence_with_our_marker_is_adopted_not_duplicated():
    s = sub("a")
    halo_view = {**licence_for(s, 50), "end_date": "2027-01-01T00:00:00", "count": 3.0}
    (action,) = plan_customer(scope([s], [halo_view]))
    assert action.action == "unchanged" and action.relink and action.halo_id == 50


def test_vanished_subscription_is_made_inactive_once():
    s = sub("a")
    (action,) = plan_customer(scope([], [licence_for(s, 50)], [link_for(s, 50)]))
    assert action.action == "update" and action.patch == {"id": 50, "is_active": False, "status": GONE_STATUS}
    inactive = {**licence_for(s, 50), "is_active": False, "status": GONE_STATUS}
    (again,) = plan_customer(scope([], [inactive], [link_for(s, 50)]))
    assert again.action == "unchanged"


def test_links_read_without_fields_are_only_asked_for_them_when_something_changed():
    """A bulk read leaves out what each link wrote; the plan needs it only for a change or a
    subscription that just vanished, never for one made inactive by an earlier run."""
    s, gone = sub("a"), sub("b")
    light = [dataclasses.replace(link_for(x, n), fields_json=None) for x, n in ((s, 50), (gone, 51))]
    inactive = {**licence_for(gone, 51), "is_active": False, "status": GONE_STATUS}
    actions = plan_customer(scope([s], [licence_for(s, 50), inactive], light))
    assert [a.action for a in actions] == ["unchanged", "unchanged"]
    changed = plan_customer(scope([sub("a", ConfirmedQuantity=9)], [licence_for(s, 50), inactive], light))
    assert changed == NeedsLinkFields("t1")  # a's quantity changed
    vanished = plan_customer(scope([s], [licence_for(s, 50), licence_for(gone, 51)], light))
    assert vanished == NeedsLinkFields("t1")  # b vanished just now


def test_addon_points_at_its_base_licence():
    base, addon = sub("base"), sub("addon", ParentSubscriptionId="base")
    actions = {
        a.subscription_id: a
        for a in plan_customer(scope([addon, base], [licence_for(base, 50)], [link_for(base, 50)]))
    }
    assert actions["addon"].action == "create" and actions["addon"].parent_licence_id == 50


def test_addon_of_a_new_base_waits_for_it():
    actions = {
        a.subscription_id: a
        for a in plan_customer(scope([sub("addon", ParentSubscriptionId="base"), sub("base")]))
    }
    assert actions["addon"].parent_licence_id is None and actions["addon"].parent_subscription_id == "base"
    assert actions["addon"].reason is None


def test_duplicate_and_unreadable_rows_fail_alone():
    s = scope([sub("a"), sub("a")])
    s.subscriptions.invalid.append(InvalidRecord("#3", "bad"))
    results = sorted(a.action for a in plan_customer(s))
    assert results == ["create", "fail", "fail"]


def test_licence_of_another_client_is_never_adopted():
    s = sub("a")
    elsewhere = {**licence_for(s, 50), "client_id": 99}
    (action,) = plan_customer(scope([s], [elsewhere]))
    assert action.action == "create"


def test_a_bulk_read_keeps_every_licence_field_the_plan_compares():
    """OWNED_LICENCE_FIELDS is what survives of each licence in a bulk read: a field we write but
    do not keep would read as changed on every run."""
    wanted = {**desired_fields(sub("s1", ParentSubscriptionId="s0"), 7, "ms-tenant"), "parent_id": 1}
    assert set(wanted) <= OWNED_LICENCE_FIELDS
    assert set(Licence.from_wire({"id": 1, **wanted, "price": 3}).owned) == set(wanted)


def test_an_adopted_licence_that_differs_from_dicker_data_is_patched_field_by_field():
    """No link yet (found by its marker): the plan compares with Halo's own record, so a
    comparison that always said "same" would leave Halo wrong forever."""
    s = sub("a")
    halo_view = {**licence_for(s, 50), "count": 5.0, "status": "Suspended", "end_date": "2027-01-01T00:00"}
    (action,) = plan_customer(scope([s], [halo_view]))
    assert action.action == "update" and action.relink and action.changes == ["count", "status"]
    assert action.patch == {"id": 50, "count": 3, "status": "Active"}


def test_a_linked_licence_is_patched_where_dicker_data_differs_from_what_we_wrote():
    s = sub("a")
    moved = sub("a", ConfirmedQuantity=4, StockDescription="Renamed")
    (action,) = plan_customer(scope([moved], [licence_for(s, 50)], [link_for(s, 50)]))
    assert action.changes == ["name", "count"]
    assert action.patch == {"id": 50, "name": "Renamed", "count": 4}


# ---------------------------------------------------------------------------------- shared clients
def test_on_a_shared_client_the_other_customers_licences_are_left_alone():
    """Two customers billed on one Halo client: neither plan adopts or retires the other's."""
    mine, theirs, theirs_unlinked = sub("mine"), sub("theirs"), sub("theirs-new")
    shared = dataclasses.replace(
        scope([mine], [licence_for(mine, 50), licence_for(theirs, 60), licence_for(theirs_unlinked, 61)]),
        others=frozenset({"theirs", "theirs-new"}),
        others_licences=frozenset({60}),
    )
    (action,) = plan_customer(shared)
    assert (action.subscription_id, action.action, action.halo_id) == ("mine", "unchanged", 50)


def test_without_sharers_a_marked_licence_missing_from_dicker_data_is_retired():
    """The same licences, the client not shared: the unknown marked ones are ours and gone."""
    mine, theirs = sub("mine"), sub("theirs")
    actions = plan_customer(scope([mine], [licence_for(mine, 50), licence_for(theirs, 60)]))
    assert sorted((a.subscription_id, a.action) for a in actions) == [
        ("mine", "unchanged"),
        ("theirs", "update"),
    ]


# -- a plain sync: licences not read, each link stands for its licence ----------------------------
def trusted(subs, links=()):
    planned = scope(subs, (), links)
    planned.trusted = True
    return planned


def test_trusted_links_plan_without_any_licence():
    same, more = sub("a"), sub("b", ConfirmedQuantity=9)
    links = [link_for(same, 50), link_for(sub("b"), 51)]
    actions = {a.subscription_id: a for a in plan_customer(trusted([same, more, sub("c")], links))}
    assert actions["a"].action == "unchanged" and actions["a"].halo_id == 50
    assert actions["b"].action == "update" and actions["b"].patch == {"id": 51, "count": 9}
    assert actions["c"].action == "create"


def test_a_trusted_vanished_subscription_is_made_inactive_from_its_link_once():
    s = sub("a")
    (gone,) = plan_customer(trusted([], [link_for(s, 50)]))
    assert gone.action == "update" and gone.patch == {"id": 50, "is_active": False, "status": GONE_STATUS}
    retired = dataclasses.replace(link_for(s, 50), fields_json=json.dumps({**gone.fields, "parent_id": None}))
    (again,) = plan_customer(trusted([], [retired]))
    assert again.action == "unchanged" and again.patch is None


def test_a_trusted_vanished_subscription_asks_for_its_links_fields():
    lean = dataclasses.replace(link_for(sub("a"), 50), fields_json=None)
    assert plan_customer(trusted([], [lean])) == NeedsLinkFields("t1")


# -- a verify: what Halo holds is compared with what we wrote ---------------------------------------
def test_a_count_edited_in_halo_is_put_back_though_the_link_is_as_we_wrote():
    s = sub("a")
    edited = {**licence_for(s, 50), "count": 999}
    (action,) = plan_customer(scope([s], [edited], [link_for(s, 50)]))
    assert action.action == "update" and action.patch == {"id": 50, "count": 3}


def test_a_slim_licence_keeps_what_drift_is_checked_on():
    s = sub("a")
    slim = Licence.from_wire({**licence_for(s, 50), "is_active": False}, slim=True)
    assert slim is not None and set(slim.owned) <= {"client_id", "count", "is_active", "status", "name"}
    planned = scope([s], (), [link_for(s, 50)])
    planned.licences = [slim]
    (action,) = plan_customer(planned)
    assert action.action == "update" and action.patch == {"id": 50, "is_active": True}


def test_a_licence_halo_lists_without_a_drift_field_is_not_rewritten_for_it():
    s = sub("a")
    quiet = {k: v for k, v in licence_for(s, 50).items() if k != "count"}
    (action,) = plan_customer(scope([s], [quiet], [link_for(s, 50)]))
    assert action.action == "unchanged"


# ---------------------------------------------------------------------------------- twins in Halo
DUPLICATE = "duplicate_in_halo"


def test_a_licence_copied_beside_the_linked_one_is_reported_and_nothing_is_written():
    s = sub("a", ConfirmedQuantity=9)  # changed too: still not written while Halo holds it twice
    held = [licence_for(sub("a"), 50), licence_for(sub("a"), 61)]
    (action,) = plan_customer(scope([s], held, [link_for(sub("a"), 50)]))
    assert (action.action, action.reason_code, action.halo_id) == ("skip", DUPLICATE, 50)
    assert action.duplicates == [50, 61] and action.patch is None and not action.relink
    assert "#50, #61" in (action.reason or "") and "Delete or deactivate #61" in (action.reason or "")
    assert action.item().duplicate_ids == [50, 61] and action.item().result == "skipped"


def test_the_link_is_kept_when_it_names_the_newer_twin():
    """A create saved late beside the one sent again and linked: the linked one is kept in step."""
    held = [licence_for(sub("a"), 50), licence_for(sub("a"), 61)]
    (action,) = plan_customer(scope([sub("a")], held, [link_for(sub("a"), 61)]))
    assert (action.action, action.halo_id, action.duplicates, action.relink) == ("skip", 61, [50, 61], False)


def test_unlinked_twins_link_the_oldest_with_what_it_holds():
    s = sub("a")
    older = {**licence_for(s, 50), "count": 7}
    (action,) = plan_customer(scope([s], [licence_for(s, 61), older]))
    assert (action.action, action.halo_id, action.duplicates) == ("skip", 50, [50, 61])
    assert action.relink and action.written()["count"] == 7  # the link says what Halo holds
    assert action.written()["end_date"] == desired_fields(s, 7, "ms-tenant")["end_date"]


def test_twins_of_a_subscription_gone_from_dicker_data_are_reported_not_made_inactive():
    held = [licence_for(sub("a"), 50), licence_for(sub("a"), 61)]
    (action,) = plan_customer(scope([], held, [link_for(sub("a"), 50)]))
    assert (action.action, action.reason_code, action.halo_id, action.duplicates) == (
        "skip",
        DUPLICATE,
        50,
        [50, 61],
    )


def test_twins_are_not_looked_for_when_links_are_trusted():
    held = [licence_for(sub("a"), 50), licence_for(sub("a"), 61)]
    trusted = dataclasses.replace(scope([sub("a")], held, [link_for(sub("a"), 50)]), trusted=True)
    (action,) = plan_customer(trusted)
    assert action.action == "unchanged" and action.reason_code is None
