"""Exact-name matching of Dicker Data customers to Halo clients, and near-miss suggestions. Pure.

"Exact" is what Halo's database collation does: equal after trimming surrounding spaces and
ignoring letter case. Anything looser (punctuation, "Pty Ltd" vs "Pty. Ltd.", "&" vs "and") is
only ever a suggestion.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher

MAX_SUGGESTIONS = 5
SIMILARITY = 0.88

_LEGAL_SUFFIXES = re.compile(
    r"\b(pty|proprietary|ltd|limited|llc|inc|incorporated|co|company|corp|corporation|nz|au|the)\b"
)
_NOT_WORD = re.compile(r"[^0-9a-z]+")


def exact_key(name: str) -> str:
    return name.strip().casefold()


def loose_key(name: str) -> str:
    """Ignore accents, case, punctuation, '&' vs 'and' and legal suffixes: for suggestions only."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    text = text.replace("&", " and ").replace("+", " and ")
    text = _NOT_WORD.sub(" ", text)
    text = _LEGAL_SUFFIXES.sub(" ", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class Candidate:
    """A Halo client as matching sees it."""

    id: int
    name: str


@dataclass(frozen=True)
class Customer:
    """A Dicker Data customer as matching sees it."""

    id: str
    name: str


@dataclass
class MatchResult:
    matched: list[tuple[Customer, Candidate]] = field(default_factory=list)
    ambiguous: list[tuple[Customer, list[Candidate], str]] = field(default_factory=list)
    unmatched: list[tuple[Customer, str]] = field(default_factory=list)


class ClientIndex:
    """Halo clients indexed by exact and loose name, built once per run."""

    def __init__(self, clients: Iterable[Candidate]) -> None:
        self.by_exact: dict[str, list[Candidate]] = defaultdict(list)
        self.by_loose: dict[str, list[Candidate]] = defaultdict(list)
        # word -> loose keys holding it: fuzzy comparison only among names sharing a word,
        # so suggestions stay fast with thousands of clients.
        self.by_word: dict[str, set[str]] = defaultdict(set)
        self.clients = list(clients)
        for client in self.clients:
            self.by_exact[exact_key(client.name)].append(client)
            loose = loose_key(client.name)
            self.by_loose[loose].append(client)
            for word in loose.split():
                self.by_word[word].add(loose)

    def exact(self, name: str) -> list[Candidate]:
        return self.by_exact.get(exact_key(name), []) if name.strip() else []

    def suggestions(self, name: str, keep: Callable[[Candidate], bool] | None = None) -> list[Candidate]:
        """Near misses: the same loose key first, then similar names; never exact matches' rivals.
        Only clients ``keep`` accepts are compared (and so never crowd out one it would keep)."""
        if not name.strip():
            return []
        key = loose_key(name)
        found = [c for c in self.by_loose.get(key, []) if key and (keep is None or keep(c))]
        if len(found) < MAX_SUGGESTIONS and key:
            scored: list[tuple[float, Candidate]] = []
            nearby = set().union(*(self.by_word.get(w, set()) for w in key.split()))
            for loose in nearby:
                if loose == key or abs(len(loose) - len(key)) > max(4, len(key) // 4):
                    continue
                kept = [c for c in self.by_loose[loose] if keep is None or keep(c)]
                if not kept:
                    continue
                # Names sharing a common word can be thousands: the two cheap upper bounds of
                # the ratio rule most of them out before the ratio itself is computed.
                matcher = SequenceMatcher(None, key, loose)
                if matcher.real_quick_ratio() < SIMILARITY or matcher.quick_ratio() < SIMILARITY:
                    continue
                ratio = matcher.ratio()
                if ratio >= SIMILARITY:
                    scored.extend((ratio, c) for c in kept)
            found += [c for _, c in sorted(scored, key=lambda rc: (-rc[0], rc[1].id))]
        unique = {c.id: c for c in found}
        return list(unique.values())[:MAX_SUGGESTIONS]


def match_exact(
    customers: Sequence[Customer], index: ClientIndex, taken_client_ids: set[int] | None = None
) -> MatchResult:
    """Map a customer to the one Halo client with its exact name, unless it is ambiguous.

    Ambiguous: two Halo clients share the name, or two customers share it (the client would be
    claimed twice). A client already mapped to another customer is not offered again.
    """
    taken = taken_client_ids or set()
    customers_per_name: dict[str, int] = defaultdict(int)
    for customer in customers:
        if customer.name.strip():
            customers_per_name[exact_key(customer.name)] += 1
    result = MatchResult()
    for customer in customers:
        candidates = index.exact(customer.name)
        if not candidates:
            result.unmatched.append((customer, "No Halo client has exactly this name."))
        elif len(candidates) > 1:
            result.ambiguous.append((customer, candidates, f"{len(candidates)} Halo clients have this name."))
        elif customers_per_name[exact_key(customer.name)] > 1:
            result.ambiguous.append(
                (customer, candidates, "Several Dicker Data customers have this name; map them by hand.")
            )
        elif candidates[0].id in taken:
            result.unmatched.append(
                (customer, f"Halo client {candidates[0].id} is already mapped to another customer.")
            )
        else:
            result.matched.append((customer, candidates[0]))
    return result
