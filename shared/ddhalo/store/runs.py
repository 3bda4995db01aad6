"""Runs and their items: ``RUN#<run_id>`` / ``RUN`` (listed by ``gsi1``), ``ITEMS#<chunk>#<part>``
(a chunk's items, packed); the last verify: ``VERIFY`` / ``LAST``.

A sync reports on every record (50,000 at 5,000 customers), nearly all unchanged every hour and
all created on the first. One DynamoDB item each would cost a write per record, and a round trip
per 25 of them, to say so. Packed, compressed, ``ITEMS_PER_PACK`` to an item, they cost a write
per thousand; each pack says which results it holds (``results``), so a listing of some results
reads only the packs that hold one."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from ddhalo.models import FINISHED, PackedItems, Run, RunItem, RunStatus, now_iso
from ddhalo.store.table import (
    MAX_PAGE,
    RUN_SK,
    Table,
    TokenShape,
    _run_pk,
    decode_token,
    encode_token,
    exactly,
    from_dynamo,
    prefixed,
    to_dynamo,
)

RUNS_INDEX = "gsi1"
RUNS_GSI_PK = "RUNS"
VERIFIED_KEY = {"pk": "VERIFY", "sk": "LAST"}


PACK_PREFIX = "ITEMS#"
PACKS_END = "ITEMS#~"  # above every pack key (chunk names and "#")


# As _pack_sk writes them (< PACKS_END), with a chunk named as ``Job.chunk`` names it.
_PACK_SK = re.compile(re.escape(PACK_PREFIX) + r"g[0-9]{2,}\.[0-9]-[a-z-]+\.[0-9]{4,}#[0-9]{4,}")


def _pack_sk(chunk: str, part: int) -> str:
    return f"{PACK_PREFIX}{chunk}#{part:04d}"


# The key a page of the run list starts after: a run's own item, as the index holds it.
RUNS_PAGE: TokenShape = {
    "pk": prefixed("RUN#"),
    "sk": exactly(RUN_SK),
    "gsi1pk": exactly(RUNS_GSI_PK),
    "gsi1sk": prefixed(""),
}


def _item_pages(pk: str) -> tuple[TokenShape, TokenShape]:
    """Where a page of one run's items may start: after a pack of that run, or inside one."""
    after: TokenShape = {"pk": exactly(pk), "sk": prefixed(PACK_PREFIX)}
    inside: TokenShape = {"pk": exactly(pk), "pack": _PACK_SK, "skip": int}
    return after, inside


class RunsTable(Table):
    def create_run(self, run: Run) -> None:
        item = {
            "pk": _run_pk(run.run_id),
            "sk": RUN_SK,
            "gsi1pk": RUNS_GSI_PK,
            "gsi1sk": f"{run.started_at}#{run.run_id}",
            **run.model_dump(mode="json"),
            "live": {},
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
        error_code: str | None = None,
        hint: str | None = None,
        skipped_reason: str | None = None,
        running_run_id: str | None = None,
        only_if: Iterable[str] | None = None,
    ) -> bool:
        """Move a run to ``status``; with ``only_if``, only from one of those statuses (races lose)."""
        names = {"#s": "status"}
        values: dict[str, Any] = {":s": status}
        sets = ["#s = :s"]
        if status in FINISHED:
            sets.append("finished_at = :f")
            values[":f"] = now_iso()
        given = {
            "error": error,
            "error_code": error_code,
            "hint": hint,
            "skipped_reason": skipped_reason,
            "running_run_id": running_run_id,
        }
        for i, (name, value) in enumerate(given.items()):
            if value is not None:  # "error" is a DynamoDB reserved word: every name goes by a placeholder
                sets.append(f"#a{i} = :a{i}")
                names[f"#a{i}"], values[f":a{i}"] = name, value
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

    def set_phase(self, run_id: str, phase: str, *, total: int | None = None, done: int = 0) -> None:
        """A run enters a phase (its progress starts again from ``done`` of ``total``)."""
        progress = {
            "phase": phase,
            "done": done,
            "done_at_start": done,
            "total": total,
            "phase_started": time.time(),
        }
        self.table.update_item(
            Key={"pk": _run_pk(run_id), "sk": RUN_SK},
            UpdateExpression="SET progress = :p",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":p": to_dynamo(progress)},
        )

    def set_billing(self, run_id: str, totals: dict[str, Any]) -> None:
        """A billing check's totals, answered by the run (``Run.billing``)."""
        self.table.update_item(
            Key={"pk": _run_pk(run_id), "sk": RUN_SK},
            UpdateExpression="SET billing = :b",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":b": to_dynamo(totals)},
        )

    def start_live(self, run_id: str, chunk: str) -> bool:
        """A chunk's live counts start from zero (again, when the chunk is retried); False for a
        run stored before runs had them (its counts then move per chunk)."""
        try:
            self.table.update_item(
                Key={"pk": _run_pk(run_id), "sk": RUN_SK},
                UpdateExpression="SET live.#c = :zero",
                ConditionExpression="attribute_exists(pk) AND attribute_type(live, :map)",
                ExpressionAttributeNames={"#c": chunk},
                ExpressionAttributeValues={":zero": {}, ":map": "M"},
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def add_progress(self, run_id: str, done: int, chunk: str | None = None, **counts: int) -> None:
        """``done`` more records of the current phase (one written batch); with ``chunk`` (its
        live counts started), what the batch saved is added to them too."""
        if chunk is None or not any(counts.values()):
            self._update_progress(run_id, "ADD progress.done :n", {":n": done})
            return
        adds = ["progress.done :n"]
        values: dict[str, Any] = {":n": done, ":map": "M"}
        names = {"#c": chunk}
        for i, (name, value) in enumerate(counts.items()):
            adds.append(f"live.#c.#r{i} :v{i}")
            names[f"#r{i}"], values[f":v{i}"] = name, value
        try:
            self.table.update_item(
                Key={"pk": _run_pk(run_id), "sk": RUN_SK},
                UpdateExpression="ADD " + ", ".join(adds),
                ConditionExpression="attribute_exists(pk) AND attribute_type(progress, :map) "
                "AND attribute_type(live.#c, :map)",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
            )
        except ClientError as exc:  # the chunk recorded meanwhile (a copy of it): nothing to add
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def set_throttled_until(self, run_id: str, until: float) -> None:
        self._update_progress(run_id, "SET progress.throttled_until = :u", {":u": to_dynamo(until)})

    def _update_progress(self, run_id: str, expression: str, values: dict[str, Any]) -> None:
        try:
            self.table.update_item(
                Key={"pk": _run_pk(run_id), "sk": RUN_SK},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk) AND attribute_type(progress, :map)",
                ExpressionAttributeValues={**values, ":map": "M"},
            )
        except ClientError as exc:  # a run stored before progress: it gets it at its next phase
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def add_notice(self, run_id: str, code: str, text: str) -> None:
        """Say why a run had nothing (or less than expected) to do, beside its counts (once per
        code: a retried job says it again in the same place)."""
        self.table.update_item(
            Key={"pk": _run_pk(run_id), "sk": RUN_SK},
            UpdateExpression="SET notices.#c = :t",
            ConditionExpression="attribute_exists(pk) AND attribute_type(notices, :map)",
            ExpressionAttributeNames={"#c": code},
            ExpressionAttributeValues={":t": text, ":map": "M"},
        )

    def list_items(
        self, run_id: str, *, limit: int = MAX_PAGE, next_token: str | None = None
    ) -> tuple[list[RunItem], str | None]:
        """A page of at most ``limit`` items; the token may point inside a pack
        (``{"pk", "pack": sk, "skip": n}``) as well as after one (a DynamoDB key)."""
        pk = _run_pk(run_id)
        start = decode_token(next_token, *_item_pages(pk)) or {}
        skip = int(start.pop("skip", 0))
        pack = start.pop("pack", None)
        key = Key("pk").eq(pk)
        kwargs: dict[str, Any] = {
            "KeyConditionExpression": key
            & (Key("sk").between(str(pack), PACKS_END) if pack else Key("sk").begins_with(PACK_PREFIX)),
            "Limit": limit,
            "ConsistentRead": True,
        }
        if start and not pack:
            kwargs["ExclusiveStartKey"] = start
        out: list[RunItem] = []
        while True:
            page = self.table.query(**kwargs)
            rows = page.get("Items", [])
            more = "LastEvaluatedKey" in page
            for n, row in enumerate(rows):
                found = PackedItems.unpack(bytes(row["packed"]))[skip:]
                offset, skip = skip, 0
                room = limit - len(out)
                if len(found) > room:
                    out += found[:room]
                    return out, encode_token({"pk": pk, "pack": row["sk"], "skip": offset + room})
                out += found
                if len(out) == limit:
                    last = n == len(rows) - 1 and not more
                    return out, None if last else encode_token({"pk": row["pk"], "sk": row["sk"]})
            if not more:
                return out, None
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def iter_items(self, run_id: str, results: Iterable[str]) -> Iterator[RunItem]:
        """Every item of a run with one of ``results``, page by page (a sync may hold 50,000).
        Only packs that hold one are sent back (each says which results it holds)."""
        wanted = sorted(set(results))
        holds = Attr("results").contains(wanted[0])
        for result in wanted[1:]:
            holds |= Attr("results").contains(result)
        rows = self._query_all(
            KeyConditionExpression=Key("pk").eq(_run_pk(run_id)) & Key("sk").begins_with(PACK_PREFIX),
            FilterExpression=holds,
            ConsistentRead=True,
        )
        for row in rows:
            yield from PackedItems.unpack(bytes(row["packed"]), wanted)

    def mark_verified(self, run_id: str) -> None:
        """A verify finished: plain syncs may trust what we wrote until the next one is due."""
        self.table.put_item(Item={**VERIFIED_KEY, "run_id": run_id, "at": to_dynamo(time.time())})

    def last_verified(self) -> float | None:
        """When the last verify finished (epoch seconds), None when none ever did."""
        item = self.table.get_item(Key=VERIFIED_KEY, ConsistentRead=True).get("Item")
        return float(item["at"]) if item else None

    def list_runs(self, *, limit: int = 20, next_token: str | None = None) -> tuple[list[Run], str | None]:
        kwargs: dict[str, Any] = {
            "IndexName": RUNS_INDEX,
            "KeyConditionExpression": Key("gsi1pk").eq(RUNS_GSI_PK),
            "ScanIndexForward": False,
            "Limit": limit,
        }
        runs, token = self._query_page(kwargs, next_token, RUNS_PAGE)
        return [Run.model_validate(i) for i in runs], token
