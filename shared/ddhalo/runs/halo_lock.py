"""One run writes to Halo at a time: two imports at once would both create the same clients.

The lock's owner is that run; every job of it extends the lock, so it frees itself ``LOCK_TTL``
after a run's jobs stopped coming (a crashed job is retried after SQS's 16-minute visibility).
"""

from __future__ import annotations

HALO_LOCK = "HALO"
LOCK_TTL = 30 * 60
