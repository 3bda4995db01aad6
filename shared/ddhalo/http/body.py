"""Reading what an upstream answered: a JSON body decoded, or any error body as one readable line."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

import requests

from ddhalo import jsonpieces
from ddhalo.errors import UpstreamError

MAX_ERROR_TEXT = 300

_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def json_body(
    response: requests.Response,
    system: str,
    what: str,
    object_pairs_hook: Callable[[list[tuple[str, Any]]], Any] | None = None,
) -> Any:
    """Decode a JSON answer or raise a readable error (HTML error pages, truncated bodies...)."""
    try:
        # From the bytes, in pieces: response.json() would first copy the whole answer into a str.
        return jsonpieces.loads(response.content, object_pairs_hook)
    except ValueError as exc:
        raise UpstreamError(
            f"{system} answered {what} with something that is not JSON: {describe_body(response)}",
            "Check that the base URL points at the API, not a web page.",
            system=system,
            status_code=response.status_code,
        ) from exc


def describe_body(response: requests.Response) -> str:
    """One readable line from any of the error-body shapes upstreams use."""
    text = response.text or ""
    if len(text) > 1_000_000:  # a huge error page: its start says enough
        text = text[:1_000_000]
    try:
        body: Any = json.loads(text) if text else None
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        parts = [
            str(body[key])
            for key in ("Message", "message", "error", "error_description", "ErrorDescription", "title")
            if body.get(key) not in (None, "")
        ]
        if parts:
            return clip("; ".join(dict.fromkeys(parts)))
    if isinstance(body, str) and body:
        return clip(body)
    if "<html" in text[:500].lower() or "<!doctype" in text[:500].lower():
        title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        page = _SPACE.sub(" ", title.group(1)).strip() if title else ""
        return clip(f"an HTML page{': ' + page if page else ''} (not the API)")
    return clip(_SPACE.sub(" ", _TAGS.sub(" ", text)).strip()) or f"HTTP {response.status_code}"


def clip(text: str) -> str:
    """Upstream text fit for a message: at most ``MAX_ERROR_TEXT`` printable characters."""
    cut = len(text) > MAX_ERROR_TEXT
    text = "".join(ch if ch.isprintable() else " " for ch in text[:MAX_ERROR_TEXT])
    return text[: MAX_ERROR_TEXT - 1] + "…" if cut else text
