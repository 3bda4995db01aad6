"""The integrator's trigger on moto: the settings decide what a sync does, the Halo lock is taken
at the trigger (a sync that meets another run is recorded as skipped), and a lock held too long is
reported as stuck."""

import time

import pytest

from ddhalo.errors import InputError
from ddhalo.jobs.job import Job
from ddhalo.pipeline.options import CustomerOptions, SubscriptionOptions, SyncOptions
from ddhalo.queue import ListDispatcher
from ddhalo.runs.halo_lock import HALO_LOCK, LOCK_TTL
from ddhalo.runs.runner import Runner
from ddhalo.settings.model import IntegratorSettings, Settings
from ddhalo.sync import STUCK_AFTER, start_sync, stuck_sync, sync_options, verify_due


@pytest.fixture
def runner(store, secrets):
    return Runner(store, secrets)


def settings(customers: bool = True, subscriptions: bool = True, **extra) -> Settings:
    integrator = IntegratorSettings(sync_customers=customers, sync_subscriptions=subscriptions)
    return Settings(integrator=integrator, **extra)


# ---------------------------------------------------------------------------------- options
def test_sync_options_default_to_everything_with_the_settings_rules():
    options = sync_options(settings(top_level_id=4, update_main_site_address=True), None, None)
    assert options == SyncOptions(
        customers=True,
        subscriptions=True,
        customer_options=CustomerOptions(
            delta=True, customer_ids=None, top_level_id=4, update_main_site_address=True
        ),
        subscription_options=SubscriptionOptions(delta=True),
    )


def test_a_verify_reads_everything():
    options = sync_options(settings(), None, None, verify=True)
    assert options.verify and not options.customer_options.delta and not options.subscription_options.delta


def test_the_first_sync_verifies_then_plain_syncs_until_a_verify_is_due(runner, store):
    plain = settings()
    assert verify_due(runner, plain, now=1_000_000.0) is True  # never verified
    store.mark_verified("r0")
    verified_at = store.last_verified()
    assert verify_due(runner, plain, now=verified_at + 23 * 3600) is False
    assert verify_due(runner, plain, now=verified_at + 24 * 3600) is True
    hourly = settings()
    hourly.integrator.verify_every_hours = 1
    assert verify_due(runner, hourly, now=verified_at + 3600) is True


def test_a_sync_says_whether_it_verifies_and_a_finished_verify_is_remembered(runner, store):
    first = start_sync(runner, ListDispatcher(), settings(), "schedule")
    assert first.run.verify is True and store.get_run(first.run.run_id).verify is True
    runner.store.release_lock(HALO_LOCK, first.run.run_id)
    asked = start_sync(runner, ListDispatcher(), settings(), "api", verify=False)
    assert asked.run.verify is False and asked.run.options["subscription_options"]["delta"] is True


@pytest.mark.parametrize(
    ("stored", "asked", "expected"),
    [
        ((True, False), (None, None), (True, False)),
        ((False, True), (None, None), (False, True)),
        ((False, False), (True, None), (True, False)),
        ((True, True), (False, None), (False, True)),
        ((True, True), (None, False), (True, False)),
        ((False, False), (True, True), (True, True)),
    ],
)
def test_an_explicit_choice_wins_over_the_settings(stored, asked, expected):
    options = sync_options(settings(*stored), *asked)
    assert (options.customers, options.subscriptions) == expected


@pytest.mark.parametrize(
    ("stored", "asked"), [((False, False), (None, None)), ((True, True), (False, False))]
)
def test_nothing_to_sync_is_refused(stored, asked):
    with pytest.raises(InputError, match="both switched off"):
        sync_options(settings(*stored), *asked)


# ---------------------------------------------------------------------------------- start
def test_a_sync_with_halo_free_is_queued_holding_the_lock(runner, store):
    dispatcher = ListDispatcher()
    start = start_sync(runner, dispatcher, settings(top_level_id=4), "schedule")
    assert start.started is True and start.running_run_id is None
    run = store.get_run(start.run.run_id)
    assert (run.kind, run.status, run.trigger, run.dry_run) == ("sync", "queued", "schedule", False)
    assert run.options["customer_options"]["top_level_id"] == 4
    assert dispatcher.jobs == [Job(run_id=run.run_id, kind="sync", phase="customers", chunk=0).model_dump()]
    assert dispatcher.delays == [0]
    lock = store.get_lock(HALO_LOCK)
    assert (lock["owner"], lock["kind"]) == (run.run_id, "sync")


def test_a_sync_of_subscriptions_only_starts_with_their_plan(runner):
    dispatcher = ListDispatcher()
    start = start_sync(runner, dispatcher, settings(), "api", customers=False)
    (job,) = dispatcher.jobs
    assert (job["run_id"], job["phase"], job["index"], job["generation"]) == (
        start.run.run_id,
        "plan-subscriptions",
        0,
        0,
    )


@pytest.mark.parametrize(
    ("kind", "what"),
    [("sync", "sync"), ("customers", "customers run"), ("subscriptions", "subscriptions run"), (None, "run")],
)
def test_a_sync_meeting_another_run_is_recorded_as_skipped(runner, store, kind, what):
    assert store.acquire_lock(HALO_LOCK, "other-run", LOCK_TTL, **({"kind": kind} if kind else {})) is None
    dispatcher = ListDispatcher()
    start = start_sync(runner, dispatcher, settings(), "schedule")
    assert start.started is False and start.running_run_id == "other-run"
    assert start.run.skipped_reason == f"Skipped: {what} other-run is still running."
    assert store.get_run(start.run.run_id) == start.run
    assert start.run.status == "skipped" and start.run.finished_at is not None
    assert start.run.running_run_id == "other-run"
    assert dispatcher.jobs == []
    assert store.get_lock(HALO_LOCK)["owner"] == "other-run"  # untouched


def test_nothing_to_sync_creates_no_run(runner, store):
    dispatcher = ListDispatcher()
    with pytest.raises(InputError):
        start_sync(runner, dispatcher, settings(False, False), "schedule")
    assert store.list_runs() == ([], None) and dispatcher.jobs == []
    assert store.get_lock(HALO_LOCK) is None


# ---------------------------------------------------------------------------------- stuck
def test_no_lock_is_not_stuck(runner):
    assert stuck_sync(runner) is None


def test_a_lock_kept_alive_longer_than_stuck_after_names_its_owner(runner, store):
    began = time.time()
    store.acquire_lock(HALO_LOCK, "slow-run", LOCK_TTL, now=began, kind="sync")
    later = began + STUCK_AFTER + 60
    store.acquire_lock(HALO_LOCK, "slow-run", LOCK_TTL, now=later)  # its jobs kept extending it
    assert stuck_sync(runner, now=later + 1) == "slow-run"


def test_an_expired_lock_is_not_stuck_its_holder_died(runner, store):
    began = time.time()
    store.acquire_lock(HALO_LOCK, "dead-run", LOCK_TTL, now=began)
    assert stuck_sync(runner, now=began + STUCK_AFTER + 60) is None


def test_a_lock_held_less_than_stuck_after_is_not_stuck(runner, store):
    began = time.time()
    store.acquire_lock(HALO_LOCK, "busy-run", STUCK_AFTER + LOCK_TTL, now=began)
    assert stuck_sync(runner, now=began + 60) is None
    assert stuck_sync(runner, now=began + STUCK_AFTER - 60) is None
