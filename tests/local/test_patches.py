"""The local runner's patches of library internals (`local/patches/`): each library still has
the shape its patch relies on, so the day one changes, a test here fails rather than the patch
silently doing nothing or something else."""

from __future__ import annotations

import abc
import contextvars
import inspect
import threading

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
from aws_lambda_powertools.event_handler.api_gateway import ApiGatewayResolver, BaseRouter

from local.events import http_event
from local.patches.powertools import ROUTER_STATE, PerInvocation, isolate_router_state

# -- Powertools ---------------------------------------------------------------------------------


def test_powertools_keeps_the_current_event_and_context_on_the_router_class():
    """What the patch replaces: two attributes `resolve` and `resolve_async` set on `BaseRouter`
    itself (not on the resolver), declared there and nowhere else on it."""
    assert set(ROUTER_STATE) == {"current_event", "lambda_context"}
    assert set(ROUTER_STATE) <= set(BaseRouter.__annotations__)
    for method in (ApiGatewayResolver.resolve, ApiGatewayResolver.resolve_async):
        source = inspect.getsource(method)
        for name in ROUTER_STATE:
            assert f"BaseRouter.{name} = " in source, (method.__name__, name)


def test_powertools_router_class_takes_a_derived_metaclass():
    """How the patch reaches class writes (``BaseRouter.current_event = ...``): a subclass of
    `BaseRouter`'s metaclass, assigned to its ``__class__``, which needs that metaclass to be
    `ABCMeta` (or one like it) and to define no attribute of the same names."""
    isolate_router_state()
    meta = type(BaseRouter)
    assert meta.__mro__[1] is abc.ABCMeta
    assert all(isinstance(vars(meta)[name], PerInvocation) for name in ROUTER_STATE)
    assert all(isinstance(vars(BaseRouter)[name], PerInvocation) for name in ROUTER_STATE)
    isolate_router_state()  # a second call changes nothing
    assert type(BaseRouter) is meta


def test_with_the_patch_each_invocation_reads_its_own_event():
    """Two requests resolved at once in one process, each in its own context (as the runner
    invokes): each handler reads its own path."""
    isolate_router_state()
    app = APIGatewayHttpResolver()
    both_resolving = threading.Barrier(2, timeout=10)

    @app.get("/<name>")
    def echo(name: str) -> dict:
        both_resolving.wait()  # the other request has set its event by now
        return {"name": name, "path": app.current_event.path}

    answers: dict[str, dict] = {}

    def request(name: str) -> None:
        event = http_event("GET", f"/{name}", "", [], b"", route_key="GET /{name}")
        answers[name] = contextvars.copy_context().run(app.resolve, event, None)

    threads = [threading.Thread(target=request, args=(name,)) for name in ("first", "second")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert {name: answer["statusCode"] for name, answer in answers.items()} == {"first": 200, "second": 200}
    assert '"path":"/first"' in answers["first"]["body"]
    assert '"path":"/second"' in answers["second"]["body"]
