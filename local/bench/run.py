"""One size: a fresh world seeded, then each scenario's sync (config.SCENARIOS) measured and checked."""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from local.bench.config import FINISHED, SCENARIOS, SYNC_FUNCTION, WORKER_FUNCTION, BenchConfig, Scenario
from local.bench.fakes import FakesProcess
from local.bench.minimum import Writes, minimum_plain, minimum_verify, needed_writes
from local.bench.results import JobReport, SizeResult, SyncResult
from local.bench.workers import Meter, WorkerPool
from local.client import LocalApi


def _items_of(api: LocalApi, run_id: str) -> dict[str, int]:
    """The run's items, counted per "<type> <result>"."""
    counts: Counter[str] = Counter()
    token: str | None = None
    while True:
        page = api.json("GET", f"/runs/{run_id}", limit=1000, **({"next_token": token} if token else {}))
        counts.update(f"{item['type']} {item['result']}" for item in page["items"])
        token = page.get("next_token")
        if not token:
            return dict(counts)


def _mapping() -> dict[str, int]:
    """Dicker Data customer id → Halo client id, as the product mapped them (DynamoDB)."""
    from ddhalo.store import Store

    return {m.dicker_customer_id: m.halo_client_id for m in Store(os.environ["TABLE_NAME"]).list_mappings()}


def _sync(
    scenario: Scenario,
    api: LocalApi,
    fakes: FakesProcess,
    pool: WorkerPool,
    config: BenchConfig,
    settings: dict[str, Any],
    needed: Writes,
    warm: set[int],
    lookups: int = 0,
) -> SyncResult:
    """One ``POST /sync`` of ``scenario``, measured; ``warm``: the worker containers that hold a
    Halo token already (updated with those this sync gave one)."""
    label = scenario.label
    before = fakes.call("stats")
    fakes.call("reset")
    pool.take_jobs()
    run_id = api.json("POST", "/sync", scenario.body)["run_id"]
    run = _wait(run_id, config, label)
    wall = _iso_seconds(str(run.finished_at)) - _iso_seconds(run.started_at)
    after = fakes.call("stats")
    jobs = pool.take_jobs()
    items = _items_of(api, run_id)
    # A token per container that called Halo without one (fresh worker processes per size).
    cold = {j.container for j in jobs if (j.halo_calls or 0) > 0} - warm
    warm |= cold
    minimum = _minimum(scenario, before, settings, needed, jobs, tokens=len(cold), lookups=lookups)
    return SyncResult(
        label=label,
        status=run.status,
        wall_seconds=wall,
        halo_calls=after["halo_calls"],
        halo_calls_by_app=run.halo_calls,
        halo_minimum=minimum["total"],
        minimum_parts=minimum,
        halo_writes=after["halo_writes"],
        halo_throttled=after["halo_throttled"],
        halo_by_endpoint=after["halo_by_endpoint"],
        dicker_data_calls=after["dd_calls"],
        items=items,
        jobs=sorted(jobs, key=lambda j: j.chunk),
        halo_clients_before=before["clients"],
        halo_licences_before=before["licences"],
        kind=scenario.kind,
        verify=run.verify,
        needed=asdict(needed),
        check=fakes.call("check", mapping=_mapping()),
    )


def _minimum(
    scenario: Scenario,
    before: dict[str, Any],
    settings: dict[str, Any],
    needed: Writes,
    jobs: list[JobReport],
    *,
    tokens: int,
    lookups: int,
) -> dict[str, int]:
    """The fewest Halo calls the sync could have made, part by part (``minimum``)."""
    if not scenario.verify:
        return minimum_plain(writes=needed, tokens=tokens)
    phases = Counter(j.phase for j in jobs)
    return minimum_verify(
        clients=before["clients"],
        licences=before["licences"],
        sites=before["sites"] if settings.get("update_main_site_address") else None,
        writes=needed,
        tokens=tokens,
        lookups=lookups,
        customers_job=phases.get("customers", 0) > 0,
        plan_job=phases.get("plan-subscriptions", 0) > 0,
    )


def _wait(run_id: str, config: BenchConfig, label: str) -> Any:
    """Poll the run record with GetItem (a Query of the run's partition while the worker writes
    its items can trip moto's thread-unsafe iteration)."""
    from ddhalo.store import Store

    store = Store(os.environ["TABLE_NAME"])
    deadline = time.perf_counter() + config.run_timeout
    while True:
        run = store.get_run(run_id)
        if run is not None and run.status in FINISHED:
            return run
        if time.perf_counter() > deadline:
            raise RuntimeError(f"{label}: run {run_id} did not finish in {config.run_timeout:.0f} s")
        time.sleep(config.poll_seconds)


def _iso_seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


def run_size(customers: int, config: BenchConfig, ctx: Any = None) -> SizeResult:
    """The bench's core: seed a fresh world of ``customers``, then sync it as each scenario says
    (a first sync, an unchanged one, after a 1% change, after hand drift, a verify, one after it),
    measuring each and checking Halo against Dicker Data after each."""
    from local.serve.app import LocalApp
    from local.serve.sqs_poller import SqsPoller
    from local.serve.upstreams import DickerDataUpstream, HaloUpstream, UpstreamTargets

    ctx = ctx or mp.get_context("spawn")
    fakes = FakesProcess(ctx)
    try:
        urls = fakes.call(
            "start",
            customers=customers,
            subs=config.subs_per_customer,
            seed=config.seed,
            matched=int(customers * config.matched_share),
            latency=config.latency,
            halo_limit=config.halo_limit,
            halo_window=config.halo_window,
        )
        api_url, auth_url, client_id, client_secret = urls["halo"]
        upstreams = UpstreamTargets(
            DickerDataUpstream(*urls["dd"]),
            HaloUpstream(api_url, auth_url, client_id=client_id, client_secret=client_secret),
        )
        with LocalApp(port=0, upstreams=upstreams, access_log=False) as app, _quiet():
            return _measure(app, fakes, customers, config, ctx, SqsPoller)
    finally:
        fakes.stop()


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep the handlers' INFO lines (one per job) out of the tables while the bench runs;
    warnings still show."""
    import logging

    logger = logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "service_undefined"))
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _worker_pool(app: Any, config: BenchConfig, ctx: Any) -> WorkerPool:
    """The worker "containers": as deployed, WorkerConcurrency of them, each pacing to its share
    (the local runner alone gives its one in-process worker the whole budget)."""
    worker_env = app.aws.function_environment(app.template.functions[WORKER_FUNCTION])
    workers = config.workers or int(worker_env.get("HALO_RATE_SHARE") or 1)
    names = {fid: app.aws.function_name(fid) for fid in app.template.functions}
    # The children sign as the worker's role, as its containers do (the parent checks every call).
    worker_keys = app.aws.function_credentials(WORKER_FUNCTION).environment()
    env = {**os.environ, **worker_keys, "HALO_RATE_SHARE": str(workers)}
    return WorkerPool(ctx, workers, env, names, app, config.trace_memory)


class _Router:
    """Stands in for ``Invoker.invoke`` while the bench runs: worker events go to the pool's
    child processes; ``POST /sync`` is timed and metered as its own job; the rest as usual."""

    def __init__(self, invoke: Callable[[str, Any], Any], pool: WorkerPool) -> None:
        self.invoke = invoke
        self.pool = pool
        self.meter = Meter()
        #: The ``api /sync`` jobs since the last `take_sync_jobs`.
        self.sync_jobs: list[JobReport] = []

    def __call__(self, function_id: str, event: Any) -> Any:
        if function_id == WORKER_FUNCTION:
            return self.pool.invoke(event)
        if function_id != SYNC_FUNCTION or event.get("rawPath") != "/sync":
            return self.invoke(function_id, event)
        self.meter.reset()
        cpu, start = time.process_time(), time.perf_counter()
        with self.meter.measuring():
            result = self.invoke(function_id, event)
        seconds = time.perf_counter() - start
        self.sync_jobs.append(
            JobReport("api /sync", "", seconds, time.process_time() - cpu, 0.0, aws=dict(self.meter.aws))
        )
        return result

    def take_sync_jobs(self) -> list[JobReport]:
        jobs, self.sync_jobs = self.sync_jobs, []
        return jobs


def _extra_pollers(app: Any, poller: Any, workers: int) -> list[Any]:
    """SQS pollers for the worker queue beyond the template's concurrency (``--workers``):
    LocalApp already polls at the template's."""
    return [
        poller(app, source, n)
        for source in app.template.sqs_sources
        if source.function_id == WORKER_FUNCTION
        for n in range(app.concurrency(source), workers)
    ]


@dataclass
class _World:
    """What the bench did to the world before the syncs that followed."""

    change: dict[str, list[str]] = field(default_factory=dict)
    drift: dict[str, list[str]] = field(default_factory=dict)

    def prepare(self, scenario: Scenario, fakes: FakesProcess, config: BenchConfig) -> None:
        """Change Dicker Data or drift Halo as ``scenario`` needs before its sync."""
        if scenario.kind == "changed":
            self.change = fakes.call("change", share=config.change_share, seed=config.seed + 1)
        elif scenario.kind == "drifted":
            self.drift = fakes.call(
                "drift",
                mapping=_mapping(),
                per_kind=config.drift_per_kind,
                seed=config.seed + 2,
                bases=config.drift_bases,
            )


def _run_scenarios(
    api: LocalApi, fakes: FakesProcess, router: _Router, config: BenchConfig, settings: dict[str, Any]
) -> tuple[list[SyncResult], _World]:
    """Each scenario's sync in order, on the state the one before left."""
    syncs: list[SyncResult] = []
    done = _World()
    warm: set[int] = set()
    world = fakes.call("world")
    scenarios = SCENARIOS[: config.syncs]
    for n, scenario in enumerate(scenarios):
        done.prepare(scenario, fakes, config)
        lookups = len(done.drift.get("deleted", [])) if scenario.kind == "verify" else 0
        needed = needed_writes(scenario.kind, world, done.change, done.drift)
        print(f"    {n + 1}/{len(scenarios)} {scenario.label}", flush=True)
        sync = _sync(scenario, api, fakes, router.pool, config, settings, needed, warm, lookups)
        sync.jobs = [*router.take_sync_jobs(), *sync.jobs]
        syncs.append(sync)
    return syncs, done


def _measure(
    app: Any, fakes: FakesProcess, customers: int, config: BenchConfig, ctx: Any, poller: Any
) -> SizeResult:
    """Every scenario at one size, with the worker invocations routed to child processes."""
    api = LocalApi(app.url, timeout=300)
    settings = api.json("PUT", "/settings", {"halo_requests_per_minute": config.halo_requests_per_minute})
    api.json("POST", "/mappings/generate")
    pool = _worker_pool(app, config, ctx)
    invoke: Callable[[str, Any], Any] = app.invoker.invoke
    router = _Router(invoke, pool)
    app.invoker.invoke = router
    stack = contextlib.ExitStack()
    stack.enter_context(router.meter.aws_only())
    extra = _extra_pollers(app, poller, pool.size)
    for thread in extra:
        thread.start()
    try:
        syncs, done = _run_scenarios(api, fakes, router, config, settings)
    finally:
        stack.close()
        app.invoker.invoke = invoke
        app.stopping.set()
        for thread in extra:
            thread.join(timeout=10)
        pool.stop()
    return SizeResult(
        customers=customers,
        subscriptions=customers * config.subs_per_customer,
        workers=pool.size,
        worker_memory_mb=app.template.functions[WORKER_FUNCTION].memory_size,
        syncs=syncs,
        worker_baseline_mb=pool.baseline_mb,
        change=done.change,
        drift=done.drift,
    )
