"""The issues-only digest: what a finished import or sync left for a person, in one message.

Pure: a finished run, its skipped and failed items, the settings and what earlier digests named
go in; a :class:`Digest` comes out, empty when the run left nothing for a person (then nothing
is sent). ``ddhalo.notify`` sends it.

What it names, and how often:

| section      | from                                                           | named          |
|--------------|----------------------------------------------------------------|----------------|
| failed       | the run's own error; every failed item                         | every run      |
| credentials  | the run refused by Dicker Data or Halo (``auth_failed``);      | every run;     |
|              | a declared expiry date within ``warn_days``                    | once a day     |
| held         | customers not created, a similar Halo client exists            | once           |
| unmapped     | other customers the customers step left without a Halo client  | once           |
| twice        | a customer or subscription Halo holds more than once            | once per group |
|              | (``duplicate_in_halo``)                                        |                |

"Once": a customer is named again only after a digest of a customers step that no longer held
it (it was mapped, or excluded) and then held it again. A group of twins is named again when its
records change, or after a run that read Halo whole no longer found it and a later one did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from ddhalo.models import Run, RunItem
from ddhalo.pipeline.customers.plan import HELD_BY_NAME
from ddhalo.settings.model import Notifications

# Left out on purpose: never something to do.
QUIET_CODES = frozenset({"excluded"})
CREDENTIAL_CODES = frozenset(
    {"halo_auth_failed", "dicker_data_auth_failed", "halo_permission_denied", "dicker_data_permission_denied"}
)
DUPLICATE_CODE = "duplicate_in_halo"
# Lines per section; the rest is counted ("and 40 more") and the run holds them all.
MAX_LINES = 20
MAX_LINE = 300
SUBJECT_MAX = 100  # SNS refuses longer subjects

_EXPIRIES = (
    ("dicker_data_token_expires", "The Dicker Data access token", "dicker_data_access_token"),
    ("halo_client_secret_expires", "The Halo client secret", "halo_client_secret"),
)


@dataclass(frozen=True)
class Section:
    title: str
    lines: list[str]
    more: int = 0  # lines left out of the message

    @property
    def count(self) -> int:
        return len(self.lines) + self.more


@dataclass(frozen=True)
class Digest:
    run_id: str
    kind: str
    status: str
    sections: list[Section]
    # What this digest names that a later one should not name again.
    seen: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.sections

    @property
    def issues(self) -> int:
        return sum(s.count for s in self.sections)

    @property
    def subject(self) -> str:
        text = f"Dicker Data to Halo: {self.issues} to look at after {_kind(self.kind)} {self.run_id}"
        return text[:SUBJECT_MAX]

    def text(self) -> str:
        """The message as plain text (email, Slack); each section a heading and its lines."""
        out = [f"The {_kind(self.kind)} run {self.run_id} ended {self.status} and left this for you:"]
        for section in self.sections:
            out += ["", f"{section.title} ({section.count}):"]
            out += [f"- {line}" for line in section.lines]
            if section.more:
                out.append(f"- and {section.more} more")
        out += ["", f"Every item of the run: GET /runs/{self.run_id}"]
        return "\n".join(out)


def compose(
    run: Run,
    items: Iterable[RunItem],
    settings: Notifications,
    *,
    seen: Iterable[str] = (),
    today: date,
    customers_step: bool,
    read_whole: bool = False,
) -> Digest | None:
    """The digest of a finished real run (None: a dry run or a skipped sync); it is
    sent only when it has sections (``Digest.empty``: a clean run sends nothing).

    ``items``: the run's skipped and failed items; ``seen``: what earlier digests named;
    ``customers_step``: the run imported customers (so it saw every unmapped one);
    ``read_whole``: it read Halo whole (a verify or an import), so it saw every twin there is.
    """
    if run.dry_run or run.status == "skipped":
        return None
    already = set(seen)
    failed: list[str] = []
    credentials: list[str] = []
    held: list[str] = []
    unmapped: list[str] = []
    twice: list[str] = []
    current: list[str] = []  # held and unmapped customers of this run, named or not
    twins: list[str] = []  # groups of records Halo holds more than once, named or not
    if run.status == "failed" and run.error:
        line = f"The run failed: {run.error}" + (f" {run.hint}" if run.hint else "")
        (credentials if run.error_code in CREDENTIAL_CODES else failed).append(_cut(line))
    for item in items:
        if item.reason_code == DUPLICATE_CODE:
            key = f"twins#{item.type}#{item.dicker_id}#{'.'.join(map(str, item.duplicate_ids))}"
            twins.append(key)
            if key not in already:
                twice.append(_cut(f"{_what(item)}: {item.reason}"))
        elif item.result == "failed":
            target = credentials if item.reason_code in CREDENTIAL_CODES else failed
            target.append(_cut(f"{_what(item)}: {item.reason or item.reason_code}"))
        elif item.type == "customer" and item.result == "skipped" and item.reason_code not in QUIET_CODES:
            key = f"customer#{item.dicker_id or item.name}"
            current.append(key)
            if key in already:
                continue
            line = _cut(f"{_what(item)}: {item.reason or item.reason_code}{_suggested(item)}")
            # A name another Dicker Data customer shares: create_when_similar does not create it.
            similar = item.reason_code in HELD_BY_NAME and not item.shares_name_with
            (held if similar else unmapped).append(line)
    warnings, warned = _expiry_warnings(settings, today, already)
    credentials += warnings
    sections = [
        s
        for s in (
            _section("Failed", failed),
            _section("Credentials that stopped working or soon will", credentials),
            _section(
                "Held, not created: Halo has a client of a similar name (map it with POST /mappings, "
                'or import with "create_when_similar": true)',
                held,
            ),
            _section("New customers without a Halo client", unmapped),
            _section(
                "In Halo more than once (nothing was changed or deleted: keep the one named, delete "
                "or merge the others in Halo)",
                twice,
            ),
        )
        if s is not None
    ]
    # A customers step saw every unmapped customer, a whole read every twin: what they no longer
    # find may be named again.
    kept = [
        k
        for k in seen
        if not (customers_step and k.startswith("customer#")) and not (read_whole and k.startswith("twins#"))
    ]
    remembered = list(dict.fromkeys([*kept, *(current if customers_step else []), *twins, *warned]))
    return Digest(run.run_id, run.kind, run.status, sections, seen=remembered)


def _expiry_warnings(settings: Notifications, today: date, already: set[str]) -> tuple[list[str], list[str]]:
    lines: list[str] = []
    keys: list[str] = []
    for attr, what, setting in _EXPIRIES:
        expires: date | None = getattr(settings, attr)
        if expires is None or (expires - today).days > settings.warn_days:
            continue
        key = f"expiry#{setting}#{today.isoformat()}"
        keys.append(key)
        if key in already:
            continue
        days = (expires - today).days
        when = (
            f"stopped working on {expires.isoformat()}"
            if days < 0
            else "stops working today"
            if days == 0
            else f"stops working on {expires.isoformat()} (in {days} day{'s' if days != 1 else ''})"
        )
        lines.append(
            f'{what} {when}: set the new one with PUT /settings {{"{setting}": ...}}, then its '
            f"date in notifications.{attr}."
        )
    return lines, keys


def _section(title: str, lines: list[str]) -> Section | None:
    if not lines:
        return None
    return Section(title, lines[:MAX_LINES], max(0, len(lines) - MAX_LINES))


def _what(item: RunItem) -> str:
    name = f"{item.name} " if item.name else ""
    if item.type == "customer":
        return f"customer {name}({item.dicker_id or 'no id'})"
    return f"subscription {name}({item.dicker_id}) of customer {item.customer_id or '?'}"


def _suggested(item: RunItem) -> str:
    if not item.suggestions:
        return ""
    names = ", ".join(f"{s.halo_client_name} (#{s.halo_client_id})" for s in item.suggestions[:3])
    return f"; suggested: {names}"


def _kind(kind: str) -> str:
    return {"customers": "customer import", "subscriptions": "subscription import"}.get(kind, kind)


def _cut(text: str) -> str:
    return text if len(text) <= MAX_LINE else text[: MAX_LINE - 1].rstrip() + "…"
