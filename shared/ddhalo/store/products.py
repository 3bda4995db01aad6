"""Product mappings: ``PRODUCT`` / ``STOCK#<stock_code>``, one Dicker Data manufacturer stock code
to one Halo Item. Several stock codes may share an Item (an MSP may bill monthly and annual terms
as one product), so unlike a customer mapping there is no guard on the Halo side."""

from __future__ import annotations

from typing import Literal

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError
from pydantic import BaseModel, Field

from ddhalo.errors import ConflictError, NotFoundError
from ddhalo.models import now_iso
from ddhalo.store.table import Table, from_dynamo, to_dynamo

PRODUCT_PK = "PRODUCT"
ProductSource = Literal["generated", "manual"]


class ProductMapping(BaseModel):
    """A stock code mapped to a Halo Item; names as they were when mapped (listings refresh them)."""

    stock_code: str
    description: str = ""
    halo_item_id: int
    halo_item_name: str = ""
    source: ProductSource
    created_at: str = Field(default_factory=now_iso)
    created_by: str = "api"


def _key(stock_code: str) -> dict[str, str]:
    return {"pk": PRODUCT_PK, "sk": f"STOCK#{stock_code}"}


def already_mapped(stock_code: str) -> ConflictError:
    """Why a stock code cannot be mapped again (the add route checks before it reads Halo)."""
    return ConflictError(
        f"Stock code {stock_code} is already mapped.",
        "Remove the existing product mapping first (DELETE /products/{stock_code}).",
    )


class ProductsTable(Table):
    def list_products(self) -> list[ProductMapping]:
        rows = self._query_all(
            KeyConditionExpression=Key("pk").eq(PRODUCT_PK) & Key("sk").begins_with("STOCK#"),
            ConsistentRead=True,
        )
        return [ProductMapping.model_validate(from_dynamo(row)) for row in rows]

    def get_product(self, stock_code: str) -> ProductMapping | None:
        item = self.table.get_item(Key=_key(stock_code), ConsistentRead=True).get("Item")
        return ProductMapping.model_validate(from_dynamo(item)) if item else None

    def put_product(self, product: ProductMapping) -> None:
        """Store a mapping unless its stock code is mapped already (never overwritten)."""
        if not self._put_once(to_dynamo({**_key(product.stock_code), **product.model_dump()})):
            raise already_mapped(product.stock_code)

    def put_products(self, products: list[ProductMapping]) -> dict[str, ConflictError]:
        """Store each as ``put_product`` does; answers the refused ones by stock code (a generate
        maps tens of products, so one conditional put each is cheap enough)."""
        conflicts: dict[str, ConflictError] = {}
        for product in products:
            try:
                self.put_product(product)
            except ConflictError as exc:
                conflicts[product.stock_code] = exc
        return conflicts

    def delete_product(self, stock_code: str) -> ProductMapping:
        """Remove a mapping and answer it; one that is not there is a 404, not a silent success."""
        try:
            old = self.table.delete_item(
                Key=_key(stock_code), ConditionExpression="attribute_exists(pk)", ReturnValues="ALL_OLD"
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            raise NotFoundError(f"Stock code {stock_code} is not mapped.") from None
        return ProductMapping.model_validate(from_dynamo(old["Attributes"]))
