"""API Gateway's route selection for the template's HttpApi routes: which route a request
reaches, with its path parameters, and which methods a path allows (a 405, not a 404)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

from local.template import DEFAULT_ROUTE, Route


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    pattern: re.Pattern[str]
    names: tuple[str, ...]

    @property
    def rank(self) -> tuple[bool, bool, int, bool]:
        """API Gateway prefers exact paths, then fewer placeholders, then a named method."""
        path = self.route.path
        return (
            path == DEFAULT_ROUTE,
            "+}" in path,
            -path.count("/") + path.count("{"),
            self.route.method == "ANY",
        )


def _compile(route: Route) -> _CompiledRoute:
    if route.path == DEFAULT_ROUTE:
        return _CompiledRoute(route, re.compile(r".*"), ())
    names: list[str] = []
    regex = ""
    for piece in re.split(r"(\{[^}]+\})", route.path):
        if piece.startswith("{") and piece.endswith("}"):
            greedy = piece.endswith("+}")
            names.append(piece[1 : -2 if greedy else -1])
            regex += "(.+)" if greedy else "([^/]+)"
        else:
            regex += re.escape(piece)
    return _CompiledRoute(route, re.compile(regex), tuple(names))


class Router:
    """Matches `METHOD /path` against the template's HttpApi routes."""

    def __init__(self, routes: list[Route]) -> None:
        self._routes = sorted((_compile(r) for r in routes), key=lambda c: c.rank)

    def match(self, method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
        for compiled in self._routes:
            if compiled.route.method not in ("ANY", method):
                continue
            found = compiled.pattern.fullmatch(raw_path)
            if found:
                return compiled.route, {
                    n: unquote(v) for n, v in zip(compiled.names, found.groups(), strict=True)
                }
        return None

    def allowed(self, raw_path: str) -> list[str]:
        """The methods of the most specific route path matching this path (for a 405, not a 404)."""
        matching = [c for c in self._routes if c.pattern.fullmatch(raw_path)]
        if not matching:
            return []
        best = min(matching, key=lambda c: c.rank).route.path
        return sorted({c.route.method for c in matching if c.route.path == best})
