"""Build the upstream clients from a :class:`Connection` (settings + credentials).

The one place that turns settings into URLs, timeouts and pacing, so handlers, the local
runner and tests all get the same clients. Clients are made per job; the Halo pace and token are
kept per container (module level), since Halo counts calls and honours tokens across jobs.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache

import requests

from ddhalo.deadline import Deadline
from ddhalo.dicker_data.client import DickerDataClient
from ddhalo.halo.client import HaloClient
from ddhalo.http.credential import TokenCache
from ddhalo.http.pacing import RateLimiter
from ddhalo.http.retry import RetryPolicy
from ddhalo.http.transport import Transport
from ddhalo.settings.model import Connection


@dataclass(frozen=True)
class ClientOptions:
    """Knobs that differ between a quick connection check and a long import."""

    timeout: tuple[float, float] | None = None  # None: the connect timeout and the read-timeout setting
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    pace: bool = True
    # Workers running at once share the Halo budget: each paces to 1/rate_share of it.
    rate_share: int = 1
    # Share the pace and the token with every other client in this container (a check does not:
    # it must prove the credentials it was given, and is not paced).
    per_container: bool = True
    # When the invocation must stop waiting (a queued job hands the rest on); None: no limit.
    deadline: Deadline | None = None


# A connection check makes three calls: no pacing, few retries, an answer within seconds.
QUICK = ClientOptions(
    timeout=(5.0, 15.0),
    retry=RetryPolicy(attempts=2, base_delay=0.2, max_delay=2.0, max_retry_after=5.0, throttle_patience=5.0),
    pace=False,
    per_container=False,
)


@cache
def container_limiter(api_url: str) -> RateLimiter:
    """One Halo budget per container: Halo counts every call, whichever job makes it, so a job
    must not start with an empty window while the previous one's calls still count. Its limit
    is set per job (a job alone takes the whole pace, one beside others its share); a lower
    limit counts the calls already in the window, so changing it never bursts."""
    return RateLimiter(None, window=60.0)


@cache
def container_tokens() -> TokenCache:
    """Halo tokens and Dicker Data access keys outlive jobs: a warm container's next job reuses them."""
    return TokenCache()


def dicker_data_client(conn: Connection, options: ClientOptions = ClientOptions()) -> DickerDataClient:
    conn.require("dicker_data_account_code", "dicker_data_access_token")
    token = conn.credentials.dicker_data_access_token
    assert token is not None
    assert conn.settings.dicker_data_account_code is not None
    transport = Transport(
        conn.settings.dicker_data_url(),
        system="Dicker Data",
        session=requests.Session(),
        timeout=options.timeout or (5.0, conn.settings.request_timeout_seconds),
        retry=options.retry,
        deadline=options.deadline,
    )
    return DickerDataClient(
        transport,
        account_code=conn.settings.dicker_data_account_code,
        access_token=token.get_secret_value(),
        keys=container_tokens() if options.per_container else None,
    )


def halo_client(conn: Connection, options: ClientOptions = ClientOptions()) -> HaloClient:
    conn.require("halo_api_url", "halo_client_id", "halo_client_secret")
    settings, creds = conn.settings, conn.credentials
    assert settings.halo_api_url
    assert creds.halo_client_id
    assert creds.halo_client_secret
    window = float(settings.halo_rate_window_seconds)
    transport = Transport(
        settings.halo_api_url,
        system="Halo",
        session=requests.Session(),
        timeout=options.timeout or (5.0, conn.settings.request_timeout_seconds),
        # A 429 without Retry-After is waited out over Halo's own window (hosted Halo: 5 minutes).
        retry=replace(
            options.retry,
            throttle_window=window,
            throttle_patience=min(options.retry.throttle_patience, 2 * window),
        ),
        limiter=_limiter(settings.halo_api_url, settings.halo_requests_per_minute, options),
        deadline=options.deadline,
    )
    return HaloClient(
        transport,
        auth_url=settings.halo_token_url_base() or "",
        client_id=creds.halo_client_id.get_secret_value(),
        client_secret=creds.halo_client_secret.get_secret_value(),
        tenant=settings.halo_tenant,
        tokens=container_tokens() if options.per_container else None,
        write_timeout=settings.halo_write_timeout_seconds,
        settle_seconds=settings.halo_write_settle_seconds,
    )


def _limiter(api_url: str, per_minute: int, options: ClientOptions) -> RateLimiter:
    if not options.pace:
        return RateLimiter(None)
    share = max(1, per_minute // max(1, options.rate_share))
    if not options.per_container:
        return RateLimiter(share, window=60.0)
    limiter = container_limiter(api_url)
    limiter.max_calls = share
    return limiter
