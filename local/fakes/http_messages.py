"""The fakes' requests and answers: what a handler is given, what it returns, how both are built.

Kept apart from the server so a handler (or a test scripting an answer) needs only these.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, unquote, urlsplit

JSON_TYPE = "application/json; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"

#: Status 0 means "close the connection without answering" (a request lost in transit).
DROP = 0


class RecordedRequest(NamedTuple):
    """One request as the fake saw it; `body` is parsed JSON, a form dict, or None."""

    method: str
    path: str
    query: dict[str, str]
    body: Any


@dataclass
class Request:
    """A parsed request handed to `FakeServer.handle`."""

    method: str
    path: str
    query: dict[str, str]
    #: Header names lower-cased; use `header()` for lookups.
    headers: dict[str, str]
    raw: bytes
    json: Any = None
    #: Set when the body is non-empty and neither valid JSON nor a form.
    json_error: str | None = None
    form: dict[str, str] | None = None
    _query_ci: dict[str, str] = field(default_factory=dict, repr=False)

    def param(self, name: str) -> str | None:
        """Query parameter by case-insensitive name (ASP.NET binds them that way)."""
        return self._query_ci.get(name.lower())

    def flag(self, name: str) -> bool:
        """True when a boolean query parameter is set to true/1."""
        return (self.param(name) or "").strip().lower() in ("true", "1")

    def header(self, name: str) -> str | None:
        """Header by case-insensitive name."""
        return self.headers.get(name.lower())


@dataclass
class Response:
    """What the fake answers; `status == DROP` closes the connection without an answer."""

    status: int
    body: bytes = b""
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)


class HttpError(Exception):
    """Raised inside `handle` to answer `response` at once (keeps handlers flat)."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON answer, serialised now so the bytes are built while the data lock is held. Raw
    UTF-8, not ASCII escapes: whether the real APIs escape is not known, and raw is the harder
    case (a decoded answer's width is its widest character's)."""
    body = json.dumps(payload, separators=(",", ":"), default=str, ensure_ascii=False).encode()
    return Response(status, body, JSON_TYPE, dict(headers or {}))


def text_response(
    status: int, text: str, content_type: str = TEXT_TYPE, headers: Mapping[str, str] | None = None
) -> Response:
    """A text (or HTML) answer."""
    return Response(status, text.encode(), content_type, dict(headers or {}))


def make_response(
    status: int,
    body: bytes | str | Mapping[str, Any] | list[Any],
    headers: Mapping[str, str] | None = None,
    content_type: str | None = None,
) -> Response:
    """Build a scripted answer: dict/list → JSON, str/bytes as given (default text/plain)."""
    if isinstance(body, (Mapping, list)):
        resp = json_response(status, dict(body) if isinstance(body, Mapping) else body, headers)
        if content_type:
            resp.content_type = content_type
        return resp
    raw = body.encode() if isinstance(body, str) else bytes(body)
    return Response(status, raw, content_type or TEXT_TYPE, dict(headers or {}))


def parse_request(method: str, target: str, headers: dict[str, str], raw: bytes) -> Request:
    """The request as a handler reads it: path unquoted, query and body parsed (a form when
    the Content-Type says so, else JSON; a body that is neither keeps why in `json_error`)."""
    split = urlsplit(target)
    query = dict(parse_qsl(split.query, keep_blank_values=True))
    request = Request(
        method=method,
        path=unquote(split.path),
        query=query,
        headers={k.lower(): v for k, v in headers.items()},
        raw=raw,
        _query_ci={k.lower(): v for k, v in query.items()},
    )
    if not raw:
        return request
    content_type = (request.header("Content-Type") or "").lower()
    if "application/x-www-form-urlencoded" in content_type:
        request.form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        return request
    try:
        request.json = json.loads(raw)
    except ValueError as exc:
        request.json_error = str(exc)
    return request
