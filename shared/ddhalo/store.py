"""DynamoDB access: one table, every key in this module (the design is in docs/DATA_MODEL.md).

| item              | pk                      | sk                          | gsi1pk / gsi1sk             |
|-------------------|-------------------------|-----------------------------|-----------------------------|
| settings          | ``SETTINGS``            | ``CURRENT``                 |                             |
| mapping           | ``MAPPING``             | ``DD#<dicker_customer_id>`` |                             |
| mapping guard     | ``MAPPING``             | ``HALO#<halo_client_id>``   |                             |
| run               | ``RUN#<run_id>``        | ``RUN``                     | ``RUNS`` / ``<started>#<id>``|
| run item          | ``RUN#<run_id>``        | ``ITEM#<type>#<dicker_id>`` |                             |
| run chunk marker  | ``RUN#<run_id>``        | ``CHUNK#<n>``               |                             |
| subscription link | ``SUBLINK``             | ``<dicker_customer_id>#<subscription_id>`` |              |
| chunk payload     | ``RUN#<run_id>``        | ``PAYLOAD#<n>`` (and ``START#<n>``, ``SPAWN#<n>``) |      |
| lock              | ``LOCK``                | ``HALO`` (the one run writing to Halo), ``SETTINGS``  |     |
"""

from __future__ import annotations

import base64
import dataclasses
import json
import random
import time
import uuid
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from ddhalo.errors import ConflictError, InputError, NotFoundError
from ddhalo.models import FINISHED, Counts, Mapping, Run, RunItem, RunStatus, SubscriptionLink, now_iso
from ddhalo.settings import Settings

SETTINGS_KEY = {"pk": "SETTINGS", "sk": "CURRENT"}
MAPPING_PK = "MAPPING"
RUN_SK = "RUN"
RUNS_INDEX = "gsi1"
RUNS_GSI_PK = "RUNS"
LINK_PK = "SUBLINK"
LOCK_PK = "LOCK"
MAX_PAGE = 1000
# A read-change-write under a mutex takes well under a second; a dead holder frees it after this.
MUTEX_TTL_SECONDS = 30
MUTEX_WAIT_SECONDS = 10.0
# Compressed payloads are cut into parts this big (an item may hold 400 KB).
PAYLOAD_PART_BYTES = 350 * 1024
# Runs, their items and chunk bookkeeping are history: kept this long, then DynamoDB's TTL deletes them.
RUN_RETENTION_DAYS = 90


def from_dynamo(value: Any) -> Any:
    """DynamoDB answers numbers as Decimal; give back ints and floats."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_dynamo(v) for v in value]
    return value


def to_dynamo(value: Any) -> Any:
    """DynamoDB refuses floats and empty-key surprises; store floats as Decimal, drop Nones."""
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [to_dynamo(v) for v in value]
    return value


def encode_token(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(from_dynamo(key)).encode()).decode()


def decode_token(token: str | None) -> dict[str, Any] | None:
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError) as exc:
        raise InputError(
            "next_token is not valid.", "Pass back the next_token of the previous page."
        ) from exc
    if not isinstance(key, dict) or not all(isinstance(v, str | int) for v in key.values()):
        raise InputError("next_token is not valid.", "Pass back the next_token of the previous page.")
    return key


def _mapping_sk(dicker_customer_id: str) -> str:
    return f"DD#{dicker_customer_id}"


def _guard_sk(halo_client_id: int) -> str:
    return f"HALO#{halo_client_id}"


def _run_pk(run_id: str) -> str:
    return f"RUN#{run_id}"


def _payload_sk(chunk: int, part: int) -> str:
    return f"PAYLOAD#{chunk:06d}" + (f"#{part}" if part else "")


def _item_sk(item: RunItem) -> str:
    # Customers without a CSP tenant have no Dicker Data id; their name keeps them apart.
    key = f"ITEM#{item.type}#{item.dicker_id or '~' + (item.name or '')}"
    return f"{key}#{item.occurrence}" if item.occurrence else key


class Store:
    def __init__(
        self, table_name: str, resource: Any = None, run_retention_days: int = RUN_RETENTION_DAYS
    ) -> None:
        self.table_name = table_name
        self._resource = resource
        self._table: Any = None
        self.run_retention_days = run_retention_days

    def _expires(self) -> int:
        """When a run's items go (DynamoDB TTL on ``expires_at``): every sync writes one per record."""
        return int(time.time()) + self.run_retention_days * 86_400

    @property
    def table(self) -> Any:
        if self._table is None:
            self._table = (self._resource or boto3.resource("dynamodb")).Table(self.table_name)
        return self._table

    @property
    def client(self) -> Any:
        """The resource's client: it (de)serialises plain Python values, like the Table does."""
        return self.table.meta.client

    def _query_all(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        while True:
            page = self.table.query(**kwargs)
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- settings -------------------------------------------------------------------------
    def get_settings(self) -> Settings:
        item = self.table.get_item(Key=SETTINGS_KEY, ConsistentRead=True).get("Item")
        if not item:
            return Settings()
        return Settings.model_validate(from_dynamo(item.get("settings", {})))

    def put_settings(self, settings: Settings) -> None:
        self.table.put_item(Item={**SETTINGS_KEY, "settings": to_dynamo(settings.model_dump(mode="json"))})

    # -- mappings -------------------------------------------------------------------------
    def list_mappings(self, page_size: int = MAX_PAGE) -> list[Mapping]:
        items = self._query_all(
            KeyConditionExpression=Key("pk").eq(MAPPING_PK) & Key("sk").begins_with("DD#"),
            ConsistentRead=True,
            Limit=page_size,
        )
        return [Mapping.model_validate(from_dynamo(item)) for item in items]

    def get_mapping(self, dicker_customer_id: str) -> Mapping | None:
        item = self.table.get_item(
            Key={"pk": MAPPING_PK, "sk": _mapping_sk(dicker_customer_id)}, ConsistentRead=True
        ).get("Item")
        return Mapping.model_validate(from_dynamo(item)) if item else None

    def put_mapping(self, mapping: Mapping) -> None:
        """Store a mapping unless either side is already mapped (one to one), atomically."""
        item = {"pk": MAPPING_PK, "sk": _mapping_sk(mapping.dicker_customer_id), **mapping.model_dump()}
        guard = {
            "pk": MAPPING_PK,
            "sk": _guard_sk(mapping.halo_client_id),
            "dicker_customer_id": mapping.dicker_customer_id,
        }
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": to_dynamo(item),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": to_dynamo(guard),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                ]
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                raise ConflictError(
                    f"Dicker Data customer {mapping.dicker_customer_id} is already mapped.",
                    "Remove the existing mapping first (DELETE /mappings/{dicker_customer_id}).",
                ) from exc
            raise ConflictError(
                f"Halo client {mapping.halo_client_id} is already mapped to another Dicker Data customer.",
                "Each Halo client can be mapped to one Dicker Data customer; remove the other mapping first.",
            ) from exc

    def remember_written(self, dicker_customer_id: str, written: dict[str, str]) -> None:
        """Record what an import wrote for this mapping (only if the mapping still exists)."""
        if not written:
            return
        names = {f"#g{i}": group for i, group in enumerate(written)}
        values = {f":h{i}": digest for i, digest in enumerate(written.values())}
        sets = ", ".join(f"written.#g{i} = :h{i}" for i in range(len(written)))
        try:
            self.table.update_item(
                Key={"pk": MAPPING_PK, "sk": _mapping_sk(dicker_customer_id)},
                UpdateExpression=f"SET {sets}",
                ConditionExpression="attribute_exists(pk) AND attribute_type(written, :map)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={**values, ":map": "M"},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def delete_mapping(self, dicker_customer_id: str) -> Mapping:
        mapping = self.get_mapping(dicker_customer_id)
        if mapping is None:
            raise NotFoundError(f"Dicker Data customer {dicker_customer_id} is not mapped.")
        self.client.transact_write_items(
            TransactItems=[
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": to_dynamo({"pk": MAPPING_PK, "sk": _mapping_sk(dicker_customer_id)}),
                    }
                },
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": to_dynamo({"pk": MAPPING_PK, "sk": _guard_sk(mapping.halo_client_id)}),
                    }
                },
            ]
        )
        return mapping

    # -- subscription links ---------------------------------------------------------------
    def list_links(
        self, dicker_customer_id: str | None = None, *, with_fields: bool = True
    ) -> list[SubscriptionLink]:
        """One customer's links, or every link (one partition, paged). ``with_fields=False`` leaves
        out what each link wrote (``fields_json`` is then None): most of a link's size, and only
        needed for the few whose hash differs."""
        condition = Key("pk").eq(LINK_PK)
        if dicker_customer_id is not None:
            condition = condition & Key("sk").begins_with(f"{dicker_customer_id}#")
        query: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": True}
        if not with_fields:
            names = [f.name for f in dataclasses.fields(SubscriptionLink) if f.name != "fields_json"]
            query["ProjectionExpression"] = ", ".join(f"#a{i}" for i in range(len(names)))
            query["ExpressionAttributeNames"] = {f"#a{i}": name for i, name in enumerate(names)}
        links = []
        for item in self._query_all(**query):
            link = from_dynamo(item)
            if not with_fields:
                link["fields_json"] = None
            links.append(SubscriptionLink.from_item(link))
        return links

    def put_links(self, links: Iterable[SubscriptionLink]) -> None:
        links = list(links)
        if not links:
            return
        with self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for link in links:
                batch.put_item(
                    Item=to_dynamo(
                        {
                            "pk": LINK_PK,
                            "sk": f"{link.dicker_customer_id}#{link.subscription_id}",
                            **link.to_item(),
                        }
                    )
                )

    # -- runs -----------------------------------------------------------------------------
    def create_run(self, run: Run) -> None:
        item = {
            "pk": _run_pk(run.run_id),
            "sk": RUN_SK,
            "gsi1pk": RUNS_GSI_PK,
            "gsi1sk": f"{run.started_at}#{run.run_id}",
            **run.model_dump(mode="json"),
            "expires_at": self._expires(),
        }
        self.table.put_item(Item=to_dynamo(item), ConditionExpression="attribute_not_exists(pk)")

    def get_run(self, run_id: str) -> Run | None:
        item = self.table.get_item(Key={"pk": _run_pk(run_id), "sk": RUN_SK}, ConsistentRead=True).get("Item")
        return Run.model_validate(from_dynamo(item)) if item else None

    def set_run_status(
        self,
        run_id: str,
        status: RunStatus,
        *,
        error: str | None = None,
        hint: str | None = None,
        skipped_reason: str | None = None,
        only_if: Iterable[str] | None = None,
    ) -> bool:
        """Move a run to ``status``; with ``only_if``, only from one of those statuses (races lose)."""
        names = {"#s": "status"}
        values: dict[str, Any] = {":s": status}
        sets = ["#s = :s"]
        if status in FINISHED:
            sets.append("finished_at = :f")
            values[":f"] = now_iso()
        if error is not None:
            sets.append("#e = :e")
            names["#e"] = "error"
            values[":e"] = error
        if hint is not None:
            sets.append("hint = :h")
            values[":h"] = hint
        if skipped_reason is not None:
            sets.append("skipped_reason = :k")
            values[":k"] = skipped_reason
        update = "SET " + ", ".join(sets)
        if status != "queued":
            update += " REMOVE waiting_for"
        condition = "attribute_exists(pk)"
        if only_if:
            allowed = list(only_if)
            keys = [f":o{i}" for i in range(len(allowed))]
            values.update(dict(zip(keys, allowed, strict=True)))
            condition += f" AND #s IN ({', '.join(keys)})"
        try:
            self.table.update_item(
                Key={"pk": _run_pk(run_id), "sk": RUN_SK},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def set_waiting(self, run_id: str, why: str) -> None:
        """Say why a queued run has not started (cleared once it runs)."""
        try:
            self.table.update_item(
                Key={"pk": _run_pk(run_id), "sk": RUN_SK},
                UpdateExpression="SET waiting_for = :w",
                ConditionExpression="attribute_exists(pk) AND #s = :q",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={":w": why, ":q": "queued"},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def record_chunk(
        self, run_id: str, chunk: int, items: list[RunItem], stats: dict[str, int] | None = None
    ) -> bool:
        """Write a chunk's items, then count them once: a retried chunk overwrites its items
        but its counts are added only by the transaction that creates the chunk marker."""
        expires = self._expires()
        with self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for item in items:
                batch.put_item(
                    Item=to_dynamo(
                        {
                            "pk": _run_pk(run_id),
                            "sk": _item_sk(item),
                            **item.model_dump(mode="json"),
                            "expires_at": expires,
                        }
                    )
                )
        counts = Counts.of(items)
        adds: dict[str, int] = {f"counts.{name}": value for name, value in counts.model_dump().items()}
        adds.update(stats or {})
        adds["chunks_done"] = 1
        return self._once(run_id, f"CHUNK#{chunk:06d}", adds)

    def spawn(self, run_id: str, chunk: int, count: int) -> int:
        """Announce ``count`` more chunks of work, once per spawning chunk (a retry reuses the
        first announcement's count, so totals never drift)."""
        marker = f"SPAWN#{chunk:06d}"
        if self._once(run_id, marker, {"chunks_total": count}, {"count": count}):
            return count
        item = self.table.get_item(Key={"pk": _run_pk(run_id), "sk": marker}, ConsistentRead=True)["Item"]
        return int(item["count"])

    def chunk_recorded(self, run_id: str, chunk: int) -> bool:
        key = {"pk": _run_pk(run_id), "sk": f"CHUNK#{chunk:06d}"}
        return "Item" in self.table.get_item(Key=key, ConsistentRead=True)

    def mark_started(self, run_id: str, chunk: int) -> bool:
        """True the first time a chunk starts; False on a retry (its earlier attempt may have written)."""
        try:
            self.table.put_item(
                Item={
                    "pk": _run_pk(run_id),
                    "sk": f"START#{chunk:06d}",
                    "at": now_iso(),
                    "expires_at": self._expires(),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def put_payload(self, run_id: str, chunk: int, payload: Any) -> None:
        """A chunk's planned work (or a read to resume), compressed and cut into items below
        DynamoDB's 400 KB: ``PAYLOAD#<n>`` holds the first part and how many there are."""
        data = zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 6)
        parts = [data[i : i + PAYLOAD_PART_BYTES] for i in range(0, len(data), PAYLOAD_PART_BYTES)] or [b""]
        expires = self._expires()
        with self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for i, part in reversed(list(enumerate(parts))):  # the first part last: it says "complete"
                item = {
                    "pk": _run_pk(run_id),
                    "sk": _payload_sk(chunk, i),
                    "data": part,
                    "expires_at": expires,
                }
                if i == 0:
                    item["parts"] = len(parts)
                batch.put_item(Item=item)

    def get_payload(self, run_id: str, chunk: int) -> Any:
        first = self.table.get_item(
            Key={"pk": _run_pk(run_id), "sk": _payload_sk(chunk, 0)}, ConsistentRead=True
        ).get("Item")
        if not first:
            return None
        data = bytes(first["data"])
        for i in range(1, int(first.get("parts", 1))):
            item = self.table.get_item(
                Key={"pk": _run_pk(run_id), "sk": _payload_sk(chunk, i)}, ConsistentRead=True
            )["Item"]
            data += bytes(item["data"])
        return json.loads(zlib.decompress(data))

    def _once(
        self, run_id: str, marker_sk: str, adds: dict[str, int], marker: dict[str, Any] | None = None
    ) -> bool:
        """Put a marker item (only if absent) and ADD to the run's counters, in one transaction."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        parts = []
        for i, (path, value) in enumerate(adds.items()):
            segments = path.split(".")
            for j, seg in enumerate(segments):
                names[f"#n{i}_{j}"] = seg
            parts.append(f"{'.'.join(f'#n{i}_{j}' for j in range(len(segments)))} :v{i}")
            values[f":v{i}"] = value
        try:
            self.client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": to_dynamo(
                                {
                                    "pk": _run_pk(run_id),
                                    "sk": marker_sk,
                                    **(marker or {}),
                                    "expires_at": self._expires(),
                                }
                            ),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": to_dynamo({"pk": _run_pk(run_id), "sk": RUN_SK}),
                            "UpdateExpression": "ADD " + ", ".join(parts),
                            "ExpressionAttributeNames": names,
                            "ExpressionAttributeValues": to_dynamo(values),
                        }
                    },
                ]
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                return False
            raise
        return True

    # -- locks ------------------------------------------------------------------------------
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

    def list_items(
        self, run_id: str, *, limit: int = MAX_PAGE, next_token: str | None = None
    ) -> tuple[list[RunItem], str | None]:
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": Key("pk").eq(_run_pk(run_id)) & Key("sk").begins_with("ITEM#"),
            "Limit": limit,
            "ConsistentRead": True,
        }
        start = decode_token(next_token)
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = self.table.query(**kwargs)
        items = [RunItem.model_validate(from_dynamo(i)) for i in page.get("Items", [])]
        return items, encode_token(page.get("LastEvaluatedKey"))

    def list_runs(self, *, limit: int = 20, next_token: str | None = None) -> tuple[list[Run], str | None]:
        kwargs: dict[str, Any] = {
            "IndexName": RUNS_INDEX,
            "KeyConditionExpression": Key("gsi1pk").eq(RUNS_GSI_PK),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        start = decode_token(next_token)
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = self.table.query(**kwargs)
        runs = [Run.model_validate(from_dynamo(i)) for i in page.get("Items", [])]
        return runs, encode_token(page.get("LastEvaluatedKey"))
