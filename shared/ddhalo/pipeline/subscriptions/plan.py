"""Subscriptions, plan: Dicker Data subscriptions → Halo licences (``SoftwareLicence``). Pure.

One action per subscription of a customer: created, updated where it differs from what we last
wrote (or, where Halo was read, from what Halo holds), or left alone; a subscription Dicker Data
no longer answers makes its licence inactive, never deleted. What a licence holds is
:mod:`~ddhalo.pipeline.subscriptions.fields`; a subscription Halo holds twice,
:mod:`~ddhalo.pipeline.subscriptions.twins`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from ddhalo.dicker_data.client import Parsed
from ddhalo.dicker_data.models import Subscription
from ddhalo.halo.records import DRIFT_FIELDS, Licence, licence_patch
from ddhalo.models import RESULT_OF, RunItem, SubscriptionLink
from ddhalo.pipeline.compare import content_hash, holds
from ddhalo.pipeline.subscriptions import twins
from ddhalo.pipeline.subscriptions.fields import GONE_STATUS, desired_fields
from ddhalo.pipeline.subscriptions.read import CustomerScope

EXCLUDED = "Excluded by the settings (exclusions.stock_codes): left as it is in Halo."


@dataclass(slots=True)  # a plan holds one per subscription: tens of thousands
class SubscriptionAction:
    action: Literal["create", "update", "unchanged", "skip", "fail"]
    customer_id: str
    subscription_id: str
    name: str
    halo_id: int | None = None
    fields: dict[str, Any] = field(default_factory=dict)  # desired LicenceFields, without parent_id
    patch: dict[str, Any] | None = None
    parent_subscription_id: str = ""
    parent_licence_id: int | None = None
    reason: str | None = None
    reason_code: str | None = None
    changes: list[str] = field(default_factory=list)
    relink: bool = False  # store the link even if Halo needs no write (adopted by marker)
    occurrence: int = 0  # >0 for a duplicate row of the same id, reported as its own item
    # An earlier create lost its answer (sent then, epoch seconds): look for it before creating,
    # once Halo has had the settle window since then.
    lost_at: float | None = None
    duplicates: list[int] = field(default_factory=list)  # duplicate_in_halo: every licence of it

    @property
    def key(self) -> str:
        return f"{self.customer_id}#{self.subscription_id}"

    def item(self, result: str | None = None, **overrides: Any) -> RunItem:
        values: dict[str, Any] = {
            "type": "subscription",
            "dicker_id": self.subscription_id,
            "halo_id": self.halo_id,
            "result": result or RESULT_OF[self.action],
            "reason": self.reason,
            "reason_code": self.reason_code,
            "name": self.name,
            "customer_id": self.customer_id,
            "changes": self.changes,
            "occurrence": self.occurrence,
            "duplicate_ids": self.duplicates,
        }
        values.update(overrides)
        return RunItem.model_validate(values)

    def written(self) -> dict[str, Any]:
        """Every field as written, ``parent_id`` included: what its link remembers."""
        return {**self.fields, "parent_id": self.parent_licence_id}

    def full_hash(self) -> str:
        return content_hash(self.written())

    def create_record(self) -> dict[str, Any]:
        """The licence to create: no nulls (Halo's defaults stand), the parent when known."""
        record = {k: v for k, v in self.fields.items() if v is not None}
        if self.parent_licence_id is not None:
            record["parent_id"] = self.parent_licence_id
        return record


@dataclass(frozen=True)
class NeedsLinkFields:
    """This customer's plan must compare with what we last wrote (something changed or vanished),
    and its links were read without it: read them whole and plan it again."""

    customer_id: str


CustomerPlan = list[SubscriptionAction] | NeedsLinkFields


@dataclass
class _Customer:
    """What every step of one customer's plan looks at."""

    scope: CustomerScope
    # Its licences: on a shared Halo client, the other customers' licences are theirs, never its.
    licences: dict[int, Licence]
    by_marker: dict[str, int]  # per subscription id, the oldest licence carrying its marker
    twins: dict[str, list[int]]  # per subscription Halo holds more than once, every licence of it

    @classmethod
    def of(cls, scope: CustomerScope) -> _Customer:
        licences = {lic.id: lic for lic in scope.licences if lic.id not in scope.others_licences}
        carried = twins.carriers(licences, scope, scope.mapping.halo_client_id)
        by_marker = {marker: ids[0] for marker, ids in carried.items()}
        return cls(scope, licences, by_marker, twins.find(carried, scope, licences))

    @property
    def customer_id(self) -> str:
        return self.scope.mapping.dicker_customer_id


@dataclass
class _Answer:
    """Dicker Data's answer for one customer, sorted: every id answered, the subscriptions to plan
    (the first row of each id), the ids excluded by the settings (answered, but neither written
    nor taken for gone) and an action for each row not planned, in the answer's order."""

    answered: set[str]
    unique: dict[str, Subscription] = field(default_factory=dict)
    excluded: set[str] = field(default_factory=set)
    actions: list[SubscriptionAction] = field(default_factory=list)


def plan_customer(scope: CustomerScope) -> CustomerPlan:
    """One action per subscription of this customer (and per licence of ours that vanished)."""
    if scope.subscriptions is None:
        return []
    customer = _Customer.of(scope)
    answer = _sort_answer(customer.customer_id, scope, scope.subscriptions)
    planned = _plan_answered(customer, answer)
    if isinstance(planned, NeedsLinkFields):
        return planned
    gone = _plan_vanished(customer, answer)
    if isinstance(gone, NeedsLinkFields):
        return gone
    return answer.actions + planned + gone + _unreadable(customer.customer_id, scope.subscriptions)


def _sort_answer(customer_id: str, scope: CustomerScope, subscriptions: Parsed[Subscription]) -> _Answer:
    """Each row answered: excluded by its stock code, refused, or the one of its id to plan."""
    answer = _Answer({s.subscription_id for s in subscriptions.items})
    for sub in subscriptions.items:
        if sub.tenant_id == customer_id and sub.stock_code in scope.excluded_stock_codes:
            if sub.subscription_id not in answer.excluded:
                answer.excluded.add(sub.subscription_id)
                answer.actions.append(
                    SubscriptionAction(
                        "skip",
                        customer_id,
                        sub.subscription_id,
                        sub.stock_description,
                        reason=EXCLUDED,
                        reason_code="excluded",
                    )
                )
        elif sub.tenant_id != customer_id or sub.subscription_id in answer.unique:
            answer.actions.append(_refused(customer_id, sub, answer))
        else:
            answer.unique[sub.subscription_id] = sub
    return answer


def _refused(customer_id: str, sub: Subscription, answer: _Answer) -> SubscriptionAction:
    """A row not planned: answered for another customer (or none), or a repeat of an id."""
    if sub.tenant_id != customer_id:
        owner = f"another customer ({sub.tenant_id[:40]})" if sub.tenant_id else "no customer (no TenantId)"
        reason, code = f"Dicker Data answered it for {owner}.", "other_customer"
    else:
        reason = "Dicker Data answered this SubscriptionId twice; the first is used."
        code = "duplicate_id"
    return SubscriptionAction(
        "fail",
        customer_id,
        sub.subscription_id,
        sub.stock_description,
        reason=reason,
        reason_code=code,
        occurrence=sum(1 for a in answer.actions if a.subscription_id == sub.subscription_id) + 1,
    )


def _unreadable(customer_id: str, subscriptions: Parsed[Subscription]) -> list[SubscriptionAction]:
    return [
        SubscriptionAction(
            "fail",
            customer_id,
            bad.ref,
            bad.name,
            reason=f"Dicker Data record unreadable: {bad.reason}",
            reason_code="unreadable_record",
            occurrence=bad.index + 1,
        )
        for bad in subscriptions.invalid
    ]


def _plan_answered(customer: _Customer, answer: _Answer) -> list[SubscriptionAction] | NeedsLinkFields:
    """An action per subscription to plan; bases before add-ons, so an add-on can name its
    parent's licence."""
    licence_of = _licence_of(customer, answer.unique)
    actions = []
    for sub in sorted(
        answer.unique.values(), key=lambda s: (bool(s.parent_subscription_id), s.subscription_id)
    ):
        planned = _plan_one(sub, customer, licence_of, answer.answered)
        if isinstance(planned, NeedsLinkFields):
            return planned
        actions.append(_held_as_twin(planned, customer) if sub.subscription_id in customer.twins else planned)
    return actions


def _licence_of(customer: _Customer, unique: dict[str, Subscription]) -> dict[str, int]:
    """Per subscription, its licence in Halo: the linked one (when Halo still holds it, or the
    links are trusted), else the oldest carrying its marker."""
    scope = customer.scope
    licence_of: dict[str, int] = {}
    for sub_id in unique:
        link = scope.links.get(sub_id)
        if link is not None and (scope.trusted or link.halo_licence_id in customer.licences):
            licence_of[sub_id] = link.halo_licence_id
        elif sub_id in customer.by_marker:
            licence_of[sub_id] = customer.by_marker[sub_id]
    return licence_of


def _plan_one(
    sub: Subscription, customer: _Customer, licence_of: dict[str, int], answered: set[str]
) -> SubscriptionAction | NeedsLinkFields:
    """Create its licence, or patch what differs, or leave it as it is."""
    action = _desired(sub, customer, licence_of, answered)
    licence_id = licence_of.get(sub.subscription_id)
    if licence_id is None:
        action.action = "create"
        action.changes = ["licence"]
        return action
    action.halo_id = licence_id
    link = customer.scope.links.get(sub.subscription_id)
    wanted = action.written()
    if link is not None and link.halo_licence_id == licence_id:
        changed = _changed_since_written(action, wanted, link, customer)
        if isinstance(changed, NeedsLinkFields):
            return changed
    else:  # adopted by its marker, or its link named another licence: compared with Halo's
        action.relink = True
        current = customer.licences[licence_id]
        changed = [k for k, v in wanted.items() if not holds(v, current.value(k))]
    changed = [k for k in changed if not (k == "parent_id" and action.parent_licence_id is None)]
    if changed:
        action.action = "update"
        action.changes = changed
        action.patch = licence_patch(licence_id, {k: wanted[k] for k in changed})
    return action


def _desired(
    sub: Subscription, customer: _Customer, licence_of: dict[str, int], answered: set[str]
) -> SubscriptionAction:
    """The subscription as Halo should hold it, with its base's licence when known."""
    desired = desired_fields(sub, customer.scope.mapping.halo_client_id, customer.scope.tenant_id)
    fields: dict[str, Any] = dict(desired)
    action = SubscriptionAction(
        "unchanged",
        customer.customer_id,
        sub.subscription_id,
        desired["name"],
        fields=fields,
        parent_subscription_id=sub.parent_subscription_id,
    )
    parent = sub.parent_subscription_id
    if parent:
        action.parent_licence_id = licence_of.get(parent)
        if action.parent_licence_id is None and parent not in answered:
            action.reason = f"The base subscription {parent} is not in Dicker Data's answer."
    return action


def _changed_since_written(
    action: SubscriptionAction, wanted: dict[str, Any], link: SubscriptionLink, customer: _Customer
) -> list[str] | NeedsLinkFields:
    """A linked licence: the fields that differ from what we last wrote, and (where Halo was read,
    not trusted) those a hand edit changed in Halo."""
    drift = [] if customer.scope.trusted else _drift(wanted, customer.licences[link.halo_licence_id])
    if link.content_hash == content_hash(wanted):
        if not drift:
            action.fields = {}  # neither written nor linked again: only its item is needed
        return drift
    last = link.fields
    if last is None:
        return NeedsLinkFields(customer.customer_id)
    changed = [k for k, v in wanted.items() if last.get(k) != v and not (v is None and k not in last)]
    return changed + [k for k in drift if k not in changed]


def _drift(wanted: dict[str, Any], licence: Licence) -> list[str]:
    """The fields a hand edit most often changes that Halo answered otherwise than we want."""
    return [
        k
        for k in DRIFT_FIELDS
        if k in licence.owned and k in wanted and not holds(wanted[k], licence.owned[k])
    ]


def _twin(customer_id: str, sub_id: str, name: str, ids: list[int], kept: int) -> SubscriptionAction:
    """A subscription Halo holds twice: reported for a person to resolve, nothing written."""
    return SubscriptionAction(
        "skip",
        customer_id,
        sub_id,
        name,
        halo_id=kept,
        reason=twins.duplicate_reason(ids, kept),
        reason_code="duplicate_in_halo",
        duplicates=ids,
    )


def _held_as_twin(planned: SubscriptionAction, customer: _Customer) -> SubscriptionAction:
    """A subscription answered that Halo holds twice is not written. It is linked to the one kept
    (so no later plain sync creates a third), with what that one holds."""
    ids = customer.twins[planned.subscription_id]
    kept = planned.halo_id if planned.halo_id in ids else ids[0]
    held = _twin(planned.customer_id, planned.subscription_id, planned.name, ids, kept)
    held.parent_subscription_id = planned.parent_subscription_id
    if planned.relink or planned.halo_id != kept:  # no link to the kept one yet
        wanted = planned.written() if planned.fields else {}
        held.fields = twins.kept_fields(wanted, customer.licences[kept])
        held.parent_licence_id = held.fields.pop("parent_id", None)
        held.relink = bool(held.fields)
    return held


def _vanished(customer: _Customer, answer: _Answer) -> Iterator[tuple[str, int, SubscriptionLink | None]]:
    """The subscriptions of ours Dicker Data no longer answers, with their licence: the linked
    ones, then those only a licence's marker tells of."""
    scope = customer.scope
    for sub_id, link in sorted(scope.links.items()):
        if sub_id not in answer.unique and sub_id not in answer.excluded:
            yield sub_id, link.halo_licence_id, link
    for marker, licence_id in sorted(customer.by_marker.items()):
        if marker not in scope.links and marker not in answer.unique and marker not in answer.excluded:
            yield marker, licence_id, None


def _plan_vanished(customer: _Customer, answer: _Answer) -> list[SubscriptionAction] | NeedsLinkFields:
    actions: list[SubscriptionAction] = []
    for sub_id, licence_id, link in _vanished(customer, answer):
        if sub_id in customer.twins:
            ids = customer.twins[sub_id]
            kept = twins.kept(sub_id, ids, customer.scope)
            actions.append(
                _twin(customer.customer_id, sub_id, customer.licences[kept].name or sub_id, ids, kept)
            )
            continue
        gone = _plan_gone(customer, sub_id, licence_id, link)
        if isinstance(gone, NeedsLinkFields):
            return gone
        actions.extend(gone)
    return actions


def _plan_gone(
    customer: _Customer, sub_id: str, licence_id: int, link: SubscriptionLink | None
) -> list[SubscriptionAction] | NeedsLinkFields:
    """A subscription no longer answered by Dicker Data: its licence becomes inactive, never
    deleted. When the links are trusted the licence was not read, and its link says what it holds."""
    licence = customer.licences.get(licence_id)
    if licence is None and not customer.scope.trusted:
        return []  # not in Halo any more (deleted there): nothing to make inactive
    last = link.fields if link else {}
    if licence is None and last is None:
        return NeedsLinkFields(customer.customer_id)  # only what we wrote says whether it is inactive yet
    written = last or {}
    action = SubscriptionAction(
        "unchanged",
        customer.customer_id,
        sub_id,
        licence.name if licence is not None else str(written.get("name") or sub_id),
        halo_id=licence_id,
        reason="No longer in Dicker Data's answer: kept in Halo as inactive.",
    )
    state = (
        (licence.is_active, licence.status) if licence else (written.get("is_active"), written.get("status"))
    )
    if state == (False, GONE_STATUS):
        return [action]  # made inactive by an earlier run: nothing to write
    if last is None:
        return NeedsLinkFields(customer.customer_id)
    gone = {"is_active": False, "status": GONE_STATUS}
    action.fields = {**last, **gone}
    action.action = "update"
    action.changes = list(gone)
    action.patch = licence_patch(licence_id, gone)
    action.relink = True
    return [action]
