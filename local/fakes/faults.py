"""Faults a fake can be told to inject: scripted answers, hangs, slow saves, random 5xx and 429s.

They model what the real APIs do on a bad day (an error page, a timeout, a save that lands after
its client gave up, a lost request), so the product's retries and reconciliation are exercised
against each. `FakeServer` mixes `FaultInjection` in and asks it, per request, for the hang and
the injected answer that apply.
"""

from __future__ import annotations

import random
import threading
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .http_messages import Response, json_response, make_response

#: When a delayed request takes effect: handled on arrival and answered late ("at_once"), handled
#: only after the delay, as a slow save ("late"), or never, the connection closed ("never").
Saves = Literal["at_once", "late", "never"]


def path_matches(path: str, prefixes: Iterable[str]) -> bool:
    """Whether `path` starts with one of `prefixes`, case-insensitively (as the APIs route)."""
    low = path.lower()
    return any(low.startswith(p.lower()) for p in prefixes)


@dataclass
class Fault:
    """A queued scripted fault: `response` to send, or a hang of `seconds` (see `Saves`), after
    which the answer is sent, or not (`answer=False`: the connection is closed instead)."""

    remaining: int
    paths: tuple[str, ...] | None
    response: Response | None = None
    seconds: float = 0.0
    saves: Saves = "at_once"
    answer: bool = True
    methods: frozenset[str] | None = None  # only requests of these methods (None: any)

    def matches(self, path: str, method: str = "") -> bool:
        return (self.paths is None or path_matches(path, self.paths)) and (
            self.methods is None or method in self.methods
        )


def _take(queue: deque[Fault], path: str, method: str = "") -> Fault | None:
    """Consume one use of the first queued fault matching `path` (and `method`)."""
    for fault in queue:
        if fault.matches(path, method):
            fault.remaining -= 1
            if fault.remaining <= 0:
                queue.remove(fault)
            return fault
    return None


class FaultInjection:
    """The faults of one fake; every method holds `lock`, which the fake's `__init__` sets
    before calling this one's."""

    #: Path prefixes of data calls (everything but authentication), for `data_only`.
    data_paths: tuple[str, ...] = ()
    lock: threading.RLock

    def __init__(self, seed: int = 0) -> None:
        #: Probabilities (0..1) of a random 500 / 429 instead of the real answer.
        self.error_rate_5xx: float = 0.0
        self.error_rate_429: float = 0.0
        #: Path prefixes that random faults apply to (None = every request).
        self.fault_paths: tuple[str, ...] | None = None
        self._rng = random.Random(seed)
        self._failures: deque[Fault] = deque()
        self._hangs: deque[Fault] = deque()
        # Every k-th matching request hangs as this fault (`slow_every`), and how many matched.
        self._every: tuple[int, Fault] | None = None
        self._every_seen = 0

    def fail_next(
        self,
        n: int,
        status: int,
        body: bytes | str | Mapping[str, Any] | list[Any] | None = None,
        headers: Mapping[str, str] | None = None,
        content_type: str | None = None,
        *,
        paths: Iterable[str] | None = None,
        data_only: bool = False,
    ) -> None:
        """Answer the next `n` matching requests with `status` instead of handling them.

        Without `body` the answer is the API's usual error for that status (`error_response`:
        whether a 429 carries `Retry-After` is the API's own habit); with `body` it is exactly
        `body` + `headers`. `paths` limits the
        fault to path prefixes; `data_only` to the data calls (not authentication).
        """
        if body is None:
            resp = self.error_response(status)
            resp.headers.update(headers or {})
            if content_type:
                resp.content_type = content_type
        else:
            resp = make_response(status, body, headers, content_type)
        with self.lock:
            self._failures.append(Fault(n, self._fault_filter(paths, data_only), resp))

    def hang_next(
        self,
        n: int,
        seconds: float,
        *,
        paths: Iterable[str] | None = None,
        data_only: bool = False,
        saves: Saves = "at_once",
        answer: bool = True,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Delay the next `n` matching requests by `seconds` (client timeouts).

        `saves="at_once"` (default): handled on arrival, only the answer is late, so a timed-out
        write has still happened. `saves="late"`: handled only after the delay, as a busy server
        that saves a batch after the client gave up, so reading straight after the timeout does
        not show it yet. `saves="never"`: never handled, the connection closed after the delay
        (a lost request). `answer=False`: saved, but the connection is closed instead of answered.
        `methods` limits it to those methods (`["POST"]`: writes only).
        """
        fault = self._hang(n, seconds, paths, data_only, saves, answer, methods)
        with self.lock:
            self._hangs.append(fault)

    def slow_every(
        self,
        k: int,
        seconds: float,
        *,
        paths: Iterable[str] | None = None,
        data_only: bool = False,
        saves: Saves = "late",
        answer: bool = True,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Every `k`-th matching request from now on is a hang of `seconds` (as `hang_next`; by
        default a slow save): a busy tenant, for as long as it lasts. `k=0` ends it."""
        fault = self._hang(0, seconds, paths, data_only, saves, answer, methods)
        with self.lock:
            self._every_seen = 0
            self._every = (k, fault) if k > 0 else None

    def _hang(
        self,
        n: int,
        seconds: float,
        paths: Iterable[str] | None,
        data_only: bool,
        saves: Saves,
        answer: bool,
        methods: Iterable[str] | None,
    ) -> Fault:
        methods_set = frozenset(methods) if methods is not None else None
        filters = self._fault_filter(paths, data_only)
        return Fault(n, filters, seconds=seconds, saves=saves, answer=answer, methods=methods_set)

    def clear_faults(self) -> None:
        """Drop all queued scripted faults and hangs."""
        with self.lock:
            self._failures.clear()
            self._hangs.clear()
            self._every = None

    def error_response(self, status: int, message: str | None = None) -> Response:
        """The API's error answer for `status`, as injected faults send it; each fake returns its
        API's own shape."""
        headers = {"Retry-After": "1"} if status == 429 else {}
        return json_response(status, {"Message": message or f"HTTP {status}"}, headers)

    def _fault_filter(self, paths: Iterable[str] | None, data_only: bool) -> tuple[str, ...] | None:
        if paths is not None:
            return tuple(paths)
        return self.data_paths if data_only else None

    def _next_hang(self, path: str, method: str) -> Fault | None:
        """The hang this request meets: a queued one (`hang_next`), else the `slow_every` one
        when this request is the k-th match. Called with `lock` held."""
        queued = _take(self._hangs, path, method)
        if queued is not None or self._every is None or not self._every[1].matches(path, method):
            return queued
        self._every_seen += 1
        k, fault = self._every
        return fault if self._every_seen % k == 0 else None

    def _injected(self, path: str) -> Response | None:
        """The scripted answer (`fail_next`) or random fault this request gets instead of being
        handled, if any. Called with `lock` held."""
        scripted = _take(self._failures, path)
        if scripted is not None:
            return scripted.response
        if self.error_rate_5xx <= 0 and self.error_rate_429 <= 0:
            return None
        if self.fault_paths is not None and not path_matches(path, self.fault_paths):
            return None
        draw = self._rng.random()
        if draw < self.error_rate_5xx:
            return self.error_response(500)
        if draw < self.error_rate_5xx + self.error_rate_429:
            return self.error_response(429)
        return None
