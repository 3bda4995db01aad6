"""How the planned writes are cut into apply chunks: each customer's writes stay together (an
add-on with its base), and a chunk holds about ``CHUNK_WRITES`` of them."""

from __future__ import annotations

from collections import defaultdict

from ddhalo.pipeline.subscriptions.plan import SubscriptionAction

# Writes per apply chunk: ~10 Halo calls, well inside one invocation at any sane rate limit.
CHUNK_WRITES = 1000


def chunks(writes: list[SubscriptionAction]) -> list[list[SubscriptionAction]]:
    """Group writes by customer, then pack groups into chunks."""
    by_customer: dict[str, list[SubscriptionAction]] = defaultdict(list)
    for action in writes:
        by_customer[action.customer_id].append(action)
    out: list[list[SubscriptionAction]] = []
    current: list[SubscriptionAction] = []
    for customer in sorted(by_customer):
        group = by_customer[customer]
        if current and len(current) + len(group) > CHUNK_WRITES:
            out.append(current)
            current = []
        current.extend(group)
    if current:
        out.append(current)
    return out


def spread(groups: list[list[SubscriptionAction]], count: int) -> list[list[SubscriptionAction]]:
    """The groups dealt over ``count`` chunks (a retried plan reuses its first chunk count)."""
    buckets: list[list[SubscriptionAction]] = [[] for _ in range(count)]
    for i, group in enumerate(groups):
        buckets[i % count].extend(group)
    return buckets
