"""The billable units of one AWS request (DynamoDB capacity units, SQS requests, secret reads)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

KB = 1024


def item_size(value: Any) -> int:
    """Approximate DynamoDB size of an attribute value (names count where the caller adds them)."""
    if value is None or isinstance(value, bool):
        return 1
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes | bytearray):
        return len(value)
    if isinstance(value, int | float) or type(value).__name__ == "Decimal":
        return 1 + (len(str(value)) + 1) // 2
    if isinstance(value, dict):
        return 3 + sum(len(str(k).encode()) + item_size(v) + 1 for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return 3 + sum(item_size(v) + 1 for v in value)
    raw = getattr(value, "value", None)  # boto3 Binary
    return len(raw) if isinstance(raw, bytes) else len(str(value))


def _units(size: int, unit: int) -> int:
    return max(1, math.ceil(size / unit))


def _indexed(item_or_key: dict[str, Any]) -> int:
    """A write that also lands in the ``gsi1`` index (projection ALL) costs one more unit: the
    run record is the only item with ``gsi1pk`` (docs/DATA_MODEL.md)."""
    return int("gsi1pk" in item_or_key or item_or_key.get("sk") == "RUN")


def capacity(service: str, operation: str, params: dict[str, Any], result: dict[str, Any]) -> Counter[str]:
    """The billable units of one AWS request, by DynamoDB's on-demand rules (1 KB per write
    unit, transactions double, plus the index's copy; 4 KB per strongly consistent read unit,
    half for eventual)."""
    out: Counter[str] = Counter({f"{service}:{operation}": 1})
    if service == "dynamodb":
        consistent = 1.0 if params.get("ConsistentRead") else 0.5
        if operation in ("PutItem", "DeleteItem"):
            body = params.get("Item", params.get("Key", {}))
            out["wru"] += _units(item_size(body), KB) + _indexed(body)
        elif operation == "UpdateItem":
            out["wru"] += 1 + _indexed(params.get("Key", {}))  # the run record: under 1 KB
        elif operation == "BatchWriteItem":
            for requests_ in params.get("RequestItems", {}).values():
                for req in requests_:
                    body = req.get("PutRequest", {}).get("Item") or req.get("DeleteRequest", {}).get("Key")
                    out["wru"] += _units(item_size(body or {}), KB)
        elif operation == "TransactWriteItems":
            for entry in params.get("TransactItems", []):
                body = next(iter(entry.values()))
                item = body.get("Item", body.get("Key", {}))
                out["wru"] += 2 * _units(item_size(item), KB) + _indexed(item)
        elif operation == "GetItem":
            out["rru"] += math.ceil(_units(item_size(result.get("Item") or {}), 4 * KB) * consistent)
        elif operation in ("Query", "Scan"):
            size = sum(item_size(i) for i in result.get("Items", []))
            out["rru"] += math.ceil(_units(size, 4 * KB) * consistent)
    elif service == "sqs" and operation == "SendMessage":
        out["sqs"] += _units(len(str(params.get("MessageBody", ""))), 64 * KB)
    elif service == "secretsmanager":
        out["secrets"] += 1
    return out
