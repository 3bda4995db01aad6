"""The subscriptions apply step against an in-memory Halo and moto's table: add-ons are created
after their new bases, with the bases' ids; every licence written (or adopted) is linked with the
hash of what it holds; what time ran out for is handed on, with when it was sent when it may have
landed (the follow-up looks for it once Halo had time to save it)."""

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any

from ddhalo.errors import IntegrationError, UnreachableError
from ddhalo.halo.records import Licence, marker_in
from ddhalo.halo.saving import SaveResult
from ddhalo.models import SubscriptionLink
from ddhalo.pipeline.compare import content_hash
from ddhalo.pipeline.reconcile import Applied
from ddhalo.pipeline.subscriptions.apply import (
    apply_subscriptions,
    from_payload,
    licence_finder,
    to_payload,
)
from ddhalo.pipeline.subscriptions.plan import SubscriptionAction, plan_customer
from ddhalo.store import Store
from tests.unit.builders import licence_for, link_for, scope, sub
from tests.unit.scripted_halo import LANDED, ScriptedHalo, rejected, unsent

BASE_FAILED = "Its base subscription could not be created."


class FakeLicences(ScriptedHalo):
    """Halo holding ``licences``, saving as the scripts say (a create's key is the subscription id
    in its marker, a patch's its id), ``batch`` records a call."""

    def __init__(self, licences: Sequence[dict[str, Any]] = (), *scripts: dict[Any, Any], batch=100) -> None:
        super().__init__(*scripts, held={"SoftwareLicence": licences}, write_batch=batch)
        self.list_error: IntegrationError | None = None

    def key(self, record: dict[str, Any]) -> Any:
        return record.get("id") or marker_in(record.get("notes"))

    def save(self, entity: str, records: Sequence[dict[str, Any]]) -> SaveResult:
        assert entity == "SoftwareLicence"
        return super().save(entity, records)

    def licences(self, client_id: int | None = None) -> list[Licence]:
        if self.list_error is not None:
            raise self.list_error
        held = self.held["SoftwareLicence"].values()
        rows = [r for r in held if client_id is None or r.get("client_id") == client_id]
        return [lic for r in rows if (lic := Licence.from_wire(r))]

    @property
    def batches(self) -> list[list[dict[str, Any]]]:
        """The records each call sent."""
        return [records for _, records in self.writes]

    def marked(self) -> list[str]:
        return sorted(marker_in(r.get("notes")) or "" for r in self.held["SoftwareLicence"].values())


def planned(subs, licences=(), links=()) -> dict[str, SubscriptionAction]:
    """The real planner's actions for one customer, by subscription id."""
    actions = plan_customer(scope(subs, licences, links))
    assert isinstance(actions, list)
    return {a.subscription_id: a for a in actions}


def apply(
    actions: Iterable[SubscriptionAction], halo: FakeLicences, store: Store
) -> Applied[SubscriptionAction]:
    client: Any = halo  # stands in for HaloClient
    return apply_subscriptions(list(actions), client, store, licence_finder(client))


def outcomes(done) -> set[tuple[str, str, int | None, str | None]]:
    return {(i.dicker_id, i.result, i.halo_id, i.reason) for i in done.items}


def links(store) -> dict[str, SubscriptionLink]:
    return {lk.subscription_id: lk for lk in store.list_links("t1")}


# ---------------------------------------------------------------------------------- add-ons
def test_an_addon_created_with_its_base_gets_the_bases_new_licence_id_as_parent(store):
    actions = planned([sub("addon", ParentSubscriptionId="base"), sub("base")])
    halo = FakeLicences()
    done = apply(actions.values(), halo, store)
    assert [[marker_in(r["notes"]) for r in batch] for batch in halo.batches] == [["base"], ["addon"]]
    assert "parent_id" not in halo.batches[0][0]
    assert halo.batches[1][0]["parent_id"] == 101
    assert outcomes(done) == {("base", "created", 101, None), ("addon", "created", 102, None)}
    addon_link = links(store)["addon"]
    assert addon_link.halo_licence_id == 102 and (addon_link.fields or {})["parent_id"] == 101
    assert addon_link.content_hash == content_hash({**actions["addon"].fields, "parent_id": 101})


def test_addons_join_the_next_batch_beside_other_bases(store):
    actions = planned([sub("addon", ParentSubscriptionId="base"), sub("base"), sub("o1"), sub("o2")])
    halo = FakeLicences(batch=2)
    apply(actions.values(), halo, store)
    assert [[marker_in(r["notes"]) for r in batch] for batch in halo.batches] == [
        ["base", "o1"],
        ["addon", "o2"],
    ]
    assert halo.batches[1][0]["parent_id"] == 101


def test_a_base_that_fails_makes_its_addons_fail_unsent(store):
    actions = planned([sub("addon", ParentSubscriptionId="base"), sub("base"), sub("other")])
    halo = FakeLicences((), {"base": rejected("bad SKU", "SoftwareLicence")})
    done = apply(actions.values(), halo, store)
    assert outcomes(done) == {
        ("base", "failed", None, "Halo rejected POST /SoftwareLicence: bad SKU"),
        ("addon", "failed", None, BASE_FAILED),
        ("other", "created", 101, None),
    }
    assert [[marker_in(r["notes"]) for r in batch] for batch in halo.batches] == [["base", "other"]]
    assert set(links(store)) == {"other"}


def test_an_addon_of_an_existing_base_is_created_with_it_in_the_first_batch(store):
    base = sub("base")
    actions = planned(
        [sub("addon", ParentSubscriptionId="base"), base], [licence_for(base, 50)], [link_for(base, 50)]
    )
    halo = FakeLicences([licence_for(base, 50)])
    done = apply(actions.values(), halo, store)
    assert len(halo.batches) == 1 and halo.batches[0][0]["parent_id"] == 50
    assert outcomes(done) == {("base", "unchanged", 50, None), ("addon", "created", 101, None)}


# ---------------------------------------------------------------------------------- links
def test_links_are_stored_for_created_updated_and_relinked_licences_with_the_full_hash(store):
    chg, adp, same = sub("chg"), sub("adp"), sub("same")
    halo_view = [licence_for(chg, 50), licence_for(adp, 60), licence_for(same, 70)]
    old_same = dataclasses.replace(link_for(same, 70), updated_at="2020-01-01T00:00:00.000Z")
    store.put_links([link_for(chg, 50), old_same])
    actions = planned(
        [sub("new"), sub("chg", ConfirmedQuantity=9), adp, same], halo_view, [link_for(chg, 50), old_same]
    )
    assert {k: (a.action, a.relink) for k, a in actions.items()} == {
        "new": ("create", False),
        "chg": ("update", False),
        "adp": ("unchanged", True),
        "same": ("unchanged", False),
    }
    halo = FakeLicences(halo_view)
    done = apply(actions.values(), halo, store)
    assert halo.batches[0] == [{"id": 50, "count": 9}]  # updates first, then creates
    assert [marker_in(r["notes"]) for r in halo.batches[1]] == ["new"] and len(halo.batches) == 2
    assert outcomes(done) == {
        ("new", "created", 101, None),
        ("chg", "updated", 50, None),
        ("adp", "unchanged", 60, None),
        ("same", "unchanged", 70, None),
    }
    stored = links(store)
    for sid, licence_id in (("new", 101), ("chg", 50), ("adp", 60)):
        assert stored[sid].halo_licence_id == licence_id
        assert stored[sid].content_hash == actions[sid].full_hash()
        assert stored[sid].fields == actions[sid].written()
    assert (stored["chg"].fields or {})["count"] == 9
    assert stored["same"].updated_at == "2020-01-01T00:00:00.000Z"  # untouched: nothing to remember


def test_a_failed_update_is_reported_and_its_link_kept_as_it_was(store):
    chg = sub("chg")
    old = link_for(chg, 50)
    store.put_links([old])
    actions = planned([sub("chg", ConfirmedQuantity=9)], [licence_for(chg, 50)], [old])
    halo = FakeLicences([licence_for(chg, 50)], {50: rejected("count", "SoftwareLicence")})
    done = apply(actions.values(), halo, store)
    assert outcomes(done) == {("chg", "failed", 50, "Halo rejected POST /SoftwareLicence: count")}
    assert links(store)["chg"].content_hash == old.content_hash


def test_plan_failures_are_items_and_write_nothing(store):
    actions = plan_customer(scope([sub("a"), sub("a")]))
    assert isinstance(actions, list)
    fails = [a for a in actions if a.action == "fail"]
    halo = FakeLicences()
    done = apply(fails, halo, store)
    assert outcomes(done) == {
        ("a", "failed", None, "Dicker Data answered this SubscriptionId twice; the first is used.")
    }
    assert halo.batches == [] and links(store) == {}


# ---------------------------------------------------------------------------------- time
def test_unsent_writes_come_back_in_remaining(store):
    chg = sub("chg")
    actions = planned(
        [sub("new"), sub("chg", ConfirmedQuantity=9)], [licence_for(chg, 50)], [link_for(chg, 50)]
    )
    halo = FakeLicences([licence_for(chg, 50)], {50: unsent()}, {"new": unsent()})
    done = apply(actions.values(), halo, store)
    assert done.items == [] and links(store) == {}
    assert done.remaining == [actions["chg"], actions["new"]]
    assert actions["new"].lost_at is None  # never sent: nothing to look for


def test_a_lost_create_halo_cannot_be_read_for_is_handed_on_marked_with_its_addons(store):
    actions = planned([sub("addon", ParentSubscriptionId="base"), sub("base")])
    halo = FakeLicences((), {"base": LANDED})
    halo.list_error = UnreachableError("Halo did not answer.")
    done = apply(actions.values(), halo, store)
    assert done.items == [] and done.remaining == [actions["base"], actions["addon"]]
    # The base was sent at time 1 (the first save): the follow-up waits for Halo to save it since.
    assert actions["base"].lost_at == 1.0 and actions["addon"].lost_at is None
    assert done.lost_at == 1.0

    # The follow-up looks for the base before sending it: found, adopted, its add-on gets its id.
    halo.list_error = None
    again = apply(from_payload(to_payload(done.remaining)), halo, store)
    assert outcomes(again) == {("base", "created", 101, None), ("addon", "created", 102, None)}
    assert halo.marked() == ["addon", "base"]  # the base was created once
    assert [[marker_in(r["notes"]) for r in batch] for batch in halo.batches] == [["base"], ["addon"]]
    assert halo.batches[1][0]["parent_id"] == 101
    assert links(store)["base"].halo_licence_id == 101


def test_a_payload_round_trip_keeps_every_field_of_an_action():
    action = SubscriptionAction(
        "create",
        "t1",
        "addon",
        "Addon",
        fields={"client_id": 7, "name": "Addon"},
        parent_subscription_id="base",
        parent_licence_id=50,
        changes=["licence"],
        lost_at=1765000000.5,
    )
    assert from_payload(to_payload([action])) == [action]
