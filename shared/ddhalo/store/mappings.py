"""Mappings, one to one: ``MAPPING`` / ``DD#<dicker_customer_id>`` and its guard ``HALO#<halo_client_id>``."""

from __future__ import annotations

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from ddhalo.errors import ConflictError, NotFoundError
from ddhalo.models import Mapping
from ddhalo.store.table import MAX_PAGE, Table, from_dynamo, to_dynamo

MAPPING_PK = "MAPPING"


def _mapping_sk(dicker_customer_id: str) -> str:
    return f"DD#{dicker_customer_id}"


def _guard_sk(halo_client_id: int) -> str:
    return f"HALO#{halo_client_id}"


class MappingsTable(Table):
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
        """Store a mapping unless either side is already mapped (one to one), atomically."""
        item = {"pk": MAPPING_PK, "sk": _mapping_sk(mapping.dicker_customer_id), **mapping.model_dump()}
        guard = {
            "pk": MAPPING_PK,
            "sk": _guard_sk(mapping.halo_client_id),
            "dicker_customer_id": mapping.dicker_customer_id,
        }
        try:
            self.client.transact_write_items(TransactItems=[self._put_new(item), self._put_new(guard)])
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
                "Each Halo client can be mapped to one Dicker Data customer; remove the other mapping first.",
            ) from exc

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
        self.client.transact_write_items(
            TransactItems=[
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": to_dynamo({"pk": MAPPING_PK, "sk": _mapping_sk(dicker_customer_id)}),
                    }
                },
                {
                    "Delete": {
                        "TableName": self.table_name,
                        "Key": to_dynamo({"pk": MAPPING_PK, "sk": _guard_sk(mapping.halo_client_id)}),
                    }
                },
            ]
        )
        return mapping
