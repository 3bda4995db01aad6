"""Why a request failed, worded once for the user: the errors the transport and the pace raise."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import requests
import urllib3

from ddhalo.errors import OutOfTimeError, ThrottledError, UnreachableError, UpstreamError
from ddhalo.http.body import clip

# What requests, urllib3 and idna raise for a URL that cannot be sent at all.
INVALID_URL = (
    requests.exceptions.InvalidURL,
    requests.exceptions.MissingSchema,
    urllib3.exceptions.LocationParseError,
    UnicodeError,
)


def out_of_time(system: str, waiting_for: str) -> OutOfTimeError:
    return OutOfTimeError(
        f"{system}: {waiting_for} would outlast this invocation.",
        "Queued work continues in a follow-up job; a request can be tried again in a few minutes "
        "(the rate limit is shared with every other integration).",
        system=system,
    )


def invalid_url(system: str, exc: BaseException) -> UnreachableError:
    return UnreachableError(
        f"The {system} URL is not valid: {clip(str(exc))}",
        "Check the base URL setting (it must start with https://).",
        system=system,
    )


def unreachable(
    system: str, url: str, exc: requests.exceptions.RequestException, *, ambiguous: bool
) -> UnreachableError:
    """No answer came: ``ambiguous`` when a write may have landed all the same."""
    host = urlsplit(url).netloc
    if ambiguous:
        return UnreachableError(
            f"{system} at {host} did not answer in time; the write may or may not have been saved.",
            "Run again: records already saved are recognised and not created twice.",
            system=system,
        )
    kind = _connect_failure(exc) or (
        "timed out" if isinstance(exc, requests.exceptions.Timeout) else "the connection failed"
    )
    return UnreachableError(
        f"Could not reach {system} at {host} ({kind}).",
        "Check the URL, region and environment settings and that the host is reachable from AWS.",
        system=system,
    )


def throttled_too_long(system: str, seconds: float) -> ThrottledError:
    return ThrottledError(
        f"{system} kept answering 429 Too Many Requests for {_duration(seconds)}.",
        "Its rate limit is shared with every other integration using it: lower the "
        "request rate setting, or run again later.",
        system=system,
    )


def too_large(system: str, max_bytes: int, status_code: int) -> UpstreamError:
    return UpstreamError(
        f"{system} answered more than {max_bytes // (1024 * 1024)} MB; refused.",
        "Narrow the request (fewer customers) or check the base URL.",
        system=system,
        status_code=status_code,
    )


def never_sent(exc: requests.exceptions.RequestException) -> bool:
    """True when the request cannot have reached the server, so a retry cannot duplicate it."""
    return _connect_failure(exc) is not None


def _connect_failure(exc: requests.exceptions.RequestException) -> str | None:
    """Why no connection was made (so the request never reached the server), or None."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "timed out connecting"
    if not isinstance(exc, requests.exceptions.ConnectionError):
        return None
    causes = list(_causes(exc))
    if any(isinstance(c, urllib3.exceptions.NameResolutionError | socket.gaierror) for c in causes):
        return "its host name could not be resolved"
    if any(isinstance(c, ConnectionRefusedError) for c in causes):
        return "the connection was refused"
    if any(isinstance(c, urllib3.exceptions.NewConnectionError) for c in causes):
        return "no connection could be made"
    return None


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """The exception and everything it wraps (requests wraps urllib3, which wraps socket errors)."""
    pending, seen = [exc], set()
    while pending:
        current = pending.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        wrapped = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        pending += [w for w in wrapped if isinstance(w, BaseException)]


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} minutes" if seconds >= 90 else f"{seconds:.0f} seconds"
