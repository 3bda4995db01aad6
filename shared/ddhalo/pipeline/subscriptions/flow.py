"""Import subscriptions: each mapped customer's Dicker Data subscriptions → Halo licences
(read → plan → apply; the plan job and the apply chunks are :mod:`ddhalo.jobs`)."""

from __future__ import annotations

from ddhalo import job_log
from ddhalo.errors import ConflictError
from ddhalo.models import Mapping, RunItem, SubscriptionLink
from ddhalo.pipeline.options import SubscriptionOptions
from ddhalo.pipeline.subscriptions.plan import NeedsLinkFields, SubscriptionAction, plan_customer
from ddhalo.pipeline.subscriptions.read import CustomerScope, LicenceRead, customer_item, read_scopes
from ddhalo.store import Store
from ddhalo.upstreams import Upstreams

LINK_FIELDS_BATCH = 1000


def validate_request(options: SubscriptionOptions, mappings: dict[str, Mapping]) -> None:
    if options.customer_ids is None:
        return
    unmapped = [i for i in dict.fromkeys(options.customer_ids) if i not in mappings]
    if unmapped:
        shown = ", ".join(unmapped[:20]) + (f" and {len(unmapped) - 20} more" if len(unmapped) > 20 else "")
        raise ConflictError(
            f"These Dicker Data customers are not mapped to a Halo client: {shown}.",
            "Map them first (POST /mappings or POST /mappings/generate), or import customers.",
        )


def _excluded(mapping: Mapping) -> RunItem:
    why = "Excluded by the settings (exclusions.customers): its subscriptions are left as they are in Halo."
    return customer_item(mapping, "skipped", why, "excluded")


def _sharers(mappings: dict[str, Mapping]) -> dict[str, list[str]]:
    """Per customer, the other customers mapped to its Halo client (shared mappings)."""
    by_client: dict[int, list[str]] = {}
    for mapping in mappings.values():
        by_client.setdefault(mapping.halo_client_id, []).append(mapping.dicker_customer_id)
    return {c: sorted(set(ids) - {c}) for ids in by_client.values() if len(ids) > 1 for c in ids}


def plan_subscriptions(
    store: Store, upstreams: Upstreams, options: SubscriptionOptions, licences: LicenceRead | None = None
) -> tuple[list[SubscriptionAction], list[RunItem]]:
    """Read and plan the chosen mapped customers (all when ``customer_ids`` is None): actions,
    plus an item for each customer that could not be read or is excluded. ``licences``: a bulk
    read to go on with (and to keep track of, should this invocation end while reading)."""
    mappings = {m.dicker_customer_id: m for m in store.list_mappings()}
    validate_request(options, mappings)
    chosen = options.customer_ids if options.customer_ids is not None else sorted(mappings)
    left_out = set(options.excluded_customers)
    excluded = [_excluded(mappings[i]) for i in dict.fromkeys(chosen) if i in left_out]
    scopes, failures = read_scopes(
        [mappings[i] for i in dict.fromkeys(chosen) if i not in left_out],
        upstreams,
        store,
        licences,
        _sharers(mappings),
        delta=options.delta,
    )
    failures = excluded + failures
    codes = frozenset(options.excluded_stock_codes)
    for scope in scopes:
        scope.excluded_stock_codes = codes
    actions = _plan_scopes(store, scopes)
    job_log.step("planned")
    return actions, failures


def _plan_scopes(store: Store, scopes: list[CustomerScope]) -> list[SubscriptionAction]:
    """Plan each customer. One where something changed or vanished is planned again once its links
    are read whole (to compare with what we wrote), LINK_FIELDS_BATCH links at a time."""
    actions: list[SubscriptionAction] = []
    needing: list[CustomerScope] = []
    waiting = 0
    scopes.reverse()
    while scopes:  # popped as planned, so each customer's reads are freed as its actions are made
        scope = scopes.pop()
        planned = plan_customer(scope)
        if not isinstance(planned, NeedsLinkFields):
            actions += planned
            continue
        needing.append(scope)
        waiting += len(scope.links)
        if waiting >= LINK_FIELDS_BATCH:
            actions += _plan_with_links(store, needing)
            needing = []
            waiting = 0
    actions += _plan_with_links(store, needing)
    return actions


def _plan_with_links(store: Store, needing: list[CustomerScope]) -> list[SubscriptionAction]:
    """Plan these customers again with their links read whole, in one read for all of them."""
    whole = store.get_links((s.mapping.dicker_customer_id, sub) for s in needing for sub in s.links)
    by_customer: dict[str, dict[str, SubscriptionLink]] = {s.mapping.dicker_customer_id: {} for s in needing}
    for link in whole:
        by_customer[link.dicker_customer_id][link.subscription_id] = link
    actions: list[SubscriptionAction] = []
    for scope in needing:
        scope.links = by_customer[scope.mapping.dicker_customer_id]
        planned = plan_customer(scope)
        assert not isinstance(planned, NeedsLinkFields)  # read whole: every link has its fields
        actions += planned
    return actions
