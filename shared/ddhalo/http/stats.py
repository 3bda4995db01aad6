"""What a client's requests cost, counted: read by runs (live progress) and metrics."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class CallStats:
    """What one transport did: requests by endpoint, retries, 429s and the time spent waiting."""

    calls: int = 0
    retries: int = 0
    throttled: int = 0
    by_endpoint: dict[str, int] = field(default_factory=dict)
    paced_seconds: float = 0.0  # held back by the rate limiter (our own pace)
    backoff_seconds: float = 0.0  # slept between retries and while a 429's window frees

    def count(self, key: str) -> None:
        self.calls += 1
        self.by_endpoint[key] = self.by_endpoint.get(key, 0) + 1
