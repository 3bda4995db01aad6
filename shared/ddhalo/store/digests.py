"""The digest's bookkeeping: ``RUN#<run_id>`` / ``DIGEST`` (sent once per run) and ``DIGEST`` /
``SEEN`` (what earlier digests named, so a held customer is named once, not every hour)."""

from __future__ import annotations

from ddhalo.models import DigestRecord
from ddhalo.store.table import RUN_SK, Table, _run_pk, to_dynamo

SEEN_KEY = {"pk": "DIGEST", "sk": "SEEN"}
# An item holds 400 KB: beyond this many names, the oldest are forgotten (and named again).
MAX_SEEN = 5000


class DigestsTable(Table):
    def claim_digest(self, run_id: str) -> bool:
        """True once per run: whichever worker finishes the run first sends its digest."""
        return self._put_once({"pk": _run_pk(run_id), "sk": "DIGEST", "expires_at": self._expires()})

    def set_run_digest(self, run_id: str, record: DigestRecord) -> None:
        self.table.update_item(
            Key={"pk": _run_pk(run_id), "sk": RUN_SK},
            UpdateExpression="SET digest = :d",
            ConditionExpression="attribute_exists(pk)",
            ExpressionAttributeValues={":d": to_dynamo(record.model_dump(mode="json"))},
        )

    def digest_seen(self) -> list[str]:
        item = self.table.get_item(Key=SEEN_KEY, ConsistentRead=True).get("Item") or {}
        return list(item.get("keys") or [])

    def put_digest_seen(self, keys: list[str]) -> None:
        """Oldest first; only the newest ``MAX_SEEN`` are kept."""
        self.table.put_item(Item={**SEEN_KEY, "keys": keys[-MAX_SEEN:]})
