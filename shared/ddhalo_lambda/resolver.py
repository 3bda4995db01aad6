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
from ddhalo.runs.runner import Runner
from ddhalo.runs.view import run_view
from ddhalo.validation import MAX_NAME, describe_validation
from ddhalo_lambda.access import caller_name, refusal, request_method
from ddhalo_lambda.errors import error_body, error_response
from ddhalo_lambda.observability import logger

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


def _json_kind(value: Any) -> str:
    """What a parsed JSON value is, in JSON's words (not Python's: list, str, NoneType)."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "null"


class DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _once_each(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object whose keys are all different: Python's parser keeps the last of a key sent
    twice, another reader the first, so ``{"dry_run": true, "dry_run": false}`` means nothing sure."""
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKeyError(key)
        found[key] = value
    return found


def _key_name(key: str) -> str:
    """A key as the caller wrote it, quoted, its control characters escaped, cut when long."""
    return json.dumps(key if len(key) <= MAX_NAME else key[: MAX_NAME - 3] + "...")


def refuse_body(event: Mapping[str, Any]) -> tuple[int, str, str] | None:
    """Bodies are JSON objects (or absent/null) with each key once at any depth, checked before
    the event handler parses them: its parsers would read ``[{}]`` as ``{}``, keep the last of a
    key sent twice and fail on a multipart type without a boundary."""
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
        parsed = json.loads(body, object_pairs_hook=_once_each)
    except DuplicateKeyError as exc:
        return (
            400,
            "duplicate_key",
            f"The body has the key {_key_name(exc.key)} more than once; send each key once.",
        )
    except (ValueError, RecursionError):
        return 400, "bad_request", "The body is not valid JSON."
    if parsed is not None and not isinstance(parsed, dict):
        return 400, "bad_request", f"The body must be a JSON object, not {_json_kind(parsed)}."
    return None


class JsonApiResolver(APIGatewayHttpResolver):
    def resolve(self, event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        if (denied := refusal(event)) is not None:
            message, hint = denied
            method = request_method(event)
            logger.warning("refused: the token lacks this route's role", extra={"method": method})
            return _refused(403, error_body("forbidden", message, hint))
        refused = refuse_body(event)
        if refused is None:
            return super().resolve(event, context)
        status, code, message = refused
        return _refused(status, error_body(code, message))


def _refused(status: int, body: dict[str, Any]) -> dict[str, Any]:
    """An answer given before the event handler sees the request (so not through its Response)."""
    return {
        "statusCode": status,
        "headers": {"Content-Type": content_types.APPLICATION_JSON},
        "body": json.dumps(body),
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
    """Who called, for ``created_by``: the signed-in person or the script's client, else "api"."""
    return caller_name(app.current_event.raw_event) or "api"


def run_response(run: Run, runner: Runner) -> Response[Any]:
    """Finished runs (dry runs) answer 200 with the whole run; queued ones 202 with the id."""
    if run.status in FINISHED:
        return Response(200, content_types.APPLICATION_JSON, run_view(runner.store, run))
    return Response(
        202,
        content_types.APPLICATION_JSON,
        {"run_id": run.run_id, "kind": run.kind, "status": run.status, "dry_run": run.dry_run},
    )
