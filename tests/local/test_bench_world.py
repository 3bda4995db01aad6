"""What the bench does to the world between syncs, and its check of Halo against Dicker Data,
on fakes that are never started (their records only)."""

from __future__ import annotations

from typing import Any

import pytest

from local.bench.world import (
    CHECKS,
    GONE_STATUS,
    STATUS_NAMES,
    change_split,
    change_subscriptions,
    check_halo,
    drift_as_mismatches,
    hand_drift,
    marker_of,
    mismatch_count,
    world_counts,
)
from local.fakes import DickerDataFake, HaloFake
from local.fakes.sample_data import generate_dicker_data


def _in_step(customers: int = 20, subs: int = 3) -> tuple[DickerDataFake, HaloFake, dict[str, int]]:
    """A Dicker Data world and the Halo a perfect sync would have made of it, and its mapping."""
    tenants, subscriptions = generate_dicker_data(customers, subs, seed=3)
    dd = DickerDataFake(tenants=tenants, subscriptions=subscriptions)
    halo = HaloFake()
    mapping = {}
    for tenant in tenants:
        client = halo.add_client(
            tenant["CompanyName"], azure_tenants=[{"azure_tenant_id": tenant["TenantId"]}]
        )
        mapping[tenant["TenantId"]] = client["id"]
    licence_of: dict[str, int] = {}
    for sub in sorted(subscriptions, key=lambda s: bool(s["ParentSubscriptionId"])):  # bases first
        licence_of[sub["SubscriptionId"]] = _licence(halo, mapping[sub["TenantId"]], sub, licence_of)["id"]
    return dd, halo, mapping


def _licence(
    halo: HaloFake, client_id: int, sub: dict[str, Any], licence_of: dict[str, int] | None = None
) -> dict[str, Any]:
    parent = (licence_of or {}).get(sub["ParentSubscriptionId"])
    return halo.add_licence(
        client_id,
        sub["StockDescription"],
        count=sub["ConfirmedQuantity"],
        status=STATUS_NAMES[sub["Status"]],
        is_active=sub["Status"] == "ACTIVE",
        notes=f"Dicker Data subscription: {sub['SubscriptionId']}\nReference: x",
        **({"parent_id": parent} if parent else {}),
    )


def _none() -> dict[str, list[str]]:
    return {kind: [] for kind in CHECKS}


def test_a_halo_in_step_with_dicker_data_checks_clean():
    dd, halo, mapping = _in_step()
    assert check_halo(halo, dd, mapping) == _none()
    assert mismatch_count(check_halo(halo, dd, mapping)) == 0


def test_the_marker_is_the_first_line_of_the_notes_only():
    assert marker_of({"notes": "Dicker Data subscription: abc \nmore"}) == "abc"
    assert marker_of({"notes": "Bought direct\nDicker Data subscription: abc"}) is None
    assert marker_of({}) is None


def test_hand_drift_shows_as_exactly_its_mismatches_until_corrected():
    dd, halo, mapping = _in_step()
    drift = hand_drift(halo, dd, mapping, per_kind=2, seed=1)
    assert {kind: len(ids) for kind, ids in drift.items()} == {
        "count": 2,
        "inactive": 2,
        "deleted": 2,
        "moved": 2,
        "unlinked": 2,
    }
    edited = [i for kind in ("count", "inactive", "deleted", "moved") for i in drift[kind]]
    assert len(set(edited)) == 8  # each licence edited once
    assert check_halo(halo, dd, mapping) == drift_as_mismatches(drift)
    moved = next(r for r in halo.licences.values() if marker_of(r) == drift["moved"][0])
    assert halo.licences.ids_where(moved["client_id"]).count(moved["id"]) == 1  # the index followed


def test_a_deleted_base_re_created_under_a_new_id_leaves_its_add_ons_naming_the_old_one():
    dd, halo, mapping = _in_step(customers=30, subs=5)
    drift = hand_drift(halo, dd, mapping, per_kind=2, seed=4, bases=True)
    base = drift["deleted"][0]
    orphans = [s["SubscriptionId"] for s in dd.subscriptions if s["ParentSubscriptionId"] == base]
    assert orphans and drift["orphans"] == sorted(orphans)
    assert check_halo(halo, dd, mapping) == drift_as_mismatches(drift)  # nothing names a base yet
    _licence(halo, mapping[dd.subscription(base)["TenantId"]], dd.subscription(base))  # re-created
    assert check_halo(halo, dd, mapping)["parent"] == sorted(orphans)


def test_hand_drift_needs_a_world_big_enough():
    dd, halo, mapping = _in_step(customers=2, subs=2)
    with pytest.raises(ValueError, match="too small"):
        hand_drift(halo, dd, mapping, per_kind=5, seed=1)


def test_a_change_in_dicker_data_shows_until_synced():
    dd, halo, mapping = _in_step(customers=50, subs=4)
    before = {s["SubscriptionId"]: dict(s) for s in dd.subscriptions}
    change = change_subscriptions(dd, share=0.05, seed=2)
    assert {kind: len(ids) for kind, ids in change.items()} == {
        "quantity": 4,
        "cancelled": 2,
        "new": 2,
        "vanished": 2,
    }
    found = check_halo(halo, dd, mapping)
    assert found["count"] == sorted(change["quantity"])
    assert found["missing"] == sorted(change["new"])
    assert found["vanished_active"] == sorted(change["vanished"])
    assert set(found["status"]) == set(change["cancelled"])
    was_active = {i for i in change["cancelled"] if before[i]["Status"] == "ACTIVE"}
    assert set(found["active"]) == was_active
    # Synced: the new ones created, the others patched, the vanished made inactive.
    subs = {s["SubscriptionId"]: s for s in dd.subscriptions}
    for record in list(halo.licences.values()):
        sub = subs.get(marker_of(record) or "")
        if sub is None:
            record.update(is_active=False, status=GONE_STATUS)
        else:
            record.update(
                count=sub["ConfirmedQuantity"],
                status=STATUS_NAMES[sub["Status"]],
                is_active=sub["Status"] == "ACTIVE",
            )
    for sub_id in change["new"]:
        _licence(halo, mapping[subs[sub_id]["TenantId"]], subs[sub_id])
    assert check_halo(halo, dd, mapping) == _none()


def test_the_check_finds_duplicates_unmapped_customers_and_wrong_clients():
    dd, halo, mapping = _in_step()
    sub = dd.subscriptions[0]
    _licence(halo, mapping[sub["TenantId"]], sub)
    other = dd.subscriptions[-1]
    unmapped = dict(mapping)
    del unmapped[other["TenantId"]]
    found = check_halo(halo, dd, unmapped)
    assert found["duplicate"] == [sub["SubscriptionId"]]
    assert found["unmapped"] == [other["TenantId"]]
    assert sum(map(len, found.values())) == 2  # the unmapped customer's subscriptions are not also missing
    wrong = {**mapping, sub["TenantId"]: mapping[other["TenantId"]]}
    moved = check_halo(halo, dd, wrong)
    assert sub["SubscriptionId"] in moved["wrong_client"]
    assert moved["tenant_link"] == [sub["TenantId"]]


def test_a_change_is_a_share_of_the_subscriptions_with_one_of_each_kind_at_least():
    assert change_split(50_000, 0.01) == {"quantity": 200, "cancelled": 100, "new": 100, "vanished": 100}
    assert change_split(1_000, 0.01) == {"quantity": 4, "cancelled": 2, "new": 2, "vanished": 2}
    assert change_split(60, 0.01) == {"quantity": 1, "cancelled": 1, "new": 1, "vanished": 1}


def test_world_counts_are_what_a_first_sync_must_write():
    dd, _, _ = _in_step(customers=30, subs=5)
    counts = world_counts(dd, matched=3)
    addons = sum(1 for s in dd.subscriptions if s["ParentSubscriptionId"])
    assert counts == {"customers": 30, "matched": 3, "subscriptions": 150, "addons": addons}
    assert 0 < addons < 150
