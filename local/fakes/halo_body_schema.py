"""A request body checked against its schema in Halo's OpenAPI document, by openapi-schema-validator.

The library applies OpenAPI 3.0's schema rules (`nullable`, an `integer` that is never a bool or
a float, `additionalProperties`, `required`, `enum`, `maxLength`); this module compiles a
validator per body schema and says each error as the fake's problems have always read, so a
test or a 400 answer names the place and the fault:
`body[0].toplevel_id: expected integer, got string "1"`, `body[0]: 'tenant' is not a property of
Area`. `format` and `readOnly` are not checked: Halo takes "2025-01-31" for a `date-time` string.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, Final, Protocol

from openapi_schema_validator import OAS30Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4

#: Where the document is registered, so its `#/components/...` references resolve inside it.
DOCUMENT_URI: Final = "urn:halo-openapi"
#: Sorts a problem of an object itself (a missing property) after those of its properties.
_LAST: Final = float("inf")
_JSON_TYPES: Final = (
    (bool, "boolean"),  # before int: a bool is an int to Python
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


class BodyValidator(Protocol):
    """What is used of a jsonschema validator (jsonschema ships no type hints): its errors, each
    a `jsonschema.exceptions.ValidationError`."""

    def iter_errors(self, instance: Any) -> Iterator[Any]: ...


def _pointer(parts: Iterable[str]) -> str:
    """A JSON pointer (RFC 6901) to the value found by following `parts` from the root."""
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _json_type(value: Any) -> str:
    """The JSON type name of a parsed JSON value, as the document spells types."""
    return next((name for kind, name in _JSON_TYPES if isinstance(value, kind)), type(value).__name__)


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _where(path: Sequence[str | int]) -> str:
    """`body[0].azure_tenants[1]`: the place of a value in the body."""
    return "body" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _positions(body: Any, path: Sequence[str | int]) -> tuple[float, ...]:
    """Where `path` comes when the body is read in order (array index, key's place in its
    object), so problems are listed as a reader meets them."""
    positions: list[float] = []
    node = body
    for step in path:
        positions.append(list(node).index(step) if isinstance(node, dict) else int(step))
        node = node[step]
    return tuple(positions)


class BodySchemas:
    """The body schemas of one OpenAPI document, as validators, and the names of its components
    (a problem says "expected Area" rather than "expected object")."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self._registry: Registry[Any] = Registry().with_resource(
            DOCUMENT_URI, DRAFT4.create_resource(document)
        )
        components = (document.get("components") or {}).get("schemas") or {}
        self._names = {id(schema): name for name, schema in components.items()}

    def validator(self, *where: str) -> BodyValidator:
        """The validator of the schema found by following `where` from the document's root.
        No format checker: formats are not checked."""
        reference = f"{DOCUMENT_URI}#{_pointer(where)}"
        validator: BodyValidator = OAS30Validator({"$ref": reference}, registry=self._registry)
        return validator

    def problems(self, validator: BodyValidator, body: Any) -> list[str]:
        """Each way `body` does not fit the schema, in the order a reader meets them."""
        errors = [e for e in validator.iter_errors(body) if e.instance is not None or e.validator == "type"]
        mistyped = {tuple(e.absolute_path) for e in errors if e.validator == "type"}
        found: dict[str, tuple[float, ...]] = {}
        for error in errors:
            path = tuple(error.absolute_path)
            if path in mistyped and error.validator != "type":
                continue  # a value of the wrong type has only that problem
            at = _positions(body, path)
            for text, after in self._said(error):
                found.setdefault(text, at + after)
        return sorted(found, key=found.__getitem__)

    def _said(self, error: Any) -> list[tuple[str, tuple[float, ...]]]:
        """The problems one error stands for, each with where it sorts below its value."""
        where = _where(list(error.absolute_path))
        name = self._names.get(id(error.schema))
        value, rule = error.instance, error.validator
        if rule == "type" and value is None:
            return [(f"{where}: null is not allowed here (not nullable)", ())]
        if rule == "type":
            got = f"{_json_type(value)} {_short(value)}"
            return [(f"{where}: expected {name or error.validator_value}, got {got}", ())]
        if rule == "enum":
            return [(f"{where}: {_short(value)} is not one of the values {name or 'it'} allows", ())]
        if rule == "maxLength":
            return [(f"{where}: longer than {error.validator_value} characters", ())]
        if rule == "additionalProperties":
            declared = error.schema.get("properties") or {}
            return [
                (f"{where}: {key!r} is not a property of {name or 'this object'}", (n,))
                for n, key in enumerate(value)
                if key not in declared
            ]
        if rule == "required":
            missing = [key for key in error.validator_value if key not in value]
            return [(f"{where}: {key!r} is required by {name or 'this object'}", (_LAST,)) for key in missing]
        return [(f"{where}: {error.message}", ())]
