"""Writing a plan to Halo safely, shared by every entity's apply step.

A create batch whose answer was lost (timeout, 500/502/504) may have landed, or may land later (a
busy Halo saves after we gave up), so it is never re-sent blindly: once Halo has had the settle
window since it was sent, Halo is read again, records carrying our marker are adopted, and only
the rest is created again. A patch whose every answer was lost is read back.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ddhalo.errors import CredentialError, IntegrationError, OutOfTimeError, RejectedError, UpstreamError
from ddhalo.halo.client import HaloClient
from ddhalo.halo.records import halo_id
from ddhalo.models import RunItem
from ddhalo.pipeline.compare import holds

CREATE_ROUNDS = 3


@dataclass
class Applied[T]:
    """What an apply step did: one item per record done, and the work it had no time left for
    (handed to a follow-up job, which reports those records)."""

    items: list[RunItem] = field(default_factory=list)
    remaining: list[T] = field(default_factory=list)
    # Halo refused the credentials: the records not done are failed items, and the run stops.
    stopped: CredentialError | None = None
    # The latest send among ``remaining`` whose answer was lost (epoch seconds): its follow-up
    # waits until Halo has had the settle window since, so what landed late is seen.
    lost_at: float | None = None

    def lost(self, sent_at: float | None) -> None:
        if sent_at is not None:
            self.lost_at = max(self.lost_at or sent_at, sent_at)

    def absorb(self, part: Applied[T]) -> None:
        """Add what another part of the same step did."""
        self.items += part.items
        self.remaining += part.remaining
        self.stopped = self.stopped or part.stopped
        self.lost(part.lost_at)


def record_id(record: dict[str, Any]) -> int | None:
    """A saved record's id, when Halo answered a real one (not null, not "abc", not 0)."""
    return halo_id(record.get("id"))


def reason(error: IntegrationError) -> str:
    """An error as a run item's reason: what went wrong, then what to do about it."""
    return f"{error.message} {error.hint}" if error.hint else error.message


@dataclass
class CreateOutcome:
    """Per key: the saved (or adopted) Halo record, or why it failed, or (time ran out in this
    invocation) unfinished, with when its lost write was sent (None: nothing of it was sent, or
    nothing is in doubt), so that a follow-up looks for it no sooner than Halo may save it."""

    saved: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # per failed key: the error's code
    unfinished: dict[str, float | None] = field(default_factory=dict)
    # Halo refused the credentials: what was not sent is unfinished, and nothing more is tried.
    stopped: CredentialError | None = None


# Given a key just saved (or adopted) and its Halo record: the records that were waiting for it
# (an add-on needs its base's id), now ready to be created.
Release = Callable[[str, dict[str, Any]], dict[str, dict[str, Any]]]
# Given lost keys: Halo read again, one part per read, each part the keys it settles and the
# Halo records of those of them that landed (found by our marker). Parts let a job whose time runs
# out keep what it found: a lookup larger than one invocation would start again in every follow-up.
Finder = Callable[[Sequence[str]], Iterator[tuple[Sequence[str], dict[str, dict[str, Any]]]]]


@dataclass
class _Creates:
    """The state of one ``create_reconciled``: what is ready to send, what lost its answer and
    waits for the settle window (key → when it was sent), how often each was sent."""

    records: dict[str, dict[str, Any]]
    ready: list[str]
    settling: dict[str, float]
    outcome: CreateOutcome = field(default_factory=CreateOutcome)
    sends: Counter[str] = field(default_factory=Counter)
    last_error: dict[str, IntegrationError] = field(default_factory=dict)

    def stop(self) -> CreateOutcome:
        """Time ran out: what is still in doubt is unfinished with when it was sent."""
        self.outcome.unfinished.update(self.settling)
        self.outcome.unfinished.update(dict.fromkeys(self.ready))
        return self.outcome


def create_reconciled(
    halo: HaloClient,
    entity: str,
    records: dict[str, dict[str, Any]],
    find_landed: Finder,
    unsure: Mapping[str, float] | None = None,
    release: Release | None = None,
) -> CreateOutcome:
    """Create ``records`` (key → record, in the order to send) a batch at a time; ``find_landed(keys)``
    re-reads Halo for lost ones (``Finder``). ``unsure``: keys an earlier job sent whose answer was
    lost (key → when sent): looked for first. ``release``: the records a saved one was holding
    back, sent next.

    Nothing is sent twice while it may still land: a batch whose answer was lost is looked for
    once Halo has had the settle window since it was sent (``HaloClient.settle``; other batches go
    on meanwhile), and sent again only if it is not there. Nothing is reported failed while it may
    be in Halo: after its last attempt it is looked for once more; if Halo cannot be read, or time
    runs out, it is left unfinished (for a follow-up job) rather than called failed.
    """
    waiting = {k: t for k, t in (unsure or {}).items() if k in records}
    state = _Creates(dict(records), [k for k in records if k not in waiting], waiting)
    while state.ready or state.settling:
        if state.ready:
            if not _send_batch(halo, entity, state, release):
                return state.stop()
        elif not _look_for_lost(halo, state, find_landed, release):
            return state.stop()
    return state.outcome


def _adopt(state: _Creates, key: str, record: dict[str, Any], release: Release | None) -> None:
    state.outcome.saved[key] = record
    if release is not None and (freed := release(key, record)):
        state.records.update(freed)
        state.ready[:0] = list(freed)  # first, so they share the next batch instead of ending one


def _send_batch(halo: HaloClient, entity: str, state: _Creates, release: Release | None) -> bool:
    """Send the next batch of what is ready; False when time ran out before all of it was sent."""
    batch, state.ready = state.ready[: halo.write_batch], state.ready[halo.write_batch :]
    state.sends.update(batch)
    result = halo.save(entity, [state.records[key] for key in batch])
    answers = zip(batch, result.saved, result.errors, result.unsent, result.sent_at, strict=True)
    out_of_time = False
    for key, record, error, unsent, sent_at in answers:
        if unsent:  # not sent: out of time, or Halo refused the credentials (``stopped``)
            state.ready.append(key)
            out_of_time = True
        elif error is None and record and record_id(record) is not None:
            _adopt(state, key, record, release)
        elif isinstance(error, RejectedError):
            state.outcome.failed[key], state.outcome.codes[key] = reason(error), error.code
        else:
            # No usable id: the record may exist, or be saved yet; Halo is read once it had time.
            state.last_error[key] = error or UpstreamError("Halo answered without a usable id.")
            state.settling[key] = sent_at
    state.outcome.stopped = result.stopped
    return not out_of_time


def _look_for_lost(halo: HaloClient, state: _Creates, find_landed: Finder, release: Release | None) -> bool:
    """Once the settle window of every lost write has passed, adopt what landed and make the rest
    ready again (or failed, after its last attempt), a read at a time. False when time ran out,
    Halo could not be read or it refused the credentials (``stopped`` says so); what the reads so
    far settled stays settled, the rest is handed on."""
    try:
        halo.settle(max(state.settling.values()))
        for part, landed in find_landed(list(state.settling)):
            for key in part:
                if state.settling.pop(key, None) is not None:
                    _resolve(state, key, landed.get(key), release)
    except CredentialError as exc:
        state.outcome.stopped = exc
        return False
    except IntegrationError:  # out of time, or Halo unreadable: a follow-up looks for the rest
        return False
    for key in list(state.settling):  # a finder that did not answer for a key: not found
        del state.settling[key]
        _resolve(state, key, None, release)
    return True


def _resolve(state: _Creates, key: str, landed: dict[str, Any] | None, release: Release | None) -> None:
    """A lost key, looked for once Halo had time to save it: adopted when found, else ready to be
    sent again, or failed after its last attempt."""
    if landed is not None:
        _adopt(state, key, landed, release)
    elif state.sends[key] >= CREATE_ROUNDS:  # looked for after its last attempt: not in Halo
        error = state.last_error.get(key, UpstreamError("Not created."))
        state.outcome.failed[key], state.outcome.codes[key] = reason(error), error.code
    else:
        state.ready.append(key)


@dataclass
class PatchOutcome:
    """Keys whose update failed (with why), and keys left unsent for lack of time, or because
    Halo refused the credentials (``stopped``)."""

    failed: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # per failed key: the error's code
    unsent: list[str] = field(default_factory=list)
    stopped: CredentialError | None = None


def save_patches(halo: HaloClient, entity: str, patches: dict[str, dict[str, Any]]) -> PatchOutcome:
    """Updates (each carries its ``id``, so retrying is safe). One whose every retry lost its
    answer may still have landed: the record is read back, and an update found in it counts."""
    keys = list(patches)
    result = halo.save(entity, [patches[key] for key in keys])
    outcome = PatchOutcome(stopped=result.stopped)
    for key, error, unsent in zip(keys, result.errors, result.unsent, strict=True):
        if unsent:
            outcome.unsent.append(key)
        elif error is not None and not (_ambiguous(error) and _landed(halo, entity, patches[key], outcome)):
            outcome.failed[key], outcome.codes[key] = reason(error), error.code
    return outcome


def _ambiguous(error: IntegrationError) -> bool:
    """An error after which the write may have been applied (no answer, or a 5xx)."""
    if isinstance(error, RejectedError | OutOfTimeError):
        return False
    status = getattr(error, "status_code", None)
    return status is None or status >= 500


def _landed(halo: HaloClient, entity: str, patch: dict[str, Any], outcome: PatchOutcome) -> bool:
    record_no = halo_id(patch.get("id"))
    if record_no is None:
        return False
    try:
        current = halo.get(entity, record_no)
    except CredentialError as exc:
        outcome.stopped = exc
        return False
    except IntegrationError:
        return False
    fields = {k: v for k, v in patch.items() if k != "id"}
    return current is not None and all(holds(value, current.get(k)) for k, value in fields.items())
