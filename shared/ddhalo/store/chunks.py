"""A run's chunks in ``RUN#<run_id>``: markers ``CHUNK#<chunk>``, ``SPAWN#<chunk>``, ``START#<chunk>``, and
payloads ``PAYLOAD#<name>[#<i>]``. A chunk is named by its job (``ddhalo.jobs.job.Job.chunk``); a payload
by the chunk whose work it holds, or by what it keeps (a read checkpoint)."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from ddhalo.models import Counts, PackedItems, RunItem, now_iso
from ddhalo.store.runs import PACK_PREFIX, _pack_sk
from ddhalo.store.table import RUN_SK, Table, _run_pk, to_dynamo

# Compressed payloads are cut into parts this big (an item may hold 400 KB).
PAYLOAD_PART_BYTES = 350 * 1024


def _payload_sk(name: str, part: int) -> str:
    return f"PAYLOAD#{name}" + (f"#{part}" if part else "")


class ChunksTable(Table):
    def record_chunk(
        self,
        run_id: str,
        chunk: str,
        items: Sequence[RunItem | PackedItems],
        stats: dict[str, int] | None = None,
        *,
        live: bool = False,
    ) -> bool:
        """Write a chunk's items, packed, then count them once: a retried chunk packs again from
        part 0 and overwrites its packs (dropping those past its last), but its counts are added
        only by the transaction that creates the chunk marker, which also drops the chunk's live
        counts (``live``: it has them) as the items replace them."""
        expires = self._expires()
        packs = [i for i in items if isinstance(i, PackedItems)]
        packs += PackedItems.pack([i for i in items if isinstance(i, RunItem)])
        pk = _run_pk(run_id)
        stale = [
            row["sk"]
            for row in self._query_all(
                KeyConditionExpression=Key("pk").eq(pk) & Key("sk").begins_with(f"{PACK_PREFIX}{chunk}#"),
                ProjectionExpression="sk",
                ConsistentRead=True,
            )
            if row["sk"] >= _pack_sk(chunk, len(packs))
        ]
        with self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for part, pack in enumerate(packs):
                batch.put_item(
                    Item={
                        "pk": pk,
                        "sk": _pack_sk(chunk, part),
                        "packed": pack.data,
                        "count": pack.count,
                        "results": set(pack.tally),
                        "expires_at": expires,
                    }
                )
            for sk in stale:
                batch.delete_item(Key={"pk": pk, "sk": sk})
        counts = Counts.of(items)
        adds: dict[str, int] = {f"counts.{name}": value for name, value in counts.model_dump().items()}
        adds.update(stats or {})
        adds["chunks_done"] = 1
        return self._once(run_id, f"CHUNK#{chunk}", adds, drop_live=chunk if live else None)

    def spawn(self, run_id: str, chunk: str, count: int) -> int:
        """Announce ``count`` more chunks of work, once per spawning chunk (a retry reuses the
        first announcement's count, so totals never drift)."""
        marker = f"SPAWN#{chunk}"
        if self._once(run_id, marker, {"chunks_total": count}, {"count": count}):
            return count
        item = self.table.get_item(Key={"pk": _run_pk(run_id), "sk": marker}, ConsistentRead=True)["Item"]
        return int(item["count"])

    def chunk_recorded(self, run_id: str, chunk: str) -> bool:
        key = {"pk": _run_pk(run_id), "sk": f"CHUNK#{chunk}"}
        return "Item" in self.table.get_item(Key=key, ConsistentRead=True)

    def mark_started(self, run_id: str, chunk: str) -> bool:
        """True the first time a chunk starts; False on a retry (its earlier attempt may have written)."""
        return self._put_once(
            {
                "pk": _run_pk(run_id),
                "sk": f"START#{chunk}",
                "at": now_iso(),
                "expires_at": self._expires(),
            }
        )

    def put_payload(self, run_id: str, name: str, payload: Any) -> None:
        """A chunk's planned work (or a read to resume), compressed and cut into items below
        DynamoDB's 400 KB: ``PAYLOAD#<n>`` holds the first part and how many there are."""
        data = zlib.compress(json.dumps(payload, separators=(",", ":")).encode(), 6)
        parts = [data[i : i + PAYLOAD_PART_BYTES] for i in range(0, len(data), PAYLOAD_PART_BYTES)] or [b""]
        expires = self._expires()
        with self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for i, part in reversed(list(enumerate(parts))):  # the first part last: it says "complete"
                item = {
                    "pk": _run_pk(run_id),
                    "sk": _payload_sk(name, i),
                    "data": part,
                    "expires_at": expires,
                }
                if i == 0:
                    item["parts"] = len(parts)
                batch.put_item(Item=item)

    def get_payload(self, run_id: str, name: str) -> Any:
        first = self.table.get_item(
            Key={"pk": _run_pk(run_id), "sk": _payload_sk(name, 0)}, ConsistentRead=True
        ).get("Item")
        if not first:
            return None
        data = bytes(first["data"])
        for i in range(1, int(first.get("parts", 1))):
            item = self.table.get_item(
                Key={"pk": _run_pk(run_id), "sk": _payload_sk(name, i)}, ConsistentRead=True
            )["Item"]
            data += bytes(item["data"])
        return json.loads(zlib.decompress(data))

    def _once(
        self,
        run_id: str,
        marker_sk: str,
        adds: dict[str, int],
        marker: dict[str, Any] | None = None,
        drop_live: str | None = None,
    ) -> bool:
        """Put a marker item (only if absent) and ADD to the run's counters, in one transaction
        (and REMOVE the live counts of chunk ``drop_live``)."""
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        parts = []
        for i, (path, value) in enumerate(adds.items()):
            segments = path.split(".")
            for j, seg in enumerate(segments):
                names[f"#n{i}_{j}"] = seg
            parts.append(f"{'.'.join(f'#n{i}_{j}' for j in range(len(segments)))} :v{i}")
            values[f":v{i}"] = value
        remove = ""
        if drop_live is not None:
            names["#live"], names["#lc"] = "live", drop_live
            remove = " REMOVE #live.#lc"
        marker_item = {
            "pk": _run_pk(run_id),
            "sk": marker_sk,
            **(marker or {}),
            "expires_at": self._expires(),
        }
        try:
            self.client.transact_write_items(
                TransactItems=[
                    self._put_new(marker_item),
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": to_dynamo({"pk": _run_pk(run_id), "sk": RUN_SK}),
                            "UpdateExpression": "ADD " + ", ".join(parts) + remove,
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
