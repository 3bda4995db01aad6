"""Halo's write side in memory, scripted: ``save`` answers each call from the next script the test
gives, record by record, and keeps what it says landed, so a test sees whether a record was created
once or twice; ``get`` answers what it holds. Each test file subclasses it for the reads its step
makes (``clients()``, ``licences()``, ...) and for how its records are keyed."""

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ddhalo.errors import CredentialError, IntegrationError, OutOfTimeError, RejectedError, UpstreamError
from ddhalo.halo.saving import SaveResult

SAVED = "saved"  # Halo saved it and answered it
LANDED = "landed"  # Halo saved it, but its answer was lost (HTTP 500)
NO_ID = "no id"  # Halo saved it, but answered it without a usable id


def lost(message: str = "Halo answered HTTP 500 for POST /Client: boom") -> UpstreamError:
    """An answer lost on the way back: the record may have landed."""
    return UpstreamError(message, "Try again later.", system="Halo", status_code=500)


def unsent() -> OutOfTimeError:
    """What a record not sent for lack of time is scripted with."""
    return OutOfTimeError("Halo: waiting for its rate limit would outlast this invocation.")


def rejected(why: str, entity: str = "Client") -> RejectedError:
    """Halo refusing a record outright (HTTP 400)."""
    return RejectedError(f"Halo rejected POST /{entity}: {why}", None, system="Halo", status_code=400)


class ScriptedHalo:
    """A script maps a record's key (``key``: its ``id`` for a patch, its ``name`` for a create) to
    what happens to it: SAVED, LANDED, NO_ID, or an error (``OutOfTimeError``: it is not sent;
    ``CredentialError``: not sent, and the result says the run ``stopped``).

    Lenient by default: a record the script leaves out is saved, and so is every record once the
    scripts run out; a call with nothing to save sends nothing, as ``HaloClient.save`` does.
    ``strict``: every call needs a script naming exactly the keys sent.

    ``held`` is what Halo holds at the start, by entity; created records get ids 101, 102, ....
    ``writes`` are the records each call sent, ``events`` every call made, in order: ``("save",
    keys)``, ``("get", [id])`` and ``("settle", [sent_at])`` (the n-th save was sent at time n)."""

    def __init__(
        self,
        *scripts: dict[Any, Any],
        held: Mapping[str, Iterable[dict[str, Any]]] | None = None,
        strict: bool = False,
        write_batch: int = 100,
    ) -> None:
        self.scripts = list(scripts)
        self.strict = strict
        self.write_batch = write_batch
        self.held: dict[str, dict[int, dict[str, Any]]] = {
            entity: {r["id"]: dict(r) for r in records} for entity, records in (held or {}).items()
        }
        self.writes: list[tuple[str, list[dict[str, Any]]]] = []
        self.events: list[tuple[str, list[Any]]] = []
        self.get_error: IntegrationError | None = None
        # ``settle`` raises this (time ran out waiting for a lost write to be saved).
        self.settle_error: IntegrationError | None = None
        self.settle_seconds = 300.0
        self._next_id = 100
        self._calls = 0

    def key(self, record: dict[str, Any]) -> Any:
        return record.get("id") or record["name"]

    def save(self, entity: str, records: Sequence[dict[str, Any]]) -> SaveResult:
        keys = [self.key(r) for r in records]
        self.events.append(("save", keys))
        result = SaveResult()
        if not records and not self.strict:
            return result
        self._calls += 1
        script = self._next_script(keys)
        self.writes.append((entity, [dict(r) for r in records]))
        for key, record in zip(keys, records, strict=True):
            answer = script.get(key, SAVED)
            saved, error, not_sent = None, None, False
            if isinstance(answer, OutOfTimeError):
                not_sent = True
            elif isinstance(answer, CredentialError):  # as HaloClient.save: unsent, and stopped
                not_sent = True
                result.stopped = answer
            elif answer in (SAVED, LANDED, NO_ID):
                kept = self._keep(entity, record)
                if answer == SAVED:
                    saved = kept
                elif answer == LANDED:
                    error = lost()
                else:
                    saved = {**kept, "id": 0}
            else:
                error = answer
            result.saved.append(saved)
            result.errors.append(error)
            result.unsent.append(not_sent)
            result.sent_at.append(float(self._calls))
        return result

    def settle(self, sent_at: float) -> None:
        """Recorded as ``("settle", [sent_at])``: the n-th save call was sent at time n."""
        self.events.append(("settle", [sent_at]))
        if self.settle_error is not None:
            raise self.settle_error

    def get(self, entity: str, record_id: int) -> dict[str, Any] | None:
        self.events.append(("get", [record_id]))
        if self.get_error is not None:
            raise self.get_error
        found = self.held.get(entity, {}).get(record_id)
        return dict(found) if found is not None else None

    def _next_script(self, keys: list[Any]) -> dict[Any, Any]:
        if not self.strict:
            return self.scripts.pop(0) if self.scripts else {}
        assert self.scripts, f"sent {keys}, nothing scripted"
        script = self.scripts.pop(0)
        assert sorted(script, key=str) == sorted(keys, key=str), f"sent {keys}, scripted {list(script)}"
        return script

    def _keep(self, entity: str, record: dict[str, Any]) -> dict[str, Any]:
        held = self.held.setdefault(entity, {})
        if record.get("id"):
            held[record["id"]] = {**held.get(record["id"], {}), **record}
            return dict(held[record["id"]])
        self._next_id += 1
        held[self._next_id] = {**record, "id": self._next_id}
        return dict(held[self._next_id])
