"""Imports and syncs are idempotent per ``Idempotency-Key`` header (Powertools Idempotency).

A client that retries a POST with the same key gets the first answer (the same ``run_id``) and no
second run; the same key with a different body is refused. Records live in the app's table under
their own ``pk`` prefix and expire after a day (the table's TTL attribute).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)
from pydantic import BaseModel

from ddhalo.errors import ConflictError, InputError
from ddhalo_lambda.environment import environment

HEADER = "idempotency-key"
TTL_SECONDS = 24 * 3600
MAX_KEY = 200


@cache
def _persistence() -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(
        table_name=environment().table_name,
        key_attr="pk",
        sort_key_attr="sk",
        expiry_attr="expires_at",
    )


CONFIG = IdempotencyConfig(
    event_key_jmespath="key",
    payload_validation_jmespath="body",
    expires_after_seconds=TTL_SECONDS,
    raise_on_no_idempotency_key=True,
)


def idempotent[R: BaseModel](
    app: APIGatewayHttpResolver, operation: str, body: R, start: Callable[[R], Response[Any]]
) -> Response[Any]:
    """``start(body)`` once per key: the same key with the same body answers the first answer
    again; without the header, every call runs."""
    headers = app.current_event.headers or {}
    key = {k.lower(): v for k, v in headers.items()}.get(HEADER, "").strip()
    if not key:
        return start(body)
    if len(key) > MAX_KEY:
        raise InputError(
            f"The Idempotency-Key header must be at most {MAX_KEY} characters; it has {len(key)}.",
            "Send a shorter key, such as a UUID.",
        )

    @idempotent_function(data_keyword_argument="request", persistence_store=_persistence(), config=CONFIG)
    def once(request: dict[str, Any]) -> dict[str, Any]:
        response = start(body)
        return {"status": response.status_code, "body": response.body}

    # In-progress records expire with the invocation, so a crashed request can be retried.
    CONFIG.register_lambda_context(app.lambda_context)
    try:
        answer = once(request={"key": f"{operation}:{key}", "body": body.model_dump(mode="json")})
    except IdempotencyValidationError as exc:
        raise ConflictError(
            "This Idempotency-Key was already used with a different request body.",
            "Use a new key for a different request.",
        ) from exc
    except IdempotencyAlreadyInProgressError as exc:
        raise ConflictError(
            "A request with this Idempotency-Key is still being handled.", "Retry in a few seconds."
        ) from exc
    return Response(answer["status"], content_types.APPLICATION_JSON, answer["body"])
