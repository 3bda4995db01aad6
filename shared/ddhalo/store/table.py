"""The table all families share: handles, paging, expiry, value and token codecs, ``RUN#<run_id>``."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator, Mapping
from decimal import Decimal
from typing import Any

import boto3
from botocore.exceptions import ClientError

from ddhalo.errors import InvalidTokenError

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


# A next_token is where a listing's next page starts (a DynamoDB key, or a place inside a pack of
# run items), encoded. It comes back from the caller, so before anything reads from it it must
# have exactly the shape of a key of that listing: its partition, its sort-key prefix, nothing
# more. A forged one (another partition, another item such as the settings, another index) would
# otherwise be handed to DynamoDB as the ExclusiveStartKey. No signature is needed: a key of the
# listing's own shape can only start the listing somewhere inside itself.
TokenRule = re.Pattern[str] | type[int]
TokenShape = Mapping[str, TokenRule]
MAX_KEY_BYTES = 1024  # DynamoDB's limit for a sort key (a partition key's is 2048)
MAX_SKIP = 2**31


def exactly(value: str) -> re.Pattern[str]:
    return re.compile(re.escape(value))


def prefixed(prefix: str) -> re.Pattern[str]:
    return re.compile(re.escape(prefix) + ".*", re.DOTALL)


def encode_token(key: dict[str, Any] | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(from_dynamo(key)).encode()).decode()


def _fits(value: Any, rule: TokenRule) -> bool:
    if isinstance(rule, re.Pattern):
        return isinstance(value, str) and len(value.encode()) <= MAX_KEY_BYTES and bool(rule.fullmatch(value))
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < MAX_SKIP


def decode_token(token: str | None, *shapes: TokenShape) -> dict[str, Any] | None:
    """The key ``token`` names, if it has exactly one of the listing's ``shapes`` (attribute ->
    pattern its text must match whole, or ``int`` for a count); anything else is refused."""
    if not token:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(token.encode()))
    except (ValueError, TypeError, RecursionError):
        key = None
    if isinstance(key, dict):
        for shape in shapes:
            if key.keys() == shape.keys() and all(_fits(key[k], rule) for k, rule in shape.items()):
                return key
    raise InvalidTokenError(
        "next_token is not one this listing gave.",
        "Pass back the next_token of the previous page of the same listing unchanged, or leave it out "
        "to start from the first page.",
    )


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
        self, kwargs: dict[str, Any], next_token: str | None, shape: TokenShape
    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a query, from where ``next_token`` (the previous page's end, a key of
        ``shape``) says."""
        start = decode_token(next_token, shape)
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
