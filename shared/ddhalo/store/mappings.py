"""Mappings: ``MAPPING`` / ``DD#<dicker_customer_id>``, and per Halo client a guard
``HALO#<halo_client_id>`` whose ``holders`` are the customers mapped to it: one, unless a mapping
was added ``shared`` (several Dicker Data customers billed on one Halo client). Held customers
(unmapped, left uncreated by the last full read): ``HELD`` / ``<dicker_customer_id>``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from ddhalo.errors import ConflictError, NotFoundError
from ddhalo.models import HeldCustomer, Mapping
from ddhalo.store.table import MAX_PAGE, Table, from_dynamo, to_dynamo

MAPPING_PK = "MAPPING"
HELD_PK = "HELD"
# Two items per mapping, and DynamoDB takes at most 100 items in one transaction.
MAPPINGS_PER_TRANSACTION = 50
# A transaction cancelled with no failed condition (another writer on the same items) is retried.
TRANSACTION_RETRIES = 3
CONDITION_FAILED = "ConditionalCheckFailed"


def _mapping_sk(dicker_customer_id: str) -> str:
    return f"DD#{dicker_customer_id}"


def _guard_sk(halo_client_id: int) -> str:
    return f"HALO#{halo_client_id}"


def _mapping_item(mapping: Mapping) -> dict[str, Any]:
    return {"pk": MAPPING_PK, "sk": _mapping_sk(mapping.dicker_customer_id), **mapping.model_dump()}


def _distinct_batch(mappings: list[Mapping]) -> tuple[list[Mapping], list[Mapping]]:
    """Up to a transaction's worth of mappings, no customer or client twice (a transaction may
    not touch one item twice), and the rest, in order."""
    batch: list[Mapping] = []
    rest: list[Mapping] = []
    customers: set[str] = set()
    clients: set[int] = set()
    for mapping in mappings:
        clash = mapping.dicker_customer_id in customers or mapping.halo_client_id in clients
        if clash or len(batch) == MAPPINGS_PER_TRANSACTION:
            rest.append(mapping)
            continue
        batch.append(mapping)
        customers.add(mapping.dicker_customer_id)
        clients.add(mapping.halo_client_id)
    return batch, rest


def _conflict(mapping: Mapping, *, guard: bool) -> ConflictError:
    """Why a mapping was refused: its customer is mapped already, or (``guard``) its Halo client."""
    if not guard:
        return ConflictError(
            f"Dicker Data customer {mapping.dicker_customer_id} is already mapped.",
            "Remove the existing mapping first (DELETE /mappings/{dicker_customer_id}).",
        )
    return ConflictError(
        f"Halo client {mapping.halo_client_id} is already mapped to another Dicker Data customer.",
        'Send "shared": true to bill both customers on this Halo client, or remove the other mapping first.',
    )


class MappingsTable(Table):
    def list_held(self) -> dict[str, HeldCustomer]:
        rows = self._query_all(KeyConditionExpression=Key("pk").eq(HELD_PK), ConsistentRead=True)
        held = (HeldCustomer.model_validate(from_dynamo(row)) for row in rows)
        return {h.dicker_customer_id: h for h in held}

    def put_held(self, held: list[HeldCustomer], dropped: list[str]) -> None:
        """Remember these held customers and forget those ``dropped`` (mapped or gone since)."""
        if not held and not dropped:
            return
        with self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for customer in held:
                item = {"pk": HELD_PK, "sk": customer.dicker_customer_id, **customer.model_dump(mode="json")}
                batch.put_item(Item=to_dynamo(item))
            for customer_id in dropped:
                batch.delete_item(Key={"pk": HELD_PK, "sk": customer_id})

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
        """Store a mapping unless the customer is mapped already, or the Halo client is and the
        mapping is not ``shared``, atomically."""
        if mapping.shared:
            guard_key = {"pk": MAPPING_PK, "sk": _guard_sk(mapping.halo_client_id)}
            claim = self._share_guard(guard_key, mapping.dicker_customer_id)
            items = [self._put_new(_mapping_item(mapping)), claim]
        else:
            items = self._claim(mapping)
        reasons = self._transact(items)
        if reasons is not None:
            raise _conflict(mapping, guard=not reasons or reasons[0] != CONDITION_FAILED)

    def put_mappings(self, mappings: Sequence[Mapping]) -> dict[str, ConflictError]:
        """Store many mappings, each exactly as ``put_mapping`` would, 50 to a transaction (an
        import maps thousands at once; one round trip each was most of its time). A cancelled
        transaction names the mappings whose condition failed: those are conflicts, and the others
        are sent again without them. Answers the conflicts by Dicker Data customer id."""
        conflicts: dict[str, ConflictError] = {}
        for mapping in (m for m in mappings if m.shared):
            try:
                self.put_mapping(mapping)
            except ConflictError as exc:
                conflicts[mapping.dicker_customer_id] = exc
        waiting = [m for m in mappings if not m.shared]
        cancelled = 0
        while waiting:
            batch, waiting = _distinct_batch(waiting)
            reasons = self._transact([item for m in batch for item in self._claim(m)])
            if reasons is None:
                cancelled = 0
                continue
            if len(reasons) != 2 * len(batch):
                raise RuntimeError(f"DynamoDB cancelled the mapping transaction: {reasons}")
            again = []
            for n, mapping in enumerate(batch):
                own, guard = reasons[2 * n], reasons[2 * n + 1]
                if CONDITION_FAILED in (own, guard):
                    conflicts[mapping.dicker_customer_id] = _conflict(mapping, guard=own != CONDITION_FAILED)
                else:
                    again.append(mapping)
            # Cancelled with no failed condition (another writer on these items): a few tries.
            cancelled = cancelled + 1 if len(again) == len(batch) else 0
            if cancelled > TRANSACTION_RETRIES:
                raise RuntimeError(f"DynamoDB kept cancelling the mapping transaction: {reasons}")
            waiting = again + waiting
        return conflicts

    def _claim(self, mapping: Mapping) -> list[dict[str, Any]]:
        """An unshared mapping's two puts: its own item and its Halo client's guard, both new."""
        guard = {
            "pk": MAPPING_PK,
            "sk": _guard_sk(mapping.halo_client_id),
            "dicker_customer_id": mapping.dicker_customer_id,
            "holders": {mapping.dicker_customer_id},
        }
        return [self._put_new(_mapping_item(mapping)), self._put_new(guard)]

    def _transact(self, items: list[dict[str, Any]]) -> list[str | None] | None:
        """Write ``items`` in one transaction: None when it went through, else the reason code of
        each item (``None`` for an item that was not the cause)."""
        try:
            self.client.transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            return [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
        return None

    def _share_guard(self, guard_key: dict[str, str], dicker_customer_id: str) -> dict[str, object]:
        """The guard's update for one more holder; a guard written before ``holders`` existed
        names its one holder in ``dicker_customer_id``, kept as a holder too."""
        current = self.table.get_item(Key=guard_key, ConsistentRead=True).get("Item") or {}
        holders = {dicker_customer_id}
        if current and "holders" not in current and current.get("dicker_customer_id"):
            holders.add(str(current["dicker_customer_id"]))
        return {
            "Update": {
                "TableName": self.table_name,
                "Key": to_dynamo(guard_key),
                "UpdateExpression": "ADD holders :h",
                "ExpressionAttributeValues": {":h": holders},
            }
        }

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
        guard_key = {"pk": MAPPING_PK, "sk": _guard_sk(mapping.halo_client_id)}
        self.client.transact_write_items(
            TransactItems=[
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": to_dynamo({"pk": MAPPING_PK, "sk": _mapping_sk(dicker_customer_id)}),
                    }
                },
                {
                    "Update": {
                        "TableName": self.table_name,
                        "Key": to_dynamo(guard_key),
                        "UpdateExpression": "DELETE holders :h",
                        "ExpressionAttributeValues": {":h": {dicker_customer_id}},
                    }
                },
            ]
        )
        # The guard goes with its last holder (DynamoDB drops an emptied set).
        try:
            self.table.delete_item(Key=guard_key, ConditionExpression="attribute_not_exists(holders)")
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
        return mapping
