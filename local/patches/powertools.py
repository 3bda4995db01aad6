"""Powertools' event handler, made safe for invocations that run at once in one process.

`ApiGatewayResolver.resolve` stores the current event and Lambda context on the `BaseRouter`
*class* (``BaseRouter.current_event = ...``), so every resolver and router in the process shares
them. In Lambda that is harmless: a process runs one invocation at a time. The local runner runs
concurrent invocations in one process, where one request would read another's body.

No public way exists to change that (checked against Powertools 3.37): `resolve` assigns the
class attributes itself, and the one resolver that keeps request state in a `ContextVar`
(`HttpResolver`) does so for its ASGI path only and is not the resolver the handlers use. So the
two attributes are replaced by descriptors whose value belongs to the `contextvars` context that
set it, which the runner makes anew for each invocation. `tests/local/test_patches.py` fails the
day Powertools stops keeping them where this patch expects.
"""

from __future__ import annotations

import contextvars
import threading
from typing import Any

# The class attributes `resolve` sets on `BaseRouter` for each event.
ROUTER_STATE = {
    "current_event": contextvars.ContextVar[Any]("powertools_current_event", default=None),
    "lambda_context": contextvars.ContextVar[Any]("powertools_lambda_context", default=None),
}
_lock = threading.Lock()


class PerInvocation:
    """A data descriptor whose value belongs to the context (invocation) that set it."""

    def __init__(self, var: contextvars.ContextVar[Any]) -> None:
        self._var = var

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        return self._var.get()

    def __set__(self, obj: Any, value: Any) -> None:
        self._var.set(value)


def isolate_router_state() -> None:
    """Make `BaseRouter`'s current event and context per invocation (idempotent)."""
    try:
        from aws_lambda_powertools.event_handler.api_gateway import BaseRouter
    except ImportError:  # a template whose handlers do not use Powertools
        return
    with _lock:
        if isinstance(vars(type(BaseRouter)).get("current_event"), PerInvocation):
            return
        descriptors = {name: PerInvocation(var) for name, var in ROUTER_STATE.items()}
        for name, descriptor in descriptors.items():  # instance reads and writes
            type.__setattr__(BaseRouter, name, descriptor)
        # class reads and writes (`BaseRouter.current_event = ...`) go through the metaclass
        meta = type("PerInvocationRouterMeta", (type(BaseRouter),), dict(descriptors))
        BaseRouter.__class__ = meta  # type: ignore[method-assign]
