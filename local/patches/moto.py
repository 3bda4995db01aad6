"""moto: three DynamoDB code paths made to cost what DynamoDB's do.

moto deep-copies every table a TransactWriteItems touches (for its rollback), sorts and walks the
whole table for every Query page, and serialises a Query answer attribute by attribute (~0.7 s
per 1 MB page): O(table) per request, so at 5,000 customers the bench would measure moto, not the
product. Here a transaction snapshots only the items it touches, a table Query on a string range
key reads only its partition, and a Query answer is dumped as plain JSON. Answers are unchanged
(tests/local/test_bench_moto.py compares them); indexes and scans are moto's.

Why a patch: moto has no setting for any of this (`moto.settings` holds none), and its server
mode runs the same backend code in another process. tests/local/test_library_shapes.py fails the
day moto renames, moves or re-signs what is replaced or read here.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class _Replaced:
    owner: type
    name: str
    original: Any  # what the attribute answered before (None: there was none)
    own: bool  # the class held it itself (else inherited or absent: restored by deleting ours)


_replaced: dict[str, _Replaced] = {}


def speed_up() -> None:
    """From now on, moto's transactions, table Queries and Query answers cost what DynamoDB's do
    (this process; idempotent). The local runner starts with it, so `make serve` and the bench
    alike run at the product's cost, not moto's."""
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoResult

    if _replaced:
        return
    # moto's own rollback copy of each table becomes the table itself: the transaction's own
    # snapshot of the items it touches (`_transact_write_items`) rolls back instead.
    _replace("deepcopy", Table, "__deepcopy__", lambda self, memo: self)
    _replace("transact", DynamoDBBackend, "transact_write_items", _transact_write_items)
    _replace("query", Table, "query", _partition_query)
    _replace("execute_result", DynamoResult, "execute_result", _json_result)


def sped_up() -> bool:
    return bool(_replaced)


def slow_down() -> None:
    """moto as it ships again (for the test that compares the two)."""
    for replaced in _replaced.values():
        if replaced.own:
            setattr(replaced.owner, replaced.name, replaced.original)
        else:
            delattr(replaced.owner, replaced.name)
    _replaced.clear()


def json_default(value: Any) -> Any:
    """What DynamoDB's JSON protocol does with bytes (base64) and timestamps (epoch seconds)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return value.timestamp()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _replace(key: str, owner: type, name: str, new: Any) -> None:
    _replaced[key] = _Replaced(owner, name, getattr(owner, name, None), name in vars(owner))
    setattr(owner, name, new)


def _original(key: str) -> Any:
    return _replaced[key].original


# -- TransactWriteItems: a snapshot of the items it touches, not of the tables -----------------


def _transact_write_items(backend: Any, transact_items: list[dict[str, Any]]) -> None:
    saved = _touched_items(backend, transact_items)
    try:
        _original("transact")(backend, transact_items)
    except BaseException:
        _roll_back(backend, saved)
        raise


def _touched_items(
    backend: Any, transact_items: list[dict[str, Any]]
) -> list[tuple[str, dict[str, Any], dict[str, Any] | None]]:
    """(table, key, the item as it is now or None) for each item the transaction names."""
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
    return saved


def _roll_back(backend: Any, saved: list[tuple[str, dict[str, Any], dict[str, Any] | None]]) -> None:
    for table_name, key, before in reversed(saved):
        if before is None:
            with contextlib.suppress(Exception):
                backend.delete_item(table_name, key)
        else:
            backend.put_item(table_name, before)


# -- Query on a table's string range key: its partition only -----------------------------------


def _partition_query(
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
    """`Table.query`, same signature and answer; moto's own for anything but a table Query on a
    string range key with at most one range condition."""
    simple = (
        index_name is None
        and hash_key is not None
        and table.range_key_type == "S"
        and set(kwargs) <= {"hash_key_conditions", "range_key_conditions"}
        and len(kwargs.get("range_key_conditions") or []) <= 1
    )
    if not simple:
        args = (hash_key, range_comparison, range_objs, limit, exclusive_start_key, scan_index_forward)
        rest = (projection_expressions, index_name, consistent_read, filter_expression)
        return _original("query")(table, *args, *rest, **kwargs)
    partition = table.items.get(hash_key) or {}
    keys = _keys_from(table, partition, exclusive_start_key, scan_index_forward)
    results, last_key = _first_page(table, partition, keys, range_comparison, range_objs, limit)
    scanned = len(results)
    results = copy.deepcopy(results)
    if filter_expression is not None:
        results = [item for item in results if filter_expression.expr(item)]
    if projection_expressions:
        results = [item.project(projection_expressions) for item in results]
    return results, scanned, last_key


def _keys_from(
    table: Any, partition: dict[Any, Any], exclusive_start_key: dict[str, Any] | None, forward: bool
) -> list[Any]:
    """The partition's range keys in the Query's order, from after `exclusive_start_key`."""
    keys = sorted(partition, key=lambda k: k.value, reverse=not forward)
    if exclusive_start_key:
        start = exclusive_start_key[table.range_key_attr]["S"]
        keys = [k for k in keys if (k.value > start) == forward and k.value != start]
    return keys


def _first_page(
    table: Any,
    partition: dict[Any, Any],
    keys: list[Any],
    range_comparison: str | None,
    range_objs: list[Any],
    limit: int | None,
) -> tuple[list[Any], dict[str, Any] | None]:
    """The items of the first page (DynamoDB's 1 MB, or `limit`), and where the next one starts."""
    from moto.dynamodb.models.table import RESULT_SIZE_LIMIT

    results: list[Any] = []
    size = 0
    for key in keys:
        if range_comparison and not key.compare(range_comparison, range_objs):
            continue
        item = partition[key]
        if len(results) == limit or size + item.size() > RESULT_SIZE_LIMIT:
            return results, table._get_last_evaluated_key(results[-1], None)
        results.append(item)
        size += item.size()
    return results, None


# -- a Query answer: dumped as JSON ------------------------------------------------------------


def _json_result(result: Any, context: Any) -> Any:
    """A Query page as plain JSON: moto's generic serializer walks the output shape per
    attribute (~0.7 s per 1 MB page); DynamoDB's JSON protocol is the same data dumped."""
    from moto.dynamodb.responses import DynamoResult

    execute_result = _original("execute_result")
    body = result.result
    if context.operation_model.name != "Query" or not isinstance(body, dict):
        return execute_result(result, context)
    status, headers, _ = execute_result(DynamoResult({**body, "Items": []}), context)
    return status, headers, json.dumps(body, default=json_default, separators=(",", ":"))
