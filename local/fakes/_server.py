"""Shared machinery of the local upstream fakes: a real HTTP server on loopback.

A real server (not a mocked `requests`) exercises the project's clients end to end: URLs,
headers, keep-alive, timeouts and retries behave as against the real Dicker Data and Halo, and
the same fakes serve pytest, the local dev runner and benchmarks.

Every request goes through `FakeServer._serve`: it is recorded (`calls`, `requests`), delayed by
`latency`, then answered by the subclass's `admit` gatekeeping (rate limits, request checks),
a scripted or random fault, or the subclass's `handle`; all run under one lock so the fake's
data needs no further synchronisation.
"""

from __future__ import annotations

import contextlib
import json
import random
import socket
import threading
import traceback
from collections import Counter, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, NamedTuple, Self, cast
from urllib.parse import parse_qsl, unquote, urlsplit

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"

#: Status 0 means "close the connection without answering" (a request lost in transit).
DROP = 0
#: When a delayed request takes effect: handled on arrival and answered late ("at_once"), handled
#: only after the delay, as a slow save ("late"), or never, the connection closed ("never").
Saves = Literal["at_once", "late", "never"]


class RecordedRequest(NamedTuple):
    """One request as the fake saw it; `body` is parsed JSON, a form dict, or None."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class Request:
    """A parsed request handed to `FakeServer.handle`."""

    method: str
    path: str
    query: dict[str, str]
    #: Header names lower-cased; use `header()` for lookups.
    headers: dict[str, str]
    raw: bytes
    json: Any = None
    #: Set when the body is non-empty and neither valid JSON nor a form.
    json_error: str | None = None
    form: dict[str, str] | None = None
    _query_ci: dict[str, str] = field(default_factory=dict, repr=False)

    def param(self, name: str) -> str | None:
        """Query parameter by case-insensitive name (ASP.NET binds them that way)."""
        return self._query_ci.get(name.lower())

    def flag(self, name: str) -> bool:
        """True when a boolean query parameter is set to true/1."""
        return (self.param(name) or "").strip().lower() in ("true", "1")

    def header(self, name: str) -> str | None:
        """Header by case-insensitive name."""
        return self.headers.get(name.lower())


@dataclass
class Response:
    """What the fake answers; `status == DROP` closes the connection without an answer."""

    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)


class HttpError(Exception):
    """Raised inside `handle` to answer `response` at once (keeps handlers flat)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON answer, serialised now so the bytes are built while the data lock is held. Raw
    UTF-8, not ASCII escapes: whether the real APIs escape is not known, and raw is the harder
    case (a decoded answer's width is its widest character's)."""
    body = json.dumps(payload, separators=(",", ":"), default=str, ensure_ascii=False).encode()
    return Response(status, body, JSON_TYPE, dict(headers or {}))


def text_response(
    status: int, text: str, content_type: str = TEXT_TYPE, headers: Mapping[str, str] | None = None
) -> Response:
    """A text (or HTML) answer."""
    return Response(status, text.encode(), content_type, dict(headers or {}))


def make_response(
    status: int,
    body: bytes | str | Mapping[str, Any] | list[Any],
    headers: Mapping[str, str] | None = None,
    content_type: str | None = None,
) -> Response:
    """Build a scripted answer: dict/list → JSON, str/bytes as given (default text/plain)."""
    if isinstance(body, (Mapping, list)):
        resp = json_response(status, dict(body) if isinstance(body, Mapping) else body, headers)
        if content_type:
            resp.content_type = content_type
        return resp
    raw = body.encode() if isinstance(body, str) else bytes(body)
    return Response(status, raw, content_type or TEXT_TYPE, dict(headers or {}))


@dataclass
class _Fault:
    """A queued scripted fault: `response` to send, or a hang of `seconds` (see `Saves`), after
    which the answer is sent, or not (`answer=False`: the connection is closed instead)."""

    remaining: int
    paths: tuple[str, ...] | None
    response: Response | None = None
    seconds: float = 0.0
    saves: Saves = "at_once"
    answer: bool = True
    methods: frozenset[str] | None = None  # only requests of these methods (None: any)

    def matches(self, path: str, method: str = "") -> bool:
        return (self.paths is None or _path_matches(path, self.paths)) and (
            self.methods is None or method in self.methods
        )


def _path_matches(path: str, prefixes: Iterable[str]) -> bool:
    low = path.lower()
    return any(low.startswith(p.lower()) for p in prefixes)


class _HTTPServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that remembers open connections so `stop` can cut keep-alives."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeServer) -> None:
        self.fake = fake
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.sockets_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def close_open_sockets(self) -> None:
        with self.sockets_lock:
            socks = list(self.open_sockets)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """Reads the request, lets the fake answer it, writes the answer; HTTP/1.1 keep-alive."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: without TCP_NODELAY, Nagle + delayed ACK
    # add ~40 ms to every keep-alive request.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr log: tests and benchmarks make thousands of calls."""

    def _dispatch(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        server = cast(_HTTPServer, self.server)
        headers = {name: str(value) for name, value in self.headers.items()}
        resp = server.fake._serve(self.command, self.path, headers, raw)
        if resp.status == DROP:
            self.close_connection = True
            return
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            self.send_header("Content-Length", str(len(resp.body)))
            for name, value in resp.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(resp.body)
            self.wfile.flush()
        except OSError:  # the client gave up (timeout) or the fake is stopping
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch


class FakeServer:
    """Base of the fakes: lifecycle, request log, latency and fault injection.

    Subclasses implement `handle(request) -> Response` (called with `lock` held) and may set
    `data_paths` (path prefixes of data calls, i.e. everything but authentication) and override
    `error_response` to answer injected faults in their API's error shape.
    """

    data_paths: tuple[str, ...] = ()

    def __init__(self, *, port: int = 0, host: str = "127.0.0.1", seed: int = 0) -> None:
        self.host = host
        self._requested_port = port
        #: Seconds added to every request (auth included), to model network round trips.
        self.latency: float = 0.0
        #: Probabilities (0..1) of a random 500 / 429 instead of the real answer.
        self.error_rate_5xx: float = 0.0
        self.error_rate_429: float = 0.0
        #: Path prefixes that random faults apply to (None = every request).
        self.fault_paths: tuple[str, ...] | None = None
        #: One lock around all data and counters; `handle` always runs under it.
        self.lock = threading.RLock()
        self.calls: Counter[str] = Counter()
        self.requests: list[RecordedRequest] = []
        #: Headers of each request, parallel to `requests` (e.g. to check per-call ids).
        self.request_headers: list[dict[str, str]] = []
        #: 429 answers sent, whatever their cause (rate limit, scripted or random).
        self.throttled = 0
        #: Tracebacks of exceptions inside `handle` (a bug in the fake, answered as 500).
        self.errors: list[str] = []
        self._rng = random.Random(seed)
        self._failures: deque[_Fault] = deque()
        self._hangs: deque[_Fault] = deque()
        # Every k-th matching request hangs as this fault (`slow_every`), and how many matched.
        self._every: tuple[int, _Fault] | None = None
        self._every_seen = 0
        # Requests being served now (a slow save still pending lands after its client gave up).
        self._in_flight = 0
        self._idle = threading.Condition()
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve in a daemon thread; returns self so `Fake().start()` chains."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _HTTPServer((self.host, self._requested_port), self)
        thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{type(self).__name__}:{server.server_address[1]}",
            daemon=True,
        )
        self._server, self._thread = server, thread
        thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open keep-alive connections and wake hung requests."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        server.close_open_sockets()
        if thread is not None:
            thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (raises before `start`)."""
        if self._server is None:
            raise RuntimeError(f"{type(self).__name__} is not started")
        return int(self._server.server_address[1])

    @property
    def root_url(self) -> str:
        """`http://127.0.0.1:<port>` without a trailing slash."""
        return f"http://{self.host}:{self.port}"

    # -- inspection ------------------------------------------------------------------------

    def reset_calls(self) -> None:
        """Forget recorded calls and zero every counter (data, tokens and faults stay), so a
        test or benchmark can measure one phase on its own."""
        with self.lock:
            self.calls.clear()
            self.requests.clear()
            self.request_headers.clear()
            self.throttled = 0
            self._reset_counters()

    def _reset_counters(self) -> None:
        """Hook: subclasses zero their own counters here."""

    # -- fault injection -------------------------------------------------------------------

    def fail_next(
        self,
        n: int,
        status: int,
        body: bytes | str | Mapping[str, Any] | list[Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
        *,
        paths: Iterable[str] | None = None,
        data_only: bool = False,
    ) -> None:
        """Answer the next `n` matching requests with `status` instead of handling them.

        Without `body` the answer is the API's usual error for that status (`error_response`:
        whether a 429 carries `Retry-After` is the API's own habit); with `body` it is exactly
        `body` + `headers`. `paths` limits the
        fault to path prefixes; `data_only` to the data calls (not authentication).
        """
        if body is None:
            resp = self.error_response(status)
            resp.headers.update(headers or {})
            if content_type:
                resp.content_type = content_type
        else:
            resp = make_response(status, body, headers, content_type)
        with self.lock:
            self._failures.append(_Fault(n, self._fault_filter(paths, data_only), resp))

    def hang_next(
        self,
        n: int,
        seconds: float,
        *,
        paths: Iterable[str] | None = None,
        data_only: bool = False,
        saves: Saves = "at_once",
        answer: bool = True,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Delay the next `n` matching requests by `seconds` (client timeouts).

        `saves="at_once"` (default): handled on arrival, only the answer is late, so a timed-out
        write has still happened. `saves="late"`: handled only after the delay, as a busy server
        that saves a batch after the client gave up, so reading straight after the timeout does
        not show it yet. `saves="never"`: never handled, the connection closed after the delay
        (a lost request). `answer=False`: saved, but the connection is closed instead of answered.
        `methods` limits it to those methods (`["POST"]`: writes only).
        """
        fault = self._hang(n, seconds, paths, data_only, saves, answer, methods)
        with self.lock:
            self._hangs.append(fault)

    def slow_every(
        self,
        k: int,
        seconds: float,
        *,
        paths: Iterable[str] | None = None,
        data_only: bool = False,
        saves: Saves = "late",
        answer: bool = True,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Every `k`-th matching request from now on is a hang of `seconds` (as `hang_next`; by
        default a slow save): a busy tenant, for as long as it lasts. `k=0` ends it."""
        fault = self._hang(0, seconds, paths, data_only, saves, answer, methods)
        with self.lock:
            self._every_seen = 0
            self._every = (k, fault) if k > 0 else None

    def _hang(
        self,
        n: int,
        seconds: float,
        paths: Iterable[str] | None,
        data_only: bool,
        saves: Saves,
        answer: bool,
        methods: Iterable[str] | None,
    ) -> _Fault:
        methods_set = frozenset(methods) if methods is not None else None
        filters = self._fault_filter(paths, data_only)
        return _Fault(n, filters, seconds=seconds, saves=saves, answer=answer, methods=methods_set)

    def clear_faults(self) -> None:
        """Drop all queued scripted faults and hangs."""
        with self.lock:
            self._failures.clear()
            self._hangs.clear()
            self._every = None

    def error_response(self, status: int, message: str | None = None) -> Response:
        """The API's error answer for `status`; subclasses return their own shape."""
        headers = {"Retry-After": "1"} if status == 429 else {}
        return json_response(status, {"Message": message or f"HTTP {status}"}, headers)

    def _fault_filter(self, paths: Iterable[str] | None, data_only: bool) -> tuple[str, ...] | None:
        if paths is not None:
            return tuple(paths)
        return self.data_paths if data_only else None

    @staticmethod
    def _take(queue: deque[_Fault], path: str, method: str = "") -> _Fault | None:
        """Consume one use of the first queued fault matching `path` (and `method`)."""
        for fault in queue:
            if fault.matches(path, method):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    queue.remove(fault)
                return fault
        return None

    def _random_fault(self, path: str) -> Response | None:
        if self.error_rate_5xx <= 0 and self.error_rate_429 <= 0:
            return None
        if self.fault_paths is not None and not _path_matches(path, self.fault_paths):
            return None
        draw = self._rng.random()
        if draw < self.error_rate_5xx:
            return self.error_response(500)
        if draw < self.error_rate_5xx + self.error_rate_429:
            return self.error_response(429)
        return None

    # -- request pipeline ------------------------------------------------------------------

    def admit(self, request: Request) -> Response | None:
        """Gatekeeping the real API applies to every request reaching it, before injected
        faults and `handle` (rate limits, request checks); None lets the request through.
        Called with `lock` held; the base admits everything."""
        return None

    def handle(self, request: Request) -> Response:
        """Answer one request; called with `lock` held. Implemented by each fake."""
        raise NotImplementedError

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no request is being served (a save that lands after its client timed out
        has landed); False if one still is after `timeout` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    def _periodic(self, path: str, method: str) -> _Fault | None:
        """The `slow_every` hang, when this request is the k-th match."""
        if self._every is None or not self._every[1].matches(path, method):
            return None
        self._every_seen += 1
        k, fault = self._every
        return fault if self._every_seen % k == 0 else None

    def _serve(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Response:
        with self._idle:
            self._in_flight += 1
        try:
            return self._answer(method, target, headers, raw)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Response:
        request = _parse(method, target, headers, raw)
        with self.lock:
            self.calls[f"{method} {request.path}"] += 1
            body = request.form if request.form is not None else request.json
            self.requests.append(RecordedRequest(method, request.path, request.query, body))
            self.request_headers.append(headers)
            hang = self._take(self._hangs, request.path, method) or self._periodic(request.path, method)
            response = None
            if hang is None or hang.saves != "never":  # a lost request never reached the API
                response = self.admit(request)
                if response is None:
                    scripted = self._take(self._failures, request.path)
                    response = scripted.response if scripted else self._random_fault(request.path)
        if self.latency > 0:
            self._stopping.wait(self.latency)
        if hang is not None and hang.saves != "at_once" and response is None:
            self._stopping.wait(hang.seconds)  # lost, or saving slowly
            if hang.saves == "never":
                return Response(DROP)
        handled = response is None
        if response is None:
            with self.lock:
                response = self._handle_safely(request)
        if hang is not None and hang.saves == "at_once":
            self._stopping.wait(hang.seconds)
        if hang is not None and handled and not hang.answer:
            return Response(DROP)
        if response.status == 429:
            with self.lock:
                self.throttled += 1
        return response

    def _handle_safely(self, request: Request) -> Response:
        try:
            return self.handle(request)
        except HttpError as err:
            return err.response
        except Exception as exc:  # a bug in the fake: answer 500 and keep it for the test
            self.errors.append(traceback.format_exc())
            return json_response(500, {"Message": f"Fake error: {exc!r}"})


def _parse(method: str, target: str, headers: dict[str, str], raw: bytes) -> Request:
    split = urlsplit(target)
    query = dict(parse_qsl(split.query, keep_blank_values=True))
    request = Request(
        method=method,
        path=unquote(split.path),
        query=query,
        headers={k.lower(): v for k, v in headers.items()},
        raw=raw,
        _query_ci={k.lower(): v for k, v in query.items()},
    )
    if not raw:
        return request
    content_type = (request.header("Content-Type") or "").lower()
    if "application/x-www-form-urlencoded" in content_type:
        request.form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        return request
    try:
        request.json = json.loads(raw)
    except ValueError as exc:
        request.json_error = str(exc)
    return request
