"""Calling the real handlers in-process the way Lambda would, and building the events it sends.

One process hosts every function, and invocations run concurrently as in AWS, where a function
scales out to as many containers as it has requests at once. A local "container" is a copy of
the handler module that handles one event at a time: a function starts another when all of its
containers are busy (up to its ReservedConcurrentExecutions). Each invocation runs in its own
`contextvars` context, signing its AWS calls with its function's role (`local/credentials.py`).
"""

from __future__ import annotations

import base64
import contextvars
import hashlib
import importlib.util
import json
import logging
import secrets
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.credentials import AwsCredentials, acting_as
from local.template import Function

Handler = Callable[[Any, Any], Any]
log = logging.getLogger(__name__)

_modules: dict[tuple[Path, int], ModuleType] = {}
SHARED_PACKAGES = ("ddhalo", "ddhalo_lambda")  # the layer's own packages (shared/Makefile)
_import_lock = threading.RLock()


def load_handler(fn: Function, container: int = 0) -> Handler:
    """The function's handler, from its module (imported once per container)."""
    module = load_module(fn, container)
    handler = getattr(module, fn.handler_name, None)
    if not callable(handler):
        raise ImportError(f"{fn.logical_id}: {fn.module_path} has no callable {fn.handler_name!r}")
    return handler  # type: ignore[no-any-return]


def load_module(fn: Function, container: int = 0) -> ModuleType:
    """Import `<CodeUri>/<module>.py` under a name unique to its path (two `app.py` never clash);
    each container has its own copy, so module state (a resolver, a batch processor) is its own."""
    path = fn.module_path.resolve()
    with _import_lock:
        module = _modules.get((path, container))
        if module is None:
            digest = hashlib.sha1(str(path).encode(), usedforsecurity=False).hexdigest()[:10]
            name = f"_local_handler_{path.stem}_{digest}" + (f"_{container}" if container else "")
            spec = importlib.util.spec_from_file_location(name, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"{fn.logical_id}: cannot import {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[name] = module  # pydantic and dataclasses look their module up here
            sys.path.insert(0, str(fn.code_uri))  # sibling modules of the handler, as in Lambda
            try:
                spec.loader.exec_module(module)
            except BaseException:
                del sys.modules[name]
                raise
            finally:
                sys.path.remove(str(fn.code_uri))
            _modules[(path, container)] = module
    return module


def forget_cached_clients() -> None:
    """A new local stack is a cold start: drop clients and lookups cached for an earlier one.

    boto3 clients are bound to the endpoint they were made with, so caches made while another
    moto was running (Powertools providers, `functools.cache` factories in the shared code and
    in handler modules) would otherwise keep talking to a server that is gone.
    """
    from aws_lambda_powertools.utilities import parameters

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    shared = [m for n, m in list(sys.modules.items()) if n.partition(".")[0] in SHARED_PACKAGES]
    for module in [*shared, *_modules.values()]:
        for value in list(vars(module).values()):
            clear = getattr(value, "cache_clear", None)
            if callable(clear) and getattr(value, "__module__", None) == module.__name__:
                clear()


@dataclass
class LambdaContext:
    """What handlers read from Lambda's context object."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline: float = field(repr=False)
    identity: Any = None
    client_context: Any = None

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


class ThrottledError(RuntimeError):
    """Lambda's TooManyRequestsException: the function may not run (ReservedConcurrentExecutions 0)."""


class _Containers:
    """A function's warm containers: each runs one invocation at a time; another starts (a cold
    start) when all are busy, up to ReservedConcurrentExecutions, beyond which callers wait."""

    def __init__(self, fn: Function) -> None:
        self.fn = fn
        self._idle: list[tuple[int, Handler]] = []
        self._started = 0
        self._ready = threading.Condition()

    def acquire(self) -> tuple[int, Handler]:
        limit = self.fn.reserved_concurrency
        with self._ready:
            if limit is not None and limit <= 0:
                raise ThrottledError(f"{self.fn.logical_id} has ReservedConcurrentExecutions {limit}")
            while not self._idle and limit is not None and self._started >= limit:
                self._ready.wait()
            if self._idle:
                return self._idle.pop()  # the most recently used: warm, as Lambda prefers
            index = self._started
            self._started += 1
        try:
            return index, load_handler(self.fn, index)
        except BaseException:
            with self._ready:
                self._started -= 1
                self._ready.notify()
            raise

    def release(self, container: tuple[int, Handler]) -> None:
        with self._ready:
            self._idle.append(container)
            self._ready.notify()


class Invoker:
    """Runs handlers: `invoke(fn, event)` answers what the handler returned (or raises).

    `credentials` (by function id) are what each function's AWS calls sign with; a function
    without any signs as whatever the process would (a child process's environment).
    """

    def __init__(
        self,
        functions: Mapping[str, Function],
        names: Mapping[str, str],
        region: str,
        account: str,
        credentials: Mapping[str, AwsCredentials] | None = None,
    ):
        self.functions = dict(functions)
        self._names = dict(names)
        self._region = region
        self._account = account
        self._credentials = dict(credentials or {})
        self._containers = {fid: _Containers(fn) for fid, fn in self.functions.items()}
        isolate_router_state()

    def context(self, fn: Function) -> LambdaContext:
        name = self._names.get(fn.logical_id, fn.logical_id)
        day = datetime.now(UTC).strftime("%Y/%m/%d")
        return LambdaContext(
            function_name=name,
            function_version="$LATEST",
            invoked_function_arn=f"arn:aws:lambda:{self._region}:{self._account}:function:{name}",
            memory_limit_in_mb=fn.memory_size,
            aws_request_id=str(uuid.uuid4()),
            log_group_name=f"/aws/lambda/{name}",
            log_stream_name=f"{day}/[$LATEST]{uuid.uuid4().hex}",
            deadline=time.monotonic() + fn.timeout,
        )

    def invoke(self, function_id: str, event: Any) -> Any:
        fn = self.functions[function_id]
        containers = self._containers[function_id]
        container = containers.acquire()
        try:
            ctx = self.context(fn)
            try:
                # A fresh context per invocation: what it sets (its identity, Powertools' current
                # event) is its own and gone afterwards, whichever thread runs it next.
                return contextvars.copy_context().run(
                    self._run, container[1], event, ctx, self._credentials.get(function_id)
                )
            finally:
                if ctx.get_remaining_time_in_millis() == 0:
                    log.warning(
                        "%s ran past its %s s Timeout: Lambda would have stopped it", function_id, fn.timeout
                    )
        finally:
            containers.release(container)

    @staticmethod
    def _run(handler: Handler, event: Any, ctx: LambdaContext, credentials: AwsCredentials | None) -> Any:
        with acting_as(credentials):
            return handler(event, ctx)


class _PerInvocation:
    """A data descriptor whose value belongs to the context (invocation) that set it."""

    def __init__(self, var: contextvars.ContextVar[Any]) -> None:
        self._var = var

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return self._var.get()

    def __set__(self, obj: Any, value: Any) -> None:
        self._var.set(value)


_ROUTER_STATE = {
    "current_event": contextvars.ContextVar[Any]("powertools_current_event", default=None),
    "lambda_context": contextvars.ContextVar[Any]("powertools_lambda_context", default=None),
}


def isolate_router_state() -> None:
    """Powertools' event handler keeps the current event on the `BaseRouter` *class*: fine in
    Lambda (one invocation per process at a time), a race here, where concurrent invocations
    share the process (one request would read another's body). Make it per invocation."""
    try:
        from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
    except ImportError:  # a template whose handlers do not use Powertools
        return
    with _import_lock:
        if isinstance(vars(type(BaseRouter)).get("current_event"), _PerInvocation):
            return
        descriptors = {name: _PerInvocation(var) for name, var in _ROUTER_STATE.items()}
        for name, descriptor in descriptors.items():  # instance reads and writes
            type.__setattr__(BaseRouter, name, descriptor)
        # class reads and writes (`BaseRouter.current_event = ...`) go through the metaclass
        meta = type("PerInvocationRouterMeta", (type(BaseRouter),), dict(descriptors))
        BaseRouter.__class__ = meta  # type: ignore[method-assign]


# -- events -----------------------------------------------------------------------------------


def _joined(pairs: Iterable[tuple[str, str]], lower: bool = False) -> dict[str, str]:
    """API Gateway v2 joins repeated headers and query parameters with commas."""
    out: dict[str, str] = {}
    for key, value in pairs:
        key = key.lower() if lower else key
        out[key] = f"{out[key]},{value}" if key in out else value
    return out


def _api_request_id() -> str:
    return base64.b32encode(secrets.token_bytes(10)).decode().rstrip("=")[:16]


# Who a loopback caller is: an operator (``make serve`` has no sign-in on 127.0.0.1).
LOCAL_OPERATOR_SCOPES = ("openid", "ddhalo/read", "ddhalo/operate")


def jwt_context(scopes: Sequence[str], username: str = "local") -> dict[str, Any]:
    """``requestContext.authorizer.jwt`` for a Cognito access token with ``scopes`` (API Gateway
    passes every claim as a string, and the token's scopes again as a list)."""
    return {
        "claims": {
            "sub": "00000000-0000-4000-8000-000000000000",
            "token_use": "access",
            "scope": " ".join(scopes),
            "username": username,
            "client_id": "local",
            "iss": "https://cognito-idp.local/local",
        },
        "scopes": list(scopes),
    }


def http_event(
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Iterable[tuple[str, str]],
    body: bytes,
    *,
    route_key: str,
    path_parameters: Mapping[str, str] | None = None,
    source_ip: str = "127.0.0.1",
    api_id: str = "local",
    account_id: str = "123456789012",
    scopes: Sequence[str] | None = None,
) -> dict[str, Any]:
    """An API Gateway HTTP API (payload format 2.0) event, as a Lambda integration gets it.
    ``scopes``: the route is behind the JWT authorizer and the caller's token carries these
    (None: an unauthenticated route)."""
    # HTTP API hands the integration the path percent-decoded, rawPath included (seen in
    # captures of live events); REST APIs and function URLs would not.
    path = unquote(raw_path)
    header_pairs = list(headers)
    cookies = [c.strip() for k, v in header_pairs if k.lower() == "cookie" for c in v.split(";") if c.strip()]
    hdrs = _joined(((k, v) for k, v in header_pairs if k.lower() != "cookie"), lower=True)
    now = datetime.now(UTC)
    domain = hdrs.get("host", "127.0.0.1")
    context: dict[str, Any] = {
        "accountId": account_id,
        "apiId": api_id,
        "domainName": domain,
        "domainPrefix": domain.split(".")[0],
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": source_ip,
            "userAgent": hdrs.get("user-agent", ""),
        },
        "requestId": _api_request_id(),
        "routeKey": route_key,
        "stage": "$default",
        "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if scopes is not None:  # what the JWT authorizer hands on; loopback calls carry no token
        context["authorizer"] = {"jwt": jwt_context(scopes)}
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": hdrs,
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    query = parse_qsl(raw_query, keep_blank_values=True)
    if query:
        event["queryStringParameters"] = _joined(query)
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    if body:
        try:
            event["body"] = body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
    return event


def _message_attribute(value: Mapping[str, Any]) -> dict[str, Any]:
    """SQS API shape (`StringValue`, bytes) → Lambda event shape (`stringValue`, base64)."""

    def b64(data: Any) -> str:
        return base64.b64encode(data if isinstance(data, bytes) else str(data).encode()).decode()

    out: dict[str, Any] = {
        "stringListValues": list(value.get("StringListValues", [])),
        "binaryListValues": [b64(v) for v in value.get("BinaryListValues", [])],
        "dataType": value.get("DataType", "String"),
    }
    if "StringValue" in value:
        out["stringValue"] = value["StringValue"]
    if "BinaryValue" in value:
        out["binaryValue"] = b64(value["BinaryValue"])
    return out


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def sqs_event(messages: Iterable[Mapping[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """An SQS event source mapping's event from `ReceiveMessage` results."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m.get("Body", ""),
                "attributes": dict(m.get("Attributes", {})),
                "messageAttributes": {
                    k: _message_attribute(v) for k, v in m.get("MessageAttributes", {}).items()
                },
                "md5OfBody": m.get("MD5OfBody") or _md5(m.get("Body", "")),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


def scheduled_event(rule_arn: str, region: str, account_id: str, input_json: str | None = None) -> Any:
    """What a schedule delivers: its constant Input if it has one, else EventBridge's envelope."""
    if input_json is not None:
        return json.loads(input_json)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }
