"""The two clients one job talks to (Dicker Data and Halo), and what they count.

Light to import: the clients (and ``requests``) load with the first job that connects, not with
every handler that only reads the store. How a client is built is :mod:`ddhalo.clients`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ddhalo.deadline import Deadline
from ddhalo.settings.model import Connection

if TYPE_CHECKING:
    from ddhalo.dicker_data.client import DickerDataClient
    from ddhalo.halo.client import HaloClient
    from ddhalo.halo.saving import BatchWritten


@dataclass
class Upstreams:
    dicker_data: DickerDataClient
    halo: HaloClient

    def stats(self) -> dict[str, int]:
        """What a run adds up (its counters)."""
        return {
            "halo_calls": self.halo.transport.stats.calls,
            "dicker_data_calls": self.dicker_data.transport.stats.calls,
            "throttled": self.halo.transport.stats.throttled + self.dicker_data.transport.stats.throttled,
        }

    def watch(self, on_batch: Callable[[BatchWritten], None], on_throttle: Callable[[float], None]) -> None:
        """Be told of each batch Halo answers, and of each wait for its full rate window."""
        self.halo.on_batch = on_batch
        self.halo.transport.on_throttle = on_throttle

    def recent_halo_calls(self) -> list[float]:
        """When this container's Halo calls of the last window started (epoch seconds), for the
        job queued next: it may run in another container, under the same Halo budget."""
        return self.halo.transport.limiter.recent()

    def count_halo_calls(self, starts: Sequence[float]) -> None:
        """Count the calls the job before made (``recent_halo_calls``) against this one's pace."""
        self.halo.transport.limiter.count_in(starts)

    def waits(self) -> dict[str, float]:
        """How long this job's Halo calls were held back: by our pace, by retries and 429s."""
        halo = self.halo.transport.stats
        return {"halo_paced_seconds": halo.paced_seconds, "halo_backoff_seconds": halo.backoff_seconds}


def connect(conn: Connection, rate_share: int = 1, deadline: Deadline | None = None) -> Upstreams:
    """Clients for one job; ``rate_share``: how many workers split the Halo budget; ``deadline``:
    when this invocation must stop waiting for Halo."""
    from ddhalo.clients import ClientOptions, dicker_data_client, halo_client

    options = ClientOptions(rate_share=rate_share, deadline=deadline)
    return Upstreams(dicker_data=dicker_data_client(conn, options), halo=halo_client(conn, options))
