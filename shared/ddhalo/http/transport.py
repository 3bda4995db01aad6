"""One request to an upstream, with its pace, retries, body cap and counters (:class:`Transport`)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import requests

from ddhalo.deadline import Deadline
from ddhalo.http.failures import (
    INVALID_URL,
    invalid_url,
    never_sent,
    out_of_time,
    throttled_too_long,
    too_large,
    unreachable,
)
from ddhalo.http.pacing import RateLimiter
from ddhalo.http.retry import RetryPolicy, parse_retry_after, retryable
from ddhalo.http.stats import CallStats

# Above the largest real answer we expect (50,000 subscriptions is about 30 MB), below Lambda memory.
DEFAULT_MAX_BODY_BYTES = 40 * 1024 * 1024


@dataclass
class _Request:
    """One request as each attempt sends it."""

    method: str
    url: str
    endpoint: str  # what the stats count it under: method and path, without the query
    headers: Callable[[], Mapping[str, str]] | None
    timeout: tuple[float, float]
    retry_ambiguous: bool
    kwargs: dict[str, Any]


@dataclass
class _Tries:
    """Where one request's retries stand."""

    failures: int = 0  # 5xx answers, timeouts and connection errors: bounded by RetryPolicy.attempts
    throttles: int = 0  # 429 answers
    throttled_for: float = 0.0  # seconds waited out after them


class Transport:
    """A ``requests`` session with pacing, retries and counting, bound to one base URL.

    It answers every response that is not retryable (callers interpret 4xx themselves) and
    raises :class:`UnreachableError` / :class:`ThrottledError` / :class:`UpstreamError` once
    retries are spent, or :class:`OutOfTimeError` when waiting would pass ``deadline``.
    """

    def __init__(
        self,
        base_url: str,
        *,
        system: str,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        deadline: Deadline | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.system = system
        self.session = session or requests.Session()
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.limiter = limiter or RateLimiter(None)
        self.sleep = sleep
        self.rng = rng or random.Random()
        self.max_body_bytes = max_body_bytes
        self.deadline = deadline
        self.stats = CallStats()
        # Told how long a 429 is waited out (a run shows it is waiting for the rate limit).
        self.on_throttle: Callable[[float], None] | None = None

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path.lstrip("/")

    def send(
        self,
        method: str,
        path: str,
        *,
        retry_ambiguous: bool = True,
        headers: Callable[[], Mapping[str, str]] | None = None,
        timeout: tuple[float, float] | None = None,
        **kwargs: Any,
    ) -> requests.Response:
        """Send with retries. ``headers`` is called per attempt (fresh token, transaction id);
        ``timeout`` (connect, read) replaces the transport's for this request (a write's answer
        may take longer than a read's).

        ``retry_ambiguous=False`` is for writes that create records: after a timeout or a 500/502/504
        the write may have landed, so we surface the error instead of risking a duplicate and let
        the caller reconcile by reading. A 429 was refused, so it is always retried: after its
        ``Retry-After``, else after waits that give the rolling window time to free.
        """
        endpoint = f"{method} /{path.split('?')[0].lstrip('/')}"
        request = _Request(
            method, self.url(path), endpoint, headers, timeout or self.timeout, retry_ambiguous, kwargs
        )
        tries = _Tries()
        while True:
            response = self._send_once(request, tries)
            if response is None:
                continue  # the connection failed; the wait before the next attempt is over
            status = response.status_code
            if status == 429:
                self._wait_out_throttle(response, tries)
            elif not (retryable(status, retry_ambiguous=retry_ambiguous) and self._another_try(tries)):
                return response

    def _send_once(self, request: _Request, tries: _Tries) -> requests.Response | None:
        """One attempt, when the pace allows it: its answer, or None after a connection failure
        that is worth another attempt (the backoff already waited)."""
        self._wait_for_pace(request.endpoint)
        try:
            return self._request(request)
        except requests.exceptions.RequestException as exc:
            if not request.retry_ambiguous and not never_sent(exc):
                raise unreachable(self.system, request.url, exc, ambiguous=True) from exc
            if not self._another_try(tries):
                raise unreachable(self.system, request.url, exc, ambiguous=False) from exc
            return None

    def _wait_for_pace(self, endpoint: str) -> None:
        """Hold the attempt until the rate limiter lets it start, and count it."""
        if self.deadline is not None and self.deadline.left() <= 0:
            raise out_of_time(self.system, "another request")
        self.stats.paced_seconds += self.limiter.wait(self.deadline, self.system)
        self.stats.count(endpoint)

    def _request(self, request: _Request) -> requests.Response:
        """Send once and read the whole (capped) body; a URL that cannot be sent is the user's to fix."""
        try:
            response = self.session.request(
                request.method,
                request.url,
                timeout=self._timeout(request.timeout),
                headers=dict(request.headers()) if request.headers else None,
                stream=True,
                **request.kwargs,
            )
            self._read_capped(response)
        except INVALID_URL as exc:
            raise invalid_url(self.system, exc) from exc
        return response

    def _wait_out_throttle(self, response: requests.Response, tries: _Tries) -> None:
        """A 429 was refused, not applied: wait as long as it asks (or for the window to free) and
        hold every later request too. A queued job waits for as long as its invocation lasts, then
        hands over; a request without a deadline gives up after ``throttle_patience``."""
        self.stats.throttled += 1
        after = parse_retry_after(response.headers.get("Retry-After"))
        wait = self.retry.throttled(tries.throttles, after, self.rng)
        tries.throttles += 1
        if self.deadline is None and tries.throttled_for + wait > self.retry.throttle_patience:
            raise throttled_too_long(self.system, tries.throttled_for)
        self.limiter.push_back(wait)
        if self.on_throttle is not None:
            self.on_throttle(wait)
        self._pause(wait, "waiting for its rate limit to free")
        tries.throttled_for += wait

    def _another_try(self, tries: _Tries) -> bool:
        """Count a failed attempt; unless the attempts are spent, wait out the backoff before the next."""
        tries.failures += 1
        if tries.failures >= self.retry.attempts:
            return False
        self._pause(self.retry.backoff(tries.failures - 1, self.rng), "retrying")
        return True

    def _timeout(self, wanted: tuple[float, float]) -> tuple[float, float]:
        """No answer is waited for past the deadline: the invocation must end with time to
        record what it did (a write cut short is then looked for like any lost answer)."""
        if self.deadline is None:
            return wanted
        left = max(1.0, self.deadline.left())
        return min(wanted[0], left), min(wanted[1], left)

    def _pause(self, seconds: float, why: str) -> None:
        if self.deadline is not None and seconds > self.deadline.left():
            raise out_of_time(self.system, why)
        self.stats.retries += 1
        self.stats.backoff_seconds += seconds
        self.sleep(seconds)

    def _read_capped(self, response: requests.Response) -> None:
        """Read the body but refuse absurd sizes instead of exhausting Lambda memory."""
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(chunk_size=256 * 1024):
            size += len(chunk)
            if size > self.max_body_bytes:
                response.close()
                raise too_large(self.system, self.max_body_bytes, response.status_code)
            chunks.append(chunk)
        response._content = b"".join(chunks)
