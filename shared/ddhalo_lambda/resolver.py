"""The JSON API resolver every HTTP function uses: bodies checked before parsing, the spec's error
body for every failure, and the answers handlers share (who called, a started run)."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import pydantic
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)

from ddhalo.errors import IntegrationError
from ddhalo.models import FINISHED, Run
from ddhalo.runs import Runner
from ddhalo_lambda.observability import logger


def error_response(status: int, code: str, message: str, hint: str | None = None) -> Response[Any]:
    error: dict[str, Any] = {"code": code, "message": message}
    if hint:
        error["hint"] = hint
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body={"error": error})


def describe_validation(errors: list[Any]) -> str:
    """Pydantic errors as one sentence, without echoing input values (they may be secrets)."""
    parts = []
    for err in errors[:5]:
        loc = ".".join(str(p) for p in err.get("loc", ()) if p not in ("body",)) or "body"
        parts.append(f"{loc}: {err.get('msg') or str(err.get('type', 'invalid')).replace('_', ' ')}")
    more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
    return "; ".join(parts) + more


# Our request bodies nest three levels at most; a deep one is refused before any parser recurses.
MAX_BODY_DEPTH = 32


def _nesting(text: str) -> int:
    """How deep JSON arrays and objects nest in ``text`` (brackets inside strings ignored)."""
    if text.count("[") + text.count("{") <= MAX_BODY_DEPTH:
        return 0  # cannot nest deeper than it has brackets: no need to walk it
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def refuse_body(event: Mapping[str, Any]) -> tuple[int, str, str] | None:
    """Bodies are JSON objects (or absent/null), checked before the event handler parses them:
    its parsers would read ``[{}]`` as ``{}`` and fail on a multipart type without a boundary."""
    body = event.get("body")
    if not body:
        return None
    if event.get("isBase64Encoded"):
        try:
            body = base64.b64decode(body).decode()
        except (ValueError, UnicodeDecodeError):
            return 400, "bad_request", "The body is not UTF-8 JSON."
    if not str(body).strip():
        return None
    headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
    media = headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if not media.endswith("json"):
        return 415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json)."
    if _nesting(str(body)) > MAX_BODY_DEPTH:
        return 400, "bad_request", f"The body nests deeper than {MAX_BODY_DEPTH} levels."
    try:
        parsed = json.loads(body)
    except (ValueError, RecursionError):
        return 400, "bad_request", "The body is not valid JSON."
    if parsed is not None and not isinstance(parsed, dict):
        return 400, "bad_request", f"The body must be a JSON object, not {type(parsed).__name__}."
    return None


class JsonApiResolver(APIGatewayHttpResolver):
    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        refused = refuse_body(event)
        if refused is None:
            return super().resolve(event, context)
        status, code, message = refused
        return {
            "statusCode": status,
            "headers": {"Content-Type": content_types.APPLICATION_JSON},
            "body": json.dumps({"error": {"code": code, "message": message}}),
            "isBase64Encoded": False,
        }


def make_resolver() -> APIGatewayHttpResolver:
    app = JsonApiResolver(enable_validation=True)

    @app.exception_handler(RequestValidationError)
    def _invalid_request(exc: RequestValidationError) -> Response[Any]:
        return error_response(400, "bad_request", describe_validation(list(exc.errors())))

    @app.exception_handler(RequestUnsupportedContentType)
    def _media_type(exc: RequestUnsupportedContentType) -> Response[Any]:
        return error_response(
            415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json)."
        )

    @app.exception_handler(pydantic.ValidationError)
    def _invalid_model(exc: pydantic.ValidationError) -> Response[Any]:
        return error_response(400, "bad_request", describe_validation(list(exc.errors())))

    @app.exception_handler(IntegrationError)
    def _integration(exc: IntegrationError) -> Response[Any]:
        logger.warning("request failed", extra={"error_code": exc.code, "error": exc.message})
        return error_response(exc.status, exc.code, exc.message, exc.hint)

    @app.not_found
    def _not_found(_: Exception) -> Response[Any]:
        return error_response(
            404, "not_found", f"No route {app.current_event.http_method} {app.current_event.path}."
        )

    @app.exception_handler(Exception)
    def _unexpected(exc: Exception) -> Response[Any]:
        logger.exception("unexpected error")
        return error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong; see the logs.", None
        )

    return app


def caller(app: APIGatewayHttpResolver) -> str:
    """Who called, for ``created_by``: the IAM principal when deployed, else "api"."""
    context = app.current_event.raw_event.get("requestContext") or {}
    iam = (context.get("authorizer") or {}).get("iam") or {}
    return str(iam.get("userArn") or iam.get("callerId") or "api")[:200]


def run_response(run: Run, runner: Runner) -> Response[Any]:
    """Finished runs (dry runs) answer 200 with the whole run; queued ones 202 with the id."""
    if run.status in FINISHED:
        return Response(200, content_types.APPLICATION_JSON, runner.view(run))
    return Response(
        202,
        content_types.APPLICATION_JSON,
        {"run_id": run.run_id, "kind": run.kind, "status": run.status, "dry_run": run.dry_run},
    )
