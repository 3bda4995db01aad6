"""What `make serve`'s state file must hold (`local.serve.state_file.StateFile` reads and writes
it), and, when it does not, one sentence saying where and what is wrong.

A file that does not fit is refused, never partly used: what a start could not put back would be
gone at the next save, and what it does put back is trusted (its ``seeded`` fingerprints say the
credentials are stored already, so they are not seeded again).
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, ClassVar, Self, TypedDict

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    ValidationError,
    field_validator,
    model_validator,
    with_config,
)
from pydantic_core import ErrorDetails

STATE_VERSION = 1
# The bundled Halo fake's records (its public tables), kept with the state (`fakes.halo`) so that
# mappings and links to clients an import created there still point at them after a restart.
HALO_FAKE_TABLES = ("toplevels", "clients", "sites", "licences", "items", "invoices", "invoice_lines")
# DynamoDB's attribute value types, as its JSON protocol writes them.
TYPES = ("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS")


# -- the shape --------------------------------------------------------------------------------


class _Part(BaseModel):
    """A part of the file: no key it does not know (it would be lost at the next save), every
    value of exactly its JSON type (nothing is converted)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    expected: ClassVar[str] = "an object"


def _number(value: str) -> str:
    try:
        if Decimal(value).is_finite():
            return value
    except InvalidOperation:
        pass
    raise ValueError('must be a number written as text, such as "3"')


def _base64(value: str) -> str:
    try:
        base64.b64decode(value, validate=True)
    except binascii.Error:
        raise ValueError("must be base64 text") from None
    return value


def _true(value: bool) -> bool:
    if not value:
        raise ValueError("must be true")
    return value


def _set(values: list[str]) -> list[str]:
    """DynamoDB refuses an empty set or one with a repeat."""
    if not values or len(set(values)) != len(values):
        raise ValueError("must be a set: at least one value, none twice")
    return values


Number = Annotated[str, AfterValidator(_number)]
Base64Text = Annotated[str, AfterValidator(_base64)]


@with_config(ConfigDict(extra="forbid", strict=True))
class _TypedValueFields(TypedDict, total=False):
    """DynamoDB's types. A TypedDict, not a model: a file holds hundreds of thousands of typed
    values, and checking them as dicts takes about a ninth of the time of making a model of
    each (0.25 s rather than 2.2 s for 20,000 items)."""

    S: str
    N: Number
    B: Base64Text
    BOOL: bool
    NULL: Annotated[bool, AfterValidator(_true)]
    M: dict[str, TypedValue]
    L: list[TypedValue]
    SS: Annotated[list[str], AfterValidator(_set)]
    NS: Annotated[list[Number], AfterValidator(_set)]
    BS: Annotated[list[Base64Text], AfterValidator(_set)]


def _one_type(value: _TypedValueFields) -> _TypedValueFields:
    if len(value) != 1:
        raise ValueError(f"must hold exactly one of {', '.join(TYPES)}, not {len(value)}")
    return value


# One DynamoDB attribute value, as `LocalAws.snapshot` writes it (`{"S": "text"}`).
TypedValue = Annotated[_TypedValueFields, AfterValidator(_one_type)]
TYPED_VALUE = 'a DynamoDB typed value such as {"S": "text"}'


class SecretValue(_Part):
    """A secret's value, as `LocalAws.snapshot` writes it."""

    expected: ClassVar[str] = 'an object {"SecretString": text} or {"SecretBinary": base64 text}'
    SecretString: str | None = None
    SecretBinary: str | None = None

    @field_validator("SecretBinary")
    @classmethod
    def _binary(cls, value: str | None) -> str | None:
        return None if value is None else _base64(value)

    @model_validator(mode="after")
    def _one_value(self) -> Self:
        if (self.SecretString is None) == (self.SecretBinary is None):
            raise ValueError('must hold exactly one of "SecretString" or "SecretBinary"')
        return self


class HaloKeyed(BaseModel):
    """A record of the bundled Halo fake kept by its id (a recurring invoice or one of its lines)."""

    model_config = ConfigDict(extra="allow", strict=True)
    expected: ClassVar[str] = 'a Halo record (an object with an "id")'
    id: int


class HaloRecord(HaloKeyed):
    """A record of the bundled Halo fake: what it looks records up by; the rest is Halo's."""

    expected: ClassVar[str] = 'a Halo record (an object with an "id" and a "name")'
    name: str


def _kept_under_ids[R: HaloKeyed](records: dict[str, R]) -> dict[str, R]:
    """The fake finds a record by the key it is restored under, so that must be its id."""
    for key, record in records.items():
        if key != str(record.id):
            raise ValueError(
                f'keeps the record with the "id" {record.id} under "{_short(key)}": '
                "a record is kept under its own id"
            )
    return records


HaloTable = Annotated[dict[str, HaloRecord], AfterValidator(_kept_under_ids)]
HaloKeyedTable = Annotated[dict[str, HaloKeyed], AfterValidator(_kept_under_ids)]


class HaloFakeRecords(_Part):
    expected: ClassVar[str] = "an object of table (" + ", ".join(HALO_FAKE_TABLES) + ") -> records"
    toplevels: HaloTable = {}
    clients: HaloTable = {}
    sites: HaloTable = {}
    licences: HaloTable = {}
    items: HaloTable = {}
    invoices: HaloKeyedTable = {}
    invoice_lines: HaloKeyedTable = {}


class Fakes(_Part):
    expected: ClassVar[str] = 'an object {"halo": {table: {id: record}}}'
    halo: HaloFakeRecords | None = None


class StateDocument(_Part):
    """The whole file (version 1)."""

    version: int
    saved_at: str | None = None
    note: str | None = None
    tables: dict[str, list[dict[str, TypedValue]]] = {}
    secrets: dict[str, SecretValue] = {}
    seeded: dict[str, str] = {}
    upstreams: dict[str, str] = {}
    fakes: Fakes = Fakes()


# -- what is wrong, in one sentence -----------------------------------------------------------

_MODELS: dict[str, str] = {
    model.__name__: model.expected for model in (SecretValue, HaloKeyed, HaloRecord, HaloFakeRecords, Fakes)
}
# What a container is, by where it is ("*" any key, "#" any position in a list).
_CONTAINERS: dict[tuple[str, ...], str] = {
    ("tables",): "an object of table name -> list of items",
    ("tables", "*"): "a list of items",
    ("tables", "*", "#"): "an object of attribute name -> typed value",
    ("secrets",): "an object of secret name -> value",
    ("seeded",): "an object of setting -> fingerprint",
    ("upstreams",): 'an object of upstream -> URL or "bundled fake"',
    ("fakes", "halo", "*"): "an object of record id -> record",
}
_TYPE_ERRORS = {
    "dict_type": "an object",
    "list_type": "a list",
    "string_type": "text",
    "int_type": "a whole number",
    "bool_type": "true or false",
}
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
_LONGEST_KEY = 40
_DEEPEST_SHOWN = 12


def _short(key: str) -> str:
    """A key as shown: a hostile file's key may be a megabyte long."""
    return key if len(key) <= _LONGEST_KEY else key[: _LONGEST_KEY - 1] + "\u2026"


def where(loc: Sequence[int | str]) -> str:
    """A place in the file, as a quoted path: ``"tables.Table[3].pk"`` (a deep one shortened)."""
    parts = list(loc)
    if len(parts) > _DEEPEST_SHOWN:
        parts = [*parts[: _DEEPEST_SHOWN - 3], "\u2026", *parts[-2:]]
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part) or part == "\u2026":
            path += f".{_short(part)}" if path else _short(part)
        else:
            path += f"[{json.dumps(_short(part))}]"
    return f'"{path}"' if path else "the top level"


def _kind(value: Any) -> str:
    """What a value is, never what a text holds (it may be a credential)."""
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    kinds: dict[type, str] = {str: "a string", list: "a list", dict: "an object"}
    return kinds.get(type(value), type(value).__name__)


def _matches(pattern: tuple[str, ...], loc: tuple[int | str, ...]) -> bool:
    return len(pattern) == len(loc) and all(
        p == "#" if isinstance(part, int) else p in ("*", part) for p, part in zip(pattern, loc, strict=True)
    )


def _in_typed_value(loc: tuple[int | str, ...]) -> bool:
    """Whether ``loc`` is an item's attribute, or a value within an attribute's map or list."""
    return loc[:1] == ("tables",) and len(loc) >= 4 and (len(loc) == 4 or loc[-2] in ("M", "L"))


def _expected(error: ErrorDetails) -> str | None:
    loc = tuple(error["loc"])
    if error["type"] == "dict_type" and _in_typed_value(loc):
        return TYPED_VALUE
    if error["type"] == "model_type":
        return _MODELS.get(str(error.get("ctx", {}).get("class_name")))
    for pattern, text in _CONTAINERS.items():
        if _matches(pattern, loc):
            return text
    return _TYPE_ERRORS.get(error["type"])


def describe(error: ErrorDetails) -> str:
    """One pydantic error as the middle of the sentence: where, and what is wrong there."""
    loc = tuple(error["loc"])
    if error["type"] in ("extra_forbidden", "missing") and loc:
        owner, key = where(loc[:-1]), json.dumps(_short(str(loc[-1])))
        unknown = error["type"] == "extra_forbidden"
        return f"{owner} has an unknown key {key}" if unknown else f"{owner} has no {key}"
    if error["type"] == "recursion_loop":  # pydantic's guard against endless nesting
        return f"{where(loc)} is nested too deeply"
    if error["type"] == "value_error":
        return f"{where(loc)} {error.get('ctx', {}).get('error', error['msg'])}"
    expected = _expected(error)
    if expected is None:
        return f"{where(loc)} is not valid ({error['msg']})"
    return f"{where(loc)} must be {expected}, not {_kind(error['input'])}"


def version_problem(state: Any) -> str | None:
    """Why a parsed file is not one this runner reads, as what the file "is not", or None."""
    if not isinstance(state, dict):
        return f"is not a version {STATE_VERSION} state file (it holds {_kind(state)}, not an object)"
    version = state.get("version")
    if type(version) is int and version == STATE_VERSION:
        return None
    found = f'its "version" is {_kind(version)}' if "version" in state else 'it has no "version"'
    return f"is not a version {STATE_VERSION} state file ({found})"


def shape_problem(state: dict[str, Any]) -> str | None:
    """What is wrong with a version 1 file's shape (the first thing found), or None."""
    try:
        StateDocument.model_validate(state)
    except ValidationError as exc:
        return describe(exc.errors(include_url=False)[0])
    return None


# -- what the template has --------------------------------------------------------------------


@dataclass(frozen=True)
class TableKeys:
    """A table's key attributes and the type each attribute of its keys (indexes too) must have."""

    key: tuple[str, ...]
    types: Mapping[str, str]

    @classmethod
    def of(cls, properties: Mapping[str, Any]) -> TableKeys:
        """From an ``AWS::DynamoDB::Table``'s properties (none known for any other table)."""
        key = tuple(str(k.get("AttributeName")) for k in properties.get("KeySchema") or ())
        defined = properties.get("AttributeDefinitions") or ()
        return cls(key, {str(a.get("AttributeName")): str(a.get("AttributeType")) for a in defined})


def _names_problem(part: str, saved: Mapping[str, Any], template: Sequence[str]) -> str | None:
    """A table or secret the template does not have would be dropped by the next save; one it
    has but the file does not would start empty while ``seeded`` says it holds the values."""
    for name in saved:
        if name not in template:
            return (
                f'"{part}" has {json.dumps(_short(name))}, which the template does not have '
                "(the next save would drop it)"
            )
    for name in template:
        if name not in saved:
            return f'"{part}" has no {json.dumps(name)}, which the template has (it would start empty)'
    return None


def _items_problems(table: str, items: list[dict[str, Any]], keys: TableKeys) -> Iterator[str]:
    """What DynamoDB would refuse of these items' keys, or keep only once (a repeated key)."""
    seen: dict[str, int] = {}
    for index, item in enumerate(items):
        place = ("tables", table, index)
        for name in keys.key:
            if name not in item:
                yield f'{where(place)} has no "{name}", a key attribute of the table'
        for name, wanted in keys.types.items():
            given = next(iter(item[name]), None) if name in item else wanted
            if given != wanted:
                defined = "(the table defines it so)"
                yield f"{where((*place, name))} must be of type {wanted} {defined}, not {given}"
        identity = json.dumps([item.get(name) for name in keys.key], sort_keys=True)
        if identity in seen:
            yield f"{where(place)} has the same key as {where(('tables', table, seen[identity]))}"
        seen.setdefault(identity, index)


def template_problem(
    state: Mapping[str, Any], tables: Mapping[str, TableKeys], secrets: Sequence[str]
) -> str | None:
    """What a well-shaped state does not fit of the template it is to be restored into, or None."""
    saved_tables: dict[str, list[dict[str, Any]]] = state.get("tables") or {}
    problem = _names_problem("tables", saved_tables, list(tables)) or _names_problem(
        "secrets", state.get("secrets") or {}, secrets
    )
    if problem:
        return problem
    for table, items in saved_tables.items():
        for found in _items_problems(table, items, tables[table]):
            return found
    return None
