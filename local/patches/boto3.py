"""boto3: a DynamoDB request's conditions built one request at a time.

boto3 writes a request's `Key(...)`/`Attr(...)` conditions with one placeholder counter per
resource, reset at each request: two threads sending on one client at once can both number a
placeholder `#n0`, and the key condition then names the wrong attribute ("Query condition missed
key schema element: pk"). Lambda runs one invocation per container, but locally every function
shares the shared code's cached resources (`ddhalo_lambda.services`).

Why a patch: boto3 makes the `TransformationInjector` inside each DynamoDB resource and registers
its bound method, under a fixed unique id, on that resource's client when the resource is made.
A handler of our own could build the conditions first, but only on sessions the runner holds,
and only if it runs before the resource's own; no setting makes the injector's counter per
request. So the injector's method itself takes a lock, for every resource in the process.
tests/local/test_library_shapes.py fails the day boto3 moves or renames it.
"""

from __future__ import annotations

import threading
from typing import Any

from boto3.dynamodb.transform import TransformationInjector

_lock = threading.Lock()


def build_conditions_one_at_a_time() -> None:
    """From now on, requests build their conditions one at a time. Idempotent; lasts for the
    process; resources made earlier keep boto3's method (so do it before the clients are made)."""
    inject = TransformationInjector.inject_condition_expressions
    if getattr(inject, "one_at_a_time", False):
        return

    def one_at_a_time(self: Any, params: Any, model: Any, **kwargs: Any) -> None:
        with _lock:
            inject(self, params, model, **kwargs)

    one_at_a_time.one_at_a_time = True  # type: ignore[attr-defined]
    TransformationInjector.inject_condition_expressions = one_at_a_time
