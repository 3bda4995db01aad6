"""Refused input said in words: the one place that turns pydantic's errors into the API's.

A refused value is answered with what its field allows (``region must be "AU" or "NZ"``).
Pydantic's own messages name its internals instead: union branches (``literal['AU','NZ']``,
``none``), validator functions (``function-before[...]``), regular expressions. So a model may
carry its rule in words on each field (:func:`allows`) and name its fields for an unknown one
(:func:`fields_named`); :func:`describe_validation` makes sentences of whatever errors result,
those words or pydantic's own error types said the same way. No message carries the value sent:
it may be a secret.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, get_args

from pydantic import BaseModel, ValidationError, ValidatorFunctionWrapHandler, WrapValidator
from pydantic_core import InitErrorDetails, PydanticCustomError
from pydantic_core.core_schema import ErrorType

# Our error types: a field's rule in words, and a field the model does not have.
RULE_ERROR = "invalid_setting"
UNKNOWN_FIELD = "unknown_setting"


def refusal(kind: str, text: str) -> PydanticCustomError:
    """An error of ``kind`` whose message is ``text``, said as it is."""
    # The text goes in as context: as the template itself, braces in it would be placeholders.
    return PydanticCustomError(kind, "{allowed}", {"allowed": text})


def allows(rule: str, *, nullable: bool, left_out: str = "to keep the current value") -> WrapValidator:
    """Outermost validator of a field: any failure answers ``rule`` ("must be ...").

    ``nullable=False`` fields take ``null`` in their type only so that "left out" can default to
    None; a ``null`` sent is refused here, before the type is tried, saying what leaving the
    field out does (``left_out``).
    """

    def check(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
        if value is None and not nullable:
            raise refusal(RULE_ERROR, f"{rule}, not null (leave it out {left_out})")
        try:
            return handler(value)
        except ValidationError as exc:
            # A rule inside the field that says more (an URL's host: upstream_url_refusal) is kept.
            said = next((e["msg"] for e in exc.errors() if e["type"] == RULE_ERROR), rule)
            raise refusal(RULE_ERROR, said) from None

    return WrapValidator(check)


def fields_named(
    model: type[BaseModel], data: Any, handler: ValidatorFunctionWrapHandler, what: str, known: str
) -> Any:
    """For a model's wrap validator: a field it does not have is refused naming the ones it has
    (pydantic says only "Extra inputs are not permitted"), and no error keeps the value sent
    (``errors()`` would carry it, a secret perhaps, to whoever logs them)."""
    try:
        return handler(data)
    except ValidationError as exc:
        *rest, last = model.model_fields
        names = f"{', '.join(rest)} and {last}"
        details = [_without_input(err, f"is not {what}; {known} are {names}") for err in exc.errors()]
        raise ValidationError.from_exception_data(exc.title, details, hide_input=True) from None


def _without_input(err: Any, unknown: str) -> InitErrorDetails:
    if err["type"] == "extra_forbidden":
        return {"type": refusal(UNKNOWN_FIELD, unknown), "loc": err["loc"], "input": None}
    if err["type"] in (RULE_ERROR, UNKNOWN_FIELD):
        return {"type": refusal(err["type"], err["msg"]), "loc": err["loc"], "input": None}
    # pydantic's own (a body that is not an object): rebuilt as it was
    return {"type": err["type"], "loc": err["loc"], "input": None, "ctx": err.get("ctx") or {}}


# Pydantic's error types said as what the field must be. Its own messages ("Input should be a
# valid boolean", "String should match pattern '^...$'") and the union branches in its locations
# ("literal['AU','NZ']", "function-before[...]", "none") are its internals, not the API's words.
_PHRASES: dict[str, str] = {
    "missing": "is required",
    "extra_forbidden": "is not a field of this request",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "string_type": "must be a string",
    "string_too_short": "must have at least {min_length} characters",
    "string_too_long": "must have at most {max_length} characters",
    "string_pattern_mismatch": "has characters or a form this field does not allow",
    "too_short": "must have at least {min_length} items",
    "too_long": "must have at most {max_length} items",
    "greater_than_equal": "must be at least {ge}",
    "greater_than": "must be more than {gt}",
    "less_than_equal": "must be at most {le}",
    "less_than": "must be less than {lt}",
    "literal_error": "must be {expected}",
    "enum": "must be {expected}",
    "none_required": "must be null",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "dict_type": "must be a JSON object",
    "list_type": "must be a JSON array",
    "json_invalid": "is not valid JSON",
    "json_type": "must be JSON",
}
_PYDANTIC_TYPES = frozenset(get_args(ErrorType))
_PYTHON_PREFIXES = ("Value error, ", "Assertion failed, ")
# Union branches pydantic writes into a location: not field names of ours (all snake_case).
_BRANCH = re.compile(r"[^a-z0-9_]|^(none|bool|int|float|str|bytes|list|dict|set|tuple)$")
MAX_NAME = 60


def _phrase(err: Mapping[str, Any]) -> str:
    kind = str(err.get("type", ""))
    ctx = err.get("ctx") or {}
    if kind in ("string_too_short", "too_short") and ctx.get("min_length") == 1:
        return "must not be empty"
    if kind in _PHRASES:
        try:
            # Literal choices come as 'AU' or 'NZ': said as the JSON strings they are.
            values = {k: str(v).replace("'", '"') for k, v in ctx.items()}
            return _PHRASES[kind].format(**values)
        except (KeyError, IndexError):
            return _PHRASES[kind].split(" {")[0]
    msg = str(err.get("msg") or "")
    for prefix in _PYTHON_PREFIXES:
        if msg.startswith(prefix):
            return msg.removeprefix(prefix)
    if kind in _PYDANTIC_TYPES or not msg:
        return "is not valid"
    return msg  # ours (allows, fields_named): already "must be ..." in words


def _path(err: Mapping[str, Any]) -> str:
    loc = list(err.get("loc", ()))
    if loc[:1] == ["body"]:
        loc = loc[1:]
    last = len(loc) - 1
    path = ""
    for i, part in enumerate(loc):
        if isinstance(part, int):
            path += f"[{part}]"
            continue
        name = str(part)
        # A name the caller sent (the unknown field) is kept whatever it is; a branch is dropped.
        sent = i == last and err.get("type") in ("extra_forbidden", UNKNOWN_FIELD)
        if _BRANCH.search(name) and not sent:
            continue
        if len(name) > MAX_NAME:
            name = name[: MAX_NAME - 3] + "..."
        path += f".{name}" if path else name
    return path


def describe_validation(errors: list[Any]) -> str:
    """Validation errors as sentences a person reads: each names its field and what it allows
    (``region must be "AU" or "NZ"``), never pydantic's internals, and never the value sent (it
    may be a secret)."""
    found: dict[str, list[tuple[str, str]]] = {}
    for err in errors:
        found.setdefault(_path(err), []).append((str(err.get("type", "")), _phrase(err)))
    sentences: list[str] = []
    for path, problems in found.items():
        # A union's None branch failing says nothing when another branch says what was wrong.
        if any(kind != "none_required" for kind, _ in problems):
            problems = [p for p in problems if p[0] != "none_required"]
        for _, phrase in problems:
            sentence = f"{path} {phrase}" if path else f"The body {phrase}"
            if sentence not in sentences:
                sentences.append(sentence)
    more = f" (and {len(sentences) - 5} more)" if len(sentences) > 5 else ""
    return "; ".join(sentences[:5]) + more + "."
