"""A stack's tables and secrets carried from one start to the next (`make serve` keeps them in a
file): every item and every secret's value as JSON-ready data, and put back into a new stack.

Items are DynamoDB's typed attribute values (`{"S": "text"}`), binary values in base64, as
DynamoDB's JSON protocol writes them, so the file reads like DynamoDB's own answers.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from local.aws.resources import ACCOUNT_ID
from local.aws.server import StackGate
from local.intrinsics import Resolver
from local.patches.moto import json_default
from local.template import Template

log = logging.getLogger(__name__)

BATCH_WRITE = 25  # DynamoDB's BatchWriteItem limit


@dataclass
class StackState:
    """Reads and restores the state of a running stack's tables and secrets."""

    template: Template
    resolver: Resolver
    client: Callable[[str], Any]
    region: str
    gate: StackGate | None

    def snapshot(self) -> dict[str, Any]:
        """Every item of the template's tables and every secret's current value, by logical id."""
        secretsmanager = self.client("secretsmanager")
        tables = {
            res.logical_id: self.table_items(self.resolver.refs[res.logical_id])
            for res in self.template.tables
        }
        values: dict[str, dict[str, str]] = {}
        for res in self.template.secrets:
            got = secretsmanager.get_secret_value(SecretId=self.resolver.refs[res.logical_id])
            if "SecretString" in got:
                values[res.logical_id] = {"SecretString": got["SecretString"]}
            elif "SecretBinary" in got:
                values[res.logical_id] = {"SecretBinary": base64.b64encode(got["SecretBinary"]).decode()}
        return {"tables": tables, "secrets": values}

    def table_items(self, name: str) -> list[dict[str, Any]]:
        """Every item of table ``name``. Copied from moto's backend in this process while no
        DynamoDB request runs: milliseconds for thousands of items, where a Scan through the
        server takes seconds (and the request lock meanwhile). A Scan if that copy fails."""
        try:
            return self.backend_items(name)
        except Exception:
            log.debug("copying %s from moto's backend failed; scanning it", name, exc_info=True)
        return self.scan_items(name)

    def backend_items(self, name: str) -> list[dict[str, Any]]:
        from moto.dynamodb.models import dynamodb_backends

        if self.gate is None:
            raise RuntimeError("not started")
        table = dynamodb_backends[ACCOUNT_ID][self.region].get_table(name)
        with self.gate.dynamodb_lock:
            # moto keeps a binary attribute as bytes: base64, as DynamoDB's JSON protocol answers it
            copied: list[dict[str, Any]] = json.loads(
                json.dumps([item.to_json()["Attributes"] for item in table.all_items()], default=json_default)
            )
        return copied

    def scan_items(self, name: str) -> list[dict[str, Any]]:
        """Every item of table ``name`` through the API (a consistent Scan)."""
        items: list[dict[str, Any]] = []
        pages = self.client("dynamodb").get_paginator("scan").paginate(TableName=name, ConsistentRead=True)
        for page in pages:
            items += [_json_item(item) for item in page["Items"]]
        return items

    def restore(self, snapshot: dict[str, Any]) -> int:
        """Put a :meth:`snapshot` back into the (new, empty) resources; tables or secrets the
        template no longer has are skipped with a warning. Answers how many items were put."""
        put = 0
        tables = {res.logical_id for res in self.template.tables}
        for logical_id, items in (snapshot.get("tables") or {}).items():
            if logical_id not in tables:
                log.warning("the saved state has a table %s the template does not; skipped", logical_id)
                continue
            put += self._put_items(self.resolver.refs[logical_id], items)
        secrets_ = {res.logical_id for res in self.template.secrets}
        for logical_id, value in (snapshot.get("secrets") or {}).items():
            if logical_id not in secrets_:
                log.warning("the saved state has a secret %s the template does not; skipped", logical_id)
                continue
            self._put_secret(self.resolver.refs[logical_id], value)
        return put

    def _put_items(self, table: str, items: list[dict[str, Any]]) -> int:
        dynamodb = self.client("dynamodb")
        for start in range(0, len(items), BATCH_WRITE):
            batch = [{"PutRequest": {"Item": _dynamo_item(i)}} for i in items[start : start + BATCH_WRITE]]
            pending: dict[str, Any] = {table: batch}
            while pending:
                pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
        return len(items)

    def _put_secret(self, arn: str, value: dict[str, str]) -> None:
        secretsmanager = self.client("secretsmanager")
        if "SecretString" in value:
            secretsmanager.put_secret_value(SecretId=arn, SecretString=value["SecretString"])
        elif "SecretBinary" in value:
            secretsmanager.put_secret_value(
                SecretId=arn, SecretBinary=base64.b64decode(value["SecretBinary"])
            )


def _json_item(item: dict[str, Any]) -> dict[str, Any]:
    """An item (as the low-level client answers it) made JSON-ready: binary values in base64."""
    return {name: _binary_converted(value, _base64) for name, value in item.items()}


def _dynamo_item(item: dict[str, Any]) -> dict[str, Any]:
    """The inverse of :func:`_json_item`."""
    return {name: _binary_converted(value, base64.b64decode) for name, value in item.items()}


def _base64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _binary_converted(value: dict[str, Any], convert: Callable[[Any], Any]) -> dict[str, Any]:
    """One DynamoDB attribute value with each binary value in it converted."""
    (kind, inner), *_ = value.items()
    if kind == "B":
        return {kind: convert(inner)}
    if kind == "BS":
        return {kind: [convert(b) for b in inner]}
    if kind == "M":
        return {kind: {name: _binary_converted(v, convert) for name, v in inner.items()}}
    if kind == "L":
        return {kind: [_binary_converted(v, convert) for v in inner]}
    return {kind: inner}
