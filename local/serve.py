"""`make serve`: the whole product on loopback, without Docker or `sam local`.

The HTTP API of `template.yaml` is served by the real handlers with API Gateway v2 events;
DynamoDB, Secrets Manager and SQS are moto; queued work is drained in-process so runs finish;
Dicker Data and Halo are the bundled fakes unless `DICKER_DATA_*` / `HALO_*` point elsewhere.
The contract is PRODUCT.md's "Running locally".

`make serve` keeps its state (the table's items, the secrets' values) in `.local-state/state.json`
between starts; `LocalApp` does only when given a `state_file` (tests do not). See `StateFile`.
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import hashlib
import json
import logging
import os
import re
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType, TracebackType
from typing import IO, TYPE_CHECKING, Any, Self
from urllib.parse import unquote, urlsplit, urlunsplit

from botocore.exceptions import BotoCoreError, ClientError

from local.aws import ACCOUNT_ID, LocalAws
from local.credentials import acting_as
from local.invoke import (
    LOCAL_OPERATOR_SCOPES,
    Invoker,
    forget_cached_clients,
    http_event,
    load_handler,
    scheduled_event,
    sqs_event,
)
from local.moto_memory import stop_tracking
from local.moto_speed import speed_up
from local.state_shape import (
    HALO_FAKE_TABLES,
    STATE_VERSION,
    TableKeys,
    shape_problem,
    template_problem,
    version_problem,
)
from local.template import DEFAULT_ROUTE, Route, ScheduleSource, SqsSource, Template, load_template

if TYPE_CHECKING:
    from local.fakes import HaloFake
    from local.fakes._server import FakeServer

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_TEMPLATE = ROOT / "template.yaml"
# Where `make serve` keeps its state between starts (git ignores `.local-state/`).
DEFAULT_STATE_FILE = ROOT / ".local-state" / "state.json"
# How a refusal of the state file ends: what the person can do about it.
STATE_FILE_FIX = "Fix or move the file, or start with FRESH=1 (--fresh) to discard it."
# How often a changed state is saved while running: a crash or `kill -9` loses at most this much.
SAVE_EVERY_SECONDS = 2.0
# What a run the runner stopped under says (its queued work is not kept: SQS is not saved).
STOPPED_RUN_ERROR = "The local runner stopped before this run finished; its queued work was not kept."
STOPPED_RUN_HINT = "Start the run again."
FAKE = "bundled fake"
DEFAULT_PORT = 3000
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload limit
SQS_WAIT_SECONDS = 1
# Between empty polls: short, so runs start promptly and stop() returns quickly.
IDLE_POLL_SECONDS = 0.05
# Lambda's SQS event source starts with five concurrent batches when no MaximumConcurrency is set.
DEFAULT_SQS_CONCURRENCY = 5
# Credentials of the bundled fakes: local and well known, never real.
FAKE_DICKER_DATA_ACCOUNT = "LOCAL01"
FAKE_DICKER_DATA_TOKEN = "local-dicker-data-token"
FAKE_HALO_CLIENT_ID = "local-halo-client"
FAKE_HALO_CLIENT_SECRET = "local-halo-secret"
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})

log = logging.getLogger("local.serve")


# -- upstreams --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DickerDataUpstream:
    base_url: str
    account_code: str | None = None
    access_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class HaloUpstream:
    api_url: str
    auth_url: str | None = None
    tenant: str | None = None
    client_id: str | None = field(default=None, repr=False)
    client_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Upstreams:
    """Where the upstream APIs are; `None` for one means "start its bundled fake"."""

    dicker_data: DickerDataUpstream | None = None
    halo: HaloUpstream | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] = os.environ) -> Upstreams:
        """Each upstream is real only when its URL variable is set (PRODUCT.md's contract)."""
        from ddhalo.settings.model import derive_halo_auth_url

        def get(name: str) -> str | None:
            return environ.get(name) or None

        dd = halo = None
        if base := get("DICKER_DATA_BASE_URL"):
            dd = DickerDataUpstream(base, get("DICKER_DATA_ACCOUNT_CODE"), get("DICKER_DATA_ACCESS_TOKEN"))
        elif get("DICKER_DATA_ACCOUNT_CODE") or get("DICKER_DATA_ACCESS_TOKEN"):
            log.warning("DICKER_DATA_BASE_URL is not set, so the Dicker Data fake is used anyway")
        if api := get("HALO_API_URL"):
            halo = HaloUpstream(
                api_url=api,
                auth_url=get("HALO_AUTH_URL") or derive_halo_auth_url(api),
                tenant=get("HALO_TENANT"),
                client_id=get("HALO_CLIENT_ID"),
                client_secret=get("HALO_CLIENT_SECRET"),
            )
        elif get("HALO_CLIENT_ID") or get("HALO_CLIENT_SECRET"):
            log.warning("HALO_API_URL is not set, so the Halo fake is used anyway")
        return cls(dd, halo)


def public_url(url: str) -> str:
    """The URL without any `user:password@` part, safe to print."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit(parts._replace(netloc=netloc))


# -- routing ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    pattern: re.Pattern[str]
    names: tuple[str, ...]

    @property
    def rank(self) -> tuple[bool, bool, int, bool]:
        """API Gateway prefers exact paths, then fewer placeholders, then a named method."""
        path = self.route.path
        return (
            path == DEFAULT_ROUTE,
            "+}" in path,
            -path.count("/") + path.count("{"),
            self.route.method == "ANY",
        )


def _compile(route: Route) -> _CompiledRoute:
    if route.path == DEFAULT_ROUTE:
        return _CompiledRoute(route, re.compile(r".*"), ())
    names: list[str] = []
    regex = ""
    for piece in re.split(r"(\{[^}]+\})", route.path):
        if piece.startswith("{") and piece.endswith("}"):
            greedy = piece.endswith("+}")
            names.append(piece[1 : -2 if greedy else -1])
            regex += "(.+)" if greedy else "([^/]+)"
        else:
            regex += re.escape(piece)
    return _CompiledRoute(route, re.compile(regex), tuple(names))


class Router:
    """Matches `METHOD /path` against the template's HttpApi routes."""

    def __init__(self, routes: list[Route]) -> None:
        self._routes = sorted((_compile(r) for r in routes), key=lambda c: c.rank)

    def match(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        for compiled in self._routes:
            if compiled.route.method not in ("ANY", method):
                continue
            found = compiled.pattern.fullmatch(raw_path)
            if found:
                return compiled.route, {
                    n: unquote(v) for n, v in zip(compiled.names, found.groups(), strict=True)
                }
        return None

    def allowed(self, raw_path: str) -> list[str]:
        """The methods of the most specific route path matching this path (for a 405, not a 404)."""
        matching = [c for c in self._routes if c.pattern.fullmatch(raw_path)]
        if not matching:
            return []
        best = min(matching, key=lambda c: c.rank).route.path
        return sorted({c.route.method for c in matching if c.route.path == best})


# -- HTTP -------------------------------------------------------------------------------------


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def lambda_http_response(result: Any) -> tuple[int, list[tuple[str, str]], bytes]:
    """An HTTP API v2 integration answer as (status, headers, body)."""
    if not (isinstance(result, dict) and "statusCode" in result):  # v2: anything else is a 200 JSON
        return 200, [("Content-Type", "application/json")], json.dumps(result).encode()
    multi = {k.lower(): (k, v) for k, v in (result.get("multiValueHeaders") or {}).items()}
    headers = [(k, str(v)) for k, v in (result.get("headers") or {}).items() if k.lower() not in multi]
    headers += [(k, str(v)) for k, values in multi.values() for v in values]
    headers += [("Set-Cookie", str(c)) for c in result.get("cookies") or []]
    body = result.get("body")
    text = body if isinstance(body, str) else "" if body is None else json.dumps(body)
    data = base64.b64decode(text) if result.get("isBase64Encoded") else text.encode()
    return int(result["statusCode"]), [(k, v) for k, v in headers if k.lower() not in _HOP_BY_HOP], data


class _ApiServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: LocalApp) -> None:
        self.app = app
        super().__init__(address, _ApiHandler)


class _PayloadTooLargeError(Exception):
    pass


class _ApiHandler(BaseHTTPRequestHandler):
    server: _ApiServer
    protocol_version = "HTTP/1.1"

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
        except _PayloadTooLargeError:
            self.close_connection = True
            self._send(
                413, [], error_body("payload_too_large", "The request body is over Lambda's 6 MB limit.")
            )
            return
        raw_path, _, raw_query = self.path.partition("?")
        status, headers, data = self.server.app.handle_http(
            self.command, raw_path, raw_query, list(self.headers.items()), body, self.client_address[0]
        )
        self._send(status, headers, data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.app.access_log:
            super().log_message(format, *args)

    def __getattr__(self, name: str) -> Any:
        """Any other method (TRACE, QUERY, ...) is routed too, so it gets a 404/405, not a 501."""
        if name.startswith("do_"):
            return self._dispatch
        raise AttributeError(name)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_PAYLOAD_BYTES:
            raise _PayloadTooLargeError
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        data = bytearray()
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            if len(data) + size > MAX_PAYLOAD_BYTES:
                raise _PayloadTooLargeError
            data += self.rfile.read(size)
            self.rfile.readline()
        while self.rfile.readline().strip():  # trailers
            pass
        return bytes(data)

    def _send(self, status: int, headers: list[tuple[str, str]], data: bytes) -> None:
        self.send_response(status)
        if not any(k.lower() == "content-type" for k, _ in headers) and data:
            headers = [*headers, ("Content-Type", "application/json")]
        for key, value in headers:
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


# -- background work --------------------------------------------------------------------------


def _failed_ids(source: SqsSource, result: Any, ids: list[str]) -> set[str]:
    """Which messages to keep, following Lambda's partial batch response rules."""
    if not source.report_batch_item_failures or not result:
        return set()
    if not isinstance(result, dict):
        return set(ids)
    failures = result.get("batchItemFailures") or []
    try:
        failed = {f["itemIdentifier"] for f in failures}
    except (TypeError, KeyError):
        return set(ids)  # a malformed answer fails the whole batch, as in Lambda
    return failed if failed <= set(ids) and all(failed) else set(ids)


class SqsPoller(threading.Thread):
    """One of an event source mapping's concurrent pollers: receive up to BatchSize, invoke,
    delete what succeeded. It receives and deletes with the function's role, as Lambda does."""

    def __init__(self, app: LocalApp, source: SqsSource, index: int = 0) -> None:
        super().__init__(name=f"sqs-{source.function_id}-{source.event_id}-{index}", daemon=True)
        self.app, self.source = app, source
        self.client = app.aws.client("sqs")
        self.queue_url = app.aws.queue_url(source.queue_id)
        self.queue_arn = app.aws.queue_arn(source.queue_id)
        self.credentials = app.aws.function_credentials(source.function_id)
        # The first poller checks often when idle; the others less, as they only add throughput.
        self.idle_seconds = IDLE_POLL_SECONDS * (1 + index)

    def run(self) -> None:
        while not self.app.stopping.is_set():
            try:
                self.poll_once()
            except Exception:
                if self.app.stopping.is_set():
                    return
                log.exception("polling %s failed", self.source.queue_id)
                self.app.stopping.wait(1)

    def _receive(self) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = []
        while len(messages) < self.source.batch_size:
            with acting_as(self.credentials):
                got = self._receive_some(len(messages))
            messages += got
            if not got or self.app.stopping.is_set():
                break
        return messages

    def _receive_some(self, have: int) -> list[dict[str, Any]]:
        got: list[dict[str, Any]] = self.client.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(10, self.source.batch_size - have),
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        return got

    def poll_once(self) -> int:
        """One batch; answers how many messages were handled successfully."""
        messages = self._receive()
        if not messages:
            self.app.stopping.wait(self.idle_seconds)
            return 0
        ids = [m["MessageId"] for m in messages]
        try:
            result = self.app.invoke(
                self.source.function_id, sqs_event(messages, self.queue_arn, self.app.aws.region)
            )
        except Exception:
            traceback.print_exc()
            failed = set(ids)
        else:
            failed = _failed_ids(self.source, result, ids)
        done = [m for m in messages if m["MessageId"] not in failed]
        with self.app.failed_lock:
            self.app.failed_deliveries += [
                (self.queue_url, m["ReceiptHandle"]) for m in messages if m["MessageId"] in failed
            ]
        for start in range(0, len(done), 10):
            with acting_as(self.credentials):
                self.client.delete_message_batch(
                    QueueUrl=self.queue_url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                        for i, m in enumerate(done[start : start + 10])
                    ],
                )
        return len(done)


class ScheduleTimer(threading.Thread):
    """Fires one Schedule/ScheduleV2 event every `period` seconds (local stand-in for its cron)."""

    def __init__(self, app: LocalApp, source: ScheduleSource, period: float) -> None:
        super().__init__(name=f"schedule-{source.function_id}-{source.event_id}", daemon=True)
        self.app, self.source, self.period = app, source, period

    def run(self) -> None:
        while not self.app.stopping.wait(self.period):
            try:
                self.app.fire_schedule(self.source)
            except Exception:
                traceback.print_exc()


# -- state between starts --------------------------------------------------------------------


class StateFileError(RuntimeError):
    """The state file cannot be used; it is left as it is."""


def shown_path(path: Path) -> Path:
    """A path as a person reads it: relative to the checkout when it is in it."""
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


class StateFile:
    """`make serve`'s state between starts, one JSON document:

    ``{"version": 1, "saved_at": ..., "tables": {logical id: [items]}, "secrets": {logical id:
    {"SecretString": ...}}, "seeded": {setting: fingerprint}, "upstreams": {system: URL or
    "bundled fake"}, "fakes": {"halo": {table: {id: record}}}}`` (`local.state_shape` says
    exactly). One that cannot be read or does not have that shape is refused, left as it is.

    Written atomically (a temporary file in the same directory, then a rename), mode 0600: it
    holds the credentials in plain text. A lock file next to it keeps a second runner from
    using the same state while one runs.
    """

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._lock: IO[str] | None = None

    def __str__(self) -> str:
        return str(self.path)

    def refuse(self, problem: str) -> StateFileError:
        """The error for ``problem``, a clause naming a place in the file (see `local.state_shape`)."""
        return StateFileError(f"{shown_path(self.path)}: {problem}. {STATE_FILE_FIX}")

    def _refuse_whole(self, problem: str) -> StateFileError:
        """The error for ``problem``, what the whole file "is" (not JSON, empty...)."""
        return StateFileError(f"{shown_path(self.path)} {problem}. {STATE_FILE_FIX}")

    def lock(self) -> None:
        """Hold the path for this runner; a path that cannot hold a state file is refused first,
        so that it is named as such (not met later as an OSError)."""
        shown = shown_path(self.path)
        if self.path.is_dir():
            raise StateFileError(
                f"{shown} is a directory, not a state file: move it, or give --state-file the path of a file."
            )
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            handle = open(self.path.with_name(self.path.name + ".lock"), "w")  # noqa: SIM115 (held until unlock)
        except OSError as exc:
            raise StateFileError(
                f"{shown} cannot be kept there ({exc.strerror}): give --state-file another path."
            ) from None
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise StateFileError(
                f"Another local runner is using {self.path}; stop it first (or give --state-file)."
            ) from None
        self._lock = handle

    def set_aside(self) -> Path:
        """Keep the file under another name (the next save starts a new one)."""
        aside = self.path.with_name(f"{self.path.stem}.{int(time.time())}.aside{self.path.suffix}")
        self.path.rename(aside)
        return aside

    def unlock(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing releases the lock
            self._lock = None

    def load(self) -> dict[str, Any] | None:
        """The saved state, or None when there is none; refused unless it has the file's shape."""
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateFileError(
                f"{shown_path(self.path)} cannot be read ({exc.strerror}). {STATE_FILE_FIX}"
            ) from None
        state = self._parse(data)
        if problem := version_problem(state):
            raise self._refuse_whole(problem)
        if problem := shape_problem(state):
            raise self.refuse(problem)
        loaded: dict[str, Any] = state
        return loaded

    def _parse(self, data: bytes) -> Any:
        """The file's JSON, or one sentence on why it cannot be read as JSON."""
        if not data.strip():
            raise self._refuse_whole("is empty")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise self._refuse_whole(f"is not UTF-8 text (at byte {exc.start})") from None
        try:
            return json.loads(text)
        except ValueError as exc:
            raise self._refuse_whole(f"is not valid JSON ({exc})") from None
        except RecursionError:
            raise self._refuse_whole("is nested too deeply to read") from None

    def save(self, state: dict[str, Any]) -> None:
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(state, out, separators=(",", ":"))
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, self.path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def fingerprint(value: str) -> str:
    """What the state file remembers of a seeded value: enough to see that it changed."""
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def _fake_records(fake: HaloFake) -> dict[str, dict[str, Any]]:
    """The Halo fake's tables as JSON-ready data (record ids as strings)."""
    with fake.lock:
        tables = {name: {str(k): v for k, v in getattr(fake, name).items()} for name in HALO_FAKE_TABLES}
        copied: dict[str, dict[str, Any]] = json.loads(json.dumps(tables))
    return copied


def _restore_fake_records(fake: HaloFake, saved: dict[str, dict[str, Any]]) -> None:
    with fake.lock:
        for name in HALO_FAKE_TABLES:
            setattr(fake, name, {int(k): v for k, v in (saved.get(name) or {}).items()})


def _describe(upstreams: Mapping[str, str]) -> str:
    return ", ".join(f"{key}: {value}" for key, value in sorted(upstreams.items()))


class StateSaver(threading.Thread):
    """Saves the state every few seconds when something changed."""

    def __init__(self, app: LocalApp) -> None:
        super().__init__(name="local-state", daemon=True)
        self.app = app

    def run(self) -> None:
        pause = SAVE_EVERY_SECONDS
        while not self.app.stopping.wait(pause):
            started = time.monotonic()
            try:
                self.app.save_state()
            except Exception:
                log.exception("saving the local state to %s failed", self.app.state_file)
            # A large state takes a while to copy: never spend more than a fifth of the time on it.
            pause = max(SAVE_EVERY_SECONDS, 4 * (time.monotonic() - started))


# -- the app ----------------------------------------------------------------------------------


class LocalApp:
    """Everything `make serve` runs, startable in-process (tests use `port=0`)."""

    def __init__(
        self,
        port: int = DEFAULT_PORT,
        upstreams: Upstreams | None = None,
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
        self.state_file = StateFile(state_file) if state_file is not None else None
        self.fresh = fresh
        # What the last start seeded, by setting (fingerprints; see `_seed_settings`).
        self.seeded: dict[str, str] = {}
        self.restored_items: int | None = None  # None: no state was restored
        self.stopped_runs: list[str] = []  # runs the previous runner left queued or running
        self._state_ready = False  # saving would not lose what the file holds
        self._saved_writes: tuple[int, int] | None = None
        self._saved_fake_halo: dict[str, dict[str, Any]] | None = None  # to restore, not sample data
        self._saved_upstreams: dict[str, str] = {}
        self._state_to_restore: dict[str, Any] | None = None  # read before moto starts
        self._state_lock = threading.Lock()
        self.template: Template = load_template(template)
        self.port, self.host = port, host
        self.upstreams = upstreams
        self.schedule_every = schedule_every
        self.seed = seed
        self.aws = LocalAws(self.template)
        self.stopping = threading.Event()
        self.router = Router(self.template.routes)
        self.invoker: Invoker | None = None
        self.fakes: dict[str, FakeServer] = {}  # the bundled fakes started, by upstream
        self.upstream_urls: dict[str, str] = {}
        self._server: _ApiServer | None = None
        self._threads: list[threading.Thread] = []
        # Messages whose invocation failed: SQS hands them out again after the visibility timeout.
        self.failed_deliveries: list[tuple[str, str]] = []
        self.failed_lock = threading.Lock()

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("LocalApp is not started")
        return f"http://{self.host}:{self._server.server_address[1]}"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

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
        for layer in self.template.layer_dirs:
            for path in (layer / "python", layer):
                if path.is_dir() and str(path) not in sys.path:
                    sys.path.insert(0, str(path))
        self._read_state()  # a state file that cannot be used is refused before anything starts
        stop_tracking()  # moto's instance tracking would keep every item and table copy forever
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
        self._restore_state()
        if self.seed:
            self._seed_settings(Upstreams.from_env() if self.upstreams is None else self.upstreams)
        for fn in self.template.functions.values():  # import errors show at start, not mid-request
            try:
                load_handler(fn)
            except Exception:
                log.exception("cannot import %s's handler %s", fn.logical_id, fn.handler)
        self._server = _ApiServer((self.host, self.port), self)
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
        if self.state_file is not None:
            self._state_ready = True  # only a runner that started saves (it holds the state)
            self._spawn(StateSaver(self))

    def concurrency(self, source: SqsSource) -> int:
        """Invocations the event source runs at once: its MaximumConcurrency (else Lambda's
        initial five), capped by the function's ReservedConcurrentExecutions."""
        wanted = source.maximum_concurrency or DEFAULT_SQS_CONCURRENCY
        reserved = self.template.functions[source.function_id].reserved_concurrency
        return max(0, min(wanted, reserved)) if reserved is not None else wanted

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
            thread.join(timeout=SQS_WAIT_SECONDS + 5)
        self._threads.clear()
        if self._state_ready:
            self._state_ready = False
            try:
                self.save_state(ready=True)
            except Exception:
                log.exception("saving the local state to %s failed", self.state_file)
        if self.state_file is not None:
            self.state_file.unlock()
        for fake in self.fakes.values():
            fake.stop()
        self.fakes.clear()
        self.aws.stop()

    # -- state between starts ---------------------------------------------------------------
    def _read_state(self) -> None:
        """Before anything starts: what of the saved state to restore. A file that could not be
        restored whole is refused (the next save would drop what was left out); one made
        against other upstreams is set aside."""
        self.seeded, self.restored_items, self.stopped_runs = {}, None, []
        self._saved_writes = None  # the new stack counts its writes from 0: save once at least
        self._saved_fake_halo, self._saved_upstreams, self._state_to_restore = None, {}, None
        if self.state_file is None:
            return
        self.state_file.lock()
        if self.fresh:
            self.state_file.discard()
            return
        state = self.state_file.load()
        if state is None:
            return
        saved, now = dict(state.get("upstreams") or {}), self._planned_upstreams()
        if self.seed and saved and now and saved != now:
            # Another Dicker Data or Halo: its mappings and links name another Halo's records.
            # Kept aside, not loaded, so nothing stale is written to the Halo in use.
            aside = self.state_file.set_aside()
            log.warning(
                "The saved state was made against %s; this start uses %s: starting fresh (the old "
                "state is kept in %s).",
                _describe(saved),
                _describe(now),
                aside,
            )
            return
        tables = {res.logical_id: TableKeys.of(res.properties) for res in self.template.tables}
        secrets = [res.logical_id for res in self.template.secrets]
        if problem := template_problem(state, tables, secrets):
            raise self.state_file.refuse(problem)
        self._state_to_restore = state
        self.seeded = dict(state.get("seeded") or {})
        self._saved_fake_halo = (state.get("fakes") or {}).get("halo")
        self._saved_upstreams = saved

    def _restore_state(self) -> None:
        """Before seeding: put the saved items and secrets back into the new moto resources."""
        state, self._state_to_restore = self._state_to_restore, None
        if state is None or self.state_file is None:
            return
        tables: dict[str, list[dict[str, Any]]] = dict(state.get("tables") or {})
        if self.seed:
            tables = {lid: self._without_locks(items) for lid, items in tables.items()}
        try:
            self.restored_items = self.aws.restore({**state, "tables": tables})
        except (BotoCoreError, ClientError) as exc:  # what the checks of its shape do not foresee
            raise self.state_file.refuse(
                f"moto refused to restore it ({' '.join(str(exc).split())})"
            ) from None
        if self.seed:
            self._fail_stopped_runs(tables)

    @staticmethod
    def _without_locks(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Locks (the Halo lock, job leases, the settings mutex) were held by the stopped
        runner's work: none of it runs any more, so none of them is restored."""
        from ddhalo.store.locks import LOCK_PK

        return [item for item in items if item.get("pk") != {"S": LOCK_PK}]

    def _fail_stopped_runs(self, tables: dict[str, list[dict[str, Any]]]) -> None:
        """A run left queued or running by the stopped runner will never go on (its queue
        messages are not saved): it is marked failed, saying so, and may be started again."""
        from ddhalo.store import Store
        from ddhalo.store.table import RUN_SK

        table = os.environ.get("TABLE_NAME")
        if not table:
            return
        logical = [lid for lid in tables if self.aws.resolver.refs.get(lid) == table]
        store = Store(table)
        for lid in logical:
            for item in tables[lid]:
                if item.get("sk") != {"S": RUN_SK} or "run_id" not in item:
                    continue
                if item.get("status", {}).get("S") not in ("queued", "running"):
                    continue
                run_id = item["run_id"].get("S")
                if isinstance(run_id, str) and store.set_run_status(
                    run_id,
                    "failed",
                    error=STOPPED_RUN_ERROR,
                    hint=STOPPED_RUN_HINT,
                    only_if=("queued", "running"),
                ):
                    self.stopped_runs.append(run_id)
        if self.stopped_runs:
            log.warning(
                "%d run(s) the last local runner left unfinished are marked failed: %s",
                len(self.stopped_runs),
                ", ".join(self.stopped_runs),
            )

    def save_state(self, *, ready: bool = False) -> bool:
        """Save the tables' items, the secrets and the Halo fake's records when something changed
        since the last save; answers whether it wrote. Only a started runner saves (`ready`: the
        last save, on stop)."""
        if self.state_file is None or not (self._state_ready or ready):
            return False
        from local.fakes import HaloFake

        started = self.fakes.get("halo")
        halo_fake = started if isinstance(started, HaloFake) else None
        with self._state_lock:
            writes = (self.aws.writes, halo_fake.writes if halo_fake is not None else 0)
            if writes == self._saved_writes:
                return False
            state: dict[str, Any] = {
                "version": STATE_VERSION,
                "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
                "note": "make serve's local state; it holds the credentials in plain text.",
                **self.aws.snapshot(),
                "seeded": self.seeded,
                "upstreams": self.upstream_names(),
            }
            if halo_fake is not None:
                state["fakes"] = {"halo": _fake_records(halo_fake)}
            self.state_file.save(state)
            self._saved_writes = writes
        return True

    # -- upstreams and settings ---------------------------------------------------------------
    def _seed_settings(self, upstreams: Upstreams) -> None:
        """Start the fakes that are needed and store every upstream setting through the core."""
        from pydantic import ValidationError

        from ddhalo.errors import InputError
        from ddhalo.secrets import SecretStore
        from ddhalo.settings.service import update_settings
        from ddhalo.settings.update import SettingsUpdate
        from ddhalo.store import Store
        from ddhalo.validation import describe_validation
        from ddhalo_lambda.environment import Environment

        dd, halo = upstreams.dicker_data, upstreams.halo
        if dd is None:
            dd = self._start_dicker_data_fake()
        if halo is None:
            halo = self._start_halo_fake()
        self.upstream_urls = {"dicker_data": dd.base_url, "halo": halo.api_url}
        values = {
            "dicker_data_base_url": dd.base_url,
            "dicker_data_account_code": dd.account_code,
            "dicker_data_access_token": dd.access_token,
            "halo_api_url": halo.api_url,
            "halo_auth_url": halo.auth_url,
            "halo_tenant": halo.tenant,
            "halo_client_id": halo.client_id,
            "halo_client_secret": halo.client_secret,
            # Where the digest of each run that left something for a person is posted as well.
            "webhook_url": os.environ.get("WEBHOOK_URL"),
        }
        table, secret = os.environ.get("TABLE_NAME"), os.environ.get("SECRET_ID")
        if not table or not secret:
            raise RuntimeError("The template sets no TABLE_NAME/SECRET_ID, so settings cannot be seeded")
        given = {k: v for k, v in values.items() if v}
        prints = {k: fingerprint(v) for k, v in given.items()}
        # A value seeded by the last start with the same value is not seeded again, so what was
        # changed since through PUT /settings stays; a changed (or new) variable wins.
        changed = {k: v for k, v in given.items() if self.seeded.get(k) != prints[k]}
        if changed:
            # Held to the rules PUT /settings is held to, with the functions' switch (loopback).
            loopback = Environment.from_env(os.environ).allow_loopback_upstreams
            try:
                update = SettingsUpdate.model_validate(changed)
            except ValidationError as exc:  # said as the API says it (no value: it may be a secret)
                raise InputError(describe_validation(list(exc.errors()))) from None
            update_settings(Store(table), SecretStore(secret), update, allow_loopback=loopback)
        self.seeded = prints
        now = self.upstream_names()
        if self._saved_upstreams and self._saved_upstreams != now:
            log.warning(
                "The saved state was made against %s; this start uses %s: its mappings and links may "
                "not fit (make serve FRESH=1 starts over).",
                _describe(self._saved_upstreams),
                _describe(now),
            )

    def _start_dicker_data_fake(self) -> DickerDataUpstream:
        from local.fakes import DickerDataFake
        from local.fakes.sample_data import sample_dicker_data

        tenants, subscriptions = sample_dicker_data()
        fake = DickerDataFake(
            account_code=FAKE_DICKER_DATA_ACCOUNT,
            access_token=FAKE_DICKER_DATA_TOKEN,
            tenants=tenants,
            subscriptions=subscriptions,
        ).start()
        self.fakes["dicker_data"] = fake
        return DickerDataUpstream(fake.base_url, FAKE_DICKER_DATA_ACCOUNT, FAKE_DICKER_DATA_TOKEN)

    def _start_halo_fake(self) -> HaloUpstream:
        from local.fakes import HaloFake
        from local.fakes.sample_data import sample_halo

        fake = HaloFake(client_id=FAKE_HALO_CLIENT_ID, client_secret=FAKE_HALO_CLIENT_SECRET).start()
        if self._saved_fake_halo is not None:  # what it held when the last runner stopped
            _restore_fake_records(fake, self._saved_fake_halo)
        else:
            sample_halo(fake)
        self.fakes["halo"] = fake
        return HaloUpstream(
            fake.api_url, fake.auth_url, client_id=FAKE_HALO_CLIENT_ID, client_secret=FAKE_HALO_CLIENT_SECRET
        )

    def _planned_upstreams(self) -> dict[str, str]:
        """``upstream_names()`` as this start will have them, known before anything is seeded."""
        upstreams = Upstreams.from_env() if self.upstreams is None else self.upstreams
        names = {}
        for key, given in (("dicker_data", upstreams.dicker_data), ("halo", upstreams.halo)):
            url = getattr(given, "base_url", None) or getattr(given, "api_url", None)
            names[key] = public_url(url) if given is not None and url else FAKE
        return dict(sorted(names.items()))

    def upstream_names(self) -> dict[str, str]:
        """Which upstreams this start uses: a URL (without credentials) or the bundled fake."""
        return {
            key: FAKE if key in self.fakes else public_url(url)
            for key, url in sorted(self.upstream_urls.items())
        }

    # -- invoking -----------------------------------------------------------------------------
    def invoke(self, function_id: str, event: Any) -> Any:
        if self.invoker is None:
            raise RuntimeError("LocalApp is not started")
        return self.invoker.invoke(function_id, event)

    def handle_http(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        """One request through the matching handler; never raises."""
        found = self.router.match(method, raw_path)
        if found is None:
            allowed = self.router.allowed(raw_path)
            if allowed:
                message = f"{method} is not allowed on {raw_path}; use {', '.join(allowed)}."
                return 405, [("Allow", ", ".join(allowed))], error_body("method_not_allowed", message)
            return 404, [], error_body("not_found", f"No route {method} {raw_path}")
        route, params = found
        event = http_event(
            method,
            raw_path,
            raw_query,
            headers,
            body,
            route_key=route.route_key,
            path_parameters=params,
            source_ip=source_ip,
            account_id=ACCOUNT_ID,
            scopes=LOCAL_OPERATOR_SCOPES if route.auth else None,
        )
        if len(json.dumps(event)) > MAX_PAYLOAD_BYTES:
            return (
                413,
                [],
                error_body("payload_too_large", "The request is over Lambda's 6 MB payload limit."),
            )
        try:
            return lambda_http_response(self.invoke(route.function_id, event))
        except Exception as exc:
            traceback.print_exc()
            message = f"{route.function_id} raised {type(exc).__name__}; see the server's log."
            return 500, [], error_body("internal_error", message)

    def redeliver_failed(self) -> int:
        """Let the visibility timeout of failed messages pass now (a crashed job's retry comes
        back after 16 minutes in AWS); answers how many were made visible again."""
        with self.failed_lock:
            failed, self.failed_deliveries = self.failed_deliveries, []
        sqs = self.aws.client("sqs")
        for queue_url, receipt in failed:
            sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=receipt, VisibilityTimeout=0)
        return len(failed)

    def fire_schedule(self, source: ScheduleSource) -> Any:
        """Invoke a schedule's function once, as its rule or schedule would."""
        name = f"{self.aws.prefix}-{source.function_id}-{source.event_id}"
        service, kind = ("events", "rule") if source.kind == "Schedule" else ("scheduler", "schedule/default")
        arn = f"arn:aws:{service}:{self.aws.region}:{ACCOUNT_ID}:{kind}/{name}"
        return self.invoke(
            source.function_id, scheduled_event(arn, self.aws.region, ACCOUNT_ID, source.input)
        )

    # -- banner -------------------------------------------------------------------------------
    def banner(self, *, brief: bool = False) -> str:
        """What is running where; ``brief``: only the URLs (a tool that prints a report)."""

        def upstream(key: str, label: str) -> Iterator[str]:
            if key in self.upstream_urls:
                note = "  (fake, sample data)" if key in self.fakes else ""
                yield f"  {label:<12} {public_url(self.upstream_urls[key])}{note}"

        lines = [
            "Dicker Data to HaloPSA, running locally (no auth on loopback)",
            f"  {'API':<12} {self.url}",
            *upstream("dicker_data", "Dicker Data"),
            *upstream("halo", "Halo"),
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
        if self.state_file is not None:
            if self.restored_items is None:
                kept = "new"
            else:
                kept = f"restored {self.restored_items} items"
                if self.stopped_runs:
                    kept += f"; {len(self.stopped_runs)} unfinished run(s) marked failed"
            shown = shown_path(self.state_file.path)
            lines.append(f"  {'State':<12} {shown} ({kept}); FRESH=1 / --fresh starts over")
        lines.append("Press Ctrl+C to stop.")
        return "\n".join(lines)


# -- command line -----------------------------------------------------------------------------


def _positive_seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("must be a positive number of seconds")
    return value


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m local.serve", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("PORT") or DEFAULT_PORT),
        help="port on 127.0.0.1 (default: $PORT or 3000; 0 picks a free one)",
    )
    parser.add_argument("--template", type=Path, default=DEFAULT_TEMPLATE, help="SAM template to serve")
    parser.add_argument(
        "--state-file",
        type=Path,
        default=DEFAULT_STATE_FILE,
        metavar="PATH",
        help="where settings, secrets, mappings and runs are kept between starts "
        f"(default: {DEFAULT_STATE_FILE.relative_to(ROOT)} in the checkout; credentials in plain text)",
    )
    parser.add_argument(
        "--fresh", action="store_true", help="discard the saved state and start from the seeded defaults"
    )
    parser.add_argument(
        "--schedule-every",
        type=_positive_seconds,
        metavar="SECONDS",
        default=None,
        help="fire every Schedule event this often (default: never)",
    )
    return parser.parse_args(argv)


def app_from_args(args: argparse.Namespace) -> LocalApp:
    """The app `make serve` runs: unlike the default `LocalApp`, it keeps its state in a file."""
    return LocalApp(
        args.port,
        template=args.template,
        schedule_every=args.schedule_every,
        state_file=args.state_file,
        fresh=args.fresh,
    )


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(name)s: %(levelname)s %(message)s", stream=sys.stderr
    )
    logging.getLogger("local").setLevel(logging.INFO)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    app = app_from_args(args)
    try:
        app.start()
    except StateFileError as exc:
        print(f"Cannot start: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"Cannot start: {exc} (is port {args.port} in use? set PORT or --port)", file=sys.stderr)
        return 1
    except Exception as exc:
        from ddhalo.errors import InputError  # importable once the start put the layer on the path

        if not isinstance(exc, InputError):
            raise
        # An upstream variable the functions' URL rule refuses (169.254.169.254, http:// to a host).
        print(
            f"Cannot start: {exc.message} Set the upstream variables to public https:// URLs.",
            file=sys.stderr,
        )
        return 1
    try:
        print(app.banner(), flush=True)
        while not stop.wait(1):
            pass
    finally:
        app.stop()
    print("Stopped.", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
