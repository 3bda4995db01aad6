"""What reaches Halo's API before any handling: the OpenAPI check and the rate limit.

Hosted Halo throttles per rolling window shared by every integration of an MSP (300 calls in
5 minutes), and answers 429 without `Retry-After`; a request the API document does not declare
is refused with a 400 naming the fault. Both are checked before injected faults and handling,
as at Halo's edge, and a non-conforming request is recorded even when it is throttled.
"""

from __future__ import annotations

import math
import time

from . import halo_openapi
from .halo_base import DENIED, INSUFFICIENT_SCOPE, HaloBase, invalid
from .http_messages import Request, Response, json_response, text_response

TOO_MANY_REQUESTS = {"ClassName": "TooManyRequests", "Message": "Rate limit exceeded"}


class HaloAdmission(HaloBase):
    """Rate limiting, `saturate`, the OpenAPI check, and Halo's error shapes for injected faults."""

    def saturate(self, seconds: float) -> None:
        """Keep the shared rate-limit window full for `seconds`, as another integration of the
        same MSP can: every API request (not `/auth/token`) arriving meanwhile answers 429.
        `saturate(0)` ends it at once."""
        with self.lock:
            self._saturated_until = time.monotonic() + max(seconds, 0.0)

    def error_response(self, status: int, message: str | None = None) -> Response:
        """Halo's error shapes, which vary by status."""
        if status == 429:
            return self._too_many(1, message)
        if status == 401:
            return json_response(401, DENIED)
        if status == 403:
            return text_response(403, message or INSUFFICIENT_SCOPE)
        return json_response(
            status, {"ClassName": "Exception", "Message": message or "An error has occurred."}
        )

    def _too_many(self, seconds: float, message: str | None = None) -> Response:
        """Halo's 429; `Retry-After` only when configured (hosted Halo sends none)."""
        headers = {"Retry-After": str(max(1, math.ceil(seconds)))} if self.retry_after else {}
        return json_response(
            429, {**TOO_MANY_REQUESTS, "Message": message or TOO_MANY_REQUESTS["Message"]}, headers
        )

    @staticmethod
    def _is_api(request: Request) -> bool:
        low = request.path.lower()
        return low == "/api" or low.startswith("/api/")

    def admit(self, request: Request) -> Response | None:
        """Before faults and handling, as at Halo's edge: check the request against the API
        document (recording violations), then throttle, then refuse a non-conforming one."""
        if not self._is_api(request):
            return None  # /auth/token: Halo's OAuth server, validated by `_token`
        problems = self._openapi_problems(request) if self.check_openapi else []
        self.violations += [f"{request.method} {request.path}: {p}" for p in problems]
        throttled = self._check_rate()
        if throttled is not None:
            return throttled
        if problems:
            return invalid(f"Request does not match Halo's API document: {'; '.join(problems)}").response
        return None

    @staticmethod
    def _openapi_problems(request: Request) -> list[str]:
        """The raw request as sent (bytes and Content-Type), so no lenient parsing hides a fault."""
        return halo_openapi.check_request(
            request.method,
            request.path,
            request.query,
            content_type=request.header("Content-Type"),
            body=request.raw,
        )

    def _check_rate(self) -> Response | None:
        """The 429 for a saturated window or past the rolling-window limit, else None (and the
        request takes a slot). Only API requests count: the token endpoint is never limited."""
        now = time.monotonic()
        if now < self._saturated_until:
            return self._too_many(self._saturated_until - now)
        if self.rate_limit is None:
            return None
        hits = self._hits
        while hits and hits[0] <= now - self.rate_window:
            hits.popleft()
        if len(hits) >= self.rate_limit:
            return self._too_many(hits[0] + self.rate_window - now)
        hits.append(now)
        return None
