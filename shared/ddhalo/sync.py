"""The integrator: one sync at a time, from the schedule or ``POST /sync``, as the settings say.

A sync is a run of kind ``sync``: customers (all of them) then subscriptions (all mapped
customers), each switchable, regardless of earlier manual choices. A plain sync reads Dicker Data
whole and Halo only for what changed (what we wrote is in DynamoDB); a *verify* reads both sides
whole and corrects drift made in Halo by hand: on demand, every ``verify_every_hours``, and first.
The Halo lock (one writing run at a time, ``runs.HALO_LOCK``) is taken at the trigger: a trigger
that finds it taken is recorded as a skipped run, and a lock held longer than ``STUCK_AFTER`` is
reported so an alarm can fire.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from ddhalo.errors import InputError
from ddhalo.import_requests import subscription_options
from ddhalo.jobs.start import begin
from ddhalo.models import Run, RunTrigger
from ddhalo.pipeline.options import CustomerOptions, SyncOptions
from ddhalo.queue import Dispatcher
from ddhalo.runs.halo_lock import HALO_LOCK
from ddhalo.runs.runner import Runner
from ddhalo.settings.model import Settings

# A run that still holds the Halo lock after this long has stopped making progress.
STUCK_AFTER = 2 * 3600


@dataclass
class SyncStart:
    run: Run
    started: bool
    running_run_id: str | None = None


def sync_options(
    settings: Settings, customers: bool | None, subscriptions: bool | None, verify: bool = False
) -> SyncOptions:
    want_customers = settings.integrator.sync_customers if customers is None else customers
    want_subscriptions = settings.integrator.sync_subscriptions if subscriptions is None else subscriptions
    if not (want_customers or want_subscriptions):
        raise InputError(
            "Nothing to sync: customers and subscriptions are both switched off.",
            'Send {"customers": true} or {"subscriptions": true}, '
            "or switch one on in the integrator settings.",
        )
    return SyncOptions(
        customers=want_customers,
        subscriptions=want_subscriptions,
        verify=verify,
        # All customers, with the settings' top level and address choice: the schedule's rules.
        customer_options=CustomerOptions.from_settings(settings, delta=not verify),
        subscription_options=subscription_options(settings, delta=not verify),
    )


def verify_due(runner: Runner, settings: Settings, now: float | None = None) -> bool:
    """A sync verifies when asked, else when the last verify is ``verify_every_hours`` old, or
    when none ever finished (a first sync trusts nothing it did not write)."""
    last = runner.store.last_verified()
    now = time.time() if now is None else now
    return last is None or now - last >= settings.integrator.verify_every_hours * 3600


def start_sync(
    runner: Runner,
    dispatcher: Dispatcher,
    settings: Settings,
    trigger: RunTrigger,
    *,
    customers: bool | None = None,
    subscriptions: bool | None = None,
    verify: bool | None = None,
) -> SyncStart:
    """``verify``: None decides as the schedule does (:func:`verify_due`)."""
    verify = verify_due(runner, settings) if verify is None else verify
    options = sync_options(settings, customers, subscriptions, verify)
    run = runner.create("sync", options, dry_run=False, trigger=trigger)
    # Taken now, not by the first job: a sync that meets another run is skipped, not queued.
    holder = runner.hold_halo(run)
    if holder is not None:
        held = runner.store.get_lock(HALO_LOCK) or {}
        kind = held.get("kind")
        what = "sync" if kind == "sync" else (f"{kind} run" if kind else "run")
        reason = f"Skipped: {what} {holder} is still running."
        runner.store.set_run_status(run.run_id, "skipped", skipped_reason=reason, running_run_id=holder)
        return SyncStart(runner.store.get_run(run.run_id) or run, started=False, running_run_id=holder)
    return SyncStart(begin(runner, dispatcher, run), started=True)


def stuck_sync(runner: Runner, now: float | None = None) -> str | None:
    """The run id of a run holding the Halo lock for longer than ``STUCK_AFTER``, if any."""
    lock = runner.store.get_lock(HALO_LOCK)
    now = time.time() if now is None else now
    if not lock or int(lock.get("expires_at") or 0) < now:  # free, or its holder died
        return None
    acquired = datetime.fromisoformat(str(lock.get("acquired_at", "")).replace("Z", "+00:00")).timestamp()
    return str(lock["owner"]) if now - acquired > STUCK_AFTER else None
