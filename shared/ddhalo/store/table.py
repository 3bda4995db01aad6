"""The table all families share: handles, paging, expiry, value and token codecs, ``RUN#<run_id>``."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
from botocore.exceptions import ClientError

from ddhalo.errors import InputError

MAX_PAGE = 1000
# Runs, their items and chunk bookkeeping are history: kept this long, then DynamoDB's TTL deletes them.
RUN_RETENTION_DAYS = 90
# A run's own item; its items, chunk markers and payloads share its partition.
RUN_SK = "RUN"


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


def _run_pk(run_id: str) -> str:
    return f"RUN#{run_id}"


class Table:
    def __init__(
        self, table_name: str, resource: Any = None, run_retention_days: int = RUN_RETENTION_DAYS
    ) -> None:
        self.table_name = table_name
        self._resource = resource
        self._table: Any = None
        self.run_retention_days = run_retention_days

    def _expires(self) -> int:
        """When a run's items go (DynamoDB TTL on ``expires_at``): every sync writes some."""
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

    def _query_page(
        self, kwargs: dict[str, Any], next_token: str | None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a query, from where ``next_token`` (the previous page's end) says."""
        start = decode_token(next_token)
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = self.table.query(**kwargs)
        return [from_dynamo(i) for i in page.get("Items", [])], encode_token(page.get("LastEvaluatedKey"))

    def _put_once(self, item: dict[str, Any]) -> bool:
        """Put ``item`` only if its key is absent: True the first time, False ever after."""
        try:
            self.table.put_item(Item=item, ConditionExpression="attribute_not_exists(pk)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _put_new(self, item: dict[str, Any]) -> dict[str, Any]:
        """A transaction's put of ``item`` that fails (cancelling the transaction) if its key exists."""
        return {
            "Put": {
                "TableName": self.table_name,
                "Item": to_dynamo(item),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
