"""The Dicker Data fake's record lists and their lookups by GUID.

Tests edit the fake's tenants and subscriptions as plain lists; the lists count their own
changes so the lookups by `TenantId` and `SubscriptionId` rebuild only when needed, which
keeps a fake of thousands of subscriptions answering in constant time per lookup.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, SupportsIndex

Record = dict[str, Any]


class RecordList(list[Record]):
    """A list of records that counts its own mutations, so lookups rebuild their index lazily.

    In-place edits of a record's `TenantId`/`SubscriptionId` are not seen: call
    `DickerDataFake.reindex()` after those (edits of other fields need nothing).
    """

    def __init__(self, items: Iterable[Record] = ()) -> None:
        super().__init__(items)
        self.version = 0

    def _touch(self) -> None:
        self.version += 1

    def append(self, item: Record) -> None:
        super().append(item)
        self._touch()

    def extend(self, items: Iterable[Record]) -> None:
        super().extend(items)
        self._touch()

    def insert(self, index: SupportsIndex, item: Record) -> None:
        super().insert(index, item)
        self._touch()

    def remove(self, item: Record) -> None:
        super().remove(item)
        self._touch()

    def pop(self, index: SupportsIndex = -1) -> Record:
        self._touch()
        return super().pop(index)

    def clear(self) -> None:
        super().clear()
        self._touch()

    def sort(self, *args: Any, **kwargs: Any) -> None:
        super().sort(*args, **kwargs)
        self._touch()

    def reverse(self) -> None:
        super().reverse()
        self._touch()

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(key, value)
        self._touch()

    def __delitem__(self, key: Any) -> None:
        super().__delitem__(key)
        self._touch()

    def __iadd__(self, items: Iterable[Record]) -> RecordList:  # type: ignore[override, misc]
        super().__iadd__(items)
        self._touch()
        return self


def norm(value: Any) -> str:
    """GUIDs compare case-insensitively (.NET Guid semantics)."""
    return "" if value is None else str(value).strip().lower()


class FieldIndex:
    """value of `field` → records, rebuilt only when the list changed (O(1) lookups)."""

    def __init__(self, field: str) -> None:
        self.field = field
        self._source: RecordList | None = None
        self._version = -1
        self._map: dict[str, list[Record]] = {}

    def invalidate(self) -> None:
        self._source = None

    def lookup(self, records: RecordList, value: Any) -> list[Record]:
        if self._source is not records or self._version != records.version:
            self._map = {}
            for rec in records:
                self._map.setdefault(norm(rec.get(self.field)), []).append(rec)
            self._source, self._version = records, records.version
        key = norm(value)
        # Re-check: a record whose key field was edited in place no longer matches.
        return [r for r in self._map.get(key, ()) if norm(r.get(self.field)) == key]
