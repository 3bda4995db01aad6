"""What `make serve` keeps between starts and how: read before anything starts, put back into the
new moto resources and the Halo fake, and saved while running (every few seconds, when something
changed) and on stop. Tests' runners (`LocalApp` without a state file) keep nothing."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from local.aws import LocalAws
from local.serve.state_file import StateFile
from local.serve.upstreams import UpstreamTargetsInUse, describe
from local.state_shape import HALO_FAKE_TABLES, STATE_VERSION, TableKeys, template_problem
from local.template import Template

if TYPE_CHECKING:
    from local.fakes import HaloFake

# How often a changed state is saved while running: a crash or `kill -9` loses at most this much.
SAVE_EVERY_SECONDS = 2.0
# What a run the runner stopped under says (its queued work is not kept: SQS is not saved).
STOPPED_RUN_ERROR = "The local runner stopped before this run finished; its queued work was not kept."
STOPPED_RUN_HINT = "Start the run again."

log = logging.getLogger(__name__)
Items = dict[str, list[dict[str, Any]]]  # a table's items (DynamoDB JSON), by logical id


class KeptState:
    """The state a runner keeps in its `StateFile` (``file``; None: none is kept).

    ``seed``: the runner seeds settings, so its stale locks and runs are cleared on restore and
    a state made against other upstreams is set aside; ``planned_upstreams``: the names of the
    upstreams this start will use (`upstreams.planned_names`); ``fresh``: discard the file first.
    """

    def __init__(
        self,
        file: StateFile | None,
        template: Template,
        aws: LocalAws,
        upstreams: UpstreamTargetsInUse,
        *,
        fresh: bool,
        seed: bool,
    ) -> None:
        self.file, self.fresh, self.seed = file, fresh, seed
        self._template, self._aws, self._upstreams = template, aws, upstreams
        # What the last start seeded, by setting (fingerprints; see `upstreams.seed_settings`).
        self.seeded: dict[str, str] = {}
        self.restored_items: int | None = None  # None: no state was restored
        self.stopped_runs: list[str] = []  # runs the previous runner left queued or running
        self._saving = False  # saving would not lose what the file holds
        self._saved_writes: tuple[int, int] | None = None
        self._saved_halo: dict[str, dict[str, Any]] | None = None  # to restore, not sample data
        self._saved_upstreams: dict[str, str] = {}
        self._to_restore: dict[str, Any] | None = None  # read before moto starts
        self._lock = threading.Lock()

    def read(self, planned_upstreams: Callable[[], dict[str, str]]) -> None:
        """Before anything starts: what of the saved state to restore. A file that could not be
        restored whole is refused (the next save would drop what was left out); one made
        against other upstreams is set aside."""
        self.seeded, self.restored_items, self.stopped_runs = {}, None, []
        self._saved_writes = None  # the new stack counts its writes from 0: save once at least
        self._saved_halo, self._saved_upstreams, self._to_restore = None, {}, None
        if self.file is None:
            return
        self.file.lock()
        if self.fresh:
            self.file.discard()
            return
        state = self.file.load()
        if state is None:
            return
        saved, now = dict(state.get("upstreams") or {}), planned_upstreams()
        if self.seed and saved and now and saved != now:
            # Another Dicker Data or Halo: its mappings and links name another Halo's records.
            # Kept aside, not loaded, so nothing stale is written to the Halo in use.
            aside = self.file.set_aside()
            log.warning(
                "The saved state was made against %s; this start uses %s: starting fresh (the old "
                "state is kept in %s).",
                describe(saved),
                describe(now),
                aside,
            )
            return
        tables = {res.logical_id: TableKeys.of(res.properties) for res in self._template.tables}
        secrets = [res.logical_id for res in self._template.secrets]
        if problem := template_problem(state, tables, secrets):
            raise self.file.refuse(problem)
        self._to_restore = state
        self.seeded = dict(state.get("seeded") or {})
        self._saved_halo = (state.get("fakes") or {}).get("halo")
        self._saved_upstreams = saved

    def restore(self) -> None:
        """Before seeding: put the saved items and secrets back into the new moto resources."""
        state, self._to_restore = self._to_restore, None
        if state is None or self.file is None:
            return
        tables: Items = dict(state.get("tables") or {})
        if self.seed:
            tables = {lid: _without_locks(items) for lid, items in tables.items()}
        try:
            self.restored_items = self._aws.restore({**state, "tables": tables})
        except (BotoCoreError, ClientError) as exc:  # what the checks of its shape do not foresee
            raise self.file.refuse(f"moto refused to restore it ({' '.join(str(exc).split())})") from None
        if self.seed:
            self._fail_stopped_runs(tables)

    def _fail_stopped_runs(self, tables: Items) -> None:
        """A run left queued or running by the stopped runner will never go on (its queue
        messages are not saved): it is marked failed, saying so, and may be started again."""
        from ddhalo.store import Store

        table = os.environ.get("TABLE_NAME")
        if not table:
            return
        store = Store(table)
        for lid, items in tables.items():
            if self._aws.resolver.refs.get(lid) != table:
                continue
            for run_id in _unfinished_runs(items):
                failed = store.set_run_status(
                    run_id,
                    "failed",
                    error=STOPPED_RUN_ERROR,
                    hint=STOPPED_RUN_HINT,
                    only_if=("queued", "running"),
                )
                if failed:
                    self.stopped_runs.append(run_id)
        if self.stopped_runs:
            log.warning(
                "%d run(s) the last local runner left unfinished are marked failed: %s",
                len(self.stopped_runs),
                ", ".join(self.stopped_runs),
            )

    def fill_halo(self, fake: HaloFake) -> None:
        """The bundled Halo fake starts with what it held when the last runner stopped, else
        with the sample data."""
        from local.fakes.sample_data import sample_halo

        if self._saved_halo is None:
            sample_halo(fake)
            return
        with fake.lock:
            for name in HALO_FAKE_TABLES:
                setattr(fake, name, {int(k): v for k, v in (self._saved_halo.get(name) or {}).items()})

    def warn_of_other_upstreams(self) -> None:
        """After seeding: say so when the restored state was made against other upstreams."""
        now = self._upstreams.names()
        if self._saved_upstreams and self._saved_upstreams != now:
            log.warning(
                "The saved state was made against %s; this start uses %s: its mappings and links may "
                "not fit (make serve FRESH=1 starts over).",
                describe(self._saved_upstreams),
                describe(now),
            )

    def saver(self, stopping: threading.Event) -> StateSaver | None:
        """Once the runner has started: the thread that saves while it runs (None: no file)."""
        if self.file is None:
            return None
        self._saving = True  # only a runner that started saves (it holds the state)
        return StateSaver(self, stopping)

    def save(self) -> bool:
        """Save the tables' items, the secrets and the Halo fake's records when something changed
        since the last save; answers whether it wrote. Only a started runner saves."""
        return self._saving and self._write()

    def stop(self) -> None:
        """The last save (its threads have stopped), then let go of the file."""
        saving, self._saving = self._saving, False
        if saving:
            try:
                self._write()
            except Exception:
                log.exception("saving the local state to %s failed", self.file)
        if self.file is not None:
            self.file.unlock()

    def _write(self) -> bool:
        if self.file is None:
            return False
        halo_fake = self._upstreams.halo_fake()
        with self._lock:
            writes = (self._aws.writes, halo_fake.writes if halo_fake is not None else 0)
            if writes == self._saved_writes:
                return False
            state: dict[str, Any] = {
                "version": STATE_VERSION,
                "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "note": "make serve's local state; it holds the credentials in plain text.",
                **self._aws.snapshot(),
                "seeded": self.seeded,
                "upstreams": self._upstreams.names(),
            }
            if halo_fake is not None:
                state["fakes"] = {"halo": _fake_records(halo_fake)}
            self.file.save(state)
            self._saved_writes = writes
        return True


def _without_locks(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Locks (the Halo lock, job leases, the settings mutex) were held by the stopped runner's
    work: none of it runs any more, so none of them is restored."""
    from ddhalo.store.locks import LOCK_PK

    return [item for item in items if item.get("pk") != {"S": LOCK_PK}]


def _unfinished_runs(items: list[dict[str, Any]]) -> list[str]:
    """The ids of the runs among a table's items that were queued or running."""
    from ddhalo.store.table import RUN_SK

    found = []
    for item in items:
        if item.get("sk") != {"S": RUN_SK} or "run_id" not in item:
            continue
        if item.get("status", {}).get("S") not in ("queued", "running"):
            continue
        run_id = item["run_id"].get("S")
        if isinstance(run_id, str):
            found.append(run_id)
    return found


def _fake_records(fake: HaloFake) -> dict[str, dict[str, Any]]:
    """The Halo fake's tables as JSON-ready data (record ids as strings)."""
    with fake.lock:
        tables = {name: {str(k): v for k, v in getattr(fake, name).items()} for name in HALO_FAKE_TABLES}
        copied: dict[str, dict[str, Any]] = json.loads(json.dumps(tables))
    return copied


class StateSaver(threading.Thread):
    """Saves the state every few seconds when something changed."""

    def __init__(self, kept: KeptState, stopping: threading.Event) -> None:
        super().__init__(name="local-state", daemon=True)
        self.kept, self.stopping = kept, stopping

    def run(self) -> None:
        pause = SAVE_EVERY_SECONDS
        while not self.stopping.wait(pause):
            started = time.monotonic()
            try:
                self.kept.save()
            except Exception:
                log.exception("saving the local state to %s failed", self.kept.file)
            # A large state takes a while to copy: never spend more than a fifth of the time on it.
            pause = max(SAVE_EVERY_SECONDS, 4 * (time.monotonic() - started))
