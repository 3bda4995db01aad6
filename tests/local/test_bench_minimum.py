"""The bench's minimum Halo calls per sync kind: pages, lookups, full batches, tokens; the pace."""

from __future__ import annotations

import pytest

from local.bench.minimum import (
    Writes,
    batches,
    create_batches,
    invocations,
    minimum_plain,
    minimum_verify,
    needed_writes,
    pace_seconds,
    pages,
    sliding_window_seconds,
    write_calls,
)


def test_a_verify_reads_every_page_and_writes_full_batches_with_a_token_per_cold_container():
    parts = minimum_verify(
        clients=1500,
        licences=0,
        writes=Writes(client_creates=250, client_updates=3, licence_creates=2001, licence_updates=5),
        tokens=2,
    )
    assert parts == {
        "tokens": 2,  # one per worker container
        "client_pages": 15,  # 1,500 clients in Halo's pages of 100
        "site_pages": 0,
        "licence_pages": 1,  # an empty list still costs one request
        "licence_lookups": 0,
        "client_creates": 3,
        "client_updates": 1,
        "site_updates": 0,
        "licence_creates": 21,
        "licence_updates": 1,
        "total": 44,
    }


def test_a_verify_after_hand_drift_also_reads_each_deleted_licence_by_its_id():
    parts = minimum_verify(
        clients=5000,
        licences=50_095,  # 5 of the 50,100 deleted by hand
        writes=Writes(client_updates=5, licence_creates=5, licence_updates=15),
        tokens=0,
        lookups=5,
    )
    assert parts["client_pages"] == 50
    assert parts["licence_pages"] == 501
    assert parts["licence_lookups"] == 5
    assert (parts["client_updates"], parts["licence_creates"], parts["licence_updates"]) == (1, 1, 1)
    assert parts["total"] == 50 + 501 + 5 + 3


def test_a_verify_reads_sites_only_when_addresses_are_updated_and_no_list_whose_job_did_not_run():
    writes = Writes(site_updates=101)
    with_sites = minimum_verify(clients=260, licences=260, sites=260, writes=writes, tokens=0)
    assert (with_sites["client_pages"], with_sites["site_pages"], with_sites["licence_pages"]) == (3, 3, 3)
    assert with_sites["site_updates"] == 2
    assert with_sites["total"] == 11
    none_read = minimum_verify(
        clients=260,
        licences=260,
        sites=260,
        writes=Writes(),
        tokens=1,
        lookups=4,
        customers_job=False,
        plan_job=False,
    )
    assert none_read["total"] == 1  # the cold container's token


def test_an_unchanged_plain_sync_needs_no_call_at_all():
    assert minimum_plain(writes=Writes(), tokens=0) == {
        "tokens": 0,
        "client_reads": 0,
        "licence_pages": 0,
        "client_creates": 0,
        "client_updates": 0,
        "site_updates": 0,
        "licence_creates": 0,
        "licence_updates": 0,
        "total": 0,
    }


def test_a_plain_sync_of_a_change_is_its_writes_in_full_batches_per_kind():
    parts = minimum_plain(writes=Writes(licence_creates=100, licence_updates=400), tokens=0)
    assert (parts["licence_creates"], parts["licence_updates"], parts["total"]) == (1, 4, 5)
    # Creates and updates are separate POSTs, even when both would fit one batch.
    assert minimum_plain(writes=Writes(licence_creates=2, licence_updates=8), tokens=0)["total"] == 2


def test_a_plain_sync_reads_only_the_clients_that_changed_or_all_of_them_for_a_new_customer():
    assert minimum_plain(writes=Writes(), tokens=0, changed_clients=3)["client_reads"] == 3
    assert minimum_plain(writes=Writes(), tokens=0, changed_clients=3, sites=True)["client_reads"] == 6
    # Past the product's threshold (20), the whole list is cheaper than one GET each.
    assert minimum_plain(writes=Writes(), tokens=0, changed_clients=21, clients=5000)["client_reads"] == 50
    assert minimum_plain(writes=Writes(), tokens=0, new_customers=1, clients=5000)["client_reads"] == 50
    unsure = minimum_plain(writes=Writes(), tokens=1, unsure_customers=2)
    assert (unsure["licence_pages"], unsure["total"]) == (2, 3)


def test_add_ons_of_new_bases_cannot_share_their_bases_first_batch():
    assert create_batches(0) == 0
    assert create_batches(60) == 1
    assert create_batches(60, addons=5) == 2  # 55 bases, then the 5 add-ons
    assert create_batches(10_000, addons=900) == 100  # more than a batch of bases: every batch full
    assert create_batches(160, addons=150) == 3  # 10 bases; 150 add-ons need two more
    assert create_batches(250, addons=30, batch=50) == 5
    with pytest.raises(ValueError, match="at least one base"):
        create_batches(5, addons=5)


def test_write_calls_are_per_entity_and_kind():
    writes = Writes(client_creates=450, client_updates=50, licence_creates=5000, licence_addons=400)
    assert write_calls(writes) == {
        "client_creates": 5,
        "client_updates": 1,
        "site_updates": 0,
        "licence_creates": 50,
        "licence_updates": 0,
    }
    assert writes.records == 5500  # the add-ons are among the licence creates


def test_each_scenario_needs_the_writes_of_what_was_done_to_the_world():
    world = {"customers": 100, "matched": 10, "subscriptions": 1000, "addons": 85}
    change = {"quantity": ["a"] * 4, "cancelled": ["b"] * 2, "new": ["c"] * 2, "vanished": ["d"] * 2}
    drift = {
        "count": [1] * 5,
        "inactive": [2] * 5,
        "deleted": [3] * 5,
        "moved": [4] * 5,
        "unlinked": ["t"] * 5,
    }
    assert needed_writes("first", world, {}, {}) == Writes(
        client_creates=90, client_updates=10, licence_creates=1000, licence_addons=85
    )
    assert needed_writes("changed", world, change, {}) == Writes(licence_creates=2, licence_updates=8)
    assert needed_writes("verify", world, change, drift) == Writes(
        client_updates=5, licence_creates=5, licence_updates=15
    )
    for plain in ("unchanged", "drifted", "settled"):
        assert needed_writes(plain, world, change, drift) == Writes()


def test_sliding_window_lets_a_burst_through_then_waits_whole_windows():
    assert sliding_window_seconds(0, 25, 60) == 0
    assert sliding_window_seconds(25, 25, 60) == 0
    assert sliding_window_seconds(26, 25, 60) == 60
    assert sliding_window_seconds(600, 25, 60) == 23 * 60


def test_sliding_window_counts_whole_windows_from_the_first_call():
    assert sliding_window_seconds(1, 25, 60) == 0
    assert sliding_window_seconds(50, 25, 60) == 60
    assert sliding_window_seconds(51, 25, 60) == 120
    assert sliding_window_seconds(3, 1, 0.5) == 1.0
    assert sliding_window_seconds(-1, 25, 60) == 0
    assert sliding_window_seconds(10, 0, 60) == 0  # no budget: no bound to compute


def test_the_pace_allows_calls_per_minute_at_steady_state():
    assert pace_seconds(250, 250) == 60.0
    assert pace_seconds(554, 250) == pytest.approx(132.96)
    assert pace_seconds(0, 250) == 0.0
    assert pace_seconds(10, 0) == 0.0


def test_a_job_longer_than_its_deadline_becomes_several_invocations():
    assert invocations(10) == 1
    assert invocations(869) == 1
    assert invocations(871) == 2  # 900 s less the worker's 30 s reserve
    assert invocations(1339) == 2
    assert invocations(100, timeout=60) == 2  # the reserve is at most a tenth: 54 s usable


def test_pages_are_halo_s_pages_of_100_and_an_empty_list_still_costs_one():
    assert pages(260) == 3  # the product's PAGE_SIZE: 100, 100, 60
    assert pages(260, 100) == 3
    assert pages(100) == 1
    assert pages(101) == 2
    assert pages(0) == 1
    assert pages(260, 1000) == 1


def test_batches_are_full_write_batches_and_nothing_costs_nothing():
    assert batches(0) == 0
    assert batches(-3) == 0
    assert batches(1) == 1
    assert batches(100) == 1  # the product's WRITE_BATCH
    assert batches(101) == 2
    assert batches(250, 50) == 5
