"""What the bench does to the world between syncs, and how it checks Halo against Dicker Data.

Run in the fakes' process (``local.bench.fakes``), on the fakes' own records:

- :func:`change_subscriptions`: a share of Dicker Data's subscriptions changed between two syncs
  (quantities changed, some cancelled, some new, some vanished);
- :func:`hand_drift`: edits made in Halo by hand, straight into the fake's records (licence counts,
  licences made inactive, deleted, moved to another customer's client; tenant links removed);
- :func:`check_halo`: Halo's records against Dicker Data's data, independently of the product's
  code: every subscription of a mapped customer has exactly one licence with our marker, on the
  mapped client, with Dicker Data's count, status and active flag (an add-on naming its base's
  licence as its parent); a vanished one is inactive and says so; every mapped client carries its
  customer's tenant link. It answers the mismatches, by
  kind, as subscription ids (tenant ids for ``tenant_link`` and ``unmapped``).
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from typing import Any

from local.fakes import DickerDataFake, HaloFake
from local.fakes.sample_data import make_subscription

Record = dict[str, Any]
MARKER = "Dicker Data subscription: "
# The product's contract (docs/HALO_FIELDS_USED.md): Dicker Data's status → the licence's status.
# Restated from the document, not imported from the product's plan: the check must not agree with
# the product merely because it reads the product's own table.
STATUS_NAMES = {
    "ACTIVE": "Active",
    "SUSPENDED": "Suspended",
    "CANCELLED": "Cancelled",
    "CANCELED": "Cancelled",
}
GONE_STATUS = "Removed in Dicker Data"
CHANGE_KINDS = ("quantity", "cancelled", "new", "vanished")
DRIFT_KINDS = ("count", "inactive", "deleted", "moved", "unlinked")
# What check_halo calls each drift once a verify has not (yet) corrected it.
DRIFT_SHOWS_AS = {
    "count": "count",
    "inactive": "active",
    "deleted": "missing",
    "moved": "wrong_client",
    "unlinked": "tenant_link",
}
CHECKS = (
    "missing",
    "duplicate",
    "wrong_client",
    "count",
    "status",
    "active",
    "parent",
    "vanished_active",
    "tenant_link",
    "unmapped",
)


def marker_of(licence: Record) -> str | None:
    """The subscription id our marker names (the first line of the notes), if any."""
    first = str(licence.get("notes") or "").split("\n", 1)[0].strip()
    return first[len(MARKER) :].strip() if first.startswith(MARKER) else None


def change_split(subscriptions: int, share: float) -> dict[str, int]:
    """How many of each change make ``share`` of ``subscriptions`` (at least one of each): a fifth
    each cancelled, new and vanished, the rest quantities."""
    total = max(len(CHANGE_KINDS), round(subscriptions * share))
    fifth = max(1, round(total * 0.2))
    return {"quantity": total - 3 * fifth, "cancelled": fifth, "new": fifth, "vanished": fifth}


def _parents(subscriptions: list[Record]) -> set[str]:
    return {s["ParentSubscriptionId"] for s in subscriptions if s.get("ParentSubscriptionId")}


def change_subscriptions(dd: DickerDataFake, share: float, seed: int) -> dict[str, list[str]]:
    """Change ``share`` of Dicker Data's subscriptions, each one once: quantities up by 1-5,
    active or suspended ones cancelled, new base subscriptions on customers that have some, and
    some vanished (none a base of an add-on, so no add-on loses its parent)."""
    rng = random.Random(seed)
    with dd.lock:
        subs = list(dd.subscriptions)
        split = change_split(len(subs), share)
        parents = _parents(subs)
        pool = [s for s in subs if s["SubscriptionId"] not in parents]
        rng.shuffle(pool)
        cancellable = [s for s in pool if s["Status"] in ("ACTIVE", "SUSPENDED")]
        cancelled = cancellable[: split["cancelled"]]
        taken = {s["SubscriptionId"] for s in cancelled}
        rest = [s for s in pool if s["SubscriptionId"] not in taken]
        quantity = rest[: split["quantity"]]
        vanished = rest[split["quantity"] : split["quantity"] + split["vanished"]]
        if len(cancelled) < split["cancelled"] or len(vanished) < split["vanished"]:
            raise ValueError(f"too few subscriptions ({len(subs)}) for {split}")
        for sub in quantity:
            dd.set_quantity(sub["SubscriptionId"], int(sub["ConfirmedQuantity"]) + rng.randint(1, 5))
        for sub in cancelled:
            dd.set_status(sub["SubscriptionId"], "CANCELLED")
        for sub in vanished:
            dd.remove_subscription(sub["SubscriptionId"])
        tenants = sorted({s["TenantId"] for s in subs})
        by_tenant = {t["TenantId"]: t for t in dd.tenants}
        new = []
        for tenant_id in rng.sample(tenants, min(split["new"], len(tenants))):
            sub = make_subscription(
                by_tenant[tenant_id],
                str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                rng.choice(("basic", "standard", "premium", "exchange1", "apps", "e3")),
                quantity=rng.randint(1, 50),
            )
            dd.add_subscription(sub)
            new.append(sub["SubscriptionId"])
    return {
        "quantity": [s["SubscriptionId"] for s in quantity],
        "cancelled": [s["SubscriptionId"] for s in cancelled],
        "new": new,
        "vanished": [s["SubscriptionId"] for s in vanished],
    }


def hand_drift(
    halo: HaloFake,
    dd: DickerDataFake,
    mapping: dict[str, int],
    per_kind: int,
    seed: int,
    *,
    bases: bool = False,
) -> dict[str, list[Any]]:
    """Edit Halo by hand, ``per_kind`` of each, each licence once: licence counts raised, licences
    made inactive, deleted (none a base of an add-on, unless ``bases``: then the first deleted is
    one), moved to another customer's client, all of active subscriptions; and tenant links
    removed from clients. Answers what was done (sub ids; the customers' tenant ids for ``unlinked``)."""
    rng = random.Random(seed)
    with halo.lock, dd.lock:
        subs = {s["SubscriptionId"]: s for s in dd.subscriptions}
        parents = _parents(list(subs.values()))
        ours: list[tuple[int, Record]] = []
        based: list[tuple[int, Record]] = []
        for licence_id in sorted(halo.licences):
            sub = subs.get(marker_of(halo.licences[licence_id]) or "")
            if sub is not None and sub["Status"] == "ACTIVE":
                (based if sub["SubscriptionId"] in parents else ours).append((licence_id, sub))
        if len(ours) < 4 * per_kind or len(mapping) < per_kind + 1 or (bases and not based):
            raise ValueError(f"too small a world for {per_kind} hand edits of each kind")
        picked = rng.sample(ours, 4 * per_kind)
        if bases:  # a base of an add-on among the deleted (kind 2)
            picked[2 * per_kind] = rng.choice(based)
        done: dict[str, list[Any]] = {kind: [] for kind in DRIFT_KINDS}
        clients = sorted(set(mapping.values()))
        for n, (licence_id, sub) in enumerate(picked):
            kind = DRIFT_KINDS[n // per_kind]
            record = dict(halo.licences[licence_id])
            if kind == "count":
                record["count"] = int(record.get("count") or 0) + rng.randint(1, 9)
            elif kind == "inactive":
                record["is_active"] = False
            elif kind == "deleted":
                del halo.licences[licence_id]
            else:  # moved to the client of another customer
                other = rng.choice([c for c in clients if c != record["client_id"]])
                record["client_id"] = other
                record["client_name"] = halo.clients[other]["name"]
            if kind != "deleted":
                halo.licences[licence_id] = record  # assigned, so the client index follows
            done[kind].append(sub["SubscriptionId"])
        for tenant_id in rng.sample(sorted(mapping), per_kind):
            client = halo.clients[mapping[tenant_id]]
            client["azure_tenants"] = [
                t
                for t in client.get("azure_tenants") or []
                if _norm(t.get("azure_tenant_id")) != _norm(tenant_id)
            ]
            done["unlinked"].append(tenant_id)
        if bases:  # the add-ons of the deleted base: a verify must point them at its new licence
            gone = set(done["deleted"])
            done["orphans"] = sorted(
                s["SubscriptionId"] for s in subs.values() if s["ParentSubscriptionId"] in gone
            )
    return done


def _norm(value: Any) -> str:
    return str(value or "").strip().lower()


def check_halo(halo: HaloFake, dd: DickerDataFake, mapping: dict[str, int]) -> dict[str, list[str]]:
    """Halo's records against Dicker Data's: the mismatches by kind (see the module docstring).
    ``mapping``: Dicker Data customer id → the Halo client the product mapped it to."""
    out: dict[str, list[str]] = {kind: [] for kind in CHECKS}
    with halo.lock, dd.lock:
        subs = {s["SubscriptionId"]: s for s in dd.subscriptions}
        by_marker: dict[str, list[Record]] = defaultdict(list)
        for record in halo.licences.values():
            marker = marker_of(record)
            if marker is not None:
                by_marker[marker].append(record)
        for tenant in dd.tenants:
            tenant_id = tenant["TenantId"]
            client = halo.clients.get(mapping.get(tenant_id, -1))
            if tenant_id not in mapping:
                out["unmapped"].append(tenant_id)
            elif client is None or _norm(tenant_id) not in {
                _norm(t.get("azure_tenant_id")) for t in client.get("azure_tenants") or []
            }:
                out["tenant_link"].append(tenant_id)
        for sub_id, sub in subs.items():
            found = by_marker.get(sub_id, [])
            if sub["TenantId"] not in mapping:
                continue  # said once, as unmapped
            if not found:
                out["missing"].append(sub_id)
                continue
            if len(found) > 1:
                out["duplicate"].append(sub_id)
            licence = found[0]
            status = str(sub["Status"]).upper()
            if licence.get("client_id") != mapping[sub["TenantId"]]:
                out["wrong_client"].append(sub_id)
            if licence.get("count") != max(0, int(sub["ConfirmedQuantity"])):
                out["count"].append(sub_id)
            if licence.get("status") != STATUS_NAMES.get(status, status.title()):
                out["status"].append(sub_id)
            if licence.get("is_active", True) is not (status == "ACTIVE"):
                out["active"].append(sub_id)
            base = by_marker.get(sub.get("ParentSubscriptionId") or "", [])
            if base and licence.get("parent_id") != base[0]["id"]:
                out["parent"].append(sub_id)  # an add-on names its base's licence
        for marker, found in by_marker.items():
            if marker in subs:
                continue
            if len(found) > 1:
                out["duplicate"].append(marker)
            if any(r.get("is_active", True) is not False or r.get("status") != GONE_STATUS for r in found):
                out["vanished_active"].append(marker)
    return {kind: sorted(ids) for kind, ids in out.items()}


def mismatch_count(check: dict[str, list[str]]) -> int:
    return sum(len(ids) for ids in check.values())


def drift_as_mismatches(drift: dict[str, list[Any]]) -> dict[str, list[str]]:
    """What :func:`check_halo` answers when the drift is all still there and nothing else is off."""
    out: dict[str, list[str]] = {kind: [] for kind in CHECKS}
    for kind, ids in drift.items():
        if kind in DRIFT_SHOWS_AS:  # orphaned add-ons show nothing while their base is deleted
            out[DRIFT_SHOWS_AS[kind]] = sorted(str(i) for i in ids)
    return out


def world_counts(dd: DickerDataFake, matched: int) -> dict[str, int]:
    """What a first sync of this world must write: its customers (``matched`` already in Halo under
    their name, which get the tenant link), its subscriptions, and the add-ons among them."""
    with dd.lock:
        subs = list(dd.subscriptions)
        ids = {s["SubscriptionId"] for s in subs}
        addons = sum(1 for s in subs if s.get("ParentSubscriptionId") in ids)
        return {
            "customers": len(dd.tenants),
            "matched": matched,
            "subscriptions": len(subs),
            "addons": addons,
        }
