"""Shared machinery of the local upstream fakes: a real HTTP server on loopback.

A real server (not a mocked `requests`) exercises the project's clients end to end: URLs,
headers, keep-alive, timeouts and retries behave as against the real Dicker Data and Halo, and
the same fakes serve pytest, the local dev runner and benchmarks.

Every request goes through `FakeServer._serve`: it is recorded (`calls`, `requests`), delayed by
`latency`, then answered by the subclass's `admit` gatekeeping (rate limits, request checks),
a scripted or random fault (`faults`), or the subclass's `handle`; all run under one lock so the
fake's data needs no further synchronisation.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import traceback
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, cast

from .faults import Fault, FaultInjection
from .http_messages import DROP, HttpError, RecordedRequest, Request, Response, json_response, parse_request


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


class FakeServer(FaultInjection):
    """Base of the fakes: lifecycle, request log, latency and fault injection (`FaultInjection`).

    Subclasses implement `handle(request) -> Response` (called with `lock` held) and may set
    `data_paths` (path prefixes of data calls, i.e. everything but authentication) and override
    `error_response` to answer injected faults in their API's error shape.
    """

    def __init__(self, *, port: int = 0, host: str = "127.0.0.1", seed: int = 0) -> None:
        self.host = host
        self._requested_port = port
        #: Seconds added to every request (auth included), to model network round trips.
        self.latency: float = 0.0
        #: One lock around all data and counters; `handle` always runs under it.
        self.lock = threading.RLock()
        super().__init__(seed)
        self.calls: Counter[str] = Counter()
        self.requests: list[RecordedRequest] = []
        #: Headers of each request, parallel to `requests` (e.g. to check per-call ids).
        self.request_headers: list[dict[str, str]] = []
        #: 429 answers sent, whatever their cause (rate limit, scripted or random).
        self.throttled = 0
        #: Tracebacks of exceptions inside `handle` (a bug in the fake, answered as 500).
        self.errors: list[str] = []
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

    def wait_idle(self, timeout: float = 60.0) -> bool:
        """Wait until no request is being served (a save that lands after its client timed out
        has landed); False if one still is after `timeout` seconds."""
        with self._idle:
            return self._idle.wait_for(lambda: self._in_flight == 0, timeout)

    # -- request pipeline ------------------------------------------------------------------

    def admit(self, request: Request) -> Response | None:
        """Gatekeeping the real API applies to every request reaching it, before injected
        faults and `handle` (rate limits, request checks); None lets the request through.
        Called with `lock` held; the base admits everything."""
        return None

    def handle(self, request: Request) -> Response:
        """Answer one request; called with `lock` held. Implemented by each fake."""
        raise NotImplementedError

    def _serve(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Response:
        with self._idle:
            self._in_flight += 1
        try:
            return self._answer(method, target, headers, raw)
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def _arrive(self, request: Request, headers: dict[str, str]) -> tuple[Fault | None, Response | None]:
        """Record the request; its hang, and the answer it gets instead of being handled (the
        gatekeeping's or an injected fault's), if any. A lost request never reached the API."""
        with self.lock:
            self.calls[f"{request.method} {request.path}"] += 1
            body = request.form if request.form is not None else request.json
            self.requests.append(RecordedRequest(request.method, request.path, request.query, body))
            self.request_headers.append(headers)
            hang = self._next_hang(request.path, request.method)
            if hang is not None and hang.saves == "never":
                return hang, None
            response = self.admit(request)
            return hang, response if response is not None else self._injected(request.path)

    def _answer(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Response:
        request = parse_request(method, target, headers, raw)
        hang, response = self._arrive(request, headers)
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
