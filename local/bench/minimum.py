"""The least each kind of sync needs from Halo, and the time the pace allows (pure arithmetic).

Every minimum is a sum of named parts (a dict ending in ``total``), so the report can show which
part a measured count exceeds:

- **tokens**: one per worker container that calls Halo without a token yet (a token lasts an
  hour; each container gets its own).
- **reads**: a *verify* (and a first sync, the verify of a fresh Halo) reads every client page
  (and every site page when addresses are updated) and every licence page, 100 records a page,
  plus one GET per licence we linked that the pages did not show (deleted by hand: a verify
  must tell it from a list that shifted while it was read, or it would create it twice). A
  *plain* sync reads nothing while no customer changed: only a changed customer's client (and
  main site), every client when a new customer must be matched, and the licences of a customer
  whose create may have landed unlinked.
- **writes**: the records the change needs, in full batches of Halo's write batch (100), per
  entity and per kind (creates and updates are separate POSTs: a create's lost answer is
  reconciled by reading Halo again, an update is retried), and licence creates in as few
  batches as their order allows: an add-on whose base is created in the same sync cannot share
  the base's batch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def _halo_sizes() -> tuple[int, int]:
    """What the product pages and batches by: what Halo serves per page (100), its write batch.
    Imported late: the core package is on the path once a LocalApp has started."""
    from ddhalo.halo.limits import PAGE_SIZE
    from ddhalo.halo.saving import WRITE_BATCH

    return PAGE_SIZE, WRITE_BATCH


def _per_client_reads() -> int:
    """Up to this many changed clients a plain sync reads one by one (the product's threshold)."""
    from ddhalo.pipeline.customers.delta import PER_CLIENT_READS

    return PER_CLIENT_READS


def pages(records: int, page_size: int | None = None) -> int:
    """Requests for a paged list: an empty list still costs one."""
    return max(1, math.ceil(records / (page_size or _halo_sizes()[0])))


def batches(records: int, batch: int | None = None) -> int:
    return math.ceil(max(0, records) / (batch or _halo_sizes()[1]))


def create_batches(creates: int, addons: int = 0, batch: int | None = None) -> int:
    """POSTs to create ``creates`` licences, ``addons`` of which must follow a base created in
    the same sync. The first batch can hold only the others; after it, every batch can be full:
    ``1 + ceil((creates - first) / batch)``, which is ``ceil(creates / batch)`` once there are
    more than a batch of the others."""
    size = batch or _halo_sizes()[1]
    creates, addons = max(0, creates), min(max(0, addons), max(0, creates))
    if not addons:
        return batches(creates, size)
    first = min(creates - addons, size)
    if first == 0:
        raise ValueError("add-ons of bases created in the same sync need at least one base")
    return 1 + math.ceil((creates - first) / size)


@dataclass(frozen=True)
class Writes:
    """The Halo records a sync must write (records, not calls)."""

    client_creates: int = 0
    client_updates: int = 0  # tenant links
    site_updates: int = 0  # main site addresses
    licence_creates: int = 0
    licence_addons: int = 0  # of licence_creates: add-ons of a base created in the same sync
    licence_updates: int = 0

    @property
    def records(self) -> int:
        return (
            self.client_creates
            + self.client_updates
            + self.site_updates
            + self.licence_creates
            + self.licence_updates
        )


def write_calls(writes: Writes, batch: int | None = None) -> dict[str, int]:
    """The writes in full batches, per entity and kind."""
    return {
        "client_creates": batches(writes.client_creates, batch),
        "client_updates": batches(writes.client_updates, batch),
        "site_updates": batches(writes.site_updates, batch),
        "licence_creates": create_batches(writes.licence_creates, writes.licence_addons, batch),
        "licence_updates": batches(writes.licence_updates, batch),
    }


def needed_writes(
    kind: str, world: dict[str, int], change: dict[str, list[str]], drift: dict[str, list[str]]
) -> Writes:
    """What each scenario (config.SCENARIOS) must write to Halo, from what was done to the world,
    not from what the product planned. ``world``: ``world.world_counts``; ``change``: what
    ``world.change_subscriptions`` did; ``drift``: what ``world.hand_drift`` did."""
    if kind == "first":  # a fresh Halo: every client but the matched (their tenant link), every licence
        return Writes(
            client_creates=world["customers"] - world["matched"],
            client_updates=world["matched"],
            licence_creates=world["subscriptions"],
            licence_addons=world["addons"],
        )
    if kind == "changed":
        updated = sum(len(change.get(k, [])) for k in ("quantity", "cancelled", "vanished"))
        return Writes(licence_creates=len(change.get("new", [])), licence_updates=updated)
    if kind == "verify":
        # "orphans": add-ons of a deleted base (``--drift-bases``), whose parent_id must follow it.
        updated = sum(len(drift.get(k, [])) for k in ("count", "inactive", "moved", "orphans"))
        return Writes(
            client_updates=len(drift.get("unlinked", [])),
            licence_creates=len(drift.get("deleted", [])),
            licence_updates=updated,
        )
    return Writes()  # unchanged, and the plain syncs that must leave hand drift alone


def _total(parts: dict[str, int]) -> dict[str, int]:
    parts["total"] = sum(parts.values())
    return parts


def minimum_verify(
    *,
    clients: int,
    licences: int,
    writes: Writes,
    tokens: int,
    sites: int | None = None,
    lookups: int = 0,
    customers_job: bool = True,
    plan_job: bool = True,
) -> dict[str, int]:
    """A verify, or a first sync: every page of the lists its jobs read (``clients``, ``sites``
    when addresses are updated, ``licences``: the records Halo holds when they are read), one GET
    per linked licence the pages did not show (``lookups``), the writes, the tokens."""
    return _total(
        {
            "tokens": tokens,
            "client_pages": pages(clients) if customers_job else 0,
            "site_pages": pages(sites) if customers_job and sites is not None else 0,
            "licence_pages": pages(licences) if plan_job else 0,
            "licence_lookups": lookups if plan_job else 0,
            **write_calls(writes),
        }
    )


def minimum_plain(
    *,
    writes: Writes,
    tokens: int,
    changed_clients: int = 0,
    new_customers: int = 0,
    clients: int = 0,
    sites: bool = False,
    unsure_customers: int = 0,
) -> dict[str, int]:
    """A plain sync: Dicker Data read whole, Halo only for what changed. ``changed_clients``:
    mapped customers whose tenant link (or address) differs from what we wrote (read one by one,
    with their main site when ``sites``, up to the product's threshold, else every page);
    ``new_customers``: unmapped, not held, matched against every client (``clients`` pages);
    ``unsure_customers``: a create intent without its link, whose client's licences are listed
    (at least one page each). Nothing changed: no read at all."""
    if new_customers or changed_clients > _per_client_reads():
        client_reads = pages(clients) * (2 if sites else 1)
    else:
        client_reads = changed_clients * (2 if sites else 1)
    return _total(
        {
            "tokens": tokens,
            "client_reads": client_reads,
            "licence_pages": unsure_customers,
            **write_calls(writes),
        }
    )


def sliding_window_seconds(calls: int, per_window: int, window: float) -> float:
    """Least time before the last of ``calls`` may start under "at most ``per_window`` starts in
    any rolling ``window``": the k-th call (from 0) cannot start before floor(k / per_window) windows."""
    if calls <= 0 or per_window <= 0:
        return 0.0
    return ((calls - 1) // per_window) * window


def pace_seconds(calls: int, per_minute: int) -> float:
    """The time the configured pace allows for ``calls`` at steady state: calls / per minute.
    (The rolling window lets a first minute's burst through, so this is the bound of a sync longer
    than a window; ``sliding_window_seconds`` is the stricter one.)"""
    return calls / per_minute * 60.0 if per_minute > 0 else 0.0


def invocations(projected_seconds: float, timeout: float = 900.0, reserve: float = 30.0) -> int:
    """Invocations a job projected to take ``projected_seconds`` becomes in AWS: it stops at its
    deadline (the timeout less the worker's reserve, at most a tenth) and hands the rest on."""
    usable = timeout - min(reserve, timeout / 10)
    return max(1, math.ceil(projected_seconds / usable))
