"""The worker "containers" (child processes), the meter of their AWS requests and the job watch."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import resource
import sys
import threading
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from local.bench.capacity import capacity
from local.bench.config import ACCOUNT_ID, WORKER_FUNCTION
from local.bench.results import JobReport


class Meter:
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
        """In a worker process: meter botocore's requests, and read each job's log lines (what
        the product tells CloudWatch Logs, ``ddhalo.job_log``)."""
        import logging

        import botocore.client

        from ddhalo.job_log import logger

        botocore.client.BaseClient._make_api_call = self._metered(botocore.client.BaseClient._make_api_call)
        logging.getLogger(logger.name).addHandler(_job_watch_type()(self))


def _job_watch_type() -> type[Any]:
    import logging

    class JobWatch(logging.Handler):
        """What the bench reads of each job from its log lines: the RSS and peak RSS after each
        step (reading /proc is cheap, so this is always on: which step sets the job's peak), its
        calls and waits, and with ``--trace-memory`` where the subscription plan job's memory is,
        by the line of our code that allocated it (tracing only that job: tracemalloc slows
        everything it watches)."""

        def __init__(self, meter: Meter) -> None:
            super().__init__()
            self.meter = meter
            self.tracing = False

        def emit(self, record: logging.LogRecord) -> None:
            event = getattr(record, "job_event", None)
            if event == "started":
                self.job_started(str(getattr(record, "phase", "")))
            elif event == "step":
                self.step(str(getattr(record, "step", "")))
            elif event == "finished":
                self.job_finished(record.__dict__)

        def job_started(self, phase: str) -> None:
            if self.meter.trace_memory and phase == "plan-subscriptions":
                tracemalloc.start(12)
                self.tracing = True

        def step(self, name: str) -> None:
            timeline = self.meter.timeline
            if not timeline or timeline[-1][0] != name:  # one mark per run of a step
                timeline.append((name, _rss_kb("VmRSS") / 1024, _rss_kb("VmHWM") / 1024))
            if self.tracing and name in ("Halo licences read", "planned"):
                self._snapshot(f"after {name}")

        def job_finished(self, stats: dict[str, Any]) -> None:
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
    container: int = 0,
) -> None:
    """One warm worker "container": import the handler once, then run the jobs it is handed."""
    os.environ.clear()
    os.environ.update(env)
    sys.path[:0] = [p for p in sys_path if p not in sys.path]
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - Powertools logs a JSON line per job
    from ddhalo.jobs.job import Job
    from local.invoke import Invoker, load_handler
    from local.template import load_template

    meter = Meter()
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
            chunk=Job.model_validate(body).chunk if body else "",
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
            container=container,
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
        # What the allocator reads when a process starts (the worker's MALLOC_* variables): Lambda
        # starts the runtime with them, so each child is started with them too.
        at_start = {
            k: v
            for k, v in app.template.functions[WORKER_FUNCTION].environment.items()
            if k.startswith("MALLOC_")
        }
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
                    n,
                ),
                name=f"bench-worker-{n}",
                daemon=True,
            )
            with _environ(at_start):
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


@contextlib.contextmanager
def _environ(values: dict[str, str]) -> Iterator[None]:
    """``values`` in this process's environment while the block runs (a spawned child copies it)."""
    before = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in before.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
