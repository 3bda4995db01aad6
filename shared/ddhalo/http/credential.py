"""Bearer credentials (Halo's token, Dicker Data's access key): cached across clients, renewed
once when refused."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from ddhalo.http.transport import Transport


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

    @classmethod
    def of(
        cls,
        who: tuple[str, ...],
        secret: str,
        fetch: Callable[[], tuple[str, float]],
        cache: TokenCache | None,
        *,
        clock: Callable[[], float],
        margin: float,
    ) -> Credential:
        """The credential ``who`` is given for ``secret``: kept in ``cache`` when clients share one
        (a container's), else in a cache of its own."""
        key = TokenCache.key(*who, secret=secret)
        return cls(cache or TokenCache(), key, fetch, clock=clock, margin=margin)

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
