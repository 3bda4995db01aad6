"""API Gateway's HTTP side on loopback: a threaded server whose requests reach the template's
routes as HTTP API (payload 2.0) events, answered from what the handler returns as API Gateway
answers (or with its own 404, 405, 413 and 500)."""

from __future__ import annotations

import base64
import json
import traceback
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from local.aws import ACCOUNT_ID
from local.events import LOCAL_OPERATOR_SCOPES, http_event
from local.serve.router import Router
from local.template import Route

MAX_PAYLOAD_BYTES = 6 * 1024 * 1024  # Lambda's synchronous invocation payload limit
_HOP_BY_HOP = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive"})

# An HTTP answer: status, headers, body.
Answer = tuple[int, list[tuple[str, str]], bytes]


def error_body(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message}}).encode()


def lambda_http_response(result: Any) -> Answer:
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


class HttpApi:
    """The template's HTTP API: a request to the handler of its route, and back."""

    def __init__(self, routes: list[Route], invoke: Callable[[str, Any], Any]) -> None:
        self.router = Router(routes)
        self._invoke = invoke

    def handle(
        self,
        method: str,
        raw_path: str,
        raw_query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        source_ip: str,
    ) -> Answer:
        """One request through the matching handler; never raises."""
        found = self.router.match(method, raw_path)
        if found is None:
            return self._no_route(method, raw_path)
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
            return lambda_http_response(self._invoke(route.function_id, event))
        except Exception as exc:
            traceback.print_exc()
            message = f"{route.function_id} raised {type(exc).__name__}; see the server's log."
            return 500, [], error_body("internal_error", message)

    def _no_route(self, method: str, raw_path: str) -> Answer:
        """A 405 where the path has routes for other methods, else a 404."""
        allowed = self.router.allowed(raw_path)
        if allowed:
            message = f"{method} is not allowed on {raw_path}; use {', '.join(allowed)}."
            return 405, [("Allow", ", ".join(allowed))], error_body("method_not_allowed", message)
        return 404, [], error_body("not_found", f"No route {method} {raw_path}")


class ApiServer(ThreadingHTTPServer):
    """Serves an `HttpApi`; `access_log=False` keeps the request lines off stderr."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], api: HttpApi, *, access_log: bool = True) -> None:
        self.api, self.access_log = api, access_log
        super().__init__(address, _ApiHandler)


class _PayloadTooLargeError(Exception):
    pass


class _ApiHandler(BaseHTTPRequestHandler):
    server: ApiServer
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
        status, headers, data = self.server.api.handle(
            self.command, raw_path, raw_query, list(self.headers.items()), body, self.client_address[0]
        )
        self._send(status, headers, data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _dispatch

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.access_log:
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
