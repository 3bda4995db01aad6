"""Subscription links: ``SUBLINK`` / ``<dicker_customer_id>#<subscription_id>``; create intents:
``INTENT`` / ``PACK#<uuid>`` holding up to INTENT_PACK such keys, put before those licences are
created and emptied as each is linked (or refused), so a plain sync knows which customers'
creates may have landed unlinked."""

from __future__ import annotations

import dataclasses
import time
import uuid
from collections.abc import Iterable
from typing import Any

from boto3.dynamodb.conditions import Key
from botocore.exceptions import ClientError

from ddhalo.models import SubscriptionLink
from ddhalo.store.table import Table, from_dynamo, to_dynamo

LINK_PK = "SUBLINK"
INTENT_PK = "INTENT"
GET_BATCH = 100  # BatchGetItem's most keys per call
GET_ATTEMPTS = 6
INTENT_PACK = 1000  # keys of ~80 bytes: ~80 KB, well inside DynamoDB's 400 KB per item


class LinksTable(Table):
    def list_links(
        self, dicker_customer_id: str | None = None, *, with_fields: bool = True
    ) -> list[SubscriptionLink]:
        """One customer's links, or every link (one partition, paged). ``with_fields=False`` leaves
        out what each link wrote (``fields_json`` is then None): most of a link's size, and only
        needed for the few whose hash differs."""
        condition = Key("pk").eq(LINK_PK)
        if dicker_customer_id is not None:
            condition = condition & Key("sk").begins_with(f"{dicker_customer_id}#")
        query: dict[str, Any] = {"KeyConditionExpression": condition, "ConsistentRead": True}
        if not with_fields:
            names = [f.name for f in dataclasses.fields(SubscriptionLink) if f.name != "fields_json"]
            query["ProjectionExpression"] = ", ".join(f"#a{i}" for i in range(len(names)))
            query["ExpressionAttributeNames"] = {f"#a{i}": name for i, name in enumerate(names)}
        links = []
        for item in self._query_all(**query):
            link = from_dynamo(item)
            if not with_fields:
                link["fields_json"] = None
            links.append(SubscriptionLink.from_item(link))
        return links

    def get_links(self, keys: Iterable[tuple[str, str]]) -> list[SubscriptionLink]:
        """These links whole, by (customer id, subscription id), 100 to a BatchGetItem: a few calls
        for what would be a Query per customer. Keys without a link are left out."""
        wanted = [{"pk": LINK_PK, "sk": f"{c}#{s}"} for c, s in dict.fromkeys(keys)]
        found: list[SubscriptionLink] = []
        for start in range(0, len(wanted), GET_BATCH):
            request = {self.table_name: {"Keys": wanted[start : start + GET_BATCH], "ConsistentRead": True}}
            for attempt in range(GET_ATTEMPTS):
                answer = self.client.batch_get_item(RequestItems=request)
                rows = answer["Responses"][self.table_name]
                found += [SubscriptionLink.from_item(from_dynamo(row)) for row in rows]
                request = answer.get("UnprocessedKeys") or {}
                if not request:
                    break
                time.sleep(0.05 * 2**attempt)  # DynamoDB left some unread (throughput): back off
            else:
                raise RuntimeError(f"DynamoDB left links unread after {GET_ATTEMPTS} attempts")
        return found

    def put_links(self, links: Iterable[SubscriptionLink]) -> None:
        links = list(links)
        if not links:
            return
        with self.table.batch_writer(overwrite_by_pkeys=["pk", "sk"]) as batch:
            for link in links:
                batch.put_item(
                    Item=to_dynamo(
                        {
                            "pk": LINK_PK,
                            "sk": f"{link.dicker_customer_id}#{link.subscription_id}",
                            **link.to_item(),
                        }
                    )
                )

    def put_intents(self, keys: Iterable[str]) -> None:
        """``<dicker_customer_id>#<subscription_id>`` of licences about to be created, packed
        INTENT_PACK to an item: an apply chunk's thousand creates cost one write, not forty."""
        keys = list(dict.fromkeys(keys))
        for start in range(0, len(keys), INTENT_PACK):
            self.table.put_item(
                Item={
                    "pk": INTENT_PK,
                    "sk": f"PACK#{uuid.uuid4().hex}",
                    "keys": keys[start : start + INTENT_PACK],
                }
            )

    def drop_intents(self, keys: Iterable[str]) -> None:
        """Takes these keys out of every intent item holding them; an item left empty is deleted."""
        dropped = set(keys)
        if not dropped:
            return
        for item in self._query_all(KeyConditionExpression=Key("pk").eq(INTENT_PK), ConsistentRead=True):
            held = [str(key) for key in item["keys"]]
            if dropped.isdisjoint(held):
                continue
            left = [key for key in held if key not in dropped]
            # Only the chunk that put a pack and its own retry touch it; the condition keeps a
            # rewrite from undoing the other's (then the pack is read again on the next drop).
            guard: dict[str, Any] = {
                "ConditionExpression": "#k = :was",
                "ExpressionAttributeNames": {"#k": "keys"},
                "ExpressionAttributeValues": {":was": item["keys"]},
            }
            try:
                if left:
                    self.table.put_item(Item={**item, "keys": left}, **guard)
                else:
                    self.table.delete_item(Key={"pk": INTENT_PK, "sk": item["sk"]}, **guard)
            except ClientError as exc:
                if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                    raise

    def list_intents(self) -> set[str]:
        rows = self._query_all(KeyConditionExpression=Key("pk").eq(INTENT_PK), ConsistentRead=True)
        return {str(key) for row in rows for key in row["keys"]}
