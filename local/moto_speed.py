"""A cheaper moto for the local runner: three DynamoDB code paths made to cost what DynamoDB's do."""

from __future__ import annotations

import base64
import contextlib
import copy
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

_ORIGINALS: dict[str, Any] = {}


def speed_up() -> None:
    """From now on, three of moto's DynamoDB code paths cost what DynamoDB's do (this process;
    idempotent). The local runner starts with it, so `make serve` and the bench alike run at the
    product's cost, not moto's.

    moto deep-copies every table a TransactWriteItems touches (for rollback), sorts and walks the
    whole table for every Query page, and serialises a Query answer attribute by attribute
    (~0.7 s per 1 MB page): O(table) per request, so at 5,000 customers the bench would measure
    moto, not the product. Here a transaction snapshots only the items it touches, a table Query
    on a string range key reads only its partition, and a Query answer is dumped as plain JSON.
    Answers are unchanged (tests/local/test_bench_moto.py compares them); indexes and scans are moto's.
    """
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT, Table
    from moto.dynamodb.responses import DynamoResult

    if _ORIGINALS:
        return
    transact = DynamoDBBackend.transact_write_items

    def snapshot_transact(backend: Any, transact_items: list[dict[str, Any]]) -> None:
        saved: list[tuple[str, dict[str, Any], dict[str, Any] | None]] = []
        for entry in transact_items:
            op_type, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName"))
            if table is None:
                continue
            with contextlib.suppress(Exception):  # a malformed op fails inside moto as before
                source = op["Item"] if op_type == "Put" else op["Key"]
                attrs = [a for a in (table.hash_key_attr, table.range_key_attr) if a]
                key = {a: source[a] for a in attrs}
                current = backend.get_item(table.name, key)
                saved.append((table.name, key, current.to_json()["Attributes"] if current else None))
        try:
            transact(backend, transact_items)
        except BaseException:
            for table_name, key, before in reversed(saved):
                if before is None:
                    with contextlib.suppress(Exception):
                        backend.delete_item(table_name, key)
                else:
                    backend.put_item(table_name, before)
            raise

    query: Callable[..., Any] = Table.query

    def partition_query(
        table: Any,
        hash_key: Any,
        range_comparison: str | None,
        range_objs: list[Any],
        limit: int | None,
        exclusive_start_key: dict[str, Any] | None,
        scan_index_forward: bool,
        projection_expressions: Any,
        index_name: str | None = None,
        consistent_read: bool = False,
        filter_expression: Any = None,
        **kwargs: Any,
    ) -> Any:
        args = (hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward)
        rest = (projection_expressions, index_name, consistent_read, filter_expression)
        simple = (
            index_name is None
            and hash_key is not None
            and table.range_key_type == "S"
            and set(kwargs) <= {"hash_key_conditions", "range_key_conditions"}
            and len(kwargs.get("range_key_conditions") or []) <= 1
        )
        if not simple:
            return query(table, *args, *rest, **kwargs)
        partition = table.items.get(hash_key) or {}
        keys = sorted(partition, key=lambda k: k.value, reverse=not scan_index_forward)
        if exclusive_start_key:
            start = exclusive_start_key[table.range_key_attr]["S"]
            keys = [k for k in keys if (k.value > start) == scan_index_forward and k.value != start]
        results: list[Any] = []
        size = 0
        last_key = None
        for key in keys:
            if range_comparison and not key.compare(range_comparison, range_objs):
                continue
            item = partition[key]
            if len(results) == limit or size + item.size() > RESULT_SIZE_LIMIT:
                last_key = table._get_last_evaluated_key(results[-1], None)
                break
            results.append(item)
            size += item.size()
        scanned = len(results)
        results = copy.deepcopy(results)
        if filter_expression is not None:
            results = [item for item in results if filter_expression.expr(item)]
        if projection_expressions:
            results = [item.project(projection_expressions) for item in results]
        return results, scanned, last_key

    execute_result: Callable[..., Any] = DynamoResult.execute_result

    def json_result(result: Any, context: Any) -> Any:
        """A Query page as plain JSON: moto's generic serializer walks the output shape per
        attribute (~0.7 s per 1 MB page); DynamoDB's JSON protocol is the same data dumped."""
        body = result.result
        if context.operation_model.name != "Query" or not isinstance(body, dict):
            return execute_result(result, context)
        status, headers, _ = execute_result(DynamoResult({**body, "Items": []}), context)
        return status, headers, json.dumps(body, default=json_default, separators=(",", ":"))

    _ORIGINALS.update(transact=transact, query=query, execute_result=execute_result)
    Table.__deepcopy__ = lambda self, memo: self  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = snapshot_transact  # type: ignore[method-assign, assignment]
    Table.query = partition_query  # type: ignore[method-assign, assignment]
    DynamoResult.execute_result = json_result  # type: ignore[method-assign, assignment]


def sped_up() -> bool:
    return bool(_ORIGINALS)


def slow_down() -> None:
    """moto as it ships again (for the test that compares the two)."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoResult

    if not _ORIGINALS:
        return
    del Table.__deepcopy__  # type: ignore[attr-defined]
    DynamoDBBackend.transact_write_items = _ORIGINALS.pop("transact")  # type: ignore[method-assign]
    Table.query = _ORIGINALS.pop("query")  # type: ignore[method-assign]
    DynamoResult.execute_result = _ORIGINALS.pop("execute_result")  # type: ignore[method-assign]


def json_default(value: Any) -> Any:
    """What DynamoDB's JSON protocol does with bytes (base64) and timestamps (epoch seconds)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
