"""Mappings: ``MAPPING`` / ``DD#<dicker_customer_id>``, and per Halo client a guard
``HALO#<halo_client_id>`` whose ``holders`` are the customers mapped to it: one, unless a mapping
was added ``shared`` (several Dicker Data customers billed on one Halo client). Held customers
(unmapped, left uncreated by the last full read): ``HELD`` / ``<dicker_customer_id>``."""

from __future__ import annotations

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from ddhalo.errors import ConflictError, NotFoundError
from ddhalo.models import HeldCustomer, Mapping
from ddhalo.store.table import MAX_PAGE, Table, from_dynamo, to_dynamo

MAPPING_PK = "MAPPING"
HELD_PK = "HELD"


def _mapping_sk(dicker_customer_id: str) -> str:
    return f"DD#{dicker_customer_id}"


def _guard_sk(halo_client_id: int) -> str:
    return f"HALO#{halo_client_id}"


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
        item = {"pk": MAPPING_PK, "sk": _mapping_sk(mapping.dicker_customer_id), **mapping.model_dump()}
        guard_key = {"pk": MAPPING_PK, "sk": _guard_sk(mapping.halo_client_id)}
        if mapping.shared:
            claim = self._share_guard(guard_key, mapping.dicker_customer_id)
        else:
            claim = self._put_new(
                {
                    **guard_key,
                    "dicker_customer_id": mapping.dicker_customer_id,
                    "holders": {mapping.dicker_customer_id},
                }
            )
        try:
            self.client.transact_write_items(TransactItems=[self._put_new(item), claim])
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
                'Send "shared": true to bill both customers on this Halo client, or remove the other '
                "mapping first.",
            ) from exc

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
