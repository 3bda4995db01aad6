"""Subscriptions, apply: updates first, then creates in full batches (add-ons after their new
parents, with the parents' ids), each written licence linked in DynamoDB."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from functools import partial
from typing import Any

from ddhalo.errors import IntegrationError
from ddhalo.halo.client import HaloClient
from ddhalo.models import RunItem, SubscriptionLink, compact_json
from ddhalo.pipeline.reconcile import (
    Applied,
    CreateOutcome,
    create_reconciled,
    reason,
    record_id,
    save_patches,
)
from ddhalo.pipeline.subscriptions.plan import SubscriptionAction
from ddhalo.store import Store

# Given a batch and the keys whose create lost its answer: Halo read again (``reconcile.Finder``).
Reread = Callable[
    [Sequence[SubscriptionAction], Sequence[str]], Iterator[tuple[Sequence[str], dict[str, dict[str, Any]]]]
]


def apply_subscriptions(
    actions: list[SubscriptionAction], halo: HaloClient, store: Store, reread: Reread
) -> Applied[SubscriptionAction]:
    """Write the plan. What time ran out for is ``remaining`` (a follow-up job applies it and
    reports it); when Halo refuses the credentials, ``stopped`` says so and every record not
    done is failed with that reason."""
    done: Applied[SubscriptionAction] = Applied([a.item() for a in actions if a.action in ("skip", "fail")])
    links = _Links()
    _apply_updates([a for a in actions if a.action == "update" and a.patch], halo, done, links)
    _keep_unwritten(actions, done, links)
    creates = [a for a in actions if a.action == "create"]
    # Said before any is sent, dropped once each is linked or refused: a plain sync reads Halo
    # for the customers of those left (their create may have landed without its link).
    store.put_intents(a.key for a in creates)
    in_doubt = _apply_creates(creates, halo, reread, done, links)
    store.put_links(links.made)
    store.drop_intents(a.key for a in creates if a.key not in in_doubt)
    return done


class _Links:
    """The links of the licences written or adopted, stored together at the end."""

    def __init__(self) -> None:
        self.made: list[SubscriptionLink] = []

    def add(self, action: SubscriptionAction, licence_id: int) -> None:
        self.made.append(
            SubscriptionLink(
                dicker_customer_id=action.customer_id,
                subscription_id=action.subscription_id,
                halo_licence_id=licence_id,
                content_hash=action.full_hash(),
                fields_json=compact_json(action.written()),
            )
        )


def _not_done(action: SubscriptionAction, error: IntegrationError) -> RunItem:
    """A record the run stopped before: failed, saying why (a lost create is found next run)."""
    return action.item("failed", reason=f"Not written: {reason(error)}", reason_code=error.code)


def _apply_updates(
    updates: list[SubscriptionAction], halo: HaloClient, done: Applied[SubscriptionAction], links: _Links
) -> None:
    patched = save_patches(halo, "SoftwareLicence", {a.key: a.patch or {} for a in updates})
    unsent = set(patched.unsent)
    done.stopped = patched.stopped
    for action in updates:
        key = action.key
        if key in unsent:
            if patched.stopped is not None:
                done.items.append(_not_done(action, patched.stopped))
            else:
                done.remaining.append(action)
        elif key in patched.failed:
            done.items.append(
                action.item("failed", reason=patched.failed[key], reason_code=patched.codes.get(key))
            )
        else:
            assert action.halo_id is not None
            links.add(action, action.halo_id)
            done.items.append(action.item())


def _keep_unwritten(
    actions: list[SubscriptionAction], done: Applied[SubscriptionAction], links: _Links
) -> None:
    """What Halo needs no write for: an item per unchanged one, and a link where one is due."""
    for action in actions:
        if action.action == "unchanged":
            done.items.append(action.item())
        if action.action in ("unchanged", "skip") and action.relink and action.halo_id is not None:
            links.add(action, action.halo_id)  # adopted by its marker, or the one kept of twins


class _AddOns:
    """Add-ons waiting for a base created in this same step: each joins the next batch once its
    base is saved (``release``), so bases and add-ons share batches instead of each ending part-full."""

    def __init__(self, creates: list[SubscriptionAction]) -> None:
        keys = {a.key for a in creates}
        self.waiting: dict[str, list[SubscriptionAction]] = defaultdict(list)
        self.ready: list[SubscriptionAction] = []
        for action in creates:
            parent_key = f"{action.customer_id}#{action.parent_subscription_id}"
            if action.parent_subscription_id and action.parent_licence_id is None and parent_key in keys:
                self.waiting[parent_key].append(action)
            else:
                self.ready.append(action)
        # Parents of add-ons first: their add-ons are then ready while other bases still fill batches.
        self.ready.sort(key=lambda a: a.key not in self.waiting)

    def release(self, key: str, record: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """The add-ons of a base just saved as ``record``, now with its id (``reconcile.Release``)."""
        freed = self.waiting.pop(key, [])
        for addon in freed:
            addon.parent_licence_id = record_id(record)
        return {a.key: a.create_record() for a in freed}


def _apply_creates(
    creates: list[SubscriptionAction],
    halo: HaloClient,
    reread: Reread,
    done: Applied[SubscriptionAction],
    links: _Links,
) -> set[str]:
    """Creates in full batches (an add-on after its base: ``_AddOns``). Answers the keys still to
    be done, or whose create may have landed unseen (their intents stay)."""
    if done.stopped is not None:  # the updates met refused credentials: nothing more is sent
        done.items += [_not_done(a, done.stopped) for a in creates]
        return set()
    addons = _AddOns(creates)
    outcome = create_reconciled(
        halo,
        "SoftwareLicence",
        {a.key: a.create_record() for a in addons.ready},
        partial(reread, creates),
        {a.key: a.lost_at for a in addons.ready if a.lost_at is not None},
        addons.release,
    )
    done.stopped = done.stopped or outcome.stopped
    by_key = {a.key: a for a in creates}
    for action in creates:
        _report_create(action, outcome, by_key, done, links)
    return set(outcome.unfinished) | {a.key for a in done.remaining}


def _report_create(
    action: SubscriptionAction,
    outcome: CreateOutcome,
    by_key: dict[str, SubscriptionAction],
    done: Applied[SubscriptionAction],
    links: _Links,
) -> None:
    key = action.key
    record = outcome.saved.get(key)
    if record is not None and (licence_id := record_id(record)) is not None:
        action.lost_at = None
        links.add(action, licence_id)
        done.items.append(action.item("created", halo_id=licence_id))
    elif key in outcome.failed:
        done.items.append(
            action.item("failed", reason=outcome.failed[key], reason_code=outcome.codes.get(key))
        )
    elif key in outcome.unfinished or _base_unfinished(action, outcome, by_key):
        if key in outcome.unfinished:
            action.lost_at = outcome.unfinished[key]
            done.lost(action.lost_at)
        if outcome.stopped is not None:
            done.items.append(_not_done(action, outcome.stopped))
        else:
            done.remaining.append(action)
    else:
        # Created without its parent an add-on would stay unlinked; the next run creates both.
        done.items.append(
            action.item(
                "failed", reason="Its base subscription could not be created.", reason_code="base_not_created"
            )
        )


def _base_unfinished(
    action: SubscriptionAction, outcome: CreateOutcome, by_key: dict[str, SubscriptionAction]
) -> bool:
    """An add-on never sent because its base (or the base's base) is still to be done."""
    seen: set[str] = set()
    while action.parent_subscription_id and action.key not in seen:
        seen.add(action.key)
        parent_key = f"{action.customer_id}#{action.parent_subscription_id}"
        if parent_key in outcome.unfinished:
            return True
        if parent_key not in by_key or parent_key in outcome.saved or parent_key in outcome.failed:
            return False
        action = by_key[parent_key]
    return False


def licence_finder(halo: HaloClient) -> Reread:
    """Find licences that landed although their create's answer was lost (by our marker), one
    client's licences at a time: what each read settles is kept if time runs out before the next."""
    return partial(_find_licences, halo)


def _find_licences(
    halo: HaloClient, batch: Sequence[SubscriptionAction], keys: Sequence[str]
) -> Iterator[tuple[Sequence[str], dict[str, dict[str, Any]]]]:
    by_client: dict[int, dict[str, SubscriptionAction]] = defaultdict(dict)
    lost = set(keys)
    for action in batch:
        if action.key in lost:
            by_client[action.fields["client_id"]][action.key] = action
    for client_id, wanted in sorted(by_client.items()):
        found: dict[str, int] = {}
        for licence in halo.licences(client_id=client_id):
            for key, action in wanted.items():
                if licence.marker == action.subscription_id:  # twins: the oldest is adopted
                    found[key] = min(found.get(key, licence.id), licence.id)
        yield list(wanted), {key: {"id": licence_id} for key, licence_id in found.items()}


def to_payload(actions: Sequence[SubscriptionAction]) -> list[dict[str, Any]]:
    """A chunk's planned writes as stored between the plan job and the apply job."""
    return [asdict(a) for a in actions]


def from_payload(rows: Sequence[dict[str, Any]]) -> list[SubscriptionAction]:
    return [SubscriptionAction(**row) for row in rows]
