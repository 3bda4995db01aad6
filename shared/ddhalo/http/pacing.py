"""Pacing: at most so many request starts in any rolling window, counted across containers."""

from __future__ import annotations

import bisect
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable

from ddhalo.deadline import Deadline
from ddhalo.http.failures import out_of_time

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
