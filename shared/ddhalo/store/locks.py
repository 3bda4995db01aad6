"""Locks that expire: ``LOCK`` / ``<name>`` (``HALO``: the one run writing to Halo; ``SETTINGS``)."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from botocore.exceptions import ClientError

from ddhalo.errors import ConflictError
from ddhalo.models import now_iso
from ddhalo.store.table import Table, from_dynamo, to_dynamo

LOCK_PK = "LOCK"
# A read-change-write under a mutex takes well under a second; a dead holder frees it after this.
MUTEX_TTL_SECONDS = 30
MUTEX_WAIT_SECONDS = 10.0


class LocksTable(Table):
    def acquire_lock(
        self, name: str, owner: str, ttl_seconds: int, now: float | None = None, **extra: Any
    ) -> str | None:
        """Take lock ``name`` for ``owner``, or extend it when ``owner`` holds it already (its
        ``acquired_at`` stays); answer the holder when someone else has it. A lock past its
        expiry is free: its holder died."""
        now = time.time() if now is None else now
        try:
            self.table.update_item(
                Key={"pk": LOCK_PK, "sk": name},
                UpdateExpression="SET expires_at = :e",
                ConditionExpression="#o = :o",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":o": owner, ":e": int(now + ttl_seconds)},
            )
            return None
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        try:
            self.table.put_item(
                Item=to_dynamo(
                    {
                        "pk": LOCK_PK,
                        "sk": name,
                        "owner": owner,
                        **extra,
                        "acquired_at": now_iso(),
                        "expires_at": int(now + ttl_seconds),
                    }
                ),
                ConditionExpression="attribute_not_exists(pk) OR expires_at < :now",
                ExpressionAttributeValues={":now": int(now)},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            holder = self.get_lock(name)
            return str(holder["owner"]) if holder else "unknown"
        return None

    def get_lock(self, name: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={"pk": LOCK_PK, "sk": name}, ConsistentRead=True).get("Item")
        return from_dynamo(item) if item else None

    def release_lock(self, name: str, owner: str) -> None:
        try:
            self.table.delete_item(
                Key={"pk": LOCK_PK, "sk": name},
                ConditionExpression="#o = :o",
                ExpressionAttributeNames={"#o": "owner"},
                ExpressionAttributeValues={":o": owner},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    @contextmanager
    def mutex(
        self,
        name: str,
        *,
        ttl_seconds: int = MUTEX_TTL_SECONDS,
        wait_seconds: float = MUTEX_WAIT_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
    ) -> Iterator[None]:
        """Hold lock ``name`` around a read-change-write that several containers may run at once
        (waiting up to ``wait_seconds`` for it); a holder that dies frees it after ``ttl_seconds``."""
        owner = uuid.uuid4().hex
        deadline = time.monotonic() + wait_seconds
        while (holder := self.acquire_lock(name, owner, ttl_seconds)) is not None:
            if time.monotonic() >= deadline:
                raise ConflictError(
                    f"Another request is changing the {name.lower()} (held by {holder[:12]}).",
                    "Try again in a few seconds.",
                )
            sleep(random.uniform(0.02, 0.1))
        try:
            yield
        finally:
            self.release_lock(name, owner)
