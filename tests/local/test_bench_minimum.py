"""The bench's minimum Halo calls: paged reads, full batches, tokens, and the sliding window's wait."""

from __future__ import annotations

from local.bench.minimum import batches, minimum_halo_calls, pages, sliding_window_seconds


def test_minimum_is_paged_reads_full_batches_and_a_token_per_cold_container():
    parts = minimum_halo_calls(
        clients_before=1500,
        licences_before=0,
        items={"customer created": 250, "subscription created": 2001, "subscription updated": 5},
        client_patches=3,
        site_patches=0,
        sites_read=None,
        cold_containers=2,
    )
    assert parts == {
        "tokens": 2,  # one per worker container
        "client_pages": 15,  # 1,500 clients in Halo's pages of 100
        "site_pages": 0,
        "licence_pages": 1,  # an empty list still costs one request
        "client_creates": 3,
        "client_updates": 1,
        "site_updates": 0,
        "licence_creates": 21,
        "licence_updates": 1,
        "total": 44,
    }


def test_sliding_window_lets_a_burst_through_then_waits_whole_windows():
    assert sliding_window_seconds(0, 25, 60) == 0
    assert sliding_window_seconds(25, 25, 60) == 0
    assert sliding_window_seconds(26, 25, 60) == 60
    assert sliding_window_seconds(600, 25, 60) == 23 * 60


def test_pages_are_halo_s_pages_of_100_and_an_empty_list_still_costs_one():
    assert pages(260) == 3  # the product's PAGE_SIZE: 100, 100, 60
    assert pages(260, 100) == 3
    assert pages(100) == 1
    assert pages(101) == 2
    assert pages(0) == 1
    assert pages(260, 1000) == 1


def test_batches_are_full_write_batches_and_nothing_costs_nothing():
    assert batches(0) == 0
    assert batches(1) == 1
    assert batches(100) == 1  # the product's WRITE_BATCH
    assert batches(101) == 2
    assert batches(250, 50) == 5


def test_minimum_at_260_records_reads_three_pages_of_each_list():
    parts = minimum_halo_calls(
        clients_before=260,
        licences_before=260,
        items={"customer created": 0},
        client_patches=0,
        site_patches=101,
        sites_read=260,
        cold_containers=0,
    )
    assert parts == {
        "tokens": 0,
        "client_pages": 3,
        "site_pages": 3,
        "licence_pages": 3,
        "client_creates": 0,
        "client_updates": 0,
        "site_updates": 2,
        "licence_creates": 0,
        "licence_updates": 0,
        "total": 11,
    }


def test_minimum_reads_no_list_whose_job_did_not_run():
    parts = minimum_halo_calls(
        clients_before=260,
        licences_before=260,
        items={},
        client_patches=0,
        site_patches=0,
        sites_read=260,
        cold_containers=1,
        customers_job=False,
        plan_job=False,
    )
    assert parts["client_pages"] == parts["site_pages"] == parts["licence_pages"] == 0
    assert parts["total"] == 1  # the cold container's token


def test_sliding_window_counts_whole_windows_from_the_first_call():
    assert sliding_window_seconds(1, 25, 60) == 0
    assert sliding_window_seconds(50, 25, 60) == 60
    assert sliding_window_seconds(51, 25, 60) == 120
    assert sliding_window_seconds(3, 1, 0.5) == 1.0
    assert sliding_window_seconds(-1, 25, 60) == 0
    assert sliding_window_seconds(10, 0, 60) == 0  # no budget: no bound to compute
