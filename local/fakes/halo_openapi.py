"""Check one request against Halo's published OpenAPI document (vendored in `reference/`).

Why: a fake that accepts whatever it is sent hides requests that real Halo refuses or silently
ignores (a list-only flag on a single GET, a misspelt field, a string where an integer belongs).
The document is Halo's own description of its API, so the check does not mirror our product
code: it answers which parts of a request the document does not declare.

The path and the query are checked here, as ASP.NET (which Halo runs on) binds them, which no
OpenAPI library does: openapi-core matches paths and parameter names case-sensitively, takes
`1` for a boolean, lets undeclared query parameters through, and cannot read the document's own
type names (`bool`, `int`, `List<int>`). So:

- the path (case-insensitive, below the document's server URL `/api`) and the method exist;
  a `{name}` template matches one segment, whose value must fit the declared type;
- each query parameter is declared for that path and method (case-insensitive name) and its
  value fits the document's (non-standard) type names: `bool`, `int`, `string`, `List<int>`;
- a write body has a declared media type, and matches the declared schema by
  openapi-schema-validator (`halo_body_schema`).

`/auth/token` belongs to Halo's OAuth server, not to this document: it is not checked here.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Concatenate, Final
from urllib.parse import parse_qsl

from .halo_body_schema import BodySchemas, BodyValidator

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
Query = Mapping[str, str] | Iterable[tuple[str, str]] | None


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
    #: Media type → the body schema's validator; None when the operation takes no body.
    body: dict[str, BodyValidator] | None

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


def _media_type_matches(declared: str, given: str) -> bool:
    """`application/json` matches itself; `application/*+json` any `application/<x>+json`."""
    pattern = re.escape(declared.lower()).replace(r"\*", "[^/]+")
    return re.fullmatch(pattern, given) is not None


def _route(template: str) -> _Route:
    segments = template.strip("/").split("/")
    names = tuple(s[1:-1] if s.startswith("{") and s.endswith("}") else None for s in segments)
    literals = tuple(None if n is not None else s.lower() for s, n in zip(segments, names, strict=True))
    return _Route(template, literals, names)


def _parameters(
    method: str, template: str, raw_params: list[Any]
) -> tuple[dict[str, _Param], dict[str, _Param]]:
    """(query parameters by lower-cased name, path parameters by name) of one operation."""
    query: dict[str, _Param] = {}
    path: dict[str, _Param] = {}
    for raw in raw_params:
        kind = str((raw.get("schema") or {}).get("type", "string"))
        if kind not in PARAMETER_TYPES:  # a new type name: teach PARAMETER_TYPES, never guess
            raise ValueError(f"{method} {template}: unknown parameter type {kind!r} of {raw.get('name')!r}")
        param = _Param(str(raw["name"]), str(raw["in"]), kind, bool(raw.get("required")))
        if param.location == "query":
            query[param.name.lower()] = param
        elif param.location == "path":
            path[param.name] = param
    return query, path


class HaloOpenApi:
    """An OpenAPI document compiled for request checks; `check` answers readable problems."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.document = document
        self._schemas = BodySchemas(document)
        servers = document.get("servers") or [{"url": "/"}]
        self.base_path = "/" + str(servers[0].get("url", "/")).strip("/")
        self.routes: list[_Route] = []
        for template, item in (document.get("paths") or {}).items():
            route = _route(template)
            shared = item.get("parameters", [])
            for method, op in item.items():
                if method == "parameters" or not isinstance(op, dict):
                    continue
                route.operations[method.upper()] = self._operation(method, template, shared, op)
            self.routes.append(route)
        # A literal segment beats a template (`/Client/me` over `/Client/{id}`), as in routing.
        self.routes.sort(key=lambda r: sum(lit is None for lit in r.literals))

    def _operation(self, method: str, template: str, shared: list[Any], op: Mapping[str, Any]) -> _Operation:
        query, path = _parameters(method.upper(), template, [*shared, *op.get("parameters", [])])
        body = None
        if "requestBody" in op:
            content = op["requestBody"].get("content") or {}
            where = ("paths", template, method, "requestBody", "content")
            body = {media.lower(): self._schemas.validator(*where, media, "schema") for media in content}
        return _Operation(method.upper(), template, query, path, body)

    # -- the check -------------------------------------------------------------------------

    def check(
        self,
        method: str,
        path: str,
        query: Query = None,
        *,
        content_type: str | None = None,
        body: bytes | str = b"",
        json_body: Any = _ABSENT,
    ) -> list[str]:
        """Problems of one request (empty = it conforms to the document).

        `path` is as sent (`/api/Client/5`, a `?query` is read too); `body` the raw bytes, or
        `json_body` an already parsed value (then `content_type` defaults to application/json).
        """
        path, _, query_string = path.partition("?")
        pairs = list(query.items() if isinstance(query, Mapping) else query or [])
        pairs += parse_qsl(query_string, keep_blank_values=True)
        found = self._operation_of(method.upper(), path)
        if isinstance(found, str):
            problems = [found]
        else:
            op, params = found
            problems = self._check_path(op, params)
            problems += self._check_query(op, pairs)
            problems += self._check_body(op, content_type, body, json_body)
        if len(problems) > MAX_PROBLEMS:
            extra = len(problems) - MAX_PROBLEMS
            problems = [*problems[:MAX_PROBLEMS], f"... and {extra} more"]
        return problems

    def _operation_of(self, method: str, path: str) -> tuple[_Operation, list[tuple[str, str]]] | str:
        """The operation `method path` names and its path parameters (name, value), or why none."""
        base = self.base_path.lower()
        low = path.lower()
        if base != "/" and not (low == base or low.startswith(base + "/")):
            return f"path {path} is not under Halo's API root {self.base_path}"
        rest = path[len(base) :] if base != "/" else path
        segments = rest.strip("/").split("/") if rest.strip("/") else []
        route = next((r for r in self.routes if r.matches(segments)), None)
        if route is None:
            return f"path /{'/'.join(segments)} is not in Halo's API document"
        op = route.operations.get(method)
        if op is None:
            allowed = ", ".join(route.operations)
            return f"method {method} is not allowed on {route.template} (the document has {allowed})"
        params = [
            (name, value) for name, value in zip(route.names, segments, strict=True) if name is not None
        ]
        return op, params

    @staticmethod
    def _check_path(op: _Operation, params: list[tuple[str, str]]) -> list[str]:
        problems = []
        for name, value in params:
            param = op.path.get(name)
            if param is not None and not PARAMETER_TYPES[param.type](value):
                problems.append(f"path parameter {name}={value!r} is not a valid {param.type}")
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
        validator = next((v for d, v in op.body.items() if _media_type_matches(d, media)), None)
        if validator is None:
            declared = ", ".join(op.body)
            return [f"Content-Type {content_type or '(none)'!r} is not accepted by {op.label} ({declared})"]
        if parsed is _ABSENT:
            try:
                parsed = json.loads(body)
            except ValueError as exc:
                return [f"request body is not valid JSON: {exc}"]
        return self._schemas.problems(validator, parsed)


@functools.cache
def load(path: Path = DOCUMENT_PATH) -> HaloOpenApi:
    """The compiled document at `path` (the vendored one by default), read once per process."""
    return HaloOpenApi(json.loads(path.read_bytes()))


def _on_the_vendored_document[**P](
    check: Callable[Concatenate[HaloOpenApi, P], list[str]],
) -> Callable[P, list[str]]:
    """`check` as a function of the vendored document, taking the same arguments (written once)."""

    def on_vendored(*args: P.args, **kwargs: P.kwargs) -> list[str]:
        """Problems of one request against Halo's vendored document (see `HaloOpenApi.check`)."""
        return check(load(), *args, **kwargs)

    return on_vendored


check_request = _on_the_vendored_document(HaloOpenApi.check)
