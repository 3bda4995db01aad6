"""IAM's evaluation of identity-based policies: does a role's set of statements allow an action
on a resource? Conditions are not evaluated; a statement with one fails closed."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    items = value if isinstance(value, list) else [value]
    return tuple(item if isinstance(item, str) else json.dumps(item, sort_keys=True) for item in items)


@dataclass(frozen=True)
class Statement:
    """One statement of an identity-based policy; `None` lists mean the element is absent."""

    effect: str
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    condition: Mapping[str, Any] | None = None
    sid: str | None = None
    source: str = ""  # the policy it came from, for messages

    @classmethod
    def parse(cls, raw: Mapping[str, Any], source: str = "") -> Statement:
        def element(name: str) -> tuple[str, ...] | None:
            return _strings(raw[name]) if name in raw else None

        return cls(
            effect=str(raw.get("Effect", "")),
            actions=element("Action"),
            not_actions=element("NotAction"),
            resources=element("Resource"),
            not_resources=element("NotResource"),
            condition=raw.get("Condition") or None,
            sid=raw.get("Sid"),
            source=source,
        )

    def matches_action(self, action: str) -> bool:
        if self.actions is not None:
            return any(_glob(pattern, action, ignore_case=True) for pattern in self.actions)
        if self.not_actions is not None:
            return not any(_glob(pattern, action, ignore_case=True) for pattern in self.not_actions)
        return False

    def matches_resource(self, resource: str) -> bool:
        if self.resources is not None:
            return any(_glob(pattern, resource) for pattern in self.resources)
        if self.not_resources is not None:
            return not any(_glob(pattern, resource) for pattern in self.not_resources)
        return False

    def applies(self, action: str, resource: str) -> bool:
        return self.matches_action(action) and self.matches_resource(resource)


def statements_of(document: Mapping[str, Any], source: str = "") -> list[Statement]:
    raw = document.get("Statement") or []
    return [
        Statement.parse(s, source) for s in (raw if isinstance(raw, list) else [raw]) if isinstance(s, dict)
    ]


@functools.lru_cache(maxsize=4096)
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex + r"\Z", (re.IGNORECASE | re.DOTALL) if ignore_case else re.DOTALL)


def _glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    """IAM wildcards: `*` any run of characters (across `:` and `/`), `?` any one character."""
    return _pattern(pattern, ignore_case).match(value) is not None


@dataclass(frozen=True)
class Decision:
    allowed: bool
    explicit_deny: bool = False
    statement: Statement | None = None  # the Allow that allowed it, or the Deny that denied it
    skipped: tuple[Statement, ...] = ()  # statements with a Condition, not evaluated (fail closed)


def evaluate(statements: Iterable[Statement], action: str, resource: str) -> Decision:
    """IAM's identity-policy logic: an explicit Deny wins, else an Allow is needed, else denied.

    Conditions are not evaluated: an Allow with a Condition does not allow, a Deny with one
    denies (fail closed either way); such statements are answered in `skipped`.
    """
    allow: Statement | None = None
    skipped: list[Statement] = []
    for statement in statements:
        if not statement.applies(action, resource):
            continue
        if statement.effect == "Deny":
            if statement.condition:
                skipped.append(statement)
            return Decision(False, explicit_deny=True, statement=statement, skipped=tuple(skipped))
        if statement.effect == "Allow":
            if statement.condition:
                skipped.append(statement)
            elif allow is None:
                allow = statement
    return Decision(allow is not None, statement=allow, skipped=tuple(skipped))
