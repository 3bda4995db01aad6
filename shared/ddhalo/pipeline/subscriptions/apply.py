"""Subscriptions, apply: updates first, then creates in full batches (add-ons after their new
parents, with the parents' ids), each written licence linked in DynamoDB."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict
from functools import partial
from typing import Any

from ddhalo.halo.client import HaloClient
from ddhalo.models import SubscriptionLink, compact_json
from ddhalo.pipeline.reconcile import Applied, create_reconciled, record_id, save_patches
from ddhalo.pipeline.subscriptions.plan import SubscriptionAction
from ddhalo.store import Store

# Given a batch and the keys whose create lost its answer: the Halo records of those that landed.
Reread = Callable[[Sequence[SubscriptionAction], Sequence[str]], dict[str, dict[str, Any]]]


def apply_subscriptions(
    actions: list[SubscriptionAction], halo: HaloClient, store: Store, reread: Reread
) -> Applied[SubscriptionAction]:
    """Write the plan. What time ran out for is ``remaining`` (a follow-up job applies it and
    reports it)."""
    done: Applied[SubscriptionAction] = Applied([a.item() for a in actions if a.action in ("skip", "fail")])
    items = done.items
    links: list[SubscriptionLink] = []

    def link(action: SubscriptionAction, licence_id: int) -> None:
        links.append(
            SubscriptionLink(
                dicker_customer_id=action.customer_id,
                subscription_id=action.subscription_id,
                halo_licence_id=licence_id,
                content_hash=action.full_hash(),
                fields_json=compact_json(action.written()),
            )
        )

    updates = {a.key: a for a in actions if a.action == "update" and a.patch}
    patched = save_patches(halo, "SoftwareLicence", {k: a.patch or {} for k, a in updates.items()})
    unsent = set(patched.unsent)
    for key, action in updates.items():
        if key in unsent:
            done.remaining.append(action)
        elif key in patched.failed:
            items.append(
                action.item("failed", reason=patched.failed[key], reason_code=patched.codes.get(key))
            )
        else:
            assert action.halo_id is not None
            link(action, action.halo_id)
            items.append(action.item())
    for action in actions:
        if action.action == "unchanged":
            if action.relink and action.halo_id is not None:
                link(action, action.halo_id)
            items.append(action.item())

    def created(
        action: SubscriptionAction, record: dict[str, Any] | None, why: str | None, code: str | None
    ) -> list[SubscriptionAction]:
        """Record one create; answer its add-ons, now ready to be created."""
        licence_id = record_id(record) if record else None
        addons = waiting.pop(action.key, [])
        if licence_id is None:
            items.append(action.item("failed", reason=why, reason_code=code))
            # Created without its parent an add-on would stay unlinked; the next run creates both.
            items.extend(
                a.item(
                    "failed",
                    reason="Its base subscription could not be created.",
                    reason_code="base_not_created",
                )
                for a in addons
            )
            return []
        link(action, licence_id)
        items.append(action.item("created", halo_id=licence_id))
        for addon in addons:
            addon.parent_licence_id = licence_id
        return addons

    # Creates go in full batches: an add-on waits only for a parent created in this same call,
    # then joins the next batch, so bases and add-ons share batches instead of each ending part-full.
    creates = [a for a in actions if a.action == "create"]
    # Said before any is sent, dropped once each is linked or refused: a plain sync reads Halo
    # for the customers of those left (their create may have landed without its link).
    store.put_intents(a.key for a in creates)
    keys = {a.key for a in creates}
    waiting: dict[str, list[SubscriptionAction]] = defaultdict(list)
    ready: list[SubscriptionAction] = []
    for action in creates:
        parent_key = f"{action.customer_id}#{action.parent_subscription_id}"
        if action.parent_subscription_id and action.parent_licence_id is None and parent_key in keys:
            waiting[parent_key].append(action)
        else:
            ready.append(action)
    # Parents of add-ons first: their add-ons are then ready while other bases still fill batches.
    ready.sort(key=lambda a: a.key not in waiting)
    while ready:
        wave, ready = ready[: halo.write_batch], ready[halo.write_batch :]
        records = {a.key: a.create_record() for a in wave}
        unsure = {a.key for a in wave if a.maybe_landed}
        outcome = create_reconciled(halo, "SoftwareLicence", records, partial(reread, wave), unsure)
        released = []
        for action in wave:
            if action.key in outcome.unfinished:
                action.maybe_landed = outcome.unfinished[action.key]
                done.remaining += [action, *waiting.pop(action.key, [])]
                continue
            key = action.key
            released += created(
                action, outcome.saved.get(key), outcome.failed.get(key), outcome.codes.get(key)
            )
        ready = released + ready
    store.put_links(links)
    unfinished = {a.key for a in done.remaining}
    store.drop_intents(a.key for a in creates if a.key not in unfinished)
    return done


def licence_finder(halo: HaloClient) -> Reread:
    """Find licences that landed although their create's answer was lost (by our marker)."""

    def reread(batch: Sequence[SubscriptionAction], keys: Sequence[str]) -> dict[str, dict[str, Any]]:
        wanted = {a.key: a for a in batch if a.key in set(keys)}
        landed: dict[str, dict[str, Any]] = {}
        for client_id in sorted({a.fields["client_id"] for a in wanted.values()}):
            for licence in halo.licences(client_id=client_id):
                for key, action in wanted.items():
                    if licence.marker == action.subscription_id and action.fields["client_id"] == client_id:
                        landed.setdefault(key, {"id": licence.id})
        return landed

    return reread


def to_payload(actions: Sequence[SubscriptionAction]) -> list[dict[str, Any]]:
    """A chunk's planned writes as stored between the plan job and the apply job."""
    return [asdict(a) for a in actions]


def from_payload(rows: Sequence[dict[str, Any]]) -> list[SubscriptionAction]:
    return [SubscriptionAction(**row) for row in rows]
