"""HTTP plumbing shared by the Dicker Data and Halo clients.

One place for timeouts, retries with backoff and jitter, ``Retry-After``, request pacing,
call counting and turning upstream error bodies into one readable sentence.
"""

from __future__ import annotations

import bisect
import email.utils
import hashlib
import json
import random
import re
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from ddhalo import jsonpieces
from ddhalo.deadline import Deadline
from ddhalo.errors import OutOfTimeError, ThrottledError, UnreachableError, UpstreamError
from ddhalo.halo.limits import RATE_WINDOW_SECONDS

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# Statuses after which a write may or may not have been applied upstream.
AMBIGUOUS_STATUS = frozenset({500, 502, 504})
MAX_ERROR_TEXT = 300
# Above the largest real answer we expect (50,000 subscriptions is about 30 MB), below Lambda memory.
DEFAULT_MAX_BODY_BYTES = 40 * 1024 * 1024


def out_of_time(system: str, waiting_for: str) -> OutOfTimeError:
    return OutOfTimeError(
        f"{system}: {waiting_for} would outlast this invocation.",
        "Queued work continues in a follow-up job; a request can be tried again in a few minutes "
        "(the rate limit is shared with every other integration).",
        system=system,
    )


class TokenCache:
    """Bearer tokens (Halo) and access keys (Dicker Data) by who asked for them, so clients made
    one after another (a job each, in a warm container) reuse one instead of asking per job."""

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(*parts: str, secret: str) -> str:
        """Who asked: the secret is part of it (hashed), so a changed secret is tried, not answered
        from the cache."""
        return "\n".join([*parts, hashlib.sha256(secret.encode()).hexdigest()])

    def get(self, key: str, now: float, margin: float) -> str | None:
        """The cached token, unless it expires within ``margin`` seconds."""
        with self._lock:
            token, expires = self._tokens.get(key, ("", 0.0))
        return token if token and now < expires - margin else None

    def put(self, key: str, token: str, expires: float) -> None:
        with self._lock:
            self._tokens[key] = (token, expires)

    def drop(self, key: str, token: str) -> None:
        """Forget a token Halo refused, unless another client already replaced it."""
        with self._lock:
            if self._tokens.get(key, ("", 0.0))[0] == token:
                del self._tokens[key]


class Credential:
    """A bearer credential (Halo's token, Dicker Data's access key): asked for when none is cached
    or it is about to expire, kept in a :class:`TokenCache`, and renewed once when refused.

    Both upstreams refuse a stale credential with a 401 (or, for Dicker Data, an expired-key
    message); the fix is the same: forget it, get a fresh one and send once more. A second refusal
    is the caller's to word (the credential itself is wrong).
    """

    def __init__(
        self,
        cache: TokenCache,
        key: str,
        fetch: Callable[[], tuple[str, float]],
        *,
        clock: Callable[[], float] = time.time,
        margin: float = 120.0,
    ) -> None:
        self.cache = cache
        self.key = key
        self._fetch = fetch  # answers the credential and when it expires (epoch seconds)
        self._clock = clock
        self.margin = margin

    def current(self) -> str:
        cached = self.cache.get(self.key, self._clock(), self.margin)
        if cached:
            return cached
        value, expires = self._fetch()
        self.cache.put(self.key, value, expires)
        return value

    def send(
        self,
        transport: Transport,
        method: str,
        path: str,
        *,
        headers: Callable[[str], Mapping[str, str]],
        refused: Callable[[requests.Response], bool],
        **kwargs: Any,
    ) -> tuple[requests.Response, bool]:
        """Send with the current credential (``headers`` makes each attempt's headers from it);
        answer the response and whether it was refused even with a fresh credential."""
        sent: list[str] = []  # what each attempt sent (the transport may retry within one)

        def with_credential() -> Mapping[str, str]:
            value = self.current()
            sent.append(value)
            return headers(value)

        for attempt in (1, 2):
            response = transport.send(method, path, headers=with_credential, **kwargs)
            if not refused(response):
                return response, False
            if attempt == 2:
                return response, True
            for value in sent:  # another client may already have replaced it: drop only ours
                self.cache.drop(self.key, value)
            sent.clear()
        raise AssertionError("unreachable")


# Starts a job hands on (at most a window's worth at any pace we allow), and how close two
# starts may be and still be one call told of twice (epoch and monotonic clocks drift apart).
MAX_HANDED_ON = 1000
SAME_START = 0.005


class RateLimiter:
    """At most ``max_calls`` request starts in any rolling ``window`` seconds (a sliding log).

    Bursts go out at once and only the call that would overflow the window waits, which is how
    Halo counts (300 per rolling 5 minutes). Thread-safe; ``None`` or 0 disables it.
    """

    def __init__(
        self,
        max_calls: int | None,
        window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.max_calls = max_calls or 0
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._wall = wall
        self._starts: deque[float] = deque()
        self._not_before = 0.0
        self._lock = threading.Lock()

    def wait(self, deadline: Deadline | None = None, system: str = "Halo") -> float:
        """Block until the next request may start; answer how long we waited. A wait that would
        pass ``deadline`` raises :class:`OutOfTimeError` (the request is not started)."""
        if not self.max_calls:
            return 0.0
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                while self._starts and self._starts[0] <= now - self.window:
                    self._starts.popleft()
                delay = self._not_before - now
                if len(self._starts) >= self.max_calls:
                    delay = max(delay, self._starts[0] + self.window - now)
                if delay <= 0:
                    self._starts.append(now)
                    return waited
            if deadline is not None and delay > deadline.left():
                raise out_of_time(system, "waiting for the request pace")
            self._sleep(delay)
            waited += delay

    def recent(self) -> list[float]:
        """The starts still in the window, as epoch seconds, oldest first: what the job queued
        next must count as already made, wherever it runs (Halo counts calls, not containers)."""
        with self._lock:
            now = self._clock()
            offset = self._wall() - now
            return [round(s + offset, 3) for s in self._starts if s > now - self.window][-MAX_HANDED_ON:]

    def count_in(self, starts: Iterable[float]) -> None:
        """Count starts another container made (epoch seconds, from :meth:`recent`) as if made
        here. Those this one already holds (it made them, or was told of them) count once."""
        with self._lock:
            now = self._clock()
            offset = self._wall() - now
            held = list(self._starts)  # sorted: starts are appended in clock order
            told = []
            for epoch in starts:
                start = min(epoch - offset, now)  # another clock a little ahead: not in the future
                i = bisect.bisect_left(held, start - SAME_START)
                if start > now - self.window and not (i < len(held) and held[i] <= start + SAME_START):
                    told.append(start)
            self._starts = deque(sorted(held + told))

    def push_back(self, seconds: float) -> None:
        """After a 429, hold every later request too, not only the one that was refused."""
        with self._lock:
            self._not_before = max(self._not_before, self._clock() + seconds)


@dataclass
class RetryPolicy:
    """How long to keep trying. ``attempts`` bounds 5xx, timeouts and connection errors; a 429
    is retried until the deadline (a queued job), or for ``throttle_patience`` without one."""

    attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    # Without Retry-After a 429 means the rolling window is full: it frees as its oldest calls
    # age out, within one window. Probes start at window/30 and double up to window/5.
    throttle_window: float = RATE_WINDOW_SECONDS
    throttle_patience: float = 2 * RATE_WINDOW_SECONDS

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(max, base * 2^attempt)]."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * (2**attempt)))

    def throttled(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """How long to wait after the ``attempt``-th 429 in a row (0-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after) + rng.uniform(0, 0.25)
        step = min(self.throttle_window / 5, self.throttle_window / 30 * (2**attempt))
        return rng.uniform(step / 2, step)


@dataclass
class CallStats:
    """What a client did; read by runs and metrics."""

    calls: int = 0
    retries: int = 0
    throttled: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)
    paced_seconds: float = 0.0  # held back by the rate limiter (our own pace)
    backoff_seconds: float = 0.0  # slept between retries and while a 429's window frees

    def count(self, key: str) -> None:
        self.calls += 1
        self.by_endpoint[key] = self.by_endpoint.get(key, 0) + 1


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` is either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


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
            return _clip("; ".join(dict.fromkeys(parts)))
    if isinstance(body, str) and body:
        return _clip(body)
    if "<html" in text[:500].lower() or "<!doctype" in text[:500].lower():
        title = re.search(r"<title>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
        page = _SPACE.sub(" ", title.group(1)).strip() if title else ""
        return _clip(f"an HTML page{': ' + page if page else ''} (not the API)")
    return _clip(_SPACE.sub(" ", _TAGS.sub(" ", text)).strip()) or f"HTTP {response.status_code}"


def _clip(text: str) -> str:
    cut = len(text) > MAX_ERROR_TEXT
    text = "".join(ch if ch.isprintable() else " " for ch in text[:MAX_ERROR_TEXT])
    return text[: MAX_ERROR_TEXT - 1] + "…" if cut else text


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


def _never_sent(exc: requests.exceptions.RequestException) -> bool:
    """True when the request cannot have reached the server, so a retry cannot duplicate it."""
    return _connect_failure(exc) is not None


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
        url = self.url(path)
        endpoint = f"{method} /{path.split('?')[0].lstrip('/')}"
        failures = throttles = 0
        throttled_for = 0.0
        while True:
            if self.deadline is not None and self.deadline.left() <= 0:
                raise out_of_time(self.system, "another request")
            self.stats.paced_seconds += self.limiter.wait(self.deadline, self.system)
            self.stats.count(endpoint)
            try:
                response = self.session.request(
                    method,
                    url,
                    timeout=self._timeout(timeout or self.timeout),
                    headers=dict(headers()) if headers else None,
                    stream=True,
                    **kwargs,
                )
                self._read_capped(response)
            except (
                requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema,
                urllib3.exceptions.LocationParseError,
                UnicodeError,
            ) as exc:
                raise UnreachableError(
                    f"The {self.system} URL is not valid: {_clip(str(exc))}",
                    "Check the base URL setting (it must start with https://).",
                    system=self.system,
                ) from exc
            except requests.exceptions.RequestException as exc:
                if not retry_ambiguous and not _never_sent(exc):
                    raise self._unreachable(url, exc, ambiguous=True) from exc
                failures += 1
                if failures >= self.retry.attempts:
                    raise self._unreachable(url, exc, ambiguous=False) from exc
                self._pause(self.retry.backoff(failures - 1, self.rng), "retrying")
                continue
            status = response.status_code
            if status == 429:
                self.stats.throttled += 1
                after = parse_retry_after(response.headers.get("Retry-After"))
                wait = self.retry.throttled(throttles, after, self.rng)
                throttles += 1
                # A queued job waits for as long as its invocation lasts, then hands over; a
                # request without a deadline gives up after throttle_patience.
                if self.deadline is None and throttled_for + wait > self.retry.throttle_patience:
                    raise ThrottledError(
                        f"{self.system} kept answering 429 Too Many Requests for {_duration(throttled_for)}.",
                        "Its rate limit is shared with every other integration using it: lower the "
                        "request rate setting, or run again later.",
                        system=self.system,
                    )
                self.limiter.push_back(wait)
                if self.on_throttle is not None:
                    self.on_throttle(wait)
                self._pause(wait, "waiting for its rate limit to free")
                throttled_for += wait
                continue
            if status not in RETRYABLE_STATUS or (status in AMBIGUOUS_STATUS and not retry_ambiguous):
                return response
            failures += 1
            if failures >= self.retry.attempts:
                return response
            self._pause(self.retry.backoff(failures - 1, self.rng), "retrying")

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
                raise UpstreamError(
                    f"{self.system} answered more than {self.max_body_bytes // (1024 * 1024)} MB; refused.",
                    "Narrow the request (fewer customers) or check the base URL.",
                    system=self.system,
                    status_code=response.status_code,
                )
            chunks.append(chunk)
        response._content = b"".join(chunks)

    def _unreachable(
        self, url: str, exc: requests.exceptions.RequestException, *, ambiguous: bool
    ) -> UnreachableError:
        host = urlsplit(url).netloc
        if ambiguous:
            return UnreachableError(
                f"{self.system} at {host} did not answer in time; the write may or may not have been saved.",
                "Run again: records already saved are recognised and not created twice.",
                system=self.system,
            )
        kind = _connect_failure(exc) or (
            "timed out" if isinstance(exc, requests.exceptions.Timeout) else "the connection failed"
        )
        return UnreachableError(
            f"Could not reach {self.system} at {host} ({kind}).",
            "Check the URL, region and environment settings and that the host is reachable from AWS.",
            system=self.system,
        )


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} minutes" if seconds >= 90 else f"{seconds:.0f} seconds"
