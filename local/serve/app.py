"""`LocalApp`: everything `make serve` runs, wired together and startable in-process.

It starts moto with the template's resources, the handlers (`local.invoke`), the upstreams
(`upstreams`), the HTTP API (`http_server`), the SQS pollers (`sqs_poller`), the schedule
timers (`timer`) and, when given a state file, what keeps the state between starts
(`kept_state`); and stops them in reverse order.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from local.aws import ACCOUNT_ID, LocalAws
from local.invoke import Invoker, forget_cached_clients, load_handler
from local.lifecycle import Started
from local.moto_memory import let_go
from local.patches.moto import speed_up
from local.serve import sqs_poller
from local.serve.http_server import ApiServer, HttpApi
from local.serve.kept_state import KeptState
from local.serve.paths import DEFAULT_TEMPLATE, shown_path
from local.serve.sqs_poller import FailedDeliveries, SqsPoller
from local.serve.state_file import StateFile
from local.serve.timer import ScheduleTimer
from local.serve.upstreams import (
    UpstreamTargets,
    UpstreamTargetsInUse,
    planned_names,
    public_url,
    seed_settings,
)
from local.template import SqsSource, Template, load_template

if TYPE_CHECKING:
    from local.fakes._server import FakeServer

DEFAULT_PORT = 3000
# How long stop() waits for each of its threads to end.
THREAD_STOP_SECONDS = 6

log = logging.getLogger(__name__)


class LocalApp(Started):
    """Everything `make serve` runs, startable in-process (tests use `port=0`)."""

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        upstreams: UpstreamTargets | None = None,
        *,
        template: Path | str = DEFAULT_TEMPLATE,
        host: str = "127.0.0.1",
        schedule_every: float | None = None,
        seed: bool = True,
        access_log: bool = True,
        state_file: Path | str | None = None,
        fresh: bool = False,
    ) -> None:
        """`seed=False` skips the fakes and settings seeding (for templates of other projects);
        `access_log=False` keeps the request lines off stderr (a tool printing its own report);
        `state_file`: where the tables' items and the secrets are kept between starts (None, the
        default: nowhere, every start is new); `fresh`: discard that file's state first."""
        self.access_log = access_log
        self.template: Template = load_template(template)
        self.port, self.host = port, host
        self.upstreams = upstreams
        self.schedule_every = schedule_every
        self.seed = seed
        self.aws = LocalAws(self.template)
        self.stopping = threading.Event()
        # `self.invoke` looked up at each request, so that wrapping it (a test) wraps HTTP too.
        self.http_api = HttpApi(self.template.routes, lambda fid, event: self.invoke(fid, event))
        self.invoker: Invoker | None = None
        self.in_use = UpstreamTargetsInUse()
        file = StateFile(state_file) if state_file is not None else None
        self.kept = KeptState(file, self.template, self.aws, self.in_use, fresh=fresh, seed=seed)
        self._server: ApiServer | None = None
        self._threads: list[threading.Thread] = []
        self.failed = FailedDeliveries()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("LocalApp is not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    @property
    def fakes(self) -> dict[str, FakeServer]:
        """The bundled fakes this start runs, by upstream."""
        return self.in_use.fakes

    # -- lifecycle ----------------------------------------------------------------------------
    def start(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        self.stopping.clear()
        self._put_layers_on_path()
        self.kept.read(lambda: planned_names(self._given_upstreams()))  # refused before anything starts
        self._start_aws()
        self.kept.restore()
        if self.seed:
            dd, halo = self.in_use.start(self._given_upstreams(), self.kept.fill_halo)
            self.kept.seeded = seed_settings(dd, halo, self.kept.seeded)
            self.kept.warn_of_other_upstreams()
        for fn in self.template.functions.values():  # import errors show at start, not mid-request
            try:
                load_handler(fn)
            except Exception:
                log.exception("cannot import %s's handler %s", fn.logical_id, fn.handler)
        self._start_threads()

    def _put_layers_on_path(self) -> None:
        """The handlers import the layers' packages, as they do in Lambda."""
        for layer in self.template.layer_dirs:
            for path in (layer / "python", layer):
                if path.is_dir() and str(path) not in sys.path:
                    sys.path.insert(0, str(path))

    def _given_upstreams(self) -> UpstreamTargets:
        return UpstreamTargets.from_env() if self.upstreams is None else self.upstreams

    def _start_aws(self) -> None:
        """moto with the template's resources, and the invoker of the functions that use them."""
        let_go()  # moto's instance tracking would keep every item and table copy forever
        speed_up()  # moto's Query and transactions cost O(table) per request; DynamoDB's do not
        self.aws.start()
        self.aws.apply_function_environment()
        forget_cached_clients()
        self.invoker = Invoker(
            self.template.functions,
            {fid: self.aws.function_name(fid) for fid in self.template.functions},
            self.aws.region,
            ACCOUNT_ID,
            self.aws.function_credentials_by_id,
        )

    def _start_threads(self) -> None:
        """The HTTP server, the SQS pollers, the schedule timers and the state saver."""
        self._server = ApiServer((self.host, self.port), self.http_api, access_log=self.access_log)
        self._spawn(
            threading.Thread(target=self._server.serve_forever, args=(0.05,), name="local-api", daemon=True)
        )
        for source in self.template.sqs_sources:
            if source.enabled:
                for index in range(self.concurrency(source)):
                    self._spawn(SqsPoller(self, source, index))
        if self.schedule_every and self.schedule_every > 0:
            for schedule in self.template.schedules:
                if schedule.enabled:
                    self._spawn(ScheduleTimer(self, schedule, self.schedule_every))
        if saver := self.kept.saver(self.stopping):
            self._spawn(saver)

    def concurrency(self, source: SqsSource) -> int:
        """Invocations the event source runs at once (see `sqs_poller.concurrency`)."""
        return sqs_poller.concurrency(source, self.template.functions[source.function_id])

    def _spawn(self, thread: threading.Thread) -> None:
        thread.start()
        self._threads.append(thread)

    def stop(self) -> None:
        """Idempotent; stops in reverse order so nothing talks to a stopped dependency."""
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        for thread in self._threads:
            thread.join(timeout=THREAD_STOP_SECONDS)
        self._threads.clear()
        self.kept.stop()
        self.in_use.stop()
        self.aws.stop()

    # -- invoking -----------------------------------------------------------------------------
    def invoke(self, function_id: str, event: Any) -> Any:
        if self.invoker is None:
            raise RuntimeError("LocalApp is not started")
        return self.invoker.invoke(function_id, event)

    def redeliver_failed(self) -> int:
        """Let the visibility timeout of failed messages pass now; answers how many were made
        visible again."""
        return self.failed.redeliver(self.aws.client("sqs"))

    # -- banner -------------------------------------------------------------------------------
    def banner(self, *, brief: bool = False) -> str:
        """What is running where; ``brief``: only the URLs (a tool that prints a report)."""
        lines = [
            "Dicker Data to HaloPSA, running locally (no auth on loopback)",
            f"  {'API':<12} {self.url}",
            *self._upstream_lines("dicker_data", "Dicker Data"),
            *self._upstream_lines("halo", "Halo"),
            f"  {'AWS (moto)':<12} {self.aws.endpoint_url}",
        ]
        if brief:
            return "\n".join(lines)
        lines += [
            "  IAM:        each function calls AWS as its role from the synthesized template; "
            "what its policies do not allow is refused",
            "  Routes:     " + ", ".join(r.route_key for r in self.template.routes),
        ]
        if self.template.sqs_sources:
            lines.append(
                "  Queues:     "
                + ", ".join(
                    f"{s.queue_id} ({self.concurrency(s)} at once)" for s in self.template.sqs_sources
                )
                + ", drained in-process"
            )
        if self.schedule_every and self.template.schedules:
            lines.append(f"  Schedules:  fired every {self.schedule_every:g} s")
        lines += self._state_lines()
        lines.append("Press Ctrl+C to stop.")
        return "\n".join(lines)

    def _upstream_lines(self, key: str, label: str) -> Iterator[str]:
        if key in self.in_use.urls:
            note = "  (fake, sample data)" if key in self.in_use.fakes else ""
            yield f"  {label:<12} {public_url(self.in_use.urls[key])}{note}"

    def _state_lines(self) -> list[str]:
        kept = self.kept
        if kept.file is None:
            return []
        if kept.restored_items is None:
            told = "new"
        else:
            told = f"restored {kept.restored_items} items"
            if kept.stopped_runs:
                told += f"; {len(kept.stopped_runs)} unfinished run(s) marked failed"
        return [f"  {'State':<12} {shown_path(kept.file.path)} ({told}); FRESH=1 / --fresh starts over"]
