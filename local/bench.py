"""`make bench`: the full sync against the HTTP fakes at several sizes, with latency and a Halo limit.

For each size it seeds Dicker Data with N customers x S subscriptions (10% of them already in Halo
under the same name, mapped by ``POST /mappings/generate``), runs ``POST /sync`` from that state,
then again with nothing changed, and prints what each sync cost: Halo and Dicker Data calls (the
Halo count against the minimum the plan needed), wall time against the rate-limit bound, every
worker job's duration and peak memory, and DynamoDB / SQS / Secrets Manager requests. It also
times each handler's cold import and sizes the deployment package. docs/PERFORMANCE.md explains
the method and records the numbers.

Where each piece runs, so the memory and CPU measured are the app's own:

- the fakes of Dicker Data and Halo: a child process (they hold every request they served);
- ``LocalApp`` (moto, the API handlers, the SQS pollers): this process;
- the worker Lambda: ``--workers`` child processes, one per "container". ``Invoker.invoke`` of the
  worker function is wrapped (in this script only) to hand each SQS event to an idle child, which
  runs the real handler and reports wall and CPU time, peak RSS (Linux ``VmHWM``, reset before each
  job) and the AWS requests it made. The template's ``WorkerConcurrency`` (its ``HALO_RATE_SHARE``)
  sets how many run at once, as the SQS event source's ``MaximumConcurrency`` does in AWS.

Exits non-zero when a hard target is missed: a failed item or run, or any Halo write on the
unchanged re-sync.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import copy
import json
import math
import multiprocessing as mp
import os
import platform
import queue
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import zipfile
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from local.client import LocalApi
from local.tables import table

ROOT = Path(__file__).resolve().parents[1]
ACCOUNT_ID = "123456789012"  # moto's default account, as local.aws uses
WORKER_FUNCTION = "WorkerFunction"
SYNC_FUNCTION = "SyncFunction"
FINISHED = frozenset({"succeeded", "partial", "failed"})
KB = 1024

# Public list prices (us-east-1, 2025): Lambda arm64, DynamoDB on demand, SQS standard, Secrets Manager.
LAMBDA_GB_SECOND_ARM = 0.0000133334
LAMBDA_REQUEST = 0.20 / 1e6
DYNAMODB_WRITE_UNIT = 0.625 / 1e6
DYNAMODB_READ_UNIT = 0.125 / 1e6
SQS_REQUEST = 0.40 / 1e6
SECRETS_API_CALL = 0.05 / 10_000
# Lambda gives a function CPU in proportion to memory: one vCPU at 1,769 MB.
LAMBDA_MB_PER_VCPU = 1769
LAMBDA_TIMEOUT_SECONDS = 900
# Hosted Halo allows 300 requests per rolling 5 minutes; the template's default pacing is 50/min.
REAL_HALO_PER_MINUTE = 50
# An assumed round trip to hosted Halo and to Dicker Data in AWS (the bench's fakes use --latency).
REAL_LATENCY = 0.3


# -- configuration and results ---------------------------------------------------------------


@dataclass(frozen=True)
class BenchConfig:
    """One bench: the sizes and the (time-compressed) world they run in.

    The defaults compress time 5x: Halo's fake allows 300 calls per 60 s (hosted Halo: 300 per
    5 minutes) and the app paces at 250/min (the template's default 50/min, x5).
    """

    sizes: tuple[int, ...] = (100, 1000, 5000)
    subs_per_customer: int = 10
    latency: float = 0.05
    halo_limit: int = 300  # the fake's 429 threshold per `halo_window` seconds
    halo_window: float = 60.0
    halo_requests_per_minute: int = 250  # the app's pacing setting
    matched_share: float = 0.1  # customers already in Halo under the same name
    workers: int | None = None  # None: the template's WorkerConcurrency
    seed: int = 7
    trace_memory: bool = False  # tracemalloc in the workers: slower, shows where the plan's memory is
    run_timeout: float = 1800.0
    poll_seconds: float = 0.25


@dataclass
class JobReport:
    """One worker invocation as its "container" (a child process) measured it."""

    phase: str
    chunk: int
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    halo_calls: int | None = None
    dicker_data_calls: int | None = None
    throttled: int | None = None
    limiter_wait: float = 0.0
    retry_sleep: float = 0.0
    aws_seconds: float = 0.0  # inside AWS SDK calls (moto here)
    aws_time: dict[str, float] = field(default_factory=dict)  # seconds per AWS operation
    memory_top: list[tuple[str, str, float]] = field(default_factory=list)  # --trace-memory
    traced_peak_mb: float | None = None
    timeline: list[tuple[str, float, float]] = field(default_factory=list)  # step, RSS MB, peak MB
    aws: dict[str, float] = field(default_factory=dict)
    error: str | None = None

    @property
    def io_seconds(self) -> float:
        """Waiting on the network (HTTP to the fakes, moto), not on pacing."""
        return max(0.0, self.seconds - self.cpu_seconds - self.limiter_wait - self.retry_sleep)

    def projected_seconds(self, memory_mb: int, share: int) -> float:
        """This job in AWS at hosted Halo's pace: CPU scaled to the function's vCPU share, each
        call at REAL_LATENCY, Halo calls paced at REAL_HALO_PER_MINUTE / share per job."""
        cpu = self.cpu_seconds * max(1.0, LAMBDA_MB_PER_VCPU / memory_mb)
        calls = (self.halo_calls or 0) + (self.dicker_data_calls or 0)
        per_job = max(1, REAL_HALO_PER_MINUTE // max(1, share))
        paced = sliding_window_seconds(self.halo_calls or 0, per_job, 60.0)
        return cpu + max(self.io_seconds, calls * REAL_LATENCY) + paced


@dataclass
class SyncResult:
    """One ``POST /sync`` measured from the outside (fakes, API) and the inside (jobs)."""

    label: str
    status: str
    wall_seconds: float
    halo_calls: int  # as the Halo fake counted them (token requests included)
    halo_calls_by_app: int  # as the run recorded them
    halo_minimum: int
    minimum_parts: dict[str, int]
    halo_writes: int  # records created + updated in Halo
    halo_throttled: int
    halo_by_endpoint: dict[str, int]
    dicker_data_calls: int
    items: dict[str, int]  # "<type> <result>" -> count
    jobs: list[JobReport]
    halo_clients_before: int
    halo_licences_before: int

    @property
    def failed(self) -> int:
        return sum(n for key, n in self.items.items() if key.endswith(" failed"))

    @property
    def calls_ratio(self) -> float:
        return self.halo_calls / self.halo_minimum if self.halo_minimum else math.inf

    def rate_bound(self, per_minute: int) -> float:
        """The steady-state lower bound: Halo calls at the configured calls per minute."""
        return self.halo_calls / per_minute * 60.0

    @property
    def peak_rss_mb(self) -> float:
        return max((j.peak_rss_mb for j in self.jobs), default=0.0)

    def aws_totals(self) -> dict[str, float]:
        total: Counter[str] = Counter()
        for job in self.jobs:
            total.update(job.aws)
        return dict(total)


@dataclass
class SizeResult:
    customers: int
    subscriptions: int
    workers: int
    worker_memory_mb: int
    first: SyncResult
    resync: SyncResult
    worker_baseline_mb: float


@dataclass
class ImportTime:
    function: str
    milliseconds: float
    top: list[tuple[str, float]]  # (top-level package, import self time in ms), largest first


@dataclass
class PackageSize:
    layer_zip_bytes: int | None
    layer_unzipped_bytes: int | None
    largest: list[tuple[str, int]]  # (top-level dir in the layer, unzipped bytes)
    functions: dict[str, int]  # function dir -> zipped bytes
    note: str = ""


# -- pure helpers -----------------------------------------------------------------------------


def _halo_sizes() -> tuple[int, int]:
    """What the product pages and batches by: what Halo serves per page (100), its write batch.
    Imported late: the core package is on the path once a LocalApp has started."""
    from ddhalo.halo.client import WRITE_BATCH
    from ddhalo.halo.limits import PAGE_SIZE

    return PAGE_SIZE, WRITE_BATCH


def pages(records: int, page_size: int | None = None) -> int:
    """Requests for a paged list: an empty list still costs one."""
    return max(1, math.ceil(records / (page_size or _halo_sizes()[0])))


def batches(records: int, batch: int | None = None) -> int:
    return math.ceil(records / (batch or _halo_sizes()[1]))


def sliding_window_seconds(calls: int, per_window: int, window: float) -> float:
    """Least time before the last of ``calls`` may start under "at most ``per_window`` starts in
    any rolling ``window``": the k-th call (from 0) cannot start before floor(k / per_window) windows."""
    if calls <= 0 or per_window <= 0:
        return 0.0
    return ((calls - 1) // per_window) * window


def minimum_halo_calls(
    *,
    clients_before: int,
    licences_before: int,
    items: dict[str, int],
    client_patches: int,
    site_patches: int,
    sites_read: int | None,
    cold_containers: int,
    customers_job: bool = True,
    plan_job: bool = True,
) -> dict[str, int]:
    """What a sync needs from Halo at least, from what was planned: one paged read of each list,
    the changed records in full batches per entity, and one token per container that has none
    yet (a token lasts an hour; each worker container needs its own)."""
    parts = {
        "tokens": cold_containers,
        "client_pages": pages(clients_before) if customers_job else 0,
        "site_pages": pages(sites_read) if customers_job and sites_read is not None else 0,
        "licence_pages": pages(licences_before) if plan_job else 0,
        "client_creates": batches(items.get("customer created", 0)),
        "client_updates": batches(client_patches),
        "site_updates": batches(site_patches),
        "licence_creates": batches(items.get("subscription created", 0)),
        "licence_updates": batches(items.get("subscription updated", 0)),
    }
    parts["total"] = sum(parts.values())
    return parts


def item_size(value: Any) -> int:
    """Approximate DynamoDB size of an attribute value (names count where the caller adds them)."""
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, int | float) or type(value).__name__ == "Decimal":
        return 1 + (len(str(value)) + 1) // 2
    if isinstance(value, dict):
        return 3 + sum(len(str(k).encode()) + item_size(v) + 1 for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return 3 + sum(item_size(v) + 1 for v in value)
    raw = getattr(value, "value", None)  # boto3 Binary
    return len(raw) if isinstance(raw, bytes) else len(str(value))


def _units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


def _indexed(item_or_key: dict[str, Any]) -> int:
    """A write that also lands in the ``gsi1`` index (projection ALL) costs one more unit: the
    run record is the only item with ``gsi1pk`` (docs/DATA_MODEL.md)."""
    return int("gsi1pk" in item_or_key or item_or_key.get("sk") == "RUN")


def capacity(service: str, operation: str, params: dict[str, Any], result: dict[str, Any]) -> Counter[str]:
    """The billable units of one AWS request, by DynamoDB's on-demand rules (1 KB per write
    unit, transactions double, plus the index's copy; 4 KB per strongly consistent read unit,
    half for eventual)."""
    out: Counter[str] = Counter({f"{service}:{operation}": 1})
    if service == "dynamodb":
        consistent = 1.0 if params.get("ConsistentRead") else 0.5
        if operation in ("PutItem", "DeleteItem"):
            body = params.get("Item", params.get("Key", {}))
            out["wru"] += _units(item_size(body), KB) + _indexed(body)
        elif operation == "UpdateItem":
            out["wru"] += 1 + _indexed(params.get("Key", {}))  # the run record: under 1 KB
        elif operation == "BatchWriteItem":
            for requests_ in params.get("RequestItems", {}).values():
                for req in requests_:
                    body = req.get("PutRequest", {}).get("Item") or req.get("DeleteRequest", {}).get("Key")
                    out["wru"] += _units(item_size(body or {}), KB)
        elif operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                body = next(iter(entry.values()))
                item = body.get("Item", body.get("Key", {}))
                out["wru"] += 2 * _units(item_size(item), KB) + _indexed(item)
        elif operation == "GetItem":
            out["rru"] += math.ceil(_units(item_size(result.get("Item") or {}), 4 * KB) * consistent)
        elif operation in ("Query", "Scan"):
            size = sum(item_size(i) for i in result.get("Items", []))
            out["rru"] += math.ceil(_units(size, 4 * KB) * consistent)
    elif service == "sqs" and operation == "SendMessage":
        out["sqs"] += _units(len(str(params.get("MessageBody", ""))), 64 * KB)
    elif service == "secretsmanager":
        out["secrets"] += 1
    return out


# -- the fakes, in a child process -------------------------------------------------------------


def _fakes_main(conn: Connection) -> None:
    """Serve commands from the parent: the fakes live here so their memory and CPU are not ours."""
    from local.fakes import DickerDataFake, HaloFake
    from local.fakes.sample_data import generate_dicker_data, generate_halo

    dd: DickerDataFake | None = None
    halo: HaloFake | None = None
    while True:
        command, args = conn.recv()
        try:
            if command == "start":
                tenants, subs = generate_dicker_data(args["customers"], args["subs"], args["seed"])
                dd = DickerDataFake(account_code="BENCH01", tenants=tenants, subscriptions=subs).start()
                halo = HaloFake(rate_limit=args["halo_limit"], rate_window=args["halo_window"]).start()
                names = [t["CompanyName"] for t in tenants[: args["matched"]]]
                generate_halo(halo, len(names), names=names)
                dd.latency = halo.latency = args["latency"]
                answer: Any = {
                    "dd": (dd.base_url, dd.account_code, dd.access_token),
                    "halo": (halo.api_url, halo.auth_url, halo.client_id, halo.client_secret),
                }
            elif command == "reset":
                assert dd is not None
                assert halo is not None
                dd.reset_calls()
                halo.reset_calls()
                answer = None
            elif command == "stats":
                assert dd is not None
                assert halo is not None
                with halo.lock, dd.lock:
                    answer = {
                        "halo_calls": sum(halo.calls.values()),
                        "halo_by_endpoint": dict(halo.calls),
                        "halo_writes": halo.writes,
                        "halo_throttled": halo.throttled,
                        "dd_calls": sum(dd.calls.values()),
                        "clients": len(halo.clients),
                        "licences": len(halo.licences),
                        "sites": len(halo.sites),
                    }
            elif command == "stop":
                for fake in (dd, halo):
                    if fake is not None:
                        fake.stop()
                conn.send(None)
                return
            else:
                raise ValueError(f"unknown command {command!r}")
        except Exception as exc:  # answered, so the parent raises it with context
            answer = RuntimeError(f"fakes: {command} failed: {exc!r}")
        conn.send(answer)


class FakesProcess:
    """The parent's handle on the fakes' process."""

    def __init__(self, ctx: Any) -> None:
        self._conn, child = ctx.Pipe()
        self._process = ctx.Process(target=_fakes_main, args=(child,), name="bench-fakes", daemon=True)
        self._process.start()
        self._lock = threading.Lock()

    def call(self, command: str, **args: Any) -> Any:
        with self._lock:
            self._conn.send((command, args))
            answer = self._conn.recv()
        if isinstance(answer, Exception):
            raise answer
        return answer

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.call("stop")
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()


# -- the worker "containers", in child processes ---------------------------------------------


class _Meter:
    """Counts, per job, the AWS requests and capacity units, the Halo/Dicker Data calls the run
    recorded, and time spent waiting on the rate limiter or between retries."""

    def __init__(self) -> None:
        self.local = threading.local()
        self.always = False
        self.trace_memory = False
        self.reset()

    def reset(self) -> None:
        self.aws: Counter[str] = Counter()
        self.stats: dict[str, int] | None = None
        self.limiter_wait = 0.0
        self.retry_sleep = 0.0
        self.aws_seconds = 0.0
        self.aws_time: defaultdict[str, float] = defaultdict(float)
        self.memory_top: list[tuple[str, str, float]] = []
        self.traced_peak_mb: float | None = None
        self.timeline: list[tuple[str, float, float]] = []

    @property
    def on(self) -> bool:
        return self.always or bool(getattr(self.local, "on", False))

    @contextlib.contextmanager
    def measuring(self) -> Iterator[None]:
        self.local.on = True
        try:
            yield
        finally:
            self.local.on = False

    @contextlib.contextmanager
    def aws_only(self) -> Iterator[None]:
        """In the bench's own process: meter AWS requests (while ``measuring``), then unwrap."""
        import botocore.client

        make_call = botocore.client.BaseClient._make_api_call
        botocore.client.BaseClient._make_api_call = self._metered(make_call)
        try:
            yield
        finally:
            botocore.client.BaseClient._make_api_call = make_call

    def _metered(self, make_call: Callable[..., Any]) -> Callable[..., Any]:
        meter = self

        def metered(client: Any, operation: str, params: dict[str, Any]) -> Any:
            start = time.perf_counter()
            result = make_call(client, operation, params)
            if meter.on:
                took = time.perf_counter() - start
                meter.aws_seconds += took
                meter.aws_time[operation] += took
                service = client.meta.service_model.service_name
                meter.aws.update(capacity(service, operation, params, result or {}))
            return result

        return metered

    def install(self) -> None:
        """In a worker process: meter botocore's requests, and watch each job through the
        product's observer hook (``ddhalo.observe``)."""
        import botocore.client

        from ddhalo import observe

        botocore.client.BaseClient._make_api_call = self._metered(botocore.client.BaseClient._make_api_call)
        observe.install(_JobWatch(self))


def _job_watch_type() -> type[Any]:
    from ddhalo.observe import Observer

    class JobWatch(Observer):
        """What the bench reads of each job through the product's hook: the RSS and peak RSS
        after each step (reading /proc is cheap, so this is always on: which step sets the job's
        peak), its calls and waits, and with ``--trace-memory`` where the subscription plan job's
        memory is, by the line of our code that allocated it (tracing only that job: tracemalloc
        slows everything it watches)."""

        def __init__(self, meter: _Meter) -> None:
            self.meter = meter
            self.tracing = False

        def job_started(self, phase: str, chunk: int) -> None:
            if self.meter.trace_memory and phase == "plan-subscriptions":
                tracemalloc.start(12)
                self.tracing = True

        def step(self, name: str) -> None:
            timeline = self.meter.timeline
            if not timeline or timeline[-1][0] != name:  # one mark per run of a step
                timeline.append((name, _rss_kb("VmRSS") / 1024, _rss_kb("VmHWM") / 1024))
            if self.tracing and name in ("Halo licences read", "planned"):
                self._snapshot(f"after {name}")

        def job_finished(self, phase: str, chunk: int, stats: dict[str, float]) -> None:
            meter = self.meter
            meter.stats = {
                k: int(v) for k, v in stats.items() if k in ("halo_calls", "dicker_data_calls", "throttled")
            }
            meter.limiter_wait += float(stats.get("halo_paced_seconds", 0.0))
            meter.retry_sleep += float(stats.get("halo_backoff_seconds", 0.0))
            if self.tracing:
                self._snapshot("job end")
                meter.traced_peak_mb = tracemalloc.get_traced_memory()[1] / 1e6
                tracemalloc.stop()
                self.tracing = False

        def _snapshot(self, moment: str, top: int = 8) -> None:
            # Each live block is charged to the innermost line of our code that caused it (a
            # decoded JSON string kept by a model is the model's line, not the JSON decoder's).
            spent: dict[str, float] = defaultdict(float)
            for stat in tracemalloc.take_snapshot().statistics("traceback"):
                frames = [f for f in stat.traceback if "ddhalo" in Path(f.filename).parts]
                frame = (frames or [stat.traceback[-1]])[-1]
                spent[f"{'/'.join(Path(frame.filename).parts[-2:])}:{frame.lineno}"] += stat.size / 1e6
            for where, mb in sorted(spent.items(), key=lambda kv: -kv[1])[:top]:
                self.meter.memory_top.append((moment, where, mb))

    return JobWatch


def _JobWatch(meter: _Meter) -> Any:
    return _job_watch_type()(meter)


def _rss_kb(field_name: str) -> int:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def _reset_peak_rss() -> bool:
    """Linux: writing 5 to clear_refs resets VmHWM, so each job's peak is its own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def _worker_main(
    conn: Connection,
    env: dict[str, str],
    sys_path: list[str],
    template: str,
    names: dict[str, str],
    region: str,
    account: str,
    trace_memory: bool = False,
) -> None:
    """One warm worker "container": import the handler once, then run the jobs it is handed."""
    os.environ.clear()
    os.environ.update(env)
    sys.path[:0] = [p for p in sys_path if p not in sys.path]
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Powertools logs a JSON line per job
    from local.invoke import Invoker, load_handler
    from local.template import load_template

    meter = _Meter()
    meter.always = True
    meter.trace_memory = trace_memory
    meter.install()
    functions = load_template(template).functions
    invoker = Invoker(functions, names, region, account)
    load_handler(functions[WORKER_FUNCTION])
    conn.send(_rss_kb("VmRSS") / 1024)
    while (event := conn.recv()) is not None:
        _reset_peak_rss()
        meter.reset()
        cpu, start = time.process_time(), time.perf_counter()
        result: Any = None
        error = None
        try:
            result = invoker.invoke(WORKER_FUNCTION, event)
        except Exception as exc:
            error = repr(exc)
        seconds = time.perf_counter() - start
        body = json.loads(event["Records"][0]["body"]) if event.get("Records") else {}
        stats = meter.stats or {}
        report = JobReport(
            phase=str(body.get("phase", "?")),
            chunk=int(body.get("chunk", -1)),
            seconds=seconds,
            cpu_seconds=time.process_time() - cpu,
            peak_rss_mb=_rss_kb("VmHWM") / 1024,
            halo_calls=stats.get("halo_calls"),
            dicker_data_calls=stats.get("dicker_data_calls"),
            throttled=stats.get("throttled"),
            limiter_wait=meter.limiter_wait,
            retry_sleep=meter.retry_sleep,
            aws_seconds=meter.aws_seconds,
            aws_time=dict(meter.aws_time),
            memory_top=meter.memory_top,
            traced_peak_mb=meter.traced_peak_mb,
            timeline=meter.timeline,
            aws=dict(meter.aws),
            error=error,
        )
        conn.send((result, report))


class WorkerPool:
    """``--workers`` warm containers of the worker function; SQS pollers hand events to idle ones."""

    def __init__(
        self,
        ctx: Any,
        size: int,
        env: dict[str, str],
        names: dict[str, str],
        app: Any,
        trace_memory: bool = False,
    ) -> None:
        self._idle: queue.Queue[tuple[Connection, Any]] = queue.Queue()
        self._all: list[tuple[Connection, Any]] = []
        self.jobs: list[JobReport] = []
        self._jobs_lock = threading.Lock()
        self.baseline_mb = 0.0
        for n in range(size):
            parent, child = ctx.Pipe()
            process = ctx.Process(
                target=_worker_main,
                args=(
                    child,
                    env,
                    list(sys.path),
                    str(app.template.path),
                    names,
                    app.aws.region,
                    ACCOUNT_ID,
                    trace_memory,
                ),
                name=f"bench-worker-{n}",
                daemon=True,
            )
            process.start()
            self._all.append((parent, process))
        for parent, process in self._all:
            if not parent.poll(120):
                raise RuntimeError("a worker process did not start")
            self.baseline_mb = max(self.baseline_mb, float(parent.recv()))
            self._idle.put((parent, process))

    @property
    def size(self) -> int:
        return len(self._all)

    def invoke(self, event: Any) -> Any:
        conn, process = self._idle.get()
        try:
            conn.send(event)
            result, report = conn.recv()
            with self._jobs_lock:
                self.jobs.append(report)
        finally:
            self._idle.put((conn, process))
        if report.error:
            raise RuntimeError(f"worker job failed: {report.error}")
        return result

    def take_jobs(self, timeout: float = 60.0) -> list[JobReport]:
        """The jobs reported so far, once every worker is idle (a run is finished by its last
        job, which still has to return before its report is in)."""
        deadline = time.perf_counter() + timeout
        while self._idle.qsize() < len(self._all) and time.perf_counter() < deadline:
            time.sleep(0.02)
        with self._jobs_lock:
            jobs, self.jobs = self.jobs, []
        return jobs

    def stop(self) -> None:
        for conn, process in self._all:
            with contextlib.suppress(OSError):
                conn.send(None)
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


# -- one size -----------------------------------------------------------------------------------


def _items_of(api: LocalApi, run_id: str) -> tuple[dict[str, int], int, int]:
    """Counts per "<type> <result>", and the customer updates that patch a client / a site."""
    counts: Counter[str] = Counter()
    client_patches = site_patches = 0
    token: str | None = None
    while True:
        page = api.json("GET", f"/runs/{run_id}", limit=1000, **({"next_token": token} if token else {}))
        for item in page["items"]:
            counts[f"{item['type']} {item['result']}"] += 1
            if item["type"] == "customer" and item["result"] == "updated":
                client_patches += "azure_tenants" in item["changes"]
                site_patches += "main_site_address" in item["changes"]
        token = page.get("next_token")
        if not token:
            return dict(counts), client_patches, site_patches


def _sync(
    label: str,
    api: LocalApi,
    fakes: FakesProcess,
    pool: WorkerPool,
    config: BenchConfig,
    settings: dict[str, Any],
    *,
    cold: bool,
) -> SyncResult:
    before = fakes.call("stats")
    fakes.call("reset")
    pool.take_jobs()
    run_id = api.json("POST", "/sync", {})["run_id"]
    run = _wait(run_id, config, label)
    wall = _iso_seconds(str(run.finished_at)) - _iso_seconds(run.started_at)
    after = fakes.call("stats")
    jobs = pool.take_jobs()
    items, client_patches, site_patches = _items_of(api, run_id)
    phases = Counter(j.phase for j in jobs)
    minimum = minimum_halo_calls(
        clients_before=before["clients"],
        licences_before=before["licences"],
        items=items,
        client_patches=client_patches,
        site_patches=site_patches,
        sites_read=before["sites"] if settings.get("update_main_site_address") else None,
        # Fresh worker processes per size: the first sync's containers start without a token.
        cold_containers=min(pool.size, len(jobs)) if cold else 0,
        customers_job=phases.get("customers", 0) > 0,
        plan_job=phases.get("plan-subscriptions", 0) > 0,
    )
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
    """The bench's core: seed a fresh world of ``customers``, sync it twice, measure both."""
    from local.serve import DickerDataUpstream, HaloUpstream, LocalApp, SqsPoller, Upstreams

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
        upstreams = Upstreams(
            DickerDataUpstream(*urls["dd"]),
            HaloUpstream(api_url, auth_url, client_id=client_id, client_secret=client_secret),
        )
        with cheap_moto(), LocalApp(port=0, upstreams=upstreams) as app, _quiet():
            return _measure(app, fakes, customers, config, ctx, SqsPoller)
    finally:
        fakes.stop()


@contextlib.contextmanager
def cheap_moto() -> Iterator[None]:
    """While open, three of moto's DynamoDB code paths cost what DynamoDB's do (this process).

    moto deep-copies every table a TransactWriteItems touches (for rollback), sorts and walks the
    whole table for every Query page, and serialises a Query answer attribute by attribute
    (~0.7 s per 1 MB page): O(table) per request, so at 5,000 customers the bench would measure
    moto, not the product. Here a transaction snapshots only the items it touches, a table Query
    on a string range key reads only its partition, and a Query answer is dumped as plain JSON.
    Answers are unchanged (tests/local/test_bench.py compares them); indexes and scans are moto's.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table
    from moto.dynamodb.responses import DynamoResult

    transact = DynamoDBBackend.transact_write_items

    def snapshot_transact(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            with contextlib.suppress(Exception):  # a malformed op fails inside moto as before
                source = op["Item"] if op_type == "Put" else op["Key"]
                attrs = [a for a in (table.hash_key_attr, table.range_key_attr) if a]
                key = {a: source[a] for a in attrs}
                current = backend.get_item(table.name, key)
                saved.append((table.name, key, current.to_json()["Attributes"] if current else None))
        try:
            transact(backend, transact_items)
        except BaseException:
            for table_name, key, before in reversed(saved):
                if before is None:
                    with contextlib.suppress(Exception):
                        backend.delete_item(table_name, key)
                else:
                    backend.put_item(table_name, before)
            raise

    query: Callable[..., Any] = Table.query

    def partition_query(
        table: Any,
        hash_key: Any,
        range_comparison: str | None,
        range_objs: list[Any],
        limit: int | None,
        exclusive_start_key: dict[str, Any] | None,
        scan_index_forward: bool,
        projection_expressions: Any,
        index_name: str | None = None,
        consistent_read: bool = False,
        filter_expression: Any = None,
        **kwargs: Any,
    ) -> Any:
        args = (hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward)
        rest = (projection_expressions, index_name, consistent_read, filter_expression)
        simple = (
            index_name is None
            and hash_key is not None
            and table.range_key_type == "S"
            and set(kwargs) <= {"hash_key_conditions", "range_key_conditions"}
            and len(kwargs.get("range_key_conditions") or []) <= 1
        )
        if not simple:
            return query(table, *args, *rest, **kwargs)
        partition = table.items.get(hash_key) or {}
        keys = sorted(partition, key=lambda k: k.value, reverse=not scan_index_forward)
        if exclusive_start_key:
            start = exclusive_start_key[table.range_key_attr]["S"]
            keys = [k for k in keys if (k.value > start) == scan_index_forward and k.value != start]
        results: list[Any] = []
        size = 0
        last_key = None
        for key in keys:
            if range_comparison and not key.compare(range_comparison, range_objs):
                continue
            item = partition[key]
            if len(results) == limit or size + item.size() > RESULT_SIZE_LIMIT:
                last_key = table._get_last_evaluated_key(results[-1], None)
                break
            results.append(item)
            size += item.size()
        scanned = len(results)
        results = copy.deepcopy(results)
        if filter_expression is not None:
            results = [item for item in results if filter_expression.expr(item)]
        if projection_expressions:
            results = [item.project(projection_expressions) for item in results]
        return results, scanned, last_key

    execute_result: Callable[..., Any] = DynamoResult.execute_result

    def json_result(result: Any, context: Any) -> Any:
        """A Query page as plain JSON: moto's generic serializer walks the output shape per
        attribute (~0.7 s per 1 MB page); DynamoDB's JSON protocol is the same data dumped."""
        body = result.result
        if context.operation_model.name != "Query" or not isinstance(body, dict):
            return execute_result(result, context)
        status, headers, _ = execute_result(DynamoResult({**body, "Items": []}), context)
        return status, headers, json.dumps(body, default=_json_default, separators=(",", ":"))

    Table.__deepcopy__ = lambda self, memo: self  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = snapshot_transact  # type: ignore[method-assign, assignment]
    Table.query = partition_query  # type: ignore[method-assign, assignment]
    DynamoResult.execute_result = json_result  # type: ignore[method-assign, assignment]
    try:
        yield
    finally:
        del Table.__deepcopy__  # type: ignore[attr-defined]
        DynamoDBBackend.transact_write_items = transact  # type: ignore[method-assign]
        Table.query = query  # type: ignore[method-assign]
        DynamoResult.execute_result = execute_result  # type: ignore[method-assign]


def _json_default(value: Any) -> Any:
    """What DynamoDB's JSON protocol does with bytes (base64) and timestamps (epoch seconds)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Keep the local API's access log and the handlers' INFO lines (one per job) out of the
    tables while the bench runs; warnings still show."""
    import logging

    from local import serve

    logger = logging.getLogger(os.environ.get("POWERTOOLS_SERVICE_NAME", "service_undefined"))
    level, log_message = logger.level, serve._ApiHandler.log_message
    serve._ApiHandler.log_message = lambda *args: None  # type: ignore[method-assign]
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        serve._ApiHandler.log_message = log_message  # type: ignore[method-assign]
        logger.setLevel(level)


def _measure(
    app: Any, fakes: FakesProcess, customers: int, config: BenchConfig, ctx: Any, poller: Any
) -> SizeResult:
    api = LocalApi(app.url, timeout=300)
    settings = api.json("PUT", "/settings", {"halo_requests_per_minute": config.halo_requests_per_minute})
    api.json("POST", "/mappings/generate")
    # As deployed: WorkerConcurrency containers, each pacing to its share (the local runner alone
    # gives its one in-process worker the whole budget).
    worker_env = app.aws.function_environment(app.template.functions[WORKER_FUNCTION])
    workers = config.workers or int(worker_env.get("HALO_RATE_SHARE") or 1)
    names = {fid: app.aws.function_name(fid) for fid in app.template.functions}
    # The children sign as the worker's role, as its containers do (the parent checks every call).
    worker_keys = app.aws.function_credentials(WORKER_FUNCTION).environment()
    env = {**os.environ, **worker_keys, "HALO_RATE_SHARE": str(workers)}
    pool = WorkerPool(ctx, workers, env, names, app, config.trace_memory)
    meter = _Meter()
    invoke: Callable[[str, Any], Any] = app.invoker.invoke
    sync_jobs: list[JobReport] = []

    def routed(function_id: str, event: Any) -> Any:
        if function_id == WORKER_FUNCTION:
            return pool.invoke(event)
        if function_id != SYNC_FUNCTION or event.get("rawPath") != "/sync":
            return invoke(function_id, event)
        meter.reset()
        cpu, start = time.process_time(), time.perf_counter()
        with meter.measuring():
            result = invoke(function_id, event)
        sync_jobs.append(
            JobReport(
                "api /sync",
                -1,
                time.perf_counter() - start,
                time.process_time() - cpu,
                0.0,
                aws=dict(meter.aws),
            )
        )
        return result

    app.invoker.invoke = routed
    stack = contextlib.ExitStack()
    stack.enter_context(meter.aws_only())
    extra = []
    for source in app.template.sqs_sources:
        if source.function_id == WORKER_FUNCTION:
            # LocalApp already polls at the template's concurrency; add any --workers beyond it.
            extra += [poller(app, source, n) for n in range(app.concurrency(source), workers)]
    for thread in extra:
        thread.start()
    try:
        first = _sync("first sync", api, fakes, pool, config, settings, cold=True)
        first.jobs = [*sync_jobs, *first.jobs]
        sync_jobs.clear()
        resync = _sync("unchanged re-sync", api, fakes, pool, config, settings, cold=False)
        resync.jobs = [*sync_jobs, *resync.jobs]
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
        workers=workers,
        worker_memory_mb=app.template.functions[WORKER_FUNCTION].memory_size,
        first=first,
        resync=resync,
        worker_baseline_mb=pool.baseline_mb,
    )


# -- cold imports and the package ---------------------------------------------------------------

_IMPORT_SNIPPET = """
import importlib.util, sys, time
sys.path[:0] = [{shared!r}, {code!r}]
start = time.perf_counter()
spec = importlib.util.spec_from_file_location("app", {app!r})
module = importlib.util.module_from_spec(spec)
sys.modules["app"] = module
spec.loader.exec_module(module)
print(time.perf_counter() - start)
"""


def _lambda_like_env() -> dict[str, str]:
    """What a handler's module needs at import in Lambda, with dummy values (nothing is called).
    AWS_LAMBDA_FUNCTION_NAME makes Powertools' Tracer behave as in Lambda (it patches at import)."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_DEFAULT_REGION": "ap-southeast-2",
        "AWS_REGION": "ap-southeast-2",
        "AWS_LAMBDA_FUNCTION_NAME": "bench",
        "POWERTOOLS_SERVICE_NAME": "dicker-data-halo",
        "POWERTOOLS_METRICS_NAMESPACE": "DickerDataHalo",
        "TABLE_NAME": "bench-table",
        "SECRET_ID": "bench-secret",
        "WORK_QUEUE_URL": "https://sqs.ap-southeast-2.amazonaws.com/123456789012/bench",
        "HALO_REQUESTS_PER_MINUTE": "50",
        "HALO_RATE_SHARE": "2",
        "SYNC_RULE_NAME": "bench-sync",
    }


def _top_imports(stderr: str, n: int = 5) -> list[tuple[str, float]]:
    """``-X importtime`` self times summed per top-level package: who the import time belongs to."""
    spent: dict[str, float] = {}
    for line in stderr.splitlines():
        parts = line.split("|")
        head = parts[0].partition(":")[2].strip()
        if not line.startswith("import time:") or len(parts) != 3 or not head.isdigit():
            continue
        package = parts[2].strip().split(".")[0]
        spent[package] = spent.get(package, 0.0) + int(head) / 1000
    return sorted(spent.items(), key=lambda kv: -kv[1])[:n]


def measure_imports(repeats: int = 3) -> list[ImportTime]:
    """Each handler's module import in a fresh interpreter (the cold-start share that is ours)."""
    shared = str(ROOT / "shared")
    results = []
    for code in sorted(p for p in (ROOT / "functions").iterdir() if (p / "app.py").is_file()):
        snippet = _IMPORT_SNIPPET.format(shared=shared, code=str(code), app=str(code / "app.py"))
        times = []
        for _ in range(repeats):
            done = subprocess.run(  # noqa: S603 - our interpreter, our snippet
                [sys.executable, "-c", snippet],
                env=_lambda_like_env(),
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            times.append(float(done.stdout.strip().splitlines()[-1]) * 1000)
        profiled = subprocess.run(  # noqa: S603 - our interpreter, our snippet
            [sys.executable, "-X", "importtime", "-c", snippet],
            env=_lambda_like_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        results.append(ImportTime(code.name, statistics.median(times), _top_imports(profiled.stderr)))
    return results


def _zip_dir(source: Path, archive: Path, prefix: str = "") -> int:
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for path in sorted(source.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                out.write(path, prefix + str(path.relative_to(source)))
    return archive.stat().st_size


def measure_package(timeout: float = 300.0) -> PackageSize:
    """The layer as ``sam build`` makes it for Lambda (python3.13, arm64): shared/ plus the runtime
    requirements' wheels for that platform, zipped; and each function's own code, zipped.
    Needs PyPI; offline it reports why it was skipped."""
    from local.invoke import SHARED_PACKAGES

    functions = {}
    with tempfile.TemporaryDirectory(prefix="ddhalo-bench-") as tmp:
        work = Path(tmp)
        for code in sorted(p for p in (ROOT / "functions").iterdir() if (p / "app.py").is_file()):
            functions[code.name] = _zip_dir(code, work / f"{code.name}.zip")
        layer = work / "layer" / "python"
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-compile", "--target", str(layer), "--platform", "manylinux2014_aarch64",
            "--implementation", "cp", "--python-version", "3.13", "--only-binary=:all:",
            "-r", str(ROOT / "shared" / "requirements.txt"),
        ]  # fmt: skip
        try:
            subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=True)  # noqa: S603
        except subprocess.CalledProcessError as exc:
            last = (exc.stderr or "").strip().splitlines()[-1:] or ["pip failed"]
            return PackageSize(None, None, [], functions, note=f"skipped: {last[0][:160]}")
        except (subprocess.TimeoutExpired, OSError) as exc:
            return PackageSize(None, None, [], functions, note=f"skipped: {type(exc).__name__}")
        for package in SHARED_PACKAGES:  # as shared/Makefile copies them
            shutil.copytree(
                ROOT / "shared" / package, layer / package, ignore=shutil.ignore_patterns("__pycache__")
            )
        sizes: Counter[str] = Counter()
        for path in layer.rglob("*"):
            if path.is_file():
                top = path.relative_to(layer).parts[0]
                sizes[re.sub(r"-[\d.]+(\.dist-info|\.data)$", "", top)] += path.stat().st_size
        zipped = _zip_dir(layer, work / "layer.zip", "python/")
        return PackageSize(zipped, sum(sizes.values()), sizes.most_common(6), functions)


# -- the report ---------------------------------------------------------------------------------


def _mb(n: float | None) -> str:
    return "n/a" if n is None else f"{n / 1e6:.1f}"


def _f(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


@dataclass
class Cost:
    invocations: int
    gb_seconds: float
    gb_seconds_real: float
    wru: float
    rru: float
    sqs: float
    secrets: float

    @property
    def dollars(self) -> float:
        return self.dollars_at(self.gb_seconds)

    @property
    def dollars_real(self) -> float:
        return self.dollars_at(self.gb_seconds_real)

    def dollars_at(self, gb_seconds: float) -> float:
        return (
            gb_seconds * LAMBDA_GB_SECOND_ARM
            + self.invocations * LAMBDA_REQUEST
            + self.wru * DYNAMODB_WRITE_UNIT
            + self.rru * DYNAMODB_READ_UNIT
            + self.sqs * SQS_REQUEST
            + self.secrets * SECRETS_API_CALL
        )


def cost_of(sync: SyncResult, memory_mb: int, share: int) -> Cost:
    """One sync's AWS bill: the worker jobs and the ``POST /sync`` call (the API handler's
    duration is billed like any invocation; the bench's own GET /runs polling is not counted).
    SQS adds, per job, the event source mapping's receive and delete (idle polling not counted)."""
    gb = memory_mb / 1024
    aws = sync.aws_totals()
    worker = [j for j in sync.jobs if j.chunk >= 0]
    seconds = sum(j.seconds for j in sync.jobs)
    real = sum(j.projected_seconds(memory_mb, share) for j in worker) + sum(
        j.seconds for j in sync.jobs if j.chunk < 0
    )
    return Cost(
        invocations=len(sync.jobs),
        gb_seconds=seconds * gb,
        gb_seconds_real=real * gb,
        wru=aws.get("wru", 0),
        rru=aws.get("rru", 0),
        sqs=aws.get("sqs", 0) + 2 * len(worker),
        secrets=aws.get("secrets", 0),
    )


def projected_sync_seconds(sync: SyncResult, size: SizeResult) -> float:
    """The sync in AWS: its jobs one after another, apply chunks ``workers`` at a time, and never
    faster than its Halo calls at the default pacing."""
    worker = [j for j in sync.jobs if j.chunk >= 0]
    seconds = [j.projected_seconds(size.worker_memory_mb, size.workers) for j in worker]
    serial = sum(t for j, t in zip(worker, seconds, strict=True) if j.phase != "apply-subscriptions")
    parallel = sum(t for j, t in zip(worker, seconds, strict=True) if j.phase == "apply-subscriptions")
    return max(serial + parallel / max(1, size.workers), sync.halo_calls / REAL_HALO_PER_MINUTE * 60)


def _phase_rows(size: SizeResult) -> list[list[Any]]:
    rows = []
    for sync in (size.first, size.resync):
        phases: dict[str, list[JobReport]] = {}
        for job in sync.jobs:
            phases.setdefault(job.phase, []).append(job)
        for phase, jobs in phases.items():
            rows.append(
                [
                    f"{size.customers:,}",
                    "first" if sync is size.first else "re-sync",
                    phase,
                    len(jobs),
                    _f(sum(j.seconds for j in jobs)),
                    _f(max(j.seconds for j in jobs)),
                    _f(sum(j.cpu_seconds for j in jobs)),
                    _f(sum(j.aws_seconds for j in jobs)),
                    sum(j.halo_calls or 0 for j in jobs),
                    _f(max(j.peak_rss_mb for j in jobs), 0) if jobs[0].chunk >= 0 else "",
                    _f(max(j.projected_seconds(size.worker_memory_mb, size.workers) for j in jobs), 0)
                    if jobs[0].chunk >= 0
                    else "",
                ]
            )
    return rows


def report(
    config: BenchConfig,
    sizes: list[SizeResult],
    imports: list[ImportTime] | None,
    package: PackageSize | None,
) -> str:
    """Every table the bench prints."""
    rpm = config.halo_requests_per_minute
    baseline = max((s.worker_baseline_mb for s in sizes), default=0.0)
    out = [
        f"Dicker Data -> Halo sync bench: {config.latency * 1000:.0f} ms per upstream call; Halo's fake "
        f"answers 429 past {config.halo_limit} calls per {config.halo_window:.0f} s; the app paces at "
        f"halo_requests_per_minute={rpm}; {config.subs_per_customer} subscriptions per customer; "
        f"{config.matched_share:.0%} of customers already in Halo (mapped by name) before the first sync.",
        "",
        "First sync (Halo calls include token requests; minimum = paged reads + full batches of what "
        "changed + one token per cold container; bound = Halo calls / rate)",
    ]
    first = []
    for s in sizes:
        f = s.first
        first.append(
            [
                f"{s.customers:,}",
                f"{s.subscriptions:,}",
                f.status,
                f"{f.items.get('customer created', 0) + f.items.get('subscription created', 0):,}",
                f"{f.items.get('customer updated', 0) + f.items.get('subscription updated', 0):,}",
                f.halo_calls,
                f.halo_minimum,
                f"{f.calls_ratio:.2f}x",
                f.halo_by_endpoint.get("POST /auth/token", 0),
                f.dicker_data_calls,
                _f(f.wall_seconds),
                _f(f.rate_bound(rpm)),
                f"{f.wall_seconds / f.rate_bound(rpm):.2f}x",
                f.halo_throttled,
                _f(f.peak_rss_mb, 0),
                f.failed,
            ]
        )
    out.append(
        table(
            [
                "customers",
                "subs",
                "status",
                "created",
                "updated",
                "Halo calls",
                "minimum",
                "ratio",
                "tokens",
                "DD calls",
                "wall s",
                "bound s",
                "wall/bound",
                "429s",
                "peak MB",
                "failed",
            ],
            first,
        )
    )
    out += ["", "Unchanged re-sync (must write nothing)"]
    again = []
    for s in sizes:
        r = s.resync
        again.append(
            [
                f"{s.customers:,}",
                f"{s.subscriptions:,}",
                r.status,
                r.halo_calls,
                r.halo_minimum,
                f"{r.calls_ratio:.2f}x",
                r.halo_writes,
                r.dicker_data_calls,
                _f(r.wall_seconds),
                _f(r.rate_bound(rpm)),
                r.halo_throttled,
                _f(r.peak_rss_mb, 0),
                r.failed,
            ]
        )
    out.append(
        table(
            [
                "customers",
                "subs",
                "status",
                "Halo calls",
                "minimum",
                "ratio",
                "Halo writes",
                "DD calls",
                "wall s",
                "bound s",
                "429s",
                "peak MB",
                "failed",
            ],
            again,
        )
    )
    out += [
        "",
        "Jobs (each worker job is one Lambda invocation; peak = the process's peak RSS in that job, "
        f"baseline after import {baseline:.0f} MB; projected = in AWS at hosted Halo's pace, see "
        "PERFORMANCE.md)",
        table(
            [
                "customers",
                "sync",
                "phase",
                "jobs",
                "total s",
                "max s",
                "CPU s",
                "AWS SDK s",
                "Halo calls",
                "peak MB",
                "max projected s",
            ],
            [row for s in sizes for row in _phase_rows(s)],
        ),
        "",
        "AWS per sync (measured durations, and projected to real-world pace; us-east-1 list prices)",
    ]
    cost_rows = []
    for s in sizes:
        for sync in (s.first, s.resync):
            c = cost_of(sync, s.worker_memory_mb, s.workers)
            cost_rows.append(
                [
                    f"{s.customers:,}",
                    "first" if sync is s.first else "re-sync",
                    c.invocations,
                    _f(c.gb_seconds),
                    _f(c.gb_seconds_real),
                    f"{c.wru:,.0f}",
                    f"{c.rru:,.0f}",
                    f"{c.sqs:,.0f}",
                    f"{c.secrets:,.0f}",
                    f"{c.dollars:.4f}",
                    f"{c.dollars_real:.4f}",
                ]
            )
    out.append(
        table(
            [
                "customers",
                "sync",
                "invocations",
                "GB-s",
                "GB-s real",
                "DDB WRU",
                "DDB RRU",
                "SQS req",
                "secret reads",
                "$",
                "$ real",
            ],
            cost_rows,
        )
    )
    out += [
        "",
        f"Real world: hosted Halo (300 calls / 5 min) at the default {REAL_HALO_PER_MINUTE}/min pacing",
    ]
    real_rows = []
    for s in sizes:
        for sync in (s.first, s.resync):
            worker = [j for j in sync.jobs if j.chunk >= 0]
            longest = max(worker, key=lambda j: j.projected_seconds(s.worker_memory_mb, s.workers))
            projected = longest.projected_seconds(s.worker_memory_mb, s.workers)
            real_rows.append(
                [
                    f"{s.customers:,}",
                    "first" if sync is s.first else "re-sync",
                    sync.halo_calls,
                    _f(sync.halo_calls / REAL_HALO_PER_MINUTE),
                    _f(projected_sync_seconds(sync, s) / 60),
                    f"{longest.phase} {longest.chunk}",
                    _f(projected, 0),
                    "yes" if projected < LAMBDA_TIMEOUT_SECONDS else "NO",
                ]
            )
    out.append(
        table(
            [
                "customers",
                "sync",
                "Halo calls",
                "min at 50/min",
                "projected min",
                "longest job",
                "projected s",
                "< 900 s",
            ],
            real_rows,
        )
    )
    planned = [
        (s, sync, j)
        for s in sizes
        for sync in (s.first, s.resync)
        for j in sync.jobs
        if j.phase == "plan-subscriptions" and j.timeline
    ]
    if planned:
        out += ["", "The subscription plan job's memory, step by step (worker RSS and peak RSS so far, MB)"]
        out.append(
            table(
                ["customers", "sync", "after", "RSS MB", "peak MB"],
                [
                    [
                        f"{s.customers:,}",
                        "first" if sync is s.first else "re-sync",
                        step,
                        _f(rss, 0),
                        _f(peak, 0),
                    ]
                    for s, sync, j in planned
                    for step, rss, peak in j.timeline
                ],
            )
        )
    traced = [(s, sync, j) for s in sizes for sync in (s.first, s.resync) for j in sync.jobs if j.memory_top]
    if traced:
        out += [
            "",
            "Where the subscription plan's memory is (tracemalloc; RSS and times above include its cost)",
        ]
        out.append(
            table(
                ["customers", "sync", "traced peak MB", "moment", "allocated at", "MB"],
                [
                    [
                        f"{s.customers:,}",
                        "first" if sync is s.first else "re-sync",
                        _f(j.traced_peak_mb or 0, 0),
                        moment,
                        where,
                        _f(mb),
                    ]
                    for s, sync, j in traced
                    for moment, where, mb in j.memory_top
                ],
            )
        )
    if imports:
        out += [
            "",
            "Cold import of each handler (median of 3 fresh interpreters; import self time by package)",
        ]
        out.append(
            table(
                ["function", "import ms", "where it goes (ms)"],
                [
                    [i.function, _f(i.milliseconds, 0), ", ".join(f"{m} {ms:.0f}" for m, ms in i.top)]
                    for i in imports
                ],
            )
        )
    if package:
        out += [
            "",
            "Deployment package (python3.13 arm64 layer = shared/ddhalo, shared/ddhalo_lambda "
            "+ shared/requirements.txt)",
        ]
        if package.layer_zip_bytes is None:
            out.append(f"  layer: {package.note}")
        else:
            largest = ", ".join(f"{name} {size / 1e6:.1f}" for name, size in package.largest)
            out.append(
                f"  layer: {_mb(package.layer_zip_bytes)} MB zipped, {_mb(package.layer_unzipped_bytes)} MB "
                f"unzipped (Lambda limit: 250 MB unzipped, with the functions); largest (MB): {largest}"
            )
        out.append(
            "  functions (zipped bytes): " + ", ".join(f"{k} {v:,}" for k, v in package.functions.items())
        )
    return "\n".join(out)


def targets(sizes: list[SizeResult], config: BenchConfig) -> tuple[list[tuple[str, bool, bool]], bool]:
    """(target, met, hard) per target, and whether every hard one is met."""
    checks: list[tuple[str, bool, bool]] = []
    for s in sizes:
        n = f"{s.customers:,}"
        checks += [
            (f"{n}: both syncs succeeded with no failed item", all(
                x.status == "succeeded" and not x.failed for x in (s.first, s.resync)), True),
            (f"{n}: unchanged re-sync wrote nothing to Halo ({s.resync.halo_writes} writes)",
             s.resync.halo_writes == 0, True),
            (f"{n}: Halo calls within 10% of the minimum (first {s.first.calls_ratio:.2f}x, "
             f"re-sync {s.resync.calls_ratio:.2f}x)",
             max(s.first.calls_ratio, s.resync.calls_ratio) <= 1.10, False),
        ]  # fmt: skip
    if sizes:
        big = max(sizes, key=lambda s: s.customers)
        ratio = big.first.wall_seconds / big.first.rate_bound(config.halo_requests_per_minute)
        checks.append(
            (
                f"{big.customers:,}: first sync's wall time within 25% of the rate bound ({ratio:.2f}x)",
                ratio <= 1.25,
                False,
            )
        )
        throttled = sum(s.first.halo_throttled + s.resync.halo_throttled for s in sizes)
        checks.append(
            (f"Halo never answered 429: the app kept under the limit ({throttled} answered 429)",
             throttled == 0, False)
        )  # fmt: skip
        peak = max(big.first.peak_rss_mb, big.resync.peak_rss_mb)
        checks.append(
            (f"{big.customers:,}: peak memory of any job under 256 MB ({peak:.0f} MB)", peak < 256, False)
        )
    return checks, all(met for _, met, hard in checks if hard)


# -- command line -------------------------------------------------------------------------------


def _sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(int(part.replace("_", "")) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            "a comma-separated list of customer counts, e.g. 100,1000,5000"
        ) from None
    if not sizes or min(sizes) < 1:
        raise argparse.ArgumentTypeError("sizes must be positive")
    return sizes


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    defaults = BenchConfig()
    parser = argparse.ArgumentParser(prog="python -m local.bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes", type=_sizes, default=defaults.sizes, help="customer counts (default: 100,1000,5000)"
    )
    parser.add_argument(
        "--subs", type=int, default=defaults.subs_per_customer, help="subscriptions per customer"
    )
    parser.add_argument("--latency", type=float, default=defaults.latency, help="seconds per upstream call")
    parser.add_argument(
        "--rate", type=int, default=defaults.halo_requests_per_minute, help="app's Halo calls/min"
    )
    parser.add_argument(
        "--halo-limit", type=int, default=defaults.halo_limit, help="fake's 429 threshold per minute"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker jobs at once (default: the template's WorkerConcurrency)",
    )
    parser.add_argument("--quick", action="store_true", help="CI smoke: 20 customers x 3, no package build")
    parser.add_argument(
        "--no-package", action="store_true", help="skip the deployment package build (needs PyPI)"
    )
    parser.add_argument("--no-imports", action="store_true", help="skip the cold import timings")
    parser.add_argument(
        "--trace-memory", action="store_true", help="tracemalloc in the workers: where the plan's memory is"
    )
    parser.add_argument("--json", type=Path, help="also write every measurement to this file")
    return parser.parse_args(argv)


def machine() -> str:
    memory = ""
    with contextlib.suppress(OSError):
        total_kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {total_kb / 1024 / 1024:.1f} GiB RAM"
    return (
        f"{platform.machine()}, {os.cpu_count()} CPUs{memory}, "
        f"Python {platform.python_version()}, {platform.system()}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse_args(argv)
    config = BenchConfig(
        sizes=(20,) if args.quick else args.sizes,
        subs_per_customer=3 if args.quick else args.subs,
        latency=args.latency,
        halo_requests_per_minute=args.rate,
        halo_limit=args.halo_limit,
        workers=args.workers,
        trace_memory=args.trace_memory,
    )
    print(f"Machine: {machine()}", flush=True)
    results = []
    started = time.perf_counter()
    for customers in config.sizes:
        print(f"... {customers:,} customers x {config.subs_per_customer} subscriptions", flush=True)
        results.append(run_size(customers, config))
    imports = None if args.no_imports else measure_imports(1 if args.quick else 3)
    package = None if (args.no_package or args.quick) else measure_package()
    print()
    print(report(config, results, imports, package))
    checks, ok = targets(results, config)
    print("\nTargets")
    for text, met, hard in checks:
        print(f"  [{'ok' if met else 'MISSED'}] {text}{'' if hard else ' (reported)'}")
    print(f"\nBench took {time.perf_counter() - started:.0f} s.")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "machine": machine(),
                    "config": asdict(config),
                    "sizes": [asdict(r) for r in results],
                    "imports": [asdict(i) for i in imports or []],
                    "package": asdict(package) if package else None,
                },
                indent=1,
            )
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
