"""Writing a plan to Halo safely: batched creates reconciled after ambiguous failures.

Shared by every importer. A create batch whose answer was lost (timeout, 500/502/504) may have
landed, so it is never re-sent blindly: Halo is read again, records carrying our marker are
adopted, and only the rest is created in the next round.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ddhalo.errors import IntegrationError, RejectedError
from ddhalo.halo.client import HaloClient, halo_id

CREATE_ROUNDS = 3


def content_hash(fields: Any) -> str:
    """A stable digest of what we write (the change detector stored beside links and mappings)."""
    return hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:32]


def record_id(record: dict[str, Any]) -> int | None:
    """A saved record's id, when Halo answered a real one (not null, not "abc", not 0)."""
    return halo_id(record.get("id"))


def reason(error: IntegrationError) -> str:
    return f"{error.message} {error.hint}" if error.hint else error.message


@dataclass
class CreateOutcome:
    """Per key: the saved (or adopted) Halo record, or why it failed."""

    saved: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def create_reconciled(
    halo: HaloClient,
    entity: str,
    records: dict[str, dict[str, Any]],
    find_landed: Callable[[Sequence[str]], dict[str, dict[str, Any]]],
) -> CreateOutcome:
    """Create ``records`` (key → record) in batches; ``find_landed(keys)`` re-reads Halo and
    answers the records of those keys that exist there (found by our marker)."""
    outcome = CreateOutcome()
    pending = list(records)
    last_error: dict[str, str] = {}
    for round_no in range(CREATE_ROUNDS):
        if not pending:
            break
        if round_no:
            landed = find_landed(pending)
            outcome.saved.update(landed)
            pending = [key for key in pending if key not in landed]
            if not pending:
                break
        result = halo.save(entity, [records[key] for key in pending])
        retry = []
        for key, record, error in zip(pending, result.saved, result.errors, strict=True):
            if error is None and record and record_id(record) is not None:
                outcome.saved[key] = record
            elif isinstance(error, RejectedError):
                outcome.failed[key] = reason(error)
            else:
                # No usable id: the record may exist; the next round reads Halo before re-sending.
                last_error[key] = reason(error) if error else "Halo answered without a usable id."
                retry.append(key)
        pending = retry
    for key in pending:
        outcome.failed[key] = last_error.get(key, "Not created.")
    return outcome


def save_patches(halo: HaloClient, entity: str, patches: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Updates (each carries its ``id``, so retrying is safe); answers key → reason for failures."""
    keys = list(patches)
    result = halo.save(entity, [patches[key] for key in keys])
    return {key: reason(error) for key, error in zip(keys, result.errors, strict=True) if error is not None}
