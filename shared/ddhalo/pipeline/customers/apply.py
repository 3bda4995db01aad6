"""Customers, apply: batched Halo writes, then the new mappings, many to a DynamoDB transaction."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from ddhalo.errors import CredentialError, IntegrationError, OutOfTimeError
from ddhalo.halo.client import HaloClient
from ddhalo.halo.records import ClientRecord, client_links_patch, links_with
from ddhalo.models import Mapping, RunItem
from ddhalo.pipeline.customers.plan import TENANT_LINKS, CustomerAction, tenant_link
from ddhalo.pipeline.customers.read import HaloClients
from ddhalo.pipeline.reconcile import (
    Applied,
    CreateOutcome,
    PatchOutcome,
    create_reconciled,
    reason,
    save_patches,
)
from ddhalo.store import Store


def apply_customers(
    actions: list[CustomerAction], halo: HaloClient, store: Store, created_by: str = "import"
) -> Applied[str]:
    """Write the plan; customers it had no time for are ``remaining`` (their ids), for a follow-up
    job that plans them again from fresh reads (a create that landed is then found by its tenant)."""
    done: Applied[str] = Applied()
    for action in actions:
        if action.action in ("skip", "fail"):
            done.items.append(action.item())
    # Held as duplicate_in_halo: mapped to the client kept, so no later run creates another.
    adopted = [
        (a, a.halo_client_id, a.halo_client_name)
        for a in actions
        if a.action == "skip" and a.new_mapping and a.halo_client_id is not None
    ]
    _store_mappings(adopted, store, created_by)
    done.absorb(
        _apply_updates([a for a in actions if a.action in ("update", "unchanged")], halo, store, created_by)
    )
    creates = [a for a in actions if a.action == "create"]
    if done.stopped is None:
        done.absorb(_apply_creates(creates, halo, store, created_by))
    else:
        done.items += [_not_done(a, done.stopped) for a in creates]
    return done


def _not_done(action: CustomerAction, error: CredentialError) -> RunItem:
    """A customer the run stopped before: failed, saying why (a lost create is found next run)."""
    return action.item("failed", reason=f"Not written: {reason(error)}", reason_code=error.code)


def _store_mappings(
    new: list[tuple[CustomerAction, int, str]], store: Store, created_by: str
) -> dict[str, str]:
    """Store the mappings of (action, Halo client id, name); answers why each refused one was."""
    conflicts = store.put_mappings(
        [
            Mapping(
                dicker_customer_id=action.dicker_id,
                dicker_customer_name=action.name,
                halo_client_id=client_id,
                halo_client_name=client_name,
                source="import",
                created_by=created_by,
                written=action.written,
            )
            for action, client_id, client_name in new
        ]
    )
    return {key: error.message for key, error in conflicts.items()}


@dataclass
class _Updates:
    """Where the updates stand: the customers left for a follow-up (unsent, or not read for lack of
    time), those failed with why and the error's code, and refused credentials."""

    later: set[str] = field(default_factory=set)
    failed: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)
    stopped: CredentialError | None = None

    def absorb(self, patched: PatchOutcome) -> None:
        self.later.update(patched.unsent)
        self.failed.update(patched.failed)
        self.codes.update(patched.codes)
        self.stopped = self.stopped or patched.stopped


def _apply_updates(
    actions: list[CustomerAction], halo: HaloClient, store: Store, created_by: str
) -> Applied[str]:
    """Patch the clients' tenant links, then the main sites' addresses (not of a customer whose
    client failed), then store the mappings of adopted clients and what each wrote."""
    state = _read_hidden_links(actions, halo)
    clients = {
        a.dicker_id: a.client_patch for a in actions if a.client_patch and a.dicker_id not in state.later
    }
    state.absorb(save_patches(halo, "Client", clients))
    sites = {
        a.dicker_id: a.site_patch
        for a in actions
        if a.site_patch and a.dicker_id not in state.failed and a.dicker_id not in state.later
    }
    state.absorb(save_patches(halo, "Site", sites))
    done: Applied[str] = Applied(
        remaining=sorted(state.later) if state.stopped is None else [], stopped=state.stopped
    )
    adopted = [
        (a, a.halo_client_id, a.halo_client_name)
        for a in actions
        if a.new_mapping and a.halo_client_id is not None and a.dicker_id not in state.later
    ]
    for key, conflict in _store_mappings(adopted, store, created_by).items():
        if key not in state.failed:
            state.failed[key], state.codes[key] = conflict, "mapping_conflict"
    for action in actions:
        _report_update(action, state, done, store)
    return done


def _read_hidden_links(actions: list[CustomerAction], halo: HaloClient) -> _Updates:
    """Read each client whose list record hid its tenant links (``_complete_link_patch``)."""
    state = _Updates()
    for action in actions:
        if not action.links_unread:
            continue
        if state.stopped is not None:
            state.later.add(action.dicker_id)
            continue
        try:
            _complete_link_patch(action, halo)
        except (OutOfTimeError, CredentialError) as exc:
            state.later.add(action.dicker_id)
            state.stopped = exc if isinstance(exc, CredentialError) else state.stopped
        except IntegrationError as exc:  # this customer fails alone, not the run
            why = f"Could not read the Halo client's tenant links: {reason(exc)}"
            state.failed[action.dicker_id], state.codes[action.dicker_id] = why, exc.code
    return state


def _report_update(action: CustomerAction, state: _Updates, done: Applied[str], store: Store) -> None:
    """Its item (none for one handed to a follow-up), and what it wrote remembered."""
    key = action.dicker_id
    if key in state.later:
        if state.stopped is not None:
            done.items.append(_not_done(action, state.stopped))
    elif key in state.failed:
        done.items.append(action.item("failed", reason=state.failed[key], reason_code=state.codes.get(key)))
    else:
        if not action.new_mapping:
            store.remember_written(action.dicker_id, action.written)
        done.items.append(action.item())


def _complete_link_patch(action: CustomerAction, halo: HaloClient) -> None:
    """Read the one client whose list record hid its tenant links, then patch only if needed."""
    assert action.halo_client_id is not None
    assert action.tenant is not None
    client = halo.client(action.halo_client_id, with_links=True)
    links = links_with((client.tenant_links or ()) if client else (), tenant_link(action.tenant))
    action.links_unread = False
    if links is None:
        action.changes.remove(TENANT_LINKS)
        if not action.changes:
            action.action = "unchanged"
    else:
        action.client_patch = client_links_patch(action.halo_client_id, links)


def _apply_creates(
    actions: list[CustomerAction], halo: HaloClient, store: Store, created_by: str
) -> Applied[str]:
    """Create the clients, then store their mappings; what time ran out for is handed on."""
    by_id = {a.dicker_id: a for a in actions}
    records = {a.dicker_id: a.create.to_wire() for a in actions if a.create is not None}
    outcome = create_reconciled(halo, "Client", records, partial(_find_clients, halo, by_id))
    done: Applied[str] = Applied(stopped=outcome.stopped)
    if outcome.stopped is None:
        done.remaining = sorted(outcome.unfinished)
        for sent_at in outcome.unfinished.values():
            done.lost(sent_at)
    created = {
        a.dicker_id: record
        for a in actions
        if a.dicker_id not in outcome.unfinished
        and (record := ClientRecord.from_wire(outcome.saved.get(a.dicker_id))) is not None
    }
    conflicts = _store_mappings(
        [(by_id[key], record.id, record.name) for key, record in created.items()], store, created_by
    )
    for action in actions:
        item = _create_item(action, outcome, created.get(action.dicker_id), conflicts.get(action.dicker_id))
        if item is not None:
            done.items.append(item)
    return done


def _find_clients(
    halo: HaloClient, by_id: dict[str, CustomerAction], keys: Sequence[str]
) -> Iterator[tuple[Sequence[str], dict[str, dict[str, Any]]]]:
    """Clients whose create lost its answer, found by the tenant they carry (``reconcile.Finder``)."""
    found = HaloClients.read(halo)  # one paged read of every client settles every key
    landed = {}
    for key in keys:
        ids = found.with_tenant(by_id[key].tenant_marker)
        if ids:  # the oldest: a create saved late and one sent again would both carry it
            landed[key] = {"id": min(ids), "name": found.name(min(ids))}
    yield keys, landed


def _create_item(
    action: CustomerAction, outcome: CreateOutcome, record: ClientRecord | None, conflict: str | None
) -> RunItem | None:
    """A create's item: created, or failed (in Halo, or mapping it); none when it is handed on."""
    key = action.dicker_id
    if key in outcome.unfinished:
        return _not_done(action, outcome.stopped) if outcome.stopped is not None else None
    if record is None:
        return action.item("failed", reason=outcome.failed.get(key), reason_code=outcome.codes.get(key))
    if conflict:
        return action.item(
            "failed",
            halo_id=record.id,
            reason=f"Created in Halo but not mapped: {conflict}",
            reason_code="mapping_conflict",
        )
    return action.item("created", halo_id=record.id)
