"""Writing a plan to Halo safely, shared by every entity's apply step.

A create batch whose answer was lost (timeout, 500/502/504) may have landed, so it is never re-sent
blindly: Halo is read again, records carrying our marker are adopted, and only the rest is created
in the next round. A patch whose every answer was lost is read back.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

from ddhalo.errors import IntegrationError, OutOfTimeError, RejectedError, UpstreamError
from ddhalo.halo.client import HaloClient
from ddhalo.halo.records import halo_id
from ddhalo.models import RunItem

CREATE_ROUNDS = 3


@dataclass
class Applied[T]:
    """What an apply step did: one item per record done, and the work it had no time left for
    (handed to a follow-up job, which reports those records)."""

    items: list[RunItem] = field(default_factory=list)
    remaining: list[T] = field(default_factory=list)


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
    """Per key: the saved (or adopted) Halo record, or why it failed, or (time ran out in this
    invocation) unfinished, with whether an earlier attempt may have landed it."""

    saved: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # per failed key: the error's code
    unfinished: dict[str, bool] = field(default_factory=dict)


def create_reconciled(
    halo: HaloClient,
    entity: str,
    records: dict[str, dict[str, Any]],
    find_landed: Callable[[Sequence[str]], dict[str, dict[str, Any]]],
    unsure: Collection[str] = (),
) -> CreateOutcome:
    """Create ``records`` (key → record) in batches; ``find_landed(keys)`` re-reads Halo and
    answers the records of those keys that exist there (found by our marker). Keys in ``unsure``
    may have landed already (an earlier attempt lost its answer): they are looked for first.

    Nothing is reported failed while it may be in Halo: a create whose answer was lost is looked
    for before it is sent again and once more after the last round; if Halo cannot be read, the
    key is left unfinished (for a follow-up job) rather than called failed.
    """
    outcome = CreateOutcome()
    pending = list(records)
    maybe = {key for key in unsure if key in records}
    last_error: dict[str, IntegrationError] = {}
    for round_no in range(CREATE_ROUNDS + 1):
        if maybe:
            try:
                landed = find_landed([key for key in pending if key in maybe])
            except IntegrationError:
                outcome.unfinished.update({key: key in maybe for key in pending})
                return outcome
            outcome.saved.update(landed)
            pending = [key for key in pending if key not in landed]
            maybe.clear()
        if not pending or round_no == CREATE_ROUNDS:
            break
        result = halo.save(entity, [records[key] for key in pending])
        retry = []
        answers = zip(pending, result.saved, result.errors, result.unsent, strict=True)
        for key, record, error, unsent in answers:
            if unsent:
                outcome.unfinished[key] = False
            elif error is None and record and record_id(record) is not None:
                outcome.saved[key] = record
            elif isinstance(error, RejectedError):
                outcome.failed[key], outcome.codes[key] = reason(error), error.code
            else:
                # No usable id: the record may exist; Halo is read before it is sent again.
                last_error[key] = error or UpstreamError("Halo answered without a usable id.")
                retry.append(key)
                maybe.add(key)
        pending = retry
    for key in pending:  # looked for after its last attempt, and not in Halo
        error = last_error.get(key, UpstreamError("Not created."))
        outcome.failed[key], outcome.codes[key] = reason(error), error.code
    return outcome


@dataclass
class PatchOutcome:
    """Keys whose update failed (with why), and keys left unsent for lack of time."""

    failed: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # per failed key: the error's code
    unsent: list[str] = field(default_factory=list)


def save_patches(halo: HaloClient, entity: str, patches: dict[str, dict[str, Any]]) -> PatchOutcome:
    """Updates (each carries its ``id``, so retrying is safe). One whose every retry lost its
    answer may still have landed: the record is read back, and an update found in it counts."""
    keys = list(patches)
    result = halo.save(entity, [patches[key] for key in keys])
    outcome = PatchOutcome()
    for key, error, unsent in zip(keys, result.errors, result.unsent, strict=True):
        if unsent:
            outcome.unsent.append(key)
        elif error is not None and not (_ambiguous(error) and _landed(halo, entity, patches[key])):
            outcome.failed[key], outcome.codes[key] = reason(error), error.code
    return outcome


def _ambiguous(error: IntegrationError) -> bool:
    """An error after which the write may have been applied (no answer, or a 5xx)."""
    if isinstance(error, RejectedError | OutOfTimeError):
        return False
    status = getattr(error, "status_code", None)
    return status is None or status >= 500


def _landed(halo: HaloClient, entity: str, patch: dict[str, Any]) -> bool:
    record_no = halo_id(patch.get("id"))
    if record_no is None:
        return False
    try:
        current = halo.get(entity, record_no)
    except IntegrationError:
        return False
    fields = {k: v for k, v in patch.items() if k != "id"}
    return current is not None and all(holds(value, current.get(k)) for k, value in fields.items())


def holds(ours: Any, theirs: Any) -> bool:
    """Whether Halo's value ``theirs`` holds what we wrote: Halo echoes values normalised (dates
    with a time, numbers as floats) and objects with more fields than we sent."""
    if isinstance(ours, dict):
        return isinstance(theirs, dict) and all(holds(v, theirs.get(k)) for k, v in ours.items())
    if isinstance(ours, list):
        return isinstance(theirs, list) and all(any(holds(o, t) for t in theirs) for o in ours)
    if ours is None or ours == "":
        return theirs in (None, "")
    if isinstance(ours, bool) or isinstance(theirs, bool):
        return bool(ours) == bool(theirs)
    if isinstance(ours, int | float) and isinstance(theirs, int | float):
        return float(ours) == float(theirs)
    text, other = str(ours).strip(), str(theirs if theirs is not None else "").strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        return other[:10] == text
    return text == other
