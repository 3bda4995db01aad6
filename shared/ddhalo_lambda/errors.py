"""The API's one error body, ``{"error": {"code", "message", "hint"?}}``: every failure of every
function answers it (README, "the API"), whichever layer refuses the request."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types


def error_body(code: str, message: str | None, hint: str | None = None) -> dict[str, Any]:
    """The body; ``hint`` (what to do about it) only when there is one."""
    error: dict[str, Any] = {"code": code, "message": message}
    if hint:
        error["hint"] = hint
    return {"error": error}


def error_response(status: int, code: str, message: str, hint: str | None = None) -> Response[Any]:
    """The body as a route's answer (the event handler serialises it)."""
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=error_body(code, message, hint)
    )
