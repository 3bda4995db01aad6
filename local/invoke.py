"""Calling the real handlers in-process the way Lambda would (the events are `local.events`).

One process hosts every function, and invocations run concurrently as in AWS, where a function
scales out to as many containers as it has requests at once. A local "container" is a copy of
the handler module that handles one event at a time: a function starts another when all of its
containers are busy (up to its ReservedConcurrentExecutions). Each invocation runs in its own
`contextvars` context, signing its AWS calls with its function's role (`local/credentials.py`).
"""

from __future__ import annotations

import contextvars
import hashlib
import importlib.util
import logging
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

from local.credentials import AwsCredentials, acting_as
from local.patches.powertools import isolate_router_state
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
