"""Twins: a subscription Halo holds as more than one licence (a create saved after its answer was
lost and sent again, or a licence copied by hand). Pure.

Twins are never written to: the plan reports them for a person to resolve, and keeps one of them
(the linked one, else the oldest) in step through its link, so no later plain sync creates a third.
"""

from __future__ import annotations

from typing import Any

from ddhalo.halo.records import Licence
from ddhalo.pipeline.compare import holds
from ddhalo.pipeline.subscriptions.read import CustomerScope


def carriers(licences: dict[int, Licence], scope: CustomerScope, client_id: int) -> dict[str, list[int]]:
    """Per subscription id, the licences of this client carrying its marker, oldest first."""
    found: dict[str, list[int]] = {}
    for licence_id, licence in sorted(licences.items()):
        if licence.marker and licence.marker not in scope.others and licence.is_ours_for(client_id):
            found.setdefault(licence.marker, []).append(licence_id)
    return found


def find(
    carried: dict[str, list[int]], scope: CustomerScope, licences: dict[int, Licence]
) -> dict[str, list[int]]:
    """Per subscription Halo holds more than once, every licence of it, oldest first. Only where
    the licences were read (a plain sync trusts its links and reads none)."""
    if scope.trusted:
        return {}
    found = {}
    for sub_id in set(carried) | set(scope.links):
        ids = set(carried.get(sub_id, ()))
        link = scope.links.get(sub_id)
        if link is not None and link.halo_licence_id in licences:
            ids.add(link.halo_licence_id)
        if len(ids) > 1:
            found[sub_id] = sorted(ids)
    return found


def kept(sub_id: str, ids: list[int], scope: CustomerScope) -> int:
    """The one to keep in step: the linked one (what we have been writing), else the oldest."""
    link = scope.links.get(sub_id)
    return link.halo_licence_id if link is not None and link.halo_licence_id in ids else ids[0]


def kept_fields(wanted: dict[str, Any], licence: Licence) -> dict[str, Any]:
    """What a link to the kept one remembers: ours where Halo holds it, else what Halo holds (so
    the next plan sees what differs, and nothing is written meanwhile)."""
    return {k: v if holds(v, licence.value(k)) else licence.value(k) for k, v in wanted.items()}


def duplicate_reason(ids: list[int], kept_id: int) -> str:
    others = ", ".join(f"#{i}" for i in ids if i != kept_id)
    return (
        f"Halo holds {len(ids)} licences for this subscription ({', '.join(f'#{i}' for i in ids)}); "
        f"#{kept_id} is kept in step, nothing was changed. Delete or deactivate {others} in Halo."
    )
