"""When a request is tried again, and how long to wait first (backoff, ``Retry-After``, 429s)."""

from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass

from ddhalo.halo.limits import RATE_WINDOW_SECONDS

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# Statuses after which a write may or may not have been applied upstream.
AMBIGUOUS_STATUS = frozenset({500, 502, 504})


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


def retryable(status: int, *, retry_ambiguous: bool) -> bool:
    """Whether an answer with ``status`` is worth sending again: a 5xx after which a write may
    have landed is not, unless the caller says sending it twice is harmless."""
    return status in RETRYABLE_STATUS and (status not in AMBIGUOUS_STATUS or retry_ambiguous)


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
