"""GET / and GET /console/{proxy+}: the web console's static files, and GET /console/config.json.

The console is plain files read from this package, so the function needs no table, secret or
queue: it holds no data and no secret, and its routes are the only ones without IAM auth (a
browser cannot sign SigV4). The API calls the console makes carry their own authorization.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from ddhalo_lambda.entry import static_http_handler
from ddhalo_lambda.environment import environment
from ddhalo_lambda.errors import error_body

STATIC = Path(__file__).resolve().parent / "static"
# Only these kinds are served: a file of any other kind in the folder stays private.
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}
TEXT_SUFFIXES = frozenset({".html", ".css", ".js", ".json", ".svg"})
# Short enough that a deploy reaches browsers within minutes, no build step to fingerprint names.
ASSET_CACHE = "public, max-age=300"
# The page and its config decide which assets and which sign-in load: never stale.
NO_CACHE = "no-cache"
# What the console asks the hosted UI for: who signed in, nothing more.
SCOPES = ("openid", "email")
# The page may talk to its own origin and Cognito only, and may not be framed (clickjacking).
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def _csp() -> str:
    domain = environment().console_auth_domain
    connect = "'self'" + (f" https://{domain}" if domain else "")
    return (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    )


def _answer(status: int, content_type: str, body: bytes, cache: str) -> dict[str, Any]:
    binary = not content_type.startswith(("text/", "application/json", "image/svg"))
    return {
        "statusCode": status,
        "headers": {
            "Content-Type": content_type,
            "Cache-Control": cache,
            "Content-Security-Policy": _csp(),
            **SECURITY_HEADERS,
        },
        "body": base64.b64encode(body).decode() if binary else body.decode("utf-8"),
        "isBase64Encoded": binary,
    }


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    body = json.dumps(error_body(code, message)).encode()
    return _answer(status, "application/json", body, NO_CACHE)


def config() -> dict[str, Any]:
    """Sign-in settings from the environment: none on loopback, Cognito's hosted UI when deployed."""
    env = environment()
    domain, client_id = env.console_auth_domain, env.console_client_id
    if not domain or not client_id:
        return {"auth": None}
    return {"auth": {"domain": domain, "client_id": client_id, "scopes": list(SCOPES)}}


def asset(relative: str) -> dict[str, Any]:
    """One file under static/, refused unless it resolves inside it and is of a served kind."""
    if not relative or "\\" in relative or "\x00" in relative:
        return _error(404, "not_found", "No such console file.")
    target = (STATIC / relative).resolve()
    if not target.is_relative_to(STATIC) or target.suffix not in CONTENT_TYPES or not target.is_file():
        return _error(404, "not_found", "No such console file.")
    cache = NO_CACHE if target.suffix == ".html" else ASSET_CACHE
    return _answer(200, CONTENT_TYPES[target.suffix], target.read_bytes(), cache)


def route(event: dict[str, Any]) -> dict[str, Any]:
    key = str(event.get("routeKey") or "")
    method = key.partition(" ")[0]
    if method not in ("GET", "HEAD"):
        return _error(405, "method_not_allowed", "The console is read with GET.")
    if key.endswith(" /"):
        return asset("index.html")
    proxy = str((event.get("pathParameters") or {}).get("proxy") or "")
    if key.endswith(" /console/config.json") or proxy == "config.json":
        return _answer(200, "application/json", json.dumps(config()).encode(), NO_CACHE)
    return asset(proxy)


lambda_handler = static_http_handler(route)
