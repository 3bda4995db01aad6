"""The IAM check and DynamoDB's atomicity in front of moto's server (WSGI middleware).

Every request moto receives is signed (SigV4) with an access key: the local stack's admin key
(the runner, tests) passes; a function's key (its role, see `local/credentials.py`) passes only
when that role's statements allow every action on every resource the request needs
(`local/iam/`); any other request is refused, as AWS would. A refusal answers in the request's
protocol exactly as AWS does, so the handler sees the `ClientError` it would see deployed.

moto's DynamoDB is not atomic across threads (a conditional write or a transaction can
interleave with another request); real DynamoDB is. So DynamoDB requests run one at a time here.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl
from xml.sax.saxutils import escape

from local.iam import Access, Statement, Target, denial_message, evaluate, required_access

log = logging.getLogger(__name__)

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
WsgiApp = Callable[[Environ, StartResponse], Iterable[bytes]]

_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/\d{8}/([^/]+)/([^/]+)/aws4_request")
MAX_DENIALS = 1000  # kept for diagnosis and tests; a long `make serve` keeps only the latest
# Error codes of the query protocol → the `__type` the JSON protocol answers instead.
# The services that word a refusal otherwise (SNS: "AuthorizationError", HTTP 403).
_DENIED_CODES = {"sns": "AuthorizationError"}
_JSON_CODES = {
    "AccessDenied": "AccessDeniedException",
    "AuthorizationError": "AuthorizationErrorException",
    "InvalidClientTokenId": "UnrecognizedClientException",
    "MissingAuthenticationToken": "MissingAuthenticationTokenException",
}


@dataclass(frozen=True)
class Principal:
    """A function's assumed role, as its access key identifies it."""

    function_id: str
    arn: str  # arn:aws:sts::<account>:assumed-role/<role>/<session>
    statements: tuple[Statement, ...]


@dataclass(frozen=True)
class Call:
    """What a request to moto is, as IAM would see it."""

    access_key: str | None
    service: str
    region: str
    operation: str
    params: Mapping[str, Any]
    json_protocol: bool
    path: str


@dataclass(frozen=True)
class Denial:
    function_id: str
    access: Access
    explicit: bool


@dataclass
class IamGate:
    """WSGI middleware around moto's app: authorizes, then serializes DynamoDB."""

    app: WsgiApp
    account: str
    secret_arn: Callable[[str], str] | None = None
    admin_keys: set[str] = field(default_factory=set)
    principals: dict[str, Principal] = field(default_factory=dict)
    denials: deque[Denial] = field(default_factory=lambda: deque(maxlen=MAX_DENIALS))  # the refusals
    _dynamodb: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _warned: set[Statement] = field(default_factory=set, repr=False)

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        if str(environ.get("PATH_INFO", "")).startswith("/moto-api"):
            return self.app(environ, start_response)
        body = _read_body(environ)
        call = parse_call(environ, body)
        refusal = self.refusal(call)
        if refusal is not None:
            status, headers, data = refusal
            start_response(status, headers)
            return [data]
        if call.service == "dynamodb":
            return self._serialized(environ, start_response)
        return self.app(environ, start_response)

    # -- authorization ------------------------------------------------------------------------
    def refusal(self, call: Call) -> tuple[str, list[tuple[str, str]], bytes] | None:
        """None when the call may go on; else the response AWS would give."""
        if call.access_key is None:
            return _error(call, "MissingAuthenticationToken", "Missing Authentication Token")
        if call.access_key in self.admin_keys:
            return None
        principal = self.principals.get(call.access_key)
        if principal is None:
            return _error(
                call, "InvalidClientTokenId", "The security token included in the request is invalid."
            )
        target = Target(call.region, self.account, call.path, self.secret_arn)
        for access in required_access(call.service, call.operation, call.params, target):
            decision = evaluate(principal.statements, access.action, access.resource)
            for statement in decision.skipped:
                if statement not in self._warned:
                    self._warned.add(statement)
                    log.warning(
                        "%s: a statement of %s has a Condition, which is not evaluated locally; "
                        "it does not allow here (fail closed): %s",
                        principal.function_id,
                        statement.source,
                        statement,
                    )
            if not decision.allowed:
                self.denials.append(Denial(principal.function_id, access, decision.explicit_deny))
                message = denial_message(principal.arn, access, decision.explicit_deny, call.service)
                log.warning("AccessDenied for %s: %s", principal.function_id, message)
                return _error(call, _DENIED_CODES.get(call.service, "AccessDenied"), message)
        return None

    # -- DynamoDB, one request at a time --------------------------------------------------------
    def _serialized(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        started: list[tuple[Any, ...]] = []
        chunks: list[bytes] = []

        def capture(
            status: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], None]:
            started[:] = [(status, headers, exc_info)]
            return chunks.append

        with self._dynamodb:
            result = self.app(environ, capture)
            try:
                chunks.extend(result)
            finally:
                close = getattr(result, "close", None)
                if callable(close):
                    close()
        status, headers, exc_info = started[0]
        start_response(status, headers, exc_info)
        return [b"".join(chunks)]


def _read_body(environ: Environ) -> bytes:
    """The whole body, put back so moto reads it too."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    body = stream.read(length) if stream is not None and length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def parse_call(environ: Mapping[str, Any], body: bytes) -> Call:
    """Access key, service and region from the SigV4 credential scope; operation and parameters
    from `X-Amz-Target` and the JSON body, or from the query protocol's `Action` form."""
    query = dict(parse_qsl(str(environ.get("QUERY_STRING", "")), keep_blank_values=True))
    scope = _CREDENTIAL.search(str(environ.get("HTTP_AUTHORIZATION", ""))) or _CREDENTIAL.search(
        "Credential=" + query.get("X-Amz-Credential", "")
    )
    key, region, service = scope.groups() if scope else (None, "", "")
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    content_type = str(environ.get("CONTENT_TYPE", ""))
    params: dict[str, Any]
    if target or "json" in content_type:
        try:
            loaded = json.loads(body) if body else {}
        except ValueError:
            loaded = {}
        params = loaded if isinstance(loaded, dict) else {}
        operation = target.rpartition(".")[2]
        json_protocol = True
    else:
        params = {**query, **dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))}
        operation = str(params.get("Action", ""))
        json_protocol = False
    return Call(key, service, region, operation, params, json_protocol, str(environ.get("PATH_INFO", "/")))


def _error(call: Call, code: str, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """An error as the service would send it, so botocore raises the `ClientError` AWS's would."""
    request_id = str(uuid.uuid4())
    if call.json_protocol:
        json_code = _JSON_CODES[code]
        headers = [("Content-Type", "application/x-amz-json-1.0"), ("x-amzn-RequestId", request_id)]
        error_type = json_code
        if call.service == "sqs":  # query-compatible: botocore takes the code from this header
            error_type = f"com.amazonaws.sqs#{json_code}"
            headers.append(("x-amzn-query-error", f"{code};Sender"))
        body = json.dumps({"__type": error_type, "message": message}).encode()
        return "400 Bad Request", headers, body
    xml = (
        "<ErrorResponse><Error><Type>Sender</Type>"
        f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"</Error><RequestId>{request_id}</RequestId></ErrorResponse>"
    )
    return "403 Forbidden", [("Content-Type", "text/xml"), ("x-amzn-RequestId", request_id)], xml.encode()
