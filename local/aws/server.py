"""moto's server in this process, behind the IAM gate (`local/gate.py`).

moto's WSGI app (the one `moto_server` and `ThreadedMotoServer` serve), wrapped in the gate and
served by werkzeug on loopback from a thread of this process: handlers, Powertools and the runner
reach it over HTTP through `AWS_ENDPOINT_URL`, as they would reach AWS, while the runner can read
moto's backends directly (a snapshot, what SNS received), since they live in this process.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import BaseWSGIServer, make_server

from local.gate import Environ, IamGate, StartResponse, WsgiApp
from local.moto_memory import let_go

# DynamoDB and Secrets Manager operations that change nothing; any other one counts as a write.
_READ_PREFIXES = ("Get", "BatchGet", "TransactGet", "Query", "Scan", "Describe", "List", "Validate")
_STATE_SERVICES = ("DynamoDB_", "secretsmanager")


@dataclass
class StackGate(IamGate):
    """The gate, also counting the requests that may have changed a table or a secret (so a saver
    knows when there is something new to save), and letting go of what moto tracks."""

    writes: int = 0
    _count_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def dynamodb_lock(self) -> threading.Lock:
        """Held while moto handles a DynamoDB request (the gate runs them one at a time)."""
        return self._dynamodb

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        try:
            return super().__call__(environ, start_response)
        finally:  # after the request took effect, so a snapshot taken later includes it
            service, _, operation = str(environ.get("HTTP_X_AMZ_TARGET", "")).partition(".")
            if service.startswith(_STATE_SERVICES) and not operation.startswith(_READ_PREFIXES):
                with self._count_lock:
                    self.writes += 1
            let_go()


class MotoServer:
    """moto's app behind a gate, on an HTTP port of loopback, served from a daemon thread."""

    def __init__(self, make_gate: Callable[[WsgiApp], IamGate], host: str = "127.0.0.1", port: int = 0):
        self._make_gate = make_gate
        self._host, self._port = host, port
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Listening once this returns; answers the endpoint URL."""
        gate = self._make_gate(DomainDispatcherApplication(create_backend_app))
        self._server = make_server(
            self._host, self._port, gate, threaded=True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="moto", daemon=True)
        self._thread.start()
        return f"http://{self._host}:{self._server.server_port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None
