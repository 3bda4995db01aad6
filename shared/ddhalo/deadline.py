"""The end of the current invocation, as the core sees it (no Lambda, no HTTP: handlers make one
from Lambda's remaining time, and the transport stops waiting before it)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

# Of an invocation, what a job keeps back to record its items and hand the rest on.
DEADLINE_RESERVE_SECONDS = 30.0


@dataclass(frozen=True)
class Deadline:
    """When the current invocation's work must stop (its end, less a reserve to record what was
    done). Waits that would run past it raise :class:`OutOfTimeError` instead of being cut off."""

    at: float
    clock: Callable[[], float] = time.monotonic

    @classmethod
    def within(
        cls, seconds: float, *, reserve: float | None = None, clock: Callable[[], float] = time.monotonic
    ) -> Deadline:
        """``seconds`` from now (e.g. Lambda's remaining time); the reserve is at most a tenth of it."""
        keep = min(DEADLINE_RESERVE_SECONDS, seconds / 10) if reserve is None else reserve
        return cls(clock() + seconds - keep, clock)

    def left(self) -> float:
        return self.at - self.clock()
