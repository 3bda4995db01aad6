"""Check one request against Halo's published OpenAPI document (vendored in `reference/`).

Why: a fake that accepts whatever it is sent hides requests that real Halo refuses or silently
ignores (a list-only flag on a single GET, a misspelt field, a string where an integer belongs).
The document is Halo's own description of its API, so the check does not mirror our product
code: it answers which parts of a request the document does not declare.

Rules, as ASP.NET (which Halo runs on) applies them:

- the path (case-insensitive, below the document's server URL `/api`) and the method exist;
  a `{name}` template matches one segment, whose value must fit the declared type;
- each query parameter is declared for that path and method (case-insensitive name) and its
  value fits the document's (non-standard) type names: `bool`, `int`, `string`, `List<int>`;
- a write body has a declared media type and matches the declared schema: only declared
  properties where `additionalProperties` is false, the declared JSON type for each value
  (`integer` never a bool or float), `null` only where `nullable`; `format` and `readOnly` are
  not checked (a "2025-01-31" date is fine for a `date-time` string).

`/auth/token` belongs to Halo's OAuth server, not to this document: it is not checked here.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final
from urllib.parse import parse_qsl

#: The vendored, byte-identical copy of `../shared/reference/halo-openapi.json`.
DOCUMENT_PATH: Final = Path(__file__).resolve().parent / "reference" / "halo-openapi.json"
#: A request with more problems than this reports the first ones and how many more.
MAX_PROBLEMS: Final = 20

_INT = re.compile(r"-?[0-9]+")
_INT_LIST = re.compile(r"-?[0-9]+(?:,-?[0-9]+)*")

#: Parameter type names the document uses → whether a raw (query or path) value fits.
#: `integer` is the standard name (used for path ids); the others are Halo's own.
PARAMETER_TYPES: Final[dict[str, Callable[[str], bool]]] = {
    "bool": lambda value: value.lower() in ("true", "false"),
    "int": lambda value: _INT.fullmatch(value) is not None,
    "integer": lambda value: _INT.fullmatch(value) is not None,
    "string": lambda value: True,
    "List<int>": lambda value: _INT_LIST.fullmatch(value) is not None,
}

_ABSENT: Final = object()


@dataclass(frozen=True)
class _Param:
    name: str
    location: str
    type: str
    required: bool


@dataclass(frozen=True)
class _Operation:
    method: str
    template: str
    #: Query parameters by lower-cased name (ASP.NET binds them case-insensitively).
    query: dict[str, _Param]
    #: Path parameters by their exact template name.
    path: dict[str, _Param]
    #: Media type → body schema; None when the operation takes no body.
    body: dict[str, Any] | None

    @property
    def label(self) -> str:
        return f"{self.method} {self.template}"


@dataclass
class _Route:
    template: str
    #: Lower-cased literal segments, or None where the template has a `{name}`.
    literals: tuple[str | None, ...]
    names: tuple[str | None, ...]
    operations: dict[str, _Operation] = field(default_factory=dict)

    def matches(self, segments: list[str]) -> bool:
        return len(segments) == len(self.literals) and all(
            (lit is None and seg != "") or lit == seg.lower()
            for lit, seg in zip(self.literals, segments, strict=True)
        )


def _json_type(value: Any) -> str:
    """The JSON type name of a parsed JSON value, as the document spells types."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


#: JSON schema type → whether a parsed JSON value has it.
_JSON_TYPES: Final[dict[str, Callable[[Any], bool]]] = {
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "boolean": lambda v: isinstance(v, bool),
    "string": lambda v: isinstance(v, str),
    "array": lambda v: isinstance(v, list),
    "object": lambda v: isinstance(v, dict),
}


def _media_type_matches(declared: str, given: str) -> bool:
    """`application/json` matches itself; `application/*+json` any `application/<x>+json`."""
    pattern = re.escape(declared.lower()).replace(r"\*", "[^/]+")
    return re.fullmatch(pattern, given) is not None


class HaloOpenApi:
    """An OpenAPI document compiled for request checks; `check` answers readable problems."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        servers = document.get("servers") or [{"url": "/"}]
        self.base_path = "/" + str(servers[0].get("url", "/")).strip("/")
        self.routes: list[_Route] = []
        for template, item in (document.get("paths") or {}).items():
            segments = template.strip("/").split("/")
            names = tuple(s[1:-1] if s.startswith("{") and s.endswith("}") else None for s in segments)
            route = _Route(
                template,
                tuple(None if n is not None else s.lower() for s, n in zip(segments, names, strict=True)),
                names,
            )
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method == "parameters" or not isinstance(op, dict):
                    continue
                route.operations[method.upper()] = self._operation(method.upper(), template, shared, op)
            self.routes.append(route)
        # A literal segment beats a template (`/Client/me` over `/Client/{id}`), as in routing.
        self.routes.sort(key=lambda r: sum(lit is None for lit in r.literals))

    @staticmethod
    def _operation(method: str, template: str, shared: list[Any], op: Mapping[str, Any]) -> _Operation:
        query: dict[str, _Param] = {}
        path: dict[str, _Param] = {}
        for raw in [*shared, *op.get("parameters", [])]:
            kind = str((raw.get("schema") or {}).get("type", "string"))
            if kind not in PARAMETER_TYPES:  # a new type name: teach PARAMETER_TYPES, never guess
                raise ValueError(
                    f"{method} {template}: unknown parameter type {kind!r} of {raw.get('name')!r}"
                )
            param = _Param(str(raw["name"]), str(raw["in"]), kind, bool(raw.get("required")))
            if param.location == "query":
                query[param.name.lower()] = param
            elif param.location == "path":
                path[param.name] = param
        body = None
        if "requestBody" in op:
            body = {
                media.lower(): content.get("schema", {})
                for media, content in (op["requestBody"].get("content") or {}).items()
            }
        return _Operation(method, template, query, path, body)

    # -- the check -------------------------------------------------------------------------

    def check(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        *,
        content_type: str | None = None,
        body: bytes | str = b"",
        json_body: Any = _ABSENT,
    ) -> list[str]:
        """Problems of one request (empty = it conforms to the document).

        `path` is as sent (`/api/Client/5`, a `?query` is read too); `body` the raw bytes, or
        `json_body` an already parsed value (then `content_type` defaults to application/json).
        """
        problems = self._check(method.upper(), path, query, content_type, body, json_body)
        if len(problems) > MAX_PROBLEMS:
            extra = len(problems) - MAX_PROBLEMS
            problems = [*problems[:MAX_PROBLEMS], f"... and {extra} more"]
        return problems

    def _check(
        self,
        method: str,
        path: str,
        query: Mapping[str, str] | Iterable[tuple[str, str]] | None,
        content_type: str | None,
        body: bytes | str,
        json_body: Any,
    ) -> list[str]:
        path, _, query_string = path.partition("?")
        pairs = list(query.items() if isinstance(query, Mapping) else query or [])
        pairs += parse_qsl(query_string, keep_blank_values=True)
        base = self.base_path.lower()
        low = path.lower()
        if base != "/" and not (low == base or low.startswith(base + "/")):
            return [f"path {path} is not under Halo's API root {self.base_path}"]
        rest = path[len(base) :] if base != "/" else path
        segments = rest.strip("/").split("/") if rest.strip("/") else []
        route = next((r for r in self.routes if r.matches(segments)), None)
        if route is None:
            return [f"path /{'/'.join(segments)} is not in Halo's API document"]
        op = route.operations.get(method)
        if op is None:
            allowed = ", ".join(route.operations)
            return [f"method {method} is not allowed on {route.template} (the document has {allowed})"]
        problems: list[str] = []
        for name, value in zip(route.names, segments, strict=True):
            if name is None:
                continue
            param = op.path.get(name)
            if param is not None and not PARAMETER_TYPES[param.type](value):
                problems.append(f"path parameter {name}={value!r} is not a valid {param.type}")
        problems += self._check_query(op, pairs)
        problems += self._check_body(op, content_type, body, json_body)
        return problems

    @staticmethod
    def _check_query(op: _Operation, pairs: list[tuple[str, str]]) -> list[str]:
        problems: list[str] = []
        seen = set()
        for name, value in pairs:
            param = op.query.get(name.lower())
            if param is None:
                problems.append(f"query parameter {name!r} is not declared for {op.label}")
                continue
            seen.add(name.lower())
            if not PARAMETER_TYPES[param.type](value):
                problems.append(f"query parameter {name}={value!r} is not a valid {param.type}")
        problems += [
            f"query parameter {p.name!r} is required by {op.label}"
            for key, p in op.query.items()
            if p.required and key not in seen
        ]
        return problems

    def _check_body(
        self, op: _Operation, content_type: str | None, body: bytes | str, parsed: Any
    ) -> list[str]:
        has_body = parsed is not _ABSENT or bool(body)
        if op.body is None:
            return [f"{op.label} takes no request body"] if has_body else []
        if not has_body:
            return [f"{op.label} needs a request body"]
        if content_type is None and parsed is not _ABSENT:
            content_type = "application/json"
        media = (content_type or "").split(";")[0].strip().lower()
        schema = next((s for d, s in op.body.items() if _media_type_matches(d, media)), None)
        if schema is None:
            declared = ", ".join(op.body)
            return [f"Content-Type {content_type or '(none)'!r} is not accepted by {op.label} ({declared})"]
        if parsed is _ABSENT:
            try:
                parsed = json.loads(body)
            except ValueError as exc:
                return [f"request body is not valid JSON: {exc}"]
        problems: list[str] = []
        self._validate(parsed, schema, "body", problems)
        return problems

    def _resolve(self, schema: Mapping[str, Any]) -> tuple[Mapping[str, Any], str | None]:
        """Follow `$ref`s; answers the schema and the name of the last component followed."""
        name = None
        while "$ref" in schema:
            ref = str(schema["$ref"])
            if not ref.startswith("#/"):
                raise ValueError(f"only local $refs are supported, not {ref!r}")
            target: Any = self.document
            for part in ref[2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            schema, name = target, ref.rsplit("/", 1)[-1]
        return schema, name

    def _validate(self, value: Any, schema: Mapping[str, Any], where: str, problems: list[str]) -> None:
        # OpenAPI 3.0 ignores siblings of `$ref`, so a referenced object is never nullable.
        nullable = bool(schema.get("nullable")) and "$ref" not in schema
        schema, name = self._resolve(schema)
        if value is None:
            if not nullable:
                problems.append(f"{where}: null is not allowed here (not nullable)")
            return
        kind = schema.get("type")
        if kind is None:
            return  # untyped: any value
        fits = _JSON_TYPES.get(str(kind))
        if fits is None:
            raise ValueError(f"{where}: unknown schema type {kind!r}")
        if not fits(value):
            problems.append(f"{where}: expected {name or kind}, got {_json_type(value)} {_short(value)}")
            return
        if "enum" in schema and value not in schema["enum"]:
            problems.append(f"{where}: {_short(value)} is not one of the values {name or 'it'} allows")
        if kind == "string" and "maxLength" in schema and len(value) > int(schema["maxLength"]):
            problems.append(f"{where}: longer than {schema['maxLength']} characters")
        elif kind == "array":
            items = schema.get("items") or {}
            for n, item in enumerate(value):
                self._validate(item, items, f"{where}[{n}]", problems)
        elif kind == "object":
            self._validate_object(value, schema, name, where, problems)

    def _validate_object(
        self,
        value: dict[str, Any],
        schema: Mapping[str, Any],
        name: str | None,
        where: str,
        problems: list[str],
    ) -> None:
        properties: Mapping[str, Any] = schema.get("properties") or {}
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in properties:
                self._validate(item, properties[key], f"{where}.{key}", problems)
            elif extra is False:
                problems.append(f"{where}: {key!r} is not a property of {name or 'this object'}")
            elif isinstance(extra, Mapping):
                self._validate(item, extra, f"{where}.{key}", problems)
        problems += [
            f"{where}: {key!r} is required by {name or 'this object'}"
            for key in schema.get("required") or ()
            if key not in value
        ]


@functools.cache
def load(path: Path = DOCUMENT_PATH) -> HaloOpenApi:
    """The compiled document at `path` (the vendored one by default), read once per process."""
    return HaloOpenApi(json.loads(path.read_bytes()))


def check_request(
    method: str,
    path: str,
    query: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
    *,
    content_type: str | None = None,
    body: bytes | str = b"",
    json_body: Any = _ABSENT,
) -> list[str]:
    """Problems of one request against Halo's vendored document (see `HaloOpenApi.check`)."""
    return load().check(method, path, query, content_type=content_type, body=body, json_body=json_body)
