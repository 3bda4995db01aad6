"""The Halo fake's record tables: id → record, with an index by `client_id` kept in step.

Sites and licences are looked up by their client on every filtered list and every rename, so
the index keeps those lookups from scanning every record of a large fake.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

Record = dict[str, Any]


def id_key(value: Any) -> Any:
    """Normalise an id for comparison: Halo ids may arrive as 5, 5.0 or "5"."""
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return value


class Table(dict[int, Record]):
    """id → record, with an optional index by one field (`client_id`) kept in step on writes.

    Item assignment (`table[id] = record`) updates the index; in-place edits of the indexed
    field of a stored record are not seen until `reindex()` (lookups re-check the field, so a
    moved record is never returned for its old value).
    """

    def __init__(self, index_field: str | None = None) -> None:
        super().__init__()
        self.index_field = index_field
        self._index: dict[Any, dict[int, None]] = {}
        self._indexed: dict[int, Any] = {}
        self._next_id = 1

    def __setitem__(self, key: int, record: Record) -> None:
        super().__setitem__(key, record)
        self._next_id = max(self._next_id, key + 1)
        if self.index_field is not None:
            self._unindex(key)
            value = id_key(record.get(self.index_field))
            self._index.setdefault(value, {})[key] = None
            self._indexed[key] = value

    def __delitem__(self, key: int) -> None:
        super().__delitem__(key)
        self._unindex(key)

    def _unindex(self, key: int) -> None:
        if key in self._indexed:
            self._index.get(self._indexed.pop(key), {}).pop(key, None)

    def next_id(self) -> int:
        """The next free integer id (ids are never reused)."""
        while self._next_id in self:
            self._next_id += 1
        return self._next_id

    def reindex(self) -> None:
        """Rebuild the index from scratch (after bulk `dict` methods or in-place edits)."""
        self._index.clear()
        self._indexed.clear()
        for key, record in self.items():
            self[key] = record

    def ids_where(self, value: Any) -> list[int]:
        """Ids whose indexed field equals `value`, sorted."""
        field = self.index_field
        if field is None:
            raise TypeError("table has no index")
        if len(self._indexed) != len(self):  # changed behind our back (update/pop/clear)
            self.reindex()
        key = id_key(value)
        ids = self._index.get(key, {})
        return sorted(i for i in ids if i in self and id_key(self[i].get(field)) == key)


class TableAttr:
    """Attribute holding a `Table`: assigning any mapping (`fake.clients = {}`) re-wraps it,
    so tests can replace data wholesale without losing the index."""

    def __init__(self, index_field: str | None = None) -> None:
        self.index_field = index_field
        self.slot = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.slot = f"_{name}"

    def __get__(self, obj: Any, objtype: type | None = None) -> Table:
        table: Table = getattr(obj, self.slot)
        return table

    def __set__(self, obj: Any, records: Mapping[int, Record]) -> None:
        table = Table(self.index_field)
        for key, record in records.items():
            table[key] = record
        setattr(obj, self.slot, table)
