"""The least a sync needs from Halo: pages, batches, tokens, and the sliding window's wait (pure)."""

from __future__ import annotations

import math


def _halo_sizes() -> tuple[int, int]:
    """What the product pages and batches by: what Halo serves per page (100), its write batch.
    Imported late: the core package is on the path once a LocalApp has started."""
    from ddhalo.halo.client import WRITE_BATCH
    from ddhalo.halo.limits import PAGE_SIZE

    return PAGE_SIZE, WRITE_BATCH


def pages(records: int, page_size: int | None = None) -> int:
    """Requests for a paged list: an empty list still costs one."""
    return max(1, math.ceil(records / (page_size or _halo_sizes()[0])))


def batches(records: int, batch: int | None = None) -> int:
    return math.ceil(records / (batch or _halo_sizes()[1]))


def sliding_window_seconds(calls: int, per_window: int, window: float) -> float:
    """Least time before the last of ``calls`` may start under "at most ``per_window`` starts in
    any rolling ``window``": the k-th call (from 0) cannot start before floor(k / per_window) windows."""
    if calls <= 0 or per_window <= 0:
        return 0.0
    return ((calls - 1) // per_window) * window


def minimum_halo_calls(
    *,
    clients_before: int,
    licences_before: int,
    items: dict[str, int],
    client_patches: int,
    site_patches: int,
    sites_read: int | None,
    cold_containers: int,
    customers_job: bool = True,
    plan_job: bool = True,
    reads: bool = True,
) -> dict[str, int]:
    """What a sync needs from Halo at least, from what was planned: one paged read of each list
    (none for a plain sync, ``reads=False``: what it wrote stands for Halo), the changed records
    in full batches per entity, and one token per container that has none yet and calls Halo (a
    token lasts an hour; each worker container needs its own)."""
    parts = {
        "tokens": cold_containers,
        "client_pages": pages(clients_before) if customers_job and reads else 0,
        "site_pages": pages(sites_read) if customers_job and reads and sites_read is not None else 0,
        "licence_pages": pages(licences_before) if plan_job and reads else 0,
        "client_creates": batches(items.get("customer created", 0)),
        "client_updates": batches(client_patches),
        "site_updates": batches(site_patches),
        "licence_creates": batches(items.get("subscription created", 0)),
        "licence_updates": batches(items.get("subscription updated", 0)),
    }
    parts["total"] = sum(parts.values())
    return parts
